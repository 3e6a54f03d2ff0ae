/* SPDX-License-Identifier: MIT */
/*
 * demo.c: plugpull demo, the built-in default job.
 *
 * Builds the fixture firmware (v1, v2, v3) and a directory sysroot with v1
 * deployed, serves the firmware over HTTP on 127.0.0.1, publishes v2, and
 * records a real `ostree admin upgrade` (pull + deploy + cleanup) under the
 * shim.  Then it prints the crash-point summary of that upgrade: calls by
 * phase, the barriers, the commit point, and what the boot state looks like
 * in crash states just before and after the commit point under each model.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "crashstate.h"
#include "server/fixture.h"
#include "server/httpd.h"
#include "common/phases.h"
#include "plugpull.h"
#include "sim/record.h"
#include "trace-reader.h"
#include "common/fs.h"
#include "common/fs.h"
#include "common/tracestats.h"
#include "common/util.h"

/* What the bootloader would start from in this state, in a few words. */
static char *
describe_boot(const char *state)
{
    g_autofree char *loader_path = g_build_filename(state, "boot", "loader",
                                                    NULL);
    g_autofree char *loader = g_file_read_link(loader_path, NULL);
    if (loader == NULL) {
        return g_strdup("boot/loader missing");
    }
    g_autofree char *entries = g_build_filename(state, "boot", loader,
                                                "entries", NULL);
    g_autoptr(GDir) d = g_dir_open(entries, 0, NULL);
    guint n = 0;
    while (d != NULL && g_dir_read_name(d) != NULL) {
        n++;
    }
    return g_strdup_printf("boot/loader -> %s, %u entr%s", loader, n,
                           n == 1 ? "y" : "ies");
}

static gboolean
prepare_out(const char *out, GError **error)
{
    if (g_file_test(out, G_FILE_TEST_EXISTS)) {
        /* The demo's own previous run: start over, it is all generated. */
        if (!pp_rm_rf(out, error)) {
            return FALSE;
        }
    }
    return pp_mkdir_p(out, error);
}

static void
print_phase_table(CfiTrace *trace, const PpPhases *ph)
{
    guint calls[PP_PHASE_COUNT] = { 0 };
    guint barriers[PP_PHASE_COUNT] = { 0 };
    guint renames[PP_PHASE_COUNT] = { 0 };
    guint links[PP_PHASE_COUNT] = { 0 };
    guint unlinks[PP_PHASE_COUNT] = { 0 };
    for (guint i = 0; i < cfi_trace_n_records(trace); i++) {
        const struct cfi_rec *rec = cfi_trace_get(trace, i)->rec;
        guint op = rec->op;
        PpPhase p = pp_phases_at(ph, i);
        calls[p]++;
        barriers[p] += pp_rec_is_barrier(rec);
        renames[p] += op == CFI_OP_RENAME;
        links[p] += op == CFI_OP_LINK || op == CFI_OP_SYMLINK;
        unlinks[p] += op == CFI_OP_UNLINK || op == CFI_OP_RMDIR;
    }
    g_print("  %-11s %7s %9s %7s %7s %8s\n", "phase", "calls", "barriers",
            "renames", "links", "unlinks");
    for (guint p = 0; p < PP_PHASE_COUNT; p++) {
        g_print("  %-11s %7u %9u %7u %7u %8u\n", pp_phase_name(p), calls[p],
                barriers[p], renames[p], links[p], unlinks[p]);
    }
}

/* Just over the ~150-line mark: the demo prints its report in the order a
   reader meets it (traced calls, phases, sample states, the replay
   command), and each step is a few lines of printing. */
gboolean
pp_cmd_demo(int argc, char **argv, GError **error)
{
    g_autofree char *out = NULL;
    gint payload_kb = 0;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "work and output directory (default build/demo; replaced)", "DIR" },
        { "payload-kb", 0, 0, G_OPTION_ARG_INT, &payload_kb,
          "size of the fixture's payload in KiB", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Trace a real ostree upgrade v1 -> v2 "
                                 "of a small device and summarise its crash "
                                 "points.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return pp_error_set_code(error, PP_ERROR_USAGE);
    }
    if (payload_kb < 0) {
        return pp_throw_code(error, PP_ERROR_USAGE,
                             "--payload-kb must be positive");
    }
    g_autofree char *dir = g_canonicalize_filename(out != NULL ? out
                                                   : "build/demo", NULL);
    if (!prepare_out(dir, error)) {
        return FALSE;
    }

    g_print("plugpull demo: ostree admin upgrade v1 -> v2 of a directory "
            "sysroot, work in %s\n", dir);
    g_autofree char *fxdir = g_build_filename(dir, "fixture", NULL);
    g_autoptr(PpFixture) fx = NULL;
    if (!pp_fixture_build_repo(fxdir, (guint)payload_kb, &fx, error)) {
        g_prefix_error(error, "building the fixture firmware: ");
        return FALSE;
    }
    g_autoptr(PpHttpd) httpd = pp_httpd_start(fx->srv_dir, 0, error);
    if (httpd == NULL) {
        g_prefix_error(error, "starting the TreeHub stand-in: ");
        return FALSE;
    }
    g_autofree char *url = g_strdup_printf("%s/repo", pp_httpd_get_url(httpd));
    if (!pp_fixture_make_sysroot(fx, url, error)
        || !pp_fixture_publish(fx, 2, error)) {
        g_prefix_error(error, "preparing the device: ");
        return FALSE;
    }
    g_print("firmware: v1 %.12s, v2 %.12s served at %s\n", fx->commits[0],
            fx->commits[1], url);

    g_autofree char *sysroot_opt = g_strdup_printf("--sysroot=%s", fx->sysroot);
    g_autofree char *os_opt = g_strdup_printf("--os=%s", fx->osname);
    const char *client[] = { "ostree", "admin", "upgrade", sysroot_opt, os_opt,
                             NULL };
    g_autofree char *recdir = g_build_filename(dir, "record", NULL);
    PpRecording rec;
    if (!pp_record_client(fx->sysroot, recdir, client, NULL, &rec, error)) {
        g_prefix_error(error, "recording the upgrade: ");
        return FALSE;
    }
    g_autofree char *version = pp_ostree_version("ostree");
    g_print("client: /usr/bin/ostree %s, exit %d after %.2f s (boot id %s)\n",
            version, rec.exit_status, rec.seconds, rec.boot_id);
    if (rec.exit_status != 0) {
        pp_throw(error, "the upgrade itself failed: %s", rec.client_err);
        pp_recording_clear(&rec);
        return FALSE;
    }

    g_autoptr(CfiTrace) trace = cfi_trace_open(rec.trace, error);
    if (trace == NULL) {
        pp_recording_clear(&rec);
        return FALSE;
    }
    PpTraceStats st;
    pp_trace_stats_compute(trace, NULL, &st);
    PpPhases ph = { 0 };
    pp_phases_classify(trace, rec.root, &ph);

    g_print("\ntrace: %s\n", rec.trace);
    g_print("  %u state-changing calls from %u process(es) in %u thread(s), "
            "%" G_GUINT64_FORMAT " bytes written\n", st.records, st.processes,
            st.threads, st.bytes_written);
    g_print("  fsync %u, fdatasync %u, syncfs %u, sync %u, freeze %u; "
            "rename %u, link %u, symlink %u, unlink %u, rmdir %u, mkdir %u\n",
            st.by_op[CFI_OP_FSYNC], st.by_op[CFI_OP_FDATASYNC],
            st.by_op[CFI_OP_SYNCFS], st.by_op[CFI_OP_SYNC],
            st.by_op[CFI_OP_FREEZE], st.by_op[CFI_OP_RENAME],
            st.by_op[CFI_OP_LINK], st.by_op[CFI_OP_SYMLINK],
            st.by_op[CFI_OP_UNLINK], st.by_op[CFI_OP_RMDIR],
            st.by_op[CFI_OP_MKDIR]);
    g_print("\ncrash points: %u in all (--points all), %u around barriers and "
            "namespace calls (--points barriers)\n", st.points_all,
            st.points_barriers);
    print_phase_table(trace, &ph);
    if (ph.commit_point >= 0) {
        const CfiRecord *c = cfi_trace_get(trace, (guint)ph.commit_point);
        g_print("commit point: call #%d %s %s -> %s (%s swap)\n",
                ph.commit_point, cfi_call_name(c->rec->call),
                c->path != NULL ? c->path + strlen(rec.root) + 1 : "?",
                c->path2 != NULL ? c->path2 + strlen(rec.root) + 1 : "?",
                ph.bootconfig_swap ? "bootconfig" : "sub-bootversion");
    } else {
        g_print("commit point: none found (the upgrade changed no boot "
                "state)\n");
    }

    /* Crash states around the commit point and at the end, per model. */
    g_autoptr(CfiReplay) replay = cfi_replay_new(trace, rec.root, rec.snapshot,
                                                 error);
    if (replay == NULL) {
        g_prefix_error(error, "interpreting the trace: ");
        pp_recording_clear(&rec);
        pp_phases_clear(&ph);
        return FALSE;
    }
    guint ks[3];
    guint nk = 0;
    if (ph.commit_point >= 0) {
        ks[nk++] = (guint)ph.commit_point;
        ks[nk++] = (guint)ph.commit_point + 1;
    }
    ks[nk++] = st.records;
    const CfiModel models[] = { CFI_MODEL_PROCESS_KILL, CFI_MODEL_ORDERED,
                                CFI_MODEL_STRICT };
    g_print("\nsample crash states (boot state the bootloader would read):\n");
    gboolean ok = TRUE;
    g_autofree char *states = g_build_filename(dir, "states", NULL);
    g_mkdir_with_parents(states, 0755);
    for (guint m = 0; m < G_N_ELEMENTS(models) && ok; m++) {
        for (guint i = 0; i < nk; i++) {
            g_autofree char *name = cfi_crashstate_name(rec.trace, ks[i],
                                                        models[m], 0);
            g_autofree char *target = g_strdup_printf(
                "%s/states/k%u-%s", dir, ks[i], cfi_model_to_string(models[m]));
            CfiCrashStats cs;
            if (!cfi_replay_materialise(replay, ks[i], models[m], 0, target,
                                        &cs, error)) {
                g_prefix_error(error, "materialising a crash state: ");
                ok = FALSE;
                break;
            }
            g_autofree char *boot = describe_boot(target);
            g_print("  %-13s k=%-6u %-30s (%u ops kept, %u dropped)\n",
                    cfi_model_to_string(models[m]), ks[i], boot,
                    cs.ops_persisted, cs.ops_dropped);
        }
    }
    g_print("\nreplay any of them: plugpull crashstate --name %s@K:MODEL:SEED "
            "--root %s --snapshot %s --out DIR\n", rec.trace, rec.root,
            rec.snapshot);
    pp_recording_clear(&rec);
    pp_phases_clear(&ph);
    return ok;
}
