/* SPDX-License-Identifier: MIT */
/*
 * simfidelity.h: check that a trace replays to the state its run left.
 */
#ifndef PP_SIMFIDELITY_H
#define PP_SIMFIDELITY_H

#include "sim/sim.h"

/*
 * Build process-kill at the end of env's trace (every call applied) and
 * compare it with env->root, where the recorded run left the device.
 * *out_diff: NULL when they agree, else the first differences, one
 * "path: what" each, joined by "; ".  FALSE only when the comparison
 * itself could not be made.
 */
gboolean pp_sim_check_fidelity(PpSimEnv *env, char **out_diff,
                               GError **error);

/*
 * The same for any traced run: process-kill at the end of replay's trace
 * (n_records calls), built in scratch (removed after), compared with
 * run_root, the tree the run left.  A traced resume of a repeated-cuts
 * case is checked so (sim-case.c): its crash states come from its trace.
 */
gboolean pp_sim_replay_fidelity(CfiReplay *replay, guint n_records,
                                const char *run_root, const char *scratch,
                                char **out_diff, GError **error);

#endif /* PP_SIMFIDELITY_H */
