/* SPDX-License-Identifier: MIT */
/*
 * cmd-trace.c: plugpull trace record | dump | summary.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "cfi-calls.h"
#include "common/client.h"
#include "plugpull.h"
#include "trace-reader.h"
#include "common/tracestats.h"

static gboolean
trace_record(int argc, char **argv, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *data = NULL;
    g_autofree char *extra = NULL;
    gboolean userns = FALSE;
    g_autofree char *firmware = NULL;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "trace file to write (must not exist)", "TRACE" },
        { "data", 0, 0, G_OPTION_ARG_STRING, &data,
          "keep written bytes: full (default), digest or none", "MODE" },
        { "config", 0, 0, G_OPTION_ARG_STRING, &extra,
          "more CFAULTINJECT entries, e.g. rules", "TEXT" },
        { "userns", 0, 0, G_OPTION_ARG_NONE, &userns,
          "run the command in a user namespace (unshare -r)", NULL },
        { "from-firmware", 0, 0, G_OPTION_ARG_FILENAME, &firmware,
          "run the command in the root of SYSROOT's booted deployment, as "
          "[client] from-firmware runs the device's own ostree (implies "
          "--userns)", "SYSROOT" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("-- COMMAND [ARGS...]");
    g_option_context_set_summary(ctx, "Run COMMAND under the cfaultinject "
                                 "shim in trace mode.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0) {
        first++;
    }
    if (out == NULL || first >= argc) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs --out TRACE and a command");
    }
    if (data != NULL && strcmp(data, "full") != 0 && strcmp(data, "digest") != 0
        && strcmp(data, "none") != 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--data must be full, digest or "
                             "none, not '%s'", data);
    }
    g_autofree char *abs = g_canonicalize_filename(out, NULL);
    if (g_file_test(abs, G_FILE_TEST_EXISTS)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "%s exists; traces are never "
                             "appended to", abs);
    }
    g_autofree char *config = g_strdup_printf(
        "mode=trace;trace=%s;data=%s%s%s", abs, data != NULL ? data : "full",
        extra != NULL ? ";" : "", extra != NULL ? extra : "");
    PpClientOpts opts = { .config = config,
                          .userns = userns || firmware != NULL,
                          .firmware = firmware };
    PpClientResult res;
    if (!pp_client_run(&opts, (const char *const *)argv + first, &res, error)) {
        return FALSE;
    }
    g_autoptr(CfiTrace) trace = cfi_trace_open(abs, error);
    if (trace == NULL) {
        return FALSE;
    }
    g_printerr("plugpull: %u records in %s\n", cfi_trace_n_records(trace), abs);
    /* The command's own status is what a caller wants to see. */
    if (res.term_signal != 0) {
        return pp_throw_code(error, (PpErrorCode)(128 + res.term_signal),
                             "%s killed by signal %d", argv[first],
                             res.term_signal);
    }
    if (res.exit_status != 0) {
        return pp_throw_code(error, (PpErrorCode)res.exit_status,
                             "%s exited with code %d", argv[first],
                             res.exit_status);
    }
    return TRUE;
}

static gboolean
trace_dump(int argc, char **argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
    g_option_context_set_summary(ctx, "Print every record of a trace, in "
                                 "sequence order.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE, "needs exactly one TRACE");
    }
    g_autoptr(CfiTrace) trace = cfi_trace_open(argv[1], error);
    if (trace == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    g_autoptr(GString) line = g_string_new(NULL);
    guint n_notes = cfi_trace_n_interposers(trace);
    for (guint i = 0; i < n_notes + cfi_trace_n_records(trace); i++) {
        /* Interposer notes first: they describe the calls that follow. */
        const CfiRecord *r = i < n_notes
                                 ? cfi_trace_get_interposer(trace, i)
                                 : cfi_trace_get(trace, i - n_notes);
        g_string_truncate(line, 0);
        cfi_trace_format_record(r, line);
        g_string_append_c(line, '\n');
        if (fwrite(line->str, 1, line->len, stdout) != line->len) {
            return pp_throw_errno_prefix(error, "write(stdout)");
        }
    }
    guint64 off;
    const char *reason;
    if (cfi_trace_is_truncated(trace, &off, &reason)) {
        g_printerr("plugpull: trace dump: %s: damaged tail at byte %" G_GUINT64_FORMAT
                   " (%s); the %u complete records before it are shown\n",
                   argv[1], off, reason, cfi_trace_n_records(trace));
    }
    return TRUE;
}

static gboolean
trace_summary(int argc, char **argv, GError **error)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Count a trace's calls and its crash "
                                 "points.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE, "needs exactly one TRACE");
    }
    g_autoptr(CfiTrace) trace = cfi_trace_open(argv[1], error);
    if (trace == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    PpTraceStats st;
    pp_trace_stats_compute(trace, NULL, &st);
    if (json) {
        g_autoptr(JsonNode) node = pp_trace_stats_to_json(trace, &st);
        g_autofree char *text = json_to_string(node, TRUE);
        g_print("%s\n", text);
    } else {
        pp_trace_stats_print(trace, &st, stdout);
    }
    return TRUE;
}

static const PpSubcommand trace_subcommands[] = {
    { "record", trace_record, "--out TRACE [OPTION...] -- COMMAND [ARGS...]",
      "run COMMAND under the shim and record its calls" },
    { "dump", trace_dump, "TRACE", "print every record of a trace" },
    { "summary", trace_summary, "[--json] TRACE",
      "count a trace's calls and its crash points" },
    { NULL, NULL, NULL, NULL },
};

gboolean
pp_cmd_trace(int argc, char **argv, GError **error)
{
    return pp_run_subcommand("trace", trace_subcommands, argc, argv, error);
}
