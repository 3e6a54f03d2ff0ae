/* SPDX-License-Identifier: MIT */
/*
 * custom.c: the wrappers the generator cannot write.
 *
 *  - The open family is variadic: the mode is read (as an int, the
 *    promoted type) exactly when __OPEN_NEEDS_MODE(flags) holds, that is
 *    for O_CREAT *and* O_TMPFILE.  Forwarding it only for O_CREAT, as some
 *    shims do, gives O_TMPFILE files mode 0000 once linked, which breaks
 *    the very pattern (O_TMPFILE + linkat) ostree publishes files with.
 *    Read-only opens change nothing durable and are not recorded.
 *  - ioctl: FIFREEZE never reaches a filesystem; it is recorded as a
 *    barrier and performed as the C library's own syncfs() (not the next
 *    definition: an interposer such as libeatmydata would swallow it),
 *    and FITHAW as nothing.  This holds
 *    in every mode, even passthrough: a client run as root in a directory
 *    sysroot would otherwise freeze the host's root filesystem.
 *  - syscall: renameat2 reached through syscall(SYS_renameat2, ...) (as
 *    libglnx does where libc lacks it) is recorded like renameat2.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cfi-calls.h"
#include "cfi-real.h"
#include "interposer.h"
#include "runtime.h"

/* The fortified entry points: glibc declares them only in a
   _FORTIFY_SOURCE build, which the shim is not, so the prototypes are
   given here (glibc's signatures). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

#ifndef __OPEN_NEEDS_MODE
#define __OPEN_NEEDS_MODE(f) (((f) & O_CREAT) != 0 || ((f) & O_TMPFILE) == O_TMPFILE)
#endif

static int
real_open(unsigned id, int dirfd, const char *path, int flags, mode_t mode)
{
    switch (id) {
    case CFI_CALL_open:
        return cfi_real.open(path, flags, mode);
    case CFI_CALL_open64:
        return cfi_real.open64(path, flags, mode);
    case CFI_CALL_openat:
        return cfi_real.openat(dirfd, path, flags, mode);
    case CFI_CALL_openat64:
        return cfi_real.openat64(dirfd, path, flags, mode);
    case CFI_CALL_creat:
        return cfi_real.creat(path, mode);
    case CFI_CALL_creat64:
        return cfi_real.creat64(path, mode);
    case CFI_CALL___open_2:
        return cfi_real.__open_2(path, flags);
    case CFI_CALL___open64_2:
        return cfi_real.__open64_2(path, flags);
    case CFI_CALL___openat_2:
        return cfi_real.__openat_2(dirfd, path, flags);
    case CFI_CALL___openat64_2:
        return cfi_real.__openat64_2(dirfd, path, flags);
    default:
        errno = ENOSYS;
        return -1;
    }
}

static int
have_real_open(unsigned id)
{
    void *p = NULL;
    switch (id) {
    case CFI_CALL_open: p = (void *)cfi_real.open; break;
    case CFI_CALL_open64: p = (void *)cfi_real.open64; break;
    case CFI_CALL_openat: p = (void *)cfi_real.openat; break;
    case CFI_CALL_openat64: p = (void *)cfi_real.openat64; break;
    case CFI_CALL_creat: p = (void *)cfi_real.creat; break;
    case CFI_CALL_creat64: p = (void *)cfi_real.creat64; break;
    case CFI_CALL___open_2: p = (void *)cfi_real.__open_2; break;
    case CFI_CALL___open64_2: p = (void *)cfi_real.__open64_2; break;
    case CFI_CALL___openat_2: p = (void *)cfi_real.__openat_2; break;
    case CFI_CALL___openat64_2: p = (void *)cfi_real.__openat64_2; break;
    default: break;
    }
    return p != NULL;
}

static int
open_common(unsigned id, int dirfd, const char *path, int flags, mode_t mode)
{
    struct cfi_call c;
    int r, e;

    if (!have_real_open(id)) {
        cfi_resolve_all();
        if (!have_real_open(id)) {
            errno = ENOSYS;
            return -1;
        }
    }
    if (!cfi_is_tracked_open(flags) || !cfi_enter(&c, id, CFI_OP_OPEN)) {
        return real_open(id, dirfd, path, flags, mode);
    }
    c.dirfd = dirfd;
    c.path = path;
    c.arg = (uint32_t)flags;
    c.arg2 = (uint64_t)mode;
    if (cfi_pre(&c) == CFI_ACT_FAIL) {
        e = c.inj_errno;
        (void)cfi_post(&c, -1, &e);
        errno = e;
        return -1;
    }
    r = real_open(id, dirfd, path, flags, mode);
    e = errno;
    r = (int)cfi_post(&c, r, &e);
    errno = e;
    return r;
}

#define READ_MODE(last, flags, mode)                                       \
    do {                                                                   \
        if (__OPEN_NEEDS_MODE(flags)) {                                    \
            va_list ap;                                                    \
            va_start(ap, last);                                            \
            (mode) = (mode_t)va_arg(ap, int);                              \
            va_end(ap);                                                    \
        }                                                                  \
    } while (0)

CFI_EXPORT int
open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    READ_MODE(flags, flags, mode);
    return open_common(CFI_CALL_open, AT_FDCWD, path, flags, mode);
}

CFI_EXPORT int
open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    READ_MODE(flags, flags, mode);
    return open_common(CFI_CALL_open64, AT_FDCWD, path, flags, mode);
}

CFI_EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    READ_MODE(flags, flags, mode);
    return open_common(CFI_CALL_openat, dirfd, path, flags, mode);
}

CFI_EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    READ_MODE(flags, flags, mode);
    return open_common(CFI_CALL_openat64, dirfd, path, flags, mode);
}

CFI_EXPORT int
creat(const char *path, mode_t mode)
{
    return open_common(CFI_CALL_creat, AT_FDCWD, path,
                       O_CREAT | O_WRONLY | O_TRUNC, mode);
}

CFI_EXPORT int
creat64(const char *path, mode_t mode)
{
    return open_common(CFI_CALL_creat64, AT_FDCWD, path,
                       O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* The fortified entries take no mode: glibc calls them only without one. */
CFI_EXPORT int
__open_2(const char *path, int flags)
{
    return open_common(CFI_CALL___open_2, AT_FDCWD, path, flags, 0);
}

CFI_EXPORT int
__open64_2(const char *path, int flags)
{
    return open_common(CFI_CALL___open64_2, AT_FDCWD, path, flags, 0);
}

CFI_EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
    return open_common(CFI_CALL___openat_2, dirfd, path, flags, 0);
}

CFI_EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
    return open_common(CFI_CALL___openat64_2, dirfd, path, flags, 0);
}

/* ---- ioctl ---------------------------------------------------------- */

static int
ioctl_traced(int fd, unsigned long request, void *argp, unsigned op)
{
    struct cfi_call c;
    int r, e;
    int entered = cfi_enter(&c, CFI_CALL_ioctl, op);

    if (entered) {
        c.fd = fd;
        c.arg = (uint32_t)request;
        if (op == CFI_OP_CLONE) {
            c.fd2 = (int)(intptr_t)argp;
        } else if (op == CFI_OP_SETFLAGS && argp != NULL) {
            c.arg2 = (uint64_t)(uint32_t) * (const int *)argp;
        }
        if (cfi_pre(&c) == CFI_ACT_FAIL) {
            e = c.inj_errno;
            (void)cfi_post(&c, -1, &e);
            errno = e;
            return -1;
        }
    }
    switch (op) {
    case CFI_OP_FREEZE:
        r = cfi_libc_syncfs(fd);
        break;
    case CFI_OP_THAW:
        r = 0;
        break;
    default:
        r = cfi_real.ioctl(fd, request, argp);
        break;
    }
    if (!entered) {
        return r;
    }
    e = errno;
    r = (int)cfi_post(&c, r, &e);
    errno = e;
    return r;
}

CFI_EXPORT int
ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    void *argp;

    va_start(ap, request);
    argp = va_arg(ap, void *);
    va_end(ap);
    if (cfi_real.ioctl == NULL || cfi_real.syncfs == NULL) {
        cfi_resolve_all();
        if (cfi_real.ioctl == NULL || cfi_real.syncfs == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    switch (request) {
    case FIFREEZE:
        return ioctl_traced(fd, request, argp, CFI_OP_FREEZE);
    case FITHAW:
        return ioctl_traced(fd, request, argp, CFI_OP_THAW);
    case FICLONE:
        return ioctl_traced(fd, request, argp, CFI_OP_CLONE);
    case FS_IOC_SETFLAGS:
        return ioctl_traced(fd, request, argp, CFI_OP_SETFLAGS);
    default:
        return cfi_real.ioctl(fd, request, argp);
    }
}

/* ---- syscall -------------------------------------------------------- */

CFI_EXPORT long
syscall(long number, ...)
{
    va_list ap;
    long a[6];
    struct cfi_call c;
    long r;
    int e;

    /* The kernel ABI passes six register-sized arguments; read them all. */
    va_start(ap, number);
    for (int i = 0; i < 6; i++) {
        a[i] = va_arg(ap, long);
    }
    va_end(ap);
    if (cfi_real.syscall == NULL) {
        cfi_resolve_all();
        if (cfi_real.syscall == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    if (number != SYS_renameat2 || !cfi_enter(&c, CFI_CALL_syscall, CFI_OP_RENAME)) {
        return cfi_real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    c.dirfd = (int)a[0];
    c.path = (const char *)a[1];
    c.dirfd2 = (int)a[2];
    c.path2 = (const char *)a[3];
    c.arg = (uint32_t)a[4];
    if (cfi_pre(&c) == CFI_ACT_FAIL) {
        e = c.inj_errno;
        (void)cfi_post(&c, -1, &e);
        errno = e;
        return -1;
    }
    r = cfi_real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    e = errno;
    r = (long)cfi_post(&c, r, &e);
    errno = e;
    return r;
}
