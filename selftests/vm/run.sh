#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the kport test VM: Debian's kernel under QEMU (TCG), a busybox
# initramfs with kport.ko, the tools, selftests and examples, and
# selftests/vm/init as PID 1.
#
#   run.sh --mode check|demo|shell --kernel VMLINUZ --kver KVER
#          --module kport.ko --ksrc KSRC [--build build] [--src .]
#          [--out build/vm/MODE] [--tests "abi capacity"]
#          [--lane stock|debug|kcsan]
#
# check: runs the selftests (all of build/selftests/, or --tests), then
#        selftests/vm/check.sh judges the serial log.  Exit status 0 only
#        if everything passed; the last line is "N passed, N failed, N
#        skipped".
# demo:  runs examples/demo.sh in the guest; judged the same way.
# shell: an interactive shell on the console, module loaded.
#
# --lane says which kernel this is, for the guest (KPORT_LANE in the tests'
# environment) and the checks: `debug` is the kernel of `make check-debug`
# (scripts/debug-kernel.sh: KASAN, UBSAN, lockdep, kmemleak, fault
# injection).  It boots with panic_on_warn=1, gets larger default limits
# (VM_MEM 2G, VM_TIMEOUT 1500, KPORT_TEST_TIMEOUT 600), gives the tests
# KPORT_DEBUG_LANE=1 and KPORT_STRESS_MESSAGES=20000 (unless set), and the
# guest must report its kmemleak, lockdep and fault-injection checks.
# `kcsan` is the KCSAN kernel of `make check-kcsan`: the same limits and
# test settings, no panic_on_warn (KCSAN panics on it at every report, the
# core kernel's own included); check.sh fails the run on a data race
# reported in kport.
#
# Environment:
#   VM_TIMEOUT          watchdog for the whole VM run, seconds (420; debug 1500)
#   VM_BOOT_TIMEOUT     watchdog for the boot, to the guest's init (120; debug 300)
#   VM_BOOT_TRIES       boots tried when one hangs before init (2)
#   KPORT_TEST_TIMEOUT  per selftest binary in the guest, seconds (180; debug 600)
#   KPORT_TEST_ARGS     extra arguments for every selftest binary
#                       (kselftest_harness: -f FIXTURE, -v VARIANT,
#                       -t TEST, -r FIXTURE.TEST, -l to list)
#   KPORT_INSMOD_ARGS   module parameters for insmod
#   KPORT_*             any other KPORT_ variable is passed on to the tests'
#                       environment in the guest (KPORT_STRESS_MESSAGES=...)
#   VM_MEM (1G; 2G debug), VM_SMP (2), VM_CPU (qemu64), QEMU (qemu-system-x86_64),
#   QEMU_ARGS (extra QEMU arguments), VM_APPEND (extra kernel arguments)
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")

die() {
	echo "vm: $*" >&2
	exit 1
}

mode=check kernel='' kver='' module='' ksrc='' build=build src=. out='' tests=''
lane=stock
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--ksrc) ksrc=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--lane) lane=$2; shift 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
case "$mode" in
check | demo | shell) ;;
*) die "--mode must be check, demo or shell" ;;
esac
case "$lane" in
stock)
	def_timeout=420 def_test_timeout=180 def_mem=1G def_boot_timeout=120
	;;
debug | kcsan)
	# KASAN + lockdep + kmemleak, or KCSAN, under TCG: everything is slower.
	def_timeout=1500 def_test_timeout=600 def_mem=2G def_boot_timeout=300
	: "${KPORT_DEBUG_LANE:=1}" "${KPORT_STRESS_MESSAGES:=20000}"
	export KPORT_DEBUG_LANE KPORT_STRESS_MESSAGES
	;;
*) die "--lane must be stock, debug or kcsan" ;;
esac
out=${out:-$build/vm/$mode}
timeout=${VM_TIMEOUT:-$def_timeout}
boot_timeout=${VM_BOOT_TIMEOUT:-$def_boot_timeout}
qemu=${QEMU:-qemu-system-x86_64}

[ -n "$kver" ] || die "--kver is required"
[ -n "$kernel" ] || kernel=/boot/vmlinuz-$kver
[ -e "$kernel" ] || die "no kernel at $kernel (KERNEL=, or make deps for linux-image-amd64)"
if [ ! -r "$kernel" ] && command -v sudo >/dev/null; then
	# Debian's /boot/vmlinuz-* are readable by root only: keep a copy.
	cache=${KPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kport}/boot
	copy=$cache/$(basename "$kernel")
	if [ ! -r "$copy" ] || [ "$kernel" -nt "$copy" ]; then
		echo "vm: $kernel is readable by root only; copying it with sudo to $copy"
		mkdir -p "$cache"
		# shellcheck disable=SC2024 # the copy is to be the user's
		sudo cat "$kernel" >"$copy.tmp"
		mv "$copy.tmp" "$copy"
	fi
	kernel=$copy
fi
[ -r "$kernel" ] || die "cannot read $kernel: run as root or pass a readable KERNEL="
[ -r "$module" ] || die "no module at '$module' (make module)"
[ -r "$ksrc/usr/gen_init_cpio.c" ] || die "--ksrc '$ksrc' has no usr/gen_init_cpio.c"
command -v "$qemu" >/dev/null || die "$qemu not found (make deps)"

# Executables of a build directory (not the .d/.o files beside them).
executables() {
	local f
	for f in "$1"/*; do
		[ -f "$f" ] && [ -x "$f" ] && printf '%s\n' "${f##*/}"
	done
	return 0
}

mapfile -t available < <(executables "$build/selftests" | LC_ALL=C sort)
if [ "$mode" = check ]; then
	if [ -n "$tests" ]; then
		# Accept "abi", "selftests/abi.c" or "build/selftests/abi".
		names=()
		for t in $tests; do
			t=${t##*/}
			t=${t%.c}
			[ -x "$build/selftests/$t" ] ||
				die "no selftest '$t' (have: ${available[*]:-none})"
			names+=("$t")
		done
		tests=${names[*]}
	else
		tests=${available[*]:-}
	fi
	[ -n "$tests" ] || echo "vm: warning: no selftests built; checking module load/unload only" >&2
fi
if [ "$mode" = demo ] && [ ! -r "$src/examples/demo.sh" ]; then
	die "no $src/examples/demo.sh"
fi

mkdir -p "$out"
out=$(readlink -f "$out")

# The kernel's initramfs writer, built once per source tree.
tool=$build/vm/gen_init_cpio
if [ ! -x "$tool" ] || [ "$ksrc/usr/gen_init_cpio.c" -nt "$tool" ]; then
	mkdir -p "$build/vm"
	${HOSTCC:-gcc} -O2 -o "$tool" "$ksrc/usr/gen_init_cpio.c"
fi

# Guest configuration, sourced by init.
q() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}
ko_path=/lib/modules/$kver/extra/kport.ko
# The tests' environment: KPORT_* variables of ours, but the harness's own.
guest_env=()
for v in $(compgen -e | LC_ALL=C sort); do
	case "$v" in
	KPORT_TEST_ARGS | KPORT_TEST_TIMEOUT | KPORT_INSMOD_ARGS | KPORT_KO | \
		KPORT_LANE | KPORT_CACHE | KPORT_KERNEL_* | KPORT_GUEST_ENV) ;;
	KPORT_*) [[ "$v" =~ ^[A-Z0-9_]+$ ]] && guest_env+=("$v") ;;
	esac
done
{
	echo "MODE=$(q "$mode")"
	echo "LANE=$(q "$lane")"
	echo "TESTS=$(q "$tests")"
	echo "KVER=$(q "$kver")"
	echo "KPORT_KO=$(q "$ko_path")"
	echo "KPORT_TEST_ARGS=$(q "${KPORT_TEST_ARGS:-}")"
	echo "KPORT_TEST_TIMEOUT=$(q "${KPORT_TEST_TIMEOUT:-$def_test_timeout}")"
	echo "KPORT_INSMOD_ARGS=$(q "${KPORT_INSMOD_ARGS:-}")"
	echo "KPORT_GUEST_ENV=$(q "${guest_env[*]}")"
	for v in "${guest_env[@]}"; do
		echo "$v=$(q "${!v}")"
	done
} >"$out/kport-vm.conf"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
	'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$out/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$out/group"

entries=(
	"$here/init:/init:0755"
	"$out/kport-vm.conf:/etc/kport-vm.conf:0644"
	"$here/kernel-log-patterns:/etc/kport-vm-patterns:0644"
	"$here/log-filter.awk:/etc/kport-vm-log-filter.awk:0644"
	"$out/passwd:/etc/passwd:0644"
	"$out/group:/etc/group:0644"
	"$module:$ko_path:0644"
)
for f in $(executables "$build/tools") $(executables "$build/examples"); do
	d=$build/tools
	[ -x "$d/$f" ] || d=$build/examples
	entries+=("$d/$f:/usr/bin/$f:0755")
done
for f in "${available[@]}"; do
	entries+=("$build/selftests/$f:/usr/libexec/kport/selftests/$f:0755")
done
for f in "$build"/lib/libkport.so.*; do
	[ -f "$f" ] && entries+=("$f:/usr/lib/${f##*/}:0755")
done
for f in "$src"/examples/*.sh; do
	[ -f "$f" ] && entries+=("$f:/usr/share/kport/${f##*/}:0755")
done

bash "$here/mkinitramfs.sh" --out "$out/initramfs.cpio" --tool "$tool" "${entries[@]}"

append="console=ttyS0,115200 loglevel=5 printk.time=1 log_buf_len=4M"
append+=" panic=-1 oops=panic rdinit=/init"
# Debug lane: any WARN (and KASAN, UBSAN) ends the run at once.
[ "$lane" != debug ] || append+=" panic_on_warn=1"
append+=" ${VM_APPEND:-}"
# shellcheck disable=SC2206 # QEMU_ARGS is a list of words
qemu_cmd=("$qemu" -accel tcg -cpu "${VM_CPU:-qemu64}" -smp "${VM_SMP:-2}"
	-m "${VM_MEM:-$def_mem}" -nodefaults -no-user-config -display none -no-reboot
	-kernel "$kernel" -initrd "$out/initramfs.cpio" -append "$append"
	${QEMU_ARGS:-})

if [ "$mode" = shell ]; then
	echo "vm: booting $kernel; Ctrl-A X quits QEMU"
	exec "${qemu_cmd[@]}" -serial mon:stdio
fi

log=$out/console.log
ntests=$(wc -w <<<"$tests")
echo "vm: booting $kernel ($kver), $lane lane, mode $mode${tests:+, $ntests selftest(s)}; watchdog ${timeout}s"
echo "vm: serial log: $log"

# boot_vm: one run of QEMU, the serial log shown as it grows.  Sets qrc
# (QEMU's exit status, 124 if a watchdog killed it) and booted (1 once the
# guest's init announced itself).  A guest that does not reach its init
# within boot_timeout is killed at once: no selftest ran yet, and waiting
# out the whole-run watchdog would only waste it.
boot_vm() {
	local t0=$SECONDS qpid tailpid
	: >"$log"
	booted=0 qrc=0
	timeout --kill-after=10 "$timeout" "${qemu_cmd[@]}" \
		-chardev "file,id=ser0,path=$log,append=on" -serial chardev:ser0 \
		</dev/null &
	qpid=$!
	trap 'kill "$qpid" 2>/dev/null' INT TERM
	tail -n +1 -f --pid="$qpid" "$log" | tr -d '\r' &
	tailpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		if grep -q '^kport-vm: begin ' "$log"; then
			booted=1
			break
		fi
		if [ $((SECONDS - t0)) -ge "$boot_timeout" ]; then
			echo "vm: the guest did not reach its init within ${boot_timeout}s; stopping QEMU"
			kill "$qpid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$qpid" || qrc=$?
	wait "$tailpid" || true
	trap - INT TERM
	grep -q '^kport-vm: begin ' "$log" && booted=1
	echo "vm: QEMU exited with status $qrc after $((SECONDS - t0))s"
}

# A hang before init is the emulated machine's, not kport's (the module is
# not loaded yet): boot again, up to VM_BOOT_TRIES times in all, and say so;
# check.sh reports every such retry.  A hang after init is never retried.
tries=${VM_BOOT_TRIES:-2}
boot_hangs=0
rm -f "$out"/console.boot-hang-*.log
for ((try = 1; ; try++)); do
	boot_vm
	[ "$booted" = 0 ] || break
	boot_hangs=$((boot_hangs + 1))
	[ "$try" -lt "$tries" ] || break
	mv "$log" "$out/console.boot-hang-$try.log"
	echo "vm: boot attempt $try of $tries hung before init (log kept in $out/console.boot-hang-$try.log); booting again"
done

bash "$here/check.sh" --mode "$mode" --lane "$lane" --log "$log" --tests "$tests" \
	--qemu-rc "$qrc" --timeout "$timeout" --out "$out" \
	--booted "$booted" --boot-hangs "$boot_hangs" --boot-timeout "$boot_timeout"
