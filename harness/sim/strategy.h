/* SPDX-License-Identifier: MIT */
/*
 * strategy.h: the update strategy of a campaign, the pluggable part
 * ([update] strategy): how the device is laid out, which real client
 * updates it, and how a crash state of it is judged.
 *
 *   ostree       the reference: an OSTree sysroot updated by the client
 *                under test, judged by the OSTree-aware oracle (the rest
 *                of sim/; nothing here)
 *   ab           two slot images and a U-Boot environment: the new image
 *                written into the inactive slot by dd (conv=fsync), then
 *                the environment switched by fw_setenv (libubootenv-tool),
 *                the order the A/B updaters document; or ([update]
 *                ab-updater = swupdate) by Debian's SWUpdate itself: a
 *                CMS-signed bundle, its rawfile handler and uboot backend
 *   update-mode  one slot image, overwritten in place by dd
 *   dpkg         a package-managed root: the `from` tree of a Debian-built
 *                firmware (--repo, images/build-debian-firmware.sh) with
 *                dpkg's database where dpkg keeps it, updated by `dpkg -i`
 *                of the packages the `to` tree adds or changes (the
 *                .debs from the repo's sibling apt-cache/), judged by
 *                oracle/dpkg-judge.h; phases: deploy = unpacking,
 *                bootloader = configuring, commit = the last status write
 *
 * The slot strategies use the same firmware as ostree: the fixture's
 * trees of each version, or your firmware's (--repo: the commits checked
 * out), made into ext4 images with mke2fs -d (the same size for every
 * version, as a partition would be).  They are judged by
 * oracle/slots.h; their phases (common/phases.h) are named after the
 * OSTree ones they stand for: deploy = writing the new root into a slot,
 * bootloader = switching the environment, cleanup = what follows.
 */
#ifndef PP_SIM_STRATEGY_H
#define PP_SIM_STRATEGY_H

#include "common/phases.h"
#include "common/scenario.h"
#include "oracle/slots.h"
#include "server/fixture.h"
#include "trace-reader.h"

/* A slot device set up for its update. */
typedef struct {
    char *root;              /* the device (traced directory) */
    char **argv;             /* the update command, recorded */
    PpSlotDevice dev;        /* what its states are judged against */
    char *images_dir;        /* the version images, outside root */
} PpSlotSetup;

void pp_slot_setup_clear(PpSlotSetup *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpSlotSetup, pp_slot_setup_clear)

/*
 * Make the images of every version of fx under work/images, the device
 * at work/device booting sc->from_version (ab: slot A and the
 * environment naming it, slot B empty), the update command writing
 * sc->to_version's image, and (ab) work/fw_env.config for fw_setenv, or
 * with sc->ab_swupdate the signed bundle and /etc copy under
 * work/swupdate.
 */
gboolean pp_slot_setup(const PpScenario *sc, const PpFixture *fx,
                       const char *work, PpSlotSetup *out, GError **error);

/* The dpkg device at work/device (the from tree), the packages of the
 * update copied to work/debs, the dpkg command; dev holds both package
 * sets.  sc->repo, from_rev and to_rev name the firmware. */
gboolean pp_dpkg_setup(const PpScenario *sc, const char *work,
                       PpSlotSetup *out, GError **error);

/* The .debs (paths in the apt cache beside repo, appended to out) of
 * what a dpkg update from the package set have to want installs: every
 * "name version" of want not in have. */
gboolean pp_dpkg_update_debs(const char *repo, char **have, char **want,
                             GPtrArray *out, GError **error);

/* The installed package set ("name version", sorted) of rev of a
 * Debian-built firmware repo, read from its dpkg database (checked out
 * under dir, removed after). */
gboolean pp_dpkg_package_set(const char *repo, const char *rev,
                             const char *dir, char ***out, GError **error);

/* The dpkg command on the device at root (under work): dpkg --root with
 * action (-i, --purge, ...), in its mount namespace (strategy-dpkg.c);
 * its arguments go after it.  Not NULL-terminated. */
GPtrArray *pp_dpkg_command(const char *work, const char *root,
                           const char *action);

/* Phases of the dpkg device's trace (see above). */
void pp_dpkg_phases_classify(CfiTrace *trace, const char *root,
                             PpPhases *out);

/* Allocated bytes of a tree, hard links once (du -s -B1). */
gboolean pp_du_bytes(const char *path, gint64 *out, GError **error);

/* Phases of a slot device's trace (see above); root: the traced root. */
void pp_slot_phases_classify(CfiTrace *trace, const char *root,
                             PpPhases *out);

#endif /* PP_SIM_STRATEGY_H */
