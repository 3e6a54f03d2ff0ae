/* SPDX-License-Identifier: MIT */
/*
 * fuzz-trace.c: libFuzzer target for the trace reader.
 *
 * The input is a whole trace file.  It is put in a memfd and opened through
 * /proc/self/fd/N, so that cfi_trace_open() maps it exactly as it maps a
 * real trace; then every record, and every interposer note, is formatted as
 * `plugpull trace dump` would.
 * Any input must give either an error or a trace, never a crash.
 *
 * Getting past the CRC: random mutations of a record would almost always
 * break its CRC-32C, and the reader stops at the first bad record, so the
 * fuzzer would never reach cfi_trace_format_record() with unusual field
 * values.  Unless the header's reserved[7] is non-zero, the target therefore
 * reseals every record it can walk (size sane and inside the file) before
 * handing the file over.  Real traces have reserved[7] == 0 and correct
 * CRCs, so for them the reseal changes nothing; a non-zero reserved[7]
 * keeps the CRCs as given and lets the fuzzer probe the mismatch path.
 *
 * Built with -DPP_FUZZ_PLANTED_OOB only by tests/integration/test-fuzz.sh
 * (in a temporary directory): that variant has a deliberate heap over-read
 * that no seed reaches, to prove that the pipeline (fuzzer + ASan +
 * fuzz-short) finds and reports a crash.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "crc32c.h"
#include "trace-format.h"
#include "trace-reader.h"

#define REC_CRC_START 12u

static int trace_fd = -1;
static char trace_path[64];

static void
quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
          gpointer data)
{
    (void)domain;
    (void)level;
    (void)msg;
    (void)data;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace_fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
    if (trace_fd < 0) {
        perror("fuzz-trace: memfd_create");
        abort();
    }
    snprintf(trace_path, sizeof trace_path, "/proc/self/fd/%d", trace_fd);
    g_log_set_default_handler(quiet_log, NULL);
    return 0;
}

/* Reseal every walkable record of buf (a private copy of the input). */
static void
reseal(uint8_t *buf, size_t size)
{
    if (size < sizeof(struct cfi_trace_header))
        return;
    struct cfi_trace_header h;
    memcpy(&h, buf, sizeof h);
    if (h.reserved[7] != 0 || h.hdr_size % CFI_REC_ALIGN != 0
        || h.hdr_size > size)
        return;
    uint64_t off = h.hdr_size;
    while (off + sizeof(struct cfi_rec) <= size) {
        struct cfi_rec rec;
        memcpy(&rec, buf + off, sizeof rec);
        if (rec.size < sizeof rec || rec.size % CFI_REC_ALIGN != 0
            || rec.size > size - off)
            return;
        rec.crc = cfi_crc32c(0, buf + off + REC_CRC_START,
                             rec.size - REC_CRC_START);
        memcpy(buf + off + offsetof(struct cfi_rec, crc), &rec.crc,
               sizeof rec.crc);
        off += rec.size;
    }
}

static void
write_all(const uint8_t *p, size_t n)
{
    if (ftruncate(trace_fd, 0) < 0) {
        perror("fuzz-trace: ftruncate");
        abort();
    }
    off_t off = 0;
    while (n > 0) {
        ssize_t w = pwrite(trace_fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("fuzz-trace: pwrite");
            abort();
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = size > 0 ? g_memdup2(data, size) : NULL;
    reseal(buf, size);
    write_all(buf, size);
    g_free(buf);

    g_autoptr(GError) error = NULL;
    g_autoptr(CfiTrace) t = cfi_trace_open(trace_path, &error);
    if (t == NULL) {
        /* Failure must always come with a message. */
        if (error == NULL || error->message == NULL)
            abort();
        return 0;
    }
    g_autoptr(GString) line = g_string_new(NULL);
    guint n = cfi_trace_n_records(t);
    for (guint i = 0; i < n; i++) {
        const CfiRecord *r = cfi_trace_get(t, i);
        if (r == NULL)
            abort();
        g_string_truncate(line, 0);
        cfi_trace_format_record(r, line);
        /* Touch every byte the reader claims is there. */
        if (r->path != NULL && strlen(r->path) > r->path_len)
            abort();
        if (r->path2 != NULL && strlen(r->path2) > r->path2_len)
            abort();
        volatile guint8 sum = 0;
        for (guint32 j = 0; j < r->data_len; j++)
            sum ^= r->data[j];
        (void)sum;
#ifdef PP_FUZZ_PLANTED_OOB
        /* The planted bug: a record that carries more data than its result
         * says was written (no seed has one) makes the target read one
         * byte past a heap copy of the data. */
        if (r->data_len > 0 && r->rec->result < (gint64)r->data_len) {
            guint8 *copy = g_memdup2(r->data, r->data_len);
            volatile guint8 past = copy[r->data_len];
            (void)past;
            g_free(copy);
        }
#endif
    }
    if (cfi_trace_get(t, n) != NULL)
        abort();
    /* Interposer notes, as dump prints them first. */
    guint n_notes = cfi_trace_n_interposers(t);
    for (guint i = 0; i < n_notes; i++) {
        const CfiRecord *r = cfi_trace_get_interposer(t, i);
        if (r == NULL || r->rec->op != CFI_OP_INTERPOSER)
            abort();
        g_string_truncate(line, 0);
        cfi_trace_format_record(r, line);
        (void)cfi_rec_swallowed(r->rec);
        if (r->path != NULL && strlen(r->path) > r->path_len)
            abort();
    }
    if (cfi_trace_get_interposer(t, n_notes) != NULL)
        abort();
    guint64 toff = 0;
    const char *why = NULL;
    if (cfi_trace_is_truncated(t, &toff, &why) && why == NULL)
        abort();
    (void)cfi_trace_get_data_mode(t);
    (void)cfi_trace_get_created_ns(t);
    (void)cfi_trace_get_creator_pid(t);
    return 0;
}
