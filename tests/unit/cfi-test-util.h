/* SPDX-License-Identifier: MIT */
/*
 * cfi-test-util.h: small file-system helpers shared by the unit tests.
 * Header-only (static functions) because every test-X.c is built alone.
 */
#ifndef CFI_TEST_UTIL_H
#define CFI_TEST_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "common/fs.h"

/* Remove a directory tree made by a test (the harness's own rm -rf). */
static G_GNUC_UNUSED void
tu_rm_rf(const char *path)
{
    if (path != NULL)
        pp_rm_rf(path, NULL);
}

static G_GNUC_UNUSED char *
tu_mkdtemp(void)
{
    g_autoptr(GError) error = NULL;
    char *d = g_dir_make_tmp("cfi-unit-XXXXXX", &error);
    assert_non_null(d);
    return d;
}

static G_GNUC_UNUSED void
tu_write(const char *dir, const char *rel, const char *content, int mode)
{
    g_autofree char *p = g_build_filename(dir, rel, NULL);
    g_autofree char *parent = g_path_get_dirname(p);
    assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
    assert_true(g_file_set_contents(p, content, -1, NULL));
    assert_int_equal(chmod(p, mode), 0);
}

/* Contents of dir/rel, or NULL when it does not exist. */
static G_GNUC_UNUSED char *
tu_read(const char *dir, const char *rel, gsize *out_len)
{
    g_autofree char *p = g_build_filename(dir, rel, NULL);
    char *c = NULL;
    gsize len = 0;
    if (!g_file_get_contents(p, &c, &len, NULL))
        return NULL;
    if (out_len != NULL)
        *out_len = len;
    return c;
}

static G_GNUC_UNUSED gboolean
tu_exists(const char *dir, const char *rel)
{
    g_autofree char *p = g_build_filename(dir, rel, NULL);
    struct stat st;
    return lstat(p, &st) == 0;
}

static int
tu_cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted (a tree walk in a stable order). */
static G_GNUC_UNUSED GPtrArray *
tu_sorted_names(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while (d != NULL && (n = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(n));
    g_ptr_array_sort(names, tu_cmp_names);
    return names;
}

static void
tu_describe(GString *out, const char *root, const char *rel)
{
    g_autofree char *p = rel[0] ? g_build_filename(root, rel, NULL)
                                : g_strdup(root);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    g_string_append_printf(out, "%s %o ", rel, st.st_mode);
    if (S_ISREG(st.st_mode)) {
        g_autofree char *c = NULL;
        gsize len = 0;
        assert_true(g_file_get_contents(p, &c, &len, NULL));
        g_autofree char *sum =
            g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)c, len);
        g_string_append_printf(out, "%zu %s\n", len, sum);
    } else if (S_ISLNK(st.st_mode)) {
        g_autofree char *t = g_file_read_link(p, NULL);
        g_string_append_printf(out, "-> %s\n", t);
    } else {
        g_string_append_c(out, '\n');
        g_autoptr(GPtrArray) names = tu_sorted_names(p);
        for (guint i = 0; i < names->len; i++) {
            g_autofree char *sub = rel[0]
                ? g_strconcat(rel, "/", names->pdata[i], NULL)
                : g_strdup(names->pdata[i]);
            tu_describe(out, root, sub);
        }
    }
}

/* Every name, type, mode, symlink target and file checksum under root, in
 * a stable order: two trees are byte-identical iff these are equal. */
static G_GNUC_UNUSED char *
tu_tree_digest(const char *root)
{
    GString *out = g_string_new(NULL);
    tu_describe(out, root, "");
    return g_string_free(out, FALSE);
}

#endif /* CFI_TEST_UTIL_H */
