/* SPDX-License-Identifier: MIT */
/*
 * sim-promise.h: what the client promised when it exited 0, and the
 * judgement of a crash state against it (the outcome lost-update).
 *
 * A client that exits 0 tells the device's owner that the update is
 * done.  What it promised is what its run left: the state after every
 * call of the trace completed, as a process kill keeps it (k = n,
 * `process-kill`).  Compared with the state before the run (k = 0):
 *
 *  - a run that switched the default boot entry to another commit
 *    (`[client] action = upgrade` or `deploy`) promised that commit: a
 *    crash state after the exit that boots a complete tree of another
 *    commit (the old version) lost the update;
 *  - a run that left the boot alone (`action = pull`) promised the refs
 *    it moved: a crash state after the exit in which one of them is gone
 *    or points at another commit (the old one) lost the update.
 *
 * "After the exit" is read off the trace: it holds the calls the client
 * made before it exited, so the one cut after the exit is k = n (every
 * call completed, nothing in flight).  The cut k = n - 1 still has the
 * last call in flight: the client had not exited, nothing was promised.
 *
 * The rule is applied only where the oracle found a state that boots a
 * complete tree with a sound repo (pass, no-rollback): a state that does
 * not boot is brick, a mixed tree is wrong-tree, a damaged repo is
 * repo-corrupt, whatever was promised.  A client that exited non-zero (a
 * [fault] run) promised nothing.
 */
#ifndef PP_SIM_PROMISE_H
#define PP_SIM_PROMISE_H

#include "common/outcome.h"
#include "oracle/oracle.h"

typedef struct {
    char *name;              /* as the oracle lists it ("origin:os/stable") */
    char *commit;            /* where the run left it */
    char *before;            /* where it was before the run; NULL: absent */
} PpPromisedRef;

typedef struct {
    gboolean made;           /* the client exited 0 */
    char *boot_commit;       /* the commit the run switched the default
                                entry to; NULL: it left the boot alone */
    char *boot_before;       /* what the default entry booted before */
    GPtrArray *refs;         /* PpPromisedRef *, the refs the run moved;
                                judged only when boot_commit is NULL */
} PpPromise;

void pp_promise_clear(PpPromise *p);

/*
 * Fill p (cleared first) from the oracle's judgement of the state before
 * the run and of the state the client left at its exit; exited_0: the
 * client's exit status was 0.
 */
void pp_promise_from_judgements(PpPromise *p, const PpJudgement *before,
                                const PpJudgement *left, gboolean exited_0);

/* Cut k of a trace of n_records calls is after the client's exit. */
gboolean pp_promise_after_exit(guint k, guint n_records);

/*
 * The verdict of a crash state whose oracle judgement is j and whose
 * outcome so far is oc: PP_OUTCOME_LOST_UPDATE when the promise was made,
 * the cut is after the exit, oc is pass or no-rollback and the state
 * breaks the promise (*out_reason: why, for the case file); else oc
 * (*out_reason NULL).
 */
PpOutcome pp_promise_judge(const PpPromise *p, gboolean after_exit,
                           const PpJudgement *j, PpOutcome oc,
                           char **out_reason);

#endif /* PP_SIM_PROMISE_H */
