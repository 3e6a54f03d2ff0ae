/* SPDX-License-Identifier: MIT */
/*
 * cli.c: what the subcommands share beyond their own files (plugpull.h).
 * main.c only dispatches; nothing here calls back up into it.
 */
#include <stdio.h>
#include <string.h>

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

static void
subcommand_usage(FILE *f, const char *cmd, const PpSubcommand *subs)
{
    fprintf(f, "usage: plugpull %s SUBCOMMAND [OPTION...]\n\nsubcommands:\n",
            cmd);
    for (const PpSubcommand *s = subs; s->name != NULL; s++) {
        fprintf(f, "  plugpull %s %s %s\n      %s\n", cmd, s->name, s->args,
                s->summary);
    }
    fprintf(f, "\nplugpull %s SUBCOMMAND --help shows a subcommand's "
               "options.\n", cmd);
}

gboolean
pp_run_subcommand(const char *cmd, const PpSubcommand *subs, int argc,
                  char **argv, GError **error)
{
    if (argc < 2) {
        subcommand_usage(stderr, cmd, subs);
        /* The usage is the message. */
        return pp_throw_code(error, PP_ERROR_USAGE, "%s", "");
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        subcommand_usage(stdout, cmd, subs);
        return TRUE;
    }
    g_autoptr(GString) names = g_string_new(NULL);
    for (const PpSubcommand *s = subs; s->name != NULL; s++) {
        if (strcmp(argv[1], s->name) == 0) {
            g_autofree char *prgname = g_strdup_printf("plugpull %s %s", cmd,
                                                       s->name);
            g_set_prgname(prgname);
            if (!s->func(argc - 1, argv + 1, error)) {
                /* "plugpull: trace: record: ..."; an empty message (the
                 * subcommand said it all) stays empty. */
                if (error != NULL && *error != NULL
                    && (*error)->message[0] != '\0') {
                    g_prefix_error(error, "%s: ", s->name);
                }
                return FALSE;
            }
            return TRUE;
        }
        g_string_append_printf(names, "%s%s", names->len > 0 ? ", " : "",
                               s->name);
    }
    return pp_throw_code(error, PP_ERROR_USAGE,
                         "unknown subcommand '%s' (%s; plugpull %s --help)",
                         argv[1], names->str, cmd);
}
