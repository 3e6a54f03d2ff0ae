/* SPDX-License-Identifier: MIT */
/*
 * stat-overlay.h: the true permission bits and owner of files whose own
 * inode cannot carry them, by (st_dev, st_ino).
 *
 * A sysroot extracted from a disk image without root (debugfs rdump) is
 * made of the invoking user's files: their owner is that user, not the
 * image's, and rdump drops the setuid, setgid and sticky bits.  The
 * extraction records what the image says here, and the oracle applies it
 * to every lstat whose mode or owner it compares or hashes, so the
 * judgement is the one a mounted image would get.  Keyed by inode rather
 * than path: the oracle reaches a file through several paths (the
 * deployment, the repo's objects) and several directory fds.
 *
 * Knows nothing of debugfs or of the oracle.
 */
#ifndef PP_STAT_OVERLAY_H
#define PP_STAT_OVERLAY_H

#include <sys/stat.h>

#include <glib.h>

typedef struct _PpStatOverlay PpStatOverlay;

PpStatOverlay *pp_stat_overlay_new(void);
void pp_stat_overlay_free(PpStatOverlay *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpStatOverlay, pp_stat_overlay_free)

/* dev:ino really has permission bits mode (07777) and owner uid:gid. */
void pp_stat_overlay_set(PpStatOverlay *o, dev_t dev, ino_t ino, guint32 mode,
                         guint32 uid, guint32 gid);

guint pp_stat_overlay_size(const PpStatOverlay *o);

/*
 * Replace st's permission bits and owner by the recorded ones, if st's
 * inode has an entry (the file type bits are kept).  o may be NULL.
 */
void pp_stat_overlay_apply(const PpStatOverlay *o, struct stat *st);

/*
 * dev:ino also has the extended attribute name = value (len bytes), which
 * its own inode could not be given (the host refused it).
 */
void pp_stat_overlay_add_xattr(PpStatOverlay *o, dev_t dev, ino_t ino,
                               const char *name, const void *value, gsize len);

/*
 * The extended attributes recorded for st's inode, as ostree's a(ayay)
 * (names NUL-terminated), or NULL when none is.  o may be NULL.
 */
GVariant *pp_stat_overlay_get_xattrs(const PpStatOverlay *o,
                                     const struct stat *st);

#endif /* PP_STAT_OVERLAY_H */
