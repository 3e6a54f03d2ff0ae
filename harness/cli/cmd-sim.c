/* SPDX-License-Identifier: MIT */
/*
 * cmd-sim.c: plugpull sim: every crash point of an OSTree update, each
 * judged by the oracle.  See sim.h for the method, cmd-sim.h for how the
 * command is split.
 *
 * The command parses its options into a struct at file scope and runs the
 * stages: resolve the campaign (new, or --resume), load the scenario, open
 * the results directory, make the environment (record the update, or
 * reuse a recording), judge the crash points, write the results and the
 * verdict.
 */
#include <string.h>

#include "common/error.h"
#include "cli/cmd-sim.h"
#include "common/interrupt.h"
#include "common/tracestats.h"
#include "common/util.h"
#include "plugpull.h"
#include "cli/cli-firmware.h"
#include "server/firmware-repo.h"
#include "sim/sim-fault.h"

/* The exact command that continues the campaign in dir. */
void
pp_simcmd_print_continue(const char *dir)
{
    g_autofree char *q = g_shell_quote(dir);
    g_printerr("continue it with: plugpull sim --out %s --resume\n", q);
}

static SimOptions opt;

static const GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &opt.scenario_path,
      "campaign file (default: the built-in upgrade v1 -> v2)", "FILE" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &opt.model,
      "process-kill, ordered, strict, torn, reorder", "M" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt.seed, "seed of every random "
      "choice", "N" },
    { "points", 'p', 0, G_OPTION_ARG_STRING, &opt.points,
      "all, barriers, barriers:N, sample:N or none", "P" },
    { "ostree", 0, 0, G_OPTION_ARG_FILENAME, &opt.ostree,
      "the client under test (default /usr/bin/ostree)", "PATH" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs, "cases judged at once "
      "(default 2)", "J" },
    { "budget", 0, 0, G_OPTION_ARG_STRING, &opt.budget,
      "stop starting cases after this long (90s, 15m, 1h) and report "
      "what was covered", "DURATION" },
    { "no-tmpfs", 0, 0, G_OPTION_ARG_NONE, &opt.no_tmpfs,
      "build crash states under DIR/work, not on /dev/shm (a tree over "
      "64 MiB is built there anyway: a copy on /dev/shm would be a second "
      "whole tree in memory)", NULL },
    { "resume-updates", 0, 0, G_OPTION_ARG_STRING, &opt.resume,
      "which states are also rebooted and updated again: all, none, "
      "sample:N (the scenario's [verify] resume)", "R" },
    { "record-only", 0, 0, G_OPTION_ARG_NONE, &opt.record_only,
      "record the update into DIR and judge nothing: a recording for "
      "--recording", NULL },
    { "recording", 0, 0, G_OPTION_ARG_FILENAME, &opt.recording,
      "judge the crash points of this recording (made by --record-only) "
      "instead of recording again", "REC" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &opt.shard,
      "judge only shard K of N of the crash points (needs --recording; "
      "join the shards with plugpull merge)", "K/N" },
    { "known", 0, 0, G_OPTION_ARG_FILENAME, &opt.known,
      "known findings: a failure that matches one is reported known, "
      "not failed (default: the scenario's [verify] known)", "FILE" },
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &opt.repo,
      "your firmware: an OSTree repo (archive or bare-user) to test instead "
      "of the built-in fixture; never written to ([firmware] repo)",
      "PATH" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt.from,
      "with --repo: the REF or COMMIT deployed before the update", "REF" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt.to,
      "with --repo: the REF or COMMIT the device is updated to", "REF" },
    { "os", 0, 0, G_OPTION_ARG_STRING, &opt.os,
      "with --repo: the stateroot (default: the commit's ostree.osname, "
      "else plugpull)", "NAME" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
      "results directory (new or empty)", "DIR" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &opt.resume_campaign,
      "continue the campaign in --out DIR where it stopped (signal, "
      "crash): its finished cases are kept, the rest judged", NULL },
    { NULL },
};

static void
sim_options_reset(void)
{
    g_clear_pointer(&opt.scenario_path, g_free);
    g_clear_pointer(&opt.model, g_free);
    g_clear_pointer(&opt.known, g_free);
    g_clear_pointer(&opt.points, g_free);
    g_clear_pointer(&opt.ostree, g_free);
    g_clear_pointer(&opt.out, g_free);
    g_clear_pointer(&opt.resume, g_free);
    g_clear_pointer(&opt.budget, g_free);
    g_clear_pointer(&opt.recording, g_free);
    g_clear_pointer(&opt.shard, g_free);
    g_clear_pointer(&opt.repo, g_free);
    g_clear_pointer(&opt.from, g_free);
    g_clear_pointer(&opt.to, g_free);
    g_clear_pointer(&opt.os, g_free);
    opt = (SimOptions){ .seed = -1, .jobs = 2 };
}

static void
sim_run_clear(SimRun *r)
{
    g_clear_pointer(&r->camp, pp_campaign_free);
    g_clear_pointer(&r->rec, pp_simrec_free);
    g_clear_pointer(&r->sc, pp_scenario_free);
    g_clear_pointer(&r->dir, g_free);
    g_clear_pointer(&r->cases_dir, g_free);
    g_clear_pointer(&r->work, g_free);
    g_clear_pointer(&r->done_dir, g_free);
    g_clear_pointer(&r->started, g_free);
    g_clear_pointer(&r->version, g_free);
    g_clear_pointer(&r->pts, g_free);
    g_clear_pointer(&r->resume_str, g_free);
    g_clear_pointer(&r->scenario_text, g_free);
    g_clear_pointer(&r->known, pp_known_list_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SimRun, sim_run_clear)


/* Fill opt from the command line; the budget in r. */
static gboolean
parse_options(int argc, char **argv, SimRun *r, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Cut the power at every chosen point of "
                                 "an OSTree update in simulation, and judge "
                                 "each crash state.\nExit status: 0 all "
                                 "passed, 1 a failure was found, 2 usage or "
                                 "scenario error, 3 the harness failed, 130 "
                                 "(SIGINT) or 143 (SIGTERM) interrupted: "
                                 "--resume continues.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (opt.out == NULL || argc != 1) {
        return pp_throw_code(error, PP_ERROR_USAGE, "needs --out DIR (and no "
                             "other argument)");
    }
    if (opt.budget != NULL && !pp_parse_duration(opt.budget, &r->budget_s)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--budget must be a "
                             "duration like 90s, 15m, 1h30m, not '%s'",
                             opt.budget);
    }
    if (opt.jobs < 1 || opt.jobs > 64) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--jobs must be 1 to 64");
    }
    return TRUE;
}

/*
 * --resume: the campaign in --out DIR, whose options must agree with the
 * ones given, and become the options.  Then the shard and the options
 * that exclude each other.
 */
static gboolean
resolve_campaign(SimRun *r, GError **error)
{
    gboolean firmware_opts = opt.repo != NULL || opt.from != NULL
                             || opt.to != NULL || opt.os != NULL;
    if (firmware_opts && (opt.resume_campaign || opt.recording != NULL)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--repo, --from, --to and "
                             "--os make a new recording: the campaign or "
                             "recording keeps the ones it was made with");
    }
    if (opt.resume_campaign) {
        if (opt.record_only) {
            return pp_throw_code(error, PP_ERROR_USAGE, "--resume continues a "
                                 "campaign; --record-only makes a recording");
        }
        g_autofree char *d = g_canonicalize_filename(opt.out, NULL);
        r->camp = pp_campaign_load(d, error);
        PpCampaignAsk ask = { opt.scenario_path, opt.model, opt.points,
                              opt.seed, opt.resume, opt.shard,
                              opt.budget != NULL ? r->budget_s : -1,
                              opt.recording, opt.ostree };
        if (r->camp == NULL || !pp_campaign_check(r->camp, &ask, error)) {
            g_prefix_error(error, "--resume: ");
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        /* From here on, the campaign's values are the options. */
        const PpCampaign *camp = r->camp;
        g_clear_pointer(&opt.scenario_path, g_free);
        g_free(opt.model);
        opt.model = g_strdup(camp->model);
        g_free(opt.points);
        opt.points = g_strdup(camp->points);
        opt.seed = (gint64)camp->seed;
        g_free(opt.resume);
        opt.resume = g_strdup(camp->resume_updates);
        g_free(opt.shard);
        opt.shard = g_strdup(camp->shard);
        r->budget_s = camp->budget_s;
        g_free(opt.recording);
        opt.recording = g_strdup(camp->recording);
        if (opt.ostree == NULL) {
            opt.ostree = g_strdup(camp->client_path);
        }
    }
    if (opt.shard != NULL && !pp_shard_parse(opt.shard, &r->shard, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (opt.record_only && (opt.recording != NULL || opt.shard != NULL)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--record-only makes a "
                             "recording; --recording and --shard use one");
    }
    if (opt.shard != NULL && opt.recording == NULL) {
        /* Shards that each recorded the update judged different traces:
         * their results could not be merged. */
        return pp_throw_code(error, PP_ERROR_USAGE, "--shard needs "
                             "--recording REC: every shard must judge the "
                             "crash states of one recording (make it once "
                             "with plugpull sim --record-only --out REC)");
    }
    return TRUE;
}

/*
 * [firmware] history with your repo: its revs resolved in the repo, then
 * the scenario's versions set as the mirror will serve them
 * (firmware-repo.h), so that the device is prepared through the history
 * as the fixture's is.
 */
static gboolean
firmware_history(PpScenario *sc, GError **error)
{
    if (sc->repo == NULL || sc->history_revs == NULL) {
        return TRUE;
    }
    g_autoptr(PpFirmwareRepo) fw = NULL;
    if (!pp_firmware_repo_check(sc->repo, sc->from_rev, sc->to_rev, sc->os,
                                &fw, error)
        || !pp_firmware_repo_check_history(
               fw, (const char *const *)sc->history_revs, error)) {
        return FALSE;
    }
    if (fw->back && sc->static_delta) {
        return pp_throw_code(error, PP_ERROR_USAGE, "your firmware %s: "
                             "[firmware] static-delta: not for going back to "
                             "a version of the history", sc->repo);
    }
    g_free(sc->history);
    sc->history = g_new0(guint, 2);
    pp_firmware_repo_versions(fw, &sc->from_version, &sc->to_version,
                              sc->history, &sc->n_history);
    return TRUE;
}

/* The firmware options as cli-firmware.h takes them. */
static PpFirmwareOptions
given_firmware(void)
{
    return (PpFirmwareOptions){ opt.repo, opt.from, opt.to, opt.os };
}

/*
 * Your firmware, before anything is written: the repo opens, from and to
 * are different commits with a kernel (a usage error naming the problem
 * otherwise).  A run on a recording serves the recording's mirror and
 * needs no repo.
 */
static gboolean
check_firmware(const SimRun *r, GError **error)
{
    if (r->sc->repo == NULL || r->rec != NULL) {
        return TRUE;
    }
    g_autoptr(PpFirmwareRepo) fw = NULL;
    return pp_firmware_repo_check(r->sc->repo, r->sc->from_rev,
                                  r->sc->to_rev, r->sc->os, &fw, error);
}

/* The scenario of a run that records its own update: the campaign's, the
   file's or the built-in one, with the options applied. */
static PpScenario *
scenario_with_options(const PpCampaign *camp, GError **error)
{
    g_autoptr(PpScenario) sc = NULL;
    if (camp != NULL && camp->scenario_text != NULL) {
        sc = pp_scenario_load_data(camp->scenario_text, camp->scenario_path,
                                   error);
    } else {
        sc = opt.scenario_path != NULL
            ? pp_scenario_load_checked(opt.scenario_path, error)
            : pp_scenario_new_default();
    }
    if (sc == NULL) {
        g_autofree char *msg = g_strdup((*error)->message);
        g_clear_error(error);
        pp_throw_code(error, PP_ERROR_USAGE, "bad scenario:\n%s", msg);
        return NULL;
    }
    if ((opt.model != NULL
         && !cfi_model_from_string(opt.model, &sc->model, error))
        || (opt.points != NULL
            && !pp_points_parse(opt.points, &sc->points, &sc->sample, error))
        || (opt.resume != NULL
            && !pp_resume_parse(opt.resume, &sc->resume, &sc->resume_sample,
                                error))) {
        pp_error_set_code(error, PP_ERROR_USAGE);
        return NULL;
    }
    if (opt.seed >= 0) {
        sc->seed = (guint64)opt.seed;
    }
    if (opt.ostree != NULL) {
        g_free(sc->ostree);
        sc->ostree = g_steal_pointer(&opt.ostree);
    }
    PpFirmwareOptions fo = given_firmware();
    if (!pp_cli_firmware_options(sc, &fo, error)
        || !firmware_history(sc, error)) {
        return NULL;
    }
    return g_steal_pointer(&sc);
}

/*
 * The scenario: the recording's (--recording, whose options must agree),
 * else scenario_with_options.  Then what the scenario excludes, and the
 * client it runs.
 */
static gboolean
load_scenario(SimRun *r, GError **error)
{
    if (opt.recording != NULL) {
        r->rec = pp_simrec_load(opt.recording, error);
        if (r->rec == NULL) {
            return g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                   || g_error_matches(*error, G_IO_ERROR,
                                      G_IO_ERROR_INVALID_DATA)
                ? pp_error_set_code(error, PP_ERROR_USAGE) : FALSE;
        }
        if (r->rec->compat_note != NULL) {
            g_printerr("plugpull: sim: note: %s\n", r->rec->compat_note);
        }
        PpSimRecAsk ask = { opt.scenario_path, opt.model, opt.points,
                            opt.seed, opt.resume };
        r->sc = pp_simrec_scenario(r->rec, &ask, opt.ostree, error);
    } else {
        r->sc = scenario_with_options(r->camp, error);
    }
    if (r->sc == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (pp_scenario_has_fault(r->sc) && (opt.record_only || r->rec != NULL)) {
        /* The fault's verdict comes from the recording run itself. */
        return pp_throw_code(error, PP_ERROR_USAGE, "a [fault] scenario is "
                             "judged in one run: not with --record-only, "
                             "--recording or --shard");
    }
    if (!g_file_test(r->sc->ostree, G_FILE_TEST_IS_EXECUTABLE)
        || g_file_test(r->sc->ostree, G_FILE_TEST_IS_DIR)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "the client %s is missing "
                             "or not executable", r->sc->ostree);
    }
    const char *known = opt.known != NULL ? opt.known : r->sc->known;
    if (known != NULL && (r->known = pp_known_load(known, error)) == NULL) {
        g_prefix_error(error, "bad known findings:\n");
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    return TRUE;
}

/*
 * The results directory: prepared (a new campaign), campaign.json written
 * first so that whatever happens next can be resumed, then locked
 * (*out_lock_fd) against a second plugpull on it.
 */
static gboolean
open_campaign(SimRun *r, int *out_lock_fd, GError **error)
{
    const PpScenario *sc = r->sc;
    r->dir = g_canonicalize_filename(opt.out, NULL);
    if (r->camp == NULL && !pp_out_dir_prepare(r->dir, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    r->cases_dir = g_build_filename(r->dir, "cases", NULL);
    r->work = g_build_filename(r->dir, "work", NULL);
    r->done_dir = g_build_filename(r->work, "done", NULL);
    if (!opt.record_only && !pp_mkdir_p(r->cases_dir, error)) {
        return FALSE;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    r->t_start = g_get_monotonic_time();
    r->started = r->camp != NULL
        ? g_strdup(r->camp->started) : g_date_time_format_iso8601(now);
    r->version = pp_ostree_version(sc->ostree);
    r->pts = pp_points_to_string(sc->points, sc->sample);
    r->resume_str = pp_resume_to_string(sc->resume, sc->resume_sample);
    if (r->camp != NULL) {
        r->scenario_text = g_strdup(r->camp->scenario_text);
    } else if (r->rec != NULL) {
        r->scenario_text = g_strdup(r->rec->scenario_text);
    } else if (opt.scenario_path != NULL
               && !g_file_get_contents(opt.scenario_path, &r->scenario_text,
                                       NULL, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    PpFirmwareOptions fo = given_firmware();
    if (r->camp == NULL && r->rec == NULL
        && !pp_cli_fold_firmware_options(sc, &fo, &r->scenario_text, error)) {
        return FALSE;
    }
    if (opt.record_only) {
        return TRUE;
    }
    if (r->camp == NULL) {
        PpCampaign fresh = {
            .scenario_path = sc->path,
            .scenario_text = r->scenario_text,
            .model = (char *)cfi_model_to_string(sc->model),
            .points = r->pts,
            .seed = sc->seed,
            .resume_updates = r->resume_str,
            .shard = opt.shard,
            .budget_s = r->budget_s,
            .recording = r->rec != NULL ? r->rec->dir : NULL,
            .client_path = sc->ostree,
            .client_version = r->version,
            .started = r->started,
        };
        if (!pp_campaign_write(r->dir, &fresh, error)) {
            return FALSE;
        }
    }
    *out_lock_fd = pp_campaign_lock(r->dir, error);
    if (*out_lock_fd < 0) {
        return g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_BUSY)
            ? pp_error_set_code(error, PP_ERROR_USAGE) : FALSE;
    }
    if (r->camp != NULL) {
        pp_campaign_remove_scratch(r->work);
    }
    return TRUE;
}

static void
print_header(const SimRun *r)
{
    const PpScenario *sc = r->sc;
    g_autofree char *repeat_note = sc->repeat > 1
        ? g_strdup_printf(", %u cuts per resumed case", sc->repeat)
        : g_strdup("");
    g_autofree char *what = sc->repo != NULL
        ? g_strdup_printf("%s -> %s of %s", sc->from_rev, sc->to_rev,
                          sc->repo)
        : g_strdup_printf("v%u -> v%u", sc->from_version, sc->to_version);
    g_print("plugpull sim: scenario %s (%s), %s of %s, %s device, "
            "model %s, points %s, seed %" G_GUINT64_FORMAT "%s\n", sc->name,
            sc->path, pp_action_to_string(sc->action), what, sc->bootloader,
            cfi_model_to_string(sc->model), r->pts, sc->seed, repeat_note);
    if (sc->strategy == PP_STRATEGY_OSTREE) {
        g_print("client: %s %s\n", sc->ostree, r->version);
    } else {
        /* sim/strategy.h: the slot strategies' clients. */
        g_print("strategy: %s, updated by %s\n",
                pp_strategy_to_string(sc->strategy),
                sc->strategy == PP_STRATEGY_DPKG
                ? "dpkg -i of the new and changed packages "
                  "(--force-script-chrootless)"
                : sc->strategy != PP_STRATEGY_AB
                ? "dd (conv=fsync) over the root slot"
                : sc->ab_swupdate
                ? "SWUpdate (rawfile handler into the inactive slot, uboot "
                  "backend)"
                : "dd (conv=fsync) into the inactive slot, then fw_setenv");
    }
    if (r->rec != NULL) {
        g_print("recording: %s (id %.12s, recorded %s)\n", r->rec->dir,
                r->rec->id, r->rec->recorded);
    }
    if (r->camp != NULL) {
        g_print("resume: the campaign started %s in %s\n", r->camp->started,
                r->dir);
    }
}

/*
 * Say which library, if any, interposes the client's durability calls
 * behind the shim (eatmydata, say): its swallowed syncs are no barriers,
 * so the campaign tests a client that does not sync.
 */
static void
print_interposers(CfiTrace *trace)
{
    g_autoptr(GPtrArray) ips = pp_trace_interposers(trace);
    if (ips->len > 0) {
        pp_trace_interposers_print(ips, stdout);
    }
}

/* The campaign, stage by stage. */
static gboolean
sim_campaign(int argc, char **argv, GError **error)
{
    g_auto(SimRun) r = { .opt = &opt };
    pp_autofd int lock_fd = -1;
    if (!parse_options(argc, argv, &r, error) || !resolve_campaign(&r, error)
        || !load_scenario(&r, error) || !check_firmware(&r, error)
        || !open_campaign(&r, &lock_fd, error)) {
        return FALSE;
    }
    g_auto(PpInterruptGuard) guard = { 0 };
    pp_interrupt_guard_init(&guard);
    print_header(&r);
    g_autoptr(PpSimRec) own = NULL;
    if (r.camp != NULL && r.rec == NULL
        && !pp_simcmd_reuse_own_recording(r.sc, r.work, r.cases_dir, &own,
                                          error)) {
        g_prefix_error(error, "--resume: ");
        return FALSE;
    }
    g_auto(SimBed) bed = { 0 };
    g_autofree char *rec_id = NULL;
    if (!pp_simcmd_make_env(&r, own, &bed, error)
        || !pp_simcmd_keep_own_recording(&r, own, &bed, &rec_id, error)) {
        return FALSE;
    }
    print_interposers(bed.env.trace);
    if (opt.record_only) {
        return pp_simcmd_record_only(&r, &bed, error);
    }
    g_autoptr(JsonNode) fault_json = NULL;
    if (bed.fault.active
        && !pp_simcmd_run_fault(&bed.fault, &bed.env, r.dir, r.sc,
                                &fault_json, error)) {
        return FALSE;
    }
    gboolean ok = pp_simcmd_judge(&r, &bed, rec_id, fault_json, error);
    pp_simcmd_tidy_work(&r, &bed);
    return ok;
}

gboolean
pp_cmd_sim(int argc, char **argv, GError **error)
{
    sim_options_reset();
    gboolean ok = sim_campaign(argc, argv, error);
    sim_options_reset();
    return ok;
}
