/* SPDX-License-Identifier: MIT */
/*
 * caseload.c: see caseload.h.
 */
#include "sim/caseload.h"
#include "common/error.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "common/schedule.h"
#include "common/util.h"

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

static JsonObject *
member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                  : NULL;
}

void
pp_case_file_clear(PpCaseFile *f)
{
    pp_sim_env_clear(&f->env);
    g_clear_pointer(&f->httpd, pp_httpd_stop);
    g_clear_pointer(&f->schedule, g_array_unref);
    g_clear_pointer(&f->hints, g_free);
    g_clear_object(&f->parser);
}

/*
 * A repeated-cuts case names its schedule in its id, which must start
 * where state.name cuts, with the same model and seed: a hand-edited file
 * that disagrees is refused.  Any other case (single-cut, or a [fault]
 * case named "fault-...") is the one cut of state.name.
 */
static gboolean
read_schedule(PpCaseFile *f, guint k, GError **error)
{
    CfiModel model;
    guint64 seed;
    f->schedule = g_array_new(FALSE, FALSE, sizeof(guint));
    f->multi = json_object_has_member(f->root, "cuts");
    if (!f->multi) {
        g_array_append_val(f->schedule, k);
        f->repeat = 1;
        return TRUE;
    }
    if (!pp_schedule_from_id(f->id, &model, f->schedule, &seed, error)) {
        g_prefix_error(error, "case file: ");
        return FALSE;
    }
    if (model != f->env.model || seed != f->env.seed
        || g_array_index(f->schedule, guint, 0) != k) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "case file: the id %s does not name the state %s "
                    "(model, seed or first cut differ)", f->id,
                    json_object_get_string_member(member_object(f->root,
                                                                "state"),
                                                  "name"));
        return FALSE;
    }
    f->hints = g_new0(PpCutHint, f->schedule->len);
    JsonNode *cn = json_object_get_member(f->root, "cuts");
    JsonArray *ca = cn != NULL && JSON_NODE_HOLDS_ARRAY(cn)
        ? json_node_get_array(cn) : NULL;
    for (guint i = 0; ca != NULL && i < json_array_get_length(ca)
                      && i < f->schedule->len; i++) {
        JsonNode *e = json_array_get_element(ca, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e)
                                                  : NULL;
        if (o == NULL) {
            continue;
        }
        f->hints[i].syscall = json_object_get_string_member_with_default(
            o, "syscall", NULL);
        f->hints[i].path = json_object_get_string_member_with_default(
            o, "path", NULL);
    }
    f->repeat = (guint)json_object_get_int_member_with_default(
        f->root, "repeat", f->schedule->len);
    if (f->repeat < f->schedule->len || f->repeat > PP_SCHEDULE_MAX_CUTS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "case file: repeat %u with %u cuts made", f->repeat,
                    f->schedule->len);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_case_file_load(const char *path, const char *states_dir, PpCaseFile *f,
                  GError **error)
{
    memset(f, 0, sizeof *f);
    f->parser = json_parser_new();
    if (!json_parser_load_from_file(f->parser, path, error)) {
        g_prefix_error(error, "%s: ", path);
        if ((*error)->domain != G_IO_ERROR) {
            (*error)->domain = G_IO_ERROR;
            (*error)->code = G_IO_ERROR_INVALID_DATA;
        }
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(f->parser);
    f->root = root != NULL && JSON_NODE_HOLDS_OBJECT(root)
        ? json_node_get_object(root) : NULL;
    JsonObject *state = member_object(f->root, "state");
    JsonObject *rp = member_object(f->root, "replay");
    const char *name = NULL;
    if ((f->recorded = member_string(f->root, "outcome", error)) == NULL
        || (f->id = member_string(f->root, "id", error)) == NULL
        || (name = member_string(state, "name", error)) == NULL
        || (f->scenario = member_string(rp, "scenario", error)) == NULL) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    PpSimEnv *env = &f->env;
    guint k = 0;
    if (!cfi_crashstate_parse_name(name, &env->trace_path, &k, &env->model,
                                   &env->seed, error)) {
        g_prefix_error(error, "%s: ", path);
        (*error)->domain = G_IO_ERROR;
        (*error)->code = G_IO_ERROR_INVALID_DATA;
        return FALSE;
    }
    if (!read_schedule(f, k, error)) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    const char *fields[] = { "root", "snapshot", "srv_dir", "srv_repo",
                             "to_commit", "osname", "ostree", "bootloader",
                             NULL };
    char **slots[] = { &env->root, &env->snapshot, &env->srv_dir,
                       &env->srv_repo, &env->to_commit, &env->osname,
                       &env->ostree, &env->bootloader };
    for (guint i = 0; fields[i] != NULL; i++) {
        const char *v = member_string(rp, fields[i], error);
        if (v == NULL) {
            g_prefix_error(error, "%s: ", path);
            return FALSE;
        }
        *slots[i] = g_strdup(v);
    }
    JsonNode *cn = json_object_get_member(rp, "commits");
    JsonArray *commits = cn != NULL && JSON_NODE_HOLDS_ARRAY(cn)
        ? json_node_get_array(cn) : NULL;
    g_autoptr(GPtrArray) cv = g_ptr_array_new();
    guint n_commits = commits != NULL ? json_array_get_length(commits) : 0;
    for (guint i = 0; i < n_commits; i++) {
        g_ptr_array_add(cv, g_strdup(json_array_get_string_element(commits,
                                                                   i)));
    }
    g_ptr_array_add(cv, NULL);
    env->commits = (char **)g_ptr_array_free(g_steal_pointer(&cv), FALSE);
    env->redownload_threshold = (guint)json_object_get_int_member_with_default(
        rp, "redownload_threshold", 0);
    env->check_rollback = json_object_get_boolean_member_with_default(
        rp, "check_rollback", TRUE);
    /* Case files from before the two views were judged with one. */
    env->bootloader_replays_journal =
        json_object_get_boolean_member_with_default(
            rp, "bootloader_replays_journal", TRUE);
    /* Case files from before the device options: ext4's defaults then
       were no flush on replacement and one filesystem. */
    env->device_fs.noauto_da_alloc =
        !json_object_get_boolean_member_with_default(rp, "auto_da_alloc",
                                                     FALSE);
    env->device_fs.separate_boot = g_strcmp0(
        json_object_get_string_member_with_default(rp, "boot_partition",
                                                   "shared"),
        "separate") == 0;
    /* Case files from before the filesystem key checkpointed at freezes
       only, as XFS does. */
    env->device_fs.syncfs_log_only = g_strcmp0(
        json_object_get_string_member_with_default(rp, "filesystem", "xfs"),
        "xfs") == 0;
    f->resume = json_object_get_boolean_member_with_default(rp, "resume",
                                                            FALSE);
    env->device_fs.data_in_place = json_object_get_boolean_member_with_default(
        rp, "data_in_place", FALSE);
    g_autofree char *where = g_strconcat(path, ": replay", NULL);
    if (!pp_slot_device_read(rp, where, &env->strategy, &env->slots,
                             error)) {
        return FALSE;
    }

    if (states_dir != NULL) {
        env->states_dir = g_canonicalize_filename(states_dir, NULL);
    } else {
        /* States are hardlinked from the snapshot: build them beside it. */
        g_autofree char *parent = g_path_get_dirname(env->snapshot);
        g_autofree char *tmpl = g_build_filename(parent,
                                                 "plugpull-replay-XXXXXX",
                                                 NULL);
        if (g_mkdtemp(tmpl) == NULL) {
            pp_throw_errno_prefix(error, "mkdtemp(%s)", tmpl);
            return FALSE;
        }
        env->states_dir = g_steal_pointer(&tmpl);
    }
    if (f->resume || f->multi) {
        f->httpd = pp_httpd_start(env->srv_dir, 0, error);
        if (f->httpd == NULL) {
            g_prefix_error(error, "starting the TreeHub stand-in: ");
            return FALSE;
        }
        env->httpd = f->httpd;
    }
    if (!pp_sim_env_load(env, error)) {
        return FALSE;
    }
    /* A [fault] run that reported its error promised nothing. */
    env->promise.made = json_object_get_boolean_member_with_default(
        rp, "client_exited_0", TRUE);
    return TRUE;
}

PpCase *
pp_case_file_run(PpCaseFile *f, const guint *cuts, guint n, guint repeat,
                 gboolean keep_state, GError **error)
{
    if (!f->multi && n == 1) {
        return pp_sim_run_case(&f->env, cuts[0], f->resume, keep_state,
                               error);
    }
    gboolean own = n == f->schedule->len
        && memcmp(cuts, f->schedule->data, n * sizeof(guint)) == 0;
    return pp_sim_run_cuts(&f->env, cuts, own ? f->hints : NULL, n, repeat,
                           keep_state, error);
}
