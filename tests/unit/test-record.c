/* SPDX-License-Identifier: MIT */
/*
 * test-record: a recording is refused when its trace is not whole, since
 * crash states built from it would be wrong: a sequence number without a
 * record (the shim could not write it: disk full), or a damaged tail.
 * Each refusal has its twin that is accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/record.h"
#include "shimtest.h"
#include "trace-builder.h"

static char *
make_trace(const char *dir, gboolean gap)
{
    char *path = g_build_filename(dir, gap ? "gap.cfit" : "whole.cfit", NULL);
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(path);
    g_autoptr(GError) error = NULL;
    cfi_tb_set_next_seq(tb, 0);
    cfi_tb_mkdir(tb, "/r/a", 0755);
    if (gap) {
        cfi_tb_set_next_seq(tb, 2);
    }
    cfi_tb_mkdir(tb, "/r/b", 0755);
    assert_true(cfi_trace_builder_finish(tb, &error));
    return path;
}

static void
test_whole_trace_accepted(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("pp-rec-XXXXXX", NULL);
    g_autofree char *t = make_trace(dir, FALSE);
    g_autoptr(GError) error = NULL;
    assert_true(pp_trace_check_complete(t, &error));
    shimtest_rm_rf(dir);
}

static void
test_lost_record_refused(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("pp-rec-XXXXXX", NULL);
    g_autofree char *t = make_trace(dir, TRUE);
    g_autoptr(GError) error = NULL;
    assert_false(pp_trace_check_complete(t, &error));
    assert_non_null(strstr(error->message, "lost records: record 1 has "
                                           "sequence number 2"));
    shimtest_rm_rf(dir);
}

static void
test_damaged_tail_refused(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("pp-rec-XXXXXX", NULL);
    g_autofree char *t = make_trace(dir, FALSE);
    g_autoptr(GError) error = NULL;
    GStatBuf st;
    assert_int_equal(g_stat(t, &st), 0);
    /* Cut the last record in half, as a full disk would. */
    assert_int_equal(truncate(t, st.st_size - 20), 0);
    assert_false(pp_trace_check_complete(t, &error));
    assert_non_null(strstr(error->message, "is damaged at byte"));
    shimtest_rm_rf(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_trace_accepted),
        cmocka_unit_test(test_lost_record_refused),
        cmocka_unit_test(test_damaged_tail_refused),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
