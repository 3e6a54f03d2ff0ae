/* SPDX-License-Identifier: MIT */
/*
 * vm-dmlog.h: reading a dm-log-writes log (Linux drivers/md/
 * dm-log-writes.c; QEMU's blklogwrites block driver writes the same
 * format): the guest's writes, discards and flushes in the order the disk
 * received them, with the data of each write.  cfaultinject/MODELS.md 4d
 * says what the VM tier does with it.
 *
 * Layout, little-endian: sector 0 holds the superblock (magic
 * 0x6a736677736872, version 1, nr_entries, sectorsize); from sector 1 on,
 * each request is one sector holding its entry (sector, nr_sectors,
 * flags, data_len) followed by nr_sectors sectors of data (none for a
 * discard).  sector and nr_sectors count sectors of sectorsize bytes.
 *
 * The superblock's count is rewritten at flushes only (QEMU: at every
 * flush and every log-super-update-interval entries), so a log cut with
 * its writer holds more entries than it says: they are read on until an
 * entry that cannot be one (all zero: never written; unknown flags; data
 * past the end of the file).  An entry within the superblock's count that
 * cannot be one is an error: the log is damaged.
 */
#ifndef PP_VM_DMLOG_H
#define PP_VM_DMLOG_H

#include <gio/gio.h>

#define PP_DMLOG_FLUSH   (1u << 0)
#define PP_DMLOG_FUA     (1u << 1)
#define PP_DMLOG_DISCARD (1u << 2)
#define PP_DMLOG_MARK    (1u << 3)

typedef struct {
    guint64 offset;          /* bytes into the disk */
    guint64 length;          /* bytes written or discarded (0: a flush or
                                a mark alone) */
    guint32 flags;           /* PP_DMLOG_* */
    guint64 data_offset;     /* bytes into the log of its data; 0 when it
                                has none (discard, flush) */
} PpDmLogEntry;

typedef struct {
    char *path;
    guint32 sector_size;
    guint64 super_entries;   /* what the superblock says */
    GArray *entries;         /* PpDmLogEntry, in log order */
    char *end_reason;        /* why reading stopped past super_entries
                                ("end of file", "an all-zero entry", ...) */
} PpDmLog;

/* Read the entries of the log at path (not their data). */
PpDmLog *pp_dmlog_read(const char *path, GError **error);
void pp_dmlog_free(PpDmLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpDmLog, pp_dmlog_free)

/* The index of the last entry with PP_DMLOG_FLUSH, or -1. */
gint64 pp_dmlog_last_flush(const PpDmLog *log);

static inline const PpDmLogEntry *
pp_dmlog_entry(const PpDmLog *log, guint i)
{
    return &g_array_index(log->entries, PpDmLogEntry, i);
}

#endif /* PP_VM_DMLOG_H */
