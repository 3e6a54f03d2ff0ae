/* SPDX-License-Identifier: MIT */
/*
 * replay-interp.c: interpret a trace once, against the logical namespace.
 *
 * The logical namespace is what the traced process saw, which is also what
 * a process kill leaves: it starts as the snapshot and every successful
 * record changes it.  Each record becomes zero or more operations (uops) on
 * inode ids, and every barrier record stamps the operations it makes
 * durable with its index (durable_at).  The models then only compare
 * durable_at with the cut, so that a state costs O(records), not a replay.
 *
 * Paths are resolved component by component in the logical namespace,
 * never following symlinks: a path through a symlink does not resolve and
 * its record is ignored with a warning, which also guarantees that no
 * operation's path can lead the materialiser out of its target.
 */
#include "replay-private.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "cfi-calls.h"

#define UMASK_GUESS 022u        /* the run's umask is not in the trace */

typedef struct FdBinding FdBinding;
struct FdBinding {
    guint32 inode;              /* 0 = outside orig_root or unknown */
    guint32 oflags;
    guint64 dev, ino;           /* the file's identity when bound; 0 unknown */
    FdBinding *prev;            /* the binding this number had before, while
                                   its close may still follow (fd_inode) */
};

static void
fd_binding_free(gpointer p)
{
    FdBinding *b = p;
    if (b != NULL) {
        fd_binding_free(b->prev);
        g_free(b);
    }
}

typedef struct {
    CfiReplay *r;
    guint32 i;                  /* current record index */
    const CfiRecord *cur;
    GHashTable *fds;            /* (pid << 32 | fd) -> FdBinding */
    GHashTable *devino;         /* "dev:ino" -> inode id */
    GPtrArray *pend_inode;      /* inode id -> GArray of uop indexes */
    GPtrArray *pend_dir;        /* dir inode id -> GArray of uop indexes */
    guint32 global_mark[CFI_FS_COUNT]; /* per filesystem: its uops before
                                          this are covered by a sync */
    guint64 root_dev;           /* st_dev of orig_root's files, 0 unknown */
} Interp;

static void G_GNUC_PRINTF(2, 3)
warn(Interp *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(it->r->warnings,
                    g_strdup_printf("record #%" G_GUINT64_FORMAT " (%s): %s",
                                    (guint64)it->cur->rec->seq,
                                    cfi_op_name(it->cur->rec->op), msg));
}

/* ---- paths --------------------------------------------------------- */

/* Canonical form of an absolute path: no "//", ".", ".." components (".."
 * is textual: symlinks are not consulted).  NULL when not absolute. */
static char *
normalise(const char *p)
{
    if (p == NULL || p[0] != '/')
        return NULL;
    g_auto(GStrv) parts = g_strsplit(p, "/", -1);
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    for (guint i = 0; parts[i] != NULL; i++) {
        if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0)
            continue;
        if (strcmp(parts[i], "..") == 0) {
            if (out->len > 0)
                g_ptr_array_remove_index(out, out->len - 1);
            continue;
        }
        g_ptr_array_add(out, parts[i]);
    }
    g_ptr_array_add(out, NULL);
    g_autofree char *joined = g_strjoinv("/", (char **)out->pdata);
    return g_strconcat("/", joined, NULL);
}

/* The path relative to orig_root ("" for the root itself), stored in the
 * replay's string chunk; NULL when it is outside. */
static const char *
relpath(Interp *it, const char *abs)
{
    g_autofree char *n = normalise(abs);
    if (n == NULL)
        return NULL;
    const char *root = it->r->orig_root;
    gsize rl = strlen(root);
    const char *rest;
    if (strcmp(root, "/") == 0)
        rest = n + 1;
    else if (strncmp(n, root, rl) == 0 && n[rl] == '\0')
        rest = "";
    else if (strncmp(n, root, rl) == 0 && n[rl] == '/')
        rest = n + rl + 1;
    else
        return NULL;
    return g_string_chunk_insert_const(it->r->strings, rest);
}

static guint32
lookup_child(CfiReplay *r, guint32 dir, const char *name)
{
    CfiInode *d = cfi_replay_inode(r, dir);
    if (d->type != CFI_INODE_DIR || d->children == NULL)
        return 0;
    return GPOINTER_TO_UINT(g_hash_table_lookup(d->children, name));
}

/* Inode named by rel in the logical namespace, 0 when none. */
static guint32
resolve(Interp *it, const char *rel)
{
    guint32 id = 1;
    if (rel == NULL)
        return 0;
    if (rel[0] == '\0')
        return id;
    g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
    for (guint i = 0; id != 0 && parts[i] != NULL; i++)
        id = lookup_child(it->r, id, parts[i]);
    return id;
}

/* Parent directory of rel and the last component (pointer into rel). */
static guint32
resolve_parent(Interp *it, const char *rel, const char **out_name)
{
    if (rel == NULL || rel[0] == '\0')
        return 0;
    const char *slash = strrchr(rel, '/');
    *out_name = slash != NULL ? slash + 1 : rel;
    g_autofree char *parent = slash != NULL ? g_strndup(rel, slash - rel)
                                            : g_strdup("");
    guint32 p = resolve(it, parent);
    if (p != 0 && cfi_replay_inode(it->r, p)->type != CFI_INODE_DIR)
        return 0;
    return p;
}

static void
ns_set(Interp *it, guint32 dir, const char *name, guint32 id)
{
    g_hash_table_replace(cfi_replay_inode(it->r, dir)->children,
                         g_strdup(name), GUINT_TO_POINTER(id));
}

static void
ns_remove(Interp *it, guint32 dir, const char *name)
{
    g_hash_table_remove(cfi_replay_inode(it->r, dir)->children, name);
}

/* ---- identities ---------------------------------------------------- */

/* A new inode, on the filesystem of rel (where it was created; for an
 * O_TMPFILE, its directory). */
static guint32
new_inode(Interp *it, CfiInodeType type, guint32 mode, const char *rel)
{
    CfiInode ino = { .type = type, .mode = mode & 07777 & ~UMASK_GUESS,
                     .fs = cfi_replay_path_fs(it->r, rel) };
    if (type == CFI_INODE_DIR)
        ino.children = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             NULL);
    g_array_append_val(it->r->inodes, ino);
    return it->r->inodes->len - 1;
}

/* Inode numbers are reused once a file dies, so the binding is replaced
 * whenever a record names a (dev, ino) anew. */
static void
bind_devino(Interp *it, guint64 dev, guint64 ino, guint32 id)
{
    if (dev == 0 && ino == 0)
        return;
    if (it->root_dev == 0 && id != 0)
        it->root_dev = dev;
    g_hash_table_replace(it->devino,
                         g_strdup_printf("%" G_GUINT64_FORMAT ":%"
                                         G_GUINT64_FORMAT, dev, ino),
                         GUINT_TO_POINTER(id));
}

static guint32
lookup_devino(Interp *it, guint64 dev, guint64 ino)
{
    if (dev == 0 && ino == 0)
        return 0;
    g_autofree char *key = g_strdup_printf("%" G_GUINT64_FORMAT ":%"
                                           G_GUINT64_FORMAT, dev, ino);
    return GPOINTER_TO_UINT(g_hash_table_lookup(it->devino, key));
}

static gint64 *
fd_key(guint32 pid, gint32 fd)
{
    gint64 *k = g_new(gint64, 1);
    *k = ((gint64)pid << 32) | (guint32)fd;
    return k;
}

/*
 * Bind fd to inode id, with the identity of the current record (the file
 * an OPEN made, or the one a call's path named).  opened: a new open of
 * the number, whose previous holder is kept (see fd_inode); else a
 * correction of a stale binding, which replaces it.
 */
static void
bind_fd(Interp *it, gint32 fd, guint32 id, guint32 oflags, gboolean opened)
{
    FdBinding *b = g_new0(FdBinding, 1);
    b->inode = id;
    /* An open swallowed by an interposer did not tell the kernel about
       O_SYNC/O_DSYNC (MODELS.md §3a). */
    if (opened && it->cur->rec->op == CFI_OP_OPEN &&
        cfi_rec_swallowed(it->cur->rec))
        oflags &= ~(guint32)(O_SYNC | O_DSYNC);
    b->oflags = oflags;
    b->dev = it->cur->rec->dev;
    b->ino = it->cur->rec->ino;
    gint64 *k = fd_key(it->cur->rec->pid, fd);
    gpointer key = NULL, old = NULL;
    if (opened && g_hash_table_steal_extended(it->fds, k, &key, &old)) {
        g_free(key);
        FdBinding *o = old;
        fd_binding_free(o->prev);   /* only the latest holder can race */
        o->prev = NULL;
        b->prev = o;
    }
    g_hash_table_replace(it->fds, k, b);
}

static gboolean
same_file(const FdBinding *b, guint64 dev, guint64 ino)
{
    return b != NULL && ino != 0 && b->ino == ino && b->dev == dev;
}

static FdBinding *
lookup_fd(Interp *it, gint32 fd)
{
    gint64 k = ((gint64)it->cur->rec->pid << 32) | (guint32)fd;
    return g_hash_table_lookup(it->fds, &k);
}

/*
 * The inode a call on fd acted on.  Threads race on descriptor numbers:
 * thread A enters close(5) after thread B entered the open that the
 * kernel then gives fd 5, so in seq order (taken on entry) B's open comes
 * first, and A's last calls on its own fd 5, and its close, come after
 * B's binding.  The (dev, ino) the shim read at each call tells them
 * apart: a call whose identity is that of the number's previous holder,
 * not its latest, was A's.  Only the previous holder of the same number
 * is considered: identities alone are not a key across time (an inode
 * freed by one close is reused by the next open, whose identity is read
 * when the open returns but ordered when it entered).
 */
static guint32
fd_inode(Interp *it, gint32 fd, guint64 dev, guint64 ino)
{
    FdBinding *b = lookup_fd(it, fd);
    if (b == NULL)
        return lookup_devino(it, dev, ino);
    if (!same_file(b, dev, ino) && same_file(b->prev, dev, ino))
        return b->prev->inode;
    return b->inode;
}

/* Inode behind a descriptor: the OPEN that made it, else its (dev, ino),
 * else the path the shim read from /proc/self/fd.  0 = outside or unknown
 * (unknown is also warned about). */
static guint32
resolve_fd(Interp *it, gint32 fd, guint64 dev, guint64 ino, gboolean use_path)
{
    const CfiRecord *r = it->cur;
    /*
     * The shim adds the path only when the fd no longer names the file it
     * last saw behind that number (a read-only open it did not record, a
     * dup2 over it): then any binding we hold for the number is stale and
     * the path is the truth.  Rebind so the records that follow without a
     * path resolve to the same inode.
     */
    if (use_path && (r->rec->flags & CFI_RF_PATH_FROM_FD) && r->path) {
        const char *rel = relpath(it, r->path);
        guint32 pid_id = rel != NULL ? resolve(it, rel) : 0;
        if (pid_id != 0) {
            bind_fd(it, fd, pid_id, 0, FALSE);
            bind_devino(it, dev, ino, pid_id);
            return pid_id;
        }
        /*
         * A path that names nothing ("dir/#123 (deleted)", an O_TMPFILE
         * not linked yet) says the file has no name, not that the binding
         * is stale: when the number's holder has the identity the shim
         * read, the call was made on it.  The shim sends such a path when
         * its own table of descriptors lost a race (a thread's close
         * cleared the slot after another's open had refilled it), and
         * dropping the call would drop an object's bytes.
         */
        FdBinding *b = lookup_fd(it, fd);
        if (rel != NULL && !same_file(b, dev, ino)
            && !same_file(b != NULL ? b->prev : NULL, dev, ino))
            return 0;
    }
    guint32 id = fd_inode(it, fd, dev, ino);
    if (id != 0 || lookup_fd(it, fd) != NULL)
        return id;
    warn(it, "fd %d of pid %u was never seen opened: ignored", fd,
         r->rec->pid);
    return 0;
}

/* The inode an "fd or path" record acts on. */
static guint32
resolve_target(Interp *it)
{
    const CfiRecord *r = it->cur;
    if (r->rec->fd >= 0)
        return resolve_fd(it, r->rec->fd, r->rec->dev, r->rec->ino, TRUE);
    const char *rel = relpath(it, r->path);
    if (rel == NULL)
        return 0;
    guint32 id = resolve(it, rel);
    if (id == 0)
        warn(it, "%s is not in the logical namespace: ignored", r->path);
    return id;
}

/* ---- operations and barriers --------------------------------------- */

static GArray *
pending(GPtrArray *lists, guint32 id)
{
    if (lists->len <= id)
        g_ptr_array_set_size(lists, id + 1);
    if (lists->pdata[id] == NULL)
        lists->pdata[id] = g_array_new(FALSE, FALSE, sizeof(guint32));
    return lists->pdata[id];
}

static CfiUop *
add_uop(Interp *it, CfiUopKind kind, CfiUopClass klass, guint32 inode,
        guint32 dir)
{
    CfiUop u = {
        .kind = kind,
        .klass = klass,
        .rec = it->i,
        .inode = inode,
        .dir = dir,
        .durable_at = CFI_NEVER,
        .flushed_at = CFI_NEVER,
        .off = -1,
    };
    u.fs = cfi_replay_inode(it->r, klass == CFI_CLASS_ENTRY ? dir : inode)->fs;
    guint32 idx = it->r->uops->len;
    g_array_append_val(it->r->uops, u);
    if (klass == CFI_CLASS_ENTRY)
        g_array_append_val(pending(it->pend_dir, dir), idx);
    else
        g_array_append_val(pending(it->pend_inode, inode), idx);
    return cfi_replay_uop(it->r, idx);
}

static void
mark_list(Interp *it, GArray *list, gboolean keep_attr)
{
    guint kept = 0;
    for (guint j = 0; list != NULL && j < list->len; j++) {
        guint32 idx = g_array_index(list, guint32, j);
        CfiUop *u = cfi_replay_uop(it->r, idx);
        if (u->durable_at != CFI_NEVER)
            continue;
        if (keep_attr && u->klass == CFI_CLASS_ATTR) {
            g_array_index(list, guint32, kept++) = idx;
            continue;
        }
        u->durable_at = it->i;
    }
    if (list != NULL)
        g_array_set_size(list, kept);
}

/* fsync (full) or fdatasync of inode id. */
static void
barrier_inode(Interp *it, guint32 id, gboolean full)
{
    if (id < it->pend_inode->len)
        mark_list(it, it->pend_inode->pdata[id], !full);
    if (cfi_replay_inode(it->r, id)->type == CFI_INODE_DIR &&
        id < it->pend_dir->len)
        mark_list(it, it->pend_dir->pdata[id], FALSE);
}

/* syncfs, sync, freeze: every earlier operation of the filesystems in
 * fs_mask (bit CFI_FS_*; MODELS.md §4b). */
static void
barrier_fs(Interp *it, guint fs_mask)
{
    for (guint fs = 0; fs < CFI_FS_COUNT; fs++) {
        if (!(fs_mask & (1u << fs)))
            continue;
        for (guint32 u = it->global_mark[fs]; u < it->r->uops->len; u++) {
            CfiUop *op = cfi_replay_uop(it->r, u);
            if (op->fs == fs && op->durable_at == CFI_NEVER)
                op->durable_at = it->i;
        }
        it->global_mark[fs] = it->r->uops->len;
    }
}

/*
 * auto_da_alloc (MODELS.md §4b): a replacement of inode id (a rename over
 * an existing name, a close after a truncate to 0) forces its delayed
 * data out: every data op on it not yet durable is flushed at this record.
 */
static void
flush_da(Interp *it, guint32 id)
{
    if (it->r->opts.noauto_da_alloc || id >= it->pend_inode->len)
        return;
    GArray *list = it->pend_inode->pdata[id];
    for (guint j = 0; list != NULL && j < list->len; j++) {
        CfiUop *u = cfi_replay_uop(it->r, g_array_index(list, guint32, j));
        if (u->klass == CFI_CLASS_DATA && u->durable_at == CFI_NEVER &&
            u->flushed_at == CFI_NEVER)
            u->flushed_at = it->i;
    }
}

/* A truncate to 0 of a regular file: ext4 flushes it at its next close. */
static void
note_truncate(Interp *it, guint32 id, guint64 len)
{
    CfiInode *ino = cfi_replay_inode(it->r, id);
    if (len == 0 && ino->type == CFI_INODE_FILE)
        ino->da_alloc_close = TRUE;
}

/* ---- records ------------------------------------------------------- */

static void
do_open(Interp *it)
{
    const struct cfi_rec *rec = it->cur->rec;
    gint32 fd = (gint32)rec->result;
    const char *rel = relpath(it, it->cur->path);

    if (rel == NULL) {
        bind_fd(it, fd, 0, rec->arg, TRUE);
        return;
    }
    if (rec->flags & CFI_RF_TMPFILE) {
        guint32 id = new_inode(it, CFI_INODE_FILE, rec->arg2, rel);
        bind_devino(it, rec->dev, rec->ino, id);
        bind_fd(it, fd, id, rec->arg, TRUE);
        return;
    }
    guint32 id = resolve(it, rel);
    if (id == 0 && (rec->arg & O_CREAT)) {
        const char *name = NULL;
        guint32 dir = resolve_parent(it, rel, &name);
        if (dir == 0) {
            warn(it, "parent of %s is not in the logical namespace", rel);
        } else {
            id = new_inode(it, CFI_INODE_FILE, rec->arg2, rel);
            ns_set(it, dir, name, id);
            add_uop(it, CFI_UOP_CREATE, CFI_CLASS_ENTRY, id, dir)->path = rel;
        }
    } else if (id == 0) {
        id = lookup_devino(it, rec->dev, rec->ino);
        if (id == 0)
            warn(it, "%s is not in the logical namespace", rel);
    } else if ((rec->arg & O_TRUNC) && (rec->arg & O_ACCMODE) != O_RDONLY &&
               cfi_replay_inode(it->r, id)->type == CFI_INODE_FILE) {
        add_uop(it, CFI_UOP_TRUNCATE, CFI_CLASS_SIZE, id, 0)->len = 0;
        note_truncate(it, id, 0);
    }
    if (id != 0)
        bind_devino(it, rec->dev, rec->ino, id);
    bind_fd(it, fd, id, rec->arg, TRUE);
}

static void
do_write(Interp *it, guint32 id)
{
    const CfiRecord *r = it->cur;
    if (id == 0 || cfi_replay_inode(it->r, id)->type != CFI_INODE_FILE ||
        r->rec->result <= 0)
        return;
    CfiUop *u = add_uop(it, CFI_UOP_WRITE, CFI_CLASS_DATA, id, 0);
    u->off = r->rec->off;
    u->len = r->rec->result;
    u->data = r->data;
    u->data_len = r->data_len;
    if (r->data_len < u->len || u->off < 0 ||
        (r->rec->flags & CFI_RF_DATA_TRUNC))
        u->data_missing = TRUE;
    FdBinding *b = lookup_fd(it, r->rec->fd);
    /* O_SYNC includes O_DSYNC; a swallowed write is no barrier (§3a). */
    if (b != NULL && (b->oflags & O_DSYNC) && !cfi_rec_swallowed(r->rec))
        u->durable_at = it->i;
}

static void
do_rename(Interp *it)
{
    const CfiRecord *r = it->cur;
    const char *from = relpath(it, r->path), *to = relpath(it, r->path2);
    const char *from_name = NULL, *to_name = NULL;

    if (from == NULL && to == NULL)
        return;
    guint32 to_dir = resolve_parent(it, to, &to_name);
    if (from == NULL) {
        warn(it, "%s renamed in from outside the tree: content unknown",
             r->path2);
        if (to_dir != 0)
            ns_remove(it, to_dir, to_name);
        return;
    }
    guint32 from_dir = resolve_parent(it, from, &from_name);
    guint32 id = resolve(it, from);
    if (id == 0 || from_dir == 0) {
        warn(it, "%s is not in the logical namespace", from);
        return;
    }
    if (to == NULL) {
        /* Leaving the tree is, for the tree, an unlink. */
        ns_remove(it, from_dir, from_name);
        CfiUop *u = add_uop(it, CFI_UOP_UNLINK, CFI_CLASS_ENTRY, id, from_dir);
        u->path = from;
        return;
    }
    if (to_dir == 0) {
        warn(it, "parent of %s is not in the logical namespace", to);
        return;
    }
    guint32 victim = resolve(it, to);
    if (victim != 0 && victim != id && !(r->rec->arg & RENAME_EXCHANGE) &&
        cfi_replay_inode(it->r, id)->type == CFI_INODE_FILE)
        flush_da(it, id);       /* replace by rename (MODELS.md §4b) */
    if (r->rec->arg & RENAME_EXCHANGE) {
        ns_set(it, from_dir, from_name, victim);
    } else {
        ns_remove(it, from_dir, from_name);
    }
    ns_set(it, to_dir, to_name, id);
    if (cfi_replay_inode(it->r, id)->type == CFI_INODE_DIR) {
        /* Entries below keep their stale dir_path: attribute ops on a
         * directory come right after its creation in practice. */
        cfi_replay_inode(it->r, id)->dir_path = to;
    }
    CfiUop *u = add_uop(it, CFI_UOP_RENAME, CFI_CLASS_ENTRY, id, to_dir);
    u->path = from;
    u->path2 = to;
    u->flags = r->rec->arg;
}

static void
do_link(Interp *it)
{
    const CfiRecord *r = it->cur;
    const char *to = relpath(it, r->path2), *to_name = NULL;
    const char *from = NULL;
    guint32 id;

    if (to == NULL)
        return;
    if (r->rec->flags & CFI_RF_FROM_FD) {
        id = resolve_fd(it, r->rec->fd2, r->rec->dev2, r->rec->ino2, FALSE);
    } else {
        from = relpath(it, r->path);
        id = resolve(it, from);
    }
    guint32 dir = resolve_parent(it, to, &to_name);
    if (id == 0 || dir == 0) {
        warn(it, "link to %s: source or parent not in the logical namespace",
             to);
        return;
    }
    ns_set(it, dir, to_name, id);
    CfiUop *u = add_uop(it, CFI_UOP_LINK, CFI_CLASS_ENTRY, id, dir);
    u->path = from;
    u->path2 = to;
}

/* mkdir, symlink: a new named inode. */
static void
do_make(Interp *it, CfiUopKind kind, const char *abs)
{
    const CfiRecord *r = it->cur;
    const char *rel = relpath(it, abs), *name = NULL;
    if (rel == NULL)
        return;
    guint32 dir = resolve_parent(it, rel, &name);
    if (dir == 0) {
        warn(it, "parent of %s is not in the logical namespace", rel);
        return;
    }
    gboolean is_dir = kind == CFI_UOP_MKDIR;
    guint32 id = new_inode(it, is_dir ? CFI_INODE_DIR : CFI_INODE_SYMLINK,
                           is_dir ? r->rec->arg2 : 0777, rel);
    bind_devino(it, r->rec->dev, r->rec->ino, id);
    ns_set(it, dir, name, id);
    CfiUop *u = add_uop(it, kind, CFI_CLASS_ENTRY, id, dir);
    if (is_dir) {
        u->path = rel;
        u->len = cfi_replay_inode(it->r, id)->mode;
        cfi_replay_inode(it->r, id)->dir_path = rel;
    } else {
        u->path = g_string_chunk_insert_const(it->r->strings, r->path);
        u->path2 = rel;
    }
}

static void
do_remove(Interp *it)
{
    const CfiRecord *r = it->cur;
    const char *rel = relpath(it, r->path), *name = NULL;
    if (rel == NULL)
        return;
    guint32 dir = resolve_parent(it, rel, &name);
    guint32 id = resolve(it, rel);
    if (id == 0 || dir == 0) {
        warn(it, "%s is not in the logical namespace", rel);
        return;
    }
    /* unlinkat(AT_REMOVEDIR) may come as an UNLINK record. */
    gboolean is_dir = cfi_replay_inode(it->r, id)->type == CFI_INODE_DIR;
    ns_remove(it, dir, name);
    add_uop(it, is_dir ? CFI_UOP_RMDIR : CFI_UOP_UNLINK, CFI_CLASS_ENTRY, id,
            dir)->path = rel;
}

static void
do_inode_op(Interp *it, CfiUopKind kind, CfiUopClass klass)
{
    const CfiRecord *r = it->cur;
    guint32 id = resolve_target(it);
    if (id == 0)
        return;
    if (kind == CFI_UOP_UTIMES && r->data_len < 2 * sizeof(struct timespec))
        return; /* "now": not reproducible, see MODELS.md */
    CfiUop *u = add_uop(it, kind, klass, id, 0);
    if (cfi_replay_inode(it->r, id)->type == CFI_INODE_DIR) {
        u->path = cfi_replay_inode(it->r, id)->dir_path;
    }
    u->off = r->rec->off;
    u->len = r->rec->arg2;
    u->flags = r->rec->arg;
    u->data = r->data;
    u->data_len = r->data_len;
    if (kind == CFI_UOP_FALLOCATE)
        u->len = r->rec->len;
    if (kind == CFI_UOP_TRUNCATE)
        note_truncate(it, id, u->len);
    if (kind == CFI_UOP_SETXATTR)
        u->path2 = r->path2;
}

/*
 * The filesystem a syncfs or freeze acts on (MODELS.md §4b): its path when
 * the record has one in the tree, else the inode bound to its descriptor,
 * else the root's when its dev is the tree's; -1 for another filesystem.
 * With one filesystem only the dev can tell (§3).
 */
static gint
barrier_target_fs(Interp *it)
{
    const struct cfi_rec *rec = it->cur->rec;
    if (it->r->opts.separate_boot) {
        const char *rel = it->cur->path != NULL ? relpath(it, it->cur->path)
                                                : NULL;
        if (rel != NULL)
            return cfi_replay_path_fs(it->r, rel);
        guint32 id = rec->fd >= 0 ? fd_inode(it, rec->fd, rec->dev, rec->ino)
                                  : 0;
        if (id != 0)
            return cfi_replay_inode(it->r, id)->fs;
    }
    if (rec->dev != 0 && it->root_dev != 0 && rec->dev != it->root_dev)
        return -1;
    return CFI_FS_ROOT;
}

static void
do_sync_fs(Interp *it)
{
    const struct cfi_rec *rec = it->cur->rec;
    guint mask = (1u << CFI_FS_COUNT) - 1;  /* sync: every filesystem */
    if (rec->op != CFI_OP_SYNC) {
        gint fs = barrier_target_fs(it);
        if (fs < 0)
            return; /* another filesystem */
        mask = 1u << fs;
    }
    barrier_fs(it, mask);
    /* A checkpoint of each filesystem it covers (MODELS.md §4a): a freeze
       always; syncfs and sync on ext4, whose sync_filesystem() writes the
       block device's dirty buffers (the committed metadata) home after
       the journal commit; not on XFS (syncfs_log_only). */
    if (rec->op == CFI_OP_FREEZE || !it->r->opts.syncfs_log_only) {
        guint32 i = it->i;
        for (guint8 fs = 0; fs < CFI_FS_COUNT; fs++) {
            if (mask & (1u << fs)) {
                g_array_append_val(it->r->checkpoints, i);
                g_array_append_val(it->r->checkpoint_fs, fs);
            }
        }
    }
}

/* What record i would write, for `torn`; resolved before it takes effect. */
static void
note_inflight(Interp *it)
{
    const struct cfi_rec *rec = it->cur->rec;
    if (rec->op != CFI_OP_WRITE && rec->op != CFI_OP_COPY)
        return;
    if (rec->off < 0 || it->cur->data_len == 0 || rec->fd < 0)
        return;
    guint32 id = fd_inode(it, rec->fd, rec->dev, rec->ino);
    if (id == 0 || cfi_replay_inode(it->r, id)->type != CFI_INODE_FILE)
        return;
    CfiInflight *f = &it->r->inflight[it->i];
    f->inode = id;
    f->off = rec->off;
    f->data = it->cur->data;
    f->len = MIN(it->cur->data_len, rec->len != 0 ? rec->len : G_MAXUINT32);
}

static void
interpret_record(Interp *it)
{
    const struct cfi_rec *rec = it->cur->rec;
    note_inflight(it);
    if ((rec->flags & CFI_RF_NOT_EXECUTED) || rec->result == -1)
        return;
    switch (rec->op) {
    case CFI_OP_OPEN:
        do_open(it);
        break;
    case CFI_OP_CLOSE: {
        /* The previous holder's close, raced past the number's new open
           (see fd_inode), ends that holder only. */
        FdBinding *b = rec->fd >= 0 ? lookup_fd(it, rec->fd) : NULL;
        guint32 closed = b == NULL ? 0
            : !same_file(b, rec->dev, rec->ino)
                && same_file(b->prev, rec->dev, rec->ino) ? b->prev->inode
            : b->inode;
        if (closed != 0 && cfi_replay_inode(it->r, closed)->da_alloc_close) {
            /* replace by truncate (MODELS.md §4b) */
            flush_da(it, closed);
            cfi_replay_inode(it->r, closed)->da_alloc_close = FALSE;
        }
        if (b != NULL && !same_file(b, rec->dev, rec->ino)
            && same_file(b->prev, rec->dev, rec->ino)) {
            g_clear_pointer(&b->prev, fd_binding_free);
        } else if (b != NULL) {
            gint64 k = ((gint64)rec->pid << 32) | (guint32)rec->fd;
            g_hash_table_remove(it->fds, &k);
        }
        break;
    }
    case CFI_OP_WRITE:
    case CFI_OP_COPY:
        do_write(it, resolve_fd(it, rec->fd, rec->dev, rec->ino, TRUE));
        break;
    case CFI_OP_TRUNCATE:
        do_inode_op(it, CFI_UOP_TRUNCATE, CFI_CLASS_SIZE);
        break;
    case CFI_OP_FALLOCATE:
        do_inode_op(it, CFI_UOP_FALLOCATE, CFI_CLASS_SIZE);
        break;
    case CFI_OP_FSYNC:
    case CFI_OP_FDATASYNC: {
        if (cfi_rec_swallowed(rec))
            break; /* went to an interposer: no barrier (MODELS.md §3a) */
        guint32 id = resolve_fd(it, rec->fd, rec->dev, rec->ino, TRUE);
        if (id != 0)
            barrier_inode(it, id, rec->op == CFI_OP_FSYNC);
        break;
    }
    case CFI_OP_SYNCFS:
    case CFI_OP_SYNC:
    case CFI_OP_FREEZE:
        if (!cfi_rec_swallowed(rec))
            do_sync_fs(it);
        break;
    case CFI_OP_RENAME:
        do_rename(it);
        break;
    case CFI_OP_LINK:
        do_link(it);
        break;
    case CFI_OP_SYMLINK:
        do_make(it, CFI_UOP_SYMLINK, it->cur->path2);
        break;
    case CFI_OP_MKDIR:
        do_make(it, CFI_UOP_MKDIR, it->cur->path);
        break;
    case CFI_OP_UNLINK:
    case CFI_OP_RMDIR:
        do_remove(it);
        break;
    case CFI_OP_CHMOD:
        do_inode_op(it, CFI_UOP_CHMOD, CFI_CLASS_ATTR);
        break;
    case CFI_OP_CHOWN:
        do_inode_op(it, CFI_UOP_CHOWN, CFI_CLASS_ATTR);
        break;
    case CFI_OP_SETXATTR:
        do_inode_op(it, CFI_UOP_SETXATTR, CFI_CLASS_ATTR);
        break;
    case CFI_OP_UTIMES:
        do_inode_op(it, CFI_UOP_UTIMES, CFI_CLASS_ATTR);
        break;
    case CFI_OP_CLONE: {
        guint32 dst = resolve_fd(it, rec->fd, rec->dev, rec->ino, TRUE);
        guint32 src = resolve_fd(it, rec->fd2, rec->dev2, rec->ino2, FALSE);
        if (dst != 0 && src != 0)
            add_uop(it, CFI_UOP_CLONE, CFI_CLASS_DATA, dst, 0)->inode2 = src;
        break;
    }
    default:
        /* sync_file_range, msync, thaw, setflags: see MODELS.md §2. */
        break;
    }
}

static void
free_array(gpointer p)
{
    if (p != NULL)
        g_array_unref(p);
}

gboolean
cfi_replay_interpret(CfiReplay *r, GError **error)
{
    Interp it = {
        .r = r,
        .fds = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                     fd_binding_free),
        .devino = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        NULL),
        .pend_inode = g_ptr_array_new_with_free_func(free_array),
        .pend_dir = g_ptr_array_new_with_free_func(free_array),
    };
    r->rec_uop_start = g_new0(guint32, r->n_records + 1);
    r->inflight = g_new0(CfiInflight, MAX(r->n_records, 1));
    for (it.i = 0; it.i < r->n_records; it.i++) {
        r->rec_uop_start[it.i] = r->uops->len;
        it.cur = cfi_trace_get(r->trace, it.i);
        interpret_record(&it);
    }
    r->rec_uop_start[r->n_records] = r->uops->len;
    g_hash_table_unref(it.fds);
    g_hash_table_unref(it.devino);
    g_ptr_array_unref(it.pend_inode);
    g_ptr_array_unref(it.pend_dir);
    return TRUE;
}

CfiReplay *
cfi_replay_new(CfiTrace *trace, const char *orig_root,
               const char *snapshot_dir, GError **error)
{
    return cfi_replay_new_opts(trace, orig_root, snapshot_dir, NULL, error);
}

CfiReplay *
cfi_replay_new_opts(CfiTrace *trace, const char *orig_root,
                    const char *snapshot_dir, const CfiModelOpts *opts,
                    GError **error)
{
    g_autoptr(CfiReplay) r = g_new0(CfiReplay, 1);
    r->trace = trace;
    if (opts != NULL)
        r->opts = *opts;
    r->snapshot_dir = g_strdup(snapshot_dir);
    r->n_records = cfi_trace_n_records(trace);
    r->inodes = g_array_new(FALSE, TRUE, sizeof(CfiInode));
    r->snap = g_array_new(FALSE, TRUE, sizeof(CfiSnapEntry));
    r->uops = g_array_new(FALSE, TRUE, sizeof(CfiUop));
    r->strings = g_string_chunk_new(16384);
    r->warnings = g_ptr_array_new_with_free_func(g_free);
    r->checkpoints = g_array_new(FALSE, FALSE, sizeof(guint32));
    r->checkpoint_fs = g_array_new(FALSE, FALSE, sizeof(guint8));
    r->orig_root = normalise(orig_root);
    if (r->orig_root == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "replay %s: orig_root '%s' is not an absolute path",
                    cfi_trace_get_path(trace), orig_root);
        return NULL;
    }
    if (!cfi_replay_scan_snapshot(r, error))
        return NULL;
    for (guint i = 0; i < r->snap->len; i++) {
        const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, i);
        cfi_replay_inode(r, e->inode)->fs = cfi_replay_path_fs(r, e->path);
    }
    if (!cfi_replay_interpret(r, error))
        return NULL;
    return g_steal_pointer(&r);
}

void
cfi_replay_free(CfiReplay *r)
{
    if (r == NULL)
        return;
    for (guint i = 0; i < r->inodes->len; i++) {
        CfiInode *ino = cfi_replay_inode(r, i);
        if (ino->children != NULL)
            g_hash_table_unref(ino->children);
        if (ino->snap_names != NULL)
            g_ptr_array_unref(ino->snap_names);
    }
    g_array_unref(r->inodes);
    g_array_unref(r->snap);
    g_array_unref(r->uops);
    g_string_chunk_free(r->strings);
    g_ptr_array_unref(r->warnings);
    g_array_unref(r->checkpoints);
    g_array_unref(r->checkpoint_fs);
    g_free(r->rec_uop_start);
    g_free(r->inflight);
    g_free(r->orig_root);
    g_free(r->snapshot_dir);
    g_free(r);
}

guint
cfi_replay_n_records(CfiReplay *r)
{
    return r->n_records;
}

guint
cfi_replay_n_ops(CfiReplay *r)
{
    return r->uops->len;
}

GPtrArray *
cfi_replay_get_warnings(CfiReplay *r)
{
    return r->warnings;
}

const CfiModelOpts *
cfi_replay_get_opts(CfiReplay *r)
{
    return &r->opts;
}

gint64
cfi_replay_last_checkpoint_fs(CfiReplay *r, guint fs, guint k)
{
    gint64 c = -1;
    for (guint i = 0; i < r->checkpoints->len; i++) {
        guint32 rec = g_array_index(r->checkpoints, guint32, i);
        if (rec >= k)
            break;
        if (g_array_index(r->checkpoint_fs, guint8, i) == fs)
            c = rec;
    }
    return c;
}

gint64
cfi_replay_last_checkpoint(CfiReplay *r, guint k)
{
    return cfi_replay_last_checkpoint_fs(r, cfi_replay_boot_fs(r), k);
}
