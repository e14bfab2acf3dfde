#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run kport-bench in QEMU (TCG) and report: what `make bench` runs.
#
#   tools/bench/run-vm.sh [--passes "smp2 icount"] [--out build/bench]
#                         [--build build] [--module kport.ko]
#                         [--kernel VMLINUZ] [--kver KVER] [--quick]
#                         [--profile MECH,... [--callers SYM,...]]
#                         [-- KPORT-BENCH ARGUMENTS...]
#
# Each pass boots Debian's kernel (the one kport.ko was built for) on a
# small initramfs of its own (busybox-static, kport.ko, kport-bench and
# the libraries it needs, tools/bench/init as PID 1), packed and booted
# by the test VM's harness library, selftests/vm/lib.sh, as for make
# check.  The guest runs `kport-bench --tune` and prints its CSV between
# markers on the serial console; the host extracts it to OUT/PASS.csv,
# then tools/bench/report.py writes OUT/results.md (the README tables),
# OUT/PASS-*.dat and, with gnuplot, OUT/PASS-latency.png and
# OUT/PASS-throughput.png.
#
# Passes (doc/bench.md says why):
#   smp2    -smp 2: both host cores, real cross-CPU wake-ups; noisy (about
#           25% between runs): reported, not gated.
#   icount  -smp 1 -icount shift=3,align=off,sleep=off -rtc clock=vm:
#           guest time counts instructions, repeatable within about 0.5%;
#           both processes share the one CPU.  The target lines printed
#           last are this pass's.
# Both boot with clocksource=tsc tsc=reliable and the default CPU model
# (qemu64: with -cpu max the guest copies with rep movsb, which QEMU 7.2
# emulates a byte at a time).
#
# --profile MECH,... (icount pass only, unless --passes says otherwise):
# instead of the benchmark, runs `kport-bench --mechs MECH ARGS` for each
# mechanism under `perf record -a -e cpu-clock -F 2000` in the guest and prints
# perf's flat profile (by process and symbol) of kport-bench.  Under icount a cpu-clock sample is a fixed number of guest
# instructions, so these are instruction profiles.  ARGS default to a 64 B
# round-trip latency cell: "latency --lat-sizes 64 --reps 1 --lat-time 2".
# --callers SYM,... records call graphs too and prints who calls each SYM
# (call graphs cost more: use them to find a path, not to time it).
# Console logs in OUT/profile-PASS/.
#
# Environment: BENCH_ARGS (more kport-bench arguments), VM_MEM (3G),
# BENCH_TIMEOUT (per pass, seconds: 2400), QEMU (qemu-system-x86_64),
# KSRC (kernel source with usr/gen_init_cpio.c, built into BUILD/vm/ as for
# make check; default scripts/ksrc.sh).
# Exit status: 0 when every pass produced its CSV (whether or not the
# targets are met), 1 otherwise.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(readlink -f "$here/../..")
cd "$top"
vm_name=bench
# shellcheck source=selftests/vm/lib.sh
. selftests/vm/lib.sh

passes=${BENCH_PASSES:-"smp2 icount"} out=build/bench build=build module=kport.ko
kernel='' kver='' quick=0 profile='' callers='' passes_given=${BENCH_PASSES:+1}
bench_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--passes) passes=$2; passes_given=1; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--profile) profile=$2; shift 2 ;;
	--callers) callers=$2; shift 2 ;;
	--) shift; bench_args+=("$@"); break ;;
	-h | --help) sed -n '3,/^set /s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) vm_die "unknown argument '$1' (--help)" ;;
	esac
done
# shellcheck disable=SC2206 # a list of words
bench_args+=(${BENCH_ARGS:-})
[ "$quick" = 0 ] || bench_args=(--quick "${bench_args[@]}")
if [ -n "$profile" ]; then
	[ -n "$passes_given" ] || passes=icount
	[ ${#bench_args[@]} -gt 0 ] ||
		bench_args=(latency --lat-sizes 64 --reps 1 --lat-time 2)
	command -v perf >/dev/null || vm_die "--profile needs perf on the host (linux-perf)"
fi

for p in $passes; do
	case "$p" in
	smp2 | icount) ;;
	*) vm_die "unknown pass '$p' (smp2, icount)" ;;
	esac
done
[ -n "$kver" ] || kver=$(bash scripts/kver.sh)
[ -x "$build/tools/kport-bench" ] || vm_die "no $build/tools/kport-bench (make tools)"
vm_prepare "$kver" "$kernel" "$module" "${KSRC:-$(bash scripts/ksrc.sh)}" "$build"

mkdir -p "$out"
out=$(readlink -f "$out")

start=$SECONDS
failed=0
for pass in $passes; do
	dir=$out/$pass
	[ -z "$profile" ] || dir=$out/profile-$pass
	mkdir -p "$dir"
	# Cell times in guest seconds.  icount is repeatable within about 0.5%,
	# so short cells do; it also runs slower than real time (about 3x on
	# a busy 2-core host).  smp2 is noisy: longer cells average more.
	case "$pass" in
	smp2) pass_args="--cell-time 0.25 --lat-time 0.3 --scale-time 0.25 --warm-time 0.05" ;;
	icount) pass_args="--cell-time 0.1 --lat-time 0.15 --scale-time 0.1 --warm-time 0.02" ;;
	esac
	pass_args+=" --reps 3 --min-msgs 2"
	extra=()
	{
		echo "LABEL=$(vm_quote "$pass")"
		echo "KPORT_KO=$(vm_quote "$vm_ko")"
		if [ -n "$profile" ]; then
			echo "PROFILE=$(vm_quote "$profile")"
			echo "PROFILE_ARGS=$(vm_quote "${bench_args[*]}")"
			echo "PROFILE_CALLERS=$(vm_quote "$callers")"
			extra=("$(command -v perf):/usr/bin/perf:0755")
		else
			echo "BENCH_ARGS=$(vm_quote "$pass_args ${bench_args[*]}")"
		fi
	} >"$dir/kport-bench.conf"
	vm_initramfs "$dir/initramfs.cpio" "$here/init" "$dir/kport-bench.conf" \
		/etc/kport-bench.conf \
		"$build/tools/kport-bench:/usr/bin/kport-bench:0755" "${extra[@]}"

	# The machine of each pass (doc/bench.md, "The two passes"): change
	# nothing here without measuring again, the figures depend on it.
	case "$pass" in
	smp2) machine=(-smp 2) ;;
	icount) machine=(-smp 1 -icount "shift=3,align=off,sleep=off" -rtc clock=vm) ;;
	esac
	vm_qemu_cmd qemu64 "${VM_MEM:-3G}" "$dir/initramfs.cpio" \
		"$(vm_append 3) clocksource=tsc tsc=reliable" "${machine[@]}"
	log=$dir/console.log
	# -smp 2 measures the host's scheduler too: say how busy it was.
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "bench: pass $pass: ${vm_cmd[*]:0:12} ... (log $log)"
	echo "bench: pass $pass: host load average before: $load0 ($(nproc) CPUs)"
	t0=$SECONDS
	# The progress, without the CSV (it is extracted below).
	vm_boot "$log" "${BENCH_TIMEOUT:-2400}" '' 0 \
		sed -u -e 's/\r$//' -e '/^KPORT-BENCH-CSV-BEGIN/,/^KPORT-BENCH-CSV-END/d'
	[ "$vm_interrupted" = 0 ] || exit 130
	echo "bench: pass $pass: QEMU exited with status $vm_qrc after $vm_secs s;" \
		"host load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "$load0 $(cut -d' ' -f1-3 /proc/loadavg)" >"$dir/host-load"
	if [ -n "$profile" ]; then
		[ "$vm_qrc" = 0 ] || failed=1
		continue
	fi
	tr -d '\r' <"$log" | sed -n '/^KPORT-BENCH-CSV-BEGIN/,/^KPORT-BENCH-CSV-END/p' |
		sed '1d;$d' >"$out/$pass.csv.tmp"
	if [ -s "$out/$pass.csv.tmp" ] && grep -q '^KPORT-BENCH-CSV-END' <(tr -d '\r' <"$log"); then
		mv "$out/$pass.csv.tmp" "$out/$pass.csv"
		echo "$((SECONDS - t0))" >"$dir/wall-seconds"
	else
		rm -f "$out/$pass.csv.tmp"
		echo "bench: pass $pass: no CSV in $log" >&2
		failed=1
	fi
done

if [ -n "$profile" ]; then
	echo "bench: profiles in $out/profile-*/console.log"
	exit "$failed"
fi
csvs=()
for pass in $passes; do
	[ -s "$out/$pass.csv" ] && csvs+=("$out/$pass.csv")
done
if [ ${#csvs[@]} -gt 0 ]; then
	python3 "$here/report.py" --out "$out" --gnuplot "$here/plots.gp" "${csvs[@]}"
fi
echo "bench: all passes took $((SECONDS - start)) s"
# The target lines last: those of the gating pass (icount if it ran).
if [ ${#csvs[@]} -gt 0 ]; then
	python3 "$here/report.py" --targets-only "${csvs[@]}"
fi
exit "$failed"
