/* SPDX-License-Identifier: MIT */
/*
 * fifreeze: try ioctl(FIFREEZE) on the filesystem holding PATH, for
 * test-userns-owners.  Never through the shim (which turns FIFREEZE into
 * syncfs): when LD_PRELOAD is set, it re-executes itself without it.
 *
 *   fifreeze PATH
 *
 * Prints one line and exits:
 *   0  "froze and thawed PATH": FIFREEZE succeeded, FITHAW followed at once
 *   1  "refused: EPERM" (or another errno name): FIFREEZE failed
 *   2  usage or setup error
 *   3  "not trying": PATH is on the filesystem of / and this process is in
 *      the initial user namespace, where the freeze could succeed: the
 *      host's root filesystem is never frozen for real
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* In the initial user namespace, uid_map is "0 0 4294967295". */
static int
in_initial_userns(void)
{
    FILE *f = fopen("/proc/self/uid_map", "re");
    if (f == NULL) {
        return 1;               /* cannot tell: assume the worst */
    }
    unsigned long inner, outer, count;
    int n = fscanf(f, "%lu %lu %lu", &inner, &outer, &count);
    int more = fscanf(f, "%*s") != EOF;
    fclose(f);
    return n == 3 && !more && inner == 0 && outer == 0 && count == 4294967295UL;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fifreeze PATH\n");
        return 2;
    }
    if (getenv("LD_PRELOAD") != NULL) {
        unsetenv("LD_PRELOAD");
        execv("/proc/self/exe", argv);
        perror("fifreeze: re-exec without LD_PRELOAD");
        return 2;
    }
    struct stat target, root;
    if (stat(argv[1], &target) != 0 || stat("/", &root) != 0) {
        perror("fifreeze: stat");
        return 2;
    }
    if (target.st_dev == root.st_dev && in_initial_userns()) {
        printf("not trying: %s is on the root filesystem and this is the "
               "initial user namespace\n", argv[1]);
        return 3;
    }
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror("fifreeze: open");
        return 2;
    }
    if (ioctl(fd, FIFREEZE, 0) != 0) {
        int e = errno;
        printf("refused: %s\n", e == EPERM ? "EPERM" : strerror(e));
        close(fd);
        return 1;
    }
    if (ioctl(fd, FITHAW, 0) != 0) {
        perror("fifreeze: FITHAW");
        close(fd);
        return 2;
    }
    printf("froze and thawed %s\n", argv[1]);
    close(fd);
    return 0;
}
