/* SPDX-License-Identifier: MIT */
/*
 * fs.h: the file-system helpers of the harness that work on descriptors:
 * a DIR * closed at scope exit, rm -rf by descriptor, and the (dev, ino)
 * key that caches by inode hash on.
 */
#ifndef PP_COMMON_FS_H
#define PP_COMMON_FS_H

#include <dirent.h>
#include <sys/types.h>

#include <gio/gio.h>

/* A DIR * closed when it goes out of scope (errno kept); NULL is left
   alone: pp_autodir DIR *d = fdopendir(fd); */
void pp_close_dir_p(DIR **d);
#define pp_autodir __attribute__((cleanup(pp_close_dir_p)))

/*
 * rm -rf dfd/name (dfd may be AT_FDCWD), without a subprocess and without
 * building paths: each directory is opened with O_NOFOLLOW and walked by
 * its descriptor, so a symlink is removed, never followed.  A directory
 * is made u+rwx before it is listed (a tree extracted from an image, or a
 * crash state, has modes like 0555 or 0000 that bind an owner who is not
 * root).  A missing name is not an error.  Goes on after an error and
 * reports the first one, prefixed "removing NAME: ".
 */
gboolean pp_rm_rf_at(int dfd, const char *name, GError **error);
/* pp_rm_rf_at(AT_FDCWD, path, error). */
gboolean pp_rm_rf(const char *path, GError **error);

/*
 * The disk space the tree at path takes: the allocated blocks of every
 * inode under it (itself included) counted once, however many links
 * name it, as du counts them.  Symlinks are not followed.
 */
gboolean pp_tree_disk_bytes(const char *path, guint64 *out_bytes,
                            GError **error);

/* An inode, the key of caches by inode (hardlinks read once, a mode kept
 * for an inode): a GHashTable of them takes pp_inode_hash and
 * pp_inode_equal. */
typedef struct {
    dev_t dev;
    ino_t ino;
} PpInodeKey;

guint pp_inode_hash(gconstpointer key);
gboolean pp_inode_equal(gconstpointer a, gconstpointer b);

#endif /* PP_COMMON_FS_H */
