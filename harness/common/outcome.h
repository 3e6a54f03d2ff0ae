/* SPDX-License-Identifier: MIT */
/*
 * outcome.h: what became of a device after a power cut, the one word
 * every tier, file and report uses for it: the enum, its one to-string
 * table, the parser back, and the counters a summary prints.
 *
 *   pass          booted the expected tree, complete (and, resumed, the
 *                 new one)
 *   no-rollback   boots, but an entry other than the booted one does not
 *   lost-update   after the client exited 0 (it promised the update), boots
 *                 a complete OLD tree, or (a pull) a ref it moved is gone
 *                 or back at the old commit (sim/sim-promise.h)
 *   repo-corrupt  boots a complete tree, but the repo is damaged
 *   wrong-tree    boots, but not a complete known tree
 *   brick         boots nothing
 *   stuck         the resumed update failed (network or set-up included)
 *   redownload    the resumed update passed but fetched again objects that
 *                 were already durable
 *   hang          (VM tier) the device neither finished nor failed in time
 *   needs-intervention  (strategy dpkg) boots, but the package database
 *                 holds a package half-installed, unpacked or
 *                 half-configured: someone must run dpkg --configure -a
 *
 * The oracle's five come first, ordered by its precedence: of two, the
 * larger value wins.  lost-update sits among them: it is decided on the
 * oracle's judgement (by the client's promise) and only where that
 * judgement boots a complete tree with a sound repo, so it outranks
 * pass and no-rollback and yields to repo-corrupt, wrong-tree and brick.
 * The others are decided after the oracle, by the resume and by the VM
 * tier.  needs-intervention comes last so that no other value moves (case
 * files and counters written before it keep their meaning); it is set by
 * the dpkg judge alone, which ranks it itself (oracle/dpkg-judge.h).
 */
#ifndef PP_COMMON_OUTCOME_H
#define PP_COMMON_OUTCOME_H

#include <json-glib/json-glib.h>

typedef enum {
    PP_OUTCOME_PASS = 0,
    PP_OUTCOME_NO_ROLLBACK,
    PP_OUTCOME_LOST_UPDATE,
    PP_OUTCOME_REPO_CORRUPT,
    PP_OUTCOME_WRONG_TREE,
    PP_OUTCOME_BRICK,
    PP_OUTCOME_STUCK,
    PP_OUTCOME_REDOWNLOAD,
    PP_OUTCOME_HANG,
    PP_OUTCOME_NEEDS_INTERVENTION,
} PpOutcome;

#define PP_N_OUTCOMES (PP_OUTCOME_NEEDS_INTERVENTION + 1)

/* "pass", "no-rollback", ...; "?" for a value out of the enum. */
const char *pp_outcome_to_string(PpOutcome o);

/* The outcome named s (exactly one of the names above) into *out; FALSE
 * (and *out left alone) for NULL or any other string. */
gboolean pp_outcome_from_string(const char *s, PpOutcome *out);

/* s (read from a result file, may be NULL) names outcome o. */
gboolean pp_outcome_is(const char *s, PpOutcome o);

/* Counts of each outcome over a campaign, both tiers; zero-initialise. */
typedef struct {
    guint n[PP_N_OUTCOMES];
} PpOutcomeCounts;

void pp_outcome_counts_add(PpOutcomeCounts *counts, PpOutcome o);

/* "outcomes": { "pass": N, "brick": N, ... } into the object being built,
 * every outcome in report order (pass, brick, hang, wrong-tree,
 * repo-corrupt, lost-update, no-rollback, stuck, redownload,
 * needs-intervention). */
void pp_json_add_outcomes(JsonBuilder *b, const PpOutcomeCounts *counts);

#endif /* PP_COMMON_OUTCOME_H */
