/*
 * cmd-inspect.c: plugpull inspect: post-mortem of a directory sysroot or
 * of a disk image, without root: what the bootloader would boot, whether
 * that tree is a complete known-good one, the repo's state and leftover
 * staging space.
 *
 * A disk image is located (diskimage.h) and extracted into a private
 * temporary directory (e2extract.h), then judged like a directory, with
 * the modes and owners the extraction could not give its files (the
 * overlay).  This file decides the verdict and prints it; it knows
 * nothing of partition tables or debugfs.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "diskimage.h"
#include "e2extract.h"
#include "oracle.h"
#include "plugpull.h"

#define PP_EXIT_INTERRUPTED 130

static volatile sig_atomic_t inspect_interrupted;

static void
on_interrupt(int sig)
{
    inspect_interrupted = sig;
}

/*
 * Without a server repo the only witness of what a commit should contain
 * is the device's own repo: load every commit its refs and deployments
 * name, and leave out (as "unknown") those it cannot describe fully.
 */
static PpKnownTrees *
known_from_sysroot(const char *sysroot, GPtrArray *notes)
{
    g_autoptr(PpKnownTrees) kt = pp_known_trees_new();
    g_autofree char *repo_path = g_build_filename(sysroot, "ostree", "repo", NULL);
    g_autoptr(GFile) f = g_file_new_for_path(repo_path);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(f);
    g_autoptr(GError) error = NULL;
    if (!ostree_repo_open(repo, NULL, &error)) {
        g_ptr_array_add(notes, g_strdup_printf("opening %s: %s", repo_path,
                                               error->message));
        return g_steal_pointer(&kt);
    }
    g_autoptr(GHashTable) commits = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                          g_free, NULL);
    g_autoptr(GHashTable) refs = NULL;
    if (ostree_repo_list_refs(repo, NULL, &refs, NULL, &error)) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, refs);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            g_hash_table_add(commits, g_strdup(v));
        }
    } else {
        g_ptr_array_add(notes, g_strdup_printf("listing refs: %s", error->message));
        g_clear_error(&error);
    }
    /* ostree/deploy/OS/deploy/COMMIT.SERIAL */
    g_autofree char *deploy_root = g_build_filename(sysroot, "ostree", "deploy", NULL);
    g_autoptr(GDir) osdirs = g_dir_open(deploy_root, 0, NULL);
    const char *os;
    while (osdirs != NULL && (os = g_dir_read_name(osdirs)) != NULL) {
        g_autofree char *d = g_build_filename(deploy_root, os, "deploy", NULL);
        g_autoptr(GDir) deps = g_dir_open(d, 0, NULL);
        const char *name;
        while (deps != NULL && (name = g_dir_read_name(deps)) != NULL) {
            const char *dot = strchr(name, '.');
            if (dot != NULL && dot - name == 64 && !g_str_has_suffix(name, ".origin")) {
                g_hash_table_add(commits, g_strndup(name, 64));
            }
        }
    }
    g_autoptr(GList) list = g_hash_table_get_keys(commits);
    list = g_list_sort(list, (GCompareFunc)strcmp);
    for (GList *l = list; l != NULL; l = l->next) {
        if (!pp_known_trees_add(kt, repo, l->data, &error)) {
            g_ptr_array_add(notes, g_strdup_printf("commit %s cannot be told "
                                                   "(unknown): %s",
                                                   (char *)l->data, error->message));
            g_clear_error(&error);
        }
    }
    return g_steal_pointer(&kt);
}

/* What was inspected, when it is a disk image. */
typedef struct {
    const char *path;
    PpDiskLayout layout;
    PpExtracted *x;
} Image;

/*
 * Locate and extract the image at path.  Returns the exit status to end
 * with, or -1 when it is ready to judge: 2 when the image is unreadable
 * (not an image, truncated, a filesystem debugfs cannot read), 3 when the
 * harness failed, 130 when interrupted.
 */
static int
open_image(Image *img, const char *path)
{
    g_autoptr(GError) error = NULL;
    img->path = path;
    if (!pp_disk_probe(path, &img->layout, &error)) {
        pp_print_error("inspect", error);
        return PP_EXIT_USAGE;
    }
    /* Ctrl-C or SIGTERM: stop debugfs (or let the judgement end), then
     * remove the extracted tree on the way out. */
    struct sigaction sa = { .sa_handler = on_interrupt };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!pp_image_extract(path, img->layout.offset, &inspect_interrupted,
                          &img->x, &error)) {
        pp_print_error("inspect", error);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            return PP_EXIT_INTERRUPTED;
        }
        return error->domain == PP_DISK_ERROR ? PP_EXIT_USAGE : PP_EXIT_HARNESS;
    }
    return -1;
}

static void
image_notes(const Image *img, GPtrArray *notes)
{
    if (img->layout.fs.needs_recovery) {
        g_ptr_array_add(notes, g_strdup(
                            "the journal needs recovery (a power cut while "
                            "mounted): this is the filesystem as read in place, "
                            "as U-Boot's ext4 reads it; the kernel would replay "
                            "the journal at mount and may see newer files"));
    }
    if (img->layout.fs.has_errors) {
        g_ptr_array_add(notes, g_strdup("the superblock records filesystem "
                                        "errors (run e2fsck on a copy)"));
    }
    for (guint i = 0; i < img->x->notes->len; i++) {
        g_ptr_array_add(notes, g_strdup(img->x->notes->pdata[i]));
    }
}

static void
print_json(const PpJudgement *j, const char *target, const Image *img,
           const PpKnownTrees *known, const char *known_source,
           GPtrArray *notes)
{
    g_autoptr(JsonNode) root = pp_judgement_to_json(j);
    JsonObject *o = json_node_get_object(root);
    json_object_set_string_member(o, "sysroot", target);
    if (img != NULL) {
        JsonObject *io = pp_disk_layout_to_json(&img->layout);
        json_object_set_string_member(io, "path", img->path);
        json_object_set_object_member(io, "extraction",
                                      pp_extracted_to_json(img->x));
        json_object_set_object_member(o, "image", io);
    }
    json_object_set_string_member(o, "known_source", known_source);
    JsonArray *kn = json_array_new();
    for (guint i = 0; i < pp_known_trees_n_commits(known); i++) {
        const PpKnownCommit *kc = pp_known_trees_nth(known, i);
        JsonObject *c = json_object_new();
        json_object_set_string_member(c, "commit", kc->checksum);
        json_object_set_string_member(c, "version", kc->version);
        json_object_set_string_member(c, "bootcsum", kc->bootcsum);
        json_object_set_int_member(c, "paths", kc->entries->len);
        json_array_add_object_element(kn, c);
    }
    json_object_set_array_member(o, "known_commits", kn);
    JsonArray *na = json_array_new();
    for (guint i = 0; i < notes->len; i++) {
        json_array_add_string_element(na, notes->pdata[i]);
    }
    json_object_set_array_member(o, "notes", na);
    g_autofree char *text = json_to_string(root, TRUE);
    g_print("%s\n", text);
}

static void
print_text(const PpJudgement *j, const char *target, const Image *img,
           const PpKnownTrees *known, const char *known_source,
           GPtrArray *notes)
{
    if (img != NULL) {
        const PpDiskLayout *l = &img->layout;
        const PpExtracted *x = img->x;
        g_autofree char *where = pp_disk_layout_describe(l);
        g_print("image: %s (%" G_GUINT64_FORMAT " bytes), %s%s%s\n", target,
                l->image_bytes, where, l->why != NULL ? ": " : "",
                l->why != NULL ? l->why : "");
        g_print("filesystem: %s \"%s\", %" G_GUINT64_FORMAT " bytes; extracted "
                "by debugfs %s rdump in %.1f s (+%.1f s for modes and owners): "
                "%u dirs, %u files, %u symlinks\n", l->fs.type, l->fs.label,
                l->fs.bytes, x->debugfs_version, x->rdump_seconds,
                x->list_seconds, x->n_dirs, x->n_files, x->n_symlinks);
    } else {
        g_print("sysroot: %s\n", target);
    }
    g_print("known trees: %u commit(s) from %s\n",
            pp_known_trees_n_commits(known), known_source);
    for (guint i = 0; i < notes->len; i++) {
        g_print("note: %s\n", (char *)notes->pdata[i]);
    }
    g_autofree char *text = pp_judgement_to_text(j);
    g_print("%s", text);
}

int
pp_cmd_inspect(int argc, char **argv)
{
    g_autofree char *server_repo = NULL;
    g_autofree char *bootloader = NULL;
    gboolean json = FALSE;
    gboolean no_fallback = FALSE;
    gboolean skip_repo = FALSE;
    gint max_diffs = 20;
    GOptionEntry entries[] = {
        { "repo", 'r', 0, G_OPTION_ARG_FILENAME, &server_repo,
          "the server's repo: its commits are the known-good trees (default: "
          "the sysroot's own repo, which cannot vouch for itself)", "REPO" },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL },
        { "bootloader", 'b', 0, G_OPTION_ARG_STRING, &bootloader,
          "auto (default: repo config sysroot.bootloader, then uEnv.txt), "
          "uboot or bls", "B" },
        { "no-fallback", 0, 0, G_OPTION_ARG_NONE, &no_fallback,
          "the bootloader boots the default entry or nothing", NULL },
        { "skip-repo", 0, 0, G_OPTION_ARG_NONE, &skip_repo,
          "do not check the repo's objects", NULL },
        { "max-diffs", 0, 0, G_OPTION_ARG_INT, &max_diffs,
          "differences listed per tree (default 20)", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IMAGE|SYSROOT");
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(
        ctx, "Post-mortem of a disk image (a device's dump) or a directory "
        "sysroot:\nwhat the bootloader would boot, whether that tree is "
        "complete and\nknown-good, the repo's state and leftover staging "
        "space.  Needs no root;\nthe input is only read.");
    g_option_context_set_description(
        ctx, "IMAGE: a file (or block device) holding an MBR disk, whose "
        "bootable Linux\npartition (else the first Linux one) is taken, or a "
        "bare ext2/3/4 filesystem.\nIt is extracted with debugfs (e2fsprogs), "
        "without mounting, into a private\ndirectory under $TMPDIR (about the "
        "size of the files; removed on exit),\nand judged there with the "
        "image's own modes and owners.  Extended\nattributes are not "
        "extracted; a journal that needs recovery is not replayed.\n\n"
        "Exit status: 0 it would boot a complete known tree, 1 otherwise, "
        "2 usage\nor an unreadable input (not an image, truncated, corrupt), "
        "3 the harness\nfailed, 130 interrupted.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        pp_print_error("inspect", error);
        return PP_EXIT_USAGE;
    }
    if (argc != 2) {
        g_printerr("plugpull: inspect: needs exactly one IMAGE file or SYSROOT "
                   "directory (see --help)\n");
        return PP_EXIT_USAGE;
    }
    const char *target = argv[1];
    PpOracleOpts opts = {
        .no_fallback = no_fallback,
        .skip_repo = skip_repo,
        .max_diffs = max_diffs > 0 ? (guint)max_diffs : 20,
    };
    if (bootloader == NULL || strcmp(bootloader, "auto") == 0) {
        opts.bootloader = PP_BOOTLOADER_AUTO;
    } else if (strcmp(bootloader, "uboot") == 0) {
        opts.bootloader = PP_BOOTLOADER_UBOOT;
    } else if (strcmp(bootloader, "bls") == 0 || strcmp(bootloader, "none") == 0) {
        opts.bootloader = PP_BOOTLOADER_BLS;
    } else {
        g_printerr("plugpull: inspect: --bootloader %s: not auto, uboot or bls\n",
                   bootloader);
        return PP_EXIT_USAGE;
    }
    struct stat st;
    if (stat(target, &st) < 0) {
        int errsv = errno;
        g_printerr("plugpull: inspect: stat(%s): %s\n", target, g_strerror(errsv));
        return PP_EXIT_USAGE;
    }

    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    /* img.x owns the extracted tree: every return below removes it. */
    Image img = { 0 };
    g_autoptr(PpExtracted) extracted = NULL;
    const char *sysroot = target;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        int status = open_image(&img, target);
        extracted = img.x;
        if (status >= 0) {
            return status;
        }
        sysroot = extracted->sysroot;
        opts.overlay = extracted->overlay;
        image_notes(&img, notes);
    } else if (!S_ISDIR(st.st_mode)) {
        g_printerr("plugpull: inspect: %s: neither a directory nor a disk "
                   "image file\n", target);
        return PP_EXIT_USAGE;
    }

    g_autoptr(PpKnownTrees) known = NULL;
    const char *known_source;
    if (server_repo != NULL) {
        known = pp_known_trees_load(server_repo, NULL, &error);
        if (known == NULL) {
            pp_print_error("inspect", error);
            return PP_EXIT_HARNESS;
        }
        known_source = server_repo;
    } else {
        known = known_from_sysroot(sysroot, notes);
        known_source = extracted != NULL
                       ? "the image's own repo (self-consistency only)"
                       : "the sysroot's own repo (self-consistency only)";
    }
    g_autoptr(PpJudgement) j = NULL;
    if (!pp_oracle_judge(sysroot, known, &opts, &j, &error)) {
        pp_print_error("inspect", error);
        return PP_EXIT_HARNESS;
    }
    if (inspect_interrupted) {
        g_printerr("plugpull: inspect: interrupted by signal %d\n",
                   (int)inspect_interrupted);
        return PP_EXIT_INTERRUPTED;
    }

    const Image *imgp = extracted != NULL ? &img : NULL;
    if (json) {
        print_json(j, target, imgp, known, known_source, notes);
    } else {
        print_text(j, target, imgp, known, known_source, notes);
    }
    const PpBootEntry *b = j->booted >= 0 ? j->entries->pdata[j->booted] : NULL;
    gboolean boots_complete = b != NULL && b->tree_checked && b->tree_complete;
    return boots_complete ? PP_EXIT_OK : PP_EXIT_FAILURES;
}
