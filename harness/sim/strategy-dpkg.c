/* SPDX-License-Identifier: MIT */
/*
 * strategy-dpkg.c: the `dpkg` strategy's device (see strategy.h).
 */
#include "sim/strategy.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/util.h"
#include "oracle/dpkg-judge.h"

/* Run a set-up tool; its stderr in the error when it fails. */
static gboolean
tool(const char *const *argv, GError **error)
{
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
              | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
    g_autofree char *err = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, error)) {
        g_prefix_error(error, "running %s: ", argv[0]);
        return FALSE;
    }
    if (!g_subprocess_get_successful(p)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s",
                    argv[0], err != NULL ? g_strchomp(err) : "");
        return FALSE;
    }
    return TRUE;
}

/*
 * A checkout of rev as a root dpkg manages: the Debian firmware build
 * moves dpkg's database to /usr/share/dpkg/database and /etc to /usr/etc
 * (an OSTree tree keeps /var and /etc apart); a package-managed device
 * has them where dpkg looks.  A copy, never hard links into the user's
 * repo (dpkg rewrites files in place).
 */
static gboolean
checkout_root(const char *repo, const char *rev, const char *dir,
              GError **error)
{
    g_autofree char *repo_opt = g_strconcat("--repo=", repo, NULL);
    const char *co[] = { "ostree", repo_opt, "checkout", "-U", "--force-copy",
                         rev, dir, NULL };
    if (!tool(co, error)) {
        g_prefix_error(error, "checking out %s: ", rev);
        return FALSE;
    }
    g_autofree char *db = g_build_filename(dir, "usr/share/dpkg/database",
                                           NULL);
    g_autofree char *varlib = g_build_filename(dir, "var/lib", NULL);
    g_autofree char *vardb = g_build_filename(dir, "var/lib/dpkg", NULL);
    g_autofree char *usretc = g_build_filename(dir, "usr/etc", NULL);
    g_autofree char *etc = g_build_filename(dir, "etc", NULL);
    g_autofree char *log = g_build_filename(dir, "var/log", NULL);
    if (!pp_mkdir_p(varlib, error) || !pp_mkdir_p(log, error)) {
        return FALSE;
    }
    if (g_file_test(db, G_FILE_TEST_IS_DIR)
        && !g_file_test(vardb, G_FILE_TEST_EXISTS)
        && rename(db, vardb) != 0) {
        return pp_throw_errno_prefix(error, "moving dpkg's database: rename(%s)", db);
    }
    if (g_file_test(usretc, G_FILE_TEST_IS_DIR)
        && !g_file_test(etc, G_FILE_TEST_EXISTS)
        && rename(usretc, etc) != 0) {
        return pp_throw_errno_prefix(error, "moving /etc: rename(%s)", usretc);
    }
    return TRUE;
}

/* The .deb of "name version" in debs (apt's file name: name_version_arch,
 * the epoch's colon written %3a). */
static char *
find_deb(const char *debs, const char *entry, GError **error)
{
    g_auto(GStrv) nv = g_strsplit(entry, " ", 2);
    g_autofree char *ver = g_strdup(nv[1] != NULL ? nv[1] : "");
    g_auto(GStrv) parts = g_strsplit(ver, ":", -1);
    g_autofree char *fver = g_strjoinv("%3a", parts);
    g_autofree char *prefix = g_strdup_printf("%s_%s_", nv[0], fver);
    g_autoptr(GDir) dir = g_dir_open(debs, 0, error);
    if (dir == NULL) {
        g_prefix_error(error, "the packages of the firmware: ");
        return NULL;
    }
    const char *n;
    while ((n = g_dir_read_name(dir)) != NULL) {
        if (g_str_has_prefix(n, prefix) && g_str_has_suffix(n, ".deb")) {
            return g_build_filename(debs, n, NULL);
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "no %s*.deb in %s for %s", prefix, debs, entry);
    return NULL;
}

static gboolean
in_set(char **set, const char *entry)
{
    return g_strv_contains((const char *const *)set, entry);
}

static char *
package_of(const char *entry)
{
    return g_strndup(entry, strcspn(entry, " "));
}

/* The apt cache beside a Debian-built firmware's repo. */
static char *
cache_of(const char *repo)
{
    g_autofree char *repo_dir = g_path_get_dirname(repo);
    return g_build_filename(repo_dir, "apt-cache", NULL);
}

gboolean
pp_dpkg_update_debs(const char *repo, char **have, char **want,
                    GPtrArray *out, GError **error)
{
    g_autofree char *cache = cache_of(repo);
    for (char **e = want; *e != NULL; e++) {
        if (in_set(have, *e)) {
            continue;
        }
        char *deb = find_deb(cache, *e, error);
        if (deb == NULL) {
            return FALSE;
        }
        g_ptr_array_add(out, deb);
    }
    return TRUE;
}

gboolean
pp_dpkg_package_set(const char *repo, const char *rev, const char *dir,
                    char ***out, GError **error)
{
    g_autofree char *db = g_build_filename(dir, "var/lib/dpkg", NULL);
    g_autofree char *parent = g_path_get_dirname(db);
    g_autofree char *repo_opt = g_strconcat("--repo=", repo, NULL);
    const char *co[] = { "ostree", repo_opt, "checkout", "-U",
                         "--subpath=/usr/share/dpkg/database", rev, db,
                         NULL };
    if (!pp_mkdir_p(parent, error) || !tool(co, error)) {
        g_prefix_error(error, "dpkg's database of %s: ", rev);
        return FALSE;
    }
    g_autoptr(GHashTable) pkgs = pp_dpkg_db_read(dir, error);
    if (pkgs == NULL) {
        g_prefix_error(error, "dpkg's database of %s: ", rev);
        return FALSE;
    }
    *out = pp_dpkg_installed_set(pkgs);
    return pp_rm_rf(dir, error);
}

GPtrArray *
pp_dpkg_command(const char *work, const char *root, const char *action)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *root_opt = g_strconcat("--root=", root, NULL);
    g_autofree char *log_opt = g_strconcat("--log=", root,
                                           "/var/log/dpkg.log", NULL);
    /*
     * As root on the host: maintainer scripts run outside the device
     * (--force-script-chrootless: dpkg gives them DPKG_ROOT, which
     * update-alternatives and dpkg's helpers honour), so they run under
     * the shim and their writes are traced; a mount namespace with the
     * host's /etc, /usr, /var, /opt, /root and /home read only keeps a
     * script that ignores DPKG_ROOT off the host.  work (the device and
     * the trace every traced process opens) is bound first, so the
     * recursive binds carry it as a writable submount.  (A read-only
     * remount of / itself fails here: "mount point is busy".)  dpkg
     * reads its configuration from the host's /etc/dpkg even with
     * --root: the device's is bound there, so its path-exclude filters
     * hold and the host's (a container's force-unsafe-io, say) do not.
     */
    const char *head[] = {
        "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
        "mount --bind \"$1\" \"$1\" && "
        "mount --bind \"$2\"/etc/dpkg /etc/dpkg || exit; "
        "for d in /etc /usr /var /opt /root /home; do [ ! -d \"$d\" ] || "
        "{ mount --rbind \"$d\" \"$d\" && mount -o remount,bind,ro \"$d\"; "
        "} || exit; done; shift 2 && exec \"$@\"",
        "dpkg-update", work, root, "env",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "dpkg", root_opt, log_opt,
        "--force-script-chrootless", action, NULL };
    for (guint i = 0; head[i] != NULL; i++) {
        g_ptr_array_add(argv, g_strdup(head[i]));
    }
    return argv;
}

gboolean
pp_dpkg_setup(const PpScenario *sc, const char *work, PpSlotSetup *out,
              GError **error)
{
    memset(out, 0, sizeof *out);
    out->dev.strategy = PP_STRATEGY_DPKG;
    out->dev.from_version = 1;
    out->dev.to_version = 2;
    out->root = g_build_filename(work, "device", NULL);
    g_autofree char *to_tree = g_build_filename(work, "to-tree", NULL);
    if (!pp_mkdir_p(work, error)
        || !checkout_root(sc->repo, sc->from_rev, out->root, error)
        || !checkout_root(sc->repo, sc->to_rev, to_tree, error)) {
        return FALSE;
    }
    g_autoptr(GHashTable) from = pp_dpkg_db_read(out->root, error);
    g_autoptr(GHashTable) to = from != NULL
                               ? pp_dpkg_db_read(to_tree, error) : NULL;
    if (to == NULL) {
        g_prefix_error(error, "the firmware's package database: ");
        return FALSE;
    }
    out->dev.pkgs_from = pp_dpkg_installed_set(from);
    out->dev.pkgs_to = pp_dpkg_installed_set(to);
    if (!pp_rm_rf(to_tree, error)) {
        return FALSE;
    }
    g_autofree char *init = g_build_filename(out->root, "sbin/init", NULL);
    if (g_file_test(init, G_FILE_TEST_EXISTS)) {
        out->dev.init = g_strdup("/sbin/init");
    }

    /* The update: the packages the new set adds or changes, as apt
       would hand them to dpkg; a package removed is not supported. */
    g_autofree char *debs = g_build_filename(work, "debs", NULL);
    if (!pp_mkdir_p(debs, error)) {
        return FALSE;
    }
    for (char **e = out->dev.pkgs_from; *e != NULL; e++) {
        g_autofree char *name = package_of(*e);
        if (!g_hash_table_contains(to, name)
            || !pp_dpkg_pkg_installed(g_hash_table_lookup(to, name))) {
            return pp_throw_code(error, PP_ERROR_USAGE,
                                 "[update] strategy = dpkg: %s removes "
                                 "package %s; only adding and upgrading "
                                 "packages is supported", sc->to_rev, name);
        }
    }
    g_autoptr(GPtrArray) argv = pp_dpkg_command(work, out->root, "-i");
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
    if (!pp_dpkg_update_debs(sc->repo, out->dev.pkgs_from, out->dev.pkgs_to,
                             found, error)) {
        return FALSE;
    }
    for (guint i = 0; i < found->len; i++) {
        g_autofree char *base = g_path_get_basename(found->pdata[i]);
        char *copy = g_build_filename(debs, base, NULL);
        const char *cp[] = { "cp", "--", found->pdata[i], copy, NULL };
        if (!tool(cp, error)) {
            g_free(copy);
            return FALSE;
        }
        g_ptr_array_add(argv, copy);
    }
    if (found->len == 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "[update] strategy = dpkg: %s and %s have the "
                             "same packages: nothing to update", sc->from_rev,
                             sc->to_rev);
    }
    g_ptr_array_add(argv, NULL);
    out->argv = (char **)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
    return TRUE;
}

void
pp_dpkg_phases_classify(CfiTrace *trace, const char *root, PpPhases *out)
{
    memset(out, 0, sizeof *out);
    guint n = cfi_trace_n_records(trace);
    gsize rl = strlen(root);
    g_autofree char *status = g_strconcat(root, "/var/lib/dpkg/status",
                                          NULL);
    gint first = -1, commit = -1, configure = -1;
    for (guint i = 0; i < n; i++) {
        const CfiRecord *r = cfi_trace_get(trace, i);
        const char *p = r->path;
        if (r->rec->result < 0 || p == NULL || strncmp(p, root, rl) != 0
            || p[rl] != '/') {
            continue;
        }
        first = first < 0 ? (gint)i : first;
        /* Configuring begins after the unpack's last step, the last
           rename of a .dpkg-new file into place. */
        if (strstr(p, ".dpkg-new") != NULL) {
            configure = (gint)i + 1;
        }
        if (g_str_equal(p, status)) {
            commit = (gint)i;     /* the status file's last replacement */
        }
    }
    pp_phases_from_bounds(out, n, first, configure, commit);
}
