/* SPDX-License-Identifier: MIT */
/*
 * test-journal: the private copy the kernel's view is replayed on
 * (postmortem/journal.h).  A file of data, a hole and data again: the
 * range copied holds the same bytes, its hole stays a hole (fewer blocks
 * than its length), the data bytes counted are the data's; the source is
 * unchanged.  The twins: a destination that exists is refused (O_EXCL,
 * the copy never writes over a file), a source that is missing names it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "common/fs.h"
#include "postmortem/journal.h"

#define MIB (1024u * 1024u)

typedef struct {
    char *dir;
    char *src;
} Fx;

static int
setup(void **state)
{
    Fx *fx = g_new0(Fx, 1);
    fx->dir = g_dir_make_tmp("test-journal-XXXXXX", NULL);
    assert_non_null(fx->dir);
    fx->src = g_build_filename(fx->dir, "disk.img", NULL);
    /* 1 MiB head (the "partition table"), then the filesystem: 1 MiB of
     * 'A', 6 MiB of hole, 1 MiB of 'B'; then 1 MiB of 'C' after it. */
    int fd = open(fx->src, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    g_autofree guint8 *buf = g_malloc(MIB);
    const char fill[] = { 'H', 'A', 'B', 'C' };
    const off_t at[] = { 0, 1 * MIB, 8 * MIB, 9 * MIB };
    for (guint i = 0; i < G_N_ELEMENTS(fill); i++) {
        memset(buf, fill[i], MIB);
        assert_int_equal(pwrite(fd, buf, MIB, at[i]), MIB);
    }
    close(fd);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    assert_true(pp_rm_rf(fx->dir, NULL));
    g_free(fx->dir);
    g_free(fx->src);
    g_free(fx);
    return 0;
}

static void
test_copy_range_keeps_bytes_and_holes(void **state)
{
    Fx *fx = *state;
    g_autofree char *dest = g_build_filename(fx->dir, "copy.img", NULL);
    g_autoptr(GError) error = NULL;
    guint64 data = 0;
    assert_true(pp_copy_range_sparse(fx->src, 1 * MIB, 8 * MIB, dest, NULL,
                                     &data, &error));
    assert_null(error);
    g_autofree char *got = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(dest, &got, &len, NULL));
    assert_int_equal(len, 8 * MIB);
    for (gsize i = 0; i < len; i++) {
        char want = i < MIB ? 'A' : i >= 7 * MIB ? 'B' : '\0';
        if (got[i] != want) {
            fail_msg("byte %zu is 0x%02x, want 0x%02x", i, got[i], want);
        }
    }
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    /* The 6 MiB hole is not written (a filesystem without holes would
     * count it: then the data count below still holds). */
    if ((guint64)st.st_blocks * 512 >= 8 * MIB) {
        print_message("note: %s has no holes here (%lld blocks)\n", fx->dir,
                      (long long)st.st_blocks);
    } else {
        assert_true((guint64)st.st_blocks * 512 <= 3 * MIB);
        assert_int_equal(data, 2 * MIB);
    }
}

static void
test_copy_refuses_existing_dest(void **state)
{
    Fx *fx = *state;
    g_autofree char *dest = g_build_filename(fx->dir, "there.img", NULL);
    assert_true(g_file_set_contents(dest, "keep", 4, NULL));
    g_autoptr(GError) error = NULL;
    guint64 data = 0;
    assert_false(pp_copy_range_sparse(fx->src, 0, MIB, dest, NULL, &data,
                                      &error));
    assert_non_null(error);
    assert_non_null(strstr(error->message, "there.img"));
    g_autofree char *got = NULL;
    assert_true(g_file_get_contents(dest, &got, NULL, NULL));
    assert_string_equal(got, "keep");
}

static void
test_copy_missing_source(void **state)
{
    Fx *fx = *state;
    g_autofree char *src = g_build_filename(fx->dir, "absent.img", NULL);
    g_autofree char *dest = g_build_filename(fx->dir, "copy2.img", NULL);
    g_autoptr(GError) error = NULL;
    guint64 data = 0;
    assert_false(pp_copy_range_sparse(src, 0, MIB, dest, NULL, &data, &error));
    assert_non_null(strstr(error->message, "open("));
    assert_non_null(strstr(error->message, "absent.img"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_range_keeps_bytes_and_holes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_refuses_existing_dest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_missing_source, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
