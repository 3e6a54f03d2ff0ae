/* SPDX-License-Identifier: MIT */
/*
 * vm-verdict.c: see vm-verdict.h.
 */
#include "vm/vm-verdict.h"

#include <stdlib.h>
#include <string.h>

#include "vm/vm-boot.h"

/* Between the two outputs when the command prints them. */
#define FSCK_OUTPUT_LINE "PLUGPULL-FSCK-OUTPUT"

char *
pp_fsck_command(const char *repo)
{
    return g_strdup_printf(
        "if [ -x " PP_GUEST_FSCK " ] && [ -r " PP_GUEST_BASELINE " ]; "
        "then " PP_GUEST_FSCK " %s " PP_GUEST_BASELINE "; "
        "else ostree fsck --repo=%s; fi", repo, repo);
}

char *
pp_verdict_command(const char *repo)
{
    g_autofree char *fsck = pp_fsck_command(repo);
    /* Each check writes its output to a file (the console must not
       interleave them) and says its rc on the console the moment it ends,
       so that a check that hangs is told from one that ended; then both
       outputs are printed, status first. */
    return g_strdup_printf(
        "(ostree admin status >/tmp/pp-status.out 2>&1; "
        "echo \"" PP_STATUS_LINE "$?\") & "
        "(%s >/tmp/pp-fsck.out 2>&1; "
        "echo \"" PP_FSCK_LINE "$?\") & wait; "
        "cat /tmp/pp-status.out; echo " FSCK_OUTPUT_LINE "; "
        "cat /tmp/pp-fsck.out", fsck);
}

/* The rc after prefix in text, or -1 when the line is missing. */
static int
rc_after(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    return p != NULL ? atoi(p + strlen(prefix)) : -1;
}

void
pp_verdict_parse(const char *text, int *out_status_rc, int *out_fsck_rc,
                 GString *status_out, GString *fsck_out)
{
    *out_status_rc = rc_after(text, PP_STATUS_LINE);
    *out_fsck_rc = rc_after(text, PP_FSCK_LINE);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GString *dest = status_out;
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];
        if (strstr(l, FSCK_OUTPUT_LINE) != NULL) {
            dest = fsck_out;
        } else if (strstr(l, PP_STATUS_LINE) == NULL
                   && strstr(l, PP_FSCK_LINE) == NULL && *l != '\0') {
            g_string_append_printf(dest, "%s\n", l);
        }
    }
}

gboolean
pp_verdict_run(PpVm *vm, const char *repo, double timeout_s,
               int *out_status_rc, int *out_fsck_rc, GString *status_out,
               GString *fsck_out, GError **error)
{
    g_autofree char *cmd = pp_verdict_command(repo);
    g_autoptr(GString) t = g_string_new(NULL);
    int rc = 0;
    if (!pp_agent_run(vm, cmd, timeout_s, &rc, t, error)) {
        return FALSE;
    }
    pp_verdict_parse(t->str, out_status_rc, out_fsck_rc, status_out,
                     fsck_out);
    return TRUE;
}
