/* SPDX-License-Identifier: MIT */
/*
 * shimtest.h: run a helper program under the real LD_PRELOAD and look at
 * what it did.  Header-only (static functions) so each test program stays
 * one file plus this.
 */
#ifndef PP_SHIMTEST_H
#define PP_SHIMTEST_H

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "common/fs.h"
#include "trace-reader.h"

typedef struct {
    int exited;         /* TRUE when it exited (then status is the code) */
    int status;         /* exit code */
    int signal;         /* terminating signal, or 0 */
    char *out;
    char *err;
} ShimRun;

static inline void
shim_run_clear(ShimRun *r)
{
    g_clear_pointer(&r->out, g_free);
    g_clear_pointer(&r->err, g_free);
}

/* The build directory: $PLUGPULL_BUILD or ./build, made absolute. */
static inline const char *
shimtest_build(void)
{
    static char *b;
    if (b == NULL) {
        const char *env = g_getenv("PLUGPULL_BUILD");
        b = g_canonicalize_filename(env != NULL ? env : "build", NULL);
    }
    return b;
}

static inline char *
shimtest_path(const char *rel)
{
    return g_build_filename(shimtest_build(), rel, NULL);
}

/*
 * Run argv with CFAULTINJECT=config (NULL: shim not loaded at all) and
 * LD_PRELOAD=preload (NULL: the built shim).
 */
static inline void
shim_run(const char *const *argv, const char *config, const char *preload,
         ShimRun *r)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *shim = shimtest_path("libcfaultinject.so");
    char **env = g_get_environ();
    int wait_status = 0;

    env = g_environ_unsetenv(env, "CFAULTINJECT");
    env = g_environ_unsetenv(env, "LD_PRELOAD");
    if (config != NULL) {
        env = g_environ_setenv(env, "CFAULTINJECT", config, TRUE);
        env = g_environ_setenv(env, "LD_PRELOAD",
                               preload != NULL ? preload : shim, TRUE);
    }
    memset(r, 0, sizeof *r);
    gboolean ok = g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT,
                               NULL, NULL, &r->out, &r->err, &wait_status,
                               &error);
    g_strfreev(env);
    if (!ok) {
        g_error("spawn %s: %s", argv[0], error->message);
    }
    if (WIFEXITED(wait_status)) {
        r->exited = 1;
        r->status = WEXITSTATUS(wait_status);
    } else if (WIFSIGNALED(wait_status)) {
        r->signal = WTERMSIG(wait_status);
    }
}

/* Remove a directory tree made by a test (the harness's own rm -rf). */
static inline void
shimtest_rm_rf(const char *path)
{
    pp_rm_rf(path, NULL);
}

#endif /* PP_SHIMTEST_H */
