/* SPDX-License-Identifier: MIT */
/*
 * trace-print.c: one readable line per record, for `plugpull trace dump`
 * and for diagnostics.  errno values are printed by name from our own table
 * rather than g_strerror(), so that dumps are stable across locales and
 * libc versions and can be grepped for "ENOSPC".
 */
#include "trace-reader.h"

#include <errno.h>

#include "cfi-calls.h"

static const struct {
    int err;
    const char *name;
} errno_names[] = {
    { EPERM, "EPERM" },         { ENOENT, "ENOENT" },
    { ESRCH, "ESRCH" },         { EINTR, "EINTR" },
    { EIO, "EIO" },             { ENXIO, "ENXIO" },
    { E2BIG, "E2BIG" },         { EBADF, "EBADF" },
    { EAGAIN, "EAGAIN" },       { ENOMEM, "ENOMEM" },
    { EACCES, "EACCES" },       { EFAULT, "EFAULT" },
    { EBUSY, "EBUSY" },         { EEXIST, "EEXIST" },
    { EXDEV, "EXDEV" },         { ENODEV, "ENODEV" },
    { ENOTDIR, "ENOTDIR" },     { EISDIR, "EISDIR" },
    { EINVAL, "EINVAL" },       { ENFILE, "ENFILE" },
    { EMFILE, "EMFILE" },       { ETXTBSY, "ETXTBSY" },
    { EFBIG, "EFBIG" },         { ENOSPC, "ENOSPC" },
    { ESPIPE, "ESPIPE" },       { EROFS, "EROFS" },
    { EMLINK, "EMLINK" },       { EPIPE, "EPIPE" },
    { ERANGE, "ERANGE" },       { ENAMETOOLONG, "ENAMETOOLONG" },
    { ENOSYS, "ENOSYS" },       { ENOTEMPTY, "ENOTEMPTY" },
    { ELOOP, "ELOOP" },         { ENODATA, "ENODATA" },
    { EOVERFLOW, "EOVERFLOW" }, { EOPNOTSUPP, "EOPNOTSUPP" },
    { EDQUOT, "EDQUOT" },       { ESTALE, "ESTALE" },
    { ETIMEDOUT, "ETIMEDOUT" }, { ECANCELED, "ECANCELED" },
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    { ENOTSUP, "ENOTSUP" },
#endif
};

const char *
cfi_errno_name(int err)
{
    for (gsize i = 0; i < G_N_ELEMENTS(errno_names); i++) {
        if (errno_names[i].err == err)
            return errno_names[i].name;
    }
    return NULL;
}

static const struct {
    guint32 flag;
    const char *name;
} flag_names[] = {
    { CFI_RF_INJECTED, "INJECTED" },
    { CFI_RF_NOT_EXECUTED, "NOT_EXECUTED" },
    { CFI_RF_CRASH, "CRASH" },
    { CFI_RF_FROM_FD, "FROM_FD" },
    { CFI_RF_TMPFILE, "TMPFILE" },
    { CFI_RF_DATA_TRUNC, "DATA_TRUNC" },
    { CFI_RF_PATH_FROM_FD, "PATH_FROM_FD" },
    { CFI_RF_SHORT, "SHORT" },
    { CFI_RF_DIR, "DIR" },
    { CFI_RF_AFTER, "AFTER" },
    { CFI_RF_INTERPOSED, "INTERPOSED" },
    { CFI_RF_FORWARDS, "FORWARDS" },
};

static void
append_flags(GString *out, guint32 flags)
{
    if (flags == 0)
        return;
    g_string_append(out, " [");
    gboolean first = TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(flag_names); i++) {
        if ((flags & flag_names[i].flag) == 0)
            continue;
        g_string_append_printf(out, "%s%s", first ? "" : ",",
                               flag_names[i].name);
        flags &= ~flag_names[i].flag;
        first = FALSE;
    }
    if (flags != 0)
        g_string_append_printf(out, "%s0x%x", first ? "" : ",", flags);
    g_string_append_c(out, ']');
}

gboolean
cfi_trace_format_record(const CfiRecord *r, GString *out)
{
    const struct cfi_rec *rec = r->rec;
    gboolean known = rec->op > CFI_OP_NONE && rec->op < CFI_OP_MAX;

    if (rec->op == CFI_OP_INTERPOSER) {
        /* A note, not a call (TRACE-FORMAT.md, "Interposer notes"). */
        gboolean opens = rec->call < CFI_CALL_COUNT &&
                         cfi_call_table[rec->call].op == CFI_OP_OPEN;
        const char *what = opens ? "O_SYNC/O_DSYNC" : "the sync";
        g_string_append_printf(
            out, "interposer %u: %s -> \"%s\" (", rec->pid,
            cfi_call_name(rec->call), r->path != NULL ? r->path : "");
        if (!(rec->arg & CFI_IP_PROBED))
            g_string_append(out, "not probed: not a barrier)");
        else
            g_string_append_printf(out, "probe: %s %s the kernel)", what,
                                   (rec->arg & CFI_IP_FORWARDS)
                                       ? "reaches" : "does not reach");
        return TRUE;
    }
    g_string_append_printf(out, "#%" G_GUINT64_FORMAT " %u/%u %s(%s)",
                           (guint64)rec->seq, rec->pid, rec->tid,
                           cfi_call_name(rec->call), cfi_op_name(rec->op));
    if (rec->fd >= 0)
        g_string_append_printf(out, " fd=%d", rec->fd);
    if (rec->fd2 >= 0)
        g_string_append_printf(out, " fd2=%d", rec->fd2);
    if (r->path != NULL)
        g_string_append_printf(out, " \"%s\"", r->path);
    if (r->path2 != NULL)
        g_string_append_printf(out, " -> \"%s\"", r->path2);
    if (rec->off >= 0)
        g_string_append_printf(out, " off=%" G_GINT64_FORMAT,
                               (gint64)rec->off);
    if (rec->len != 0)
        g_string_append_printf(out, " len=%" G_GUINT64_FORMAT,
                               (guint64)rec->len);
    if (rec->arg != 0)
        g_string_append_printf(out, " arg=0x%x", rec->arg);
    if (rec->arg2 != 0)
        g_string_append_printf(out, " arg2=0%" G_GINT64_MODIFIER "o",
                               (guint64)rec->arg2);
    if (rec->result == -1) {
        const char *en = cfi_errno_name(rec->err);
        if (en != NULL)
            g_string_append_printf(out, " = -1 %s", en);
        else
            g_string_append_printf(out, " = -1 errno %d", rec->err);
    } else {
        g_string_append_printf(out, " = %" G_GINT64_FORMAT,
                               (gint64)rec->result);
    }
    if (r->data_len != 0)
        g_string_append_printf(out, " data=%u", r->data_len);
    append_flags(out, rec->flags);
    return known;
}
