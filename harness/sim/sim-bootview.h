/* SPDX-License-Identifier: MIT */
/*
 * sim-bootview.h: the bootloader's view of a power-cut state, built as
 * cheaply as the verdict allows (cfaultinject/MODELS.md §4a, §5).
 *
 * The bootloader reads only under boot/, so only that subtree is built
 * (with the few paths outside it that shape it); and when no operation
 * that shapes boot/ is kept by one view and not the other, the kernel's
 * view stands for both and nothing is built.  Neither changes a verdict
 * or a reason; tests/integration/test-sim-bootview-fast.sh checks it
 * against the full materialisation.
 *
 * PLUGPULL_BOOTVIEW_FULL=1 builds every bootloader's view in full and
 * never lets the kernel's stand for it: it exists for that check.
 * PLUGPULL_BOOTVIEW_BREAK=drop-loader breaks the boot/-only view on
 * purpose (no boot/loader): the check's twin, which must fail.
 */
#ifndef PP_SIM_BOOTVIEW_H
#define PP_SIM_BOOTVIEW_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "crashstate.h"
#include "oracle/oracle.h"
#include "trace-reader.h"

typedef struct {
    CfiBootView view;   /* how it was drawn */
    gboolean same;      /* same as the kernel's under boot/: not built */
    gboolean full;      /* built in full (PLUGPULL_BOOTVIEW_FULL) */
} PpBootViewBuilt;

/* Build the bootloader's view of state (k, model, seed) of replay at dir
 * (removed first when it exists), unless the kernel's view stands for
 * it (out->same: dir is not made; judge with one view). */
gboolean pp_sim_boot_view_build(CfiReplay *replay, guint k, CfiModel model,
                                guint64 seed, const char *dir,
                                PpBootViewBuilt *out, GError **error);

/*
 * Views shared between cases.  Consecutive cuts of an update often keep
 * the same operations in the bootloader's view (nothing checkpointed since
 * the last freeze: under seed 0 every cut between two checkpoints), and
 * then the view is the same tree (cfi_replay_bootview_key()); it is built
 * once and judged by each case that has it.  A view is kept while a case
 * holds it, and a few more while they may serve the next cuts.
 * Thread-safe.  Not used with PLUGPULL_BOOTVIEW_FULL or _BREAK.
 */
typedef struct PpBootViewCache PpBootViewCache;
/* Views are built under dir. */
PpBootViewCache *pp_boot_view_cache_new(const char *dir);
/* Removes every view's tree. */
void pp_boot_view_cache_free(PpBootViewCache *cache);
/* pp_sim_boot_view_build(), but the view is the cache's: *out_dir is its
 * tree (NULL when out->same), to give back with
 * pp_boot_view_cache_release() after the judgement. */
gboolean pp_sim_boot_view_share(PpBootViewCache *cache, CfiReplay *replay,
                                guint k, CfiModel model, guint64 seed,
                                char **out_dir, PpBootViewBuilt *out,
                                GError **error);
void pp_boot_view_cache_release(PpBootViewCache *cache, const char *dir);

/* The evidence's "boot_view" object, added to judgement (an object):
 * trace and root describe the checkpoint's call; j is the oracle's
 * judgement (NULL when one view was judged: out->same). */
void pp_sim_boot_view_evidence(JsonNode *judgement, CfiTrace *trace,
                               const char *root, const PpBootViewBuilt *b,
                               const PpJudgement *j);

#endif /* PP_SIM_BOOTVIEW_H */
