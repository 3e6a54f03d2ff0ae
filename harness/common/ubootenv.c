/* SPDX-License-Identifier: MIT */
/*
 * ubootenv.c: see ubootenv.h.
 */
#include "common/ubootenv.h"

#include <string.h>

#include <gio/gio.h>

guint32
pp_crc32(const guint8 *data, gsize len)
{
    /* Bitwise: environments are 16 KiB, judged once per crash state. */
    guint32 crc = 0xffffffffu;
    for (gsize i = 0; i < len; i++) {
        crc ^= data[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

void
pp_uboot_env_copy_clear(PpUbootEnvCopy *c)
{
    g_clear_pointer(&c->vars, g_hash_table_unref);
    memset(c, 0, sizeof *c);
}

gboolean
pp_uboot_env_write(const char *path, const char *const *vars,
                   gboolean redundant, guint8 flags, GError **error)
{
    g_autofree guint8 *buf = g_malloc0(PP_UBOOTENV_SIZE);
    gsize data_off = redundant ? 5 : 4;
    gsize pos = data_off;
    for (const char *const *v = vars; *v != NULL; v++) {
        gsize n = strlen(*v) + 1;
        if (pos + n + 1 > PP_UBOOTENV_SIZE) {
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                               "U-Boot environment %s: the variables do not "
                               "fit in %u bytes", path, PP_UBOOTENV_SIZE),
                   FALSE;
        }
        memcpy(buf + pos, *v, n);
        pos += n;
    }
    if (redundant) {
        buf[4] = flags;
    }
    guint32 crc = pp_crc32(buf + data_off, PP_UBOOTENV_SIZE - data_off);
    for (int i = 0; i < 4; i++) {
        buf[i] = (guint8)(crc >> (8 * i));
    }
    if (!g_file_set_contents(path, (const char *)buf, PP_UBOOTENV_SIZE,
                             error)) {
        g_prefix_error(error, "writing the U-Boot environment: ");
        return FALSE;
    }
    return TRUE;
}

void
pp_uboot_env_read(const char *path, gboolean redundant, PpUbootEnvCopy *out)
{
    memset(out, 0, sizeof *out);
    g_autofree char *buf = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &buf, &len, NULL)
        || len < PP_UBOOTENV_SIZE) {
        return;
    }
    out->present = TRUE;
    const guint8 *b = (const guint8 *)buf;
    gsize data_off = redundant ? 5 : 4;
    guint32 stored = (guint32)b[0] | (guint32)b[1] << 8
                     | (guint32)b[2] << 16 | (guint32)b[3] << 24;
    out->flags = redundant ? b[4] : 0;
    out->crc_ok = stored == pp_crc32(b + data_off,
                                     PP_UBOOTENV_SIZE - data_off);
    if (!out->crc_ok) {
        return;
    }
    out->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      g_free);
    /* "name=value\0" entries up to an empty one (or the end). */
    for (gsize pos = data_off; pos < PP_UBOOTENV_SIZE && b[pos] != '\0';) {
        gsize n = strnlen(buf + pos, PP_UBOOTENV_SIZE - pos);
        g_autofree char *entry = g_strndup(buf + pos, n);
        char *eq = strchr(entry, '=');
        if (eq != NULL) {
            *eq = '\0';
            g_hash_table_replace(out->vars, g_strdup(entry),
                                 g_strdup(eq + 1));
        }
        pos += n + 1;
    }
}

gint
pp_uboot_env_select(const PpUbootEnvCopy *copies, guint n)
{
    gboolean ok0 = copies[0].present && copies[0].crc_ok;
    gboolean ok1 = n > 1 && copies[1].present && copies[1].crc_ok;
    if (!ok0 && !ok1) {
        return -1;
    }
    if (ok0 != ok1) {
        return ok0 ? 0 : 1;
    }
    /* U-Boot's env_import_redund(): the flag is a counter that wraps. */
    guint8 f0 = copies[0].flags;
    guint8 f1 = copies[1].flags;
    if (f0 == 255 && f1 == 0) {
        return 1;
    }
    if (f1 == 255 && f0 == 0) {
        return 0;
    }
    return f1 > f0 ? 1 : 0;
}
