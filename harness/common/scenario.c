/* SPDX-License-Identifier: MIT */
/*
 * scenario.c: the key table, the parser and the reference generator.
 */
#include "common/keyfile.h"
#include "common/phases.h"
#include "common/scenario.h"

#include <gio/gio.h>
#include <string.h>

static gboolean parse_resume(const char *s, PpResumeKind *kind, guint *n);

typedef enum {
    KT_STRING,
    KT_UINT,
    KT_BOOL,
    KT_ENUM,
    KT_LIST,
    KT_MODEL,
    KT_POINTS,
    KT_RESUME,
} KeyType;

typedef struct {
    const char *section;
    const char *key;
    KeyType type;
    const char *def;         /* default, as it would be written */
    const char *values;      /* KT_ENUM: "a|b|c" */
    const char *doc;
} KeyDef;

/*
 * The one table.  Order is the reference's order.  Defaults are applied by
 * parsing them, so a default is always a legal value.
 */
static const KeyDef keys[] = {
    { "scenario", "name", KT_STRING, "default-upgrade", NULL,
      "Short name, used in reports and JUnit." },
    { "scenario", "description", KT_STRING, "", NULL,
      "What the scenario proves, in a sentence or two." },
    { "scenario", "expect", KT_ENUM, "pass", "pass|failures",
      "`pass`: every crash state must pass. `failures`: a self-check that "
      "must find failures (the run's exit status is inverted in the tests, "
      "not by plugpull)." },
    { "firmware", "payload-kb", KT_UINT, "2048", NULL,
      "Size of the fixture firmware's payload in KiB (the whole tree is a "
      "little larger: busybox, kernel, initramfs)." },
    { "firmware", "repo", KT_STRING, "", NULL,
      "Your firmware: an OSTree repo (archive or bare-user; relative to the "
      "scenario file) to test instead of the built-in fixture. plugpull "
      "never writes in it: it serves a private mirror of `from` and `to` "
      "(under DIR/work), builds the device from it with `from` deployed, "
      "and judges every state against those two commits. Needs `from` and "
      "`to` (`--repo`, `--from`, `--to` on the command line)." },
    { "firmware", "from", KT_STRING, "1", NULL,
      "Version (1, 2 or 3) deployed on the device before the update. With "
      "`repo`: a REF or COMMIT of it (`REF^` is its parent)." },
    { "firmware", "history", KT_LIST, "", NULL,
      "Versions the device ran before the update, oldest first, separated "
      "by `;` and ending at `from` (e.g. `1;2`): it is updated from each to "
      "the next untraced, so it boots `from` with the one before as its "
      "rollback, and ostree's cleanup has pruned what no deployment needs "
      "any more. Empty: `from` was deployed alone. With `repo`: REFs or "
      "COMMITs of it the device ran before `from` (which may end the "
      "list), at most one other than `from`, as the private mirror serves "
      "three commits; `to` may be that one (going back: its tree is "
      "published again as a newer commit in the mirror)." },
    { "firmware", "to", KT_STRING, "2", NULL,
      "Version published for the update. v1 -> v2 changes the kernel; "
      "v2 -> v3 keeps it. A version older than `from` is published again "
      "as a new commit of its tree (going back: ostree refuses an older "
      "commit), so only what the device no longer has is downloaded. With "
      "`repo`: a REF or COMMIT of it, other than `from`'s commit." },
    { "firmware", "os", KT_STRING, "", NULL,
      "With `repo`: the stateroot (`ostree admin os-init NAME`). Empty: the "
      "`from` commit's `ostree.osname` metadata if it has one, else "
      "`plugpull`." },
    { "firmware", "static-delta", KT_BOOL, "false", NULL,
      "Serve a static delta from `from` to `to` (advertised in the "
      "summary), so the pull fetches delta parts instead of objects." },
    { "device", "bootloader", KT_ENUM, "uboot", "uboot|bls",
      "`uboot`: ostree's U-Boot backend (`boot/loader/uEnv.txt`), as on "
      "meta-updater devices. `bls`: Boot Loader Spec entries only." },
    { "device", "bootloader-replays-journal", KT_BOOL, "false", NULL,
      "`false`: the bootloader reads the filesystem without replaying its "
      "journal (U-Boot, GRUB): each crash state is judged through two "
      "views, the bootloader's (boot/loader, the entries, the kernel: the "
      "state at the last freeze plus a seeded part of what was committed "
      "since) and the kernel's (`ostree=`, the deployment, the repo). See "
      "cfaultinject/MODELS.md, section 4a. `true`: one view, the "
      "kernel's." },
    { "device", "auto-da-alloc", KT_BOOL, "true", NULL,
      "The device's ext4 is mounted with `auto_da_alloc` (its "
      "default): a file renamed over an existing name, or truncated to 0 "
      "and rewritten, has its data flushed with the replacement, so the "
      "`ordered` and `torn` models keep it at every cut after the rename "
      "(or the close). `false`: `noauto_da_alloc`, only data made durable "
      "by a barrier survives. See cfaultinject/MODELS.md, section 4b." },
    { "device", "boot-partition", KT_ENUM, "shared", "shared|separate",
      "`shared`: `boot/` is on the root filesystem. `separate`: the "
      "sysroot's `boot/` is a filesystem of its own (a boot partition): a "
      "`syncfs` or freeze of one filesystem makes nothing durable on the "
      "other, and the bootloader's view of `boot/` is checkpointed only by "
      "freezes of `boot/`. See cfaultinject/MODELS.md, section 4b." },
    { "device", "filesystem", KT_ENUM, "ext4", "ext4|xfs",
      "The filesystem of the sysroot (and of `boot/`), as the bootloader's "
      "view needs it: on `ext4` (Linux), `syncfs` and `sync` write the "
      "committed metadata home after the journal commit, so they "
      "checkpoint as a freeze does (measured in the VM tier); on `xfs` they "
      "only force the log, and only a freeze checkpoints. See "
      "cfaultinject/MODELS.md, section 4a." },
    { "device", "disk-cache", KT_ENUM, "none", "none|volatile",
      "The VM tier's disk (`plugpull run`). `none`: every write the guest "
      "handed to the disk survives the cut (QEMU wrote it to the disk "
      "file). `volatile`: a disk with a volatile write cache, as an eMMC or "
      "SSD: the cut keeps every write before the last completed flush and "
      "a seeded subset of the writes after it (whole writes, in any "
      "order); the cycle's disk seed is printed and stored in its case "
      "file, and `--seed 0` loses them all. See cfaultinject/MODELS.md, "
      "section 4d. The simulation tier's `[crash] model` says what its cuts "
      "keep; it does not read this key." },
    { "device", "repo-config", KT_LIST, "", NULL,
      "`section.key=value` entries set on the device's repo before the "
      "update, separated by `;` (e.g. `core.fsync=false`)." },
    { "client", "ostree", KT_STRING, "/usr/bin/ostree", NULL,
      "The client under test: a binary or a wrapper script (`--ostree` "
      "overrides it)." },
    { "client", "from-firmware", KT_BOOL, "false", NULL,
      "`true`: the client is the device's own: the `/usr/bin/ostree` of "
      "the deployment the device boots, with that tree's libraries, run "
      "in a mount namespace whose root is that deployment (`/sysroot` the "
      "device's sysroot, also mounted at its own path, so the traced "
      "paths are the ones the replay knows; the shim at "
      "`/run/plugpull/libcfaultinject.so`). `ostree` is then not used. "
      "A tree without `/usr/bin/ostree` (the built-in fixture's) is an "
      "error." },
    { "client", "command", KT_STRING, "", NULL,
      "The update command, for clients that are not the ostree CLI but "
      "use libostree: a shell-quoted template whose placeholders "
      "`{sysroot}`, `{os}`, `{remote}`, `{ref}`, `{ostree}` (the client "
      "under test; `/usr/bin/ostree` with `from-firmware`) are replaced "
      "within each word after the split, so a path with spaces stays one "
      "argument; `{{` is a `{`. It replaces `{ostree} admin upgrade "
      "--sysroot={sysroot} --os={os}` for the traced update and the "
      "resumes (only with `action = upgrade`). Empty: that default." },
    { "client", "action", KT_ENUM, "upgrade", "upgrade|deploy|pull",
      "`upgrade`: `ostree admin upgrade` (pull + deploy + cleanup). "
      "`deploy`: the pull is done untraced first, then `ostree admin "
      "deploy` is traced. `pull`: `ostree pull` only." },
    { "update", "strategy", KT_ENUM, "ostree", "ostree|ab|update-mode|dpkg",
      "How the device is updated (harness/sim/strategy.h). `ostree`: the "
      "client under test updates an OSTree sysroot (everything above). "
      "`ab`: a dual-bank device: two root slots (image files standing for "
      "partitions, ext4 images of the firmware's trees made with `mke2fs "
      "-d`) and a U-Boot environment in libubootenv's format naming the "
      "active slot; the update writes the new image into the inactive slot "
      "with `dd` (fsync), then switches the environment with `fw_setenv` "
      "(libubootenv-tool). `update-mode`: one root slot overwritten in "
      "place by `dd` of the new image. The same firmware versions as "
      "ostree's (the fixture's, or `--repo`'s `from` and `to` checked "
      "out) for those; `dpkg`: the `from` tree of a Debian-built "
      "firmware (`--repo`, images/build-debian-firmware.sh) as a "
      "package-managed root, updated by `dpkg -i` of the packages the `to` "
      "tree adds or changes (the .debs from the repo's sibling "
      "`apt-cache/`). `[fault] inject` applies to all (the retry runs "
      "the update again from the start); `[client]`, `[device]` other "
      "than the model's, `[fault] network` and resumes apply to `ostree` "
      "only." },
    { "update", "ab-updater", KT_ENUM, "fw-setenv", "fw-setenv|swupdate",
      "`ab`: the client. `fw-setenv`: `dd` (conv=fsync) into the inactive "
      "slot, then `fw_setenv` naming it. `swupdate`: Debian's SWUpdate "
      "installs a bundle the device set-up signs with a key of its own "
      "(CMS), its `rawfile` handler writing the inactive slot and its "
      "`uboot` backend the environment; it reads `/etc/fw_env.config`, a "
      "path compiled in, so it runs in a mount namespace of its own where "
      "a copy of `/etc` holding the device's configuration is mounted on "
      "`/etc`." },
    { "update", "env-copies", KT_UINT, "1", NULL,
      "`ab`: copies of the U-Boot environment, 1 or 2 (redundant: "
      "libubootenv writes the inactive copy with the flag byte one "
      "higher; U-Boot boots the valid copy with the higher flag, and its "
      "built-in default when no copy has a good CRC)." },
    { "crash", "model", KT_MODEL, "ordered", NULL,
      "Power-loss model: `process-kill`, `ordered`, `strict`, `torn`, "
      "`reorder` (see cfaultinject/MODELS.md). `--model` overrides it." },
    { "crash", "points", KT_POINTS, "barriers", NULL,
      "`barriers`: just before and after every fsync, fdatasync, syncfs, "
      "sync, freeze, rename, link, symlink, unlink, rmdir. `all`: every "
      "traced call. `sample:N`: N points drawn with the seed. `barriers:N`: "
      "N of the barrier points drawn with the seed. `none`: no "
      "crash state (with a `[fault]`: only the faulted run and its retry "
      "are judged)." },
    { "crash", "seed", KT_UINT, "0", NULL,
      "Seed of every random choice (sampling, torn and reorder models)." },
    { "crash", "phase", KT_ENUM, "any",
      "any|pull|deploy|bootloader|cleanup",
      "Cut only during this phase of the update: the sim tier keeps the "
      "crash points whose call falls in it (before `sample:N` draws); "
      "`plugpull run` cuts at `phase:NAME` unless `--cut` says otherwise." },
    { "crash", "repeat", KT_UINT, "1", NULL,
      "Power cuts per resumed case (1 to 16). With K > 1 a resumed case is "
      "a schedule of cuts: the cut at the crash point, then a cut during "
      "the resumed update at a barrier point drawn with the seed, and so "
      "on K times; each state is judged, and a last uncut resume must end "
      "on the new version. The case id lists the cuts "
      "(`ordered-k001338+000412-s0`); the first failing cut ends the "
      "schedule and is the verdict." },
    { "verify", "resume", KT_RESUME, "sample:16", NULL,
      "Which crash states are also rebooted and updated again: `all`, "
      "`none`, or `sample:N` (N drawn with the seed, always including the "
      "points around the commit)." },
    { "verify", "redownload-threshold", KT_UINT, "0", NULL,
      "Objects already durable before the cut that a resumed update may "
      "fetch again before the case is judged `redownload`." },
    { "verify", "rollback", KT_BOOL, "true", NULL,
      "Judge a lost rollback entry as `no-rollback` (false: ignore it)." },
    { "verify", "known", KT_STRING, "", NULL,
      "A known-findings file (relative to the scenario file): failures "
      "that match one of its findings by diagnosis signature are reported "
      "`known` (skipped in JUnit, with the tracker's link) and do not fail "
      "the run until the finding's `until` date has passed; see "
      "[known-findings.conf](known-findings.conf). `--known` overrides it. "
      "Empty: none." },
    { "fault", "inject", KT_STRING, "", NULL,
      "An error instead of a power cut: one cfaultinject rule, its keys "
      "separated by `;` (`calls`, `ops`, `path`, `nth`, `prob`, `errno`, "
      "`short`, `timing`; see cfaultinject/README.md), e.g. "
      "`calls=fsync,fdatasync;nth=3;errno=EIO`. The traced update runs "
      "under it; the shim itself checks the rule when the scenario is "
      "loaded. Then the device as the failed update left it is judged, and "
      "the same update is retried without the fault and must boot the new "
      "version. A fault that never fires is an error; a client that exits 0 "
      "although it fired is flagged `fault swallowed`." },
    { "fault", "network", KT_STRING, "", NULL,
      "Faults of the update server during the traced update: `drop:P` "
      "(close the connection mid-body), `stall:P` (pause mid-body), "
      "`5xx:P` (answer 500/503), comma-separated, P the probability per "
      "GET (0 to 1, at most 1 in total), drawn from `[crash] seed`. The "
      "retry runs against a server without faults." },
    { "fault", "stall-ms", KT_UINT, "2000", NULL,
      "Length of each `stall` of `network`, in milliseconds." },
};

void
pp_scenario_free(PpScenario *s)
{
    if (s == NULL) {
        return;
    }
    g_free(s->path);
    g_free(s->name);
    g_free(s->description);
    g_free(s->bootloader);
    g_strfreev(s->repo_config);
    g_free(s->ostree);
    g_free(s->command);
    g_free(s->fault_inject);
    g_free(s->history);
    g_strfreev(s->history_revs);
    g_free(s->known);
    g_free(s->repo);
    g_free(s->from_rev);
    g_free(s->to_rev);
    g_free(s->os);
    g_free(s);
}

gboolean
pp_scenario_has_fault(const PpScenario *s)
{
    return s->fault_inject != NULL || s->net_drop > 0 || s->net_stall > 0
           || s->net_5xx > 0;
}

/* The one table of strategy names (PpStrategy order). */
static const char *const strategy_names[PP_STRATEGY_COUNT] = {
    [PP_STRATEGY_OSTREE] = "ostree",
    [PP_STRATEGY_AB] = "ab",
    [PP_STRATEGY_UPDATE_MODE] = "update-mode",
    [PP_STRATEGY_DPKG] = "dpkg",
};

const char *
pp_strategy_to_string(PpStrategy st)
{
    return (guint)st < PP_STRATEGY_COUNT ? strategy_names[st] : "?";
}

gboolean
pp_strategy_from_string(const char *s, PpStrategy *out)
{
    for (guint i = 0; s != NULL && i < PP_STRATEGY_COUNT; i++) {
        if (g_str_equal(s, strategy_names[i])) {
            *out = (PpStrategy)i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
pp_action_to_string(PpAction a)
{
    switch (a) {
    case PP_ACTION_UPGRADE:
        return "upgrade";
    case PP_ACTION_DEPLOY:
        return "deploy";
    case PP_ACTION_PULL:
        return "pull";
    }
    return "?";
}

gboolean
pp_points_parse(const char *s, PpPointsKind *kind, guint *n, GError **error)
{
    *n = 0;
    if (g_str_equal(s, "barriers")) {
        *kind = PP_POINTS_BARRIERS;
        return TRUE;
    }
    if (g_str_equal(s, "all")) {
        *kind = PP_POINTS_ALL;
        return TRUE;
    }
    if (g_str_equal(s, "none")) {
        *kind = PP_POINTS_NONE;
        return TRUE;
    }
    guint64 v;
    if (g_str_has_prefix(s, "sample:")
        && g_ascii_string_to_unsigned(s + 7, 10, 1, G_MAXUINT, &v, NULL)) {
        *kind = PP_POINTS_SAMPLE;
        *n = (guint)v;
        return TRUE;
    }
    /* N of the barrier points: a campaign of a fixed size whose points
       are all barriers (a benchmark across firmware sizes). */
    if (g_str_has_prefix(s, "barriers:")
        && g_ascii_string_to_unsigned(s + 9, 10, 1, G_MAXUINT, &v, NULL)) {
        *kind = PP_POINTS_BARRIERS;
        *n = (guint)v;
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "points must be barriers, barriers:N, all, sample:N or none, "
                "not '%s'", s);
    return FALSE;
}

char *
pp_points_to_string(PpPointsKind kind, guint n)
{
    switch (kind) {
    case PP_POINTS_BARRIERS:
        return n > 0 ? g_strdup_printf("barriers:%u", n)
                     : g_strdup("barriers");
    case PP_POINTS_ALL:
        return g_strdup("all");
    case PP_POINTS_SAMPLE:
        return g_strdup_printf("sample:%u", n);
    case PP_POINTS_NONE:
        return g_strdup("none");
    }
    return g_strdup("?");
}

char *
pp_resume_to_string(PpResumeKind kind, guint n)
{
    switch (kind) {
    case PP_RESUME_NONE:
        return g_strdup("none");
    case PP_RESUME_ALL:
        return g_strdup("all");
    case PP_RESUME_SAMPLE:
        return g_strdup_printf("sample:%u", n);
    }
    return g_strdup("?");
}

gboolean
pp_resume_parse(const char *s, PpResumeKind *kind, guint *n, GError **error)
{
    if (!parse_resume(s, kind, n)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "resume must be all, none or sample:N, not '%s'", s);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_resume(const char *s, PpResumeKind *kind, guint *n)
{
    guint64 v;
    *n = 0;
    if (g_str_equal(s, "all")) {
        *kind = PP_RESUME_ALL;
    } else if (g_str_equal(s, "none")) {
        *kind = PP_RESUME_NONE;
    } else if (g_str_has_prefix(s, "sample:")
               && g_ascii_string_to_unsigned(s + 7, 10, 1, G_MAXUINT, &v,
                                             NULL)) {
        *kind = PP_RESUME_SAMPLE;
        *n = (guint)v;
    } else {
        return FALSE;
    }
    return TRUE;
}

/*
 * [fault] inject: the rule's own keys only.  The values are the shim's
 * business (simfault.c runs the shim's parser on them); what is refused
 * here is what would change the rule's nature: a second rule, a crash
 * instead of a fault, global keys.
 */
static gboolean
inject_syntax_ok(const char *value, const char **why)
{
    static const char *const allowed[] = {
        "calls", "ops", "path", "nth", "prob", "errno", "short", "timing",
        NULL,
    };
    if (strchr(value, '[') != NULL || strchr(value, '#') != NULL
        || strchr(value, '\n') != NULL) {
        *why = "one rule only: no [rule], # or newline";
        return FALSE;
    }
    g_auto(GStrv) parts = g_strsplit(value, ";", -1);
    guint n = 0;
    for (char **p = parts; *p != NULL; p++) {
        char *e = g_strstrip(*p);
        if (*e == '\0') {
            continue;
        }
        const char *eq = strchr(e, '=');
        if (eq == NULL) {
            *why = "each entry must be key=value";
            return FALSE;
        }
        g_autofree char *key = g_strstrip(g_strndup(e, (gsize)(eq - e)));
        if (!g_strv_contains(allowed, key)) {
            *why = "keys are calls, ops, path, nth, prob, errno, short, "
                   "timing";
            return FALSE;
        }
        n++;
    }
    if (n == 0 && *value != '\0') {
        *why = "empty rule";
        return FALSE;
    }
    return TRUE;
}

/* [fault] network: "drop:P,stall:P,5xx:P", any order, each at most once. */
static gboolean
parse_network(PpScenario *s, const char *value, const char **why)
{
    double p[3] = { 0, 0, 0 };
    static const char *const names[] = { "drop", "stall", "5xx" };
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);
    for (char **e = parts; *e != NULL; e++) {
        char *t = g_strstrip(*e);
        if (*t == '\0') {
            continue;
        }
        const char *colon = strchr(t, ':');
        gsize nl = colon != NULL ? (gsize)(colon - t) : 0;
        int which = -1;
        for (int i = 0; i < 3 && colon != NULL; i++) {
            if (strlen(names[i]) == nl && strncmp(t, names[i], nl) == 0) {
                which = i;
            }
        }
        char *end = NULL;
        double v = colon != NULL ? g_ascii_strtod(colon + 1, &end) : -1;
        if (which < 0 || end == colon + 1 || end == NULL || *end != '\0'
            || !(v > 0 && v <= 1) || p[which] != 0) {
            *why = "expected drop:P, stall:P, 5xx:P (0 < P <= 1, each "
                   "once), comma-separated";
            return FALSE;
        }
        p[which] = v;
    }
    if (p[0] + p[1] + p[2] > 1.0) {
        *why = "the probabilities add up to more than 1";
        return FALSE;
    }
    s->net_drop = p[0];
    s->net_stall = p[1];
    s->net_5xx = p[2];
    return TRUE;
}

/* Apply one value; on a bad value, say why in *why (static text).  Long on
   purpose: one branch per key of the key table, in its order, so that a
   key and what it sets stand together; split, the keys would be spread
   over several functions for no gain. */
static gboolean
apply(PpScenario *s, const KeyDef *k, const char *value, const char **why)
{
    guint64 u = 0;
    switch (k->type) {
    case KT_UINT:
        if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT, &u, NULL)) {
            *why = "expected a whole number";
            return FALSE;
        }
        break;
    case KT_BOOL:
        if (!g_str_equal(value, "true") && !g_str_equal(value, "false")) {
            *why = "expected true or false";
            return FALSE;
        }
        break;
    case KT_ENUM:
        if (!pp_word_in(k->values, value)) {
            *why = "not one of the allowed values";
            return FALSE;
        }
        break;
    default:
        break;
    }
    const char *sec = k->section, *key = k->key;
#define IS(a, b) (g_str_equal(sec, a) && g_str_equal(key, b))
    if (IS("scenario", "name")) {
        if (*value == '\0') {
            *why = "must not be empty";
            return FALSE;
        }
        g_free(s->name);
        s->name = g_strdup(value);
    } else if (IS("scenario", "description")) {
        g_free(s->description);
        s->description = g_strdup(value);
    } else if (IS("scenario", "expect")) {
        s->expect_failures = g_str_equal(value, "failures");
    } else if (IS("firmware", "payload-kb")) {
        if (u < 16 || u > 1024 * 1024) {
            *why = "must be between 16 and 1048576";
            return FALSE;
        }
        s->payload_kb = (guint)u;
    } else if (IS("firmware", "repo")) {
        g_free(s->repo);
        s->repo = *value != '\0' ? g_strdup(value) : NULL;
    } else if (IS("firmware", "from") || IS("firmware", "to")) {
        /* A version of the fixture or a rev of [firmware] repo: which one
           is known once every key is read (firmware_revs). */
        if (*value == '\0') {
            *why = "must not be empty";
            return FALSE;
        }
        char **rev = g_str_equal(key, "from") ? &s->from_rev : &s->to_rev;
        g_free(*rev);
        *rev = g_strdup(value);
    } else if (IS("firmware", "os")) {
        if (*value != '\0' && (strchr(value, '/') != NULL
                                || g_str_equal(value, ".")
                                || g_str_equal(value, ".."))) {
            *why = "a stateroot name, without /";
            return FALSE;
        }
        g_free(s->os);
        s->os = *value != '\0' ? g_strdup(value) : NULL;
    } else if (IS("firmware", "history")) {
        /* Versions of the fixture or revs of [firmware] repo: which one
           is known once every key is read (firmware_revs). */
        g_auto(GStrv) parts = g_strsplit(value, ";", -1);
        g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
        for (char **p = parts; *p != NULL; p++) {
            g_strstrip(*p);
            if (**p != '\0') {
                g_ptr_array_add(kept, g_strdup(*p));
            }
        }
        g_strfreev(s->history_revs);
        s->history_revs = NULL;
        if (kept->len > 0) {
            g_ptr_array_add(kept, NULL);
            s->history_revs = (char **)g_ptr_array_free(g_steal_pointer(&kept),
                                                        FALSE);
        }
    } else if (IS("firmware", "static-delta")) {
        s->static_delta = g_str_equal(value, "true");
    } else if (IS("device", "bootloader")) {
        g_free(s->bootloader);
        s->bootloader = g_strdup(value);
    } else if (IS("device", "bootloader-replays-journal")) {
        s->bootloader_replays_journal = g_str_equal(value, "true");
    } else if (IS("device", "auto-da-alloc")) {
        s->device_fs.noauto_da_alloc = !g_str_equal(value, "true");
    } else if (IS("device", "boot-partition")) {
        s->device_fs.separate_boot = g_str_equal(value, "separate");
    } else if (IS("device", "filesystem")) {
        s->device_fs.syncfs_log_only = g_str_equal(value, "xfs");
    } else if (IS("device", "disk-cache")) {
        s->disk_cache_volatile = g_str_equal(value, "volatile");
    } else if (IS("device", "repo-config")) {
        g_auto(GStrv) parts = g_strsplit(value, ";", -1);
        g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
        for (char **p = parts; *p != NULL; p++) {
            char *e = g_strstrip(*p);
            if (*e == '\0') {
                continue;
            }
            const char *eq = strchr(e, '=');
            const char *dot = strchr(e, '.');
            if (eq == NULL || dot == NULL || dot > eq || dot == e) {
                *why = "each entry must be section.key=value";
                return FALSE;
            }
            g_ptr_array_add(kept, g_strdup(e));
        }
        g_ptr_array_add(kept, NULL);
        g_strfreev(s->repo_config);
        s->repo_config = (char **)g_ptr_array_free(g_steal_pointer(&kept), FALSE);
    } else if (IS("client", "ostree")) {
        if (*value == '\0') {
            *why = "must not be empty";
            return FALSE;
        }
        g_free(s->ostree);
        s->ostree = g_strdup(value);
    } else if (IS("client", "from-firmware")) {
        s->from_firmware = g_str_equal(value, "true");
    } else if (IS("client", "command")) {
        g_autoptr(GError) local = NULL;
        g_auto(GStrv) argv = NULL;
        if (*value != '\0'
            && (argv = pp_command_expand(value, NULL, &local)) == NULL) {
            static char buf[512];   /* *why is static text: one at a time */
            g_strlcpy(buf, local->message, sizeof buf);
            *why = buf;
            return FALSE;
        }
        g_free(s->command);
        s->command = *value != '\0' ? g_strdup(value) : NULL;
    } else if (IS("client", "action")) {
        s->action = g_str_equal(value, "upgrade") ? PP_ACTION_UPGRADE
                    : g_str_equal(value, "deploy") ? PP_ACTION_DEPLOY
                                                   : PP_ACTION_PULL;
    } else if (IS("update", "strategy")) {
        if (!pp_strategy_from_string(value, &s->strategy)) {
            *why = "not a strategy";
            return FALSE;
        }
    } else if (IS("update", "ab-updater")) {
        s->ab_swupdate = g_str_equal(value, "swupdate");
    } else if (IS("update", "env-copies")) {
        if (u < 1 || u > 2) {
            *why = "must be 1 or 2";
            return FALSE;
        }
        s->env_copies = (guint)u;
    } else if (IS("crash", "model")) {
        if (!cfi_model_from_string(value, &s->model, NULL)) {
            *why = "not a model (process-kill, ordered, strict, torn, reorder)";
            return FALSE;
        }
    } else if (IS("crash", "points")) {
        if (!pp_points_parse(value, &s->points, &s->sample, NULL)) {
            *why = "expected barriers, barriers:N, all, sample:N or none";
            return FALSE;
        }
    } else if (IS("crash", "seed")) {
        s->seed = u;
    } else if (IS("crash", "phase")) {
        /* The PpPhase order; not pp_phase_from_name(): this file stays
           free of the trace code (the scenario fuzzer links it alone). */
        static const char *const names[] = { "pull", "deploy", "bootloader",
                                             "cleanup" };
        G_STATIC_ASSERT(G_N_ELEMENTS(names) == PP_PHASE_COUNT);
        s->phase = -1;
        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
            if (g_str_equal(value, names[i])) {
                s->phase = (gint)i;
            }
        }
    } else if (IS("crash", "repeat")) {
        if (u < 1 || u > PP_REPEAT_MAX) {
            *why = "must be between 1 and 16";
            return FALSE;
        }
        s->repeat = (guint)u;
    } else if (IS("verify", "resume")) {
        if (!parse_resume(value, &s->resume, &s->resume_sample)) {
            *why = "expected all, none or sample:N";
            return FALSE;
        }
    } else if (IS("verify", "redownload-threshold")) {
        s->redownload_threshold = (guint)u;
    } else if (IS("verify", "rollback")) {
        s->check_rollback = g_str_equal(value, "true");
    } else if (IS("verify", "known")) {
        /* Relative to the scenario file, as a campaign moved elsewhere
         * takes its findings along. */
        g_clear_pointer(&s->known, g_free);
        if (*value != '\0') {
            g_autofree char *base = s->path != NULL
                                    && !g_str_equal(s->path, "built-in default")
                ? g_path_get_dirname(s->path) : g_strdup(".");
            s->known = g_path_is_absolute(value)
                ? g_strdup(value) : g_build_filename(base, value, NULL);
        }
    } else if (IS("fault", "inject")) {
        if (!inject_syntax_ok(value, why)) {
            return FALSE;
        }
        g_free(s->fault_inject);
        s->fault_inject = *value != '\0' ? g_strdup(value) : NULL;
    } else if (IS("fault", "network")) {
        if (!parse_network(s, value, why)) {
            return FALSE;
        }
    } else if (IS("fault", "stall-ms")) {
        if (u < 1 || u > 600000) {
            *why = "must be between 1 and 600000";
            return FALSE;
        }
        s->stall_ms = (guint)u;
    } else {
        *why = "no handler (a bug in scenario.c)";
        return FALSE;
    }
#undef IS
    return TRUE;
}

static const KeyDef *
find_key(const char *section, const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (g_str_equal(keys[i].section, section)
            && g_str_equal(keys[i].key, key)) {
            return &keys[i];
        }
    }
    return NULL;
}

static gboolean
section_known(const char *section)
{
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (g_str_equal(keys[i].section, section)) {
            return TRUE;
        }
    }
    return FALSE;
}

/* "1".."3": a version of the fixture. */
static gboolean
fixture_version(const char *rev, guint *out)
{
    guint64 v = 0;
    if (rev == NULL
        || !g_ascii_string_to_unsigned(rev, 10, 1, 3, &v, NULL)) {
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

/*
 * [firmware] from and to, once every key is read: versions of the fixture
 * (from_rev and to_rev dropped), or revs of [firmware] repo, whose path is
 * made absolute against the scenario file's directory (dir; NULL: the
 * current one).  given_from/given_to: the keys were in the file (a
 * user repo has no default revs).  A user repo is the mirror's commits 1
 * (from) and 2 (to) for the rest of the harness (firmware-repo.h).
 * Problems are appended as whole "NAME:LINE: TEXT" lines: a value may hold
 * a newline (a key file's \n escape), so nothing here is split again.
 */
/* [firmware] history of the fixture: versions 1..3, increasing. */
static void
fixture_history(PpScenario *s, const char *name, GString *problems,
                guint line)
{
    guint n = s->history_revs != NULL ? g_strv_length(s->history_revs) : 0;
    g_autofree guint *h = g_new0(guint, n + 1);
    g_autofree char *text = n > 0 ? g_strjoinv(";", s->history_revs) : NULL;
    for (guint i = 0; i < n; i++) {
        guint64 v = 0;
        const char *why = NULL;
        if (!g_ascii_string_to_unsigned(s->history_revs[i], 10, 1, 3, &v,
                                        NULL)) {
            why = "each entry must be a version 1, 2 or 3 of the fixture (a "
                  "ref or commit needs [firmware] repo)";
        } else if (i > 0 && v <= h[i - 1]) {
            why = "the versions must be increasing, oldest first";
        }
        if (why != NULL) {
            g_string_append_printf(problems, "%s:%u: [firmware] history = "
                                   "'%s': %s\n", name, line, text, why);
            return;
        }
        h[i] = (guint)v;
    }
    g_free(s->history);
    s->history = n > 0 ? g_steal_pointer(&h) : NULL;
    s->n_history = n;
    g_clear_pointer(&s->history_revs, g_strfreev);
}

static void
firmware_revs(PpScenario *s, const char *name, const char *dir,
              gboolean given_from, gboolean given_to, GString *problems,
              guint line_from, guint line_to, guint line_other,
              guint line_history)
{
    if (s->repo == NULL) {
        /* NULL: not in the file, the default version stays. */
        if (s->from_rev != NULL
            && !fixture_version(s->from_rev, &s->from_version)) {
            g_string_append_printf(problems, "%s:%u: [firmware] from = '%s': "
                                   "the fixture has versions 1, 2 and 3 (a "
                                   "ref or commit needs [firmware] repo)\n",
                                   name, line_from, s->from_rev);
        }
        if (s->to_rev != NULL
            && !fixture_version(s->to_rev, &s->to_version)) {
            g_string_append_printf(problems, "%s:%u: [firmware] to = '%s': "
                                   "the fixture has versions 1, 2 and 3 (a "
                                   "ref or commit needs [firmware] repo)\n",
                                   name, line_to, s->to_rev);
        }
        if (s->os != NULL) {
            g_string_append_printf(problems, "%s:%u: [firmware] os: only with "
                                   "[firmware] repo (the fixture's is %s)\n",
                                   name, line_other, "plugpull");
        }
        g_clear_pointer(&s->from_rev, g_free);
        g_clear_pointer(&s->to_rev, g_free);
        fixture_history(s, name, problems, line_history);
        return;
    }
    if (!g_path_is_absolute(s->repo)) {
        g_autofree char *absdir = g_canonicalize_filename(dir != NULL ? dir
                                                          : ".", NULL);
        g_autofree char *abs = g_canonicalize_filename(s->repo, absdir);
        g_free(s->repo);
        s->repo = g_steal_pointer(&abs);
    }
    if (!given_from) {
        g_clear_pointer(&s->from_rev, g_free);
    }
    if (!given_to) {
        g_clear_pointer(&s->to_rev, g_free);
    }
    s->from_version = 1;
    s->to_version = 2;
}

gboolean
pp_scenario_firmware_ready(const PpScenario *s, GError **error)
{
    if (s->repo != NULL && (s->from_rev == NULL || s->to_rev == NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "your firmware %s: needs both from and to (--from REF "
                    "--to REF, or [firmware] from and to)", s->repo);
        return FALSE;
    }
    return TRUE;
}

PpScenario *
pp_scenario_new_default(void)
{
    PpScenario *s = g_new0(PpScenario, 1);
    s->path = g_strdup("built-in default");
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *why = NULL;
        if (!apply(s, &keys[i], keys[i].def, &why)) {
            g_error("scenario.c: default of %s.%s is bad: %s",
                    keys[i].section, keys[i].key, why);
        }
    }
    g_autoptr(GString) problems = g_string_new(NULL);
    firmware_revs(s, "built-in default", NULL, FALSE, FALSE, problems, 0, 0,
                  0, 0);
    g_assert(problems->len == 0);
    return s;
}

PpScenario *
pp_scenario_load_data(const char *data, const char *name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE,
                                   &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s",
                    name, local->message);
        return NULL;
    }
    g_autoptr(PpScenario) s = pp_scenario_new_default();
    g_free(s->path);
    s->path = g_strdup(name);
    g_autoptr(GString) problems = g_string_new(NULL);

    gsize ngroups = 0;
    g_auto(GStrv) groups = g_key_file_get_groups(kf, &ngroups);
    for (gsize g = 0; g < ngroups; g++) {
        if (!section_known(groups[g])) {
            g_string_append_printf(problems, "%s:%u: unknown section [%s]\n",
                                   name, pp_keyfile_line(data, groups[g], NULL),
                                   groups[g]);
            continue;
        }
        gsize nkeys = 0;
        g_auto(GStrv) ks = g_key_file_get_keys(kf, groups[g], &nkeys, NULL);
        for (gsize i = 0; i < nkeys; i++) {
            guint line = pp_keyfile_line(data, groups[g], ks[i]);
            const KeyDef *k = find_key(groups[g], ks[i]);
            if (k == NULL) {
                g_string_append_printf(problems, "%s:%u: unknown key '%s' in "
                                       "[%s]\n", name, line, ks[i], groups[g]);
                continue;
            }
            g_autofree char *v = g_key_file_get_string(kf, groups[g], ks[i],
                                                       NULL);
            const char *why = NULL;
            if (v == NULL || !apply(s, k, g_strstrip(v), &why)) {
                g_string_append_printf(problems, "%s:%u: [%s] %s = '%s': %s%s%s\n",
                                       name, line, groups[g], ks[i],
                                       v != NULL ? v : "", why != NULL ? why
                                       : "unreadable", k->values != NULL
                                       ? " " : "", k->values != NULL
                                       ? k->values : "");
            }
        }
    }
    if (problems->len == 0) {
        g_autofree char *dir = g_path_get_dirname(name);
        firmware_revs(s, name, dir,
                      g_key_file_has_key(kf, "firmware", "from", NULL),
                      g_key_file_has_key(kf, "firmware", "to", NULL), problems,
                      pp_keyfile_line(data, "firmware", "from"),
                      pp_keyfile_line(data, "firmware", "to"),
                      pp_keyfile_line(data, "firmware", NULL),
                      pp_keyfile_line(data, "firmware", "history"));
    }
    if (problems->len == 0 && s->from_version == s->to_version
        && s->action != PP_ACTION_PULL) {
        g_string_append_printf(problems, "%s:%u: [firmware] to must differ "
                               "from from\n", name,
                               pp_keyfile_line(data, "firmware", "to"));
    }
    if (problems->len == 0 && s->to_version < s->from_version
        && s->static_delta) {
        g_string_append_printf(problems, "%s:%u: [firmware] static-delta: "
                               "not for going back to an older version\n",
                               name, pp_keyfile_line(data, "firmware", "static-delta"));
    }
    if (problems->len == 0 && s->n_history > 0
        && s->history[s->n_history - 1] != s->from_version) {
        g_string_append_printf(problems, "%s:%u: [firmware] history must end "
                               "at from (%u)\n", name,
                               pp_keyfile_line(data, "firmware", "history"),
                               s->from_version);
    }
    if (problems->len == 0 && s->command != NULL
        && s->action != PP_ACTION_UPGRADE) {
        g_string_append_printf(problems, "%s:%u: [client] command replaces "
                               "`ostree admin upgrade`: only with action = "
                               "upgrade\n", name,
                               pp_keyfile_line(data, "client", "command"));
    }
    s->fault_inject_line = pp_keyfile_line(data, "fault", "inject");
    s->known_line = pp_keyfile_line(data, "verify", "known");
    if (problems->len > 0) {
        g_string_truncate(problems, problems->len - 1);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                    problems->str);
        return NULL;
    }
    return g_steal_pointer(&s);
}

PpScenario *
pp_scenario_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, error)) {
        g_prefix_error(error, "reading scenario: ");
        return NULL;
    }
    return pp_scenario_load_data(data, path, error);
}

char *
pp_scenario_reference(void)
{
    g_autoptr(GString) s = g_string_new(NULL);
    const char *section = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        const KeyDef *k = &keys[i];
        if (section == NULL || !g_str_equal(section, k->section)) {
            section = k->section;
            g_string_append_printf(s, "\n### [%s]\n\n| key | default | "
                                   "meaning |\n|---|---|---|\n", section);
        }
        g_autofree char *vals = k->values != NULL
            ? g_strdup_printf(" One of `%s`.", k->values) : g_strdup("");
        g_string_append_printf(s, "| `%s` | `%s` | %s%s |\n", k->key,
                               k->def, k->doc,
                               k->type == KT_ENUM ? vals : "");
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* One word of a command template, placeholders replaced (vars NULL:
 * checked only). */
static char *
expand_word(const char *word, const PpCommandVars *vars, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    for (const char *p = word; *p != '\0'; p++) {
        if (*p != '{') {
            g_string_append_c(out, *p);
            continue;
        }
        if (p[1] == '{') {
            g_string_append_c(out, '{');
            p++;
            continue;
        }
        const char *end = strchr(p, '}');
        if (end == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "an unclosed '{' in '%s' (a literal brace is '{{')",
                        word);
            return NULL;
        }
        g_autofree char *name = g_strndup(p + 1, (gsize)(end - p - 1));
        const char *const names[] = { "sysroot", "os", "remote", "ref",
                                      "ostree" };
        const char *values[] = { NULL, NULL, NULL, NULL, NULL };
        if (vars != NULL) {
            values[0] = vars->sysroot;
            values[1] = vars->os;
            values[2] = vars->remote;
            values[3] = vars->ref;
            values[4] = vars->ostree;
        }
        gint found = -1;
        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
            if (g_str_equal(name, names[i])) {
                found = (gint)i;
            }
        }
        if (found < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "unknown placeholder {%s} (known: {sysroot}, {os}, "
                        "{remote}, {ref}, {ostree})", name);
            return NULL;
        }
        if (vars != NULL) {
            g_string_append(out, values[found] != NULL ? values[found] : "");
        }
        p = end;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char **
pp_command_expand(const char *template, const PpCommandVars *vars,
                  GError **error)
{
    g_auto(GStrv) words = NULL;
    gint n = 0;
    g_autoptr(GError) local = NULL;
    if (!g_shell_parse_argv(template, &n, &words, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "not a command: %s", local->message);
        return NULL;
    }
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    for (gint i = 0; i < n; i++) {
        char *w = expand_word(words[i], vars, error);
        if (w == NULL) {
            return NULL;
        }
        g_ptr_array_add(out, w);
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

char **
pp_scenario_update_argv(const PpScenario *s, const PpCommandVars *vars,
                        GError **error)
{
    return pp_command_expand(s->command != NULL ? s->command
                                                : PP_COMMAND_DEFAULT,
                             vars, error);
}
