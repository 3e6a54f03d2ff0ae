/* SPDX-License-Identifier: MIT */
/*
 * test-dmlog.c: the dm-log-writes reader (harness/vm/vm-dmlog.c) on a
 * real log QEMU's blklogwrites driver wrote (tests/data/dmlog/cut.log,
 * made by make-cut-log.sh: its requests are listed there), and the disk
 * a volatile cache leaves (harness/vm/vm-diskcache.c, MODELS.md 4d).
 * Each reading has its failing twin: a damaged log is refused, naming
 * the entry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vm/vm-diskcache.h"
#include "vm/vm-dmlog.h"

#define DISK_SIZE (64 * 1024)

typedef struct {
    char *dir;
    char *log;       /* a copy of the fixture, free to damage */
    char *pristine;  /* 64 KiB of zeros, the disk the log started from */
    char *disk;
} Fx;

static char *
fixture_path(void)
{
    g_autofree char *here = g_path_get_dirname(__FILE__);
    return g_build_filename(here, "..", "data", "dmlog", "cut.log", NULL);
}

static int
setup(void **state)
{
    Fx *fx = g_new0(Fx, 1);
    fx->dir = g_dir_make_tmp("pp-dmlog-XXXXXX", NULL);
    assert_non_null(fx->dir);
    fx->log = g_build_filename(fx->dir, "cut.log", NULL);
    fx->pristine = g_build_filename(fx->dir, "pristine.img", NULL);
    fx->disk = g_build_filename(fx->dir, "disk.img", NULL);
    g_autofree char *src = fixture_path();
    g_autofree char *data = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(src, &data, &len, NULL));
    assert_true(g_file_set_contents(fx->log, data, (gssize)len, NULL));
    g_autofree char *zeros = g_malloc0(DISK_SIZE);
    assert_true(g_file_set_contents(fx->pristine, zeros, DISK_SIZE, NULL));
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    (void)g_unlink(fx->log);
    (void)g_unlink(fx->pristine);
    (void)g_unlink(fx->disk);
    (void)g_rmdir(fx->dir);
    g_free(fx->dir);
    g_free(fx->log);
    g_free(fx->pristine);
    g_free(fx->disk);
    g_free(fx);
    return 0;
}

/* ---- the reader ------------------------------------------------------- */

static void
reads_a_real_log(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpDmLog) log = pp_dmlog_read(fx->log, &error);
    assert_non_null(log);
    assert_int_equal(log->sector_size, 512);
    /* The superblock was last written at the flush (entry 6): entries 7
       and 8 are found by reading on, as after a cut. */
    assert_int_equal(log->super_entries, 7);
    assert_int_equal(log->entries->len, 9);
    static const struct {
        guint64 offset, length;
        guint32 flags;
        gboolean data;
    } want[] = {
        { 0, 4096, 0, TRUE },     { 0, 0, PP_DMLOG_FLUSH, FALSE },
        { 4096, 1024, 0, TRUE },  { 8192, 2048, 0, TRUE },
        { 0, 512, 0, TRUE },      { 16384, 512, 0, TRUE },
        { 0, 0, PP_DMLOG_FLUSH, FALSE },
        { 20480, 1024, 0, TRUE }, { 32768, 4096, PP_DMLOG_DISCARD, FALSE },
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        const PpDmLogEntry *e = pp_dmlog_entry(log, i);
        assert_int_equal(e->offset, want[i].offset);
        assert_int_equal(e->length, want[i].length);
        assert_int_equal(e->flags, want[i].flags);
        assert_int_equal(e->data_offset != 0, want[i].data);
    }
    /* QEMU 7.2 logs the FUA write (5) as a write and a flush (6). */
    assert_int_equal(pp_dmlog_last_flush(log), 6);
    assert_string_equal(log->end_reason, "the end of the log");
}

/* Overwrite 8 bytes of the log at off. */
static void
poke(const char *path, off_t off, guint64 value)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    guint64 le = GUINT64_TO_LE(value);
    assert_int_equal(pwrite(fd, &le, sizeof le, off), sizeof le);
    close(fd);
}

static void
refuses_a_damaged_log(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    /* Entry 2 (offset 5632 in the log) with an unknown flag: within the
       superblock's count, so the log is damaged. */
    poke(fx->log, 5632 + 16, 1u << 7);
    g_autoptr(PpDmLog) log = pp_dmlog_read(fx->log, &error);
    assert_null(log);
    assert_non_null(strstr(error->message, "entry 2 of the 7"));
    assert_non_null(strstr(error->message, "unknown flags"));
}

static void
stops_past_the_count_at_a_bad_entry(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    /* Entry 8 (the discard, at 13824) damaged: past the count, it ends
       the log instead (a request in flight at the cut). */
    poke(fx->log, 13824 + 16, 1u << 7);
    g_autoptr(PpDmLog) log = pp_dmlog_read(fx->log, &error);
    assert_non_null(log);
    assert_int_equal(log->entries->len, 8);
    assert_string_equal(log->end_reason, "an entry with unknown flags");
}

static void
refuses_what_is_not_a_log(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpDmLog) log = pp_dmlog_read(fx->pristine, &error);
    assert_null(log);
    assert_non_null(strstr(error->message, "not a dm-log-writes log"));
}

/* ---- the disk a volatile cache leaves ----------------------------------- */

/* TRUE when disk[off, off+len) is all `byte`. */
static gboolean
disk_is(const char *disk, off_t off, size_t len, guint8 byte)
{
    g_autofree char *data = NULL;
    gsize size = 0;
    assert_true(g_file_get_contents(disk, &data, &size, NULL));
    assert_int_equal(size, DISK_SIZE);
    for (size_t i = 0; i < len; i++) {
        if ((guint8)data[off + i] != byte) {
            return FALSE;
        }
    }
    return TRUE;
}

static void
seed_zero_keeps_up_to_the_last_flush(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    g_auto(PpDiskCacheResult) r = { 0 };
    assert_true(pp_diskcache_rebuild(fx->pristine, fx->log, fx->disk, 0, &r,
                                     &error));
    /* Everything before the flush at 6, in log order (4 over 0). */
    assert_true(disk_is(fx->disk, 0, 512, 0x33));
    assert_true(disk_is(fx->disk, 512, 3584, 0x11));
    assert_true(disk_is(fx->disk, 4096, 1024, 0x22));
    assert_true(disk_is(fx->disk, 8192, 2048, 0x00));
    assert_true(disk_is(fx->disk, 16384, 512, 0x44));
    /* Failing twin: the write after the last flush is lost. */
    assert_true(disk_is(fx->disk, 20480, 1024, 0x00));
    assert_int_equal(r.last_flush, 6);
    assert_int_equal(r.flushes, 2);
    assert_int_equal(r.after_flush, 2);
    assert_int_equal(r.kept, 0);
    assert_int_equal(r.lost, 2);
    assert_int_equal(r.bytes_lost, 1024 + 4096);
    assert_string_equal(r.lost_ranges->str, "20480+1024 32768+4096(discard)");
    /* The pristine disk is not touched. */
    assert_true(disk_is(fx->pristine, 0, DISK_SIZE, 0x00));
}

static void
seeds_draw_reproducible_subsets(void **state)
{
    Fx *fx = *state;
    gboolean seen_kept = FALSE, seen_lost = FALSE;
    for (guint64 seed = 1; seed <= 16; seed++) {
        g_autoptr(GError) error = NULL;
        g_auto(PpDiskCacheResult) r = { 0 };
        assert_true(pp_diskcache_rebuild(fx->pristine, fx->log, fx->disk,
                                         seed, &r, &error));
        gboolean kept = disk_is(fx->disk, 20480, 1024, 0x55);
        assert_true(kept || disk_is(fx->disk, 20480, 1024, 0x00));
        seen_kept |= kept;
        seen_lost |= !kept;
        assert_int_equal(r.kept + r.lost, 2);
        /* Before the flush, always kept. */
        assert_true(disk_is(fx->disk, 16384, 512, 0x44));
        /* The same seed, the same disk. */
        g_auto(PpDiskCacheResult) again = { 0 };
        assert_true(pp_diskcache_rebuild(fx->pristine, fx->log, fx->disk,
                                         seed, &again, &error));
        assert_int_equal(disk_is(fx->disk, 20480, 1024, 0x55), kept);
        assert_string_equal(again.lost_ranges->str, r.lost_ranges->str);
    }
    assert_true(seen_kept);
    assert_true(seen_lost);
}

/* A hand-made log: a write, a flush, then a FUA write and a plain one. */
static void
fua_write_after_the_flush_is_kept(void **state)
{
    Fx *fx = *state;
    guint8 log[512 * 8] = { 0 };
    guint64 sb[3] = { GUINT64_TO_LE(0x6a736677736872ULL), GUINT64_TO_LE(1),
                      GUINT64_TO_LE(2) };
    guint32 ss = GUINT32_TO_LE(512);
    memcpy(log, sb, sizeof sb);
    memcpy(log + 24, &ss, sizeof ss);
    /* entries: sector, nr_sectors, flags, data_len */
    guint64 e0[4] = { GUINT64_TO_LE(1), GUINT64_TO_LE(1), 0, 0 };
    guint64 e1[4] = { 0, 0, GUINT64_TO_LE(PP_DMLOG_FLUSH), 0 };
    guint64 e2[4] = { GUINT64_TO_LE(2), GUINT64_TO_LE(1),
                      GUINT64_TO_LE(PP_DMLOG_FUA), 0 };
    guint64 e3[4] = { GUINT64_TO_LE(3), GUINT64_TO_LE(1), 0, 0 };
    memcpy(log + 512, e0, sizeof e0);
    memset(log + 1024, 0xa0, 512);
    memcpy(log + 1536, e1, sizeof e1);
    memcpy(log + 2048, e2, sizeof e2);
    memset(log + 2560, 0xf0, 512);
    memcpy(log + 3072, e3, sizeof e3);
    memset(log + 3584, 0xb0, 512);
    assert_true(g_file_set_contents(fx->log, (char *)log, sizeof log, NULL));
    g_autoptr(GError) error = NULL;
    g_auto(PpDiskCacheResult) r = { 0 };
    assert_true(pp_diskcache_rebuild(fx->pristine, fx->log, fx->disk, 0, &r,
                                     &error));
    assert_true(disk_is(fx->disk, 512, 512, 0xa0));
    assert_true(disk_is(fx->disk, 1024, 512, 0xf0));   /* FUA: durable */
    assert_true(disk_is(fx->disk, 1536, 512, 0x00));   /* lost */
    assert_int_equal(r.kept, 1);
    assert_int_equal(r.lost, 1);
    assert_int_equal(r.entries, 4);
}

static void
cycle_seeds(void **state)
{
    (void)state;
    assert_int_equal(pp_diskcache_cycle_seed(0, 3), 0);
    guint64 a = pp_diskcache_cycle_seed(42, 0);
    assert_true(a != 0 && a < (G_GUINT64_CONSTANT(1) << 53));
    assert_int_equal(pp_diskcache_cycle_seed(42, 0), a);
    assert_true(pp_diskcache_cycle_seed(42, 1) != a);
    PpDiskCache m;
    assert_true(pp_disk_cache_parse("volatile", &m));
    assert_int_equal(m, PP_DISK_CACHE_VOLATILE);
    assert_false(pp_disk_cache_parse("Volatile", &m));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_a_real_log, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_damaged_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stops_past_the_count_at_a_bad_entry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_is_not_a_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(seed_zero_keeps_up_to_the_last_flush,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(seeds_draw_reproducible_subsets, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fua_write_after_the_flush_is_kept,
                                        setup, teardown),
        cmocka_unit_test(cycle_seeds),
    };
    return cmocka_run_group_tests_name("dmlog", tests, NULL, NULL);
}
