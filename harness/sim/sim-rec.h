/* SPDX-License-Identifier: MIT */
/*
 * simrec.h: a campaign's recording, made once and reused on any machine.
 *
 * The client under test is threaded, so two recordings of the same update
 * differ a little (other staging names, other interleavings, other
 * lengths): the shards of one campaign must all judge the crash states of
 * ONE traced run.  `plugpull sim --record-only --out REC` makes it;
 * `plugpull sim --recording REC [--shard K/N]` judges its crash points,
 * wherever REC has been copied to (a CI artifact):
 *
 *   REC/recording.json          the manifest, written last
 *   REC/work/record/trace.cfit  the trace
 *   REC/work/record/snapshot/   the device just before the traced run
 *   REC/work/fixture/srv/       the firmware repo the stand-in serves
 *                               (known-good trees, resumed updates); a
 *                               dpkg device's: REC/work/debs/
 *
 * A campaign of another strategy than ostree (sim/strategy.h) keeps its
 * device's description in the manifest ("strategy", "slots": the images'
 * digests, the package sets): its states are judged against those, not
 * against the repo.
 *
 * The manifest pins the campaign: the scenario file's text, the model,
 * seed, points and resume choice, and the client's version.  A run on the
 * recording takes them from it; an option that disagrees is refused.  The
 * recording's id is the SHA-256 of its trace: shards with the same id
 * judged the same states, and `plugpull merge` checks exactly that.
 *
 * Paths inside the trace name the sysroot where the client ran (`root`,
 * on the recording machine); the models only use them as names, so the
 * recording can move.  Everything else is found relative to REC.
 */
#ifndef PP_SIMREC_H
#define PP_SIMREC_H

#include "common/scenario.h"
#include "sim/sim.h"

typedef struct {
    char *dir;               /* REC, canonical */
    char *id;                /* SHA-256 of the trace */
    char *scenario_path;     /* as given when recording, or "built-in default" */
    char *scenario_text;     /* the file's text; NULL: the built-in default */
    char *model;
    char *points;
    char *resume;
    guint64 seed;
    char *client_path;       /* on the recording machine */
    char *client_version;
    char *root;              /* the traced sysroot on the recording machine */
    char *trace;             /* under dir */
    char *snapshot;          /* under dir */
    char *srv_dir;           /* under dir */
    char *srv_repo;          /* under dir */
    char **commits;          /* every firmware commit, v1 first */
    char *to_commit;
    char *osname;
    char *bootloader;
    guint records;
    char *recorded;          /* ISO 8601 */
    char *tool_version;      /* the plugpull that recorded it; NULL: one
                                older than version records */
    char *compat_note;       /* to print: read although made before
                                versions were recorded; else NULL */
    PpStrategy strategy;     /* [update] strategy; a manifest without one
                                is ostree's */
    PpSlotDevice slots;      /* not ostree: the device judged (its
                                images' digests, package sets) */
} PpSimRec;

void pp_simrec_free(PpSimRec *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpSimRec, pp_simrec_free)

/* The file name of the manifest inside REC. */
#define PP_SIMREC_MANIFEST "recording.json"

/*
 * Write dir/recording.json for the recording env describes (its paths
 * under dir), made with scenario sc (its text scenario_text, NULL for the
 * built-in default) and the client at version client_version.  Drops what
 * a run on the recording does not need (the device after the run, the
 * fixture's trees, a slot device's images) first.  The recording's id
 * into *out_id (may be NULL).
 */
gboolean pp_simrec_write(const char *dir, const PpScenario *sc,
                         const char *scenario_text, const PpSimEnv *env,
                         const char *client_version, char **out_id,
                         GError **error);

/*
 * Load REC's manifest and check that its files are there.  A directory
 * that is not a recording is G_IO_ERROR_NOT_FOUND or
 * G_IO_ERROR_INVALID_DATA (a usage error for the commands).
 */
PpSimRec *pp_simrec_load(const char *dir, GError **error);

/*
 * The options a run on the recording was given (NULL or seed < 0: not
 * given).  Each one given must be what the recording pinned.
 */
typedef struct {
    const char *scenario_path;
    const char *model;
    const char *points;
    gint64 seed;
    const char *resume;
} PpSimRecAsk;

/*
 * The recording's scenario, with its model, points, seed and resume, and
 * client (ostree, when not NULL, instead of the recording's path).  Fails
 * with every disagreement between ask and the recording in one error, or
 * when the client's version is not the recording's.
 */
PpScenario *pp_simrec_scenario(const PpSimRec *rec, const PpSimRecAsk *ask,
                               const char *ostree, GError **error);

/* Point env at the recording: trace, root, snapshot, server, commits. */
void pp_simrec_fill_env(const PpSimRec *rec, PpSimEnv *env);

#endif /* PP_SIMREC_H */
