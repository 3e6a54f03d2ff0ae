# SPDX-License-Identifier: MIT
# tests/fuzz/fuzz.mk: fuzz targets (libFuzzer) and an ASan/UBSan build of
# the unit tests.  Self-contained: usable on its own with
#
#   make -f tests/fuzz/fuzz.mk fuzz-build fuzz-short asan-unit [BUILD=build]
#
# or `include`d from the top Makefile (every variable here is prefixed FUZZ_
# or ASAN_, and the default goal of the includer is left alone).  Needs only
# $(BUILD)/gen (make build/gen/cfi-calls.h) and, for asan-unit, the normal
# build's shim and helpers (`make`), which the tests run under LD_PRELOAD.
#
#   fuzz-build   $(FUZZ_OUT)/fuzz-{trace,scenario,config}
#   fuzz-short   run each for FUZZ_TIME seconds over a copy of its corpus
#                (tests/fuzz/corpus/<target>/); fails on any crash, leak,
#                timeout or sanitizer report, and says where the input is
#   fuzz-regress run each once over its corpus and tests/fuzz/crashers/
#   asan-unit    tests/unit/test-*.c + replay + harness with ASan/UBSan,
#                into $(ASAN_OUT), run with PLUGPULL_BUILD=$(BUILD)
#
# Knobs: FUZZ_TIME (20), FUZZ_SEED (1: libFuzzer's choices come from it, so
# a failure in CI replays with the same seed; 0 lets libFuzzer pick one,
# printed as "INFO: Seed:" in the log), FUZZ_TARGETS (trace scenario config), FUZZ_CC
# (clang), FUZZ_EXTRA_CFLAGS, FUZZ_OUT ($(BUILD)/fuzz), ASAN_OUT
# ($(BUILD)/asan), ASAN_TESTS (all test-* names), V=1.

BUILD             ?= build
FUZZ_GEN          ?= $(BUILD)/gen
FUZZ_OUT          ?= $(BUILD)/fuzz
FUZZ_CC           ?= clang
FUZZ_TIME         ?= 20
FUZZ_SEED         ?= 1
FUZZ_TARGETS      ?= trace scenario config
FUZZ_EXTRA_CFLAGS ?=
FUZZ_DIR          := tests/fuzz
ASAN_OUT          ?= $(BUILD)/asan
ASAN_CC           ?= $(FUZZ_CC)

ifeq ($(V),1)
FUZZ_Q :=
else
FUZZ_Q := @
endif

FUZZ_SAVED_GOAL := $(.DEFAULT_GOAL)
# Read on its own (make -f tests/fuzz/fuzz.mk) rather than included?
FUZZ_STANDALONE := $(if $(filter-out $(lastword $(MAKEFILE_LIST)),$(MAKEFILE_LIST)),,yes)

FUZZ_PKGCFLAGS = $(shell pkg-config --cflags glib-2.0 gio-2.0)
FUZZ_PKGLIBS   = $(shell pkg-config --libs glib-2.0 gio-2.0)
FUZZ_INC       := -Icfaultinject -Icfaultinject/replay -Iharness -I$(FUZZ_GEN)
FUZZ_CFLAGS    := -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                  -fsanitize=fuzzer,address,undefined \
                  -fno-sanitize-recover=undefined -Wall -Wno-unused-parameter

# What each target compiles: its driver plus the few sources it exercises.
FUZZ_SRCS_trace    := $(FUZZ_DIR)/fuzz-trace.c cfaultinject/replay/trace-reader.c \
                      cfaultinject/replay/trace-print.c cfaultinject/crc32c.c \
                      $(FUZZ_GEN)/cfi-calls.c
FUZZ_SRCS_scenario := $(FUZZ_DIR)/fuzz-scenario.c harness/common/scenario.c \
                      harness/common/keyfile.c \
                      cfaultinject/replay/crashstate-name.c
FUZZ_SRCS_config   := $(FUZZ_DIR)/fuzz-config.c cfaultinject/config.c \
                      $(FUZZ_GEN)/cfi-calls.c
FUZZ_LIBS_trace    = $(FUZZ_PKGLIBS)
FUZZ_LIBS_scenario = $(FUZZ_PKGLIBS)
FUZZ_LIBS_config   :=
FUZZ_MAXLEN_trace    := 65536
FUZZ_MAXLEN_scenario := 8192
FUZZ_MAXLEN_config   := 8192

FUZZ_BINS := $(foreach t,$(FUZZ_TARGETS),$(FUZZ_OUT)/fuzz-$(t))
FUZZ_HDRS := $(wildcard cfaultinject/*.h cfaultinject/replay/*.h harness/*.h harness/*/*.h \
                        $(FUZZ_GEN)/cfi-calls.h)

.PHONY: fuzz-build fuzz-short fuzz-regress fuzz-check-gen asan-unit \
        asan-build $(foreach t,$(FUZZ_TARGETS),fuzz-run-$(t) fuzz-regress-$(t))

fuzz-check-gen:
	$(FUZZ_Q)test -f $(FUZZ_GEN)/cfi-calls.c -a -f $(FUZZ_GEN)/cfi-calls.h || \
	    { echo "fuzz.mk: $(FUZZ_GEN)/cfi-calls.[ch] missing: run" \
	        "'make $(FUZZ_GEN)/cfi-calls.h' first" >&2; exit 1; }
	$(FUZZ_Q)command -v $(FUZZ_CC) >/dev/null || \
	    { echo "fuzz.mk: $(FUZZ_CC) not installed (apt-get install clang)" >&2; \
	      exit 1; }

fuzz-build: $(FUZZ_BINS)

# One rule per target; $* is the target name.  The sources are compiled
# together with the fuzzer flags: each binary is small and built in seconds.
$(FUZZ_OUT)/fuzz-%: $(FUZZ_DIR)/fuzz-%.c $(FUZZ_HDRS) $(FUZZ_DIR)/fuzz.mk \
                    $(wildcard $(FUZZ_GEN)/cfi-calls.c) | fuzz-check-gen
	@mkdir -p $(@D)
	@echo "  FUZZCC   $@"
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_EXTRA_CFLAGS) $(FUZZ_INC) \
	    $(FUZZ_PKGCFLAGS) -o $@ $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*)

# fuzz-run-T: a fresh copy of the seed corpus (new inputs the run finds go
# to the copy, never into the tree), artifacts (crash-*, leak-*, timeout-*)
# under $(FUZZ_OUT)/artifacts/T/, the whole log in $(FUZZ_OUT)/T.log.
FUZZ_RUN_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:symbolize=1 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

fuzz-short: $(foreach t,$(FUZZ_TARGETS),fuzz-run-$(t))

$(addprefix fuzz-run-,$(FUZZ_TARGETS)): fuzz-run-%: $(FUZZ_OUT)/fuzz-%
	$(FUZZ_Q)rm -rf $(FUZZ_OUT)/run/$* $(FUZZ_OUT)/artifacts/$*
	$(FUZZ_Q)mkdir -p $(FUZZ_OUT)/run/$* $(FUZZ_OUT)/artifacts/$*
	$(FUZZ_Q)cp -R $(FUZZ_DIR)/corpus/$*/. $(FUZZ_OUT)/run/$*/
	@echo "  FUZZ     $* for $(FUZZ_TIME) s, seed $(FUZZ_SEED) ($(FUZZ_OUT)/$*.log)"
	$(FUZZ_Q)start=$$(date +%s); \
	if $(FUZZ_RUN_ENV) $(FUZZ_OUT)/fuzz-$* -max_total_time=$(FUZZ_TIME) \
	        -seed=$(FUZZ_SEED) \
	        -max_len=$(FUZZ_MAXLEN_$*) -timeout=10 -rss_limit_mb=2048 \
	        $(if $(wildcard $(FUZZ_DIR)/fuzz-$*.dict),-dict=$(FUZZ_DIR)/fuzz-$*.dict) \
	        -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_OUT)/artifacts/$*/ \
	        $(FUZZ_OUT)/run/$* >$(FUZZ_OUT)/$*.log 2>&1; then \
	    echo "  FUZZ     $*: no crash in $$(($$(date +%s) - start)) s," \
	        "$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_OUT)/$*.log) execs," \
	        "$$(grep -o 'cov: [0-9]*' $(FUZZ_OUT)/$*.log | tail -n 1)," \
	        "corpus $$(ls $(FUZZ_DIR)/corpus/$* | wc -l) -> $$(ls $(FUZZ_OUT)/run/$* | wc -l)"; \
	else \
	    echo "fuzz-$*: FAILED after $$(($$(date +%s) - start)) s; log $(FUZZ_OUT)/$*.log" >&2; \
	    sed -n '/ERROR: \|runtime error/,/^SUMMARY/p' $(FUZZ_OUT)/$*.log | \
	        head -n 40 >&2; \
	    for a in $(FUZZ_OUT)/artifacts/$*/*; do \
	        [ -f "$$a" ] && echo "fuzz-$*: reproducer $$a" \
	            "(replay: $(FUZZ_OUT)/fuzz-$* $$a;" \
	            "minimise: $(FUZZ_OUT)/fuzz-$* -minimize_crash=1 -runs=10000 $$a)" >&2; \
	    done; \
	    exit 1; \
	fi

# Replay the seeds and every kept crasher once: a fixed bug stays fixed.
fuzz-regress: $(foreach t,$(FUZZ_TARGETS),fuzz-regress-$(t))

$(addprefix fuzz-regress-,$(FUZZ_TARGETS)): fuzz-regress-%: $(FUZZ_OUT)/fuzz-%
	@echo "  REGRESS  $*"
	$(FUZZ_Q)$(FUZZ_RUN_ENV) $(FUZZ_OUT)/fuzz-$* -runs=0 \
	    -max_len=$(FUZZ_MAXLEN_$*) $(FUZZ_DIR)/corpus/$* \
	    $(wildcard $(FUZZ_DIR)/crashers/$*) >$(FUZZ_OUT)/$*.regress.log 2>&1 || \
	    { tail -n 40 $(FUZZ_OUT)/$*.regress.log >&2; exit 1; }

# --- ASan/UBSan unit tests -------------------------------------------------
#
# Only the test processes are instrumented.  The helpers they start run
# under LD_PRELOAD of the normal, uninstrumented $(BUILD)/libcfaultinject.so
# (PLUGPULL_BUILD=$(BUILD)), which is what the shim is: libc only, loaded
# into processes that know nothing of ASan.
ASAN_PKGS     := glib-2.0 gio-2.0 gio-unix-2.0 json-glib-1.0 ostree-1 blkid
ASAN_CFLAGS   := -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -Wall -Wno-unused-parameter \
                 -Wno-unused-variable \
                 $(FUZZ_INC) $(shell pkg-config --cflags $(ASAN_PKGS) cmocka)
ASAN_LIBS     := $(shell pkg-config --libs $(ASAN_PKGS) cmocka) -lpthread
ASAN_LIB_SRCS := $(wildcard cfaultinject/replay/*.c) cfaultinject/crc32c.c \
                 $(wildcard harness/*/*.c)
ASAN_LIB_OBJS := $(patsubst %.c,$(ASAN_OUT)/obj/%.o,$(ASAN_LIB_SRCS)) \
                 $(ASAN_OUT)/obj/gen/cfi-calls.o
# ASAN_UNIT_DIR/ASAN_TEST_OUT let test-sanitizers.sh build planted-bug
# tests of its own against the same instrumented objects.
ASAN_UNIT_DIR ?= tests/unit
ASAN_TEST_OUT ?= $(ASAN_OUT)/tests
ASAN_TESTS    ?= $(patsubst $(ASAN_UNIT_DIR)/%.c,%,$(wildcard $(ASAN_UNIT_DIR)/test-*.c))
ASAN_BINS     := $(patsubst %,$(ASAN_TEST_OUT)/%,$(ASAN_TESTS))
# LeakSanitizer stays on: GLib's type, quark and GIO-module caches are
# still reachable at exit, and the unit tests run clean with it (checked
# with glib 2.74).  Should a GLib update make it noisy, use
# ASAN_OPTIONS=detect_leaks=0 rather than suppressing project code.
ASAN_RUN_ENV  := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1 \
                 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

$(ASAN_OUT)/obj/%.o: %.c $(FUZZ_HDRS) | fuzz-check-gen
	@mkdir -p $(@D)
	@echo "  ASANCC   $@"
	$(FUZZ_Q)$(ASAN_CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_OUT)/obj/gen/cfi-calls.o: $(wildcard $(FUZZ_GEN)/cfi-calls.c) | fuzz-check-gen
	@mkdir -p $(@D)
	$(FUZZ_Q)$(ASAN_CC) $(ASAN_CFLAGS) -c $(FUZZ_GEN)/cfi-calls.c -o $@

$(ASAN_OUT)/libasan-deps.a: $(ASAN_LIB_OBJS)
	$(FUZZ_Q)rm -f $@ && ar rcs $@ $^

$(ASAN_TEST_OUT)/test-%: $(ASAN_UNIT_DIR)/test-%.c $(ASAN_OUT)/libasan-deps.a \
                          $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	@echo "  ASANLD   $@"
	$(FUZZ_Q)$(ASAN_CC) $(ASAN_CFLAGS) -I$(ASAN_UNIT_DIR) -Itests/unit -o $@ $< \
	    $(ASAN_OUT)/libasan-deps.a $(ASAN_LIBS)

asan-build: $(ASAN_BINS)

asan-unit: asan-build
	$(FUZZ_Q)test -f $(BUILD)/libcfaultinject.so || \
	    { echo "asan-unit: $(BUILD)/libcfaultinject.so missing (run make)" >&2; exit 1; }
	$(FUZZ_Q)failed=""; \
	for t in $(ASAN_BINS); do \
	    name=$$(basename $$t); start=$$(date +%s); \
	    echo "  ASANRUN  $$name"; \
	    if $(ASAN_RUN_ENV) PLUGPULL_BUILD=$(BUILD) $$t >$(ASAN_TEST_OUT)/$$name.log 2>&1; then \
	        echo "  ASANRUN  $$name: ok in $$(($$(date +%s) - start)) s"; \
	    else \
	        echo "asan-unit: $$name FAILED in $$(($$(date +%s) - start)) s" \
	            "(log $(ASAN_TEST_OUT)/$$name.log):" >&2; \
	        grep -E -A 14 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|\[  FAILED|\[  ERROR' \
	            $(ASAN_TEST_OUT)/$$name.log | head -n 40 >&2; \
	        failed="$$failed $$name"; \
	    fi; \
	done; \
	if [ -n "$$failed" ]; then echo "asan-unit: failed:$$failed" >&2; exit 1; fi

# Leave the includer's default goal as it was; alone, build the fuzzers.
ifeq ($(FUZZ_STANDALONE),yes)
.DEFAULT_GOAL := fuzz-build
else
.DEFAULT_GOAL := $(FUZZ_SAVED_GOAL)
endif
