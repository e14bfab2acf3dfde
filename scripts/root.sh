# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the scripts that need root (dkms.sh, deb.sh check):
#
#   as_root NAME [VAR...] -- ARG...
#
# returns at once as root; otherwise runs the calling script again through
# sudo with ARG... (its own arguments) and the named environment variables
# that are set (sudo's env_reset would drop them), and does not return.
# NAME says who needs root in the message printed when sudo is missing.
# The caller has cd'd to the top of the tree (as every script here does
# first), so the script is run again as scripts/ its own name, whatever
# relative path started it.
as_root() {
	local name=$1 keep=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		[ -n "${!1:-}" ] && keep+=("$1=${!1}")
		shift
	done
	[ $# -gt 0 ] && shift
	[ "$(id -u)" = 0 ] && return 0
	command -v sudo >/dev/null || { echo "$name: needs root (or sudo)" >&2; exit 1; }
	exec sudo env "${keep[@]}" bash "scripts/${0##*/}" "$@"
}
