/* SPDX-License-Identifier: MIT */
/*
 * cmd-sim.c: plugpull sim: every crash point of an OSTree update, each
 * judged by the oracle.  See sim.h for the method.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include "server/fixture.h"
#include "server/httpd.h"
#include "plugpull.h"
#include "sim/record.h"
#include "sim/sim.h"
#include "sim/sim-campaign.h"
#include "sim/sim-fault.h"
#include "sim/sim-fidelity.h"
#include "sim/sim-out.h"
#include "common/json.h"
#include "sim/sim-points.h"
#include "sim/sim-rec.h"
#include "common/util.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
    interrupted = sig;
}

typedef struct {
    PpSimEnv *env;
    gint64 deadline;          /* monotonic us; 0 = no budget */
    gboolean budget_hit;
    GArray *points;           /* every point of the campaign */
    guint total;              /* how many of them this run judges */
    GHashTable *resume_set;   /* k -> resume this one */
    guint repeat;             /* cuts per resumed case */
    PpCase **results;         /* one slot per point of the campaign */
    GError *first_error;
    GMutex lock;
    guint done;
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

static void
run_one(gpointer data, gpointer user_data)
{
    Loop *l = user_data;
    guint idx = GPOINTER_TO_UINT(data) - 1;
    if (interrupted || l->first_error != NULL) {
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
    if (c != NULL && !interrupted && !keep_case(l, idx, c, &error)) {
        g_clear_pointer(&c, pp_case_free);
    }
    g_mutex_lock(&l->lock);
    if (c == NULL) {
        if (l->first_error == NULL) {
            l->first_error = g_steal_pointer(&error);
        }
    } else if (!interrupted) {
        l->results[idx] = c;
        l->done++;
        l->failed += pp_case_failed(c);
        report_progress(l);
    } else {
        pp_case_free(c);
    }
    g_mutex_unlock(&l->lock);
}

/* Prepare the device and record the update; fills env. */
static gboolean
prepare(const PpScenario *sc, const char *work, PpFixture **out_fx,
        PpHttpd **out_httpd, PpRecording *rec, PpSimFault *fault,
        GError **error)
{
    g_autofree char *fxdir = g_build_filename(work, "fixture", NULL);
    g_autoptr(PpFixture) fx = NULL;
    if (!pp_fixture_build_repo(fxdir, sc->payload_kb, &fx, error)) {
        g_prefix_error(error, "building the fixture firmware: ");
        return FALSE;
    }
    g_autoptr(PpHttpd) httpd = pp_httpd_start(fx->srv_dir, 0, error);
    if (httpd == NULL) {
        g_prefix_error(error, "starting the TreeHub stand-in: ");
        return FALSE;
    }
    g_autofree char *url = g_strdup_printf("%s/repo", pp_httpd_get_url(httpd));
    /* With [firmware] history the device first runs the oldest version
       and is updated untraced through the others up to `from`. */
    guint first = sc->n_history > 0 ? sc->history[0] : sc->from_version;
    if ((first != 1 && !pp_fixture_publish(fx, first, error))
        || !pp_fixture_make_sysroot_full(fx, url, sc->bootloader, error)) {
        g_prefix_error(error, "preparing the device: ");
        return FALSE;
    }
    for (guint i = 1; i < sc->n_history; i++) {
        g_autofree char *sysroot_arg = g_strdup_printf("--sysroot=%s",
                                                       fx->sysroot);
        g_autofree char *os_arg = g_strdup_printf("--os=%s", fx->osname);
        const char *upgrade[] = { "admin", "upgrade", sysroot_arg, os_arg,
                                  NULL };
        if (!pp_fixture_publish(fx, sc->history[i], error)
            || !pp_fixture_ostree_device(upgrade, NULL, error)) {
            g_prefix_error(error, "preparing the device (history, v%u -> "
                           "v%u): ", sc->history[i - 1], sc->history[i]);
            return FALSE;
        }
    }
    g_autofree char *repo_opt = g_strdup_printf("--repo=%s/ostree/repo",
                                                fx->sysroot);
    for (char **kv = sc->repo_config; kv != NULL && *kv != NULL; kv++) {
        g_autofree char *key = g_strndup(*kv, strcspn(*kv, "="));
        const char *val = strchr(*kv, '=') + 1;
        const char *argv[] = { repo_opt, "config", "set", key, val, NULL };
        if (!pp_fixture_ostree_device(argv, NULL, error)) {
            g_prefix_error(error, "setting %s on the device repo: ", *kv);
            return FALSE;
        }
    }
    /* Going back to an older version publishes its tree again. */
    if (sc->to_version < sc->from_version
        ? !pp_fixture_publish_again(fx, sc->to_version, error)
        : !pp_fixture_publish(fx, sc->to_version, error)) {
        return FALSE;
    }
    if (sc->static_delta
        && !pp_fixture_generate_delta(fx, sc->from_version, sc->to_version,
                                      error)) {
        return FALSE;
    }

    g_autofree char *sysroot_opt = g_strdup_printf("--sysroot=%s", fx->sysroot);
    g_autofree char *os_opt = g_strdup_printf("--os=%s", fx->osname);
    g_autofree char *refspec = g_strdup_printf("origin:%s", fx->ref);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, sc->ostree);
    switch (sc->action) {
    case PP_ACTION_UPGRADE:
        g_ptr_array_add(argv, (char *)"admin");
        g_ptr_array_add(argv, (char *)"upgrade");
        g_ptr_array_add(argv, sysroot_opt);
        g_ptr_array_add(argv, os_opt);
        break;
    case PP_ACTION_DEPLOY: {
        /* The pull is not what is under test here: do it first, untraced. */
        const char *pull[] = { repo_opt, "pull", "origin", fx->ref, NULL };
        if (!pp_fixture_ostree_device(pull, NULL, error)) {
            return FALSE;
        }
        g_ptr_array_add(argv, (char *)"admin");
        g_ptr_array_add(argv, (char *)"deploy");
        g_ptr_array_add(argv, sysroot_opt);
        g_ptr_array_add(argv, os_opt);
        g_ptr_array_add(argv, refspec);
        break;
    }
    case PP_ACTION_PULL:
        g_ptr_array_add(argv, repo_opt);
        g_ptr_array_add(argv, (char *)"pull");
        g_ptr_array_add(argv, (char *)"origin");
        g_ptr_array_add(argv, fx->ref);
        break;
    }
    g_ptr_array_add(argv, NULL);
    g_autofree char *recdir = g_build_filename(work, "record", NULL);
    /* [fault]: the traced run meets the error (simfault.h). */
    if (!pp_fault_arm(sc, httpd, fx->srv_dir, fx->sysroot, fault, error)
        || !pp_record_client_rules(fx->sysroot, recdir,
                                   (const char *const *)argv->pdata, NULL,
                                   fault->rule, rec, error)) {
        return FALSE;
    }
    pp_fault_note_run(fault, rec, httpd);
    if (rec->exit_status != 0 && !fault->active) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the traced update itself failed (%s exited %d): %s",
                    sc->ostree, rec->exit_status, rec->client_err);
        return FALSE;
    }
    *out_fx = g_steal_pointer(&fx);
    *out_httpd = g_steal_pointer(&httpd);
    return TRUE;
}

/*
 * A directory on tmpfs to build crash states in, when there is one with
 * room.  Each state is a few thousand directory entries created and
 * removed again: on tmpfs that costs a fraction of what it costs on a disk
 * filesystem, and the states are thrown away anyway.  The client itself
 * always ran on the real filesystem under DIR/work.
 */
static char *
fast_work_dir(void)
{
    struct statfs sf;
    if (statfs("/dev/shm", &sf) < 0 || sf.f_type != TMPFS_MAGIC
        || (guint64)sf.f_bavail * (guint64)sf.f_bsize < (1ULL << 30)) {
        return NULL;
    }
    char *dir = g_strdup("/dev/shm/plugpull-XXXXXX");
    if (g_mkdtemp(dir) == NULL) {
        g_free(dir);
        return NULL;
    }
    return dir;
}

/* How many recordings may fail the fidelity check before sim gives up. */
#define PP_SIM_RECORD_ATTEMPTS 3

/* Record the update on a fresh device under work: fills env (and the
 * stand-in serving the firmware, which resumes need). */
static gboolean
env_record(const PpScenario *sc, const char *work, PpSimEnv *env,
           PpHttpd **out_httpd, PpSimFault *fault, GError **error)
{
    g_autoptr(PpFixture) fx = NULL;
    PpRecording rec = { 0 };
    if (!prepare(sc, work, &fx, out_httpd, &rec, fault, error)) {
        pp_recording_clear(&rec);
        return FALSE;
    }
    env->trace_path = g_strdup(rec.trace);
    env->root = g_strdup(rec.root);
    env->snapshot = g_strdup(rec.snapshot);
    env->srv_dir = g_strdup(fx->srv_dir);
    env->srv_repo = g_strdup(fx->srv_repo);
    env->commits = g_new0(char *, PP_FIXTURE_N_VERSIONS + 2);
    for (guint v = 0; v < PP_FIXTURE_N_VERSIONS; v++) {
        env->commits[v] = g_strdup(fx->commits[v]);
    }
    /* A version published again is a known-good tree of its own commit. */
    env->commits[PP_FIXTURE_N_VERSIONS] = g_strdup(fx->again);
    env->to_commit = g_strdup(fx->again != NULL ? fx->again
                              : fx->commits[sc->to_version - 1]);
    env->osname = g_strdup(fx->osname);
    env->bootloader = g_strdup(sc->bootloader);
    pp_recording_clear(&rec);
    return TRUE;
}

/* Reuse a recording made by --record-only: fills env; the stand-in
 * serves the recording's firmware repo. */
static gboolean
env_reuse(const PpSimRec *rec, const PpScenario *sc, PpSimEnv *env,
          PpHttpd **out_httpd, GError **error)
{
    pp_simrec_fill_env(rec, env);
    if (sc->action == PP_ACTION_PULL) {
        return TRUE;
    }
    *out_httpd = pp_httpd_start(rec->srv_dir, 0, error);
    if (*out_httpd == NULL) {
        g_prefix_error(error, "starting the TreeHub stand-in: ");
        return FALSE;
    }
    return TRUE;
}

/*
 * Where crash states are built: beside a copy of the snapshot on tmpfs
 * when there is room (*out_fast, to remove at the end), else under work.
 * Case files keep naming the snapshot the run was given.
 */
static gboolean
env_place_states(PpSimEnv *env, const char *work, gboolean no_tmpfs,
                 char **out_fast, GError **error)
{
    g_autofree char *fast = no_tmpfs ? NULL : fast_work_dir();
    if (fast == NULL) {
        env->states_dir = g_build_filename(work, "states", NULL);
        return TRUE;
    }
    g_autofree char *snap = g_build_filename(fast, "snapshot", NULL);
    if (!pp_copy_tree(env->snapshot, snap, error)) {
        g_prefix_error(error, "copying the snapshot to tmpfs: ");
        pp_rm_rf(fast, NULL);
        return FALSE;
    }
    env->case_snapshot = g_steal_pointer(&env->snapshot);
    env->snapshot = g_steal_pointer(&snap);
    env->states_dir = g_build_filename(fast, "states", NULL);
    *out_fast = g_steal_pointer(&fast);
    return TRUE;
}

/*
 * [fault]: judge the state the faulted run left and its retry, before the
 * crash points (see simfault.h); the case file goes beside the others.
 */
static gboolean
run_fault(PpSimFault *fault, PpSimEnv *env, const char *dir,
          const PpScenario *sc, JsonNode **out_json)
{
    g_autoptr(GError) error = NULL;
    if (!pp_fault_judge(fault, env, &error)) {
        pp_print_error("sim", error);
        return FALSE;
    }
    g_print("fault: %s\n", fault->verdict);
    if (fault->end != NULL) {
        g_autoptr(JsonNode) node = pp_case_to_json(env, fault->end, sc->path);
        g_autofree char *name = g_strdup_printf("%s.json", fault->end->id);
        g_autofree char *path = g_build_filename(dir, "cases", name, NULL);
        if (!pp_write_json(path, node, &error)) {
            pp_print_error("sim", error);
            return FALSE;
        }
    }
    *out_json = pp_fault_to_json(fault, sc);
    return TRUE;
}

/* --record-only: the recording is kept with its manifest, nothing is
 * judged.  env is loaded (so the recording is known to be usable). */
static int
record_only(const char *dir, const PpScenario *sc, const char *scenario_path,
            const PpSimEnv *env, const char *version)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    if (scenario_path != NULL
        && !g_file_get_contents(scenario_path, &text, NULL, &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_HARNESS;
    }
    if (!pp_simrec_write(dir, sc, text, env, version, NULL, &error)) {
        pp_print_error("sim: writing the recording", error);
        return PP_EXIT_HARNESS;
    }
    g_autoptr(GArray) points = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GHashTable) resume_set = g_hash_table_new(NULL, NULL);
    pp_sim_choose_points(env, sc, points, resume_set);
    g_autofree char *pts = pp_points_to_string(sc->points, sc->sample);
    g_print("recorded %u calls in %s; the campaign (points %s) has %u crash "
            "points, %u to resume\n", cfi_trace_n_records(env->trace), dir,
            pts, points->len, g_hash_table_size(resume_set));
    g_print("judge them with: plugpull sim --recording %s [--shard K/N] "
            "--out DIR\n", dir);
    return PP_EXIT_OK;
}

/* The exact command that continues the campaign in dir. */
static void
print_continue(const char *dir)
{
    g_autofree char *q = g_shell_quote(dir);
    g_printerr("continue it with: plugpull sim --out %s --resume\n", q);
}

/*
 * --resume without a usable recording: nothing judged so far can be
 * trusted (it belongs to another trace, or to a [fault] run that is
 * judged in one piece), so the campaign starts again in dir.
 */
static gboolean
start_over(const char *work, const char *cases_dir, GError **error)
{
    if (!pp_rm_rf(work, error) || !pp_rm_rf(cases_dir, error)) {
        return FALSE;
    }
    return pp_mkdir_p(cases_dir, error);
}

/*
 * --resume of a campaign that recorded its own update: the recording in
 * work when its manifest verifies (the trace reads back with its SHA-256,
 * the snapshot and firmware repo with their digests), else NULL after
 * starting over.  FALSE only when starting over failed.
 */
static gboolean
reuse_own_recording(const PpScenario *sc, const char *work,
                    const char *cases_dir, PpSimRec **out_rec,
                    GError **error)
{
    *out_rec = NULL;
    g_autofree char *manifest = g_build_filename(work, PP_SIMREC_MANIFEST,
                                                 NULL);
    if (pp_scenario_has_fault(sc)) {
        g_print("resume: a [fault] campaign is judged in one run: it starts "
                "again\n");
        return start_over(work, cases_dir, error);
    }
    if (!g_file_test(manifest, G_FILE_TEST_EXISTS)) {
        g_print("resume: no recording was completed (%s is missing): "
                "recording again\n", manifest);
        return start_over(work, cases_dir, error);
    }
    g_autoptr(GError) local = NULL;
    *out_rec = pp_simrec_load(work, &local);
    if (*out_rec == NULL) {
        g_print("resume: the recording in %s is unusable, so are the cases "
                "judged on it; recording again:\n  %s\n", work,
                local->message);
        return start_over(work, cases_dir, error);
    }
    g_print("resume: reusing the recording %s (id %.12s, %u calls)\n", work,
            (*out_rec)->id, (*out_rec)->records);
    return TRUE;
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

int
pp_cmd_sim(int argc, char **argv)
{
    g_autofree char *scenario_path = NULL;
    g_autofree char *model = NULL;
    g_autofree char *points = NULL;
    g_autofree char *ostree = NULL;
    g_autofree char *out = NULL;
    g_autofree char *resume = NULL;
    g_autofree char *budget = NULL;
    g_autofree char *recording = NULL;
    g_autofree char *shard_arg = NULL;
    gint64 seed = -1;
    gint jobs = 2;
    gboolean no_tmpfs = FALSE;
    gboolean record_only_opt = FALSE;
    gboolean resume_opt = FALSE;
    GOptionEntry entries[] = {
        { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_path,
          "campaign file (default: the built-in upgrade v1 -> v2)", "FILE" },
        { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
          "process-kill, ordered, strict, torn, reorder", "M" },
        { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "seed of every random "
          "choice", "N" },
        { "points", 'p', 0, G_OPTION_ARG_STRING, &points,
          "all, barriers, sample:N or none", "P" },
        { "ostree", 0, 0, G_OPTION_ARG_FILENAME, &ostree,
          "the client under test (default /usr/bin/ostree)", "PATH" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "cases judged at once "
          "(default 2)", "J" },
        { "budget", 0, 0, G_OPTION_ARG_STRING, &budget,
          "stop starting cases after this long (90s, 15m, 1h) and report "
          "what was covered", "DURATION" },
        { "no-tmpfs", 0, 0, G_OPTION_ARG_NONE, &no_tmpfs,
          "build crash states under DIR/work, not on /dev/shm", NULL },
        { "resume-updates", 0, 0, G_OPTION_ARG_STRING, &resume,
          "which states are also rebooted and updated again: all, none, "
          "sample:N (the scenario's [verify] resume)", "R" },
        { "record-only", 0, 0, G_OPTION_ARG_NONE, &record_only_opt,
          "record the update into DIR and judge nothing: a recording for "
          "--recording", NULL },
        { "recording", 0, 0, G_OPTION_ARG_FILENAME, &recording,
          "judge the crash points of this recording (made by --record-only) "
          "instead of recording again", "REC" },
        { "shard", 0, 0, G_OPTION_ARG_STRING, &shard_arg,
          "judge only shard K of N of the crash points (needs --recording; "
          "join the shards with plugpull merge)", "K/N" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "results directory (new or empty)", "DIR" },
        { "resume", 0, 0, G_OPTION_ARG_NONE, &resume_opt,
          "continue the campaign in --out DIR where it stopped (signal, "
          "crash): its finished cases are kept, the rest judged", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(ctx, "Cut the power at every chosen point of "
                                 "an OSTree update in simulation, and judge "
                                 "each crash state.\nExit status: 0 all "
                                 "passed, 1 a failure was found, 2 usage or "
                                 "scenario error, 3 the harness failed, 130 "
                                 "(SIGINT) or 143 (SIGTERM) interrupted: "
                                 "--resume continues.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_USAGE;
    }
    if (out == NULL || argc != 1) {
        g_printerr("plugpull: sim: needs --out DIR (and no other argument)\n");
        return PP_EXIT_USAGE;
    }
    gint64 budget_s = 0;
    if (budget != NULL && !pp_parse_duration(budget, &budget_s)) {
        g_printerr("plugpull: sim: --budget must be a duration like 90s, 15m, "
                   "1h30m, not '%s'\n", budget);
        return PP_EXIT_USAGE;
    }
    if (jobs < 1 || jobs > 64) {
        g_printerr("plugpull: sim: --jobs must be 1 to 64\n");
        return PP_EXIT_USAGE;
    }
    g_autoptr(PpCampaign) camp = NULL;
    if (resume_opt) {
        if (record_only_opt) {
            g_printerr("plugpull: sim: --resume continues a campaign; "
                       "--record-only makes a recording\n");
            return PP_EXIT_USAGE;
        }
        g_autofree char *d = g_canonicalize_filename(out, NULL);
        camp = pp_campaign_load(d, &error);
        PpCampaignAsk ask = { scenario_path, model, points, seed, resume,
                              shard_arg, budget != NULL ? budget_s : -1,
                              recording, ostree };
        if (camp == NULL || !pp_campaign_check(camp, &ask, &error)) {
            pp_print_error("sim: --resume", error);
            return PP_EXIT_USAGE;
        }
        /* From here on, the campaign's values are the options. */
        g_clear_pointer(&scenario_path, g_free);
        g_free(model);
        model = g_strdup(camp->model);
        g_free(points);
        points = g_strdup(camp->points);
        seed = (gint64)camp->seed;
        g_free(resume);
        resume = g_strdup(camp->resume_updates);
        g_free(shard_arg);
        shard_arg = g_strdup(camp->shard);
        budget_s = camp->budget_s;
        g_free(recording);
        recording = g_strdup(camp->recording);
        if (ostree == NULL) {
            ostree = g_strdup(camp->client_path);
        }
    }
    PpShard shard = { 0 };
    if (shard_arg != NULL && !pp_shard_parse(shard_arg, &shard, &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_USAGE;
    }
    if (record_only_opt && (recording != NULL || shard_arg != NULL)) {
        g_printerr("plugpull: sim: --record-only makes a recording; "
                   "--recording and --shard use one\n");
        return PP_EXIT_USAGE;
    }
    if (shard_arg != NULL && recording == NULL) {
        /* Shards that each recorded the update judged different traces:
         * their results could not be merged. */
        g_printerr("plugpull: sim: --shard needs --recording REC: every "
                   "shard must judge the crash states of one recording "
                   "(make it once with plugpull sim --record-only --out "
                   "REC)\n");
        return PP_EXIT_USAGE;
    }

    g_autoptr(PpSimRec) rec = NULL;
    g_autoptr(PpScenario) sc = NULL;
    if (recording != NULL) {
        rec = pp_simrec_load(recording, &error);
        if (rec == NULL) {
            pp_print_error("sim", error);
            return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                   || g_error_matches(error, G_IO_ERROR,
                                      G_IO_ERROR_INVALID_DATA)
                ? PP_EXIT_USAGE : PP_EXIT_HARNESS;
        }
        PpSimRecAsk ask = { scenario_path, model, points, seed, resume };
        sc = pp_simrec_scenario(rec, &ask, ostree, &error);
        if (sc == NULL) {
            pp_print_error("sim", error);
            return PP_EXIT_USAGE;
        }
    } else {
        if (camp != NULL && camp->scenario_text != NULL) {
            sc = pp_scenario_load_data(camp->scenario_text,
                                       camp->scenario_path, &error);
        } else {
            sc = scenario_path != NULL
                ? pp_scenario_load_checked(scenario_path, &error)
                : pp_scenario_new_default();
        }
        if (sc == NULL) {
            g_printerr("plugpull: sim: bad scenario:\n%s\n", error->message);
            return PP_EXIT_USAGE;
        }
        if (model != NULL
            && !cfi_model_from_string(model, &sc->model, &error)) {
            pp_print_error("sim", error);
            return PP_EXIT_USAGE;
        }
        if (points != NULL && !pp_points_parse(points, &sc->points,
                                               &sc->sample, &error)) {
            pp_print_error("sim", error);
            return PP_EXIT_USAGE;
        }
        if (seed >= 0) {
            sc->seed = (guint64)seed;
        }
        if (resume != NULL && !pp_resume_parse(resume, &sc->resume,
                                               &sc->resume_sample, &error)) {
            pp_print_error("sim", error);
            return PP_EXIT_USAGE;
        }
        if (ostree != NULL) {
            g_free(sc->ostree);
            sc->ostree = g_steal_pointer(&ostree);
        }
    }
    if (pp_scenario_has_fault(sc) && (record_only_opt || rec != NULL)) {
        /* The fault's verdict comes from the recording run itself. */
        g_printerr("plugpull: sim: a [fault] scenario is judged in one run: "
                   "not with --record-only, --recording or --shard\n");
        return PP_EXIT_USAGE;
    }
    if (!g_file_test(sc->ostree, G_FILE_TEST_IS_EXECUTABLE)
        || g_file_test(sc->ostree, G_FILE_TEST_IS_DIR)) {
        g_printerr("plugpull: sim: the client %s is missing or not "
                   "executable\n", sc->ostree);
        return PP_EXIT_USAGE;
    }
    g_autofree char *dir = g_canonicalize_filename(out, NULL);
    if (camp == NULL && !pp_out_dir_prepare(dir, &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_USAGE;
    }
    g_autofree char *cases_dir = g_build_filename(dir, "cases", NULL);
    g_autofree char *work = g_build_filename(dir, "work", NULL);
    g_autofree char *done_dir = g_build_filename(work, "done", NULL);
    if (!record_only_opt) {
        g_mkdir_with_parents(cases_dir, 0755);
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    gint64 t_start = g_get_monotonic_time();
    g_autofree char *started = camp != NULL
        ? g_strdup(camp->started) : g_date_time_format_iso8601(now);
    g_autofree char *version = pp_ostree_version(sc->ostree);
    g_autofree char *pts = pp_points_to_string(sc->points, sc->sample);
    g_autofree char *resume_str = pp_resume_to_string(sc->resume,
                                                      sc->resume_sample);
    /* The scenario's text, which campaign.json keeps. */
    g_autofree char *scenario_text = NULL;
    if (camp != NULL) {
        scenario_text = g_strdup(camp->scenario_text);
    } else if (rec != NULL) {
        scenario_text = g_strdup(rec->scenario_text);
    } else if (scenario_path != NULL
               && !g_file_get_contents(scenario_path, &scenario_text, NULL,
                                       &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_USAGE;
    }
    if (camp == NULL && !record_only_opt) {
        /* First, so that whatever happens next can be resumed. */
        PpCampaign fresh = {
            .scenario_path = sc->path,
            .scenario_text = scenario_text,
            .model = (char *)cfi_model_to_string(sc->model),
            .points = pts,
            .seed = sc->seed,
            .resume_updates = resume_str,
            .shard = shard_arg,
            .budget_s = budget_s,
            .recording = rec != NULL ? rec->dir : NULL,
            .client_path = sc->ostree,
            .client_version = version,
            .started = started,
        };
        if (!pp_campaign_write(dir, &fresh, &error)) {
            pp_print_error("sim", error);
            return PP_EXIT_HARNESS;
        }
    }
    pp_autofd int lock_fd = -1;
    if (!record_only_opt
        && (lock_fd = pp_campaign_lock(dir, &error)) < 0) {
        pp_print_error("sim", error);
        return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)
            ? PP_EXIT_USAGE : PP_EXIT_HARNESS;
    }
    if (camp != NULL) {
        pp_campaign_remove_scratch(work);
    }

    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    g_autofree char *repeat_note = sc->repeat > 1
        ? g_strdup_printf(", %u cuts per resumed case", sc->repeat)
        : g_strdup("");
    g_print("plugpull sim: scenario %s (%s), %s of v%u -> v%u, %s device, "
            "model %s, points %s, seed %" G_GUINT64_FORMAT "%s\n", sc->name,
            sc->path, pp_action_to_string(sc->action), sc->from_version,
            sc->to_version, sc->bootloader, cfi_model_to_string(sc->model),
            pts, sc->seed, repeat_note);
    g_print("client: %s %s\n", sc->ostree, version);
    if (rec != NULL) {
        g_print("recording: %s (id %.12s, recorded %s)\n", rec->dir,
                rec->id, rec->recorded);
    }
    if (camp != NULL) {
        g_print("resume: the campaign started %s in %s\n", camp->started,
                dir);
    }
    g_autoptr(PpSimRec) own = NULL;
    if (camp != NULL && rec == NULL
        && !reuse_own_recording(sc, work, cases_dir, &own, &error)) {
        pp_print_error("sim: --resume", error);
        return PP_EXIT_HARNESS;
    }
    g_autoptr(PpHttpd) httpd = NULL;
    PpSimEnv env = { 0 };
    g_auto(PpSimFault) fault = { 0 };
    g_autofree char *fast = NULL;
    /*
     * A fresh trace must replay to what its run left (simfidelity.c).  One
     * that does not is a harness fault, not a finding: it is said, and the
     * update is recorded again, up to PP_SIM_RECORD_ATTEMPTS times.
     */
    for (guint attempt = 1;; attempt++) {
        gboolean fresh = rec == NULL && own == NULL;
        gboolean env_ok = !fresh
            ? env_reuse(rec != NULL ? rec : own, sc, &env, &httpd, &error)
            : env_record(sc, work, &env, &httpd, &fault, &error);
        if (!env_ok) {
            pp_print_error("sim", error);
            pp_sim_env_clear(&env);
            if (interrupted) {
                print_continue(dir);
                return 128 + (int)interrupted;
            }
            return PP_EXIT_HARNESS;
        }
        env.ostree = g_strdup(sc->ostree);
        env.model = sc->model;
        env.seed = sc->seed;
        env.redownload_threshold = sc->redownload_threshold;
        env.check_rollback = sc->check_rollback;
        env.httpd = sc->action == PP_ACTION_PULL ? NULL : httpd;
        g_autofree char *unfaithful = NULL;
        if (!env_place_states(&env, work, no_tmpfs || record_only_opt, &fast,
                              &error)
            || (fast != NULL && !record_only_opt
                && !pp_campaign_note_scratch(work, fast, &error))
            || !pp_sim_env_load(&env, &error)
            || (fresh && !pp_sim_check_fidelity(&env, &unfaithful, &error))) {
            pp_print_error("sim", error);
            pp_sim_env_clear(&env);
            if (fast != NULL) {
                pp_rm_rf(fast, NULL);
            }
            return PP_EXIT_HARNESS;
        }
        if (unfaithful == NULL) {
            break;
        }
        g_printerr("plugpull: sim: recording %u of %u: the trace does not "
                   "replay to the state its run left (a harness fault; its "
                   "crash states cannot be trusted): %s\n", attempt,
                   PP_SIM_RECORD_ATTEMPTS, unfaithful);
        if (attempt == PP_SIM_RECORD_ATTEMPTS || interrupted) {
            g_printerr("plugpull: sim: giving up; the last recording is kept "
                       "in %s\n", work);
            pp_sim_env_clear(&env);
            if (fast != NULL) {
                pp_rm_rf(fast, NULL);
            }
            return PP_EXIT_HARNESS;
        }
        pp_sim_env_clear(&env);
        g_mutex_clear(&env.resume_lock);
        memset(&env, 0, sizeof env);
        g_clear_pointer(&httpd, pp_httpd_stop);
        pp_sim_fault_clear(&fault);
        memset(&fault, 0, sizeof fault);
        if (fast != NULL) {
            pp_rm_rf(fast, NULL);
            g_clear_pointer(&fast, g_free);
        }
        if (!pp_rm_rf(work, &error)) {
            pp_print_error("sim", error);
            return PP_EXIT_HARNESS;
        }
        g_print("recording the update again\n");
    }
    /*
     * A campaign that recorded its own update keeps the recording's
     * manifest in work before judging anything: --resume reuses the trace
     * only when the manifest verifies.  (A [fault] campaign needs the
     * device as the faulted run left it, which the manifest drops.)
     */
    g_autofree char *own_id = NULL;
    if (rec == NULL && own == NULL && !record_only_opt && !fault.active
        && !pp_simrec_write(work, sc, scenario_text, &env, version, &own_id,
                            &error)) {
        pp_print_error("sim: writing the recording's manifest", error);
        pp_sim_env_clear(&env);
        if (fast != NULL) {
            pp_rm_rf(fast, NULL);
        }
        return PP_EXIT_HARNESS;
    }
    const char *rec_id = rec != NULL ? rec->id
        : own != NULL ? own->id : own_id != NULL ? own_id : "unrecorded";
    if (record_only_opt) {
        int rc = record_only(dir, sc, scenario_path, &env, version);
        g_autofree char *states = g_strdup(env.states_dir);
        pp_sim_env_clear(&env);
        pp_rm_rf(states, NULL);
        return rc;
    }

    g_autoptr(JsonNode) fault_json = NULL;
    if (fault.active && !run_fault(&fault, &env, dir, sc, &fault_json)) {
        pp_sim_env_clear(&env);
        if (fast != NULL) {
            pp_rm_rf(fast, NULL);
        }
        return PP_EXIT_HARNESS;
    }

    /* The crash points of the campaign, and this run's share of them. */
    g_autoptr(GArray) pointv = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GHashTable) resume_set = g_hash_table_new(NULL, NULL);
    pp_sim_choose_points(&env, sc, pointv, resume_set);
    if (fault.active && !fault.fired) {
        /* The trace is an ordinary update: nothing to judge. */
        g_array_set_size(pointv, 0);
        g_hash_table_remove_all(resume_set);
    }
    g_autoptr(GArray) mine = pp_shard_indices(pointv->len, &shard);
    guint records = cfi_trace_n_records(env.trace);
    g_print("trace: %u calls recorded in %s; %u crash points chosen, %u to "
            "resume; commit point #%d\n", records, env.trace_path,
            pointv->len, g_hash_table_size(resume_set),
            env.phases.commit_point);
    if (shard.count > 0) {
        g_print("shard %u/%u: %u of the %u crash points (index i with i mod "
                "%u = %u)\n", shard.index, shard.count, mine->len, pointv->len,
                shard.count, shard.index - 1);
    }

    Loop l = { 0 };
    l.env = &env;
    l.points = pointv;
    l.total = mine->len;
    l.resume_set = resume_set;
    l.repeat = sc->repeat;
    l.results = g_new0(PpCase *, pointv->len);
    l.t0 = g_get_monotonic_time();
    /* The budget counts from the start of the command, setup included. */
    l.deadline = budget_s > 0 ? t_start + budget_s * G_USEC_PER_SEC : 0;
    l.tty = isatty(2);
    l.out = dir;
    l.cases_dir = cases_dir;
    l.done_dir = done_dir;
    l.rec_id = rec_id;
    l.scenario_path = sc->path;
    g_mutex_init(&l.lock);
    if (!pp_mkdir_p(done_dir, &error)) {
        pp_print_error("sim", error);
        pp_sim_env_clear(&env);
        if (fast != NULL) {
            pp_rm_rf(fast, NULL);
        }
        return PP_EXIT_HARNESS;
    }
    guint kept = camp != NULL ? load_finished(&l, sc, mine) : 0;
    l.total = mine->len - kept;
    GThreadPool *pool = g_thread_pool_new(run_one, &l, jobs, TRUE, NULL);
    /*
     * Under a budget, judge the points in a seeded random order, so that
     * whatever the budget covers is spread over every phase of the update
     * rather than being its first minutes.  Results stay in point order.
     */
    g_autoptr(GArray) order = g_array_copy(mine);
    if (budget_s > 0) {
        pp_shuffle(order, sc->seed ^ 0xb0d6e7ULL);
    }
    for (guint i = 0; i < order->len; i++) {
        guint idx = g_array_index(order, guint, i);
        if (l.results[idx] == NULL) {
            g_thread_pool_push(pool, GUINT_TO_POINTER(idx + 1), NULL);
        }
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    if (l.tty) {
        g_printerr("\n");
    }

    PpRunInfo info = {
        .tier = "sim",
        .scenario_name = sc->name,
        .scenario_path = sc->path,
        .action = pp_action_to_string(sc->action),
        .bootloader = sc->bootloader,
        .expect_failures = sc->expect_failures,
        .model = cfi_model_to_string(sc->model),
        .seed = sc->seed,
        .repeat = sc->repeat,
        .points = pts,
        .resume = resume_str,
        .client_path = sc->ostree,
        .client_version = version,
        .trace_path = env.trace_path,
        .records = records,
        .commit_point = env.phases.commit_point,
        .points_total = mine->len,
        .started = started,
        .jobs = (guint)jobs,
        .recording_id = rec != NULL ? rec->id : NULL,
        .recording_dir = rec != NULL ? rec->dir : NULL,
        .shard_index = shard.index,
        .shard_count = shard.count,
        .points_all = pointv->len,
        .fault = fault_json,
    };
    info.judge_seconds = (double)(g_get_monotonic_time() - l.t0) / 1e6;

    int rc = PP_EXIT_OK;
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    for (guint i = 0; i < pointv->len; i++) {
        PpCase *c = l.results[i];
        if (c == NULL) {
            continue;
        }
        /* Its case file was written when it ended (keep_case). */
        g_ptr_array_add(cases, c);
    }
    g_free(l.results);
    info.interrupted = interrupted != 0;
    info.continued = camp != NULL;
    info.cases_kept = kept;
    info.budget_s = budget_s;
    info.budget_hit = l.budget_hit;
    info.duration_s = (double)(g_get_monotonic_time() - t_start) / 1e6;
    if (!pp_write_points(dir, &info, cases, &error)
        || !pp_write_summary(dir, &info, cases, &error)
        || !pp_write_junit(dir, &info, cases, &error)) {
        pp_print_error("sim", error);
        rc = PP_EXIT_HARNESS;
        g_clear_error(&error);
    }

    guint failed = 0;
    for (guint i = 0; i < cases->len; i++) {
        PpCase *c = cases->pdata[i];
        if (pp_case_failed(c)) {
            if (failed < 10) {
                g_print("  FAIL %s [%s] %s: %s\n       %s\n", c->id,
                        pp_phase_name(c->phase), c->outcome, c->reason, c->call);
            }
            failed++;
        }
    }
    g_print("%u passed, %u failed (%u cases, %.0f states/minute, %.1f s); "
            "results in %s\n", cases->len - failed, failed, cases->len,
            info.judge_seconds > 0
                ? 60.0 * (cases->len - kept) / info.judge_seconds : 0.0,
            info.duration_s, dir);
    if (l.first_error != NULL) {
        pp_print_error("sim: a case could not be judged", l.first_error);
        g_clear_error(&l.first_error);
        rc = PP_EXIT_HARNESS;
    } else if (interrupted) {
        g_printerr("plugpull: sim: interrupted by signal %d after %u of %u "
                   "cases; those are kept in %s\n", (int)interrupted,
                   cases->len, mine->len, dir);
        print_continue(dir);
        rc = 128 + (int)interrupted;
    } else if (rc == PP_EXIT_OK && failed > 0) {
        rc = PP_EXIT_FAILURES;
    }
    if (fault.active && !fault.fired && rc == PP_EXIT_OK) {
        g_printerr("plugpull: sim: %s\n", fault.verdict);
        rc = PP_EXIT_USAGE;
    } else if (pp_fault_failed(&fault)) {
        g_print("  FAIL the faulted update: %s\n", fault.verdict);
        rc = rc == PP_EXIT_OK ? PP_EXIT_FAILURES : rc;
    }
    if (l.budget_hit) {
        g_print("budget of %" G_GINT64_FORMAT " s reached: %u of %u crash "
                "points covered (plugpull sim --out %s --resume judges the "
                "rest)\n", budget_s, cases->len, mine->len, dir);
    }
    pp_sim_env_clear(&env);
    /*
     * The crash states are rebuilt on demand; the rest of work (fixture,
     * snapshot, trace) is what `plugpull replay` needs, so it stays.  A
     * run on a recording has nothing else there.
     */
    g_autofree char *states = g_build_filename(work, "states", NULL);
    pp_rm_rf(states, NULL);
    if (fast != NULL) {
        pp_rm_rf(fast, NULL);
        pp_campaign_remove_scratch(work);
    }
    if (rec != NULL) {
        g_rmdir(work);
    }
    return rc;
}
