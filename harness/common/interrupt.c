/* SPDX-License-Identifier: MIT */
/*
 * interrupt.c: SIGINT/SIGTERM for long commands (see interrupt.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "common/interrupt.h"

static volatile sig_atomic_t received;
/* The self-pipe of pp_interrupt_add_watch(), made once, kept for the
   process's life (a later guard reuses it). */
static int wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
    int errsv = errno;
    received = sig;
    if (wake_pipe[1] >= 0) {
        unsigned char c = (unsigned char)sig;
        /* Non-blocking: a full pipe already holds a wake-up. */
        (void)!write(wake_pipe[1], &c, 1);
    }
    errno = errsv;
}

void
pp_interrupt_guard_init(PpInterruptGuard *guard)
{
    memset(guard, 0, sizeof *guard);
    received = 0;
    if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        wake_pipe[0] = wake_pipe[1] = -1;   /* watches then never fire */
    }
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking read or wait returns EINTR, so the
       command notices at once rather than at its next unit of work. */
    sigaction(SIGINT, &sa, &guard->old_int);
    sigaction(SIGTERM, &sa, &guard->old_term);
    guard->installed = TRUE;
}

void
pp_interrupt_guard_clear(PpInterruptGuard *guard)
{
    if (!guard->installed) {
        return;
    }
    sigaction(SIGINT, &guard->old_int, NULL);
    sigaction(SIGTERM, &guard->old_term, NULL);
    guard->installed = FALSE;
}

typedef struct {
    void (*callback)(int signo, gpointer data);
    gpointer data;
} Watch;

static gboolean
on_wake(int fd, GIOCondition cond, gpointer user_data)
{
    Watch *w = user_data;
    unsigned char c;
    while (read(fd, &c, 1) == 1) {
        w->callback(c, w->data);
    }
    return G_SOURCE_CONTINUE;
}

guint
pp_interrupt_add_watch(void (*callback)(int signo, gpointer data),
                       gpointer data)
{
    if (wake_pipe[0] < 0) {
        return 0;
    }
    Watch *w = g_new0(Watch, 1);
    w->callback = callback;
    w->data = data;
    return g_unix_fd_add_full(G_PRIORITY_DEFAULT, wake_pipe[0], G_IO_IN,
                              on_wake, w, g_free);
}

int
pp_interrupt_signal(void)
{
    return received;
}

volatile sig_atomic_t *
pp_interrupt_flag(void)
{
    return &received;
}
