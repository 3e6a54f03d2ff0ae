/* SPDX-License-Identifier: MIT */
/*
 * repro-firmware.c: see repro-firmware.h.
 */
#include "postmortem/repro-firmware.h"

#include <string.h>
#include <sys/stat.h>

#include <ostree.h>

#include "common/durable.h"
#include "common/error.h"
#include "common/util.h"
#include "server/firmware-repo.h"

void
pp_firmware_update_free(PpFirmwareUpdate *u)
{
    if (u == NULL) {
        return;
    }
    g_free(u->from_commit);
    g_free(u->deployment);
    g_free(u->os);
    g_free(u->to_ref);
    g_free(u->to_commit);
    g_free(u);
}

/* A deployment directory of the dump: COMMIT.N, COMMIT its checksum. */
typedef struct {
    char *commit;
    char *path;              /* relative to the sysroot */
    char *os;
} Deployed;

static void
deployed_free(Deployed *d)
{
    g_free(d->commit);
    g_free(d->path);
    g_free(d->os);
    g_free(d);
}

static int
cmp_strs(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_deployed(gconstpointer a, gconstpointer b)
{
    return strcmp((*(Deployed *const *)a)->path, (*(Deployed *const *)b)->path);
}

/* Names of dir's entries, sorted; an empty array when it cannot be read
   (a dump without that directory has none). */
static GPtrArray *
sorted_names(const char *dir)
{
    GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        g_ptr_array_add(v, g_strdup(n));
    }
    g_ptr_array_sort(v, cmp_strs);
    return v;
}

/* Every ostree/deploy/OS/deploy/COMMIT.N directory of the dump. */
static GPtrArray *
list_deployed(const char *sysroot)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(
        (GDestroyNotify)deployed_free);
    g_autofree char *top = g_build_filename(sysroot, "ostree", "deploy", NULL);
    g_autoptr(GPtrArray) oses = sorted_names(top);
    for (guint i = 0; i < oses->len; i++) {
        const char *os = oses->pdata[i];
        g_autofree char *dir = g_build_filename(top, os, "deploy", NULL);
        g_autoptr(GPtrArray) names = sorted_names(dir);
        for (guint k = 0; k < names->len; k++) {
            const char *n = names->pdata[k];
            const char *dot = strchr(n, '.');
            g_autofree char *commit = dot != NULL
                                      ? g_strndup(n, (gsize)(dot - n)) : NULL;
            g_autofree char *full = g_build_filename(dir, n, NULL);
            struct stat st;
            if (commit == NULL || !ostree_validate_checksum_string(commit, NULL)
                || strspn(dot + 1, "0123456789") != strlen(dot + 1)
                || dot[1] == '\0' || lstat(full, &st) < 0
                || !S_ISDIR(st.st_mode)) {
                continue;       /* COMMIT.N.origin and the like */
            }
            Deployed *d = g_new0(Deployed, 1);
            d->commit = g_steal_pointer(&commit);
            d->path = g_strdup_printf("ostree/deploy/%s/deploy/%s", os, n);
            d->os = g_strdup(os);
            g_ptr_array_add(out, d);
        }
    }
    g_ptr_array_sort(out, cmp_deployed);
    return out;
}

/* The commit's timestamp; FALSE when the repo does not have it. */
static gboolean
commit_time(OstreeRepo *repo, const char *commit, guint64 *out)
{
    g_autoptr(GVariant) v = NULL;
    if (!ostree_repo_load_variant_if_exists(repo, OSTREE_OBJECT_TYPE_COMMIT,
                                            commit, &v, NULL) || v == NULL) {
        return FALSE;
    }
    *out = ostree_commit_get_timestamp(v);
    return TRUE;
}

static gboolean
has_update(GPtrArray *updates, const char *from, const char *to)
{
    for (guint i = 0; i < updates->len; i++) {
        const PpFirmwareUpdate *u = updates->pdata[i];
        if (g_str_equal(u->from_commit, from)
            && g_str_equal(u->to_commit, to)) {
            return TRUE;
        }
    }
    return FALSE;
}

GPtrArray *
pp_repro_firmware_updates(const char *repo_path, const char *sysroot,
                          GPtrArray *notes, GError **error)
{
    g_autoptr(OstreeRepo) repo = NULL;
    if (!pp_firmware_repo_open(repo_path, &repo, error)) {
        return NULL;
    }
    g_autoptr(GHashTable) refs = NULL;
    if (!ostree_repo_list_refs(repo, NULL, &refs, NULL, error)) {
        g_prefix_error(error, "your firmware %s: listing its refs: ",
                       repo_path);
        return NULL;
    }
    g_autoptr(GPtrArray) ref_names = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, refs);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(ref_names, key);
    }
    g_ptr_array_sort(ref_names, cmp_strs);

    g_autoptr(GPtrArray) deployed = list_deployed(sysroot);
    if (deployed->len == 0) {
        pp_throw_code(error, PP_ERROR_USAGE, "the dump %s has no deployment "
                      "(no ostree/deploy/OS/deploy/COMMIT.N directory): no "
                      "version of your firmware to update from", sysroot);
        return NULL;
    }
    g_autoptr(GPtrArray) updates = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_firmware_update_free);
    g_autoptr(GString) in_repo = g_string_new(NULL);
    guint n_in_repo = 0;
    for (guint i = 0; i < deployed->len; i++) {
        const Deployed *d = deployed->pdata[i];
        guint64 t_from = 0;
        if (!commit_time(repo, d->commit, &t_from)) {
            g_ptr_array_add(notes, g_strdup_printf(
                                "deployed commit %s (%s) is not in your "
                                "firmware %s: not searched from", d->commit,
                                d->path, repo_path));
            continue;
        }
        n_in_repo++;
        g_string_append_printf(in_repo, "%s%.12s", in_repo->len > 0 ? ", " : "",
                               d->commit);
        for (guint k = 0; k < ref_names->len; k++) {
            const char *ref = ref_names->pdata[k];
            const char *to = g_hash_table_lookup(refs, ref);
            guint64 t_to = 0;
            if (g_str_equal(to, d->commit) || !commit_time(repo, to, &t_to)
                || t_to <= t_from || has_update(updates, d->commit, to)) {
                continue;
            }
            /* As sim --repo checks it: both commits have a kernel. */
            g_autoptr(PpFirmwareRepo) fw = NULL;
            if (!pp_firmware_repo_check(repo_path, d->commit, ref, d->os, &fw,
                                        error)) {
                return NULL;
            }
            PpFirmwareUpdate *u = g_new0(PpFirmwareUpdate, 1);
            u->from_commit = g_strdup(d->commit);
            u->deployment = g_strdup(d->path);
            u->os = g_strdup(d->os);
            u->to_ref = g_strdup(ref);
            u->to_commit = g_strdup(to);
            g_ptr_array_add(updates, u);
        }
    }
    if (n_in_repo == 0) {
        const Deployed *d = deployed->pdata[0];
        pp_throw_code(error, PP_ERROR_USAGE, "your firmware %s: the dump's "
                      "deployed commit%s %s (%s%s) %s not in it: the dump is "
                      "of another firmware", repo_path,
                      deployed->len > 1 ? "s" : "", d->commit, d->path,
                      deployed->len > 1 ? ", ..." : "",
                      deployed->len > 1 ? "are" : "is");
        return NULL;
    }
    if (updates->len == 0) {
        g_autofree char *names = NULL;
        g_ptr_array_add(ref_names, NULL);
        names = g_strjoinv(", ", (char **)ref_names->pdata);
        pp_throw_code(error, PP_ERROR_USAGE, "your firmware %s: no ref is "
                      "newer than the dump's deployed commit(s) %s (refs: %s): "
                      "nothing the device could have been updating to",
                      repo_path, in_repo->str, *names != '\0' ? names : "none");
        return NULL;
    }
    return g_steal_pointer(&updates);
}

/* The dump's repo config's [core] options, as [device] repo-config
   entries: what the device was set up with (fsync=false, say), less what
   every repo has (its version and mode, which the device's repo gets
   anyway). */
static char *
dump_repo_config(const char *sysroot)
{
    g_autofree char *path = g_build_filename(sysroot, "ostree", "repo",
                                             "config", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
        return NULL;
    }
    g_auto(GStrv) keys = g_key_file_get_keys(kf, "core", NULL, NULL);
    g_autoptr(GString) out = g_string_new(NULL);
    for (char **k = keys; k != NULL && *k != NULL; k++) {
        g_autofree char *v = g_key_file_get_value(kf, "core", *k, NULL);
        if (g_str_equal(*k, "repo_version") || g_str_equal(*k, "mode")
            || v == NULL || strchr(v, ';') != NULL) {
            continue;
        }
        g_string_append_printf(out, "%score.%s=%s", out->len > 0 ? ";" : "",
                               *k, v);
    }
    return out->len > 0 ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

gboolean
pp_repro_firmware_write(GPtrArray *updates, const char *repo,
                        const char *sysroot, const char *backend,
                        const char *dir, GPtrArray *files, GError **error)
{
    if (!pp_mkdir_p(dir, error)) {
        return FALSE;
    }
    g_autofree char *config = dump_repo_config(sysroot);
    const char *both[] = { "uboot", "bls", NULL };
    const char *one[] = { backend, NULL };
    const char *const *loaders = g_str_equal(backend, "uboot")
                                 || g_str_equal(backend, "bls") ? one : both;
    guint n = 0;
    for (guint i = 0; i < updates->len; i++) {
        const PpFirmwareUpdate *u = updates->pdata[i];
        for (const char *const *b = loaders; *b != NULL; b++) {
            g_autoptr(GKeyFile) kf = g_key_file_new();
            g_autofree char *name = g_strdup_printf("firmware-%.12s-to-%s-%s",
                                                    u->from_commit, u->to_ref,
                                                    *b);
            g_strdelimit(name, "/:", '-');
            g_autofree char *desc = g_strdup_printf(
                "reproduce --repo: the update of %s from the dump's %s to "
                "%s (%.12s)", repo, u->deployment, u->to_ref, u->to_commit);
            g_key_file_set_string(kf, "scenario", "name", name);
            g_key_file_set_string(kf, "scenario", "description", desc);
            g_key_file_set_string(kf, "firmware", "repo", repo);
            g_key_file_set_string(kf, "firmware", "from", u->from_commit);
            g_key_file_set_string(kf, "firmware", "to", u->to_ref);
            g_key_file_set_string(kf, "firmware", "os", u->os);
            g_key_file_set_string(kf, "device", "bootloader", *b);
            if (config != NULL) {
                g_key_file_set_string(kf, "device", "repo-config", config);
            }
            gsize len = 0;
            g_autofree char *text = g_key_file_to_data(kf, &len, NULL);
            g_autofree char *path = g_strdup_printf("%s/update-%02u.conf", dir,
                                                    ++n);
            if (!pp_write_file_durable(path, text, (gssize)len, error)) {
                return FALSE;
            }
            g_ptr_array_add(files, g_steal_pointer(&path));
        }
    }
    return TRUE;
}
