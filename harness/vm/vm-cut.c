/* SPDX-License-Identifier: MIT */
/*
 * vmcut.c: see vmcut.h.
 */
#include "vm/vm-cut.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "cfi-calls.h"
#include "common/client.h"
#include "trace-format.h"

void
pp_cut_spec_clear(PpCutSpec *spec)
{
    g_clear_pointer(&spec->rule, g_free);
    g_clear_pointer(&spec->text, g_free);
}

static gboolean
phase_from_name(const char *name, PpPhase *out)
{
    for (PpPhase p = 0; p < PP_PHASE_COUNT; p++) {
        if (g_str_equal(name, pp_phase_name(p))) {
            *out = p;
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * A plain decimal: digits with at most one '.', at least one digit, the
 * whole of [s, s + len).  No sign, exponent, spaces, inf or nan: what
 * strtod would take beyond that is refused, not guessed at.
 */
static gboolean
parse_decimal(const char *s, gsize len, double *out)
{
    guint digits = 0, dots = 0;
    if (len == 0 || len > 32) {
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        if (g_ascii_isdigit(s[i])) {
            digits++;
        } else if (s[i] == '.') {
            dots++;
        } else {
            return FALSE;
        }
    }
    if (digits == 0 || dots > 1) {
        return FALSE;
    }
    g_autofree char *copy = g_strndup(s, len);
    *out = g_ascii_strtod(copy, NULL);
    return isfinite(*out);
}

static gboolean
parse_factor(const char *text, const char *arg, PpCutSpec *out,
             GError **error)
{
    if (!parse_decimal(arg, strlen(arg), &out->factor)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut %s: the factor '%s' is not a number (e.g. "
                    "random-time:2.5)", text, arg);
        return FALSE;
    }
    if (out->factor <= 0 || out->factor > PP_CUT_MAX_FACTOR) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut %s: the factor must be above 0 and at most %g "
                    "(update windows)", text, PP_CUT_MAX_FACTOR);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_after_exit(const char *text, const char *arg, PpCutSpec *out,
                 GError **error)
{
    const char *dash = strchr(arg, '-');
    gsize len_a = dash != NULL ? (gsize)(dash - arg) : strlen(arg);
    if (*arg == '\0') {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut after-exit: needs SECONDS or a range A-B, e.g. "
                    "after-exit:1-30");
        return FALSE;
    }
    if (!parse_decimal(arg, len_a, &out->after_min_s)
        || (dash != NULL
            && !parse_decimal(dash + 1, strlen(dash + 1), &out->after_max_s))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut %s: '%s' is not SECONDS or A-B (plain decimals, "
                    "no sign, e.g. after-exit:5 or after-exit:1-30)", text,
                    arg);
        return FALSE;
    }
    if (dash == NULL) {
        out->after_max_s = out->after_min_s;
    }
    if (out->after_max_s > PP_CUT_MAX_AFTER_EXIT_S) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut %s: at most %g seconds after the exit", text,
                    PP_CUT_MAX_AFTER_EXIT_S);
        return FALSE;
    }
    if (out->after_min_s > out->after_max_s) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut %s: the range's start is after its end", text);
        return FALSE;
    }
    return TRUE;
}

gboolean
pp_cut_spec_parse(const char *text, PpCutSpec *out, GError **error)
{
    memset(out, 0, sizeof *out);
    out->factor = 1.0;
    if (g_str_equal(text, "random-time")) {
        out->kind = PP_CUT_RANDOM_TIME;
    } else if (g_str_has_prefix(text, "random-time:")) {
        out->kind = PP_CUT_RANDOM_TIME;
        if (!parse_factor(text, text + strlen("random-time:"), out, error)) {
            return FALSE;
        }
    } else if (g_str_has_prefix(text, "after-exit:")
               || g_str_equal(text, "after-exit")) {
        out->kind = PP_CUT_AFTER_EXIT;
        const char *arg = text + strlen("after-exit");
        if (!parse_after_exit(text, *arg == ':' ? arg + 1 : arg, out, error)) {
            return FALSE;
        }
    } else if (g_str_has_prefix(text, "phase:")) {
        out->kind = PP_CUT_PHASE;
        if (!phase_from_name(text + strlen("phase:"), &out->phase)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "--cut %s: unknown phase (pull, deploy, bootloader, "
                        "cleanup)", text);
            return FALSE;
        }
    } else if (g_str_has_prefix(text, "syscall:")) {
        const char *rule = text + strlen("syscall:");
        out->kind = PP_CUT_SYSCALL;
        if (*rule == '\0') {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "--cut syscall: needs a rule, e.g. "
                        "'syscall:ops=rename;path=*/boot/loader'");
            return FALSE;
        }
        /* The rule travels inside single quotes on the guest's shell line. */
        if (strpbrk(rule, "'\n\r\\") != NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "--cut %s: a rule may not contain quotes, "
                        "backslashes or newlines", text);
            return FALSE;
        }
        g_auto(GStrv) keys = g_strsplit(rule, ";", -1);
        for (guint i = 0; keys[i] != NULL; i++) {
            g_strstrip(keys[i]);
            if (g_str_has_prefix(keys[i], "kill=")
                || g_str_has_prefix(keys[i], "action=")
                || g_str_has_prefix(keys[i], "[")) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "--cut %s: '%s' is set by the harness (the shim "
                            "must park the client and announce it)", text,
                            keys[i]);
                return FALSE;
            }
        }
        out->rule = g_strdup(rule);
    } else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--cut %s: expected random-time[:FACTOR], "
                    "after-exit:SECONDS|A-B, syscall:RULE or phase:NAME",
                    text);
        return FALSE;
    }
    out->text = g_strdup(text);
    return TRUE;
}

double
pp_cut_draw_time(const PpCutSpec *spec, double window_s, guint64 seed,
                 guint cycle)
{
    guint32 words[3] = { (guint32)seed, (guint32)(seed >> 32), cycle };
    g_autoptr(GRand) r = g_rand_new_with_seed_array(words, 3);
    double f = spec->factor > 0 ? spec->factor : 1.0;
    return g_rand_double_range(r, 0.0, f * window_s);
}

double
pp_cut_draw_after_exit(const PpCutSpec *spec, guint64 seed, guint cycle)
{
    if (spec->after_max_s <= spec->after_min_s) {
        return spec->after_min_s;
    }
    /* A stream of its own: the fourth word tells it from random-time's. */
    guint32 words[4] = { (guint32)seed, (guint32)(seed >> 32), cycle,
                         0xAF7E2E1Fu };
    g_autoptr(GRand) r = g_rand_new_with_seed_array(words, 4);
    return g_rand_double_range(r, spec->after_min_s, spec->after_max_s);
}

/* Marks: see vmcut.h.  Labels are phase names. */
#define PP_CUT_MARKS \
    "[rule];action=mark;label=deploy;path=*/ostree/deploy/*/deploy/*;nth=1;" \
    "[rule];action=mark;label=bootloader;path=*/boot/loader.*;nth=1;" \
    "[rule];action=mark;label=bootloader;path=*/ostree/boot.*;nth=1;" \
    "[rule];action=mark;label=cleanup;ops=rename;path=*/boot/loader;" \
    "timing=after;nth=1"

char *
pp_cut_update_config(const char *rule)
{
    if (rule == NULL) {
        return g_strdup("mode=fault;notify=fd:7;" PP_CUT_MARKS);
    }
    return g_strdup_printf("mode=crash;notify=fd:7;" PP_CUT_MARKS
                           ";[rule];%s;kill=wait", rule);
}

gboolean
pp_cut_mark_phase(const char *line, PpPhase *out)
{
    const char *p = strstr(line, "CFI-MARK label=");
    if (p == NULL) {
        return FALSE;
    }
    p += strlen("CFI-MARK label=");
    g_autofree char *label = g_strndup(p, strcspn(p, " "));
    return phase_from_name(label, out);
}

char *
pp_cut_rule_config(const char *rule)
{
    /* fd 7 is the guest's console, opened by the command line the host
       sends; kill=wait parks every thread so nothing more reaches the
       disk from the client while the host pulls the plug. */
    return g_strdup_printf("mode=crash;notify=fd:7;[rule];%s;kill=wait", rule);
}

gboolean
pp_cut_rule_check(const char *shim, const char *rule, GError **error)
{
    g_autofree char *config = pp_cut_rule_config(rule);
    if (!pp_shim_check_config(shim, config, error)) {
        g_prefix_error(error, "--cut syscall:%s: ", rule);
        return FALSE;
    }
    return TRUE;
}

void
pp_vm_timeline_clear(PpVmTimeline *tl)
{
    pp_phases_clear(&tl->phases);
}

void
pp_vm_timeline_build(CfiTrace *trace, double t0, PpVmTimeline *out)
{
    memset(out, 0, sizeof *out);
    out->t0 = t0;
    out->n = cfi_trace_n_records(trace);
    /* The booted device reaches its sysroot as /sysroot, and as /boot and
       /ostree through the deployment. */
    const char *roots[] = { "/sysroot", "", NULL };
    pp_phases_classify_roots(trace, roots, &out->phases);
    for (guint p = 0; p < PP_PHASE_COUNT; p++) {
        out->phase_start_s[p] = -1;
    }
    for (guint i = 0; i < out->n; i++) {
        const CfiRecord *r = cfi_trace_get(trace, i);
        double t = (double)r->rec->time_ns / 1e9 - t0;
        PpPhase ph = out->phases.phase[i];
        if (out->phase_start_s[ph] < 0) {
            out->phase_start_s[ph] = t;
        }
        out->end_s = t;
    }
}

/* The path a rule on r would name: the second path when there is one (the
   name a rename or link creates), else the first. */
static const char *
matched_path(const CfiRecord *r)
{
    return r->path2 != NULL ? r->path2 : r->path;
}

static gboolean
stable_candidate(const CfiRecord *r)
{
    switch (r->rec->op) {
    case CFI_OP_MKDIR:
    case CFI_OP_RENAME:
    case CFI_OP_LINK:
    case CFI_OP_SYMLINK:
    case CFI_OP_UNLINK:
    case CFI_OP_RMDIR:
        break;
    case CFI_OP_OPEN:
        if (r->rec->flags & CFI_RF_TMPFILE) {
            return FALSE;
        }
        break;
    default:
        return FALSE;
    }
    if (r->rec->result < 0 || (r->rec->flags & CFI_RF_PATH_FROM_FD)) {
        return FALSE;
    }
    const char *p = matched_path(r);
    /* Temporary names (tmp.XXXXXX, staging-<boot id>-XXXXXX, repo/tmp)
       differ from run to run: a rule naming one would never fire. */
    return p != NULL && p[0] == '/' && strstr(p, "/tmp") == NULL
           && strstr(p, "staging-") == NULL && strstr(p, ".tmp") == NULL
           && strpbrk(p, "*?[;'\\") == NULL;
}

static gboolean
rule_matches(const CfiRecord *r, guint32 call, const char *path)
{
    return r->rec->call == call
           && ((r->path != NULL && g_str_equal(r->path, path))
               || (r->path2 != NULL && g_str_equal(r->path2, path)));
}

char *
pp_vm_phase_rule(CfiTrace *trace, const PpVmTimeline *tl, PpPhase want,
                 guint64 seed, guint cycle, char **out_desc, GError **error)
{
    g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < tl->n; i++) {
        if (tl->phases.phase[i] == want
            && stable_candidate(cfi_trace_get(trace, i))) {
            g_array_append_val(cand, i);
        }
    }
    if (cand->len == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "the calibration trace has no call of phase %s with a "
                    "stable path: this update has no such phase to cut",
                    pp_phase_name(want));
        return NULL;
    }
    guint32 words[4] = { (guint32)seed, (guint32)(seed >> 32), cycle,
                         (guint32)want };
    g_autoptr(GRand) rnd = g_rand_new_with_seed_array(words, 4);
    guint pick = g_array_index(cand, guint,
                               g_rand_int_range(rnd, 0, (gint32)cand->len));
    const CfiRecord *r = cfi_trace_get(trace, pick);
    const char *path = matched_path(r);
    guint nth = 0;
    for (guint i = 0; i <= pick; i++) {
        nth += rule_matches(cfi_trace_get(trace, i), r->rec->call, path);
    }
    const char *call = cfi_call_name(r->rec->call);
    if (out_desc != NULL) {
        *out_desc = g_strdup_printf("%s #%u %s (calibration record %u of %u)",
                                    call, nth, path, pick, tl->n);
    }
    return g_strdup_printf("calls=%s;path=%s;nth=%u", call, path, nth);
}

char *
pp_cut_crash_field(const char *line, const char *key)
{
    g_autofree char *k = g_strconcat(key, "=", NULL);
    const char *p = strstr(line, k);
    while (p != NULL && p != line && p[-1] != ' ') {
        p = strstr(p + 1, k);
    }
    if (p == NULL) {
        return NULL;
    }
    p += strlen(k);
    return g_strndup(p, strcspn(p, " "));
}
