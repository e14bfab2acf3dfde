# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Sourced by the init (PID 1, busybox sh) of every kport guest, as
# /lib/kport-vm.sh: selftests/vm/init (make check, demo, vm) and
# tools/bench/init (make bench).  selftests/vm/lib.sh packs it.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME

# vm_mount: what every guest mounts before anything else runs.
vm_mount() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/shm
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
}

# vm_poweroff: the end of every run.  Without ACPI (a sanitizer kernel may
# lack it) a power-off only halts: reboot instead, which QEMU (-no-reboot)
# takes as its exit.
vm_poweroff() {
	sync
	if [ -d /sys/firmware/acpi ]; then
		poweroff -f
	else
		reboot -f
	fi
	sleep 30
}
