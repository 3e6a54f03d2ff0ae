/* SPDX-License-Identifier: MIT */
/*
 * version.h: which plugpull wrote a result, and which results another
 * plugpull can read.
 *
 * Every result file records the version of the harness that wrote it
 * ("tool_version": `git describe` at build time, or the VERSION file of a
 * release tarball).  What one plugpull hands to another (a recording made
 * by `sim --record-only`, read by `sim --recording`; a shard's
 * summary.json and points.json, read by `plugpull merge`) also records
 * "harness_format", and the reader refuses another number: the versions
 * say who made the file, the format says whether it can be read.
 */
#ifndef PP_COMMON_VERSION_H
#define PP_COMMON_VERSION_H

#include <json-glib/json-glib.h>

/*
 * The format of a recording (its manifest, sim-rec.c's MANIFEST_FORMAT,
 * and its trace, CFI_TRACE_VERSION) and of a shard's results.  Bump it
 * with either of those, or when summary.json or points.json change in a
 * way an older merge would misread; sim-rec.c asserts the pairing at
 * build time.
 */
#define PP_HARNESS_FORMAT 1

/* This build's version, e.g. "0.9.0" or "v0.9.0-12-g93fdb9a-dirty". */
const char *pp_version(void);

/* Add "tool_version" (pp_version()) and "harness_format" to the object
 * being built. */
void pp_version_add_json(JsonBuilder *b);

/*
 * Whether this plugpull can read a file (what, e.g. "recording", at path)
 * whose top-level object is o: its "harness_format" must be
 * PP_HARNESS_FORMAT.  FALSE otherwise, with an error (G_IO_ERROR_INVALID_DATA)
 * naming both versions and both formats.
 *
 * A file without "harness_format" was written before versions were
 * recorded (plugpull before 0.9.0).  Its own format number, which the
 * caller checks (a recording's "format"), is what decided compatibility
 * then, and no reader changed since without changing one of them: it is
 * read, and *out_note (when not NULL) says so, for the caller to print.
 */
gboolean pp_version_check_compatible(JsonObject *o, const char *what,
                                     const char *path, char **out_note,
                                     GError **error);

#endif /* PP_COMMON_VERSION_H */
