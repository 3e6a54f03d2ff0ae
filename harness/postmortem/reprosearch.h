/* SPDX-License-Identifier: MIT */
/*
 * reprosearch.h: the search of plugpull reproduce: which simulation
 * campaigns may have produced a field brick, in which order to run them,
 * running one (plugpull sim, a subprocess), and reading back its cases as
 * diagnosis signatures to compare with the brick's.
 *
 * A campaign is a scenario file x a power-loss model x a choice of crash
 * points, all with one seed.  Each runs as `plugpull sim ... --resume
 * none --out DIR`: a dump's signature holds the oracle's verdict, never a
 * resume's (stuck, redownload need an update to run), so resuming would
 * only cost time; and each campaign is a result directory of its own,
 * whose case files `plugpull replay` takes as they are.
 */
#ifndef PP_REPROSEARCH_H
#define PP_REPROSEARCH_H

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "common/interrupt.h"

typedef struct {
    guint index;             /* 1-based: the order of the search */
    char *scenario;          /* the scenario file */
    char *scenario_name;
    char *model;
    char *points;            /* "barriers", "all", "sample:N" */
    double cost;             /* relative estimate the order comes from */
    char *why;               /* the estimate in words */
} PpSearchStep;

void pp_search_step_free(PpSearchStep *s);

/*
 * The search space, cheap and likely first: every scenario of scenarios
 * whose device could have left a dump of signature sig (a device booting
 * through U-Boot does not leave BLS entries), x models x points.  The
 * cost of a campaign grows with its crash points (all has about six
 * times as many as barriers), its tree (payload-kb), a [fault] (a
 * faulted run and its retry first) and the position of its model in
 * models; a scenario
 * that expects failures (a self-check such as fsync-disabled) is
 * likelier and counts half.  Scenarios left out go to skipped with the
 * reason (char *).  A scenario that cannot be read is an error.
 */
GPtrArray *pp_search_space(const char *const *scenarios,
                           const char *const *models,
                           const char *const *points, JsonNode *sig,
                           GPtrArray *skipped, GError **error);

/*
 * What a search watches while it runs: SIGINT and SIGTERM are caught
 * (common/interrupt.h, watched from the default main context) and passed
 * on to the campaign running; interrupted holds the first such signal.
 */
typedef struct {
    GSubprocess *child;      /* the campaign running, or NULL */
    int interrupted;         /* 0, or the signal that stopped the search */
    PpInterruptGuard guard;
    guint watch;
} PpSearchCtl;

void pp_search_ctl_init(PpSearchCtl *ctl);
void pp_search_ctl_clear(PpSearchCtl *ctl);
/* Dispatch a signal that arrived between campaigns; TRUE when stopped. */
gboolean pp_search_ctl_stopped(PpSearchCtl *ctl);

/*
 * Run `plugpull sim` (the binary plugpull) for step into dir (new), with
 * seed and jobs, stopping it from starting cases after budget_s seconds
 * (0: no budget); its output goes to log.  *out_status: its exit status,
 * or 128 + the signal that ended it.  FALSE when it could not be started.
 */
gboolean pp_search_run(PpSearchCtl *ctl, const char *plugpull,
                       const PpSearchStep *step, guint64 seed, guint jobs,
                       gint64 budget_s, const char *dir, const char *log,
                       int *out_status, GError **error);

/* A case of a campaign, compared with the dump. */
typedef struct {
    guint step;              /* PpSearchStep.index */
    char *case_path;
    char *id;
    char *outcome;           /* the case's (stuck etc. included) */
    char *phase;
    guint k;                 /* the crash point: the call cut */
    char *syscall;           /* its name, "end" past the last call */
    char *call;              /* the call, readable */
    char *replay;            /* "plugpull replay CASE_PATH" */
    JsonNode *signature;
    guint agree;             /* fields equal to the dump's */
    GPtrArray *differ;       /* names of the fields that differ */
} PpSearchHit;

void pp_search_hit_free(PpSearchHit *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpSearchHit, pp_search_hit_free)

/*
 * Every case file in dir/cases compared with sig, appended to hits.  A
 * case file that is not one (no evidence) is an error naming it.
 */
gboolean pp_search_read_cases(const char *dir, guint step, JsonNode *sig,
                              GPtrArray *hits, GError **error);

JsonNode *pp_search_hit_to_json(const PpSearchHit *h,
                                const PpSearchStep *step);

#endif /* PP_REPROSEARCH_H */
