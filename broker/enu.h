/* SPDX-License-Identifier: MIT */
/*
 * enu.h - WGS-84 geodetic <-> local East/North/Up metres around a reference
 * point (the RSU), through ECEF.
 *
 * Exact transformations (no flat-earth approximation): geodetic -> ECEF is
 * closed form, ECEF -> geodetic uses Bowring's method with two iterations,
 * which is sub-millimetre anywhere near the earth's surface.  Pure
 * functions, no allocation, thread-safe; a struct enu_ref is read only after
 * enu_init().
 */
#ifndef V2X_BROKER_ENU_H
#define V2X_BROKER_ENU_H

/* The reference point and its precomputed rotation (caller-allocated). */
struct enu_ref {
	double lat_deg, lon_deg, h_m; /* reference point, WGS-84 */
	double x0, y0, z0;            /* its ECEF coordinates, metres */
	double sin_lat, cos_lat, sin_lon, cos_lon;
};

/* enu_init() - set up @ref at (lat_deg, lon_deg, h_m ellipsoidal height). */
void enu_init(struct enu_ref *ref, double lat_deg, double lon_deg, double h_m);

/* enu_from_geo() - local east/north/up metres of a geodetic point. */
void enu_from_geo(const struct enu_ref *ref, double lat_deg, double lon_deg,
		  double h_m, double *e, double *n, double *u);

/* enu_to_geo() - geodetic position of a local ENU point (inverse). */
void enu_to_geo(const struct enu_ref *ref, double e, double n, double u,
		double *lat_deg, double *lon_deg, double *h_m);

/* geo_to_ecef() / ecef_to_geo() - the underlying WGS-84 conversions. */
void geo_to_ecef(double lat_deg, double lon_deg, double h_m,
		 double *x, double *y, double *z);
void ecef_to_geo(double x, double y, double z,
		 double *lat_deg, double *lon_deg, double *h_m);

#endif
