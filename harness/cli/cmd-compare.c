/* SPDX-License-Identifier: MIT */
/*
 * cmd-compare.c: plugpull compare A B: two campaigns, crash point by crash
 * point.
 *
 * A and B are result directories of `plugpull sim` run with the same
 * model, seed and choice of points, on two builds of the client, two
 * firmware versions or two configurations, or of `plugpull run` (the VM
 * tier) with the same cut and seed.  Their crash points are paired:
 *
 *   - VM tier: by id ("vm-c<cycle>-s<seed>": the same draw in both); the
 *     time of a cut is measured, not chosen, so it is no key;
 *   - by call index k when both traces have the same length (the usual
 *     case: same client, same workload);
 *   - otherwise by phase and position: the i-th point judged in A's pull
 *     phase against the i-th in B's, and so on.  That is approximate, and
 *     the output says so.
 *
 * Each pair is unchanged, newly failing (passed in A, fails in B), newly
 * passing, outcome-changed (fails in both, differently) or still failing;
 * points without a partner are "only in A" or "only in B".  B regresses
 * when a point newly fails or B has more failures in all: exit 1.
 *
 * With --out DIR: DIR/compare.json (everything above, pair by pair) and
 * DIR/compare.html, rendered from it by reports/compare_html.py.
 *
 * Exit status: 0 no regression, 1 B regresses, 2 usage (a directory is
 * not a campaign; model, seed or points differ without --force), 3 the
 * harness failed (unreadable results, --out not writable).
 */
#include <string.h>

#include <gio/gio.h>

#include "plugpull.h"
#include "sim/sim-out.h"
#include "common/json.h"
#include "common/outcome.h"
#include "common/util.h"

/* How many pairs of each kind the text summary lists. */
#define SHOW_MAX 10

typedef struct {
    char *dir;                 /* absolute */
    JsonParser *summary_parser;
    JsonParser *points_parser;
    JsonObject *summary;
    GPtrArray *points;         /* JsonObject *, sorted by k */
    gint64 records;
    gint64 commit_point;
    guint failed;
    gboolean vm;               /* tier "vm": points are power-cut cycles */
} Campaign;

typedef enum {
    CHANGE_SAME,
    CHANGE_NEWLY_FAILING,
    CHANGE_NEWLY_PASSING,
    CHANGE_OUTCOME_CHANGED,
    CHANGE_STILL_FAILING,
    CHANGE_ONLY_A,
    CHANGE_ONLY_B,
    CHANGE_COUNT
} Change;

static const char *const change_names[CHANGE_COUNT] = {
    "same", "newly-failing", "newly-passing", "outcome-changed",
    "still-failing", "only-a", "only-b",
};

typedef struct {
    JsonObject *a;             /* NULL: only in B */
    JsonObject *b;             /* NULL: only in A */
    Change change;
} Pair;

static void
campaign_clear(Campaign *c)
{
    g_clear_pointer(&c->dir, g_free);
    g_clear_object(&c->summary_parser);
    g_clear_object(&c->points_parser);
    g_clear_pointer(&c->points, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Campaign, campaign_clear)

static const char *
str_member(JsonObject *o, const char *name)
{
    return o != NULL ? json_object_get_string_member_with_default(o, name, "?")
                     : "?";
}

/* summary.scenario.strategy, "ostree" when absent. */
static const char *
strategy_of(JsonObject *summary)
{
    JsonNode *n = summary != NULL
                  ? json_object_get_member(summary, "scenario") : NULL;
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n)
           ? json_object_get_string_member_with_default(
                 json_node_get_object(n), "strategy", "ostree")
           : "ostree";
}

static gint64
int_member(JsonObject *o, const char *name)
{
    return o != NULL ? json_object_get_int_member_with_default(o, name, 0) : 0;
}

static double
double_member(JsonObject *o, const char *name)
{
    return o != NULL ? json_object_get_double_member_with_default(o, name, 0.0)
                     : 0.0;
}

static JsonObject *
object_member(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name)) {
        return NULL;
    }
    JsonNode *n = json_object_get_member(o, name);
    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static gboolean
point_failed(JsonObject *p)
{
    return !pp_outcome_is(str_member(p, "outcome"), PP_OUTCOME_PASS);
}

static gint
by_k(gconstpointer x, gconstpointer y)
{
    gint64 a = int_member(*(JsonObject *const *)x, "k");
    gint64 b = int_member(*(JsonObject *const *)y, "k");
    return a < b ? -1 : a > b;
}

/*
 * Parse DIR/NAME into *parser; its root object in *out.  A missing file
 * is G_IO_ERROR_NOT_FOUND (the caller's usage error), anything else
 * G_IO_ERROR_INVALID_DATA.
 */
static gboolean
load_object(const char *dir, const char *name, JsonParser **parser,
            JsonObject **out, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s: no %s (not a plugpull result directory?)", dir,
                    name);
        return FALSE;
    }
    *parser = pp_json_load_object(path, out, error);
    return *parser != NULL;
}

static gboolean
campaign_load(Campaign *c, const char *dir, GError **error)
{
    c->dir = g_canonicalize_filename(dir, NULL);
    JsonObject *points = NULL;
    if (!load_object(c->dir, "summary.json", &c->summary_parser, &c->summary,
                     error)
        || !load_object(c->dir, "points.json", &c->points_parser, &points,
                        error)) {
        return FALSE;
    }
    JsonNode *cases = json_object_get_member(points, "cases");
    if (cases == NULL || !JSON_NODE_HOLDS_ARRAY(cases)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s/points.json: no 'cases' array", c->dir);
        return FALSE;
    }
    JsonArray *arr = json_node_get_array(cases);
    c->points = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "%s/points.json: case %u is not an object", c->dir, i);
            return FALSE;
        }
        JsonObject *p = json_node_get_object(n);
        g_ptr_array_add(c->points, p);
        c->failed += point_failed(p);
    }
    g_ptr_array_sort(c->points, by_k);
    c->records = int_member(points, "trace_records");
    c->vm = g_str_equal(json_object_get_string_member_with_default(
                            points, "tier",
                            str_member(c->summary, "tier")), "vm");
    c->commit_point = json_object_get_int_member_with_default(
        points, "commit_point", -1);
    return TRUE;
}

/*
 * What must agree for crash points to be comparable.  Each difference is
 * appended to `out` as a sentence.
 */
static void
check_comparable(const Campaign *a, const Campaign *b, GPtrArray *out)
{
    /* "?" in both when absent: model and points are the sim tier's, cut
       the VM tier's. */
    const char *keys[] = { "tier", "model", "points", "cut", NULL };
    for (guint i = 0; keys[i] != NULL; i++) {
        const char *va = str_member(a->summary, keys[i]);
        const char *vb = str_member(b->summary, keys[i]);
        if (!g_str_equal(va, vb)) {
            g_ptr_array_add(out, g_strdup_printf("%s differs: A %s, B %s",
                                                 keys[i], va, vb));
        }
    }
    /* Crash point k of one strategy's update is another call than k of
       another's.  Summaries from before [update] strategy were ostree's. */
    const char *sta = strategy_of(a->summary);
    const char *stb = strategy_of(b->summary);
    if (!g_str_equal(sta, stb)) {
        g_ptr_array_add(out, g_strdup_printf("strategy differs: A %s, B %s",
                                             sta, stb));
    }
    gint64 sa = int_member(a->summary, "seed");
    gint64 sb = int_member(b->summary, "seed");
    if (sa != sb) {
        g_ptr_array_add(out, g_strdup_printf("seed differs: A %" G_GINT64_FORMAT
                                             ", B %" G_GINT64_FORMAT, sa, sb));
    }
}

static Change
classify(JsonObject *a, JsonObject *b)
{
    if (b == NULL) {
        return CHANGE_ONLY_A;
    }
    if (a == NULL) {
        return CHANGE_ONLY_B;
    }
    gboolean fa = point_failed(a), fb = point_failed(b);
    if (!fa && !fb) {
        return CHANGE_SAME;
    }
    if (!fa) {
        return CHANGE_NEWLY_FAILING;
    }
    if (!fb) {
        return CHANGE_NEWLY_PASSING;
    }
    return g_str_equal(str_member(a, "outcome"), str_member(b, "outcome"))
        ? CHANGE_STILL_FAILING : CHANGE_OUTCOME_CHANGED;
}

static void
add_pair(GArray *pairs, JsonObject *a, JsonObject *b)
{
    Pair p = { a, b, classify(a, b) };
    g_array_append_val(pairs, p);
}

/* Same trace length: a merge of the two lists sorted by k. */
static void
match_by_k(const Campaign *a, const Campaign *b, GArray *pairs)
{
    guint i = 0, j = 0;
    while (i < a->points->len || j < b->points->len) {
        JsonObject *pa = i < a->points->len ? a->points->pdata[i] : NULL;
        JsonObject *pb = j < b->points->len ? b->points->pdata[j] : NULL;
        gint64 ka = pa != NULL ? int_member(pa, "k") : G_MAXINT64;
        gint64 kb = pb != NULL ? int_member(pb, "k") : G_MAXINT64;
        if (ka == kb) {
            add_pair(pairs, pa, pb);
            i++;
            j++;
        } else if (ka < kb) {
            add_pair(pairs, pa, NULL);
            i++;
        } else {
            add_pair(pairs, NULL, pb);
            j++;
        }
    }
}

/* VM tier: cycle by cycle (the same id is the same draw); the pairs in
   the order of A's cut times, then the cycles only B has. */
static void
match_by_id(const Campaign *a, const Campaign *b, GArray *pairs)
{
    g_autoptr(GHashTable) in_b = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < b->points->len; i++) {
        JsonObject *pb = b->points->pdata[i];
        g_hash_table_insert(in_b, (gpointer)str_member(pb, "id"), pb);
    }
    for (guint i = 0; i < a->points->len; i++) {
        const char *id = str_member(a->points->pdata[i], "id");
        add_pair(pairs, a->points->pdata[i], g_hash_table_lookup(in_b, id));
        g_hash_table_remove(in_b, id);
    }
    for (guint i = 0; i < b->points->len; i++) {
        JsonObject *pb = b->points->pdata[i];
        if (g_hash_table_contains(in_b, str_member(pb, "id"))) {
            add_pair(pairs, NULL, pb);
        }
    }
}

/* The points of one phase, in order. */
static GPtrArray *
phase_points(const Campaign *c, const char *phase)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < c->points->len; i++) {
        JsonObject *p = c->points->pdata[i];
        if (g_str_equal(str_member(p, "phase"), phase)) {
            g_ptr_array_add(out, p);
        }
    }
    return out;
}

/* Different trace lengths: the i-th point of a phase in A against the
 * i-th of the same phase in B. */
static void
match_by_position(const Campaign *a, const Campaign *b, GArray *pairs)
{
    /* Phases in the order they first appear in A, then B's others. */
    g_autoptr(GPtrArray) phases = g_ptr_array_new();
    const Campaign *both[] = { a, b };
    for (guint c = 0; c < G_N_ELEMENTS(both); c++) {
        for (guint i = 0; i < both[c]->points->len; i++) {
            const char *ph = str_member(both[c]->points->pdata[i], "phase");
            if (!g_ptr_array_find_with_equal_func(phases, ph, g_str_equal,
                                                  NULL)) {
                g_ptr_array_add(phases, (gpointer)ph);
            }
        }
    }
    for (guint f = 0; f < phases->len; f++) {
        g_autoptr(GPtrArray) pa = phase_points(a, phases->pdata[f]);
        g_autoptr(GPtrArray) pb = phase_points(b, phases->pdata[f]);
        for (guint i = 0; i < MAX(pa->len, pb->len); i++) {
            add_pair(pairs, i < pa->len ? pa->pdata[i] : NULL,
                     i < pb->len ? pb->pdata[i] : NULL);
        }
    }
}

/* ---- output ------------------------------------------------------------ */

static void
print_campaign(const char *label, const Campaign *c)
{
    JsonObject *sc = object_member(c->summary, "scenario");
    JsonObject *client = object_member(c->summary, "client");
    if (c->vm) {
        g_print("%s: %s\n   scenario %s, VM tier (%s), cut %s, seed %"
                G_GINT64_FORMAT ": %u cycles, %u failed%s\n", label, c->dir,
                str_member(sc, "name"), str_member(c->summary, "bootloader"),
                str_member(c->summary, "cut"), int_member(c->summary, "seed"),
                c->points->len, c->failed,
                json_object_get_boolean_member_with_default(
                    c->summary, "interrupted", FALSE)
                ? " (INTERRUPTED run)" : "");
        return;
    }
    g_print("%s: %s\n   scenario %s, model %s, seed %" G_GINT64_FORMAT
            ", points %s, client %s %s: %u crash points, %u failed%s\n",
            label, c->dir, str_member(sc, "name"),
            str_member(c->summary, "model"), int_member(c->summary, "seed"),
            str_member(c->summary, "points"), str_member(client, "path"),
            str_member(client, "version"), c->points->len, c->failed,
            json_object_get_boolean_member_with_default(c->summary,
                                                        "interrupted", FALSE)
            ? " (INTERRUPTED run)" : "");
    JsonObject *fw = object_member(sc, "firmware");
    if (fw != NULL) {
        g_print("   your firmware %s: %s -> %s (%.12s)\n",
                str_member(fw, "repo"), str_member(fw, "from"),
                str_member(fw, "to"), str_member(fw, "to_commit"));
    }
}

static char *
describe_point(JsonObject *p)
{
    if (p == NULL) {
        return g_strdup("-");
    }
    if (json_object_has_member(p, "time_s")) {
        return g_strdup_printf("t=%.3fs %s", double_member(p, "time_s"),
                               str_member(p, "outcome"));
    }
    /* A failure a known finding excuses is still a failure here (a
     * regression is one whatever a team acknowledged); it is named. */
    JsonNode *kn = json_object_get_member(p, "known");
    JsonObject *ko = kn != NULL && JSON_NODE_HOLDS_OBJECT(kn)
        ? json_node_get_object(kn) : NULL;
    const char *finding = ko != NULL ? str_member(ko, "finding") : NULL;
    g_autofree char *known = finding != NULL
        ? g_strdup_printf(" (known: %s%s)", finding,
                          json_object_get_boolean_member_with_default(
                              ko, "expired", FALSE) ? ", expired" : "")
        : g_strdup("");
    return g_strdup_printf("k=%" G_GINT64_FORMAT " %s%s", int_member(p, "k"),
                           str_member(p, "outcome"), known);
}

/* A reason on one line of a terminal: at most `max` characters. */
static char *
ellipsize(const char *s, glong max)
{
    if (g_utf8_strlen(s, -1) <= max) {
        return g_strdup(s);
    }
    g_autofree char *head = g_utf8_substring(s, 0, max - 3);
    return g_strconcat(head, "...", NULL);
}

static void
print_pairs(const Campaign *b, GArray *pairs, Change which, const char *title,
            guint count)
{
    if (count == 0) {
        return;
    }
    g_print("%s (%u%s):\n", title, count,
            count > SHOW_MAX ? ", first " G_STRINGIFY(SHOW_MAX) : "");
    guint shown = 0;
    for (guint i = 0; i < pairs->len && shown < SHOW_MAX; i++) {
        const Pair *p = &g_array_index(pairs, Pair, i);
        if (p->change != which) {
            continue;
        }
        shown++;
        JsonObject *any = p->b != NULL ? p->b : p->a;
        g_autofree char *da = describe_point(p->a);
        g_autofree char *db = describe_point(p->b);
        g_autofree char *why = ellipsize(str_member(any, "reason"), 100);
        g_print("  %-10s A %s -> B %s: %s\n", str_member(any, "phase"), da, db,
                why);
        if (p->b != NULL && point_failed(p->b)) {
            g_print("             replay: cd %s && plugpull replay cases/%s.json\n",
                    b->dir, str_member(p->b, "id"));
        }
    }
}

typedef struct {
    guint checked;
    gint64 bytes;
    gint64 objects;
    gint64 refetched;
    double duration;
    double rate;
    const char *rate_unit;
    gboolean objects_counted;    /* the VM tier counts bytes only */
} Cost;

static Cost
campaign_cost(const Campaign *c)
{
    JsonObject *r = object_member(c->summary, "resume");
    Cost cost = {
        .checked = (guint)int_member(r, "checked"),
        .bytes = int_member(r, "bytes_downloaded"),
        .objects = int_member(r, "objects_downloaded"),
        .refetched = int_member(r, "objects_redownloaded"),
        .duration = double_member(c->summary, "duration_s"),
        .rate = double_member(c->summary, "states_per_minute"),
        .rate_unit = "states/minute",
        .objects_counted = TRUE,
    };
    if (c->vm) {
        /* No "resume" section: the stand-in server counted the bytes of
           each resumed cycle; objects are not counted. */
        for (guint i = 0; i < c->points->len; i++) {
            cost.checked += json_object_get_boolean_member_with_default(
                c->points->pdata[i], "resumed", FALSE);
        }
        cost.bytes = int_member(c->summary, "resume_bytes_total");
        cost.rate = double_member(c->summary, "cycles_per_hour");
        cost.rate_unit = "cycles/hour";
        cost.objects_counted = FALSE;
    }
    return cost;
}

static void
print_cost(const Cost *a, const Cost *b)
{
    g_autofree char *ba = g_format_size_full(a->bytes, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *bb = g_format_size_full(b->bytes, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *ma = g_format_size_full(a->checked ? a->bytes / a->checked : 0,
                                             G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *mb = g_format_size_full(b->checked ? b->bytes / b->checked : 0,
                                             G_FORMAT_SIZE_IEC_UNITS);
    if (!a->objects_counted || !b->objects_counted) {
        g_print("resume: A %u resumed, %s; B %u resumed, %s; per resumed "
                "cycle %s -> %s\n", a->checked, ba, b->checked, bb, ma, mb);
    } else {
        g_print("resume: A %u resumed, %s, %" G_GINT64_FORMAT " objects, %"
                G_GINT64_FORMAT " re-downloaded; B %u resumed, %s, %"
                G_GINT64_FORMAT " objects, %" G_GINT64_FORMAT " re-downloaded "
                "(%+" G_GINT64_FORMAT "); per resumed case %s -> %s\n",
                a->checked, ba, a->objects, a->refetched, b->checked, bb,
                b->objects, b->refetched, b->refetched - a->refetched, ma, mb);
    }
    g_print("duration: A %.1f s (%.0f %s), B %.1f s (%.0f %s): %+.1f s\n",
            a->duration, a->rate, a->rate_unit, b->duration, b->rate,
            b->rate_unit, b->duration - a->duration);
}

static void
add_point(JsonBuilder *bld, const char *name, JsonObject *p)
{
    json_builder_set_member_name(bld, name);
    if (p == NULL) {
        json_builder_add_null_value(bld);
        return;
    }
    json_builder_add_value(bld, json_node_init_object(json_node_alloc(), p));
}

static void
add_campaign(JsonBuilder *bld, const char *name, const Campaign *c)
{
    json_builder_set_member_name(bld, name);
    json_builder_begin_object(bld);
    pp_json_add_string(bld, "dir", c->dir);
    json_builder_set_member_name(bld, "summary");
    json_builder_add_value(bld, json_node_init_object(json_node_alloc(),
                                                      c->summary));
    pp_json_add_int(bld, "trace_records", c->records);
    pp_json_add_int(bld, "commit_point", c->commit_point);
    pp_json_add_int(bld, "failed", c->failed);
    json_builder_end_object(bld);
}

static JsonNode *
compare_to_json(const Campaign *a, const Campaign *b, const char *matching,
                GPtrArray *mismatches, const guint *counts, gboolean regressed,
                const char *verdict, GArray *pairs)
{
    g_autoptr(JsonBuilder) bld = json_builder_new();
    json_builder_begin_object(bld);
    pp_json_add_string(bld, "tool", "plugpull");
    pp_json_add_string(bld, "kind", "compare");
    add_campaign(bld, "a", a);
    add_campaign(bld, "b", b);
    pp_json_add_string(bld, "matching", matching);
    json_builder_set_member_name(bld, "mismatches");
    json_builder_begin_array(bld);
    for (guint i = 0; i < mismatches->len; i++) {
        json_builder_add_string_value(bld, mismatches->pdata[i]);
    }
    json_builder_end_array(bld);
    json_builder_set_member_name(bld, "counts");
    json_builder_begin_object(bld);
    for (guint c = 0; c < CHANGE_COUNT; c++) {
        pp_json_add_int(bld, change_names[c], counts[c]);
    }
    json_builder_end_object(bld);
    pp_json_add_boolean(bld, "regressed", regressed);
    pp_json_add_string(bld, "verdict", verdict);
    json_builder_set_member_name(bld, "pairs");
    json_builder_begin_array(bld);
    for (guint i = 0; i < pairs->len; i++) {
        const Pair *p = &g_array_index(pairs, Pair, i);
        json_builder_begin_object(bld);
        pp_json_add_string(bld, "change", change_names[p->change]);
        add_point(bld, "a", p->a);
        add_point(bld, "b", p->b);
        json_builder_end_object(bld);
    }
    json_builder_end_array(bld);
    json_builder_end_object(bld);
    return json_builder_get_root(bld);
}

static gboolean
write_outputs(const char *out, JsonNode *root, GError **error)
{
    if (!pp_mkdir_p(out, error)) {
        return FALSE;
    }
    g_autofree char *json_path = g_build_filename(out, "compare.json", NULL);
    g_autofree char *html_path = g_build_filename(out, "compare.html", NULL);
    if (!pp_write_json(json_path, root, error)) {
        return FALSE;
    }
    const char *args[] = { json_path, "--out", html_path, NULL };
    int status = 0;
    if (!pp_reports_run("compare_html.py", args, &status, error)) {
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "compare_html.py exited %d", status);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_cmd_compare(int argc, char **argv, GError **error)
{
    g_autofree char *out = NULL;
    gboolean force = FALSE;
    GOptionEntry entries[] = {
        { "out", 0, 0, G_OPTION_ARG_FILENAME, &out,
          "write DIR/compare.json and DIR/compare.html", "DIR" },
        { "force", 0, 0, G_OPTION_ARG_NONE, &force,
          "compare even when model, seed or points differ", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("A B");
    g_option_context_set_summary(ctx, "Compare two sim (or two VM) result "
                                 "directories crash point by crash point "
                                 "(cycle by cycle).\nExit status: "
                                 "0 B does not regress, 1 B regresses (a "
                                 "point fails that passed in A, or more "
                                 "failures), 2 usage, 3 harness failure.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 3) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs two result directories, A and B");
    }

    g_auto(Campaign) a = { 0 };
    g_auto(Campaign) b = { 0 };
    if (!campaign_load(&a, argv[1], error)
        || !campaign_load(&b, argv[2], error)) {
        if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        return FALSE;
    }
    g_autoptr(GPtrArray) mismatches = g_ptr_array_new_with_free_func(g_free);
    check_comparable(&a, &b, mismatches);
    for (guint i = 0; i < mismatches->len; i++) {
        g_printerr("plugpull: compare: %s%s\n", (char *)mismatches->pdata[i],
                   force ? " (--force: compared anyway)" : "");
    }
    if (mismatches->len > 0 && !force) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "the campaigns are not comparable crash point "
                             "by crash point; --force to compare anyway");
    }

    print_campaign("A", &a);
    print_campaign("B", &b);
    const char *matching = "k";
    g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(Pair));
    if (a.vm && b.vm) {
        matching = "id";
        match_by_id(&a, &b, pairs);
    } else if (a.records == b.records) {
        match_by_k(&a, &b, pairs);
    } else {
        matching = "phase-position";
        g_print("traces differ in length (A %" G_GINT64_FORMAT " calls, B %"
                G_GINT64_FORMAT "): crash points matched by phase and "
                "position, not by call index\n", a.records, b.records);
        match_by_position(&a, &b, pairs);
    }
    guint counts[CHANGE_COUNT] = { 0 };
    for (guint i = 0; i < pairs->len; i++) {
        counts[g_array_index(pairs, Pair, i).change]++;
    }
    guint matched = pairs->len - counts[CHANGE_ONLY_A] - counts[CHANGE_ONLY_B];
    g_print("matched %u crash points (only in A: %u, only in B: %u)\n"
            "  newly failing   %5u\n  newly passing   %5u\n"
            "  outcome changed %5u\n  still failing   %5u\n"
            "  unchanged pass  %5u\n", matched, counts[CHANGE_ONLY_A],
            counts[CHANGE_ONLY_B], counts[CHANGE_NEWLY_FAILING],
            counts[CHANGE_NEWLY_PASSING], counts[CHANGE_OUTCOME_CHANGED],
            counts[CHANGE_STILL_FAILING], counts[CHANGE_SAME]);
    g_print("failures: A %u, B %u (%+d)\n", a.failed, b.failed,
            (int)b.failed - (int)a.failed);
    Cost ca = campaign_cost(&a), cb = campaign_cost(&b);
    print_cost(&ca, &cb);
    print_pairs(&b, pairs, CHANGE_NEWLY_FAILING, "newly failing in B",
                counts[CHANGE_NEWLY_FAILING]);
    print_pairs(&b, pairs, CHANGE_NEWLY_PASSING, "newly passing in B",
                counts[CHANGE_NEWLY_PASSING]);
    print_pairs(&b, pairs, CHANGE_OUTCOME_CHANGED, "outcome changed",
                counts[CHANGE_OUTCOME_CHANGED]);

    gboolean regressed = counts[CHANGE_NEWLY_FAILING] > 0 || b.failed > a.failed;
    g_autofree char *verdict = NULL;
    if (counts[CHANGE_NEWLY_FAILING] > 0) {
        verdict = g_strdup_printf("REGRESSION: %u crash point(s) fail in B "
                                  "that passed in A",
                                  counts[CHANGE_NEWLY_FAILING]);
    } else if (b.failed > a.failed) {
        verdict = g_strdup_printf("REGRESSION: B fails more (%u against %u)",
                                  b.failed, a.failed);
    } else {
        verdict = g_strdup_printf("no regression: nothing newly fails in B "
                                  "(%u newly passing)",
                                  counts[CHANGE_NEWLY_PASSING]);
    }
    g_print("verdict: %s\n", verdict);
    if (out != NULL) {
        g_autoptr(JsonNode) root = compare_to_json(&a, &b, matching,
                                                   mismatches, counts,
                                                   regressed, verdict, pairs);
        if (!write_outputs(out, root, error)) {
            return FALSE;
        }
        g_print("wrote %s/compare.json and compare.html\n", out);
    }
    if (regressed) {
        return pp_throw_code(error, PP_ERROR_FAILURES, "B regresses: %s",
                             verdict);
    }
    return TRUE;
}
