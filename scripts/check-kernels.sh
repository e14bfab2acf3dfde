#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-kernels: the whole selftest suite in QEMU on every supported
# kernel, each named by the Debian headers metapackage that points at it.
#
#   scripts/check-kernels.sh --ksrc KSRC --build DIR META...
#
# For each META (linux-headers-amd64, linux-headers-6.12-amd64, ...): the
# module is built from a copy of Kbuild, kernel/ and uapi/ in
# DIR/kernels/RELEASE/ against /lib/modules/RELEASE/build, then
# selftests/vm/run.sh boots /boot/vmlinuz-RELEASE with it (results in
# DIR/vm/kernels/RELEASE/).  One line of totals per kernel, with the
# release the guest's uname -r reported, then the sum as the last line,
# "N passed, N failed, N skipped", also written to
# DIR/vm/check-kernels/totals.  A kernel whose module does not build, or
# whose run reports no totals, counts as one failure.  Exit status 0 only
# if every kernel passed.
#
# Environment: what selftests/vm/run.sh takes (TESTS is passed as --tests).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."

ksrc='' build=build metas=()
while [ $# -gt 0 ]; do
	case "$1" in
	--ksrc) ksrc=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	-*) echo "check-kernels: unknown option $1" >&2; exit 2 ;;
	*) metas+=("$1"); shift ;;
	esac
done
if [ -z "$ksrc" ] || [ ${#metas[@]} -eq 0 ]; then
	echo "usage: $0 --ksrc KSRC [--build DIR] META..." >&2
	exit 2
fi

passed=0 failed=0 skipped=0 lines=()
for meta in "${metas[@]}"; do
	if ! kver=$(bash scripts/kver.sh --meta "$meta"); then
		lines+=("$meta: not installed (make deps): 1 failure")
		failed=$((failed + 1))
		continue
	fi
	mod=$build/kernels/$kver out=$build/vm/kernels/$kver
	rm -f "$out/totals"
	bash scripts/module-src.sh "$mod"
	echo "==== check-kernels: $kver ($meta)"
	if ! make -C "/lib/modules/$kver/build" M="$PWD/$mod" modules; then
		lines+=("$kver: the module did not build: 1 failure")
		failed=$((failed + 1))
		continue
	fi
	rc=0
	bash selftests/vm/run.sh --mode check --kernel "/boot/vmlinuz-$kver" \
		--kver "$kver" --module "$PWD/$mod/kport.ko" --ksrc "$ksrc" \
		--build "$build" --src . --out "$out" --tests "${TESTS:-}" || rc=$?
	guest=$(sed -n 's/^kport-vm: begin .* kernel=\([^ ]*\) .*/\1/p' \
		"$out/console.log" 2>/dev/null | head -n 1)
	if [ -r "$out/totals" ]; then
		read -r p f s <"$out/totals"
		[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		lines+=("$kver (uname -r: ${guest:-?}): $p passed, $f failed, $s skipped")
	else
		failed=$((failed + 1))
		lines+=("$kver (uname -r: ${guest:-?}): no totals (exit $rc): 1 failure")
	fi
done

mkdir -p "$build/vm/check-kernels"
echo "$passed $failed $skipped" >"$build/vm/check-kernels/totals"
echo
echo "==== kport check-kernels ===="
printf '  %s\n' "${lines[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
