/* SPDX-License-Identifier: MIT */
/*
 * vm-diskcache.c: see vm-diskcache.h and cfaultinject/MODELS.md 4d.
 */
#include "vm/vm-diskcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/json.h"
#include "common/util.h"
#include "vm/vm-disk.h"
#include "vm/vm-dmlog.h"

/* The lost requests named in the case file: the first few are evidence,
   a thousand would bury it. */
#define LOST_RANGES_MAX 32

const char *
pp_disk_cache_name(PpDiskCache mode)
{
    return mode == PP_DISK_CACHE_VOLATILE ? "volatile" : "none";
}

gboolean
pp_disk_cache_parse(const char *s, PpDiskCache *out)
{
    if (g_strcmp0(s, "none") == 0) {
        *out = PP_DISK_CACHE_NONE;
    } else if (g_strcmp0(s, "volatile") == 0) {
        *out = PP_DISK_CACHE_VOLATILE;
    } else {
        return FALSE;
    }
    return TRUE;
}

guint64
pp_diskcache_cycle_seed(guint64 seed, guint index)
{
    if (seed == 0) {
        return 0;
    }
    /* Another stream than the cut's draws (GRand on seed and cycle). */
    guint64 st = seed ^ (0xd1b54a32d192ed03ULL * ((guint64)index + 1));
    /* 53 bits: a JSON number every reader (jq, a browser) keeps exact. */
    guint64 v = pp_splitmix64(&st) & ((G_GUINT64_CONSTANT(1) << 53) - 1);
    return v != 0 ? v : 1;
}

void
pp_diskcache_result_clear(PpDiskCacheResult *r)
{
    g_clear_pointer(&r->end_reason, g_free);
    if (r->lost_ranges != NULL) {
        g_string_free(r->lost_ranges, TRUE);
        r->lost_ranges = NULL;
    }
}

/* Copy len bytes of the log at log_off to the disk at disk_off. */
static gboolean
copy_range(int log_fd, guint64 log_off, int disk_fd, guint64 disk_off,
           guint64 len, const char *log_path, const char *disk,
           GError **error)
{
    loff_t in = (loff_t)log_off, outo = (loff_t)disk_off;
    while (len > 0) {
        ssize_t n = copy_file_range(log_fd, &in, disk_fd, &outo, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return pp_throw_errno_prefix(error, "copy_file_range(%s -> %s)",
                                         log_path, disk);
        }
        if (n == 0) {
            errno = EIO;
            return pp_throw_errno_prefix(error, "copy_file_range(%s): the "
                                         "log ends inside a write", log_path);
        }
        len -= (guint64)n;
    }
    return TRUE;
}

/* Apply entry e of the log to the disk. */
static gboolean
apply_entry(const PpDmLogEntry *e, int log_fd, int disk_fd,
            const char *log_path, const char *disk, GError **error)
{
    if ((e->flags & PP_DMLOG_DISCARD) != 0) {
        /* QEMU's raw file punches a discarded range: it reads as zeros. */
        if (e->length > 0
            && fallocate(disk_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         (off_t)e->offset, (off_t)e->length) < 0) {
            return pp_throw_errno_prefix(error, "fallocate(%s, punch hole)",
                                         disk);
        }
        return TRUE;
    }
    if (e->data_offset == 0) {
        return TRUE;            /* a flush or a mark: nothing to write */
    }
    return copy_range(log_fd, e->data_offset, disk_fd, e->offset, e->length,
                      log_path, disk, error);
}

gboolean
pp_diskcache_rebuild(const char *pristine, const char *log_path,
                     const char *out_disk, guint64 seed,
                     PpDiskCacheResult *out, GError **error)
{
    pp_diskcache_result_clear(out);
    memset(out, 0, sizeof *out);
    out->seed = seed;
    out->lost_ranges = g_string_new(NULL);
    g_autoptr(PpDmLog) log = pp_dmlog_read(log_path, error);
    if (log == NULL) {
        return FALSE;
    }
    out->entries = log->entries->len;
    out->super_entries = log->super_entries;
    out->end_reason = g_strdup(log->end_reason);
    out->last_flush = pp_dmlog_last_flush(log);
    g_autofree char *tmp = g_strconcat(out_disk, ".rebuild", NULL);
    if (!pp_vmdisk_copy(pristine, tmp, error)) {
        return FALSE;
    }
    pp_autofd int log_fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (log_fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", log_path);
        (void)unlink(tmp);
        return FALSE;
    }
    pp_autofd int disk_fd = open(tmp, O_WRONLY | O_CLOEXEC);
    if (disk_fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", tmp);
        (void)unlink(tmp);
        return FALSE;
    }
    guint64 st = seed;
    for (guint i = 0; i < log->entries->len; i++) {
        const PpDmLogEntry *e = pp_dmlog_entry(log, i);
        gboolean has_request = e->data_offset != 0
                               || (e->flags & PP_DMLOG_DISCARD) != 0;
        if ((e->flags & PP_DMLOG_FLUSH) != 0) {
            out->flushes++;
        }
        /* Before the last flush, or that flush's own data when FUA: kept
           (MODELS.md 4d, 2). */
        gboolean keep = (gint64)i < out->last_flush;
        if (!keep && has_request) {
            out->after_flush++;
            if ((e->flags & PP_DMLOG_FUA) != 0) {
                keep = TRUE;
            } else {
                /* One draw a request, in log order; seed 0 keeps none. */
                keep = seed != 0 && (pp_splitmix64(&st) & 1) != 0;
            }
            if (keep) {
                out->kept++;
            } else {
                out->lost++;
                out->bytes_lost += e->length;
                if (out->lost <= LOST_RANGES_MAX) {
                    g_string_append_printf(
                        out->lost_ranges, "%s%" G_GUINT64_FORMAT "+%"
                        G_GUINT64_FORMAT "%s", out->lost_ranges->len ? " " : "",
                        e->offset, e->length,
                        (e->flags & PP_DMLOG_DISCARD) != 0 ? "(discard)" : "");
                }
            }
        }
        if (keep && has_request
            && !apply_entry(e, log_fd, disk_fd, log_path, tmp, error)) {
            (void)unlink(tmp);
            return FALSE;
        }
    }
    /* Scratch, not a result: the cycle's disk is rebuilt, not kept
       durable on the host (durable.h is for result files). */
    if (rename(tmp, out_disk) < 0) {
        pp_throw_errno_prefix(error, "rename(%s, %s)", tmp, out_disk);
        (void)unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

JsonNode *
pp_diskcache_result_to_json(PpDiskCache mode, const PpDiskCacheResult *r)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "mode", pp_disk_cache_name(mode));
    if (mode == PP_DISK_CACHE_VOLATILE) {
        pp_json_add_int(b, "seed", (gint64)r->seed);
        pp_json_add_int(b, "log_entries", r->entries);
        pp_json_add_int(b, "log_superblock_entries", (gint64)r->super_entries);
        pp_json_add_int(b, "flushes", r->flushes);
        pp_json_add_int(b, "last_flush_entry", r->last_flush);
        pp_json_add_int(b, "requests_after_last_flush", r->after_flush);
        pp_json_add_int(b, "kept", r->kept);
        pp_json_add_int(b, "lost", r->lost);
        pp_json_add_int(b, "bytes_lost", (gint64)r->bytes_lost);
        pp_json_add_string(b, "lost_requests",
                           r->lost_ranges != NULL ? r->lost_ranges->str : "");
        pp_json_add_string(b, "log_end",
                           r->end_reason != NULL ? r->end_reason : "");
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

const char *
pp_diskcache_unflushed_command(void)
{
    /* busybox dd: O_DIRECT needs whole, aligned blocks, so the block is
       made in /tmp (tmpfs) first. */
    return "head -c 4096 /dev/zero | tr '\\000' U >/tmp/pp-unflushed && "
           "dd if=/tmp/pp-unflushed of=/dev/vda bs=4096 seek=128 count=1 "
           "oflag=direct conv=notrunc";
}

gboolean
pp_diskcache_unflushed_kept(const char *disk, gboolean *out_kept,
                            GError **error)
{
    G_STATIC_ASSERT(PP_UNFLUSHED_OFFSET == 128 * PP_UNFLUSHED_SIZE);
    pp_autofd int fd = open(disk, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return pp_throw_errno_prefix(error, "open(%s)", disk);
    }
    guint8 buf[PP_UNFLUSHED_SIZE];
    ssize_t n = pread(fd, buf, sizeof buf, PP_UNFLUSHED_OFFSET);
    if (n < 0) {
        return pp_throw_errno_prefix(error, "pread(%s)", disk);
    }
    *out_kept = n == (ssize_t)sizeof buf;
    for (ssize_t i = 0; *out_kept && i < n; i++) {
        *out_kept = buf[i] == 'U';
    }
    return TRUE;
}
