/* SPDX-License-Identifier: MIT */
/*
 * cmd-serve.c: `plugpull serve DIR`, the TreeHub stand-in as a program.
 *
 * Serves DIR on 127.0.0.1 until SIGINT or SIGTERM.  Scripts start it in the
 * background with --port 0 and read the port back from --port-file, which
 * is written atomically once the socket listens, so that a reader that sees
 * the file can connect at once.
 */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

#include "server/httpd.h"
#include "common/interrupt.h"
#include "plugpull.h"

static void
on_interrupt(int signo, gpointer data)
{
    g_main_loop_quit(data);
}

gboolean
pp_cmd_serve(int argc, char **argv, GError **error)
{
    gint port = 0;
    g_autofree char *port_file = NULL;
    g_autofree char *log_file = NULL;
    gint64 bandwidth = 0;
    gint64 fault_seed = 0;
    gdouble p_drop = 0;
    gdouble p_stall = 0;
    gdouble p_5xx = 0;
    gint stall_ms = 0;
    GOptionEntry entries[] = {
        { "port", 'p', 0, G_OPTION_ARG_INT, &port,
          "TCP port on 127.0.0.1 (default 0: any free port)", "N" },
        { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file,
          "write the port to F once listening", "F" },
        { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_file,
          "append one JSON line per request to F", "F" },
        { "bandwidth", 0, 0, G_OPTION_ARG_INT64, &bandwidth,
          "cap the total send rate (bytes/s, 0 = none)", "B" },
        { "fault-seed", 0, 0, G_OPTION_ARG_INT64, &fault_seed,
          "seed of the fault decisions (default 0)", "S" },
        { "fault-drop", 0, 0, G_OPTION_ARG_DOUBLE, &p_drop,
          "probability a GET is cut off mid-body", "P" },
        { "fault-stall", 0, 0, G_OPTION_ARG_DOUBLE, &p_stall,
          "probability a GET stalls mid-body", "P" },
        { "fault-5xx", 0, 0, G_OPTION_ARG_DOUBLE, &p_5xx,
          "probability a GET is answered 500/503", "P" },
        { "stall-ms", 0, 0, G_OPTION_ARG_INT, &stall_ms,
          "length of a stall (default 2000)", "MS" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "DIR - serve DIR over HTTP on 127.0.0.1 (the TreeHub stand-in)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Runs until SIGINT or SIGTERM, then prints the request count.\n"
        "Exit status: 0 stopped by a signal, 2 usage error, 3 could not serve.");
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 2) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "expected one DIR, got %d arguments "
                             "(see plugpull serve --help)", argc - 1);
    }
    if (port < 0 || port > 65535) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--port %d: not in 0..65535", port);
    }
    if (bandwidth < 0 || stall_ms < 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--bandwidth and --stall-ms must be >= 0");
    }
    if (!g_file_test(argv[1], G_FILE_TEST_IS_DIR)) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "%s: not a directory", argv[1]);
    }

    PpHttpdOptions opts = {
        .bandwidth = (guint64)bandwidth,
        .log_path = log_file,
        .fault_seed = (guint64)fault_seed,
        .p_drop = p_drop,
        .p_stall = p_stall,
        .p_5xx = p_5xx,
        .stall_ms = (guint)stall_ms,
    };
    g_autoptr(PpHttpd) httpd = pp_httpd_start_full(argv[1], (guint16)port,
                                                   &opts, error);
    if (httpd == NULL) {
        if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
            return pp_error_set_code(error, PP_ERROR_USAGE);
        }
        return FALSE;
    }

    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_auto(PpInterruptGuard) guard = { 0 };
    pp_interrupt_guard_init(&guard);
    guint watch = pp_interrupt_add_watch(on_interrupt, loop);

    if (port_file != NULL) {
        g_autofree char *text = g_strdup_printf("%u\n", pp_httpd_get_port(httpd));
        /* Not a result: a port lives as long as this process, so a
           power cut makes the file meaningless anyway. */
        if (!g_file_set_contents(port_file, text, -1, error)) {
            g_prefix_error(error, "write port file: ");
            g_source_remove(watch);
            return FALSE;
        }
    }
    g_printerr("plugpull: serve: %s on %s\n", argv[1], pp_httpd_get_url(httpd));

    g_main_loop_run(loop);
    g_source_remove(watch);

    guint64 n = pp_httpd_get_n_requests(httpd);
    guint64 bytes = pp_httpd_get_bytes_sent(httpd);
    guint64 faults = pp_httpd_get_n_faults(httpd);
    g_clear_pointer(&httpd, pp_httpd_stop);
    g_printerr("plugpull: serve: stopped: %" G_GUINT64_FORMAT " requests, %"
               G_GUINT64_FORMAT " body bytes, %" G_GUINT64_FORMAT " faults\n",
               n, bytes, faults);
    return TRUE;
}
