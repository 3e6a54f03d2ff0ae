/* SPDX-License-Identifier: MIT */
/*
 * cmd-report.c: plugpull report DIR: the HTML report of a sim run or of a
 * VM run (plugpull run): the page tells the tiers apart by "tier".
 *
 * The page itself is written by reports/report.py (python3, standard
 * library only: string work and SVG are easier to read there than in C).
 * This command checks DIR, finds the script, runs it and maps its exit
 * status onto plugpull's (0 written, 2 DIR is not a result directory, 3
 * anything else).  pp_reports_run() is shared with plugpull compare, which
 * renders its page the same way.
 *
 * Where the scripts are: $PLUGPULL_REPORTS, else ../reports next to the
 * plugpull binary (build/plugpull -> reports/).
 */
#include <string.h>

#include <gio/gio.h>

#include "plugpull.h"
#include "common/util.h"

static char *
reports_dir(GError **error)
{
    return pp_data_dir("PLUGPULL_REPORTS", "reports", error);
}

gboolean
pp_reports_run(const char *script, const char *const *args, int *out_status,
               GError **error)
{
    g_autofree char *dir = reports_dir(error);
    if (dir == NULL) {
        return FALSE;
    }
    g_autofree char *path = g_build_filename(dir, script, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "report generator %s not found (set PLUGPULL_REPORTS to "
                    "the reports/ directory)", path);
        return FALSE;
    }
    g_autofree char *python = g_find_program_in_path("python3");
    if (python == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "python3 not found in PATH (needed by %s)", path);
        return FALSE;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, python);
    g_ptr_array_add(argv, path);
    for (const char *const *a = args; *a != NULL; a++) {
        g_ptr_array_add(argv, (gpointer)*a);
    }
    g_ptr_array_add(argv, NULL);
    /* stdout and stderr are inherited: the script's messages are ours. */
    return pp_spawn_wait((const char *const *)argv->pdata,
                         G_SUBPROCESS_FLAGS_NONE, out_status, error);
}

gboolean
pp_cmd_report(int argc, char **argv, GError **error)
{
    g_autofree char *out = NULL;
    GOptionEntry entries[] = {
        { "out", 0, 0, G_OPTION_ARG_FILENAME, &out,
          "write the page here instead of DIR/report.html", "FILE" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("DIR");
    g_option_context_set_summary(ctx, "Write DIR/report.html, a self-contained "
                                 "page on the sim or VM run whose results "
                                 "are in DIR.\nExit status: 0 written, 2 "
                                 "usage or "
                                 "DIR is not a result directory, 3 harness "
                                 "failure.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs exactly one result DIR");
    }
    /* Checked here too, so the message does not depend on python3. */
    g_autofree char *summary = g_build_filename(argv[1], "summary.json", NULL);
    if (!g_file_test(summary, G_FILE_TEST_IS_REGULAR)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "%s: no summary.json (not a plugpull "
                             "result directory?)", argv[1]);
    }
    const char *args[] = { argv[1], out != NULL ? "--out" : NULL, out, NULL };
    int status = 0;
    if (!pp_reports_run("report.py", args, &status, error)) {
        return FALSE;
    }
    if (status == PP_EXIT_OK) {
        return TRUE;
    }
    if (status == PP_EXIT_USAGE) {
        /* report.py has said what is wrong with DIR. */
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "%s is not a result directory report.py can "
                             "read", argv[1]);
    }
    return pp_throw(error, "report.py exited %d", status);
}
