/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_hist.c - log-linear latency histogram (see bench_hist.h).
 */
#include "bench_hist.h"

static int hist__index(uint64_t v)
{
	int e;

	if (v < 64)
		return (int)v;
	e = 63 - __builtin_clzll(v);
	return 64 + (e - 6) * BENCH_HIST_SUB + (int)((v >> (e - 5)) & (BENCH_HIST_SUB - 1));
}

/*
 * bench_hist_bucket_lo() - see bench_hist.h.
 */
uint64_t bench_hist_bucket_lo(int i)
{
	int e, m;

	if (i < 64)
		return (uint64_t)i;
	e = (i - 64) / BENCH_HIST_SUB + 6;
	m = (i - 64) % BENCH_HIST_SUB;
	return (uint64_t)(BENCH_HIST_SUB + m) << (e - 5);
}

/*
 * bench_hist_bucket_hi() - see bench_hist.h.
 */
uint64_t bench_hist_bucket_hi(int i)
{
	if (i < 64)
		return (uint64_t)i + 1;
	return bench_hist_bucket_lo(i) + (1ull << ((i - 64) / BENCH_HIST_SUB + 1));
}

/*
 * bench_hist_add() - see bench_hist.h.
 */
void bench_hist_add(struct bench_hist *h, int64_t ns)
{
	uint64_t v;

	if (ns < 0) {
		h->negative++;
		ns = 0;
	}
	v = (uint64_t)ns;
	if (!h->count || v < h->min_ns)
		h->min_ns = v;
	h->count++;
	h->sum_ns += (double)v;
	if (v > h->max_ns)
		h->max_ns = v;
	h->bucket[hist__index(v)]++;
}

/*
 * bench_hist_pct() - see bench_hist.h.
 */
double bench_hist_pct(const struct bench_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	if (q >= 1.0)
		return (double)h->max_ns;
	want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (int i = 0; i < BENCH_HIST_N; i++) {
		seen += h->bucket[i];
		if (seen > want) {
			double mid = ((double)bench_hist_bucket_lo(i) +
				      (double)bench_hist_bucket_hi(i)) / 2.0;

			return mid > (double)h->max_ns ? (double)h->max_ns : mid;
		}
	}
	return (double)h->max_ns;
}
