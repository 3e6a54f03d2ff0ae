/* SPDX-License-Identifier: MIT */
/*
 * replay-private.h: what interpretation leaves for the models and the
 * materialiser.  Not for the harness: use crashstate.h.
 *
 * Interpretation (replay-interp.c) turns records into operations ("uops")
 * on inode ids; decision (replay-decide.c) says which of them a model
 * keeps; materialisation (replay-apply.c) writes the state.
 */
#ifndef CFI_REPLAY_PRIVATE_H
#define CFI_REPLAY_PRIVATE_H

#include "crashstate.h"

#define CFI_NEVER G_MAXUINT32   /* durable_at of an operation never covered */
#define CFI_STAGING_DIR ".cfi-replay-staging"

/* Filesystems of the traced tree (MODELS.md §4b): the root, and boot/
 * when the device has it apart. */
#define CFI_FS_ROOT 0
#define CFI_FS_BOOT 1
#define CFI_FS_COUNT 2

typedef enum {
    CFI_INODE_FILE,
    CFI_INODE_DIR,
    CFI_INODE_SYMLINK,
    CFI_INODE_OTHER,
} CfiInodeType;

typedef struct {
    guint8 type;                /* CfiInodeType */
    guint8 from_snapshot;       /* existed before the run */
    guint8 fs;                  /* CFI_FS_* (MODELS.md §4b) */
    guint8 da_alloc_close;      /* interpretation: truncated to 0, its
                                   data is flushed at the next close */
    guint32 mode;               /* initial permission bits */
    guint32 uid, gid;           /* snapshot owner */
    GPtrArray *snap_names;      /* relative names in the snapshot (files) */
    GHashTable *children;       /* dirs: logical namespace, name -> id */
    const char *dir_path;       /* dirs: where the logical namespace has it
                                   now, relative ("" = the root); attribute
                                   ops on the dir name it by this path */
} CfiInode;

typedef enum {
    CFI_UOP_CREATE,             /* path; inode (a new regular file) */
    CFI_UOP_MKDIR,              /* path; inode; len = mode */
    CFI_UOP_SYMLINK,            /* path = target text; path2 = link */
    CFI_UOP_LINK,               /* path (NULL when from an fd) -> path2 */
    CFI_UOP_RENAME,             /* path -> path2; flags = renameat2 flags */
    CFI_UOP_UNLINK,             /* path */
    CFI_UOP_RMDIR,              /* path */
    CFI_UOP_WRITE,              /* inode; off; data[len] */
    CFI_UOP_CLONE,              /* inode = dest; inode2 = source */
    CFI_UOP_TRUNCATE,           /* inode; len = new length */
    CFI_UOP_FALLOCATE,          /* inode; flags = mode; off; len */
    CFI_UOP_CHMOD,              /* inode; len = mode */
    CFI_UOP_CHOWN,              /* inode; len = uid << 32 | gid */
    CFI_UOP_SETXATTR,           /* inode; path2 = name; data = value */
    CFI_UOP_UTIMES,             /* inode; data = 2 x struct timespec */
} CfiUopKind;

typedef enum {
    CFI_CLASS_ENTRY,            /* durable at fsync of `dir` */
    CFI_CLASS_DATA,             /* durable at fsync/fdatasync of inode */
    CFI_CLASS_SIZE,             /* same as data; persists in ordered */
    CFI_CLASS_ATTR,             /* durable at fsync of inode only */
} CfiUopClass;

typedef struct {
    guint8 kind;                /* CfiUopKind */
    guint8 klass;               /* CfiUopClass */
    guint8 data_missing;        /* write whose bytes are not in the trace */
    guint8 fs;                  /* CFI_FS_*: of dir (entry ops), else of
                                   inode */
    guint32 rec;                /* index (seq order) of the record */
    guint32 inode;              /* inode acted on or named */
    guint32 inode2;             /* clone source */
    guint32 dir;                /* entry ops: directory inode */
    guint32 durable_at;         /* first covering barrier record, CFI_NEVER */
    guint32 flushed_at;         /* data ops: the replacement (rename, close
                                   after truncate) whose auto_da_alloc
                                   flush wrote it, CFI_NEVER (§4b) */
    guint32 flags;              /* renameat2 flags, fallocate mode */
    const char *path;           /* relative to orig_root (see kind) */
    const char *path2;
    gint64 off;
    guint64 len;
    const guint8 *data;
    guint32 data_len;
} CfiUop;

/* The write a record would have made: what `torn` tears when the record
 * is the one in flight.  inode 0 when the record is not such a write. */
typedef struct {
    guint32 inode;
    gint64 off;
    const guint8 *data;
    guint32 len;
} CfiInflight;

/* The part of a state the bootloader reads (replay-bootscope.c). */
#define CFI_BOOT_SCOPE_ROOT "boot"
typedef struct CfiBootScope {
    GPtrArray *prefixes;        /* relative paths whose subtrees are in */
    guint n_uops;               /* operations it was taken over */
    guint8 *uop;                /* [n_uops]: shapes something in scope */
    guint8 *snap;               /* [snapshot entries]: in scope */
    guint8 *inode;              /* [inodes]: a file whose bytes count */
} CfiBootScope;

/* One snapshot entry, in pre-order, for copying. */
typedef struct {
    const char *path;           /* relative */
    const char *link_target;    /* symlinks */
    guint32 inode;
    guint8 type;
    guint32 mode, uid, gid;
} CfiSnapEntry;

struct CfiReplay {
    CfiTrace *trace;            /* borrowed */
    CfiModelOpts opts;          /* the device (MODELS.md §4b) */
    char *orig_root;            /* normalised absolute */
    char *snapshot_dir;
    guint n_records;
    GArray *inodes;             /* CfiInode; id = index; 0 is "none" */
    GArray *snap;               /* CfiSnapEntry */
    GArray *uops;               /* CfiUop */
    guint32 *rec_uop_start;     /* [n_records + 1]: first uop of record i */
    CfiInflight *inflight;      /* [n_records] */
    GStringChunk *strings;
    GPtrArray *warnings;
    GArray *checkpoints;        /* guint32: FIFREEZE records of the tree's
                                   filesystem, ascending (MODELS.md §4a) */
    GArray *checkpoint_fs;      /* guint8: the filesystem each of them froze
                                   (CFI_FS_*, §4b) */
    gsize boot_touch_once;      /* boot_touch computed (g_once) */
    guint boot_touch;           /* the first uop that may shape boot/
                                   (replay-bootscope.c); n_uops: none */
    gsize boot_witness;         /* n << 32 | uop: that uop is in the boot/
                                   scope of the cuts with n uops or more;
                                   0 none (replay-bootscope.c) */
};

static inline CfiInode *
cfi_replay_inode(CfiReplay *r, guint32 id)
{
    return &g_array_index(r->inodes, CfiInode, id);
}

static inline CfiUop *
cfi_replay_uop(CfiReplay *r, guint32 i)
{
    return &g_array_index(r->uops, CfiUop, i);
}

/* The filesystem of a path relative to orig_root (MODELS.md §4b). */
static inline guint8
cfi_replay_path_fs(CfiReplay *r, const char *rel)
{
    if (!r->opts.separate_boot || rel == NULL)
        return CFI_FS_ROOT;
    if (g_str_equal(rel, "boot") || g_str_has_prefix(rel, "boot/"))
        return CFI_FS_BOOT;
    return CFI_FS_ROOT;
}

/* The filesystem holding boot/: the one whose checkpoints the bootloader's
 * view reports. */
static inline guint8
cfi_replay_boot_fs(CfiReplay *r)
{
    return r->opts.separate_boot ? CFI_FS_BOOT : CFI_FS_ROOT;
}

/* replay-interp.c: the last checkpoint of filesystem fs before cut k, -1
 * when none. */
gint64 cfi_replay_last_checkpoint_fs(CfiReplay *r, guint fs, guint k);

/* replay-decide.c: keep[u] for every uop before the cut; returns how many
 * uops that is. */
guint cfi_replay_decide(CfiReplay *r, guint k, CfiModel model, guint64 seed,
                        guint8 *keep);
/* replay-decide.c: keep[u] for the bootloader's view (MODELS.md §4a);
 * fills info; returns the number of uops before the cut. */
guint cfi_replay_decide_bootview(CfiReplay *r, guint k, CfiModel model,
                                 guint64 seed, guint64 subset_seed,
                                 guint8 *keep, CfiBootView *info);
/* replay-decide.c: the sectors of the in-flight write that reach the disk
 * (mask[i] for sector s0 + i); returns the number of sectors, 0 when record
 * k cannot tear. */
guint cfi_replay_torn_sectors(CfiReplay *r, guint k, guint64 seed,
                              guint8 **out_mask, gint64 *out_first_sector);

/* replay-bootscope.c */
/* The scope of the states cut after the first n_uops operations. */
CfiBootScope *cfi_boot_scope_new(CfiReplay *r, guint n_uops);
gboolean cfi_boot_scope_has_path(const CfiBootScope *s, const char *path);
void cfi_boot_scope_free(CfiBootScope *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CfiBootScope, cfi_boot_scope_free)

/* replay-interp.c */
gboolean cfi_replay_interpret(CfiReplay *r, GError **error);
gboolean cfi_replay_scan_snapshot(CfiReplay *r, GError **error);

/* The farm (replay-farm.c): record what copy_snapshot built at tfd
 * (FALSE without an error: not the snapshot's hardlinks, not kept), and
 * mark the directories a state changes.  f may be NULL. */
gboolean cfi_farm_index(CfiFarm *f, CfiReplay *r, int tfd, GError **error);
/* The state the farm holds can be moved to a later cut by replay-apply.c:
 * held is what it keeps for that (freed by held_free when the farm is
 * restored or freed), parked the state's staging directory outside the
 * tree (removed then too). */
gboolean cfi_farm_get_advance(CfiFarm *f);
void cfi_farm_hold(CfiFarm *f, gpointer held, GDestroyNotify held_free,
                   const char *parked);
gpointer cfi_farm_held(CfiFarm *f);
void cfi_farm_set_moved(CfiFarm *f, gboolean moved);
/* cfi_farm_restore(), then, if the farm was told to, cfi_farm_verify():
 * a difference is an error. */
gboolean cfi_farm_restore_checked(CfiFarm *f, GError **error);
const char *cfi_farm_parked(CfiFarm *f);
/* A state changes entry name of the open directory dfd. */
void cfi_farm_mark_entry(CfiFarm *f, int dfd, const char *name);
/* ... the attributes of the directory rel (relative to tfd, the root). */
void cfi_farm_mark_at(CfiFarm *f, int tfd, const char *rel);
/* ... the entry rel (a relative path) in its parent. */
void cfi_farm_mark_parent_of(CfiFarm *f, const char *rel);

#endif /* CFI_REPLAY_PRIVATE_H */
