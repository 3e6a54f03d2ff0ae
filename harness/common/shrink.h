/* SPDX-License-Identifier: MIT */
/*
 * shrink.h: make a failing schedule of cuts smaller, over a predicate.
 *
 * Pure search, no knowledge of crash states: `plugpull minimize` gives
 * the predicate ("this schedule still fails with the same outcome") and
 * the candidate points; the unit tests give arithmetic ones.  Both
 * searches are deterministic: the same predicate, the same steps.
 *
 * - pp_shrink_cuts: delta debugging (Zeller's ddmin) over the list of
 *   cuts, order kept: a sub-schedule of fewer cuts that still fails,
 *   1-minimal (dropping any one more cut loses the failure).  A schedule
 *   never becomes empty: no cut is no case.
 * - pp_shrink_earliest: the earliest of a cut's candidate points that
 *   still fails, by galloping back from where it is (1, 2, 4... points
 *   earlier while the failure holds, then halving the step): a few tests,
 *   not one per point; when failing points are not contiguous it finds
 *   an earlier point, not always the earliest.
 */
#ifndef PP_SHRINK_H
#define PP_SHRINK_H

#include <glib.h>

/* TRUE when the schedule cuts[0 .. n-1] still fails as wanted. */
typedef gboolean (*PpShrinkTest)(const guint *cuts, guint n, gpointer data);

/*
 * ddmin over cuts (a GArray of guint, n >= 1), which the test must fail
 * as given.  Returns the smaller schedule (a new GArray), or NULL when
 * the given one does not fail (nothing to minimise).
 */
GArray *pp_shrink_cuts(const GArray *cuts, PpShrinkTest test, gpointer data);

/* TRUE when the point still fails as wanted (other cuts fixed). */
typedef gboolean (*PpShrinkPointTest)(guint point, gpointer data);

/*
 * The index of the earliest candidate found that still fails, starting
 * from candidates[start] (which fails: it is never tested again).
 * candidates ascending.
 */
guint pp_shrink_earliest(const guint *candidates, guint start,
                         PpShrinkPointTest test, gpointer data);

#endif /* PP_SHRINK_H */
