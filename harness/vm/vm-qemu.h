/* SPDX-License-Identifier: MIT */
/*
 * vm-qemu.h: one QEMU device of the VM tier, managed the way QEMU's libqtest
 * manages the QEMU it tests.
 *
 * Room vm/: the VM tier (QEMU devices cut at a random time).  Includes
 * common/, oracle/, server/ and cfaultinject/; never sim/, postmortem/,
 * cli/ or plugpull.h.
 *
 *  - The child dies with the harness: PR_SET_PDEATHSIG(SIGKILL) is set in
 *    the child before exec, and the child is in a process group of its own
 *    so that a Ctrl-C on the terminal reaches the harness only (which then
 *    kills QEMU itself, after it decided what to keep).
 *  - The serial console is a unix socket the harness listens on (a stale
 *    socket file is unlinked before bind) and QEMU connects to, so there is
 *    no race between QEMU creating a socket and the harness connecting.
 *  - Every wait has a deadline; stopping QEMU escalates from SIGTERM to
 *    SIGKILL; waitpid is retried on EINTR; how QEMU ended is told as
 *    "exited with code X" or "killed by signal Y".
 *  - A power cut is SIGKILL: the guest's RAM and page cache are lost, only
 *    what QEMU had written to the disk file stays (QEMU's raw backend
 *    writes through to the host page cache, which survives QEMU).
 *
 * Single-threaded: a PpVm is used by one thread at a time.
 */
#ifndef PP_VM_H
#define PP_VM_H

#include <signal.h>

#include <gio/gio.h>

typedef struct PpVm PpVm;

typedef struct {
    const char *qemu;           /* NULL: qemu-system-x86_64 from PATH */
    const char *bios;           /* firmware: U-Boot's qemu-x86 u-boot.rom */
    const char *disk;           /* raw disk image, opened read-write */
    const char *write_log;      /* NULL; else the disk is attached through
                                   QEMU's blklogwrites driver, which logs
                                   every write, discard and flush to this
                                   file (created empty first; dm-log-writes
                                   format, vm-dmlog.h) */
    const char *serial_log;     /* every byte of the console goes here */
    const char *serial_times;   /* NULL, or every console line again, each
                                   prefixed with the seconds since QEMU was
                                   started at which its first byte arrived
                                   ("%9.3f LINE"; lines the host sent:
                                   "%9.3f > LINE"), for the time split of
                                   a boot; serial_log stays byte for byte */
    const char *qemu_log;       /* QEMU's own stderr */
    const char *socket_path;    /* the console socket (unlinked first) */
    const char *uboot_command;  /* NULL: U-Boot's autoboot counts down
                                   (bootdelay); else pp_vm_start() presses
                                   a key at "Hit any key to stop autoboot"
                                   and types this at U-Boot's prompt, e.g.
                                   "run bootcmd" (the same boot, sooner;
                                   a key that comes after the countdown
                                   ended types nothing) */
    guint memory_mb;            /* 0: 512 */
    guint cpus;                 /* vCPUs, 0: 1 (under TCG each is a host
                                   thread: QEMU's multi-threaded TCG) */
    gboolean net;               /* -netdev user (the host's 127.0.0.1 is
                                   10.0.2.2 in the guest) */
    /* Set by a signal handler: every wait returns G_IO_ERROR_CANCELLED. */
    volatile sig_atomic_t *interrupted;
} PpVmConfig;

/*
 * Start QEMU and accept its console connection (within 10 s); with
 * uboot_command, also get past U-Boot's autoboot countdown (within 30 s).
 */
PpVm *pp_vm_start(const PpVmConfig *config, GError **error);


/*
 * The next console line (without CR/LF) before deadline_us (monotonic).
 * A partial line on which nothing arrives for a second is returned too:
 * prompts such as U-Boot's "=> " do not end in a newline.  Errors:
 * G_IO_ERROR_TIMED_OUT, G_IO_ERROR_CLOSED (QEMU closed the console: it
 * ended), G_IO_ERROR_CANCELLED (interrupted).
 */
char *pp_vm_read_line(PpVm *vm, gint64 deadline_us, GError **error);

/*
 * Read lines until one contains one of needles (NULL-terminated); returns
 * that line and its index in *out_which.  Lines read on the way are
 * appended to transcript when not NULL.
 */
char *pp_vm_wait_for(PpVm *vm, const char *const *needles, gint64 deadline_us,
                     guint *out_which, GString *transcript, GError **error);

/* Write one line to the console. */
gboolean pp_vm_send_line(PpVm *vm, const char *line, GError **error);

/* Cut the power: SIGKILL and reap.  Idempotent. */
void pp_vm_power_cut(PpVm *vm);

/*
 * Wait up to timeout_ms for QEMU to end by itself (the guest powered off);
 * then SIGTERM, 3 s more, then SIGKILL.  TRUE when it ended by itself.
 */
gboolean pp_vm_wait_exit(PpVm *vm, guint timeout_ms);

gboolean pp_vm_is_running(PpVm *vm);
/* "exited with code X", "killed by signal Y (NAME)" or "running". */
char *pp_vm_describe_exit(PpVm *vm);
/* Seconds since QEMU was started. */
double pp_vm_elapsed(PpVm *vm);

/* Kill (SIGKILL) and reap QEMU if it still runs, close and free. */
void pp_vm_free(PpVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVm, pp_vm_free)

#endif /* PP_VM_H */
