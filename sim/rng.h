/* SPDX-License-Identifier: MIT */
/*
 * sim/rng.h - the simulator's deterministic pseudo-random numbers:
 * xoshiro256** seeded through splitmix64.  Every random draw of a run comes
 * from generators seeded from --seed, so that one seed gives one run.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
	double spare;   /* the second normal deviate of a Box-Muller pair */
	int has_spare;
};

static inline uint64_t sim_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A 32-bit integer hash with good avalanche (hash tables, derived ids). */
static inline uint32_t sim_mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* Seed the generator; the stream index gives independent sub-streams. */
static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t st = seed ^ (stream * 0xd1342543de82ef95ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = sim_splitmix64(&st);
	r->has_spare = 0;
	r->spare = 0;
}

static inline uint64_t sim_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits (xoshiro256**). */
static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = sim_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rng_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static inline double sim_rng_uniform(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [lo, hi). */
static inline double sim_rng_range(struct sim_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * sim_rng_uniform(r);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply, bias < 2^-32). */
static inline uint32_t sim_rng_below(struct sim_rng *r, uint32_t n)
{
	return (uint32_t)(((sim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Standard normal deviate (Box-Muller; the pair's second is kept). */
static inline double sim_rng_normal(struct sim_rng *r)
{
	double u1, u2, rad;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	u1 = sim_rng_uniform(r);
	u2 = sim_rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	rad = sqrt(-2.0 * log(u1));
	r->spare = rad * sin(2.0 * M_PI * u2);
	r->has_spare = 1;
	return rad * cos(2.0 * M_PI * u2);
}

/* Normal with mean m and deviation sd, clipped to [lo, hi]. */
static inline double sim_rng_normal_clip(struct sim_rng *r, double m, double sd,
					 double lo, double hi)
{
	double v = m + sd * sim_rng_normal(r);

	return v < lo ? lo : (v > hi ? hi : v);
}

#endif
