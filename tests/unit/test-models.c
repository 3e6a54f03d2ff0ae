/* SPDX-License-Identifier: MIT */
/*
 * test-models.c: the power-loss models of MODELS.md, checked on the trees
 * they materialise (contents, presence, sizes).  Tests come in pairs: each
 * success has a twin showing the opposite outcome, or the error, when the
 * condition that makes it succeed is removed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <linux/falloc.h>

#include "cfi-test-util.h"

#include "crashstate.h"
#include "trace-builder.h"
#include "trace-reader.h"

#define ORIG "/orig"            /* the traced directory of the "run" */

typedef struct {
    char *dir;
    char *snap;
    char *trace_path;
    CfiTraceBuilder *tb;
    CfiTrace *trace;
    CfiReplay *replay;
    CfiModelOpts opts;          /* the device; all zero: the default */
    guint n_out;
} Fx;

static int
setup(void **state)
{
    Fx *fx = g_new0(Fx, 1);
    fx->dir = tu_mkdtemp();
    fx->snap = g_build_filename(fx->dir, "snap", NULL);
    assert_int_equal(mkdir(fx->snap, 0755), 0);
    fx->trace_path = g_build_filename(fx->dir, "t.cfit", NULL);
    fx->tb = cfi_trace_builder_new(fx->trace_path);
    /* The bootloader-view tests below state the freeze-only rule (XFS);
       test_bootview_ext4_syncfs_checkpoints sets ext4's. */
    fx->opts.syncfs_log_only = TRUE;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    cfi_replay_free(fx->replay);
    cfi_trace_free(fx->trace);
    cfi_trace_builder_free(fx->tb);
    tu_rm_rf(fx->dir);
    g_free(fx->dir);
    g_free(fx->snap);
    g_free(fx->trace_path);
    g_free(fx);
    return 0;
}

/* Write the trace and interpret it; returns the number of records and
 * the count of warnings in *n_warnings. */
static guint
load_warned(Fx *fx, guint *n_warnings)
{
    g_autoptr(GError) error = NULL;
    assert_true(cfi_trace_builder_finish(fx->tb, &error));
    fx->trace = cfi_trace_open(fx->trace_path, &error);
    assert_non_null(fx->trace);
    fx->replay = cfi_replay_new_opts(fx->trace, ORIG, fx->snap, &fx->opts,
                                     &error);
    if (fx->replay == NULL)
        fail_msg("%s", error->message);
    *n_warnings = cfi_replay_get_warnings(fx->replay)->len;
    return cfi_replay_n_records(fx->replay);
}

/* Write the trace and interpret it; returns the number of records. */
static guint
load(Fx *fx)
{
    g_autoptr(GError) error = NULL;
    assert_true(cfi_trace_builder_finish(fx->tb, &error));
    fx->trace = cfi_trace_open(fx->trace_path, &error);
    assert_non_null(fx->trace);
    fx->replay = cfi_replay_new_opts(fx->trace, ORIG, fx->snap, &fx->opts,
                                     &error);
    if (fx->replay == NULL)
        fail_msg("%s", error->message);
    /* Every hand-made trace here is coherent: nothing to warn about. */
    GPtrArray *w = cfi_replay_get_warnings(fx->replay);
    if (w->len > 0)
        fail_msg("unexpected warning: %s", (char *)w->pdata[0]);
    return cfi_replay_n_records(fx->replay);
}

/* Materialise into a fresh directory, which the teardown removes. */
static char *
mat(Fx *fx, guint k, CfiModel model, guint64 seed, CfiCrashStats *stats)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = g_strdup_printf("out-%u", fx->n_out++);
    char *target = g_build_filename(fx->dir, name, NULL);
    CfiCrashStats local;
    if (!cfi_replay_materialise(fx->replay, k, model, seed, target,
                                stats != NULL ? stats : &local, &error))
        fail_msg("%s", error->message);
    return target;
}

static char *
mat_error(Fx *fx, guint k, CfiModel model)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = g_strdup_printf("out-%u", fx->n_out++);
    g_autofree char *target = g_build_filename(fx->dir, name, NULL);
    assert_false(cfi_replay_materialise(fx->replay, k, model, 0, target,
                                        NULL, &error));
    assert_non_null(error);
    return g_strdup(error->message);
}

static void
assert_file(const char *root, const char *rel, const char *content)
{
    g_autofree char *c = tu_read(root, rel, NULL);
    if (c == NULL)
        fail_msg("%s/%s is missing", root, rel);
    assert_string_equal(c, content);
}

/* The atomic-replace pattern without any sync:
 *   0 open /orig/f.tmp  1 write "new"  2 close  3 rename f.tmp -> f */
static guint
build_replace_nosync(Fx *fx)
{
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_open(fx->tb, ORIG "/f.tmp", 3, O_CREAT | O_WRONLY | O_EXCL, 0644);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_rename(fx->tb, ORIG "/f.tmp", ORIG "/f");
    return load(fx);
}

static void
test_unsynced_replace_process_kill(void **state)
{
    Fx *fx = *state;
    guint n = build_replace_nosync(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "f", "new");
    assert_false(tu_exists(t, "f.tmp"));
    assert_false(tu_exists(t, ".cfi-replay-staging"));
}

static void
test_unsynced_replace_process_kill_fail(void **state)
{
    /* Under strict the same cut keeps nothing of the run. */
    Fx *fx = *state;
    guint n = build_replace_nosync(fx);
    CfiCrashStats st;
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, &st);
    assert_file(t, "f", "old");
    assert_false(tu_exists(t, "f.tmp"));
    assert_int_equal(st.ops_persisted, 0);
    assert_int_equal(st.ops_dropped, st.ops_total);
    assert_true(st.ops_total >= 3);
}

/* The durable pattern: write, fsync file, rename, fsync dir (or syncfs).
 *   0 open dir  1 open tmp  2 write  3 fsync  4 close  5 rename  6 sync */
static guint
build_replace_synced(Fx *fx, gboolean use_syncfs, gboolean sync_dir)
{
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_open(fx->tb, ORIG "/f.tmp", 3, O_CREAT | O_WRONLY | O_EXCL, 0644);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_fsync(fx->tb, 3);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_rename(fx->tb, ORIG "/f.tmp", ORIG "/f");
    if (sync_dir && use_syncfs)
        cfi_tb_syncfs(fx->tb, 5);
    else if (sync_dir)
        cfi_tb_fsync(fx->tb, 5);
    return load(fx);
}

static void
check_survives_every_model(Fx *fx, guint n)
{
    for (int m = 0; m < CFI_MODEL_COUNT; m++) {
        for (guint64 seed = 0; seed < 4; seed++) {
            g_autofree char *t = mat(fx, n, m, seed, NULL);
            assert_file(t, "f", "new");
            assert_false(tu_exists(t, "f.tmp"));
        }
    }
}

static void
test_fsynced_survives_every_model(void **state)
{
    Fx *fx = *state;
    check_survives_every_model(fx, build_replace_synced(fx, FALSE, TRUE));
}

static void
test_fsynced_survives_every_model_fail(void **state)
{
    /* Without the directory fsync, strict loses the rename. */
    Fx *fx = *state;
    guint n = build_replace_synced(fx, FALSE, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "f", "old");
}

static void
test_syncfs_survives_every_model(void **state)
{
    Fx *fx = *state;
    check_survives_every_model(fx, build_replace_synced(fx, TRUE, TRUE));
}

static void
test_syncfs_survives_every_model_fail(void **state)
{
    /* Cut before the syncfs: the rename is not durable yet. */
    Fx *fx = *state;
    guint n = build_replace_synced(fx, TRUE, TRUE);
    g_autofree char *t = mat(fx, n - 1, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "f", "old");
    g_autofree char *pk = mat(fx, n - 1, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(pk, "f", "new");
}

/* ---- MODELS.md §3a: calls that went to an interposer ------------------ */

/* In-place overwrite of snapshot file f, made durable by a sync whose
 * record carries sync_flags (CFI_RF_INTERPOSED, CFI_RF_FORWARDS):
 *   0 open f  1 write "new"  2 fsync | fdatasync | syncfs | sync  3 close */
static guint
build_overwrite_synced(Fx *fx, guint16 op, guint32 sync_flags)
{
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_interposer(fx->tb, "fsync", "/usr/lib/libnosync.so",
                      sync_flags & CFI_RF_FORWARDS
                          ? CFI_IP_PROBED | CFI_IP_FORWARDS : CFI_IP_PROBED);
    cfi_tb_open(fx->tb, ORIG "/f", 3, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_set_flags(fx->tb, sync_flags);
    switch (op) {
    case CFI_OP_FSYNC:
        cfi_tb_fsync(fx->tb, 3);
        break;
    case CFI_OP_FDATASYNC:
        cfi_tb_fdatasync(fx->tb, 3);
        break;
    case CFI_OP_SYNCFS:
        cfi_tb_syncfs(fx->tb, 3);
        break;
    default:
        cfi_tb_sync(fx->tb);
        break;
    }
    cfi_tb_set_flags(fx->tb, 0);
    cfi_tb_close(fx->tb, 3);
    return load(fx);
}

static const guint16 sync_ops[] = {
    CFI_OP_FSYNC, CFI_OP_FDATASYNC, CFI_OP_SYNCFS, CFI_OP_SYNC,
};

static void
test_interposed_sync_persists_nothing(void **state)
{
    /* Strict, just after the sync: a swallowed sync made nothing durable. */
    for (guint i = 0; i < G_N_ELEMENTS(sync_ops); i++) {
        Fx *fx = *state;
        if (i > 0) {
            teardown(state);
            setup(state);
            fx = *state;
        }
        guint n = build_overwrite_synced(fx, sync_ops[i], CFI_RF_INTERPOSED);
        assert_int_equal(n, 4); /* the note is no record */
        g_autofree char *t = mat(fx, 3, CFI_MODEL_STRICT, 0, NULL);
        assert_file(t, "f", "old");
        g_autofree char *o = mat(fx, 3, CFI_MODEL_ORDERED, 0, NULL);
        assert_file(o, "f", "old");
    }
}

static void
test_interposed_sync_persists_nothing_fail(void **state)
{
    /* The same sync through the C library, or through an interposer the
     * probe saw reach the kernel, is a barrier. */
    const guint32 flags[] = { 0, CFI_RF_INTERPOSED | CFI_RF_FORWARDS };
    for (guint f = 0; f < G_N_ELEMENTS(flags); f++) {
        for (guint i = 0; i < G_N_ELEMENTS(sync_ops); i++) {
            if (f > 0 || i > 0) {
                teardown(state);
                setup(state);
            }
            Fx *fx = *state;
            guint n = build_overwrite_synced(fx, sync_ops[i], flags[f]);
            assert_int_equal(n, 4);
            g_autofree char *t = mat(fx, 3, CFI_MODEL_STRICT, 0, NULL);
            assert_file(t, "f", "new");
        }
    }
}

/* O_DSYNC open whose record carries open_flags, then one write:
 *   0 open f O_WRONLY|O_DSYNC  1 write "new"  2 close */
static guint
build_dsync_write(Fx *fx, guint32 open_flags)
{
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_set_flags(fx->tb, open_flags);
    cfi_tb_open(fx->tb, ORIG "/f", 3, O_WRONLY | O_DSYNC, 0);
    cfi_tb_set_flags(fx->tb, 0);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_close(fx->tb, 3);
    return load(fx);
}

static void
test_interposed_dsync_open_no_barrier(void **state)
{
    /* libeatmydata's open strips O_DSYNC: the write is not durable. */
    Fx *fx = *state;
    build_dsync_write(fx, CFI_RF_INTERPOSED);
    g_autofree char *t = mat(fx, 2, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "f", "old");
}

static void
test_interposed_dsync_open_no_barrier_fail(void **state)
{
    /* Opened through the C library, the O_DSYNC write is durable at once. */
    Fx *fx = *state;
    build_dsync_write(fx, 0);
    g_autofree char *t = mat(fx, 2, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "f", "new");
}

/* mkdir d, then fsync of the root directory.
 *   0 open root  1 mkdir d  2 fsync root */
static guint
build_mkdir(Fx *fx)
{
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_mkdir(fx->tb, ORIG "/d", 0755);
    cfi_tb_fsync(fx->tb, 5);
    return load(fx);
}

static void
test_dir_entry_after_dir_fsync(void **state)
{
    Fx *fx = *state;
    guint n = build_mkdir(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_true(tu_exists(t, "d"));
}

static void
test_dir_entry_after_dir_fsync_fail(void **state)
{
    Fx *fx = *state;
    guint n = build_mkdir(fx);
    g_autofree char *t = mat(fx, n - 1, CFI_MODEL_STRICT, 0, NULL);
    assert_false(tu_exists(t, "d"));
    g_autofree char *o = mat(fx, n - 1, CFI_MODEL_ORDERED, 0, NULL);
    assert_true(tu_exists(o, "d"));
}

/* ordered: a new file's name persists, its unsynced data does not. */
static void
test_ordered_new_file_zero_length(void **state)
{
    /* Without auto_da_alloc's flush (MODELS.md §4b). */
    Fx *fx = *state;
    fx->opts.noauto_da_alloc = TRUE;
    guint n = build_replace_nosync(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    gsize len = 99;
    g_autofree char *c = tu_read(t, "f", &len);
    assert_non_null(c);
    assert_int_equal(len, 0);
}

static void
test_ordered_new_file_zero_length_fail(void **state)
{
    /* After an fsync of the file the data is there under ordered too. */
    Fx *fx = *state;
    guint n = build_replace_synced(fx, FALSE, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t, "f", "new");
}

/* A partition written in place without a sync (MODELS.md 4c):
 *   0 open slot  1 write "NEW" at 0  2 write "new" at 4  3 close */
static guint
build_slot_overwrite(Fx *fx)
{
    tu_write(fx->snap, "slot", "OLD old", 0644);
    cfi_tb_open(fx->tb, ORIG "/slot", 3, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 3, 0, "NEW", 3);
    cfi_tb_write(fx->tb, 3, 4, "new", 3);
    cfi_tb_close(fx->tb, 3);
    return load(fx);
}

/* data_in_place: ordered keeps every write before the cut, in order. */
static void
test_data_in_place_ordered(void **state)
{
    Fx *fx = *state;
    fx->opts.data_in_place = TRUE;
    guint n = build_slot_overwrite(fx);
    g_autofree char *t2 = mat(fx, 2, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t2, "slot", "NEW old");     /* the cut inside: half new */
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t, "slot", "NEW new");
    /* strict is unchanged: nothing was fsynced. */
    g_autofree char *s = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(s, "slot", "OLD old");
}

static void
test_data_in_place_ordered_fail(void **state)
{
    /* A file on ext4 (the default device): ordered keeps the last durable
       contents, so the same cut shows the old ones. */
    Fx *fx = *state;
    guint n = build_slot_overwrite(fx);
    g_autofree char *t2 = mat(fx, 2, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t2, "slot", "OLD old");
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t, "slot", "OLD old");
}

/* fallocate then an unsynced write into the allocated range.
 *   0 open g (new)  1 fallocate 0..8192  2 write "data" at 100  3 close */
static guint
build_fallocate(Fx *fx, guint32 mode)
{
    cfi_tb_open(fx->tb, ORIG "/g", 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_fallocate(fx->tb, 3, mode, 0, 8192);
    cfi_tb_write(fx->tb, 3, 100, "data", 4);
    cfi_tb_close(fx->tb, 3);
    return load(fx);
}

static void
test_ordered_fallocate_zero_range(void **state)
{
    Fx *fx = *state;
    guint n = build_fallocate(fx, 0);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    gsize len = 0;
    g_autofree char *c = tu_read(t, "g", &len);
    assert_int_equal(len, 8192);
    for (gsize i = 0; i < len; i++)
        assert_int_equal(c[i], 0);
    g_autofree char *pk = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *p = tu_read(pk, "g", &len);
    assert_int_equal(len, 8192);
    assert_memory_equal(p + 100, "data", 4);
}

static void
test_ordered_fallocate_zero_range_fail(void **state)
{
    /* With KEEP_SIZE no length was made durable: the file stays empty. */
    Fx *fx = *state;
    guint n = build_fallocate(fx, FALLOC_FL_KEEP_SIZE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    gsize len = 99;
    g_autofree char *c = tu_read(t, "g", &len);
    assert_int_equal(len, 0);
}

/* torn: a 4-sector overwrite of a synced 4-sector file is in flight.
 *   0 open h  1 write A*2048  2 fsync  3 write B*2048 (the cut)  4 close */
static guint
build_torn(Fx *fx, gsize second_len)
{
    char a[2048], b[2048];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    cfi_tb_open(fx->tb, ORIG "/h", 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_write(fx->tb, 3, 0, a, sizeof a);
    cfi_tb_fsync(fx->tb, 3);
    cfi_tb_write(fx->tb, 3, 0, b, second_len);
    cfi_tb_close(fx->tb, 3);
    return load(fx);
}

/* "ABBA": which sectors of h hold the new bytes. */
static char *
sector_pattern(const char *root)
{
    gsize len = 0;
    g_autofree char *c = tu_read(root, "h", &len);
    assert_int_equal(len, 2048);
    char *p = g_new0(char, 5);
    for (int s = 0; s < 4; s++) {
        p[s] = c[s * 512];
        for (int i = 0; i < 512; i++)
            assert_int_equal(c[s * 512 + i], p[s]); /* sector-granular */
    }
    return p;
}

static void
test_torn_sector_mix(void **state)
{
    Fx *fx = *state;
    build_torn(fx, 2048);
    CfiCrashStats st;
    g_autofree char *t1 = mat(fx, 3, CFI_MODEL_TORN, 7, &st);
    assert_int_equal(st.writes_torn, 1);
    g_autofree char *t2 = mat(fx, 3, CFI_MODEL_TORN, 7, NULL);
    g_autofree char *p1 = sector_pattern(t1), *p2 = sector_pattern(t2);
    assert_string_equal(p1, p2);                 /* same seed, same mix */
    assert_non_null(strchr(p1, 'A'));            /* not all sectors */
    assert_non_null(strchr(p1, 'B'));            /* at least one */
    gboolean differs = FALSE;
    for (guint64 seed = 8; seed < 40 && !differs; seed++) {
        g_autofree char *t = mat(fx, 3, CFI_MODEL_TORN, seed, NULL);
        g_autofree char *p = sector_pattern(t);
        differs = strcmp(p, p1) != 0;
        assert_non_null(strchr(p, 'A'));
        assert_non_null(strchr(p, 'B'));
    }
    assert_true(differs);
}

static void
test_torn_sector_mix_fail(void **state)
{
    /* Ordered at the same cut drops the write whole; torn at a cut that
     * is not a write tears nothing. */
    Fx *fx = *state;
    build_torn(fx, 2048);
    g_autofree char *o = mat(fx, 3, CFI_MODEL_ORDERED, 7, NULL);
    g_autofree char *po = sector_pattern(o);
    assert_string_equal(po, "AAAA");
    CfiCrashStats st;
    g_autofree char *t = mat(fx, 2, CFI_MODEL_TORN, 7, &st);
    assert_int_equal(st.writes_torn, 0);
}

static void
test_torn_single_sector(void **state)
{
    /* A write inside one sector is atomic: it persists whole. */
    Fx *fx = *state;
    build_torn(fx, 512);
    CfiCrashStats st;
    g_autofree char *t = mat(fx, 3, CFI_MODEL_TORN, 1, &st);
    g_autofree char *p = sector_pattern(t);
    assert_string_equal(p, "BAAA");
    assert_int_equal(st.writes_torn, 1);
}

static void
test_torn_single_sector_fail(void **state)
{
    Fx *fx = *state;
    build_torn(fx, 512);
    g_autofree char *t = mat(fx, 3, CFI_MODEL_ORDERED, 1, NULL);
    g_autofree char *p = sector_pattern(t);
    assert_string_equal(p, "AAAA");
}

/* reorder: eight independent unsynced files, then nothing durable. */
static guint
build_many(Fx *fx)
{
    for (int i = 0; i < 8; i++) {
        g_autofree char *p = g_strdup_printf(ORIG "/m%d", i);
        cfi_tb_mkdir(fx->tb, p, 0755);
    }
    return load(fx);
}

static char *
present_mask(const char *root)
{
    char *m = g_new0(char, 9);
    for (int i = 0; i < 8; i++) {
        g_autofree char *rel = g_strdup_printf("m%d", i);
        m[i] = tu_exists(root, rel) ? '1' : '0';
    }
    return m;
}

static void
test_reorder_deterministic(void **state)
{
    Fx *fx = *state;
    guint n = build_many(fx);
    g_autofree char *a = mat(fx, n, CFI_MODEL_REORDER, 42, NULL);
    g_autofree char *b = mat(fx, n, CFI_MODEL_REORDER, 42, NULL);
    g_autofree char *ma = present_mask(a), *mb = present_mask(b);
    assert_string_equal(ma, mb);
    gboolean differs = FALSE;
    for (guint64 seed = 0; seed < 16 && !differs; seed++) {
        g_autofree char *c = mat(fx, n, CFI_MODEL_REORDER, seed, NULL);
        g_autofree char *mc = present_mask(c);
        differs = strcmp(mc, ma) != 0;
    }
    assert_true(differs);
}

static void
test_reorder_deterministic_fail(void **state)
{
    /* Strict, with nothing durable, keeps none of them, for any seed. */
    Fx *fx = *state;
    guint n = build_many(fx);
    for (guint64 seed = 0; seed < 4; seed++) {
        g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, seed, NULL);
        g_autofree char *m = present_mask(t);
        assert_string_equal(m, "00000000");
    }
}

static void
test_reorder_skips_broken_preconditions(void **state)
{
    /* mkdir d; create d/x: in states where mkdir was not kept, the create
     * is skipped, never an error, and never created elsewhere. */
    Fx *fx = *state;
    cfi_tb_mkdir(fx->tb, ORIG "/d", 0755);
    cfi_tb_open(fx->tb, ORIG "/d/x", 3, O_CREAT | O_WRONLY, 0644);
    guint n = load(fx);
    guint skipped = 0;
    for (guint64 seed = 0; seed < 16; seed++) {
        CfiCrashStats st;
        g_autofree char *t = mat(fx, n, CFI_MODEL_REORDER, seed, &st);
        if (!tu_exists(t, "d"))
            assert_false(tu_exists(t, "x"));
        skipped += st.ops_skipped;
    }
    assert_true(skipped > 0);
}

static void
test_reorder_skips_broken_preconditions_fail(void **state)
{
    /* process-kill never needs to skip. */
    Fx *fx = *state;
    cfi_tb_mkdir(fx->tb, ORIG "/d", 0755);
    cfi_tb_open(fx->tb, ORIG "/d/x", 3, O_CREAT | O_WRONLY, 0644);
    guint n = load(fx);
    CfiCrashStats st;
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, &st);
    assert_int_equal(st.ops_skipped, 0);
    assert_true(tu_exists(t, "d/x"));
}

/* O_TMPFILE + linkat(/proc/self/fd/N) publishing.
 *   0 open dir  1 tmpfile  2 write  3 fsync  4 link  5 fsync dir */
static guint
build_tmpfile(Fx *fx)
{
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_open_tmpfile(fx->tb, ORIG, 3, 0644);
    cfi_tb_write(fx->tb, 3, 0, "object", 6);
    cfi_tb_fsync(fx->tb, 3);
    cfi_tb_link_tmpfile(fx->tb, 3, ORIG "/obj");
    cfi_tb_fsync(fx->tb, 5);
    return load(fx);
}

static void
test_tmpfile_publish(void **state)
{
    Fx *fx = *state;
    guint n = build_tmpfile(fx);
    for (int m = 0; m < CFI_MODEL_COUNT; m++) {
        g_autofree char *t = mat(fx, n, m, 3, NULL);
        assert_file(t, "obj", "object");
        struct stat st;
        g_autofree char *p = g_build_filename(t, "obj", NULL);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
    }
}

static void
test_tmpfile_publish_fail(void **state)
{
    /* Before the link the inode is anonymous: no name, nothing left. */
    Fx *fx = *state;
    guint n = build_tmpfile(fx);
    g_autofree char *t = mat(fx, n - 2, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *d = tu_tree_digest(t);
    assert_null(strstr(d, "obj"));
    g_autofree char *s = mat(fx, n - 1, CFI_MODEL_STRICT, 0, NULL);
    assert_false(tu_exists(s, "obj"));
}

/* In-place overwrite of a snapshot file, synced. */
static guint
build_overwrite(Fx *fx)
{
    tu_write(fx->snap, "keep", "untouched", 0600);
    tu_write(fx->snap, "conf", "version=1", 0640);
    g_autofree char *snapconf = g_build_filename(fx->snap, "conf", NULL);
    g_autofree char *snaplink = g_build_filename(fx->snap, "conf.lnk", NULL);
    assert_int_equal(link(snapconf, snaplink), 0);
    cfi_tb_open(fx->tb, ORIG "/conf", 3, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 3, 8, "2", 1);
    cfi_tb_fchmod(fx->tb, 3, 0644);
    cfi_tb_fsync(fx->tb, 3);
    return load(fx);
}

static ino_t
inode_of(const char *dir, const char *rel)
{
    g_autofree char *p = g_build_filename(dir, rel, NULL);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    return st.st_ino;
}

static void
test_hardlink_break_keeps_snapshot(void **state)
{
    Fx *fx = *state;
    guint n = build_overwrite(fx);
    g_autofree char *before = tu_tree_digest(fx->snap);
    for (int m = 0; m < CFI_MODEL_COUNT; m++) {
        g_autofree char *t = mat(fx, n, m, 0, NULL);
        assert_file(t, "conf", "version=2");
        assert_file(t, "conf.lnk", "version=2"); /* still one inode */
        assert_int_equal(inode_of(t, "conf"), inode_of(t, "conf.lnk"));
        assert_true(inode_of(t, "conf") != inode_of(fx->snap, "conf"));
    }
    g_autofree char *after = tu_tree_digest(fx->snap);
    assert_string_equal(before, after);
    assert_file(fx->snap, "conf", "version=1");
}

static void
test_hardlink_break_keeps_snapshot_fail(void **state)
{
    /* A file no kept operation changes is shared, not copied: that is
     * what makes a state cheap, and why the break above is needed. */
    Fx *fx = *state;
    guint n = build_overwrite(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_int_equal(inode_of(t, "keep"), inode_of(fx->snap, "keep"));
    g_autofree char *s = mat(fx, 1, CFI_MODEL_STRICT, 0, NULL);
    assert_int_equal(inode_of(s, "conf"), inode_of(fx->snap, "conf"));
}

static void
test_same_name_same_tree(void **state)
{
    Fx *fx = *state;
    tu_write(fx->snap, "sub/a", "a", 0644);
    cfi_tb_mkdir(fx->tb, ORIG "/sub/new", 0700);
    cfi_tb_symlink(fx->tb, "../a", ORIG "/sub/new/ln");
    cfi_tb_open(fx->tb, ORIG "/sub/b", 3, O_CREAT | O_WRONLY, 0600);
    char buf[3000];
    memset(buf, 'x', sizeof buf);
    cfi_tb_write(fx->tb, 3, 0, buf, sizeof buf);
    cfi_tb_rename(fx->tb, ORIG "/sub/a", ORIG "/sub/c");
    cfi_tb_write(fx->tb, 3, 100, buf, 1500);
    guint n = load(fx);
    for (int m = 0; m < CFI_MODEL_COUNT; m++) {
        for (guint k = 0; k <= n; k++) {
            g_autofree char *t1 = mat(fx, k, m, 99, NULL);
            g_autofree char *t2 = mat(fx, k, m, 99, NULL);
            g_autofree char *d1 = tu_tree_digest(t1);
            g_autofree char *d2 = tu_tree_digest(t2);
            assert_string_equal(d1, d2);
        }
    }
}

static void
test_same_name_same_tree_fail(void **state)
{
    /* The digest does see a difference when there is one. */
    Fx *fx = *state;
    tu_write(fx->snap, "a", "a", 0644);
    cfi_tb_rename(fx->tb, ORIG "/a", ORIG "/c");
    guint n = load(fx);
    g_autofree char *t1 = mat(fx, 0, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *t2 = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *d1 = tu_tree_digest(t1);
    g_autofree char *d2 = tu_tree_digest(t2);
    assert_string_not_equal(d1, d2);
}

/*
 * A farm kept between states (replay-farm.c): a trace that moves a
 * snapshot directory away, writes into it and moves it back, removes,
 * changes and adds files and directories, and changes a directory's mode.
 *   0 mkdir n  1 open n/new  2 write  3 close  4 rename a -> a2
 *   5 open a2/z  6 write  7 close  8 unlink a2/y  9 open f  10 write
 *   11 close  12 rename a2 -> a  13 rmdir b  14 symlink s -> f
 *   15 open d  16 fchmod d 0700  17 close
 */
static guint
build_farm_trace(Fx *fx)
{
    tu_write(fx->snap, "a/x", "x", 0644);
    tu_write(fx->snap, "a/y", "y", 0600);
    tu_write(fx->snap, "f", "f", 0644);
    tu_write(fx->snap, "d/e", "e", 0644);
    g_autofree char *b = g_build_filename(fx->snap, "b", NULL);
    assert_int_equal(mkdir(b, 0755), 0);
    g_autofree char *x = g_build_filename(fx->snap, "a/x", NULL);
    g_autofree char *h = g_build_filename(fx->snap, "d/h", NULL);
    assert_int_equal(link(x, h), 0);
    g_autofree char *l = g_build_filename(fx->snap, "l", NULL);
    assert_int_equal(symlink("a/x", l), 0);
    cfi_tb_mkdir(fx->tb, ORIG "/n", 0755);
    cfi_tb_open(fx->tb, ORIG "/n/new", 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_rename(fx->tb, ORIG "/a", ORIG "/a2");
    cfi_tb_open(fx->tb, ORIG "/a2/z", 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_write(fx->tb, 3, 0, "z", 1);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_unlink(fx->tb, ORIG "/a2/y");
    cfi_tb_open(fx->tb, ORIG "/f", 3, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 3, 0, "F", 1);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_rename(fx->tb, ORIG "/a2", ORIG "/a");
    cfi_tb_rmdir(fx->tb, ORIG "/b");
    cfi_tb_symlink(fx->tb, "f", ORIG "/s");
    cfi_tb_open(fx->tb, ORIG "/d", 6, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_fchmod(fx->tb, 6, 0700);
    cfi_tb_close(fx->tb, 6);
    return load(fx);
}

/* State k built over the farm, checked against the same state built
 * fresh, then the farm restored and checked against the snapshot. */
static void
farm_state(Fx *fx, CfiFarm *farm, guint k, CfiModel model)
{
    g_autoptr(GError) error = NULL;
    if (!cfi_replay_materialise_farm(fx->replay, k, model, 0, farm, NULL,
                                     &error))
        fail_msg("%s", error->message);
    assert_true(cfi_farm_is_ready(farm, fx->replay));
    g_autofree char *fresh = mat(fx, k, model, 0, NULL);
    g_autofree char *d1 = tu_tree_digest(cfi_farm_get_path(farm));
    g_autofree char *d2 = tu_tree_digest(fresh);
    assert_string_equal(d1, d2);
    assert_true(cfi_farm_restore(farm, NULL, &error));
    guint diffs = 99;
    g_autofree char *first = NULL;
    assert_true(cfi_farm_verify(farm, &diffs, &first, &error));
    if (diffs != 0)
        fail_msg("after state %u: %u difference(s): %s", k, diffs, first);
}

static void
test_farm_between_states(void **state)
{
    /* Every cut, forwards then backwards, under two models: each state
       over the farm is the fresh one, and each restore gives back the
       snapshot's farm (directories and files by identity). */
    Fx *fx = *state;
    guint n = build_farm_trace(fx);
    g_autofree char *path = g_build_filename(fx->dir, "farm", NULL);
    g_autoptr(CfiFarm) farm = cfi_farm_new(path);
    CfiModel models[] = { CFI_MODEL_PROCESS_KILL, CFI_MODEL_ORDERED };
    for (guint m = 0; m < G_N_ELEMENTS(models); m++) {
        for (guint k = 0; k <= n; k++)
            farm_state(fx, farm, k, models[m]);
        for (guint k = n + 1; k-- > 0;)
            farm_state(fx, farm, k, models[m]);
    }
    /* The moved-and-back directory holds only the snapshot's names. */
    assert_false(tu_exists(path, "a/z"));
    assert_true(tu_exists(path, "a/y"));
    assert_file(path, "f", "f");
}

static void
test_farm_between_states_fail(void **state)
{
    /* A change the farm did not record (made behind its back) is not
       undone by the restore, and the verify names it. */
    Fx *fx = *state;
    guint n = build_farm_trace(fx);
    g_autofree char *path = g_build_filename(fx->dir, "farm", NULL);
    g_autoptr(CfiFarm) farm = cfi_farm_new(path);
    farm_state(fx, farm, n, CFI_MODEL_PROCESS_KILL);
    tu_write(path, "a/stray", "s", 0644);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_farm_restore(farm, NULL, &error));
    guint diffs = 0;
    g_autofree char *first = NULL;
    assert_true(cfi_farm_verify(farm, &diffs, &first, &error));
    assert_int_equal(diffs, 1);
    assert_non_null(strstr(first, "a/stray"));
}

static void
test_farm_knows_what_is_unchanged(void **state)
{
    /* What the oracle may take from an earlier judgement: a subtree no
       operation of the state reached, an entry no operation named. */
    Fx *fx = *state;
    tu_write(fx->snap, "u/v/w", "w", 0644);
    guint n = build_farm_trace(fx);
    g_autofree char *path = g_build_filename(fx->dir, "farm", NULL);
    g_autoptr(CfiFarm) farm = cfi_farm_new(path);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_replay_materialise_farm(fx->replay, n,
                                            CFI_MODEL_PROCESS_KILL, 0, farm,
                                            NULL, &error));
    assert_true(cfi_farm_subtree_unchanged(farm, "u", inode_of(path, "u")));
    assert_true(cfi_farm_subtree_unchanged(farm, "u/v", inode_of(path, "u/v")));
    /* a/x: its directory went away and came back, the entry was not named. */
    assert_true(cfi_farm_entry_unchanged(farm, "a", inode_of(path, "a"), "x"));
    /* d/e: d's mode changed, not its entries. */
    assert_true(cfi_farm_entry_unchanged(farm, "d", inode_of(path, "d"), "e"));
    /* An entry the snapshot lacks, never named: absent, as in it. */
    assert_true(cfi_farm_entry_unchanged(farm, "d", inode_of(path, "d"), "q"));
    g_autofree char *u = g_build_filename(path, "u", NULL);
    g_autofree char *u2 = g_build_filename(fx->dir, "u-elsewhere", NULL);
    assert_int_equal(rename(u, u2), 0);
    assert_int_equal(mkdir(u, 0755), 0);
    /* Not the farm's directory (a new inode at the path): unsure. */
    assert_false(cfi_farm_subtree_unchanged(farm, "u", inode_of(path, "u")));
    assert_int_equal(rmdir(u), 0);
    assert_int_equal(rename(u2, u), 0);
    assert_true(cfi_farm_restore(farm, NULL, &error));
}

static void
test_farm_knows_what_is_unchanged_fail(void **state)
{
    /* Twin: every directory and entry the state changed is said changed,
       and so is every ancestor of a changed directory. */
    Fx *fx = *state;
    tu_write(fx->snap, "u/v/w", "w", 0644);
    guint n = build_farm_trace(fx);
    g_autofree char *path = g_build_filename(fx->dir, "farm", NULL);
    g_autoptr(CfiFarm) farm = cfi_farm_new(path);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_replay_materialise_farm(fx->replay, n,
                                            CFI_MODEL_PROCESS_KILL, 0, farm,
                                            NULL, &error));
    assert_false(cfi_farm_subtree_unchanged(farm, "", inode_of(path, "")));
    assert_false(cfi_farm_subtree_unchanged(farm, "a", inode_of(path, "a")));
    assert_false(cfi_farm_subtree_unchanged(farm, "d", inode_of(path, "d")));
    /* f was written (a new inode), a/y removed, a/z made, s made, d's
       attributes changed (its entry in the root). */
    guint64 root = inode_of(path, "");
    assert_false(cfi_farm_entry_unchanged(farm, "", root, "f"));
    assert_false(cfi_farm_entry_unchanged(farm, "a", inode_of(path, "a"), "y"));
    assert_false(cfi_farm_entry_unchanged(farm, "a", inode_of(path, "a"), "z"));
    assert_false(cfi_farm_entry_unchanged(farm, "", root, "s"));
    assert_false(cfi_farm_entry_unchanged(farm, "", root, "d"));
    /* A wrong inode for the directory: not the farm's. */
    assert_false(cfi_farm_entry_unchanged(farm, "d", root, "e"));
    assert_true(cfi_farm_restore(farm, NULL, &error));
}

/* A run that a farm moving from cut to cut must follow: an O_TMPFILE
 * object written, made durable later (under ordered the cut after the
 * fsync keeps an earlier write: the farm cannot move there), then named;
 * a file made, chmodded, linked and unlinked; a directory moved; a
 * snapshot file changed late (its copy needs its snapshot names);
 * a directory removed, a symlink made. */
static guint
build_advance_trace(Fx *fx)
{
    tu_write(fx->snap, "a/x", "x", 0644);
    tu_write(fx->snap, "f", "f", 0644);
    tu_write(fx->snap, "g", "g", 0600);
    g_autofree char *b = g_build_filename(fx->snap, "b", NULL);
    assert_int_equal(mkdir(b, 0755), 0);
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_open_tmpfile(fx->tb, ORIG, 3, 0644);
    cfi_tb_write(fx->tb, 3, 0, "object", 6);
    cfi_tb_mkdir(fx->tb, ORIG "/n", 0755);
    cfi_tb_fsync(fx->tb, 3);
    cfi_tb_link_tmpfile(fx->tb, 3, ORIG "/n/obj");
    cfi_tb_close(fx->tb, 3);
    cfi_tb_open(fx->tb, ORIG "/n/new", 4, O_CREAT | O_WRONLY, 0640);
    cfi_tb_write(fx->tb, 4, 0, "new", 3);
    cfi_tb_fchmod(fx->tb, 4, 0600);
    cfi_tb_close(fx->tb, 4);
    cfi_tb_link(fx->tb, ORIG "/n/new", ORIG "/n/new2");
    cfi_tb_rename(fx->tb, ORIG "/a", ORIG "/a2");
    cfi_tb_open(fx->tb, ORIG "/f", 6, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 6, 0, "F", 1);
    cfi_tb_fsync(fx->tb, 6);
    cfi_tb_close(fx->tb, 6);
    cfi_tb_unlink(fx->tb, ORIG "/n/new");
    cfi_tb_rmdir(fx->tb, ORIG "/b");
    cfi_tb_symlink(fx->tb, "f", ORIG "/s");
    cfi_tb_fsync(fx->tb, 5);
    return load(fx);
}

/* Every name under root with its owner, and which names share an inode
 * (the digest has neither). */
static void
owners_and_links(GString *out, GHashTable *groups, const char *root,
                 const char *rel)
{
    g_autofree char *p = rel[0] ? g_build_filename(root, rel, NULL)
                                : g_strdup(root);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    g_string_append_printf(out, "%s %u:%u\n", rel, (guint)st.st_uid,
                           (guint)st.st_gid);
    if (S_ISREG(st.st_mode)) {
        GString *g = g_hash_table_lookup(groups, GSIZE_TO_POINTER(st.st_ino));
        if (g == NULL) {
            g = g_string_new(NULL);
            g_hash_table_insert(groups, GSIZE_TO_POINTER(st.st_ino), g);
        }
        g_string_append_printf(g, "%s ", rel);
    }
    if (!S_ISDIR(st.st_mode))
        return;
    g_autoptr(GPtrArray) names = tu_sorted_names(p);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *sub = rel[0]
            ? g_strconcat(rel, "/", names->pdata[i], NULL)
            : g_strdup(names->pdata[i]);
        owners_and_links(out, groups, root, sub);
    }
}

static void
string_free(gpointer s)
{
    g_string_free(s, TRUE);
}

static char *
tree_identity(const char *root)
{
    g_autofree char *digest = tu_tree_digest(root);
    GString *out = g_string_new(digest);
    g_autoptr(GHashTable) groups = g_hash_table_new_full(NULL, NULL, NULL,
                                                         string_free);
    owners_and_links(out, groups, root, "");
    g_autoptr(GPtrArray) lines = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, groups);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(lines, ((GString *)v)->str);
    g_ptr_array_sort(lines, tu_cmp_names);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(out, "[%s]\n", (char *)lines->pdata[i]);
    return g_string_free(out, FALSE);
}

static void
stats_equal(const CfiCrashStats *a, const CfiCrashStats *b)
{
    assert_int_equal(a->ops_total, b->ops_total);
    assert_int_equal(a->ops_persisted, b->ops_persisted);
    assert_int_equal(a->ops_dropped, b->ops_dropped);
    assert_int_equal(a->ops_skipped, b->ops_skipped);
    assert_int_equal(a->writes_torn, b->writes_torn);
}

static void
test_farm_advances_cut_to_cut(void **state)
{
    /* Every cut in order over one farm that moves from a cut to the next
       (restoring only when it cannot), under four models: each state is
       the fresh one (entries, modes, bytes, owners, shared inodes) with
       the same statistics; then the farm restores to the snapshot. */
    Fx *fx = *state;
    guint n = build_advance_trace(fx);
    CfiModel models[] = { CFI_MODEL_PROCESS_KILL, CFI_MODEL_ORDERED,
                          CFI_MODEL_STRICT, CFI_MODEL_REORDER };
    for (guint m = 0; m < G_N_ELEMENTS(models); m++) {
        g_autofree char *name = g_strdup_printf("farm-%u", m);
        g_autofree char *path = g_build_filename(fx->dir, name, NULL);
        g_autoptr(CfiFarm) farm = cfi_farm_new(path);
        cfi_farm_set_advance(farm, TRUE);
        /* moved[k]: state k was reached by moving the farm from k - 1
           (a marker left in the state's own directory n/ survived; a
           farm built again has not got it). */
        gboolean moved[24] = { FALSE };
        assert_true(n < G_N_ELEMENTS(moved));
        for (guint k = 0; k <= n; k++) {
            g_autoptr(GError) error = NULL;
            CfiCrashStats a, b;
            if (!cfi_replay_materialise_farm(fx->replay, k, models[m], 3,
                                             farm, &a, &error))
                fail_msg("%s", error->message);
            assert_int_equal(cfi_farm_state_cut(farm), k);
            g_autofree char *marker = g_build_filename(path, "n", ".moved",
                                                       NULL);
            moved[k] = g_file_test(marker, G_FILE_TEST_EXISTS);
            if (moved[k])
                assert_int_equal(unlink(marker), 0);
            g_autofree char *fresh = mat(fx, k, models[m], 3, &b);
            g_autofree char *d1 = tree_identity(path);
            g_autofree char *d2 = tree_identity(fresh);
            if (strcmp(d1, d2) != 0)
                fail_msg("model %s, cut %u: moved farm\n%s\nfresh\n%s",
                         cfi_model_to_string(models[m]), k, d1, d2);
            stats_equal(&a, &b);
            if (tu_exists(path, "n"))
                tu_write(path, "n/.moved", "", 0644);
        }
        /* It did move.  n/ is made by record 3 (cut 4).  Under
           process-kill the farm moves from cut 4 to 14 without making n/
           again; at cut 15 the write to the snapshot file f (record 14)
           needs f copied under its snapshot names, so it was built
           again.  Under ordered, cut 5 keeps the O_TMPFILE's write
           (record 2, made durable by record 4): built again there. */
        /* (Only root's farms move: a staged file's final mode could
           forbid the next cut's write to it.) */
        if (models[m] == CFI_MODEL_PROCESS_KILL && geteuid() == 0) {
            for (guint k = 5; k <= 14; k++)
                assert_true(moved[k]);
            assert_false(moved[15]);
        }
        if (models[m] == CFI_MODEL_ORDERED)
            assert_false(moved[5]);
        g_autoptr(GError) error = NULL;
        g_autofree char *last = g_build_filename(path, "n", ".moved", NULL);
        (void)unlink(last);
        assert_true(cfi_farm_restore(farm, NULL, &error));
        guint diffs = 99;
        g_autofree char *first = NULL;
        assert_true(cfi_farm_verify(farm, &diffs, &first, &error));
        if (diffs != 0)
            fail_msg("after the restore: %u difference(s): %s", diffs, first);
        g_autofree char *parked = g_strconcat(path, ".staging", NULL);
        assert_false(g_file_test(parked, G_FILE_TEST_EXISTS));
    }
}

static void
test_farm_advances_cut_to_cut_fail(void **state)
{
    /* Twin: a change behind the farm's back while it holds a state is
       carried to the next cut, and the comparison sees it. */
    Fx *fx = *state;
    guint n = build_advance_trace(fx);
    g_autofree char *path = g_build_filename(fx->dir, "farm", NULL);
    g_autoptr(CfiFarm) farm = cfi_farm_new(path);
    cfi_farm_set_advance(farm, TRUE);
    g_autoptr(GError) error = NULL;
    assert_true(cfi_replay_materialise_farm(fx->replay, n - 2,
                                            CFI_MODEL_PROCESS_KILL, 0, farm,
                                            NULL, &error));
    tu_write(path, "n/stray", "s", 0644);
    assert_true(cfi_replay_materialise_farm(fx->replay, n,
                                            CFI_MODEL_PROCESS_KILL, 0, farm,
                                            NULL, &error));
    g_autofree char *fresh = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *d1 = tree_identity(path);
    g_autofree char *d2 = tree_identity(fresh);
    assert_string_not_equal(d1, d2);
    assert_non_null(strstr(d1, "n/stray"));
}

static void
test_digest_mode_without_data_needs(void **state)
{
    /* A digest-mode trace is fine while no kept write needs its bytes
       (none does under ordered without auto_da_alloc's flush). */
    Fx *fx = *state;
    fx->opts.noauto_da_alloc = TRUE;
    cfi_trace_builder_set_data_mode(fx->tb, CFI_DATA_DIGEST);
    guint n = build_replace_nosync(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_true(tu_exists(t, "f"));
}

static void
test_digest_mode_without_data_needs_fail(void **state)
{
    Fx *fx = *state;
    cfi_trace_builder_set_data_mode(fx->tb, CFI_DATA_DIGEST);
    guint n = build_replace_nosync(fx);
    g_autofree char *msg = mat_error(fx, n, CFI_MODEL_PROCESS_KILL);
    assert_non_null(strstr(msg, "not in trace"));
    assert_non_null(strstr(msg, fx->trace_path));
    assert_non_null(strstr(msg, "process-kill"));
}

static void
test_outside_root_ignored(void **state)
{
    Fx *fx = *state;
    cfi_tb_open(fx->tb, "/var/tmp/buf", 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_write(fx->tb, 3, 0, "zz", 2);
    cfi_tb_mkdir(fx->tb, "/elsewhere/d", 0755);
    cfi_tb_mkdir(fx->tb, ORIG "/../orig2", 0755);
    guint n = load(fx);
    assert_int_equal(cfi_replay_n_ops(fx->replay), 0);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *d = tu_tree_digest(t);
    assert_null(strstr(d, "buf"));
}

static void
test_outside_root_ignored_fail(void **state)
{
    /* A path inside, through "..", is not ignored. */
    Fx *fx = *state;
    cfi_tb_mkdir(fx->tb, ORIG "/x/../d", 0755);
    guint n = load(fx);
    assert_int_equal(cfi_replay_n_ops(fx->replay), 1);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_true(tu_exists(t, "d"));
}

static void
test_unknown_fd_warns(void **state)
{
    /* A write on an fd never seen opened, without path or identity, is
     * ignored; the twin shows the warning that says so. */
    Fx *fx = *state;
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_open(fx->tb, ORIG "/f", 3, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    guint n = load(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "f", "new");
}

static void
test_unknown_fd_warns_fail(void **state)
{
    Fx *fx = *state;
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_write(fx->tb, 9, 0, "new", 3);
    assert_true(cfi_trace_builder_finish(fx->tb, NULL));
    fx->trace = cfi_trace_open(fx->trace_path, NULL);
    fx->replay = cfi_replay_new(fx->trace, ORIG, fx->snap, NULL);
    GPtrArray *w = cfi_replay_get_warnings(fx->replay);
    assert_int_equal(w->len, 1);
    assert_non_null(strstr(w->pdata[0], "fd 9 of pid 1000 was never seen"));
    g_autofree char *t = mat(fx, 1, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "f", "old");
}

static void
test_failed_calls_do_nothing(void **state)
{
    Fx *fx = *state;
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_failed(fx->tb, CFI_OP_UNLINK, "unlink", -1, ORIG "/f", EIO);
    guint n = load(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "f", "old");
}

static void
test_failed_calls_do_nothing_fail(void **state)
{
    Fx *fx = *state;
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_unlink(fx->tb, ORIG "/f");
    guint n = load(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_false(tu_exists(t, "f"));
}

static void
test_names(void **state)
{
    (void)state;
    g_autofree char *n = cfi_crashstate_name("pull.cfit", 1234,
                                             CFI_MODEL_ORDERED, 7);
    assert_string_equal(n, "pull.cfit@1234:ordered:7");
    g_autofree char *path = NULL;
    guint k = 0;
    CfiModel m = CFI_MODEL_STRICT;
    guint64 seed = 0;
    assert_true(cfi_crashstate_parse_name("/a@b/pull.cfit@12:torn:"
                                          "18446744073709551615",
                                          &path, &k, &m, &seed, NULL));
    assert_string_equal(path, "/a@b/pull.cfit");
    assert_int_equal(k, 12);
    assert_int_equal(m, CFI_MODEL_TORN);
    assert_true(seed == G_MAXUINT64);
    for (int i = 0; i < CFI_MODEL_COUNT; i++) {
        CfiModel back;
        assert_true(cfi_model_from_string(cfi_model_to_string(i), &back,
                                          NULL));
        assert_int_equal(back, i);
    }
}

static void
test_names_fail(void **state)
{
    (void)state;
    const char *bad[] = { "pull.cfit", "pull.cfit@x:ordered:1",
                          "pull.cfit@1:fast:1", "pull.cfit@1:ordered",
                          "@1:ordered:1", "p@1:ordered:-1" };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        assert_false(cfi_crashstate_parse_name(bad[i], NULL, NULL, NULL, NULL,
                                               &error));
        assert_non_null(strstr(error->message, bad[i]));
    }
    g_autoptr(GError) error = NULL;
    CfiModel m;
    assert_false(cfi_model_from_string("eventual", &m, &error));
    assert_non_null(strstr(error->message, "'eventual'"));
}

static void
test_target_must_be_empty(void **state)
{
    Fx *fx = *state;
    guint n = build_replace_nosync(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_true(tu_exists(t, "f"));
}

static void
test_target_must_be_empty_fail(void **state)
{
    Fx *fx = *state;
    guint n = build_replace_nosync(fx);
    g_autofree char *t = g_build_filename(fx->dir, "busy", NULL);
    tu_write(t, "x", "x", 0644);
    g_autoptr(GError) error = NULL;
    assert_false(cfi_replay_materialise(fx->replay, n, CFI_MODEL_STRICT, 0,
                                        t, NULL, &error));
    assert_non_null(strstr(error->message, "not empty"));
    assert_non_null(strstr(error->message, t));
    g_clear_error(&error);
    g_autofree char *u = g_build_filename(fx->dir, "past", NULL);
    assert_false(cfi_replay_materialise(fx->replay, n + 1, CFI_MODEL_STRICT,
                                        0, u, NULL, &error));
    assert_non_null(strstr(error->message, "past the"));
}

/*
 * A descriptor number reused behind the shim's back: fd 5 was opened for
 * writing on f (recorded), then closed and reopened read-only on directory
 * d (not recorded).  The shim then sends d's path with the fchmod, and the
 * replay must chmod d, not f: ostree opens up its freshly made 0700
 * directories exactly this way.
 */
static guint
build_fd_reuse(Fx *fx, gboolean with_path)
{
    tu_write(fx->snap, "f", "data", 0644);
    g_autofree char *d = g_build_filename(fx->snap, "d", NULL);
    assert_int_equal(mkdir(d, 0700), 0);
    cfi_tb_open(fx->tb, ORIG "/f", 5, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 5, 0, "DATA", 4);
    struct cfi_rec rec;
    cfi_tb_rec_init(&rec, CFI_OP_CHMOD, "fchmod");
    rec.fd = 5;
    rec.arg2 = 040755;
    rec.dev = 1;
    rec.ino = 4242;
    rec.flags = CFI_RF_DIR | (with_path ? CFI_RF_PATH_FROM_FD : 0);
    cfi_tb_append(fx->tb, &rec, with_path ? ORIG "/d" : NULL, NULL, NULL, 0);
    cfi_tb_sync(fx->tb);
    return load(fx);
}

static guint
mode_of(const char *root, const char *rel)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    return st.st_mode & 07777;
}

static void
test_fd_reuse_path_wins(void **state)
{
    Fx *fx = *state;
    guint n = build_fd_reuse(fx, TRUE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_int_equal(mode_of(t, "d"), 0755);
    assert_int_equal(mode_of(t, "f"), 0644);
}

static void
test_fd_reuse_path_wins_fail(void **state)
{
    /* Without the path the stale binding is all there is: f gets it. */
    Fx *fx = *state;
    guint n = build_fd_reuse(fx, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_int_equal(mode_of(t, "d"), 0700);
    assert_int_equal(mode_of(t, "f"), 0755);
}

/*
 * Two threads race on descriptor number 5 (ostree writes objects from a
 * thread pool): thread B's open, which the kernel gives fd 5, entered
 * before thread A's close(5), so in seq order A's last write, its link and
 * its close come after B's open.  The (dev, ino) the shim read at each
 * call says which file it was; with it, each object gets its own bytes.
 * B may also be a file outside the root (ostree's download temp files).
 */
static guint
build_fd_race(Fx *fx, gboolean with_ident, gboolean a_outside,
              gboolean b_outside)
{
    const char *a_dir = a_outside ? "/elsewhere" : ORIG;
    const char *a_name = a_outside ? "/elsewhere/a" : ORIG "/a";
    const char *b_dir = b_outside ? "/elsewhere" : ORIG;
    const char *b_name = b_outside ? "/elsewhere/b" : ORIG "/b";
    if (with_ident)
        cfi_tb_set_ident(fx->tb, 1, 100);
    cfi_tb_open_tmpfile(fx->tb, a_dir, 5, 0644);         /* A */
    cfi_tb_write(fx->tb, 5, 0, "AAAA", 4);
    if (with_ident)
        cfi_tb_set_ident(fx->tb, 1, 101);
    cfi_tb_open_tmpfile(fx->tb, b_dir, 5, 0644);         /* B, raced */
    if (with_ident)
        cfi_tb_set_ident(fx->tb, 1, 100);
    cfi_tb_write(fx->tb, 5, 4, "aaaa", 4);               /* A, late */
    cfi_tb_link_tmpfile(fx->tb, 5, a_name);
    cfi_tb_close(fx->tb, 5);
    if (with_ident)
        cfi_tb_set_ident(fx->tb, 1, 101);
    cfi_tb_write(fx->tb, 5, 0, "BBBB", 4);               /* B */
    cfi_tb_link_tmpfile(fx->tb, 5, b_name);
    cfi_tb_close(fx->tb, 5);
    cfi_tb_set_ident(fx->tb, 0, 0);
    cfi_tb_sync(fx->tb);
    guint n_warnings = 0;
    guint n = with_ident ? load(fx) : load_warned(fx, &n_warnings);
    /* Without identities B's write falls on a number nothing is bound to. */
    assert_true(with_ident || n_warnings > 0);
    return n;
}

static void
test_fd_race_identity_wins(void **state)
{
    Fx *fx = *state;
    guint n = build_fd_race(fx, TRUE, FALSE, FALSE);
    for (int m = 0; m < CFI_MODEL_COUNT; m++) {
        g_autofree char *t = mat(fx, n, m, 0, NULL);
        assert_file(t, "a", "AAAAaaaa");
        assert_file(t, "b", "BBBB");
    }
}

static void
test_fd_race_identity_wins_fail(void **state)
{
    /* Without the identity, A's late write and link land on B's file. */
    Fx *fx = *state;
    guint n = build_fd_race(fx, FALSE, FALSE, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *p = g_build_filename(t, "a", NULL);
    g_autofree char *got = NULL;
    assert_true(g_file_get_contents(p, &got, NULL, NULL));
    assert_string_not_equal(got, "AAAAaaaa");
}

static void
test_fd_race_outside_identity_wins(void **state)
{
    Fx *fx = *state;
    guint n = build_fd_race(fx, TRUE, FALSE, TRUE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "a", "AAAAaaaa");
    assert_false(tu_exists(t, "b"));
}

static void
test_fd_race_outside_identity_wins_fail(void **state)
{
    /* Without the identity, A's late write goes to the outside file and
       A's link publishes nothing. */
    Fx *fx = *state;
    guint n = build_fd_race(fx, FALSE, FALSE, TRUE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_false(tu_exists(t, "a"));
}

/* The race the other way round: A is a download file outside the root
 * (ostree's main thread), B an object being written in the root.  A's
 * late write must not land in B. */
static void
test_fd_race_from_outside_identity_wins(void **state)
{
    Fx *fx = *state;
    guint n = build_fd_race(fx, TRUE, TRUE, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "b", "BBBB");
    assert_false(tu_exists(t, "a"));
}

static void
test_fd_race_from_outside_identity_wins_fail(void **state)
{
    /* Without the identity, A's late write goes into B: "BBBBaaaa". */
    Fx *fx = *state;
    guint n = build_fd_race(fx, FALSE, TRUE, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    g_autofree char *p = g_build_filename(t, "b", NULL);
    g_autofree char *got = NULL;
    if (g_file_get_contents(p, &got, NULL, NULL))
        assert_string_not_equal(got, "BBBB");
}

/*
 * An inode number freed and reused across a race (met in CI): a download
 * file X outside the root holds fd 19 and inode 7; X is closed, its inode
 * freed, and object Y gets inode 7 from an open (fd 20) that entered
 * before X's last write and close.  X's write carries identity 7 too, but
 * it was made on fd 19, whose holder is X: it must not land in Y.
 */
static guint
build_ino_reuse(Fx *fx, gboolean x_open_recorded)
{
    cfi_tb_set_ident(fx->tb, 1, 7);
    if (x_open_recorded)
        cfi_tb_open_tmpfile(fx->tb, "/elsewhere", 19, 0600);   /* X */
    cfi_tb_open_tmpfile(fx->tb, ORIG, 20, 0644);               /* Y */
    cfi_tb_write(fx->tb, 19, 0, "download junk", 13);           /* X */
    cfi_tb_close(fx->tb, 19);
    cfi_tb_write(fx->tb, 20, 0, "object", 6);                  /* Y */
    cfi_tb_link_tmpfile(fx->tb, 20, ORIG "/obj");
    cfi_tb_close(fx->tb, 20);
    cfi_tb_set_ident(fx->tb, 0, 0);
    cfi_tb_sync(fx->tb);
    return load(fx);
}

static void
test_ino_reuse_number_wins(void **state)
{
    Fx *fx = *state;
    guint n = build_ino_reuse(fx, TRUE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "obj", "object");
}

static void
test_ino_reuse_number_wins_fail(void **state)
{
    /* Without X's open, fd 19 is bound to nothing and the identity is
       all there is: the junk lands in Y ("object" written over it). */
    Fx *fx = *state;
    guint n = build_ino_reuse(fx, FALSE);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    assert_file(t, "obj", "objectad junk");
}

/*
 * The shim's own table of descriptors racing (met in repeated-cuts
 * campaigns, cfaultinject/runtime.c): thread A's close(5) cleared the slot
 * after thread B's O_TMPFILE open had got number 5 and filled it, so B's
 * first write on fd 5 came with the path the shim reads from /proc, which
 * for an unlinked tmpfile names nothing ("#101 (deleted)").  The identity
 * of the write is that of B's open: the bytes are B's object's.
 */
static guint
build_slot_race(Fx *fx, guint64 write_ino)
{
    cfi_tb_set_ident(fx->tb, 1, 100);
    cfi_tb_open_tmpfile(fx->tb, ORIG, 5, 0644);                 /* A */
    cfi_tb_write(fx->tb, 5, 0, "AAAA", 4);
    cfi_tb_link_tmpfile(fx->tb, 5, ORIG "/a");
    cfi_tb_close(fx->tb, 5);
    cfi_tb_set_ident(fx->tb, 1, 101);
    cfi_tb_open_tmpfile(fx->tb, ORIG, 5, 0644);                 /* B */
    struct cfi_rec rec;
    cfi_tb_rec_init(&rec, CFI_OP_WRITE, "write");
    rec.fd = 5;
    rec.off = 0;
    rec.len = rec.result = 4;
    rec.dev = 1;
    rec.ino = write_ino;
    rec.flags = CFI_RF_PATH_FROM_FD;
    cfi_tb_append(fx->tb, &rec, ORIG "/#101 (deleted)", NULL, "BBBB", 4);
    cfi_tb_write(fx->tb, 5, 4, "bbbb", 4);
    cfi_tb_link_tmpfile(fx->tb, 5, ORIG "/b");
    cfi_tb_close(fx->tb, 5);
    cfi_tb_set_ident(fx->tb, 0, 0);
    cfi_tb_sync(fx->tb);
    return load(fx);
}

static void
test_slot_race_deleted_path_identity_wins(void **state)
{
    Fx *fx = *state;
    guint n = build_slot_race(fx, 101);
    for (int m = 0; m < CFI_MODEL_COUNT; m++) {
        g_autofree char *t = mat(fx, n, m, 0, NULL);
        assert_file(t, "a", "AAAA");
        assert_file(t, "b", "BBBBbbbb");
    }
}

static void
test_slot_race_deleted_path_identity_wins_fail(void **state)
{
    /* A write whose path names nothing and whose identity is not the
       number's holder's is no call on that holder: it is dropped, and
       B's object lacks its first bytes. */
    Fx *fx = *state;
    guint n = build_slot_race(fx, 4242);
    g_autofree char *t = mat(fx, n, CFI_MODEL_PROCESS_KILL, 0, NULL);
    gsize len = 0;
    g_autofree char *got = tu_read(t, "b", &len);
    assert_non_null(got);
    assert_int_equal(len, 8);
    assert_memory_equal(got, "\0\0\0\0bbbb", 8);
}

/* ---- MODELS.md §4a: the bootloader's view ---------------------------- */

static char *
mat_boot(Fx *fx, guint k, CfiModel model, guint64 subset, CfiBootView *view)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = g_strdup_printf("boot-%u", fx->n_out++);
    char *target = g_build_filename(fx->dir, name, NULL);
    CfiBootView local;
    if (!cfi_replay_materialise_bootview(fx->replay, k, model, 0, subset,
                                         target, NULL,
                                         view != NULL ? view : &local,
                                         &error))
        fail_msg("%s", error->message);
    return target;
}

static char *
read_link(const char *root, const char *rel)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    return g_file_read_link(p, NULL);
}

/* ostree 2022.7's swap, as in ostree#3392 (freeze_after: where the fixed
 * ostree freezes again):
 *   snapshot: boot/loader -> loader.0, boot/loader.0/, ostree/boot.0 -> x
 *   0 open /orig  1 mkdir boot/loader.1  2 symlink loader.1 boot/loader.tmp
 *   3 freeze  4 thaw  5 rename boot/loader.tmp -> boot/loader  6 syncfs
 *   [freeze_after == 1: freeze, thaw]
 *   unlink ostree/boot.0  syncfs
 *   [freeze_after == 2: freeze, thaw] */
static guint
build_swap(Fx *fx, int freeze_after)
{
    g_autofree char *boot = g_build_filename(fx->snap, "boot", NULL);
    g_autofree char *l0 = g_build_filename(boot, "loader.0", NULL);
    g_autofree char *ost = g_build_filename(fx->snap, "ostree", NULL);
    g_autofree char *b0 = g_build_filename(ost, "boot.0", NULL);
    g_autofree char *ld = g_build_filename(boot, "loader", NULL);
    assert_int_equal(g_mkdir_with_parents(l0, 0755), 0);
    assert_int_equal(mkdir(ost, 0755), 0);
    assert_int_equal(symlink("loader.0", ld), 0);
    assert_int_equal(symlink("x", b0), 0);
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_mkdir(fx->tb, ORIG "/boot/loader.1", 0755);
    cfi_tb_symlink(fx->tb, "loader.1", ORIG "/boot/loader.tmp");
    cfi_tb_freeze(fx->tb, 5);
    cfi_tb_thaw(fx->tb, 5);
    cfi_tb_rename(fx->tb, ORIG "/boot/loader.tmp", ORIG "/boot/loader");
    cfi_tb_syncfs(fx->tb, 5);
    if (freeze_after == 1) {
        cfi_tb_freeze(fx->tb, 5);
        cfi_tb_thaw(fx->tb, 5);
    }
    cfi_tb_unlink(fx->tb, ORIG "/ostree/boot.0");
    cfi_tb_syncfs(fx->tb, 5);
    if (freeze_after == 2) {
        cfi_tb_freeze(fx->tb, 5);
        cfi_tb_thaw(fx->tb, 5);
    }
    return load(fx);
}

/* On ext4 a syncfs writes the committed metadata home (MODELS.md 4a):
   the syncfs after the swap is a checkpoint, so the bootloader reads the
   new loader and the kernel's view agrees with it. */
static void
test_bootview_ext4_syncfs_checkpoints(void **state)
{
    Fx *fx = *state;
    fx->opts.syncfs_log_only = FALSE;
    guint n = build_swap(fx, 0);
    assert_true(cfi_replay_last_checkpoint(fx->replay, n) > 3);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    g_autofree char *bl = read_link(b, "boot/loader");
    assert_string_equal(bl, "loader.1");
}

/* Twin: on XFS the same trace leaves the freeze the last checkpoint, and
   the bootloader reads the old loader. */
static void
test_bootview_ext4_syncfs_checkpoints_fail(void **state)
{
    Fx *fx = *state;
    guint n = build_swap(fx, 0);
    assert_int_equal(cfi_replay_last_checkpoint(fx->replay, n), 3);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    g_autofree char *bl = read_link(b, "boot/loader");
    assert_string_equal(bl, "loader.0");
}

static void
test_bootview_rename_after_checkpoint(void **state)
{
    /* The kernel replays the journal and has the swap; the bootloader
       reads what the freeze wrote home: the old loader. */
    Fx *fx = *state;
    guint n = build_swap(fx, 0);
    CfiBootView v;
    assert_int_equal(cfi_replay_last_checkpoint(fx->replay, n), 3);
    g_autofree char *k = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, &v);
    g_autofree char *kl = read_link(k, "boot/loader");
    g_autofree char *bl = read_link(b, "boot/loader");
    assert_string_equal(kl, "loader.1");
    assert_string_equal(bl, "loader.0");
    assert_true(tu_exists(b, "boot/loader.tmp"));
    assert_true(tu_exists(b, "boot/loader.1"));
    assert_int_equal(v.checkpoint, 3);
    assert_int_equal(v.meta_pending, 2);   /* rename, unlink */
    assert_int_equal(v.meta_home, 0);
    /* The cut at the freeze itself: it has not completed. */
    assert_int_equal(cfi_replay_last_checkpoint(fx->replay, 3), -1);
    g_autofree char *b3 = mat_boot(fx, 3, CFI_MODEL_ORDERED, 0, &v);
    assert_false(tu_exists(b3, "boot/loader.1"));
    assert_int_equal(v.checkpoint, -1);
}

static void
test_bootview_rename_after_checkpoint_fail(void **state)
{
    /* A freeze after the rename (ostree 2025.2's fix) writes it home. */
    Fx *fx = *state;
    guint n = build_swap(fx, 1);
    CfiBootView v;
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, &v);
    g_autofree char *bl = read_link(b, "boot/loader");
    assert_string_equal(bl, "loader.1");
    assert_false(tu_exists(b, "boot/loader.tmp"));
    assert_int_equal(v.checkpoint, 7);
    assert_int_equal(v.meta_pending, 1);   /* the unlink */
    /* Under process-kill there is one view, whatever the checkpoints. */
    g_autofree char *pk = mat_boot(fx, 7, CFI_MODEL_PROCESS_KILL, 0, &v);
    g_autofree char *pl = read_link(pk, "boot/loader");
    assert_string_equal(pl, "loader.1");
    assert_int_equal(v.meta_pending, 0);
}

static void
test_bootview_unlink_after_checkpoint(void **state)
{
    /* The unlink of the old boot link is committed (syncfs) but not home:
       the bootloader still sees ostree/boot.0; the kernel does not. */
    Fx *fx = *state;
    guint n = build_swap(fx, 1);
    g_autofree char *k = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_false(tu_exists(k, "ostree/boot.0"));
    assert_true(tu_exists(b, "ostree/boot.0"));
}

static void
test_bootview_unlink_after_checkpoint_fail(void **state)
{
    /* A freeze after the unlink: gone in both views. */
    Fx *fx = *state;
    guint n = build_swap(fx, 2);
    CfiBootView v;
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_STRICT, 0, &v);
    assert_false(tu_exists(b, "ostree/boot.0"));
    assert_int_equal(v.meta_pending, 0);
    g_autofree char *k = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    g_autofree char *dk = tu_tree_digest(k);
    g_autofree char *db = tu_tree_digest(b);
    assert_string_equal(dk, db);
}

/* 0 open /orig  1 freeze  2..17 mkdir d0 .. d15  18 syncfs */
static guint
build_many_after_freeze(Fx *fx)
{
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_freeze(fx->tb, 5);
    for (int i = 0; i < 16; i++) {
        g_autofree char *d = g_strdup_printf(ORIG "/d%02d", i);
        cfi_tb_mkdir(fx->tb, d, 0755);
    }
    cfi_tb_syncfs(fx->tb, 5);
    return load(fx);
}

static GString *
dirs_present(const char *root)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 16; i++) {
        g_autofree char *d = g_strdup_printf("d%02d", i);
        g_string_append_c(s, tu_exists(root, d) ? '1' : '0');
    }
    return s;
}

static void
test_bootview_subset_deterministic(void **state)
{
    Fx *fx = *state;
    guint n = build_many_after_freeze(fx);
    guint64 s1 = cfi_bootview_subset_seed(7, n);
    guint64 s2 = cfi_bootview_subset_seed(8, n);
    assert_true(s1 != 0 && s2 != 0 && s1 != s2);
    assert_true(s1 == cfi_bootview_subset_seed(7, n));
    CfiBootView v1, v2;
    g_autofree char *a = mat_boot(fx, n, CFI_MODEL_ORDERED, s1, &v1);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, s1, &v2);
    g_autoptr(GString) da = dirs_present(a);
    g_autoptr(GString) db = dirs_present(b);
    assert_string_equal(da->str, db->str);
    g_autofree char *ta = tu_tree_digest(a);
    g_autofree char *tb = tu_tree_digest(b);
    assert_string_equal(ta, tb);
    assert_int_equal(v1.meta_pending, 16);
    assert_int_equal(v1.meta_home, v2.meta_home);
    /* A partial subset: some, not all (fixed by the seed). */
    assert_true(v1.meta_home > 0 && v1.meta_home < 16);
    g_autofree char *c = mat_boot(fx, n, CFI_MODEL_ORDERED, s2, NULL);
    g_autoptr(GString) dc = dirs_present(c);
    assert_string_not_equal(da->str, dc->str);
}

static void
test_bootview_subset_deterministic_fail(void **state)
{
    /* Seed 0 (the default campaign's): nothing after the freeze is home. */
    Fx *fx = *state;
    guint n = build_many_after_freeze(fx);
    assert_true(cfi_bootview_subset_seed(0, n) == 0);
    CfiBootView v;
    g_autofree char *a = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, &v);
    g_autoptr(GString) da = dirs_present(a);
    assert_string_equal(da->str, "0000000000000000");
    assert_int_equal(v.meta_home, 0);
    assert_int_equal(v.meta_pending, 16);
}

/* Data is read in place: snapshot file f overwritten after the freeze.
 *   0 open /orig  1 freeze  2 open f  3 write "new"  [4 fsync f] */
static guint
build_data_after_freeze(Fx *fx, gboolean sync)
{
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_freeze(fx->tb, 5);
    cfi_tb_open(fx->tb, ORIG "/f", 3, O_WRONLY, 0);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    if (sync)
        cfi_tb_fsync(fx->tb, 3);
    return load(fx);
}

static void
test_bootview_data_in_place(void **state)
{
    /* Durable data is what the bootloader reads, subset or not. */
    Fx *fx = *state;
    guint n = build_data_after_freeze(fx, TRUE);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(b, "f", "new");
}

static void
test_bootview_data_in_place_fail(void **state)
{
    /* Data the kernel's view does not have, neither has the bootloader. */
    Fx *fx = *state;
    guint n = build_data_after_freeze(fx, FALSE);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(b, "f", "old");
}

/* ---- MODELS.md §4b: the device's filesystem -------------------------- */

static void
assert_empty(const char *root, const char *rel)
{
    gsize len = 99;
    g_autofree char *c = tu_read(root, rel, &len);
    if (c == NULL)
        fail_msg("%s/%s is missing", root, rel);
    assert_int_equal(len, 0);
}

static void
test_da_alloc_rename_keeps_data(void **state)
{
    /* auto_da_alloc (the default): the rename over f flushed f.tmp's data,
       so every cut after it has the new content under ordered and torn. */
    Fx *fx = *state;
    guint n = build_replace_nosync(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t, "f", "new");
    g_autofree char *tt = mat(fx, n, CFI_MODEL_TORN, 0, NULL);
    assert_file(tt, "f", "new");
    /* Before the rename completed, nothing was flushed. */
    g_autofree char *b = mat(fx, n - 1, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(b, "f", "old");
    assert_empty(b, "f.tmp");
    /* A flush is no barrier: strict keeps nothing of the run. */
    g_autofree char *st = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(st, "f", "old");
}

static void
test_da_alloc_rename_keeps_data_fail(void **state)
{
    /* noauto_da_alloc: the same cut, model and seed show f empty. */
    Fx *fx = *state;
    fx->opts.noauto_da_alloc = TRUE;
    guint n = build_replace_nosync(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_empty(t, "f");
    g_autofree char *tt = mat(fx, n, CFI_MODEL_TORN, 0, NULL);
    assert_empty(tt, "f");
}

/* The same without a name to replace: 0 open g.tmp  1 write  2 close
 * 3 rename g.tmp -> g (g did not exist). */
static guint
build_rename_fresh(Fx *fx)
{
    cfi_tb_open(fx->tb, ORIG "/g.tmp", 3, O_CREAT | O_WRONLY | O_EXCL, 0644);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_rename(fx->tb, ORIG "/g.tmp", ORIG "/g");
    return load(fx);
}

static void
test_da_alloc_fresh_name_flushes_nothing(void **state)
{
    /* ext4 flushes only when the rename replaces a file. */
    Fx *fx = *state;
    guint n = build_rename_fresh(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_empty(t, "g");
}

static void
test_da_alloc_fresh_name_flushes_nothing_fail(void **state)
{
    /* Over an existing g, the same rename keeps the data. */
    Fx *fx = *state;
    tu_write(fx->snap, "g", "old", 0644);
    guint n = build_rename_fresh(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t, "g", "new");
}

/* Replace by truncate: 0 open f O_TRUNC  1 write "new"  2 close */
static guint
build_truncate_rewrite(Fx *fx)
{
    tu_write(fx->snap, "f", "old", 0644);
    cfi_tb_open(fx->tb, ORIG "/f", 3, O_WRONLY | O_TRUNC, 0);
    cfi_tb_write(fx->tb, 3, 0, "new", 3);
    cfi_tb_close(fx->tb, 3);
    return load(fx);
}

static void
test_da_alloc_truncate_flushes_at_close(void **state)
{
    Fx *fx = *state;
    guint n = build_truncate_rewrite(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(t, "f", "new");
    /* Before the close: truncated, not flushed yet. */
    g_autofree char *b = mat(fx, n - 1, CFI_MODEL_ORDERED, 0, NULL);
    assert_empty(b, "f");
}

static void
test_da_alloc_truncate_flushes_at_close_fail(void **state)
{
    Fx *fx = *state;
    fx->opts.noauto_da_alloc = TRUE;
    guint n = build_truncate_rewrite(fx);
    g_autofree char *t = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_empty(t, "f");
}

/* A file in boot/ and one beside it, made durable by one syncfs:
 *   snapshot: boot/
 *   0 open /orig (5)  1 open /orig/boot (6)  2 open boot/b (3)
 *   3 write  4 close  5 open r (4)  6 write  7 close  8 syncfs(fd) */
static guint
build_syncfs_boot(Fx *fx, int sync_fd)
{
    g_autofree char *boot = g_build_filename(fx->snap, "boot", NULL);
    assert_int_equal(mkdir(boot, 0755), 0);
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_open(fx->tb, ORIG "/boot", 6, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_open(fx->tb, ORIG "/boot/b", 3, O_CREAT | O_WRONLY | O_EXCL, 0644);
    cfi_tb_write(fx->tb, 3, 0, "boot", 4);
    cfi_tb_close(fx->tb, 3);
    cfi_tb_open(fx->tb, ORIG "/r", 4, O_CREAT | O_WRONLY | O_EXCL, 0644);
    cfi_tb_write(fx->tb, 4, 0, "root", 4);
    cfi_tb_close(fx->tb, 4);
    cfi_tb_syncfs(fx->tb, sync_fd);
    return load(fx);
}

static void
test_separate_boot_syncfs_per_fs(void **state)
{
    /* boot/ apart: a syncfs of the root persists r, not boot/b. */
    Fx *fx = *state;
    fx->opts.separate_boot = TRUE;
    guint n = build_syncfs_boot(fx, 5);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "r", "root");
    assert_false(tu_exists(t, "boot/b"));
    g_autofree char *o = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_empty(o, "boot/b");
}

static void
test_separate_boot_syncfs_per_fs_fail(void **state)
{
    /* One filesystem (the default): the same syncfs persists both. */
    Fx *fx = *state;
    guint n = build_syncfs_boot(fx, 5);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "r", "root");
    assert_file(t, "boot/b", "boot");
    g_autofree char *o = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_file(o, "boot/b", "boot");
}

static void
test_separate_boot_syncfs_of_boot(void **state)
{
    /* boot/ apart: a syncfs of boot/ persists boot/b, not r. */
    Fx *fx = *state;
    fx->opts.separate_boot = TRUE;
    guint n = build_syncfs_boot(fx, 6);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "boot/b", "boot");
    assert_false(tu_exists(t, "r"));
}

static void
test_separate_boot_syncfs_of_boot_fail(void **state)
{
    /* One filesystem: a syncfs through boot/ persists r as well. */
    Fx *fx = *state;
    guint n = build_syncfs_boot(fx, 6);
    g_autofree char *t = mat(fx, n, CFI_MODEL_STRICT, 0, NULL);
    assert_file(t, "boot/b", "boot");
    assert_file(t, "r", "root");
}

static void
test_separate_boot_root_freeze_no_checkpoint(void **state)
{
    /* build_swap freezes through /orig: with boot/ apart that is the
       root's freeze, and the bootloader's view of boot/ has no
       checkpoint: loader.1 and loader.tmp are not home. */
    Fx *fx = *state;
    fx->opts.separate_boot = TRUE;
    guint n = build_swap(fx, 0);
    CfiBootView v;
    assert_int_equal(cfi_replay_last_checkpoint(fx->replay, n), -1);
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, &v);
    assert_int_equal(v.checkpoint, -1);
    assert_false(tu_exists(b, "boot/loader.1"));
    assert_false(tu_exists(b, "boot/loader.tmp"));
    g_autofree char *bl = read_link(b, "boot/loader");
    assert_string_equal(bl, "loader.0");
    /* The kernel's view has them (ordered keeps every entry). */
    g_autofree char *k = mat(fx, n, CFI_MODEL_ORDERED, 0, NULL);
    assert_true(tu_exists(k, "boot/loader.1"));
}

static void
test_separate_boot_root_freeze_no_checkpoint_fail(void **state)
{
    /* One filesystem: the same freeze wrote loader.1 home. */
    Fx *fx = *state;
    guint n = build_swap(fx, 0);
    CfiBootView v;
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_ORDERED, 0, &v);
    assert_int_equal(v.checkpoint, 3);
    assert_true(tu_exists(b, "boot/loader.1"));
    assert_true(tu_exists(b, "boot/loader.tmp"));
}

/* ostree's order, boot/ frozen through its own descriptor:
 *   snapshot: boot/, ostree/boot.0 -> x
 *   0 open /orig (5)  1 open /orig/boot (6)  2 mkdir boot/loader.1
 *   3 unlink ostree/boot.0  4 syncfs(5)  5 syncfs(6)  6 freeze(6) 7 thaw */
static guint
build_boot_freeze(Fx *fx)
{
    g_autofree char *boot = g_build_filename(fx->snap, "boot", NULL);
    g_autofree char *ost = g_build_filename(fx->snap, "ostree", NULL);
    g_autofree char *b0 = g_build_filename(ost, "boot.0", NULL);
    assert_int_equal(mkdir(boot, 0755), 0);
    assert_int_equal(mkdir(ost, 0755), 0);
    assert_int_equal(symlink("x", b0), 0);
    cfi_tb_open(fx->tb, ORIG, 5, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_open(fx->tb, ORIG "/boot", 6, O_RDONLY | O_DIRECTORY, 0);
    cfi_tb_mkdir(fx->tb, ORIG "/boot/loader.1", 0755);
    cfi_tb_unlink(fx->tb, ORIG "/ostree/boot.0");
    cfi_tb_syncfs(fx->tb, 5);
    cfi_tb_syncfs(fx->tb, 6);
    cfi_tb_freeze(fx->tb, 6);
    cfi_tb_thaw(fx->tb, 6);
    return load(fx);
}

static void
test_separate_boot_freeze_checkpoints_boot_only(void **state)
{
    /* boot/ apart: the freeze of boot/ writes loader.1 home, but not the
       root's unlink (committed by the syncfs, not checkpointed). */
    Fx *fx = *state;
    fx->opts.separate_boot = TRUE;
    guint n = build_boot_freeze(fx);
    CfiBootView v;
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_STRICT, 0, &v);
    assert_int_equal(v.checkpoint, 6);
    assert_true(tu_exists(b, "boot/loader.1"));
    assert_true(tu_exists(b, "ostree/boot.0"));
    assert_int_equal(v.meta_pending, 1);    /* the unlink */
}

static void
test_separate_boot_freeze_checkpoints_boot_only_fail(void **state)
{
    /* One filesystem: the freeze writes both home. */
    Fx *fx = *state;
    guint n = build_boot_freeze(fx);
    CfiBootView v;
    g_autofree char *b = mat_boot(fx, n, CFI_MODEL_STRICT, 0, &v);
    assert_int_equal(v.checkpoint, 6);
    assert_true(tu_exists(b, "boot/loader.1"));
    assert_false(tu_exists(b, "ostree/boot.0"));
    assert_int_equal(v.meta_pending, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown), \
             cmocka_unit_test_setup_teardown(f##_fail, setup, teardown)
        T(test_unsynced_replace_process_kill),
        T(test_fsynced_survives_every_model),
        T(test_syncfs_survives_every_model),
        T(test_interposed_sync_persists_nothing),
        T(test_interposed_dsync_open_no_barrier),
        T(test_dir_entry_after_dir_fsync),
        T(test_ordered_new_file_zero_length),
        T(test_data_in_place_ordered),
        T(test_ordered_fallocate_zero_range),
        T(test_torn_sector_mix),
        T(test_torn_single_sector),
        T(test_reorder_deterministic),
        T(test_reorder_skips_broken_preconditions),
        T(test_tmpfile_publish),
        T(test_hardlink_break_keeps_snapshot),
        T(test_same_name_same_tree),
        T(test_farm_between_states),
        T(test_farm_knows_what_is_unchanged),
        T(test_farm_advances_cut_to_cut),
        T(test_digest_mode_without_data_needs),
        T(test_outside_root_ignored),
        T(test_failed_calls_do_nothing),
        T(test_unknown_fd_warns),
        T(test_names),
        T(test_target_must_be_empty),
        T(test_fd_reuse_path_wins),
        T(test_fd_race_identity_wins),
        T(test_fd_race_outside_identity_wins),
        T(test_fd_race_from_outside_identity_wins),
        T(test_ino_reuse_number_wins),
        T(test_slot_race_deleted_path_identity_wins),
        T(test_bootview_ext4_syncfs_checkpoints),
        T(test_bootview_rename_after_checkpoint),
        T(test_bootview_unlink_after_checkpoint),
        T(test_bootview_subset_deterministic),
        T(test_bootview_data_in_place),
        T(test_da_alloc_rename_keeps_data),
        T(test_da_alloc_fresh_name_flushes_nothing),
        T(test_da_alloc_truncate_flushes_at_close),
        T(test_separate_boot_syncfs_per_fs),
        T(test_separate_boot_syncfs_of_boot),
        T(test_separate_boot_root_freeze_no_checkpoint),
        T(test_separate_boot_freeze_checkpoints_boot_only),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
