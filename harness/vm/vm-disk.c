/* SPDX-License-Identifier: MIT */
/*
 * vmdisk.c: see vmdisk.h.
 */
#include "vm/vm-disk.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

#include <ostree.h>

gboolean
pp_vmdisk_copy(const char *src, const char *dest, GError **error)
{
    const char *argv[] = { "cp", "--sparse=always", src, dest, NULL };
    int status = 0;
    if (!pp_spawn_wait(argv, G_SUBPROCESS_FLAGS_NONE, &status, error)) {
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cp --sparse=always %s %s: exit status %d", src, dest,
                    status);
        return FALSE;
    }
    return TRUE;
}

static char *
fs_spec(const char *disk, guint64 offset)
{
    return g_strdup_printf("%s?offset=%" G_GUINT64_FORMAT, disk, offset);
}

/*
 * debugfs [-w] -f SCRIPT SPEC; its stdout in *out (may be NULL).  debugfs
 * exits 0 even when a request fails, and says so on stderr: a line other
 * than its banner there is an error here.
 */
static gboolean
debugfs(const char *disk, guint64 offset, gboolean writable,
        const char *script, char **out, GError **error)
{
    g_autofree char *spec = fs_spec(disk, offset);
    g_autofree char *tmpl = NULL;
    int fd = g_file_open_tmp("plugpull-debugfs-XXXXXX", &tmpl, error);
    if (fd < 0) {
        return FALSE;
    }
    close(fd);
    /* Not a result: debugfs' script, removed after this run. */
    if (!g_file_set_contents(tmpl, script, -1, error)) {
        (void)unlink(tmpl);
        return FALSE;
    }
    /* Read-only unless asked: a read never changes evidence. */
    const char *argv[] = { "debugfs", "-f", tmpl, spec, NULL, NULL };
    if (writable) {
        argv[1] = "-w";
        argv[2] = "-f";
        argv[3] = tmpl;
        argv[4] = spec;
    }
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        error);
    g_autofree char *sout = NULL, *serr = NULL;
    gboolean ok = p != NULL
                  && g_subprocess_communicate_utf8(p, NULL, NULL, &sout, &serr,
                                                   error);
    (void)unlink(tmpl);
    if (!ok) {
        g_prefix_error(error, "debugfs on %s: ", spec);
        return FALSE;
    }
    g_autoptr(GString) errs = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(serr != NULL ? serr : "", "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        /* The banner is not an error. */
        if (*lines[i] == '\0' || g_str_has_prefix(lines[i], "debugfs ")) {
            continue;
        }
        g_string_append_printf(errs, "%s%s", errs->len ? "; " : "", lines[i]);
    }
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0
        || errs->len > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "debugfs%s on %s: %s", writable ? " -w" : "", spec,
                    errs->len ? errs->str : "failed");
        return FALSE;
    }
    if (out != NULL) {
        *out = g_steal_pointer(&sout);
    }
    return TRUE;
}

char *
pp_vmdisk_cat(const char *disk, guint64 offset, const char *path,
              GError **error)
{
    g_autofree char *script = g_strdup_printf("cat %s\n", path);
    char *out = NULL;
    if (!debugfs(disk, offset, FALSE, script, &out, error)) {
        return NULL;
    }
    return out;
}

gboolean
pp_vmdisk_dump(const char *disk, guint64 offset, const char *path,
               const char *dest, GError **error)
{
    (void)unlink(dest);
    g_autofree char *script = g_strdup_printf("dump %s %s\n", path, dest);
    if (!debugfs(disk, offset, FALSE, script, NULL, error)) {
        return FALSE;
    }
    if (!g_file_test(dest, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "debugfs dump %s from %s: nothing written", path, disk);
        return FALSE;
    }
    return TRUE;
}

static gboolean
empty_kernel(const char *disk, guint64 offset, GString *notes, GError **error)
{
    g_autofree char *uenv = pp_vmdisk_cat(disk, offset,
                                          "/boot/loader/uEnv.txt", error);
    if (uenv == NULL) {
        return FALSE;
    }
    g_autofree char *kernel = NULL;
    g_auto(GStrv) lines = g_strsplit(uenv, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], "kernel_image=")) {
            kernel = g_strdup(lines[i] + strlen("kernel_image="));
        }
    }
    if (kernel == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "sabotage: no kernel_image in %s's uEnv.txt", disk);
        return FALSE;
    }
    g_autofree char *script = g_strdup_printf("rm %s\nwrite /dev/null %s\n",
                                              kernel, kernel);
    if (!debugfs(disk, offset, TRUE, script, NULL, error)) {
        return FALSE;
    }
    g_string_append_printf(notes, "sabotage: emptied %s after the cut\n",
                           kernel);
    return TRUE;
}

/* Names of the deployments: ostree/deploy/OS/deploy/CSUM.SERIAL. */
static gboolean
list_dir(const char *disk, guint64 offset, const char *dir, GPtrArray *names,
         GError **error)
{
    g_autofree char *script = g_strdup_printf("ls -p %s\n", dir);
    g_autofree char *out = NULL;
    if (!debugfs(disk, offset, FALSE, script, &out, error)) {
        return FALSE;
    }
    /* ls -p: /INODE/MODE/UID/GID/NAME/SIZE/ per entry */
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], "/", -1);
        if (g_strv_length(f) >= 6 && !g_str_equal(f[5], ".")
            && !g_str_equal(f[5], "..")
            && (g_ascii_strtoull(f[2], NULL, 8) & 0170000) == 0040000) {
            g_ptr_array_add(names, g_strdup(f[5]));
        }
    }
    return TRUE;
}

gboolean
pp_vmdisk_boot_view(const char *disk, guint64 offset, char **out_loader,
                    gboolean *out_needs_recovery, GError **error)
{
    g_autofree char *out = NULL;
    *out_loader = NULL;
    *out_needs_recovery = FALSE;
    /* Two runs: a stat that fails (no boot/loader) must not hide the
       superblock. */
    if (!debugfs(disk, offset, FALSE, "stats -h\n", &out, error)) {
        return FALSE;
    }
    const char *f = strstr(out, "Filesystem features:");
    if (f != NULL) {
        g_autofree char *line = g_strndup(f, strcspn(f, "\n"));
        g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
        for (guint i = 0; words[i] != NULL; i++) {
            *out_needs_recovery |= g_str_equal(words[i], "needs_recovery");
        }
    }
    g_clear_pointer(&out, g_free);
    g_autoptr(GError) local = NULL;
    if (!debugfs(disk, offset, FALSE, "stat /boot/loader\n", &out, &local)) {
        return TRUE;            /* no loader link there: *out_loader NULL */
    }
    const char *key = "Fast link dest: \"";
    const char *p = strstr(out, key);
    if (p != NULL) {
        p += strlen(key);
        *out_loader = g_strndup(p, strcspn(p, "\"\n"));
    }
    return TRUE;
}

/* A number after "key:" in debugfs output, or 0. */
static guint64
field_u64(const char *text, const char *key)
{
    const char *p = text != NULL ? strstr(text, key) : NULL;
    return p != NULL ? g_ascii_strtoull(p + strlen(key), NULL, 10) : 0;
}

/*
 * Overwrite the first len bytes of path's first data block in place, on
 * the disk file (bs: the filesystem's block size): no metadata changes,
 * so the kernel's replay of the journal the cut left (which debugfs does
 * not do, and which e2fsck cannot do through an offset) cannot undo it.
 * fd: the disk, open for writing.  *out_block: the block written.
 */
static gboolean
overwrite_start(int fd, const char *disk, guint64 offset, guint64 bs,
                const char *path, const void *data, gsize len,
                guint64 *out_block, GError **error)
{
    g_autofree char *req = g_strdup_printf("stat %s\nbmap %s 0\n", path,
                                           path);
    g_autofree char *out = NULL;
    if (!debugfs(disk, offset, FALSE, req, &out, error)) {
        return FALSE;
    }
    guint64 size = field_u64(out, "Size:");
    /* bmap prints the physical block alone on the last line. */
    g_strstrip(out);
    const char *last = strrchr(out, '\n');
    guint64 pblk = g_ascii_strtoull(last != NULL ? last + 1 : out, NULL, 10);
    if (size < len || pblk == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: size %" G_GUINT64_FORMAT ", block %" G_GUINT64_FORMAT
                    " on %s", path, size, pblk, disk);
        return FALSE;
    }
    off_t at = (off_t)(offset + pblk * bs);
    if (pwrite(fd, data, len, at) != (ssize_t)len) {
        return pp_throw_errno_prefix(error, "pwrite(%s, %lld)", disk,
                                     (long long)at);
    }
    *out_block = pblk;
    return TRUE;
}

/* The filesystem's block size, from debugfs stats. */
static gboolean
block_size(const char *disk, guint64 offset, guint64 *out_bs, GError **error)
{
    g_autofree char *stats = NULL;
    if (!debugfs(disk, offset, FALSE, "stats\n", &stats, error)) {
        return FALSE;
    }
    *out_bs = field_u64(stats, "Block size:");
    if (*out_bs < 1024) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "no block size in debugfs stats of %s", disk);
        return FALSE;
    }
    return TRUE;
}

/*
 * The agent's file is overwritten in place (overwrite_start).  The
 * deployments' init files are hard links to one repo object: one write
 * silences them all (and corrupts that object, which no check reaches:
 * the boot hangs first).
 */
static gboolean
hang_init(const char *disk, guint64 offset, GString *notes, GError **error)
{
    static const char script[] = "#!/bin/sh\nexec sleep 1000000\n";
    g_autoptr(GPtrArray) oses = g_ptr_array_new_with_free_func(g_free);
    guint64 bs = 0;
    if (!list_dir(disk, offset, "/ostree/deploy", oses, error)
        || !block_size(disk, offset, &bs, error)) {
        g_prefix_error(error, "sabotage hang-init: ");
        return FALSE;
    }
    int fd = open(disk, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "sabotage hang-init: open(%s)", disk);
        return FALSE;
    }
    guint n = 0;
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < oses->len; i++) {
        g_autofree char *d = g_strdup_printf("/ostree/deploy/%s/deploy",
                                             (char *)oses->pdata[i]);
        g_autoptr(GPtrArray) deps = g_ptr_array_new_with_free_func(g_free);
        ok = list_dir(disk, offset, d, deps, error);
        for (guint j = 0; ok && j < deps->len; j++) {
            g_autofree char *init = g_strdup_printf("%s/%s/usr/bin/init", d,
                                                    (char *)deps->pdata[j]);
            /* The rest of the old script stays after it: never read,
               exec does not return. */
            guint64 pblk = 0;
            ok = overwrite_start(fd, disk, offset, bs, init, script,
                                 sizeof script - 1, &pblk, error);
            if (!ok) {
                g_prefix_error(error, "sabotage hang-init: ");
                break;
            }
            g_string_append_printf(notes, "sabotage: %s sleeps silently "
                                   "(block %" G_GUINT64_FORMAT " rewritten)\n",
                                   init, pblk);
            n++;
        }
    }
    if (fsync(fd) != 0 && ok) {
        pp_throw_errno_prefix(error, "sabotage hang-init: fsync(%s)", disk);
        ok = FALSE;
    }
    close(fd);
    if (ok && n == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "sabotage hang-init: no deployment on %s", disk);
        ok = FALSE;
    }
    return ok;
}

/*
 * The root directory tree object of commit `to` in the device's repo,
 * its first bytes overwritten in place: an object the update wrote
 * (not in the image as built), which neither the boot nor `ostree admin
 * status` reads, so only the repo check (guest-fsck or ostree fsck) can
 * see it.
 */
static gboolean
corrupt_new_tree(const char *disk, guint64 offset, const char *to,
                 GString *notes, GError **error)
{
    g_autofree char *commit_path = g_strdup_printf(
        "/ostree/repo/objects/%.2s/%s.commit", to, to + 2);
    g_autofree char *tmp = NULL;
    int tfd = g_file_open_tmp("pp-commit-XXXXXX", &tmp, error);
    if (tfd < 0) {
        return FALSE;
    }
    close(tfd);
    g_autofree char *data = NULL;
    gsize len = 0;
    gboolean got = pp_vmdisk_dump(disk, offset, commit_path, tmp, error)
                   && g_file_get_contents(tmp, &data, &len, error);
    (void)unlink(tmp);
    if (!got) {
        g_prefix_error(error, "sabotage corrupt-new-tree: ");
        return FALSE;
    }
    g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&data), len);
    g_autoptr(GVariant) commit = g_variant_ref_sink(g_variant_new_from_bytes(
        OSTREE_COMMIT_GVARIANT_FORMAT, bytes, FALSE));
    g_autoptr(GVariant) root_v = g_variant_get_child_value(commit, 6);
    if (g_variant_n_children(root_v) != OSTREE_SHA256_DIGEST_LEN) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "sabotage corrupt-new-tree: %s on %s has no root tree",
                    commit_path, disk);
        return FALSE;
    }
    g_autofree char *root = ostree_checksum_from_bytes_v(root_v);
    g_autofree char *tree = g_strdup_printf(
        "/ostree/repo/objects/%.2s/%s.dirtree", root, root + 2);
    static const char junk[16] = "plugpull-spoilt";
    guint64 bs = 0, pblk = 0;
    gboolean ok = block_size(disk, offset, &bs, error);
    int fd = ok ? open(disk, O_WRONLY | O_CLOEXEC) : -1;
    if (ok && fd < 0) {
        ok = pp_throw_errno_prefix(error, "open(%s)", disk);
    }
    if (ok) {
        ok = overwrite_start(fd, disk, offset, bs, tree, junk, sizeof junk,
                             &pblk, error);
        if (fsync(fd) != 0 && ok) {
            ok = pp_throw_errno_prefix(error, "fsync(%s)", disk);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    if (!ok) {
        g_prefix_error(error, "sabotage corrupt-new-tree: ");
        return FALSE;
    }
    g_string_append_printf(notes, "sabotage: the first %zu bytes of %s (v2's "
                           "root tree, block %" G_GUINT64_FORMAT ") "
                           "overwritten after the cut\n", sizeof junk, tree,
                           pblk);
    return TRUE;
}

gboolean
pp_vmdisk_sabotage(const char *disk, guint64 offset, const char *what,
                   const char *to, GString *notes, GError **error)
{
    if (g_str_equal(what, PP_SABOTAGE_CORRUPT_TREE)) {
        return corrupt_new_tree(disk, offset, to, notes, error);
    }
    if (g_str_equal(what, "empty-kernel")) {
        return empty_kernel(disk, offset, notes, error);
    }
    if (g_str_equal(what, "hang-init")) {
        return hang_init(disk, offset, notes, error);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "unknown sabotage '%s'", what);
    return FALSE;
}
