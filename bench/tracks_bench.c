/* SPDX-License-Identifier: MIT */
/*
 * tracks_bench.c - track table micro-benchmark (not a test): ns per BSM
 * update with N concurrent tracks (default 100,000), vehicles moving on a
 * 10 km x 10 km area around the reference, updates in random vehicle order
 * (the cache-unfriendly case), plus ns per neighbour query (50 m radius)
 * and per expiry pass.  Times are CPU time of the process.
 *
 *   v2x-tracks-bench [tracks] [rounds]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracks.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* CPU time of this process: less disturbed by other load than wall time. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	struct enu_ref ref;
	struct track_table *tt;
	struct v2x_bsm *bsm;
	uint32_t *order;
	const struct track *near[256];
	double t0, t1, found = 0;
	uint64_t updates = 0, now = 1000000000ULL;

	if (n == 0 || rounds <= 0) {
		fprintf(stderr, "usage: %s [tracks] [rounds]\n", argv[0]);
		return 2;
	}
	enu_init(&ref, 48.1351, 11.5820, 0);
	tt = track_table_new(n, &ref);
	bsm = calloc(n, sizeof(*bsm));
	order = calloc(n, sizeof(*order));
	if (!tt || !bsm || !order) {
		perror("alloc");
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		double lat, lon, h;

		enu_to_geo(&ref, (double)(next_rand() % 10000) - 5000,
			   (double)(next_rand() % 10000) - 5000, 0, &lat, &lon, &h);
		bsm[i].id = (uint32_t)next_rand();
		bsm[i].lat = (int32_t)lround(lat * 1e7);
		bsm[i].lon = (int32_t)lround(lon * 1e7);
		bsm[i].speed = 700;
		bsm[i].heading = (uint16_t)(next_rand() % 28800);
		bsm[i].accel_long = 0;
		bsm[i].ts_ns = 1700000000000000000ULL;
		order[i] = i;
	}
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(next_rand() % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* Insert everybody once (not timed). */
	for (uint32_t i = 0; i < n; i++)
		track_table_update_bsm(tt, &bsm[i], now);

	t0 = now_ns();
	for (int r = 0; r < rounds; r++) {
		now += 100000000ULL;
		for (uint32_t k = 0; k < n; k++) {
			struct v2x_bsm *b = &bsm[order[k]];

			/* About 1.4 m per 100 ms in some direction. */
			b->ts_ns += 100000000ULL;
			b->lat += (int32_t)(next_rand() % 25) - 12;
			b->lon += (int32_t)(next_rand() % 37) - 18;
			if (!track_table_update_bsm(tt, b, now))
				return 1;
			updates++;
		}
	}
	t1 = now_ns();
	printf("tracks %u, updates %llu: %.1f ns per update\n", n,
	       (unsigned long long)updates, (t1 - t0) / (double)updates);

	t0 = now_ns();
	for (int q = 0; q < 100000; q++) {
		double x = (double)(next_rand() % 10000) - 5000;
		double y = (double)(next_rand() % 10000) - 5000;

		found += track_table_near(tt, x, y, 50.0, near, 256);
	}
	t1 = now_ns();
	printf("near(50 m): %.1f ns per query, %.2f tracks found on average\n",
	       (t1 - t0) / 100000, found / 100000);

	t0 = now_ns();
	for (int k = 0; k < 100; k++)
		track_table_expire(tt, now, 1000000000ULL, NULL, NULL);
	t1 = now_ns();
	printf("expiry pass with nothing to expire: %.1f us\n", (t1 - t0) / 100 / 1e3);

	t0 = now_ns();
	printf("expire all: %d tracks", track_table_expire(tt, now + 10000000000ULL,
							   1000000000ULL, NULL, NULL));
	t1 = now_ns();
	printf(" in %.1f ms (%.1f ns per track)\n", (t1 - t0) / 1e6, (t1 - t0) / n);
	printf("sizeof(struct track) = %zu bytes\n", sizeof(struct track));
	track_table_free(tt);
	free(bsm);
	free(order);
	return 0;
}
