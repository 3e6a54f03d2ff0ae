/* SPDX-License-Identifier: MIT */
/*
 * cmd-sim-env.c: the environment of a sim campaign (cmd-sim.h): the
 * device prepared and the update recorded (or a recording reused), the
 * stand-in serving its firmware, the [fault] run judged, the directory
 * the crash states are built in; and what is left of it afterwards.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "common/client.h"
#include "common/error.h"
#include "cli/cmd-sim.h"
#include "common/interrupt.h"
#include "common/json.h"
#include "common/fs.h"
#include "common/util.h"
#include "server/firmware-repo.h"
#include "server/fixture.h"
#include "sim/record.h"
#include "sim/sim-fidelity.h"
#include "sim/sim-out.h"
#include "sim/strategy.h"

/*
 * The firmware served in fxdir: the built-in fixture, or with [firmware]
 * repo a private mirror of the user's repo (firmware-repo.h), whose from
 * and to are the fixture's versions 1 and 2 for what follows.
 */
static gboolean
firmware_source(const PpScenario *sc, const char *fxdir, PpFixture **out_fx,
                GError **error)
{
    if (sc->repo == NULL) {
        if (!pp_fixture_build_repo(fxdir, sc->payload_kb, out_fx, error)) {
            g_prefix_error(error, "building the fixture firmware: ");
            return FALSE;
        }
        return TRUE;
    }
    g_autoptr(PpFirmwareRepo) fw = NULL;
    if (!pp_firmware_repo_check(sc->repo, sc->from_rev, sc->to_rev, sc->os,
                                &fw, error)
        || !pp_firmware_repo_check_history(
               fw, (const char *const *)sc->history_revs, error)
        || !pp_firmware_repo_mirror(fw, fxdir, out_fx, error)) {
        return FALSE;
    }
    g_print("your firmware: %s (%s), from %.12s, to %.12s, served as %s, "
            "stateroot %s\n", fw->repo, fw->mode, fw->from_commit,
            fw->to_commit, fw->branch, fw->osname);
    return TRUE;
}

/* Prepare the device and record the update; fills env. */
static gboolean
prepare(const PpScenario *sc, const char *work, PpFixture **out_fx,
        PpHttpd **out_httpd, PpRecording *rec, PpSimFault *fault,
        GError **error)
{
    g_autofree char *fxdir = g_build_filename(work, "fixture", NULL);
    g_autoptr(PpFixture) fx = NULL;
    if (!firmware_source(sc, fxdir, &fx, error)) {
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
    /* [client]: the device's own ostree (from-firmware), the update
       command's template.  The one place the recorded update's command
       is built (a resume's: pp_sim_resume). */
    const char *client = sc->from_firmware ? PP_CLIENT_FIRMWARE_OSTREE
                                           : sc->ostree;
    const char *firmware = sc->from_firmware ? fx->sysroot : NULL;
    if (firmware != NULL && !pp_client_firmware_check(firmware, error)) {
        return FALSE;
    }
    g_auto(GStrv) update = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)client);
    switch (sc->action) {
    case PP_ACTION_UPGRADE: {
        PpCommandVars vars = { .sysroot = fx->sysroot, .os = fx->osname,
                               .remote = "origin", .ref = fx->ref,
                               .ostree = client };
        update = pp_scenario_update_argv(sc, &vars, error);
        if (update == NULL) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        g_ptr_array_set_size(argv, 0);
        for (char **a = update; *a != NULL; a++) {
            g_ptr_array_add(argv, *a);
        }
        break;
    }
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
        || !pp_record_client_in(firmware, fx->sysroot, recdir,
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

/* A [fault] with a network part: the stand-in's, which only ostree's
 * update talks to. */
static gboolean
has_net_fault(const PpScenario *sc)
{
    return sc->net_drop > 0 || sc->net_stall > 0 || sc->net_5xx > 0;
}

/* Record the traced update of a prepared non-OSTree device. */
static gboolean
record_setup(const PpScenario *sc, PpSlotSetup *setup, const char *work,
             PpRecording *rec, PpSimFault *fault, GError **error)
{
    g_autofree char *recdir = g_build_filename(work, "record", NULL);
    /* [fault] inject: the shim's rule on the traced run (simfault.h); no
       server, so no network fault. */
    if (!pp_fault_arm(sc, NULL, NULL, NULL, fault, error)
        || !pp_record_client_in(NULL, setup->root, recdir,
                                (const char *const *)setup->argv, NULL,
                                fault->rule, rec, error)) {
        return FALSE;
    }
    pp_fault_note_run(fault, rec, NULL);
    if (rec->exit_status != 0 && !fault->active) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the traced update itself failed (%s exited %d): %s",
                    setup->argv[0], rec->exit_status, rec->client_err);
        return FALSE;
    }
    return TRUE;
}

/*
 * A dpkg device (sim/strategy.h): your Debian-built firmware's from tree,
 * updated by dpkg to the to tree's packages.
 */
static gboolean
prepare_dpkg(const PpScenario *sc, const char *work, PpRecording *rec,
             PpSlotDevice *out_slots, char ***out_argv, PpSimFault *fault,
             GError **error)
{
    if (sc->repo == NULL || has_net_fault(sc)
        || sc->action != PP_ACTION_UPGRADE || sc->n_history > 0
        || sc->repeat > 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "[update] strategy = dpkg: a Debian-built "
                             "firmware (--repo, --from, --to) only, without "
                             "network faults, [firmware] history, [crash] "
                             "repeat or [client] action");
    }
    g_auto(PpSlotSetup) setup = { 0 };
    if (!pp_dpkg_setup(sc, work, &setup, error)) {
        g_prefix_error(error, "preparing the dpkg device: ");
        return FALSE;
    }
    if (!record_setup(sc, &setup, work, rec, fault, error)) {
        return FALSE;
    }
    *out_slots = setup.dev;
    memset(&setup.dev, 0, sizeof setup.dev);
    *out_argv = g_steal_pointer(&setup.argv);
    return TRUE;
}

/*
 * A slot device (ab, update-mode: sim/strategy.h) made from the fixture's
 * versions or your firmware's from and to, and its update recorded.  No
 * stand-in: the image is copied from the device's own storage (its
 * download is measured apart, by `plugpull strategies`).
 */
static gboolean
prepare_slots(const PpScenario *sc, const char *work, PpFixture **out_fx,
              PpRecording *rec, PpSlotDevice *out_slots, char ***out_argv,
              PpSimFault *fault, GError **error)
{
    if (sc->strategy == PP_STRATEGY_DPKG) {
        return prepare_dpkg(sc, work, rec, out_slots, out_argv, fault,
                            error);
    }
    if (has_net_fault(sc) || sc->action != PP_ACTION_UPGRADE
        || sc->n_history > 0 || sc->repeat > 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "[update] strategy = %s: without network "
                             "faults (nothing is downloaded), [firmware] "
                             "history, [crash] repeat or [client] action",
                             pp_strategy_to_string(sc->strategy));
    }
    /* The same firmware as ostree's campaign: the fixture's trees, or
       your repo's from and to checked out (each made an ext4 image). */
    g_autofree char *fxdir = g_build_filename(work, "fixture", NULL);
    g_autoptr(PpFixture) fx = NULL;
    if (!firmware_source(sc, fxdir, &fx, error)
        || (sc->repo != NULL
            && !pp_firmware_repo_checkout_trees(fx, error))) {
        return FALSE;
    }
    g_auto(PpSlotSetup) setup = { 0 };
    if (!pp_slot_setup(sc, fx, work, &setup, error)) {
        g_prefix_error(error, "preparing the %s device: ",
                       pp_strategy_to_string(sc->strategy));
        return FALSE;
    }
    if (!record_setup(sc, &setup, work, rec, fault, error)) {
        return FALSE;
    }
    *out_slots = setup.dev;
    memset(&setup.dev, 0, sizeof setup.dev);
    *out_argv = g_steal_pointer(&setup.argv);
    *out_fx = g_steal_pointer(&fx);
    return TRUE;
}

/* Record the update on a fresh device under work: fills env (and the
 * stand-in serving the firmware, which resumes need). */
static gboolean
env_record(const PpScenario *sc, const char *work, PpSimEnv *env,
           PpHttpd **out_httpd, PpSimFault *fault, GError **error)
{
    g_autoptr(PpFixture) fx = NULL;
    PpRecording rec = { 0 };
    env->strategy = sc->strategy;
    g_auto(GStrv) update_argv = NULL;
    if (sc->strategy != PP_STRATEGY_OSTREE
        ? !prepare_slots(sc, work, &fx, &rec, &env->slots, &update_argv,
                         fault, error)
        : !prepare(sc, work, &fx, out_httpd, &rec, fault, error)) {
        pp_recording_clear(&rec);
        return FALSE;
    }
    /* A [fault] campaign retries the update on the device its faulted
       run left (simfault.h). */
    if (fault->active) {
        env->update_argv = g_steal_pointer(&update_argv);
    }
    env->trace_path = g_strdup(rec.trace);
    env->root = g_strdup(rec.root);
    env->snapshot = g_strdup(rec.snapshot);
    if (fx == NULL) {
        /* dpkg: no stand-in; what the device was updated from is the
           copy of the packages under work (a recording keeps only what is
           under work); replay judges by the package sets in "slots". */
        env->srv_dir = g_build_filename(work, "debs", NULL);
        env->srv_repo = g_build_filename(work, "debs", NULL);
        env->commits = g_new0(char *, 3);
        env->commits[0] = g_strdup(sc->from_rev);
        env->commits[1] = g_strdup(sc->to_rev);
        env->to_commit = g_strdup(sc->to_rev);
        env->osname = g_strdup("dpkg");
        env->bootloader = g_strdup(sc->bootloader);
        pp_recording_clear(&rec);
        return TRUE;
    }
    env->srv_dir = g_strdup(fx->srv_dir);
    env->srv_repo = g_strdup(fx->srv_repo);
    /* NULL-terminated: your firmware's mirror may have no third commit
     * (its commits[2] NULL) and still a commit published again. */
    env->commits = g_new0(char *, PP_FIXTURE_N_VERSIONS + 2);
    guint n = 0;
    for (guint v = 0; v < PP_FIXTURE_N_VERSIONS; v++) {
        if (fx->commits[v] != NULL) {
            env->commits[n++] = g_strdup(fx->commits[v]);
        }
    }
    /* A version published again is a known-good tree of its own commit. */
    env->commits[n] = g_strdup(fx->again);
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
    if (rec->strategy != sc->strategy) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "the recording %s is of a %s campaign, the "
                             "scenario's strategy is %s", rec->dir,
                             pp_strategy_to_string(rec->strategy),
                             pp_strategy_to_string(sc->strategy));
    }
    pp_simrec_fill_env(rec, env);
    /* Only ostree's states are resumed against the stand-in. */
    if (sc->action == PP_ACTION_PULL || sc->strategy != PP_STRATEGY_OSTREE) {
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
 * The largest snapshot that is copied to tmpfs to build crash states
 * there.  The copy is a second whole tree, held in memory for the whole
 * campaign beside the snapshot on disk: it makes a campaign's scratch
 * about 3.4 times the tree instead of 2.4.  What it buys is small
 * (bench/RESULTS.md, "scratch"): a whole barrier campaign of the 130 MiB
 * small Debian firmware took 35 s with it and 37 s without; on the 720
 * MiB one, materialise and resume (a whole copy of the device) take
 * longer on disk, the campaign 1.28 times as long.  So only a tree
 * as small as the fixture's, where the copy costs nothing, goes there.
 */
#define PP_TMPFS_SNAPSHOT_MAX (64ULL << 20)

/*
 * Where crash states are built: beside a copy of the snapshot on tmpfs
 * when there is room and the snapshot is small or on another file system
 * than work (*out_fast, to remove at the end), else under work.  Case
 * files keep naming the snapshot the run was given.
 */
static gboolean
env_place_states(PpSimEnv *env, const char *work, gboolean no_tmpfs,
                 char **out_fast, GError **error)
{
    guint64 bytes = 0;
    if (!no_tmpfs && !pp_tree_disk_bytes(env->snapshot, &bytes, error)) {
        return FALSE;
    }
    /* States link their unchanged files to the snapshot; on another
     * file system than work each state would copy them all instead. */
    struct stat snap_st, work_st;
    if (!pp_mkdir_p(work, error)) {
        return FALSE;
    }
    gboolean same_fs = stat(env->snapshot, &snap_st) == 0
                       && stat(work, &work_st) == 0
                       && snap_st.st_dev == work_st.st_dev;
    if (!no_tmpfs && bytes > PP_TMPFS_SNAPSHOT_MAX && same_fs) {
        g_print("states: built beside the snapshot on disk (it is %"
                G_GUINT64_FORMAT " MiB; a copy on tmpfs is made up to %llu "
                "MiB)\n", bytes >> 20, PP_TMPFS_SNAPSHOT_MAX >> 20);
        no_tmpfs = TRUE;
    }
    g_autofree char *fast = no_tmpfs ? NULL : fast_work_dir();
    if (fast == NULL) {
        /* Scratch: states are built again on demand.  A run killed
           without its tidy-up (SIGKILL, a power cut) left its farms
           there, which the next run (--resume) would trip on; no other
           run uses them (the campaign's lock). */
        env->states_dir = g_build_filename(work, "states", NULL);
        return pp_rm_rf(env->states_dir, error);
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


void
pp_simcmd_bed_clear(SimBed *b)
{
    pp_sim_env_clear(&b->env);
    if (b->loaded) {
        g_mutex_clear(&b->env.resume_lock);
    }
    g_clear_pointer(&b->httpd, pp_httpd_stop);
    pp_sim_fault_clear(&b->fault);
    if (b->fast != NULL) {
        pp_rm_rf(b->fast, NULL);
        g_free(b->fast);
    }
    memset(b, 0, sizeof *b);
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
gboolean
pp_simcmd_reuse_own_recording(const PpScenario *sc, const char *work,
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
 * The environment of the cases, from a recording (--recording, or the
 * campaign's own when resumed) or from recording the update afresh.  A
 * fresh trace must replay to what its run left (simfidelity.c).  One that
 * does not is a harness fault, not a finding: it is said, and the update
 * is recorded again, up to PP_SIM_RECORD_ATTEMPTS times.
 */
gboolean
pp_simcmd_make_env(SimRun *r, const PpSimRec *own, SimBed *bed,
                   GError **error)
{
    const PpScenario *sc = r->sc;
    for (guint attempt = 1;; attempt++) {
        gboolean fresh = r->rec == NULL && own == NULL;
        gboolean env_ok = !fresh
            ? env_reuse(r->rec != NULL ? r->rec : own, sc, &bed->env,
                        &bed->httpd, error)
            : env_record(sc, r->work, &bed->env, &bed->httpd, &bed->fault,
                         error);
        if (!env_ok) {
            int signo = pp_interrupt_signal();
            if (signo != 0) {
                pp_simcmd_print_continue(r->dir);
                g_autofree char *msg = g_strdup((*error)->message);
                return pp_throw_interrupted_msg(error, signo, "%s", msg);
            }
            return FALSE;
        }
        PpSimEnv *env = &bed->env;
        env->ostree = g_strdup(sc->ostree);
        env->command = g_strdup(sc->command);
        env->from_firmware = sc->from_firmware;
        env->model = sc->model;
        env->seed = sc->seed;
        env->redownload_threshold = sc->redownload_threshold;
        env->check_rollback = sc->check_rollback;
        env->bootloader_replays_journal = sc->bootloader_replays_journal;
        env->device_fs = sc->device_fs;
        /* The slots are partitions (MODELS.md 4c); dpkg's root is a
           filesystem tree like OSTree's. */
        env->device_fs.data_in_place = sc->strategy != PP_STRATEGY_OSTREE
                                       && sc->strategy != PP_STRATEGY_DPKG;
        env->httpd = sc->action == PP_ACTION_PULL ? NULL : bed->httpd;
        g_autofree char *unfaithful = NULL;
        if (!env_place_states(env, r->work,
                              r->opt->no_tmpfs || r->opt->record_only,
                              &bed->fast, error)
            || (bed->fast != NULL && !r->opt->record_only
                && !pp_campaign_note_scratch(r->work, bed->fast, error))) {
            return FALSE;
        }
        bed->loaded = TRUE;
        if (!pp_sim_env_load(env, error)
            || (fresh && !pp_sim_check_fidelity(env, &unfaithful, error))) {
            return FALSE;
        }
        if (unfaithful == NULL) {
            return TRUE;
        }
        g_printerr("plugpull: sim: recording %u of %u: the trace does not "
                   "replay to the state its run left (a harness fault; its "
                   "crash states cannot be trusted): %s\n", attempt,
                   PP_SIM_RECORD_ATTEMPTS, unfaithful);
        if (attempt == PP_SIM_RECORD_ATTEMPTS || pp_interrupt_signal() != 0) {
            return pp_throw_code(error, PP_ERROR_HARNESS, "giving up; the "
                                 "last recording is kept in %s", r->work);
        }
        pp_simcmd_bed_clear(bed);
        if (!pp_rm_rf(r->work, error)) {
            return FALSE;
        }
        g_print("recording the update again\n");
    }
}

/*
 * A campaign that recorded its own update keeps the recording's manifest
 * in work before judging anything: --resume reuses the trace only when
 * the manifest verifies.  (A [fault] campaign needs the device as the
 * faulted run left it, which the manifest drops.)  *out_rec_id: the id of
 * the recording the cases are judged on.
 */
gboolean
pp_simcmd_keep_own_recording(const SimRun *r, const PpSimRec *own,
                             const SimBed *bed, char **out_rec_id,
                             GError **error)
{
    if (r->rec != NULL || own != NULL || r->opt->record_only
        || bed->fault.active) {
        *out_rec_id = g_strdup(r->rec != NULL ? r->rec->id
                               : own != NULL ? own->id : "unrecorded");
        return TRUE;
    }
    if (!pp_simrec_write(r->work, r->sc, r->scenario_text, &bed->env,
                         r->version, out_rec_id, error)) {
        g_prefix_error(error, "writing the recording's manifest: ");
        return FALSE;
    }
    if (*out_rec_id == NULL) {
        *out_rec_id = g_strdup("unrecorded");
    }
    return TRUE;
}

/*
 * [fault]: judge the state the faulted run left and its retry, before the
 * crash points (see simfault.h); the case file goes beside the others.
 */
gboolean
pp_simcmd_run_fault(PpSimFault *fault, PpSimEnv *env, const char *dir,
          const PpScenario *sc, JsonNode **out_json, GError **error)
{
    if (!pp_fault_judge(fault, env, error)) {
        return FALSE;
    }
    g_print("fault: %s\n", fault->verdict);
    if (fault->end != NULL) {
        g_autoptr(JsonNode) node = pp_case_to_json(env, fault->end, sc->path);
        g_autofree char *name = g_strdup_printf("%s.json", fault->end->id);
        g_autofree char *path = g_build_filename(dir, "cases", name, NULL);
        if (!pp_write_json(path, node, error)) {
            return FALSE;
        }
    }
    *out_json = pp_fault_to_json(fault, sc);
    return TRUE;
}

/* --record-only: the recording is kept with its manifest, nothing is
 * judged.  env is loaded (so the recording is known to be usable).  text:
 * the scenario as the campaign keeps it (the file's text with the
 * firmware options folded in; NULL: the built-in default). */
static gboolean
record_only(const char *dir, const PpScenario *sc, const char *text,
            const PpSimEnv *env, const char *version, GError **error)
{
    if (!pp_simrec_write(dir, sc, text, env, version, NULL, error)) {
        g_prefix_error(error, "writing the recording: ");
        return FALSE;
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
    return TRUE;
}

/*
 * After the verdict: the crash states are rebuilt on demand; the rest of
 * work (fixture, snapshot, trace) is what `plugpull replay` needs, so it
 * stays.  A run on a recording has nothing else there.
 */
void
pp_simcmd_tidy_work(const SimRun *r, SimBed *bed)
{
    gboolean had_fast = bed->fast != NULL;
    pp_simcmd_bed_clear(bed);
    g_autofree char *states = g_build_filename(r->work, "states", NULL);
    pp_rm_rf(states, NULL);
    if (had_fast) {
        pp_campaign_remove_scratch(r->work);
    }
    if (r->rec != NULL) {
        g_rmdir(r->work);
    }
}

/* --record-only: the recording made, kept and described; its crash
   states are not needed. */
gboolean
pp_simcmd_record_only(const SimRun *r, SimBed *bed, GError **error)
{
    gboolean ok = record_only(r->dir, r->sc, r->scenario_text,
                              &bed->env, r->version, error);
    g_autofree char *states = g_strdup(bed->env.states_dir);
    pp_simcmd_bed_clear(bed);
    pp_rm_rf(states, NULL);
    return ok;
}
