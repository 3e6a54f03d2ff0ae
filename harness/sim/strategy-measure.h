/* SPDX-License-Identifier: MIT */
/*
 * strategy-measure.h: what a strategy costs besides surviving power cuts
 * (sim/strategy.h): bytes downloaded per update, bytes on the device per
 * number of versions kept, the update's duration.  Measured on the same
 * firmware as the campaigns (the fixture's, or a repo's), untraced.
 *
 *   ostree       a device made as sim makes it, updated against the
 *                stand-in: v1 -> v2 (`admin upgrade`), v2 -> v3 (`pull`,
 *                then `admin deploy --retain`: three deployments), the
 *                oldest undeployed (ostree's cleanup prunes its objects),
 *                then v1 published again and `admin upgrade`: back to v1.
 *                Downloads: the stand-in's body bytes per update.  On the
 *                device: `du` of the sysroot (hard links once) with v1
 *                alone, v2 + v1, v3 + v2 + v1.
 *   ab           every update downloads the whole image of its version
 *                (the documented dd/SWUpdate rawfile way; a delta-capable
 *                updater would do less: not measured here).  On the
 *                device: both slots and the environment, whatever is
 *                kept; three versions do not fit.
 *   update-mode  the whole image per update; one slot: one version.
 */
#ifndef PP_SIM_STRATEGY_MEASURE_H
#define PP_SIM_STRATEGY_MEASURE_H

#include <json-glib/json-glib.h>

#include "common/scenario.h"

typedef struct {
    PpStrategy strategy;
    gint64 download[3];      /* bytes: v1 -> v2, v2 -> v3, v3 -> v1 */
    gint64 on_device[3];     /* bytes with 1, 2, 3 versions kept; -1: the
                                layout cannot keep that many */
    gint64 image_bytes;      /* slot strategies: one slot, else -1 */
    gint64 image_gzip_bytes[3]; /* slot strategies: the v2, v3, v1 images
                                   gzip -6'd, what a compressing updater
                                   would download instead; else -1 */
    double update_s;         /* the v1 -> v2 update, wall time, untraced */
    /* ostree, back to v1: objects fetched, of them already on the device
       before (0: only what was pruned came back), and the objects v1
       needs that the device no longer had; -1 for the slot strategies */
    gint64 back_objects;
    gint64 back_refetched;
    gint64 back_missing;
} PpStrategyFigures;

/* The firmware measured: the built-in fixture (repo NULL, its three
 * versions), or a repo (a Debian-built firmware,
 * images/build-debian-firmware.sh, or yours) and the revs of v1, v2 and
 * v3 (v3 NULL: the v2 -> v3 and back-to-v1 figures are null). */
typedef struct {
    const char *repo;
    const char *revs[3];
    guint payload_kb;
} PpStrategySource;

/* Measure strategy st on src's firmware under work (made, and left for
 * inspection).  dpkg needs a repo: its updates are run one after the
 * other on one device (v1 -> v2, v2 -> v3 by `dpkg -i`, back to v1 by
 * `dpkg --purge` of what v1 lacks and `dpkg -i` of what it has in another
 * version), each checked to leave that version's package set; the
 * downloads are the .debs each installs; the root's bytes with its one
 * version. */
gboolean pp_strategy_measure(PpStrategy st, const PpStrategySource *src,
                             guint env_copies, gboolean swupdate,
                             const char *work, PpStrategyFigures *out,
                             GError **error);

/* The figures as a JSON object. */
JsonNode *pp_strategy_figures_to_json(const PpStrategyFigures *f);

#endif /* PP_SIM_STRATEGY_MEASURE_H */
