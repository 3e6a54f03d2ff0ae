/* SPDX-License-Identifier: MIT */
/*
 * vm-dmlog.c: see vm-dmlog.h.
 */
#include "vm/vm-dmlog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"

#define DMLOG_MAGIC 0x6a736677736872ULL
#define DMLOG_VERSION 1
#define DMLOG_FLAG_MASK (PP_DMLOG_FLUSH | PP_DMLOG_FUA | PP_DMLOG_DISCARD \
                         | PP_DMLOG_MARK)

static guint64
le64_at(const guint8 *p)
{
    guint64 v;
    memcpy(&v, p, sizeof v);
    return GUINT64_FROM_LE(v);
}

static guint32
le32_at(const guint8 *p)
{
    guint32 v;
    memcpy(&v, p, sizeof v);
    return GUINT32_FROM_LE(v);
}

/* Read exactly len bytes at off; *out_short when the file ends first. */
static gboolean
pread_all(int fd, void *buf, size_t len, guint64 off, const char *path,
          gboolean *out_short, GError **error)
{
    size_t done = 0;
    *out_short = FALSE;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done,
                          (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return pp_throw_errno_prefix(error, "pread(%s)", path);
        }
        if (n == 0) {
            *out_short = TRUE;
            return TRUE;
        }
        done += (size_t)n;
    }
    return TRUE;
}

void
pp_dmlog_free(PpDmLog *log)
{
    if (log == NULL) {
        return;
    }
    g_free(log->path);
    g_free(log->end_reason);
    if (log->entries != NULL) {
        g_array_unref(log->entries);
    }
    g_free(log);
}

/*
 * Why the entry at index i (raw fields) cannot be one, or NULL.  size:
 * the log file's size; data_end: where its data would end.
 */
static const char *
entry_invalid(guint64 sector, guint64 nr, guint64 flags, guint64 data_end,
              guint64 size)
{
    if (sector == 0 && nr == 0 && flags == 0) {
        return "an all-zero entry (never written)";
    }
    if ((flags & ~(guint64)DMLOG_FLAG_MASK) != 0) {
        return "an entry with unknown flags";
    }
    if (nr == 0 && (flags & (PP_DMLOG_FLUSH | PP_DMLOG_MARK)) == 0) {
        return "an empty write";
    }
    if (data_end > size) {
        return "an entry whose data runs past the end of the log";
    }
    return NULL;
}

PpDmLog *
pp_dmlog_read(const char *path, GError **error)
{
    pp_autofd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        pp_throw_errno_prefix(error, "fstat(%s)", path);
        return NULL;
    }
    guint64 size = (guint64)st.st_size;
    guint8 sb[28];
    gboolean is_short = FALSE;
    if (!pread_all(fd, sb, sizeof sb, 0, path, &is_short, error)) {
        return NULL;
    }
    if (is_short || le64_at(sb) != DMLOG_MAGIC) {
        pp_throw(error, "%s: not a dm-log-writes log (no superblock magic)",
                 path);
        return NULL;
    }
    if (le64_at(sb + 8) != DMLOG_VERSION) {
        pp_throw(error, "%s: dm-log-writes version %" G_GUINT64_FORMAT
                 " (only 1 is known)", path, le64_at(sb + 8));
        return NULL;
    }
    guint32 ss = le32_at(sb + 24);
    if (ss < 32 || ss >= (1u << 24) || (ss & (ss - 1)) != 0) {
        pp_throw(error, "%s: sector size %u is not a power of 2 in "
                 "[32, 2^24)", path, ss);
        return NULL;
    }
    g_autoptr(PpDmLog) log = g_new0(PpDmLog, 1);
    log->path = g_strdup(path);
    log->sector_size = ss;
    log->super_entries = le64_at(sb + 16);
    log->entries = g_array_new(FALSE, FALSE, sizeof(PpDmLogEntry));
    guint64 off = ss;
    for (guint64 i = 0;; i++) {
        guint8 e[32];
        if (off >= size) {
            log->end_reason = g_strdup("the end of the log");
        } else if (!pread_all(fd, e, sizeof e, off, path, &is_short, error)) {
            return NULL;
        } else if (is_short) {
            log->end_reason = g_strdup("an entry cut short by the end of "
                                       "the log");
        } else {
            guint64 sector = le64_at(e), nr = le64_at(e + 8);
            guint64 flags = le64_at(e + 16);
            gboolean has_data = (flags & PP_DMLOG_DISCARD) == 0 && nr > 0;
            /* Bound nr before multiplying: a garbage entry must not wrap. */
            guint64 data_len = nr <= size / ss ? nr * ss : G_MAXUINT64 / 2;
            guint64 data_end = off + ss + (has_data ? data_len : 0);
            const char *bad = sector > G_MAXUINT64 / ss
                ? "an entry whose sector is out of range"
                : entry_invalid(sector, nr, flags, data_end, size);
            if (bad == NULL) {
                PpDmLogEntry pe = {
                    .offset = sector * ss,
                    .length = nr * ss,
                    .flags = (guint32)flags,
                    .data_offset = has_data ? off + ss : 0,
                };
                g_array_append_val(log->entries, pe);
                off = data_end;
                continue;
            }
            log->end_reason = g_strdup(bad);
        }
        if (i < log->super_entries) {
            pp_throw(error, "%s: entry %" G_GUINT64_FORMAT " of the %"
                     G_GUINT64_FORMAT " its superblock counts: %s", path, i,
                     log->super_entries, log->end_reason);
            return NULL;
        }
        break;
    }
    return g_steal_pointer(&log);
}

gint64
pp_dmlog_last_flush(const PpDmLog *log)
{
    for (guint i = log->entries->len; i > 0; i--) {
        if ((pp_dmlog_entry(log, i - 1)->flags & PP_DMLOG_FLUSH) != 0) {
            return (gint64)i - 1;
        }
    }
    return -1;
}
