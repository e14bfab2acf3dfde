#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack the test VM's initramfs (an uncompressed newc cpio archive).
#
#   mkinitramfs.sh --out FILE --tool GEN_INIT_CPIO [--busybox PATH]
#                  SRC:DEST[:MODE]...
#
# Every SRC is packed at DEST (an absolute path in the guest) with MODE
# (octal, default 0755), owned by root.  ELF executables bring the shared
# libraries `ldd` finds for them, at the same paths as on the host.  The
# archive also gets busybox at /bin/busybox with a symlink for each of its
# applets (unless DEST already took the name) and /dev/console, which the
# kernel needs to give init its stdio before devtmpfs is mounted.
#
# The archive is written by the kernel's own usr/gen_init_cpio from a file
# list, so no root privileges are needed (mknod, chown).
set -euo pipefail

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

out='' tool='' busybox=/bin/busybox
entries=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--tool) tool=$2; shift 2 ;;
	--busybox) busybox=$2; shift 2 ;;
	-*) die "unknown option $1" ;;
	*) entries+=("$1"); shift ;;
	esac
done
[ -n "$out" ] || die "--out is required"
[ -x "$tool" ] || die "--tool: gen_init_cpio '$tool' is not executable"
[ -x "$busybox" ] || die "busybox '$busybox' not found (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked: install busybox-static"
fi

declare -A dirs=() files=()
list=$(mktemp)
trap 'rm -f "$list"' EXIT

add_dirs() {
	local d=${1%/*}
	while [ -n "$d" ]; do
		dirs[$d]=1
		d=${d%/*}
	done
}

# add_file SRC DEST MODE
add_file() {
	case "$1$2" in
	*[[:space:]]*) die "paths with white space are not supported: '$1' -> '$2'" ;;
	esac
	[ -r "$1" ] || die "missing file $1"
	[ -z "${files[$2]:-}" ] || return 0
	files[$2]="$1 $3"
	add_dirs "$2"
}

for dir in /bin /sbin /usr/bin /usr/sbin /lib /lib64 /usr/lib /etc /proc /sys \
	/dev /run /root /mnt /var /sys/fs/cgroup; do
	dirs[$dir]=1
done

add_file "$busybox" /bin/busybox 0755
for e in "${entries[@]}"; do
	IFS=: read -r src dest mode <<<"$e"
	if [ -z "$src" ] || [ -z "$dest" ]; then die "bad entry '$e' (want SRC:DEST[:MODE])"; fi
	case "$dest" in
	/*) ;;
	*) die "destination must be absolute: '$e'" ;;
	esac
	add_file "$src" "$dest" "${mode:-0755}"
done

# Shared libraries of every dynamically linked ELF file.
declare -A libs=()
for dest in "${!files[@]}"; do
	src=${files[$dest]% *}
	[ "$(head -c 4 "$src" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	ldd_out=$(ldd "$src" 2>/dev/null) || continue	# static
	if grep -q 'not found' <<<"$ldd_out"; then
		die "$src: shared library not found:"$'\n'"$ldd_out"
	fi
	while read -r lib; do
		libs[$lib]=1
	done < <(sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' \
		<<<"$ldd_out")
done
for lib in "${!libs[@]}"; do
	add_file "$(readlink -f "$lib")" "$lib" 0755
done

{
	printf '%s\n' "${!dirs[@]}" | LC_ALL=C sort | while read -r dir; do
		echo "dir $dir 0755 0 0"
	done
	echo "dir /tmp 1777 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	printf '%s\n' "${!files[@]}" | LC_ALL=C sort | while read -r dest; do
		read -r src mode <<<"${files[$dest]}"
		echo "file $dest $src $mode 0 0"
	done
	# Busybox applets, where nothing else has taken the name.
	"$busybox" --list-full | LC_ALL=C sort | while read -r applet; do
		[ -n "${files[/$applet]:-}" ] && continue
		[ "/$applet" = /bin/busybox ] && continue
		[ -n "${dirs[/$applet]:-}" ] && continue
		echo "slink /$applet /bin/busybox 0777 0 0"
	done
} >"$list"

mkdir -p "$(dirname "$out")"
"$tool" "$list" >"$out.tmp"
mv "$out.tmp" "$out"
