/* SPDX-License-Identifier: MIT */
/*
 * sim-private.h: what the files of the simulation tier share besides
 * sim.h: resuming a crash state (traced or not), describing a call,
 * the oracle's options.  Not for the commands.
 */
#ifndef PP_SIM_PRIVATE_H
#define PP_SIM_PRIVATE_H

#include "sim/sim.h"

/* What a resumed update did and where it left the device. */
typedef struct {
    int exit_status;          /* -1: not run, or killed */
    guint64 bytes;            /* downloaded */
    guint objects;            /* objects downloaded */
    guint refetched;          /* of those, durable before the resume */
    guint durable;            /* objects in the repo before the resume */
    guint64 staging_bytes;    /* staging left after it */
    char *error;              /* NULL: it ended on the new version */
    JsonNode *judgement;      /* the oracle on the device after it */
    char *root;               /* traced: the (removed) directory it ran
                                 in, canonical, as the trace names it */
    char *unfaithful;         /* traced: NULL when the trace replays to
                                 the tree the run left, else how not
                                 (a harness fault: sim-fidelity.h) */
    double seconds;
} PpResumeResult;

void pp_resume_result_clear(PpResumeResult *r);

/*
 * Reboot state and run the update again on a copy of it (named after
 * name, under env->states_dir, removed afterwards) against the stand-in,
 * then judge the device: it must boot the new version, complete.  The
 * state itself only gets its remote pointed at the stand-in.  trace: NULL,
 * or a file to trace the run into (the run then starts from exactly the
 * state, which is the snapshot of that trace, and the trace must replay to
 * the tree the run left: r->unfaithful).  boot_id: NULL for a fresh
 * random one (or env->resume_boot_id).  Never fails: a run that could not
 * be made is r->error.
 */
void pp_sim_resume(PpSimEnv *env, const char *state, const char *name,
                   const char *trace, const char *boot_id,
                   PpResumeResult *r);

/* Move r's results into the case's resume fields. */
void pp_case_take_resume(PpCase *c, PpResumeResult *r);

/* "#42 renameat boot/loader.tmp -> boot/loader", paths relative to root. */
char *pp_sim_describe_call(CfiTrace *trace, const char *root, guint k);
/* path without "root/" in front (path itself when outside root). */
const char *pp_sim_relative_path(const char *path, const char *root);

PpOracleOpts pp_sim_oracle_opts(const PpSimEnv *env);

/* Objects present in a repo: a set of "<checksum>.<type>" (file for
 * content). */
GHashTable *pp_sim_repo_objects(const char *repo);
/* "/repo/objects/ab/cdef.filez" -> "abcdef.file"; NULL if not an object. */
char *pp_sim_object_key_of_url(const char *path);

/*
 * env->promise from the recorded run: the process-kill states before it
 * (k = 0) and at the client's exit (k = n) judged by the oracle.  Taken
 * to have exited 0 (a [fault] run corrects it, pp_fault_judge).
 */
gboolean pp_sim_promise_derive(PpSimEnv *env, GError **error);

/*
 * Apply the promise to the judgement j of cut k of the recorded update,
 * whose outcome so far is *oc (sim-promise.h): on lost-update, *oc
 * becomes it and *reason (freed) its reason.
 */
void pp_sim_promise_apply(const PpSimEnv *env, guint k, const PpJudgement *j,
                          PpOutcome *oc, char **reason);

/* Is a power-cut state judged through the bootloader's view too (MODELS.md
 * 4a)?  Not when the scenario says the bootloader replays the journal,
 * nor under process-kill (no power was lost). */
gboolean pp_sim_two_views(const PpSimEnv *env);

#endif /* PP_SIM_PRIVATE_H */
