/* SPDX-License-Identifier: MIT */
/*
 * replay-decide.c: which operations a model keeps at a cut (MODELS.md §4).
 *
 * Random choices come from SplitMix64 (splitmix64.h) rather than from
 * GLib, so that a crash-state name means the same tree on every machine
 * and every GLib version.
 */
#include "replay-private.h"
#include "splitmix64.h"

#include <string.h>

typedef struct {
    uint64_t s;
} Rng;

static guint64
rng_next(Rng *g)
{
    return cfi_splitmix64(&g->s);
}

static gboolean
durable(const CfiUop *u, guint k)
{
    return u->durable_at != CFI_NEVER && u->durable_at < k;
}

/* Written by an auto_da_alloc flush before the cut (MODELS.md §4b; only
 * ever set under that option). */
static gboolean
flushed(const CfiUop *u, guint k)
{
    return u->flushed_at != CFI_NEVER && u->flushed_at < k;
}

guint
cfi_replay_decide(CfiReplay *r, guint k, CfiModel model, guint64 seed,
                  guint8 *keep)
{
    guint n = r->rec_uop_start[MIN(k, r->n_records)];
    Rng g = { seed };

    for (guint i = 0; i < n; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        switch (model) {
        case CFI_MODEL_PROCESS_KILL:
            keep[i] = TRUE;
            break;
        case CFI_MODEL_ORDERED:
        case CFI_MODEL_TORN:
            keep[i] = u->klass != CFI_CLASS_DATA || durable(u, k) ||
                      flushed(u, k) || r->opts.data_in_place;
            break;
        case CFI_MODEL_STRICT:
            keep[i] = durable(u, k);
            break;
        case CFI_MODEL_REORDER:
            keep[i] = durable(u, k) || (rng_next(&g) & 1) != 0;
            break;
        }
    }
    return n;
}

/* MODELS.md §4a: metadata is every class but data.  Each operation takes
 * its last checkpoint from the freezes of its own filesystem (§4b; one
 * filesystem unless boot/ is separate). */
guint
cfi_replay_decide_bootview(CfiReplay *r, guint k, CfiModel model,
                           guint64 seed, guint64 subset_seed, guint8 *keep,
                           CfiBootView *info)
{
    guint n = cfi_replay_decide(r, k, model, seed, keep);
    gint64 c[CFI_FS_COUNT];
    Rng g = { subset_seed };

    for (guint fs = 0; fs < CFI_FS_COUNT; fs++)
        c[fs] = cfi_replay_last_checkpoint_fs(r, fs, k);
    memset(info, 0, sizeof *info);
    info->checkpoint = c[cfi_replay_boot_fs(r)];
    info->subset_seed = subset_seed;
    if (model == CFI_MODEL_PROCESS_KILL)
        return n;               /* no power lost: one view */
    for (guint i = 0; i < n; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        if ((gint64)u->rec <= c[u->fs]) {
            keep[i] = TRUE;     /* the freeze wrote them home */
            continue;
        }
        if (!keep[i] || u->klass == CFI_CLASS_DATA)
            continue;
        info->meta_pending++;
        keep[i] = subset_seed != 0 && (rng_next(&g) & 1) != 0;
        info->meta_home += keep[i];
    }
    return n;
}

guint64
cfi_bootview_subset_seed(guint64 seed, guint k)
{
    if (seed == 0)
        return 0;
    Rng g = { seed ^ ((guint64)k * 0x9e3779b97f4a7c15ull) };
    guint64 s = rng_next(&g);
    return s != 0 ? s : 1;
}

guint
cfi_replay_torn_sectors(CfiReplay *r, guint k, guint64 seed,
                        guint8 **out_mask, gint64 *out_first_sector)
{
    *out_mask = NULL;
    if (k >= r->n_records || r->inflight[k].inode == 0)
        return 0;
    const CfiInflight *f = &r->inflight[k];
    gint64 s0 = f->off / 512, s1 = (f->off + (gint64)f->len - 1) / 512;
    guint n = s1 - s0 + 1;
    guint8 *mask = g_new(guint8, n);
    Rng g = { seed };

    if (n == 1) {
        mask[0] = TRUE;
    } else {
        guint set;
        do {
            set = 0;
            for (guint i = 0; i < n; i++) {
                mask[i] = rng_next(&g) & 1;
                set += mask[i];
            }
        } while (set == 0 || set == n);
    }
    *out_mask = mask;
    *out_first_sector = s0;
    return n;
}
