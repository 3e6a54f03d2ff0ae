/* SPDX-License-Identifier: MIT */
/*
 * cmd-image.c: `plugpull image build [--payload-kb N] [--disk-mb N]
 * [--cache DIR] [--no-client] --out DIR`: build the VM tier's device
 * image (see images/README.md).
 *
 * The build itself is images/build-image.sh: it is a pipeline of Debian
 * tools (apt-get download, dpkg-deb, depmod, cpio, ostree, mkimage,
 * sfdisk, mke2fs), which reads best as a script.  This command finds the
 * script, runs it with this binary as the fixture builder, maps its exit
 * status onto plugpull's and prints what was made from DIR/manifest.json:
 *
 *   script 0 -> 0    built, or DIR was up to date
 *   script 2 -> 2    a package or host tool is missing: the script's last
 *                    message names the Debian package
 *   otherwise -> 3   the build failed (or the script was killed)
 *
 * Where the script is: $PLUGPULL_IMAGES, else ../images next to the
 * plugpull binary (build/plugpull -> images/), else the installed
 * PREFIX/share/plugpull/images.  The package cache (--cache) defaults to
 * build/image-cache in the build tree, else
 * $XDG_CACHE_HOME/plugpull/image-cache; the shim put into the image is
 * the one the harness preloads (pp_shim_path()).
 */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "plugpull.h"
#include "common/client.h"
#include "common/util.h"
#include "common/json.h"

#define PP_IMAGE_SCRIPT "build-image.sh"

static char *
images_dir(GError **error)
{
    return pp_data_dir("PLUGPULL_IMAGES", "images", error);
}

/*
 * Run the build script with args; its stdout (the manifest) is discarded
 * here because DIR/manifest.json has it, its stderr (progress and errors)
 * is ours.  The exit status goes to *out_status; FALSE when the script
 * cannot be found or started, or was killed.
 */
static gboolean
run_build_script(GPtrArray *args, int *out_status, GError **error)
{
    g_autofree char *dir = images_dir(error);
    if (dir == NULL) {
        return FALSE;
    }
    g_autofree char *script = g_build_filename(dir, PP_IMAGE_SCRIPT, NULL);
    if (!g_file_test(script, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "image build script %s not found (set PLUGPULL_IMAGES to "
                    "the images/ directory)", script);
        return FALSE;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)"/bin/sh");
    g_ptr_array_add(argv, script);
    for (guint i = 0; i < args->len; i++) {
        g_ptr_array_add(argv, args->pdata[i]);
    }
    g_ptr_array_add(argv, NULL);
    return pp_spawn_wait((const char *const *)argv->pdata,
                         G_SUBPROCESS_FLAGS_STDOUT_SILENCE, out_status, error);
}

static const char *
object_string(JsonObject *o, const char *member)
{
    if (o == NULL || !json_object_has_member(o, member)) {
        return "?";
    }
    const char *s = json_object_get_string_member(o, member);
    return s != NULL ? s : "?";
}

static double
object_double(JsonObject *o, const char *member)
{
    if (o == NULL || !json_object_has_member(o, member)) {
        return 0.0;
    }
    return json_object_get_double_member(o, member);
}

/* Print what DIR/manifest.json says was built, and how long it took. */
static gboolean
print_manifest(const char *out_dir, double wall_s, GError **error)
{
    g_autofree char *path = g_build_filename(out_dir, "manifest.json", NULL);
    JsonObject *m = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, error);
    if (parser == NULL) {
        return FALSE;
    }
    JsonObject *secs = json_object_has_member(m, "seconds")
        ? json_object_get_object_member(m, "seconds") : NULL;
    JsonObject *cache = json_object_has_member(m, "cache")
        ? json_object_get_object_member(m, "cache") : NULL;
    JsonArray *commits = json_object_has_member(m, "commits")
        ? json_object_get_array_member(m, "commits") : NULL;

    printf("image: %s\n", object_string(m, "disk"));
    printf("  kernel     %s (%s)\n", object_string(m, "kver"),
           object_string(m, "kernel_package"));
    printf("  prepare-root from %s\n", object_string(m, "ostree_boot_package"));
    printf("  repo       %s, ref %s\n", object_string(m, "srv_repo"),
           object_string(m, "ref"));
    guint n_commits = commits != NULL ? json_array_get_length(commits) : 0;
    for (guint i = 0; i < n_commits; i++) {
        printf("  v%u         %s\n", i + 1,
               json_array_get_string_element(commits, i));
    }
    printf("  deployed   %s (%s)\n", object_string(m, "deployment"),
           object_string(m, "bootcsum_dir"));
    printf("  cache      %s (kernel reused: %s, initramfs reused: %s)\n",
           object_string(cache, "dir"), object_string(cache, "kernel"),
           object_string(cache, "initramfs"));
    printf("  built in   %.1f s (fetch %.1f, kernel %.1f, initramfs %.1f, "
           "trees %.1f, sysroot %.1f, disk %.1f); this run %.1f s\n",
           object_double(secs, "total"), object_double(secs, "fetch"),
           object_double(secs, "kernel"), object_double(secs, "initramfs"),
           object_double(secs, "trees"), object_double(secs, "sysroot"),
           object_double(secs, "disk"), wall_s);
    return TRUE;
}

static gboolean
image_build(int argc, char **argv, GError **error)
{
    g_autofree char *out_dir = NULL;
    g_autofree char *cache_dir = NULL;
    gint payload_kb = 2048;
    gint disk_mb = 512;
    gboolean no_client = FALSE;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
          "image directory (created; rebuilt unless up to date)", "DIR" },
        { "payload-kb", 0, 0, G_OPTION_ARG_INT, &payload_kb,
          "fixture payload per version in KiB (default 2048)", "N" },
        { "disk-mb", 0, 0, G_OPTION_ARG_INT, &disk_mb,
          "disk image size in MiB (default 512)", "N" },
        { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir,
          "package and initramfs cache (default: build/image-cache in "
          "the build tree, else $XDG_CACHE_HOME/plugpull/image-cache)",
          "DIR" },
        { "no-client", 0, 0, G_OPTION_ARG_NONE, &no_client,
          "leave the ostree client out of the trees", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- build the device image of the VM tier");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Builds, from Debian packages, DIR/disk.img (U-Boot boot script, "
        "ostree sysroot with v1\ndeployed), the archive repo DIR/srv/repo "
        "(v1..v3) and DIR/manifest.json.\n"
        "Exit status: 0 built or up to date, 2 usage error or a package "
        "is missing,\n3 the build failed.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "unexpected argument '%s'",
                             argv[1]);
    }
    if (out_dir == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--out DIR is required");
    }
    if (payload_kb < 1 || payload_kb > 1024 * 1024) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--payload-kb %d: "
                             "not in 1..1048576", payload_kb);
    }
    if (disk_mb < 64 || disk_mb > 64 * 1024) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--disk-mb %d: not in 64..65536",
                             disk_mb);
    }

    g_autofree char *exe = g_file_read_link("/proc/self/exe", error);
    if (exe == NULL) {
        g_prefix_error(error, "readlink /proc/self/exe: ");
        return FALSE;
    }
    g_autofree char *payload_s = g_strdup_printf("%d", payload_kb);
    g_autofree char *disk_s = g_strdup_printf("%d", disk_mb);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, (gpointer)"--out");
    g_ptr_array_add(args, out_dir);
    g_ptr_array_add(args, (gpointer)"--payload-kb");
    g_ptr_array_add(args, payload_s);
    g_ptr_array_add(args, (gpointer)"--disk-mb");
    g_ptr_array_add(args, disk_s);
    g_ptr_array_add(args, (gpointer)"--plugpull");
    g_ptr_array_add(args, exe);
    if (cache_dir == NULL) {
        cache_dir = pp_cache_dir("image-cache");
    }
    g_ptr_array_add(args, (gpointer)"--cache");
    g_ptr_array_add(args, cache_dir);
    const char *shim = pp_shim_path();
    if (g_file_test(shim, G_FILE_TEST_IS_REGULAR)) {
        g_ptr_array_add(args, (gpointer)"--shim");
        g_ptr_array_add(args, (gpointer)shim);
    }
    if (no_client) {
        g_ptr_array_add(args, (gpointer)"--no-client");
    }

    gint64 t0 = g_get_monotonic_time();
    int status = 0;
    if (!run_build_script(args, &status, error)) {
        return FALSE;
    }
    double wall_s = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    if (status == PP_EXIT_USAGE) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "a package or tool is missing (see the "
                             "message above; tools/deps.sh installs them)");
    }
    if (status != 0) {
        return pp_throw(error, "build-image.sh exited %d after %.1f s",
                        status, wall_s);
    }
    if (!print_manifest(out_dir, wall_s, error)) {
        return FALSE;
    }
    return TRUE;
}

static const PpSubcommand image_subcommands[] = {
    { "build", image_build, "--out DIR [OPTION...]",
      "build the VM tier's device image from Debian packages" },
    { NULL, NULL, NULL, NULL },
};

gboolean
pp_cmd_image(int argc, char **argv, GError **error)
{
    return pp_run_subcommand("image", image_subcommands, argc, argv, error);
}
