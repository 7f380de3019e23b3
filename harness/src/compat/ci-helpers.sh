# A small stand-in for OpenWrt CI's ci_helpers.sh, sourced by test.sh
# scripts through $CI_HELPERS: the message helpers they use.
info() { printf 'info: %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
err() { printf 'error: %s\n' "$*" >&2; }
err_die() { err "$*"; exit 1; }
success() { printf 'success: %s\n' "$*"; }
