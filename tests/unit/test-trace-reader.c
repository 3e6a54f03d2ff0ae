/* SPDX-License-Identifier: MIT */
/*
 * test-trace-reader.c: the trace reader keeps every complete record, stops
 * at damage without crashing, and says where and why.  Tests come in
 * pairs: each success has a twin proving the diagnostic fires.
 */
#include <fcntl.h>

#include "cfi-test-util.h"

#include "crc32c.h"
#include "trace-builder.h"
#include "trace-reader.h"

typedef struct {
    char *dir;
    char *path;                 /* the trace */
    gsize rec_off[8];           /* where each record starts */
    gsize size;
} Fx;

static int
setup(void **state)
{
    Fx *fx = g_new0(Fx, 1);
    fx->dir = tu_mkdtemp();
    fx->path = g_build_filename(fx->dir, "t.cfit", NULL);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    tu_rm_rf(fx->dir);
    g_free(fx->dir);
    g_free(fx->path);
    g_free(fx);
    return 0;
}

/* Five records: open, write "hello", fsync, failed write (EIO), rename. */
static void
build_five(Fx *fx)
{
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->path);
    g_autoptr(GError) error = NULL;
    fx->rec_off[0] = cfi_trace_builder_offset(tb);
    cfi_tb_open(tb, "/r/a", 3, O_CREAT | O_WRONLY, 0644);
    fx->rec_off[1] = cfi_trace_builder_offset(tb);
    cfi_tb_write(tb, 3, 0, "hello", 5);
    fx->rec_off[2] = cfi_trace_builder_offset(tb);
    cfi_tb_fsync(tb, 3);
    fx->rec_off[3] = cfi_trace_builder_offset(tb);
    cfi_tb_failed(tb, CFI_OP_WRITE, "pwrite", 3, NULL, EIO);
    fx->rec_off[4] = cfi_trace_builder_offset(tb);
    cfi_tb_rename(tb, "/r/a", "/r/b");
    fx->size = cfi_trace_builder_offset(tb);
    assert_true(cfi_trace_builder_finish(tb, &error));
}

static void
set_size(const char *path, gsize size)
{
    assert_int_equal(truncate(path, size), 0);
}

static void
poke(const char *path, gsize off, const void *bytes, gsize n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, off), (ssize_t)n);
    close(fd);
}

/* ---- complete trace / bad header ----------------------------------- */

static void
test_complete_trace(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    build_five(fx);
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
    assert_non_null(t);
    assert_null(error);
    assert_int_equal(cfi_trace_n_records(t), 5);
    assert_false(cfi_trace_is_truncated(t, NULL, NULL));
    assert_int_equal(cfi_trace_get_data_mode(t), CFI_DATA_FULL);

    const CfiRecord *w = cfi_trace_get(t, 1);
    assert_int_equal(w->rec->op, CFI_OP_WRITE);
    assert_int_equal(w->data_len, 5);
    assert_memory_equal(w->data, "hello", 5);
    const CfiRecord *rn = cfi_trace_get(t, 4);
    assert_string_equal(rn->path, "/r/a");
    assert_string_equal(rn->path2, "/r/b");
    assert_null(cfi_trace_get(t, 5));
    for (guint i = 1; i < 5; i++)
        assert_true(cfi_trace_get(t, i - 1)->rec->seq <
                    cfi_trace_get(t, i)->rec->seq);
}

static void
test_complete_trace_fail(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    build_five(fx);
    poke(fx->path, 0, "NOTATRAC", 8);
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
    assert_null(t);
    assert_non_null(error);
    assert_non_null(strstr(error->message, fx->path));
    assert_non_null(strstr(error->message, "bad magic"));
}

static void
test_bad_header_fields(void **state)
{
    Fx *fx = *state;
    build_five(fx);
    struct {
        gsize off;
        guint32 value;
        const char *expect;
    } cases[] = {
        { G_STRUCT_OFFSET(struct cfi_trace_header, version), 99,
          "unsupported version 99" },
        { G_STRUCT_OFFSET(struct cfi_trace_header, hdr_size), 12,
          "bad header size 12" },
        { G_STRUCT_OFFSET(struct cfi_trace_header, hdr_size), 1u << 30,
          "bad header size" },
        { G_STRUCT_OFFSET(struct cfi_trace_header, data_mode), 7,
          "unknown data_mode 7" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        build_five(fx);
        poke(fx->path, cases[i].off, &cases[i].value, 4);
        g_autoptr(GError) error = NULL;
        g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
        assert_null(t);
        assert_non_null(strstr(error->message, cases[i].expect));
        assert_non_null(strstr(error->message, fx->path));
    }
}

static void
test_bad_header_fields_fail(void **state)
{
    /* Too short for a header, and missing: both say so, naming the file. */
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    assert_true(g_file_set_contents(fx->path, "CFITRACE", 8, NULL));
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
    assert_null(t);
    assert_non_null(strstr(error->message, "shorter than"));
    g_clear_error(&error);
    g_autofree char *missing = g_build_filename(fx->dir, "nope", NULL);
    assert_null(cfi_trace_open(missing, &error));
    assert_non_null(strstr(error->message, missing));
    assert_non_null(strstr(error->message, "open"));
}

/* ---- truncated tail ------------------------------------------------ */

static void
test_truncated_tail(void **state)
{
    /* Every cut inside the last record keeps the first four. */
    Fx *fx = *state;
    build_five(fx);
    for (gsize cut = fx->rec_off[4] + 1; cut < fx->size; cut++) {
        build_five(fx);
        set_size(fx->path, cut);
        g_autoptr(GError) error = NULL;
        g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
        assert_non_null(t);
        assert_int_equal(cfi_trace_n_records(t), 4);
        guint64 off = 0;
        const char *why = NULL;
        assert_true(cfi_trace_is_truncated(t, &off, &why));
        assert_int_equal(off, fx->rec_off[4]);
        assert_non_null(why);
    }
}

static void
test_truncated_tail_fail(void **state)
{
    /* Cut exactly at a record boundary: nothing is reported damaged. */
    Fx *fx = *state;
    build_five(fx);
    set_size(fx->path, fx->rec_off[4]);
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    assert_int_equal(cfi_trace_n_records(t), 4);
    assert_false(cfi_trace_is_truncated(t, NULL, NULL));
}

/* ---- corruption in the middle -------------------------------------- */

static void
test_corrupt_crc_middle(void **state)
{
    Fx *fx = *state;
    build_five(fx);
    /* The last data byte of the write record ("hello" -> "hellO"). */
    gsize at = fx->rec_off[1] + sizeof(struct cfi_rec) + 4;
    poke(fx->path, at, "O", 1);
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    assert_non_null(t);
    assert_int_equal(cfi_trace_n_records(t), 1);
    guint64 off = 0;
    const char *why = NULL;
    assert_true(cfi_trace_is_truncated(t, &off, &why));
    assert_int_equal(off, fx->rec_off[1]);
    assert_string_equal(why, "record crc mismatch");
}

static void
test_corrupt_crc_middle_fail(void **state)
{
    /* A corrupt length with a *valid* crc is still caught, by bounds. */
    Fx *fx = *state;
    build_five(fx);
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->path);
    cfi_tb_open(tb, "/r/a", 3, O_RDONLY, 0);
    gsize off = cfi_trace_builder_offset(tb);
    cfi_tb_write(tb, 3, 0, "x", 1);
    assert_true(cfi_trace_builder_finish(tb, NULL));
    /* data_len = 2^31, then reseal the crc. */
    g_autofree char *c = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(fx->path, &c, &len, NULL));
    struct cfi_rec *rec = (void *)(c + off);
    rec->data_len = 1u << 31;
    rec->crc = cfi_crc32c(0, (char *)rec + 12, rec->size - 12);
    assert_true(g_file_set_contents(fx->path, c, len, NULL));
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    assert_int_equal(cfi_trace_n_records(t), 1);
    const char *why = NULL;
    assert_true(cfi_trace_is_truncated(t, NULL, &why));
    assert_string_equal(why, "record lengths exceed its size");
}

/* ---- order ----------------------------------------------------------- */

static void
test_sorted_by_seq(void **state)
{
    Fx *fx = *state;
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->path);
    cfi_tb_set_next_seq(tb, 30);
    cfi_tb_fsync(tb, 30);
    cfi_tb_set_next_seq(tb, 10);
    cfi_tb_fsync(tb, 10);
    cfi_tb_set_next_seq(tb, 20);
    cfi_tb_fsync(tb, 20);
    assert_true(cfi_trace_builder_finish(tb, NULL));
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    assert_int_equal(cfi_trace_n_records(t), 3);
    assert_int_equal(cfi_trace_get(t, 0)->rec->fd, 10);
    assert_int_equal(cfi_trace_get(t, 1)->rec->fd, 20);
    assert_int_equal(cfi_trace_get(t, 2)->rec->fd, 30);
}

static void
test_sorted_by_seq_fail(void **state)
{
    /* Equal seqs (only in a damaged trace) keep file order. */
    Fx *fx = *state;
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->path);
    for (int fd = 1; fd <= 3; fd++) {
        cfi_tb_set_next_seq(tb, 5);
        cfi_tb_fsync(tb, fd);
    }
    assert_true(cfi_trace_builder_finish(tb, NULL));
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    for (guint i = 0; i < 3; i++)
        assert_int_equal(cfi_trace_get(t, i)->rec->fd, (int)i + 1);
}

/* ---- garbage --------------------------------------------------------- */

static void
test_random_mutations(void **state)
{
    Fx *fx = *state;
    build_five(fx);
    g_autofree char *orig = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(fx->path, &orig, &len, NULL));
    GRand *rng = g_rand_new_with_seed(1234);
    guint damaged = 0;
    for (int iter = 0; iter < 3000; iter++) {
        g_autofree char *m = g_memdup2(orig, len);
        gsize mlen = len;
        int n = g_rand_int_range(rng, 1, 8);
        for (int j = 0; j < n; j++) {
            /* Mostly the record area; sometimes the header. */
            gsize at = g_rand_int_range(rng, 0, 8) == 0
                ? (gsize)g_rand_int_range(rng, 0, 64)
                : (gsize)g_rand_int_range(rng, CFI_TRACE_HDR_SIZE, len);
            m[at] = g_rand_int_range(rng, 0, 256);
        }
        if (g_rand_boolean(rng))
            mlen = g_rand_int_range(rng, 0, len + 1);
        assert_true(g_file_set_contents(fx->path, m, mlen, NULL));
        g_autoptr(GError) error = NULL;
        g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
        if (t == NULL) {
            assert_non_null(error);
            continue;
        }
        assert_true(cfi_trace_n_records(t) <= 5);
        for (guint i = 0; i < cfi_trace_n_records(t); i++) {
            g_autoptr(GString) line = g_string_new(NULL);
            cfi_trace_format_record(cfi_trace_get(t, i), line);
        }
        if (cfi_trace_is_truncated(t, NULL, NULL))
            damaged++;
    }
    g_rand_free(rng);
    assert_true(damaged > 1000); /* the mutations really did damage */
}

static void
test_random_mutations_fail(void **state)
{
    /* Pure noise after a valid header: zero records, reported. */
    Fx *fx = *state;
    build_five(fx);
    g_autofree char *c = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(fx->path, &c, &len, NULL));
    for (gsize i = CFI_TRACE_HDR_SIZE; i < len; i++)
        c[i] = (char)(i * 131 + 7);
    assert_true(g_file_set_contents(fx->path, c, len, NULL));
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    assert_int_equal(cfi_trace_n_records(t), 0);
    const char *why = NULL;
    assert_true(cfi_trace_is_truncated(t, NULL, &why));
    assert_string_equal(why, "bad record magic");
}

/* ---- dump lines ------------------------------------------------------ */

static void
test_format_record(void **state)
{
    Fx *fx = *state;
    build_five(fx);
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    g_autoptr(GString) w = g_string_new(NULL);
    assert_true(cfi_trace_format_record(cfi_trace_get(t, 1), w));
    assert_non_null(strstr(w->str, "(write)"));
    assert_non_null(strstr(w->str, "fd=3"));
    assert_non_null(strstr(w->str, "len=5"));
    assert_non_null(strstr(w->str, "= 5"));
    assert_non_null(strstr(w->str, "data=5"));
    g_autoptr(GString) f = g_string_new(NULL);
    assert_true(cfi_trace_format_record(cfi_trace_get(t, 3), f));
    assert_non_null(strstr(f->str, "= -1 EIO"));
    assert_non_null(strstr(f->str, "[INJECTED]"));
    g_autoptr(GString) r = g_string_new(NULL);
    assert_true(cfi_trace_format_record(cfi_trace_get(t, 4), r));
    assert_non_null(strstr(r->str, "\"/r/a\" -> \"/r/b\""));
    assert_string_equal(cfi_errno_name(ENOSPC), "ENOSPC");
    assert_string_equal(cfi_errno_name(EXDEV), "EXDEV");
}

static void
test_format_record_fail(void **state)
{
    /* An op this reader does not know: FALSE, and still a line. */
    Fx *fx = *state;
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->path);
    struct cfi_rec rec;
    cfi_tb_rec_init(&rec, 999, NULL);
    rec.result = -1;
    rec.err = 4095;
    cfi_tb_append(tb, &rec, NULL, NULL, NULL, 0);
    assert_true(cfi_trace_builder_finish(tb, NULL));
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    g_autoptr(GString) line = g_string_new(NULL);
    assert_false(cfi_trace_format_record(cfi_trace_get(t, 0), line));
    assert_non_null(strstr(line->str, "= -1 errno 4095"));
    assert_null(cfi_errno_name(4095));
}

/* The five records with an interposer note for fsync in the middle of the
 * file (a child's constructor writes its notes after its parent's calls)
 * and the fsync flagged as interposed. */
static void
build_five_interposed(Fx *fx, gboolean with_note)
{
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(fx->path);
    g_autoptr(GError) error = NULL;
    cfi_tb_open(tb, "/r/a", 3, O_CREAT | O_WRONLY, 0644);
    cfi_tb_write(tb, 3, 0, "hello", 5);
    if (with_note)
        cfi_tb_interposer(tb, "fsync", "/usr/lib/libeatmydata.so",
                          CFI_IP_PROBED);
    cfi_tb_set_flags(tb, CFI_RF_INTERPOSED);
    cfi_tb_fsync(tb, 3);
    cfi_tb_set_flags(tb, 0);
    cfi_tb_failed(tb, CFI_OP_WRITE, "pwrite", 3, NULL, EIO);
    cfi_tb_rename(tb, "/r/a", "/r/b");
    assert_true(cfi_trace_builder_finish(tb, &error));
}

static void
test_interposer_note_kept_apart(void **state)
{
    Fx *fx = *state;
    build_five_interposed(fx, TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, &error);
    assert_non_null(t);
    assert_false(cfi_trace_is_truncated(t, NULL, NULL));
    /* Five calls, one note; the note is no record and no crash point. */
    assert_int_equal(cfi_trace_n_records(t), 5);
    assert_int_equal(cfi_trace_n_interposers(t), 1);
    const CfiRecord *n = cfi_trace_get_interposer(t, 0);
    assert_int_equal(n->rec->op, CFI_OP_INTERPOSER);
    assert_string_equal(n->path, "/usr/lib/libeatmydata.so");
    assert_null(cfi_trace_get_interposer(t, 1));
    for (guint i = 0; i < 5; i++)
        assert_int_equal(cfi_trace_get(t, i)->rec->seq, i + 1);
    const CfiRecord *fs = cfi_trace_get(t, 2);
    assert_true(cfi_rec_swallowed(fs->rec));
    g_autoptr(GString) line = g_string_new(NULL);
    assert_true(cfi_trace_format_record(n, line));
    assert_non_null(strstr(line->str, "fsync -> \"/usr/lib/libeatmydata.so\""));
    g_string_truncate(line, 0);
    assert_true(cfi_trace_format_record(fs, line));
    assert_non_null(strstr(line->str, "INTERPOSED"));
}

static void
test_interposer_note_kept_apart_fail(void **state)
{
    /* A trace without notes (every trace before them) reads the same
     * records, and a forwarded call is not swallowed. */
    Fx *fx = *state;
    build_five_interposed(fx, FALSE);
    g_autoptr(CfiTrace) t = cfi_trace_open(fx->path, NULL);
    assert_non_null(t);
    assert_int_equal(cfi_trace_n_records(t), 5);
    assert_int_equal(cfi_trace_n_interposers(t), 0);
    struct cfi_rec fwd = *cfi_trace_get(t, 2)->rec;
    fwd.flags |= CFI_RF_FORWARDS;
    assert_false(cfi_rec_swallowed(&fwd));
    assert_false(cfi_rec_swallowed(cfi_trace_get(t, 0)->rec));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_complete_trace),
        T(test_complete_trace_fail),
        T(test_bad_header_fields),
        T(test_bad_header_fields_fail),
        T(test_truncated_tail),
        T(test_truncated_tail_fail),
        T(test_corrupt_crc_middle),
        T(test_corrupt_crc_middle_fail),
        T(test_sorted_by_seq),
        T(test_sorted_by_seq_fail),
        T(test_random_mutations),
        T(test_random_mutations_fail),
        T(test_format_record),
        T(test_format_record_fail),
        T(test_interposer_note_kept_apart),
        T(test_interposer_note_kept_apart_fail),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
