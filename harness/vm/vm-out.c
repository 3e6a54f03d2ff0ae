/*
 * vmout.c: see vmout.h.
 */
#include "vm/vm-out.h"
#include "common/durable.h"

#include "sim/sim-out.h"
#include "common/json.h"
#include "common/util.h"

/* Members of the object being built with JsonBuilder b. */
#define STR(k, v) do { json_builder_set_member_name(b, k); \
        if ((v) != NULL) json_builder_add_string_value(b, v); \
        else json_builder_add_null_value(b); } while (0)
#define NUM(k, v) do { json_builder_set_member_name(b, k); \
        json_builder_add_double_value(b, v); } while (0)
#define INT(k, v) do { json_builder_set_member_name(b, k); \
        json_builder_add_int_value(b, v); } while (0)
#define BOOL(k, v) do { json_builder_set_member_name(b, k); \
        json_builder_add_boolean_value(b, v); } while (0)

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
    } else {
        g_ptr_array_add(a, g_strdup("random-time"));
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
    STR("id", c->id);
    STR("tier", "vm");
    STR("bootloader", "u-boot");
    STR("image", env->image_dir);
    INT("cycle", c->index);
    INT("seed", (gint64)env->seed);
    STR("outcome", c->outcome);
    STR("reason", c->reason);
    STR("cut", c->cut_kind);
    STR("cut_rule", c->cut_rule);
    STR("cut_call", c->cut_desc);
    STR("crash_line", c->crash_line);
    INT("cut_seq", c->cut_seq);
    BOOL("cut_fired", c->cut_fired);
    STR("phase", c->phase);
    STR("phase_marks", c->marks->str);
    NUM("window_s", env->window_s);
    NUM("cut_offset_s", c->cut_offset_s);
    BOOL("update_done_before_cut", c->update_done_before_cut);
    STR("qemu_at_cut", c->cut_qemu_exit);
    STR("sabotage", env->sabotage);
    STR("from_commit", env->from);
    STR("to_commit", env->to);
    STR("booted_after_cut", c->booted_after_cut);
    STR("booted_final", c->booted_final);
    INT("status_rc", c->status_rc);
    INT("fsck_rc", c->fsck_rc);
    INT("resume_rc", c->resume_rc);
    INT("resume_bytes", (gint64)c->resume_bytes);
    NUM("boot_to_verdict_s", c->boot_to_verdict_s);
    NUM("seconds", c->seconds);
    STR("disk", c->disk_kept);
    g_autofree char *cmd = replay_command(env, c);
    STR("command", cmd);
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
    STR("evidence", c->notes->str);
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
    g_free(c->outcome);
    c->outcome = g_steal_pointer(&outcome);
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
            "  </testcase>\n", c->outcome, c->outcome, c->reason, c->cut_kind,
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
    json_builder_set_member_name(b, "tier");
    json_builder_add_string_value(b, "vm");
    /* The x axis of the VM tier is time since the update started. */
    json_builder_set_member_name(b, "axis");
    json_builder_add_string_value(b, "seconds");
    json_builder_set_member_name(b, "window_s");
    json_builder_add_double_value(b, env->window_s);
    json_builder_set_member_name(b, "trace_records");
    json_builder_add_int_value(b, env->have_timeline ? env->timeline.n : 0);
    json_builder_set_member_name(b, "commit_point");
    json_builder_add_int_value(b, env->have_timeline
                               ? env->timeline.phases.commit_point : -1);
    if (env->have_timeline) {
        json_builder_set_member_name(b, "phase_start_s");
        json_builder_begin_object(b);
        for (PpPhase p = 0; p < PP_PHASE_COUNT; p++) {
            json_builder_set_member_name(b, pp_phase_name(p));
            json_builder_add_double_value(b, env->timeline.phase_start_s[p]);
        }
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "cases");
    json_builder_begin_array(b);
    for (guint i = 0; i < cycles->len; i++) {
        const PpCycle *c = cycles->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, c->id);
        /* k orders the points: milliseconds into the update. */
        json_builder_set_member_name(b, "k");
        json_builder_add_int_value(b, (gint64)(c->cut_offset_s * 1000));
        json_builder_set_member_name(b, "time_s");
        json_builder_add_double_value(b, c->cut_offset_s);
        json_builder_set_member_name(b, "phase");
        json_builder_add_string_value(b, c->phase);
        json_builder_set_member_name(b, "call");
        json_builder_add_string_value(b, c->cut_desc != NULL ? c->cut_desc
                                      : c->cut_rule != NULL ? c->cut_rule
                                      : c->cut_kind);
        json_builder_set_member_name(b, "outcome");
        json_builder_add_string_value(b, c->outcome);
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, c->reason);
        gboolean resumed = c->resume_rc == 0 && c->booted_after_cut != NULL
                           && c->status_rc == 0 && c->fsck_rc == 0;
        json_builder_set_member_name(b, "resumed");
        json_builder_add_boolean_value(b, resumed);
        if (resumed) {
            json_builder_set_member_name(b, "resume_bytes");
            json_builder_add_int_value(b, (gint64)c->resume_bytes);
        }
        json_builder_set_member_name(b, "seconds");
        json_builder_add_double_value(b, c->seconds);
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
    guint counts[PP_N_OUTCOMES] = { 0 };
    double cycle_s = 0, verdict_s = 0;
    guint64 bytes = 0;
    guint failed = 0;
    for (guint i = 0; i < cycles->len; i++) {
        const PpCycle *c = cycles->pdata[i];
        pp_outcome_count(counts, c->outcome);
        failed += pp_cycle_failed(c);
        cycle_s += c->seconds;
        verdict_s += c->boot_to_verdict_s;
        bytes += c->resume_bytes;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    STR("tier", "vm");
    STR("bootloader", "u-boot");
    json_builder_set_member_name(b, "scenario");
    json_builder_begin_object(b);
    STR("name", env->scenario);
    STR("path", env->scenario_path != NULL ? env->scenario_path
                                           : "built-in default");
    STR("bootloader", "uboot");
    STR("expect", env->expect_failures ? "failures" : "pass");
    json_builder_end_object(b);
    STR("cut", env->cut.text);
    INT("seed", (gint64)env->seed);
    STR("image", env->image_dir);
    STR("from_commit", env->from);
    STR("to_commit", env->to);
    STR("sabotage", env->sabotage);
    STR("started", info->started);
    STR("command", info->command);
    INT("iterations", info->iterations);
    INT("jobs", info->jobs);
    INT("cycles", cycles->len);
    INT("passed", cycles->len - failed);
    INT("failed", failed);
    json_builder_set_member_name(b, "interrupted");
    json_builder_add_boolean_value(b, info->interrupted);
    if (info->continued) {
        json_builder_set_member_name(b, "continued");
        json_builder_begin_object(b);
        INT("cycles_kept", info->cycles_kept);
        json_builder_end_object(b);
    }
    pp_json_add_outcomes(b, counts);
    NUM("window_s", env->window_s);
    if (env->have_timeline) {
        json_builder_set_member_name(b, "calibration");
        json_builder_begin_object(b);
        INT("trace_records", env->timeline.n);
        NUM("t0_guest_uptime_s", env->timeline.t0);
        NUM("last_call_s", env->timeline.end_s);
        json_builder_set_member_name(b, "phase_start_s");
        json_builder_begin_object(b);
        for (PpPhase p = 0; p < PP_PHASE_COUNT; p++) {
            NUM(pp_phase_name(p), env->timeline.phase_start_s[p]);
        }
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    NUM("duration_s", info->duration_s);
    /* Cycles per hour of wall time spent in cycles: the image build and
       the calibration are paid once per campaign.  With jobs > 1 the
       cycles overlap: divide by the wall time they took together. */
    double wall = info->jobs > 1 ? info->cycles_wall_s : cycle_s;
    /* In parallel, the wall time is this run's: its cycles only. */
    guint timed = info->jobs > 1 ? cycles->len - info->cycles_kept
                                 : cycles->len;
    NUM("cycles_per_hour", wall > 0 ? timed * 3600.0 / wall : 0.0);
    NUM("mean_cycle_s", cycles->len ? cycle_s / cycles->len : 0.0);
    NUM("mean_boot_to_verdict_s", cycles->len ? verdict_s / cycles->len : 0.0);
    INT("resume_bytes_total", (gint64)bytes);
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
