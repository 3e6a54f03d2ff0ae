/* SPDX-License-Identifier: MIT */
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
 * extraction stops it (pp_throw_interrupted(): PP_ERROR_SIGINT or
 * PP_ERROR_SIGTERM).
 */
gboolean pp_inspect(const char *target, const char *server_repo,
                    const PpOracleOpts *opts, PpInspection **out,
                    GError **error);

/* Give the error of a failed pp_inspect() the PP_ERROR code a command
 * exits with: an unreadable input (PP_INSPECT_ERROR, PP_DISK_ERROR)
 * becomes PP_ERROR_USAGE (2); an interruption already is PP_ERROR_SIGINT
 * or PP_ERROR_SIGTERM (130, 143); anything else stays a harness fault
 * (3).  Returns FALSE. */
gboolean pp_inspect_error_code(GError **error);

#endif /* PP_INSPECT_H */
