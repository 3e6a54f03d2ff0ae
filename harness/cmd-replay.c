/*
 * cmd-replay.c: plugpull replay CASE.json: build the same crash state again
 * from its name, judge it (and resume it, when the case was resumed) and
 * say whether the verdict is the one recorded.
 */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "httpd.h"
#include "plugpull.h"
#include "sim.h"
#include "util.h"

static const char *
member_string(JsonObject *o, const char *name, GError **error)
{
    if (o == NULL || !json_object_has_member(o, name)
        || json_node_get_value_type(json_object_get_member(o, name))
           != G_TYPE_STRING) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "case file: '%s' missing or not a string", name);
        return NULL;
    }
    return json_object_get_string_member(o, name);
}

/*
 * A VM case: run its cycle again (`plugpull run ... --cycle I`, the same
 * draw) into out_dir and say whether the verdict is the recorded one.  A
 * random-time cut lands on the same time, not on the same instruction:
 * TCG timing varies, so its verdict may differ where a syscall cut's
 * should not.
 */
static int
replay_vm(const char *case_path, JsonObject *c, const char *keep)
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
        g_printerr("plugpull: replay: %s: no replay.run_argv in the VM case\n",
                   case_path);
        return PP_EXIT_USAGE;
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
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        (const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
    if (p == NULL || !g_subprocess_wait(p, NULL, &error)) {
        pp_print_error("replay", error);
        return PP_EXIT_HARNESS;
    }
    int st = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p)
                                           : 128 + g_subprocess_get_term_sig(p);
    if (st != PP_EXIT_OK && st != PP_EXIT_FAILURES) {
        g_printerr("plugpull: replay: plugpull run exited %d\n", st);
        return st;
    }
    g_autofree char *again = g_strdup_printf("%s/cases/%s.json", out, id);
    JsonObject *o = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(again, &o, &error);
    if (parser == NULL) {
        pp_print_error("replay", error);
        return PP_EXIT_HARNESS;
    }
    const char *now = json_object_get_string_member_with_default(o, "outcome",
                                                                 "?");
    g_print("%s: recorded %s, replayed %s (%s)%s\n", id, recorded, now,
            json_object_get_string_member_with_default(o, "reason", ""),
            g_str_equal(recorded, now) ? "" : "  <- differs");
    return g_str_equal(now, "pass") ? PP_EXIT_OK : PP_EXIT_FAILURES;
}

int
pp_cmd_replay(int argc, char **argv)
{
    g_autofree char *keep = NULL;
    GOptionEntry entries[] = {
        { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep,
          "leave the crash state in DIR for a look (a VM case: the results "
          "directory of the cycle run again)", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("CASE.json");
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(ctx, "Reproduce one case of a campaign by "
                                 "its crash state's name.\nExit status: 0 "
                                 "the case passes, 1 it fails (as sim), 2 "
                                 "usage, 3 harness failure.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        pp_print_error("replay", error);
        return PP_EXIT_USAGE;
    }
    if (argc != 2) {
        g_printerr("plugpull: replay: needs exactly one CASE.json\n");
        return PP_EXIT_USAGE;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_file(parser, argv[1], &error)) {
        pp_print_error("replay", error);
        return PP_EXIT_USAGE;
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *c = root != NULL && JSON_NODE_HOLDS_OBJECT(root)
        ? json_node_get_object(root) : NULL;
    if (c != NULL && g_strcmp0(json_object_get_string_member_with_default(
                                   c, "tier", "sim"), "vm") == 0) {
        return replay_vm(argv[1], c, keep);
    }
    JsonObject *state = c != NULL && json_object_has_member(c, "state")
        ? json_object_get_object_member(c, "state") : NULL;
    JsonObject *rp = c != NULL && json_object_has_member(c, "replay")
        ? json_object_get_object_member(c, "replay") : NULL;
    const char *recorded = member_string(c, "outcome", &error);
    const char *name = recorded != NULL
        ? member_string(state, "name", &error) : NULL;
    if (name == NULL || rp == NULL) {
        if (error == NULL) {
            g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "case file: no 'replay' section");
        }
        g_prefix_error(&error, "%s: ", argv[1]);
        pp_print_error("replay", error);
        return PP_EXIT_USAGE;
    }

    PpSimEnv env = { 0 };
    guint k = 0;
    if (!cfi_crashstate_parse_name(name, &env.trace_path, &k, &env.model,
                                   &env.seed, &error)) {
        pp_print_error("replay", error);
        return PP_EXIT_USAGE;
    }
    const char *fields[] = { "root", "snapshot", "srv_dir", "srv_repo",
                             "to_commit", "osname", "ostree", "bootloader",
                             NULL };
    char **slots[] = { &env.root, &env.snapshot, &env.srv_dir, &env.srv_repo,
                       &env.to_commit, &env.osname, &env.ostree,
                       &env.bootloader };
    for (guint i = 0; fields[i] != NULL; i++) {
        const char *v = member_string(rp, fields[i], &error);
        if (v == NULL) {
            pp_print_error("replay", error);
            pp_sim_env_clear(&env);
            return PP_EXIT_USAGE;
        }
        *slots[i] = g_strdup(v);
    }
    JsonArray *commits = json_object_get_array_member(rp, "commits");
    g_autoptr(GPtrArray) cv = g_ptr_array_new();
    for (guint i = 0; commits != NULL && i < json_array_get_length(commits); i++) {
        g_ptr_array_add(cv, g_strdup(json_array_get_string_element(commits, i)));
    }
    g_ptr_array_add(cv, NULL);
    env.commits = (char **)g_ptr_array_free(g_steal_pointer(&cv), FALSE);
    env.redownload_threshold = (guint)json_object_get_int_member(
        rp, "redownload_threshold");
    env.check_rollback = json_object_get_boolean_member(rp, "check_rollback");
    gboolean resume = json_object_get_boolean_member(rp, "resume");
    g_autofree char *tmp = g_dir_make_tmp("plugpull-replay-XXXXXX", &error);
    if (tmp == NULL) {
        pp_print_error("replay", error);
        pp_sim_env_clear(&env);
        return PP_EXIT_HARNESS;
    }
    /* States are hardlinked from the snapshot: build them beside it. */
    g_autofree char *parent = g_path_get_dirname(env.snapshot);
    g_autofree char *base = g_path_get_basename(tmp);
    env.states_dir = keep != NULL ? g_canonicalize_filename(keep, NULL)
                                  : g_build_filename(parent, base, NULL);
    g_rmdir(tmp);

    g_autoptr(PpHttpd) httpd = NULL;
    if (resume) {
        httpd = pp_httpd_start(env.srv_dir, 0, &error);
        if (httpd == NULL) {
            pp_print_error("replay: starting the TreeHub stand-in", error);
            pp_sim_env_clear(&env);
            return PP_EXIT_HARNESS;
        }
        env.httpd = httpd;
    }
    if (!pp_sim_env_load(&env, &error)) {
        pp_print_error("replay", error);
        pp_sim_env_clear(&env);
        return PP_EXIT_HARNESS;
    }
    g_autoptr(PpCase) pc = pp_sim_run_case(&env, k, resume, keep != NULL,
                                           &error);
    if (keep == NULL) {
        pp_rm_rf(env.states_dir, NULL);
    }
    if (pc == NULL) {
        pp_print_error("replay", error);
        pp_sim_env_clear(&env);
        return PP_EXIT_HARNESS;
    }
    gboolean same = g_str_equal(pc->outcome, recorded);
    g_print("%s: %s: %s\n  call in flight: %s\n  recorded verdict: %s; "
            "replayed: %s (%s)\n", pc->state_name, pc->outcome, pc->reason,
            pc->call, recorded, pc->outcome, same ? "same" : "DIFFERENT");
    if (keep != NULL) {
        g_print("  crash state kept in %s/%s\n", env.states_dir, pc->id);
    }
    pp_sim_env_clear(&env);
    if (!same) {
        return PP_EXIT_HARNESS;
    }
    return pp_case_failed(pc) ? PP_EXIT_FAILURES : PP_EXIT_OK;
}
