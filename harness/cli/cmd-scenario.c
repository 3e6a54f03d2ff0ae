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

static gboolean
scenario_doc(int argc, char **argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Print the reference of every "
                                 "scenario key (Markdown, as in "
                                 "scenarios/README.md).");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "unexpected argument '%s'", argv[1]);
    }
    g_autofree char *ref = pp_scenario_reference();
    fputs(ref, stdout);
    return TRUE;
}

static gboolean
scenario_check(int argc, char **argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE...");
    g_option_context_set_summary(ctx, "Check scenario files and "
                                 "known-findings files: every problem of "
                                 "every file, as FILE:LINE: lines.\nExit "
                                 "status: 0 all good, 2 a file has a "
                                 "problem.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc < 2) {
        return pp_throw_code(error, PP_ERROR_USAGE, "needs a FILE to check");
    }
    /* Every file is checked and each bad one's problems printed as
     * file:line: lines (editors and the README's example read them):
     * the error itself has nothing to add, so its message is empty. */
    int n_bad = 0;
    for (int i = 1; i < argc; i++) {
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

static const PpSubcommand scenario_subcommands[] = {
    { "check", scenario_check, "FILE...",
      "check scenario files and known-findings files" },
    { "doc", scenario_doc, "", "print the reference of every scenario key" },
    { NULL, NULL, NULL, NULL },
};

gboolean
pp_cmd_scenario(int argc, char **argv, GError **error)
{
    return pp_run_subcommand("scenario", scenario_subcommands, argc, argv,
                             error);
}
