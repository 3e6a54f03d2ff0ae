/*
 * test-common: helpers of harness/common/ that every room relies on.
 *
 * - pp_rm_rf removes a tree holding read-only and mode-0000 directories,
 *   files and symlinks; a missing path is no error;
 *   twin: a symlink to a directory outside the tree is removed, and the
 *   directory it names keeps everything; and a path through a
 *   non-directory is refused with an error naming the path and the call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"

static char *
make_tmp(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("pp-test-common-XXXXXX", &error);
    assert_non_null(dir);
    return dir;
}

static void
write_file(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(p, "x\n", -1, NULL));
}

static void
test_rm_rf_tree(void **state)
{
    (void)state;
    g_autofree char *tmp = make_tmp();
    g_autofree char *top = g_build_filename(tmp, "tree", NULL);
    g_autofree char *ro = g_build_filename(top, "ro", NULL);
    g_autofree char *deep = g_build_filename(ro, "a/b/c", NULL);
    g_autofree char *closed = g_build_filename(top, "closed", NULL);
    assert_int_equal(g_mkdir_with_parents(deep, 0755), 0);
    assert_int_equal(g_mkdir(closed, 0755), 0);
    write_file(deep, "f");
    write_file(ro, "g");
    write_file(closed, "h");
    g_autofree char *link = g_build_filename(ro, "dangling", NULL);
    assert_int_equal(symlink("nowhere", link), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    assert_int_equal(chmod(closed, 0), 0);

    g_autoptr(GError) error = NULL;
    assert_true(pp_rm_rf(top, &error));
    assert_null(error);
    assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    /* Gone already: nothing to do, no error. */
    assert_true(pp_rm_rf(top, &error));
    assert_null(error);
    assert_true(pp_rm_rf(tmp, &error));
}

static void
test_rm_rf_symlink_not_followed_fail(void **state)
{
    (void)state;
    g_autofree char *tmp = make_tmp();
    g_autofree char *outside = g_build_filename(tmp, "outside", NULL);
    g_autofree char *top = g_build_filename(tmp, "tree", NULL);
    assert_int_equal(g_mkdir(outside, 0755), 0);
    assert_int_equal(g_mkdir(top, 0755), 0);
    write_file(outside, "keep");
    g_autofree char *link = g_build_filename(top, "to-outside", NULL);
    assert_int_equal(symlink(outside, link), 0);

    g_autoptr(GError) error = NULL;
    assert_true(pp_rm_rf(top, &error));
    assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    g_autofree char *kept = g_build_filename(outside, "keep", NULL);
    assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));

    /* The root itself a symlink: the link goes, its target stays. */
    assert_int_equal(symlink(outside, top), 0);
    assert_true(pp_rm_rf(top, &error));
    assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));

    /* A path through a file: refused, the error names the path and call. */
    g_autofree char *bad = g_build_filename(kept, "x", NULL);
    assert_false(pp_rm_rf(bad, &error));
    assert_non_null(error);
    assert_true(g_str_has_prefix(error->message, "removing "));
    assert_non_null(strstr(error->message, bad));
    assert_non_null(strstr(error->message, "fstatat("));
    g_clear_error(&error);
    assert_true(pp_rm_rf(tmp, &error));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rm_rf_tree),
        cmocka_unit_test(test_rm_rf_symlink_not_followed_fail),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
