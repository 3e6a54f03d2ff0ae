/* SPDX-License-Identifier: MIT */
/*
 * inspect.c: see inspect.h.
 */
#include "postmortem/inspect.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "postmortem/guestfs.h"

G_DEFINE_QUARK(pp-inspect-error-quark, pp_inspect_error)

static const char *const reader_names[] = {
    [PP_READER_DEBUGFS] = "debugfs",
    [PP_READER_GUESTFS] = "guestfs",
};

const char *
pp_reader_to_string(PpReader r)
{
    return r < G_N_ELEMENTS(reader_names) ? reader_names[r] : "unknown";
}

gboolean
pp_reader_from_string(const char *s, PpReader *out)
{
    for (guint i = 0; i < G_N_ELEMENTS(reader_names); i++) {
        if (strcmp(s, reader_names[i]) == 0) {
            *out = (PpReader)i;
            return TRUE;
        }
    }
    return FALSE;
}

void
pp_inspection_free(PpInspection *ins)
{
    if (ins == NULL) {
        return;
    }
    g_clear_pointer(&ins->judgement, pp_judgement_free);
    g_clear_pointer(&ins->known, pp_known_trees_free);
    g_free(ins->known_source);
    g_clear_pointer(&ins->notes, g_ptr_array_unref);
    g_clear_pointer(&ins->kernel, pp_inspection_free);
    g_clear_pointer(&ins->replay, pp_journal_replay_free);
    g_clear_pointer(&ins->guestfs, pp_guestfs_read_free);
    g_free(ins->kernel_error);
    /* Last: the judgement and the known trees may name files in it. */
    g_clear_pointer(&ins->extracted, pp_extracted_free);
    g_free(ins);
}

gboolean
pp_inspect_error_code(GError **error)
{
    if (error == NULL || *error == NULL) {
        return FALSE;
    }
    if ((*error)->domain == PP_INSPECT_ERROR
        || (*error)->domain == PP_DISK_ERROR) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    return FALSE;
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

static void
image_notes(const PpInspection *ins, GPtrArray *notes)
{
    if (ins->reader == PP_READER_GUESTFS) {
        g_ptr_array_add(notes, g_strdup(
                            "read through libguestfs: its Linux mounts the "
                            "filesystem and replays a journal that needs "
                            "recovery (into a throwaway overlay): this is the "
                            "kernel's view; the bootloader's view is debugfs's "
                            "(--reader debugfs, ext2/3/4 only)"));
    } else if (ins->layout.fs.needs_recovery) {
        g_ptr_array_add(notes, g_strdup(
                            "the journal needs recovery (a power cut while "
                            "mounted): this is the filesystem as read in place, "
                            "as U-Boot's ext4 reads it; the kernel replays the "
                            "journal at mount and may see newer files (its view "
                            "is judged on its own)"));
    }
    if (ins->layout.fs.has_errors) {
        g_ptr_array_add(notes, g_strdup("the superblock records filesystem "
                                        "errors (run e2fsck on a copy)"));
    }
    for (guint i = 0; i < ins->extracted->notes->len; i++) {
        g_ptr_array_add(notes, g_strdup(ins->extracted->notes->pdata[i]));
    }
}

/*
 * Locate and extract the image: an image that cannot be read or is not
 * one is an input error, a failure of debugfs on a readable image a
 * PP_DISK_ERROR (the input too) or a harness error.
 */
static gboolean
open_image(PpInspection *ins, GError **error)
{
    if (ins->reader == PP_READER_GUESTFS) {
        return pp_guestfs_extract(ins->target, pp_interrupt_flag(),
                                  &ins->guestfs, &ins->extracted, error);
    }
    g_autoptr(GError) local = NULL;
    if (!pp_disk_probe(ins->target, &ins->layout, &local)) {
        if (local->domain == PP_DISK_ERROR) {
            g_propagate_error(error, g_steal_pointer(&local));
        } else {
            g_set_error_literal(error, PP_INSPECT_ERROR,
                                PP_INSPECT_ERROR_INPUT, local->message);
        }
        return FALSE;
    }
    /* Ctrl-C or SIGTERM (the caller's guard): stop debugfs, then remove
     * the extracted tree on the way out (pp_inspection_free). */
    return pp_image_extract(ins->target, ins->layout.offset,
                            pp_interrupt_flag(), &ins->extracted, error);
}

gboolean
pp_inspect(const char *target, const char *server_repo,
           const PpOracleOpts *opts, PpInspection **out, GError **error)
{
    return pp_inspect_with_reader(target, PP_READER_DEBUGFS, server_repo,
                                  opts, out, error);
}

gboolean
pp_inspect_with_reader(const char *target, PpReader reader,
                       const char *server_repo, const PpOracleOpts *opts,
                       PpInspection **out, GError **error)
{
    g_autoptr(PpInspection) ins = g_new0(PpInspection, 1);
    ins->target = target;
    ins->reader = reader;
    ins->sysroot = target;
    ins->notes = g_ptr_array_new_with_free_func(g_free);
    g_auto(PpInterruptGuard) guard = { 0 };
    PpOracleOpts o = *opts;
    struct stat st;
    if (stat(target, &st) < 0) {
        /* A dump that is not there is bad input (2), not a fault. */
        pp_throw_errno_prefix(error, "stat(%s)", target);
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        ins->is_image = TRUE;
        /* Only an image's extraction is long enough to be worth stopping
         * cleanly; a directory is only read. */
        pp_interrupt_guard_init(&guard);
        if (!open_image(ins, error)) {
            if (pp_interrupt_signal() != 0) {
                g_clear_error(error);
                return pp_throw_interrupted(error, pp_interrupt_signal());
            }
            return FALSE;
        }
        ins->sysroot = ins->extracted->sysroot;
        o.overlay = ins->extracted->overlay;
        image_notes(ins, ins->notes);
    } else if (!S_ISDIR(st.st_mode)) {
        g_set_error(error, PP_INSPECT_ERROR, PP_INSPECT_ERROR_INPUT,
                    "%s: neither a directory nor a disk image file", target);
        return FALSE;
    }

    if (server_repo != NULL) {
        ins->known = pp_known_trees_load(server_repo, NULL, error);
        if (ins->known == NULL) {
            return FALSE;
        }
        ins->known_source = g_strdup(server_repo);
    } else {
        ins->known = known_from_sysroot(ins->sysroot, ins->notes);
        ins->known_source = g_strdup(
            ins->is_image ? "the image's own repo (self-consistency only)"
                          : "the sysroot's own repo (self-consistency only)");
    }
    if (!pp_oracle_judge(ins->sysroot, ins->known, &o, &ins->judgement, error)) {
        return FALSE;
    }
    if (guard.installed && pp_interrupt_signal() != 0) {
        return pp_throw_interrupted(error, pp_interrupt_signal());
    }
    *out = g_steal_pointer(&ins);
    return TRUE;
}

gboolean
pp_inspection_boots_complete(const PpInspection *ins)
{
    const PpJudgement *j = ins->judgement;
    const PpBootEntry *b = j->booted >= 0 ? j->entries->pdata[j->booted] : NULL;
    return b != NULL && b->tree_checked && b->tree_complete;
}

gboolean
pp_inspect_kernel_view(PpInspection *ins, const char *server_repo,
                       const PpOracleOpts *opts, GError **error)
{
    if (!ins->is_image || ins->reader != PP_READER_DEBUGFS
        || !ins->layout.fs.needs_recovery) {
        return TRUE;
    }
    g_autofree char *dir = g_dir_make_tmp("plugpull-replay-XXXXXX", error);
    if (dir == NULL) {
        g_prefix_error(error, "making a temporary directory under %s: ",
                       g_get_tmp_dir());
        return FALSE;
    }
    /* Guards do not nest: this one covers the copy and the replay, and
     * pp_inspect() sets its own for the extraction of the copy. */
    PpInterruptGuard guard = { 0 };
    pp_interrupt_guard_init(&guard);
    gboolean ok = pp_journal_replay_copy(ins->target, ins->layout.offset,
                                         ins->layout.fs.bytes, dir,
                                         pp_interrupt_flag(), &ins->replay,
                                         error);
    int sig = pp_interrupt_signal();
    pp_interrupt_guard_clear(&guard);
    if (ok && sig == 0) {
        /* The copy's journal replayed: a bare filesystem, read as the
         * image was. */
        PpOracleOpts o = *opts;
        o.overlay = NULL;
        ok = pp_inspect(ins->replay->copy, server_repo, &o, &ins->kernel, error);
    }
    /* The extraction is all the judgement needs: the copy (up to the
     * filesystem's size) goes at once. */
    g_autoptr(GError) rm_error = NULL;
    if (!pp_rm_rf(dir, &rm_error)) {
        g_printerr("plugpull: %s\n", rm_error->message);
    }
    if (sig != 0) {
        g_clear_error(error);
        return pp_throw_interrupted(error, sig);
    }
    if (!ok && (g_error_matches(*error, PP_ERROR, PP_ERROR_SIGINT)
                || g_error_matches(*error, PP_ERROR, PP_ERROR_SIGTERM))) {
        return FALSE;
    }
    if (!ok) {
        /* A journal e2fsck cannot replay (corrupt, cut short) does not
         * hide the bootloader's view: it is said, and judged alone. */
        ins->kernel_error = g_strdup((*error)->message);
        g_clear_error(error);
        g_clear_pointer(&ins->kernel, pp_inspection_free);
        g_ptr_array_add(ins->notes, g_strdup_printf(
                            "the kernel's view could not be made: %s",
                            ins->kernel_error));
        return TRUE;
    }
    if (ins->kernel->layout.fs.needs_recovery) {
        g_ptr_array_add(ins->kernel->notes, g_strdup(
                            "the journal still needs recovery after e2fsck "
                            "-E journal_only"));
    }
    return TRUE;
}
