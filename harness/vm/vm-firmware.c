/* SPDX-License-Identifier: MIT */
/*
 * vm-firmware.c: see vm-firmware.h.
 */
#include "vm/vm-firmware.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <ostree.h>

#include "common/durable.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "server/firmware-repo.h"
#include "server/fixture.h"
#include "server/httpd.h"
#include "vm/vm-boot.h"
#include "vm/vm-disk.h"
#include "vm/vm-qemu.h"

/* Partition 1 at 1 MiB, as images/build-image.sh makes it. */
#define PART_START_SECTORS 2048
/* Sparse: only what mke2fs writes takes room.  Room for the second
   deployment (its files are hard links into the repo) and the pull. */
#define DISK_MB 3072
/* Bump when what the build makes changes without its inputs changing. */
#define LAYOUT "firmware-disk 1"
/* Where the guest finds its remote until the harness points it at the
   worker's stand-in (pp_agent_prepare_update). */
#define PLACEHOLDER_URL "http://10.0.2.2:8080/repo"

/*
 * U-Boot's zboot boots an x86 bzImage: its setup header has "HdrS" at
 * 0x202.  A stand-in kernel (a line of text, as in the small Debian
 * firmware) would pass ostree's deploy and die in U-Boot; say so now.
 */
static gboolean
check_bzimage(const char *repo_path, const char *which, const char *commit,
              GError **error)
{
    g_autoptr(GFile) rf = g_file_new_for_path(repo_path);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(rf);
    g_autoptr(GFile) root = NULL;
    if (!ostree_repo_open(repo, NULL, error)
        || !ostree_repo_read_commit(repo, commit, &root, NULL, NULL, error)) {
        g_prefix_error(error, "your firmware %s: ", repo_path);
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    g_autoptr(GFile) modules = g_file_resolve_relative_path(root,
                                                            "usr/lib/modules");
    g_autoptr(GFileEnumerator) en = g_file_enumerate_children(
        modules, G_FILE_ATTRIBUTE_STANDARD_NAME,
        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    GFileInfo *info = NULL;
    GFile *child = NULL;
    while (en != NULL
           && g_file_enumerator_iterate(en, &info, &child, NULL, NULL)
           && info != NULL) {
        g_autoptr(GFile) k = g_file_get_child(child, "vmlinuz");
        g_autoptr(GFileInputStream) in = g_file_read(k, NULL, NULL);
        if (in == NULL) {
            continue;
        }
        guint8 head[0x206] = { 0 };
        gsize n = 0;
        if (g_input_stream_read_all(G_INPUT_STREAM(in), head, sizeof head, &n,
                                    NULL, NULL)
            && n == sizeof head && memcmp(head + 0x202, "HdrS", 4) == 0) {
            return TRUE;
        }
        return pp_throw_code(error, PP_ERROR_USAGE, "your firmware %s: %s "
                             "(commit %.12s): usr/lib/modules/%s/vmlinuz is "
                             "not an x86 Linux kernel (no bzImage header): "
                             "U-Boot cannot boot it", repo_path, which,
                             commit, g_file_info_get_name(info));
    }
    return pp_throw_code(error, PP_ERROR_USAGE, "your firmware %s: %s (commit "
                         "%.12s) has no kernel in usr/lib/modules/KVER/"
                         "vmlinuz: the VM tier boots the commit's own kernel",
                         repo_path, which, commit);
}

/* sha256 of the inputs of DIR: the commits, how they are served, the
   files plugpull adds, the layout. */
static char *
image_key(const PpFirmwareRepo *fw, const PpVmFirmwareSpec *spec,
          GError **error)
{
    g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);
    const char *parts[] = { LAYOUT, fw->from_commit, fw->to_commit,
                            fw->branch, fw->osname, NULL };
    for (const char *const *p = parts; *p != NULL; p++) {
        g_checksum_update(ck, (const guchar *)*p, -1);
        g_checksum_update(ck, (const guchar *)"\n", 1);
    }
    const char *files[] = { spec->boot_cmd, spec->agent, spec->agent_unit,
                            spec->shim, NULL };
    for (const char *const *f = files; *f != NULL; f++) {
        g_autofree char *data = NULL;
        gsize len = 0;
        if (!g_file_get_contents(*f, &data, &len, error)) {
            return NULL;
        }
        g_checksum_update(ck, (const guchar *)data, (gssize)len);
    }
    return g_strndup(g_checksum_get_string(ck), 16);
}

/* DIR/manifest.json says key. */
static gboolean
image_up_to_date(const char *dir, const char *key)
{
    g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
    g_autofree char *disk = g_build_filename(dir, "disk.img", NULL);
    JsonObject *m = NULL;
    g_autoptr(JsonParser) p = pp_json_load_object(path, &m, NULL);
    return p != NULL && g_file_test(disk, G_FILE_TEST_IS_REGULAR)
           && g_strcmp0(json_object_get_string_member_with_default(
                            m, "image_key", ""), key) == 0;
}

/* Run argv (stdin from `input` when not NULL); a failure names the
   command and its stderr. */
static gboolean
run_tool(const char *const *argv, const char *input, GError **error)
{
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                  | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
    g_autofree char *err = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, input, NULL, NULL, &err, error)) {
        g_prefix_error(error, "%s: ", argv[0]);
        return FALSE;
    }
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0) {
        return pp_throw(error, "%s failed (%s): %s", argv[0],
                        g_subprocess_get_if_exited(p) ? "exit status" : "signal",
                        err != NULL ? g_strstrip(err) : "");
    }
    return TRUE;
}

static gboolean
write_file(const char *path, const char *src, int mode, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(src, &data, &len, error)) {
        return FALSE;
    }
    /* Not a result: an input of the disk, written before mke2fs reads it. */
    if (!g_file_set_contents(path, data, (gssize)len, error)) {
        return FALSE;
    }
    if (chmod(path, (mode_t)mode) < 0) {
        return pp_throw_errno_prefix(error, "chmod(%s)", path);
    }
    return TRUE;
}

static gboolean
make_symlink(const char *target, const char *path, GError **error)
{
    (void)unlink(path);
    if (symlink(target, path) < 0) {
        return pp_throw_errno_prefix(error, "symlink(%s)", path);
    }
    return TRUE;
}

/* The agent, its unit, its wants link, the console masked, the shim: in
   the deployment's /etc (vm-firmware.h). */
static gboolean
install_agent(const PpFixture *fx, const PpVmFirmwareSpec *spec,
              GError **error)
{
    g_autofree char *name = g_strdup_printf("%s.0", fx->commits[0]);
    g_autofree char *etc = g_build_filename(fx->sysroot, "ostree", "deploy",
                                            fx->osname, "deploy", name, "etc",
                                            NULL);
    if (!g_file_test(etc, G_FILE_TEST_IS_DIR)) {
        return pp_throw(error, "the deployment has no %s", etc);
    }
    g_autofree char *pp = g_build_filename(etc, "plugpull", NULL);
    g_autofree char *units = g_build_filename(etc, "systemd", "system", NULL);
    g_autofree char *wants = g_build_filename(units, "sysinit.target.wants",
                                              NULL);
    g_autofree char *agent = g_build_filename(pp, "agent", NULL);
    g_autofree char *shim = g_build_filename(pp, "libcfaultinject.so", NULL);
    g_autofree char *unit = g_build_filename(units, "plugpull-agent.service",
                                             NULL);
    g_autofree char *link = g_build_filename(wants, "plugpull-agent.service",
                                             NULL);
    g_autofree char *getty = g_build_filename(
        units, "serial-getty@ttyS0.service", NULL);
    return pp_mkdir_p(pp, error) && pp_mkdir_p(wants, error)
           && write_file(agent, spec->agent, 0755, error)
           && write_file(shim, spec->shim, 0644, error)
           && write_file(unit, spec->agent_unit, 0644, error)
           && make_symlink("../plugpull-agent.service", link, error)
           && make_symlink("/dev/null", getty, error);
}

/* The sysroot: from deployed through a stand-in on 127.0.0.1 (the
   device's pull), the remote then pointed at the guest's address. */
static gboolean
make_sysroot(PpFixture *fx, GError **error)
{
    g_autoptr(PpHttpd) httpd = pp_httpd_start(fx->srv_dir, 0, error);
    if (httpd == NULL) {
        g_prefix_error(error, "starting a stand-in for the sysroot: ");
        return FALSE;
    }
    g_autofree char *url = g_strdup_printf("%s/repo", pp_httpd_get_url(httpd));
    return pp_fixture_make_sysroot_full(fx, url, "uboot", error)
           && pp_fixture_set_remote_url(fx, PLACEHOLDER_URL, error);
}

/* DIR/disk.img from the sysroot: the MBR, then mke2fs -d at 1 MiB. */
static gboolean
make_disk(const char *sysroot, const char *disk, GError **error)
{
    g_autofree char *tmp = g_strconcat(disk, ".tmp", NULL);
    g_autofree char *size = g_strdup_printf("%uM", DISK_MB);
    g_autofree char *ext = g_strdup_printf("offset=%u,root_owner=0:0",
                                           PART_START_SECTORS * 512);
    g_autofree char *kb = g_strdup_printf("%uk", (DISK_MB - 1) * 1024);
    g_autofree char *table = g_strdup_printf(
        "label: dos\nstart=%u, type=83, bootable\n", PART_START_SECTORS);
    const char *trunc[] = { "truncate", "-s", size, tmp, NULL };
    const char *sfdisk[] = { "sfdisk", "--quiet", tmp, NULL };
    const char *mke2fs[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-L", "root",
                             "-d", sysroot, "-E", ext, tmp, kb, NULL };
    (void)unlink(tmp);
    if (!run_tool(trunc, NULL, error) || !run_tool(sfdisk, table, error)
        || !run_tool(mke2fs, NULL, error)) {
        return FALSE;
    }
    if (rename(tmp, disk) < 0) {
        return pp_throw_errno_prefix(error, "rename(%s)", tmp);
    }
    return TRUE;
}

static gboolean
write_manifest(const char *dir, const char *key, const PpFirmwareRepo *fw,
               GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "image_key", key);
    pp_json_add_string(b, "kind", "firmware");
    pp_json_add_string(b, "repo", fw->repo);
    pp_json_add_string(b, "ref", fw->branch);
    pp_json_add_string(b, "osname", fw->osname);
    json_builder_set_member_name(b, "commits");
    json_builder_begin_array(b);
    json_builder_add_string_value(b, fw->from_commit);
    json_builder_add_string_value(b, fw->to_commit);
    json_builder_end_array(b);
    pp_json_add_int(b, "partition_offset", PART_START_SECTORS * 512);
    pp_json_add_int(b, "disk_mb", DISK_MB);
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
    return pp_write_file_durable(path, text, -1, error);
}

gboolean
pp_vm_firmware_image(const PpVmFirmwareSpec *spec, GError **error)
{
    g_autoptr(PpFirmwareRepo) fw = NULL;
    if (!pp_firmware_repo_check(spec->repo, spec->from_rev, spec->to_rev,
                                spec->os, &fw, error)
        || !check_bzimage(fw->repo, "from", fw->from_commit, error)
        || !check_bzimage(fw->repo, "to", fw->to_commit, error)) {
        return FALSE;
    }
    g_autofree char *key = image_key(fw, spec, error);
    if (key == NULL) {
        return FALSE;
    }
    if (image_up_to_date(spec->image_dir, key)) {
        g_printerr("run: firmware disk %s is up to date (key %s)\n",
                   spec->image_dir, key);
        return TRUE;
    }
    gint64 t0 = g_get_monotonic_time();
    g_printerr("run: building the disk of your firmware %s (%.12s -> %.12s) "
               "in %s\n", fw->repo, fw->from_commit, fw->to_commit,
               spec->image_dir);
    const char *olds[] = { "srv", "sysroot", "disk.img", "manifest.json",
                           NULL };
    for (const char *const *o = olds; *o != NULL; o++) {
        g_autofree char *p = g_build_filename(spec->image_dir, *o, NULL);
        if (!pp_rm_rf(p, error)) {
            return FALSE;
        }
    }
    g_autoptr(PpFixture) fx = NULL;
    g_autofree char *disk = g_build_filename(spec->image_dir, "disk.img",
                                             NULL);
    g_autofree char *scr = NULL;
    if (!pp_firmware_repo_mirror(fw, spec->image_dir, &fx, error)
        || !make_sysroot(fx, error) || !install_agent(fx, spec, error)) {
        g_prefix_error(error, "your firmware's disk: ");
        return FALSE;
    }
    scr = g_build_filename(fx->sysroot, "boot", "boot.scr", NULL);
    const char *mkimage[] = { "mkimage", "-A", "x86", "-O", "linux", "-T",
                              "script", "-C", "none", "-n", "plugpull", "-d",
                              spec->boot_cmd, scr, NULL };
    if (!run_tool(mkimage, NULL, error)
        || !make_disk(fx->sysroot, disk, error)
        || !pp_rm_rf(fx->sysroot, error)
        || !write_manifest(spec->image_dir, key, fw, error)) {
        g_prefix_error(error, "your firmware's disk: ");
        return FALSE;
    }
    g_printerr("run: firmware disk built in %.1f s (key %s)\n",
               (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, key);
    return TRUE;
}

gboolean
pp_vm_firmware_probe(PpRunWorker *w, GError **error)
{
    const PpRunEnv *env = w->env;
    g_autoptr(PpCycle) c = pp_cycle_new(env, 0);
    g_free(c->id);
    c->id = g_strdup("probe");
    g_autofree char *case_dir = g_build_filename(env->out_dir, "probe", NULL);
    g_autofree char *disk = g_strdup_printf("%s/probe.img", env->work_dir);
    if (!pp_mkdir_p(case_dir, error) || !pp_vmdisk_copy(env->disk, disk, error)) {
        return FALSE;
    }
    g_autoptr(PpVm) vm = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reason = NULL;
    PpBootEnd end;
    gboolean ok = pp_vm_boot(w, c, case_dir, "first-boot", disk, &vm, &line,
                             &end, &reason, error);
    json_builder_end_array(c->boots);
    if (!ok) {
        return FALSE;
    }
    if (vm == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "your firmware does not "
                             "boot to plugpull's agent: %s (serial log %s/"
                             "first-boot.serial).  The VM tier boots the "
                             "commit's kernel and initramfs through U-Boot "
                             "with ostree= on the command line: the "
                             "initramfs must support ostree (run "
                             "ostree-prepare-root: dracut with ostree-boot's "
                             "module, or a meta-updater build), and the "
                             "deployment must boot systemd, which starts "
                             "the agent from /etc", reason, case_dir);
    }
    g_printerr("run: first boot of your firmware reached the agent in %.1f s\n",
               pp_vm_elapsed(vm));
    if (!pp_vm_send_line(vm, "poweroff", error)) {
        return FALSE;
    }
    pp_vm_wait_exit(vm, 30 * 1000);
    (void)unlink(disk);
    return TRUE;
}
