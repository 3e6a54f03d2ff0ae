/* SPDX-License-Identifier: MIT */
/*
 * pathfold.c: see pathfold.h.
 */
#include "sim/pathfold.h"

#include <string.h>

/* Length of the run of hex digits at s. */
static gsize
hex_run(const char *s)
{
    gsize n = 0;
    while (g_ascii_isxdigit(s[n])) {
        n++;
    }
    return n;
}

/* TRUE when s starts with a UUID (8-4-4-4-12 hex digits). */
static gboolean
is_uuid(const char *s)
{
    static const gsize parts[] = { 8, 4, 4, 4, 12 };
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        for (gsize j = 0; j < parts[i]; j++, s++) {
            if (!g_ascii_isxdigit(*s)) {
                return FALSE;
            }
        }
        if (i + 1 < G_N_ELEMENTS(parts) && *s++ != '-') {
            return FALSE;
        }
    }
    return TRUE;
}

/* TRUE when s starts with n characters of a mkstemp-style suffix. */
static gboolean
is_random(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isalnum(s[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

/* ostree's boot.B.S directory name ("boot.0.1"). */
static gboolean
is_bootversion_dir(const char *name)
{
    if (!g_str_has_prefix(name, "boot.")) {
        return FALSE;
    }
    const char *p = name + 5;
    guint dots = 0;
    for (; *p != '\0'; p++) {
        if (*p == '.') {
            dots++;
        } else if (!g_ascii_isdigit(*p)) {
            return FALSE;
        }
    }
    return dots == 1;
}

/* Component i of comps (n of them), or "" outside. */
static const char *
comp_at(char **comps, gint i)
{
    return i >= 0 && comps[i] != NULL ? comps[i] : "";
}

/*
 * What a run of 32+ hex digits in component i stands for, from where it
 * is: the names ostree gives a commit, a boot checksum or an object.
 */
static const char *
checksum_name(char **comps, gint i, gboolean at_start, gboolean os_prefix)
{
    const char *parent = comp_at(comps, i - 1);
    if (at_start && g_str_equal(parent, "deploy")) {
        return "<commit>";              /* deploy/OS/deploy/<commit>.N */
    }
    if (at_start && g_str_equal(parent, "state")) {
        return "<commit>";              /* state/<commit>.commitpartial */
    }
    if (os_prefix && g_str_equal(parent, "ostree")
        && g_str_equal(comp_at(comps, i - 2), "boot")) {
        return "<bootcsum>";            /* boot/ostree/OS-<bootcsum> */
    }
    if (at_start && is_bootversion_dir(comp_at(comps, i - 2))) {
        return "<bootcsum>";            /* ostree/boot.B.S/OS/<bootcsum> */
    }
    if (at_start && strlen(parent) == 2 && hex_run(parent) == 2) {
        return "<object>";              /* objects/XX/<object>.TYPE */
    }
    return "<checksum>";
}

/* Append component i of comps, folded, to out. */
static void
fold_component(char **comps, gint i, GString *out)
{
    const char *c = comps[i];
    /* A staging directory: staging-<bootid>-XXXXXX[-lock]. */
    if (g_str_has_prefix(c, "staging-") && is_uuid(c + 8)
        && c[8 + 36] == '-' && is_random(c + 8 + 37, 6)) {
        g_string_append_printf(out, "staging-*%s", c + 8 + 37 + 6);
        return;
    }
    /* glnx's temporary names: tmp.XXXXXX, tmplink.XXXXXX. */
    static const char *const temps[] = { "tmp.", "tmplink.", NULL };
    for (guint t = 0; temps[t] != NULL; t++) {
        gsize n = strlen(temps[t]);
        if (g_str_has_prefix(c, temps[t]) && strlen(c) == n + 6
            && is_random(c + n, 6)) {
            g_string_append_printf(out, "%s*", temps[t]);
            return;
        }
    }
    /* Checksums and UUIDs, wherever in the name. */
    for (const char *p = c; *p != '\0';) {
        gsize n = hex_run(p);
        gboolean word_start = p == c || !g_ascii_isxdigit(p[-1]);
        if (word_start && is_uuid(p)) {
            g_string_append(out, "<bootid>");
            p += 36;
        } else if (word_start && n >= 32) {
            gboolean os_prefix = p > c && p[-1] == '-';
            g_string_append(out, checksum_name(comps, i, p == c, os_prefix));
            p += n;
        } else if (n > 0) {
            g_string_append_len(out, p, (gssize)n);
            p += n;
        } else {
            g_string_append_c(out, *p++);
        }
    }
}

char *
pp_path_fold(const char *path)
{
    if (path == NULL) {
        return NULL;
    }
    if (path[0] == '/') {
        /* Outside the sysroot: the run's directories, /proc/self/fd. */
        const char *name = strrchr(path, '/') + 1;
        return g_strdup_printf("<outside>/%s", name);
    }
    g_auto(GStrv) comps = g_strsplit(path, "/", -1);
    g_autoptr(GString) out = g_string_new(NULL);
    for (gint i = 0; comps[i] != NULL; i++) {
        if (i > 0) {
            g_string_append_c(out, '/');
        }
        fold_component(comps, i, out);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
pp_call_fold(const char *call)
{
    if (call == NULL) {
        return NULL;
    }
    if (call[0] == '#') {
        /* "#K " first: the index is in the case id. */
        const char *sp = strchr(call, ' ');
        call = sp != NULL ? sp + 1 : "";
    }
    g_auto(GStrv) words = g_strsplit(call, " ", -1);
    g_autoptr(GString) out = g_string_new(NULL);
    for (guint i = 0; words[i] != NULL; i++) {
        g_autofree char *w = pp_path_fold(words[i]);
        g_string_append_printf(out, "%s%s", i > 0 ? " " : "", w);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}
