/* SPDX-License-Identifier: MIT */
/*
 * cmd-minimize.c: plugpull minimize CASE.json --out DIR: the smallest
 * schedule of power cuts that still fails the way the case fails.
 *
 * A failing case of repeated cuts names a schedule (p1, p2, ... pK); not
 * every cut is needed for the failure, and a cut late in a run is harder
 * to read than an early one.  The search, deterministic (shrink.h):
 *
 *   1. replay the case; a case that does not fail has nothing to minimise
 *      (exit 1); its replayed outcome is the one to keep;
 *   2. ddmin over the cuts: drop cuts while the rest still fails with that
 *      outcome (a later cut then falls in another run, the resume of the
 *      state the remaining cuts leave: its point is an index into that
 *      run, moved to its end when past it);
 *   3. for each remaining cut in order, move it to an earlier barrier
 *      point of its run while the failure holds (galloping back from it);
 *      a cut between barrier points that no earlier one can replace is
 *      tried at the next barrier point after it.
 *
 * "Smaller" is fewer cuts, then earlier cuts.  Each schedule is judged
 * once (a cache keyed by its id) and every one is printed.  A single-cut
 * case has no cut to drop: only step 3 applies, which gives an earlier
 * point with the same outcome.
 */
#include <stdio.h>
#include <string.h>

#include "sim/caseload.h"
#include "plugpull.h"
#include "common/schedule.h"
#include "common/shrink.h"
#include "sim/sim-out.h"
#include "common/fs.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/tracestats.h"
#include "common/util.h"

typedef struct {
    PpCaseFile *f;
    PpOutcome target;         /* the outcome to keep */
    GHashTable *tried;        /* id -> PpCase (NULL: not judged, budget) */
    guint tries;              /* schedules judged */
    guint max_tries;
    gboolean budget_hit;
    GError *error;            /* the harness failed: stop */
} Search;

static GArray *
made_of(const PpCase *c)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(guint));
    if (c->cuts == NULL) {
        g_array_append_val(a, c->k);
        return a;
    }
    for (guint i = 0; i < c->cuts->len; i++) {
        const PpCut *cut = c->cuts->pdata[i];
        g_array_append_val(a, cut->k);
    }
    return a;
}

/* Judge a schedule (once); NULL when over budget or the harness failed. */
static const PpCase *
judge(Search *s, const guint *cuts, guint n)
{
    g_autofree char *key = pp_schedule_to_id(s->f->env.model, cuts, n,
                                             s->f->env.seed);
    if (g_hash_table_contains(s->tried, key)) {
        return g_hash_table_lookup(s->tried, key);
    }
    if (s->error != NULL || s->tries >= s->max_tries) {
        s->budget_hit = s->error == NULL;
        return NULL;
    }
    s->tries++;
    PpCase *c = pp_case_file_run(s->f, cuts, n, n, FALSE, &s->error);
    if (c == NULL) {
        return NULL;
    }
    gboolean keeps = pp_case_failed(c) && c->verdict == s->target;
    g_autofree char *where = c->failed_cut > 0
        ? g_strdup_printf(" at cut %u", c->failed_cut) : g_strdup("");
    g_print("  try %u: %s: %s%s -> %s\n", s->tries, key,
            pp_outcome_to_string(c->verdict), where,
            keeps ? "still fails" : "loses the failure");
    g_hash_table_insert(s->tried, g_steal_pointer(&key), c);
    return c;
}

static gboolean
keeps_failure(Search *s, const PpCase *c)
{
    return c != NULL && pp_case_failed(c) && c->verdict == s->target;
}

static gboolean
test_cuts(const guint *cuts, guint n, gpointer data)
{
    Search *s = data;
    return keeps_failure(s, judge(s, cuts, n));
}

typedef struct {
    Search *s;
    GArray *cur;
    guint i;
} PointTry;

static gboolean
test_point(guint point, gpointer data)
{
    PointTry *pt = data;
    g_autoptr(GArray) t = g_array_copy(pt->cur);
    g_array_index(t, guint, pt->i) = point;
    return keeps_failure(pt->s, judge(pt->s, (const guint *)t->data, t->len));
}

/* The barrier points of the run cut i falls in, with the cut's own point
 * (*out_barrier: it is one of them). */
static GArray *
candidates(Search *s, const PpCase *c, guint i, guint point,
           gboolean *out_barrier)
{
    GArray *cand = g_array_new(FALSE, FALSE, sizeof(guint));
    if (i == 0) {
        PpTraceStats st;
        pp_trace_stats_compute(s->f->env.trace, cand, &st);
    } else {
        const PpCut *cut = c->cuts->pdata[i];
        if (cut->barriers != NULL) {
            g_array_append_vals(cand, cut->barriers->data,
                                cut->barriers->len);
        }
    }
    guint at = 0;
    while (at < cand->len && g_array_index(cand, guint, at) < point) {
        at++;
    }
    *out_barrier = at < cand->len && g_array_index(cand, guint, at) == point;
    if (!*out_barrier) {
        g_array_insert_val(cand, at, point);
    }
    return cand;
}

static guint
index_of(GArray *cand, guint point)
{
    for (guint i = 0; i < cand->len; i++) {
        if (g_array_index(cand, guint, i) == point) {
            return i;
        }
    }
    return 0;
}

/* The case file of the minimal schedule, atomically into dir. */
static gboolean
write_minimal(Search *s, const PpCase *c, const char *dir,
              const char *original, char **out_path, GError **error)
{
    g_autoptr(JsonNode) node = pp_case_to_json(&s->f->env, c,
                                               s->f->scenario);
    JsonObject *o = json_node_get_object(node);
    g_autofree char *name = g_strdup_printf("%s.json", c->id);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *cmd = g_strdup_printf("plugpull replay %s", path);
    json_object_set_string_member(o, "command", cmd);
    json_object_set_string_member(o, "minimized_from", original);
    json_object_set_int_member(o, "minimize_tries", s->tries);
    json_object_set_boolean_member(o, "minimize_budget_hit", s->budget_hit);
    if (!pp_write_json(path, node, error)) {
        return FALSE;
    }
    *out_path = g_steal_pointer(&path);
    return TRUE;
}

/* The search of the header comment. */
static gboolean
minimize(Search *s, const char *dir, const char *original, GError **error)
{
    PpCaseFile *f = s->f;
    g_print("minimize %s (recorded %s, %u cut(s))\n", original, f->recorded,
            f->schedule->len);
    /* 1. The case as it is: its repeat, its schedule. */
    s->tries++;
    g_autoptr(PpCase) first = pp_case_file_run(
        f, (const guint *)f->schedule->data, f->schedule->len, f->repeat, FALSE,
        &s->error);
    if (first == NULL) {
        g_propagate_prefixed_error(error, g_steal_pointer(&s->error),
                                   "replaying the case: ");
        return FALSE;
    }
    const char *outcome = pp_outcome_to_string(first->verdict);
    g_print("  try 1: %s: %s (the case replayed)\n", first->id, outcome);
    if (!pp_case_failed(first)) {
        g_print("the case does not fail when replayed (%s): nothing to "
                "minimise\n", outcome);
        return pp_throw_code(error, PP_ERROR_FAILURES,
                             "the case does not fail when replayed");
    }
    s->target = first->verdict;
    if (!pp_outcome_is(f->recorded, first->verdict)) {
        g_print("  note: recorded %s, replayed %s: minimising the replayed "
                "outcome\n", f->recorded, outcome);
    }
    g_autoptr(GArray) cur = made_of(first);
    /* A schedule of one cut judged as a repeated-cuts case is judged
     * again below; the replay itself goes into the cache. */
    char *first_id = g_strdup(first->id);
    g_hash_table_insert(s->tried, first_id, g_steal_pointer(&first));

    /* 2. Fewer cuts. */
    if (cur->len > 1) {
        GArray *min = pp_shrink_cuts(cur, test_cuts, s);
        if (min == NULL) {
            /* Judged again as a schedule of exactly these cuts, it passes:
             * keep the replayed schedule. */
            g_print("  the schedule of the cuts made does not fail by "
                    "itself: kept as replayed\n");
        } else {
            g_array_unref(cur);
            cur = min;
        }
    }
    /* 3. Earlier cuts. */
    for (guint i = 0; i < cur->len && s->error == NULL; i++) {
        g_autofree char *key = pp_schedule_to_id(
            f->env.model, (const guint *)cur->data, cur->len, f->env.seed);
        const PpCase *c = g_hash_table_lookup(s->tried, key);
        if (c == NULL || (i > 0 && c->cuts == NULL)) {
            break;
        }
        guint point = g_array_index(cur, guint, i);
        gboolean barrier = FALSE;
        g_autoptr(GArray) cand = candidates(s, c, i, point, &barrier);
        PointTry pt = { s, cur, i };
        guint at = pp_shrink_earliest((const guint *)cand->data,
                                      index_of(cand, point), test_point, &pt);
        guint moved = g_array_index(cand, guint, at);
        /* A cut between barrier points that no earlier one can replace:
         * the next barrier point, if the failure holds there. */
        if (moved == point && !barrier && at + 1 < cand->len
            && test_point(g_array_index(cand, guint, at + 1), &pt)) {
            moved = g_array_index(cand, guint, at + 1);
        }
        if (moved != point) {
            g_print("  cut %u: %u -> %u\n", i + 1, point, moved);
            g_array_index(cur, guint, i) = moved;
            /* Cuts after a failing one are never made: drop them. */
            g_autofree char *nk = pp_schedule_to_id(
                f->env.model, (const guint *)cur->data, cur->len, f->env.seed);
            const PpCase *nc = g_hash_table_lookup(s->tried, nk);
            if (nc != NULL) {
                g_autoptr(GArray) made = made_of(nc);
                g_array_set_size(cur, MIN(cur->len, made->len));
            }
        }
    }
    if (s->error != NULL) {
        g_propagate_error(error, g_steal_pointer(&s->error));
        return FALSE;
    }
    g_autofree char *key = pp_schedule_to_id(
        f->env.model, (const guint *)cur->data, cur->len, f->env.seed);
    const PpCase *min = g_hash_table_lookup(s->tried, key);
    if (min == NULL) {
        min = judge(s, (const guint *)cur->data, cur->len);
    }
    if (min == NULL || !keeps_failure(s, min)) {
        return pp_throw(error, "the minimal schedule %s no longer judged: %s",
                        key, s->error != NULL ? s->error->message
                                              : "over --max-tries");
    }
    g_autofree char *path = NULL;
    if (!write_minimal(s, min, dir, original, &path, error)) {
        return FALSE;
    }
    g_print("minimal: %s: %s (%u cut(s), was %u; %u schedules judged%s)\n",
            min->id, pp_outcome_to_string(min->verdict), cur->len, f->schedule->len, s->tries,
            s->budget_hit ? ", --max-tries reached: smaller, maybe not "
                           "minimal" : "");
    g_print("  %s\n", min->reason);
    g_print("replay: plugpull replay %s\n", path);

    return TRUE;
}

gboolean
pp_cmd_minimize(int argc, char **argv, GError **error)
{
    g_autofree char *out = NULL;
    gint max_tries = 60;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "where the minimal case file goes (created if missing)", "DIR" },
        { "max-tries", 0, 0, G_OPTION_ARG_INT, &max_tries,
          "judge at most N schedules (default 60); the result is then "
          "smaller, not always minimal", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("CASE.json");
    g_option_context_set_summary(
        ctx, "Shrink a failing case to the smallest schedule of power cuts "
        "that still fails with the same outcome: drop cuts (delta "
        "debugging), then move each cut to an earlier barrier point of its "
        "run while the failure holds (a cut between barrier points that "
        "no earlier one replaces is tried at the next one).  A single-cut "
        "case keeps its one cut "
        "and gets the earliest point found with the same outcome.  Every "
        "schedule tried is printed; the minimal case file is written into "
        "DIR with its replay command.\nExit status: 0 a minimal failing "
        "case was written, 1 the case does not fail when replayed (nothing "
        "to minimise), 2 bad input, 3 the harness failed.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2 || out == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs one CASE.json and --out DIR");
    }
    if (max_tries < 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--max-tries must be at least 1");
    }
    g_autofree char *dir = g_canonicalize_filename(out, NULL);
    PpCaseFile f;
    gboolean loaded = pp_case_file_load(argv[1], NULL, &f, error);
    if (!loaded || !pp_mkdir_p(dir, error)) {
        if (f.env.states_dir != NULL) {
            pp_rm_rf(f.env.states_dir, NULL);
        }
        pp_case_file_clear(&f);
        if (!loaded && g_error_matches(*error, G_IO_ERROR,
                                       G_IO_ERROR_INVALID_DATA)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        return FALSE;
    }
    Search s = { 0 };
    s.f = &f;
    s.max_tries = (guint)max_tries;
    s.tried = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify)pp_case_free);
    g_autofree char *original = g_strdup(f.id);
    gboolean ok = minimize(&s, dir, original, error);
    g_clear_error(&s.error);
    g_hash_table_unref(s.tried);
    pp_rm_rf(f.env.states_dir, NULL);
    pp_case_file_clear(&f);
    return ok;
}
