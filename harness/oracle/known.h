/* SPDX-License-Identifier: MIT */
/*
 * known.h: known findings: failures a team has acknowledged (an upstream
 * bug with its tracker link), so that a campaign gating CI stays green on
 * them and still fails on anything new.  The model is kola's denylist:
 * every entry names its tracker and may be snoozed only until a date.
 *
 * The file is a GKeyFile, one group per finding:
 *
 *   [finding ostree-3392]
 *   link = https://github.com/ostreedev/ostree/issues/3392
 *   until = 2027-06-30
 *   note = the bootloader reads the old loader, the kernel lost boot.N
 *   outcome = brick
 *   phase = cleanup
 *   backend = uboot
 *   entry_states = ostree-link-missing
 *
 * link (http or https) is required; until (YYYY-MM-DD: the finding
 * excuses through that day, and fails again after it) and note are
 * optional.  Every other key is a field of the diagnosis signature
 * (signature.h), written as `plugpull reproduce` prints it: outcome,
 * backend, loader, booted_tree (words); bootversion, booted,
 * partial_commits, staging_dirs, loader_dirs, boot_dirs, deploy_dirs
 * (whole numbers, -1 for none or not counted); entry_states (in boot
 * order; a last word `...` matches any further entries, so
 * `ostree-link-missing, ...` is "the default entry has lost its ostree=
 * link, whatever the rollback entry's state"), tree_problems,
 * repo_problems (in any order) as comma-separated lists, an empty value
 * for an empty list.  phase restricts the finding
 * to crash points in these update phases (comma-separated).  A field left
 * out matches anything; at least one signature field must be given.
 * outcome is the case's verdict (for a state the oracle fails, the
 * oracle's own; stuck and redownload come from the resumed update).
 *
 * Unknown groups and keys, malformed values and dates are errors, every
 * one reported at once as FILE:LINE.
 *
 * Room oracle/: reads signatures, knows nothing of campaigns (the
 * campaign applies a list to its cases: sim/sim-known.h).
 */
#ifndef PP_KNOWN_H
#define PP_KNOWN_H

#include <json-glib/json-glib.h>

#include "common/phases.h"

typedef struct {
    char *id;                /* "ostree-3392": the group [finding ID] */
    char *link;              /* the tracker */
    char *note;              /* or NULL */
    char *until;             /* "2027-06-30", or NULL: no end */
    GDate until_date;        /* valid when until is set */
    guint phases;            /* 1 << PpPhase of each phase allowed; 0 any */
    JsonObject *fields;      /* the signature fields given, as the
                                signature holds them */
    guint line;              /* of its group, in the file */
} PpKnownFinding;

typedef struct {
    char *path;
    GPtrArray *findings;     /* PpKnownFinding, in file order */
} PpKnownList;

void pp_known_list_free(PpKnownList *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpKnownList, pp_known_list_free)

/*
 * Parse a known-findings file; G_IO_ERROR_INVALID_DATA with every problem,
 * one "FILE:LINE: ..." a line, when it has any (an unreadable file: the
 * error of reading it).  name is what errors call the file.
 */
PpKnownList *pp_known_load(const char *path, GError **error);
PpKnownList *pp_known_load_data(const char *data, const char *name,
                                GError **error);

/*
 * data reads as a known-findings file rather than a scenario: its first
 * group is a [finding ...] (`plugpull scenario check` checks both).
 */
gboolean pp_known_data_is_findings(const char *data);

/* Every field the finding gives equals the signature's; the phase is one
 * it allows. */
gboolean pp_known_finding_matches(const PpKnownFinding *f, JsonNode *sig,
                                  PpPhase phase);

/* Its until date is before today. */
gboolean pp_known_finding_expired(const PpKnownFinding *f,
                                  const GDate *today);

/*
 * The finding that excuses a failure of signature sig in phase: the first
 * in file order that matches and has not expired; else the first that
 * matches but has expired (*out_expired TRUE: it no longer excuses);
 * else NULL.
 */
const PpKnownFinding *pp_known_match(const PpKnownList *l, JsonNode *sig,
                                     PpPhase phase, const GDate *today,
                                     gboolean *out_expired);

#endif /* PP_KNOWN_H */
