/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_hist.h - fixed-size log-linear latency histogram for
 * v2x-bench: 64 exact buckets below 64 ns, then 32 sub-buckets per power of
 * two (relative error below 3.2 %), no allocation per sample.
 */
#ifndef V2X_BENCH_HIST_H
#define V2X_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB 32
#define BENCH_HIST_N (64 + (64 - 6) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t negative;  /* samples with receipt before ts (clock skew) */
	uint64_t max_ns;
	uint64_t min_ns;    /* valid when count > 0 */
	double sum_ns;
	uint64_t bucket[BENCH_HIST_N];
};

/* bench_hist_add() - one latency in ns (negative: counted and taken as 0). */
void bench_hist_add(struct bench_hist *h, int64_t ns);

/*
 * bench_hist_pct() - the q-quantile (0..1) in ns, the midpoint of its
 * bucket (the exact maximum for q = 1); 0 when empty.
 */
double bench_hist_pct(const struct bench_hist *h, double q);

/* bench_hist_bucket_lo() / _hi() - bounds of bucket i in ns. */
uint64_t bench_hist_bucket_lo(int i);
uint64_t bench_hist_bucket_hi(int i);

#endif
