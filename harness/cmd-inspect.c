/*
 * cmd-inspect.c: plugpull inspect: post-mortem of a directory sysroot,
 * without root: what the bootloader would boot, whether that tree is a
 * complete known-good one, the repo's state and leftover staging space.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "oracle.h"
#include "plugpull.h"

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
    g_autoptr(GOptionContext) ctx = g_option_context_new("SYSROOT");
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(
        ctx, "Post-mortem of a directory sysroot: what the bootloader would "
        "boot,\nwhether that tree is complete and known-good, the repo's "
        "state and\nleftover staging space.  Needs no root; reads only.");
    g_option_context_set_description(
        ctx, "Exit status: 0 it would boot a complete known tree, 1 otherwise, "
        "2 usage,\n3 the harness failed.  Disk images are not supported yet "
        "(a later issue):\nmount or extract the sysroot first.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        pp_print_error("inspect", error);
        return PP_EXIT_USAGE;
    }
    if (argc != 2) {
        g_printerr("plugpull: inspect: needs exactly one SYSROOT directory "
                   "(see --help)\n");
        return PP_EXIT_USAGE;
    }
    const char *sysroot = argv[1];
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
    if (!g_file_test(sysroot, G_FILE_TEST_IS_DIR)) {
        g_printerr("plugpull: inspect: %s: not a directory (disk images are "
                   "not supported yet)\n", sysroot);
        return PP_EXIT_USAGE;
    }

    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
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
        known_source = "the sysroot's own repo (self-consistency only)";
    }
    g_autoptr(PpJudgement) j = NULL;
    if (!pp_oracle_judge(sysroot, known, &opts, &j, &error)) {
        pp_print_error("inspect", error);
        return PP_EXIT_HARNESS;
    }

    if (json) {
        g_autoptr(JsonNode) root = pp_judgement_to_json(j);
        JsonObject *o = json_node_get_object(root);
        json_object_set_string_member(o, "sysroot", sysroot);
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
    } else {
        g_autofree char *text = pp_judgement_to_text(j);
        g_print("sysroot: %s\nknown trees: %u commit(s) from %s\n", sysroot,
                pp_known_trees_n_commits(known), known_source);
        for (guint i = 0; i < notes->len; i++) {
            g_print("note: %s\n", (char *)notes->pdata[i]);
        }
        g_print("%s", text);
    }
    const PpBootEntry *b = j->booted >= 0 ? j->entries->pdata[j->booted] : NULL;
    gboolean boots_complete = b != NULL && b->tree_checked && b->tree_complete;
    return boots_complete ? PP_EXIT_OK : PP_EXIT_FAILURES;
}
