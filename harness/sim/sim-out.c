/* SPDX-License-Identifier: MIT */
/*
 * sim-out.c: see sim-out.h.
 */
#include "sim/sim-out.h"
#include "sim/sim-known.h"
#include "common/durable.h"
#include "common/json.h"
#include "common/outcome.h"
#include "common/version.h"
#include "sim/pathfold.h"

#include <string.h>

#include <gio/gio.h>

/* Where a campaign came from: its recording, its shard, its shards. */
static void
add_provenance(JsonBuilder *b, const PpRunInfo *info)
{
    if (info->recording_id != NULL) {
        json_builder_set_member_name(b, "recording");
        json_builder_begin_object(b);
        pp_json_add_string(b, "id", info->recording_id);
        pp_json_add_string(b, "dir", info->recording_dir);
        json_builder_end_object(b);
    }
    if (info->shard_count > 0) {
        json_builder_set_member_name(b, "shard");
        json_builder_begin_object(b);
        pp_json_add_int(b, "index", info->shard_index);
        pp_json_add_int(b, "count", info->shard_count);
        pp_json_add_int(b, "points_all", info->points_all);
        json_builder_end_object(b);
    }
    if (info->merged_from != NULL) {
        json_builder_set_member_name(b, "merged");
        json_builder_begin_object(b);
        pp_json_add_int(b, "shards", g_strv_length((char **)info->merged_from));
        json_builder_set_member_name(b, "from");
        json_builder_begin_array(b);
        for (const char *const *d = info->merged_from; *d != NULL; d++) {
            json_builder_add_string_value(b, *d);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
}

gboolean
pp_write_summary(const char *dir, const PpRunInfo *info, GPtrArray *cases,
                 GError **error)
{
    PpOutcomeCounts counts = { { 0 } };
    guint passed = 0, failed = 0, known = 0, resumed = 0;
    guint64 bytes = 0;
    guint objects = 0, refetched = 0, durable = 0;
    guint64 staging = 0;
    /* Where the time went, summed over cases (seconds of work, which
     * exceed the wall time when --jobs > 1). */
    double tm = 0, tj = 0, tr = 0, tx = 0;
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        pp_outcome_counts_add(&counts, c->verdict);
        if (pp_case_failed(c)) {
            failed++;
        } else if (pp_case_known(c)) {
            known++;
        } else {
            passed++;
        }
        if (c->resumed) {
            resumed++;
            bytes += c->resume_bytes;
            objects += c->resume_objects;
            refetched += c->resume_refetched;
            durable += c->durable_objects;
            staging += c->resume_staging_bytes;
        }
        tm += c->t_materialise;
        tj += c->t_judge;
        tr += c->t_resume;
        tx += c->t_remove;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string(b, "tier", info->tier);
    json_builder_set_member_name(b, "scenario");
    json_builder_begin_object(b);
    pp_json_add_string(b, "name", info->scenario_name);
    pp_json_add_string(b, "path", info->scenario_path);
    pp_json_add_string(b, "action", info->action);
    pp_json_add_string(b, "bootloader", info->bootloader);
    pp_json_add_string(b, "strategy", info->strategy != NULL
                                      ? info->strategy : "ostree");
    pp_json_add_string(b, "expect", info->expect_failures ? "failures" : "pass");
    if (info->firmware_repo != NULL) {
        /* Your firmware: compare and the report say which. */
        json_builder_set_member_name(b, "firmware");
        json_builder_begin_object(b);
        pp_json_add_string(b, "repo", info->firmware_repo);
        pp_json_add_string(b, "from", info->firmware_from);
        pp_json_add_string(b, "to", info->firmware_to);
        pp_json_add_string_or_null(b, "to_commit", info->to_commit);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    pp_json_add_string(b, "model", info->model);
    pp_json_add_int(b, "seed", (gint64)info->seed);
    pp_json_add_int(b, "repeat", info->repeat > 0 ? info->repeat : 1);
    pp_json_add_string(b, "points", info->points);
    json_builder_set_member_name(b, "client");
    json_builder_begin_object(b);
    pp_json_add_string(b, "path", info->client_path);
    pp_json_add_string(b, "version", info->client_version);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "trace");
    json_builder_begin_object(b);
    pp_json_add_string(b, "path", info->trace_path);
    pp_json_add_int(b, "records", info->records);
    pp_json_add_int(b, "commit_point", info->commit_point);
    json_builder_end_object(b);
    add_provenance(b, info);
    pp_json_add_int(b, "cases", cases->len);
    pp_json_add_int(b, "points_chosen", info->points_total);
    pp_json_add_int(b, "passed", passed);
    pp_json_add_int(b, "failed", failed);
    /* Failures a known finding excuses (sim-known.h): counted apart, and
     * in the outcomes below like the failures they are. */
    pp_json_add_int(b, "known", known);
    json_builder_set_member_name(b, "known_findings");
    json_builder_add_value(b, pp_known_findings_json(cases));
    pp_json_add_outcomes(b, &counts);
    pp_json_add_double(b, "states_per_minute",
               info->judge_seconds > 0
                   ? 60.0 * (cases->len - info->cases_kept)
                         / info->judge_seconds
                   : 0.0);
    json_builder_set_member_name(b, "resume");
    json_builder_begin_object(b);
    pp_json_add_string(b, "choice", info->resume);
    pp_json_add_int(b, "checked", resumed);
    pp_json_add_int(b, "bytes_downloaded", (gint64)bytes);
    pp_json_add_int(b, "objects_downloaded", objects);
    pp_json_add_int(b, "objects_redownloaded", refetched);
    pp_json_add_int(b, "objects_durable_before", durable);
    pp_json_add_int(b, "staging_bytes_left", (gint64)staging);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "time_split");
    json_builder_begin_object(b);
    pp_json_add_double(b, "materialise_s", tm);
    pp_json_add_double(b, "judge_s", tj);
    pp_json_add_double(b, "resume_s", tr);
    pp_json_add_double(b, "remove_s", tx);
    json_builder_end_object(b);
    pp_json_add_int(b, "jobs", info->jobs);
    pp_json_add_boolean(b, "interrupted", info->interrupted);
    if (info->continued) {
        /* Provenance, like "recording": this run continued an earlier. */
        json_builder_set_member_name(b, "continued");
        json_builder_begin_object(b);
        pp_json_add_int(b, "cases_kept", info->cases_kept);
        json_builder_end_object(b);
    }
    pp_json_add_int(b, "budget_s", info->budget_s);
    pp_json_add_boolean(b, "budget_reached", info->budget_hit);
    pp_json_add_double(b, "coverage", info->points_total > 0
                              ? (double)cases->len / info->points_total : 0.0);
    if (info->fault != NULL) {
        json_builder_set_member_name(b, "fault");
        json_builder_add_value(b, json_node_copy(info->fault));
    }
    pp_json_add_string(b, "started", info->started);
    pp_json_add_double(b, "cases_wall_s", info->judge_seconds);
    pp_json_add_double(b, "duration_s", info->duration_s);
    json_builder_end_object(b);

    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, "summary.json", NULL);
    return pp_write_json(path, root, error);
}

JsonNode *
pp_case_to_point(const PpCase *c)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "id", c->id);
    pp_json_add_int(b, "k", c->k);
    pp_json_add_string(b, "state", c->state_name);
    pp_json_add_string(b, "phase", pp_phase_name(c->phase));
    pp_json_add_string(b, "call", c->call);
    pp_json_add_string(b, "outcome", pp_outcome_to_string(c->verdict));
    pp_json_add_string(b, "reason", c->reason);
    pp_json_add_string_or_null(b, "boots", c->boots);
    pp_json_add_boolean(b, "resumed", c->resumed);
    if (c->known != NULL) {
        json_builder_set_member_name(b, "known");
        json_builder_begin_object(b);
        pp_json_add_string(b, "finding", c->known->finding);
        pp_json_add_string(b, "link", c->known->link);
        pp_json_add_string_or_null(b, "until", c->known->until);
        pp_json_add_boolean(b, "expired", c->known->expired);
        json_builder_end_object(b);
    }
    if (c->shared_with != NULL) {
        pp_json_add_string(b, "shares_verdict_with", c->shared_with);
    }
    if (c->cuts != NULL) {
        pp_json_add_int(b, "cuts", c->cuts->len);
        pp_json_add_int(b, "failed_cut", c->failed_cut);
    }
    if (c->resumed) {
        pp_json_add_int(b, "resume_bytes", (gint64)c->resume_bytes);
        pp_json_add_int(b, "resume_objects", c->resume_objects);
        pp_json_add_int(b, "resume_redownloaded", c->resume_refetched);
        pp_json_add_int(b, "resume_durable_before", c->durable_objects);
        pp_json_add_int(b, "resume_staging_bytes", (gint64)c->resume_staging_bytes);
    }
    pp_json_add_double(b, "seconds", c->seconds);
    json_builder_set_member_name(b, "time");
    json_builder_begin_object(b);
    pp_json_add_double(b, "materialise_s", c->t_materialise);
    pp_json_add_double(b, "judge_s", c->t_judge);
    pp_json_add_double(b, "resume_s", c->t_resume);
    pp_json_add_double(b, "remove_s", c->t_remove);
    /* Built over a farm (sim-farm.h): the directories its removal
       restored; 0 when the state was built and removed whole. */
    pp_json_add_int(b, "farm_dirs", c->farm_dirs);
    /* Moved from the farm's earlier state at that cut (-1: built over
       the snapshot, or fresh). */
    pp_json_add_int(b, "farm_from", c->farm_from);
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

gboolean
pp_write_points(const char *dir, const PpRunInfo *info, GPtrArray *cases,
                GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_int(b, "trace_records", info->records);
    pp_json_add_int(b, "commit_point", info->commit_point);
    json_builder_set_member_name(b, "cases");
    json_builder_begin_array(b);
    for (guint i = 0; i < cases->len; i++) {
        json_builder_add_value(b, pp_case_to_point(cases->pdata[i]));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, "points.json", NULL);
    return pp_write_json(path, root, error);
}

/* A member of a points.json entry; FALSE (with the error) when absent or
 * of the wrong type. */
static gboolean
point_member(JsonObject *p, const char *name, GType type, JsonNode **out,
             GError **error)
{
    JsonNode *n = json_object_get_member(p, name);
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n)
        || json_node_get_value_type(n) != type) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "case %s: '%s' missing or not a %s",
                    json_object_get_string_member_with_default(p, "id", "?"),
                    name, type == G_TYPE_STRING ? "string" : "number");
        return FALSE;
    }
    *out = n;
    return TRUE;
}

PpCase *
pp_case_from_point(JsonObject *p, GError **error)
{
    g_autoptr(PpCase) c = g_new0(PpCase, 1);
    c->farm_from = -1;
    const char *strings[] = { "id", "state", "call", "reason", NULL };
    char **slots[] = { &c->id, &c->state_name, &c->call, &c->reason };
    for (guint i = 0; strings[i] != NULL; i++) {
        JsonNode *n = NULL;
        if (!point_member(p, strings[i], G_TYPE_STRING, &n, error)) {
            return NULL;
        }
        *slots[i] = g_strdup(json_node_get_string(n));
    }
    JsonNode *on = NULL;
    if (!point_member(p, "outcome", G_TYPE_STRING, &on, error)) {
        return NULL;
    }
    PpOutcome oc;
    if (!pp_outcome_from_string(json_node_get_string(on), &oc)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "case %s: outcome '%s' is not an outcome", c->id,
                    json_node_get_string(on));
        return NULL;
    }
    pp_case_set_verdict(c, oc);
    JsonNode *k = NULL;
    if (!point_member(p, "k", G_TYPE_INT64, &k, error)) {
        return NULL;
    }
    c->k = (guint)json_node_get_int(k);
    const char *phase = json_object_get_string_member_with_default(p, "phase",
                                                                   "");
    if (!pp_phase_from_name(phase, &c->phase)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "case %s: phase '%s' is not a phase", c->id, phase);
        return NULL;
    }
    c->resumed = json_object_get_boolean_member_with_default(p, "resumed",
                                                             FALSE);
    c->boots = g_strdup(json_object_get_string_member_with_default(
        p, "boots", NULL));
    c->resume_bytes = (guint64)json_object_get_int_member_with_default(
        p, "resume_bytes", 0);
    c->resume_objects = (guint)json_object_get_int_member_with_default(
        p, "resume_objects", 0);
    c->resume_refetched = (guint)json_object_get_int_member_with_default(
        p, "resume_redownloaded", 0);
    c->durable_objects = (guint)json_object_get_int_member_with_default(
        p, "resume_durable_before", 0);
    c->resume_staging_bytes = (guint64)json_object_get_int_member_with_default(
        p, "resume_staging_bytes", 0);
    c->seconds = json_object_get_double_member_with_default(p, "seconds", 0);
    const char *shared = json_object_get_string_member_with_default(
        p, "shares_verdict_with", NULL);
    c->shared_with = g_strdup(shared);
    /* A repeated-cuts case: how many cuts, which failed (the cuts
     * themselves are in its case file). */
    if (json_object_has_member(p, "cuts")) {
        guint n = (guint)json_object_get_int_member_with_default(p, "cuts", 0);
        c->cuts = g_ptr_array_new_with_free_func((GDestroyNotify)pp_cut_free);
        for (guint i = 0; i < n && i < PP_REPEAT_MAX; i++) {
            g_ptr_array_add(c->cuts, g_new0(PpCut, 1));
        }
        c->failed_cut = (guint)json_object_get_int_member_with_default(
            p, "failed_cut", 0);
    }
    /* The known finding it matched (sim-known.h). */
    JsonNode *kn = json_object_get_member(p, "known");
    if (kn != NULL && !JSON_NODE_HOLDS_NULL(kn)) {
        JsonObject *ko = JSON_NODE_HOLDS_OBJECT(kn) ? json_node_get_object(kn)
                                                    : NULL;
        const char *finding = ko != NULL
            ? json_object_get_string_member_with_default(ko, "finding", NULL)
            : NULL;
        const char *link = ko != NULL
            ? json_object_get_string_member_with_default(ko, "link", NULL)
            : NULL;
        if (finding == NULL || link == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "case %s: 'known' is not an object with a finding "
                        "and a link", c->id);
            return NULL;
        }
        c->known = g_new0(PpCaseKnown, 1);
        c->known->finding = g_strdup(finding);
        c->known->link = g_strdup(link);
        c->known->until = g_strdup(json_object_get_string_member_with_default(
            ko, "until", NULL));
        c->known->expired = json_object_get_boolean_member_with_default(
            ko, "expired", FALSE);
    }
    JsonNode *tn = json_object_get_member(p, "time");
    JsonObject *t = tn != NULL && JSON_NODE_HOLDS_OBJECT(tn)
        ? json_node_get_object(tn) : NULL;
    if (t != NULL) {
        c->t_materialise = json_object_get_double_member_with_default(
            t, "materialise_s", 0);
        c->t_judge = json_object_get_double_member_with_default(t, "judge_s",
                                                                0);
        c->t_resume = json_object_get_double_member_with_default(t, "resume_s",
                                                                 0);
        c->t_remove = json_object_get_double_member_with_default(t, "remove_s",
                                                                 0);
        c->farm_dirs = (guint)json_object_get_int_member_with_default(
            t, "farm_dirs", 0);
        c->farm_from = json_object_get_int_member_with_default(t, "farm_from",
                                                               -1);
    }
    return g_steal_pointer(&c);
}

gboolean
pp_write_junit(const char *dir, const PpRunInfo *info, GPtrArray *cases,
               GError **error)
{
    guint failures = 0, skipped = 0;
    for (guint i = 0; i < cases->len; i++) {
        failures += pp_case_failed(cases->pdata[i]);
        skipped += pp_case_known(cases->pdata[i]);
    }
    /* A [fault] run is one more testcase: the faulted update itself. */
    JsonObject *fo = info->fault != NULL ? json_node_get_object(info->fault)
                                         : NULL;
    gboolean fault_bad = fo != NULL
        && (!json_object_get_boolean_member_with_default(fo, "fired", FALSE)
            || json_object_get_boolean_member_with_default(fo, "failed",
                                                           FALSE));
    failures += fault_bad;
    g_autoptr(GString) x = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_autofree char *suite = g_markup_printf_escaped(
        "plugpull.%s.%s", info->tier, info->scenario_name);
    g_string_append_printf(x, "<testsuites>\n<testsuite name=\"%s\" tests=\"%u\" "
                           "failures=\"%u\" errors=\"0\" skipped=\"%u\" "
                           "time=\"%.3f\" timestamp=\"%s\">\n", suite,
                           cases->len + (fo != NULL), failures, skipped,
                           info->duration_s, info->started);
    if (fo != NULL) {
        const char *note = json_object_get_string_member_with_default(
            fo, "note", "");
        const char *verdict = json_object_get_string_member_with_default(
            fo, "verdict", "");
        /* Its name says which update; how it went is in the body. */
        g_autofree char *tc = g_markup_printf_escaped(
            "  <testcase classname=\"%s.fault\" name=\"the faulted update\" "
            "time=\"0\">\n", suite);
        g_string_append(x, tc);
        if (fault_bad) {
            g_autofree char *f = g_markup_printf_escaped(
                "    <failure type=\"%s\" message=\"%s\">see summary.json "
                "fault</failure>\n", note, verdict);
            g_string_append(x, f);
        }
        g_autofree char *so = g_markup_printf_escaped(
            "    <system-out>%s</system-out>\n  </testcase>\n", note);
        g_string_append(x, so);
    }
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        /*
         * The name is what identifies the case across runs, so that CI
         * can follow one testcase's history: the case id (model, crash
         * point k, seed) and the phase.  Not the call at k: the pull
         * fetches on several threads, so the k-th call of two runs of
         * one update may differ (measured: 10 of 30 sampled points of
         * the pull, e.g. fchmod in one run, futimens in the other), while
         * `plugpull compare` pairs the two k as the same crash point.
         * The call (exact, and with the run's made-up names folded,
         * pathfold.h) and the reason go in the body.
         */
        g_autofree char *tc = g_markup_printf_escaped(
            "  <testcase classname=\"%s.%s\" name=\"%s %s\" time=\"%.3f\">\n",
            suite, pp_phase_name(c->phase), c->id, pp_phase_name(c->phase),
            c->seconds);
        g_string_append(x, tc);
        g_autofree char *folded = pp_call_fold(c->call);
        g_autofree char *so = g_markup_printf_escaped(
            "    <system-out>call: %s\nfolded: %s\noutcome: %s: %s\n"
            "</system-out>\n", c->call, folded,
            pp_outcome_to_string(c->verdict), c->reason);
        const char *outcome = pp_outcome_to_string(c->verdict);
        if (pp_case_known(c)) {
            /* Acknowledged: skipped, with the tracker to follow. */
            g_autofree char *sk = g_markup_printf_escaped(
                "    <skipped message=\"known finding %s (%s): %s: %s\"/>\n",
                c->known->finding, c->known->link, outcome, c->reason);
            g_string_append(x, sk);
            g_string_append(x, so);
            g_string_append(x, "  </testcase>\n");
            continue;
        }
        if (!pp_case_failed(c)) {
            g_string_append(x, so);
            g_string_append(x, "  </testcase>\n");
            continue;
        }
        g_autofree char *expired = c->known != NULL
            ? g_strdup_printf(" (known finding %s expired after %s: %s)",
                              c->known->finding, c->known->until,
                              c->known->link)
            : g_strdup("");
        g_autofree char *f = g_markup_printf_escaped(
            "    <failure type=\"%s\" message=\"%s: %s%s\">crash state %s\n"
            "replay: plugpull replay cases/%s.json</failure>\n", outcome,
            outcome, c->reason, expired, c->state_name, c->id);
        g_string_append(x, f);
        g_string_append(x, so);
        g_string_append(x, "  </testcase>\n");
    }
    g_string_append(x, "</testsuite>\n</testsuites>\n");
    g_autofree char *path = g_build_filename(dir, "junit.xml", NULL);
    return pp_write_file_durable(path, x->str, (gssize)x->len, error);
}
