/* SPDX-License-Identifier: MIT */
/*
 * replay-apply.c: write one crash state to disk (MODELS.md §5).
 *
 * The target starts as a hardlink farm of the snapshot, so a state costs
 * one link per file rather than a copy.  The price is that no snapshot
 * inode may ever be written through a target name: every file a kept
 * operation changes is first "unshared" (copied to a fresh inode that
 * replaces all of its names), and every file the state creates or changes
 * lives under STAGING/<inode id> while the state is built, from where
 * naming operations link it into place.
 *
 * Paths of operations are resolved under the target with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: in a reordered state a name can
 * be a symlink where the run had a directory, and following it could
 * write outside the target.
 */
#include "replay-private.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gio/gio.h>

typedef enum { APPLIED, SKIPPED, FAILED } Outcome;

typedef struct {
    CfiReplay *r;
    const char *target;
    int tfd;                    /* target_dir */
    int sfd;                    /* target_dir/STAGING */
    guint8 *staged;             /* per inode: lives in STAGING */
    guint32 *mode;              /* per inode: final mode when staged */
    guint64 *owner;             /* per inode: uid << 32 | gid, or ~0 */
    guint64 *ino;               /* per inode: st_ino of the staged copy */
    guint32 cache_id;           /* inode whose fd is cached */
    int cache_fd;
    gboolean is_root;
    const CfiBootScope *scope;  /* boot/ only (MODELS.md §5), or NULL */
    CfiFarm *farm;              /* a tree kept between states, or NULL:
                                   what the state changes is marked in it
                                   (replay-farm.c) */
} Mat;

static gboolean G_GNUC_PRINTF(3, 4)
throw_errno(GError **error, int errsv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s",
                msg, g_strerror(errsv));
    return FALSE;
}

/* Failures that mean "the precondition does not hold in this state". */
static gboolean
is_precondition(int err)
{
    return err == ENOENT || err == EEXIST || err == ENOTEMPTY ||
           err == ENOTDIR || err == EISDIR || err == ELOOP || err == EXDEV ||
           err == EINVAL || err == EBUSY;
}

static void
staged_name(guint32 id, char buf[16])
{
    g_snprintf(buf, 16, "%u", id);
}

/* ---- copying ------------------------------------------------------- */

static gboolean
copy_fd(int src, int dst, const char *what, GError **error)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(src, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return throw_errno(error, errno, "copy %s: read", what);
        if (n == 0)
            return TRUE;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(dst, buf + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return throw_errno(error, errno, "copy %s: write", what);
            done += w;
        }
    }
}

static gboolean
copy_snapshot_file(Mat *m, const CfiSnapEntry *e, GError **error)
{
    int src = openat(AT_FDCWD, m->r->snapshot_dir, O_RDONLY | O_DIRECTORY);
    if (src < 0)
        return throw_errno(error, errno, "open %s", m->r->snapshot_dir);
    int in = openat(src, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    close(src);
    if (in < 0)
        return throw_errno(error, errno, "copy snapshot %s: open", e->path);
    int out = openat(m->tfd, e->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                     e->mode);
    gboolean ok = out >= 0 ? copy_fd(in, out, e->path, error)
                           : throw_errno(error, errno, "copy %s: create",
                                         e->path);
    if (out >= 0) {
        (void)fchmod(out, e->mode);
        if (m->is_root)
            (void)fchown(out, e->uid, e->gid);
        close(out);
    }
    close(in);
    return ok;
}

/* The target becomes the snapshot: directories and symlinks are created,
 * files hardlinked (copied if linking is refused). */
static gboolean
copy_snapshot(Mat *m, GError **error)
{
    int sfd = open(m->r->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        return throw_errno(error, errno, "open snapshot %s",
                           m->r->snapshot_dir);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < m->r->snap->len; i++) {
        const CfiSnapEntry *e = &g_array_index(m->r->snap, CfiSnapEntry, i);
        int rc = 0;
        if (m->scope != NULL && !m->scope->snap[i])
            continue;
        if (e->type == CFI_INODE_DIR) {
            rc = mkdirat(m->tfd, e->path, 0700);
            if (rc == 0)
                rc = fchmodat(m->tfd, e->path,
                              m->is_root ? e->mode : e->mode | 0700, 0);
        } else if (e->type == CFI_INODE_SYMLINK) {
            rc = symlinkat(e->link_target, m->tfd, e->path);
        } else {
            rc = linkat(sfd, e->path, m->tfd, e->path, 0);
            if (rc < 0 && (errno == EXDEV || errno == EPERM ||
                           errno == EMLINK)) {
                ok = copy_snapshot_file(m, e, error);
                continue;
            }
        }
        if (rc < 0) {
            ok = throw_errno(error, errno, "copy snapshot entry %s into %s",
                             e->path, m->target);
            break;
        }
        if (m->is_root && e->type != CFI_INODE_FILE)
            (void)fchownat(m->tfd, e->path, e->uid, e->gid,
                           AT_SYMLINK_NOFOLLOW);
    }
    close(sfd);
    return ok;
}

/* ---- staging ------------------------------------------------------- */

static gboolean
note_staged(Mat *m, guint32 id, int fd, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return throw_errno(error, errno, "fstat staged inode %u", id);
    m->staged[id] = TRUE;
    m->ino[id] = st.st_ino;
    return TRUE;
}

/* A fresh inode of the run enters staging empty. */
static gboolean
stage_new(Mat *m, guint32 id, GError **error)
{
    char name[16];
    staged_name(id, name);
    int fd = openat(m->sfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return throw_errno(error, errno, "create staged inode %s/%s/%s",
                           m->target, CFI_STAGING_DIR, name);
    gboolean ok = note_staged(m, id, fd, error);
    close(fd);
    m->mode[id] = cfi_replay_inode(m->r, id)->mode;
    return ok;
}

/* A snapshot file about to change: copy it to staging and point each of
 * its names at the copy, so the snapshot's inode is never written. */
static gboolean
unshare_file(Mat *m, guint32 id, GError **error)
{
    CfiInode *ino = cfi_replay_inode(m->r, id);
    char name[16];
    staged_name(id, name);
    g_autofree char *src = g_build_filename(m->r->snapshot_dir,
                                            ino->snap_names->pdata[0], NULL);
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return throw_errno(error, errno, "unshare %s: open", src);
    int out = openat(m->sfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                     0600);
    if (out < 0) {
        close(in);
        return throw_errno(error, errno, "unshare %s: create staged copy",
                           src);
    }
    gboolean ok = copy_fd(in, out, src, error) &&
                  note_staged(m, id, out, error);
    close(in);
    close(out);
    m->mode[id] = ino->mode;
    m->owner[id] = (guint64)ino->uid << 32 | ino->gid;
    for (guint i = 0; ok && i < ino->snap_names->len; i++) {
        const char *n = ino->snap_names->pdata[i];
        if (m->scope != NULL && !cfi_boot_scope_has_path(m->scope, n))
            continue;
        cfi_farm_mark_parent_of(m->farm, n);
        if (unlinkat(m->tfd, n, 0) < 0 ||
            linkat(m->sfd, name, m->tfd, n, 0) < 0)
            ok = throw_errno(error, errno, "unshare %s: relink %s", src, n);
    }
    return ok;
}

/* Make sure inode id (a regular file) lives in staging.  A snapshot file
 * that was not unshared cannot be staged here: its names may have moved. */
static Outcome
ensure_staged(Mat *m, guint32 id, GError **error)
{
    CfiInode *ino = cfi_replay_inode(m->r, id);
    if (m->staged[id])
        return APPLIED;
    if (ino->type != CFI_INODE_FILE || ino->from_snapshot)
        return SKIPPED;
    return stage_new(m, id, error) ? APPLIED : FAILED;
}

/* A read-write fd on staged inode id (cached: writes come in runs), or -1
 * with *out saying whether that is a skip or a failure. */
static int
staged_fd(Mat *m, guint32 id, Outcome *out, GError **error)
{
    *out = APPLIED;
    if (m->cache_id == id)
        return m->cache_fd;
    if (m->cache_fd >= 0)
        close(m->cache_fd);
    m->cache_fd = -1;
    m->cache_id = 0;
    *out = ensure_staged(m, id, error);
    if (*out != APPLIED)
        return -1;
    char name[16];
    staged_name(id, name);
    int fd = openat(m->sfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        *out = FAILED;
        throw_errno(error, errno, "open staged inode %u", id);
        return -1;
    }
    m->cache_id = id;
    m->cache_fd = fd;
    return fd;
}

/* ---- paths in the target ------------------------------------------- */

/* Directory holding rel, opened beneath the target without following any
 * symlink; -1 with errno set when it does not exist in this state. */
static int
open_parent(Mat *m, const char *rel, const char **out_name)
{
    const char *slash = strrchr(rel, '/');
    *out_name = slash != NULL ? slash + 1 : rel;
    g_autofree char *parent = slash != NULL ? g_strndup(rel, slash - rel)
                                            : g_strdup(".");
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                   RESOLVE_NO_MAGICLINKS,
    };
    return syscall(SYS_openat2, m->tfd, parent, &how, sizeof how);
}

/* Does rel name inode id in this state?  Only staged files can be checked
 * by identity; anything else is taken to be the inode if it exists. */
static gboolean
names_inode(Mat *m, int pfd, const char *name, guint32 id)
{
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return FALSE;
    if (m->staged[id])
        return st.st_ino == m->ino[id];
    switch (cfi_replay_inode(m->r, id)->type) {
    case CFI_INODE_DIR:
        return S_ISDIR(st.st_mode);
    case CFI_INODE_SYMLINK:
        return S_ISLNK(st.st_mode);
    default:
        return S_ISREG(st.st_mode);
    }
}

static Outcome
result_of(int rc, int errsv, GError **error, const char *what,
          const char *path)
{
    if (rc == 0)
        return APPLIED;
    if (is_precondition(errsv))
        return SKIPPED;
    throw_errno(error, errsv, "%s %s", what, path);
    return FAILED;
}

/* Link the staged inode id at rel (replacing unless noreplace). */
static Outcome
publish(Mat *m, guint32 id, int pfd, const char *name, gboolean noreplace,
        GError **error)
{
    char sname[16], tmp[24];
    Outcome o = ensure_staged(m, id, error);
    if (o != APPLIED)
        return o;
    staged_name(id, sname);
    if (noreplace) {
        int rc = linkat(m->sfd, sname, pfd, name, 0);
        return result_of(rc, errno, error, "link", name);
    }
    g_snprintf(tmp, sizeof tmp, "%u.publish", id);
    if (linkat(m->sfd, sname, m->sfd, tmp, 0) < 0)
        return result_of(-1, errno, error, "link staged", tmp);
    int rc = renameat(m->sfd, tmp, pfd, name);
    int errsv = errno;
    if (rc < 0)
        (void)unlinkat(m->sfd, tmp, 0);
    return result_of(rc, errsv, error, "rename", name);
}

/* ---- operations ---------------------------------------------------- */

static Outcome
apply_entry(Mat *m, const CfiUop *u, GError **error)
{
    const char *name = NULL, *name2 = NULL;
    const char *rel = u->kind == CFI_UOP_SYMLINK ? u->path2 : u->path;
    int pfd = -1, pfd2 = -1, rc = -1, errsv = 0;
    Outcome o = SKIPPED;

    if (rel != NULL) {
        pfd = open_parent(m, rel, &name);
        if (pfd < 0)
            return result_of(-1, errno, error, "open parent of", rel);
        /* A link leaves its source's entry as it was (the inode gains a
           name elsewhere): only the new name's directory changes. */
        if (u->kind != CFI_UOP_LINK)
            cfi_farm_mark_entry(m->farm, pfd, name);
    }
    switch (u->kind) {
    case CFI_UOP_CREATE:
        o = publish(m, u->inode, pfd, name, TRUE, error);
        break;
    case CFI_UOP_MKDIR:
        rc = mkdirat(pfd, name, 0700);
        if (rc == 0)
            rc = fchmodat(pfd, name,
                          m->is_root ? u->len : (u->len | 0700), 0);
        errsv = errno;
        o = result_of(rc, errsv, error, "mkdir", rel);
        break;
    case CFI_UOP_SYMLINK:
        rc = symlinkat(u->path, pfd, name);
        o = result_of(rc, errno, error, "symlink", rel);
        break;
    case CFI_UOP_UNLINK:
        if (!names_inode(m, pfd, name, u->inode))
            break;
        rc = unlinkat(pfd, name, 0);
        o = result_of(rc, errno, error, "unlink", rel);
        break;
    case CFI_UOP_RMDIR:
        rc = unlinkat(pfd, name, AT_REMOVEDIR);
        o = result_of(rc, errno, error, "rmdir", rel);
        break;
    case CFI_UOP_LINK:
    case CFI_UOP_RENAME:
        pfd2 = open_parent(m, u->path2, &name2);
        if (pfd2 < 0) {
            o = result_of(-1, errno, error, "open parent of", u->path2);
            break;
        }
        cfi_farm_mark_entry(m->farm, pfd2, name2);
        if (pfd >= 0 && names_inode(m, pfd, name, u->inode)) {
            rc = u->kind == CFI_UOP_LINK
                ? linkat(pfd, name, pfd2, name2, 0)
                : renameat2(pfd, name, pfd2, name2, u->flags);
            o = result_of(rc, errno, error,
                          u->kind == CFI_UOP_LINK ? "link" : "rename", rel);
        } else if (!(u->flags & RENAME_EXCHANGE)) {
            /* The source name is not there (its creation was not kept,
             * or it came from an fd): the entry that persisted still
             * points at the inode, so a regular file is published. */
            o = publish(m, u->inode, pfd2, name2,
                        u->kind == CFI_UOP_LINK ||
                            (u->flags & RENAME_NOREPLACE),
                        error);
        }
        break;
    default:
        g_assert_not_reached();
    }
    if (pfd >= 0)
        close(pfd);
    if (pfd2 >= 0)
        close(pfd2);
    return o;
}

static gboolean
pwrite_all(int fd, const guint8 *p, gsize len, gint64 off, GError **error)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return throw_errno(error, errno, "pwrite");
        p += w;
        len -= w;
        off += w;
    }
    return TRUE;
}

static gboolean
write_zeros(int fd, gint64 off, gint64 end, GError **error)
{
    static const guint8 zeros[65536];
    while (off < end) {
        gsize n = MIN((gint64)sizeof zeros, end - off);
        if (!pwrite_all(fd, zeros, n, off, error))
            return FALSE;
        off += n;
    }
    return TRUE;
}

/* fallocate's effect on contents and size, done with plain writes so the
 * result does not depend on what the target filesystem supports. */
static gboolean
apply_fallocate(int fd, const CfiUop *u, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return throw_errno(error, errno, "fstat");
    gint64 end = u->off + (gint64)u->len;
    gboolean keep = (u->flags & FALLOC_FL_KEEP_SIZE) != 0;
    if (u->flags & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
        if (!write_zeros(fd, u->off, MIN(end, st.st_size), error))
            return FALSE;
    }
    if (!keep && end > st.st_size && ftruncate(fd, end) < 0)
        return throw_errno(error, errno, "ftruncate");
    return TRUE;
}

static Outcome
copy_clone(Mat *m, int dst, guint32 src_id, GError **error)
{
    CfiInode *src = cfi_replay_inode(m->r, src_id);
    g_autofree char *path = NULL;
    char name[16];
    int in;

    if (m->staged[src_id]) {
        staged_name(src_id, name);
        in = openat(m->sfd, name, O_RDONLY | O_CLOEXEC);
        path = g_strdup(name);
    } else if (src->from_snapshot && src->type == CFI_INODE_FILE) {
        path = g_build_filename(m->r->snapshot_dir, src->snap_names->pdata[0],
                                NULL);
        in = open(path, O_RDONLY | O_CLOEXEC);
    } else {
        return ftruncate(dst, 0) == 0 ? APPLIED : SKIPPED; /* empty source */
    }
    if (in < 0) {
        throw_errno(error, errno, "clone source %s: open", path);
        return FAILED;
    }
    gboolean ok = ftruncate(dst, 0) == 0 && lseek(dst, 0, SEEK_SET) == 0 &&
                  copy_fd(in, dst, path, error);
    close(in);
    return ok ? APPLIED : FAILED;
}

/*
 * Attributes of a directory, named by its logical path at the time of the
 * call.  ostree creates directories 0700 and opens them up with fchmod
 * afterwards: without this a deployment's directories would all be 0700.
 * A directory whose creation did not persist takes no attributes.
 */
static Outcome
apply_dir_attr(Mat *m, const CfiUop *u, GError **error)
{
    const char *rel = u->path != NULL && u->path[0] != '\0' ? u->path : ".";
    int rc;
    if (u->path == NULL)
        return SKIPPED;
    cfi_farm_mark_at(m->farm, m->tfd, u->path);
    switch (u->kind) {
    case CFI_UOP_CHMOD:
        rc = fchmodat(m->tfd, rel, m->is_root ? (u->len & 07777)
                                              : ((u->len & 07777) | 0700), 0);
        break;
    case CFI_UOP_CHOWN:
        if (!m->is_root)
            return SKIPPED;
        rc = fchownat(m->tfd, rel, (uid_t)(u->len >> 32),
                      (gid_t)(u->len & 0xffffffffu), AT_SYMLINK_NOFOLLOW);
        break;
    case CFI_UOP_UTIMES:
        rc = utimensat(m->tfd, rel, (const struct timespec *)u->data,
                       AT_SYMLINK_NOFOLLOW);
        break;
    default:
        return SKIPPED;
    }
    if (rc < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return SKIPPED;
        throw_errno(error, errno, "materialise %s: attributes of %s",
                    m->target, rel);
        return FAILED;
    }
    return APPLIED;
}

static Outcome
apply_inode(Mat *m, const CfiUop *u, GError **error)
{
    CfiInode *ino = cfi_replay_inode(m->r, u->inode);
    if (ino->type == CFI_INODE_DIR)
        return apply_dir_attr(m, u, error);
    if (ino->type != CFI_INODE_FILE)
        return SKIPPED; /* attributes of symlinks: see MODELS.md */
    if (u->kind == CFI_UOP_WRITE && u->data_missing) {
        const CfiRecord *rec = cfi_trace_get(m->r->trace, u->rec);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "replay record #%" G_GUINT64_FORMAT " (write to fd %d): "
                    "its bytes are not in trace %s (data_mode %u)",
                    (guint64)rec->rec->seq, rec->rec->fd,
                    cfi_trace_get_path(m->r->trace),
                    cfi_trace_get_data_mode(m->r->trace));
        return FAILED;
    }
    Outcome o;
    int fd = staged_fd(m, u->inode, &o, error);
    if (fd < 0)
        return o;

    switch (u->kind) {
    case CFI_UOP_WRITE:
        return pwrite_all(fd, u->data, u->len, u->off, error) ? APPLIED
                                                               : FAILED;
    case CFI_UOP_TRUNCATE:
        if (ftruncate(fd, u->len) < 0) {
            throw_errno(error, errno, "ftruncate staged inode %u", u->inode);
            return FAILED;
        }
        return APPLIED;
    case CFI_UOP_FALLOCATE:
        return apply_fallocate(fd, u, error) ? APPLIED : FAILED;
    case CFI_UOP_CLONE:
        return copy_clone(m, fd, u->inode2, error);
    case CFI_UOP_CHMOD:
        m->mode[u->inode] = u->len & 07777;
        return APPLIED;
    case CFI_UOP_CHOWN:
        m->owner[u->inode] = u->len;
        return APPLIED;
    case CFI_UOP_SETXATTR: {
        /* Best effort: the target filesystem may not take the namespace. */
        g_autofree char *attr = g_strndup(u->path2 ? u->path2 : "", 255);
        (void)fsetxattr(fd, attr, u->data, u->data_len, 0);
        return APPLIED;
    }
    case CFI_UOP_UTIMES:
        (void)futimens(fd, (const struct timespec *)u->data);
        return APPLIED;
    default:
        g_assert_not_reached();
    }
}

/* The torn model's in-flight write: only the chosen sectors land. */
static gboolean
apply_torn(Mat *m, guint k, guint64 seed, CfiCrashStats *stats,
           GError **error)
{
    g_autofree guint8 *mask = NULL;
    gint64 s0 = 0;
    guint n = cfi_replay_torn_sectors(m->r, k, seed, &mask, &s0);
    if (n == 0)
        return TRUE;
    const CfiInflight *f = &m->r->inflight[k];
    Outcome o;
    int fd = staged_fd(m, f->inode, &o, error);
    if (fd < 0)
        return o != FAILED;
    gint64 end = f->off + f->len;
    for (guint i = 0; i < n; i++) {
        if (!mask[i])
            continue;
        gint64 a = MAX(f->off, (s0 + i) * 512);
        gint64 b = MIN(end, (s0 + i + 1) * 512);
        if (!pwrite_all(fd, f->data + (a - f->off), b - a, a, error))
            return FALSE;
    }
    stats->writes_torn = 1;
    return TRUE;
}

/* ---- the whole state ----------------------------------------------- */

static gboolean make_staging(Mat *m, GError **error);

static gboolean
prepare_target(Mat *m, GError **error)
{
    if (m->farm != NULL && cfi_farm_is_ready(m->farm, m->r)) {
        /* The farm holds the snapshot already (cfi_farm_restore). */
        m->tfd = open(m->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->tfd < 0)
            return throw_errno(error, errno, "materialise %s: open",
                               m->target);
        return make_staging(m, error);
    }
    if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
        return throw_errno(error, errno, "materialise %s: mkdir", m->target);
    m->tfd = open(m->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->tfd < 0)
        return throw_errno(error, errno, "materialise %s: open", m->target);
    g_autoptr(GDir) d = g_dir_open(m->target, 0, error);
    if (d == NULL)
        return FALSE;
    if (g_dir_read_name(d) != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "materialise %s: target directory is not empty",
                    m->target);
        return FALSE;
    }
    if (!copy_snapshot(m, error))
        return FALSE;
    /* A farm that is not the snapshot's hardlinks is not kept. */
    if (m->farm != NULL) {
        g_autoptr(GError) local = NULL;
        if (!cfi_farm_index(m->farm, m->r, m->tfd, &local) && local != NULL) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
    }
    return make_staging(m, error);
}

static gboolean
open_staging(Mat *m, GError **error)
{
    m->sfd = openat(m->tfd, CFI_STAGING_DIR, O_RDONLY | O_DIRECTORY);
    if (m->sfd < 0)
        return throw_errno(error, errno, "materialise %s: open %s",
                           m->target, CFI_STAGING_DIR);
    return TRUE;
}

static gboolean
make_staging(Mat *m, GError **error)
{
    cfi_farm_mark_entry(m->farm, m->tfd, CFI_STAGING_DIR);
    if (mkdirat(m->tfd, CFI_STAGING_DIR, 0700) < 0)
        return throw_errno(error, errno, "materialise %s: mkdir %s",
                           m->target, CFI_STAGING_DIR);
    return open_staging(m, error);
}

/* The final owner and mode of every staged inode; with unlink, its
 * staging name goes too. */
static gboolean
settle_staged(Mat *m, gboolean unlink, GError **error)
{
    for (guint32 id = 1; id < m->r->inodes->len; id++) {
        if (!m->staged[id])
            continue;
        char name[16];
        staged_name(id, name);
        if (m->owner[id] != G_MAXUINT64 && m->is_root)
            (void)fchownat(m->sfd, name, m->owner[id] >> 32,
                           m->owner[id] & 0xffffffffu, 0);
        if (fchmodat(m->sfd, name, m->mode[id], 0) < 0)
            return throw_errno(error, errno, "materialise %s: chmod staged %s",
                               m->target, name);
        if (unlink && unlinkat(m->sfd, name, 0) < 0)
            return throw_errno(error, errno, "materialise %s: unlink staged %s",
                               m->target, name);
    }
    return TRUE;
}

/* Modes and owners of staged inodes, then staging goes away. */
static gboolean
finish_staging(Mat *m, GError **error)
{
    if (!settle_staged(m, TRUE, error))
        return FALSE;
    if (unlinkat(m->tfd, CFI_STAGING_DIR, AT_REMOVEDIR) < 0)
        return throw_errno(error, errno, "materialise %s: rmdir %s",
                           m->target, CFI_STAGING_DIR);
    return TRUE;
}

/*
 * A farm that keeps its state for a later cut (cfi_farm_set_advance):
 * the staged inodes keep their staging names, and the staging directory
 * is parked beside the tree while the state is judged, so that the next
 * cut can still write to or name an inode the state made (an O_TMPFILE
 * file not named yet, a file unlinked and linked again).  The tree is
 * the fresh state's but for the link counts of staged files, which
 * nothing that judges a state compares.
 */
static char *
parked_path(Mat *m)
{
    const char *held = cfi_farm_parked(m->farm);
    return held != NULL ? g_strdup(held)
                        : g_strconcat(cfi_farm_get_path(m->farm), ".staging",
                                      NULL);
}

static gboolean
park_staging(Mat *m, GError **error)
{
    if (!settle_staged(m, FALSE, error))
        return FALSE;
    g_autofree char *parked = parked_path(m);
    cfi_farm_mark_entry(m->farm, m->tfd, CFI_STAGING_DIR);
    if (renameat(m->tfd, CFI_STAGING_DIR, AT_FDCWD, parked) < 0)
        return throw_errno(error, errno, "materialise %s: park %s at %s",
                           m->target, CFI_STAGING_DIR, parked);
    return TRUE;
}

static gboolean
unpark_staging(Mat *m, GError **error)
{
    g_autofree char *parked = parked_path(m);
    cfi_farm_mark_entry(m->farm, m->tfd, CFI_STAGING_DIR);
    if (renameat(AT_FDCWD, parked, m->tfd, CFI_STAGING_DIR) < 0)
        return throw_errno(error, errno, "materialise %s: unpark %s",
                           m->target, parked);
    return open_staging(m, error);
}

/* Apply the kept uops [from, n_uops) in order, counting them in stats. */
static gboolean
apply_range(Mat *m, guint from, guint n_uops, const guint8 *keep,
            CfiCrashStats *stats, GError **error)
{
    for (guint i = from; i < n_uops; i++) {
        const CfiUop *u = cfi_replay_uop(m->r, i);
        if (!keep[i]) {
            stats->ops_dropped++;
            continue;
        }
        if (m->scope != NULL && !m->scope->uop[i]) {
            stats->ops_skipped++;   /* shapes nothing under boot/ */
            continue;
        }
        Outcome o = u->klass == CFI_CLASS_ENTRY ? apply_entry(m, u, error)
                                                : apply_inode(m, u, error);
        if (o == FAILED)
            return FALSE;
        if (o == APPLIED)
            stats->ops_persisted++;
        else
            stats->ops_skipped++;
    }
    return TRUE;
}

/* Apply the kept operations of the records before cut k (keep[] from a
 * decision); with torn, also the in-flight write's chosen sectors.  With
 * hold, the staging is parked for a later cut instead of removed. */
static gboolean
materialise_kept(Mat *m, guint k, const guint8 *keep, gboolean torn,
                 guint64 seed, gboolean hold, CfiCrashStats *stats,
                 GError **error)
{
    CfiReplay *r = m->r;
    guint n_uops = r->rec_uop_start[k];

    if (!prepare_target(m, error))
        return FALSE;

    /* Unshare every snapshot file that a kept operation will change. */
    for (guint i = 0; i < n_uops; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        if (!keep[i] || u->klass == CFI_CLASS_ENTRY ||
            (m->scope != NULL && !m->scope->uop[i]))
            continue;
        CfiInode *ino = cfi_replay_inode(r, u->inode);
        if (ino->from_snapshot && ino->type == CFI_INODE_FILE &&
            !m->staged[u->inode] && !unshare_file(m, u->inode, error))
            return FALSE;
    }
    if (torn && k < r->n_records) {
        guint32 id = r->inflight[k].inode;
        if (id != 0 && cfi_replay_inode(r, id)->from_snapshot &&
            !m->staged[id] && !unshare_file(m, id, error))
            return FALSE;
    }

    stats->ops_total = n_uops;
    if (!apply_range(m, 0, n_uops, keep, stats, error))
        return FALSE;
    if (torn && !apply_torn(m, k, seed, stats, error))
        return FALSE;
    if (m->cache_fd >= 0)
        close(m->cache_fd);
    m->cache_fd = -1;
    return hold ? park_staging(m, error) : finish_staging(m, error);
}

/* The kernel's view (MODELS.md §4), or with a bootview the bootloader's
 * (§4a). */
typedef struct {
    guint k;
    CfiModel model;
    guint64 seed;
    gboolean bootview;
    gboolean boot_only;         /* the boot/ subtree alone */
    guint64 subset_seed;
    CfiBootView view;
} Want;

/* What a farm keeps of the state it holds (cfi_farm_hold). */
typedef struct {
    guint k;
    CfiModel model;
    guint64 seed;
    guint n_uops;               /* rec_uop_start[k] */
    guint8 *keep;               /* the decisions for those */
    CfiCrashStats stats;
    guint8 *staged;             /* Mat's, taken over */
    guint32 *mode;
    guint64 *owner;
    guint64 *ino;
} Held;

static void
held_free(Held *h)
{
    g_free(h->keep);
    g_free(h->staged);
    g_free(h->mode);
    g_free(h->owner);
    g_free(h->ino);
    g_free(h);
}

/* Can the farm's state be kept for a later cut?  Not a torn state (its
 * in-flight write is not the next cut's), nor a view. */
static gboolean
may_hold(Mat *m, Want *w)
{
    return m->farm != NULL && cfi_farm_get_advance(m->farm) && m->is_root
           && !w->bootview && w->model != CFI_MODEL_TORN;
}

static gboolean
materialise(Mat *m, Want *w, CfiCrashStats *stats, GError **error)
{
    guint n_uops = m->r->rec_uop_start[w->k];
    g_autofree guint8 *keep = g_new0(guint8, MAX(n_uops, 1));
    if (w->bootview)
        cfi_replay_decide_bootview(m->r, w->k, w->model, w->seed,
                                   w->subset_seed, keep, &w->view);
    else
        cfi_replay_decide(m->r, w->k, w->model, w->seed, keep);
    gboolean hold = may_hold(m, w);
    if (!materialise_kept(m, w->k, keep,
                          !w->bootview && w->model == CFI_MODEL_TORN,
                          w->seed, hold, stats, error))
        return FALSE;
    if (hold) {
        Held *h = g_new0(Held, 1);
        h->k = w->k;
        h->model = w->model;
        h->seed = w->seed;
        h->n_uops = n_uops;
        h->keep = g_steal_pointer(&keep);
        h->stats = *stats;
        h->staged = g_steal_pointer(&m->staged);
        h->mode = g_steal_pointer(&m->mode);
        h->owner = g_steal_pointer(&m->owner);
        h->ino = g_steal_pointer(&m->ino);
        g_autofree char *parked = parked_path(m);
        cfi_farm_hold(m->farm, h, (GDestroyNotify)held_free, parked);
    }
    return TRUE;
}

gint64
cfi_farm_state_cut(CfiFarm *farm)
{
    const Held *h = cfi_farm_held(farm);
    return h != NULL ? (gint64)h->k : -1;
}

/*
 * Move the state the farm holds (cut h->k) to cut w->k: APPLIED, or
 * SKIPPED when it cannot be (the caller restores the farm and builds the
 * state whole), or FAILED.  It can when every operation before h->k has
 * the same decision at both cuts (so state w->k is state h->k followed
 * by the kept operations in between, in order), and no operation in
 * between changes a snapshot file the state has not copied yet (copying
 * it needs its snapshot names, which earlier operations may have moved).
 */
static Outcome
advance(CfiReplay *r, Want *w, CfiFarm *farm, Held *h,
        CfiCrashStats *out_stats, GError **error)
{
    if (w->model != h->model || w->seed != h->seed || w->k < h->k
        || w->model == CFI_MODEL_TORN || w->k > r->n_records)
        return SKIPPED;
    guint n_uops = r->rec_uop_start[w->k];
    g_autofree guint8 *keep = g_new0(guint8, MAX(n_uops, 1));
    cfi_replay_decide(r, w->k, w->model, w->seed, keep);
    if (h->n_uops > 0 && memcmp(keep, h->keep, h->n_uops) != 0)
        return SKIPPED;
    for (guint i = h->n_uops; i < n_uops; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        if (!keep[i] || u->klass == CFI_CLASS_ENTRY)
            continue;
        CfiInode *ino = cfi_replay_inode(r, u->inode);
        if (ino->from_snapshot && ino->type == CFI_INODE_FILE &&
            !h->staged[u->inode])
            return SKIPPED;
    }
    Mat m = {
        .r = r,
        .target = cfi_farm_get_path(farm),
        .tfd = -1,
        .sfd = -1,
        .staged = h->staged,
        .mode = h->mode,
        .owner = h->owner,
        .ino = h->ino,
        .cache_fd = -1,
        .is_root = geteuid() == 0,
        .farm = farm,
    };
    CfiCrashStats stats = h->stats;
    stats.ops_total = n_uops;
    gboolean ok = TRUE;
    m.tfd = open(m.target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m.tfd < 0)
        ok = throw_errno(error, errno, "materialise %s: open", m.target);
    ok = ok && unpark_staging(&m, error) &&
         apply_range(&m, h->n_uops, n_uops, keep, &stats, error);
    if (m.cache_fd >= 0)
        close(m.cache_fd);
    m.cache_fd = -1;
    ok = ok && park_staging(&m, error);
    if (m.sfd >= 0)
        close(m.sfd);
    if (m.tfd >= 0)
        close(m.tfd);
    if (!ok) {
        g_prefix_error(error, "crash state %u:%s:%" G_GUINT64_FORMAT
                       " (moved from cut %u): ", w->k,
                       cfi_model_to_string(w->model), w->seed, h->k);
        return FAILED;
    }
    h->k = w->k;
    h->n_uops = n_uops;
    g_free(h->keep);
    h->keep = g_steal_pointer(&keep);
    h->stats = stats;
    if (out_stats != NULL)
        *out_stats = stats;
    return APPLIED;
}

static gboolean
materialise_want(CfiReplay *r, Want *w, const char *target_dir,
                 CfiFarm *farm, CfiCrashStats *out_stats, GError **error)
{
    guint k = w->k;
    if (k > r->n_records) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "materialise %s: cut %u is past the %u records of %s",
                    target_dir, k, r->n_records, cfi_trace_get_path(r->trace));
        return FALSE;
    }
    guint n = r->inodes->len;
    Mat m = {
        .r = r,
        .target = target_dir,
        .tfd = -1,
        .sfd = -1,
        .staged = g_new0(guint8, n),
        .mode = g_new0(guint32, n),
        .owner = g_new(guint64, n),
        .ino = g_new0(guint64, n),
        .cache_fd = -1,
        .is_root = geteuid() == 0,
        .scope = w->boot_only ? cfi_boot_scope_new(r, r->rec_uop_start[k])
                              : NULL,
        .farm = farm,
    };
    for (guint i = 0; i < n; i++)
        m.owner[i] = G_MAXUINT64;
    CfiCrashStats stats = { 0 };
    gboolean ok = materialise(&m, w, &stats, error);
    if (!ok && w->bootview)
        g_prefix_error(error, "bootloader's view (subset %" G_GUINT64_FORMAT
                       ") of crash state %u:%s:%" G_GUINT64_FORMAT ": ",
                       w->subset_seed, k, cfi_model_to_string(w->model),
                       w->seed);
    else if (!ok)
        g_prefix_error(error, "crash state %u:%s:%" G_GUINT64_FORMAT ": ", k,
                       cfi_model_to_string(w->model), w->seed);
    if (m.cache_fd >= 0)
        close(m.cache_fd);
    if (m.sfd >= 0)
        close(m.sfd);
    if (m.tfd >= 0)
        close(m.tfd);
    g_free(m.staged);
    g_free(m.mode);
    g_free(m.owner);
    g_free(m.ino);
    cfi_boot_scope_free((CfiBootScope *)m.scope);
    if (ok && out_stats != NULL)
        *out_stats = stats;
    return ok;
}

gboolean
cfi_replay_materialise(CfiReplay *r, guint k, CfiModel model, guint64 seed,
                       const char *target_dir, CfiCrashStats *out_stats,
                       GError **error)
{
    Want w = { .k = k, .model = model, .seed = seed };
    return materialise_want(r, &w, target_dir, NULL, out_stats, error);
}

gboolean
cfi_replay_materialise_farm(CfiReplay *r, guint k, CfiModel model,
                            guint64 seed, CfiFarm *farm,
                            CfiCrashStats *out_stats, GError **error)
{
    Want w = { .k = k, .model = model, .seed = seed };
    g_autofree char *target = g_strdup(cfi_farm_get_path(farm));
    Held *h = cfi_farm_held(farm);
    cfi_farm_set_moved(farm, FALSE);
    if (h != NULL && cfi_farm_is_ready(farm, r)) {
        Outcome o = advance(r, &w, farm, h, out_stats, error);
        if (o == APPLIED) {
            cfi_farm_set_moved(farm, TRUE);
            return TRUE;
        }
        if (o == FAILED)
            return FALSE;
    }
    if (h != NULL && !cfi_farm_restore_checked(farm, error))
        return FALSE;
    return materialise_want(r, &w, target, farm, out_stats, error);
}

static gboolean
materialise_bootview(CfiReplay *r, guint k, CfiModel model, guint64 seed,
                     guint64 subset_seed, gboolean boot_only,
                     const char *target_dir, CfiCrashStats *out_stats,
                     CfiBootView *out_view, GError **error)
{
    Want w = {
        .k = k,
        .model = model,
        .seed = seed,
        .bootview = TRUE,
        .boot_only = boot_only,
        .subset_seed = subset_seed,
    };
    if (!materialise_want(r, &w, target_dir, NULL, out_stats, error))
        return FALSE;
    if (out_view != NULL)
        *out_view = w.view;
    return TRUE;
}

gboolean
cfi_replay_materialise_bootview(CfiReplay *r, guint k, CfiModel model,
                                guint64 seed, guint64 subset_seed,
                                const char *target_dir,
                                CfiCrashStats *out_stats,
                                CfiBootView *out_view, GError **error)
{
    return materialise_bootview(r, k, model, seed, subset_seed, FALSE,
                                target_dir, out_stats, out_view, error);
}

gboolean
cfi_replay_materialise_bootview_boot(CfiReplay *r, guint k, CfiModel model,
                                     guint64 seed, guint64 subset_seed,
                                     const char *target_dir,
                                     CfiCrashStats *out_stats,
                                     CfiBootView *out_view, GError **error)
{
    return materialise_bootview(r, k, model, seed, subset_seed, TRUE,
                                target_dir, out_stats, out_view, error);
}

gboolean
cfi_crashstate_materialise(CfiTrace *trace, const char *orig_root,
                           const char *snapshot_dir, guint k, CfiModel model,
                           guint64 seed, const char *target_dir,
                           CfiCrashStats *out_stats, GError **error)
{
    g_autoptr(CfiReplay) r = cfi_replay_new(trace, orig_root, snapshot_dir,
                                            error);
    if (r == NULL)
        return FALSE;
    return cfi_replay_materialise(r, k, model, seed, target_dir, out_stats,
                                  error);
}
