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

/* ---- views shared between cases ----------------------------------- */

typedef struct {
    char *dir;
    gint refs;                  /* cases holding it */
    gboolean ready;             /* built */
} Shared;

struct PpBootViewCache {
    GMutex lock;
    GCond built;
    GHashTable *by_key;         /* key -> Shared * */
    char *dir;
    guint made;
};

/* Views kept with no case holding them, for the next cuts. */
#define PP_BOOTVIEW_KEEP 4

static void
shared_free(Shared *s)
{
    g_free(s->dir);
    g_free(s);
}

PpBootViewCache *
pp_boot_view_cache_new(const char *dir)
{
    PpBootViewCache *c = g_new0(PpBootViewCache, 1);
    g_mutex_init(&c->lock);
    g_cond_init(&c->built);
    c->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)shared_free);
    c->dir = g_strdup(dir);
    return c;
}

void
pp_boot_view_cache_free(PpBootViewCache *c)
{
    if (c == NULL) {
        return;
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->by_key);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        pp_rm_rf(((Shared *)v)->dir, NULL);
    }
    g_hash_table_unref(c->by_key);
    g_cond_clear(&c->built);
    g_mutex_clear(&c->lock);
    g_free(c->dir);
    g_free(c);
}

/* Under the lock: the views no case holds, beyond the few kept, out of
 * the table; their trees are the caller's to remove. */
static GPtrArray *
evict_unheld(PpBootViewCache *c)
{
    GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
    guint unheld = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->by_key);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        unheld += ((Shared *)v)->ready && ((Shared *)v)->refs == 0;
    }
    g_hash_table_iter_init(&it, c->by_key);
    while (unheld > PP_BOOTVIEW_KEEP && g_hash_table_iter_next(&it, NULL, &v)) {
        Shared *s = v;
        if (s->ready && s->refs == 0) {
            g_ptr_array_add(gone, g_steal_pointer(&s->dir));
            g_hash_table_iter_remove(&it);
            unheld--;
        }
    }
    return gone;
}

gboolean
pp_sim_boot_view_share(PpBootViewCache *c, CfiReplay *replay, guint k,
                       CfiModel model, guint64 seed, char **out_dir,
                       PpBootViewBuilt *out, GError **error)
{
    memset(out, 0, sizeof *out);
    *out_dir = NULL;
    guint64 subset = cfi_bootview_subset_seed(seed, k);
    if (cfi_replay_bootview_same_boot(replay, k, model, seed, subset,
                                      &out->view)) {
        out->same = TRUE;
        return TRUE;
    }
    g_autofree char *key = cfi_replay_bootview_key(replay, k, model, seed,
                                                   subset);
    g_mutex_lock(&c->lock);
    Shared *s = g_hash_table_lookup(c->by_key, key);
    while (s != NULL && !s->ready) {
        g_cond_wait(&c->built, &c->lock);
        s = g_hash_table_lookup(c->by_key, key);  /* gone if it failed */
    }
    if (s != NULL) {
        s->refs++;
        *out_dir = g_strdup(s->dir);
        g_mutex_unlock(&c->lock);
        return TRUE;
    }
    g_autoptr(GPtrArray) gone = evict_unheld(c);
    s = g_new0(Shared, 1);
    s->dir = g_strdup_printf("%s/.bootview-%u", c->dir, c->made++);
    s->refs = 1;
    g_autofree char *dir = g_strdup(s->dir);
    g_hash_table_insert(c->by_key, g_strdup(key), s);
    g_mutex_unlock(&c->lock);

    for (guint i = 0; i < gone->len; i++) {
        pp_rm_rf(gone->pdata[i], NULL);
    }
    gboolean ok = (!g_file_test(dir, G_FILE_TEST_EXISTS)
                   || pp_rm_rf(dir, error))
                  && cfi_replay_materialise_bootview_boot(replay, k, model,
                                                          seed, subset, dir,
                                                          NULL, &out->view,
                                                          error);
    g_mutex_lock(&c->lock);
    if (ok) {
        s->ready = TRUE;
        *out_dir = g_steal_pointer(&dir);
    } else {
        g_hash_table_remove(c->by_key, key);
    }
    g_cond_broadcast(&c->built);
    g_mutex_unlock(&c->lock);
    if (!ok && dir != NULL) {
        pp_rm_rf(dir, NULL);
    }
    return ok;
}

void
pp_boot_view_cache_release(PpBootViewCache *c, const char *dir)
{
    g_mutex_lock(&c->lock);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->by_key);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Shared *s = v;
        if (s->dir != NULL && g_str_equal(s->dir, dir) && s->refs > 0) {
            s->refs--;
            break;
        }
    }
    g_mutex_unlock(&c->lock);
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
