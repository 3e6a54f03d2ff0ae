/* SPDX-License-Identifier: MIT */
/*
 * schedule.h: a case of repeated power cuts, named by its schedule.
 *
 * With `[crash] repeat = K` a resumed case is cut K times: cut 1 at point
 * p1 of the recorded update; the update resumed after it is traced and
 * cut at p2, a point of that resume's own trace; and so on.  The schedule
 * p1, p2, ... is the case's name, so that `plugpull replay` and `plugpull
 * minimize` can run it again:
 *
 *     ordered-k001338-s0                 one cut (as before repeat)
 *     ordered-k001338+000412+000087-s0   three cuts
 *     process-kill-k000010+000003-s7     the model may contain '-'
 *
 * p2 and later are only known once the resume they cut has run, so they
 * are drawn then, from the seed and the schedule so far: the same case
 * draws the same points on every machine, whatever order the cases run
 * in.  Everything here is pure.
 */
#ifndef PP_SCHEDULE_H
#define PP_SCHEDULE_H

#include <glib.h>

#include "crashstate.h"

/* A schedule has at most this many cuts (scenario.h PP_REPEAT_MAX). */
#define PP_SCHEDULE_MAX_CUTS 16

/* "ordered-k001338+000412-s0" for cuts { 1338, 412 } (n >= 1). */
char *pp_schedule_to_id(CfiModel model, const guint *cuts, guint n,
                        guint64 seed);

/*
 * Inverse of pp_schedule_to_id(): the model, the cuts (appended to cuts,
 * a GArray of guint) and the seed.  A malformed id is
 * G_IO_ERROR_INVALID_DATA, naming the id and what is wrong.
 */
gboolean pp_schedule_from_id(const char *id, CfiModel *out_model,
                             GArray *cuts, guint64 *out_seed,
                             GError **error);

/*
 * The index (0 .. n_candidates - 1) of cut number `cut` (2-based: cut 1
 * is the campaign's crash point) among the n_candidates points of the
 * resume it cuts, from the seed and the id of the schedule so far.
 */
guint pp_schedule_draw(guint64 seed, const char *prefix_id, guint cut,
                       guint n_candidates);

/*
 * The boot id of the resume after cut `cut`: a fresh one per reboot, as
 * on a device, but derived from the schedule so far so that a replay
 * names its staging directories as the run it reproduces did.
 */
char *pp_schedule_boot_id(const char *prefix_id, guint cut);

#endif /* PP_SCHEDULE_H */
