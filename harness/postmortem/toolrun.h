/* SPDX-License-Identifier: MIT */
/*
 * toolrun.h: run one of the tools a post-mortem drives (debugfs, e2fsck,
 * guestfish) as a subprocess, no shell between, to its end, with its
 * output collected and a Ctrl-C or SIGTERM passed on.
 *
 * Messages of these tools are parsed: they run with LC_ALL=C.
 */
#ifndef PP_TOOLRUN_H
#define PP_TOOLRUN_H

#include <signal.h>

#include <gio/gio.h>

/* argv as a shell command line, for messages: quoted where needed. */
char *pp_tool_line(const char *const *argv);

/*
 * Run argv to its end, with env ("NAME=VALUE", NULL-terminated; may be
 * NULL) added to the environment, stdout in *out (when out is not NULL;
 * else discarded) and stderr in *err.  An exit status above max_ok is a
 * failure (the error names the command line, the status and stderr);
 * *status (may be NULL) gets the status otherwise.  A Ctrl-C reaches the
 * tool itself (same process group); when *interrupted (may be NULL)
 * becomes non-zero (SIGTERM to plugpull alone), the tool is killed and
 * the error is G_IO_ERROR_CANCELLED.
 */
gboolean pp_tool_run(const char *const *argv, const char *const *env,
                     int max_ok, volatile sig_atomic_t *interrupted,
                     GBytes **out, char **err, int *status, GError **error);

#endif /* PP_TOOLRUN_H */
