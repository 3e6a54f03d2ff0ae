/* SPDX-License-Identifier: MIT */
/*
 * replay-key.c: what a crash state is made of, as a digest, without
 * building it.
 *
 * materialise() (replay-apply.c) starts every state from the same
 * snapshot, applies the operations the model keeps, in trace order, and
 * under "torn" the torn sectors of the write in flight at the cut; nothing
 * else depends on the cut or the seed.  So two cuts whose kept operations
 * are the same (by index in the interpretation's one list) and that tear
 * nothing build byte-identical trees, whatever their k: a state between
 * two barriers whose calls the model drops is the state at the first.  A
 * torn write makes the state its own (k and the sector mask are in the
 * key).
 */
#include "replay-private.h"

#include <string.h>

/* Feed the indices of the kept uops to sum; how many. */
static guint
sum_kept(GChecksum *sum, const guint8 *keep, guint n)
{
    guint kept = 0;
    for (guint i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        guint8 le[4] = { i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff,
                         (i >> 24) & 0xff };
        g_checksum_update(sum, le, sizeof le);
        kept++;
    }
    return kept;
}

char *
cfi_replay_bootview_key(CfiReplay *r, guint k, CfiModel model, guint64 seed,
                        guint64 subset_seed)
{
    guint kk = MIN(k, r->n_records);
    guint n = r->rec_uop_start[kk];
    g_autofree guint8 *keep = g_new0(guint8, MAX(n, 1));
    CfiBootView view;
    cfi_replay_decide_bootview(r, kk, model, seed, subset_seed, keep, &view);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)"bootview", 9);
    sum_kept(sum, keep, n);
    return g_strdup(g_checksum_get_string(sum));
}

char *
cfi_replay_state_key(CfiReplay *r, guint k, CfiModel model, guint64 seed,
                     guint *out_total, guint *out_kept)
{
    guint kk = MIN(k, r->n_records);
    guint n = r->rec_uop_start[kk];
    g_autofree guint8 *keep = g_new0(guint8, MAX(n, 1));
    cfi_replay_decide(r, kk, model, seed, keep);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    guint kept = sum_kept(sum, keep, n);
    if (model == CFI_MODEL_TORN) {
        g_autofree guint8 *mask = NULL;
        gint64 s0 = 0;
        guint ns = cfi_replay_torn_sectors(r, kk, seed, &mask, &s0);
        if (ns > 0) {
            g_autofree char *torn = g_strdup_printf("torn k=%u", kk);
            g_checksum_update(sum, (const guchar *)torn, strlen(torn) + 1);
            g_checksum_update(sum, mask, ns);
        }
    }
    if (out_total != NULL)
        *out_total = n;
    if (out_kept != NULL)
        *out_kept = kept;
    return g_strdup(g_checksum_get_string(sum));
}
