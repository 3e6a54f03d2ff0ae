/* SPDX-License-Identifier: MIT */
/*
 * test-campaign: what a campaign keeps in its results directory for
 * `plugpull sim --resume` (simcampaign.h).
 *
 * - campaign.json reads back with every parameter; twins: a torn file is
 *   refused naming it, a missing one is NOT_FOUND naming it;
 * - options that agree with the campaign pass; twin: a disagreeing seed
 *   and model are both listed;
 * - a finished case's done record reads back; twins: a record of another
 *   recording and a torn record are refused (the case runs again), an
 *   absent one is "not finished";
 * - the temporary files of a killed write are removed, nothing else;
 * - the campaign lock; twin: a second holder is refused with BUSY.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "common/fs.h"
#include "sim/sim.h"
#include "sim/sim-campaign.h"
#include "common/util.h"

static char *
tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *d = g_dir_make_tmp("pp-test-campaign-XXXXXX", &error);
    assert_non_null(d);
    return d;
}

/* A client that cannot run has version "unknown" (pp_ostree_version). */
static PpCampaign example = {
    .scenario_path = (char *)"scenarios/x.conf",
    .scenario_text = (char *)"[crash]\nseed = 3\n",
    .model = (char *)"torn",
    .points = (char *)"sample:20",
    .seed = 3,
    .resume_updates = (char *)"none",
    .shard = NULL,
    .budget_s = 90,
    .recording = NULL,
    .client_path = (char *)"/nonexistent/ostree",
    .client_version = (char *)"unknown",
    .started = (char *)"2026-01-01T00:00:00Z",
};

static void
test_campaign_round_trip(void **state)
{
    g_autofree char *d = tmpdir();
    g_autoptr(GError) error = NULL;
    assert_true(pp_campaign_write(d, &example, &error));
    g_autoptr(PpCampaign) c = pp_campaign_load(d, &error);
    assert_non_null(c);
    assert_string_equal(c->scenario_path, example.scenario_path);
    assert_string_equal(c->scenario_text, example.scenario_text);
    assert_string_equal(c->model, "torn");
    assert_string_equal(c->points, "sample:20");
    assert_int_equal(c->seed, 3);
    assert_string_equal(c->resume_updates, "none");
    assert_null(c->shard);
    assert_int_equal(c->budget_s, 90);
    assert_null(c->recording);
    assert_string_equal(c->client_version, "unknown");
    assert_string_equal(c->started, example.started);
    PpCampaignAsk same = { NULL, "torn", "sample:20", 3, "none", NULL, 90,
                           NULL, NULL };
    assert_true(pp_campaign_check(c, &same, &error));
    pp_rm_rf(d, NULL);
}

static void
test_campaign_torn_fail(void **state)
{
    g_autofree char *d = tmpdir();
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(d, PP_CAMPAIGN_FILE, NULL);
    assert_true(g_file_set_contents(path, "{ \"tool\" : \"plugp", -1, NULL));
    g_autoptr(PpCampaign) c = pp_campaign_load(d, &error);
    assert_null(c);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
    g_autofree char *want = g_strdup_printf("%s is unreadable", path);
    assert_true(g_str_has_prefix(error->message, want));

    g_clear_error(&error);
    g_unlink(path);
    assert_null(pp_campaign_load(d, &error));
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_autofree char *missing = g_strdup_printf("%s is missing", path);
    assert_true(g_str_has_prefix(error->message, missing));
    pp_rm_rf(d, NULL);
}

static void
test_campaign_disagree_fail(void **state)
{
    g_autoptr(GError) error = NULL;
    PpCampaignAsk other = { NULL, "ordered", NULL, 7, NULL, NULL, -1, NULL,
                            NULL };
    assert_false(pp_campaign_check(&example, &other, &error));
    assert_true(g_error_matches(error, G_IO_ERROR,
                                G_IO_ERROR_INVALID_ARGUMENT));
    assert_non_null(strstr(error->message,
                           "model: ordered given, the campaign has torn"));
    assert_non_null(strstr(error->message,
                           "seed: 7 given, the campaign has 3"));
}

static PpCase done_case = {
    .id = (char *)"torn-k000042-s3",
    .state_name = (char *)"/r/trace.cfit@42:torn:3",
    .k = 42,
    .phase = PP_PHASE_DEPLOY,
    .call = (char *)"#42 fsync",
    .verdict = PP_OUTCOME_WRONG_TREE,
    .reason = (char *)"mixed tree",
    .seconds = 0.5,
};

static void
test_done_round_trip(void **state)
{
    g_autofree char *d = tmpdir();
    g_autoptr(GError) error = NULL;
    assert_true(pp_campaign_save_case(d, "rec1", &done_case, &error));
    g_autoptr(PpCase) back = NULL;
    assert_true(pp_campaign_load_case(d, done_case.id, "rec1", &back,
                                      &error));
    assert_non_null(back);
    assert_int_equal(back->verdict, PP_OUTCOME_WRONG_TREE);
    assert_string_equal(back->reason, "mixed tree");
    assert_int_equal(back->k, 42);
    assert_int_equal(back->phase, PP_PHASE_DEPLOY);

    g_autoptr(PpCase) none = NULL;
    assert_true(pp_campaign_load_case(d, "torn-k000043-s3", "rec1", &none,
                                      &error));
    assert_null(none);
    pp_rm_rf(d, NULL);
}

static void
test_done_other_or_torn_fail(void **state)
{
    g_autofree char *d = tmpdir();
    g_autoptr(GError) error = NULL;
    assert_true(pp_campaign_save_case(d, "rec1", &done_case, &error));
    g_autoptr(PpCase) back = NULL;
    assert_false(pp_campaign_load_case(d, done_case.id, "rec2", &back,
                                       &error));
    assert_null(back);
    assert_non_null(strstr(error->message, "judged on recording rec1"));

    g_clear_error(&error);
    g_autofree char *path = g_build_filename(d, "torn-k000042-s3.json", NULL);
    assert_true(g_file_set_contents(path, "{\"recording\": \"rec1\", \"ca",
                                    -1, NULL));
    assert_false(pp_campaign_load_case(d, done_case.id, "rec1", &back,
                                       &error));
    assert_null(back);
    assert_non_null(strstr(error->message, path));
    pp_rm_rf(d, NULL);
}

static void
test_remove_temps(void **state)
{
    g_autofree char *d = tmpdir();
    const char *names[] = { "a.json", "a.json.Xy12Zq", "b.json.tmp" };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = g_build_filename(d, names[i], NULL);
        assert_true(g_file_set_contents(p, "{}", -1, NULL));
    }
    assert_int_equal(pp_campaign_remove_temps(d), 1);
    g_autofree char *kept = g_build_filename(d, "a.json", NULL);
    g_autofree char *gone = g_build_filename(d, "a.json.Xy12Zq", NULL);
    assert_true(g_file_test(kept, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(gone, G_FILE_TEST_EXISTS));
    pp_rm_rf(d, NULL);
}

static void
test_lock_busy_fail(void **state)
{
    g_autofree char *d = tmpdir();
    g_autoptr(GError) error = NULL;
    assert_true(pp_campaign_write(d, &example, &error));
    int fd = pp_campaign_lock(d, &error);
    assert_true(fd >= 0);
    /* flock is per open file description: a second open is a second
     * holder, as another process would be. */
    assert_int_equal(pp_campaign_lock(d, &error), -1);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY));
    assert_non_null(strstr(error->message, "another plugpull is running"));
    close(fd);
    g_clear_error(&error);
    fd = pp_campaign_lock(d, &error);
    assert_true(fd >= 0);
    close(fd);
    pp_rm_rf(d, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaign_round_trip),
        cmocka_unit_test(test_campaign_torn_fail),
        cmocka_unit_test(test_campaign_disagree_fail),
        cmocka_unit_test(test_done_round_trip),
        cmocka_unit_test(test_done_other_or_torn_fail),
        cmocka_unit_test(test_remove_temps),
        cmocka_unit_test(test_lock_busy_fail),
    };
    return cmocka_run_group_tests_name("campaign", tests, NULL, NULL);
}
