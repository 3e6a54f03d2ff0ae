/* SPDX-License-Identifier: MIT */
/*
 * dpkg-judge.h: the oracle of a package-managed root, the `dpkg` strategy
 * (sim/strategy.h): what would someone find on the device after the cut,
 * going by dpkg's own database and the files it names?
 *
 * Read from the state; the first that holds decides:
 *
 *   brick               the shell does not run: `/bin/sh -c true` exec'd
 *                       chrooted into the state (and, when the firmware
 *                       has an init, /sbin/init executable there)
 *   wrong-tree          a package the database calls installed has a file
 *                       that differs from its version's md5sums, or is
 *                       missing (files dpkg's path-exclude filters keep
 *                       off the device excepted): silent damage
 *   needs-intervention  no status file; or a package half-installed,
 *                       unpacked, half-configured, awaiting or pending
 *                       triggers, or flagged reinstreq (status plus dpkg's
 *                       journal, updates/, as dpkg reads them); or
 *                       `dpkg --audit` reports something: someone must run
 *                       `dpkg --configure -a` (its files may differ from
 *                       the sums: that is what the intervention repairs)
 *   wrong-tree          every package installed, but the set of
 *                       (package, version) is neither the old version's
 *                       nor the new one's: a mix
 *   pass                the old set: the device as it was
 *   no-rollback         the new set: updated, with nothing to go back to
 *                       (a package-managed root keeps one version)
 *
 * Packages are named by Package alone: the firmware is single-arch.
 */
#ifndef PP_ORACLE_DPKG_JUDGE_H
#define PP_ORACLE_DPKG_JUDGE_H

#include <glib.h>

#include "oracle/slots.h"

typedef struct {
    char *package;
    char *version;
    char *status;            /* "want flag state", as in the file */
} PpDpkgPkg;

void pp_dpkg_pkg_free(PpDpkgPkg *p);

/* A new table: package name -> PpDpkgPkg. */
GHashTable *pp_dpkg_pkgs_new(void);

/* Parse the stanzas of a status file (or a journal entry of updates/)
 * into pkgs; a stanza replaces the entry of the same package, as dpkg's
 * journal does.  Stanzas without a Package field are skipped. */
void pp_dpkg_status_parse(const char *text, GHashTable *pkgs);

/* dpkg's view of the database under root (var/lib/dpkg): status, then
 * each updates/ entry in order.  NULL when there is no status file. */
GHashTable *pp_dpkg_db_read(const char *root, GError **error);

/* The package is in a state dpkg cannot leave without intervention. */
gboolean pp_dpkg_pkg_needs_intervention(const PpDpkgPkg *p);

/* Its files are on the device ("installed", or a transitional state). */
gboolean pp_dpkg_pkg_installed(const PpDpkgPkg *p);

/* "name version" of every installed package, sorted: the set a version
 * of the firmware is compared by. */
char **pp_dpkg_installed_set(GHashTable *pkgs);

/* Judge the state at root against d (its package sets and init). */
gboolean pp_dpkg_judge(const PpSlotDevice *d, const char *root,
                       PpSlotJudgement *out, GError **error);

#endif /* PP_ORACLE_DPKG_JUDGE_H */
