/*
 * simout.c: see simout.h.
 */
#include "simout.h"

#include <string.h>

#include <gio/gio.h>

const char *const pp_outcome_names[PP_N_OUTCOMES] = {
    "pass", "brick", "hang", "wrong-tree", "repo-corrupt", "no-rollback",
    "stuck", "redownload",
};

void
pp_outcome_count(guint *counts, const char *outcome)
{
    for (guint o = 0; o < PP_N_OUTCOMES; o++) {
        if (g_str_equal(outcome, pp_outcome_names[o])) {
            counts[o]++;
        }
    }
}

void
pp_json_add_outcomes(JsonBuilder *b, const guint *counts)
{
    json_builder_set_member_name(b, "outcomes");
    json_builder_begin_object(b);
    for (guint o = 0; o < PP_N_OUTCOMES; o++) {
        json_builder_set_member_name(b, pp_outcome_names[o]);
        json_builder_add_int_value(b, counts[o]);
    }
    json_builder_end_object(b);
}

gboolean
pp_write_json(const char *path, JsonNode *node, GError **error)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    gsize len = 0;
    g_autofree char *text = json_generator_to_data(gen, &len);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    /* g_file_set_contents writes a temporary file, fsyncs it, renames it. */
    if (!g_file_set_contents(path, with_nl, -1, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_write_summary(const char *dir, const PpSimEnv *env, const PpRunInfo *info,
                 GPtrArray *cases, GError **error)
{
    guint counts[PP_N_OUTCOMES] = { 0 };
    guint passed = 0, failed = 0, resumed = 0;
    guint64 bytes = 0;
    guint objects = 0, refetched = 0, durable = 0;
    guint64 staging = 0;
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        pp_outcome_count(counts, c->outcome);
        if (pp_case_failed(c)) {
            failed++;
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
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tool");
    json_builder_add_string_value(b, "plugpull");
    json_builder_set_member_name(b, "tier");
    json_builder_add_string_value(b, info->tier);
    json_builder_set_member_name(b, "scenario");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, info->scenario->name);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, info->scenario->path);
    json_builder_set_member_name(b, "action");
    json_builder_add_string_value(b, pp_action_to_string(info->scenario->action));
    json_builder_set_member_name(b, "bootloader");
    json_builder_add_string_value(b, info->scenario->bootloader);
    json_builder_set_member_name(b, "expect");
    json_builder_add_string_value(b, info->scenario->expect_failures
                                     ? "failures" : "pass");
    json_builder_end_object(b);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, cfi_model_to_string(env->model));
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64)env->seed);
    g_autofree char *points = pp_points_to_string(info->scenario->points,
                                                  info->scenario->sample);
    json_builder_set_member_name(b, "points");
    json_builder_add_string_value(b, points);
    json_builder_set_member_name(b, "client");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, env->ostree);
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, info->client_version);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "trace");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, env->trace_path);
    json_builder_set_member_name(b, "records");
    json_builder_add_int_value(b, info->records);
    json_builder_set_member_name(b, "commit_point");
    json_builder_add_int_value(b, env->phases.commit_point);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "cases");
    json_builder_add_int_value(b, cases->len);
    json_builder_set_member_name(b, "points_chosen");
    json_builder_add_int_value(b, info->points_total);
    json_builder_set_member_name(b, "passed");
    json_builder_add_int_value(b, passed);
    json_builder_set_member_name(b, "failed");
    json_builder_add_int_value(b, failed);
    pp_json_add_outcomes(b, counts);
    json_builder_set_member_name(b, "states_per_minute");
    json_builder_add_double_value(b, info->judge_seconds > 0
                                     ? 60.0 * cases->len / info->judge_seconds
                                     : 0.0);
    json_builder_set_member_name(b, "resume");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "checked");
    json_builder_add_int_value(b, resumed);
    json_builder_set_member_name(b, "bytes_downloaded");
    json_builder_add_int_value(b, (gint64)bytes);
    json_builder_set_member_name(b, "objects_downloaded");
    json_builder_add_int_value(b, objects);
    json_builder_set_member_name(b, "objects_redownloaded");
    json_builder_add_int_value(b, refetched);
    json_builder_set_member_name(b, "objects_durable_before");
    json_builder_add_int_value(b, durable);
    json_builder_set_member_name(b, "staging_bytes_left");
    json_builder_add_int_value(b, (gint64)staging);
    json_builder_end_object(b);
    /* Where the time went, summed over cases (seconds of work, which
     * exceed the wall time when --jobs > 1). */
    double tm = 0, tj = 0, tr = 0, tx = 0;
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        tm += c->t_materialise;
        tj += c->t_judge;
        tr += c->t_resume;
        tx += c->t_remove;
    }
    json_builder_set_member_name(b, "time_split");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "materialise_s");
    json_builder_add_double_value(b, tm);
    json_builder_set_member_name(b, "judge_s");
    json_builder_add_double_value(b, tj);
    json_builder_set_member_name(b, "resume_s");
    json_builder_add_double_value(b, tr);
    json_builder_set_member_name(b, "remove_s");
    json_builder_add_double_value(b, tx);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "jobs");
    json_builder_add_int_value(b, info->jobs);
    json_builder_set_member_name(b, "interrupted");
    json_builder_add_boolean_value(b, info->interrupted);
    json_builder_set_member_name(b, "budget_s");
    json_builder_add_int_value(b, info->budget_s);
    json_builder_set_member_name(b, "budget_reached");
    json_builder_add_boolean_value(b, info->budget_hit);
    json_builder_set_member_name(b, "coverage");
    json_builder_add_double_value(b, info->points_total > 0
                                     ? (double)cases->len / info->points_total
                                     : 0.0);
    json_builder_set_member_name(b, "started");
    json_builder_add_string_value(b, info->started);
    json_builder_set_member_name(b, "duration_s");
    json_builder_add_double_value(b, info->duration_s);
    json_builder_end_object(b);

    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, "summary.json", NULL);
    return pp_write_json(path, root, error);
}

gboolean
pp_write_points(const char *dir, const PpSimEnv *env, GPtrArray *cases,
                GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "trace_records");
    json_builder_add_int_value(b, cfi_trace_n_records(env->trace));
    json_builder_set_member_name(b, "commit_point");
    json_builder_add_int_value(b, env->phases.commit_point);
    json_builder_set_member_name(b, "cases");
    json_builder_begin_array(b);
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, c->id);
        json_builder_set_member_name(b, "k");
        json_builder_add_int_value(b, c->k);
        json_builder_set_member_name(b, "phase");
        json_builder_add_string_value(b, pp_phase_name(c->phase));
        json_builder_set_member_name(b, "call");
        json_builder_add_string_value(b, c->call);
        json_builder_set_member_name(b, "outcome");
        json_builder_add_string_value(b, c->outcome);
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, c->reason);
        json_builder_set_member_name(b, "resumed");
        json_builder_add_boolean_value(b, c->resumed);
        if (c->resumed) {
            json_builder_set_member_name(b, "resume_bytes");
            json_builder_add_int_value(b, (gint64)c->resume_bytes);
            json_builder_set_member_name(b, "resume_objects");
            json_builder_add_int_value(b, c->resume_objects);
            json_builder_set_member_name(b, "resume_redownloaded");
            json_builder_add_int_value(b, c->resume_refetched);
        }
        json_builder_set_member_name(b, "seconds");
        json_builder_add_double_value(b, c->seconds);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, "points.json", NULL);
    return pp_write_json(path, root, error);
}

gboolean
pp_write_junit(const char *dir, const PpRunInfo *info, GPtrArray *cases,
               GError **error)
{
    guint failures = 0;
    for (guint i = 0; i < cases->len; i++) {
        failures += pp_case_failed(cases->pdata[i]);
    }
    g_autoptr(GString) x = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_autofree char *suite = g_markup_printf_escaped(
        "plugpull.%s.%s", info->tier, info->scenario->name);
    g_string_append_printf(x, "<testsuites>\n<testsuite name=\"%s\" tests=\"%u\" "
                           "failures=\"%u\" errors=\"0\" time=\"%.3f\" "
                           "timestamp=\"%s\">\n", suite, cases->len, failures,
                           info->duration_s, info->started);
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        g_autofree char *tc = g_markup_printf_escaped(
            "  <testcase classname=\"%s.%s\" name=\"%s %s\" time=\"%.3f\"",
            suite, pp_phase_name(c->phase), c->id, c->call, c->seconds);
        g_string_append(x, tc);
        if (!pp_case_failed(c)) {
            g_string_append(x, "/>\n");
            continue;
        }
        g_autofree char *f = g_markup_printf_escaped(
            ">\n    <failure type=\"%s\" message=\"%s: %s\">crash state %s\n"
            "replay: plugpull replay cases/%s.json</failure>\n  </testcase>\n",
            c->outcome, c->outcome, c->reason, c->state_name, c->id);
        g_string_append(x, f);
    }
    g_string_append(x, "</testsuite>\n</testsuites>\n");
    g_autofree char *path = g_build_filename(dir, "junit.xml", NULL);
    if (!g_file_set_contents(path, x->str, (gssize)x->len, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}
