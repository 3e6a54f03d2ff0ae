/* SPDX-License-Identifier: MIT */
/*
 * record.c: see record.h.
 */
#include "sim/record.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "common/client.h"
#include "trace-reader.h"
#include "common/util.h"

void
pp_recording_clear(PpRecording *r)
{
    g_clear_pointer(&r->root, g_free);
    g_clear_pointer(&r->snapshot, g_free);
    g_clear_pointer(&r->trace, g_free);
    g_clear_pointer(&r->boot_id, g_free);
    g_clear_pointer(&r->client_err, g_free);
}

gboolean
pp_copy_tree(const char *src, const char *dest, GError **error)
{
    g_autoptr(GSubprocess) p = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDERR_PIPE, error, "cp", "-a", "--reflink=auto",
        "--", src, dest, NULL);
    g_autofree char *err = NULL;
    if (p == NULL || !g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err,
                                                    error)) {
        g_prefix_error(error, "cp -a %s %s: ", src, dest);
        return FALSE;
    }
    if (!g_subprocess_get_successful(p)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cp -a %s %s: %s",
                    src, dest, err != NULL ? g_strchomp(err) : "failed");
        return FALSE;
    }
    return TRUE;
}

/*
 * Run argv under the shim tracing into trace, as the device would run it
 * after a fresh boot: a boot id of its own (ostree keys its staging
 * directories on it), downloads buffered outside the traced tree
 * (tmpdir), deployments left mutable so crash states can be deleted.
 */
static gboolean
run_traced(const char *firmware, const char *trace, const char *tmpdir,
           const char *boot_id,
           const char *const *argv, const char *const *extra_env,
           const char *rules, PpRecording *out, GError **error)
{
    out->boot_id = g_strdup(boot_id);
    g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(env, g_strdup_printf("OSTREE_BOOTID=%s", boot_id));
    g_ptr_array_add(env, g_strdup_printf("TMPDIR=%s", tmpdir));
    g_ptr_array_add(env, g_strdup("OSTREE_SYSROOT_DEBUG=mutable-deployments"));
    for (const char *const *e = extra_env; e != NULL && *e != NULL; e++) {
        g_ptr_array_add(env, g_strdup(*e));
    }
    g_ptr_array_add(env, NULL);
    g_autofree char *config = g_strdup_printf("mode=trace;trace=%s%s%s",
                                              trace,
                                              rules != NULL ? ";" : "",
                                              rules != NULL ? rules : "");
    PpClientOpts opts = {
        .config = config,
        .userns = TRUE,
        .env = (const char *const *)env->pdata,
        .capture = TRUE,
        .firmware = firmware,
    };
    PpClientResult res;
    gint64 t0 = g_get_monotonic_time();
    if (!pp_client_run(&opts, argv, &res, error)) {
        return FALSE;
    }
    out->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    out->exit_status = res.exit_status;
    out->client_err = g_steal_pointer(&res.err);
    pp_client_result_clear(&res);
    if (!g_file_test(trace, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "record: %s wrote no trace (exit %d): %s", argv[0],
                    out->exit_status, out->client_err);
        return FALSE;
    }
    return pp_trace_check_complete(trace, error);
}

gboolean
pp_record_client(const char *root, const char *workdir,
                 const char *const *argv, const char *const *extra_env,
                 PpRecording *out, GError **error)
{
    return pp_record_client_rules(root, workdir, argv, extra_env, NULL, out,
                                  error);
}

gboolean
pp_record_client_rules(const char *root, const char *workdir,
                       const char *const *argv, const char *const *extra_env,
                       const char *rules, PpRecording *out, GError **error)
{
    return pp_record_client_in(NULL, root, workdir, argv, extra_env, rules,
                               out, error);
}

gboolean
pp_record_client_in(const char *firmware, const char *root,
                    const char *workdir, const char *const *argv,
                    const char *const *extra_env, const char *rules,
                    PpRecording *out, GError **error)
{
    memset(out, 0, sizeof *out);
    g_autofree char *real = realpath(root, NULL);
    if (real == NULL) {
        pp_throw_errno_prefix(error, "realpath(%s)", root);
        return FALSE;
    }
    if (!pp_mkdir_p(workdir, error)) {
        return FALSE;
    }
    out->root = g_steal_pointer(&real);
    out->snapshot = g_build_filename(workdir, "snapshot", NULL);
    out->trace = g_build_filename(workdir, "trace.cfit", NULL);
    g_autofree char *tmpdir = g_build_filename(workdir, "tmp", NULL);
    if (g_file_test(out->snapshot, G_FILE_TEST_EXISTS)
        || g_file_test(out->trace, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "record: %s already holds a recording", workdir);
        return FALSE;
    }
    if (!pp_mkdir_p(tmpdir, error)) {
        return FALSE;
    }
    if (!pp_copy_tree(out->root, out->snapshot, error)) {
        return FALSE;
    }
    g_autofree char *boot_id = g_uuid_string_random();
    return run_traced(firmware, out->trace, tmpdir, boot_id, argv, extra_env,
                      rules, out, error);
}

gboolean
pp_trace_client(const char *root, const char *trace, const char *tmpdir,
                const char *boot_id, const char *const *argv,
                PpRecording *out, GError **error)
{
    return pp_trace_client_in(NULL, root, trace, tmpdir, boot_id, argv, out,
                              error);
}

gboolean
pp_trace_client_in(const char *firmware, const char *root, const char *trace,
                   const char *tmpdir, const char *boot_id,
                   const char *const *argv, PpRecording *out, GError **error)
{
    memset(out, 0, sizeof *out);
    out->root = realpath(root, NULL);
    if (out->root == NULL) {
        pp_throw_errno_prefix(error, "realpath(%s)", root);
        return FALSE;
    }
    out->trace = g_strdup(trace);
    if (g_file_test(trace, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "trace: %s already exists", trace);
        return FALSE;
    }
    if (!pp_mkdir_p(tmpdir, error)) {
        return FALSE;
    }
    return run_traced(firmware, trace, tmpdir, boot_id, argv, NULL, NULL,
                      out, error);
}

gboolean
pp_trace_check_complete(const char *path, GError **error)
{
    g_autoptr(CfiTrace) trace = cfi_trace_open(path, error);
    if (trace == NULL) {
        return FALSE;
    }
    guint64 off;
    const char *reason;
    if (cfi_trace_is_truncated(trace, &off, &reason)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                    "trace %s is damaged at byte %" G_GUINT64_FORMAT " (%s): "
                    "the client's disk may be full", path, off, reason);
        return FALSE;
    }
    /*
     * Every call took a sequence number before its record was written: a
     * number with no record is a record the shim could not write (disk
     * full).  Crash states built from such a trace would be wrong.
     */
    for (guint i = 0; i < cfi_trace_n_records(trace); i++) {
        guint64 seq = cfi_trace_get(trace, i)->rec->seq;
        if (seq != i) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                        "trace %s lost records: record %u has sequence "
                        "number %" G_GUINT64_FORMAT " (was the disk full?)",
                        path, i, seq);
            return FALSE;
        }
    }
    return TRUE;
}
