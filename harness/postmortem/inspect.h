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
 * extraction could not give its files (the overlay).  When its journal
 * needs recovery, a replayed private copy (journal.h) gives the kernel's
 * view, judged on its own.  The guestfs reader (guestfs.h) extracts
 * through a libguestfs appliance instead.
 */
#ifndef PP_INSPECT_H
#define PP_INSPECT_H

#include "postmortem/diskimage.h"
#include "postmortem/e2extract.h"
#include "postmortem/journal.h"
#include "oracle/oracle.h"

/* Errors of the input itself (a usage error for the commands): missing,
 * unreadable, neither a directory nor an image, truncated, corrupt. */
#define PP_INSPECT_ERROR (pp_inspect_error_quark())
GQuark pp_inspect_error_quark(void);
typedef enum {
    PP_INSPECT_ERROR_INPUT,
} PpInspectError;

/* How an image is read (a directory is always read as it is). */
typedef enum {
    PP_READER_DEBUGFS = 0,       /* e2fsprogs' debugfs, in place: ext2/3/4
                                  * in a bare, MBR or GPT image; the
                                  * bootloader's view, no root, ~0.2 s */
    PP_READER_GUESTFS,           /* libguestfs' appliance (guestfs.h): any
                                  * filesystem its Linux mounts, LVM too;
                                  * the kernel's view; ~10 s per image */
} PpReader;

const char *pp_reader_to_string(PpReader r);
gboolean pp_reader_from_string(const char *s, PpReader *out);

typedef struct _PpInspection PpInspection;
struct _PpInspection {
    const char *target;          /* as given */
    PpReader reader;
    gboolean is_image;
    PpDiskLayout layout;         /* is_image only */
    PpExtracted *extracted;      /* is_image only: owns the extracted tree */
    const char *sysroot;         /* the directory judged */
    PpKnownTrees *known;
    char *known_source;          /* the server repo, or a phrase */
    GPtrArray *notes;            /* char *: what the judgement could not see */
    PpJudgement *judgement;
    /* The kernel's view, when the image's journal needs recovery
     * (pp_inspect_kernel_view()): the same image after the replay on a
     * private copy, judged on its own; NULL when there is only one view. */
    PpJournalReplay *replay;
    PpInspection *kernel;
    char *kernel_error;          /* why the kernel's view could not be
                                  * made (a journal e2fsck cannot replay),
                                  * or NULL */
    /* Read through libguestfs (reader PP_READER_GUESTFS): */
    struct _PpGuestfsRead *guestfs;
};

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

/* pp_inspect() with an image read by reader (a directory is read as it
 * is, whatever the reader). */
gboolean pp_inspect_with_reader(const char *target, PpReader reader,
                                const char *server_repo,
                                const PpOracleOpts *opts, PpInspection **out,
                                GError **error);

/*
 * The kernel's view of ins (from pp_inspect(), debugfs reader): when the
 * filesystem's journal needs recovery, copy the filesystem (journal.h),
 * replay its journal, extract and judge the copy like the image (same
 * server_repo and opts) into ins->kernel; the copy is removed once
 * extracted.  Nothing to do (TRUE, ins->kernel NULL) for a directory, a
 * clean journal, or an image read through libguestfs (already the
 * kernel's view).  A view that cannot be made (e2fsck fails) is
 * ins->kernel_error and a note, not an error: FALSE only when
 * interrupted.  The user's image is only read.
 */
gboolean pp_inspect_kernel_view(PpInspection *ins, const char *server_repo,
                                const PpOracleOpts *opts, GError **error);

/* Whether the judgement's booted entry is a complete known tree: what
 * plugpull inspect exits 0 for. */
gboolean pp_inspection_boots_complete(const PpInspection *ins);

/* Give the error of a failed pp_inspect() the PP_ERROR code a command
 * exits with: an unreadable input (PP_INSPECT_ERROR, PP_DISK_ERROR)
 * becomes PP_ERROR_USAGE (2); an interruption already is PP_ERROR_SIGINT
 * or PP_ERROR_SIGTERM (130, 143); anything else stays a harness fault
 * (3).  Returns FALSE. */
gboolean pp_inspect_error_code(GError **error);

#endif /* PP_INSPECT_H */
