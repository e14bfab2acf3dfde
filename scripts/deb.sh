#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (debian/): kport-dkms, libkport1, libkport-dev and
# kport-tools.
#
#   scripts/deb.sh build    dpkg-buildpackage -b in a copy of the tree under
#                           build/deb/src/, the .deb files into build/deb/,
#                           then lintian on them: any error fails; the
#                           warnings left are listed in debian/README.lintian
#   scripts/deb.sh check    install those packages into a fresh Debian 12
#                           chroot (debootstrap --variant=minbase, cached
#                           under ~/.cache/kport/chroot/) with
#                           linux-headers-amd64, then check there that DKMS
#                           built the module for those headers (and for
#                           the 6.12 headers installed afterwards), that
#                           pkg-config finds libkport, that a program links
#                           with libkport.so.1 and runs, that the tools run,
#                           and that the tree builds with only a compiler,
#                           make and the headers (no dpkg-query either).
#                           Nothing is loaded: the chroot has no /dev/kport.
#
# Root for check (debootstrap, chroot); through sudo when not root.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
top=$PWD
out=$top/build/deb
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
changelog=$(sed -n '1s/^kport (\([^)]*\)).*/\1/p' debian/changelog)
if [ "$version" != "$changelog" ]; then
	echo "deb: the Makefile says $version, debian/changelog $changelog" >&2
	exit 1
fi

# The files of the tree: git's list in a checkout, else everything but build/.
tree_files() {
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files --cached --others --exclude-standard
	else
		find . -path ./build -prune -o -type f -print | sed 's,^\./,,'
	fi
}

copy_tree() {
	local dst=$1
	rm -rf "$dst"
	mkdir -p "$dst"
	tree_files | while read -r f; do
		[ -e "$f" ] && printf '%s\0' "$f"
	done | tar -cf - --null -T - | tar -xf - -C "$dst"
}

build() {
	local src=$out/src/kport-$version arch
	rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
	copy_tree "$src"
	(cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
		tail -n 40 "$out/build.log"
		echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
		exit 1
	}
	arch=$(dpkg --print-architecture)
	mv "$out/src/"*.deb "$out/src/"*.changes "$out/src/"*.buildinfo "$out/"
	echo "deb: built:"
	find "$out" -maxdepth 1 -name '*.deb' -printf '  %f\n' | sort
	# Errors fail; warnings are shown, and each must be in debian/README.lintian.
	lintian --fail-on error --no-tag-display-limit \
		"$out/kport_${version}_$arch.changes" | tee "$out/lintian.log"
	local tag rc=0
	while read -r tag; do
		if ! grep -q "^- $tag:" debian/README.lintian; then
			echo "deb: lintian warning $tag is not explained in debian/README.lintian" >&2
			rc=1
		fi
	done < <(sed -n 's/^W: [^:]*: \([a-z0-9-]*\).*/\1/p' "$out/lintian.log" | sort -u)
	[ "$rc" -eq 0 ] && echo "deb: lintian: no errors, every warning explained"
	return "$rc"
}

# ---- check: a fresh Debian 12 chroot -----------------------------------------
cache=${KPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kport}
mirror=${DEB_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
root=$out/chroot

# The minbase chroot, made once per debootstrap version and mirror, kept
# as a tarball; each check unpacks a fresh copy.
base_tarball() {
	local key tarball tmp
	key=$(printf '%s %s' "$(dpkg-query -W -f='${Version}' debootstrap)" "$mirror" |
		sha256sum | cut -c1-16)
	tarball=$cache/chroot/bookworm-minbase-$key.tar
	if [ ! -r "$tarball" ]; then
		mkdir -p "$cache/chroot"
		tmp=$(mktemp -d "$cache/chroot/.debootstrap.XXXXXX")
		echo "deb: debootstrap --variant=minbase bookworm (once, cached)" >&2
		if ! debootstrap --variant=minbase bookworm "$tmp" "$mirror" \
			>"$out/debootstrap.log" 2>&1; then
			tail -n 20 "$out/debootstrap.log" >&2
			rm -rf "$tmp"
			return 1
		fi
		tar -C "$tmp" -cf "$tarball.tmp" .
		mv "$tarball.tmp" "$tarball"
		rm -rf "$tmp"
	fi
	echo "$tarball"
}

umount_chroot() {
	local m
	for m in "$root/proc" "$root/dev/pts"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	return 0
}

in_chroot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

check() {
	local arch tarball fails=0
	arch=$(dpkg --print-architecture)
	compgen -G "$out/kport-dkms_${version}_all.deb" >/dev/null ||
		{ echo "deb: no packages in $out (make deb)" >&2; exit 1; }
	tarball=$(base_tarball)
	umount_chroot
	rm -rf "$root"
	mkdir -p "$root"
	tar -C "$root" -xf "$tarball"
	trap umount_chroot EXIT
	mount -t proc proc "$root/proc"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# As an installed Debian 12 has them: the point releases' updates and
	# security (debootstrap sets up only the release itself).
	cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
SOURCES
	mkdir -p "$root/tmp/debs"
	cp "$out"/*.deb "$root/tmp/debs/"

	echo "deb: chroot: the kernel headers, a compiler, pkg-config"
	in_chroot apt-get update -q >"$out/chroot-apt.log" 2>&1
	in_chroot apt-get install -y -q --no-install-recommends \
		linux-headers-amd64 gcc libc6-dev make pkg-config \
		>>"$out/chroot-apt.log" 2>&1 || { tail -n 20 "$out/chroot-apt.log"; exit 1; }
	echo "deb: chroot: the four packages (DKMS builds the module)"
	in_chroot sh -c "apt-get install -y -q --no-install-recommends /tmp/debs/*.deb" \
		>"$out/chroot-install.log" 2>&1 || { tail -n 40 "$out/chroot-install.log"; exit 1; }

	# ok NAME COMMAND...: one check, reported.
	ok() {
		local name=$1
		shift
		if "$@" >"$out/chroot-check.log" 2>&1; then
			echo "deb: chroot: ok: $name"
		else
			echo "deb: chroot: FAILED: $name"
			sed 's/^/    /' "$out/chroot-check.log"
			fails=$((fails + 1))
		fi
	}
	local kver
	kver=$(in_chroot sh -c 'ls /lib/modules | sort -V | tail -n1')
	ok "dkms status: kport $version installed for $kver" \
		in_chroot sh -c "dkms status kport | tee /dev/stderr | grep -q '^kport/$version, $kver, [^:]*: installed'"
	ok "kport.ko under /lib/modules/$kver/updates/dkms" \
		in_chroot sh -c "ls /lib/modules/$kver/updates/dkms/kport.ko*"
	ok "modinfo kport for $kver" \
		in_chroot sh -c "/sbin/modinfo -k $kver kport | grep -q '^vermagic: *$kver '"
	ok "udev rule and opt-in modules-load.d snippet installed" \
		in_chroot sh -c "test -f /lib/udev/rules.d/60-kport.rules && test -f /usr/share/kport/modules-load.d/kport.conf && ! test -e /etc/modules-load.d/kport.conf"
	# (single quotes: expanded in the chroot)
	# shellcheck disable=SC2016
	ok "pkg-config --libs libkport is -lkport" \
		in_chroot sh -c 'test "$(pkg-config --libs libkport | xargs)" = -lkport'
	cat >"$root/tmp/prog.c" <<'PROG'
#include <errno.h>
#include <stdio.h>
#include <kport.h>

int main(void)
{
	struct kport_version v;

	/* No /dev/kport in a chroot: the call must fail, with ENOENT. */
	if (kport_query_version(&v) == 0 || errno != ENOENT)
		return 1;
	if (kport_now_ns() == 0 || kport_deadline_after(1000) == 0)
		return 1;
	puts("libkport: linked and called");
	return 0;
}
PROG
	# shellcheck disable=SC2016
	ok "a program built with pkg-config's flags" \
		in_chroot sh -c 'cc -Wall -Werror -o /tmp/prog /tmp/prog.c $(pkg-config --cflags --libs libkport)'
	ok "it is linked with libkport.so.1 from the multiarch libdir" \
		in_chroot sh -c "ldd /tmp/prog | tee /dev/stderr | grep -Eq 'libkport.so.1 => (/usr)?/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libkport.so.1 '"
	ok "it runs" in_chroot /tmp/prog
	ok "kportctl and kport-bench use libkport.so.1" \
		in_chroot sh -c "ldd /usr/bin/kportctl | grep -q libkport.so.1 && ldd /usr/bin/kport-bench | grep -q libkport.so.1"
	ok "kportctl says /dev/kport is missing" \
		in_chroot sh -c "! kportctl version 2>/tmp/err; cat /tmp/err; grep -q /dev/kport /tmp/err"
	ok "kport-bench --help runs" in_chroot sh -c "kport-bench --help >/dev/null"

	# A kernel installed later: DKMS's headers hook builds kport for it.
	local later
	if in_chroot apt-get install -y -q --no-install-recommends linux-headers-6.12-amd64 \
		>"$out/chroot-later.log" 2>&1; then
		later=$(in_chroot sh -c 'ls /lib/modules | grep "^6\.12" | sort -V | tail -n1')
		ok "a kernel's headers installed later ($later): kport built for it too" \
			in_chroot sh -c "dkms status kport | tee /dev/stderr | grep -q '^kport/$version, $later, [^:]*: installed'"
	else
		echo "deb: chroot: FAILED: installing linux-headers-6.12-amd64"
		tail -n 20 "$out/chroot-later.log"
		fails=$((fails + 1))
	fi

	# The tree builds and installs with a compiler, make and the headers
	# alone: no Debian tooling (a dpkg-query that is not there).
	copy_tree "$root/tmp/kport-src"
	mkdir -p "$root/tmp/nodpkg"
	printf '#!/bin/sh\nexit 127\n' >"$root/tmp/nodpkg/dpkg-query"
	chmod +x "$root/tmp/nodpkg/dpkg-query"
	ok "make KDIR=/lib/modules/$kver/build, no dpkg-query" \
		in_chroot sh -c "cd /tmp/kport-src && PATH=/tmp/nodpkg:\$PATH make -j$(nproc) KDIR=/lib/modules/$kver/build && test -f kport.ko && test -x build/tools/kportctl"
	ok "make install DESTDIR=..., no dpkg-query" \
		in_chroot sh -c "cd /tmp/kport-src && PATH=/tmp/nodpkg:\$PATH make install KDIR=/lib/modules/$kver/build DESTDIR=/tmp/stage && test -f /tmp/stage/lib/modules/$kver/extra/kport.ko"
	ok "make without KDIR: the headers of the newest kernel there" \
		in_chroot sh -c "cd /tmp/kport-src && make clean >/dev/null && PATH=/tmp/nodpkg:\$PATH make -j$(nproc) module"

	umount_chroot
	trap - EXIT
	if [ "$fails" -gt 0 ]; then
		echo "deb: chroot: $fails check(s) failed (logs: $out/chroot-*.log)"
		return 1
	fi
	rm -rf "$root"	# kept when a check failed, to look into
	echo "deb: chroot: all checks passed"
}

case "${1:-}" in
build) build ;;
check)
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "deb: check needs root (or sudo)" >&2; exit 1; }
		exec sudo bash "$0" "$@"
	fi
	check
	;;
*)
	echo "usage: $0 build|check" >&2
	exit 2
	;;
esac
