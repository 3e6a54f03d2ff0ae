/* SPDX-License-Identifier: MIT */
/*
 * passsync.so: nosync.so's twin, a sync interposer that forwards: each of
 * fsync, fdatasync, syncfs and sync calls the next definition
 * (dlsym(RTLD_NEXT), looked up at the call, so that it works whatever
 * order the constructors run in).  Preloaded after the shim, its calls are
 * interposed but reach the kernel: the models must count them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

__attribute__((visibility("default"))) int
fsync(int fd)
{
    int (*next)(int) = NEXT("fsync", int (*)(int));
    if (next == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd);
}

__attribute__((visibility("default"))) int
fdatasync(int fd)
{
    int (*next)(int) = NEXT("fdatasync", int (*)(int));
    if (next == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd);
}

__attribute__((visibility("default"))) int
syncfs(int fd)
{
    int (*next)(int) = NEXT("syncfs", int (*)(int));
    if (next == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd);
}

__attribute__((visibility("default"))) void
sync(void)
{
    void (*next)(void) = NEXT("sync", void (*)(void));
    if (next != NULL) {
        next();
    }
}
