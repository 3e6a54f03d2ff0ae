/* SPDX-License-Identifier: MIT */
/*
 * cmd-run-cycles.c: the cycles of a `plugpull run` campaign (cmd-run.h):
 * J workers, each with its stand-in on 127.0.0.1, take the cycles in
 * turn; a signal stops them between two reads of the console (the cycles
 * in flight are dropped, the finished ones written).
 */
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "cli/cmd-run.h"
#include "common/interrupt.h"
#include "plugpull.h"
#include "server/httpd.h"
#include "vm/vm-firmware.h"
#include "vm/vm-out.h"

/* The exact command that continues the campaign (not for --cycle). */
static void
print_continue(const PpRunEnv *env, gint only_cycle)
{
    if (only_cycle < 0) {
        g_autofree char *q = g_shell_quote(env->out_dir);
        g_printerr("continue it with: plugpull run --out %s --resume\n", q);
    }
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

typedef struct Campaign Campaign;

typedef struct {
    Campaign *cp;
    PpRunWorker w;
} Worker;

/* The campaign while workers run. */
struct Campaign {
    PpRunEnv *env;
    const RunCycles *rc;
    GMutex lock;
    Worker *workers;             /* each with its stand-in */
    guint n_workers;
    guint next;                  /* next position in order[] */
    guint *order;                /* cycle indices to run */
    guint n_order;
    guint n;                     /* cycles of the campaign (with the kept) */
    guint n_kept;                /* of those, finished by an earlier run */
    GPtrArray *done;             /* PpCycle *, finished */
    guint failures;
    gint64 t0;
    gint64 t_last;
    gboolean tty;
    GError *error;               /* the first harness error */
};

/* Init with campaign_init; cleared (stand-ins stopped) on every return. */
static void
campaign_init(Campaign *cp, PpRunEnv *env, const RunCycles *rc)
{
    memset(cp, 0, sizeof *cp);
    cp->env = env;
    cp->rc = rc;
    cp->tty = isatty(STDERR_FILENO);
    g_mutex_init(&cp->lock);
    cp->done = g_ptr_array_new_with_free_func((GDestroyNotify)pp_cycle_free);
}

static void
campaign_clear(Campaign *cp)
{
    for (guint i = 0; i < cp->n_workers; i++) {
        g_clear_pointer(&cp->workers[i].w.httpd, pp_httpd_stop);
    }
    g_clear_pointer(&cp->workers, g_free);
    g_clear_pointer(&cp->done, g_ptr_array_unref);
    g_clear_pointer(&cp->order, g_free);
    g_clear_error(&cp->error);
    if (cp->env != NULL) {
        g_mutex_clear(&cp->lock);
        cp->env = NULL;
    }
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Campaign, campaign_clear)

/* Under cp->lock. */
static void
progress(Campaign *cp, const PpCycle *c)
{
    guint done = cp->done->len;
    double elapsed = (double)(g_get_monotonic_time() - cp->t0) / G_USEC_PER_SEC;
    double eta = elapsed / done * (cp->n - done);
    /* A terminal gets the running count on one line above the results;
       a CI log gets plain lines. */
    g_autofree char *after = c->exit_to_cut_s >= 0
        ? g_strdup_printf(" (%.2f s after the client's exit)",
                          c->exit_to_cut_s)
        : g_strdup("");
    /* disk-cache = volatile: the seed that replays the disk's draw. */
    g_autofree char *disk = c->disk_rebuilt
        ? g_strdup_printf("; disk seed %" G_GUINT64_FORMAT ": %u of %u "
                          "requests after the last flush lost",
                          c->disk_cache.seed, c->disk_cache.lost,
                          c->disk_cache.after_flush)
        : g_strdup("");
    g_printerr("%s[%u/%u] %s: %s (%s); cut %s at %.2f s%s, phase %s; %.1f s, "
               "boot-to-verdict %.1f s, resume %" G_GUINT64_FORMAT " bytes%s\n",
               cp->tty ? "\r\033[K" : "", done, cp->n, c->id, pp_outcome_to_string(c->outcome),
               c->reason, c->cut_kind, c->cut_offset_s, after, c->phase,
               c->seconds, c->boot_to_verdict_s, c->resume_bytes, disk);
    if (done < cp->n) {
        g_printerr("%s%u/%u done, %u failed, ETA %.0f s%s", cp->tty ? "" : "run: ",
                   done, cp->n, cp->failures, eta, cp->tty ? "" : "\n");
    }
}

static gpointer
worker_main(gpointer data)
{
    Worker *wk = data;
    Campaign *cp = wk->cp;
    for (;;) {
        g_mutex_lock(&cp->lock);
        gboolean stop = cp->next >= cp->n_order || cp->error != NULL
                        || pp_interrupt_signal() != 0;
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
            if (pp_interrupt_signal() != 0) {
                (void)unlink(disk);
            } else if (g_file_test(disk, G_FILE_TEST_EXISTS)) {
                g_prefix_error(&error, "(disk kept: %s) ", disk);
            }
            g_mutex_lock(&cp->lock);
            if (pp_interrupt_signal() == 0 && cp->error == NULL) {
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

/* One stand-in per worker, serving srv_root: a cycle's resume bytes are
   its own. */
static gboolean
start_stand_ins(Campaign *cp, GError **error)
{
    const PpScenario *sc = cp->rc->sc;
    const char *srv_root = cp->rc->srv_root;
    const PpRunEnv *env = cp->env;
    guint n = (guint)MIN(cp->rc->opt->jobs, cp->rc->opt->only_cycle >= 0 ? 1 : cp->rc->opt->iterations);
    cp->workers = g_new0(Worker, n);
    cp->n_workers = n;
    for (guint i = 0; i < n; i++) {
        g_autofree char *log = g_strdup_printf("%s/server-%u.log", env->out_dir,
                                               i);
        PpHttpdOptions hopts = { .log_path = log };
        Worker *wk = &cp->workers[i];
        wk->cp = cp;
        wk->w.env = env;
        wk->w.index = i;
        wk->w.httpd = pp_httpd_start_full(srv_root, 0, &hopts, error);
        if (wk->w.httpd == NULL) {
            g_prefix_error(error, "starting the stand-in: ");
            return FALSE;
        }
        wk->w.port = pp_httpd_get_port(wk->w.httpd);
    }
    g_printerr("run: scenario %s, cut %s, seed %" G_GINT64_FORMAT ", %u "
               "stand-in(s) on 127.0.0.1 (guest: http://10.0.2.2:%u/repo ...)\n",
               sc->name, env->cut.text, cp->rc->opt->seed, n, cp->workers[0].w.port);
    return TRUE;
}

/*
 * The calibration, when the cut needs the update window or the phases:
 * one uncut, traced update (a resumed campaign reuses its own, unless it
 * is lost: the draws depend on it).
 */
static gboolean
calibrate(Campaign *cp, GError **error)
{
    const PpVmCampaign *camp = cp->rc->camp;
    PpRunEnv *env = cp->env;
    gboolean need_cal = (env->cut.kind == PP_CUT_RANDOM_TIME && cp->rc->opt->window == 0)
                        || env->cut.kind == PP_CUT_PHASE;
    if (need_cal && camp != NULL) {
        g_autoptr(GError) local = NULL;
        if (pp_vm_calibration_load(env, &local)) {
            g_printerr("run: resume: the calibration of the first run "
                       "(window %.2f s)\n", env->window_s);
            need_cal = FALSE;
        } else {
            g_printerr("run: resume: %s: calibrating again\n",
                       local->message);
        }
    }
    if (!need_cal) {
        return TRUE;
    }
    g_printerr("run: calibration: one uncut update, traced in the guest\n");
    if (!pp_calibrate(&cp->workers[0].w, env, error)) {
        if (pp_interrupt_signal() != 0) {
            g_printerr("\n");
            print_continue(env, cp->rc->opt->only_cycle);
            return pp_throw_interrupted_msg(error, pp_interrupt_signal(),
                                            "interrupted");
        }
        g_prefix_error(error, "calibration: ");
        return FALSE;
    }
    if (!pp_vm_calibration_save(env, error)) {
        return FALSE;
    }
    g_printerr("run: update window %.2f s; %u calls; phases start at "
               "pull %.2f, deploy %.2f, bootloader %.2f, cleanup %.2f s\n",
               env->window_s, env->timeline.n,
               env->timeline.phase_start_s[PP_PHASE_PULL],
               env->timeline.phase_start_s[PP_PHASE_DEPLOY],
               env->timeline.phase_start_s[PP_PHASE_BOOTLOADER],
               env->timeline.phase_start_s[PP_PHASE_CLEANUP]);
    return TRUE;
}

/* The cycles: the ones an earlier run finished are kept (--resume), the
   others run J at a time until done, a harness error or a signal. */
static void
run_cycles(Campaign *cp)
{
    const PpVmCampaign *camp = cp->rc->camp;
    cp->n = cp->rc->opt->only_cycle >= 0 ? 1 : (guint)cp->rc->opt->iterations;
    cp->order = g_new0(guint, cp->n);
    for (guint i = 0; i < cp->n; i++) {
        guint index = cp->rc->opt->only_cycle >= 0 ? (guint)cp->rc->opt->only_cycle : i;
        PpCycle *kept = camp != NULL ? load_finished(cp->env, index) : NULL;
        if (kept != NULL) {
            cp->failures += pp_cycle_failed(kept);
            g_ptr_array_add(cp->done, kept);
        } else {
            cp->order[cp->n_order++] = index;
        }
    }
    cp->n_kept = cp->done->len;
    if (camp != NULL) {
        g_printerr("run: resume: %u finished cycle(s) kept, %u to run\n",
                   cp->n_kept, cp->n_order);
    }
    cp->t0 = cp->t_last = g_get_monotonic_time();
    g_autoptr(GPtrArray) threads = g_ptr_array_new();
    for (guint i = 0; i < cp->n_workers; i++) {
        g_ptr_array_add(threads, g_thread_new("plugpull-vm", worker_main,
                                              &cp->workers[i]));
    }
    for (guint i = 0; i < threads->len; i++) {
        g_thread_join(threads->pdata[i]);
    }
    g_ptr_array_sort(cp->done, cycle_cmp);
}

/*
 * The results of the cycles finished (summary, points, case index,
 * junit), written whatever happened, and the campaign's verdict: the
 * signal, else the harness error, else a failed write, else the failed
 * cycles.  An error not returned is printed here.
 */
static gboolean
write_results(Campaign *cp, GError **error)
{
    const RunCycles *rc = cp->rc;
    int signo = pp_interrupt_signal();
    if (signo != 0) {
        g_printerr("\n");
        print_continue(cp->env, cp->rc->opt->only_cycle);
    }
    PpVmRunInfo info = {
        .iterations = cp->n,
        .jobs = cp->n_workers,
        .duration_s = (double)(g_get_monotonic_time() - rc->t0) / G_USEC_PER_SEC,
        .cycles_wall_s = (double)(cp->t_last - cp->t0) / G_USEC_PER_SEC,
        .started = rc->started,
        .interrupted = signo != 0,
        .command = rc->command,
        .cycles_kept = cp->n_kept,
        .continued = rc->camp != NULL,
    };
    g_autoptr(GError) write_error = NULL;
    pp_vm_write_results(cp->env, &info, cp->done, &write_error);
    if (signo != 0) {
        if (cp->error != NULL) {
            pp_print_error("run", cp->error);
        }
        if (write_error != NULL) {
            pp_print_error("run", write_error);
        }
        return pp_throw_interrupted_msg(error, signo, "interrupted after %u "
                                        "finished cycle(s); QEMU stopped",
                                        cp->done->len);
    }
    if (cp->error != NULL) {
        if (write_error != NULL) {
            pp_print_error("run", write_error);
        }
        g_propagate_error(error, g_steal_pointer(&cp->error));
        return FALSE;
    }
    if (write_error != NULL) {
        g_propagate_error(error, g_steal_pointer(&write_error));
        return FALSE;
    }
    if (cp->failures > 0) {
        return pp_throw_code(error, PP_ERROR_FAILURES, "%u of %u cycle(s) "
                             "failed", cp->failures, cp->done->len);
    }
    return TRUE;
}


gboolean
pp_runcmd_cycles(PpRunEnv *env, const RunCycles *rc, GError **error)
{
    g_auto(Campaign) cp = { 0 };
    campaign_init(&cp, env, rc);
    /* Your firmware boots once before anything is measured: a firmware
       that cannot reach the agent is refused (exit 2), not failed.  Not
       again for a replay (--cycle) or a resumed campaign (its first run
       did). */
    if (!start_stand_ins(&cp, error)
        || (env->firmware && rc->opt->only_cycle < 0 && rc->camp == NULL
            && !pp_vm_firmware_probe(&cp.workers[0].w, error))
        || !calibrate(&cp, error)) {
        return FALSE;
    }
    run_cycles(&cp);
    return write_results(&cp, error);
}
