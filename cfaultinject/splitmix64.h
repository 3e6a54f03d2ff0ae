/* SPDX-License-Identifier: MIT */
/*
 * splitmix64.h: SplitMix64 (Steele, Lea, Flood 2014), the one seeded
 * generator of every draw that must be the same on every machine and
 * every library version: the shim's fault rules, the replay models'
 * choices of what a cut keeps, and the harness's draws (pp_splitmix64).
 * Header-only and libc-only, so that the shim can use it.
 */
#ifndef CFI_SPLITMIX64_H
#define CFI_SPLITMIX64_H

#include <stdint.h>

/* Advance *state and return the next value. */
static inline uint64_t
cfi_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif /* CFI_SPLITMIX64_H */
