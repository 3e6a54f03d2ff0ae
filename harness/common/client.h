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
    const char *firmware;       /* from-firmware: a device sysroot; the
                                   client runs in the root of its booted
                                   deployment (below); needs .userns */
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

/*
 * From-firmware ([client] from-firmware): the client is the device's own,
 * run as the device would run it.  With .firmware = SYSROOT, pp_client_run
 * gives the client, inside its user namespace, a mount namespace whose
 * root is the booted deployment of SYSROOT (pp_client_booted_deployment):
 *  - a tmpfs holding every top-level entry of the deployment: directories
 *    bind-mounted from it (so /usr/bin/ostree is the tree's own file, same
 *    device and inode), symlinks copied (bin -> usr/bin, lib64, ...);
 *  - /sysroot: SYSROOT; /boot: SYSROOT/boot; /var: the stateroot's var,
 *    as ostree-prepare-root and the device's mounts make them;
 *  - /proc, /dev, /sys: the host's (recursive binds); /run, /tmp: tmpfs;
 *  - the shim at /run/plugpull/libcfaultinject.so, LD_PRELOAD pointing at
 *    it alone (the host's preload list names host libraries);
 *  - SYSROOT again at its own host path, and likewise the directories of
 *    the shim's trace= and notify_unix= files, $TMPDIR of .env and .cwd:
 *    a client told --sysroot=SYSROOT (the {sysroot} of [client] command)
 *    then names its files as the host does, so the trace's paths are the
 *    host's and the replay strips the same root as for a host client.
 * The argv runs in that root: argv[0] "/usr/bin/ostree" is the tree's.
 * It is started through the tree's /usr/bin/env, as a host client is
 * through the host's.  Not a booted system: there is no
 * /run/ostree-booted, so ostree needs --sysroot and --os as on the host.
 */
#define PP_CLIENT_FIRMWARE_OSTREE "/usr/bin/ostree"
#define PP_CLIENT_FIRMWARE_SHIM "/run/plugpull/libcfaultinject.so"

/*
 * The deployment directory SYSROOT boots: the default (highest version)
 * Boot Loader Spec entry under boot/loader/entries, its ostree= resolved
 * through the boot.N symlinks to ostree/deploy/OS/deploy/CHECKSUM.SERIAL.
 * With remote/ref non-NULL, also the refspec of its .origin ("origin",
 * "firmware"; NULL when it has none).
 */
char *pp_client_booted_deployment(const char *sysroot, char **remote,
                                  char **ref, GError **error);

/* A from-firmware client can run from SYSROOT: its booted deployment has
 * an executable /usr/bin/ostree.  Fails with PP_ERROR_USAGE, "the from
 * tree has no /usr/bin/ostree (DIR)", when not. */
gboolean pp_client_firmware_check(const char *sysroot, GError **error);

#endif /* PP_CLIENT_H */
