/* SPDX-License-Identifier: MIT */
/*
 * trace-format.h: the on-disk format of a cfaultinject trace.
 *
 * This header is shared by the shim (which writes traces from inside the
 * client, libc only) and by the replay library and the harness (which read
 * them).  It uses only fixed-width types so that both sides agree byte for
 * byte.  The prose description lives in cfaultinject/TRACE-FORMAT.md; keep
 * the two in step.
 *
 * Layout of a trace file:
 *
 *   offset 0     struct cfi_trace_header, padded to CFI_TRACE_HDR_SIZE bytes.
 *                Every process that writes the trace maps this page
 *                MAP_SHARED: seq_next is the one sequence counter of all of
 *                them (threads, forked and exec'd children alike).
 *   offset 4096  records, each one struct cfi_rec followed by its variable
 *                part (path, path2, data), padded to 8 bytes.  Each record is
 *                appended by one writev() on an O_APPEND descriptor, so
 *                records of concurrent threads never interleave.  Records
 *                appear in the order their writes completed; readers order
 *                them by seq, which is taken when the call is entered.
 *
 * A trace whose writer was killed may end in a partial record: a reader
 * keeps every complete record before it (magic, size and crc all valid) and
 * reports the truncated tail.
 */
#ifndef CFI_TRACE_FORMAT_H
#define CFI_TRACE_FORMAT_H

#include <stdint.h>

#define CFI_TRACE_MAGIC "CFITRACE"          /* 8 bytes, no NUL */
#define CFI_TRACE_VERSION 1u
#define CFI_TRACE_HDR_SIZE 4096u
#define CFI_REC_MAGIC 0x52494643u           /* "CFIR" little-endian */
#define CFI_REC_ALIGN 8u
#define CFI_REC_MAX_SIZE (64u * 1024u * 1024u) /* sanity bound for readers */

/* How written bytes are kept (header data_mode). */
enum cfi_data_mode {
    CFI_DATA_FULL = 0,      /* every written byte is in the record */
    CFI_DATA_DIGEST = 1,    /* only a 64-bit FNV-1a digest (rec.digest) */
    CFI_DATA_NONE = 2,      /* neither: lengths and offsets only */
};

struct cfi_trace_header {
    char magic[8];          /* CFI_TRACE_MAGIC */
    uint32_t version;       /* CFI_TRACE_VERSION */
    uint32_t hdr_size;      /* CFI_TRACE_HDR_SIZE */
    uint64_t seq_next;      /* shared atomic counter: next sequence number */
    uint64_t created_ns;    /* CLOCK_REALTIME when the trace was created */
    uint32_t data_mode;     /* enum cfi_data_mode */
    uint32_t creator_pid;   /* process that created the file */
    uint64_t reserved[8];
};

/*
 * Semantic operation of a record.  The replay library works on these, not
 * on the call names: pwrite64 and writev are both CFI_OP_WRITE.  Numbers
 * are part of the format; append, never renumber.
 */
enum cfi_op {
    CFI_OP_NONE = 0,
    CFI_OP_OPEN = 1,        /* path; fd = result; arg = flags; arg2 = mode;
                               dev/ino = identity of the opened file */
    CFI_OP_CLOSE = 2,       /* fd */
    CFI_OP_WRITE = 3,       /* fd; off = where the bytes landed; len =
                               requested; result = bytes written; data */
    CFI_OP_TRUNCATE = 4,    /* fd or path; arg2 = new length */
    CFI_OP_FALLOCATE = 5,   /* fd; arg = mode; off; len */
    CFI_OP_FSYNC = 6,       /* fd */
    CFI_OP_FDATASYNC = 7,   /* fd */
    CFI_OP_SYNCFS = 8,      /* fd */
    CFI_OP_SYNC = 9,        /* no argument: every filesystem */
    CFI_OP_SYNC_RANGE = 10, /* fd; off; len; arg = flags */
    CFI_OP_MSYNC = 11,      /* off = address; len; arg = flags */
    CFI_OP_RENAME = 12,     /* path -> path2; arg = renameat2 flags */
    CFI_OP_LINK = 13,       /* path (or fd2 when published from
                               /proc/self/fd/N) -> path2; arg = flags */
    CFI_OP_SYMLINK = 14,    /* path = link target (as given); path2 = link */
    CFI_OP_UNLINK = 15,     /* path */
    CFI_OP_RMDIR = 16,      /* path */
    CFI_OP_MKDIR = 17,      /* path; arg2 = mode */
    CFI_OP_CHMOD = 18,      /* fd or path; arg2 = mode */
    CFI_OP_CHOWN = 19,      /* fd or path; arg2 = uid << 32 | gid */
    CFI_OP_SETXATTR = 20,   /* fd or path; path2 = attribute name;
                               data = value; arg = flags */
    CFI_OP_UTIMES = 21,     /* fd or path; data = 2 x struct timespec or
                               empty for "now" */
    CFI_OP_COPY = 22,       /* copy_file_range/sendfile: fd = out, off =
                               out offset, fd2 = in, off2 = in offset;
                               data = the bytes that landed in fd */
    CFI_OP_CLONE = 23,      /* ioctl FICLONE: fd = dest, fd2 = source */
    CFI_OP_FREEZE = 24,     /* ioctl FIFREEZE on fd: performed as syncfs */
    CFI_OP_THAW = 25,       /* ioctl FITHAW on fd: not performed */
    CFI_OP_SETFLAGS = 26,   /* ioctl FS_IOC_SETFLAGS: fd; arg2 = flags */
    CFI_OP_INTERPOSER = 27, /* not a call: a note, once per wrapped call and
                               process, that the definition the shim
                               forwards `call` to is not the C library's;
                               path = that object; arg = CFI_IP_*; seq 0.
                               Readers keep these apart from the calls. */
    CFI_OP_MAX
};

/* Record flags. */
#define CFI_RF_INJECTED     0x0001u /* a fault rule changed this call */
#define CFI_RF_NOT_EXECUTED 0x0002u /* the real call was not performed */
#define CFI_RF_CRASH        0x0004u /* the client was stopped at this call */
#define CFI_RF_FROM_FD      0x0008u /* path (LINK) was /proc/self/fd/fd2 */
#define CFI_RF_TMPFILE      0x0010u /* OPEN with O_TMPFILE: path is the dir */
#define CFI_RF_DATA_TRUNC   0x0020u /* data shorter than result (digest or
                                       none mode, or data read-back failed) */
#define CFI_RF_PATH_FROM_FD 0x0040u /* path was read from /proc/self/fd for
                                       an fd not opened under the shim */
#define CFI_RF_SHORT        0x0080u /* injected short write */
#define CFI_RF_DIR          0x0100u /* fd refers to a directory */
#define CFI_RF_AFTER        0x0200u /* crash/fault taken after the call */
#define CFI_RF_INTERPOSED   0x0400u /* forwarded to a definition outside the
                                       C library (an interposer loaded after
                                       the shim): see MODELS.md §3a */
#define CFI_RF_FORWARDS     0x0800u /* with INTERPOSED: the shim's probe saw
                                       that definition reach the kernel */

/* arg of a CFI_OP_INTERPOSER note. */
#define CFI_IP_PROBED   0x1u    /* the call has a probe and it was run */
#define CFI_IP_FORWARDS 0x2u    /* the probe got the kernel's answer */

struct cfi_rec {
    uint32_t magic;         /* CFI_REC_MAGIC */
    uint32_t size;          /* whole record incl. padding, multiple of 8 */
    uint32_t crc;           /* CRC-32C of bytes [12, size) of the record */
    uint16_t call;          /* CFI_CALL_* of the wrapped entry point */
    uint16_t op;            /* enum cfi_op */
    uint64_t seq;           /* global sequence number, taken at entry */
    uint64_t time_ns;       /* CLOCK_MONOTONIC at entry */
    uint32_t pid;           /* process */
    uint32_t tid;           /* thread (gettid) */
    int64_t result;         /* return value (-1 on failure) */
    int32_t err;            /* errno when result is -1, else 0 */
    int32_t fd;             /* primary fd, -1 if none; for OPEN the result */
    int32_t fd2;            /* secondary fd, -1 if none */
    uint32_t flags;         /* CFI_RF_* */
    uint32_t arg;           /* call flags: open flags, renameat2 flags... */
    uint32_t pad0;
    uint64_t arg2;          /* mode, length, uid/gid, ioctl flags */
    int64_t off;            /* offset (-1 if none) */
    int64_t off2;           /* second offset (-1 if none) */
    uint64_t len;           /* requested length */
    uint64_t dev;           /* identity of fd's file, or of path after */
    uint64_t ino;           /*   the call (OPEN, MKDIR...); 0 if unknown */
    uint64_t dev2;          /* identity of fd2's file */
    uint64_t ino2;
    uint64_t digest;        /* FNV-1a 64 of the written bytes in digest
                               mode; 0 in full mode (readers hash data) */
    uint16_t path_len;      /* bytes of path that follow (no NUL) */
    uint16_t path2_len;     /* bytes of path2 that follow path */
    uint32_t data_len;      /* bytes of data that follow path2 */
};
/* Variable part: path[path_len] path2[path2_len] data[data_len] pad. */

#endif /* CFI_TRACE_FORMAT_H */
