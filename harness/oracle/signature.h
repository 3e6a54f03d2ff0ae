/* SPDX-License-Identifier: MIT */
/*
 * signature.h: a diagnosis signature: what an oracle judgement says about
 * a crash state, normalised so that two states that failed the same way
 * compare equal although their paths, checksums, byte counts and staging
 * names differ.
 *
 * A field brick (plugpull reproduce) and a simulated crash state (a sim
 * case's evidence) are judged by the same oracle; their signatures are
 * compared field by field:
 *
 *   outcome          the oracle's verdict (brick, wrong-tree, ...), not a
 *                    resume's (stuck, redownload need an update to run)
 *   backend          uboot or bls
 *   bootversion      N of boot/loader -> loader.N, -1 none
 *   loader           "ok" or what is wrong with boot/loader itself
 *                    (loader-missing, loader-dangling, no-entries, ...)
 *   booted           index of the entry booted, -1 none
 *   booted_tree      none, unknown, new or old: old when another entry
 *                    holds a known tree of a higher version
 *   entry_states     per entry in boot order: boots:complete,
 *                    boots:incomplete, boots:unknown-tree, or why it does
 *                    not boot (kernel-missing, initramfs-empty,
 *                    bootcsum-mismatch, deployment-missing, ...)
 *   tree_problems    sorted classes of the differences of each entry's
 *                    tree, "eN:" + missing, extra, empty-file, size,
 *                    content, other-version, mode, owner, type, ...
 *   repo_problems    sorted classes of the repo's problems:
 *                    refs-unreadable, missing-content-object,
 *                    corrupt-dirtree-object, ...
 *   partial_commits  commits marked partial (state/C.commitpartial)
 *   staging_dirs     repo/tmp/staging-* directories left
 *   loader_dirs      boot/loader.N directories
 *   boot_dirs        ostree/boot.N names
 *   deploy_dirs      deployment directories
 *
 * Two signatures match when every field is equal; the number of equal
 * fields is their similarity (near matches).
 */
#ifndef PP_SIGNATURE_H
#define PP_SIGNATURE_H

#include <json-glib/json-glib.h>

/* The compared fields, in order; NULL-terminated. */
extern const char *const pp_signature_fields[];
#define PP_SIGNATURE_N_FIELDS 14

/*
 * The signature (a JSON object) of an oracle judgement as
 * pp_judgement_to_json() writes it (a sim case's "evidence").  FALSE when
 * judgement is not one (not an object, no outcome).  A judgement written
 * before the oracle counted the layout gives -1 there.
 */
gboolean pp_signature_from_judgement(JsonNode *judgement, JsonNode **out,
                                     GError **error);

/* One line: "repo-corrupt uboot loader.0 ok booted=0/new ...". */
char *pp_signature_to_text(JsonNode *sig);

/*
 * Fields of a and b that are equal (0..PP_SIGNATURE_N_FIELDS); the names
 * of those that differ are appended to differ when it is not NULL.
 */
guint pp_signature_agree(JsonNode *a, JsonNode *b, GPtrArray *differ);

/* Every field equal. */
gboolean pp_signature_match(JsonNode *a, JsonNode *b);

/* The classifiers, for the unit tests: each maps an oracle message to a
 * stable class name. */
const char *pp_signature_loader_class(const char *loader_error);
const char *pp_signature_boot_class(const char *boot_error);
const char *pp_signature_diff_class(const char *kind, const char *detail);
const char *pp_signature_repo_class(const char *problem);

#endif /* PP_SIGNATURE_H */
