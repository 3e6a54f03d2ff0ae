/* SPDX-License-Identifier: MIT */
/*
 * record.h: record once.  Snapshot a directory sysroot, then run the client
 * action on it under the shim in trace mode, as the device would run it
 * after a fresh boot.  The snapshot and the trace are all the power-loss
 * models need to build every crash state of that run.
 */
#ifndef PP_RECORD_H
#define PP_RECORD_H

#include <gio/gio.h>

typedef struct {
    char *root;         /* the traced directory (canonical path) */
    char *snapshot;     /* a copy of root taken just before the run */
    char *trace;        /* the trace file */
    char *boot_id;      /* OSTREE_BOOTID the client ran with */
    int exit_status;    /* client's exit status (-1 if killed) */
    char *client_err;   /* its stderr */
    double seconds;     /* wall time of the client run */
} PpRecording;

void pp_recording_clear(PpRecording *r);

/*
 * Copy a tree with cp -a (hardlinks, symlinks, modes and xattrs kept):
 * the snapshot must be what the models start from, byte for byte.
 */
gboolean pp_copy_tree(const char *src, const char *dest, GError **error);

/*
 * Record `argv` (the client command, e.g. ostree admin upgrade ...) run in
 * a user namespace against root, with the shim tracing into
 * workdir/trace.cfit and the snapshot in workdir/snapshot.  extra_env adds
 * KEY=VALUE entries.  A client that fails is not an error here: see
 * out->exit_status.
 */
gboolean pp_record_client(const char *root, const char *workdir,
                          const char *const *argv,
                          const char *const *extra_env,
                          PpRecording *out, GError **error);

/*
 * The same, with rules appended to the shim's configuration (e.g.
 * "[rule];action=fault;calls=fsync;nth=3"): the run is traced and faulted
 * at once, and faulted calls are in the trace flagged CFI_RF_INJECTED.
 * rules may be NULL.
 */
gboolean pp_record_client_rules(const char *root, const char *workdir,
                                const char *const *argv,
                                const char *const *extra_env,
                                const char *rules, PpRecording *out,
                                GError **error);

/*
 * Run argv traced into `trace`, in place on root, without a snapshot: the
 * caller keeps the state the run starts from (a resumed update cut again
 * starts from a crash state, which is already a copy).  boot_id is the
 * OSTREE_BOOTID of the run, tmpdir its TMPDIR (created).  out gets
 * exit_status, client_err, seconds, trace and root (canonical).
 */
gboolean pp_trace_client(const char *root, const char *trace,
                         const char *tmpdir, const char *boot_id,
                         const char *const *argv, PpRecording *out,
                         GError **error);

/*
 * The same two with the client from the firmware (client.h): firmware
 * is the sysroot whose booted deployment the client runs in (NULL: the
 * host's client, as above).  argv names namespace paths
 * (PP_CLIENT_FIRMWARE_OSTREE); root is mounted at its own path inside,
 * so the trace's paths are host paths under root as for a host client.
 */
gboolean pp_record_client_in(const char *firmware, const char *root,
                             const char *workdir, const char *const *argv,
                             const char *const *extra_env, const char *rules,
                             PpRecording *out, GError **error);
gboolean pp_trace_client_in(const char *firmware, const char *root,
                            const char *trace, const char *tmpdir,
                            const char *boot_id, const char *const *argv,
                            PpRecording *out, GError **error);

/*
 * A trace is usable only if it is whole: no damaged tail and no sequence
 * number without its record (the shim could not write one).
 */
gboolean pp_trace_check_complete(const char *path, GError **error);

#endif /* PP_RECORD_H */
