/* SPDX-License-Identifier: MIT */
/*
 * cmd-sim-judge.c: the judging of a sim campaign (cmd-sim.h): this run's
 * share of the crash points, jobs at a time, each case kept on disk as it
 * ends (--resume keeps what an earlier run finished); then the results
 * written and the verdict.
 */
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "cli/cmd-sim.h"
#include "common/interrupt.h"
#include "common/json.h"
#include "common/util.h"
#include "plugpull.h"
#include "sim/sim-known.h"
#include "sim/sim-out.h"

/* The judging of the crash points, while the workers run and after. */
typedef struct {
    PpSimEnv *env;
    gint64 deadline;          /* monotonic us; 0 = no budget */
    gboolean budget_hit;
    GArray *points;           /* every point of the campaign */
    GArray *mine;             /* this run's share: indices into points */
    guint total;              /* how many of them this run judges */
    guint kept;               /* of mine, finished by an earlier run */
    guint records;            /* calls in the trace */
    GHashTable *resume_set;   /* k -> resume this one */
    guint repeat;             /* cuts per resumed case */
    PpCase **results;         /* one slot per point of the campaign */
    GError *first_error;
    GMutex lock;
    guint done;
    gint ran;                   /* cases finished by this process */
    guint failed;
    gint64 t0;
    gboolean tty;
    const char *out;
    /* Where a finished case is kept as it ends (simcampaign.h). */
    const char *cases_dir;
    const char *done_dir;
    const char *rec_id;       /* the recording the cases are judged on */
    const char *scenario_path;
} Loop;

static void
loop_clear(Loop *l)
{
    if (l->results != NULL) {
        for (guint i = 0; i < l->points->len; i++) {
            pp_case_free(l->results[i]);
        }
        g_clear_pointer(&l->results, g_free);
    }
    g_clear_pointer(&l->points, g_array_unref);
    g_clear_pointer(&l->mine, g_array_unref);
    g_clear_pointer(&l->resume_set, g_hash_table_unref);
    g_clear_error(&l->first_error);
    if (l->env != NULL) {
        g_mutex_clear(&l->lock);
        l->env = NULL;
    }
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Loop, loop_clear)

static void
report_progress(Loop *l)
{
    guint total = l->total;
    double el = (double)(g_get_monotonic_time() - l->t0) / 1e6;
    double eta = l->done > 0 ? el / l->done * (total - l->done) : 0.0;
    if (l->tty) {
        g_printerr("\r  [%u/%u] %u failure(s), %.0f s elapsed, ETA %.0f s   ",
                   l->done, total, l->failed, el, eta);
    } else if (l->done == total || l->done % (total / 10 + 1) == 0) {
        g_printerr("  progress: %u/%u cases, %u failure(s), %.0f s\n", l->done,
                   total, l->failed, el);
    }
}

/*
 * Every failing case, the resumed ones, and every 25th passing one get a
 * case file, counted over the campaign's points (idx) so that the shards
 * of a campaign write the case files an unsharded run writes.
 */
static gboolean
has_case_file(const PpCase *c, guint idx)
{
    return pp_case_failed(c) || c->resumed || idx % 25 == 0;
}

/*
 * Keep a finished case on disk the moment it ends, so that --resume after
 * a signal or a crash does not judge it again: its case file (if it has
 * one) first, then the done record that says it is finished.
 */
static gboolean
keep_case(Loop *l, guint idx, const PpCase *c, GError **error)
{
    if (has_case_file(c, idx)) {
        g_autoptr(JsonNode) node = pp_case_to_json(l->env, c,
                                                   l->scenario_path);
        g_autofree char *name = g_strdup_printf("%s.json", c->id);
        g_autofree char *path = g_build_filename(l->cases_dir, name, NULL);
        if (!pp_write_json(path, node, error)) {
            return FALSE;
        }
    }
    return pp_campaign_save_case(l->done_dir, l->rec_id, c, error);
}

/*
 * PLUGPULL_TEST_HOLD_AFTER=N: once this process has finished N cases, it
 * starts no other until a signal comes, so that a test stops a campaign
 * mid-way on an event instead of racing a campaign that may end first
 * (tests/integration/test-sim-resume.sh).
 */
static void
hold_for_test(Loop *l)
{
    const char *v = g_getenv("PLUGPULL_TEST_HOLD_AFTER");
    if (v == NULL || *v == '\0') {
        return;
    }
    gint n = (gint)g_ascii_strtoull(v, NULL, 10);
    while (g_atomic_int_get(&l->ran) >= n && pp_interrupt_signal() == 0) {
        g_usleep(10 * 1000);
    }
}

static void
run_one(gpointer data, gpointer user_data)
{
    Loop *l = user_data;
    guint idx = GPOINTER_TO_UINT(data) - 1;
    hold_for_test(l);
    if (pp_interrupt_signal() != 0 || l->first_error != NULL) {
        return;
    }
    if (l->deadline != 0 && g_get_monotonic_time() >= l->deadline) {
        /* Out of budget: the cases not started are not covered. */
        l->budget_hit = TRUE;
        return;
    }
    guint k = g_array_index(l->points, guint, idx);
    gboolean resume = g_hash_table_contains(l->resume_set, GUINT_TO_POINTER(k + 1));
    g_autoptr(GError) error = NULL;
    /* A resumed case may be cut again during its resumes (simrepeat.c). */
    PpCase *c = resume && l->repeat > 1 && l->env->httpd != NULL
        ? pp_sim_run_cuts(l->env, &k, NULL, 1, l->repeat, FALSE, &error)
        : pp_sim_run_case(l->env, k, resume, FALSE, &error);
    /* A case that ends after the signal may have had its client killed
     * by it (Ctrl-C signals the whole process group): not kept. */
    if (c != NULL && pp_interrupt_signal() == 0 && !keep_case(l, idx, c, &error)) {
        g_clear_pointer(&c, pp_case_free);
    }
    g_mutex_lock(&l->lock);
    if (c == NULL) {
        if (l->first_error == NULL) {
            l->first_error = g_steal_pointer(&error);
        }
    } else if (pp_interrupt_signal() == 0) {
        l->results[idx] = c;
        l->done++;
        g_atomic_int_inc(&l->ran);
        l->failed += pp_case_failed(c);
        report_progress(l);
    } else {
        pp_case_free(c);
    }
    g_mutex_unlock(&l->lock);
}

/*
 * --resume: the cases of this run's share (mine) that an earlier run
 * finished, from their done records, into l->results; how many.  A
 * record or a case file that does not read back whole is judged again.
 */
static guint
load_finished(Loop *l, const PpScenario *sc, GArray *mine)
{
    guint kept = 0, torn = 0;
    guint tmp = pp_campaign_remove_temps(l->done_dir)
        + pp_campaign_remove_temps(l->cases_dir);
    if (tmp > 0) {
        g_print("resume: removed %u temporary file(s) of writes the "
                "harness did not finish\n", tmp);
    }
    for (guint i = 0; i < mine->len; i++) {
        guint idx = g_array_index(mine, guint, i);
        guint k = g_array_index(l->points, guint, idx);
        g_autofree char *id = pp_case_id(sc->model, k, sc->seed);
        g_autoptr(GError) error = NULL;
        g_autoptr(PpCase) c = NULL;
        if (pp_campaign_load_case(l->done_dir, id, l->rec_id, &c, &error)
            && c != NULL && has_case_file(c, idx)) {
            pp_campaign_case_file_ok(l->cases_dir, id, &error);
        }
        if (error != NULL) {
            g_print("resume: note: %s: judging %s again\n", error->message,
                    id);
            torn++;
            continue;
        }
        if (c != NULL) {
            l->results[idx] = g_steal_pointer(&c);
            kept++;
        }
    }
    g_print("resume: %u finished case(s) kept, %u to judge%s\n", kept,
            mine->len - kept, torn > 0 ? " (some again, see the notes)" : "");
    return kept;
}

/*
 * The crash points of the campaign, this run's share of them, and what
 * an earlier run finished (--resume) into l; then the others are judged,
 * jobs at a time, until done, the budget, a harness error or a signal.
 */
static gboolean
judge(const SimRun *r, SimBed *bed, const char *rec_id, Loop *l,
      GError **error)
{
    const PpScenario *sc = r->sc;
    PpSimEnv *env = &bed->env;
    l->points = g_array_new(FALSE, FALSE, sizeof(guint));
    l->resume_set = g_hash_table_new(NULL, NULL);
    pp_sim_choose_points(env, sc, l->points, l->resume_set);
    if (bed->fault.active && !bed->fault.fired) {
        /* The trace is an ordinary update: nothing to judge. */
        g_array_set_size(l->points, 0);
        g_hash_table_remove_all(l->resume_set);
    }
    l->mine = pp_shard_indices(l->points->len, &r->shard);
    l->records = cfi_trace_n_records(env->trace);
    g_print("trace: %u calls recorded in %s; %u crash points chosen, %u to "
            "resume; commit point #%d\n", l->records, env->trace_path,
            l->points->len, g_hash_table_size(l->resume_set),
            env->phases.commit_point);
    if (r->shard.count > 0) {
        g_print("shard %u/%u: %u of the %u crash points (index i with i mod "
                "%u = %u)\n", r->shard.index, r->shard.count, l->mine->len,
                l->points->len, r->shard.count, r->shard.index - 1);
    }
    l->env = env;
    g_mutex_init(&l->lock);
    l->total = l->mine->len;
    l->repeat = sc->repeat;
    l->results = g_new0(PpCase *, l->points->len);
    l->t0 = g_get_monotonic_time();
    /* The budget counts from the start of the command, setup included. */
    l->deadline = r->budget_s > 0
        ? r->t_start + r->budget_s * G_USEC_PER_SEC : 0;
    l->tty = isatty(2);
    l->out = r->dir;
    l->cases_dir = r->cases_dir;
    l->done_dir = r->done_dir;
    l->rec_id = rec_id;
    l->scenario_path = sc->path;
    if (!pp_mkdir_p(r->done_dir, error)) {
        return FALSE;
    }
    l->kept = r->camp != NULL ? load_finished(l, sc, l->mine) : 0;
    l->total = l->mine->len - l->kept;
    GThreadPool *pool = g_thread_pool_new(run_one, l, r->opt->jobs, TRUE,
                                          NULL);
    /*
     * Under a budget, judge the points in a seeded random order, so that
     * whatever the budget covers is spread over every phase of the update
     * rather than being its first minutes.  Results stay in point order.
     */
    g_autoptr(GArray) order = g_array_copy(l->mine);
    if (r->budget_s > 0) {
        pp_shuffle(order, sc->seed ^ 0xb0d6e7ULL);
    }
    for (guint i = 0; i < order->len; i++) {
        guint idx = g_array_index(order, guint, i);
        if (l->results[idx] == NULL) {
            g_thread_pool_push(pool, GUINT_TO_POINTER(idx + 1), NULL);
        }
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    if (l->tty) {
        g_printerr("\n");
    }
    return TRUE;
}

/* What summary.json, points.json and junit.xml say of the run. */
static void
run_info(const SimRun *r, const SimBed *bed, const Loop *l,
         JsonNode *fault_json, PpRunInfo *info)
{
    const PpScenario *sc = r->sc;
    *info = (PpRunInfo){
        .tier = "sim",
        .scenario_name = sc->name,
        .scenario_path = sc->path,
        .action = pp_action_to_string(sc->action),
        .bootloader = sc->bootloader,
        .strategy = pp_strategy_to_string(sc->strategy),
        .expect_failures = sc->expect_failures,
        .firmware_repo = sc->repo,
        .firmware_from = sc->from_rev,
        .firmware_to = sc->to_rev,
        .to_commit = bed->env.to_commit,
        .model = cfi_model_to_string(sc->model),
        .seed = sc->seed,
        .repeat = sc->repeat,
        .points = r->pts,
        .resume = r->resume_str,
        .client_path = sc->ostree,
        .client_version = r->version,
        .trace_path = bed->env.trace_path,
        .records = l->records,
        .commit_point = bed->env.phases.commit_point,
        .points_total = l->mine->len,
        .started = r->started,
        .jobs = (guint)r->opt->jobs,
        .recording_id = r->rec != NULL ? r->rec->id : NULL,
        .recording_dir = r->rec != NULL ? r->rec->dir : NULL,
        .shard_index = r->shard.index,
        .shard_count = r->shard.count,
        .points_all = l->points->len,
        .fault = fault_json,
        .judge_seconds = (double)(g_get_monotonic_time() - l->t0) / 1e6,
        .interrupted = pp_interrupt_signal() != 0,
        .continued = r->camp != NULL,
        .cases_kept = l->kept,
        .budget_s = r->budget_s,
        .budget_hit = l->budget_hit,
        .duration_s = (double)(g_get_monotonic_time() - r->t_start) / 1e6,
    };
}

/* The cases judged, in point order, out of l (their case files were
   written as they ended: keep_case). */
static GPtrArray *
take_cases(Loop *l)
{
    GPtrArray *cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    for (guint i = 0; i < l->points->len; i++) {
        if (l->results[i] != NULL) {
            g_ptr_array_add(cases, g_steal_pointer(&l->results[i]));
        }
    }
    return cases;
}

/* The first ten failures and the count; how many failed. */
static guint
print_results(const SimRun *r, const Loop *l, const GPtrArray *cases,
              const PpRunInfo *info)
{
    guint failed = 0;
    guint known = 0;
    for (guint i = 0; i < cases->len; i++) {
        PpCase *c = cases->pdata[i];
        known += pp_case_known(c);
        if (pp_case_failed(c)) {
            if (failed < 10) {
                g_print("  FAIL %s [%s] %s: %s\n       %s\n", c->id,
                        pp_phase_name(c->phase), pp_outcome_to_string(c->verdict), c->reason, c->call);
            }
            failed++;
        }
    }
    g_autofree char *known_note = known > 0
        ? g_strdup_printf(", %u known", known) : g_strdup("");
    g_print("%u passed, %u failed%s (%u cases, %.0f states/minute, %.1f s); "
            "results in %s\n", cases->len - failed - known, failed,
            known_note, cases->len,
            info->judge_seconds > 0
                ? 60.0 * (cases->len - l->kept) / info->judge_seconds : 0.0,
            info->duration_s, r->dir);
    return failed;
}

/*
 * The run's verdict, the first that applies: a case that could not be
 * judged, the signal, results that could not be written, the failed
 * cases; then the [fault] run's (a fault that did not fire is a usage
 * error).  An error not returned is printed here.
 */
static gboolean
verdict(const SimRun *r, const SimBed *bed, Loop *l, guint n_cases,
        guint failed, GError *write_error_taken, GError **error)
{
    g_autoptr(GError) write_error = write_error_taken;
    g_autoptr(GError) found = NULL;
    int signo = pp_interrupt_signal();
    if (l->first_error != NULL) {
        found = g_steal_pointer(&l->first_error);
        g_prefix_error(&found, "a case could not be judged: ");
    } else if (signo != 0) {
        pp_simcmd_print_continue(r->dir);
        pp_throw_interrupted_msg(&found, signo, "interrupted by signal %d "
                                 "after %u of %u cases; those are kept in %s",
                                 signo, n_cases, l->mine->len, r->dir);
    } else if (write_error != NULL) {
        found = g_steal_pointer(&write_error);
    } else if (failed > 0) {
        pp_throw_code(&found, PP_ERROR_FAILURES, "%u of %u cases failed",
                      failed, n_cases);
    }
    if (write_error != NULL) {
        pp_print_error("sim", write_error);
    }
    const PpSimFault *fault = &bed->fault;
    if (fault->active && !fault->fired && found == NULL) {
        pp_throw_code(&found, PP_ERROR_USAGE, "%s", fault->verdict);
    } else if (pp_fault_failed(fault)) {
        g_print("  FAIL the faulted update: %s\n", fault->verdict);
        if (found == NULL) {
            pp_throw_code(&found, PP_ERROR_FAILURES, "the faulted update "
                          "failed: %s", fault->verdict);
        }
    }
    if (l->budget_hit) {
        g_print("budget of %" G_GINT64_FORMAT " s reached: %u of %u crash "
                "points covered (plugpull sim --out %s --resume judges the "
                "rest)\n", r->budget_s, n_cases, l->mine->len, r->dir);
    }
    if (found != NULL) {
        g_propagate_error(error, g_steal_pointer(&found));
        return FALSE;
    }
    return TRUE;
}

/* Results written (summary.json, points.json, junit.xml), printed, and
   the verdict. */
static gboolean
report(const SimRun *r, const SimBed *bed, Loop *l, JsonNode *fault_json,
       GError **error)
{
    PpRunInfo info;
    run_info(r, bed, l, fault_json, &info);
    g_autoptr(GPtrArray) cases = take_cases(l);
    g_autoptr(GError) write_error = NULL;
    gboolean written = pp_known_apply(r->known, cases, r->cases_dir, NULL,
                                      &write_error)
        && pp_write_points(r->dir, &info, cases, &write_error)
        && pp_write_summary(r->dir, &info, cases, &write_error)
        && pp_write_junit(r->dir, &info, cases, &write_error);
    guint failed = print_results(r, l, cases, &info);
    return verdict(r, bed, l, cases->len, failed,
                   written ? NULL : g_steal_pointer(&write_error), error);
}


gboolean
pp_simcmd_judge(const SimRun *r, SimBed *bed, const char *rec_id,
                JsonNode *fault_json, GError **error)
{
    g_auto(Loop) l = { 0 };
    if (!judge(r, bed, rec_id, &l, error)) {
        return FALSE;
    }
    return report(r, bed, &l, fault_json, error);
}
