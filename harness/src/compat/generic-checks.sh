#!/bin/sh
# wrtest's generic package checks, run when a package has no test.sh, as
# OpenWrt's package CI does: probe the package's executables for its
# version, and look for broken symlinks and unresolved libraries.
# Usage: sh generic-checks.sh PKG_NAME PKG_VERSION
name="$1"
version="$2"
status=0
found=""
candidates=0
if [ "$PKG_MANAGER" = apk ]; then
	files=$(apk info --contents "$name" | tail -n +2 | sed -n 's|^\(.\)|/\1|p')
else
	files=$(opkg files "$name" | tail -n +2)
fi

probe() {
	if command -v timeout >/dev/null 2>&1; then
		timeout 10 "$@" </dev/null 2>&1
	else
		"$@" </dev/null 2>&1
	fi
}

for f in $files; do
	case "$f" in /bin/*|/sbin/*|/usr/bin/*|/usr/sbin/*|/usr/libexec/*) ;; *) continue ;; esac
	[ -f "$f" ] || continue
	candidates=$((candidates + 1))
	if [ ! -x "$f" ]; then
		echo "not executable: $f"
		status=1
		continue
	fi
	[ -n "$found" ] && continue
	for flag in --version -version version -v -V --help -help -?; do
		case "$(probe "$f" "$flag")" in
		*"$version"*) echo "version $version shown by: $f $flag"; found="$f"; break ;;
		esac
	done
	[ -n "$found" ] || echo "probed $f: no $version in its output"
done

for f in $files; do
	if [ -L "$f" ] && [ ! -e "$f" ]; then
		echo "broken symlink: $f -> $(readlink "$f")"
		status=1
	fi
done

if command -v ldd >/dev/null 2>&1; then
	for f in $files; do
		[ -f "$f" ] || continue
		missing=$(ldd "$f" 2>/dev/null | grep "not found")
		if [ -n "$missing" ]; then
			echo "unresolved libraries in $f: $missing"
			status=1
		fi
	done
fi

if [ "$candidates" = 0 ]; then
	echo "$name installs no executable in /bin /sbin /usr/bin /usr/sbin /usr/libexec: no version to probe" >&2
	[ "$status" = 0 ] && exit 77
elif [ -z "$found" ]; then
	echo "no executable of $name shows its version $version"
	status=1
fi
exit $status
