/* SPDX-License-Identifier: MIT */
/*
 * simfault.h: an error instead of a power cut, in the simulation tier.
 *
 * A scenario with a [fault] section runs the traced update once under the
 * fault: a cfaultinject rule (EIO on the 3rd fsync, ENOSPC on writes into
 * repo/objects, ...) applied by the shim that also traces the run, and/or
 * a stand-in server that drops, stalls or fails responses.  The update
 * then either reports the error or, if the fault is one a client can ride
 * out (a dropped connection it retries), finishes.  Three things are
 * judged:
 *
 *  (a) the device as the update left it: the process ended, nothing was
 *      lost, so this is the process-kill crash state at the end of the
 *      trace.  It must boot the old or the new tree, complete; a client
 *      that exited 0 must boot the new one;
 *  (b) the retry: the same update run again on that state, without the
 *      fault, against a clean server, with the same boot id (the device
 *      did not reboot).  It must end on the new version (else `stuck`);
 *      the bytes and objects it fetched again are counted.  On a device
 *      of another strategy (ab, update-mode, dpkg: sim/strategy.h) the
 *      update command runs again on the device the faulted run left
 *      (those updaters start again from the beginning), unless it does
 *      not boot; shim faults only, they download nothing;
 *  (c) the crash states of the faulted trace, as for any scenario
 *      (--points; `none` skips them).
 *
 * A shim fault that fired while the client exited 0 is flagged "fault
 * swallowed" (an EIO on fsync that was ignored means data the client
 * believes durable may not be), and fails the run.  A fault that never
 * fired proves nothing: the run says "fault did not fire" and exits 2.
 */
#ifndef PP_SIMFAULT_H
#define PP_SIMFAULT_H

#include <json-glib/json-glib.h>

#include "server/httpd.h"
#include "sim/record.h"
#include "common/scenario.h"
#include "sim/sim.h"

typedef struct {
    gboolean active;         /* the scenario has a [fault] */
    char *rule;              /* the shim rule text appended to the config,
                                NULL when no inject */
    PpHttpd *net;            /* the faulty server of the traced run */
    /* what happened in the faulted run */
    int exit_status;         /* the client's exit status (-1 killed) */
    char *stderr_tail;       /* its last lines of stderr */
    char *boot_id;           /* the boot id it ran with (the retry's) */
    guint n_injected;        /* trace records the shim faulted */
    char *first_injected;    /* "#k fsync repo/objects/..", errno */
    guint64 net_faults;      /* responses the server spoiled */
    guint64 net_requests;
    guint64 run_bytes;       /* body bytes the faulted run fetched */
    guint64 bytes_before;    /* the clean server's count before it */
    gboolean fired;
    gboolean swallowed;      /* a shim fault fired and the client said 0 */
    PpCase *end;             /* (a) + (b), NULL until judged */
    char *verdict;           /* one line for people */
} PpSimFault;

void pp_sim_fault_clear(PpSimFault *f);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpSimFault, pp_sim_fault_clear)

/*
 * Load a scenario and have the shim check its [fault] inject rule:
 * "FILE:LINE: [fault] inject = '...': the shim refuses it: ..."; and load
 * its [verify] known file: "FILE:LINE: [verify] known = '...':" and that
 * file's problems.
 */
PpScenario *pp_scenario_load_checked(const char *path, GError **error);

/*
 * Check one rule with the shim's own parser: run `true` under it; exit
 * 125 is a malformed rule, the message is the shim's.
 */
gboolean pp_fault_rule_check(const char *shim, const char *rule,
                             GError **error);

/*
 * Before the traced run: start the faulty server (network faults) and
 * point the device at it; set f->rule; note what httpd (the clean
 * server) has sent so far.  Nothing when no [fault].
 */
gboolean pp_fault_arm(const PpScenario *sc, PpHttpd *httpd,
                      const char *srv_dir, const char *sysroot,
                      PpSimFault *f, GError **error);

/*
 * After the traced run: what the client said, what it fetched from httpd
 * (the clean server; the faulty one when armed), the server's faults.
 */
void pp_fault_note_run(PpSimFault *f, const PpRecording *rec, PpHttpd *httpd);

/*
 * With the trace loaded: count the injected calls, and when the fault
 * fired judge (a) and (b).  Fails only when the harness does.
 */
gboolean pp_fault_judge(PpSimFault *f, PpSimEnv *env, GError **error);

/* The fault found something: (a) or (b) failed, or it was swallowed. */
gboolean pp_fault_failed(const PpSimFault *f);

/* summary.json's "fault" member. */
JsonNode *pp_fault_to_json(const PpSimFault *f, const PpScenario *sc);

#endif /* PP_SIMFAULT_H */
