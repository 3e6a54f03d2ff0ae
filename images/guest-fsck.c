/* SPDX-License-Identifier: MIT */
/*
 * guest-fsck: the repo check of the VM tier's verdict, in the built-in
 * image (/usr/lib/plugpull/guest-fsck, built by images/build-image.sh
 * against the same libostree as the image's client).
 *
 *   guest-fsck REPO BASELINE
 *
 * It walks what `ostree fsck` (2022.7) walks: every ref names a commit
 * that loads; every commit object that is not partial is traversed; every
 * object reachable from those must be present.  It differs in one thing:
 * an object listed in BASELINE is checked for presence, not hashed again.
 *
 * Why that keeps the verdict as strong: BASELINE lists the objects of the
 * image's repo as built, which `ostree fsck` verified then
 * (build-image.sh); ostree writes an object once, under a temporary name,
 * and never writes it again; and a power cut in the VM tier loses only
 * writes the guest made (the page cache, or under disk-cache = volatile
 * writes after the last flush), never an old file's data.  What an update
 * or a resume wrote since is not in BASELINE, and is hashed as fsck
 * hashes it (ostree_repo_fsck_object).  On the built-in image that is a
 * few MB instead of the repo's 86 MB, most of it libicudata, which no cut
 * can touch (bench/RESULTS.md, "boot-to-verdict").
 *
 * Exit 0 when everything checks, 1 with the first problem on stderr
 * (naming the object: a corrupt new metadata object, the cause, before
 * what its garbage made the walk miss), 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include <ostree.h>

/* The loose path of an object under objects/ of a bare repo (the
 * sysroot's mode), as BASELINE lists it: "xx/yyyy.type". */
static char *
object_rel_path(const char *csum, OstreeObjectType type)
{
    return g_strdup_printf("%.2s/%s.%s", csum, csum + 2,
                           ostree_object_type_to_string(type));
}

static gboolean
load_baseline(const char *path, GHashTable *set, GError **error)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error)) {
        g_prefix_error(error, "reading the baseline: ");
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        if (**l != '\0') {
            g_hash_table_add(set, g_strdup(*l));
        }
    }
    return TRUE;
}

/* Every ref's commit must load (fsck's "Validating refs"). */
static gboolean
check_refs(OstreeRepo *repo, GError **error)
{
    g_autoptr(GHashTable) refs = NULL;
    if (!ostree_repo_list_refs(repo, NULL, &refs, NULL, error)) {
        g_prefix_error(error, "listing refs: ");
        return FALSE;
    }
    GHashTableIter it;
    gpointer name, csum;
    g_hash_table_iter_init(&it, refs);
    while (g_hash_table_iter_next(&it, &name, &csum)) {
        g_autoptr(GVariant) commit = NULL;
        if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, csum,
                                      &commit, error)) {
            g_prefix_error(error, "ref %s: commit %s: ", (char *)name,
                           (char *)csum);
            return FALSE;
        }
    }
    return TRUE;
}

/* GCompareFunc over object names: content (file) objects last, then by
   type, then by checksum. */
static gint
compare_object_names(gconstpointer a, gconstpointer b)
{
    const char *ca, *cb;
    OstreeObjectType ta, tb;
    ostree_object_name_deserialize(*(GVariant *const *)a, &ca, &ta);
    ostree_object_name_deserialize(*(GVariant *const *)b, &cb, &tb);
    gboolean fa = ta == OSTREE_OBJECT_TYPE_FILE;
    gboolean fb = tb == OSTREE_OBJECT_TYPE_FILE;
    if (fa != fb) {
        return fa ? 1 : -1;
    }
    if (ta != tb) {
        return ta < tb ? -1 : 1;
    }
    return strcmp(ca, cb);
}

/* The keys of a set of object names, in compare_object_names' order. */
static GPtrArray *
sorted_names(GHashTable *set)
{
    GPtrArray *order = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(order, key);
    }
    g_ptr_array_sort(order, compare_object_names);
    return order;
}

/* The walk.  *out_repo and *out_baseline are set once loaded, so that a
 * failure can be explained (find_spoilt_metadata). */
static gboolean
check(const char *repo_path, const char *baseline_path,
      OstreeRepo **out_repo, GHashTable **out_baseline, GError **error)
{
    GHashTable *baseline = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                 g_free, NULL);
    *out_baseline = baseline;
    if (!load_baseline(baseline_path, baseline, error)) {
        return FALSE;
    }
    g_autoptr(GFile) file = g_file_new_for_path(repo_path);
    OstreeRepo *repo = ostree_repo_new(file);
    if (!ostree_repo_open(repo, NULL, error)) {
        g_object_unref(repo);
        return FALSE;
    }
    *out_repo = repo;
    if (!check_refs(repo, error)) {
        return FALSE;
    }
    g_autoptr(GHashTable) commits = NULL;
    if (!ostree_repo_list_commit_objects_starting_with(repo, "", &commits,
                                                       NULL, error)) {
        g_prefix_error(error, "listing commits: ");
        return FALSE;
    }
    g_autoptr(GHashTable) reachable = ostree_repo_traverse_new_reachable();
    guint n_commits = 0, n_partial = 0;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, commits);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(key, &csum, &type);
        g_autoptr(GVariant) commit = NULL;
        OstreeRepoCommitState state = 0;
        if (!ostree_repo_load_commit(repo, csum, &commit, &state, error)) {
            g_prefix_error(error, "commit %s: ", csum);
            return FALSE;
        }
        if (state & OSTREE_REPO_COMMIT_STATE_PARTIAL) {
            n_partial++;  /* fsck skips a partial commit's tree too */
            continue;
        }
        n_commits++;
        /* Adds the commit itself (not before: an object already in the
           set is taken as traversed). */
        if (!ostree_repo_traverse_commit_union(repo, csum, 0, reachable,
                                               NULL, error)) {
            g_prefix_error(error, "traversing commit %s: ", csum);
            return FALSE;
        }
    }
    /* Checked in a fixed order, metadata before content: a spoilt dirtree
       whose garbage still parses names objects that do not exist, and the
       report must name the dirtree, the cause, on every run, not whichever
       the hash table's order happened to reach first. */
    g_autoptr(GPtrArray) order = sorted_names(reachable);
    guint hashed = 0, present = 0;
    for (guint i = 0; i < order->len; i++) {
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(order->pdata[i], &csum, &type);
        g_autofree char *rel = object_rel_path(csum, type);
        if (g_hash_table_contains(baseline, rel)) {
            gboolean have = FALSE;
            if (!ostree_repo_has_object(repo, type, csum, &have, NULL,
                                        error)) {
                return FALSE;
            }
            if (!have) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            "object %s is missing (reachable from a commit)",
                            rel);
                return FALSE;
            }
            present++;
            continue;
        }
        if (!ostree_repo_fsck_object(repo, type, csum, NULL, error)) {
            g_prefix_error(error, "object %s: ", rel);
            return FALSE;
        }
        hashed++;
    }
    printf("guest-fsck: %u commits (%u partial, skipped), %u objects "
           "reachable: %u hashed (not in the image as built), %u present "
           "from the image\n", n_commits, n_partial,
           g_hash_table_size(reachable), hashed, present);
    return TRUE;
}

/* After a failure: the first metadata object written since BASELINE
 * that is corrupt, or NULL.  A spoilt dirtree whose bytes still parse
 * sends the walk to objects that do not exist ("No such metadata object",
 * "Couldn't find file object"), which is a consequence; this names the
 * cause, whatever the tree's shape and the walk's order. */
static char *
find_spoilt_metadata(OstreeRepo *repo, GHashTable *baseline)
{
    g_autoptr(GHashTable) objects = NULL;
    if (!ostree_repo_list_objects(repo, OSTREE_REPO_LIST_OBJECTS_LOOSE,
                                  &objects, NULL, NULL)) {
        return NULL;
    }
    g_autoptr(GPtrArray) order = sorted_names(objects);
    for (guint i = 0; i < order->len; i++) {
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(order->pdata[i], &csum, &type);
        g_autofree char *rel = object_rel_path(csum, type);
        if (!OSTREE_OBJECT_TYPE_IS_META(type)
            || g_hash_table_contains(baseline, rel)) {
            continue;
        }
        g_autoptr(GError) local = NULL;
        if (!ostree_repo_fsck_object(repo, type, csum, NULL, &local)) {
            return g_strdup_printf("object %s: %s", rel, local->message);
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: guest-fsck REPO BASELINE\n");
        return 2;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(OstreeRepo) repo = NULL;
    g_autoptr(GHashTable) baseline = NULL;
    if (!check(argv[1], argv[2], &repo, &baseline, &error)) {
        g_autofree char *cause =
            repo != NULL ? find_spoilt_metadata(repo, baseline) : NULL;
        if (cause != NULL) {
            fprintf(stderr, "guest-fsck: %s: %s (which made the walk "
                    "fail: %s)\n", argv[1], cause, error->message);
        } else {
            fprintf(stderr, "guest-fsck: %s: %s\n", argv[1],
                    error->message);
        }
        return 1;
    }
    return 0;
}
