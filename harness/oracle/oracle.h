/* SPDX-License-Identifier: MIT */
/*
 * oracle.h: the OSTree-aware oracle: judge the crash state of a directory
 * sysroot the way the device would meet it at the next power-on.
 *
 * Room oracle/: judges a crash state (the oracle, the known trees, the
 * failure signature).  Includes common/ and cfaultinject/ only.
 *
 * The judgement has four steps; each step's result and evidence are kept
 * in the PpJudgement:
 *
 *  1. Boot selection, as the bootloader would do it, then ostree-prepare-
 *     root.  boot/loader must be a symlink to loader.0 or loader.1.
 *     Backend "uboot": boot/loader.N/uEnv.txt as ostree 2022.7 writes it
 *     (kernel_image=, ramdisk_image=, fdt_file=, bootargs= for the default
 *     entry, the same keys with suffix 2, 3, ... for the others; paths
 *     begin with /boot and are taken from the sysroot's root).  Backend
 *     "bls": boot/loader.N/entries/ostree-*.conf, sorted by descending
 *     version with glibc strverscmp (ostree's own order; index 0 is the
 *     default; linux/initrd paths are taken from boot/).  For each entry:
 *     the kernel, initramfs and devicetree named must resolve inside the
 *     sysroot to non-empty regular files, and sha256 of them concatenated
 *     must equal the bootcsum in their "<os>-<bootcsum>" directory's name;
 *     the first ostree= argument must name a symlink (lstat) that resolves
 *     inside the sysroot to a directory with usr/ and etc/.  Symlinks are
 *     resolved by hand, relative targets only: an absolute target, or ".."
 *     above the root, would leave the sysroot at boot and is refused.
 *  2. The booted tree: the deployment directory is ostree/deploy/OS/deploy/
 *     COMMIT.SERIAL; COMMIT must be known, and the deployment must hold
 *     exactly that commit's tree (type, mode, uid/gid, content object
 *     checksum, symlink target), with these exemptions, each something
 *     ostree itself does to a deployment:
 *       - etc/ is not compared with the commit: ostree copies usr/etc to
 *         etc and merges the previous deployment's local changes into it.
 *         It must be a directory holding every path of usr/etc.
 *       - the contents of var/ are not compared (either way): at boot the
 *         stateroot's ostree/deploy/OS/var is mounted over it, so what the
 *         checkout left there is never seen (ostree warns the commit's
 *         var content "will be ignored").  var itself is compared.
 *       - directory and file times, xattrs of directories, and hardlink
 *         counts are not compared.
 *     Content checksums are ostree's (ostree_checksum_file_at, xattrs
 *     included, exactly what ostree fsck checks in a bare repo); the fixture
 *     commits carry no xattrs, so a host that labels files by itself
 *     (SELinux) would show every file as differing.
 *  3. The repo ostree/repo: every ref (heads, remotes, deployment refs)
 *     must point to a commit whose objects are all present and valid,
 *     unless state/COMMIT.commitpartial exists; the commits of the
 *     deployments the entries boot are checked even when partial.  For a
 *     known commit the object list is the known one (the crash state's
 *     metadata is not trusted to say what to check); for another commit it
 *     is traversed in the crash state's repo.  Metadata objects are checked
 *     with ostree_repo_fsck_object(); content objects are checksummed, and
 *     a content object that is the same inode as an already checksummed
 *     deployment file (bare repos hardlink them) is not read twice.
 *     With opts->cache, a file or object that is still the campaign
 *     snapshot's own inode, as it was, is not read again at all, nor are
 *     an entry's kernel and initramfs (their sum is kept by inode).  With
 *     opts->farm too, a deployment subtree or a loose object file that
 *     the state did not change (cfi_farm_subtree_unchanged(),
 *     cfi_farm_entry_unchanged()) is not looked at: what the first
 *     judgement that met it unchanged found holds (only what had no
 *     difference is kept, so a difference is always found by a walk).
 *  4. Rollback: every entry other than the booted one must boot and hold a
 *     complete known tree too; if not, the outcome is no-rollback.
 *
 * Two views (opts->boot_view).  After a power cut the kernel replays the
 * journal, the bootloader does not (cfaultinject/MODELS.md §4a): with a
 * second directory, the bootloader's view of the same state, boot/loader,
 * the backend's choice, the entries and the kernel, initramfs and
 * devicetree they name are read there, and ostree=, the deployment and
 * the repo in the kernel's view (sysroot).  Views that agree (same loader
 * target, same entry files, same boot files) give the judgement of one
 * view; views that differ add a note to the reason.
 *
 * Outcomes, by precedence: brick > wrong-tree > repo-corrupt > no-rollback
 * > pass.  brick: no entry boots (with opts->no_fallback: the default entry
 * does not boot).  When the default entry does not boot but a later one
 * does, the later one is booted (U-Boot altbootcmd / GRUB fallback) and the
 * outcome is at least no-rollback.  Resume checks (stuck, redownload) are
 * the caller's.
 */
#ifndef PP_ORACLE_H
#define PP_ORACLE_H

#include <json-glib/json-glib.h>

#include "common/outcome.h"   /* PpOutcome: the judgement's outcome */
#include "oracle/known-trees.h"
#include "oracle/oracle-cache.h"
#include "oracle/stat-overlay.h"
#include "crashstate.h"

typedef enum {
    PP_BOOTLOADER_AUTO = 0,   /* sysroot.bootloader in the repo config, then
                               * boot/loader/uEnv.txt present => uboot, else bls */
    PP_BOOTLOADER_UBOOT,
    PP_BOOTLOADER_BLS,
} PpBootloader;

typedef struct {
    PpBootloader bootloader;
    gboolean no_fallback;     /* the bootloader boots the default or nothing */
    guint max_diffs;          /* differences kept per tree; 0 = 20 */
    gboolean skip_repo;       /* skip step 3 */
    const PpStatOverlay *overlay; /* the true mode and owner of files whose
                               * inode cannot hold them (a sysroot extracted
                               * from a disk image without root), applied
                               * in steps 2 and 3; NULL: lstat is the truth */
    const char *boot_view;    /* the bootloader's view of the state (a
                               * directory), read for step 1's loader,
                               * entries and boot files; NULL: one view */
    PpOracleCache *cache;     /* checksums of unchanged (snapshot) files
                               * and metadata objects verified by earlier
                               * judgements of the campaign, used and
                               * filled in steps 2 and 3 (oracle-cache.h);
                               * NULL, or PLUGPULL_ORACLE_NOCACHE=1: every
                               * file is hashed, every object verified */
    CfiFarm *farm;            /* the farm the state stands on (crashstate.h):
                               * with cache, a deployment subtree or an
                               * objects/XX directory the state did not
                               * change is taken from the cache as an
                               * earlier judgement found it, not walked
                               * again; NULL: every one is walked */
} PpOracleOpts;

typedef struct {
    char *path;               /* relative to the deployment */
    char *kind;               /* missing extra type mode owner size content
                               * target unreadable */
    char *detail;
} PpTreeDiff;

typedef struct {
    guint index;              /* position in the bootloader's order */
    char *source;             /* file (and key suffix) the entry came from */
    char *title;              /* BLS only */
    char *version;            /* BLS only */
    char *options;            /* kernel command line */
    char *linux_path;         /* as written in the entry */
    char *initrd_path;
    char *devicetree_path;

    /* step 1 */
    gboolean bootable;
    char *boot_error;         /* why not bootable */
    char *ostree_arg;         /* the first ostree= value */
    char *deploy_path;        /* resolved, relative to the sysroot */
    char *osname;             /* parsed from deploy_path */
    char *commit;
    int serial;
    char *bootcsum;           /* from the kernel's directory name */
    char *bootcsum_actual;    /* sha256 of kernel || initramfs [|| dtb] */

    /* steps 2 and 4 */
    gboolean tree_checked;    /* FALSE: not bootable, or no known trees */
    gboolean tree_known;      /* the commit is a known one */
    char *tree_version;       /* its version metadata */
    gboolean tree_complete;
    char *tree_error;         /* one line: why not complete */
    guint n_diffs;            /* all differences */
    GPtrArray *diffs;         /* PpTreeDiff *, the first max_diffs */
    guint n_paths;            /* paths compared */
    guint64 bytes_hashed;
} PpBootEntry;

typedef struct {
    char *name;
    char *commit;
    gboolean partial;         /* state/COMMIT.commitpartial exists */
} PpRefInfo;

typedef struct {
    gboolean checked;
    gboolean ok;
    GPtrArray *refs;          /* PpRefInfo * */
    guint n_problems;
    GPtrArray *problems;      /* char *, the first 20 */
    guint n_commits_checked;
    guint n_objects_checked;
    guint n_staging_dirs;     /* repo/tmp/staging-* directories */
    guint64 staging_bytes;    /* bytes of the files in them */
} PpRepoReport;

typedef struct {
    PpOutcome outcome;
    char *reason;             /* one line: why this outcome */
    char *backend;            /* "uboot" or "bls" */
    int bootversion;          /* N of boot/loader -> loader.N, or -1 */
    char *loader_error;       /* boot/loader itself unusable, or NULL */
    GPtrArray *entries;       /* PpBootEntry *, in the bootloader's order */
    int booted;               /* index into entries, -1 if none boots */
    gboolean fell_back;       /* booted is not the default entry */
    PpRepoReport repo;
    /* What lies around the entries, counted by name, not followed (the
     * footprint of an interrupted swap or deploy; -1: not readable): */
    int n_loader_dirs;        /* boot/loader.N directories */
    int n_boot_dirs;          /* ostree/boot.N links and boot.N.M dirs */
    int n_deploy_dirs;        /* ostree/deploy/OS/deploy/COMMIT.SERIAL dirs */
    gint64 elapsed_us;        /* time the judgement took */
    /* With opts->boot_view: */
    gboolean two_views;
    gboolean views_differ;    /* loader target, entry or boot files differ */
    char *kernel_loader;      /* boot/loader's target in the kernel's view */
    char *views_note;         /* one line: how the views differ, or agree */
} PpJudgement;

void pp_judgement_free(PpJudgement *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpJudgement, pp_judgement_free)

/*
 * Judge the sysroot directory.  known may be NULL: then the trees are not
 * compared (tree_checked stays FALSE) and do not affect the outcome.  opts
 * may be NULL (defaults).  FALSE only when the harness could not judge
 * (the sysroot cannot be opened, out of memory, ...): what the crash did to
 * the sysroot is always a judgement, never an error.
 */
gboolean pp_oracle_judge(const char *sysroot, const PpKnownTrees *known,
                         const PpOracleOpts *opts, PpJudgement **out,
                         GError **error);

JsonNode *pp_judgement_to_json(const PpJudgement *j);

/* Readable multi-line report. */
char *pp_judgement_to_text(const PpJudgement *j);

/*
 * Resolve path inside the directory root_dfd as a boot would from the
 * sysroot: relative symlink targets are followed (at most 40), a final
 * symlink only with follow_last; an absolute target or ".." above the root
 * is an error, as is a missing component (the message names it).
 * *out_rel: the resolved path relative to root ("" = root itself).
 */
gboolean pp_oracle_resolve_in_root(int root_dfd, const char *path,
                                   gboolean follow_last, char **out_rel,
                                   GError **error);

/*
 * ostree's content checksum (hex) of dfd/rel, a file or symlink whose
 * inode carries only some of its extended attributes, the others (extra,
 * a(ayay)) kept in a stat overlay (an image extracted without the
 * privilege to set security.* or trusted.*): the host's and extra's
 * together, sorted by name; owner and mode from st.
 */
gboolean pp_oracle_checksum_with_xattrs(int dfd, const char *rel,
                                        const struct stat *st, GVariant *extra,
                                        char **out, GError **error);

#endif /* PP_ORACLE_H */
