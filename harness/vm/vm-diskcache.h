/* SPDX-License-Identifier: MIT */
/*
 * vm-diskcache.h: the VM tier's disk with a volatile write cache
 * (`[device] disk-cache = volatile`), as cfaultinject/MODELS.md 4d
 * specifies it: boot A runs on QEMU's blklogwrites driver, and at the cut
 * the disk is rebuilt from the pristine image and the log, keeping what
 * a completed flush made durable and a seeded subset of the rest.
 */
#ifndef PP_VM_DISKCACHE_H
#define PP_VM_DISKCACHE_H

#include <gio/gio.h>
#include <json-glib/json-glib.h>

typedef enum {
    PP_DISK_CACHE_NONE = 0,  /* every write handed to the disk survives */
    PP_DISK_CACHE_VOLATILE,  /* writes after the last flush may be lost */
} PpDiskCache;

/* "none", "volatile". */
const char *pp_disk_cache_name(PpDiskCache mode);
gboolean pp_disk_cache_parse(const char *s, PpDiskCache *out);

/*
 * The disk seed of cycle `index` of a campaign seeded `seed`: 0 when seed
 * is 0 (keep none of the writes after the last flush, the worst case),
 * else a non-zero value drawn from both.
 */
guint64 pp_diskcache_cycle_seed(guint64 seed, guint index);

/* What a rebuild kept and lost (counts of log entries). */
typedef struct {
    guint64 seed;
    guint entries;           /* requests read from the log */
    guint64 super_entries;   /* the log's superblock count */
    guint flushes;
    gint64 last_flush;       /* index of the last flush entry, -1: none */
    guint after_flush;       /* requests with data or a discard after it */
    guint kept;              /* of those: kept (FUA, or drawn) */
    guint lost;
    guint64 bytes_lost;
    char *end_reason;        /* why reading the log stopped */
    GString *lost_ranges;    /* "OFFSET+LEN" of the first lost requests */
} PpDiskCacheResult;

void pp_diskcache_result_clear(PpDiskCacheResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpDiskCacheResult, pp_diskcache_result_clear)

/*
 * Build at out_disk the disk a cut leaves (MODELS.md 4d): a sparse copy
 * of pristine (the disk boot A started from) with the requests of the
 * blklogwrites log at log_path applied in log order, those after the last
 * flush only when FUA or kept by the draw from seed.  out_disk is
 * replaced (written beside it, then renamed); *out is cleared first.
 */
gboolean pp_diskcache_rebuild(const char *pristine, const char *log_path,
                              const char *out_disk, guint64 seed,
                              PpDiskCacheResult *out, GError **error);

/* The case file's "disk_cache" object. */
JsonNode *pp_diskcache_result_to_json(PpDiskCache mode,
                                      const PpDiskCacheResult *r);

/*
 * The twin's test hook (`--sabotage unflushed-write`): a guest that
 * writes and never flushes.  The command writes 4 KiB of 'U' with
 * O_DIRECT (past the guest's page cache, to the virtual disk) to the
 * disk's sectors at PP_UNFLUSHED_OFFSET, which no partition holds (the
 * first partition starts at 1 MiB), and no flush follows: no filesystem,
 * no journal commit is involved.  The host cuts the power as soon as the
 * command returns.
 */
#define PP_SABOTAGE_UNFLUSHED "unflushed-write"
#define PP_UNFLUSHED_OFFSET (512 * 1024)
#define PP_UNFLUSHED_SIZE 4096
const char *pp_diskcache_unflushed_command(void);

/* Does the disk hold the hook's write?  *out_kept: all of it; FALSE with
   no error when the sectors hold anything else (the pristine zeros). */
gboolean pp_diskcache_unflushed_kept(const char *disk, gboolean *out_kept,
                                     GError **error);

#endif /* PP_VM_DISKCACHE_H */
