# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The host side of the kport QEMU harness, sourced (not run) by
# selftests/vm/run.sh (make check, check-debug, check-kcsan, check-kernels,
# demo, vm) and tools/bench/run-vm.sh (make bench), so that both find,
# pack, boot and watch a guest the same way.  Each caller keeps what is its
# own: the guest's init and configuration, the files besides kport.ko, the
# machine (CPUs, icount), and how it reads the serial log.
#
# The caller sets vm_name (the prefix of its messages: "vm", "bench") first.
#
#   vm_die MSG...        "vm_name: MSG" on stderr, exit 1
#   vm_quote S           S quoted for the guests' sh configuration files
#   vm_prepare KVER KERNEL MODULE KSRC BUILD
#                        checks the inputs and sets vm_kernel (KERNEL, or
#                        /boot/vmlinuz-KVER; a readable copy of a root-only
#                        one), vm_module, vm_ko (the module's path in the
#                        guest), vm_qemu and vm_cpio_tool (the kernel's
#                        gen_init_cpio, built from KSRC into BUILD/vm/)
#   vm_initramfs OUT INIT CONF CONF_DEST [SRC:DEST[:MODE]...]
#                        packs OUT with INIT as /init, CONF at CONF_DEST,
#                        the guest library (guest-lib.sh), kport.ko at
#                        vm_ko and the entries (mkinitramfs.sh)
#   vm_append LOGLEVEL   the kernel command line every guest starts from
#   vm_qemu_cmd CPU MEM INITRD APPEND [QEMU ARGUMENT...]
#                        sets vm_cmd, QEMU's command line without its serial
#                        port
#   vm_boot LOG TIMEOUT MARK BOOT_TIMEOUT FILTER...
#                        one run of vm_cmd (see below)
#
# Environment: QEMU (qemu-system-x86_64), HOSTCC (gcc), KPORT_CACHE.

vm_lib=$(dirname "${BASH_SOURCE[0]}")
vm_lib=$(readlink -f "$vm_lib")
: "${vm_name:=vm}"

vm_die() {
	echo "$vm_name: $*" >&2
	exit 1
}

vm_quote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

vm_prepare() {
	local kver=$1 kernel=$2 ksrc=$4 build=$5 cache copy
	vm_module=$3
	vm_qemu=${QEMU:-qemu-system-x86_64}
	[ -n "$kernel" ] || kernel=/boot/vmlinuz-$kver
	[ -e "$kernel" ] || vm_die "no kernel at $kernel (KERNEL=, or make deps for linux-image-amd64)"
	if [ ! -r "$kernel" ] && command -v sudo >/dev/null; then
		# Debian's /boot/vmlinuz-* are readable by root only: keep a copy.
		cache=${KPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kport}/boot
		copy=$cache/$(basename "$kernel")
		if [ ! -r "$copy" ] || [ "$kernel" -nt "$copy" ]; then
			echo "$vm_name: $kernel is readable by root only; copying it with sudo to $copy"
			mkdir -p "$cache"
			# shellcheck disable=SC2024 # the copy is to be the user's
			sudo cat "$kernel" >"$copy.tmp"
			mv "$copy.tmp" "$copy"
		fi
		kernel=$copy
	fi
	[ -r "$kernel" ] || vm_die "cannot read $kernel: run as root or pass a readable KERNEL="
	vm_kernel=$kernel
	[ -r "$vm_module" ] || vm_die "no module at '$vm_module' (make module)"
	vm_ko=/lib/modules/$kver/extra/kport.ko
	[ -r "$ksrc/usr/gen_init_cpio.c" ] || vm_die "--ksrc '$ksrc' has no usr/gen_init_cpio.c"
	command -v "$vm_qemu" >/dev/null || vm_die "$vm_qemu not found (make deps)"
	# The kernel's initramfs writer, built once per source tree.
	vm_cpio_tool=$build/vm/gen_init_cpio
	if [ ! -x "$vm_cpio_tool" ] || [ "$ksrc/usr/gen_init_cpio.c" -nt "$vm_cpio_tool" ]; then
		mkdir -p "$build/vm"
		${HOSTCC:-gcc} -O2 -o "$vm_cpio_tool" "$ksrc/usr/gen_init_cpio.c"
	fi
}

vm_initramfs() {
	local out=$1 init=$2 conf=$3 conf_dest=$4
	shift 4
	bash "$vm_lib/mkinitramfs.sh" --out "$out" --tool "$vm_cpio_tool" \
		"$init:/init:0755" "$conf:$conf_dest:0644" \
		"$vm_lib/guest-lib.sh:/lib/kport-vm.sh:0644" \
		"$vm_module:$vm_ko:0644" "$@"
}

# The console is the first serial port, which vm_boot writes to the log.
# An oops panics, and a panic (panic=-1) reboots at once, which QEMU
# (-no-reboot) takes as its exit: a dead guest ends the run, not a watchdog.
vm_append() {
	echo "console=ttyS0,115200 loglevel=$1 panic=-1 oops=panic rdinit=/init"
}

vm_qemu_cmd() {
	local cpu=$1 mem=$2 initrd=$3 append=$4
	shift 4
	vm_cmd=("$vm_qemu" -accel tcg -cpu "$cpu" -m "$mem" -nodefaults
		-no-user-config -display none -no-reboot
		-kernel "$vm_kernel" -initrd "$initrd" -append "$append" "$@")
}

# vm_boot LOG TIMEOUT MARK BOOT_TIMEOUT FILTER...: runs vm_cmd, stdin from
# /dev/null, the serial port written to LOG and shown through FILTER as it
# grows, under a watchdog of TIMEOUT seconds.  With a MARK (a grep pattern)
# a guest that has not printed it within BOOT_TIMEOUT seconds is stopped at
# once: nothing of the run has happened yet, and waiting out the whole
# watchdog would only waste it.  Sets vm_qrc (QEMU's exit status, 124 if
# the watchdog killed it), vm_booted (1 once MARK is in LOG), vm_secs (how
# long it took) and vm_interrupted (1 if SIGINT or SIGTERM stopped it).
# shellcheck disable=SC2034 # the vm_ variables are the caller's results
vm_boot() {
	local log=$1 timeout=$2 mark=$3 boot_timeout=$4 t0=$SECONDS qpid tailpid
	shift 4
	: >"$log"
	vm_booted=0 vm_qrc=0 vm_interrupted=0
	timeout --kill-after=10 "$timeout" "${vm_cmd[@]}" \
		-chardev "file,id=ser0,path=$log,append=on" -serial chardev:ser0 \
		</dev/null &
	qpid=$!
	trap 'kill "$qpid" 2>/dev/null; vm_interrupted=1' INT TERM
	tail -n +1 -f --pid="$qpid" "$log" | "$@" &
	tailpid=$!
	while [ -n "$mark" ] && kill -0 "$qpid" 2>/dev/null; do
		grep -q "$mark" "$log" && break
		if [ $((SECONDS - t0)) -ge "$boot_timeout" ]; then
			echo "$vm_name: the guest did not reach its init within ${boot_timeout}s; stopping QEMU"
			kill "$qpid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$qpid" || vm_qrc=$?
	wait "$tailpid" || true
	trap - INT TERM
	if [ -n "$mark" ] && grep -q "$mark" "$log"; then
		vm_booted=1
	fi
	vm_secs=$((SECONDS - t0))
}
