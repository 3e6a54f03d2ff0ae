/* SPDX-License-Identifier: MIT */
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

gboolean
pp_cmd_fixture(int argc, char **argv, GError **error)
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
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (argc != 1) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "unexpected argument '%s'", argv[1]);
    }
    if (out_dir == NULL) {
        return pp_throw_code(error, PP_ERROR_USAGE, "--out DIR is required");
    }
    if (payload_kb < 1 || payload_kb > 1024 * 1024) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--payload-kb %d: not in 1..1048576",
                             payload_kb);
    }
    if (publish < 0 || publish > PP_FIXTURE_N_VERSIONS) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--publish %d: not in 1..%d", publish,
                             PP_FIXTURE_N_VERSIONS);
    }

    g_autoptr(PpFixture) fx = NULL;
    if (!pp_fixture_build_repo(out_dir, (guint)payload_kb, &fx, error)) {
        return FALSE;
    }
    if (!no_sysroot) {
        g_autoptr(PpHttpd) httpd = pp_httpd_start(fx->srv_dir, 0, error);
        if (httpd == NULL) {
            g_prefix_error(error, "serving the repo: ");
            return FALSE;
        }
        g_autofree char *url = g_strconcat(pp_httpd_get_url(httpd), "/repo", NULL);
        if (!pp_fixture_make_sysroot(fx, url, error)) {
            return FALSE;
        }
    }
    if (publish > 0 && !pp_fixture_publish(fx, (guint)publish, error)) {
        return FALSE;
    }
    print_description(fx, !no_sysroot);
    return TRUE;
}
