/* SPDX-License-Identifier: MIT */
/*
 * dpkg-judge.c: see dpkg-judge.h.
 */
#include "oracle/dpkg-judge.h"

#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"

void
pp_dpkg_pkg_free(PpDpkgPkg *p)
{
    if (p != NULL) {
        g_free(p->package);
        g_free(p->version);
        g_free(p->status);
        g_free(p);
    }
}

GHashTable *
pp_dpkg_pkgs_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                 (GDestroyNotify)pp_dpkg_pkg_free);
}

/* The value of a "Field: value" line, NULL when line is another field. */
static const char *
field(const char *line, const char *name)
{
    gsize n = strlen(name);
    if (g_ascii_strncasecmp(line, name, n) != 0 || line[n] != ':') {
        return NULL;
    }
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    return v;
}

static void
stanza_end(PpDpkgPkg **cur, GHashTable *pkgs)
{
    PpDpkgPkg *p = *cur;
    *cur = NULL;
    if (p == NULL) {
        return;
    }
    if (p->package == NULL) {
        pp_dpkg_pkg_free(p);
        return;
    }
    /* The key is the entry's own name, so replacing frees the old one. */
    g_hash_table_replace(pkgs, p->package, p);
}

void
pp_dpkg_status_parse(const char *text, GHashTable *pkgs)
{
    g_auto(GStrv) lines = g_strsplit(text != NULL ? text : "", "\n", -1);
    PpDpkgPkg *cur = NULL;
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];
        if (*l == '\0') {
            stanza_end(&cur, pkgs);
            continue;
        }
        if (*l == ' ' || *l == '\t') {
            continue;            /* a continuation line */
        }
        if (cur == NULL) {
            cur = g_new0(PpDpkgPkg, 1);
        }
        const char *v;
        if ((v = field(l, "Package")) != NULL) {
            g_free(cur->package);
            cur->package = g_strstrip(g_strdup(v));
        } else if ((v = field(l, "Version")) != NULL) {
            g_free(cur->version);
            cur->version = g_strstrip(g_strdup(v));
        } else if ((v = field(l, "Status")) != NULL) {
            g_free(cur->status);
            cur->status = g_strstrip(g_strdup(v));
        }
    }
    stanza_end(&cur, pkgs);
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GHashTable *
pp_dpkg_db_read(const char *root, GError **error)
{
    g_autofree char *db = g_build_filename(root, "var", "lib", "dpkg", NULL);
    g_autofree char *status = g_build_filename(db, "status", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(status, &text, NULL, error)) {
        g_prefix_error(error, "reading dpkg's status: ");
        return NULL;
    }
    GHashTable *pkgs = pp_dpkg_pkgs_new();
    pp_dpkg_status_parse(text, pkgs);
    /* The journal: entries named by number, applied in order; dpkg skips
       any other name (a .new being written, say). */
    g_autofree char *upd = g_build_filename(db, "updates", NULL);
    g_autoptr(GDir) dir = g_dir_open(upd, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while (dir != NULL && (n = g_dir_read_name(dir)) != NULL) {
        if (n[0] != '\0' && strspn(n, "0123456789") == strlen(n)) {
            g_ptr_array_add(names, g_strdup(n));
        }
    }
    g_ptr_array_sort(names, cmp_str);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *p = g_build_filename(upd, names->pdata[i], NULL);
        g_autofree char *t = NULL;
        if (g_file_get_contents(p, &t, NULL, NULL)) {
            pp_dpkg_status_parse(t, pkgs);
        }
    }
    return pkgs;
}

/* The third word of Status: the package's state. */
static const char *
state_of(const PpDpkgPkg *p, char *buf, gsize len)
{
    g_auto(GStrv) w = g_strsplit(p->status != NULL ? p->status : "", " ", 3);
    if (g_strv_length(w) < 3) {
        return "";
    }
    g_strlcpy(buf, w[2], len);
    return buf;
}

gboolean
pp_dpkg_pkg_needs_intervention(const PpDpkgPkg *p)
{
    char buf[64];
    const char *st = state_of(p, buf, sizeof buf);
    return strstr(p->status != NULL ? p->status : "", " reinstreq ") != NULL
           || g_str_equal(st, "half-installed") || g_str_equal(st, "unpacked")
           || g_str_equal(st, "half-configured")
           || g_str_equal(st, "triggers-awaited")
           || g_str_equal(st, "triggers-pending");
}

gboolean
pp_dpkg_pkg_installed(const PpDpkgPkg *p)
{
    char buf[64];
    const char *st = state_of(p, buf, sizeof buf);
    return g_str_equal(st, "installed") || pp_dpkg_pkg_needs_intervention(p);
}

char **
pp_dpkg_installed_set(GHashTable *pkgs)
{
    GPtrArray *a = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, pkgs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const PpDpkgPkg *p = v;
        if (pp_dpkg_pkg_installed(p)) {
            g_ptr_array_add(a, g_strdup_printf("%s %s", p->package,
                                               p->version != NULL
                                               ? p->version : "?"));
        }
    }
    g_ptr_array_sort(a, cmp_str);
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* dpkg's path-exclude/path-include filters of the device, in the order
 * dpkg reads them (dpkg.cfg.d in name order): "-glob" / "+glob". */
static GPtrArray *
path_filters(const char *root)
{
    GPtrArray *f = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *d = g_build_filename(root, "etc", "dpkg", "dpkg.cfg.d",
                                          NULL);
    g_autoptr(GDir) dir = g_dir_open(d, 0, NULL);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while (dir != NULL && (n = g_dir_read_name(dir)) != NULL) {
        g_ptr_array_add(files, g_build_filename(d, n, NULL));
    }
    g_ptr_array_sort(files, cmp_str);
    g_ptr_array_add(files, g_build_filename(root, "etc", "dpkg", "dpkg.cfg",
                                            NULL));
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *t = NULL;
        if (!g_file_get_contents(files->pdata[i], &t, NULL, NULL)) {
            continue;
        }
        g_auto(GStrv) lines = g_strsplit(t, "\n", -1);
        for (guint j = 0; lines[j] != NULL; j++) {
            char *l = g_strstrip(lines[j]);
            gboolean ex = g_str_has_prefix(l, "path-exclude");
            if (!ex && !g_str_has_prefix(l, "path-include")) {
                continue;
            }
            l += strlen("path-exclude");
            l += strspn(l, "= \t");
            g_ptr_array_add(f, g_strconcat(ex ? "-" : "+", l, NULL));
        }
    }
    return f;
}

static gboolean
excluded(GPtrArray *filters, const char *path)
{
    gboolean ex = FALSE;
    for (guint i = 0; i < filters->len; i++) {
        const char *f = filters->pdata[i];
        if (fnmatch(f + 1, path, 0) == 0) {
            ex = f[0] == '-';
        }
    }
    return ex;
}

static char *
file_md5(const char *path)
{
    g_autoptr(GMappedFile) m = g_mapped_file_new(path, FALSE, NULL);
    if (m == NULL) {
        return NULL;
    }
    return g_compute_checksum_for_data(
        G_CHECKSUM_MD5, (const guchar *)g_mapped_file_get_contents(m),
        g_mapped_file_get_length(m));
}

/* The files of p that differ from its md5sums (or are missing), up to
 * a few of them named in bad; the count. */
static guint
check_md5sums(const char *root, const PpDpkgPkg *p, GPtrArray *filters,
              GPtrArray *bad)
{
    g_autofree char *name = g_strconcat(p->package, ".md5sums", NULL);
    g_autofree char *path = g_build_filename(root, "var", "lib", "dpkg",
                                             "info", name, NULL);
    g_autofree char *t = NULL;
    if (!g_file_get_contents(path, &t, NULL, NULL)) {
        return 0;                 /* a package without files to check */
    }
    guint n_bad = 0;
    g_auto(GStrv) lines = g_strsplit(t, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];
        if (strlen(l) < 35 || l[32] != ' ') {
            continue;
        }
        const char *rel = l + 34;   /* "SUM  path" */
        g_autofree char *abs = g_strconcat("/", rel, NULL);
        g_autofree char *f = g_build_filename(root, rel, NULL);
        g_autofree char *sum = file_md5(f);
        const char *why = NULL;
        if (sum == NULL) {
            why = excluded(filters, abs) ? NULL : "missing";
        } else if (strncmp(sum, l, 32) != 0) {
            why = "differs";
        }
        if (why != NULL) {
            if (bad->len < 8) {
                g_ptr_array_add(bad, g_strdup_printf("%s: %s %s",
                                                     p->package, abs, why));
            }
            n_bad++;
        }
    }
    return n_bad;
}

/* The shell (and the init, if any) run chrooted into root: a user
 * namespace when not root, so the judge needs no privilege. */
static gboolean
shell_runs(const char *root, const char *init, char **out_err)
{
    const char *script = init != NULL ? "test -x \"$1\"" : "true";
    const char *argv[] = { "unshare", "-r", "chroot", root, "/bin/sh", "-c",
                           script, "sh", init, NULL };
    const char *const *a = geteuid() == 0 ? argv + 2 : argv;
    g_autoptr(GError) local = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        a, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        &local);
    g_autofree char *err = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err,
                                          &local)) {
        *out_err = g_strdup(local->message);
        return FALSE;
    }
    if (!g_subprocess_get_successful(p)) {
        *out_err = g_strdup(err != NULL && *err != '\0' ? g_strchomp(err)
                            : "exit status not 0");
        return FALSE;
    }
    return TRUE;
}

/* What `dpkg --root=root --audit` prints (read-only: it takes no lock). */
static char *
dpkg_audit(const char *root)
{
    g_autofree char *opt = g_strconcat("--root=", root, NULL);
    g_autoptr(GSubprocess) p = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
        NULL, "dpkg", opt, "--audit", NULL);
    char *out = NULL;
    if (p == NULL
        || !g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, NULL)) {
        return g_strdup("(dpkg --audit could not run)");
    }
    return out;
}

static void
add_strv(JsonBuilder *b, const char *name, GPtrArray *a)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < a->len; i++) {
        json_builder_add_string_value(b, a->pdata[i]);
    }
    json_builder_end_array(b);
}

static gboolean
same_set(char **a, char **b)
{
    return a != NULL && b != NULL && g_strv_equal((const char *const *)a,
                                                  (const char *const *)b);
}

gboolean
pp_dpkg_judge(const PpSlotDevice *d, const char *root, PpSlotJudgement *out,
              GError **error)
{
    memset(out, 0, sizeof *out);
    if (!g_file_test(root, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "dpkg: %s is not a directory", root);
        return FALSE;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    g_autofree char *sh_err = NULL;
    gboolean sh_ok = shell_runs(root, d->init, &sh_err);
    pp_json_add_boolean(b, "shell_runs", sh_ok);

    g_autoptr(GError) db_err = NULL;
    g_autoptr(GHashTable) pkgs = pp_dpkg_db_read(root, &db_err);
    g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) filters = path_filters(root);
    guint n_bad = 0;
    g_auto(GStrv) set = NULL;
    if (pkgs != NULL) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, pkgs);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const PpDpkgPkg *p = v;
            if (pp_dpkg_pkg_needs_intervention(p)) {
                g_ptr_array_add(pending, g_strdup_printf("%s: %s",
                                                         p->package,
                                                         p->status));
            } else if (pp_dpkg_pkg_installed(p)) {
                /* A package in transition may differ from its sums: that
                   is what the intervention repairs; an installed one may
                   not. */
                n_bad += check_md5sums(root, p, filters, bad);
            }
        }
        g_ptr_array_sort(pending, cmp_str);
        set = pp_dpkg_installed_set(pkgs);
    }
    g_autofree char *audit = dpkg_audit(root);
    g_strstrip(audit);
    add_strv(b, "pending", pending);
    add_strv(b, "md5_mismatch", bad);
    pp_json_add_int(b, "md5_mismatches", n_bad);
    pp_json_add_string(b, "audit", audit);

    if (!sh_ok) {
        out->outcome = PP_OUTCOME_BRICK;
        out->reason = g_strdup_printf("the shell does not run in the state "
                                      "(chroot /bin/sh -c %s): %s",
                                      d->init != NULL ? "'test -x init'"
                                      : "true", sh_err);
    } else if (pkgs == NULL) {
        out->outcome = PP_OUTCOME_NEEDS_INTERVENTION;
        out->boots = g_strdup("other");
        out->reason = g_strdup_printf("no package database: %s",
                                      db_err->message);
    } else if (n_bad > 0) {
        out->outcome = PP_OUTCOME_WRONG_TREE;
        out->boots = g_strdup("other");
        out->reason = g_strdup_printf("%u file(s) of installed packages "
                                      "differ from their md5sums (%s)",
                                      n_bad, (char *)bad->pdata[0]);
    } else if (pending->len > 0 || *audit != '\0') {
        out->outcome = PP_OUTCOME_NEEDS_INTERVENTION;
        out->boots = g_strdup("other");
        out->reason = pending->len > 0
            ? g_strdup_printf("%u package(s) need dpkg --configure -a "
                              "(%s)", pending->len,
                              (char *)pending->pdata[0])
            : g_strdup_printf("dpkg --audit: %.200s", audit);
    } else if (same_set(set, d->pkgs_to)) {
        out->outcome = PP_OUTCOME_NO_ROLLBACK;
        out->boots = g_strdup("new");
        out->reason = g_strdup_printf("boots the new version v%u, complete; "
                                      "a package-managed root keeps no "
                                      "other to go back to", d->to_version);
    } else if (same_set(set, d->pkgs_from)) {
        out->outcome = PP_OUTCOME_PASS;
        out->boots = g_strdup("old");
        out->reason = g_strdup_printf("boots the old version v%u, complete",
                                      d->from_version);
    } else {
        out->outcome = PP_OUTCOME_WRONG_TREE;
        out->boots = g_strdup("other");
        out->reason = g_strdup_printf("every package installed, but the set "
                                      "is neither v%u's nor v%u's: a mix",
                                      d->from_version, d->to_version);
    }
    pp_json_add_string_or_null(b, "boots", out->boots);
    pp_json_add_string(b, "outcome", pp_outcome_to_string(out->outcome));
    pp_json_add_string(b, "reason", out->reason);
    json_builder_end_object(b);
    out->evidence = json_builder_get_root(b);
    return TRUE;
}
