/* SPDX-License-Identifier: MIT */
/*
 * test-fidelity: the check that a fresh trace replays to the state its
 * run left (harness/sim/sim-fidelity.c), before any case is judged.
 *
 * - a run whose directory is exactly what its trace says passes;
 * - twins, each must be named with its path: a file whose bytes differ
 *   (the fault this check exists for: a write attributed to the wrong
 *   file), a file the trace never created, a mode the trace never set, a
 *   symlink to another target.
 */
#include <fcntl.h>

#include "cfi-test-util.h"
#include "sim/sim-fidelity.h"
#include "trace-builder.h"
#include "common/util.h"

typedef struct {
    char *dir;
    char *run;          /* where the "run" worked: the trace's paths */
    char *snap;         /* its state before the run: empty */
    char *trace_path;
    PpSimEnv env;
} Fx;

static int
setup(void **state)
{
    umask(022);
    Fx *fx = g_new0(Fx, 1);
    fx->dir = tu_mkdtemp();
    fx->run = g_build_filename(fx->dir, "run", NULL);
    fx->snap = g_build_filename(fx->dir, "snap", NULL);
    fx->trace_path = g_build_filename(fx->dir, "trace.cfit", NULL);
    assert_int_equal(mkdir(fx->run, 0755), 0);
    assert_int_equal(mkdir(fx->snap, 0755), 0);

    /* The trace: a file written, a symlink, a directory. */
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->trace_path);
    g_autofree char *a = g_build_filename(fx->run, "a", NULL);
    g_autofree char *l = g_build_filename(fx->run, "l", NULL);
    g_autofree char *d = g_build_filename(fx->run, "d", NULL);
    cfi_tb_open(tb, a, 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_write(tb, 3, 0, "hello", 5);
    cfi_tb_close(tb, 3);
    cfi_tb_symlink(tb, "a", l);
    cfi_tb_mkdir(tb, d, 0755);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_trace_builder_finish(tb, &error));

    /* What the run left: the same, by hand. */
    tu_write(fx->run, "a", "hello", 0644);
    assert_int_equal(symlink("a", l), 0);
    assert_int_equal(mkdir(d, 0755), 0);

    fx->env.trace_path = g_strdup(fx->trace_path);
    fx->env.root = g_strdup(fx->run);
    fx->env.states_dir = g_build_filename(fx->dir, "states", NULL);
    fx->env.trace = cfi_trace_open(fx->trace_path, &error);
    assert_non_null(fx->env.trace);
    fx->env.replay = cfi_replay_new(fx->env.trace, fx->run, fx->snap, &error);
    assert_non_null(fx->env.replay);
    assert_int_equal(g_mkdir_with_parents(fx->env.states_dir, 0755), 0);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    cfi_replay_free(fx->env.replay);
    cfi_trace_free(fx->env.trace);
    g_free(fx->env.trace_path);
    g_free(fx->env.root);
    g_free(fx->env.states_dir);
    tu_rm_rf(fx->dir);
    g_free(fx->dir);
    g_free(fx->run);
    g_free(fx->snap);
    g_free(fx->trace_path);
    g_free(fx);
    return 0;
}

/* The differences the check reports; "" when none. */
static char *
check(Fx *fx)
{
    g_autoptr(GError) error = NULL;
    char *diff = NULL;
    if (!pp_sim_check_fidelity(&fx->env, &diff, &error))
        fail_msg("%s", error->message);
    return diff != NULL ? diff : g_strdup("");
}

static void
test_faithful_trace(void **state)
{
    Fx *fx = *state;
    g_autofree char *diff = check(fx);
    assert_string_equal(diff, "");
    /* The state it built is gone again. */
    g_autofree char *s = g_build_filename(fx->env.states_dir,
                                          "fidelity-check", NULL);
    assert_false(g_file_test(s, G_FILE_TEST_EXISTS));
}

static void
test_faithful_trace_fail(void **state)
{
    Fx *fx = *state;
    tu_write(fx->run, "a", "hellO", 0644);
    g_autofree char *diff = check(fx);
    assert_non_null(strstr(diff, "a: content differs from byte 4"));
}

static void
test_untraced_file(void **state)
{
    Fx *fx = *state;
    tu_write(fx->run, "d/b", "x", 0644);
    g_autofree char *diff = check(fx);
    assert_non_null(strstr(diff, "d/b: left by the run, absent from the "
                                 "trace's state"));
}

static void
test_mode_and_symlink(void **state)
{
    Fx *fx = *state;
    g_autofree char *a = g_build_filename(fx->run, "a", NULL);
    g_autofree char *l = g_build_filename(fx->run, "l", NULL);
    assert_int_equal(chmod(a, 0600), 0);
    assert_int_equal(unlink(l), 0);
    assert_int_equal(symlink("d", l), 0);
    g_autofree char *diff = check(fx);
    assert_non_null(strstr(diff, "a: mode 0600 in the run, 0644"));
    assert_non_null(strstr(diff, "l: symlink to d in the run, to a"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faithful_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faithful_trace_fail, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_untraced_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_and_symlink, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
