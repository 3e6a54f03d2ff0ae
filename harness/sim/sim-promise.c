/* SPDX-License-Identifier: MIT */
/*
 * sim-promise.c: see sim-promise.h.
 */
#include "sim/sim-promise.h"

#include "sim/sim-private.h"
#include "common/fs.h"

static void
promised_ref_free(PpPromisedRef *r)
{
    g_free(r->name);
    g_free(r->commit);
    g_free(r->before);
    g_free(r);
}

void
pp_promise_clear(PpPromise *p)
{
    g_clear_pointer(&p->boot_commit, g_free);
    g_clear_pointer(&p->boot_before, g_free);
    g_clear_pointer(&p->refs, g_ptr_array_unref);
    p->made = FALSE;
}

/* The commit j boots, when it boots a complete tree; else NULL. */
static const char *
boots_complete(const PpJudgement *j)
{
    if (j->outcome != PP_OUTCOME_PASS && j->outcome != PP_OUTCOME_NO_ROLLBACK) {
        return NULL;
    }
    if (j->booted < 0 || j->entries == NULL
        || (guint)j->booted >= j->entries->len) {
        return NULL;
    }
    const PpBootEntry *b = j->entries->pdata[j->booted];
    return b->commit;
}

static const PpRefInfo *
find_ref(const PpJudgement *j, const char *name)
{
    for (guint i = 0; j->repo.refs != NULL && i < j->repo.refs->len; i++) {
        const PpRefInfo *r = j->repo.refs->pdata[i];
        if (g_strcmp0(r->name, name) == 0) {
            return r;
        }
    }
    return NULL;
}

void
pp_promise_from_judgements(PpPromise *p, const PpJudgement *before,
                           const PpJudgement *left, gboolean exited_0)
{
    pp_promise_clear(p);
    p->made = exited_0;
    p->refs = g_ptr_array_new_with_free_func(
        (GDestroyNotify)promised_ref_free);
    const char *was = boots_complete(before);
    const char *now = boots_complete(left);
    p->boot_before = g_strdup(was);
    if (now != NULL && g_strcmp0(now, was) != 0) {
        p->boot_commit = g_strdup(now);
    }
    for (guint i = 0; left->repo.refs != NULL && i < left->repo.refs->len;
         i++) {
        const PpRefInfo *r = left->repo.refs->pdata[i];
        const PpRefInfo *b = find_ref(before, r->name);
        if (r->commit == NULL
            || (b != NULL && g_strcmp0(b->commit, r->commit) == 0)) {
            continue;
        }
        PpPromisedRef *pr = g_new0(PpPromisedRef, 1);
        pr->name = g_strdup(r->name);
        pr->commit = g_strdup(r->commit);
        pr->before = b != NULL ? g_strdup(b->commit) : NULL;
        g_ptr_array_add(p->refs, pr);
    }
}

gboolean
pp_promise_after_exit(guint k, guint n_records)
{
    return k >= n_records;
}

PpOutcome
pp_promise_judge(const PpPromise *p, gboolean after_exit,
                 const PpJudgement *j, PpOutcome oc, char **out_reason)
{
    *out_reason = NULL;
    if (!p->made || !after_exit
        || (oc != PP_OUTCOME_PASS && oc != PP_OUTCOME_NO_ROLLBACK)) {
        return oc;
    }
    if (p->boot_commit != NULL) {
        const char *boots = boots_complete(j);
        if (boots == NULL || g_strcmp0(boots, p->boot_commit) == 0) {
            return oc;
        }
        *out_reason = g_strdup_printf(
            "the client exited 0 having switched the default entry to "
            "%.12s, but after its exit the device boots %.12s (%s)",
            p->boot_commit, boots, g_strcmp0(boots, p->boot_before) == 0
            ? "the old version" : "not the promised version");
        return PP_OUTCOME_LOST_UPDATE;
    }
    if (!j->repo.checked) {
        return oc;
    }
    for (guint i = 0; p->refs != NULL && i < p->refs->len; i++) {
        const PpPromisedRef *pr = p->refs->pdata[i];
        const PpRefInfo *r = find_ref(j, pr->name);
        if (r != NULL && g_strcmp0(r->commit, pr->commit) == 0) {
            continue;
        }
        if (r == NULL) {
            *out_reason = g_strdup_printf(
                "the client exited 0 having written ref %s (%.12s), but "
                "after its exit the ref is gone", pr->name, pr->commit);
        } else {
            *out_reason = g_strdup_printf(
                "the client exited 0 having written ref %s (%.12s), but "
                "after its exit it points at %.12s (%s)", pr->name,
                pr->commit, r->commit, g_strcmp0(r->commit, pr->before) == 0
                ? "the old commit" : "not the written commit");
        }
        return PP_OUTCOME_LOST_UPDATE;
    }
    return oc;
}

/* Materialise cut k under process-kill into dir and judge it. */
static gboolean
judge_logical(PpSimEnv *env, guint k, const char *dir, PpJudgement **out,
              GError **error)
{
    CfiCrashStats stats;
    if (g_file_test(dir, G_FILE_TEST_EXISTS) && !pp_rm_rf(dir, error)) {
        return FALSE;
    }
    if (!cfi_replay_materialise(env->replay, k, CFI_MODEL_PROCESS_KILL,
                                env->seed, dir, &stats, error)) {
        return FALSE;
    }
    PpOracleOpts o = pp_sim_oracle_opts(env);
    gboolean ok = pp_oracle_judge(dir, env->known, &o, out, error);
    if (!pp_rm_rf(dir, ok ? error : NULL)) {
        return FALSE;
    }
    return ok;
}

gboolean
pp_sim_promise_derive(PpSimEnv *env, GError **error)
{
    guint n = cfi_trace_n_records(env->trace);
    g_autofree char *d0 = g_build_filename(env->states_dir, "promise-before",
                                           NULL);
    g_autofree char *dn = g_build_filename(env->states_dir, "promise-left",
                                           NULL);
    g_autoptr(PpJudgement) before = NULL;
    g_autoptr(PpJudgement) left = NULL;
    if (!judge_logical(env, 0, d0, &before, error)
        || !judge_logical(env, n, dn, &left, error)) {
        g_prefix_error(error, "what the client promised: ");
        return FALSE;
    }
    /* Outside [fault] a traced run that failed is refused before any
     * case; a [fault] run says its exit status (pp_fault_judge). */
    pp_promise_from_judgements(&env->promise, before, left, TRUE);
    return TRUE;
}

void
pp_sim_promise_apply(const PpSimEnv *env, guint k, const PpJudgement *j,
                     PpOutcome *oc, char **reason)
{
    g_autofree char *why = NULL;
    gboolean after = pp_promise_after_exit(k, cfi_trace_n_records(env->trace));
    PpOutcome v = pp_promise_judge(&env->promise, after, j, *oc, &why);
    if (why != NULL) {
        *oc = v;
        g_free(*reason);
        *reason = g_steal_pointer(&why);
    }
}
