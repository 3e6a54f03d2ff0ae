/* SPDX-License-Identifier: MIT */
/*
 * test-error: the one error idiom (common/error.h).
 *
 * - pp_throw_errno_prefix() says "op(path): strerror", in G_IO_ERROR with
 *   the code of errno, returns FALSE and leaves errno as it was; twin:
 *   another errno gives another message and another code, so the message
 *   does say which errno it was;
 * - it accepts error == NULL and still keeps errno;
 * - pp_error_exit_status(): each PP_ERROR code is its own exit status, no
 *   error is 0, a foreign domain is 3 (a harness fault); twin: a foreign
 *   error whose code equals a PP_ERROR code (G_IO_ERROR 1, 2) is still 3,
 *   so the domain, not the number, decides;
 * - pp_throw_interrupted() maps SIGINT and SIGTERM to 130 and 143; twin:
 *   the two differ;
 * - pp_error_set_code() moves a lower layer's error into PP_ERROR with its
 *   message; twin: without it the same error is a harness fault (3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "common/error.h"

static void
test_errno_prefix(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    errno = ENOENT;
    assert_false(pp_throw_errno_prefix(&error, "linkat(%s)", "/a/b"));
    assert_int_equal(errno, ENOENT);
    assert_non_null(error);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_autofree char *want = g_strdup_printf("linkat(/a/b): %s",
                                            g_strerror(ENOENT));
    assert_string_equal(error->message, want);
}

static void
test_errno_prefix_other_errno_fail(void **state)
{
    (void)state;
    g_autoptr(GError) enoent = NULL;
    g_autoptr(GError) eexist = NULL;
    errno = ENOENT;
    pp_throw_errno_prefix(&enoent, "linkat(%s)", "/a/b");
    errno = EEXIST;
    pp_throw_errno_prefix(&eexist, "linkat(%s)", "/a/b");
    assert_int_equal(errno, EEXIST);
    assert_string_not_equal(enoent->message, eexist->message);
    assert_int_not_equal(enoent->code, eexist->code);
    assert_true(g_error_matches(eexist, G_IO_ERROR, G_IO_ERROR_EXISTS));
    /* The prefix is the operation: another path, another message. */
    g_autoptr(GError) other = NULL;
    errno = ENOENT;
    pp_throw_errno_prefix(&other, "linkat(%s)", "/a/c");
    assert_string_not_equal(enoent->message, other->message);
}

static void
test_errno_prefix_null_error(void **state)
{
    (void)state;
    errno = ELOOP;
    assert_false(pp_throw_errno_prefix(NULL, "resolve(%s)", "x"));
    assert_int_equal(errno, ELOOP);
}

static void
test_exit_status(void **state)
{
    (void)state;
    assert_int_equal(pp_error_exit_status(NULL), 0);
    static const struct {
        PpErrorCode code;
        int status;
    } table[] = {
        { PP_ERROR_FAILURES, 1 },
        { PP_ERROR_USAGE, 2 },
        { PP_ERROR_HARNESS, 3 },
        { PP_ERROR_SIGINT, 130 },
        { PP_ERROR_SIGTERM, 143 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
        g_autoptr(GError) error = NULL;
        assert_false(pp_throw_code(&error, table[i].code, "x"));
        assert_int_equal(pp_error_exit_status(error), table[i].status);
    }
    g_autoptr(GError) failed = NULL;
    pp_throw(&failed, "%s", "some fault");
    assert_string_equal(failed->message, "some fault");
    assert_int_equal(pp_error_exit_status(failed), 3);
}

static void
test_exit_status_foreign_domain_fail(void **state)
{
    (void)state;
    /* G_IO_ERROR_NOT_FOUND is 1 and G_IO_ERROR_EXISTS 2: the numbers of
     * FAILURES and USAGE, yet neither is a finding nor bad usage. */
    g_autoptr(GError) one = g_error_new_literal(G_IO_ERROR,
                                                G_IO_ERROR_NOT_FOUND, "x");
    g_autoptr(GError) two = g_error_new_literal(G_IO_ERROR,
                                                G_IO_ERROR_EXISTS, "x");
    assert_int_equal(one->code, PP_ERROR_FAILURES);
    assert_int_equal(two->code, PP_ERROR_USAGE);
    assert_int_equal(pp_error_exit_status(one), 3);
    assert_int_equal(pp_error_exit_status(two), 3);
    g_autoptr(GError) ours = g_error_new_literal(PP_ERROR, PP_ERROR_USAGE,
                                                 "x");
    assert_int_not_equal(pp_error_exit_status(ours),
                         pp_error_exit_status(two));
}

static void
test_interrupted(void **state)
{
    (void)state;
    g_autoptr(GError) on_int = NULL;
    g_autoptr(GError) on_term = NULL;
    assert_false(pp_throw_interrupted(&on_int, SIGINT));
    assert_false(pp_throw_interrupted(&on_term, SIGTERM));
    assert_int_equal(pp_error_exit_status(on_int), 130);
    assert_int_equal(pp_error_exit_status(on_term), 143);
    assert_string_equal(on_int->message, "interrupted by SIGINT");
    assert_string_not_equal(on_int->message, on_term->message);
}

static void
test_set_code(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    errno = ENOENT;
    pp_throw_errno_prefix(&error, "stat(%s)", "/dump");
    g_autofree char *message = g_strdup(error->message);
    /* Twin first: as the lower layer left it, a harness fault. */
    assert_int_equal(pp_error_exit_status(error), 3);
    assert_false(pp_error_set_code(&error, PP_ERROR_USAGE));
    assert_true(g_error_matches(error, PP_ERROR, PP_ERROR_USAGE));
    assert_int_equal(pp_error_exit_status(error), 2);
    assert_string_equal(error->message, message);
    /* Nothing to move: no crash, still FALSE. */
    GError *none = NULL;
    assert_false(pp_error_set_code(&none, PP_ERROR_USAGE));
    assert_null(none);
    assert_false(pp_error_set_code(NULL, PP_ERROR_USAGE));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_prefix),
        cmocka_unit_test(test_errno_prefix_other_errno_fail),
        cmocka_unit_test(test_errno_prefix_null_error),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_exit_status_foreign_domain_fail),
        cmocka_unit_test(test_interrupted),
        cmocka_unit_test(test_set_code),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
