/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c: `plugpull run`: the VM tier's campaign of power-cut cycles
 * (vmcycle.h says what one cycle does, vmcut.h where it cuts, vmout.h
 * what is written).
 *
 * The campaign: build or reuse the image; serve its repo from one
 * stand-in per worker on 127.0.0.1 (the guest reaches it as 10.0.2.2);
 * calibrate (one uncut, traced update) when the cut needs the window or
 * the phases; then run the cycles, J at a time, each on its own disk copy
 * and QEMU.  Exit 0 all pass, 1 a cycle failed, 2 usage or a missing
 * package, 3 the harness failed, 130 (SIGINT) or 143 (SIGTERM)
 * interrupted (finished cycles are written; no QEMU and no server are
 * left running; --resume continues, vmcampaign.h).
 *
 * The command parses its options into a struct at file scope and runs
 * the stages: resolve the campaign (new, or --resume), check the options,
 * load the scenario, check the host, prepare the image and the stand-in's
 * repo; cmd-run-cycles.c runs the cycles, writes the results and gives
 * the verdict.
 */
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "common/error.h"
#include "cli/cli-firmware.h"
#include "cli/cmd-run.h"
#include "common/client.h"
#include "common/interrupt.h"
#include "plugpull.h"
#include "common/scenario.h"
#include "common/fs.h"
#include "common/util.h"
#include "common/json.h"
#include "vm/vm-campaign.h"
#include "vm/vm-cycle.h"
#include "vm/vm-disk.h"
#include "vm/vm-firmware.h"

#define PP_RUN_DEFAULT_ROM "/usr/lib/u-boot/qemu-x86/u-boot.rom"

/* plugpull image build --out DIR, as a child (the same binary). */
static int
build_image(const char *image_dir, GError **error)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", error);
    if (exe == NULL) {
        g_prefix_error(error, "readlink /proc/self/exe: ");
        return -1;
    }
    const char *argv[] = { exe, "image", "build", "--out", image_dir, NULL };
    int status = 0;
    if (!pp_spawn_wait(argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &status,
                       error)) {
        return -1;
    }
    return status;
}

/* Read the image's manifest into env. */
static gboolean
load_manifest(PpRunEnv *env, GError **error)
{
    g_autofree char *path = g_build_filename(env->image_dir, "manifest.json",
                                             NULL);
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, error);
    if (parser == NULL) {
        return FALSE;
    }
    if (!json_object_has_member(m, "commits")
        || !json_object_has_member(m, "partition_offset")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: no commits or partition_offset", path);
        return FALSE;
    }
    JsonArray *a = json_object_get_array_member(m, "commits");
    guint n = json_array_get_length(a);
    if (n < 2) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: fewer than 2 commits", path);
        return FALSE;
    }
    env->commits = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        env->commits[i] = g_strdup(json_array_get_string_element(a, i));
    }
    env->from = env->commits[0];
    env->to = env->commits[1];
    env->part_offset = (guint64)json_object_get_int_member(m, "partition_offset");
    env->ref = g_strdup(json_object_get_string_member_with_default(
        m, "ref", PP_RUN_REF));
    env->firmware = g_strcmp0(json_object_get_string_member_with_default(
        m, "kind", ""), "firmware") == 0;
    env->disk = g_build_filename(env->image_dir, "disk.img", NULL);
    return TRUE;
}

/*
 * What the stand-in serves: a hard-linked copy of the image's srv/ (the
 * objects are shared, never written) with the ref moved to v2 and the
 * summary regenerated, so that `ostree admin upgrade` finds v2.
 */
static gboolean
prepare_srv(PpRunEnv *env, char **out_root, GError **error)
{
    g_autofree char *src = g_build_filename(env->image_dir, "srv", NULL);
    g_autofree char *dst = g_build_filename(env->work_dir, "srv", NULL);
    if (!pp_rm_rf(dst, error)) {
        return FALSE;
    }
    const char *cp[] = { "cp", "-al", src, dst, NULL };
    int status = 0;
    if (!pp_spawn_wait(cp, G_SUBPROCESS_FLAGS_NONE, &status, error)) {
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cp -al %s %s: exit status %d", src, dst, status);
        return FALSE;
    }
    g_autofree char *ref = g_build_filename(dst, "repo", "refs", "heads",
                                            env->ref, NULL);
    g_autofree char *text = g_strconcat(env->to, "\n", NULL);
    /* Not a result (a ref of the stand-in's scratch copy of the repo):
       g_file_set_contents renames a new file into place, so the hard link
       to the image's own ref is replaced, not written through. */
    if (!g_file_set_contents(ref, text, -1, error)) {
        g_prefix_error(error, "writing %s: ", ref);
        return FALSE;
    }
    g_autofree char *repo_opt = g_strdup_printf("--repo=%s/repo", dst);
    const char *summary[] = { "ostree", repo_opt, "summary", "-u", NULL };
    if (!pp_spawn_wait(summary, G_SUBPROCESS_FLAGS_NONE, &status, error)) {
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "ostree %s summary -u: exit status %d", repo_opt, status);
        return FALSE;
    }
    *out_root = g_steal_pointer(&dst);
    return TRUE;
}


/* build/image in the build tree, else $XDG_CACHE_HOME/plugpull/image. */
static char *
default_image_dir(void)
{
    return pp_cache_dir("image");
}

/* What the scenario asks of the VM tier, or a usage error naming what the
   tier cannot do (yet). */
static gboolean
apply_scenario(const PpScenario *sc, PpRunEnv *env, GError **error)
{
    guint n = g_strv_length(env->commits);
    if (sc->repo != NULL && sc->n_history > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: [firmware] history: not with your firmware (the "
                    "device starts with from deployed alone)", sc->path);
        return FALSE;
    }
    if (sc->repo == NULL && (sc->from_version != 1 || sc->n_history > 1)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: from = %u%s: the image's disk has v1 deployed "
                    "alone", sc->path, sc->from_version,
                    sc->n_history > 1 ? " after a history" : "");
        return FALSE;
    }
    if (sc->repo == NULL && (sc->to_version < 2 || sc->to_version > n)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: to = %u: the image has v1..v%u", sc->path,
                    sc->to_version, n);
        return FALSE;
    }
    if (!g_str_equal(sc->bootloader, "uboot")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: bootloader = %s: the VM tier's device boots through "
                    "U-Boot", sc->path, sc->bootloader);
        return FALSE;
    }
    if (sc->static_delta) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: static-delta: not served by the VM tier yet",
                    sc->path);
        return FALSE;
    }
    /* Your firmware's disk has from deployed and serves to: commits[1]. */
    env->to = env->commits[sc->repo != NULL ? 1 : sc->to_version - 1];
    env->disk_cache = sc->disk_cache_volatile ? PP_DISK_CACHE_VOLATILE
                                              : PP_DISK_CACHE_NONE;
    env->repo_config = g_strdupv(sc->repo_config);
    env->scenario = g_strdup(sc->name);
    env->expect_failures = sc->expect_failures;
    env->scenario_path = g_str_equal(sc->path, "built-in default") ? NULL
        : g_canonicalize_filename(sc->path, NULL);
    return TRUE;
}

#define UNSET G_MININT
#define UNSET_S (-G_MAXDOUBLE)

static RunOptions opt;

static const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out_dir,
      "results directory (created)", "DIR" },
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &opt.scenario_path,
      "scenario file (scenarios/*.conf; default: the built-in default, "
      "v1 -> v2)", "FILE" },
    { "cut", 'c', 0, G_OPTION_ARG_STRING, &opt.cut,
      "where to cut: random-time (default), random-time:FACTOR (drawn "
      "in FACTOR update windows, 0 < FACTOR <= 3: past the update's end), "
      "after-exit:SECONDS or after-exit:A-B (seconds after the update "
      "client exited, drawn in [A, B] per cycle), syscall:RULE (a shim "
      "rule, e.g. 'syscall:ops=rename;path=*/boot/loader;timing=after'), "
      "phase:pull|deploy|bootloader|cleanup", "CUT" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &opt.iterations,
      "power-cut cycles (default 3)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt.seed,
      "seed of every draw (default: the scenario's, else from the "
      "clock; printed)", "S" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs,
      "QEMU devices at a time (default 1)", "J" },
    { "cycle", 0, 0, G_OPTION_ARG_INT, &opt.only_cycle,
      "run only cycle I of the campaign (what a case's replay command "
      "does)", "I" },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &opt.image_dir,
      "device image directory (built or reused; default: build/image "
      "in the build tree, else $XDG_CACHE_HOME/plugpull/image)", "DIR" },
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &opt.repo,
      "your firmware: an OSTree repo whose commits boot as they are (their "
      "kernel and initramfs, which must handle ostree=; systemd as init); "
      "never written to ([firmware] repo)", "PATH" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt.from,
      "with --repo: the REF or COMMIT deployed on the disk", "REF" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt.to,
      "with --repo: the REF or COMMIT the device is updated to", "REF" },
    { "os", 0, 0, G_OPTION_ARG_STRING, &opt.os,
      "with --repo: the stateroot (default: the commit's ostree.osname, "
      "else plugpull)", "NAME" },
    { "no-build", 0, 0, G_OPTION_ARG_NONE, &opt.no_build,
      "use --image as it is, do not run image build", NULL },
    { "window", 0, 0, G_OPTION_ARG_DOUBLE, &opt.window,
      "update window in seconds for random-time cuts (default: measured "
      "by the calibration)", "SECONDS" },
    { "boot-timeout", 0, 0, G_OPTION_ARG_INT, &opt.boot_timeout,
      "seconds from power-on to the agent line before `brick` (default "
      "60)", "S" },
    { "hang-timeout", 0, 0, G_OPTION_ARG_INT, &opt.hang_timeout,
      "seconds of console silence before the agent line that make a "
      "boot `hang` (default 20)", "S" },
    { "cmd-timeout", 0, 0, G_OPTION_ARG_INT, &opt.cmd_timeout,
      "seconds an update, status or fsck may take before `hang` "
      "(default 300)", "S" },
    { "bios", 0, 0, G_OPTION_ARG_FILENAME, &opt.bios,
      "firmware (default " PP_RUN_DEFAULT_ROM ")", "ROM" },
    { "sabotage", 0, 0, G_OPTION_ARG_STRING, &opt.sabotage,
      "test hook, after the cut: empty-kernel (empty the kernel uEnv.txt "
      "names), hang-init (every deployment's init sleeps silently) or "
      "corrupt-new-tree (spoil the new commit's root tree object in the "
      "repo, for the repo check); or "
      "instead of the update: unflushed-write (4 KiB written with O_DIRECT "
      "and no flush outside the partitions, the power cut at once; the "
      "case's unflushed_write says whether the disk kept it)",
      "WHAT" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &opt.resume,
      "continue the campaign in --out DIR where it stopped (signal, "
      "crash): its finished cycles are kept, the rest run", NULL },
    { NULL },
};

static void
run_options_reset(void)
{
    g_clear_pointer(&opt.out_dir, g_free);
    g_clear_pointer(&opt.image_dir, g_free);
    g_clear_pointer(&opt.bios, g_free);
    g_clear_pointer(&opt.sabotage, g_free);
    g_clear_pointer(&opt.cut, g_free);
    g_clear_pointer(&opt.scenario_path, g_free);
    g_clear_pointer(&opt.repo, g_free);
    g_clear_pointer(&opt.from, g_free);
    g_clear_pointer(&opt.to, g_free);
    g_clear_pointer(&opt.os, g_free);
    opt = (RunOptions){
        .iterations = UNSET,
        .seed = -1,
        .window = UNSET_S,
        .boot_timeout = UNSET,
        .hang_timeout = UNSET,
        .cmd_timeout = UNSET,
        .jobs = 1,
        .only_cycle = -1,
    };
}

/* Fill opt from the command line; *out_command: the command as given,
   for the summary (parsing eats argv). */
static gboolean
parse_options(int argc, char **argv, GString **out_command, GError **error)
{
    g_autoptr(GString) command = g_string_new("plugpull run");
    for (int i = 1; i < argc; i++) {
        g_autofree char *q = g_shell_quote(argv[i]);
        g_string_append_printf(command, " %s", q);
    }
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- power-cut cycles on a QEMU device (VM tier)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Each cycle boots v1 through U-Boot, starts `ostree admin upgrade`, "
        "cuts the power (SIGKILL\nof QEMU) where --cut says, boots again and "
        "judges (brick, hang, wrong-tree,\nrepo-corrupt), resumes the update "
        "and boots the new version (else stuck).\n"
        "Writes DIR/summary.json, DIR/points.json, DIR/cases/<id>.json (+ "
        "serial logs),\nDIR/junit.xml; a failing cycle's disk is kept for "
        "`plugpull inspect`.\n"
        "Exit status: 0 all pass, 1 a cycle failed, 2 usage error or missing "
        "package,\n3 harness failure, 130 (SIGINT) or 143 (SIGTERM) "
        "interrupted: --resume continues.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "unexpected argument '%s'", argv[1]);
    }
    if (opt.out_dir == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--out DIR is required");
    }
    *out_command = g_steal_pointer(&command);
    return TRUE;
}

/* An option as PpVmOptions has it: < 0 when not given. */
static gint
given_int(gint v)
{
    return v == UNSET ? -1 : v;
}

/*
 * --resume: the campaign in --out DIR (*out_camp), whose options must
 * agree with the ones given, and become the options.  Without --resume,
 * *out_camp stays NULL.
 */
static gboolean
resolve_campaign(PpVmCampaign **out_camp, GError **error)
{
    if (!opt.resume) {
        return TRUE;
    }
    if (opt.only_cycle >= 0) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--cycle replays one "
                             "cycle; --resume continues a campaign");
    }
    g_autofree char *d = g_canonicalize_filename(opt.out_dir, NULL);
    g_autoptr(PpVmCampaign) camp = pp_vm_campaign_load(d, error);
    g_autofree char *image_dir = opt.image_dir != NULL
        ? g_canonicalize_filename(opt.image_dir, NULL) : NULL;
    PpVmOptions given = {
        .scenario_path = opt.scenario_path,
        .cut = opt.cut,
        .iterations = given_int(opt.iterations),
        .seed = opt.seed,
        .image_dir = image_dir,
        .no_build = opt.no_build ? 1 : -1,
        .window_s = opt.window == UNSET_S ? -1 : opt.window,
        .boot_timeout = given_int(opt.boot_timeout),
        .hang_timeout = given_int(opt.hang_timeout),
        .cmd_timeout = given_int(opt.cmd_timeout),
        .bios = opt.bios,
        .sabotage = opt.sabotage,
    };
    if (camp == NULL || !pp_vm_campaign_check(camp, &given, error)) {
        g_prefix_error(error, "--resume: ");
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    /* From here on, the campaign's values are the options. */
    const PpVmOptions *o = &camp->opts;
    g_clear_pointer(&opt.scenario_path, g_free);
    g_free(opt.cut);
    opt.cut = g_strdup(o->cut);
    opt.iterations = o->iterations;
    opt.seed = o->seed;
    g_free(opt.image_dir);
    opt.image_dir = g_strdup(o->image_dir);
    opt.no_build = o->no_build;
    opt.window = o->window_s;
    opt.boot_timeout = o->boot_timeout;
    opt.hang_timeout = o->hang_timeout;
    opt.cmd_timeout = o->cmd_timeout;
    g_free(opt.bios);
    opt.bios = g_strdup(o->bios);
    g_free(opt.sabotage);
    opt.sabotage = g_strdup(o->sabotage);
    *out_camp = g_steal_pointer(&camp);
    return TRUE;
}

/* The defaults of the options not given, and the ranges of all. */
static gboolean
check_options(GError **error)
{
    opt.iterations = opt.iterations == UNSET ? 3 : opt.iterations;
    opt.window = opt.window == UNSET_S ? 0 : opt.window;
    opt.boot_timeout = opt.boot_timeout == UNSET ? 60 : opt.boot_timeout;
    opt.hang_timeout = opt.hang_timeout == UNSET ? 20 : opt.hang_timeout;
    opt.cmd_timeout = opt.cmd_timeout == UNSET ? 300 : opt.cmd_timeout;
    if (opt.iterations < 1 || opt.iterations > 100000) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--iterations %d: not in "
                             "1..100000", opt.iterations);
    }
    if (opt.jobs < 1 || opt.jobs > 64) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--jobs %d: not in 1..64",
                             opt.jobs);
    }
    if (opt.only_cycle >= 0 && opt.only_cycle >= opt.iterations) {
        opt.iterations = opt.only_cycle + 1;
    }
    if (opt.boot_timeout < 5 || opt.boot_timeout > 3600) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--boot-timeout %d: not "
                             "in 5..3600", opt.boot_timeout);
    }
    if (opt.hang_timeout < 2 || opt.hang_timeout > 3600) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--hang-timeout %d: not "
                             "in 2..3600", opt.hang_timeout);
    }
    if (opt.cmd_timeout < 5 || opt.cmd_timeout > 36000) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--cmd-timeout %d: not in "
                             "5..36000", opt.cmd_timeout);
    }
    if (opt.window < 0) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--window %g: negative",
                             opt.window);
    }
    if (opt.sabotage != NULL && !g_str_equal(opt.sabotage, "empty-kernel")
        && !g_str_equal(opt.sabotage, "hang-init")
        && !g_str_equal(opt.sabotage, PP_SABOTAGE_CORRUPT_TREE)
        && !g_str_equal(opt.sabotage, PP_SABOTAGE_UNFLUSHED)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--sabotage %s: unknown "
                             "(empty-kernel, hang-init, "
                             PP_SABOTAGE_CORRUPT_TREE ", "
                             PP_SABOTAGE_UNFLUSHED ")", opt.sabotage);
    }
    return TRUE;
}

/*
 * The scenario (the campaign's when resumed) and the cut: a scenario's
 * [crash] phase is the default cut, --cut overrides; the seed defaults to
 * the scenario's, else to one from the clock.
 */
static gboolean
load_scenario(const PpVmCampaign *camp, PpRunEnv *env, PpScenario **out_sc,
              GError **error)
{
    g_autoptr(PpScenario) sc = NULL;
    if (camp != NULL && camp->opts.scenario_text != NULL) {
        sc = pp_scenario_load_data(camp->opts.scenario_text,
                                   camp->opts.scenario_path, error);
    } else {
        sc = opt.scenario_path != NULL
            ? pp_scenario_load(opt.scenario_path, error)
            : pp_scenario_new_default();
    }
    if (sc == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    PpFirmwareOptions fo = { opt.repo, opt.from, opt.to, opt.os };
    if (!pp_cli_firmware_options(sc, &fo, error)) {
        return FALSE;
    }
    /* The VM tier builds your firmware's disk with from deployed alone;
     * a history of earlier versions is the simulation tier's for now. */
    if (sc->repo != NULL && sc->history_revs != NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "%s: [firmware] history "
                             "with your firmware: not in the VM tier yet "
                             "(plugpull sim takes it)", sc->path);
    }
    g_autofree char *scenario_cut = sc->phase >= 0
        ? g_strdup_printf("phase:%s", pp_phase_name((PpPhase)sc->phase))
        : NULL;
    const char *cut_text = opt.cut != NULL ? opt.cut
        : scenario_cut != NULL ? scenario_cut : "random-time";
    if (!pp_cut_spec_parse(cut_text, &env->cut, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (opt.cut == NULL && scenario_cut != NULL) {
        g_printerr("run: cut %s, from %s's [crash] phase\n", cut_text,
                   sc->path);
    }
    if (opt.cut == NULL) {
        opt.cut = g_strdup(cut_text);   /* what campaign.json keeps */
    }
    if (pp_scenario_has_fault(sc)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "%s: [fault] scenarios "
                             "run in the simulation tier only (plugpull sim)",
                             sc->path);
    }
    if (opt.window > 0 && env->cut.kind != PP_CUT_RANDOM_TIME) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--window applies to "
                             "random-time cuts only (this cut is %s)",
                             cut_text);
    }
    if (env->cut.kind == PP_CUT_SYSCALL) {
        /* The image carries the shim built beside this binary: its own
           parser judges the rule before any QEMU starts. */
        const char *shim = pp_shim_path();
        if (g_file_test(shim, G_FILE_TEST_IS_REGULAR)
            && !pp_cut_rule_check(shim, env->cut.rule, error)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
    }
    if (opt.seed < 0) {
        opt.seed = opt.scenario_path != NULL ? (gint64)sc->seed
                                             : g_get_real_time() % 1000000;
    }
    *out_sc = g_steal_pointer(&sc);
    return TRUE;
}

/* What the host needs: QEMU, the firmware, debugfs (a usage error names
   the package when one is missing). */
static gboolean
check_host(GError **error)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    if (qemu == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "qemu-system-x86_64 not "
                             "found in PATH (package qemu-system-x86)");
    }
    if (opt.bios == NULL) {
        opt.bios = g_strdup(PP_RUN_DEFAULT_ROM);
    }
    if (!g_file_test(opt.bios, G_FILE_TEST_IS_REGULAR)) {
        return pp_throw_code(error, PP_ERROR_USAGE, "%s missing (package "
                             "u-boot-qemu)", opt.bios);
    }
    g_autofree char *debugfs = g_find_program_in_path("debugfs");
    if (debugfs == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "debugfs not found in "
                             "PATH (package e2fsprogs)");
    }
    return TRUE;
}

/* What every cycle shares, from the options; DIR/work and DIR/cases. */
static gboolean
env_init(PpRunEnv *env, GError **error)
{
    env->out_dir = g_canonicalize_filename(opt.out_dir, NULL);
    env->image_dir = opt.image_dir != NULL
        ? g_canonicalize_filename(opt.image_dir, NULL) : default_image_dir();
    env->bios = g_strdup(opt.bios);
    env->boot_timeout_s = (guint)opt.boot_timeout;
    env->hang_timeout_s = (guint)opt.hang_timeout;
    env->cmd_timeout_s = (guint)opt.cmd_timeout;
    env->sabotage = g_strdup(opt.sabotage);
    /* The guest's vCPUs: an environment knob (as PLUGPULL_ACCEL), not an
       option, while two are measured slower (bench/RESULTS.md,
       "boot-to-verdict"). */
    const char *vcpus = g_getenv("PLUGPULL_VCPUS");
    env->vcpus = 1;
    if (vcpus != NULL && g_str_equal(vcpus, "2")) {
        env->vcpus = 2;
    } else if (vcpus != NULL && !g_str_equal(vcpus, "1")) {
        return pp_throw_code(error, PP_ERROR_USAGE, "PLUGPULL_VCPUS=%s: "
                             "expected 1 or 2", vcpus);
    }
    env->seed = (guint64)opt.seed;
    env->window_s = opt.window;
    env->interrupted = pp_interrupt_flag();
    env->work_dir = g_build_filename(env->out_dir, "work", NULL);
    g_autofree char *cases_dir = g_build_filename(env->out_dir, "cases", NULL);
    return pp_mkdir_p(env->work_dir, error) && pp_mkdir_p(cases_dir, error);
}

/*
 * A fresh campaign writes DIR/campaign.json once the image is known; a
 * resumed one checks that the image still holds the commits it started
 * with (another image gives other cycles: a usage error).
 */
static gboolean
keep_campaign(const PpVmCampaign *camp, const PpScenario *sc,
              const PpRunEnv *env, const char *started, GError **error)
{
    if (camp != NULL) {
        if (g_strcmp0(camp->from_commit, env->from) != 0
            || g_strcmp0(camp->to_commit, env->to) != 0) {
            return pp_throw_code(error, PP_ERROR_USAGE, "%s: the image %s now "
                                 "updates %.12s -> %.12s, the campaign "
                                 "started with %.12s -> %.12s", camp->path,
                                 env->image_dir, env->from, env->to,
                                 camp->from_commit, camp->to_commit);
        }
        return TRUE;
    }
    if (opt.only_cycle >= 0) {
        return TRUE;            /* a replay, not a campaign */
    }
    g_autofree char *text = NULL;
    if (env->scenario_path != NULL
        && !g_file_get_contents(env->scenario_path, &text, NULL, error)) {
        return FALSE;
    }
    /* Your firmware named by options: kept in the scenario's text, so
       that --resume finds it. */
    PpFirmwareOptions fo = { opt.repo, opt.from, opt.to, opt.os };
    if (!pp_cli_fold_firmware_options(sc, &fo, &text, error)) {
        return FALSE;
    }
    PpVmCampaign fresh = {
        .opts = {
            .scenario_path = env->scenario_path != NULL ? env->scenario_path
                : text != NULL ? (char *)"command line" : NULL,
            .scenario_text = text,
            .cut = opt.cut != NULL ? opt.cut : (char *)"random-time",
            .iterations = opt.iterations,
            .seed = (gint64)env->seed,
            .image_dir = env->image_dir,
            .no_build = opt.no_build,
            .window_s = opt.window,
            .boot_timeout = opt.boot_timeout,
            .hang_timeout = opt.hang_timeout,
            .cmd_timeout = opt.cmd_timeout,
            .bios = env->bios,
            .sabotage = env->sabotage,
        },
        .from_commit = (char *)env->from,
        .to_commit = (char *)env->to,
        .started = (char *)started,
    };
    return pp_vm_campaign_write(env->out_dir, &fresh, error);
}

/*
 * Your firmware's disk (vm-firmware.h), in --image DIR (default: the
 * cache's vm-firmware/), built or reused; the agent and the boot script
 * from images/, the shim built beside this binary.
 */
static gboolean
firmware_image(const PpScenario *sc, PpRunEnv *env, GError **error)
{
    g_autofree char *images = pp_data_dir("PLUGPULL_IMAGES", "images", error);
    if (images == NULL) {
        return FALSE;
    }
    if (opt.image_dir == NULL) {
        g_free(env->image_dir);
        env->image_dir = pp_cache_dir("vm-firmware");
    }
    g_autofree char *boot_cmd = g_build_filename(images, "boot.cmd", NULL);
    g_autofree char *agent = g_build_filename(images, "firmware-agent", NULL);
    g_autofree char *unit = g_build_filename(images, "plugpull-agent.service",
                                             NULL);
    PpVmFirmwareSpec spec = {
        .repo = sc->repo,
        .from_rev = sc->from_rev,
        .to_rev = sc->to_rev,
        .os = sc->os,
        .image_dir = env->image_dir,
        .boot_cmd = boot_cmd,
        .agent = agent,
        .agent_unit = unit,
        .shim = pp_shim_path(),
    };
    return pp_mkdir_p(env->image_dir, error)
           && pp_vm_firmware_image(&spec, error);
}

/*
 * The image: built or reused (a child, plugpull image build) unless
 * --no-build, its manifest read, the scenario applied to it, and the
 * campaign kept (keep_campaign).
 */
static gboolean
prepare_image(const PpVmCampaign *camp, const PpScenario *sc, PpRunEnv *env,
              const char *started, GError **error)
{
    if (sc->repo != NULL) {
        if (!firmware_image(sc, env, error)) {
            return FALSE;
        }
    } else if (!opt.no_build) {
        g_printerr("run: image %s (build or reuse)\n", env->image_dir);
        int st = build_image(env->image_dir, error);
        if (st < 0) {
            g_prefix_error(error, "image build: ");
            if (pp_interrupt_signal() != 0) {
                g_autofree char *msg = g_strdup((*error)->message);
                return pp_throw_interrupted_msg(error, pp_interrupt_signal(),
                                                "%s", msg);
            }
            return FALSE;
        }
        if (pp_interrupt_signal() != 0) {
            return pp_throw_interrupted(error, pp_interrupt_signal());
        }
        if (st != 0) {
            return pp_throw_code(error, st == PP_EXIT_USAGE ? PP_ERROR_USAGE
                                 : PP_ERROR_HARNESS, "image build exited %d",
                                 st);
        }
    }
    if (!load_manifest(env, error)) {
        return FALSE;
    }
    if (!apply_scenario(sc, env, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    return keep_campaign(camp, sc, env, started, error);
}

/* The campaign, stage by stage (the header comment of this file). */
static gboolean
run_campaign(int argc, char **argv, GError **error)
{
    g_autoptr(GString) command = NULL;
    g_autoptr(PpVmCampaign) camp = NULL;
    if (!parse_options(argc, argv, &command, error)
        || !resolve_campaign(&camp, error) || !check_options(error)) {
        return FALSE;
    }
    g_auto(PpRunEnv) env = { 0 };
    g_autoptr(PpScenario) sc = NULL;
    if (!load_scenario(camp, &env, &sc, error) || !check_host(error)
        || !env_init(&env, error)) {
        return FALSE;
    }

    /* Ctrl-C ends the campaign between two reads of the console; cycles
       in flight are dropped, finished ones are written. */
    g_auto(PpInterruptGuard) guard = { 0 };
    pp_interrupt_guard_init(&guard);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *started = camp != NULL
        ? g_strdup(camp->started) : g_date_time_format_iso8601(now);
    g_autofree char *srv_root = NULL;
    if (!prepare_image(camp, sc, &env, started, error)) {
        return FALSE;
    }
    if (!prepare_srv(&env, &srv_root, error)) {
        g_prefix_error(error, "preparing the stand-in's repo: ");
        return FALSE;
    }
    RunCycles rc = {
        .opt = &opt,
        .camp = camp,
        .sc = sc,
        .srv_root = srv_root,
        .command = command->str,
        .started = started,
        .t0 = t0,
    };
    return pp_runcmd_cycles(&env, &rc, error);
}

gboolean
pp_cmd_run(int argc, char **argv, GError **error)
{
    run_options_reset();
    gboolean ok = run_campaign(argc, argv, error);
    run_options_reset();
    return ok;
}

