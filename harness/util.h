/*
 * util.h: small helpers every layer of the harness uses.  Knows nothing of
 * the layers above it.
 */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include <gio/gio.h>

/* mkdir -p, with an error naming the syscall and the path. */
gboolean pp_mkdir_p(const char *path, GError **error);

/* The version an ostree binary reports ("2022.7"), or "unknown". */
char *pp_ostree_version(const char *ostree);

#endif /* PP_UTIL_H */
