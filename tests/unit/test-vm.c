/* SPDX-License-Identifier: MIT */
/*
 * test-vm.c: pp_vm_start() gets past U-Boot's autoboot countdown (key,
 * prompt, command) and stamps every console line in serial_times, against
 * a fake QEMU: a python3 script that connects to the console socket the
 * way QEMU does and plays U-Boot's side ($PP_FAKE_UBOOT picks the act).
 * Tests come in pairs: each success has a twin proving the diagnostic
 * fires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfi-test-util.h"

#include "common/accel.h"
#include "common/error.h"
#include "vm/vm-qemu.h"

/* The fake.  Acts:
 *   key   countdown, waits for a key; then "=> ", reads a line, echoes it,
 *         reports it, boots
 *   late  countdown that ends before it reads anything (the key came too
 *         late); reports what arrived afterwards, boots
 *   none  no autoboot prompt: prints U-Boot's banner and exits */
static const char fake_qemu[] =
    "#!/usr/bin/env python3\n"
    "import os, socket, sys, time\n"
    "path = [a for a in sys.argv if a.startswith('socket,id=con,path=')][0]"
    ".split('path=', 1)[1]\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "s.connect(path)\n"
    "act = os.environ['PP_FAKE_UBOOT']\n"
    "s.sendall(b'\\r\\nU-Boot 2023.01 (fake)\\r\\n')\n"
    "if act == 'none':\n"
    "    sys.exit(0)\n"
    "s.sendall(b'Hit any key to stop autoboot:  2 ')\n"
    "if act == 'late':\n"
    "    time.sleep(0.3)\n"
    "    s.sendall(b'\\x08\\x08\\x08 0 \\r\\nstarting USB...\\r\\n')\n"
    "    time.sleep(0.3)\n"
    "    s.setblocking(False)\n"
    "    try:\n"
    "        got = s.recv(100)\n"
    "    except BlockingIOError:\n"
    "        got = b''\n"
    "    s.setblocking(True)\n"
    "    s.sendall(b'PLUGPULL-FAKE received=' + repr(got).encode() + b'\\r\\n')\n"
    "else:\n"
    "    s.settimeout(10)\n"
    "    s.recv(1)\n"
    "    s.sendall(b'\\x08\\x08\\x08 0 \\r\\n=> ')\n"
    "    line = b''\n"
    "    while not line.endswith(b'\\n'):\n"
    "        line += s.recv(1)\n"
    "    s.sendall(line.rstrip() + b'\\r\\n')\n"
    "    s.sendall(b'PLUGPULL-FAKE typed=' + line.rstrip() + b'\\r\\n')\n"
    "s.sendall(b'PLUGPULL-AGENT booted fake\\r\\n')\n"
    "time.sleep(60)\n";

typedef struct {
    char *dir;
    char *qemu;
    char *serial;
    char *times;
    char *sock;
    char *qlog;
} Fx;

static int
setup(void **state)
{
    Fx *fx = g_new0(Fx, 1);
    fx->dir = tu_mkdtemp();
    tu_write(fx->dir, "fake-qemu", fake_qemu, 0755);
    fx->qemu = g_build_filename(fx->dir, "fake-qemu", NULL);
    fx->serial = g_build_filename(fx->dir, "boot.serial", NULL);
    fx->times = g_build_filename(fx->dir, "boot.serial.times", NULL);
    fx->sock = g_build_filename(fx->dir, "con.sock", NULL);
    fx->qlog = g_build_filename(fx->dir, "qemu.log", NULL);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    tu_rm_rf(fx->dir);
    g_free(fx->dir);
    g_free(fx->qemu);
    g_free(fx->serial);
    g_free(fx->times);
    g_free(fx->sock);
    g_free(fx->qlog);
    g_free(fx);
    return 0;
}

static PpVm *
start(Fx *fx, const char *act, GError **error)
{
    g_setenv("PP_FAKE_UBOOT", act, TRUE);
    PpVmConfig cfg = {
        .qemu = fx->qemu,
        .bios = "unused.rom",
        .disk = "unused.img",
        .serial_log = fx->serial,
        .serial_times = fx->times,
        .qemu_log = fx->qlog,
        .socket_path = fx->sock,
        .uboot_command = "run bootcmd",
    };
    return pp_vm_start(&cfg, error);
}

/* The next console line, within 10 s. */
static char *
next_line(PpVm *vm)
{
    g_autoptr(GError) error = NULL;
    char *l = pp_vm_read_line(vm, g_get_monotonic_time() + 10 * G_USEC_PER_SEC,
                              &error);
    assert_non_null(l);
    return l;
}

/* A key at the countdown, then the command at the prompt: the caller's
   first line is U-Boot's reply to the command, the logs keep everything. */
static void
test_autoboot_key(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpVm) vm = start(fx, "key", &error);
    assert_null(error);
    assert_non_null(vm);
    g_autofree char *l1 = next_line(vm);
    assert_string_equal(l1, "PLUGPULL-FAKE typed=run bootcmd");
    g_autofree char *l2 = next_line(vm);
    assert_string_equal(l2, "PLUGPULL-AGENT booted fake");
    g_clear_pointer(&vm, pp_vm_free);

    /* The serial log is byte for byte what the console sent. */
    g_autofree char *serial = NULL;
    assert_true(g_file_get_contents(fx->serial, &serial, NULL, NULL));
    assert_non_null(strstr(serial, "autoboot:  2 \b\b\b 0 \r\n=> run bootcmd\r\n"));
    /* serial_times: "SECONDS LINE", the host's lines as "SECONDS > LINE". */
    g_autofree char *times = NULL;
    assert_true(g_file_get_contents(fx->times, &times, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(times, "\n", -1);
    gboolean typed = FALSE;
    gboolean agent = FALSE;
    for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++) {
        assert_true(g_regex_match_simple("^ *[0-9]+\\.[0-9]{3} ", lines[i], 0, 0));
        typed |= g_regex_match_simple("^ *[0-9.]+ > run bootcmd$", lines[i], 0, 0);
        agent |= g_regex_match_simple("^ *[0-9.]+ PLUGPULL-AGENT booted fake$",
                                      lines[i], 0, 0);
    }
    assert_true(typed);
    assert_true(agent);
    assert_null(strchr(times, '\r'));
}

/* The key came after the countdown ended: nothing is typed, the boot goes
   on and the caller reads it from its first line. */
static void
test_autoboot_late_key(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpVm) vm = start(fx, "late", &error);
    assert_null(error);
    assert_non_null(vm);
    g_autofree char *l1 = next_line(vm);
    assert_string_equal(l1, "starting USB...");
    g_autofree char *l2 = next_line(vm);
    /* Only the key press reached the console, no command. */
    assert_string_equal(l2, "PLUGPULL-FAKE received=b' '");
}

/* Failing twin: no autoboot prompt before QEMU ends is an error that says
   what was missing. */
static void
test_autoboot_no_prompt_fails(void **state)
{
    Fx *fx = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpVm) vm = start(fx, "none", &error);
    assert_null(vm);
    assert_non_null(error);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED));
    assert_non_null(strstr(error->message, "interrupting U-Boot's autoboot"));
    assert_non_null(strstr(error->message, "U-Boot autoboot prompt"));
    /* What did come is still in the log. */
    g_autofree char *serial = NULL;
    assert_true(g_file_get_contents(fx->serial, &serial, NULL, NULL));
    assert_non_null(strstr(serial, "U-Boot 2023.01 (fake)"));
}

/* PLUGPULL_ACCEL chooses; without it, KVM only when /dev/kvm is there. */
static void
test_accel_choice(void **state)
{
    (void)state;
    const char *accel = NULL;
    g_setenv("PLUGPULL_ACCEL", "tcg", TRUE);
    assert_true(pp_accel_choose(&accel, NULL));
    assert_string_equal(accel, "tcg");
    g_setenv("PLUGPULL_ACCEL", "kvm", TRUE);
    assert_true(pp_accel_choose(&accel, NULL));
    assert_string_equal(accel, "kvm");
    g_unsetenv("PLUGPULL_ACCEL");
    assert_true(pp_accel_choose(&accel, NULL));
    g_autofree char *cpuinfo = NULL;
    assert_true(g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL));
    if (!g_file_test("/dev/kvm", G_FILE_TEST_EXISTS)
        || (strstr(cpuinfo, " vmx") == NULL && strstr(cpuinfo, " svm") == NULL)) {
        assert_string_equal(accel, "tcg");
    }
}

/* Twin: a value that is neither is refused, naming the variable. */
static void
test_accel_bad_value_refused(void **state)
{
    (void)state;
    const char *accel = NULL;
    g_autoptr(GError) error = NULL;
    g_setenv("PLUGPULL_ACCEL", "hvf", TRUE);
    assert_false(pp_accel_choose(&accel, &error));
    g_unsetenv("PLUGPULL_ACCEL");
    assert_true(g_error_matches(error, PP_ERROR, PP_ERROR_USAGE));
    assert_non_null(strstr(error->message, "PLUGPULL_ACCEL=hvf"));
}

int
main(void)
{
    g_autofree char *python = g_find_program_in_path("python3");
    if (python == NULL) {
        printf("test-vm: python3 not found, skipped\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accel_choice),
        cmocka_unit_test(test_accel_bad_value_refused),
        cmocka_unit_test_setup_teardown(test_autoboot_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autoboot_late_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autoboot_no_prompt_fails, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
