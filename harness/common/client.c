/* SPDX-License-Identifier: MIT */
/*
 * client.c: see client.h.
 */
#include "common/client.h"
#include "common/error.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    path = pp_lib_file("libcfaultinject.so");
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

/* How many uids and gids PP_USERNS_ALL_IDS maps, from 0. */
#define PP_USERNS_IDS 65536

/* Does our own namespace map ids 0..PP_USERNS_IDS-1 in one extent?  Not
 * in a container that maps fewer: then only the root-only map can work. */
static gboolean
own_map_covers(const char *file)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(file, &text, NULL, NULL)) {
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        unsigned long inner, outer, count;
        if (sscanf(*l, "%lu %lu %lu", &inner, &outer, &count) == 3
            && inner == 0 && count >= PP_USERNS_IDS) {
            return TRUE;
        }
    }
    return FALSE;
}

PpUsernsMode
pp_userns_mode(void)
{
    static int cached = -1;
    if (geteuid() != 0 || g_strcmp0(g_getenv("PLUGPULL_USERNS"), "root") == 0) {
        return PP_USERNS_ROOT;
    }
    if (cached < 0) {
        cached = own_map_covers("/proc/self/uid_map")
                 && own_map_covers("/proc/self/gid_map");
    }
    return cached ? PP_USERNS_ALL_IDS : PP_USERNS_ROOT;
}

const char *
pp_userns_mode_name(PpUsernsMode mode)
{
    return mode == PP_USERNS_ALL_IDS ? "all-ids" : "root";
}

/*
 * PP_USERNS_ALL_IDS.  A process cannot write a map of more than its own id
 * for itself: the writer needs CAP_SETUID in the parent namespace.  So the
 * child, between fork and exec, enters a new user namespace, sends its pid
 * on one pipe and waits on another; a thread of ours (root in the parent
 * namespace) writes /proc/PID/uid_map and gid_map and answers.  A thread,
 * not the spawning thread: that one waits in the spawn until the exec.
 * The child's part only calls async-signal-safe functions.
 */
typedef struct {
    int pid_rd, pid_wr;         /* child -> mapper: its pid */
    int go_rd, go_wr;           /* mapper -> child: 'y' mapped, 'n' not */
    char err[256];              /* mapper's failure, for the error */
} IdMapper;

static void
child_say(const char *msg)
{
    ssize_t n = write(STDERR_FILENO, msg, strlen(msg));
    (void)n;
}

static void
all_ids_child_setup(gpointer data)
{
    IdMapper *m = data;
    if (unshare(CLONE_NEWUSER) != 0) {
        child_say("plugpull: unshare(CLONE_NEWUSER) failed\n");
        _exit(126);
    }
    pid_t me = getpid();
    char ok = 'n';
    if (write(m->pid_wr, &me, sizeof me) != (ssize_t)sizeof me
        || read(m->go_rd, &ok, 1) != 1 || ok != 'y') {
        child_say("plugpull: the user namespace's id maps were not written\n");
        _exit(126);
    }
}

static gboolean
write_map(pid_t pid, const char *which, char *err, size_t errlen)
{
    char path[64];
    char line[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, which);
    int n = snprintf(line, sizeof line, "0 0 %u\n", PP_USERNS_IDS);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, line, (size_t)n) != n) {
        snprintf(err, errlen, "writing %s: %s", path, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return FALSE;
    }
    close(fd);
    return TRUE;
}

static gpointer
all_ids_mapper(gpointer data)
{
    IdMapper *m = data;
    pid_t pid;
    ssize_t n;
    do {
        n = read(m->pid_rd, &pid, sizeof pid);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof pid) {
        return NULL;            /* the child never got there */
    }
    char ok = write_map(pid, "uid_map", m->err, sizeof m->err)
              && write_map(pid, "gid_map", m->err, sizeof m->err) ? 'y' : 'n';
    if (write(m->go_wr, &ok, 1) != 1 && m->err[0] == '\0') {
        snprintf(m->err, sizeof m->err, "answering the child: %s",
                 g_strerror(errno));
    }
    return NULL;
}

static void
id_mapper_close(IdMapper *m)
{
    int *fds[] = { &m->pid_rd, &m->pid_wr, &m->go_rd, &m->go_wr };
    for (guint i = 0; i < G_N_ELEMENTS(fds); i++) {
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
    }
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
                        "shim not found at %s (build it with make, reinstall "
                        "plugpull, or set PLUGPULL_SHIM)", shim);
            return FALSE;
        }
        preload = pp_preload_with_shim(g_getenv("LD_PRELOAD"), shim);
        preload_env = g_strconcat("LD_PRELOAD=", preload, NULL);
        config_env = g_strconcat("CFAULTINJECT=", opts->config, NULL);
    }

    g_autoptr(GPtrArray) full = g_ptr_array_new();
    IdMapper mapper = { -1, -1, -1, -1, { 0 } };
    GThread *mapper_thread = NULL;
    PpUsernsMode ns_mode = opts->userns ? pp_userns_mode() : PP_USERNS_ROOT;
    if (opts->userns && ns_mode == PP_USERNS_ALL_IDS) {
        int p1[2], p2[2];
        if (pipe2(p1, O_CLOEXEC) != 0) {
            return pp_throw_errno_prefix(error, "pipe");
        }
        if (pipe2(p2, O_CLOEXEC) != 0) {
            close(p1[0]);
            close(p1[1]);
            return pp_throw_errno_prefix(error, "pipe");
        }
        mapper = (IdMapper){ p1[0], p1[1], p2[0], p2[1], { 0 } };
        g_subprocess_launcher_set_child_setup(l, all_ids_child_setup, &mapper,
                                              NULL);
        mapper_thread = g_thread_new("pp-idmap", all_ids_mapper, &mapper);
    } else if (opts->userns) {
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
    if (mapper_thread != NULL) {
        /* The child has exec'd or died: no pid is coming any more. */
        close(mapper.pid_wr);
        mapper.pid_wr = -1;
        g_thread_join(mapper_thread);
        id_mapper_close(&mapper);
        if (mapper.err[0] != '\0') {
            if (proc != NULL) {
                g_subprocess_force_exit(proc);
                g_subprocess_wait(proc, NULL, NULL);
            }
            g_clear_error(error);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "starting %s in a user namespace: %s", argv[0],
                        mapper.err);
            return FALSE;
        }
    }
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
