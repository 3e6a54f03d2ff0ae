/*
 * stat-overlay.c: see stat-overlay.h.
 */
#include "oracle/stat-overlay.h"

typedef struct {
    dev_t dev;
    ino_t ino;
} Key;

typedef struct {
    guint32 mode;
    guint32 uid;
    guint32 gid;
} Meta;

struct _PpStatOverlay {
    GHashTable *by_inode;       /* Key * -> Meta * */
};

static guint
key_hash(gconstpointer p)
{
    const Key *k = p;
    guint64 v = (guint64)k->ino * 0x9e3779b97f4a7c15ull ^ (guint64)k->dev;
    return (guint)(v ^ (v >> 32));
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    const Key *x = a;
    const Key *y = b;
    return x->dev == y->dev && x->ino == y->ino;
}

PpStatOverlay *
pp_stat_overlay_new(void)
{
    PpStatOverlay *o = g_new0(PpStatOverlay, 1);
    o->by_inode = g_hash_table_new_full(key_hash, key_equal, g_free, g_free);
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
    Key *k = g_new(Key, 1);
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
    Key k = { st->st_dev, st->st_ino };
    const Meta *m = g_hash_table_lookup(o->by_inode, &k);
    if (m != NULL) {
        st->st_mode = (st->st_mode & ~(mode_t)07777) | m->mode;
        st->st_uid = m->uid;
        st->st_gid = m->gid;
    }
}
