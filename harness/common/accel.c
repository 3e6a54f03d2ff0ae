/* SPDX-License-Identifier: MIT */
/*
 * accel.c: see accel.h.
 */
#include "common/accel.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "common/error.h"

gboolean
pp_accel_choose(const char **out, GError **error)
{
    const char *forced = g_getenv("PLUGPULL_ACCEL");
    if (forced != NULL) {
        if (!g_str_equal(forced, "kvm") && !g_str_equal(forced, "tcg")) {
            return pp_throw_code(error, PP_ERROR_USAGE,
                                 "PLUGPULL_ACCEL=%s: expected kvm or tcg",
                                 forced);
        }
        *out = g_str_equal(forced, "kvm") ? "kvm" : "tcg";
        return TRUE;
    }
    /* /dev/kvm can exist and still be unusable: no permission, or, as on
       the machines this project runs on, a /dev/kvm that answers while
       the CPU advertises no hardware virtualisation (no vmx/svm flag in
       /proc/cpuinfo): there QEMU's KVM starts U-Boot, then the guest
       crashed at boot (seen in CI).  So both must hold. */
    *out = "tcg";
    g_autofree char *cpuinfo = NULL;
    if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)
        || (strstr(cpuinfo, " vmx") == NULL
            && strstr(cpuinfo, " svm") == NULL)) {
        return TRUE;
    }
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        if (ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION) {
            *out = "kvm";
        }
        close(fd);
    }
    return TRUE;
}
