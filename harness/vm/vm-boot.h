/* SPDX-License-Identifier: MIT */
/*
 * vm-boot.h: booting a VM tier device and talking to its agent over the
 * console (the agent's PLUGPULL- lines, the shim's CFI- lines).  The
 * cycles and the calibration (vm-cycle.c) are made of these.
 */
#ifndef PP_VM_BOOT_H
#define PP_VM_BOOT_H

#include "vm/vm-cycle.h"
#include "vm/vm-qemu.h"

#define PP_AGENT_BOOTED "PLUGPULL-AGENT booted"
#define PP_AGENT_DONE "PLUGPULL-AGENT done rc="
#define PP_CRASH_LINE "CFI-CRASH "
#define PP_T0_LINE "PLUGPULL-T0 "
#define PP_MARK_LINE "CFI-MARK "
#define PP_GUEST_REPO "/sysroot/ostree/repo"
/* The built-in image has the shim in /usr; the agent on your firmware
   (images/firmware-agent) exports PLUGPULL_SHIM, its copy in /etc. */
#define PP_GUEST_SHIM "${PLUGPULL_SHIM:-/usr/lib/plugpull/libcfaultinject.so}"
/* On the physical root: survives the poweroff, outside every tree. */
#define PP_GUEST_CAL_TRACE "/sysroot/plugpull-calibration.cfit"

/* The monotonic time `seconds` from now. */
gint64 pp_vm_deadline_in(double seconds);

/* Value of "key=" in an agent line (up to the next space), or NULL. */
char *pp_agent_line_field(const char *line, const char *key);

/* How a boot ended when it did not reach the agent. */
typedef enum { PP_BOOT_OK, PP_BOOT_BRICK, PP_BOOT_HANG } PpBootEnd;

/*
 * Boot: QEMU on disk, logs in case_dir/<name>.{serial,serial.times,qemu.log},
 * the boot's record appended to c->boots.  PP_BOOT_OK: *out_vm runs with
 * the agent at its prompt, *out_line is the agent's "booted" line.
 * Otherwise *out_reason says why (for the verdict).  FALSE only when QEMU
 * cannot be run or the campaign was interrupted.
 */
gboolean pp_vm_boot(PpRunWorker *w, PpCycle *c, const char *case_dir,
                    const char *name, const char *disk, PpVm **out_vm,
                    char **out_line, PpBootEnd *out_end, char **out_reason,
                    GError **error);

/* Append text to dest without the agent's prompt lines (protocol, not
   output). */
void pp_agent_append_output(GString *dest, const char *text);

/*
 * Run one shell command line through the agent, wait for its "done rc="
 * line; output appended to output.  *out_rc is -1 on a timeout (the
 * caller's verdict is `hang`).  FALSE: QEMU ended, console error, or
 * interrupted.
 */
gboolean pp_agent_run(PpVm *vm, const char *cmd, double timeout_s,
                      int *out_rc, GString *output, GError **error);

/* Network up, origin pointed at the worker's stand-in.  *out_ok FALSE when
   the guest's commands fail (the cycle's verdict then says so). */
gboolean pp_agent_prepare_update(PpRunWorker *w, PpVm *vm, gboolean *out_ok,
                                 GString *output, GError **error);

/*
 * The update's command line: the guest's uptime first (the calibration
 * trace's clock), then the client, under the shim when config is not
 * NULL.  fd 7 is the console: where the shim announces a cut.
 */
char *pp_agent_update_command(const char *config);

#endif /* PP_VM_BOOT_H */
