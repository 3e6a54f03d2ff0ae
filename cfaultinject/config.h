/* SPDX-License-Identifier: MIT */
/*
 * config.h: the shim's configuration, parsed once at load from the
 * CFAULTINJECT environment variable into a fixed struct.  Nothing else in
 * the shim reads the environment.
 *
 * Syntax (documented for users in cfaultinject/README.md):
 *
 *   CFAULTINJECT="mode=trace;trace=/tmp/t.cfit"
 *   CFAULTINJECT="@/path/to/file"      (same syntax, newlines allowed)
 *
 * Entries are "key=value" separated by ';' or newlines; '#' starts a
 * comment that runs to the end of the line.  "[rule]" opens a rule; the
 * keys after it belong to that rule until the next "[rule]".
 */
#ifndef CFI_CONFIG_H
#define CFI_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "cfi-calls.h"

#define CFI_MAX_RULES 16
#define CFI_GLOB_MAX 512

enum cfi_mode {
    CFI_MODE_PASSTHROUGH = 0,
    CFI_MODE_TRACE = 1,
    CFI_MODE_FAULT = 2,
    CFI_MODE_CRASH = 3,
};

enum cfi_rule_action {
    CFI_RULE_FAULT = 1,
    CFI_RULE_CRASH = 2,
    CFI_RULE_MARK = 3,      /* announce the call on notify=, change nothing */
};

enum cfi_timing {
    CFI_TIMING_BEFORE = 0,
    CFI_TIMING_AFTER = 1,
};

enum cfi_kill {
    CFI_KILL_SIGKILL = 0,   /* kill(getpid(), SIGKILL) */
    CFI_KILL_WAIT = 1,      /* block every thread until killed from outside */
};

struct cfi_rule {
    int action;                         /* enum cfi_rule_action */
    uint64_t calls[2];                  /* bitmap of CFI_CALL_* (0 = all) */
    uint64_t ops;                       /* bitmap of enum cfi_op (0 = all) */
    int any_call;                       /* neither calls= nor ops= given */
    char glob[CFI_GLOB_MAX];            /* path glob, "" = any path */
    uint64_t nth;                       /* fire on the nth match (0 = off) */
    int has_seq;
    uint64_t seq;                       /* fire on this sequence number */
    uint64_t prob;                      /* fire with prob/2^64 (0 = off) */
    int has_prob;
    int err;                            /* errno a fault injects */
    int is_short;                       /* fault: short write */
    int timing;                         /* enum cfi_timing */
    int kill;                           /* enum cfi_kill */
    char label[32];                     /* mark: the name it announces */
    uint64_t matches;                   /* matches so far (atomic) */
};

struct cfi_config {
    int mode;                           /* enum cfi_mode */
    char trace_path[PATH_MAX];          /* "" = no trace */
    int data_mode;                      /* enum cfi_data_mode */
    uint64_t seed;
    int notify_fd;                      /* -1 = none */
    char notify_unix[108];              /* sockaddr_un path, "" = none */
    int n_rules;
    struct cfi_rule rules[CFI_MAX_RULES];
};

/*
 * Parse text into cfg.  On error writes a message naming the key into
 * errbuf and returns -1.  Uses no allocation and no stdio.
 */
int cfi_config_parse(const char *text, struct cfi_config *cfg,
                     char *errbuf, size_t errlen);

/* Bounded glob match: '*', '?', '[set]', '[!set]', '\\' escapes. */
int cfi_glob_match(const char *pattern, const char *s);
/* 0 when the pattern is well formed (brackets closed). */
int cfi_glob_valid(const char *pattern);

#endif /* CFI_CONFIG_H */
