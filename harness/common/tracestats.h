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
 * Fill st.  When points is not NULL it receives the barrier crash points
 * (guint, ascending, distinct).
 */
void pp_trace_stats_compute(CfiTrace *trace, GArray *points, PpTraceStats *st);
void pp_trace_stats_print(CfiTrace *trace, const PpTraceStats *st, FILE *f);
JsonNode *pp_trace_stats_to_json(CfiTrace *trace, const PpTraceStats *st);

#endif /* PP_TRACESTATS_H */
