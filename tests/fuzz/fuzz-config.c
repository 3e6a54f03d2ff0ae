/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c: libFuzzer target for the shim's CFAULTINJECT parser
 * (cfaultinject/config.c, cfi_config_parse) and its glob matcher.
 *
 * The input, NUL-terminated (as getenv() gives it), is the configuration
 * text.  It must parse or give an error message that fits the buffer.  When
 * it parses, each rule's glob is matched against the input itself and a few
 * fixed paths, since cfi_glob_match() runs on every call inside the client.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const paths[] = {
    "/", "", "/sysroot/ostree/repo/objects/ab/cdef.file",
    "/boot/loader/uEnv.txt", "[]\\*?", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* static: struct cfi_config is ~40 KB, as in the shim. */
    static struct cfi_config cfg;
    char *text = malloc(size + 1);
    char err[256];
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';

    memset(err, 'X', sizeof err);
    int rc = cfi_config_parse(text, &cfg, err, sizeof err);
    if (memchr(err, '\0', sizeof err) == NULL)
        abort();                 /* message not terminated */
    if (rc < 0) {
        if (err[0] == '\0')
            abort();             /* failure without a message */
    } else {
        if (rc != 0 || cfg.n_rules < 0 || cfg.n_rules > CFI_MAX_RULES)
            abort();
        for (int i = 0; i < cfg.n_rules; i++) {
            const struct cfi_rule *r = &cfg.rules[i];
            if (memchr(r->glob, '\0', sizeof r->glob) == NULL)
                abort();
            if (!cfi_glob_valid(r->glob))
                abort();         /* the parser accepted a bad glob */
            for (size_t j = 0; j < sizeof paths / sizeof paths[0]; j++)
                (void)cfi_glob_match(r->glob, paths[j]);
            (void)cfi_glob_match(r->glob, text);
        }
    }
    /* The matcher on its own: first line as pattern, rest as subject. */
    char *nl = strchr(text, '\n');
    if (nl != NULL) {
        *nl = '\0';
        if (cfi_glob_valid(text))
            (void)cfi_glob_match(text, nl + 1);
    }
    free(text);
    return 0;
}
