/* SPDX-License-Identifier: MIT */
/*
 * reprosearch.c: see reprosearch.h.
 */
#include "postmortem/reprosearch.h"

#include <signal.h>
#include <string.h>

#include <glib-unix.h>

#include "common/scenario.h"
#include "oracle/signature.h"
#include "common/util.h"
#include "common/json.h"

void
pp_search_step_free(PpSearchStep *s)
{
    if (s == NULL) {
        return;
    }
    g_free(s->scenario);
    g_free(s->scenario_name);
    g_free(s->model);
    g_free(s->points);
    g_free(s->why);
    g_free(s);
}

/* ---- the search space ------------------------------------------------ */

static double
points_cost(const char *points)
{
    if (strcmp(points, "all") == 0) {
        /* Every call: ~1200 points of the fixture's upgrade against ~200
         * barrier points (cost taken as proportional to points). */
        return 6.0;
    }
    if (g_str_has_prefix(points, "barriers:")) {
        /* N of the ~200 barrier points of the fixture's upgrade. */
        guint64 n = g_ascii_strtoull(points + strlen("barriers:"), NULL, 10);
        return MIN(1.0, MAX(0.05, (double)n / 200.0));
    }
    if (g_str_has_prefix(points, "sample:")) {
        /* A sample of N points, against the ~200 barrier points of the
         * fixture's upgrade (about 1200 calls). */
        guint64 n = g_ascii_strtoull(points + strlen("sample:"), NULL, 10);
        return MAX(0.05, (double)n / 200.0);
    }
    return 1.0;
}

static int
cmp_steps(gconstpointer a, gconstpointer b)
{
    const PpSearchStep *x = *(PpSearchStep *const *)a;
    const PpSearchStep *y = *(PpSearchStep *const *)b;
    if (x->cost != y->cost) {
        return x->cost < y->cost ? -1 : 1;
    }
    /* Equal costs keep the order they were made in. */
    return x->index < y->index ? -1 : x->index > y->index;
}

GPtrArray *
pp_search_space(const char *const *scenarios, const char *const *models,
                const char *const *points, JsonNode *sig, GPtrArray *skipped,
                GError **error)
{
    JsonObject *so = json_node_get_object(sig);
    const char *backend = json_object_get_string_member_with_default(
        so, "backend", "none");
    g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_search_step_free);
    guint made = 0;
    for (const char *const *f = scenarios; *f != NULL; f++) {
        g_autoptr(PpScenario) sc = pp_scenario_load(*f, error);
        if (sc == NULL) {
            g_prefix_error(error, "scenario %s: ", *f);
            return NULL;
        }
        /* "none": boot/loader itself is broken, any device may have left
         * it. */
        if (strcmp(backend, "none") != 0 && strcmp(backend, sc->bootloader) != 0) {
            g_ptr_array_add(skipped, g_strdup_printf(
                                "%s: its device boots through %s, the dump's "
                                "through %s", sc->name, sc->bootloader, backend));
            continue;
        }
        double sc_cost = MAX(0.5, (double)sc->payload_kb / 2048.0);
        g_autoptr(GString) why = g_string_new(NULL);
        if (pp_scenario_has_fault(sc)) {
            sc_cost *= 2.0;
            g_string_append(why, ", a [fault] run and its retry first");
        }
        if (sc->expect_failures) {
            sc_cost *= 0.5;
            g_string_append(why, ", expects failures (likelier)");
        }
        for (guint m = 0; models[m] != NULL; m++) {
            for (guint p = 0; points[p] != NULL; p++) {
                PpSearchStep *s = g_new0(PpSearchStep, 1);
                s->index = ++made;
                s->scenario = g_strdup(*f);
                s->scenario_name = g_strdup(sc->name);
                s->model = g_strdup(models[m]);
                s->points = g_strdup(points[p]);
                s->cost = sc_cost * points_cost(points[p]) * (1.0 + 0.1 * m);
                /* Your firmware's size is not the fixture's payload. */
                g_autofree char *size = sc->repo != NULL
                    ? g_strdup("your firmware")
                    : g_strdup_printf("payload %u KiB", sc->payload_kb);
                s->why = g_strdup_printf("points %s x%.2f, model #%u x%.1f, "
                                         "%s%s", points[p],
                                         points_cost(points[p]), m + 1,
                                         1.0 + 0.1 * m, size, why->str);
                g_ptr_array_add(steps, s);
            }
        }
    }
    g_ptr_array_sort(steps, cmp_steps);
    for (guint i = 0; i < steps->len; i++) {
        ((PpSearchStep *)steps->pdata[i])->index = i + 1;
    }
    return g_steal_pointer(&steps);
}

/* ---- running a campaign ---------------------------------------------- */

static void
forward(PpSearchCtl *ctl, int sig)
{
    if (ctl->interrupted == 0) {
        ctl->interrupted = sig;
    }
    /* From a terminal the campaign got the signal too; from kill(1) only
     * this process did.  Twice does no harm: sim just stops starting
     * cases, writes what it judged and exits 130. */
    if (ctl->child != NULL) {
        g_subprocess_send_signal(ctl->child, sig);
    }
}

static void
on_interrupt(int signo, gpointer data)
{
    forward(data, signo);
}

void
pp_search_ctl_init(PpSearchCtl *ctl)
{
    memset(ctl, 0, sizeof *ctl);
    pp_interrupt_guard_init(&ctl->guard);
    ctl->watch = pp_interrupt_add_watch(on_interrupt, ctl);
}

void
pp_search_ctl_clear(PpSearchCtl *ctl)
{
    if (ctl->watch != 0) {
        g_source_remove(ctl->watch);
        ctl->watch = 0;
    }
    pp_interrupt_guard_clear(&ctl->guard);
    g_clear_object(&ctl->child);
}

gboolean
pp_search_ctl_stopped(PpSearchCtl *ctl)
{
    while (g_main_context_pending(NULL)) {
        g_main_context_iteration(NULL, FALSE);
    }
    return ctl->interrupted != 0;
}

typedef struct {
    GMainLoop *loop;
    GError *error;
} Wait;

static void
on_campaign_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    Wait *w = data;
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, &w->error);
    g_main_loop_quit(w->loop);
}

gboolean
pp_search_run(PpSearchCtl *ctl, const char *plugpull, const PpSearchStep *step,
              guint64 seed, guint jobs, gint64 budget_s, const char *dir,
              const char *log, int *out_status, GError **error)
{
    g_autofree char *seed_s = g_strdup_printf("%" G_GUINT64_FORMAT, seed);
    g_autofree char *jobs_s = g_strdup_printf("%u", jobs);
    g_autofree char *budget = g_strdup_printf("%" G_GINT64_FORMAT "s", budget_s);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *fixed[] = { plugpull, "sim", "--scenario", step->scenario,
                            "--model", step->model, "--points", step->points,
                            "--seed", seed_s, "--jobs", jobs_s,
                            "--resume-updates", "none", "--out", dir };
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(argv, (gpointer)fixed[i]);
    }
    if (budget_s > 0) {
        g_ptr_array_add(argv, (gpointer)"--budget");
        g_ptr_array_add(argv, budget);
    }
    g_ptr_array_add(argv, NULL);

    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDIN_INHERIT | G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(l, log);
    ctl->child = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata,
                                              error);
    if (ctl->child == NULL) {
        g_prefix_error(error, "starting %s sim: ", plugpull);
        return FALSE;
    }
    /* A signal that came while it was being started. */
    if (ctl->interrupted != 0) {
        g_subprocess_send_signal(ctl->child, ctl->interrupted);
    }
    Wait w = { .loop = g_main_loop_new(NULL, FALSE) };
    g_subprocess_wait_async(ctl->child, NULL, on_campaign_exit, &w);
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    g_autoptr(GSubprocess) p = g_steal_pointer(&ctl->child);
    if (w.error != NULL) {
        g_propagate_prefixed_error(error, w.error, "waiting for %s sim: ",
                                   plugpull);
        return FALSE;
    }
    *out_status = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p)
                                                : 128 + g_subprocess_get_term_sig(p);
    return TRUE;
}

/* ---- reading the cases back ------------------------------------------ */

void
pp_search_hit_free(PpSearchHit *h)
{
    if (h == NULL) {
        return;
    }
    g_free(h->case_path);
    g_free(h->id);
    g_free(h->outcome);
    g_free(h->phase);
    g_free(h->syscall);
    g_free(h->call);
    g_free(h->replay);
    g_clear_pointer(&h->signature, json_node_unref);
    g_clear_pointer(&h->differ, g_ptr_array_unref);
    g_free(h);
}

/* "#977 linkat a -> b" -> "linkat"; the end of the run -> "end". */
static char *
syscall_of(const char *call)
{
    if (call == NULL || call[0] != '#') {
        return g_strdup("end");
    }
    const char *sp = strchr(call, ' ');
    if (sp == NULL) {
        return g_strdup("?");
    }
    sp++;
    return g_strndup(sp, strcspn(sp, " "));
}

static int
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static PpSearchHit *
read_case(const char *path, guint step, JsonNode *sig, GError **error)
{
    JsonObject *c = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &c, error);
    if (parser == NULL) {
        return NULL;
    }
    JsonNode *evidence = json_object_get_member(c, "evidence");
    g_autoptr(PpSearchHit) h = g_new0(PpSearchHit, 1);
    if (!pp_signature_from_judgement(evidence, &h->signature, error)) {
        g_prefix_error(error, "%s: evidence: ", path);
        return NULL;
    }
    JsonObject *state = json_object_get_object_member(c, "state");
    h->step = step;
    h->case_path = g_strdup(path);
    h->id = g_strdup(json_object_get_string_member_with_default(c, "id", "?"));
    h->outcome = g_strdup(json_object_get_string_member_with_default(
                              c, "outcome", "?"));
    h->phase = g_strdup(json_object_get_string_member_with_default(
                            c, "phase", "?"));
    h->call = g_strdup(json_object_get_string_member_with_default(c, "call",
                                                                  "?"));
    h->syscall = syscall_of(h->call);
    h->k = state != NULL ? (guint)json_object_get_int_member_with_default(
        state, "k", 0) : 0;
    h->replay = g_strdup_printf("plugpull replay %s", path);
    h->differ = g_ptr_array_new();
    h->agree = pp_signature_agree(sig, h->signature, h->differ);
    return g_steal_pointer(&h);
}

gboolean
pp_search_read_cases(const char *dir, guint step, JsonNode *sig,
                     GPtrArray *hits, GError **error)
{
    g_autofree char *cases = g_build_filename(dir, "cases", NULL);
    g_autoptr(GDir) d = g_dir_open(cases, 0, NULL);
    if (d == NULL) {
        return TRUE;            /* a campaign that failed before its cases */
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)) != NULL) {
        if (g_str_has_suffix(n, ".json")) {
            g_ptr_array_add(names, g_strdup(n));
        }
    }
    g_ptr_array_sort(names, cmp_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(cases, names->pdata[i], NULL);
        PpSearchHit *h = read_case(path, step, sig, error);
        if (h == NULL) {
            return FALSE;
        }
        g_ptr_array_add(hits, h);
    }
    return TRUE;
}

JsonNode *
pp_search_hit_to_json(const PpSearchHit *h, const PpSearchStep *step)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "case", h->case_path);
    pp_json_add_string(b, "id", h->id);
    pp_json_add_int(b, "search_step", h->step);
    pp_json_add_string(b, "scenario", step->scenario);
    pp_json_add_string(b, "model", step->model);
    pp_json_add_string(b, "points", step->points);
    pp_json_add_int(b, "k", h->k);
    pp_json_add_string(b, "syscall", h->syscall);
    pp_json_add_string(b, "phase", h->phase);
    pp_json_add_string(b, "call", h->call);
    pp_json_add_string(b, "outcome", h->outcome);
    pp_json_add_int(b, "agree", h->agree);
    pp_json_add_int(b, "of", PP_SIGNATURE_N_FIELDS);
    json_builder_set_member_name(b, "differ");
    json_builder_begin_array(b);
    for (guint i = 0; i < h->differ->len; i++) {
        json_builder_add_string_value(b, h->differ->pdata[i]);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "signature");
    json_builder_add_value(b, json_node_copy(h->signature));
    pp_json_add_string(b, "replay", h->replay);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
