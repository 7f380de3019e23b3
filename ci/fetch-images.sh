#!/usr/bin/env bash
# For hosted CI only: download the root filesystem tarballs that
# wrtest.toml names into ../shared/images, where wrtest.toml looks for
# them; their sha256 is checked by wrtest against the pinned digest. (This
# project's own CI has ../shared beside its clone and never downloads.)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p ../shared/images
for id in "$@"; do
  file=$(python3 -c 'import sys,tomllib; c=tomllib.load(open("wrtest.toml","rb")); print(next(i["file"] for i in c["image"] if i["id"]==sys.argv[1]))' "$id")
  [ -f "../shared/images/$file" ] && continue
  url=${WRTEST_IMAGE_BASE_URL:?set WRTEST_IMAGE_BASE_URL to where the rootfs tarballs are published}/$file
  curl -fsSL -o "../shared/images/$file" "$url"
done
