/* SPDX-License-Identifier: MIT */
/*
 * runtime.h: the hand-written runtime that every generated wrapper calls.
 *
 * A wrapper fills a struct cfi_call with the arguments of the call it
 * intercepted (as the spec describes them), then:
 *
 *   cfi_enter()  decides whether the shim takes part at all: not when it is
 *                disabled, still initialising, or already inside itself on
 *                this thread (the per-thread guard);
 *   cfi_pre()    resolves paths, takes a sequence number, runs the rules:
 *                it may answer FAIL (do not call libc, return an error),
 *                SHORT (call libc with a smaller count) or never return
 *                (crash before the call);
 *   (libc)       the real call, through cfi_real;
 *   cfi_post()   records the call, applies after-faults and crash-after,
 *                and drops the guard.  It returns the value the wrapper
 *                must return and sets *err to the errno to leave.
 *
 * Nothing on this path allocates, takes a lock or uses stdio: the wrapper
 * may run in any thread of any client, including one that holds malloc's
 * lock in a signal handler.
 */
#ifndef CFI_RUNTIME_H
#define CFI_RUNTIME_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "trace-format.h"

#define CFI_EXPORT __attribute__((visibility("default")))

/* Exit status of a client stopped by a malformed CFAULTINJECT. */
#define CFI_EXIT_CONFIG 125

/* Answers of cfi_pre(). */
enum cfi_action {
    CFI_ACT_RUN = 0,   /* perform the real call */
    CFI_ACT_FAIL = 1,  /* do not perform it; fail with c->inj_errno */
    CFI_ACT_SHORT = 2, /* perform it with c->reduced_len bytes */
};

/* Where the offset of a data call comes from. */
enum cfi_off_kind {
    CFI_OFF_NONE = 0,  /* the call has no offset */
    CFI_OFF_VALUE = 1, /* c->off holds it */
    CFI_OFF_CUR = 2,   /* the file position: read after the call */
};

struct cfi_call {
    uint16_t id;            /* CFI_CALL_* */
    uint16_t op;            /* enum cfi_op */
    int fd;                 /* primary descriptor, -1 if none */
    int fd2;                /* second descriptor, -1 if none */
    int dirfd;              /* base of path (AT_FDCWD if none given) */
    int dirfd2;             /* base of path2 */
    const char *path;       /* first path as given, NULL if none */
    const char *path2;      /* second path as given */
    const char *target;     /* symlink target (stored verbatim) */
    uint32_t arg;           /* rec.arg */
    uint64_t arg2;          /* rec.arg2 */
    int64_t off;            /* rec.off when off_kind is VALUE */
    int64_t off2;           /* rec.off2 (-1 if none) */
    int off_kind;           /* enum cfi_off_kind */
    uint64_t len;           /* rec.len */
    const void *buf;        /* written bytes (one buffer) */
    const struct iovec *iov;/* written bytes (vector) */
    int iovcnt;
    const char *xname;      /* xattr name */
    int has_reduce;         /* spec has reduce: short faults allowed */
    int removedir_flags;    /* value of the removedir: argument, or 0 */
    const void *times;      /* two struct timespec or NULL */

    /* Filled by the runtime. */
    int active;             /* the call is recorded and matched */
    int rule;               /* index of the rule that fired, -1 if none */
    int after_action;       /* action to take after the call */
    int mark_after;         /* 1 + index of a mark rule to announce after
                               the call; 0 none */
    int inj_errno;          /* errno a FAIL returns */
    uint64_t reduced_len;   /* count a SHORT passes to libc */
    uint32_t rflags;        /* CFI_RF_* gathered so far */
    uint64_t seq;
    uint64_t t0;
    uint64_t dev, ino;      /* identity of fd's file */
    uint64_t dev2, ino2;    /* identity of fd2's file */
    int fd_kind;            /* 0 unknown, 1 regular, 2 dir, 3 other */
    char rpath[PATH_MAX];   /* path resolved to an absolute path */
    char rpath2[PATH_MAX];
};

/* Resolve every real symbol (idempotent, from the constructor or lazily). */
void cfi_resolve_all(void);

int cfi_enter(struct cfi_call *c, unsigned id, unsigned op);
int cfi_pre(struct cfi_call *c);
int64_t cfi_post(struct cfi_call *c, int64_t result, int *err);

/* Used by the hand-written wrappers. */
void cfi_call_init(struct cfi_call *c);
int cfi_is_tracked_open(int flags);
void cfi_fd_forget(int fd);

#endif /* CFI_RUNTIME_H */
