/* SPDX-License-Identifier: MIT */
/*
 * vm-verdict.h: the checks of boot B (after the cut), `ostree admin
 * status` and the repo check (pp_fsck_command), run at once when the guest
 * has two vCPUs (PLUGPULL_VCPUS=2: pp_vm_start's -smp 2): the same two
 * commands on the same disk as one after the other, so the verdict is as
 * strong, and it comes when the longer (fsck) ends instead of after both.
 * Not the default: on this shared 2-core machine, at load 4.5 to 15, it
 * was slower (bench/RESULTS.md, "boot-to-verdict"); with one vCPU the
 * checks run one after the other (vm-cycle.c).
 */
#ifndef PP_VM_VERDICT_H
#define PP_VM_VERDICT_H

#include "vm/vm-qemu.h"

#define PP_STATUS_LINE "PLUGPULL-STATUS rc="
#define PP_FSCK_LINE "PLUGPULL-FSCK rc="

/*
 * The repo check of boot B: the image's guest-fsck (images/guest-fsck.c:
 * fsck's walk, hashing only the objects that are not in the repo as the
 * image was built, PP_GUEST_BASELINE) when the booted tree has it and the
 * disk has its baseline, as the built-in image does; else `ostree fsck`
 * of the whole repo (your firmware).  A shell command line for the agent.
 */
#define PP_GUEST_FSCK "/usr/lib/plugpull/guest-fsck"
#define PP_GUEST_BASELINE "/sysroot/plugpull/objects.baseline"
char *pp_fsck_command(const char *repo);

/* The agent command; repo: the guest's repo path. */
char *pp_verdict_command(const char *repo);

/*
 * Run both.  *out_status_rc, *out_fsck_rc: their exit statuses, -1 when
 * one did not end within timeout_s (the other's still stands when it
 * ended).  Their outputs go to status_out and fsck_out.  FALSE: QEMU
 * ended, the console failed, or interrupted.
 */
gboolean pp_verdict_run(PpVm *vm, const char *repo, double timeout_s,
                        int *out_status_rc, int *out_fsck_rc,
                        GString *status_out, GString *fsck_out,
                        GError **error);

/* The rcs and outputs in text, a transcript of the command (exposed for
   the unit test). */
void pp_verdict_parse(const char *text, int *out_status_rc, int *out_fsck_rc,
                      GString *status_out, GString *fsck_out);

#endif /* PP_VM_VERDICT_H */
