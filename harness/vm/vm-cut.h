/* SPDX-License-Identifier: MIT */
/*
 * vmcut.h: where the VM tier cuts the power, and how it knows which phase
 * of the update a cut fell in.
 *
 * Four kinds of cut (`plugpull run --cut`):
 *
 *   random-time      SIGKILL of QEMU at a time drawn from the seed, uniform
 *                    in the update window (measured by the calibration)
 *   random-time:F    the same, uniform in F times the window (0 < F <= 3):
 *                    F > 1 reaches past the end of the update, into the
 *                    seconds where the kernel holds the update's metadata
 *                    in its journal and the blocks the bootloader reads are
 *                    still the old ones (ostree's own test draws up to 1.1)
 *   after-exit:S     SECONDS after the update client exited (the agent's
 *   after-exit:A-B   "done" line), S a number of seconds (0 <= S <= 600),
 *                    or drawn uniform in [A, B] from (seed, cycle)
 *   syscall:RULE     the shim inside the guest stops ostree at the call the
 *                    rule selects (cfaultinject/README.md, rule keys), writes
 *                    its CFI-CRASH line on the console and parks every
 *                    thread; the host cuts the power on reading that line
 *   phase:NAME       a syscall cut at a call of the named phase (pull,
 *                    deploy, bootloader, cleanup), drawn from the seed among
 *                    the calibration trace's calls of that phase whose path
 *                    is the same in every run (no temporary names)
 *
 * The calibration is one uncut update per campaign, traced by the shim
 * into a file on the guest's disk and read back from the disk image after
 * a clean poweroff.  It gives the update window (random-time), the calls
 * of each phase (phase:) and the phase timeline the summary shows.  The
 * phase of each cut comes from the shim's marks in that very run
 * (pp_cut_update_config), not from the calibration.
 */
#ifndef PP_VMCUT_H
#define PP_VMCUT_H

#include <glib.h>

#include "common/phases.h"
#include "trace-reader.h"

typedef enum {
    PP_CUT_RANDOM_TIME = 0,
    PP_CUT_SYSCALL,
    PP_CUT_PHASE,
    PP_CUT_AFTER_EXIT,
} PpCutKind;

/* random-time:FACTOR at most this many update windows. */
#define PP_CUT_MAX_FACTOR 3.0
/* after-exit: at most this many seconds after the client's exit. */
#define PP_CUT_MAX_AFTER_EXIT_S 600.0

typedef struct {
    PpCutKind kind;
    char *rule;          /* PP_CUT_SYSCALL: the rule's keys, ';'-separated */
    PpPhase phase;       /* PP_CUT_PHASE */
    double factor;       /* PP_CUT_RANDOM_TIME: windows (1 unless given) */
    double after_min_s;  /* PP_CUT_AFTER_EXIT: the range drawn from */
    double after_max_s;  /*   (equal for a fixed delay) */
    char *text;          /* as given, for the summary and the replay */
} PpCutSpec;

void pp_cut_spec_clear(PpCutSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpCutSpec, pp_cut_spec_clear)

/*
 * Parse "random-time", "random-time:FACTOR", "after-exit:SECONDS",
 * "after-exit:A-B", "syscall:RULE" or "phase:NAME".  Numbers are plain
 * decimals (digits, at most one '.'; no sign, exponent, inf or nan);
 * anything else, a factor outside (0, 3], seconds above 600 or A > B is
 * refused, the message naming the problem.  The rule's syntax
 * is checked by the shim itself (pp_cut_rule_check); here only what would
 * break the guest command line or the park-and-notify contract is refused:
 * quotes, newlines, and the keys the harness sets (kill, action).
 */
gboolean pp_cut_spec_parse(const char *text, PpCutSpec *out, GError **error);

/*
 * The draws of a cycle, from (seed, cycle) alone (cycle i is reproducible
 * without running the ones before it):
 *   random-time: the cut's time after the update started, uniform in
 *                [0, factor * window_s)
 *   after-exit:  the delay after the client's exit, uniform in
 *                [after_min_s, after_max_s] (after_min_s when they are
 *                equal)
 */
double pp_cut_draw_time(const PpCutSpec *spec, double window_s, guint64 seed,
                        guint cycle);
double pp_cut_draw_after_exit(const PpCutSpec *spec, guint64 seed,
                              guint cycle);

/*
 * Run `true` under the shim with the configuration a syscall cut would
 * use: the shim's own parser judges the rule (exit 125 and its message
 * when malformed).  shim: path of libcfaultinject.so.
 */
gboolean pp_cut_rule_check(const char *shim, const char *rule, GError **error);

/*
 * The CFAULTINJECT value of a cycle's update: the phase marks, and with a
 * rule (not NULL) the cut: crash, park, announce on fd 7.
 *
 * The marks make the shim announce on the console (CFI-MARK label=...)
 * the first call of each phase: the first name under a deployment
 * directory (deploy), the first under boot/loader.* or ostree/boot.*
 * (bootloader), the completed rename onto boot/loader (cleanup follows
 * the commit point).  The host notes when each arrives, so a cut at any
 * time is placed in its phase exactly.  An update that swaps only the
 * sub-bootversion (no rename onto boot/loader) shows no cleanup mark.
 * Marks come before the cut's rule: a mark never stops a call, and the
 * call that is cut has announced its phase first.
 */
char *pp_cut_update_config(const char *rule);
/* The same for a bare rule (what pp_cut_rule_check runs). */
char *pp_cut_rule_config(const char *rule);

/* The phase a CFI-MARK line announces, or FALSE when it is not one. */
gboolean pp_cut_mark_phase(const char *line, PpPhase *out);

/* What the calibration run learnt. */
typedef struct {
    guint n;                         /* records */
    double t0;                       /* guest uptime (s) when it started */
    double phase_start_s[PP_PHASE_COUNT]; /* after t0; < 0: no such call */
    double end_s;                    /* the last record, after t0 */
    PpPhases phases;
} PpVmTimeline;

void pp_vm_timeline_clear(PpVmTimeline *tl);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpVmTimeline, pp_vm_timeline_clear)

/* Classify trace (paths under the guest's "/sysroot") and time it. */
void pp_vm_timeline_build(CfiTrace *trace, double t0, PpVmTimeline *out);

/*
 * A rule that stops the client at a call of phase want, drawn from
 * (seed, cycle) among the calls of that phase whose matched path (the
 * second path when there is one) is stable across runs: the calls that
 * take a path (mkdir, rename, link, symlink, unlink, open), outside tmp
 * and staging directories, with no glob character.  nth counts the
 * earlier calls of the same entry point whose path the glob matches, as
 * the shim does.  *out_desc: "renameat #3 .../boot/loader".  NULL with an
 * error when the phase has no such call.
 */
char *pp_vm_phase_rule(CfiTrace *trace, const PpVmTimeline *tl, PpPhase want,
                       guint64 seed, guint cycle, char **out_desc,
                       GError **error);

/* The value of "key=" in a CFI-CRASH line (up to the next space). */
char *pp_cut_crash_field(const char *line, const char *key);

#endif /* PP_VMCUT_H */
