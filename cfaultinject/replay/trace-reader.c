/* SPDX-License-Identifier: MIT */
/*
 * trace-reader.c: map a trace, validate it, index its records by seq.
 *
 * Validation is defensive because the input is, by construction, the output
 * of a writer that may have been killed at any instruction: every length is
 * checked against the bytes that are really there before it is used, in
 * 64-bit arithmetic so that a corrupt length cannot wrap.
 */
#include "trace-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "crc32c.h"

struct CfiTrace {
    char *path;
    const guint8 *map;          /* whole file, read-only; NULL when empty */
    gsize map_size;
    const struct cfi_trace_header *hdr;
    GArray *records;            /* CfiRecord, sorted by (seq, file_offset) */
    GArray *notes;              /* CfiRecord of CFI_OP_INTERPOSER, file order */
    GStringChunk *strings;      /* NUL-terminated copies of the paths */
    gboolean truncated;
    guint64 trunc_offset;
    char *trunc_reason;
};

/* TRACE-FORMAT.md documents this size; the shim and readers must agree. */
G_STATIC_ASSERT(sizeof(struct cfi_rec) == 152);

/* Bytes of a record covered by its crc: everything after magic, size, crc. */
#define REC_CRC_START 12u

static gboolean
fail_trace(GError **error, const char *path, const char *what)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "open trace %s: %s", path, what);
    return FALSE;
}

static gboolean
check_header(CfiTrace *t, GError **error)
{
    if (t->map_size < sizeof(struct cfi_trace_header)) {
        g_autofree char *msg = g_strdup_printf(
            "file is %" G_GSIZE_FORMAT " bytes, shorter than the %"
            G_GSIZE_FORMAT "-byte header", t->map_size,
            sizeof(struct cfi_trace_header));
        return fail_trace(error, t->path, msg);
    }
    const struct cfi_trace_header *h = (const void *)t->map;
    if (memcmp(h->magic, CFI_TRACE_MAGIC, sizeof h->magic) != 0)
        return fail_trace(error, t->path,
                          "bad magic (not a cfaultinject trace)");
    if (h->version != CFI_TRACE_VERSION) {
        g_autofree char *msg = g_strdup_printf(
            "unsupported version %u (this reader knows %u)", h->version,
            CFI_TRACE_VERSION);
        return fail_trace(error, t->path, msg);
    }
    if (h->hdr_size < sizeof(struct cfi_trace_header) ||
        h->hdr_size % CFI_REC_ALIGN != 0 || h->hdr_size > t->map_size) {
        g_autofree char *msg = g_strdup_printf(
            "bad header size %u (file is %" G_GSIZE_FORMAT " bytes)",
            h->hdr_size, t->map_size);
        return fail_trace(error, t->path, msg);
    }
    if (h->data_mode > CFI_DATA_NONE) {
        g_autofree char *msg =
            g_strdup_printf("unknown data_mode %u", h->data_mode);
        return fail_trace(error, t->path, msg);
    }
    t->hdr = h;
    return TRUE;
}

/* Why the record at off is not acceptable, or NULL when it is. */
static const char *
check_record(const CfiTrace *t, guint64 off)
{
    guint64 avail = t->map_size - off;
    if (avail < REC_CRC_START)
        return "incomplete record header";
    const struct cfi_rec *rec = (const void *)(t->map + off);
    if (rec->magic != CFI_REC_MAGIC)
        return "bad record magic";
    if (rec->size % CFI_REC_ALIGN != 0)
        return "record size not a multiple of 8";
    if (rec->size < sizeof(struct cfi_rec))
        return "record size smaller than a record header";
    if (rec->size > CFI_REC_MAX_SIZE)
        return "record size above CFI_REC_MAX_SIZE";
    if (rec->size > avail)
        return "record extends past the end of the file";
    guint64 var = (guint64)rec->path_len + rec->path2_len + rec->data_len;
    if (sizeof(struct cfi_rec) + var > rec->size)
        return "record lengths exceed its size";
    guint32 crc = cfi_crc32c(0, (const guint8 *)rec + REC_CRC_START,
                             rec->size - REC_CRC_START);
    if (crc != rec->crc)
        return "record crc mismatch";
    return NULL;
}

static int
compare_records(gconstpointer a, gconstpointer b)
{
    const CfiRecord *ra = a, *rb = b;
    if (ra->rec->seq != rb->rec->seq)
        return ra->rec->seq < rb->rec->seq ? -1 : 1;
    /* Equal seqs only in a damaged trace; file order keeps it stable. */
    if (ra->file_offset != rb->file_offset)
        return ra->file_offset < rb->file_offset ? -1 : 1;
    return 0;
}

static const char *
copy_string(CfiTrace *t, const guint8 *p, guint16 len)
{
    if (len == 0)
        return NULL;
    return g_string_chunk_insert_len(t->strings, (const char *)p, len);
}

static void
index_records(CfiTrace *t)
{
    guint64 off = t->hdr->hdr_size;
    while (off < t->map_size) {
        const char *why = check_record(t, off);
        if (why != NULL) {
            t->truncated = TRUE;
            t->trunc_offset = off;
            t->trunc_reason = g_strdup(why);
            break;
        }
        const struct cfi_rec *rec = (const void *)(t->map + off);
        const guint8 *var = (const guint8 *)(rec + 1);
        CfiRecord r = {
            .rec = rec,
            .path_len = rec->path_len,
            .path2_len = rec->path2_len,
            .data = var + rec->path_len + rec->path2_len,
            .data_len = rec->data_len,
            .file_offset = off,
        };
        r.path = copy_string(t, var, rec->path_len);
        r.path2 = copy_string(t, var + rec->path_len, rec->path2_len);
        if (rec->op == CFI_OP_INTERPOSER)
            g_array_append_val(t->notes, r);
        else
            g_array_append_val(t->records, r);
        off += rec->size;
    }
    g_array_sort(t->records, compare_records);
}

CfiTrace *
cfi_trace_open(const char *path, GError **error)
{
    g_autoptr(CfiTrace) t = g_new0(CfiTrace, 1);
    t->path = g_strdup(path);
    t->records = g_array_new(FALSE, FALSE, sizeof(CfiRecord));
    t->notes = g_array_new(FALSE, FALSE, sizeof(CfiRecord));
    t->strings = g_string_chunk_new(4096);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int errsv = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                    "open trace %s: open: %s", path, g_strerror(errsv));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int errsv = errno;
        close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                    "open trace %s: fstat: %s", path, g_strerror(errsv));
        return NULL;
    }
    t->map_size = st.st_size;
    if (t->map_size > 0) {
        void *m = mmap(NULL, t->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int errsv = errno;
            close(fd);
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                        "open trace %s: mmap: %s", path, g_strerror(errsv));
            return NULL;
        }
        t->map = m;
    }
    close(fd); /* the mapping keeps the file */

    if (!check_header(t, error))
        return NULL;
    index_records(t);
    return g_steal_pointer(&t);
}

void
cfi_trace_free(CfiTrace *t)
{
    if (t == NULL)
        return;
    if (t->map != NULL)
        munmap((void *)t->map, t->map_size);
    g_array_unref(t->records);
    g_array_unref(t->notes);
    g_string_chunk_free(t->strings);
    g_free(t->trunc_reason);
    g_free(t->path);
    g_free(t);
}

const char *
cfi_trace_get_path(CfiTrace *t)
{
    return t->path;
}

guint
cfi_trace_n_records(CfiTrace *t)
{
    return t->records->len;
}

const CfiRecord *
cfi_trace_get(CfiTrace *t, guint i)
{
    if (i >= t->records->len)
        return NULL;
    return &g_array_index(t->records, CfiRecord, i);
}

guint
cfi_trace_n_interposers(CfiTrace *t)
{
    return t->notes->len;
}

const CfiRecord *
cfi_trace_get_interposer(CfiTrace *t, guint i)
{
    if (i >= t->notes->len)
        return NULL;
    return &g_array_index(t->notes, CfiRecord, i);
}

gboolean
cfi_trace_is_truncated(CfiTrace *t, guint64 *out_offset,
                       const char **out_reason)
{
    if (out_offset != NULL)
        *out_offset = t->truncated ? t->trunc_offset : 0;
    if (out_reason != NULL)
        *out_reason = t->trunc_reason;
    return t->truncated;
}

enum cfi_data_mode
cfi_trace_get_data_mode(CfiTrace *t)
{
    return (enum cfi_data_mode)t->hdr->data_mode;
}

guint64
cfi_trace_get_created_ns(CfiTrace *t)
{
    return t->hdr->created_ns;
}

guint32
cfi_trace_get_creator_pid(CfiTrace *t)
{
    return t->hdr->creator_pid;
}
