/* SPDX-License-Identifier: MIT */
/*
 * ubootenv.h: a U-Boot environment in the format libubootenv (and U-Boot)
 * store it, read the way U-Boot reads it at boot.
 *
 * One copy of `size` bytes: a CRC32 (IEEE, little-endian) of the data
 * area, then (redundant environments only) one flag byte, then the data:
 * "name=value\0" entries ended by an empty one.  With two copies,
 * fw_setenv writes the copy not in use with the flag one higher (255
 * wraps to 0) and fsyncs it; U-Boot boots the copy whose CRC is good, of
 * two good ones the one with the higher flag (255 loses to 0, the wrap),
 * and with none its built-in default environment.
 */
#ifndef PP_COMMON_UBOOTENV_H
#define PP_COMMON_UBOOTENV_H

#include <glib.h>

/* libubootenv's usual size for a file-backed environment. */
#define PP_UBOOTENV_SIZE 0x4000

/* One copy as read back. */
typedef struct {
    gboolean present;        /* the file could be read, whole */
    gboolean crc_ok;
    guint8 flags;            /* redundant copies only */
    GHashTable *vars;        /* name -> value, NULL when !crc_ok */
} PpUbootEnvCopy;

void pp_uboot_env_copy_clear(PpUbootEnvCopy *c);

/* IEEE CRC32 (zlib's crc32(0, data, len)). */
guint32 pp_crc32(const guint8 *data, gsize len);

/*
 * Write a copy: vars is a NULL-terminated "name=value" list; redundant
 * copies carry flags.  The device's initial environment (not durable:
 * the device is being set up).
 */
gboolean pp_uboot_env_write(const char *path, const char *const *vars,
                            gboolean redundant, guint8 flags, GError **error);

/* Read a copy; a missing or short file is !present, not an error. */
void pp_uboot_env_read(const char *path, gboolean redundant,
                       PpUbootEnvCopy *out);

/*
 * Which copy U-Boot uses: 0 or 1, or -1 for its built-in default (no
 * copy with a good CRC).  n is 1 or 2.
 */
gint pp_uboot_env_select(const PpUbootEnvCopy *copies, guint n);

#endif /* PP_COMMON_UBOOTENV_H */
