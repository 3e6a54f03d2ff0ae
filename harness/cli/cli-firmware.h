/* SPDX-License-Identifier: MIT */
/*
 * cli-firmware.h: the options that name your firmware (--repo, --from,
 * --to, --os), shared by `plugpull sim` and `plugpull run`.
 */
#ifndef PP_CLI_FIRMWARE_H
#define PP_CLI_FIRMWARE_H

#include "common/scenario.h"

/* The options as given (NULL: not given). */
typedef struct {
    const char *repo;
    const char *from;
    const char *to;
    const char *os;
} PpFirmwareOptions;

/* The options over the scenario's [firmware]; a usage error when they
   do not make a firmware (--from without --repo, no from or to). */
gboolean pp_cli_firmware_options(PpScenario *sc, const PpFirmwareOptions *o,
                                 GError **error);

/*
 * The scenario text a campaign keeps (campaign.json, a recording's
 * manifest): *text (a file's, or NULL) with the firmware options folded
 * into its [firmware] section, so that --resume and --recording find
 * them.  Unchanged when no option was given.
 */
gboolean pp_cli_fold_firmware_options(const PpScenario *sc,
                                      const PpFirmwareOptions *o, char **text,
                                      GError **error);

#endif /* PP_CLI_FIRMWARE_H */
