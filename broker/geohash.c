/* SPDX-License-Identifier: MIT */
/*
 * geohash.c - base32 geohash encode, decode and neighbours.
 *
 * A geohash bisects the longitude and latitude intervals alternately,
 * starting with longitude; a coordinate equal to an interval's midpoint goes
 * to the upper half, as in the reference implementation.  All midpoints are
 * dyadic fractions of 180 and 360, so the arithmetic is exact in double.
 * Encoding computes the same cells directly (geohash__cell) and interleaves
 * their bits; geohash_test.c holds it to a bisection.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "v2x/error.h"
#include "geohash.h"

static const char geohash__alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";

/* Value of a base32 character, or -1. */
static int geohash__value(char c)
{
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	for (int i = 0; i < 32; i++) {
		if (geohash__alphabet[i] == c)
			return i;
	}
	return -1;
}

/*
 * The index k of the cell of width step (a dyadic fraction of 180 or 360,
 * so that lo + k * step is exact) that holds v in [lo, lo + 2^bits * step):
 * the largest k with lo + k * step <= v, which is what bisecting the
 * interval bits times yields (a value on a midpoint goes to the upper half).
 * The division only estimates k; the exact comparisons settle it.
 */
static uint64_t geohash__cell(double v, double lo, double step, int bits)
{
	uint64_t k = (uint64_t)((v - lo) / step), max = (1ull << bits) - 1;

	if (k > max)
		k = max;
	if (k < max && lo + (double)(k + 1) * step <= v)
		k++;
	if (k > 0 && lo + (double)k * step > v)
		k--;
	return k;
}

/* The bits of x (< 2^32) spread to the even bit positions of the result. */
static uint64_t geohash__spread(uint64_t x)
{
	x = (x | x << 16) & 0x0000ffff0000ffffull;
	x = (x | x << 8) & 0x00ff00ff00ff00ffull;
	x = (x | x << 4) & 0x0f0f0f0f0f0f0f0full;
	x = (x | x << 2) & 0x3333333333333333ull;
	x = (x | x << 1) & 0x5555555555555555ull;
	return x;
}

/*
 * Encoding without bisection loops (it runs for every message): the
 * longitude and latitude cell indices at the precision's resolution, their
 * bits interleaved (longitude first), then 5 bits per character.
 */
int geohash_encode(double lat_deg, double lon_deg, int precision, char *out)
{
	int bits = 5 * precision, lon_bits = (bits + 1) / 2, lat_bits = bits / 2;
	uint64_t lon_k, lat_k, code;

	if (precision < 1 || precision > GEOHASH_MAX_PRECISION)
		return V2X_E_RANGE;
	/* The negated comparisons also reject NaN. */
	if (!(lat_deg >= -90.0 && lat_deg <= 90.0) ||
	    !(lon_deg >= -180.0 && lon_deg <= 180.0))
		return V2X_E_RANGE;
	/* 180 and -180 are the same meridian; the cells start at -180. */
	if (lon_deg == 180.0)
		lon_deg = -180.0;

	lon_k = geohash__cell(lon_deg, -180.0, ldexp(360.0, -lon_bits), lon_bits);
	lat_k = geohash__cell(lat_deg, -90.0, ldexp(180.0, -lat_bits), lat_bits);
	/* The last bit of the code is longitude's when the count is odd. */
	if (bits & 1)
		code = geohash__spread(lon_k) | geohash__spread(lat_k) << 1;
	else
		code = geohash__spread(lon_k) << 1 | geohash__spread(lat_k);
	for (int i = 0; i < precision; i++)
		out[i] = geohash__alphabet[(code >> (5 * (precision - 1 - i))) & 31];
	out[precision] = '\0';
	return precision;
}

int geohash_decode(const char *hash, double *lat, double *lon,
		   double *lat_err, double *lon_err)
{
	double lat_lo = -90.0, lat_hi = 90.0, lon_lo = -180.0, lon_hi = 180.0;
	int even = 1;
	size_t len;

	if (!hash)
		return V2X_E_RANGE;
	len = strnlen(hash, GEOHASH_MAX_PRECISION + 1);
	if (len < 1 || len > GEOHASH_MAX_PRECISION)
		return V2X_E_RANGE;

	for (size_t i = 0; i < len; i++) {
		int v = geohash__value(hash[i]);

		if (v < 0)
			return V2X_E_SYNTAX;
		for (int b = 4; b >= 0; b--) {
			int bit = (v >> b) & 1;

			if (even) {
				double mid = (lon_lo + lon_hi) / 2;

				if (bit)
					lon_lo = mid;
				else
					lon_hi = mid;
			} else {
				double mid = (lat_lo + lat_hi) / 2;

				if (bit)
					lat_lo = mid;
				else
					lat_hi = mid;
			}
			even = !even;
		}
	}
	if (lat)
		*lat = (lat_lo + lat_hi) / 2;
	if (lon)
		*lon = (lon_lo + lon_hi) / 2;
	if (lat_err)
		*lat_err = (lat_hi - lat_lo) / 2;
	if (lon_err)
		*lon_err = (lon_hi - lon_lo) / 2;
	return (int)len;
}

int geohash_neighbors(const char *hash, char out[8][13])
{
	/* Steps in cells, in enum geohash_dir order: (north, east). */
	static const int step[8][2] = {
		{ 1, 0 }, { 1, 1 }, { 0, 1 }, { -1, 1 },
		{ -1, 0 }, { -1, -1 }, { 0, -1 }, { 1, -1 },
	};
	double lat, lon, lat_err, lon_err;
	int precision, n = 0;

	precision = geohash_decode(hash, &lat, &lon, &lat_err, &lon_err);
	if (precision < 0)
		return precision;

	for (int d = 0; d < 8; d++) {
		double nlat = lat + step[d][0] * 2 * lat_err;
		double nlon = lon + step[d][1] * 2 * lon_err;

		out[d][0] = '\0';
		/* Beyond a pole there is no cell. */
		if (nlat > 90.0 || nlat < -90.0)
			continue;
		/* Across the antimeridian, wrap around. */
		if (nlon > 180.0)
			nlon -= 360.0;
		else if (nlon < -180.0)
			nlon += 360.0;
		if (geohash_encode(nlat, nlon, precision, out[d]) < 0)
			continue;
		n++;
	}
	return n;
}
