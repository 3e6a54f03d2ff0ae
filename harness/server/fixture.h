/* SPDX-License-Identifier: MIT */
/*
 * fixture.h: the fixture firmware (three OS versions in an archive repo,
 * the "TreeHub" side) and the device (a directory sysroot with v1
 * deployed).
 *
 * Layout under the fixture directory DIR:
 *
 *   DIR/trees/v1 .. v3     the trees committed (kept, for comparisons)
 *   DIR/srv/repo           archive repo; serve DIR/srv, remote URL .../repo
 *   DIR/sysroot            the device, once pp_fixture_make_sysroot() ran
 *
 * The three versions (content is a pure function of a fixed seed and
 * payload_kb, and commits carry fixed timestamps, so the commit checksums
 * are the same on every machine with the same /bin/busybox):
 *
 *   v1  kernel K1; payload: one larger binary + many small data files
 *   v2  kernel K2 (new vmlinuz + initramfs bytes, same KVER): a boot
 *       config change, so deploying it swaps boot/loader (the normal
 *       upgrade path).  Payload: files modified, added and removed, a
 *       symlink retargeted, the binary changed, an /etc file changed.
 *   v3  kernel K2 again (same bootcsum as v2); payload changes again.
 *       Keeping the kernel is necessary for ostree's sub-bootversion swap
 *       (ostree/boot.N only) but not sufficient: ostree 2022.7 also
 *       compares the `version` metadata and the deployment list pairwise,
 *       so an upgrade v2 -> v3 still swaps boot/loader: measured here,
 *       "bootconfig swap: yes" for both v1 -> v2 and v2 -> v3.
 *
 * The ref (branch) first points at v1; pp_fixture_publish() moves it.
 *
 * Host safety: every ostree command that touches the sysroot runs in a
 * user namespace (unshare -r) with OSTREE_SYSROOT_DEBUG=mutable-deployments
 * and OSTREE_SYSROOT_OPTS=skip-sync: as real root on a directory sysroot
 * ostree would FIFREEZE the host's root filesystem.
 */
#ifndef PP_FIXTURE_H
#define PP_FIXTURE_H

#include <gio/gio.h>

#define PP_FIXTURE_OSNAME "plugpull"
#define PP_FIXTURE_REF "plugpull/device"
#define PP_FIXTURE_KVER "6.1.0-plugpull"
#define PP_FIXTURE_N_VERSIONS 3
#define PP_FIXTURE_DEFAULT_PAYLOAD_KB 2048

typedef struct {
    char *dir;                  /* the fixture directory (absolute) */
    char *srv_repo;             /* DIR/srv/repo, archive mode */
    char *sysroot;              /* DIR/sysroot */
    char *osname;               /* PP_FIXTURE_OSNAME */
    char *ref;                  /* PP_FIXTURE_REF */
    char *commits[PP_FIXTURE_N_VERSIONS];  /* v1 v2 v3 checksums */
    char *kver;                 /* PP_FIXTURE_KVER */
    /* additions beyond the first sketch: */
    char *srv_dir;              /* DIR/srv: what an HTTP server serves */
    char *trees[PP_FIXTURE_N_VERSIONS];    /* DIR/trees/vN */
    guint payload_kb;
    guint published;            /* version the ref points at (1-based) */
    char *again;                /* pp_fixture_publish_again()'s commit */
    char *again_timestamp;      /* your firmware's mirror: the date of a
                                   commit published again (later than
                                   every commit served); NULL: the
                                   fixture's fixed one */
} PpFixture;

/*
 * Going back: commit the tree of `version` again on the branch, as the
 * newest commit (a later timestamp: ostree refuses to upgrade to an older
 * commit), and point the ref at it.  The checksum is kept in fx->again.
 * The fixture's is made with fixed owners, version metadata and date;
 * your firmware's (fx->again_timestamp set) keeps the tree as it is
 * (every owner, every xattr) and its commit's version metadata.
 */
gboolean pp_fixture_publish_again(PpFixture *fx, guint version,
                                  GError **error);

void pp_fixture_free(PpFixture *fx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpFixture, pp_fixture_free)

/*
 * Build trees v1..v3 under dir (created if missing; dir/srv and dir/trees
 * must not exist yet), commit them into the archive repo dir/srv/repo,
 * point the ref at v1 and write the summary.  payload_kb 0 = default.
 */
gboolean pp_fixture_build_repo(const char *dir, guint payload_kb,
                               PpFixture **out, GError **error);

/*
 * Create the device at fx->sysroot: init-fs, os-init, bootloader "none",
 * remote "origin" (no GPG) at remote_url for fx->ref, pull, and deploy the
 * ref (v1 unless published otherwise) with kargs root=LABEL=root rw.
 * remote_url is where fx->srv_repo is served, e.g. URL "/repo" of a
 * PpHttpd serving fx->srv_dir.
 */
gboolean pp_fixture_make_sysroot(PpFixture *fx, const char *remote_url,
                                 GError **error);

/*
 * The same with a bootloader backend: "uboot" (boot/loader.N/uEnv.txt, as
 * on meta-updater devices) or "bls"/"none" (BLS entries only).
 */
gboolean pp_fixture_make_sysroot_full(PpFixture *fx, const char *remote_url,
                                      const char *bootloader, GError **error);

/*
 * Point the ref at version (1-based) in the server repo and update the
 * summary, so that the next `ostree admin upgrade` sees it.
 */
gboolean pp_fixture_publish(PpFixture *fx, guint version, GError **error);

/*
 * Generate a static delta from version to version in the server repo and
 * advertise it in the summary: a pull then fetches delta parts instead of
 * objects.
 */
gboolean pp_fixture_generate_delta(PpFixture *fx, guint from, guint to,
                                   GError **error);

/*
 * Point the device's remote "origin" at remote_url (a stand-in server on
 * a new port, or a faulty one).
 */
gboolean pp_fixture_set_remote_url(PpFixture *fx, const char *remote_url,
                                   GError **error);

/*
 * Run an ostree command on the device, inside a user namespace, with the
 * safe environment above.  argv starts after "ostree"; the sysroot or repo
 * option is the caller's.  On a non-zero exit the error names the command
 * and quotes its stderr.  out_stdout may be NULL.
 */
gboolean pp_fixture_ostree_device(const char *const *argv, char **out_stdout,
                                  GError **error);

/*
 * The same on the host, outside any namespace: for the server's repos,
 * never for a device.
 */
gboolean pp_fixture_ostree_host(const char *const *argv, char **out_stdout,
                                GError **error);

#endif /* PP_FIXTURE_H */
