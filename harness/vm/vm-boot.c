/* SPDX-License-Identifier: MIT */
/*
 * vm-boot.c: see vm-boot.h.
 */
#include "vm/vm-boot.h"

#include <stdlib.h>
#include <string.h>

gint64
pp_vm_deadline_in(double seconds)
{
    return g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
}

char *
pp_agent_line_field(const char *line, const char *key)
{
    g_autofree char *k = g_strconcat(" ", key, "=", NULL);
    const char *p = strstr(line, k);
    if (p == NULL) {
        return NULL;
    }
    p += strlen(k);
    return g_strndup(p, strcspn(p, " "));
}

/*
 * ": LINE", QEMU's last line on its stderr, or "": when QEMU ends at once
 * it says why there (a firmware it cannot load, a disk it cannot open).
 */
static char *
qemu_said(const char *qlog)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(qlog, &text, NULL, NULL)) {
        return g_strdup("");
    }
    g_strstrip(text);
    const char *nl = strrchr(text, '\n');
    const char *last = nl != NULL ? nl + 1 : text;
    return *last != '\0' ? g_strconcat(": ", last, NULL) : g_strdup("");
}

gboolean
pp_vm_boot(PpRunWorker *w, PpCycle *c, const char *case_dir,
           const char *name, const char *disk, PpVm **out_vm, char **out_line,
           PpBootEnd *out_end, char **out_reason, GError **error)
{
    const PpRunEnv *env = w->env;
    g_autofree char *serial = g_strdup_printf("%s/%s.serial", case_dir, name);
    g_autofree char *times = g_strdup_printf("%s/%s.serial.times", case_dir,
                                             name);
    g_autofree char *qlog = g_strdup_printf("%s/%s.qemu.log", case_dir, name);
    g_autofree char *sock = g_strdup_printf("%s/console-%s.sock",
                                            env->work_dir, c->id);
    PpVmConfig cfg = {
        .bios = env->bios,
        .disk = disk,
        /* disk-cache = volatile: boot A's requests, for the cut. */
        .write_log = c->logging ? c->write_log : NULL,
        .serial_log = serial,
        .serial_times = times,
        /* U-Boot's autoboot countdown skipped: the same boot, sooner. */
        .uboot_command = "run bootcmd",
        .qemu_log = qlog,
        .socket_path = sock,
        .net = TRUE,
        /* With two, boot B's status and fsck run at once (vm-verdict.h). */
        .cpus = env->vcpus,
        .interrupted = env->interrupted,
    };
    *out_vm = NULL;
    *out_line = NULL;
    *out_reason = NULL;
    *out_end = PP_BOOT_BRICK;
    g_autoptr(PpVm) vm = pp_vm_start(&cfg, error);
    if (vm == NULL) {
        g_autofree char *qlast = qemu_said(qlog);
        g_prefix_error(error, "%s: boot %s: ", c->id, name);
        if (*qlast != '\0') {
            g_autofree char *m = g_strconcat((*error)->message, qlast, NULL);
            g_free((*error)->message);
            (*error)->message = g_steal_pointer(&m);
        }
        return FALSE;
    }
    gint64 deadline = pp_vm_deadline_in(env->boot_timeout_s);
    g_autofree char *uboot_error = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *last = g_strdup("(nothing)");
    for (;;) {
        g_autoptr(GError) local = NULL;
        /* A line (or a partial one idle for a second) resets the silence
           clock: a boot that keeps talking is not hung. */
        gint64 silence = pp_vm_deadline_in(env->hang_timeout_s);
        g_autofree char *l = pp_vm_read_line(vm, MIN(deadline, silence),
                                             &local);
        if (l == NULL) {
            if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
            if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
                if (silence < deadline) {
                    *out_end = PP_BOOT_HANG;
                    reason = g_strdup_printf(
                        "console silent for %u s after '%.120s', QEMU "
                        "running", env->hang_timeout_s, last);
                } else {
                    reason = g_strdup_printf(
                        "no agent line within %u s, console still talking "
                        "(boot loop?); last line '%.120s'",
                        env->boot_timeout_s, last);
                }
            } else {
                pp_vm_wait_exit(vm, 2000);
                g_autofree char *how = pp_vm_describe_exit(vm);
                g_autofree char *qlast = qemu_said(qlog);
                reason = g_strdup_printf("QEMU %s before the agent line (%s)%s",
                                         how, local->message, qlast);
            }
            break;
        }
        if (*l != '\0') {
            g_free(last);
            last = g_strdup(l);
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
        *out_end = PP_BOOT_OK;
        *out_vm = g_steal_pointer(&vm);
        *out_line = g_steal_pointer(&line);
    } else {
        *out_reason = g_steal_pointer(&reason);
    }
    return TRUE;
}

void
pp_agent_append_output(GString *dest, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (*lines[i] != '\0'
            && strstr(lines[i], "PLUGPULL-AGENT ready") == NULL) {
            g_string_append_printf(dest, "%s\n", lines[i]);
        }
    }
}

gboolean
pp_agent_run(PpVm *vm, const char *cmd, double timeout_s, int *out_rc,
             GString *output, GError **error)
{
    if (!pp_vm_send_line(vm, cmd, error)) {
        return FALSE;
    }
    const char *needles[] = { PP_AGENT_DONE, NULL };
    g_autoptr(GString) t = g_string_new(NULL);
    g_autoptr(GError) local = NULL;
    g_autofree char *line = pp_vm_wait_for(vm, needles, pp_vm_deadline_in(timeout_s),
                                           NULL, t, &local);
    if (output != NULL) {
        pp_agent_append_output(output, t->str);
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

gboolean
pp_agent_prepare_update(PpRunWorker *w, PpVm *vm, gboolean *out_ok,
                        GString *output, GError **error)
{
    /* The first interface that is not lo: eth0 on the built-in image,
       what udev named it (enp0s2...) on a firmware with systemd, once
       udev has: it renames eth0 up to 25 s after the agent starts (TCG,
       a loaded machine), and an `ip link set` racing the rename fails.
       Waited for here, not at boot: the verdict after a cut (status,
       fsck) needs no network. */
    g_autofree char *set_url = g_strdup_printf(
        "if command -v udevadm >/dev/null; then udevadm settle "
        "--timeout=120; fi; "
        "dev=$(ls /sys/class/net | grep -vx lo | head -n 1) && "
        "ip link set \"$dev\" up && ip addr add 10.0.2.15/24 dev \"$dev\" && "
        "ip route add default via 10.0.2.2 && "
        "ostree --repo=" PP_GUEST_REPO " config set 'remote \"origin\".url' "
        "http://10.0.2.2:%u/repo", w->port);
    /* The scenario's repo config, set before every update (the one
       before a cut may not have reached the disk). */
    g_autoptr(GString) cmd = g_string_new(set_url);
    for (char **kv = w->env->repo_config; kv != NULL && *kv != NULL; kv++) {
        g_autofree char *key = g_strndup(*kv, strcspn(*kv, "="));
        const char *val = strchr(*kv, '=') != NULL ? strchr(*kv, '=') + 1 : "";
        g_autofree char *qk = g_shell_quote(key);
        g_autofree char *qv = g_shell_quote(val);
        g_string_append_printf(cmd, " && ostree --repo=" PP_GUEST_REPO
                               " config set %s %s", qk, qv);
    }
    int rc = 0;
    if (!pp_agent_run(vm, cmd->str, w->env->cmd_timeout_s, &rc, output, error)) {
        return FALSE;
    }
    *out_ok = rc == 0;
    return TRUE;
}

char *
pp_agent_update_command(const char *config)
{
    g_autofree char *pre = config == NULL ? g_strdup("")
        : g_strdup_printf("CFAULTINJECT='%s' LD_PRELOAD=" PP_GUEST_SHIM " ",
                          config);
    return g_strdup_printf("read up _ </proc/uptime; echo " PP_T0_LINE "$up; "
                           "%sostree admin upgrade 7>/dev/console", pre);
}
