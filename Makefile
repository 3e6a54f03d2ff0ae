# SPDX-License-Identifier: MIT
# plugpull top-level build.  Everything lands in build/.
#
#   make            build/libcfaultinject.so, build/plugpull, unit tests
#   make check      install deps if missing, build, run every test
#   make demo       install deps if missing, build, run the default job
#   make bench      run the benchmarks under bench/ (results: bench/RESULTS.md)
#   make install    install under $(DESTDIR)$(PREFIX) (default /usr/local);
#                   make uninstall removes what it installed
#   V=1             show full command lines

BUILD   := build
GEN     := $(BUILD)/gen
CC      ?= gcc
PYTHON  ?= python3
PKGS    := glib-2.0 gio-2.0 gio-unix-2.0 json-glib-1.0 ostree-1 blkid

# --- where `make install` puts things -------------------------------------
# The binary finds its data (reports/, images/, scenarios/) and the shim
# in the build tree when it runs from build/, else at these paths, which
# are compiled into it (harness/common/util.c): build with the PREFIX you
# install with.  DESTDIR is only prepended at install time (packaging).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
PKGLIBDIR   ?= $(LIBDIR)/plugpull
DATADIR     ?= $(PREFIX)/share
PKGDATADIR  ?= $(DATADIR)/plugpull
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# The man page's version line (help2man).
MAN_VERSION ?= $(shell cat VERSION 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ostree's set of warnings that are errors: each is a bug, never style.
WERROR    := -Werror=missing-prototypes -Werror=implicit-function-declaration \
             -Werror=format=2 -Werror=incompatible-pointer-types \
             -Werror=return-type
WARN      := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 $(WERROR)
# Each object's header dependencies come from the compiler (-MMD -MP: a
# .d file beside the object, read back below), not from a list by hand.
DEPFLAGS  := -MMD -MP
BASEFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE $(DEPFLAGS)
SHIMFLAGS := $(BASEFLAGS) -fPIC -fvisibility=hidden -Icfaultinject -I$(GEN) \
             -fno-strict-aliasing -ftls-model=initial-exec
PKGCFLAGS  = $(shell pkg-config --cflags $(PKGS))
PKGLIBS    = $(shell pkg-config --libs $(PKGS))
# CPPFLAGS, CFLAGS, LDFLAGS from the environment (dpkg-buildpackage's
# hardening) apply to the harness, not to the shim: _FORTIFY_SOURCE would
# rewrite the very libc calls the shim interposes.
HOSTFLAGS  = $(BASEFLAGS) -Icfaultinject -Icfaultinject/replay -Iharness -I$(GEN) $(PKGCFLAGS) \
             $(CPPFLAGS) $(CFLAGS)

# --- the shim (libc only) -------------------------------------------------
SPEC        := cfaultinject/calls.spec
GENERATOR   := cfaultinject/gen-wrappers.py
GEN_OUT     := $(GEN)/wrappers.c $(GEN)/cfi-calls.h $(GEN)/cfi-calls.c \
               $(GEN)/shim.map $(GEN)/function_list
SHIM_SRCS   := cfaultinject/runtime.c cfaultinject/config.c \
               cfaultinject/custom.c cfaultinject/crc32c.c \
               cfaultinject/tracewriter.c cfaultinject/interposer.c \
               cfaultinject/stdio.c
SHIM_OBJS   := $(patsubst %.c,$(BUILD)/shim/%.o,$(notdir $(SHIM_SRCS))) \
               $(BUILD)/shim/wrappers.o $(BUILD)/shim/cfi-calls.o

# --- replay library: trace reader + power-loss models (GLib) --------------
REPLAY_SRCS := $(wildcard cfaultinject/replay/*.c)
REPLAY_OBJS := $(patsubst cfaultinject/replay/%.c,$(BUILD)/replay/%.o,$(REPLAY_SRCS)) \
               $(BUILD)/replay/crc32c.o $(BUILD)/replay/cfi-calls.o

# --- harness --------------------------------------------------------------
# harness/main.c, then one folder a role (harness/*/): see README, Layout.
HARNESS_SRCS := harness/main.c $(wildcard harness/*/*.c)
HARNESS_OBJS := $(patsubst harness/%.c,$(BUILD)/harness/%.o,$(HARNESS_SRCS))
# Everything but main(): the unit tests link it too.
HARNESS_LIB_OBJS := $(filter-out $(BUILD)/harness/main.o,$(HARNESS_OBJS))

# --- unit tests (cmocka) --------------------------------------------------
UNIT_SRCS  := $(wildcard tests/unit/test-*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))
# Libraries the tests preload beside the shim (interposers of their own).
PRELOAD_SRCS := $(wildcard tests/helpers/preload/*.c)
PRELOAD_LIBS := $(patsubst tests/helpers/preload/%.c,$(BUILD)/tests/helpers/%.so,$(PRELOAD_SRCS))
HELPER_BINS += $(PRELOAD_LIBS)
# Benchmark drivers that link the harness (bench/*.c).
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps check check-unit check-integration check-vm demo bench clean scenario-doc \
        programs install uninstall FORCE
all: $(BUILD)/libcfaultinject.so $(BUILD)/plugpull $(UNIT_BINS) $(HELPER_BINS) $(BENCH_BINS)

deps:
	$(Q)sh tools/deps.sh

# One run makes every output (a grouped target): with -j, a plain rule
# would run the generator once per output, at the same time.
$(GEN_OUT) &: $(SPEC) $(GENERATOR)
	@mkdir -p $(GEN)
	@echo "  GEN      $(GEN)/ (from $(SPEC))"
	$(Q)$(PYTHON) $(GENERATOR) $(SPEC) $(GEN)

$(BUILD)/shim/%.o: cfaultinject/%.c $(GEN_OUT)
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(SHIMFLAGS) -c $< -o $@

$(BUILD)/shim/%.o: $(GEN)/%.c $(GEN_OUT)
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(SHIMFLAGS) -c $< -o $@

$(BUILD)/libcfaultinject.so: $(SHIM_OBJS) $(GEN)/shim.map
	@echo "  LD       $@"
	$(Q)$(CC) -shared -o $@ $(SHIM_OBJS) -Wl,--version-script=$(GEN)/shim.map \
	    -Wl,-z,now -ldl -lpthread

$(BUILD)/replay/%.o: cfaultinject/replay/%.c $(GEN_OUT)
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(HOSTFLAGS) -c $< -o $@

$(BUILD)/replay/crc32c.o: cfaultinject/crc32c.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOSTFLAGS) -c $< -o $@

$(BUILD)/replay/cfi-calls.o: $(GEN)/cfi-calls.c $(GEN_OUT)
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOSTFLAGS) -c $< -o $@

$(BUILD)/libcfireplay.a: $(REPLAY_OBJS)
	@echo "  AR       $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# The install paths, compiled into the one file that looks them up.  The
# stamp changes (and the object is rebuilt) only when they do.
INSTALL_PATHS := -DPP_INSTALL_PKGDATADIR='"$(PKGDATADIR)"' \
                 -DPP_INSTALL_PKGLIBDIR='"$(PKGLIBDIR)"'
$(BUILD)/install-paths.stamp: FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(INSTALL_PATHS)' | cmp -s - $@ 2>/dev/null \
	    || echo '$(INSTALL_PATHS)' >$@
$(BUILD)/harness/common/util.o: HOSTFLAGS += $(INSTALL_PATHS)
$(BUILD)/harness/common/util.o: $(BUILD)/install-paths.stamp

$(BUILD)/harness/%.o: harness/%.c $(GEN_OUT)
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(HOSTFLAGS) -c $< -o $@

# The version (git describe, or VERSION in a tarball), checked on every
# make and rewritten only when it changed: only version.o is rebuilt.
$(GEN)/pp-version.h: FORCE
	@mkdir -p $(GEN)
	$(Q)sh tools/gen-version.sh . $@

$(BUILD)/harness/common/version.o: $(GEN)/pp-version.h

.PHONY: FORCE
FORCE:

$(BUILD)/libppharness.a: $(HARNESS_LIB_OBJS)
	@echo "  AR       $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/plugpull: $(BUILD)/harness/main.o $(BUILD)/libppharness.a $(BUILD)/libcfireplay.a
	@echo "  LD       $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(BUILD)/harness/main.o $(BUILD)/libppharness.a $(BUILD)/libcfireplay.a $(PKGLIBS)

$(BUILD)/tests/test-%: tests/unit/test-%.c $(BUILD)/libppharness.a $(BUILD)/libcfireplay.a
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(HOSTFLAGS) $(shell pkg-config --cflags cmocka) -Itests/unit -o $@ $< \
	    $(BUILD)/libppharness.a $(BUILD)/libcfireplay.a $(PKGLIBS) $(shell pkg-config --libs cmocka) -lpthread

$(BUILD)/bench/%: bench/%.c $(BUILD)/libppharness.a $(BUILD)/libcfireplay.a
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(HOSTFLAGS) -o $@ $< $(BUILD)/libppharness.a $(BUILD)/libcfireplay.a $(PKGLIBS) -lpthread

# Small programs the tests run under the real LD_PRELOAD: plain libc, no
# GLib, so that the shim is the only thing between them and the kernel.
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(BASEFLAGS) -o $@ $< -lpthread

$(BUILD)/tests/helpers/%.so: tests/helpers/preload/%.c
	@mkdir -p $(@D)
	@echo "  CC       $@"
	$(Q)$(CC) $(BASEFLAGS) -fPIC -shared -o $@ $<

# --- man page, bash completion, install -----------------------------------
# Both are made from the binary's --help texts (tools/gen-cli-docs.py).
$(BUILD)/plugpull.bash-completion $(BUILD)/plugpull-commands.h2m &: \
		$(BUILD)/plugpull tools/gen-cli-docs.py
	@echo "  GEN      $(BUILD)/plugpull.bash-completion"
	$(Q)$(PYTHON) tools/gen-cli-docs.py $(BUILD)/plugpull \
	    --completion $(BUILD)/plugpull.bash-completion \
	    --man-include $(BUILD)/plugpull-commands.h2m

$(BUILD)/plugpull.1: $(BUILD)/plugpull $(BUILD)/plugpull-commands.h2m
	@echo "  MAN      $@"
	$(Q)help2man --no-info --no-discard-stderr \
	    --version-string='plugpull $(or $(MAN_VERSION),0)' \
	    --name='power-loss test harness for OSTree updates' \
	    --include=$(BUILD)/plugpull-commands.h2m \
	    --output=$@.tmp $(abspath $(BUILD))/plugpull && mv $@.tmp $@

# What is installed: the binary, the shim, the man page, the completion.
programs: $(BUILD)/plugpull $(BUILD)/libcfaultinject.so $(BUILD)/plugpull.1 \
          $(BUILD)/plugpull.bash-completion

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) \
	    $(DESTDIR)$(PKGDATADIR)/reports $(DESTDIR)$(PKGDATADIR)/images \
	    $(DESTDIR)$(PKGDATADIR)/scenarios $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/plugpull $(DESTDIR)$(BINDIR)/plugpull
	install -m 644 $(BUILD)/libcfaultinject.so $(DESTDIR)$(PKGLIBDIR)/libcfaultinject.so
	install -m 644 reports/*.py reports/README.md $(DESTDIR)$(PKGDATADIR)/reports/
	install -m 644 images/README.md images/boot.cmd images/guest-fsck.c $(DESTDIR)$(PKGDATADIR)/images/
	install -m 755 images/*.sh images/guest-init images/initramfs-init \
	    $(DESTDIR)$(PKGDATADIR)/images/
	install -d $(DESTDIR)$(PKGDATADIR)/images/debian-firmware
	install -m 644 images/debian-firmware/* $(DESTDIR)$(PKGDATADIR)/images/debian-firmware/
	install -m 644 scenarios/*.conf scenarios/README.md $(DESTDIR)$(PKGDATADIR)/scenarios/
	install -m 644 $(BUILD)/plugpull.1 $(DESTDIR)$(MANDIR)/man1/plugpull.1
	install -m 644 $(BUILD)/plugpull.bash-completion $(DESTDIR)$(BASHCOMPDIR)/plugpull

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/plugpull $(DESTDIR)$(MANDIR)/man1/plugpull.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/plugpull
	rm -rf $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(PKGDATADIR)

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory check-unit check-integration

check-unit: all
	$(Q)sh tests/run-unit.sh $(BUILD)

check-integration: all
	$(Q)sh tests/run-integration.sh $(BUILD)

# The VM tier's test alone (it is also part of `make check`): real QEMU,
# U-Boot and kernel, about 7 minutes here.
check-vm: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/integration/test-vm-run.sh $(BUILD)
	$(Q)sh tests/integration/test-vm-diskcache.sh $(BUILD)

# The main job on the built-in default: the crash-point summary of a real
# ostree upgrade, then the simulation campaign over it.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BUILD)/plugpull demo --out $(BUILD)/demo
	$(Q)rm -rf $(BUILD)/demo-sim
	$(Q)$(BUILD)/plugpull sim --known scenarios/known-findings.conf --out $(BUILD)/demo-sim

# Debian 13's ostree 2025.2 (fix of ostree#3392) as a second client under
# test, in a private root: build/plugpull sim --ostree build/ostree-2025/ostree
.PHONY: ostree-2025
ostree-2025:
	$(Q)sh tools/ostree-2025.sh $(BUILD)/ostree-2025

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh bench/run.sh $(BUILD)

# Regenerate the key reference of scenarios/README.md from the parser's table.
scenario-doc: $(BUILD)/plugpull
	$(Q)sed -n '1,/^<!-- BEGIN KEYS/p' scenarios/README.md >scenarios/README.md.tmp
	$(Q)$(BUILD)/plugpull scenario doc >>scenarios/README.md.tmp
	$(Q)sed -n '/^<!-- END KEYS/,$$p' scenarios/README.md >>scenarios/README.md.tmp
	$(Q)mv scenarios/README.md.tmp scenarios/README.md

clean:
	rm -rf $(BUILD)

# The header dependencies the compiler wrote (-MMD -MP).
# Only where objects are built: build/ also holds firmware trees and images
# (rc2.d, plugpull.d), whose names end in .d too.
-include $(shell find $(BUILD)/shim $(BUILD)/replay $(BUILD)/harness $(BUILD)/tests -name '*.d' -type f 2>/dev/null)

# Fuzz targets and the ASan/UBSan build of the unit tests (tests/fuzz/).
include tests/fuzz/fuzz.mk
