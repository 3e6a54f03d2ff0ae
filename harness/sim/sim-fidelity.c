/* SPDX-License-Identifier: MIT */
/*
 * simfidelity.c: does the trace explain the run it was recorded from?
 *
 * Every crash state is built from the trace alone, so a trace that is
 * read wrongly (a call the shim did not see, a descriptor attributed to
 * the wrong file) gives wrong states and wrong verdicts, silently.  There
 * is one state the models must agree on with reality: process-kill at the
 * end of the trace is every call applied, which is exactly the directory
 * the recorded run left behind.  Comparing the two catches such errors
 * before a single case is judged.
 *
 * Compared: the set of names, each entry's type and permission bits, the
 * content of regular files and the target of symlinks.  Not compared:
 * owners (the client ran in a user namespace), times, and which names are
 * hardlinks of one file (the models keep hardlinks, but a checkout's
 * hardlink-or-copy choice is not what this check is about).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/sim-fidelity.h"
#include "common/fs.h"
#include "common/util.h"

#define MAX_DIFFS 5

static int
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
sorted_names(const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    if (d == NULL) {
        return NULL;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, cmp_names);
    return names;
}

static void
note(GPtrArray *diffs, const char *rel, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
note(GPtrArray *diffs, const char *rel, const char *fmt, ...)
{
    if (diffs->len >= MAX_DIFFS) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(diffs, g_strdup_printf("%s: %s", rel[0] ? rel : ".",
                                           what));
}

/* First differing byte of two regular files, or -1 when equal. */
static gboolean
first_difference(const char *a, const char *b, gint64 *out_at, GError **error)
{
    g_autofree char *ca = NULL, *cb = NULL;
    gsize la = 0, lb = 0;
    if (!g_file_get_contents(a, &ca, &la, error)
        || !g_file_get_contents(b, &cb, &lb, error)) {
        return FALSE;
    }
    *out_at = -1;
    gsize n = MIN(la, lb);
    for (gsize i = 0; i < n; i++) {
        if (ca[i] != cb[i]) {
            *out_at = (gint64)i;
            return TRUE;
        }
    }
    if (la != lb) {
        *out_at = (gint64)n;
    }
    return TRUE;
}

static gboolean
compare_entry(const char *run_root, const char *model_root, const char *rel,
              GPtrArray *diffs, GError **error)
{
    g_autofree char *rp = g_build_filename(run_root, rel, NULL);
    g_autofree char *mp = g_build_filename(model_root, rel, NULL);
    struct stat rs, ms;
    gboolean r_ok = lstat(rp, &rs) == 0, m_ok = lstat(mp, &ms) == 0;
    if (!r_ok && !m_ok) {
        return TRUE;
    }
    if (!m_ok) {
        note(diffs, rel, "left by the run, absent from the trace's state");
        return TRUE;
    }
    if (!r_ok) {
        note(diffs, rel, "in the trace's state, not left by the run");
        return TRUE;
    }
    if ((rs.st_mode & S_IFMT) != (ms.st_mode & S_IFMT)) {
        note(diffs, rel, "type 0%o in the run, 0%o in the trace's state",
             rs.st_mode & S_IFMT, ms.st_mode & S_IFMT);
        return TRUE;
    }
    if (!S_ISLNK(rs.st_mode) && (rs.st_mode & 07777) != (ms.st_mode & 07777)) {
        note(diffs, rel, "mode %04o in the run, %04o in the trace's state",
             rs.st_mode & 07777, ms.st_mode & 07777);
    }
    if (S_ISLNK(rs.st_mode)) {
        g_autofree char *rt = g_file_read_link(rp, error);
        g_autofree char *mt = rt != NULL ? g_file_read_link(mp, error) : NULL;
        if (mt == NULL) {
            return FALSE;
        }
        if (strcmp(rt, mt) != 0) {
            note(diffs, rel, "symlink to %s in the run, to %s in the trace's "
                 "state", rt, mt);
        }
    } else if (S_ISREG(rs.st_mode)) {
        gint64 at = -1;
        if (!first_difference(rp, mp, &at, error)) {
            return FALSE;
        }
        if (at >= 0) {
            note(diffs, rel, "content differs from byte %" G_GINT64_FORMAT
                 " (%" G_GINT64_FORMAT " bytes in the run, %" G_GINT64_FORMAT
                 " in the trace's state)", at, (gint64)rs.st_size,
                 (gint64)ms.st_size);
        }
    } else if (S_ISDIR(rs.st_mode)) {
        g_autoptr(GPtrArray) rn = sorted_names(rp, error);
        g_autoptr(GPtrArray) mn = rn != NULL ? sorted_names(mp, error) : NULL;
        if (mn == NULL) {
            return FALSE;
        }
        /* Merge the two sorted lists: every name of either side once. */
        guint i = 0, j = 0;
        while (i < rn->len || j < mn->len) {
            const char *name;
            if (j >= mn->len || (i < rn->len
                                 && strcmp(rn->pdata[i], mn->pdata[j]) < 0)) {
                name = rn->pdata[i++];
            } else if (i >= rn->len
                       || strcmp(rn->pdata[i], mn->pdata[j]) > 0) {
                name = mn->pdata[j++];
            } else {
                name = rn->pdata[i++];
                j++;
            }
            g_autofree char *child = rel[0] ? g_build_filename(rel, name, NULL)
                                            : g_strdup(name);
            if (!compare_entry(run_root, model_root, child, diffs, error)) {
                return FALSE;
            }
        }
    }
    return TRUE;
}

/*
 * PLUGPULL_TEST_SPOIL_RECORDINGS=N: the first N recordings of this process
 * get a file the trace never made, so that the tests can see a recording
 * refused and made again (tests/integration/test-sim-fidelity.sh).
 */
static gboolean
spoil_for_test(const PpSimEnv *env, GError **error)
{
    static guint spoiled;
    const char *v = g_getenv("PLUGPULL_TEST_SPOIL_RECORDINGS");
    if (v == NULL || spoiled >= (guint)g_ascii_strtoull(v, NULL, 10)) {
        return TRUE;
    }
    spoiled++;
    g_autofree char *p = g_build_filename(env->root, "plugpull-test-spoiled",
                                          NULL);
    /* Not a result: spoils the tree under test. */
    return g_file_set_contents(p, "not in the trace\n", -1, error);
}

gboolean
pp_sim_replay_fidelity(CfiReplay *replay, guint n_records,
                       const char *run_root, const char *scratch,
                       char **out_diff, GError **error)
{
    *out_diff = NULL;
    if (g_file_test(scratch, G_FILE_TEST_EXISTS)
        && !pp_rm_rf(scratch, error)) {
        return FALSE;
    }
    if (!cfi_replay_materialise(replay, n_records, CFI_MODEL_PROCESS_KILL, 0,
                                scratch, NULL, error)) {
        g_prefix_error(error, "building the end state of the trace: ");
        pp_rm_rf(scratch, NULL);
        return FALSE;
    }
    g_autoptr(GPtrArray) diffs = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = compare_entry(run_root, scratch, "", diffs, error);
    pp_rm_rf(scratch, NULL);
    if (!ok) {
        g_prefix_error(error, "comparing the run's end state with the "
                       "trace's: ");
        return FALSE;
    }
    if (diffs->len > 0) {
        g_ptr_array_add(diffs, NULL);
        *out_diff = g_strjoinv("; ", (char **)diffs->pdata);
    }
    return TRUE;
}

gboolean
pp_sim_check_fidelity(PpSimEnv *env, char **out_diff, GError **error)
{
    *out_diff = NULL;
    if (!spoil_for_test(env, error)) {
        return FALSE;
    }
    g_autofree char *state = g_build_filename(env->states_dir,
                                              "fidelity-check", NULL);
    if (!pp_sim_replay_fidelity(env->replay, cfi_trace_n_records(env->trace),
                                env->root, state, out_diff, error)) {
        g_prefix_error(error, "%s: ", env->trace_path);
        return FALSE;
    }
    return TRUE;
}
