/* SPDX-License-Identifier: MIT */
/*
 * e2extract.h: copy an ext2/3/4 filesystem out of a disk image into a
 * private temporary directory, without root and without mounting, with
 * e2fsprogs' debugfs, so that the directory oracle can judge it.
 *
 * What debugfs rdump (e2fsprogs 1.47) keeps and loses, and what is done
 * about it:
 *
 *   kept       directories, regular files (content), symlinks (target),
 *              the rwx permission bits, times; as root also the owner of
 *              files and directories
 *   lost       setuid, setgid and sticky bits (its mode table has only the
 *              nine rwx bits); the owner of symlinks, and without root of
 *              everything (chown fails: the files are the caller's)
 *                -> restored from the image: one more debugfs run lists
 *                   every directory (`ls -p`: inode, mode, uid, gid, name),
 *                   and what differs goes into a PpStatOverlay the oracle
 *                   applies (see stat-overlay.h)
 *   lost       hard links: each name becomes a copy
 *                -> re-linked: names of one inode (ls -p gives the image's
 *                   inode numbers) become hard links to the first name, so
 *                   inodes and link counts are the image's
 *   lost       device nodes, fifos, sockets (not dumped)
 *                -> counted; ostree commits cannot hold them, so only an
 *                   extra one in a deployment would go unnoticed
 *   lost       names whose inode has no file type (cleared, corrupt):
 *              rdump skips them silently
 *                -> counted and named in a note; judged as missing
 *   lost       extended attributes
 *                -> not compensated: a tree whose commits carry xattrs
 *                   (SELinux labels) differs in every labelled file
 *   not read   the journal: debugfs reads the blocks in place, as U-Boot's
 *              ext4 driver does; updates still in the journal (superblock
 *              flag needs_recovery, after a power cut) are not seen
 *                -> the kernel's view is a second extraction, of a private
 *                   copy whose journal e2fsck replayed (journal.h)
 *
 * debugfs exits 0 even when it cannot open the filesystem or read a file:
 * its stderr is what tells.  Lines naming the image side (cannot open,
 * cannot read an inode or a block) are PP_DISK_ERROR_CORRUPT; lines of the
 * tolerated kind (chown, chmod, utime of the extracted files) are counted;
 * any other line is a harness failure (disk full, ...).
 *
 * The extracted tree is made readable for its owner (u+rx on directories,
 * u+r on files; the true modes are in the overlay) and removed, whatever
 * its modes, by pp_extracted_free() (kept when PP_KEEP_EXTRACT is set, for
 * debugging).  `rdump /` into an existing directory needs the debugfs of
 * e2fsprogs 1.47 (Debian 12); older ones may refuse with "while making
 * directory", a harness failure here.
 */
#ifndef PP_E2EXTRACT_H
#define PP_E2EXTRACT_H

#include <signal.h>

#include <json-glib/json-glib.h>

#include "oracle/stat-overlay.h"

typedef struct {
    char *tmp_dir;              /* private (0700), removed by the free */
    char *sysroot;              /* tmp_dir/sysroot: the filesystem's root */
    char *debugfs;              /* the binary that was run */
    char *debugfs_version;      /* "1.47.0", or "unknown" */
    PpStatOverlay *overlay;     /* true mode and owner where they differ */
    double rdump_seconds;
    double list_seconds;        /* the ls -p pass */
    guint n_dirs;               /* names in the image, by type ("." and ".." */
    guint n_files;              /* not counted) */
    guint n_symlinks;
    guint n_special;            /* device nodes, fifos, sockets: not
                                 * extracted */
    guint n_broken;             /* names of an inode of no type: neither */
    char *first_broken;
    guint n_hardlinked;         /* regular-file inodes with several names */
    guint n_copies;             /* the extra names of those, re-linked */
    double xattr_seconds;       /* the ea_list and ea_get passes */
    guint n_xattr_inodes;       /* inodes with extended attributes */
    guint n_xattrs_set;         /* set on the extracted files */
    guint n_xattrs_overlay;     /* refused by the host: in the overlay */
    guint n_xattr_inodes_overlay;
    char *first_xattr_overlay;
    guint n_restored;           /* entries whose mode or owner is in overlay */
    guint n_chown_failed;       /* debugfs could not chown (no root) */
    guint n_unlisted;           /* output lines or directories ls -p could
                                 * not express (a newline in a name) */
    GPtrArray *notes;           /* char *: what the judgement should say */
} PpExtracted;

void pp_extracted_free(PpExtracted *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpExtracted, pp_extracted_free)

/*
 * Extract the filesystem at byte offset of image into a new directory
 * under g_get_tmp_dir() ($TMPDIR).  interrupted (may be NULL) is polled
 * while debugfs runs: when it becomes non-zero, debugfs is killed and the
 * error is G_IO_ERROR_CANCELLED.  On any error nothing is left behind.
 */
gboolean pp_image_extract(const char *image, guint64 offset,
                          volatile sig_atomic_t *interrupted,
                          PpExtracted **out, GError **error);

/*
 * Whether the root directory of the ext2/3/4 filesystem at offset of
 * image holds a directory name (debugfs ls -p /).  A filesystem debugfs
 * cannot read does not: FALSE only when debugfs cannot be run.
 */
gboolean pp_image_top_has_dir(const char *image, guint64 offset,
                              const char *name, gboolean *has, GError **error);

/* What was extracted and how (counts, times, the debugfs version). */
JsonObject *pp_extracted_to_json(const PpExtracted *x);

/* One line of `debugfs -R "ls -p DIR"`: /INO/MODE/UID/GID/NAME/SIZE/ */
typedef struct {
    guint64 ino;
    guint32 mode;               /* i_mode: type and permission bits */
    guint32 uid;
    guint32 gid;
    char name[256];             /* EXT2_NAME_LEN is 255 */
} PpDebugfsEntry;

gboolean pp_debugfs_parse_ls_line(const char *line, PpDebugfsEntry *out,
                                  GError **error);

#endif /* PP_E2EXTRACT_H */
