/* SPDX-License-Identifier: MIT */
/*
 * keyfile.h: what GKeyFile does not give: where a group or a key was in
 * the file, so that every error of a scenario or a known-findings file
 * names its FILE:LINE.
 *
 * Room common/.  Includes nothing of harness/.
 */
#ifndef PP_KEYFILE_H
#define PP_KEYFILE_H

#include <glib.h>

/*
 * The 1-based line of "[group]" in data (key NULL), or of the first
 * "key =" in that group; 0 when not found.
 */
guint pp_keyfile_line(const char *data, const char *group, const char *key);

/* Is v one of the words of values, "a|b|c" (a key's allowed values)? */
gboolean pp_word_in(const char *values, const char *v);

#endif /* PP_KEYFILE_H */
