/* SPDX-License-Identifier: MIT */
/*
 * trace-reader.h: read a cfaultinject trace (see cfaultinject/TRACE-FORMAT.md).
 *
 * The file is mapped read-only.  Every complete record before the first
 * damaged or incomplete one is kept; the damage is reported, never fatal,
 * because a trace whose writer was killed mid-record is the normal case in a
 * power-loss harness.  Records are then ordered by seq, the order in which
 * the calls were entered.
 */
#ifndef CFI_TRACE_READER_H
#define CFI_TRACE_READER_H

#include <glib.h>

#include "trace-format.h"

typedef struct CfiTrace CfiTrace;

/* One record, valid as long as its CfiTrace. */
typedef struct {
    const struct cfi_rec *rec;  /* the fixed part, inside the mapping */
    const char *path;           /* NUL-terminated copy, NULL if none */
    const char *path2;          /* NUL-terminated copy, NULL if none */
    guint16 path_len;           /* bytes of path (no NUL) */
    guint16 path2_len;          /* bytes of path2 */
    const guint8 *data;         /* data_len bytes inside the mapping */
    guint32 data_len;
    guint64 file_offset;        /* where the record starts in the file */
} CfiRecord;

CfiTrace *cfi_trace_open(const char *path, GError **error);
void cfi_trace_free(CfiTrace *trace);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CfiTrace, cfi_trace_free)

const char *cfi_trace_get_path(CfiTrace *trace);
/* Records of calls; interposer notes are not among them. */
guint cfi_trace_n_records(CfiTrace *trace);
/* The i-th record in seq order; NULL when i is out of range. */
const CfiRecord *cfi_trace_get(CfiTrace *trace, guint i);

/* CFI_OP_INTERPOSER notes, in file order (never crash points). */
guint cfi_trace_n_interposers(CfiTrace *trace);
const CfiRecord *cfi_trace_get_interposer(CfiTrace *trace, guint i);

/*
 * Did the call go to an interposer that the shim's probe did not see
 * reach the kernel (MODELS.md §3a)?  Such a durability call is no barrier.
 */
static inline gboolean
cfi_rec_swallowed(const struct cfi_rec *rec)
{
    return (rec->flags & (CFI_RF_INTERPOSED | CFI_RF_FORWARDS))
           == CFI_RF_INTERPOSED;
}

/* TRUE when the file ended in a damaged or incomplete record; then
 * out_offset is where that record starts and out_reason says what was wrong
 * (owned by the trace).  Either out pointer may be NULL. */
gboolean cfi_trace_is_truncated(CfiTrace *trace, guint64 *out_offset,
                                const char **out_reason);

enum cfi_data_mode cfi_trace_get_data_mode(CfiTrace *trace);
guint64 cfi_trace_get_created_ns(CfiTrace *trace);
guint32 cfi_trace_get_creator_pid(CfiTrace *trace);

/* Append one human-readable line (no newline) describing r to out, as
 * printed by `plugpull trace dump`.  Returns FALSE, after still writing the
 * line, when the record's op is not one this reader knows. */
gboolean cfi_trace_format_record(const CfiRecord *r, GString *out);

/* "EIO", "ENOSPC", ...; NULL for numbers not in the table. */
const char *cfi_errno_name(int err);

#endif /* CFI_TRACE_READER_H */
