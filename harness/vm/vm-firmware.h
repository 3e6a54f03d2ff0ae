/* SPDX-License-Identifier: MIT */
/*
 * vm-firmware.h: your firmware, booted (`plugpull run --repo PATH --from
 * REF --to REF`, or the scenario's [firmware] repo, from, to).
 *
 * The VM tier's device is then made of the user's repo instead of the
 * built-in image, in the image's layout (images/README.md), so every
 * cycle runs as on the built-in image:
 *
 *   DIR/srv/repo       the stand-in's mirror: from and to, the branch at
 *                      from (server/firmware-repo.h)
 *   DIR/disk.img       MBR, partition 1 bootable at 1 MiB, ext4 "root"
 *                      holding the ostree sysroot: from deployed by
 *                      `ostree admin deploy --karg=root=LABEL=root
 *                      --karg=rw` with the U-Boot backend (boot/loader ->
 *                      loader.N/uEnv.txt) and images/boot.cmd as
 *                      /boot/boot.scr; U-Boot boots the commit's own
 *                      kernel and initramfs
 *   DIR/manifest.json  kind "firmware", commits [from, to], the branch,
 *                      the partition's offset, the key it was built for
 *
 * The agent: images/firmware-agent at /etc/plugpull/agent of the
 * deployment, started by systemd through
 * /etc/systemd/system/plugpull-agent.service and its link in
 * sysinit.target.wants (serial-getty@ttyS0 masked there: the console is
 * the agent's), the shim at /etc/plugpull/libcfaultinject.so.  All in
 * the deployment's /etc, none in /usr: the firmware is booted as it is,
 * and ostree's /etc merge carries the agent into the new deployment.
 * So the firmware must boot with systemd as init; its initramfs must
 * handle ostree= (run ostree-prepare-root: dracut with ostree-boot's
 * module, or a meta-updater build).
 *
 * Refused before the campaign (PP_ERROR_USAGE, naming what is missing):
 * a rev that is not a commit of the repo, a commit without a kernel, a
 * kernel that is not an x86 bzImage (U-Boot's zboot needs its header),
 * and (pp_vm_firmware_probe) a device whose first boot does not reach
 * the agent: an initramfs without ostree support ends in the physical
 * root, which has no init.
 */
#ifndef PP_VM_FIRMWARE_H
#define PP_VM_FIRMWARE_H

#include "vm/vm-cycle.h"

typedef struct {
    const char *repo;           /* the user's repo (never written) */
    const char *from_rev;
    const char *to_rev;
    const char *os;             /* NULL: the commit's ostree.osname */
    const char *image_dir;      /* DIR above: reused when its key matches */
    const char *boot_cmd;       /* images/boot.cmd */
    const char *agent;          /* images/firmware-agent */
    const char *agent_unit;     /* images/plugpull-agent.service */
    const char *shim;           /* libcfaultinject.so */
} PpVmFirmwareSpec;

/* Check the firmware and build (or reuse) DIR. */
gboolean pp_vm_firmware_image(const PpVmFirmwareSpec *spec, GError **error);

/*
 * The first boot: a copy of the disk must boot to the agent (then it is
 * powered off).  Its serial log stays in OUT/probe/.  A boot that does
 * not reach the agent is a PP_ERROR_USAGE error saying why and what the
 * firmware lacks.
 */
gboolean pp_vm_firmware_probe(PpRunWorker *w, GError **error);

#endif /* PP_VM_FIRMWARE_H */
