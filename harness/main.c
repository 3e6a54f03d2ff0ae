/* SPDX-License-Identifier: MIT */
/*
 * main.c: the plugpull program: a table of subcommands.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "plugpull.h"
#include "common/version.h"

struct command {
    const char *name;
    PpCommandFunc func;
    const char *summary;
};

static const struct command commands[] = {
    { "demo", pp_cmd_demo,
      "trace a real ostree upgrade on a small device and summarise its crash points" },
    { "sim", pp_cmd_sim,
      "cut the power at every chosen point of an update (simulation tier)" },
    { "merge", pp_cmd_merge,
      "join the shards of one campaign (sim --recording REC --shard K/N) into one result" },
    { "replay", pp_cmd_replay,
      "reproduce one case of a campaign from its case file" },
    { "minimize", pp_cmd_minimize,
      "shrink a failing case to the smallest schedule of power cuts that still fails" },
    { "scenario", pp_cmd_scenario,
      "check scenario files (scenario check FILE...), print the key reference (scenario doc)" },
    { "trace", pp_cmd_trace,
      "record a command under the shim (trace record), print a trace (trace dump, trace summary)" },
    { "crashstate", pp_cmd_crashstate,
      "materialise the state a power cut leaves: (trace, k, model, seed)" },
    { "fixture", pp_cmd_fixture,
      "build the fixture firmware repo and a directory sysroot" },
    { "inspect", pp_cmd_inspect,
      "judge a disk image or a directory sysroot: what it boots, whether that tree is complete, the repo" },
    { "reproduce", pp_cmd_reproduce,
      "search the crash points whose state fails like a bricked device's dump (field brick)" },
    { "report", pp_cmd_report,
      "write DIR/report.html, a self-contained page on a sim run" },
    { "compare", pp_cmd_compare,
      "compare two sim runs crash point by crash point (exit 1: B regresses)" },
    { "strategies", pp_cmd_strategies,
      "compare the update strategies (ostree, ab, update-mode) under the same power cuts" },
    { "run", pp_cmd_run,
      "cut the power of a QEMU device during updates, boot it again, judge (VM tier)" },
    { "image", pp_cmd_image,
      "build the VM tier's device image from Debian packages (image build)" },
    { "serve", pp_cmd_serve,
      "serve a directory over HTTP on 127.0.0.1 (the TreeHub stand-in)" },
    { "version", pp_cmd_version,
      "print plugpull's version (also plugpull --version)" },
    { NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: plugpull COMMAND [ARGS...]\n\ncommands:\n");
    for (const struct command *c = commands; c->name != NULL; c++) {
        fprintf(f, "  %-11s %s\n", c->name, c->summary);
    }
    fprintf(f, "\nplugpull COMMAND --help shows a command's options.\n"
               "exit status: 0 all passed, 1 failures found, 2 usage error, "
               "3 the harness failed\n");
}

/*
 * Run command c; the one place an error is printed and mapped to the exit
 * status (as ostree's ot-main.c does).
 */
static int
run_command(const struct command *c, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    /* GOptionContext's usage line and messages say "plugpull CMD". */
    g_autofree char *prgname = g_strdup_printf("plugpull %s", c->name);
    g_set_prgname(prgname);
    if (c->func(argc, argv, &error)) {
        return PP_EXIT_OK;
    }
    if (error == NULL) {
        /* A bug: FALSE must come with an error.  Say so rather than
         * exit 0 or silently. */
        g_printerr("plugpull: %s: failed without saying why\n", c->name);
        return PP_EXIT_HARNESS;
    }
    if (error->message[0] != '\0') {
        g_printerr("plugpull: %s: %s\n", c->name, error->message);
    }
    return pp_error_exit_status(error);
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc < 2) {
        usage(stderr);
        return PP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return PP_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        g_print("plugpull %s\n", pp_version());
        return PP_EXIT_OK;
    }
    for (const struct command *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            return run_command(c, argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "plugpull: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return PP_EXIT_USAGE;
}
