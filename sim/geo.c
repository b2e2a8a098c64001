/* SPDX-License-Identifier: MIT */
/* sim/geo.c - local plane and UTM (Snyder, "Map Projections", USGS 1395). */
#include <math.h>

#include "geo.h"

#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define UTM_K0 0.9996
#define DEG (M_PI / 180.0)

/*
 * sim_geo_init() - see geo.h.  Any thread; no allocation.
 */
void sim_geo_init(struct sim_geo *g, double lat0, double lon0)
{
	double e2 = WGS84_F * (2.0 - WGS84_F);
	double sl = sin(lat0 * DEG);
	double w = 1.0 - e2 * sl * sl;
	double rm = WGS84_A * (1.0 - e2) / (w * sqrt(w));
	double rn = WGS84_A / sqrt(w);

	g->lat0 = lat0;
	g->lon0 = lon0;
	g->m_per_deg_lat = rm * DEG;
	g->m_per_deg_lon = rn * cos(lat0 * DEG) * DEG;
}

/*
 * sim_geo_to_ll() - see geo.h.  Any thread.
 */
void sim_geo_to_ll(const struct sim_geo *g, double x, double y, double *lat,
		   double *lon)
{
	*lat = g->lat0 + y / g->m_per_deg_lat;
	*lon = g->lon0 + x / g->m_per_deg_lon;
}

/*
 * sim_geo_from_ll() - see geo.h.  Any thread.
 */
void sim_geo_from_ll(const struct sim_geo *g, double lat, double lon, double *x,
		     double *y)
{
	*x = (lon - g->lon0) * g->m_per_deg_lon;
	*y = (lat - g->lat0) * g->m_per_deg_lat;
}

static double utm_central_meridian(int zone)
{
	return (zone - 1) * 6.0 - 180.0 + 3.0;
}

/*
 * sim_utm_inverse() - see geo.h.  Any thread.
 */
void sim_utm_inverse(int zone, int south, double easting, double northing,
		     double *lat, double *lon)
{
	double e2 = WGS84_F * (2.0 - WGS84_F);
	double ep2 = e2 / (1.0 - e2);
	double e4 = e2 * e2, e6 = e4 * e2;
	double x = easting - 500000.0;
	double y = south ? northing - 10000000.0 : northing;
	double m = y / UTM_K0;
	double mu = m / (WGS84_A * (1.0 - e2 / 4.0 - 3.0 * e4 / 64.0 -
				    5.0 * e6 / 256.0));
	double se = sqrt(1.0 - e2);
	double e1 = (1.0 - se) / (1.0 + se);
	double e1_2 = e1 * e1, e1_3 = e1_2 * e1, e1_4 = e1_3 * e1;
	double phi1 = mu + (3.0 * e1 / 2.0 - 27.0 * e1_3 / 32.0) * sin(2.0 * mu) +
		      (21.0 * e1_2 / 16.0 - 55.0 * e1_4 / 32.0) * sin(4.0 * mu) +
		      (151.0 * e1_3 / 96.0) * sin(6.0 * mu) +
		      (1097.0 * e1_4 / 512.0) * sin(8.0 * mu);
	double s1 = sin(phi1), c1 = cos(phi1), t1 = tan(phi1);
	double cc = ep2 * c1 * c1;
	double tt = t1 * t1;
	double w = 1.0 - e2 * s1 * s1;
	double n1 = WGS84_A / sqrt(w);
	double r1 = WGS84_A * (1.0 - e2) / (w * sqrt(w));
	double d = x / (n1 * UTM_K0);
	double d2 = d * d, d3 = d2 * d, d4 = d3 * d, d5 = d4 * d, d6 = d5 * d;
	double phi;
	double lam;

	phi = phi1 - (n1 * t1 / r1) *
			     (d2 / 2.0 -
			      (5.0 + 3.0 * tt + 10.0 * cc - 4.0 * cc * cc - 9.0 * ep2) * d4 / 24.0 +
			      (61.0 + 90.0 * tt + 298.0 * cc + 45.0 * tt * tt - 252.0 * ep2 -
			       3.0 * cc * cc) * d6 / 720.0);
	lam = (d - (1.0 + 2.0 * tt + cc) * d3 / 6.0 +
	       (5.0 - 2.0 * cc + 28.0 * tt - 3.0 * cc * cc + 8.0 * ep2 + 24.0 * tt * tt) *
		       d5 / 120.0) / c1;
	*lat = phi / DEG;
	*lon = utm_central_meridian(zone) + lam / DEG;
}

/*
 * sim_utm_forward() - see geo.h.  Any thread.
 */
void sim_utm_forward(int zone, int south, double lat, double lon,
		     double *easting, double *northing)
{
	double e2 = WGS84_F * (2.0 - WGS84_F);
	double ep2 = e2 / (1.0 - e2);
	double e4 = e2 * e2, e6 = e4 * e2;
	double phi = lat * DEG;
	double s = sin(phi), c = cos(phi), t = tan(phi);
	double n = WGS84_A / sqrt(1.0 - e2 * s * s);
	double tt = t * t;
	double cc = ep2 * c * c;
	double a = c * (lon - utm_central_meridian(zone)) * DEG;
	double a2 = a * a, a3 = a2 * a, a4 = a3 * a, a5 = a4 * a, a6 = a5 * a;
	double m = WGS84_A * ((1.0 - e2 / 4.0 - 3.0 * e4 / 64.0 - 5.0 * e6 / 256.0) * phi -
			      (3.0 * e2 / 8.0 + 3.0 * e4 / 32.0 + 45.0 * e6 / 1024.0) * sin(2.0 * phi) +
			      (15.0 * e4 / 256.0 + 45.0 * e6 / 1024.0) * sin(4.0 * phi) -
			      (35.0 * e6 / 3072.0) * sin(6.0 * phi));

	*easting = UTM_K0 * n *
			   (a + (1.0 - tt + cc) * a3 / 6.0 +
			    (5.0 - 18.0 * tt + tt * tt + 72.0 * cc - 58.0 * ep2) * a5 / 120.0) +
		   500000.0;
	*northing = UTM_K0 * (m + n * t *
					  (a2 / 2.0 + (5.0 - tt + 9.0 * cc + 4.0 * cc * cc) * a4 / 24.0 +
					   (61.0 - 58.0 * tt + tt * tt + 600.0 * cc - 330.0 * ep2) * a6 / 720.0));
	if (south)
		*northing += 10000000.0;
}
