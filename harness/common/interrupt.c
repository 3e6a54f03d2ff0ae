/* SPDX-License-Identifier: MIT */
/*
 * interrupt.c: SIGINT/SIGTERM for long commands (see interrupt.h).
 */
#include <string.h>

#include "common/interrupt.h"

static volatile sig_atomic_t received;

static void
on_signal(int sig)
{
    received = sig;
}

void
pp_interrupt_guard_init(PpInterruptGuard *guard)
{
    memset(guard, 0, sizeof *guard);
    received = 0;
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
