/* SPDX-License-Identifier: MIT */
/*
 * test-shim-calls: every call in the generated call table, run under the
 * real LD_PRELOAD in a child process (tests/helpers/callrunner), in each
 * mode the shim has.  The list of calls comes from the same spec the
 * wrappers are generated from, so a call added to the spec without a
 * runner case fails here ("unknown call").
 *
 * For each call:
 *   trace         succeeds, has its effect, and leaves a record of it
 *   fault         fails with the call's first documented errno and has no
 *                 effect; its twin (a rule whose path glob matches
 *                 nothing) succeeds, proving the glob narrows the rule
 *   crash before  the child dies by SIGKILL, the effect is absent, the last
 *                 record says CRASH + NOT_EXECUTED
 *   crash after   SIGKILL too, the effect is present, the record says
 *                 CRASH + AFTER
 *   passthrough   succeeds and writes no trace
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "cfi-calls.h"
#include "shimtest.h"

typedef struct {
    char *dir;
    char *trace;
    char *runner;
} Sandbox;

static void
sandbox_init(Sandbox *s)
{
    g_autoptr(GError) error = NULL;
    s->dir = g_dir_make_tmp("cfi-call-XXXXXX", &error);
    assert_non_null(s->dir);
    s->trace = g_strconcat(s->dir, ".cfit", NULL);
    s->runner = shimtest_path("tests/helpers/callrunner");
    const char *argv[] = { s->runner, s->dir, "setup", NULL };
    ShimRun r;
    shim_run(argv, NULL, NULL, &r);
    assert_int_equal(r.status, 0);
    shim_run_clear(&r);
}

static void
sandbox_clear(Sandbox *s)
{
    shimtest_rm_rf(s->dir);
    g_unlink(s->trace);
    g_free(s->dir);
    g_free(s->trace);
    g_free(s->runner);
}

/* "result=R errno=E" from the runner. */
static void
parse_result(const char *out, long *result, int *err)
{
    assert_non_null(out);
    assert_int_equal(sscanf(out, "result=%ld errno=%d", result, err), 2);
}

/* 0 effect visible, 1 not visible, 2 no visible effect by design. */
static int
effect(Sandbox *s, const char *name)
{
    const char *argv[] = { s->runner, s->dir, "check", name, NULL };
    ShimRun r;
    shim_run(argv, NULL, NULL, &r);
    int st = r.status;
    shim_run_clear(&r);
    return st;
}

/* The last record of call id in the trace, or NULL. */
static const CfiRecord *
last_record_of(CfiTrace *t, unsigned id)
{
    const CfiRecord *found = NULL;
    for (guint i = 0; i < cfi_trace_n_records(t); i++) {
        const CfiRecord *r = cfi_trace_get(t, i);
        if (r->rec->call == id) {
            found = r;
        }
    }
    return found;
}

static void
run_in(Sandbox *s, const char *name, const char *config, ShimRun *r)
{
    const char *argv[] = { s->runner, s->dir, "run", name, NULL };
    shim_run(argv, config, NULL, r);
}

static void
test_trace(unsigned id)
{
    const char *name = cfi_call_name(id);
    Sandbox s;
    sandbox_init(&s);
    g_autofree char *cfg = g_strdup_printf("mode=trace;trace=%s", s.trace);
    ShimRun r;
    long result;
    int err;
    run_in(&s, name, cfg, &r);
    assert_true(r.exited);
    parse_result(r.out, &result, &err);
    if (result < 0) {
        fail_msg("%s failed under trace: errno %d", name, err);
    }
    assert_int_not_equal(effect(&s, name), 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(CfiTrace) t = cfi_trace_open(s.trace, &error);
    assert_non_null(t);
    const CfiRecord *rec = last_record_of(t, id);
    if (rec == NULL) {
        fail_msg("no record of %s in the trace", name);
    }
    assert_true(rec->rec->result >= 0);
    assert_int_equal(rec->rec->op == CFI_OP_NONE, 0);
    shim_run_clear(&r);
    sandbox_clear(&s);
}

static void
test_fault(unsigned id)
{
    const char *name = cfi_call_name(id);
    int want = cfi_call_table[id].errnos[0];
    Sandbox s;
    ShimRun r;
    long result;
    int err;

    sandbox_init(&s);
    if (want == 0) {
        /* A call that cannot fail (sync): the config must be refused. */
        g_autofree char *cfg = g_strdup_printf(
            "mode=fault;[rule];calls=%s;errno=EIO", name);
        run_in(&s, name, cfg, &r);
        assert_int_equal(r.status, 125);
        assert_non_null(strstr(r.err, "errno"));
        shim_run_clear(&r);
        sandbox_clear(&s);
        return;
    }
    const char *ename = cfi_errno_name(want);
    assert_non_null(ename);
    g_autofree char *cfg = g_strdup_printf(
        "mode=fault;trace=%s;[rule];calls=%s;errno=%s", s.trace, name, ename);
    run_in(&s, name, cfg, &r);
    assert_true(r.exited);
    parse_result(r.out, &result, &err);
    assert_int_equal(result, -1);
    assert_int_equal(err, want);
    assert_int_not_equal(effect(&s, name), 0);
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(CfiTrace) t = cfi_trace_open(s.trace, &error);
        assert_non_null(t);
        const CfiRecord *rec = last_record_of(t, id);
        assert_non_null(rec);
        assert_true(rec->rec->flags & CFI_RF_INJECTED);
        assert_true(rec->rec->flags & CFI_RF_NOT_EXECUTED);
        assert_int_equal(rec->rec->err, want);
    }
    shim_run_clear(&r);
    sandbox_clear(&s);

    /* Twin: the same rule narrowed to a path nothing has: no fault. */
    sandbox_init(&s);
    g_autofree char *cfg2 = g_strdup_printf(
        "mode=fault;[rule];calls=%s;errno=%s;path=/no/such/place/*", name,
        ename);
    run_in(&s, name, cfg2, &r);
    assert_true(r.exited);
    parse_result(r.out, &result, &err);
    assert_true(result >= 0);
    assert_int_not_equal(effect(&s, name), 1);
    shim_run_clear(&r);
    sandbox_clear(&s);
}

static void
test_crash(unsigned id, gboolean after)
{
    const char *name = cfi_call_name(id);
    Sandbox s;
    ShimRun r;
    sandbox_init(&s);
    g_autofree char *cfg = g_strdup_printf(
        "mode=crash;trace=%s;[rule];calls=%s;timing=%s", s.trace, name,
        after ? "after" : "before");
    run_in(&s, name, cfg, &r);
    if (r.signal != SIGKILL) {
        fail_msg("%s: crash %s: child not killed by SIGKILL (exited %d, "
                 "signal %d)", name, after ? "after" : "before", r.status,
                 r.signal);
    }
    int eff = effect(&s, name);
    if (after) {
        assert_int_not_equal(eff, 1);
    } else {
        assert_int_not_equal(eff, 0);
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(CfiTrace) t = cfi_trace_open(s.trace, &error);
    assert_non_null(t);
    const CfiRecord *rec = last_record_of(t, id);
    assert_non_null(rec);
    assert_true(rec->rec->flags & CFI_RF_CRASH);
    if (after) {
        assert_true(rec->rec->flags & CFI_RF_AFTER);
        assert_false(rec->rec->flags & CFI_RF_NOT_EXECUTED);
    } else {
        assert_true(rec->rec->flags & CFI_RF_NOT_EXECUTED);
    }
    /* Nothing after the crash record: the client stopped there. */
    const CfiRecord *lastrec = cfi_trace_get(t, cfi_trace_n_records(t) - 1);
    assert_ptr_equal(lastrec, rec);
    shim_run_clear(&r);
    sandbox_clear(&s);
}

static void
test_passthrough(unsigned id)
{
    const char *name = cfi_call_name(id);
    Sandbox s;
    ShimRun r;
    long result;
    int err;
    sandbox_init(&s);
    run_in(&s, name, "mode=passthrough", &r);
    assert_true(r.exited);
    parse_result(r.out, &result, &err);
    assert_true(result >= 0);
    assert_int_not_equal(effect(&s, name), 1);
    assert_false(g_file_test(s.trace, G_FILE_TEST_EXISTS));
    shim_run_clear(&r);
    sandbox_clear(&s);
}

static void
test_one_call(void **state)
{
    unsigned id = *(unsigned *)*state;
    test_trace(id);
    test_fault(id);
    test_crash(id, FALSE);
    test_crash(id, TRUE);
    test_passthrough(id);
}

int
main(void)
{
    static unsigned ids[CFI_CALL_COUNT];
    struct CMUnitTest tests[CFI_CALL_COUNT];
    size_t n = 0;
    for (unsigned id = 1; id < CFI_CALL_COUNT; id++) {
        ids[n] = id;
        tests[n].name = cfi_call_name(id);
        tests[n].test_func = test_one_call;
        tests[n].setup_func = NULL;
        tests[n].teardown_func = NULL;
        tests[n].initial_state = &ids[n];
        n++;
    }
    return _cmocka_run_group_tests("shim-calls", tests, n, NULL, NULL);
}
