/*
 * simcase.c: one crash case of the simulation tier: materialise, judge,
 * and optionally reboot and resume.
 */
#include "sim/sim.h"
#include "common/error.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cfi-calls.h"
#include "common/client.h"
#include "common/util.h"
#include "common/json.h"
#include "server/httpd.h"
#include "sim/record.h"
#include "sim/sim-private.h"

void
pp_case_free(PpCase *c)
{
    if (c == NULL) {
        return;
    }
    g_free(c->id);
    g_free(c->state_name);
    g_free(c->call);
    g_free(c->outcome);
    g_free(c->reason);
    g_clear_pointer(&c->judgement, json_node_unref);
    g_free(c->resume_error);
    g_clear_pointer(&c->resume_judgement, json_node_unref);
    g_clear_pointer(&c->cuts, g_ptr_array_unref);
    g_free(c);
}

char *
pp_case_id(CfiModel model, guint k, guint64 seed)
{
    return g_strdup_printf("%s-k%06u-s%" G_GUINT64_FORMAT,
                           cfi_model_to_string(model), k, seed);
}

void
pp_cut_free(PpCut *cut)
{
    if (cut == NULL) {
        return;
    }
    g_free(cut->call);
    g_free(cut->syscall);
    g_free(cut->path);
    g_free(cut->outcome);
    g_free(cut->reason);
    g_clear_pointer(&cut->judgement, json_node_unref);
    g_clear_pointer(&cut->barriers, g_array_unref);
    g_free(cut->resume_error);
    g_free(cut->note);
    g_free(cut);
}

gboolean
pp_case_failed(const PpCase *c)
{
    return !g_str_equal(c->outcome, "pass");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc < 0 && errno != ENOENT ? -1 : 0;
}

gboolean
pp_rm_rf(const char *path, GError **error)
{
    if (nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
        pp_throw_errno_prefix(error, "nftw(%s)", path);
        return FALSE;
    }
    return TRUE;
}

void
pp_sim_env_clear(PpSimEnv *env)
{
    g_clear_pointer(&env->trace_path, g_free);
    g_clear_pointer(&env->root, g_free);
    g_clear_pointer(&env->snapshot, g_free);
    g_clear_pointer(&env->case_snapshot, g_free);
    g_clear_pointer(&env->srv_dir, g_free);
    g_clear_pointer(&env->srv_repo, g_free);
    g_clear_pointer(&env->commits, g_strfreev);
    g_clear_pointer(&env->to_commit, g_free);
    g_clear_pointer(&env->osname, g_free);
    g_clear_pointer(&env->ostree, g_free);
    g_clear_pointer(&env->bootloader, g_free);
    g_clear_pointer(&env->states_dir, g_free);
    g_clear_pointer(&env->replay, cfi_replay_free);
    g_clear_pointer(&env->trace, cfi_trace_free);
    g_clear_pointer(&env->known, pp_known_trees_free);
    pp_phases_clear(&env->phases);
}

gboolean
pp_sim_env_load(PpSimEnv *env, GError **error)
{
    g_mutex_init(&env->resume_lock);
    env->trace = cfi_trace_open(env->trace_path, error);
    if (env->trace == NULL) {
        return FALSE;
    }
    env->replay = cfi_replay_new(env->trace, env->root, env->snapshot, error);
    if (env->replay == NULL) {
        g_prefix_error(error, "interpreting %s: ", env->trace_path);
        return FALSE;
    }
    env->known = pp_known_trees_load(env->srv_repo,
                                     (const char *const *)env->commits, error);
    if (env->known == NULL) {
        g_prefix_error(error, "loading the known-good trees of %s: ",
                       env->srv_repo);
        return FALSE;
    }
    pp_phases_classify(env->trace, env->root, &env->phases);
    if (!pp_mkdir_p(env->states_dir, error)) {
        return FALSE;
    }
    return TRUE;
}

const char *
pp_sim_relative_path(const char *path, const char *root)
{
    gsize rl = strlen(root);
    if (path != NULL && strncmp(path, root, rl) == 0 && path[rl] == '/') {
        return path + rl + 1;
    }
    return path;
}

char *
pp_sim_describe_call(CfiTrace *trace, const char *root, guint k)
{
    if (k >= cfi_trace_n_records(trace)) {
        return g_strdup("(end of the run: every call completed)");
    }
    const CfiRecord *r = cfi_trace_get(trace, k);
    const char *p1 = pp_sim_relative_path(r->path, root);
    const char *p2 = pp_sim_relative_path(r->path2, root);
    return g_strdup_printf("#%u %s%s%s%s%s", k, cfi_call_name(r->rec->call),
                           p1 != NULL ? " " : "", p1 != NULL ? p1 : "",
                           p2 != NULL ? " -> " : "", p2 != NULL ? p2 : "");
}

PpOracleOpts
pp_sim_oracle_opts(const PpSimEnv *env)
{
    PpOracleOpts o = { 0 };
    /*
     * The device boots its default entry or nothing: U-Boot's boot script
     * and an unattended device do not pick the rollback entry by
     * themselves.  A default entry that fails is a brick.
     */
    o.no_fallback = TRUE;
    o.bootloader = g_strcmp0(env->bootloader, "bls") == 0 ? PP_BOOTLOADER_BLS
                                                          : PP_BOOTLOADER_UBOOT;
    return o;
}

/* Objects present in a repo: "<checksum>.<type>" with file for content. */
static GHashTable *
repo_objects(const char *repo)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            NULL);
    g_autofree char *objects = g_build_filename(repo, "objects", NULL);
    g_autoptr(GDir) top = g_dir_open(objects, 0, NULL);
    const char *xx;
    while (top != NULL && (xx = g_dir_read_name(top)) != NULL) {
        g_autofree char *sub = g_build_filename(objects, xx, NULL);
        g_autoptr(GDir) d = g_dir_open(sub, 0, NULL);
        const char *rest;
        while (d != NULL && (rest = g_dir_read_name(d)) != NULL) {
            g_hash_table_add(set, g_strconcat(xx, rest, NULL));
        }
    }
    return set;
}

/* "/repo/objects/ab/cdef.filez" -> "abcdef.file"; NULL if not an object. */
static char *
object_key_of_url(const char *path)
{
    const char *o = strstr(path, "/objects/");
    if (o == NULL || strlen(o) < strlen("/objects/xx/")) {
        return NULL;
    }
    o += strlen("/objects/");
    g_autofree char *key = g_strdup_printf("%.2s%s", o, o + 3);
    if (g_str_has_suffix(key, ".filez")) {
        key[strlen(key) - 1] = '\0';
    }
    return g_steal_pointer(&key);
}

/* Point the copied device's remote at the running stand-in. */
gboolean
pp_sim_set_remote_url(const char *sysroot, const char *url, GError **error)
{
    g_autofree char *cfg = g_build_filename(sysroot, "ostree", "repo", "config",
                                            NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, cfg, G_KEY_FILE_KEEP_COMMENTS, error)) {
        g_prefix_error(error, "reading %s: ", cfg);
        return FALSE;
    }
    g_key_file_set_string(kf, "remote \"origin\"", "url", url);
    if (!g_key_file_save_to_file(kf, cfg, error)) {
        g_prefix_error(error, "writing %s: ", cfg);
        return FALSE;
    }
    return TRUE;
}

void
pp_resume_result_clear(PpResumeResult *r)
{
    g_clear_pointer(&r->error, g_free);
    g_clear_pointer(&r->judgement, json_node_unref);
    g_clear_pointer(&r->root, g_free);
}

/* Judge the device after a resumed update: it must boot the new version,
 * complete.  Sets r->error when it does not. */
static void
judge_resumed(PpSimEnv *env, const char *dir, PpResumeResult *r)
{
    g_autoptr(GError) error = NULL;
    PpOracleOpts o = pp_sim_oracle_opts(env);
    g_autoptr(PpJudgement) j = NULL;
    if (!pp_oracle_judge(dir, env->known, &o, &j, &error)) {
        r->error = g_strdup_printf("judging the resumed device: %s",
                                   error->message);
        return;
    }
    r->judgement = pp_judgement_to_json(j);
    r->staging_bytes = j->repo.staging_bytes;
    const PpBootEntry *b = j->booted >= 0 ? j->entries->pdata[j->booted]
                                          : NULL;
    if (j->outcome != PP_OUTCOME_PASS && j->outcome != PP_OUTCOME_NO_ROLLBACK) {
        r->error = g_strdup_printf(
            "after the resumed update the device is %s: %s",
            pp_outcome_to_string(j->outcome), j->reason);
    } else if (b == NULL || g_strcmp0(b->commit, env->to_commit) != 0) {
        r->error = g_strdup_printf(
            "after the resumed update the device boots %s, not the new "
            "version %.12s", b != NULL && b->commit != NULL ? b->commit
                                                            : "nothing",
            env->to_commit);
    }
}

void
pp_sim_resume(PpSimEnv *env, const char *state, const char *name,
              const char *trace, const char *boot_id, PpResumeResult *r)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_strdup_printf("%s/%s-resume", env->states_dir,
                                           name);
    g_autofree char *tmp = g_strdup_printf("%s/%s-tmp", env->states_dir, name);
    gint64 t0 = g_get_monotonic_time();
    memset(r, 0, sizeof *r);
    r->exit_status = -1;
    /*
     * The remote is set on the state itself (the key file is replaced by
     * a rename, so a snapshot the state is hardlinked from is left
     * alone): a traced run then starts from exactly the state the models
     * will build its crash states on.
     */
    g_autofree char *url = g_strdup_printf("%s/repo",
                                           pp_httpd_get_url(env->httpd));
    if (!pp_sim_set_remote_url(state, url, &error)
        || !pp_copy_tree(state, dir, &error)) {
        r->error = g_strdup_printf("preparing the resume: %s",
                                   error->message);
        pp_rm_rf(dir, NULL);
        return;
    }
    if (g_mkdir_with_parents(tmp, 0755) < 0) {
        int errsv = errno;
        r->error = g_strdup_printf("mkdir(%s): %s", tmp, g_strerror(errsv));
        pp_rm_rf(dir, NULL);
        return;
    }
    g_autofree char *repo = g_build_filename(dir, "ostree", "repo", NULL);
    g_autoptr(GHashTable) durable = repo_objects(repo);
    r->durable = g_hash_table_size(durable);

    g_autofree char *fresh_boot = boot_id != NULL ? g_strdup(boot_id)
        : env->resume_boot_id != NULL ? g_strdup(env->resume_boot_id)
                                      : g_uuid_string_random();
    g_autofree char *env_boot = g_strdup_printf("OSTREE_BOOTID=%s",
                                                fresh_boot);
    g_autofree char *env_tmp = g_strdup_printf("TMPDIR=%s", tmp);
    const char *envv[] = { env_boot, env_tmp,
                           "OSTREE_SYSROOT_DEBUG=mutable-deployments", NULL };
    g_autofree char *sysroot_opt = g_strdup_printf("--sysroot=%s", dir);
    g_autofree char *os_opt = g_strdup_printf("--os=%s", env->osname);
    const char *argv[] = { env->ostree, "admin", "upgrade", sysroot_opt,
                           os_opt, NULL };
    PpClientOpts opts = { .userns = TRUE, .env = envv, .capture = TRUE };
    PpClientResult res = { 0 };
    PpRecording rec = { 0 };

    g_mutex_lock(&env->resume_lock);
    guint before = 0;
    {
        g_autoptr(GPtrArray) log = pp_httpd_dup_log(env->httpd);
        before = log->len;
    }
    gboolean ran;
    if (trace != NULL) {
        ran = pp_trace_client(dir, trace, tmp, fresh_boot, argv, &rec,
                              &error);
        res.exit_status = rec.exit_status;
        res.err = g_steal_pointer(&rec.client_err);
        r->root = g_steal_pointer(&rec.root);
    } else {
        ran = pp_client_run(&opts, argv, &res, &error);
    }
    g_autoptr(GPtrArray) log = pp_httpd_dup_log(env->httpd);
    g_mutex_unlock(&env->resume_lock);
    pp_recording_clear(&rec);

    if (!ran) {
        r->error = g_strdup(error->message);
    } else {
        r->exit_status = res.exit_status;
        if (res.exit_status != 0) {
            r->error = g_strdup_printf("%s admin upgrade exited %d: %s",
                                       env->ostree, res.exit_status,
                                       res.err != NULL ? g_strchomp(res.err)
                                                       : "");
        }
    }
    pp_client_result_clear(&res);
    for (guint i = before; i < log->len; i++) {
        const PpHttpdRequest *rq = log->pdata[i];
        r->bytes += rq->bytes;
        g_autofree char *key = object_key_of_url(rq->path);
        if (key != NULL && rq->status == 200) {
            r->objects++;
            if (g_hash_table_contains(durable, key)) {
                r->refetched++;
            }
        }
    }
    if (r->error == NULL) {
        judge_resumed(env, dir, r);
    }
    pp_rm_rf(dir, NULL);
    pp_rm_rf(tmp, NULL);
    r->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
}

/* Reboot and resume the case's crash state (pp_sim_resume), untraced. */
static void
resume_case(PpSimEnv *env, PpCase *c, const char *state)
{
    PpResumeResult r;
    pp_sim_resume(env, state, c->id, NULL, NULL, &r);
    pp_case_take_resume(c, &r);
    pp_resume_result_clear(&r);
}

void
pp_case_take_resume(PpCase *c, PpResumeResult *r)
{
    c->resumed = TRUE;
    c->resume_exit = r->exit_status;
    c->resume_bytes = r->bytes;
    c->resume_objects = r->objects;
    c->resume_refetched = r->refetched;
    c->durable_objects = r->durable;
    c->resume_staging_bytes = r->staging_bytes;
    g_free(c->resume_error);
    c->resume_error = g_steal_pointer(&r->error);
    g_clear_pointer(&c->resume_judgement, json_node_unref);
    c->resume_judgement = g_steal_pointer(&r->judgement);
}

/*
 * The bootloader does not replay the journal (U-Boot, GRUB: MODELS.md
 * 4a), so a power cut has two views unless the scenario says it does,
 * or no power was lost (process-kill).
 */
static gboolean
two_views(const PpSimEnv *env)
{
    return !env->bootloader_replays_journal
           && env->model != CFI_MODEL_PROCESS_KILL;
}

/* Build the bootloader's view of state k beside the kernel's, at dir. */
static gboolean
materialise_boot_view(PpSimEnv *env, PpCase *c, const char *dir,
                      GError **error)
{
    if (g_file_test(dir, G_FILE_TEST_EXISTS) && !pp_rm_rf(dir, error)) {
        return FALSE;
    }
    guint64 subset = cfi_bootview_subset_seed(env->seed, c->k);
    if (!cfi_replay_materialise_bootview(env->replay, c->k, env->model,
                                         env->seed, subset, dir, NULL,
                                         &c->boot_view, error)) {
        return FALSE;
    }
    c->two_views = TRUE;
    return TRUE;
}

/* The case evidence's "boot_view": how the bootloader's view was drawn,
 * and what the oracle saw of the two. */
static void
add_boot_view_evidence(const PpSimEnv *env, PpCase *c, const PpJudgement *j)
{
    if (!c->two_views || c->judgement == NULL
        || !JSON_NODE_HOLDS_OBJECT(c->judgement)) {
        return;
    }
    const CfiBootView *v = &c->boot_view;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "subset_seed");
    json_builder_add_int_value(b, (gint64)v->subset_seed);
    json_builder_set_member_name(b, "checkpoint");
    json_builder_add_int_value(b, v->checkpoint);
    g_autofree char *ck = v->checkpoint >= 0
        ? pp_sim_describe_call(env->trace, env->root, (guint)v->checkpoint)
        : g_strdup("(the start of the run)");
    json_builder_set_member_name(b, "checkpoint_call");
    json_builder_add_string_value(b, ck);
    json_builder_set_member_name(b, "metadata_ops_after");
    json_builder_add_int_value(b, v->meta_pending);
    json_builder_set_member_name(b, "metadata_ops_home");
    json_builder_add_int_value(b, v->meta_home);
    json_builder_set_member_name(b, "differs");
    json_builder_add_boolean_value(b, j->views_differ);
    g_autofree char *note = g_strdup_printf(
        "the bootloader reads the state of %s plus %u of the %u metadata "
        "operations committed since (subset %" G_GUINT64_FORMAT "): %s", ck,
        v->meta_home, v->meta_pending, v->subset_seed,
        j->views_note != NULL ? j->views_note : "");
    json_builder_set_member_name(b, "note");
    json_builder_add_string_value(b, note);
    json_builder_end_object(b);
    json_object_set_member(json_node_get_object(c->judgement), "boot_view",
                           json_builder_get_root(b));
}

PpCase *
pp_sim_run_case(PpSimEnv *env, guint k, gboolean resume, gboolean keep_state,
                GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(PpCase) c = g_new0(PpCase, 1);
    c->k = k;
    c->repeat = 1;
    c->id = pp_case_id(env->model, k, env->seed);
    c->state_name = cfi_crashstate_name(env->trace_path, k, env->model,
                                        env->seed);
    c->phase = pp_phases_at(&env->phases, k);
    c->call = pp_sim_describe_call(env->trace, env->root, k);

    g_autofree char *state = g_build_filename(env->states_dir, c->id, NULL);
    if (g_file_test(state, G_FILE_TEST_EXISTS) && !pp_rm_rf(state, error)) {
        return NULL;
    }
    gint64 t1 = g_get_monotonic_time();
    if (!cfi_replay_materialise(env->replay, k, env->model, env->seed, state,
                                &c->stats, error)) {
        return NULL;
    }
    g_autofree char *boot_view = two_views(env)
        ? g_strconcat(state, "-bootview", NULL) : NULL;
    if (boot_view != NULL && !materialise_boot_view(env, c, boot_view,
                                                    error)) {
        pp_rm_rf(state, NULL);
        return NULL;
    }
    gint64 t2 = g_get_monotonic_time();
    c->t_materialise = (double)(t2 - t1) / 1e6;
    PpOracleOpts o = pp_sim_oracle_opts(env);
    o.boot_view = boot_view;
    g_autoptr(PpJudgement) j = NULL;
    if (!pp_oracle_judge(state, env->known, &o, &j, error)) {
        g_prefix_error(error, "judging %s: ", c->state_name);
        pp_rm_rf(state, NULL);
        if (boot_view != NULL) {
            pp_rm_rf(boot_view, NULL);
        }
        return NULL;
    }
    gint64 t3 = g_get_monotonic_time();
    c->t_judge = (double)(t3 - t2) / 1e6;
    c->judgement = pp_judgement_to_json(j);
    add_boot_view_evidence(env, c, j);
    PpOutcome oc = j->outcome;
    if (oc == PP_OUTCOME_NO_ROLLBACK && !env->check_rollback) {
        oc = PP_OUTCOME_PASS;
    }
    c->outcome = g_strdup(pp_outcome_to_string(oc));
    c->reason = g_strdup(j->reason != NULL ? j->reason : "");

    /* A device that does not boot cannot resume: the brick is the verdict. */
    if (resume && env->httpd != NULL && oc != PP_OUTCOME_BRICK) {
        gint64 t4 = g_get_monotonic_time();
        resume_case(env, c, state);
        c->t_resume = (double)(g_get_monotonic_time() - t4) / 1e6;
        if (c->resume_error != NULL
            && (oc == PP_OUTCOME_PASS || oc == PP_OUTCOME_NO_ROLLBACK)) {
            g_free(c->outcome);
            g_free(c->reason);
            c->outcome = g_strdup("stuck");
            c->reason = g_strdup(c->resume_error);
        } else if (c->resume_refetched > env->redownload_threshold
                   && g_str_equal(c->outcome, "pass")) {
            g_free(c->outcome);
            g_free(c->reason);
            c->outcome = g_strdup("redownload");
            c->reason = g_strdup_printf(
                "the resumed update fetched %u objects that were durable "
                "before the cut (threshold %u)", c->resume_refetched,
                env->redownload_threshold);
        }
    }
    gint64 t5 = g_get_monotonic_time();
    if (!keep_state && !pp_rm_rf(state, error)) {
        return NULL;
    }
    if (!keep_state && boot_view != NULL && !pp_rm_rf(boot_view, error)) {
        return NULL;
    }
    c->t_remove = (double)(g_get_monotonic_time() - t5) / 1e6;
    c->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    return g_steal_pointer(&c);
}

/* A repeated-cuts case: the schedule and every cut made. */
static void
add_cuts(JsonBuilder *b, const PpCase *c)
{
    json_builder_set_member_name(b, "repeat");
    json_builder_add_int_value(b, c->repeat);
    json_builder_set_member_name(b, "schedule");
    json_builder_begin_array(b);
    for (guint i = 0; i < c->cuts->len; i++) {
        const PpCut *cut = c->cuts->pdata[i];
        json_builder_add_int_value(b, cut->k);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "failed_cut");
    if (c->failed_cut > 0) {
        json_builder_add_int_value(b, c->failed_cut);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "cuts");
    json_builder_begin_array(b);
    for (guint i = 0; i < c->cuts->len; i++) {
        const PpCut *cut = c->cuts->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "cut");
        json_builder_add_int_value(b, i + 1);
        json_builder_set_member_name(b, "run");
        json_builder_add_string_value(b, cut->in_resume
                                      ? "the update resumed after the "
                                        "previous cut (traced)"
                                      : "the recorded update");
        json_builder_set_member_name(b, "k");
        json_builder_add_int_value(b, cut->k);
        json_builder_set_member_name(b, "records");
        json_builder_add_int_value(b, cut->records);
        json_builder_set_member_name(b, "call");
        json_builder_add_string_value(b, cut->call);
        pp_json_add_string_or_null(b, "syscall", cut->syscall);
        pp_json_add_string_or_null(b, "path", cut->path);
        json_builder_set_member_name(b, "phase");
        json_builder_add_string_value(b, pp_phase_name(cut->phase));
        json_builder_set_member_name(b, "outcome");
        json_builder_add_string_value(b, cut->outcome);
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, cut->reason);
        json_builder_set_member_name(b, "ops_persisted");
        json_builder_add_int_value(b, cut->stats.ops_persisted);
        json_builder_set_member_name(b, "ops_dropped");
        json_builder_add_int_value(b, cut->stats.ops_dropped);
        if (cut->note != NULL) {
            json_builder_set_member_name(b, "note");
            json_builder_add_string_value(b, cut->note);
        }
        json_builder_set_member_name(b, "judgement");
        json_builder_add_value(b, json_node_copy(cut->judgement));
        json_builder_set_member_name(b, "resume");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "checked");
        json_builder_add_boolean_value(b, cut->resumed);
        if (cut->resumed) {
            json_builder_set_member_name(b, "exit_status");
            json_builder_add_int_value(b, cut->resume_exit);
            json_builder_set_member_name(b, "bytes_downloaded");
            json_builder_add_int_value(b, (gint64)cut->resume_bytes);
            json_builder_set_member_name(b, "objects_downloaded");
            json_builder_add_int_value(b, cut->resume_objects);
            json_builder_set_member_name(b, "objects_redownloaded");
            json_builder_add_int_value(b, cut->resume_refetched);
            json_builder_set_member_name(b, "objects_durable_before");
            json_builder_add_int_value(b, cut->durable_objects);
            pp_json_add_string_or_null(b, "error", cut->resume_error);
        }
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

JsonNode *
pp_case_to_json(const PpSimEnv *env, const PpCase *c, const char *scenario)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, c->id);
    json_builder_set_member_name(b, "outcome");
    json_builder_add_string_value(b, c->outcome);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, c->reason);
    json_builder_set_member_name(b, "phase");
    json_builder_add_string_value(b, pp_phase_name(c->phase));
    json_builder_set_member_name(b, "call");
    json_builder_add_string_value(b, c->call);

    json_builder_set_member_name(b, "state");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, c->state_name);
    json_builder_set_member_name(b, "trace");
    json_builder_add_string_value(b, env->trace_path);
    json_builder_set_member_name(b, "k");
    json_builder_add_int_value(b, c->k);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, cfi_model_to_string(env->model));
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64)env->seed);
    json_builder_set_member_name(b, "ops_persisted");
    json_builder_add_int_value(b, c->stats.ops_persisted);
    json_builder_set_member_name(b, "ops_dropped");
    json_builder_add_int_value(b, c->stats.ops_dropped);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "evidence");
    json_builder_add_value(b, json_node_copy(c->judgement));
    if (c->cuts != NULL) {
        add_cuts(b, c);
    }

    json_builder_set_member_name(b, "resume");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "checked");
    json_builder_add_boolean_value(b, c->resumed);
    if (c->resumed) {
        json_builder_set_member_name(b, "exit_status");
        json_builder_add_int_value(b, c->resume_exit);
        json_builder_set_member_name(b, "bytes_downloaded");
        json_builder_add_int_value(b, (gint64)c->resume_bytes);
        json_builder_set_member_name(b, "objects_downloaded");
        json_builder_add_int_value(b, c->resume_objects);
        json_builder_set_member_name(b, "objects_redownloaded");
        json_builder_add_int_value(b, c->resume_refetched);
        json_builder_set_member_name(b, "objects_durable_before");
        json_builder_add_int_value(b, c->durable_objects);
        json_builder_set_member_name(b, "staging_bytes_after");
        json_builder_add_int_value(b, (gint64)c->resume_staging_bytes);
        json_builder_set_member_name(b, "error");
        if (c->resume_error != NULL) {
            json_builder_add_string_value(b, c->resume_error);
        } else {
            json_builder_add_null_value(b);
        }
    }
    json_builder_end_object(b);

    /* What `plugpull replay` needs, with nothing left to guess. */
    json_builder_set_member_name(b, "replay");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "root");
    json_builder_add_string_value(b, env->root);
    json_builder_set_member_name(b, "snapshot");
    json_builder_add_string_value(b, env->case_snapshot != NULL
                                     ? env->case_snapshot : env->snapshot);
    json_builder_set_member_name(b, "srv_dir");
    json_builder_add_string_value(b, env->srv_dir);
    json_builder_set_member_name(b, "srv_repo");
    json_builder_add_string_value(b, env->srv_repo);
    json_builder_set_member_name(b, "commits");
    json_builder_begin_array(b);
    for (char **p = env->commits; *p != NULL; p++) {
        json_builder_add_string_value(b, *p);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "to_commit");
    json_builder_add_string_value(b, env->to_commit);
    json_builder_set_member_name(b, "osname");
    json_builder_add_string_value(b, env->osname);
    json_builder_set_member_name(b, "ostree");
    json_builder_add_string_value(b, env->ostree);
    json_builder_set_member_name(b, "bootloader");
    json_builder_add_string_value(b, env->bootloader);
    json_builder_set_member_name(b, "redownload_threshold");
    json_builder_add_int_value(b, env->redownload_threshold);
    json_builder_set_member_name(b, "check_rollback");
    json_builder_add_boolean_value(b, env->check_rollback);
    json_builder_set_member_name(b, "bootloader_replays_journal");
    json_builder_add_boolean_value(b, env->bootloader_replays_journal);
    json_builder_set_member_name(b, "resume");
    json_builder_add_boolean_value(b, c->resumed);
    json_builder_set_member_name(b, "scenario");
    json_builder_add_string_value(b, scenario);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "command");
    g_autofree char *cmd = g_strdup_printf("plugpull replay cases/%s.json",
                                           c->id);
    json_builder_add_string_value(b, cmd);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, c->seconds);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
