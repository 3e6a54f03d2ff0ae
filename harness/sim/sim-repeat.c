/* SPDX-License-Identifier: MIT */
/*
 * simrepeat.c: a case of repeated power cuts ([crash] repeat = K).
 *
 * A device whose power failed once is rebooted and resumes its update,
 * and the power can fail again during that resume.  The resume is a run
 * of the client nobody recorded, so it is traced when it runs: on a copy
 * of the crash state the cut left, to completion; its crash state at the
 * next cut is then built by the same power-loss model from its trace, on
 * top of the state it started from (which is that trace's snapshot).  The
 * point of the next cut is drawn among the resume's barrier points from
 * the seed and the schedule so far (schedule.h), so the same case cuts at
 * the same points on every machine; `plugpull replay` and `plugpull
 * minimize` give the points instead.
 *
 * Each cut's verdict is the oracle's on its crash state, then that of
 * the update resumed after it (which must end on the new version without
 * fetching again what was durable).  The first failing cut ends the
 * schedule: the states after it would grow from a device already known
 * to be bad.  With K cuts passed, a last uncut resume must converge.
 */
#include "sim/sim.h"

#include <string.h>

#include <glib/gstdio.h>

#include "cfi-calls.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/schedule.h"
#include "common/util.h"
#include "sim/record.h"
#include "sim/sim-bootview.h"
#include "sim/sim-private.h"
#include "common/tracestats.h"

/* Where cut k of a run falls: call, syscall, path, phase. */
static void
cut_describe(PpCut *cut, CfiTrace *trace, const char *root,
             const PpPhases *phases, guint k)
{
    cut->k = k;
    cut->records = cfi_trace_n_records(trace);
    cut->call = pp_sim_describe_call(trace, root, k);
    cut->phase = pp_phases_at(phases, k);
    if (k < cut->records) {
        const CfiRecord *r = cfi_trace_get(trace, k);
        cut->syscall = g_strdup(cfi_call_name(r->rec->call));
        const char *p = pp_sim_relative_path(r->path, root);
        cut->path = p != NULL ? g_strdup(p) : NULL;
    }
}

/*
 * The oracle on the crash state of cut->k of replay (trace, run under
 * root): the cut's outcome, reason, evidence.  A power cut is judged
 * through the bootloader's view too, as a single-cut case is (sim-case.c,
 * sim-bootview.h), built beside the state and removed after.
 */
static gboolean
cut_judge(PpSimEnv *env, CfiReplay *replay, CfiTrace *trace,
          const char *root, const char *state, PpCut *cut, GError **error)
{
    PpOracleOpts o = pp_sim_oracle_opts(env);
    PpBootViewBuilt bv = { 0 };
    gboolean views = !env->bootloader_replays_journal
                     && env->model != CFI_MODEL_PROCESS_KILL;
    g_autofree char *boot_view = views ? g_strconcat(state, "-bootview", NULL)
                                       : NULL;
    if (boot_view != NULL
        && !pp_sim_boot_view_build(replay, cut->k, env->model, env->seed,
                                   boot_view, &bv, error)) {
        g_prefix_error(error, "building the bootloader's view of %s: ", state);
        return FALSE;
    }
    o.boot_view = boot_view != NULL && !bv.same ? boot_view : NULL;
    g_autoptr(PpJudgement) j = NULL;
    gboolean ok = pp_oracle_judge(state, env->known, &o, &j, error);
    if (o.boot_view != NULL) {
        pp_rm_rf(boot_view, NULL);
    }
    if (!ok) {
        g_prefix_error(error, "judging the crash state %s: ", state);
        return FALSE;
    }
    cut->judgement = pp_judgement_to_json(j);
    if (boot_view != NULL) {
        pp_sim_boot_view_evidence(cut->judgement, trace, root, &bv,
                                  bv.same ? NULL : j);
    }
    PpOutcome oc = j->outcome;
    if (oc == PP_OUTCOME_NO_ROLLBACK && !env->check_rollback) {
        oc = PP_OUTCOME_PASS;
    }
    cut->reason = g_strdup(j->reason != NULL ? j->reason : "");
    if (!cut->in_resume) {
        /* The recorded update's promise; a resume's is not derived. */
        pp_sim_promise_apply(env, cut->k, j, &oc, &cut->reason);
    }
    cut->verdict = oc;
    return TRUE;
}

static void
cut_set_verdict(PpCut *cut, PpOutcome outcome, char *reason)
{
    g_free(cut->reason);
    cut->verdict = outcome;
    cut->reason = reason;
}

/* What the update resumed after cut did; its verdict when it failed. */
static void
cut_take_resume(PpSimEnv *env, PpCut *cut, const PpResumeResult *r)
{
    cut->resumed = TRUE;
    cut->resume_exit = r->exit_status;
    cut->resume_bytes = r->bytes;
    cut->resume_objects = r->objects;
    cut->resume_refetched = r->refetched;
    cut->durable_objects = r->durable;
    cut->resume_error = g_strdup(r->error);
    if (r->error != NULL) {
        cut_set_verdict(cut, PP_OUTCOME_STUCK, g_strdup(r->error));
    } else if (r->refetched > env->redownload_threshold) {
        cut_set_verdict(cut, PP_OUTCOME_REDOWNLOAD, g_strdup_printf(
            "the resumed update fetched %u objects that were durable before "
            "the cut (threshold %u)", r->refetched,
            env->redownload_threshold));
    }
}

static gboolean
record_is(CfiTrace *trace, const char *root, guint j, const PpCutHint *h)
{
    const CfiRecord *r = cfi_trace_get(trace, j);
    return g_strcmp0(cfi_call_name(r->rec->call), h->syscall) == 0
           && g_strcmp0(pp_sim_relative_path(r->path, root), h->path) == 0;
}

/*
 * The record nearest to point (the earlier one on a tie) that is the
 * hinted call; point itself when it is, or when no record is.  A call
 * without a path (a close, a write on a descriptor) says too little to be
 * looked for: its point is kept.
 */
static guint
follow_hint(CfiTrace *trace, const char *root, guint point,
            const PpCutHint *h)
{
    guint n = cfi_trace_n_records(trace);
    if (h == NULL || h->syscall == NULL || h->path == NULL || point >= n
        || record_is(trace, root, point, h)) {
        return point;
    }
    for (guint d = 1; d < n; d++) {
        if (d <= point && record_is(trace, root, point - d, h)) {
            return point - d;
        }
        if (point + d < n && record_is(trace, root, point + d, h)) {
            return point + d;
        }
    }
    return point;
}

/*
 * Cut the traced resume r (it ran from prev_state) at the given point or
 * at one drawn from its barrier points; materialise and judge the crash
 * state into state.  *out_cut gets the new cut.
 */
static gboolean
cut_resume(PpSimEnv *env, const char *trace_path, const PpResumeResult *r,
           const char *prev_state, const char *state, gboolean given,
           guint point, const PpCutHint *hint, const char *prefix_id,
           guint cut_no, PpCase *c, PpCut **out_cut, GError **error)
{
    g_autoptr(CfiTrace) trace = cfi_trace_open(trace_path, error);
    if (trace == NULL) {
        return FALSE;
    }
    g_autoptr(CfiReplay) replay = cfi_replay_new_opts(trace, r->root,
                                                      prev_state,
                                                      &env->device_fs, error);
    if (replay == NULL) {
        g_prefix_error(error, "interpreting the resume's trace %s: ",
                       trace_path);
        return FALSE;
    }
    guint n = cfi_trace_n_records(trace);
    PpCut *cut = g_new0(PpCut, 1);
    cut->in_resume = TRUE;
    cut->barriers = g_array_new(FALSE, FALSE, sizeof(guint));
    PpTraceStats st;
    pp_trace_stats_compute(trace, cut->barriers, &st);
    if (cut->barriers->len == 0) {
        /* A resume with nothing to order: only its end is a state. */
        g_array_append_val(cut->barriers, n);
    }
    if (!given) {
        guint i = pp_schedule_draw(env->seed, prefix_id, cut_no,
                                   cut->barriers->len);
        point = g_array_index(cut->barriers, guint, i);
    } else if (point > n) {
        cut->note = g_strdup_printf("the schedule's point %u is past the end "
                                    "of this resume's trace (%u calls): cut "
                                    "at its end", point, n);
        point = n;
    } else {
        guint found = follow_hint(trace, r->root, point, hint);
        if (found != point) {
            cut->note = g_strdup_printf("the recorded call (%s %s) is #%u "
                                        "in this run of the resume, not "
                                        "#%u: cut there", hint->syscall,
                                        hint->path, found, point);
            point = found;
        }
    }
    PpPhases phases = { 0 };
    pp_phases_classify(trace, r->root, &phases);
    cut_describe(cut, trace, r->root, &phases, point);
    pp_phases_clear(&phases);
    *out_cut = cut;

    gint64 t0 = g_get_monotonic_time();
    if (!cfi_replay_materialise(replay, point, env->model, env->seed, state,
                                &cut->stats, error)) {
        g_prefix_error(error, "building the crash state of cut %u: ",
                       cut_no);
        return FALSE;
    }
    gint64 t1 = g_get_monotonic_time();
    c->t_materialise += (double)(t1 - t0) / 1e6;
    gboolean ok = cut_judge(env, replay, trace, r->root, state, cut, error);
    c->t_judge += (double)(g_get_monotonic_time() - t1) / 1e6;
    return ok;
}

/*
 * PLUGPULL_KEEP_FAILED=DIR copies the crash states and resume traces of a
 * failing case into DIR (they are otherwise removed as the case goes, and
 * built on a tmpfs the campaign removes at its end): a failure that
 * depends on how the client's threads ran is not replayed by `plugpull
 * replay`, so its states are the only evidence there is.
 */
static void
drop_scratch(GPtrArray *paths, gboolean keep, gboolean failed)
{
    const char *kept = g_getenv("PLUGPULL_KEEP_FAILED");
    if (failed && kept != NULL && kept[0] != '\0') {
        g_autoptr(GError) error = NULL;
        gboolean ok = pp_mkdir_p(kept, &error);
        for (guint i = 0; ok && i < paths->len; i++) {
            g_autofree char *name = g_path_get_basename(paths->pdata[i]);
            g_autofree char *dest = g_build_filename(kept, name, NULL);
            ok = !g_file_test(paths->pdata[i], G_FILE_TEST_EXISTS)
                 || pp_copy_tree(paths->pdata[i], dest, &error);
        }
        if (!ok) {
            g_printerr("plugpull: keeping a failing case in %s: %s\n", kept,
                       error->message);
        }
    }
    for (guint i = 0; !keep && i < paths->len; i++) {
        const char *p = paths->pdata[i];
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            pp_rm_rf(p, NULL);
        } else {
            g_unlink(p);
        }
    }
}

/* How many times a traced resume is run before an unfaithful trace is a
 * harness fault. */
#define PP_SIM_RESUME_ATTEMPTS 3

/*
 * pp_sim_resume, and when traced, again while its trace does not replay
 * to the tree it left (sim-fidelity.h): the crash states of the next cut
 * come from that trace, and a wrong one would be judged as the device's.
 * Said on stderr each time; FALSE (a harness fault) after the last.
 */
static gboolean
resume_faithfully(PpSimEnv *env, const char *state, const char *name,
                  const char *trace, const char *boot_id, PpCase *c,
                  PpResumeResult *r, GError **error)
{
    for (guint attempt = 1;; attempt++) {
        pp_sim_resume(env, state, name, trace, boot_id, r);
        c->t_resume += r->seconds;
        if (r->unfaithful == NULL) {
            return TRUE;
        }
        g_printerr("plugpull: sim: resume %s, run %u of %u: its trace does "
                   "not replay to the tree it left (a harness fault; its "
                   "crash states cannot be trusted): %s\n", name, attempt,
                   PP_SIM_RESUME_ATTEMPTS, r->unfaithful);
        if (attempt == PP_SIM_RESUME_ATTEMPTS) {
            pp_throw_code(error, PP_ERROR_HARNESS, "resume %s: %u traced "
                          "runs, none replays to the tree it left: %s", name,
                          attempt, r->unfaithful);
            pp_resume_result_clear(r);
            return FALSE;
        }
        pp_resume_result_clear(r);
        g_unlink(trace);    /* the next run traces afresh */
    }
}

static char *
state_dir(PpSimEnv *env, const char *base, guint cut_no)
{
    return g_strdup_printf("%s/%s-c%u", env->states_dir, base, cut_no);
}

PpCase *
pp_sim_run_cuts(PpSimEnv *env, const guint *given, const PpCutHint *hints,
                guint n_given, guint repeat, gboolean keep_state,
                GError **error)
{
    g_return_val_if_fail(n_given >= 1 && repeat >= 1, NULL);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(PpCase) c = g_new0(PpCase, 1);
    c->farm_from = -1;
    c->repeat = repeat;
    c->cuts = g_ptr_array_new_with_free_func((GDestroyNotify)pp_cut_free);
    guint n_main = cfi_trace_n_records(env->trace);
    guint k1 = MIN(given[0], n_main);
    c->k = k1;
    c->state_name = cfi_crashstate_name(env->trace_path, k1, env->model,
                                        env->seed);
    c->phase = pp_phases_at(&env->phases, k1);
    c->call = pp_sim_describe_call(env->trace, env->root, k1);
    g_autoptr(GArray) made = g_array_new(FALSE, FALSE, sizeof(guint));
    /* States and traces to remove when the case ends (drop_scratch). */
    g_autoptr(GPtrArray) scratch = g_ptr_array_new_with_free_func(g_free);
    g_array_append_val(made, k1);
    /* Scratch names: "-m" keeps them apart from a single-cut case's. */
    g_autofree char *base = g_strdup_printf(
        "%s-k%06u-s%" G_GUINT64_FORMAT "-m", cfi_model_to_string(env->model),
        k1, env->seed);

    /* Cut 1: the recorded update, as a single-cut case. */
    g_autofree char *state = state_dir(env, base, 1);
    if (g_file_test(state, G_FILE_TEST_EXISTS) && !pp_rm_rf(state, error)) {
        return NULL;
    }
    PpCut *first = g_new0(PpCut, 1);
    g_ptr_array_add(c->cuts, first);
    cut_describe(first, env->trace, env->root, &env->phases, k1);
    gint64 t1 = g_get_monotonic_time();
    if (!cfi_replay_materialise(env->replay, k1, env->model, env->seed, state,
                                &first->stats, error)) {
        pp_rm_rf(state, NULL);
        return NULL;
    }
    c->stats = first->stats;
    gint64 t2 = g_get_monotonic_time();
    c->t_materialise = (double)(t2 - t1) / 1e6;
    if (!cut_judge(env, env->replay, env->trace, env->root, state, first,
                   error)) {
        pp_rm_rf(state, NULL);
        return NULL;
    }
    c->t_judge = (double)(g_get_monotonic_time() - t2) / 1e6;

    gboolean ok = TRUE;
    for (guint i = 1; ok; i++) {
        PpCut *last = c->cuts->pdata[i - 1];
        if (last->verdict != PP_OUTCOME_PASS) {
            c->failed_cut = i;
            break;
        }
        gboolean final = i == repeat;
        g_autofree char *prefix = pp_schedule_to_id(
            env->model, (const guint *)made->data, made->len, env->seed);
        g_autofree char *boot_id = pp_schedule_boot_id(prefix, i + 1);
        g_autofree char *name = g_strdup_printf("%s-r%u", base, i + 1);
        g_autofree char *trace = final ? NULL
            : g_strdup_printf("%s/%s.cfit", env->states_dir, name);
        PpResumeResult r;
        if (!resume_faithfully(env, state, name, trace, boot_id, c, &r,
                               error)) {
            if (trace != NULL) {
                g_ptr_array_add(scratch, g_strdup(trace));
            }
            ok = FALSE;
            break;
        }
        cut_take_resume(env, last, &r);
        if (last->verdict != PP_OUTCOME_PASS || final) {
            pp_case_take_resume(c, &r);
            pp_resume_result_clear(&r);
            if (trace != NULL) {
                g_ptr_array_add(scratch, g_strdup(trace));
            }
            c->failed_cut = last->verdict == PP_OUTCOME_PASS ? 0 : i;
            break;
        }
        pp_case_take_resume(c, &r);
        g_autofree char *next = state_dir(env, base, i + 1);
        if (g_file_test(next, G_FILE_TEST_EXISTS)) {
            pp_rm_rf(next, NULL);
        }
        PpCut *cut = NULL;
        ok = cut_resume(env, trace, &r, state, next, i < n_given,
                        i < n_given ? given[i] : 0,
                        hints != NULL && i < n_given ? &hints[i] : NULL,
                        prefix, i + 1, c, &cut, error);
        pp_resume_result_clear(&r);
        if (cut != NULL) {
            g_ptr_array_add(c->cuts, cut);
            g_array_append_val(made, cut->k);
        }
        g_ptr_array_add(scratch, g_strdup(trace));
        g_ptr_array_add(scratch, g_strdup(state));
        g_free(state);
        state = g_steal_pointer(&next);
    }
    g_ptr_array_add(scratch, g_strdup(state));
    if (!ok) {
        drop_scratch(scratch, keep_state, FALSE);
        return NULL;
    }

    c->id = pp_schedule_to_id(env->model, (const guint *)made->data,
                              made->len, env->seed);
    const PpCut *verdict = c->cuts->pdata[c->failed_cut > 0
                                          ? c->failed_cut - 1
                                          : c->cuts->len - 1];
    c->judgement = json_node_ref(verdict->judgement);
    pp_case_set_verdict(c, verdict->verdict);
    if (c->failed_cut > 0) {
        c->reason = g_strdup_printf("cut %u of %u (%s, %s): %s",
                                    c->failed_cut, repeat, verdict->call,
                                    pp_phase_name(verdict->phase),
                                    verdict->reason);
    } else {
        c->reason = g_strdup_printf(
            "%u cuts, each state boots a complete known tree and the update "
            "resumed after each ends on the new version", c->cuts->len);
    }
    drop_scratch(scratch, keep_state, pp_case_failed(c));
    c->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    return g_steal_pointer(&c);
}
