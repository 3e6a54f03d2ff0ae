/* SPDX-License-Identifier: MIT */
/*
 * repro-firmware.h: `plugpull reproduce --repo PATH`: a field dump of a
 * device that runs your firmware is searched with that firmware's own
 * update, not the built-in fixture's.
 *
 * The versions the device could have been updating from are the commits
 * it has deployed (ostree/deploy/OS/deploy/COMMIT.N in the dump, a
 * half-made deployment of the new version included); those it could have
 * been updating to are the commits of the repo's refs that are newer
 * (a later commit timestamp).  Each pair, from a deployed commit present
 * in the repo to a newer ref, is one update, written as a scenario file
 * ([firmware] repo, from, to, os) for the search (reprosearch.h), with the
 * device as the dump shows it: its bootloader backend and the [core]
 * options of its repo config (core.fsync=false is part of the device).
 */
#ifndef PP_REPRO_FIRMWARE_H
#define PP_REPRO_FIRMWARE_H

#include <gio/gio.h>

typedef struct {
    char *from_commit;       /* deployed in the dump */
    char *deployment;        /* where: ostree/deploy/OS/deploy/COMMIT.N */
    char *os;                /* the stateroot of that deployment */
    char *to_ref;            /* a ref of the repo ... */
    char *to_commit;         /* ... and its newer commit */
} PpFirmwareUpdate;

void pp_firmware_update_free(PpFirmwareUpdate *u);

/*
 * The updates the dump's device may have been making, from sysroot (the
 * dump's directory) and repo (absolute): every deployed commit present in
 * the repo x every ref whose commit is newer, one per pair of commits
 * (the first ref by name), checked as `sim --repo` checks them.  Deployed
 * commits not in the repo are appended to notes (char *).  A
 * PP_ERROR_USAGE error naming the problem when the repo cannot be read,
 * the dump has no deployment, none of its deployed commits is in the
 * repo, or no ref is newer.
 */
GPtrArray *pp_repro_firmware_updates(const char *repo, const char *sysroot,
                                     GPtrArray *notes, GError **error);

/*
 * Write one scenario file per update and bootloader into dir (created):
 * backend "uboot" or "bls" (the dump's), anything else both.  The paths
 * written are appended to files (char *).
 */
gboolean pp_repro_firmware_write(GPtrArray *updates, const char *repo,
                                 const char *sysroot, const char *backend,
                                 const char *dir, GPtrArray *files,
                                 GError **error);

#endif /* PP_REPRO_FIRMWARE_H */
