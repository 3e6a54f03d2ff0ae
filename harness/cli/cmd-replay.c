/* SPDX-License-Identifier: MIT */
/*
 * cmd-replay.c: plugpull replay CASE.json: build the same crash state again
 * from its name, judge it (and resume it, when the case was resumed) and
 * say whether the verdict is the one recorded.
 */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "sim/caseload.h"
#include "server/httpd.h"
#include "plugpull.h"
#include "sim/sim.h"
#include "common/fs.h"
#include "common/util.h"
#include "common/json.h"

/* "#42 fsync objects/ab" -> "fsync objects/ab": the call, not its index. */
static const char *
call_only(const char *call)
{
    const char *sp = call[0] == '#' ? strchr(call, ' ') : NULL;
    return sp != NULL ? sp + 1 : call;
}

/*
 * A repeated-cuts case: each cut replayed beside the one recorded.  The
 * resumes are run again, and the client is threaded: a resume's trace
 * may differ a little from the recorded one, so the call at a cut is
 * compared, not assumed.
 */
static void
print_cuts(JsonObject *recorded, const PpCase *pc)
{
    JsonNode *n = json_object_get_member(recorded, "cuts");
    JsonArray *rc = n != NULL && JSON_NODE_HOLDS_ARRAY(n)
        ? json_node_get_array(n) : NULL;
    guint nrec = rc != NULL ? json_array_get_length(rc) : 0;
    for (guint i = 0; i < pc->cuts->len; i++) {
        const PpCut *cut = pc->cuts->pdata[i];
        JsonObject *ro = i < nrec ? json_array_get_object_element(rc, i)
                                  : NULL;
        const char *rcall = ro != NULL
            ? json_object_get_string_member_with_default(ro, "call", "?")
            : NULL;
        const char *rout = ro != NULL
            ? json_object_get_string_member_with_default(ro, "outcome", "?")
            : NULL;
        g_print("  cut %u/%u [%s] %s: %s%s%s\n", i + 1, pc->repeat,
                pp_phase_name(cut->phase), cut->call,
                pp_outcome_to_string(cut->verdict),
                cut->note != NULL ? " -- " : "",
                cut->note != NULL ? cut->note : "");
        if (rcall == NULL) {
            g_print("      not in the recorded case\n");
        } else if (!g_str_equal(call_only(rcall), call_only(cut->call))
                   || !pp_outcome_is(rout, cut->verdict)) {
            g_print("      recorded: %s: %s (this run of the resume "
                    "differs there)\n", rcall, rout);
        }
    }
}

/*
 * A VM case: run its cycle again (`plugpull run ... --cycle I`, the same
 * draw) into out_dir and say whether the verdict is the recorded one.  A
 * random-time cut lands on the same time, not on the same instruction:
 * TCG timing varies, so its verdict may differ where a syscall cut's
 * should not.
 */
static gboolean
replay_vm(const char *case_path, JsonObject *c, const char *keep,
          GError **error)
{
    const char *recorded = json_object_get_string_member_with_default(
        c, "outcome", "?");
    const char *id = json_object_get_string_member_with_default(c, "id",
                                                                "case");
    JsonObject *rp = json_object_has_member(c, "replay")
        ? json_object_get_object_member(c, "replay") : NULL;
    JsonArray *a = rp != NULL && json_object_has_member(rp, "run_argv")
        ? json_object_get_array_member(rp, "run_argv") : NULL;
    if (a == NULL || json_array_get_length(a) == 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "%s: no replay.run_argv in the VM case",
                             case_path);
    }
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *case_dir = g_path_get_dirname(case_path);
    g_autofree char *default_out = g_strdup_printf("%s/../replay-%s",
                                                   case_dir, id);
    g_autofree char *out = g_canonicalize_filename(
        keep != NULL ? keep : default_out, NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, exe != NULL ? exe : (char *)"plugpull");
    for (guint i = 0; i < json_array_get_length(a); i++) {
        g_ptr_array_add(argv, (char *)json_array_get_string_element(a, i));
    }
    g_ptr_array_add(argv, (char *)"--out");
    g_ptr_array_add(argv, out);
    g_ptr_array_add(argv, NULL);
    g_printerr("replay: %s (recorded %s) into %s\n", id, recorded, out);
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        (const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_NONE, error);
    if (p == NULL || !g_subprocess_wait(p, NULL, error)) {
        return FALSE;
    }
    int st = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p)
                                           : 128 + g_subprocess_get_term_sig(p);
    if (st != PP_EXIT_OK && st != PP_EXIT_FAILURES) {
        /* Its exit status is ours (2 usage, 3 harness, 130 ...). */
        return pp_throw_code(error, (PpErrorCode)st,
                             "plugpull run exited %d", st);
    }
    g_autofree char *again = g_strdup_printf("%s/cases/%s.json", out, id);
    JsonObject *o = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(again, &o, error);
    if (parser == NULL) {
        return FALSE;
    }
    const char *now = json_object_get_string_member_with_default(o, "outcome",
                                                                 "?");
    g_print("%s: recorded %s, replayed %s (%s)%s\n", id, recorded, now,
            json_object_get_string_member_with_default(o, "reason", ""),
            g_str_equal(recorded, now) ? "" : "  <- differs");
    if (!pp_outcome_is(now, PP_OUTCOME_PASS)) {
        return pp_throw_code(error, PP_ERROR_FAILURES, "%s: replayed %s",
                             id, now);
    }
    return TRUE;
}

gboolean
pp_cmd_replay(int argc, char **argv, GError **error)
{
    g_autofree char *keep = NULL;
    GOptionEntry entries[] = {
        { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep,
          "leave the crash state in DIR for a look (a VM case: the results "
          "directory of the cycle run again)", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("CASE.json");
    g_option_context_set_summary(ctx, "Reproduce one case of a campaign by "
                                 "its crash state's name.\nExit status: 0 "
                                 "the case passes, 1 it fails (as sim), 2 "
                                 "usage, 3 harness failure.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs exactly one CASE.json");
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_file(parser, argv[1], error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *c = root != NULL && JSON_NODE_HOLDS_OBJECT(root)
        ? json_node_get_object(root) : NULL;
    if (c != NULL && g_strcmp0(json_object_get_string_member_with_default(
                                   c, "tier", "sim"), "vm") == 0) {
        return replay_vm(argv[1], c, keep, error);
    }
    PpCaseFile f;
    if (!pp_case_file_load(argv[1], keep, &f, error)) {
        if (keep == NULL && f.env.states_dir != NULL) {
            pp_rm_rf(f.env.states_dir, NULL);
        }
        pp_case_file_clear(&f);
        if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        return FALSE;
    }
    g_autoptr(PpCase) pc = pp_case_file_run(
        &f, (const guint *)f.schedule->data, f.schedule->len, f.repeat,
        keep != NULL, error);
    if (keep == NULL) {
        pp_rm_rf(f.env.states_dir, NULL);
    }
    if (pc == NULL) {
        pp_case_file_clear(&f);
        return FALSE;
    }
    const char *outcome = pp_outcome_to_string(pc->verdict);
    gboolean same = pp_outcome_is(f.recorded, pc->verdict);
    g_print("%s: %s: %s\n  call in flight: %s\n", pc->state_name,
            outcome, pc->reason, pc->call);
    if (pc->cuts != NULL) {
        print_cuts(f.root, pc);
    }
    g_print("  recorded verdict: %s; replayed: %s (%s)\n", f.recorded,
            outcome, same ? "same" : "DIFFERENT");
    if (keep != NULL) {
        g_print("  crash state(s) kept in %s\n", f.env.states_dir);
    }
    if (!same) {
        /* Not a failure of the update but of the harness: the case does
         * not reproduce. */
        pp_throw(error, "%s: recorded %s, replayed %s", pc->state_name,
                 f.recorded, outcome);
        pp_case_file_clear(&f);
        return FALSE;
    }
    pp_case_file_clear(&f);
    if (pp_case_failed(pc)) {
        return pp_throw_code(error, PP_ERROR_FAILURES, "%s: %s",
                             pc->state_name, outcome);
    }
    return TRUE;
}
