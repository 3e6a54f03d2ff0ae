/* SPDX-License-Identifier: MIT */
/*
 * tracewriter.h: append records to a trace file from inside the client.
 *
 * One trace file may be written by many threads and processes at once.
 * Each record goes out in a single writev() on an O_APPEND descriptor, so
 * records never interleave; the sequence counter lives in the file's first
 * page, mapped shared, so forked and exec'd children number their calls in
 * one series with their parent.
 */
#ifndef CFI_TRACEWRITER_H
#define CFI_TRACEWRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "trace-format.h"

/* Open (creating if needed) the trace at path.  0 or -errno. */
int cfi_tw_open(const char *path, int data_mode);
/* The descriptor records go to, or -1. */
int cfi_tw_fd(void);
int cfi_tw_data_mode(void);
/* Next sequence number: shared across processes when a trace is open. */
uint64_t cfi_tw_next_seq(void);
/*
 * Seal and append one record.  rec's size, crc, path/data lengths and
 * magic are filled here; data is gathered from niov pieces totalling
 * data_len bytes (0 pieces allowed).  Returns 0 or -errno; never blocks on
 * a lock and never allocates.
 */
int cfi_tw_append(struct cfi_rec *rec, const char *path, size_t path_len,
                  const char *path2, size_t path2_len,
                  const struct iovec *data, int niov, size_t data_len);

#endif /* CFI_TRACEWRITER_H */
