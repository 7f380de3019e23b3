#!/usr/bin/env bash
# Unpack Debian's qemu-user-static into wrtest's cache, where wrtest looks
# for emulators (<cache>/tools/qemu-user-static/usr/bin): no dpkg install,
# so nothing registers binfmt_misc handlers on this host (the package's
# scripts and binfmt-support/systemd-binfmt never run). wrtest registers
# the emulator in each emulated container's own binfmt_misc instance.
#
# Usage: ci/install-qemu.sh [CACHE_DIR]   (default: $WRTEST_CACHE, else /var/cache/wrtest)
set -euo pipefail
cache=${1:-${WRTEST_CACHE:-/var/cache/wrtest}}
dest="$cache/tools/qemu-user-static"
if [ -x "$dest/usr/bin/qemu-aarch64-static" ]; then
  echo "qemu-user-static already in $dest"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download writes into the current directory, as the _apt user
# when it can; a fresh mktemp directory it cannot enter only costs a warning.
(cd "$work" && apt-get download qemu-user-static)
mkdir -p "$cache/tools"
partial=$(mktemp -d "$cache/tools/.qemu-user-static-XXXXXX")
dpkg-deb -x "$work"/qemu-user-static_*.deb "$partial"
rm -rf "$dest"
mv -T "$partial" "$dest"
"$dest/usr/bin/qemu-aarch64-static" --version | head -1
echo "qemu-user-static unpacked into $dest"
