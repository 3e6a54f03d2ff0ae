/* SPDX-License-Identifier: MIT */
/*
 * sim-farm.h: crash states built over a tree kept between cases.
 *
 * Building a state as a whole hardlink farm of the snapshot, and removing
 * it, costs seconds on a real firmware whatever the update changed.  Each
 * job instead takes a farm (cfi_replay_materialise_farm(), CfiFarm in
 * crashstate.h) that holds the snapshot, builds the state over it, and
 * gives it back after the judgement, which undoes what the state changed
 * (cfi_farm_restore()), or keeps it for a later cut when it can move it
 * there by the operations in between (cfi_farm_set_advance(); a job takes
 * the farm whose state is the latest cut not after its own).  The state
 * is judged under its own name (the farm is renamed to it and back), so
 * nothing the oracle reports differs from a state built fresh.  Resumed
 * and kept states are built fresh, as ever: the resume writes to the
 * state, and a kept state is the user's.
 *
 * PLUGPULL_STATE_FRESH=1 builds every state fresh (the old way, for a
 * comparison); PLUGPULL_STATE_RESTORE=1 restores the farm after every
 * state instead of moving it; PLUGPULL_STATE_VERIFY=1 checks after every
 * restore that the whole tree is the snapshot's farm again and fails the
 * campaign (a harness fault) when it is not.  Thread-safe.
 */
#ifndef PP_SIM_FARM_H
#define PP_SIM_FARM_H

#include "sim/sim.h"

typedef struct PpFarmPool PpFarmPool;

/* env->farms, unless PLUGPULL_STATE_FRESH is set; by pp_sim_env_load(). */
void pp_sim_farm_setup(PpSimEnv *env);
/* Removes every farm's tree. */
void pp_farm_pool_free(PpFarmPool *pool);

/* A farm for one case (its own: another job gets another), or NULL when
 * states are built fresh. */
CfiFarm *pp_sim_farm_take(PpSimEnv *env, guint k);
/* The farm back after its state was judged (at path: where the state
 * was), restored for the next case; FALSE with error when it could not
 * be, or (PLUGPULL_STATE_VERIFY) was not restored exactly.  The farm is
 * taken either way.  out_dirs (may be NULL): directories restored. */
gboolean pp_sim_farm_give(PpSimEnv *env, CfiFarm *farm, guint *out_dirs,
                          GError **error);
/* A farm whose state failed: its tree removed. */
void pp_sim_farm_drop(PpSimEnv *env, CfiFarm *farm);

#endif /* PP_SIM_FARM_H */
