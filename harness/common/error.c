/* SPDX-License-Identifier: MIT */
/*
 * error.c: the one error idiom of the harness (see error.h).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "common/error.h"

G_DEFINE_QUARK(plugpull-error-quark, pp_error)

gboolean
pp_throw_errno_prefix(GError **error, const char *fmt, ...)
{
    int errsv = errno;
    if (error != NULL) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *prefix = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s",
                    prefix, g_strerror(errsv));
    }
    errno = errsv;
    return FALSE;
}

gboolean
pp_throw(GError **error, const char *fmt, ...)
{
    if (error != NULL) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
    }
    return FALSE;
}

gboolean
pp_throw_code(GError **error, PpErrorCode code, const char *fmt, ...)
{
    if (error != NULL) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error_literal(error, PP_ERROR, code, msg);
    }
    return FALSE;
}

gboolean
pp_throw_interrupted(GError **error, int signo)
{
    return pp_throw_interrupted_msg(error, signo, "interrupted by %s",
                                    signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

gboolean
pp_error_set_code(GError **error, PpErrorCode code)
{
    if (error == NULL || *error == NULL) {
        return FALSE;
    }
    (*error)->domain = PP_ERROR;
    (*error)->code = code;
    return FALSE;
}

gboolean
pp_throw_interrupted_msg(GError **error, int signo, const char *fmt, ...)
{
    if (error != NULL) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_clear_error(error);
        g_set_error_literal(error, PP_ERROR,
                            signo == SIGTERM ? PP_ERROR_SIGTERM
                                             : PP_ERROR_SIGINT, msg);
    }
    return FALSE;
}

int
pp_error_exit_status(const GError *error)
{
    if (error == NULL) {
        return PP_EXIT_OK;
    }
    if (error->domain == PP_ERROR) {
        return error->code;
    }
    return PP_EXIT_HARNESS;
}
