/* SPDX-License-Identifier: MIT */
/*
 * stdio.c: files written through the C library's stdio.
 *
 * Bytes a client hands to fwrite/fprintf reach the kernel from inside the
 * C library (its own write, which no preload can interpose), so a file
 * written with fopen ... fclose (dpkg's .list files and status,
 * update-alternatives' database) would leave no record.  Instead:
 *
 *  - fopen/fopen64 in a writing mode open the file through open() (the
 *    wrapper: recorded like any open) and fdopen it, with a buffer of
 *    CFI_STDIO_BUF bytes, so the library does not flush on its own for
 *    any file smaller than that;
 *  - fflush and fclose of such a stream first write its pending bytes
 *    through write() (the wrapper: recorded, faults apply), then let the
 *    library finish with nothing left to write; so does exit, for the
 *    streams left open (a destructor);
 *  - setvbuf on such a stream is a no-op: it keeps the large buffer.
 *
 * Not covered: a stream that outgrows the buffer (the library flushes
 * the overflow itself), streams made by fdopen or freopen, _exit.  The fidelity check of a recording (the
 * trace replayed against the state the run left) shows any of these.
 * This is a client's stdio call, not the recording path: it allocates
 * and locks as fopen itself does.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

#define CFI_STDIO_BUF (4u << 20)
#define CFI_STDIO_MAX 256

static struct {
    FILE *fp;
    char *buf;
} streams[CFI_STDIO_MAX];
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* open(2) flags of a writing fopen mode, or -1 for a read-only one (and
 * for ",ccs=", left to the library). */
static int
mode_flags(const char *mode)
{
    int flags;
    if (strstr(mode, ",ccs=") != NULL) {
        return -1;
    }
    switch (mode[0]) {
    case 'w': flags = O_CREAT | O_TRUNC; break;
    case 'a': flags = O_CREAT | O_APPEND; break;
    case 'r': flags = 0; break;
    default: return -1;
    }
    int plus = strchr(mode + 1, '+') != NULL;
    if (mode[0] == 'r' && !plus) {
        return -1;
    }
    flags |= plus ? O_RDWR : O_WRONLY;
    if (strchr(mode + 1, 'x') != NULL) {
        flags |= O_EXCL;
    }
    if (strchr(mode + 1, 'e') != NULL) {
        flags |= O_CLOEXEC;
    }
    return flags;
}

static FILE *
open_stream(const char *path, const char *mode, const char *real_name)
{
    int flags = mode_flags(mode);
    if (flags < 0) {
        FILE *(*real)(const char *, const char *) =
            (FILE *(*)(const char *, const char *))next_sym(real_name);
        if (real == NULL) {
            errno = ENOSYS;
            return NULL;
        }
        return real(path, mode);
    }
    int fd = open(path, flags, 0666);
    if (fd < 0) {
        return NULL;
    }
    char fdmode[3] = { mode[0], 0, 0 };
    if (strchr(mode + 1, '+') != NULL) {
        fdmode[1] = '+';
    }
    FILE *fp = fdopen(fd, fdmode);
    if (fp == NULL) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    char *buf = malloc(CFI_STDIO_BUF);
    if (buf == NULL) {
        return fp;               /* untracked, as the library would do */
    }
    /* Before any byte goes in: setvbuf is only valid then. */
    if (setvbuf(fp, buf, _IOFBF, CFI_STDIO_BUF) != 0) {
        free(buf);
        return fp;
    }
    int slot = -1;
    pthread_mutex_lock(&streams_lock);
    for (int i = 0; i < CFI_STDIO_MAX && slot < 0; i++) {
        if (streams[i].fp == NULL) {
            streams[i].fp = fp;
            streams[i].buf = buf;
            slot = i;
        }
    }
    pthread_mutex_unlock(&streams_lock);
    /* The table full: the stream keeps the buffer (never freed) but is
       not drained through write(); the fidelity check would say so. */
    return fp;
}

/* The slot of a tracked stream, -1 for another; with remove, untracked
 * and its buffer handed back in *buf. */
static int
find_stream(FILE *fp, int remove, char **buf)
{
    int slot = -1;
    pthread_mutex_lock(&streams_lock);
    for (int i = 0; i < CFI_STDIO_MAX; i++) {
        if (streams[i].fp == fp) {
            slot = i;
            if (remove) {
                *buf = streams[i].buf;
                streams[i].fp = NULL;
                streams[i].buf = NULL;
            }
            break;
        }
    }
    pthread_mutex_unlock(&streams_lock);
    return slot;
}

/* Write a tracked stream's pending bytes through write(); -1 (errno set,
 * the bytes left pending) when that fails. */
static int
drain(FILE *fp)
{
    flockfile(fp);
    char *p = fp->_IO_write_base;
    char *end = fp->_IO_write_ptr;
    int fd = fileno(fp);
    while (p != NULL && p < end) {
        ssize_t n = write(fd, p, (size_t)(end - p));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            funlockfile(fp);
            return -1;
        }
        p += n;
    }
    /* Nothing pending now: the library's own flush writes nothing. */
    fp->_IO_write_ptr = fp->_IO_write_base;
    funlockfile(fp);
    return 0;
}

static void
drain_all(void)
{
    FILE *fps[CFI_STDIO_MAX];
    int n = 0;
    pthread_mutex_lock(&streams_lock);
    for (int i = 0; i < CFI_STDIO_MAX; i++) {
        if (streams[i].fp != NULL) {
            fps[n++] = streams[i].fp;
        }
    }
    pthread_mutex_unlock(&streams_lock);
    for (int i = 0; i < n; i++) {
        (void)drain(fps[i]);
    }
}

CFI_EXPORT FILE *
fopen(const char *path, const char *mode)
{
    return open_stream(path, mode, "fopen");
}

CFI_EXPORT FILE *
fopen64(const char *path, const char *mode)
{
    return open_stream(path, mode, "fopen64");
}

CFI_EXPORT int
fflush(FILE *fp)
{
    int (*real)(FILE *) = (int (*)(FILE *))next_sym("fflush");
    if (real == NULL) {
        errno = ENOSYS;
        return EOF;
    }
    if (fp == NULL) {
        drain_all();
    } else if (find_stream(fp, 0, NULL) >= 0 && drain(fp) != 0) {
        return EOF;
    }
    return real(fp);
}

CFI_EXPORT int
fclose(FILE *fp)
{
    int (*real)(FILE *) = (int (*)(FILE *))next_sym("fclose");
    if (real == NULL) {
        errno = ENOSYS;
        return EOF;
    }
    char *buf = NULL;
    int tracked = find_stream(fp, 1, &buf) >= 0;
    int drained = tracked ? drain(fp) : 0;
    int r = real(fp);
    free(buf);
    return drained != 0 ? EOF : r;
}

/* A tracked stream keeps its buffer: a client's own (dpkg gives its
 * status file one of a few KiB) would let the library flush by itself. */
CFI_EXPORT int
setvbuf(FILE *fp, char *buf, int mode, size_t size)
{
    int (*real)(FILE *, char *, int, size_t) =
        (int (*)(FILE *, char *, int, size_t))next_sym("setvbuf");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (fp != NULL && find_stream(fp, 0, NULL) >= 0) {
        return 0;
    }
    return real(fp, buf, mode, size);
}

/* A stream left open is flushed by exit(), from inside the library:
 * drained first, here (shared objects' destructors run before that
 * flush). */
__attribute__((destructor)) static void
drain_at_exit(void)
{
    drain_all();
}
