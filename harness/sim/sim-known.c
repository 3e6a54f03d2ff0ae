/* SPDX-License-Identifier: MIT */
/*
 * sim-known.c: see sim-known.h.
 */
#include "sim/sim-known.h"
#include "oracle/signature.h"
#include "common/json.h"

#include <string.h>

#include <gio/gio.h>

gboolean
pp_known_case_signature(const PpCase *c, const char *cases_dir,
                        JsonNode **out, GError **error)
{
    g_autoptr(JsonParser) parser = NULL;
    JsonNode *judgement = c->judgement;
    if (judgement == NULL) {
        /* Kept by --resume: the evidence is in its case file. */
        g_autofree char *name = g_strdup_printf("%s.json", c->id);
        g_autofree char *path = g_build_filename(cases_dir != NULL
                                                 ? cases_dir : ".", name,
                                                 NULL);
        JsonObject *o = NULL;
        parser = pp_json_load_object(path, &o, error);
        if (parser == NULL) {
            g_prefix_error(error, "known findings: case %s: ", c->id);
            return FALSE;
        }
        judgement = json_object_get_member(o, "evidence");
    }
    g_autoptr(JsonNode) sig = NULL;
    if (!pp_signature_from_judgement(judgement, &sig, error)) {
        g_prefix_error(error, "known findings: case %s: ", c->id);
        return FALSE;
    }
    /* The failure acknowledged is the case's: for a resumed case that
     * got stuck, the oracle passed the crash state itself. */
    json_object_set_string_member(json_node_get_object(sig), "outcome",
                                  pp_outcome_to_string(c->verdict));
    *out = g_steal_pointer(&sig);
    return TRUE;
}

gboolean
pp_known_apply(const PpKnownList *known, GPtrArray *cases,
               const char *cases_dir, const GDate *today, GError **error)
{
    GDate now;
    if (today == NULL) {
        g_date_clear(&now, 1);
        g_date_set_time_t(&now, time(NULL));
        today = &now;
    }
    for (guint i = 0; i < cases->len; i++) {
        PpCase *c = cases->pdata[i];
        g_clear_pointer(&c->known, pp_case_known_free);
        if (c->verdict == PP_OUTCOME_PASS || known == NULL
            || known->findings->len == 0) {
            continue;
        }
        g_autoptr(JsonNode) sig = NULL;
        if (!pp_known_case_signature(c, cases_dir, &sig, error)) {
            return FALSE;
        }
        gboolean expired = FALSE;
        const PpKnownFinding *f = pp_known_match(known, sig, c->phase, today,
                                                 &expired);
        if (f == NULL) {
            continue;
        }
        c->known = g_new0(PpCaseKnown, 1);
        c->known->finding = g_strdup(f->id);
        c->known->link = g_strdup(f->link);
        c->known->until = g_strdup(f->until);
        c->known->expired = expired;
    }
    pp_known_print(cases);
    return TRUE;
}

typedef struct {
    const PpCaseKnown *k;    /* the first case's mark */
    guint cases;
} Tally;

static int
cmp_tally(gconstpointer a, gconstpointer b)
{
    const Tally *x = *(Tally *const *)a;
    const Tally *y = *(Tally *const *)b;
    int c = strcmp(x->k->finding, y->k->finding);
    return c != 0 ? c : (int)x->k->expired - (int)y->k->expired;
}

/* One Tally per (finding, expired) the cases matched, sorted. */
static GPtrArray *
tally(GPtrArray *cases)
{
    g_autoptr(GPtrArray) t = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < cases->len; i++) {
        const PpCase *c = cases->pdata[i];
        if (c->known == NULL || c->verdict == PP_OUTCOME_PASS) {
            continue;
        }
        Tally *hit = NULL;
        for (guint j = 0; j < t->len && hit == NULL; j++) {
            Tally *x = t->pdata[j];
            if (g_str_equal(x->k->finding, c->known->finding)
                && x->k->expired == c->known->expired) {
                hit = x;
            }
        }
        if (hit == NULL) {
            hit = g_new0(Tally, 1);
            hit->k = c->known;
            g_ptr_array_add(t, hit);
        }
        hit->cases++;
    }
    g_ptr_array_sort(t, cmp_tally);
    return g_steal_pointer(&t);
}

void
pp_known_print(GPtrArray *cases)
{
    g_autoptr(GPtrArray) t = tally(cases);
    for (guint i = 0; i < t->len; i++) {
        const Tally *x = t->pdata[i];
        if (x->k->expired) {
            g_print("  EXPIRED %s: %u case(s) fail again, the finding's "
                    "date %s has passed: %s\n", x->k->finding, x->cases,
                    x->k->until, x->k->link);
        } else {
            g_autofree char *until = x->k->until != NULL
                ? g_strdup_printf(" until %s", x->k->until) : g_strdup("");
            g_print("  KNOWN %s: %u case(s) excused%s: %s\n", x->k->finding,
                    x->cases, until, x->k->link);
        }
    }
}

JsonNode *
pp_known_findings_json(GPtrArray *cases)
{
    g_autoptr(GPtrArray) t = tally(cases);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < t->len; i++) {
        const Tally *x = t->pdata[i];
        json_builder_begin_object(b);
        pp_json_add_string(b, "id", x->k->finding);
        pp_json_add_string(b, "link", x->k->link);
        pp_json_add_string_or_null(b, "until", x->k->until);
        pp_json_add_boolean(b, "expired", x->k->expired);
        pp_json_add_int(b, "cases", x->cases);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}
