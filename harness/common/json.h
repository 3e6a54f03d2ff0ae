/* SPDX-License-Identifier: MIT */
/*
 * json.h: the JSON helpers of the harness (json-glib underneath): reading
 * the small JSON files plugpull keeps, and writing a result file durably.
 */
#ifndef PP_COMMON_JSON_H
#define PP_COMMON_JSON_H

#include <json-glib/json-glib.h>

/*
 * Parse a JSON file whose root must be an object.  Returns the parser
 * (which owns *out) or NULL with an error naming the path.
 */
JsonParser *pp_json_load_object(const char *path, JsonObject **out,
                                 GError **error);

/* Members of the small JSON files the harness keeps (campaign.json):
 * a string member, or NULL for a null one when nullable (errors name the
 * file); a string or null written. */
gboolean pp_json_get_string(JsonObject *o, const char *name,
                            gboolean nullable, const char *path, char **out,
                            GError **error);
void pp_json_add_string_or_null(JsonBuilder *b, const char *name,
                                const char *value);

/* A member of the object being built: its name, then its value (the one
 * way the harness writes a member; json_builder_set_member_name and an
 * add_*_value call in a row are this). */
void pp_json_add_string(JsonBuilder *b, const char *name, const char *value);
void pp_json_add_int(JsonBuilder *b, const char *name, gint64 value);
void pp_json_add_double(JsonBuilder *b, const char *name, double value);
void pp_json_add_boolean(JsonBuilder *b, const char *name, gboolean value);

/* Write `node` (pretty, with a final newline) to `path` durably
 * (pp_write_file_durable): a power cut leaves the old file or the new. */
gboolean pp_write_json(const char *path, JsonNode *node, GError **error);

#endif /* PP_COMMON_JSON_H */
