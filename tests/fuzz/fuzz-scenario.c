/* SPDX-License-Identifier: MIT */
/*
 * fuzz-scenario.c: libFuzzer target for the scenario parser
 * (harness/common/scenario.c, pp_scenario_load_data).
 *
 * The input, NUL-terminated, is a scenario file.  It must parse or give an
 * error with a message, never crash.  The same bytes are also fed to the
 * small value parsers (points, resume) that the CLI calls directly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "common/scenario.h"

static void
quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
          gpointer data)
{
    (void)domain;
    (void)level;
    (void)msg;
    (void)data;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_log_set_default_handler(quiet_log, NULL);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    g_autoptr(GError) error = NULL;
    g_autoptr(PpScenario) s = pp_scenario_load_data(text, "fuzz", &error);
    if (s == NULL) {
        if (error == NULL || error->message == NULL)
            abort();
    } else {
        if (s->name == NULL || s->path == NULL || s->bootloader == NULL
            || s->ostree == NULL)
            abort();
        /* points round-trips through its string form. */
        g_autofree char *pts = pp_points_to_string(s->points, s->sample);
        PpPointsKind k2;
        guint n2 = 0;
        if (!pp_points_parse(pts, &k2, &n2, NULL) || k2 != s->points
            || n2 != s->sample)
            abort();
        (void)pp_action_to_string(s->action);
        for (char **p = s->repo_config; p != NULL && *p != NULL; p++)
            (void)strlen(*p);
    }

    PpPointsKind kind;
    PpResumeKind rkind;
    guint n = 0;
    g_autoptr(GError) e2 = NULL;
    if (pp_points_parse(text, &kind, &n, &e2)) {
        /* The string form is canonical ("barriers:01" is written
           "barriers:1"): it must parse back to the same value, and be
           its own string form. */
        g_autofree char *back = pp_points_to_string(kind, n);
        PpPointsKind k3;
        guint n3 = 0;
        if (!pp_points_parse(back, &k3, &n3, NULL) || k3 != kind || n3 != n)
            abort();
        g_autofree char *again = pp_points_to_string(k3, n3);
        if (!g_str_equal(back, again))
            abort();
    }
    g_clear_error(&e2);
    (void)pp_resume_parse(text, &rkind, &n, &e2);
    return 0;
}
