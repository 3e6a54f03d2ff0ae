/* SPDX-License-Identifier: MIT */
/*
 * strategy.c: see strategy.h.
 */
#include "sim/strategy.h"

#include <string.h>

#include "cfi-calls.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/ubootenv.h"
#include "common/util.h"

void
pp_slot_setup_clear(PpSlotSetup *s)
{
    g_clear_pointer(&s->root, g_free);
    g_clear_pointer(&s->argv, g_strfreev);
    g_clear_pointer(&s->images_dir, g_free);
    pp_slot_device_clear(&s->dev);
}

/* Run a set-up tool; its stderr in the error when it fails. */
static gboolean
run_tool(const char *const *argv, GError **error)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    /* mke2fs: the same image bytes on every run (times, UUID, hash seed
       fixed below), so a figure measured on one is measured on all. */
    g_subprocess_launcher_setenv(l, "E2FSPROGS_FAKE_TIME", "1700000000",
                                 TRUE);
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, error);
    g_autofree char *err = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, error)) {
        g_prefix_error(error, "running %s: ", argv[0]);
        return FALSE;
    }
    if (!g_subprocess_get_successful(p)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s",
                    argv[0], err != NULL ? g_strchomp(err) : "");
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_du_bytes(const char *path, gint64 *out, GError **error)
{
    g_autoptr(GSubprocess) p = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
        error, "du", "-s", "-B1", path, NULL);
    g_autofree char *s = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, &s, NULL, error)) {
        g_prefix_error(error, "du -s -B1 %s: ", path);
        return FALSE;
    }
    guint64 v = 0;
    g_autofree char *num = s != NULL ? g_strndup(s, strcspn(s, "\t ")) : NULL;
    if (!g_subprocess_get_successful(p) || num == NULL
        || !g_ascii_string_to_unsigned(num, 10, 0, G_MAXINT64, &v, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "du -s -B1 %s: no size", path);
        return FALSE;
    }
    *out = (gint64)v;
    return TRUE;
}

/* Images of every version with a tree (the fixture's three; your
 * firmware's checkouts: server/firmware-repo.h), one size for all (a
 * partition's size is fixed when the device is made: the largest tree
 * and half again). */
static gboolean
make_images(const PpFixture *fx, PpSlotSetup *s, GError **error)
{
    guint64 max_kib = 0;
    for (guint v = 0; v < PP_FIXTURE_N_VERSIONS; v++) {
        if (fx->trees[v] == NULL) {
            continue;           /* your firmware: two versions, not three */
        }
        gint64 bytes = 0;
        if (!pp_du_bytes(fx->trees[v], &bytes, error)) {
            return FALSE;
        }
        max_kib = MAX(max_kib, (guint64)bytes / 1024);
    }
    guint64 size_kib = (max_kib * 3 / 2 + 2048 + 1023) / 1024 * 1024;
    g_autofree char *size_s = g_strdup_printf("%" G_GUINT64_FORMAT "k",
                                              size_kib);
    if (!pp_mkdir_p(s->images_dir, error)) {
        return FALSE;
    }
    for (guint v = 1; v <= PP_FIXTURE_N_VERSIONS; v++) {
        if (fx->trees[v - 1] == NULL) {
            continue;
        }
        g_autofree char *name = g_strdup_printf("v%u.img", v);
        g_autofree char *img = g_build_filename(s->images_dir, name, NULL);
        const char *argv[] = {
            "mke2fs", "-q", "-F", "-t", "ext4", "-L", "root",
            "-U", "6c756770-7075-6c6c-0000-000000000001",
            "-E", "hash_seed=6c756770-7075-6c6c-0000-000000000002,"
                  "root_owner=0:0",
            "-d", fx->trees[v - 1], img, size_s, NULL };
        if (!run_tool(argv, error)) {
            g_prefix_error(error, "making the v%u image: ", v);
            return FALSE;
        }
        s->dev.image_sha256[v - 1] = pp_file_sha256(img, error);
        if (s->dev.image_sha256[v - 1] == NULL) {
            return FALSE;
        }
    }
    s->dev.image_bytes = size_kib * 1024;
    return TRUE;
}

/* A slot file: a copy of version v's image, or zeros for v = 0 (an
 * empty partition). */
static gboolean
make_slot(PpSlotSetup *s, const char *slot, guint v, GError **error)
{
    g_autofree char *name = g_strdup_printf("slot-%s.img", slot);
    g_autofree char *path = g_build_filename(s->root, name, NULL);
    if (v == 0) {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT,
                                                s->dev.image_bytes);
        const char *argv[] = { "truncate", "-s", size, path, NULL };
        return run_tool(argv, error);
    }
    g_autofree char *iname = g_strdup_printf("v%u.img", v);
    g_autofree char *img = g_build_filename(s->images_dir, iname, NULL);
    const char *argv[] = { "cp", "--", img, path, NULL };
    return run_tool(argv, error);
}

/*
 * ab with SWUpdate: a key and certificate of the device's own, the bundle
 * (sw-description naming the new image for the inactive slot through the
 * rawfile handler and setting slot=b, signed with CMS, cpio'd), a copy of
 * /etc holding the device's fw_env.config, and the command: a mount
 * namespace with that copy on /etc (SWUpdate's uboot backend reads
 * /etc/fw_env.config, a path compiled in), swupdate installing the bundle.
 */
static gboolean
swupdate_setup(PpSlotSetup *s, const char *work, const char *to_img,
               const char *slot_b, const char *cfg_text, GError **error)
{
    g_autofree char *dir = g_build_filename(work, "swupdate", NULL);
    g_autofree char *bundle = g_build_filename(dir, "bundle", NULL);
    g_autofree char *etc = g_build_filename(dir, "etc", NULL);
    g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
    g_autofree char *cert = g_build_filename(dir, "cert.pem", NULL);
    g_autofree char *swu = g_build_filename(dir, "update.swu", NULL);
    g_autofree char *conf = g_build_filename(dir, "swupdate.cfg", NULL);
    g_autofree char *img = g_build_filename(bundle, "rootfs.img", NULL);
    g_autofree char *desc = g_build_filename(bundle, "sw-description", NULL);
    g_autofree char *sig = g_build_filename(bundle, "sw-description.sig",
                                           NULL);
    g_autofree char *fwenv = g_build_filename(etc, "fw_env.config", NULL);
    if (!pp_mkdir_p(bundle, error)) {
        return FALSE;
    }
    const char *req[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048",
                          "-nodes", "-keyout", key, "-out", cert, "-subj",
                          "/CN=plugpull-device", "-days", "3650", "-addext",
                          "keyUsage=digitalSignature", "-addext",
                          "extendedKeyUsage=emailProtection", NULL };
    const char *cp_img[] = { "cp", "--", to_img, img, NULL };
    const char *cp_etc[] = { "cp", "-a", "/etc", etc, NULL };
    if (!run_tool(req, error) || !run_tool(cp_img, error)
        || !run_tool(cp_etc, error)) {
        g_prefix_error(error, "preparing SWUpdate: ");
        return FALSE;
    }
    g_autofree char *sha = pp_file_sha256(img, error);
    if (sha == NULL) {
        return FALSE;
    }
    g_autofree char *text = g_strdup_printf(
        "software = {\n"
        "  version = \"2.0\";\n"
        "  hardware-compatibility: [ \"1.0\" ];\n"
        "  images: ( {\n"
        "    filename = \"rootfs.img\";\n"
        "    path = \"%s\";\n"
        "    type = \"rawfile\";\n"
        "    sha256 = \"%s\";\n"
        "  } );\n"
        "  bootenv: ( { name = \"slot\"; value = \"b\"; } );\n"
        "};\n", slot_b, sha);
    if (!g_file_set_contents(desc, text, -1, error)
        || !g_file_set_contents(fwenv, cfg_text, -1, error)
        || !g_file_set_contents(conf, "globals: { loglevel = 3; };\n", -1,
                                error)) {
        g_prefix_error(error, "preparing SWUpdate: ");
        return FALSE;
    }
    const char *sign[] = { "openssl", "cms", "-sign", "-in", desc, "-out",
                           sig, "-signer", cert, "-inkey", key, "-outform",
                           "DER", "-nosmimecap", "-binary", NULL };
    /* The bundle's order is SWUpdate's: the description, its signature,
       then the images. */
    const char *pack[] = { "/bin/sh", "-c",
                           "cd \"$1\" && printf 'sw-description\\n"
                           "sw-description.sig\\nrootfs.img\\n' "
                           "| cpio -o -H crc --quiet >\"$2\"",
                           "pack", bundle, swu, NULL };
    if (!run_tool(sign, error) || !run_tool(pack, error)) {
        g_prefix_error(error, "making the SWUpdate bundle: ");
        return FALSE;
    }
    const char *script =
        "mount --bind \"$1\" /etc && exec swupdate -l 3 -B uboot "
        "-H plugpull:1.0 -i \"$2\" -k \"$3\" -f \"$4\"";
    const char *argv[] = { "unshare", "--mount", "--propagation", "private",
                           "/bin/sh", "-c", script, "swupdate-ab", etc, swu,
                           cert, conf, NULL };
    s->argv = g_strdupv((char **)argv);
    return TRUE;
}

gboolean
pp_slot_setup(const PpScenario *sc, const PpFixture *fx, const char *work,
              PpSlotSetup *out, GError **error)
{
    memset(out, 0, sizeof *out);
    g_return_val_if_fail(sc->strategy == PP_STRATEGY_AB
                         || sc->strategy == PP_STRATEGY_UPDATE_MODE, FALSE);
    out->dev.strategy = sc->strategy;
    out->dev.env_copies = sc->strategy == PP_STRATEGY_AB ? sc->env_copies : 0;
    out->dev.from_version = sc->from_version;
    out->dev.to_version = sc->to_version;
    out->images_dir = g_build_filename(work, "images", NULL);
    out->root = g_build_filename(work, "device", NULL);
    if (!make_images(fx, out, error) || !pp_mkdir_p(out->root, error)
        || !make_slot(out, "a", sc->from_version, error)) {
        return FALSE;
    }
    g_autofree char *to_name = g_strdup_printf("v%u.img", sc->to_version);
    g_autofree char *to_img = g_build_filename(out->images_dir, to_name,
                                               NULL);
    g_autofree char *slot_a = g_build_filename(out->root, "slot-a.img", NULL);
    if (sc->strategy == PP_STRATEGY_UPDATE_MODE) {
        /* notrunc: a partition cannot be truncated; fsync: dd's own. */
        const char *argv[] = { "dd", NULL, NULL, "bs=64k",
                               "conv=notrunc,fsync", "status=none", NULL };
        g_autofree char *if_arg = g_strconcat("if=", to_img, NULL);
        g_autofree char *of_arg = g_strconcat("of=", slot_a, NULL);
        argv[1] = if_arg;
        argv[2] = of_arg;
        out->argv = g_strdupv((char **)argv);
        return TRUE;
    }

    /* ab: slot B empty, the environment naming A; both copies valid, the
       first in use (flag 1 against 0), as fw_setenv leaves a pair. */
    if (!make_slot(out, "b", 0, error)) {
        return FALSE;
    }
    const char *vars[] = { "slot=a", "bootcmd=run boot_slot_${slot}", NULL };
    const char *names[2] = { "uboot.env", "uboot-redund.env" };
    GString *cfg = g_string_new("# plugpull: the device's U-Boot "
                                "environment (libubootenv)\n");
    for (guint i = 0; i < out->dev.env_copies; i++) {
        g_autofree char *p = g_build_filename(out->root, names[i], NULL);
        if (!pp_uboot_env_write(p, vars, out->dev.env_copies > 1,
                                (guint8)(out->dev.env_copies - i), error)) {
            g_string_free(cfg, TRUE);
            return FALSE;
        }
        g_string_append_printf(cfg, "%s 0x0 0x%x\n", p, PP_UBOOTENV_SIZE);
    }
    g_autofree char *cfg_s = g_string_free(cfg, FALSE);
    g_autofree char *cfg_path = g_build_filename(work, "fw_env.config", NULL);
    if (!g_file_set_contents(cfg_path, cfg_s, -1, error)) {
        g_prefix_error(error, "writing %s: ", cfg_path);
        return FALSE;
    }
    /* The inactive slot is B (the device boots A). */
    g_autofree char *slot_b = g_build_filename(out->root, "slot-b.img", NULL);
    if (sc->ab_swupdate) {
        return swupdate_setup(out, work, to_img, slot_b, cfg_s, error);
    }
    const char *script =
        "dd if=\"$1\" of=\"$2\" bs=64k conv=notrunc,fsync status=none "
        "&& fw_setenv -c \"$3\" slot b";
    const char *argv[] = { "/bin/sh", "-c", script, "ab-update", to_img,
                           slot_b, cfg_path, NULL };
    out->argv = g_strdupv((char **)argv);
    return TRUE;
}

void
pp_slot_phases_classify(CfiTrace *trace, const char *root, PpPhases *out)
{
    memset(out, 0, sizeof *out);
    guint n = cfi_trace_n_records(trace);
    gsize rl = strlen(root);
    gint first_slot = -1, last_slot = -1, commit = -1;
    GArray *env_calls = g_array_new(FALSE, FALSE, sizeof(gint));
    /* Only an open names its path: later calls on the descriptor carry
       the file's inode, which the open recorded too. */
    g_autoptr(GHashTable) kind = g_hash_table_new_full(
        g_int64_hash, g_int64_equal, g_free, NULL);
    for (guint i = 0; i < n; i++) {
        const CfiRecord *r = cfi_trace_get(trace, i);
        if (r->rec->result < 0) {
            continue;
        }
        const char *p = r->path;
        const char *rel = p != NULL && strncmp(p, root, rl) == 0
                          && p[rl] == '/' ? p + rl + 1 : NULL;
        gint k = 0;               /* 1: a slot, 2: an environment copy */
        if (rel != NULL) {
            k = g_str_has_prefix(rel, "slot-") ? 1
                : g_str_has_suffix(rel, ".env") ? 2 : 0;
            if (k != 0 && r->rec->ino != 0) {
                gint64 ino = (gint64)r->rec->ino;
                g_hash_table_insert(kind, g_memdup2(&ino, sizeof ino),
                                    GINT_TO_POINTER(k));
            }
        } else if (r->rec->ino != 0) {
            gint64 ino = (gint64)r->rec->ino;
            k = GPOINTER_TO_INT(g_hash_table_lookup(kind, &ino));
        }
        if (k == 1) {
            first_slot = first_slot < 0 ? (gint)i : first_slot;
            last_slot = (gint)i;
        }
        if (k == 2) {
            gint gi = (gint)i;
            g_array_append_val(env_calls, gi);
            commit = (gint)i;     /* the environment's last call: its fsync */
        }
    }
    /* The switch: the environment written after the slot (SWUpdate also
       writes a transaction marker into it before). */
    gint first_env = -1;
    for (guint j = 0; j < env_calls->len; j++) {
        gint e = g_array_index(env_calls, gint, j);
        if (e > last_slot) {
            first_env = e;
            break;
        }
    }
    g_array_free(env_calls, TRUE);
    pp_phases_from_bounds(out, n, first_slot, first_env, commit);
}
