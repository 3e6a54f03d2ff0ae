/* SPDX-License-Identifier: MIT */
/*
 * vmout.c: see vmout.h.
 */
#include "vm/vm-out.h"
#include "common/durable.h"

#include "common/json.h"
#include "common/outcome.h"
#include "common/util.h"
#include "common/version.h"

/*
 * The arguments of `plugpull run` that replay cycle c alone, with the same
 * draw (everything but --out).  A phase cut replays as the syscall cut it
 * drew: no calibration is needed to find the same call again.
 */
static GPtrArray *
replay_argv(const PpRunEnv *env, const PpCycle *c)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup("run"));
    g_ptr_array_add(a, g_strdup("--image"));
    g_ptr_array_add(a, g_strdup(env->image_dir));
    g_ptr_array_add(a, g_strdup("--no-build"));
    g_ptr_array_add(a, g_strdup("--seed"));
    g_ptr_array_add(a, g_strdup_printf("%" G_GUINT64_FORMAT, env->seed));
    g_ptr_array_add(a, g_strdup("--cycle"));
    g_ptr_array_add(a, g_strdup_printf("%u", c->index));
    g_ptr_array_add(a, g_strdup("--cut"));
    if (c->cut_rule != NULL) {
        g_ptr_array_add(a, g_strconcat("syscall:", c->cut_rule, NULL));
    } else if (env->cut.kind == PP_CUT_AFTER_EXIT) {
        /* The same (seed, cycle) draws the same delay; no window. */
        g_ptr_array_add(a, g_strdup(env->cut.text));
    } else {
        g_ptr_array_add(a, g_strdup(env->cut.text != NULL ? env->cut.text
                                                          : "random-time"));
        g_ptr_array_add(a, g_strdup("--window"));
        g_ptr_array_add(a, g_strdup_printf("%.6f", env->window_s));
    }
    if (env->scenario_path != NULL) {
        g_ptr_array_add(a, g_strdup("--scenario"));
        g_ptr_array_add(a, g_strdup(env->scenario_path));
    }
    if (env->sabotage != NULL) {
        g_ptr_array_add(a, g_strdup("--sabotage"));
        g_ptr_array_add(a, g_strdup(env->sabotage));
    }
    return a;
}

static char *
replay_command(const PpRunEnv *env, const PpCycle *c)
{
    g_autoptr(GPtrArray) a = replay_argv(env, c);
    g_autoptr(GString) s = g_string_new("plugpull");
    for (guint i = 0; i < a->len; i++) {
        g_autofree char *q = g_shell_quote(a->pdata[i]);
        g_string_append_printf(s, " %s", q);
    }
    g_string_append_printf(s, " --out replay-%s", c->id);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static JsonNode *
cycle_json(const PpRunEnv *env, const PpCycle *c)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "id", c->id);
    pp_json_add_string(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string_or_null(b, "tier", "vm");
    pp_json_add_string_or_null(b, "bootloader", "u-boot");
    pp_json_add_string_or_null(b, "image", env->image_dir);
    pp_json_add_int(b, "cycle", c->index);
    pp_json_add_int(b, "seed", (gint64)env->seed);
    pp_json_add_string(b, "outcome", pp_outcome_to_string(c->outcome));
    pp_json_add_string_or_null(b, "reason", c->reason);
    pp_json_add_string_or_null(b, "cut", c->cut_kind);
    pp_json_add_string_or_null(b, "cut_rule", c->cut_rule);
    pp_json_add_string_or_null(b, "cut_call", c->cut_desc);
    pp_json_add_string_or_null(b, "crash_line", c->crash_line);
    pp_json_add_int(b, "cut_seq", c->cut_seq);
    pp_json_add_boolean(b, "cut_fired", c->cut_fired);
    pp_json_add_string_or_null(b, "phase", c->phase);
    pp_json_add_string_or_null(b, "phase_marks", c->marks->str);
    pp_json_add_double(b, "window_s", env->window_s);
    pp_json_add_double(b, "cut_offset_s", c->cut_offset_s);
    pp_json_add_boolean(b, "update_done_before_cut", c->update_done_before_cut);
    if (c->update_done_before_cut) {
        pp_json_add_int(b, "update_rc", c->update_rc_before_cut);
    }
    /* After the client's exit: when it exited, and the cut after it. */
    pp_json_add_double(b, "after_exit_s", c->after_exit_s);
    pp_json_add_double(b, "exit_s", c->exit_s);
    pp_json_add_double(b, "exit_to_cut_s", c->exit_to_cut_s);
    pp_json_add_double(b, "exit_uptime_s", c->exit_uptime_s);
    pp_json_add_string_or_null(b, "loader_before", c->loader_before);
    pp_json_add_string_or_null(b, "loader_at_cut", c->loader_at_cut);
    if (c->needs_recovery_at_cut >= 0) {
        pp_json_add_boolean(b, "journal_needs_recovery_at_cut",
                            c->needs_recovery_at_cut == 1);
    }
    pp_json_add_string_or_null(b, "qemu_at_cut", c->cut_qemu_exit);
    pp_json_add_string_or_null(b, "sabotage", env->sabotage);
    /* The disk the cut left (MODELS.md 4d): its seed replays the draw. */
    json_builder_set_member_name(b, "disk_cache");
    if (env->disk_cache == PP_DISK_CACHE_VOLATILE && !c->disk_rebuilt) {
        /* Not rebuilt (yet): the seed alone. */
        PpDiskCacheResult r = { .seed = c->disk_seed, .last_flush = -1 };
        json_builder_add_value(b, pp_diskcache_result_to_json(
            env->disk_cache, &r));
    } else {
        json_builder_add_value(b, pp_diskcache_result_to_json(
            env->disk_cache, &c->disk_cache));
    }
    pp_json_add_string_or_null(b, "unflushed_write", c->unflushed_write);
    pp_json_add_string_or_null(b, "from_commit", env->from);
    pp_json_add_string_or_null(b, "to_commit", env->to);
    pp_json_add_string_or_null(b, "booted_after_cut", c->booted_after_cut);
    pp_json_add_string_or_null(b, "booted_final", c->booted_final);
    pp_json_add_int(b, "status_rc", c->status_rc);
    pp_json_add_int(b, "fsck_rc", c->fsck_rc);
    pp_json_add_int(b, "resume_rc", c->resume_rc);
    pp_json_add_int(b, "resume_bytes", (gint64)c->resume_bytes);
    pp_json_add_double(b, "boot_to_verdict_s", c->boot_to_verdict_s);
    pp_json_add_double(b, "seconds", c->seconds);
    pp_json_add_string_or_null(b, "disk", c->disk_kept);
    g_autofree char *cmd = replay_command(env, c);
    pp_json_add_string_or_null(b, "command", cmd);
    /* What `plugpull replay CASE.json` runs. */
    json_builder_set_member_name(b, "replay");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "run_argv");
    json_builder_begin_array(b);
    g_autoptr(GPtrArray) argv = replay_argv(env, c);
    for (guint i = 0; i < argv->len; i++) {
        json_builder_add_string_value(b, argv->pdata[i]);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "boots");
    g_autoptr(JsonNode) boots = json_builder_get_root(c->boots);
    json_builder_add_value(b, g_steal_pointer(&boots));
    pp_json_add_string_or_null(b, "evidence", c->notes->str);
    if (c->inspect != NULL) {
        json_builder_set_member_name(b, "inspect");
        json_builder_add_value(b, json_node_copy(c->inspect));
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

gboolean
pp_vm_write_case(const PpRunEnv *env, const PpCycle *c, GError **error)
{
    g_autoptr(JsonNode) node = cycle_json(env, c);
    g_autofree char *path = g_strdup_printf("%s/cases/%s.json", env->out_dir,
                                            c->id);
    return pp_write_json(path, node, error);
}

/* A string member of a case file, NULL when null or absent. */
static char *
dup_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n != NULL && JSON_NODE_HOLDS_VALUE(n)
               && json_node_get_value_type(n) == G_TYPE_STRING
        ? g_strdup(json_node_get_string(n)) : NULL;
}

PpCycle *
pp_vm_cycle_load(const PpRunEnv *env, guint index, GError **error)
{
    g_autoptr(PpCycle) c = pp_cycle_new(env, index);
    g_autofree char *path = g_strdup_printf("%s/cases/%s.json", env->out_dir,
                                            c->id);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s is missing",
                    path);
        return NULL;
    }
    JsonObject *o = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &o, error);
    if (parser == NULL) {
        return NULL;
    }
    g_autofree char *id = dup_member(o, "id");
    g_autofree char *outcome = dup_member(o, "outcome");
    g_autofree char *cut = dup_member(o, "cut");
    if (g_strcmp0(id, c->id) != 0 || outcome == NULL || cut == NULL
        || json_object_get_int_member_with_default(o, "cycle", -1)
           != (gint64)index) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not the case file of cycle %u (id, cycle, outcome "
                    "or cut missing)", path, index);
        return NULL;
    }
    if (!pp_outcome_from_string(outcome, &c->outcome)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: outcome '%s' is not an outcome", path, outcome);
        return NULL;
    }
    g_free(c->cut_kind);
    c->cut_kind = g_steal_pointer(&cut);
    g_free(c->phase);
    c->phase = dup_member(o, "phase");
    if (c->phase == NULL) {
        c->phase = g_strdup("unknown");
    }
    g_free(c->reason);
    c->reason = dup_member(o, "reason");
    g_free(c->cut_rule);
    c->cut_rule = dup_member(o, "cut_rule");
    g_free(c->cut_desc);
    c->cut_desc = dup_member(o, "cut_call");
    c->booted_after_cut = dup_member(o, "booted_after_cut");
    c->booted_final = dup_member(o, "booted_final");
    c->disk_kept = dup_member(o, "disk");
    c->cut_offset_s = json_object_get_double_member_with_default(
        o, "cut_offset_s", 0);
    c->update_done_before_cut = json_object_get_boolean_member_with_default(
        o, "update_done_before_cut", FALSE);
    c->update_rc_before_cut = (int)json_object_get_int_member_with_default(
        o, "update_rc", 0);
    c->after_exit_s = json_object_get_double_member_with_default(
        o, "after_exit_s", -1);
    c->exit_s = json_object_get_double_member_with_default(o, "exit_s", -1);
    c->exit_to_cut_s = json_object_get_double_member_with_default(
        o, "exit_to_cut_s", -1);
    c->exit_uptime_s = json_object_get_double_member_with_default(
        o, "exit_uptime_s", -1);
    c->loader_before = dup_member(o, "loader_before");
    c->loader_at_cut = dup_member(o, "loader_at_cut");
    c->needs_recovery_at_cut = json_object_has_member(
        o, "journal_needs_recovery_at_cut")
        ? json_object_get_boolean_member(o, "journal_needs_recovery_at_cut")
        : -1;
    c->status_rc = (int)json_object_get_int_member_with_default(
        o, "status_rc", 0);
    c->fsck_rc = (int)json_object_get_int_member_with_default(o, "fsck_rc",
                                                              0);
    c->resume_rc = (int)json_object_get_int_member_with_default(
        o, "resume_rc", 0);
    c->resume_bytes = (guint64)json_object_get_int_member_with_default(
        o, "resume_bytes", 0);
    c->boot_to_verdict_s = json_object_get_double_member_with_default(
        o, "boot_to_verdict_s", 0);
    c->seconds = json_object_get_double_member_with_default(o, "seconds", 0);
    return g_steal_pointer(&c);
}

static gboolean
write_junit(const PpRunEnv *env, const PpVmRunInfo *info, GPtrArray *cycles,
            GError **error)
{
    guint failures = 0;
    for (guint i = 0; i < cycles->len; i++) {
        failures += pp_cycle_failed(cycles->pdata[i]);
    }
    g_autoptr(GString) x = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_autofree char *suite = g_markup_printf_escaped("plugpull.vm.%s",
                                                     env->cut.text);
    g_string_append_printf(x, "<testsuites>\n<testsuite name=\"%s\" "
                           "tests=\"%u\" failures=\"%u\" errors=\"0\" "
                           "time=\"%.3f\" timestamp=\"%s\">\n", suite,
                           cycles->len, failures, info->duration_s,
                           info->started);
    for (guint i = 0; i < cycles->len; i++) {
        const PpCycle *c = cycles->pdata[i];
        g_autofree char *tc = g_markup_printf_escaped(
            "  <testcase classname=\"plugpull.vm.%s\" name=\"%s\" "
            "time=\"%.3f\"", c->phase, c->id, c->seconds);
        g_string_append(x, tc);
        if (!pp_cycle_failed(c)) {
            g_string_append(x, "/>\n");
            continue;
        }
        g_autofree char *cmd = replay_command(env, c);
        g_autofree char *f = g_markup_printf_escaped(
            ">\n    <failure type=\"%s\" message=\"%s: %s\">cut (%s) at %.3f s, "
            "phase %s; serial logs in cases/%s/\nreplay: %s</failure>\n"
            "  </testcase>\n", pp_outcome_to_string(c->outcome),
            pp_outcome_to_string(c->outcome), c->reason, c->cut_kind,
            c->cut_offset_s, c->phase, c->id, cmd);
        g_string_append(x, f);
    }
    g_string_append(x, "</testsuite>\n</testsuites>\n");
    g_autofree char *path = g_build_filename(env->out_dir, "junit.xml", NULL);
    return pp_write_file_durable(path, x->str, (gssize)x->len, error);
}

static gboolean
write_points(const PpRunEnv *env, GPtrArray *cycles, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "tier", "vm");
    /* The x axis of the VM tier is time since the update started. */
    pp_json_add_string(b, "axis", "seconds");
    pp_json_add_double(b, "window_s", env->window_s);
    pp_json_add_int(b, "trace_records", env->have_timeline ? env->timeline.n : 0);
    json_builder_set_member_name(b, "commit_point");
    json_builder_add_int_value(b, env->have_timeline
                               ? env->timeline.phases.commit_point : -1);
    if (env->have_timeline) {
        json_builder_set_member_name(b, "phase_start_s");
        json_builder_begin_object(b);
        for (PpPhase p = 0; p < PP_PHASE_COUNT; p++) {
            pp_json_add_double(b, pp_phase_name(p), env->timeline.phase_start_s[p]);
        }
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "cases");
    json_builder_begin_array(b);
    for (guint i = 0; i < cycles->len; i++) {
        const PpCycle *c = cycles->pdata[i];
        json_builder_begin_object(b);
        pp_json_add_string(b, "id", c->id);
        /* k orders the points: milliseconds into the update. */
        pp_json_add_int(b, "k", (gint64)(c->cut_offset_s * 1000));
        pp_json_add_double(b, "time_s", c->cut_offset_s);
        pp_json_add_string(b, "phase", c->phase);
        json_builder_set_member_name(b, "call");
        json_builder_add_string_value(b, c->cut_desc != NULL ? c->cut_desc
                                      : c->cut_rule != NULL ? c->cut_rule
                                      : c->cut_kind);
        pp_json_add_string(b, "outcome", pp_outcome_to_string(c->outcome));
        pp_json_add_string(b, "reason", c->reason);
        gboolean resumed = c->resume_rc == 0 && c->booted_after_cut != NULL
                           && c->status_rc == 0 && c->fsck_rc == 0;
        pp_json_add_boolean(b, "resumed", resumed);
        if (resumed) {
            pp_json_add_int(b, "resume_bytes", (gint64)c->resume_bytes);
        }
        pp_json_add_double(b, "seconds", c->seconds);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(env->out_dir, "points.json", NULL);
    return pp_write_json(path, root, error);
}

static gboolean
write_summary(const PpRunEnv *env, const PpVmRunInfo *info, GPtrArray *cycles,
              GError **error)
{
    PpOutcomeCounts counts = { { 0 } };
    double cycle_s = 0, verdict_s = 0;
    guint64 bytes = 0;
    guint failed = 0;
    for (guint i = 0; i < cycles->len; i++) {
        const PpCycle *c = cycles->pdata[i];
        pp_outcome_counts_add(&counts, c->outcome);
        failed += pp_cycle_failed(c);
        cycle_s += c->seconds;
        verdict_s += c->boot_to_verdict_s;
        bytes += c->resume_bytes;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "tool", "plugpull");
    pp_version_add_json(b);
    pp_json_add_string_or_null(b, "tier", "vm");
    pp_json_add_string_or_null(b, "bootloader", "u-boot");
    json_builder_set_member_name(b, "scenario");
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "name", env->scenario);
    pp_json_add_string_or_null(b, "path", env->scenario_path != NULL
                                              ? env->scenario_path
                                              : "built-in default");
    pp_json_add_string_or_null(b, "bootloader", "uboot");
    pp_json_add_string_or_null(b, "expect", env->expect_failures ? "failures" : "pass");
    json_builder_end_object(b);
    pp_json_add_string_or_null(b, "cut", env->cut.text);
    pp_json_add_int(b, "seed", (gint64)env->seed);
    pp_json_add_string_or_null(b, "image", env->image_dir);
    pp_json_add_string_or_null(b, "from_commit", env->from);
    pp_json_add_string_or_null(b, "to_commit", env->to);
    pp_json_add_string_or_null(b, "sabotage", env->sabotage);
    /* [device] disk-cache (MODELS.md 4d). */
    pp_json_add_string(b, "disk_cache", pp_disk_cache_name(env->disk_cache));
    pp_json_add_string_or_null(b, "started", info->started);
    pp_json_add_string_or_null(b, "command", info->command);
    pp_json_add_int(b, "iterations", info->iterations);
    pp_json_add_int(b, "jobs", info->jobs);
    pp_json_add_int(b, "cycles", cycles->len);
    pp_json_add_int(b, "passed", cycles->len - failed);
    pp_json_add_int(b, "failed", failed);
    pp_json_add_boolean(b, "interrupted", info->interrupted);
    if (info->continued) {
        json_builder_set_member_name(b, "continued");
        json_builder_begin_object(b);
        pp_json_add_int(b, "cycles_kept", info->cycles_kept);
        json_builder_end_object(b);
    }
    pp_json_add_outcomes(b, &counts);
    pp_json_add_double(b, "window_s", env->window_s);
    if (env->have_timeline) {
        json_builder_set_member_name(b, "calibration");
        json_builder_begin_object(b);
        pp_json_add_int(b, "trace_records", env->timeline.n);
        pp_json_add_double(b, "t0_guest_uptime_s", env->timeline.t0);
        pp_json_add_double(b, "last_call_s", env->timeline.end_s);
        json_builder_set_member_name(b, "phase_start_s");
        json_builder_begin_object(b);
        for (PpPhase p = 0; p < PP_PHASE_COUNT; p++) {
            pp_json_add_double(b, pp_phase_name(p), env->timeline.phase_start_s[p]);
        }
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    pp_json_add_double(b, "duration_s", info->duration_s);
    /* Cycles per hour of wall time spent in cycles: the image build and
       the calibration are paid once per campaign.  With jobs > 1 the
       cycles overlap: divide by the wall time they took together. */
    double wall = info->jobs > 1 ? info->cycles_wall_s : cycle_s;
    /* In parallel, the wall time is this run's: its cycles only. */
    guint timed = info->jobs > 1 ? cycles->len - info->cycles_kept
                                 : cycles->len;
    pp_json_add_double(b, "cycles_per_hour", wall > 0 ? timed * 3600.0 / wall : 0.0);
    pp_json_add_double(b, "mean_cycle_s", cycles->len ? cycle_s / cycles->len : 0.0);
    pp_json_add_double(b, "mean_boot_to_verdict_s", cycles->len ? verdict_s / cycles->len : 0.0);
    pp_json_add_int(b, "resume_bytes_total", (gint64)bytes);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *path = g_build_filename(env->out_dir, "summary.json", NULL);
    return pp_write_json(path, root, error);
}

gboolean
pp_vm_write_results(const PpRunEnv *env, const PpVmRunInfo *info,
                    GPtrArray *cycles, GError **error)
{
    return write_points(env, cycles, error)
           && write_junit(env, info, cycles, error)
           && write_summary(env, info, cycles, error);
}
