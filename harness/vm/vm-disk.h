/* SPDX-License-Identifier: MIT */
/*
 * vmdisk.h: reading and editing a device's disk image from the host,
 * without root and without mounting: e2fsprogs' debugfs on the ext4
 * partition ("disk.img?offset=N").
 *
 * The harness reads the calibration trace back this way, and its test
 * hooks (--sabotage) break a disk after a cut the way a torn write or a
 * bad update would, to prove that the verdicts fire.
 */
#ifndef PP_VMDISK_H
#define PP_VMDISK_H

#include <gio/gio.h>

/* cp --sparse=always. */
gboolean pp_vmdisk_copy(const char *src, const char *dest, GError **error);

/* The contents of PATH in the filesystem (debugfs cat). */
char *pp_vmdisk_cat(const char *disk, guint64 offset, const char *path,
                    GError **error);

/* Copy PATH out of the filesystem into the host file dest (debugfs dump). */
gboolean pp_vmdisk_dump(const char *disk, guint64 offset, const char *path,
                        const char *dest, GError **error);

/*
 * What the bootloader would read: the disk's home blocks, as they are,
 * without the journal's replay (debugfs does not replay, as U-Boot's ext4
 * reader does not).  *out_loader: the target of boot/loader there
 * ("loader.0"), NULL when it cannot be read; *out_needs_recovery: the
 * superblock says the journal holds committed changes not yet written
 * home (the "needs_recovery" feature, what the kernel replays at mount).
 */
gboolean pp_vmdisk_boot_view(const char *disk, guint64 offset,
                             char **out_loader, gboolean *out_needs_recovery,
                             GError **error);

/*
 * Test hooks.  empty-kernel: the kernel boot/loader/uEnv.txt names is
 * replaced by an empty file (a torn kernel write): U-Boot refuses it.
 * hang-init: every deployment's /usr/bin/init (the agent) starts with a
 * script that sleeps silently: the kernel boots, userspace never speaks.
 * corrupt-new-tree: the first bytes of the root directory tree object of
 * commit `to` in the repo are overwritten: an object the update wrote,
 * read by neither the boot nor `ostree admin status`, so only the repo
 * check sees it (the twin of that check).  What was done is appended to
 * notes.
 */
#define PP_SABOTAGE_CORRUPT_TREE "corrupt-new-tree"
gboolean pp_vmdisk_sabotage(const char *disk, guint64 offset, const char *what,
                            const char *to, GString *notes, GError **error);

#endif /* PP_VMDISK_H */
