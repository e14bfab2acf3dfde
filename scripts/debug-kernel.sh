#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) a sanitizer kernel for the test VM: Debian's
# linux-source-6.1 configured with `make alldefconfig` plus
# selftests/vm/base.config and the flavour's fragment, built out of tree,
# cached outside the repository.  Flavours:
#   debug  selftests/vm/debug.config: KASAN, UBSAN, lockdep, kmemleak, fault
#          injection (`make check-debug`)
#   kcsan  selftests/vm/kcsan.config: KCSAN (`make check-kcsan`)
#
#   scripts/debug-kernel.sh [FLAVOUR]        build if needed; print the build
#                                            directory (usable as KDIR; the
#                                            image is DIR/arch/x86/boot/bzImage)
#   scripts/debug-kernel.sh [FLAVOUR] --dir  print the directory, build nothing
#   scripts/debug-kernel.sh [FLAVOUR] --key  print the cache key
# FLAVOUR defaults to debug.
#
# The cache is ~/.cache/kport/debug-kernel/KEY/ (KPORT_CACHE moves it),
# KEY a hash of the source package's version, the compiler, the fragments and
# the build recipe below (the functions' text, comments aside).  Inside:
# build/ (the O= tree), build.log (everything make printed), info, and
# complete, written last: a directory with it is never touched again (but
# for its "used" stamp).  A lock serialises concurrent runs for the same key.
# Progress goes to stderr once a minute; on failure the tail of build.log is
# shown.  After a build, the other keys' kernels not used for
# KPORT_KERNEL_KEEP_DAYS are removed (each is ~600 MB).
#
# Environment: KPORT_CACHE, KSRC_PACKAGE (linux-source-6.1),
#   KPORT_KERNEL_JOBS (nproc + 1), KPORT_KERNEL_NICE (10),
#   KPORT_KERNEL_KEEP_DAYS (30).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
pkg=${KSRC_PACKAGE:-linux-source-6.1}
cache=${KPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kport}/debug-kernel

say() {
	echo "debug-kernel: $*" >&2
}

die() {
	say "$*"
	exit 1
}

# ---- The recipe (part of the cache key) --------------------------------------

# kmake SRC OUT ARGS...: make in the kernel tree, out of tree, with none of
# the caller's make or kbuild settings (a parent make's jobserver, O=, ARCH).
kmake() {
	local src=$1 out=$2
	shift 2
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u MAKEFILES \
		-u KBUILD_OUTPUT -u KBUILD_EXTMOD -u ARCH -u SRCARCH \
		-u CROSS_COMPILE -u KCFLAGS -u KCPPFLAGS -u KAFLAGS -u LLVM \
		-u CC -u LD -u CFLAGS -u LDFLAGS \
		KBUILD_BUILD_USER=kport KBUILD_BUILD_HOST=kport-debug \
		make -C "$src" O="$out" ARCH=x86_64 "$@"
}

# configure SRC OUT FRAGMENT: alldefconfig with the fragment forced, then
# olddefconfig (what scripts/kconfig/merge_config.sh does, without its
# warnings-only check: verify_config below is strict).
configure() {
	local src=$1 out=$2 fragment=$3
	kmake "$src" "$out" KCONFIG_ALLCONFIG="$fragment" alldefconfig
	kmake "$src" "$out" olddefconfig
}

# build SRC OUT JOBS: the image, vmlinux, modules, Module.symvers: all that
# an external module build (make -C OUT M=...) and the VM need.
build() {
	local src=$1 out=$2 jobs=$3
	kmake "$src" "$out" -j"$jobs" all
}

# ---- Helpers -------------------------------------------------------------------

# verify_config FRAGMENT CONFIG: every "CONFIG_X=V" and "# CONFIG_X is not
# set" of the fragment is in the final .config as written.
verify_config() {
	local fragment=$1 config=$2 line opt want got bad=0
	while IFS= read -r line; do
		if [[ "$line" =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			opt=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
		elif [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			opt=${BASH_REMATCH[1]} want=n
		else
			continue
		fi
		got=$(sed -n "s/^$opt=\(.*\)$/\1/p" "$config")
		[ -n "$got" ] || got=n
		if [ "$got" != "$want" ]; then
			say "config: $opt: asked for $want, Kconfig gave $got"
			bad=1
		fi
	done <"$fragment"
	[ "$bad" = 0 ]
}

# run_logged LOG CMD...: CMD's output to LOG; a progress line on stderr
# every minute; on failure the tail of LOG.
run_logged() {
	local log=$1 start=$SECONDS pid rc=0 n last
	shift
	"$@" >>"$log" 2>&1 </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for _ in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 1
		done
		kill -0 "$pid" 2>/dev/null || break
		n=$(grep -c '^  \(CC\|AS\|LD\|AR\|HOSTCC\)' "$log" || true)
		last=$(grep '^  [A-Z]' "$log" | tail -n 1 | sed 's/^ *//' || true)
		say "$(((SECONDS - start) / 60)) min, $n steps done; last: $last"
	done
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		say "FAILED (exit $rc) after $((SECONDS - start))s; the end of $log:"
		tail -n 60 "$log" >&2
	fi
	return "$rc"
}

# prune: remove the kernels of other keys unused for KEEP_DAYS days (and
# not being built: their lock is free).
prune() {
	local days=${KPORT_KERNEL_KEEP_DAYS:-30} d k
	for d in "$cache"/*/; do
		d=${d%/}
		k=${d##*/}
		if [ "$k" = "$key" ] || [ ! -e "$d/complete" ] ||
			[ -n "$(find "$d/used" "$d/complete" -maxdepth 0 \
				-mtime -"$days" 2>/dev/null)" ]; then
			continue
		fi
		(
			flock -n 9 || exit 0
			say "removing $d, unused for $days days"
			rm -rf "$d"
		) 9>"$cache/$k.lock"
	done
}

# ---- Main ----------------------------------------------------------------------

action=build flavour=debug
for arg in "$@"; do
	case "$arg" in
	--dir) action=dir ;;
	--key) action=key ;;
	debug | kcsan) flavour=$arg ;;
	*) die "usage: $0 [debug|kcsan] [--dir|--key]" ;;
	esac
done

# The fragment: base.config, then the flavour's (a temporary file, kept in
# the cache directory once the build starts).
for f in base "$flavour"; do
	[ -r "selftests/vm/$f.config" ] || die "no fragment selftests/vm/$f.config"
done
frag=$(mktemp)
trap 'rm -f "$frag"' EXIT
cat selftests/vm/base.config "selftests/vm/$flavour.config" >"$frag"
ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
	die "$pkg is not installed (make deps)"
key=$({
	echo "$pkg $ver"
	gcc --version | head -n 1
	cat "$frag"
	declare -f kmake configure build
} | sha256sum | cut -c1-16)
dir=$cache/$key
out=$dir/build
case "$action" in
key) echo "$key"; exit 0 ;;
dir) echo "$out"; exit 0 ;;
esac

if [ ! -e "$dir/complete" ]; then
	mkdir -p "$cache"
	exec 9>"$cache/$key.lock"
	if ! flock -n 9; then
		say "another build of $key is running; waiting for it"
		flock 9
	fi
fi
if [ -e "$dir/complete" ]; then
	say "using the cached kernel $out ($(cat "$dir/info" 2>/dev/null || echo "$key"))"
	touch "$dir/used" 2>/dev/null || true
	echo "$out"
	exit 0
fi

ksrc=$(bash scripts/ksrc.sh)
jobs=${KPORT_KERNEL_JOBS:-$(($(nproc) + 1))}
niceness=${KPORT_KERNEL_NICE:-10}
log=$dir/build.log
rm -rf "$dir"
mkdir -p "$out"
cp "$frag" "$dir/fragment.config"
say "building the $flavour kernel from $pkg $ver into $dir"
say "(once per key $key; -j$jobs, nice $niceness; log: $log)"
start=$SECONDS

run_logged "$log" configure "$ksrc" "$out" "$frag" ||
	die "configuration failed"
if ! verify_config "$frag" "$out/.config" 2>>"$log"; then
	verify_config "$frag" "$out/.config" || true
	die "Kconfig dropped or changed options of base.config or $flavour.config (see above): fix the fragment"
fi
say "configured: $(grep -c '=y$' "$out/.config") options built in"

run_logged "$log" nice -n "$niceness" bash -c "$(declare -f kmake build); build \"\$@\"" \
	build "$ksrc" "$out" "$jobs" || die "build failed"

for f in arch/x86/boot/bzImage vmlinux Module.symvers scripts/mod/modpost \
	include/generated/utsrelease.h include/config/auto.conf; do
	[ -e "$out/$f" ] || die "the build left no $out/$f"
done
release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
	"$out/include/generated/utsrelease.h")
# CPU time of the build (user + system, all jobs): the wall time on an idle
# machine is about this divided by the number of cores.
times >"$dir/times"	# in this shell: a subshell's children are not ours
cpu=$(tail -n 1 "$dir/times" | awk '{
	t = 0
	for (i = 1; i <= 2; i++) {
		split($i, p, /[ms]/)
		t += p[1] * 60 + p[2]
	}
	printf "%d", t
}')
wall=$((SECONDS - start))
echo "$release ($flavour), $pkg $ver, built $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${wall}s" \
	"(${cpu}s of CPU, -j$jobs on $(nproc) cores)" >"$dir/info"
touch "$dir/complete" "$dir/used"
prune
say "built $release in $((wall / 60)) min $((wall % 60)) s, $((cpu / 60)) min of CPU: $out"
echo "$out"
