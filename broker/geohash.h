/* SPDX-License-Identifier: MIT */
/*
 * geohash.h - standard base32 geohash (Niemeyer), precision 1..12.
 *
 * Pure functions: no allocation, no globals, thread-safe.  The hash is the
 * usual interleaving of longitude (even bits) and latitude (odd bits),
 * alphabet "0123456789bcdefghjkmnpqrstuvwxyz".  Topics on ZeroMQ use
 * precision 7 (about 153 m x 153 m at the equator).
 */
#ifndef V2X_BROKER_GEOHASH_H
#define V2X_BROKER_GEOHASH_H

#define GEOHASH_MAX_PRECISION 12

/*
 * geohash_encode() - hash of (lat_deg, lon_deg) with @precision characters.
 * @out must hold precision + 1 bytes; it is NUL-terminated.
 * lat must be in [-90, 90], lon in [-180, 180] (180 is folded to -180, the
 * same meridian); NaN or out of range gives V2X_E_RANGE, as does a
 * precision outside 1..12.  Returns @precision on success.
 */
int geohash_encode(double lat_deg, double lon_deg, int precision, char *out);

/*
 * geohash_decode() - centre of the cell named by @hash (1..12 characters,
 * lower or upper case) and its half-sizes in degrees (@lat_err, @lon_err;
 * either may be NULL).  Returns the precision, V2X_E_SYNTAX for a character
 * outside the alphabet, V2X_E_RANGE for an empty or too long hash.
 */
int geohash_decode(const char *hash, double *lat, double *lon,
		   double *lat_err, double *lon_err);

/* Directions of geohash_neighbors()'s output, clockwise from north. */
enum geohash_dir {
	GEOHASH_N = 0, GEOHASH_NE, GEOHASH_E, GEOHASH_SE,
	GEOHASH_S, GEOHASH_SW, GEOHASH_W, GEOHASH_NW,
};

/*
 * geohash_neighbors() - the 8 cells of the same precision around @hash, in
 * enum geohash_dir order, each NUL-terminated in out[i].  Longitude wraps
 * around the antimeridian.  At a pole there is no cell beyond: the
 * northern (southern) neighbours of a cell touching the north (south) pole
 * are empty strings.  Returns the number of non-empty neighbours (8, or 5
 * at a pole) or the geohash_decode() error.
 */
int geohash_neighbors(const char *hash, char out[8][13]);

#endif
