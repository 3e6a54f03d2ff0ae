/* SPDX-License-Identifier: MIT */
/*
 * guestfs.c: see guestfs.h.
 *
 * guestfish reads commands from its stdin, one per line; with a stdin
 * that is not a terminal it exits at the first command that fails, unless
 * the command starts with '-'.  After each group of commands an
 * `echo MARKER` line tells where that group's output ends on stdout.
 * Its stderr goes to a file in the private directory (read for messages):
 * a pipe nobody reads while stdout is awaited could fill up.
 */
#include "postmortem/guestfs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "common/accel.h"
#include "common/error.h"
#include "common/fs.h"
#include "postmortem/diskimage.h"
#include "postmortem/toolrun.h"

#define MARKER "@@plugpull-guestfish-done@@"
/* How long guestfish may take to stop its appliance once its stdin is
 * closed: seconds under TCG, generous for a loaded machine. */
#define FISH_EXIT_S 120

/* Filesystems worth mounting to look for ostree/: a sysroot's. */
static const char *const root_types[] = {
    "ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs",
};

void
pp_guestfs_read_free(PpGuestfsRead *r)
{
    if (r == NULL) {
        return;
    }
    g_free(r->guestfish);
    g_free(r->version);
    g_free(r->filesystems);
    g_free(r->device);
    g_free(r->fs_type);
    g_free(r);
}

typedef struct {
    GSubprocess *proc;
    GOutputStream *in;
    GDataInputStream *out;
    char *err_file;
    char *line;                 /* the command line, for messages */
    gboolean interrupted;       /* stop it at once: no graceful exit */
} Fish;

static void
on_waited(GObject *src, GAsyncResult *res, gpointer data)
{
    (void)g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
    *(gboolean *)data = TRUE;
}

static gboolean
on_wait_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/*
 * guestfish gone: at the end of its stdin it stops the appliance and
 * removes its temporary files itself; killed, it leaves them.  So its
 * stdin is closed first, and it is killed only when it has not exited
 * within FISH_EXIT_S (a command still running: tar-out of a large tree),
 * or at once after a SIGTERM (its files are in the private directory,
 * removed anyway).
 */
static void
fish_clear(Fish *f)
{
    if (f->proc != NULL) {
        if (f->in != NULL) {
            (void)g_output_stream_close(f->in, NULL, NULL);
        }
        gboolean done = FALSE;
        gboolean timed_out = FALSE;
        GMainContext *ctx = g_main_context_new();
        g_main_context_push_thread_default(ctx);
        g_subprocess_wait_async(f->proc, NULL, on_waited, &done);
        GSource *t = g_timeout_source_new_seconds(FISH_EXIT_S);
        g_source_set_callback(t, on_wait_timeout, &timed_out, NULL);
        g_source_attach(t, ctx);
        while (!done && !timed_out && !f->interrupted) {
            g_main_context_iteration(ctx, TRUE);
        }
        if (!done) {
            /* Its recovery process then stops the appliance's QEMU. */
            g_subprocess_force_exit(f->proc);
            while (!done) {
                g_main_context_iteration(ctx, TRUE);
            }
        }
        g_source_destroy(t);
        g_source_unref(t);
        g_main_context_pop_thread_default(ctx);
        g_main_context_unref(ctx);
    }
    g_clear_object(&f->in);
    g_clear_object(&f->out);
    g_clear_object(&f->proc);
    g_free(f->err_file);
    g_free(f->line);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Fish, fish_clear)

/* guestfish's stderr so far, stripped, for a message. */
static char *
fish_stderr(const Fish *f)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(f->err_file, &text, NULL, NULL)) {
        return g_strdup("");
    }
    return g_strdup(g_strstrip(text));
}

/* A quoted guestfish argument: double quotes, backslash escapes. */
static char *
fish_quote(const char *s)
{
    g_autoptr(GString) q = g_string_new("\"");
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            g_string_append_c(q, '\\');
        }
        g_string_append_c(q, *p);
    }
    g_string_append_c(q, '"');
    return g_string_free(g_steal_pointer(&q), FALSE);
}

/*
 * Send commands (lines), then the marker; read stdout up to the marker
 * into *lines (may be NULL).  guestfish exiting before the marker (a
 * command without '-' failed) is an error with its stderr.
 */
static gboolean
fish_do(Fish *f, const char *commands, volatile sig_atomic_t *interrupted,
        GPtrArray **lines, GError **error)
{
    g_autofree char *text = g_strconcat(commands, "\necho " MARKER "\n", NULL);
    if (!g_output_stream_write_all(f->in, text, strlen(text), NULL, NULL, error)
        || !g_output_stream_flush(f->in, NULL, error)) {
        g_autofree char *e = fish_stderr(f);
        g_prefix_error(error, "%s: writing to its stdin (%s): ", f->line, e);
        return FALSE;
    }
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
    for (;;) {
        if (interrupted != NULL && *interrupted) {
            f->interrupted = TRUE;
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                        "interrupted: %s stopped", f->line);
            return FALSE;
        }
        gsize len = 0;
        g_autoptr(GError) local = NULL;
        g_autofree char *l = g_data_input_stream_read_line(f->out, &len, NULL,
                                                           &local);
        if (l == NULL) {
            g_autofree char *e = fish_stderr(f);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "%s: %s at \"%s\": %s", f->line,
                        local != NULL ? local->message : "exited",
                        commands, *e != '\0' ? e : "(nothing on stderr)");
            return FALSE;
        }
        if (strcmp(l, MARKER) == 0) {
            break;
        }
        g_ptr_array_add(got, g_steal_pointer(&l));
    }
    if (lines != NULL) {
        *lines = g_steal_pointer(&got);
    }
    return TRUE;
}

static gboolean
is_root_type(const char *type)
{
    for (guint i = 0; i < G_N_ELEMENTS(root_types); i++) {
        if (strcmp(type, root_types[i]) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
fish_start(Fish *f, PpGuestfsRead *r, const char *image, const char *dir,
           GError **error)
{
    const char *accel = NULL;
    if (!pp_accel_choose(&accel, error)) {
        return FALSE;
    }
    f->err_file = g_build_filename(dir, "guestfish.err", NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_subprocess_launcher_set_stderr_file_path(l, f->err_file);
    g_subprocess_launcher_setenv(l, "LC_ALL", "C", TRUE);
    /* The appliance (supermin's, ~300 MB, built once from the host's
     * packages) is cached under $TMPDIR by default: a private $TMPDIR
     * would rebuild it each time and keep it there.  /var/tmp, libguestfs'
     * own default, unless the caller chose one. */
    g_subprocess_launcher_setenv(l, "LIBGUESTFS_CACHEDIR", "/var/tmp", FALSE);
    /* Its temporary files (the overlay of the --ro disk among them) in
     * the private directory: removed with it whatever happens. */
    g_subprocess_launcher_setenv(l, "LIBGUESTFS_TMPDIR", dir, TRUE);
    /* libvirt would need a daemon; the direct backend runs QEMU itself. */
    g_subprocess_launcher_setenv(l, "LIBGUESTFS_BACKEND", "direct", FALSE);
    if (strcmp(accel, "tcg") == 0) {
        /* A /dev/kvm that answers without vmx/svm hangs the appliance's
         * boot (accel.h): QEMU's kvm:tcg would take it. */
        g_subprocess_launcher_setenv(l, "LIBGUESTFS_BACKEND_SETTINGS",
                                     "force_tcg", FALSE);
    }
    g_autofree char *abs = g_canonicalize_filename(image, NULL);
    const char *argv[] = { r->guestfish, "--ro", "--format=raw", "-a", abs,
                           NULL };
    f->line = pp_tool_line(argv);
    f->proc = g_subprocess_launcher_spawnv(l, argv, error);
    if (f->proc == NULL) {
        g_prefix_error(error, "running %s: ", f->line);
        return FALSE;
    }
    f->in = g_object_ref(g_subprocess_get_stdin_pipe(f->proc));
    f->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->proc));
    return TRUE;
}

/* The filesystem holding ostree/ among those guestfish lists. */
static gboolean
choose_filesystem(Fish *f, PpGuestfsRead *r, const char *image,
                  volatile sig_atomic_t *interrupted, GError **error)
{
    g_autoptr(GPtrArray) fs = NULL;
    if (!fish_do(f, "list-filesystems", interrupted, &fs, error)) {
        return FALSE;
    }
    g_autoptr(GString) all = g_string_new(NULL);
    for (guint i = 0; i < fs->len; i++) {
        g_string_append_printf(all, "%s%s", i > 0 ? ", " : "",
                               (char *)fs->pdata[i]);
    }
    r->filesystems = g_strdup(all->len > 0 ? all->str : "none");
    for (guint i = 0; i < fs->len && r->device == NULL; i++) {
        /* "/dev/sda2: ext4" */
        const char *line = fs->pdata[i];
        const char *colon = strstr(line, ": ");
        if (colon == NULL || !is_root_type(colon + 2)) {
            continue;
        }
        g_autofree char *dev = g_strndup(line, (gsize)(colon - line));
        g_autofree char *qdev = fish_quote(dev);
        /* '-': a filesystem that does not mount is not the root. */
        g_autofree char *cmds = g_strdup_printf("-mount-ro %s /\n-is-dir /ostree\n"
                                                "-umount-all", qdev);
        g_autoptr(GPtrArray) said = NULL;
        if (!fish_do(f, cmds, interrupted, &said, error)) {
            return FALSE;
        }
        if (said->len > 0 && strcmp(said->pdata[0], "true") == 0) {
            r->device = g_steal_pointer(&dev);
            r->fs_type = g_strdup(colon + 2);
        }
    }
    if (r->device == NULL) {
        g_set_error(error, PP_DISK_ERROR, PP_DISK_ERROR_NO_PARTITION,
                    "%s: libguestfs finds no filesystem holding ostree/ "
                    "(its filesystems: %s)", image, r->filesystems);
        return FALSE;
    }
    return TRUE;
}

/* The host's tar unpacks what the appliance's wrote, owners (as root),
 * modes, hard links and extended attributes kept. */
static gboolean
untar(const char *tar, const char *sysroot, volatile sig_atomic_t *interrupted,
      GError **error)
{
    const char *argv[] = { "tar", "-x", "-f", tar, "-C", sysroot,
                           "--numeric-owner", "--same-permissions",
                           "--xattrs", "--xattrs-include=*", NULL };
    g_autofree char *err = NULL;
    if (!pp_tool_run(argv, NULL, 0, interrupted, NULL, &err, NULL, error)) {
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_guestfs_extract(const char *image, volatile sig_atomic_t *interrupted,
                   PpGuestfsRead **read, PpExtracted **out, GError **error)
{
    g_autoptr(PpGuestfsRead) r = g_new0(PpGuestfsRead, 1);
    g_autoptr(PpExtracted) x = g_new0(PpExtracted, 1);
    x->notes = g_ptr_array_new_with_free_func(g_free);
    x->overlay = pp_stat_overlay_new();
    r->guestfish = g_find_program_in_path("guestfish");
    if (r->guestfish == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "--reader guestfs: guestfish not found in PATH (Debian "
                    "package guestfish; tools/deps.sh guestfs)");
        return FALSE;
    }
    x->tmp_dir = g_dir_make_tmp("plugpull-inspect-XXXXXX", error);
    if (x->tmp_dir == NULL) {
        g_prefix_error(error, "making a temporary directory under %s: ",
                       g_get_tmp_dir());
        return FALSE;
    }
    x->sysroot = g_build_filename(x->tmp_dir, "sysroot", NULL);
    if (g_mkdir(x->sysroot, 0700) < 0) {
        return pp_throw_errno_prefix(error, "mkdir(%s)", x->sysroot);
    }
    g_auto(Fish) f = { 0 };
    if (!fish_start(&f, r, image, x->tmp_dir, error)) {
        return FALSE;
    }
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) v = NULL;
    if (!fish_do(&f, "version", interrupted, &v, error)) {
        return FALSE;
    }
    if (!fish_do(&f, "run", interrupted, NULL, error)) {
        g_prefix_error(error, "the libguestfs appliance did not start: ");
        return FALSE;
    }
    gint64 t1 = g_get_monotonic_time();
    r->launch_seconds = (double)(t1 - t0) / G_USEC_PER_SEC;
    if (!choose_filesystem(&f, r, image, interrupted, error)) {
        return FALSE;
    }
    gint64 t2 = g_get_monotonic_time();
    r->select_seconds = (double)(t2 - t1) / G_USEC_PER_SEC;
    g_autofree char *tar = g_build_filename(x->tmp_dir, "root.tar", NULL);
    g_autofree char *qdev = fish_quote(r->device);
    g_autofree char *qtar = fish_quote(tar);
    g_autofree char *cmds = g_strdup_printf(
        "mount-ro %s /\ntar-out / %s numericowner:true xattrs:true\n"
        "umount-all", qdev, qtar);
    if (!fish_do(&f, cmds, interrupted, NULL, error)) {
        return FALSE;
    }
    (void)fish_do(&f, "exit", interrupted, NULL, NULL);
    gint64 t3 = g_get_monotonic_time();
    r->tar_seconds = (double)(t3 - t2) / G_USEC_PER_SEC;
    GStatBuf st;
    r->tar_bytes = g_stat(tar, &st) == 0 ? (guint64)st.st_size : 0;
    if (!untar(tar, x->sysroot, interrupted, error)) {
        return FALSE;
    }
    (void)g_unlink(tar);
    r->untar_seconds = (double)(g_get_monotonic_time() - t3) / G_USEC_PER_SEC;
    /* "libguestfs: 1.48.6" and "guestfish: 1.48.6" */
    for (guint i = 0; i < v->len; i++) {
        const char *l = v->pdata[i];
        if (g_str_has_prefix(l, "major: ") && r->version == NULL) {
            r->version = g_strdup(l + 7);
        } else if (r->version != NULL && (g_str_has_prefix(l, "minor: ")
                                          || g_str_has_prefix(l, "release: "))) {
            char *nv = g_strdup_printf("%s.%s", r->version, strchr(l, ' ') + 1);
            g_free(r->version);
            r->version = nv;
        }
    }
    if (r->version == NULL) {
        r->version = g_strdup("unknown");
    }
    x->debugfs = g_strdup("guestfish");
    x->debugfs_version = g_strdup(r->version);
    if (geteuid() != 0) {
        g_ptr_array_add(x->notes, g_strdup(
                            "extracted by tar without root: the files are the "
                            "caller's, so owners (and setuid bits) differ from "
                            "the image's; run as root for a true verdict"));
    }
    *read = g_steal_pointer(&r);
    *out = g_steal_pointer(&x);
    return TRUE;
}

JsonObject *
pp_guestfs_read_to_json(const PpGuestfsRead *r)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "tool", "guestfish tar-out");
    json_object_set_string_member(o, "libguestfs_version", r->version);
    json_object_set_string_member(o, "filesystems", r->filesystems);
    json_object_set_string_member(o, "device", r->device);
    json_object_set_string_member(o, "type", r->fs_type);
    json_object_set_double_member(o, "launch_seconds", r->launch_seconds);
    json_object_set_double_member(o, "select_seconds", r->select_seconds);
    json_object_set_double_member(o, "tar_seconds", r->tar_seconds);
    json_object_set_double_member(o, "untar_seconds", r->untar_seconds);
    json_object_set_int_member(o, "tar_bytes", (gint64)r->tar_bytes);
    return o;
}
