# SPDX-License-Identifier: GPL-2.0
#
# kport: the module (through Kbuild), libkport, the tools, the selftests,
# the examples, lint, and the QEMU test harness.  `make help` lists the
# targets and variables.

ifneq ($(KERNELRELEASE),)
$(error kbuild read the top-level Makefile: the Kbuild file is missing)
endif

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DEFAULT_GOAL := all
# make's one-letter options (n for -n), read before the line below adds a
# long one: when there is no short option, MAKEFLAGS starts with a long
# one, and "n" would be found in "--no-print-directory".
MAKE_SHORT_OPTS := $(filter-out --%,$(firstword $(MAKEFLAGS)))
MAKEFLAGS += --no-print-directory

VERSION   := 0.2.0
SOVERSION := 1

# ---- The kernel -------------------------------------------------------------
# KVER is the release we build against and boot in the VM.  By default it is
# the one Debian's linux-headers-amd64 metapackage points at (not `uname -r`:
# the host may run another kernel), else the running kernel if its headers
# are installed; with KDIR given, the release of that tree.  Both are
# computed on first use only (after `deps` has run), then cached.
ifeq ($(origin KDIR),undefined)
KVER ?= $(eval KVER := $(or $(shell bash scripts/kver.sh),\
	$(error cannot tell KVER: give KDIR=, or install the kernel headers)))$(KVER)
KDIR  = $(eval KDIR := $(firstword $(wildcard /lib/modules/$(KVER)/build) \
			  /usr/src/linux-headers-$(KVER)))$(KDIR)
else
KVER ?= $(eval KVER := $(or $(shell bash scripts/kver.sh $(KDIR)),\
	$(error cannot tell KVER from KDIR=$(KDIR))))$(KVER)
endif
# The kernel the VM boots: always the one matching the headers.
KERNEL ?= /boot/vmlinuz-$(KVER)
# A kernel source tree, for the selftests (kselftest_harness.h), lint
# (checkpatch.pl) and the VM (gen_init_cpio): Debian's linux-source-6.1,
# unpacked once under ~/.cache/kport/.  Only those need it, not the build.
KSRC ?= $(eval KSRC := $(or $(shell bash scripts/ksrc.sh),\
	$(error no kernel source: run make deps, or give KSRC=)))$(KSRC)

# ---- Userspace --------------------------------------------------------------
CC      ?= gcc
AR      ?= ar
CFLAGS  ?= -O2 -g
LDLIBS  ?= -lm
# uapi/ first, so that <linux/kport.h> is ours and not an installed one.
# WERROR= turns warnings back into warnings (the Debian packages do: a
# newer compiler's new warning must not fail a distribution's build).
WERROR ?= -Werror
KPORT_CFLAGS = -Iuapi -Ilib -D_GNU_SOURCE -pthread -Wall -Wextra $(WERROR) \
	       $(CPPFLAGS) $(CFLAGS)
SELFTEST_CFLAGS = $(KPORT_CFLAGS) -Iselftests \
		  -isystem $(KSRC)/tools/testing/selftests

B := build
LIB_SRCS  := $(wildcard lib/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
LIB_A     := $(B)/lib/libkport.a
LIB_SO    := $(B)/lib/libkport.so
LIB_SONAME := libkport.so.$(SOVERSION)
LIB_MAP   := lib/libkport.map
TOOLS     := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c)) \
	     $(B)/tools/kport-bench
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(B)/%.o)
SELFTESTS := $(patsubst selftests/%.c,$(B)/selftests/%,$(wildcard selftests/*.c))
# A selftest of several files: a directory selftests/NAME/ of .c and .h
# files, one program NAME beside the others (but selftests/vm/, the VM
# harness: its kport-ctr.c is a helper, VM_TOOLS).
SELFTEST_DIRS := $(filter-out vm,$(patsubst selftests/%/,%,$(sort $(dir $(wildcard selftests/*/*.c)))))
SELFTESTS += $(SELFTEST_DIRS:%=$(B)/selftests/%)
EXAMPLES  := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
LIB_HDRS  := uapi/linux/kport.h lib/kport.h
SELFTEST_HDRS := $(wildcard selftests/*.h)
# Helpers of the VM harness, in the guest at /usr/libexec/kport/.
VM_TOOLS  := $(B)/vm-tools/kport-ctr

# ---- Install ----------------------------------------------------------------
# /usr/local, as for anything installed by hand, so that `make install`
# and the Debian packages (which pass PREFIX=/usr, the multiarch LIBDIR and
# UDEVRULESDIR=/lib/udev/rules.d) never write the same files.  LIBDIR:
# LIBDIR=/usr/local/lib64 where the distribution's loader wants lib64.
DESTDIR ?=
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
LIBEXECDIR ?= $(PREFIX)/libexec
# Where bash-completion looks for completions to load on demand.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MANDIR  ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /etc/udev/rules.d
MODDIR   = /lib/modules/$(KVER)/extra
# The uapi header's copy goes under INCDIR/kport/, as libdrm does with its
# copy of drm.h: /usr/include/linux/ is linux-libc-dev's, the headers of the
# kernel proper, and kport is not in it.  pkg-config adds -I INCDIR/kport.
UAPI_INCDIR = $(INCDIR)/kport
# The man pages (man/), by section.  A .so link page is installed as the
# file it is: man reads it as the page it names.
MAN_PAGES := $(wildcard man/*.[1-9])
MAN_SECTIONS := $(sort $(subst .,,$(suffix $(MAN_PAGES))))

# ---- Test VM ----------------------------------------------------------------
# make check TESTS="abi capacity" KPORT_TEST_ARGS="-t name" ...
TESTS ?=
export KPORT_TEST_ARGS KPORT_TEST_TIMEOUT KPORT_INSMOD_ARGS VM_TIMEOUT \
       VM_MEM VM_SMP VM_CPU VM_APPEND QEMU QEMU_ARGS
VM = bash selftests/vm/run.sh --kernel $(KERNEL) --kver $(KVER) \
     --module $(CURDIR)/kport.ko --ksrc $(KSRC) --build $(B) --src .

.PHONY: all module lib tools selftests examples deps deps-check install \
	install-selftests uninstall clean deb check-deb check check-container check-debug check-kcsan check-kernels check-dkms debug-kernel kcsan-kernel demo vm bench lint \
	lint-checkpatch lint-w1 lint-sparse lint-uapi lint-abi lint-shell lint-man help

# Building needs a C compiler, make and the target kernel's headers, on
# any distribution: nothing here installs packages.  The selftests also
# need a kernel source tree (KSRC); the test lanes build them.
all: module lib tools examples

# Debian packages are installed by scripts/deps.sh alone (`make deps`),
# and run first only by the targets that need Debian's kernels or tools
# (DEPS_GOALS below): the QEMU lanes, lint, the sanitizer kernels, the
# packages.
deps:
	bash scripts/deps.sh
	@echo "deps: all $$(bash scripts/deps.sh --list | wc -l) packages installed"

deps-check:
	@bash scripts/deps.sh --check

# When one of these is a goal, scripts/deps.sh runs once, while make reads
# this file and so before any rule: even with -j, no compiler runs before
# it is installed.  `make -n` installs nothing.
DEPS_GOALS := check check-container check-debug check-kcsan check-kernels check-dkms demo vm \
	      bench lint lint-% debug-kernel kcsan-kernel deb check-deb
ifneq ($(filter $(DEPS_GOALS),$(MAKECMDGOALS)),)
ifeq ($(MAKELEVEL)$(findstring n,$(MAKE_SHORT_OPTS)),0)
DEPS_STATUS := $(shell bash scripts/deps.sh >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error scripts/deps.sh failed (exit $(DEPS_STATUS)))
endif
endif
endif

# ---- Module -----------------------------------------------------------------
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# ---- libkport ---------------------------------------------------------------
lib: $(LIB_A) $(LIB_SO)

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# Exported: what lib/libkport.map lists, each symbol versioned
# (scripts/lint.sh "abi" checks the map against lib/kport.h).
$(B)/lib/$(LIB_SONAME): $(LIB_OBJS) $(LIB_MAP)
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=$(LIB_MAP) -Wl,-z,defs -o $@ \
		$(LIB_OBJS) -pthread

$(LIB_SO): $(B)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

# Made afresh each time (FORCE), rewritten only when it changes, so that
# another PREFIX or LIBDIR is never installed with a stale file.
.PHONY: FORCE
$(B)/libkport.pc: lib/libkport.pc.in FORCE
	@mkdir -p $(@D)
	@sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCDIR@|$(INCDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# ---- Programs: one per .c file, and kport-bench ----------------------------
# Linked with the static libkport, so that they run from build/ and in the
# VM as they are; TOOLS_LINK=shared links the tools with libkport.so.1
# instead (the Debian package does).
TOOLS_LINK ?= static
ifeq ($(TOOLS_LINK),shared)
TOOLS_LIB = $(LIB_SO)
TOOLS_LDLIBS = -L$(B)/lib -lkport
else
TOOLS_LIB = $(LIB_A)
TOOLS_LDLIBS = $(LIB_A)
endif

tools: $(TOOLS)
selftests: $(SELFTESTS) $(VM_TOOLS)
examples: $(EXAMPLES)

$(B)/tools/%: tools/%.c $(TOOLS_LIB)
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) -DKPORT_VERSION=\"$(VERSION)\" $(LDFLAGS) -MMD -MP -o $@ $< \
		$(TOOLS_LDLIBS) $(LDLIBS)

# kport-bench: the files of tools/bench/ (bench.h lists them), linked as
# the other tools are.
$(B)/tools/bench/%.o: tools/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tools/kport-bench: $(BENCH_OBJS) $(TOOLS_LIB)
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) $(LDFLAGS) -o $@ $(BENCH_OBJS) $(TOOLS_LDLIBS) $(LDLIBS)

$(B)/vm-tools/%: selftests/vm/%.c
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $<

$(B)/examples/%: examples/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(KPORT_CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(LIB_A) $(LDLIBS)

$(B)/selftests/%: selftests/%.c $(SELFTEST_HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(LIB_A) $(LDLIBS)

# A directory's objects go under $(B)/obj/: $(B)/selftests/ holds only
# programs, each of which the VM runs.
$(B)/obj/selftests/%.o: selftests/%.c $(SELFTEST_HDRS) $(wildcard selftests/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) -MMD -MP -c -o $@ $<

$(foreach d,$(SELFTEST_DIRS),$(eval $(B)/selftests/$(d): \
	$(patsubst %.c,$(B)/obj/%.o,$(wildcard selftests/$(d)/*.c))))
$(SELFTEST_DIRS:%=$(B)/selftests/%): $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LDLIBS)

# Not a .d left from when a program that is now a directory of files
# (kport-bench, a selftest) was one file: it names a source that is gone.
-include $(filter-out $(B)/tools/kport-bench.d $(SELFTEST_DIRS:%=$(B)/selftests/%.d),\
	   $(wildcard $(B)/*/*.d $(B)/tools/bench/*.d)) \
	 $(wildcard $(B)/obj/*/*/*.d)

# ---- Install ----------------------------------------------------------------
# install = install-module install-lib install-tools install-admin
# install-man; the Debian packages (debian/rules) take the pieces they
# hold.  The man pages go under MANDIR (PREFIX/share/man).  The module
# goes to /lib/modules/KVER/extra, then depmod (unless DESTDIR).  The
# admin files (admin/): the udev rule for /dev/kport, and the opt-in
# modules-load.d snippet, which loads kport at boot only once an
# administrator links it into /etc/modules-load.d/.
.PHONY: install-module install-lib install-tools install-admin install-man
install: install-module install-lib install-tools install-admin install-man

install-module: module
	install -D -m 0644 kport.ko $(DESTDIR)$(MODDIR)/kport.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

install-lib: lib $(B)/libkport.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(UAPI_INCDIR)/linux
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(B)/lib/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libkport.so
	install -m 0644 $(B)/libkport.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 lib/kport.h $(DESTDIR)$(INCDIR)/kport.h
	install -m 0644 uapi/linux/kport.h $(DESTDIR)$(UAPI_INCDIR)/linux/kport.h
	$(if $(DESTDIR),,ldconfig)

install-tools: tools
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -D -m 0644 tools/kportctl.bash $(DESTDIR)$(BASHCOMPDIR)/kportctl

install-admin:
	install -D -m 0644 admin/60-kport.rules $(DESTDIR)$(UDEVRULESDIR)/60-kport.rules
	install -D -m 0644 admin/kport-modules-load.conf \
		$(DESTDIR)$(PREFIX)/share/kport/modules-load.d/kport.conf

install-man:
	install -d $(foreach n,$(MAN_SECTIONS),$(DESTDIR)$(MANDIR)/man$(n))
	$(foreach n,$(MAN_SECTIONS),install -m 0644 $(filter %.$(n),$(MAN_PAGES)) \
		$(DESTDIR)$(MANDIR)/man$(n)/;)

# The selftests, to run as root on a machine with the module loaded (they
# need KSRC to build: make deps, or KSRC=).
install-selftests: selftests
	install -d $(DESTDIR)$(LIBEXECDIR)/kport/selftests
	install -m 0755 $(SELFTESTS) $(DESTDIR)$(LIBEXECDIR)/kport/selftests/

# uninstall: with the same variables as install (the module: KVER or KDIR).
.PHONY: uninstall-module uninstall-files
uninstall: uninstall-files uninstall-module

uninstall-module:
	rm -f $(DESTDIR)$(MODDIR)/kport.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall-files:
	rm -f $(TOOLS:$(B)/tools/%=$(DESTDIR)$(BINDIR)/%) \
		$(DESTDIR)$(LIBDIR)/libkport.a $(DESTDIR)$(LIBDIR)/libkport.so \
		$(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libkport.pc \
		$(DESTDIR)$(INCDIR)/kport.h $(DESTDIR)$(UAPI_INCDIR)/linux/kport.h \
		$(DESTDIR)$(UDEVRULESDIR)/60-kport.rules \
		$(DESTDIR)$(PREFIX)/share/kport/modules-load.d/kport.conf \
		$(DESTDIR)$(BASHCOMPDIR)/kportctl \
		$(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	-rmdir $(DESTDIR)$(UAPI_INCDIR)/linux $(DESTDIR)$(UAPI_INCDIR) \
		$(DESTDIR)$(PREFIX)/share/kport/modules-load.d \
		$(DESTDIR)$(PREFIX)/share/kport 2>/dev/null
	rm -rf $(DESTDIR)$(LIBEXECDIR)/kport
	$(if $(DESTDIR),,ldconfig)

# ---- Lint: checkpatch, W=1 and sparse (C=2) module builds, the uapi header
# alone (C90, -m32, no padding, sizes pinned), shellcheck, the man pages
# (mandoc, groff, a page for every libkport function).  Any finding fails.
# W=1 and sparse also against the other kernels of check-kernels, those
# whose headers are installed.
LINT_KDIRS = $(filter-out $(KDIR),$(foreach m,$(CHECK_KERNELS),$(wildcard \
	/lib/modules/$(shell bash scripts/kver.sh --meta $(m) 2>/dev/null)/build)))
LINT = KDIR=$(KDIR) LINT_KDIRS="$(LINT_KDIRS)" KSRC=$(KSRC) CC=$(CC) \
       bash scripts/lint.sh

lint: lib
	$(LINT) all

lint-checkpatch lint-w1 lint-sparse lint-uapi lint-shell:
	$(LINT) $(@:lint-%=%)

lint-abi: lib
	$(LINT) abi

# The man pages need no kernel: not $(LINT), which would look for one.
lint-man:
	CC=$(CC) bash scripts/lint.sh man

# ---- Tests in QEMU ----------------------------------------------------------
# The last line of `make check` is "N passed, N failed, N skipped" (make's
# own error line follows it when something failed).
check: all selftests
	$(VM) --mode check --out $(B)/vm/check --tests "$(TESTS)"

# The same selftests, each in a container made as runtimes make one (new
# user, IPC, mount and pid namespaces: selftests/vm/kport-ctr.c), so in a
# kport instance of its own; all but unload, which needs CAP_SYS_MODULE.
check-container: all selftests
	$(VM) --mode check --container --out $(B)/vm/check-container --tests "$(TESTS)"

# The sanitizer-kernel runs (DESIGN.md "Testing and CI"): the same selftests
# on a kernel built from $(KSRC) by scripts/debug-kernel.sh, once, cached
# under ~/.cache/kport/debug-kernel/ (a first build: ~20 minutes of CPU,
# ~13 minutes on an idle 2-core machine), with selftests/vm/base.config
# and a flavour's fragment:
#   check-debug  debug.config: KASAN, UBSAN, lockdep, kmemleak, fault
#                injection.  The guest boots with panic_on_warn=1, scans
#                kmemleak after unloading the module and checks that
#                lockdep is still on.
#   check-kcsan  kcsan.config: KCSAN.  A data race reported in kport fails
#                the run (selftests/vm/check.sh).
# The module is built against that kernel from a copy of its sources in
# $(B)/FLAVOUR-module, so the kport.ko of `make module` stays as it is.
# Totals in $(B)/vm/check-FLAVOUR/totals, same last line as `check`.
DEBUG_KERNEL := bash scripts/debug-kernel.sh

debug-kernel:
	$(DEBUG_KERNEL) debug >/dev/null

kcsan-kernel:
	$(DEBUG_KERNEL) kcsan >/dev/null

# sanitizer-check FLAVOUR: the recipe of check-FLAVOUR.
define sanitizer-check
	@mkdir -p $(B)
	$(DEBUG_KERNEL) $(1) >$(B)/$(1)-kernel.path
	bash scripts/module-src.sh $(B)/$(1)-module
	$(MAKE) -C "$$(cat $(B)/$(1)-kernel.path)" M=$(CURDIR)/$(B)/$(1)-module modules
	kdir=$$(cat $(B)/$(1)-kernel.path); \
	bash selftests/vm/run.sh --lane $(1) --mode check \
		--kernel "$$kdir/arch/x86/boot/bzImage" \
		--kver "$$(bash scripts/kver.sh "$$kdir")" \
		--module $(CURDIR)/$(B)/$(1)-module/kport.ko --ksrc $(KSRC) \
		--build $(B) --src . --out $(B)/vm/check-$(1) --tests "$(TESTS)"
endef

check-debug: lib tools selftests examples
	$(call sanitizer-check,debug)

check-kcsan: lib tools selftests examples
	$(call sanitizer-check,kcsan)

# Every supported kernel, each named by the Debian headers metapackage
# that points at it: the module is built against its headers and the whole
# suite runs in QEMU on its image (scripts/check-kernels.sh).  One line of
# totals per kernel, then the sum, also in $(B)/vm/check-kernels/totals.
CHECK_KERNELS ?= linux-headers-amd64 linux-headers-6.12-amd64 \
		 linux-headers-6.12-rt-amd64

check-kernels: lib tools selftests examples
	TESTS="$(TESTS)" bash scripts/check-kernels.sh --ksrc $(KSRC) \
		--build $(B) $(CHECK_KERNELS)

# DKMS (dkms.conf): build, never install or load, for each kernel of
# check-kernels; root (it writes /usr/src and DKMS's tree, and cleans up).
check-dkms:
	bash scripts/dkms.sh check $(foreach m,$(CHECK_KERNELS),$(shell bash scripts/kver.sh --meta $(m)))

# Debian packages (debian/, scripts/deb.sh): kport-dkms, libkport1,
# libkport-dev, kport-tools into $(B)/deb/, lintian-checked; check-deb
# installs them into a fresh Debian 12 chroot and tries them there (root).
deb:
	bash scripts/deb.sh build

check-deb: deb
	bash scripts/deb.sh check

demo: all selftests
	$(VM) --mode demo --out $(B)/vm/demo

vm: all selftests
	$(VM) --mode shell --out $(B)/vm/shell

# ---- Benchmark (doc/bench.md) --------------------------------------------------
# kport-bench in QEMU, two passes: smp2 (both cores, reported) and icount
# (one CPU, instruction-counted time: repeatable, gates the targets).
# Results in $(B)/bench/: results.md, the CSVs and PNG plots; the target
# lines are printed last.  BENCH_PASSES="icount" for one pass; BENCH_ARGS
# for kport-bench options (--quick, --mechs ...).
export BENCH_PASSES BENCH_ARGS BENCH_TIMEOUT
bench: all selftests
	KSRC=$(KSRC) bash tools/bench/run-vm.sh --kver $(KVER) --kernel $(KERNEL) \
		--module $(CURDIR)/kport.ko --build $(B) --out $(B)/bench

# ---- Clean ------------------------------------------------------------------
clean:
	rm -rf $(B)
	if [ -d "$(KDIR)" ] && [ -e Kbuild ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -f kport.ko *.mod *.mod.c *.o .*.cmd Module.symvers modules.order \
		kernel/*.o kernel/.*.cmd

help:
	@echo 'Targets:'
	@echo '  all (default)  module, lib, tools, examples: needs a compiler and KDIR only'
	@echo '  module         kport.ko (Kbuild, against KDIR)'
	@echo '  lib tools examples   userspace, under build/'
	@echo '  selftests      the selftests, under build/ (needs KSRC)'
	@echo '  deps           install missing Debian packages (scripts/deps.sh); the'
	@echo '                 test lanes, lint and deb run it first, nothing else does'
	@echo '  deps-check     only say what is missing'
	@echo '  install        DESTDIR= PREFIX=/usr/local LIBDIR= UDEVRULESDIR=/etc/udev/rules.d'
	@echo '                 MANDIR=PREFIX/share/man: module, tools, libkport, headers, udev rule,'
	@echo '                 modules-load.d snippet, man pages'
	@echo '                 (install-module install-lib install-tools install-admin install-man)'
	@echo '  install-selftests   the selftests under LIBEXECDIR/kport/selftests'
	@echo '  lint           checkpatch, W=1 and sparse builds, uapi header, libkport exports, shellcheck,'
	@echo '                 man pages (lint-checkpatch lint-w1 lint-sparse lint-uapi lint-abi lint-shell'
	@echo '                 lint-man)'
	@echo '  check          build all, run the selftests in QEMU; last line "N passed, N failed, N skipped"'
	@echo '  check-container  the same, each selftest in a container (user, IPC, mount, pid namespaces)'
	@echo '  check-debug    the same on the debug kernel (KASAN, UBSAN, lockdep, kmemleak,'
	@echo '                 fault injection), built once into ~/.cache/kport/debug-kernel/'
	@echo '  check-kcsan    the same on a KCSAN kernel (data races), built once likewise'
	@echo '  check-kernels  the selftests on every supported kernel: Debian 12 6.1, 6.12, 6.12-rt'
	@echo '                 (CHECK_KERNELS: headers metapackages); a totals line each'
	@echo '  check-dkms     dkms build (no install, no load) for each of those kernels (root)'
	@echo '  debug-kernel kcsan-kernel   only build (or find) that kernel'
	@echo '  deb            Debian packages into build/deb/ (debhelper), lintian-checked'
	@echo '  check-deb      install them into a fresh Debian 12 chroot and try them (root)'
	@echo '  demo           run examples/demo.sh in QEMU'
	@echo '  vm             interactive shell in QEMU with the module loaded'
	@echo '  bench          kport-bench against pipes, sockets, mq, shm in QEMU (doc/bench.md);'
	@echo '                 results in build/bench/, target lines last'
	@echo '  clean'
	@echo 'Variables:'
	@echo '  KVER KDIR KERNEL KSRC   kernel release, headers, image to boot, kernel source'
	@echo '  TESTS="abi capacity"    run a subset of the selftests'
	@echo '  KPORT_TEST_ARGS         extra arguments for each selftest (-t, -f, -r ...)'
	@echo '  KPORT_TEST_TIMEOUT      per selftest binary, seconds (180; check-debug, check-kcsan 600)'
	@echo '  KPORT_*                 any other: passed to the tests in the guest'
	@echo '                          (check-debug: KPORT_STRESS_MESSAGES=20000 unless set)'
	@echo '  KPORT_INSMOD_ARGS       module parameters'
	@echo '  VM_TIMEOUT              whole-VM watchdog, seconds (420; check-debug, check-kcsan 1500)'
	@echo '  KPORT_CACHE             where the kernel source and sanitizer kernels go (~/.cache/kport)'
	@echo '  VM_MEM VM_SMP VM_CPU VM_APPEND QEMU QEMU_ARGS'
	@echo '  CC CFLAGS CPPFLAGS LDFLAGS LDLIBS'
	@echo '  TOOLS_LINK=shared       link the tools with libkport.so.1, not libkport.a'
