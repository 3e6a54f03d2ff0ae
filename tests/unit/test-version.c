/* SPDX-License-Identifier: MIT */
/*
 * test-version: which plugpull wrote a result, and whether this one reads
 * it (common/version.h).
 *
 * - the version is set and is what the files record, with the format;
 * - a file of this harness format is read, silently;
 * - a file without one (made before versions were recorded) is read,
 *   with a note that says so;
 * - twins: another format is refused naming both versions and both
 *   formats; a format that is no number is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <gio/gio.h>

#include "common/version.h"

static JsonParser *
parse(const char *text, JsonObject **out)
{
    JsonParser *p = json_parser_new();
    assert_true(json_parser_load_from_data(p, text, -1, NULL));
    *out = json_node_get_object(json_parser_get_root(p));
    return p;
}

static void
test_version_recorded(void **state)
{
    (void)state;
    assert_non_null(pp_version());
    assert_true(strlen(pp_version()) > 0);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_version_add_json(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    JsonObject *o = json_node_get_object(root);
    assert_string_equal(json_object_get_string_member(o, "tool_version"),
                        pp_version());
    assert_int_equal(json_object_get_int_member(o, "harness_format"),
                     PP_HARNESS_FORMAT);
    g_autofree char *note = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_version_check_compatible(o, "recording", "r.json", &note,
                                            &error));
    assert_null(note);
}

static void
test_version_old_file_read_with_note(void **state)
{
    (void)state;
    JsonObject *o = NULL;
    g_autoptr(JsonParser) p = parse("{\"tool\": \"plugpull\", \"format\": 1}",
                                    &o);
    g_autofree char *note = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(pp_version_check_compatible(o, "recording", "r.json", &note,
                                            &error));
    assert_non_null(note);
    assert_non_null(strstr(note, "older than version records"));
}

/* Twin: another harness format is refused, both versions named. */
static void
test_version_other_format_refused(void **state)
{
    (void)state;
    JsonObject *o = NULL;
    g_autoptr(JsonParser) p = parse(
        "{\"tool_version\": \"9.9.9\", \"harness_format\": 99}", &o);
    g_autofree char *note = NULL;
    g_autoptr(GError) error = NULL;
    assert_false(pp_version_check_compatible(o, "shard", "s/summary.json",
                                             &note, &error));
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
    g_autofree char *mine = g_strdup_printf("this plugpull %s (harness "
                                            "format %d)", pp_version(),
                                            PP_HARNESS_FORMAT);
    assert_non_null(strstr(error->message, "s/summary.json: this shard was "
                                           "made by plugpull 9.9.9 (harness "
                                           "format 99)"));
    assert_non_null(strstr(error->message, mine));

    g_clear_error(&error);
    JsonObject *o2 = NULL;
    g_autoptr(JsonParser) p2 = parse("{\"harness_format\": \"1\"}", &o2);
    assert_false(pp_version_check_compatible(o2, "shard", "s", NULL, &error));
    assert_non_null(strstr(error->message, "not a number"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_recorded),
        cmocka_unit_test(test_version_old_file_read_with_note),
        cmocka_unit_test(test_version_other_format_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
