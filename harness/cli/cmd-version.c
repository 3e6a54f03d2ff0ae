/* SPDX-License-Identifier: MIT */
/*
 * cmd-version.c: plugpull version (also plugpull --version).
 */
#include "plugpull.h"
#include "common/version.h"

gboolean
pp_cmd_version(int argc, char **argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Print \"plugpull VERSION\": git "
                                 "describe of the source at build time, or "
                                 "the VERSION file of a release tarball.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "unexpected argument '%s'", argv[1]);
    }
    g_print("plugpull %s\n", pp_version());
    return TRUE;
}
