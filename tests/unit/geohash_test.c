/* SPDX-License-Identifier: MIT */
/*
 * geohash_test.c - geohash encode/decode/neighbours against published and
 * independently computed values (a separate Python bisection, and by hand
 * for the poles and the antimeridian).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* cmocka 1.1 compares floats only as float: compare doubles here. */
#define assert_near(a, b, eps)                                                 \
	do {                                                                   \
		double a_ = (a), b_ = (b);                                     \
		if (!(fabs(a_ - b_) <= (eps)))                                 \
			fail_msg("%s = %.9f, want %.9f +- %g", #a, a_, b_,     \
				 (double)(eps));                               \
	} while (0)

#include "v2x/error.h"
#include "geohash.h"

struct gh_case {
	double lat, lon;
	int precision;
	const char *hash;
};

static const struct gh_case gh_cases[] = {
	{ 42.6, -5.6, 5, "ezs42" },                 /* Wikipedia's example */
	{ 57.64911, 10.40744, 11, "u4pruydqqvj" },  /* Wikipedia's example */
	{ 37.7749, -122.4194, 7, "9q8yyk8" },       /* San Francisco */
	{ 48.8584, 2.2945, 9, "u09tunquc" },        /* Eiffel Tower */
	{ -33.8568, 151.2153, 12, "r3gx2ux9ggh1" }, /* Sydney Opera House */
	{ 52.52, 13.405, 7, "u33dc0c" },            /* Berlin */
	{ 0.0, 0.0, 12, "s00000000000" },
	{ 90.0, 0.0, 1, "u" },                      /* north pole, by hand */
	{ 90.0, 180.0, 12, "bpbpbpbpbpbp" },        /* 180 folds to -180 */
	{ 90.0, -180.0, 12, "bpbpbpbpbpbp" },
	{ -90.0, -180.0, 6, "000000" },             /* south-west corner */
	{ -90.0, 180.0, 6, "000000" },
};

static void test_encode_known(void **state)
{
	char out[13];

	for (size_t i = 0; i < sizeof(gh_cases) / sizeof(gh_cases[0]); i++) {
		const struct gh_case *c = &gh_cases[i];

		assert_int_equal(geohash_encode(c->lat, c->lon, c->precision, out),
				 c->precision);
		assert_string_equal(out, c->hash);
	}
}

/* The definition: bisection, longitude first, midpoints to the upper half. */
static void bisect(double lat, double lon, int precision, char *out)
{
	static const char b32[] = "0123456789bcdefghjkmnpqrstuvwxyz";
	double lat_lo = -90, lat_hi = 90, lon_lo = -180, lon_hi = 180;
	int even = 1;

	if (lon == 180.0)
		lon = -180.0;
	for (int i = 0; i < precision; i++) {
		int v = 0;

		for (int b = 0; b < 5; b++, even = !even) {
			double *lo = even ? &lon_lo : &lat_lo, *hi = even ? &lon_hi : &lat_hi;
			double x = even ? lon : lat, mid = (*lo + *hi) / 2;

			v = v << 1 | (x >= mid);
			if (x >= mid)
				*lo = mid;
			else
				*hi = mid;
		}
		out[i] = b32[v];
	}
	out[precision] = '\0';
}

static void check_bisect(double lat, double lon)
{
	char got[13], want[13];

	for (int p = 1; p <= 12; p++) {
		assert_int_equal(geohash_encode(lat, lon, p, got), p);
		bisect(lat, lon, p, want);
		if (strcmp(got, want))
			fail_msg("(%.17g, %.17g) p %d: %s, bisection %s", lat, lon, p, got,
				 want);
	}
}

/*
 * The direct encoding agrees with bisection everywhere, cell edges most of
 * all: random points, every edge of the cells of precision 1..12 around
 * them, and the doubles next to each edge.
 */
static void test_encode_bisection(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (int n = 0; n < 3000; n++) {
		double lat, lon;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		lat = -90.0 + 180.0 * (double)(x >> 11) / 9007199254740992.0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		lon = -180.0 + 360.0 * (double)(x >> 11) / 9007199254740992.0;
		check_bisect(lat, lon);
		for (int bits = 1; bits <= 30; bits++) {
			double slat = ldexp(180.0, -bits), slon = ldexp(360.0, -bits);
			double elat = -90.0 + floor((lat + 90.0) / slat) * slat;
			double elon = -180.0 + floor((lon + 180.0) / slon) * slon;

			check_bisect(elat, elon);
			if (elat > -90.0 && elon > -180.0)
				check_bisect(nextafter(elat, -INFINITY),
					     nextafter(elon, -INFINITY));
			if (elat < 90.0 && elon < 180.0)
				check_bisect(nextafter(elat, INFINITY), nextafter(elon, INFINITY));
		}
	}
	check_bisect(90.0, 180.0);
	check_bisect(-90.0, -180.0);
	check_bisect(nextafter(90.0, 0), nextafter(180.0, 0));
}

static void test_encode_range(void **state)
{
	char out[16];

	assert_int_equal(geohash_encode(0, 0, 0, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(0, 0, 13, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(90.0001, 0, 5, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(-90.0001, 0, 5, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(0, 180.0001, 5, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(0, -180.0001, 5, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(NAN, 0, 5, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(0, NAN, 5, out), V2X_E_RANGE);
	assert_int_equal(geohash_encode(INFINITY, 0, 5, out), V2X_E_RANGE);
}

static void test_decode_known(void **state)
{
	double lat, lon, le, oe;

	assert_int_equal(geohash_decode("ezs42", &lat, &lon, &le, &oe), 5);
	assert_near(lat, 42.60498046875, 1e-12);
	assert_near(lon, -5.60302734375, 1e-12);
	assert_near(le, 0.02197265625, 1e-12);
	assert_near(oe, 0.02197265625, 1e-12);
	/* Upper case is accepted. */
	assert_int_equal(geohash_decode("EZS42", &lat, &lon, NULL, NULL), 5);
	assert_near(lat, 42.60498046875, 1e-12);
	assert_int_equal(geohash_decode("u", &lat, &lon, &le, &oe), 1);
	assert_near(lat, 67.5, 0);
	assert_near(lon, 22.5, 0);
	assert_near(le, 22.5, 0);
}

static void test_decode_errors(void **state)
{
	double lat, lon;

	assert_int_equal(geohash_decode("", &lat, &lon, NULL, NULL), V2X_E_RANGE);
	assert_int_equal(geohash_decode(NULL, &lat, &lon, NULL, NULL), V2X_E_RANGE);
	assert_int_equal(geohash_decode("0123456789bcd", &lat, &lon, NULL, NULL),
			 V2X_E_RANGE);
	/* a, i, l and o are not in the alphabet. */
	assert_int_equal(geohash_decode("ezsa2", &lat, &lon, NULL, NULL), V2X_E_SYNTAX);
	assert_int_equal(geohash_decode("ezsi2", &lat, &lon, NULL, NULL), V2X_E_SYNTAX);
	assert_int_equal(geohash_decode("l", &lat, &lon, NULL, NULL), V2X_E_SYNTAX);
	assert_int_equal(geohash_decode("o", &lat, &lon, NULL, NULL), V2X_E_SYNTAX);
	assert_int_equal(geohash_decode("ez 42", &lat, &lon, NULL, NULL), V2X_E_SYNTAX);
}

/* Every encoded point lies inside the decoded cell, at every precision. */
static void test_roundtrip(void **state)
{
	uint64_t seed = 12345;

	for (int i = 0; i < 20000; i++) {
		double lat, lon, clat, clon, le, oe;
		char out[13];
		int p = 1 + i % 12;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		lat = (double)(seed >> 11) / 9007199254740992.0 * 180.0 - 90.0;
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		lon = (double)(seed >> 11) / 9007199254740992.0 * 360.0 - 180.0;
		assert_int_equal(geohash_encode(lat, lon, p, out), p);
		assert_int_equal((int)strlen(out), p);
		assert_int_equal(geohash_decode(out, &clat, &clon, &le, &oe), p);
		assert_true(lat >= clat - le && lat <= clat + le);
		assert_true(lon >= clon - oe && lon <= clon + oe);
	}
}

static void check_neighbors(const char *hash, const char *const want[8], int n)
{
	char out[8][13];

	assert_int_equal(geohash_neighbors(hash, out), n);
	for (int d = 0; d < 8; d++)
		assert_string_equal(out[d], want[d]);
}

static void test_neighbors(void **state)
{
	static const char *const ezs42[8] = {
		"ezs48", "ezs49", "ezs43", "ezs41", "ezs40", "ezefp", "ezefr", "ezefx",
	};
	static const char *const u4p[8] = {
		"u4pruydqqvm", "u4pruydqqvq", "u4pruydqqvn", "u4pruydqquy",
		"u4pruydqquv", "u4pruydqquu", "u4pruydqqvh", "u4pruydqqvk",
	};
	/* '8' is lon -180..-135: its western neighbours wrap to 'x', 'r', 'z'. */
	static const char *const eight[8] = {
		"b", "c", "9", "3", "2", "r", "x", "z",
	};
	static const char *const ex[8] = {
		"z", "b", "8", "2", "r", "q", "w", "y",
	};
	/* 'u' touches the north pole: nothing north of it. */
	static const char *const u[8] = {
		"", "", "v", "t", "s", "e", "g", "",
	};
	/* The north-west corner cell: pole and antimeridian together. */
	static const char *const nw[8] = {
		"", "", "bpbpbr", "bpbpbq", "bpbpbn", "zzzzzy", "zzzzzz", "",
	};
	static const char *const sw[8] = {
		"000001", "000003", "000002", "", "", "", "pbpbpb", "pbpbpc",
	};
	char out[8][13];

	check_neighbors("ezs42", ezs42, 8);
	check_neighbors("u4pruydqqvj", u4p, 8);
	check_neighbors("8", eight, 8);
	check_neighbors("x", ex, 8);
	check_neighbors("u", u, 5);
	check_neighbors("bpbpbp", nw, 5);
	check_neighbors("000000", sw, 5);
	assert_int_equal(geohash_neighbors("ezs4a", out), V2X_E_SYNTAX);
	assert_int_equal(geohash_neighbors("", out), V2X_E_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_known),
		cmocka_unit_test(test_encode_bisection),
		cmocka_unit_test(test_encode_range),
		cmocka_unit_test(test_decode_known),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_neighbors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
