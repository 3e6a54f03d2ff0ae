/* SPDX-License-Identifier: MIT */
/*
 * cmd-strategies.c: plugpull strategies --out DIR: the update strategies
 * (sim/strategy.h) compared under the same power cuts.
 *
 * Each strategy's campaign is an ordinary `plugpull sim` run of its own
 * (DIR/<strategy>/, scenario in DIR/scenarios/<strategy>.conf, output in
 * DIR/<strategy>.log), with the same model, crash-point rule and seed, on
 * the same firmware (the fixture's, or with --repo one repo's versions:
 * committed to OSTree, checked out and made into ext4 images, installed
 * as packages): each stands alone, and replay, minimize,
 * compare and report work on it as on any campaign.  Then each is
 * measured untraced (sim/strategy-measure.h), and DIR/strategies.json
 * (durably) and DIR/strategies.html (reports/strategies.py) say, per
 * strategy: the outcomes over the crash points, what the states boot
 * (new, old, other, nothing), the phases the failures sit in, bytes
 * downloaded per update, bytes on the device per versions kept, and the
 * update's duration.
 *
 * The comparison measures; it does not judge: exit 0 when the results are
 * written, whatever they say (each campaign's own exit status is in the
 * JSON), 2 usage, 3 a campaign or a measurement could not be made.
 */
#include <string.h>

#include "common/error.h"
#include "common/json.h"
#include "common/outcome.h"
#include "common/phases.h"
#include "common/scenario.h"
#include "common/util.h"
#include "common/version.h"
#include "plugpull.h"
#include "server/fixture.h"
#include "sim/strategy-measure.h"

typedef struct {
    char *out;
    char *model;
    char *points;
    char *known;
    char *budget;
    gint64 seed;
    gint jobs;
    gint payload_kb;
    gint env_copies;
    gboolean swupdate;
    char *dpkg_repo;
    char *repo;
    char *from;
    char *to;
    char *next;
} StratOptions;

static StratOptions opt;

static void
opt_clear(void)
{
    g_free(opt.out);
    g_free(opt.model);
    g_free(opt.points);
    g_free(opt.known);
    g_free(opt.budget);
    g_free(opt.dpkg_repo);
    g_free(opt.repo);
    g_free(opt.from);
    g_free(opt.to);
    g_free(opt.next);
    memset(&opt, 0, sizeof opt);
}

/* The strategies compared, in the table's order. */
static const PpStrategy order[] = { PP_STRATEGY_OSTREE, PP_STRATEGY_AB,
                                    PP_STRATEGY_UPDATE_MODE,
                                    PP_STRATEGY_DPKG };

/* The campaign's scenario: the same cuts for all. */
static char *
scenario_text(PpStrategy st)
{
    /* dpkg's firmware is a Debian-built one (--dpkg-repo or --repo), as
       every strategy's is with --repo. */
    g_autofree char *payload = st == PP_STRATEGY_DPKG || opt.repo != NULL
        ? g_strdup("")
        : g_strdup_printf("[firmware]\npayload-kb = %d\n", opt.payload_kb);
    return g_strdup_printf(
        "# written by plugpull strategies\n"
        "[scenario]\nname = strategies-%s\n"
        "%s"
        "[update]\nstrategy = %s\nenv-copies = %d\nab-updater = %s\n"
        "[crash]\nmodel = %s\npoints = %s\nseed = %" G_GINT64_FORMAT "\n",
        pp_strategy_to_string(st), payload, pp_strategy_to_string(st),
        opt.env_copies, opt.swupdate ? "swupdate" : "fw-setenv", opt.model,
        opt.points, opt.seed);
}

/* Run `plugpull sim` on the strategy's scenario; its exit status. */
static gboolean
run_campaign(const char *dir, PpStrategy st, int *out_status, GError **error)
{
    const char *name = pp_strategy_to_string(st);
    g_autofree char *scen_dir = g_build_filename(dir, "scenarios", NULL);
    g_autofree char *conf_name = g_strconcat(name, ".conf", NULL);
    g_autofree char *conf = g_build_filename(scen_dir, conf_name, NULL);
    g_autofree char *text = scenario_text(st);
    if (!pp_mkdir_p(scen_dir, error)
        || !g_file_set_contents(conf, text, -1, error)) {
        return FALSE;
    }
    g_autofree char *out = g_build_filename(dir, name, NULL);
    g_autofree char *log_name = g_strconcat(name, ".log", NULL);
    g_autofree char *log = g_build_filename(dir, log_name, NULL);
    g_autofree char *jobs = g_strdup_printf("--jobs=%d", opt.jobs);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *self = g_file_read_link("/proc/self/exe", error);
    if (self == NULL) {
        return FALSE;
    }
    g_ptr_array_add(argv, g_strdup(self));
    g_ptr_array_add(argv, g_strdup("sim"));
    g_ptr_array_add(argv, g_strconcat("--scenario=", conf, NULL));
    g_ptr_array_add(argv, g_strconcat("--out=", out, NULL));
    g_ptr_array_add(argv, g_strdup(jobs));
    if (opt.budget != NULL) {
        g_ptr_array_add(argv, g_strconcat("--budget=", opt.budget, NULL));
    }
    if (opt.repo != NULL || st == PP_STRATEGY_DPKG) {
        g_ptr_array_add(argv, g_strconcat("--repo=", opt.repo != NULL
                                          ? opt.repo : opt.dpkg_repo, NULL));
        g_ptr_array_add(argv, g_strconcat("--from=", opt.from, NULL));
        g_ptr_array_add(argv, g_strconcat("--to=", opt.to, NULL));
    }
    /* Known findings are OSTree's (oracle/known.h). */
    if (opt.known != NULL && st == PP_STRATEGY_OSTREE) {
        g_ptr_array_add(argv, g_strconcat("--known=", opt.known, NULL));
    }
    g_ptr_array_add(argv, NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(l, log);
    g_print("%s: plugpull sim --scenario %s --out %s (log %s)\n", name, conf,
            out, log);
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(
        l, (const char *const *)argv->pdata, error);
    if (p == NULL || !g_subprocess_wait(p, NULL, error)) {
        g_prefix_error(error, "running the %s campaign: ", name);
        return FALSE;
    }
    *out_status = g_subprocess_get_if_exited(p)
                  ? g_subprocess_get_exit_status(p) : -1;
    if (*out_status != 0 && *out_status != 1) {
        return pp_throw_code(error, PP_ERROR_HARNESS, "the %s campaign "
                             "exited %d: see %s", name, *out_status, log);
    }
    return TRUE;
}

/* Per-campaign results read back from its points.json and summary.json. */
static gboolean
add_campaign(JsonBuilder *b, const char *dir, PpStrategy st, int status,
             GError **error)
{
    const char *name = pp_strategy_to_string(st);
    g_autofree char *sum_path = g_build_filename(dir, name, "summary.json",
                                                 NULL);
    g_autofree char *pts_path = g_build_filename(dir, name, "points.json",
                                                 NULL);
    JsonObject *sum = NULL;
    JsonObject *pts = NULL;
    g_autoptr(JsonParser) sp = pp_json_load_object(sum_path, &sum, error);
    if (sp == NULL) {
        return FALSE;
    }
    g_autoptr(JsonParser) pp = pp_json_load_object(pts_path, &pts, error);
    if (pp == NULL) {
        return FALSE;
    }
    JsonArray *cases = json_object_get_array_member(pts, "cases");
    guint n = cases != NULL ? json_array_get_length(cases) : 0;
    /* boots: new / old / other / none; failures: phase -> outcome -> n. */
    guint boots[4] = { 0 };
    guint fail[PP_PHASE_COUNT][PP_N_OUTCOMES] = { { 0 } };
    for (guint i = 0; i < n; i++) {
        JsonObject *c = json_array_get_object_element(cases, i);
        const char *bt = json_object_get_string_member_with_default(
            c, "boots", NULL);
        boots[g_strcmp0(bt, "new") == 0 ? 0 : g_strcmp0(bt, "old") == 0 ? 1
              : bt != NULL ? 2 : 3]++;
        PpOutcome oc;
        PpPhase ph;
        if (pp_outcome_from_string(json_object_get_string_member_with_default(
                                       c, "outcome", NULL), &oc)
            && oc != PP_OUTCOME_PASS
            && pp_phase_from_name(json_object_get_string_member_with_default(
                                      c, "phase", NULL), &ph)) {
            fail[ph][oc]++;
        }
    }
    pp_json_add_string(b, "results", name);
    pp_json_add_int(b, "campaign_exit", status);
    pp_json_add_int(b, "cases", n);
    pp_json_add_int(b, "trace_records",
                    json_object_get_int_member_with_default(pts,
                                                            "trace_records",
                                                            0));
    json_builder_set_member_name(b, "outcomes");
    json_builder_add_value(b, json_node_copy(json_object_get_member(
                                  sum, "outcomes")));
    pp_json_add_int(b, "known",
                    json_object_get_int_member_with_default(sum, "known", 0));
    json_builder_set_member_name(b, "boots");
    json_builder_begin_object(b);
    pp_json_add_int(b, "new", boots[0]);
    pp_json_add_int(b, "old", boots[1]);
    pp_json_add_int(b, "other", boots[2]);
    pp_json_add_int(b, "nothing", boots[3]);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "failure_phases");
    json_builder_begin_object(b);
    for (guint ph = 0; ph < PP_PHASE_COUNT; ph++) {
        json_builder_set_member_name(b, pp_phase_name((PpPhase)ph));
        json_builder_begin_object(b);
        for (guint o = 0; o < PP_N_OUTCOMES; o++) {
            if (fail[ph][o] > 0) {
                pp_json_add_int(b, pp_outcome_to_string((PpOutcome)o),
                                fail[ph][o]);
            }
        }
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    return TRUE;
}

static void
print_row(PpStrategy st, const PpStrategyFigures *f)
{
    g_print("  %-12s download v1->v2 %9" G_GINT64_FORMAT " B, v2->v3 %9"
            G_GINT64_FORMAT " B, back to v1 %9" G_GINT64_FORMAT " B; on the "
            "device %" G_GINT64_FORMAT " B with 1 version; update %.2f s\n",
            pp_strategy_to_string(st), f->download[0], f->download[1],
            f->download[2], f->on_device[0], f->update_s);
}

gboolean
pp_cmd_strategies(int argc, char **argv, GError **error)
{
    opt = (StratOptions){ .seed = 0, .jobs = 2,
                          .payload_kb = PP_FIXTURE_DEFAULT_PAYLOAD_KB,
                          .env_copies = 1 };
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
          "results (new or empty directory)", "DIR" },
        { "model", 0, 0, G_OPTION_ARG_STRING, &opt.model,
          "power-loss model for every campaign (default ordered)", "MODEL" },
        { "points", 0, 0, G_OPTION_ARG_STRING, &opt.points,
          "crash points of every campaign: all, barriers, sample:N "
          "(default all)", "RULE" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &opt.seed, "seed (default 0)",
          "N" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs,
          "cases judged at once per campaign (default 2)", "N" },
        { "budget", 0, 0, G_OPTION_ARG_STRING, &opt.budget,
          "time budget of each campaign, as sim's", "DURATION" },
        { "payload-kb", 0, 0, G_OPTION_ARG_INT, &opt.payload_kb,
          "size of the fixture firmware's payload (default 2048)", "KIB" },
        { "env-copies", 0, 0, G_OPTION_ARG_INT, &opt.env_copies,
          "ab: copies of the U-Boot environment, 1 or 2 (default 1)", "N" },
        { "swupdate", 0, 0, G_OPTION_ARG_NONE, &opt.swupdate,
          "ab: update with SWUpdate instead of dd and fw_setenv", NULL },
        { "dpkg-repo", 0, 0, G_OPTION_ARG_FILENAME, &opt.dpkg_repo,
          "also dpkg, on this Debian-built firmware's repo "
          "(images/build-debian-firmware.sh; firmware^ -> firmware)",
          "REPO" },
        { "repo", 0, 0, G_OPTION_ARG_FILENAME, &opt.repo,
          "every strategy on this firmware's repo (a Debian-built one, "
          "images/build-debian-firmware.sh, for dpkg) instead of the "
          "fixture", "REPO" },
        { "from", 0, 0, G_OPTION_ARG_STRING, &opt.from,
          "with --repo or --dpkg-repo: v1 (default firmware^)", "REV" },
        { "to", 0, 0, G_OPTION_ARG_STRING, &opt.to,
          "with --repo or --dpkg-repo: v2, the campaigns' update (default "
          "firmware)", "REV" },
        { "next", 0, 0, G_OPTION_ARG_STRING, &opt.next,
          "with --repo or --dpkg-repo: v3, for the v2 -> v3 and back-to-v1 "
          "figures (default none: those null)", "REV" },
        { "known", 0, 0, G_OPTION_ARG_FILENAME, &opt.known,
          "known findings for the ostree campaign (sim --known)", "FILE" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_option_context_set_summary(ctx, "Compare the update strategies ostree, "
                                 "ab, update-mode (and dpkg, with --repo "
                                 "or --dpkg-repo) under the same power "
                                 "cuts: one sim campaign each in DIR/<name>/, "
                                 "then DIR/strategies.json and "
                                 "DIR/strategies.html.\nExit status: 0 "
                                 "written (whatever the results), 2 usage, 3 "
                                 "a campaign or measurement failed.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    gboolean ok = g_option_context_parse(ctx, &argc, &argv, error);
    if (ok && opt.model == NULL) {
        opt.model = g_strdup("ordered");
    }
    if (ok && opt.points == NULL) {
        opt.points = g_strdup("all");
    }
    if (ok && opt.from == NULL) {
        opt.from = g_strdup("firmware^");
    }
    if (ok && opt.to == NULL) {
        opt.to = g_strdup("firmware");
    }
    if (ok && opt.repo != NULL && opt.dpkg_repo != NULL) {
        g_set_error(error, PP_ERROR, PP_ERROR_USAGE, "strategies: --repo "
                    "puts every strategy on one firmware; --dpkg-repo only "
                    "dpkg: give one of them");
        opt_clear();
        return FALSE;
    }
    CfiModel model;
    PpPointsKind pk;
    guint pn;
    if (!ok || opt.out == NULL || argc != 1
        || !cfi_model_from_string(opt.model, &model, NULL)
        || !pp_points_parse(opt.points, &pk, &pn, NULL)
        || opt.jobs < 1 || opt.jobs > 64 || opt.payload_kb < 16
        || opt.env_copies < 1 || opt.env_copies > 2 || opt.seed < 0) {
        if (ok) {
            g_set_error(error, PP_ERROR, PP_ERROR_USAGE,
                        "strategies: needs --out DIR, and a model, points "
                        "rule, jobs (1-64), payload-kb (>= 16), env-copies "
                        "(1-2) and seed (>= 0) as sim takes them");
        }
        opt_clear();
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    g_autofree char *dir = g_canonicalize_filename(opt.out, NULL);
    if (!pp_out_dir_prepare(dir, error)) {
        opt_clear();
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string(b, "model", opt.model);
    pp_json_add_string(b, "points", opt.points);
    pp_json_add_int(b, "seed", opt.seed);
    json_builder_set_member_name(b, "firmware");
    json_builder_begin_object(b);
    if (opt.repo != NULL) {
        pp_json_add_string(b, "repo", opt.repo);
        pp_json_add_string(b, "v1", opt.from);
        pp_json_add_string(b, "v2", opt.to);
        if (opt.next != NULL) {
            pp_json_add_string(b, "v3", opt.next);
        }
    } else {
        pp_json_add_string(b, "repo", "fixture");
        pp_json_add_int(b, "payload_kb", opt.payload_kb);
    }
    json_builder_end_object(b);
    pp_json_add_int(b, "payload_kb", opt.repo != NULL ? 0 : opt.payload_kb);
    pp_json_add_int(b, "env_copies", opt.env_copies);
    pp_json_add_string(b, "ab_updater", opt.swupdate ? "swupdate"
                                                     : "fw-setenv");
    json_builder_set_member_name(b, "strategies");
    json_builder_begin_object(b);
    g_print("measured untraced:\n");
    for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
        PpStrategy st = order[i];
        int status = 0;
        if (st == PP_STRATEGY_DPKG && opt.dpkg_repo == NULL
            && opt.repo == NULL) {
            continue;             /* it needs a Debian-built firmware */
        }
        PpStrategySource src = {
            .repo = opt.repo != NULL ? opt.repo
                    : st == PP_STRATEGY_DPKG ? opt.dpkg_repo : NULL,
            .revs = { opt.from, opt.to, opt.next },
            .payload_kb = (guint)opt.payload_kb };
        g_autofree char *mwork = g_build_filename(dir, "measure",
                                                  pp_strategy_to_string(st),
                                                  NULL);
        PpStrategyFigures f;
        if (!run_campaign(dir, st, &status, error)
            || !pp_strategy_measure(st, &src, (guint)opt.env_copies,
                                    opt.swupdate, mwork, &f, error)) {
            opt_clear();
            return pp_error_set_code(error, PP_ERROR_HARNESS);
        }
        print_row(st, &f);
        json_builder_set_member_name(b, pp_strategy_to_string(st));
        json_builder_begin_object(b);
        if (!add_campaign(b, dir, st, status, error)) {
            opt_clear();
            return pp_error_set_code(error, PP_ERROR_HARNESS);
        }
        json_builder_set_member_name(b, "measured");
        json_builder_add_value(b, pp_strategy_figures_to_json(&f));
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    pp_json_add_double(b, "duration_s",
                       (double)(g_get_monotonic_time() - t0) / 1e6);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *json_path = g_build_filename(dir, "strategies.json",
                                                  NULL);
    g_autofree char *html_path = g_build_filename(dir, "strategies.html",
                                                  NULL);
    opt_clear();
    if (!pp_write_json(json_path, root, error)) {
        return pp_error_set_code(error, PP_ERROR_HARNESS);
    }
    const char *args[] = { json_path, html_path, NULL };
    int st = 0;
    if (!pp_reports_run("strategies.py", args, &st, error) || st != 0) {
        if (*error == NULL) {
            g_set_error(error, PP_ERROR, PP_ERROR_HARNESS,
                        "reports/strategies.py exited %d", st);
        }
        return pp_error_set_code(error, PP_ERROR_HARNESS);
    }
    g_print("results: %s and %s\n", json_path, html_path);
    return TRUE;
}
