/* SPDX-License-Identifier: MIT */
/*
 * client.c: see client.h.
 */
#include "common/client.h"

#include <string.h>
#include <sys/wait.h>

void
pp_client_result_clear(PpClientResult *r)
{
    g_clear_pointer(&r->out, g_free);
    g_clear_pointer(&r->err, g_free);
}

const char *
pp_shim_path(void)
{
    static char *path;
    if (path != NULL) {
        return path;
    }
    const char *env = g_getenv("PLUGPULL_SHIM");
    if (env != NULL && *env != '\0') {
        path = g_strdup(env);
        return path;
    }
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = exe != NULL ? g_path_get_dirname(exe)
                                       : g_strdup(".");
    path = g_build_filename(dir, "libcfaultinject.so", NULL);
    return path;
}

gboolean
pp_shim_check_config(const char *shim, const char *config, GError **error)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_setenv(l, "CFAULTINJECT", config, TRUE);
    g_subprocess_launcher_setenv(l, "LD_PRELOAD", shim, TRUE);
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawn(l, error, "true",
                                                           NULL);
    g_autofree char *err = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, error)) {
        g_prefix_error(error, "checking a shim configuration with %s: ", shim);
        return FALSE;
    }
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "the shim refuses it: %s",
                    err != NULL && *g_strstrip(err) != '\0'
                    ? err : "(no message)");
        return FALSE;
    }
    return TRUE;
}

char *
pp_preload_with_shim(const char *existing, const char *shim)
{
    g_autoptr(GString) s = g_string_new(NULL);
    if (existing != NULL) {
        /* LD_PRELOAD separates with spaces or colons; keep order, drop us. */
        g_auto(GStrv) parts = g_strsplit_set(existing, " :", -1);
        for (char **p = parts; *p != NULL; p++) {
            if (**p == '\0' || strcmp(*p, shim) == 0) {
                continue;
            }
            if (s->len > 0) {
                g_string_append_c(s, ':');
            }
            g_string_append(s, *p);
        }
    }
    if (s->len > 0) {
        g_string_append_c(s, ':');
    }
    g_string_append(s, shim);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean
pp_client_run(const PpClientOpts *opts, const char *const *argv,
              PpClientResult *result, GError **error)
{
    GSubprocessFlags flags = G_SUBPROCESS_FLAGS_NONE;
    if (opts->capture) {
        flags |= G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE;
    }
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(flags);
    if (opts->cwd != NULL) {
        g_subprocess_launcher_set_cwd(l, opts->cwd);
    }
    if (opts->env != NULL) {
        for (const char *const *e = opts->env; *e != NULL; e++) {
            const char *eq = strchr(*e, '=');
            g_autofree char *key = eq != NULL ? g_strndup(*e, (gsize)(eq - *e))
                                              : g_strdup(*e);
            g_subprocess_launcher_setenv(l, key, eq != NULL ? eq + 1 : "", TRUE);
        }
    }
    g_autofree char *preload = NULL;
    g_autofree char *preload_env = NULL;
    g_autofree char *config_env = NULL;
    if (opts->config != NULL) {
        const char *shim = pp_shim_path();
        if (!g_file_test(shim, G_FILE_TEST_EXISTS)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "shim not found at %s (build it with make, or set "
                        "PLUGPULL_SHIM)", shim);
            return FALSE;
        }
        preload = pp_preload_with_shim(g_getenv("LD_PRELOAD"), shim);
        preload_env = g_strconcat("LD_PRELOAD=", preload, NULL);
        config_env = g_strconcat("CFAULTINJECT=", opts->config, NULL);
    }

    g_autoptr(GPtrArray) full = g_ptr_array_new();
    if (opts->userns) {
        g_ptr_array_add(full, (char *)"unshare");
        g_ptr_array_add(full, (char *)"--user");
        g_ptr_array_add(full, (char *)"--map-root-user");
        g_ptr_array_add(full, (char *)"--");
    }
    if (preload != NULL) {
        /*
         * Through env(1), so that only the client loads the shim: unshare
         * writing its uid_map is not the client's state.
         */
        g_ptr_array_add(full, (char *)"env");
        g_ptr_array_add(full, preload_env);
        g_ptr_array_add(full, config_env);
    }
    for (const char *const *a = argv; *a != NULL; a++) {
        g_ptr_array_add(full, (char *)*a);
    }
    g_ptr_array_add(full, NULL);

    g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv(
        l, (const char *const *)full->pdata, error);
    if (proc == NULL) {
        g_prefix_error(error, "starting %s: ", argv[0]);
        return FALSE;
    }
    memset(result, 0, sizeof *result);
    if (opts->capture) {
        if (!g_subprocess_communicate_utf8(proc, NULL, NULL, &result->out,
                                           &result->err, error)) {
            g_prefix_error(error, "waiting for %s: ", argv[0]);
            return FALSE;
        }
    } else if (!g_subprocess_wait(proc, NULL, error)) {
        g_prefix_error(error, "waiting for %s: ", argv[0]);
        return FALSE;
    }
    if (g_subprocess_get_if_exited(proc)) {
        result->exit_status = g_subprocess_get_exit_status(proc);
    } else {
        result->exit_status = -1;
        result->term_signal = g_subprocess_get_term_sig(proc);
    }
    return TRUE;
}
