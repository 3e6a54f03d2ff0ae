/* SPDX-License-Identifier: MIT */
/*
 * crashstate-name.c: model names and crash-state names
 * ("pull.cfit@1234:ordered:7"), which reports carry so that any single
 * state can be rebuilt.
 */
#include "crashstate.h"

#include <string.h>

#include <gio/gio.h>

static const char *const model_names[CFI_MODEL_COUNT] = {
    [CFI_MODEL_PROCESS_KILL] = "process-kill",
    [CFI_MODEL_ORDERED] = "ordered",
    [CFI_MODEL_STRICT] = "strict",
    [CFI_MODEL_TORN] = "torn",
    [CFI_MODEL_REORDER] = "reorder",
};

gboolean
cfi_model_from_string(const char *s, CfiModel *out, GError **error)
{
    for (int i = 0; s != NULL && i < CFI_MODEL_COUNT; i++) {
        if (strcmp(s, model_names[i]) == 0) {
            *out = (CfiModel)i;
            return TRUE;
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "unknown power-loss model '%s' (expected process-kill, "
                "ordered, strict, torn or reorder)", s != NULL ? s : "(null)");
    return FALSE;
}

const char *
cfi_model_to_string(CfiModel m)
{
    if ((unsigned)m >= CFI_MODEL_COUNT)
        return "?";
    return model_names[m];
}

char *
cfi_crashstate_name(const char *trace_path, guint k, CfiModel model,
                    guint64 seed)
{
    return g_strdup_printf("%s@%u:%s:%" G_GUINT64_FORMAT, trace_path, k,
                           cfi_model_to_string(model), seed);
}

gboolean
cfi_crashstate_parse_name(const char *name, char **out_trace_path,
                          guint *out_k, CfiModel *out_model,
                          guint64 *out_seed, GError **error)
{
    const char *at = strrchr(name, '@');
    g_auto(GStrv) parts = at != NULL ? g_strsplit(at + 1, ":", -1) : NULL;
    guint64 k = 0, seed = 0;
    CfiModel model;
    g_autoptr(GError) local = NULL;

    if (at == NULL || at == name || g_strv_length(parts) != 3 ||
        !g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT, &k, &local) ||
        !cfi_model_from_string(parts[1], &model, &local) ||
        !g_ascii_string_to_unsigned(parts[2], 10, 0, G_MAXUINT64, &seed,
                                    &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "parse crash-state name '%s': expected "
                    "TRACE@K:MODEL:SEED%s%s", name, local ? ": " : "",
                    local ? local->message : "");
        return FALSE;
    }
    if (out_trace_path != NULL)
        *out_trace_path = g_strndup(name, at - name);
    if (out_k != NULL)
        *out_k = k;
    if (out_model != NULL)
        *out_model = model;
    if (out_seed != NULL)
        *out_seed = seed;
    return TRUE;
}
