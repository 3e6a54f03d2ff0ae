/* SPDX-License-Identifier: MIT */
/*
 * trace-builder.h: write a valid trace from C calls, for tests.
 *
 * Records are built in memory and written by cfi_trace_builder_finish(),
 * header first, each record sealed with its crc and padded to 8 bytes,
 * exactly as the shim writes them.  Sequence numbers are taken from a
 * counter (cfi_tb_set_next_seq() lets a test write them out of order); the
 * helpers return the seq they used.  pid/tid default to 1000.
 */
#ifndef CFI_TRACE_BUILDER_H
#define CFI_TRACE_BUILDER_H

#include <glib.h>

#include "trace-format.h"

typedef struct CfiTraceBuilder CfiTraceBuilder;

CfiTraceBuilder *cfi_trace_builder_new(const char *path);
void cfi_trace_builder_set_data_mode(CfiTraceBuilder *tb,
                                     enum cfi_data_mode mode);
void cfi_tb_set_pid(CfiTraceBuilder *tb, guint32 pid);
void cfi_tb_set_next_seq(CfiTraceBuilder *tb, guint64 seq);
/* The (dev, ino) the shim would have read with fstat: given to the records
 * that follow (fd, and fd2 of a linkat) until changed; 0, 0 = none. */
void cfi_tb_set_ident(CfiTraceBuilder *tb, guint64 dev, guint64 ino);
/* CFI_RF_* flags (INTERPOSED, FORWARDS...) added to the records that follow
 * until changed; 0 = none. */
void cfi_tb_set_flags(CfiTraceBuilder *tb, guint32 flags);
/* A CFI_OP_INTERPOSER note: call was forwarded to the object at path;
 * ip_flags are CFI_IP_*.  Notes take seq 0. */
guint64 cfi_tb_interposer(CfiTraceBuilder *tb, const char *call,
                          const char *path, guint32 ip_flags);
/* Write the file (replacing it).  The builder stays usable. */
gboolean cfi_trace_builder_finish(CfiTraceBuilder *tb, GError **error);
/* Byte offset of the record that the next append will write. */
gsize cfi_trace_builder_offset(CfiTraceBuilder *tb);
void cfi_trace_builder_free(CfiTraceBuilder *tb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CfiTraceBuilder, cfi_trace_builder_free)

/* A record with every field "none": fd -1, off -1, result 0. */
void cfi_tb_rec_init(struct cfi_rec *rec, guint16 op, const char *call);
/* Append rec (magic, size, crc, lengths, pid/tid, and seq when rec->seq is
 * 0 are filled in).  In digest/none data mode, data is hashed or dropped
 * and CFI_RF_DATA_TRUNC set, as the shim does. */
guint64 cfi_tb_append(CfiTraceBuilder *tb, struct cfi_rec *rec,
                      const char *path, const char *path2, const void *data,
                      gsize data_len);

guint64 cfi_tb_open(CfiTraceBuilder *tb, const char *path, int fd,
                    guint32 flags, guint32 mode);
guint64 cfi_tb_open_tmpfile(CfiTraceBuilder *tb, const char *dir, int fd,
                            guint32 mode);
guint64 cfi_tb_close(CfiTraceBuilder *tb, int fd);
guint64 cfi_tb_write(CfiTraceBuilder *tb, int fd, gint64 off,
                     const void *data, gsize len);
guint64 cfi_tb_ftruncate(CfiTraceBuilder *tb, int fd, guint64 length);
guint64 cfi_tb_fallocate(CfiTraceBuilder *tb, int fd, guint32 mode,
                         gint64 off, guint64 len);
guint64 cfi_tb_fsync(CfiTraceBuilder *tb, int fd);
guint64 cfi_tb_fdatasync(CfiTraceBuilder *tb, int fd);
guint64 cfi_tb_syncfs(CfiTraceBuilder *tb, int fd);
guint64 cfi_tb_sync(CfiTraceBuilder *tb);
/* ioctl(fd, FIFREEZE) and ioctl(fd, FITHAW), as the shim records them. */
guint64 cfi_tb_freeze(CfiTraceBuilder *tb, int fd);
guint64 cfi_tb_thaw(CfiTraceBuilder *tb, int fd);
guint64 cfi_tb_rename(CfiTraceBuilder *tb, const char *from, const char *to);
guint64 cfi_tb_link(CfiTraceBuilder *tb, const char *from, const char *to);
/* linkat(AT_FDCWD, "/proc/self/fd/<fd>", AT_FDCWD, to, AT_SYMLINK_FOLLOW) */
guint64 cfi_tb_link_tmpfile(CfiTraceBuilder *tb, int fd, const char *to);
guint64 cfi_tb_symlink(CfiTraceBuilder *tb, const char *target,
                       const char *linkpath);
guint64 cfi_tb_unlink(CfiTraceBuilder *tb, const char *path);
guint64 cfi_tb_mkdir(CfiTraceBuilder *tb, const char *path, guint32 mode);
guint64 cfi_tb_rmdir(CfiTraceBuilder *tb, const char *path);
guint64 cfi_tb_fchmod(CfiTraceBuilder *tb, int fd, guint32 mode);
/* A call that failed: result -1, err as given. */
guint64 cfi_tb_failed(CfiTraceBuilder *tb, guint16 op, const char *call,
                      int fd, const char *path, int err);

#endif /* CFI_TRACE_BUILDER_H */
