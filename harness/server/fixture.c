/* SPDX-License-Identifier: MIT */
/*
 * fixture.c: see fixture.h.
 *
 * Determinism.  Every byte of every tree comes from GRand seeded with a
 * fixed number and the file's "tag" (name@generation), every mode is set
 * explicitly (the umask does not leak in), xattrs are not imported, owners
 * are forced to 0:0 and the commits carry fixed timestamps.  A file keeps
 * its tag, hence its bytes and its object, across versions until a version
 * changes it on purpose.
 */
#include "server/fixture.h"
#include "common/error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostree.h>

#include "common/client.h"

#define PP_FIXTURE_SEED 0x706c7567u     /* "plug" */
#define PP_FIXTURE_N_DATA 24            /* small payload files in v1 */
#define PP_FIXTURE_N_NEW 4              /* files v2 adds */
#define PP_FIXTURE_VMLINUZ_SIZE (512 * 1024)
#define PP_FIXTURE_INITRAMFS_SIZE (256 * 1024)
#define PP_FIXTURE_BUSYBOX "/bin/busybox"

static const char *const busybox_applets[] = {
    "sh", "ls", "cat", "mount", "sync", "reboot", NULL,
};

void
pp_fixture_free(PpFixture *fx)
{
    if (fx == NULL) {
        return;
    }
    g_free(fx->dir);
    g_free(fx->srv_repo);
    g_free(fx->sysroot);
    g_free(fx->osname);
    g_free(fx->ref);
    g_free(fx->kver);
    g_free(fx->srv_dir);
    g_free(fx->again);
    g_free(fx->again_timestamp);
    for (guint i = 0; i < PP_FIXTURE_N_VERSIONS; i++) {
        g_free(fx->commits[i]);
        g_free(fx->trees[i]);
    }
    g_free(fx);
}

/* size pseudo-random bytes, a pure function of the fixed seed and tag. */
static GBytes *
seeded_bytes(const char *tag, gsize size)
{
    guint32 seed[3] = { PP_FIXTURE_SEED, g_str_hash(tag), (guint32)strlen(tag) };
    g_autoptr(GRand) rand = g_rand_new_with_seed_array(seed, G_N_ELEMENTS(seed));
    guint8 *buf = g_malloc(size);
    for (gsize i = 0; i < size; i += 4) {
        guint32 v = GUINT32_TO_LE(g_rand_int(rand));
        memcpy(buf + i, &v, MIN((gsize)4, size - i));
    }
    return g_bytes_new_take(buf, size);
}

/* ---- building a tree: each helper takes the tree root and a relative path */

static gboolean
tree_dir(const char *root, const char *rel, mode_t mode, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    if (mkdir(path, mode) < 0 && errno != EEXIST) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", path);
    }
    if (chmod(path, mode) < 0) {
        return pp_throw_errno_prefix(error, "chmod(%s)", path);
    }
    return TRUE;
}

static gboolean
tree_bytes(const char *root, const char *rel, const void *data, gsize len,
           mode_t mode, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    /* No fsync: these trees are inputs to `ostree commit`, not state under
     * test. */
    if (!g_file_set_contents_full(path, data, (gssize)len,
                                  G_FILE_SET_CONTENTS_NONE, (int)mode, error)) {
        g_prefix_error(error, "write %s: ", path);
        return FALSE;
    }
    if (chmod(path, mode) < 0) {
        return pp_throw_errno_prefix(error, "chmod(%s)", path);
    }
    return TRUE;
}

static gboolean
tree_text(const char *root, const char *rel, const char *text, GError **error)
{
    return tree_bytes(root, rel, text, strlen(text), 0644, error);
}

static gboolean
tree_seeded(const char *root, const char *rel, const char *tag, gsize size,
            mode_t mode, GError **error)
{
    g_autoptr(GBytes) b = seeded_bytes(tag, size);
    gsize len = 0;
    const void *data = g_bytes_get_data(b, &len);
    return tree_bytes(root, rel, data, len, mode, error);
}

static gboolean
tree_link(const char *root, const char *rel, const char *target, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    if (symlink(target, path) < 0) {
        g_autofree char *what = g_strdup_printf("%s -> %s", path, target);
        return pp_throw_errno_prefix(error, "symlink(%s)", what);
    }
    return TRUE;
}

static gboolean
tree_copy(const char *root, const char *rel, const char *src, mode_t mode,
          GError **error)
{
    g_autofree char *contents = NULL;
    gsize len = 0;
    if (!g_file_get_contents(src, &contents, &len, error)) {
        g_prefix_error(error, "read %s: ", src);
        return FALSE;
    }
    return tree_bytes(root, rel, contents, len, mode, error);
}

/* Generation (1..3) of the tag of data file i in a version; 0 = absent. */
static guint
data_generation(guint version, guint i)
{
    if (version >= 2 && i % 8 == 1) {
        return 0;               /* removed in v2 */
    }
    if (version >= 3 && i == 3) {
        return 0;               /* removed in v3 */
    }
    if (version >= 3 && i % 4 == 2) {
        return 3;               /* modified in v3 */
    }
    if (version >= 2 && i % 4 == 0) {
        return 2;               /* modified in v2 */
    }
    return 1;
}

/* Generation of added file j (0..PP_FIXTURE_N_NEW-1); 0 = absent. */
static guint
new_generation(guint version, guint j)
{
    if (version < 2 || (version >= 3 && j == 0)) {
        return 0;               /* added in v2; new-00 removed in v3 */
    }
    if (version >= 3 && j == 1) {
        return 3;
    }
    return 2;
}

static gboolean
build_tree(const char *root, guint version, guint payload_kb, GError **error)
{
    static const char *const dirs[] = {
        "usr", "usr/bin", "usr/lib", "usr/lib/modules",
        "usr/lib/modules/" PP_FIXTURE_KVER, "usr/lib/plugpull", "usr/share",
        "usr/share/plugpull", "usr/share/plugpull/data", "usr/etc",
        "sysroot", "boot", "dev", "proc", "sys", "run", "var", NULL,
    };
    guint kernel = version >= 2 ? 2 : 1;
    gsize payload = (gsize)payload_kb * 1024;
    gsize data_size = MAX(payload / 2 / PP_FIXTURE_N_DATA, (gsize)1);
    g_autofree char *tag = NULL;

    if (mkdir(root, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", root);
    }
    if (chmod(root, 0755) < 0) {
        return pp_throw_errno_prefix(error, "chmod(%s)", root);
    }
    for (const char *const *d = dirs; *d != NULL; d++) {
        if (!tree_dir(root, *d, 0755, error)) {
            return FALSE;
        }
    }
    if (!tree_dir(root, "tmp", 01777, error)) {
        return FALSE;
    }
    /* The usual /usr-merge links and the ostree one prepare-root needs. */
    if (!tree_link(root, "bin", "usr/bin", error)
        || !tree_link(root, "sbin", "usr/bin", error)
        || !tree_link(root, "lib", "usr/lib", error)
        || !tree_link(root, "ostree", "sysroot/ostree", error)) {
        return FALSE;
    }

    /* A real static binary, shared by every version. */
    if (!tree_copy(root, "usr/bin/busybox", PP_FIXTURE_BUSYBOX, 0755, error)) {
        return FALSE;
    }
    for (const char *const *a = busybox_applets; *a != NULL; a++) {
        g_autofree char *rel = g_strconcat("usr/bin/", *a, NULL);
        if (!tree_link(root, rel, "busybox", error)) {
            return FALSE;
        }
    }

    /* Kernel: K1 in v1, K2 in v2 and v3 (see fixture.h). */
    g_free(tag);
    tag = g_strdup_printf("vmlinuz@%u", kernel);
    if (!tree_seeded(root, "usr/lib/modules/" PP_FIXTURE_KVER "/vmlinuz", tag,
                     PP_FIXTURE_VMLINUZ_SIZE, 0644, error)) {
        return FALSE;
    }
    g_free(tag);
    tag = g_strdup_printf("initramfs@%u", kernel);
    if (!tree_seeded(root, "usr/lib/modules/" PP_FIXTURE_KVER "/initramfs.img",
                     tag, PP_FIXTURE_INITRAMFS_SIZE, 0644, error)) {
        return FALSE;
    }

    g_autofree char *os_release = g_strdup_printf(
        "ID=plugpull\nNAME=plugpull\nPRETTY_NAME=\"plugpull fixture %u\"\n"
        "VERSION_ID=%u\n", version, version);
    if (!tree_text(root, "usr/lib/os-release", os_release, error)) {
        return FALSE;
    }

    /* /etc: a constant file, one that every version changes (3-way merge
     * input), one that v2 adds. */
    g_autofree char *conf = g_strdup_printf(
        "# plugpull fixture device configuration\nversion=%u\n"
        "server=http://127.0.0.1/repo\n", version);
    if (!tree_text(root, "usr/etc/hostname", "plugpull-device\n", error)
        || !tree_text(root, "usr/etc/fstab", "LABEL=root / ext4 rw 0 1\n", error)
        || !tree_text(root, "usr/etc/plugpull.conf", conf, error)) {
        return FALSE;
    }
    if (version >= 2) {
        if (!tree_dir(root, "usr/etc/plugpull.d", 0755, error)
            || !tree_text(root, "usr/etc/plugpull.d/feature.conf",
                          "feature=on\n", error)) {
            return FALSE;
        }
    }

    /* The larger binary changes in every version. */
    g_free(tag);
    tag = g_strdup_printf("app.bin@%u", version);
    if (!tree_seeded(root, "usr/lib/plugpull/app.bin", tag,
                     MAX(payload / 2, (gsize)1), 0755, error)) {
        return FALSE;
    }

    for (guint i = 0; i < PP_FIXTURE_N_DATA; i++) {
        guint gen = data_generation(version, i);
        if (gen == 0) {
            continue;
        }
        g_autofree char *rel = g_strdup_printf("usr/share/plugpull/data/f%02u.dat", i);
        g_free(tag);
        tag = g_strdup_printf("f%02u@%u", i, gen);
        if (!tree_seeded(root, rel, tag, data_size, 0644, error)) {
            return FALSE;
        }
    }
    for (guint j = 0; j < PP_FIXTURE_N_NEW; j++) {
        guint gen = new_generation(version, j);
        if (gen == 0) {
            continue;
        }
        g_autofree char *rel = g_strdup_printf("usr/share/plugpull/data/new-%02u.dat", j);
        g_free(tag);
        tag = g_strdup_printf("new-%02u@%u", j, gen);
        if (!tree_seeded(root, rel, tag, data_size, 0644, error)) {
            return FALSE;
        }
    }

    /* Symlinks: one constant, one retargeted by every version, one added. */
    static const char *const current[] = {
        "data/f00.dat", "data/f02.dat", "data/new-01.dat",
    };
    if (!tree_link(root, "usr/share/plugpull/stable", "data/f04.dat", error)
        || !tree_link(root, "usr/share/plugpull/current", current[version - 1],
                      error)) {
        return FALSE;
    }
    if (version >= 2
        && !tree_link(root, "usr/share/plugpull/tool", "../../bin/busybox", error)) {
        return FALSE;
    }
    if (version >= 3) {
        if (!tree_dir(root, "usr/share/plugpull/v3-only", 0755, error)
            || !tree_seeded(root, "usr/share/plugpull/v3-only/x.dat", "x@3",
                            data_size, 0644, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- running ostree */

static char *
argv_to_string(const char *const *argv)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (const char *const *a = argv; *a != NULL; a++) {
        if (s->len > 0) {
            g_string_append_c(s, ' ');
        }
        g_autofree char *q = g_shell_quote(*a);
        /* Quote only what needs it, so messages stay readable. */
        g_string_append(s, strpbrk(*a, " \t'\"$\\;&|<>*?") != NULL ? q : *a);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static gboolean
run_ostree(gboolean device, const char *const *args, char **out_stdout,
           GError **error)
{
    static const char *const device_env[] = {
        "OSTREE_SYSROOT_DEBUG=mutable-deployments",
        "OSTREE_SYSROOT_OPTS=skip-sync",
        NULL,
    };
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)"ostree");
    for (const char *const *a = args; *a != NULL; a++) {
        g_ptr_array_add(argv, (char *)*a);
    }
    g_ptr_array_add(argv, NULL);
    const char *const *av = (const char *const *)argv->pdata;

    PpClientOpts opts = {
        .config = NULL,
        .userns = device,
        .env = device ? device_env : NULL,
        .capture = TRUE,
    };
    PpClientResult res = { 0 };
    if (!pp_client_run(&opts, av, &res, error)) {
        return FALSE;
    }
    if (res.exit_status != 0) {
        g_autofree char *cmd = argv_to_string(av);
        g_autofree char *err = g_strdup(res.err != NULL ? res.err : "");
        if (res.term_signal != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "%s%s: killed by signal %d: %s", device ? "(userns) " : "",
                        cmd, res.term_signal, g_strstrip(err));
        } else {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "%s%s: exit status %d: %s", device ? "(userns) " : "",
                        cmd, res.exit_status, g_strstrip(err));
        }
        pp_client_result_clear(&res);
        return FALSE;
    }
    if (out_stdout != NULL) {
        *out_stdout = g_steal_pointer(&res.out);
    }
    pp_client_result_clear(&res);
    return TRUE;
}

gboolean
pp_fixture_ostree_device(const char *const *argv, char **out_stdout,
                         GError **error)
{
    return run_ostree(TRUE, argv, out_stdout, error);
}

gboolean
pp_fixture_ostree_host(const char *const *argv, char **out_stdout,
                       GError **error)
{
    return run_ostree(FALSE, argv, out_stdout, error);
}

/* ---- the public steps */


gboolean
pp_fixture_build_repo(const char *dir, guint payload_kb, PpFixture **out,
                      GError **error)
{
    if (payload_kb == 0) {
        payload_kb = PP_FIXTURE_DEFAULT_PAYLOAD_KB;
    }
    if (!g_file_test(PP_FIXTURE_BUSYBOX, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "fixture: %s missing (install busybox-static)",
                    PP_FIXTURE_BUSYBOX);
        return FALSE;
    }
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", dir);
    }
    g_autoptr(PpFixture) fx = g_new0(PpFixture, 1);
    fx->dir = g_canonicalize_filename(dir, NULL);
    fx->srv_dir = g_build_filename(fx->dir, "srv", NULL);
    fx->srv_repo = g_build_filename(fx->srv_dir, "repo", NULL);
    fx->sysroot = g_build_filename(fx->dir, "sysroot", NULL);
    fx->osname = g_strdup(PP_FIXTURE_OSNAME);
    fx->ref = g_strdup(PP_FIXTURE_REF);
    fx->kver = g_strdup(PP_FIXTURE_KVER);
    fx->payload_kb = payload_kb;

    g_autofree char *trees_dir = g_build_filename(fx->dir, "trees", NULL);
    const char *const fresh[] = { fx->srv_dir, trees_dir, fx->sysroot, NULL };
    for (const char *const *p = fresh; *p != NULL; p++) {
        if (g_file_test(*p, G_FILE_TEST_EXISTS)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "fixture: %s already exists (use a fresh directory)", *p);
            return FALSE;
        }
    }
    if (mkdir(trees_dir, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", trees_dir);
    }
    if (mkdir(fx->srv_dir, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", fx->srv_dir);
    }
    if (mkdir(fx->srv_repo, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", fx->srv_repo);
    }
    g_autofree char *repo_opt = g_strconcat("--repo=", fx->srv_repo, NULL);
    const char *init[] = { "init", repo_opt, "--mode=archive", NULL };
    if (!run_ostree(FALSE, init, NULL, error)) {
        return FALSE;
    }

    for (guint v = 1; v <= PP_FIXTURE_N_VERSIONS; v++) {
        g_autofree char *name = g_strdup_printf("v%u", v);
        fx->trees[v - 1] = g_build_filename(trees_dir, name, NULL);
        if (!build_tree(fx->trees[v - 1], v, payload_kb, error)) {
            g_prefix_error(error, "fixture: building tree v%u: ", v);
            return FALSE;
        }
        /* Every version is committed on the branch, so each carries the
         * ref binding a client checks and has the previous one as parent;
         * the ref is reset to v1 below.  Fixed timestamps keep the
         * checksums stable and increasing (ostree refuses to upgrade to an
         * older commit). */
        g_autofree char *tree_opt = g_strconcat("--tree=dir=", fx->trees[v - 1], NULL);
        g_autofree char *version_opt = g_strdup_printf("--add-metadata-string=version=%u", v);
        g_autofree char *subject_opt = g_strdup_printf("--subject=plugpull fixture v%u", v);
        g_autofree char *ts_opt = g_strdup_printf("--timestamp=2024-01-0%u 00:00:00 +0000", v);
        g_autofree char *branch_opt = g_strconcat("--branch=", fx->ref, NULL);
        const char *commit[] = {
            "commit", repo_opt, "--bootable", "--owner-uid=0", "--owner-gid=0",
            "--no-xattrs", ts_opt, version_opt, subject_opt, tree_opt,
            branch_opt, NULL,
        };
        g_autofree char *checksum = NULL;
        if (!run_ostree(FALSE, commit, &checksum, error)) {
            return FALSE;
        }
        g_strstrip(checksum);
        if (!ostree_validate_checksum_string(checksum, error)) {
            g_prefix_error(error, "fixture: ostree commit v%u: ", v);
            return FALSE;
        }
        fx->commits[v - 1] = g_steal_pointer(&checksum);
    }
    if (!pp_fixture_publish(fx, 1, error)) {
        return FALSE;
    }
    *out = g_steal_pointer(&fx);
    return TRUE;
}

/*
 * The U-Boot backend edits the uEnv.txt that boot/loader points to, so a
 * device image ships one before the first deployment: boot/loader.0 with
 * an empty uEnv.txt and boot/loader -> loader.0, as meta-updater images
 * have.  The first deploy then writes loader.1 and swaps.
 */
static gboolean
seed_uboot_env(const char *sysroot, GError **error)
{
    g_autofree char *dir = g_build_filename(sysroot, "boot", "loader.0", NULL);
    g_autofree char *env = g_build_filename(dir, "uEnv.txt", NULL);
    g_autofree char *link = g_build_filename(sysroot, "boot", "loader", NULL);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", dir);
    }
    /* Not a result: the fixture is an input (see tree_bytes). */
    if (!g_file_set_contents(env, "", 0, error)) {
        g_prefix_error(error, "fixture: ");
        return FALSE;
    }
    if (symlink("loader.0", link) < 0 && errno != EEXIST) {
        return pp_throw_errno_prefix(error, "symlink(%s)", link);
    }
    return TRUE;
}

gboolean
pp_fixture_make_sysroot(PpFixture *fx, const char *remote_url, GError **error)
{
    return pp_fixture_make_sysroot_full(fx, remote_url, "none", error);
}

gboolean
pp_fixture_make_sysroot_full(PpFixture *fx, const char *remote_url,
                             const char *bootloader_name, GError **error)
{
    /* "bls" is what a user says; ostree calls that backend "none". */
    if (g_strcmp0(bootloader_name, "bls") == 0) {
        bootloader_name = "none";
    }
    if (g_strcmp0(bootloader_name, "none") != 0
        && g_strcmp0(bootloader_name, "uboot") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "fixture: unknown bootloader '%s' (uboot, bls)",
                    bootloader_name);
        return FALSE;
    }
    if (mkdir(fx->sysroot, 0755) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", fx->sysroot);
    }
    g_autofree char *sysroot_opt = g_strconcat("--sysroot=", fx->sysroot, NULL);
    g_autofree char *repo_path = g_build_filename(fx->sysroot, "ostree", "repo", NULL);
    g_autofree char *repo_opt = g_strconcat("--repo=", repo_path, NULL);
    g_autofree char *os_opt = g_strconcat("--os=", fx->osname, NULL);
    g_autofree char *refspec = g_strconcat("origin:", fx->ref, NULL);

    const char *init_fs[] = { "admin", "init-fs", fx->sysroot, NULL };
    const char *os_init[] = { "admin", "os-init", sysroot_opt, fx->osname, NULL };
    /* Named explicitly, never detected: detection could find the host's
     * grub and run grub-mkconfig (research notes, section 4, pitfall 5).
     * "uboot" writes boot/loader.N/uEnv.txt beside the BLS entries, as on
     * meta-updater devices; "none" writes BLS entries only. */
    const char *bootloader[] = {
        "config", repo_opt, "set", "sysroot.bootloader", bootloader_name, NULL,
    };
    const char *remote[] = {
        "remote", repo_opt, "add", "--no-gpg-verify", "origin", remote_url,
        fx->ref, NULL,
    };
    const char *pull[] = { "pull", repo_opt, "origin", fx->ref, NULL };
    const char *deploy[] = {
        "admin", "deploy", sysroot_opt, os_opt, "--karg=root=LABEL=root",
        "--karg=rw", refspec, NULL,
    };
    const char *const *steps[] = { init_fs, os_init, bootloader, remote, pull,
                                   deploy, NULL };
    for (const char *const *const *s = steps; *s != NULL; s++) {
        if (*s == deploy && g_str_equal(bootloader_name, "uboot")
            && !seed_uboot_env(fx->sysroot, error)) {
            return FALSE;
        }
        if (!run_ostree(TRUE, *s, NULL, error)) {
            g_prefix_error(error, "fixture: making sysroot %s: ", fx->sysroot);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
pp_fixture_publish(PpFixture *fx, guint version, GError **error)
{
    if (version < 1 || version > PP_FIXTURE_N_VERSIONS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "fixture: publish: no version %u (1..%u)", version,
                    PP_FIXTURE_N_VERSIONS);
        return FALSE;
    }
    g_autofree char *repo_opt = g_strconcat("--repo=", fx->srv_repo, NULL);
    /* `ostree reset` sets the ref to any commit, ancestor or not, so a
     * test can also publish an older version. */
    const char *reset[] = { "reset", repo_opt, fx->ref, fx->commits[version - 1], NULL };
    const char *summary[] = { "summary", repo_opt, "-u", NULL };
    if (!run_ostree(FALSE, reset, NULL, error)
        || !run_ostree(FALSE, summary, NULL, error)) {
        g_prefix_error(error, "fixture: publish v%u: ", version);
        return FALSE;
    }
    fx->published = version;
    return TRUE;
}

gboolean
pp_fixture_generate_delta(PpFixture *fx, guint from, guint to, GError **error)
{
    if (from < 1 || to < 1 || from > PP_FIXTURE_N_VERSIONS
        || to > PP_FIXTURE_N_VERSIONS || from == to) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "fixture: static delta v%u -> v%u: no such pair", from, to);
        return FALSE;
    }
    g_autofree char *repo_opt = g_strconcat("--repo=", fx->srv_repo, NULL);
    g_autofree char *from_opt = g_strconcat("--from=", fx->commits[from - 1], NULL);
    g_autofree char *to_opt = g_strconcat("--to=", fx->commits[to - 1], NULL);
    const char *gen[] = { "static-delta", "generate", repo_opt, from_opt,
                          to_opt, NULL };
    const char *summary[] = { "summary", repo_opt, "-u", NULL };
    if (!run_ostree(FALSE, gen, NULL, error)
        || !run_ostree(FALSE, summary, NULL, error)) {
        g_prefix_error(error, "fixture: static delta v%u -> v%u: ", from, to);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_fixture_set_remote_url(PpFixture *fx, const char *remote_url, GError **error)
{
    g_autofree char *repo_path = g_build_filename(fx->sysroot, "ostree", "repo", NULL);
    g_autofree char *repo_opt = g_strconcat("--repo=", repo_path, NULL);
    const char *set[] = {
        "config", repo_opt, "set", "remote \"origin\".url", remote_url, NULL,
    };
    if (!run_ostree(TRUE, set, NULL, error)) {
        g_prefix_error(error, "fixture: set remote URL: ");
        return FALSE;
    }
    return TRUE;
}

/* Your firmware's commit published again keeps the original's "version"
   metadata (*out: the commit option; NULL when it has none). */
static gboolean
again_version(const PpFixture *fx, guint version, char **out, GError **error)
{
    g_autoptr(GFile) file = g_file_new_for_path(fx->srv_repo);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(file);
    g_autoptr(GVariant) cv = NULL;
    if (!ostree_repo_open(repo, NULL, error)
        || !ostree_repo_load_commit(repo, fx->commits[version - 1], &cv, NULL,
                                    error)) {
        g_prefix_error(error, "fixture: publish v%u again: ", version);
        return FALSE;
    }
    g_autoptr(GVariant) meta = g_variant_get_child_value(cv, 0);
    const char *v = NULL;
    if (g_variant_lookup(meta, OSTREE_COMMIT_META_KEY_VERSION, "&s", &v)) {
        *out = g_strdup_printf("--add-metadata-string=version=%s", v);
    }
    return TRUE;
}

gboolean
pp_fixture_publish_again(PpFixture *fx, guint version, GError **error)
{
    if (version < 1 || version > PP_FIXTURE_N_VERSIONS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "fixture: publish again: no version %u (1..%u)", version,
                    PP_FIXTURE_N_VERSIONS);
        return FALSE;
    }
    g_autofree char *repo_opt = g_strconcat("--repo=", fx->srv_repo, NULL);
    /* The same tree, by reference: not one object of it is new. */
    g_autofree char *tree_opt = g_strconcat("--tree=ref=",
                                            fx->commits[version - 1], NULL);
    g_autofree char *version_opt = NULL;
    if (fx->again_timestamp == NULL) {
        version_opt = g_strdup_printf("--add-metadata-string=version=%u",
                                      version);
    } else if (!again_version(fx, version, &version_opt, error)) {
        return FALSE;
    }
    g_autofree char *subject_opt = g_strdup_printf(
        "--subject=plugpull fixture v%u again", version);
    g_autofree char *branch_opt = g_strconcat("--branch=", fx->ref, NULL);
    g_autofree char *date_opt = g_strconcat(
        "--timestamp=", fx->again_timestamp != NULL ? fx->again_timestamp
        : "2024-01-09 00:00:00 +0000", NULL);
    /* The fixture's trees are committed with fixed owners and no xattrs;
     * a user's tree by reference keeps its own (an override would make
     * every object with another owner new). */
    const char *fixed[] = { "--owner-uid=0", "--owner-gid=0", "--no-xattrs",
                            NULL };
    g_autoptr(GPtrArray) commit_v = g_ptr_array_new();
    const char *head[] = { "commit", repo_opt, "--bootable", NULL };
    for (const char *const *a = head; *a != NULL; a++) {
        g_ptr_array_add(commit_v, (gpointer)*a);
    }
    for (const char *const *a = fixed;
         fx->again_timestamp == NULL && *a != NULL; a++) {
        g_ptr_array_add(commit_v, (gpointer)*a);
    }
    const char *tail[] = { date_opt, subject_opt, tree_opt, branch_opt,
                           version_opt, NULL };
    for (const char *const *a = tail; *a != NULL; a++) {
        g_ptr_array_add(commit_v, (gpointer)*a);
    }
    g_ptr_array_add(commit_v, NULL);
    const char *const *commit = (const char *const *)commit_v->pdata;
    const char *summary[] = { "summary", repo_opt, "-u", NULL };
    g_autofree char *checksum = NULL;
    if (!run_ostree(FALSE, commit, &checksum, error)) {
        g_prefix_error(error, "fixture: publish v%u again: ", version);
        return FALSE;
    }
    g_strstrip(checksum);
    if (!ostree_validate_checksum_string(checksum, error)
        || !run_ostree(FALSE, summary, NULL, error)) {
        g_prefix_error(error, "fixture: publish v%u again: ", version);
        return FALSE;
    }
    g_free(fx->again);
    fx->again = g_steal_pointer(&checksum);
    fx->published = version;
    return TRUE;
}
