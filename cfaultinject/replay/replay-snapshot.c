/* SPDX-License-Identifier: MIT */
/*
 * replay-snapshot.c: read the snapshot once into the starting logical
 * namespace (one inode per snapshot inode, hardlinks sharing one) and into
 * the pre-order list of entries that each materialisation copies.
 */
#include "replay-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

typedef struct {
    CfiReplay *r;
    GHashTable *by_devino;      /* "dev:ino" -> id, to share hardlinks */
} Scan;

static guint32
add_inode(CfiReplay *r, CfiInodeType type, const struct stat *st)
{
    CfiInode ino = {
        .type = type,
        .from_snapshot = TRUE,
        .mode = st->st_mode & 07777,
        .uid = st->st_uid,
        .gid = st->st_gid,
    };
    if (type == CFI_INODE_DIR)
        ino.children = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             NULL);
    if (type == CFI_INODE_FILE)
        ino.snap_names = g_ptr_array_new();
    g_array_append_val(r->inodes, ino);
    return r->inodes->len - 1;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean scan_dir(Scan *s, int dfd, const char *rel, guint32 dir_id,
                         GError **error);

static gboolean
scan_entry(Scan *s, int dfd, const char *rel, const char *name,
           guint32 dir_id, GError **error)
{
    CfiReplay *r = s->r;
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        int errsv = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                    "scan snapshot %s: fstatat %s/%s: %s", r->snapshot_dir,
                    rel, name, g_strerror(errsv));
        return FALSE;
    }
    g_autofree char *joined =
        rel[0] == '\0' ? g_strdup(name) : g_strconcat(rel, "/", name, NULL);
    const char *path = g_string_chunk_insert(r->strings, joined);
    CfiSnapEntry e = { .path = path, .mode = st.st_mode & 07777,
                       .uid = st.st_uid, .gid = st.st_gid };
    guint32 id = 0;

    if (S_ISREG(st.st_mode)) {
        g_autofree char *key = g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev,
                                               (uintmax_t)st.st_ino);
        id = GPOINTER_TO_UINT(g_hash_table_lookup(s->by_devino, key));
        if (id == 0) {
            id = add_inode(r, CFI_INODE_FILE, &st);
            g_hash_table_insert(s->by_devino, g_steal_pointer(&key),
                                GUINT_TO_POINTER(id));
        }
        g_ptr_array_add(cfi_replay_inode(r, id)->snap_names, (char *)path);
        e.type = CFI_INODE_FILE;
    } else if (S_ISDIR(st.st_mode)) {
        id = add_inode(r, CFI_INODE_DIR, &st);
        cfi_replay_inode(r, id)->dir_path = path;
        e.type = CFI_INODE_DIR;
    } else if (S_ISLNK(st.st_mode)) {
        char buf[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, buf, sizeof buf - 1);
        if (n < 0) {
            int errsv = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                        "scan snapshot %s: readlinkat %s: %s",
                        r->snapshot_dir, path, g_strerror(errsv));
            return FALSE;
        }
        buf[n] = '\0';
        id = add_inode(r, CFI_INODE_SYMLINK, &st);
        e.type = CFI_INODE_SYMLINK;
        e.link_target = g_string_chunk_insert(r->strings, buf);
    } else {
        /* Sockets, fifos, devices: named in the namespace so that paths
         * resolve, but never copied. */
        id = add_inode(r, CFI_INODE_OTHER, &st);
        g_ptr_array_add(r->warnings,
                        g_strdup_printf("snapshot entry %s is not a file, "
                                        "directory or symlink: not copied",
                                        path));
        e.type = CFI_INODE_OTHER;
    }
    e.inode = id;
    g_hash_table_insert(cfi_replay_inode(r, dir_id)->children, g_strdup(name),
                        GUINT_TO_POINTER(id));
    if (e.type != CFI_INODE_OTHER)
        g_array_append_val(r->snap, e);
    if (e.type == CFI_INODE_DIR)
        return scan_dir(s, dfd, path, id, error);
    return TRUE;
}

static gboolean
scan_dir(Scan *s, int parent_dfd, const char *rel, guint32 dir_id,
         GError **error)
{
    CfiReplay *r = s->r;
    const char *name = rel[0] == '\0' ? "." : strrchr(rel, '/') != NULL
        ? strrchr(rel, '/') + 1 : rel;
    int dfd = openat(parent_dfd, rel[0] == '\0' ? r->snapshot_dir : name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int errsv = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                    "scan snapshot %s: open directory '%s': %s",
                    r->snapshot_dir, rel, g_strerror(errsv));
        return FALSE;
    }
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int errsv = errno;
        close(dfd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                    "scan snapshot %s: fdopendir '%s': %s", r->snapshot_dir,
                    rel, g_strerror(errsv));
        return FALSE;
    }
    /* Sorted, so that inode ids (and staging names) do not depend on the
     * order the filesystem happens to list entries in. */
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        g_ptr_array_add(names, g_strdup(de->d_name));
    }
    g_ptr_array_sort(names, compare_names);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < names->len; i++) {
        if (rel[0] == '\0' && strcmp(names->pdata[i], CFI_STAGING_DIR) == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "scan snapshot %s: it contains %s, the name the "
                        "materialiser reserves", r->snapshot_dir,
                        CFI_STAGING_DIR);
            ok = FALSE;
            break;
        }
        ok = scan_entry(s, dirfd(d), rel, names->pdata[i], dir_id, error);
    }
    closedir(d);
    return ok;
}

gboolean
cfi_replay_scan_snapshot(CfiReplay *r, GError **error)
{
    struct stat st;
    if (stat(r->snapshot_dir, &st) < 0) {
        int errsv = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                    "scan snapshot %s: stat: %s", r->snapshot_dir,
                    g_strerror(errsv));
        return FALSE;
    }
    if (!S_ISDIR(st.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                    "scan snapshot %s: not a directory", r->snapshot_dir);
        return FALSE;
    }
    /* Inode 0 means "none"; the root directory is inode 1. */
    CfiInode none = { .type = CFI_INODE_OTHER };
    g_array_append_val(r->inodes, none);
    guint32 root = add_inode(r, CFI_INODE_DIR, &st);
    g_assert(root == 1);
    cfi_replay_inode(r, root)->dir_path = "";

    Scan s = {
        .r = r,
        .by_devino = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL),
    };
    gboolean ok = scan_dir(&s, AT_FDCWD, "", root, error);
    g_hash_table_unref(s.by_devino);
    return ok;
}
