// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kport: one line per port, for kportctl list and for people.
 *
 * Locking: the listing takes kport_table_lock (via kport_ports_show()),
 * then each port's lock for its counters.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "kport.h"

static struct proc_dir_entry *kport_proc;

static int kport_proc_show(struct seq_file *m, void *v)
{
	kport_ports_show(m);
	return 0;
}

/**
 * kport_procfs_init() - create /proc/kport
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int kport_procfs_init(void)
{
	kport_proc = proc_create_single("kport", 0444, NULL, kport_proc_show);
	return kport_proc ? 0 : -ENOMEM;
}

/**
 * kport_procfs_exit() - remove /proc/kport, waiting for readers to finish
 *
 * Context: module exit.
 */
void kport_procfs_exit(void)
{
	proc_remove(kport_proc);
}
