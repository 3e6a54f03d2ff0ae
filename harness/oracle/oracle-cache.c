/* SPDX-License-Identifier: MIT */
/*
 * oracle-cache.c: see oracle-cache.h.
 */
#include "oracle/oracle-cache.h"
#include "common/error.h"
#include "common/fs.h"

#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* What an inode must still be for an entry made from it to hold. */
typedef struct {
    guint64 size;
    gint64 mtime_sec;
    gint64 mtime_nsec;
    guint32 mode;               /* type and permission bits */
    guint32 uid;
    guint32 gid;
} Stamp;

typedef struct {
    gboolean has_csum;
    Stamp csum_stamp;
    char *csum;
    gboolean has_object;
    Stamp object_stamp;
    char *object;               /* "CHECKSUM.TYPE" verified in this inode */
} Slot;

/* The sum of several pinned files read one after the other. */
typedef struct {
    guint n;
    Stamp stamps[PP_ORACLE_CACHE_MAX_CONCAT];
    char *sum;
} Concat;

struct _PpOracleCache {
    GMutex lock;
    GHashTable *pinned;         /* PpInodeKey * -> Slot * */
    GHashTable *concat;         /* "dev:ino;dev:ino..." -> Concat * */
    GHashTable *subtrees;       /* key -> Subtree * */
    GHashTable *objects_ok;     /* "CHECKSUM.TYPE" set */
    PpOracleCacheStats stats;
};

static void
slot_free(Slot *s)
{
    g_free(s->csum);
    g_free(s->object);
    g_free(s);
}

typedef struct {
    guint n_paths;
    guint64 bytes;
    GArray *seen;
} Subtree;

static void
subtree_free(Subtree *t)
{
    g_array_unref(t->seen);
    g_free(t);
}

static void
concat_free(Concat *x)
{
    g_free(x->sum);
    g_free(x);
}

static Stamp
stamp_of(const struct stat *st)
{
    Stamp s = {
        .size = (guint64)st->st_size,
        .mtime_sec = st->st_mtim.tv_sec,
        .mtime_nsec = st->st_mtim.tv_nsec,
        .mode = st->st_mode,
        .uid = st->st_uid,
        .gid = st->st_gid,
    };
    return s;
}

static gboolean
stamp_equal(const Stamp *a, const Stamp *b)
{
    return a->size == b->size && a->mtime_sec == b->mtime_sec
           && a->mtime_nsec == b->mtime_nsec && a->mode == b->mode
           && a->uid == b->uid && a->gid == b->gid;
}

PpOracleCache *
pp_oracle_cache_new(void)
{
    PpOracleCache *c = g_new0(PpOracleCache, 1);
    g_mutex_init(&c->lock);
    c->pinned = g_hash_table_new_full(pp_inode_hash, pp_inode_equal, g_free,
                                      (GDestroyNotify)slot_free);
    c->concat = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)concat_free);
    c->subtrees = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)subtree_free);
    c->objects_ok = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          NULL);
    return c;
}

void
pp_oracle_cache_free(PpOracleCache *c)
{
    if (c == NULL) {
        return;
    }
    g_hash_table_unref(c->pinned);
    g_hash_table_unref(c->concat);
    g_hash_table_unref(c->subtrees);
    g_hash_table_unref(c->objects_ok);
    g_mutex_clear(&c->lock);
    g_free(c);
}

static gboolean
pin_dir(PpOracleCache *c, int parent_dfd, const char *name, const char *path,
        GError **error)
{
    int fd = openat(parent_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                    | O_CLOEXEC);
    if (fd < 0) {
        return pp_throw_errno_prefix(error, "openat(%s)", path);
    }
    pp_autodir DIR *d = fdopendir(fd);
    if (d == NULL) {
        int errsv = errno;
        close(fd);
        errno = errsv;
        return pp_throw_errno_prefix(error, "fdopendir(%s)", path);
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            errno = 0;
            continue;
        }
        struct stat st;
        g_autofree char *sub = g_strconcat(path, "/", de->d_name, NULL);
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            return pp_throw_errno_prefix(error, "lstat(%s)", sub);
        }
        if (S_ISDIR(st.st_mode)) {
            if (!pin_dir(c, dirfd(d), de->d_name, sub, error)) {
                return FALSE;
            }
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
            PpInodeKey k = { st.st_dev, st.st_ino };
            if (!g_hash_table_contains(c->pinned, &k)) {
                g_hash_table_insert(c->pinned, g_memdup2(&k, sizeof k),
                                    g_new0(Slot, 1));
            }
        }
        errno = 0;
    }
    if (errno != 0) {
        return pp_throw_errno_prefix(error, "readdir(%s)", path);
    }
    return TRUE;
}

gboolean
pp_oracle_cache_pin_tree(PpOracleCache *c, const char *dir, GError **error)
{
    g_mutex_lock(&c->lock);
    gboolean ok = pin_dir(c, AT_FDCWD, dir, dir, error);
    c->stats.pinned = g_hash_table_size(c->pinned);
    g_mutex_unlock(&c->lock);
    if (!ok) {
        g_prefix_error(error, "pinning the unchanged files of %s: ", dir);
    }
    return ok;
}

static Slot *
slot_of(PpOracleCache *c, const struct stat *st)
{
    PpInodeKey k = { st->st_dev, st->st_ino };
    return g_hash_table_lookup(c->pinned, &k);
}

char *
pp_oracle_cache_get_checksum(PpOracleCache *c, const struct stat *st)
{
    Stamp now = stamp_of(st);
    char *out = NULL;
    g_mutex_lock(&c->lock);
    Slot *s = slot_of(c, st);
    if (s != NULL && s->has_csum && stamp_equal(&s->csum_stamp, &now)) {
        out = g_strdup(s->csum);
        c->stats.checksum_hits++;
        if (S_ISREG(st->st_mode)) {
            c->stats.bytes_not_hashed += (guint64)st->st_size;
        }
    }
    g_mutex_unlock(&c->lock);
    return out;
}

void
pp_oracle_cache_put_checksum(PpOracleCache *c, const struct stat *st,
                             const char *csum)
{
    g_mutex_lock(&c->lock);
    Slot *s = slot_of(c, st);
    if (s != NULL) {
        s->has_csum = TRUE;
        s->csum_stamp = stamp_of(st);
        g_free(s->csum);
        s->csum = g_strdup(csum);
        c->stats.checksum_stored++;
    }
    g_mutex_unlock(&c->lock);
}

gboolean
pp_oracle_cache_object_verified(PpOracleCache *c, const struct stat *st,
                                const char *name)
{
    Stamp now = stamp_of(st);
    gboolean hit = FALSE;
    g_mutex_lock(&c->lock);
    Slot *s = slot_of(c, st);
    if (s != NULL && s->has_object && g_strcmp0(s->object, name) == 0
        && stamp_equal(&s->object_stamp, &now)) {
        hit = TRUE;
        c->stats.object_hits++;
    }
    g_mutex_unlock(&c->lock);
    return hit;
}

void
pp_oracle_cache_put_object_verified(PpOracleCache *c, const struct stat *st,
                                    const char *name)
{
    g_mutex_lock(&c->lock);
    Slot *s = slot_of(c, st);
    if (s != NULL) {
        s->has_object = TRUE;
        s->object_stamp = stamp_of(st);
        g_free(s->object);
        s->object = g_strdup(name);
        c->stats.object_stored++;
    }
    g_mutex_unlock(&c->lock);
}

/* The key of n files, or NULL when one of them is not pinned (its inode
 * number could be reused by a later state's file).  Under the lock. */
static char *
concat_key(PpOracleCache *c, const struct stat *sts, guint n)
{
    if (n == 0 || n > PP_ORACLE_CACHE_MAX_CONCAT) {
        return NULL;
    }
    GString *k = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        if (slot_of(c, &sts[i]) == NULL) {
            g_string_free(k, TRUE);
            return NULL;
        }
        g_string_append_printf(k, "%ju:%ju;", (uintmax_t)sts[i].st_dev,
                               (uintmax_t)sts[i].st_ino);
    }
    return g_string_free(k, FALSE);
}

char *
pp_oracle_cache_get_concat_sha256(PpOracleCache *c, const struct stat *sts,
                                  guint n)
{
    char *out = NULL;
    g_mutex_lock(&c->lock);
    g_autofree char *key = concat_key(c, sts, n);
    Concat *x = key != NULL ? g_hash_table_lookup(c->concat, key) : NULL;
    gboolean same = x != NULL && x->n == n;
    for (guint i = 0; same && i < n; i++) {
        Stamp now = stamp_of(&sts[i]);
        same = stamp_equal(&x->stamps[i], &now);
    }
    if (same) {
        out = g_strdup(x->sum);
        c->stats.concat_hits++;
        for (guint i = 0; i < n; i++) {
            c->stats.bytes_not_hashed += (guint64)sts[i].st_size;
        }
    }
    g_mutex_unlock(&c->lock);
    return out;
}

void
pp_oracle_cache_put_concat_sha256(PpOracleCache *c, const struct stat *sts,
                                  guint n, const char *sum)
{
    g_mutex_lock(&c->lock);
    char *key = concat_key(c, sts, n);
    if (key != NULL) {
        Concat *x = g_new0(Concat, 1);
        x->n = n;
        for (guint i = 0; i < n; i++) {
            x->stamps[i] = stamp_of(&sts[i]);
        }
        x->sum = g_strdup(sum);
        g_hash_table_replace(c->concat, key, x);
    }
    g_mutex_unlock(&c->lock);
}

gboolean
pp_oracle_cache_get_subtree(PpOracleCache *c, const char *key,
                            guint *out_n_paths, guint64 *out_bytes,
                            GArray **out_seen)
{
    g_mutex_lock(&c->lock);
    const Subtree *t = g_hash_table_lookup(c->subtrees, key);
    if (t != NULL) {
        *out_n_paths = t->n_paths;
        *out_bytes = t->bytes;
        *out_seen = g_array_ref(t->seen);
        c->stats.subtree_hits++;
        c->stats.bytes_not_hashed += t->bytes;
    }
    g_mutex_unlock(&c->lock);
    return t != NULL;
}

void
pp_oracle_cache_put_subtree(PpOracleCache *c, const char *key, guint n_paths,
                            guint64 bytes, const guint *seen, guint n_seen)
{
    Subtree *t = g_new0(Subtree, 1);
    t->n_paths = n_paths;
    t->bytes = bytes;
    t->seen = g_array_sized_new(FALSE, FALSE, sizeof(guint), n_seen);
    g_array_append_vals(t->seen, seen, n_seen);
    g_mutex_lock(&c->lock);
    g_hash_table_replace(c->subtrees, g_strdup(key), t);
    g_mutex_unlock(&c->lock);
}

gboolean
pp_oracle_cache_object_ok_unchanged(PpOracleCache *c, const char *name)
{
    g_mutex_lock(&c->lock);
    gboolean hit = g_hash_table_contains(c->objects_ok, name);
    if (hit) {
        c->stats.unchanged_object_hits++;
    }
    g_mutex_unlock(&c->lock);
    return hit;
}

void
pp_oracle_cache_put_object_ok_unchanged(PpOracleCache *c, const char *name)
{
    g_mutex_lock(&c->lock);
    g_hash_table_add(c->objects_ok, g_strdup(name));
    g_mutex_unlock(&c->lock);
}

void
pp_oracle_cache_get_stats(PpOracleCache *c, PpOracleCacheStats *out)
{
    g_mutex_lock(&c->lock);
    *out = c->stats;
    g_mutex_unlock(&c->lock);
}

gboolean
pp_oracle_cache_disabled(void)
{
    const char *v = g_getenv("PLUGPULL_ORACLE_NOCACHE");
    return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}
