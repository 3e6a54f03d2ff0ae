/* SPDX-License-Identifier: MIT */
/*
 * simrec.c: see simrec.h.
 */
#include "sim/sim-rec.h"
#include "common/error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/sim-out.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "common/version.h"
#include "trace-format.h"

#define MANIFEST_FORMAT 1

/* A recording is its manifest and its trace: a change of either format is
 * a new harness format (version.h).  Whoever changes one of these numbers
 * bumps PP_HARNESS_FORMAT and updates this line. */
G_STATIC_ASSERT(PP_HARNESS_FORMAT == 1 && MANIFEST_FORMAT == 1
                && CFI_TRACE_VERSION == 1);

void
pp_simrec_free(PpSimRec *rec)
{
    if (rec == NULL) {
        return;
    }
    g_free(rec->dir);
    g_free(rec->id);
    g_free(rec->scenario_path);
    g_free(rec->scenario_text);
    g_free(rec->model);
    g_free(rec->points);
    g_free(rec->resume);
    g_free(rec->client_path);
    g_free(rec->client_version);
    g_free(rec->root);
    g_free(rec->trace);
    g_free(rec->snapshot);
    g_free(rec->srv_dir);
    g_free(rec->srv_repo);
    g_strfreev(rec->commits);
    g_free(rec->to_commit);
    g_free(rec->osname);
    g_free(rec->bootloader);
    g_free(rec->recorded);
    g_free(rec->tool_version);
    g_free(rec->compat_note);
    pp_slot_device_clear(&rec->slots);
    g_free(rec);
}

/* path relative to dir; NULL with an error when it is not under dir. */
static const char *
under(const char *dir, const char *path, GError **error)
{
    gsize n = strlen(dir);
    if (strncmp(path, dir, n) != 0 || path[n] != '/') {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "recording: %s is not under %s", path, dir);
        return NULL;
    }
    return path + n + 1;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A tree's entries into sum, one line each, in sorted order (so the
 * listing is canonical); inodes maps "dev:ino" to the first name seen. */
static gboolean
list_tree(const char *root, const char *rel, GHashTable *inodes,
          GChecksum *sum, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    GStatBuf st;
    if (g_lstat(path, &st) < 0) {
        pp_throw_errno_prefix(error, "lstat(%s)", path);
        return FALSE;
    }
    /* Ownership relative to whoever runs plugpull: the client runs in a
     * user namespace where that user is root, wherever it is. */
    g_autofree char *owner = st.st_uid == geteuid()
        ? g_strdup("self") : g_strdup_printf("%u", (guint)st.st_uid);
    g_autofree char *group = st.st_gid == getegid()
        ? g_strdup("self") : g_strdup_printf("%u", (guint)st.st_gid);
    g_autofree char *what = NULL;
    if (S_ISLNK(st.st_mode)) {
        g_autofree char *target = g_file_read_link(path, error);
        if (target == NULL) {
            return FALSE;
        }
        what = g_strconcat("-> ", target, NULL);
    } else if (S_ISREG(st.st_mode)) {
        g_autofree char *key = g_strdup_printf("%" G_GUINT64_FORMAT ":%"
                                               G_GUINT64_FORMAT,
                                               (guint64)st.st_dev,
                                               (guint64)st.st_ino);
        const char *first = g_hash_table_lookup(inodes, key);
        if (first != NULL) {
            what = g_strconcat("= ", first, NULL);      /* a hardlink */
        } else {
            g_hash_table_insert(inodes, g_steal_pointer(&key), g_strdup(rel));
            what = pp_file_sha256(path, error);
            if (what == NULL) {
                return FALSE;
            }
        }
    } else {
        what = g_strdup("");
    }
    g_autofree char *line = g_strdup_printf(
        "%s\t%o\t%s\t%s\t%" G_GUINT64_FORMAT "\t%s\n", rel, (guint)st.st_mode,
        owner, group, S_ISDIR(st.st_mode) ? 0 : (guint64)st.st_size, what);
    g_checksum_update(sum, (const guchar *)line, -1);
    if (!S_ISDIR(st.st_mode)) {
        return TRUE;
    }
    g_autoptr(GDir) d = g_dir_open(path, 0, error);
    if (d == NULL) {
        return FALSE;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, cmp_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *child = rel[0] != '\0'
            ? g_build_filename(rel, names->pdata[i], NULL)
            : g_strdup(names->pdata[i]);
        if (!list_tree(root, child, inodes, sum, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * SHA-256 of a tree's listing: every entry's path, type and mode, owner,
 * size, content (SHA-256), symlink target, and which names are hardlinks
 * of one file.  Copies that lose any of these (zip, cp -r, a CI artifact
 * uploaded as a plain directory) give crash states that are not the
 * recorded ones, and wrong verdicts.
 */
static char *
tree_digest(const char *dir, GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash,
                                                         g_str_equal, g_free,
                                                         g_free);
    if (!list_tree(dir, "", inodes, sum, error)) {
        return NULL;
    }
    return g_strdup(g_checksum_get_string(sum));
}

gboolean
pp_simrec_write(const char *dir, const PpScenario *sc,
                const char *scenario_text, const PpSimEnv *env,
                const char *client_version, char **out_id, GError **error)
{
    /* sim builds states from a copy of the snapshot on tmpfs; the
     * recording's is the one under dir. */
    const char *snap_path = env->case_snapshot != NULL ? env->case_snapshot
                                                       : env->snapshot;
    const char *trace = under(dir, env->trace_path, error);
    const char *snapshot = trace != NULL ? under(dir, snap_path, error)
                                         : NULL;
    const char *srv_dir = snapshot != NULL ? under(dir, env->srv_dir, error)
                                           : NULL;
    const char *srv_repo = srv_dir != NULL ? under(dir, env->srv_repo, error)
                                           : NULL;
    if (srv_repo == NULL || under(dir, env->root, error) == NULL) {
        return FALSE;
    }
    /* Not needed to judge or resume a state: the device after the run,
     * the fixture's trees, the client's scratch directory. */
    g_autofree char *fixture = g_path_get_dirname(env->srv_dir);
    g_autofree char *trees = g_build_filename(fixture, "trees", NULL);
    g_autofree char *recdir = g_path_get_dirname(env->trace_path);
    g_autofree char *tmp = g_build_filename(recdir, "tmp", NULL);
    /* A slot device's version images and SWUpdate bundle (beside its
       record/): its states are judged by the images' digests, in the
       manifest. */
    g_autofree char *work = g_path_get_dirname(recdir);
    g_autofree char *images = g_build_filename(work, "images", NULL);
    g_autofree char *swu = g_build_filename(work, "swupdate", NULL);
    gboolean slots = env->strategy == PP_STRATEGY_AB
                     || env->strategy == PP_STRATEGY_UPDATE_MODE;
    if (!pp_rm_rf(env->root, error) || !pp_rm_rf(trees, error)
        || !pp_rm_rf(tmp, error)
        || (slots && (!pp_rm_rf(images, error) || !pp_rm_rf(swu, error)))) {
        return FALSE;
    }
    g_autofree char *id = pp_file_sha256(env->trace_path, error);
    g_autofree char *snap_digest = id != NULL
        ? tree_digest(snap_path, error) : NULL;
    g_autofree char *srv_digest = snap_digest != NULL
        ? tree_digest(env->srv_dir, error) : NULL;
    if (srv_digest == NULL) {
        return FALSE;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *recorded = g_date_time_format_iso8601(now);
    g_autofree char *points = pp_points_to_string(sc->points, sc->sample);
    g_autofree char *resume = pp_resume_to_string(sc->resume,
                                                  sc->resume_sample);

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string(b, "kind", "recording");
    pp_json_add_int(b, "format", MANIFEST_FORMAT);
    pp_json_add_int(b, "trace_format", CFI_TRACE_VERSION);
    pp_json_add_string(b, "id", id);
    pp_json_add_string(b, "recorded", recorded);

    json_builder_set_member_name(b, "scenario");
    json_builder_begin_object(b);
    pp_json_add_string(b, "path", sc->path);
    pp_json_add_string(b, "name", sc->name);
    json_builder_set_member_name(b, "text");
    if (scenario_text != NULL) {
        json_builder_add_string_value(b, scenario_text);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    pp_json_add_string(b, "model", cfi_model_to_string(sc->model));
    pp_json_add_int(b, "seed", (gint64)sc->seed);
    pp_json_add_string(b, "points", points);
    pp_json_add_string(b, "resume", resume);
    json_builder_set_member_name(b, "client");
    json_builder_begin_object(b);
    pp_json_add_string(b, "path", sc->ostree);
    pp_json_add_string(b, "version", client_version);
    json_builder_end_object(b);

    pp_json_add_string(b, "root", env->root);
    pp_json_add_int(b, "records", cfi_trace_n_records(env->trace));
    json_builder_set_member_name(b, "files");
    json_builder_begin_object(b);
    pp_json_add_string(b, "trace", trace);
    pp_json_add_string(b, "snapshot", snapshot);
    pp_json_add_string(b, "srv_dir", srv_dir);
    pp_json_add_string(b, "srv_repo", srv_repo);
    pp_json_add_string(b, "snapshot_digest", snap_digest);
    pp_json_add_string(b, "srv_digest", srv_digest);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "commits");
    json_builder_begin_array(b);
    for (char **c = env->commits; *c != NULL; c++) {
        json_builder_add_string_value(b, *c);
    }
    json_builder_end_array(b);
    pp_json_add_string(b, "to_commit", env->to_commit);
    pp_json_add_string(b, "osname", env->osname);
    pp_json_add_string(b, "bootloader", env->bootloader);
    pp_json_add_string(b, "strategy", pp_strategy_to_string(env->strategy));
    if (env->strategy != PP_STRATEGY_OSTREE) {
        json_builder_set_member_name(b, "slots");
        json_builder_add_value(b, pp_slot_device_to_json(&env->slots));
    }
    json_builder_end_object(b);

    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, PP_SIMREC_MANIFEST, NULL);
    if (!pp_write_json(path, root, error)) {
        return FALSE;
    }
    if (out_id != NULL) {
        *out_id = g_steal_pointer(&id);
    }
    return TRUE;
}

/* A string member of o, or an error naming the manifest. */
static char *
dup_string(JsonObject *o, const char *name, const char *path, GError **error)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n)
        || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: '%s' missing or not a string", path, name);
        return NULL;
    }
    return g_strdup(json_node_get_string(n));
}

static JsonObject *
get_object(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                  : NULL;
}

PpSimRec *
pp_simrec_load(const char *dir, GError **error)
{
    g_autoptr(PpSimRec) rec = g_new0(PpSimRec, 1);
    rec->dir = g_canonicalize_filename(dir, NULL);
    g_autofree char *path = g_build_filename(rec->dir, PP_SIMREC_MANIFEST,
                                             NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s: no %s (not a recording: make one with plugpull sim "
                    "--record-only --out DIR)", dir, PP_SIMREC_MANIFEST);
        return NULL;
    }
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, error);
    if (parser == NULL) {
        return NULL;
    }
    if (!g_str_equal(json_object_get_string_member_with_default(m, "kind", ""),
                     "recording")
        || json_object_get_int_member_with_default(m, "format", 0)
           != MANIFEST_FORMAT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not a plugpull recording manifest of format %d "
                    "(made by plugpull %s; this is plugpull %s)",
                    path, MANIFEST_FORMAT,
                    json_object_get_string_member_with_default(
                        m, "tool_version", "of unknown version"),
                    pp_version());
        return NULL;
    }
    /* Same manifest format; the harness format decides the rest.  A
     * manifest without one predates version records: its format is this
     * one's, and its trace carries its own version, which the trace
     * reader checks; it is read, with a note (version.h). */
    if (!pp_version_check_compatible(m, "recording", path, &rec->compat_note,
                                     error)) {
        return NULL;
    }
    rec->tool_version = g_strdup(json_object_get_string_member_with_default(
        m, "tool_version", NULL));
    JsonObject *sc = get_object(m, "scenario");
    JsonObject *client = get_object(m, "client");
    JsonObject *files = get_object(m, "files");
    g_autofree char *trace = NULL, *snapshot = NULL, *srv_dir = NULL;
    g_autofree char *srv_repo = NULL, *snap_digest = NULL;
    g_autofree char *srv_digest = NULL;
    if ((rec->id = dup_string(m, "id", path, error)) == NULL
        || (rec->scenario_path = dup_string(sc, "path", path, error)) == NULL
        || (rec->model = dup_string(m, "model", path, error)) == NULL
        || (rec->points = dup_string(m, "points", path, error)) == NULL
        || (rec->resume = dup_string(m, "resume", path, error)) == NULL
        || (rec->client_path = dup_string(client, "path", path, error)) == NULL
        || (rec->client_version = dup_string(client, "version", path,
                                             error)) == NULL
        || (rec->root = dup_string(m, "root", path, error)) == NULL
        || (rec->to_commit = dup_string(m, "to_commit", path, error)) == NULL
        || (rec->osname = dup_string(m, "osname", path, error)) == NULL
        || (rec->bootloader = dup_string(m, "bootloader", path,
                                         error)) == NULL
        || (rec->recorded = dup_string(m, "recorded", path, error)) == NULL
        || (trace = dup_string(files, "trace", path, error)) == NULL
        || (snapshot = dup_string(files, "snapshot", path, error)) == NULL
        || (srv_dir = dup_string(files, "srv_dir", path, error)) == NULL
        || (srv_repo = dup_string(files, "srv_repo", path, error)) == NULL
        || (snap_digest = dup_string(files, "snapshot_digest", path,
                                     error)) == NULL
        || (srv_digest = dup_string(files, "srv_digest", path,
                                    error)) == NULL) {
        return NULL;
    }
    /* A manifest from before strategies is ostree's. */
    if (!pp_slot_device_read(m, path, &rec->strategy, &rec->slots, error)) {
        return NULL;
    }
    JsonNode *text = json_object_get_member(sc, "text");
    if (text != NULL && JSON_NODE_HOLDS_VALUE(text)) {
        rec->scenario_text = g_strdup(json_node_get_string(text));
    }
    rec->seed = (guint64)json_object_get_int_member_with_default(m, "seed", 0);
    rec->records = (guint)json_object_get_int_member_with_default(m, "records",
                                                                  0);
    JsonNode *cn = json_object_get_member(m, "commits");
    JsonArray *commits = cn != NULL && JSON_NODE_HOLDS_ARRAY(cn)
        ? json_node_get_array(cn) : NULL;
    g_autoptr(GPtrArray) cv = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; commits != NULL && i < json_array_get_length(commits);
         i++) {
        const char *c = json_array_get_string_element(commits, i);
        g_ptr_array_add(cv, g_strdup(c != NULL ? c : ""));
    }
    g_ptr_array_add(cv, NULL);
    rec->commits = (char **)g_ptr_array_steal(cv, NULL);

    rec->trace = g_build_filename(rec->dir, trace, NULL);
    rec->snapshot = g_build_filename(rec->dir, snapshot, NULL);
    rec->srv_dir = g_build_filename(rec->dir, srv_dir, NULL);
    rec->srv_repo = g_build_filename(rec->dir, srv_repo, NULL);
    const char *const need[] = { rec->trace, rec->snapshot, rec->srv_repo,
                                 NULL };
    for (guint i = 0; need[i] != NULL; i++) {
        if (!g_file_test(need[i], G_FILE_TEST_EXISTS)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "%s: the recording is incomplete: %s is missing "
                        "(was all of the directory copied?)", dir, need[i]);
            return NULL;
        }
    }
    /* A recording that lost anything on its way (a CI artifact) would
     * give other crash states and wrong verdicts, without a word. */
    const char *what[] = { rec->trace, rec->snapshot, rec->srv_dir, NULL };
    const char *want[] = { rec->id, snap_digest, srv_digest };
    for (guint i = 0; what[i] != NULL; i++) {
        g_autofree char *digest = i == 0 ? pp_file_sha256(what[i], error)
                                         : tree_digest(what[i], error);
        if (digest == NULL) {
            return NULL;
        }
        if (!g_str_equal(digest, want[i])) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "%s: %s is not what was recorded (SHA-256 %.12s, the "
                        "manifest says %.12s): was the recording copied "
                        "without its hardlinks, symlinks, modes or "
                        "ownership?  Copy it with tar (see README.md, CI "
                        "scale-out)", dir, what[i], digest, want[i]);
            return NULL;
        }
    }
    return g_steal_pointer(&rec);
}

/* Append "what: given X, the recording has Y" when they differ. */
static void
disagree(GString *out, const char *what, const char *given, const char *has)
{
    if (!g_str_equal(given, has)) {
        g_string_append_printf(out, "\n  %s: %s given, the recording has %s",
                               what, given, has);
    }
}

PpScenario *
pp_simrec_scenario(const PpSimRec *rec, const PpSimRecAsk *ask,
                   const char *ostree, GError **error)
{
    g_autoptr(GString) bad = g_string_new(NULL);
    if (ask->scenario_path != NULL) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(ask->scenario_path, &text, NULL, error)) {
            return NULL;
        }
        if (g_strcmp0(text, rec->scenario_text) != 0) {
            g_string_append_printf(bad, "\n  scenario: %s differs from the "
                                   "one recorded (%s)", ask->scenario_path,
                                   rec->scenario_path);
        }
    }
    if (ask->model != NULL) {
        CfiModel m;
        if (!cfi_model_from_string(ask->model, &m, error)) {
            return NULL;
        }
        disagree(bad, "model", cfi_model_to_string(m), rec->model);
    }
    if (ask->points != NULL) {
        PpPointsKind kind;
        guint n = 0;
        if (!pp_points_parse(ask->points, &kind, &n, error)) {
            return NULL;
        }
        g_autofree char *p = pp_points_to_string(kind, n);
        disagree(bad, "points", p, rec->points);
    }
    if (ask->seed >= 0) {
        g_autofree char *given = g_strdup_printf("%" G_GINT64_FORMAT,
                                                 ask->seed);
        g_autofree char *has = g_strdup_printf("%" G_GUINT64_FORMAT,
                                               rec->seed);
        disagree(bad, "seed", given, has);
    }
    if (ask->resume != NULL) {
        PpResumeKind kind;
        guint n = 0;
        if (!pp_resume_parse(ask->resume, &kind, &n, error)) {
            return NULL;
        }
        g_autofree char *r = pp_resume_to_string(kind, n);
        disagree(bad, "resume-updates", r, rec->resume);
    }
    g_autoptr(PpScenario) sc = rec->scenario_text != NULL
        ? pp_scenario_load_data(rec->scenario_text, rec->scenario_path, error)
        : pp_scenario_new_default();
    if (sc == NULL) {
        return NULL;
    }
    if (!cfi_model_from_string(rec->model, &sc->model, error)
        || !pp_points_parse(rec->points, &sc->points, &sc->sample, error)
        || !pp_resume_parse(rec->resume, &sc->resume, &sc->resume_sample,
                            error)) {
        g_prefix_error(error, "%s/%s: ", rec->dir, PP_SIMREC_MANIFEST);
        return NULL;
    }
    sc->seed = rec->seed;
    g_free(sc->ostree);
    sc->ostree = g_strdup(ostree != NULL ? ostree : rec->client_path);
    if (g_file_test(sc->ostree, G_FILE_TEST_IS_EXECUTABLE)
        && !g_file_test(sc->ostree, G_FILE_TEST_IS_DIR)) {
        g_autofree char *version = pp_ostree_version(sc->ostree);
        if (!g_str_equal(version, rec->client_version)) {
            g_string_append_printf(bad, "\n  client: %s is ostree %s, the "
                                   "recording was made with %s", sc->ostree,
                                   version, rec->client_version);
        }
    }
    if (bad->len > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "the recording %s (id %.12s) pins the campaign, and "
                    "this run disagrees with it:%s", rec->dir, rec->id,
                    bad->str);
        return NULL;
    }
    return g_steal_pointer(&sc);
}

void
pp_simrec_fill_env(const PpSimRec *rec, PpSimEnv *env)
{
    env->trace_path = g_strdup(rec->trace);
    env->root = g_strdup(rec->root);
    env->snapshot = g_strdup(rec->snapshot);
    env->srv_dir = g_strdup(rec->srv_dir);
    env->srv_repo = g_strdup(rec->srv_repo);
    env->commits = g_strdupv(rec->commits);
    env->to_commit = g_strdup(rec->to_commit);
    env->osname = g_strdup(rec->osname);
    env->bootloader = g_strdup(rec->bootloader);
    env->strategy = rec->strategy;
    if (rec->strategy != PP_STRATEGY_OSTREE) {
        /* A copy, through the form it was read from. */
        g_autoptr(JsonNode) slots = pp_slot_device_to_json(&rec->slots);
        gboolean ok = pp_slot_device_from_json(slots, &env->slots, NULL);
        g_assert(ok);
    }
}
