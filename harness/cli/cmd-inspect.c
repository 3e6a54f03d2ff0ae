/* SPDX-License-Identifier: MIT */
/*
 * cmd-inspect.c: plugpull inspect: post-mortem of a directory sysroot or
 * of a disk image, without root: what the bootloader would boot, whether
 * that tree is a complete known-good one, the repo's state and leftover
 * staging space.
 *
 * The inspection itself (locating and extracting an image, the known
 * trees, the judgement) is inspect.c's, shared with plugpull reproduce.
 * This file decides the exit status and prints the judgement; it knows
 * nothing of partition tables or debugfs.
 */
#include <stdio.h>
#include <string.h>

#include "postmortem/inspect.h"
#include "plugpull.h"

static void
print_json(const PpInspection *ins)
{
    const PpKnownTrees *known = ins->known;
    GPtrArray *notes = ins->notes;
    g_autoptr(JsonNode) root = pp_judgement_to_json(ins->judgement);
    JsonObject *o = json_node_get_object(root);
    json_object_set_string_member(o, "sysroot", ins->target);
    if (ins->is_image) {
        JsonObject *io = pp_disk_layout_to_json(&ins->layout);
        json_object_set_string_member(io, "path", ins->target);
        json_object_set_object_member(io, "extraction",
                                      pp_extracted_to_json(ins->extracted));
        json_object_set_object_member(o, "image", io);
    }
    json_object_set_string_member(o, "known_source", ins->known_source);
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
print_text(const PpInspection *ins)
{
    const char *target = ins->target;
    const PpKnownTrees *known = ins->known;
    const char *known_source = ins->known_source;
    GPtrArray *notes = ins->notes;
    if (ins->is_image) {
        const PpDiskLayout *l = &ins->layout;
        const PpExtracted *x = ins->extracted;
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
    g_autofree char *text = pp_judgement_to_text(ins->judgement);
    g_print("%s", text);
}

gboolean
pp_cmd_inspect(int argc, char **argv, GError **error)
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
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "needs exactly one IMAGE file or SYSROOT "
                             "directory (see --help)");
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
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--bootloader %s: not auto, uboot or bls",
                             bootloader);
    }
    g_autoptr(PpInspection) ins = NULL;
    if (!pp_inspect(target, server_repo, &opts, &ins, error)) {
        return pp_inspect_error_code(error);
    }
    if (json) {
        print_json(ins);
    } else {
        print_text(ins);
    }
    const PpJudgement *j = ins->judgement;
    const PpBootEntry *b = j->booted >= 0 ? j->entries->pdata[j->booted] : NULL;
    gboolean boots_complete = b != NULL && b->tree_checked && b->tree_complete;
    if (!boots_complete) {
        return pp_throw_code(error, PP_ERROR_FAILURES,
                             "%s would not boot a complete known tree",
                             target);
    }
    return TRUE;
}
