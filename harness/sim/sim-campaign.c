/* SPDX-License-Identifier: MIT */
/*
 * simcampaign.c: see simcampaign.h.
 */
#include "sim/sim-campaign.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/sim-out.h"
#include "common/json.h"
#include "common/campaign-file.h"
#include "common/fs.h"
#include "sim/sim-points.h"
#include "common/util.h"
#include "common/version.h"

#define CAMPAIGN_FORMAT 1
#define SCRATCH_NOTE "scratch-dir"

void
pp_campaign_free(PpCampaign *c)
{
    if (c == NULL) {
        return;
    }
    g_free(c->path);
    g_free(c->scenario_path);
    g_free(c->scenario_text);
    g_free(c->model);
    g_free(c->points);
    g_free(c->resume_updates);
    g_free(c->shard);
    g_free(c->recording);
    g_free(c->client_path);
    g_free(c->client_version);
    g_free(c->started);
    g_free(c);
}

gboolean
pp_campaign_write(const char *dir, const PpCampaign *c, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string_or_null(b, "kind", "campaign");
    pp_json_add_int(b, "format", CAMPAIGN_FORMAT);
    json_builder_set_member_name(b, "scenario");
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "path", c->scenario_path);
    pp_json_add_string_or_null(b, "text", c->scenario_text);
    json_builder_end_object(b);
    pp_json_add_string_or_null(b, "model", c->model);
    pp_json_add_int(b, "seed", (gint64)c->seed);
    pp_json_add_string_or_null(b, "points", c->points);
    pp_json_add_string_or_null(b, "resume_updates", c->resume_updates);
    pp_json_add_string_or_null(b, "shard", c->shard);
    pp_json_add_int(b, "budget_s", c->budget_s);
    pp_json_add_string_or_null(b, "recording", c->recording);
    json_builder_set_member_name(b, "client");
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "path", c->client_path);
    pp_json_add_string_or_null(b, "version", c->client_version);
    json_builder_end_object(b);
    pp_json_add_string_or_null(b, "started", c->started);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, PP_CAMPAIGN_FILE, NULL);
    return pp_write_json(path, root, error);
}

static gboolean
get_int(JsonObject *o, const char *name, const char *path, gint64 *out,
        GError **error)
{
    JsonNode *n = json_object_get_member(o, name);
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n)
        || json_node_get_value_type(n) != G_TYPE_INT64
        || json_node_get_int(n) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: '%s' missing or not a number >= 0", path, name);
        return FALSE;
    }
    *out = json_node_get_int(n);
    return TRUE;
}

static JsonObject *
get_object(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                  : NULL;
}

PpCampaign *
pp_campaign_load(const char *dir, GError **error)
{
    g_autoptr(PpCampaign) c = g_new0(PpCampaign, 1);
    c->path = g_build_filename(dir, PP_CAMPAIGN_FILE, NULL);
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_campaign_file_load(
        c->path, dir, "sim", "campaign", CAMPAIGN_FORMAT, &m, error);
    if (parser == NULL) {
        return NULL;
    }
    JsonObject *sc = get_object(m, "scenario");
    JsonObject *client = get_object(m, "client");
    gint64 seed = 0;
    if (!pp_json_get_string(sc, "path", FALSE, c->path, &c->scenario_path, error)
        || !pp_json_get_string(sc, "text", TRUE, c->path, &c->scenario_text, error)
        || !pp_json_get_string(m, "model", FALSE, c->path, &c->model, error)
        || !get_int(m, "seed", c->path, &seed, error)
        || !pp_json_get_string(m, "points", FALSE, c->path, &c->points, error)
        || !pp_json_get_string(m, "resume_updates", FALSE, c->path,
                       &c->resume_updates, error)
        || !pp_json_get_string(m, "shard", TRUE, c->path, &c->shard, error)
        || !get_int(m, "budget_s", c->path, &c->budget_s, error)
        || !pp_json_get_string(m, "recording", TRUE, c->path, &c->recording, error)
        || !pp_json_get_string(client, "path", FALSE, c->path, &c->client_path, error)
        || !pp_json_get_string(client, "version", FALSE, c->path, &c->client_version,
                       error)
        || !pp_json_get_string(m, "started", FALSE, c->path, &c->started, error)) {
        return NULL;
    }
    c->seed = (guint64)seed;
    return g_steal_pointer(&c);
}

gboolean
pp_campaign_check(const PpCampaign *c, const PpCampaignAsk *ask,
                  GError **error)
{
    g_autoptr(GString) bad = g_string_new(NULL);
    if (ask->scenario_path != NULL) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(ask->scenario_path, &text, NULL, error)) {
            return FALSE;
        }
        if (g_strcmp0(text, c->scenario_text) != 0) {
            g_string_append_printf(bad, "\n  scenario: %s differs from the "
                                   "one the campaign started with (%s)",
                                   ask->scenario_path, c->scenario_path);
        }
    }
    if (ask->model != NULL) {
        CfiModel m;
        if (!cfi_model_from_string(ask->model, &m, error)) {
            return FALSE;
        }
        pp_campaign_disagree(bad, "model", cfi_model_to_string(m), c->model);
    }
    if (ask->points != NULL) {
        PpPointsKind kind;
        guint n = 0;
        if (!pp_points_parse(ask->points, &kind, &n, error)) {
            return FALSE;
        }
        g_autofree char *p = pp_points_to_string(kind, n);
        pp_campaign_disagree(bad, "points", p, c->points);
    }
    if (ask->seed >= 0) {
        g_autofree char *given = g_strdup_printf("%" G_GINT64_FORMAT,
                                                 ask->seed);
        g_autofree char *has = g_strdup_printf("%" G_GUINT64_FORMAT, c->seed);
        pp_campaign_disagree(bad, "seed", given, has);
    }
    if (ask->resume_updates != NULL) {
        PpResumeKind kind;
        guint n = 0;
        if (!pp_resume_parse(ask->resume_updates, &kind, &n, error)) {
            return FALSE;
        }
        g_autofree char *r = pp_resume_to_string(kind, n);
        pp_campaign_disagree(bad, "resume-updates", r, c->resume_updates);
    }
    if (ask->shard != NULL) {
        PpShard sh = { 0 };
        if (!pp_shard_parse(ask->shard, &sh, error)) {
            return FALSE;
        }
        g_autofree char *s = g_strdup_printf("%u/%u", sh.index, sh.count);
        pp_campaign_disagree(bad, "shard", s, c->shard);
    }
    if (ask->budget_s >= 0) {
        g_autofree char *given = g_strdup_printf("%" G_GINT64_FORMAT " s",
                                                 ask->budget_s);
        g_autofree char *has = c->budget_s > 0
            ? g_strdup_printf("%" G_GINT64_FORMAT " s", c->budget_s) : NULL;
        pp_campaign_disagree(bad, "budget", given, has);
    }
    if (ask->recording != NULL) {
        g_autofree char *given = g_canonicalize_filename(ask->recording, NULL);
        pp_campaign_disagree(bad, "recording", given, c->recording);
    }
    /* Another client would judge other states: the version must match. */
    const char *client = ask->ostree != NULL ? ask->ostree : c->client_path;
    g_autofree char *version = pp_ostree_version(client);
    if (!g_str_equal(version, c->client_version)) {
        g_string_append_printf(bad, "\n  client: %s is ostree %s, the "
                               "campaign started with %s", client, version,
                               c->client_version);
    }
    if (bad->len > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s pins the campaign, and this run disagrees with it "
                    "(give --resume alone, or a new --out for another "
                    "campaign):%s", c->path, bad->str);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_campaign_save_case(const char *done_dir, const char *rec_id,
                      const PpCase *c, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "recording", rec_id);
    json_builder_set_member_name(b, "case");
    json_builder_add_value(b, pp_case_to_point(c));
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *name = g_strdup_printf("%s.json", c->id);
    g_autofree char *path = g_build_filename(done_dir, name, NULL);
    return pp_write_json(path, root, error);
}

gboolean
pp_campaign_load_case(const char *done_dir, const char *id,
                      const char *rec_id, PpCase **out_case, GError **error)
{
    *out_case = NULL;
    g_autofree char *name = g_strdup_printf("%s.json", id);
    g_autofree char *path = g_build_filename(done_dir, name, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return TRUE;
    }
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, error);
    if (parser == NULL) {
        return FALSE;
    }
    const char *rec = json_object_get_string_member_with_default(
        m, "recording", "");
    if (!g_str_equal(rec, rec_id)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: judged on recording %.12s, not on this campaign's "
                    "%.12s", path, rec, rec_id);
        return FALSE;
    }
    JsonObject *p = get_object(m, "case");
    if (p == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: no 'case' object", path);
        return FALSE;
    }
    g_autoptr(PpCase) c = pp_case_from_point(p, error);
    if (c == NULL) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    if (!g_str_equal(c->id, id)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: holds case %s", path, c->id);
        return FALSE;
    }
    *out_case = g_steal_pointer(&c);
    return TRUE;
}

gboolean
pp_campaign_case_file_ok(const char *cases_dir, const char *id,
                         GError **error)
{
    g_autofree char *name = g_strdup_printf("%s.json", id);
    g_autofree char *path = g_build_filename(cases_dir, name, NULL);
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, error);
    if (parser == NULL) {
        return FALSE;
    }
    if (!g_str_equal(json_object_get_string_member_with_default(m, "id", ""),
                     id)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not the case file of %s", path, id);
        return FALSE;
    }
    return TRUE;
}

guint
pp_campaign_remove_temps(const char *dir)
{
    guint n = 0;
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        const char *dot = strstr(name, ".json.");
        /* g_file_set_contents' temporary: NAME.json + "." + 6 chars. */
        if (dot != NULL && strlen(dot) == strlen(".json.XXXXXX")) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            n += g_unlink(path) == 0;
        }
    }
    return n;
}

int
pp_campaign_lock(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, PP_CAMPAIGN_FILE, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int errsv = errno;
        close(fd);
        if (errsv == EWOULDBLOCK) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                        "%s is locked: another plugpull is running this "
                        "campaign", path);
        } else {
            errno = errsv;
            pp_throw_errno_prefix(error, "flock(%s)", path);
        }
        return -1;
    }
    return fd;
}

gboolean
pp_campaign_note_scratch(const char *work, const char *scratch,
                         GError **error)
{
    g_autofree char *path = g_build_filename(work, SCRATCH_NOTE, NULL);
    if (!pp_mkdir_p(work, error)) {
        return FALSE;
    }
    /* Not a result: it names a scratch directory on tmpfs, which a power
       cut removes anyway; only a signal or a crash of the harness leaves
       one behind for --resume to remove. */
    if (!g_file_set_contents(path, scratch, -1, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

void
pp_campaign_remove_scratch(const char *work)
{
    g_autofree char *path = g_build_filename(work, SCRATCH_NOTE, NULL);
    g_autofree char *scratch = NULL;
    if (!g_file_get_contents(path, &scratch, NULL, NULL)) {
        return;
    }
    /* Only what sim makes (fast_work_dir): never a path someone edited
     * into the note. */
    g_autofree char *base = g_path_get_basename(scratch);
    if (g_path_is_absolute(scratch) && g_str_has_prefix(base, "plugpull-")
        && g_file_test(scratch, G_FILE_TEST_IS_DIR)) {
        pp_rm_rf(scratch, NULL);
    }
    g_unlink(path);
}
