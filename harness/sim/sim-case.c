/* SPDX-License-Identifier: MIT */
/*
 * simcase.c: one crash case of the simulation tier: materialise, judge,
 * and optionally reboot and resume.
 */
#include "sim/sim.h"
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cfi-calls.h"
#include "oracle/dpkg-judge.h"
#include "common/client.h"
#include "common/fs.h"
#include "sim/sim-bootview.h"
#include "common/util.h"
#include "common/json.h"
#include "common/version.h"
#include "server/httpd.h"
#include "sim/record.h"
#include "sim/sim-fidelity.h"
#include "sim/sim-private.h"
#include "sim/sim-farm.h"
#include "sim/sim-share.h"
#include "sim/strategy.h"

void
pp_case_free(PpCase *c)
{
    if (c == NULL) {
        return;
    }
    g_free(c->id);
    g_free(c->state_name);
    g_free(c->call);
    g_free(c->reason);
    g_free(c->boots);
    g_clear_pointer(&c->judgement, json_node_unref);
    g_free(c->resume_error);
    g_clear_pointer(&c->resume_judgement, json_node_unref);
    g_clear_pointer(&c->cuts, g_ptr_array_unref);
    g_clear_pointer(&c->known, pp_case_known_free);
    g_free(c->shared_with);
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
    g_free(cut->reason);
    g_clear_pointer(&cut->judgement, json_node_unref);
    g_clear_pointer(&cut->barriers, g_array_unref);
    g_free(cut->resume_error);
    g_free(cut->note);
    g_free(cut);
}

void
pp_case_set_verdict(PpCase *c, PpOutcome o)
{
    c->verdict = o;
}

gboolean
pp_case_known(const PpCase *c)
{
    return c->verdict != PP_OUTCOME_PASS && c->known != NULL
           && !c->known->expired;
}

gboolean
pp_case_failed(const PpCase *c)
{
    return c->verdict != PP_OUTCOME_PASS && !pp_case_known(c);
}

void
pp_case_known_free(PpCaseKnown *k)
{
    if (k == NULL) {
        return;
    }
    g_free(k->finding);
    g_free(k->link);
    g_free(k->until);
    g_free(k);
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
    g_clear_pointer(&env->command, g_free);
    g_clear_pointer(&env->bootloader, g_free);
    g_clear_pointer(&env->states_dir, g_free);
    g_clear_pointer(&env->replay, cfi_replay_free);
    g_clear_pointer(&env->trace, cfi_trace_free);
    g_clear_pointer(&env->known, pp_known_trees_free);
    g_clear_pointer(&env->oracle_cache, pp_oracle_cache_free);
    g_clear_pointer(&env->share, pp_judge_share_free);
    g_clear_pointer(&env->farms, pp_farm_pool_free);
    g_clear_pointer(&env->bootviews, pp_boot_view_cache_free);
    pp_phases_clear(&env->phases);
    pp_promise_clear(&env->promise);
    pp_slot_device_clear(&env->slots);
    g_clear_pointer(&env->update_argv, g_strfreev);
}

gboolean
pp_sim_env_load(PpSimEnv *env, GError **error)
{
    g_mutex_init(&env->resume_lock);
    env->trace = cfi_trace_open(env->trace_path, error);
    if (env->trace == NULL) {
        return FALSE;
    }
    env->replay = cfi_replay_new_opts(env->trace, env->root, env->snapshot,
                                      &env->device_fs, error);
    if (env->replay == NULL) {
        g_prefix_error(error, "interpreting %s: ", env->trace_path);
        return FALSE;
    }
    if (env->strategy != PP_STRATEGY_OSTREE) {
        /* A slot device: judged against its images (oracle/slots.h), no
           repo, no promise derived from the OSTree oracle, no sharing. */
        if (env->strategy == PP_STRATEGY_DPKG) {
            pp_dpkg_phases_classify(env->trace, env->root, &env->phases);
        } else {
            pp_slot_phases_classify(env->trace, env->root, &env->phases);
        }
        return pp_mkdir_p(env->states_dir, error);
    }
    env->known = pp_known_trees_load(env->srv_repo,
                                     (const char *const *)env->commits, error);
    if (env->known == NULL) {
        g_prefix_error(error, "loading the known-good trees of %s: ",
                       env->srv_repo);
        return FALSE;
    }
    pp_phases_classify(env->trace, env->root, &env->phases);
    if (!pp_sim_share_setup(env, error)) {
        return FALSE;
    }
    if (!pp_mkdir_p(env->states_dir, error)) {
        return FALSE;
    }
    pp_sim_farm_setup(env);
    return pp_sim_promise_derive(env, error);
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
    o.cache = env->oracle_cache;
    return o;
}

GHashTable *
pp_sim_repo_objects(const char *repo)
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

char *
pp_sim_object_key_of_url(const char *path)
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
    g_clear_pointer(&r->unfaithful, g_free);
}

/*
 * Does the traced resume's trace replay, over the state it started from,
 * to the tree it left in dir?  The recorded update is checked so before
 * any case (sim-fidelity.h); a resume's crash states come from its trace
 * just as much, and a trace read wrongly (a call attributed to no file,
 * as a race in the shim once made) gives a corrupt state and a wrong
 * verdict silently.  NULL when it does, else the differences.
 */
/*
 * PLUGPULL_TEST_SPOIL_RESUMES=N: the first N traced resumes of this
 * process get a file their trace never made, so that the tests can see
 * an unfaithful resume run again (tests/integration/test-sim-fidelity.sh).
 */
static void
spoil_resume_for_test(const char *dir)
{
    static gint spoiled;
    const char *v = g_getenv("PLUGPULL_TEST_SPOIL_RESUMES");
    if (v == NULL || g_atomic_int_add(&spoiled, 1)
                     >= (gint)g_ascii_strtoull(v, NULL, 10)) {
        return;
    }
    g_autofree char *p = g_build_filename(dir, "plugpull-test-spoiled", NULL);
    /* Not a result: spoils the tree under test. */
    (void)g_file_set_contents(p, "not in the trace\n", -1, NULL);
}

static char *
resume_unfaithful(PpSimEnv *env, const char *trace_path, const char *root,
                  const char *state, const char *dir, const char *name)
{
    g_autoptr(GError) error = NULL;
    spoil_resume_for_test(dir);
    g_autofree char *scratch = g_strdup_printf("%s/%s-fidelity",
                                               env->states_dir, name);
    g_autoptr(CfiTrace) trace = cfi_trace_open(trace_path, &error);
    g_autoptr(CfiReplay) replay = trace == NULL ? NULL
        : cfi_replay_new_opts(trace, root, state, &env->device_fs, &error);
    char *diff = NULL;
    if (replay == NULL
        || !pp_sim_replay_fidelity(replay, cfi_trace_n_records(trace), dir,
                                   scratch, &diff, &error)) {
        return g_strdup_printf("the check could not be made: %s",
                               error->message);
    }
    return diff;
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
     * One resume at a time, from its copy to its removal: the server's
     * log then holds one client's requests, and one whole copy of the
     * device is on scratch at most (on a large firmware a second would
     * take as much space as the snapshot itself).  The other jobs go on
     * judging crash states meanwhile.
     */
    g_autoptr(GMutexLocker) one_resume = g_mutex_locker_new(&env->resume_lock);
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
    g_autoptr(GHashTable) durable = pp_sim_repo_objects(repo);
    r->durable = g_hash_table_size(durable);

    g_autofree char *fresh_boot = boot_id != NULL ? g_strdup(boot_id)
        : env->resume_boot_id != NULL ? g_strdup(env->resume_boot_id)
                                      : g_uuid_string_random();
    g_autofree char *env_boot = g_strdup_printf("OSTREE_BOOTID=%s",
                                                fresh_boot);
    g_autofree char *env_tmp = g_strdup_printf("TMPDIR=%s", tmp);
    const char *envv[] = { env_boot, env_tmp,
                           "OSTREE_SYSROOT_DEBUG=mutable-deployments", NULL };
    /* The update command ([client] command, from-firmware): the one
       place a resume builds it (the recorded update: cmd-sim-env.c). */
    g_autofree char *remote = NULL;
    g_autofree char *ref = NULL;
    g_autofree char *booted = pp_client_booted_deployment(dir, &remote, &ref,
                                                          NULL);
    const char *firmware = env->from_firmware ? dir : NULL;
    PpCommandVars vars = {
        .sysroot = dir, .os = env->osname,
        .remote = remote != NULL ? remote : "origin", .ref = ref,
        .ostree = env->from_firmware ? PP_CLIENT_FIRMWARE_OSTREE : env->ostree,
    };
    g_autoptr(PpScenario) csc = pp_scenario_new_default();
    g_free(csc->command);
    csc->command = g_strdup(env->command);
    g_auto(GStrv) argvs = pp_scenario_update_argv(csc, &vars, &error);
    if (argvs == NULL) {
        r->error = g_strdup_printf("the update command: %s", error->message);
        pp_rm_rf(dir, NULL);
        return;
    }
    const char *const *argv = (const char *const *)argvs;
    PpClientOpts opts = { .userns = TRUE, .env = envv, .capture = TRUE,
                          .firmware = firmware };
    PpClientResult res = { 0 };
    PpRecording rec = { 0 };

    guint before = 0;
    {
        g_autoptr(GPtrArray) log = pp_httpd_dup_log(env->httpd);
        before = log->len;
    }
    gboolean ran;
    if (trace != NULL) {
        ran = pp_trace_client_in(firmware, dir, trace, tmp, fresh_boot, argv,
                                 &rec, &error);
        res.exit_status = rec.exit_status;
        res.err = g_steal_pointer(&rec.client_err);
        r->root = g_steal_pointer(&rec.root);
    } else {
        ran = pp_client_run(&opts, argv, &res, &error);
    }
    g_autoptr(GPtrArray) log = pp_httpd_dup_log(env->httpd);
    pp_recording_clear(&rec);

    if (!ran) {
        r->error = g_strdup(error->message);
    } else {
        r->exit_status = res.exit_status;
        if (res.exit_status != 0) {
            /* The state's scratch copy is named <state>: the reason is
               then the same in every run (and shard) of the campaign. */
            g_autofree char *joined = g_strjoinv(" ", argvs);
            GString *cmd = g_string_new(joined);
            g_string_replace(cmd, dir, "<state>", 0);
            g_autofree char *cmd_s = g_string_free(cmd, FALSE);
            r->error = g_strdup_printf("%s exited %d: %s",
                                       cmd_s, res.exit_status,
                                       res.err != NULL ? g_strchomp(res.err)
                                                       : "");
        }
    }
    pp_client_result_clear(&res);
    for (guint i = before; i < log->len; i++) {
        const PpHttpdRequest *rq = log->pdata[i];
        r->bytes += rq->bytes;
        g_autofree char *key = pp_sim_object_key_of_url(rq->path);
        if (key != NULL && rq->status == 200) {
            r->objects++;
            if (g_hash_table_contains(durable, key)) {
                r->refetched++;
            }
        }
    }
    if (ran && trace != NULL) {
        r->unfaithful = resume_unfaithful(env, trace, r->root, state, dir,
                                          name);
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
gboolean
pp_sim_two_views(const PpSimEnv *env)
{
    return !env->bootloader_replays_journal
           && env->model != CFI_MODEL_PROCESS_KILL;
}

/* Build the bootloader's view of state k beside the kernel's, at dir,
 * unless the kernel's view stands for it (sim-bootview.h). */
static gboolean
materialise_boot_view(PpSimEnv *env, PpCase *c, const char *dir,
                      GError **error)
{
    PpBootViewBuilt b;
    if (!pp_sim_boot_view_build(env->replay, c->k, env->model, env->seed,
                                dir, &b, error)) {
        return FALSE;
    }
    c->boot_view = b.view;
    c->boot_view_same = b.same;
    c->two_views = !b.same;
    return TRUE;
}

/* The case evidence's "boot_view": how the bootloader's view was drawn,
 * and what the oracle saw of the two. */
static void
add_boot_view_evidence(const PpSimEnv *env, PpCase *c, const PpJudgement *j)
{
    if (!c->two_views && !c->boot_view_same) {
        return;
    }
    PpBootViewBuilt b = { .view = c->boot_view, .same = c->boot_view_same };
    pp_sim_boot_view_evidence(c->judgement, env->trace, env->root, &b,
                              c->two_views ? j : NULL);
}

/* What the judged state boots, in the words every strategy shares
 * (PpCase.boots). */
static char *
boots_of(const PpSimEnv *env, const PpJudgement *j)
{
    if (j->outcome == PP_OUTCOME_BRICK || j->booted < 0) {
        return NULL;
    }
    if (j->outcome == PP_OUTCOME_WRONG_TREE) {
        return g_strdup("other");
    }
    const PpBootEntry *b = j->entries->pdata[j->booted];
    return g_strdup(g_strcmp0(b->commit, env->to_commit) == 0 ? "new"
                                                               : "old");
}

/*
 * A case of a slot device (ab, update-mode): materialise and judge it
 * against the images (oracle/slots.h).  One view: the slots are block
 * devices, not files on a journalled filesystem, so the bootloader reads
 * what the kernel would.  No resume: the update is a local copy.
 */
static PpCase *
run_slot_case(PpSimEnv *env, PpCase *c_in, gboolean keep_state, gint64 t0,
              GError **error)
{
    g_autoptr(PpCase) c = c_in;
    g_autofree char *state = g_build_filename(env->states_dir, c->id, NULL);
    if (g_file_test(state, G_FILE_TEST_EXISTS) && !pp_rm_rf(state, error)) {
        return NULL;
    }
    gint64 t1 = g_get_monotonic_time();
    if (!cfi_replay_materialise(env->replay, c->k, env->model, env->seed,
                                state, &c->stats, error)) {
        return NULL;
    }
    gint64 t2 = g_get_monotonic_time();
    c->t_materialise = (double)(t2 - t1) / 1e6;
    PpSlotJudgement j = { 0 };
    if (env->strategy == PP_STRATEGY_DPKG
        ? !pp_dpkg_judge(&env->slots, state, &j, error)
        : !pp_slots_judge(&env->slots, state, &j, error)) {
        g_prefix_error(error, "judging %s: ", c->state_name);
        pp_rm_rf(state, NULL);
        return NULL;
    }
    c->t_judge = (double)(g_get_monotonic_time() - t2) / 1e6;
    PpOutcome oc = j.outcome;
    if (oc == PP_OUTCOME_NO_ROLLBACK && !env->check_rollback) {
        oc = PP_OUTCOME_PASS;
    }
    pp_case_set_verdict(c, oc);
    c->reason = g_steal_pointer(&j.reason);
    c->boots = g_steal_pointer(&j.boots);
    c->judgement = g_steal_pointer(&j.evidence);
    pp_slot_judgement_clear(&j);
    gint64 t5 = g_get_monotonic_time();
    if (!keep_state && !pp_rm_rf(state, error)) {
        return NULL;
    }
    c->t_remove = (double)(g_get_monotonic_time() - t5) / 1e6;
    c->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    return g_steal_pointer(&c);
}

/* The farm's tree renamed to path (a state's name, or its own). */
static gboolean
farm_rename(CfiFarm *farm, const char *path, GError **error)
{
    if (rename(cfi_farm_get_path(farm), path) < 0) {
        return pp_throw_errno_prefix(error, "rename(%s, %s)",
                                     cfi_farm_get_path(farm), path);
    }
    cfi_farm_set_path(farm, path);
    return TRUE;
}

/* A state that failed to be built or judged, removed. */
static void
drop_state(PpSimEnv *env, CfiFarm *farm, const char *state)
{
    if (farm != NULL) {
        pp_sim_farm_drop(env, farm);
    } else {
        pp_rm_rf(state, NULL);
    }
}

PpCase *
pp_sim_run_case(PpSimEnv *env, guint k, gboolean resume, gboolean keep_state,
                GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(PpCase) c = g_new0(PpCase, 1);
    c->farm_from = -1;
    c->k = k;
    c->repeat = 1;
    c->id = pp_case_id(env->model, k, env->seed);
    c->state_name = cfi_crashstate_name(env->trace_path, k, env->model,
                                        env->seed);
    c->phase = pp_phases_at(&env->phases, k);
    c->call = pp_sim_describe_call(env->trace, env->root, k);

    if (env->strategy != PP_STRATEGY_OSTREE) {
        return run_slot_case(env, g_steal_pointer(&c), keep_state, t0,
                             error);
    }
    /* A state another case already judged is not built again. */
    g_autoptr(PpShareClaim) claim = NULL;
    if (pp_sim_share_take(env, c, resume, keep_state, &claim)) {
        c->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
        return g_steal_pointer(&c);
    }
    g_autofree char *state = g_build_filename(env->states_dir, c->id, NULL);
    if (g_file_test(state, G_FILE_TEST_EXISTS) && !pp_rm_rf(state, error)) {
        return NULL;
    }
    gint64 t1 = g_get_monotonic_time();
    /* Over a farm kept between cases, judged under the state's name. */
    CfiFarm *farm = resume || keep_state ? NULL : pp_sim_farm_take(env, k);
    g_autofree char *farm_path = farm != NULL
        ? g_strdup(cfi_farm_get_path(farm)) : NULL;
    gint64 held = farm != NULL ? cfi_farm_state_cut(farm) : -1;
    if (farm != NULL
        && (!cfi_replay_materialise_farm(env->replay, k, env->model,
                                         env->seed, farm, &c->stats, error)
            || !farm_rename(farm, state, error))) {
        pp_sim_farm_drop(env, farm);
        return NULL;
    }
    if (farm == NULL
        && !cfi_replay_materialise(env->replay, k, env->model, env->seed,
                                   state, &c->stats, error)) {
        return NULL;
    }
    c->farm_from = farm != NULL && cfi_farm_moved(farm) ? held : -1;
    g_autofree char *boot_view = pp_sim_two_views(env)
        ? g_strconcat(state, "-bootview", NULL) : NULL;
    /* A state over a farm takes a view shared with the other cuts that
       keep the same operations in it (sim-bootview.h). */
    gboolean shared_view = boot_view != NULL && farm != NULL
                           && env->bootviews != NULL;
    if (shared_view) {
        g_clear_pointer(&boot_view, g_free);
        PpBootViewBuilt b;
        if (!pp_sim_boot_view_share(env->bootviews, env->replay, k,
                                    env->model, env->seed, &boot_view, &b,
                                    error)) {
            drop_state(env, farm, state);
            return NULL;
        }
        c->boot_view = b.view;
        c->boot_view_same = b.same;
        c->two_views = !b.same;
    } else if (boot_view != NULL && !materialise_boot_view(env, c, boot_view,
                                                           error)) {
        drop_state(env, farm, state);
        return NULL;
    }
    gint64 t2 = g_get_monotonic_time();
    c->t_materialise = (double)(t2 - t1) / 1e6;
    PpOracleOpts o = pp_sim_oracle_opts(env);
    o.boot_view = c->two_views ? boot_view : NULL;
    o.farm = farm;
    g_autoptr(PpJudgement) j = NULL;
    if (!pp_oracle_judge(state, env->known, &o, &j, error)) {
        g_prefix_error(error, "judging %s: ", c->state_name);
        drop_state(env, farm, state);
        if (shared_view && boot_view != NULL) {
            pp_boot_view_cache_release(env->bootviews, boot_view);
        } else if (boot_view != NULL) {
            pp_rm_rf(boot_view, NULL);
        }
        return NULL;
    }
    gint64 t3 = g_get_monotonic_time();
    c->t_judge = (double)(t3 - t2) / 1e6;
    c->judgement = pp_judgement_to_json(j);
    c->boots = boots_of(env, j);
    add_boot_view_evidence(env, c, j);
    PpOutcome oc = j->outcome;
    if (oc == PP_OUTCOME_NO_ROLLBACK && !env->check_rollback) {
        oc = PP_OUTCOME_PASS;
    }
    c->reason = g_strdup(j->reason != NULL ? j->reason : "");
    pp_sim_promise_apply(env, k, j, &oc, &c->reason);
    pp_case_set_verdict(c, oc);
    if (claim != NULL) {
        pp_sim_share_publish(claim, c);
    }

    /* A device that does not boot cannot resume: the brick is the verdict. */
    if (resume && env->httpd != NULL && oc != PP_OUTCOME_BRICK) {
        gint64 t4 = g_get_monotonic_time();
        resume_case(env, c, state);
        c->t_resume = (double)(g_get_monotonic_time() - t4) / 1e6;
        if (c->resume_error != NULL
            && (oc == PP_OUTCOME_PASS || oc == PP_OUTCOME_NO_ROLLBACK)) {
            g_free(c->reason);
            pp_case_set_verdict(c, PP_OUTCOME_STUCK);
            c->reason = g_strdup(c->resume_error);
        } else if (c->resume_refetched > env->redownload_threshold
                   && c->verdict == PP_OUTCOME_PASS) {
            g_free(c->reason);
            pp_case_set_verdict(c, PP_OUTCOME_REDOWNLOAD);
            c->reason = g_strdup_printf(
                "the resumed update fetched %u objects that were durable "
                "before the cut (threshold %u)", c->resume_refetched,
                env->redownload_threshold);
        }
    }
    gint64 t5 = g_get_monotonic_time();
    if (farm != NULL) {
        if (!farm_rename(farm, farm_path, error)) {
            pp_sim_farm_drop(env, farm);
            return NULL;
        }
        if (!pp_sim_farm_give(env, farm, &c->farm_dirs, error)) {
            return NULL;
        }
    } else if (!keep_state && !pp_rm_rf(state, error)) {
        return NULL;
    }
    if (shared_view) {
        if (boot_view != NULL) {
            pp_boot_view_cache_release(env->bootviews, boot_view);
        }
    } else if (!keep_state && boot_view != NULL
               && !pp_rm_rf(boot_view, error)) {
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
    pp_json_add_int(b, "repeat", c->repeat);
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
        pp_json_add_int(b, "cut", i + 1);
        json_builder_set_member_name(b, "run");
        json_builder_add_string_value(b, cut->in_resume
                                      ? "the update resumed after the "
                                        "previous cut (traced)"
                                      : "the recorded update");
        pp_json_add_int(b, "k", cut->k);
        pp_json_add_int(b, "records", cut->records);
        pp_json_add_string(b, "call", cut->call);
        pp_json_add_string_or_null(b, "syscall", cut->syscall);
        pp_json_add_string_or_null(b, "path", cut->path);
        pp_json_add_string(b, "phase", pp_phase_name(cut->phase));
        pp_json_add_string(b, "outcome", pp_outcome_to_string(cut->verdict));
        pp_json_add_string(b, "reason", cut->reason);
        pp_json_add_int(b, "ops_persisted", cut->stats.ops_persisted);
        pp_json_add_int(b, "ops_dropped", cut->stats.ops_dropped);
        if (cut->note != NULL) {
            pp_json_add_string(b, "note", cut->note);
        }
        json_builder_set_member_name(b, "judgement");
        json_builder_add_value(b, json_node_copy(cut->judgement));
        json_builder_set_member_name(b, "resume");
        json_builder_begin_object(b);
        pp_json_add_boolean(b, "checked", cut->resumed);
        if (cut->resumed) {
            pp_json_add_int(b, "exit_status", cut->resume_exit);
            pp_json_add_int(b, "bytes_downloaded", (gint64)cut->resume_bytes);
            pp_json_add_int(b, "objects_downloaded", cut->resume_objects);
            pp_json_add_int(b, "objects_redownloaded", cut->resume_refetched);
            pp_json_add_int(b, "objects_durable_before", cut->durable_objects);
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
    pp_json_add_string(b, "id", c->id);
    pp_json_add_string(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string(b, "outcome", pp_outcome_to_string(c->verdict));
    pp_json_add_string(b, "reason", c->reason);
    pp_json_add_string_or_null(b, "boots", c->boots);
    pp_json_add_string(b, "phase", pp_phase_name(c->phase));
    pp_json_add_string(b, "call", c->call);
    if (c->shared_with != NULL) {
        pp_json_add_string(b, "shares_verdict_with", c->shared_with);
    }

    json_builder_set_member_name(b, "state");
    json_builder_begin_object(b);
    pp_json_add_string(b, "name", c->state_name);
    pp_json_add_string(b, "trace", env->trace_path);
    pp_json_add_int(b, "k", c->k);
    pp_json_add_string(b, "model", cfi_model_to_string(env->model));
    pp_json_add_int(b, "seed", (gint64)env->seed);
    pp_json_add_int(b, "ops_persisted", c->stats.ops_persisted);
    pp_json_add_int(b, "ops_dropped", c->stats.ops_dropped);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "evidence");
    json_builder_add_value(b, json_node_copy(c->judgement));
    if (c->cuts != NULL) {
        add_cuts(b, c);
    }

    json_builder_set_member_name(b, "resume");
    json_builder_begin_object(b);
    pp_json_add_boolean(b, "checked", c->resumed);
    if (c->resumed) {
        pp_json_add_int(b, "exit_status", c->resume_exit);
        pp_json_add_int(b, "bytes_downloaded", (gint64)c->resume_bytes);
        pp_json_add_int(b, "objects_downloaded", c->resume_objects);
        pp_json_add_int(b, "objects_redownloaded", c->resume_refetched);
        pp_json_add_int(b, "objects_durable_before", c->durable_objects);
        pp_json_add_int(b, "staging_bytes_after", (gint64)c->resume_staging_bytes);
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
    pp_json_add_string(b, "root", env->root);
    json_builder_set_member_name(b, "snapshot");
    json_builder_add_string_value(b, env->case_snapshot != NULL
                                     ? env->case_snapshot : env->snapshot);
    pp_json_add_string(b, "srv_dir", env->srv_dir);
    pp_json_add_string(b, "srv_repo", env->srv_repo);
    json_builder_set_member_name(b, "commits");
    json_builder_begin_array(b);
    for (char **p = env->commits; *p != NULL; p++) {
        json_builder_add_string_value(b, *p);
    }
    json_builder_end_array(b);
    pp_json_add_string(b, "to_commit", env->to_commit);
    pp_json_add_string(b, "osname", env->osname);
    pp_json_add_string(b, "ostree", env->ostree);
    pp_json_add_string(b, "bootloader", env->bootloader);
    pp_json_add_int(b, "redownload_threshold", env->redownload_threshold);
    pp_json_add_boolean(b, "check_rollback", env->check_rollback);
    pp_json_add_boolean(b, "bootloader_replays_journal",
                        env->bootloader_replays_journal);
    pp_json_add_boolean(b, "client_exited_0", env->promise.made);
    pp_json_add_boolean(b, "auto_da_alloc", !env->device_fs.noauto_da_alloc);
    pp_json_add_string(b, "boot_partition",
                       env->device_fs.separate_boot ? "separate" : "shared");
    pp_json_add_string(b, "filesystem",
                       env->device_fs.syncfs_log_only ? "xfs" : "ext4");
    pp_json_add_boolean(b, "resume", c->resumed);
    pp_json_add_string(b, "scenario", scenario);
    pp_json_add_string(b, "strategy", pp_strategy_to_string(env->strategy));
    pp_json_add_boolean(b, "data_in_place", env->device_fs.data_in_place);
    if (env->strategy != PP_STRATEGY_OSTREE) {
        json_builder_set_member_name(b, "slots");
        json_builder_add_value(b, pp_slot_device_to_json(&env->slots));
    }
    json_builder_end_object(b);

    json_builder_set_member_name(b, "command");
    g_autofree char *cmd = g_strdup_printf("plugpull replay cases/%s.json",
                                           c->id);
    json_builder_add_string_value(b, cmd);
    pp_json_add_double(b, "seconds", c->seconds);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
