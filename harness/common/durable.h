/* SPDX-License-Identifier: MIT */
/*
 * durable.h: how plugpull writes its own results, the way it tells ostree
 * to write: the data is fsynced, renamed over the old file, and the
 * directory is fsynced.  After a power cut a result file is absent, the
 * previous version, or complete; never empty or torn.  Every result file
 * (summary, points, cases, junit, campaign, done records, reproduce.json,
 * minimised cases) goes through here.  tests/integration/
 * test-self-durable.sh proves it with plugpull's own shim and models; its
 * failing twin sets PLUGPULL_TEST_WRITE_UNSAFE=1 (test only: the old
 * path, g_file_set_contents and no directory fsync, see durable.c).
 */
#ifndef PP_COMMON_DURABLE_H
#define PP_COMMON_DURABLE_H

#include <gio/gio.h>

/* Write len bytes (-1: a NUL-terminated string) to path durably. */
gboolean pp_write_file_durable(const char *path, const void *data, gssize len,
                               GError **error);

/* fsync the directory `dir` (a rename or a new entry in it is durable
 * only then). */
gboolean pp_fsync_dir(const char *dir, GError **error);

#endif /* PP_COMMON_DURABLE_H */
