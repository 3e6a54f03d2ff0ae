/* SPDX-License-Identifier: MIT */
/*
 * durable.c: see durable.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/durable.h"
#include "common/error.h"
#include "common/util.h"

/*
 * PLUGPULL_TEST_WRITE_UNSAFE=1 brings back the write path plugpull had
 * before this file: g_file_set_contents (no fsync of a new file) and no
 * directory fsync.  It exists only for the failing twin of
 * tests/integration/test-self-durable.sh; nothing else may set it.
 */
static gboolean
unsafe_for_test(void)
{
    static gsize once;
    static gboolean unsafe;
    if (g_once_init_enter(&once)) {
        unsafe = g_strcmp0(g_getenv("PLUGPULL_TEST_WRITE_UNSAFE"), "1") == 0;
        g_once_init_leave(&once, 1);
    }
    return unsafe;
}

gboolean
pp_fsync_dir(const char *dir, GError **error)
{
    if (unsafe_for_test()) {
        return TRUE;
    }
    pp_autofd int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return pp_throw_errno_prefix(error, "open(%s)", dir);
    }
    if (fsync(fd) < 0) {
        return pp_throw_errno_prefix(error, "fsync(%s)", dir);
    }
    return TRUE;
}

gboolean
pp_write_file_durable(const char *path, const void *data, gssize len,
                      GError **error)
{
    if (unsafe_for_test()) {
        if (!g_file_set_contents(path, data, len, error)) {
            g_prefix_error(error, "writing %s: ", path);
            return FALSE;
        }
        return TRUE;
    }
    /* CONSISTENT: a temporary file renamed over path; DURABLE: the
       temporary's data fsynced before the rename.  Not every GLib
       fsyncs the directory, and without that the rename could be lost. */
    if (!g_file_set_contents_full(path, data, len,
                                  G_FILE_SET_CONTENTS_CONSISTENT
                                  | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    return pp_fsync_dir(dir, error);
}
