/* SPDX-License-Identifier: MIT */
/*
 * diskimage.c: see diskimage.h.  Every multi-byte field on disk is
 * little-endian (MBR and ext2/3/4 alike); they are read byte by byte, so
 * the host's byte order and alignment do not matter.
 */
#include "postmortem/diskimage.h"
#include "common/error.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid.h>
#include <gio/gio.h>

#include "postmortem/e2extract.h"

G_DEFINE_QUARK(pp-disk-error-quark, pp_disk_error)

/* MBR: the partition table (four 16-byte entries) and the signature. */
#define MBR_TABLE 446
#define MBR_ENTRY 16
#define MBR_SIGNATURE 510
#define MBR_TYPE_GPT 0xee
#define MBR_TYPE_EXTENDED 0x05
#define MBR_TYPE_EXTENDED_LBA 0x0f
#define MBR_TYPE_EXTENDED_LINUX 0x85

/* ext2/3/4 superblock fields (offsets within the superblock). */
#define SB_BLOCKS_COUNT_LO 0x04
#define SB_LOG_BLOCK_SIZE 0x18
#define SB_MAGIC 0x38
#define SB_STATE 0x3a
#define SB_FEATURE_COMPAT 0x5c
#define SB_FEATURE_INCOMPAT 0x60
#define SB_UUID 0x68
#define SB_VOLUME_NAME 0x78
#define SB_BLOCKS_COUNT_HI 0x150
#define EXT_MAGIC 0xef53
#define EXT_STATE_ERRORS 0x0002
#define EXT_COMPAT_HAS_JOURNAL 0x0004
#define EXT_INCOMPAT_RECOVER 0x0004
#define EXT_INCOMPAT_EXTENTS 0x0040
#define EXT_INCOMPAT_64BIT 0x0080
#define EXT_INCOMPAT_FLEX_BG 0x0200
/* 1024 << 6 = 64 KiB, the largest block size ext4 supports. */
#define EXT_MAX_LOG_BLOCK_SIZE 6

static guint16
le16(const guint8 *p)
{
    return (guint16)(p[0] | (p[1] << 8));
}

static guint32
le32(const guint8 *p)
{
    return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16)
           | ((guint32)p[3] << 24);
}

gboolean
pp_mbr_parse(const guint8 *sector, gsize len, PpMbr *out, GError **error)
{
    if (len < PP_DISK_SECTOR) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NOT_AN_IMAGE,
                    "%" G_GSIZE_FORMAT " bytes, too short for an MBR", len);
        return FALSE;
    }
    if (sector[MBR_SIGNATURE] != 0x55 || sector[MBR_SIGNATURE + 1] != 0xaa) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NOT_AN_IMAGE,
                    "no MBR signature (bytes 510-511 are %02x %02x, not 55 aa)",
                    sector[MBR_SIGNATURE], sector[MBR_SIGNATURE + 1]);
        return FALSE;
    }
    memset(out, 0, sizeof *out);
    for (guint i = 0; i < 4; i++) {
        const guint8 *e = sector + MBR_TABLE + i * MBR_ENTRY;
        PpMbrPartition *p = &out->parts[i];
        p->index = i + 1;
        p->status = e[0];
        p->type = e[4];
        p->start_lba = le32(e + 8);
        p->n_sectors = le32(e + 12);
        /* The one byte that tells a partition table from boot code that
         * happens to end in 55 aa (a FAT or NTFS volume's boot sector). */
        if (p->status != 0x00 && p->status != 0x80) {
            g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NOT_AN_IMAGE,
                        "55 aa at byte 510, but entry %u's status byte is "
                        "0x%02x (neither 0x00 nor 0x80): a boot sector, not a "
                        "partition table", p->index, p->status);
            return FALSE;
        }
        if (p->type == 0) {
            p->n_sectors = 0;   /* an unused slot, whatever else it holds */
        }
    }
    return TRUE;
}

static gboolean
is_extended(guint8 type)
{
    return type == MBR_TYPE_EXTENDED || type == MBR_TYPE_EXTENDED_LBA
           || type == MBR_TYPE_EXTENDED_LINUX;
}

gboolean
pp_mbr_choose(const PpMbr *mbr, guint64 image_bytes, PpMbrPartition *out,
              const char **why, GError **error)
{
    const PpMbrPartition *chosen = NULL;
    gboolean extended = FALSE;
    for (guint i = 0; i < 4; i++) {
        const PpMbrPartition *p = &mbr->parts[i];
        if (p->type == MBR_TYPE_GPT) {
            g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_UNSUPPORTED,
                        "a GPT disk (protective MBR, entry %u type 0xee): only "
                        "MBR partition tables are read", p->index);
            return FALSE;
        }
        extended = extended || (p->n_sectors > 0 && is_extended(p->type));
    }
    for (guint i = 0; i < 4 && chosen == NULL; i++) {
        const PpMbrPartition *p = &mbr->parts[i];
        if (p->n_sectors > 0 && p->type == PP_MBR_TYPE_LINUX && p->status == 0x80) {
            chosen = p;
            *why = "the bootable Linux partition";
        }
    }
    for (guint i = 0; i < 4 && chosen == NULL; i++) {
        const PpMbrPartition *p = &mbr->parts[i];
        if (p->n_sectors > 0 && p->type == PP_MBR_TYPE_LINUX) {
            chosen = p;
            *why = "the first Linux partition (none is bootable)";
        }
    }
    if (chosen == NULL) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (guint i = 0; i < 4; i++) {
            const PpMbrPartition *p = &mbr->parts[i];
            if (p->n_sectors > 0) {
                g_string_append_printf(s, "%s%u: type 0x%02x", s->len > 0 ? ", " : "",
                                       p->index, p->type);
            }
        }
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NO_PARTITION,
                    "MBR without a Linux partition (type 0x83) (%s)%s",
                    s->len > 0 ? s->str : "no partitions",
                    extended ? "; logical partitions inside an extended one "
                               "are not read" : "");
        return FALSE;
    }
    guint64 start = chosen->start_lba * PP_DISK_SECTOR;
    guint64 end = start + chosen->n_sectors * PP_DISK_SECTOR;
    if (chosen->start_lba == 0) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NO_PARTITION,
                    "partition %u starts at sector 0, over the MBR itself",
                    chosen->index);
        return FALSE;
    }
    if (start >= image_bytes) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_TRUNCATED,
                    "partition %u starts at byte %" G_GUINT64_FORMAT ", past the "
                    "end of the image (%" G_GUINT64_FORMAT " bytes): truncated?",
                    chosen->index, start, image_bytes);
        return FALSE;
    }
    if (end > image_bytes) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_TRUNCATED,
                    "partition %u ends at byte %" G_GUINT64_FORMAT ", past the "
                    "end of the image (%" G_GUINT64_FORMAT " bytes): truncated?",
                    chosen->index, end, image_bytes);
        return FALSE;
    }
    *out = *chosen;
    return TRUE;
}

gboolean
pp_ext_superblock_parse(const guint8 *sb, gsize len, PpExtInfo *out,
                        GError **error)
{
    if (len < PP_EXT_SUPERBLOCK_BYTES) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_TRUNCATED,
                    "superblock cut short (%" G_GSIZE_FORMAT " of %d bytes)",
                    len, PP_EXT_SUPERBLOCK_BYTES);
        return FALSE;
    }
    guint16 magic = le16(sb + SB_MAGIC);
    if (magic != EXT_MAGIC) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_UNSUPPORTED,
                    "no ext2/3/4 superblock (magic 0x%04x, not 0xef53)", magic);
        return FALSE;
    }
    guint32 log_bs = le32(sb + SB_LOG_BLOCK_SIZE);
    if (log_bs > EXT_MAX_LOG_BLOCK_SIZE) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_CORRUPT,
                    "ext superblock: block size 1024 << %u is not a valid one",
                    log_bs);
        return FALSE;
    }
    guint32 compat = le32(sb + SB_FEATURE_COMPAT);
    guint32 incompat = le32(sb + SB_FEATURE_INCOMPAT);
    guint64 blocks = le32(sb + SB_BLOCKS_COUNT_LO);
    if ((incompat & EXT_INCOMPAT_64BIT) != 0) {
        blocks |= (guint64)le32(sb + SB_BLOCKS_COUNT_HI) << 32;
    }
    if (blocks == 0) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_CORRUPT,
                    "ext superblock: a block count of 0");
        return FALSE;
    }
    memset(out, 0, sizeof *out);
    out->block_size = 1024u << log_bs;
    out->bytes = blocks * out->block_size;
    if ((incompat & (EXT_INCOMPAT_EXTENTS | EXT_INCOMPAT_64BIT
                     | EXT_INCOMPAT_FLEX_BG)) != 0) {
        out->type = "ext4";
    } else if ((compat & EXT_COMPAT_HAS_JOURNAL) != 0) {
        out->type = "ext3";
    } else {
        out->type = "ext2";
    }
    out->needs_recovery = (incompat & EXT_INCOMPAT_RECOVER) != 0;
    out->has_errors = (le16(sb + SB_STATE) & EXT_STATE_ERRORS) != 0;
    /* The label is untrusted bytes: keep printable ASCII only. */
    for (guint i = 0; i < 16 && sb[SB_VOLUME_NAME + i] != 0; i++) {
        guint8 c = sb[SB_VOLUME_NAME + i];
        out->label[i] = g_ascii_isprint(c) ? (char)c : '?';
    }
    const guint8 *u = sb + SB_UUID;
    g_snprintf(out->uuid, sizeof out->uuid,
               "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
               "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
               u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return TRUE;
}

static gboolean
has_ext_magic(const guint8 *head, gsize len)
{
    gsize at = PP_EXT_SUPERBLOCK_OFFSET + SB_MAGIC;
    return len >= at + 2 && le16(head + at) == EXT_MAGIC;
}

gboolean
pp_disk_detect(const guint8 *head, gsize len, guint64 image_bytes,
               PpDiskLayout *out, GError **error)
{
    memset(out, 0, sizeof *out);
    out->image_bytes = image_bytes;
    if (has_ext_magic(head, len)) {
        out->kind = PP_DISK_LAYOUT_BARE;
        out->offset = 0;
        return TRUE;
    }
    if (len < PP_DISK_SECTOR) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NOT_AN_IMAGE,
                    "%" G_GSIZE_FORMAT " bytes: too short for a disk image", len);
        return FALSE;
    }
    if (head[MBR_SIGNATURE] != 0x55 || head[MBR_SIGNATURE + 1] != 0xaa) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NOT_AN_IMAGE,
                    "not a disk image: no MBR (bytes 510-511 are %02x %02x, "
                    "not 55 aa) and no ext2/3/4 filesystem (no magic 0xef53 "
                    "at byte 1080)", head[MBR_SIGNATURE], head[MBR_SIGNATURE + 1]);
        return FALSE;
    }
    PpMbr mbr;
    if (!pp_mbr_parse(head, len, &mbr, error)
        || !pp_mbr_choose(&mbr, image_bytes, &out->part, &out->why, error)) {
        return FALSE;
    }
    out->kind = PP_DISK_LAYOUT_MBR;
    out->offset = out->part.start_lba * PP_DISK_SECTOR;
    return TRUE;
}

gboolean
pp_disk_check_fits(const PpDiskLayout *layout, GError **error)
{
    guint64 fs_end = layout->offset + layout->fs.bytes;
    if (fs_end > layout->image_bytes) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_TRUNCATED,
                    "the %s filesystem at offset %" G_GUINT64_FORMAT " is %"
                    G_GUINT64_FORMAT " bytes and ends at byte %" G_GUINT64_FORMAT
                    ", past the end of the image (%" G_GUINT64_FORMAT " bytes): "
                    "truncated?", layout->fs.type, layout->offset,
                    layout->fs.bytes, fs_end, layout->image_bytes);
        return FALSE;
    }
    if (layout->kind != PP_DISK_LAYOUT_BARE
        && layout->fs.bytes > layout->part.n_sectors * PP_DISK_SECTOR) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_CORRUPT,
                    "the %s filesystem (%" G_GUINT64_FORMAT " bytes) is larger "
                    "than partition %u (%" G_GUINT64_FORMAT " bytes)",
                    layout->fs.type, layout->fs.bytes, layout->part.index,
                    layout->part.n_sectors * PP_DISK_SECTOR);
        return FALSE;
    }
    return TRUE;
}

/* Read up to len bytes at offset; *out_len is what there was. */
static gboolean
read_at(int fd, const char *path, guint64 offset, guint8 *buf, gsize len,
        gsize *out_len, GError **error)
{
    gsize done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            pp_throw_errno_prefix(error, "pread(%s, offset %" G_GUINT64_FORMAT
                                  ")", path, offset + done);
            return FALSE;
        }
        if (n == 0) {
            break;
        }
        done += (gsize)n;
    }
    *out_len = done;
    return TRUE;
}


static gboolean
is_ext(const char *fs)
{
    return strcmp(fs, "ext2") == 0 || strcmp(fs, "ext3") == 0
           || strcmp(fs, "ext4") == 0;
}

char *
pp_disk_parts_describe(const PpDiskLayout *layout)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < layout->n_parts; i++) {
        const PpDiskPart *p = &layout->parts[i];
        g_string_append_printf(s, "%s%u: %s (type %s%s%s%s, %" G_GUINT64_FORMAT
                               " bytes at %" G_GUINT64_FORMAT ")",
                               i > 0 ? ", " : "", p->number, p->fs, p->type,
                               *p->name != '\0' ? ", \"" : "", p->name,
                               *p->name != '\0' ? "\"" : "", p->bytes, p->offset);
    }
    if (s->len == 0) {
        g_string_append(s, "no partitions");
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean
pp_gpt_choose(PpDiskLayout *out, PpHasOstreeFunc has_ostree, gpointer data,
              GError **error)
{
    gint first = -1;
    gint chosen = -1;
    for (guint i = 0; i < out->n_parts && chosen < 0; i++) {
        const PpDiskPart *p = &out->parts[i];
        if (!is_ext(p->fs)) {
            continue;
        }
        if (first < 0) {
            first = (gint)i;
        }
        gboolean has = FALSE;
        if (has_ostree != NULL && !has_ostree(p, data, &has, error)) {
            return FALSE;
        }
        if (has) {
            chosen = (gint)i;
            out->why = "the partition whose filesystem holds ostree/";
        }
    }
    if (chosen < 0 && first >= 0) {
        chosen = first;
        out->why = "the first ext2/3/4 partition (none holds ostree/)";
    }
    if (chosen < 0) {
        g_autofree char *list = pp_disk_parts_describe(out);
        gboolean past = FALSE;
        for (guint i = 0; i < out->n_parts; i++) {
            past = past || strcmp(out->parts[i].fs, "past-end") == 0;
        }
        g_set_error(error, PP_DISK_ERROR,
                    past ? PP_DISK_ERROR_TRUNCATED : PP_DISK_ERROR_NO_PARTITION,
                    "%s partition table without an ext2/3/4 partition (%s)%s",
                    out->table, list, past ? ": truncated?" : "");
        return FALSE;
    }
    const PpDiskPart *p = &out->parts[chosen];
    out->chosen = chosen;
    out->offset = p->offset;
    out->part.index = p->number;
    out->part.status = 0;
    out->part.type = 0;
    out->part.start_lba = p->offset / PP_DISK_SECTOR;
    out->part.n_sectors = p->bytes / PP_DISK_SECTOR;
    return TRUE;
}

/* The filesystem type libblkid finds in [offset, offset + bytes) of fd. */
static void
probe_fs(int fd, guint64 offset, guint64 bytes, guint64 image_bytes,
         char *out, gsize out_len)
{
    if (offset >= image_bytes || offset + bytes > image_bytes) {
        g_strlcpy(out, "past-end", out_len);
        return;
    }
    g_strlcpy(out, "none", out_len);
    blkid_probe pr = blkid_new_probe();
    if (pr == NULL) {
        return;
    }
    if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset,
                               (blkid_loff_t)bytes) == 0) {
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        blkid_probe_enable_partitions(pr, 0);
        const char *type = NULL;
        if (blkid_do_safeprobe(pr) == 0
            && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0
            && type != NULL) {
            g_strlcpy(out, type, out_len);
        }
    }
    blkid_free_probe(pr);
}

/* Printable ASCII only: partition names and types are untrusted bytes. */
static void
copy_printable(char *dst, gsize len, const char *src)
{
    gsize i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < len; i++) {
        dst[i] = g_ascii_isprint(src[i]) ? src[i] : '?';
    }
    dst[i] = '\0';
}

/* The partition table libblkid reads in fd: out->table, out->parts. */
static gboolean
list_partitions(int fd, const char *path, PpDiskLayout *out, GError **error)
{
    out->table = "none";
    out->n_parts = 0;
    blkid_probe pr = blkid_new_probe();
    if (pr == NULL || blkid_probe_set_device(pr, fd, 0, 0) != 0) {
        if (pr != NULL) {
            blkid_free_probe(pr);
        }
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: libblkid cannot probe it", path);
        return FALSE;
    }
    blkid_probe_enable_superblocks(pr, 0);
    blkid_probe_enable_partitions(pr, 1);
    blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
    blkid_partlist ls = blkid_probe_get_partitions(pr);
    blkid_parttable tab = ls != NULL ? blkid_partlist_get_table(ls) : NULL;
    const char *ttype = tab != NULL ? blkid_parttable_get_type(tab) : NULL;
    if (ttype != NULL) {
        out->table = strcmp(ttype, "gpt") == 0 ? "gpt"
                     : strcmp(ttype, "dos") == 0 ? "dos"
                     : g_intern_string(ttype);
        int n = blkid_partlist_numof_partitions(ls);
        for (int i = 0; i < n && out->n_parts < PP_DISK_MAX_PARTS; i++) {
            blkid_partition par = blkid_partlist_get_partition(ls, i);
            if (par == NULL || blkid_partition_is_extended(par)) {
                continue;
            }
            PpDiskPart *p = &out->parts[out->n_parts++];
            memset(p, 0, sizeof *p);
            p->number = (guint)blkid_partition_get_partno(par);
            p->offset = (guint64)blkid_partition_get_start(par) * PP_DISK_SECTOR;
            p->bytes = (guint64)blkid_partition_get_size(par) * PP_DISK_SECTOR;
            const char *ts = blkid_partition_get_type_string(par);
            if (ts != NULL) {
                copy_printable(p->type, sizeof p->type, ts);
            } else {
                g_snprintf(p->type, sizeof p->type, "0x%02x",
                           (guint)blkid_partition_get_type(par));
            }
            copy_printable(p->name, sizeof p->name, blkid_partition_get_name(par));
            p->bootable = strcmp(out->table, "dos") == 0
                          && (blkid_partition_get_flags(par) & 0x80) != 0;
            probe_fs(fd, p->offset, p->bytes, out->image_bytes, p->fs, sizeof p->fs);
        }
    }
    blkid_free_probe(pr);
    return TRUE;
}

/* Add what the table holds to the end of *error's message. */
static void
append_found(GError **error, const PpDiskLayout *layout)
{
    if (error == NULL || *error == NULL || layout->n_parts == 0) {
        return;
    }
    g_autofree char *list = pp_disk_parts_describe(layout);
    char *m = g_strdup_printf("%s (%s partition table: %s)", (*error)->message,
                              layout->table, list);
    g_free((*error)->message);
    (*error)->message = m;
}

typedef struct {
    const char *path;
} OstreeProbe;

static gboolean
part_has_ostree(const PpDiskPart *part, gpointer data, gboolean *has,
                GError **error)
{
    OstreeProbe *op = data;
    if (strcmp(part->fs, "past-end") == 0) {
        *has = FALSE;
        return TRUE;
    }
    return pp_image_top_has_dir(op->path, part->offset, "ostree", has, error);
}

gboolean
pp_disk_probe(const char *path, PpDiskLayout *out, GError **error)
{
    pp_autofd int fd =
        open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", path);
        return FALSE;
    }
    /* lseek, not st_size: a block device's st_size is 0. */
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) {
        pp_throw_errno_prefix(error, "lseek(%s, SEEK_END)", path);
        return FALSE;
    }
    guint8 head[PP_DISK_HEAD_BYTES];
    gsize n = 0;
    if (!read_at(fd, path, 0, head, sizeof head, &n, error)) {
        return FALSE;
    }
    PpDiskLayout probed;
    memset(&probed, 0, sizeof probed);
    probed.image_bytes = (guint64)size;
    probed.table = "none";
    if (!has_ext_magic(head, n) && !list_partitions(fd, path, &probed, error)) {
        return FALSE;
    }
    if (strcmp(probed.table, "gpt") == 0) {
        memcpy(out, &probed, sizeof *out);
        out->kind = PP_DISK_LAYOUT_GPT;
        OstreeProbe op = { path };
        if (!pp_gpt_choose(out, part_has_ostree, &op, error)) {
            g_prefix_error(error, "%s: ", path);
            return FALSE;
        }
    } else if (strcmp(probed.table, "none") != 0 && strcmp(probed.table, "dos") != 0) {
        g_autofree char *list = pp_disk_parts_describe(&probed);
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_UNSUPPORTED,
                    "%s: a %s partition table (%s): only GPT and MBR (dos) "
                    "are read", path, probed.table, list);
        return FALSE;
    } else {
        if (!pp_disk_detect(head, n, (guint64)size, out, error)) {
            g_prefix_error(error, "%s: ", path);
            append_found(error, &probed);
            return FALSE;
        }
        out->table = out->kind == PP_DISK_LAYOUT_BARE ? "none" : "dos";
        out->n_parts = probed.n_parts;
        memcpy(out->parts, probed.parts, sizeof probed.parts);
        out->chosen = -1;
        for (guint i = 0; i < out->n_parts && out->kind == PP_DISK_LAYOUT_MBR; i++) {
            if (out->parts[i].number == out->part.index) {
                out->chosen = (gint)i;
            }
        }
    }
    guint8 sb[PP_EXT_SUPERBLOCK_BYTES];
    if (!read_at(fd, path, out->offset + PP_EXT_SUPERBLOCK_OFFSET, sb, sizeof sb,
                 &n, error)) {
        return FALSE;
    }
    g_autofree char *where = pp_disk_layout_describe(out);
    if (!pp_ext_superblock_parse(sb, n, &out->fs, error)
        || !pp_disk_check_fits(out, error)) {
        g_prefix_error(error, "%s: %s: ", path, where);
        append_found(error, out);
        return FALSE;
    }
    return TRUE;
}

char *
pp_disk_layout_describe(const PpDiskLayout *layout)
{
    if (layout->kind == PP_DISK_LAYOUT_BARE) {
        return g_strdup("a bare filesystem (offset 0)");
    }
    if (layout->kind == PP_DISK_LAYOUT_GPT) {
        const PpDiskPart *p = &layout->parts[layout->chosen];
        return g_strdup_printf("GPT partition %u (%s%s%stype %s) at offset %"
                               G_GUINT64_FORMAT, p->number,
                               *p->name != '\0' ? "\"" : "", p->name,
                               *p->name != '\0' ? "\", " : "", p->type,
                               layout->offset);
    }
    return g_strdup_printf("MBR partition %u (%stype 0x%02x) at offset %"
                           G_GUINT64_FORMAT, layout->part.index,
                           layout->part.status == 0x80 ? "bootable, " : "",
                           layout->part.type, layout->offset);
}

JsonObject *
pp_disk_layout_to_json(const PpDiskLayout *layout)
{
    JsonObject *o = json_object_new();
    gboolean mbr = layout->kind == PP_DISK_LAYOUT_MBR;
    gboolean gpt = layout->kind == PP_DISK_LAYOUT_GPT;
    json_object_set_int_member(o, "bytes", (gint64)layout->image_bytes);
    json_object_set_string_member(o, "layout", mbr ? "mbr" : gpt ? "gpt" : "bare");
    json_object_set_string_member(o, "table", layout->table != NULL ? layout->table
                                                                    : "none");
    if (mbr) {
        g_autofree char *type = g_strdup_printf("0x%02x", layout->part.type);
        json_object_set_int_member(o, "partition", layout->part.index);
        json_object_set_string_member(o, "partition_type", type);
        json_object_set_boolean_member(o, "bootable", layout->part.status == 0x80);
        json_object_set_string_member(o, "chosen", layout->why);
        json_object_set_int_member(o, "partition_bytes",
                                   (gint64)(layout->part.n_sectors * PP_DISK_SECTOR));
    } else if (gpt) {
        const PpDiskPart *p = &layout->parts[layout->chosen];
        json_object_set_int_member(o, "partition", p->number);
        json_object_set_string_member(o, "partition_type", p->type);
        json_object_set_string_member(o, "partition_name", p->name);
        json_object_set_string_member(o, "chosen", layout->why);
        json_object_set_int_member(o, "partition_bytes", (gint64)p->bytes);
    } else {
        json_object_set_null_member(o, "partition");
    }
    json_object_set_int_member(o, "offset", (gint64)layout->offset);
    JsonArray *parts = json_array_new();
    for (guint i = 0; i < layout->n_parts; i++) {
        const PpDiskPart *p = &layout->parts[i];
        JsonObject *po = json_object_new();
        json_object_set_int_member(po, "number", p->number);
        json_object_set_int_member(po, "offset", (gint64)p->offset);
        json_object_set_int_member(po, "bytes", (gint64)p->bytes);
        json_object_set_string_member(po, "type", p->type);
        json_object_set_string_member(po, "name", p->name);
        json_object_set_string_member(po, "filesystem", p->fs);
        json_array_add_object_element(parts, po);
    }
    json_object_set_array_member(o, "partitions", parts);
    JsonObject *fs = json_object_new();
    json_object_set_string_member(fs, "type", layout->fs.type);
    json_object_set_string_member(fs, "label", layout->fs.label);
    json_object_set_string_member(fs, "uuid", layout->fs.uuid);
    json_object_set_int_member(fs, "bytes", (gint64)layout->fs.bytes);
    json_object_set_int_member(fs, "block_size", layout->fs.block_size);
    json_object_set_boolean_member(fs, "needs_recovery", layout->fs.needs_recovery);
    json_object_set_boolean_member(fs, "errors", layout->fs.has_errors);
    json_object_set_object_member(o, "filesystem", fs);
    return o;
}
