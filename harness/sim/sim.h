/* SPDX-License-Identifier: MIT */
/*
 * sim.h: the simulation tier.
 *
 * Room sim/: the simulation tier.  Includes common/, oracle/, server/
 * and cfaultinject/; never vm/, postmortem/, cli/ or plugpull.h.
 *
 * Record once, replay many: one traced run of the client on a directory
 * sysroot, then for every chosen crash point k a crash state (trace, k,
 * model, seed) materialised by the power-loss models and judged by the
 * oracle; for some of them the device is also "rebooted" (a fresh
 * OSTREE_BOOTID) and updated again against the stand-in server, and must
 * end up booting the new version complete.  This is SQLite's crash-point
 * loop (test/crash9.test) with an OSTree-aware invariant after each crash.
 */
#ifndef PP_SIM_H
#define PP_SIM_H

#include <json-glib/json-glib.h>

#include "crashstate.h"
#include "oracle/known-trees.h"
#include "oracle/oracle.h"
#include "oracle/slots.h"
#include "common/outcome.h"
#include "common/phases.h"
#include "common/scenario.h"
#include "sim/sim-promise.h"

/*
 * Everything a case needs, fixed before the loop and read-only during it
 * (so cases can run on several threads).  `plugpull replay` rebuilds one
 * from a case file without the fixture.
 */
typedef struct {
    char *trace_path;
    char *root;              /* the sysroot the traced run worked in */
    char *snapshot;          /* its copy from before the run */
    char *case_snapshot;     /* the snapshot case files name for replay
                                (NULL: snapshot); sim replays from a copy
                                on tmpfs but names the one in DIR/work */
    char *srv_dir;           /* what the stand-in serves */
    char *srv_repo;          /* the firmware repo (known-good trees) */
    char **commits;          /* every firmware commit, v1 first */
    char *to_commit;         /* what a finished update boots */
    char *osname;
    char *ostree;            /* the client under test */
    char *command;           /* [client] command (NULL: the default) */
    gboolean from_firmware;  /* [client] from-firmware */
    char *bootloader;        /* "uboot" or "bls" */
    gboolean bootloader_replays_journal; /* FALSE (the default): states
                                            are judged through the
                                            bootloader's view too */
    CfiModelOpts device_fs;  /* the device's filesystem (MODELS.md 4b):
                                every replay of the case is made with it */
    char *states_dir;        /* where crash states are built */
    PpStrategy strategy;     /* [update] strategy (sim/strategy.h) */
    PpSlotDevice slots;      /* ab, update-mode: the device judged
                                (oracle/slots.h); unused by ostree */
    char **update_argv;      /* not ostree, a [fault] campaign: the update
                                command, run again on the device the
                                faulted run left (its retry) */
    CfiModel model;
    guint64 seed;
    guint redownload_threshold;
    gboolean check_rollback;

    CfiTrace *trace;
    CfiReplay *replay;
    PpKnownTrees *known;
    PpPhases phases;
    PpPromise promise;       /* what the client promised at its exit
                                (derived by pp_sim_env_load) */
    GMutex resume_lock;      /* one resume at a time (pp_sim_resume):
                                one server log, one device copy */
    struct PpHttpd *httpd;   /* the stand-in, for resumes (may be NULL) */
    const char *resume_boot_id; /* boot id of resumes; NULL = a new one
                                   each (a reboot); a [fault] retry keeps
                                   the boot id of the failed run */
    PpOracleCache *oracle_cache; /* checksums of the snapshot's files, for
                                   every judgement (oracle-cache.h); NULL
                                   with PLUGPULL_ORACLE_NOCACHE=1 */
    struct PpJudgeShare *share; /* identical states judged once
                                   (sim-share.h); NULL likewise */
    struct PpBootViewCache *bootviews; /* views shared between cases
                                   (sim-bootview.h), or NULL */
    struct PpFarmPool *farms;   /* trees kept between states (sim-farm.h);
                                   NULL with PLUGPULL_STATE_FRESH=1 */
} PpSimEnv;

void pp_sim_env_clear(PpSimEnv *env);
/* Open the trace, interpret it, load the known trees, derive what the
 * client promised at its exit (sim-promise.h). */
gboolean pp_sim_env_load(PpSimEnv *env, GError **error);

/*
 * One power cut of a repeated-cuts case ([crash] repeat = K, simrepeat.c):
 * where it fell, what the device was after it, and what the update
 * resumed after it did.
 */
typedef struct {
    guint k;                 /* the point, in the trace of its run */
    guint records;           /* calls of that run's trace */
    gboolean in_resume;      /* FALSE: cut 1, in the recorded update */
    char *call;              /* the call in flight, readable */
    char *syscall;           /* its name, or NULL at the end of the run */
    char *path;              /* its path relative to the sysroot, or NULL */
    PpPhase phase;
    PpOutcome verdict;       /* this cut's (with its resume's) */
    char *reason;
    JsonNode *judgement;     /* the oracle on the crash state */
    CfiCrashStats stats;
    GArray *barriers;        /* the run's barrier points (minimize) */
    gboolean resumed;        /* the update was run again after this cut */
    int resume_exit;
    guint64 resume_bytes;
    guint resume_objects;
    guint resume_refetched;
    guint durable_objects;
    char *resume_error;
    char *note;              /* e.g. the given point did not fit the run */
} PpCut;

void pp_cut_free(PpCut *cut);

/*
 * The known finding (oracle/known.h) a failing case matched, set by
 * pp_known_apply() (sim-known.h) or read back from points.json.
 */
typedef struct {
    char *finding;           /* its id, "ostree-3392" */
    char *link;              /* its tracker */
    char *until;             /* its date, or NULL */
    gboolean expired;        /* the date has passed: it excuses no more */
} PpCaseKnown;

void pp_case_known_free(PpCaseKnown *k);

typedef struct {
    char *id;                /* "ordered-k001338-s0"; with repeated cuts
                                "ordered-k001338+000412-s0" (schedule.h) */
    char *state_name;        /* cfi_crashstate_name() */
    guint k;
    PpPhase phase;
    char *call;              /* the call in flight at the cut, readable */
    PpOutcome verdict;       /* set with pp_case_set_verdict() */
    char *reason;
    char *boots;             /* the version the state boots: "new" (the
                                update's), "old", "other", or NULL (none,
                                or not known) */
    JsonNode *judgement;     /* the oracle's evidence */
    CfiCrashStats stats;
    gboolean two_views;      /* judged through the bootloader's view too */
    CfiBootView boot_view;   /* how that view was drawn */
    gboolean boot_view_same; /* the kernel's view stood for it (same
                                boot/): judged with one view */
    gboolean resumed;
    int resume_exit;
    guint64 resume_bytes;        /* bytes the resumed update downloaded */
    guint resume_objects;        /* objects it downloaded */
    guint resume_refetched;      /* of those, already durable before */
    guint durable_objects;       /* objects in the crash state's repo */
    guint64 resume_staging_bytes;/* staging left after the resume */
    char *resume_error;
    JsonNode *resume_judgement;
    double seconds;
    double t_materialise;        /* where the time went (seconds) */
    double t_judge;
    double t_resume;
    double t_remove;
    guint farm_dirs;             /* directories the farm restored after
                                    it (0: built fresh, or kept) */
    gint64 farm_from;            /* the farm's state was moved here from
                                    this cut; -1: built over the snapshot
                                    or fresh */
    guint repeat;            /* cuts asked for (1: a single-cut case) */
    GPtrArray *cuts;         /* PpCut, the cuts made (repeat > 1), else
                                NULL */
    guint failed_cut;        /* 1-based cut whose verdict failed, 0 none */
    PpCaseKnown *known;      /* a known finding it matched, or NULL */
    char *shared_with;       /* the id of the case that judged this same
                                state, whose verdict this is (sim-share.h);
                                NULL: judged on its own */
} PpCase;

void pp_case_free(PpCase *c);
/* c->verdict = o. */
void pp_case_set_verdict(PpCase *c, PpOutcome o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpCase, pp_case_free)

/* Its verdict is a failure, and no known finding (unexpired) excuses it. */
gboolean pp_case_failed(const PpCase *c);
/* Its verdict is a failure that an unexpired known finding excuses. */
gboolean pp_case_known(const PpCase *c);

/* A case's id, "ordered-k001338-s0": what its files are named after. */
char *pp_case_id(CfiModel model, guint k, guint64 seed);

/*
 * Build, judge and (when resume) resume crash state k.  keep_state:
 * leave the materialised state in states_dir/<id> (else removed).
 */
PpCase *pp_sim_run_case(PpSimEnv *env, guint k, gboolean resume,
                        gboolean keep_state, GError **error);

/*
 * What a replay knows of a cut besides its point: the call recorded
 * there (NULL members: nothing known).
 */
typedef struct {
    const char *syscall;
    const char *path;        /* relative to the sysroot, or NULL */
} PpCutHint;

/*
 * A case of repeated cuts (simrepeat.c): cut at given[0] of the recorded
 * update, judge, resume traced and cut at given[1] of that resume (drawn
 * with the seed when i >= n_given), ... `repeat` cuts in all, then a last
 * uncut resume must end on the new version.  The first failing cut ends
 * the schedule.  The client is threaded, so a resume run again can put
 * the recorded call of a cut at another index: with hints (n_given of
 * them, or NULL) a cut in a resume goes to the nearest call of that
 * syscall on that path when the one at its point is another; a point
 * past the end of its run's trace goes to the end.  The cut says so.
 */
PpCase *pp_sim_run_cuts(PpSimEnv *env, const guint *given,
                        const PpCutHint *hints, guint n_given, guint repeat,
                        gboolean keep_state, GError **error);

/* The case file: the case, and all replay needs. */
JsonNode *pp_case_to_json(const PpSimEnv *env, const PpCase *c,
                          const char *scenario_path);

/* Point a device's remote "origin" at url (its repo config). */
gboolean pp_sim_set_remote_url(const char *sysroot, const char *url,
                               GError **error);


#endif /* PP_SIM_H */
