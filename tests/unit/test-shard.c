/* SPDX-License-Identifier: MIT */
/*
 * test-shard: the split of a campaign into shards and the case records
 * plugpull merge joins them from.
 *
 * - every shard count splits the points into disjoint shares whose union
 *   is the whole list; twin: a malformed K/N is refused with the message;
 * - a case written to points.json reads back with everything the summary
 *   and junit use; twin: an entry without its outcome, or with a word
 *   that is not an outcome, is refused, naming the case and the member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shimtest.h"
#include "sim/sim-out.h"
#include "sim/sim-points.h"
#include "common/util.h"
#include "common/json.h"

static void
test_shards_partition_points(void **state)
{
    for (guint n_points = 0; n_points < 40; n_points += 7) {
        for (guint n = 1; n <= 5; n++) {
            g_autofree guint *owner = g_new0(guint, n_points + 1);
            for (guint k = 1; k <= n; k++) {
                PpShard sh = { k, n };
                g_autoptr(GArray) idx = pp_shard_indices(n_points, &sh);
                for (guint i = 0; i < idx->len; i++) {
                    guint p = g_array_index(idx, guint, i);
                    assert_true(p < n_points);
                    assert_int_equal(p % n, k - 1);
                    assert_int_equal(owner[p], 0);  /* disjoint */
                    owner[p] = k;
                }
            }
            for (guint p = 0; p < n_points; p++) {
                assert_int_not_equal(owner[p], 0);  /* covered */
            }
        }
    }
    PpShard whole = { 0, 0 };
    g_autoptr(GArray) all = pp_shard_indices(9, &whole);
    assert_int_equal(all->len, 9);
}

static void
test_shard_parse(void **state)
{
    PpShard sh = { 0 };
    g_autoptr(GError) error = NULL;
    assert_true(pp_shard_parse("2/4", &sh, &error));
    assert_int_equal(sh.index, 2);
    assert_int_equal(sh.count, 4);
    assert_true(pp_shard_parse("1/1", &sh, &error));
}

static void
test_shard_parse_fail(void **state)
{
    const char *bad[] = { "0/3", "4/3", "3", "/3", "1/", "a/b", "1/3x",
                          "1/1001", "-1/3", "", NULL };
    for (guint i = 0; bad[i] != NULL; i++) {
        PpShard sh = { 0 };
        g_autoptr(GError) error = NULL;
        assert_false(pp_shard_parse(bad[i], &sh, &error));
        assert_non_null(strstr(error->message, "--shard must be K/N"));
    }
}

/* points.json of one case, written by the real writer, parsed back. */
static JsonParser *
write_and_read(const PpCase *c, JsonObject **out_case)
{
    g_autofree char *dir = g_dir_make_tmp("pp-shard-XXXXXX", NULL);
    g_autoptr(GPtrArray) cases = g_ptr_array_new();
    g_ptr_array_add(cases, (gpointer)c);
    PpRunInfo info = { .records = 100, .commit_point = 50 };
    g_autoptr(GError) error = NULL;
    assert_true(pp_write_points(dir, &info, cases, &error));
    g_autofree char *path = g_build_filename(dir, "points.json", NULL);
    JsonObject *root = NULL;
    JsonParser *p = pp_json_load_object(path, &root, &error);
    assert_non_null(p);
    JsonArray *arr = json_object_get_array_member(root, "cases");
    *out_case = json_array_get_object_element(arr, 0);
    shimtest_rm_rf(dir);
    return p;
}

static void
test_case_round_trip(void **state)
{
    PpCase c = {
        .id = (char *)"ordered-k000042-s0",
        .state_name = (char *)"/r/trace.cfit@42:ordered:0",
        .k = 42,
        .phase = PP_PHASE_BOOTLOADER,
        .call = (char *)"#42 renameat boot/loader.tmp -> boot/loader",
        .verdict = PP_OUTCOME_STUCK,
        .reason = (char *)"the resumed update failed",
        .resumed = TRUE,
        .resume_bytes = 12345,
        .resume_objects = 7,
        .resume_refetched = 2,
        .durable_objects = 99,
        .resume_staging_bytes = 4096,
        .seconds = 1.5,
        .t_materialise = 0.25,
        .t_judge = 0.5,
        .t_resume = 0.625,
        .t_remove = 0.125,
    };
    JsonObject *o = NULL;
    g_autoptr(JsonParser) p = write_and_read(&c, &o);
    g_autoptr(GError) error = NULL;
    g_autoptr(PpCase) back = pp_case_from_point(o, &error);
    assert_non_null(back);
    assert_string_equal(back->id, c.id);
    assert_string_equal(back->state_name, c.state_name);
    assert_string_equal(back->call, c.call);
    assert_int_equal(back->verdict, PP_OUTCOME_STUCK);
    assert_string_equal(back->reason, c.reason);
    assert_int_equal(back->k, 42);
    assert_int_equal(back->phase, PP_PHASE_BOOTLOADER);
    assert_true(back->resumed);
    assert_int_equal(back->resume_bytes, 12345);
    assert_int_equal(back->resume_objects, 7);
    assert_int_equal(back->resume_refetched, 2);
    assert_int_equal(back->durable_objects, 99);
    assert_int_equal(back->resume_staging_bytes, 4096);
    assert_true(back->seconds == 1.5 && back->t_materialise == 0.25
                && back->t_judge == 0.5 && back->t_resume == 0.625
                && back->t_remove == 0.125);
}

static void
test_case_without_outcome_fail(void **state)
{
    PpCase c = {
        .id = (char *)"ordered-k000007-s0",
        .state_name = (char *)"/r/trace.cfit@7:ordered:0",
        .k = 7,
        .call = (char *)"#7 fsync",
        .verdict = PP_OUTCOME_PASS,
        .reason = (char *)"",
    };
    JsonObject *o = NULL;
    g_autoptr(JsonParser) p = write_and_read(&c, &o);
    json_object_remove_member(o, "outcome");
    g_autoptr(GError) error = NULL;
    g_autoptr(PpCase) back = pp_case_from_point(o, &error);
    assert_null(back);
    assert_string_equal(error->message, "case ordered-k000007-s0: 'outcome' "
                                        "missing or not a string");
    g_clear_error(&error);

    json_object_set_string_member(o, "outcome", "passed");
    PpCase *odd = pp_case_from_point(o, &error);
    assert_null(odd);
    assert_string_equal(error->message, "case ordered-k000007-s0: outcome "
                                        "'passed' is not an outcome");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_partition_points),
        cmocka_unit_test(test_shard_parse),
        cmocka_unit_test(test_shard_parse_fail),
        cmocka_unit_test(test_case_round_trip),
        cmocka_unit_test(test_case_without_outcome_fail),
    };
    return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
