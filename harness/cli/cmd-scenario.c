/*
 * cmd-scenario.c: plugpull scenario check FILE... | doc
 */
#include <stdio.h>
#include <string.h>

#include "plugpull.h"
#include "common/scenario.h"
#include "sim/sim-fault.h"

int
pp_cmd_scenario(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "doc") == 0) {
        g_autofree char *ref = pp_scenario_reference();
        fputs(ref, stdout);
        return PP_EXIT_OK;
    }
    if (argc >= 3 && strcmp(argv[1], "check") == 0) {
        int rc = PP_EXIT_OK;
        for (int i = 2; i < argc; i++) {
            g_autoptr(GError) error = NULL;
            g_autoptr(PpScenario) s = pp_scenario_load_checked(argv[i], &error);
            if (s == NULL) {
                g_printerr("%s\n", error->message);
                rc = PP_EXIT_USAGE;
            } else {
                g_print("%s: ok (%s)\n", argv[i], s->name);
            }
        }
        return rc;
    }
    g_printerr("usage: plugpull scenario check FILE... | plugpull scenario doc\n");
    return PP_EXIT_USAGE;
}
