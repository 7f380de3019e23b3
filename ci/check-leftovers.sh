#!/usr/bin/env bash
# Fail if a wrtest run left mounts, run directories, cgroups or processes
# behind. Run it after the test suite, when no wrtest run is active.
# Arguments: more run-directory bases to check (rootless runs' own).
set -u
status=0
report() { echo "leftover: $*" >&2; status=1; }

m=$(findmnt -rn -o TARGET | grep -E '/wrtest/' || true)
[ -z "$m" ] || report "mounts: $m"
for base in /run/wrtest "$@"; do
  r=$(ls -d "$base"/run-* 2>/dev/null || true)
  [ -z "$r" ] || report "run directories: $r"
done
for cg in /sys/fs/cgroup/unified/wrtest /sys/fs/cgroup/wrtest; do
  [ -d "$cg" ] && report "cgroup directory $cg"
done
p=$(ps -eo pid,args | grep -E 'wrtest-(helper|init|hub|userns)|__wrtest-(container|hub|userns)|/sbin/procd|/sbin/ubusd' | grep -v grep || true)
[ -z "$p" ] || report "processes: $p"
v=$(ip -o link show type veth 2>/dev/null || true)
[ -z "$v" ] || report "veth links: $v"
n=$(ip netns list 2>/dev/null || true)
[ -z "$n" ] || report "network namespaces: $n"

[ $status = 0 ] && echo "no leftovers"
exit $status
