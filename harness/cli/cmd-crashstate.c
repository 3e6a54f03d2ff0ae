/* SPDX-License-Identifier: MIT */
/*
 * cmd-crashstate.c: plugpull crashstate: write the state a power cut at
 * call k leaves under a model, for a person to look at or a test to check.
 */
#include <stdio.h>
#include <string.h>

#include "crashstate.h"
#include "plugpull.h"
#include "trace-reader.h"

gboolean
pp_cmd_crashstate(int argc, char **argv, GError **error)
{
    g_autofree char *trace_path = NULL;
    g_autofree char *root = NULL;
    g_autofree char *snapshot = NULL;
    g_autofree char *model_name = NULL;
    g_autofree char *name = NULL;
    g_autofree char *out = NULL;
    gint64 k = -1;
    gint64 seed = 0;
    GOptionEntry entries[] = {
        { "trace", 't', 0, G_OPTION_ARG_FILENAME, &trace_path,
          "the trace", "TRACE" },
        { "name", 0, 0, G_OPTION_ARG_STRING, &name,
          "a crash state's name TRACE@K:MODEL:SEED (instead of the next "
          "three)", "NAME" },
        { "k", 'k', 0, G_OPTION_ARG_INT64, &k,
          "the cut: calls 0..K-1 completed, call K did not", "K" },
        { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name,
          "process-kill, ordered (default), strict, torn or reorder", "M" },
        { "seed", 's', 0, G_OPTION_ARG_INT64, &seed,
          "seed of the torn and reorder models (default 0)", "N" },
        { "root", 0, 0, G_OPTION_ARG_FILENAME, &root,
          "the directory the traced run worked in", "DIR" },
        { "snapshot", 0, 0, G_OPTION_ARG_FILENAME, &snapshot,
          "a copy of that directory taken before the run", "DIR" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "where to write the state (missing or empty)", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Materialise the crash state "
                                 "(trace, k, model, seed).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    CfiModel model = CFI_MODEL_ORDERED;
    guint kk = 0;
    guint64 sd = (guint64)seed;
    if (name != NULL) {
        g_autofree char *named_trace = NULL;
        if (!cfi_crashstate_parse_name(name, &named_trace, &kk, &model, &sd,
                                       error)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        if (trace_path == NULL) {
            trace_path = g_steal_pointer(&named_trace);
        }
    } else {
        if (k < 0 || k > G_MAXUINT) {
            return pp_throw_code(error, PP_ERROR_USAGE,
                                 "needs --k K (0 or more) or "
                                 "--name");
        }
        kk = (guint)k;
        if (model_name != NULL
            && !cfi_model_from_string(model_name, &model, error)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
    }
    if (trace_path == NULL || root == NULL || snapshot == NULL || out == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs --trace, --root, --snapshot "
                             "and --out");
    }
    g_autoptr(CfiTrace) trace = cfi_trace_open(trace_path, error);
    if (trace == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (kk > cfi_trace_n_records(trace)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "k=%u is past the trace's %u "
                             "records", kk, cfi_trace_n_records(trace));
    }
    CfiCrashStats st;
    if (!cfi_crashstate_materialise(trace, root, snapshot, kk, model, sd, out,
                                    &st, error)) {
        return FALSE;
    }
    g_autofree char *state = cfi_crashstate_name(trace_path, kk, model, sd);
    g_print("%s -> %s: %u operations before the cut, %u persisted, %u "
            "dropped, %u skipped, %u torn write(s)\n", state, out,
            st.ops_total, st.ops_persisted, st.ops_dropped, st.ops_skipped,
            st.writes_torn);
    return TRUE;
}
