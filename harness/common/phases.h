/* SPDX-License-Identifier: MIT */
/*
 * phases.h: which phase of an OSTree update each traced call belongs to.
 *
 * Reports group crash points by phase, and a user asks "did it survive a
 * cut during the bootloader swap?", not "at call 3012".  The phases follow
 * the update path (shared/research/ostree-update-path.md, section 2.3):
 *
 *   pull        everything before the new deployment's checkout: the
 *               initial cleanup, the repo transaction, the refs
 *   deploy      checkout of the new deployment, /etc merge, origin file
 *   bootloader  new boot/loader.N, ostree/boot.N links, the syncs, up to
 *               and including the commit point
 *   cleanup     after the commit point: old bootversion, old deployment,
 *               deployment refs, prune
 *
 * The commit point is the last rename onto boot/loader (a bootconfig
 * swap) or, when there is none, onto ostree/boot.N (a sub-bootversion
 * swap): cutting before it must boot the old tree, after it the new one.
 */
#ifndef PP_PHASES_H
#define PP_PHASES_H

#include <glib.h>

#include "trace-reader.h"

typedef enum {
    PP_PHASE_PULL = 0,
    PP_PHASE_DEPLOY,
    PP_PHASE_BOOTLOADER,
    PP_PHASE_CLEANUP,
    PP_PHASE_COUNT
} PpPhase;

const char *pp_phase_name(PpPhase p);
/* Inverse of pp_phase_name(); FALSE when name is not a phase. */
gboolean pp_phase_from_name(const char *name, PpPhase *out);

typedef struct {
    PpPhase *phase;         /* one per record */
    guint n;
    gint commit_point;      /* record index of the commit rename, or -1 */
    gboolean bootconfig_swap; /* the commit renamed boot/loader */
} PpPhases;

void pp_phases_clear(PpPhases *p);
/* root: the traced sysroot (canonical); osname: the stateroot. */
void pp_phases_classify(CfiTrace *trace, const char *root, PpPhases *out);
/*
 * The same when the sysroot is seen under several names: in a booted
 * device ostree reaches it as /sysroot, but also as /boot and /ostree
 * through the deployment's bind mount and symlink (roots
 * { "/sysroot", "", NULL }: "" is the deployment's own root).
 */
void pp_phases_classify_roots(CfiTrace *trace, const char *const *roots,
                              PpPhases *out);
/*
 * Phases from three boundaries, for updaters other than ostree (the
 * strategies of sim/strategy.h): records before deploy_from are the pull
 * (downloading, preparing), from deploy_from the deploy (writing the new
 * version), from bootloader_from the switch to it, after commit the
 * cleanup.  A boundary of -1 was not seen.  n records, n + 1 points.
 */
void pp_phases_from_bounds(PpPhases *out, guint n, gint deploy_from,
                           gint bootloader_from, gint commit);
/* Phase of crash point k (the call in flight). */
PpPhase pp_phases_at(const PpPhases *p, guint k);

#endif /* PP_PHASES_H */
