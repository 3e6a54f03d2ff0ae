/* SPDX-License-Identifier: MIT */
/*
 * stat-overlay.c: see stat-overlay.h.
 */
#include "oracle/stat-overlay.h"
#include "common/fs.h"

#include <string.h>

typedef struct {
    guint32 mode;
    guint32 uid;
    guint32 gid;
} Meta;

struct _PpStatOverlay {
    GHashTable *by_inode;       /* PpInodeKey * -> Meta * */
    GHashTable *xattrs;         /* PpInodeKey * -> GPtrArray of GVariant (ayay) */
};

PpStatOverlay *
pp_stat_overlay_new(void)
{
    PpStatOverlay *o = g_new0(PpStatOverlay, 1);
    o->by_inode = g_hash_table_new_full(pp_inode_hash, pp_inode_equal, g_free, g_free);
    o->xattrs = g_hash_table_new_full(pp_inode_hash, pp_inode_equal, g_free,
                                      (GDestroyNotify)g_ptr_array_unref);
    return o;
}

void
pp_stat_overlay_free(PpStatOverlay *o)
{
    if (o == NULL) {
        return;
    }
    g_hash_table_unref(o->by_inode);
    g_hash_table_unref(o->xattrs);
    g_free(o);
}

void
pp_stat_overlay_set(PpStatOverlay *o, dev_t dev, ino_t ino, guint32 mode,
                    guint32 uid, guint32 gid)
{
    PpInodeKey *k = g_new(PpInodeKey, 1);
    k->dev = dev;
    k->ino = ino;
    Meta *m = g_new(Meta, 1);
    m->mode = mode & 07777;
    m->uid = uid;
    m->gid = gid;
    g_hash_table_replace(o->by_inode, k, m);
}

guint
pp_stat_overlay_size(const PpStatOverlay *o)
{
    return o != NULL ? g_hash_table_size(o->by_inode) : 0;
}

void
pp_stat_overlay_apply(const PpStatOverlay *o, struct stat *st)
{
    if (o == NULL) {
        return;
    }
    PpInodeKey k = { st->st_dev, st->st_ino };
    const Meta *m = g_hash_table_lookup(o->by_inode, &k);
    if (m != NULL) {
        st->st_mode = (st->st_mode & ~(mode_t)07777) | m->mode;
        st->st_uid = m->uid;
        st->st_gid = m->gid;
    }
}

void
pp_stat_overlay_add_xattr(PpStatOverlay *o, dev_t dev, ino_t ino,
                          const char *name, const void *value, gsize len)
{
    PpInodeKey k = { dev, ino };
    GPtrArray *a = g_hash_table_lookup(o->xattrs, &k);
    if (a == NULL) {
        a = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
        g_hash_table_insert(o->xattrs, g_memdup2(&k, sizeof k), a);
    }
    GVariant *n = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, name,
                                            strlen(name) + 1, 1);
    GVariant *v = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, value, len, 1);
    g_ptr_array_add(a, g_variant_ref_sink(g_variant_new("(@ay@ay)", n, v)));
}

GVariant *
pp_stat_overlay_get_xattrs(const PpStatOverlay *o, const struct stat *st)
{
    if (o == NULL) {
        return NULL;
    }
    PpInodeKey k = { st->st_dev, st->st_ino };
    GPtrArray *a = g_hash_table_lookup(o->xattrs, &k);
    if (a == NULL) {
        return NULL;
    }
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a(ayay)"));
    for (guint i = 0; i < a->len; i++) {
        g_variant_builder_add_value(&b, a->pdata[i]);
    }
    return g_variant_ref_sink(g_variant_builder_end(&b));
}
