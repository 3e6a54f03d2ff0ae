/* SPDX-License-Identifier: MIT */
/*
 * simcampaign.h: what a campaign keeps in its results directory so that
 * `plugpull sim --out DIR --resume` can continue it after SIGINT, SIGTERM
 * or a crash of the harness, losing no finished case:
 *
 *   DIR/campaign.json           its parameters, written before anything
 *                               else (scenario text, model, points, seed,
 *                               resume-updates choice, shard, budget,
 *                               recording, client path and version)
 *   DIR/work/recording.json     the manifest of the update it recorded
 *                               (simrec.h), written before the first case:
 *                               --resume reuses the trace only when the
 *                               manifest verifies
 *   DIR/work/done/<id>.json     one per finished case, written when the
 *                               case ends: its points.json entry and the
 *                               id of the recording it was judged on
 *   DIR/cases/<id>.json         the case file, when the case has one,
 *                               written before its done record
 *
 * Every file is written to a temporary name, fsynced and renamed into
 * place (g_file_set_contents), so a harness killed at any moment leaves
 * each of them whole or absent; a done record names a case whose case
 * file, if it has one, is already complete.
 */
#ifndef PP_SIMCAMPAIGN_H
#define PP_SIMCAMPAIGN_H

#include "sim/sim.h"

#define PP_CAMPAIGN_FILE "campaign.json"

typedef struct {
    char *path;              /* DIR/campaign.json */
    char *scenario_path;     /* as given, or "built-in default" */
    char *scenario_text;     /* the file's text; NULL: the built-in default */
    char *model;             /* "ordered" */
    char *points;            /* "barriers", "all", "sample:N", "none" */
    guint64 seed;
    char *resume_updates;    /* "all", "none", "sample:N" */
    char *shard;             /* "K/N", or NULL */
    gint64 budget_s;         /* 0: none */
    char *recording;         /* REC (canonical) of --recording, or NULL */
    char *client_path;
    char *client_version;
    char *started;           /* ISO 8601, of the first run */
} PpCampaign;

void pp_campaign_free(PpCampaign *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpCampaign, pp_campaign_free)

/* Write dir/campaign.json (c->path is ignored). */
gboolean pp_campaign_write(const char *dir, const PpCampaign *c,
                           GError **error);

/*
 * Load dir/campaign.json.  Absent: G_IO_ERROR_NOT_FOUND; unreadable or
 * not a campaign: G_IO_ERROR_INVALID_DATA; both name the file.
 */
PpCampaign *pp_campaign_load(const char *dir, GError **error);

/* The options given with --resume (NULL or < 0: not given). */
typedef struct {
    const char *scenario_path;
    const char *model;
    const char *points;
    gint64 seed;
    const char *resume_updates;
    const char *shard;
    gint64 budget_s;
    const char *recording;
    const char *ostree;
} PpCampaignAsk;

/*
 * Every option given must be what the campaign started with (the scenario
 * file byte for byte), and the client (ostree, else the campaign's path)
 * must be of the campaign's version: G_IO_ERROR_INVALID_ARGUMENT listing
 * every disagreement otherwise.
 */
gboolean pp_campaign_check(const PpCampaign *c, const PpCampaignAsk *ask,
                           GError **error);

/* Record finished case c, judged on recording rec_id, in done_dir. */
gboolean pp_campaign_save_case(const char *done_dir, const char *rec_id,
                               const PpCase *c, GError **error);

/*
 * The finished case id from done_dir: TRUE with *out_case NULL when there
 * is none; FALSE when its record is unreadable (torn), is not case id, or
 * was judged on another recording than rec_id: it must run again.
 */
gboolean pp_campaign_load_case(const char *done_dir, const char *id,
                               const char *rec_id, PpCase **out_case,
                               GError **error);

/* TRUE when cases_dir/<id>.json is a whole case file of case id. */
gboolean pp_campaign_case_file_ok(const char *cases_dir, const char *id,
                                  GError **error);

/*
 * Remove the temporary files a killed harness left in dir (the
 * "NAME.json.XXXXXX" of g_file_set_contents); how many were removed.
 */
guint pp_campaign_remove_temps(const char *dir);

/*
 * Hold the campaign in dir for this process (flock on its campaign.json):
 * a second plugpull on it, such as a --resume while it still runs, is
 * refused with G_IO_ERROR_BUSY.  The lock goes with the process, SIGKILL
 * included.  The descriptor to keep open, or -1.
 */
int pp_campaign_lock(const char *dir, GError **error);

/*
 * Note in work where this run builds crash states outside the results
 * directory (a directory on tmpfs), so that a --resume after a crash can
 * remove what the crashed run left there.
 */
gboolean pp_campaign_note_scratch(const char *work, const char *scratch,
                                  GError **error);
/* Remove the scratch directory noted in work (if still there), and the
 * note. */
void pp_campaign_remove_scratch(const char *work);

#endif /* PP_SIMCAMPAIGN_H */
