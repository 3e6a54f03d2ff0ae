/*
 * cmd-fixture.c: `plugpull fixture --out DIR`: build the fixture firmware
 * repo and the device sysroot (see fixture.h), and print a JSON
 * description of what was built on stdout.
 *
 * The device pulls v1 over HTTP from a stand-in server started only for
 * that pull; the server is stopped before the command returns.  The JSON
 * names everything a script needs to serve DIR/srv again and upgrade.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "server/fixture.h"
#include "server/httpd.h"
#include "plugpull.h"
#include "common/json.h"

static void
print_description(const PpFixture *fx, gboolean with_sysroot)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "dir", fx->dir);
    pp_json_add_string(b, "srv_dir", fx->srv_dir);
    pp_json_add_string(b, "srv_repo", fx->srv_repo);
    pp_json_add_string(b, "url_path", "/repo");
    json_builder_set_member_name(b, "sysroot");
    if (with_sysroot) {
        json_builder_add_string_value(b, fx->sysroot);
    } else {
        json_builder_add_null_value(b);
    }
    pp_json_add_string(b, "osname", fx->osname);
    pp_json_add_string(b, "ref", fx->ref);
    pp_json_add_string(b, "remote", "origin");
    pp_json_add_string(b, "kver", fx->kver);
    pp_json_add_int(b, "payload_kb", fx->payload_kb);
    pp_json_add_int(b, "published", fx->published);
    json_builder_set_member_name(b, "commits");
    json_builder_begin_array(b);
    for (guint i = 0; i < PP_FIXTURE_N_VERSIONS; i++) {
        json_builder_add_string_value(b, fx->commits[i]);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "trees");
    json_builder_begin_array(b);
    for (guint i = 0; i < PP_FIXTURE_N_VERSIONS; i++) {
        json_builder_add_string_value(b, fx->trees[i]);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

int
pp_cmd_fixture(int argc, char **argv)
{
    g_autofree char *out_dir = NULL;
    gint payload_kb = PP_FIXTURE_DEFAULT_PAYLOAD_KB;
    gboolean no_sysroot = FALSE;
    gint publish = 0;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
          "fixture directory (created; must not hold a fixture yet)", "DIR" },
        { "payload-kb", 0, 0, G_OPTION_ARG_INT, &payload_kb,
          "payload size per version in KiB (default 2048)", "N" },
        { "no-sysroot", 0, 0, G_OPTION_ARG_NONE, &no_sysroot,
          "build the server repo only", NULL },
        { "publish", 0, 0, G_OPTION_ARG_INT, &publish,
          "after the device is made, point the ref at version N", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- build the fixture firmware repo and a directory sysroot");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Builds DIR/trees/v1..v3, the archive repo DIR/srv/repo (ref "
        PP_FIXTURE_REF " at v1) and\nthe device DIR/sysroot with v1 "
        "deployed, then prints a JSON description.\n"
        "Exit status: 0 built, 2 usage error, 3 the build failed.");
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        pp_print_error("fixture", error);
        return PP_EXIT_USAGE;
    }
    if (argc != 1) {
        g_printerr("plugpull: fixture: unexpected argument '%s'\n", argv[1]);
        return PP_EXIT_USAGE;
    }
    if (out_dir == NULL) {
        g_printerr("plugpull: fixture: --out DIR is required\n");
        return PP_EXIT_USAGE;
    }
    if (payload_kb < 1 || payload_kb > 1024 * 1024) {
        g_printerr("plugpull: fixture: --payload-kb %d: not in 1..1048576\n",
                   payload_kb);
        return PP_EXIT_USAGE;
    }
    if (publish < 0 || publish > PP_FIXTURE_N_VERSIONS) {
        g_printerr("plugpull: fixture: --publish %d: not in 1..%d\n", publish,
                   PP_FIXTURE_N_VERSIONS);
        return PP_EXIT_USAGE;
    }

    g_autoptr(PpFixture) fx = NULL;
    if (!pp_fixture_build_repo(out_dir, (guint)payload_kb, &fx, &error)) {
        pp_print_error("fixture", error);
        return PP_EXIT_HARNESS;
    }
    if (!no_sysroot) {
        g_autoptr(PpHttpd) httpd = pp_httpd_start(fx->srv_dir, 0, &error);
        if (httpd == NULL) {
            pp_print_error("fixture: serving the repo", error);
            return PP_EXIT_HARNESS;
        }
        g_autofree char *url = g_strconcat(pp_httpd_get_url(httpd), "/repo", NULL);
        if (!pp_fixture_make_sysroot(fx, url, &error)) {
            pp_print_error(NULL, error);
            return PP_EXIT_HARNESS;
        }
    }
    if (publish > 0 && !pp_fixture_publish(fx, (guint)publish, &error)) {
        pp_print_error(NULL, error);
        return PP_EXIT_HARNESS;
    }
    print_description(fx, !no_sysroot);
    return PP_EXIT_OK;
}
