/* SPDX-License-Identifier: MIT */
/*
 * toolrun.c: see toolrun.h.
 */
#include "postmortem/toolrun.h"

#include <string.h>

/* How often a SIGTERM's flag is polled while the tool runs. */
#define POLL_MS 100

char *
pp_tool_line(const char *const *argv)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; argv[i] != NULL; i++) {
        const char *a = argv[i];
        gboolean plain = *a != '\0'
                         && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                   "qrstuvwxyz0123456789_-+./=:,@") == strlen(a);
        g_autofree char *q = plain ? g_strdup(a) : g_shell_quote(a);
        g_string_append_printf(s, "%s%s", i > 0 ? " " : "", q);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

typedef struct {
    GSubprocess *proc;
    volatile sig_atomic_t *interrupted;
    gboolean killed;
    gboolean done;
    gboolean ok;
    GBytes *out;
    GBytes *err;
    GError *error;
} Comm;

static void
on_communicated(GObject *src, GAsyncResult *res, gpointer data)
{
    Comm *c = data;
    c->ok = g_subprocess_communicate_finish(G_SUBPROCESS(src), res, &c->out,
                                            &c->err, &c->error);
    c->done = TRUE;
}

static gboolean
poll_interrupted(gpointer data)
{
    Comm *c = data;
    if (c->interrupted != NULL && *c->interrupted && !c->killed) {
        g_subprocess_force_exit(c->proc);
        c->killed = TRUE;
    }
    return G_SOURCE_CONTINUE;
}

gboolean
pp_tool_run(const char *const *argv, const char *const *env, int max_ok,
            volatile sig_atomic_t *interrupted, GBytes **out, char **err,
            int *status, GError **error)
{
    g_autofree char *line = pp_tool_line(argv);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        (out != NULL ? G_SUBPROCESS_FLAGS_STDOUT_PIPE
                     : G_SUBPROCESS_FLAGS_STDOUT_SILENCE)
        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_setenv(l, "LC_ALL", "C", TRUE);
    for (guint i = 0; env != NULL && env[i] != NULL; i++) {
        const char *eq = strchr(env[i], '=');
        g_autofree char *name = g_strndup(env[i], eq != NULL ? (gsize)(eq - env[i])
                                                             : strlen(env[i]));
        g_subprocess_launcher_setenv(l, name, eq != NULL ? eq + 1 : "", TRUE);
    }
    g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv(l, argv, error);
    if (proc == NULL) {
        g_prefix_error(error, "running %s: ", line);
        return FALSE;
    }
    Comm c = { .proc = proc, .interrupted = interrupted };
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    g_subprocess_communicate_async(proc, NULL, NULL, on_communicated, &c);
    GSource *poll = g_timeout_source_new(POLL_MS);
    g_source_set_callback(poll, poll_interrupted, &c, NULL);
    g_source_attach(poll, ctx);
    while (!c.done) {
        g_main_context_iteration(ctx, TRUE);
    }
    g_source_destroy(poll);
    g_source_unref(poll);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);

    g_autoptr(GBytes) cout = c.out;
    g_autoptr(GBytes) cerr = c.err;
    if (c.killed) {
        g_clear_error(&c.error);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                    "interrupted: %s killed", line);
        return FALSE;
    }
    if (!c.ok) {
        g_propagate_prefixed_error(error, c.error, "%s: ", line);
        return FALSE;
    }
    gsize n = 0;
    const char *e = cerr != NULL ? g_bytes_get_data(cerr, &n) : NULL;
    g_autofree char *etext = g_strndup(e != NULL ? e : "", n);
    if (!g_subprocess_get_if_exited(proc)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: killed by signal %d: %s", line,
                    g_subprocess_get_term_sig(proc), g_strstrip(etext));
        return FALSE;
    }
    int st = g_subprocess_get_exit_status(proc);
    if (st < 0 || st > max_ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: exit status %d: %s", line, st, g_strstrip(etext));
        return FALSE;
    }
    if (status != NULL) {
        *status = st;
    }
    if (out != NULL) {
        *out = g_steal_pointer(&cout);
    }
    *err = g_steal_pointer(&etext);
    return TRUE;
}
