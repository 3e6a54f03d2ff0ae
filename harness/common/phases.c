/* SPDX-License-Identifier: MIT */
/*
 * phases.c: see phases.h.
 */
#include "common/phases.h"

#include <string.h>

static const char *const phase_names[PP_PHASE_COUNT] = {
    "pull", "deploy", "bootloader", "cleanup",
};

const char *
pp_phase_name(PpPhase p)
{
    return p < PP_PHASE_COUNT ? phase_names[p] : "?";
}

gboolean
pp_phase_from_name(const char *name, PpPhase *out)
{
    for (guint p = 0; p < PP_PHASE_COUNT; p++) {
        if (g_strcmp0(name, phase_names[p]) == 0) {
            *out = (PpPhase)p;
            return TRUE;
        }
    }
    return FALSE;
}

void
pp_phases_clear(PpPhases *p)
{
    g_clear_pointer(&p->phase, g_free);
    p->n = 0;
}

void
pp_phases_from_bounds(PpPhases *out, guint n, gint deploy_from,
                      gint bootloader_from, gint commit)
{
    out->n = n;
    out->phase = g_new0(PpPhase, n + 1);
    out->commit_point = commit;
    for (guint i = 0; i <= n; i++) {
        PpPhase ph = PP_PHASE_PULL;
        if (commit >= 0 && (gint)i > commit) {
            ph = PP_PHASE_CLEANUP;
        } else if (bootloader_from >= 0 && (gint)i >= bootloader_from) {
            ph = PP_PHASE_BOOTLOADER;
        } else if (deploy_from >= 0 && (gint)i >= deploy_from) {
            ph = PP_PHASE_DEPLOY;
        }
        out->phase[i] = ph;
    }
}

/* path relative to the first of roots it is under, or NULL. */
static const char *
rel(const char *path, const char *const *roots)
{
    for (guint i = 0; path != NULL && roots[i] != NULL; i++) {
        gsize rootlen = strlen(roots[i]);
        if (strncmp(path, roots[i], rootlen) != 0) {
            continue;
        }
        if (path[rootlen] == '/') {
            return path + rootlen + 1;
        }
        if (path[rootlen] == '\0') {
            return "";
        }
    }
    return NULL;
}

static gboolean
is_deploy_path(const char *r)
{
    /* ostree/deploy/<os>/deploy/... but not the stateroot's var. */
    if (r == NULL || !g_str_has_prefix(r, "ostree/deploy/")) {
        return FALSE;
    }
    const char *os_end = strchr(r + strlen("ostree/deploy/"), '/');
    return os_end != NULL && g_str_has_prefix(os_end, "/deploy/");
}

static gboolean
is_boot_path(const char *r)
{
    return r != NULL && (g_str_has_prefix(r, "boot/loader.")
                         || g_str_has_prefix(r, "ostree/boot."));
}

void
pp_phases_classify(CfiTrace *trace, const char *root, PpPhases *out)
{
    const char *roots[] = { root, NULL };
    pp_phases_classify_roots(trace, roots, out);
}

void
pp_phases_classify_roots(CfiTrace *trace, const char *const *roots,
                         PpPhases *out)
{
    guint n = cfi_trace_n_records(trace);
    gint first_deploy = -1, first_boot = -1, commit = -1;
    gboolean loader_commit = FALSE;

    for (guint i = 0; i < n; i++) {
        const CfiRecord *r = cfi_trace_get(trace, i);
        const char *p1 = rel(r->path, roots);
        const char *p2 = rel(r->path2, roots);
        if (r->rec->result < 0) {
            continue;
        }
        if (first_deploy < 0 && (is_deploy_path(p1) || is_deploy_path(p2))) {
            first_deploy = (gint)i;
        }
        if (first_deploy >= 0 && first_boot < 0
            && (is_boot_path(p1) || is_boot_path(p2))) {
            first_boot = (gint)i;
        }
        if (r->rec->op == CFI_OP_RENAME && p2 != NULL) {
            if (g_str_equal(p2, "boot/loader")) {
                commit = (gint)i;
                loader_commit = TRUE;
            } else if (!loader_commit && g_str_has_prefix(p2, "ostree/boot.")
                       && strchr(p2 + strlen("ostree/boot."), '.') == NULL
                       && strchr(p2 + strlen("ostree/boot."), '/') == NULL) {
                commit = (gint)i;
            }
        }
    }
    out->n = n;
    out->phase = g_new0(PpPhase, n + 1);
    out->commit_point = commit;
    out->bootconfig_swap = loader_commit;
    for (guint i = 0; i <= n; i++) {
        PpPhase ph = PP_PHASE_PULL;
        if (commit >= 0 && (gint)i > commit) {
            ph = PP_PHASE_CLEANUP;
        } else if (first_boot >= 0 && (gint)i >= first_boot) {
            ph = PP_PHASE_BOOTLOADER;
        } else if (first_deploy >= 0 && (gint)i >= first_deploy) {
            ph = PP_PHASE_DEPLOY;
        }
        out->phase[i] = ph;
    }
}

PpPhase
pp_phases_at(const PpPhases *p, guint k)
{
    return k <= p->n ? p->phase[k] : PP_PHASE_CLEANUP;
}
