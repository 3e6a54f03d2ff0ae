/* SPDX-License-Identifier: MIT */
/*
 * test-signature: the diagnosis signature of an oracle judgement.
 *
 * - two judgements of states that failed the same way, with other paths,
 *   checksums, byte counts and staging sizes, have equal signatures;
 *   twin: an empty file where the other state misses an object differs,
 *   in exactly the field that says so, and the similarity counts the rest;
 * - each classifier maps the oracle's messages to stable classes (a
 *   dangling boot/loader, an empty kernel, a torn ref, a corrupt object);
 *   twin: a message no rule knows gets the catch-all class, never its text;
 * - the one-line text form; a judgement from before the layout counts
 *   reads as -1 there;
 * - twin: what is not a judgement is refused, saying why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oracle/signature.h"

/*
 * A judgement as pp_judgement_to_json() writes it: one uboot entry that
 * boots version 1 complete, a second (version 2) whose tree differs by
 * DIFF_KIND/DIFF_DETAIL (so the booted tree is the old one), and repo
 * problem PROBLEM.
 */
static JsonNode *
judgement(const char *csum, const char *diff_kind, const char *diff_detail,
          const char *problem, int staging_bytes, gboolean layout)
{
    g_autofree char *text = g_strdup_printf(
        "{\"outcome\": \"repo-corrupt\", \"reason\": \"1 repo problem(s)\","
        " \"backend\": \"uboot\", \"bootversion\": 1, \"loader_error\": null,"
        " \"booted\": 0, \"fell_back\": false,"
        " \"entries\": ["
        "  {\"index\": 0, \"bootable\": true, \"boot_error\": null,"
        "   \"commit\": \"%s\","
        "   \"tree\": {\"checked\": true, \"known\": true, \"version\": \"1\","
        "             \"complete\": true, \"diffs\": []}},"
        "  {\"index\": 1, \"bootable\": true, \"boot_error\": null,"
        "   \"tree\": {\"checked\": true, \"known\": true, \"version\": \"2\","
        "             \"complete\": false,"
        "             \"diffs\": [{\"path\": \"usr/share/%s.dat\", \"kind\": \"%s\","
        "                         \"detail\": \"%s\"}]}}],"
        " \"repo\": {\"checked\": true, \"ok\": false,"
        "  \"refs\": [{\"name\": \"origin:os/x\", \"commit\": \"%s\", \"partial\": true},"
        "            {\"name\": \"ostree/0/1/0\", \"commit\": \"%s\", \"partial\": true}],"
        "  \"problems\": [\"%s\"], \"staging_dirs\": 1, \"staging_bytes\": %d}"
        "%s}",
        csum, csum, diff_kind, diff_detail, csum, csum, problem, staging_bytes,
        layout ? ", \"layout\": {\"loader_dirs\": 2, \"boot_dirs\": 4,"
                 " \"deploy_dirs\": 2}" : "");
    g_autoptr(GError) error = NULL;
    JsonNode *n = json_from_string(text, &error);
    assert_null(error);
    return n;
}

static JsonNode *
signature_of(JsonNode *j)
{
    JsonNode *sig = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_signature_from_judgement(j, &sig, &error));
    assert_null(error);
    return sig;
}

static void
test_same_failure_same_signature(void **state)
{
    g_autoptr(JsonNode) a = judgement(
        "aa11", "size", "0 bytes, expected 4096",
        "objects/1a/a6c4.file (ref origin:os/x): missing", 512, TRUE);
    g_autoptr(JsonNode) b = judgement(
        "bb22", "size", "0 bytes, expected 9000",
        "objects/77/0f62.file (deployed by entry 1): missing", 99999, TRUE);
    g_autoptr(JsonNode) sa = signature_of(a);
    g_autoptr(JsonNode) sb = signature_of(b);
    assert_true(pp_signature_match(sa, sb));
    assert_int_equal(pp_signature_agree(sa, sb, NULL), PP_SIGNATURE_N_FIELDS);
    JsonObject *o = json_node_get_object(sa);
    assert_string_equal(json_object_get_string_member(o, "booted_tree"), "old");
    assert_int_equal(json_object_get_int_member(o, "partial_commits"), 1);
    JsonArray *tp = json_object_get_array_member(o, "tree_problems");
    assert_int_equal(json_array_get_length(tp), 1);
    assert_string_equal(json_array_get_string_element(tp, 0), "e1:empty-file");
}

static void
test_other_failure_other_signature_fail(void **state)
{
    g_autoptr(JsonNode) a = judgement(
        "aa11", "size", "0 bytes, expected 4096",
        "objects/1a/a6c4.file (ref origin:os/x): missing", 512, TRUE);
    g_autoptr(JsonNode) b = judgement(
        "aa11", "content", "object 0123456789ab, expected ba9876543210",
        "objects/1a/a6c4.file (ref origin:os/x): missing", 512, TRUE);
    g_autoptr(JsonNode) sa = signature_of(a);
    g_autoptr(JsonNode) sb = signature_of(b);
    assert_false(pp_signature_match(sa, sb));
    g_autoptr(GPtrArray) differ = g_ptr_array_new();
    assert_int_equal(pp_signature_agree(sa, sb, differ),
                     PP_SIGNATURE_N_FIELDS - 1);
    assert_int_equal(differ->len, 1);
    assert_string_equal(differ->pdata[0], "tree_problems");

    /* A corrupt object where the other is missing: the repo field. */
    g_autoptr(JsonNode) c = judgement(
        "aa11", "size", "0 bytes, expected 4096",
        "objects/1a/a6c4.file (ref origin:os/x): corrupt, content hashes to "
        "ffff", 512, TRUE);
    g_autoptr(JsonNode) sc = signature_of(c);
    g_ptr_array_set_size(differ, 0);
    assert_int_equal(pp_signature_agree(sa, sc, differ),
                     PP_SIGNATURE_N_FIELDS - 1);
    assert_string_equal(differ->pdata[0], "repo_problems");
}

static void
test_classifiers(void **state)
{
    assert_string_equal(pp_signature_loader_class(NULL), "ok");
    assert_string_equal(pp_signature_loader_class(
                            "boot/loader -> loader.1: boot/loader.1 is not a "
                            "directory"), "loader-dangling");
    assert_string_equal(pp_signature_loader_class(
                            "readlink(boot/loader): No such file or directory"),
                        "loader-missing");
    assert_string_equal(pp_signature_loader_class(
                            "boot/loader -> loader.7: not loader.0 or loader.1"),
                        "loader-bad-target");
    assert_string_equal(pp_signature_loader_class(
                            "openat(boot/loader.0/uEnv.txt): No such file or "
                            "directory"), "uenv-missing");
    assert_string_equal(pp_signature_boot_class(
                            "kernel /boot/ostree/os-ab12/vmlinuz-6.1: "
                            "boot/ostree/os-ab12/vmlinuz-6.1: empty"),
                        "kernel-empty");
    assert_string_equal(pp_signature_boot_class(
                            "initramfs /boot/ostree/os-ab12/initramfs.img: "
                            "lstat(boot/ostree/os-ab12): No such file or "
                            "directory"), "initramfs-missing");
    assert_string_equal(pp_signature_boot_class(
                            "bootcsum mismatch: /boot/ostree/os-ab holds files "
                            "hashing to cd34"), "bootcsum-mismatch");
    assert_string_equal(pp_signature_boot_class(
                            "ostree=/ostree/boot.1/os/ab/0: lstat(ostree/deploy/"
                            "os/deploy/ab.0): No such file or directory"),
                        "deployment-missing");
    assert_string_equal(pp_signature_boot_class(
                            "ostree=/ostree/boot.1/os/ab/0: lstat(ostree/boot.1)"
                            ": No such file or directory"),
                        "ostree-link-missing");
    assert_string_equal(pp_signature_boot_class(
                            "ostree=/ostree/boot.1/os/ab/0: ostree/deploy/os/"
                            "deploy/ab.0/usr is not a directory"),
                        "deployment-no-usr");
    assert_string_equal(pp_signature_repo_class(
                            "listing refs: Listing refs: Invalid UTF-8"),
                        "refs-unreadable");
    assert_string_equal(pp_signature_repo_class(
                            "ab12.dirtree (ref origin:os/x): Corrupted dirtree "
                            "object; checksum expected='ab12' actual='cd34'"),
                        "corrupt-dirtree-object");
    assert_string_equal(pp_signature_repo_class(
                            "objects/ab/12.file (ref x): missing"),
                        "missing-content-object");
    assert_string_equal(pp_signature_diff_class("content", "object 01, "
                                                "expected 02 (as in version 1)"),
                        "other-version");
    assert_string_equal(pp_signature_diff_class("missing", "file of the commit"),
                        "missing");
}

static void
test_unknown_message_catch_all_fail(void **state)
{
    const char *odd = "something new at /ostree/deploy/os/deploy/ab.0";
    assert_string_equal(pp_signature_loader_class(odd), "loader-other");
    assert_string_equal(pp_signature_boot_class(odd), "boot-other");
    assert_string_equal(pp_signature_repo_class(odd), "repo-other");
    assert_string_equal(pp_signature_diff_class("sparkly", odd), "other");
}

static void
test_text_and_old_judgement(void **state)
{
    g_autoptr(JsonNode) a = judgement(
        "aa11", "size", "0 bytes, expected 4096",
        "listing refs: Listing refs: Invalid UTF-8", 1, TRUE);
    g_autoptr(JsonNode) sa = signature_of(a);
    g_autofree char *text = pp_signature_to_text(sa);
    assert_string_equal(text, "repo-corrupt uboot loader.1 ok booted=0/old "
                              "entries=boots:complete,boots:incomplete "
                              "tree=e1:empty-file repo=refs-unreadable "
                              "partial=1 staging=1 "
                              "dirs=loader:2,boot:4,deploy:2");
    g_autoptr(JsonNode) old = judgement(
        "aa11", "size", "0 bytes, expected 4096",
        "listing refs: Listing refs: Invalid UTF-8", 1, FALSE);
    g_autoptr(JsonNode) so = signature_of(old);
    g_autoptr(GPtrArray) differ = g_ptr_array_new();
    assert_int_equal(pp_signature_agree(sa, so, differ),
                     PP_SIGNATURE_N_FIELDS - 3);
    assert_string_equal(differ->pdata[0], "loader_dirs");
    g_autofree char *otext = pp_signature_to_text(so);
    assert_non_null(strstr(otext, "dirs=loader:-1,boot:-1,deploy:-1"));
}

static void
test_not_a_judgement_fail(void **state)
{
    g_autoptr(JsonNode) n = json_from_string("{\"id\": \"x\"}", NULL);
    JsonNode *sig = NULL;
    g_autoptr(GError) error = NULL;
    assert_false(pp_signature_from_judgement(n, &sig, &error));
    assert_null(sig);
    assert_string_equal(error->message, "signature: not an oracle judgement "
                                        "(no 'outcome')");
    g_clear_error(&error);
    g_autoptr(JsonNode) arr = json_from_string("[1]", NULL);
    assert_false(pp_signature_from_judgement(arr, &sig, &error));
    assert_string_equal(error->message, "signature: not an oracle judgement "
                                        "(not a JSON object)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_failure_same_signature),
        cmocka_unit_test(test_other_failure_other_signature_fail),
        cmocka_unit_test(test_classifiers),
        cmocka_unit_test(test_unknown_message_catch_all_fail),
        cmocka_unit_test(test_text_and_old_judgement),
        cmocka_unit_test(test_not_a_judgement_fail),
    };
    return cmocka_run_group_tests_name("signature", tests, NULL, NULL);
}
