/* SPDX-License-Identifier: MIT */
/*
 * version.c: see version.h.  The only file that includes the generated
 * pp-version.h, so a new version rebuilds this object alone.
 */
#include "common/version.h"

#include <gio/gio.h>

#include "common/json.h"
#include "pp-version.h"

const char *
pp_version(void)
{
    return PP_VERSION_TEXT;
}

void
pp_version_add_json(JsonBuilder *b)
{
    pp_json_add_string(b, "tool_version", pp_version());
    pp_json_add_int(b, "harness_format", PP_HARNESS_FORMAT);
}

gboolean
pp_version_check_compatible(JsonObject *o, const char *what, const char *path,
                            char **out_note, GError **error)
{
    if (out_note != NULL) {
        *out_note = NULL;
    }
    JsonNode *fmt = json_object_get_member(o, "harness_format");
    const char *made_by = json_object_get_string_member_with_default(
        o, "tool_version", NULL);
    if (fmt == NULL) {
        if (out_note != NULL) {
            *out_note = g_strdup_printf(
                "%s: this %s was made by a plugpull older than version "
                "records (no harness_format); its format matches, so it is "
                "read by plugpull %s", path, what, pp_version());
        }
        return TRUE;
    }
    if (!JSON_NODE_HOLDS_VALUE(fmt)
        || json_node_get_value_type(fmt) != G_TYPE_INT64) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: 'harness_format' is not a number", path);
        return FALSE;
    }
    gint64 theirs = json_node_get_int(fmt);
    if (theirs != PP_HARNESS_FORMAT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: this %s was made by plugpull %s (harness format %"
                    G_GINT64_FORMAT "), which this plugpull %s (harness "
                    "format %d) cannot read: use plugpull %s, or make the "
                    "%s again with this one", path, what,
                    made_by != NULL ? made_by : "(version unknown)", theirs,
                    pp_version(), PP_HARNESS_FORMAT,
                    made_by != NULL ? made_by : "of that format", what);
        return FALSE;
    }
    return TRUE;
}
