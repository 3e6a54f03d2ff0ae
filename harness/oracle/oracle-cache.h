/* SPDX-License-Identifier: MIT */
/*
 * oracle-cache.h: what the oracle learnt of one campaign's unchanged files,
 * kept from one crash state to the next.
 *
 * Every crash state of a campaign starts as a hardlink farm of the same
 * snapshot (cfaultinject/replay/replay-apply.c), and a file a kept
 * operation changes is first copied to a new inode: a name in a state
 * whose inode is one of the snapshot's is the snapshot's file, unchanged.
 * So its ostree content checksum, and the validity of a repo object it
 * holds, are computed once per campaign, not once per state, and a
 * state's cost grows with what the update changed, not with the firmware.
 *
 * Only the inodes of the tree given to pp_oracle_cache_pin_tree() (the
 * snapshot) are cached: they stay allocated while it exists, so their
 * numbers cannot be reused by a file of a later state, which would have
 * to be hashed anyway.  The snapshot must outlive the cache.
 *
 * A hit also needs the inode's size, mtime (to the nanosecond), type,
 * permission bits and owner as they were when the entry was made (after
 * the stat overlay): writing or truncating the snapshot's file through any
 * name, even the same inode behind the replay's back, changes size or
 * mtime, and the checksum covers mode and owner.  ctime cannot be part of
 * the key: linking the file into each new state changes it.  What is not
 * seen: a write whose mtime is then set back by hand (utimensat), or an
 * xattr set on a snapshot inode (the replay copies a file before any
 * change, so neither happens to a state it built).
 *
 * PLUGPULL_ORACLE_NOCACHE=1 in the environment makes the oracle ignore
 * the cache (and sim judge every identical state on its own): it exists
 * to prove the cached judgement is the full one
 * (tests/integration/test-oracle-equivalence.sh).
 *
 * Thread-safe: sim judges states on several threads against one cache.
 * Knows nothing of the oracle's steps; common/ only.
 */
#ifndef PP_ORACLE_CACHE_H
#define PP_ORACLE_CACHE_H

#include <sys/stat.h>

#include <glib.h>

typedef struct _PpOracleCache PpOracleCache;

/* At most this many files in one concatenated sum. */
#define PP_ORACLE_CACHE_MAX_CONCAT 4

typedef struct {
    guint pinned;              /* inodes of the pinned tree */
    guint64 checksum_hits;     /* checksums answered from the cache */
    guint64 checksum_stored;   /* checksums computed and kept */
    guint64 bytes_not_hashed;  /* bytes of the hits */
    guint64 object_hits;       /* metadata objects not verified again */
    guint64 object_stored;
    guint64 concat_hits;       /* boot entries' sums answered */
    guint64 subtree_hits;      /* unchanged subtrees not walked again */
    guint64 unchanged_object_hits; /* objects of unchanged dirs not looked at */
} PpOracleCacheStats;

PpOracleCache *pp_oracle_cache_new(void);
void pp_oracle_cache_free(PpOracleCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpOracleCache, pp_oracle_cache_free)

/* Pin every regular file and symlink under dir (not followed). */
gboolean pp_oracle_cache_pin_tree(PpOracleCache *c, const char *dir,
                                  GError **error);

/* The content checksum kept for st's inode, if it is pinned and still as
 * it was (see above); NULL otherwise.  Free with g_free(). */
char *pp_oracle_cache_get_checksum(PpOracleCache *c, const struct stat *st);
/* Keep csum for st's inode if it is pinned; otherwise nothing. */
void pp_oracle_cache_put_checksum(PpOracleCache *c, const struct stat *st,
                                  const char *csum);

/* Was object name ("CHECKSUM.TYPE") verified in st's inode as it is now? */
gboolean pp_oracle_cache_object_verified(PpOracleCache *c,
                                         const struct stat *st,
                                         const char *name);
/* It was verified (only a success is kept; a failure is found again). */
void pp_oracle_cache_put_object_verified(PpOracleCache *c,
                                         const struct stat *st,
                                         const char *name);

/* The sha256 of the n files' contents concatenated (a boot entry's
 * kernel, initramfs and devicetree: its bootcsum), kept if every one of
 * them is a pinned inode still as it was (see above); NULL otherwise.
 * Free with g_free(). */
char *pp_oracle_cache_get_concat_sha256(PpOracleCache *c,
                                        const struct stat *sts, guint n);
/* Keep sum for the n files if every one is pinned; otherwise nothing. */
void pp_oracle_cache_put_concat_sha256(PpOracleCache *c,
                                       const struct stat *sts, guint n,
                                       const char *sum);

/*
 * Subtrees that are the snapshot's, unchanged (the caller knows it from
 * the farm the state stands on: cfi_farm_subtree_unchanged()): what one
 * judgement found in one holds in every later state where it is
 * unchanged too.  key names the subtree and what it was judged against;
 * only a subtree with no difference is kept.  seen: the manifest indices
 * (guint) met in it; the array is shared, read-only.
 */
gboolean pp_oracle_cache_get_subtree(PpOracleCache *c, const char *key,
                                     guint *out_n_paths, guint64 *out_bytes,
                                     GArray **out_seen);
void pp_oracle_cache_put_subtree(PpOracleCache *c, const char *key,
                                 guint n_paths, guint64 bytes,
                                 const guint *seen, guint n_seen);
/* Object name ("CHECKSUM.TYPE") was found present and valid in its
 * objects/XX directory while that directory was unchanged. */
gboolean pp_oracle_cache_object_ok_unchanged(PpOracleCache *c,
                                             const char *name);
void pp_oracle_cache_put_object_ok_unchanged(PpOracleCache *c,
                                             const char *name);

void pp_oracle_cache_get_stats(PpOracleCache *c, PpOracleCacheStats *out);

/* PLUGPULL_ORACLE_NOCACHE is set to something other than "" or "0". */
gboolean pp_oracle_cache_disabled(void);

#endif /* PP_ORACLE_CACHE_H */
