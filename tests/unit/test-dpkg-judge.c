/* SPDX-License-Identifier: MIT */
/*
 * test-dpkg-judge: dpkg's database as the dpkg strategy's judge reads it
 * (oracle/dpkg-judge.h), and its verdicts on a small root.
 *
 * - a status file parses into packages with version and status; a
 *   journal entry (updates/0001) saying half-installed makes the package
 *   need intervention; twin: the same status without the entry reads
 *   installed, not needing it;
 * - the installed set is "name version", sorted, without packages that
 *   are not installed (config-files, not-installed);
 * - the judge, on a root whose shell is a static busybox (skipped when
 *   the host has none): the old set with files matching their md5sums is
 *   pass ("old"); the same root with an installed file changed is
 *   wrong-tree; with the journal entry, needs-intervention; without
 *   /bin/sh, brick; each against the passing root as its twin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <glib/gstdio.h>

#include "common/fs.h"
#include "common/util.h"
#include "oracle/dpkg-judge.h"

static const char status_text[] =
    "Package: foo\n"
    "Status: install ok installed\n"
    "Priority: optional\n"
    "Version: 1.0-1\n"
    "Description: a package\n"
    " spanning two lines\n"
    "\n"
    "Package: bar\n"
    "Status: install ok installed\n"
    "Version: 2:3.1\n"
    "\n"
    "Package: gone\n"
    "Status: deinstall ok config-files\n"
    "Version: 0.1\n";

static const char journal_text[] =
    "Package: foo\n"
    "Status: install reinstreq half-installed\n"
    "Version: 1.0-2\n";

static void
write_file(const char *root, const char *rel, const char *text)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    g_autofree char *d = g_path_get_dirname(p);
    assert_true(pp_mkdir_p(d, NULL));
    assert_true(g_file_set_contents(p, text, -1, NULL));
}

static char *
tmpdir(void)
{
    char *d = g_dir_make_tmp("pp-dpkg-XXXXXX", NULL);
    assert_non_null(d);
    return d;
}

static void
test_status_parse(void **state)
{
    (void)state;
    g_autoptr(GHashTable) pkgs = pp_dpkg_pkgs_new();
    pp_dpkg_status_parse(status_text, pkgs);
    assert_int_equal(g_hash_table_size(pkgs), 3);
    const PpDpkgPkg *foo = g_hash_table_lookup(pkgs, "foo");
    assert_non_null(foo);
    assert_string_equal(foo->version, "1.0-1");
    assert_string_equal(foo->status, "install ok installed");
    assert_true(pp_dpkg_pkg_installed(foo));
    assert_false(pp_dpkg_pkg_needs_intervention(foo));
    g_auto(GStrv) set = pp_dpkg_installed_set(pkgs);
    assert_int_equal(g_strv_length(set), 2);
    assert_string_equal(set[0], "bar 2:3.1");
    assert_string_equal(set[1], "foo 1.0-1");
}

/* The journal is read after status: its entry wins. */
static void
test_journal_half_installed(void **state)
{
    (void)state;
    g_autofree char *root = tmpdir();
    write_file(root, "var/lib/dpkg/status", status_text);
    write_file(root, "var/lib/dpkg/updates/0001", journal_text);
    write_file(root, "var/lib/dpkg/updates/tmp.i", "Package: bar\n"
               "Status: install ok unpacked\nVersion: 9\n");
    g_autoptr(GHashTable) pkgs = pp_dpkg_db_read(root, NULL);
    assert_non_null(pkgs);
    const PpDpkgPkg *foo = g_hash_table_lookup(pkgs, "foo");
    assert_string_equal(foo->version, "1.0-2");
    assert_true(pp_dpkg_pkg_needs_intervention(foo));
    /* tmp.i is an entry being written: dpkg does not read it. */
    assert_false(pp_dpkg_pkg_needs_intervention(
        g_hash_table_lookup(pkgs, "bar")));
    assert_true(pp_rm_rf(root, NULL));
}

static void
test_no_journal_installed_fail(void **state)
{
    (void)state;
    g_autofree char *root = tmpdir();
    write_file(root, "var/lib/dpkg/status", status_text);
    g_autoptr(GHashTable) pkgs = pp_dpkg_db_read(root, NULL);
    assert_non_null(pkgs);
    assert_false(pp_dpkg_pkg_needs_intervention(
        g_hash_table_lookup(pkgs, "foo")));
    assert_true(pp_rm_rf(root, NULL));
}

/* A root with a static busybox as /bin/sh and one package, foo 1.0-1,
 * whose one file matches its md5sums; NULL without a static busybox. */
static char *
make_root(PpSlotDevice *dev)
{
    g_autofree char *out = NULL;
    if (!g_file_test("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE)
        || !g_spawn_command_line_sync("file -L /bin/busybox", &out, NULL,
                                      NULL, NULL)
        || out == NULL || strstr(out, "statically linked") == NULL) {
        return NULL;
    }
    char *root = tmpdir();
    g_autofree char *bin = g_build_filename(root, "bin", NULL);
    g_autofree char *sh = g_build_filename(root, "bin", "sh", NULL);
    assert_true(pp_mkdir_p(bin, NULL));
    g_autofree char *bb = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents("/bin/busybox", &bb, &len, NULL));
    assert_true(g_file_set_contents(sh, bb, (gssize)len, NULL));
    assert_int_equal(g_chmod(sh, 0755), 0);
    const char *content = "foo's program\n";
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_MD5,
                                                         content, -1);
    g_autofree char *sums = g_strdup_printf("%s  usr/bin/foo\n", sum);
    write_file(root, "usr/bin/foo", content);
    write_file(root, "var/lib/dpkg/status",
               "Package: foo\nStatus: install ok installed\n"
               "Architecture: all\nVersion: 1.0-1\n"
               "Maintainer: nobody <nobody@invalid>\n"
               "Description: a package\n\n");
    write_file(root, "var/lib/dpkg/info/foo.md5sums", sums);
    write_file(root, "var/lib/dpkg/info/foo.list", "/usr\n/usr/bin\n"
               "/usr/bin/foo\n");
    memset(dev, 0, sizeof *dev);
    dev->strategy = PP_STRATEGY_DPKG;
    dev->from_version = 1;
    dev->to_version = 2;
    const char *from[] = { "foo 1.0-1", NULL };
    const char *to[] = { "foo 1.0-2", NULL };
    dev->pkgs_from = g_strdupv((char **)from);
    dev->pkgs_to = g_strdupv((char **)to);
    return root;
}

static PpOutcome
judge(const PpSlotDevice *dev, const char *root)
{
    PpSlotJudgement j = { 0 };
    g_autoptr(GError) error = NULL;
    assert_true(pp_dpkg_judge(dev, root, &j, &error));
    PpOutcome o = j.outcome;
    pp_slot_judgement_clear(&j);
    return o;
}

static void
test_judge(void **state)
{
    (void)state;
    PpSlotDevice dev;
    g_autofree char *root = make_root(&dev);
    if (root == NULL) {
        skip();
    }
    /* Each failure below has this passing root as its twin. */
    assert_int_equal(judge(&dev, root), PP_OUTCOME_PASS);

    write_file(root, "usr/bin/foo", "foo's program, changed\n");
    assert_int_equal(judge(&dev, root), PP_OUTCOME_WRONG_TREE);
    write_file(root, "usr/bin/foo", "foo's program\n");
    assert_int_equal(judge(&dev, root), PP_OUTCOME_PASS);

    write_file(root, "var/lib/dpkg/updates/0001", journal_text);
    assert_int_equal(judge(&dev, root), PP_OUTCOME_NEEDS_INTERVENTION);
    g_autofree char *j = g_build_filename(root, "var/lib/dpkg/updates/0001",
                                          NULL);
    assert_int_equal(g_unlink(j), 0);
    assert_int_equal(judge(&dev, root), PP_OUTCOME_PASS);

    g_autofree char *sh = g_build_filename(root, "bin", "sh", NULL);
    g_autofree char *sh2 = g_build_filename(root, "bin", "sh.away", NULL);
    assert_int_equal(g_rename(sh, sh2), 0);
    assert_int_equal(judge(&dev, root), PP_OUTCOME_BRICK);
    assert_int_equal(g_rename(sh2, sh), 0);
    assert_int_equal(judge(&dev, root), PP_OUTCOME_PASS);
    pp_slot_device_clear(&dev);
    assert_true(pp_rm_rf(root, NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_parse),
        cmocka_unit_test(test_journal_half_installed),
        cmocka_unit_test(test_no_journal_installed_fail),
        cmocka_unit_test(test_judge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
