/* SPDX-License-Identifier: MIT */
/*
 * test-vmcut.c: the VM tier's cut specifications, the calibration
 * timeline and the choice of a phase's call (harness/vm/vm-cut.c).
 *
 * The timeline is built from a small trace written with the trace
 * builder, with paths as a booted device's ostree writes them: the
 * sysroot seen as /sysroot, and as /boot through the deployment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "shimtest.h"
#include "trace-builder.h"
#include "vm/vm-cut.h"

/* ---- cut specifications ------------------------------------------------ */

static void
parse_ok(void **state)
{
    (void)state;
    g_auto(PpCutSpec) a = { 0 };
    g_autoptr(GError) error = NULL;
    assert_true(pp_cut_spec_parse("random-time", &a, &error));
    assert_int_equal(a.kind, PP_CUT_RANDOM_TIME);
    g_auto(PpCutSpec) b = { 0 };
    assert_true(pp_cut_spec_parse("phase:deploy", &b, &error));
    assert_int_equal(b.kind, PP_CUT_PHASE);
    assert_int_equal(b.phase, PP_PHASE_DEPLOY);
    g_auto(PpCutSpec) c = { 0 };
    assert_true(pp_cut_spec_parse("syscall:ops=rename;path=*/boot/loader",
                                  &c, &error));
    assert_int_equal(c.kind, PP_CUT_SYSCALL);
    assert_string_equal(c.rule, "ops=rename;path=*/boot/loader");
    assert_string_equal(c.text, "syscall:ops=rename;path=*/boot/loader");
}

static void
expect_parse_error(const char *text, const char *needle)
{
    g_auto(PpCutSpec) s = { 0 };
    g_autoptr(GError) error = NULL;
    assert_false(pp_cut_spec_parse(text, &s, &error));
    assert_non_null(error);
    if (strstr(error->message, needle) == NULL) {
        fail_msg("'%s': error '%s' lacks '%s'", text, error->message, needle);
    }
}

static void
parse_errors(void **state)
{
    (void)state;
    expect_parse_error("phase:upload", "unknown phase");
    expect_parse_error("syscall:", "needs a rule");
    expect_parse_error("syscall:path='x'", "quotes");
    expect_parse_error("syscall:ops=fsync;kill=sigkill", "set by the harness");
    expect_parse_error("syscall:ops=fsync;[rule];ops=rename",
                       "set by the harness");
    expect_parse_error("whenever", "expected random-time");
}

/* random-time:FACTOR: a window factor in (0, 3]. */
static void
parse_random_time_factor(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_auto(PpCutSpec) a = { 0 };
    assert_true(pp_cut_spec_parse("random-time", &a, &error));
    assert_true(a.factor == 1.0);
    g_auto(PpCutSpec) b = { 0 };
    assert_true(pp_cut_spec_parse("random-time:2.5", &b, &error));
    assert_int_equal(b.kind, PP_CUT_RANDOM_TIME);
    assert_true(b.factor == 2.5);
    assert_string_equal(b.text, "random-time:2.5");
    g_auto(PpCutSpec) c = { 0 };
    assert_true(pp_cut_spec_parse("random-time:3", &c, &error));
    assert_true(c.factor == 3.0);
    g_auto(PpCutSpec) d = { 0 };
    assert_true(pp_cut_spec_parse("random-time:.5", &d, &error));
    assert_true(d.factor == 0.5);
}

/* Its twin: what is not a factor, or out of range, is refused. */
static void
parse_random_time_factor_errors(void **state)
{
    (void)state;
    expect_parse_error("random-time:", "not a number");
    expect_parse_error("random-time:x", "not a number");
    expect_parse_error("random-time:1.5s", "not a number");
    expect_parse_error("random-time:-1", "not a number");
    expect_parse_error("random-time:+2", "not a number");
    expect_parse_error("random-time:1e0", "not a number");
    expect_parse_error("random-time:inf", "not a number");
    expect_parse_error("random-time:nan", "not a number");
    expect_parse_error("random-time: 2", "not a number");
    expect_parse_error("random-time:1..2", "not a number");
    expect_parse_error("random-time:.", "not a number");
    expect_parse_error("random-time:0", "above 0 and at most 3");
    expect_parse_error("random-time:0.0", "above 0 and at most 3");
    expect_parse_error("random-time:3.01", "above 0 and at most 3");
    expect_parse_error("random-time2", "expected random-time");
}

/* after-exit:SECONDS and after-exit:A-B. */
static void
parse_after_exit(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_auto(PpCutSpec) a = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:5", &a, &error));
    assert_int_equal(a.kind, PP_CUT_AFTER_EXIT);
    assert_true(a.after_min_s == 5.0 && a.after_max_s == 5.0);
    assert_string_equal(a.text, "after-exit:5");
    g_auto(PpCutSpec) b = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:1-30", &b, &error));
    assert_true(b.after_min_s == 1.0 && b.after_max_s == 30.0);
    g_auto(PpCutSpec) c = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:0.5-2.25", &c, &error));
    assert_true(c.after_min_s == 0.5 && c.after_max_s == 2.25);
    g_auto(PpCutSpec) d = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:0", &d, &error));
    assert_true(d.after_min_s == 0.0 && d.after_max_s == 0.0);
    g_auto(PpCutSpec) e = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:7-7", &e, &error));
    assert_true(e.after_min_s == 7.0 && e.after_max_s == 7.0);
    g_auto(PpCutSpec) f = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:600", &f, &error));
}

/* Its twin: each malformed value is refused, naming the problem. */
static void
parse_after_exit_errors(void **state)
{
    (void)state;
    expect_parse_error("after-exit", "needs SECONDS or a range");
    expect_parse_error("after-exit:", "needs SECONDS or a range");
    expect_parse_error("after-exit:soon", "is not SECONDS or A-B");
    expect_parse_error("after-exit:5s", "is not SECONDS or A-B");
    expect_parse_error("after-exit:-5", "is not SECONDS or A-B");
    expect_parse_error("after-exit:1-", "is not SECONDS or A-B");
    expect_parse_error("after-exit:1-2-3", "is not SECONDS or A-B");
    expect_parse_error("after-exit:1--2", "is not SECONDS or A-B");
    expect_parse_error("after-exit:1 - 2", "is not SECONDS or A-B");
    expect_parse_error("after-exit:inf", "is not SECONDS or A-B");
    expect_parse_error("after-exit:nan", "is not SECONDS or A-B");
    expect_parse_error("after-exit:1e3", "is not SECONDS or A-B");
    expect_parse_error("after-exit:30-1", "start is after its end");
    expect_parse_error("after-exit:600.5", "at most 600 seconds");
    expect_parse_error("after-exit:1-601", "at most 600 seconds");
    expect_parse_error("afterexit:5", "expected random-time");
}

/* The draws: deterministic in (seed, cycle), inside their range. */
static void
draws_in_range_and_reproducible(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_auto(PpCutSpec) rt = { 0 };
    assert_true(pp_cut_spec_parse("random-time", &rt, &error));
    g_auto(PpCutSpec) rt3 = { 0 };
    assert_true(pp_cut_spec_parse("random-time:3", &rt3, &error));
    g_auto(PpCutSpec) ae = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:1-30", &ae, &error));
    gboolean past_window = FALSE;
    double lo = 1e9, hi = -1;
    for (guint i = 0; i < 200; i++) {
        double t1 = pp_cut_draw_time(&rt, 4.0, 42, i);
        double t3 = pp_cut_draw_time(&rt3, 4.0, 42, i);
        assert_true(t1 >= 0 && t1 < 4.0);
        assert_true(t3 >= 0 && t3 < 12.0);
        /* The same stream, stretched: factor 1 draws what it always did. */
        assert_true(fabs(t3 - 3 * t1) < 1e-9);
        past_window |= t3 > 4.0;
        double a = pp_cut_draw_after_exit(&ae, 42, i);
        assert_true(a >= 1.0 && a <= 30.0);
        assert_true(a == pp_cut_draw_after_exit(&ae, 42, i));
        lo = MIN(lo, a);
        hi = MAX(hi, a);
    }
    assert_true(past_window);
    /* The range is covered, not one corner of it. */
    assert_true(lo < 5.0 && hi > 26.0);
    assert_true(pp_cut_draw_after_exit(&ae, 42, 0)
                != pp_cut_draw_after_exit(&ae, 43, 0));
}

/* Its twin: a fixed delay is drawn as itself, whatever the seed. */
static void
draw_fixed_delay(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_auto(PpCutSpec) ae = { 0 };
    assert_true(pp_cut_spec_parse("after-exit:2.5", &ae, &error));
    for (guint i = 0; i < 10; i++) {
        assert_true(pp_cut_draw_after_exit(&ae, i * 7919, i) == 2.5);
    }
}

static void
rule_config_parks_and_announces(void **state)
{
    (void)state;
    g_autofree char *c = pp_cut_rule_config("ops=rename");
    assert_non_null(strstr(c, "mode=crash"));
    assert_non_null(strstr(c, "notify=fd:7"));
    /* kill=wait after the user's keys, inside the rule. */
    assert_non_null(strstr(c, "[rule];ops=rename;kill=wait"));
}

/* A cycle's config: the marks first (so the call that is cut has
   announced its phase), then the cut's rule; without a rule no crash. */
static void
update_config_marks_then_cut(void **state)
{
    (void)state;
    g_autofree char *cut = pp_cut_update_config("calls=fsync;nth=2");
    const char *mark = strstr(cut, "action=mark;label=deploy");
    const char *rule = strstr(cut, "[rule];calls=fsync;nth=2;kill=wait");
    assert_non_null(mark);
    assert_non_null(rule);
    assert_true(mark < rule);
    assert_true(g_str_has_prefix(cut, "mode=crash;notify=fd:7;"));
    g_autofree char *plain = pp_cut_update_config(NULL);
    assert_true(g_str_has_prefix(plain, "mode=fault;notify=fd:7;"));
    assert_null(strstr(plain, "kill=wait"));
    assert_null(strstr(plain, "errno"));
}

/* The marks' configuration is accepted by the shim itself; its twin (a
   mark without notify=) is refused. */
static void
update_config_accepted_by_the_shim(void **state)
{
    (void)state;
    g_autofree char *shim = shimtest_path("libcfaultinject.so");
    g_autofree char *config = pp_cut_update_config(NULL);
    const char *argv[] = { "/bin/true", NULL };
    ShimRun r;
    shim_run(argv, config, shim, &r);
    assert_int_equal(r.status, 0);
    shim_run_clear(&r);
    g_autofree char *broken = g_strdup(config);
    char *n = strstr(broken, "notify=fd:7;");
    memcpy(n, "nothing=0;  ", strlen("nothing=0;  "));
    shim_run(argv, broken, shim, &r);
    assert_int_equal(r.status, 125);
    shim_run_clear(&r);
}

static void
mark_phase(void **state)
{
    (void)state;
    PpPhase p = PP_PHASE_PULL;
    assert_true(pp_cut_mark_phase("x CFI-MARK label=bootloader pid=1 seq=2",
                                  &p));
    assert_int_equal(p, PP_PHASE_BOOTLOADER);
    assert_false(pp_cut_mark_phase("CFI-MARK label=lunch pid=1", &p));
    assert_false(pp_cut_mark_phase("CFI-CRASH pid=1 seq=2", &p));
}

/* The shim's own parser judges a rule; its twin is a rule it refuses. */
static void
rule_check_by_the_shim(void **state)
{
    (void)state;
    g_autofree char *shim = shimtest_path("libcfaultinject.so");
    g_autoptr(GError) error = NULL;
    assert_true(pp_cut_rule_check(shim, "ops=rename;path=*/boot/loader;"
                                  "timing=after", &error));
    assert_false(pp_cut_rule_check(shim, "calls=fsinc", &error));
    assert_non_null(strstr(error->message, "fsinc"));
}

static void
crash_field(void **state)
{
    (void)state;
    const char *line = "CFI-CRASH pid=117 seq=2646 call=mkdirat "
                       "timing=before path=/boot/loader.0";
    g_autofree char *seq = pp_cut_crash_field(line, "seq");
    g_autofree char *path = pp_cut_crash_field(line, "path");
    g_autofree char *none = pp_cut_crash_field(line, "nth");
    assert_string_equal(seq, "2646");
    assert_string_equal(path, "/boot/loader.0");
    assert_null(none);
    /* "q=" is not the tail of "seq=": keys start after a space. */
    g_autofree char *q = pp_cut_crash_field(line, "q");
    assert_null(q);
}

/* ---- the calibration timeline -------------------------------------------- */

typedef struct {
    char *dir;
    char *path;
    CfiTrace *trace;
} Fixture;

static guint64
rec_at(CfiTraceBuilder *tb, double t, guint16 op, const char *call,
       const char *p1, const char *p2, gint64 result)
{
    struct cfi_rec rec;
    cfi_tb_rec_init(&rec, op, call);
    rec.time_ns = (guint64)(t * 1e9);
    rec.result = result;
    if (result < 0) {
        rec.err = 2;
    }
    return cfi_tb_append(tb, &rec, p1, p2, NULL, 0);
}

/*
 * An update in miniature, t0 = 10.0 (guest uptime when it started):
 *   pull        11.0 a temporary object, renamed into objects/ (11.5)
 *   deploy      12.0 the new deployment's directory
 *   bootloader  13.0 loader.1 (a first attempt fails), 13.2 the entries;
 *               13.5 the swap: rename boot/loader.tmp -> boot/loader
 *   cleanup     14.0 the old deployment's files
 */
static int
setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->dir = g_dir_make_tmp("test-vmcut-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "cal.cfit", NULL);
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(f->path);
    const char *obj = "/sysroot/ostree/repo/objects/aa/bb.file";
    rec_at(tb, 11.0, CFI_OP_OPEN, "openat", "/sysroot/ostree/repo/tmp/tmp.X1",
           NULL, 5);
    rec_at(tb, 11.5, CFI_OP_RENAME, "renameat",
           "/sysroot/ostree/repo/tmp/tmp.X1", obj, 0);
    rec_at(tb, 12.0, CFI_OP_MKDIR, "mkdirat",
           "/sysroot/ostree/deploy/os/deploy/new.0", NULL, 0);
    rec_at(tb, 13.0, CFI_OP_MKDIR, "mkdirat", "/boot/loader.1", NULL, -1);
    rec_at(tb, 13.1, CFI_OP_MKDIR, "mkdirat", "/boot/loader.1", NULL, 0);
    rec_at(tb, 13.2, CFI_OP_MKDIR, "mkdirat", "/boot/loader.1/entries", NULL,
           0);
    rec_at(tb, 13.5, CFI_OP_RENAME, "renameat", "/boot/loader.tmp",
           "/boot/loader", 0);
    rec_at(tb, 14.0, CFI_OP_UNLINK, "unlinkat",
           "/sysroot/ostree/deploy/os/deploy/old.0/etc/x", NULL, 0);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_trace_builder_finish(tb, &error));
    f->trace = cfi_trace_open(f->path, &error);
    assert_non_null(f->trace);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;
    cfi_trace_free(f->trace);
    (void)g_unlink(f->path);
    (void)g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static void
timeline_phases(void **state)
{
    Fixture *f = *state;
    g_auto(PpVmTimeline) tl = { 0 };
    pp_vm_timeline_build(f->trace, 10.0, &tl);
    assert_int_equal(tl.n, 8);
    /* The swap is seen through /boot: the commit point is record 6. */
    assert_int_equal(tl.phases.commit_point, 6);
    assert_true(tl.phases.bootconfig_swap);
    assert_float_equal(tl.phase_start_s[PP_PHASE_PULL], 1.0, 1e-6);
    assert_float_equal(tl.phase_start_s[PP_PHASE_DEPLOY], 2.0, 1e-6);
    /* A failed call changes nothing on disk: the phase starts with the
       first loader.1 that was made. */
    assert_float_equal(tl.phase_start_s[PP_PHASE_BOOTLOADER], 3.1, 1e-6);
    assert_float_equal(tl.phase_start_s[PP_PHASE_CLEANUP], 4.0, 1e-6);
    assert_float_equal(tl.end_s, 4.0, 1e-6);
}

/* The twin: with /sysroot as the only name of the sysroot, the swap
   through /boot is not seen, which is why the VM tier gives both. */
static void
timeline_needs_both_roots(void **state)
{
    Fixture *f = *state;
    PpPhases ph = { 0 };
    pp_phases_classify(f->trace, "/sysroot", &ph);
    assert_false(ph.bootconfig_swap);
    assert_int_not_equal(ph.commit_point, 6);
    pp_phases_clear(&ph);
}

static void
phase_rules(void **state)
{
    Fixture *f = *state;
    g_auto(PpVmTimeline) tl = { 0 };
    pp_vm_timeline_build(f->trace, 10.0, &tl);
    g_autoptr(GError) error = NULL;
    /* pull: the object's final name, never the temporary one. */
    g_autofree char *desc = NULL;
    g_autofree char *pull = pp_vm_phase_rule(f->trace, &tl, PP_PHASE_PULL, 1,
                                             0, &desc, &error);
    assert_non_null(pull);
    assert_string_equal(pull, "calls=renameat;path=/sysroot/ostree/repo/"
                        "objects/aa/bb.file;nth=1");
    assert_non_null(strstr(desc, "renameat #1"));
    g_autofree char *deploy = pp_vm_phase_rule(f->trace, &tl, PP_PHASE_DEPLOY,
                                               1, 0, NULL, &error);
    assert_string_equal(deploy, "calls=mkdirat;path=/sysroot/ostree/deploy/"
                        "os/deploy/new.0;nth=1");
    /* bootloader: every choice names a call that succeeded; nth counts the
       failed attempt before it, as the shim's counter does. */
    gboolean seen_nth2 = FALSE;
    for (guint cycle = 0; cycle < 20; cycle++) {
        g_autofree char *r = pp_vm_phase_rule(f->trace, &tl,
                                              PP_PHASE_BOOTLOADER, 7, cycle,
                                              NULL, &error);
        assert_non_null(r);
        assert_null(strstr(r, "loader.tmp;"));
        if (g_str_equal(r, "calls=mkdirat;path=/boot/loader.1;nth=2")) {
            seen_nth2 = TRUE;
        } else if (!g_str_equal(r, "calls=mkdirat;path=/boot/loader.1/"
                                "entries;nth=1")
                   && !g_str_equal(r, "calls=renameat;path=/boot/loader;"
                                   "nth=1")) {
            fail_msg("unexpected bootloader rule %s", r);
        }
    }
    assert_true(seen_nth2);
    /* The same (seed, cycle) gives the same call. */
    g_autofree char *a = pp_vm_phase_rule(f->trace, &tl, PP_PHASE_BOOTLOADER,
                                          7, 3, NULL, &error);
    g_autofree char *b = pp_vm_phase_rule(f->trace, &tl, PP_PHASE_BOOTLOADER,
                                          7, 3, NULL, &error);
    assert_string_equal(a, b);
}

/* A phase whose only calls carry temporary names cannot be cut: the
   rule would never fire in another run. */
static void
phase_rule_without_stable_call(void **state)
{
    (void)state;
    g_autofree char *dir = g_dir_make_tmp("test-vmcut-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "t.cfit", NULL);
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(path);
    rec_at(tb, 1.0, CFI_OP_OPEN, "openat", "/sysroot/ostree/repo/tmp/tmp.A",
           NULL, 5);
    rec_at(tb, 1.1, CFI_OP_RENAME, "renameat", "/sysroot/ostree/repo/tmp/a",
           "/sysroot/ostree/repo/tmp/staging-x/b", 0);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_trace_builder_finish(tb, &error));
    g_autoptr(CfiTrace) t = cfi_trace_open(path, &error);
    g_auto(PpVmTimeline) tl = { 0 };
    pp_vm_timeline_build(t, 0.0, &tl);
    g_autofree char *r = pp_vm_phase_rule(t, &tl, PP_PHASE_PULL, 1, 0, NULL,
                                          &error);
    assert_null(r);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    (void)g_unlink(path);
    (void)g_rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ok),
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(parse_random_time_factor),
        cmocka_unit_test(parse_random_time_factor_errors),
        cmocka_unit_test(parse_after_exit),
        cmocka_unit_test(parse_after_exit_errors),
        cmocka_unit_test(draws_in_range_and_reproducible),
        cmocka_unit_test(draw_fixed_delay),
        cmocka_unit_test(rule_config_parks_and_announces),
        cmocka_unit_test(rule_check_by_the_shim),
        cmocka_unit_test(update_config_marks_then_cut),
        cmocka_unit_test(update_config_accepted_by_the_shim),
        cmocka_unit_test(mark_phase),
        cmocka_unit_test(crash_field),
        cmocka_unit_test_setup_teardown(timeline_phases, setup, teardown),
        cmocka_unit_test_setup_teardown(timeline_needs_both_roots, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(phase_rules, setup, teardown),
        cmocka_unit_test(phase_rule_without_stable_call),
    };
    return cmocka_run_group_tests_name("vmcut", tests, NULL, NULL);
}
