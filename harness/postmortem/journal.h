/* SPDX-License-Identifier: MIT */
/*
 * journal.h: the kernel's view of a dump whose ext3/4 journal needs
 * recovery (a power cut while mounted).
 *
 * U-Boot's ext4 driver, like debugfs, reads the blocks in place: updates
 * committed to the journal but not yet written home are not seen.  Linux
 * replays the journal at mount and sees them.  The kernel's view is made
 * on a private copy of the filesystem (the user's image is only read):
 *   1. the filesystem's bytes [offset, offset + bytes) are copied into a
 *      new file: holes stay holes (SEEK_DATA/SEEK_HOLE), data goes through
 *      copy_file_range, which shares the blocks (a reflink) where the
 *      filesystem under both can (btrfs, xfs), else copies them;
 *   2. e2fsck -p -E journal_only replays the journal (the same jbd2
 *      recovery the kernel does) and checks nothing else; when it does
 *      more (exit 1: an invalid journal cleared and recreated, which the
 *      kernel would refuse to mount) there is no kernel's view.
 * The copy is then a bare filesystem at offset 0, extracted like the dump.
 */
#ifndef PP_JOURNAL_H
#define PP_JOURNAL_H

#include <signal.h>

#include <gio/gio.h>

typedef struct {
    char *copy;             /* the private copy, in the caller's directory */
    guint64 bytes_copied;   /* data bytes (holes skipped) */
    double copy_seconds;
    double replay_seconds;
    char *e2fsck_line;      /* the command line that ran */
    char *e2fsck_output;    /* its stdout and stderr, stripped */
    int e2fsck_status;      /* 0: the journal replayed, nothing else */
} PpJournalReplay;

void pp_journal_replay_free(PpJournalReplay *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpJournalReplay, pp_journal_replay_free)

/*
 * Copy [offset, offset + bytes) of image to dest (a new file: O_EXCL).
 * interrupted (may be NULL) is polled between extents: G_IO_ERROR_CANCELLED.
 */
gboolean pp_copy_range_sparse(const char *image, guint64 offset, guint64 bytes,
                              const char *dest,
                              volatile sig_atomic_t *interrupted,
                              guint64 *data_bytes, GError **error);

/*
 * Copy the filesystem at offset of image (bytes long) to dir/name and
 * replay its journal there.  The copy is left for the caller (it lives in
 * the caller's private directory).
 */
gboolean pp_journal_replay_copy(const char *image, guint64 offset,
                                guint64 bytes, const char *dir,
                                volatile sig_atomic_t *interrupted,
                                PpJournalReplay **out, GError **error);

#endif /* PP_JOURNAL_H */
