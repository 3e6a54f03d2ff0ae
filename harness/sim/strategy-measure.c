/* SPDX-License-Identifier: MIT */
/*
 * strategy-measure.c: see strategy-measure.h.
 */
#include "sim/strategy-measure.h"

#include <string.h>

#include <glib/gstdio.h>

#include "common/client.h"
#include "common/error.h"
#include "common/json.h"
#include "common/util.h"
#include "oracle/dpkg-judge.h"
#include "server/firmware-repo.h"
#include "server/fixture.h"
#include "server/httpd.h"
#include "sim/sim-private.h"
#include "sim/strategy.h"

/* Run an ostree command on the device and count what the stand-in sent
 * for it. */
static gboolean
device_run(PpHttpd *httpd, const char *const *argv, gint64 *out_bytes,
           double *out_s, GError **error)
{
    guint64 before = pp_httpd_get_bytes_sent(httpd);
    gint64 t0 = g_get_monotonic_time();
    if (!pp_fixture_ostree_device(argv, NULL, error)) {
        return FALSE;
    }
    if (out_s != NULL) {
        *out_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    }
    if (out_bytes != NULL) {
        *out_bytes = (gint64)(pp_httpd_get_bytes_sent(httpd) - before);
    }
    return TRUE;
}

/* src's versions as a fixture under work/fixture: built, or the repo's
 * revs mirrored (v1 the version before from, so that the mirror serves
 * three: server/firmware-repo.h); with their trees for the slot images. */
static gboolean
source_fixture(const PpStrategySource *src, const char *work,
               gboolean trees, PpFixture **out, GError **error)
{
    g_autofree char *fxdir = g_build_filename(work, "fixture", NULL);
    if (src->repo == NULL) {
        return pp_fixture_build_repo(fxdir, src->payload_kb, out, error);
    }
    gboolean three = src->revs[2] != NULL;
    const char *history[] = { src->revs[0], NULL };
    g_autoptr(PpFirmwareRepo) fw = NULL;
    if (!pp_firmware_repo_check(src->repo, src->revs[three ? 1 : 0],
                                src->revs[three ? 2 : 1], NULL, &fw, error)
        || (three && !pp_firmware_repo_check_history(fw, history, error))
        || !pp_firmware_repo_mirror(fw, fxdir, out, error)) {
        return FALSE;
    }
    return !trees || pp_firmware_repo_checkout_trees(*out, error);
}

static gboolean
measure_ostree(const PpStrategySource *src, const char *work,
               PpStrategyFigures *f, GError **error)
{
    g_autoptr(PpFixture) fx = NULL;
    if (!source_fixture(src, work, FALSE, &fx, error)) {
        return FALSE;
    }
    g_autoptr(PpHttpd) httpd = pp_httpd_start(fx->srv_dir, 0, error);
    if (httpd == NULL) {
        return FALSE;
    }
    g_autofree char *url = g_strdup_printf("%s/repo", pp_httpd_get_url(httpd));
    if (!pp_fixture_make_sysroot_full(fx, url, "uboot", error)
        || !pp_du_bytes(fx->sysroot, &f->on_device[0], error)) {
        return FALSE;
    }
    g_autofree char *sysroot = g_strdup_printf("--sysroot=%s", fx->sysroot);
    g_autofree char *os = g_strdup_printf("--os=%s", fx->osname);
    g_autofree char *repo = g_strdup_printf("--repo=%s/ostree/repo",
                                            fx->sysroot);
    g_autofree char *refspec = g_strdup_printf("origin:%s", fx->ref);
    const char *upgrade[] = { "admin", "upgrade", sysroot, os, NULL };
    const char *pull[] = { repo, "pull", "origin", fx->ref, NULL };
    const char *deploy[] = { "admin", "deploy", "--retain", sysroot, os,
                             refspec, NULL };
    /* Index 2 is the oldest of three deployments (v1). */
    const char *undeploy[] = { "admin", "undeploy", sysroot, "2", NULL };
    f->image_bytes = -1;
    for (guint i = 0; i < 3; i++) {
        f->image_gzip_bytes[i] = -1;
    }
    if (!pp_fixture_publish(fx, 2, error)
        || !device_run(httpd, upgrade, &f->download[0], &f->update_s, error)
        || !pp_du_bytes(fx->sysroot, &f->on_device[1], error)) {
        g_prefix_error(error, "measuring ostree: ");
        return FALSE;
    }
    if (fx->commits[2] == NULL) {
        /* A repo without a v3: v1 -> v2 only. */
        f->download[1] = f->download[2] = f->on_device[2] = -1;
        f->back_objects = f->back_refetched = f->back_missing = -1;
        return TRUE;
    }
    if (!pp_fixture_publish(fx, 3, error)
        || !device_run(httpd, pull, &f->download[1], NULL, error)
        || !device_run(httpd, deploy, NULL, NULL, error)
        || !pp_du_bytes(fx->sysroot, &f->on_device[2], error)
        || !device_run(httpd, undeploy, NULL, NULL, error)
        || !pp_fixture_publish_again(fx, 1, error)) {
        g_prefix_error(error, "measuring ostree: ");
        return FALSE;
    }
    /* Back to v1: what comes over the wire against what the device had. */
    g_autofree char *repo_dir = g_build_filename(fx->sysroot, "ostree", "repo",
                                                 NULL);
    g_autoptr(GHashTable) had = pp_sim_repo_objects(repo_dir);
    guint log_before = 0;
    {
        g_autoptr(GPtrArray) log = pp_httpd_dup_log(httpd);
        log_before = log->len;
    }
    if (!device_run(httpd, upgrade, &f->download[2], NULL, error)) {
        g_prefix_error(error, "measuring ostree (back to v1): ");
        return FALSE;
    }
    g_autoptr(GHashTable) has = pp_sim_repo_objects(repo_dir);
    g_autoptr(GPtrArray) log = pp_httpd_dup_log(httpd);
    for (guint i = log_before; i < log->len; i++) {
        const PpHttpdRequest *rq = log->pdata[i];
        g_autofree char *key = pp_sim_object_key_of_url(rq->path);
        if (key != NULL && rq->status == 200) {
            f->back_objects++;
            f->back_refetched += g_hash_table_contains(had, key);
        }
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, has);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        f->back_missing += !g_hash_table_contains(had, key);
    }
    return TRUE;
}

/* Bytes of path gzip'd at level 6 (GIO's zlib, as `gzip -6`). */
static gboolean
gzip_size(const char *path, gint64 *out, GError **error)
{
    g_autoptr(GFile) file = g_file_new_for_path(path);
    g_autoptr(GFileInputStream) in = g_file_read(file, NULL, error);
    if (in == NULL) {
        g_prefix_error(error, "open(%s): ", path);
        return FALSE;
    }
    g_autoptr(GZlibCompressor) z = g_zlib_compressor_new(
        G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
    g_autoptr(GInputStream) zin = g_converter_input_stream_new(
        G_INPUT_STREAM(in), G_CONVERTER(z));
    g_autofree guint8 *buf = g_malloc(1 << 16);
    *out = 0;
    for (;;) {
        gssize n = g_input_stream_read(zin, buf, 1 << 16, NULL, error);
        if (n < 0) {
            g_prefix_error(error, "compressing %s: ", path);
            return FALSE;
        }
        if (n == 0) {
            return TRUE;
        }
        *out += n;
    }
}

static gboolean
measure_slots(PpStrategy st, const PpStrategySource *src, guint env_copies,
              gboolean swupdate, const char *work, PpStrategyFigures *f,
              GError **error)
{
    g_autoptr(PpScenario) sc = pp_scenario_new_default();
    sc->strategy = st;
    sc->env_copies = env_copies;
    sc->ab_swupdate = swupdate;
    g_autoptr(PpFixture) fx = NULL;
    g_auto(PpSlotSetup) setup = { 0 };
    if (!source_fixture(src, work, TRUE, &fx, error)
        || !pp_slot_setup(sc, fx, work, &setup, error)) {
        return FALSE;
    }
    PpClientOpts opts = { .userns = TRUE, .capture = TRUE };
    PpClientResult res = { 0 };
    gint64 t0 = g_get_monotonic_time();
    if (!pp_client_run(&opts, (const char *const *)setup.argv, &res, error)) {
        return FALSE;
    }
    f->update_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (res.exit_status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the %s update exited %d: %s", pp_strategy_to_string(st),
                    res.exit_status, res.err != NULL ? res.err : "");
        pp_client_result_clear(&res);
        return FALSE;
    }
    pp_client_result_clear(&res);
    f->image_bytes = (gint64)setup.dev.image_bytes;
    f->back_objects = f->back_refetched = f->back_missing = -1;
    /* A whole image per update, whichever way it goes. */
    static const guint to[3] = { 2, 3, 1 };
    for (guint i = 0; i < 3; i++) {
        f->download[i] = f->image_gzip_bytes[i] = -1;
        if (fx->commits[2] == NULL && i > 0) {
            continue;           /* a repo without a v3 */
        }
        f->download[i] = f->image_bytes;
        g_autofree char *name = g_strdup_printf("v%u.img", to[i]);
        g_autofree char *img = g_build_filename(setup.images_dir, name, NULL);
        if (!gzip_size(img, &f->image_gzip_bytes[i], error)) {
            return FALSE;
        }
    }
    /* The partitions are there whatever they hold. */
    gint64 env = (gint64)setup.dev.env_copies * 0x4000;
    if (st == PP_STRATEGY_AB) {
        f->on_device[0] = f->on_device[1] = 2 * f->image_bytes + env;
        f->on_device[2] = -1;
    } else {
        f->on_device[0] = f->image_bytes;
        f->on_device[1] = f->on_device[2] = -1;
    }
    return TRUE;
}

/* Bytes of the files paths->pdata[from..]. */
static gboolean
files_bytes(GPtrArray *paths, guint from, gint64 *out, GError **error)
{
    *out = 0;
    for (guint i = from; i < paths->len; i++) {
        GStatBuf st;
        if (g_stat(paths->pdata[i], &st) != 0) {
            return pp_throw_errno_prefix(error, "stat(%s)",
                                         (char *)paths->pdata[i]);
        }
        *out += (gint64)st.st_size;
    }
    return TRUE;
}

/* Bytes of the .debs a dpkg update from have to want installs. */
static gboolean
debs_bytes(const char *repo, char **have, char **want, gint64 *out,
           GError **error)
{
    g_autoptr(GPtrArray) debs = g_ptr_array_new_with_free_func(g_free);
    return pp_dpkg_update_debs(repo, have, want, debs, error)
           && files_bytes(debs, 0, out, error);
}

/* Run a dpkg command (pp_dpkg_command) on the device, as root (it makes
 * its own mount namespace). */
static gboolean
dpkg_run(GPtrArray *argv, const char *what, GError **error)
{
    g_ptr_array_add(argv, NULL);
    PpClientOpts opts = { .capture = TRUE };
    PpClientResult res = { 0 };
    if (!pp_client_run(&opts, (const char *const *)argv->pdata, &res,
                       error)) {
        return FALSE;
    }
    gboolean ok = res.exit_status == 0;
    if (!ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: dpkg exited "
                    "%d: %s", what, res.exit_status,
                    res.err != NULL ? res.err : "");
    }
    pp_client_result_clear(&res);
    return ok;
}

/* The device's installed package set must be want's. */
static gboolean
dpkg_device_is(const char *root, char **want, const char *what,
               GError **error)
{
    g_autoptr(GHashTable) pkgs = pp_dpkg_db_read(root, error);
    if (pkgs == NULL) {
        return FALSE;
    }
    g_auto(GStrv) have = pp_dpkg_installed_set(pkgs);
    if (!g_strv_equal((const char *const *)have, (const char *const *)want)) {
        g_autofree char *h = g_strjoinv(", ", have);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "after %s the "
                    "device does not hold that version's packages: %s", what,
                    h);
        return FALSE;
    }
    return TRUE;
}

/* One dpkg update on the device: the .debs of have -> want installed
 * (none: nothing run), their bytes the download. */
static gboolean
dpkg_install(const PpStrategySource *src, const char *work,
             const char *root, char **have, char **want, const char *what,
             gint64 *out_bytes, GError **error)
{
    g_autoptr(GPtrArray) argv = pp_dpkg_command(work, root, "-i");
    guint base = argv->len;
    if (!pp_dpkg_update_debs(src->repo, have, want, argv, error)
        || !files_bytes(argv, base, out_bytes, error)) {
        return FALSE;
    }
    return argv->len == base || dpkg_run(argv, what, error);
}

/*
 * dpkg, v2 -> v3 and back to v1, run on the device the v1 -> v2 update
 * left: `dpkg -i` of the .debs v3 adds or changes, then `dpkg --purge` of
 * the packages v1 does not have and `dpkg -i` of those it has in another
 * version; each must leave exactly that version's package set.  The
 * downloads are those .debs.
 */
static gboolean
dpkg_onwards_and_back(const PpStrategySource *src, const char *work,
                      const PpSlotSetup *setup, PpStrategyFigures *f,
                      GError **error)
{
    g_autofree char *dir = g_build_filename(work, "v3-database", NULL);
    g_auto(GStrv) v3 = NULL;
    if (!pp_dpkg_package_set(src->repo, src->revs[2], dir, &v3, error)) {
        return FALSE;
    }
    char **v1 = setup->dev.pkgs_from;
    char **v2 = setup->dev.pkgs_to;
    if (!dpkg_install(src, work, setup->root, v2, v3,
                      "dpkg -i of v3's packages", &f->download[1], error)
        || !dpkg_device_is(setup->root, v3, "the v2 -> v3 update", error)) {
        g_prefix_error(error, "dpkg v2 -> v3: ");
        return FALSE;
    }
    /* Back: what v3 has and v1 has not, by name, is purged. */
    g_autoptr(GPtrArray) purge = pp_dpkg_command(work, setup->root,
                                                 "--purge");
    guint base = purge->len;
    for (char **e = v3; *e != NULL; e++) {
        g_autofree char *name = g_strndup(*e, strcspn(*e, " "));
        gboolean kept = FALSE;
        for (char **o = v1; *o != NULL && !kept; o++) {
            kept = strncmp(*o, name, strlen(name)) == 0
                   && (*o)[strlen(name)] == ' ';
        }
        if (!kept) {
            g_ptr_array_add(purge, g_steal_pointer(&name));
        }
    }
    if ((purge->len > base && !dpkg_run(purge, "dpkg --purge", error))
        || !dpkg_install(src, work, setup->root, v3, v1,
                         "dpkg -i of v1's packages", &f->download[2], error)
        || !dpkg_device_is(setup->root, v1, "going back to v1", error)) {
        g_prefix_error(error, "dpkg back to v1: ");
        return FALSE;
    }
    return TRUE;
}

/*
 * dpkg: the v1 -> v2 update run untraced (its time, the root's bytes),
 * then v2 -> v3 and back to v1 on the same device (dpkg_onwards_and_back);
 * the downloads are the .debs each update installs.
 */
static gboolean
measure_dpkg(const PpStrategySource *src, const char *work,
             PpStrategyFigures *f, GError **error)
{
    g_autoptr(PpScenario) sc = pp_scenario_new_default();
    sc->strategy = PP_STRATEGY_DPKG;
    sc->repo = g_strdup(src->repo);
    sc->from_rev = g_strdup(src->revs[0]);
    sc->to_rev = g_strdup(src->revs[1]);
    g_auto(PpSlotSetup) setup = { 0 };
    if (!pp_dpkg_setup(sc, work, &setup, error)) {
        return FALSE;
    }
    /* As root: the command makes its own mount namespace. */
    PpClientOpts opts = { .capture = TRUE };
    PpClientResult res = { 0 };
    gint64 t0 = g_get_monotonic_time();
    if (!pp_client_run(&opts, (const char *const *)setup.argv, &res, error)) {
        return FALSE;
    }
    f->update_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (res.exit_status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the dpkg update exited %d: %s", res.exit_status,
                    res.err != NULL ? res.err : "");
        pp_client_result_clear(&res);
        return FALSE;
    }
    pp_client_result_clear(&res);
    f->image_bytes = -1;
    f->back_objects = f->back_refetched = f->back_missing = -1;
    for (guint i = 0; i < 3; i++) {
        f->image_gzip_bytes[i] = -1;
        f->download[i] = -1;
    }
    if (!debs_bytes(src->repo, setup.dev.pkgs_from, setup.dev.pkgs_to,
                    &f->download[0], error)) {
        return FALSE;
    }
    /* The root with its one version, v2, before it moves on. */
    if (!pp_du_bytes(setup.root, &f->on_device[0], error)) {
        return FALSE;
    }
    if (src->revs[2] != NULL
        && !dpkg_onwards_and_back(src, work, &setup, f, error)) {
        return FALSE;
    }
    f->on_device[1] = f->on_device[2] = -1;
    return TRUE;
}

gboolean
pp_strategy_measure(PpStrategy st, const PpStrategySource *src,
                    guint env_copies, gboolean swupdate, const char *work,
                    PpStrategyFigures *out, GError **error)
{
    memset(out, 0, sizeof *out);
    out->strategy = st;
    if (!pp_mkdir_p(work, error)) {
        return FALSE;
    }
    if (st == PP_STRATEGY_DPKG) {
        return measure_dpkg(src, work, out, error);
    }
    return st == PP_STRATEGY_OSTREE
        ? measure_ostree(src, work, out, error)
        : measure_slots(st, src, env_copies, swupdate, work, out, error);
}

static void
add_triple(JsonBuilder *b, const char *name, const gint64 *v,
           const char *const *keys)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    for (guint i = 0; i < 3; i++) {
        json_builder_set_member_name(b, keys[i]);
        if (v[i] < 0) {
            json_builder_add_null_value(b);
        } else {
            json_builder_add_int_value(b, v[i]);
        }
    }
    json_builder_end_object(b);
}

JsonNode *
pp_strategy_figures_to_json(const PpStrategyFigures *f)
{
    static const char *const dl[] = { "v1_to_v2", "v2_to_v3", "v3_to_v1" };
    static const char *const kept[] = { "1", "2", "3" };
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_triple(b, "download_bytes", f->download, dl);
    add_triple(b, "on_device_bytes", f->on_device, kept);
    json_builder_set_member_name(b, "image_bytes");
    if (f->image_bytes < 0) {
        json_builder_add_null_value(b);
    } else {
        json_builder_add_int_value(b, f->image_bytes);
    }
    add_triple(b, "image_gzip_bytes", f->image_gzip_bytes, dl);
    pp_json_add_double(b, "update_s", f->update_s);
    if (f->back_objects >= 0) {
        json_builder_set_member_name(b, "back_to_v1_objects");
        json_builder_begin_object(b);
        pp_json_add_int(b, "fetched", f->back_objects);
        pp_json_add_int(b, "already_on_device", f->back_refetched);
        pp_json_add_int(b, "new_on_device", f->back_missing);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
