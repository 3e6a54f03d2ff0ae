/*
 * simout.h: the results of a campaign on disk, the contract CI and the
 * later tools build on:
 *
 *   DIR/summary.json      totals, outcomes, the client, the speed
 *   DIR/cases/<id>.json   every failing case and a sample of passing ones
 *   DIR/junit.xml         one testcase per crash state
 *   DIR/points.json       every case in one line each: k, phase, outcome,
 *                         resume cost (what reports plot)
 *
 * Every file is written to a temporary name and renamed into place, so a
 * harness killed mid-write never leaves a torn result: plugpull keeps the
 * promise it tests.
 */
#ifndef PP_SIMOUT_H
#define PP_SIMOUT_H

#include <json-glib/json-glib.h>

#include "sim.h"

/* Every outcome a case or cycle can have, in report order, both tiers. */
extern const char *const pp_outcome_names[];
#define PP_N_OUTCOMES 8

/* Count outcome (one of pp_outcome_names) into counts[PP_N_OUTCOMES]. */
void pp_outcome_count(guint *counts, const char *outcome);
/* "outcomes": { "pass": N, ... } into an object being built. */
void pp_json_add_outcomes(JsonBuilder *b, const guint *counts);

/* Atomic write of a JSON document (pretty). */
gboolean pp_write_json(const char *path, JsonNode *node, GError **error);

typedef struct {
    const char *tier;            /* "sim" */
    const PpScenario *scenario;
    const char *client_version;
    guint records;
    guint points_total;          /* points chosen */
    gboolean interrupted;
    gint64 budget_s;             /* 0 = none */
    gboolean budget_hit;         /* stopped by the budget */
    char *started;               /* ISO 8601 */
    double duration_s;
    double judge_seconds;        /* time spent on cases */
    guint jobs;
} PpRunInfo;

gboolean pp_write_summary(const char *dir, const PpSimEnv *env,
                          const PpRunInfo *info, GPtrArray *cases,
                          GError **error);
gboolean pp_write_points(const char *dir, const PpSimEnv *env,
                         GPtrArray *cases, GError **error);
gboolean pp_write_junit(const char *dir, const PpRunInfo *info,
                        GPtrArray *cases, GError **error);

#endif /* PP_SIMOUT_H */
