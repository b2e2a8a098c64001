/* SPDX-License-Identifier: MIT */
/*
 * sim/vehicle.h - vehicles: classes and sizes, per-vehicle Intelligent
 * Driver Model (Treiber, Hennecke, Helbing 2000) parameters, and the MOBIL
 * lane-change criterion (Kesting, Treiber, Helbing 2007).
 */
#ifndef SIM_VEHICLE_H
#define SIM_VEHICLE_H

#include <stdint.h>

#include "rng.h"

/* Physical braking limit; IDM's demand is clipped to it. */
#define SIM_DECEL_MAX 9.0
/* MOBIL safety: no lane change may make the new follower brake harder. */
#define SIM_MOBIL_BSAFE 4.0
#define SIM_MOBIL_THRESHOLD 0.2
#define SIM_MOBIL_BIAS_RIGHT 0.1

struct sim_vehicle {
	uint32_t id;          /* sim vehicle id (ground truth) */
	uint8_t cls;          /* enum v2x_obj_class: car, truck, bus */
	uint8_t connected;    /* sends BSMs */
	uint8_t active;       /* on the road */
	uint8_t wrong_way;    /* travelling against its lane */
	int lane;             /* lane index in the road, -1 when off the road */
	int hint;             /* cached polyline segment */
	double s;             /* m along the lane: downstream end of the body */
	double v;             /* m/s, >= 0 */
	double a;             /* m/s^2 applied in the last step */
	double a_next;        /* computed for this step */
	float length, width;  /* m */
	/* IDM parameters, drawn per vehicle */
	float v0f;            /* desired speed as a share of the speed limit */
	float vmax;           /* absolute cap on the desired speed, m/s */
	float T;              /* time headway, s */
	float amax;           /* maximum acceleration, m/s^2 */
	float b;              /* comfortable deceleration, m/s^2 */
	float s0;             /* jam distance, m */
	float polite;         /* MOBIL politeness */
	double lat_off;       /* lateral offset from the lane centre, m */
	double lc_cool;       /* s until the next lane change may be considered */
	int committed;        /* lane whose stop line it decided to pass on yellow */
	/* pose after the last step, local metres and radians from north */
	double x, y, heading, yaw_rate;
	/* incident overrides; inactive when incident < 0 */
	int incident;
	double force_a;       /* imposed acceleration (<= 0), NAN: none */
	double v0_override;   /* desired speed, m/s; 0: none */
	double T_override;    /* time headway, s; 0: none */
	double hold_until;    /* keep a constant until this sim time (reaction) */
	/* on-board unit */
	uint32_t temp_id;
	double temp_next;     /* sim time of the next TemporaryID change */
	uint8_t msg_cnt;
	double noise_e, noise_n; /* correlated GNSS error, m */
	double seen_t;        /* last time a sensor saw it, -1: never */
};

/*
 * sim_vehicle_draw() - draw class, size and driver parameters of v from rng;
 * truck and bus are the class shares.  Leaves the dynamic state zero.
 */
void sim_vehicle_draw(struct sim_vehicle *v, struct sim_rng *rng,
		      double truck_share, double bus_share);

/*
 * sim_idm_accel() - IDM acceleration of a vehicle at speed v with desired
 * speed v0, given the gap (m, bumper to bumper; <= 0 a collision) to what is
 * ahead and its speed vl.  gap = INFINITY for a free road.  Clipped to
 * [-SIM_DECEL_MAX, amax].
 */
double sim_idm_accel(const struct sim_vehicle *veh, double v, double v0,
		     double gap, double vl);

/* sim_vehicle_v0() - the desired speed of veh on a lane with that limit. */
double sim_vehicle_v0(const struct sim_vehicle *veh, double limit);

#endif
