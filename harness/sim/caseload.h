/* SPDX-License-Identifier: MIT */
/*
 * caseload.h: a simulation case file read back, ready to be judged again
 * (`plugpull replay`) or with another schedule (`plugpull minimize`).
 *
 * The case file holds everything: the recording's trace, snapshot and
 * server (its "replay" section), the model and seed, and the schedule of
 * cuts in its id (schedule.h).  A case of repeated cuts (one with a
 * "cuts" member) is run by pp_sim_run_cuts(); an older single-cut case by
 * pp_sim_run_case(), resumed when it was.
 */
#ifndef PP_CASELOAD_H
#define PP_CASELOAD_H

#include "server/httpd.h"
#include "sim/sim.h"

typedef struct {
    JsonParser *parser;
    JsonObject *root;        /* the case file */
    const char *id;
    const char *recorded;    /* its outcome */
    const char *scenario;    /* the scenario it came from */
    GArray *schedule;        /* guint: the cuts made */
    PpCutHint *hints;        /* the call recorded at each (into root) */
    gboolean multi;          /* a repeated-cuts case */
    guint repeat;            /* cuts its campaign asked for */
    gboolean resume;         /* resumed (single-cut cases) */
    PpSimEnv env;            /* loaded */
    PpHttpd *httpd;          /* the stand-in, when resumes need it */
} PpCaseFile;

void pp_case_file_clear(PpCaseFile *f);

/*
 * Read path and load what judging it needs; crash states go to
 * states_dir (NULL: a fresh directory beside the snapshot, which the
 * states are hardlinked from).  A file that is not a sim case is
 * G_IO_ERROR_INVALID_DATA (a usage error), naming the member.
 */
gboolean pp_case_file_load(const char *path, const char *states_dir,
                           PpCaseFile *f, GError **error);

/*
 * Judge the case again with the schedule cuts[0 .. n-1] (its own, or one
 * being tried by minimize) and `repeat` cuts asked for.  Its own schedule
 * is cut at the recorded calls (pp_sim_run_cuts' hints); another one at
 * its points.
 */
PpCase *pp_case_file_run(PpCaseFile *f, const guint *cuts, guint n,
                         guint repeat, gboolean keep_state, GError **error);

#endif /* PP_CASELOAD_H */
