/* SPDX-License-Identifier: MIT */
/*
 * test-promise: what the client promised at its exit, and the verdict
 * lost-update (sim/sim-promise.h), on hand-made judgements.
 *
 * - an upgrade: the promise is the commit the run switched the default
 *   entry to; after the exit a state booting the old tree complete is
 *   lost-update (twins: booting the new tree passes; the same old state
 *   before the exit passes; a client that exited non-zero promised
 *   nothing; a state the oracle found worse keeps its outcome);
 * - a pull: the promise is the ref it moved; after the exit the ref
 *   gone, or back at the old commit, is lost-update (twin: the ref at the
 *   written commit passes, before the exit an old ref passes);
 * - "after the exit" is the cut at the end of the trace only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sim/sim-promise.h"

#define OLD "1111111111111111111111111111111111111111111111111111111111111111"
#define NEW "2222222222222222222222222222222222222222222222222222222222222222"
#define REF "origin:exampleos/x86_64/stable"

/* A judgement with outcome o that boots commit (NULL: nothing) and holds
 * ref REF at ref_commit (NULL: no such ref). */
static PpJudgement *
judgement(PpOutcome o, const char *commit, const char *ref_commit)
{
    PpJudgement *j = g_new0(PpJudgement, 1);
    j->outcome = o;
    j->reason = g_strdup("");
    j->entries = g_ptr_array_new_with_free_func(g_free);
    j->booted = -1;
    if (commit != NULL) {
        /* Only the commit is read; the entry's other strings stay NULL,
         * so g_free is its whole destructor here. */
        PpBootEntry *e = g_new0(PpBootEntry, 1);
        e->bootable = TRUE;
        e->commit = (char *)commit;
        g_ptr_array_add(j->entries, e);
        j->booted = 0;
    }
    j->repo.checked = TRUE;
    j->repo.refs = g_ptr_array_new_with_free_func(g_free);
    if (ref_commit != NULL) {
        PpRefInfo *r = g_new0(PpRefInfo, 1);
        r->name = (char *)REF;
        r->commit = (char *)ref_commit;
        g_ptr_array_add(j->repo.refs, r);
    }
    return j;
}

/* The promise of an upgrade OLD -> NEW that exited with exited_0. */
static void
upgrade_promise(PpPromise *p, gboolean exited_0)
{
    g_autoptr(PpJudgement) before = judgement(PP_OUTCOME_PASS, OLD, OLD);
    g_autoptr(PpJudgement) left = judgement(PP_OUTCOME_PASS, NEW, NEW);
    pp_promise_from_judgements(p, before, left, exited_0);
}

static PpOutcome
judge(const PpPromise *p, gboolean after, PpOutcome o, const char *boots,
      const char *ref, char **reason)
{
    g_autoptr(PpJudgement) j = judgement(o, boots, ref);
    return pp_promise_judge(p, after, j, o, reason);
}

static void
test_upgrade_boots_old_after_exit(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    upgrade_promise(&p, TRUE);
    assert_string_equal(p.boot_commit, NEW);
    g_autofree char *why = NULL;
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, OLD, OLD, &why),
                     PP_OUTCOME_LOST_UPDATE);
    assert_non_null(why);
    assert_non_null(strstr(why, "exited 0"));
    assert_non_null(strstr(why, "the old version"));
    g_clear_pointer(&why, g_free);
    /* A lost rollback entry is outranked too. */
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_NO_ROLLBACK, OLD, OLD, &why),
                     PP_OUTCOME_LOST_UPDATE);
    pp_promise_clear(&p);
}

static void
test_upgrade_boots_new_after_exit_fail(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    upgrade_promise(&p, TRUE);
    g_autofree char *why = NULL;
    /* The promised tree: pass, even with a ref left behind. */
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, NEW, OLD, &why),
                     PP_OUTCOME_PASS);
    assert_null(why);
    pp_promise_clear(&p);
}

static void
test_upgrade_boots_old_before_exit_fail(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    upgrade_promise(&p, TRUE);
    g_autofree char *why = NULL;
    assert_int_equal(judge(&p, FALSE, PP_OUTCOME_PASS, OLD, OLD, &why),
                     PP_OUTCOME_PASS);
    assert_null(why);
    pp_promise_clear(&p);
}

static void
test_no_promise_without_exit_0_fail(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    upgrade_promise(&p, FALSE);
    g_autofree char *why = NULL;
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, OLD, OLD, &why),
                     PP_OUTCOME_PASS);
    assert_null(why);
    pp_promise_clear(&p);
}

static void
test_worse_outcomes_kept(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    upgrade_promise(&p, TRUE);
    const PpOutcome worse[] = { PP_OUTCOME_REPO_CORRUPT,
                                PP_OUTCOME_WRONG_TREE, PP_OUTCOME_BRICK };
    for (guint i = 0; i < G_N_ELEMENTS(worse); i++) {
        g_autofree char *why = NULL;
        assert_int_equal(judge(&p, TRUE, worse[i], OLD, OLD, &why), worse[i]);
        assert_null(why);
    }
    /* Boots nothing (the oracle would say brick): not lost-update. */
    g_autofree char *why = NULL;
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, NULL, OLD, &why),
                     PP_OUTCOME_PASS);
    pp_promise_clear(&p);
}

/* The promise of a pull of REF OLD -> NEW: the boot stays OLD. */
static void
pull_promise(PpPromise *p, const char *ref_before)
{
    g_autoptr(PpJudgement) before = judgement(PP_OUTCOME_PASS, OLD,
                                              ref_before);
    g_autoptr(PpJudgement) left = judgement(PP_OUTCOME_PASS, OLD, NEW);
    pp_promise_from_judgements(p, before, left, TRUE);
}

static void
test_pull_ref_lost_after_exit(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    pull_promise(&p, OLD);
    assert_null(p.boot_commit);
    assert_int_equal(p.refs->len, 1);
    g_autofree char *why = NULL;
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, OLD, OLD, &why),
                     PP_OUTCOME_LOST_UPDATE);
    assert_non_null(strstr(why, "the old commit"));
    g_clear_pointer(&why, g_free);
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, OLD, NULL, &why),
                     PP_OUTCOME_LOST_UPDATE);
    assert_non_null(strstr(why, "gone"));
    pp_promise_clear(&p);

    /* A ref the pull created: gone after the exit is lost too. */
    pull_promise(&p, NULL);
    g_clear_pointer(&why, g_free);
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, OLD, NULL, &why),
                     PP_OUTCOME_LOST_UPDATE);
    pp_promise_clear(&p);
}

static void
test_pull_ref_kept_fail(void **state)
{
    (void)state;
    PpPromise p = { 0 };
    pull_promise(&p, OLD);
    g_autofree char *why = NULL;
    assert_int_equal(judge(&p, TRUE, PP_OUTCOME_PASS, OLD, NEW, &why),
                     PP_OUTCOME_PASS);
    assert_null(why);
    assert_int_equal(judge(&p, FALSE, PP_OUTCOME_PASS, OLD, OLD, &why),
                     PP_OUTCOME_PASS);
    assert_null(why);
    pp_promise_clear(&p);
}

static void
test_after_exit_is_the_end(void **state)
{
    (void)state;
    assert_true(pp_promise_after_exit(100, 100));
    assert_false(pp_promise_after_exit(99, 100));
    assert_false(pp_promise_after_exit(0, 100));
    assert_true(pp_promise_after_exit(0, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_boots_old_after_exit),
        cmocka_unit_test(test_upgrade_boots_new_after_exit_fail),
        cmocka_unit_test(test_upgrade_boots_old_before_exit_fail),
        cmocka_unit_test(test_no_promise_without_exit_0_fail),
        cmocka_unit_test(test_worse_outcomes_kept),
        cmocka_unit_test(test_pull_ref_lost_after_exit),
        cmocka_unit_test(test_pull_ref_kept_fail),
        cmocka_unit_test(test_after_exit_is_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
