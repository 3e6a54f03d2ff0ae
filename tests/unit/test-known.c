/* SPDX-License-Identifier: MIT */
/*
 * test-known: known findings (oracle/known.h) and a campaign's cases
 * against them (sim/sim-known.h).
 *
 * - a finding file parses into its findings; twin: every problem of a bad
 *   file (unknown section, unknown key, bad date, bad field values, no
 *   link, no field, a finding given twice) is reported at once, each with
 *   FILE:LINE;
 * - a finding matches whatever its omitted fields are; twin: one field or
 *   the phase that differs does not match;
 * - a finding whose until date is today still excuses; twin: one whose
 *   date has passed no longer does, and an unexpired finding that also
 *   matches is preferred;
 * - applied to cases, a matched failure is known: not failed, counted
 *   apart in summary.json with its link, skipped in junit.xml, marked in
 *   points.json and read back; twin: an unmatched failure and a failure
 *   matched only by an expired finding still fail, and the summary says
 *   the finding expired;
 * - a case kept by --resume (no judgement in memory) is matched from its
 *   case file's evidence; twin: without its case file, apply fails and
 *   says which case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <glib/gstdio.h>

#include "oracle/known.h"
#include "oracle/signature.h"
#include "sim/sim-known.h"
#include "sim/sim-out.h"
#include "common/fs.h"

/* A U-Boot device that boots nothing: its only entry's ostree= link (its
 * boot.1 directory) is gone. */
static const char *brick_judgement =
    "{\"outcome\": \"brick\", \"reason\": \"no entry boots\","
    " \"backend\": \"uboot\", \"bootversion\": 1, \"loader_error\": null,"
    " \"booted\": -1,"
    " \"entries\": [{\"index\": 0, \"bootable\": false,"
    "   \"boot_error\": \"ostree=/ostree/boot.1/os/abc/0: ostree/boot.1: "
    "openat: No such file or directory\"}],"
    " \"repo\": {\"checked\": true, \"ok\": true, \"refs\": [],"
    "  \"problems\": [], \"staging_dirs\": 0},"
    " \"layout\": {\"loader_dirs\": 1, \"boot_dirs\": 0, \"deploy_dirs\": 2}}";

static const char *good_file =
    "# acknowledged upstream\n"
    "[finding ostree-3392]\n"
    "link = https://github.com/ostreedev/ostree/issues/3392\n"
    "until = 2027-06-30\n"
    "note = the bootloader reads the old loader\n"
    "outcome = brick\n"
    "phase = bootloader, cleanup\n"
    "backend = uboot\n"
    "entry_states = ostree-link-missing\n"
    "repo_problems =\n"
    "\n"
    "[finding other]\n"
    "link = http://tracker.example/7\n"
    "tree_problems = e1:missing, e0:content, e1:missing\n";

static JsonNode *
signature_of(const char *judgement_text)
{
    g_autoptr(JsonNode) j = json_from_string(judgement_text, NULL);
    assert_non_null(j);
    JsonNode *sig = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_signature_from_judgement(j, &sig, &error));
    return sig;
}

static PpKnownList *
load(const char *text)
{
    g_autoptr(GError) error = NULL;
    PpKnownList *l = pp_known_load_data(text, "known.conf", &error);
    if (l == NULL) {
        fail_msg("%s", error->message);
    }
    return l;
}

static void
set_date(GDate *d, guint day, GDateMonth m, guint y)
{
    g_date_clear(d, 1);
    g_date_set_dmy(d, (GDateDay)day, m, (GDateYear)y);
}

static void
test_parse(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    assert_int_equal(l->findings->len, 2);
    const PpKnownFinding *f = l->findings->pdata[0];
    assert_string_equal(f->id, "ostree-3392");
    assert_string_equal(f->link,
                        "https://github.com/ostreedev/ostree/issues/3392");
    assert_string_equal(f->until, "2027-06-30");
    assert_string_equal(f->note, "the bootloader reads the old loader");
    assert_int_equal(f->line, 2);
    assert_int_equal(f->phases, (1u << PP_PHASE_BOOTLOADER)
                                | (1u << PP_PHASE_CLEANUP));
    assert_int_equal(json_object_get_size(f->fields), 4);
    /* A set is sorted and de-duplicated, as the signature holds it. */
    const PpKnownFinding *g = l->findings->pdata[1];
    assert_null(g->until);
    assert_int_equal(g->phases, 0);
    JsonArray *t = json_object_get_array_member(g->fields, "tree_problems");
    assert_int_equal(json_array_get_length(t), 2);
    assert_string_equal(json_array_get_string_element(t, 0), "e0:content");
    assert_string_equal(json_array_get_string_element(t, 1), "e1:missing");
    /* Every signature field is a key. */
    for (const char *const *n = pp_signature_fields; *n != NULL; n++) {
        g_autofree char *text = g_strdup_printf(
            "[finding f]\nlink = https://x/1\n%s = %s\n", *n,
            g_str_equal(*n, "outcome") ? "brick"
            : g_str_equal(*n, "backend") ? "bls"
            : g_str_equal(*n, "booted_tree") ? "old"
            : strstr(*n, "dirs") || strstr(*n, "boot") || strstr(*n, "partial")
            ? "1" : "some-class");
        g_autoptr(PpKnownList) one = load(text);
        assert_int_equal(one->findings->len, 1);
    }
}

static void
test_parse_errors_fail(void **state)
{
    const char *bad =
        "[finding a]\n"                            /* 1 */
        "link = https://x/1\n"                     /* 2 */
        "until = 2027-02-30\n"                     /* 3: no such day */
        "outcome = brick\n"                        /* 4 */
        "colour = red\n"                           /* 5: unknown key */
        "[finding b]\n"                            /* 6: no link */
        "outcome = pass\n"                         /* 7: no finding */
        "booted = -2\n"                            /* 8 */
        "booted_tree = newer\n"                    /* 9 */
        "phase = boot\n"                           /* 10 */
        "[finding c]\n"                            /* 11: no field */
        "link = ftp://x/1\n"                       /* 12 */
        "until = 30.06.2027\n"                     /* 13 */
        "[rule d]\n"                               /* 14 */
        "[finding a]\n"                            /* 15: again */
        "entry_states = Boots Complete\n";         /* 16 */
    g_autoptr(GError) error = NULL;
    g_autoptr(PpKnownList) l = pp_known_load_data(bad, "k.conf", &error);
    assert_null(l);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
    const char *want[] = {
        "k.conf:3: [finding a] until = '2027-02-30': expected a date "
        "YYYY-MM-DD",
        "k.conf:5: unknown key 'colour' in [finding a]",
        "k.conf:16: [finding a] entry_states = 'Boots Complete': expected "
        "class names",
        "k.conf:7: [finding b] outcome = 'pass': a passing case is no finding",
        "k.conf:8: [finding b] booted = '-2': expected a whole number, -1 or "
        "more",
        "k.conf:9: [finding b] booted_tree = 'newer': expected none, unknown, "
        "new or old",
        "k.conf:10: [finding b] phase = 'boot': expected phases",
        "k.conf:6: [finding b] needs link",
        "k.conf:12: [finding c] link = 'ftp://x/1': expected the tracker's",
        "k.conf:13: [finding c] until = '30.06.2027': expected a date",
        "k.conf:11: [finding c] gives no signature field",
        "k.conf:14: unknown section [rule d]",
        "k.conf:15: [finding a] given again",
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        if (strstr(error->message, want[i]) == NULL) {
            fail_msg("missing \"%s\" in:\n%s", want[i], error->message);
        }
    }
    /* Not a key file at all: GKeyFile's own error, with the file. */
    g_clear_error(&error);
    assert_null(pp_known_load_data("link https://x\n", "k.conf", &error));
    assert_true(g_str_has_prefix(error->message, "k.conf: "));
}

static void
test_match_omitted_fields(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autoptr(JsonNode) sig = signature_of(brick_judgement);
    const PpKnownFinding *f = l->findings->pdata[0];
    /* bootversion, loader, booted, the dirs...: not given, anything. */
    assert_true(pp_known_finding_matches(f, sig, PP_PHASE_CLEANUP));
    assert_true(pp_known_finding_matches(f, sig, PP_PHASE_BOOTLOADER));
    g_autoptr(PpKnownList) bare = load("[finding b]\nlink = https://x/1\n"
                                       "outcome = brick\n");
    for (guint p = 0; p < PP_PHASE_COUNT; p++) {
        assert_true(pp_known_finding_matches(bare->findings->pdata[0], sig,
                                             (PpPhase)p));
    }
}

static void
test_match_differs_fail(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autoptr(JsonNode) sig = signature_of(brick_judgement);
    const PpKnownFinding *f = l->findings->pdata[0];
    /* Another phase. */
    assert_false(pp_known_finding_matches(f, sig, PP_PHASE_PULL));
    /* Another backend. */
    g_autoptr(JsonNode) bls = json_node_copy(sig);
    json_object_set_string_member(json_node_get_object(bls), "backend",
                                  "bls");
    assert_false(pp_known_finding_matches(f, bls, PP_PHASE_CLEANUP));
    /* A list that differs by one class. */
    g_autoptr(JsonNode) two = json_node_copy(sig);
    JsonArray *a = json_array_new();
    json_array_add_string_element(a, "ostree-link-missing");
    json_array_add_string_element(a, "boots:complete");
    json_object_set_array_member(json_node_get_object(two), "entry_states",
                                 a);
    assert_false(pp_known_finding_matches(f, two, PP_PHASE_CLEANUP));
    /* An empty list given matches only an empty one. */
    g_autoptr(JsonNode) repo = json_node_copy(sig);
    JsonArray *r = json_array_new();
    json_array_add_string_element(r, "refs-unreadable");
    json_object_set_array_member(json_node_get_object(repo), "repo_problems",
                                 r);
    assert_false(pp_known_finding_matches(f, repo, PP_PHASE_CLEANUP));
}

/* "a, ..." matches a list that starts with a, whatever follows; twin: a
 * list that starts otherwise, or is shorter, does not match. */
static void
test_match_list_prefix(void **state)
{
    g_autoptr(PpKnownList) l = load("[finding p]\nlink = https://x/1\n"
                                    "entry_states = ostree-link-missing, ...\n");
    const PpKnownFinding *f = l->findings->pdata[0];
    g_autoptr(JsonNode) sig = signature_of(brick_judgement);
    JsonObject *o = json_node_get_object(sig);
    JsonArray *one = json_array_new();
    json_array_add_string_element(one, "ostree-link-missing");
    json_object_set_array_member(o, "entry_states", one);
    assert_true(pp_known_finding_matches(f, sig, PP_PHASE_CLEANUP));
    JsonArray *two = json_array_new();
    json_array_add_string_element(two, "ostree-link-missing");
    json_array_add_string_element(two, "boots:complete");
    json_object_set_array_member(o, "entry_states", two);
    assert_true(pp_known_finding_matches(f, sig, PP_PHASE_CLEANUP));

    JsonArray *other = json_array_new();
    json_array_add_string_element(other, "boots:complete");
    json_array_add_string_element(other, "ostree-link-missing");
    json_object_set_array_member(o, "entry_states", other);
    assert_false(pp_known_finding_matches(f, sig, PP_PHASE_CLEANUP));
    json_object_set_array_member(o, "entry_states", json_array_new());
    assert_false(pp_known_finding_matches(f, sig, PP_PHASE_CLEANUP));
    /* "..." only as the last word of an ordered list. */
    g_autoptr(GError) error = NULL;
    assert_null(pp_known_load_data("[finding q]\nlink = https://x/1\n"
                                   "entry_states = ..., boots:complete\n",
                                   "q.conf", &error));
}

static void
test_expiry(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autoptr(JsonNode) sig = signature_of(brick_judgement);
    GDate day;
    set_date(&day, 30, G_DATE_JUNE, 2027);    /* its last day */
    gboolean expired = TRUE;
    const PpKnownFinding *f = pp_known_match(l, sig, PP_PHASE_CLEANUP, &day,
                                             &expired);
    assert_non_null(f);
    assert_string_equal(f->id, "ostree-3392");
    assert_false(expired);
    assert_false(pp_known_finding_expired(f, &day));
}

static void
test_expiry_passed_fail(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autoptr(JsonNode) sig = signature_of(brick_judgement);
    GDate day;
    set_date(&day, 1, G_DATE_JULY, 2027);     /* the day after */
    gboolean expired = FALSE;
    const PpKnownFinding *f = pp_known_match(l, sig, PP_PHASE_CLEANUP, &day,
                                             &expired);
    assert_non_null(f);
    assert_true(expired);
    /* An unexpired finding that matches too is the one that counts. */
    g_autofree char *both = g_strconcat(
        good_file, "[finding later]\nlink = https://x/2\noutcome = brick\n",
        NULL);
    g_autoptr(PpKnownList) l2 = load(both);
    f = pp_known_match(l2, sig, PP_PHASE_CLEANUP, &day, &expired);
    assert_string_equal(f->id, "later");
    assert_false(expired);
    /* No finding at all matches a passing signature's outcome. */
    g_autoptr(JsonNode) other = json_node_copy(sig);
    json_object_set_string_member(json_node_get_object(other), "outcome",
                                  "wrong-tree");
    assert_null(pp_known_match(l, other, PP_PHASE_CLEANUP, &day, &expired));
    assert_false(expired);
}

static PpCase *
brick_case(const char *id, PpPhase phase, gboolean with_judgement)
{
    PpCase *c = g_new0(PpCase, 1);
    c->id = g_strdup(id);
    c->state_name = g_strdup_printf("trace@1:ordered:0 (%s)", id);
    c->call = g_strdup("rename(boot/loader.tmp, boot/loader)");
    c->reason = g_strdup("no entry boots");
    c->phase = phase;
    pp_case_set_verdict(c, PP_OUTCOME_BRICK);
    if (with_judgement) {
        c->judgement = json_from_string(brick_judgement, NULL);
    }
    return c;
}

static char *
read_text(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static const PpRunInfo run_info = {
    .tier = "sim", .scenario_name = "t", .scenario_path = "t.conf",
    .action = "upgrade", .bootloader = "uboot", .model = "ordered",
    .points = "barriers", .resume = "none", .client_path = "ostree",
    .client_version = "2022.7", .trace_path = "trace", .started = "now",
    .commit_point = -1,
};

static void
test_apply_known(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    g_ptr_array_add(cases, brick_case("ordered-k000010-s0", PP_PHASE_CLEANUP,
                                      TRUE));
    g_ptr_array_add(cases, brick_case("ordered-k000012-s0", PP_PHASE_CLEANUP,
                                      TRUE));
    GDate day;
    set_date(&day, 1, G_DATE_JANUARY, 2026);
    g_autoptr(GError) error = NULL;
    assert_true(pp_known_apply(l, cases, NULL, &day, &error));
    for (guint i = 0; i < cases->len; i++) {
        PpCase *c = cases->pdata[i];
        assert_true(pp_case_known(c));
        assert_false(pp_case_failed(c));
        assert_string_equal(c->known->finding, "ostree-3392");
    }
    g_autofree char *dir = g_dir_make_tmp("test-known-XXXXXX", NULL);
    assert_true(pp_write_summary(dir, &run_info, cases, &error));
    assert_true(pp_write_junit(dir, &run_info, cases, &error));
    assert_true(pp_write_points(dir, &run_info, cases, &error));
    g_autofree char *summary = read_text(dir, "summary.json");
    g_autoptr(JsonNode) sn = json_from_string(summary, NULL);
    JsonObject *so = json_node_get_object(sn);
    assert_int_equal(json_object_get_int_member(so, "failed"), 0);
    assert_int_equal(json_object_get_int_member(so, "passed"), 0);
    assert_int_equal(json_object_get_int_member(so, "known"), 2);
    JsonArray *kf = json_object_get_array_member(so, "known_findings");
    assert_int_equal(json_array_get_length(kf), 1);
    JsonObject *k0 = json_array_get_object_element(kf, 0);
    assert_string_equal(json_object_get_string_member(k0, "id"),
                        "ostree-3392");
    assert_string_equal(json_object_get_string_member(k0, "link"),
                        "https://github.com/ostreedev/ostree/issues/3392");
    assert_int_equal(json_object_get_int_member(k0, "cases"), 2);
    assert_false(json_object_get_boolean_member(k0, "expired"));
    g_autofree char *junit = read_text(dir, "junit.xml");
    assert_non_null(strstr(junit, "failures=\"0\" errors=\"0\" skipped=\"2\""));
    assert_non_null(strstr(junit, "<skipped message=\"known finding "
                           "ostree-3392 (https://github.com/ostreedev/ostree/"
                           "issues/3392): brick: no entry boots\"/>"));
    assert_null(strstr(junit, "<failure"));
    /* points.json keeps the mark; merge reads it back. */
    g_autofree char *points = read_text(dir, "points.json");
    g_autoptr(JsonNode) pn = json_from_string(points, NULL);
    JsonArray *pa = json_object_get_array_member(json_node_get_object(pn),
                                                 "cases");
    g_autoptr(PpCase) back = pp_case_from_point(
        json_array_get_object_element(pa, 0), &error);
    assert_non_null(back);
    assert_true(pp_case_known(back));
    assert_string_equal(back->known->until, "2027-06-30");
    pp_rm_rf(dir, NULL);
}

static void
test_apply_unknown_and_expired_fail(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    /* In the pull: the finding is for the bootloader and cleanup. */
    g_ptr_array_add(cases, brick_case("ordered-k000001-s0", PP_PHASE_PULL,
                                      TRUE));
    g_ptr_array_add(cases, brick_case("ordered-k000010-s0", PP_PHASE_CLEANUP,
                                      TRUE));
    GDate day;
    set_date(&day, 1, G_DATE_JULY, 2027);
    g_autoptr(GError) error = NULL;
    assert_true(pp_known_apply(l, cases, NULL, &day, &error));
    PpCase *pull = cases->pdata[0];
    PpCase *late = cases->pdata[1];
    assert_null(pull->known);
    assert_true(pp_case_failed(pull));
    assert_non_null(late->known);
    assert_true(late->known->expired);
    assert_true(pp_case_failed(late));
    assert_false(pp_case_known(late));
    g_autofree char *dir = g_dir_make_tmp("test-known-XXXXXX", NULL);
    assert_true(pp_write_summary(dir, &run_info, cases, &error));
    assert_true(pp_write_junit(dir, &run_info, cases, &error));
    g_autofree char *summary = read_text(dir, "summary.json");
    g_autoptr(JsonNode) sn = json_from_string(summary, NULL);
    JsonObject *so = json_node_get_object(sn);
    assert_int_equal(json_object_get_int_member(so, "failed"), 2);
    assert_int_equal(json_object_get_int_member(so, "known"), 0);
    JsonArray *kf = json_object_get_array_member(so, "known_findings");
    assert_int_equal(json_array_get_length(kf), 1);
    JsonObject *k0 = json_array_get_object_element(kf, 0);
    assert_true(json_object_get_boolean_member(k0, "expired"));
    assert_int_equal(json_object_get_int_member(k0, "cases"), 1);
    g_autofree char *junit = read_text(dir, "junit.xml");
    assert_non_null(strstr(junit, "failures=\"2\" errors=\"0\" skipped=\"0\""));
    assert_non_null(strstr(junit, "brick: no entry boots (known finding "
                           "ostree-3392 expired after 2027-06-30: "));
    /* Applied again without findings, the marks go. */
    assert_true(pp_known_apply(NULL, cases, NULL, &day, &error));
    assert_null(late->known);
    pp_rm_rf(dir, NULL);
}

static void
test_apply_from_case_file(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autofree char *dir = g_dir_make_tmp("test-known-XXXXXX", NULL);
    g_autofree char *text = g_strdup_printf("{\"id\": \"ordered-k000010-s0\", "
                                            "\"evidence\": %s}",
                                            brick_judgement);
    g_autofree char *path = g_build_filename(dir, "ordered-k000010-s0.json",
                                             NULL);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    g_ptr_array_add(cases, brick_case("ordered-k000010-s0", PP_PHASE_CLEANUP,
                                      FALSE));
    GDate day;
    set_date(&day, 1, G_DATE_JANUARY, 2026);
    g_autoptr(GError) error = NULL;
    assert_true(pp_known_apply(l, cases, dir, &day, &error));
    assert_true(pp_case_known(cases->pdata[0]));
    pp_rm_rf(dir, NULL);
}

static void
test_apply_no_case_file_fail(void **state)
{
    g_autoptr(PpKnownList) l = load(good_file);
    g_autofree char *dir = g_dir_make_tmp("test-known-XXXXXX", NULL);
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_case_free);
    g_ptr_array_add(cases, brick_case("ordered-k000010-s0", PP_PHASE_CLEANUP,
                                      FALSE));
    g_autoptr(GError) error = NULL;
    assert_false(pp_known_apply(l, cases, dir, NULL, &error));
    assert_non_null(strstr(error->message,
                           "known findings: case ordered-k000010-s0: "));
    assert_false(pp_case_known(cases->pdata[0]));
    pp_rm_rf(dir, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors_fail),
        cmocka_unit_test(test_match_omitted_fields),
        cmocka_unit_test(test_match_differs_fail),
        cmocka_unit_test(test_match_list_prefix),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_passed_fail),
        cmocka_unit_test(test_apply_known),
        cmocka_unit_test(test_apply_unknown_and_expired_fail),
        cmocka_unit_test(test_apply_from_case_file),
        cmocka_unit_test(test_apply_no_case_file_fail),
    };
    return cmocka_run_group_tests_name("known", tests, NULL, NULL);
}
