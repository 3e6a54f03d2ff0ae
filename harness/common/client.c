/* SPDX-License-Identifier: MIT */
/*
 * client.c: see client.h.
 */
#include "common/client.h"
#include "common/error.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

/* From-firmware: the mount namespace the child builds before its exec
 * (client.h), every path computed by the parent. */
typedef enum {
    NS_MKDIR,                   /* mkdir a (EEXIST is fine) */
    NS_FILE,                    /* create the empty file a */
    NS_BIND,                    /* bind b (recursively) onto a */
    NS_TMPFS,                   /* a tmpfs on a */
    NS_SYMLINK,                 /* symlink a -> b */
} NsOpKind;

typedef struct {
    NsOpKind kind;
    char *a;
    char *b;
} NsOp;

typedef struct {
    IdMapper *mapper;           /* PP_USERNS_ALL_IDS: the mapper, else NULL */
    char setgroups_deny;        /* PP_USERNS_ROOT: map ourselves */
    char uid_line[64];
    char gid_line[64];
    char *stage;                /* NULL: no mount namespace */
    GArray *ops;                /* NsOp */
    char *cwd;                  /* inside */
} ChildSetup;

static void
child_say(const char *msg)
{
    ssize_t n = write(STDERR_FILENO, msg, strlen(msg));
    (void)n;
}

/* "plugpull: WHAT PATH: errno N" and exit 126 (async-signal-safe). */
static void
child_fail(const char *what, const char *path)
{
    int e = errno;
    char num[16];
    int i = (int)sizeof num - 1;
    num[i] = '\0';
    do {
        num[--i] = (char)('0' + e % 10);
        e /= 10;
    } while (e > 0 && i > 0);
    child_say("plugpull: ");
    child_say(what);
    if (path != NULL) {
        child_say(" ");
        child_say(path);
    }
    child_say(": errno ");
    child_say(num + i);
    child_say("\n");
    _exit(126);
}

static void
child_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        child_fail("writing", path);
    }
    close(fd);
}

static void
child_setup(gpointer data)
{
    ChildSetup *c = data;
    if (c->mapper != NULL || c->setgroups_deny) {
        if (unshare(CLONE_NEWUSER) != 0) {
            child_fail("unshare(CLONE_NEWUSER)", NULL);
        }
    }
    if (c->mapper != NULL) {
        IdMapper *m = c->mapper;
        pid_t me = getpid();
        char ok = 'n';
        if (write(m->pid_wr, &me, sizeof me) != (ssize_t)sizeof me
            || read(m->go_rd, &ok, 1) != 1 || ok != 'y') {
            child_say("plugpull: the user namespace's id maps were not "
                      "written\n");
            _exit(126);
        }
    } else if (c->setgroups_deny) {
        child_write_file("/proc/self/setgroups", "deny");
        child_write_file("/proc/self/uid_map", c->uid_line);
        child_write_file("/proc/self/gid_map", c->gid_line);
    }
    if (c->stage == NULL) {
        return;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        child_fail("unshare(CLONE_NEWNS)", NULL);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        child_fail("making the mounts private", "/");
    }
    if (mount("tmpfs", c->stage, "tmpfs", 0, "mode=0755") != 0) {
        child_fail("mounting a tmpfs on", c->stage);
    }
    for (guint i = 0; i < c->ops->len; i++) {
        const NsOp *op = &g_array_index(c->ops, NsOp, i);
        switch (op->kind) {
        case NS_MKDIR:
            if (mkdir(op->a, 0755) != 0 && errno != EEXIST) {
                child_fail("mkdir", op->a);
            }
            break;
        case NS_FILE: {
            int fd = open(op->a, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) {
                child_fail("creating", op->a);
            }
            close(fd);
            break;
        }
        case NS_BIND:
            if (mount(op->b, op->a, NULL, MS_BIND | MS_REC, NULL) != 0) {
                child_fail("bind-mounting", op->b);
            }
            break;
        case NS_TMPFS:
            if (mount("tmpfs", op->a, "tmpfs", 0, "mode=1777") != 0) {
                child_fail("mounting a tmpfs on", op->a);
            }
            break;
        case NS_SYMLINK:
            if (symlink(op->b, op->a) != 0) {
                child_fail("symlink", op->a);
            }
            break;
        }
    }
    if (chroot(c->stage) != 0) {
        child_fail("chroot", c->stage);
    }
    if (chdir(c->cwd != NULL ? c->cwd : "/") != 0) {
        child_fail("chdir", c->cwd);
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

/* "version N" of a BLS entry, for ordering: ostree's default entry is the
 * one with the highest. */
static gint64
entry_version(const char *text, char **ostree_arg)
{
    gint64 version = -1;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        char *line = g_strstrip(*l);
        if (g_str_has_prefix(line, "version ")) {
            version = g_ascii_strtoll(line + strlen("version "), NULL, 10);
        } else if (g_str_has_prefix(line, "options ")) {
            g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
            for (char **w = words; *w != NULL; w++) {
                if (g_str_has_prefix(*w, "ostree=")) {
                    g_free(*ostree_arg);
                    *ostree_arg = g_strdup(*w + strlen("ostree="));
                }
            }
        }
    }
    return version;
}

char *
pp_client_booted_deployment(const char *sysroot, char **remote, char **ref,
                            GError **error)
{
    g_autofree char *root = realpath(sysroot, NULL);
    if (root == NULL) {
        pp_throw_errno_prefix(error, "realpath(%s)", sysroot);
        return NULL;
    }
    g_autofree char *entries = g_build_filename(root, "boot", "loader",
                                                "entries", NULL);
    g_autoptr(GDir) dir = g_dir_open(entries, 0, error);
    if (dir == NULL) {
        g_prefix_error(error, "the device boots nothing: ");
        return NULL;
    }
    gint64 best = G_MININT64;
    g_autofree char *best_arg = NULL;
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_suffix(name, ".conf")) {
            continue;
        }
        g_autofree char *path = g_build_filename(entries, name, NULL);
        g_autofree char *text = NULL;
        g_autofree char *arg = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL)) {
            continue;
        }
        gint64 v = entry_version(text, &arg);
        if (arg != NULL && v > best) {
            best = v;
            g_free(best_arg);
            best_arg = g_steal_pointer(&arg);
        }
    }
    if (best_arg == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "the device boots nothing: no entry in %s has ostree=",
                    entries);
        return NULL;
    }
    /* The boot.N symlinks are relative: realpath resolves them inside. */
    g_autofree char *link = g_build_filename(root, best_arg, NULL);
    g_autofree char *deploy = realpath(link, NULL);
    g_autofree char *prefix = g_build_filename(root, "ostree", "deploy", NULL);
    if (deploy == NULL || !g_str_has_prefix(deploy, prefix)
        || deploy[strlen(prefix)] != '/') {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "the device's default entry names ostree=%s, which is no "
                    "deployment of %s", best_arg, root);
        return NULL;
    }
    if (remote != NULL || ref != NULL) {
        g_autofree char *origin = g_strconcat(deploy, ".origin", NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *spec = NULL;
        if (g_key_file_load_from_file(kf, origin, G_KEY_FILE_NONE, NULL)) {
            spec = g_key_file_get_string(kf, "origin", "refspec", NULL);
        }
        const char *colon = spec != NULL ? strchr(spec, ':') : NULL;
        if (remote != NULL) {
            *remote = colon != NULL ? g_strndup(spec, (gsize)(colon - spec))
                                    : NULL;
        }
        if (ref != NULL) {
            *ref = spec == NULL ? NULL
                   : g_strdup(colon != NULL ? colon + 1 : spec);
        }
    }
    return g_steal_pointer(&deploy);
}

gboolean
pp_client_firmware_check(const char *sysroot, GError **error)
{
    g_autofree char *deploy = pp_client_booted_deployment(sysroot, NULL, NULL,
                                                          error);
    if (deploy == NULL) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    g_autofree char *exe = g_build_filename(deploy, PP_CLIENT_FIRMWARE_OSTREE,
                                            NULL);
    struct stat st;
    if (lstat(exe, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
        || !g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "the from tree has no " PP_CLIENT_FIRMWARE_OSTREE
                             " (%s): from-firmware needs a firmware that "
                             "ships its own ostree client", deploy);
    }
    /* The fixture's trees ship busybox: an "ostree" that is busybox is
       no ostree. */
    g_autofree char *target = g_file_read_link(exe, NULL);
    if (target != NULL && g_str_has_suffix(target, "busybox")) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "the from tree has no " PP_CLIENT_FIRMWARE_OSTREE
                             " (%s: a link to busybox)", deploy);
    }
    return TRUE;
}

static void
ns_op(GArray *ops, NsOpKind kind, char *a, char *b)
{
    NsOp op = { kind, a, b };
    g_array_append_val(ops, op);
}

static void
ns_op_clear(gpointer p)
{
    NsOp *op = p;
    g_free(op->a);
    g_free(op->b);
}

/* Directories of the paths the shim's configuration names. */
static void
config_dirs(const char *config, GPtrArray *dirs)
{
    if (config == NULL) {
        return;
    }
    if (config[0] == '@') {
        g_ptr_array_add(dirs, g_path_get_dirname(config + 1));
        g_autofree char *text = NULL;
        if (g_file_get_contents(config + 1, &text, NULL, NULL)) {
            config_dirs(text, dirs);
        }
        return;
    }
    g_auto(GStrv) entries = g_strsplit_set(config, ";\n", -1);
    for (char **e = entries; *e != NULL; e++) {
        char *t = g_strstrip(*e);
        for (const char *key = "trace=", *k2 = "notify_unix="; key != NULL;
             key = k2, k2 = NULL) {
            if (g_str_has_prefix(t, key) && t[strlen(key)] == '/') {
                g_ptr_array_add(dirs, g_path_get_dirname(t + strlen(key)));
            }
        }
    }
}

static gboolean
is_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0'
                                          || g_str_equal(dir, "/"));
}

/* The mount namespace of a from-firmware client (client.h): c->stage and
 * c->ops. */
static gboolean
firmware_plan(const PpClientOpts *opts, ChildSetup *c, GError **error)
{
    g_autofree char *sysroot = realpath(opts->firmware, NULL);
    if (sysroot == NULL) {
        return pp_throw_errno_prefix(error, "realpath(%s)", opts->firmware);
    }
    if (!pp_client_firmware_check(sysroot, error)) {
        return FALSE;
    }
    g_autofree char *deploy = pp_client_booted_deployment(sysroot, NULL, NULL,
                                                          error);
    if (deploy == NULL) {
        return FALSE;
    }
    c->stage = g_dir_make_tmp("plugpull-fwroot-XXXXXX", error);
    if (c->stage == NULL) {
        return FALSE;
    }
    GArray *ops = c->ops;
    const char *st = c->stage;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal, g_free,
                                                       NULL);
    g_autoptr(GDir) dir = g_dir_open(deploy, 0, error);
    if (dir == NULL) {
        return FALSE;
    }
    /* /var: the stateroot's, as the device mounts it. */
    g_autofree char *osdir = g_path_get_dirname(deploy);  /* OS/deploy */
    g_autofree char *stateroot = g_path_get_dirname(osdir);
    g_autofree char *var = g_build_filename(stateroot, "var", NULL);
    if (!g_file_test(var, G_FILE_TEST_IS_DIR)) {
        g_free(var);
        var = g_build_filename(deploy, "var", NULL);
    }
    static const char *const special[] = { "proc", "dev", "sys", "run", "tmp",
                                           "sysroot", "boot", "var" };
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *src = g_build_filename(deploy, name, NULL);
        g_autofree char *dst = g_build_filename(st, name, NULL);
        gboolean is_special = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(special); i++) {
            is_special |= g_str_equal(name, special[i]);
        }
        struct stat sb;
        if (lstat(src, &sb) != 0) {
            return pp_throw_errno_prefix(error, "lstat(%s)", src);
        }
        if (is_special) {
            continue;           /* below */
        }
        g_hash_table_add(seen, g_strdup(name));
        if (S_ISLNK(sb.st_mode)) {
            g_autofree char *target = g_file_read_link(src, error);
            if (target == NULL) {
                return FALSE;
            }
            ns_op(ops, NS_SYMLINK, g_steal_pointer(&dst),
                  g_steal_pointer(&target));
        } else if (S_ISDIR(sb.st_mode)) {
            ns_op(ops, NS_MKDIR, g_strdup(dst), NULL);
            ns_op(ops, NS_BIND, g_steal_pointer(&dst), g_steal_pointer(&src));
        } else if (S_ISREG(sb.st_mode)) {
            ns_op(ops, NS_FILE, g_strdup(dst), NULL);
            ns_op(ops, NS_BIND, g_steal_pointer(&dst), g_steal_pointer(&src));
        } else {
            g_hash_table_remove(seen, name);   /* a device node: left out */
        }
    }
    g_autofree char *boot = g_build_filename(sysroot, "boot", NULL);
    const char *const binds[][2] = {
        { "proc", "/proc" }, { "dev", "/dev" }, { "sys", "/sys" },
        { "sysroot", sysroot }, { "boot", boot }, { "var", var },
        { "run", NULL }, { "tmp", NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS(binds); i++) {
        ns_op(ops, NS_MKDIR, g_build_filename(st, binds[i][0], NULL), NULL);
        ns_op(ops, binds[i][1] != NULL ? NS_BIND : NS_TMPFS,
              g_build_filename(st, binds[i][0], NULL), g_strdup(binds[i][1]));
        g_hash_table_add(seen, g_strdup(binds[i][0]));
    }
    ns_op(ops, NS_MKDIR, g_build_filename(st, "run", "plugpull", NULL), NULL);
    if (opts->config != NULL) {
        ns_op(ops, NS_FILE, g_build_filename(st, PP_CLIENT_FIRMWARE_SHIM, NULL),
              NULL);
        ns_op(ops, NS_BIND, g_build_filename(st, PP_CLIENT_FIRMWARE_SHIM, NULL),
              g_strdup(pp_shim_path()));
    }

    /* Host paths the client names, at their own paths. */
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(dirs, g_strdup(sysroot));
    config_dirs(opts->config, dirs);
    for (const char *const *e = opts->env; e != NULL && *e != NULL; e++) {
        if (g_str_has_prefix(*e, "TMPDIR=/")) {
            g_ptr_array_add(dirs, g_strdup(*e + strlen("TMPDIR=")));
        }
    }
    if (opts->cwd != NULL) {
        g_ptr_array_add(dirs, g_canonicalize_filename(opts->cwd, NULL));
        c->cwd = g_canonicalize_filename(opts->cwd, NULL);
    }
    g_autoptr(GPtrArray) bound = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < dirs->len; i++) {
        g_autofree char *d = realpath(dirs->pdata[i], NULL);
        if (d == NULL) {
            continue;           /* not there yet: the client makes it? */
        }
        gboolean covered = g_str_equal(d, "/");
        for (guint j = 0; j < bound->len; j++) {
            covered |= is_under(d, bound->pdata[j]);
        }
        if (covered) {
            continue;
        }
        g_auto(GStrv) parts = g_strsplit(d + 1, "/", -1);
        const char *top = parts[0];
        if (g_hash_table_contains(seen, top)
            && !g_str_equal(top, "tmp") && !g_str_equal(top, "run")
            && !g_str_equal(top, "dev")) {
            return pp_throw_code(error, PP_ERROR_USAGE,
                                 "from-firmware: %s cannot be mounted at its "
                                 "own path: the tree has /%s", d, top);
        }
        g_autoptr(GString) at = g_string_new(st);
        for (char **p = parts; *p != NULL; p++) {
            g_string_append_printf(at, "/%s", *p);
            ns_op(ops, NS_MKDIR, g_strdup(at->str), NULL);
        }
        ns_op(ops, NS_BIND, g_strdup(at->str), g_strdup(d));
        g_ptr_array_add(bound, g_steal_pointer(&d));
    }
    return TRUE;
}

static gboolean client_run(const PpClientOpts *opts, ChildSetup *cs,
                           const char *const *argv, PpClientResult *result,
                           GError **error);

static void
child_setup_clear(ChildSetup *c)
{
    if (c->stage != NULL) {
        (void)rmdir(c->stage);   /* the tmpfs went with the namespace */
    }
    g_clear_pointer(&c->stage, g_free);
    g_clear_pointer(&c->cwd, g_free);
    g_clear_pointer(&c->ops, g_array_unref);
}

gboolean
pp_client_run(const PpClientOpts *opts, const char *const *argv,
              PpClientResult *result, GError **error)
{
    ChildSetup cs = { 0 };
    cs.ops = g_array_new(FALSE, TRUE, sizeof(NsOp));
    g_array_set_clear_func(cs.ops, ns_op_clear);
    if (opts->firmware != NULL
        && (!opts->userns || !firmware_plan(opts, &cs, error))) {
        if (!opts->userns) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "a from-firmware client runs in a user namespace");
        }
        child_setup_clear(&cs);
        return FALSE;
    }
    gboolean ok = client_run(opts, &cs, argv, result, error);
    child_setup_clear(&cs);
    return ok;
}

static gboolean
client_run(const PpClientOpts *opts, ChildSetup *cs, const char *const *argv,
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
        cs->mapper = &mapper;
        g_subprocess_launcher_set_child_setup(l, child_setup, cs, NULL);
        mapper_thread = g_thread_new("pp-idmap", all_ids_mapper, &mapper);
    } else if (opts->userns && cs->stage != NULL) {
        /* As unshare -r does, but in the child: the mount namespace
           follows, before the exec of the client itself. */
        cs->setgroups_deny = 1;
        snprintf(cs->uid_line, sizeof cs->uid_line, "0 %lu 1\n",
                 (unsigned long)geteuid());
        snprintf(cs->gid_line, sizeof cs->gid_line, "0 %lu 1\n",
                 (unsigned long)getegid());
        g_subprocess_launcher_set_child_setup(l, child_setup, cs, NULL);
    } else if (opts->userns) {
        g_ptr_array_add(full, (char *)"unshare");
        g_ptr_array_add(full, (char *)"--user");
        g_ptr_array_add(full, (char *)"--map-root-user");
        g_ptr_array_add(full, (char *)"--");
    }
    if (preload != NULL && cs->stage != NULL) {
        /* No helper runs between the child setup and the client: the
           shim, at its namespace path, alone (the host's preload list
           names host libraries). */
        g_subprocess_launcher_setenv(l, "LD_PRELOAD", PP_CLIENT_FIRMWARE_SHIM,
                                     TRUE);
        g_subprocess_launcher_setenv(l, "CFAULTINJECT", opts->config, TRUE);
    } else if (preload != NULL) {
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
