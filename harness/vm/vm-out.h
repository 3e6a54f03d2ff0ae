/* SPDX-License-Identifier: MIT */
/*
 * vmout.h: the VM tier's results, in the simulation tier's contract
 * (simout.h): DIR/summary.json (tier "vm", bootloader "u-boot",
 * cycles_per_hour), DIR/cases/<id>.json for every cycle, DIR/points.json
 * (one line per cycle: cut time, phase, outcome, resume cost),
 * DIR/junit.xml; each written atomically.
 */
#ifndef PP_VMOUT_H
#define PP_VMOUT_H

#include "vm/vm-cycle.h"

typedef struct {
    guint iterations;            /* asked for */
    guint jobs;
    double duration_s;
    double cycles_wall_s;        /* first cycle's start to last one's end */
    const char *started;         /* ISO 8601 */
    gboolean interrupted;
    const char *command;         /* how to run this campaign again */
    guint cycles_kept;           /* run --resume: finished by an earlier
                                    run (summary: continued) */
    gboolean continued;
} PpVmRunInfo;

gboolean pp_vm_write_case(const PpRunEnv *env, const PpCycle *c,
                          GError **error);
/*
 * Cycle index as its case file holds it, read back with what the results
 * (points.json, junit.xml, summary.json) use.  NULL with
 * G_IO_ERROR_NOT_FOUND when it has none (it did not finish), another
 * error when the file does not read back (then it runs again).
 */
PpCycle *pp_vm_cycle_load(const PpRunEnv *env, guint index, GError **error);

/* cycles: PpCycle *, in cycle order. */
gboolean pp_vm_write_results(const PpRunEnv *env, const PpVmRunInfo *info,
                             GPtrArray *cycles, GError **error);

#endif /* PP_VMOUT_H */
