/* SPDX-License-Identifier: MIT */
/*
 * util.h: small helpers every layer of the harness uses.  Knows nothing of
 * the layers above it.
 *
 * Room common/: the helpers every room uses (errors, files, JSON, the
 * durable writer, outcomes, scenarios, schedules).  Includes nothing of
 * harness/ but common/ (and cfaultinject/, which is below every room).
 */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include <gio/gio.h>

/*
 * mkdir -p, with an error naming the syscall and the path.  Every
 * directory it creates has its entry made durable (its parent fsynced),
 * so a result written into it later (cases/, work/done/) does not vanish
 * with its directory at a power cut.
 */
gboolean pp_mkdir_p(const char *path, GError **error);

/* SHA-256 of a file's bytes, hex (NULL with an error naming the file). */
char *pp_file_sha256(const char *path, GError **error);

/*
 * A results directory: created when missing (durably, as pp_mkdir_p);
 * refused when it holds anything (results are never overwritten).
 */
gboolean pp_out_dir_prepare(const char *out, GError **error);

/* The version an ostree binary reports ("2022.7"), or "unknown". */
char *pp_ostree_version(const char *ostree);

/*
 * Run argv and wait for it.  FALSE when it could not be started or was
 * killed by a signal (the error says which); else its exit status.
 */
gboolean pp_spawn_wait(const char *const *argv, GSubprocessFlags flags,
                       int *out_status, GError **error);

/*
 * A directory of the source tree the program needs at run time (reports/,
 * images/, scenarios/): $ENV_VAR when set, else NAME beside the binary's
 * directory when it is there (the build tree: build/../NAME), else the
 * installed one (PREFIX/share/plugpull/NAME, compiled in by make).
 */
char *pp_data_dir(const char *env_var, const char *name, GError **error);

/*
 * A file the binary loads or preloads (the shim): NAME beside the binary
 * when it is there (build/NAME), else the installed one
 * (PREFIX/lib/plugpull/NAME), whether or not that exists.
 */
char *pp_lib_file(const char *name);

/* TRUE when the binary runs from the build tree (build/../images is there). */
gboolean pp_in_build_tree(void);

/*
 * Where a cache NAME (the VM image, its package cache) lives: beside the
 * binary in the build tree (build/NAME), else
 * $XDG_CACHE_HOME/plugpull/NAME (~/.cache/plugpull/NAME).
 */
char *pp_cache_dir(const char *name);

/* splitmix64: the seeded generator of every draw that must be the same
 * on every machine (GRand's sequence is not promised across versions);
 * the harness's name for cfaultinject/splitmix64.h. */
guint64 pp_splitmix64(guint64 *state);

/* "90s", "15m", "2h", "1h30m", or plain seconds, into *out_s (> 0);
 * FALSE when malformed or zero. */
gboolean pp_parse_duration(const char *s, gint64 *out_s);

/* A descriptor closed when it goes out of scope (errno kept): pp_autofd
   int fd = open(...); -1 is left alone. */
void pp_close_fd_p(int *fd);
#define pp_autofd __attribute__((cleanup(pp_close_fd_p)))

#endif /* PP_UTIL_H */
