/* SPDX-License-Identifier: MIT */
/*
 * sim-share.c: see sim-share.h.
 */
#include "sim/sim-share.h"
#include "sim/sim-private.h"

typedef struct {
    gboolean done;              /* FALSE: its representative is judging it */
    char *rep_id;
    PpOutcome verdict;
    char *reason;
    char *boots;
    JsonNode *judgement;
    CfiCrashStats stats;
} Group;

struct PpJudgeShare {
    GMutex lock;
    GCond changed;              /* a group was published or dropped */
    GHashTable *groups;         /* state key -> Group * */
};

struct PpShareClaim {
    PpJudgeShare *share;
    char *key;
    gboolean published;
};

static void
group_free(Group *g)
{
    g_free(g->rep_id);
    g_free(g->reason);
    g_free(g->boots);
    g_clear_pointer(&g->judgement, json_node_unref);
    g_free(g);
}

PpJudgeShare *
pp_judge_share_new(void)
{
    PpJudgeShare *s = g_new0(PpJudgeShare, 1);
    g_mutex_init(&s->lock);
    g_cond_init(&s->changed);
    s->groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)group_free);
    return s;
}

void
pp_judge_share_free(PpJudgeShare *s)
{
    if (s == NULL) {
        return;
    }
    g_hash_table_unref(s->groups);
    g_cond_clear(&s->changed);
    g_mutex_clear(&s->lock);
    g_free(s);
}

void
pp_share_claim_free(PpShareClaim *claim)
{
    if (claim == NULL) {
        return;
    }
    if (!claim->published) {
        g_mutex_lock(&claim->share->lock);
        g_hash_table_remove(claim->share->groups, claim->key);
        g_cond_broadcast(&claim->share->changed);
        g_mutex_unlock(&claim->share->lock);
    }
    g_free(claim->key);
    g_free(claim);
}

gboolean
pp_sim_share_take(PpSimEnv *env, PpCase *c, gboolean resume,
                  gboolean keep_state, PpShareClaim **out_claim)
{
    *out_claim = NULL;
    PpJudgeShare *s = env->share;
    if (s == NULL || resume || keep_state) {
        return FALSE;
    }
    guint total = 0, kept = 0;
    g_autofree char *ops = cfi_replay_state_key(env->replay, c->k, env->model,
                                                env->seed, &total, &kept);
    /* The verdict also rests on what the operations do not say: the
     * bootloader's view (its checkpoint and the metadata drawn after it,
     * MODELS.md 4a) and, after the client's exit, its promise
     * (sim-promise.h).  Cuts that differ there are not the same state. */
    GString *key_str = g_string_new(ops);
    if (pp_sim_two_views(env)) {
        g_string_append_printf(
            key_str, "/boot:%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT,
            cfi_replay_last_checkpoint(env->replay, c->k),
            cfi_bootview_subset_seed(env->seed, c->k));
    }
    if (pp_promise_after_exit(c->k, cfi_trace_n_records(env->trace))) {
        g_string_append(key_str, "/after-exit");
    }
    g_autofree char *key = g_string_free(key_str, FALSE);
    g_mutex_lock(&s->lock);
    Group *g;
    while ((g = g_hash_table_lookup(s->groups, key)) != NULL && !g->done) {
        g_cond_wait(&s->changed, &s->lock);
    }
    if (g == NULL) {
        g = g_new0(Group, 1);
        g->rep_id = g_strdup(c->id);
        g_hash_table_insert(s->groups, g_strdup(key), g);
        g_mutex_unlock(&s->lock);
        PpShareClaim *claim = g_new0(PpShareClaim, 1);
        claim->share = s;
        claim->key = g_steal_pointer(&key);
        *out_claim = claim;
        return FALSE;
    }
    c->shared_with = g_strdup(g->rep_id);
    pp_case_set_verdict(c, g->verdict);
    c->reason = g_strdup(g->reason);
    c->boots = g_strdup(g->boots);
    c->judgement = json_node_copy(g->judgement);
    c->stats = g->stats;
    g_mutex_unlock(&s->lock);
    /* The same operations applied the same way; only how many were
     * dropped depends on where the cut fell. */
    c->stats.ops_total = total;
    c->stats.ops_dropped = total - kept;
    return TRUE;
}

void
pp_sim_share_publish(PpShareClaim *claim, const PpCase *c)
{
    PpJudgeShare *s = claim->share;
    g_mutex_lock(&s->lock);
    Group *g = g_hash_table_lookup(s->groups, claim->key);
    g->verdict = c->verdict;
    g->reason = g_strdup(c->reason);
    g->boots = g_strdup(c->boots);
    g->judgement = json_node_copy(c->judgement);
    g->stats = c->stats;
    g->done = TRUE;
    claim->published = TRUE;
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
}

gboolean
pp_sim_share_setup(PpSimEnv *env, GError **error)
{
    if (pp_oracle_cache_disabled()) {
        return TRUE;
    }
    g_autoptr(PpOracleCache) cache = pp_oracle_cache_new();
    if (!pp_oracle_cache_pin_tree(cache, env->snapshot, error)) {
        return FALSE;
    }
    env->oracle_cache = g_steal_pointer(&cache);
    env->share = pp_judge_share_new();
    return TRUE;
}
