# SPDX-License-Identifier: GPL-2.0
#
# Drop from a kernel log the lines of injected allocation failures, which
# are no kernel bug, and KCSAN's reports of data races that are not kport's,
# so that kernel-log-patterns ("Call Trace", ...) does not fail a run for
# them.  Everything else passes through unchanged.
#
#   awk -f log-filter.awk LOG LOG      (the same file twice: two passes)
#
# Used by the guest's init (busybox awk) on its dmesg and by check.sh on the
# whole serial log.  An injected failure (failslab, fail_page_alloc,
# fail-nth: CONFIG_FAULT_INJECTION) logs, from the failing task:
#
#   FAULT_INJECTION: forcing a failure.
#   name failslab, interval 1, probability 0, space 0, times 1
#   [a stack dump, if the attribute's verbose is 2]
#   [a warn_alloc() report: "COMM: vmalloc error: ..." or "COMM: page
#    allocation failure: ...", a stack dump and Mem-Info, if the caller
#    did not pass __GFP_NOWARN]
#
# Those lines are benign.  With CONFIG_PRINTK_CALLER (the debug kernel)
# each line carries its task ("[  12.345678][  T123] ..."), so a report of
# another task printed in between is never mistaken for part of the block;
# a line of the task that is not part of such a block ends it.  Pass one
# finds the benign lines; pass two prints the others.  A line is the same
# text (timestamp included) on the console and in the dmesg dump, so
# console copies of a stack whose NOTICE header only the dump has are
# dropped too.
#
# KCSAN (the kcsan lane) reports every data race it sees, the core kernel's
# own included (6.1 has some: they are upstream's to fix, not this
# project's).  A report is a block of one task's lines between two rules of
# '=' signs, "BUG: KCSAN: ..." first, then for each of the two accesses (or
# the one seen, "race at unknown origin, with ...") a line "read|write ...
# to 0x... of N bytes by task|interrupt ..." and its stack.  It is kport's when one of the accesses is made in kport's code:
# the first frame of its stack is a kport function ("[kport]"); those
# stay.  A kport frame deeper down (kport's copy_to_user() taking a fault
# that races inside mm/, say) does not make it kport's.  The others are
# dropped; check.sh counts them in its notes.

# split_line(LINE): sets caller (the "[T123]" or "[C1]" field, or "") and msg
# (the text after the timestamp and caller).
function split_line(line) {
	caller = ""
	msg = line
	sub(/\r$/, "", msg)
	if (match(msg, /^\[ *[0-9]+\.[0-9]+\]/)) {
		msg = substr(msg, RSTART + RLENGTH)
		if (match(msg, /^\[ *[TC][0-9]+\]/)) {
			caller = substr(msg, RSTART, RLENGTH)
			gsub(/ /, "", caller)
			msg = substr(msg, RSTART + RLENGTH)
		}
		sub(/^ /, "", msg)
		return 1
	}
	return 0
}

function dump_line(m) {
	return m ~ /^CPU: [0-9]+ PID: [0-9]+ Comm: / ||
		m ~ /^Hardware name: / ||
		m ~ /^Call Trace:/ ||
		m ~ /^ *<\/?(TASK|IRQ|NMI|SOFTIRQ|EOI)>/ ||
		m ~ /^ *(\? )?[A-Za-z0-9_.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+/ ||
		m ~ /^ *(\? )?0x[0-9a-f]+ *$/ ||
		m ~ /^(RIP: 0033:|Code: |RSP: 002b:|RAX: |RDX: |RBP: |R10: |R13: )/
}

# kcsan_line(): pass one's handling of a line of a task after a rule or
# inside a KCSAN report (kstate[caller] set); 0 if the line is not a
# report's, for the rest of pass one.
function kcsan_line(   i) {
	if (kstate[caller] == "rule") {
		if (msg ~ /^BUG: KCSAN: /) {
			kstate[caller] = "report"
			kn[caller] = 1
			kline[caller, 1] = krule[caller]
		} else {
			delete kstate[caller]
			return 0
		}
	}
	kline[caller, ++kn[caller]] = $0
	if (ktop[caller]) {
		# The first frame of an access's stack: where it was made.
		delete ktop[caller]
		if (index(msg, "[kport]"))
			kours[caller] = 1
	} else if (msg ~ /^(race at unknown origin, with )?(read|write).* to 0x[0-9a-f]+ of [0-9]+ bytes by /) {
		ktop[caller] = 1
	}
	if (msg ~ /^=+$/ && length(msg) >= 40 && kn[caller] > 2) {
		if (!kours[caller])
			for (i = 1; i <= kn[caller]; i++)
				benign[kline[caller, i]] = 1
		delete kstate[caller]
		delete kours[caller]
		delete ktop[caller]
	}
	return 1
}

NR == FNR {
	if (!split_line($0))
		next
	if ((caller in kstate) && kcsan_line())
		next
	if (msg ~ /^=+$/ && length(msg) >= 40) {
		kstate[caller] = "rule"
		krule[caller] = $0
		next
	}
	st = state[caller]
	if (msg ~ /FAULT_INJECTION: forcing a failure/) {
		state[caller] = "injected"
		benign[$0] = 1
	} else if (st == "") {
		next
	} else if (msg ~ /^name [a-z_]+, interval [0-9]+, probability /) {
		benign[$0] = 1
	} else if (msg ~ /(page allocation failure|vmalloc error): /) {
		benign[$0] = 1
		state[caller] = "warn_alloc"
	} else if (dump_line(msg)) {
		benign[$0] = 1
		# After warn_alloc's stack comes show_mem(): lines no pattern
		# matches, they need no filtering; the block is over.
		if (msg ~ /<\/TASK>/ && st == "warn_alloc")
			delete state[caller]
	} else {
		delete state[caller]
	}
	next
}

!($0 in benign)
