/* SPDX-License-Identifier: MIT */
/* sim/vehicle.c - vehicle classes and the IDM. */
#include <math.h>
#include <string.h>

#include "v2x/msg.h"
#include "vehicle.h"

/* A clipped normal distribution; sd 0: the constant mean (no draw). */
struct vehicle__dist {
	double mean, sd, lo, hi;
};

/* Per-class parameter distributions, drawn in this order. */
static const struct vehicle__class {
	int cls;
	struct vehicle__dist length, width, v0f, T, amax, b, s0;
	float vmax;
	double polite_lo, polite_hi; /* uniform; equal: constant (no draw) */
} vehicle__classes[] = {
	{ V2X_CLASS_TRUCK, { 12.0, 2.0, 8.0, 16.5 }, { 2.5, 0, 0, 0 },
	  { 0.85, 0.05, 0.7, 1.0 }, { 1.8, 0.2, 1.4, 2.5 }, { 0.8, 0.1, 0.5, 1.1 },
	  { 1.5, 0.2, 1.0, 2.0 }, { 3.0, 0.3, 2.5, 4.0 }, 25.0f, 0.5, 0.5 },
	{ V2X_CLASS_BUS, { 12.0, 0.5, 10.5, 13.7 }, { 2.55, 0, 0, 0 },
	  { 0.9, 0.05, 0.75, 1.0 }, { 1.6, 0.2, 1.2, 2.2 }, { 1.0, 0.1, 0.7, 1.3 },
	  { 1.5, 0.2, 1.0, 2.0 }, { 2.5, 0.3, 2.0, 3.5 }, 27.0f, 0.5, 0.5 },
	/*
	 * Car drivers keep roughly to the limit (at most 5 % over): real
	 * speeders come from the speeding incident, so that the ground truth
	 * lists every speeding vehicle.
	 */
	{ V2X_CLASS_CAR, { 4.6, 0.35, 3.6, 5.4 }, { 1.82, 0.08, 1.6, 2.0 },
	  { 0.97, 0.05, 0.85, 1.05 }, { 1.4, 0.25, 0.9, 2.2 }, { 1.5, 0.3, 0.8, 2.5 },
	  { 2.0, 0.3, 1.2, 3.0 }, { 2.0, 0.3, 1.2, 3.0 }, 45.0f, 0.1, 0.6 },
};

static float vehicle__draw(struct sim_rng *rng, const struct vehicle__dist *d)
{
	if (d->sd == 0)
		return (float)d->mean;
	return (float)sim_rng_normal_clip(rng, d->mean, d->sd, d->lo, d->hi);
}

/*
 * sim_vehicle_draw() - see vehicle.h.  Parameters follow the ranges that
 * calibration studies report for IDM (Treiber & Kesting, "Traffic Flow
 * Dynamics", table 11.2): cars T 1.0-2.0 s, a 1-2 m/s^2, b 1.5-3 m/s^2.
 */
void sim_vehicle_draw(struct sim_vehicle *v, struct sim_rng *rng,
		      double truck_share, double bus_share)
{
	double u = sim_rng_uniform(rng);
	const struct vehicle__class *c = &vehicle__classes[2];

	if (u < truck_share)
		c = &vehicle__classes[0];
	else if (u < truck_share + bus_share)
		c = &vehicle__classes[1];
	v->cls = c->cls;
	v->length = vehicle__draw(rng, &c->length);
	v->width = vehicle__draw(rng, &c->width);
	v->v0f = vehicle__draw(rng, &c->v0f);
	v->vmax = c->vmax;
	v->T = vehicle__draw(rng, &c->T);
	v->amax = vehicle__draw(rng, &c->amax);
	v->b = vehicle__draw(rng, &c->b);
	v->s0 = vehicle__draw(rng, &c->s0);
	v->polite = c->polite_lo == c->polite_hi ? (float)c->polite_lo :
		    (float)sim_rng_range(rng, c->polite_lo, c->polite_hi);
}

/*
 * sim_vehicle_v0() - see vehicle.h.
 */
double sim_vehicle_v0(const struct sim_vehicle *veh, double limit)
{
	double v0;

	if (veh->v0_override > 0)
		return veh->v0_override;
	v0 = veh->v0f * limit;
	return v0 < veh->vmax ? v0 : veh->vmax;
}

/*
 * sim_idm_accel() - see vehicle.h.
 */
double sim_idm_accel(const struct sim_vehicle *veh, double v, double v0,
		     double gap, double vl)
{
	double T = veh->T_override > 0 ? veh->T_override : veh->T;
	double ratio = v0 > 0.1 ? v / v0 : 10.0;
	double free_term = 1.0 - ratio * ratio * ratio * ratio;
	double acc;

	if (isinf(gap)) {
		acc = veh->amax * free_term;
	} else {
		double dv = v - vl;
		double sstar = veh->s0 + fmax(0.0, v * T + v * dv /
					       (2.0 * sqrt(veh->amax * veh->b)));
		double g = gap > 0.1 ? gap : 0.1;
		double q = sstar / g;

		acc = veh->amax * (free_term - q * q);
	}
	if (acc < -SIM_DECEL_MAX)
		acc = -SIM_DECEL_MAX;
	if (acc > veh->amax)
		acc = veh->amax;
	return acc;
}
