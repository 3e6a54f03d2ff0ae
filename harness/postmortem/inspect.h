/*
 * inspect.h: judge what a device would meet at its next power-on, from a
 * disk image (a device's dump) or a directory sysroot, without root.
 * `plugpull inspect` prints the result; `plugpull reproduce` forms the
 * diagnosis signature of it.
 *
 * Room postmortem/: judging a device after the fact (disk images, their
 * extraction, the reproduction search).  Includes common/, oracle/,
 * server/ and cfaultinject/; never sim/, vm/, cli/ or plugpull.h.
 *
 * A disk image is located (diskimage.h) and extracted into a private
 * temporary directory (e2extract.h), removed when the inspection is
 * freed, then judged like a directory with the modes and owners the
 * extraction could not give its files (the overlay).
 */
#ifndef PP_INSPECT_H
#define PP_INSPECT_H

#include "postmortem/diskimage.h"
#include "postmortem/e2extract.h"
#include "oracle/oracle.h"

/* Errors of the input itself (a usage error for the commands): missing,
 * unreadable, neither a directory nor an image, truncated, corrupt. */
#define PP_INSPECT_ERROR (pp_inspect_error_quark())
GQuark pp_inspect_error_quark(void);
typedef enum {
    PP_INSPECT_ERROR_INPUT,
} PpInspectError;

typedef struct {
    const char *target;          /* as given */
    gboolean is_image;
    PpDiskLayout layout;         /* is_image only */
    PpExtracted *extracted;      /* is_image only: owns the extracted tree */
    const char *sysroot;         /* the directory judged */
    PpKnownTrees *known;
    char *known_source;          /* the server repo, or a phrase */
    GPtrArray *notes;            /* char *: what the judgement could not see */
    PpJudgement *judgement;
} PpInspection;

void pp_inspection_free(PpInspection *ins);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpInspection, pp_inspection_free)

/*
 * Inspect target (an image file, a block device or a directory) and judge
 * it with opts (its overlay is set here for an image).  server_repo: the
 * repo whose commits are the known-good trees; NULL: the device's own
 * repo (self-consistency only).  Ctrl-C or SIGTERM during an image's
 * extraction stops it (G_IO_ERROR_CANCELLED).
 */
gboolean pp_inspect(const char *target, const char *server_repo,
                    const PpOracleOpts *opts, PpInspection **out,
                    GError **error);

/* The exit status a command ends with after pp_inspect() failed: 2 the
 * input, 130 interrupted, 3 the harness. */
int pp_inspect_exit_status(const GError *error);

/* A signal (SIGINT, SIGTERM) arrived during the last pp_inspect(), or 0. */
int pp_inspect_interrupted(void);

#endif /* PP_INSPECT_H */
