/* SPDX-License-Identifier: MIT */
/*
 * sim-known.h: a campaign's failures against its known findings
 * (oracle/known.h): `plugpull sim --known FILE` or the scenario's
 * [verify] known.
 *
 * After the cases are judged and before the results are written, each
 * failing case's diagnosis signature is formed from its oracle judgement
 * (as `plugpull reproduce` forms it: pp_signature_from_judgement), its
 * outcome set to the case's verdict, and matched with its phase against
 * the findings.  A case an unexpired finding matches is `known`: it is
 * counted apart in summary.json (`known`, `known_findings` with each
 * finding's link), reported as skipped in junit.xml, and no longer fails
 * the run (pp_case_failed() is FALSE).  A case that only an expired
 * finding matches still fails, and the summary says the finding expired.
 * The mark goes into points.json, so `plugpull merge` and `plugpull
 * report` read it back without the findings file.
 */
#ifndef PP_SIMKNOWN_H
#define PP_SIMKNOWN_H

#include "oracle/known.h"
#include "sim/sim.h"

/*
 * Mark the failing cases of cases (PpCase) that a finding of known
 * matches (c->known), clearing any earlier mark.  A case without its
 * judgement in memory (kept from an earlier run by --resume) is read from
 * its case file, cases_dir/<id>.json ("evidence").  today NULL: the local
 * date now.  Prints one line per finding matched (pp_known_print).  FALSE
 * when a failing case's case file cannot be read.
 */
gboolean pp_known_apply(const PpKnownList *known, GPtrArray *cases,
                        const char *cases_dir, const GDate *today,
                        GError **error);

/* A failing case's signature: its judgement's, outcome its verdict. */
gboolean pp_known_case_signature(const PpCase *c, const char *cases_dir,
                                 JsonNode **out, GError **error);

/*
 * "  KNOWN ID: N case(s) ... LINK" for each finding the cases matched,
 * "  EXPIRED ID: ..." for each whose date has passed; nothing when none.
 */
void pp_known_print(GPtrArray *cases);

/*
 * The findings the cases matched, sorted by id: each an object with id,
 * link, until (or null), expired, cases (how many).  What summary.json
 * holds under "known_findings".
 */
JsonNode *pp_known_findings_json(GPtrArray *cases);

#endif /* PP_SIMKNOWN_H */
