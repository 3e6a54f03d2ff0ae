/*
 * tracestats.c: see tracestats.h.
 */
#include "common/tracestats.h"
#include "common/json.h"

#include <string.h>

gboolean
pp_op_is_barrier(guint op)
{
    switch (op) {
    case CFI_OP_FSYNC:
    case CFI_OP_FDATASYNC:
    case CFI_OP_SYNCFS:
    case CFI_OP_SYNC:
    case CFI_OP_FREEZE:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
pp_op_is_ordering(guint op)
{
    switch (op) {
    case CFI_OP_RENAME:
    case CFI_OP_LINK:
    case CFI_OP_SYMLINK:
    case CFI_OP_UNLINK:
    case CFI_OP_RMDIR:
        return TRUE;
    default:
        return pp_op_is_barrier(op);
    }
}

void
pp_trace_stats_compute(CfiTrace *trace, GArray *points, PpTraceStats *st)
{
    g_autoptr(GHashTable) pids = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) tids = g_hash_table_new(NULL, NULL);
    guint n = cfi_trace_n_records(trace);
    guint last_point = G_MAXUINT;

    memset(st, 0, sizeof *st);
    st->records = n;
    st->points_all = n + 1;
    for (guint i = 0; i < n; i++) {
        const CfiRecord *r = cfi_trace_get(trace, i);
        const struct cfi_rec *rec = r->rec;
        if (rec->call < CFI_CALL_COUNT) {
            st->by_call[rec->call]++;
        }
        if (rec->op < CFI_OP_MAX) {
            st->by_op[rec->op]++;
        }
        if (rec->result < 0) {
            st->failed++;
        }
        if (rec->flags & CFI_RF_INJECTED) {
            st->injected++;
        }
        if (rec->flags & CFI_RF_CRASH) {
            st->crashed++;
        }
        if (rec->op == CFI_OP_WRITE && rec->result > 0) {
            st->bytes_written += (guint64)rec->result;
        }
        if (pp_op_is_barrier(rec->op)) {
            st->barriers++;
        }
        g_hash_table_add(pids, GUINT_TO_POINTER(rec->pid));
        g_hash_table_add(tids, GUINT_TO_POINTER(rec->tid));
        if (pp_op_is_ordering(rec->op)) {
            /* Points i (just before) and i + 1 (just after). */
            for (guint k = i; k <= i + 1; k++) {
                if (last_point != G_MAXUINT && k <= last_point) {
                    continue;
                }
                st->points_barriers++;
                last_point = k;
                if (points != NULL) {
                    g_array_append_val(points, k);
                }
            }
        }
    }
    st->processes = g_hash_table_size(pids);
    st->threads = g_hash_table_size(tids);
}

void
pp_trace_stats_print(CfiTrace *trace, const PpTraceStats *st, FILE *f)
{
    guint64 off;
    const char *reason;
    fprintf(f, "trace: %s\n", cfi_trace_get_path(trace));
    fprintf(f, "records: %u (%u failed, %u injected, %u crash) from %u "
               "process(es), %u thread(s)\n", st->records, st->failed,
            st->injected, st->crashed, st->processes, st->threads);
    if (cfi_trace_is_truncated(trace, &off, &reason)) {
        fprintf(f, "damaged tail at byte %" G_GUINT64_FORMAT ": %s\n", off,
                reason);
    }
    fprintf(f, "bytes written: %" G_GUINT64_FORMAT "\n", st->bytes_written);
    fprintf(f, "crash points: %u in all, %u at barriers (before/after the "
               "%u barriers and the namespace calls)\n", st->points_all,
            st->points_barriers, st->barriers);
    fprintf(f, "by operation:\n");
    for (guint op = 1; op < CFI_OP_MAX; op++) {
        if (st->by_op[op] > 0) {
            fprintf(f, "  %-12s %u\n", cfi_op_name(op), st->by_op[op]);
        }
    }
    fprintf(f, "by call:\n");
    for (guint c = 1; c < CFI_CALL_COUNT; c++) {
        if (st->by_call[c] > 0) {
            fprintf(f, "  %-16s %u\n", cfi_call_name(c), st->by_call[c]);
        }
    }
}

JsonNode *
pp_trace_stats_to_json(CfiTrace *trace, const PpTraceStats *st)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "trace", cfi_trace_get_path(trace));
    pp_json_add_int(b, "records", st->records);
    pp_json_add_boolean(b, "truncated", cfi_trace_is_truncated(trace, NULL, NULL));
    pp_json_add_int(b, "failed", st->failed);
    pp_json_add_int(b, "injected", st->injected);
    pp_json_add_int(b, "bytes_written", (gint64)st->bytes_written);
    pp_json_add_int(b, "points_all", st->points_all);
    pp_json_add_int(b, "points_barriers", st->points_barriers);
    json_builder_set_member_name(b, "calls");
    json_builder_begin_object(b);
    for (guint c = 1; c < CFI_CALL_COUNT; c++) {
        if (st->by_call[c] > 0) {
            pp_json_add_int(b, cfi_call_name(c), st->by_call[c]);
        }
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "ops");
    json_builder_begin_object(b);
    for (guint op = 1; op < CFI_OP_MAX; op++) {
        if (st->by_op[op] > 0) {
            pp_json_add_int(b, cfi_op_name(op), st->by_op[op]);
        }
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
