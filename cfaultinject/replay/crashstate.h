/* SPDX-License-Identifier: MIT */
/*
 * crashstate.h: build the on-disk state a power loss would leave.
 *
 * The models are specified in prose in cfaultinject/MODELS.md; read that
 * first.  A crash state is named by (trace, k, model, seed) and the same
 * name always yields a byte-identical tree.
 *
 * Interpreting a trace is done once, by cfi_replay_new(); every state is
 * then materialised from it in time linear in records + snapshot entries.
 */
#ifndef CFI_CRASHSTATE_H
#define CFI_CRASHSTATE_H

#include <glib.h>

#include "trace-reader.h"

typedef enum {
    CFI_MODEL_PROCESS_KILL,     /* "process-kill": everything completed */
    CFI_MODEL_ORDERED,          /* "ordered": ext4 data=ordered */
    CFI_MODEL_STRICT,           /* "strict": only what a barrier made durable */
    CFI_MODEL_TORN,             /* "torn": ordered + sector-torn in-flight write */
    CFI_MODEL_REORDER,          /* "reorder": strict + seeded subset of the rest */
} CfiModel;
#define CFI_MODEL_COUNT 5

gboolean cfi_model_from_string(const char *s, CfiModel *out, GError **error);
const char *cfi_model_to_string(CfiModel m);

typedef struct {
    guint ops_total;            /* operations of the records before the cut */
    guint ops_persisted;        /* kept by the model and applied */
    guint ops_dropped;          /* not kept by the model */
    guint ops_skipped;          /* kept, but their precondition was false */
    guint writes_torn;          /* 0 or 1 */
} CfiCrashStats;

typedef struct CfiReplay CfiReplay;

/*
 * The device's filesystem (MODELS.md §4b), fixed for a whole replay.  All
 * zero is the default: ext4 with auto_da_alloc, one filesystem.
 */
typedef struct {
    gboolean noauto_da_alloc;   /* mounted noauto_da_alloc: a replacement
                                   by rename or truncate flushes nothing */
    gboolean separate_boot;     /* boot/ of the traced tree is a filesystem
                                   of its own (syncfs, freeze per filesystem) */
    gboolean syncfs_log_only;   /* XFS: syncfs and sync force the log but
                                   write no metadata home, so only a freeze
                                   checkpoints; FALSE (ext4 on Linux): they
                                   write the device's dirty buffers after
                                   the journal commit, a checkpoint too */
    gboolean data_in_place;     /* the tree's files stand for partitions
                                   (block devices, MODELS.md 4c): under
                                   ordered and torn every write before the
                                   cut is kept */
} CfiModelOpts;

/* Interpret trace against orig_root, starting from snapshot_dir (a copy of
 * orig_root before the run), on the default device.  The trace must
 * outlive the replay. */
CfiReplay *cfi_replay_new(CfiTrace *trace, const char *orig_root,
                          const char *snapshot_dir, GError **error);
/* The same on the device opts describes (NULL: the default device). */
CfiReplay *cfi_replay_new_opts(CfiTrace *trace, const char *orig_root,
                               const char *snapshot_dir,
                               const CfiModelOpts *opts, GError **error);
/* The device options the replay was made with. */
const CfiModelOpts *cfi_replay_get_opts(CfiReplay *replay);
void cfi_replay_free(CfiReplay *replay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CfiReplay, cfi_replay_free)

/* Number of records: cuts range over 0 .. this value. */
guint cfi_replay_n_records(CfiReplay *replay);
/* Operations interpretation produced (all cuts). */
guint cfi_replay_n_ops(CfiReplay *replay);
/* Things interpretation could not make sense of (strings), never NULL. */
GPtrArray *cfi_replay_get_warnings(CfiReplay *replay);

/* Write state (k, model, seed) into target_dir, which must be missing or
 * empty.  out_stats may be NULL. */
gboolean cfi_replay_materialise(CfiReplay *replay, guint k, CfiModel model,
                                guint64 seed, const char *target_dir,
                                CfiCrashStats *out_stats, GError **error);

/*
 * A crash-state tree kept from one state to the next (replay-farm.c): the
 * first state builds the snapshot's hardlink farm at its path, and after
 * a state is judged cfi_farm_restore() brings it back to that farm by
 * undoing only what the state changed, so the next state costs what its
 * operations touch, not the size of the snapshot.  One farm serves one
 * thread at a time.
 */
typedef struct CfiFarm CfiFarm;
CfiFarm *cfi_farm_new(const char *path);
void cfi_farm_free(CfiFarm *farm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CfiFarm, cfi_farm_free)
const char *cfi_farm_get_path(CfiFarm *farm);
/* After the caller renamed the tree (to judge it under a state's name). */
void cfi_farm_set_path(CfiFarm *farm, const char *path);
/* The tree holds replay's snapshot farm (the next state can use it). */
gboolean cfi_farm_is_ready(CfiFarm *farm, CfiReplay *replay);
/* Write state (k, model, seed) at the farm's path: over the farm when it
 * is ready, else into a missing or empty directory, building it. */
gboolean cfi_replay_materialise_farm(CfiReplay *replay, guint k,
                                     CfiModel model, guint64 seed,
                                     CfiFarm *farm, CfiCrashStats *out_stats,
                                     GError **error);
/*
 * Let the farm keep a state after it was judged and move it to a later
 * cut of the same model and seed by applying only the operations in
 * between (MODELS.md §5, "From one cut to the next"), when the earlier
 * operations are kept the same at both cuts; otherwise the next
 * cfi_replay_materialise_farm() restores it first.  Off by default.
 */
void cfi_farm_set_advance(CfiFarm *farm, gboolean advance);
/* The cut of the state the farm holds, or -1 (none: the snapshot's). */
gint64 cfi_farm_state_cut(CfiFarm *farm);
/* Was the last state reached by moving the farm's earlier one? */
gboolean cfi_farm_moved(CfiFarm *farm);
/* Compare the tree with the snapshot's farm after every restore the farm
 * makes before a state (a difference fails that state). */
void cfi_farm_set_verify(CfiFarm *farm, gboolean verify);
/* Undo what the last state changed; *out_dirs (may be NULL): how many
 * directories were reconciled.  On failure the farm is no longer ready
 * (remove its tree). */
gboolean cfi_farm_restore(CfiFarm *farm, guint *out_dirs, GError **error);
/*
 * While a state stands over the farm (after cfi_replay_materialise_farm(),
 * before cfi_farm_restore()): is the directory at rel (relative to the
 * farm's root; "" the root), whose st_ino in the state is ino, still the
 * farm's own directory of that path, with no directory at or under it
 * changed by the state?  Then everything under it is the snapshot's,
 * entry for entry and inode for inode (a file a state changes is a new
 * inode, and its directories are marked), so what was learnt of it in one
 * state holds in every other.  FALSE when unsure (the farm not ready, a
 * directory the state made).
 */
gboolean cfi_farm_subtree_unchanged(CfiFarm *farm, const char *rel,
                                    guint64 ino);
/* The same for one entry: dir_rel is the farm's own directory (st_ino
 * dir_ino in the state) and the state did not make, remove, replace or
 * change the attributes of its entry name, so that entry is the
 * snapshot's (absent if the snapshot has none). */
gboolean cfi_farm_entry_unchanged(CfiFarm *farm, const char *dir_rel,
                                  guint64 dir_ino, const char *name);
/* Compare the whole tree with the snapshot's farm, changing nothing:
 * *out_diffs differences, *out_first (may be NULL) the first described. */
gboolean cfi_farm_verify(CfiFarm *farm, guint *out_diffs, char **out_first,
                         GError **error);

/*
 * The bootloader's view of a crash state (MODELS.md §4a): what a reader
 * that does not replay the journal (U-Boot, GRUB) finds on the disk.
 */
typedef struct {
    gint64 checkpoint;          /* last checkpoint record before the cut;
                                   -1 = the start of the trace */
    guint64 subset_seed;        /* 0 = nothing checkpointed after it */
    guint meta_pending;         /* metadata ops after the checkpoint that
                                   the kernel's view keeps */
    guint meta_home;            /* of those, in the bootloader's view */
} CfiBootView;

/* The subset seed of state (k, seed): 0 when seed is 0 (MODELS.md §4a). */
guint64 cfi_bootview_subset_seed(guint64 seed, guint k);

/* The last checkpoint (FIFREEZE of the filesystem holding boot/, which
 * is the traced filesystem unless boot/ is separate) before cut k: its
 * record index, or -1 (the start of the trace). */
gint64 cfi_replay_last_checkpoint(CfiReplay *replay, guint k);

/* Write the bootloader's view of state (k, model, seed) into target_dir
 * (missing or empty), drawing the checkpointed metadata with subset_seed.
 * out_stats and out_view may be NULL.  Under process-kill the view is
 * the kernel's (no power was lost; the reboot checkpoints everything). */
gboolean cfi_replay_materialise_bootview(CfiReplay *replay, guint k,
                                         CfiModel model, guint64 seed,
                                         guint64 subset_seed,
                                         const char *target_dir,
                                         CfiCrashStats *out_stats,
                                         CfiBootView *out_view,
                                         GError **error);

/* A digest of what state (k, model, seed) is made of (the operations the
 * model keeps, and a torn write): cuts with the same key materialise
 * byte-identical trees (replay-key.c).  Cheap: no file is touched.
 * *out_total: operations before the cut; *out_kept: of those, kept (the
 * stats' ops_total and ops_total - ops_dropped).  Out pointers may be
 * NULL.  Free with g_free(). */
char *cfi_replay_state_key(CfiReplay *replay, guint k, CfiModel model,
                           guint64 seed, guint *out_total, guint *out_kept);

/* A digest of the operations the bootloader's view of state (k, model,
 * seed, subset_seed) keeps: two cuts with the same key have the same view
 * (replay-key.c; a view is never torn), so the same tree under boot/. */
char *cfi_replay_bootview_key(CfiReplay *replay, guint k, CfiModel model,
                              guint64 seed, guint64 subset_seed);

/* The same view, boot/ only (MODELS.md §5, "Only boot/"): the subtree the
 * bootloader reads, with the few paths outside it that shape it (a
 * kernel hardlinked from a deployment, say).  Under boot/ the result is
 * the tree cfi_replay_materialise_bootview() writes; nothing else is
 * promised.  The stats count the operations left out as skipped. */
gboolean cfi_replay_materialise_bootview_boot(CfiReplay *replay, guint k,
                                              CfiModel model, guint64 seed,
                                              guint64 subset_seed,
                                              const char *target_dir,
                                              CfiCrashStats *out_stats,
                                              CfiBootView *out_view,
                                              GError **error);

/* TRUE when the bootloader's view of state k holds under boot/ the same
 * tree as the kernel's view (no operation that shapes boot/ is kept by
 * one and not the other), so the kernel's view can stand for both.
 * out_view (may be NULL) gets the view's description either way. */
gboolean cfi_replay_bootview_same_boot(CfiReplay *replay, guint k,
                                       CfiModel model, guint64 seed,
                                       guint64 subset_seed,
                                       CfiBootView *out_view);

/* The path prefixes (relative, NULL-terminated, g_strfreev) of the part
 * of state k that the boot/-only view holds; returns how many. */
guint cfi_replay_boot_scope_prefixes(CfiReplay *replay, guint k,
                                     char ***out_prefixes);

/* One-shot form of cfi_replay_new() + cfi_replay_materialise(). */
gboolean cfi_crashstate_materialise(CfiTrace *trace, const char *orig_root,
                                    const char *snapshot_dir, guint k,
                                    CfiModel model, guint64 seed,
                                    const char *target_dir,
                                    CfiCrashStats *out_stats, GError **error);

/* "pull.cfit@1234:ordered:7" */
char *cfi_crashstate_name(const char *trace_path, guint k, CfiModel model,
                          guint64 seed);
/* Inverse of cfi_crashstate_name(); the trace path is everything before
 * the last '@'.  Out pointers may be NULL. */
gboolean cfi_crashstate_parse_name(const char *name, char **out_trace_path,
                                   guint *out_k, CfiModel *out_model,
                                   guint64 *out_seed, GError **error);

#endif /* CFI_CRASHSTATE_H */
