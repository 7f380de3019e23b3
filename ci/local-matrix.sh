#!/usr/bin/env bash
# Run the whole CI matrix on this machine — releases × partitions, one
# ci/matrix-job.sh each — then check the JUnit files together: every case
# ran exactly once. Everything the hosted workflow does but the runner.
#
# usage: ci/local-matrix.sh PACKAGES_DIR OUT_DIR IMAGE_ID... [-- SOURCES_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
packages=$1 out=$2; shift 2
images=() sources=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then sources=${2:-}; break; fi
  images+=("$1"); shift
done
status=0
mkdir -p "$out"
for image in "${images[@]}"; do
  for k in 1 2; do
    job="$out/$image-$k"
    bash ci/matrix-job.sh "$packages" "$image" "hash:$k/2" "$job" $sources > "$job.log" 2>&1 || status=1
    echo "job $image hash:$k/2: $(tail -1 "$job.log")"
  done
done
python3 - "$out" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
names = []
for f in sorted(glob.glob(sys.argv[1] + "/*/junit.xml")):
    names += [c.get("classname") + "::" + c.get("name") for c in ET.parse(f).iter("testcase")]
dupes = {n for n in names if names.count(n) > 1}
print(f"matrix: {len(names)} case runs, {len(set(names))} distinct, duplicates: {sorted(dupes) or 'none'}")
sys.exit(1 if dupes or not names else 0)
PY
[ $? = 0 ] || status=1
exit $status
