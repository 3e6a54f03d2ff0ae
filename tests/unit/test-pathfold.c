/* SPDX-License-Identifier: MIT */
/*
 * test-pathfold: the paths of a crash state with each run's made-up names
 * folded (sim/pathfold.h), for JUnit bodies that read alike from run to
 * run.
 *
 * - every kind of name ostree makes up folds to its placeholder: staging
 *   directories, temporary files, deployment, boot and object checksums,
 *   UUIDs, paths outside the sysroot;
 * - the same place in two runs folds to the same text;
 * - twins: two different places never fold together (deploy .0 and .1,
 *   boot.0.1 and boot.1.1, objects/5f and objects/60, a name that only
 *   looks random); a folded path holds no 32+ hex run and no UUID;
 * - a call loses its index and has each path folded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sim/pathfold.h"

#define CSUM_A "8d11faba7654016a22dd24d6cbe72e2c6abe593fd1710eec3df5e3bd2ca5c102"
#define CSUM_B "eb02b2453b0392ad57fde625602f5c13696775ced17c24c18d510510320bf8bf"
#define BOOTID "478ad3d0-bb4e-4681-9ebf-471019bd7e72"

static void
assert_folds(const char *path, const char *want)
{
    g_autofree char *got = pp_path_fold(path);
    if (strcmp(got, want) != 0) {
        fail_msg("%s folded to %s, want %s", path, got, want);
    }
}

static void
test_fold_each_kind(void **state)
{
    (void)state;
    assert_folds("ostree/repo/tmp/staging-" BOOTID "-f8u7ST",
                 "ostree/repo/tmp/staging-*");
    assert_folds("ostree/repo/tmp/staging-" BOOTID "-EUDBFE-lock",
                 "ostree/repo/tmp/staging-*-lock");
    assert_folds("ostree/repo/tmp/staging-" BOOTID "-f8u7ST/5c/" CSUM_A
                 ".file", "ostree/repo/tmp/staging-*/5c/<object>.file");
    assert_folds("ostree/repo/tmp/staging-" BOOTID "-f8u7ST/tmplink.J0iE2l",
                 "ostree/repo/tmp/staging-*/tmplink.*");
    assert_folds("boot/loader.0/entries/tmp.H0UPK2",
                 "boot/loader.0/entries/tmp.*");
    assert_folds("ostree/deploy/plugpull/deploy/" CSUM_A ".0/etc/hostname",
                 "ostree/deploy/plugpull/deploy/<commit>.0/etc/hostname");
    assert_folds("ostree/deploy/plugpull/deploy/" CSUM_A ".0.origin",
                 "ostree/deploy/plugpull/deploy/<commit>.0.origin");
    assert_folds("../../../deploy/plugpull/deploy/" CSUM_B ".0",
                 "../../../deploy/plugpull/deploy/<commit>.0");
    assert_folds("boot/ostree/plugpull-" CSUM_A "/vmlinuz-6.1.0-plugpull",
                 "boot/ostree/plugpull-<bootcsum>/vmlinuz-6.1.0-plugpull");
    assert_folds("boot/ostree/my-os-" CSUM_A, "boot/ostree/my-os-<bootcsum>");
    assert_folds("ostree/boot.0.1/plugpull/" CSUM_B "/0.tmp",
                 "ostree/boot.0.1/plugpull/<bootcsum>/0.tmp");
    assert_folds("ostree/repo/objects/5f/" CSUM_A ".commit",
                 "ostree/repo/objects/5f/<object>.commit");
    assert_folds("ostree/repo/state/" CSUM_A ".commitpartial",
                 "ostree/repo/state/<commit>.commitpartial");
    assert_folds("var/lib/x-" CSUM_A "-y", "var/lib/x-<checksum>-y");
    assert_folds("run/" BOOTID ".id", "run/<bootid>.id");
    assert_folds("/var/tmp/pp-x.AbCdEf/work/record/tmp", "<outside>/tmp");
    /* What is stable stays as it is. */
    assert_folds("boot/loader.0/uEnv.txt", "boot/loader.0/uEnv.txt");
    assert_folds("ostree/repo/refs/heads/ostree/0/1/0",
                 "ostree/repo/refs/heads/ostree/0/1/0");
}

static void
test_fold_same_place_two_runs(void **state)
{
    (void)state;
    g_autofree char *a = pp_path_fold(
        "ostree/repo/tmp/staging-" BOOTID "-f8u7ST/67");
    g_autofree char *b = pp_path_fold(
        "ostree/repo/tmp/staging-a88e86a0-fd19-4dd2-a023-d8840d8bc683-SKRQwK/67");
    assert_string_equal(a, b);
}

/* Twin: different places of the sysroot stay apart. */
static void
test_fold_keeps_places_apart(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        { "ostree/deploy/os/deploy/" CSUM_A ".0",
          "ostree/deploy/os/deploy/" CSUM_A ".1" },
        { "ostree/boot.0.1/os/" CSUM_A "/0", "ostree/boot.1.1/os/" CSUM_A "/0" },
        { "ostree/repo/objects/5f/" CSUM_A ".file",
          "ostree/repo/objects/60/" CSUM_A ".file" },
        { "ostree/repo/objects/5f/" CSUM_A ".file",
          "ostree/repo/objects/5f/" CSUM_A ".dirtree" },
        { "ostree/repo/tmp/staging-" BOOTID "-f8u7ST",
          "ostree/repo/tmp/staging-" BOOTID "-f8u7ST-lock" },
        /* tmp. with 6 characters is glnx's; tmp.orig is a name */
        { "boot/tmp.orig1", "boot/tmp.orig2" },
        { "boot/ostree/os-" CSUM_A, "ostree/deploy/os/deploy/" CSUM_A ".0" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
        g_autofree char *a = pp_path_fold(pairs[i][0]);
        g_autofree char *b = pp_path_fold(pairs[i][1]);
        if (strcmp(a, b) == 0) {
            fail_msg("%s and %s both fold to %s", pairs[i][0], pairs[i][1], a);
        }
    }
    g_autoptr(GRegex) hex = g_regex_new("[0-9a-f]{32}", 0, 0, NULL);
    g_autofree char *f = pp_path_fold(
        "ostree/repo/tmp/staging-" BOOTID "-f8u7ST/5c/" CSUM_B ".dirtree");
    assert_false(g_regex_match(hex, f, 0, NULL));
    assert_null(strstr(f, "478ad3d0"));
}

static void
test_fold_call(void **state)
{
    (void)state;
    g_autofree char *c = pp_call_fold(
        "#1325 symlinkat ../../../deploy/os/deploy/" CSUM_A ".0 -> "
        "ostree/boot.0.1/os/" CSUM_B "/0.tmp");
    assert_string_equal(c, "symlinkat ../../../deploy/os/deploy/<commit>.0 "
                           "-> ostree/boot.0.1/os/<bootcsum>/0.tmp");
    g_autofree char *e = pp_call_fold("(end of the run: every call completed)");
    assert_string_equal(e, "(end of the run: every call completed)");
    assert_null(pp_call_fold(NULL));
    assert_null(pp_path_fold(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_each_kind),
        cmocka_unit_test(test_fold_same_place_two_runs),
        cmocka_unit_test(test_fold_keeps_places_apart),
        cmocka_unit_test(test_fold_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
