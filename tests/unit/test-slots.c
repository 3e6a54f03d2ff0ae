/* SPDX-License-Identifier: MIT */
/*
 * test-slots: the U-Boot environment as U-Boot reads it
 * (common/ubootenv.h) and the slot oracle (oracle/slots.h).
 *
 * - pp_crc32() is zlib's (IEEE) CRC32: "123456789" -> 0xcbf43926; twin:
 *   one byte changed gives another CRC;
 * - a written copy reads back with a good CRC and its variables; twin: one
 *   byte of the data area flipped and the CRC is bad, the variables gone;
 * - of two good copies U-Boot takes the higher flag, 0 after 255 (the
 *   wrap); one good copy is taken whatever its flag; none: -1, the
 *   built-in default;
 * - the oracle: slot B named by the environment holding the new image is
 *   pass ("new"); twin: the same device with copy 1's CRC broken boots
 *   the built-in default, slot A, the old image ("old"); a slot matching
 *   no image is a brick; a slot with another version is wrong-tree;
 *   update-mode booting the new image has no rollback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <glib/gstdio.h>

#include "common/fs.h"
#include "common/ubootenv.h"
#include "common/util.h"
#include "oracle/slots.h"

static void
test_crc32(void **state)
{
    (void)state;
    assert_int_equal(pp_crc32((const guint8 *)"123456789", 9), 0xcbf43926u);
}

static void
test_crc32_changed_fail(void **state)
{
    (void)state;
    assert_int_not_equal(pp_crc32((const guint8 *)"123456788", 9),
                         0xcbf43926u);
}

static char *
tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *d = g_dir_make_tmp("pp-slots-XXXXXX", &error);
    assert_non_null(d);
    return d;
}

static void
flip_byte(const char *path, gsize off)
{
    g_autofree char *buf = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &buf, &len, NULL));
    buf[off] ^= 0x01;
    assert_true(g_file_set_contents(path, buf, (gssize)len, NULL));
}

static void
test_env_roundtrip(void **state)
{
    (void)state;
    g_autofree char *d = tmpdir();
    g_autofree char *p = g_build_filename(d, "env", NULL);
    const char *vars[] = { "slot=b", "bootcount=0", NULL };
    assert_true(pp_uboot_env_write(p, vars, TRUE, 7, NULL));
    PpUbootEnvCopy c;
    pp_uboot_env_read(p, TRUE, &c);
    assert_true(c.present && c.crc_ok);
    assert_int_equal(c.flags, 7);
    assert_string_equal(g_hash_table_lookup(c.vars, "slot"), "b");
    assert_string_equal(g_hash_table_lookup(c.vars, "bootcount"), "0");
    pp_uboot_env_copy_clear(&c);
    pp_rm_rf(d, NULL);
}

static void
test_env_flipped_fail(void **state)
{
    (void)state;
    g_autofree char *d = tmpdir();
    g_autofree char *p = g_build_filename(d, "env", NULL);
    const char *vars[] = { "slot=b", NULL };
    assert_true(pp_uboot_env_write(p, vars, FALSE, 0, NULL));
    flip_byte(p, 100);    /* in the zero padding: still covered by the CRC */
    PpUbootEnvCopy c;
    pp_uboot_env_read(p, FALSE, &c);
    assert_true(c.present);
    assert_false(c.crc_ok);
    assert_null(c.vars);
    PpUbootEnvCopy one[1] = { c };
    assert_int_equal(pp_uboot_env_select(one, 1), -1);
    pp_uboot_env_copy_clear(&c);
    pp_rm_rf(d, NULL);
}

static void
test_env_select(void **state)
{
    (void)state;
    PpUbootEnvCopy c[2] = { { .present = TRUE, .crc_ok = TRUE, .flags = 3 },
                            { .present = TRUE, .crc_ok = TRUE, .flags = 4 } };
    assert_int_equal(pp_uboot_env_select(c, 2), 1);
    c[0].flags = 5;
    assert_int_equal(pp_uboot_env_select(c, 2), 0);
    c[0].flags = 255;
    c[1].flags = 0;       /* the wrap: 0 is newer than 255 */
    assert_int_equal(pp_uboot_env_select(c, 2), 1);
    c[1].crc_ok = FALSE;  /* one good copy, whatever its flag */
    assert_int_equal(pp_uboot_env_select(c, 2), 0);
    c[0].crc_ok = FALSE;
    assert_int_equal(pp_uboot_env_select(c, 2), -1);
}

/* A device of two 4 KiB "images": v1 all 'a', v2 all 'b', v3 all 'c'. */
static char *
make_device(PpSlotDevice *dev, PpStrategy st, char slot_a, char slot_b,
            const char *env_slot)
{
    char *d = tmpdir();
    memset(dev, 0, sizeof *dev);
    dev->strategy = st;
    dev->env_copies = st == PP_STRATEGY_AB ? 1 : 0;
    dev->from_version = 1;
    dev->to_version = 2;
    char buf[4096];
    for (guint v = 0; v < 3; v++) {
        memset(buf, 'a' + (int)v, sizeof buf);
        dev->image_sha256[v] = g_compute_checksum_for_data(
            G_CHECKSUM_SHA256, (const guchar *)buf, sizeof buf);
    }
    const char slots[2] = { slot_a, slot_b };
    const char *names[2] = { "slot-a.img", "slot-b.img" };
    for (guint i = 0; i < (st == PP_STRATEGY_AB ? 2u : 1u); i++) {
        memset(buf, slots[i], sizeof buf);
        g_autofree char *p = g_build_filename(d, names[i], NULL);
        assert_true(g_file_set_contents(p, buf, sizeof buf, NULL));
    }
    if (env_slot != NULL) {
        g_autofree char *v = g_strdup_printf("slot=%s", env_slot);
        const char *vars[] = { v, NULL };
        g_autofree char *p = g_build_filename(d, "uboot.env", NULL);
        assert_true(pp_uboot_env_write(p, vars, FALSE, 0, NULL));
    }
    return d;
}

static void
judge(const PpSlotDevice *dev, const char *d, PpOutcome want,
      const char *boots)
{
    PpSlotJudgement j;
    assert_true(pp_slots_judge(dev, d, &j, NULL));
    if (j.outcome != want) {
        fail_msg("outcome %d (%s), want %d", j.outcome, j.reason, want);
    }
    assert_true(g_strcmp0(j.boots, boots) == 0);
    pp_slot_judgement_clear(&j);
}

static void
test_oracle_ab_new(void **state)
{
    (void)state;
    PpSlotDevice dev;
    g_autofree char *d = make_device(&dev, PP_STRATEGY_AB, 'a', 'b', "b");
    judge(&dev, d, PP_OUTCOME_PASS, "new");
    pp_rm_rf(d, NULL);
    pp_slot_device_clear(&dev);
}

static void
test_oracle_ab_bad_crc_fail(void **state)
{
    (void)state;
    PpSlotDevice dev;
    g_autofree char *d = make_device(&dev, PP_STRATEGY_AB, 'a', 'b', "b");
    g_autofree char *env = g_build_filename(d, "uboot.env", NULL);
    flip_byte(env, 10);
    judge(&dev, d, PP_OUTCOME_PASS, "old");   /* the default: slot A */
    pp_rm_rf(d, NULL);
    pp_slot_device_clear(&dev);
}

static void
test_oracle_brick_and_wrong(void **state)
{
    (void)state;
    PpSlotDevice dev;
    g_autofree char *d = make_device(&dev, PP_STRATEGY_AB, 'a', 'x', "b");
    judge(&dev, d, PP_OUTCOME_BRICK, NULL);
    pp_rm_rf(d, NULL);
    pp_slot_device_clear(&dev);
    g_autofree char *d2 = make_device(&dev, PP_STRATEGY_AB, 'a', 'c', "b");
    judge(&dev, d2, PP_OUTCOME_WRONG_TREE, "other");
    pp_rm_rf(d2, NULL);
    pp_slot_device_clear(&dev);
    g_autofree char *d3 = make_device(&dev, PP_STRATEGY_AB, 'a', 'b', "c");
    judge(&dev, d3, PP_OUTCOME_BRICK, NULL);   /* no slot c */
    pp_rm_rf(d3, NULL);
    pp_slot_device_clear(&dev);
}

static void
test_oracle_update_mode(void **state)
{
    (void)state;
    PpSlotDevice dev;
    g_autofree char *d = make_device(&dev, PP_STRATEGY_UPDATE_MODE, 'b', 0,
                                     NULL);
    judge(&dev, d, PP_OUTCOME_NO_ROLLBACK, "new");
    pp_rm_rf(d, NULL);
    pp_slot_device_clear(&dev);
    g_autofree char *d2 = make_device(&dev, PP_STRATEGY_UPDATE_MODE, 'a', 0,
                                      NULL);
    judge(&dev, d2, PP_OUTCOME_PASS, "old");
    pp_rm_rf(d2, NULL);
    pp_slot_device_clear(&dev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_crc32_changed_fail),
        cmocka_unit_test(test_env_roundtrip),
        cmocka_unit_test(test_env_flipped_fail),
        cmocka_unit_test(test_env_select),
        cmocka_unit_test(test_oracle_ab_new),
        cmocka_unit_test(test_oracle_ab_bad_crc_fail),
        cmocka_unit_test(test_oracle_brick_and_wrong),
        cmocka_unit_test(test_oracle_update_mode),
    };
    return cmocka_run_group_tests_name("slots", tests, NULL, NULL);
}
