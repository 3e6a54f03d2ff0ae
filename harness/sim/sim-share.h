/* SPDX-License-Identifier: MIT */
/*
 * sim-share.h: identical crash states judged once per campaign.
 *
 * Many cut points leave the same state: between two barriers a model
 * that drops what was not made durable keeps the same operations, and
 * cfi_replay_state_key() says so without building anything.  The first
 * case to claim a key materialises and judges it (the representative);
 * every other case with that key takes the representative's outcome,
 * reason and evidence, is neither materialised nor judged, and records
 * the representative's id (PpCase.shared_with, "shares_verdict_with" in
 * its case file and in points.json).  Which case of a group is the
 * representative depends on the order the jobs ran them; the verdict
 * does not.  Resumed and kept states are never shared: a resume is a run
 * of its own.  PLUGPULL_ORACLE_NOCACHE=1 turns sharing off with the
 * oracle's cache (oracle-cache.h).
 *
 * Thread-safe: a case whose key another job is judging waits for it.
 */
#ifndef PP_SIM_SHARE_H
#define PP_SIM_SHARE_H

#include "sim/sim.h"

typedef struct PpJudgeShare PpJudgeShare;

PpJudgeShare *pp_judge_share_new(void);
void pp_judge_share_free(PpJudgeShare *s);

/* A representative's claim on a key: publish the verdict, or drop the
 * claim (free without publishing: the key is free again, and a case
 * waiting for it judges it itself). */
typedef struct PpShareClaim PpShareClaim;
void pp_share_claim_free(PpShareClaim *claim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpShareClaim, pp_share_claim_free)

/*
 * Before materialising case c (c->k, env's model and seed): when
 * env->share is set and the case is neither resumed nor kept, either fill
 * c from the representative of its state (TRUE: the case is judged) or
 * return FALSE with *out_claim set, which makes c the representative.
 * FALSE with *out_claim NULL: not shared, judge as ever.
 */
gboolean pp_sim_share_take(PpSimEnv *env, PpCase *c, gboolean resume,
                           gboolean keep_state, PpShareClaim **out_claim);

/* The representative's verdict (c after its judgement), for its group. */
void pp_sim_share_publish(PpShareClaim *claim, const PpCase *c);

/* env->oracle_cache (the snapshot pinned) and env->share, unless
 * PLUGPULL_ORACLE_NOCACHE is set; called by pp_sim_env_load(). */
gboolean pp_sim_share_setup(PpSimEnv *env, GError **error);

#endif /* PP_SIM_SHARE_H */
