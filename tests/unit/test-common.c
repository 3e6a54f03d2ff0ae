/* SPDX-License-Identifier: MIT */
/*
 * test-common: helpers of harness/common/ that every room relies on.
 *
 * - pp_rm_rf removes a tree holding read-only and mode-0000 directories,
 *   files and symlinks; a missing path is no error;
 *   twin: a symlink to a directory outside the tree is removed, and the
 *   directory it names keeps everything; and a path through a
 *   non-directory is refused with an error naming the path and the call.
 * - pp_tree_disk_bytes counts a file's blocks once however many links
 *   name it (du's count: a crash state's farm and an ostree checkout
 *   link their files), and a symlink's target not at all; twin: a second
 *   file with its own blocks adds them, and a missing path is refused
 *   naming it.
 * - every outcome's name parses back to it, the names are distinct, and
 *   "outcomes" lists every one in report order; twin: an unknown name (a
 *   near miss, another case, NULL) is refused and leaves *out alone, and a
 *   value out of the enum prints as "?".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/outcome.h"
#include "common/scenario.h"

static char *
make_tmp(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("pp-test-common-XXXXXX", &error);
    assert_non_null(dir);
    return dir;
}

static void
write_file(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(p, "x\n", -1, NULL));
}

static void
test_rm_rf_tree(void **state)
{
    (void)state;
    g_autofree char *tmp = make_tmp();
    g_autofree char *top = g_build_filename(tmp, "tree", NULL);
    g_autofree char *ro = g_build_filename(top, "ro", NULL);
    g_autofree char *deep = g_build_filename(ro, "a/b/c", NULL);
    g_autofree char *closed = g_build_filename(top, "closed", NULL);
    assert_int_equal(g_mkdir_with_parents(deep, 0755), 0);
    assert_int_equal(g_mkdir(closed, 0755), 0);
    write_file(deep, "f");
    write_file(ro, "g");
    write_file(closed, "h");
    g_autofree char *link = g_build_filename(ro, "dangling", NULL);
    assert_int_equal(symlink("nowhere", link), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    assert_int_equal(chmod(closed, 0), 0);

    g_autoptr(GError) error = NULL;
    assert_true(pp_rm_rf(top, &error));
    assert_null(error);
    assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    /* Gone already: nothing to do, no error. */
    assert_true(pp_rm_rf(top, &error));
    assert_null(error);
    assert_true(pp_rm_rf(tmp, &error));
}

static void
test_rm_rf_symlink_not_followed_fail(void **state)
{
    (void)state;
    g_autofree char *tmp = make_tmp();
    g_autofree char *outside = g_build_filename(tmp, "outside", NULL);
    g_autofree char *top = g_build_filename(tmp, "tree", NULL);
    assert_int_equal(g_mkdir(outside, 0755), 0);
    assert_int_equal(g_mkdir(top, 0755), 0);
    write_file(outside, "keep");
    g_autofree char *link = g_build_filename(top, "to-outside", NULL);
    assert_int_equal(symlink(outside, link), 0);

    g_autoptr(GError) error = NULL;
    assert_true(pp_rm_rf(top, &error));
    assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    g_autofree char *kept = g_build_filename(outside, "keep", NULL);
    assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));

    /* The root itself a symlink: the link goes, its target stays. */
    assert_int_equal(symlink(outside, top), 0);
    assert_true(pp_rm_rf(top, &error));
    assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));

    /* A path through a file: refused, the error names the path and call. */
    g_autofree char *bad = g_build_filename(kept, "x", NULL);
    assert_false(pp_rm_rf(bad, &error));
    assert_non_null(error);
    assert_true(g_str_has_prefix(error->message, "removing "));
    assert_non_null(strstr(error->message, bad));
    assert_non_null(strstr(error->message, "fstatat("));
    g_clear_error(&error);
    assert_true(pp_rm_rf(tmp, &error));
}

/* A file of len bytes of data, fsynced so its blocks are allocated. */
static void
write_blocks(const char *path, gsize len)
{
    g_autofree char *data = g_malloc0(len);
    memset(data, 'p', len);
    assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
}

static guint64
tree_bytes(const char *path)
{
    g_autoptr(GError) error = NULL;
    guint64 bytes = 0;
    assert_true(pp_tree_disk_bytes(path, &bytes, &error));
    assert_null(error);
    return bytes;
}

static void
test_tree_disk_bytes_links_once(void **state)
{
    (void)state;
    g_autofree char *tmp = make_tmp();
    g_autofree char *top = g_build_filename(tmp, "tree", NULL);
    g_autofree char *sub = g_build_filename(top, "sub", NULL);
    assert_int_equal(g_mkdir_with_parents(sub, 0755), 0);
    g_autofree char *big = g_build_filename(top, "big", NULL);
    write_blocks(big, 1 << 20);
    guint64 one = tree_bytes(top);
    assert_true(one >= (1 << 20));

    /* Two more names of the same inode, one in another directory, and a
     * symlink to outside the tree: the same count. */
    g_autofree char *l1 = g_build_filename(top, "big-link", NULL);
    g_autofree char *l2 = g_build_filename(sub, "big-link", NULL);
    g_autofree char *sl = g_build_filename(sub, "to-tmp", NULL);
    assert_int_equal(link(big, l1), 0);
    assert_int_equal(link(big, l2), 0);
    assert_int_equal(symlink(tmp, sl), 0);
    guint64 linked = tree_bytes(top);
    assert_true(linked >= one);
    assert_true(linked < one + 64 * 1024);  /* the symlink's own block */
    assert_true(pp_rm_rf(tmp, NULL));
}

static void
test_tree_disk_bytes_copies_fail(void **state)
{
    (void)state;
    g_autofree char *tmp = make_tmp();
    g_autofree char *top = g_build_filename(tmp, "tree", NULL);
    assert_int_equal(g_mkdir(top, 0755), 0);
    g_autofree char *big = g_build_filename(top, "big", NULL);
    write_blocks(big, 1 << 20);
    guint64 one = tree_bytes(top);
    /* A copy, not a link: its blocks count. */
    g_autofree char *copy = g_build_filename(top, "big-copy", NULL);
    write_blocks(copy, 1 << 20);
    assert_true(tree_bytes(top) >= one + (1 << 20));

    g_autofree char *missing = g_build_filename(tmp, "missing", NULL);
    g_autoptr(GError) error = NULL;
    guint64 bytes = 7;
    assert_false(pp_tree_disk_bytes(missing, &bytes, &error));
    assert_non_null(error);
    assert_non_null(strstr(error->message, missing));
    assert_non_null(strstr(error->message, "fstatat("));
    assert_true(pp_rm_rf(tmp, NULL));
}

static void
test_outcome_round_trip(void **state)
{
    (void)state;
    for (guint o = 0; o < PP_N_OUTCOMES; o++) {
        const char *name = pp_outcome_to_string((PpOutcome)o);
        assert_string_not_equal(name, "?");
        PpOutcome back = PP_N_OUTCOMES;
        assert_true(pp_outcome_from_string(name, &back));
        assert_int_equal(back, o);
        assert_true(pp_outcome_is(name, (PpOutcome)o));
        for (guint p = 0; p < o; p++) {
            assert_string_not_equal(name, pp_outcome_to_string((PpOutcome)p));
        }
    }
    /* The names the result files have always used. */
    assert_string_equal(pp_outcome_to_string(PP_OUTCOME_WRONG_TREE),
                        "wrong-tree");
    assert_string_equal(pp_outcome_to_string(PP_OUTCOME_HANG), "hang");
    assert_string_equal(pp_outcome_to_string(PP_OUTCOME_LOST_UPDATE),
                        "lost-update");
    /* Precedence: it outranks what boots sound, yields to damage. */
    assert_true(PP_OUTCOME_LOST_UPDATE > PP_OUTCOME_NO_ROLLBACK);
    assert_true(PP_OUTCOME_LOST_UPDATE < PP_OUTCOME_REPO_CORRUPT);

    PpOutcomeCounts counts = { { 0 } };
    pp_outcome_counts_add(&counts, PP_OUTCOME_BRICK);
    pp_outcome_counts_add(&counts, PP_OUTCOME_BRICK);
    pp_outcome_counts_add(&counts, PP_OUTCOME_PASS);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_outcomes(b, &counts);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string(root, FALSE);
    assert_string_equal(text,
        "{\"outcomes\":{\"pass\":1,\"brick\":2,\"hang\":0,"
        "\"wrong-tree\":0,\"repo-corrupt\":0,\"lost-update\":0,"
        "\"no-rollback\":0,"
        "\"stuck\":0,\"redownload\":0,\"needs-intervention\":0}}");
}

static void
test_outcome_unknown_fail(void **state)
{
    (void)state;
    const char *bad[] = { "", "passed", "Pass", "wrong_tree", "?", "pass ",
                          NULL };
    for (guint i = 0; bad[i] != NULL; i++) {
        PpOutcome out = PP_OUTCOME_STUCK;
        assert_false(pp_outcome_from_string(bad[i], &out));
        assert_int_equal(out, PP_OUTCOME_STUCK);
        assert_false(pp_outcome_is(bad[i], PP_OUTCOME_PASS));
    }
    PpOutcome out = PP_OUTCOME_STUCK;
    assert_false(pp_outcome_from_string(NULL, &out));
    assert_int_equal(out, PP_OUTCOME_STUCK);
    assert_string_equal(pp_outcome_to_string((PpOutcome)PP_N_OUTCOMES), "?");
}

/* [client] command: each placeholder is one word, whatever it holds. */
static void
test_command_expand(void **state)
{
    (void)state;
    PpCommandVars v = { .sysroot = "/a dir/sysroot", .os = "debian",
                        .remote = "origin", .ref = "firmware",
                        .ostree = "/usr/bin/ostree" };
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) a = pp_command_expand(
        "'/opt/my updater' {sysroot} --os={os} {remote}:{ref} x{{y {ostree}",
        &v, &error);
    assert_non_null(a);
    assert_int_equal(g_strv_length(a), 6);
    assert_string_equal(a[0], "/opt/my updater");
    assert_string_equal(a[1], "/a dir/sysroot");
    assert_string_equal(a[2], "--os=debian");
    assert_string_equal(a[3], "origin:firmware");
    assert_string_equal(a[4], "x{y");
    assert_string_equal(a[5], "/usr/bin/ostree");
    g_auto(GStrv) d = pp_command_expand(PP_COMMAND_DEFAULT, &v, &error);
    assert_non_null(d);
    assert_string_equal(d[3], "--sysroot=/a dir/sysroot");
}

/* Twin: an unknown placeholder, an unclosed one, bad quoting. */
static void
test_command_expand_fail(void **state)
{
    (void)state;
    const char *bad[] = { "ostree {nope}", "ostree {sysroot", "'ostree" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        assert_null(pp_command_expand(bad[i], NULL, &error));
        assert_non_null(error);
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(PpScenario) sc = pp_scenario_load_data(
        "[client]\ncommand = x {sysroot}\n\ncommand2 = y\n", "t.conf", &error);
    assert_null(sc);
    g_clear_error(&error);
    sc = pp_scenario_load_data("[scenario]\nname = t\n[client]\n"
                               "command = x {nope}\n", "t.conf", &error);
    assert_null(sc);
    assert_non_null(strstr(error->message, "t.conf:4:"));
    assert_non_null(strstr(error->message, "unknown placeholder {nope}"));
}

/* A fixture version given with a key file's \n escape: the problem is one
 * whole line naming file and line (it once went through a "LINE\tTEXT"
 * string split at newlines, and the half without a tab crashed the load).
 * Twin: a good version loads. */
static void
test_scenario_firmware_newline(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpScenario) sc = pp_scenario_load_data(
        "[firmware]\nfrom = 1\\n2\n", "t.conf", &error);
    assert_null(sc);
    assert_non_null(error);
    assert_non_null(strstr(error->message, "t.conf:2: [firmware] from = '1\n2'"));
    g_clear_error(&error);
    sc = pp_scenario_load_data("[firmware]\nfrom = 1\n", "t.conf", &error);
    assert_non_null(sc);
    assert_null(error);
}

/* barriers:N: a sample of N barrier points, printed back as given;
 * [firmware] history with a repo keeps revs, without one versions. */
static void
test_points_barriers_sample(void **state)
{
    (void)state;
    PpPointsKind kind;
    guint n = 0;
    assert_true(pp_points_parse("barriers:24", &kind, &n, NULL));
    assert_int_equal(kind, PP_POINTS_BARRIERS);
    assert_int_equal(n, 24);
    g_autofree char *back = pp_points_to_string(kind, n);
    assert_string_equal(back, "barriers:24");
    assert_true(pp_points_parse("barriers", &kind, &n, NULL));
    assert_int_equal(n, 0);
    g_autofree char *plain = pp_points_to_string(kind, n);
    assert_string_equal(plain, "barriers");
    g_autoptr(PpScenario) sc = pp_scenario_load_data(
        "[firmware]\nrepo = /r\nhistory = v1 ; firmware^\nfrom = a\nto = b\n",
        "t.conf", NULL);
    assert_non_null(sc);
    assert_int_equal(sc->n_history, 0);
    assert_string_equal(sc->history_revs[0], "v1");
    assert_string_equal(sc->history_revs[1], "firmware^");
    assert_null(sc->history_revs[2]);
}

/* Twin: barriers:0 and barriers:x are refused; a ref in the fixture's
 * history names the line and the fix. */
static void
test_points_barriers_sample_fail(void **state)
{
    (void)state;
    PpPointsKind kind;
    guint n = 0;
    g_autoptr(GError) error = NULL;
    assert_false(pp_points_parse("barriers:0", &kind, &n, &error));
    assert_non_null(strstr(error->message, "barriers:N"));
    g_clear_error(&error);
    assert_false(pp_points_parse("barriers:x", &kind, &n, NULL));
    g_autoptr(PpScenario) sc = pp_scenario_load_data(
        "[firmware]\nhistory = v1;2\nfrom = 2\n", "t.conf", &error);
    assert_null(sc);
    assert_non_null(strstr(error->message, "t.conf:2: [firmware] history = "
                           "'v1;2': each entry must be a version"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rm_rf_tree),
        cmocka_unit_test(test_rm_rf_symlink_not_followed_fail),
        cmocka_unit_test(test_tree_disk_bytes_links_once),
        cmocka_unit_test(test_tree_disk_bytes_copies_fail),
        cmocka_unit_test(test_outcome_round_trip),
        cmocka_unit_test(test_outcome_unknown_fail),
        cmocka_unit_test(test_command_expand),
        cmocka_unit_test(test_command_expand_fail),
        cmocka_unit_test(test_scenario_firmware_newline),
        cmocka_unit_test(test_points_barriers_sample),
        cmocka_unit_test(test_points_barriers_sample_fail),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
