/* SPDX-License-Identifier: MIT */
/*
 * replay-bootscope.c: the part of a state a bootloader can read, and the
 * operations that shape it (MODELS.md §5, "Only boot/").
 *
 * The bootloader's view is read only under boot/ (the loader symlink,
 * the loader directories, the kernels).  Its scope is computed once per
 * trace as a closure over paths, so that materialising the scope alone
 * gives, under boot/, exactly what materialising everything gives:
 *
 *  - the prefixes start as { "boot" };
 *  - a link or rename with one side in scope brings the other side in
 *    (a kernel hardlinked from a deployment, a directory moved in or
 *    out): the whole of it when the side in scope lies under a prefix,
 *    the matching part when that side is an ancestor of a prefix;
 *  - an rmdir, or a rename onto, a strict ancestor of a prefix brings
 *    that ancestor in whole (whether it is empty depends on all of it);
 *  - a symlink in scope brings in what its target names (the reader
 *    follows it);
 *  - a path is in scope when it lies under a prefix or is an ancestor of
 *    one (the directories a prefix hangs from);
 *  - a file is in scope when one of its names is (its data is then
 *    applied), and so is the source of a clone into a file in scope;
 *    a file in scope brings all of its names in (whether it is staged
 *    when an operation in scope names it then comes out the same).
 *
 * The closure is taken over the operations before the cut, whatever a
 * model keeps: the operations after it shape nothing (a kernel the run
 * hardlinks into boot/ later does not make its deployment part of the
 * scope of an earlier cut).  It costs one pass per new prefix over
 * those operations, a few per state.
 */
#include "replay-private.h"

#include <string.h>

/* p lies under prefix R (or is R). */
static gboolean
under(const char *p, const char *R)
{
    gsize n = strlen(R);
    return strncmp(p, R, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* p is a strict ancestor of R ("" is the root, everyone's ancestor). */
static gboolean
strict_ancestor(const char *p, const char *R)
{
    gsize n = strlen(p);
    if (n == 0)
        return R[0] != '\0';
    return strncmp(R, p, n) == 0 && R[n] == '/';
}

static gboolean
under_any(const CfiBootScope *s, const char *p)
{
    for (guint i = 0; i < s->prefixes->len; i++)
        if (under(p, s->prefixes->pdata[i]))
            return TRUE;
    return FALSE;
}

gboolean
cfi_boot_scope_has_path(const CfiBootScope *s, const char *p)
{
    if (p == NULL)
        return FALSE;
    for (guint i = 0; i < s->prefixes->len; i++) {
        const char *R = s->prefixes->pdata[i];
        if (under(p, R) || strict_ancestor(p, R))
            return TRUE;
    }
    return FALSE;
}

static gboolean
add_prefix(CfiBootScope *s, const char *p)
{
    if (under_any(s, p))
        return FALSE;
    g_ptr_array_add(s->prefixes, g_strdup(p));
    return TRUE;
}

/* One side of a link or rename: when src is in scope, dst comes in. */
static gboolean
pull_in(CfiBootScope *s, const char *src, const char *dst)
{
    gboolean changed = FALSE;
    if (src == NULL || dst == NULL)
        return FALSE;
    if (under_any(s, src))
        return add_prefix(s, dst);
    for (guint i = 0; i < s->prefixes->len; i++) {
        const char *R = s->prefixes->pdata[i];
        if (strict_ancestor(src, R)) {
            const char *rest = R + strlen(src);
            g_autofree char *q = src[0] == '\0'
                ? g_strconcat(dst, "/", R, NULL)
                : g_strconcat(dst, rest, NULL);
            changed |= add_prefix(s, q);
        }
    }
    return changed;
}

/* What a symlink at link (relative) with target text names, relative to
 * the root; "" when it names the root or climbs above it. */
static char *
symlink_names(const char *link, const char *target)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
    if (target[0] != '/') {
        g_auto(GStrv) base = g_strsplit(link, "/", -1);
        guint n = g_strv_length(base);
        for (guint i = 0; i + 1 < n; i++)
            if (base[i][0] != '\0')
                g_ptr_array_add(parts, g_strdup(base[i]));
    }
    g_auto(GStrv) t = g_strsplit(target, "/", -1);
    for (char **c = t; *c != NULL; c++) {
        if ((*c)[0] == '\0' || strcmp(*c, ".") == 0)
            continue;
        if (strcmp(*c, "..") == 0) {
            if (parts->len > 0)
                g_ptr_array_remove_index(parts, parts->len - 1);
            continue;
        }
        g_ptr_array_add(parts, g_strdup(*c));
    }
    g_ptr_array_add(parts, NULL);
    return g_strjoinv("/", (char **)parts->pdata);
}

static gboolean
pull_in_symlink(CfiBootScope *s, const char *link, const char *target)
{
    if (link == NULL || target == NULL || !cfi_boot_scope_has_path(s, link))
        return FALSE;
    g_autofree char *p = symlink_names(link, target);
    return add_prefix(s, p);
}

/* An rmdir of, or a rename onto, a strict ancestor of a prefix. */
static gboolean
pull_in_ancestor(CfiBootScope *s, const char *p)
{
    if (p == NULL || under_any(s, p) || !cfi_boot_scope_has_path(s, p))
        return FALSE;
    return add_prefix(s, p);
}

static void
close_prefixes(CfiReplay *r, CfiBootScope *s)
{
    gboolean changed = TRUE;
    while (changed) {
        changed = FALSE;
        for (guint i = 0; i < s->n_uops; i++) {
            const CfiUop *u = cfi_replay_uop(r, i);
            switch (u->kind) {
            case CFI_UOP_LINK:
            case CFI_UOP_RENAME:
                changed |= pull_in(s, u->path, u->path2);
                changed |= pull_in(s, u->path2, u->path);
                if (u->kind == CFI_UOP_RENAME)
                    changed |= pull_in_ancestor(s, u->path2);
                break;
            case CFI_UOP_RMDIR:
                changed |= pull_in_ancestor(s, u->path);
                break;
            case CFI_UOP_SYMLINK:
                changed |= pull_in_symlink(s, u->path2, u->path);
                break;
            default:
                break;
            }
        }
        for (guint i = 0; i < r->snap->len; i++) {
            const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, i);
            if (e->type == CFI_INODE_SYMLINK)
                changed |= pull_in_symlink(s, e->path, e->link_target);
        }
    }
}

static gboolean
entry_in_scope(const CfiBootScope *s, const CfiUop *u)
{
    if (u->kind == CFI_UOP_SYMLINK)
        return cfi_boot_scope_has_path(s, u->path2);
    return cfi_boot_scope_has_path(s, u->path) ||
           cfi_boot_scope_has_path(s, u->path2);
}

static gboolean
is_file(CfiReplay *r, guint32 id)
{
    return id != 0 && id < r->inodes->len &&
           cfi_replay_inode(r, id)->type == CFI_INODE_FILE;
}

/* Files in scope: one of their names is, or they feed a clone into one
 * that is.  Returns whether one was added. */
static gboolean
mark_files(CfiReplay *r, CfiBootScope *s)
{
    gboolean added = FALSE;
    for (guint i = 0; i < r->snap->len; i++) {
        const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, i);
        if (is_file(r, e->inode) && !s->inode[e->inode] &&
            cfi_boot_scope_has_path(s, e->path))
            added = s->inode[e->inode] = TRUE;
    }
    for (guint i = 0; i < s->n_uops; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        if (u->klass == CFI_CLASS_ENTRY && is_file(r, u->inode) &&
            !s->inode[u->inode] && entry_in_scope(s, u))
            added = s->inode[u->inode] = TRUE;
    }
    for (gboolean more = TRUE; more;) {
        more = FALSE;
        for (guint i = 0; i < s->n_uops; i++) {
            const CfiUop *u = cfi_replay_uop(r, i);
            if (u->kind == CFI_UOP_CLONE && s->inode[u->inode] &&
                is_file(r, u->inode2) && !s->inode[u->inode2])
                more = added = s->inode[u->inode2] = TRUE;
        }
    }
    return added;
}

/* A file in scope brings all of its names in: whether it is staged when
 * an operation in scope names it, and whether its other names' parents
 * exist, then come out as in the full materialisation. */
static gboolean
pull_in_names(CfiReplay *r, CfiBootScope *s)
{
    gboolean changed = FALSE;
    for (guint i = 0; i < r->snap->len; i++) {
        const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, i);
        if (is_file(r, e->inode) && s->inode[e->inode])
            changed |= add_prefix(s, e->path);
    }
    for (guint i = 0; i < s->n_uops; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        if (u->klass != CFI_CLASS_ENTRY || !is_file(r, u->inode) ||
            !s->inode[u->inode])
            continue;
        if (u->kind != CFI_UOP_SYMLINK && u->path != NULL)
            changed |= add_prefix(s, u->path);
        if (u->path2 != NULL)
            changed |= add_prefix(s, u->path2);
    }
    return changed;
}

CfiBootScope *
cfi_boot_scope_new(CfiReplay *r, guint n_uops)
{
    CfiBootScope *s = g_new0(CfiBootScope, 1);
    s->n_uops = n_uops;
    s->prefixes = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(s->prefixes, g_strdup(CFI_BOOT_SCOPE_ROOT));
    s->uop = g_new0(guint8, MAX(n_uops, 1));
    s->snap = g_new0(guint8, MAX(r->snap->len, 1));
    s->inode = g_new0(guint8, MAX(r->inodes->len, 1));

    do {
        close_prefixes(r, s);
        mark_files(r, s);
    } while (pull_in_names(r, s));

    for (guint i = 0; i < r->snap->len; i++) {
        const CfiSnapEntry *e = &g_array_index(r->snap, CfiSnapEntry, i);
        s->snap[i] = cfi_boot_scope_has_path(s, e->path);
    }
    for (guint i = 0; i < n_uops; i++) {
        const CfiUop *u = cfi_replay_uop(r, i);
        if (u->klass == CFI_CLASS_ENTRY) {
            s->uop[i] = entry_in_scope(s, u);
            continue;
        }
        CfiInode *ino = cfi_replay_inode(r, u->inode);
        s->uop[i] = ino->type == CFI_INODE_DIR
            ? cfi_boot_scope_has_path(s, u->path)
            : s->inode[u->inode];
    }
    return s;
}

void
cfi_boot_scope_free(CfiBootScope *s)
{
    if (s == NULL)
        return;
    g_ptr_array_unref(s->prefixes);
    g_free(s->uop);
    g_free(s->snap);
    g_free(s->inode);
    g_free(s);
}

guint
cfi_replay_boot_scope_prefixes(CfiReplay *r, guint k, char ***out_prefixes)
{
    CfiBootScope *s = cfi_boot_scope_new(r, r->rec_uop_start[MIN(k, r->n_records)]);
    guint n = s->prefixes->len;
    if (out_prefixes != NULL) {
        *out_prefixes = g_new0(char *, n + 1);
        for (guint i = 0; i < n; i++)
            (*out_prefixes)[i] = g_strdup(s->prefixes->pdata[i]);
    }
    cfi_boot_scope_free(s);
    return n;
}

/*
 * Do the kernel's view and the bootloader's view of state k agree on
 * everything in scope?  They differ only in the operations one keeps and
 * the other does not (and in the torn write, which only the kernel's view
 * has); when none of those is in scope, the two views of boot/ are the
 * same tree.
 */
/*
 * The scope's closure (above) only grows from what lies under boot/, from
 * the files with a name there (all their names), and from the ancestors
 * of those paths (the root included).  Until the first operation that
 * names one of those paths, or a path under one, or one of those files,
 * no operation is in the scope of any cut, and the views agree under
 * boot/ whatever they keep: that is most cuts of an update (the pull and
 * the checkout), and the closure, which costs milliseconds per cut on a
 * real firmware, is not needed for them.  Conservative: a symlink's
 * target text and both paths of every operation count.
 */
static gboolean
boot_inode(CfiReplay *r, guint32 id)
{
    if (id == 0 || id >= r->inodes->len)
        return FALSE;
    const CfiInode *ino = cfi_replay_inode(r, id);
    if (!ino->from_snapshot || ino->snap_names == NULL)
        return FALSE;
    for (guint i = 0; i < ino->snap_names->len; i++) {
        const char *n = ino->snap_names->pdata[i];
        if (g_str_equal(n, "boot") || g_str_has_prefix(n, "boot/"))
            return TRUE;
    }
    return FALSE;
}

/* Add p and each of its ancestors ("" last) to set. */
static void
add_with_ancestors(GHashTable *set, const char *p)
{
    g_autofree char *q = g_strdup(p);
    for (;;) {
        g_hash_table_add(set, g_strdup(q));
        char *slash = strrchr(q, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
    }
    g_hash_table_add(set, g_strdup(""));
}

/* Does path p name one of the paths of set, or lie under one? */
static gboolean
touches(GHashTable *set, const char *p)
{
    if (p == NULL)
        return FALSE;
    g_autofree char *q = g_strdup(p);
    for (;;) {
        if (g_hash_table_contains(set, q))
            return TRUE;
        char *slash = strrchr(q, '/');
        if (slash == NULL)
            return FALSE;
        *slash = '\0';
    }
}

static guint
boot_touch(CfiReplay *r)
{
    if (g_once_init_enter(&r->boot_touch_once)) {
        /* Paths that start the closure, and their ancestors.  "Under
           one" is asked of boot and the files' names only: an ancestor
           of them is matched by itself. */
        g_autoptr(GHashTable) seeds = g_hash_table_new_full(
            g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GHashTable) ancestors = g_hash_table_new_full(
            g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(seeds, g_strdup("boot"));
        add_with_ancestors(ancestors, "boot");
        for (guint32 id = 1; id < r->inodes->len; id++) {
            if (!boot_inode(r, id))
                continue;
            const CfiInode *ino = cfi_replay_inode(r, id);
            for (guint i = 0; i < ino->snap_names->len; i++) {
                g_hash_table_add(seeds, g_strdup(ino->snap_names->pdata[i]));
                add_with_ancestors(ancestors, ino->snap_names->pdata[i]);
            }
        }
        guint first = r->uops->len;
        for (guint i = 0; i < r->uops->len && first == r->uops->len; i++) {
            const CfiUop *u = cfi_replay_uop(r, i);
            if ((u->path != NULL && g_hash_table_contains(ancestors, u->path)) ||
                (u->path2 != NULL && g_hash_table_contains(ancestors, u->path2)) ||
                touches(seeds, u->path) || touches(seeds, u->path2) ||
                boot_inode(r, u->inode) || boot_inode(r, u->inode2))
                first = i;
        }
        r->boot_touch = first;
        g_once_init_leave(&r->boot_touch_once, 1);
    }
    return r->boot_touch;
}

gboolean
cfi_replay_bootview_same_boot(CfiReplay *r, guint k, CfiModel model,
                              guint64 seed, guint64 subset_seed,
                              CfiBootView *out_view)
{
    guint kk = MIN(k, r->n_records);
    guint n = r->rec_uop_start[kk];
    g_autofree guint8 *kernel = g_new0(guint8, MAX(n, 1));
    g_autofree guint8 *boot = g_new0(guint8, MAX(n, 1));
    CfiBootView view;
    cfi_replay_decide(r, kk, model, seed, kernel);
    cfi_replay_decide_bootview(r, kk, model, seed, subset_seed, boot, &view);
    if (out_view != NULL)
        *out_view = view;
    if (n <= boot_touch(r)) {
        /* No operation before the cut can be in the scope of any cut:
           the scope is the snapshot's boot/ and the files it names. */
        return !(model == CFI_MODEL_TORN && k < r->n_records &&
                 r->inflight[k].inode != 0 &&
                 boot_inode(r, r->inflight[k].inode));
    }
    /* The scope only grows with the cut (every rule of the closure adds
       to it), so an operation found in the scope of an earlier cut is in
       this one's: if the views still differ on it, they are not the same,
       and the closure is not computed again (it is most of a cut's cost
       once the update has touched boot/'s files).
       PLUGPULL_BOOTVIEW_CHECK=1 computes it anyway and aborts when the
       shortcut would have answered otherwise (a test's check). */
    gsize w = g_atomic_pointer_get(&r->boot_witness);
    guint wn = (guint)(w >> 32), wu = (guint)(w & 0xffffffffu);
    gboolean by_witness = w != 0 && n >= wn && wu < n && kernel[wu] != boot[wu];
    static gint check = -1;
    if (check < 0)
        check = g_strcmp0(g_getenv("PLUGPULL_BOOTVIEW_CHECK"), "1") == 0;
    if (by_witness && !check)
        return FALSE;
    g_autoptr(CfiBootScope) s = cfi_boot_scope_new(r, n);
    for (guint i = 0; i < n; i++)
        if (kernel[i] != boot[i] && s->uop[i]) {
            g_atomic_pointer_set(&r->boot_witness,
                                 (gsize)((guint64)n << 32 | i));
            return FALSE;
        }
    if (by_witness)
        g_error("boot view: the scope of cut %u does not hold uop %u, which "
                "was in the scope of a cut of %u uops", k, wu, wn);
    if (model == CFI_MODEL_TORN && k < r->n_records) {
        guint32 id = r->inflight[k].inode;
        if (id != 0 && id < r->inodes->len && s->inode[id])
            return FALSE;
    }
    return TRUE;
}
