/* SPDX-License-Identifier: MIT */
/*
 * known-trees.c: see known-trees.h.
 */
#include "oracle/known-trees.h"

#include <string.h>

/* What OstreeRepoFile answers cheaply (libostree's private
 * OSTREE_GIO_FAST_QUERYINFO). */
#define PP_TREE_QUERYINFO "standard::name,standard::type,standard::size," \
    "standard::is-symlink,standard::symlink-target,unix::mode,unix::uid,unix::gid"

struct _PpKnownTrees {
    GPtrArray *commits;         /* PpKnownCommit *, in the order added */
    GHashTable *by_checksum;    /* checksum -> PpKnownCommit * (borrowed) */
};

static void
tree_entry_free(PpTreeEntry *e)
{
    g_free(e->path);
    g_free(e->checksum);
    g_free(e->target);
    g_free(e);
}

static void
known_commit_free(PpKnownCommit *kc)
{
    g_free(kc->checksum);
    g_free(kc->version);
    g_free(kc->subject);
    g_free(kc->kver);
    g_free(kc->bootcsum);
    g_free(kc->bootcsum_note);
    g_clear_pointer(&kc->entries, g_ptr_array_unref);
    g_clear_pointer(&kc->by_path, g_hash_table_unref);
    g_clear_pointer(&kc->objects, g_array_unref);
    g_free(kc);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpKnownCommit, known_commit_free)

PpKnownTrees *
pp_known_trees_new(void)
{
    PpKnownTrees *kt = g_new0(PpKnownTrees, 1);
    kt->commits = g_ptr_array_new_with_free_func((GDestroyNotify)known_commit_free);
    kt->by_checksum = g_hash_table_new(g_str_hash, g_str_equal);
    return kt;
}

void
pp_known_trees_free(PpKnownTrees *kt)
{
    if (kt == NULL) {
        return;
    }
    g_hash_table_unref(kt->by_checksum);
    g_ptr_array_unref(kt->commits);
    g_free(kt);
}

const PpKnownCommit *
pp_known_trees_lookup(const PpKnownTrees *kt, const char *commit)
{
    if (kt == NULL || commit == NULL) {
        return NULL;
    }
    return g_hash_table_lookup(kt->by_checksum, commit);
}

guint
pp_known_trees_n_commits(const PpKnownTrees *kt)
{
    return kt != NULL ? kt->commits->len : 0;
}

const PpKnownCommit *
pp_known_trees_nth(const PpKnownTrees *kt, guint i)
{
    g_return_val_if_fail(kt != NULL && i < kt->commits->len, NULL);
    return kt->commits->pdata[i];
}

const PpTreeEntry *
pp_known_commit_lookup(const PpKnownCommit *kc, const char *path)
{
    gpointer v = g_hash_table_lookup(kc->by_path, path);
    if (v == NULL) {
        return NULL;
    }
    return kc->entries->pdata[GPOINTER_TO_UINT(v) - 1];
}

char *
pp_known_commit_describe(const PpKnownCommit *kc)
{
    if (kc->version != NULL) {
        return g_strdup_printf("version %s", kc->version);
    }
    return g_strndup(kc->checksum, 12);
}

/* ---- manifest ------------------------------------------------------- */

static PpTreeEntry *
entry_from_info(const char *path, GFileInfo *info, GFile *file)
{
    PpTreeEntry *e = g_new0(PpTreeEntry, 1);
    e->path = g_strdup(path);
    e->mode = g_file_info_get_attribute_uint32(info, "unix::mode") & 07777;
    e->uid = g_file_info_get_attribute_uint32(info, "unix::uid");
    e->gid = g_file_info_get_attribute_uint32(info, "unix::gid");
    switch (g_file_info_get_file_type(info)) {
    case G_FILE_TYPE_DIRECTORY:
        e->type = PP_TREE_DIR;
        break;
    case G_FILE_TYPE_SYMBOLIC_LINK:
        e->type = PP_TREE_SYMLINK;
        e->target = g_strdup(g_file_info_get_symlink_target(info));
        e->checksum = g_strdup(ostree_repo_file_get_checksum(OSTREE_REPO_FILE(file)));
        break;
    default:
        e->type = PP_TREE_FILE;
        e->size = (guint64)g_file_info_get_size(info);
        e->checksum = g_strdup(ostree_repo_file_get_checksum(OSTREE_REPO_FILE(file)));
        break;
    }
    return e;
}

static gboolean
walk_tree(GFile *dir, const char *prefix, GPtrArray *out, GError **error)
{
    g_autoptr(GFileEnumerator) en =
        g_file_enumerate_children(dir, PP_TREE_QUERYINFO,
                                  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
    if (en == NULL) {
        g_prefix_error(error, "enumerating /%s: ", prefix);
        return FALSE;
    }
    for (;;) {
        GFileInfo *info = NULL;
        GFile *child = NULL;
        if (!g_file_enumerator_iterate(en, &info, &child, NULL, error)) {
            g_prefix_error(error, "enumerating /%s: ", prefix);
            return FALSE;
        }
        if (info == NULL) {
            break;
        }
        g_autofree char *path = *prefix == '\0'
            ? g_strdup(g_file_info_get_name(info))
            : g_strconcat(prefix, "/", g_file_info_get_name(info), NULL);
        PpTreeEntry *e = entry_from_info(path, info, child);
        g_ptr_array_add(out, e);
        if (e->type == PP_TREE_DIR && !walk_tree(child, path, out, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

static int
cmp_entries(gconstpointer a, gconstpointer b)
{
    const PpTreeEntry *ea = *(PpTreeEntry *const *)a;
    const PpTreeEntry *eb = *(PpTreeEntry *const *)b;
    return strcmp(ea->path, eb->path);
}

static void
index_entries(PpKnownCommit *kc)
{
    g_ptr_array_sort(kc->entries, cmp_entries);
    g_clear_pointer(&kc->by_path, g_hash_table_unref);
    kc->by_path = g_hash_table_new(g_str_hash, g_str_equal);
    kc->n_bytes = 0;
    for (guint i = 0; i < kc->entries->len; i++) {
        PpTreeEntry *e = kc->entries->pdata[i];
        g_hash_table_insert(kc->by_path, e->path, GUINT_TO_POINTER(i + 1));
        if (e->type == PP_TREE_FILE) {
            kc->n_bytes += e->size;
        }
    }
}

/*
 * ostree moves a commit's top-level etc/ to usr/etc/ when it deploys it
 * (and refuses a commit with both), so the deployment is compared with
 * the moved paths.
 */
static void
move_etc_to_usr_etc(PpKnownCommit *kc)
{
    if (pp_known_commit_lookup(kc, "etc") == NULL
        || pp_known_commit_lookup(kc, "usr/etc") != NULL) {
        return;
    }
    for (guint i = 0; i < kc->entries->len; i++) {
        PpTreeEntry *e = kc->entries->pdata[i];
        if (strcmp(e->path, "etc") == 0 || g_str_has_prefix(e->path, "etc/")) {
            char *moved = g_strconcat("usr/", e->path, NULL);
            g_free(e->path);
            e->path = moved;
        }
    }
    index_entries(kc);
}

/* ---- bootcsum ------------------------------------------------------- */

static gboolean
checksum_repo_file(OstreeRepo *repo, const char *csum, GChecksum *sum,
                   GError **error)
{
    g_autoptr(GInputStream) in = NULL;
    if (!ostree_repo_load_file(repo, csum, &in, NULL, NULL, NULL, error)) {
        return FALSE;
    }
    guint8 buf[64 * 1024];
    for (;;) {
        gssize n = g_input_stream_read(in, buf, sizeof buf, NULL, error);
        if (n < 0) {
            return FALSE;
        }
        if (n == 0) {
            return TRUE;
        }
        g_checksum_update(sum, buf, (gsize)n);
    }
}

/*
 * What ostree 2022.7 computes for the usr/lib/modules layout: the first
 * module directory with a vmlinuz (ostree takes readdir order; a tree with
 * one KVER, like the fixture, has no ambiguity; with several we take the
 * first in sorted order), then vmlinuz, initramfs.img or initramfs, then
 * devicetree.  A dtb/ directory is hashed recursively by ostree; that and
 * the legacy /boot and usr/lib/ostree-boot layouts are not reproduced here
 * and leave bootcsum NULL with a note.
 */
static gboolean
compute_bootcsum(OstreeRepo *repo, PpKnownCommit *kc, GError **error)
{
    const char *prefix = "usr/lib/modules/";
    for (guint i = 0; i < kc->entries->len; i++) {
        const PpTreeEntry *e = kc->entries->pdata[i];
        if (e->type != PP_TREE_DIR || !g_str_has_prefix(e->path, prefix)
            || strchr(e->path + strlen(prefix), '/') != NULL
            || e->path[strlen(prefix)] == '\0') {
            continue;
        }
        g_autofree char *vmlinuz = g_strconcat(e->path, "/vmlinuz", NULL);
        const PpTreeEntry *k = pp_known_commit_lookup(kc, vmlinuz);
        if (k == NULL || k->type != PP_TREE_FILE) {
            continue;
        }
        kc->kver = g_strdup(e->path + strlen(prefix));
        g_autofree char *dtbdir = g_strconcat(e->path, "/dtb", NULL);
        g_autofree char *dt = g_strconcat(e->path, "/devicetree", NULL);
        const PpTreeEntry *dtb = pp_known_commit_lookup(kc, dtbdir);
        const PpTreeEntry *dte = pp_known_commit_lookup(kc, dt);
        if (dte == NULL && dtb != NULL && dtb->type == PP_TREE_DIR) {
            kc->bootcsum_note = g_strdup("kernel with a dtb/ directory: "
                                         "bootcsum not reproduced");
            return TRUE;
        }
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        if (!checksum_repo_file(repo, k->checksum, sum, error)) {
            g_prefix_error(error, "reading %s: ", vmlinuz);
            return FALSE;
        }
        const char *initramfs_names[] = { "initramfs.img", "initramfs" };
        for (guint j = 0; j < G_N_ELEMENTS(initramfs_names); j++) {
            g_autofree char *p = g_strconcat(e->path, "/", initramfs_names[j], NULL);
            const PpTreeEntry *ie = pp_known_commit_lookup(kc, p);
            if (ie != NULL && ie->type == PP_TREE_FILE) {
                if (!checksum_repo_file(repo, ie->checksum, sum, error)) {
                    g_prefix_error(error, "reading %s: ", p);
                    return FALSE;
                }
                break;
            }
        }
        if (dte != NULL && dte->type == PP_TREE_FILE
            && !checksum_repo_file(repo, dte->checksum, sum, error)) {
            g_prefix_error(error, "reading %s: ", dt);
            return FALSE;
        }
        kc->bootcsum = g_strdup(g_checksum_get_string(sum));
        return TRUE;
    }
    kc->bootcsum_note = g_strdup("no usr/lib/modules/KVER/vmlinuz in the tree");
    return TRUE;
}

/* ---- loading -------------------------------------------------------- */

static int
cmp_objects(gconstpointer a, gconstpointer b)
{
    const PpKnownObject *oa = a;
    const PpKnownObject *ob = b;
    int c = strcmp(oa->csum, ob->csum);
    return c != 0 ? c : (int)oa->type - (int)ob->type;
}

static void
known_object_clear(PpKnownObject *o)
{
    g_free(o->name);
}

/*
 * Check every metadata object the commit reaches (its checksum, which
 * ostree_repo_fsck_object() also makes validate the structure) before
 * anything parses them.  libostree trusts its own metadata: a commit
 * object that a power cut left as zeros of the right length makes
 * ostree_repo_read_commit() crash (libostree 2022.7).  The known trees of
 * a server repo are sound; those a crash state's own repo offers
 * (`plugpull inspect` without --repo) need not be.
 */
static gboolean
check_metadata(OstreeRepo *repo, const char *commit, GError **error)
{
    if (!ostree_repo_fsck_object(repo, OSTREE_OBJECT_TYPE_COMMIT, commit, NULL,
                                 error)) {
        g_prefix_error(error, "known trees: commit %s: ", commit);
        return FALSE;
    }
    g_autoptr(GVariant) cv = NULL;
    if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, commit, &cv,
                                  error)) {
        return FALSE;
    }
    g_autoptr(GVariant) tree_csum = g_variant_get_child_value(cv, 6);
    g_autoptr(GVariant) meta_csum = g_variant_get_child_value(cv, 7);
    g_autoptr(GQueue) todo = g_queue_new();
    g_queue_push_tail(todo, ostree_checksum_from_bytes_v(tree_csum));
    g_autofree char *root_meta = ostree_checksum_from_bytes_v(meta_csum);
    if (!ostree_repo_fsck_object(repo, OSTREE_OBJECT_TYPE_DIR_META, root_meta,
                                 NULL, error)) {
        g_prefix_error(error, "known trees: commit %s: ", commit);
        return FALSE;
    }
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, NULL);
    char *tree;
    while ((tree = g_queue_pop_head(todo)) != NULL) {
        if (!g_hash_table_add(seen, tree)) {
            continue;
        }
        g_autoptr(GVariant) dv = NULL;
        if (!ostree_repo_fsck_object(repo, OSTREE_OBJECT_TYPE_DIR_TREE, tree,
                                     NULL, error)
            || !ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_DIR_TREE,
                                         tree, &dv, error)) {
            g_prefix_error(error, "known trees: commit %s: ", commit);
            return FALSE;
        }
        /* (a(say) files, a(sayay) dirs: name, tree, meta) */
        g_autoptr(GVariant) dirs = g_variant_get_child_value(dv, 1);
        for (gsize i = 0; i < g_variant_n_children(dirs); i++) {
            g_autoptr(GVariant) d = g_variant_get_child_value(dirs, i);
            g_autoptr(GVariant) t = g_variant_get_child_value(d, 1);
            g_autoptr(GVariant) m = g_variant_get_child_value(d, 2);
            g_autofree char *meta = ostree_checksum_from_bytes_v(m);
            if (!ostree_repo_fsck_object(repo, OSTREE_OBJECT_TYPE_DIR_META,
                                         meta, NULL, error)) {
                g_prefix_error(error, "known trees: commit %s: ", commit);
                return FALSE;
            }
            g_queue_push_tail(todo, ostree_checksum_from_bytes_v(t));
        }
    }
    return TRUE;
}

gboolean
pp_known_trees_add(PpKnownTrees *kt, OstreeRepo *repo, const char *commit,
                   GError **error)
{
    if (pp_known_trees_lookup(kt, commit) != NULL) {
        return TRUE;
    }
    if (!check_metadata(repo, commit, error)) {
        return FALSE;
    }
    g_autoptr(PpKnownCommit) kc = g_new0(PpKnownCommit, 1);
    kc->checksum = g_strdup(commit);

    g_autoptr(GVariant) cv = NULL;
    if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, commit, &cv,
                                  error)) {
        g_prefix_error(error, "known trees: loading commit %s: ", commit);
        return FALSE;
    }
    g_autoptr(GVariant) meta = g_variant_get_child_value(cv, 0);
    g_autoptr(GVariantDict) md = g_variant_dict_new(meta);
    (void)g_variant_dict_lookup(md, OSTREE_COMMIT_META_KEY_VERSION, "s",
                                &kc->version);
    g_variant_get_child(cv, 3, "s", &kc->subject);
    kc->timestamp = ostree_commit_get_timestamp(cv);

    g_autoptr(GFile) root = NULL;
    if (!ostree_repo_read_commit(repo, commit, &root, NULL, NULL, error)) {
        g_prefix_error(error, "known trees: reading commit %s: ", commit);
        return FALSE;
    }
    g_autoptr(GFileInfo) rootinfo =
        g_file_query_info(root, PP_TREE_QUERYINFO,
                          G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
    if (rootinfo == NULL) {
        g_prefix_error(error, "known trees: commit %s: root: ", commit);
        return FALSE;
    }
    kc->entries = g_ptr_array_new_with_free_func((GDestroyNotify)tree_entry_free);
    g_ptr_array_add(kc->entries, entry_from_info("", rootinfo, root));
    if (!walk_tree(root, "", kc->entries, error)) {
        g_prefix_error(error, "known trees: commit %s: ", commit);
        return FALSE;
    }
    index_entries(kc);
    move_etc_to_usr_etc(kc);
    if (!compute_bootcsum(repo, kc, error)) {
        g_prefix_error(error, "known trees: commit %s: bootcsum: ", commit);
        return FALSE;
    }

    g_autoptr(GHashTable) reachable = NULL;
    if (!ostree_repo_traverse_commit(repo, commit, 0, &reachable, NULL, error)) {
        g_prefix_error(error, "known trees: traversing commit %s: ", commit);
        return FALSE;
    }
    /* Deserialised once here: a repo check goes through them per state. */
    kc->objects = g_array_sized_new(FALSE, TRUE, sizeof(PpKnownObject),
                                    g_hash_table_size(reachable));
    g_array_set_clear_func(kc->objects, (GDestroyNotify)known_object_clear);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, reachable);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *csum = NULL;
        PpKnownObject o = { 0 };
        ostree_object_name_deserialize(key, &csum, &o.type);
        g_strlcpy(o.csum, csum, sizeof o.csum);
        o.name = ostree_object_to_string(csum, o.type);
        g_array_append_val(kc->objects, o);
    }
    /* Sorted, so a repo check visits objects/XX/ directories in order. */
    g_array_sort(kc->objects, cmp_objects);

    PpKnownCommit *owned = g_steal_pointer(&kc);
    g_ptr_array_add(kt->commits, owned);
    g_hash_table_insert(kt->by_checksum, owned->checksum, owned);
    return TRUE;
}

/* Every commit reachable from the refs, with the parents that are present. */
static gboolean
all_commits(OstreeRepo *repo, GPtrArray *out, GError **error)
{
    g_autoptr(GHashTable) refs = NULL;
    if (!ostree_repo_list_refs(repo, NULL, &refs, NULL, error)) {
        g_prefix_error(error, "known trees: listing refs: ");
        return FALSE;
    }
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, NULL);
    g_autoptr(GList) targets = g_hash_table_get_values(refs);
    targets = g_list_sort(targets, (GCompareFunc)strcmp);
    for (GList *l = targets; l != NULL; l = l->next) {
        g_autofree char *c = g_strdup(l->data);
        while (c != NULL && !g_hash_table_contains(seen, c)) {
            g_autoptr(GVariant) cv = NULL;
            gboolean present = FALSE;
            if (!ostree_repo_has_object(repo, OSTREE_OBJECT_TYPE_COMMIT, c,
                                        &present, NULL, error)) {
                return FALSE;
            }
            if (!present) {
                break;
            }
            g_hash_table_add(seen, g_strdup(c));
            g_ptr_array_add(out, g_strdup(c));
            if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, c,
                                          &cv, error)) {
                return FALSE;
            }
            g_free(c);
            c = ostree_commit_get_parent(cv);
        }
    }
    return TRUE;
}

PpKnownTrees *
pp_known_trees_load(const char *repo_path, const char *const *commits,
                    GError **error)
{
    g_autoptr(GFile) f = g_file_new_for_path(repo_path);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(f);
    if (!ostree_repo_open(repo, NULL, error)) {
        g_prefix_error(error, "known trees: opening repo %s: ", repo_path);
        return NULL;
    }
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    if (commits == NULL) {
        if (!all_commits(repo, list, error)) {
            return NULL;
        }
    } else {
        for (const char *const *c = commits; *c != NULL; c++) {
            g_ptr_array_add(list, g_strdup(*c));
        }
    }
    g_autoptr(PpKnownTrees) kt = pp_known_trees_new();
    for (guint i = 0; i < list->len; i++) {
        if (!pp_known_trees_add(kt, repo, list->pdata[i], error)) {
            return NULL;
        }
    }
    return g_steal_pointer(&kt);
}
