/* SPDX-License-Identifier: MIT */
/*
 * cmd-sim.h: what the files of `plugpull sim` share, private to them:
 *
 *   cmd-sim.c        the command: its options, the campaign (new or
 *                    --resume), the stages in order
 *   cmd-sim-env.c    the campaign's environment: the recording (made,
 *                    reused or recorded again), the stand-in, the [fault]
 *                    run, where the crash states are built
 *   cmd-sim-judge.c  judging the crash points, the results, the verdict
 */
#ifndef PP_CLI_CMD_SIM_H
#define PP_CLI_CMD_SIM_H

#include <json-glib/json-glib.h>

#include "server/httpd.h"
#include "sim/sim.h"
#include "sim/sim-campaign.h"
#include "oracle/known.h"
#include "sim/sim-fault.h"
#include "sim/sim-points.h"
#include "sim/sim-rec.h"

/*
 * The options, as given (NULL / -1: not given); from --resume on, the
 * campaign's values.
 */
typedef struct {
    char *scenario_path;
    char *model;
    char *points;
    char *ostree;
    char *out;
    char *resume;            /* --resume-updates */
    char *budget;
    char *recording;
    char *shard;
    char *known;             /* --known FILE */
    char *repo;              /* your firmware: [firmware] repo, from, to, os */
    char *from;
    char *to;
    char *os;
    gint64 seed;
    gint jobs;
    gboolean no_tmpfs;
    gboolean record_only;
    gboolean resume_campaign; /* --resume */
} SimOptions;

/* This run of the campaign: what it judges and where it writes. */
typedef struct {
    const SimOptions *opt;
    PpCampaign *camp;        /* --resume: the campaign continued, or NULL */
    PpSimRec *rec;           /* --recording: the recording, or NULL */
    PpScenario *sc;
    PpShard shard;
    gint64 budget_s;         /* 0: none */
    gint64 t_start;          /* monotonic, the budget counts from it */
    char *dir;               /* --out, canonical */
    char *cases_dir;
    char *work;
    char *done_dir;
    char *started;           /* ISO 8601, of the campaign's first run */
    char *version;           /* of the client */
    char *pts;               /* the points, as text */
    char *resume_str;        /* the resumed states, as text */
    char *scenario_text;     /* what campaign.json keeps */
    PpKnownList *known;      /* --known, else the scenario's, or NULL */
} SimRun;

/*
 * The campaign's environment: the recording as the cases replay it, the
 * stand-in serving its firmware, the [fault] run, the tmpfs directory
 * the crash states are built in.  Cleared on every way out (the tmpfs
 * directory removed), and between two recordings.
 */
typedef struct {
    PpSimEnv env;
    gboolean loaded;         /* pp_sim_env_load was called (its mutex) */
    PpHttpd *httpd;
    PpSimFault fault;
    char *fast;              /* on tmpfs, or NULL (env_place_states) */
} SimBed;

void pp_simcmd_bed_clear(SimBed *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SimBed, pp_simcmd_bed_clear)

/* cmd-sim.c: the exact command that continues the campaign in dir. */
void pp_simcmd_print_continue(const char *dir);

/* cmd-sim-env.c */
gboolean pp_simcmd_reuse_own_recording(const PpScenario *sc,
                                       const char *work,
                                       const char *cases_dir,
                                       PpSimRec **out_rec, GError **error);
gboolean pp_simcmd_make_env(SimRun *r, const PpSimRec *own, SimBed *bed,
                            GError **error);
gboolean pp_simcmd_keep_own_recording(const SimRun *r, const PpSimRec *own,
                                      const SimBed *bed, char **out_rec_id,
                                      GError **error);
gboolean pp_simcmd_run_fault(PpSimFault *fault, PpSimEnv *env,
                             const char *dir, const PpScenario *sc,
                             JsonNode **out_json, GError **error);
gboolean pp_simcmd_record_only(const SimRun *r, SimBed *bed, GError **error);
void pp_simcmd_tidy_work(const SimRun *r, SimBed *bed);

/*
 * cmd-sim-judge.c: judge this run's share of the crash points (the ones
 * an earlier run finished are kept), write the results, and give the
 * verdict: FALSE with the error main maps to the exit status.
 */
gboolean pp_simcmd_judge(const SimRun *r, SimBed *bed, const char *rec_id,
                         JsonNode *fault_json, GError **error);

#endif /* PP_CLI_CMD_SIM_H */
