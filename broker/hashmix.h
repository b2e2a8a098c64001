/* SPDX-License-Identifier: MIT */
/*
 * hashmix.h - the integer hashing the broker's open-addressing tables share.
 *
 * hash_mix64() is MurmurHash3's 64-bit finaliser: every input bit affects
 * every output bit, so that sequential ids (TemporaryIDs, event keys, lane
 * and cell numbers) spread over a power-of-two table masked by its low bits.
 */
#ifndef V2X_BROKER_HASHMIX_H
#define V2X_BROKER_HASHMIX_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/*
 * hash_pow2_at_least() - the smallest power of two >= both @n and @min,
 * capped at 2^31 (the tables index with uint32_t).  @min must be a power of
 * two.
 */
static inline uint32_t hash_pow2_at_least(uint64_t n, uint32_t min)
{
	uint32_t p = min ? min : 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

#endif /* V2X_BROKER_HASHMIX_H */
