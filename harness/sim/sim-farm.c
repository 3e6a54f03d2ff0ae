/* SPDX-License-Identifier: MIT */
/*
 * sim-farm.c: see sim-farm.h.
 */
#include "sim/sim-farm.h"
#include "sim/sim-bootview.h"
#include "common/error.h"
#include "common/fs.h"

#include <errno.h>
#include <stdio.h>

struct PpFarmPool {
    GMutex lock;
    GPtrArray *free;            /* CfiFarm * ready for a case */
    guint made;                 /* farms named so far */
    gboolean verify;            /* PLUGPULL_STATE_VERIFY */
    gboolean advance;           /* not PLUGPULL_STATE_RESTORE */
    char *dir;                  /* where their trees live */
};

static gboolean
env_flag(const char *name)
{
    const char *v = g_getenv(name);
    return v != NULL && v[0] != '\0' && g_strcmp0(v, "0") != 0;
}

void
pp_sim_farm_setup(PpSimEnv *env)
{
    if (env_flag("PLUGPULL_STATE_FRESH")) {
        return;
    }
    PpFarmPool *p = g_new0(PpFarmPool, 1);
    g_mutex_init(&p->lock);
    p->free = g_ptr_array_new();
    p->verify = env_flag("PLUGPULL_STATE_VERIFY");
    p->advance = !env_flag("PLUGPULL_STATE_RESTORE");
    p->dir = g_strdup(env->states_dir);
    env->farms = p;
    /* Views shared between the cases built over farms (the full and the
       broken view are the bootloader-view check's, built per case). */
    if (g_getenv("PLUGPULL_BOOTVIEW_FULL") == NULL
        && g_getenv("PLUGPULL_BOOTVIEW_BREAK") == NULL) {
        env->bootviews = pp_boot_view_cache_new(env->states_dir);
    }
}

static void
farm_remove(CfiFarm *farm)
{
    pp_rm_rf(cfi_farm_get_path(farm), NULL);
    cfi_farm_free(farm);
}

void
pp_farm_pool_free(PpFarmPool *pool)
{
    if (pool == NULL) {
        return;
    }
    for (guint i = 0; i < pool->free->len; i++) {
        farm_remove(pool->free->pdata[i]);
    }
    g_ptr_array_unref(pool->free);
    g_mutex_clear(&pool->lock);
    g_free(pool->dir);
    g_free(pool);
}

CfiFarm *
pp_sim_farm_take(PpSimEnv *env, guint k)
{
    PpFarmPool *p = env->farms;
    if (p == NULL) {
        return NULL;
    }
    CfiFarm *farm = NULL;
    g_mutex_lock(&p->lock);
    if (p->free->len > 0) {
        /* The farm whose state is the latest cut not after k: the
           fewest operations to apply (a farm at a later cut is
           restored first). */
        guint best = p->free->len - 1;
        gint64 best_cut = G_MININT64;
        for (guint i = 0; i < p->free->len; i++) {
            gint64 cut = cfi_farm_state_cut(p->free->pdata[i]);
            if (cut <= (gint64)k && cut > best_cut) {
                best = i;
                best_cut = cut;
            }
        }
        farm = g_ptr_array_steal_index_fast(p->free, best);
    } else {
        g_autofree char *name = g_strdup_printf(".farm-%u", p->made++);
        g_autofree char *path = g_build_filename(p->dir, name, NULL);
        /* A tree left there by a run that was killed is stale. */
        pp_rm_rf(path, NULL);
        farm = cfi_farm_new(path);
        cfi_farm_set_advance(farm, p->advance);
        cfi_farm_set_verify(farm, p->verify);
    }
    g_mutex_unlock(&p->lock);
    return farm;
}

void
pp_sim_farm_drop(PpSimEnv *env, CfiFarm *farm)
{
    (void)env;
    if (farm != NULL) {
        farm_remove(farm);
    }
}

gboolean
pp_sim_farm_give(PpSimEnv *env, CfiFarm *farm, guint *out_dirs,
                 GError **error)
{
    PpFarmPool *p = env->farms;
    if (!cfi_farm_is_ready(farm, env->replay)) {
        /* Not the snapshot's hardlinks (another filesystem): built
           fresh every time, as a state is without a farm. */
        farm_remove(farm);
        return TRUE;
    }
    if (p->advance && cfi_farm_state_cut(farm) >= 0) {
        /* Kept for a later cut (its next case restores it if it
           cannot move it there). */
        if (out_dirs != NULL) {
            *out_dirs = 0;
        }
        g_mutex_lock(&p->lock);
        g_ptr_array_add(p->free, farm);
        g_mutex_unlock(&p->lock);
        return TRUE;
    }
    if (!cfi_farm_restore(farm, out_dirs, error)) {
        farm_remove(farm);
        return FALSE;
    }
    if (p->verify) {
        guint diffs = 0;
        g_autofree char *first = NULL;
        if (!cfi_farm_verify(farm, &diffs, &first, error)) {
            farm_remove(farm);
            return FALSE;
        }
        if (diffs > 0) {
            g_set_error(error, PP_ERROR, PP_ERROR_HARNESS,
                        "farm %s: %u difference(s) with the snapshot after "
                        "the restore, the first: %s",
                        cfi_farm_get_path(farm), diffs, first);
            farm_remove(farm);
            return FALSE;
        }
    }
    g_mutex_lock(&p->lock);
    g_ptr_array_add(p->free, farm);
    g_mutex_unlock(&p->lock);
    return TRUE;
}
