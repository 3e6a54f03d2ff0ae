/* SPDX-License-Identifier: MIT */
/*
 * known.c: see known.h.
 *
 * Each signature field has one entry in the table below: how its value is
 * written in the file and checked.  A value is turned into the JSON the
 * signature holds (signature.c), so that matching is json_node_equal()
 * field by field.
 */
#include "oracle/known.h"
#include "oracle/signature.h"
#include "common/keyfile.h"
#include "common/outcome.h"

#include <string.h>

#include <gio/gio.h>

typedef enum {
    KF_WORD,                 /* a class name */
    KF_INT,                  /* a whole number >= min */
    KF_LIST,                 /* words in the signature's order */
    KF_SET,                  /* words in any order (sorted, as stored) */
} FieldKind;

typedef struct {
    const char *name;
    FieldKind kind;
    const char *values;      /* KF_WORD: "a|b|c", NULL: any class name */
    gint64 min;              /* KF_INT */
} FieldDef;

static const FieldDef fields[] = {
    { "outcome", KF_WORD, NULL, 0 },   /* an outcome but pass: below */
    { "backend", KF_WORD, "uboot|bls|none", 0 },
    { "bootversion", KF_INT, NULL, -1 },
    { "loader", KF_WORD, NULL, 0 },
    { "booted", KF_INT, NULL, -1 },
    { "booted_tree", KF_WORD, "none|unknown|new|old", 0 },
    { "entry_states", KF_LIST, NULL, 0 },
    { "tree_problems", KF_SET, NULL, 0 },
    { "repo_problems", KF_SET, NULL, 0 },
    { "partial_commits", KF_INT, NULL, 0 },
    { "staging_dirs", KF_INT, NULL, 0 },
    { "loader_dirs", KF_INT, NULL, -1 },
    { "boot_dirs", KF_INT, NULL, -1 },
    { "deploy_dirs", KF_INT, NULL, -1 },
};
G_STATIC_ASSERT(G_N_ELEMENTS(fields) == PP_SIGNATURE_N_FIELDS);

#define GROUP_PREFIX "finding "

static void
finding_free(PpKnownFinding *f)
{
    g_free(f->id);
    g_free(f->link);
    g_free(f->note);
    g_free(f->until);
    g_clear_pointer(&f->fields, json_object_unref);
    g_free(f);
}

void
pp_known_list_free(PpKnownList *l)
{
    if (l == NULL) {
        return;
    }
    g_free(l->path);
    g_clear_pointer(&l->findings, g_ptr_array_unref);
    g_free(l);
}

static const FieldDef *
find_field(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (g_str_equal(fields[i].name, name)) {
            return &fields[i];
        }
    }
    return NULL;
}

/* A class name as the classifiers make them: a-z, 0-9, '-', ':'. */
static gboolean
word_ok(const char *w)
{
    if (*w == '\0') {
        return FALSE;
    }
    for (const char *p = w; *p != '\0'; p++) {
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-'
            && *p != ':') {
            return FALSE;
        }
    }
    return TRUE;
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * value (stripped) of field d as the signature's JSON, or NULL with *why
 * (static text) when it is not a legal value.
 */
static JsonNode *
field_value(const FieldDef *d, const char *value, const char **why)
{
    if (d->kind == KF_INT) {
        gint64 n = 0;
        if (!g_ascii_string_to_signed(value, 10, d->min, G_MAXINT32, &n,
                                      NULL)) {
            *why = d->min < 0 ? "expected a whole number, -1 or more"
                              : "expected a whole number, 0 or more";
            return NULL;
        }
        return json_node_init_int(json_node_alloc(), n);
    }
    if (d->kind == KF_WORD) {
        if (g_str_equal(d->name, "outcome")) {
            PpOutcome o;
            if (!pp_outcome_from_string(value, &o)) {
                *why = "not an outcome (brick, wrong-tree, repo-corrupt, "
                       "no-rollback, stuck, redownload, hang)";
                return NULL;
            }
            if (o == PP_OUTCOME_PASS) {
                *why = "a passing case is no finding";
                return NULL;
            }
        } else if (d->values != NULL && !pp_word_in(d->values, value)) {
            *why = g_str_equal(d->name, "backend")
                   ? "expected uboot, bls or none"
                   : "expected none, unknown, new or old";
            return NULL;
        } else if (!word_ok(value)) {
            *why = "expected a class name (a-z, 0-9, '-', ':')";
            return NULL;
        }
        return json_node_init_string(json_node_alloc(), value);
    }
    /* A list: comma-separated words; an empty value is the empty list. */
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    for (char **p = parts; *value != '\0' && *p != NULL; p++) {
        char *w = g_strstrip(*p);
        if (d->kind == KF_LIST && g_str_equal(w, "...") && p[1] == NULL
            && p != parts) {
            g_ptr_array_add(words, w);   /* any further entries */
            break;
        }
        if (!word_ok(w)) {
            *why = "expected class names (a-z, 0-9, '-', ':') separated "
                   "by commas";
            return NULL;
        }
        if (d->kind == KF_SET
            && g_ptr_array_find_with_equal_func(words, w, g_str_equal, NULL)) {
            continue;   /* the signature holds each class once */
        }
        g_ptr_array_add(words, w);
    }
    if (d->kind == KF_SET) {
        g_ptr_array_sort(words, cmp_str);
    }
    JsonArray *a = json_array_new();
    for (guint i = 0; i < words->len; i++) {
        json_array_add_string_element(a, words->pdata[i]);
    }
    JsonNode *n = json_node_init_array(json_node_alloc(), a);
    json_array_unref(a);
    return n;
}

/* YYYY-MM-DD, a real day of the calendar. */
static gboolean
parse_date(const char *s, GDate *out)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return FALSE;
    }
    for (guint i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !g_ascii_isdigit(s[i])) {
            return FALSE;
        }
    }
    g_autofree char *ys = g_strndup(s, 4);
    g_autofree char *ms = g_strndup(s + 5, 2);
    g_autofree char *ds = g_strndup(s + 8, 2);
    guint64 y = 0, m = 0, d = 0;
    if (!g_ascii_string_to_unsigned(ys, 10, 1, 9999, &y, NULL)
        || !g_ascii_string_to_unsigned(ms, 10, 1, 12, &m, NULL)
        || !g_ascii_string_to_unsigned(ds, 10, 1, 31, &d, NULL)
        || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
        return FALSE;
    }
    g_date_clear(out, 1);
    g_date_set_dmy(out, (GDateDay)d, (GDateMonth)m, (GDateYear)y);
    return TRUE;
}

/* [finding ID]: ID of letters, digits, '.', '_', '-'; NULL otherwise. */
static const char *
finding_id(const char *group)
{
    if (!g_str_has_prefix(group, GROUP_PREFIX)) {
        return NULL;
    }
    const char *id = group + strlen(GROUP_PREFIX);
    if (*id == '\0') {
        return NULL;
    }
    for (const char *p = id; *p != '\0'; p++) {
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-') {
            return NULL;
        }
    }
    return id;
}

/*
 * GKeyFile merges a group given twice into one: a finding written twice
 * would match as neither says.  Each second "[group]" line is a problem.
 */
static void
check_duplicate_groups(const char *data, const char *name, GString *problems)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal, g_free,
                                                       NULL);
    for (guint i = 0; lines[i] != NULL; i++) {
        char *l = g_strstrip(lines[i]);
        if (l[0] != '[' || !g_str_has_suffix(l, "]")) {
            continue;
        }
        if (!g_hash_table_add(seen, g_strdup(l))) {
            g_string_append_printf(problems, "%s:%u: %s given again (once "
                                   "per finding)\n", name, i + 1, l);
        }
    }
}

/* One [finding ID] group, its problems appended; NULL when it has any. */
static PpKnownFinding *
load_finding(GKeyFile *kf, const char *data, const char *name,
             const char *group, GString *problems)
{
    gsize before = problems->len;
    guint gline = pp_keyfile_line(data, group, NULL);
    const char *id = finding_id(group);
    if (id == NULL) {
        g_string_append_printf(problems, "%s:%u: unknown section [%s] (each "
                               "is [finding ID], ID of letters, digits, "
                               "'.', '_', '-')\n", name, gline, group);
        return NULL;
    }
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(
        (GDestroyNotify)finding_free);
    PpKnownFinding *f = g_new0(PpKnownFinding, 1);
    g_ptr_array_add(keep, f);
    f->id = g_strdup(id);
    f->line = gline;
    f->fields = json_object_new();
    gsize nkeys = 0;
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, &nkeys, NULL);
    for (gsize i = 0; i < nkeys; i++) {
        const char *key = keys[i];
        guint line = pp_keyfile_line(data, group, key);
        g_autofree char *raw = g_key_file_get_string(kf, group, key, NULL);
        const char *v = raw != NULL ? g_strstrip(raw) : NULL;
        const char *why = NULL;
        const FieldDef *d = NULL;
        if (v == NULL) {
            why = "unreadable value";
        } else if (g_str_equal(key, "link")) {
            if (g_str_has_prefix(v, "https://") || g_str_has_prefix(v, "http://")) {
                f->link = g_strdup(v);
            } else {
                why = "expected the tracker's http:// or https:// address";
            }
        } else if (g_str_equal(key, "note")) {
            f->note = g_strdup(v);
        } else if (g_str_equal(key, "until")) {
            if (parse_date(v, &f->until_date)) {
                f->until = g_strdup(v);
            } else {
                why = "expected a date YYYY-MM-DD";
            }
        } else if (g_str_equal(key, "phase")) {
            g_auto(GStrv) ps = g_strsplit(v, ",", -1);
            for (char **p = ps; *p != NULL && why == NULL; p++) {
                PpPhase ph;
                if (!pp_phase_from_name(g_strstrip(*p), &ph)) {
                    why = "expected phases pull, deploy, bootloader, cleanup "
                          "separated by commas";
                } else {
                    f->phases |= 1u << ph;
                }
            }
        } else if ((d = find_field(key)) != NULL) {
            JsonNode *n = field_value(d, v, &why);
            if (n != NULL) {
                json_object_set_member(f->fields, key, n);
            }
        } else {
            g_string_append_printf(problems, "%s:%u: unknown key '%s' in "
                                   "[%s] (link, until, note, phase or a "
                                   "signature field)\n", name, line, key,
                                   group);
            continue;
        }
        if (why != NULL) {
            g_string_append_printf(problems, "%s:%u: [%s] %s = '%s': %s\n",
                                   name, line, group, key, v != NULL ? v : "",
                                   why);
        }
    }
    if (f->link == NULL && !g_key_file_has_key(kf, group, "link", NULL)) {
        g_string_append_printf(problems, "%s:%u: [%s] needs link = the "
                               "tracker of the finding\n", name, gline,
                               group);
    }
    if (json_object_get_size(f->fields) == 0) {
        /* No field: it would excuse every failure. */
        g_string_append_printf(problems, "%s:%u: [%s] gives no signature "
                               "field (outcome, backend, entry_states, ...): "
                               "it would excuse every failure\n", name, gline,
                               group);
    }
    if (problems->len != before) {
        return NULL;
    }
    return g_ptr_array_steal_index(keep, 0);
}

PpKnownList *
pp_known_load_data(const char *data, const char *name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE,
                                   &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s",
                    name, local->message);
        return NULL;
    }
    g_autoptr(PpKnownList) l = g_new0(PpKnownList, 1);
    l->path = g_strdup(name);
    l->findings = g_ptr_array_new_with_free_func((GDestroyNotify)finding_free);
    g_autoptr(GString) problems = g_string_new(NULL);
    check_duplicate_groups(data, name, problems);
    gsize ngroups = 0;
    g_auto(GStrv) groups = g_key_file_get_groups(kf, &ngroups);
    for (gsize g = 0; g < ngroups; g++) {
        PpKnownFinding *f = load_finding(kf, data, name, groups[g], problems);
        if (f != NULL) {
            g_ptr_array_add(l->findings, f);
        }
    }
    if (problems->len > 0) {
        g_string_truncate(problems, problems->len - 1);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                    problems->str);
        return NULL;
    }
    return g_steal_pointer(&l);
}

gboolean
pp_known_data_is_findings(const char *data)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE,
                                   NULL)) {
        return FALSE;
    }
    g_autofree char *first = g_key_file_get_start_group(kf);
    return first != NULL && g_str_has_prefix(first, GROUP_PREFIX);
}

PpKnownList *
pp_known_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, error)) {
        g_prefix_error(error, "reading known findings: ");
        return NULL;
    }
    return pp_known_load_data(data, path, error);
}

/* want ends in "..." (a list field's "and anything after"): have starts
 * with the words before it. */
static gboolean
list_prefix_matches(JsonNode *want, JsonNode *have)
{
    if (!JSON_NODE_HOLDS_ARRAY(want) || !JSON_NODE_HOLDS_ARRAY(have)) {
        return FALSE;
    }
    JsonArray *w = json_node_get_array(want);
    JsonArray *h = json_node_get_array(have);
    guint nw = json_array_get_length(w);
    if (nw == 0
        || !g_str_equal(json_array_get_string_element(w, nw - 1), "...")
        || json_array_get_length(h) < nw - 1) {
        return FALSE;
    }
    for (guint i = 0; i + 1 < nw; i++) {
        if (!g_str_equal(json_array_get_string_element(w, i),
                         json_array_get_string_element(h, i))) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
pp_known_finding_matches(const PpKnownFinding *f, JsonNode *sig,
                         PpPhase phase)
{
    if (f->phases != 0 && (phase >= PP_PHASE_COUNT
                           || (f->phases & (1u << phase)) == 0)) {
        return FALSE;
    }
    JsonObject *s = sig != NULL && JSON_NODE_HOLDS_OBJECT(sig)
        ? json_node_get_object(sig) : NULL;
    if (s == NULL) {
        return FALSE;
    }
    g_autoptr(GList) names = json_object_get_members(f->fields);
    for (GList *n = names; n != NULL; n = n->next) {
        JsonNode *want = json_object_get_member(f->fields, n->data);
        JsonNode *have = json_object_get_member(s, n->data);
        if (have == NULL || !(json_node_equal(want, have)
                              || list_prefix_matches(want, have))) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
pp_known_finding_expired(const PpKnownFinding *f, const GDate *today)
{
    return f->until != NULL && g_date_compare(&f->until_date, today) < 0;
}

const PpKnownFinding *
pp_known_match(const PpKnownList *l, JsonNode *sig, PpPhase phase,
               const GDate *today, gboolean *out_expired)
{
    const PpKnownFinding *expired = NULL;
    *out_expired = FALSE;
    for (guint i = 0; l != NULL && i < l->findings->len; i++) {
        const PpKnownFinding *f = l->findings->pdata[i];
        if (!pp_known_finding_matches(f, sig, phase)) {
            continue;
        }
        if (!pp_known_finding_expired(f, today)) {
            return f;
        }
        if (expired == NULL) {
            expired = f;
        }
    }
    *out_expired = expired != NULL;
    return expired;
}
