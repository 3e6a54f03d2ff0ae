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
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "common/client.h"
#include "server/httpd.h"
#include "plugpull.h"
#include "common/scenario.h"
#include "sim/sim.h"
#include "common/util.h"
#include "common/json.h"
#include "vm/vm-campaign.h"
#include "vm/vm-cycle.h"
#include "vm/vm-out.h"

#define PP_RUN_DEFAULT_ROM "/usr/lib/u-boot/qemu-x86/u-boot.rom"

static volatile sig_atomic_t run_interrupted;

static void
on_interrupt(int sig)
{
    run_interrupted = sig;
}

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
                                            PP_RUN_REF, NULL);
    g_autofree char *text = g_strconcat(env->to, "\n", NULL);
    /* g_file_set_contents renames a new file into place: the hard link to
       the image's own ref is replaced, not written through. */
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


static char *
default_image_dir(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe == NULL) {
        return g_strdup("image");
    }
    g_autofree char *bindir = g_path_get_dirname(exe);
    return g_build_filename(bindir, "image", NULL);
}

/* The campaign while workers run. */
typedef struct {
    PpRunEnv *env;
    GMutex lock;
    guint next;                  /* next position in order[] */
    guint *order;                /* cycle indices to run */
    guint n_order;
    guint n;                     /* cycles of the campaign (with the kept) */
    GPtrArray *done;             /* PpCycle *, finished */
    guint failures;
    gint64 t0;
    gint64 t_last;
    gboolean tty;
    GError *error;               /* the first harness error */
} Campaign;

/* Under cp->lock. */
static void
progress(Campaign *cp, const PpCycle *c)
{
    guint done = cp->done->len;
    double elapsed = (double)(g_get_monotonic_time() - cp->t0) / G_USEC_PER_SEC;
    double eta = elapsed / done * (cp->n - done);
    /* A terminal gets the running count on one line above the results;
       a CI log gets plain lines. */
    g_printerr("%s[%u/%u] %s: %s (%s); cut %s at %.2f s, phase %s; %.1f s, "
               "boot-to-verdict %.1f s, resume %" G_GUINT64_FORMAT " bytes\n",
               cp->tty ? "\r\033[K" : "", done, cp->n, c->id, c->outcome,
               c->reason, c->cut_kind, c->cut_offset_s, c->phase, c->seconds,
               c->boot_to_verdict_s, c->resume_bytes);
    if (done < cp->n) {
        g_printerr("%s%u/%u done, %u failed, ETA %.0f s%s", cp->tty ? "" : "run: ",
                   done, cp->n, cp->failures, eta, cp->tty ? "" : "\n");
    }
}

typedef struct {
    Campaign *cp;
    PpRunWorker w;
} Worker;

static gpointer
worker_main(gpointer data)
{
    Worker *wk = data;
    Campaign *cp = wk->cp;
    for (;;) {
        g_mutex_lock(&cp->lock);
        gboolean stop = cp->next >= cp->n_order || cp->error != NULL
                        || run_interrupted;
        guint index = stop ? 0 : cp->order[cp->next++];
        g_mutex_unlock(&cp->lock);
        if (stop) {
            break;
        }
        g_autoptr(PpCycle) c = pp_cycle_new(cp->env, index);
        g_autoptr(GError) error = NULL;
        gboolean ok = pp_cycle_run(&wk->w, c, &error)
                      && pp_vm_write_case(cp->env, c, &error);
        if (!ok) {
            /* Interrupted, the cycle in flight is dropped: its disk goes,
               its serial logs stay (they show where it was).  A harness
               failure keeps the disk: it is the evidence. */
            g_autofree char *disk = g_strdup_printf("%s/%s.img",
                                                    cp->env->work_dir, c->id);
            if (run_interrupted) {
                (void)unlink(disk);
            } else if (g_file_test(disk, G_FILE_TEST_EXISTS)) {
                g_prefix_error(&error, "(disk kept: %s) ", disk);
            }
            g_mutex_lock(&cp->lock);
            if (!run_interrupted && cp->error == NULL) {
                cp->error = g_steal_pointer(&error);
            }
            g_mutex_unlock(&cp->lock);
            break;
        }
        g_mutex_lock(&cp->lock);
        cp->failures += pp_cycle_failed(c);
        cp->t_last = g_get_monotonic_time();
        g_ptr_array_add(cp->done, g_steal_pointer(&c));
        progress(cp, cp->done->pdata[cp->done->len - 1]);
        g_mutex_unlock(&cp->lock);
    }
    return NULL;
}

static gint
cycle_cmp(gconstpointer a, gconstpointer b)
{
    const PpCycle *x = *(PpCycle *const *)a, *y = *(PpCycle *const *)b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* What the scenario asks of the VM tier, or a usage error naming what the
   tier cannot do (yet). */
static gboolean
apply_scenario(const PpScenario *sc, PpRunEnv *env, GError **error)
{
    guint n = g_strv_length(env->commits);
    if (sc->from_version != 1 || sc->n_history > 1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: from = %u%s: the image's disk has v1 deployed "
                    "alone", sc->path, sc->from_version,
                    sc->n_history > 1 ? " after a history" : "");
        return FALSE;
    }
    if (sc->to_version < 2 || sc->to_version > n) {
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
    env->to = env->commits[sc->to_version - 1];
    env->repo_config = g_strdupv(sc->repo_config);
    env->scenario = g_strdup(sc->name);
    env->expect_failures = sc->expect_failures;
    env->scenario_path = g_str_equal(sc->path, "built-in default") ? NULL
        : g_canonicalize_filename(sc->path, NULL);
    return TRUE;
}

/* The exact command that continues the campaign (not for --cycle). */
static void
print_continue(const PpRunEnv *env, gint only_cycle)
{
    if (only_cycle < 0) {
        g_autofree char *q = g_shell_quote(env->out_dir);
        g_printerr("continue it with: plugpull run --out %s --resume\n", q);
    }
}

/*
 * A fresh campaign writes DIR/campaign.json once the image is known; a
 * resumed one checks that the image still holds the commits it started
 * with (another image gives other cycles: a usage error).
 */
static gboolean
keep_campaign(const PpVmCampaign *camp, const PpRunEnv *env,
              const char *cut, gint iterations,
              gboolean no_build, double window, gint boot_timeout,
              gint hang_timeout, gint cmd_timeout, const char *started,
              gint only_cycle, GError **error)
{
    if (camp != NULL) {
        if (g_strcmp0(camp->from_commit, env->from) != 0
            || g_strcmp0(camp->to_commit, env->to) != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "%s: the image %s now updates %.12s -> %.12s, the "
                        "campaign started with %.12s -> %.12s", camp->path,
                        env->image_dir, env->from, env->to,
                        camp->from_commit, camp->to_commit);
            return FALSE;
        }
        return TRUE;
    }
    if (only_cycle >= 0) {
        return TRUE;            /* a replay, not a campaign */
    }
    g_autofree char *text = NULL;
    if (env->scenario_path != NULL
        && !g_file_get_contents(env->scenario_path, &text, NULL, error)) {
        return FALSE;
    }
    PpVmCampaign fresh = {
        .opts = {
            .scenario_path = env->scenario_path,
            .scenario_text = text,
            .cut = (char *)(cut != NULL ? cut : "random-time"),
            .iterations = iterations,
            .seed = (gint64)env->seed,
            .image_dir = env->image_dir,
            .no_build = no_build,
            .window_s = window,
            .boot_timeout = boot_timeout,
            .hang_timeout = hang_timeout,
            .cmd_timeout = cmd_timeout,
            .bios = env->bios,
            .sabotage = env->sabotage,
        },
        .from_commit = (char *)env->from,
        .to_commit = (char *)env->to,
        .started = (char *)started,
    };
    return pp_vm_campaign_write(env->out_dir, &fresh, error);
}

/* --resume: cycle index as an earlier run finished it, or NULL (to run;
   with a note when its case file does not read back). */
static PpCycle *
load_finished(const PpRunEnv *env, guint index)
{
    g_autoptr(GError) error = NULL;
    PpCycle *c = pp_vm_cycle_load(env, index, &error);
    if (c == NULL
        && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
        g_printerr("run: resume: note: %s: running cycle %u again\n",
                   error->message, index);
    }
    return c;
}

#define UNSET G_MININT
#define UNSET_S (-G_MAXDOUBLE)

/* An option as PpVmOptions has it: < 0 when not given. */
static gint
given_int(gint v)
{
    return v == UNSET ? -1 : v;
}

int
pp_cmd_run(int argc, char **argv)
{
    /* UNSET / NULL: not given (--resume tells given options from defaults,
       which are applied after parsing; bad values are still refused). */
    gint iterations = UNSET;
    gint64 seed = -1;
    gdouble window = UNSET_S;
    gint boot_timeout = UNSET;
    gint hang_timeout = UNSET;
    gint cmd_timeout = UNSET;
    gint jobs = 1;
    gint only_cycle = -1;
    g_autofree char *out_dir = NULL;
    g_autofree char *image_dir = NULL;
    g_autofree char *bios = NULL;
    g_autofree char *sabotage = NULL;
    g_autofree char *cut = NULL;
    g_autofree char *scenario_path = NULL;
    gboolean no_build = FALSE;
    gboolean resume_opt = FALSE;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
          "results directory (created)", "DIR" },
        { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_path,
          "scenario file (scenarios/*.conf; default: the built-in default, "
          "v1 -> v2)", "FILE" },
        { "cut", 'c', 0, G_OPTION_ARG_STRING, &cut,
          "where to cut: random-time (default), syscall:RULE (a shim rule, "
          "e.g. 'syscall:ops=rename;path=*/boot/loader;timing=after'), "
          "phase:pull|deploy|bootloader|cleanup", "CUT" },
        { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations,
          "power-cut cycles (default 3)", "N" },
        { "seed", 's', 0, G_OPTION_ARG_INT64, &seed,
          "seed of every draw (default: the scenario's, else from the "
          "clock; printed)", "S" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
          "QEMU devices at a time (default 1)", "J" },
        { "cycle", 0, 0, G_OPTION_ARG_INT, &only_cycle,
          "run only cycle I of the campaign (what a case's replay command "
          "does)", "I" },
        { "image", 0, 0, G_OPTION_ARG_FILENAME, &image_dir,
          "device image directory (built or reused; default: image beside "
          "the plugpull binary)", "DIR" },
        { "no-build", 0, 0, G_OPTION_ARG_NONE, &no_build,
          "use --image as it is, do not run image build", NULL },
        { "window", 0, 0, G_OPTION_ARG_DOUBLE, &window,
          "update window in seconds for random-time cuts (default: measured "
          "by the calibration)", "SECONDS" },
        { "boot-timeout", 0, 0, G_OPTION_ARG_INT, &boot_timeout,
          "seconds from power-on to the agent line before `brick` (default "
          "60)", "S" },
        { "hang-timeout", 0, 0, G_OPTION_ARG_INT, &hang_timeout,
          "seconds of console silence before the agent line that make a "
          "boot `hang` (default 20)", "S" },
        { "cmd-timeout", 0, 0, G_OPTION_ARG_INT, &cmd_timeout,
          "seconds an update, status or fsck may take before `hang` "
          "(default 300)", "S" },
        { "bios", 0, 0, G_OPTION_ARG_FILENAME, &bios,
          "firmware (default " PP_RUN_DEFAULT_ROM ")", "ROM" },
        { "sabotage", 0, 0, G_OPTION_ARG_STRING, &sabotage,
          "test hook, after the cut: empty-kernel (empty the kernel uEnv.txt "
          "names) or hang-init (every deployment's init sleeps silently)",
          "WHAT" },
        { "resume", 0, 0, G_OPTION_ARG_NONE, &resume_opt,
          "continue the campaign in --out DIR where it stopped (signal, "
          "crash): its finished cycles are kept, the rest run", NULL },
        { NULL },
    };
    /* The command as given, for the summary (parsing eats argv). */
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
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_USAGE;
    }
    if (argc != 1) {
        g_printerr("plugpull: run: unexpected argument '%s'\n", argv[1]);
        return PP_EXIT_USAGE;
    }
    if (out_dir == NULL) {
        g_printerr("plugpull: run: --out DIR is required\n");
        return PP_EXIT_USAGE;
    }
    g_autoptr(PpVmCampaign) camp = NULL;
    if (resume_opt) {
        if (only_cycle >= 0) {
            g_printerr("plugpull: run: --cycle replays one cycle; --resume "
                       "continues a campaign\n");
            return PP_EXIT_USAGE;
        }
        g_autofree char *d = g_canonicalize_filename(out_dir, NULL);
        camp = pp_vm_campaign_load(d, &error);
        PpVmOptions given = {
            .scenario_path = scenario_path,
            .cut = cut,
            .iterations = given_int(iterations),
            .seed = seed,
            .image_dir = image_dir != NULL
                ? g_canonicalize_filename(image_dir, NULL) : NULL,
            .no_build = no_build ? 1 : -1,
            .window_s = window == UNSET_S ? -1 : window,
            .boot_timeout = given_int(boot_timeout),
            .hang_timeout = given_int(hang_timeout),
            .cmd_timeout = given_int(cmd_timeout),
            .bios = bios,
            .sabotage = sabotage,
        };
        gboolean agree = camp != NULL
                         && pp_vm_campaign_check(camp, &given, &error);
        g_free(given.image_dir);
        if (!agree) {
            pp_print_error("run: --resume", error);
            return PP_EXIT_USAGE;
        }
        /* From here on, the campaign's values are the options. */
        const PpVmOptions *o = &camp->opts;
        g_clear_pointer(&scenario_path, g_free);
        g_free(cut);
        cut = g_strdup(o->cut);
        iterations = o->iterations;
        seed = o->seed;
        g_free(image_dir);
        image_dir = g_strdup(o->image_dir);
        no_build = o->no_build;
        window = o->window_s;
        boot_timeout = o->boot_timeout;
        hang_timeout = o->hang_timeout;
        cmd_timeout = o->cmd_timeout;
        g_free(bios);
        bios = g_strdup(o->bios);
        g_free(sabotage);
        sabotage = g_strdup(o->sabotage);
    }
    iterations = iterations == UNSET ? 3 : iterations;
    window = window == UNSET_S ? 0 : window;
    boot_timeout = boot_timeout == UNSET ? 60 : boot_timeout;
    hang_timeout = hang_timeout == UNSET ? 20 : hang_timeout;
    cmd_timeout = cmd_timeout == UNSET ? 300 : cmd_timeout;
    if (iterations < 1 || iterations > 100000) {
        g_printerr("plugpull: run: --iterations %d: not in 1..100000\n",
                   iterations);
        return PP_EXIT_USAGE;
    }
    if (jobs < 1 || jobs > 64) {
        g_printerr("plugpull: run: --jobs %d: not in 1..64\n", jobs);
        return PP_EXIT_USAGE;
    }
    if (only_cycle >= 0 && only_cycle >= iterations) {
        iterations = only_cycle + 1;
    }
    if (boot_timeout < 5 || boot_timeout > 3600) {
        g_printerr("plugpull: run: --boot-timeout %d: not in 5..3600\n",
                   boot_timeout);
        return PP_EXIT_USAGE;
    }
    if (hang_timeout < 2 || hang_timeout > 3600) {
        g_printerr("plugpull: run: --hang-timeout %d: not in 2..3600\n",
                   hang_timeout);
        return PP_EXIT_USAGE;
    }
    if (cmd_timeout < 5 || cmd_timeout > 36000) {
        g_printerr("plugpull: run: --cmd-timeout %d: not in 5..36000\n",
                   cmd_timeout);
        return PP_EXIT_USAGE;
    }
    if (window < 0) {
        g_printerr("plugpull: run: --window %g: negative\n", window);
        return PP_EXIT_USAGE;
    }
    if (sabotage != NULL && !g_str_equal(sabotage, "empty-kernel")
        && !g_str_equal(sabotage, "hang-init")) {
        g_printerr("plugpull: run: --sabotage %s: unknown (empty-kernel, "
                   "hang-init)\n", sabotage);
        return PP_EXIT_USAGE;
    }
    g_auto(PpRunEnv) env = { 0 };
    g_autoptr(PpScenario) sc = NULL;
    if (camp != NULL && camp->opts.scenario_text != NULL) {
        sc = pp_scenario_load_data(camp->opts.scenario_text,
                                   camp->opts.scenario_path, &error);
    } else {
        sc = scenario_path != NULL ? pp_scenario_load(scenario_path, &error)
                                   : pp_scenario_new_default();
    }
    if (sc == NULL) {
        pp_print_error("run", error);
        return PP_EXIT_USAGE;
    }
    /* A scenario's [crash] phase is the default cut; --cut overrides. */
    g_autofree char *scenario_cut = sc->phase >= 0
        ? g_strdup_printf("phase:%s", pp_phase_name((PpPhase)sc->phase))
        : NULL;
    const char *cut_text = cut != NULL ? cut
        : scenario_cut != NULL ? scenario_cut : "random-time";
    if (!pp_cut_spec_parse(cut_text, &env.cut, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_USAGE;
    }
    if (cut == NULL && scenario_cut != NULL) {
        g_printerr("run: cut %s, from %s's [crash] phase\n", cut_text,
                   sc->path);
    }
    if (cut == NULL) {
        cut = g_strdup(cut_text);   /* what campaign.json keeps */
    }
    if (pp_scenario_has_fault(sc)) {
        g_printerr("plugpull: run: %s: [fault] scenarios run in the "
                   "simulation tier only (plugpull sim)\n", sc->path);
        return PP_EXIT_USAGE;
    }
    if (env.cut.kind == PP_CUT_SYSCALL) {
        /* The image carries the shim built beside this binary: its own
           parser judges the rule before any QEMU starts. */
        const char *shim = pp_shim_path();
        if (g_file_test(shim, G_FILE_TEST_IS_REGULAR)
            && !pp_cut_rule_check(shim, env.cut.rule, &error)) {
            pp_print_error("run", error);
            return PP_EXIT_USAGE;
        }
    }
    if (seed < 0) {
        seed = scenario_path != NULL ? (gint64)sc->seed
                                     : g_get_real_time() % 1000000;
    }
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    if (qemu == NULL) {
        g_printerr("plugpull: run: qemu-system-x86_64 not found in PATH "
                   "(package qemu-system-x86)\n");
        return PP_EXIT_USAGE;
    }
    if (bios == NULL) {
        bios = g_strdup(PP_RUN_DEFAULT_ROM);
    }
    if (!g_file_test(bios, G_FILE_TEST_IS_REGULAR)) {
        g_printerr("plugpull: run: %s missing (package u-boot-qemu)\n", bios);
        return PP_EXIT_USAGE;
    }
    g_autofree char *debugfs = g_find_program_in_path("debugfs");
    if (debugfs == NULL) {
        g_printerr("plugpull: run: debugfs not found in PATH (package "
                   "e2fsprogs)\n");
        return PP_EXIT_USAGE;
    }

    env.out_dir = g_canonicalize_filename(out_dir, NULL);
    env.image_dir = image_dir != NULL ? g_canonicalize_filename(image_dir, NULL)
                                      : default_image_dir();
    env.bios = g_strdup(bios);
    env.boot_timeout_s = (guint)boot_timeout;
    env.hang_timeout_s = (guint)hang_timeout;
    env.cmd_timeout_s = (guint)cmd_timeout;
    env.sabotage = g_strdup(sabotage);
    env.seed = (guint64)seed;
    env.window_s = window;
    env.interrupted = &run_interrupted;
    env.work_dir = g_build_filename(env.out_dir, "work", NULL);
    g_autofree char *cases_dir = g_build_filename(env.out_dir, "cases", NULL);
    if (!pp_mkdir_p(env.work_dir, &error) || !pp_mkdir_p(cases_dir, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_HARNESS;
    }

    /* Ctrl-C ends the campaign between two reads of the console; cycles
       in flight are dropped, finished ones are written. */
    struct sigaction sa = { .sa_handler = on_interrupt };
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *started = camp != NULL
        ? g_strdup(camp->started) : g_date_time_format_iso8601(now);
    if (!no_build) {
        g_printerr("run: image %s (build or reuse)\n", env.image_dir);
        int st = build_image(env.image_dir, &error);
        if (st < 0) {
            pp_print_error("run: image build", error);
            return run_interrupted ? 128 + run_interrupted : PP_EXIT_HARNESS;
        }
        if (run_interrupted) {
            return 128 + run_interrupted;
        }
        if (st != 0) {
            g_printerr("plugpull: run: image build exited %d\n", st);
            return st == PP_EXIT_USAGE ? PP_EXIT_USAGE : PP_EXIT_HARNESS;
        }
    }
    if (!load_manifest(&env, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_HARNESS;
    }
    if (!apply_scenario(sc, &env, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_USAGE;
    }
    if (!keep_campaign(camp, &env, cut, iterations, no_build, window,
                       boot_timeout, hang_timeout, cmd_timeout, started,
                       only_cycle, &error)) {
        pp_print_error("run", error);
        return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)
            ? PP_EXIT_USAGE : PP_EXIT_HARNESS;
    }
    g_autofree char *srv_root = NULL;
    if (!prepare_srv(&env, &srv_root, &error)) {
        pp_print_error("run: preparing the stand-in's repo", error);
        return PP_EXIT_HARNESS;
    }
    /* One stand-in per worker: a cycle's resume bytes are its own. */
    guint n_workers = (guint)MIN(jobs, only_cycle >= 0 ? 1 : iterations);
    g_autofree Worker *workers = g_new0(Worker, n_workers);
    Campaign cp = { .env = &env, .tty = isatty(STDERR_FILENO) };
    g_autoptr(GPtrArray) threads = g_ptr_array_new();
    g_mutex_init(&cp.lock);
    int rc = PP_EXIT_OK;
    for (guint i = 0; i < n_workers; i++) {
        g_autofree char *log = g_strdup_printf("%s/server-%u.log", env.out_dir,
                                               i);
        PpHttpdOptions hopts = { .log_path = log };
        workers[i].cp = &cp;
        workers[i].w.env = &env;
        workers[i].w.index = i;
        workers[i].w.httpd = pp_httpd_start_full(srv_root, 0, &hopts, &error);
        if (workers[i].w.httpd == NULL) {
            pp_print_error("run: starting the stand-in", error);
            rc = PP_EXIT_HARNESS;
            goto out;
        }
        workers[i].w.port = pp_httpd_get_port(workers[i].w.httpd);
    }
    g_printerr("run: scenario %s, cut %s, seed %" G_GINT64_FORMAT ", %u "
               "stand-in(s) on 127.0.0.1 (guest: http://10.0.2.2:%u/repo ...)\n",
               sc->name, env.cut.text, seed, n_workers, workers[0].w.port);

    gboolean need_cal = (env.cut.kind == PP_CUT_RANDOM_TIME && window == 0)
                        || env.cut.kind == PP_CUT_PHASE;
    if (need_cal && camp != NULL) {
        /* The draws depend on the calibration: the saved one, not a new
           measurement, unless it is lost. */
        g_autoptr(GError) local = NULL;
        if (pp_vm_calibration_load(&env, &local)) {
            g_printerr("run: resume: the calibration of the first run "
                       "(window %.2f s)\n", env.window_s);
            need_cal = FALSE;
        } else {
            g_printerr("run: resume: %s: calibrating again\n",
                       local->message);
        }
    }
    if (need_cal) {
        g_printerr("run: calibration: one uncut update, traced in the guest\n");
        if (!pp_calibrate(&workers[0].w, &env, &error)) {
            if (run_interrupted) {
                g_printerr("\nplugpull: run: interrupted\n");
                print_continue(&env, only_cycle);
                rc = 128 + run_interrupted;
                goto out;
            }
            pp_print_error("run: calibration", error);
            rc = PP_EXIT_HARNESS;
            goto out;
        }
        if (!pp_vm_calibration_save(&env, &error)) {
            pp_print_error("run", error);
            rc = PP_EXIT_HARNESS;
            goto out;
        }
        g_printerr("run: update window %.2f s; %u calls; phases start at "
                   "pull %.2f, deploy %.2f, bootloader %.2f, cleanup %.2f s\n",
                   env.window_s, env.timeline.n,
                   env.timeline.phase_start_s[PP_PHASE_PULL],
                   env.timeline.phase_start_s[PP_PHASE_DEPLOY],
                   env.timeline.phase_start_s[PP_PHASE_BOOTLOADER],
                   env.timeline.phase_start_s[PP_PHASE_CLEANUP]);
    }

    cp.n = only_cycle >= 0 ? 1 : (guint)iterations;
    cp.order = g_new0(guint, cp.n);
    cp.done = g_ptr_array_new_with_free_func((GDestroyNotify)pp_cycle_free);
    for (guint i = 0; i < cp.n; i++) {
        guint index = only_cycle >= 0 ? (guint)only_cycle : i;
        PpCycle *kept = camp != NULL ? load_finished(&env, index) : NULL;
        if (kept != NULL) {
            cp.failures += pp_cycle_failed(kept);
            g_ptr_array_add(cp.done, kept);
        } else {
            cp.order[cp.n_order++] = index;
        }
    }
    guint n_kept = cp.done->len;
    if (camp != NULL) {
        g_printerr("run: resume: %u finished cycle(s) kept, %u to run\n",
                   n_kept, cp.n_order);
    }
    cp.t0 = cp.t_last = g_get_monotonic_time();
    for (guint i = 0; i < n_workers; i++) {
        g_ptr_array_add(threads, g_thread_new("plugpull-vm", worker_main,
                                              &workers[i]));
    }
    for (guint i = 0; i < threads->len; i++) {
        g_thread_join(threads->pdata[i]);
    }
    g_ptr_array_sort(cp.done, cycle_cmp);
    if (cp.error != NULL) {
        pp_print_error("run", cp.error);
        rc = PP_EXIT_HARNESS;
    }
    if (run_interrupted) {
        g_printerr("\nplugpull: run: interrupted after %u finished cycle(s); "
                   "QEMU stopped\n", cp.done->len);
        print_continue(&env, only_cycle);
    }
    PpVmRunInfo info = {
        .iterations = cp.n,
        .jobs = n_workers,
        .duration_s = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
        .cycles_wall_s = (double)(cp.t_last - cp.t0) / G_USEC_PER_SEC,
        .started = started,
        .interrupted = run_interrupted != 0,
        .command = command->str,
        .cycles_kept = n_kept,
        .continued = camp != NULL,
    };
    g_clear_error(&error);
    if (!pp_vm_write_results(&env, &info, cp.done, &error)) {
        pp_print_error("run", error);
        rc = PP_EXIT_HARNESS;
    }
    if (run_interrupted) {
        rc = 128 + run_interrupted;
    } else if (rc == PP_EXIT_OK && cp.failures > 0) {
        rc = PP_EXIT_FAILURES;
    }

out:
    for (guint i = 0; i < n_workers; i++) {
        pp_httpd_stop(workers[i].w.httpd);
    }
    if (cp.done != NULL) {
        g_ptr_array_unref(cp.done);
    }
    g_free(cp.order);
    g_clear_error(&cp.error);
    g_mutex_clear(&cp.lock);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
