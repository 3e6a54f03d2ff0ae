/* SPDX-License-Identifier: MIT */
/*
 * shrink.c: see shrink.h.
 */
#include "common/shrink.h"

/* cuts with the chunks [lo, hi) kept (keep) or removed (!keep). */
static GArray *
pick(const GArray *cuts, guint lo, guint hi, gboolean keep)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < cuts->len; i++) {
        gboolean inside = i >= lo && i < hi;
        if (inside == keep) {
            g_array_append_val(out, g_array_index(cuts, guint, i));
        }
    }
    return out;
}

GArray *
pp_shrink_cuts(const GArray *cuts, PpShrinkTest test, gpointer data)
{
    if (cuts->len == 0 || !test((const guint *)cuts->data, cuts->len, data)) {
        return NULL;
    }
    g_autoptr(GArray) cur = g_array_copy((GArray *)cuts);
    guint n = 2;
    while (cur->len >= 2) {
        guint len = cur->len;
        gboolean reduced = FALSE;
        /* Each of n chunks alone, then each complement. */
        for (guint pass = 0; pass < 2 && !reduced; pass++) {
            for (guint c = 0; c < n && !reduced; c++) {
                guint lo = c * len / n, hi = (c + 1) * len / n;
                if (lo == hi) {
                    continue;
                }
                g_autoptr(GArray) t = pick(cur, lo, hi, pass == 0);
                if (t->len == 0 || t->len == len) {
                    continue;
                }
                if (test((const guint *)t->data, t->len, data)) {
                    g_array_unref(cur);
                    cur = g_steal_pointer(&t);
                    n = pass == 0 ? 2 : MAX(n - 1, 2);
                    reduced = TRUE;
                }
            }
        }
        if (!reduced) {
            if (n >= len) {
                break;
            }
            n = MIN(n * 2, len);
        }
    }
    return g_steal_pointer(&cur);
}

guint
pp_shrink_earliest(const guint *candidates, guint start,
                   PpShrinkPointTest test, gpointer data)
{
    guint cur = start;
    guint step = 1;
    while (step > 0) {
        if (cur >= step && test(candidates[cur - step], data)) {
            cur -= step;
            step *= 2;
        } else {
            step /= 2;
        }
    }
    return cur;
}
