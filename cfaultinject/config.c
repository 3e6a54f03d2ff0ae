/* SPDX-License-Identifier: MIT */
/*
 * config.c: parse CFAULTINJECT.  Runs once, in the constructor, before the
 * client's main(); still it allocates nothing and uses no stdio, because a
 * client may load us in odd states (a static constructor of its own that
 * writes a file, for instance).
 *
 * Every key is checked: an unknown key, an unknown call or op name, a bad
 * number, a glob with an open bracket, an errno a call cannot return, all
 * stop the client with a message naming the key.  A typo must never turn a
 * fault campaign into a silent passthrough.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "trace-format.h"

struct errno_name {
    const char *name;
    int value;
};

static const struct errno_name errno_names[] = {
    { "EIO", EIO },       { "ENOSPC", ENOSPC },     { "EDQUOT", EDQUOT },
    { "EROFS", EROFS },   { "EINTR", EINTR },       { "EPERM", EPERM },
    { "EACCES", EACCES }, { "ENOENT", ENOENT },     { "EEXIST", EEXIST },
    { "EBADF", EBADF },   { "EINVAL", EINVAL },     { "EFBIG", EFBIG },
    { "EXDEV", EXDEV },   { "ENOTEMPTY", ENOTEMPTY }, { "EBUSY", EBUSY },
    { "EOPNOTSUPP", EOPNOTSUPP }, { "ENOMEM", ENOMEM }, { "EMLINK", EMLINK },
    { "EMFILE", EMFILE }, { NULL, 0 },
};

/* Append src to the error buffer without overflowing it. */
static void
err_append(char *buf, size_t len, const char *src)
{
    size_t used = strnlen(buf, len);
    while (*src != '\0' && used + 1 < len) {
        buf[used++] = *src++;
    }
    buf[used < len ? used : len - 1] = '\0';
}

static int
fail(char *errbuf, size_t errlen, const char *key, const char *msg,
     const char *value)
{
    errbuf[0] = '\0';
    err_append(errbuf, errlen, "key '");
    err_append(errbuf, errlen, key);
    err_append(errbuf, errlen, "': ");
    err_append(errbuf, errlen, msg);
    if (value != NULL) {
        err_append(errbuf, errlen, " '");
        err_append(errbuf, errlen, value);
        err_append(errbuf, errlen, "'");
    }
    return -1;
}

/* Decimal unsigned, no sign, no overflow, whole string. */
static int
parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A probability "0", "1", "0.25": scaled to a 64-bit threshold. */
static int
parse_prob(const char *s, uint64_t *out)
{
    uint64_t whole = 0, frac = 0, scale = 1;
    const char *p = s;
    if (*p == '\0') {
        return -1;
    }
    while (*p >= '0' && *p <= '9') {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > 1) {
            return -1;
        }
        p++;
    }
    if (*p == '.') {
        p++;
        if (*p == '\0') {
            return -1;
        }
        while (*p >= '0' && *p <= '9') {
            if (scale < 1000000000000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
            p++;
        }
    }
    if (*p != '\0' || (whole == 1 && frac != 0)) {
        return -1;
    }
    if (whole == 1) {
        *out = UINT64_MAX;
        return 0;
    }
    /* frac / scale * 2^64, computed without overflow in 128 bits. */
    *out = (uint64_t)(((unsigned __int128)frac << 64) / scale);
    return 0;
}

static int
parse_errno(const char *s, int *out)
{
    for (const struct errno_name *e = errno_names; e->name != NULL; e++) {
        if (strcmp(e->name, s) == 0) {
            *out = e->value;
            return 0;
        }
    }
    return -1;
}

static int
parse_bool(const char *s, int *out)
{
    if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int
copy_bounded(char *dst, size_t dstlen, const char *src)
{
    size_t n = strlen(src);
    if (n >= dstlen) {
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

/* Split a comma-separated list in place, calling fn on each item. */
static int
parse_name_list(char *list, struct cfi_rule *r, int is_ops, char *errbuf,
                size_t errlen)
{
    const char *key = is_ops ? "ops" : "calls";
    char *item = list;
    if (*list == '\0') {
        return fail(errbuf, errlen, key, "empty list", NULL);
    }
    while (item != NULL) {
        char *comma = strchr(item, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        if (is_ops) {
            int op = cfi_op_lookup(item);
            if (op <= 0) {
                return fail(errbuf, errlen, key, "unknown op", item);
            }
            r->ops |= 1ULL << op;
        } else {
            unsigned id = cfi_call_lookup(item);
            if (id == 0) {
                return fail(errbuf, errlen, key, "unknown call name", item);
            }
            r->calls[id / 64] |= 1ULL << (id % 64);
        }
        item = comma != NULL ? comma + 1 : NULL;
    }
    r->any_call = 0;
    return 0;
}

static int
set_global(struct cfi_config *cfg, const char *key, char *val, int *have_mode,
           char *errbuf, size_t errlen)
{
    if (strcmp(key, "mode") == 0) {
        static const char *const modes[] = { "passthrough", "trace", "fault",
                                             "crash" };
        for (int i = 0; i < 4; i++) {
            if (strcmp(val, modes[i]) == 0) {
                cfg->mode = i;
                *have_mode = 1;
                return 0;
            }
        }
        return fail(errbuf, errlen, key, "unknown mode (passthrough, trace, "
                    "fault, crash)", val);
    }
    if (strcmp(key, "trace") == 0) {
        if (val[0] != '/' || copy_bounded(cfg->trace_path,
                                          sizeof cfg->trace_path, val) < 0) {
            return fail(errbuf, errlen, key, "needs an absolute path", val);
        }
        return 0;
    }
    if (strcmp(key, "data") == 0) {
        if (strcmp(val, "full") == 0) {
            cfg->data_mode = CFI_DATA_FULL;
        } else if (strcmp(val, "digest") == 0) {
            cfg->data_mode = CFI_DATA_DIGEST;
        } else if (strcmp(val, "none") == 0) {
            cfg->data_mode = CFI_DATA_NONE;
        } else {
            return fail(errbuf, errlen, key, "unknown data mode (full, "
                        "digest, none)", val);
        }
        return 0;
    }
    if (strcmp(key, "seed") == 0) {
        if (parse_u64(val, &cfg->seed) < 0) {
            return fail(errbuf, errlen, key, "bad number", val);
        }
        return 0;
    }
    if (strcmp(key, "notify") == 0) {
        uint64_t fd;
        if (strncmp(val, "fd:", 3) == 0 && parse_u64(val + 3, &fd) == 0
            && fd < 65536) {
            cfg->notify_fd = (int)fd;
            return 0;
        }
        if (strncmp(val, "unix:", 5) == 0 && val[5] == '/'
            && copy_bounded(cfg->notify_unix, sizeof cfg->notify_unix,
                            val + 5) == 0) {
            return 0;
        }
        return fail(errbuf, errlen, key, "expected fd:N or unix:/path", val);
    }
    return fail(errbuf, errlen, key, "unknown key", NULL);
}

static int
set_rule(struct cfi_rule *r, const char *key, char *val, char *errbuf,
         size_t errlen)
{
    if (strcmp(key, "action") == 0) {
        if (strcmp(val, "fault") == 0) {
            r->action = CFI_RULE_FAULT;
        } else if (strcmp(val, "crash") == 0) {
            r->action = CFI_RULE_CRASH;
        } else if (strcmp(val, "mark") == 0) {
            r->action = CFI_RULE_MARK;
        } else {
            return fail(errbuf, errlen, key,
                        "unknown action (fault, crash, mark)", val);
        }
        return 0;
    }
    if (strcmp(key, "label") == 0) {
        /* Goes on a notify line as one word. */
        size_t n = strlen(val);
        int ok = n > 0 && n < sizeof r->label;
        for (size_t i = 0; ok && i < n; i++) {
            char ch = val[i];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                 || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'
                 || ch == '.';
        }
        if (!ok) {
            return fail(errbuf, errlen, key,
                        "1 to 31 of [A-Za-z0-9._-]", val);
        }
        memcpy(r->label, val, n + 1);
        return 0;
    }
    if (strcmp(key, "calls") == 0) {
        return parse_name_list(val, r, 0, errbuf, errlen);
    }
    if (strcmp(key, "ops") == 0) {
        return parse_name_list(val, r, 1, errbuf, errlen);
    }
    if (strcmp(key, "path") == 0) {
        if (copy_bounded(r->glob, sizeof r->glob, val) < 0
            || !cfi_glob_valid(val)) {
            return fail(errbuf, errlen, key, "bad glob", val);
        }
        return 0;
    }
    if (strcmp(key, "nth") == 0) {
        if (parse_u64(val, &r->nth) < 0 || r->nth == 0) {
            return fail(errbuf, errlen, key, "bad number (1, 2, ...)", val);
        }
        return 0;
    }
    if (strcmp(key, "seq") == 0) {
        if (parse_u64(val, &r->seq) < 0) {
            return fail(errbuf, errlen, key, "bad number", val);
        }
        r->has_seq = 1;
        return 0;
    }
    if (strcmp(key, "prob") == 0) {
        if (parse_prob(val, &r->prob) < 0) {
            return fail(errbuf, errlen, key, "bad probability (0 to 1)", val);
        }
        r->has_prob = 1;
        return 0;
    }
    if (strcmp(key, "errno") == 0) {
        if (parse_errno(val, &r->err) < 0) {
            return fail(errbuf, errlen, key, "unknown errno name", val);
        }
        return 0;
    }
    if (strcmp(key, "short") == 0) {
        if (parse_bool(val, &r->is_short) < 0) {
            return fail(errbuf, errlen, key, "expected yes or no", val);
        }
        return 0;
    }
    if (strcmp(key, "timing") == 0) {
        if (strcmp(val, "before") == 0) {
            r->timing = CFI_TIMING_BEFORE;
        } else if (strcmp(val, "after") == 0) {
            r->timing = CFI_TIMING_AFTER;
        } else {
            return fail(errbuf, errlen, key, "expected before or after", val);
        }
        return 0;
    }
    if (strcmp(key, "kill") == 0) {
        if (strcmp(val, "sigkill") == 0) {
            r->kill = CFI_KILL_SIGKILL;
        } else if (strcmp(val, "wait") == 0) {
            r->kill = CFI_KILL_WAIT;
        } else {
            return fail(errbuf, errlen, key, "expected sigkill or wait", val);
        }
        return 0;
    }
    return fail(errbuf, errlen, key, "unknown rule key", NULL);
}

/* Checks that need the whole rule: errno valid for its calls, and so on. */
static int
check_rule(struct cfi_config *cfg, struct cfi_rule *r, char *errbuf,
           size_t errlen)
{
    if (r->action == 0) {
        r->action = cfg->mode == CFI_MODE_CRASH ? CFI_RULE_CRASH
                                                : CFI_RULE_FAULT;
    }
    if (r->action == CFI_RULE_MARK) {
        if (cfg->notify_fd < 0 && cfg->notify_unix[0] == '\0') {
            return fail(errbuf, errlen, "action", "mark needs notify=", "mark");
        }
        if (r->label[0] == '\0') {
            memcpy(r->label, "mark", sizeof "mark");
        }
        return 0;
    }
    if (r->action == CFI_RULE_FAULT && r->err == 0 && !r->is_short) {
        r->err = EIO;
    }
    if (r->action == CFI_RULE_FAULT && r->err != 0) {
        /* The errno must be one that at least one selected call documents. */
        int ok = 0;
        for (unsigned id = 1; id < CFI_CALL_COUNT && !ok; id++) {
            int selected = r->any_call
                || (r->calls[id / 64] & (1ULL << (id % 64)))
                || (r->ops & (1ULL << cfi_call_table[id].op));
            if (selected && cfi_call_errno_valid(id, r->err)) {
                ok = 1;
            }
        }
        if (!ok) {
            return fail(errbuf, errlen, "errno",
                        "no selected call can return it", NULL);
        }
    }
    if (r->is_short) {
        int ok = 0;
        for (unsigned id = 1; id < CFI_CALL_COUNT && !ok; id++) {
            int selected = r->any_call
                || (r->calls[id / 64] & (1ULL << (id % 64)))
                || (r->ops & (1ULL << cfi_call_table[id].op));
            ok = selected && cfi_call_table[id].can_short;
        }
        if (!ok) {
            return fail(errbuf, errlen, "short",
                        "no selected call can write short", NULL);
        }
    }
    (void)cfg;
    return 0;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

int
cfi_config_parse(const char *text, struct cfi_config *cfg, char *errbuf,
                 size_t errlen)
{
    static char work[65536];
    size_t n = strlen(text);
    int have_mode = 0;
    struct cfi_rule *rule = NULL;

    memset(cfg, 0, sizeof *cfg);
    cfg->notify_fd = -1;
    errbuf[0] = '\0';
    if (n >= sizeof work) {
        return fail(errbuf, errlen, "CFAULTINJECT", "longer than 64 KiB", NULL);
    }
    memcpy(work, text, n + 1);

    char *entry = work;
    while (entry != NULL) {
        char *end = entry + strcspn(entry, ";\n");
        char *next = *end != '\0' ? end + 1 : NULL;
        *end = '\0';
        char *hash = strchr(entry, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        char *e = trim(entry);
        entry = next;
        if (*e == '\0') {
            continue;
        }
        if (strcmp(e, "[rule]") == 0) {
            if (rule != NULL && check_rule(cfg, rule, errbuf, errlen) < 0) {
                return -1;
            }
            if (cfg->n_rules == CFI_MAX_RULES) {
                return fail(errbuf, errlen, "[rule]", "too many rules", NULL);
            }
            rule = &cfg->rules[cfg->n_rules++];
            rule->any_call = 1;
            continue;
        }
        char *eq = strchr(e, '=');
        if (eq == NULL) {
            return fail(errbuf, errlen, e, "expected key=value", NULL);
        }
        *eq = '\0';
        char *key = trim(e);
        char *val = trim(eq + 1);
        int rc = rule != NULL ? set_rule(rule, key, val, errbuf, errlen)
                              : set_global(cfg, key, val, &have_mode, errbuf,
                                           errlen);
        if (rc < 0) {
            return -1;
        }
    }
    if (rule != NULL && check_rule(cfg, rule, errbuf, errlen) < 0) {
        return -1;
    }
    if (!have_mode) {
        return fail(errbuf, errlen, "mode", "missing (passthrough, trace, "
                    "fault, crash)", NULL);
    }
    if (cfg->mode == CFI_MODE_TRACE && cfg->trace_path[0] == '\0') {
        return fail(errbuf, errlen, "trace", "mode=trace needs trace=PATH",
                    NULL);
    }
    if (cfg->mode == CFI_MODE_PASSTHROUGH && cfg->n_rules > 0) {
        return fail(errbuf, errlen, "[rule]", "mode=passthrough takes no rules",
                    NULL);
    }
    if ((cfg->mode == CFI_MODE_FAULT || cfg->mode == CFI_MODE_CRASH)
        && cfg->n_rules == 0) {
        return fail(errbuf, errlen, "mode", "fault and crash need a [rule]",
                    NULL);
    }
    return 0;
}

/* ---- glob ------------------------------------------------------------ */

int
cfi_glob_valid(const char *p)
{
    for (; *p != '\0'; p++) {
        if (*p == '\\') {
            if (p[1] == '\0') {
                return 0;
            }
            p++;
        } else if (*p == '[') {
            const char *q = p + 1;
            if (*q == '!' || *q == '^') {
                q++;
            }
            if (*q == ']') {
                q++;
            }
            while (*q != '\0' && *q != ']') {
                q++;
            }
            if (*q != ']') {
                return 0;
            }
            p = q;
        }
    }
    return 1;
}

/* Does the bracket expression at *pp match ch?  Advances *pp past it. */
static int
match_set(const char **pp, char ch)
{
    const char *p = *pp + 1;
    int negate = 0, hit = 0;
    if (*p == '!' || *p == '^') {
        negate = 1;
        p++;
    }
    int first = 1;
    while (*p != '\0' && (*p != ']' || first)) {
        first = 0;
        if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
            if (ch >= p[0] && ch <= p[2]) {
                hit = 1;
            }
            p += 3;
        } else {
            if (ch == *p) {
                hit = 1;
            }
            p++;
        }
    }
    *pp = *p == ']' ? p + 1 : p;
    return hit != negate;
}

/*
 * Iterative matcher with one backtrack point for '*': linear in practice
 * and bounded by |pattern| * |s| in the worst case, with no recursion, so
 * a hostile pattern cannot blow the client's stack.  '*' crosses '/'.
 */
int
cfi_glob_match(const char *pattern, const char *s)
{
    const char *p = pattern, *star_p = NULL, *star_s = NULL;
    while (*s != '\0') {
        if (*p == '*') {
            star_p = ++p;
            star_s = s;
            continue;
        }
        if (*p == '?') {
            p++;
            s++;
            continue;
        }
        if (*p == '[') {
            const char *q = p;
            if (match_set(&q, *s)) {
                p = q;
                s++;
                continue;
            }
        } else {
            const char *lit = p;
            if (*lit == '\\' && lit[1] != '\0') {
                lit++;
            }
            if (*lit != '\0' && *lit == *s) {
                p = lit + 1;
                s++;
                continue;
            }
        }
        if (star_p == NULL) {
            return 0;
        }
        p = star_p;
        s = ++star_s;
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}
