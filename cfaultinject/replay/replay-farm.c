/* SPDX-License-Identifier: MIT */
/*
 * replay-farm.c: a crash-state tree kept from one state to the next
 * (crashstate.h, CfiFarm).
 *
 * A state is the snapshot's hardlink farm plus the operations the model
 * keeps.  On a firmware of 30,000 entries the farm is most of the cost
 * of a state: every directory made and every file linked, then all of it
 * removed, whatever the update changed.  A farm is built once; after a
 * state is judged it is brought back to the snapshot's farm by undoing
 * what that state changed, which is bounded by what its operations
 * touched, not by the size of the tree.
 *
 * What a state changes is known from where the materialiser wrote: every
 * operation it applies changes entries of one or two directories (the
 * parents it opened) or the attributes of one directory, and a file it
 * writes is never a snapshot inode (replay-apply.c unshares first).  The
 * farm records those directories by inode, not by path: a state may move
 * a directory and write into it under its new name.  Bringing the tree
 * back (cfi_farm_restore) reconciles each such directory that is one of
 * the farm's with the snapshot: entries the snapshot does not have are
 * removed, entries that are not the farm's (a file that is not the
 * snapshot's inode, a directory that is not the farm's, a symlink with
 * another target or owner) are rebuilt from the snapshot, its mode and
 * owner are set back.  Directories are taken shallowest first, so a
 * directory whose parent rebuilt it is already right when it comes.
 * Directories the state made are not the farm's: their parent removes
 * them.
 *
 * cfi_farm_verify walks the whole tree the same way without changing
 * it, so a test can prove that a restored farm is the snapshot's farm
 * again; its twin (tests/unit/test-models.c) changes the tree behind the
 * farm's back and sees it reported.  Timestamps of directories are not
 * restored: a fresh farm's are the time it was built, and nothing that
 * judges a state reads them.
 */
#include "replay-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>

/* One directory of the snapshot, as the farm holds it. */
typedef struct {
    gint snap;                  /* index in r->snap; -1 for the root */
    const char *path;           /* relative; "" for the root */
    guint depth;                /* 0 for the root */
    guint64 ino;                /* st_ino of the farm's directory now */
    GHashTable *children;       /* name -> snap index + 1 */
} FarmDir;

struct CfiFarm {
    char *path;
    gboolean ready;             /* path holds the snapshot's farm */
    CfiReplay *r;               /* the replay it was built for */
    GPtrArray *dirs;            /* FarmDir *, [0] the root */
    GHashTable *by_path;        /* path -> FarmDir * */
    GHashTable *by_ino;         /* farm directory st_ino -> FarmDir * */
    guint64 *file_ino;          /* per snap entry: the snapshot's st_ino */
    guint32 root_mode, root_uid, root_gid;
    GHashTable *dirty;          /* FarmDir * changed since ready */
    GHashTable *touched;        /* paths of the dirty dirs and of their
                                   ancestors; NULL until asked for */
    GHashTable *entries;        /* relative paths of the entries of farm
                                   directories a state made, removed,
                                   replaced or changed the attributes of */
    gboolean advance;           /* a state may be moved to a later cut */
    gpointer held;              /* what replay-apply.c keeps of the state
                                   the farm holds, to move it; or NULL */
    GDestroyNotify held_free;
    char *parked;               /* the held state's staging directory,
                                   outside the tree; NULL: none */
    gboolean moved;             /* the last state was moved to */
    gboolean verify;            /* check every restore it makes itself */
    gboolean is_root;
};

static gboolean G_GNUC_PRINTF(3, 4)
farm_throw(GError **error, int errsv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s",
                msg, g_strerror(errsv));
    return FALSE;
}

static void
farm_dir_free(FarmDir *d)
{
    g_hash_table_unref(d->children);
    g_free(d);
}

/* The held state's replay data and its parked staging directory go. */
static void
farm_drop_held(CfiFarm *f)
{
    if (f->held != NULL && f->held_free != NULL)
        f->held_free(f->held);
    f->held = NULL;
    f->held_free = NULL;
    if (f->parked != NULL) {
        int dfd = open(f->parked, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            DIR *d = fdopendir(dfd);
            struct dirent *de;
            while (d != NULL && (de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                    (void)unlinkat(dirfd(d), de->d_name, 0);
            if (d != NULL)
                closedir(d);
            else
                close(dfd);
        }
        (void)rmdir(f->parked);
        g_clear_pointer(&f->parked, g_free);
    }
}

static void
farm_forget_index(CfiFarm *f)
{
    farm_drop_held(f);
    g_clear_pointer(&f->dirs, g_ptr_array_unref);
    g_clear_pointer(&f->by_path, g_hash_table_unref);
    g_clear_pointer(&f->by_ino, g_hash_table_unref);
    g_clear_pointer(&f->file_ino, g_free);
    g_hash_table_remove_all(f->dirty);
    g_hash_table_remove_all(f->entries);
    g_clear_pointer(&f->touched, g_hash_table_unref);
    f->ready = FALSE;
    f->r = NULL;
}

CfiFarm *
cfi_farm_new(const char *path)
{
    CfiFarm *f = g_new0(CfiFarm, 1);
    f->path = g_strdup(path);
    f->dirty = g_hash_table_new(NULL, NULL);
    f->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->is_root = geteuid() == 0;
    return f;
}

void
cfi_farm_free(CfiFarm *f)
{
    if (f == NULL)
        return;
    farm_forget_index(f);
    g_hash_table_unref(f->dirty);
    g_hash_table_unref(f->entries);
    g_free(f->path);
    g_free(f);
}

const char *
cfi_farm_get_path(CfiFarm *f)
{
    return f->path;
}

void
cfi_farm_set_path(CfiFarm *f, const char *path)
{
    g_free(f->path);
    f->path = g_strdup(path);
}

gboolean
cfi_farm_is_ready(CfiFarm *f, CfiReplay *r)
{
    return f->ready && f->r == r;
}

void
cfi_farm_set_advance(CfiFarm *f, gboolean advance)
{
    f->advance = advance;
}

gboolean
cfi_farm_get_advance(CfiFarm *f)
{
    return f->advance;
}

void
cfi_farm_hold(CfiFarm *f, gpointer held, GDestroyNotify held_free,
              const char *parked)
{
    farm_drop_held(f);
    f->held = held;
    f->held_free = held_free;
    f->parked = g_strdup(parked);
}

void
cfi_farm_set_verify(CfiFarm *f, gboolean verify)
{
    f->verify = verify;
}

void
cfi_farm_set_moved(CfiFarm *f, gboolean moved)
{
    f->moved = moved;
}

gboolean
cfi_farm_moved(CfiFarm *f)
{
    return f->moved;
}

gpointer
cfi_farm_held(CfiFarm *f)
{
    return f->held;
}

const char *
cfi_farm_parked(CfiFarm *f)
{
    return f->parked;
}

static guint64
key_of(guint64 ino)
{
    return ino;
}

/* ---- the index, made once the farm is built ------------------------ */

static FarmDir *
add_dir(CfiFarm *f, gint snap, const char *path, guint depth, guint64 ino)
{
    FarmDir *d = g_new0(FarmDir, 1);
    d->snap = snap;
    d->path = path;
    d->depth = depth;
    d->ino = ino;
    d->children = g_hash_table_new(g_str_hash, g_str_equal);
    g_ptr_array_add(f->dirs, d);
    g_hash_table_insert(f->by_path, (char *)path, d);
    g_hash_table_insert(f->by_ino, GSIZE_TO_POINTER(key_of(ino)), d);
    return d;
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Record what tfd (just built by copy_snapshot) holds.  FALSE without an
 * error: the farm is not the snapshot's hardlinks (a file was copied, or
 * it is not on one filesystem with the snapshot), so it is not kept. */
gboolean
cfi_farm_index(CfiFarm *f, CfiReplay *r, int tfd, GError **error)
{
    farm_forget_index(f);
    struct stat st;
    if (fstat(tfd, &st) < 0)
        return farm_throw(error, errno, "farm %s: fstat", f->path);
    int sfd = open(r->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        return farm_throw(error, errno, "farm %s: open snapshot %s", f->path,
                          r->snapshot_dir);
    f->dirs = g_ptr_array_new_with_free_func((GDestroyNotify)farm_dir_free);
    f->by_path = g_hash_table_new(g_str_hash, g_str_equal);
    f->by_ino = g_hash_table_new(NULL, NULL);
    f->file_ino = g_new0(guint64, MAX(r->snap->len, 1));
    f->root_mode = st.st_mode & 07777;
    f->root_uid = st.st_uid;
    f->root_gid = st.st_gid;
    add_dir(f, -1, "", 0, st.st_ino);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < r->snap->len; i++) {
        const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, i);
        const char *slash = strrchr(e->path, '/');
        g_autofree char *parent = slash != NULL
            ? g_strndup(e->path, slash - e->path) : g_strdup("");
        FarmDir *p = g_hash_table_lookup(f->by_path, parent);
        g_assert(p != NULL);    /* pre-order: parents come first */
        g_hash_table_insert(p->children, (char *)base_name(e->path),
                            GUINT_TO_POINTER(i + 1));
        if (e->type == CFI_INODE_DIR) {
            if (fstatat(tfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                ok = farm_throw(error, errno, "farm %s: fstatat %s", f->path,
                                e->path);
                break;
            }
            add_dir(f, (gint)i, e->path, p->depth + 1, st.st_ino);
        } else if (e->type == CFI_INODE_FILE) {
            struct stat tst;
            if (fstatat(sfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0
                || fstatat(tfd, e->path, &tst, AT_SYMLINK_NOFOLLOW) < 0) {
                ok = farm_throw(error, errno, "farm %s: fstatat %s", f->path,
                                e->path);
                break;
            }
            if (st.st_ino != tst.st_ino || st.st_dev != tst.st_dev) {
                close(sfd);
                farm_forget_index(f);
                return FALSE;   /* copied, not linked: not a farm */
            }
            f->file_ino[i] = st.st_ino;
        }
    }
    close(sfd);
    if (!ok) {
        farm_forget_index(f);
        return FALSE;
    }
    f->r = r;
    f->ready = TRUE;
    return TRUE;
}

/* ---- what a state changes ------------------------------------------ */

static void
farm_mark(CfiFarm *f, FarmDir *d)
{
    if (d != NULL && g_hash_table_add(f->dirty, d))
        g_clear_pointer(&f->touched, g_hash_table_unref);
}

static void
farm_note_entry(CfiFarm *f, const FarmDir *d, const char *name)
{
    g_hash_table_add(f->entries, *d->path == '\0'
                                 ? g_strdup(name)
                                 : g_strconcat(d->path, "/", name, NULL));
}

void
cfi_farm_mark_entry(CfiFarm *f, int dfd, const char *name)
{
    struct stat st;
    if (f == NULL || !f->ready || fstat(dfd, &st) < 0)
        return;
    FarmDir *d = g_hash_table_lookup(f->by_ino,
                                     GSIZE_TO_POINTER(key_of(st.st_ino)));
    if (d != NULL) {
        farm_mark(f, d);
        farm_note_entry(f, d, name);
    }
}

void
cfi_farm_mark_at(CfiFarm *f, int tfd, const char *rel)
{
    struct stat st;
    if (f == NULL || !f->ready
        || fstatat(tfd, rel[0] != '\0' ? rel : ".", &st,
                   AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
        return;
    FarmDir *d = g_hash_table_lookup(f->by_ino,
                                     GSIZE_TO_POINTER(key_of(st.st_ino)));
    if (d != NULL) {
        farm_mark(f, d);
        g_hash_table_add(f->entries, g_strdup(rel));
    }
}

void
cfi_farm_mark_parent_of(CfiFarm *f, const char *rel)
{
    if (f == NULL || !f->ready)
        return;
    const char *slash = strrchr(rel, '/');
    g_autofree char *parent = slash != NULL ? g_strndup(rel, slash - rel)
                                            : g_strdup("");
    FarmDir *d = g_hash_table_lookup(f->by_path, parent);
    if (d != NULL) {
        farm_mark(f, d);
        g_hash_table_add(f->entries, g_strdup(rel));
    }
}

/* ---- bringing it back ---------------------------------------------- */

static gboolean
rm_rf_at(int dfd, const char *name, GError **error)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? TRUE
                               : farm_throw(error, errno, "fstatat %s", name);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
            return farm_throw(error, errno, "unlink %s", name);
        return TRUE;
    }
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                    O_CLOEXEC);
    if (fd < 0)
        return farm_throw(error, errno, "open %s", name);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int errsv = errno;
        close(fd);
        return farm_throw(error, errsv, "fdopendir %s", name);
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            g_ptr_array_add(names, g_strdup(de->d_name));
    }
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < names->len; i++)
        ok = rm_rf_at(dirfd(d), names->pdata[i], error);
    closedir(d);
    if (ok && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
        return farm_throw(error, errno, "rmdir %s", name);
    return ok;
}

/* Entry i of the snapshot (and, for a directory, all beneath it: they
 * follow it in r->snap) made again in the farm, as copy_snapshot does. */
static gboolean
rebuild(CfiFarm *f, int tfd, int sfd, guint i, GError **error)
{
    CfiReplay *r = f->r;
    const CfiSnapEntry *top = &g_array_index(r->snap, CfiSnapEntry, i);
    gsize top_len = strlen(top->path);
    for (guint j = i; j < r->snap->len; j++) {
        const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, j);
        if (j > i && !(strncmp(e->path, top->path, top_len) == 0
                       && e->path[top_len] == '/'))
            break;
        int rc;
        if (e->type == CFI_INODE_DIR) {
            rc = mkdirat(tfd, e->path, 0700);
            if (rc == 0)
                rc = fchmodat(tfd, e->path,
                              f->is_root ? e->mode : e->mode | 0700, 0);
        } else if (e->type == CFI_INODE_SYMLINK) {
            rc = symlinkat(e->link_target, tfd, e->path);
        } else {
            rc = linkat(sfd, e->path, tfd, e->path, 0);
        }
        if (rc < 0)
            return farm_throw(error, errno, "farm %s: rebuild %s", f->path,
                              e->path);
        if (f->is_root && e->type != CFI_INODE_FILE)
            (void)fchownat(tfd, e->path, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
        if (e->type == CFI_INODE_DIR) {
            struct stat st;
            if (fstatat(tfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return farm_throw(error, errno, "farm %s: fstatat %s",
                                  f->path, e->path);
            FarmDir *d = g_hash_table_lookup(f->by_path, e->path);
            g_hash_table_remove(f->by_ino, GSIZE_TO_POINTER(key_of(d->ino)));
            d->ino = st.st_ino;
            g_hash_table_insert(f->by_ino, GSIZE_TO_POINTER(key_of(d->ino)),
                                d);
        }
    }
    return TRUE;
}

/* Is the entry `name` of dfd entry i of the farm? */
static gboolean
entry_is_farms(CfiFarm *f, int dfd, const char *name, guint i)
{
    const CfiSnapEntry *e = &g_array_index(f->r->snap, CfiSnapEntry, i);
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return FALSE;
    switch (e->type) {
    case CFI_INODE_FILE:
        return S_ISREG(st.st_mode) && st.st_ino == f->file_ino[i];
    case CFI_INODE_DIR: {
        FarmDir *d = g_hash_table_lookup(f->by_path, e->path);
        return S_ISDIR(st.st_mode) && st.st_ino == d->ino;
    }
    case CFI_INODE_SYMLINK: {
        if (!S_ISLNK(st.st_mode))
            return FALSE;
        if (f->is_root && (st.st_uid != e->uid || st.st_gid != e->gid))
            return FALSE;
        char buf[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, buf, sizeof buf - 1);
        if (n < 0)
            return FALSE;
        buf[n] = '\0';
        return strcmp(buf, e->link_target) == 0;
    }
    default:
        return TRUE;            /* never copied: nothing to compare */
    }
}

typedef struct {
    gboolean fix;
    guint diffs;
    char *first;                /* the first difference, described */
} Pass;

static void G_GNUC_PRINTF(2, 3)
note_diff(Pass *p, const char *fmt, ...)
{
    p->diffs++;
    if (p->first != NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    p->first = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* Bring (or, without fix, compare) directory d back to the snapshot's. */
static gboolean
reconcile(CfiFarm *f, int tfd, int sfd, FarmDir *d, Pass *p, GError **error)
{
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                   RESOLVE_NO_MAGICLINKS,
    };
    const char *rel = d->path[0] != '\0' ? d->path : ".";
    int dfd = syscall(SYS_openat2, tfd, rel, &how, sizeof how);
    struct stat st;
    if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_ino != d->ino) {
        if (dfd >= 0)
            close(dfd);
        if (p->fix)     /* its parent, shallower, should have rebuilt it */
            return farm_throw(error, ENOTRECOVERABLE,
                              "farm %s: directory '%s' is not the farm's "
                              "(a change the farm did not record)", f->path,
                              d->path);
        note_diff(p, "directory '%s' is not the farm's", d->path);
        return TRUE;
    }
    const CfiSnapEntry *self = d->snap >= 0
        ? &g_array_index(f->r->snap, CfiSnapEntry, d->snap) : NULL;
    guint32 mode = self != NULL ? (f->is_root ? self->mode : self->mode | 0700)
                                : f->root_mode;
    guint32 uid = self != NULL ? self->uid : f->root_uid;
    guint32 gid = self != NULL ? self->gid : f->root_gid;
    if ((st.st_mode & 07777) != mode) {
        note_diff(p, "mode of '%s' is %04o, not %04o", d->path,
                  st.st_mode & 07777, mode);
        if (p->fix && fchmod(dfd, mode) < 0) {
            int errsv = errno;
            close(dfd);
            return farm_throw(error, errsv, "farm %s: chmod %s", f->path,
                              d->path);
        }
    }
    if (f->is_root && (st.st_uid != uid || st.st_gid != gid)) {
        note_diff(p, "owner of '%s' is %u:%u, not %u:%u", d->path, st.st_uid,
                  st.st_gid, uid, gid);
        if (p->fix && fchown(dfd, uid, gid) < 0) {
            int errsv = errno;
            close(dfd);
            return farm_throw(error, errsv, "farm %s: chown %s", f->path,
                              d->path);
        }
    }

    /* Entries the snapshot does not have. */
    int lfd = dup(dfd);
    DIR *dir = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (dir == NULL) {
        int errsv = errno;
        if (lfd >= 0)
            close(lfd);
        close(dfd);
        return farm_throw(error, errsv, "farm %s: list %s", f->path, d->path);
    }
    g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (!g_hash_table_contains(d->children, de->d_name))
            g_ptr_array_add(extra, g_strdup(de->d_name));
    }
    closedir(dir);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < extra->len; i++) {
        note_diff(p, "'%s%s%s' is not in the snapshot", d->path,
                  d->path[0] != '\0' ? "/" : "", (char *)extra->pdata[i]);
        if (p->fix)
            ok = rm_rf_at(dfd, extra->pdata[i], error);
    }

    /* Entries that are not the farm's. */
    GHashTableIter it;
    gpointer name, v;
    g_hash_table_iter_init(&it, d->children);
    while (ok && g_hash_table_iter_next(&it, &name, &v)) {
        guint i = GPOINTER_TO_UINT(v) - 1;
        if (entry_is_farms(f, dfd, name, i))
            continue;
        const CfiSnapEntry *e = &g_array_index(f->r->snap, CfiSnapEntry, i);
        note_diff(p, "'%s' is not the snapshot's", e->path);
        if (p->fix)
            ok = rm_rf_at(dfd, name, error) && rebuild(f, tfd, sfd, i, error);
    }
    close(dfd);
    if (!ok)
        g_prefix_error(error, "farm %s: restore %s: ", f->path, d->path);
    return ok;
}

static gint
by_depth(gconstpointer a, gconstpointer b)
{
    const FarmDir *x = *(FarmDir *const *)a;
    const FarmDir *y = *(FarmDir *const *)b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return strcmp(x->path, y->path);
}

static gboolean
run_pass(CfiFarm *f, GPtrArray *dirs, Pass *p, GError **error)
{
    int tfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0)
        return farm_throw(error, errno, "farm %s: open", f->path);
    int sfd = open(f->r->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0) {
        int errsv = errno;
        close(tfd);
        return farm_throw(error, errsv, "farm %s: open snapshot %s", f->path,
                          f->r->snapshot_dir);
    }
    g_ptr_array_sort(dirs, by_depth);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < dirs->len; i++)
        ok = reconcile(f, tfd, sfd, dirs->pdata[i], p, error);
    close(sfd);
    close(tfd);
    return ok;
}

gboolean
cfi_farm_restore(CfiFarm *f, guint *out_dirs, GError **error)
{
    if (!f->ready) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "farm %s: not built", f->path);
        return FALSE;
    }
    farm_drop_held(f);
    g_autoptr(GPtrArray) dirs = g_ptr_array_new();
    GHashTableIter it;
    gpointer d;
    g_hash_table_iter_init(&it, f->dirty);
    while (g_hash_table_iter_next(&it, &d, NULL))
        g_ptr_array_add(dirs, d);
    g_hash_table_remove_all(f->dirty);
    g_hash_table_remove_all(f->entries);
    g_clear_pointer(&f->touched, g_hash_table_unref);
    if (out_dirs != NULL)
        *out_dirs = dirs->len;
    Pass p = { .fix = TRUE };
    gboolean ok = run_pass(f, dirs, &p, error);
    g_free(p.first);
    if (!ok)
        f->ready = FALSE;       /* not the farm any more: not reused */
    return ok;
}

/* Every dirty directory's path and its ancestors' ("" included). */
static GHashTable *
touched_paths(CfiFarm *f)
{
    if (f->touched != NULL)
        return f->touched;
    f->touched = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, f->dirty);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const FarmDir *d = k;
        g_autofree char *p = g_strdup(d->path);
        for (;;) {
            if (!g_hash_table_add(f->touched, g_strdup(p)))
                break;          /* its ancestors are in already */
            if (*p == '\0')
                break;
            char *slash = strrchr(p, '/');
            if (slash != NULL)
                *slash = '\0';
            else
                *p = '\0';
        }
    }
    return f->touched;
}

gboolean
cfi_farm_subtree_unchanged(CfiFarm *f, const char *rel, guint64 ino)
{
    if (f == NULL || !f->ready)
        return FALSE;
    const FarmDir *d = g_hash_table_lookup(f->by_path, rel);
    return d != NULL && d->ino == ino
           && !g_hash_table_contains(touched_paths(f), rel);
}

gboolean
cfi_farm_entry_unchanged(CfiFarm *f, const char *dir_rel, guint64 dir_ino,
                         const char *name)
{
    if (f == NULL || !f->ready)
        return FALSE;
    FarmDir *d = g_hash_table_lookup(f->by_path, dir_rel);
    if (d == NULL || d->ino != dir_ino)
        return FALSE;
    if (!g_hash_table_contains(f->dirty, d))
        return TRUE;
    g_autofree char *rel = *dir_rel == '\0'
                           ? g_strdup(name)
                           : g_strconcat(dir_rel, "/", name, NULL);
    return !g_hash_table_contains(f->entries, rel);
}

gboolean
cfi_farm_restore_checked(CfiFarm *f, GError **error)
{
    if (!cfi_farm_restore(f, NULL, error))
        return FALSE;
    if (!f->verify)
        return TRUE;
    guint diffs = 0;
    g_autofree char *first = NULL;
    if (!cfi_farm_verify(f, &diffs, &first, error))
        return FALSE;
    if (diffs > 0) {
        f->ready = FALSE;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "farm %s: %u difference(s) with the snapshot after the "
                    "restore, the first: %s", f->path, diffs, first);
        return FALSE;
    }
    return TRUE;
}

gboolean
cfi_farm_verify(CfiFarm *f, guint *out_diffs, char **out_first,
                GError **error)
{
    if (!f->ready) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "farm %s: not built", f->path);
        return FALSE;
    }
    g_autoptr(GPtrArray) dirs = g_ptr_array_new();
    for (guint i = 0; i < f->dirs->len; i++)
        g_ptr_array_add(dirs, f->dirs->pdata[i]);
    Pass p = { .fix = FALSE };
    gboolean ok = run_pass(f, dirs, &p, error);
    *out_diffs = p.diffs;
    if (out_first != NULL)
        *out_first = g_steal_pointer(&p.first);
    g_free(p.first);
    return ok;
}
