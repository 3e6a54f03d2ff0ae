/* SPDX-License-Identifier: MIT */
/*
 * sim-bootview.c: see sim-bootview.h.
 */
#include "sim/sim-bootview.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "sim/sim-private.h"

static gboolean
env_is(const char *name, const char *value)
{
    return g_strcmp0(g_getenv(name), value) == 0;
}

gboolean
pp_sim_boot_view_build(CfiReplay *replay, guint k, CfiModel model,
                       guint64 seed, const char *dir, PpBootViewBuilt *out,
                       GError **error)
{
    memset(out, 0, sizeof *out);
    if (g_file_test(dir, G_FILE_TEST_EXISTS) && !pp_rm_rf(dir, error)) {
        return FALSE;
    }
    guint64 subset = cfi_bootview_subset_seed(seed, k);
    out->full = env_is("PLUGPULL_BOOTVIEW_FULL", "1");
    if (out->full) {
        return cfi_replay_materialise_bootview(replay, k, model, seed, subset,
                                               dir, NULL, &out->view, error);
    }
    if (cfi_replay_bootview_same_boot(replay, k, model, seed, subset,
                                      &out->view)) {
        out->same = TRUE;
        return TRUE;
    }
    if (!cfi_replay_materialise_bootview_boot(replay, k, model, seed, subset,
                                              dir, NULL, &out->view, error)) {
        return FALSE;
    }
    if (env_is("PLUGPULL_BOOTVIEW_BREAK", "drop-loader")) {
        g_autofree char *loader = g_build_filename(dir, "boot", "loader",
                                                   NULL);
        (void)unlink(loader);
    }
    return TRUE;
}

void
pp_sim_boot_view_evidence(JsonNode *judgement, CfiTrace *trace,
                          const char *root, const PpBootViewBuilt *b,
                          const PpJudgement *j)
{
    if (judgement == NULL || !JSON_NODE_HOLDS_OBJECT(judgement)) {
        return;
    }
    const CfiBootView *v = &b->view;
    g_autoptr(JsonBuilder) jb = json_builder_new();
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "subset_seed");
    json_builder_add_int_value(jb, (gint64)v->subset_seed);
    json_builder_set_member_name(jb, "checkpoint");
    json_builder_add_int_value(jb, v->checkpoint);
    g_autofree char *ck = v->checkpoint >= 0
        ? pp_sim_describe_call(trace, root, (guint)v->checkpoint)
        : g_strdup("(the start of the run)");
    json_builder_set_member_name(jb, "checkpoint_call");
    json_builder_add_string_value(jb, ck);
    json_builder_set_member_name(jb, "metadata_ops_after");
    json_builder_add_int_value(jb, v->meta_pending);
    json_builder_set_member_name(jb, "metadata_ops_home");
    json_builder_add_int_value(jb, v->meta_home);
    json_builder_set_member_name(jb, "differs");
    json_builder_add_boolean_value(jb, !b->same && j != NULL
                                       && j->views_differ);
    if (b->same) {
        json_builder_set_member_name(jb, "same_as_kernel");
        json_builder_add_boolean_value(jb, TRUE);
    }
    g_autofree char *note = g_strdup_printf(
        "the bootloader reads the state of %s plus %u of the %u metadata "
        "operations committed since (subset %" G_GUINT64_FORMAT "): %s", ck,
        v->meta_home, v->meta_pending, v->subset_seed,
        b->same ? "same as kernel (none of the operations it misses shapes "
                  "boot/), judged with one view"
        : j != NULL && j->views_note != NULL ? j->views_note : "");
    json_builder_set_member_name(jb, "note");
    json_builder_add_string_value(jb, note);
    json_builder_end_object(jb);
    json_object_set_member(json_node_get_object(judgement), "boot_view",
                           json_builder_get_root(jb));
}
