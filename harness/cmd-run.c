/*
 * cmd-run.c: `plugpull run [--iterations N] [--seed S] [--image DIR]
 * --out DIR`: the VM tier's campaign of power-cut cycles.
 *
 * One cycle, on a fresh sparse copy of the image's disk (v1 deployed):
 *
 *   boot A   power on through U-Boot; the agent reports v1; bring up the
 *            network, point origin at the stand-in (10.0.2.2:PORT) and start
 *            `ostree admin upgrade` to v2
 *   cut      SIGKILL QEMU at a time drawn uniformly (from the seed) in the
 *            update window, measured once per campaign by an uncut update
 *   boot B   power on the same disk: no agent line within the timeout (or a
 *            U-Boot prompt, or QEMU ending) is `brick`; a commit other than
 *            v1 or v2 is `wrong-tree`; then `ostree admin status` and
 *            `ostree fsck` in the guest, failing is `repo-corrupt`; then
 *            the resume: the upgrade runs again and must succeed (else
 *            `stuck`), its bytes measured from the stand-in's counters;
 *            poweroff (with sync)
 *   boot C   must boot v2 (else `stuck`)
 *
 * The verdict is the first of these that fails, with its evidence; the
 * serial log of every boot is kept under DIR/cases/<id>/.
 *
 * Results follow the simulation tier's contract (simout.h): summary.json
 * (tier "vm", bootloader "u-boot"), cases/<id>.json for every cycle,
 * junit.xml; exit 0 all pass, 1 a cycle failed, 2 usage or a missing
 * package, 3 the harness failed, 130 interrupted (finished cycles are
 * written; no QEMU and no server are left running).
 *
 * Single-threaded apart from the stand-in server's threads: cycles run one
 * after the other.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "httpd.h"
#include "plugpull.h"
#include "sim.h"
#include "simout.h"
#include "util.h"
#include "vm.h"

#define PP_RUN_DEFAULT_ROM "/usr/lib/u-boot/qemu-x86/u-boot.rom"
#define PP_RUN_REF "plugpull/device"
#define PP_AGENT_BOOTED "PLUGPULL-AGENT booted"
#define PP_AGENT_DONE "PLUGPULL-AGENT done rc="
#define PP_GUEST_REPO "/sysroot/ostree/repo"

static volatile sig_atomic_t run_interrupted;

static void
on_interrupt(int sig)
{
    (void)sig;
    run_interrupted = 1;
}

typedef struct {
    char *out_dir;
    char *work_dir;
    char *image_dir;
    char *disk;                 /* the image's disk.img (never booted) */
    char *bios;
    char *osname;
    char *kver;
    guint64 part_offset;
    char **commits;             /* v1..vN */
    const char *from;           /* v1 */
    const char *to;             /* v2: what the update installs */
    PpHttpd *httpd;
    guint16 port;
    guint boot_timeout_s;
    guint cmd_timeout_s;
    char *sabotage;             /* NULL or "empty-kernel" */
} RunEnv;

static void
run_env_clear(RunEnv *env)
{
    g_free(env->out_dir);
    g_free(env->work_dir);
    g_free(env->image_dir);
    g_free(env->disk);
    g_free(env->bios);
    g_free(env->osname);
    g_free(env->kver);
    g_strfreev(env->commits);
    pp_httpd_stop(env->httpd);
    g_free(env->sabotage);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RunEnv, run_env_clear)

typedef struct {
    char *id;
    guint index;
    double window_s;
    double cut_offset_s;
    gboolean update_done_before_cut;
    int update_rc_before_cut;
    char *cut_qemu_exit;
    char *outcome;
    char *reason;
    char *booted_after_cut;      /* commit */
    char *booted_final;
    int status_rc;
    int fsck_rc;
    int resume_rc;
    guint64 resume_bytes;
    double boot_to_verdict_s;    /* boot B power-on to the post-cut verdict */
    double seconds;
    JsonBuilder *boots;          /* array of boot records */
    GString *notes;
} Cycle;

static void
cycle_free(Cycle *c)
{
    g_free(c->id);
    g_free(c->cut_qemu_exit);
    g_free(c->outcome);
    g_free(c->reason);
    g_free(c->booted_after_cut);
    g_free(c->booted_final);
    g_clear_object(&c->boots);
    if (c->notes != NULL) {
        g_string_free(c->notes, TRUE);
    }
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Cycle, cycle_free)

static gboolean
cycle_failed(const Cycle *c)
{
    return !g_str_equal(c->outcome, "pass");
}

static void
set_verdict(Cycle *c, const char *outcome, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
set_verdict(Cycle *c, const char *outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(c->outcome);
    g_free(c->reason);
    c->outcome = g_strdup(outcome);
    c->reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static gint64
deadline_in(double seconds)
{
    return g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
}

/* Value of "key=" in an agent line (up to the next space), or NULL. */
static char *
line_field(const char *line, const char *key)
{
    g_autofree char *k = g_strconcat(" ", key, "=", NULL);
    const char *p = strstr(line, k);
    if (p == NULL) {
        return NULL;
    }
    p += strlen(k);
    return g_strndup(p, strcspn(p, " "));
}

static const char *
commit_name(const RunEnv *env, const char *commit)
{
    static char names[8][8];
    for (guint i = 0; env->commits[i] != NULL && i < G_N_ELEMENTS(names); i++) {
        if (commit != NULL && g_str_equal(env->commits[i], commit)) {
            g_snprintf(names[i], sizeof names[i], "v%u", i + 1);
            return names[i];
        }
    }
    return "unknown";
}

/*
 * Boot: QEMU on disk, logs in case_dir/<name>.{serial,qemu.log}.  On
 * success *out_vm runs with the agent at its prompt and *out_line is the
 * agent's "booted" line.  A boot that does not reach the agent is not an
 * error: *out_vm is NULL and *out_reason says why (for the verdict).
 * FALSE only when QEMU cannot be run or the campaign was interrupted.
 */
static gboolean
boot(const RunEnv *env, Cycle *c, const char *case_dir, const char *name,
     const char *disk, PpVm **out_vm, char **out_line, char **out_reason,
     GError **error)
{
    g_autofree char *serial = g_strdup_printf("%s/%s.serial", case_dir, name);
    g_autofree char *qlog = g_strdup_printf("%s/%s.qemu.log", case_dir, name);
    g_autofree char *sock = g_strdup_printf("%s/console-%s.sock",
                                            env->work_dir, c->id);
    PpVmConfig cfg = {
        .bios = env->bios,
        .disk = disk,
        .serial_log = serial,
        .qemu_log = qlog,
        .socket_path = sock,
        .net = TRUE,
        .interrupted = &run_interrupted,
    };
    *out_vm = NULL;
    *out_line = NULL;
    *out_reason = NULL;
    g_autoptr(PpVm) vm = pp_vm_start(&cfg, error);
    if (vm == NULL) {
        g_prefix_error(error, "%s: boot %s: ", c->id, name);
        return FALSE;
    }
    gint64 deadline = deadline_in(env->boot_timeout_s);
    g_autofree char *uboot_error = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    for (;;) {
        g_autoptr(GError) local = NULL;
        g_autofree char *l = pp_vm_read_line(vm, deadline, &local);
        if (l == NULL) {
            if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
            if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
                reason = g_strdup_printf("no agent line within %u s",
                                         env->boot_timeout_s);
            } else {
                pp_vm_wait_exit(vm, 2000);
                g_autofree char *how = pp_vm_describe_exit(vm);
                reason = g_strdup_printf("QEMU %s before the agent line (%s)",
                                         how, local->message);
            }
            break;
        }
        if (strstr(l, PP_AGENT_BOOTED) != NULL) {
            line = g_strdup(strstr(l, PP_AGENT_BOOTED));
            break;
        }
        if (strstr(l, "PLUGPULL-UBOOT error") != NULL && uboot_error == NULL) {
            uboot_error = g_strdup(strstr(l, "PLUGPULL-UBOOT error"));
        }
        if (strstr(l, "PLUGPULL-BOOT-FAILED") != NULL) {
            reason = g_strdup(strstr(l, "PLUGPULL-BOOT-FAILED"));
            break;
        }
        /* U-Boot's prompt: distro boot found nothing it could boot and
           waits for a human that will never come. */
        if (g_str_has_prefix(l, "=>")) {
            reason = g_strdup("U-Boot stopped at its prompt");
            break;
        }
    }
    double secs = pp_vm_elapsed(vm);
    if (line == NULL && uboot_error != NULL) {
        g_autofree char *r = g_strdup_printf("%s; U-Boot: %s", reason,
                                             uboot_error);
        g_free(reason);
        reason = g_steal_pointer(&r);
    }

    json_builder_begin_object(c->boots);
    json_builder_set_member_name(c->boots, "name");
    json_builder_add_string_value(c->boots, name);
    json_builder_set_member_name(c->boots, "serial_log");
    json_builder_add_string_value(c->boots, serial);
    json_builder_set_member_name(c->boots, "seconds_to_agent");
    json_builder_add_double_value(c->boots, line != NULL ? secs : -1.0);
    json_builder_set_member_name(c->boots, line != NULL ? "agent" : "failure");
    json_builder_add_string_value(c->boots, line != NULL ? line : reason);
    json_builder_end_object(c->boots);

    if (line != NULL) {
        *out_vm = g_steal_pointer(&vm);
        *out_line = g_steal_pointer(&line);
    } else {
        *out_reason = g_steal_pointer(&reason);
    }
    return TRUE;
}

/*
 * Run one shell command line through the agent, wait for its "done rc="
 * line; output (without the agent's own lines) appended to output.
 * *out_rc is -1 on a timeout.  FALSE: QEMU ended, console error, or
 * interrupted.
 */
static gboolean
agent_run(PpVm *vm, const char *cmd, double timeout_s, int *out_rc,
          GString *output, GError **error)
{
    if (!pp_vm_send_line(vm, cmd, error)) {
        return FALSE;
    }
    const char *needles[] = { PP_AGENT_DONE, NULL };
    g_autoptr(GString) t = g_string_new(NULL);
    g_autoptr(GError) local = NULL;
    g_autofree char *line = pp_vm_wait_for(vm, needles, deadline_in(timeout_s),
                                           NULL, t, &local);
    if (output != NULL) {
        /* The agent's prompt lines are protocol, not output. */
        g_auto(GStrv) lines = g_strsplit(t->str, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
            if (*lines[i] != '\0' && strstr(lines[i], "PLUGPULL-AGENT ready") == NULL) {
                g_string_append_printf(output, "%s\n", lines[i]);
            }
        }
    }
    if (line == NULL) {
        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
            *out_rc = -1;
            return TRUE;
        }
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "agent command '%s': ", cmd);
        return FALSE;
    }
    *out_rc = atoi(strstr(line, PP_AGENT_DONE) + strlen(PP_AGENT_DONE));
    return TRUE;
}

/* Network up, origin pointed at the stand-in.  *out_ok FALSE when the
   guest's commands fail (the cycle's verdict then says so). */
static gboolean
agent_prepare_update(const RunEnv *env, PpVm *vm, gboolean *out_ok,
                     GString *output, GError **error)
{
    g_autofree char *set_url = g_strdup_printf(
        "ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && "
        "ip route add default via 10.0.2.2 && "
        "ostree --repo=" PP_GUEST_REPO " config set 'remote \"origin\".url' "
        "http://10.0.2.2:%u/repo", env->port);
    int rc = 0;
    if (!agent_run(vm, set_url, env->cmd_timeout_s, &rc, output, error)) {
        return FALSE;
    }
    *out_ok = rc == 0;
    return TRUE;
}

static gboolean
copy_disk(const RunEnv *env, const char *dest, GError **error)
{
    const char *argv[] = { "cp", "--sparse=always", env->disk, dest, NULL };
    int status = 0;
    if (!pp_spawn_wait(argv, G_SUBPROCESS_FLAGS_NONE, &status, error)) {
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cp --sparse=always %s %s: exit status %d", env->disk,
                    dest, status);
        return FALSE;
    }
    return TRUE;
}

/*
 * The test hook --sabotage empty-kernel: after the cut, empty the kernel
 * the disk's boot/loader/uEnv.txt names (debugfs, no mount), as a torn
 * kernel write would leave it.  The cycle must then be judged `brick`.
 */
static gboolean
sabotage_empty_kernel(const RunEnv *env, const char *disk, GString *notes,
                      GError **error)
{
    g_autofree char *spec = g_strdup_printf("%s?offset=%" G_GUINT64_FORMAT,
                                            disk, env->part_offset);
    g_autoptr(GSubprocess) p = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
        error, "debugfs", "-R", "cat /boot/loader/uEnv.txt", spec, NULL);
    g_autofree char *uenv = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, &uenv, NULL, error)) {
        g_prefix_error(error, "debugfs cat uEnv.txt on %s: ", disk);
        return FALSE;
    }
    g_autofree char *kernel = NULL;
    g_auto(GStrv) lines = g_strsplit(uenv != NULL ? uenv : "", "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], "kernel_image=")) {
            kernel = g_strdup(lines[i] + strlen("kernel_image="));
        }
    }
    if (kernel == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "sabotage: no kernel_image in %s's uEnv.txt", disk);
        return FALSE;
    }
    g_autofree char *cmds = g_strdup_printf("%s.debugfs", disk);
    g_autofree char *text = g_strdup_printf("rm %s\nwrite /dev/null %s\n",
                                            kernel, kernel);
    if (!g_file_set_contents(cmds, text, -1, error)) {
        g_prefix_error(error, "writing %s: ", cmds);
        return FALSE;
    }
    const char *argv[] = { "debugfs", "-w", "-f", cmds, spec, NULL };
    int status = 0;
    if (!pp_spawn_wait(argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &status, error)) {
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "debugfs -w %s: exit status %d", spec, status);
        return FALSE;
    }
    g_string_append_printf(notes, "sabotage: emptied %s after the cut\n",
                           kernel);
    (void)unlink(cmds);
    return TRUE;
}

static void
add_note(Cycle *c, const char *what, GString *output)
{
    g_string_append_printf(c->notes, "--- %s\n", what);
    /* The agent's prompt lines are protocol, not evidence. */
    g_auto(GStrv) lines = g_strsplit(output->str, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (*lines[i] != '\0'
            && strstr(lines[i], "PLUGPULL-AGENT ready") == NULL) {
            g_string_append_printf(c->notes, "%s\n", lines[i]);
        }
    }
    g_string_truncate(output, 0);
}

/*
 * Run cycle c.  window_s 0: the calibration run (no cut; sets
 * *out_window).  FALSE: the harness failed or was interrupted.
 */
static gboolean
run_cycle(const RunEnv *env, Cycle *c, double *out_window, GError **error)
{
    gint64 t_start = g_get_monotonic_time();
    g_autofree char *case_dir = g_build_filename(env->out_dir, "cases", c->id,
                                                 NULL);
    if (!pp_mkdir_p(case_dir, error)) {
        return FALSE;
    }
    g_autofree char *disk = g_strdup_printf("%s/%s.img", env->work_dir, c->id);
    if (!copy_disk(env, disk, error)) {
        return FALSE;
    }
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *how = NULL;   /* before the gotos: cleaned at exit */
    gboolean ok = FALSE;

    /* --- boot A: v1, start the update, cut ------------------------------ */
    if (!boot(env, c, case_dir, "A-update", disk, &vm, &line, &reason, error)) {
        return FALSE;
    }
    if (vm == NULL) {
        /* The pristine image must boot: that is the harness's problem. */
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: the image does not boot (%s), see %s/A-update.serial",
                    c->id, reason, case_dir);
        return FALSE;
    }
    if (!agent_prepare_update(env, vm, &ok, out, error)) {
        return FALSE;
    }
    if (!ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: network or remote set-up failed in the guest: %s",
                    c->id, out->str);
        return FALSE;
    }
    g_string_truncate(out, 0);
    gint64 t_update = g_get_monotonic_time();
    if (!pp_vm_send_line(vm, "ostree admin upgrade", error)) {
        return FALSE;
    }
    const char *done[] = { PP_AGENT_DONE, NULL };
    double limit = c->window_s > 0 ? c->cut_offset_s : env->cmd_timeout_s;
    g_autoptr(GError) local = NULL;
    g_autofree char *done_line = pp_vm_wait_for(vm, done, deadline_in(limit),
                                                NULL, out, &local);
    double update_s = (double)(g_get_monotonic_time() - t_update) / G_USEC_PER_SEC;
    if (done_line == NULL
        && !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "%s: update: ", c->id);
        return FALSE;
    }
    if (done_line != NULL) {
        c->update_done_before_cut = TRUE;
        c->update_rc_before_cut = atoi(strstr(done_line, PP_AGENT_DONE)
                                       + strlen(PP_AGENT_DONE));
    }
    if (c->window_s == 0) {
        /* Calibration: the window is the whole uncut update. */
        if (done_line == NULL || c->update_rc_before_cut != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "calibration: the uncut update failed (%s): %s",
                        done_line != NULL ? done_line : "timed out", out->str);
            return FALSE;
        }
        *out_window = update_s;
        pp_vm_power_cut(vm);
        (void)unlink(disk);
        return TRUE;
    }
    /* The power cut. */
    pp_vm_power_cut(vm);
    c->cut_qemu_exit = pp_vm_describe_exit(vm);
    g_clear_pointer(&vm, pp_vm_free);
    add_note(c, "update until the cut", out);
    if (env->sabotage != NULL
        && !sabotage_empty_kernel(env, disk, c->notes, error)) {
        return FALSE;
    }

    /* --- boot B: what did the cut leave? --------------------------------- */
    g_clear_pointer(&line, g_free);
    g_clear_pointer(&reason, g_free);
    gint64 t_b = g_get_monotonic_time();
    if (!boot(env, c, case_dir, "B-after-cut", disk, &vm, &line, &reason,
              error)) {
        return FALSE;
    }
    if (vm == NULL) {
        set_verdict(c, "brick", "after the cut: %s", reason);
        goto verdict;
    }
    c->booted_after_cut = line_field(line, "commit");
    const char *name = commit_name(env, c->booted_after_cut);
    if (!g_str_equal(c->booted_after_cut, env->from)
        && !g_str_equal(c->booted_after_cut, env->to)) {
        set_verdict(c, "wrong-tree", "after the cut booted %s (%s), neither "
                    "v1 nor v2", c->booted_after_cut, name);
        goto verdict;
    }
    if (!agent_run(vm, "ostree admin status", env->cmd_timeout_s,
                   &c->status_rc, out, error)) {
        return FALSE;
    }
    add_note(c, "ostree admin status", out);
    if (!agent_run(vm, "ostree fsck --repo=" PP_GUEST_REPO, env->cmd_timeout_s,
                   &c->fsck_rc, out, error)) {
        return FALSE;
    }
    add_note(c, "ostree fsck", out);
    c->boot_to_verdict_s = (double)(g_get_monotonic_time() - t_b) / G_USEC_PER_SEC;
    if (c->status_rc != 0 || c->fsck_rc != 0) {
        set_verdict(c, "repo-corrupt", "after the cut (booted %s): ostree admin "
                    "status rc=%d, ostree fsck rc=%d", name, c->status_rc,
                    c->fsck_rc);
        goto verdict;
    }

    /* --- resume ------------------------------------------------------------ */
    if (!agent_prepare_update(env, vm, &ok, out, error)) {
        return FALSE;
    }
    if (!ok) {
        set_verdict(c, "stuck", "after the cut: network or remote set-up "
                    "failed in the guest");
        goto verdict;
    }
    g_string_truncate(out, 0);
    guint64 bytes0 = pp_httpd_get_bytes_sent(env->httpd);
    if (!agent_run(vm, "ostree admin upgrade", env->cmd_timeout_s,
                   &c->resume_rc, out, error)) {
        return FALSE;
    }
    c->resume_bytes = pp_httpd_get_bytes_sent(env->httpd) - bytes0;
    add_note(c, "resumed ostree admin upgrade", out);
    if (c->resume_rc != 0) {
        set_verdict(c, "stuck", "the resumed update failed (rc=%d)",
                    c->resume_rc);
        goto verdict;
    }
    /* poweroff syncs first: the next boot must see the resumed update. */
    if (!pp_vm_send_line(vm, "poweroff", error)) {
        return FALSE;
    }
    gboolean clean = pp_vm_wait_exit(vm, 30 * 1000);
    how = pp_vm_describe_exit(vm);
    g_string_append_printf(c->notes, "poweroff after the resume: QEMU %s%s\n",
                           how, clean ? "" : " (had to be stopped)");
    g_clear_pointer(&vm, pp_vm_free);

    /* --- boot C: the resumed update must boot v2 --------------------------- */
    g_clear_pointer(&line, g_free);
    g_clear_pointer(&reason, g_free);
    if (!boot(env, c, case_dir, "C-after-resume", disk, &vm, &line, &reason,
              error)) {
        return FALSE;
    }
    if (vm == NULL) {
        set_verdict(c, "brick", "after the resume: %s", reason);
        goto verdict;
    }
    c->booted_final = line_field(line, "commit");
    if (!g_str_equal(c->booted_final, env->to)) {
        set_verdict(c, "stuck", "after the resume booted %s (%s), not v2",
                    c->booted_final, commit_name(env, c->booted_final));
        goto verdict;
    }
    set_verdict(c, "pass", "booted %s after the cut, v2 after the resume",
                name);

verdict:
    if (c->boot_to_verdict_s == 0) {
        c->boot_to_verdict_s = (double)(g_get_monotonic_time() - t_b) / G_USEC_PER_SEC;
    }
    g_clear_pointer(&vm, pp_vm_free);
    /* A failing cycle's disk is evidence (plugpull inspect, debugfs). */
    if (!cycle_failed(c)) {
        (void)unlink(disk);
    } else {
        g_string_append_printf(c->notes, "disk kept: %s\n", disk);
    }
    c->seconds = (double)(g_get_monotonic_time() - t_start) / G_USEC_PER_SEC;
    return TRUE;
}

static JsonNode *
cycle_to_json(const RunEnv *env, Cycle *c, guint64 seed)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
#define STR(k, v) do { json_builder_set_member_name(b, k); \
        if ((v) != NULL) json_builder_add_string_value(b, v); \
        else json_builder_add_null_value(b); } while (0)
#define NUM(k, v) do { json_builder_set_member_name(b, k); \
        json_builder_add_double_value(b, v); } while (0)
#define INT(k, v) do { json_builder_set_member_name(b, k); \
        json_builder_add_int_value(b, v); } while (0)
    STR("id", c->id);
    STR("tier", "vm");
    STR("bootloader", "u-boot");
    INT("cycle", c->index);
    INT("seed", (gint64)seed);
    STR("outcome", c->outcome);
    STR("reason", c->reason);
    STR("cut", "random-time");
    NUM("window_s", c->window_s);
    NUM("cut_offset_s", c->cut_offset_s);
    json_builder_set_member_name(b, "update_done_before_cut");
    json_builder_add_boolean_value(b, c->update_done_before_cut);
    STR("qemu_at_cut", c->cut_qemu_exit);
    STR("from_commit", env->from);
    STR("to_commit", env->to);
    STR("booted_after_cut", c->booted_after_cut);
    STR("booted_final", c->booted_final);
    INT("status_rc", c->status_rc);
    INT("fsck_rc", c->fsck_rc);
    INT("resume_rc", c->resume_rc);
    INT("resume_bytes", (gint64)c->resume_bytes);
    NUM("boot_to_verdict_s", c->boot_to_verdict_s);
    NUM("seconds", c->seconds);
    json_builder_set_member_name(b, "boots");
    json_builder_end_array(c->boots);
    json_builder_add_value(b, json_builder_get_root(c->boots));
    STR("evidence", c->notes->str);
#undef STR
#undef NUM
#undef INT
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static gboolean
write_junit(const char *dir, GPtrArray *cycles, double duration_s,
            GError **error)
{
    guint failures = 0;
    for (guint i = 0; i < cycles->len; i++) {
        failures += cycle_failed(cycles->pdata[i]);
    }
    g_autoptr(GString) x = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_string_append_printf(x, "<testsuites>\n<testsuite name=\"plugpull.vm\" "
                           "tests=\"%u\" failures=\"%u\" errors=\"0\" "
                           "time=\"%.3f\">\n", cycles->len, failures,
                           duration_s);
    for (guint i = 0; i < cycles->len; i++) {
        const Cycle *c = cycles->pdata[i];
        g_autofree char *tc = g_markup_printf_escaped(
            "  <testcase classname=\"plugpull.vm.random-time\" name=\"%s\" "
            "time=\"%.3f\"", c->id, c->seconds);
        g_string_append(x, tc);
        if (!cycle_failed(c)) {
            g_string_append(x, "/>\n");
            continue;
        }
        g_autofree char *f = g_markup_printf_escaped(
            ">\n    <failure type=\"%s\" message=\"%s: %s\">cut at %.3f s of "
            "%.3f s; serial logs in cases/%s/</failure>\n  </testcase>\n",
            c->outcome, c->outcome, c->reason, c->cut_offset_s, c->window_s,
            c->id);
        g_string_append(x, f);
    }
    g_string_append(x, "</testsuite>\n</testsuites>\n");
    g_autofree char *path = g_build_filename(dir, "junit.xml", NULL);
    if (!g_file_set_contents(path, x->str, (gssize)x->len, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

static gboolean
write_summary(const RunEnv *env, GPtrArray *cycles, guint64 seed,
              guint iterations, double window_s, double duration_s,
              const char *started, gboolean interrupted, GError **error)
{
    guint counts[PP_N_OUTCOMES] = { 0 };
    double cycle_s = 0, verdict_s = 0;
    guint64 bytes = 0;
    guint failed = 0;
    for (guint i = 0; i < cycles->len; i++) {
        const Cycle *c = cycles->pdata[i];
        pp_outcome_count(counts, c->outcome);
        failed += cycle_failed(c);
        cycle_s += c->seconds;
        verdict_s += c->boot_to_verdict_s;
        bytes += c->resume_bytes;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tier");
    json_builder_add_string_value(b, "vm");
    json_builder_set_member_name(b, "bootloader");
    json_builder_add_string_value(b, "u-boot");
    json_builder_set_member_name(b, "scenario");
    json_builder_add_string_value(b, "default");
    json_builder_set_member_name(b, "cut");
    json_builder_add_string_value(b, "random-time");
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64)seed);
    json_builder_set_member_name(b, "image");
    json_builder_add_string_value(b, env->image_dir);
    json_builder_set_member_name(b, "from_commit");
    json_builder_add_string_value(b, env->from);
    json_builder_set_member_name(b, "to_commit");
    json_builder_add_string_value(b, env->to);
    json_builder_set_member_name(b, "started");
    json_builder_add_string_value(b, started);
    json_builder_set_member_name(b, "iterations");
    json_builder_add_int_value(b, iterations);
    json_builder_set_member_name(b, "cycles");
    json_builder_add_int_value(b, cycles->len);
    json_builder_set_member_name(b, "passed");
    json_builder_add_int_value(b, cycles->len - failed);
    json_builder_set_member_name(b, "failed");
    json_builder_add_int_value(b, failed);
    json_builder_set_member_name(b, "interrupted");
    json_builder_add_boolean_value(b, interrupted);
    pp_json_add_outcomes(b, counts);
    json_builder_set_member_name(b, "window_s");
    json_builder_add_double_value(b, window_s);
    json_builder_set_member_name(b, "duration_s");
    json_builder_add_double_value(b, duration_s);
    /* Cycles per hour of cycle time: the image build and the calibration
       are paid once per campaign, not per cycle. */
    json_builder_set_member_name(b, "cycles_per_hour");
    json_builder_add_double_value(b, cycle_s > 0 ? cycles->len * 3600.0 / cycle_s
                                  : 0.0);
    json_builder_set_member_name(b, "mean_cycle_s");
    json_builder_add_double_value(b, cycles->len ? cycle_s / cycles->len : 0.0);
    json_builder_set_member_name(b, "mean_boot_to_verdict_s");
    json_builder_add_double_value(b, cycles->len ? verdict_s / cycles->len
                                  : 0.0);
    json_builder_set_member_name(b, "resume_bytes_total");
    json_builder_add_int_value(b, (gint64)bytes);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(env->out_dir, "summary.json", NULL);
    return pp_write_json(path, root, error);
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
load_manifest(RunEnv *env, GError **error)
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
prepare_srv(RunEnv *env, char **out_root, GError **error)
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

int
pp_cmd_run(int argc, char **argv)
{
    gint iterations = 3;
    gint64 seed = -1;
    gdouble window = 0;
    gint boot_timeout = 60;
    g_autofree char *out_dir = NULL;
    g_autofree char *image_dir = NULL;
    g_autofree char *bios = NULL;
    g_autofree char *sabotage = NULL;
    gboolean no_build = FALSE;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
          "results directory (created)", "DIR" },
        { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations,
          "power-cut cycles (default 3)", "N" },
        { "seed", 's', 0, G_OPTION_ARG_INT64, &seed,
          "seed of the cut times (default: from the clock, printed)", "S" },
        { "image", 0, 0, G_OPTION_ARG_FILENAME, &image_dir,
          "device image directory (built or reused; default: image beside "
          "the plugpull binary)", "DIR" },
        { "no-build", 0, 0, G_OPTION_ARG_NONE, &no_build,
          "use --image as it is, do not run image build", NULL },
        { "window", 0, 0, G_OPTION_ARG_DOUBLE, &window,
          "update window in seconds (default: measured by one uncut update)",
          "SECONDS" },
        { "boot-timeout", 0, 0, G_OPTION_ARG_INT, &boot_timeout,
          "seconds from power-on to the agent line before `brick` (default 60)",
          "S" },
        { "bios", 0, 0, G_OPTION_ARG_FILENAME, &bios,
          "firmware (default " PP_RUN_DEFAULT_ROM ")", "ROM" },
        { "sabotage", 0, 0, G_OPTION_ARG_STRING, &sabotage,
          "test hook: empty-kernel (empty the kernel uEnv.txt names, after "
          "the cut)", "WHAT" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- power-cut cycles on a QEMU device (VM tier)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Each cycle boots v1 through U-Boot, starts `ostree admin upgrade` to "
        "v2, cuts the power\n(SIGKILL of QEMU) at a seeded random time in the "
        "update window, boots again and judges,\nresumes the update and boots "
        "v2.  Writes DIR/summary.json, DIR/cases/<id>.json (+ serial\nlogs), "
        "DIR/junit.xml.\n"
        "Exit status: 0 all pass, 1 a cycle failed, 2 usage error or missing "
        "package,\n3 harness failure, 130 interrupted.");
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
    if (iterations < 1 || iterations > 100000) {
        g_printerr("plugpull: run: --iterations %d: not in 1..100000\n",
                   iterations);
        return PP_EXIT_USAGE;
    }
    if (boot_timeout < 5 || boot_timeout > 3600) {
        g_printerr("plugpull: run: --boot-timeout %d: not in 5..3600\n",
                   boot_timeout);
        return PP_EXIT_USAGE;
    }
    if (window < 0) {
        g_printerr("plugpull: run: --window %g: negative\n", window);
        return PP_EXIT_USAGE;
    }
    if (sabotage != NULL && !g_str_equal(sabotage, "empty-kernel")) {
        g_printerr("plugpull: run: --sabotage %s: unknown (empty-kernel)\n",
                   sabotage);
        return PP_EXIT_USAGE;
    }
    if (seed < 0) {
        seed = g_get_real_time() % 1000000;
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

    g_auto(RunEnv) env = { 0 };
    env.out_dir = g_canonicalize_filename(out_dir, NULL);
    env.image_dir = image_dir != NULL ? g_canonicalize_filename(image_dir, NULL)
                                      : default_image_dir();
    env.bios = g_strdup(bios);
    env.boot_timeout_s = (guint)boot_timeout;
    env.cmd_timeout_s = 300;
    env.sabotage = g_strdup(sabotage);
    env.work_dir = g_build_filename(env.out_dir, "work", NULL);
    g_autofree char *cases_dir = g_build_filename(env.out_dir, "cases", NULL);
    if (!pp_mkdir_p(env.work_dir, &error) || !pp_mkdir_p(cases_dir, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_HARNESS;
    }

    /* Ctrl-C ends the campaign between two reads of the console; the
       cycle in flight is dropped, finished ones are written. */
    struct sigaction sa = { .sa_handler = on_interrupt };
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *started = g_date_time_format_iso8601(now);
    if (!no_build) {
        g_printerr("run: image %s (build or reuse)\n", env.image_dir);
        int st = build_image(env.image_dir, &error);
        if (st < 0) {
            pp_print_error("run: image build", error);
            return run_interrupted ? 130 : PP_EXIT_HARNESS;
        }
        if (run_interrupted) {
            return 130;
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
    g_autofree char *srv_root = NULL;
    if (!prepare_srv(&env, &srv_root, &error)) {
        pp_print_error("run: preparing the stand-in's repo", error);
        return PP_EXIT_HARNESS;
    }
    g_autofree char *server_log = g_build_filename(env.out_dir, "server.log",
                                                   NULL);
    PpHttpdOptions hopts = { .log_path = server_log };
    env.httpd = pp_httpd_start_full(srv_root, 0, &hopts, &error);
    if (env.httpd == NULL) {
        pp_print_error("run: starting the stand-in", error);
        return PP_EXIT_HARNESS;
    }
    env.port = pp_httpd_get_port(env.httpd);
    g_printerr("run: stand-in %s (guest: http://10.0.2.2:%u/repo), seed %"
               G_GINT64_FORMAT "\n", pp_httpd_get_url(env.httpd), env.port, seed);

    int rc = PP_EXIT_OK;
    if (window == 0) {
        g_autoptr(Cycle) cal = g_new0(Cycle, 1);
        cal->id = g_strdup("calibrate");
        cal->boots = json_builder_new();
        json_builder_begin_array(cal->boots);
        cal->notes = g_string_new(NULL);
        if (!run_cycle(&env, cal, &window, &error)) {
            if (run_interrupted) {
                g_printerr("\nplugpull: run: interrupted\n");
                return 130;
            }
            pp_print_error("run: measuring the update window", error);
            return PP_EXIT_HARNESS;
        }
        g_printerr("run: update window %.2f s (one uncut v1 -> v2 update)\n",
                   window);
    }

    g_autoptr(GPtrArray) cycles = g_ptr_array_new_with_free_func(
        (GDestroyNotify)cycle_free);
    gboolean tty = isatty(STDERR_FILENO);
    for (gint i = 0; i < iterations && !run_interrupted; i++) {
        Cycle *c = g_new0(Cycle, 1);
        c->index = (guint)i;
        c->id = g_strdup_printf("vm-c%04d-s%" G_GINT64_FORMAT, i, seed);
        c->window_s = window;
        /* Each cycle's draw depends on (seed, cycle) only: cycle i of a
           campaign is reproducible without running the ones before it. */
        guint32 words[3] = { (guint32)seed, (guint32)((guint64)seed >> 32),
                             (guint32)i };
        GRand *r = g_rand_new_with_seed_array(words, 3);
        c->cut_offset_s = g_rand_double_range(r, 0.0, window);
        g_rand_free(r);
        c->boots = json_builder_new();
        json_builder_begin_array(c->boots);
        c->notes = g_string_new(NULL);
        c->outcome = g_strdup("pass");
        g_printerr("%s[%d/%d] %s: cut at %.2f s of %.2f s ...%s",
                   tty ? "\r" : "", i + 1, iterations, c->id, c->cut_offset_s,
                   window, tty ? "" : "\n");
        g_clear_error(&error);
        if (!run_cycle(&env, c, NULL, &error)) {
            if (run_interrupted) {
                /* The cycle in flight is dropped: its disk goes, its
                   serial logs stay (they show where it was). */
                g_autofree char *disk = g_strdup_printf("%s/%s.img",
                                                        env.work_dir, c->id);
                (void)unlink(disk);
                cycle_free(c);
                break;
            }
            cycle_free(c);
            pp_print_error("run", error);
            rc = PP_EXIT_HARNESS;
            break;
        }
        g_autoptr(JsonNode) node = cycle_to_json(&env, c, (guint64)seed);
        g_autofree char *path = g_strdup_printf("%s/%s.json", cases_dir, c->id);
        if (!pp_write_json(path, node, &error)) {
            pp_print_error("run", error);
            cycle_free(c);
            rc = PP_EXIT_HARNESS;
            break;
        }
        g_printerr("%s[%d/%d] %s: %s (%s) %.1f s, boot-to-verdict %.1f s, "
                   "resume %" G_GUINT64_FORMAT " bytes\n", tty ? "\r" : "",
                   i + 1, iterations, c->id, c->outcome, c->reason, c->seconds,
                   c->boot_to_verdict_s, c->resume_bytes);
        g_ptr_array_add(cycles, c);
    }
    if (run_interrupted) {
        g_printerr("\nplugpull: run: interrupted after %u finished cycle(s); "
                   "QEMU stopped\n", cycles->len);
    }
    double duration = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    g_clear_error(&error);
    if (!write_summary(&env, cycles, (guint64)seed, (guint)iterations, window,
                       duration, started, run_interrupted, &error)
        || !write_junit(env.out_dir, cycles, duration, &error)) {
        pp_print_error("run", error);
        return PP_EXIT_HARNESS;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (run_interrupted) {
        return 130;
    }
    if (rc != PP_EXIT_OK) {
        return rc;
    }
    for (guint i = 0; i < cycles->len; i++) {
        if (cycle_failed(cycles->pdata[i])) {
            return PP_EXIT_FAILURES;
        }
    }
    return PP_EXIT_OK;
}
