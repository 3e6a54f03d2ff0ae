/* SPDX-License-Identifier: MIT */
/*
 * sim-out.h: the results of a campaign on disk, the contract CI and the
 * later tools build on:
 *
 *   DIR/summary.json      totals, outcomes, the client, the speed
 *   DIR/cases/<id>.json   every failing case and a sample of passing ones
 *   DIR/junit.xml         one testcase per crash state
 *   DIR/points.json       every case: k, phase, outcome, resume cost,
 *                         where its time went (what reports plot and
 *                         `plugpull merge` joins)
 *
 * Every file is written to a temporary name and renamed into place, so a
 * harness killed mid-write never leaves a torn result: plugpull keeps the
 * promise it tests.
 */
#ifndef PP_SIMOUT_H
#define PP_SIMOUT_H

#include <json-glib/json-glib.h>

#include "sim/sim.h"

/*
 * What a campaign's summary says besides its cases.  Plain values, so that
 * `plugpull merge` can fill one from the summaries of its shards and the
 * same writers produce the merged results.
 */
typedef struct {
    const char *tier;            /* "sim" */
    const char *scenario_name;
    const char *scenario_path;
    const char *action;          /* "upgrade", "deploy", "pull" */
    const char *bootloader;      /* "uboot", "bls" */
    const char *strategy;        /* [update] strategy, "ostree" */
    gboolean expect_failures;
    const char *firmware_repo;   /* your firmware's repo, NULL: the fixture */
    const char *firmware_from;   /* its from and to, as given */
    const char *firmware_to;
    const char *to_commit;       /* the commit the update installs */
    const char *model;           /* "ordered" */
    guint64 seed;
    guint repeat;                /* [crash] repeat (0 read as 1) */
    const char *points;          /* "barriers", "all", "sample:N" */
    const char *resume;          /* "all", "none", "sample:N" */
    const char *client_path;
    const char *client_version;
    const char *trace_path;
    guint records;               /* calls in the trace */
    gint commit_point;           /* -1: none */
    guint points_total;          /* points chosen (this shard's share) */
    gboolean interrupted;
    /* `sim --resume`: cases_kept of the cases were judged by an earlier
     * run (judge_seconds and the speed count only this run's). */
    gboolean continued;
    guint cases_kept;
    gint64 budget_s;             /* 0 = none */
    gboolean budget_hit;         /* stopped by the budget */
    char *started;               /* ISO 8601 */
    double duration_s;
    double judge_seconds;        /* time spent on cases (wall) */
    guint jobs;
    /* A campaign on a recording made by `sim --record-only` (else NULL). */
    const char *recording_id;
    const char *recording_dir;
    /* `sim --shard K/N`: shard_index K (1-based) of shard_count N, and
     * the points of all N shards together; 0 when not a shard. */
    guint shard_index;
    guint shard_count;
    guint points_all;
    /* `plugpull merge`: the shard directories, in order K = 1..N. */
    const char *const *merged_from;
    JsonNode *fault;             /* [fault] verdict (simfault.h), or NULL */
} PpRunInfo;

gboolean pp_write_summary(const char *dir, const PpRunInfo *info,
                          GPtrArray *cases, GError **error);
gboolean pp_write_points(const char *dir, const PpRunInfo *info,
                         GPtrArray *cases, GError **error);
gboolean pp_write_junit(const char *dir, const PpRunInfo *info,
                        GPtrArray *cases, GError **error);

/* A case as points.json holds it (one entry of its "cases"). */
JsonNode *pp_case_to_point(const PpCase *c);

/*
 * A case as points.json holds it, read back (what `plugpull merge`
 * joins): everything the three writers above use; no evidence.
 */
PpCase *pp_case_from_point(JsonObject *p, GError **error);

#endif /* PP_SIMOUT_H */
