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

#include "fixture.h"
#include "httpd.h"
#include "plugpull.h"
#include "record.h"
#include "sim.h"
#include "simout.h"
#include "tracestats.h"
#include "util.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
    interrupted = sig;
}

static guint64
splitmix64(guint64 *state)
{
    guint64 z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

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
        guint j = i + (guint)(splitmix64(&st) % (arr->len - i));
        guint t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    g_array_set_size(arr, n);
    g_array_sort(arr, cmp_uint);
}


typedef struct {
    PpSimEnv *env;
    gint64 deadline;          /* monotonic us; 0 = no budget */
    gboolean budget_hit;
    GArray *points;
    GHashTable *resume_set;   /* k -> resume this one */
    PpCase **results;         /* one slot per point */
    GError *first_error;
    GMutex lock;
    guint done;
    guint failed;
    gint64 t0;
    gboolean tty;
    const char *out;
} Loop;

static void
report_progress(Loop *l)
{
    guint total = l->points->len;
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
    PpCase *c = pp_sim_run_case(l->env, k, resume, FALSE, &error);
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
        PpHttpd **out_httpd, PpRecording *rec, GError **error)
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
    if ((sc->from_version != 1 && !pp_fixture_publish(fx, sc->from_version, error))
        || !pp_fixture_make_sysroot_full(fx, url, sc->bootloader, error)) {
        g_prefix_error(error, "preparing the device: ");
        return FALSE;
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
    if (!pp_fixture_publish(fx, sc->to_version, error)) {
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
    if (!pp_record_client(fx->sysroot, recdir, (const char *const *)argv->pdata,
                          NULL, rec, error)) {
        return FALSE;
    }
    if (rec->exit_status != 0) {
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

/* "90s", "15m", "2h", "1h30m", or plain seconds; FALSE when malformed. */
static gboolean
parse_duration(const char *s, gint64 *out_s)
{
    gint64 total = 0;
    const char *p = s;
    if (*p == '\0') {
        return FALSE;
    }
    while (*p != '\0') {
        char *end = NULL;
        guint64 v = g_ascii_strtoull(p, &end, 10);
        if (end == p) {
            return FALSE;
        }
        gint64 unit = 1;
        if (*end == 'h') {
            unit = 3600;
            end++;
        } else if (*end == 'm') {
            unit = 60;
            end++;
        } else if (*end == 's') {
            end++;
        } else if (*end != '\0') {
            return FALSE;
        }
        if (v > G_MAXINT32) {
            return FALSE;
        }
        total += (gint64)v * unit;
        p = end;
    }
    *out_s = total;
    return total > 0;
}

static gboolean
check_out_dir(const char *out, GError **error)
{
    if (g_file_test(out, G_FILE_TEST_EXISTS)) {
        g_autoptr(GDir) d = g_dir_open(out, 0, error);
        if (d == NULL) {
            return FALSE;
        }
        if (g_dir_read_name(d) != NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "%s is not empty: results are never overwritten "
                        "(choose a new --out or remove it)", out);
            return FALSE;
        }
    }
    return pp_mkdir_p(out, error);
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
    gint64 seed = -1;
    gint jobs = 2;
    gboolean no_tmpfs = FALSE;
    GOptionEntry entries[] = {
        { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_path,
          "campaign file (default: the built-in upgrade v1 -> v2)", "FILE" },
        { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
          "process-kill, ordered, strict, torn, reorder", "M" },
        { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "seed of every random "
          "choice", "N" },
        { "points", 'p', 0, G_OPTION_ARG_STRING, &points,
          "all, barriers or sample:N", "P" },
        { "ostree", 0, 0, G_OPTION_ARG_FILENAME, &ostree,
          "the client under test (default /usr/bin/ostree)", "PATH" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "cases judged at once "
          "(default 2)", "J" },
        { "budget", 0, 0, G_OPTION_ARG_STRING, &budget,
          "stop starting cases after this long (90s, 15m, 1h) and report "
          "what was covered", "DURATION" },
        { "no-tmpfs", 0, 0, G_OPTION_ARG_NONE, &no_tmpfs,
          "build crash states under DIR/work, not on /dev/shm", NULL },
        { "resume", 0, 0, G_OPTION_ARG_STRING, &resume,
          "which states are also rebooted and updated again: all, none, "
          "sample:N", "R" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "results directory (new or empty)", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(ctx, "Cut the power at every chosen point of "
                                 "an OSTree update in simulation, and judge "
                                 "each crash state.\nExit status: 0 all "
                                 "passed, 1 a failure was found, 2 usage or "
                                 "scenario error, 3 the harness failed, 130 "
                                 "interrupted.");
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
    if (budget != NULL && !parse_duration(budget, &budget_s)) {
        g_printerr("plugpull: sim: --budget must be a duration like 90s, 15m, "
                   "1h30m, not '%s'\n", budget);
        return PP_EXIT_USAGE;
    }
    if (jobs < 1 || jobs > 64) {
        g_printerr("plugpull: sim: --jobs must be 1 to 64\n");
        return PP_EXIT_USAGE;
    }
    g_autoptr(PpScenario) sc = scenario_path != NULL
        ? pp_scenario_load(scenario_path, &error) : pp_scenario_new_default();
    if (sc == NULL) {
        g_printerr("plugpull: sim: bad scenario:\n%s\n", error->message);
        return PP_EXIT_USAGE;
    }
    if (model != NULL && !cfi_model_from_string(model, &sc->model, &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_USAGE;
    }
    if (points != NULL && !pp_points_parse(points, &sc->points, &sc->sample,
                                           &error)) {
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
    if (!g_file_test(sc->ostree, G_FILE_TEST_IS_EXECUTABLE)
        || g_file_test(sc->ostree, G_FILE_TEST_IS_DIR)) {
        g_printerr("plugpull: sim: the client %s is missing or not "
                   "executable\n", sc->ostree);
        return PP_EXIT_USAGE;
    }
    g_autofree char *dir = g_canonicalize_filename(out, NULL);
    if (!check_out_dir(dir, &error)) {
        pp_print_error("sim", error);
        return PP_EXIT_USAGE;
    }
    g_autofree char *cases_dir = g_build_filename(dir, "cases", NULL);
    g_autofree char *work = g_build_filename(dir, "work", NULL);
    g_mkdir_with_parents(cases_dir, 0755);

    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    PpRunInfo info = { .tier = "sim", .scenario = sc, .jobs = (guint)jobs };
    info.started = g_date_time_format_iso8601(now);
    gint64 t_start = g_get_monotonic_time();
    g_autofree char *version = pp_ostree_version(sc->ostree);
    g_autofree char *pts = pp_points_to_string(sc->points, sc->sample);
    info.client_version = version;
    g_print("plugpull sim: scenario %s (%s), %s of v%u -> v%u, %s device, "
            "model %s, points %s, seed %" G_GUINT64_FORMAT "\n", sc->name,
            sc->path, pp_action_to_string(sc->action), sc->from_version,
            sc->to_version, sc->bootloader, cfi_model_to_string(sc->model),
            pts, sc->seed);
    g_print("client: %s %s\n", sc->ostree, version);

    g_autoptr(PpFixture) fx = NULL;
    g_autoptr(PpHttpd) httpd = NULL;
    PpRecording rec = { 0 };
    if (!prepare(sc, work, &fx, &httpd, &rec, &error)) {
        pp_print_error("sim", error);
        pp_recording_clear(&rec);
        return PP_EXIT_HARNESS;
    }
    PpSimEnv env = { 0 };
    env.trace_path = g_strdup(rec.trace);
    env.root = g_strdup(rec.root);
    env.snapshot = g_strdup(rec.snapshot);
    env.srv_dir = g_strdup(fx->srv_dir);
    env.srv_repo = g_strdup(fx->srv_repo);
    env.commits = g_new0(char *, PP_FIXTURE_N_VERSIONS + 1);
    for (guint v = 0; v < PP_FIXTURE_N_VERSIONS; v++) {
        env.commits[v] = g_strdup(fx->commits[v]);
    }
    env.to_commit = g_strdup(fx->commits[sc->to_version - 1]);
    env.osname = g_strdup(fx->osname);
    env.ostree = g_strdup(sc->ostree);
    env.bootloader = g_strdup(sc->bootloader);
    g_autofree char *fast = no_tmpfs ? NULL : fast_work_dir();
    if (fast != NULL) {
        g_autofree char *snap = g_build_filename(fast, "snapshot", NULL);
        if (!pp_copy_tree(env.snapshot, snap, &error)) {
            pp_print_error("sim: copying the snapshot to tmpfs", error);
            pp_rm_rf(fast, NULL);
            pp_sim_env_clear(&env);
            return PP_EXIT_HARNESS;
        }
        env.case_snapshot = g_steal_pointer(&env.snapshot);
        env.snapshot = g_steal_pointer(&snap);
        env.states_dir = g_build_filename(fast, "states", NULL);
    } else {
        env.states_dir = g_build_filename(work, "states", NULL);
    }
    env.model = sc->model;
    env.seed = sc->seed;
    env.redownload_threshold = sc->redownload_threshold;
    env.check_rollback = sc->check_rollback;
    env.httpd = sc->action == PP_ACTION_PULL ? NULL : httpd;
    pp_recording_clear(&rec);
    if (!pp_sim_env_load(&env, &error)) {
        pp_print_error("sim", error);
        pp_sim_env_clear(&env);
        if (fast != NULL) {
            pp_rm_rf(fast, NULL);
        }
        return PP_EXIT_HARNESS;
    }

    /* The crash points. */
    PpTraceStats st;
    g_autoptr(GArray) pointv = g_array_new(FALSE, FALSE, sizeof(guint));
    if (sc->points == PP_POINTS_BARRIERS) {
        pp_trace_stats_compute(env.trace, pointv, &st);
    } else {
        pp_trace_stats_compute(env.trace, NULL, &st);
        for (guint k = 0; k <= st.records; k++) {
            g_array_append_val(pointv, k);
        }
        if (sc->points == PP_POINTS_SAMPLE) {
            sample_in_place(pointv, sc->sample, sc->seed);
            g_array_sort(pointv, cmp_uint);
        }
    }
    info.records = st.records;
    info.points_total = pointv->len;

    /* Which of them are also resumed (+1: 0 is a valid k). */
    g_autoptr(GHashTable) resume_set = g_hash_table_new(NULL, NULL);
    if (sc->resume == PP_RESUME_ALL) {
        for (guint i = 0; i < pointv->len; i++) {
            g_hash_table_add(resume_set, GUINT_TO_POINTER(
                g_array_index(pointv, guint, i) + 1));
        }
    } else if (sc->resume == PP_RESUME_SAMPLE) {
        g_autoptr(GArray) r = g_array_copy(pointv);
        sample_in_place(r, sc->resume_sample, sc->seed + 1);
        for (guint i = 0; i < r->len; i++) {
            g_hash_table_add(resume_set, GUINT_TO_POINTER(
                g_array_index(r, guint, i) + 1));
        }
        if (env.phases.commit_point >= 0) {
            /* Always the cuts around the commit. */
            g_hash_table_add(resume_set,
                             GUINT_TO_POINTER(env.phases.commit_point + 1));
            g_hash_table_add(resume_set,
                             GUINT_TO_POINTER(env.phases.commit_point + 2));
        }
    }
    g_print("trace: %u calls recorded in %s; %u crash points chosen, %u to "
            "resume; commit point #%d\n", st.records, env.trace_path,
            pointv->len, g_hash_table_size(resume_set),
            env.phases.commit_point);

    Loop l = { 0 };
    l.env = &env;
    l.points = pointv;
    l.resume_set = resume_set;
    l.results = g_new0(PpCase *, pointv->len);
    l.t0 = g_get_monotonic_time();
    /* The budget counts from the start of the command, setup included. */
    l.deadline = budget_s > 0 ? t_start + budget_s * G_USEC_PER_SEC : 0;
    l.tty = isatty(2);
    l.out = dir;
    g_mutex_init(&l.lock);
    GThreadPool *pool = g_thread_pool_new(run_one, &l, jobs, TRUE, NULL);
    /*
     * Under a budget, judge the points in a seeded random order, so that
     * whatever the budget covers is spread over every phase of the update
     * rather than being its first minutes.  Results stay in point order.
     */
    g_autoptr(GArray) order = g_array_sized_new(FALSE, FALSE, sizeof(guint),
                                                pointv->len);
    for (guint i = 0; i < pointv->len; i++) {
        g_array_append_val(order, i);
    }
    if (budget_s > 0) {
        guint64 rs = sc->seed ^ 0xb0d6e7ULL;
        guint *v = (guint *)order->data;
        for (guint i = order->len; i > 1; i--) {
            guint j = (guint)(splitmix64(&rs) % i);
            guint t = v[i - 1];
            v[i - 1] = v[j];
            v[j] = t;
        }
    }
    for (guint i = 0; i < order->len; i++) {
        g_thread_pool_push(pool, GUINT_TO_POINTER(g_array_index(order, guint, i) + 1),
                           NULL);
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    if (l.tty) {
        g_printerr("\n");
    }
    info.judge_seconds = (double)(g_get_monotonic_time() - l.t0) / 1e6;

    int rc = PP_EXIT_OK;
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    for (guint i = 0; i < pointv->len; i++) {
        if (l.results[i] != NULL) {
            g_ptr_array_add(cases, l.results[i]);
        }
    }
    g_free(l.results);
    /* Every failing case, the resumed ones, and every 25th passing one. */
    for (guint i = 0; i < cases->len; i++) {
        PpCase *c = cases->pdata[i];
        if (pp_case_failed(c) || c->resumed || i % 25 == 0) {
            g_autoptr(JsonNode) node = pp_case_to_json(&env, c, sc->path);
            g_autofree char *name = g_strdup_printf("%s.json", c->id);
            g_autofree char *path = g_build_filename(cases_dir, name, NULL);
            if (!pp_write_json(path, node, &error)) {
                pp_print_error("sim", error);
                rc = PP_EXIT_HARNESS;
                g_clear_error(&error);
            }
        }
    }
    info.interrupted = interrupted != 0;
    info.budget_s = budget_s;
    info.budget_hit = l.budget_hit;
    info.duration_s = (double)(g_get_monotonic_time() - t_start) / 1e6;
    if (!pp_write_points(dir, &env, cases, &error)
        || !pp_write_summary(dir, &env, &info, cases, &error)
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
            info.judge_seconds > 0 ? 60.0 * cases->len / info.judge_seconds
                                   : 0.0, info.duration_s, dir);
    if (l.first_error != NULL) {
        pp_print_error("sim: a case could not be judged", l.first_error);
        g_clear_error(&l.first_error);
        rc = PP_EXIT_HARNESS;
    } else if (interrupted) {
        g_printerr("plugpull: sim: interrupted by signal %d after %u of %u "
                   "cases; those are kept in %s\n", (int)interrupted,
                   cases->len, pointv->len, dir);
        rc = 128 + (int)interrupted;
    } else if (rc == PP_EXIT_OK && failed > 0) {
        rc = PP_EXIT_FAILURES;
    }
    if (l.budget_hit) {
        g_print("budget of %" G_GINT64_FORMAT " s reached: %u of %u crash "
                "points covered\n", budget_s, cases->len, pointv->len);
    }
    g_free(info.started);
    pp_sim_env_clear(&env);
    /*
     * The crash states are rebuilt on demand; the rest of work (fixture,
     * snapshot, trace) is what `plugpull replay` needs, so it stays.
     */
    g_autofree char *states = g_build_filename(work, "states", NULL);
    pp_rm_rf(states, NULL);
    if (fast != NULL) {
        pp_rm_rf(fast, NULL);
    }
    return rc;
}
