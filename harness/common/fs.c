/* SPDX-License-Identifier: MIT */
/*
 * fs.c: see fs.h.
 */
#include "common/fs.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
pp_close_dir_p(DIR **d)
{
    if (*d != NULL) {
        int errsv = errno;
        closedir(*d);
        errno = errsv;
    }
}

/* Keep the first error of a walk that goes on after one. */
static void
keep_first(GError **error, GError *e)
{
    if (error != NULL && *error == NULL) {
        g_propagate_error(error, e);
    } else {
        g_error_free(e);
    }
}

/* The directory parent_dfd/name for reading, never through a symlink,
 * or NULL with an error naming it. */
static DIR *
open_dir_at(int parent_dfd, const char *name, GError **error)
{
    int dfd = openat(parent_dfd, name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (d == NULL) {
        int errsv = errno;
        if (dfd >= 0) {
            close(dfd);
        }
        errno = errsv;
        pp_throw_errno_prefix(error, "opendir(%s)", name);
    }
    return d;
}

static void
rm_rf_walk(int parent_dfd, const char *name, GError **error)
{
    GError *e = NULL;
    struct stat st;
    if (fstatat(parent_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) {
            pp_throw_errno_prefix(&e, "fstatat(%s)", name);
            keep_first(error, e);
        }
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(parent_dfd, name, 0) < 0 && errno != ENOENT) {
            pp_throw_errno_prefix(&e, "unlinkat(%s)", name);
            keep_first(error, e);
        }
        return;
    }
    /* May fail (a directory of another owner, without root): then the
     * unlinks below fail and say so.  Not a symlink (lstat above), so
     * following is no concern. */
    if ((st.st_mode & S_IRWXU) != S_IRWXU) {
        (void)fchmodat(parent_dfd, name, (st.st_mode & 07777) | S_IRWXU, 0);
    }
    pp_autodir DIR *d = open_dir_at(parent_dfd, name, &e);
    if (d == NULL) {
        keep_first(error, e);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            rm_rf_walk(dirfd(d), de->d_name, error);
        }
    }
    if (unlinkat(parent_dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
        pp_throw_errno_prefix(&e, "rmdir(%s)", name);
        keep_first(error, e);
    }
}

gboolean
pp_rm_rf_at(int dfd, const char *name, GError **error)
{
    GError *e = NULL;
    rm_rf_walk(dfd, name, &e);
    if (e != NULL) {
        g_propagate_prefixed_error(error, e, "removing %s: ", name);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_rm_rf(const char *path, GError **error)
{
    return pp_rm_rf_at(AT_FDCWD, path, error);
}

guint
pp_inode_hash(gconstpointer key)
{
    const PpInodeKey *k = key;
    guint64 v = (guint64)k->ino * 0x9e3779b97f4a7c15ull ^ (guint64)k->dev;
    return (guint)(v ^ (v >> 32));
}

gboolean
pp_inode_equal(gconstpointer a, gconstpointer b)
{
    const PpInodeKey *x = a;
    const PpInodeKey *y = b;
    return x->dev == y->dev && x->ino == y->ino;
}

static gboolean
tree_bytes_walk(int parent_dfd, const char *name, GHashTable *seen,
                guint64 *bytes, GError **error)
{
    struct stat st;
    if (fstatat(parent_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        return pp_throw_errno_prefix(error, "fstatat(%s)", name);
    }
    PpInodeKey key = { st.st_dev, st.st_ino };
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
        if (g_hash_table_contains(seen, &key)) {
            return TRUE;
        }
        g_hash_table_add(seen, g_memdup2(&key, sizeof key));
    }
    *bytes += (guint64)st.st_blocks * 512;
    if (!S_ISDIR(st.st_mode)) {
        return TRUE;
    }
    pp_autodir DIR *d = open_dir_at(parent_dfd, name, error);
    if (d == NULL) {
        return FALSE;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0
            && !tree_bytes_walk(dirfd(d), de->d_name, seen, bytes, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
pp_tree_disk_bytes(const char *path, guint64 *out_bytes, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(pp_inode_hash,
                                                       pp_inode_equal,
                                                       g_free, NULL);
    *out_bytes = 0;
    if (!tree_bytes_walk(AT_FDCWD, path, seen, out_bytes, error)) {
        g_prefix_error(error, "measuring %s: ", path);
        return FALSE;
    }
    return TRUE;
}
