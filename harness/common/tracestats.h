/* SPDX-License-Identifier: MIT */
/*
 * tracestats.h: counts over a trace, and the crash points it offers.
 *
 * A crash point k means "records 0..k-1 completed, record k did not": a
 * trace of n records has n + 1 of them.  The barrier points are those just
 * before and just after every call that orders or publishes state (fsync,
 * fdatasync, syncfs, sync, FIFREEZE, rename, link, symlink, unlink, rmdir):
 * between two such calls nothing a model distinguishes can change order, so
 * they cover the interesting states at a fraction of the cost.
 */
#ifndef PP_TRACESTATS_H
#define PP_TRACESTATS_H

#include <stdio.h>

#include <json-glib/json-glib.h>

#include "cfi-calls.h"
#include "trace-reader.h"

typedef struct {
    guint records;
    guint failed;                   /* result -1 */
    guint injected;                 /* CFI_RF_INJECTED */
    guint crashed;                  /* CFI_RF_CRASH */
    guint by_call[CFI_CALL_COUNT];
    guint by_op[CFI_OP_MAX];
    guint barriers;                 /* durability barriers */
    guint not_barriers;             /* durability calls (fsync family,
                                       O_SYNC/O_DSYNC opens) swallowed by
                                       an interposer: no barriers */
    guint points_all;               /* n + 1 */
    guint points_barriers;          /* distinct barrier points */
    guint64 bytes_written;
    guint processes;                /* distinct pids */
    guint threads;                  /* distinct tids */
} PpTraceStats;

/* Is the op a durability barrier (fsync family, syncfs, sync, freeze)? */
gboolean pp_op_is_barrier(guint op);
/* Is the op one the barrier points bracket (barriers + namespace)? */
gboolean pp_op_is_ordering(guint op);
/*
 * The same for one record: a barrier op whose call an interposer swallowed
 * (cfi_rec_swallowed(), MODELS.md §3a) is neither a barrier nor a point.
 */
gboolean pp_rec_is_barrier(const struct cfi_rec *rec);
gboolean pp_rec_is_ordering(const struct cfi_rec *rec);

/* One object that calls were forwarded to instead of the C library. */
typedef struct {
    char *path;                     /* as the loader named it */
    gboolean probed;                /* the calls have a probe, it ran */
    gboolean forwards;              /* the probe saw it reach the kernel
                                       (else: swallows, or no probe) */
    GPtrArray *calls;               /* call names (char *), call-id order */
    guint not_barriers;             /* durability calls it swallowed */
} PpInterposer;

void pp_interposer_free(PpInterposer *ip);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpInterposer, pp_interposer_free)

/*
 * The trace's interposers (PpInterposer *, owned by the array), one per
 * object and probe verdict, from its interposer notes; empty when the shim's
 * next definitions were all the C library's.  The campaign prints them
 * with pp_trace_interposers_print().
 */
GPtrArray *pp_trace_interposers(CfiTrace *trace);
/* "interposed: fsync, fdatasync by PATH (...)", one line each. */
void pp_trace_interposers_print(GPtrArray *interposers, FILE *f);

/*
 * Fill st.  When points is not NULL it receives the barrier crash points
 * (guint, ascending, distinct).
 */
void pp_trace_stats_compute(CfiTrace *trace, GArray *points, PpTraceStats *st);
void pp_trace_stats_print(CfiTrace *trace, const PpTraceStats *st, FILE *f);
JsonNode *pp_trace_stats_to_json(CfiTrace *trace, const PpTraceStats *st);

#endif /* PP_TRACESTATS_H */
