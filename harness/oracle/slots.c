/* SPDX-License-Identifier: MIT */
/*
 * slots.c: see slots.h.
 */
#include "oracle/slots.h"

#include <string.h>

#include "common/json.h"
#include "common/ubootenv.h"
#include "common/util.h"

void
pp_slot_device_clear(PpSlotDevice *d)
{
    for (guint i = 0; i < PP_SLOTS_MAX_VERSIONS; i++) {
        g_clear_pointer(&d->image_sha256[i], g_free);
    }
    g_strfreev(d->pkgs_from);
    g_strfreev(d->pkgs_to);
    g_free(d->init);
    memset(d, 0, sizeof *d);
}

void
pp_slot_judgement_clear(PpSlotJudgement *j)
{
    g_clear_pointer(&j->reason, g_free);
    g_clear_pointer(&j->boots, g_free);
    g_clear_pointer(&j->evidence, json_node_unref);
}

JsonNode *
pp_slot_device_to_json(const PpSlotDevice *d)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    pp_json_add_string(b, "strategy", pp_strategy_to_string(d->strategy));
    pp_json_add_int(b, "env_copies", d->env_copies);
    pp_json_add_int(b, "from_version", d->from_version);
    pp_json_add_int(b, "to_version", d->to_version);
    pp_json_add_int(b, "image_bytes", (gint64)d->image_bytes);
    json_builder_set_member_name(b, "image_sha256");
    json_builder_begin_array(b);
    for (guint i = 0; i < PP_SLOTS_MAX_VERSIONS; i++) {
        if (d->image_sha256[i] != NULL) {
            json_builder_add_string_value(b, d->image_sha256[i]);
        } else {
            json_builder_add_null_value(b);
        }
    }
    json_builder_end_array(b);
    for (guint k = 0; k < 2; k++) {
        char **set = k == 0 ? d->pkgs_from : d->pkgs_to;
        if (set == NULL) {
            continue;
        }
        json_builder_set_member_name(b, k == 0 ? "pkgs_from" : "pkgs_to");
        json_builder_begin_array(b);
        for (guint i = 0; set[i] != NULL; i++) {
            json_builder_add_string_value(b, set[i]);
        }
        json_builder_end_array(b);
    }
    if (d->init != NULL) {
        pp_json_add_string(b, "init", d->init);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

gboolean
pp_slot_device_from_json(JsonNode *node, PpSlotDevice *d, GError **error)
{
    memset(d, 0, sizeof *d);
    JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT(node)
                    ? json_node_get_object(node) : NULL;
    JsonArray *imgs = o != NULL && json_object_has_member(o, "image_sha256")
                      ? json_object_get_array_member(o, "image_sha256") : NULL;
    const char *st = o != NULL
                     ? json_object_get_string_member_with_default(
                           o, "strategy", NULL) : NULL;
    if (o == NULL || imgs == NULL || !pp_strategy_from_string(st, &d->strategy)
        || d->strategy == PP_STRATEGY_OSTREE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "slots: not a slot device description (strategy, "
                    "image_sha256)");
        return FALSE;
    }
    d->env_copies = (guint)json_object_get_int_member_with_default(
        o, "env_copies", 1);
    d->from_version = (guint)json_object_get_int_member_with_default(
        o, "from_version", 1);
    d->to_version = (guint)json_object_get_int_member_with_default(
        o, "to_version", 2);
    d->image_bytes = (guint64)json_object_get_int_member_with_default(
        o, "image_bytes", 0);
    for (guint i = 0; i < PP_SLOTS_MAX_VERSIONS
                      && i < json_array_get_length(imgs); i++) {
        JsonNode *n = json_array_get_element(imgs, i);
        if (JSON_NODE_HOLDS_VALUE(n)) {
            d->image_sha256[i] = g_strdup(json_node_get_string(n));
        }
    }
    for (guint k = 0; k < 2; k++) {
        const char *m = k == 0 ? "pkgs_from" : "pkgs_to";
        JsonArray *a = json_object_has_member(o, m)
                       ? json_object_get_array_member(o, m) : NULL;
        if (a == NULL) {
            continue;
        }
        char **set = g_new0(char *, json_array_get_length(a) + 1);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            set[i] = g_strdup(json_array_get_string_element(a, i));
        }
        *(k == 0 ? &d->pkgs_from : &d->pkgs_to) = set;
    }
    d->init = g_strdup(json_object_get_string_member_with_default(o, "init",
                                                                 NULL));
    return TRUE;
}

/* The 1-based version whose image hashes to sum, 0 for none. */
static guint
version_of(const PpSlotDevice *d, const char *sum)
{
    for (guint i = 0; sum != NULL && i < PP_SLOTS_MAX_VERSIONS; i++) {
        if (g_strcmp0(d->image_sha256[i], sum) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* The slot's version (0: none) and sha256 (NULL: unreadable or of another
 * size: a partition has a fixed size, so a shorter file is a torn one). */
static guint
slot_version(const PpSlotDevice *d, const char *root, const char *slot,
             char **out_sum)
{
    g_autofree char *name = g_strdup_printf("slot-%s.img", slot);
    g_autofree char *path = g_build_filename(root, name, NULL);
    *out_sum = pp_file_sha256(path, NULL);
    return version_of(d, *out_sum);
}

/* Evidence of the environment copies and the one U-Boot uses. */
static void
add_env_evidence(JsonBuilder *b, const PpUbootEnvCopy *copies, guint n,
                 gint used)
{
    json_builder_set_member_name(b, "env");
    json_builder_begin_array(b);
    for (guint i = 0; i < n; i++) {
        json_builder_begin_object(b);
        pp_json_add_boolean(b, "present", copies[i].present);
        pp_json_add_boolean(b, "crc_ok", copies[i].crc_ok);
        pp_json_add_int(b, "flags", copies[i].flags);
        const char *slot = copies[i].vars != NULL
            ? g_hash_table_lookup(copies[i].vars, "slot") : NULL;
        pp_json_add_string_or_null(b, "slot", slot);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    pp_json_add_string(b, "env_used", used < 0 ? "built-in default"
                                      : used == 0 ? "copy 1" : "copy 2");
}

gboolean
pp_slots_judge(const PpSlotDevice *d, const char *root, PpSlotJudgement *out,
               GError **error)
{
    memset(out, 0, sizeof *out);
    if (!g_file_test(root, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "slots: %s is not a directory", root);
        return FALSE;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const char *slot = PP_SLOTS_DEFAULT_SLOT;
    PpUbootEnvCopy copies[2] = { { 0 } };
    g_autofree char *env_slot = NULL;
    guint n = d->strategy == PP_STRATEGY_AB ? d->env_copies : 0;
    if (n > 0) {
        const char *names[2] = { "uboot.env", "uboot-redund.env" };
        for (guint i = 0; i < n; i++) {
            g_autofree char *p = g_build_filename(root, names[i], NULL);
            pp_uboot_env_read(p, n > 1, &copies[i]);
        }
        gint used = pp_uboot_env_select(copies, n);
        if (used >= 0) {
            env_slot = g_strdup(g_hash_table_lookup(copies[used].vars,
                                                    "slot"));
            slot = env_slot;
        }
        add_env_evidence(b, copies, n, used);
        for (guint i = 0; i < n; i++) {
            pp_uboot_env_copy_clear(&copies[i]);
        }
    }
    pp_json_add_string_or_null(b, "slot", slot);
    g_autofree char *sum = NULL;
    gboolean known_slot = g_strcmp0(slot, "a") == 0
        || (d->strategy == PP_STRATEGY_AB && g_strcmp0(slot, "b") == 0);
    guint v = known_slot ? slot_version(d, root, slot, &sum) : 0;
    pp_json_add_string_or_null(b, "slot_sha256", sum);
    pp_json_add_int(b, "slot_version", v);

    /* The slot to go back to: the other one of an A/B pair. */
    guint other_v = 0;
    if (d->strategy == PP_STRATEGY_AB && known_slot) {
        g_autofree char *other_sum = NULL;
        other_v = slot_version(d, root, g_str_equal(slot, "a") ? "b" : "a",
                               &other_sum);
        pp_json_add_int(b, "other_slot_version", other_v);
    }

    if (!known_slot) {
        out->outcome = PP_OUTCOME_BRICK;
        out->reason = g_strdup_printf("U-Boot's environment names slot '%s', "
                                      "which does not exist",
                                      slot != NULL ? slot : "(unset)");
    } else if (v == 0) {
        out->outcome = PP_OUTCOME_BRICK;
        out->reason = g_strdup_printf(
            "slot %s matches no firmware image (sha256 %.12s): a partly "
            "written root", slot, sum != NULL ? sum : "unreadable");
    } else if (v != d->to_version && v != d->from_version) {
        out->outcome = PP_OUTCOME_WRONG_TREE;
        out->boots = g_strdup("other");
        out->reason = g_strdup_printf("slot %s holds v%u, neither the old "
                                      "v%u nor the new v%u", slot, v,
                                      d->from_version, d->to_version);
    } else {
        gboolean is_new = v == d->to_version;
        out->boots = g_strdup(is_new ? "new" : "old");
        /* As the OSTree oracle's: the old version booting is the device
           as it was; the new one needs the old beside it to go back to. */
        if (is_new && other_v != d->from_version) {
            out->outcome = PP_OUTCOME_NO_ROLLBACK;
            out->reason = g_strdup_printf(
                "boots the new version v%u from slot %s; no other slot holds "
                "the old v%u complete to go back to", v, slot,
                d->from_version);
        } else {
            out->outcome = PP_OUTCOME_PASS;
            out->reason = other_v != 0
                ? g_strdup_printf("boots the %s version v%u from slot %s; "
                                  "the other slot holds v%u", out->boots, v,
                                  slot, other_v)
                : g_strdup_printf("boots the %s version v%u from slot %s",
                                  out->boots, v, slot);
        }
    }
    pp_json_add_string_or_null(b, "boots", out->boots);
    pp_json_add_string(b, "outcome", pp_outcome_to_string(out->outcome));
    pp_json_add_string(b, "reason", out->reason);
    json_builder_end_object(b);
    out->evidence = json_builder_get_root(b);
    return TRUE;
}

gboolean
pp_slot_device_read(JsonObject *o, const char *where, PpStrategy *strategy,
                    PpSlotDevice *d, GError **error)
{
    const char *st = json_object_get_string_member_with_default(
        o, "strategy", "ostree");
    if (!pp_strategy_from_string(st, strategy)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s.strategy '%s' is not a strategy", where, st);
        return FALSE;
    }
    if (*strategy != PP_STRATEGY_OSTREE
        && !pp_slot_device_from_json(json_object_get_member(o, "slots"), d,
                                     error)) {
        g_prefix_error(error, "%s.slots: ", where);
        return FALSE;
    }
    return TRUE;
}
