/* SPDX-License-Identifier: MIT */
/*
 * keyfile.c: see keyfile.h.
 */
#include "common/keyfile.h"

#include <string.h>

guint
pp_keyfile_line(const char *data, const char *group, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    g_autofree char *header = g_strdup_printf("[%s]", group);
    gboolean in = FALSE;
    for (guint i = 0; lines[i] != NULL; i++) {
        char *l = g_strstrip(lines[i]);
        if (l[0] == '[') {
            in = g_str_equal(l, header);
            if (key == NULL && in) {
                return i + 1;
            }
            continue;
        }
        if (in && key != NULL && g_str_has_prefix(l, key)) {
            const char *rest = l + strlen(key);
            while (*rest == ' ' || *rest == '\t') {
                rest++;
            }
            if (*rest == '=') {
                return i + 1;
            }
        }
    }
    return 0;
}

gboolean
pp_word_in(const char *values, const char *v)
{
    g_auto(GStrv) words = g_strsplit(values, "|", -1);
    return g_strv_contains((const char *const *)words, v);
}
