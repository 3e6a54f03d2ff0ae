/* SPDX-License-Identifier: MIT */
/*
 * guestfs.h: read a disk image through libguestfs (plugpull inspect
 * --reader guestfs), for what debugfs cannot read: LVM, xfs, btrfs, f2fs.
 *
 * One guestfish process (Debian package guestfish), driven through its
 * stdin, no shell: it starts one appliance (a small Linux under QEMU, about
 * 10 s under TCG), lists the filesystems it finds (partitions and logical
 * volumes alike), mounts each candidate read-only until one holds ostree/
 * at its top, and writes that filesystem as a tar file (numeric owners,
 * extended attributes) into a private directory, where the host's tar
 * unpacks it (hard links and attributes kept) and removes the tar file.
 *
 * The image is added read-only (--ro: QEMU writes to a throwaway overlay),
 * and the appliance's Linux replays a journal that needs recovery: this is
 * the kernel's view.  Without root the files become the caller's: owners
 * and setuid bits are not kept (a note says so).
 */
#ifndef PP_GUESTFS_H
#define PP_GUESTFS_H

#include <signal.h>

#include <json-glib/json-glib.h>

#include "postmortem/e2extract.h"

typedef struct _PpGuestfsRead {
    char *guestfish;          /* the binary */
    char *version;            /* "guestfish 1.48.6" */
    char *filesystems;        /* what list-filesystems said, one line */
    char *device;             /* the filesystem read: /dev/sda2, /dev/vg/root */
    char *fs_type;            /* its type: ext4, xfs, ... */
    double launch_seconds;    /* the appliance's start (run) */
    double select_seconds;    /* listing and trying the filesystems */
    double tar_seconds;       /* tar-out inside, to the host */
    double untar_seconds;     /* the host's tar -x */
    guint64 tar_bytes;
} PpGuestfsRead;

void pp_guestfs_read_free(PpGuestfsRead *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpGuestfsRead, pp_guestfs_read_free)

/*
 * Extract the root filesystem of image (the one holding ostree/, else an
 * error naming what was found) into a new private directory, as
 * pp_image_extract() does: *out (tmp_dir, sysroot, notes; the overlay is
 * empty) and *read (how).  Errors: PP_DISK_ERROR when the image holds no
 * such filesystem (not an image, ...), G_IO_ERROR when guestfish cannot
 * be run or its appliance cannot start (the message says why),
 * G_IO_ERROR_CANCELLED when *interrupted became non-zero.
 */
gboolean pp_guestfs_extract(const char *image,
                            volatile sig_atomic_t *interrupted,
                            PpGuestfsRead **read, PpExtracted **out,
                            GError **error);

JsonObject *pp_guestfs_read_to_json(const PpGuestfsRead *r);

#endif /* PP_GUESTFS_H */
