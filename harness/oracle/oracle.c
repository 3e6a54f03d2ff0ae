/* SPDX-License-Identifier: MIT */
/*
 * oracle.c: see oracle.h for what is judged and why.
 *
 * Everything is read through one directory fd of the sysroot with *at()
 * calls and without following symlinks, except where a boot would follow
 * them, and then through pp_oracle_resolve_in_root(): a crash state is
 * untrusted input and must not make the oracle read the host.
 *
 * Single-threaded; one Judge per call holds the per-judgement caches.
 */
#include "oracle/oracle.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/util.h"
#include "common/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#define PP_MAX_SYMLINK_HOPS 40
#define PP_MAX_PROBLEMS 20
#define PP_DEFAULT_MAX_DIFFS 20

/* ---- freeing -------------------------------------------------------- */

static void
tree_diff_free(PpTreeDiff *d)
{
    g_free(d->path);
    g_free(d->kind);
    g_free(d->detail);
    g_free(d);
}

static void
boot_entry_free(PpBootEntry *e)
{
    g_free(e->source);
    g_free(e->title);
    g_free(e->version);
    g_free(e->options);
    g_free(e->linux_path);
    g_free(e->initrd_path);
    g_free(e->devicetree_path);
    g_free(e->boot_error);
    g_free(e->ostree_arg);
    g_free(e->deploy_path);
    g_free(e->osname);
    g_free(e->commit);
    g_free(e->bootcsum);
    g_free(e->bootcsum_actual);
    g_free(e->tree_version);
    g_free(e->tree_error);
    g_clear_pointer(&e->diffs, g_ptr_array_unref);
    g_free(e);
}

static void
ref_info_free(PpRefInfo *r)
{
    g_free(r->name);
    g_free(r->commit);
    g_free(r);
}

void
pp_judgement_free(PpJudgement *j)
{
    if (j == NULL) {
        return;
    }
    g_free(j->reason);
    g_free(j->backend);
    g_free(j->loader_error);
    g_free(j->kernel_loader);
    g_free(j->views_note);
    g_clear_pointer(&j->entries, g_ptr_array_unref);
    g_clear_pointer(&j->repo.refs, g_ptr_array_unref);
    g_clear_pointer(&j->repo.problems, g_ptr_array_unref);
    g_free(j);
}

/* ---- small fd helpers ----------------------------------------------- */



static int
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory dfd/rel, sorted (so evidence is stable). */
static gboolean
list_dir_at(int dfd, const char *rel, int *out_fd, GPtrArray **out_names,
            GError **error)
{
    int fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return pp_throw_errno_prefix(error, "openat(%s)", rel);
    }
    int fd2 = dup(fd);
    if (fd2 < 0) {
        int errsv = errno;
        close(fd);
        errno = errsv;
        return pp_throw_errno_prefix(error, "dup(%s)", rel);
    }
    pp_autodir DIR *d = fdopendir(fd2);
    if (d == NULL) {
        int errsv = errno;
        close(fd);
        close(fd2);
        errno = errsv;
        return pp_throw_errno_prefix(error, "fdopendir(%s)", rel);
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            g_ptr_array_add(names, g_strdup(de->d_name));
        }
        errno = 0;
    }
    if (errno != 0) {
        int errsv = errno;
        g_ptr_array_unref(names);
        close(fd);
        errno = errsv;
        return pp_throw_errno_prefix(error, "readdir(%s)", rel);
    }
    g_ptr_array_sort(names, cmp_names);
    *out_fd = fd;
    *out_names = names;
    return TRUE;
}

static gboolean
read_file_at(int dfd, const char *rel, char **out, gsize *out_len,
             GError **error)
{
    pp_autofd int fd = openat(dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return pp_throw_errno_prefix(error, "openat(%s)", rel);
    }
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[16384];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return pp_throw_errno_prefix(error, "read(%s)", rel);
        }
        if (n == 0) {
            break;
        }
        g_string_append_len(s, buf, n);
    }
    if (out_len != NULL) {
        *out_len = s->len;
    }
    *out = g_string_free(g_steal_pointer(&s), FALSE);
    return TRUE;
}

/* ---- resolving inside the sysroot ----------------------------------- */

static char *
join_components(GPtrArray *comps)
{
    g_ptr_array_add(comps, NULL);
    char *s = g_strjoinv("/", (char **)comps->pdata);
    g_ptr_array_remove_index(comps, comps->len - 1);
    return s;
}

/* Push path's components on the stack so that the first is on top. */
static void
push_components(GPtrArray *stack, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    for (guint n = g_strv_length(parts); n > 0; n--) {
        g_ptr_array_add(stack, g_strdup(parts[n - 1]));
    }
}

gboolean
pp_oracle_resolve_in_root(int root_dfd, const char *path, gboolean follow_last,
                          char **out_rel, GError **error)
{
    g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
    guint hops = 0;
    push_components(pending, path);
    while (pending->len > 0) {
        g_autofree char *c = g_ptr_array_steal_index(pending, pending->len - 1);
        if (*c == '\0' || strcmp(c, ".") == 0) {
            continue;
        }
        if (strcmp(c, "..") == 0) {
            if (done->len == 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "%s: \"..\" leaves the sysroot", path);
                return FALSE;
            }
            g_ptr_array_remove_index(done, done->len - 1);
            continue;
        }
        g_ptr_array_add(done, g_steal_pointer(&c));
        g_autofree char *cur = join_components(done);
        struct stat st;
        if (fstatat(root_dfd, cur, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            return pp_throw_errno_prefix(error, "lstat(%s)", cur);
        }
        /* Trailing empty components ("a/b/") do not make b non-last. */
        gboolean last = TRUE;
        for (guint i = 0; i < pending->len; i++) {
            const char *t = pending->pdata[i];
            if (*t != '\0' && strcmp(t, ".") != 0) {
                last = FALSE;
                break;
            }
        }
        if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
            if (++hops > PP_MAX_SYMLINK_HOPS) {
                errno = ELOOP;
                return pp_throw_errno_prefix(error, "resolve(%s)", path);
            }
            g_autoptr(GError) local = NULL;
            char buf[PATH_MAX];
            ssize_t n = readlinkat(root_dfd, cur, buf, sizeof buf - 1);
            if (n < 0) {
                return pp_throw_errno_prefix(error, "readlink(%s)", cur);
            }
            buf[n] = '\0';
            if (buf[0] == '/') {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "%s -> %s: an absolute target leaves the sysroot",
                            cur, buf);
                return FALSE;
            }
            g_ptr_array_remove_index(done, done->len - 1);
            push_components(pending, buf);
        } else if (!last && !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return pp_throw_errno_prefix(error, "resolve(%s)", cur);
        }
    }
    *out_rel = join_components(done);
    return TRUE;
}

/* ---- the judging context -------------------------------------------- */

typedef struct {
    int sysroot_dfd;            /* the kernel's view */
    int boot_dfd;               /* the bootloader's view: sysroot_dfd, or
                                   opts.boot_view's */
    const PpKnownTrees *known;
    PpOracleOpts opts;
    PpJudgement *j;
    /* Content checksums by inode: within one judgement files do not change,
     * and deployment files are hardlinks of the repo's objects and of each
     * other's, so each inode is read once. */
    GHashTable *csum_by_inode;      /* PpInodeKey * -> char * */
    /* Per ostree/repo/objects/XX (XX as a number): its st_ino, 0 not
     * looked at yet, G_MAXUINT64 not a directory. */
    guint64 objdir_ino[256];
    gboolean repo_archive;      /* content objects are .filez */
} Judge;

/*
 * ostree's content checksum of dfd/rel (st from lstat), cached by inode.
 * The returned string belongs to the cache.
 */
static gint
cmp_xattr(gconstpointer a, gconstpointer b)
{
    GVariant *x = *(GVariant *const *)a;
    GVariant *y = *(GVariant *const *)b;
    g_autoptr(GVariant) nx = g_variant_get_child_value(x, 0);
    g_autoptr(GVariant) ny = g_variant_get_child_value(y, 0);
    return strcmp(g_variant_get_data(nx), g_variant_get_data(ny));
}

/* See oracle.h. */
gboolean
pp_oracle_checksum_with_xattrs(int dfd, const char *rel, const struct stat *st,
                           GVariant *extra, char **out, GError **error)
{
    pp_autofd int pfd = openat(dfd, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0) {
        pp_throw_errno_prefix(error, "openat(%s)", rel);
        return FALSE;
    }
    g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", pfd);
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(
        (GDestroyNotify)g_variant_unref);
    ssize_t n = listxattr(proc, NULL, 0);
    if (n > 0) {
        g_autofree char *names = g_malloc((gsize)n);
        n = listxattr(proc, names, (size_t)n);
        for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
            const char *nm = names + i;
            ssize_t vl = getxattr(proc, nm, NULL, 0);
            if (vl < 0) {
                continue;
            }
            g_autofree char *v = g_malloc((gsize)vl + 1);
            vl = getxattr(proc, nm, v, (size_t)vl);
            if (vl < 0) {
                continue;
            }
            GVariant *vn = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, nm,
                                                     strlen(nm) + 1, 1);
            GVariant *vv = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, v,
                                                     (gsize)vl, 1);
            g_ptr_array_add(all, g_variant_ref_sink(g_variant_new("(@ay@ay)", vn, vv)));
        }
    }
    for (gsize i = 0; i < g_variant_n_children(extra); i++) {
        g_ptr_array_add(all, g_variant_get_child_value(extra, i));
    }
    g_ptr_array_sort(all, cmp_xattr);
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a(ayay)"));
    for (guint i = 0; i < all->len; i++) {
        g_variant_builder_add_value(&b, all->pdata[i]);
    }
    g_autoptr(GVariant) xattrs = g_variant_ref_sink(g_variant_builder_end(&b));
    g_autoptr(GFileInfo) fi = g_file_info_new();
    g_file_info_set_attribute_uint32(fi, "unix::uid", st->st_uid);
    g_file_info_set_attribute_uint32(fi, "unix::gid", st->st_gid);
    g_file_info_set_attribute_uint32(fi, "unix::mode", st->st_mode);
    g_autoptr(GInputStream) in = NULL;
    if (S_ISREG(st->st_mode)) {
        g_file_info_set_file_type(fi, G_FILE_TYPE_REGULAR);
        g_file_info_set_size(fi, st->st_size);
        int fd = openat(dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            pp_throw_errno_prefix(error, "openat(%s)", rel);
            return FALSE;
        }
        in = g_unix_input_stream_new(fd, TRUE);
    } else if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t tl = readlinkat(dfd, rel, target, sizeof target - 1);
        if (tl < 0) {
            pp_throw_errno_prefix(error, "readlinkat(%s)", rel);
            return FALSE;
        }
        target[tl] = '\0';
        g_file_info_set_file_type(fi, G_FILE_TYPE_SYMBOLIC_LINK);
        g_file_info_set_is_symlink(fi, TRUE);
        g_file_info_set_symlink_target(fi, target);
    } else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: neither a file nor a symlink", rel);
        return FALSE;
    }
    g_autofree guchar *csum = NULL;
    if (!ostree_checksum_file_from_input(fi, xattrs, in, OSTREE_OBJECT_TYPE_FILE,
                                         &csum, NULL, error)) {
        return FALSE;
    }
    *out = ostree_checksum_from_bytes(csum);
    return TRUE;
}

static gboolean
content_checksum(Judge *jc, int dfd, const char *rel, struct stat *st,
                 guint64 *bytes_hashed, const char **out, GError **error)
{
    /* bytes_hashed counts the bytes of every file whose checksum was
     * checked, read now or known from before (this judgement's inodes,
     * the campaign's cache, an unchanged subtree), so evidence does not
     * depend on what was read first. */
    if (bytes_hashed != NULL && S_ISREG(st->st_mode)) {
        *bytes_hashed += (guint64)st->st_size;
    }
    PpInodeKey k = { st->st_dev, st->st_ino };
    const char *hit = g_hash_table_lookup(jc->csum_by_inode, &k);
    if (hit != NULL) {
        *out = hit;
        return TRUE;
    }
    char *csum = jc->opts.cache != NULL
                 ? pp_oracle_cache_get_checksum(jc->opts.cache, st) : NULL;
    g_autoptr(GVariant) extra = pp_stat_overlay_get_xattrs(jc->opts.overlay, st);
    if (csum == NULL && extra != NULL) {
        if (!pp_oracle_checksum_with_xattrs(dfd, rel, st, extra, &csum, error)) {
            g_prefix_error(error, "checksumming %s: ", rel);
            return FALSE;
        }
    } else if (csum == NULL) {
        if (!ostree_checksum_file_at(dfd, rel, st, OSTREE_OBJECT_TYPE_FILE,
                                     OSTREE_CHECKSUM_FLAGS_NONE, &csum, NULL,
                                     error)) {
            g_prefix_error(error, "checksumming %s: ", rel);
            return FALSE;
        }
        if (jc->opts.cache != NULL) {
            pp_oracle_cache_put_checksum(jc->opts.cache, st, csum);
        }
    }
    PpInodeKey *key = g_memdup2(&k, sizeof k);
    g_hash_table_insert(jc->csum_by_inode, key, csum);
    *out = csum;
    return TRUE;
}

/* ---- step 1: boot selection ----------------------------------------- */

static PpBootEntry *
boot_entry_new(guint index, char *source)
{
    PpBootEntry *e = g_new0(PpBootEntry, 1);
    e->index = index;
    e->source = source;
    e->serial = -1;
    e->diffs = g_ptr_array_new_with_free_func((GDestroyNotify)tree_diff_free);
    return e;
}

static gboolean
read_loader_link(Judge *jc)
{
    PpJudgement *j = jc->j;
    char buf[64];
    ssize_t n = readlinkat(jc->boot_dfd, "boot/loader", buf, sizeof buf - 1);
    if (n < 0) {
        int errsv = errno;
        if (errsv == EINVAL) {
            j->loader_error = g_strdup("boot/loader is not a symlink");
        } else {
            j->loader_error = g_strdup_printf("readlink(boot/loader): %s",
                                              g_strerror(errsv));
        }
        return FALSE;
    }
    buf[n] = '\0';
    if (strcmp(buf, "loader.0") != 0 && strcmp(buf, "loader.1") != 0) {
        j->loader_error = g_strdup_printf("boot/loader -> %s: not loader.0 "
                                          "or loader.1", buf);
        return FALSE;
    }
    j->bootversion = buf[7] - '0';
    struct stat st;
    g_autofree char *dir = g_strdup_printf("boot/loader.%d", j->bootversion);
    if (fstatat(jc->boot_dfd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0
        || !S_ISDIR(st.st_mode)) {
        j->loader_error = g_strdup_printf("boot/loader -> %s: %s is not a "
                                          "directory", buf, dir);
        return FALSE;
    }
    return TRUE;
}

/* ostree's own choice (_ostree_sysroot_query_bootloader), narrowed to the
 * two backends a directory sysroot can have. */
static const char *
choose_backend(Judge *jc)
{
    if (jc->opts.bootloader == PP_BOOTLOADER_UBOOT) {
        return "uboot";
    }
    if (jc->opts.bootloader == PP_BOOTLOADER_BLS) {
        return "bls";
    }
    g_autofree char *config = NULL;
    if (read_file_at(jc->sysroot_dfd, "ostree/repo/config", &config, NULL, NULL)) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        if (g_key_file_load_from_data(kf, config, -1, G_KEY_FILE_NONE, NULL)) {
            g_autofree char *bl = g_key_file_get_string(kf, "sysroot",
                                                        "bootloader", NULL);
            if (g_strcmp0(bl, "uboot") == 0) {
                return "uboot";
            }
            if (g_strcmp0(bl, "none") == 0) {
                return "bls";
            }
        }
    }
    g_autofree char *uenv = g_strdup_printf("boot/loader.%d/uEnv.txt",
                                            jc->j->bootversion);
    struct stat st;
    if (fstatat(jc->boot_dfd, uenv, &st, AT_SYMLINK_NOFOLLOW) == 0
        && S_ISREG(st.st_mode)) {
        return "uboot";
    }
    return "bls";
}

/* ostree's compare_boot_loader_configs(): descending version, entries
 * without one last. */
static int
cmp_bls_entries(gconstpointer a, gconstpointer b)
{
    const PpBootEntry *x = *(PpBootEntry *const *)a;
    const PpBootEntry *y = *(PpBootEntry *const *)b;
    if (x->version != NULL && y->version != NULL) {
        return -strverscmp(x->version, y->version);
    }
    if (x->version != NULL) {
        return -1;
    }
    if (y->version != NULL) {
        return 1;
    }
    return 0;
}

static int
cmp_sources_desc(gconstpointer a, gconstpointer b)
{
    const PpBootEntry *x = *(PpBootEntry *const *)a;
    const PpBootEntry *y = *(PpBootEntry *const *)b;
    return -strverscmp(x->source, y->source);
}

static void
read_bls_entries(Judge *jc)
{
    PpJudgement *j = jc->j;
    g_autofree char *dir = g_strdup_printf("boot/loader.%d/entries", j->bootversion);
    pp_autofd int dfd = -1;
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GError) local = NULL;
    if (!list_dir_at(jc->boot_dfd, dir, &dfd, &names, &local)) {
        j->loader_error = g_strdup(local->message);
        return;
    }
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        struct stat st;
        if (!g_str_has_prefix(name, "ostree-") || !g_str_has_suffix(name, ".conf")
            || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0
            || !S_ISREG(st.st_mode)) {
            continue;
        }
        PpBootEntry *e = boot_entry_new(0, g_strconcat(dir, "/", name, NULL));
        g_ptr_array_add(j->entries, e);
        g_autoptr(OstreeBootconfigParser) p = ostree_bootconfig_parser_new();
        g_autoptr(GError) perr = NULL;
        if (!ostree_bootconfig_parser_parse_at(p, dfd, name, NULL, &perr)) {
            e->boot_error = g_strdup_printf("parsing %s: %s", e->source,
                                            perr->message);
            continue;
        }
        e->title = g_strdup(ostree_bootconfig_parser_get(p, "title"));
        e->version = g_strdup(ostree_bootconfig_parser_get(p, "version"));
        e->options = g_strdup(ostree_bootconfig_parser_get(p, "options"));
        e->linux_path = g_strdup(ostree_bootconfig_parser_get(p, "linux"));
        e->initrd_path = g_strdup(ostree_bootconfig_parser_get(p, "initrd"));
        e->devicetree_path = g_strdup(ostree_bootconfig_parser_get(p, "devicetree"));
    }
    /* readdir order is arbitrary; ostree's sort is stable in GLib, so make
     * ties deterministic first (file names descending, as ostree numbers
     * them), then sort by version. */
    g_ptr_array_sort(j->entries, cmp_sources_desc);
    g_ptr_array_sort(j->entries, cmp_bls_entries);
    for (guint i = 0; i < j->entries->len; i++) {
        ((PpBootEntry *)j->entries->pdata[i])->index = i;
    }
    if (j->entries->len == 0) {
        j->loader_error = g_strdup_printf("%s: no ostree-*.conf entries", dir);
    }
}

/* A U-Boot environment import: NAME=VALUE lines, the last one wins. */
static void
read_uenv_entries(Judge *jc)
{
    PpJudgement *j = jc->j;
    g_autofree char *path = g_strdup_printf("boot/loader.%d/uEnv.txt", j->bootversion);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    if (!read_file_at(jc->boot_dfd, path, &text, NULL, &local)) {
        j->loader_error = g_strdup(local->message);
        return;
    }
    g_autoptr(GHashTable) env = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                      g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_strchomp(*l);
        const char *eq = strchr(*l, '=');
        if (eq == NULL || eq == *l) {
            continue;
        }
        g_hash_table_replace(env, g_strndup(*l, (gsize)(eq - *l)), g_strdup(eq + 1));
    }
    for (guint i = 0;; i++) {
        g_autofree char *sfx = i == 0 ? g_strdup("") : g_strdup_printf("%u", i + 1);
        g_autofree char *k = g_strconcat("kernel_image", sfx, NULL);
        g_autofree char *r = g_strconcat("ramdisk_image", sfx, NULL);
        g_autofree char *f = g_strconcat("fdt_file", sfx, NULL);
        g_autofree char *b = g_strconcat("bootargs", sfx, NULL);
        const char *kernel = g_hash_table_lookup(env, k);
        if (kernel == NULL) {
            break;
        }
        PpBootEntry *e = boot_entry_new(i, i == 0
                                        ? g_strdup(path)
                                        : g_strdup_printf("%s (%s)", path, k));
        e->linux_path = g_strdup(kernel);
        e->initrd_path = g_strdup(g_hash_table_lookup(env, r));
        e->devicetree_path = g_strdup(g_hash_table_lookup(env, f));
        e->options = g_strdup(g_hash_table_lookup(env, b));
        g_ptr_array_add(j->entries, e);
    }
    if (j->entries->len == 0) {
        j->loader_error = g_strdup_printf("%s: no kernel_image", path);
    }
}

/* Resolve a boot file and open it; it must be a non-empty regular file. */
static gboolean
open_boot_file(Judge *jc, const char *rel, int *out_fd, struct stat *st,
               char **out_resolved, GError **error)
{
    g_autofree char *resolved = NULL;
    if (!pp_oracle_resolve_in_root(jc->boot_dfd, rel, TRUE, &resolved, error)) {
        return FALSE;
    }
    pp_autofd int fd = openat(jc->boot_dfd, resolved,
                              O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return pp_throw_errno_prefix(error, "openat(%s)", resolved);
    }
    if (fstat(fd, st) < 0) {
        return pp_throw_errno_prefix(error, "fstat(%s)", resolved);
    }
    if (!S_ISREG(st->st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                    "%s: not a regular file", resolved);
        return FALSE;
    }
    if (st->st_size == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: empty", resolved);
        return FALSE;
    }
    *out_fd = g_steal_fd(&fd);
    *out_resolved = g_steal_pointer(&resolved);
    return TRUE;
}

/* Feed an open boot file's bytes to the sum. */
static gboolean
hash_boot_fd(int fd, const char *resolved, GChecksum *sum, GError **error)
{
    guint8 buf[64 * 1024];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return pp_throw_errno_prefix(error, "read(%s)", resolved);
        }
        if (n == 0) {
            return TRUE;
        }
        g_checksum_update(sum, buf, (gsize)n);
    }
}

/* The sysroot-relative path of a file an entry names. */
static char *
boot_file_rel(Judge *jc, const char *p)
{
    while (*p == '/') {
        p++;
    }
    /* BLS paths are relative to the /boot file system; uEnv.txt paths
     * carry the /boot prefix themselves. */
    if (strcmp(jc->j->backend, "bls") == 0) {
        return g_strconcat("boot/", p, NULL);
    }
    return g_strdup(p);
}

static gboolean
is_hex64(const char *s)
{
    if (strlen(s) != 64) {
        return FALSE;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* ostree/deploy/OS/deploy/COMMIT.SERIAL */
static void
parse_deploy_path(PpBootEntry *e)
{
    g_auto(GStrv) parts = g_strsplit(e->deploy_path, "/", -1);
    if (g_strv_length(parts) != 5 || strcmp(parts[0], "ostree") != 0
        || strcmp(parts[1], "deploy") != 0 || strcmp(parts[3], "deploy") != 0) {
        return;
    }
    const char *dot = strchr(parts[4], '.');
    if (dot == NULL) {
        return;
    }
    g_autofree char *csum = g_strndup(parts[4], (gsize)(dot - parts[4]));
    char *end = NULL;
    gint64 serial = g_ascii_strtoll(dot + 1, &end, 10);
    if (!is_hex64(csum) || end == dot + 1 || *end != '\0' || serial < 0
        || serial > G_MAXINT) {
        return;
    }
    e->osname = g_strdup(parts[2]);
    e->commit = g_steal_pointer(&csum);
    e->serial = (int)serial;
}

/* The sha256 of an entry's kernel, initramfs and devicetree, in that order,
 * into e->bootcsum_actual; or e->boot_error naming the first file that is
 * missing, empty or unreadable.  A kernel and initramfs that are still the
 * campaign snapshot's (the campaign's cache knows them) are not read again:
 * they are tens of MB, and most states boot the same ones. */
static gboolean
boot_files_sum(Judge *jc, PpBootEntry *e)
{
    const char *files[] = { e->linux_path, e->initrd_path, e->devicetree_path };
    const char *what[] = { "kernel", "initramfs", "devicetree" };
    int fds[G_N_ELEMENTS(files)];
    char *resolved[G_N_ELEMENTS(files)] = { NULL };
    struct stat sts[G_N_ELEMENTS(files)];
    guint n = 0;
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < G_N_ELEMENTS(files); i++) {
        if (files[i] == NULL) {
            continue;
        }
        g_autofree char *rel = boot_file_rel(jc, files[i]);
        g_autoptr(GError) local = NULL;
        if (!open_boot_file(jc, rel, &fds[n], &sts[n], &resolved[n], &local)) {
            e->boot_error = g_strdup_printf("%s %s: %s", what[i], files[i],
                                            local->message);
            ok = FALSE;
            break;
        }
        n++;
    }
    char *cached = ok && jc->opts.cache != NULL
                   ? pp_oracle_cache_get_concat_sha256(jc->opts.cache, sts, n)
                   : NULL;
    if (cached != NULL) {
        e->bootcsum_actual = cached;
    } else if (ok) {
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        guint f = 0;
        for (guint i = 0; ok && i < G_N_ELEMENTS(files); i++) {
            if (files[i] == NULL) {
                continue;
            }
            g_autoptr(GError) local = NULL;
            if (!hash_boot_fd(fds[f], resolved[f], sum, &local)) {
                e->boot_error = g_strdup_printf("%s %s: %s", what[i], files[i],
                                                local->message);
                ok = FALSE;
            }
            f++;
        }
        if (ok) {
            e->bootcsum_actual = g_strdup(g_checksum_get_string(sum));
            if (jc->opts.cache != NULL) {
                pp_oracle_cache_put_concat_sha256(jc->opts.cache, sts, n,
                                                  e->bootcsum_actual);
            }
        }
    }
    for (guint i = 0; i < n; i++) {
        close(fds[i]);
        g_free(resolved[i]);
    }
    return ok;
}

static void
check_entry_boots(Judge *jc, PpBootEntry *e)
{
    if (e->boot_error != NULL) {
        return;                 /* unparseable */
    }
    if (e->linux_path == NULL) {
        e->boot_error = g_strdup("no kernel named");
        return;
    }
    /* Kernel, initramfs, devicetree: present, non-empty, and hashing to the
     * bootcsum in their directory's name (ostree/<os>-<bootcsum>/). */
    if (!boot_files_sum(jc, e)) {
        return;
    }
    g_autofree char *kdir = g_path_get_dirname(e->linux_path);
    g_autofree char *kbase = g_path_get_basename(kdir);
    const char *dash = strrchr(kbase, '-');
    if (dash != NULL && is_hex64(dash + 1)) {
        e->bootcsum = g_strdup(dash + 1);
        if (strcmp(e->bootcsum, e->bootcsum_actual) != 0) {
            e->boot_error = g_strdup_printf("bootcsum mismatch: %s holds files "
                                            "hashing to %s", kdir,
                                            e->bootcsum_actual);
            return;
        }
    }

    /* ostree-prepare-root: the first ostree= argument ... */
    if (e->options != NULL) {
        g_auto(GStrv) args = g_strsplit_set(e->options, " \t\n", -1);
        for (char **a = args; *a != NULL; a++) {
            if (g_str_has_prefix(*a, "ostree=")) {
                e->ostree_arg = g_strdup(*a + strlen("ostree="));
                break;
            }
        }
    }
    if (e->ostree_arg == NULL) {
        e->boot_error = g_strdup("no ostree= kernel argument");
        return;
    }
    /* ... must be a symlink (lstat) ... */
    g_autofree char *link_rel = NULL;
    g_autoptr(GError) local = NULL;
    struct stat st;
    if (!pp_oracle_resolve_in_root(jc->sysroot_dfd, e->ostree_arg, FALSE,
                                   &link_rel, &local)) {
        e->boot_error = g_strdup_printf("ostree=%s: %s", e->ostree_arg,
                                        local->message);
        return;
    }
    if (fstatat(jc->sysroot_dfd, link_rel, &st, AT_SYMLINK_NOFOLLOW) < 0
        || !S_ISLNK(st.st_mode)) {
        e->boot_error = g_strdup_printf("ostree=%s: %s is not a symbolic link",
                                        e->ostree_arg, link_rel);
        return;
    }
    /* ... leading to a directory with usr/ and etc/. */
    if (!pp_oracle_resolve_in_root(jc->sysroot_dfd, e->ostree_arg, TRUE,
                                   &e->deploy_path, &local)) {
        e->boot_error = g_strdup_printf("ostree=%s: %s", e->ostree_arg,
                                        local->message);
        return;
    }
    const char *need[] = { "", "/usr", "/etc" };
    for (guint i = 0; i < G_N_ELEMENTS(need); i++) {
        g_autofree char *p = g_strconcat(e->deploy_path, need[i], NULL);
        if (fstatat(jc->sysroot_dfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0
            || !S_ISDIR(st.st_mode)) {
            e->boot_error = g_strdup_printf("ostree=%s: %s is not a directory",
                                            e->ostree_arg, p);
            return;
        }
    }
    parse_deploy_path(e);
    e->bootable = TRUE;
}

/* ---- step 2: the tree ----------------------------------------------- */

typedef struct {
    Judge *jc;
    PpBootEntry *e;
    const PpKnownCommit *kc;
    guint8 *seen;               /* per manifest entry */
    GArray *log;                /* guint: the entries seen, in order */
    guint max_diffs;
} TreeWalk;

static void
add_diff(TreeWalk *tw, const char *path, const char *kind, char *detail)
{
    tw->e->n_diffs++;
    if (tw->e->diffs->len >= tw->max_diffs) {
        g_free(detail);
        return;
    }
    PpTreeDiff *d = g_new0(PpTreeDiff, 1);
    d->path = g_strdup(*path == '\0' ? "/" : path);
    d->kind = g_strdup(kind);
    d->detail = detail;
    g_ptr_array_add(tw->e->diffs, d);
}

static const char *
type_name(mode_t m)
{
    if (S_ISREG(m)) {
        return "file";
    }
    if (S_ISDIR(m)) {
        return "directory";
    }
    if (S_ISLNK(m)) {
        return "symlink";
    }
    return "special file";
}

static const char *
tree_type_name(PpTreeType t)
{
    return t == PP_TREE_FILE ? "file" : t == PP_TREE_DIR ? "directory" : "symlink";
}

/* " (as in version N)" when another known commit has this checksum here. */
static char *
which_version(TreeWalk *tw, const char *path, const char *csum)
{
    for (guint i = 0; i < pp_known_trees_n_commits(tw->jc->known); i++) {
        const PpKnownCommit *o = pp_known_trees_nth(tw->jc->known, i);
        if (o == tw->kc) {
            continue;
        }
        const PpTreeEntry *oe = pp_known_commit_lookup(o, path);
        if (oe != NULL && g_strcmp0(oe->checksum, csum) == 0) {
            g_autofree char *d = pp_known_commit_describe(o);
            return g_strdup_printf(" (as in %s)", d);
        }
    }
    return g_strdup("");
}

/* Could the file be another known version's?  Only worth hashing when one
 * has the same size. */
static gboolean
other_version_has_size(TreeWalk *tw, const char *path, guint64 size)
{
    for (guint i = 0; i < pp_known_trees_n_commits(tw->jc->known); i++) {
        const PpKnownCommit *o = pp_known_trees_nth(tw->jc->known, i);
        const PpTreeEntry *oe = o != tw->kc ? pp_known_commit_lookup(o, path) : NULL;
        if (oe != NULL && oe->type == PP_TREE_FILE && oe->size == size) {
            return TRUE;
        }
    }
    return FALSE;
}

static void
compare_one(TreeWalk *tw, int dfd, const char *name, const char *path,
            const PpTreeEntry *want, struct stat *st)
{
    pp_stat_overlay_apply(tw->jc->opts.overlay, st);
    PpTreeType have = S_ISREG(st->st_mode) ? PP_TREE_FILE
                      : S_ISDIR(st->st_mode) ? PP_TREE_DIR
                      : S_ISLNK(st->st_mode) ? PP_TREE_SYMLINK : 0;
    tw->e->n_paths++;
    if (have != want->type) {
        add_diff(tw, path, "type", g_strdup_printf("%s, expected %s",
                                                   type_name(st->st_mode),
                                                   tree_type_name(want->type)));
        return;
    }
    if (st->st_uid != want->uid || st->st_gid != want->gid) {
        add_diff(tw, path, "owner", g_strdup_printf("%u:%u, expected %u:%u",
                                                    (guint)st->st_uid,
                                                    (guint)st->st_gid,
                                                    want->uid, want->gid));
        return;
    }
    if (have != PP_TREE_SYMLINK && (st->st_mode & 07777) != want->mode) {
        add_diff(tw, path, "mode", g_strdup_printf("%04o, expected %04o",
                                                   st->st_mode & 07777,
                                                   want->mode));
        return;
    }
    if (have == PP_TREE_SYMLINK) {
        char buf[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, buf, sizeof buf - 1);
        if (n < 0) {
            add_diff(tw, path, "unreadable", g_strdup_printf("readlink: %s",
                                                             g_strerror(errno)));
            return;
        }
        buf[n] = '\0';
        if (strcmp(buf, want->target) != 0) {
            add_diff(tw, path, "target", g_strdup_printf("-> %s, expected -> %s",
                                                         buf, want->target));
        }
        return;
    }
    if (have != PP_TREE_FILE) {
        return;
    }
    gboolean size_differs = (guint64)st->st_size != want->size;
    if (size_differs && !other_version_has_size(tw, path, (guint64)st->st_size)) {
        add_diff(tw, path, "size", g_strdup_printf("%" G_GUINT64_FORMAT
                                                   " bytes, expected %"
                                                   G_GUINT64_FORMAT,
                                                   (guint64)st->st_size,
                                                   want->size));
        return;
    }
    const char *csum = NULL;
    g_autoptr(GError) local = NULL;
    if (!content_checksum(tw->jc, dfd, name, st, &tw->e->bytes_hashed, &csum,
                          &local)) {
        add_diff(tw, path, "unreadable", g_strdup(local->message));
        return;
    }
    if (strcmp(csum, want->checksum) != 0) {
        g_autofree char *as = which_version(tw, path, csum);
        if (size_differs) {
            add_diff(tw, path, "size", g_strdup_printf(
                         "%" G_GUINT64_FORMAT " bytes, expected %"
                         G_GUINT64_FORMAT "%s", (guint64)st->st_size,
                         want->size, as));
        } else {
            add_diff(tw, path, "content", g_strdup_printf(
                         "object %.12s, expected %.12s%s", csum,
                         want->checksum, as));
        }
    }
}

static void walk_subtree(TreeWalk *tw, int dfd, const char *name,
                         const char *path, guint64 ino);

static gboolean
walk_deployment(TreeWalk *tw, int parent_dfd, const char *rel,
                const char *prefix, GError **error)
{
    pp_autofd int dfd = -1;
    g_autoptr(GPtrArray) names = NULL;
    if (!list_dir_at(parent_dfd, rel, &dfd, &names, error)) {
        return FALSE;
    }
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *path = *prefix == '\0' ? g_strdup(name)
                                : g_strconcat(prefix, "/", name, NULL);
        if (strcmp(path, "etc") == 0) {
            continue;           /* the merged /etc: check_etc() */
        }
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            add_diff(tw, path, "unreadable", g_strdup_printf("lstat: %s",
                                                             g_strerror(errno)));
            continue;
        }
        gpointer v = g_hash_table_lookup(tw->kc->by_path, path);
        if (v == NULL) {
            add_diff(tw, path, "extra", g_strdup_printf("%s not in the commit",
                                                        type_name(st.st_mode)));
            continue;
        }
        guint idx = GPOINTER_TO_UINT(v) - 1;
        const PpTreeEntry *want = tw->kc->entries->pdata[idx];
        tw->seen[idx] = 1;
        g_array_append_val(tw->log, idx);
        compare_one(tw, dfd, name, path, want, &st);
        /* var/ is shadowed by the stateroot's var at boot. */
        if (S_ISDIR(st.st_mode) && want->type == PP_TREE_DIR
            && strcmp(path, "var") != 0) {
            walk_subtree(tw, dfd, name, path, st.st_ino);
        }
    }
    return TRUE;
}

/* The cache's key of the deployment's directory path: its path in the
 * sysroot, which names the commit it is judged against. */
static char *
subtree_rel(TreeWalk *tw, const char *path)
{
    return *path == '\0' ? g_strdup(tw->e->deploy_path)
                         : g_strconcat(tw->e->deploy_path, "/", path, NULL);
}

/*
 * What is under the deployment's directory path (name in dfd, st_ino
 * ino): walked, or, when the state did not change it (the farm knows),
 * taken from the first judgement that walked it unchanged, which found
 * exactly what a walk would find now.  Only a subtree with no difference
 * is kept, so a difference is always found and described by a walk.
 */
static void
walk_subtree(TreeWalk *tw, int dfd, const char *name, const char *path,
             guint64 ino)
{
    PpOracleCache *cache = tw->jc->opts.cache;
    g_autofree char *rel = NULL;
    gboolean unchanged = FALSE;
    if (cache != NULL && tw->jc->opts.farm != NULL) {
        rel = subtree_rel(tw, path);
        unchanged = cfi_farm_subtree_unchanged(tw->jc->opts.farm, rel, ino);
    }
    guint n_paths = 0;
    guint64 bytes = 0;
    g_autoptr(GArray) memo = NULL;
    if (unchanged && pp_oracle_cache_get_subtree(cache, rel, &n_paths, &bytes,
                                                 &memo)) {
        for (guint i = 0; i < memo->len; i++) {
            guint idx = g_array_index(memo, guint, i);
            tw->seen[idx] = 1;
        }
        g_array_append_vals(tw->log, memo->data, memo->len);
        tw->e->n_paths += n_paths;
        tw->e->bytes_hashed += bytes;
        return;
    }
    guint log0 = tw->log->len;
    guint diffs0 = tw->e->n_diffs;
    guint paths0 = tw->e->n_paths;
    guint64 bytes0 = tw->e->bytes_hashed;
    g_autoptr(GError) local = NULL;
    if (!walk_deployment(tw, dfd, name, path, &local)) {
        add_diff(tw, path, "unreadable", g_strdup(local->message));
    }
    if (unchanged && tw->e->n_diffs == diffs0) {
        pp_oracle_cache_put_subtree(cache, rel, tw->e->n_paths - paths0,
                                    tw->e->bytes_hashed - bytes0,
                                    &g_array_index(tw->log, guint, log0),
                                    tw->log->len - log0);
    }
}

static gboolean
exempt_from_missing(const char *path)
{
    return g_str_has_prefix(path, "var/") || strcmp(path, "etc") == 0
           || g_str_has_prefix(path, "etc/");
}

/* etc/ is usr/etc merged with local changes: every path of usr/etc must
 * be there, its content is the administrator's. */
static void
check_etc(TreeWalk *tw, int deploy_dfd)
{
    struct stat st;
    if (fstatat(deploy_dfd, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0
        || !S_ISDIR(st.st_mode)) {
        add_diff(tw, "etc", "missing", g_strdup("no merged etc directory"));
        return;
    }
    for (guint i = 0; i < tw->kc->entries->len; i++) {
        const PpTreeEntry *want = tw->kc->entries->pdata[i];
        if (!g_str_has_prefix(want->path, "usr/etc/")) {
            continue;
        }
        g_autofree char *p = g_strdup(want->path + strlen("usr/"));
        tw->e->n_paths++;
        if (fstatat(deploy_dfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            add_diff(tw, p, "missing", g_strdup_printf("%s of usr/etc not in etc",
                                                       tree_type_name(want->type)));
        }
    }
}

static void
check_tree(Judge *jc, PpBootEntry *e)
{
    if (!e->bootable || jc->known == NULL) {
        return;
    }
    e->tree_checked = TRUE;
    if (e->commit == NULL) {
        e->tree_error = g_strdup_printf("%s is not ostree/deploy/OS/deploy/"
                                        "COMMIT.SERIAL", e->deploy_path);
        return;
    }
    const PpKnownCommit *kc = pp_known_trees_lookup(jc->known, e->commit);
    if (kc == NULL) {
        e->tree_error = g_strdup_printf("commit %s is not a known one",
                                        e->commit);
        return;
    }
    e->tree_known = TRUE;
    e->tree_version = g_strdup(kc->version);

    TreeWalk tw = {
        .jc = jc,
        .e = e,
        .kc = kc,
        .seen = g_malloc0(kc->entries->len),
        .log = g_array_new(FALSE, FALSE, sizeof(guint)),
        .max_diffs = jc->opts.max_diffs,
    };
    /* The kernel booted must be the commit's own (not a mixed state where
     * the entry of one commit boots another's kernel). */
    if (kc->bootcsum != NULL && e->bootcsum_actual != NULL
        && strcmp(kc->bootcsum, e->bootcsum_actual) != 0) {
        add_diff(&tw, e->linux_path, "kernel", g_strdup_printf(
                     "boots kernel+initramfs %.12s, the commit's are %.12s",
                     e->bootcsum_actual, kc->bootcsum));
    }
    pp_autofd int dfd = openat(jc->sysroot_dfd, e->deploy_path,
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    g_autoptr(GError) local = NULL;
    if (dfd < 0 || fstat(dfd, &st) < 0) {
        add_diff(&tw, "", "unreadable", g_strdup(g_strerror(errno)));
    } else {
        const PpTreeEntry *root = pp_known_commit_lookup(kc, "");
        tw.seen[0] = 1;         /* "" sorts first */
        compare_one(&tw, dfd, ".", "", root, &st);
        walk_subtree(&tw, dfd, ".", "", st.st_ino);
        for (guint i = 0; i < kc->entries->len; i++) {
            const PpTreeEntry *want = kc->entries->pdata[i];
            if (!tw.seen[i] && !exempt_from_missing(want->path)) {
                add_diff(&tw, want->path, "missing",
                         g_strdup_printf("%s of the commit",
                                         tree_type_name(want->type)));
            }
        }
        check_etc(&tw, dfd);
    }
    g_free(tw.seen);
    g_array_unref(tw.log);
    e->tree_complete = e->n_diffs == 0;
    if (!e->tree_complete) {
        const PpTreeDiff *d0 = e->diffs->pdata[0];
        g_autofree char *vs = pp_known_commit_describe(kc);
        e->tree_error = g_strdup_printf("%u path(s) differ from %s, first: "
                                        "%s: %s %s", e->n_diffs, vs, d0->path,
                                        d0->kind, d0->detail);
    }
}

/* ---- step 3: the repo ----------------------------------------------- */

static void
repo_problem(PpRepoReport *r, char *msg)
{
    r->n_problems++;
    if (r->problems->len < PP_MAX_PROBLEMS) {
        g_ptr_array_add(r->problems, msg);
    } else {
        g_free(msg);
    }
}

static guint64
du_at(int dfd, const char *rel)
{
    pp_autofd int fd = -1;
    g_autoptr(GPtrArray) names = NULL;
    guint64 total = 0;
    if (!list_dir_at(dfd, rel, &fd, &names, NULL)) {
        return 0;
    }
    for (guint i = 0; i < names->len; i++) {
        struct stat st;
        if (fstatat(fd, names->pdata[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            total += du_at(fd, names->pdata[i]);
        } else if (S_ISREG(st.st_mode)) {
            total += (guint64)st.st_size;
        }
    }
    return total;
}

static void
scan_staging(Judge *jc)
{
    PpRepoReport *r = &jc->j->repo;
    pp_autofd int fd = -1;
    g_autoptr(GPtrArray) names = NULL;
    if (!list_dir_at(jc->sysroot_dfd, "ostree/repo/tmp", &fd, &names, NULL)) {
        return;
    }
    for (guint i = 0; i < names->len; i++) {
        struct stat st;
        const char *n = names->pdata[i];
        if (g_str_has_prefix(n, "staging-")
            && fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) == 0
            && S_ISDIR(st.st_mode)) {
            r->n_staging_dirs++;
            r->staging_bytes += du_at(fd, n);
        }
    }
}

/*
 * The loose file of a dirtree or dirmeta object, when the campaign's cache
 * may answer for it: the verification of such an object depends on its
 * file's content only.  Commits (whose check may read beside them) and
 * the content objects of archive repos are verified every time.
 */
static gboolean
meta_object_stat(Judge *jc, OstreeRepo *repo, const char *csum,
                 OstreeObjectType type, struct stat *st, char **out_name)
{
    if (jc->opts.cache == NULL || (type != OSTREE_OBJECT_TYPE_DIR_TREE
                                   && type != OSTREE_OBJECT_TYPE_DIR_META)) {
        return FALSE;
    }
    g_autofree char *rel = g_strdup_printf("objects/%.2s/%s.%s", csum,
                                           csum + 2,
                                           ostree_object_type_to_string(type));
    if (fstatat(ostree_repo_get_dfd(repo), rel, st, AT_SYMLINK_NOFOLLOW) < 0
        || !S_ISREG(st->st_mode)) {
        return FALSE;
    }
    *out_name = ostree_object_to_string(csum, type);
    return TRUE;
}

static gboolean
meta_object_verified_before(Judge *jc, OstreeRepo *repo, const char *csum,
                            OstreeObjectType type)
{
    struct stat st;
    g_autofree char *name = NULL;
    return meta_object_stat(jc, repo, csum, type, &st, &name)
           && pp_oracle_cache_object_verified(jc->opts.cache, &st, name);
}

static void
note_meta_object_verified(Judge *jc, OstreeRepo *repo, const char *csum,
                          OstreeObjectType type)
{
    struct stat st;
    g_autofree char *name = NULL;
    if (meta_object_stat(jc, repo, csum, type, &st, &name)) {
        pp_oracle_cache_put_object_verified(jc->opts.cache, &st, name);
    }
}

/*
 * Is object csum's loose file (ostree/repo/objects/XX/REST.TYPE) one the
 * state did not touch, in the farm's own objects/XX?  Then it is the
 * snapshot's file (the farm's word: cfi_farm_entry_unchanged()), and an
 * earlier judgement of the campaign that found it valid while it was
 * untouched found what a check would find now.
 */
static gboolean
object_unchanged(Judge *jc, const char *csum, OstreeObjectType type)
{
    if (jc->opts.cache == NULL || jc->opts.farm == NULL
        || !g_ascii_isxdigit(csum[0]) || !g_ascii_isxdigit(csum[1])) {
        return FALSE;
    }
    guint xx = (guint)(g_ascii_xdigit_value(csum[0]) * 16
                       + g_ascii_xdigit_value(csum[1]));
    char dir[] = "ostree/repo/objects/XX";
    dir[sizeof dir - 3] = csum[0];
    dir[sizeof dir - 2] = csum[1];
    if (jc->objdir_ino[xx] == 0) {
        struct stat st;
        jc->objdir_ino[xx] = fstatat(jc->sysroot_dfd, dir, &st,
                                     AT_SYMLINK_NOFOLLOW) == 0
                             && S_ISDIR(st.st_mode) ? st.st_ino : G_MAXUINT64;
    }
    if (jc->objdir_ino[xx] == G_MAXUINT64) {
        return FALSE;
    }
    const char *suffix = type == OSTREE_OBJECT_TYPE_FILE
                         ? (jc->repo_archive ? "filez" : "file")
                         : ostree_object_type_to_string(type);
    char name[96];
    g_snprintf(name, sizeof name, "%s.%s", csum + 2, suffix);
    return cfi_farm_entry_unchanged(jc->opts.farm, dir, jc->objdir_ino[xx],
                                    name);
}

static void check_object_now(Judge *jc, OstreeRepo *repo, gboolean bare,
                             const char *csum, OstreeObjectType type,
                             const char *why);

/* Commit objects are verified every time: their check may read beside
 * them (detached metadata). */
static void
check_object(Judge *jc, OstreeRepo *repo, gboolean bare, const char *csum,
             OstreeObjectType type, const char *name, const char *why)
{
    PpRepoReport *r = &jc->j->repo;
    r->n_objects_checked++;
    gboolean unchanged = type != OSTREE_OBJECT_TYPE_COMMIT
                         && object_unchanged(jc, csum, type);
    if (unchanged && pp_oracle_cache_object_ok_unchanged(jc->opts.cache,
                                                         name)) {
        return;
    }
    guint problems0 = r->n_problems;
    check_object_now(jc, repo, bare, csum, type, why);
    if (unchanged && r->n_problems == problems0) {
        pp_oracle_cache_put_object_ok_unchanged(jc->opts.cache, name);
    }
}

static void
check_object_now(Judge *jc, OstreeRepo *repo, gboolean bare, const char *csum,
                 OstreeObjectType type, const char *why)
{
    PpRepoReport *r = &jc->j->repo;
    g_autoptr(GError) local = NULL;
    if (OSTREE_OBJECT_TYPE_IS_META(type) || !bare) {
        if (meta_object_verified_before(jc, repo, csum, type)) {
            return;
        }
        if (!ostree_repo_fsck_object(repo, type, csum, NULL, &local)) {
            repo_problem(r, g_strdup_printf("%s.%s (%s): %s", csum,
                                            ostree_object_type_to_string(type),
                                            why, local->message));
            return;
        }
        note_meta_object_verified(jc, repo, csum, type);
        return;
    }
    int repo_dfd = ostree_repo_get_dfd(repo);
    /* The loose object layout of bare repos: objects/XX/REST.file */
    g_autofree char *rel = g_strdup_printf("objects/%.2s/%s.file", csum, csum + 2);
    struct stat st;
    if (fstatat(repo_dfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        repo_problem(r, g_strdup_printf("%s (%s): %s", rel, why,
                                        errno == ENOENT ? "missing"
                                                        : g_strerror(errno)));
        return;
    }
    pp_stat_overlay_apply(jc->opts.overlay, &st);
    const char *actual = NULL;
    if (!content_checksum(jc, repo_dfd, rel, &st, NULL, &actual, &local)) {
        repo_problem(r, g_strdup_printf("%s (%s): %s", rel, why, local->message));
        return;
    }
    if (strcmp(actual, csum) != 0) {
        repo_problem(r, g_strdup_printf("%s (%s): corrupt, content hashes to %s",
                                        rel, why, actual));
    }
}

static gboolean
is_partial(OstreeRepo *repo, const char *commit)
{
    g_autofree char *p = g_strconcat("state/", commit, ".commitpartial", NULL);
    struct stat st;
    return fstatat(ostree_repo_get_dfd(repo), p, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
check_commit_objects(Judge *jc, OstreeRepo *repo, gboolean bare,
                     const char *commit, const char *why, GHashTable *seen,
                     GPtrArray *names)
{
    PpRepoReport *r = &jc->j->repo;
    r->n_commits_checked++;
    const PpKnownCommit *kc = pp_known_trees_lookup(jc->known, commit);
    if (kc != NULL) {
        for (guint i = 0; i < kc->objects->len; i++) {
            const PpKnownObject *o = &g_array_index(kc->objects,
                                                    PpKnownObject, i);
            if (g_hash_table_add(seen, o->name)) {
                check_object(jc, repo, bare, o->csum, o->type, o->name, why);
            }
        }
        return;
    }
    /* Unknown commit: its own metadata says what it reaches. */
    g_autoptr(GHashTable) reachable = NULL;
    g_autoptr(GError) local = NULL;
    if (!ostree_repo_traverse_commit(repo, commit, 0, &reachable, NULL,
                                     &local)) {
        repo_problem(r, g_strdup_printf("commit %s (%s): %s", commit, why,
                                        local->message));
        return;
    }
    g_autoptr(GPtrArray) objects = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, reachable);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(objects, key);
    }
    for (guint i = 0; i < objects->len; i++) {
        const char *csum = NULL;
        OstreeObjectType type;
        ostree_object_name_deserialize(objects->pdata[i], &csum, &type);
        char *name = ostree_object_to_string(csum, type);
        g_ptr_array_add(names, name);
        if (g_hash_table_add(seen, name)) {
            check_object(jc, repo, bare, csum, type, name, why);
        }
    }
}

static void
check_repo(Judge *jc)
{
    PpRepoReport *r = &jc->j->repo;
    r->checked = TRUE;
    scan_staging(jc);
    g_autoptr(GError) local = NULL;
    g_autoptr(OstreeRepo) repo = ostree_repo_open_at(jc->sysroot_dfd,
                                                     "ostree/repo", NULL, &local);
    if (repo == NULL) {
        repo_problem(r, g_strdup_printf("opening ostree/repo: %s", local->message));
        return;
    }
    OstreeRepoMode mode = ostree_repo_get_mode(repo);
    gboolean bare = mode == OSTREE_REPO_MODE_BARE;
    jc->repo_archive = mode == OSTREE_REPO_MODE_ARCHIVE;
    g_autoptr(GHashTable) refs = NULL;
    if (!ostree_repo_list_refs(repo, NULL, &refs, NULL, &local)) {
        repo_problem(r, g_strdup_printf("listing refs: %s", local->message));
        return;
    }
    /* commit -> the first ref naming it, for the messages */
    g_autoptr(GHashTable) why = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                      g_free, g_free);
    g_autoptr(GList) names = g_hash_table_get_keys(refs);
    names = g_list_sort(names, (GCompareFunc)strcmp);
    for (GList *l = names; l != NULL; l = l->next) {
        const char *commit = g_hash_table_lookup(refs, l->data);
        PpRefInfo *ri = g_new0(PpRefInfo, 1);
        ri->name = g_strdup(l->data);
        ri->commit = g_strdup(commit);
        ri->partial = is_partial(repo, commit);
        g_ptr_array_add(r->refs, ri);
        if (!ri->partial && !g_hash_table_contains(why, commit)) {
            g_hash_table_insert(why, g_strdup(commit),
                                g_strdup_printf("ref %s", ri->name));
        }
    }
    /* Deployed commits are checked even when partial. */
    for (guint i = 0; i < jc->j->entries->len; i++) {
        const PpBootEntry *e = jc->j->entries->pdata[i];
        if (e->commit != NULL && !g_hash_table_contains(why, e->commit)) {
            g_hash_table_insert(why, g_strdup(e->commit),
                                g_strdup_printf("deployed by entry %u", e->index));
        }
    }
    /* Object names ("CHECKSUM.TYPE") checked already: the known commits'
     * own strings, or those in object_names. */
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) object_names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GList) commits = g_hash_table_get_keys(why);
    commits = g_list_sort(commits, (GCompareFunc)strcmp);
    for (GList *l = commits; l != NULL; l = l->next) {
        check_commit_objects(jc, repo, bare, l->data,
                             g_hash_table_lookup(why, l->data), seen,
                             object_names);
    }
    r->ok = r->n_problems == 0;
}

/* ---- the layout around the entries ---------------------------------- */

/* "PREFIX" followed by one or more dot-separated numbers (at most dots
 * dots): loader.1, boot.0, boot.0.1. */
static gboolean
is_numbered(const char *name, const char *prefix, guint dots)
{
    if (!g_str_has_prefix(name, prefix)) {
        return FALSE;
    }
    const char *p = name + strlen(prefix);
    guint groups = 0;
    while (*p != '\0') {
        if (!g_ascii_isdigit(*p)) {
            return FALSE;
        }
        while (g_ascii_isdigit(*p)) {
            p++;
        }
        groups++;
        if (*p == '.') {
            p++;
            if (*p == '\0') {
                return FALSE;
            }
        }
    }
    return groups >= 1 && groups <= dots;
}

/* How many names in dfd/rel are PREFIX-numbered (directories only, with
 * dirs_only); -1 when the directory cannot be listed. */
static int
count_names(int dfd, const char *rel, const char *prefix, guint dots,
            gboolean dirs_only)
{
    pp_autofd int fd = -1;
    g_autoptr(GPtrArray) names = NULL;
    if (!list_dir_at(dfd, rel, &fd, &names, NULL)) {
        return -1;
    }
    int n = 0;
    for (guint i = 0; i < names->len; i++) {
        struct stat st;
        if (!is_numbered(names->pdata[i], prefix, dots)) {
            continue;
        }
        if (dirs_only && (fstatat(fd, names->pdata[i], &st,
                                  AT_SYMLINK_NOFOLLOW) < 0
                          || !S_ISDIR(st.st_mode))) {
            continue;
        }
        n++;
    }
    return n;
}

/*
 * A power cut in the middle of a swap or a deploy leaves its traces beside
 * what the entries name: a third loader.N, a boot.N without its entries, a
 * deployment no entry boots.  Counted so that two crash states can be told
 * apart (or matched) by them; nothing here changes the verdict.
 */
static void
count_layout(Judge *jc)
{
    PpJudgement *j = jc->j;
    j->n_loader_dirs = count_names(jc->sysroot_dfd, "boot", "loader.", 1, TRUE);
    j->n_boot_dirs = count_names(jc->sysroot_dfd, "ostree", "boot.", 2, FALSE);
    pp_autofd int fd = -1;
    g_autoptr(GPtrArray) osnames = NULL;
    if (!list_dir_at(jc->sysroot_dfd, "ostree/deploy", &fd, &osnames, NULL)) {
        j->n_deploy_dirs = -1;
        return;
    }
    j->n_deploy_dirs = 0;
    for (guint i = 0; i < osnames->len; i++) {
        g_autofree char *rel = g_build_filename(osnames->pdata[i], "deploy", NULL);
        pp_autofd int dfd = -1;
        g_autoptr(GPtrArray) names = NULL;
        if (!list_dir_at(fd, rel, &dfd, &names, NULL)) {
            continue;
        }
        for (guint k = 0; k < names->len; k++) {
            const char *n = names->pdata[k];
            const char *dot = strchr(n, '.');
            struct stat st;
            if (dot != NULL && dot - n == 64 && !g_str_has_suffix(n, ".origin")
                && fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0
                && S_ISDIR(st.st_mode)) {
                j->n_deploy_dirs++;
            }
        }
    }
}

/* ---- two views: the bootloader's and the kernel's ------------------- */

/* boot/loader's target in dfd, or NULL. */
static char *
loader_target_at(int dfd)
{
    char buf[256];
    ssize_t n = readlinkat(dfd, "boot/loader", buf, sizeof buf - 1);
    if (n < 0) {
        return NULL;
    }
    buf[n] = '\0';
    return g_strdup(buf);
}

/* Do the two views hold the same regular file at rel (same bytes)?  A
 * missing or non-regular file in both counts as the same. */
static gboolean
same_file_in_views(Judge *jc, const char *rel)
{
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    gsize la = 0;
    gsize lb = 0;
    gboolean ha = read_file_at(jc->boot_dfd, rel, &a, &la, NULL);
    gboolean hb = read_file_at(jc->sysroot_dfd, rel, &b, &lb, NULL);
    if (ha != hb) {
        return FALSE;
    }
    return !ha || (la == lb && memcmp(a, b, la) == 0);
}

/* Does the boot file p of an entry resolve to the same path, of the same
 * size, in both views?  (Its bytes were hashed in the bootloader's.) */
static gboolean
same_boot_file_in_views(Judge *jc, const char *p)
{
    g_autofree char *rel = boot_file_rel(jc, p);
    g_autofree char *ra = NULL;
    g_autofree char *rb = NULL;
    gboolean ha = pp_oracle_resolve_in_root(jc->boot_dfd, rel, TRUE, &ra, NULL);
    gboolean hb = pp_oracle_resolve_in_root(jc->sysroot_dfd, rel, TRUE, &rb,
                                            NULL);
    if (ha != hb) {
        return FALSE;
    }
    if (!ha) {
        return TRUE;
    }
    struct stat sa;
    struct stat sb;
    if (strcmp(ra, rb) != 0) {
        return FALSE;
    }
    gboolean oa = fstatat(jc->boot_dfd, ra, &sa, AT_SYMLINK_NOFOLLOW) == 0;
    gboolean ob = fstatat(jc->sysroot_dfd, rb, &sb, AT_SYMLINK_NOFOLLOW) == 0;
    return oa == ob && (!oa || ((sa.st_mode & S_IFMT) == (sb.st_mode & S_IFMT)
                                && sa.st_size == sb.st_size));
}

/* The first entry file (uEnv.txt, an entries/ file) of the bootloader's
 * loader directory that the kernel's view holds differently, or NULL. */
static char *
first_differing_entry_file(Judge *jc)
{
    PpJudgement *j = jc->j;
    if (j->bootversion < 0 || j->backend == NULL) {
        return NULL;
    }
    if (strcmp(j->backend, "uboot") == 0) {
        g_autofree char *u = g_strdup_printf("boot/loader.%d/uEnv.txt",
                                             j->bootversion);
        return same_file_in_views(jc, u) ? NULL : g_steal_pointer(&u);
    }
    g_autofree char *dir = g_strdup_printf("boot/loader.%d/entries",
                                           j->bootversion);
    g_autoptr(GPtrArray) na = NULL;
    g_autoptr(GPtrArray) nb = NULL;
    pp_autofd int fa = -1;
    pp_autofd int fb = -1;
    gboolean la = list_dir_at(jc->boot_dfd, dir, &fa, &na, NULL);
    gboolean lb = list_dir_at(jc->sysroot_dfd, dir, &fb, &nb, NULL);
    if (la != lb || (la && na->len != nb->len)) {
        return g_steal_pointer(&dir);
    }
    for (guint i = 0; la && i < na->len; i++) {
        g_autofree char *rel = g_strconcat(dir, "/", na->pdata[i], NULL);
        if (strcmp(na->pdata[i], nb->pdata[i]) != 0
            || !same_file_in_views(jc, rel)) {
            return g_steal_pointer(&rel);
        }
    }
    return NULL;
}

/*
 * With two views: say whether they differ where the bootloader looks
 * (boot/loader, the entry files, the boot files the entries name), and
 * when they do, add it to the reason.  The verdict itself came from
 * reading each thing in its own view.
 */
static void
compare_views(Judge *jc)
{
    PpJudgement *j = jc->j;
    g_autofree char *boot_loader = loader_target_at(jc->boot_dfd);
    j->kernel_loader = loader_target_at(jc->sysroot_dfd);
    g_autofree char *what = NULL;
    if (g_strcmp0(boot_loader, j->kernel_loader) != 0) {
        what = g_strdup_printf("boot/loader -> %s where the kernel's view "
                               "has %s", boot_loader ? boot_loader : "(none)",
                               j->kernel_loader ? j->kernel_loader : "(none)");
    }
    g_autofree char *file = what == NULL ? first_differing_entry_file(jc)
                                         : NULL;
    if (file != NULL) {
        what = g_strdup_printf("%s differs from the kernel's view", file);
    }
    for (guint i = 0; what == NULL && i < j->entries->len; i++) {
        const PpBootEntry *e = j->entries->pdata[i];
        const char *files[] = { e->linux_path, e->initrd_path,
                                e->devicetree_path };
        for (guint f = 0; what == NULL && f < G_N_ELEMENTS(files); f++) {
            if (files[f] != NULL && !same_boot_file_in_views(jc, files[f])) {
                what = g_strdup_printf("%s differs from the kernel's view",
                                       files[f]);
            }
        }
    }
    j->views_differ = what != NULL;
    if (what == NULL) {
        j->views_note = g_strdup("the bootloader's view agrees with the "
                                 "kernel's on boot/loader, the entries and "
                                 "the boot files");
        return;
    }
    j->views_note = g_strdup_printf("the bootloader (no journal replay) reads "
                                    "%s", what);
    char *reason = g_strdup_printf("%s [%s]", j->reason, j->views_note);
    g_free(j->reason);
    j->reason = reason;
}

/* ---- the verdict ---------------------------------------------------- */

static const char *
entry_name(const PpBootEntry *e, char buf[static 96])
{
    g_snprintf(buf, 96, "entry %u (%s)", e->index,
               e->tree_version != NULL ? e->tree_version
               : e->version != NULL ? e->version : e->source);
    return buf;
}

static void
decide(Judge *jc)
{
    PpJudgement *j = jc->j;
    char nb[96];
    if (j->booted < 0) {
        j->outcome = PP_OUTCOME_BRICK;
        if (j->loader_error != NULL) {
            j->reason = g_strdup(j->loader_error);
        } else {
            const PpBootEntry *e0 = j->entries->pdata[0];
            j->reason = g_strdup_printf("%s does not boot: %s%s",
                                        entry_name(e0, nb), e0->boot_error,
                                        j->entries->len > 1 && !jc->opts.no_fallback
                                        ? " (nor does any other entry)" : "");
        }
        return;
    }
    const PpBootEntry *b = j->entries->pdata[j->booted];
    if (b->tree_checked && !b->tree_complete) {
        j->outcome = PP_OUTCOME_WRONG_TREE;
        j->reason = g_strdup_printf("%s boots %s: %s", entry_name(b, nb),
                                    b->deploy_path, b->tree_error);
        return;
    }
    if (j->repo.checked && !j->repo.ok) {
        j->outcome = PP_OUTCOME_REPO_CORRUPT;
        j->reason = g_strdup_printf("%u repo problem(s), first: %s",
                                    j->repo.n_problems,
                                    j->repo.problems->len > 0
                                    ? (char *)j->repo.problems->pdata[0] : "?");
        return;
    }
    for (guint i = 0; i < j->entries->len; i++) {
        const PpBootEntry *e = j->entries->pdata[i];
        if ((int)i == j->booted) {
            continue;
        }
        if (!e->bootable || (e->tree_checked && !e->tree_complete)) {
            j->outcome = PP_OUTCOME_NO_ROLLBACK;
            j->reason = g_strdup_printf("%s%s: %s", entry_name(e, nb),
                                        (int)i < j->booted ? " (the default)" : "",
                                        e->bootable ? e->tree_error : e->boot_error);
            return;
        }
    }
    j->outcome = PP_OUTCOME_PASS;
    j->reason = g_strdup_printf("%s boots %s%s%s", entry_name(b, nb),
                                b->deploy_path,
                                b->tree_checked ? ", complete" : "",
                                j->entries->len > 1 ? "; the rollback entry "
                                "is good too" : "");
}

gboolean
pp_oracle_judge(const char *sysroot, const PpKnownTrees *known,
                const PpOracleOpts *opts, PpJudgement **out, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    Judge jc = { .known = known };
    if (opts != NULL) {
        jc.opts = *opts;
    }
    if (jc.opts.max_diffs == 0) {
        jc.opts.max_diffs = PP_DEFAULT_MAX_DIFFS;
    }
    if (pp_oracle_cache_disabled()) {
        jc.opts.cache = NULL;
    }
    jc.sysroot_dfd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (jc.sysroot_dfd < 0) {
        return pp_throw_errno_prefix(error, "open(%s)", sysroot);
    }
    jc.boot_dfd = jc.sysroot_dfd;
    if (jc.opts.boot_view != NULL) {
        jc.boot_dfd = open(jc.opts.boot_view, O_RDONLY | O_DIRECTORY
                           | O_CLOEXEC);
        if (jc.boot_dfd < 0) {
            int errsv = errno;
            close(jc.sysroot_dfd);
            errno = errsv;
            return pp_throw_errno_prefix(error, "open(%s)", jc.opts.boot_view);
        }
    }
    jc.csum_by_inode = g_hash_table_new_full(pp_inode_hash, pp_inode_equal, g_free,
                                             g_free);
    g_autoptr(PpJudgement) j = g_new0(PpJudgement, 1);
    jc.j = j;
    j->bootversion = -1;
    j->booted = -1;
    j->entries = g_ptr_array_new_with_free_func((GDestroyNotify)boot_entry_free);
    j->repo.refs = g_ptr_array_new_with_free_func((GDestroyNotify)ref_info_free);
    j->repo.problems = g_ptr_array_new_with_free_func(g_free);

    if (read_loader_link(&jc)) {
        j->backend = g_strdup(choose_backend(&jc));
        if (strcmp(j->backend, "uboot") == 0) {
            read_uenv_entries(&jc);
        } else {
            read_bls_entries(&jc);
        }
    }
    for (guint i = 0; i < j->entries->len; i++) {
        PpBootEntry *e = j->entries->pdata[i];
        check_entry_boots(&jc, e);
        if (e->bootable && j->booted < 0 && (i == 0 || !jc.opts.no_fallback)) {
            j->booted = (int)i;
            j->fell_back = i > 0;
        }
    }
    for (guint i = 0; i < j->entries->len; i++) {
        check_tree(&jc, j->entries->pdata[i]);
    }
    if (!jc.opts.skip_repo) {
        check_repo(&jc);
    }
    count_layout(&jc);
    decide(&jc);
    if (jc.boot_dfd != jc.sysroot_dfd) {
        j->two_views = TRUE;
        compare_views(&jc);
        close(jc.boot_dfd);
    }
    g_hash_table_unref(jc.csum_by_inode);
    close(jc.sysroot_dfd);
    j->elapsed_us = g_get_monotonic_time() - t0;
    *out = g_steal_pointer(&j);
    return TRUE;
}

/* ---- reporting ------------------------------------------------------ */

static void
entry_to_json(JsonBuilder *b, const PpBootEntry *e, gboolean booted)
{
    json_builder_begin_object(b);
    pp_json_add_int(b, "index", e->index);
    pp_json_add_boolean(b, "booted", booted);
    pp_json_add_string_or_null(b, "source", e->source);
    pp_json_add_string_or_null(b, "title", e->title);
    pp_json_add_string_or_null(b, "version", e->version);
    pp_json_add_string_or_null(b, "options", e->options);
    pp_json_add_string_or_null(b, "linux", e->linux_path);
    pp_json_add_string_or_null(b, "initrd", e->initrd_path);
    pp_json_add_string_or_null(b, "devicetree", e->devicetree_path);
    pp_json_add_boolean(b, "bootable", e->bootable);
    pp_json_add_string_or_null(b, "boot_error", e->boot_error);
    pp_json_add_string_or_null(b, "ostree_arg", e->ostree_arg);
    pp_json_add_string_or_null(b, "deploy_path", e->deploy_path);
    pp_json_add_string_or_null(b, "osname", e->osname);
    pp_json_add_string_or_null(b, "commit", e->commit);
    pp_json_add_int(b, "serial", e->serial);
    pp_json_add_string_or_null(b, "bootcsum", e->bootcsum);
    pp_json_add_string_or_null(b, "bootcsum_actual", e->bootcsum_actual);
    json_builder_set_member_name(b, "tree");
    json_builder_begin_object(b);
    pp_json_add_boolean(b, "checked", e->tree_checked);
    pp_json_add_boolean(b, "known", e->tree_known);
    pp_json_add_string_or_null(b, "version", e->tree_version);
    pp_json_add_boolean(b, "complete", e->tree_complete);
    pp_json_add_string_or_null(b, "error", e->tree_error);
    pp_json_add_int(b, "paths_compared", e->n_paths);
    pp_json_add_int(b, "bytes_hashed", (gint64)e->bytes_hashed);
    pp_json_add_int(b, "n_diffs", e->n_diffs);
    json_builder_set_member_name(b, "diffs");
    json_builder_begin_array(b);
    for (guint i = 0; i < e->diffs->len; i++) {
        const PpTreeDiff *d = e->diffs->pdata[i];
        json_builder_begin_object(b);
        pp_json_add_string_or_null(b, "path", d->path);
        pp_json_add_string_or_null(b, "kind", d->kind);
        pp_json_add_string_or_null(b, "detail", d->detail);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

JsonNode *
pp_judgement_to_json(const PpJudgement *j)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string_or_null(b, "outcome", pp_outcome_to_string(j->outcome));
    pp_json_add_string_or_null(b, "reason", j->reason);
    pp_json_add_string_or_null(b, "backend", j->backend);
    pp_json_add_int(b, "bootversion", j->bootversion);
    pp_json_add_string_or_null(b, "loader_error", j->loader_error);
    pp_json_add_int(b, "booted", j->booted);
    pp_json_add_boolean(b, "fell_back", j->fell_back);
    json_builder_set_member_name(b, "entries");
    json_builder_begin_array(b);
    for (guint i = 0; i < j->entries->len; i++) {
        entry_to_json(b, j->entries->pdata[i], (int)i == j->booted);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "repo");
    json_builder_begin_object(b);
    pp_json_add_boolean(b, "checked", j->repo.checked);
    pp_json_add_boolean(b, "ok", j->repo.ok);
    json_builder_set_member_name(b, "refs");
    json_builder_begin_array(b);
    for (guint i = 0; i < j->repo.refs->len; i++) {
        const PpRefInfo *r = j->repo.refs->pdata[i];
        json_builder_begin_object(b);
        pp_json_add_string_or_null(b, "name", r->name);
        pp_json_add_string_or_null(b, "commit", r->commit);
        pp_json_add_boolean(b, "partial", r->partial);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    pp_json_add_int(b, "n_problems", j->repo.n_problems);
    json_builder_set_member_name(b, "problems");
    json_builder_begin_array(b);
    for (guint i = 0; i < j->repo.problems->len; i++) {
        json_builder_add_string_value(b, j->repo.problems->pdata[i]);
    }
    json_builder_end_array(b);
    pp_json_add_int(b, "commits_checked", j->repo.n_commits_checked);
    pp_json_add_int(b, "objects_checked", j->repo.n_objects_checked);
    pp_json_add_int(b, "staging_dirs", j->repo.n_staging_dirs);
    pp_json_add_int(b, "staging_bytes", (gint64)j->repo.staging_bytes);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "layout");
    json_builder_begin_object(b);
    pp_json_add_int(b, "loader_dirs", j->n_loader_dirs);
    pp_json_add_int(b, "boot_dirs", j->n_boot_dirs);
    pp_json_add_int(b, "deploy_dirs", j->n_deploy_dirs);
    json_builder_end_object(b);
    if (j->two_views) {
        json_builder_set_member_name(b, "views");
        json_builder_begin_object(b);
        pp_json_add_boolean(b, "differ", j->views_differ);
        pp_json_add_string_or_null(b, "kernel_loader", j->kernel_loader);
        pp_json_add_string_or_null(b, "note", j->views_note);
        json_builder_end_object(b);
    }
    pp_json_add_int(b, "elapsed_us", j->elapsed_us);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

char *
pp_judgement_to_text(const PpJudgement *j)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_string_append_printf(s, "outcome: %s\n  %s\n", pp_outcome_to_string(j->outcome),
                           j->reason);
    if (j->loader_error != NULL) {
        g_string_append_printf(s, "bootloader: %s\n", j->loader_error);
    }
    if (j->bootversion >= 0) {
        g_string_append_printf(s, "bootloader: %s, boot/loader -> loader.%d, "
                               "%u entr%s\n", j->backend, j->bootversion,
                               j->entries->len, j->entries->len == 1 ? "y" : "ies");
    }
    for (guint i = 0; i < j->entries->len; i++) {
        const PpBootEntry *e = j->entries->pdata[i];
        g_string_append_printf(s, "%s entry %u: %s%s%s\n",
                               (int)i == j->booted ? "*" : " ", i, e->source,
                               e->title != NULL ? ": " : "",
                               e->title != NULL ? e->title : "");
        if (!e->bootable) {
            g_string_append_printf(s, "    does not boot: %s\n", e->boot_error);
            continue;
        }
        g_string_append_printf(s, "    boots %s\n", e->deploy_path);
        if (!e->tree_checked) {
            g_string_append(s, "    tree: not compared (no known trees)\n");
        } else if (!e->tree_known) {
            g_string_append_printf(s, "    tree: unknown: %s\n", e->tree_error);
        } else if (e->tree_complete) {
            g_string_append_printf(s, "    tree: complete, version %s (%u paths)\n",
                                   e->tree_version != NULL ? e->tree_version : "?",
                                   e->n_paths);
        } else {
            g_string_append_printf(s, "    tree: INCOMPLETE, %u difference(s) "
                                   "from version %s:\n", e->n_diffs,
                                   e->tree_version != NULL ? e->tree_version : "?");
            for (guint k = 0; k < e->diffs->len; k++) {
                const PpTreeDiff *d = e->diffs->pdata[k];
                g_string_append_printf(s, "      %-8s %s: %s\n", d->kind,
                                       d->path, d->detail);
            }
            if (e->n_diffs > e->diffs->len) {
                g_string_append_printf(s, "      ... and %u more\n",
                                       e->n_diffs - e->diffs->len);
            }
        }
    }
    if (j->repo.checked) {
        g_string_append_printf(s, "repo: %s, %u ref(s), %u commit(s) and %u "
                               "object(s) checked\n",
                               j->repo.ok ? "ok" : "PROBLEMS", j->repo.refs->len,
                               j->repo.n_commits_checked,
                               j->repo.n_objects_checked);
        for (guint i = 0; i < j->repo.refs->len; i++) {
            const PpRefInfo *r = j->repo.refs->pdata[i];
            g_string_append_printf(s, "  ref %s -> %.12s%s\n", r->name, r->commit,
                                   r->partial ? " (partial)" : "");
        }
        for (guint i = 0; i < j->repo.problems->len; i++) {
            g_string_append_printf(s, "  problem: %s\n",
                                   (char *)j->repo.problems->pdata[i]);
        }
        if (j->repo.n_problems > j->repo.problems->len) {
            g_string_append_printf(s, "  ... and %u more\n",
                                   j->repo.n_problems - j->repo.problems->len);
        }
        g_string_append_printf(s, "staging: %u dir(s), %" G_GUINT64_FORMAT
                               " bytes left in ostree/repo/tmp/staging-*\n",
                               j->repo.n_staging_dirs, j->repo.staging_bytes);
    }
    g_string_append_printf(s, "layout: %d boot/loader.N dir(s), %d ostree/boot.N "
                           "name(s), %d deployment dir(s)\n", j->n_loader_dirs,
                           j->n_boot_dirs, j->n_deploy_dirs);
    if (j->two_views) {
        g_string_append_printf(s, "views: %s\n", j->views_note);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}
