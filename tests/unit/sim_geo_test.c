/* SPDX-License-Identifier: MIT */
/*
 * sim_geo_test.c - the local plane, UTM forward and inverse, the PRNG, the
 * signal plan and SPaT.
 */
#include <math.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/geo.h"
#include "sim/rng.h"
#include "sim/signal.h"

static void test_utm_central_meridian(void **state)
{
	double e, n, lat, lon;

	(void)state;
	/* On the equator at the central meridian: 500 km east, 0 north. */
	sim_utm_forward(50, 0, 0.0, 117.0, &e, &n);
	assert_true(fabs(e - 500000.0) < 1e-6);
	assert_true(fabs(n) < 1e-6);
	/* Meridian arc to 30 deg N on WGS-84 is 3,320,113.4 m; times k0. */
	sim_utm_forward(50, 0, 30.0, 117.0, &e, &n);
	assert_true(fabs(e - 500000.0) < 1e-6);
	assert_true(fabs(n - 0.9996 * 3320113.398) < 0.05);
	sim_utm_inverse(50, 0, 500000.0, 0.9996 * 3320113.398, &lat, &lon);
	assert_true(fabs(lat - 30.0) < 1e-8);
	assert_true(fabs(lon - 117.0) < 1e-12);
}

static void test_utm_round_trip(void **state)
{
	(void)state;
	/* Points across zone 50 (and a southern one), both ways, < 1 mm. */
	for (double lat = -10; lat <= 60; lat += 7.5) {
		for (double dl = -2.9; dl <= 2.9; dl += 0.725) {
			int south = lat < 0;
			double e, n, la, lo;

			sim_utm_forward(50, south, lat, 117.0 + dl, &e, &n);
			sim_utm_inverse(50, south, e, n, &la, &lo);
			assert_true(fabs(la - lat) * 111000.0 < 1e-3);
			assert_true(fabs(lo - (117.0 + dl)) * 111000.0 * cos(lat * M_PI / 180) < 1e-3);
		}
	}
}

static void test_utm_known_point(void **state)
{
	double e, n;

	(void)state;
	/*
	 * Wuhan reference 30.5928 N 114.3055 E in zone 50: 2.6945 deg west of
	 * the central meridian.  Check the scale: 1 km east on the ground is
	 * about 1 km of easting near the reference (k ~ 0.9996 + e^2/2R^2).
	 */
	sim_utm_forward(50, 0, 30.5928, 114.3055, &e, &n);
	assert_true(e > 200000 && e < 300000);
	assert_true(n > 3380000 && n < 3400000);
	{
		struct sim_geo g;
		double lat2, lon2, e2, n2;

		sim_geo_init(&g, 30.5928, 114.3055);
		sim_geo_to_ll(&g, 1000.0, 0, &lat2, &lon2);
		sim_utm_forward(50, 0, lat2, lon2, &e2, &n2);
		assert_true(fabs(hypot(e2 - e, n2 - n) - 1000.0 * 1.0003) < 1.0);
	}
}

static void test_local_plane(void **state)
{
	struct sim_geo g;
	double lat, lon, x, y;

	(void)state;
	sim_geo_init(&g, 30.5928, 114.3055);
	sim_geo_to_ll(&g, 0, 0, &lat, &lon);
	assert_true(lat == 30.5928 && lon == 114.3055);
	/* One degree of latitude near 30.6 N is 110.86 km. */
	assert_true(fabs(g.m_per_deg_lat - 110857.0) < 20.0);
	assert_true(fabs(g.m_per_deg_lon - 95950.0) < 50.0);
	sim_geo_to_ll(&g, 1234.5, -678.9, &lat, &lon);
	sim_geo_from_ll(&g, lat, lon, &x, &y);
	assert_true(fabs(x - 1234.5) < 1e-6 && fabs(y + 678.9) < 1e-6);
	assert_int_equal(sim_geo_e7(30.59280004), 305928000);
	assert_int_equal(sim_geo_e7(-30.59280006), -305928001);
}

static void test_rng(void **state)
{
	struct sim_rng a, b, c;
	double sum = 0, sum2 = 0;
	int n = 200000, hist[10] = { 0 };

	(void)state;
	sim_rng_seed(&a, 5, 1);
	sim_rng_seed(&b, 5, 1);
	sim_rng_seed(&c, 5, 2);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = sim_rng_next(&a);

		assert_true(x == sim_rng_next(&b));
		assert_true(x != sim_rng_next(&c) || i > 0);
	}
	for (int i = 0; i < n; i++) {
		double u = sim_rng_uniform(&a), z = sim_rng_normal(&a);

		assert_true(u >= 0 && u < 1);
		hist[(int)(u * 10)]++;
		sum += z;
		sum2 += z * z;
		assert_true(sim_rng_below(&a, 7) < 7);
	}
	for (int i = 0; i < 10; i++)
		assert_true(abs(hist[i] - n / 10) < n / 100);
	assert_true(fabs(sum / n) < 0.01);
	assert_true(fabs(sum2 / n - 1.0) < 0.02);
}

static void test_signal_plan(void **state)
{
	struct sim_signal s;
	struct v2x_spat sp;
	double remain;
	int changes = 0, prev = -1;

	(void)state;
	sim_signal_two_phase(&s, 7, 25, 3, 2, 0);
	assert_true(s.cycle == 60);
	assert_int_equal(sim_signal_light(&s, 1, 0.0, &remain), SIM_LIGHT_GREEN);
	assert_true(fabs(remain - 25) < 1e-9);
	assert_int_equal(sim_signal_light(&s, 1, 26.0, NULL), SIM_LIGHT_YELLOW);
	assert_int_equal(sim_signal_light(&s, 1, 29.0, NULL), SIM_LIGHT_RED);
	assert_int_equal(sim_signal_light(&s, 2, 29.0, NULL), SIM_LIGHT_RED);
	assert_int_equal(sim_signal_light(&s, 2, 31.0, NULL), SIM_LIGHT_GREEN);
	/* Never green for both conflicting groups. */
	for (double t = 0; t < 600; t += 0.1) {
		int g1 = sim_signal_light(&s, 1, t, NULL), g2 = sim_signal_light(&s, 2, t, NULL);

		assert_false(g1 != SIM_LIGHT_RED && g2 != SIM_LIGHT_RED);
		/* Pedestrians walk only with the parallel traffic's green. */
		if (sim_signal_light(&s, 4, t, NULL) == SIM_LIGHT_GREEN)
			assert_int_equal(g2, SIM_LIGHT_GREEN);
		if (g1 != prev)
			changes++;
		prev = g1;
	}
	assert_int_equal(changes, 30); /* 10 cycles of green, yellow, red */
	/* SPaT at 2026-01-01T00:10:00Z + 26 s: group 1 yellow, ends at 28 s. */
	sim_signal_spat(&s, 26.0, (1767225600ull + 626ull) * 1000000000ull, &sp);
	assert_int_equal(sp.intersection_id, 7);
	assert_int_equal(sp.n, 4);
	assert_int_equal(sp.mv[0].signal_group, 1);
	assert_int_equal(sp.mv[0].state, V2X_PHASE_PERMISSIVE_CLEARANCE);
	assert_int_equal(sp.mv[0].likely, 6280); /* 628 s into the hour */
	assert_int_equal(sp.mv[1].state, V2X_PHASE_STOP_AND_REMAIN);
	assert_int_equal(sp.moy, 10);
	assert_int_equal(sp.time_stamp, 26000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utm_central_meridian),
		cmocka_unit_test(test_utm_round_trip),
		cmocka_unit_test(test_utm_known_point),
		cmocka_unit_test(test_local_plane),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_signal_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
