/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h: CRC-32C (Castagnoli), used to seal every trace record so that a
 * reader can tell a complete record from a torn one.  libc only: the shim
 * links it too.
 */
#ifndef CFI_CRC32C_H
#define CFI_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC-32C over buf; start with crc = 0. */
uint32_t cfi_crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* CFI_CRC32C_H */
