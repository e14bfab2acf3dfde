#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the kport test VM: Debian's kernel under QEMU (TCG), a busybox
# initramfs with kport.ko, the tools, selftests and examples, and
# selftests/vm/init as PID 1.  How a guest is packed, started and watched
# is selftests/vm/lib.sh's, shared with the benchmark (tools/bench/run-vm.sh).
#
#   run.sh --mode check|demo|shell --kernel VMLINUZ --kver KVER
#          --module kport.ko --ksrc KSRC [--build build] [--src .]
#          [--out build/vm/MODE] [--tests "abi capacity"]
#          [--lane stock|debug|kcsan] [--container]
#
# check: runs the selftests (all of build/selftests/, or --tests), then
#        selftests/vm/check.sh judges the serial log.  Exit status 0 only
#        if everything passed; the last line is "N passed, N failed, N
#        skipped".
# demo:  runs examples/demo.sh in the guest; judged the same way.
# shell: an interactive shell on the console, module loaded.
#
# --container (check): every selftest runs inside a container, as runtimes
# make one (selftests/vm/kport-ctr.c: new user, IPC, mount and pid
# namespaces), so in an IPC namespace of its own and kport instance of its
# own; all of them but unload (rmmod needs CAP_SYS_MODULE in the initial
# user namespace) unless --tests names them.
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
vm_name=vm
# shellcheck source=selftests/vm/lib.sh
. "$here/lib.sh"

mode=check kernel='' kver='' module='' ksrc='' build=build src=. out='' tests=''
lane=stock container=0
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
	--container) container=1; shift ;;
	*) vm_die "unknown argument '$1'" ;;
	esac
done
case "$mode" in
check | demo | shell) ;;
*) vm_die "--mode must be check, demo or shell" ;;
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
*) vm_die "--lane must be stock, debug or kcsan" ;;
esac
out=${out:-$build/vm/$mode}
timeout=${VM_TIMEOUT:-$def_timeout}
boot_timeout=${VM_BOOT_TIMEOUT:-$def_boot_timeout}

[ -n "$kver" ] || vm_die "--kver is required"
vm_prepare "$kver" "$kernel" "$module" "$ksrc" "$build"

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
				vm_die "no selftest '$t' (have: ${available[*]:-none})"
			names+=("$t")
		done
		tests=${names[*]}
	elif [ "$container" = 1 ]; then
		tests=$(printf '%s\n' "${available[@]}" | grep -vx unload | xargs)
	else
		tests=${available[*]:-}
	fi
	[ -n "$tests" ] || echo "vm: warning: no selftests built; checking module load/unload only" >&2
fi
if [ "$mode" = demo ] && [ ! -r "$src/examples/demo.sh" ]; then
	vm_die "no $src/examples/demo.sh"
fi

mkdir -p "$out"
out=$(readlink -f "$out")

# Guest configuration, sourced by init.  The tests' environment: KPORT_*
# variables of ours, but the harness's own.
guest_env=()
for v in $(compgen -e | LC_ALL=C sort); do
	case "$v" in
	KPORT_TEST_ARGS | KPORT_TEST_TIMEOUT | KPORT_INSMOD_ARGS | KPORT_KO | \
		KPORT_LANE | KPORT_CACHE | KPORT_KERNEL_* | KPORT_GUEST_ENV) ;;
	KPORT_*) [[ "$v" =~ ^[A-Z0-9_]+$ ]] && guest_env+=("$v") ;;
	esac
done
{
	echo "MODE=$(vm_quote "$mode")"
	echo "LANE=$(vm_quote "$lane")"
	echo "CONTAINER=$container"
	echo "TESTS=$(vm_quote "$tests")"
	echo "KVER=$(vm_quote "$kver")"
	echo "KPORT_KO=$(vm_quote "$vm_ko")"
	echo "KPORT_TEST_ARGS=$(vm_quote "${KPORT_TEST_ARGS:-}")"
	echo "KPORT_TEST_TIMEOUT=$(vm_quote "${KPORT_TEST_TIMEOUT:-$def_test_timeout}")"
	echo "KPORT_INSMOD_ARGS=$(vm_quote "${KPORT_INSMOD_ARGS:-}")"
	echo "KPORT_GUEST_ENV=$(vm_quote "${guest_env[*]}")"
	for v in "${guest_env[@]}"; do
		echo "$v=$(vm_quote "${!v}")"
	done
} >"$out/kport-vm.conf"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
	'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$out/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$out/group"

entries=(
	"$here/kernel-log-patterns:/etc/kport-vm-patterns:0644"
	"$here/log-filter.awk:/etc/kport-vm-log-filter.awk:0644"
	"$out/passwd:/etc/passwd:0644"
	"$out/group:/etc/group:0644"
)
for f in $(executables "$build/tools") $(executables "$build/examples"); do
	d=$build/tools
	[ -x "$d/$f" ] || d=$build/examples
	entries+=("$d/$f:/usr/bin/$f:0755")
done
for f in "${available[@]}"; do
	entries+=("$build/selftests/$f:/usr/libexec/kport/selftests/$f:0755")
done
if [ "$container" = 1 ]; then
	[ -x "$build/vm-tools/kport-ctr" ] || vm_die "$build/vm-tools/kport-ctr is not built (make selftests)"
	entries+=("$build/vm-tools/kport-ctr:/usr/libexec/kport/kport-ctr:0755")
fi
for f in "$build"/lib/libkport.so.*; do
	[ -f "$f" ] && entries+=("$f:/usr/lib/${f##*/}:0755")
done
for f in "$src"/examples/*.sh; do
	[ -f "$f" ] && entries+=("$f:/usr/share/kport/${f##*/}:0755")
done

vm_initramfs "$out/initramfs.cpio" "$here/init" "$out/kport-vm.conf" /etc/kport-vm.conf \
	"${entries[@]}"

append="$(vm_append 5) printk.time=1 log_buf_len=4M"
# Debug lane: any WARN (and KASAN, UBSAN) ends the run at once.
[ "$lane" != debug ] || append+=" panic_on_warn=1"
append+=" ${VM_APPEND:-}"
# shellcheck disable=SC2086 # QEMU_ARGS is a list of words
vm_qemu_cmd "${VM_CPU:-qemu64}" "${VM_MEM:-$def_mem}" "$out/initramfs.cpio" "$append" \
	-smp "${VM_SMP:-2}" ${QEMU_ARGS:-}

if [ "$mode" = shell ]; then
	echo "vm: booting $vm_kernel; Ctrl-A X quits QEMU"
	exec "${vm_cmd[@]}" -serial mon:stdio
fi

log=$out/console.log
ntests=$(wc -w <<<"$tests")
echo "vm: booting $vm_kernel ($kver), $lane lane, mode $mode${tests:+, $ntests selftest(s)}$([ "$container" = 1 ] && echo ", each in a container"); watchdog ${timeout}s"
echo "vm: serial log: $log"

# A hang before init is the emulated machine's, not kport's (the module is
# not loaded yet): boot again, up to VM_BOOT_TRIES times in all, and say so;
# check.sh reports every such retry.  A hang after init is never retried.
tries=${VM_BOOT_TRIES:-2}
boot_hangs=0
rm -f "$out"/console.boot-hang-*.log
for ((try = 1; ; try++)); do
	vm_boot "$log" "$timeout" '^kport-vm: begin ' "$boot_timeout" tr -d '\r'
	echo "vm: QEMU exited with status $vm_qrc after ${vm_secs}s"
	[ "$vm_booted" = 0 ] || break
	boot_hangs=$((boot_hangs + 1))
	[ "$try" -lt "$tries" ] || break
	mv "$log" "$out/console.boot-hang-$try.log"
	echo "vm: boot attempt $try of $tries hung before init (log kept in $out/console.boot-hang-$try.log); booting again"
done

bash "$here/check.sh" --mode "$mode" --lane "$lane" --log "$log" --tests "$tests" \
	--qemu-rc "$vm_qrc" --timeout "$timeout" --out "$out" \
	--booted "$vm_booted" --boot-hangs "$boot_hangs" --boot-timeout "$boot_timeout"
