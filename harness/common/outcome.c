/* SPDX-License-Identifier: MIT */
/*
 * outcome.c: see outcome.h.
 */
#include "common/outcome.h"

#include "common/json.h"

static const char *const outcome_names[PP_N_OUTCOMES] = {
    [PP_OUTCOME_PASS] = "pass",
    [PP_OUTCOME_NO_ROLLBACK] = "no-rollback",
    [PP_OUTCOME_LOST_UPDATE] = "lost-update",
    [PP_OUTCOME_REPO_CORRUPT] = "repo-corrupt",
    [PP_OUTCOME_WRONG_TREE] = "wrong-tree",
    [PP_OUTCOME_BRICK] = "brick",
    [PP_OUTCOME_STUCK] = "stuck",
    [PP_OUTCOME_REDOWNLOAD] = "redownload",
    [PP_OUTCOME_HANG] = "hang",
    [PP_OUTCOME_NEEDS_INTERVENTION] = "needs-intervention",
};

/* The order of "outcomes" in summaries (readers and reports rely on it). */
static const PpOutcome report_order[PP_N_OUTCOMES] = {
    PP_OUTCOME_PASS, PP_OUTCOME_BRICK, PP_OUTCOME_HANG,
    PP_OUTCOME_WRONG_TREE, PP_OUTCOME_REPO_CORRUPT, PP_OUTCOME_LOST_UPDATE,
    PP_OUTCOME_NO_ROLLBACK, PP_OUTCOME_STUCK, PP_OUTCOME_REDOWNLOAD,
    PP_OUTCOME_NEEDS_INTERVENTION,
};

const char *
pp_outcome_to_string(PpOutcome o)
{
    return (guint)o < PP_N_OUTCOMES ? outcome_names[o] : "?";
}

gboolean
pp_outcome_from_string(const char *s, PpOutcome *out)
{
    for (guint o = 0; s != NULL && o < PP_N_OUTCOMES; o++) {
        if (g_str_equal(s, outcome_names[o])) {
            *out = (PpOutcome)o;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
pp_outcome_is(const char *s, PpOutcome o)
{
    PpOutcome named;
    return pp_outcome_from_string(s, &named) && named == o;
}

void
pp_outcome_counts_add(PpOutcomeCounts *counts, PpOutcome o)
{
    if ((guint)o < PP_N_OUTCOMES) {
        counts->n[o]++;
    }
}

void
pp_json_add_outcomes(JsonBuilder *b, const PpOutcomeCounts *counts)
{
    json_builder_set_member_name(b, "outcomes");
    json_builder_begin_object(b);
    for (guint i = 0; i < PP_N_OUTCOMES; i++) {
        PpOutcome o = report_order[i];
        pp_json_add_int(b, outcome_names[o], counts->n[o]);
    }
    json_builder_end_object(b);
}
