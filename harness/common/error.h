/* SPDX-License-Identifier: MIT */
/*
 * error.h: the one error idiom of the harness.
 *
 * Every fallible function is `gboolean f(..., GError **error)` (as in
 * ostree and libglnx).  A failing syscall becomes an error whose message
 * names the operation, the syscall and the path:
 *
 *     return pp_throw_errno_prefix(error, "linkat(%s)", path);
 *
 * gives "linkat(PATH): No such file or directory" in the G_IO_ERROR domain
 * (code from errno).  The PP_ERROR domain carries what the program's exit
 * status says; main.c maps an error to the status, in one place, and
 * prints it once.
 */
#ifndef PP_COMMON_ERROR_H
#define PP_COMMON_ERROR_H

#include <gio/gio.h>

#define PP_ERROR (pp_error_quark())
GQuark pp_error_quark(void);

/* The codes are the exit statuses they map to (the CI contract). */
typedef enum {
    PP_ERROR_FAILURES = 1,    /* the harness found a failure */
    PP_ERROR_USAGE = 2,       /* bad command line, scenario or input */
    PP_ERROR_HARNESS = 3,     /* the harness itself failed */
    PP_ERROR_SIGINT = 130,    /* interrupted by SIGINT (128 + 2) */
    PP_ERROR_SIGTERM = 143,   /* interrupted by SIGTERM (128 + 15) */
} PpErrorCode;

/* Exit statuses of the program; the codes above, plus success. */
enum {
    PP_EXIT_OK = 0,
    PP_EXIT_FAILURES = PP_ERROR_FAILURES,
    PP_EXIT_USAGE = PP_ERROR_USAGE,
    PP_EXIT_HARNESS = PP_ERROR_HARNESS,
};

/*
 * Set *error to "PREFIX: strerror(errno)" (G_IO_ERROR, the code from
 * errno) and return FALSE.  errno is read first and left as it was, so
 * `errno = ELOOP; return pp_throw_errno_prefix(...)` names another errno.
 */
gboolean pp_throw_errno_prefix(GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* Set *error (G_IO_ERROR_FAILED) and return FALSE. */
gboolean pp_throw(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Set *error in PP_ERROR with `code` and return FALSE. */
gboolean pp_throw_code(GError **error, PpErrorCode code, const char *fmt,
                       ...) G_GNUC_PRINTF(3, 4);

/* The error of a run interrupted by signal `signo` (SIGINT or SIGTERM):
 * PP_ERROR_SIGINT or PP_ERROR_SIGTERM, "interrupted by SIGxxx". */
gboolean pp_throw_interrupted(GError **error, int signo);

/* Move the error already in *error into PP_ERROR with `code`, keeping its
 * message, and return FALSE: a lower layer's error (a bad option, an
 * unreadable input file) that the command reports as usage (2) rather than
 * as a harness fault (3).  Nothing happens when error or *error is NULL. */
gboolean pp_error_set_code(GError **error, PpErrorCode code);

/* The same, saying in fmt what the run kept; replaces *error if set. */
gboolean pp_throw_interrupted_msg(GError **error, int signo, const char *fmt,
                                  ...) G_GNUC_PRINTF(3, 4);

/* The exit status an error maps to: 0 for NULL, the code of a PP_ERROR,
 * PP_EXIT_HARNESS for any other domain. */
int pp_error_exit_status(const GError *error);

#endif /* PP_COMMON_ERROR_H */
