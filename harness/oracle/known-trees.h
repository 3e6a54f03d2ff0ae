/* SPDX-License-Identifier: MIT */
/*
 * known-trees.h: the known-good trees the oracle compares a crash state
 * with: every commit of the firmware, read once from a repo (normally the
 * server's archive repo) with libostree.
 *
 * For each commit it keeps:
 *  - the "version" metadata (and subject, timestamp);
 *  - a manifest: every path of the tree with its type, mode, uid/gid, size,
 *    content object checksum (files and symlinks) and symlink target;
 *  - the bootcsum ostree would compute for it: sha256(vmlinuz || initramfs
 *    [|| devicetree]) of usr/lib/modules/$KVER (ostree-sysroot-deploy.c,
 *    get_kernel_from_tree_usrlib_modules), so an entry that boots a kernel
 *    of another commit can be told from one that boots its own;
 *  - the names of every object the commit reaches (commit, dirtrees,
 *    dirmetas, content), so the repo check of a crash state can verify
 *    exactly those without trusting the crash state's own metadata.
 *
 * Nothing here changes once loaded: the simulation tier loads the known
 * trees once and judges many crash states with them.
 *
 * One manifest rewrite mirrors ostree's deploy: a commit with a top-level
 * etc/ and no usr/etc/ has etc/ moved to usr/etc/ at deploy time
 * (prepare_deployment_etc), so its manifest lists those paths under
 * usr/etc/.
 */
#ifndef PP_KNOWN_TREES_H
#define PP_KNOWN_TREES_H

#include <ostree.h>

typedef enum {
    PP_TREE_FILE = 'f',
    PP_TREE_DIR = 'd',
    PP_TREE_SYMLINK = 'l',
} PpTreeType;

typedef struct {
    char *path;             /* relative to the tree root; "" is the root */
    PpTreeType type;
    guint32 mode;           /* permission bits (07777) */
    guint32 uid;
    guint32 gid;
    guint64 size;           /* regular files */
    char *checksum;         /* content object (files, symlinks); else NULL */
    char *target;           /* symlinks */
} PpTreeEntry;

/* One object a commit reaches. */
typedef struct {
    char csum[65];
    OstreeObjectType type;
    char *name;             /* "CHECKSUM.TYPE" (ostree_object_to_string) */
} PpKnownObject;

typedef struct {
    char *checksum;         /* the commit */
    char *version;          /* "version" metadata, or NULL */
    char *subject;
    guint64 timestamp;
    char *kver;             /* usr/lib/modules/KVER with a vmlinuz, or NULL */
    char *bootcsum;         /* NULL: no kernel, or a layout not supported */
    char *bootcsum_note;    /* why bootcsum is NULL, or NULL */
    GPtrArray *entries;     /* PpTreeEntry *, sorted by path (strcmp) */
    GHashTable *by_path;    /* path -> index + 1 into entries (GUINT_TO_POINTER) */
    GArray *objects;        /* reachable objects: PpKnownObject, sorted */
    guint64 n_bytes;        /* sum of the regular files' sizes */
} PpKnownCommit;

typedef struct _PpKnownTrees PpKnownTrees;

PpKnownTrees *pp_known_trees_new(void);
void pp_known_trees_free(PpKnownTrees *kt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpKnownTrees, pp_known_trees_free)

/*
 * Load the commits from the repo at repo_path.  commits NULL: every commit
 * reachable from the repo's refs, following parents as far as they are
 * present.  Any commit that cannot be read fully is an error.
 */
PpKnownTrees *pp_known_trees_load(const char *repo_path,
                                  const char *const *commits, GError **error);

/* Add one commit read from repo (no-op if already known). */
gboolean pp_known_trees_add(PpKnownTrees *kt, OstreeRepo *repo,
                            const char *commit, GError **error);

/* The commit, or NULL when it is not known. */
const PpKnownCommit *pp_known_trees_lookup(const PpKnownTrees *kt,
                                           const char *commit);

guint pp_known_trees_n_commits(const PpKnownTrees *kt);

/* Commits in the order they were added. */
const PpKnownCommit *pp_known_trees_nth(const PpKnownTrees *kt, guint i);

/* The manifest entry for path, or NULL. */
const PpTreeEntry *pp_known_commit_lookup(const PpKnownCommit *kc,
                                          const char *path);

/* "version 2" or the short checksum when the commit has no version. */
char *pp_known_commit_describe(const PpKnownCommit *kc);

#endif /* PP_KNOWN_TREES_H */
