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

#include "postmortem/guestfs.h"
#include "postmortem/inspect.h"
#include "plugpull.h"

/* The bootloader's view decides the exit status (see --help). */
static const char *
verdict(const PpInspection *ins)
{
    return pp_inspection_boots_complete(ins) ? "boots a complete known tree"
                                             : "does not boot a complete "
                                               "known tree";
}

/* The kernel's view of an image whose journal needs recovery, or why
 * there is only one view. */
static JsonObject *
journal_to_json(const PpInspection *ins)
{
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "needs_recovery",
                                   ins->reader == PP_READER_DEBUGFS
                                   && ins->layout.fs.needs_recovery);
    if (ins->reader == PP_READER_GUESTFS) {
        json_object_set_string_member(o, "views", "kernel (libguestfs "
                                      "mounts, replaying the journal)");
        return o;
    }
    if (ins->kernel_error != NULL) {
        json_object_set_string_member(o, "views", "one (the kernel's view "
                                      "could not be made)");
        json_object_set_string_member(o, "kernel_view_error",
                                      ins->kernel_error);
        return o;
    }
    if (ins->kernel == NULL) {
        json_object_set_string_member(o, "views", "one (the journal needs "
                                      "no recovery: the kernel reads what "
                                      "the bootloader reads)");
        return o;
    }
    const PpJournalReplay *r = ins->replay;
    json_object_set_string_member(o, "views", "two (bootloader: read in "
                                  "place; kernel: journal replayed on a "
                                  "private copy)");
    json_object_set_string_member(o, "replayed_by", r->e2fsck_line);
    json_object_set_int_member(o, "e2fsck_status", r->e2fsck_status);
    json_object_set_string_member(o, "e2fsck_output", r->e2fsck_output);
    json_object_set_int_member(o, "bytes_copied", (gint64)r->bytes_copied);
    json_object_set_double_member(o, "copy_seconds", r->copy_seconds);
    json_object_set_double_member(o, "replay_seconds", r->replay_seconds);
    return o;
}

/* Both verdicts, side by side: {"bootloader": ..., "kernel": ...}. */
static JsonObject *
verdicts_to_json(const PpInspection *ins)
{
    JsonObject *o = json_object_new();
    const PpInspection *views[2] = { ins, ins->kernel };
    const char *names[2] = { "bootloader", "kernel" };
    if (ins->reader == PP_READER_GUESTFS) {
        views[0] = NULL;
        views[1] = ins;
    } else if (ins->kernel_error != NULL) {
        views[1] = NULL;    /* not made */
    } else if (ins->kernel == NULL) {
        views[1] = ins;     /* one view: the same for both */
    }
    for (guint i = 0; i < 2; i++) {
        if (views[i] == NULL) {
            json_object_set_null_member(o, names[i]);
            continue;
        }
        const PpJudgement *j = views[i]->judgement;
        const PpBootEntry *b = j->booted >= 0 ? j->entries->pdata[j->booted]
                                              : NULL;
        JsonObject *v = json_object_new();
        json_object_set_string_member(v, "outcome",
                                      pp_outcome_to_string(j->outcome));
        json_object_set_string_member(v, "reason", j->reason);
        json_object_set_boolean_member(v, "boots_complete",
                                       pp_inspection_boots_complete(views[i]));
        if (b != NULL && b->deploy_path != NULL) {
            json_object_set_string_member(v, "deployment", b->deploy_path);
        } else {
            json_object_set_null_member(v, "deployment");
        }
        json_object_set_int_member(v, "bootversion", j->bootversion);
        json_object_set_object_member(o, names[i], v);
    }
    json_object_set_string_member(o, "exit_status_from",
                                  ins->reader == PP_READER_GUESTFS
                                  ? "kernel" : "bootloader");
    return o;
}

static void
print_json(const PpInspection *ins)
{
    const PpKnownTrees *known = ins->known;
    GPtrArray *notes = ins->notes;
    g_autoptr(JsonNode) root = pp_judgement_to_json(ins->judgement);
    JsonObject *o = json_node_get_object(root);
    json_object_set_string_member(o, "sysroot", ins->target);
    if (ins->is_image) {
        /* libguestfs reads no partition table here: no layout. */
        JsonObject *io = ins->reader == PP_READER_GUESTFS
                         ? json_object_new()
                         : pp_disk_layout_to_json(&ins->layout);
        json_object_set_string_member(io, "path", ins->target);
        json_object_set_string_member(io, "reader",
                                      pp_reader_to_string(ins->reader));
        json_object_set_object_member(io, "extraction",
                                      ins->reader == PP_READER_GUESTFS
                                      ? pp_guestfs_read_to_json(ins->guestfs)
                                      : pp_extracted_to_json(ins->extracted));
        json_object_set_object_member(o, "image", io);
        json_object_set_object_member(o, "journal", journal_to_json(ins));
        json_object_set_object_member(o, "verdicts", verdicts_to_json(ins));
        if (ins->kernel != NULL) {
            /* The kernel's view in full, as the top level is the
             * bootloader's. */
            JsonNode *k = pp_judgement_to_json(ins->kernel->judgement);
            JsonObject *ko = json_node_get_object(k);
            json_object_set_object_member(ko, "extraction",
                                          pp_extracted_to_json(ins->kernel->extracted));
            JsonArray *kn = json_array_new();
            for (guint i = 0; i < ins->kernel->notes->len; i++) {
                json_array_add_string_element(kn, ins->kernel->notes->pdata[i]);
            }
            json_object_set_array_member(ko, "notes", kn);
            json_object_set_member(o, "kernel_view", k);
        } else {
            json_object_set_null_member(o, "kernel_view");
        }
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
print_image(const PpInspection *ins)
{
    const PpDiskLayout *l = &ins->layout;
    const PpExtracted *x = ins->extracted;
    if (ins->reader == PP_READER_GUESTFS) {
        const PpGuestfsRead *r = ins->guestfs;
        g_print("image: %s, read through libguestfs %s: filesystem %s (%s), "
                "holding ostree/, among: %s\n", ins->target, r->version,
                r->device, r->fs_type, r->filesystems);
        g_print("appliance started in %.1f s; filesystems tried in %.1f s; "
                "tar-out %.1f s (%" G_GUINT64_FORMAT " bytes), unpacked in "
                "%.1f s\n", r->launch_seconds, r->select_seconds,
                r->tar_seconds, r->tar_bytes, r->untar_seconds);
        return;
    }
    g_autofree char *where = pp_disk_layout_describe(l);
    g_print("image: %s (%" G_GUINT64_FORMAT " bytes), %s%s%s\n", ins->target,
            l->image_bytes, where, l->why != NULL ? ": " : "",
            l->why != NULL ? l->why : "");
    g_print("filesystem: %s \"%s\", %" G_GUINT64_FORMAT " bytes; extracted "
            "by debugfs %s rdump in %.1f s (+%.1f s for modes and owners): "
            "%u dirs, %u files, %u symlinks\n", l->fs.type, l->fs.label,
            l->fs.bytes, x->debugfs_version, x->rdump_seconds,
            x->list_seconds, x->n_dirs, x->n_files, x->n_symlinks);
}

static void
print_notes_and_judgement(const PpInspection *ins)
{
    for (guint i = 0; i < ins->notes->len; i++) {
        g_print("note: %s\n", (char *)ins->notes->pdata[i]);
    }
    g_autofree char *text = pp_judgement_to_text(ins->judgement);
    g_print("%s", text);
}

static void
print_text(const PpInspection *ins)
{
    if (ins->is_image) {
        print_image(ins);
    } else {
        g_print("sysroot: %s\n", ins->target);
    }
    g_print("known trees: %u commit(s) from %s\n",
            pp_known_trees_n_commits(ins->known), ins->known_source);
    if (ins->kernel == NULL) {
        if (ins->kernel_error != NULL) {
            g_print("journal: needs recovery, but the kernel's view could "
                    "not be made (see the note): the bootloader's view "
                    "only\n");
        } else if (ins->is_image && ins->reader == PP_READER_DEBUGFS) {
            g_print("journal: needs no recovery: the kernel reads what the "
                    "bootloader reads (one view)\n");
        }
        print_notes_and_judgement(ins);
        return;
    }
    const PpJournalReplay *r = ins->replay;
    g_print("journal: needs recovery: two views, judged each\n");
    g_print("\n== the bootloader's view (read in place, as U-Boot's ext4 "
            "does; decides the exit status) ==\n");
    print_notes_and_judgement(ins);
    g_print("\n== the kernel's view (journal replayed by %s on a private "
            "copy: %" G_GUINT64_FORMAT " bytes copied in %.1f s, replayed in "
            "%.1f s) ==\n", r->e2fsck_line, r->bytes_copied, r->copy_seconds,
            r->replay_seconds);
    print_notes_and_judgement(ins->kernel);
    g_print("\nverdicts: bootloader's view: %s (%s); kernel's view: %s (%s)%s\n",
            pp_outcome_to_string(ins->judgement->outcome), verdict(ins),
            pp_outcome_to_string(ins->kernel->judgement->outcome),
            verdict(ins->kernel),
            pp_inspection_boots_complete(ins)
            == pp_inspection_boots_complete(ins->kernel)
            ? "" : ": the views disagree");
}

gboolean
pp_cmd_inspect(int argc, char **argv, GError **error)
{
    g_autofree char *server_repo = NULL;
    g_autofree char *bootloader = NULL;
    g_autofree char *reader_name = NULL;
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
        { "reader", 0, 0, G_OPTION_ARG_STRING, &reader_name,
          "how an IMAGE is read: debugfs (default) or guestfs (see below)",
          "R" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IMAGE|SYSROOT");
    g_option_context_set_summary(
        ctx, "Post-mortem of a disk image (a device's dump) or a directory "
        "sysroot:\nwhat the bootloader would boot, whether that tree is "
        "complete and\nknown-good, the repo's state and leftover staging "
        "space.  Needs no root;\nthe input is only read.");
    g_option_context_set_description(
        ctx, "IMAGE: a file (or block device) holding a GPT or MBR disk, or a "
        "bare\next2/3/4 filesystem.  The root is, on GPT, the ext partition "
        "holding ostree/\n(else the first ext one); on MBR the bootable Linux "
        "partition (else the\nfirst Linux one).\n\n"
        "--reader debugfs (the default): the filesystem is extracted with "
        "debugfs\n(e2fsprogs), without mounting and without root, into a "
        "private directory\nunder $TMPDIR (about the size of the files; "
        "removed on exit), and judged\nthere with the image's own modes, "
        "owners, hard links and extended\nattributes.  It reads the blocks in "
        "place, as U-Boot's ext4 does: the\nbootloader's view.  When the "
        "journal needs recovery (a power cut while\nmounted), the kernel's "
        "view is made too: the filesystem is copied (sparse;\nshared blocks "
        "where the filesystem allows), e2fsck -E journal_only\nreplays the "
        "copy's journal as Linux would at mount, and the copy is\nextracted "
        "and judged as well: both verdicts are printed side by side.\nThe "
        "image itself is only read.\n\n"
        "--reader guestfs: the image is read through a libguestfs appliance "
        "(a small\nLinux under QEMU; Debian package guestfish): any "
        "filesystem that Linux\nmounts, on partitions or LVM (xfs, btrfs, "
        "f2fs, ext4), the one holding\nostree/; the appliance replays the "
        "journal: the kernel's view only.  An\nappliance start costs tens of "
        "seconds under TCG (32-64 s measured on a\nloaded 2-core machine; "
        "debugfs: under a second): choose it for what debugfs\ncannot read.  Run as "
        "root (owners are kept only then).\n\n"
        "Exit status: 0 it would boot a complete known tree, 1 otherwise, "
        "2 usage\nor an unreadable input (not an image, truncated, corrupt), "
        "3 the harness\nfailed, 130 interrupted.  With two views, the "
        "bootloader's decides: it is\nwhat U-Boot loads the kernel and "
        "initramfs from, so whether the device boots\n(the kernel's view "
        "says what Linux sees once it runs).  With --reader\nguestfs, the "
        "kernel's view decides (the only one read).");
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
    PpReader reader = PP_READER_DEBUGFS;
    if (reader_name != NULL && !pp_reader_from_string(reader_name, &reader)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--reader %s: not debugfs or guestfs",
                             reader_name);
    }
    g_autoptr(PpInspection) ins = NULL;
    if (!pp_inspect_with_reader(target, reader, server_repo, &opts, &ins,
                                error)
        || !pp_inspect_kernel_view(ins, server_repo, &opts, error)) {
        return pp_inspect_error_code(error);
    }
    if (json) {
        print_json(ins);
    } else {
        print_text(ins);
    }
    /* The bootloader's view (the top level) decides: see --help. */
    if (!pp_inspection_boots_complete(ins)) {
        return pp_throw_code(error, PP_ERROR_FAILURES,
                             "%s would not boot a complete known tree%s",
                             target, ins->kernel != NULL
                             ? " (the bootloader's view)" : "");
    }
    return TRUE;
}
