/* SPDX-License-Identifier: MIT */
/*
 * test-diskimage: where plugpull inspect finds the root filesystem in a
 * disk image.  Partition tables and superblocks are built in memory (and
 * once in a sparse file, for pp_disk_probe); every accepted layout has a
 * failing twin that proves the diagnostic: no signature, no Linux
 * partition, a partition past the end, GPT, a boot sector, a bad magic, a
 * filesystem cut short.  GPT disks are made with sfdisk and mke2fs -d
 * (skipped without them): the root is the ext4 holding ostree/, else the
 * first ext4; a disk with only a FAT partition is refused naming it.  Also the other two parsers the image path
 * relies on: debugfs's `ls -p` lines and the stat overlay, whose extended
 * attributes count in the content checksum as if they were on the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "postmortem/diskimage.h"
#include "postmortem/e2extract.h"
#include "oracle/stat-overlay.h"
#include "oracle/oracle.h"

#include <ostree.h>
#include <sys/xattr.h>

#define MIB (1024u * 1024u)

typedef struct {
    guint8 status;
    guint8 type;
    guint32 start;
    guint32 n_sectors;
} Entry;

static void
put_le32(guint8 *p, guint32 v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = (v >> 24) & 0xff;
}

/* A 512-byte MBR with up to four entries and the 55 aa signature. */
static void
make_mbr(guint8 *sector, const Entry *e, guint n)
{
    memset(sector, 0, PP_DISK_SECTOR);
    for (guint i = 0; i < n; i++) {
        guint8 *p = sector + 446 + 16 * i;
        p[0] = e[i].status;
        p[4] = e[i].type;
        put_le32(p + 8, e[i].start);
        put_le32(p + 12, e[i].n_sectors);
    }
    sector[510] = 0x55;
    sector[511] = 0xaa;
}

/* An ext4 superblock: 4 KiB blocks, blocks_count blocks, label "root". */
static void
make_superblock(guint8 *sb, guint32 blocks_count)
{
    memset(sb, 0, PP_EXT_SUPERBLOCK_BYTES);
    put_le32(sb + 0x04, blocks_count);
    put_le32(sb + 0x18, 2);                 /* 1024 << 2 */
    sb[0x38] = 0x53;
    sb[0x39] = 0xef;
    sb[0x3a] = 1;                           /* cleanly unmounted */
    put_le32(sb + 0x5c, 0x4);               /* has_journal */
    put_le32(sb + 0x60, 0x40 | 0x2);        /* extents, filetype */
    memcpy(sb + 0x78, "root", 4);
}

static void
assert_error(const GError *error, int code, const char *needle)
{
    assert_non_null(error);
    if (error->domain != PP_DISK_ERROR || error->code != code
        || strstr(error->message, needle) == NULL) {
        fail_msg("want PP_DISK_ERROR %d with \"%s\", got %s %d: %s", code,
                 needle, g_quark_to_string(error->domain), error->code,
                 error->message);
    }
}

/* The VM tier's layout: one bootable Linux partition at 1 MiB. */
static const Entry vm_disk[] = { { 0x80, 0x83, 2048, 1046528 } };

/* ---- MBR ------------------------------------------------------------ */

static void
test_mbr_bootable_linux_chosen(void **state)
{
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, vm_disk, 1);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_true(pp_mbr_choose(&mbr, 512 * MIB, &p, &why, &error));
    assert_int_equal(p.index, 1);
    assert_int_equal(p.start_lba * PP_DISK_SECTOR, MIB);
    assert_non_null(strstr(why, "bootable"));
    (void)state;
}

static void
test_mbr_no_signature_fails(void **state)
{
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, vm_disk, 1);
    s[510] = 0;
    s[511] = 0;
    PpMbr mbr;
    g_autoptr(GError) error = NULL;
    assert_false(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_error(error, PP_DISK_ERROR_NOT_AN_IMAGE, "no MBR signature");
    (void)state;
}

/* A Raspberry Pi layout: the bootable one is a FAT /boot. */
static void
test_mbr_first_linux_when_bootable_is_fat(void **state)
{
    const Entry e[] = { { 0x80, 0x0c, 8192, 524288 }, { 0x00, 0x83, 532480, 500000 } };
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, e, 2);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_true(pp_mbr_choose(&mbr, 1024 * MIB, &p, &why, &error));
    assert_int_equal(p.index, 2);
    assert_non_null(strstr(why, "first Linux"));
    (void)state;
}

static void
test_mbr_no_linux_partition_fails(void **state)
{
    const Entry e[] = { { 0x80, 0x0c, 8192, 524288 }, { 0x00, 0x07, 532480, 500000 } };
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, e, 2);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_false(pp_mbr_choose(&mbr, 1024 * MIB, &p, &why, &error));
    assert_error(error, PP_DISK_ERROR_NO_PARTITION,
                 "without a Linux partition (type 0x83) (1: type 0x0c, 2: type 0x07)");
    (void)state;
}

static void
test_mbr_bootable_preferred_to_first(void **state)
{
    const Entry e[] = { { 0x00, 0x83, 2048, 4096 }, { 0x80, 0x83, 6144, 4096 } };
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, e, 2);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_true(pp_mbr_choose(&mbr, 16 * MIB, &p, &why, &error));
    assert_int_equal(p.index, 2);
    (void)state;
}

static void
test_mbr_offset_past_the_end_fails(void **state)
{
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, vm_disk, 1);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    /* An image cut at 512 KiB: the partition starts at 1 MiB. */
    assert_false(pp_mbr_choose(&mbr, 512 * 1024, &p, &why, &error));
    assert_error(error, PP_DISK_ERROR_TRUNCATED,
                 "partition 1 starts at byte 1048576, past the end of the image");
    (void)state;
}

static void
test_mbr_end_past_the_end_fails(void **state)
{
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, vm_disk, 1);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_false(pp_mbr_choose(&mbr, 100 * MIB, &p, &why, &error));
    assert_error(error, PP_DISK_ERROR_TRUNCATED, "partition 1 ends at byte 536870912");
    (void)state;
}

static void
test_mbr_gpt_refused(void **state)
{
    const Entry e[] = { { 0x00, 0xee, 1, 0xffffffff } };
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, e, 1);
    PpMbr mbr;
    PpMbrPartition p;
    const char *why = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_false(pp_mbr_choose(&mbr, 512 * MIB, &p, &why, &error));
    assert_error(error, PP_DISK_ERROR_UNSUPPORTED, "a GPT disk");
    (void)state;
}

/* A FAT volume's boot sector ends in 55 aa too; its "table" is code. */
static void
test_mbr_boot_sector_refused(void **state)
{
    guint8 s[PP_DISK_SECTOR];
    make_mbr(s, vm_disk, 1);
    s[446 + 16] = 0x3c;
    PpMbr mbr;
    g_autoptr(GError) error = NULL;
    assert_false(pp_mbr_parse(s, sizeof s, &mbr, &error));
    assert_error(error, PP_DISK_ERROR_NOT_AN_IMAGE, "entry 2's status byte is 0x3c");
    (void)state;
}

/* ---- superblock and detection ---------------------------------------- */

static void
test_superblock_parsed(void **state)
{
    guint8 sb[PP_EXT_SUPERBLOCK_BYTES];
    make_superblock(sb, 1000);
    PpExtInfo fs;
    g_autoptr(GError) error = NULL;
    assert_true(pp_ext_superblock_parse(sb, sizeof sb, &fs, &error));
    assert_string_equal(fs.type, "ext4");
    assert_int_equal(fs.block_size, 4096);
    assert_int_equal(fs.bytes, 1000 * 4096);
    assert_string_equal(fs.label, "root");
    assert_false(fs.needs_recovery);
    /* 64bit: the high half of the block count counts too. */
    put_le32(sb + 0x60, 0x40 | 0x80);
    put_le32(sb + 0x150, 1);
    assert_true(pp_ext_superblock_parse(sb, sizeof sb, &fs, &error));
    assert_int_equal(fs.bytes, (G_GUINT64_CONSTANT(1) << 32 | 1000) * 4096);
    /* needs_recovery: the journal was not replayed. */
    put_le32(sb + 0x60, 0x40 | 0x4);
    assert_true(pp_ext_superblock_parse(sb, sizeof sb, &fs, &error));
    assert_true(fs.needs_recovery);
    (void)state;
}

static void
test_superblock_bad_magic_fails(void **state)
{
    guint8 sb[PP_EXT_SUPERBLOCK_BYTES];
    make_superblock(sb, 1000);
    sb[0x38] = 0;
    PpExtInfo fs;
    g_autoptr(GError) error = NULL;
    assert_false(pp_ext_superblock_parse(sb, sizeof sb, &fs, &error));
    assert_error(error, PP_DISK_ERROR_UNSUPPORTED, "magic 0xef00, not 0xef53");
    (void)state;
}

static void
test_detect_bare_filesystem(void **state)
{
    guint8 head[PP_DISK_HEAD_BYTES] = { 0 };
    make_superblock(head + PP_EXT_SUPERBLOCK_OFFSET, 1000);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_true(pp_disk_detect(head, sizeof head, 1000 * 4096, &l, &error));
    assert_int_equal(l.kind, PP_DISK_LAYOUT_BARE);
    assert_int_equal(l.offset, 0);
    assert_true(pp_ext_superblock_parse(head + PP_EXT_SUPERBLOCK_OFFSET,
                                        PP_EXT_SUPERBLOCK_BYTES, &l.fs, &error));
    assert_true(pp_disk_check_fits(&l, &error));
    (void)state;
}

/* The twin: the same filesystem, the image one block short. */
static void
test_detect_bare_filesystem_cut_short_fails(void **state)
{
    guint8 head[PP_DISK_HEAD_BYTES] = { 0 };
    make_superblock(head + PP_EXT_SUPERBLOCK_OFFSET, 1000);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_true(pp_disk_detect(head, sizeof head, 999 * 4096, &l, &error));
    assert_true(pp_ext_superblock_parse(head + PP_EXT_SUPERBLOCK_OFFSET,
                                        PP_EXT_SUPERBLOCK_BYTES, &l.fs, &error));
    assert_false(pp_disk_check_fits(&l, &error));
    assert_error(error, PP_DISK_ERROR_TRUNCATED, "past the end of the image");
    (void)state;
}

static void
test_detect_mbr_disk(void **state)
{
    guint8 head[PP_DISK_HEAD_BYTES] = { 0 };
    make_mbr(head, vm_disk, 1);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_true(pp_disk_detect(head, sizeof head, 512 * MIB, &l, &error));
    assert_int_equal(l.kind, PP_DISK_LAYOUT_MBR);
    assert_int_equal(l.offset, MIB);
    g_autofree char *d = pp_disk_layout_describe(&l);
    assert_string_equal(d, "MBR partition 1 (bootable, type 0x83) at offset 1048576");
    (void)state;
}

static void
test_detect_garbage_fails(void **state)
{
    guint8 head[PP_DISK_HEAD_BYTES];
    for (guint i = 0; i < sizeof head; i++) {
        head[i] = (guint8)(i * 7 + 3);
    }
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_false(pp_disk_detect(head, sizeof head, 4 * MIB, &l, &error));
    assert_error(error, PP_DISK_ERROR_NOT_AN_IMAGE,
                 "not a disk image: no MBR (bytes 510-511 are");
    (void)state;
}

/* ---- pp_disk_probe on a file ------------------------------------------ */

/* A sparse 8 MiB disk: MBR, partition 1 at 1 MiB (7 MiB), and there an
 * ext4 superblock of 7 MiB. */
static char *
make_disk_file(const char *dir)
{
    char *path = g_build_filename(dir, "disk.img", NULL);
    const Entry e[] = { { 0x80, 0x83, 2048, 14336 } };
    guint8 mbr[PP_DISK_SECTOR];
    guint8 sb[PP_EXT_SUPERBLOCK_BYTES];
    make_mbr(mbr, e, 1);
    make_superblock(sb, 7 * MIB / 4096);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, mbr, sizeof mbr, 0), sizeof mbr);
    assert_int_equal(pwrite(fd, sb, sizeof sb, MIB + 1024), sizeof sb);
    assert_int_equal(ftruncate(fd, 8 * MIB), 0);
    close(fd);
    return path;
}

static void
rm_dir(const char *dir, const char *file)
{
    (void)g_unlink(file);
    (void)g_rmdir(dir);
}

static void
test_probe_disk_file(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("pp-disk-XXXXXX", NULL);
    g_autofree char *path = make_disk_file(dir);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    if (!pp_disk_probe(path, &l, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(l.offset, MIB);
    assert_int_equal(l.fs.bytes, 7 * MIB);
    assert_int_equal(l.image_bytes, 8 * MIB);
    rm_dir(dir, path);
    (void)state;
}

static void
test_probe_truncated_disk_file_fails(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("pp-disk-XXXXXX", NULL);
    g_autofree char *path = make_disk_file(dir);
    assert_int_equal(truncate(path, 4 * MIB), 0);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_false(pp_disk_probe(path, &l, &error));
    assert_error(error, PP_DISK_ERROR_TRUNCATED, "partition 1 ends at byte 8388608");
    assert_non_null(strstr(error->message, path));
    rm_dir(dir, path);
    (void)state;
}

static void
test_probe_missing_file_fails(void **state)
{
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_false(pp_disk_probe("/nonexistent/disk.img", &l, &error));
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    assert_non_null(strstr(error->message, "open(/nonexistent/disk.img)"));
    (void)state;
}

/* ---- GPT disks made with sfdisk and mke2fs -d ----------------------------- */

/* A program of e2fsprogs or util-linux, in PATH or /usr/sbin, /sbin. */
static char *
find_tool(const char *name)
{
    char *p = g_find_program_in_path(name);
    for (guint i = 0; p == NULL && i < 2; i++) {
        char *c = g_build_filename(i == 0 ? "/usr/sbin" : "/sbin", name, NULL);
        if (g_file_test(c, G_FILE_TEST_IS_EXECUTABLE)) {
            p = c;
        } else {
            g_free(c);
        }
    }
    return p;
}

static gboolean
have_tools(void)
{
    g_autofree char *a = find_tool("sfdisk");
    g_autofree char *b = find_tool("mke2fs");
    g_autofree char *c = find_tool("debugfs");
    return a != NULL && b != NULL && c != NULL;
}

/* Run argv with input on stdin; fail the test unless it exits 0. */
static void
run_tool(const char *const *argv, const char *input)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
              | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
    if (p == NULL) {
        fail_msg("%s: %s", argv[0], error->message);
    }
    g_autofree char *out = NULL;
    if (!g_subprocess_communicate_utf8(p, input, NULL, &out, NULL, &error)) {
        fail_msg("%s: %s", argv[0], error->message);
    }
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0) {
        fail_msg("%s failed: %s", argv[0], out != NULL ? out : "");
    }
}

/* A FAT16 boot sector for a 16 MiB volume, as mkfs.vfat writes one
 * (libblkid's vfat prober checks these fields). */
static void
make_fat16(guint8 *bs)
{
    memset(bs, 0, PP_DISK_SECTOR);
    memcpy(bs, "\xeb\x3c\x90" "MSDOS5.0", 11);
    bs[11] = 0x00; bs[12] = 0x02;               /* 512 bytes a sector */
    bs[13] = 4;                                 /* sectors a cluster */
    bs[14] = 1;                                 /* reserved sectors */
    bs[16] = 2;                                 /* FATs */
    bs[17] = 0x00; bs[18] = 0x02;               /* 512 root entries */
    bs[19] = 0x00; bs[20] = 0x80;               /* 32768 sectors */
    bs[21] = 0xf8;                              /* media */
    bs[22] = 32;                                /* sectors a FAT */
    bs[24] = 32; bs[26] = 64;
    bs[36] = 0x80; bs[38] = 0x29;
    memcpy(bs + 39, "\x12\x34\x56\x78" "NO NAME    " "FAT16   ", 4 + 11 + 8);
    bs[510] = 0x55; bs[511] = 0xaa;
}

/* mke2fs -d TREE as an 8 MiB ext4 written at offset of disk. */
static void
put_ext4(const char *dir, const char *disk, guint64 offset, const char *tree)
{
    g_autofree char *mke2fs = find_tool("mke2fs");
    g_autofree char *fs = g_build_filename(dir, "fs.img", NULL);
    const char *argv[] = { mke2fs, "-q", "-F", "-t", "ext4", "-d", tree, fs,
                           "8M", NULL };
    run_tool(argv, NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(fs, &bytes, &len, NULL));
    int fd = open(disk, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, len, (off_t)offset), (ssize_t)len);
    close(fd);
    (void)g_unlink(fs);
}

/*
 * A 40 MiB GPT disk in dir: 1 "esp" FAT16 at 1 MiB (16 MiB), then when
 * with_linux 2 "data" (ext4, a file) at 17 MiB and 3 "root" (ext4 with
 * ostree/ when root_has_ostree) at 25 MiB, 8 MiB each.
 */
static char *
make_gpt_disk(const char *dir, gboolean with_linux, gboolean root_has_ostree)
{
    char *path = g_build_filename(dir, "gpt.img", NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 40 * MIB), 0);
    close(fd);
    g_autofree char *sfdisk = find_tool("sfdisk");
    const char *argv[] = { sfdisk, "-q", path, NULL };
    run_tool(argv, with_linux
             ? "label: gpt\nstart=2048, size=16M, type=uefi, name=esp\n"
               "size=8M, type=linux, name=data\nsize=8M, type=linux, name=root\n"
             : "label: gpt\nstart=2048, size=16M, type=uefi, name=esp\n");
    guint8 bs[PP_DISK_SECTOR];
    make_fat16(bs);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_int_equal(pwrite(fd, bs, sizeof bs, MIB), sizeof bs);
    close(fd);
    if (with_linux) {
        g_autofree char *data = g_build_filename(dir, "data", NULL);
        g_autofree char *root = g_build_filename(dir, "root", NULL);
        g_autofree char *ostree = g_build_filename(root, "ostree", "repo", NULL);
        g_autofree char *other = g_build_filename(root, "etc", NULL);
        g_autofree char *f = g_build_filename(data, "f", NULL);
        assert_int_equal(g_mkdir_with_parents(data, 0755), 0);
        assert_true(g_file_set_contents(f, "data\n", -1, NULL));
        assert_int_equal(g_mkdir_with_parents(root_has_ostree ? ostree : other,
                                              0755), 0);
        put_ext4(dir, path, 17 * MIB, data);
        put_ext4(dir, path, 25 * MIB, root);
    }
    return path;
}

static void
rm_tree(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_probe_gpt_root_holds_ostree(void **state)
{
    if (!have_tools()) {
        skip();
    }
    g_autofree char *dir = g_dir_make_tmp("pp-gpt-XXXXXX", NULL);
    g_autofree char *path = make_gpt_disk(dir, TRUE, TRUE);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    if (!pp_disk_probe(path, &l, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(l.kind, PP_DISK_LAYOUT_GPT);
    assert_string_equal(l.table, "gpt");
    assert_int_equal(l.n_parts, 3);
    assert_string_equal(l.parts[0].fs, "vfat");
    assert_string_equal(l.parts[0].name, "esp");
    assert_string_equal(l.parts[1].fs, "ext4");
    assert_string_equal(l.parts[2].fs, "ext4");
    assert_int_equal(l.part.index, 3);
    assert_int_equal(l.offset, 25 * MIB);
    assert_string_equal(l.fs.type, "ext4");
    assert_non_null(strstr(l.why, "ostree/"));
    g_autofree char *d = pp_disk_layout_describe(&l);
    assert_non_null(strstr(d, "GPT partition 3 (\"root\""));
    g_autoptr(JsonObject) j = pp_disk_layout_to_json(&l);
    assert_string_equal(json_object_get_string_member(j, "table"), "gpt");
    assert_int_equal(json_object_get_int_member(j, "partition"), 3);
    assert_int_equal(json_array_get_length(json_object_get_array_member(j, "partitions")), 3);
    rm_tree(dir);
    (void)state;
}

/* The twin: no partition holds ostree/: the first ext4 one. */
static void
test_probe_gpt_first_ext_without_ostree(void **state)
{
    if (!have_tools()) {
        skip();
    }
    g_autofree char *dir = g_dir_make_tmp("pp-gpt-XXXXXX", NULL);
    g_autofree char *path = make_gpt_disk(dir, TRUE, FALSE);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    if (!pp_disk_probe(path, &l, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(l.part.index, 2);
    assert_int_equal(l.offset, 17 * MIB);
    assert_non_null(strstr(l.why, "first ext2/3/4"));
    rm_tree(dir);
    (void)state;
}

static void
test_probe_gpt_fat_only_refused(void **state)
{
    if (!have_tools()) {
        skip();
    }
    g_autofree char *dir = g_dir_make_tmp("pp-gpt-XXXXXX", NULL);
    g_autofree char *path = make_gpt_disk(dir, FALSE, FALSE);
    PpDiskLayout l;
    g_autoptr(GError) error = NULL;
    assert_false(pp_disk_probe(path, &l, &error));
    assert_error(error, PP_DISK_ERROR_NO_PARTITION,
                 "gpt partition table without an ext2/3/4 partition (1: vfat");
    assert_non_null(strstr(error->message, path));
    assert_non_null(strstr(error->message, "\"esp\""));
    rm_tree(dir);
    (void)state;
}

/* pp_gpt_choose alone: a partition past the end is not chosen, and a
 * disk with nothing else is called truncated. */
static gboolean
never_ostree(const PpDiskPart *p, gpointer data, gboolean *has, GError **error)
{
    (void)p; (void)data; (void)error;
    *has = FALSE;
    return TRUE;
}

static void
test_gpt_choose_past_end_is_truncated(void **state)
{
    PpDiskLayout l;
    memset(&l, 0, sizeof l);
    l.table = "gpt";
    l.image_bytes = 4 * MIB;
    l.n_parts = 1;
    l.parts[0] = (PpDiskPart){ .number = 1, .offset = MIB, .bytes = 8 * MIB,
                               .type = "0fc63daf", .fs = "past-end" };
    g_autoptr(GError) error = NULL;
    assert_false(pp_gpt_choose(&l, never_ostree, NULL, &error));
    assert_error(error, PP_DISK_ERROR_TRUNCATED, "gpt partition table without");
    assert_non_null(strstr(error->message, "1: past-end"));
    (void)state;
}

/* ---- debugfs ls -p lines ------------------------------------------------ */

static void
test_debugfs_ls_lines(void **state)
{
    PpDebugfsEntry e;
    g_autoptr(GError) error = NULL;
    assert_true(pp_debugfs_parse_ls_line("/14/100644/0/0/boot.scr/2640/", &e, &error));
    assert_int_equal(e.ino, 14);
    assert_int_equal(e.mode, 0100644);
    assert_string_equal(e.name, "boot.scr");
    assert_true(pp_debugfs_parse_ls_line("/16/041777/1000/5/tmp dir//", &e, &error));
    assert_int_equal(e.mode, 041777);
    assert_int_equal(e.uid, 1000);
    assert_int_equal(e.gid, 5);
    assert_string_equal(e.name, "tmp dir");
    /* an unused slot of a directory block */
    assert_true(pp_debugfs_parse_ls_line("/0/000000/0/0//0/", &e, &error));
    assert_int_equal(e.ino, 0);
    (void)state;
}

static void
test_debugfs_ls_bad_lines_fail(void **state)
{
    static const char *const bad[] = {
        "debugfs: ls -p \"/\"",
        "/12/040755/0/0/a/b/c/",    /* a name cannot hold '/' */
        "/x/040755/0/0/a//",
        "/12/040758/0/0/a//",       /* not octal */
        "/12/040755/0/0///",        /* no name, inode not 0 */
        "ontinued name/12/",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        PpDebugfsEntry e;
        g_autoptr(GError) error = NULL;
        if (pp_debugfs_parse_ls_line(bad[i], &e, &error)) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_non_null(strstr(error->message, "debugfs ls -p"));
    }
    (void)state;
}

/* ---- the stat overlay ----------------------------------------------------- */

static void
test_stat_overlay_applies_by_inode(void **state)
{
    g_autoptr(PpStatOverlay) o = pp_stat_overlay_new();
    pp_stat_overlay_set(o, 3, 42, 01777, 0, 0);
    struct stat st = { .st_dev = 3, .st_ino = 42, .st_mode = S_IFDIR | 0777,
                       .st_uid = 1000, .st_gid = 1000 };
    pp_stat_overlay_apply(o, &st);
    assert_int_equal(st.st_mode, S_IFDIR | 01777);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_gid, 0);
    assert_int_equal(pp_stat_overlay_size(o), 1);
    (void)state;
}

/* The twin: another inode (or no overlay) is left as it is. */
static void
test_stat_overlay_leaves_others(void **state)
{
    g_autoptr(PpStatOverlay) o = pp_stat_overlay_new();
    pp_stat_overlay_set(o, 3, 42, 01777, 0, 0);
    struct stat st = { .st_dev = 4, .st_ino = 42, .st_mode = S_IFREG | 0644,
                       .st_uid = 1000, .st_gid = 1000 };
    pp_stat_overlay_apply(o, &st);
    pp_stat_overlay_apply(NULL, &st);
    assert_int_equal(st.st_mode, S_IFREG | 0644);
    assert_int_equal(st.st_uid, 1000);
    (void)state;
}

/* An attribute the host refused, kept in the overlay, counts in the
 * content checksum as if it were on the file. */
static void
test_overlay_xattrs_in_checksum(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("pp-xattr-XXXXXX", NULL);
    g_autofree char *a = g_build_filename(dir, "a", NULL);
    g_autofree char *b = g_build_filename(dir, "b", NULL);
    assert_true(g_file_set_contents(a, "same\n", -1, NULL));
    assert_true(g_file_set_contents(b, "same\n", -1, NULL));
    if (setxattr(a, "user.pp", "v1", 2, 0) < 0) {
        rm_tree(dir);
        skip();                 /* no user xattrs here */
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    struct stat sa;
    struct stat sb;
    assert_int_equal(fstatat(dfd, "a", &sa, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(fstatat(dfd, "b", &sb, AT_SYMLINK_NOFOLLOW), 0);
    g_autofree char *want = NULL;
    g_autofree char *plain = NULL;
    assert_true(ostree_checksum_file_at(dfd, "a", &sa, OSTREE_OBJECT_TYPE_FILE,
                                        OSTREE_CHECKSUM_FLAGS_NONE, &want, NULL, NULL));
    assert_true(ostree_checksum_file_at(dfd, "b", &sb, OSTREE_OBJECT_TYPE_FILE,
                                        OSTREE_CHECKSUM_FLAGS_NONE, &plain, NULL, NULL));
    assert_string_not_equal(want, plain);

    g_autoptr(PpStatOverlay) o = pp_stat_overlay_new();
    assert_null(pp_stat_overlay_get_xattrs(o, &sb));
    pp_stat_overlay_add_xattr(o, sb.st_dev, sb.st_ino, "user.pp", "v1", 2);
    g_autoptr(GVariant) extra = pp_stat_overlay_get_xattrs(o, &sb);
    assert_non_null(extra);
    assert_int_equal(g_variant_n_children(extra), 1);
    assert_null(pp_stat_overlay_get_xattrs(o, &sa));
    g_autofree char *got = NULL;
    g_autoptr(GError) error = NULL;
    if (!pp_oracle_checksum_with_xattrs(dfd, "b", &sb, extra, &got, &error)) {
        fail_msg("%s", error->message);
    }
    assert_string_equal(got, want);
    close(dfd);
    rm_tree(dir);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbr_bootable_linux_chosen),
        cmocka_unit_test(test_mbr_no_signature_fails),
        cmocka_unit_test(test_mbr_first_linux_when_bootable_is_fat),
        cmocka_unit_test(test_mbr_no_linux_partition_fails),
        cmocka_unit_test(test_mbr_bootable_preferred_to_first),
        cmocka_unit_test(test_mbr_offset_past_the_end_fails),
        cmocka_unit_test(test_mbr_end_past_the_end_fails),
        cmocka_unit_test(test_mbr_gpt_refused),
        cmocka_unit_test(test_mbr_boot_sector_refused),
        cmocka_unit_test(test_superblock_parsed),
        cmocka_unit_test(test_superblock_bad_magic_fails),
        cmocka_unit_test(test_detect_bare_filesystem),
        cmocka_unit_test(test_detect_bare_filesystem_cut_short_fails),
        cmocka_unit_test(test_detect_mbr_disk),
        cmocka_unit_test(test_detect_garbage_fails),
        cmocka_unit_test(test_probe_disk_file),
        cmocka_unit_test(test_probe_truncated_disk_file_fails),
        cmocka_unit_test(test_probe_missing_file_fails),
        cmocka_unit_test(test_probe_gpt_root_holds_ostree),
        cmocka_unit_test(test_probe_gpt_first_ext_without_ostree),
        cmocka_unit_test(test_probe_gpt_fat_only_refused),
        cmocka_unit_test(test_gpt_choose_past_end_is_truncated),
        cmocka_unit_test(test_debugfs_ls_lines),
        cmocka_unit_test(test_debugfs_ls_bad_lines_fail),
        cmocka_unit_test(test_stat_overlay_applies_by_inode),
        cmocka_unit_test(test_stat_overlay_leaves_others),
        cmocka_unit_test(test_overlay_xattrs_in_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
