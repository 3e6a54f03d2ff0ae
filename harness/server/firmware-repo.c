/* SPDX-License-Identifier: MIT */
/*
 * firmware-repo.c: see firmware-repo.h.
 */
#include "server/firmware-repo.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostree.h>

#include "common/error.h"

void
pp_firmware_repo_free(PpFirmwareRepo *fw)
{
    if (fw == NULL) {
        return;
    }
    g_free(fw->repo);
    g_free(fw->mode);
    g_free(fw->from_rev);
    g_free(fw->to_rev);
    g_free(fw->from_commit);
    g_free(fw->to_commit);
    g_free(fw->branch);
    g_free(fw->osname);
    g_free(fw->before_commit);
    g_free(fw);
}

/* A usage error naming the user's repo. */
static gboolean G_GNUC_PRINTF(3, 4)
throw_fw(GError **error, const char *repo, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return pp_throw_code(error, PP_ERROR_USAGE, "your firmware %s: %s", repo,
                         msg);
}

/* TRUE when dir (a directory of the commit) has a child whose name is
   `name`, or starts with `prefix` when prefix is not NULL. */
static gboolean
has_child(GFile *dir, const char *name, const char *prefix)
{
    if (name != NULL) {
        g_autoptr(GFile) f = g_file_get_child(dir, name);
        return g_file_query_file_type(f, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                      NULL) == G_FILE_TYPE_REGULAR;
    }
    g_autoptr(GFileEnumerator) en = g_file_enumerate_children(
        dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    GFileInfo *info = NULL;
    while (en != NULL
           && g_file_enumerator_iterate(en, &info, NULL, NULL, NULL)
           && info != NULL) {
        if (g_str_has_prefix(g_file_info_get_name(info), prefix)) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Where ostree's deploy looks for a kernel (ostree-sysroot-deploy.c):
   usr/lib/modules/KVER/vmlinuz, then usr/lib/ostree-boot or boot with a
   vmlinuz-*. */
static gboolean
commit_has_kernel(GFile *root)
{
    g_autoptr(GFile) modules = g_file_resolve_relative_path(root,
                                                            "usr/lib/modules");
    g_autoptr(GFileEnumerator) en = g_file_enumerate_children(
        modules, G_FILE_ATTRIBUTE_STANDARD_NAME,
        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    GFileInfo *info = NULL;
    GFile *child = NULL;
    while (en != NULL
           && g_file_enumerator_iterate(en, &info, &child, NULL, NULL)
           && info != NULL) {
        if (has_child(child, "vmlinuz", NULL)) {
            return TRUE;
        }
    }
    const char *const others[] = { "usr/lib/ostree-boot", "boot", NULL };
    for (const char *const *o = others; *o != NULL; o++) {
        g_autoptr(GFile) dir = g_file_resolve_relative_path(root, *o);
        if (has_child(dir, NULL, "vmlinuz-")) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Resolve rev (what `which` says it is) to a commit present in repo,
   with a kernel; its metadata into *out_meta. */
static gboolean
resolve_commit(OstreeRepo *repo, const char *path, const char *which,
               const char *rev, char **out_commit, GVariant **out_meta,
               GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *commit = NULL;
    if (!ostree_repo_resolve_rev(repo, rev, FALSE, &commit, &local)) {
        return throw_fw(error, path, "%s '%s': no such ref or commit (%s)",
                        which, rev, local->message);
    }
    g_autoptr(GVariant) cv = NULL;
    if (!ostree_repo_load_commit(repo, commit, &cv, NULL, &local)) {
        return throw_fw(error, path, "%s '%s': commit %s is not in the repo "
                        "(%s)", which, rev, commit, local->message);
    }
    g_autoptr(GFile) root = NULL;
    if (!ostree_repo_read_commit(repo, commit, &root, NULL, NULL, &local)) {
        return throw_fw(error, path, "%s '%s': reading commit %s: %s", which,
                        rev, commit, local->message);
    }
    if (!commit_has_kernel(root)) {
        return throw_fw(error, path, "%s '%s' (commit %.12s) has no kernel: "
                        "no usr/lib/modules/*/vmlinuz and no vmlinuz-* in "
                        "usr/lib/ostree-boot or boot; ostree admin deploy "
                        "needs one", which, rev, commit);
    }
    *out_meta = g_variant_get_child_value(cv, 0);
    *out_commit = g_steal_pointer(&commit);
    return TRUE;
}

/* A rev that is a ref (not a checksum, not REF^): itself, else NULL. */
static const char *
rev_as_ref(const char *rev)
{
    if (ostree_validate_checksum_string(rev, NULL)
        || strchr(rev, '^') != NULL || !ostree_validate_rev(rev, NULL)) {
        return NULL;
    }
    /* remote:ref names a ref of a remote; the mirror serves it plain. */
    const char *colon = strchr(rev, ':');
    return colon != NULL ? colon + 1 : rev;
}

gboolean
pp_firmware_repo_open(const char *path, OstreeRepo **out, GError **error)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int errsv = errno;
        return throw_fw(error, path, "%s (stat: %s)",
                        errsv == ENOENT ? "missing" : "unreadable",
                        g_strerror(errsv));
    }
    if (!S_ISDIR(st.st_mode)) {
        return throw_fw(error, path, "not a directory");
    }
    if (access(path, R_OK | X_OK) < 0) {
        int errsv = errno;
        return throw_fw(error, path, "unreadable (access: %s)",
                        g_strerror(errsv));
    }
    g_autoptr(GFile) file = g_file_new_for_path(path);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(file);
    g_autoptr(GError) local = NULL;
    if (!ostree_repo_open(repo, NULL, &local)) {
        return throw_fw(error, path, "not an OSTree repo ostree can "
                        "open: %s", local->message);
    }
    *out = g_steal_pointer(&repo);
    return TRUE;
}

static guint64
commit_timestamp(OstreeRepo *repo, const char *commit)
{
    g_autoptr(GVariant) cv = NULL;
    if (!ostree_repo_load_commit(repo, commit, &cv, NULL, NULL)) {
        return 0;
    }
    return ostree_commit_get_timestamp(cv);
}

gboolean
pp_firmware_repo_check(const char *repo_path, const char *from_rev,
                       const char *to_rev, const char *os,
                       PpFirmwareRepo **out, GError **error)
{
    g_autoptr(PpFirmwareRepo) fw = g_new0(PpFirmwareRepo, 1);
    fw->repo = g_canonicalize_filename(repo_path, NULL);
    fw->from_rev = g_strdup(from_rev);
    fw->to_rev = g_strdup(to_rev);
    g_autoptr(OstreeRepo) repo = NULL;
    if (!pp_firmware_repo_open(fw->repo, &repo, error)) {
        return FALSE;
    }
    fw->mode = g_strdup(ostree_repo_get_mode(repo) == OSTREE_REPO_MODE_ARCHIVE
                        ? "archive" : ostree_repo_get_mode(repo)
                        == OSTREE_REPO_MODE_BARE_USER ? "bare-user"
                        : ostree_repo_get_mode(repo) == OSTREE_REPO_MODE_BARE
                        ? "bare" : "other");
    g_autoptr(GVariant) from_meta = NULL, to_meta = NULL;
    if (!resolve_commit(repo, fw->repo, "from", from_rev, &fw->from_commit,
                        &from_meta, error)
        || !resolve_commit(repo, fw->repo, "to", to_rev, &fw->to_commit,
                           &to_meta, error)) {
        return FALSE;
    }
    fw->latest = MAX(commit_timestamp(repo, fw->from_commit),
                     commit_timestamp(repo, fw->to_commit));
    if (g_str_equal(fw->from_commit, fw->to_commit)) {
        return throw_fw(error, fw->repo, "from '%s' and to '%s' are the same "
                        "commit %s: nothing to update", from_rev, to_rev,
                        fw->from_commit);
    }
    const char *meta_os = NULL;
    if (os != NULL) {
        fw->osname = g_strdup(os);
    } else if (g_variant_lookup(from_meta, "ostree.osname", "&s", &meta_os)
               && *meta_os != '\0' && strchr(meta_os, '/') == NULL) {
        fw->osname = g_strdup(meta_os);
    } else {
        fw->osname = g_strdup(PP_FIXTURE_OSNAME);
    }
    g_autofree const char **bindings = NULL;
    if (g_variant_lookup(to_meta, OSTREE_COMMIT_META_KEY_REF_BINDING, "^a&s",
                         &bindings) && bindings[0] != NULL) {
        fw->branch = g_strdup(bindings[0]);
    } else if (rev_as_ref(to_rev) != NULL) {
        fw->branch = g_strdup(rev_as_ref(to_rev));
    } else {
        fw->branch = g_strdup(PP_FIXTURE_REF);
    }
    *out = g_steal_pointer(&fw);
    return TRUE;
}

gboolean
pp_firmware_repo_check_history(PpFirmwareRepo *fw, const char *const *history,
                               GError **error)
{
    guint n = history != NULL ? g_strv_length((char **)history) : 0;
    if (n == 0) {
        return TRUE;
    }
    g_autoptr(GFile) file = g_file_new_for_path(fw->repo);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(file);
    if (!ostree_repo_open(repo, NULL, error)) {
        return FALSE;
    }
    g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++) {
        g_autofree char *commit = NULL;
        g_autoptr(GVariant) meta = NULL;
        if (!resolve_commit(repo, fw->repo, "history", history[i], &commit,
                            &meta, error)) {
            return FALSE;
        }
        if (g_str_equal(commit, fw->from_commit)) {
            if (i + 1 == n) {
                break;          /* the list may end at from */
            }
            return throw_fw(error, fw->repo, "history '%s' is from's commit "
                            "%.12s: from may only end the history",
                            history[i], commit);
        }
        for (guint k = 0; k < before->len; k++) {
            if (g_str_equal(before->pdata[k], commit)) {
                return throw_fw(error, fw->repo, "history '%s': commit %.12s "
                                "is given twice", history[i], commit);
            }
        }
        g_ptr_array_add(before, g_steal_pointer(&commit));
    }
    if (before->len > 1) {
        return throw_fw(error, fw->repo, "history: %u versions before from; "
                        "with your firmware at most one (the mirror serves "
                        "three commits: the one before from, from and to)",
                        before->len);
    }
    if (before->len == 1) {
        fw->before_commit = g_strdup(before->pdata[0]);
        fw->back = g_str_equal(fw->before_commit, fw->to_commit);
        fw->latest = MAX(fw->latest, commit_timestamp(repo, fw->before_commit));
    }
    return TRUE;
}

void
pp_firmware_repo_versions(const PpFirmwareRepo *fw, guint *from_version,
                          guint *to_version, guint *history, guint *n_history)
{
    if (fw->before_commit == NULL) {
        *from_version = 1;
        *to_version = 2;
        *n_history = 0;
        return;
    }
    *from_version = 2;
    *to_version = fw->back ? 1 : 3;
    history[0] = 1;
    history[1] = 2;
    *n_history = 2;
}

gboolean
pp_firmware_repo_mirror(const PpFirmwareRepo *fw, const char *dir,
                        PpFixture **out, GError **error)
{
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", dir);
    }
    g_autoptr(PpFixture) fx = g_new0(PpFixture, 1);
    fx->dir = g_canonicalize_filename(dir, NULL);
    fx->srv_dir = g_build_filename(fx->dir, "srv", NULL);
    fx->srv_repo = g_build_filename(fx->srv_dir, "repo", NULL);
    fx->sysroot = g_build_filename(fx->dir, "sysroot", NULL);
    fx->osname = g_strdup(fw->osname);
    fx->ref = g_strdup(fw->branch);
    if (fw->before_commit != NULL) {
        fx->commits[0] = g_strdup(fw->before_commit);
        fx->commits[1] = g_strdup(fw->from_commit);
        fx->commits[2] = fw->back ? NULL : g_strdup(fw->to_commit);
    } else {
        fx->commits[0] = g_strdup(fw->from_commit);
        fx->commits[1] = g_strdup(fw->to_commit);
    }
    /* A commit published again (going back) must be newer than every
     * commit the device had: ostree refuses to upgrade to an older one. */
    g_autoptr(GDateTime) later = g_date_time_new_from_unix_utc(
        (gint64)fw->latest + 3600);
    fx->again_timestamp = g_date_time_format(later, "%Y-%m-%d %H:%M:%S +0000");
    fx->published = 1;
    if (mkdir(fx->srv_dir, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", fx->srv_dir);
    }
    /* The mirror takes exactly the two commits (no parents; three with a
     * history): the known trees are those, and a pull by checksum reads
     * nothing else.  The branch starts at the oldest, the device's
     * first version. */
    g_autofree char *repo_opt = g_strconcat("--repo=", fx->srv_repo, NULL);
    g_autofree char *create = g_strconcat("--create=", fx->ref, NULL);
    const char *init[] = { "init", repo_opt, "--mode=archive", NULL };
    const char *pull[] = { "pull-local", repo_opt, fw->repo, fw->from_commit,
                           fw->to_commit, fw->before_commit, NULL };
    const char *ref[] = { "refs", repo_opt, create, fx->commits[0], NULL };
    const char *summary[] = { "summary", repo_opt, "-u", NULL };
    const char *const *steps[] = { init, pull, ref, summary, NULL };
    for (const char *const *const *s = steps; *s != NULL; s++) {
        if (!pp_fixture_ostree_host(*s, NULL, error)) {
            g_prefix_error(error, "mirroring %s into %s: ", fw->repo,
                           fx->srv_repo);
            return FALSE;
        }
    }
    *out = g_steal_pointer(&fx);
    return TRUE;
}

gboolean
pp_firmware_repo_checkout_trees(PpFixture *fx, GError **error)
{
    g_autofree char *repo_opt = g_strconcat("--repo=", fx->srv_repo, NULL);
    for (guint v = 0; v < PP_FIXTURE_N_VERSIONS; v++) {
        if (fx->commits[v] == NULL || fx->trees[v] != NULL) {
            continue;
        }
        g_autofree char *name = g_strdup_printf("v%u", v + 1);
        g_autofree char *dir = g_build_filename(fx->dir, "trees", name, NULL);
        g_autofree char *parent = g_path_get_dirname(dir);
        if (g_mkdir_with_parents(parent, 0755) < 0) {
            return pp_throw_errno_prefix(error, "mkdir(%s)", parent);
        }
        const char *co[] = { "checkout", repo_opt, fx->commits[v], dir,
                             NULL };
        if (!pp_fixture_ostree_host(co, NULL, error)) {
            g_prefix_error(error, "checking out v%u (%.12s) for its image: ",
                           v + 1, fx->commits[v]);
            return FALSE;
        }
        fx->trees[v] = g_steal_pointer(&dir);
    }
    return TRUE;
}
