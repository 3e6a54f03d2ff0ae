/* SPDX-License-Identifier: MIT */
/*
 * test-vmverdict.c: boot B's checks run at once (harness/vm/vm-verdict.c):
 * the command, and the reading of its transcript, with the twin where a
 * check never ended (its rc is -1, the other's stands).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <glib.h>

#include "vm/vm-verdict.h"

static void
command_runs_both_at_once(void **state)
{
    (void)state;
    g_autofree char *cmd = pp_verdict_command("/sysroot/ostree/repo");
    assert_non_null(strstr(cmd, "(ostree admin status "));
    /* The image's guest-fsck with its baseline, else ostree fsck. */
    assert_non_null(strstr(cmd, "then /usr/lib/plugpull/guest-fsck "
                                "/sysroot/ostree/repo "
                                "/sysroot/plugpull/objects.baseline;"));
    assert_non_null(strstr(cmd, "else ostree fsck --repo=/sysroot/ostree/repo;"));
    /* Both in the background, then wait: at once, not one after the
       other. */
    assert_non_null(strstr(cmd, "\") & (if [ -x /usr/lib/plugpull/guest-fsck"));
    assert_non_null(strstr(cmd, "\") & wait;"));
}

static void
parses_both(void **state)
{
    (void)state;
    const char *t = "PLUGPULL-STATUS rc=0\n"
                    "PLUGPULL-FSCK rc=1\n"
                    "* plugpull abc.0\n"
                    "    Version: 1\n"
                    "PLUGPULL-FSCK-OUTPUT\n"
                    "error: Corrupted file object\n";
    int s = 7, f = 7;
    g_autoptr(GString) so = g_string_new(NULL);
    g_autoptr(GString) fo = g_string_new(NULL);
    pp_verdict_parse(t, &s, &f, so, fo);
    assert_int_equal(s, 0);
    assert_int_equal(f, 1);
    assert_string_equal(so->str, "* plugpull abc.0\n    Version: 1\n");
    assert_string_equal(fo->str, "error: Corrupted file object\n");
}

static void
a_check_that_never_ended_is_minus_one(void **state)
{
    (void)state;
    /* fsck hung: the agent's command timed out after status ended. */
    const char *t = "PLUGPULL-STATUS rc=0\n";
    int s = 7, f = 7;
    g_autoptr(GString) so = g_string_new(NULL);
    g_autoptr(GString) fo = g_string_new(NULL);
    pp_verdict_parse(t, &s, &f, so, fo);
    assert_int_equal(s, 0);
    assert_int_equal(f, -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_runs_both_at_once),
        cmocka_unit_test(parses_both),
        cmocka_unit_test(a_check_that_never_ended_is_minus_one),
    };
    return cmocka_run_group_tests_name("vmverdict", tests, NULL, NULL);
}
