#!/usr/bin/env bash
# Rootless proof, run as root after the build: the bundled suites run as an
# unprivileged user with subordinate id ranges (all must pass) and as one
# without (each case passes, or fails with the message that says how to
# add ranges), then the host-writes test runs as the first user. Nothing
# is built as those users: the prebuilt binaries, the project's files and
# ../shared are copied into a directory they can read (the clone itself
# may sit where they cannot, e.g. under /root).
#
# Usage: ci/rootless.sh WRTEST_BIN HOST_WRITES_TEST_BIN [QEMU_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?the wrtest binary}")
host_writes=$(realpath "${2:?the host_writes test binary}")
qemu_dir=${3:-}
test "$(id -u)" = 0 || { echo "ci/rootless.sh creates users: run it as root" >&2; exit 1; }
command -v newuidmap >/dev/null || { echo "newuidmap is missing (Debian: apt-get install uidmap)" >&2; exit 1; }

with_ranges=wrtest-ci-ranges
without=wrtest-ci-single
work=$(mktemp -d /tmp/wrtest-rootless-ci.XXXXXX)
cleanup() {
  for u in "$with_ranges" "$without"; do
    if id "$u" >/dev/null 2>&1; then
      rm -rf "/tmp/wrtest-$(id -u "$u")"
      userdel -r -f "$u" 2>/dev/null || true
    fi
  done
  sed -i "/^$with_ranges:/d;/^$without:/d" /etc/subuid /etc/subgid 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Two fresh users: one with a range of 65536 subordinate ids, one with
# none (useradd may hand out ranges of its own: they are removed first).
for u in "$with_ranges" "$without"; do
  id "$u" >/dev/null 2>&1 && userdel -r "$u" 2>/dev/null
  useradd -m -s /bin/sh "$u"
done
touch /etc/subuid /etc/subgid
sed -i "/^$with_ranges:/d;/^$without:/d" /etc/subuid /etc/subgid
usermod --add-subuids 400000-465535 --add-subgids 400000-465535 "$with_ranges"

# What the users read: the binaries, the project files, ../shared, qemu.
mkdir -p "$work/bin" "$work/src" "$work/qemu"
cp "$bin" "$work/bin/wrtest"
cp "$host_writes" "$work/bin/host_writes"
cp -a wrtest.toml fixtures package-tests "$work/src/"
cp -a ../shared "$work/shared"
if [ -n "$qemu_dir" ]; then cp "$qemu_dir"/qemu-aarch64* "$work/qemu/"; fi
chmod -R a+rX "$work"

as_user() {
  local u=$1; shift
  local home; home=$(getent passwd "$u" | cut -d: -f6)
  runuser -u "$u" -- env -i HOME="$home" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    CI=true WRTEST_QEMU_DIR="$work/qemu" "$@"
}

echo "== the suites as $with_ranges (subordinate ids 400000-465535)"
as_user "$with_ranges" sh -c "cd '$work/src' && '$work/bin/wrtest' run --no-progress"

echo "== host writes, rootless, as $with_ranges"
as_user "$with_ranges" env WRTEST_TEST_ROOT="$work/src" WRTEST_TEST_BIN="$work/bin/wrtest" \
  "$work/bin/host_writes" --test-threads 1

echo "== the suites as $without (no subordinate ids)"
out="$work/out-single"
mkdir "$out" && chown "$without" "$out"
set +e
as_user "$without" sh -c "cd '$work/src' && '$work/bin/wrtest' run --no-progress --junit '$out/junit.xml'"
status=$?
set -e
case $status in
  0) echo "every case passed with a single-id mapping" ;;
  1) # Each failure must be one that needs more ids, and say how to add them.
     python3 - "$out/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
failed = [(c.get("name"), f.text or f.get("message") or "")
          for c in ET.parse(sys.argv[1]).iter("testcase")
          for f in c.findall("failure")]
bad = [n for n, text in failed if "usermod --add-subuids" not in text]
sure = [n for n, text in failed if "needs more ids than the run has" in text]
print(f"{len(failed)} cases failed with the subordinate-ids hint, "
      f"{len(sure)} of them with the symptoms seen: " + ", ".join(n for n, _ in failed))
if bad:
    sys.exit("failed without the subordinate-ids hint: " + ", ".join(bad))
PY
     ;;
  *) echo "the run as $without could not run" >&2; exit 1 ;;
esac

echo "== leftovers of the rootless runs"
for u in "$with_ranges" "$without"; do
  uid=$(id -u "$u")
  bash ci/check-leftovers.sh "/tmp/wrtest-$uid"
done
echo "rootless: passed"
