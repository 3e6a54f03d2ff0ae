/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.h: what the two files of `plugpull run` share, private to them:
 * cmd-run.c is the command (its options, the campaign new or --resume,
 * the scenario, the host, the image), cmd-run-cycles.c runs the cycles
 * (the workers and their stand-ins, the calibration, the results and the
 * verdict).
 */
#ifndef PP_CLI_CMD_RUN_H
#define PP_CLI_CMD_RUN_H

#include "common/scenario.h"
#include "vm/vm-campaign.h"
#include "vm/vm-cycle.h"

/*
 * The options, as given: UNSET (cmd-run.c) or NULL when not given
 * (--resume tells given options from defaults, which are applied after
 * parsing; bad values are still refused).  From --resume on, the
 * campaign's values.
 */
typedef struct {
    gint iterations;
    gint64 seed;
    gdouble window;
    gint boot_timeout;
    gint hang_timeout;
    gint cmd_timeout;
    gint jobs;
    gint only_cycle;
    char *out_dir;
    char *image_dir;
    char *bios;
    char *sabotage;
    char *cut;
    char *scenario_path;
    char *repo;                  /* your firmware (vm-firmware.h) */
    char *from;
    char *to;
    char *os;
    gboolean no_build;
    gboolean resume;
} RunOptions;

/* What the cycles need of the command. */
typedef struct {
    const RunOptions *opt;
    const PpVmCampaign *camp;    /* --resume: the campaign continued, or NULL */
    const PpScenario *sc;
    const char *srv_root;        /* what the stand-ins serve */
    const char *command;         /* as given, for the summary */
    const char *started;         /* ISO 8601, of the campaign's first run */
    gint64 t0;                   /* monotonic, when the command started */
} RunCycles;

/*
 * cmd-run-cycles.c: start one stand-in per worker, calibrate when the cut
 * needs it, run the cycles (the ones an earlier run finished are kept),
 * write the results and give the verdict: FALSE with the error main maps
 * to the exit status.
 */
gboolean pp_runcmd_cycles(PpRunEnv *env, const RunCycles *rc, GError **error);

#endif /* PP_CLI_CMD_RUN_H */
