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
#                           The chroot is made in a directory of root's
#                           (mktemp under /var/tmp), removed unless a check
#                           failed.
#
# Root for check (debootstrap, chroot); through sudo when not root.
set -euo pipefail

self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/root.sh
. scripts/root.sh
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
	local dst=$1 f
	rm -rf --one-file-system "$dst"
	mkdir -p "$dst"
	# (a file deleted but not yet from git's index is left out)
	tree_files | while IFS= read -r f; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			printf '%s\0' "$f"
		fi
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
# Everything done as root happens in a directory root made for it (mktemp,
# mode 0700 under /var/tmp), never under build/, which belongs to whoever
# ran make: a log or chroot path there could be a symlink planted to make
# root write, mount or exec elsewhere.  The base tarball is cached under
# root's KPORT_CACHE and used only if root owns it and nobody else can
# write it.
cache=${KPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kport}
mirror=${DEB_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
work='' root=''

# root_only PATH: PATH is root's and not writable by group or others.
root_only() {
	[ "$(stat -c '%u' "$1")" = 0 ] && [ -z "$(find "$1" -maxdepth 0 -perm /022)" ]
}

# The minbase chroot, made once per debootstrap version and mirror, kept
# as a tarball; each check unpacks a fresh copy.
base_tarball() {
	local key dir=$cache/chroot tarball tmp
	key=$(printf '%s %s' "$(dpkg-query -W -f='${Version}' debootstrap)" "$mirror" |
		sha256sum | cut -c1-16)
	tarball=$dir/bookworm-minbase-$key.tar
	mkdir -p "$dir"
	chmod 0700 "$dir"
	if ! root_only "$cache" || ! root_only "$dir" || { [ -e "$tarball" ] && ! root_only "$tarball"; }; then
		echo "deb: $cache, $dir or its tarball is not root's alone: not using it" >&2
		echo "deb: (set KPORT_CACHE to a directory only root can write)" >&2
		return 1
	fi
	if [ ! -r "$tarball" ]; then
		tmp=$(mktemp -d "$dir/.debootstrap.XXXXXX")
		echo "deb: debootstrap --variant=minbase bookworm (once, cached)" >&2
		if ! debootstrap --variant=minbase bookworm "$tmp" "$mirror" \
			>"$work/debootstrap.log" 2>&1; then
			tail -n 20 "$work/debootstrap.log" >&2
			unmount_under "$tmp"
			rm -rf --one-file-system "$tmp"
			return 1
		fi
		unmount_under "$tmp"
		tar -C "$tmp" -cf "$tarball.tmp" .
		mv "$tarball.tmp" "$tarball"
		rm -rf --one-file-system "$tmp"
	fi
	echo "$tarball"
}

# unmount_under DIR: every mount at or below DIR, deepest first.
unmount_under() {
	local m
	[ -d "$1" ] || return 0
	findmnt -rn -o TARGET | awk -v d="$(readlink -f "$1")" \
		'$0 == d || index($0, d "/") == 1' | sort -r |
		while IFS= read -r m; do umount -l "$m"; done
}

in_chroot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

cleanup() {
	[ -n "$root" ] && unmount_under "$root"
	return 0
}

check() {
	local tarball fails=0 n=0 kver later newest
	compgen -G "$out/kport-dkms_${version}_all.deb" >/dev/null ||
		{ echo "deb: no packages in $out (make deb)" >&2; exit 1; }
	work=$(mktemp -d "${TMPDIR:-/var/tmp}/kport-check-deb.XXXXXX")
	root=$work/chroot
	trap cleanup EXIT
	tarball=$(base_tarball)
	mkdir "$root"
	tar -C "$root" -xf "$tarball"
	mount -t proc proc "$root/proc"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# As an installed Debian 12 has them: the point releases' updates and
	# security (debootstrap sets up only the release itself).
	cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
SOURCES
	# No daemon starts in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	mkdir "$root/tmp/debs"
	cp "$out"/*.deb "$root/tmp/debs/"

	echo "deb: chroot: the kernel headers, a compiler, pkg-config"
	{ in_chroot apt-get update -q &&
	  in_chroot apt-get install -y -q --no-install-recommends \
		linux-headers-amd64 gcc libc6-dev make pkg-config; } \
		>"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log"; exit 1; }
	echo "deb: chroot: the four packages (DKMS builds the module)"
	in_chroot sh -c "apt-get install -y -q --no-install-recommends /tmp/debs/*.deb" \
		>"$work/install.log" 2>&1 || { tail -n 40 "$work/install.log"; exit 1; }

	# ok NAME COMMAND...: one check, reported, its output in its own log.
	ok() {
		local name=$1 log
		shift
		n=$((n + 1))
		log=$work/check-$n.log
		if "$@" >"$log" 2>&1; then
			echo "deb: chroot: ok: $name"
		else
			echo "deb: chroot: FAILED: $name"
			sed 's/^/    /' "$log"
			fails=$((fails + 1))
		fi
	}
	kver=$(in_chroot sh -c 'ls /lib/modules | sort -V | tail -n1')
	ok "dkms status: kport $version installed for $kver" \
		in_chroot sh -c "dkms status kport | tee /dev/stderr | grep -q '^kport/$version, $kver, [^:]*: installed'"
	ok "kport.ko under /lib/modules/$kver/updates/dkms" \
		in_chroot sh -c "ls /lib/modules/$kver/updates/dkms/kport.ko*"
	ok "modinfo kport for $kver" \
		in_chroot sh -c "/sbin/modinfo -k $kver kport | grep -q '^vermagic: *$kver '"
	ok "the udev rule: one rule, for the kport misc device only" \
		in_chroot sh -c "grep -v '^#' /lib/udev/rules.d/60-kport.rules | grep . | tee /dev/stderr | grep -qx 'KERNEL==\"kport\", SUBSYSTEM==\"misc\", GROUP=\"root\", MODE=\"0666\"'"
	ok "the modules-load.d snippet is there, and not active" \
		in_chroot sh -c "grep -qx kport /usr/share/kport/modules-load.d/kport.conf && ! ls /etc/modules-load.d/ /usr/lib/modules-load.d/ 2>/dev/null | grep -q kport"
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
	ok "kportctl version fails, saying /dev/kport is missing" \
		in_chroot sh -c "if kportctl version 2>/tmp/err; then exit 1; fi; cat /tmp/err; grep -q /dev/kport /tmp/err"
	ok "kport-bench --help runs" in_chroot sh -c "kport-bench --help >/dev/null"

	# A kernel installed later: DKMS's headers hook builds kport for it.
	if in_chroot apt-get install -y -q --no-install-recommends linux-headers-6.12-amd64 \
		>"$work/later.log" 2>&1; then
		later=$(in_chroot sh -c 'ls /lib/modules | grep "^6\.12" | sort -V | tail -n1')
		ok "a kernel's headers installed later ($later): kport built for it too" \
			in_chroot sh -c "dkms status kport | tee /dev/stderr | grep -q '^kport/$version, $later, [^:]*: installed'"
	else
		echo "deb: chroot: FAILED: installing linux-headers-6.12-amd64"
		tail -n 20 "$work/later.log"
		fails=$((fails + 1))
	fi

	# The tree builds, installs and cleans with a compiler, make and the
	# headers alone: dpkg-query taken away, as on a system that is not
	# Debian (the packages are installed by then).
	copy_tree "$root/tmp/kport-src"
	mv "$root/usr/bin/dpkg-query" "$root/usr/bin/dpkg-query.away"
	ok "no dpkg-query: scripts/deps.sh says the lanes need Debian" \
		in_chroot sh -c "cd /tmp/kport-src && if bash scripts/deps.sh --check 2>/tmp/err; then exit 1; fi; cat /tmp/err; grep -q 'not Debian' /tmp/err"
	ok "no dpkg-query: make KDIR=/lib/modules/$kver/build" \
		in_chroot sh -c "cd /tmp/kport-src && make -j$(nproc) KDIR=/lib/modules/$kver/build && test -f kport.ko && test -x build/tools/kportctl && test -f build/lib/libkport.so.1"
	ok "no dpkg-query: make install DESTDIR=... (PREFIX /usr/local)" \
		in_chroot sh -c "cd /tmp/kport-src && make install KDIR=/lib/modules/$kver/build DESTDIR=/tmp/stage && test -f /tmp/stage/lib/modules/$kver/extra/kport.ko && test -x /tmp/stage/usr/local/bin/kportctl && test -f /tmp/stage/usr/local/include/kport/linux/kport.h && test -f /tmp/stage/etc/udev/rules.d/60-kport.rules"
	newest=$(in_chroot sh -c 'ls /lib/modules | sort -V | tail -n1')
	ok "no dpkg-query: make clean, then make without KDIR: built for $newest (the newest headers)" \
		in_chroot sh -c "cd /tmp/kport-src && make clean >/dev/null && ! test -e kport.ko && make -j$(nproc) module && /sbin/modinfo -F vermagic kport.ko | tee /dev/stderr | grep -q '^$newest '"
	mv "$root/usr/bin/dpkg-query.away" "$root/usr/bin/dpkg-query"

	cleanup
	trap - EXIT
	if [ "$fails" -gt 0 ]; then
		echo "deb: chroot: $fails check(s) failed; logs and chroot kept in $work"
		return 1
	fi
	rm -rf --one-file-system "$work"
	echo "deb: chroot: all $n checks passed"
}

case "${1:-}" in
build) build ;;
check)
	as_root "deb: check" "$self" KPORT_CACHE DEB_MIRROR DEB_SECURITY_MIRROR -- "$@"
	check
	;;
*)
	echo "usage: $0 build|check" >&2
	exit 2
	;;
esac
