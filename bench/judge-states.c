/* SPDX-License-Identifier: MIT */
/*
 * judge-states.c: judge crash states of any recording the way `plugpull
 * sim` does (pp_sim_run_case: materialise, judge, remove; identical states
 * shared, the oracle's per-campaign cache, states built over farms kept
 * between cases), from a recording of bench/firmware-record.sh.  With
 * --compare, every state is then built again, fresh, and judged in full,
 * without any cache, and the two verdicts, reasons and evidence must be
 * the same.
 *
 *   judge-states --trace T --root R --snapshot S --repo SRV --commit C1
 *                --commit C2 [--os NAME] [--bootloader bls|uboot]
 *                [--model M] [--seed N] [--sample N] [--jobs J]
 *                --states DIR [--compare | --distinct]
 *
 * --sample N: N of the campaign's barrier points, evenly spread (0: all).
 * --distinct: judge nothing; count the distinct states (state keys) of
 * all barrier points, which is what sharing leaves to judge.
 * Prints one line of figures (key=value) and, with --compare, every
 * difference.  Exit 0, 1 (a difference), 2 (usage), 3 (harness).
 */
#include <stdio.h>
#include <string.h>

#include "common/fs.h"
#include "common/scenario.h"
#include "oracle/oracle.h"
#include "sim/sim.h"
#include "sim/sim-points.h"

typedef struct {
    PpSimEnv *env;
    GMutex lock;
    GPtrArray *cases;           /* PpCase *, by index */
    GError *error;
} Run;

static void
run_one(gpointer data, gpointer user_data)
{
    Run *run = user_data;
    guint idx = GPOINTER_TO_UINT(data) - 1;
    guint k = GPOINTER_TO_UINT(run->cases->pdata[idx]);
    g_autoptr(GError) error = NULL;
    PpCase *c = pp_sim_run_case(run->env, k, FALSE, FALSE, &error);
    g_mutex_lock(&run->lock);
    run->cases->pdata[idx] = c;
    if (c == NULL && run->error == NULL) {
        run->error = g_steal_pointer(&error);
    }
    g_mutex_unlock(&run->lock);
}

/* The evidence without what measures the run. */
static char *
evidence_text(JsonNode *j)
{
    g_autoptr(JsonNode) copy = json_node_copy(j);
    json_object_remove_member(json_node_get_object(copy), "elapsed_us");
    return json_to_string(copy, FALSE);
}

/*
 * Every state built again and judged as the old full check did: no
 * cache, no sharing, a fresh hardlink farm (pp_sim_run_case with the
 * campaign's cache, share and farms set aside), both views as sim judges
 * them; verdict, reason and evidence must be the same.
 */
static gboolean
compare_full(PpSimEnv *env, GPtrArray *cases, guint *out_diffs,
             double *out_judge_s, GError **error)
{
    PpOracleCache *cache = g_steal_pointer(&env->oracle_cache);
    struct PpJudgeShare *share = g_steal_pointer(&env->share);
    struct PpFarmPool *farms = g_steal_pointer(&env->farms);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        g_autoptr(PpCase) full = pp_sim_run_case(env, c->k, FALSE, FALSE,
                                                 error);
        if (full == NULL) {
            ok = FALSE;
            break;
        }
        *out_judge_s += full->t_judge;
        g_autofree char *ft = evidence_text(full->judgement);
        g_autofree char *ct = evidence_text(c->judgement);
        if (full->verdict != c->verdict
            || g_strcmp0(full->reason, c->reason) != 0
            || strcmp(ft, ct) != 0) {
            (*out_diffs)++;
            printf("DIFF %s%s%s: full %s (%s), cached %s (%s)%s\n", c->id,
                   c->shared_with != NULL ? " shared with " : "",
                   c->shared_with != NULL ? c->shared_with : "",
                   pp_outcome_to_string(full->verdict), full->reason,
                   pp_outcome_to_string(c->verdict), c->reason,
                   strcmp(ft, ct) != 0 ? " [evidence differs]" : "");
        }
    }
    env->oracle_cache = cache;
    env->share = share;
    env->farms = farms;
    return ok;
}

int
main(int argc, char **argv)
{
    g_autofree char *trace = NULL, *root = NULL, *snapshot = NULL;
    g_autofree char *repo = NULL, *states = NULL, *osname = NULL;
    g_autofree char *bootloader = NULL, *model = NULL;
    g_auto(GStrv) commits = NULL;
    gint64 seed = 0;
    int sample = 0, jobs = 1;
    gboolean compare = FALSE, distinct = FALSE;
    GOptionEntry entries[] = {
        { "trace", 0, 0, G_OPTION_ARG_FILENAME, &trace, "recorded trace", "T" },
        { "root", 0, 0, G_OPTION_ARG_FILENAME, &root, "sysroot it ran in", "R" },
        { "snapshot", 0, 0, G_OPTION_ARG_FILENAME, &snapshot, "its copy before", "S" },
        { "repo", 0, 0, G_OPTION_ARG_FILENAME, &repo, "firmware repo", "SRV" },
        { "commit", 0, 0, G_OPTION_ARG_STRING_ARRAY, &commits, "known commit (old first)", "C" },
        { "os", 0, 0, G_OPTION_ARG_STRING, &osname, "stateroot (debian)", "NAME" },
        { "bootloader", 0, 0, G_OPTION_ARG_STRING, &bootloader, "bls or uboot (bls)", "B" },
        { "model", 0, 0, G_OPTION_ARG_STRING, &model, "power-loss model (ordered)", "M" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "seed (0)", "N" },
        { "sample", 0, 0, G_OPTION_ARG_INT, &sample, "barrier points taken (0: all)", "N" },
        { "jobs", 0, 0, G_OPTION_ARG_INT, &jobs, "threads (1)", "J" },
        { "states", 0, 0, G_OPTION_ARG_FILENAME, &states, "where states are built", "DIR" },
        { "compare", 0, 0, G_OPTION_ARG_NONE, &compare, "judge again in full and compare", NULL },
        { "distinct", 0, 0, G_OPTION_ARG_NONE, &distinct, "only count the distinct states of all barrier points", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- judge crash states");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || trace == NULL
        || root == NULL || snapshot == NULL || repo == NULL || states == NULL
        || commits == NULL || g_strv_length(commits) < 1 || jobs < 1) {
        fprintf(stderr, "judge-states: %s\n", error != NULL ? error->message
                : "--trace, --root, --snapshot, --repo, --commit and "
                  "--states are needed");
        return 2;
    }
    PpSimEnv env = { 0 };
    env.trace_path = g_steal_pointer(&trace);
    env.root = g_steal_pointer(&root);
    env.snapshot = g_steal_pointer(&snapshot);
    env.srv_repo = g_steal_pointer(&repo);
    env.commits = g_strdupv(commits);
    env.to_commit = g_strdup(commits[g_strv_length(commits) - 1]);
    env.osname = osname != NULL ? g_steal_pointer(&osname) : g_strdup("debian");
    env.bootloader = bootloader != NULL ? g_steal_pointer(&bootloader)
                                        : g_strdup("bls");
    env.states_dir = g_steal_pointer(&states);
    env.seed = (guint64)seed;
    if (!cfi_model_from_string(model != NULL ? model : "ordered", &env.model,
                               &error)) {
        fprintf(stderr, "judge-states: %s\n", error->message);
        return 2;
    }
    gint64 t0 = g_get_monotonic_time();
    if (!pp_sim_env_load(&env, &error)) {
        fprintf(stderr, "judge-states: %s\n", error->message);
        return 3;
    }
    double load_s = (double)(g_get_monotonic_time() - t0) / 1e6;

    g_autoptr(PpScenario) sc = pp_scenario_new_default();
    sc->points = PP_POINTS_BARRIERS;
    g_autoptr(GArray) points = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GHashTable) resume_set = g_hash_table_new(NULL, NULL);
    pp_sim_choose_points(&env, sc, points, resume_set);
    guint n_barriers = points->len;
    if (distinct) {
        /* What sharing identical states (sim-share.h) leaves to judge. */
        g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash,
                                                           g_str_equal,
                                                           g_free, NULL);
        t0 = g_get_monotonic_time();
        for (guint i = 0; i < points->len; i++) {
            g_hash_table_add(keys, cfi_replay_state_key(
                env.replay, g_array_index(points, guint, i), env.model,
                env.seed, NULL, NULL));
        }
        printf("barrier_points=%u distinct_states=%u key_s=%.2f\n",
               n_barriers, g_hash_table_size(keys),
               (double)(g_get_monotonic_time() - t0) / 1e6);
        pp_sim_env_clear(&env);
        return 0;
    }
    Run run = { .env = &env, .cases = g_ptr_array_new() };
    g_mutex_init(&run.lock);
    guint n = sample > 0 && (guint)sample < points->len ? (guint)sample
                                                        : points->len;
    for (guint i = 0; i < n; i++) {
        guint idx = (guint)((guint64)i * points->len / n);
        g_ptr_array_add(run.cases, GUINT_TO_POINTER(g_array_index(points, guint, idx)));
    }

    t0 = g_get_monotonic_time();
    GThreadPool *pool = g_thread_pool_new(run_one, &run, jobs, TRUE, NULL);
    for (guint i = 0; i < n; i++) {
        g_thread_pool_push(pool, GUINT_TO_POINTER(i + 1), NULL);
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    double wall = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (run.error != NULL) {
        fprintf(stderr, "judge-states: %s\n", run.error->message);
        return 3;
    }
    double tm = 0, tj = 0, tx = 0;
    guint shared = 0, passed = 0, farm_dirs = 0;
    for (guint i = 0; i < n; i++) {
        const PpCase *c = run.cases->pdata[i];
        tm += c->t_materialise;
        tj += c->t_judge;
        tx += c->t_remove;
        shared += c->shared_with != NULL;
        passed += c->verdict == PP_OUTCOME_PASS;
        farm_dirs += c->farm_dirs;
    }
    PpOracleCacheStats cs = { 0 };
    if (env.oracle_cache != NULL) {
        pp_oracle_cache_get_stats(env.oracle_cache, &cs);
    }
    guint judged = n - shared;
    printf("barrier_points=%u states=%u shared=%u judged=%u passed=%u "
           "jobs=%d load_s=%.2f wall_s=%.2f states_per_minute=%.0f "
           "materialise_s_per_judged=%.3f judge_s_per_judged=%.3f "
           "remove_s_per_judged=%.3f pinned=%u checksum_hits=%" G_GUINT64_FORMAT
           " checksum_stored=%" G_GUINT64_FORMAT " bytes_not_hashed=%"
           G_GUINT64_FORMAT " object_hits=%" G_GUINT64_FORMAT
           " boot_sum_hits=%" G_GUINT64_FORMAT " subtree_hits=%"
           G_GUINT64_FORMAT " unchanged_object_hits=%" G_GUINT64_FORMAT
           " farm_dirs=%u\n",
           n_barriers, n, shared, judged, passed, jobs, load_s, wall,
           wall > 0 ? n * 60.0 / wall : 0.0, judged ? tm / judged : 0.0,
           judged ? tj / judged : 0.0, judged ? tx / judged : 0.0, cs.pinned,
           cs.checksum_hits, cs.checksum_stored, cs.bytes_not_hashed,
           cs.object_hits, cs.concat_hits, cs.subtree_hits,
           cs.unchanged_object_hits, farm_dirs);
    int rc = 0;
    if (compare) {
        guint diffs = 0;
        double full_judge = 0;
        if (!compare_full(&env, run.cases, &diffs, &full_judge, &error)) {
            fprintf(stderr, "judge-states: %s\n", error->message);
            return 3;
        }
        printf("compared=%u differences=%u full_judge_s_per_state=%.3f\n", n,
               diffs, n ? full_judge / n : 0.0);
        rc = diffs == 0 ? 0 : 1;
    }
    g_ptr_array_set_free_func(run.cases, (GDestroyNotify)pp_case_free);
    g_ptr_array_unref(run.cases);
    g_mutex_clear(&run.lock);
    pp_sim_env_clear(&env);
    return rc;
}
