/* SPDX-License-Identifier: MIT */
/*
 * schedule.c: see schedule.h.
 */
#include "common/schedule.h"

#include <gio/gio.h>
#include <string.h>

#include "common/util.h"

char *
pp_schedule_to_id(CfiModel model, const guint *cuts, guint n, guint64 seed)
{
    g_autoptr(GString) s = g_string_new(cfi_model_to_string(model));
    for (guint i = 0; i < n; i++) {
        g_string_append_printf(s, "%s%06u", i == 0 ? "-k" : "+", cuts[i]);
    }
    g_string_append_printf(s, "-s%" G_GUINT64_FORMAT, seed);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static gboolean
bad_id(const char *id, const char *why, GError **error)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "case id '%s': %s (want MODEL-kP1[+P2...]-sSEED, e.g. "
                "ordered-k001338+000412-s0)", id, why);
    return FALSE;
}

gboolean
pp_schedule_from_id(const char *id, CfiModel *out_model, GArray *cuts,
                    guint64 *out_seed, GError **error)
{
    /* From the right: the model's name may itself contain '-'. */
    const char *s = strrchr(id, '-');
    if (s == NULL || s[1] != 's') {
        return bad_id(id, "no -sSEED at the end", error);
    }
    guint64 seed = 0;
    if (!g_ascii_string_to_unsigned(s + 2, 10, 0, G_MAXUINT64, &seed, NULL)) {
        return bad_id(id, "the seed is not a number", error);
    }
    const char *k = NULL;
    for (const char *p = s - 1; p >= id; p--) {
        if (*p == '-') {
            k = p;
            break;
        }
    }
    if (k == NULL || k[1] != 'k') {
        return bad_id(id, "no -kP1 before the seed", error);
    }
    g_autofree char *model_name = g_strndup(id, (gsize)(k - id));
    CfiModel model;
    if (!cfi_model_from_string(model_name, &model, NULL)) {
        return bad_id(id, "not a model before -k", error);
    }
    g_autofree char *list = g_strndup(k + 2, (gsize)(s - k - 2));
    if (*list == '\0') {
        return bad_id(id, "no cut after -k", error);
    }
    g_auto(GStrv) parts = g_strsplit(list, "+", -1);
    guint before = cuts->len;
    for (char **p = parts; *p != NULL; p++) {
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(*p, 10, 0, G_MAXUINT, &v, NULL)) {
            g_array_set_size(cuts, before);
            return bad_id(id, "a cut is not a number", error);
        }
        guint u = (guint)v;
        g_array_append_val(cuts, u);
    }
    if (cuts->len - before > PP_SCHEDULE_MAX_CUTS) {
        g_array_set_size(cuts, before);
        return bad_id(id, "more cuts than a schedule may have", error);
    }
    *out_model = model;
    *out_seed = seed;
    return TRUE;
}

/* FNV-1a: a stable hash of the id, the same on every machine (GLib's
 * g_str_hash is not promised to be). */
static guint64
fnv1a(const char *s)
{
    guint64 h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; s++) {
        h ^= (guchar)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

guint
pp_schedule_draw(guint64 seed, const char *prefix_id, guint cut,
                 guint n_candidates)
{
    if (n_candidates == 0) {
        return 0;
    }
    guint64 st = seed ^ fnv1a(prefix_id) ^ ((guint64)cut << 32);
    return (guint)(pp_splitmix64(&st) % n_candidates);
}

char *
pp_schedule_boot_id(const char *prefix_id, guint cut)
{
    g_autofree char *key = g_strdup_printf("plugpull-boot:%s:%u", prefix_id,
                                           cut);
    g_autofree char *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key,
                                                       -1);
    return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
                           h + 16, h + 20);
}
