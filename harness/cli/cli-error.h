/*
 * cli-error.h: how a command turns an error it got into the one it
 * returns (common/error.h says what the codes mean).
 */
#ifndef PP_CLI_ERROR_H
#define PP_CLI_ERROR_H

#include "common/error.h"

/* *error, its message kept, becomes a usage error (exit 2). */
gboolean pp_cli_as_usage(GError **error);

/* The error of a run interrupted by signo (exit 130 or 143, as from
   pp_throw_interrupted), saying what the run kept; replaces *error. */
gboolean pp_cli_throw_interrupted(GError **error, int signo, const char *fmt,
                                  ...) G_GNUC_PRINTF(3, 4);

#endif /* PP_CLI_ERROR_H */
