/* SPDX-License-Identifier: MIT */
/*
 * util.c: see util.h.
 */
#include "common/util.h"
#include "common/durable.h"
#include "common/error.h"

#include "splitmix64.h"

#include <errno.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

gboolean
pp_mkdir_p(const char *path, GError **error)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        return TRUE;
    }
    g_autofree char *parent = g_path_get_dirname(path);
    if (strcmp(parent, path) != 0 && !pp_mkdir_p(parent, error)) {
        return FALSE;
    }
    if (mkdir(path, 0755) < 0
        && !(errno == EEXIST && g_file_test(path, G_FILE_TEST_IS_DIR))) {
        pp_throw_errno_prefix(error, "mkdir(%s)", path);
        return FALSE;
    }
    /* The new entry is durable only once its parent is fsynced (also when
       another thread made it first: it may not have fsynced yet). */
    return pp_fsync_dir(parent, error);
}

gboolean
pp_out_dir_prepare(const char *out, GError **error)
{
    if (g_file_test(out, G_FILE_TEST_EXISTS)) {
        g_autoptr(GDir) d = g_dir_open(out, 0, error);
        if (d == NULL) {
            return FALSE;
        }
        if (g_dir_read_name(d) != NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "%s is not empty: results are never overwritten "
                        "(choose a new --out or remove it)", out);
            return FALSE;
        }
    }
    return pp_mkdir_p(out, error);
}

char *
pp_ostree_version(const char *ostree)
{
    const char *argv[] = { ostree, "--version", NULL };
    g_autofree char *out = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                      NULL, &out, NULL, NULL, NULL) || out == NULL) {
        return g_strdup("unknown");
    }
    /* "libostree:\n Version: '2022.7'\n ..." */
    const char *v = strstr(out, "Version: ");
    if (v == NULL) {
        return g_strdup("unknown");
    }
    v += strlen("Version: ");
    g_autofree char *raw = g_strndup(v, strcspn(v, "\n"));
    return g_strdup(g_strstrip(g_strdelimit(raw, "'", ' ')));
}

gboolean
pp_spawn_wait(const char *const *argv, GSubprocessFlags flags, int *out_status,
              GError **error)
{
    g_autoptr(GSubprocess) proc = g_subprocess_newv(argv, flags, error);
    if (proc == NULL) {
        g_prefix_error(error, "running %s: ", argv[0]);
        return FALSE;
    }
    if (!g_subprocess_wait(proc, NULL, error)) {
        g_prefix_error(error, "waiting for %s: ", argv[0]);
        return FALSE;
    }
    if (!g_subprocess_get_if_exited(proc)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s killed by signal %d", argv[0],
                    g_subprocess_get_term_sig(proc));
        return FALSE;
    }
    *out_status = g_subprocess_get_exit_status(proc);
    return TRUE;
}

/* Where `make install` puts the data directories and the shim (the
   Makefile defines both from PREFIX; these are its defaults). */
#ifndef PP_INSTALL_PKGDATADIR
#define PP_INSTALL_PKGDATADIR "/usr/local/share/plugpull"
#endif
#ifndef PP_INSTALL_PKGLIBDIR
#define PP_INSTALL_PKGLIBDIR "/usr/local/lib/plugpull"
#endif

/* The directory of the running binary (build/ in the build tree). */
static char *
exe_dir(GError **error)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", error);
    if (exe == NULL) {
        g_prefix_error(error, "readlink /proc/self/exe: ");
        return NULL;
    }
    return g_path_get_dirname(exe);
}

char *
pp_data_dir(const char *env_var, const char *name, GError **error)
{
    const char *env = g_getenv(env_var);
    if (env != NULL && *env != '\0') {
        return g_strdup(env);
    }
    g_autofree char *bindir = exe_dir(error);
    if (bindir == NULL) {
        return NULL;
    }
    g_autofree char *tree = g_build_filename(bindir, "..", name, NULL);
    if (g_file_test(tree, G_FILE_TEST_IS_DIR)) {
        return g_steal_pointer(&tree);
    }
    return g_build_filename(PP_INSTALL_PKGDATADIR, name, NULL);
}

char *
pp_lib_file(const char *name)
{
    g_autofree char *bindir = exe_dir(NULL);
    if (bindir != NULL) {
        g_autofree char *tree = g_build_filename(bindir, name, NULL);
        if (g_file_test(tree, G_FILE_TEST_EXISTS)) {
            return g_steal_pointer(&tree);
        }
    }
    return g_build_filename(PP_INSTALL_PKGLIBDIR, name, NULL);
}

gboolean
pp_in_build_tree(void)
{
    g_autofree char *bindir = exe_dir(NULL);
    if (bindir == NULL) {
        return FALSE;
    }
    g_autofree char *images = g_build_filename(bindir, "..", "images", NULL);
    return g_file_test(images, G_FILE_TEST_IS_DIR);
}

char *
pp_cache_dir(const char *name)
{
    if (pp_in_build_tree()) {
        g_autofree char *bindir = exe_dir(NULL);
        return g_build_filename(bindir, name, NULL);
    }
    return g_build_filename(g_get_user_cache_dir(), "plugpull", name, NULL);
}

void
pp_close_fd_p(int *fd)
{
    if (*fd >= 0) {
        int errsv = errno;
        close(*fd);
        errno = errsv;
    }
}

/* "90s", "15m", "2h", "1h30m", or plain seconds; FALSE when malformed. */
gboolean
pp_parse_duration(const char *s, gint64 *out_s)
{
    gint64 total = 0;
    const char *p = s;
    if (*p == '\0') {
        return FALSE;
    }
    while (*p != '\0') {
        char *end = NULL;
        guint64 v = g_ascii_strtoull(p, &end, 10);
        if (end == p) {
            return FALSE;
        }
        gint64 unit = 1;
        if (*end == 'h') {
            unit = 3600;
            end++;
        } else if (*end == 'm') {
            unit = 60;
            end++;
        } else if (*end == 's') {
            end++;
        } else if (*end != '\0') {
            return FALSE;
        }
        if (v > G_MAXINT32) {
            return FALSE;
        }
        total += (gint64)v * unit;
        p = end;
    }
    *out_s = total;
    return total > 0;
}

guint64
pp_splitmix64(guint64 *state)
{
    uint64_t s = *state;
    guint64 z = cfi_splitmix64(&s);
    *state = s;
    return z;
}

char *
pp_file_sha256(const char *path, GError **error)
{
    g_autoptr(GMappedFile) m = g_mapped_file_new(path, FALSE, error);
    if (m == NULL) {
        g_prefix_error(error, "mmap %s: ", path);
        return NULL;
    }
    return g_compute_checksum_for_data(
        G_CHECKSUM_SHA256, (const guchar *)g_mapped_file_get_contents(m),
        g_mapped_file_get_length(m));
}
