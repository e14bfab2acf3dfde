// SPDX-License-Identifier: GPL-2.0
/*
 * What kport shows in /proc: /proc/kport, one line per port, for kportctl
 * list and for people; and a handle's fdinfo.
 *
 * /proc/kport lists the ports of one instance (inst.c): the one of the
 * IPC namespace its opener was in when it opened the file, whoever reads
 * it later.
 *
 * Locking: the listing takes kport_table_lock, then each port's lock for
 * its counters (kport_queue_stat()) and for its owner, group and mode
 * (kport_port_attrs()); all under one hold of the table, so that no port
 * comes or goes while it is listed.
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

/* One line of /proc/kport; under kport_table_lock. */
static void kport_port_show(struct seq_file *m, struct kport_port *port)
{
	struct user_namespace *ns = seq_user_ns(m);
	struct kport_stat st;
	char cap[16];

	memset(&st, 0, sizeof(st));
	kport_queue_stat(port, &st);
	kport_port_attrs(port, &st.mode, &st.uid, &st.gid, ns);
	seq_printf(m, "%llu\t%s\t%s%s%s%s%s\t%04o\t%u\t%u\t%s\t%u\t%u\t%llu\t%u\t%u\t%d\t%zu\n",
		   port->id, port->name[0] ? port->name : "-",
		   port->flags & KPORT_CREATE_FIXED ? "F" : "-",
		   port->flags & KPORT_CREATE_PROCESS ? "P" : "-",
		   port->flags & KPORT_CREATE_INBOX ? "I" : "-",
		   port->flags & KPORT_CREATE_ZEROCOPY ? "Z" : "-",
		   st.status & KPORT_STATUS_DEAD ? "D" : "-",
		   st.mode, st.uid, st.gid,
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
	struct kport_inst *inst = m->private;
	struct kport_port *port;

	seq_puts(m, "id\tname\tflags\tmode\tuid\tgid\tcapacity\tmsg_size\tmsgs\tbytes\tsenders\treceivers\thandles\tpool\n");
	mutex_lock(&kport_table_lock);
	list_for_each_entry(port, &inst->ports, all_node)
		kport_port_show(m, port);
	mutex_unlock(&kport_table_lock);
	return 0;
}

/*
 * The opener's instance, for every read of this file: made if its
 * namespace has none yet, so that a file opened before the namespace's
 * first port shows the ports made after.
 */
static int kport_proc_open(struct inode *inode, struct file *file)
{
	struct kport_inst *inst = kport_inst_get(true);
	int ret;

	if (IS_ERR(inst))
		return PTR_ERR(inst);
	ret = single_open(file, kport_proc_show, inst);
	if (ret)
		kport_inst_put(inst);
	return ret;
}

static int kport_proc_release(struct inode *inode, struct file *file)
{
	struct kport_inst *inst = ((struct seq_file *)file->private_data)->private;

	kport_inst_put(inst);
	return single_release(inode, file);
}

static const struct proc_ops kport_proc_ops = {
	.proc_open	= kport_proc_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= kport_proc_release,
};

/**
 * kport_procfs_init() - create /proc/kport
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int kport_procfs_init(void)
{
	kport_proc = proc_create("kport", 0444, NULL, &kport_proc_ops);
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
