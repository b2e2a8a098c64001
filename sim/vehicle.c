/* SPDX-License-Identifier: MIT */
/* sim/vehicle.c - vehicle classes and the IDM. */
#include <math.h>
#include <string.h>

#include "v2x/msg.h"
#include "vehicle.h"

/*
 * sim_vehicle_draw() - see vehicle.h.  Parameters follow the ranges that
 * calibration studies report for IDM (Treiber & Kesting, "Traffic Flow
 * Dynamics", table 11.2): cars T 1.0-2.0 s, a 1-2 m/s^2, b 1.5-3 m/s^2.
 */
void sim_vehicle_draw(struct sim_vehicle *v, struct sim_rng *rng,
		      double truck_share, double bus_share)
{
	double u = sim_rng_uniform(rng);

	if (u < truck_share) {
		v->cls = V2X_CLASS_TRUCK;
		v->length = (float)sim_rng_normal_clip(rng, 12.0, 2.0, 8.0, 16.5);
		v->width = 2.5f;
		v->v0f = (float)sim_rng_normal_clip(rng, 0.85, 0.05, 0.7, 1.0);
		v->vmax = 25.0f;
		v->T = (float)sim_rng_normal_clip(rng, 1.8, 0.2, 1.4, 2.5);
		v->amax = (float)sim_rng_normal_clip(rng, 0.8, 0.1, 0.5, 1.1);
		v->b = (float)sim_rng_normal_clip(rng, 1.5, 0.2, 1.0, 2.0);
		v->s0 = (float)sim_rng_normal_clip(rng, 3.0, 0.3, 2.5, 4.0);
		v->polite = 0.5f;
	} else if (u < truck_share + bus_share) {
		v->cls = V2X_CLASS_BUS;
		v->length = (float)sim_rng_normal_clip(rng, 12.0, 0.5, 10.5, 13.7);
		v->width = 2.55f;
		v->v0f = (float)sim_rng_normal_clip(rng, 0.9, 0.05, 0.75, 1.0);
		v->vmax = 27.0f;
		v->T = (float)sim_rng_normal_clip(rng, 1.6, 0.2, 1.2, 2.2);
		v->amax = (float)sim_rng_normal_clip(rng, 1.0, 0.1, 0.7, 1.3);
		v->b = (float)sim_rng_normal_clip(rng, 1.5, 0.2, 1.0, 2.0);
		v->s0 = (float)sim_rng_normal_clip(rng, 2.5, 0.3, 2.0, 3.5);
		v->polite = 0.5f;
	} else {
		v->cls = V2X_CLASS_CAR;
		v->length = (float)sim_rng_normal_clip(rng, 4.6, 0.35, 3.6, 5.4);
		v->width = (float)sim_rng_normal_clip(rng, 1.82, 0.08, 1.6, 2.0);
		/*
		 * Drivers keep roughly to the limit (at most 5 % over): real
		 * speeders come from the speeding incident, so that the ground
		 * truth lists every speeding vehicle.
		 */
		v->v0f = (float)sim_rng_normal_clip(rng, 0.97, 0.05, 0.85, 1.05);
		v->vmax = 45.0f;
		v->T = (float)sim_rng_normal_clip(rng, 1.4, 0.25, 0.9, 2.2);
		v->amax = (float)sim_rng_normal_clip(rng, 1.5, 0.3, 0.8, 2.5);
		v->b = (float)sim_rng_normal_clip(rng, 2.0, 0.3, 1.2, 3.0);
		v->s0 = (float)sim_rng_normal_clip(rng, 2.0, 0.3, 1.2, 3.0);
		v->polite = (float)sim_rng_range(rng, 0.1, 0.6);
	}
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
