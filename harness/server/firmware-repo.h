/* SPDX-License-Identifier: MIT */
/*
 * firmware-repo.h: your firmware.  A campaign on a user's OSTree repo
 * instead of the built-in fixture: the repo checked, then a private
 * mirror of its two commits made for the stand-in to serve.
 *
 * The user's repo is read-only to plugpull.  It is opened with libostree
 * to resolve and check `from` and `to`, and `ostree pull-local` reads it
 * (objects hard-linked into the mirror where the filesystem allows, as
 * ostree does, else copied); whatever a campaign adds (the served branch,
 * the summary, a static delta) goes into the mirror:
 *
 *   DIR/srv/repo    archive repo: the commits of from and to; the branch
 *                   first at from, published to to by pp_fixture_publish
 *   DIR/sysroot     the device, made by pp_fixture_make_sysroot_full
 *
 * The mirror is a PpFixture whose commits[0] is from and commits[1] is
 * to (commits[2] NULL), so the rest of the harness (the device, the
 * publication, the static delta, the known trees) treats it as the
 * fixture's versions 1 and 2; with a [firmware] history, the version
 * before from is 1, from 2 and to 3 (pp_firmware_repo_versions).
 */
#ifndef PP_FIRMWARE_REPO_H
#define PP_FIRMWARE_REPO_H

#include <ostree.h>

#include "server/fixture.h"

typedef struct {
    char *repo;              /* the user's repo, absolute */
    char *mode;              /* its mode: archive-z2, bare-user, ... */
    char *from_rev;          /* as given */
    char *to_rev;
    char *from_commit;       /* resolved */
    char *to_commit;
    char *branch;            /* the ref the mirror serves */
    char *osname;            /* the stateroot */
    char *before_commit;     /* [firmware] history: the version the device
                                ran before from, or NULL */
    gboolean back;           /* to is before_commit: going back */
    guint64 latest;          /* the newest timestamp of those commits */
} PpFirmwareRepo;

void pp_firmware_repo_free(PpFirmwareRepo *fw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpFirmwareRepo, pp_firmware_repo_free)

/*
 * Open the user's repo (path absolute) read-only: missing, not a
 * directory, unreadable or not a repo ostree can open is a PP_ERROR_USAGE
 * error naming it.
 */
gboolean pp_firmware_repo_open(const char *path, OstreeRepo **out,
                               GError **error);

/*
 * Check the user's repo and resolve from and to (REF, COMMIT or REF^),
 * writing nothing: the repo must be readable and open with ostree, both
 * revs must name commits present in it, different ones, each with a
 * kernel (usr/lib/modules/KVER/vmlinuz, or a vmlinuz-* in
 * usr/lib/ostree-boot or boot).  os NULL: the from commit's
 * `ostree.osname` metadata, else PP_FIXTURE_OSNAME.  The branch served is
 * the to commit's first ref binding, else to_rev when it is a ref, else
 * PP_FIXTURE_REF.  Every problem is a PP_ERROR_USAGE error naming it.
 */
gboolean pp_firmware_repo_check(const char *repo, const char *from_rev,
                                const char *to_rev, const char *os,
                                PpFirmwareRepo **out, GError **error);

/*
 * [firmware] history with your repo: the revs the device ran before
 * from, oldest first (from may end the list).  Each must name a commit of
 * the repo with a kernel, other than from's; the mirror serves three
 * commits, so at most one version before from (kept in
 * fw->before_commit; fw->back when to is that commit).  A
 * PP_ERROR_USAGE error naming the problem otherwise.
 */
gboolean pp_firmware_repo_check_history(PpFirmwareRepo *fw,
                                        const char *const *history,
                                        GError **error);

/*
 * The fixture versions of fw for the rest of the harness (prepare, the
 * known trees): with a version before from, it is 1, from 2, to 3 (or 1
 * going back: published again), history 1;2; else from 1, to 2, no
 * history.  history: room for two.
 */
void pp_firmware_repo_versions(const PpFirmwareRepo *fw, guint *from_version,
                               guint *to_version, guint *history,
                               guint *n_history);

/*
 * Make the mirror under dir (created; dir/srv must not exist): an archive
 * repo with from and to pulled from the user's repo, the branch at from,
 * a summary.  *out: the fixture it is (see above), its sysroot not made.
 */
gboolean pp_firmware_repo_mirror(const PpFirmwareRepo *fw, const char *dir,
                                 PpFixture **out, GError **error);

/*
 * The trees of the mirror's commits, checked out under fx->dir/trees/vN
 * (fx->trees[N-1]; those already set are kept): what the slot strategies
 * (sim/strategy.h) make their ext4 images of.  A plain checkout, run as
 * the harness runs (root keeps every owner, as the images must).
 */
gboolean pp_firmware_repo_checkout_trees(PpFixture *fx, GError **error);

#endif /* PP_FIRMWARE_REPO_H */
