#!/usr/bin/env bash
# One cell of the CI matrix: test built ipks on one OpenWrt release, one
# partition of the cases, as the GitHub workflow in ci/github/ runs it.
# Runs the same way on a developer machine (as root, with the images that
# wrtest.toml names).
#
# usage: ci/matrix-job.sh PACKAGES_DIR IMAGE_ID PARTITION OUT_DIR [SOURCES_DIR]
#   PARTITION is count:K/N or hash:K/N; OUT_DIR receives junit.xml,
#   events.jsonl and artifacts/ for upload.
set -euo pipefail
packages=$1 image=$2 partition=$3 out=$4 sources=${5:-}
mkdir -p "$out"
args=(ci "$packages" --image "$image" --partition "$partition"
      --junit "$out/junit.xml" --events "$out/events.jsonl" --artifacts "$out/artifacts" --no-progress)
[ -n "$sources" ] && args+=(--sources "$sources")
if [ -z "${WRTEST:-}" ]; then
  cargo build --release -q -p wrtest
  WRTEST=target/release/wrtest
fi
wrtest=$WRTEST
"$wrtest" "${args[@]}"
