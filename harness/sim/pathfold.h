/* SPDX-License-Identifier: MIT */
/*
 * pathfold.h: a path of a crash state with what changes from run to run
 * folded, so that it names the same place in every run of an update.
 *
 * Two runs of the same update differ in the names ostree makes up: the
 * boot id in its staging directories, the random suffixes of its
 * temporary files, the directory of the run.  The checksums are stable
 * for a given firmware, but a 64-character hex run says nothing a reader
 * of a report can use.  pp_path_fold() rewrites one path (relative to the
 * sysroot, as the calls of a case are written; an absolute one lies
 * outside it) component by component:
 *
 *   repo/tmp/staging-<bootid>-XXXXXX[-lock]  repo/tmp/staging-*[-lock]
 *   tmp.XXXXXX, tmplink.XXXXXX               tmp.*, tmplink.*
 *   ostree/deploy/OS/deploy/<checksum>.N     .../deploy/<commit>.N
 *   boot/ostree/OS-<checksum>                boot/ostree/OS-<bootcsum>
 *   ostree/boot.B.S/OS/<checksum>/N          .../OS/<bootcsum>/N
 *   objects/XX/<checksum>.TYPE               objects/XX/<object>.TYPE
 *   state/<checksum>.commitpartial           state/<commit>.commitpartial
 *   any other run of 32+ hex characters      <checksum>
 *   any other UUID                           <bootid>
 *   /ANY/PATH/NAME (outside the sysroot)     <outside>/NAME
 *
 * Everything else is kept, so two different places of the sysroot never
 * fold together (deploy/<commit>.0 and deploy/<commit>.1, boot.0.1 and
 * boot.1.1, objects/5f/... and objects/60/...), except the staging
 * directories and temporary files of one run, which only their random
 * part tells apart.
 */
#ifndef PP_SIM_PATHFOLD_H
#define PP_SIM_PATHFOLD_H

#include <glib.h>

/* path folded (newly allocated); NULL for NULL. */
char *pp_path_fold(const char *path);

/*
 * A call as a case describes it ("#K SYSCALL PATH [-> PATH2]") without its
 * index, each path folded: "#7 unlinkat ostree/repo/tmp/tmp.Ab3dE9" is
 * "unlinkat ostree/repo/tmp/tmp.*".
 */
char *pp_call_fold(const char *call);

#endif /* PP_SIM_PATHFOLD_H */
