#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of the unpacked Debian kernel source (linux-source-6.1),
# extracting it first if needed.  It lives outside the repository, under
# ~/.cache/kport/src/, keyed by the package's version, so a new upload of
# the package gets a fresh tree.  It supplies checkpatch.pl and the
# kselftest harness (tools/testing/selftests/kselftest_harness.h).
#
# Environment: KSRC_PACKAGE (default linux-source-6.1),
#              KPORT_CACHE (default ~/.cache/kport).
set -euo pipefail

pkg=${KSRC_PACKAGE:-linux-source-6.1}
cache=${KPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kport}
ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) || ver=
tarball=/usr/src/$pkg.tar.xz
if [ -z "$ver" ] || [ ! -r "$tarball" ]; then
	echo "ksrc: $pkg is not installed (run make deps)" >&2
	exit 1
fi

dir=$cache/src/${pkg}_$ver
tree=$dir/$pkg
if [ ! -e "$dir/.complete" ]; then
	mkdir -p "$cache/src"
	exec 9>"$cache/src/.lock"
	flock 9
	if [ ! -e "$dir/.complete" ]; then
		echo "ksrc: extracting $tarball into $dir (once)" >&2
		rm -rf "$dir"
		mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir"
		if [ ! -d "$tree" ]; then
			echo "ksrc: $tarball did not unpack to $pkg/" >&2
			exit 1
		fi
		touch "$dir/.complete"
	fi
	exec 9>&-
fi
echo "$tree"
