/* SPDX-License-Identifier: MIT */
/*
 * test-oracle.c: the oracle judges real sysroots built by ostree (the
 * fixture firmware, v1 deployed then upgraded to v2: two deployments), in
 * a BLS-only and a U-Boot variant.  Each test copies a sysroot (cp -a),
 * breaks it the way a power cut could, and checks the outcome and the
 * evidence.  Tests come in pairs: every failure the oracle must see has a
 * twin where the same setup is intact (or repaired) and passes, and every
 * pass has a twin proving the check behind it fires.
 *
 * The fixture is built once per run (a few seconds); every ostree command
 * runs in a user namespace (see fixture.h).
 */
#include <fcntl.h>
#include <stdio.h>

#include "cfi-test-util.h"

#include "server/fixture.h"
#include "oracle/oracle.h"

typedef struct {
    char *dir;
    PpFixture *fx;
    char *bls;                  /* sysroot, bootloader none, v2 + v1 */
    char *uboot;                /* sysroot, bootloader uboot, v2 + v1 */
    PpKnownTrees *known;        /* v1, v2, v3 from the server repo */
} World;

static World w;

/* Per test: a copy of a sysroot. */
typedef struct {
    char *dir;
    char *root;
} Copy;

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

static void
ostree_device(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    if (!pp_fixture_ostree_device(argv, NULL, &error)) {
        fail_msg("%s", error->message);
    }
}

static int
group_setup(void **state)
{
    g_autoptr(GError) error = NULL;
    w.dir = tu_mkdtemp();
    g_autofree char *fxdir = g_build_filename(w.dir, "fx", NULL);
    const char *kb = g_getenv("PP_ORACLE_PAYLOAD_KB");
    guint payload_kb = kb != NULL ? (guint)g_ascii_strtoull(kb, NULL, 10) : 512;
    if (!pp_fixture_build_repo(fxdir, payload_kb, &w.fx, &error)) {
        fprintf(stderr, "fixture: %s\n", error->message);
        return -1;
    }
    g_autofree char *url = g_strconcat("file://", w.fx->srv_repo, NULL);
    if (!pp_fixture_make_sysroot(w.fx, url, &error)) {
        fprintf(stderr, "fixture: %s\n", error->message);
        return -1;
    }
    w.bls = g_strdup(w.fx->sysroot);
    w.uboot = g_build_filename(w.dir, "sysroot-uboot", NULL);
    const char *cp[] = { "cp", "-a", w.bls, w.uboot, NULL };
    run_or_fail(cp);
    /* ostree's U-Boot backend is chosen by config and needs an existing
     * boot/loader/uEnv.txt to rewrite (research notes, section 4). */
    g_autofree char *urepo = g_strconcat("--repo=", w.uboot, "/ostree/repo", NULL);
    const char *cfg[] = { "config", urepo, "set", "sysroot.bootloader", "uboot", NULL };
    ostree_device(cfg);
    tu_write(w.uboot, "boot/loader/uEnv.txt", "", 0644);

    if (!pp_fixture_publish(w.fx, 2, &error)) {
        fprintf(stderr, "fixture: %s\n", error->message);
        return -1;
    }
    const char *roots[] = { w.bls, w.uboot };
    for (guint i = 0; i < G_N_ELEMENTS(roots); i++) {
        g_autofree char *opt = g_strconcat("--sysroot=", roots[i], NULL);
        const char *up[] = { "admin", "upgrade", opt, "--os=" PP_FIXTURE_OSNAME, NULL };
        if (!pp_fixture_ostree_device(up, NULL, &error)) {
            fprintf(stderr, "fixture: %s\n", error->message);
            return -1;
        }
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
    g_free(w.bls);
    g_free(w.uboot);
    (void)state;
    return 0;
}

static Copy *
copy_of(const char *sysroot)
{
    Copy *c = g_new0(Copy, 1);
    c->dir = tu_mkdtemp();
    c->root = g_build_filename(c->dir, "sysroot", NULL);
    const char *cp[] = { "cp", "-a", sysroot, c->root, NULL };
    run_or_fail(cp);
    return c;
}

static void
copy_free(Copy *c)
{
    tu_rm_rf(c->dir);
    g_free(c->dir);
    g_free(c->root);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Copy, copy_free)

static PpJudgement *
judge_opts(const char *root, const PpOracleOpts *opts)
{
    g_autoptr(GError) error = NULL;
    PpJudgement *j = NULL;
    if (!pp_oracle_judge(root, w.known, opts, &j, &error)) {
        fail_msg("judge: %s", error->message);
    }
    if (g_getenv("PP_VERBOSE") != NULL) {
        g_autofree char *t = pp_judgement_to_text(j);
        fprintf(stderr, "%s", t);
    }
    return j;
}

static PpJudgement *
judge(const char *root)
{
    return judge_opts(root, NULL);
}

static PpBootEntry *
entry(const PpJudgement *j, guint i)
{
    assert_true(i < j->entries->len);
    return j->entries->pdata[i];
}

static void
assert_contains(const char *hay, const char *needle)
{
    if (hay == NULL || strstr(hay, needle) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", hay != NULL ? hay : "(null)",
                 needle);
    }
}

static void
truncate_at(const char *root, const char *rel)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    assert_int_equal(truncate(p, 0), 0);
}

/* A path both v1 and v2 have as a regular file with different contents
 * of the same size if possible (a stale file that only hashing reveals). */
static const char *
changed_file(gboolean same_size)
{
    const PpKnownCommit *v1 = pp_known_trees_lookup(w.known, w.fx->commits[0]);
    const PpKnownCommit *v2 = pp_known_trees_lookup(w.known, w.fx->commits[1]);
    for (guint i = 0; i < v2->entries->len; i++) {
        const PpTreeEntry *b = v2->entries->pdata[i];
        const PpTreeEntry *a = pp_known_commit_lookup(v1, b->path);
        if (a != NULL && a->type == PP_TREE_FILE && b->type == PP_TREE_FILE
            && strcmp(a->checksum, b->checksum) != 0
            && !g_str_has_prefix(b->path, "usr/etc/")
            && !g_str_has_prefix(b->path, "usr/lib/modules/")
            && (a->size == b->size) == same_size) {
            return b->path;
        }
    }
    return NULL;
}

/* ---- known trees from a device's own repo (inspect without --repo) ---- */

static gboolean
add_from_own_repo(const char *root, const char *commit, GError **error)
{
    g_autofree char *rp = g_build_filename(root, "ostree", "repo", NULL);
    g_autoptr(GFile) f = g_file_new_for_path(rp);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(f);
    g_autoptr(PpKnownTrees) kt = pp_known_trees_new();
    return ostree_repo_open(repo, NULL, error)
           && pp_known_trees_add(kt, repo, commit, error);
}

static void
test_known_trees_from_device_repo(void **state)
{
    g_autoptr(GError) error = NULL;
    assert_true(add_from_own_repo(w.uboot, w.fx->commits[1], &error));
    assert_null(error);
}

/* A power cut without fsync leaves a commit object as zeros of its
 * length: refused with the reason, where libostree's own reading of it
 * crashes. */
static void
test_known_trees_zeroed_commit_fail(void **state)
{
    g_autoptr(Copy) c = copy_of(w.uboot);
    const char *csum = w.fx->commits[1];
    g_autofree char *rel = g_strdup_printf("ostree/repo/objects/%.2s/%s.commit",
                                           csum, csum + 2);
    g_autofree char *p = g_build_filename(c->root, rel, NULL);
    gsize len = 0;
    g_autofree char *data = NULL;
    assert_true(g_file_get_contents(p, &data, &len, NULL));
    memset(data, 0, len);
    assert_int_equal(unlink(p), 0);     /* hardlinked: do not write through */
    assert_true(g_file_set_contents(p, data, (gssize)len, NULL));
    g_autoptr(GError) error = NULL;
    assert_false(add_from_own_repo(c->root, csum, &error));
    assert_contains(error->message, "Corrupted commit object");
}

/* ---- the layout counts ----------------------------------------------- */

static void
test_layout_counted(void **state)
{
    g_autoptr(PpJudgement) j = judge(w.uboot);
    assert_int_equal(j->n_loader_dirs, 1);
    assert_int_equal(j->n_deploy_dirs, 2);
    assert_true(j->n_boot_dirs >= 2);
}

/* A swap cut between the new loader.N and the symlink: one loader dir
 * more, and the verdict does not change. */
static void
test_layout_extra_loader_dir_fail(void **state)
{
    g_autoptr(Copy) c = copy_of(w.uboot);
    g_autoptr(PpJudgement) before = judge(c->root);
    g_autofree char *cur = g_build_filename(c->root, "boot", "loader", NULL);
    g_autofree char *target = g_file_read_link(cur, NULL);
    g_autofree char *other = g_build_filename(
        c->root, "boot", g_str_equal(target, "loader.0") ? "loader.1"
                                                         : "loader.0", NULL);
    assert_int_equal(g_mkdir_with_parents(other, 0755), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->n_loader_dirs, 2);
    assert_int_equal(j->outcome, before->outcome);
    g_autoptr(JsonNode) n = pp_judgement_to_json(j);
    JsonObject *layout = json_object_get_object_member(json_node_get_object(n),
                                                       "layout");
    assert_int_equal(json_object_get_int_member(layout, "loader_dirs"), 2);
}

/* ---- intact sysroots pass / the default kernel emptied -------------- */

static void
check_intact(const PpJudgement *j, const char *backend)
{
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    assert_string_equal(j->backend, backend);
    assert_int_equal(j->entries->len, 2);
    assert_int_equal(j->booted, 0);
    assert_false(j->fell_back);
    const PpBootEntry *e0 = entry(j, 0);
    const PpBootEntry *e1 = entry(j, 1);
    assert_true(e0->bootable);
    assert_string_equal(e0->commit, w.fx->commits[1]);
    assert_true(e0->tree_checked && e0->tree_known && e0->tree_complete);
    assert_string_equal(e0->tree_version, "2");
    assert_string_equal(e0->bootcsum, e0->bootcsum_actual);
    assert_string_equal(e1->commit, w.fx->commits[0]);
    assert_true(e1->bootable && e1->tree_complete);
    assert_true(j->repo.checked && j->repo.ok);
    assert_int_equal(j->repo.n_problems, 0);
    assert_true(j->repo.n_objects_checked > 0);
}

static void
test_bls_intact_passes(void **state)
{
    g_autoptr(PpJudgement) j = judge(w.bls);
    check_intact(j, "bls");
    assert_contains(entry(j, 0)->source, "/entries/ostree-2-plugpull.conf");
    (void)state;
}

static void
test_uboot_intact_passes(void **state)
{
    g_autoptr(PpJudgement) j = judge(w.uboot);
    check_intact(j, "uboot");
    assert_contains(entry(j, 0)->source, "uEnv.txt");
    assert_contains(entry(j, 1)->source, "kernel_image2");
    (void)state;
}

/* The U-Boot twin: uEnv.txt is what U-Boot reads, not the BLS entries. */
static void
test_uboot_empty_uenv_bricks(void **state)
{
    g_autoptr(Copy) c = copy_of(w.uboot);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *uenv = g_strdup_printf("boot/loader.%d/uEnv.txt",
                                            j0->bootversion);
    truncate_at(c->root, uenv);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_int_equal(j->booted, -1);
    assert_contains(j->loader_error, "no kernel_image");
    /* The same state judged as BLS still boots: the entries are intact. */
    PpOracleOpts bls = { .bootloader = PP_BOOTLOADER_BLS };
    g_autoptr(PpJudgement) jb = judge_opts(c->root, &bls);
    assert_int_equal(jb->outcome, PP_OUTCOME_PASS);
    (void)state;
}

/* The /boot path of entry i's kernel, relative to the sysroot. */
static char *
kernel_rel(const PpJudgement *j, guint i)
{
    const char *kernel = entry(j, i)->linux_path;
    return strcmp(j->backend, "bls") == 0 ? g_strconcat("boot", kernel, NULL)
                                          : g_strdup(kernel + 1);
}

/*
 * The default entry's kernel emptied.  A new empty inode: the copy in
 * /boot lost (a separate /boot gets copies, not hardlinks), the repo
 * intact.
 */
static void
check_default_kernel_emptied(const char *sysroot)
{
    g_autoptr(Copy) c = copy_of(sysroot);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *rel = kernel_rel(j0, 0);
    g_autofree char *p = g_build_filename(c->root, rel, NULL);
    assert_int_equal(unlink(p), 0);
    assert_true(g_file_set_contents(p, "", 0, NULL));

    /* A bootloader without fallback: brick, and the evidence names the
     * entry and the empty kernel. */
    PpOracleOpts strict = { .no_fallback = TRUE };
    g_autoptr(PpJudgement) j = judge_opts(c->root, &strict);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_int_equal(j->booted, -1);
    assert_false(entry(j, 0)->bootable);
    assert_contains(entry(j, 0)->boot_error, "kernel");
    assert_contains(entry(j, 0)->boot_error, "empty");
    assert_true(entry(j, 1)->bootable);
    assert_contains(j->reason, "entry 0");

    /* With fallback the rollback entry boots v1: the device lives, but
     * that entry is its last: no-rollback. */
    g_autoptr(PpJudgement) jf = judge(c->root);
    assert_int_equal(jf->outcome, PP_OUTCOME_NO_ROLLBACK);
    assert_int_equal(jf->booted, 1);
    assert_true(jf->fell_back);
    assert_true(jf->repo.ok);
    assert_string_equal(entry(jf, 1)->commit, w.fx->commits[0]);
}

static void
test_bls_empty_kernel_bricks(void **state)
{
    check_default_kernel_emptied(w.bls);
    (void)state;
}

/*
 * Truncated in place instead: on one file system the /boot kernel is a
 * hardlink of the repo object (and of the deployment's usr/lib/modules
 * file), so the repo is corrupt too; that outranks no-rollback.
 */
static void
test_kernel_truncated_in_place_corrupts_repo(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *rel = kernel_rel(j0, 0);
    truncate_at(c->root, rel);
    PpOracleOpts strict = { .no_fallback = TRUE };
    g_autoptr(PpJudgement) js = judge_opts(c->root, &strict);
    assert_int_equal(js->outcome, PP_OUTCOME_BRICK);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_REPO_CORRUPT);
    assert_true(j->fell_back);
    assert_contains(j->repo.problems->pdata[0], "corrupt");
    (void)state;
}

static void
test_uboot_empty_kernel_bricks(void **state)
{
    check_default_kernel_emptied(w.uboot);
    (void)state;
}

/* Both kernels gone: nothing boots even with fallback. */
static void
test_all_kernels_emptied_bricks(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    for (guint i = 0; i < j0->entries->len; i++) {
        g_autofree char *rel = kernel_rel(j0, i);
        truncate_at(c->root, rel);
    }
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_contains(j->reason, "nor does any other entry");
    (void)state;
}

/* A kernel with the right size but other bytes: only the bootcsum shows. */
static void
test_bootcsum_mismatch_bricks(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *rel = g_strconcat("boot", entry(j0, 0)->linux_path, NULL);
    g_autofree char *p = g_build_filename(c->root, rel, NULL);
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\0\0\0\0", 4, 100), 4);
    close(fd);
    PpOracleOpts strict = { .no_fallback = TRUE };
    g_autoptr(PpJudgement) j = judge_opts(c->root, &strict);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_contains(entry(j, 0)->boot_error, "bootcsum mismatch");
    assert_string_not_equal(entry(j, 0)->bootcsum, entry(j, 0)->bootcsum_actual);
    (void)state;
}

/* ---- boot/loader -> loader.M with ostree/boot.M missing / present --- */

/*
 * Make loader.M (M = 1-N) a copy of loader.N whose entries name
 * ostree/boot.M, and swap boot/loader to it: the state after the loader
 * swap when the boot.M link was not durable.  with_bootlink: also create
 * ostree/boot.M (the twin: the same swap with the link durable).
 */
static void
swap_loader(const char *root, int n, gboolean with_bootlink)
{
    int m = 1 - n;
    g_autofree char *src = g_strdup_printf("%s/boot/loader.%d", root, n);
    g_autofree char *dst = g_strdup_printf("%s/boot/loader.%d", root, m);
    const char *cp[] = { "cp", "-a", src, dst, NULL };
    run_or_fail(cp);
    g_autofree char *from = g_strdup_printf("ostree=/ostree/boot.%d/", n);
    g_autofree char *to = g_strdup_printf("ostree=/ostree/boot.%d/", m);
    g_autofree char *edir = g_build_filename(dst, "entries", NULL);
    g_autoptr(GDir) d = g_dir_open(edir, 0, NULL);
    assert_non_null(d);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(edir, name, NULL);
        g_autofree char *text = NULL;
        assert_true(g_file_get_contents(p, &text, NULL, NULL));
        g_auto(GStrv) parts = g_strsplit(text, from, -1);
        g_autofree char *out = g_strjoinv(to, parts);
        assert_true(g_file_set_contents(p, out, -1, NULL));
    }
    g_autofree char *loader = g_build_filename(root, "boot/loader", NULL);
    g_autofree char *target = g_strdup_printf("loader.%d", m);
    assert_int_equal(unlink(loader), 0);
    assert_int_equal(symlink(target, loader), 0);
    if (with_bootlink) {
        g_autofree char *oldlink = g_strdup_printf("%s/ostree/boot.%d", root, n);
        g_autofree char *newlink = g_strdup_printf("%s/ostree/boot.%d", root, m);
        g_autofree char *t = g_file_read_link(oldlink, NULL);
        assert_non_null(t);
        assert_int_equal(symlink(t, newlink), 0);
    }
}

static void
test_loader_swap_without_bootlink_bricks(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    int n = j0->bootversion;
    swap_loader(c->root, n, FALSE);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_int_equal(j->bootversion, 1 - n);
    g_autofree char *missing = g_strdup_printf("ostree/boot.%d", 1 - n);
    for (guint i = 0; i < j->entries->len; i++) {
        assert_false(entry(j, i)->bootable);
        assert_contains(entry(j, i)->boot_error, missing);
        assert_contains(entry(j, i)->boot_error, "No such file");
    }
    (void)state;
}

static void
test_loader_swap_with_bootlink_passes(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    int n = j0->bootversion;
    swap_loader(c->root, n, TRUE);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    assert_int_equal(j->bootversion, 1 - n);
    assert_string_equal(entry(j, 0)->commit, w.fx->commits[1]);
    (void)state;
}

static void
test_missing_loader_link_bricks(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autofree char *loader = g_build_filename(c->root, "boot/loader", NULL);
    assert_int_equal(unlink(loader), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_contains(j->loader_error, "boot/loader");
    assert_int_equal(j->entries->len, 0);
    (void)state;
}

/* ---- the booted tree ------------------------------------------------ */

/* A v1 file left in the v2 deployment (a new inode: the repo is intact). */
static void
test_stale_v1_file_is_wrong_tree(void **state)
{
    const char *path = changed_file(TRUE);
    if (path == NULL) {
        path = changed_file(FALSE);
    }
    assert_non_null(path);
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *v2 = g_build_filename(c->root, entry(j0, 0)->deploy_path,
                                           path, NULL);
    g_autofree char *v1 = g_build_filename(c->root, entry(j0, 1)->deploy_path,
                                           path, NULL);
    assert_int_equal(unlink(v2), 0);
    const char *cp[] = { "cp", "-a", v1, v2, NULL };
    run_or_fail(cp);

    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    assert_int_equal(j->booted, 0);
    const PpBootEntry *e = entry(j, 0);
    assert_true(e->tree_known);
    assert_false(e->tree_complete);
    assert_int_equal(e->n_diffs, 1);
    const PpTreeDiff *d = e->diffs->pdata[0];
    assert_string_equal(d->path, path);
    assert_contains(d->detail, "as in version 1");
    assert_true(j->repo.ok);    /* the deployment file was a copy */
    assert_contains(j->reason, path);
    (void)state;
}

/* The twin: the same file put back from v2 makes the tree complete. */
static void
test_restored_v2_file_passes(void **state)
{
    const char *path = changed_file(TRUE);
    if (path == NULL) {
        path = changed_file(FALSE);
    }
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *v2 = g_build_filename(c->root, entry(j0, 0)->deploy_path,
                                           path, NULL);
    g_autofree char *tmp = g_strconcat(v2, ".keep", NULL);
    const char *cp[] = { "cp", "-a", v2, tmp, NULL };
    run_or_fail(cp);
    assert_int_equal(unlink(v2), 0);
    assert_int_equal(rename(tmp, v2), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    (void)state;
}

/* A v2 file truncated in place (its inode is the repo object's too). */
static void
test_truncated_file_is_wrong_tree(void **state)
{
    const char *path = changed_file(TRUE);
    if (path == NULL) {
        path = changed_file(FALSE);
    }
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *rel = g_build_filename(entry(j0, 0)->deploy_path, path, NULL);
    truncate_at(c->root, rel);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    const PpTreeDiff *d = entry(j, 0)->diffs->pdata[0];
    assert_string_equal(d->path, path);
    assert_string_equal(d->kind, "size");
    assert_contains(d->detail, "0 bytes");
    /* The shared inode makes the object corrupt too, reported below the
     * wrong tree by precedence. */
    assert_false(j->repo.ok);
    assert_contains(j->repo.problems->pdata[0], "corrupt");
    (void)state;
}

/* An extra file, and exempt places where extra files are ostree's. */
static void
test_extra_file_is_wrong_tree(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    const char *dp = entry(j0, 0)->deploy_path;
    g_autofree char *exempt_var = g_build_filename(dp, "var/lib/new", NULL);
    g_autofree char *exempt_etc = g_build_filename(dp, "etc/local.conf", NULL);
    tu_write(c->root, exempt_var, "x", 0644);
    tu_write(c->root, exempt_etc, "x", 0644);
    g_autoptr(PpJudgement) jok = judge(c->root);
    assert_int_equal(jok->outcome, PP_OUTCOME_PASS);

    g_autofree char *extra = g_build_filename(dp, "usr/bin/intruder", NULL);
    tu_write(c->root, extra, "x", 0755);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    const PpTreeDiff *d = entry(j, 0)->diffs->pdata[0];
    assert_string_equal(d->path, "usr/bin/intruder");
    assert_string_equal(d->kind, "extra");
    (void)state;
}

/* etc/ must hold every path of usr/etc (merged copy). */
static void
test_unmerged_etc_is_wrong_tree(void **state)
{
    const PpKnownCommit *v2 = pp_known_trees_lookup(w.known, w.fx->commits[1]);
    const char *etcfile = NULL;
    for (guint i = 0; i < v2->entries->len && etcfile == NULL; i++) {
        const PpTreeEntry *e = v2->entries->pdata[i];
        if (e->type == PP_TREE_FILE && g_str_has_prefix(e->path, "usr/etc/")) {
            etcfile = e->path + strlen("usr/");
        }
    }
    assert_non_null(etcfile);
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *p = g_build_filename(c->root, entry(j0, 0)->deploy_path,
                                          etcfile, NULL);
    /* Changing a merged etc file is the administrator's right: pass. */
    assert_int_equal(unlink(p), 0);
    assert_true(g_file_set_contents(p, "local change\n", -1, NULL));
    g_autoptr(PpJudgement) jok = judge(c->root);
    assert_int_equal(jok->outcome, PP_OUTCOME_PASS);
    /* Losing it is not. */
    assert_int_equal(unlink(p), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    const PpTreeDiff *d = entry(j, 0)->diffs->pdata[0];
    assert_string_equal(d->path, etcfile);
    assert_string_equal(d->kind, "missing");
    (void)state;
}

/* A deployment of a commit the server never had. */
static void
test_unknown_commit_is_wrong_tree(void **state)
{
    g_autoptr(GError) error = NULL;
    /* The same sysroot judged against v3 alone: v2 is unknown then. */
    const char *only_v3[] = { w.fx->commits[2], NULL };
    g_autoptr(PpKnownTrees) kt = pp_known_trees_load(w.fx->srv_repo, only_v3,
                                                     &error);
    assert_non_null(kt);
    g_autoptr(PpJudgement) j = NULL;
    assert_true(pp_oracle_judge(w.bls, kt, NULL, &j, &error));
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    assert_false(entry(j, 0)->tree_known);
    assert_contains(entry(j, 0)->tree_error, "not a known one");
    (void)state;
}

/* ---- the repo ------------------------------------------------------- */

static void
test_deleted_object_is_repo_corrupt(void **state)
{
    const char *path = changed_file(TRUE);
    if (path == NULL) {
        path = changed_file(FALSE);
    }
    const PpKnownCommit *v2 = pp_known_trees_lookup(w.known, w.fx->commits[1]);
    const PpTreeEntry *e = pp_known_commit_lookup(v2, path);
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autofree char *obj = g_strdup_printf("ostree/repo/objects/%.2s/%s.file",
                                           e->checksum, e->checksum + 2);
    g_autofree char *p = g_build_filename(c->root, obj, NULL);
    assert_int_equal(unlink(p), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_REPO_CORRUPT);
    assert_true(entry(j, 0)->tree_complete);    /* the hardlink survived */
    assert_false(j->repo.ok);
    assert_int_equal(j->repo.n_problems, 1);
    assert_contains(j->repo.problems->pdata[0], obj + strlen("ostree/repo/"));
    assert_contains(j->repo.problems->pdata[0], "missing");
    (void)state;
}

/* ---- the stat overlay: modes and owners a copy could not keep --------- */

/* chmod 0600 a file of the deployed v2 (a bare repo object too: the same
 * inode), as an extraction that cannot keep modes would; *out_st is the
 * file's stat afterwards, *out_want its entry in v2. */
static void
lose_mode(const Copy *c, struct stat *out_st, const PpTreeEntry **out_want)
{
    const char *path = changed_file(TRUE);
    if (path == NULL) {
        path = changed_file(FALSE);
    }
    const PpKnownCommit *v2 = pp_known_trees_lookup(w.known, w.fx->commits[1]);
    *out_want = pp_known_commit_lookup(v2, path);
    assert_non_null(*out_want);
    assert_int_not_equal((*out_want)->mode, 0600);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *p = g_build_filename(c->root, entry(j0, 0)->deploy_path,
                                          path, NULL);
    assert_int_equal(chmod(p, 0600), 0);
    assert_int_equal(lstat(p, out_st), 0);
}

static void
test_lost_mode_is_wrong_tree(void **state)
{
    g_autoptr(Copy) c = copy_of(w.uboot);
    struct stat st;
    const PpTreeEntry *want = NULL;
    lose_mode(c, &st, &want);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_WRONG_TREE);
    const PpTreeDiff *d = entry(j, 0)->diffs->pdata[0];
    assert_string_equal(d->path, want->path);
    assert_string_equal(d->kind, "mode");
    assert_contains(d->detail, "0600");
    assert_false(j->repo.ok);   /* the object's checksum covers the mode */
    (void)state;
}

/* The twin: the overlay gives the inode its mode back, for the deployment
 * and for the repo object alike. */
static void
test_overlay_restores_lost_mode(void **state)
{
    g_autoptr(Copy) c = copy_of(w.uboot);
    struct stat st;
    const PpTreeEntry *want = NULL;
    lose_mode(c, &st, &want);
    g_autoptr(PpStatOverlay) o = pp_stat_overlay_new();
    pp_stat_overlay_set(o, st.st_dev, st.st_ino, want->mode, want->uid,
                        want->gid);
    PpOracleOpts opts = { .overlay = o };
    g_autoptr(PpJudgement) j = judge_opts(c->root, &opts);
    check_intact(j, "uboot");
    (void)state;
}

/* A deleted metadata object (a dirtree of the deployed commit). */
static void
test_deleted_dirtree_is_repo_corrupt(void **state)
{
    const PpKnownCommit *v2 = pp_known_trees_lookup(w.known, w.fx->commits[1]);
    const char *csum = NULL;
    for (guint i = 0; i < v2->objects->len && csum == NULL; i++) {
        const PpKnownObject *o = &g_array_index(v2->objects, PpKnownObject, i);
        if (o->type == OSTREE_OBJECT_TYPE_DIR_TREE) {
            csum = o->csum;
        }
    }
    assert_non_null(csum);
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autofree char *p = g_strdup_printf("%s/ostree/repo/objects/%.2s/%s.dirtree",
                                         c->root, csum, csum + 2);
    assert_int_equal(unlink(p), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_REPO_CORRUPT);
    assert_contains(j->repo.problems->pdata[0], csum);
    (void)state;
}

/*
 * A ref to a commit that is only partly there: fine while
 * state/C.commitpartial says so (an interrupted pull), corrupt once the
 * marker is lost.
 */
static void
test_partial_commit_marker(void **state)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autofree char *repo = g_strconcat("--repo=", c->root, "/ostree/repo", NULL);
    const char *pull[] = { "pull-local", repo, "--commit-metadata-only",
                           w.fx->srv_repo, w.fx->commits[2], NULL };
    ostree_device(pull);
    g_autofree char *create = g_strconcat("--create=test/v3", NULL);
    const char *ref[] = { "refs", repo, create, w.fx->commits[2], NULL };
    ostree_device(ref);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    gboolean found = FALSE;
    for (guint i = 0; i < j->repo.refs->len; i++) {
        const PpRefInfo *r = j->repo.refs->pdata[i];
        if (strcmp(r->name, "test/v3") == 0) {
            assert_true(r->partial);
            found = TRUE;
        }
    }
    assert_true(found);

    g_autofree char *marker = g_strdup_printf("%s/ostree/repo/state/%s.commitpartial",
                                              c->root, w.fx->commits[2]);
    assert_int_equal(unlink(marker), 0);
    g_autoptr(PpJudgement) jl = judge(c->root);
    assert_int_equal(jl->outcome, PP_OUTCOME_REPO_CORRUPT);
    assert_contains(jl->repo.problems->pdata[0], "ref test/v3");
    (void)state;
}

/* ---- rollback ------------------------------------------------------- */

static void
check_rollback_removed(const char *sysroot)
{
    g_autoptr(Copy) c = copy_of(sysroot);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    g_autofree char *dep = g_build_filename(c->root, entry(j0, 1)->deploy_path, NULL);
    tu_rm_rf(dep);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_NO_ROLLBACK);
    assert_int_equal(j->booted, 0);
    assert_true(entry(j, 0)->tree_complete);
    assert_false(entry(j, 1)->bootable);
    assert_contains(entry(j, 1)->boot_error, "ostree=");
    assert_contains(j->reason, "entry 1");
}

static void
test_bls_rollback_removed_is_no_rollback(void **state)
{
    check_rollback_removed(w.bls);
    (void)state;
}

static void
test_uboot_rollback_removed_is_no_rollback(void **state)
{
    check_rollback_removed(w.uboot);
    (void)state;
}

/* An incomplete rollback tree is no-rollback too, not wrong-tree. */
static void
test_incomplete_rollback_is_no_rollback(void **state)
{
    const PpKnownCommit *v1 = pp_known_trees_lookup(w.known, w.fx->commits[0]);
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    const char *victim = NULL;
    for (guint i = 0; i < v1->entries->len && victim == NULL; i++) {
        const PpTreeEntry *e = v1->entries->pdata[i];
        if (e->type == PP_TREE_FILE && g_str_has_prefix(e->path, "usr/share/")) {
            victim = e->path;
        }
    }
    if (victim == NULL) {
        victim = "usr/lib/os-release";
    }
    g_autofree char *p = g_build_filename(c->root, entry(j0, 1)->deploy_path,
                                          victim, NULL);
    assert_int_equal(unlink(p), 0);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_NO_ROLLBACK);
    assert_true(entry(j, 1)->bootable);
    assert_false(entry(j, 1)->tree_complete);
    const PpTreeDiff *d = entry(j, 1)->diffs->pdata[0];
    assert_string_equal(d->path, victim);
    assert_string_equal(d->kind, "missing");
    (void)state;
}

/* ---- BLS order: strverscmp, not strcmp ------------------------------ */

static void
set_entry_version(const char *root, const char *source, const char *version)
{
    g_autofree char *p = g_build_filename(root, source, NULL);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(p, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        if (g_str_has_prefix(*l, "version ")) {
            g_free(*l);
            *l = g_strconcat("version ", version, NULL);
        }
    }
    g_autofree char *out = g_strjoinv("\n", lines);
    assert_true(g_file_set_contents(p, out, -1, NULL));
}

static void
check_versions(const char *v2_version, const char *v1_version,
               const char *want_booted)
{
    g_autoptr(Copy) c = copy_of(w.bls);
    g_autoptr(PpJudgement) j0 = judge(c->root);
    set_entry_version(c->root, entry(j0, 0)->source, v2_version);
    set_entry_version(c->root, entry(j0, 1)->source, v1_version);
    g_autoptr(PpJudgement) j = judge(c->root);
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    assert_string_equal(entry(j, 0)->commit, want_booted);
}

static void
test_bls_order_is_strverscmp(void **state)
{
    /* strcmp would put "9" before "10". */
    check_versions("10", "9", w.fx->commits[1]);
    (void)state;
}

static void
test_bls_order_follows_version(void **state)
{
    check_versions("9", "10", w.fx->commits[0]);
    (void)state;
}

/* ---- resolving inside the sysroot ----------------------------------- */

static void
test_resolve_relative_links(void **state)
{
    g_autofree char *d = tu_mkdtemp();
    tu_write(d, "a/b/file", "x", 0644);
    g_autofree char *l1 = g_build_filename(d, "a/link", NULL);
    g_autofree char *l2 = g_build_filename(d, "top", NULL);
    assert_int_equal(symlink("b/file", l1), 0);
    assert_int_equal(symlink("a/../a/link", l2), 0);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    g_autoptr(GError) error = NULL;
    g_autofree char *rel = NULL;
    assert_true(pp_oracle_resolve_in_root(dfd, "/top", TRUE, &rel, &error));
    assert_string_equal(rel, "a/b/file");
    g_autofree char *rel2 = NULL;
    assert_true(pp_oracle_resolve_in_root(dfd, "/top", FALSE, &rel2, &error));
    assert_string_equal(rel2, "top");
    close(dfd);
    tu_rm_rf(d);
    (void)state;
}

static void
test_resolve_refuses_escapes(void **state)
{
    g_autofree char *d = tu_mkdtemp();
    tu_write(d, "a/file", "x", 0644);
    g_autofree char *abs = g_build_filename(d, "abs", NULL);
    g_autofree char *up = g_build_filename(d, "up", NULL);
    assert_int_equal(symlink("/etc/passwd", abs), 0);
    assert_int_equal(symlink("../../etc/passwd", up), 0);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    g_autofree char *rel = NULL;
    assert_false(pp_oracle_resolve_in_root(dfd, "abs", TRUE, &rel, &e1));
    assert_contains(e1->message, "leaves the sysroot");
    assert_false(pp_oracle_resolve_in_root(dfd, "up", TRUE, &rel, &e2));
    assert_contains(e2->message, "leaves the sysroot");
    assert_false(pp_oracle_resolve_in_root(dfd, "a/missing/x", TRUE, &rel, &e3));
    assert_contains(e3->message, "a/missing");
    close(dfd);
    tu_rm_rf(d);
    (void)state;
}

/* ---- JSON and timing ------------------------------------------------ */

static void
test_json_carries_evidence(void **state)
{
    g_autoptr(PpJudgement) j = judge(w.uboot);
    g_autoptr(JsonNode) n = pp_judgement_to_json(j);
    JsonObject *o = json_node_get_object(n);
    assert_string_equal(json_object_get_string_member(o, "outcome"), "pass");
    JsonArray *es = json_object_get_array_member(o, "entries");
    assert_int_equal(json_array_get_length(es), 2);
    JsonObject *e0 = json_array_get_object_element(es, 0);
    assert_string_equal(json_object_get_string_member(e0, "commit"),
                        w.fx->commits[1]);
    assert_true(json_object_get_boolean_member(
                    json_object_get_object_member(e0, "tree"), "complete"));
    (void)state;
}

static int
cmp_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a;
    gint64 y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* Not a pass/fail check beyond "pass": prints the cost of one judgement. */
static void
test_judgement_time(void **state)
{
    const char *roots[] = { w.bls, w.uboot };
    const char *names[] = { "bls", "uboot" };
    const PpKnownCommit *v2 = pp_known_trees_lookup(w.known, w.fx->commits[1]);
    for (guint r = 0; r < G_N_ELEMENTS(roots); r++) {
        gint64 t[9];
        for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
            g_autoptr(PpJudgement) j = judge(roots[r]);
            assert_int_equal(j->outcome, PP_OUTCOME_PASS);
            t[i] = j->elapsed_us;
        }
        qsort(t, G_N_ELEMENTS(t), sizeof t[0], cmp_gint64);
        fprintf(stderr, "oracle: %s judgement: median %.1f ms (min %.1f, max "
                "%.1f) over %zu runs; tree %u paths, %" G_GUINT64_FORMAT
                " bytes\n", names[r], t[G_N_ELEMENTS(t) / 2] / 1000.0,
                t[0] / 1000.0, t[G_N_ELEMENTS(t) - 1] / 1000.0, G_N_ELEMENTS(t),
                v2->entries->len, v2->n_bytes);
    }
    (void)state;
}

/* ---- two views: the bootloader's and the kernel's -------------------- */

/*
 * The kernel's view after a swap the bootloader has not seen written home
 * (ostree#3392): a copy of root whose boot/loader.N and ostree/boot.N have
 * moved to number M = 1 - N, entries pointing at ostree/boot.M, so that on
 * its own it boots the same trees.
 */
static Copy *
swapped_copy(const char *root)
{
    g_autoptr(PpJudgement) j0 = judge(root);
    int n = j0->bootversion;
    int m = 1 - n;
    Copy *c = copy_of(root);
    g_autofree char *sh = g_strdup_printf(
        "set -e; cd '%s'; rm -rf boot/loader.%d; cp -a boot/loader.%d "
        "boot/loader.%d; sed -i 's|/ostree/boot.%d/|/ostree/boot.%d/|g' "
        "boot/loader.%d/uEnv.txt; mv ostree/boot.%d ostree/boot.%d; "
        "ln -sfn loader.%d boot/loader.new; mv -T boot/loader.new boot/loader",
        c->root, m, n, m, n, m, m, n, m, m);
    const char *argv[] = { "sh", "-c", sh, NULL };
    run_or_fail(argv);
    return c;
}

static void
test_two_views_old_loader_bricks(void **state)
{
    /* The bootloader reads the old loader and its ostree=/ostree/boot.N;
       the kernel's view has only boot.M: the default entry dangles. */
    g_autoptr(Copy) k = swapped_copy(w.uboot);
    g_autoptr(PpJudgement) alone = judge(k->root);
    assert_int_equal(alone->outcome, PP_OUTCOME_PASS);
    PpOracleOpts o = { .no_fallback = TRUE, .boot_view = w.uboot };
    g_autoptr(PpJudgement) j = judge_opts(k->root, &o);
    assert_int_equal(j->outcome, PP_OUTCOME_BRICK);
    assert_true(j->two_views);
    assert_true(j->views_differ);
    assert_false(entry(j, 0)->bootable);
    assert_contains(entry(j, 0)->boot_error, "ostree=/ostree/boot.");
    assert_contains(j->reason, "no journal replay");
    assert_contains(j->reason, "where the kernel's view has loader.");
    g_autoptr(JsonNode) js = pp_judgement_to_json(j);
    JsonObject *views = json_object_get_object_member(
        json_node_get_object(js), "views");
    assert_non_null(views);
    assert_true(json_object_get_boolean_member(views, "differ"));
    (void)state;
}

static void
test_two_views_old_loader_bricks_fail(void **state)
{
    /* Views that agree (the freeze wrote the swap home) judge as one. */
    g_autoptr(Copy) k = swapped_copy(w.uboot);
    g_autoptr(Copy) b = copy_of(k->root);
    PpOracleOpts o = { .no_fallback = TRUE, .boot_view = b->root };
    g_autoptr(PpJudgement) j = judge_opts(k->root, &o);
    PpOracleOpts one = { .no_fallback = TRUE };
    g_autoptr(PpJudgement) j1 = judge_opts(k->root, &one);
    assert_int_equal(j->outcome, PP_OUTCOME_PASS);
    assert_true(j->two_views);
    assert_false(j->views_differ);
    assert_string_equal(j->reason, j1->reason);
    assert_false(j1->two_views);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bls_intact_passes),
        cmocka_unit_test(test_bls_empty_kernel_bricks),
        cmocka_unit_test(test_kernel_truncated_in_place_corrupts_repo),
        cmocka_unit_test(test_uboot_intact_passes),
        cmocka_unit_test(test_uboot_empty_kernel_bricks),
        cmocka_unit_test(test_uboot_empty_uenv_bricks),
        cmocka_unit_test(test_two_views_old_loader_bricks),
        cmocka_unit_test(test_two_views_old_loader_bricks_fail),
        cmocka_unit_test(test_all_kernels_emptied_bricks),
        cmocka_unit_test(test_bootcsum_mismatch_bricks),
        cmocka_unit_test(test_loader_swap_with_bootlink_passes),
        cmocka_unit_test(test_loader_swap_without_bootlink_bricks),
        cmocka_unit_test(test_missing_loader_link_bricks),
        cmocka_unit_test(test_known_trees_from_device_repo),
        cmocka_unit_test(test_known_trees_zeroed_commit_fail),
        cmocka_unit_test(test_layout_counted),
        cmocka_unit_test(test_layout_extra_loader_dir_fail),
        cmocka_unit_test(test_restored_v2_file_passes),
        cmocka_unit_test(test_stale_v1_file_is_wrong_tree),
        cmocka_unit_test(test_truncated_file_is_wrong_tree),
        cmocka_unit_test(test_extra_file_is_wrong_tree),
        cmocka_unit_test(test_unmerged_etc_is_wrong_tree),
        cmocka_unit_test(test_unknown_commit_is_wrong_tree),
        cmocka_unit_test(test_lost_mode_is_wrong_tree),
        cmocka_unit_test(test_overlay_restores_lost_mode),
        cmocka_unit_test(test_deleted_object_is_repo_corrupt),
        cmocka_unit_test(test_deleted_dirtree_is_repo_corrupt),
        cmocka_unit_test(test_partial_commit_marker),
        cmocka_unit_test(test_bls_rollback_removed_is_no_rollback),
        cmocka_unit_test(test_uboot_rollback_removed_is_no_rollback),
        cmocka_unit_test(test_incomplete_rollback_is_no_rollback),
        cmocka_unit_test(test_bls_order_is_strverscmp),
        cmocka_unit_test(test_bls_order_follows_version),
        cmocka_unit_test(test_resolve_relative_links),
        cmocka_unit_test(test_resolve_refuses_escapes),
        cmocka_unit_test(test_json_carries_evidence),
        cmocka_unit_test(test_judgement_time),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
