/* SPDX-License-Identifier: MIT */
/*
 * test-vmcampaign: what a VM campaign keeps for `plugpull run --resume`
 * (vmcampaign.h) and the finished cycles it reads back (vmout.h).  The VM
 * itself is not run: this is the unit-level check of the resume state.
 *
 * - campaign.json reads back with every option; twins: disagreeing
 *   options are all listed, a torn file is refused naming it;
 * - the calibration (trace, t0, window) reads back into the same
 *   timeline; twin: a missing one is NOT_FOUND (calibrate again);
 * - a finished cycle's case file reads back with what the results use;
 *   twins: a torn case file is refused naming it, an absent one is
 *   NOT_FOUND (the cycle runs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "common/fs.h"
#include "shimtest.h"
#include "sim/sim.h"
#include "trace-builder.h"
#include "vm/vm-campaign.h"
#include "vm/vm-out.h"

static PpVmCampaign *
example(void)
{
    PpVmCampaign *c = g_new0(PpVmCampaign, 1);
    c->opts.scenario_path = g_strdup("/s/x.conf");
    c->opts.scenario_text = g_strdup("[crash]\nseed = 3\n");
    c->opts.cut = g_strdup("phase:deploy");
    c->opts.iterations = 10;
    c->opts.seed = 4242;
    c->opts.image_dir = g_strdup("/img");
    c->opts.no_build = 1;
    c->opts.window_s = 0;
    c->opts.boot_timeout = 60;
    c->opts.hang_timeout = 20;
    c->opts.cmd_timeout = 300;
    c->opts.bios = g_strdup("/rom");
    c->opts.sabotage = NULL;
    c->from_commit = g_strdup("aaaa");
    c->to_commit = g_strdup("bbbb");
    c->started = g_strdup("2026-01-01T00:00:00Z");
    return c;
}

static void
campaign_round_trip(void **state)
{
    (void)state;
    g_autofree char *d = g_dir_make_tmp("test-vmcampaign-XXXXXX", NULL);
    g_autoptr(PpVmCampaign) c = example();
    g_autoptr(GError) error = NULL;
    assert_true(pp_vm_campaign_write(d, c, &error));
    g_autoptr(PpVmCampaign) back = pp_vm_campaign_load(d, &error);
    assert_non_null(back);
    assert_string_equal(back->opts.scenario_text, c->opts.scenario_text);
    assert_string_equal(back->opts.cut, "phase:deploy");
    assert_int_equal(back->opts.iterations, 10);
    assert_int_equal(back->opts.seed, 4242);
    assert_int_equal(back->opts.no_build, 1);
    assert_true(back->opts.window_s == 0);
    assert_int_equal(back->opts.cmd_timeout, 300);
    assert_null(back->opts.sabotage);
    assert_string_equal(back->to_commit, "bbbb");
    /* The same command again agrees (up-arrow, then --resume). */
    PpVmOptions same = { .cut = (char *)"phase:deploy", .iterations = 10,
                         .seed = 4242, .no_build = 1, .window_s = -1,
                         .boot_timeout = -1, .hang_timeout = -1,
                         .cmd_timeout = -1 };
    assert_true(pp_vm_campaign_check(back, &same, &error));
    pp_rm_rf(d, NULL);
}

static void
campaign_disagree_or_torn_fail(void **state)
{
    (void)state;
    g_autoptr(PpVmCampaign) c = example();
    c->path = g_strdup("/d/campaign.json");
    PpVmOptions other = { .cut = (char *)"random-time", .iterations = 3,
                          .seed = -1, .no_build = -1, .window_s = -1,
                          .boot_timeout = -1, .hang_timeout = -1,
                          .cmd_timeout = -1 };
    g_autoptr(GError) error = NULL;
    assert_false(pp_vm_campaign_check(c, &other, &error));
    assert_non_null(strstr(error->message, "cut: random-time given, the "
                                           "campaign has phase:deploy"));
    assert_non_null(strstr(error->message, "iterations: 3 given, the "
                                           "campaign has 10"));
    g_clear_error(&error);

    g_autofree char *d = g_dir_make_tmp("test-vmcampaign-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(d, "campaign.json", NULL);
    assert_true(g_file_set_contents(path, "{\"kind\": \"vm-camp", -1, NULL));
    assert_null(pp_vm_campaign_load(d, &error));
    g_autofree char *want = g_strdup_printf("%s is unreadable", path);
    assert_true(g_str_has_prefix(error->message, want));
    pp_rm_rf(d, NULL);
}

static void
rec_at(CfiTraceBuilder *tb, double t, guint16 op, const char *call,
       const char *p1, const char *p2)
{
    struct cfi_rec rec;
    cfi_tb_rec_init(&rec, op, call);
    rec.time_ns = (guint64)(t * 1e9);
    cfi_tb_append(tb, &rec, p1, p2, NULL, 0);
}

static void
calibration_round_trip(void **state)
{
    (void)state;
    g_autofree char *d = g_dir_make_tmp("test-vmcampaign-XXXXXX", NULL);
    g_auto(PpRunEnv) env = { 0 };
    env.out_dir = g_strdup(d);
    env.work_dir = g_build_filename(d, "work", NULL);
    assert_int_equal(g_mkdir(env.work_dir, 0755), 0);
    g_autoptr(GError) error = NULL;
    assert_false(pp_vm_calibration_load(&env, &error));
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&error);

    g_autofree char *trace = g_build_filename(d, "calibration.cfit", NULL);
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(trace);
    rec_at(tb, 11.0, CFI_OP_MKDIR, "mkdirat",
           "/sysroot/ostree/deploy/os/deploy/new.0", NULL);
    rec_at(tb, 13.5, CFI_OP_RENAME, "renameat", "/boot/loader.tmp",
           "/boot/loader");
    assert_true(cfi_trace_builder_finish(tb, &error));
    env.cal_trace = cfi_trace_open(trace, &error);
    assert_non_null(env.cal_trace);
    pp_vm_timeline_build(env.cal_trace, 10.0, &env.timeline);
    env.have_timeline = TRUE;
    env.window_s = 7.25;
    assert_true(pp_vm_calibration_save(&env, &error));

    g_auto(PpRunEnv) again = { 0 };
    again.out_dir = g_strdup(d);
    again.work_dir = g_strdup(env.work_dir);
    assert_true(pp_vm_calibration_load(&again, &error));
    assert_true(again.have_timeline);
    assert_true(again.window_s == 7.25);
    assert_true(again.timeline.t0 == 10.0);
    assert_int_equal(again.timeline.n, env.timeline.n);
    for (PpPhase p = 0; p < PP_PHASE_COUNT; p++) {
        assert_true(again.timeline.phase_start_s[p]
                    == env.timeline.phase_start_s[p]);
    }
    pp_rm_rf(d, NULL);
}

static void
cycle_round_trip_and_torn_fail(void **state)
{
    (void)state;
    g_autofree char *d = g_dir_make_tmp("test-vmcampaign-XXXXXX", NULL);
    g_auto(PpRunEnv) env = { 0 };
    env.out_dir = g_strdup(d);
    env.image_dir = g_strdup("/img");
    env.seed = 7;
    env.window_s = 5.0;
    env.from = "aaaa";
    env.to = "bbbb";
    g_autoptr(GError) error = NULL;
    assert_true(pp_cut_spec_parse("random-time", &env.cut, &error));
    g_autofree char *cases = g_build_filename(d, "cases", NULL);
    assert_int_equal(g_mkdir(cases, 0755), 0);

    g_autoptr(PpCycle) c = pp_cycle_new(&env, 3);
    c->outcome = PP_OUTCOME_STUCK;
    c->reason = g_strdup("the resumed update failed");
    g_free(c->phase);
    c->phase = g_strdup("deploy");
    c->booted_after_cut = g_strdup("aaaa");
    c->resume_rc = 1;
    c->resume_bytes = 1234;
    c->seconds = 42.5;
    c->boot_to_verdict_s = 8.25;
    json_builder_end_array(c->boots);       /* as pp_cycle_run ends it */
    assert_true(pp_vm_write_case(&env, c, &error));

    g_autoptr(PpCycle) back = pp_vm_cycle_load(&env, 3, &error);
    assert_non_null(back);
    assert_string_equal(back->id, "vm-c0003-s7");
    assert_int_equal(back->outcome, PP_OUTCOME_STUCK);
    assert_string_equal(back->reason, c->reason);
    assert_string_equal(back->phase, "deploy");
    assert_string_equal(back->cut_kind, "random-time");
    assert_true(back->cut_offset_s == c->cut_offset_s);
    assert_string_equal(back->booted_after_cut, "aaaa");
    assert_int_equal(back->resume_rc, 1);
    assert_int_equal(back->resume_bytes, 1234);
    assert_true(back->seconds == 42.5 && back->boot_to_verdict_s == 8.25);
    assert_true(pp_cycle_failed(back));

    assert_null(pp_vm_cycle_load(&env, 4, &error));
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&error);

    g_autofree char *path = g_build_filename(cases, "vm-c0003-s7.json", NULL);
    assert_true(g_file_set_contents(path, "{\"id\": \"vm-c00", -1, NULL));
    assert_null(pp_vm_cycle_load(&env, 3, &error));
    assert_false(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    assert_non_null(strstr(error->message, path));
    pp_rm_rf(d, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(campaign_round_trip),
        cmocka_unit_test(campaign_disagree_or_torn_fail),
        cmocka_unit_test(calibration_round_trip),
        cmocka_unit_test(cycle_round_trip_and_torn_fail),
    };
    return cmocka_run_group_tests_name("vmcampaign", tests, NULL, NULL);
}
