/* SPDX-License-Identifier: MIT */
/*
 * campaign-file.c: see campaign-file.h.
 */
#include "common/campaign-file.h"

#include "common/json.h"

JsonParser *
pp_campaign_file_load(const char *path, const char *dir, const char *command,
                      const char *kind, gint64 format, JsonObject **out,
                      GError **error)
{
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s is missing: %s is not a campaign started by plugpull "
                    "%s (nothing to resume)", path, dir, command);
        return NULL;
    }
    JsonObject *m = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonParser) parser = pp_json_load_object(path, &m, &local);
    if (parser == NULL) {
        /* A torn or edited file: the campaign cannot be known. */
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s is unreadable, so the campaign cannot be resumed: %s",
                    path, local->message);
        return NULL;
    }
    if (!g_str_equal(json_object_get_string_member_with_default(m, "kind", ""),
                     kind)
        || json_object_get_int_member_with_default(m, "format", 0) != format) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not a plugpull %s campaign file of format %"
                    G_GINT64_FORMAT, path, command, format);
        return NULL;
    }
    *out = m;
    return g_steal_pointer(&parser);
}

void
pp_campaign_disagree(GString *out, const char *what, const char *given,
                     const char *has)
{
    if (given != NULL && g_strcmp0(given, has) != 0) {
        g_string_append_printf(out, "\n  %s: %s given, the campaign has %s",
                               what, given, has != NULL ? has : "none");
    }
}
