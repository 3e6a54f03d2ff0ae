/* SPDX-License-Identifier: MIT */
/*
 * vmcampaign.c: see vmcampaign.h.
 */
#include "vm/vm-campaign.h"

#include <string.h>

#include "common/json.h"
#include "common/campaign-file.h"
#include "common/util.h"
#include "common/version.h"

#define VM_CAMPAIGN_FORMAT 1

void
pp_vm_options_clear(PpVmOptions *o)
{
    g_clear_pointer(&o->scenario_path, g_free);
    g_clear_pointer(&o->scenario_text, g_free);
    g_clear_pointer(&o->cut, g_free);
    g_clear_pointer(&o->image_dir, g_free);
    g_clear_pointer(&o->bios, g_free);
    g_clear_pointer(&o->sabotage, g_free);
}

void
pp_vm_campaign_free(PpVmCampaign *c)
{
    if (c == NULL) {
        return;
    }
    g_free(c->path);
    pp_vm_options_clear(&c->opts);
    g_free(c->from_commit);
    g_free(c->to_commit);
    g_free(c->started);
    g_free(c);
}

gboolean
pp_vm_campaign_write(const char *dir, const PpVmCampaign *c, GError **error)
{
    const PpVmOptions *o = &c->opts;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string_or_null(b, "kind", "vm-campaign");
    pp_json_add_int(b, "format", VM_CAMPAIGN_FORMAT);
    pp_json_add_string_or_null(b, "scenario_path", o->scenario_path);
    pp_json_add_string_or_null(b, "scenario_text", o->scenario_text);
    pp_json_add_string_or_null(b, "cut", o->cut);
    pp_json_add_int(b, "iterations", o->iterations);
    pp_json_add_int(b, "seed", o->seed);
    pp_json_add_string_or_null(b, "image", o->image_dir);
    pp_json_add_int(b, "no_build", o->no_build);
    pp_json_add_double(b, "window_s", o->window_s);
    pp_json_add_int(b, "boot_timeout", o->boot_timeout);
    pp_json_add_int(b, "hang_timeout", o->hang_timeout);
    pp_json_add_int(b, "cmd_timeout", o->cmd_timeout);
    pp_json_add_string_or_null(b, "bios", o->bios);
    pp_json_add_string_or_null(b, "sabotage", o->sabotage);
    pp_json_add_string_or_null(b, "from_commit", c->from_commit);
    pp_json_add_string_or_null(b, "to_commit", c->to_commit);
    pp_json_add_string_or_null(b, "started", c->started);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(dir, "campaign.json", NULL);
    return pp_write_json(path, root, error);
}

static gboolean
get_number(JsonObject *o, const char *name, const char *path, double *out,
           GError **error)
{
    JsonNode *n = json_object_get_member(o, name);
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n)
        || (json_node_get_value_type(n) != G_TYPE_INT64
            && json_node_get_value_type(n) != G_TYPE_DOUBLE)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: '%s' missing or not a number", path, name);
        return FALSE;
    }
    *out = json_node_get_value_type(n) == G_TYPE_INT64
        ? (double)json_node_get_int(n) : json_node_get_double(n);
    return TRUE;
}

PpVmCampaign *
pp_vm_campaign_load(const char *dir, GError **error)
{
    g_autoptr(PpVmCampaign) c = g_new0(PpVmCampaign, 1);
    c->path = g_build_filename(dir, "campaign.json", NULL);
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_campaign_file_load(
        c->path, dir, "run", "vm-campaign", VM_CAMPAIGN_FORMAT, &m, error);
    if (parser == NULL) {
        return NULL;
    }
    PpVmOptions *o = &c->opts;
    double iterations = 0, seed = 0, no_build = 0;
    double boot = 0, hang = 0, cmd = 0;
    if (!pp_json_get_string(m, "scenario_path", TRUE, c->path, &o->scenario_path,
                    error)
        || !pp_json_get_string(m, "scenario_text", TRUE, c->path, &o->scenario_text,
                       error)
        || !pp_json_get_string(m, "cut", FALSE, c->path, &o->cut, error)
        || !get_number(m, "iterations", c->path, &iterations, error)
        || !get_number(m, "seed", c->path, &seed, error)
        || !pp_json_get_string(m, "image", FALSE, c->path, &o->image_dir, error)
        || !get_number(m, "no_build", c->path, &no_build, error)
        || !get_number(m, "window_s", c->path, &o->window_s, error)
        || !get_number(m, "boot_timeout", c->path, &boot, error)
        || !get_number(m, "hang_timeout", c->path, &hang, error)
        || !get_number(m, "cmd_timeout", c->path, &cmd, error)
        || !pp_json_get_string(m, "bios", FALSE, c->path, &o->bios, error)
        || !pp_json_get_string(m, "sabotage", TRUE, c->path, &o->sabotage, error)
        || !pp_json_get_string(m, "from_commit", FALSE, c->path, &c->from_commit,
                       error)
        || !pp_json_get_string(m, "to_commit", FALSE, c->path, &c->to_commit, error)
        || !pp_json_get_string(m, "started", FALSE, c->path, &c->started, error)) {
        return NULL;
    }
    /* The seed is written as an integer: read it as one (a double would
     * round seeds above 2^53). */
    o->seed = json_object_get_int_member(m, "seed");
    o->iterations = (gint)iterations;
    o->no_build = no_build != 0;
    o->boot_timeout = (gint)boot;
    o->hang_timeout = (gint)hang;
    o->cmd_timeout = (gint)cmd;
    if (o->iterations < 1 || o->seed < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: iterations or seed out of range", c->path);
        return NULL;
    }
    return g_steal_pointer(&c);
}

static void
disagree_int(GString *bad, const char *what, gint64 given, gint64 has)
{
    if (given >= 0 && given != has) {
        g_string_append_printf(bad, "\n  %s: %" G_GINT64_FORMAT " given, the "
                               "campaign has %" G_GINT64_FORMAT, what, given,
                               has);
    }
}

gboolean
pp_vm_campaign_check(const PpVmCampaign *c, const PpVmOptions *given,
                     GError **error)
{
    const PpVmOptions *o = &c->opts;
    g_autoptr(GString) bad = g_string_new(NULL);
    if (given->scenario_path != NULL) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(given->scenario_path, &text, NULL, error)) {
            return FALSE;
        }
        if (g_strcmp0(text, o->scenario_text) != 0) {
            g_string_append_printf(bad, "\n  scenario: %s differs from the "
                                   "one the campaign started with (%s)",
                                   given->scenario_path,
                                   o->scenario_path != NULL
                                   ? o->scenario_path : "built-in default");
        }
    }
    pp_campaign_disagree(bad, "cut", given->cut, o->cut);
    disagree_int(bad, "iterations", given->iterations, o->iterations);
    disagree_int(bad, "seed", given->seed, o->seed);
    pp_campaign_disagree(bad, "image", given->image_dir, o->image_dir);
    disagree_int(bad, "no-build", given->no_build, o->no_build);
    if (given->window_s >= 0 && given->window_s != o->window_s) {
        g_string_append_printf(bad, "\n  window: %g given, the campaign has "
                               "%g", given->window_s, o->window_s);
    }
    disagree_int(bad, "boot-timeout", given->boot_timeout, o->boot_timeout);
    disagree_int(bad, "hang-timeout", given->hang_timeout, o->hang_timeout);
    disagree_int(bad, "cmd-timeout", given->cmd_timeout, o->cmd_timeout);
    pp_campaign_disagree(bad, "bios", given->bios, o->bios);
    pp_campaign_disagree(bad, "sabotage", given->sabotage, o->sabotage);
    if (bad->len > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s pins the campaign, and this run disagrees with it "
                    "(give --resume alone, or a new --out for another "
                    "campaign):%s", c->path, bad->str);
        return FALSE;
    }
    return TRUE;
}

static char *
calibration_path(const PpRunEnv *env)
{
    return g_build_filename(env->work_dir, "calibration.json", NULL);
}

/* Where pp_calibrate leaves the calibration's trace. */
static char *
calibration_trace(const PpRunEnv *env)
{
    return g_build_filename(env->out_dir, "calibration.cfit", NULL);
}

gboolean
pp_vm_calibration_save(const PpRunEnv *env, GError **error)
{
    g_autofree char *trace = calibration_trace(env);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "trace", trace);
    pp_json_add_double(b, "t0", env->timeline.t0);
    pp_json_add_double(b, "window_s", env->window_s);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = calibration_path(env);
    return pp_write_json(path, root, error);
}

gboolean
pp_vm_calibration_load(PpRunEnv *env, GError **error)
{
    g_autofree char *path = calibration_path(env);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s is missing", path);
        return FALSE;
    }
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, error);
    g_autofree char *trace = NULL;
    double t0 = 0, window = 0;
    if (parser == NULL
        || !pp_json_get_string(m, "trace", FALSE, path, &trace, error)
        || !get_number(m, "t0", path, &t0, error)
        || !get_number(m, "window_s", path, &window, error)) {
        return FALSE;
    }
    CfiTrace *t = cfi_trace_open(trace, error);
    if (t == NULL) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    g_clear_pointer(&env->cal_trace, cfi_trace_free);
    env->cal_trace = t;
    pp_vm_timeline_build(env->cal_trace, t0, &env->timeline);
    env->have_timeline = TRUE;
    if (env->window_s == 0) {
        env->window_s = window;
    }
    return TRUE;
}
