#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Judge a test VM's serial log (written by selftests/vm/run.sh).
#
#   check.sh --mode check|demo --log LOG --tests "a b" [--qemu-rc N]
#            [--timeout S] [--out DIR] [--lane stock|debug|kcsan]
#            [--booted 0|1] [--boot-hangs N] [--boot-timeout S]
#
# Prints one line per selftest binary, every problem found, and as the last
# line "N passed, N failed, N skipped"; exits 1 on any failure.  Counts are
# test cases, from each binary's kselftest "# Totals:" line: passed = pass
# + xfail, failed = fail + error + xpass, skipped = skip (never counted as
# passed).  A binary that crashed, timed out, printed no totals or exited
# non-zero with clean totals adds one failure; so does each problem of the
# run itself: a boot that never reached the guest's init, a hang
# (watchdog), a failed insmod or rmmod, a missing
# /dev/kport, new taint flags other than O and E, a suspicious kernel log
# line (selftests/vm/kernel-log-patterns; the lines of injected allocation
# failures are not suspicious: log-filter.awk), a missing success token; in
# the debug lane also a missing kmemleak, lockdep or fault-injection check,
# in the kcsan lane a missing kcsan check or a data race reported in kport.
# Lines the tests print starting with "kport-figure:" (optionally after the
# kselftest "# ") are listed in the summary, before the totals.
# Boots that hung before init and were tried again (run.sh) are no failure,
# the module not being loaded yet, but each is reported.
# Writes DIR/totals ("PASSED FAILED SKIPPED") and DIR/summary.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
mode=check log='' tests='' qrc=0 timeout='?' out='' lane=stock
booted=1 boot_hangs=0 boot_timeout='?'
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--qemu-rc) qrc=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--lane) lane=$2; shift 2 ;;
	--booted) booted=$2; shift 2 ;;
	--boot-hangs) boot_hangs=$2; shift 2 ;;
	--boot-timeout) boot_timeout=$2; shift 2 ;;
	*) echo "check: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -r "$log" ] || { echo "check: no log '$log'" >&2; exit 2; }
out=${out:-$(dirname "$log")}

clean=$(mktemp)
scan=$(mktemp)
trap 'rm -f "$clean" "$scan"' EXIT
tr -d '\r' <"$log" >"$clean"

passed=0 failed=0 skipped=0
problems=()
problem() {
	problems+=("$*")
	failed=$((failed + 1))
}

# value KEY LINE: the N of KEY=N in LINE (0 if absent or not a number).
value() {
	local v
	v=$(sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2")
	[[ "$v" =~ ^-?[0-9]+$ ]] || v=0
	printf '%s\n' "$v"
}

summary=()
report() {
	summary+=("$(printf '  %-5s %-24s %s' "$@")")
}

if [ "$mode" = demo ]; then
	tests=demo
fi
for t in $tests; do
	line=$(grep -E "^kport-vm: result $t status=" "$clean" | tail -n 1 || true)
	if [ -z "$line" ]; then
		report FAIL "$t" "no result (the guest died, hung or never ran it)"
		failed=$((failed + 1))
		continue
	fi
	status=$(sed -n 's/.* status=\([^ ]*\).*/\1/p' <<<"$line")
	rc=$(value rc "$line")
	secs=$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<<"$line")
	took=${secs:+ (${secs}s)}
	if [ "$mode" = demo ]; then
		if [ "$status" = ok ]; then
			report PASS demo "exit 0$took"
			passed=$((passed + 1))
		else
			report FAIL demo "$status (exit $rc)"
			failed=$((failed + 1))
		fi
		continue
	fi
	p=$(value pass "$line") f=$(value fail "$line") xf=$(value xfail "$line")
	xp=$(value xpass "$line") s=$(value skip "$line") e=$(value error "$line")
	bad=$((f + e + xp))
	passed=$((passed + p + xf))
	skipped=$((skipped + s))
	failed=$((failed + bad))
	counts="pass:$p fail:$f xfail:$xf xpass:$xp skip:$s error:$e$took"
	case "$status" in
	ok)
		if [ $((p + xf)) -eq 0 ] && [ "$s" -gt 0 ]; then
			report SKIP "$t" "$counts"
		else
			report PASS "$t" "$counts"
		fi
		;;
	*)
		[ "$bad" -gt 0 ] || failed=$((failed + 1))
		case "$status" in
		crash) why="crashed (signal $((rc - 128)))" ;;
		timeout) why="timed out (KPORT_TEST_TIMEOUT), killed" ;;
		no-totals) why="printed no '# Totals:' line (exit $rc)" ;;
		bad-exit) why="exit status $rc despite clean totals" ;;
		missing) why="binary missing in the guest" ;;
		not-run) why="not run (module did not load)" ;;
		*) why="exit $rc" ;;
		esac
		report FAIL "$t" "$why; $counts"
		;;
	esac
done

# The run itself.
notes=()
if [ "$booted" = 1 ] && [ "$boot_hangs" -gt 0 ]; then
	notes+=("boot: $boot_hangs boot(s) did not reach init within ${boot_timeout}s and were tried again (console.boot-hang-*.log)")
fi
if [ "$booted" != 1 ]; then
	problem "boot: the guest did not reach its init within ${boot_timeout}s, $boot_hangs time(s); the kernel hung or died while booting"
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	problem "hang: the VM did not finish within ${timeout}s; the watchdog killed QEMU"
elif [ "$qrc" != 0 ]; then
	problem "QEMU exited with status $qrc"
fi
while read -r line; do
	what=$(awk '{ print $3 }' <<<"$line")
	[ "$what" = kernel-log ] && continue	# judged below from the log itself
	problem "guest: ${line#kport-vm: check }"
done < <(grep -E '^kport-vm: check [^ ]+ fail' "$clean" || true)
required=(insmod rmmod taint)
case "$lane" in
debug) required+=(kmemleak lockdep fault-injection) ;;
kcsan) required+=(kcsan) ;;
esac
for what in "${required[@]}"; do
	if [ "$mode" != shell ] && grep -q '^kport-vm: KPORT_VM_' "$clean" &&
		! grep -qE "^kport-vm: check $what " "$clean"; then
		problem "guest: no '$what' check reported"
	fi
done

# Kernel messages: lines with a printk timestamp, on the live console or in
# the dmesg dump, that match a pattern.  Test output is not kernel output
# and is not scanned; the guest's own echo of bad lines is skipped, and so
# are the reports of injected allocation failures.
awk -f "$here/log-filter.awk" "$clean" "$clean" >"$scan"
# KCSAN reports (a line is on the console and in the dmesg dump: once each).
k_all=$(grep -E '\] BUG: KCSAN: ' "$clean" | sort -u | grep -c . || true)
k_ours=$(grep -E '\] BUG: KCSAN: ' "$scan" | sort -u | grep -c . || true)
if [ "$k_all" -gt "$k_ours" ]; then
	notes+=("kcsan: $((k_all - k_ours)) report(s) of data races outside kport, not judged (BUG: KCSAN in $log)")
fi
bad_lines=$(grep -E '\[ *[0-9]+\.[0-9]+\]' "$scan" | grep -v '^kport-vm:' |
	grep -E -f "$here/kernel-log-patterns" | awk '!seen[$0]++' || true)
if [ -n "$bad_lines" ] || grep -qE '^kport-vm: check kernel-log fail' "$clean"; then
	n=$(grep -c . <<<"$bad_lines" || true)
	problem "kernel log: $n suspicious line(s) (BUG/WARNING/Oops/KASAN/UBSAN/lockdep/...):"
	while read -r l; do
		[ -n "$l" ] && problems+=("    $l")
	done < <(head -n 40 <<<"$bad_lines")
fi

# Figures the tests printed ("kport-figure: ..."), in order, with the test
# that printed them.
figures=()
while IFS= read -r l; do
	figures+=("$l")
done < <(awk '
	/^kport-vm: run / { t = $3 }
	{ line = $0; sub(/^#? */, "", line) }
	line ~ /^kport-figure:/ { printf "%-14s %s\n", (t == "" ? "-" : t), line }
' "$clean")

# How long the guest took to boot (to its init) and to run.
boot=$(sed -n 's/^kport-vm: begin .* uptime=\([0-9.]*\).*/\1/p' "$clean" | head -n 1)

token=0
grep -qx 'kport-vm: KPORT_VM_SUCCESS' "$clean" && token=1
if [ "$token" = 0 ]; then
	if grep -qx 'kport-vm: KPORT_VM_FAILURE' "$clean"; then
		why="the guest reported failure"
	else
		why="no success token: the guest crashed, hung or stopped early"
	fi
	if [ "$failed" -eq 0 ]; then
		problem "$why"
	else
		problems+=("$why")
	fi
fi

{
	echo
	echo "==== kport VM $mode results, $lane lane ($log) ===="
	[ -z "$boot" ] || echo "  (init started ${boot}s after boot)"
	[ ${#summary[@]} -eq 0 ] || printf '%s\n' "${summary[@]}"
	if [ ${#figures[@]} -gt 0 ]; then
		echo "figures ($lane lane):"
		printf '  %s\n' "${figures[@]}"
	fi
	if [ ${#notes[@]} -gt 0 ]; then
		echo "notes:"
		printf '  %s\n' "${notes[@]}"
	fi
	if [ ${#problems[@]} -gt 0 ]; then
		echo "problems:"
		printf '  %s\n' "${problems[@]}"
	fi
	echo "$passed passed, $failed failed, $skipped skipped"
} | tee "$out/summary"
echo "$passed $failed $skipped" >"$out/totals"

[ "$failed" -eq 0 ] && [ "$token" = 1 ]
