/* SPDX-License-Identifier: MIT */
/*
 * enu_test.c - WGS-84 geodetic/ECEF/ENU against known values and round
 * trips within 1 mm.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* cmocka 1.1 compares floats only as float: compare doubles here. */
#define assert_near(a, b, eps)                                                 \
	do {                                                                   \
		double a_ = (a), b_ = (b);                                     \
		if (!(fabs(a_ - b_) <= (eps)))                                 \
			fail_msg("%s = %.9f, want %.9f +- %g", #a, a_, b_,     \
				 (double)(eps));                               \
	} while (0)

#include "enu.h"

static void test_ecef_known(void **state)
{
	double x, y, z;

	/* The equator at the prime meridian lies on the semi-major axis. */
	geo_to_ecef(0, 0, 0, &x, &y, &z);
	assert_near(x, 6378137.0, 1e-6);
	assert_near(y, 0.0, 1e-6);
	assert_near(z, 0.0, 1e-6);
	/* The pole lies on the semi-minor axis b = a (1 - f). */
	geo_to_ecef(90, 0, 0, &x, &y, &z);
	assert_near(x, 0.0, 1e-6);
	assert_near(z, 6356752.314245, 1e-5);
	/* A widely published check value: (45 N, 45 E, 0 m). */
	geo_to_ecef(45, 45, 0, &x, &y, &z);
	assert_near(x, 3194419.145, 1e-3);
	assert_near(y, 3194419.145, 1e-3);
	assert_near(z, 4487348.409, 1e-3);
	/* Height adds along the normal. */
	geo_to_ecef(0, 90, 100, &x, &y, &z);
	assert_near(x, 0.0, 1e-6);
	assert_near(y, 6378237.0, 1e-6);
}

static void test_ecef_inverse(void **state)
{
	static const double pts[][3] = {
		{ 0, 0, 0 }, { 45, 45, 0 }, { 89.9999, 10, 50 }, { -89.9999, -170, 3000 },
		{ 90, 0, 0 }, { -90, 0, 12 }, { 48.8584, 2.2945, 100 },
		{ -33.8568, 151.2153, -30 }, { 10, 179.9999999, 8000 }, { 60, -120, -400 },
	};

	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		double x, y, z, lat, lon, h;

		geo_to_ecef(pts[i][0], pts[i][1], pts[i][2], &x, &y, &z);
		ecef_to_geo(x, y, z, &lat, &lon, &h);
		/* 1e-9 deg is 0.1 mm on the ground. */
		assert_near(lat, pts[i][0], 1e-9);
		if (fabs(pts[i][0]) < 90)
			assert_near(lon, pts[i][1], 1e-9);
		assert_near(h, pts[i][2], 1e-4);
	}
}

static void test_enu_known(void **state)
{
	struct enu_ref ref;
	double e, n, u;

	enu_init(&ref, 0, 0, 0);
	enu_from_geo(&ref, 0, 0, 0, &e, &n, &u);
	assert_near(e, 0, 1e-9);
	assert_near(n, 0, 1e-9);
	assert_near(u, 0, 1e-9);
	/*
	 * 0.001 deg north on the equator: the meridian radius there is
	 * a (1 - e^2), so the arc is 110.5743 m; the chord (what ENU gives)
	 * is shorter by a negligible 1e-7 m.
	 */
	enu_from_geo(&ref, 0.001, 0, 0, &e, &n, &u);
	assert_near(e, 0, 1e-6);
	assert_near(n, 110.5743, 1e-3);
	/* 0.001 deg east on the equator: arc a * 0.001 deg = 111.3195 m. */
	enu_from_geo(&ref, 0, 0.001, 0, &e, &n, &u);
	assert_near(e, 111.3195, 1e-3);
	assert_near(n, 0, 1e-6);
	/* The earth curves away: about -d^2 / (2 R) = -0.00097 m. */
	assert_near(u, -0.00097, 1e-4);
	/* Straight up. */
	enu_from_geo(&ref, 0, 0, 25, &e, &n, &u);
	assert_near(u, 25, 1e-6);

	/* At 60 N, a degree of longitude is half as long (cos 60), times N/M. */
	enu_init(&ref, 60, 10, 0);
	enu_from_geo(&ref, 60, 10.01, 0, &e, &n, &u);
	/* N(60) cos(60) * 0.01 deg = 6394209.17 * 0.5 * 1.745329e-4 = 558.000 */
	assert_near(e, 558.000, 2e-3);
	/* The parallel bends poleward: d^2 tan(lat) / (2 N) = 0.042 m. */
	assert_near(n, 0.042, 2e-3);
	/* 0.01 deg south: the meridian arc M(60) * 0.01 deg = 1114.123 m. */
	enu_from_geo(&ref, 59.99, 10, 0, &e, &n, &u);
	assert_near(n, -1114.123, 5e-3);
	assert_near(e, 0, 1e-6);
}

static void test_enu_roundtrip(void **state)
{
	static const double refs[][3] = {
		{ 48.8584, 2.2945, 35 }, { -33.8568, 151.2153, 10 }, { 0, 179.99, 0 },
		{ 64.1466, -21.9426, 20 }, { 37.7749, -122.4194, 16 }, { -54.8, -68.3, 0 },
	};
	uint64_t seed = 777;

	for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
		struct enu_ref ref;

		enu_init(&ref, refs[r][0], refs[r][1], refs[r][2]);
		for (int i = 0; i < 2000; i++) {
			double e, n, u, lat, lon, h, e2, n2, u2;
			double dx, dy, dz;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			dx = (double)(seed >> 11) / 9007199254740992.0 * 40000 - 20000;
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			dy = (double)(seed >> 11) / 9007199254740992.0 * 40000 - 20000;
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			dz = (double)(seed >> 11) / 9007199254740992.0 * 200 - 100;
			/* ENU -> geo -> ENU */
			enu_to_geo(&ref, dx, dy, dz, &lat, &lon, &h);
			enu_from_geo(&ref, lat, lon, h, &e, &n, &u);
			assert_near(e, dx, 1e-3);
			assert_near(n, dy, 1e-3);
			assert_near(u, dz, 1e-3);
			/* geo -> ENU -> geo */
			enu_from_geo(&ref, lat, lon, h, &e2, &n2, &u2);
			enu_to_geo(&ref, e2, n2, u2, &lat, &lon, &h);
			enu_from_geo(&ref, lat, lon, h, &e, &n, &u);
			assert_true(hypot(hypot(e - e2, n - n2), u - u2) < 1e-3);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecef_known),
		cmocka_unit_test(test_ecef_inverse),
		cmocka_unit_test(test_enu_known),
		cmocka_unit_test(test_enu_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
