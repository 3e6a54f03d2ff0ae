/* SPDX-License-Identifier: MIT */
/*
 * vmcycle.c: see vmcycle.h (the boots and the agent's commands: vm-boot.c).
 */
#include "vm/vm-cycle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "vm/vm-boot.h"
#include "vm/vm-qemu.h"
#include "vm/vm-disk.h"
#include "vm/vm-verdict.h"


void
pp_run_env_clear(PpRunEnv *env)
{
    g_free(env->out_dir);
    g_free(env->work_dir);
    g_free(env->image_dir);
    g_free(env->disk);
    g_free(env->bios);
    g_strfreev(env->commits);
    g_free(env->sabotage);
    g_free(env->scenario);
    g_free(env->scenario_path);
    g_strfreev(env->repo_config);
    g_free(env->ref);
    pp_cut_spec_clear(&env->cut);
    g_clear_pointer(&env->cal_trace, cfi_trace_free);
    pp_vm_timeline_clear(&env->timeline);
}

PpCycle *
pp_cycle_new(const PpRunEnv *env, guint index)
{
    PpCycle *c = g_new0(PpCycle, 1);
    c->index = index;
    c->id = g_strdup_printf("vm-c%04u-s%" G_GUINT64_FORMAT, index, env->seed);
    c->cut_seq = -1;
    c->boots = json_builder_new();
    json_builder_begin_array(c->boots);
    c->notes = g_string_new(NULL);
    c->marks = g_string_new(NULL);
    c->outcome = PP_OUTCOME_PASS;
    c->phase = g_strdup("unknown");
    c->after_exit_s = -1;
    c->exit_s = -1;
    c->exit_to_cut_s = -1;
    c->exit_uptime_s = -1;
    c->needs_recovery_at_cut = -1;
    c->disk_seed = pp_diskcache_cycle_seed(env->seed, index);
    switch (env->cut.kind) {
    case PP_CUT_RANDOM_TIME:
        /* (seed, cycle) decide the draw: cycle i of a campaign is
           reproducible without running the ones before it. */
        c->cut_kind = g_strdup("random-time");
        c->cut_offset_s = pp_cut_draw_time(&env->cut, env->window_s,
                                           env->seed, index);
        break;
    case PP_CUT_AFTER_EXIT:
        c->cut_kind = g_strdup("after-exit");
        c->after_exit_s = pp_cut_draw_after_exit(&env->cut, env->seed, index);
        break;
    case PP_CUT_SYSCALL:
        c->cut_kind = g_strdup("syscall");
        c->cut_rule = g_strdup(env->cut.rule);
        break;
    case PP_CUT_PHASE:
        /* pp_cycle_run draws the call (it needs the calibration). */
        c->cut_kind = g_strdup("phase");
        break;
    }
    return c;
}

void
pp_cycle_free(PpCycle *c)
{
    if (c == NULL) {
        return;
    }
    g_free(c->id);
    g_free(c->cut_kind);
    g_free(c->cut_rule);
    g_free(c->cut_desc);
    g_free(c->crash_line);
    g_free(c->phase);
    g_free(c->cut_qemu_exit);
    g_free(c->loader_before);
    g_free(c->loader_at_cut);
    g_free(c->reason);
    g_free(c->booted_after_cut);
    g_free(c->booted_final);
    g_clear_object(&c->boots);
    if (c->notes != NULL) {
        g_string_free(c->notes, TRUE);
    }
    if (c->marks != NULL) {
        g_string_free(c->marks, TRUE);
    }
    g_free(c->disk_kept);
    g_clear_pointer(&c->inspect, json_node_unref);
    g_free(c->write_log);
    pp_diskcache_result_clear(&c->disk_cache);
    g_free(c->unflushed_write);
    g_free(c);
}

gboolean
pp_cycle_failed(const PpCycle *c)
{
    return c->outcome != PP_OUTCOME_PASS;
}

static void
set_verdict(PpCycle *c, PpOutcome outcome, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
set_verdict(PpCycle *c, PpOutcome outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(c->reason);
    c->outcome = outcome;
    c->reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static char *
commit_name(const PpRunEnv *env, const char *commit)
{
    for (guint i = 0; env->commits[i] != NULL; i++) {
        if (commit != NULL && g_str_equal(env->commits[i], commit)) {
            return g_strdup_printf("v%u", i + 1);
        }
    }
    return g_strdup("unknown");
}

static void
add_note(PpCycle *c, const char *what, GString *output)
{
    g_string_append_printf(c->notes, "--- %s\n", what);
    pp_agent_append_output(c->notes, output->str);
    g_string_truncate(output, 0);
}

/* The guest uptime of the PLUGPULL-T0 line in text, or -1. */
static double
find_t0(const char *text)
{
    const char *p = strstr(text, PP_T0_LINE);
    return p != NULL ? g_ascii_strtod(p + strlen(PP_T0_LINE), NULL) : -1.0;
}

/*
 * Boot A of a cycle or of the calibration: boot the pristine copy, set up
 * the network, send the update.  The image must boot: a failure here is
 * the harness's.
 */
static gboolean
boot_and_start_update(PpRunWorker *w, PpCycle *c, const char *case_dir,
                      const char *disk, const char *config, PpVm **out_vm,
                      gint64 *out_t_update, GError **error)
{
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    PpBootEnd end;
    if (!pp_vm_boot(w, c, case_dir, "A-update", disk, &vm, &line, &end, &reason,
              error)) {
        return FALSE;
    }
    if (vm == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: the image does not boot (%s), see %s/A-update.serial",
                    c->id, reason, case_dir);
        return FALSE;
    }
    gboolean ok = FALSE;
    if (!pp_agent_prepare_update(w, vm, &ok, out, error)) {
        return FALSE;
    }
    if (!ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: network or remote set-up failed in the guest: %s",
                    c->id, out->str);
        return FALSE;
    }
    g_autofree char *cmd = pp_agent_update_command(config);
    *out_t_update = g_get_monotonic_time();
    if (!pp_vm_send_line(vm, cmd, error)) {
        return FALSE;
    }
    *out_vm = g_steal_pointer(&vm);
    return TRUE;
}

gboolean
pp_calibrate(PpRunWorker *w, PpRunEnv *env, GError **error)
{
    g_autoptr(PpCycle) c = pp_cycle_new(env, 0);
    g_free(c->id);
    c->id = g_strdup("calibration");
    g_autofree char *case_dir = g_build_filename(env->out_dir, "calibration",
                                                 NULL);
    g_autofree char *disk = g_strdup_printf("%s/calibration.img",
                                            env->work_dir);
    if (!pp_mkdir_p(case_dir, error) || !pp_vmdisk_copy(env->disk, disk, error)) {
        return FALSE;
    }
    g_autoptr(PpVm) vm = NULL;
    gint64 t_update = 0;
    if (!boot_and_start_update(w, c, case_dir, disk,
                               "mode=trace;trace=" PP_GUEST_CAL_TRACE
                               ";data=none", &vm, &t_update, error)) {
        return FALSE;
    }
    const char *done[] = { PP_AGENT_DONE, NULL };
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GError) local = NULL;
    g_autofree char *done_line = pp_vm_wait_for(
        vm, done, pp_vm_deadline_in(env->cmd_timeout_s), NULL, out, &local);
    double window = (double)(g_get_monotonic_time() - t_update) / G_USEC_PER_SEC;
    if (done_line == NULL) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "calibration: the uncut update did not "
                                   "finish: ");
        return FALSE;
    }
    int rc = atoi(strstr(done_line, PP_AGENT_DONE) + strlen(PP_AGENT_DONE));
    if (rc != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "calibration: the uncut update failed (rc=%d): %s", rc,
                    out->str);
        return FALSE;
    }
    double t0 = find_t0(out->str);
    /* poweroff syncs: the trace reaches the disk file. */
    if (!pp_vm_send_line(vm, "poweroff", error)) {
        return FALSE;
    }
    pp_vm_wait_exit(vm, 30 * 1000);
    g_clear_pointer(&vm, pp_vm_free);
    g_autofree char *trace_path = g_build_filename(env->out_dir,
                                                   "calibration.cfit", NULL);
    if (!pp_vmdisk_dump(disk, env->part_offset,
                        &PP_GUEST_CAL_TRACE[strlen("/sysroot")], trace_path,
                        error)) {
        g_prefix_error(error, "calibration: reading the trace back: ");
        return FALSE;
    }
    (void)unlink(disk);
    env->cal_trace = cfi_trace_open(trace_path, error);
    if (env->cal_trace == NULL) {
        g_prefix_error(error, "calibration: ");
        return FALSE;
    }
    if (t0 < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "calibration: no " PP_T0_LINE "line in the update's "
                    "output");
        return FALSE;
    }
    pp_vm_timeline_build(env->cal_trace, t0, &env->timeline);
    env->have_timeline = TRUE;
    if (env->window_s == 0) {
        env->window_s = window;
    }
    return TRUE;
}

/*
 * Wait for the cut, then cut the power:
 *   random-time  at cut_offset_s after the update started, whether or not
 *                the client has exited by then (a factor above 1 reaches
 *                past its end on purpose)
 *   after-exit   after_exit_s after the agent's done line (the client's
 *                exit)
 *   syscall      at the shim's CFI-CRASH line, or at once when the client
 *                exits first
 * *out_timed_out: an update that neither ended nor reached the rule within
 * the command timeout (not random-time: its deadline is the cut).
 */
static gboolean
update_until_cut(PpRunWorker *w, PpCycle *c, PpVm *vm, gint64 t_update,
                 GString *out, gboolean *out_timed_out, GError **error)
{
    const PpRunEnv *env = w->env;
    gboolean by_time = env->cut.kind == PP_CUT_RANDOM_TIME;
    gboolean after_exit = env->cut.kind == PP_CUT_AFTER_EXIT;
    const char *needles[] = { PP_AGENT_DONE, PP_CRASH_LINE, PP_MARK_LINE,
                              NULL };
    double limit = by_time ? c->cut_offset_s : env->cmd_timeout_s;
    gint64 deadline = t_update + (gint64)(limit * G_USEC_PER_SEC);
    gint64 t_exit = 0;
    PpPhase phase = PP_PHASE_PULL;
    *out_timed_out = FALSE;
    for (;;) {
        guint which = 0;
        g_autoptr(GError) local = NULL;
        g_autofree char *line = pp_vm_wait_for(vm, needles, deadline, &which,
                                               out, &local);
        if (line == NULL) {
            if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                           "%s: update: ", c->id);
                return FALSE;
            }
            /* The deadline: the cut's time, or (syscall, after-exit
               before the exit) the command timeout. */
            *out_timed_out = !by_time && !c->update_done_before_cut;
            c->cut_fired = by_time && !c->update_done_before_cut;
            break;
        }
        if (which == 2) {
            /* A phase began: note when, and wait on. */
            PpPhase p;
            if (pp_cut_mark_phase(line, &p)) {
                double t = (double)(g_get_monotonic_time() - t_update)
                           / G_USEC_PER_SEC;
                g_string_append_printf(c->marks, "%s%s=%.3f",
                                       c->marks->len ? " " : "",
                                       pp_phase_name(p), t);
                phase = MAX(phase, p);
            }
            continue;
        }
        if (which == 1) {
            c->cut_fired = TRUE;
            c->crash_line = g_strdup(strstr(line, PP_CRASH_LINE));
            g_autofree char *seq = pp_cut_crash_field(c->crash_line, "seq");
            c->cut_seq = seq != NULL ? g_ascii_strtoll(seq, NULL, 10) : -1;
            break;
        }
        if (c->update_done_before_cut) {
            continue;           /* a stray line: the client exited once */
        }
        /* The client exited: the agent's done line follows its exit at
           once (images/guest-init). */
        t_exit = g_get_monotonic_time();
        const char *done = strstr(line, PP_AGENT_DONE);
        c->update_done_before_cut = TRUE;
        c->update_rc_before_cut = atoi(done + strlen(PP_AGENT_DONE));
        c->exit_s = (double)(t_exit - t_update) / G_USEC_PER_SEC;
        g_autofree char *up = pp_agent_line_field(done, "uptime");
        c->exit_uptime_s = up != NULL ? g_ascii_strtod(up, NULL) : -1;
        if (after_exit) {
            deadline = t_exit + (gint64)(c->after_exit_s * G_USEC_PER_SEC);
            continue;
        }
        if (by_time) {
            continue;           /* the drawn time is the cut */
        }
        break;
    }
    gint64 t_cut = g_get_monotonic_time();
    if (!by_time) {
        c->cut_offset_s = (double)(t_cut - t_update) / G_USEC_PER_SEC;
    }
    pp_vm_power_cut(vm);
    c->cut_qemu_exit = pp_vm_describe_exit(vm);
    if (t_exit != 0) {
        c->exit_to_cut_s = (double)(t_cut - t_exit) / G_USEC_PER_SEC;
    }

    /* Where the cut fell: the last phase the shim announced before it.
       A cut after the update ended is in none. */
    g_free(c->phase);
    c->phase = g_strdup(c->update_done_before_cut ? "after-update"
                        : pp_phase_name(phase));
    return TRUE;
}

/*
 * A device that does not boot, or hangs, is examined from the host: the
 * oracle of `plugpull inspect` on its disk (what U-Boot would boot, is
 * that tree complete and known, the repo), the server's repo as the
 * witness of the known-good trees.  Its verdict joins the evidence; a
 * failure to inspect is noted, not fatal: the cycle's verdict stands.
 */
static void
inspect_disk(const PpRunEnv *env, PpCycle *c, const char *disk)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *repo = g_build_filename(env->work_dir, "srv", "repo",
                                             NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        &error, exe != NULL ? exe : "plugpull", "inspect", "--json",
        "--no-fallback", "--repo", repo, disk, NULL);
    g_autofree char *out = NULL, *err = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, &out, &err, &error)) {
        g_string_append_printf(c->notes, "inspect %s: %s\n", disk,
                               error->message);
        return;
    }
    int st = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p)
                                           : -1;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root = NULL;
    if ((st == 0 || st == 1) && out != NULL
        && json_parser_load_from_data(parser, out, -1, NULL)
        && (root = json_parser_get_root(parser)) != NULL
        && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        g_string_append_printf(
            c->notes, "inspect of the disk (host, plugpull inspect): %s: %s\n",
            json_object_get_string_member_with_default(o, "outcome", "?"),
            json_object_get_string_member_with_default(o, "reason", ""));
        g_clear_pointer(&c->inspect, json_node_unref);
        c->inspect = json_node_copy(root);
    } else {
        g_string_append_printf(c->notes, "inspect %s: exit %d: %s\n", disk,
                               st, err != NULL ? g_strstrip(err) : "");
    }
}

/*
 * The steps of a cycle run in order; each gives the verdict when one
 * applies (vmcycle.h: the first that applies) and the cycle stops there.
 * A verdict is given when c->reason is set (set_verdict).  FALSE: the
 * harness failed or the campaign was interrupted.
 */
static gboolean
verdict_given(const PpCycle *c)
{
    return c->reason != NULL;
}

/*
 * What U-Boot will read after this cut: boot/loader in the disk's home
 * blocks, and whether the journal holds what the kernel alone will see
 * (replayed at its mount).  Evidence, not a verdict: a failure to read is
 * noted.
 */
static void
boot_view_at_cut(const PpRunEnv *env, PpCycle *c, const char *disk)
{
    g_autoptr(GError) local = NULL;
    gboolean dirty = FALSE;
    g_clear_pointer(&c->loader_at_cut, g_free);
    if (!pp_vmdisk_boot_view(disk, env->part_offset, &c->loader_at_cut,
                             &dirty, &local)) {
        g_string_append_printf(c->notes, "the disk at the cut: %s\n",
                               local->message);
        return;
    }
    c->needs_recovery_at_cut = dirty;
    g_string_append_printf(
        c->notes, "the disk at the cut, as U-Boot reads it (home blocks, no "
        "journal replay): boot/loader -> %s (before the update: %s); the "
        "journal %s\n",
        c->loader_at_cut != NULL ? c->loader_at_cut : "(unreadable)",
        c->loader_before != NULL ? c->loader_before : "(unread)",
        dirty ? "needs recovery (committed metadata not yet written home)"
              : "is clean (everything committed is home)");
}

/*
 * Boot A: v1 starts the update, the power is cut where the cut says, the
 * sabotage (a test hook) spoils the disk.  *out_t_b: when the device is
 * powered on again (the start of boot-to-verdict).
 */
/*
 * The twin's test hook (--sabotage unflushed-write, vm-diskcache.h): boot
 * A writes without flushing instead of updating, and the power is cut as
 * soon as the write returns.
 */
static gboolean
unflushed_write_and_cut(PpRunWorker *w, PpCycle *c, const char *case_dir,
                        const char *disk, GString *out, GError **error)
{
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    PpBootEnd end;
    if (!pp_vm_boot(w, c, case_dir, "A-update", disk, &vm, &line, &end,
                    &reason, error)) {
        return FALSE;
    }
    if (vm == NULL) {
        return pp_throw(error, "%s: the image does not boot (%s), see "
                        "%s/A-update.serial", c->id, reason, case_dir);
    }
    int rc = 0;
    if (!pp_agent_run(vm, pp_diskcache_unflushed_command(),
                      w->env->cmd_timeout_s, &rc, out, error)) {
        return FALSE;
    }
    pp_vm_power_cut(vm);
    c->cut_qemu_exit = pp_vm_describe_exit(vm);
    add_note(c, "unflushed write (O_DIRECT, no flush), then the cut", out);
    if (rc != 0) {
        return pp_throw(error, "%s: the unflushed write failed in the guest "
                        "(rc=%d): %s", c->id, rc, c->notes->str);
    }
    g_free(c->phase);
    c->phase = g_strdup("before-update");
    return TRUE;
}

/*
 * disk-cache = volatile: the disk the cut leaves is rebuilt from the
 * pristine image and boot A's write log (MODELS.md 4d).
 */
static gboolean
rebuild_volatile_disk(const PpRunEnv *env, PpCycle *c, const char *disk,
                      GError **error)
{
    c->logging = FALSE;
    if (!pp_diskcache_rebuild(env->disk, c->write_log, disk, c->disk_seed,
                              &c->disk_cache, error)) {
        g_prefix_error(error, "%s: disk-cache volatile: ", c->id);
        return FALSE;
    }
    c->disk_rebuilt = TRUE;
    const PpDiskCacheResult *r = &c->disk_cache;
    g_string_append_printf(
        c->notes, "disk-cache volatile, disk seed %" G_GUINT64_FORMAT ": "
        "%u requests logged (%u flushes, the last at entry %" G_GINT64_FORMAT
        "; the log ended at %s); of the %u after the last flush %u kept, %u "
        "lost (%" G_GUINT64_FORMAT " bytes)%s%s\n", r->seed, r->entries,
        r->flushes, r->last_flush, r->end_reason, r->after_flush, r->kept,
        r->lost, r->bytes_lost, r->lost ? ": " : "",
        r->lost ? r->lost_ranges->str : "");
    return TRUE;
}

static gboolean
step_update_and_cut(PpRunWorker *w, PpCycle *c, const char *case_dir,
                    const char *disk, GString *out, gint64 *out_t_b,
                    GError **error)
{
    const PpRunEnv *env = w->env;
    g_autofree char *config = pp_cut_update_config(c->cut_rule);
    g_autoptr(PpVm) vm = NULL;
    gint64 t_update = 0;
    gboolean unflushed = g_strcmp0(env->sabotage, PP_SABOTAGE_UNFLUSHED) == 0;
    gboolean timed_out = FALSE;
    if (env->disk_cache == PP_DISK_CACHE_VOLATILE) {
        /* A fresh, empty log: blklogwrites starts it at its header. */
        c->write_log = g_strdup_printf("%s/%s.wlog", env->work_dir, c->id);
        if (!g_file_set_contents(c->write_log, "", 0, error)) {
            return FALSE;
        }
        c->logging = TRUE;
    }
    if (unflushed) {
        if (!unflushed_write_and_cut(w, c, case_dir, disk, out, error)) {
            return FALSE;
        }
    } else {
        if (!boot_and_start_update(w, c, case_dir, disk, config, &vm,
                                   &t_update, error)) {
            return FALSE;
        }
        if (!update_until_cut(w, c, vm, t_update, out, &timed_out, error)) {
            return FALSE;
        }
        g_clear_pointer(&vm, pp_vm_free);
        add_note(c, "update until the cut", out);
    }
    if (env->disk_cache == PP_DISK_CACHE_VOLATILE
        && !rebuild_volatile_disk(env, c, disk, error)) {
        return FALSE;
    }
    if (unflushed) {
        gboolean kept = FALSE;
        if (!pp_diskcache_unflushed_kept(disk, &kept, error)) {
            return FALSE;
        }
        c->unflushed_write = g_strdup(kept ? "kept" : "lost");
        g_string_append_printf(c->notes, "the unflushed write after the "
                               "cut: %s\n", c->unflushed_write);
    }
    boot_view_at_cut(env, c, disk);
    if (c->cut_rule != NULL && !c->cut_fired) {
        g_string_append_printf(c->notes, "the rule did not fire before the "
                               "update ended: the power was cut after it\n");
    }
    if (c->update_done_before_cut) {
        g_string_append_printf(c->notes, "the client exited (rc=%d) %.3f s "
                               "after the update started (guest uptime "
                               "%.2f); the power was cut %.3f s after its "
                               "exit\n", c->update_rc_before_cut, c->exit_s,
                               c->exit_uptime_s, c->exit_to_cut_s);
    }
    if (env->sabotage != NULL && !unflushed
        && !pp_vmdisk_sabotage(disk, env->part_offset, env->sabotage,
                               env->to, c->notes, error)) {
        return FALSE;
    }
    *out_t_b = g_get_monotonic_time();
    if (timed_out) {
        set_verdict(c, PP_OUTCOME_HANG, "the update neither ended nor reached the cut "
                    "rule within %u s", env->cmd_timeout_s);
    }
    return TRUE;
}

/*
 * Boot B: what did the cut leave?  It must boot v1 or v2 with a sound
 * repo.  Without a verdict, *out_vm is the device at the agent's prompt
 * and *out_name the version it booted.
 */
static gboolean
step_after_cut(PpRunWorker *w, PpCycle *c, const char *case_dir,
               const char *disk, GString *out, gint64 t_b, PpVm **out_vm,
               char **out_name, GError **error)
{
    const PpRunEnv *env = w->env;
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    PpBootEnd end;
    if (!pp_vm_boot(w, c, case_dir, "B-after-cut", disk, &vm, &line, &end, &reason,
              error)) {
        return FALSE;
    }
    if (vm == NULL) {
        set_verdict(c, end == PP_BOOT_HANG ? PP_OUTCOME_HANG : PP_OUTCOME_BRICK, "after the cut: %s",
                    reason);
        return TRUE;
    }
    c->booted_after_cut = pp_agent_line_field(line, "commit");
    g_autofree char *name = commit_name(env, c->booted_after_cut);
    if (c->booted_after_cut == NULL
        || (!g_str_equal(c->booted_after_cut, env->from)
            && !g_str_equal(c->booted_after_cut, env->to))) {
        set_verdict(c, PP_OUTCOME_WRONG_TREE, "after the cut booted %s (%s), neither "
                    "v1 nor v2", c->booted_after_cut, name);
        return TRUE;
    }
    if (env->vcpus >= 2) {
        /* Both at once on the guest's two vCPUs (vm-verdict.h). */
        g_autoptr(GString) fsck_out = g_string_new(NULL);
        if (!pp_verdict_run(vm, PP_GUEST_REPO, env->cmd_timeout_s,
                            &c->status_rc, &c->fsck_rc, out, fsck_out,
                            error)) {
            return FALSE;
        }
        add_note(c, "ostree admin status", out);
        add_note(c, "ostree fsck", fsck_out);
    } else {
        if (!pp_agent_run(vm, "ostree admin status", env->cmd_timeout_s,
                          &c->status_rc, out, error)) {
            return FALSE;
        }
        add_note(c, "ostree admin status", out);
        g_autofree char *fsck = pp_fsck_command(PP_GUEST_REPO);
        if (c->status_rc >= 0
            && !pp_agent_run(vm, fsck, env->cmd_timeout_s, &c->fsck_rc, out,
                             error)) {
            return FALSE;
        }
        add_note(c, "ostree fsck", out);
    }
    c->boot_to_verdict_s = (double)(g_get_monotonic_time() - t_b) / G_USEC_PER_SEC;
    if (c->status_rc < 0 || c->fsck_rc < 0) {
        set_verdict(c, PP_OUTCOME_HANG, "after the cut (booted %s): ostree %s did not "
                    "finish within %u s", name,
                    c->status_rc < 0 ? "admin status" : "fsck",
                    env->cmd_timeout_s);
        return TRUE;
    }
    if (c->status_rc != 0 || c->fsck_rc != 0) {
        set_verdict(c, PP_OUTCOME_REPO_CORRUPT, "after the cut (booted %s): ostree admin "
                    "status rc=%d, ostree fsck rc=%d", name, c->status_rc,
                    c->fsck_rc);
        return TRUE;
    }
    *out_vm = g_steal_pointer(&vm);
    *out_name = g_steal_pointer(&name);
    return TRUE;
}

/* The resume, on the device boot B left running (vm, taken): the update
   runs again and must succeed; poweroff (with sync). */
static gboolean
step_resume(PpRunWorker *w, PpCycle *c, PpVm *vm_taken, GString *out,
            GError **error)
{
    const PpRunEnv *env = w->env;
    g_autoptr(PpVm) vm = vm_taken;
    gboolean ok = FALSE;
    if (!pp_agent_prepare_update(w, vm, &ok, out, error)) {
        return FALSE;
    }
    if (!ok) {
        set_verdict(c, PP_OUTCOME_STUCK, "after the cut: network or remote set-up "
                    "failed in the guest");
        return TRUE;
    }
    g_string_truncate(out, 0);
    guint64 bytes0 = pp_httpd_get_bytes_sent(w->httpd);
    if (!pp_agent_run(vm, "ostree admin upgrade", env->cmd_timeout_s,
                   &c->resume_rc, out, error)) {
        return FALSE;
    }
    c->resume_bytes = pp_httpd_get_bytes_sent(w->httpd) - bytes0;
    add_note(c, "resumed ostree admin upgrade", out);
    if (c->resume_rc < 0) {
        set_verdict(c, PP_OUTCOME_HANG, "the resumed update did not finish within %u s",
                    env->cmd_timeout_s);
        return TRUE;
    }
    if (c->resume_rc != 0) {
        set_verdict(c, PP_OUTCOME_STUCK, "the resumed update failed (rc=%d)",
                    c->resume_rc);
        return TRUE;
    }
    /* poweroff syncs first: the next boot must see the resumed update. */
    if (!pp_vm_send_line(vm, "poweroff", error)) {
        return FALSE;
    }
    gboolean clean = pp_vm_wait_exit(vm, 30 * 1000);
    g_autofree char *how = pp_vm_describe_exit(vm);
    g_string_append_printf(c->notes, "poweroff after the resume: QEMU %s%s\n",
                           how, clean ? "" : " (had to be stopped)");
    return TRUE;
}

/* Boot C: the resumed update must boot v2.  name: what boot B booted. */
static gboolean
step_after_resume(PpRunWorker *w, PpCycle *c, const char *case_dir,
                  const char *disk, const char *name, GError **error)
{
    const PpRunEnv *env = w->env;
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    PpBootEnd end;
    if (!pp_vm_boot(w, c, case_dir, "C-after-resume", disk, &vm, &line, &end,
              &reason, error)) {
        return FALSE;
    }
    if (vm == NULL) {
        set_verdict(c, end == PP_BOOT_HANG ? PP_OUTCOME_HANG : PP_OUTCOME_BRICK,
                    "after the resume: %s", reason);
        return TRUE;
    }
    c->booted_final = pp_agent_line_field(line, "commit");
    if (c->booted_final == NULL || !g_str_equal(c->booted_final, env->to)) {
        g_autofree char *fname = commit_name(env, c->booted_final);
        set_verdict(c, PP_OUTCOME_STUCK, "after the resume booted %s (%s), not v2",
                    c->booted_final, fname);
        return TRUE;
    }
    set_verdict(c, PP_OUTCOME_PASS, "booted %s after the cut, v2 after the resume",
                name);
    return TRUE;
}

/* Every step of cycle c on disk, up to its verdict. */
static gboolean
cycle_steps(PpRunWorker *w, PpCycle *c, const char *case_dir,
            const char *disk, gint64 *out_t_b, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *name = NULL;
    if (!step_update_and_cut(w, c, case_dir, disk, out, out_t_b, error)) {
        return FALSE;
    }
    if (verdict_given(c)) {
        return TRUE;
    }
    if (!step_after_cut(w, c, case_dir, disk, out, *out_t_b, &vm, &name,
                        error)) {
        return FALSE;
    }
    if (verdict_given(c)) {
        return TRUE;
    }
    if (!step_resume(w, c, g_steal_pointer(&vm), out, error)) {
        return FALSE;
    }
    if (verdict_given(c)) {
        return TRUE;
    }
    return step_after_resume(w, c, case_dir, disk, name, error);
}

/* The cycle's verdict is in: its timings, and its disk kept as evidence
   when it failed (else removed). */
static void
record_verdict(const PpRunEnv *env, PpCycle *c, const char *disk,
               gint64 t_start, gint64 t_b)
{
    json_builder_end_array(c->boots);
    if (c->boot_to_verdict_s == 0) {
        c->boot_to_verdict_s = (double)(g_get_monotonic_time() - t_b) / G_USEC_PER_SEC;
    }
    /* A failing cycle's disk is evidence (plugpull inspect, debugfs), and
       so is the write log it was rebuilt from. */
    if (!pp_cycle_failed(c)) {
        (void)unlink(disk);
        if (c->write_log != NULL) {
            (void)unlink(c->write_log);
        }
    } else {
        if (c->outcome == PP_OUTCOME_BRICK || c->outcome == PP_OUTCOME_HANG) {
            inspect_disk(env, c, disk);
        }
        c->disk_kept = g_strdup(disk);
        g_string_append_printf(c->notes, "disk kept: %s\n", disk);
    }
    c->seconds = (double)(g_get_monotonic_time() - t_start) / G_USEC_PER_SEC;
}

gboolean
pp_cycle_run(PpRunWorker *w, PpCycle *c, GError **error)
{
    const PpRunEnv *env = w->env;
    gint64 t_start = g_get_monotonic_time();
    g_autofree char *case_dir = g_build_filename(env->out_dir, "cases", c->id,
                                                 NULL);
    if (!pp_mkdir_p(case_dir, error)) {
        return FALSE;
    }
    if (env->cut.kind == PP_CUT_PHASE && c->cut_rule == NULL) {
        c->cut_rule = pp_vm_phase_rule(env->cal_trace, &env->timeline,
                                       env->cut.phase, env->seed, c->index,
                                       &c->cut_desc, error);
        if (c->cut_rule == NULL) {
            return FALSE;
        }
    }
    g_autofree char *disk = g_strdup_printf("%s/%s.img", env->work_dir, c->id);
    if (!pp_vmdisk_copy(env->disk, disk, error)) {
        return FALSE;
    }
    gboolean dirty = FALSE;
    g_autoptr(GError) view_error = NULL;
    if (!pp_vmdisk_boot_view(disk, env->part_offset, &c->loader_before,
                             &dirty, &view_error)) {
        g_string_append_printf(c->notes, "the disk before the update: %s\n",
                               view_error->message);
    }
    gint64 t_b = 0;
    if (!cycle_steps(w, c, case_dir, disk, &t_b, error)) {
        return FALSE;
    }
    record_verdict(env, c, disk, t_start, t_b);
    return TRUE;
}

