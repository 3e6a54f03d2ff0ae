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

#endif /* PP_KEYFILE_H */
