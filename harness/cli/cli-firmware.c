/* SPDX-License-Identifier: MIT */
/*
 * cli-firmware.c: see cli-firmware.h.
 */
#include "cli/cli-firmware.h"

#include "common/error.h"

gboolean
pp_cli_firmware_options(PpScenario *sc, const PpFirmwareOptions *o,
                        GError **error)
{
    if (o->repo != NULL) {
        g_free(sc->repo);
        sc->repo = g_canonicalize_filename(o->repo, NULL);
    }
    if ((o->from != NULL || o->to != NULL || o->os != NULL)
        && sc->repo == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--from, --to and --os "
                             "name revs of your firmware: they need --repo "
                             "PATH (or [firmware] repo)");
    }
    const char *given[] = { o->from, o->to, o->os };
    char **field[] = { &sc->from_rev, &sc->to_rev, &sc->os };
    for (guint i = 0; i < G_N_ELEMENTS(given); i++) {
        if (given[i] != NULL) {
            g_free(*field[i]);
            *field[i] = g_strdup(given[i]);
        }
    }
    if (!pp_scenario_firmware_ready(sc, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    return TRUE;
}

gboolean
pp_cli_fold_firmware_options(const PpScenario *sc, const PpFirmwareOptions *o,
                             char **text, GError **error)
{
    if (o->repo == NULL && o->from == NULL && o->to == NULL && o->os == NULL) {
        return TRUE;
    }
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (*text != NULL
        && !g_key_file_load_from_data(kf, *text, (gsize)-1,
                                      G_KEY_FILE_KEEP_COMMENTS, error)) {
        return FALSE;
    }
    g_key_file_set_string(kf, "firmware", "repo", sc->repo);
    g_key_file_set_string(kf, "firmware", "from", sc->from_rev);
    g_key_file_set_string(kf, "firmware", "to", sc->to_rev);
    if (sc->os != NULL) {
        g_key_file_set_string(kf, "firmware", "os", sc->os);
    }
    g_free(*text);
    *text = g_key_file_to_data(kf, NULL, error);
    return *text != NULL;
}
