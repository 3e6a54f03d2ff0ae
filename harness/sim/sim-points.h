/* SPDX-License-Identifier: MIT */
/*
 * simpoints.h: which crash points a campaign judges, which of them are
 * also resumed, and which of them a shard takes.
 *
 * Everything here is a pure function of the trace and the scenario (model,
 * points, seed, resume): two runs on the same recording choose the same
 * points, so the shards of a campaign split exactly the set an unsharded
 * run judges.  A shard K/N takes the points whose index i in the chosen
 * list (ascending k, 0-based) has i mod N = K - 1: neighbouring points go
 * to different shards, so every shard gets a share of every phase and
 * about the same amount of work.
 */
#ifndef PP_SIMPOINTS_H
#define PP_SIMPOINTS_H

#include "sim/sim.h"

/* Shard K of N (1 <= K <= N); count 0: the whole campaign. */
typedef struct {
    guint index;
    guint count;
} PpShard;

#define PP_SHARD_MAX 1000

/* "K/N" with 1 <= K <= N <= PP_SHARD_MAX. */
gboolean pp_shard_parse(const char *s, PpShard *out, GError **error);

/*
 * The crash points sc chooses over env's trace, ascending, into points;
 * the k + 1 of those also resumed into resume_set (0 is a valid k).
 */
void pp_sim_choose_points(const PpSimEnv *env, const PpScenario *sc,
                          GArray *points, GHashTable *resume_set);

/* The indices into a list of n_points that shard takes (every one when
 * shard->count is 0), ascending. */
GArray *pp_shard_indices(guint n_points, const PpShard *shard);

/* Shuffle v (guint) in place, seeded: the same seed, the same order. */
void pp_shuffle(GArray *v, guint64 seed);

#endif /* PP_SIMPOINTS_H */
