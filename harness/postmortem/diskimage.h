/* SPDX-License-Identifier: MIT */
/*
 * diskimage.h: where the root filesystem is inside a disk image (a
 * field-returned device's dump, or the VM tier's disk.img), read from the
 * bytes alone: no loop device, no mount, no root.
 *
 * Two layouts are recognised:
 *  - a bare ext2/3/4 filesystem: the superblock's magic 0xEF53 at byte
 *    1080 (superblock at 1024, s_magic at 56 in it).  Checked first: a
 *    filesystem made on a whole disk can carry a stale 0x55AA at 510.
 *  - an MBR disk: 0x55AA at byte 510 and four 16-byte entries from 446
 *    whose status bytes are 0x00 or 0x80 (a FAT or NTFS boot sector also
 *    ends in 0x55AA, but has code there).  The root is the bootable Linux
 *    partition (type 0x83), else the first Linux partition: on boards
 *    whose bootable partition is a FAT /boot (Raspberry Pi), the root is
 *    the Linux one.  Sectors are 512 bytes.  Not read: logical
 *    partitions inside an extended one.
 *  - a GPT disk (libblkid reads the table, its protective MBR included):
 *    the root is the partition whose ext2/3/4 filesystem holds an ostree/
 *    directory at its top (asked of debugfs, partition by partition), else
 *    the first one holding ext2/3/4.
 * libblkid lists the partitions of either table and names the filesystem
 * of each (superblock probing): a disk without a readable root is refused
 * with that list (table type, partitions, their filesystems).
 *
 * The filesystem found must fit in the image (and in its partition): a
 * dump cut short is refused here, before debugfs would read zeros or
 * fail halfway.
 *
 * The parse functions take bytes, so the unit tests feed them tables built
 * in memory; pp_disk_probe() reads a file (or block device) and calls them.
 */
#ifndef PP_DISKIMAGE_H
#define PP_DISKIMAGE_H

#include <json-glib/json-glib.h>

#define PP_DISK_SECTOR 512
#define PP_DISK_HEAD_BYTES 2048   /* MBR + a bare filesystem's superblock */
#define PP_EXT_SUPERBLOCK_OFFSET 1024
#define PP_EXT_SUPERBLOCK_BYTES 1024
#define PP_MBR_TYPE_LINUX 0x83

/* Errors that are the input's fault (exit status 2 in plugpull inspect). */
#define PP_DISK_ERROR (pp_disk_error_quark())
GQuark pp_disk_error_quark(void);

typedef enum {
    PP_DISK_ERROR_NOT_AN_IMAGE,   /* neither MBR nor ext2/3/4 */
    PP_DISK_ERROR_NO_PARTITION,   /* an MBR without a usable Linux partition */
    PP_DISK_ERROR_UNSUPPORTED,    /* GPT, or a partition without ext2/3/4 */
    PP_DISK_ERROR_TRUNCATED,      /* partition or filesystem past the end */
    PP_DISK_ERROR_CORRUPT,        /* debugfs cannot read the filesystem */
} PpDiskError;

typedef struct {
    guint index;                  /* 1..4 */
    guint8 status;                /* 0x80 bootable, 0x00 not */
    guint8 type;                  /* 0x83 Linux, 0x0c FAT32 LBA, ... */
    guint64 start_lba;
    guint64 n_sectors;
} PpMbrPartition;

typedef struct {
    PpMbrPartition parts[4];      /* n_sectors 0: an empty slot */
} PpMbr;

typedef struct {
    const char *type;             /* "ext2", "ext3" or "ext4" */
    guint32 block_size;
    guint64 bytes;                /* blocks * block size */
    char label[17];               /* s_volume_name, NUL-terminated */
    char uuid[37];
    gboolean needs_recovery;      /* the journal holds unreplayed updates */
    gboolean has_errors;          /* s_state: errors detected */
} PpExtInfo;

typedef enum {
    PP_DISK_LAYOUT_BARE,          /* the image is the filesystem */
    PP_DISK_LAYOUT_MBR,
    PP_DISK_LAYOUT_GPT,
} PpDiskLayoutKind;

#define PP_DISK_MAX_PARTS 128

/* One partition as libblkid lists it, and the filesystem found in it. */
typedef struct {
    guint number;                 /* 1.. */
    guint64 offset;               /* bytes */
    guint64 bytes;
    char type[40];                /* "0x83", or a GPT type GUID */
    char name[72];                /* GPT partition name (printable ASCII) */
    gboolean bootable;            /* MBR boot flag */
    char fs[24];                  /* "ext4", "vfat", ..., "none", "past-end" */
} PpDiskPart;

typedef struct {
    PpDiskLayoutKind kind;
    PpMbrPartition part;          /* MBR only: the chosen partition */
    const char *why;              /* MBR only: why that one (static) */
    guint64 offset;               /* of the filesystem, in bytes */
    guint64 image_bytes;
    PpExtInfo fs;                 /* filled by pp_disk_probe() */
    /* Filled by pp_disk_probe() from libblkid: */
    const char *table;            /* "gpt", "dos" or "none" */
    guint n_parts;
    PpDiskPart parts[PP_DISK_MAX_PARTS];
    gint chosen;                  /* index in parts, -1 for a bare one */
} PpDiskLayout;

/* Parse the four primary entries of the 512-byte sector. */
gboolean pp_mbr_parse(const guint8 *sector, gsize len, PpMbr *out,
                      GError **error);

/*
 * The root partition of mbr (see above) in an image of image_bytes; *why
 * says which rule chose it.  Errors: NO_PARTITION, UNSUPPORTED (GPT),
 * TRUNCATED (it starts or ends past the end of the image).
 */
gboolean pp_mbr_choose(const PpMbr *mbr, guint64 image_bytes,
                       PpMbrPartition *out, const char **why,
                       GError **error);

/* Parse an ext2/3/4 superblock (PP_EXT_SUPERBLOCK_BYTES from its start). */
gboolean pp_ext_superblock_parse(const guint8 *sb, gsize len, PpExtInfo *out,
                                 GError **error);

/*
 * The layout from the image's first bytes (head: PP_DISK_HEAD_BYTES, or
 * fewer when the image is shorter).  Fills everything but out->fs, which
 * needs the superblock at out->offset for an MBR disk.
 */
gboolean pp_disk_detect(const guint8 *head, gsize len, guint64 image_bytes,
                        PpDiskLayout *out, GError **error);

/*
 * The superblock found at layout->offset must fit in the image and, for a
 * partition, in the partition.
 */
gboolean pp_disk_check_fits(const PpDiskLayout *layout, GError **error);

/*
 * Read path (a regular file or a block device), detect its layout, read
 * and check the filesystem's superblock.  Errors naming path: G_IO_ERROR
 * when it cannot be opened or read, PP_DISK_ERROR otherwise.
 */
gboolean pp_disk_probe(const char *path, PpDiskLayout *out, GError **error);

/*
 * The root of a GPT disk among parts (n of them, fs filled), in an image
 * of image_bytes.  has_ostree(i) says whether part i's filesystem holds
 * an ostree/ directory at its top (NULL: never asked).  Fills out->chosen,
 * part (number, offset, size), why and offset.  Errors: NO_PARTITION
 * naming every partition and its filesystem, TRUNCATED.
 */
typedef gboolean (*PpHasOstreeFunc)(const PpDiskPart *part, gpointer data,
                                    gboolean *has, GError **error);
gboolean pp_gpt_choose(PpDiskLayout *out, PpHasOstreeFunc has_ostree,
                       gpointer data, GError **error);

/* "1: vfat (type 0x0c, 64 MiB), 2: ext4 ...": for messages. */
char *pp_disk_parts_describe(const PpDiskLayout *layout);

/* One line: "MBR partition 1 (bootable, type 0x83) at offset 1048576". */
char *pp_disk_layout_describe(const PpDiskLayout *layout);

/* layout, the filesystem included, as a JSON object. */
JsonObject *pp_disk_layout_to_json(const PpDiskLayout *layout);

#endif /* PP_DISKIMAGE_H */
