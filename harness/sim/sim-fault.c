/* SPDX-License-Identifier: MIT */
/*
 * simfault.c: see simfault.h.
 */
#include "sim/sim-fault.h"

#include <errno.h>
#include <string.h>

#include "cfi-calls.h"
#include "common/client.h"
#include "common/json.h"
#include "oracle/dpkg-judge.h"
#include "oracle/known.h"
#include "trace-reader.h"

void
pp_sim_fault_clear(PpSimFault *f)
{
    g_clear_pointer(&f->rule, g_free);
    g_clear_pointer(&f->net, pp_httpd_stop);
    g_clear_pointer(&f->stderr_tail, g_free);
    g_clear_pointer(&f->boot_id, g_free);
    g_clear_pointer(&f->first_injected, g_free);
    g_clear_pointer(&f->end, pp_case_free);
    g_clear_pointer(&f->verdict, g_free);
}

/* The configuration a rule runs under, traced or not. */
static char *
rule_config(const char *rule)
{
    return g_strdup_printf("[rule];action=fault;%s", rule);
}

gboolean
pp_fault_rule_check(const char *shim, const char *rule, GError **error)
{
    g_autofree char *tail = rule_config(rule);
    g_autofree char *config = g_strdup_printf("mode=fault;%s", tail);
    return pp_shim_check_config(shim, config, error);
}

PpScenario *
pp_scenario_load_checked(const char *path, GError **error)
{
    g_autoptr(PpScenario) sc = pp_scenario_load(path, error);
    if (sc == NULL) {
        return NULL;
    }
    if (sc->fault_inject != NULL) {
        g_autoptr(GError) local = NULL;
        if (!pp_fault_rule_check(pp_shim_path(), sc->fault_inject, &local)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "%s:%u: [fault] inject = '%s': %s", path,
                        sc->fault_inject_line, sc->fault_inject,
                        local->message);
            return NULL;
        }
    }
    if (sc->known != NULL) {
        /* A findings file that does not load is the scenario's error:
         * found now, not after the campaign. */
        g_autoptr(GError) local = NULL;
        g_autoptr(PpKnownList) known = pp_known_load(sc->known, &local);
        if (known == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "%s:%u: [verify] known = '%s':\n%s", path,
                        sc->known_line, sc->known, local->message);
            return NULL;
        }
    }
    return g_steal_pointer(&sc);
}

gboolean
pp_fault_arm(const PpScenario *sc, PpHttpd *httpd, const char *srv_dir,
             const char *sysroot, PpSimFault *f, GError **error)
{
    f->active = pp_scenario_has_fault(sc);
    f->bytes_before = httpd != NULL ? pp_httpd_get_bytes_sent(httpd) : 0;
    f->exit_status = 0;
    if (sc->fault_inject != NULL) {
        f->rule = rule_config(sc->fault_inject);
    }
    if (httpd != NULL
        && (sc->net_drop > 0 || sc->net_stall > 0 || sc->net_5xx > 0)) {
        PpHttpdOptions o = {
            .fault_seed = sc->seed,
            .p_drop = sc->net_drop,
            .p_stall = sc->net_stall,
            .p_5xx = sc->net_5xx,
            .stall_ms = sc->stall_ms,
        };
        f->net = pp_httpd_start_full(srv_dir, 0, &o, error);
        if (f->net == NULL) {
            g_prefix_error(error, "starting the faulty stand-in: ");
            return FALSE;
        }
        g_autofree char *url = g_strdup_printf("%s/repo",
                                               pp_httpd_get_url(f->net));
        if (!pp_sim_set_remote_url(sysroot, url, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* The last lines of a client's stderr, at most about 600 bytes. */
static char *
tail_of(const char *err)
{
    if (err == NULL) {
        return g_strdup("");
    }
    g_autofree char *s = g_strchomp(g_strdup(err));
    gsize n = strlen(s);
    const char *t = n > 600 ? s + n - 600 : s;
    if (t != s) {
        const char *nl = strchr(t, '\n');
        t = nl != NULL ? nl + 1 : t;
    }
    return g_strdup(t);
}

void
pp_fault_note_run(PpSimFault *f, const PpRecording *rec, PpHttpd *httpd)
{
    f->run_bytes = f->net != NULL ? pp_httpd_get_bytes_sent(f->net)
                   : httpd != NULL ? pp_httpd_get_bytes_sent(httpd)
                                     - f->bytes_before
                   : 0;
    f->exit_status = rec->exit_status;
    g_free(f->boot_id);
    f->boot_id = g_strdup(rec->boot_id);
    g_free(f->stderr_tail);
    f->stderr_tail = tail_of(rec->client_err);
    if (f->net != NULL) {
        f->net_faults = pp_httpd_get_n_faults(f->net);
        f->net_requests = pp_httpd_get_n_requests(f->net);
    }
}

/* The commit the judged device boots, from the oracle's evidence. */
static const char *
booted_commit(JsonNode *judgement)
{
    JsonObject *o = json_node_get_object(judgement);
    gint64 booted = json_object_get_int_member_with_default(o, "booted", -1);
    JsonArray *entries = json_object_get_array_member(o, "entries");
    if (booted < 0 || entries == NULL
        || (guint)booted >= json_array_get_length(entries)) {
        return NULL;
    }
    JsonObject *e = json_array_get_object_element(entries, (guint)booted);
    return json_object_get_string_member_with_default(e, "commit", NULL);
}

static void
set_outcome(PpCase *c, PpOutcome outcome, char *reason)
{
    g_free(c->reason);
    pp_case_set_verdict(c, outcome);
    c->reason = reason;
}

/*
 * (b) for a device of another strategy (sim/strategy.h): the update
 * command run again, untraced and without the fault, on the device the
 * faulted run left (env->root: a [fault] campaign keeps it), as an A/B
 * updater, update mode or dpkg is retried: from the start.  It must end
 * booting the new version, else `stuck`.
 */
static gboolean
slot_retry(PpSimEnv *env, PpCase *c, GError **error)
{
    PpClientOpts opts = { .userns = TRUE, .capture = TRUE };
    PpClientResult res = { 0 };
    /* The failing twin of the retry's check (test-strategies-fault): a
       retry that does nothing and fails. */
    static const char *const fails[] = { "false", NULL };
    const char *const *argv = g_getenv("PLUGPULL_TEST_RETRY_FAILS") != NULL
        ? fails : (const char *const *)env->update_argv;
    if (!pp_client_run(&opts, argv, &res, error)) {
        g_prefix_error(error, "retrying the update: ");
        return FALSE;
    }
    c->resumed = TRUE;
    c->resume_exit = res.exit_status;
    g_autofree char *err = tail_of(res.err);
    pp_client_result_clear(&res);
    PpSlotJudgement j = { 0 };
    if (env->strategy == PP_STRATEGY_DPKG
        ? !pp_dpkg_judge(&env->slots, env->root, &j, error)
        : !pp_slots_judge(&env->slots, env->root, &j, error)) {
        g_prefix_error(error, "judging the retried update: ");
        return FALSE;
    }
    if (c->resume_exit != 0 || g_strcmp0(j.boots, "new") != 0) {
        c->resume_error = g_strdup_printf(
            "the retry exited %d and the device boots %s%s%s", c->resume_exit,
            j.boots != NULL ? j.boots : "nothing", *err != '\0' ? ": " : "",
            err);
    }
    pp_slot_judgement_clear(&j);
    return TRUE;
}

/* (a) and (b) of a slot or dpkg device: booting "new" or "old" is its
 * judgement's words (oracle/slots.h); it downloads nothing. */
static gboolean
slot_fault_end(PpSimFault *f, PpSimEnv *env, PpCase *c, GError **error)
{
    if (f->exit_status == 0 && c->verdict == PP_OUTCOME_PASS
        && g_strcmp0(c->boots, "new") != 0) {
        set_outcome(c, PP_OUTCOME_WRONG_TREE, g_strdup_printf(
            "the client reported success (exit 0) but the device boots %s, "
            "not the new version", c->boots != NULL ? c->boots : "nothing"));
    }
    if (env->update_argv != NULL && c->verdict != PP_OUTCOME_BRICK
        && !slot_retry(env, c, error)) {
        return FALSE;
    }
    if (c->resume_error != NULL && c->verdict == PP_OUTCOME_PASS) {
        set_outcome(c, PP_OUTCOME_STUCK, g_strdup(c->resume_error));
    }
    g_autoptr(GString) v = g_string_new(NULL);
    g_string_append_printf(v, "client exited %d after %u injected fault(s), "
                           "first %s; the device as left: %s (%s)",
                           f->exit_status, f->n_injected,
                           f->first_injected != NULL ? f->first_injected
                                                     : "none",
                           pp_outcome_to_string(c->verdict), c->reason);
    g_string_append_printf(v, "; retry: %s", !c->resumed
                           ? "not run (the device does not boot)"
                           : c->resume_error == NULL
                           ? "boots the new version" : c->resume_error);
    if (f->swallowed) {
        g_string_append(v, "; FAULT SWALLOWED: the client exited 0 although "
                           "a call failed");
    }
    f->verdict = g_string_free(g_steal_pointer(&v), FALSE);
    return TRUE;
}

gboolean
pp_fault_judge(PpSimFault *f, PpSimEnv *env, GError **error)
{
    guint n = cfi_trace_n_records(env->trace);
    gsize rl = strlen(env->root);
    /* A client that reported the fault promised nothing (sim-promise.h). */
    env->promise.made = f->exit_status == 0;
    for (guint i = 0; i < n; i++) {
        const CfiRecord *r = cfi_trace_get(env->trace, i);
        if ((r->rec->flags & CFI_RF_INJECTED) == 0) {
            continue;
        }
        if (f->n_injected++ == 0) {
            const char *p = r->path;
            if (p != NULL && strncmp(p, env->root, rl) == 0 && p[rl] == '/') {
                p += rl + 1;
            }
            g_autofree char *what = p != NULL ? g_strdup(p)
                : g_strdup_printf("fd %d", r->rec->fd);
            f->first_injected = g_strdup_printf(
                "#%u %s %s: %s", i, cfi_call_name(r->rec->call), what,
                g_strerror(r->rec->err));
        }
    }
    f->fired = f->n_injected > 0 || f->net_faults > 0;
    if (!f->fired) {
        f->verdict = g_strdup_printf(
            "fault did not fire: %s%s%s", f->rule != NULL
            ? "the rule matched no call of the update" : "",
            f->rule != NULL && f->net != NULL ? ", and " : "",
            f->net != NULL ? "the server spoiled no response" : "");
        return TRUE;
    }

    /* (a) the end of the trace, process-kill, and (b) the retry.  One
       view: no power was lost, the reboot unmounts and checkpoints
       everything, so the bootloader reads the kernel's view (MODELS.md
       4a); there is no power-cut state here to judge through two. */
    CfiModel saved = env->model;
    env->model = CFI_MODEL_PROCESS_KILL;
    env->resume_boot_id = f->boot_id;
    PpCase *c = pp_sim_run_case(env, n, env->httpd != NULL, FALSE, error);
    env->model = saved;
    env->resume_boot_id = NULL;
    if (c == NULL) {
        g_prefix_error(error, "judging the state the faulted update left: ");
        return FALSE;
    }
    g_autofree char *id = c->id;
    c->id = g_strdup_printf("fault-%s", id);
    f->end = c;

    f->swallowed = f->n_injected > 0 && f->exit_status == 0;
    if (env->strategy != PP_STRATEGY_OSTREE) {
        return slot_fault_end(f, env, c, error);
    }
    /* A client that says it updated must boot the update (not for a
       bare pull, which has no resume server and nothing to boot). */
    const char *boots = booted_commit(c->judgement);
    if (f->exit_status == 0 && c->verdict == PP_OUTCOME_PASS
        && g_strcmp0(boots, env->to_commit) != 0 && env->httpd != NULL) {
        set_outcome(c, PP_OUTCOME_WRONG_TREE, g_strdup_printf(
            "the client reported success (exit 0) but the device boots %.12s, "
            "not the new version %.12s", boots != NULL ? boots : "nothing",
            env->to_commit));
    }
    g_autoptr(GString) v = g_string_new(NULL);
    g_string_append_printf(v, "client exited %d (%" G_GUINT64_FORMAT
                           " bytes fetched)", f->exit_status, f->run_bytes);
    if (f->n_injected > 0) {
        g_string_append_printf(v, " after %u injected fault(s), first %s",
                               f->n_injected, f->first_injected);
    }
    if (f->net_faults > 0) {
        g_string_append_printf(v, " after %" G_GUINT64_FORMAT " spoiled "
                               "response(s) of %" G_GUINT64_FORMAT,
                               f->net_faults, f->net_requests);
    }
    g_string_append_printf(v, "; the device as left: %s%s%s",
                           pp_outcome_to_string(c->verdict),
                           *c->reason != '\0' ? " (" : "",
                           *c->reason != '\0' ? c->reason : "");
    if (*c->reason != '\0') {
        g_string_append_c(v, ')');
    }
    if (c->resumed) {
        g_string_append_printf(v, "; retry: %s, %" G_GUINT64_FORMAT " bytes "
                               "and %u objects fetched, %u of them already "
                               "in the repo", c->resume_error == NULL
                               ? "boots the new version" : c->resume_error,
                               c->resume_bytes, c->resume_objects,
                               c->resume_refetched);
    } else {
        g_string_append(v, "; retry: not run (the pull action has none)");
    }
    if (f->swallowed) {
        g_string_append(v, "; FAULT SWALLOWED: the client exited 0 although "
                           "a call failed");
    }
    f->verdict = g_string_free(g_steal_pointer(&v), FALSE);
    return TRUE;
}

gboolean
pp_fault_failed(const PpSimFault *f)
{
    return f->active && f->fired
           && (f->swallowed || (f->end != NULL && pp_case_failed(f->end)));
}

JsonNode *
pp_fault_to_json(const PpSimFault *f, const PpScenario *sc)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "inject");
    if (sc->fault_inject != NULL) {
        json_builder_add_string_value(b, sc->fault_inject);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "network");
    json_builder_begin_object(b);
    pp_json_add_double(b, "drop", sc->net_drop);
    pp_json_add_double(b, "stall", sc->net_stall);
    pp_json_add_double(b, "5xx", sc->net_5xx);
    pp_json_add_int(b, "stall_ms", sc->stall_ms);
    pp_json_add_int(b, "requests", (gint64)f->net_requests);
    pp_json_add_int(b, "faults", (gint64)f->net_faults);
    json_builder_end_object(b);
    pp_json_add_boolean(b, "fired", f->fired);
    pp_json_add_int(b, "injected_calls", f->n_injected);
    json_builder_set_member_name(b, "first_injected");
    if (f->first_injected != NULL) {
        json_builder_add_string_value(b, f->first_injected);
    } else {
        json_builder_add_null_value(b);
    }
    pp_json_add_int(b, "run_bytes_downloaded", (gint64)f->run_bytes);
    pp_json_add_int(b, "client_exit_status", f->exit_status);
    pp_json_add_boolean(b, "client_reported_error", f->exit_status != 0);
    json_builder_set_member_name(b, "client_stderr_tail");
    json_builder_add_string_value(b, f->stderr_tail != NULL
                                     ? f->stderr_tail : "");
    pp_json_add_boolean(b, "swallowed", f->swallowed);
    json_builder_set_member_name(b, "note");
    json_builder_add_string_value(b, !f->fired ? "fault did not fire"
                                     : f->swallowed ? "fault swallowed"
                                     : f->exit_status != 0 ? "error reported"
                                     : "recovered");
    pp_json_add_string(b, "verdict", f->verdict != NULL ? f->verdict : "");
    json_builder_set_member_name(b, "end");
    json_builder_begin_object(b);
    if (f->end != NULL) {
        const PpCase *c = f->end;
        pp_json_add_string(b, "case", c->id);
        pp_json_add_string(b, "outcome", pp_outcome_to_string(c->verdict));
        pp_json_add_string(b, "reason", c->reason);
        json_builder_set_member_name(b, "boots");
        const char *boots = booted_commit(c->judgement);
        if (boots != NULL) {
            json_builder_add_string_value(b, boots);
        } else {
            json_builder_add_null_value(b);
        }
        pp_json_add_boolean(b, "retried", c->resumed);
        if (c->resumed) {
            pp_json_add_int(b, "retry_exit_status", c->resume_exit);
            json_builder_set_member_name(b, "retry_error");
            if (c->resume_error != NULL) {
                json_builder_add_string_value(b, c->resume_error);
            } else {
                json_builder_add_null_value(b);
            }
            pp_json_add_int(b, "retry_bytes_downloaded", (gint64)c->resume_bytes);
            pp_json_add_int(b, "retry_objects_downloaded", c->resume_objects);
            pp_json_add_int(b, "retry_objects_redownloaded", c->resume_refetched);
        }
    }
    json_builder_end_object(b);
    pp_json_add_boolean(b, "failed", pp_fault_failed(f));
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
