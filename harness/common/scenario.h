/* SPDX-License-Identifier: MIT */
/*
 * scenario.h: campaign files.
 *
 * A scenario is an INI file (GKeyFile), one concern per section.  Every
 * key is declared once, in the table in scenario.c: the parser, the
 * defaults and the reference in scenarios/README.md (printed by
 * `plugpull scenario doc`) all come from that table, so they cannot drift.
 * Unknown sections and keys and bad values are errors, reported all at
 * once with file and line.
 */
#ifndef PP_SCENARIO_H
#define PP_SCENARIO_H

#include <glib.h>

#include "crashstate.h"

typedef enum {
    PP_POINTS_BARRIERS = 0,
    PP_POINTS_ALL,
    PP_POINTS_SAMPLE,
    PP_POINTS_NONE,          /* no crash state: only a [fault] run's verdict */
} PpPointsKind;

typedef enum {
    PP_ACTION_UPGRADE = 0,   /* ostree admin upgrade: pull + deploy + prune */
    PP_ACTION_DEPLOY,        /* pull untraced, then ostree admin deploy */
    PP_ACTION_PULL,          /* ostree pull only */
} PpAction;

/* [update] strategy: how the device is laid out and updated (sim/strategy.h). */
typedef enum {
    PP_STRATEGY_OSTREE = 0,  /* an OSTree sysroot, the client under test */
    PP_STRATEGY_AB,          /* two slot images + a U-Boot environment */
    PP_STRATEGY_UPDATE_MODE, /* one slot image overwritten in place */
    PP_STRATEGY_DPKG,        /* a package-managed root, updated by dpkg */
    PP_STRATEGY_COUNT
} PpStrategy;

const char *pp_strategy_to_string(PpStrategy st);
/* FALSE (and *out left alone) when s names no strategy. */
gboolean pp_strategy_from_string(const char *s, PpStrategy *out);

typedef enum {
    PP_RESUME_NONE = 0,
    PP_RESUME_ALL,
    PP_RESUME_SAMPLE,
} PpResumeKind;

typedef struct {
    char *path;              /* file it came from, or "built-in default" */
    char *name;
    char *description;
    gboolean expect_failures;/* a self-check scenario that must fail */

    /* [firmware] */
    guint payload_kb;
    guint from_version;      /* deployed on the device at start (1-based) */
    guint *history;          /* versions the device ran before the update,
                                updated untraced from one to the next; the
                                last is from_version (NULL: just from) */
    guint n_history;
    char **history_revs;     /* [firmware] history as given; with repo:
                                REFs|COMMITs the device ran before from,
                                oldest first (firmware-repo.h maps them to
                                versions); NULL: none */
    guint to_version;        /* published for the update */
    gboolean static_delta;   /* serve a from -> to static delta */
    char *repo;              /* your firmware: an OSTree repo (absolute),
                                NULL: the built-in fixture */
    char *from_rev;          /* with repo: REF|COMMIT deployed at start */
    char *to_rev;            /* with repo: REF|COMMIT published */
    char *os;                /* with repo: the stateroot, NULL: from the
                                commit's metadata, else "plugpull" */

    /* [device] */
    char *bootloader;        /* "uboot" or "bls" */
    gboolean bootloader_replays_journal; /* FALSE: judge two views
                                            (MODELS.md 4a) */
    CfiModelOpts device_fs;  /* its filesystem: auto-da-alloc,
                                boot-partition (MODELS.md 4b) */
    char **repo_config;      /* "section.key=value" set on the device repo */
    gboolean disk_cache_volatile; /* VM tier: the disk loses the writes
                                     after its last flush (MODELS.md 4d) */

    /* [client] */
    char *ostree;            /* the client under test */
    gboolean from_firmware;  /* the booted tree's own /usr/bin/ostree,
                                run in its root (common/client.h) */
    char *command;           /* the update command's template (NULL: the
                                default, PP_COMMAND_DEFAULT) */
    PpAction action;

    /* [update] */
    PpStrategy strategy;
    guint env_copies;        /* ab: copies of the U-Boot environment */
    gboolean ab_swupdate;    /* ab: the client is SWUpdate, not fw_setenv */

    /* [crash] */
    CfiModel model;
    PpPointsKind points;
    guint sample;            /* with PP_POINTS_SAMPLE, or BARRIERS (0:
                                every barrier) */
    guint64 seed;
    gint phase;              /* crash points only in this PpPhase; -1 any */
    guint repeat;            /* cuts per resumed case (1: one cut) */

    /* [verify] */
    PpResumeKind resume;
    guint resume_sample;
    guint redownload_threshold;  /* objects durable before the cut that a
                                    resume may fetch again */
    gboolean check_rollback;
    char *known;             /* known-findings file (oracle/known.h), its
                                path resolved against the scenario's
                                directory; NULL: none */
    guint known_line;        /* its line in the file, for errors */

    /* [fault]: an error instead of a power cut (see simfault.h) */
    char *fault_inject;      /* cfaultinject rule keys, NULL = none */
    guint fault_inject_line; /* its line in the file, for errors */
    double net_drop;         /* stand-in fault probabilities per GET */
    double net_stall;
    double net_5xx;
    guint stall_ms;
} PpScenario;

/* Bound of [crash] repeat: every cut after the first costs a traced
 * resume of the update. */
#define PP_REPEAT_MAX 16

/* TRUE when the scenario has a [fault] (a shim rule or network faults). */
gboolean pp_scenario_has_fault(const PpScenario *s);

void pp_scenario_free(PpScenario *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpScenario, pp_scenario_free)

/* The built-in default: upgrade v1 -> v2 of a U-Boot device, ordered. */
PpScenario *pp_scenario_new_default(void);

/*
 * A scenario whose [firmware] repo is set (by the file or an option) has
 * both from and to: they have no default for a user repo.
 */
gboolean pp_scenario_firmware_ready(const PpScenario *s, GError **error);

/* Parse a file; all problems in one error, each "FILE:LINE: ...". */
PpScenario *pp_scenario_load(const char *path, GError **error);
PpScenario *pp_scenario_load_data(const char *data, const char *name,
                                  GError **error);

/* "barriers", "barriers:N" (kind BARRIERS, *n N; plain: 0), "all",
   "sample:N", "none" */
gboolean pp_points_parse(const char *s, PpPointsKind *kind, guint *n,
                         GError **error);
char *pp_points_to_string(PpPointsKind kind, guint n);
/* "all", "none", "sample:N" */
gboolean pp_resume_parse(const char *s, PpResumeKind *kind, guint *n,
                         GError **error);
char *pp_resume_to_string(PpResumeKind kind, guint n);
const char *pp_action_to_string(PpAction a);

/* Markdown reference of every key, from the table. */
char *pp_scenario_reference(void);

/* [client] command: placeholders of the update command's template. */
typedef struct {
    const char *sysroot;     /* the device's sysroot (a host path: under
                                from-firmware it is mounted at that path
                                too, and traced paths must be the host's) */
    const char *os;          /* the stateroot, "debian" */
    const char *remote;      /* the booted deployment's remote, "origin" */
    const char *ref;         /* its ref */
    const char *ostree;      /* the client under test */
} PpCommandVars;

#define PP_COMMAND_DEFAULT "{ostree} admin upgrade --sysroot={sysroot} --os={os}"

/* Split TEMPLATE as the shell would (g_shell_parse_argv), then replace
 * the placeholders within each word ({{ is a {), so a value with spaces
 * stays one argument.  vars NULL: only check (unknown placeholders, bad
 * quoting).  A NULL-terminated argv, or NULL with G_IO_ERROR_INVALID_DATA. */
char **pp_command_expand(const char *template, const PpCommandVars *vars,
                         GError **error);

/* The scenario's update command (its command, or PP_COMMAND_DEFAULT). */
char **pp_scenario_update_argv(const PpScenario *s, const PpCommandVars *vars,
                               GError **error);

#endif /* PP_SCENARIO_H */
