/* SPDX-License-Identifier: MIT */
/*
 * cli.c: what the subcommands share beyond their own files (plugpull.h).
 * main.c only dispatches; nothing here calls back up into it.
 */
#include "plugpull.h"

/* For an error a command reports and goes on past (a case file it could
   not write); the error it returns is printed by run_command. */
void
pp_print_error(const char *prefix, const GError *error)
{
    if (prefix != NULL) {
        g_printerr("plugpull: %s: %s\n", prefix, error->message);
    } else {
        g_printerr("plugpull: %s\n", error->message);
    }
}
