/* SPDX-License-Identifier: MIT */
/*
 * slots.h: the oracle of a device with image slots, the `ab` and
 * `update-mode` strategies (sim/strategy.h): which slot would boot, and
 * is it byte for byte a known firmware image?
 *
 * Layout under the device's root (the traced directory):
 *
 *   slot-a.img          root slot A (both strategies)
 *   slot-b.img          root slot B (ab)
 *   uboot.env           the U-Boot environment, copy 1 (ab)
 *   uboot-redund.env    copy 2, with env-copies = 2 (ab)
 *
 * U-Boot's view: the environment as common/ubootenv.h reads it (a copy
 * with a bad CRC does not count; none good: the built-in default,
 * PP_SLOTS_DEFAULT_ENV), its `slot` variable names the slot to boot
 * (update-mode: always A).  The slot's SHA-256 is compared with the
 * images of the firmware versions:
 *
 *   the `to` image     pass, the device boots the new version
 *   the `from` image   pass, it boots the old one, complete
 *   another version's  wrong-tree
 *   none (a slot part written, or an unknown slot name)   brick
 *
 * and, when it boots the new version, whether the other slot holds the
 * old one complete to go back to (no-rollback when not: update-mode never
 * has one).  Booting the old version is the device as it was.
 */
#ifndef PP_ORACLE_SLOTS_H
#define PP_ORACLE_SLOTS_H

#include <json-glib/json-glib.h>

#include "common/outcome.h"
#include "common/scenario.h"

#define PP_SLOTS_MAX_VERSIONS 3
/* U-Boot's built-in default environment on this device: slot A. */
#define PP_SLOTS_DEFAULT_SLOT "a"

typedef struct {
    PpStrategy strategy;     /* any but PP_STRATEGY_OSTREE */
    guint env_copies;        /* ab: 1 or 2 */
    guint from_version;      /* 1-based */
    guint to_version;
    char *image_sha256[PP_SLOTS_MAX_VERSIONS]; /* of version i + 1's image */
    guint64 image_bytes;     /* every image has this size */
    /* dpkg (oracle/dpkg-judge.h): the "name version" sets of the from
       and to trees, and the init to check (NULL: the firmware has none) */
    char **pkgs_from;
    char **pkgs_to;
    char *init;
} PpSlotDevice;

void pp_slot_device_clear(PpSlotDevice *d);

/* "slots": the device description, for case files and replay. */
JsonNode *pp_slot_device_to_json(const PpSlotDevice *d);
gboolean pp_slot_device_from_json(JsonNode *node, PpSlotDevice *d,
                                  GError **error);

/* The "strategy" member of o (absent: ostree, as everything written
 * before strategies was) and, for another strategy, its "slots" device
 * into *d.  where names o in the error ("FILE: replay"). */
gboolean pp_slot_device_read(JsonObject *o, const char *where,
                             PpStrategy *strategy, PpSlotDevice *d,
                             GError **error);

/* The judgement of one state. */
typedef struct {
    PpOutcome outcome;
    char *reason;
    char *boots;             /* "old", "new", "other", or NULL (brick) */
    JsonNode *evidence;
} PpSlotJudgement;

void pp_slot_judgement_clear(PpSlotJudgement *j);

/* Judge the device at root.  FALSE only when it cannot be read at all
 * (a missing slot file is a brick, not an error). */
gboolean pp_slots_judge(const PpSlotDevice *d, const char *root,
                        PpSlotJudgement *out, GError **error);

#endif /* PP_ORACLE_SLOTS_H */
