/* SPDX-License-Identifier: MIT */
/*
 * trace-builder.c: hand-made traces for tests.  See trace-builder.h.
 */
#include "trace-builder.h"

#include <fcntl.h>
#include <string.h>

#include <gio/gio.h>

#include "cfi-calls.h"
#include "crc32c.h"

struct CfiTraceBuilder {
    char *path;
    GByteArray *buf;            /* header + records, as they will be written */
    guint64 next_seq;
    guint32 pid;
    enum cfi_data_mode data_mode;
    guint64 ident_dev, ident_ino; /* (dev, ino) the shim would have read */
    guint32 extra_flags;        /* CFI_RF_* added to the records that follow */
};

CfiTraceBuilder *
cfi_trace_builder_new(const char *path)
{
    CfiTraceBuilder *tb = g_new0(CfiTraceBuilder, 1);
    tb->path = g_strdup(path);
    tb->buf = g_byte_array_new();
    tb->next_seq = 1;
    tb->pid = 1000;
    g_byte_array_set_size(tb->buf, CFI_TRACE_HDR_SIZE);
    memset(tb->buf->data, 0, CFI_TRACE_HDR_SIZE);
    struct cfi_trace_header *h = (void *)tb->buf->data;
    memcpy(h->magic, CFI_TRACE_MAGIC, sizeof h->magic);
    h->version = CFI_TRACE_VERSION;
    h->hdr_size = CFI_TRACE_HDR_SIZE;
    h->created_ns = 1000000000ull; /* fixed: traces must be reproducible */
    h->creator_pid = tb->pid;
    return tb;
}

void
cfi_trace_builder_set_data_mode(CfiTraceBuilder *tb, enum cfi_data_mode mode)
{
    tb->data_mode = mode;
    ((struct cfi_trace_header *)tb->buf->data)->data_mode = mode;
}

void
cfi_tb_set_pid(CfiTraceBuilder *tb, guint32 pid)
{
    tb->pid = pid;
}

void
cfi_tb_set_flags(CfiTraceBuilder *tb, guint32 flags)
{
    tb->extra_flags = flags;
}

guint64
cfi_tb_interposer(CfiTraceBuilder *tb, const char *call, const char *path,
                  guint32 ip_flags)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_INTERPOSER, call);
    r.arg = ip_flags;
    return cfi_tb_append(tb, &r, path, NULL, NULL, 0);
}

void
cfi_tb_set_ident(CfiTraceBuilder *tb, guint64 dev, guint64 ino)
{
    tb->ident_dev = dev;
    tb->ident_ino = ino;
}

void
cfi_tb_set_next_seq(CfiTraceBuilder *tb, guint64 seq)
{
    tb->next_seq = seq;
}

gsize
cfi_trace_builder_offset(CfiTraceBuilder *tb)
{
    return tb->buf->len;
}

gboolean
cfi_trace_builder_finish(CfiTraceBuilder *tb, GError **error)
{
    struct cfi_trace_header *h = (void *)tb->buf->data;
    h->seq_next = tb->next_seq;
    return g_file_set_contents(tb->path, (const char *)tb->buf->data,
                               tb->buf->len, error);
}

void
cfi_trace_builder_free(CfiTraceBuilder *tb)
{
    if (tb == NULL)
        return;
    g_byte_array_unref(tb->buf);
    g_free(tb->path);
    g_free(tb);
}

/* The generated table is the authority on call numbers; a name it lacks
 * becomes CFI_CALL_NONE rather than a compile error in the tests. */
static guint16
call_id(const char *name)
{
    for (unsigned i = 0; name != NULL && i < CFI_CALL_COUNT; i++) {
        if (cfi_call_table[i].name != NULL &&
            strcmp(cfi_call_table[i].name, name) == 0)
            return i;
    }
    return CFI_CALL_NONE;
}

void
cfi_tb_rec_init(struct cfi_rec *rec, guint16 op, const char *call)
{
    memset(rec, 0, sizeof *rec);
    rec->op = op;
    rec->call = call_id(call);
    rec->fd = -1;
    rec->fd2 = -1;
    rec->off = -1;
    rec->off2 = -1;
}

static guint64
fnv1a64(const guint8 *p, gsize n)
{
    guint64 h = 0xcbf29ce484222325ull;
    for (gsize i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

guint64
cfi_tb_append(CfiTraceBuilder *tb, struct cfi_rec *rec, const char *path,
              const char *path2, const void *data, gsize data_len)
{
    gsize plen = path != NULL ? strlen(path) : 0;
    gsize p2len = path2 != NULL ? strlen(path2) : 0;

    g_assert(plen <= G_MAXUINT16 && p2len <= G_MAXUINT16);
    if (tb->data_mode != CFI_DATA_FULL && data_len > 0) {
        if (tb->data_mode == CFI_DATA_DIGEST)
            rec->digest = fnv1a64(data, data_len);
        rec->flags |= CFI_RF_DATA_TRUNC;
        data_len = 0;
    }
    gsize body = sizeof *rec + plen + p2len + data_len;
    gsize size = (body + CFI_REC_ALIGN - 1) & ~(gsize)(CFI_REC_ALIGN - 1);
    g_assert(size <= CFI_REC_MAX_SIZE);

    rec->magic = CFI_REC_MAGIC;
    rec->size = size;
    if (rec->op == CFI_OP_INTERPOSER)
        rec->seq = 0; /* a note takes no sequence number */
    else if (rec->seq == 0)
        rec->seq = tb->next_seq++;
    else if (rec->seq >= tb->next_seq)
        tb->next_seq = rec->seq + 1;
    rec->pid = tb->pid;
    rec->tid = tb->pid;
    if (rec->op != CFI_OP_INTERPOSER)
        rec->flags |= tb->extra_flags;
    if (tb->ident_ino != 0) {
        if ((rec->fd >= 0 || rec->op == CFI_OP_OPEN) && rec->ino == 0) {
            rec->dev = tb->ident_dev;
            rec->ino = tb->ident_ino;
        }
        if (rec->fd2 >= 0 && rec->ino2 == 0) {
            rec->dev2 = tb->ident_dev;
            rec->ino2 = tb->ident_ino;
        }
    }
    rec->path_len = plen;
    rec->path2_len = p2len;
    rec->data_len = data_len;

    gsize at = tb->buf->len;
    g_byte_array_set_size(tb->buf, at + size);
    guint8 *p = tb->buf->data + at;
    memset(p, 0, size);
    memcpy(p, rec, sizeof *rec);
    if (plen > 0)
        memcpy(p + sizeof *rec, path, plen);
    if (p2len > 0)
        memcpy(p + sizeof *rec + plen, path2, p2len);
    if (data_len > 0)
        memcpy(p + sizeof *rec + plen + p2len, data, data_len);
    struct cfi_rec *out = (void *)p;
    out->crc = cfi_crc32c(0, p + 12, size - 12);
    return out->seq;
}

guint64
cfi_tb_open(CfiTraceBuilder *tb, const char *path, int fd, guint32 flags,
            guint32 mode)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_OPEN, "openat");
    r.fd = fd;
    r.result = fd;
    r.arg = flags;
    r.arg2 = mode;
    if (flags & O_DIRECTORY)
        r.flags |= CFI_RF_DIR;
    return cfi_tb_append(tb, &r, path, NULL, NULL, 0);
}

guint64
cfi_tb_open_tmpfile(CfiTraceBuilder *tb, const char *dir, int fd,
                    guint32 mode)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_OPEN, "openat");
    r.fd = fd;
    r.result = fd;
    r.arg = O_TMPFILE | O_WRONLY;
    r.arg2 = mode;
    r.flags |= CFI_RF_TMPFILE;
    return cfi_tb_append(tb, &r, dir, NULL, NULL, 0);
}

static guint64
fd_op(CfiTraceBuilder *tb, guint16 op, const char *call, int fd)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, op, call);
    r.fd = fd;
    return cfi_tb_append(tb, &r, NULL, NULL, NULL, 0);
}

guint64
cfi_tb_close(CfiTraceBuilder *tb, int fd)
{
    return fd_op(tb, CFI_OP_CLOSE, "close", fd);
}

guint64
cfi_tb_write(CfiTraceBuilder *tb, int fd, gint64 off, const void *data,
             gsize len)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_WRITE, "pwrite");
    r.fd = fd;
    r.off = off;
    r.len = len;
    r.result = len;
    return cfi_tb_append(tb, &r, NULL, NULL, data, len);
}

guint64
cfi_tb_ftruncate(CfiTraceBuilder *tb, int fd, guint64 length)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_TRUNCATE, "ftruncate");
    r.fd = fd;
    r.arg2 = length;
    return cfi_tb_append(tb, &r, NULL, NULL, NULL, 0);
}

guint64
cfi_tb_fallocate(CfiTraceBuilder *tb, int fd, guint32 mode, gint64 off,
                 guint64 len)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_FALLOCATE, "fallocate");
    r.fd = fd;
    r.arg = mode;
    r.off = off;
    r.len = len;
    return cfi_tb_append(tb, &r, NULL, NULL, NULL, 0);
}

guint64
cfi_tb_fsync(CfiTraceBuilder *tb, int fd)
{
    return fd_op(tb, CFI_OP_FSYNC, "fsync", fd);
}

guint64
cfi_tb_fdatasync(CfiTraceBuilder *tb, int fd)
{
    return fd_op(tb, CFI_OP_FDATASYNC, "fdatasync", fd);
}

guint64
cfi_tb_syncfs(CfiTraceBuilder *tb, int fd)
{
    return fd_op(tb, CFI_OP_SYNCFS, "syncfs", fd);
}

guint64
cfi_tb_sync(CfiTraceBuilder *tb)
{
    return fd_op(tb, CFI_OP_SYNC, "sync", -1);
}

guint64
cfi_tb_freeze(CfiTraceBuilder *tb, int fd)
{
    return fd_op(tb, CFI_OP_FREEZE, "ioctl", fd);
}

guint64
cfi_tb_thaw(CfiTraceBuilder *tb, int fd)
{
    return fd_op(tb, CFI_OP_THAW, "ioctl", fd);
}

static guint64
path_op(CfiTraceBuilder *tb, guint16 op, const char *call, const char *path,
        const char *path2, guint64 arg2)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, op, call);
    r.arg2 = arg2;
    return cfi_tb_append(tb, &r, path, path2, NULL, 0);
}

guint64
cfi_tb_rename(CfiTraceBuilder *tb, const char *from, const char *to)
{
    return path_op(tb, CFI_OP_RENAME, "rename", from, to, 0);
}

guint64
cfi_tb_link(CfiTraceBuilder *tb, const char *from, const char *to)
{
    return path_op(tb, CFI_OP_LINK, "linkat", from, to, 0);
}

guint64
cfi_tb_link_tmpfile(CfiTraceBuilder *tb, int fd, const char *to)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_LINK, "linkat");
    r.fd2 = fd;
    r.flags |= CFI_RF_FROM_FD;
    g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", fd);
    return cfi_tb_append(tb, &r, proc, to, NULL, 0);
}

guint64
cfi_tb_symlink(CfiTraceBuilder *tb, const char *target, const char *linkpath)
{
    return path_op(tb, CFI_OP_SYMLINK, "symlink", target, linkpath, 0);
}

guint64
cfi_tb_unlink(CfiTraceBuilder *tb, const char *path)
{
    return path_op(tb, CFI_OP_UNLINK, "unlink", path, NULL, 0);
}

guint64
cfi_tb_mkdir(CfiTraceBuilder *tb, const char *path, guint32 mode)
{
    return path_op(tb, CFI_OP_MKDIR, "mkdir", path, NULL, mode);
}

guint64
cfi_tb_rmdir(CfiTraceBuilder *tb, const char *path)
{
    return path_op(tb, CFI_OP_RMDIR, "rmdir", path, NULL, 0);
}

guint64
cfi_tb_fchmod(CfiTraceBuilder *tb, int fd, guint32 mode)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, CFI_OP_CHMOD, "fchmod");
    r.fd = fd;
    r.arg2 = mode;
    return cfi_tb_append(tb, &r, NULL, NULL, NULL, 0);
}

guint64
cfi_tb_failed(CfiTraceBuilder *tb, guint16 op, const char *call, int fd,
              const char *path, int err)
{
    struct cfi_rec r;
    cfi_tb_rec_init(&r, op, call);
    r.fd = fd;
    r.result = -1;
    r.err = err;
    r.flags |= CFI_RF_INJECTED;
    return cfi_tb_append(tb, &r, path, NULL, NULL, 0);
}
