/* SPDX-License-Identifier: MIT */
/*
 * vm.c: see vm.h.
 */
#include "vm/vm-qemu.h"
#include "common/accel.h"
#include "common/durable.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>


/* How long a partial line may sit before it is returned as a line. */
#define PP_VM_PARTIAL_IDLE_US (1 * G_USEC_PER_SEC)
/* From QEMU's start to U-Boot's autoboot prompt: 0.2-0.4 s under TCG on
   an idle machine; generous for a loaded one. */
#define PP_VM_UBOOT_PROMPT_US (30 * G_USEC_PER_SEC)
/* Longest wait in one poll(): signals may go to the server's threads, so
   the interrupt flag is polled rather than relying on EINTR here. */
#define PP_VM_POLL_SLICE_MS 200

struct PpVm {
    pid_t pid;                  /* 0 once reaped */
    int status;                 /* waitpid status once reaped */
    int console_fd;
    int log_fd;
    int times_fd;               /* -1: no serial_times */
    GString *times_line;        /* the line being stamped */
    gint64 times_line_us;       /* arrival of its first byte */
    char *socket_path;
    GString *buf;               /* received, not yet returned */
    gint64 last_rx_us;
    gint64 started_us;
    gboolean eof;
    volatile sig_atomic_t *interrupted;
};

static gboolean
is_interrupted(PpVm *vm, GError **error)
{
    if (vm->interrupted != NULL && *vm->interrupted) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
        return TRUE;
    }
    return FALSE;
}

/* waitpid, retried on EINTR.  flags: 0 or WNOHANG.  TRUE once reaped. */
static gboolean
reap(PpVm *vm, int flags)
{
    if (vm->pid <= 0) {
        return TRUE;
    }
    int status = 0;
    pid_t r;
    do {
        r = waitpid(vm->pid, &status, flags);
    } while (r < 0 && errno == EINTR);
    if (r == vm->pid) {
        vm->status = status;
        vm->pid = 0;
        return TRUE;
    }
    if (r < 0) {
        /* ECHILD: someone else reaped it; nothing left to wait for. */
        vm->pid = 0;
        vm->status = -1;
        return TRUE;
    }
    return FALSE;
}

/* Poll-reap for up to timeout_ms.  TRUE once reaped. */
static gboolean
reap_within(PpVm *vm, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!reap(vm, WNOHANG)) {
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        g_usleep(20 * 1000);
    }
    return TRUE;
}

static int
listen_unix(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "console socket path %s: longer than %zu bytes", path,
                    sizeof addr.sun_path - 1);
        return -1;
    }
    strcpy(addr.sun_path, path);
    /* A socket file left by a harness that was killed would make bind fail
       with EADDRINUSE (libqtest unlinks it too). */
    if (unlink(path) < 0 && errno != ENOENT) {
        pp_throw_errno_prefix(error, "unlink(%s)", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "socket(AF_UNIX)");
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0
        || listen(fd, 1) < 0) {
        int errsv = errno;
        close(fd);
        errno = errsv;
        pp_throw_errno_prefix(error, "bind/listen(%s)", path);
        return -1;
    }
    return fd;
}

static int
open_log(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", path);
        return -1;
    }
    /* A log is streamed while the guest runs, so it cannot be renamed into
       place: its entry is made durable now, its data in pp_vm_free. */
    g_autofree char *dir = g_path_get_dirname(path);
    if (!pp_fsync_dir(dir, error)) {
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean uboot_interrupt_autoboot(PpVm *vm, const char *command,
                                         gint64 deadline_us, GError **error);

/* Long on purpose: QEMU's command line is built in one argv, one group of
   arguments per device, in the order QEMU reads them; then the child is
   started and the console connected.  Splitting it would pass the argv
   through helpers that each add two or three words. */
PpVm *
pp_vm_start(const PpVmConfig *config, GError **error)
{
    const char *accel = NULL;
    if (!pp_accel_choose(&accel, error)) {
        return NULL;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(config->qemu != NULL
                                   ? config->qemu : "qemu-system-x86_64"));
    const char *fixed[] = {
        "-M", "pc", "-display", "none", "-vga", "none", "-monitor", "none",
        /* A guest reboot ends QEMU: the harness decides what boots next. */
        "-no-reboot", "-accel", accel,
        /* QEMU's default CPU model plus RDRAND (TCG emulates it): the
           kernel (CONFIG_RANDOM_TRUST_CPU=y) seeds its CRNG at boot.
           Without it the first getrandom() in the guest (the network and
           remote set-up before an update) blocked 1.0-1.5 s until jitter
           entropy was collected, twice a cycle; with it, 0.3 s. */
        "-cpu", "qemu64,+rdrand",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(argv, g_strdup(fixed[i]));
    }
    g_ptr_array_add(argv, g_strdup("-smp"));
    g_ptr_array_add(argv, g_strdup_printf("%u", config->cpus != 0
                                          ? config->cpus : 1));
    g_ptr_array_add(argv, g_strdup("-m"));
    g_ptr_array_add(argv, g_strdup_printf("%u", config->memory_mb != 0
                                          ? config->memory_mb : 512));
    g_ptr_array_add(argv, g_strdup("-bios"));
    g_ptr_array_add(argv, g_strdup(config->bios));
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_strdup_printf("socket,id=con,path=%s",
                                          config->socket_path));
    g_ptr_array_add(argv, g_strdup("-serial"));
    g_ptr_array_add(argv, g_strdup("chardev:con"));
    if (config->net) {
        /* User networking only: the guest reaches the host's loopback as
           10.0.2.2 and nothing else of the host's network. */
        g_ptr_array_add(argv, g_strdup("-netdev"));
        g_ptr_array_add(argv, g_strdup("user,id=n0"));
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup("virtio-net-pci,netdev=n0,romfile="));
    } else {
        g_ptr_array_add(argv, g_strdup("-net"));
        g_ptr_array_add(argv, g_strdup("none"));
    }
    if (config->write_log == NULL) {
        g_ptr_array_add(argv, g_strdup("-drive"));
        g_ptr_array_add(argv, g_strdup_printf("file=%s,format=raw,if=virtio",
                                              config->disk));
    } else {
        /* The same virtio disk, through blklogwrites (MODELS.md 4d).  The
           log is never flushed to the host's disk (cache.no-flush): it
           only has to outlive QEMU, and the host's page cache does.  The
           device says it has a write cache, so the guest sends flushes. */
        g_ptr_array_add(argv, g_strdup("-blockdev"));
        g_ptr_array_add(argv, g_strdup_printf(
            "driver=file,node-name=pp-disk,filename=%s", config->disk));
        g_ptr_array_add(argv, g_strdup("-blockdev"));
        g_ptr_array_add(argv, g_strdup_printf(
            "driver=file,node-name=pp-log,filename=%s,cache.no-flush=on",
            config->write_log));
        g_ptr_array_add(argv, g_strdup("-blockdev"));
        g_ptr_array_add(argv, g_strdup(
            "driver=blklogwrites,node-name=pp-lw,file=pp-disk,log=pp-log"));
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup("virtio-blk-pci,drive=pp-lw,"
                                       "write-cache=on"));
    }
    g_ptr_array_add(argv, NULL);

    int listen_fd = listen_unix(config->socket_path, error);
    if (listen_fd < 0) {
        return NULL;
    }
    int log_fd = open_log(config->serial_log, error);
    if (log_fd < 0) {
        close(listen_fd);
        return NULL;
    }
    int err_fd = open_log(config->qemu_log, error);
    if (err_fd < 0) {
        close(listen_fd);
        close(log_fd);
        return NULL;
    }
    int times_fd = -1;
    if (config->serial_times != NULL) {
        times_fd = open_log(config->serial_times, error);
        if (times_fd < 0) {
            close(listen_fd);
            close(log_fd);
            close(err_fd);
            return NULL;
        }
    }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) {
        pp_throw_errno_prefix(error, "open(/dev/null)");
        close(listen_fd);
        close(log_fd);
        close(err_fd);
        if (times_fd >= 0) {
            close(times_fd);
        }
        return NULL;
    }

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int errsv = errno;
        close(listen_fd);
        close(log_fd);
        close(err_fd);
        close(null_fd);
        if (times_fd >= 0) {
            close(times_fd);
        }
        errno = errsv;
        pp_throw_errno_prefix(error, "fork(%s)", (char *)argv->pdata[0]);
        return NULL;
    }
    if (pid == 0) {
        /* The child: async-signal-safe calls only (the server's threads
           may hold locks that were copied locked). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The harness may have died between fork and prctl. */
        if (getppid() != parent) {
            _exit(127);
        }
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(null_fd, STDIN_FILENO);
        dup2(err_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        execvp(argv->pdata[0], (char **)argv->pdata);
        static const char msg[] = "exec of QEMU failed\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    close(err_fd);
    close(null_fd);

    PpVm *vm = g_new0(PpVm, 1);
    vm->pid = pid;
    vm->console_fd = -1;
    vm->log_fd = log_fd;
    vm->times_fd = times_fd;
    vm->times_line = g_string_new(NULL);
    vm->socket_path = g_strdup(config->socket_path);
    vm->buf = g_string_new(NULL);
    vm->started_us = g_get_monotonic_time();
    vm->last_rx_us = vm->started_us;
    vm->interrupted = config->interrupted;

    /* Wait for QEMU to connect; it does so before the guest starts. */
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (vm->console_fd < 0) {
        if (is_interrupted(vm, error)) {
            break;
        }
        if (reap(vm, WNOHANG)) {
            g_autofree char *how = pp_vm_describe_exit(vm);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "%s %s before connecting to its console (see %s)",
                        (char *)argv->pdata[0], how, config->qemu_log);
            break;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "%s did not connect to %s within 10 s",
                        (char *)argv->pdata[0], config->socket_path);
            break;
        }
        struct pollfd p = { .fd = listen_fd, .events = POLLIN };
        int n = poll(&p, 1, PP_VM_POLL_SLICE_MS);
        if (n < 0 && errno != EINTR) {
            pp_throw_errno_prefix(error, "poll(%s)", config->socket_path);
            break;
        }
        if (n > 0) {
            vm->console_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (vm->console_fd < 0 && errno != EINTR && errno != EAGAIN) {
                pp_throw_errno_prefix(error, "accept(%s)",
                                      config->socket_path);
                break;
            }
        }
    }
    close(listen_fd);
    /* Connected (or failed): the file has done its job. */
    (void)unlink(config->socket_path);
    if (vm->console_fd < 0) {
        pp_vm_free(vm);
        return NULL;
    }
    if (config->uboot_command != NULL
        && !uboot_interrupt_autoboot(vm, config->uboot_command,
                                     g_get_monotonic_time()
                                     + PP_VM_UBOOT_PROMPT_US, error)) {
        pp_vm_free(vm);
        return NULL;
    }
    return vm;
}

/* Take one line out of vm->buf (complete, or partial when idle). */
static char *
take_line(PpVm *vm, gboolean allow_partial)
{
    char *nl = memchr(vm->buf->str, '\n', vm->buf->len);
    gsize len;
    gsize skip;
    if (nl != NULL) {
        len = (gsize)(nl - vm->buf->str);
        skip = len + 1;
    } else if (allow_partial && vm->buf->len > 0) {
        len = vm->buf->len;
        skip = len;
    } else {
        return NULL;
    }
    char *line = g_strndup(vm->buf->str, len);
    g_string_erase(vm->buf, 0, (gssize)skip);
    /* The console sends CRLF; drop every CR and NUL so lines compare. */
    char *w = line;
    for (char *r = line; *r != '\0'; r++) {
        if (*r != '\r') {
            *w++ = *r;
        }
    }
    *w = '\0';
    return line;
}

/* Write the stamped line (if any) to serial_times. */
static void
times_flush(PpVm *vm)
{
    if (vm->times_line->len == 0) {
        return;
    }
    g_autofree char *l = g_strdup_printf(
        "%9.3f %s\n",
        (double)(vm->times_line_us - vm->started_us) / G_USEC_PER_SEC,
        vm->times_line->str);
    /* Like the log: best effort, a short file shows itself. */
    (void)!write(vm->times_fd, l, strlen(l));
    g_string_truncate(vm->times_line, 0);
}

/* Stamp the console bytes of one read(), which arrived at now_us: a line
   gets the time of its first byte.  CR and NUL are dropped. */
static void
times_add(PpVm *vm, const char *chunk, gsize len, gint64 now_us)
{
    for (gsize i = 0; i < len; i++) {
        if (chunk[i] == '\n') {
            times_flush(vm);
            continue;
        }
        if (chunk[i] == '\r' || chunk[i] == '\0') {
            continue;
        }
        if (vm->times_line->len == 0) {
            vm->times_line_us = now_us;
        }
        g_string_append_c(vm->times_line, chunk[i]);
    }
}

/*
 * Wait up to deadline_us (at most one poll slice) for console bytes and
 * append them to vm->buf (and the logs).  TRUE also when nothing came or
 * the console closed (vm->eof); FALSE on an error or an interrupt.
 */
static gboolean
receive(PpVm *vm, gint64 deadline_us, GError **error)
{
    if (is_interrupted(vm, error)) {
        return FALSE;
    }
    gint64 now = g_get_monotonic_time();
    gint64 wait_ms = deadline_us > now ? (deadline_us - now) / 1000 + 1 : 0;
    if (wait_ms > PP_VM_POLL_SLICE_MS) {
        wait_ms = PP_VM_POLL_SLICE_MS;
    }
    struct pollfd p = { .fd = vm->console_fd, .events = POLLIN };
    int n = poll(&p, 1, (int)wait_ms);
    if (n < 0) {
        if (errno == EINTR) {
            return TRUE;
        }
        pp_throw_errno_prefix(error, "poll(console)");
        return FALSE;
    }
    if (n == 0) {
        return TRUE;
    }
    char chunk[4096];
    ssize_t r = read(vm->console_fd, chunk, sizeof chunk);
    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return TRUE;
        }
        if (errno == ECONNRESET) {
            vm->eof = TRUE;
            return TRUE;
        }
        pp_throw_errno_prefix(error, "read(console)");
        return FALSE;
    }
    if (r == 0) {
        vm->eof = TRUE;
        return TRUE;
    }
    /* The log is evidence: keep every byte, even if a write fails
       (then the log is short, which the reader can see). */
    (void)!write(vm->log_fd, chunk, (size_t)r);
    vm->last_rx_us = g_get_monotonic_time();
    if (vm->times_fd >= 0) {
        times_add(vm, chunk, (gsize)r, vm->last_rx_us);
    }
    for (ssize_t i = 0; i < r; i++) {
        if (chunk[i] != '\0') {
            g_string_append_c(vm->buf, chunk[i]);
        }
    }
    return TRUE;
}

char *
pp_vm_read_line(PpVm *vm, gint64 deadline_us, GError **error)
{
    for (;;) {
        char *line = take_line(vm, vm->eof);
        if (line != NULL) {
            return line;
        }
        if (vm->eof) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                        "console closed (QEMU ended)");
            return NULL;
        }
        gint64 now = g_get_monotonic_time();
        if (vm->buf->len > 0 && now - vm->last_rx_us >= PP_VM_PARTIAL_IDLE_US) {
            return take_line(vm, TRUE);
        }
        if (is_interrupted(vm, error)) {
            return NULL;
        }
        if (now >= deadline_us) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no console line within the timeout");
            return NULL;
        }
        if (!receive(vm, deadline_us, error)) {
            return NULL;
        }
    }
}

char *
pp_vm_wait_for(PpVm *vm, const char *const *needles, gint64 deadline_us,
               guint *out_which, GString *transcript, GError **error)
{
    for (;;) {
        g_autofree char *line = pp_vm_read_line(vm, deadline_us, error);
        if (line == NULL) {
            return NULL;
        }
        for (guint i = 0; needles[i] != NULL; i++) {
            if (strstr(line, needles[i]) != NULL) {
                if (out_which != NULL) {
                    *out_which = i;
                }
                return g_steal_pointer(&line);
            }
        }
        if (transcript != NULL) {
            g_string_append(transcript, line);
            g_string_append_c(transcript, '\n');
        }
    }
}

/* Write len bytes to the console (stamped in serial_times as "> ..."). */
static gboolean
send_bytes(PpVm *vm, const char *data, gsize len, GError **error)
{
    if (vm->times_fd >= 0) {
        times_flush(vm);
        g_autofree char *l = g_strdup_printf(
            "%9.3f > %.*s\n", pp_vm_elapsed(vm),
            (int)(len > 0 && data[len - 1] == '\n' ? len - 1 : len), data);
        (void)!write(vm->times_fd, l, strlen(l));
    }
    gsize off = 0;
    while (off < len) {
        /* MSG_NOSIGNAL: a QEMU that died must be an error, not SIGPIPE. */
        ssize_t w = send(vm->console_fd, data + off, len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            pp_throw_errno_prefix(error, "write(console)");
            return FALSE;
        }
        off += (gsize)w;
    }
    return TRUE;
}

gboolean
pp_vm_send_line(PpVm *vm, const char *line, GError **error)
{
    g_autofree char *data = g_strconcat(line, "\n", NULL);
    return send_bytes(vm, data, strlen(data), error);
}

/*
 * Receive until vm->buf holds needle (complete line or not), then drop
 * vm->buf up to and including it.  what names the needle in errors.
 */
static gboolean
skip_past(PpVm *vm, const char *needle, const char *what, gint64 deadline_us,
          GError **error)
{
    for (;;) {
        const char *hit = strstr(vm->buf->str, needle);
        if (hit != NULL) {
            g_string_erase(vm->buf, 0,
                           (gssize)(hit - vm->buf->str + strlen(needle)));
            return TRUE;
        }
        if (vm->eof) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                        "console closed (QEMU ended) before %s", what);
            return FALSE;
        }
        if (g_get_monotonic_time() >= deadline_us) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no %s on the console", what);
            return FALSE;
        }
        if (!receive(vm, deadline_us, error)) {
            return FALSE;
        }
    }
}

/*
 * U-Boot's autoboot, without its countdown: at "Hit any key to stop
 * autoboot" (a partial line, U-Boot counts down on it) press a key, and
 * at the "=> " prompt type command.  With command "run bootcmd" U-Boot
 * runs what its countdown would have run, bootdelay (2 s on the qemu-x86
 * build, about 1 s of wall time under TCG) sooner.  The countdown line
 * ends the same way in both cases ("... 0 \r\n"); what follows it is the
 * prompt after a key press, or the boot itself when the key came too late
 * (a harness starved of CPU for a second): then nothing is typed and the
 * boot goes on as it would have.  What U-Boot printed up to here is in
 * the serial log only; the next pp_vm_read_line() returns what follows.
 */
static gboolean
uboot_interrupt_autoboot(PpVm *vm, const char *command, gint64 deadline_us,
                         GError **error)
{
    static const char prompt[] = "=> ";
    if (!skip_past(vm, "Hit any key to stop autoboot", "U-Boot autoboot prompt",
                   deadline_us, error)
        || !send_bytes(vm, " ", 1, error)
        || !skip_past(vm, "\n", "end of U-Boot's countdown", deadline_us,
                      error)) {
        g_prefix_error(error, "interrupting U-Boot's autoboot: ");
        return FALSE;
    }
    while (vm->buf->len < strlen(prompt) && !vm->eof
           && g_get_monotonic_time() < deadline_us) {
        if (!receive(vm, deadline_us, error)) {
            g_prefix_error(error, "interrupting U-Boot's autoboot: ");
            return FALSE;
        }
    }
    if (!g_str_has_prefix(vm->buf->str, prompt)) {
        return TRUE;
    }
    g_string_erase(vm->buf, 0, (gssize)strlen(prompt));
    if (!pp_vm_send_line(vm, command, error)
        || !skip_past(vm, "\n", "U-Boot echo of the command", deadline_us,
                      error)) {
        g_prefix_error(error, "interrupting U-Boot's autoboot: ");
        return FALSE;
    }
    return TRUE;
}

void
pp_vm_power_cut(PpVm *vm)
{
    if (vm->pid > 0) {
        kill(vm->pid, SIGKILL);
        reap(vm, 0);
    }
}

gboolean
pp_vm_wait_exit(PpVm *vm, guint timeout_ms)
{
    if (reap_within(vm, timeout_ms)) {
        return TRUE;
    }
    kill(vm->pid, SIGTERM);
    if (!reap_within(vm, 3000)) {
        pp_vm_power_cut(vm);
    }
    return FALSE;
}

gboolean
pp_vm_is_running(PpVm *vm)
{
    return !reap(vm, WNOHANG);
}

char *
pp_vm_describe_exit(PpVm *vm)
{
    if (vm->pid > 0) {
        return g_strdup("running");
    }
    if (vm->status == -1) {
        return g_strdup("ended (reaped elsewhere)");
    }
    if (WIFEXITED(vm->status)) {
        return g_strdup_printf("exited with code %d", WEXITSTATUS(vm->status));
    }
    if (WIFSIGNALED(vm->status)) {
        return g_strdup_printf("killed by signal %d (%s)",
                               WTERMSIG(vm->status),
                               strsignal(WTERMSIG(vm->status)));
    }
    return g_strdup_printf("ended with status 0x%x", vm->status);
}

double
pp_vm_elapsed(PpVm *vm)
{
    return (double)(g_get_monotonic_time() - vm->started_us) / G_USEC_PER_SEC;
}

void
pp_vm_free(PpVm *vm)
{
    if (vm == NULL) {
        return;
    }
    pp_vm_power_cut(vm);
    if (vm->console_fd >= 0) {
        close(vm->console_fd);
    }
    /* The serial logs are evidence a case file points to: durable before
       the case file is written (open_log made their entries durable). */
    if (vm->log_fd >= 0) {
        (void)fsync(vm->log_fd);
        close(vm->log_fd);
    }
    if (vm->times_fd >= 0) {
        times_flush(vm);
        (void)fsync(vm->times_fd);
        close(vm->times_fd);
    }
    g_string_free(vm->times_line, TRUE);
    g_free(vm->socket_path);
    g_string_free(vm->buf, TRUE);
    g_free(vm);
}
