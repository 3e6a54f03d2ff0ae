/* SPDX-License-Identifier: MIT */
/*
 * campaign-file.h: DIR/campaign.json, the parameters a campaign keeps so
 * that `--resume` continues it (sim and run alike).
 */
#ifndef PP_COMMON_CAMPAIGN_FILE_H
#define PP_COMMON_CAMPAIGN_FILE_H

#include <json-glib/json-glib.h>

/*
 * A campaign file (DIR/campaign.json) of `kind` and `format`, for
 * --resume: a missing file says that DIR is no campaign of `command`; an
 * unreadable or foreign one says why it cannot be resumed.  Returns the
 * parser (which owns *out) or NULL.
 */
JsonParser *pp_campaign_file_load(const char *path, const char *dir,
                                  const char *command, const char *kind,
                                  gint64 format, JsonObject **out,
                                  GError **error);

/* --resume: append "\n  WHAT: GIVEN given, the campaign has HAS" to out
 * when an option was given (not NULL) and differs from the campaign's. */
void pp_campaign_disagree(GString *out, const char *what, const char *given,
                          const char *has);

#endif /* PP_COMMON_CAMPAIGN_FILE_H */
