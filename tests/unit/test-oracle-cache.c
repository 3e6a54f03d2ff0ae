/* SPDX-License-Identifier: MIT */
/*
 * test-oracle-cache.c: the oracle's per-campaign cache (oracle-cache.h)
 * answers for the snapshot's unchanged files and never hides a change.
 *
 * A "state" here is what the replay makes: a hardlink farm of a snapshot
 * (cp -al).  The snapshot is a copy of the fixture's sysroot, v1 deployed
 * then upgraded to v2, pinned in a cache.  Pairs: a warm cache gives the
 * full judgement's verdict and evidence; the twins change a file or a
 * metadata object in place, behind the cache's back (the same inode as the
 * snapshot's, the same size where possible), or the way a model would (a
 * truncated copy in a new inode), and the cached judgement still sees it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfi-test-util.h"

#include "server/fixture.h"
#include "oracle/oracle.h"
#include "trace-builder.h"
#include "trace-reader.h"

typedef struct {
    char *dir;
    PpFixture *fx;
    PpKnownTrees *known;
} World;

static World w;

/* Per test: its own snapshot, a state linked from it, a cache pinning it. */
typedef struct {
    char *dir;
    char *snapshot;
    char *state;
    PpOracleCache *cache;
} Farm;

static void
run_or_fail(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    int status = 0;
    g_autofree char *err = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH
                               | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err, &status, &error);
    if (!ok || !g_spawn_check_wait_status(status, NULL)) {
        fail_msg("%s failed: %s %s", argv[0], error != NULL ? error->message : "",
                 err != NULL ? err : "");
    }
}

static int
group_setup(void **state)
{
    g_autoptr(GError) error = NULL;
    w.dir = tu_mkdtemp();
    g_autofree char *fxdir = g_build_filename(w.dir, "fx", NULL);
    if (!pp_fixture_build_repo(fxdir, 64, &w.fx, &error)) {
        fprintf(stderr, "fixture: %s\n", error->message);
        return -1;
    }
    g_autofree char *url = g_strconcat("file://", w.fx->srv_repo, NULL);
    if (!pp_fixture_make_sysroot(w.fx, url, &error)
        || !pp_fixture_publish(w.fx, 2, &error)) {
        fprintf(stderr, "fixture: %s\n", error->message);
        return -1;
    }
    g_autofree char *opt = g_strconcat("--sysroot=", w.fx->sysroot, NULL);
    const char *up[] = { "admin", "upgrade", opt, "--os=" PP_FIXTURE_OSNAME, NULL };
    if (!pp_fixture_ostree_device(up, NULL, &error)) {
        fprintf(stderr, "fixture: %s\n", error->message);
        return -1;
    }
    const char *all[PP_FIXTURE_N_VERSIONS + 1] = { NULL };
    for (guint i = 0; i < PP_FIXTURE_N_VERSIONS; i++) {
        all[i] = w.fx->commits[i];
    }
    w.known = pp_known_trees_load(w.fx->srv_repo, all, &error);
    if (w.known == NULL) {
        fprintf(stderr, "known trees: %s\n", error->message);
        return -1;
    }
    (void)state;
    return 0;
}

static int
group_teardown(void **state)
{
    pp_known_trees_free(w.known);
    pp_fixture_free(w.fx);
    if (g_getenv("PP_KEEP") == NULL) {
        tu_rm_rf(w.dir);
    }
    g_free(w.dir);
    (void)state;
    return 0;
}

static Farm *
farm_new(void)
{
    g_autoptr(GError) error = NULL;
    Farm *f = g_new0(Farm, 1);
    f->dir = tu_mkdtemp();
    f->snapshot = g_build_filename(f->dir, "snapshot", NULL);
    f->state = g_build_filename(f->dir, "state", NULL);
    const char *cp[] = { "cp", "-a", w.fx->sysroot, f->snapshot, NULL };
    run_or_fail(cp);
    const char *cpl[] = { "cp", "-al", f->snapshot, f->state, NULL };
    run_or_fail(cpl);
    f->cache = pp_oracle_cache_new();
    if (!pp_oracle_cache_pin_tree(f->cache, f->snapshot, &error)) {
        fail_msg("%s", error->message);
    }
    return f;
}

static void
farm_free(Farm *f)
{
    pp_oracle_cache_free(f->cache);
    tu_rm_rf(f->dir);
    g_free(f->dir);
    g_free(f->snapshot);
    g_free(f->state);
    g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Farm, farm_free)

static PpJudgement *
judge_with(const char *root, PpOracleCache *cache)
{
    g_autoptr(GError) error = NULL;
    PpOracleOpts o = { .bootloader = PP_BOOTLOADER_BLS, .cache = cache };
    PpJudgement *j = NULL;
    if (!pp_oracle_judge(root, w.known, &o, &j, &error)) {
        fail_msg("judge: %s", error->message);
    }
    return j;
}

static char *
evidence(const PpJudgement *j)
{
    g_autoptr(JsonNode) n = pp_judgement_to_json(j);
    json_object_remove_member(json_node_get_object(n), "elapsed_us");
    return json_to_string(n, FALSE);
}

static guint64
hits(PpOracleCache *c)
{
    PpOracleCacheStats s;
    pp_oracle_cache_get_stats(c, &s);
    return s.checksum_hits + s.object_hits;
}

/* A regular file of the booted v2 deployment outside etc/ and var/. */
static char *
deployed_file(const PpJudgement *j, gsize min_size)
{
    const PpBootEntry *e = j->entries->pdata[j->booted];
    const PpKnownCommit *kc = pp_known_trees_lookup(w.known, e->commit);
    for (guint i = 0; i < kc->entries->len; i++) {
        const PpTreeEntry *t = kc->entries->pdata[i];
        if (t->type == PP_TREE_FILE && t->size >= min_size
            && g_str_has_prefix(t->path, "usr/")
            && !g_str_has_prefix(t->path, "usr/etc/")
            && !g_str_has_prefix(t->path, "usr/lib/modules/")) {
            return g_build_filename(e->deploy_path, t->path, NULL);
        }
    }
    fail_msg("no deployed file of %zu bytes", min_size);
    return NULL;
}

/* Flip one byte of root/rel in place: same inode, same size. */
static void
flip_byte(const char *root, const char *rel)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b = 0;
    assert_int_equal(pread(fd, &b, 1, 0), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, 0), 1);
    close(fd);
}

static void
assert_same_inode(const char *a_root, const char *b_root, const char *rel)
{
    g_autofree char *a = g_build_filename(a_root, rel, NULL);
    g_autofree char *b = g_build_filename(b_root, rel, NULL);
    struct stat sa, sb;
    assert_int_equal(lstat(a, &sa), 0);
    assert_int_equal(lstat(b, &sb), 0);
    assert_true(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
}

/* The warm cache judges as the full check does, from the cache. */
static void
test_warm_cache_same_judgement(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) full = judge_with(f->state, NULL);
    g_autoptr(PpJudgement) cold = judge_with(f->state, f->cache);
    guint64 h0 = hits(f->cache);
    g_autoptr(PpJudgement) warm = judge_with(f->state, f->cache);
    assert_int_equal(full->outcome, PP_OUTCOME_PASS);
    assert_true(hits(f->cache) > h0);
    g_autofree char *a = evidence(full);
    g_autofree char *b = evidence(cold);
    g_autofree char *c = evidence(warm);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    (void)state;
}

/* Twin: a byte changed in place in the snapshot's own inode, the size
 * kept; the warm cache must not answer for it. */
static void
test_in_place_write_is_seen(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, f->cache);
    assert_int_equal(j0->outcome, PP_OUTCOME_PASS);
    g_autofree char *rel = deployed_file(j0, 1);
    flip_byte(f->state, rel);
    assert_same_inode(f->snapshot, f->state, rel);
    g_autoptr(PpJudgement) j = judge_with(f->state, f->cache);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    const PpTreeDiff *d = ((PpBootEntry *)j->entries->pdata[0])->diffs->pdata[0];
    assert_string_equal(d->kind, "content");
    g_autoptr(PpJudgement) full = judge_with(f->state, NULL);
    g_autofree char *a = evidence(full);
    g_autofree char *b = evidence(j);
    assert_string_equal(a, b);
    (void)state;
}

/* Twin: truncated in place (the same inode). */
static void
test_in_place_truncate_is_seen(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, f->cache);
    g_autofree char *rel = deployed_file(j0, 1);
    g_autofree char *p = g_build_filename(f->state, rel, NULL);
    assert_int_equal(truncate(p, 0), 0);
    assert_same_inode(f->snapshot, f->state, rel);
    g_autoptr(PpJudgement) j = judge_with(f->state, f->cache);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    assert_non_null(strstr(j->reason, "0 bytes"));
    (void)state;
}

/* Twin: truncated the way a model leaves a file (a copy in a new inode,
 * the snapshot's left alone). */
static void
test_truncated_copy_is_seen(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, f->cache);
    g_autofree char *rel = deployed_file(j0, 2);
    g_autofree char *p = g_build_filename(f->state, rel, NULL);
    g_autofree char *content = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(p, &content, &len, NULL));
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(unlink(p), 0);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, st.st_mode & 07777);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len / 2), (ssize_t)(len / 2));
    close(fd);
    g_autoptr(PpJudgement) j = judge_with(f->state, f->cache);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    (void)state;
}

/* Twin: a dirtree object of the repo changed in place, behind a warm
 * cache: the repo is corrupt. */
static void
test_in_place_dirtree_is_seen(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, f->cache);
    assert_int_equal(j0->outcome, PP_OUTCOME_PASS);
    g_autofree char *objects = g_build_filename(f->state, "ostree", "repo",
                                                "objects", NULL);
    g_autoptr(GDir) top = g_dir_open(objects, 0, NULL);
    g_autofree char *rel = NULL;
    const char *xx;
    while (rel == NULL && (xx = g_dir_read_name(top)) != NULL) {
        g_autofree char *sub = g_build_filename(objects, xx, NULL);
        g_autoptr(GDir) d = g_dir_open(sub, 0, NULL);
        const char *n;
        while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
            if (g_str_has_suffix(n, ".dirtree")) {
                rel = g_build_filename("ostree/repo/objects", xx, n, NULL);
                break;
            }
        }
    }
    assert_non_null(rel);
    flip_byte(f->state, rel);
    assert_same_inode(f->snapshot, f->state, rel);
    g_autoptr(PpJudgement) j = judge_with(f->state, f->cache);
    assert_int_not_equal(j->outcome, PP_OUTCOME_PASS);
    assert_false(j->repo.ok);
    (void)state;
}

/* PLUGPULL_ORACLE_NOCACHE=1: the cache is not asked. */
static void
test_nocache_env_bypasses(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, f->cache);
    guint64 h0 = hits(f->cache);
    g_setenv("PLUGPULL_ORACLE_NOCACHE", "1", TRUE);
    g_autoptr(PpJudgement) j = judge_with(f->state, f->cache);
    g_unsetenv("PLUGPULL_ORACLE_NOCACHE");
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    assert_true(hits(f->cache) == h0);
    (void)state;
}

/*
 * States over a farm (crashstate.h): what the oracle took from an earlier
 * state for a subtree or an object the state did not change.  The trace
 * is written by hand over the snapshot: kept up to cut 0 it changes
 * nothing; kept to the end it rewrites a file of the rollback (v1)
 * deployment and deletes one of that commit's objects.
 */
#define ORIG "/orig"

typedef struct {
    CfiTrace *trace;
    CfiReplay *replay;
    CfiFarm *farm;
    guint n;
} Replayed;

static const PpBootEntry *
rollback_entry(const PpJudgement *j)
{
    for (guint i = 0; i < j->entries->len; i++) {
        if ((int)i != j->booted) {
            return j->entries->pdata[i];
        }
    }
    fail_msg("no rollback entry");
    return NULL;
}

/* A file under usr/bin/ of entry rb's deployment, sysroot-relative. */
static char *
rollback_file(const PpBootEntry *rb)
{
    const PpKnownCommit *kc = pp_known_trees_lookup(w.known, rb->commit);
    for (guint i = 0; i < kc->entries->len; i++) {
        const PpTreeEntry *t = kc->entries->pdata[i];
        if (t->type == PP_TREE_FILE && g_str_has_prefix(t->path, "usr/bin/")) {
            return g_build_filename(rb->deploy_path, t->path, NULL);
        }
    }
    fail_msg("no file under usr/bin/ in %s", rb->deploy_path);
    return NULL;
}

/* A content object of commit that is no file of other's tree. */
static const char *
object_only_in(const char *commit, const char *other)
{
    const PpKnownCommit *kc = pp_known_trees_lookup(w.known, commit);
    const PpKnownCommit *ko = pp_known_trees_lookup(w.known, other);
    g_autoptr(GHashTable) theirs = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ko->objects->len; i++) {
        g_hash_table_add(theirs, g_array_index(ko->objects, PpKnownObject,
                                               i).name);
    }
    for (guint i = 0; i < kc->objects->len; i++) {
        const PpKnownObject *o = &g_array_index(kc->objects, PpKnownObject, i);
        if (o->type == OSTREE_OBJECT_TYPE_FILE
            && !g_hash_table_contains(theirs, o->name)) {
            return o->csum;
        }
    }
    return NULL;
}

static void
replay_over(Farm *f, const char *file_rel, const char *object_csum,
            Replayed *out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tpath = g_build_filename(f->dir, "t.cfit", NULL);
    g_autoptr(CfiTraceBuilder) tb = cfi_trace_builder_new(tpath);
    g_autofree char *file = g_build_filename(ORIG, file_rel, NULL);
    cfi_tb_open(tb, file, 3, O_WRONLY | O_TRUNC, 0);
    cfi_tb_write(tb, 3, 0, "changed", 7);
    cfi_tb_close(tb, 3);
    if (object_csum != NULL) {
        g_autofree char *obj = g_strdup_printf(ORIG "/ostree/repo/objects/"
                                               "%.2s/%s.file", object_csum,
                                               object_csum + 2);
        cfi_tb_unlink(tb, obj);
    }
    assert_true(cfi_trace_builder_finish(tb, &error));
    out->trace = cfi_trace_open(tpath, &error);
    assert_non_null(out->trace);
    out->replay = cfi_replay_new(out->trace, ORIG, f->snapshot, &error);
    assert_non_null(out->replay);
    out->n = cfi_replay_n_records(out->replay);
    g_autofree char *fp = g_build_filename(f->dir, "farm", NULL);
    out->farm = cfi_farm_new(fp);
}

static void
replayed_clear(Replayed *r)
{
    cfi_farm_free(r->farm);
    cfi_replay_free(r->replay);
    cfi_trace_free(r->trace);
}

static PpJudgement *
judge_farm_state(Farm *f, Replayed *r, guint k, gboolean use_farm)
{
    g_autoptr(GError) error = NULL;
    assert_true(cfi_replay_materialise_farm(r->replay, k,
                                            CFI_MODEL_PROCESS_KILL, 0,
                                            r->farm, NULL, &error));
    PpOracleOpts o = { .bootloader = PP_BOOTLOADER_BLS, .cache = f->cache,
                       .farm = use_farm ? r->farm : NULL };
    PpJudgement *j = NULL;
    if (!pp_oracle_judge(cfi_farm_get_path(r->farm), w.known, &o, &j,
                         &error)) {
        fail_msg("judge: %s", error->message);
    }
    assert_true(cfi_farm_restore(r->farm, NULL, &error));
    return j;
}

static guint64
unchanged_hits(PpOracleCache *c)
{
    PpOracleCacheStats s;
    pp_oracle_cache_get_stats(c, &s);
    return s.subtree_hits + s.unchanged_object_hits;
}

/* A state that changes nothing, judged again over the farm: the
 * unchanged subtrees and objects come from the first judgement, and the
 * evidence is the full check's. */
static void
test_farm_unchanged_taken_from_before(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, NULL);
    const PpBootEntry *rb = rollback_entry(j0);
    g_autofree char *rel = rollback_file(rb);
    assert_non_null(rel);
    Replayed r = { 0 };
    replay_over(f, rel, NULL, &r);
    g_autoptr(PpJudgement) a = judge_farm_state(f, &r, 0, TRUE);
    guint64 h0 = unchanged_hits(f->cache);
    g_autoptr(PpJudgement) b = judge_farm_state(f, &r, 0, TRUE);
    assert_true(unchanged_hits(f->cache) > h0);
    g_autoptr(PpJudgement) full = judge_farm_state(f, &r, 0, FALSE);
    g_autofree char *ea = evidence(a);
    g_autofree char *eb = evidence(b);
    g_autofree char *ef = evidence(full);
    g_autofree char *e0 = evidence(j0);
    assert_string_equal(ea, e0);
    assert_string_equal(eb, e0);
    assert_string_equal(ef, e0);
    replayed_clear(&r);
    (void)state;
}

/* Twin: after judgements that took the rollback deployment and the
 * objects as unchanged, a state that rewrites one of its files and
 * deletes one of its objects is judged as the full check judges it. */
static void
test_farm_change_after_unchanged_is_seen(void **state)
{
    g_autoptr(Farm) f = farm_new();
    g_autoptr(PpJudgement) j0 = judge_with(f->state, NULL);
    const PpBootEntry *rb = rollback_entry(j0);
    const PpBootEntry *bt = j0->entries->pdata[j0->booted];
    const char *obj = object_only_in(rb->commit, bt->commit);
    assert_non_null(obj);
    g_autofree char *rel = rollback_file(rb);
    Replayed r = { 0 };
    replay_over(f, rel, obj, &r);
    g_autoptr(PpJudgement) a = judge_farm_state(f, &r, 0, TRUE);
    g_autoptr(PpJudgement) b = judge_farm_state(f, &r, 0, TRUE);
    assert_int_equal(b->outcome, PP_OUTCOME_PASS);
    g_autoptr(PpJudgement) c = judge_farm_state(f, &r, r.n, TRUE);
    g_autoptr(PpJudgement) full = judge_farm_state(f, &r, r.n, FALSE);
    assert_int_not_equal(c->outcome, PP_OUTCOME_PASS);
    const PpBootEntry *crb = rollback_entry(c);
    assert_false(crb->tree_complete);
    assert_false(c->repo.ok);
    /* The rewritten file's object (a bare repo hardlinks them) is
     * corrupt too; the deleted one is missing. */
    gboolean named = FALSE;
    for (guint i = 0; i < c->repo.problems->len; i++) {
        named |= strstr(c->repo.problems->pdata[i], obj + 2) != NULL;
    }
    assert_true(named);
    g_autofree char *ec = evidence(c);
    g_autofree char *ef = evidence(full);
    assert_string_equal(ec, ef);
    replayed_clear(&r);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warm_cache_same_judgement),
        cmocka_unit_test(test_in_place_write_is_seen),
        cmocka_unit_test(test_in_place_truncate_is_seen),
        cmocka_unit_test(test_truncated_copy_is_seen),
        cmocka_unit_test(test_in_place_dirtree_is_seen),
        cmocka_unit_test(test_nocache_env_bypasses),
        cmocka_unit_test(test_farm_unchanged_taken_from_before),
        cmocka_unit_test(test_farm_change_after_unchanged_is_seen),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
