/* SPDX-License-Identifier: MIT */
/*
 * stat-overlay.c: see stat-overlay.h.
 */
#include "oracle/stat-overlay.h"
#include "common/fs.h"

typedef struct {
    guint32 mode;
    guint32 uid;
    guint32 gid;
} Meta;

struct _PpStatOverlay {
    GHashTable *by_inode;       /* PpInodeKey * -> Meta * */
};

PpStatOverlay *
pp_stat_overlay_new(void)
{
    PpStatOverlay *o = g_new0(PpStatOverlay, 1);
    o->by_inode = g_hash_table_new_full(pp_inode_hash, pp_inode_equal, g_free, g_free);
    return o;
}

void
pp_stat_overlay_free(PpStatOverlay *o)
{
    if (o == NULL) {
        return;
    }
    g_hash_table_unref(o->by_inode);
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
