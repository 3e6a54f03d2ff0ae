/* SPDX-License-Identifier: MIT */
/*
 * signature.c: see signature.h.
 *
 * The classifiers read the oracle's own messages (oracle.c), which are
 * made of fixed words around paths, checksums and errno strings: each
 * keeps the fixed words and drops the rest.  A message no rule knows gets
 * a catch-all class of its kind rather than its text, so that an unknown
 * message can never make two runs differ by a path.
 */
#include "oracle/signature.h"
#include "common/json.h"

#include <string.h>

const char *const pp_signature_fields[] = {
    "outcome", "backend", "bootversion", "loader", "booted", "booted_tree",
    "entry_states", "tree_problems", "repo_problems", "partial_commits",
    "staging_dirs", "loader_dirs", "boot_dirs", "deploy_dirs", NULL,
};

/* strerror(ENOENT) as the oracle wrote it (the C locale's). */
static gboolean
says_enoent(const char *msg)
{
    return strstr(msg, "No such file") != NULL;
}

const char *
pp_signature_loader_class(const char *e)
{
    if (e == NULL) {
        return "ok";
    }
    if (strcmp(e, "boot/loader is not a symlink") == 0) {
        return "loader-not-symlink";
    }
    if (g_str_has_prefix(e, "readlink(boot/loader)")) {
        return says_enoent(e) ? "loader-missing" : "loader-unreadable";
    }
    if (g_str_has_prefix(e, "boot/loader -> ")) {
        if (g_str_has_suffix(e, "not loader.0 or loader.1")) {
            return "loader-bad-target";
        }
        if (g_str_has_suffix(e, "is not a directory")) {
            return "loader-dangling";
        }
    }
    if (g_str_has_suffix(e, ": no ostree-*.conf entries")) {
        return "no-entries";
    }
    if (g_str_has_suffix(e, ": no kernel_image")) {
        return "no-kernel-image";
    }
    if (strstr(e, "uEnv.txt") != NULL) {
        return says_enoent(e) ? "uenv-missing" : "uenv-unreadable";
    }
    if (strstr(e, "/entries") != NULL) {
        return says_enoent(e) ? "entries-missing" : "entries-unreadable";
    }
    return "loader-other";
}

/* "kernel /boot/...: openat(...): No such file or directory" and the
 * like, from hash_boot_file(). */
static const char *
boot_file_class(const char *e, const char *what)
{
    static const char *const classes[][4] = {
        /* missing, empty, not-file, unreadable */
        { "kernel-missing", "kernel-empty", "kernel-not-file",
          "kernel-unreadable" },
        { "initramfs-missing", "initramfs-empty", "initramfs-not-file",
          "initramfs-unreadable" },
        { "devicetree-missing", "devicetree-empty", "devicetree-not-file",
          "devicetree-unreadable" },
    };
    guint i = strcmp(what, "kernel") == 0 ? 0
              : strcmp(what, "initramfs") == 0 ? 1 : 2;
    if (says_enoent(e)) {
        return classes[i][0];
    }
    if (g_str_has_suffix(e, ": empty")) {
        return classes[i][1];
    }
    if (g_str_has_suffix(e, ": not a regular file")) {
        return classes[i][2];
    }
    return classes[i][3];
}

const char *
pp_signature_boot_class(const char *e)
{
    if (e == NULL) {
        return "boots";
    }
    if (g_str_has_prefix(e, "parsing ")) {
        return "entry-unparseable";
    }
    if (strcmp(e, "no kernel named") == 0) {
        return "no-kernel-named";
    }
    const char *files[] = { "kernel", "initramfs", "devicetree" };
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *prefix = g_strconcat(files[i], " ", NULL);
        if (g_str_has_prefix(e, prefix)) {
            return boot_file_class(e, files[i]);
        }
    }
    if (g_str_has_prefix(e, "bootcsum mismatch")) {
        return "bootcsum-mismatch";
    }
    if (strcmp(e, "no ostree= kernel argument") == 0) {
        return "no-ostree-arg";
    }
    if (g_str_has_prefix(e, "ostree=")) {
        /* What follows "ostree=ARG: " names the failing path. */
        const char *rest = strstr(e, ": ");
        rest = rest != NULL ? rest + 2 : e;
        if (g_str_has_suffix(e, "is not a symbolic link")) {
            return "ostree-not-symlink";
        }
        if (g_str_has_suffix(e, "/usr is not a directory")) {
            return "deployment-no-usr";
        }
        if (g_str_has_suffix(e, "/etc is not a directory")) {
            return "deployment-no-etc";
        }
        if (g_str_has_suffix(e, "is not a directory")) {
            return "deployment-not-dir";
        }
        if (says_enoent(rest)) {
            /* The link resolved up to the deployment, which is gone; or
             * the link (its boot.N directory) itself is gone. */
            return strstr(rest, "ostree/deploy/") != NULL
                   ? "deployment-missing" : "ostree-link-missing";
        }
        return "ostree-unresolvable";
    }
    return "boot-other";
}

const char *
pp_signature_diff_class(const char *kind, const char *detail)
{
    const char *d = detail != NULL ? detail : "";
    if (kind == NULL) {
        return "other";
    }
    if (strcmp(kind, "size") == 0) {
        if (g_str_has_prefix(d, "0 bytes,")) {
            return "empty-file";
        }
        return strstr(d, "(as in ") != NULL ? "other-version" : "size";
    }
    if (strcmp(kind, "content") == 0) {
        return strstr(d, "(as in ") != NULL ? "other-version" : "content";
    }
    if (strcmp(kind, "missing") == 0) {
        if (strcmp(d, "no merged etc directory") == 0) {
            return "etc-missing";
        }
        return strstr(d, "of usr/etc not in etc") != NULL ? "etc-incomplete"
                                                          : "missing";
    }
    if (strcmp(kind, "kernel") == 0) {
        return "kernel-of-other-commit";
    }
    const char *known[] = { "extra", "type", "mode", "owner", "target",
                            "unreadable" };
    for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
        if (strcmp(kind, known[i]) == 0) {
            return known[i];
        }
    }
    return "other";
}

/*
 * An object problem is "NAME (why): message" with NAME either
 * objects/XX/REST.TYPE (a bare repo's content) or CHECKSUM.TYPE; the
 * class is the state and the type: missing-content-object,
 * corrupt-dirtree-object, ...
 */
const char *
pp_signature_repo_class(const char *p)
{
    static const char *const types[] = { "commit", "dirtree", "dirmeta",
                                         "content" };
    static const char *const missing[] = {
        "missing-commit-object", "missing-dirtree-object",
        "missing-dirmeta-object", "missing-content-object" };
    static const char *const corrupt[] = {
        "corrupt-commit-object", "corrupt-dirtree-object",
        "corrupt-dirmeta-object", "corrupt-content-object" };
    static const char *const unreadable[] = {
        "unreadable-commit-object", "unreadable-dirtree-object",
        "unreadable-dirmeta-object", "unreadable-content-object" };
    if (p == NULL) {
        return "repo-other";
    }
    if (g_str_has_prefix(p, "opening ostree/repo")) {
        return "repo-unopenable";
    }
    if (g_str_has_prefix(p, "listing refs")) {
        return "refs-unreadable";   /* an empty or torn ref file */
    }
    if (g_str_has_prefix(p, "commit ")) {
        return "commit-untraversable";
    }
    const char *paren = strstr(p, " (");
    const char *msg = strstr(p, "): ");
    if (paren == NULL || msg == NULL) {
        return "repo-other";
    }
    g_autofree char *name = g_strndup(p, (gsize)(paren - p));
    const char *dot = strrchr(name, '.');
    const char *type = dot != NULL ? dot + 1 : "";
    guint t = G_N_ELEMENTS(types);
    for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
        if (strcmp(type, types[i]) == 0
            || (i == 3 && strcmp(type, "file") == 0)) {
            t = i;
        }
    }
    if (t == G_N_ELEMENTS(types)) {
        return "repo-other";
    }
    msg += 3;
    g_autofree char *lower = g_ascii_strdown(msg, -1);
    if (strcmp(lower, "missing") == 0 || says_enoent(msg)
        || strstr(lower, "not found") != NULL
        || strstr(lower, "no such") != NULL) {
        return missing[t];
    }
    if (strstr(lower, "corrupt") != NULL) {
        return corrupt[t];
    }
    return unreadable[t];
}

/* ---- reading the judgement ------------------------------------------ */

static const char *
str_member(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name)) {
        return NULL;
    }
    JsonNode *n = json_object_get_member(o, name);
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
           ? json_node_get_string(n) : NULL;
}

static gint64
int_member(JsonObject *o, const char *name, gint64 dflt)
{
    if (o == NULL || !json_object_has_member(o, name)) {
        return dflt;
    }
    JsonNode *n = json_object_get_member(o, name);
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
           ? json_node_get_int(n) : dflt;
}

static gboolean
bool_member(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name)) {
        return FALSE;
    }
    JsonNode *n = json_object_get_member(o, name);
    return JSON_NODE_HOLDS_VALUE(n)
           && json_node_get_value_type(n) == G_TYPE_BOOLEAN
           && json_node_get_boolean(n);
}

static JsonObject *
obj_member(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name)) {
        return NULL;
    }
    JsonNode *n = json_object_get_member(o, name);
    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
array_member(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name)) {
        return NULL;
    }
    JsonNode *n = json_object_get_member(o, name);
    return JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
array_object(JsonArray *a, guint i)
{
    JsonNode *n = json_array_get_element(a, i);
    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *
entry_state(JsonObject *e)
{
    if (!bool_member(e, "bootable")) {
        return pp_signature_boot_class(str_member(e, "boot_error"));
    }
    JsonObject *t = obj_member(e, "tree");
    if (!bool_member(t, "checked")) {
        return "boots:unchecked";
    }
    if (!bool_member(t, "known")) {
        return "boots:unknown-tree";
    }
    return bool_member(t, "complete") ? "boots:complete" : "boots:incomplete";
}

static const char *
booted_tree(JsonArray *entries, gint64 booted)
{
    guint n = entries != NULL ? json_array_get_length(entries) : 0;
    if (booted < 0 || (guint64)booted >= n) {
        return "none";
    }
    JsonObject *bt = obj_member(array_object(entries, (guint)booted), "tree");
    const char *v = str_member(bt, "version");
    if (!bool_member(bt, "known") || v == NULL) {
        return "unknown";
    }
    /* Old: the loader also holds a known tree of a higher version (ostree
     * puts the newest deployment first, so this is a fallback or a
     * rollback made the default). */
    for (guint i = 0; i < n; i++) {
        JsonObject *t = obj_member(array_object(entries, i), "tree");
        const char *ov = str_member(t, "version");
        if (i != (guint)booted && bool_member(t, "known") && ov != NULL
            && strverscmp(ov, v) > 0) {
            return "old";
        }
    }
    return "new";
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted, de-duplicated strings of set as a JSON array. */
static JsonArray *
sorted_array(GHashTable *set)
{
    g_autoptr(GPtrArray) v = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(v, key);
    }
    g_ptr_array_sort(v, cmp_str);
    JsonArray *a = json_array_new();
    for (guint i = 0; i < v->len; i++) {
        json_array_add_string_element(a, v->pdata[i]);
    }
    return a;
}

gboolean
pp_signature_from_judgement(JsonNode *judgement, JsonNode **out,
                            GError **error)
{
    JsonObject *j = judgement != NULL && JSON_NODE_HOLDS_OBJECT(judgement)
        ? json_node_get_object(judgement) : NULL;
    const char *outcome = str_member(j, "outcome");
    if (outcome == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "signature: not an oracle judgement (%s)",
                    j == NULL ? "not a JSON object" : "no 'outcome'");
        return FALSE;
    }
    JsonArray *entries = array_member(j, "entries");
    guint n = entries != NULL ? json_array_get_length(entries) : 0;
    gint64 booted = int_member(j, "booted", -1);

    JsonArray *states = json_array_new();
    g_autoptr(GHashTable) tree = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, NULL);
    for (guint i = 0; i < n; i++) {
        JsonObject *e = array_object(entries, i);
        json_array_add_string_element(states, entry_state(e));
        JsonArray *diffs = array_member(obj_member(e, "tree"), "diffs");
        for (guint k = 0; diffs != NULL && k < json_array_get_length(diffs); k++) {
            JsonObject *d = array_object(diffs, k);
            const char *cls = pp_signature_diff_class(str_member(d, "kind"),
                                                      str_member(d, "detail"));
            g_hash_table_add(tree, g_strdup_printf("e%u:%s", i, cls));
        }
    }

    JsonObject *repo = obj_member(j, "repo");
    g_autoptr(GHashTable) problems = g_hash_table_new(g_str_hash, g_str_equal);
    JsonArray *pa = array_member(repo, "problems");
    for (guint i = 0; pa != NULL && i < json_array_get_length(pa); i++) {
        g_hash_table_add(problems, (gpointer)pp_signature_repo_class(
                             json_array_get_string_element(pa, i)));
    }
    g_autoptr(GHashTable) partial = g_hash_table_new(g_str_hash, g_str_equal);
    JsonArray *refs = array_member(repo, "refs");
    for (guint i = 0; refs != NULL && i < json_array_get_length(refs); i++) {
        JsonObject *r = array_object(refs, i);
        const char *c = str_member(r, "commit");
        if (c != NULL && bool_member(r, "partial")) {
            g_hash_table_add(partial, (gpointer)c);
        }
    }
    JsonObject *layout = obj_member(j, "layout");

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "outcome", outcome);
    json_builder_set_member_name(b, "backend");
    json_builder_add_string_value(b, str_member(j, "backend") != NULL
                                     ? str_member(j, "backend") : "none");
    pp_json_add_int(b, "bootversion", int_member(j, "bootversion", -1));
    json_builder_set_member_name(b, "loader");
    json_builder_add_string_value(b, pp_signature_loader_class(
                                      str_member(j, "loader_error")));
    pp_json_add_int(b, "booted", booted);
    pp_json_add_string(b, "booted_tree", booted_tree(entries, booted));
    json_builder_set_member_name(b, "entry_states");
    json_builder_add_value(b, json_node_init_array(json_node_alloc(), states));
    json_array_unref(states);
    JsonArray *ta = sorted_array(tree);
    json_builder_set_member_name(b, "tree_problems");
    json_builder_add_value(b, json_node_init_array(json_node_alloc(), ta));
    json_array_unref(ta);
    JsonArray *ra = sorted_array(problems);
    json_builder_set_member_name(b, "repo_problems");
    json_builder_add_value(b, json_node_init_array(json_node_alloc(), ra));
    json_array_unref(ra);
    pp_json_add_int(b, "partial_commits", g_hash_table_size(partial));
    pp_json_add_int(b, "staging_dirs", int_member(repo, "staging_dirs", 0));
    pp_json_add_int(b, "loader_dirs", int_member(layout, "loader_dirs", -1));
    pp_json_add_int(b, "boot_dirs", int_member(layout, "boot_dirs", -1));
    pp_json_add_int(b, "deploy_dirs", int_member(layout, "deploy_dirs", -1));
    json_builder_end_object(b);
    *out = json_builder_get_root(b);
    return TRUE;
}

/* ---- comparing and printing ----------------------------------------- */

static JsonNode *
field(JsonNode *sig, const char *name)
{
    JsonObject *o = sig != NULL && JSON_NODE_HOLDS_OBJECT(sig)
        ? json_node_get_object(sig) : NULL;
    return o != NULL && json_object_has_member(o, name)
           ? json_object_get_member(o, name) : NULL;
}

guint
pp_signature_agree(JsonNode *a, JsonNode *b, GPtrArray *differ)
{
    guint same = 0;
    for (const char *const *f = pp_signature_fields; *f != NULL; f++) {
        JsonNode *x = field(a, *f);
        JsonNode *y = field(b, *f);
        if (x != NULL && y != NULL && json_node_equal(x, y)) {
            same++;
        } else if (differ != NULL) {
            g_ptr_array_add(differ, (gpointer)*f);
        }
    }
    return same;
}

gboolean
pp_signature_match(JsonNode *a, JsonNode *b)
{
    return pp_signature_agree(a, b, NULL) == PP_SIGNATURE_N_FIELDS;
}

static void
append_list(GString *s, JsonNode *n)
{
    JsonArray *a = n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n)
                                                         : NULL;
    guint len = a != NULL ? json_array_get_length(a) : 0;
    if (len == 0) {
        g_string_append(s, "-");
        return;
    }
    for (guint i = 0; i < len; i++) {
        g_string_append_printf(s, "%s%s", i > 0 ? "," : "",
                               json_array_get_string_element(a, i));
    }
}

static const char *
sfield(JsonNode *sig, const char *name)
{
    JsonNode *n = field(sig, name);
    return n != NULL && json_node_get_value_type(n) == G_TYPE_STRING
           ? json_node_get_string(n) : "?";
}

static gint64
ifield(JsonNode *sig, const char *name)
{
    JsonNode *n = field(sig, name);
    return n != NULL && json_node_get_value_type(n) == G_TYPE_INT64
           ? json_node_get_int(n) : -1;
}

char *
pp_signature_to_text(JsonNode *sig)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_string_append_printf(s, "%s %s loader.%" G_GINT64_FORMAT " %s booted=%"
                           G_GINT64_FORMAT "/%s entries=", sfield(sig, "outcome"),
                           sfield(sig, "backend"), ifield(sig, "bootversion"),
                           sfield(sig, "loader"), ifield(sig, "booted"),
                           sfield(sig, "booted_tree"));
    append_list(s, field(sig, "entry_states"));
    g_string_append(s, " tree=");
    append_list(s, field(sig, "tree_problems"));
    g_string_append(s, " repo=");
    append_list(s, field(sig, "repo_problems"));
    g_string_append_printf(s, " partial=%" G_GINT64_FORMAT " staging=%"
                           G_GINT64_FORMAT " dirs=loader:%" G_GINT64_FORMAT
                           ",boot:%" G_GINT64_FORMAT ",deploy:%" G_GINT64_FORMAT,
                           ifield(sig, "partial_commits"),
                           ifield(sig, "staging_dirs"), ifield(sig, "loader_dirs"),
                           ifield(sig, "boot_dirs"), ifield(sig, "deploy_dirs"));
    return g_string_free(g_steal_pointer(&s), FALSE);
}
