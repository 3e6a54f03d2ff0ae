/* SPDX-License-Identifier: MIT */
/*
 * vmcycle.h: one power-cut cycle of the VM tier, and the calibration run.
 *
 * A cycle, on a fresh sparse copy of the image's disk (v1 deployed):
 *
 *   boot A   power on through U-Boot; the agent reports v1; bring up the
 *            network, point origin at this worker's stand-in
 *            (10.0.2.2:PORT) and start `ostree admin upgrade` to v2
 *   cut      SIGKILL of QEMU: at the drawn time (random-time, also when
 *            the client has exited before it: the guest then idles until
 *            the cut), the drawn delay after the client's exit
 *            (after-exit:), or when the shim in the guest announces it
 *            stopped the client at the rule's call (syscall:, phase:)
 *   boot B   power on the same disk: judged (below)
 *   resume   the upgrade runs again and must succeed, its bytes counted by
 *            the stand-in; poweroff (with sync)
 *   boot C   must boot v2
 *
 * Verdicts, the first that applies:
 *   brick         a boot never reaches the agent and says so: U-Boot stops
 *                 at its prompt or cannot load a file, the initramfs gives
 *                 up, QEMU ends, or the console keeps talking (a boot loop)
 *                 until the boot timeout
 *   hang          QEMU runs but its console stays silent for the hang
 *                 timeout before the agent line, or an agent command (the
 *                 update, status, fsck, the resume) does not finish
 *   wrong-tree    boot B booted a commit that is neither v1 nor v2
 *   repo-corrupt  `ostree admin status` or `ostree fsck` fails in boot B
 *   stuck         the resume fails, or boot C does not run v2
 *   pass          otherwise
 */
#ifndef PP_VMCYCLE_H
#define PP_VMCYCLE_H

#include <signal.h>

#include <json-glib/json-glib.h>

#include "common/outcome.h"
#include "server/httpd.h"
#include "vm/vm-cut.h"
#include "vm/vm-diskcache.h"

#define PP_RUN_REF "plugpull/device"

/* What every cycle of a campaign shares (read-only during the cycles). */
typedef struct {
    char *out_dir;
    char *work_dir;
    char *image_dir;
    char *disk;                 /* the image's disk.img (never booted) */
    char *bios;
    guint64 part_offset;
    char **commits;             /* v1..vN */
    const char *from;           /* v1 */
    const char *to;             /* v2: what the update installs */
    guint boot_timeout_s;
    guint hang_timeout_s;
    guint cmd_timeout_s;
    char *sabotage;             /* NULL, "empty-kernel", "hang-init" or
                                   "unflushed-write" (vm-disk.h) */
    PpDiskCache disk_cache;     /* [device] disk-cache (MODELS.md 4d) */
    guint vcpus;                /* the guest's, $PLUGPULL_VCPUS (1 or 2);
                                   with 2, boot B's status and fsck run at
                                   once (vm-verdict.h) */
    char *scenario;             /* its name */
    char *scenario_path;        /* NULL: the built-in default */
    gboolean expect_failures;   /* a self-check scenario that must fail */
    char **repo_config;         /* "section.key=value" set in the guest */
    PpCutSpec cut;
    guint64 seed;
    double window_s;            /* random-time: the update window */
    /* The calibration (NULL/empty when none was run). */
    CfiTrace *cal_trace;
    PpVmTimeline timeline;
    gboolean have_timeline;
    volatile sig_atomic_t *interrupted;
    /* Your firmware (vm-firmware.h): the disk was made from the user's
       repo, the agent is in its /etc; ref: the branch the device
       follows and the stand-in moves to `to` (PP_RUN_REF on the
       built-in image). */
    gboolean firmware;
    char *ref;
} PpRunEnv;

void pp_run_env_clear(PpRunEnv *env);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpRunEnv, pp_run_env_clear)

/* One worker: a stand-in of its own, so that a cycle's resume bytes are
   its own even when cycles run in parallel. */
typedef struct {
    const PpRunEnv *env;
    PpHttpd *httpd;
    guint16 port;
    guint index;
} PpRunWorker;

typedef struct {
    char *id;
    guint index;
    char *cut_kind;              /* "random-time", "syscall", "phase",
                                    "after-exit" */
    char *cut_rule;              /* syscall/phase: the rule */
    char *cut_desc;              /* phase: which call of the calibration */
    double cut_offset_s;         /* random-time: drawn; else: measured */
    double after_exit_s;         /* after-exit: the delay drawn; else -1 */
    double exit_s;               /* when the client exited, after the update
                                    started (host clock); -1: not before
                                    the cut */
    double exit_to_cut_s;        /* the cut's time after that exit; -1 */
    double exit_uptime_s;        /* the exit on the guest's clock (the
                                    agent's done line); -1 */
    /* The bootloader's view of the disk (its home blocks, no journal
       replay: vm-disk.h): boot/loader's target before boot A and right
       after the cut, and whether the journal then held committed changes
       not yet written home (-1: not read). */
    char *loader_before;
    char *loader_at_cut;
    int needs_recovery_at_cut;
    gboolean cut_fired;          /* the cut happened before the update ended */
    char *crash_line;            /* the shim's CFI-CRASH line */
    gint64 cut_seq;              /* from the CFI-CRASH line, -1 if none */
    char *phase;                 /* phase at the cut, from the shim's marks;
                                    "after-update" when it had ended */
    GString *marks;              /* "deploy=1.234 bootloader=..." seconds
                                    after the update started */
    gboolean update_done_before_cut;
    int update_rc_before_cut;
    char *cut_qemu_exit;
    PpOutcome outcome;
    char *reason;
    char *booted_after_cut;      /* commit */
    char *booted_final;
    int status_rc;
    int fsck_rc;
    int resume_rc;
    guint64 resume_bytes;
    double boot_to_verdict_s;    /* boot B power-on to the post-cut verdict */
    double seconds;
    JsonBuilder *boots;          /* array of boot records */
    GString *notes;
    char *disk_kept;             /* a failing cycle's disk, or NULL */
    JsonNode *inspect;           /* brick/hang: plugpull inspect --json of
                                    the disk, or NULL */
    /* disk-cache = volatile (MODELS.md 4d): boot A's write log, whether
       the boot being started logs to it, the cycle's disk seed and what
       the rebuild at the cut kept. */
    char *write_log;
    gboolean logging;
    guint64 disk_seed;
    PpDiskCacheResult disk_cache;
    gboolean disk_rebuilt;
    char *unflushed_write;       /* --sabotage unflushed-write: "kept" or
                                    "lost" (the write's sectors after the
                                    cut), else NULL */
} PpCycle;

/* A cycle with its draw made: (seed, index) decide everything. */
PpCycle *pp_cycle_new(const PpRunEnv *env, guint index);
void pp_cycle_free(PpCycle *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpCycle, pp_cycle_free)
gboolean pp_cycle_failed(const PpCycle *c);

/* Run cycle c.  FALSE: the harness failed or was interrupted. */
gboolean pp_cycle_run(PpRunWorker *w, PpCycle *c, GError **error);

/*
 * The calibration: one uncut update traced by the shim into the guest's
 * disk, read back after a clean poweroff into DIR/calibration.cfit; sets
 * env->window_s, env->cal_trace and env->timeline.
 */
gboolean pp_calibrate(PpRunWorker *w, PpRunEnv *env, GError **error);

/* The case file of c. */
JsonNode *pp_cycle_to_json(const PpRunEnv *env, const PpCycle *c);

#endif /* PP_VMCYCLE_H */
