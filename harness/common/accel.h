/* SPDX-License-Identifier: MIT */
/*
 * accel.h: which accelerator a QEMU started by plugpull uses: the VM
 * tier's and the libguestfs appliance's (postmortem/guestfs.c), so both
 * avoid the same KVM that answers but cannot run a guest.
 */
#ifndef PP_COMMON_ACCEL_H
#define PP_COMMON_ACCEL_H

#include <glib.h>

/*
 * $PLUGPULL_ACCEL when set ("kvm" or "tcg"; anything else is a usage error
 * naming the variable), else "kvm" when the CPU advertises vmx or svm and
 * /dev/kvm opens read-write and answers KVM_GET_API_VERSION, else "tcg".
 */
gboolean pp_accel_choose(const char **out, GError **error);

#endif /* PP_COMMON_ACCEL_H */
