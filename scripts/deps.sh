#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install from Debian's archive whatever the VM tests, lint, the sanitizer
# kernels and the packages need (the compiler included: a fresh Debian 12
# has only make and git).  Building the module, library and tools needs
# none of it beyond a compiler and kernel headers.
#
#   scripts/deps.sh           install what is missing (quiet if nothing is)
#   scripts/deps.sh --check   only report; exit 1 if something is missing
#   scripts/deps.sh --list    print the package list
#
# Idempotent.  The "is anything missing" test uses dpkg-query alone, so it
# works on a fresh Debian 12 that has nothing but make and git; apt-get
# update runs only when something has to be installed.
set -euo pipefail

PACKAGES=(
	# kernel to build against and to boot in the VM
	linux-headers-amd64 linux-image-amd64 linux-source-6.1
	# the other kernels of make check-kernels (headers to build against,
	# images to boot): Debian 12's 6.12 and its PREEMPT_RT flavour
	linux-headers-6.12-amd64 linux-image-6.12-amd64
	linux-headers-6.12-rt-amd64 linux-image-6.12-rt-amd64
	# toolchain
	gcc make libc6-dev gcc-multilib bc flex bison libelf-dev libssl-dev
	dwarves python3 perl
	# lint
	sparse shellcheck
	# man page lint (make lint)
	mandoc groff-base
	# make check-dkms
	dkms
	# make deb, make check-deb
	debhelper dh-dkms dpkg-dev lintian debootstrap pkg-config
	# VM harness
	qemu-system-x86 busybox-static kmod cpio xz-utils rsync
	# benchmark plots
	gnuplot-nox
)

# Print the packages of PACKAGES that are not installed.  One dpkg-query
# call; packages dpkg has never heard of are simply absent from its output.
missing_packages() {
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
		"${PACKAGES[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }') || true
	local p
	for p in "${PACKAGES[@]}"; do
		grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
	done
}

# The packages are Debian 12's: elsewhere, say what the lanes need.
# Building (make, make install) needs none of this script.
if [ "${1:-}" != --list ] && ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg-query: this is not Debian.  Building needs only a C" >&2
	echo "deps: compiler, make and your kernel's headers (make KDIR=...);" >&2
	echo "deps: the QEMU test lanes boot Debian 12's kernels and need Debian 12." >&2
	exit 1
fi

case "${1:-}" in
--list)
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
	;;
--check)
	mapfile -t missing < <(missing_packages)
	if [ ${#missing[@]} -gt 0 ]; then
		echo "deps: missing: ${missing[*]}" >&2
		exit 1
	fi
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--check|--list]" >&2
	exit 2
	;;
esac

mapfile -t missing < <(missing_packages)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: missing: ${missing[*]}" >&2
		echo "deps: installing them needs root, and sudo is not installed:" >&2
		echo "deps: run 'make deps' as root once (su -c 'make deps')." >&2
		exit 1
	fi
	SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}" >&2
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "${missing[@]}"

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: still missing after install: ${missing[*]}" >&2
	exit 1
fi
