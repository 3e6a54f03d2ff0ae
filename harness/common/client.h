/* SPDX-License-Identifier: MIT */
/*
 * client.h: run the client under test (ostree, or any command) under the
 * cfaultinject shim, without the power to harm the host.
 *
 * The client gets:
 *  - LD_PRELOAD with the shim placed *last*, after whatever preload list
 *    the caller's environment has: a library earlier in the list that
 *    swallows fsync (eatmydata) then keeps it from us too, so a suppressed
 *    fsync is never recorded as durable;
 *  - CFAULTINJECT with the configuration text;
 *  - optionally a user namespace: inside it the client is "root" for file
 *    ownership, but FIFREEZE and other host-wide powers fail with EPERM
 *    (they need CAP_SYS_ADMIN in the initial namespace, which no process
 *    in a child namespace has), and the shim turns FIFREEZE into syncfs
 *    anyway.  Which namespace:
 *      - plugpull running as root: every uid and gid 0..65535 maps to the
 *        same host id (PP_USERNS_ALL_IDS), so a firmware whose files have
 *        many owners is written with those owners (under a root-only map
 *        ostree's fchown to any other uid fails with EINVAL);
 *      - otherwise (not root, or plugpull's own namespace does not map
 *        0..65535, as in a container), or with PLUGPULL_USERNS=root:
 *        `unshare -r`, only the caller mapped, as root (PP_USERNS_ROOT).
 *    Neither map protects the host's files from the client's DAC powers
 *    over the ids it maps (as root, inner uid 0 is host uid 0 in both);
 *    what the namespace takes away is every host-wide capability.
 */
#ifndef PP_CLIENT_H
#define PP_CLIENT_H

#include <gio/gio.h>

typedef struct {
    const char *config;         /* CFAULTINJECT text; NULL = no shim */
    gboolean userns;            /* run inside a user namespace (above) */
    const char *const *env;     /* extra KEY=VALUE entries, NULL-terminated */
    const char *cwd;            /* working directory, NULL = ours */
    gboolean capture;           /* collect stdout/stderr instead of passing */
} PpClientOpts;

typedef struct {
    int exit_status;            /* exit code, or -1 when killed */
    int term_signal;            /* signal that killed it, or 0 */
    char *out;                  /* captured stdout (capture only) */
    char *err;                  /* captured stderr (capture only) */
} PpClientResult;

void pp_client_result_clear(PpClientResult *r);

typedef enum {
    PP_USERNS_ROOT,             /* unshare -r: only the caller, as uid 0 */
    PP_USERNS_ALL_IDS,          /* 0..65535 -> the same host ids (root only) */
} PpUsernsMode;

/* The namespace a client with .userns gets: see above. */
PpUsernsMode pp_userns_mode(void);
const char *pp_userns_mode_name(PpUsernsMode mode);

/* $PLUGPULL_SHIM, else the shim beside the plugpull binary (build tree),
   else the installed one (PREFIX/lib/plugpull): pp_lib_file(). */
const char *pp_shim_path(void);

/*
 * Judge a CFAULTINJECT value with the shim's own parser: run `true` under
 * it.  A malformed value stops it before main (exit 125, a message naming
 * the key): FALSE with "the shim refuses it: MESSAGE".
 */
gboolean pp_shim_check_config(const char *shim, const char *config,
                              GError **error);

/* LD_PRELOAD value: the existing list (if any) with the shim appended. */
char *pp_preload_with_shim(const char *existing, const char *shim);

/*
 * Run argv and wait.  Fails (FALSE) only when it could not be started;
 * a non-zero exit is reported in *result.
 */
gboolean pp_client_run(const PpClientOpts *opts, const char *const *argv,
                       PpClientResult *result, GError **error);

#endif /* PP_CLIENT_H */
