/* SPDX-License-Identifier: MIT */
/*
 * tracestats.c: see tracestats.h.
 */
#include "common/tracestats.h"
#include "common/json.h"

#include <fcntl.h>
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

gboolean
pp_rec_is_barrier(const struct cfi_rec *rec)
{
    return pp_op_is_barrier(rec->op) && !cfi_rec_swallowed(rec);
}

gboolean
pp_rec_is_ordering(const struct cfi_rec *rec)
{
    if (pp_op_is_barrier(rec->op)) {
        return !cfi_rec_swallowed(rec);
    }
    return pp_op_is_ordering(rec->op);
}

/* Would the record have been a barrier but for an interposer? */
static gboolean
not_barrier_by_interposer(const struct cfi_rec *rec)
{
    if (!cfi_rec_swallowed(rec) || (rec->flags & CFI_RF_NOT_EXECUTED)
        || rec->result == -1) {
        return FALSE;
    }
    if (rec->op == CFI_OP_OPEN) {
        return (rec->arg & O_DSYNC) != 0; /* O_SYNC includes O_DSYNC */
    }
    return pp_op_is_barrier(rec->op);
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
        if (pp_rec_is_barrier(rec)) {
            st->barriers++;
        }
        if (not_barrier_by_interposer(rec)) {
            st->not_barriers++;
        }
        g_hash_table_add(pids, GUINT_TO_POINTER(rec->pid));
        g_hash_table_add(tids, GUINT_TO_POINTER(rec->tid));
        if (pp_rec_is_ordering(rec)) {
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
pp_interposer_free(PpInterposer *ip)
{
    if (ip == NULL) {
        return;
    }
    g_free(ip->path);
    g_ptr_array_unref(ip->calls);
    g_free(ip);
}

static char *
interposer_key(const char *path, guint32 ip_arg)
{
    return g_strdup_printf("%s\n%u", path,
                           ip_arg & (CFI_IP_PROBED | CFI_IP_FORWARDS));
}

GPtrArray *
pp_trace_interposers(CfiTrace *trace)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_interposer_free);
    g_autoptr(GHashTable) by_key = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, NULL);
    /* (pid << 16 | call) -> PpInterposer, and call -> the first one seen
       (a forked child writes no notes: it inherits its parent's). */
    g_autoptr(GHashTable) by_pid_call = g_hash_table_new(g_int64_hash,
                                                         g_int64_equal);
    g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(gint64));
    PpInterposer *by_call[CFI_CALL_COUNT] = { NULL };
    guint n_notes = cfi_trace_n_interposers(trace);

    g_array_set_size(keys, n_notes);
    for (guint i = 0; i < n_notes; i++) {
        const CfiRecord *r = cfi_trace_get_interposer(trace, i);
        const struct cfi_rec *rec = r->rec;
        if (rec->call == 0 || rec->call >= CFI_CALL_COUNT) {
            continue;
        }
        const char *path = r->path != NULL ? r->path : "?";
        gboolean fwd = (rec->arg & CFI_IP_FORWARDS) != 0;
        g_autofree char *key = interposer_key(path, rec->arg);
        PpInterposer *ip = g_hash_table_lookup(by_key, key);
        if (ip == NULL) {
            ip = g_new0(PpInterposer, 1);
            ip->path = g_strdup(path);
            ip->probed = (rec->arg & CFI_IP_PROBED) != 0;
            ip->forwards = fwd;
            ip->calls = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(out, ip);
            g_hash_table_insert(by_key, g_steal_pointer(&key), ip);
        }
        const char *name = cfi_call_name(rec->call);
        gboolean have = FALSE;
        for (guint j = 0; j < ip->calls->len && !have; j++) {
            have = g_str_equal(ip->calls->pdata[j], name);
        }
        if (!have) {
            g_ptr_array_add(ip->calls, g_strdup(name));
        }
        gint64 *k = &g_array_index(keys, gint64, i);
        *k = ((gint64)rec->pid << 16) | rec->call;
        g_hash_table_insert(by_pid_call, k, ip);
        if (by_call[rec->call] == NULL) {
            by_call[rec->call] = ip;
        }
    }
    for (guint i = 0; i < cfi_trace_n_records(trace); i++) {
        const struct cfi_rec *rec = cfi_trace_get(trace, i)->rec;
        if (!not_barrier_by_interposer(rec) || rec->call >= CFI_CALL_COUNT) {
            continue;
        }
        gint64 k = ((gint64)rec->pid << 16) | rec->call;
        PpInterposer *ip = g_hash_table_lookup(by_pid_call, &k);
        if (ip == NULL) {
            ip = by_call[rec->call];
        }
        if (ip != NULL) {
            ip->not_barriers++;
        }
    }
    return out;
}

void
pp_trace_interposers_print(GPtrArray *interposers, FILE *f)
{
    for (guint i = 0; i < interposers->len; i++) {
        const PpInterposer *ip = interposers->pdata[i];
        fprintf(f, "interposed: ");
        for (guint j = 0; j < ip->calls->len; j++) {
            fprintf(f, "%s%s", j > 0 ? ", " : "",
                    (const char *)ip->calls->pdata[j]);
        }
        if (ip->forwards) {
            fprintf(f, " by %s (reaches the kernel: its syncs are "
                       "barriers)\n", ip->path);
        } else if (!ip->probed) {
            fprintf(f, " by %s (no probe possible, taken as not reaching "
                       "the kernel: %u durability call(s) were no barrier)\n",
                    ip->path, ip->not_barriers);
        } else {
            fprintf(f, " by %s (does not reach the kernel: %u durability "
                       "call(s) were no barrier)\n", ip->path,
                    ip->not_barriers);
        }
    }
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
    g_autoptr(GPtrArray) ips = pp_trace_interposers(trace);
    pp_trace_interposers_print(ips, f);
    if (st->not_barriers > 0) {
        fprintf(f, "not barriers: %u durability call(s) swallowed by an "
                   "interposer\n", st->not_barriers);
    }
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
    pp_json_add_int(b, "not_barriers", st->not_barriers);
    json_builder_set_member_name(b, "interposers");
    json_builder_begin_array(b);
    g_autoptr(GPtrArray) ips = pp_trace_interposers(trace);
    for (guint i = 0; i < ips->len; i++) {
        const PpInterposer *ip = ips->pdata[i];
        json_builder_begin_object(b);
        pp_json_add_string(b, "path", ip->path);
        pp_json_add_boolean(b, "probed", ip->probed);
        pp_json_add_boolean(b, "forwards", ip->forwards);
        pp_json_add_int(b, "not_barriers", ip->not_barriers);
        json_builder_set_member_name(b, "calls");
        json_builder_begin_array(b);
        for (guint j = 0; j < ip->calls->len; j++) {
            json_builder_add_string_value(b, ip->calls->pdata[j]);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
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
