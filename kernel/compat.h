/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that knows which kernel kport is built for.  Each shim
 * names the change it papers over and the release that made it, and
 * tests for the feature (an #ifdef of a macro, or a KPORT_HAVE_* that
 * Kbuild's compile tests define), never for the version: distributions
 * backport.  Everything else in kernel/ is written for the newest kernel.
 */
#ifndef KPORT_COMPAT_H
#define KPORT_COMPAT_H

#include <linux/file.h>
#include <linux/mm.h>

/* 6.12 made struct fd opaque: fd_file() reads its file. */
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

/* 6.3 made vma->vm_flags read-only, written through these. */
#ifndef KPORT_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* KPORT_COMPAT_H */
