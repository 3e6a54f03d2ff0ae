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

/*
 * Run argv and wait for it.  FALSE when it could not be started or was
 * killed by a signal (the error says which); else its exit status.
 */
gboolean pp_spawn_wait(const char *const *argv, GSubprocessFlags flags,
                       int *out_status, GError **error);

#endif /* PP_UTIL_H */
