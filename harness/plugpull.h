/*
 * plugpull.h: what the subcommands of the plugpull program share.
 */
#ifndef PP_PLUGPULL_H
#define PP_PLUGPULL_H

#include <glib.h>

#include "common/error.h"   /* the exit statuses (PP_EXIT_*) */

typedef int (*PpCommandFunc)(int argc, char **argv);
/* A command in the idiom of the harness: FALSE with an error, which
   main.c maps to the exit status (common/error.h) and prints once. */
typedef gboolean (*PpGErrorCommandFunc)(int argc, char **argv,
                                       GError **error);

int pp_cmd_trace(int argc, char **argv);
int pp_cmd_crashstate(int argc, char **argv);
int pp_cmd_demo(int argc, char **argv);
int pp_cmd_serve(int argc, char **argv);
int pp_cmd_fixture(int argc, char **argv);
gboolean pp_cmd_sim(int argc, char **argv, GError **error);
int pp_cmd_replay(int argc, char **argv);
int pp_cmd_minimize(int argc, char **argv);
int pp_cmd_scenario(int argc, char **argv);
int pp_cmd_inspect(int argc, char **argv);
int pp_cmd_reproduce(int argc, char **argv);
int pp_cmd_report(int argc, char **argv);
int pp_cmd_compare(int argc, char **argv);
int pp_cmd_merge(int argc, char **argv);
int pp_cmd_image(int argc, char **argv);
gboolean pp_cmd_run(int argc, char **argv, GError **error);

/*
 * Run reports/SCRIPT (python3) with ARGS (NULL-terminated), reports/ being
 * $PLUGPULL_REPORTS or ../reports next to the binary; its exit status in
 * *out_status.  FALSE when it cannot be found, started or was killed.
 */
gboolean pp_reports_run(const char *script, const char *const *args,
                        int *out_status, GError **error);

/* Print "plugpull: <prefix>: <error message>" to stderr. */
void pp_print_error(const char *prefix, const GError *error);

#endif /* PP_PLUGPULL_H */
