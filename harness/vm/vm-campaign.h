/* SPDX-License-Identifier: MIT */
/*
 * vmcampaign.h: what a VM campaign keeps in its results directory so that
 * `plugpull run --out DIR --resume` can continue it after SIGINT, SIGTERM
 * or a crash of the harness, losing no finished cycle:
 *
 *   DIR/campaign.json          its options (scenario text, cut, cycles,
 *                              seed, image and the commits it holds,
 *                              timeouts, ...), written once the image is
 *                              known, before the calibration
 *   DIR/work/calibration.json  the calibration's result (its trace, t0,
 *                              window): the draws of random-time and phase
 *                              cuts depend on it, so it is not measured
 *                              again
 *   DIR/cases/<id>.json        a finished cycle (vmout.h), written
 *                              atomically when it ends: the done record
 *
 * The cycles' draws depend only on (seed, cycle, calibration), so the
 * cycles run on resume are the ones the first run would have run.
 */
#ifndef PP_VMCAMPAIGN_H
#define PP_VMCAMPAIGN_H

#include "vm/vm-cycle.h"

/* Options of `plugpull run`: string NULL / number < 0 when not given. */
typedef struct {
    char *scenario_path;     /* canonical; NULL: the built-in default */
    char *scenario_text;     /* its text (campaign.json only) */
    char *cut;
    gint iterations;
    gint64 seed;
    char *image_dir;         /* canonical */
    gint no_build;           /* 0/1; < 0 not given */
    double window_s;
    gint boot_timeout;
    gint hang_timeout;
    gint cmd_timeout;
    char *bios;
    char *sabotage;
} PpVmOptions;

void pp_vm_options_clear(PpVmOptions *o);

typedef struct {
    char *path;              /* DIR/campaign.json */
    PpVmOptions opts;        /* every one set (defaults applied) */
    char *from_commit;       /* the image's */
    char *to_commit;
    char *started;           /* ISO 8601, of the first run */
} PpVmCampaign;

void pp_vm_campaign_free(PpVmCampaign *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVmCampaign, pp_vm_campaign_free)

gboolean pp_vm_campaign_write(const char *dir, const PpVmCampaign *c,
                              GError **error);
/* Absent: G_IO_ERROR_NOT_FOUND; unreadable: G_IO_ERROR_INVALID_DATA; both
 * name the file. */
PpVmCampaign *pp_vm_campaign_load(const char *dir, GError **error);

/* Every option given must be the campaign's: G_IO_ERROR_INVALID_ARGUMENT
 * listing every disagreement otherwise. */
gboolean pp_vm_campaign_check(const PpVmCampaign *c, const PpVmOptions *given,
                              GError **error);

/* DIR/work/calibration.json from env (after pp_calibrate). */
gboolean pp_vm_calibration_save(const PpRunEnv *env, GError **error);
/*
 * The saved calibration into env (trace, timeline, and the window unless
 * one was given).  FALSE when there is none (G_IO_ERROR_NOT_FOUND) or it
 * does not read back: then calibrate again.
 */
gboolean pp_vm_calibration_load(PpRunEnv *env, GError **error);

#endif /* PP_VMCAMPAIGN_H */
