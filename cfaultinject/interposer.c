/* SPDX-License-Identifier: MIT */
/*
 * interposer.c: see interposer.h.
 *
 * Which objects are "the C library": glibc's own shared objects.  A call
 * may legitimately resolve into libpthread, librt or libdl (glibc before
 * 2.34 kept fsync & co. in libpthread as well) or into the dynamic loader;
 * all of them are glibc and reach the kernel.  Anything else is an
 * interposer.
 *
 * A probe tells a forwarding interposer from one that swallows the call.
 * The shim cannot see what the interposer does with a call (its own
 * call-through goes to the definition after it, not back to the shim), so
 * once, at load, it calls the interposer with arguments for which the
 * kernel answers with an error that a no-op cannot make up without asking
 * the kernel:
 *
 *   fsync, fdatasync, syncfs, sync_file_range  an O_PATH descriptor: the
 *       kernel says EBADF (fcntl(F_GETFD), which libeatmydata checks,
 *       accepts the descriptor, so its emulation answers 0);
 *   msync                   an address that is not page aligned: EINVAL;
 *   open and its variants   O_DSYNC on a read-only open of "/": the
 *       descriptor's status flags (F_GETFL) still hold O_DSYNC only when
 *       the flag reached the kernel (libeatmydata strips O_SYNC/O_DSYNC);
 *   sync                    no probe possible (void, no argument);
 *   every other call        no probe: not a durability call.
 *
 * The probe answers for the call as the interposer treats these
 * arguments; an interposer that forwards some calls and swallows others
 * would fool it.  MODELS.md §3a says how far the models trust it.
 */
#include "interposer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cfi-calls.h"
#include "cfi-real.h"
#include "trace-format.h"
#include "tracewriter.h"

struct next_def {
    const char *path;       /* dli_fname of the defining object (the
                               loader's string, valid while it is loaded) */
    uint8_t interposed;     /* that object is not glibc */
    uint8_t probed;         /* the call's probe was run */
    uint8_t forwards;       /* ... and got the kernel's answer */
};

static struct next_def next_of[CFI_CALL_COUNT];

/* The C library's own definitions, looked up in libc.so.6 itself. */
static struct {
    int resolved;
    void *base;             /* load address of libc.so.6 */
    int (*syncfs)(int);
    int (*open)(const char *, int, ...);
    int (*close)(int);
} own;

static void
resolve_own(void)
{
    if (__atomic_load_n(&own.resolved, __ATOMIC_ACQUIRE)) {
        return;
    }
    void *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (h != NULL) {
        Dl_info info;
        *(void **)&own.syncfs = dlsym(h, "syncfs");
        *(void **)&own.open = dlsym(h, "open");
        *(void **)&own.close = dlsym(h, "close");
        if (own.close != NULL && dladdr((void *)own.close, &info) != 0) {
            own.base = info.dli_fbase;
        }
        /* Keep the reference: libc is never unloaded anyway. */
    }
    __atomic_store_n(&own.resolved, 1, __ATOMIC_RELEASE);
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

static int
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Is the object at base, named path, one of glibc's? */
static int
is_glibc(const char *path, void *base)
{
    static const char *const names[] = {
        "libc.so.6", "libpthread.so.0", "librt.so.1", "libdl.so.2",
        NULL,
    };
    const char *b = base_name(path);

    if (own.base != NULL && base == own.base) {
        return 1;
    }
    for (const char *const *n = names; *n != NULL; n++) {
        if (strcmp(b, *n) == 0) {
            return 1;
        }
    }
    /* The dynamic loader: ld-linux-x86-64.so.2, ld-linux-aarch64.so.1,
       ld64.so.2, ld.so.1 ... */
    return starts_with(b, "ld-linux") || starts_with(b, "ld64.so.")
           || starts_with(b, "ld.so.");
}

void
cfi_note_next(unsigned id, void *fn)
{
    Dl_info info;

    if (id >= CFI_CALL_COUNT || fn == NULL) {
        return;
    }
    resolve_own();
    if (dladdr(fn, &info) == 0 || info.dli_fname == NULL) {
        return; /* the loader does not know: leave it as libc's */
    }
    next_of[id].path = info.dli_fname;
    next_of[id].interposed = !is_glibc(info.dli_fname, info.dli_fbase);
}

uint32_t
cfi_next_rflags(unsigned id)
{
    if (id >= CFI_CALL_COUNT || !next_of[id].interposed) {
        return 0;
    }
    return CFI_RF_INTERPOSED | (next_of[id].forwards ? CFI_RF_FORWARDS : 0);
}

int
cfi_libc_syncfs(int fd)
{
    resolve_own();
    if (own.syncfs != NULL) {
        return own.syncfs(fd);
    }
    return (int)cfi_real.syscall(SYS_syncfs, fd);
}

/* ---- probes ------------------------------------------------------------ */

static int
failed_with(int r, int want)
{
    return r == -1 && errno == want;
}

/* Did the O_DSYNC of an open that returned fd reach the kernel? */
static int
kept_dsync(int fd)
{
    if (fd < 0) {
        return 0;
    }
    int fl = fcntl(fd, F_GETFL);
    if (own.close != NULL) {
        own.close(fd);
    }
    return fl >= 0 && (fl & O_DSYNC) == O_DSYNC;
}

/* 1: reached the kernel, 0: did not, -1: no probe for this call. */
static int
probe(unsigned id, int pathfd)
{
    const int dsync = O_RDONLY | O_DIRECTORY | O_DSYNC | O_CLOEXEC;

    switch (id) {
    case CFI_CALL_fsync:
        return pathfd >= 0 ? failed_with(cfi_real.fsync(pathfd), EBADF) : -1;
    case CFI_CALL_fdatasync:
        return pathfd >= 0 ? failed_with(cfi_real.fdatasync(pathfd), EBADF)
                           : -1;
    case CFI_CALL_syncfs:
        return pathfd >= 0 ? failed_with(cfi_real.syncfs(pathfd), EBADF) : -1;
    case CFI_CALL_sync_file_range:
        return pathfd >= 0
                   ? failed_with(cfi_real.sync_file_range(pathfd, 0, 0, 0),
                                 EBADF)
                   : -1;
    case CFI_CALL_msync:
        return failed_with(cfi_real.msync((void *)1, 1, MS_ASYNC), EINVAL);
    case CFI_CALL_open:
        return kept_dsync(cfi_real.open("/", dsync, 0));
    case CFI_CALL_open64:
        return kept_dsync(cfi_real.open64("/", dsync, 0));
    case CFI_CALL_openat:
        return kept_dsync(cfi_real.openat(AT_FDCWD, "/", dsync, 0));
    case CFI_CALL_openat64:
        return kept_dsync(cfi_real.openat64(AT_FDCWD, "/", dsync, 0));
    case CFI_CALL___open_2:
        return kept_dsync(cfi_real.__open_2("/", dsync));
    case CFI_CALL___open64_2:
        return kept_dsync(cfi_real.__open64_2("/", dsync));
    case CFI_CALL___openat_2:
        return kept_dsync(cfi_real.__openat_2(AT_FDCWD, "/", dsync));
    case CFI_CALL___openat64_2:
        return kept_dsync(cfi_real.__openat64_2(AT_FDCWD, "/", dsync));
    default:
        return -1;
    }
}

void
cfi_interposers_probe(void)
{
    int saved = errno;
    int pathfd = -1;

    resolve_own();
    for (unsigned id = 1; id < CFI_CALL_COUNT; id++) {
        if (!next_of[id].interposed) {
            continue;
        }
        if (pathfd < 0 && own.open != NULL) {
            pathfd = own.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        int verdict = probe(id, pathfd);
        next_of[id].probed = verdict >= 0;
        next_of[id].forwards = verdict == 1;
    }
    if (pathfd >= 0 && own.close != NULL) {
        own.close(pathfd);
    }
    errno = saved;
}

void
cfi_interposers_record(void)
{
    struct timespec ts;

    if (cfi_tw_fd() < 0) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (unsigned id = 1; id < CFI_CALL_COUNT; id++) {
        const struct next_def *d = &next_of[id];
        if (!d->interposed) {
            continue;
        }
        struct cfi_rec rec;
        memset(&rec, 0, sizeof rec);
        rec.call = (uint16_t)id;
        rec.op = CFI_OP_INTERPOSER;
        rec.seq = 0; /* a note, not a call: takes no number */
        rec.time_ns = (uint64_t)ts.tv_sec * 1000000000ULL
                      + (uint64_t)ts.tv_nsec;
        rec.pid = (uint32_t)getpid();
        rec.tid = (uint32_t)gettid();
        rec.fd = -1;
        rec.fd2 = -1;
        rec.off = -1;
        rec.off2 = -1;
        rec.arg = (d->probed ? CFI_IP_PROBED : 0)
                  | (d->forwards ? CFI_IP_FORWARDS : 0);
        (void)cfi_tw_append(&rec, d->path, strnlen(d->path, 4096), NULL, 0,
                            NULL, 0, 0);
    }
}
