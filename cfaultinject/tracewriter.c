/* SPDX-License-Identifier: MIT */
/*
 * tracewriter.c: see tracewriter.h.
 */
#include "tracewriter.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cfi-real.h"
#include "crc32c.h"

/* Most pieces a record's data may have: more are folded into fewer. */
#define TW_MAX_IOV 256

static int tw_fd = -1;
static int tw_data_mode = CFI_DATA_FULL;
static struct cfi_trace_header *tw_hdr;    /* shared mapping, or NULL */
static uint64_t tw_local_seq;              /* used when no trace is open */

static int
open_real(const char *path, int flags, mode_t mode)
{
    /* Through the real libc entry: our own open() would trace this file. */
    return cfi_real.open(path, flags, mode);
}

static int
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = cfi_real.write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Create the header if we are first; wait briefly for it otherwise. */
static int
ensure_header(const char *path, int data_mode)
{
    int fd = open_real(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char page[CFI_TRACE_HDR_SIZE];
        struct cfi_trace_header *h = (struct cfi_trace_header *)page;
        struct timespec ts;
        memset(page, 0, sizeof page);
        memcpy(h->magic, CFI_TRACE_MAGIC, 8);
        h->version = CFI_TRACE_VERSION;
        h->hdr_size = CFI_TRACE_HDR_SIZE;
        clock_gettime(CLOCK_REALTIME, &ts);
        h->created_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        h->data_mode = (uint32_t)data_mode;
        h->creator_pid = (uint32_t)getpid();
        int rc = write_all(fd, page, sizeof page);
        if (rc == 0) {
            return fd;
        }
        cfi_real.close(fd);
        return rc;
    }
    if (errno != EEXIST) {
        return -errno;
    }
    fd = open_real(path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    /* Another process is writing the header: give it up to two seconds. */
    for (int i = 0; i < 2000; i++) {
        struct stat st;
        char magic[8];
        if (fstat(fd, &st) == 0 && st.st_size >= (off_t)CFI_TRACE_HDR_SIZE
            && pread(fd, magic, 8, 0) == 8
            && memcmp(magic, CFI_TRACE_MAGIC, 8) == 0) {
            return fd;
        }
        struct timespec d = { 0, 1000000 };
        nanosleep(&d, NULL);
    }
    cfi_real.close(fd);
    return -EPROTO;
}

int
cfi_tw_open(const char *path, int data_mode)
{
    int hfd = ensure_header(path, data_mode);
    if (hfd < 0) {
        return hfd;
    }
    void *map = mmap(NULL, CFI_TRACE_HDR_SIZE, PROT_READ | PROT_WRITE,
                     MAP_SHARED, hfd, 0);
    cfi_real.close(hfd);
    if (map == MAP_FAILED) {
        return -errno;
    }
    int fd = open_real(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        munmap(map, CFI_TRACE_HDR_SIZE);
        return -e;
    }
    tw_hdr = map;
    tw_fd = fd;
    /* The file's mode wins: a child must write what the creator chose. */
    tw_data_mode = (int)tw_hdr->data_mode;
    return 0;
}

int
cfi_tw_fd(void)
{
    return tw_fd;
}

int
cfi_tw_data_mode(void)
{
    return tw_data_mode;
}

uint64_t
cfi_tw_next_seq(void)
{
    if (tw_hdr != NULL) {
        return __atomic_fetch_add(&tw_hdr->seq_next, 1, __ATOMIC_SEQ_CST);
    }
    return __atomic_fetch_add(&tw_local_seq, 1, __ATOMIC_SEQ_CST);
}

static uint64_t
fnv1a(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int
cfi_tw_append(struct cfi_rec *rec, const char *path, size_t path_len,
              const char *path2, size_t path2_len,
              const struct iovec *data, int niov, size_t data_len)
{
    static const char zeros[CFI_REC_ALIGN];
    struct iovec iov[TW_MAX_IOV + 4];
    int n = 0;

    if (tw_fd < 0) {
        return -EBADF;
    }
    if (path_len > UINT16_MAX) {
        path_len = UINT16_MAX;
    }
    if (path2_len > UINT16_MAX) {
        path2_len = UINT16_MAX;
    }
    if (tw_data_mode != CFI_DATA_FULL || niov > TW_MAX_IOV) {
        if (tw_data_mode == CFI_DATA_DIGEST) {
            uint64_t h = 0xcbf29ce484222325ULL;
            for (int i = 0; i < niov; i++) {
                h = fnv1a(h, data[i].iov_base, data[i].iov_len);
            }
            rec->digest = h;
        }
        if (data_len > 0) {
            rec->flags |= CFI_RF_DATA_TRUNC;
        }
        niov = 0;
        data_len = 0;
    }
    if (sizeof *rec + path_len + path2_len + data_len > CFI_REC_MAX_SIZE) {
        rec->flags |= CFI_RF_DATA_TRUNC;
        niov = 0;
        data_len = 0;
    }
    size_t body = sizeof *rec + path_len + path2_len + data_len;
    size_t size = (body + CFI_REC_ALIGN - 1) & ~(size_t)(CFI_REC_ALIGN - 1);

    rec->magic = CFI_REC_MAGIC;
    rec->size = (uint32_t)size;
    rec->path_len = (uint16_t)path_len;
    rec->path2_len = (uint16_t)path2_len;
    rec->data_len = (uint32_t)data_len;

    iov[n].iov_base = rec;
    iov[n++].iov_len = sizeof *rec;
    if (path_len > 0) {
        iov[n].iov_base = (void *)path;
        iov[n++].iov_len = path_len;
    }
    if (path2_len > 0) {
        iov[n].iov_base = (void *)path2;
        iov[n++].iov_len = path2_len;
    }
    for (int i = 0; i < niov; i++) {
        if (data[i].iov_len > 0) {
            iov[n++] = data[i];
        }
    }
    if (size > body) {
        iov[n].iov_base = (void *)zeros;
        iov[n++].iov_len = size - body;
    }

    /* The CRC covers everything after the crc field. */
    uint32_t crc = cfi_crc32c(0, (const char *)rec + 12, sizeof *rec - 12);
    for (int i = 1; i < n; i++) {
        crc = cfi_crc32c(crc, iov[i].iov_base, iov[i].iov_len);
    }
    rec->crc = crc;

    /*
     * One writev: O_APPEND makes the kernel place it atomically at the end
     * with respect to other writers.  A short write (disk full, a fatal
     * signal) leaves a torn tail that readers detect; we do not retry it,
     * since a second piece could land after another thread's record.
     */
    ssize_t w;
    do {
        w = cfi_real.writev(tw_fd, iov, n);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
        return -errno;
    }
    return (size_t)w == size ? 0 : -EIO;
}
