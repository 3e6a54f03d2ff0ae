/* SPDX-License-Identifier: MIT */
/*
 * plugpull.h: what the subcommands of the plugpull program share.
 *
 * Room cli/ (with main.c and this header): the program, one thin file a
 * subcommand.  May include every room; no room includes it or cli/.
 */
#ifndef PP_PLUGPULL_H
#define PP_PLUGPULL_H

#include <glib.h>

#include "common/error.h"   /* the exit statuses (PP_EXIT_*) */

/*
 * A subcommand: FALSE with *error set when it did not succeed.  The error's
 * PP_ERROR code is the exit status (PP_ERROR_FAILURES when it found
 * failures, PP_ERROR_USAGE for bad input); any other domain is a harness
 * fault (3).  main.c prints the error, once, as "plugpull: CMD: MESSAGE";
 * an empty message is not printed (the command has said it all already,
 * as scenario check does in its file:line: lines).
 */
typedef gboolean (*PpCommandFunc)(int argc, char **argv, GError **error);

gboolean pp_cmd_trace(int argc, char **argv, GError **error);
gboolean pp_cmd_crashstate(int argc, char **argv, GError **error);
gboolean pp_cmd_demo(int argc, char **argv, GError **error);
gboolean pp_cmd_serve(int argc, char **argv, GError **error);
gboolean pp_cmd_fixture(int argc, char **argv, GError **error);
gboolean pp_cmd_sim(int argc, char **argv, GError **error);
gboolean pp_cmd_replay(int argc, char **argv, GError **error);
gboolean pp_cmd_minimize(int argc, char **argv, GError **error);
gboolean pp_cmd_scenario(int argc, char **argv, GError **error);
gboolean pp_cmd_inspect(int argc, char **argv, GError **error);
gboolean pp_cmd_reproduce(int argc, char **argv, GError **error);
gboolean pp_cmd_report(int argc, char **argv, GError **error);
gboolean pp_cmd_compare(int argc, char **argv, GError **error);
gboolean pp_cmd_merge(int argc, char **argv, GError **error);
gboolean pp_cmd_strategies(int argc, char **argv, GError **error);
gboolean pp_cmd_image(int argc, char **argv, GError **error);
gboolean pp_cmd_run(int argc, char **argv, GError **error);
gboolean pp_cmd_version(int argc, char **argv, GError **error);

/* A subcommand of a command (trace record, scenario check, image build). */
typedef struct {
    const char *name;
    PpCommandFunc func;
    const char *args;        /* its arguments, for the usage line */
    const char *summary;
} PpSubcommand;

/*
 * Run the subcommand argv[1] of command cmd among subs (ended by a NULL
 * name), with the program name "plugpull CMD SUB" for its usage line.
 * --help or -h lists them (exit 0); none or an unknown one is a usage
 * error (2).  The subcommand's error is prefixed with "SUB: ".
 */
gboolean pp_run_subcommand(const char *cmd, const PpSubcommand *subs,
                           int argc, char **argv, GError **error);

/*
 * Run reports/SCRIPT (python3) with ARGS (NULL-terminated), reports/ being
 * $PLUGPULL_REPORTS or ../reports next to the binary; its exit status in
 * *out_status.  FALSE when it cannot be found, started or was killed.
 */
gboolean pp_reports_run(const char *script, const char *const *args,
                        int *out_status, GError **error);

/* Print "plugpull: <prefix>: <error message>" to stderr: only for an error
 * a command reports and goes on past; the error a command returns is
 * printed by main.c. */
void pp_print_error(const char *prefix, const GError *error);

#endif /* PP_PLUGPULL_H */
