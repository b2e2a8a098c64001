/* SPDX-License-Identifier: MIT */
/*
 * sim/sim.h - the simulation world: road, signals, vehicles, pedestrians,
 * sensors and incidents, advanced in fixed steps of SIM_DT seconds.
 *
 * One thread owns a world.  Messages leave through a caller-supplied sink
 * (struct sim_sink), so the model knows nothing of encodings or sockets.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "v2x/msg.h"
#include "geo.h"
#include "rng.h"
#include "road.h"
#include "signal.h"
#include "vehicle.h"

#define SIM_DT 0.1
#define SIM_STEPS_PER_S 10
#define SIM_TEMP_ID_PERIOD 300.0 /* s between TemporaryID changes */

enum sim_scenario {
	SIM_SCN_HIGHWAY = 0,
	SIM_SCN_INTERSECTION = 1,
	SIM_SCN_GRID = 2,
};

#define SIM_SENSORS_MAX 256
#define SIM_INCIDENTS_MAX 1024

struct sim_sensor_spec {
	int have_ll;          /* 1: lat/lon given, else x/y local metres */
	double lat, lon, x, y;
	double heading_deg;   /* centre of the field of view, from north */
	double fov_deg;
	double range_m;
	double rate_hz;
	double pos_sigma;     /* m */
	double speed_sigma;   /* m/s */
	double miss;          /* probability a visible object is not reported */
	double false_rate;    /* mean false detections per frame */
};

struct sim_incident_spec {
	int type;             /* enum v2x_event_type */
	double at;            /* s of sim time */
	double duration;      /* s, 0: the type's default */
};

/*
 * Definitions of the conditions that the ground truth records when the
 * traffic itself produces them ("natural" episodes; docs/simulator.md).
 * Defaults equal the broker's detector defaults (docs/events.md), so that
 * both sides name the same physical condition.
 */
struct sim_truth_config {
	double hard_brake_mps2;   /* deceleration at or beyond: hard braking */
	double hard_brake_merge_s; /* re-triggered within this: one episode */
	double ttc_s;             /* time to collision below: collision risk */
	double ttc_min_s;         /* ... held this long (s) */
	double stop_mps;          /* slower: stopped */
	double stop_min_s;        /* ... this long, not waiting behind anything */
	double stop_clear_m;      /* nothing (vehicle, stop line, obstacle) this close ahead */
	double stop_lead_mps;     /* injected: only a vehicle ahead slower than
				   * this is a reason to wait */
	double speed_tol_pct;     /* speeding: above limit + max(pct, kph) */
	double speed_tol_kph;
	double speed_min_s;       /* ... sustained this long */
	double brake_obs_s;       /* hard braking (injected) of a vehicle without
				   * BSMs: seen braking this long in all */
	double ww_mps;            /* wrong way: against the lane faster than this */
	double ww_min_s;          /* ... for this long in all (standing keeps it) */
	double jam_ratio;         /* congestion: space-mean speed / limit below */
	int jam_min_vehicles;     /* ... with at least this many in a bin */
	double jam_bin_m;         /* bin length along the segment */
	double jam_min_s;         /* ... held this long */
	double jam_clear_s;       /* ends after this long without the condition */
	double gap_s;             /* dips shorter than this do not split an episode */
};

struct sim_config {
	int scenario;             /* enum sim_scenario */
	int vehicles;             /* initial count (kept constant unless flow) */
	double flow_vph;          /* > 0: inflow per entry lane, veh/h; exits leave */
	double penetration;       /* share of vehicles sending BSMs, 0..1 */
	uint64_t seed;
	double ref_lat, ref_lon;
	int lanes;                /* per direction; 0: scenario default */
	double length;            /* highway length / approach length, m; 0: default */
	double curvature;         /* highway peak curvature 1/m (0 = straight) */
	int ramp;                 /* highway on-ramp (default on) */
	int grid_rows, grid_cols; /* 0: grow to fit */
	double block;             /* grid spacing, m */
	double speed_limit_kph;   /* 0: scenario default */
	double spacing;           /* initial spacing per lane, m (density) */
	double truck_share, bus_share;
	int peds, cyclists;       /* -1: scenario default */
	double gnss_sigma;        /* m, BSM position noise */
	uint64_t start_ns;        /* wall time of sim time 0 */
	double duration;          /* s */
	int nsensors;             /* -1: scenario defaults, 0: none */
	struct sim_sensor_spec sensor[SIM_SENSORS_MAX];
	int nincidents;
	struct sim_incident_spec incident[SIM_INCIDENTS_MAX];
	double rate;              /* > 0: fixed BSM rate per s (load tests) */
	struct sim_truth_config truth; /* natural episodes in the ground truth */
};

/* Sensible defaults for every field; the scenario stays highway. */
void sim_config_default(struct sim_config *cfg);

/* A pedestrian or cyclist on the walk graph (or on the road: vru incident). */
struct sim_ped {
	uint32_t id;
	uint8_t cls;          /* V2X_CLASS_PEDESTRIAN or V2X_CLASS_CYCLIST */
	uint8_t active;
	uint8_t on_road;      /* 1: the vru_on_road incident walker */
	uint8_t waiting;
	int edge, dir;        /* walk edge, +1 from a to b, -1 from b to a */
	int came_from;
	double pos;           /* m along the edge in its direction */
	double speed, lat;    /* m/s, lateral offset m */
	double x, y, heading, v;
	/* on-road walker: start point, unit direction, stop point, lanes */
	double rx, ry, ux, uy, walked, pause_at, pause_left, total;
	int incident;
};

/* A dynamic obstacle on a lane: closure, or a pedestrian on the road. */
struct sim_obstacle {
	int lane;
	double from, to;
	int active;
};

struct sim_sensor_track {
	uint32_t key;         /* agent key + 1, 0: empty */
	uint32_t obj_id;
	int64_t last_frame;
};

struct sim_sensor {
	uint32_t id;
	struct sim_sensor_spec spec;
	double x, y, heading, half_fov, range;
	int period_steps;
	int phase;
	int64_t frame;
	uint32_t next_obj;
	/* lanes crossing the coverage: lane index and s interval */
	int ncover;
	int *cover_lane;
	double *cover_from, *cover_to;
	/* object id table: open addressing on agent keys */
	struct sim_sensor_track *track;
	uint32_t ntrack_cap;  /* power of two */
	uint32_t ntrack;
	struct sim_rng rng;
};

/*
 * struct sim_run - a condition of the ground truth followed step by step
 * (sim_run_step()): the run of steps in which it held (where its rule asks,
 * only steps in which its road users were observable), from the first to
 * the latest, and the time it held in all.  Steps that held at most
 * max_gap_s apart are one run; a step more than max_gap_s after the latest
 * one that held ends it (the broker's GRACE_NS, broker/detect_speeding.c),
 * and the next step that holds begins a new run.  max_gap_s SIM_DT: no
 * step may be missed; INFINITY: one run, whatever the dips (time in all).
 * All zero: no run yet.
 */
struct sim_run {
	int on;          /* 1: a run is going on (it may still resume) */
	double t0;       /* sim s of its first step */
	double last;     /* sim s of its latest step that held */
	double held;     /* SIM_DT per step that held, from t0 (dips not counted) */
};

/*
 * sim_run_step() - the step at sim time t (steps in time order, one call
 * per step or at least per step that holds), in which the condition holds
 * or not.  Returns 1 if this step began a run (the caller may note where),
 * 0 otherwise.
 */
static inline int sim_run_step(struct sim_run *r, double t, int holds, double max_gap_s)
{
	if (r->on && t - r->last > max_gap_s + 1e-9)
		r->on = 0;
	if (!holds)
		return 0;
	r->last = t;
	if (r->on) {
		r->held += SIM_DT;
		return 0;
	}
	r->on = 1;
	r->t0 = t;
	r->held = SIM_DT;
	return 1;
}

/*
 * sim_run_span() - how long the run has lasted at sim time t, from its
 * first step (t - t0, dips included); -1 if no run is going on.
 */
static inline double sim_run_span(const struct sim_run *r, double t)
{
	return r->on ? t - r->t0 : -1;
}

#define SIM_INC_VEH_MAX 4
#define SIM_INC_IDS_MAX 16

enum sim_inc_state {
	SIM_INC_PENDING = 0,
	SIM_INC_ACTIVE = 1,
	SIM_INC_DONE = 2,
	SIM_INC_FAILED = 3,   /* no place for it was found */
};

struct sim_incident {
	int id;
	int type;
	int state;
	int phase;            /* type-specific sub-state */
	double at, duration;
	double start_t, detect_t, end_t; /* sim s, < 0: not yet */
	double lat, lon;
	int lane_id, segment_id;
	int lane;             /* lane index */
	double s;             /* position on the lane */
	int nveh;
	int veh[SIM_INC_VEH_MAX];   /* vehicle indices */
	int ped;              /* ped index or -1 */
	int obstacle;         /* obstacle index or -1 */
	double timer;
	double save[3];       /* driver parameters to restore at the end */
	struct sim_run cond;  /* its condition while observable: hard
			       * braking beyond the threshold, driving the
			       * wrong way faster than truth ww_mps (both in
			       * all), speeding over the threshold, the TTC
			       * under it, standing with nothing ahead
			       * (sim__stands_clear()) (runs) - inc__step() */
	struct sim_run stretch; /* wrong way: the stretch of driving
				 * against the lane (dips under gap_s
				 * kept) that cond's total is reached
				 * in - where it is placed */
	int ntemp;
	uint32_t temp_ids[SIM_INC_IDS_MAX];
	int nsobj;
	uint32_t sobj_sensor[SIM_INC_IDS_MAX], sobj_id[SIM_INC_IDS_MAX];
	char why[96];         /* why it failed */
	uint8_t natural;      /* 1: produced by the traffic, not injected */
	uint8_t marginal;     /* 1: a natural collision risk only within the
			       * position error (sim/truth.c), written as
			       * kind "marginal" */
	/* congestion: the lane closure (lanes closed, s interval, centre) */
	int nclosed;
	int closed_lane_id[16];
	double closed_from, closed_to, closed_lat, closed_lon;
	/* ... and where it starts: the upstream end, on the first closed lane */
	double closed_start_lat, closed_start_lon;
};

/*
 * Where the world's messages go.  Each callback receives a message that
 * lives only during the call.  Any of them may be NULL.
 */
struct sim_sink {
	void *ctx;
	void (*bsm)(void *ctx, const struct v2x_bsm *bsm);
	void (*objects)(void *ctx, const struct v2x_objects *objs);
	void (*spat)(void *ctx, const struct v2x_spat *spat);
	void (*step_end)(void *ctx, double t);
};

struct sim_counters {
	uint64_t entered;     /* vehicles that entered (incl. initial placement) */
	uint64_t exited;      /* vehicles that left at an exit */
	uint64_t bsm, objects_frames, objects, spat;
	uint64_t collisions;  /* bumper overlaps seen in the same lane */
	uint64_t red_crossings; /* crossed a stop line on red without commitment */
	uint64_t lane_changes;
};

struct sim_world {
	struct sim_config cfg;
	struct sim_geo geo;
	struct sim_road road;
	struct sim_rng rng;       /* model draws */
	struct sim_rng obu_rng;   /* GNSS noise and ids */
	double t;                 /* sim time, s */
	int64_t step;
	struct sim_signal *sig;
	int nsig;
	struct sim_vehicle *veh;
	int nveh, capveh;
	int *entry_lanes;
	int nentry;
	int *queue;               /* vehicles waiting to (re-)enter */
	int qhead, qlen, qcap;
	double *arrival_due;      /* flow mode: next arrival per entry lane */
	int *free_slots;
	int nfree;
	uint32_t next_vehicle_id;
	struct sim_ped *ped;
	int nped, capped;
	struct sim_obstacle obstacle[64];
	int nobstacle;
	struct sim_sensor *sensor;
	int nsensor;
	struct sim_incident *inc;
	int ninc;
	int nconnected;           /* connected vehicles on the road */
	uint64_t rate_acc;        /* fixed-rate mode: fractional messages */
	int rate_cursor;
	struct sim_counters ctr;
	int *moves;               /* scratch for lane transitions */
	int capmoves;
	FILE *truth;              /* borrowed; NULL: no ground truth */
	struct sim_truth *nat;    /* natural episodes (truth.c); NULL: none yet */
	double speed_limit;       /* m/s of the scenario's main roads */
	char scenario_note[160];  /* how the geometry was sized */
};

/*
 * sim_world_new() - build the scenario of cfg (copied) and place its
 * vehicles.  Returns 0 and sets *out, or -ENOMEM, -EINVAL (with a reason
 * in err, size errlen) when the scenario cannot hold what was asked for.
 */
int sim_world_new(const struct sim_config *cfg, struct sim_world **out,
		  char *err, size_t errlen);

/* sim_world_free() - free w; NULL is a no-op. */
void sim_world_free(struct sim_world *w);

/*
 * sim_world_step() - advance by SIM_DT: signals, pedestrians, incidents,
 * vehicles; then emit this step's BSMs, sensor frames and SPaT to sink.
 */
void sim_world_step(struct sim_world *w, const struct sim_sink *sink);

/*
 * sim_world_finish() - end the run: write the still-open incidents and
 * the summary line to the ground truth (if any).
 */
void sim_world_finish(struct sim_world *w);

/* sim_world_truth_header() - write the run line to the ground truth. */
void sim_world_truth_header(struct sim_world *w);

/* Vehicles currently on the road. */
int sim_world_present(const struct sim_world *w);

/* Wall-clock ns of sim time t. */
static inline uint64_t sim_world_ns(const struct sim_world *w, double t)
{
	return w->cfg.start_ns + (uint64_t)(t * 1e9 + 0.5);
}

/*
 * sim_world_leader() - what is ahead of a vehicle (or of a position, when
 * self < 0) at s on lane: returns the gap (m) to the nearest vehicle rear
 * or obstacle within the look-ahead, INFINITY if none, and its speed in
 * *vl.  Stop lines count as obstacles for self unless it may pass.
 */
double sim_world_leader(const struct sim_world *w, int lane, double s,
			int self, double *vl, int *leader);

/* Scenario builders (scenario.c): fill w->road and w->sig. */
int sim__scenario_build(struct sim_world *w, char *err, size_t errlen);
/* Take a vehicle off the road (sim.c). */
void sim__vehicle_remove(struct sim_world *w, int vi);
/* Incidents (incident.c). */
/* Can the roadside know what vehicle vi does now (BSMs, or a sensor's
 * latest frames)?  The observability rule of injected and natural truth. */
int sim__observable(const struct sim_world *w, int vi);
void sim__incidents_step(struct sim_world *w);
void sim__incident_vehicle_left(struct sim_world *w, int vi);
void sim__incident_write(struct sim_world *w, struct sim_incident *inc);
/* Natural episodes of the ground truth (truth.c); no-ops without truth. */
void sim__truth_step(struct sim_world *w);
void sim__truth_vehicle_left(struct sim_world *w, int vi);
void sim__truth_seen(struct sim_world *w, int vi, uint32_t sensor, uint32_t obj);
int sim__truth_finish(struct sim_world *w);
void sim__truth_free(struct sim_world *w);
/* Gap (m) to the nearest closure, pedestrian, lane end or stopping stop line ahead. */
double sim__obstacle_ahead(const struct sim_world *w, int lane, double s, int self);
/* Does vehicle vi stand in a travel lane with nothing (vehicle @gap ahead,
 * stop line, closure, pedestrian, lane end) within truth stop_clear_m ahead?
 * The stopped-vehicle condition of the natural and the injected truth. */
int sim__stands_clear(const struct sim_world *w, int vi, double gap);
/* Sensors (sensor.c). */
int sim__sensors_init(struct sim_world *w);
void sim__sensors_step(struct sim_world *w, const struct sim_sink *sink);
void sim__sensors_free(struct sim_world *w);
/* Pedestrians (ped.c). */
int sim__peds_init(struct sim_world *w);
void sim__peds_step(struct sim_world *w);
int sim__ped_alloc(struct sim_world *w);

/* Name of a scenario; parse one (-EINVAL if unknown). */
const char *sim_scenario_name(int scn);
int sim_scenario_from_name(const char *name);

/*
 * sim_map_write() - write the road map of w as GeoJSON (format in
 * docs/simulator.md) to f.  Returns 0 or -EIO.
 */
int sim_map_write(const struct sim_world *w, FILE *f);

#endif
