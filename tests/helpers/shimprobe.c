/* SPDX-License-Identifier: MIT */
/*
 * shimprobe: small behaviours the shim must keep, for test-shim-runtime.
 *
 *   shimprobe threads DIR T N   T threads each write N records to their own
 *                               file under DIR (open, N x pwrite, fsync,
 *                               close); prints the number of calls made
 *   shimprobe errno DIR         checks that successful wrapped calls leave
 *                               errno alone and failing ones set the right
 *                               one; prints "errno ok" or what differed
 *   shimprobe tmpfile DIR [nomode]
 *                               O_TMPFILE + linkat(/proc/self/fd/N), prints
 *                               the published file's mode in octal; with
 *                               "nomode" the mode passed is 0, which is
 *                               what a shim forwarding the mode only for
 *                               O_CREAT hands the kernel
 *   shimprobe fsync FILE        open, write, fsync, close FILE
 *   shimprobe tmprace DIR T N   T threads each make N O_TMPFILEs in DIR
 *                               (open, write, close), as ostree's pull
 *                               writes objects: the threads race on
 *                               descriptor numbers; prints the writes made
 *
 * Plain libc: the shim is the only thing between this and the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct worker {
    const char *dir;
    int index;
    int n;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    char path[4096];
    char buf[64];
    snprintf(path, sizeof path, "%s/t%d", w->dir, w->index);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(3);
    }
    for (int i = 0; i < w->n; i++) {
        int len = snprintf(buf, sizeof buf, "thread %d write %d\n", w->index, i);
        if (pwrite(fd, buf, (size_t)len, (off_t)i * 32) != len) {
            perror("pwrite");
            exit(3);
        }
    }
    fsync(fd);
    close(fd);
    return NULL;
}

static void *
tmprace_work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        int fd = open(w->dir, O_TMPFILE | O_WRONLY, 0600);
        if (fd < 0) {
            perror(w->dir);
            exit(3);
        }
        if (write(fd, "x", 1) != 1) {
            perror("write");
            exit(3);
        }
        close(fd);
    }
    return NULL;
}

static int
run_threads(const char *dir, int t, int n, void *(*fn)(void *))
{
    pthread_t tid[64];
    struct worker w[64];
    if (t > 64) {
        return 4;
    }
    for (int i = 0; i < t; i++) {
        w[i] = (struct worker){ dir, i, n };
        pthread_create(&tid[i], NULL, fn, &w[i]);
    }
    for (int i = 0; i < t; i++) {
        pthread_join(tid[i], NULL);
    }
    return 0;
}

static int
threads(const char *dir, int t, int n)
{
    if (run_threads(dir, t, n, work) != 0) {
        return 4;
    }
    /* open + n pwrites + fsync + close per thread */
    printf("%d\n", t * (n + 3));
    return 0;
}

static int
errno_check(const char *dir, int clobber)
{
    char path[4096];
    int bad = 0;
    snprintf(path, sizeof path, "%s/e", dir);

    errno = 4242;
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (clobber) {
        errno = 0;  /* the mistake the test must catch */
    }
    if (fd < 0 || errno != 4242) {
        printf("open success changed errno to %d\n", errno);
        bad = 1;
    }
    errno = 4243;
    if (write(fd, "x", 1) != 1 || errno != 4243) {
        printf("write success changed errno to %d\n", errno);
        bad = 1;
    }
    errno = 4244;
    if (fsync(fd) != 0 || errno != 4244) {
        printf("fsync success changed errno to %d\n", errno);
        bad = 1;
    }
    close(fd);
    snprintf(path, sizeof path, "%s/missing/x", dir);
    errno = 0;
    if (unlink(path) != -1 || errno != ENOENT) {
        printf("unlink of a missing file: errno %d, want ENOENT\n", errno);
        bad = 1;
    }
    errno = 0;
    if (rename(path, path) != -1 || errno != ENOENT) {
        printf("rename of a missing file: errno %d, want ENOENT\n", errno);
        bad = 1;
    }
    errno = 0;
    if (fsync(-1) != -1 || errno != EBADF) {
        printf("fsync(-1): errno %d, want EBADF\n", errno);
        bad = 1;
    }
    if (!bad) {
        printf("errno ok\n");
    }
    return 0;
}

static int
tmpfile_mode(const char *dir, int nomode)
{
    char proc[64], dest[4096];
    /* "nomode" passes 0: what a shim that drops the mode would forward. */
    int fd = open(dir, O_TMPFILE | O_WRONLY, nomode ? 0 : 0644);
    if (fd < 0) {
        perror("O_TMPFILE");
        return 3;
    }
    if (write(fd, "data", 4) != 4) {
        return 3;
    }
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    snprintf(dest, sizeof dest, "%s/published", dir);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, dest, AT_SYMLINK_FOLLOW) != 0) {
        perror("linkat");
        return 3;
    }
    close(fd);
    struct stat st;
    if (stat(dest, &st) != 0) {
        return 3;
    }
    printf("%04o\n", (unsigned)(st.st_mode & 07777));
    return 0;
}

static int
fsync_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) != 0) {
        perror(path);
        return 3;
    }
    close(fd);
    return 0;
}

/* A file written through stdio: fopen (the shim routes it), or with
 * "fdopen" a stream the shim does not cover (the twin: no write record);
 * a small setvbuf as dpkg gives its status file, a line past it, a
 * second stream left open for exit to flush. */
static int
stdio_file(const char *path, int use_fdopen)
{
    static char small[64];
    FILE *f = use_fdopen ? fdopen(open(path, O_WRONLY | O_CREAT | O_TRUNC,
                                       0644), "w")
                         : fopen(path, "w");
    if (f == NULL || setvbuf(f, small, _IOFBF, sizeof small) != 0) {
        perror(path);
        return 3;
    }
    for (int i = 0; i < 10; i++) {
        fprintf(f, "line %d of a stream longer than its 64-byte buffer\n", i);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
        perror(path);
        return 3;
    }
    char log[4096];
    snprintf(log, sizeof log, "%s.log", path);
    FILE *l = use_fdopen ? fdopen(open(log, O_WRONLY | O_CREAT | O_APPEND,
                                       0644), "a")
                         : fopen(log, "a");
    if (l == NULL) {
        perror(log);
        return 3;
    }
    fprintf(l, "left open: exit flushes it\n");
    return 0;
}

int
main(int argc, char **argv)
{
    umask(022);
    if (argc >= 5 && strcmp(argv[1], "threads") == 0) {
        return threads(argv[2], atoi(argv[3]), atoi(argv[4]));
    }
    if (argc >= 5 && strcmp(argv[1], "tmprace") == 0) {
        if (run_threads(argv[2], atoi(argv[3]), atoi(argv[4]),
                        tmprace_work) != 0) {
            return 4;
        }
        printf("%d\n", atoi(argv[3]) * atoi(argv[4]));
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "errno") == 0) {
        return errno_check(argv[2], argc >= 4 && strcmp(argv[3], "clobber") == 0);
    }
    if (argc >= 3 && strcmp(argv[1], "tmpfile") == 0) {
        return tmpfile_mode(argv[2], argc >= 4 && strcmp(argv[3], "nomode") == 0);
    }
    if (argc >= 3 && strcmp(argv[1], "fsync") == 0) {
        return fsync_file(argv[2]);
    }
    if (argc >= 3 && strcmp(argv[1], "stdio") == 0) {
        return stdio_file(argv[2], argc >= 4 && strcmp(argv[3], "fdopen") == 0);
    }
    fprintf(stderr, "usage: shimprobe threads|tmprace|errno|tmpfile|fsync|stdio ...\n");
    return 4;
}
