/* SPDX-License-Identifier: MIT */
/*
 * nosync.so: a sync interposer that swallows every call, as libeatmydata
 * does, but smaller: fsync, fdatasync, syncfs and sync return at once
 * without calling anything.  The tests preload it after the shim to show
 * that the trace flags such calls and the models do not count them.
 */
#include <unistd.h>

__attribute__((visibility("default"))) int
fsync(int fd)
{
    (void)fd;
    return 0;
}

__attribute__((visibility("default"))) int
fdatasync(int fd)
{
    (void)fd;
    return 0;
}

__attribute__((visibility("default"))) int
syncfs(int fd)
{
    (void)fd;
    return 0;
}

__attribute__((visibility("default"))) void
sync(void)
{
}
