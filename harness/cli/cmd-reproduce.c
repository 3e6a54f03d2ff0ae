/* SPDX-License-Identifier: MIT */
/*
 * cmd-reproduce.c: plugpull reproduce IMAGE|DIR: from a bricked device's
 * dump to a crash schedule that bricks the simulated device the same way.
 *
 * The dump is judged as `plugpull inspect` judges it (inspect.h), with the
 * options every simulated crash state is judged with (the device boots
 * its default entry or nothing), and its diagnosis signature formed
 * (signature.h).  Then simulation campaigns run, cheap and likely first
 * (reprosearch.h), each a `plugpull sim` into OUT/search/NN/, until the
 * budget is spent or the space exhausted; every case whose signature
 * equals the dump's is a match, printed with its crash point and the
 * command that replays it; the closest others are near matches.
 * OUT/reproduce.json (written atomically after every campaign) holds the
 * dump's signature, the space covered and the matches.
 *
 * With --repo PATH (your firmware), the space is that firmware's own
 * update (repro-firmware.h): from each commit the dump has deployed to
 * each newer ref of the repo, one scenario file each in OUT/firmware/,
 * instead of the shipped scenarios of the built-in fixture.
 *
 * The command parses its options into a struct at file scope and runs
 * the stages: judge the dump, find the firmware's updates, open OUT,
 * make the search space, search, conclude.
 */
#include <stdio.h>
#include <string.h>

#include "crashstate.h"
#include "postmortem/inspect.h"
#include "oracle/known.h"
#include "plugpull.h"
#include "postmortem/repro-firmware.h"
#include "postmortem/reprosearch.h"
#include "server/firmware-repo.h"
#include "common/scenario.h"
#include "oracle/signature.h"
#include "sim/sim-out.h"
#include "common/json.h"
#include "common/util.h"

#define DEFAULT_BUDGET "10m"
/* Below this, a campaign would end in its own setup: not worth starting. */
#define MIN_CAMPAIGN_S 5

static const char *const default_models[] = {
    "ordered", "process-kill", "reorder", "torn", "strict", NULL,
};
static const char *const default_points[] = { "barriers", "all", NULL };

/* What one campaign of the search gave. */
typedef struct {
    const PpSearchStep *step;
    char *dir;
    char *log;
    int exit_status;
    const char *status;        /* done budget interrupted error */
    char *error;               /* the last line of its log, on error */
    gint64 cases;
    gint64 points_chosen;
    gint64 failed;
    guint matches;
    double seconds;
} Campaign;

static void
campaign_free(Campaign *c)
{
    g_free(c->dir);
    g_free(c->log);
    g_free(c->error);
    g_free(c);
}

typedef struct {
    const char *target;
    char *out;                 /* absolute */
    char *repo;                /* --repo, absolute; NULL: none */
    GPtrArray *updates;        /* with repo: PpFirmwareUpdate * */
    char **scenarios;          /* searched: --scenario, the firmware's
                                  updates, else the shipped ones */
    PpInspection *ins;
    JsonNode *judgement;
    JsonNode *sig;
    guint64 seed;
    gint64 budget_s;
    gboolean budget_hit;
    int interrupted;
    char *started;
    gint64 t0;
    GPtrArray *space;          /* PpSearchStep * */
    GPtrArray *skipped;        /* char * */
    GPtrArray *campaigns;      /* Campaign * */
    GPtrArray *matches;        /* PpSearchHit * */
    GPtrArray *near;           /* PpSearchHit *, best first */
    guint n_near;
} Repro;

static int
cmp_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The scenario files shipped: scenarios/ *.conf, sorted; a known-findings
   file there (its first group a [finding ...]) is no scenario. */
static char **
shipped_scenarios(GError **error)
{
    g_autofree char *dir = pp_data_dir("PLUGPULL_SCENARIOS", "scenarios", error);
    if (dir == NULL) {
        return NULL;
    }
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    if (d == NULL) {
        g_prefix_error(error, "the shipped scenarios: ");
        return NULL;
    }
    g_autoptr(GPtrArray) v = g_ptr_array_new();
    const char *n;
    while ((n = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_suffix(n, ".conf")) {
            continue;
        }
        g_autofree char *path = g_canonicalize_filename(n, dir);
        g_autofree char *data = NULL;
        if (g_file_get_contents(path, &data, NULL, NULL)
            && pp_known_data_is_findings(data)) {
            continue;
        }
        g_ptr_array_add(v, g_steal_pointer(&path));
    }
    g_ptr_array_sort(v, cmp_paths);
    g_ptr_array_add(v, NULL);
    char **out = (char **)g_ptr_array_free(g_steal_pointer(&v), FALSE);
    return out;
}

static JsonNode *
step_to_json(const PpSearchStep *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_int(b, "index", s->index);
    pp_json_add_string(b, "scenario", s->scenario);
    pp_json_add_string(b, "scenario_name", s->scenario_name);
    pp_json_add_string(b, "model", s->model);
    pp_json_add_string(b, "points", s->points);
    pp_json_add_double(b, "cost", s->cost);
    pp_json_add_string(b, "why", s->why);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static JsonNode *
campaign_to_json(const Campaign *c)
{
    JsonNode *n = step_to_json(c->step);
    JsonObject *o = json_node_get_object(n);
    json_object_set_string_member(o, "dir", c->dir);
    json_object_set_string_member(o, "log", c->log);
    json_object_set_string_member(o, "status", c->status);
    json_object_set_int_member(o, "exit_status", c->exit_status);
    if (c->error != NULL) {
        json_object_set_string_member(o, "error", c->error);
    }
    json_object_set_int_member(o, "cases", c->cases);
    json_object_set_int_member(o, "points_chosen", c->points_chosen);
    json_object_set_int_member(o, "failed", c->failed);
    json_object_set_int_member(o, "matches", c->matches);
    json_object_set_double_member(o, "seconds", c->seconds);
    return n;
}

static const PpSearchStep *
step_of(const Repro *r, guint index)
{
    return r->space->pdata[index - 1];
}

static const char *
verdict(const Repro *r)
{
    if (r->space == NULL) {
        return "nothing-to-reproduce";
    }
    if (r->matches->len > 0) {
        return "matched";
    }
    return r->interrupted != 0 ? "interrupted" : "no-match";
}

static gboolean
write_report(const Repro *r, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "tool", "plugpull reproduce");
    pp_json_add_string(b, "verdict", verdict(r));
    json_builder_set_member_name(b, "dump");
    json_builder_begin_object(b);
    pp_json_add_string(b, "path", r->target);
    pp_json_add_boolean(b, "image", r->ins->is_image);
    pp_json_add_string(b, "known_source", r->ins->known_source);
    json_builder_set_member_name(b, "notes");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->ins->notes->len; i++) {
        json_builder_add_string_value(b, r->ins->notes->pdata[i]);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "judgement");
    json_builder_add_value(b, json_node_copy(r->judgement));
    json_builder_end_object(b);
    json_builder_set_member_name(b, "signature");
    json_builder_add_value(b, json_node_copy(r->sig));
    g_autofree char *text = pp_signature_to_text(r->sig);
    pp_json_add_string(b, "signature_text", text);
    pp_json_add_int(b, "seed", (gint64)r->seed);
    pp_json_add_int(b, "budget_s", r->budget_s);
    pp_json_add_boolean(b, "budget_reached", r->budget_hit);
    pp_json_add_boolean(b, "interrupted", r->interrupted != 0);
    pp_json_add_string(b, "started", r->started);
    json_builder_set_member_name(b, "duration_s");
    json_builder_add_double_value(b, (double)(g_get_monotonic_time() - r->t0)
                                     / 1e6);

    json_builder_set_member_name(b, "search");
    json_builder_begin_object(b);
    pp_json_add_int(b, "space", r->space != NULL ? r->space->len : 0);
    json_builder_set_member_name(b, "skipped");
    json_builder_begin_array(b);
    for (guint i = 0; r->skipped != NULL && i < r->skipped->len; i++) {
        json_builder_add_string_value(b, r->skipped->pdata[i]);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "campaigns");
    json_builder_begin_array(b);
    for (guint i = 0; r->campaigns != NULL && i < r->campaigns->len; i++) {
        json_builder_add_value(b, campaign_to_json(r->campaigns->pdata[i]));
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "not_run");
    json_builder_begin_array(b);
    guint ran = r->campaigns != NULL ? r->campaigns->len : 0;
    for (guint i = ran; r->space != NULL && i < r->space->len; i++) {
        json_builder_add_value(b, step_to_json(r->space->pdata[i]));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "matches");
    json_builder_begin_array(b);
    for (guint i = 0; r->matches != NULL && i < r->matches->len; i++) {
        const PpSearchHit *h = r->matches->pdata[i];
        json_builder_add_value(b, pp_search_hit_to_json(h, step_of(r, h->step)));
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "near_matches");
    json_builder_begin_array(b);
    for (guint i = 0; r->near != NULL && i < r->near->len; i++) {
        const PpSearchHit *h = r->near->pdata[i];
        json_builder_add_value(b, pp_search_hit_to_json(h, step_of(r, h->step)));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(r->out, "reproduce.json", NULL);
    return pp_write_json(path, root, error);
}

/* Keep the n_near best non-matching cases, best first (earlier first
 * among equals: the cheaper campaign). */
static void
keep_near(Repro *r, PpSearchHit *h)
{
    guint pos = r->near->len;
    while (pos > 0 && ((PpSearchHit *)r->near->pdata[pos - 1])->agree < h->agree) {
        pos--;
    }
    if (pos >= r->n_near) {
        pp_search_hit_free(h);
        return;
    }
    g_ptr_array_insert(r->near, (gint)pos, h);
    if (r->near->len > r->n_near) {
        g_ptr_array_remove_index(r->near, r->near->len - 1);
    }
}

static void
print_hit(const char *tag, const PpSearchHit *h, const PpSearchStep *s,
          gboolean with_sig)
{
    g_print("%s %s: scenario %s, model %s, points %s: crash point k=%u, %s, "
            "phase %s (case: %s)\n", tag, h->id, s->scenario_name, s->model,
            s->points, h->k, h->syscall, h->phase, h->outcome);
    g_print("    call: %s\n", h->call);
    if (with_sig) {
        g_autofree char *text = pp_signature_to_text(h->signature);
        g_print("    %u/%u fields agree; differs in", h->agree,
                PP_SIGNATURE_N_FIELDS);
        for (guint i = 0; i < h->differ->len; i++) {
            g_print(" %s", (char *)h->differ->pdata[i]);
        }
        g_print("\n    signature: %s\n", text);
    }
    g_print("    replay: %s\n", h->replay);
}

/* The last non-empty line of a file, for an error message. */
static char *
last_line(const char *path)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return g_strdup("(no log)");
    }
    g_strchomp(text);
    const char *nl = strrchr(text, '\n');
    return g_strdup(nl != NULL ? nl + 1 : text);
}

/* What the campaign's summary.json says it covered. */
static void
read_summary(Campaign *c)
{
    g_autofree char *path = g_build_filename(c->dir, "summary.json", NULL);
    JsonObject *o = NULL;
    g_autoptr(JsonParser) p = pp_json_load_object(path, &o, NULL);
    if (p == NULL) {
        return;
    }
    c->cases = json_object_get_int_member_with_default(o, "cases", 0);
    c->points_chosen = json_object_get_int_member_with_default(
        o, "points_chosen", 0);
    c->failed = json_object_get_int_member_with_default(o, "failed", 0);
    if (g_str_equal(c->status, "done")
        && json_object_get_boolean_member_with_default(o, "budget_reached",
                                                       FALSE)) {
        c->status = "budget";
    }
}

/* Run the campaigns in order until the budget, a signal or the end. */
static gboolean
search(Repro *r, guint jobs, gboolean stop_on_match, GError **error)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", error);
    if (exe == NULL) {
        g_prefix_error(error, "readlink /proc/self/exe: ");
        return FALSE;
    }
    g_autofree char *search_dir = g_build_filename(r->out, "search", NULL);
    if (!pp_mkdir_p(search_dir, error)) {
        return FALSE;
    }
    gint64 deadline = r->t0 + r->budget_s * G_USEC_PER_SEC;
    PpSearchCtl ctl;
    pp_search_ctl_init(&ctl);
    gboolean ok = TRUE;
    for (guint i = 0; i < r->space->len; i++) {
        const PpSearchStep *s = r->space->pdata[i];
        if (pp_search_ctl_stopped(&ctl)) {
            break;
        }
        gint64 left = (deadline - g_get_monotonic_time()) / G_USEC_PER_SEC;
        if (left < MIN_CAMPAIGN_S) {
            r->budget_hit = TRUE;
            break;
        }
        Campaign *c = g_new0(Campaign, 1);
        c->step = s;
        c->dir = g_strdup_printf("%s/%02u", search_dir, s->index);
        c->log = g_strdup_printf("%s/%02u.log", search_dir, s->index);
        g_print("[%u/%u] %s, model %s, points %s (%.0f s of budget left)\n",
                s->index, r->space->len, s->scenario_name, s->model, s->points,
                (double)left);
        gint64 t = g_get_monotonic_time();
        if (!pp_search_run(&ctl, exe, s, r->seed, jobs, left, c->dir, c->log,
                           &c->exit_status, error)) {
            campaign_free(c);
            ok = FALSE;
            break;
        }
        c->seconds = (double)(g_get_monotonic_time() - t) / 1e6;
        g_ptr_array_add(r->campaigns, c);
        switch (c->exit_status) {
        case PP_EXIT_OK:
        case PP_EXIT_FAILURES:
            c->status = "done";
            break;
        case PP_ERROR_SIGINT:
        case PP_ERROR_SIGTERM:
            c->status = "interrupted";
            break;
        default:
            /* One campaign that cannot run (a client missing for it, a
             * [fault] that does not fire) does not end the search. */
            c->status = "error";
            c->error = last_line(c->log);
            g_print("    campaign failed (exit %d): %s\n", c->exit_status,
                    c->error);
            break;
        }
        read_summary(c);
        g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func(
            (GDestroyNotify)pp_search_hit_free);
        if (!pp_search_read_cases(c->dir, s->index, r->sig, hits, error)) {
            ok = FALSE;
            break;
        }
        for (guint k = 0; k < hits->len; k++) {
            PpSearchHit *h = g_steal_pointer(&hits->pdata[k]);
            if (h->agree == PP_SIGNATURE_N_FIELDS) {
                c->matches++;
                print_hit("  MATCH", h, s, FALSE);
                g_ptr_array_add(r->matches, h);
            } else {
                keep_near(r, h);
            }
        }
        g_print("    %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " crash points "
                "judged, %" G_GINT64_FORMAT " failed, %u match(es), %.1f s "
                "[%s]\n", c->cases, c->points_chosen, c->failed, c->matches,
                c->seconds, c->status);
        g_autoptr(GError) local = NULL;
        if (!write_report(r, &local)) {
            /* Not fatal: the next campaign writes it again. */
            g_printerr("plugpull: reproduce: %s\n", local->message);
        }
        if (stop_on_match && r->matches->len > 0) {
            break;
        }
    }
    pp_search_ctl_stopped(&ctl);
    r->interrupted = ctl.interrupted;
    pp_search_ctl_clear(&ctl);
    return ok;
}

/* Option values that must name a model or a choice of points. */
static gboolean
check_lists(char **models, char **points, GError **error)
{
    for (char **m = models; m != NULL && *m != NULL; m++) {
        CfiModel cm;
        if (!cfi_model_from_string(*m, &cm, error)) {
            return FALSE;
        }
    }
    for (char **p = points; p != NULL && *p != NULL; p++) {
        PpPointsKind kind;
        guint n;
        if (!pp_points_parse(*p, &kind, &n, error)) {
            return FALSE;
        }
        if (kind == PP_POINTS_NONE) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "--points none: a search needs crash points");
            return FALSE;
        }
    }
    return TRUE;
}

static void
repro_clear(Repro *r)
{
    g_clear_pointer(&r->out, g_free);
    g_clear_pointer(&r->repo, g_free);
    g_clear_pointer(&r->updates, g_ptr_array_unref);
    g_clear_pointer(&r->scenarios, g_strfreev);
    g_clear_pointer(&r->ins, pp_inspection_free);
    g_clear_pointer(&r->judgement, json_node_unref);
    g_clear_pointer(&r->sig, json_node_unref);
    g_clear_pointer(&r->started, g_free);
    g_clear_pointer(&r->space, g_ptr_array_unref);
    g_clear_pointer(&r->skipped, g_ptr_array_unref);
    g_clear_pointer(&r->campaigns, g_ptr_array_unref);
    g_clear_pointer(&r->matches, g_ptr_array_unref);
    g_clear_pointer(&r->near, g_ptr_array_unref);
}

static struct {
    char *budget;
    char *out;
    char *repo;
    char **scenarios;
    char **models;
    char **points;
    gint64 seed;
    gint jobs;
    gint n_near;
    gboolean stop_on_match;
} opt;

static const GOptionEntry entries[] = {
    { "budget", 0, 0, G_OPTION_ARG_STRING, &opt.budget,
      "stop the search after this long (90s, 10m, 1h; default "
      DEFAULT_BUDGET ")", "D" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
      "results directory, new or empty (default "
      "plugpull-reproduce-DATE-TIME)", "OUT" },
    { "repo", 'r', 0, G_OPTION_ARG_FILENAME, &opt.repo,
      "your firmware: the OSTree repo the device was updated from; its "
      "commits are the dump's known-good trees and its update (from the "
      "dump's deployed commits to its newer refs) is searched instead of "
      "the shipped scenarios; never written to", "REPO" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt.seed,
      "seed of every campaign (default: drawn, printed and stored)", "N" },
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt.scenarios,
      "search this scenario (repeatable; default: every shipped one "
      "whose device fits the dump, or with --repo the firmware's "
      "update)", "FILE" },
    { "model", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &opt.models,
      "search this model (repeatable, in this order; default ordered, "
      "process-kill, reorder, torn, strict)", "M" },
    { "points", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &opt.points,
      "search these crash points (repeatable: barriers, all, sample:N; "
      "default barriers, all)", "P" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs,
      "cases judged at once in a campaign (default 2)", "J" },
    { "near", 0, 0, G_OPTION_ARG_INT, &opt.n_near,
      "near matches kept (default 5)", "N" },
    { "stop-on-match", 0, 0, G_OPTION_ARG_NONE, &opt.stop_on_match,
      "end the search with the campaign that gave the first match",
      NULL },
    { NULL },
};

static void
options_reset(void)
{
    g_clear_pointer(&opt.budget, g_free);
    g_clear_pointer(&opt.out, g_free);
    g_clear_pointer(&opt.repo, g_free);
    g_clear_pointer(&opt.scenarios, g_strfreev);
    g_clear_pointer(&opt.models, g_strfreev);
    g_clear_pointer(&opt.points, g_strfreev);
    memset(&opt, 0, sizeof opt);
    opt.seed = -1;
    opt.jobs = 2;
    opt.n_near = 5;
}

/* Options into opt and r: every usage error before anything is read. */
static gboolean
parse_options(int argc, char **argv, Repro *r, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("IMAGE|DIR");
    g_option_context_set_summary(
        ctx, "Reproduce a field brick: judge a bricked device's dump (a disk "
        "image or\na directory sysroot) as plugpull inspect does, form its "
        "diagnosis\nsignature, and search simulation campaigns (scenario x "
        "model x points)\nfor the crash points whose state has the same "
        "signature.");
    g_option_context_set_description(
        ctx, "Results: OUT/reproduce.json (the dump's signature, the "
        "campaigns run and\nnot run, the matches and near matches), "
        "OUT/search/NN/ (each campaign,\nas plugpull sim leaves it; "
        "plugpull replay takes its case files);\nwith --repo, "
        "OUT/firmware/update-NN.conf (the firmware's updates).\n\n"
        "Exit status: 0 a match "
        "was found, or the dump boots and there is nothing\nto reproduce; "
        "1 no match; 2 usage, an unreadable dump, or a --repo\nthat is "
        "missing, lacks the dump's deployed commits or has no newer\nref; "
        "3 the harness failed; 130 interrupted (what was covered is "
        "written).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs exactly one IMAGE file or DIR "
                             "(see --help)");
    }
    r->target = argv[1];
    if (!pp_parse_duration(opt.budget != NULL ? opt.budget : DEFAULT_BUDGET,
                           &r->budget_s)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--budget must be a duration like 90s, "
                             "10m, 1h30m, not '%s'", opt.budget);
    }
    if (opt.jobs < 1 || opt.jobs > 64 || opt.n_near < 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--jobs must be 1 to 64, --near 0 or "
                             "more");
    }
    if (!check_lists(opt.models, opt.points, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (opt.repo != NULL) {
        /* Missing, unreadable, not a repo: said before the dump is read. */
        r->repo = g_canonicalize_filename(opt.repo, NULL);
        g_autoptr(OstreeRepo) repo = NULL;
        if (!pp_firmware_repo_open(r->repo, &repo, error)) {
            return FALSE;
        }
    }
    r->n_near = (guint)opt.n_near;
    r->seed = opt.seed >= 0 ? (guint64)opt.seed : g_random_int();
    return TRUE;
}

/* Judge the dump as every simulated state is judged (simcase.c: the
 * device boots its default entry or nothing), so that the signatures
 * compare; print the verdict and the signature. */
static gboolean
judge_dump(Repro *r, GError **error)
{
    PpOracleOpts opts = { .bootloader = PP_BOOTLOADER_AUTO, .no_fallback = TRUE };
    if (!pp_inspect(r->target, r->repo, &opts, &r->ins, error)) {
        return pp_inspect_error_code(error);
    }
    r->judgement = pp_judgement_to_json(r->ins->judgement);
    if (!pp_signature_from_judgement(r->judgement, &r->sig, error)) {
        return FALSE;
    }
    g_autofree char *sig_text = pp_signature_to_text(r->sig);
    g_print("dump: %s (%s; known trees from %s)\n", r->target,
            r->ins->is_image ? "disk image" : "directory",
            r->ins->known_source);
    for (guint i = 0; i < r->ins->notes->len; i++) {
        g_print("note: %s\n", (char *)r->ins->notes->pdata[i]);
    }
    g_print("verdict: %s: %s\n",
            pp_outcome_to_string(r->ins->judgement->outcome),
            r->ins->judgement->reason);
    g_print("signature: %s\n", sig_text);
    return TRUE;
}

/* With --repo: the updates the device may have been making, each
 * printed; a usage error (nothing written yet) when there is none. */
static gboolean
firmware_updates(Repro *r, GError **error)
{
    if (r->repo == NULL) {
        return TRUE;
    }
    r->updates = pp_repro_firmware_updates(r->repo, r->ins->sysroot,
                                           r->ins->notes, error);
    if (r->updates == NULL) {
        return FALSE;
    }
    for (guint i = 0; i < r->updates->len; i++) {
        const PpFirmwareUpdate *u = r->updates->pdata[i];
        g_print("your firmware's update: %.12s (the dump's %s) -> %s "
                "(%.12s)\n", u->from_commit, u->deployment, u->to_ref,
                u->to_commit);
    }
    return TRUE;
}

static gboolean
open_out(Repro *r, GDateTime *now, GError **error)
{
    g_autofree char *out = opt.out != NULL
        ? g_strdup(opt.out)
        : g_date_time_format(now, "plugpull-reproduce-%Y%m%d-%H%M%S");
    r->out = g_canonicalize_filename(out, NULL);
    if (!pp_out_dir_prepare(r->out, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    r->campaigns = g_ptr_array_new_with_free_func(
        (GDestroyNotify)campaign_free);
    r->matches = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_search_hit_free);
    r->near = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_search_hit_free);
    r->skipped = g_ptr_array_new_with_free_func(g_free);
    return TRUE;
}

/* The scenarios searched: --scenario's, then the firmware's updates
 * (written to OUT/firmware/); neither: the shipped ones. */
static gboolean
make_space(Repro *r, GError **error)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (char **s = opt.scenarios; s != NULL && *s != NULL; s++) {
        g_ptr_array_add(files, g_strdup(*s));
    }
    if (r->updates != NULL) {
        JsonObject *so = json_node_get_object(r->sig);
        const char *backend = json_object_get_string_member_with_default(
            so, "backend", "none");
        g_autofree char *dir = g_build_filename(r->out, "firmware", NULL);
        if (!pp_repro_firmware_write(r->updates, r->repo, r->ins->sysroot,
                                     backend, dir, files, error)) {
            return FALSE;
        }
    }
    if (files->len == 0) {
        r->scenarios = shipped_scenarios(error);
        if (r->scenarios == NULL) {
            return FALSE;
        }
    } else {
        g_ptr_array_add(files, NULL);
        r->scenarios = (char **)g_ptr_array_free(g_steal_pointer(&files),
                                                 FALSE);
    }
    r->space = pp_search_space((const char *const *)r->scenarios,
                               opt.models != NULL
                               ? (const char *const *)opt.models
                               : default_models,
                               opt.points != NULL
                               ? (const char *const *)opt.points
                               : default_points,
                               r->sig, r->skipped, error);
    if (r->space == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    for (guint i = 0; i < r->skipped->len; i++) {
        g_print("not searched: %s\n", (char *)r->skipped->pdata[i]);
    }
    g_print("search: %u campaign(s), seed %" G_GUINT64_FORMAT ", budget %"
            G_GINT64_FORMAT " s, results in %s\n", r->space->len, r->seed,
            r->budget_s, r->out);
    return TRUE;
}

/* What the search gave: the near matches, the line of figures, the
 * report once more, and the exit status (a match 0, none 1, the
 * interruption's, or the search's own error). */
static gboolean
conclude(Repro *r, GError *search_error, GError **error)
{
    if (r->near->len > 0 && r->matches->len == 0) {
        g_print("near matches (the closest signatures):\n");
        for (guint i = 0; i < r->near->len; i++) {
            const PpSearchHit *h = r->near->pdata[i];
            print_hit("  near", h, step_of(r, h->step), TRUE);
        }
    }
    guint ran = r->campaigns->len;
    g_print("%u match(es); %u of %u campaign(s) run%s; %.1f s; see %s/"
            "reproduce.json\n", r->matches->len, ran, r->space->len,
            r->budget_hit ? " (budget reached)"
            : r->interrupted != 0 ? " (interrupted)" : "",
            (double)(g_get_monotonic_time() - r->t0) / 1e6, r->out);
    g_autoptr(GError) report_error = NULL;
    if (!write_report(r, &report_error)) {
        if (search_error == NULL) {
            search_error = g_steal_pointer(&report_error);
        } else {
            g_printerr("plugpull: reproduce: %s\n", report_error->message);
        }
    }
    if (r->interrupted != 0) {
        /* The interruption decides the exit status (130, 143); a harness
         * error met on the way is still said. */
        if (search_error != NULL) {
            g_printerr("plugpull: reproduce: %s\n", search_error->message);
            g_error_free(search_error);
        }
        pp_throw_interrupted(error, r->interrupted);
        g_prefix_error(error, "what was covered is in %s/reproduce.json: ",
                       r->out);
        return FALSE;
    }
    if (search_error != NULL) {
        g_propagate_error(error, search_error);
        return FALSE;
    }
    if (r->matches->len == 0) {
        return pp_throw_code(error, PP_ERROR_FAILURES, "no crash point of %u "
                             "campaign(s) fails like the dump", ran);
    }
    return TRUE;
}

static gboolean
reproduce(int argc, char **argv, Repro *r, GError **error)
{
    if (!parse_options(argc, argv, r, error)) {
        return FALSE;
    }
    r->t0 = g_get_monotonic_time();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    r->started = g_date_time_format_iso8601(now);
    if (!judge_dump(r, error)) {
        return FALSE;
    }
    gboolean brick = r->ins->judgement->outcome != PP_OUTCOME_PASS;
    if ((brick && !firmware_updates(r, error)) || !open_out(r, now, error)) {
        return FALSE;
    }
    if (!brick) {
        /* A dump that boots a complete known tree, with its repo and
         * rollback sound, is not a brick. */
        g_print("nothing to reproduce: the dump boots a complete known "
                "tree\n");
        return write_report(r, error);
    }
    if (!make_space(r, error)) {
        return FALSE;
    }
    /* A failed search still reports what it covered: its error is
     * returned at the end. */
    GError *search_error = NULL;
    search(r, (guint)opt.jobs, opt.stop_on_match, &search_error);
    return conclude(r, search_error, error);
}

gboolean
pp_cmd_reproduce(int argc, char **argv, GError **error)
{
    options_reset();
    Repro r = { 0 };
    gboolean ok = reproduce(argc, argv, &r, error);
    repro_clear(&r);
    options_reset();
    return ok;
}
