/* SPDX-License-Identifier: MIT */
/*
 * cmd-scenario.c: plugpull scenario check FILE... | doc
 */
#include <stdio.h>
#include <string.h>

#include "plugpull.h"
#include "common/scenario.h"
#include "oracle/known.h"
#include "sim/sim-fault.h"

gboolean
pp_cmd_scenario(int argc, char **argv, GError **error)
{
    if (argc >= 2 && strcmp(argv[1], "doc") == 0) {
        g_autofree char *ref = pp_scenario_reference();
        fputs(ref, stdout);
        return TRUE;
    }
    if (argc >= 3 && strcmp(argv[1], "check") == 0) {
        /* Every file is checked and each bad one's problems printed as
         * file:line: lines (editors and the README's example read them):
         * the error itself has nothing to add, so its message is empty. */
        int n_bad = 0;
        for (int i = 2; i < argc; i++) {
            g_autoptr(GError) local = NULL;
            /* A known-findings file among them is checked as one. */
            g_autofree char *data = NULL;
            if (g_file_get_contents(argv[i], &data, NULL, NULL)
                && pp_known_data_is_findings(data)) {
                g_autoptr(PpKnownList) k = pp_known_load_data(data, argv[i],
                                                              &local);
                if (k == NULL) {
                    g_printerr("%s\n", local->message);
                    n_bad++;
                } else {
                    g_print("%s: ok (%u known finding(s))\n", argv[i],
                            k->findings->len);
                }
                continue;
            }
            g_autoptr(PpScenario) s = pp_scenario_load_checked(argv[i], &local);
            if (s == NULL) {
                g_printerr("%s\n", local->message);
                n_bad++;
            } else {
                g_print("%s: ok (%s)\n", argv[i], s->name);
            }
        }
        if (n_bad > 0) {
            return pp_throw_code(error, PP_ERROR_USAGE, "%s", "");
        }
        return TRUE;
    }
    g_printerr("usage: plugpull scenario check FILE... (scenarios or "
               "known-findings files) | plugpull scenario doc\n");
    /* The usage is the message. */
    return pp_throw_code(error, PP_ERROR_USAGE, "%s", "");
}
