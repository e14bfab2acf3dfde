#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel release (KVER) the project builds against and boots.
#
#   scripts/kver.sh         the release Debian's linux-headers-amd64
#                           metapackage points at (not `uname -r`: the host
#                           may run any kernel; the VM boots this one);
#                           without it, the running kernel's if its headers
#                           are installed, else the newest headers
#   scripts/kver.sh KDIR    the release of the kernel tree (or headers) KDIR
#   scripts/kver.sh --meta PACKAGE
#                           the release a headers metapackage points at
#                           (linux-headers-6.12-amd64, ...); exit 1 if it is
#                           not installed
set -euo pipefail

# meta_release PACKAGE: the release of the linux-headers-RELEASE it depends on.
meta_release() {
	local dep
	dep=$(dpkg-query -W -f='${Depends}' "$1" 2>/dev/null) || dep=
	# (no dpkg-query, not Debian: no metapackage either)
	sed -n 's/^.*linux-headers-\([^ ,(]*\).*$/\1/p' <<<"$dep"
}

if [ "${1:-}" = --meta ]; then
	kver=$(meta_release "${2:?usage: $0 --meta PACKAGE}")
	if [ -z "$kver" ]; then
		echo "kver: $2 is not installed (run make deps)" >&2
		exit 1
	fi
	echo "$kver"
	exit 0
fi

if [ $# -ge 1 ] && [ -n "$1" ]; then
	kdir=$1
	if [ -r "$kdir/include/generated/utsrelease.h" ]; then
		# Debian's kernel.release says "6.1.192" while the modules'
		# vermagic and /boot name use UTS_RELEASE ("6.1.0-56-amd64").
		sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
			"$kdir/include/generated/utsrelease.h"
	elif [ -r "$kdir/include/config/kernel.release" ]; then
		cat "$kdir/include/config/kernel.release"
	else
		echo "kver: cannot tell the release of KDIR=$kdir" >&2
		exit 1
	fi
	exit 0
fi

kver=$(meta_release linux-headers-amd64)
if [ -z "$kver" ] && [ -e "/lib/modules/$(uname -r)/build" ]; then
	# Not Debian, or no metapackage: the running kernel, if its headers
	# are there (what `make install` on a real machine wants).
	kver=$(uname -r)
fi
if [ -z "$kver" ]; then
	# Nor those: take the newest installed headers.
	kver=$(find /lib/modules -mindepth 2 -maxdepth 2 -name build \
		-printf '%h\n' 2>/dev/null | sed 's,.*/,,' | sort -V | tail -n1)
fi
if [ -z "$kver" ]; then
	echo "kver: linux-headers-amd64 is not installed (run make deps)" >&2
	exit 1
fi
echo "$kver"
