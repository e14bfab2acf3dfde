#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: a guided tour of kport, run as root with kport.ko loaded and
# kportctl, prodcons, rendezvous, inbox and bigmsg in PATH (or in
# $KPORT_BIN).
# Written for busybox sh.  Each scene explains itself, runs, and checks
# that the kernel behaved as described: the script exits non-zero at the
# first scene that does not, so it doubles as a smoke test.  The last
# line is "kport demo: PASS" or "kport demo: FAIL: why".

set -eu

[ -n "${KPORT_BIN:-}" ] && PATH=$KPORT_BIN:$PATH

T=${TMPDIR:-/tmp}/kport-demo.$$
PORTS="demo.jobs demo.rendezvous demo.mailbox demo.owned demo.big"
owner=
peer=
scene=setup
failed=

heading() {
	scene=$*
	printf '\n=== %s ===\n' "$*"
}

say() {
	printf '%s\n' "$*"
}

# Echo a command the way one would type it, then run it.
show() {
	line='$'
	for a in "$@"; do
		case $a in
		*' '* | '') line="$line '$a'" ;;
		*) line="$line $a" ;;
		esac
	done
	printf '%s\n' "$line"
}

run() {
	show "$@"
	"$@"
}

fail() {
	printf 'kport demo: FAIL: %s\n' "$*"
	failed=1
	exit 1
}

# expect_fail ERRNO CMD...: CMD must fail (exit status 1) naming ERRNO.
expect_fail() {
	want=$1
	shift
	show "$@"
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	cat "$T/out" "$T/err"
	[ "$rc" -eq 1 ] || fail "'$*' exited with status $rc, expected 1"
	grep -q "($want)" "$T/err" || fail "'$*' did not fail with $want"
}

# stat_field PORT KEY: the value of one line of "kportctl stat PORT".
stat_field() {
	kportctl stat "$1" 2>/dev/null | sed -n "s/^$2: *//p"
}

field_is() {
	[ "$(stat_field "$1" "$2")" = "$3" ]
}

port_exists() {
	kportctl stat "$1" >/dev/null 2>&1
}

# pool_stat PORT: the queue and pool lines of "kportctl stat PORT".
pool_stat() {
	printf '$ kportctl stat %s | grep -E %s\n' "$1" "'^(queued|pool|slices)'"
	kportctl stat "$1" | grep -E '^(queued|pool|slices)'
}

# wait_for WHAT CMD...: retry CMD for up to 10 s.
wait_for() {
	what=$1
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || fail "timed out waiting for $what"
		sleep 0.05
	done
}

# CLOCK_BOOTTIME in centiseconds, from /proc/uptime ("123.45 ...").
now_cs() {
	read -r up _ </proc/uptime
	# "1" prefix: a fraction like "05" must not be read as octal.
	echo $((${up%.*} * 100 + 1${up#*.} - 100))
}

cleanup() {
	[ -n "$owner" ] && kill "$owner" 2>/dev/null
	[ -n "$peer" ] && kill "$peer" 2>/dev/null
	for p in $PORTS; do
		kportctl delete "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}

on_exit() {
	rc=$?
	set +e
	cleanup
	if [ "$rc" -ne 0 ] && [ -z "$failed" ]; then
		printf 'kport demo: FAIL: a command failed in scene "%s"\n' "$scene"
	fi
	exit "$rc"
}

for cmd in kportctl prodcons rendezvous inbox bigmsg; do
	command -v "$cmd" >/dev/null || fail "$cmd is not in PATH"
done
[ -c /dev/kport ] || fail "/dev/kport is missing: load kport.ko first"
mkdir -p "$T"
trap on_exit EXIT
trap 'exit 130' INT TERM
# Leftovers of an interrupted run would make the creates fail.
for p in $PORTS; do
	kportctl delete "$p" 2>/dev/null || true
done

heading "kport: mailboxes in the kernel"
say "A port is a kernel object that holds messages.  A process creates or"
say "opens one through /dev/kport and gets a file descriptor for it (a handle)"
say "with which it sends and receives whole messages.  kportctl does this"
say "from the shell; the other programs here use libkport.  Small messages"
say "are copied through the kernel; large ones can travel through a port's"
say "shared-memory pool, read in place by the receiver (scene 7)."
run kportctl version

# ---------------------------------------------------------------------------
heading "1. A bounded queue: one producer, two consumers"
say "demo.jobs holds at most 4 messages.  The producer is faster than the"
say "two consumers, so it has to wait for room; every message goes to"
say "exactly one consumer, in order."
run kportctl create demo.jobs --capacity 4 --msg-size 64
run prodcons demo.jobs
say "12 jobs and 2 'stop' messages went through:"
field_is demo.jobs sent 14 || fail "demo.jobs: sent is not 14"
field_is demo.jobs received 14 || fail "demo.jobs: received is not 14"
field_is demo.jobs "queued messages" 0 || fail "demo.jobs is not empty"
say "sent 14, received 14, none left queued."

# ---------------------------------------------------------------------------
heading "2. Capacity 0: a rendezvous"
say "A port of capacity 0 stores nothing: a send completes only when a"
say "receiver takes the message from the sender's hands."
run kportctl create demo.rendezvous --capacity 0
run rendezvous demo.rendezvous

# ---------------------------------------------------------------------------
heading "3. Not waiting: a non-blocking receive"
run kportctl create demo.mailbox
say "demo.mailbox is empty, so a receive that must not wait fails at once:"
expect_fail EAGAIN kportctl recv demo.mailbox --nonblock
say "Messages come out highest priority first, first-in first-out within"
say "a priority.  -v shows who sent each one:"
run kportctl send demo.mailbox "low priority" --priority 1
run kportctl send demo.mailbox "high priority" --priority 7
run kportctl send demo.mailbox "low, second" --priority 1
for want in "high priority" "low priority" "low, second"; do
	show kportctl recv demo.mailbox --nonblock -v
	got=$(kportctl recv demo.mailbox --nonblock -v)
	say "$got"
	[ "$got" = "$want" ] || fail "received '$got', expected '$want'"
done

# ---------------------------------------------------------------------------
heading "4. Waiting a little: a receive with a timeout"
say "Nobody sends to demo.mailbox now: a receive that waits at most 500 ms"
say "gives up with ETIMEDOUT."
t0=$(now_cs)
expect_fail ETIMEDOUT kportctl recv demo.mailbox --timeout 500
elapsed=$((($(now_cs) - t0) * 10))
say "(kportctl returned after about $elapsed ms)"
[ "$elapsed" -ge 450 ] || fail "the receive gave up after $elapsed ms, not 500"

# ---------------------------------------------------------------------------
heading "5. A process-owned port dies with its owner"
say "Ports are kernel-owned by default: they stay until deleted.  With"
say "--process, a port belongs to the process that created it and is deleted"
say "when that process exits; whoever waits on it then gets EIDRM."
show kportctl create demo.owned --process --hold 30 "&"
kportctl create demo.owned --process --hold 30 &
owner=$!
wait_for "demo.owned to appear" port_exists demo.owned
run kportctl stat demo.owned
field_is demo.owned "owner pid" "$owner" ||
	fail "demo.owned: owner pid is not $owner"
say "A peer starts receiving on it and blocks:"
show kportctl recv demo.owned "&"
kportctl recv demo.owned >"$T/peer.out" 2>"$T/peer.err" &
peer=$!
wait_for "the peer to block" field_is demo.owned "receivers waiting" 1
say "Now the owner (pid $owner) exits:"
run kill "$owner"
wait "$owner" || true
owner=
rc=0
wait "$peer" || rc=$?
peer=
say "The peer's receive failed:"
cat "$T/peer.out" "$T/peer.err"
[ "$rc" -eq 1 ] || fail "the peer exited with status $rc, expected 1"
grep -q '(EIDRM)' "$T/peer.err" || fail "the peer did not get EIDRM"
say "and the name is free again:"
expect_fail ENOENT kportctl stat demo.owned

# ---------------------------------------------------------------------------
heading "6. Direct naming: inboxes addressed by pid"
say "Each process may own one inbox, a port without a name that others open"
say "by the owner's pid.  Every message carries its sender's pid, so a"
say "server can reply to whoever wrote, and a receive can be limited to"
say "one sender."
run inbox

# ---------------------------------------------------------------------------
heading "7. Large payloads: the pool"
say "A port may have a pool, shared memory that receivers map read-only."
say "A message longer than the port's threshold is copied once by the"
say "kernel into a slice of the pool instead of through the queue; the"
say "receiver reads it where it lies and then releases the slice."
say "demo.big has an 8 MiB pool and takes messages of up to 4 MiB:"
run kportctl create demo.big --pool 8M --msg-size 4M --zero-copy
pool_stat demo.big
field_is demo.big "pool size" "8388608 bytes" || fail "demo.big: pool size is not 8 MiB"
say "Sending 4 MiB takes nothing special: the kernel sees that it is above"
say "the threshold and puts it in the pool."
show dd if=/dev/urandom of="$T/big" bs=1M count=4
dd if=/dev/urandom of="$T/big" bs=1M count=4 2>/dev/null
run kportctl send demo.big --file "$T/big"
pool_stat demo.big
field_is demo.big "queued messages" 1 || fail "demo.big: not 1 message queued"
field_is demo.big "pool used" "4194304 bytes" || fail "demo.big: pool used is not 4 MiB"
say "A second one fills the pool; a third finds no room and, told not to"
say "wait, fails (it would wait for room as for a full queue):"
run kportctl send demo.big --file "$T/big"
expect_fail EAGAIN kportctl send demo.big --file "$T/big" --nonblock
field_is demo.big "pool used" "8388608 bytes" || fail "demo.big: pool used is not 8 MiB"
say "kportctl recv maps the pool and writes each payload to the file"
say "straight from there (the kernel's copy is the only one), then releases"
say "the slice:"
for i in 1 2; do
	show kportctl recv demo.big --file "$T/big.$i" -v
	kportctl recv demo.big --file "$T/big.$i" -v 2>"$T/err"
	cat "$T/err"
	grep -q 'in place' "$T/err" || fail "the payload was not received in place"
	run cmp "$T/big" "$T/big.$i"
done
pool_stat demo.big
field_is demo.big "pool used" "0 bytes" || fail "demo.big: the pool is not free again"
field_is demo.big "slices held" 0 || fail "demo.big: slices still held"
say "bigmsg does it from C, in two processes, checking the counters at each"
say "step: first as above, then the zero-copy way (the port was created"
say "with --zero-copy): the sender borrows a slice, writes the payload into"
say "it through a writable mapping and posts it; no copy at all."
run bigmsg demo.big
pool_stat demo.big
field_is demo.big "pool used" "0 bytes" || fail "demo.big: the pool is not free again"
field_is demo.big sent 6 || fail "demo.big: sent is not 6"
field_is demo.big received 6 || fail "demo.big: received is not 6"

# ---------------------------------------------------------------------------
heading "8. Looking at ports"
say "kportctl stat shows a port's attributes and counters; one message is"
say "left waiting in demo.mailbox:"
run kportctl send demo.mailbox "for later"
for p in demo.jobs demo.rendezvous demo.mailbox; do
	run kportctl stat "$p"
done
field_is demo.mailbox "queued messages" 1 || fail "demo.mailbox: not 1 message queued"
field_is demo.mailbox "queued bytes" 9 || fail "demo.mailbox: not 9 bytes queued"
field_is demo.rendezvous capacity "0 (rendezvous)" || fail "demo.rendezvous: wrong capacity"
say "and /proc/kport lists every port:"
run kportctl list
say "Deleting a port drops what it still holds:"
for p in demo.jobs demo.rendezvous demo.mailbox demo.big; do
	run kportctl delete "$p"
done
run kportctl list
kportctl list | grep -q 'demo\.' && fail "demo ports are still listed"

printf '\nkport demo: PASS\n'
