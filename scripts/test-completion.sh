#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of tools/kportctl.bash, the bash completion, on the host: nothing
# here touches the module.  Port names come from a made-up /proc/kport
# (KPORTCTL_PROC).  Prints "N passed, N failed"; exits 1 on a failure.
#
#   scripts/test-completion.sh [COMPLETION-FILE]
set -uo pipefail

file=${1:-tools/kportctl.bash}
# shellcheck source=/dev/null # the file given, tools/kportctl.bash by default
. "$file" || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'id\tname\tflags\tmode\n1\talpha\t-----\t0600\n2\t-\t-----\t0600\n3\tbeta\tP----\t0644\n' \
	>"$tmp/kport"
export KPORTCTL_PROC=$tmp/kport
: >"$tmp/payload.bin"

pass=0 fail=0

# expect "WORDS TYPED" "EXPECTED COMPLETIONS": the last word is the one
# being completed (empty if the line ends in a space).
expect() {
	local line=$1 want=$2 got
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_kportctl
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
		echo "ok: '$line' -> '$got'"
	else
		fail=$((fail + 1))
		echo "FAIL: '$line': want '$want', got '$got'"
	fi
}

expect "kportctl " "--help --version chmod chown create delete help list recv send stat version"
expect "kportctl s" "send stat"
expect "kportctl recv " "alpha beta"
expect "kportctl recv a" "alpha"
expect "kportctl recv --nonblock " "alpha beta"
expect "kportctl recv --timeout 5 " "alpha beta"
expect "kportctl recv alpha " ""
expect "kportctl recv --inbox " ""
expect "kportctl recv --inbox 42 " ""
expect "kportctl recv --j" "--json"
expect "kportctl stat --" "--help --inbox --json"
expect "kportctl chmod " ""
expect "kportctl chmod 0640 " "alpha beta"
expect "kportctl chown 5:5 a" "alpha"
expect "kportctl chown 5 alpha " ""
expect "kportctl list --" "--help --json"
expect "kportctl create " ""
expect "kportctl create q --capacity u" "unbounded"
expect "kportctl help " "chmod chown create delete help list recv send stat version"
expect "kportctl help send " ""
expect "kportctl send alpha --file $tmp/payload.b" "$tmp/payload.bin"
# No /proc/kport (module not loaded): no names, and no error.
KPORTCTL_PROC=$tmp/missing expect "kportctl delete " ""
# The name column is found by the header, wherever it is.
printf 'name\tid\nzeta\t9\n' >"$tmp/kport"
expect "kportctl delete " "zeta"

# Names are other users' data: nothing in them is run or expanded, and
# each is offered quoted, so that the line the user then runs means it.
# shellcheck disable=SC2016 # the names are literal on purpose
hostile=('$(touch${IFS}pwned1)' '`touch${IFS}pwned2`' '$((1/0))' 'a;touch${IFS}pwned3'
	'~root' '{x,y}' 'q"r' "s'q" 'a*' '!!')
{
	printf 'id\tname\n'
	for n in "${hostile[@]}"; do printf '1\t%s\n' "$n"; done
} >"$tmp/kport"
if (
	cd "$tmp" || exit 1
	COMP_WORDS=(kportctl recv '')
	COMP_CWORD=2
	COMPREPLY=()
	_kportctl 2>"$tmp/stderr"
	want=()
	for n in "${hostile[@]}"; do want+=("$(printf '%q' "$n")"); done
	[ "${COMPREPLY[*]}" = "${want[*]}" ] || { echo "offered: ${COMPREPLY[*]}"; exit 1; }
	# Each offered word, as the shell reads it back, is the name.
	for i in "${!hostile[@]}"; do
		eval "back=${COMPREPLY[i]}"
		# shellcheck disable=SC2154 # set by the eval
		[ "$back" = "${hostile[i]}" ] || { echo "${COMPREPLY[i]} reads back as $back"; exit 1; }
	done
	! ls pwned* >/dev/null 2>&1 || { echo "a name was run"; exit 1; }
	! [ -s "$tmp/stderr" ] || { cat "$tmp/stderr"; exit 1; }
)
then
	pass=$((pass + 1))
	echo "ok: hostile port names are offered quoted and never run"
else
	fail=$((fail + 1))
	echo "FAIL: hostile port names"
fi

# Every option a command's synopsis names (kportctl help CMD, which needs
# no module) is one the completion offers: the two lists cannot drift.
kportctl=${KPORTCTL:-build/tools/kportctl}
if [ -x "$kportctl" ]; then
	printf 'id\tname\n1\talpha\n' >"$tmp/kport"
	for cmd in create delete send recv stat chmod chown list version; do
		COMP_WORDS=(kportctl "$cmd" --)
		COMP_CWORD=2
		COMPREPLY=()
		_kportctl
		offered=" ${COMPREPLY[*]} "
		missing=
		for opt in $("$kportctl" help "$cmd" | sed '/^$/q' | grep -o -- '--[a-z-]*' | sort -u); do
			[[ $offered == *" $opt "* ]] || missing+=" $opt"
		done
		if [ -z "$missing" ]; then
			pass=$((pass + 1))
			echo "ok: $cmd: the completion offers every option of its synopsis"
		else
			fail=$((fail + 1))
			echo "FAIL: $cmd: the completion lacks$missing"
		fi
	done
else
	fail=$((fail + 1))
	echo "FAIL: $kportctl not built: cannot compare the options (make tools)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
