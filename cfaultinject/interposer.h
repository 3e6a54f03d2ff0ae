/* SPDX-License-Identifier: MIT */
/*
 * interposer.h: which object each wrapped call is forwarded to.
 *
 * The shim forwards every call to the next definition of its name
 * (dlsym(RTLD_NEXT)).  That is normally the C library, but a library
 * preloaded after the shim (libeatmydata, appended to LD_PRELOAD by the
 * eatmydata script) comes first: an fsync the shim records may then never
 * reach the kernel.  cfi_resolve_all() shows each symbol it finds to
 * cfi_note_next(), which asks the loader (dladdr) which object defines
 * it; records of calls forwarded outside the C library carry
 * CFI_RF_INTERPOSED, and the trace names the object once per call and
 * process (a CFI_OP_INTERPOSER note).  MODELS.md §3a says what the models
 * make of it.
 *
 * Everything here runs at resolution or at load, never on the call path,
 * except cfi_next_rflags() (a table read) and cfi_libc_syncfs().
 */
#ifndef CFI_INTERPOSER_H
#define CFI_INTERPOSER_H

#include <stdint.h>

/* Note the object that defines fn, the next definition of call id. */
void cfi_note_next(unsigned id, void *fn);

/*
 * Run the probe of every call forwarded outside the C library (see
 * interposer.c: arguments for which the kernel's answer is an error a
 * no-op cannot give).  Called once from the constructor, while every
 * wrapper still passes straight through.
 */
void cfi_interposers_probe(void);

/* Append one CFI_OP_INTERPOSER note per interposed call to the trace. */
void cfi_interposers_record(void);

/* CFI_RF_INTERPOSED and CFI_RF_FORWARDS as they apply to call id. */
uint32_t cfi_next_rflags(unsigned id);

/*
 * The C library's own syncfs, whatever else is preloaded: the shim
 * performs FIFREEZE as a sync that must reach the kernel.
 */
int cfi_libc_syncfs(int fd);

#endif /* CFI_INTERPOSER_H */
