/* SPDX-License-Identifier: MIT */
/*
 * sim/geo.h - coordinates: a local east/north plane in metres around a
 * reference point (the RSU), and the inverse (and forward) UTM projection
 * used to bring SUMO networks back to WGS-84.
 */
#ifndef SIM_GEO_H
#define SIM_GEO_H

#include <stdint.h>

/* A local tangent plane: x east, y north, metres, around (lat0, lon0). */
struct sim_geo {
	double lat0, lon0;   /* reference, degrees */
	double m_per_deg_lat;
	double m_per_deg_lon;
};

/*
 * sim_geo_init() - set up the local plane around lat0/lon0 (degrees), with
 * the WGS-84 meridian and prime-vertical radii of curvature at lat0.
 */
void sim_geo_init(struct sim_geo *g, double lat0, double lon0);

/* sim_geo_to_ll() - local metres to degrees. */
void sim_geo_to_ll(const struct sim_geo *g, double x, double y, double *lat,
		   double *lon);

/* sim_geo_from_ll() - degrees to local metres. */
void sim_geo_from_ll(const struct sim_geo *g, double lat, double lon, double *x,
		     double *y);

/*
 * sim_utm_inverse() - UTM easting/northing (metres) in zone (1..60) of the
 * given hemisphere (south != 0: false northing 10,000 km) to WGS-84 degrees.
 * Accurate to well below a millimetre within the zone.
 */
void sim_utm_inverse(int zone, int south, double easting, double northing,
		     double *lat, double *lon);

/* sim_utm_forward() - the reverse, used by tests and by FCD files in metres. */
void sim_utm_forward(int zone, int south, double lat, double lon,
		     double *easting, double *northing);

/* Degrees to J2735 1e-7 degree units, rounded to nearest. */
static inline int32_t sim_geo_e7(double deg)
{
	double v = deg * 1e7;

	return (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
}

#endif
