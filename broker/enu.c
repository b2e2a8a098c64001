/* SPDX-License-Identifier: MIT */
/*
 * enu.c - WGS-84 geodetic <-> ECEF <-> local ENU.
 */
#include <math.h>

#include "enu.h"

#define WGS84_A 6378137.0                 /* semi-major axis, m */
#define WGS84_F (1.0 / 298.257223563)     /* flattening */
#define WGS84_B (WGS84_A * (1.0 - WGS84_F)) /* semi-minor axis, m */
#define WGS84_E2 (WGS84_F * (2.0 - WGS84_F)) /* first eccentricity^2 */
#define WGS84_EP2 (WGS84_E2 / (1.0 - WGS84_E2)) /* second eccentricity^2 */

static const double enu__deg = 3.14159265358979323846 / 180.0;

void geo_to_ecef(double lat_deg, double lon_deg, double h_m,
		 double *x, double *y, double *z)
{
	double lat = lat_deg * enu__deg, lon = lon_deg * enu__deg;
	double sl = sin(lat), cl = cos(lat);
	/* Prime vertical radius of curvature. */
	double nr = WGS84_A / sqrt(1.0 - WGS84_E2 * sl * sl);

	*x = (nr + h_m) * cl * cos(lon);
	*y = (nr + h_m) * cl * sin(lon);
	*z = (nr * (1.0 - WGS84_E2) + h_m) * sl;
}

void ecef_to_geo(double x, double y, double z,
		 double *lat_deg, double *lon_deg, double *h_m)
{
	double p = hypot(x, y);
	double lat, sl, cl, nr, h;

	/*
	 * Bowring's parametric-latitude start, then refine the geodetic
	 * latitude twice; each step gains far more than the millimetre we need
	 * at terrestrial heights.
	 */
	double beta = atan2(z * WGS84_A, p * WGS84_B);

	for (int i = 0; i < 2; i++) {
		double sb = sin(beta), cb = cos(beta);

		lat = atan2(z + WGS84_EP2 * WGS84_B * sb * sb * sb,
			    p - WGS84_E2 * WGS84_A * cb * cb * cb);
		beta = atan2((1.0 - WGS84_F) * sin(lat), cos(lat));
	}
	sl = sin(lat);
	cl = cos(lat);
	nr = WGS84_A / sqrt(1.0 - WGS84_E2 * sl * sl);
	/* The height formula that is stable both near the equator and the poles. */
	if (fabs(cl) > 1e-3)
		h = p / cl - nr;
	else
		h = z / sl - nr * (1.0 - WGS84_E2);

	*lat_deg = lat / enu__deg;
	*lon_deg = atan2(y, x) / enu__deg;
	*h_m = h;
}

void enu_init(struct enu_ref *ref, double lat_deg, double lon_deg, double h_m)
{
	ref->lat_deg = lat_deg;
	ref->lon_deg = lon_deg;
	ref->h_m = h_m;
	geo_to_ecef(lat_deg, lon_deg, h_m, &ref->x0, &ref->y0, &ref->z0);
	ref->sin_lat = sin(lat_deg * enu__deg);
	ref->cos_lat = cos(lat_deg * enu__deg);
	ref->sin_lon = sin(lon_deg * enu__deg);
	ref->cos_lon = cos(lon_deg * enu__deg);
}

void enu_from_geo(const struct enu_ref *ref, double lat_deg, double lon_deg,
		  double h_m, double *e, double *n, double *u)
{
	double x, y, z, dx, dy, dz;

	geo_to_ecef(lat_deg, lon_deg, h_m, &x, &y, &z);
	dx = x - ref->x0;
	dy = y - ref->y0;
	dz = z - ref->z0;
	*e = -ref->sin_lon * dx + ref->cos_lon * dy;
	*n = -ref->sin_lat * ref->cos_lon * dx - ref->sin_lat * ref->sin_lon * dy +
	     ref->cos_lat * dz;
	*u = ref->cos_lat * ref->cos_lon * dx + ref->cos_lat * ref->sin_lon * dy +
	     ref->sin_lat * dz;
}

void enu_to_geo(const struct enu_ref *ref, double e, double n, double u,
		double *lat_deg, double *lon_deg, double *h_m)
{
	/* The transpose of the rotation in enu_from_geo(). */
	double dx = -ref->sin_lon * e - ref->sin_lat * ref->cos_lon * n +
		    ref->cos_lat * ref->cos_lon * u;
	double dy = ref->cos_lon * e - ref->sin_lat * ref->sin_lon * n +
		    ref->cos_lat * ref->sin_lon * u;
	double dz = ref->cos_lat * n + ref->sin_lat * u;

	ecef_to_geo(ref->x0 + dx, ref->y0 + dy, ref->z0 + dz, lat_deg, lon_deg, h_m);
}
