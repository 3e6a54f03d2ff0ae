/*
 * cli-error.c: see cli-error.h.
 */
#include "cli/cli-error.h"

gboolean
pp_cli_as_usage(GError **error)
{
    if (error != NULL && *error != NULL) {
        g_autoptr(GError) e = g_steal_pointer(error);
        g_set_error_literal(error, PP_ERROR, PP_ERROR_USAGE, e->message);
    }
    return FALSE;
}

gboolean
pp_cli_throw_interrupted(GError **error, int signo, const char *fmt, ...)
{
    g_autoptr(GError) code = NULL;
    pp_throw_interrupted(&code, signo);
    if (error != NULL) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_clear_error(error);
        g_set_error_literal(error, code->domain, code->code, msg);
    }
    return FALSE;
}
