#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kport through DKMS (dkms.conf at the top of the tree).
#
#   scripts/dkms.sh install            copy the module's sources to
#                                      /usr/src/kport-VERSION, dkms add,
#                                      build and install for the running
#                                      kernel's headers (and every kernel
#                                      DKMS autoinstalls for later)
#   scripts/dkms.sh check RELEASE...   dkms build (never install, never
#                                      load) for each kernel release, then
#                                      remove every trace; exit 1 if one
#                                      fails.  make check-dkms runs it
#                                      for the kernels of check-kernels.
#   scripts/dkms.sh remove             dkms remove --all, and the sources
#
# Root (it writes /usr/src and DKMS's tree): through sudo when not root.  VERSION is the
# Makefile's; dkms.conf must say the same.
set -euo pipefail

self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/root.sh
. scripts/root.sh
as_root dkms "$self" -- "$@"
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
conf=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
if [ "$version" != "$conf" ]; then
	echo "dkms: the Makefile says $version, dkms.conf $conf: make them equal" >&2
	exit 1
fi
src=/usr/src/kport-$version
command -v dkms >/dev/null || { echo "dkms: not installed (make deps)" >&2; exit 1; }

stage() {
	bash scripts/module-src.sh "$src"
	cp dkms.conf "$src/"
}

# built RELEASE: whether DKMS's tree holds a kport.ko (maybe compressed or
# signed) built for RELEASE.
built() {
	compgen -G "/var/lib/dkms/kport/$version/$1/*/module/kport.ko*" >/dev/null
}

remove() {
	dkms remove -m kport -v "$version" --all >/dev/null 2>&1 || true
	rm -rf "$src"
}

case "${1:-}" in
install)
	remove
	stage
	dkms add -m kport -v "$version"
	dkms build -m kport -v "$version"
	dkms install -m kport -v "$version"
	;;
check)
	shift
	[ $# -gt 0 ] || { echo "usage: $0 check RELEASE..." >&2; exit 2; }
	remove
	stage
	trap remove EXIT
	dkms add -m kport -v "$version" >/dev/null
	bad=0
	for k in "$@"; do
		if dkms build -m kport -v "$version" -k "$k" >/tmp/kport-dkms.$$.log 2>&1 &&
			built "$k"; then
			echo "dkms: kport $version built for $k"
		else
			echo "dkms: kport $version did not build for $k:" >&2
			tail -n 30 /tmp/kport-dkms.$$.log >&2
			bad=1
		fi
		rm -f /tmp/kport-dkms.$$.log
	done
	[ "$bad" = 0 ]
	;;
remove)
	remove
	;;
*)
	echo "usage: $0 install | check RELEASE... | remove" >&2
	exit 2
	;;
esac
