# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the scripts that need root (dkms.sh, deb.sh check):
#
#   as_root NAME SCRIPT [VAR...] -- ARG...
#
# returns at once as root; otherwise runs SCRIPT (the caller, by the path
# readlink -f gave before it changed directory) again through sudo with
# ARG... (its own arguments) and the named environment variables
# that are set (sudo's env_reset would drop them), and does not return.
# NAME says who needs root in the message printed when sudo is missing.
as_root() {
	local name=$1 script=$2 keep=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		[ -n "${!1:-}" ] && keep+=("$1=${!1}")
		shift
	done
	[ $# -gt 0 ] && shift
	[ "$(id -u)" = 0 ] && return 0
	command -v sudo >/dev/null || { echo "$name: needs root (or sudo)" >&2; exit 1; }
	# (${keep[@]+...}: an empty array is "unbound" to set -u before bash 4.4)
	exec sudo env ${keep[@]+"${keep[@]}"} bash "$script" "$@"
}
