#!/usr/bin/env bash
# The suites' cargo test target under cargo-nextest, split in two with
# --partition: both halves must pass and together run every case once.
set -euo pipefail
cd "$(dirname "$0")/.."

total=$(cargo nextest list -p package-tests --message-format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(len(s["testcases"]) for s in d["rust-suites"].values()))')
ran=0
for k in 1 2; do
  out=$(cargo nextest run -p package-tests --partition "count:$k/2" 2>&1) || { echo "$out"; exit 1; }
  n=$(echo "$out" | sed -n 's/.* \([0-9][0-9]*\) tests run:.*/\1/p' | tail -1)
  echo "partition count:$k/2 ran $n tests"
  ran=$((ran + n))
done
echo "nextest: $ran of $total cases run across 2 partitions"
test "$ran" -eq "$total"
