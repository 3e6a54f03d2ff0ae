/* SPDX-License-Identifier: MIT */
/*
 * json.c: see json.h.
 */
#include "common/json.h"

#include "common/durable.h"

JsonParser *
pp_json_load_object(const char *path, JsonObject **out, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_file(parser, path, error)) {
        g_prefix_error(error, "reading %s: ", path);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not a JSON object", path);
        return NULL;
    }
    *out = json_node_get_object(root);
    return g_steal_pointer(&parser);
}

gboolean
pp_json_get_string(JsonObject *o, const char *name, gboolean nullable,
                   const char *path, char **out, GError **error)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    if (n != NULL && nullable && JSON_NODE_HOLDS_NULL(n)) {
        *out = NULL;
        return TRUE;
    }
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n)
        || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: '%s' missing or not a string%s", path, name,
                    nullable ? " or null" : "");
        return FALSE;
    }
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

void
pp_json_add_string_or_null(JsonBuilder *b, const char *name,
                           const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL) {
        json_builder_add_string_value(b, value);
    } else {
        json_builder_add_null_value(b);
    }
}

void
pp_json_add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

void
pp_json_add_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void
pp_json_add_double(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, value);
}

void
pp_json_add_boolean(JsonBuilder *b, const char *name, gboolean value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

gboolean
pp_write_json(const char *path, JsonNode *node, GError **error)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    gsize len = 0;
    g_autofree char *text = json_generator_to_data(gen, &len);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    return pp_write_file_durable(path, with_nl, -1, error);
}
