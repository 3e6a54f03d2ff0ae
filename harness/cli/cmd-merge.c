/* SPDX-License-Identifier: MIT */
/*
 * cmd-merge.c: plugpull merge SHARD... --out DIR: join the shards of one
 * campaign into the results an unsharded run would have written.
 *
 * The shards are result directories of `plugpull sim --recording REC
 * --shard K/N`.  They belong together when they judged the same recording
 * (its id, the SHA-256 of the trace) with the same scenario, model, seed,
 * points, resume choice and client version, and when they are shards
 * 1..N of the same N, each exactly once, and when this plugpull reads
 * their results (the same harness format, common/version.h; the versions
 * may differ).  Anything else is refused (exit 2) with every difference
 * named, directory by directory: a merge of shards that judged different
 * crash states would look complete and mean nothing.
 *
 * The merge reads each shard's points.json (every case, with what the
 * summary and junit need) and copies its cases/, then writes points.json,
 * summary.json and junit.xml with the writers sim uses (simout.c), each
 * atomically.  Verdicts, case ids, counts, resume totals, coverage and the
 * case files are those of an unsharded run on the same recording.  What
 * measures a run rather than the update differs, and is defined so:
 *
 *   started        the earliest shard's
 *   duration_s     the longest shard's (the shards ran side by side);
 *                  cases_wall_s likewise, and states_per_minute from it
 *   jobs           the sum over shards
 *   time_split     summed over cases, as in any run
 *   interrupted, budget_reached   true when true of any shard
 *   merged         the shard directories, in order 1..N
 *
 * Exit status: 0 every case passed, 1 a case failed, 2 usage or shards
 * that do not belong together, 3 the harness failed (writing DIR).
 */
#include <string.h>

#include <glib/gstdio.h>

#include "common/durable.h"
#include "plugpull.h"
#include "sim/sim-known.h"
#include "sim/sim-out.h"
#include "common/json.h"
#include "common/util.h"
#include "common/version.h"

typedef struct {
    char *dir;               /* as given */
    JsonParser *summary_parser;
    JsonParser *points_parser;
    JsonObject *summary;
    JsonObject *points;
    guint index;             /* K */
    guint count;             /* N */
} Shard;

static void
shard_free(Shard *s)
{
    g_free(s->dir);
    g_clear_object(&s->summary_parser);
    g_clear_object(&s->points_parser);
    g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Shard, shard_free)

/* The member at a dotted path ("recording.id"), or NULL. */
static JsonNode *
member_at(JsonObject *o, const char *dotted)
{
    g_auto(GStrv) parts = g_strsplit(dotted, ".", -1);
    JsonNode *n = NULL;
    for (guint i = 0; parts[i] != NULL; i++) {
        if (o == NULL) {
            return NULL;
        }
        n = json_object_get_member(o, parts[i]);
        o = n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                   : NULL;
    }
    return n;
}

/* A member's value as text ("absent" when missing). */
static char *
member_text(JsonObject *o, const char *dotted)
{
    JsonNode *n = member_at(o, dotted);
    if (n == NULL) {
        return g_strdup("absent");
    }
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
        return g_strdup(json_node_get_string(n));
    }
    return json_to_string(n, FALSE);
}

static const char *
string_at(JsonObject *o, const char *dotted)
{
    JsonNode *n = member_at(o, dotted);
    return n != NULL && JSON_NODE_HOLDS_VALUE(n)
                   && json_node_get_value_type(n) == G_TYPE_STRING
        ? json_node_get_string(n) : "?";
}

static gint64
int_at(JsonObject *o, const char *dotted)
{
    JsonNode *n = member_at(o, dotted);
    return n != NULL && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

static double
double_at(JsonObject *o, const char *dotted)
{
    JsonNode *n = member_at(o, dotted);
    return n != NULL && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n)
                                                 : 0.0;
}

static gboolean
bool_at(JsonObject *o, const char *dotted)
{
    JsonNode *n = member_at(o, dotted);
    return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n);
}

/* A shard's summary.json and points.json; a usage error when it is not a
 * shard (G_IO_ERROR_NOT_FOUND / INVALID_DATA) naming the directory. */
static Shard *
shard_load(const char *dir, GError **error)
{
    g_autoptr(Shard) s = g_new0(Shard, 1);
    s->dir = g_strdup(dir);
    g_autofree char *summary = g_build_filename(dir, "summary.json", NULL);
    g_autofree char *points = g_build_filename(dir, "points.json", NULL);
    if (!g_file_test(summary, G_FILE_TEST_IS_REGULAR)
        || !g_file_test(points, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s: no summary.json or points.json (not a plugpull sim "
                    "result directory?)", dir);
        return NULL;
    }
    s->summary_parser = pp_json_load_object(summary, &s->summary, error);
    if (s->summary_parser == NULL) {
        return NULL;
    }
    /* Made by a plugpull whose results this one reads (version.h); one
     * made before versions were recorded is read, with a note. */
    g_autofree char *note = NULL;
    if (!pp_version_check_compatible(s->summary, "shard", summary, &note,
                                     error)) {
        return NULL;
    }
    if (note != NULL) {
        g_printerr("plugpull: merge: note: %s\n", note);
    }
    s->points_parser = pp_json_load_object(points, &s->points, error);
    if (s->points_parser == NULL) {
        return NULL;
    }
    if (member_at(s->summary, "shard") == NULL
        || member_at(s->summary, "recording.id") == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not a shard (made without --recording REC --shard "
                    "K/N)", dir);
        return NULL;
    }
    gint64 k = int_at(s->summary, "shard.index");
    gint64 n = int_at(s->summary, "shard.count");
    if (n < 1 || k < 1 || k > n) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: summary.json: shard %" G_GINT64_FORMAT "/%"
                    G_GINT64_FORMAT " is not a shard", dir, k, n);
        return NULL;
    }
    s->index = (guint)k;
    s->count = (guint)n;
    JsonNode *cases = json_object_get_member(s->points, "cases");
    if (cases == NULL || !JSON_NODE_HOLDS_ARRAY(cases)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s/points.json: no 'cases' array", dir);
        return NULL;
    }
    return g_steal_pointer(&s);
}

/*
 * What must be the same in every shard: the campaign (recording,
 * scenario, model, seed, points, resume, client) and the split.
 */
static const char *const same_keys[] = {
    "tier", "scenario.name", "model", "seed", "repeat", "points",
    "resume.choice",
    "client.version", "recording.id", "trace.records", "trace.commit_point",
    "shard.count", "shard.points_all", NULL,
};

/* Every way the shards do not belong together, one line each. */
static void
check_together(GPtrArray *shards, GString *bad)
{
    const Shard *first = shards->pdata[0];
    for (guint i = 1; i < shards->len; i++) {
        const Shard *s = shards->pdata[i];
        for (guint j = 0; same_keys[j] != NULL; j++) {
            g_autofree char *a = member_text(first->summary, same_keys[j]);
            g_autofree char *b = member_text(s->summary, same_keys[j]);
            if (!g_str_equal(a, b)) {
                g_string_append_printf(bad, "\n  %s: %s is %s, but in %s it "
                                       "is %s", s->dir, same_keys[j], b,
                                       first->dir, a);
            }
        }
    }
    if (bad->len > 0) {
        return;     /* the indices below mean nothing across campaigns */
    }
    guint n = first->count;
    g_autofree const Shard **by_index = g_new0(const Shard *, n + 1);
    for (guint i = 0; i < shards->len; i++) {
        const Shard *s = shards->pdata[i];
        if (by_index[s->index] != NULL) {
            g_string_append_printf(bad, "\n  %s and %s are both shard %u/%u",
                                   by_index[s->index]->dir, s->dir, s->index,
                                   n);
        }
        by_index[s->index] = s;
    }
    g_autoptr(GString) given = g_string_new(NULL);
    for (guint k = 1; k <= n; k++) {
        if (by_index[k] != NULL) {
            g_string_append_printf(given, "%s%s (%u/%u)",
                                   given->len > 0 ? ", " : "",
                                   by_index[k]->dir, k, n);
        }
    }
    for (guint k = 1; k <= n; k++) {
        if (by_index[k] == NULL) {
            g_string_append_printf(bad, "\n  shard %u/%u of recording %.12s "
                                   "is missing (given: %s)", k, n,
                                   string_at(first->summary, "recording.id"),
                                   given->str);
        }
    }
}

static gint
by_index(gconstpointer a, gconstpointer b)
{
    const Shard *x = *(const Shard *const *)a, *y = *(const Shard *const *)b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static gint
by_k(gconstpointer a, gconstpointer b)
{
    const PpCase *x = *(const PpCase *const *)a;
    const PpCase *y = *(const PpCase *const *)b;
    return x->k < y->k ? -1 : x->k > y->k;
}

/* Every case of every shard, by k; a k judged twice is bad input. */
static GPtrArray *
join_cases(GPtrArray *shards, GError **error)
{
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    for (guint i = 0; i < shards->len; i++) {
        const Shard *s = shards->pdata[i];
        JsonArray *arr = json_object_get_array_member(s->points, "cases");
        for (guint j = 0; j < json_array_get_length(arr); j++) {
            JsonNode *n = json_array_get_element(arr, j);
            PpCase *c = JSON_NODE_HOLDS_OBJECT(n)
                ? pp_case_from_point(json_node_get_object(n), error) : NULL;
            if (c == NULL) {
                if (error != NULL && *error == NULL) {
                    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                "case %u is not an object", j);
                }
                g_prefix_error(error, "%s/points.json: ", s->dir);
                return NULL;
            }
            g_ptr_array_add(cases, c);
        }
    }
    g_ptr_array_sort(cases, by_k);
    for (guint i = 1; i < cases->len; i++) {
        const PpCase *a = cases->pdata[i - 1], *b = cases->pdata[i];
        if (a->k == b->k) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "crash point %u was judged by two shards (%s)", b->k,
                        b->id);
            return NULL;
        }
    }
    return g_steal_pointer(&cases);
}

/* Copy every shard's cases/<id>.json into out/cases, each atomically. */
static gboolean
copy_case_files(GPtrArray *shards, const char *out, GError **error)
{
    g_autofree char *dest = g_build_filename(out, "cases", NULL);
    if (!pp_mkdir_p(dest, error)) {
        return FALSE;
    }
    for (guint i = 0; i < shards->len; i++) {
        const Shard *s = shards->pdata[i];
        g_autofree char *src = g_build_filename(s->dir, "cases", NULL);
        g_autoptr(GDir) d = g_dir_open(src, 0, NULL);
        const char *name;
        while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
            if (!g_str_has_suffix(name, ".json")) {
                continue;
            }
            g_autofree char *from = g_build_filename(src, name, NULL);
            g_autofree char *to = g_build_filename(dest, name, NULL);
            g_autofree char *text = NULL;
            gsize len = 0;
            if (g_file_test(to, G_FILE_TEST_EXISTS)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                            "%s: case %s came from another shard too", from,
                            name);
                return FALSE;
            }
            if (!g_file_get_contents(from, &text, &len, error)
                || !pp_write_file_durable(to, text, (gssize)len, error)) {
                g_prefix_error(error, "copying %s to %s: ", from, to);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean
pp_cmd_merge(int argc, char **argv, GError **error)
{
    g_autofree char *out = NULL;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "the merged results (new or empty directory)", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("SHARD...");
    g_option_context_set_summary(ctx, "Join the shards of one campaign "
                                 "(plugpull sim --recording REC --shard K/N) "
                                 "into one summary.json, points.json, "
                                 "junit.xml and cases/.\nExit status: 0 all "
                                 "passed, 1 a failure was found, 2 usage or "
                                 "shards that do not belong together, 3 the "
                                 "harness failed.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (out == NULL || argc < 2) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs the shard directories and --out "
                             "DIR");
    }

    g_autoptr(GPtrArray) shards = g_ptr_array_new_with_free_func(
        (GDestroyNotify)shard_free);
    for (int i = 1; i < argc; i++) {
        Shard *s = shard_load(argv[i], error);
        if (s == NULL) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        g_ptr_array_add(shards, s);
    }
    g_autoptr(GString) bad = g_string_new(NULL);
    check_together(shards, bad);
    if (bad->len > 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "these are not the shards of one "
                             "campaign:%s", bad->str);
    }
    g_ptr_array_sort(shards, by_index);
    g_autoptr(GPtrArray) cases = join_cases(shards, error);
    if (cases == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    g_autofree char *dir = g_canonicalize_filename(out, NULL);
    if (!pp_out_dir_prepare(dir, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }

    const Shard *first = shards->pdata[0];
    JsonObject *s0 = first->summary;
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    PpRunInfo info = {
        .tier = string_at(s0, "tier"),
        .scenario_name = string_at(s0, "scenario.name"),
        .scenario_path = string_at(s0, "scenario.path"),
        .action = string_at(s0, "scenario.action"),
        .bootloader = string_at(s0, "scenario.bootloader"),
        .expect_failures = g_str_equal(string_at(s0, "scenario.expect"),
                                       "failures"),
        /* Your firmware, when the shards tested it. */
        .firmware_repo = member_at(s0, "scenario.firmware") != NULL
                         ? string_at(s0, "scenario.firmware.repo") : NULL,
        .firmware_from = string_at(s0, "scenario.firmware.from"),
        .firmware_to = string_at(s0, "scenario.firmware.to"),
        .to_commit = string_at(s0, "scenario.firmware.to_commit"),
        .model = string_at(s0, "model"),
        .seed = (guint64)int_at(s0, "seed"),
        .repeat = (guint)int_at(s0, "repeat"),
        .points = string_at(s0, "points"),
        .resume = string_at(s0, "resume.choice"),
        .client_path = string_at(s0, "client.path"),
        .client_version = string_at(s0, "client.version"),
        .trace_path = string_at(s0, "trace.path"),
        .records = (guint)int_at(s0, "trace.records"),
        .commit_point = (gint)int_at(s0, "trace.commit_point"),
        .recording_id = string_at(s0, "recording.id"),
        .recording_dir = string_at(s0, "recording.dir"),
    };
    for (guint i = 0; i < shards->len; i++) {
        const Shard *s = shards->pdata[i];
        JsonObject *o = s->summary;
        const char *started = string_at(o, "started");
        info.points_total += (guint)int_at(o, "points_chosen");
        info.jobs += (guint)int_at(o, "jobs");
        info.interrupted |= bool_at(o, "interrupted");
        info.budget_hit |= bool_at(o, "budget_reached");
        info.budget_s = MAX(info.budget_s, int_at(o, "budget_s"));
        info.duration_s = MAX(info.duration_s, double_at(o, "duration_s"));
        info.judge_seconds = MAX(info.judge_seconds,
                                 double_at(o, "cases_wall_s"));
        if (info.started == NULL || strcmp(started, info.started) < 0) {
            info.started = (char *)started;
        }
        g_ptr_array_add(dirs, g_canonicalize_filename(s->dir, NULL));
    }
    g_ptr_array_add(dirs, NULL);
    info.merged_from = (const char *const *)dirs->pdata;

    if (!copy_case_files(shards, dir, error)
        || !pp_write_points(dir, &info, cases, error)
        || !pp_write_summary(dir, &info, cases, error)
        || !pp_write_junit(dir, &info, cases, error)) {
        return FALSE;
    }
    guint failed = 0, known = 0;
    for (guint i = 0; i < cases->len; i++) {
        failed += pp_case_failed(cases->pdata[i]);
        known += pp_case_known(cases->pdata[i]);
    }
    /* The shards' known findings, as their points.json mark them. */
    pp_known_print(cases);
    g_autofree char *known_note = known > 0
        ? g_strdup_printf(", %u known", known) : g_strdup("");
    g_print("merged %u shards of recording %.12s (scenario %s, model %s, "
            "seed %" G_GUINT64_FORMAT ", points %s): %u passed, %u failed%s "
            "(%u cases of %u crash points); results in %s\n", shards->len,
            info.recording_id, info.scenario_name, info.model, info.seed,
            info.points, cases->len - failed - known, failed, known_note,
            cases->len, info.points_total, dir);
    if (info.interrupted || info.budget_hit) {
        g_print("note: a shard was %s: %u of %u crash points covered\n",
                info.interrupted ? "interrupted" : "stopped by its budget",
                cases->len, info.points_total);
    }
    if (failed > 0) {
        return pp_throw_code(error, PP_ERROR_FAILURES,
                             "%u of %u cases failed", failed, cases->len);
    }
    return TRUE;
}
