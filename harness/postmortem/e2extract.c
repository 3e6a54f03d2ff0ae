/* SPDX-License-Identifier: MIT */
/*
 * e2extract.c: see e2extract.h for what is kept, what is lost and what
 * is done about it.
 *
 * Three steps, each in the private directory TMP (g_dir_make_tmp):
 *   1. debugfs -R 'rdump / "TMP/sysroot"' 'IMAGE?offset=N'
 *   2. walk TMP/sysroot: list its directories, make them u+rwx and the
 *      files u+r (so that neither the oracle nor the removal needs root)
 *   3. debugfs -f TMP/ls.cmds 'IMAGE?offset=N', one `ls -p "/DIR"` per
 *      directory, and compare every name with its extracted copy: what
 *      differs goes into the overlay.
 * debugfs opens the image read-only (no -w): the evidence is not touched.
 */
#include "postmortem/e2extract.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "postmortem/diskimage.h"
#include "postmortem/toolrun.h"
#include "common/fs.h"

/* The file type bits of an ext2 i_mode (the same values as Linux's). */
#define EXT_S_IFMT 0170000
#define EXT_S_IFDIR 0040000
#define EXT_S_IFREG 0100000
#define EXT_S_IFLNK 0120000
#define EXT_S_IFCHR 0020000
#define EXT_S_IFBLK 0060000
#define EXT_S_IFIFO 0010000
#define EXT_S_IFSOCK 0140000

void
pp_extracted_free(PpExtracted *x)
{
    if (x == NULL) {
        return;
    }
    if (x->tmp_dir != NULL && g_getenv("PP_KEEP_EXTRACT") == NULL) {
        g_autoptr(GError) error = NULL;
        if (!pp_rm_rf(x->tmp_dir, &error)) {
            g_printerr("plugpull: %s\n", error->message);
        }
    } else if (x->tmp_dir != NULL) {
        g_printerr("plugpull: kept %s (PP_KEEP_EXTRACT set)\n", x->tmp_dir);
    }
    g_free(x->tmp_dir);
    g_free(x->sysroot);
    g_free(x->debugfs);
    g_free(x->debugfs_version);
    g_free(x->first_broken);
    g_free(x->first_xattr_overlay);
    pp_stat_overlay_free(x->overlay);
    if (x->notes != NULL) {
        g_ptr_array_unref(x->notes);
    }
    g_free(x);
}

/* ---- running debugfs ------------------------------------------------- */

static char *
find_debugfs(GError **error)
{
    char *p = g_find_program_in_path("debugfs");
    if (p != NULL) {
        return p;
    }
    /* Not in a user's PATH on Debian: it is in /usr/sbin. */
    static const char *const fallback[] = { "/usr/sbin/debugfs", "/sbin/debugfs" };
    for (guint i = 0; i < G_N_ELEMENTS(fallback); i++) {
        if (g_file_test(fallback[i], G_FILE_TEST_IS_EXECUTABLE)) {
            return g_strdup(fallback[i]);
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "debugfs not found in PATH, /usr/sbin or /sbin (Debian "
                "package e2fsprogs)");
    return NULL;
}

/* An argument of a debugfs command line (ss_parse): in double quotes,
 * with a quote doubled. */
static char *
ss_quote(const char *s)
{
    g_autoptr(GString) q = g_string_new("\"");
    for (const char *p = s; *p != '\0'; p++) {
        g_string_append_c(q, *p);
        if (*p == '"') {
            g_string_append_c(q, '"');
        }
    }
    g_string_append_c(q, '"');
    return g_string_free(g_steal_pointer(&q), FALSE);
}

/* debugfs, its environment set for parsing: no translations, no pager
 * for ls.  Any exit status but 0 is a failure. */
static gboolean
run_debugfs(const char *const *argv, volatile sig_atomic_t *interrupted,
            GBytes **out, char **err, GError **error)
{
    static const char *const env[] = { "DEBUGFS_PAGER=__none__", NULL };
    return pp_tool_run(argv, env, 0, interrupted, out, err, NULL, error);
}

/* What a debugfs stderr line says (see e2extract.h). */
typedef enum {
    LINE_BANNER,
    LINE_TOLERATED,
    LINE_CHOWN,
    LINE_IMAGE,
    LINE_HOST,
} LineKind;

static LineKind
classify(const char *line)
{
    /* From e2fsprogs debugfs/dump.c and the open path (1.47).  Image-side
     * first: "while opening ext2 file" must not be taken for the host's
     * "while opening PATH". */
    static const char *const image_side[] = {
        "while trying to open", "Filesystem not open", "ext2 file",
        "while opening symlink", "while reading symlink",
        "while closing symlink", "while dumping", "while reading inode",
        "bitmap", "super-block", "superblock", "File not found",
        "Corrupt", "corrupt",
    };
    if (g_str_has_prefix(line, "debugfs ")) {
        return LINE_BANNER;
    }
    for (guint i = 0; i < G_N_ELEMENTS(image_side); i++) {
        if (strstr(line, image_side[i]) != NULL) {
            return LINE_IMAGE;
        }
    }
    if (strstr(line, "while changing ownership of") != NULL) {
        return LINE_CHOWN;
    }
    if (strstr(line, "while setting permissions of") != NULL
        || strstr(line, "while setting times of") != NULL) {
        return LINE_TOLERATED;
    }
    return LINE_HOST;
}

/*
 * Sort debugfs's stderr: FALSE with PP_DISK_ERROR_CORRUPT when a line
 * says the image cannot be read, G_IO_ERROR_FAILED for any other unknown
 * line; what, the command line, names it.
 */
static gboolean
check_stderr(const char *what, const char *text, PpExtracted *x,
             GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *first_image = NULL;
    const char *first_host = NULL;
    guint n_bad = 0;
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];
        if (*l == '\0') {
            continue;
        }
        switch (classify(l)) {
        case LINE_BANNER:
            if (x->debugfs_version == NULL) {
                /* "debugfs 1.47.0 (5-Feb-2023)" */
                const char *v = l + strlen("debugfs ");
                x->debugfs_version = g_strndup(v, strcspn(v, " "));
            }
            break;
        case LINE_CHOWN:
            x->n_chown_failed++;
            break;
        case LINE_TOLERATED:
            break;
        case LINE_IMAGE:
            n_bad++;
            first_image = first_image != NULL ? first_image : l;
            break;
        case LINE_HOST:
            n_bad++;
            first_host = first_host != NULL ? first_host : l;
            break;
        }
    }
    g_autofree char *more = n_bad > 1 ? g_strdup_printf(" (and %u more "
                                                        "line(s))", n_bad - 1)
                                      : g_strdup("");
    /* debugfs exits 0 whatever happened: say so, or the reader of the
     * message looks for a failing status. */
    if (first_image != NULL) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_CORRUPT,
                    "%s: cannot read the filesystem (and exits 0): %s%s",
                    what, first_image, more);
        return FALSE;
    }
    if (first_host != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: failed (and exits 0): %s%s", what, first_host, more);
        return FALSE;
    }
    return TRUE;
}

/*
 * debugfs -f NAME SPEC: the script's text is written to x->tmp_dir/NAME
 * first (not a result: debugfs' command script, removed after the run),
 * its stdout goes to *out, its stderr is sorted by check_stderr().
 */
static gboolean
run_debugfs_script(PpExtracted *x, const char *name, const GString *script,
                   const char *spec, volatile sig_atomic_t *interrupted,
                   GBytes **out, GError **error)
{
    g_autofree char *cmd_file = g_build_filename(x->tmp_dir, name, NULL);
    if (!g_file_set_contents(cmd_file, script->str, (gssize)script->len,
                             error)) {
        g_prefix_error(error, "writing %s: ", cmd_file);
        return FALSE;
    }
    const char *argv[] = { x->debugfs, "-f", cmd_file, spec, NULL };
    g_autofree char *err = NULL;
    gboolean ran = run_debugfs(argv, interrupted, out, &err, error);
    (void)g_unlink(cmd_file);
    if (!ran) {
        return FALSE;
    }
    g_autofree char *what = pp_tool_line(argv);
    return check_stderr(what, err, x, error);
}

/* ---- step 2: the extracted directories ------------------------------ */

static gboolean
is_interrupted(volatile sig_atomic_t *interrupted, GError **error)
{
    if (interrupted != NULL && *interrupted) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
        return TRUE;
    }
    return FALSE;
}

static gboolean
chmod_or_throw(const char *path, mode_t mode, GError **error)
{
    if (chmod(path, mode) < 0) {
        pp_throw_errno_prefix(error, "chmod(%s, %04o)", path, (guint)mode);
        return FALSE;
    }
    return TRUE;
}

/*
 * Append rel (a directory relative to root, "" for root itself) and every
 * directory under it to dirs; make each u+rwx and each regular file u+r.
 */
static gboolean
collect_dirs(const char *root, const char *rel, GPtrArray *dirs,
             volatile sig_atomic_t *interrupted, GError **error)
{
    if (is_interrupted(interrupted, error)) {
        return FALSE;
    }
    g_autofree char *path = *rel != '\0' ? g_build_filename(root, rel, NULL)
                                         : g_strdup(root);
    g_ptr_array_add(dirs, g_strdup(rel));
    g_autoptr(GDir) d = g_dir_open(path, 0, error);
    if (d == NULL) {
        return FALSE;
    }
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *crel = *rel != '\0' ? g_strconcat(rel, "/", name, NULL)
                                             : g_strdup(name);
        g_autofree char *cpath = g_build_filename(root, crel, NULL);
        struct stat st;
        if (lstat(cpath, &st) < 0) {
            pp_throw_errno_prefix(error, "lstat(%s)", cpath);
            return FALSE;
        }
        if (S_ISDIR(st.st_mode)) {
            if ((st.st_mode & 0700) != 0700
                && !chmod_or_throw(cpath, (st.st_mode & 07777) | 0700, error)) {
                return FALSE;
            }
            if (!collect_dirs(root, crel, dirs, interrupted, error)) {
                return FALSE;
            }
        } else if (S_ISREG(st.st_mode) && (st.st_mode & 0400) == 0
                   && !chmod_or_throw(cpath, (st.st_mode & 07777) | 0400, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- step 3: the image's own modes and owners ----------------------- */

static gboolean
parse_uint(const char *s, guint base, guint64 max, guint64 *out,
           const char *what, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (!g_ascii_string_to_unsigned(s, base, 0, max, out, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", what,
                    local->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_debugfs_parse_ls_line(const char *line, PpDebugfsEntry *out, GError **error)
{
    /* "/INO/MODE/UID/GID/NAME/SIZE/" (SIZE empty for a directory); a name
     * cannot hold '/', so the split is exact. */
    g_auto(GStrv) f = g_strsplit(line, "/", -1);
    if (g_strv_length(f) != 8 || *f[0] != '\0' || *f[7] != '\0') {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "not a line of debugfs ls -p: \"%s\"", line);
        return FALSE;
    }
    guint64 ino = 0;
    guint64 mode = 0;
    guint64 uid = 0;
    guint64 gid = 0;
    if (!parse_uint(f[1], 10, G_MAXUINT32, &ino, "inode", error)
        || !parse_uint(f[2], 8, 0177777, &mode, "mode", error)
        || !parse_uint(f[3], 10, G_MAXUINT32, &uid, "uid", error)
        || !parse_uint(f[4], 10, G_MAXUINT32, &gid, "gid", error)) {
        g_prefix_error(error, "debugfs ls -p line \"%s\": ", line);
        return FALSE;
    }
    /* Inode 0 is an unused slot of the directory (a deleted name, the
     * tail of a block): debugfs prints it with an empty name. */
    gsize n = strlen(f[5]);
    if ((n == 0 && ino != 0) || n >= sizeof out->name) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "debugfs ls -p line \"%s\": a name of %" G_GSIZE_FORMAT
                    " bytes", line, n);
        return FALSE;
    }
    out->ino = ino;
    out->mode = (guint32)mode;
    out->uid = (guint32)uid;
    out->gid = (guint32)gid;
    memcpy(out->name, f[5], n + 1);
    return TRUE;
}

typedef struct {
    PpExtracted *x;
    GHashTable *names_by_ino;   /* regular files: image inode -> names */
    GHashTable *path_by_ino;    /* every extracted inode -> its first name
                                 * (char *, relative to the sysroot) */
    guint n_missing;
    char *first_missing;
} Listing;

static gboolean
mode_type_matches(guint32 ext_mode, mode_t host_mode)
{
    switch (ext_mode & EXT_S_IFMT) {
    case EXT_S_IFDIR:
        return S_ISDIR(host_mode);
    case EXT_S_IFREG:
        return S_ISREG(host_mode);
    case EXT_S_IFLNK:
        return S_ISLNK(host_mode);
    }
    return FALSE;
}

static gboolean
take_entry(Listing *ls, const char *dir, const PpDebugfsEntry *e,
           GError **error)
{
    PpExtracted *x = ls->x;
    if (e->ino == 0 || strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0) {
        return TRUE;
    }
    guint32 type = e->mode & EXT_S_IFMT;
    gboolean special = type != EXT_S_IFDIR && type != EXT_S_IFREG
                       && type != EXT_S_IFLNK;
    if (type == EXT_S_IFDIR) {
        x->n_dirs++;
    } else if (type == EXT_S_IFREG) {
        x->n_files++;
        gpointer key = GSIZE_TO_POINTER((gsize)e->ino);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ls->names_by_ino, key));
        g_hash_table_insert(ls->names_by_ino, key, GUINT_TO_POINTER(n + 1));
    } else if (type == EXT_S_IFLNK) {
        x->n_symlinks++;
    } else if (type == EXT_S_IFCHR || type == EXT_S_IFBLK || type == EXT_S_IFIFO
               || type == EXT_S_IFSOCK) {
        x->n_special++;
    } else {
        /* A name whose inode has no type (cleared, or garbage): rdump
         * skips it and says nothing; the kernel would fail to read it.
         * Judged as missing, which is what the device would meet. */
        x->n_broken++;
        if (x->first_broken == NULL) {
            x->first_broken = g_strconcat("/", dir, *dir != '\0' ? "/" : "",
                                          e->name, NULL);
        }
    }
    g_autofree char *rel = *dir != '\0' ? g_strconcat(dir, "/", e->name, NULL)
                                        : g_strdup(e->name);
    g_autofree char *path = g_build_filename(x->sysroot, rel, NULL);
    gpointer ikey = GSIZE_TO_POINTER((gsize)e->ino);
    const char *first = g_hash_table_lookup(ls->path_by_ino, ikey);
    if (type == EXT_S_IFREG && first != NULL) {
        /* Another name of an inode already extracted: rdump made a copy,
         * the image has one inode.  The copy becomes a link to the first
         * name, so that link counts and inodes are the image's. */
        g_autofree char *target = g_build_filename(x->sysroot, first, NULL);
        if ((unlink(path) < 0 && errno != ENOENT) || link(target, path) < 0) {
            pp_throw_errno_prefix(error, "re-linking %s to %s", path, target);
            return FALSE;
        }
        x->n_copies++;
    } else if (!special && type != 0 && first == NULL
               && (type == EXT_S_IFREG || type == EXT_S_IFDIR
                   || type == EXT_S_IFLNK)) {
        g_hash_table_insert(ls->path_by_ino, ikey, g_strdup(rel));
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        int errsv = errno;
        if (errsv == ENOENT && special) {
            return TRUE;        /* rdump does not dump them */
        }
        if (errsv != ENOENT) {
            errno = errsv;
            pp_throw_errno_prefix(error, "lstat(%s)", path);
            return FALSE;
        }
        if (ls->n_missing++ == 0) {
            ls->first_missing = g_strdup(rel);
        }
        return TRUE;
    }
    if (special || !mode_type_matches(e->mode, st.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: extracted as mode 0%o, the image says 0%o", path,
                    (guint)st.st_mode, e->mode);
        return FALSE;
    }
    if ((st.st_mode & 07777) != (e->mode & 07777) || st.st_uid != e->uid
        || st.st_gid != e->gid) {
        pp_stat_overlay_set(x->overlay, st.st_dev, st.st_ino, e->mode & 07777,
                            e->uid, e->gid);
        x->n_restored++;
    }
    return TRUE;
}

/*
 * debugfs -f CMDS: for each command line it prints "debugfs: LINE", then
 * the output.  The k-th echo must be the k-th command, or the listing is
 * not the one asked for.
 */
static gboolean
read_listing(Listing *ls, GBytes *out, GPtrArray *dirs, GPtrArray *cmds,
             GError **error)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(out, &len);
    g_autofree char *text = g_strndup(data != NULL ? data : "", len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gint k = -1;
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, "debugfs: ")) {
            k++;
            if ((guint)k >= cmds->len
                || strcmp(l + strlen("debugfs: "), cmds->pdata[k]) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "debugfs -f: output line %u is \"%s\", expected "
                            "the echo of command %d", i + 1, l, k + 1);
                return FALSE;
            }
            continue;
        }
        if (*l == '\0') {
            continue;
        }
        PpDebugfsEntry e;
        if (k < 0 || *l != '/' || !pp_debugfs_parse_ls_line(l, &e, NULL)) {
            ls->x->n_unlisted++;        /* the rest of a name with a newline */
            continue;
        }
        if (!take_entry(ls, dirs->pdata[k], &e, error)) {
            return FALSE;
        }
    }
    if ((guint)(k + 1) != cmds->len) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "debugfs -f: %d of %u commands echoed", k + 1, cmds->len);
        return FALSE;
    }
    return TRUE;
}

/* "  NAME (LEN) = VALUE" or "  NAME (LEN)": the name, or NULL. */
static char *
ea_list_name(const char *line)
{
    if (!g_str_has_prefix(line, "  ") || line[2] == ' ') {
        return NULL;
    }
    const char *name = line + 2;
    const char *sp = strstr(name, " (");
    if (sp == NULL || sp == name) {
        return NULL;
    }
    const char *p = sp + 2;
    if (!g_ascii_isdigit(*p)) {
        return NULL;
    }
    while (g_ascii_isdigit(*p)) {
        p++;
    }
    if (*p != ')' || (p[1] != '\0' && !g_str_has_prefix(p + 1, " = "))) {
        return NULL;
    }
    return g_strndup(name, (gsize)(sp - name));
}

typedef struct {
    guint64 ino;
    char *name;
    char *file;                 /* where ea_get -f writes the value */
} XattrReq;

static void
xattr_req_free(gpointer p)
{
    XattrReq *r = p;
    g_free(r->name);
    g_free(r->file);
    g_free(r);
}

static gint
cmp_ino(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a;
    guint64 y = *(const guint64 *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* lsetxattr, making a read-only file writable for the time of it. */
static int
set_xattr(const char *path, const char *name, const void *v, gsize len)
{
    if (lsetxattr(path, name, v, len, 0) == 0) {
        return 0;
    }
    int errsv = errno;
    struct stat st;
    if (errsv == EACCES && lstat(path, &st) == 0 && !S_ISLNK(st.st_mode)
        && chmod(path, (st.st_mode & 07777) | S_IWUSR) == 0) {
        int rc = lsetxattr(path, name, v, len, 0);
        errsv = errno;
        (void)chmod(path, st.st_mode & 07777);
        if (rc == 0) {
            return 0;
        }
    }
    errno = errsv;
    return -1;
}

/*
 * Extended attributes: one debugfs run lists them per inode (`ea_list
 * <INO>`), a second reads each value into a file (`ea_get -f FILE <INO>
 * NAME`, the exact bytes), then they are set on the extracted name;
 * where the host refuses (security.* and trusted.* without privilege,
 * user.* on symlinks, a filesystem without xattrs) they go into the
 * overlay, which the oracle's content checksums read.
 */
static gboolean
restore_xattrs(PpExtracted *x, const char *spec, GHashTable *path_by_ino,
               volatile sig_atomic_t *interrupted, GError **error)
{
    g_autoptr(GArray) inos = g_array_new(FALSE, FALSE, sizeof(guint64));
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, path_by_ino);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        guint64 ino = (guint64)GPOINTER_TO_SIZE(k);
        g_array_append_val(inos, ino);
    }
    if (inos->len == 0) {
        return TRUE;
    }
    g_array_sort(inos, cmp_ino);
    g_autoptr(GString) file = g_string_new(NULL);
    for (guint i = 0; i < inos->len; i++) {
        g_string_append_printf(file, "ea_list <%" G_GUINT64_FORMAT ">\n",
                               g_array_index(inos, guint64, i));
    }
    g_autoptr(GBytes) out = NULL;
    if (!run_debugfs_script(x, "ea.cmds", file, spec, interrupted, &out,
                            error)) {
        return FALSE;
    }
    g_autofree char *vdir = g_build_filename(x->tmp_dir, "xattr", NULL);
    if (g_mkdir(vdir, 0700) < 0) {
        pp_throw_errno_prefix(error, "mkdir(%s)", vdir);
        return FALSE;
    }
    g_autoptr(GPtrArray) reqs = g_ptr_array_new_with_free_func(xattr_req_free);
    {
        gsize len = 0;
        const char *data = g_bytes_get_data(out, &len);
        g_autofree char *text = g_strndup(data != NULL ? data : "", len);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        guint64 cur = 0;
        for (guint i = 0; lines[i] != NULL; i++) {
            const char *l = lines[i];
            if (g_str_has_prefix(l, "debugfs: ea_list <")) {
                cur = g_ascii_strtoull(l + strlen("debugfs: ea_list <"), NULL, 10);
                continue;
            }
            char *name = ea_list_name(l);
            /* system.data is ext4's inline data, not an attribute. */
            if (name == NULL || cur == 0 || strcmp(name, "system.data") == 0) {
                g_free(name);
                continue;
            }
            XattrReq *r = g_new0(XattrReq, 1);
            r->ino = cur;
            r->name = name;
            r->file = g_strdup_printf("%s/%u", vdir, reqs->len);
            g_ptr_array_add(reqs, r);
        }
    }
    if (reqs->len == 0) {
        (void)g_rmdir(vdir);
        return TRUE;
    }
    g_string_truncate(file, 0);
    for (guint i = 0; i < reqs->len; i++) {
        const XattrReq *r = reqs->pdata[i];
        g_autofree char *qf = ss_quote(r->file);
        g_autofree char *qn = ss_quote(r->name);
        g_string_append_printf(file, "ea_get -f %s <%" G_GUINT64_FORMAT "> %s\n",
                               qf, r->ino, qn);
    }
    g_clear_pointer(&out, g_bytes_unref);
    if (!run_debugfs_script(x, "ea.cmds", file, spec, interrupted, &out,
                            error)) {
        return FALSE;
    }
    guint64 last = 0;
    gboolean last_overlay = FALSE;
    for (guint i = 0; i < reqs->len; i++) {
        const XattrReq *r = reqs->pdata[i];
        const char *rel = g_hash_table_lookup(path_by_ino,
                                              GSIZE_TO_POINTER((gsize)r->ino));
        g_autofree char *path = g_build_filename(x->sysroot, rel, NULL);
        g_autofree char *value = NULL;
        gsize vlen = 0;
        if (!g_file_get_contents(r->file, &value, &vlen, error)) {
            g_prefix_error(error, "debugfs ea_get of %s on /%s: ", r->name, rel);
            return FALSE;
        }
        (void)g_unlink(r->file);
        if (r->ino != last) {
            x->n_xattr_inodes++;
            last_overlay = FALSE;
        }
        if (set_xattr(path, r->name, value, vlen) == 0) {
            x->n_xattrs_set++;
        } else {
            struct stat st;
            if (lstat(path, &st) < 0) {
                pp_throw_errno_prefix(error, "lstat(%s)", path);
                return FALSE;
            }
            pp_stat_overlay_add_xattr(x->overlay, st.st_dev, st.st_ino, r->name,
                                      value, vlen);
            x->n_xattrs_overlay++;
            if (!last_overlay) {
                x->n_xattr_inodes_overlay++;
                last_overlay = TRUE;
            }
            if (x->first_xattr_overlay == NULL) {
                x->first_xattr_overlay = g_strdup_printf("%s on /%s (%s)", r->name,
                                                         rel, g_strerror(errno));
            }
        }
        last = r->ino;
    }
    (void)g_rmdir(vdir);
    return TRUE;
}

static gboolean
restore_metadata(PpExtracted *x, const char *spec,
                 volatile sig_atomic_t *interrupted, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
    if (!collect_dirs(x->sysroot, "", all, interrupted, error)) {
        g_prefix_error(error, "walking %s: ", x->sysroot);
        return FALSE;
    }
    /* A command file is read line by line (and cut at '\r'): a directory
     * whose path holds either cannot be named in it. */
    g_autoptr(GPtrArray) dirs = g_ptr_array_new();
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) file = g_string_new(NULL);
    for (guint i = 0; i < all->len; i++) {
        const char *d = all->pdata[i];
        if (strpbrk(d, "\n\r") != NULL) {
            x->n_unlisted++;
            continue;
        }
        g_autofree char *abs = g_strconcat("/", d, NULL);
        g_autofree char *q = ss_quote(abs);
        char *cmd = g_strconcat("ls -p ", q, NULL);
        g_string_append_printf(file, "%s\n", cmd);
        g_ptr_array_add(cmds, cmd);
        g_ptr_array_add(dirs, (gpointer)d);
    }
    g_autoptr(GBytes) out = NULL;
    if (!run_debugfs_script(x, "ls.cmds", file, spec, interrupted, &out,
                            error)) {
        return FALSE;
    }
    Listing ls = {
        .x = x,
        .names_by_ino = g_hash_table_new(g_direct_hash, g_direct_equal),
        .path_by_ino = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                             NULL, g_free),
    };
    gboolean ok = read_listing(&ls, out, dirs, cmds, error);
    x->list_seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    if (ok && ls.n_missing == 0) {
        gint64 t1 = g_get_monotonic_time();
        ok = restore_xattrs(x, spec, ls.path_by_ino, interrupted, error);
        x->xattr_seconds = (double)(g_get_monotonic_time() - t1) / G_USEC_PER_SEC;
    }
    g_hash_table_unref(ls.path_by_ino);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, ls.names_by_ino);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        guint n = GPOINTER_TO_UINT(v);
        if (n > 1) {
            x->n_hardlinked++;
        }
    }
    g_hash_table_unref(ls.names_by_ino);
    g_autofree char *first_missing = ls.first_missing;
    if (ok && ls.n_missing > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "debugfs rdump left out %u name(s) of the image (first: "
                    "/%s)", ls.n_missing, first_missing);
        ok = FALSE;
    }
    return ok;
}

/* ---- the whole extraction ------------------------------------------- */

static void
add_notes(PpExtracted *x)
{
    if (x->n_restored > 0) {
        g_ptr_array_add(x->notes, g_strdup_printf(
                            "%u name(s) have their mode or owner from the image's "
                            "inodes, not from the extracted copy (rdump drops "
                            "setuid/setgid/sticky%s)", x->n_restored,
                            x->n_chown_failed > 0 ? " and, without root, every owner"
                                                  : " and the owner of symlinks"));
    }
    if (x->n_xattrs_overlay > 0) {
        g_ptr_array_add(x->notes, g_strdup_printf(
                            "%u extended attribute(s) of %u inode(s) could not be "
                            "set on the extracted files (first: %s): kept for "
                            "the content checksums", x->n_xattrs_overlay,
                            x->n_xattr_inodes_overlay, x->first_xattr_overlay));
    }
    if (x->n_special > 0) {
        g_ptr_array_add(x->notes, g_strdup_printf(
                            "%u device node(s), fifo(s) or socket(s) not "
                            "extracted (rdump skips them)", x->n_special));
    }
    if (x->n_broken > 0) {
        g_ptr_array_add(x->notes, g_strdup_printf(
                            "%u name(s) point to an inode of no file type "
                            "(cleared or corrupt; first: %s): not extracted, so "
                            "judged missing; the filesystem needs e2fsck",
                            x->n_broken, x->first_broken));
    }
    if (x->n_unlisted > 0) {
        g_ptr_array_add(x->notes, g_strdup_printf(
                            "%u name(s) with a newline or carriage return could "
                            "not be listed: their mode and owner are rdump's",
                            x->n_unlisted));
    }
}

gboolean
pp_image_extract(const char *image, guint64 offset,
                 volatile sig_atomic_t *interrupted, PpExtracted **out,
                 GError **error)
{
    g_autoptr(PpExtracted) x = g_new0(PpExtracted, 1);
    x->notes = g_ptr_array_new_with_free_func(g_free);
    x->overlay = pp_stat_overlay_new();
    x->debugfs = find_debugfs(error);
    if (x->debugfs == NULL) {
        return FALSE;
    }
    x->tmp_dir = g_dir_make_tmp("plugpull-inspect-XXXXXX", error);
    if (x->tmp_dir == NULL) {
        g_prefix_error(error, "making a temporary directory under %s: ",
                       g_get_tmp_dir());
        return FALSE;
    }
    x->sysroot = g_build_filename(x->tmp_dir, "sysroot", NULL);
    if (g_mkdir(x->sysroot, 0700) < 0) {
        pp_throw_errno_prefix(error, "mkdir(%s)", x->sysroot);
        return FALSE;
    }
    /* libext2fs splits the device name at its first '?' (io options):
     * an image whose path holds one is reached through a symlink. */
    g_autofree char *device = g_strdup(image);
    if (strchr(image, '?') != NULL) {
        g_free(device);
        device = g_build_filename(x->tmp_dir, "image", NULL);
        g_autofree char *abs = g_canonicalize_filename(image, NULL);
        if (strchr(device, '?') != NULL || symlink(abs, device) < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "%s: debugfs cannot open a path with '?' (and a link "
                        "at %s failed)", image, device);
            return FALSE;
        }
    }
    g_autofree char *spec = g_strdup_printf("%s?offset=%" G_GUINT64_FORMAT,
                                            device, offset);
    g_autofree char *dest = ss_quote(x->sysroot);
    g_autofree char *request = g_strconcat("rdump / ", dest, NULL);
    const char *argv[] = { x->debugfs, "-R", request, spec, NULL };
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *err = NULL;
    if (!run_debugfs(argv, interrupted, NULL, &err, error)) {
        return FALSE;
    }
    g_autofree char *what = pp_tool_line(argv);
    if (!check_stderr(what, err, x, error)) {
        return FALSE;
    }
    x->rdump_seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    if (!restore_metadata(x, spec, interrupted, error)) {
        return FALSE;
    }
    if (x->debugfs_version == NULL) {
        x->debugfs_version = g_strdup("unknown");
    }
    add_notes(x);
    *out = g_steal_pointer(&x);
    return TRUE;
}

gboolean
pp_image_top_has_dir(const char *image, guint64 offset, const char *name,
                     gboolean *has, GError **error)
{
    *has = FALSE;
    if (strchr(image, '?') != NULL) {
        return TRUE;            /* libext2fs would cut the name there */
    }
    g_autofree char *debugfs = find_debugfs(error);
    if (debugfs == NULL) {
        return FALSE;
    }
    g_autofree char *spec = g_strdup_printf("%s?offset=%" G_GUINT64_FORMAT,
                                            image, offset);
    const char *argv[] = { debugfs, "-R", "ls -p /", spec, NULL };
    g_autoptr(GBytes) out = NULL;
    g_autofree char *err = NULL;
    /* A filesystem debugfs cannot read holds no ostree/: not an error
     * here, the chosen one is read again (and refused) by the extraction. */
    if (!run_debugfs(argv, NULL, &out, &err, error)) {
        return FALSE;
    }
    gsize len = 0;
    const char *data = g_bytes_get_data(out, &len);
    g_autofree char *text = g_strndup(data != NULL ? data : "", len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        PpDebugfsEntry e;
        if (pp_debugfs_parse_ls_line(lines[i], &e, NULL)
            && (e.mode & EXT_S_IFMT) == EXT_S_IFDIR && strcmp(e.name, name) == 0) {
            *has = TRUE;
        }
    }
    return TRUE;
}

JsonObject *
pp_extracted_to_json(const PpExtracted *x)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "tool", "debugfs rdump");
    json_object_set_string_member(o, "debugfs_version", x->debugfs_version);
    json_object_set_double_member(o, "rdump_seconds", x->rdump_seconds);
    json_object_set_double_member(o, "list_seconds", x->list_seconds);
    json_object_set_int_member(o, "dirs", x->n_dirs);
    json_object_set_int_member(o, "files", x->n_files);
    json_object_set_int_member(o, "symlinks", x->n_symlinks);
    json_object_set_int_member(o, "special_not_extracted", x->n_special);
    json_object_set_int_member(o, "hardlinked_inodes", x->n_hardlinked);
    json_object_set_int_member(o, "relinked_names", x->n_copies);
    json_object_set_double_member(o, "xattr_seconds", x->xattr_seconds);
    json_object_set_int_member(o, "xattr_inodes", x->n_xattr_inodes);
    json_object_set_int_member(o, "xattrs_set", x->n_xattrs_set);
    json_object_set_int_member(o, "xattrs_in_overlay", x->n_xattrs_overlay);
    json_object_set_int_member(o, "mode_or_owner_from_image", x->n_restored);
    json_object_set_int_member(o, "chown_failed", x->n_chown_failed);
    json_object_set_int_member(o, "broken", x->n_broken);
    json_object_set_int_member(o, "unlisted", x->n_unlisted);
    return o;
}
