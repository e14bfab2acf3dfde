// SPDX-License-Identifier: GPL-2.0
/*
 * What kport shows in /proc: /proc/kport, one line per port, for kportctl
 * list and for people; and a handle's fdinfo.
 *
 * Locking: the listing takes kport_table_lock (kport_ports_lock()),
 * then each port's lock for its counters (kport_queue_stat()).
 */
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/user_namespace.h>

#include "kport.h"

static struct proc_dir_entry *kport_proc;

static const char *kport_capacity_str(u32 capacity, char *buf, size_t size)
{
	if (capacity == KPORT_CAPACITY_UNBOUNDED)
		return "unbounded";
	snprintf(buf, size, "%u", capacity);
	return buf;
}

/* One line of /proc/kport; under kport_table_lock (kport_ports_lock()). */
static void kport_port_show(struct seq_file *m, struct kport_port *port)
{
	struct user_namespace *ns = seq_user_ns(m);
	struct kport_stat st;
	char cap[16];

	memset(&st, 0, sizeof(st));
	kport_queue_stat(port, &st);
	seq_printf(m, "%llu\t%s\t%s%s%s%s%s\t%04o\t%u\t%u\t%s\t%u\t%u\t%llu\t%u\t%u\t%d\t%zu\n",
		   port->id, port->name[0] ? port->name : "-",
		   port->flags & KPORT_CREATE_FIXED ? "F" : "-",
		   port->flags & KPORT_CREATE_PROCESS ? "P" : "-",
		   port->flags & KPORT_CREATE_INBOX ? "I" : "-",
		   port->flags & KPORT_CREATE_ZEROCOPY ? "Z" : "-",
		   st.status & KPORT_STATUS_DEAD ? "D" : "-",
		   port->mode, from_kuid_munged(ns, port->uid),
		   from_kgid_munged(ns, port->gid),
		   kport_capacity_str(port->capacity, cap, sizeof(cap)),
		   port->msg_size, st.nr_msgs, st.bytes,
		   st.send_waiters, st.recv_waiters,
		   atomic_read(&port->handles),
		   port->pool ? port->pool->size : 0);
}

/**
 * kport_handle_show_fdinfo() - a handle's lines in /proc/PID/fdinfo/FD
 * @m:    the seq_file.
 * @file: the handle.
 *
 * Context: process context.
 */
void kport_handle_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct kport_handle *h = file->private_data;

	seq_printf(m, "kport-id:\t%llu\n", h->port->id);
	seq_printf(m, "kport-name:\t%s\n", h->port->name);
	seq_printf(m, "kport-rights:\t%s%s\n",
		   h->rights & KPORT_RIGHT_SEND ? "send" : "",
		   h->rights & KPORT_RIGHT_RECV ?
		   (h->rights & KPORT_RIGHT_SEND ? ",recv" : "recv") : "");
	seq_printf(m, "kport-creator:\t%d\n", h->creator);
}

static int kport_proc_show(struct seq_file *m, void *v)
{
	struct list_head *ports;
	struct kport_port *port;

	seq_puts(m, "id\tname\tflags\tmode\tuid\tgid\tcapacity\tmsg_size\tmsgs\tbytes\tsenders\treceivers\thandles\tpool\n");
	ports = kport_ports_lock();
	list_for_each_entry(port, ports, all_node)
		kport_port_show(m, port);
	kport_ports_unlock();
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
