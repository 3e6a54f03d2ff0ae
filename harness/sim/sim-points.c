/* SPDX-License-Identifier: MIT */
/*
 * simpoints.c: see simpoints.h.
 */
#include "sim/sim-points.h"

#include <string.h>

#include "common/util.h"

#include "common/tracestats.h"

static gint
cmp_uint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;
    return x < y ? -1 : x > y;
}

/* Choose n of the values in arr (seeded, order kept). */
static void
sample_in_place(GArray *arr, guint n, guint64 seed)
{
    if (n >= arr->len) {
        return;
    }
    guint64 st = seed ^ 0x5eed5eed5eedULL;
    guint *v = (guint *)arr->data;
    for (guint i = 0; i < n; i++) {
        guint j = i + (guint)(pp_splitmix64(&st) % (arr->len - i));
        guint t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    g_array_set_size(arr, n);
    g_array_sort(arr, cmp_uint);
}

gboolean
pp_shard_parse(const char *s, PpShard *out, GError **error)
{
    const char *slash = strchr(s, '/');
    g_autofree char *ks = slash != NULL ? g_strndup(s, slash - s) : NULL;
    guint64 k = 0, n = 0;
    if (slash == NULL
        || !g_ascii_string_to_unsigned(slash + 1, 10, 1, PP_SHARD_MAX, &n,
                                       NULL)
        || !g_ascii_string_to_unsigned(ks, 10, 1, n, &k, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--shard must be K/N with 1 <= K <= N <= %d (e.g. 2/4), "
                    "not '%s'", PP_SHARD_MAX, s);
        return FALSE;
    }
    out->index = (guint)k;
    out->count = (guint)n;
    return TRUE;
}

void
pp_sim_choose_points(const PpSimEnv *env, const PpScenario *sc,
                     GArray *points, GHashTable *resume_set)
{
    PpTraceStats st;
    g_array_set_size(points, 0);
    if (sc->points == PP_POINTS_NONE) {
        return;
    } else if (sc->points == PP_POINTS_BARRIERS) {
        pp_trace_stats_compute(env->trace, points, &st);
        /*
         * And the end of the run: the state the client's exit promised
         * (sim-promise.h), which every model but process-kill can take
         * from it when the last changes were never synced.
         */
        guint n = st.records;
        if (points->len == 0 || g_array_index(points, guint,
                                              points->len - 1) != n) {
            g_array_append_val(points, n);
        }
    } else {
        pp_trace_stats_compute(env->trace, NULL, &st);
        for (guint k = 0; k <= st.records; k++) {
            g_array_append_val(points, k);
        }
    }
    if (sc->phase >= 0) {
        /* [crash] phase: the points inside that phase only. */
        guint kept = 0;
        for (guint i = 0; i < points->len; i++) {
            guint k = g_array_index(points, guint, i);
            if ((gint)pp_phases_at(&env->phases, k) == sc->phase) {
                g_array_index(points, guint, kept++) = k;
            }
        }
        g_array_set_size(points, kept);
    }
    if (sc->points == PP_POINTS_SAMPLE
        || (sc->points == PP_POINTS_BARRIERS && sc->sample > 0)) {
        sample_in_place(points, sc->sample, sc->seed);
        g_array_sort(points, cmp_uint);
    }

    if (env->strategy != PP_STRATEGY_OSTREE) {
        return;    /* a slot device's update is not resumed (strategy.h) */
    }
    if (sc->resume == PP_RESUME_ALL) {
        for (guint i = 0; i < points->len; i++) {
            g_hash_table_add(resume_set, GUINT_TO_POINTER(
                g_array_index(points, guint, i) + 1));
        }
    } else if (sc->resume == PP_RESUME_SAMPLE) {
        g_autoptr(GArray) r = g_array_copy(points);
        sample_in_place(r, sc->resume_sample, sc->seed + 1);
        for (guint i = 0; i < r->len; i++) {
            g_hash_table_add(resume_set, GUINT_TO_POINTER(
                g_array_index(r, guint, i) + 1));
        }
        if (env->phases.commit_point >= 0) {
            /* Always the cuts around the commit. */
            g_hash_table_add(resume_set,
                             GUINT_TO_POINTER(env->phases.commit_point + 1));
            g_hash_table_add(resume_set,
                             GUINT_TO_POINTER(env->phases.commit_point + 2));
        }
    }
}

GArray *
pp_shard_indices(guint n_points, const PpShard *shard)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < n_points; i++) {
        if (shard->count == 0 || i % shard->count == shard->index - 1) {
            g_array_append_val(out, i);
        }
    }
    return out;
}

void
pp_shuffle(GArray *v, guint64 seed)
{
    guint64 rs = seed;
    guint *a = (guint *)v->data;
    for (guint i = v->len; i > 1; i--) {
        guint j = (guint)(pp_splitmix64(&rs) % i);
        guint t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
