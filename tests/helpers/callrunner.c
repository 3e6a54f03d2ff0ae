/* SPDX-License-Identifier: MIT */
/*
 * callrunner: perform one wrapped libc call on a prepared sandbox, so that
 * the shim tests can run every call under the real LD_PRELOAD.
 *
 *   callrunner DIR setup         create the sandbox's starting files
 *   callrunner DIR run NAME      perform call NAME; print "result=R errno=E"
 *   callrunner DIR check NAME    exit 0 when NAME's effect is visible in DIR,
 *                                1 when not, 2 when the call has no visible
 *                                effect (the sync family, close)
 *
 * Plain libc, no GLib: between this program and the kernel there must be
 * nothing but the shim.  Compiled without _FORTIFY_SOURCE on purpose; the
 * fortified entry points (__open_2...) are called by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

static const char *dir;
static int dfd = -1;

static char *
P(const char *name)
{
    static char buf[4][4096];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static void
put(const char *name, const char *text)
{
    int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(name);
        exit(3);
    }
    close(fd);
}

static int
wfd(void)
{
    /* An fd on "existing", opened before the call under test. */
    int fd = open(P("existing"), O_RDWR);
    if (fd < 0) {
        perror("existing");
        exit(3);
    }
    return fd;
}

static int
file_starts(const char *name, const char *prefix)
{
    char buf[256] = { 0 };
    int fd = open(P(name), O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 0 && strncmp(buf, prefix, strlen(prefix)) == 0;
}

static int
file_at(const char *name, off_t off, const char *text)
{
    char buf[256] = { 0 };
    int fd = open(P(name), O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = pread(fd, buf, strlen(text), off);
    close(fd);
    return n == (ssize_t)strlen(text) && memcmp(buf, text, strlen(text)) == 0;
}

static off_t
size_of(const char *name)
{
    struct stat st;
    return stat(P(name), &st) == 0 ? st.st_size : -1;
}

static int
exists(const char *name)
{
    struct stat st;
    return lstat(P(name), &st) == 0;
}

static struct iovec iov2[2] = { { "hel", 3 }, { "lo", 2 } };
static const struct timespec times_new[2] = { { 1000000, 0 }, { 1000000, 0 } };

/* Perform NAME.  Returns the call's result; errno is left as it set it. */
static long
run(const char *name)
{
    int fd;
#define IS(x) (strcmp(name, x) == 0)
    if (IS("open")) return open(P("new"), O_WRONLY | O_CREAT, 0640);
    if (IS("open64")) return open64(P("new"), O_WRONLY | O_CREAT, 0640);
    if (IS("openat")) return openat(dfd, "new", O_WRONLY | O_CREAT, 0640);
    if (IS("openat64")) return openat64(dfd, "new", O_WRONLY | O_CREAT, 0640);
    if (IS("creat")) return creat(P("new"), 0640);
    if (IS("creat64")) return creat64(P("new"), 0640);
    if (IS("__open_2")) return __open_2(P("existing"), O_WRONLY | O_TRUNC);
    if (IS("__open64_2")) return __open64_2(P("existing"), O_WRONLY | O_TRUNC);
    if (IS("__openat_2")) return __openat_2(dfd, "existing", O_WRONLY | O_TRUNC);
    if (IS("__openat64_2")) return __openat64_2(dfd, "existing", O_WRONLY | O_TRUNC);
    if (IS("write")) return write(wfd(), "hello", 5);
    if (IS("pwrite")) return pwrite(wfd(), "hello", 5, 3);
    if (IS("pwrite64")) return pwrite64(wfd(), "hello", 5, 3);
    if (IS("writev")) return writev(wfd(), iov2, 2);
    if (IS("pwritev")) return pwritev(wfd(), iov2, 2, 3);
    if (IS("pwritev64")) return pwritev64(wfd(), iov2, 2, 3);
    if (IS("pwritev2")) return pwritev2(wfd(), iov2, 2, 3, 0);
    if (IS("pwritev64v2")) return pwritev64v2(wfd(), iov2, 2, 3, 0);
    if (IS("copy_file_range") || IS("sendfile") || IS("sendfile64")) {
        int in = open(P("source"), O_RDONLY);
        int out = open(P("new"), O_WRONLY | O_CREAT, 0644);
        off_t off = 0;
        if (IS("copy_file_range")) return copy_file_range(in, &off, out, NULL, 5, 0);
        if (IS("sendfile")) return sendfile(out, in, &off, 5);
        return sendfile64(out, in, &off, 5);
    }
    if (IS("truncate")) return truncate(P("existing"), 2);
    if (IS("truncate64")) return truncate64(P("existing"), 2);
    if (IS("ftruncate")) return ftruncate(wfd(), 2);
    if (IS("ftruncate64")) return ftruncate64(wfd(), 2);
    if (IS("fallocate")) return fallocate(wfd(), 0, 0, 8192);
    if (IS("fallocate64")) return fallocate64(wfd(), 0, 0, 8192);
    if (IS("fsync")) return fsync(wfd());
    if (IS("fdatasync")) return fdatasync(wfd());
    if (IS("syncfs")) return syncfs(wfd());
    if (IS("sync")) { sync(); return 0; }
    if (IS("sync_file_range")) return sync_file_range(wfd(), 0, 0, SYNC_FILE_RANGE_WRITE);
    if (IS("msync")) {
        fd = wfd();
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) return -2;
        return msync(m, 4096, MS_SYNC);
    }
    if (IS("rename")) return rename(P("existing"), P("moved"));
    if (IS("renameat")) return renameat(dfd, "existing", dfd, "moved");
    if (IS("renameat2")) return renameat2(dfd, "existing", dfd, "moved", RENAME_NOREPLACE);
    if (IS("syscall")) return syscall(SYS_renameat2, dfd, "existing", dfd, "moved", RENAME_NOREPLACE);
    if (IS("link")) return link(P("existing"), P("linked"));
    if (IS("linkat")) return linkat(dfd, "existing", dfd, "linked", 0);
    if (IS("symlink")) return symlink("existing", P("sym"));
    if (IS("symlinkat")) return symlinkat("existing", dfd, "sym");
    if (IS("unlink")) return unlink(P("existing"));
    if (IS("unlinkat")) return unlinkat(dfd, "existing", 0);
    if (IS("rmdir")) return rmdir(P("emptydir"));
    if (IS("mkdir")) return mkdir(P("newdir"), 0755);
    if (IS("mkdirat")) return mkdirat(dfd, "newdir", 0755);
    if (IS("fchmod")) return fchmod(wfd(), 0600);
    if (IS("fchmodat")) return fchmodat(dfd, "existing", 0600, 0);
    if (IS("chmod")) return chmod(P("existing"), 0600);
    if (IS("fchown")) return fchown(wfd(), 1234, 1234);
    if (IS("fchownat")) return fchownat(dfd, "existing", 1234, 1234, 0);
    if (IS("chown")) return chown(P("existing"), 1234, 1234);
    if (IS("lchown")) return lchown(P("existing"), 1234, 1234);
    if (IS("fsetxattr")) return fsetxattr(wfd(), "user.cfi", "v", 1, 0);
    if (IS("setxattr")) return setxattr(P("existing"), "user.cfi", "v", 1, 0);
    if (IS("lsetxattr")) return lsetxattr(P("existing"), "user.cfi", "v", 1, 0);
    if (IS("futimens")) return futimens(wfd(), times_new);
    if (IS("utimensat")) return utimensat(dfd, "existing", times_new, 0);
    if (IS("close")) return close(wfd());
    if (IS("ioctl")) return ioctl(dfd, FIFREEZE, 0);
#undef IS
    fprintf(stderr, "callrunner: unknown call %s\n", name);
    exit(4);
}

/* 1 effect visible, 0 not, 2 no visible effect by design. */
static int
check(const char *name)
{
    struct stat st;
#define IS(x) (strcmp(name, x) == 0)
#define PREFIX_IS(x) (strncmp(name, x, strlen(x)) == 0)
    if (IS("open") || IS("open64") || IS("openat") || IS("openat64")
        || IS("creat") || IS("creat64")) {
        return exists("new");
    }
    if (PREFIX_IS("__open")) return size_of("existing") == 0;
    if (IS("write") || IS("writev")) return file_starts("existing", "hello");
    if (PREFIX_IS("pwrite")) return file_at("existing", 3, "hello");
    if (IS("copy_file_range") || IS("sendfile") || IS("sendfile64")) {
        return file_starts("new", "SRCDA");
    }
    if (PREFIX_IS("truncate") || PREFIX_IS("ftruncate")) return size_of("existing") == 2;
    if (PREFIX_IS("fallocate")) return size_of("existing") == 8192;
    if (IS("rename") || IS("renameat") || IS("renameat2") || IS("syscall")) {
        return exists("moved") && !exists("existing");
    }
    if (IS("link") || IS("linkat")) return exists("linked");
    if (IS("symlink") || IS("symlinkat")) return exists("sym");
    if (IS("unlink") || IS("unlinkat")) return !exists("existing");
    if (IS("rmdir")) return !exists("emptydir");
    if (IS("mkdir") || IS("mkdirat")) return exists("newdir");
    if (PREFIX_IS("fchmod") || IS("chmod")) {
        return stat(P("existing"), &st) == 0 && (st.st_mode & 07777) == 0600;
    }
    if (PREFIX_IS("fchown") || IS("chown") || IS("lchown")) {
        if (getuid() != 0) return 2;
        return stat(P("existing"), &st) == 0 && st.st_uid == 1234;
    }
    if (PREFIX_IS("fsetxattr") || IS("setxattr") || IS("lsetxattr")) {
        char v[8];
        return getxattr(P("existing"), "user.cfi", v, sizeof v) == 1;
    }
    if (IS("futimens") || IS("utimensat")) {
        return stat(P("existing"), &st) == 0 && st.st_mtime == 1000000;
    }
    return 2;
#undef IS
#undef PREFIX_IS
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: callrunner DIR setup|run NAME|check NAME\n");
        return 4;
    }
    dir = argv[1];
    if (strcmp(argv[2], "setup") == 0) {
        put("existing", "0123456789abcdef");
        put("source", "SRCDATA");
        if (mkdir(P("emptydir"), 0755) < 0 && errno != EEXIST) {
            perror("emptydir");
            return 3;
        }
        return 0;
    }
    if (argc < 4) {
        return 4;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        perror(dir);
        return 3;
    }
    if (strcmp(argv[2], "run") == 0) {
        errno = 0;
        long r = run(argv[3]);
        int e = errno;
        printf("result=%ld errno=%d\n", r < 0 ? -1L : r, r < 0 ? e : 0);
        return 0;
    }
    if (strcmp(argv[2], "check") == 0) {
        int c = check(argv[3]);
        return c == 1 ? 0 : c == 0 ? 1 : 2;
    }
    return 4;
}
