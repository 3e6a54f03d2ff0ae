/*
 * durable.c: see durable.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/durable.h"
#include "common/error.h"
#include "common/util.h"

gboolean
pp_fsync_dir(const char *dir, GError **error)
{
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
    /* CONSISTENT: a temporary file renamed over path; DURABLE: the
       temporary's data fsynced before the rename.  GLib does not fsync
       the directory, so the rename itself could still be lost. */
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
