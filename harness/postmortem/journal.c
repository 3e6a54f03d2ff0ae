/* SPDX-License-Identifier: MIT */
/*
 * journal.c: see journal.h.
 */
#include "postmortem/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "postmortem/toolrun.h"

/* Bytes per copy_file_range or read/write round: small enough that a
 * SIGTERM is seen within a fraction of a second. */
#define CHUNK (8u << 20)

void
pp_journal_replay_free(PpJournalReplay *r)
{
    if (r == NULL) {
        return;
    }
    g_free(r->copy);
    g_free(r->e2fsck_line);
    g_free(r->e2fsck_output);
    g_free(r);
}

/* Copy len bytes from in at *ipos to out at *opos, by copy_file_range
 * (shared blocks where the filesystem can), else read and write. */
static gboolean
copy_extent(int in, loff_t ipos, int out, loff_t opos, guint64 len,
            const char *image, const char *dest,
            volatile sig_atomic_t *interrupted, GError **error)
{
    gboolean plain = FALSE;
    g_autofree guint8 *buf = NULL;
    while (len > 0) {
        if (interrupted != NULL && *interrupted) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                        "interrupted while copying %s", image);
            return FALSE;
        }
        size_t want = len < CHUNK ? (size_t)len : CHUNK;
        ssize_t n = -1;
        if (!plain) {
            n = copy_file_range(in, &ipos, out, &opos, want, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
                          || errno == EOPNOTSUPP || errno == EBADF)) {
                /* Across filesystems on old kernels, or a block device. */
                plain = TRUE;
                buf = g_malloc(CHUNK);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return pp_throw_errno_prefix(error, "copy_file_range(%s, %s)",
                                             image, dest);
            }
        } else {
            n = pread(in, buf, want, ipos);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return pp_throw_errno_prefix(error, "pread(%s)", image);
            }
            for (ssize_t w = 0; w < n;) {
                ssize_t m = pwrite(out, buf + w, (size_t)(n - w), opos + w);
                if (m < 0 && errno == EINTR) {
                    continue;
                }
                if (m < 0) {
                    return pp_throw_errno_prefix(error, "pwrite(%s)", dest);
                }
                w += m;
            }
            ipos += n;
            opos += n;
        }
        if (n == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "%s ends before offset %" G_GUINT64_FORMAT
                        " (changed while read?)", image, (guint64)ipos);
            return FALSE;
        }
        len -= (guint64)n;
    }
    return TRUE;
}

gboolean
pp_copy_range_sparse(const char *image, guint64 offset, guint64 bytes,
                     const char *dest, volatile sig_atomic_t *interrupted,
                     guint64 *data_bytes, GError **error)
{
    pp_autofd int in = open(image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (in < 0) {
        return pp_throw_errno_prefix(error, "open(%s)", image);
    }
    pp_autofd int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                             0600);
    if (out < 0) {
        return pp_throw_errno_prefix(error, "open(%s)", dest);
    }
    if (ftruncate(out, (off_t)bytes) < 0) {
        return pp_throw_errno_prefix(error, "ftruncate(%s, %" G_GUINT64_FORMAT
                                     ")", dest, bytes);
    }
    guint64 end = offset + bytes;
    guint64 pos = offset;
    guint64 copied = 0;
    while (pos < end) {
        /* A block device, or a filesystem without SEEK_DATA: all data. */
        off_t data = lseek(in, (off_t)pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO) {
            break;              /* only a hole up to the end of the file */
        }
        off_t hole = data < 0 ? (off_t)end : lseek(in, data, SEEK_HOLE);
        if (data < 0) {
            data = (off_t)pos;
        }
        if (hole < 0) {
            hole = (off_t)end;
        }
        if ((guint64)data >= end) {
            break;
        }
        guint64 stop = MIN((guint64)hole, end);
        if (!copy_extent(in, data, out, (loff_t)((guint64)data - offset),
                         stop - (guint64)data, image, dest, interrupted, error)) {
            return FALSE;
        }
        copied += stop - (guint64)data;
        pos = stop;
    }
    if (fdatasync(out) < 0 && errno != EINVAL) {
        /* Not for durability (a scratch copy): e2fsck reads it back
         * through the page cache anyway; a write error shows here. */
        return pp_throw_errno_prefix(error, "fdatasync(%s)", dest);
    }
    *data_bytes = copied;
    return TRUE;
}

static char *
find_e2fsck(GError **error)
{
    char *p = g_find_program_in_path("e2fsck");
    if (p != NULL) {
        return p;
    }
    /* Not in a user's PATH on Debian: it is in /usr/sbin. */
    static const char *const fallback[] = { "/usr/sbin/e2fsck", "/sbin/e2fsck" };
    for (guint i = 0; i < G_N_ELEMENTS(fallback); i++) {
        if (g_file_test(fallback[i], G_FILE_TEST_IS_EXECUTABLE)) {
            return g_strdup(fallback[i]);
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "e2fsck not found in PATH, /usr/sbin or /sbin (Debian "
                "package e2fsprogs)");
    return NULL;
}

gboolean
pp_journal_replay_copy(const char *image, guint64 offset, guint64 bytes,
                       const char *dir, volatile sig_atomic_t *interrupted,
                       PpJournalReplay **out, GError **error)
{
    g_autoptr(PpJournalReplay) r = g_new0(PpJournalReplay, 1);
    g_autofree char *e2fsck = find_e2fsck(error);
    if (e2fsck == NULL) {
        return FALSE;
    }
    r->copy = g_build_filename(dir, "replayed.img", NULL);
    gint64 t0 = g_get_monotonic_time();
    if (!pp_copy_range_sparse(image, offset, bytes, r->copy, interrupted,
                              &r->bytes_copied, error)) {
        (void)unlink(r->copy);
        g_prefix_error(error, "the private copy for the journal replay: ");
        return FALSE;
    }
    gint64 t1 = g_get_monotonic_time();
    r->copy_seconds = (double)(t1 - t0) / G_USEC_PER_SEC;
    /* -p (preen): the replay is done without a question.  Exit 0 is a
     * replay and nothing else.  Exit 1 ("errors corrected") means e2fsck
     * did more: an invalid journal is cleared and recreated, which the
     * kernel would not do (it refuses to mount): no kernel's view then,
     * rather than a wrong one.  Exit 4 and above: it could not. */
    const char *argv[] = { e2fsck, "-p", "-E", "journal_only", r->copy, NULL };
    r->e2fsck_line = pp_tool_line(argv);
    g_autoptr(GBytes) sout = NULL;
    g_autofree char *serr = NULL;
    if (!pp_tool_run(argv, NULL, 1, interrupted, &sout, &serr,
                     &r->e2fsck_status, error)) {
        g_prefix_error(error, "replaying the journal of a copy of %s: ", image);
        return FALSE;
    }
    r->replay_seconds = (double)(g_get_monotonic_time() - t1) / G_USEC_PER_SEC;
    gsize n = 0;
    const char *o = g_bytes_get_data(sout, &n);
    g_autofree char *text = g_strdup_printf("%.*s%s", (int)n, o != NULL ? o : "",
                                            serr);
    r->e2fsck_output = g_strdup(g_strstrip(text));
    if (r->e2fsck_status != 0) {
        g_autofree char *one = g_strdelimit(g_strdup(r->e2fsck_output), "\n", ' ');
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: exit %d: more than a replay of the journal (%s): the "
                    "kernel would not mount this filesystem as it is",
                    r->e2fsck_line, r->e2fsck_status, one);
        return FALSE;
    }
    *out = g_steal_pointer(&r);
    return TRUE;
}
