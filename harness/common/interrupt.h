/* SPDX-License-Identifier: MIT */
/*
 * interrupt.h: the one way a long command hears SIGINT and SIGTERM.
 *
 * A long command (sim, run, inspect, reproduce, serve) must keep what it
 * finished when the user presses Ctrl-C or CI sends SIGTERM: it installs
 * the guard, polls pp_interrupt_signal() between units of work (a case, a
 * cycle, a campaign), writes what it has, and returns
 * pp_throw_interrupted(), which main.c maps to exit 130 or 143.  The
 * handler only stores the signal's number (async-signal-safe); the old
 * handlers come back when the guard is cleared.  A command that waits in
 * a GLib main loop (serve, the reproduce search) adds a watch: the handler
 * also writes the signal's number to a pipe (async-signal-safe), and the
 * watch calls back from the main loop.
 */
#ifndef PP_COMMON_INTERRUPT_H
#define PP_COMMON_INTERRUPT_H

#include <signal.h>

#include <glib.h>

typedef struct {
    gboolean installed;
    struct sigaction old_int;
    struct sigaction old_term;
} PpInterruptGuard;

/* Catch SIGINT and SIGTERM until pp_interrupt_guard_clear(); the signal
 * seen so far is forgotten.  Guards do not nest. */
void pp_interrupt_guard_init(PpInterruptGuard *guard);
/* Restore the handlers that were there before. */
void pp_interrupt_guard_clear(PpInterruptGuard *guard);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpInterruptGuard, pp_interrupt_guard_clear)

/* 0, or the last of SIGINT/SIGTERM received while a guard was set. */
int pp_interrupt_signal(void);

/* Call callback(signo, data) from the default main context each time a
 * guarded signal arrives (a guard must be set).  Returns the source id
 * (g_source_remove() it before data goes away). */
guint pp_interrupt_add_watch(void (*callback)(int signo, gpointer data),
                             gpointer data);

/* The flag itself, for code that polls a pointer (a campaign's
 * environment carries it into the tier). */
volatile sig_atomic_t *pp_interrupt_flag(void);

#endif /* PP_COMMON_INTERRUPT_H */
