/* SPDX-License-Identifier: MIT */
/*
 * test-schedule: the schedule of a repeated-cuts case and the search that
 * shrinks it (harness/common/schedule.c, harness/common/shrink.c).
 *
 * - a schedule written into a case id reads back exactly, the model's own
 *   '-' included; twin: malformed ids are refused, naming the id and the
 *   fault;
 * - the draw of a later cut is a function of (seed, schedule so far,
 *   cut), in range, and not constant; the boot id of a resume too;
 * - ddmin keeps exactly the cuts the failure needs; twin: a schedule that
 *   does not fail gives nothing to minimise;
 * - the earliest-point search lands on the first failing candidate of a
 *   contiguous range in few tests; twin: a failure only at the start
 *   point stays there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <string.h>

#include "common/schedule.h"
#include "common/shrink.h"

static void
round_trip(CfiModel model, const guint *cuts, guint n, guint64 seed,
           const char *want)
{
    g_autofree char *id = pp_schedule_to_id(model, cuts, n, seed);
    assert_string_equal(id, want);
    g_autoptr(GArray) back = g_array_new(FALSE, FALSE, sizeof(guint));
    CfiModel m;
    guint64 s;
    g_autoptr(GError) error = NULL;
    assert_true(pp_schedule_from_id(id, &m, back, &s, &error));
    assert_int_equal(m, model);
    assert_int_equal(s, seed);
    assert_int_equal(back->len, n);
    for (guint i = 0; i < n; i++) {
        assert_int_equal(g_array_index(back, guint, i), cuts[i]);
    }
}

static void
test_id_round_trip(void **state)
{
    guint one[] = { 1338 };
    round_trip(CFI_MODEL_ORDERED, one, 1, 0, "ordered-k001338-s0");
    guint three[] = { 1338, 412, 87 };
    round_trip(CFI_MODEL_ORDERED, three, 3, 0,
               "ordered-k001338+000412+000087-s0");
    guint two[] = { 10, 3 };
    round_trip(CFI_MODEL_PROCESS_KILL, two, 2, 7,
               "process-kill-k000010+000003-s7");
    guint big[] = { 1234567, 0 };
    round_trip(CFI_MODEL_REORDER, big, 2, G_MAXUINT64,
               "reorder-k1234567+000000-s18446744073709551615");
}

static void
test_id_malformed_fail(void **state)
{
    const char *bad[] = {
        "ordered-k001338", "ordered-k001338-sx", "ordered-001338-s0",
        "ordred-k001338-s0", "ordered-k-s0", "ordered-k12++3-s0",
        "ordered-k12+x-s0", "-k12-s0", "k12-s0", "",
        "ordered-k1+2+3+4+5+6+7+8+9+10+11+12+13+14+15+16+17-s0", NULL,
    };
    for (guint i = 0; bad[i] != NULL; i++) {
        g_autoptr(GArray) cuts = g_array_new(FALSE, FALSE, sizeof(guint));
        CfiModel m;
        guint64 s;
        g_autoptr(GError) error = NULL;
        assert_false(pp_schedule_from_id(bad[i], &m, cuts, &s, &error));
        assert_int_equal(cuts->len, 0);
        g_autofree char *quoted = g_strdup_printf("case id '%s': ", bad[i]);
        assert_true(g_str_has_prefix(error->message, quoted));
        assert_non_null(strstr(error->message, "want MODEL-kP1[+P2...]"));
    }
}

static void
test_draw_deterministic(void **state)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    for (guint p = 0; p < 64; p++) {
        g_autofree char *prefix = g_strdup_printf("ordered-k%06u-s0", p);
        guint a = pp_schedule_draw(0, prefix, 2, 100);
        assert_int_equal(a, pp_schedule_draw(0, prefix, 2, 100));
        assert_true(a < 100);
        g_hash_table_add(seen, GUINT_TO_POINTER(a + 1));
    }
    /* Not one point for every case. */
    assert_true(g_hash_table_size(seen) > 20);
    assert_int_equal(pp_schedule_draw(5, "x", 2, 0), 0);
    assert_int_equal(pp_schedule_draw(5, "x", 2, 1), 0);

    g_autofree char *b1 = pp_schedule_boot_id("ordered-k000001-s0", 2);
    g_autofree char *b2 = pp_schedule_boot_id("ordered-k000001-s0", 2);
    g_autofree char *b3 = pp_schedule_boot_id("ordered-k000001-s0", 3);
    assert_string_equal(b1, b2);
    assert_string_not_equal(b1, b3);
    assert_int_equal(strlen(b1), 36);
    assert_true(b1[8] == '-' && b1[13] == '-' && b1[18] == '-'
                && b1[23] == '-');
}

/* Fails when every cut of need[] is in the schedule (order kept). */
typedef struct {
    const guint *need;
    guint n_need;
    guint calls;
} Need;

static gboolean
needs_all(const guint *cuts, guint n, gpointer data)
{
    Need *nd = data;
    nd->calls++;
    guint j = 0;
    for (guint i = 0; i < n && j < nd->n_need; i++) {
        if (cuts[i] == nd->need[j]) {
            j++;
        }
    }
    return j == nd->n_need;
}

static GArray *
array_of(const guint *v, guint n)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(guint));
    g_array_append_vals(a, v, n);
    return a;
}

static void
test_ddmin_keeps_what_fails(void **state)
{
    guint sched[] = { 1, 3, 5, 7, 9, 11, 13, 15 };
    g_autoptr(GArray) cuts = array_of(sched, G_N_ELEMENTS(sched));

    guint pair[] = { 3, 13 };
    Need nd = { pair, 2, 0 };
    g_autoptr(GArray) min = pp_shrink_cuts(cuts, needs_all, &nd);
    assert_non_null(min);
    assert_int_equal(min->len, 2);
    assert_int_equal(g_array_index(min, guint, 0), 3);
    assert_int_equal(g_array_index(min, guint, 1), 13);
    /* ddmin's bound is n^2 tests; the minimizer also caches them. */
    assert_true(nd.calls <= 64);

    guint single[] = { 9 };
    Need nd1 = { single, 1, 0 };
    g_autoptr(GArray) min1 = pp_shrink_cuts(cuts, needs_all, &nd1);
    assert_int_equal(min1->len, 1);
    assert_int_equal(g_array_index(min1, guint, 0), 9);

    /* A one-cut schedule stays one cut. */
    g_autoptr(GArray) lone = array_of(single, 1);
    Need nd2 = { single, 1, 0 };
    g_autoptr(GArray) min2 = pp_shrink_cuts(lone, needs_all, &nd2);
    assert_int_equal(min2->len, 1);
    assert_int_equal(nd2.calls, 1);
}

static void
test_ddmin_passing_fail(void **state)
{
    guint sched[] = { 1, 3, 5 };
    g_autoptr(GArray) cuts = array_of(sched, 3);
    guint absent[] = { 4 };
    Need nd = { absent, 1, 0 };
    assert_null(pp_shrink_cuts(cuts, needs_all, &nd));
    assert_int_equal(nd.calls, 1);
    g_autoptr(GArray) empty = g_array_new(FALSE, FALSE, sizeof(guint));
    assert_null(pp_shrink_cuts(empty, needs_all, &nd));
}

typedef struct {
    guint from;       /* points >= from fail ... */
    guint only;       /* ... or exactly this one (G_MAXUINT: none) */
    guint calls;
} Range;

static gboolean
fails_from(guint point, gpointer data)
{
    Range *r = data;
    r->calls++;
    return point >= r->from || point == r->only;
}

static void
test_earliest_point(void **state)
{
    guint cand[100];
    for (guint i = 0; i < 100; i++) {
        cand[i] = 3 * i;   /* 0, 3, ..., 297 */
    }
    Range r = { 40, G_MAXUINT, 0 };
    guint idx = pp_shrink_earliest(cand, 90, fails_from, &r);
    assert_int_equal(cand[idx], 42);
    /* 76 candidates walked back over in about 2 log2(76) tests. */
    assert_true(r.calls <= 20);

    Range all = { 0, G_MAXUINT, 0 };
    assert_int_equal(pp_shrink_earliest(cand, 99, fails_from, &all), 0);
}

static void
test_earliest_point_only_start_fail(void **state)
{
    guint cand[] = { 2, 4, 6, 8, 10 };
    Range r = { G_MAXUINT, 8, 0 };
    assert_int_equal(pp_shrink_earliest(cand, 3, fails_from, &r), 3);
    assert_int_equal(r.calls, 1);
    /* At the first candidate there is nothing earlier to test. */
    Range r0 = { G_MAXUINT, 2, 0 };
    assert_int_equal(pp_shrink_earliest(cand, 0, fails_from, &r0), 0);
    assert_int_equal(r0.calls, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_round_trip),
        cmocka_unit_test(test_id_malformed_fail),
        cmocka_unit_test(test_draw_deterministic),
        cmocka_unit_test(test_ddmin_keeps_what_fails),
        cmocka_unit_test(test_ddmin_passing_fail),
        cmocka_unit_test(test_earliest_point),
        cmocka_unit_test(test_earliest_point_only_start_fail),
    };
    return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
