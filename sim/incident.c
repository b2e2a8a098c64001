/* SPDX-License-Identifier: MIT */
/*
 * sim/incident.c - incidents on a schedule and their ground truth.  Each
 * type is a small state machine that takes over one or more road users (or
 * closes lanes) and records when its condition became detectable; the
 * definitions are in docs/simulator.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* The thresholds of the conditions are the natural truth's (struct sim_truth_config). */
#define HARD_BRAKE (w->cfg.truth.hard_brake_mps2)
#define TTC_S (w->cfg.truth.ttc_s)
#define STOP_MPS (w->cfg.truth.stop_mps)
#define RETRY_FOR 60.0
#define HB_MIN_S 2.0   /* injected hard braking lasts at least this long */
/*
 * Steps that hold at most this far apart are one run of an injected
 * collision risk (struct sim_run): a dip may miss gap_s of steps, as the
 * broker's collision detector restarts only on a sample not at risk more
 * than its grace after the latest at risk (broker/detect_collision.c).
 * The natural collision risk's run of observable steps allows gap_s
 * between two steps that hold - one step less; left so.
 */
#define CR_RUN_GAP_S (w->cfg.truth.gap_s + SIM_DT)

static double default_duration(int type)
{
	switch (type) {
	case V2X_EVT_STOPPED_VEHICLE: return 120;
	case V2X_EVT_WRONG_WAY: return 60;
	case V2X_EVT_SPEEDING: return 60;
	case V2X_EVT_CONGESTION: return 300;
	case V2X_EVT_VRU_ON_ROAD: return 20;
	case V2X_EVT_COLLISION_RISK: return 10;
	default: return 5;
	}
}

static int lane__ok(const struct sim_world *w, int ln, double s, double need)
{
	const struct sim_lane *l = &w->road.lane[ln];

	if (l->type != SIM_LANE_VEHICLE || l->connector || l->dead_end)
		return 0;
	/* Away from stop lines, where stopping is normal. */
	if (l->sig >= 0 && l->length - s < need)
		return 0;
	return l->length - s > 20 || l->next >= 0;
}

/* Distance (m, at most cap) from s on lane ln to where the vehicle leaves. */
static double to_exit(const struct sim_world *w, int ln, double s, double cap)
{
	double d = w->road.lane[ln].length - s;

	while (d < cap && !w->road.lane[ln].exit && w->road.lane[ln].next >= 0) {
		ln = w->road.lane[ln].next;
		d += w->road.lane[ln].length;
	}
	return d;
}

/* A random vehicle fit for an incident; detectable ones first. */
static int pick_vehicle(struct sim_world *w, double vmin, int want_left,
			int need_follower, int *follower, double free_ahead)
{
	int n = w->nveh;

	if (n == 0)
		return -1;
	for (int pass = 0; pass < 3; pass++) {
		int start = (int)sim_rng_below(&w->rng, (uint32_t)n);

		for (int j = 0; j < n; j++) {
			int vi = (start + j) % n;
			struct sim_vehicle *v = &w->veh[vi];
			const struct sim_lane *l;

			if (!v->active || v->incident >= 0 || v->wrong_way || v->v < vmin)
				continue;
			l = &w->road.lane[v->lane];
			if (!lane__ok(w, v->lane, v->s, 150))
				continue;
			if (pass == 0 && !(v->connected || v->seen_t >= w->t - 1.0))
				continue;
			if (pass < 2 && want_left && l->left >= 0)
				continue;
			if (pass < 2 && to_exit(w, v->lane, v->s, 3000) < (free_ahead > 0 ? 2500 : 600))
				continue;
			if (pass < 2 && free_ahead > 0) {
				double vl, gap = sim_world_leader(w, v->lane, v->s, vi, &vl, NULL);

				if (gap < free_ahead)
					continue;
			}
			if (need_follower) {
				int k = -1, f;

				for (int q = 0; q < l->nveh; q++)
					if (l->veh[q] == vi)
						k = q;
				if (k <= 0)
					continue;
				f = l->veh[k - 1];
				if (w->veh[f].incident >= 0 || w->veh[f].wrong_way ||
				    v->s - v->length - w->veh[f].s > 80 || w->veh[f].v < 3)
					continue;
				/* Detectable pairs first: the follower seen too. */
				if (pass == 0 && !(w->veh[f].connected ||
						   w->veh[f].seen_t >= w->t - 1.0))
					continue;
				*follower = f;
			}
			return vi;
		}
	}
	return -1;
}

static void inc__track_ids(struct sim_world *w, struct sim_incident *inc)
{
	for (int i = 0; i < inc->nveh; i++) {
		const struct sim_vehicle *v = &w->veh[inc->veh[i]];
		int seen = 0;

		if (!v->connected)
			continue;
		for (int j = 0; j < inc->ntemp; j++)
			seen |= inc->temp_ids[j] == v->temp_id;
		if (!seen && inc->ntemp < SIM_INC_IDS_MAX)
			inc->temp_ids[inc->ntemp++] = v->temp_id;
	}
}

static void inc__locate(struct sim_world *w, struct sim_incident *inc, double x,
			double y, int lane)
{
	sim_geo_to_ll(&w->geo, x, y, &inc->lat, &inc->lon);
	if (lane >= 0) {
		inc->lane = lane;
		inc->lane_id = w->road.lane[lane].id;
		inc->segment_id = w->road.lane[lane].segment;
	}
}

/*
 * Can the roadside know what vehicle vi does now: it sends BSMs, or a
 * roadside sensor reported it in its latest frames?  A condition is only
 * detectable while its road users are observable: a collision risk between
 * two vehicles that neither send BSMs nor are in a sensor's view is no
 * miss of the broker.
 */
int sim__observable(const struct sim_world *w, int vi)
{
	const struct sim_vehicle *v = &w->veh[vi];

	return v->connected || v->seen_t >= w->t - 0.25;
}

static void inc__detect(struct sim_world *w, struct sim_incident *inc, double x,
			double y, int lane)
{
	if (inc->detect_t >= 0)
		return;
	inc->detect_t = w->t;
	inc__locate(w, inc, x, y, lane);
}

static void inc__release(struct sim_world *w, struct sim_incident *inc)
{
	for (int i = 0; i < inc->nveh; i++) {
		struct sim_vehicle *v = &w->veh[inc->veh[i]];

		if (v->incident == inc->id - 1) {
			if (inc->type == V2X_EVT_SPEEDING) {
				v->amax = (float)inc->save[0];
				v->polite = (float)inc->save[1];
				v->b = (float)inc->save[2];
			}
			v->incident = -1;
			v->force_a = NAN;
			v->v0_override = 0;
			v->T_override = 0;
			v->hold_until = 0;
		}
	}
}

static void inc__end(struct sim_world *w, struct sim_incident *inc)
{
	inc->end_t = w->t;
	inc->state = SIM_INC_DONE;
	inc__release(w, inc);
	if (inc->obstacle >= 0)
		for (int i = inc->obstacle; i < w->nobstacle; i++)
			if (w->obstacle[i].active == inc->id)
				w->obstacle[i].active = 0;
	sim__incident_write(w, inc);
}

static int inc__obstacles(struct sim_world *w, struct sim_incident *inc, int n)
{
	if (w->nobstacle + n > (int)(sizeof(w->obstacle) / sizeof(w->obstacle[0])))
		return -1;
	inc->obstacle = w->nobstacle;
	for (int i = 0; i < n; i++) {
		w->obstacle[w->nobstacle + i].active = 0;
		w->obstacle[w->nobstacle + i].lane = -1;
	}
	w->nobstacle += n;
	return 0;
}

/* The lanes of lane ln's segment, rightmost first; returns their count. */
static int segment_lanes(const struct sim_world *w, int ln, int *out, int max)
{
	int n = 0;

	while (w->road.lane[ln].right >= 0 && w->road.lane[w->road.lane[ln].right].index >= 0)
		ln = w->road.lane[ln].right;
	while (ln >= 0 && n < max) {
		out[n++] = ln;
		ln = w->road.lane[ln].left;
	}
	return n;
}

static int inc__start(struct sim_world *w, struct sim_incident *inc)
{
	int idx = inc->id - 1, vi, f = -1;
	struct sim_vehicle *v;

	if (inc->duration <= 0)
		inc->duration = default_duration(inc->type);
	switch (inc->type) {
	case V2X_EVT_STOPPED_VEHICLE:
	case V2X_EVT_HARD_BRAKING:
	case V2X_EVT_SPEEDING:
	case V2X_EVT_WRONG_WAY:
		vi = pick_vehicle(w, inc->type == V2X_EVT_WRONG_WAY ? 0 :
				  inc->type == V2X_EVT_HARD_BRAKING ? 10.0 : 5.0,
				  inc->type == V2X_EVT_WRONG_WAY, 0, NULL,
				  inc->type == V2X_EVT_SPEEDING ? 300 : 0);
		if (vi < 0) {
			snprintf(inc->why, sizeof(inc->why), "no moving vehicle away from stop lines");
			return -1;
		}
		v = &w->veh[vi];
		inc->veh[inc->nveh++] = vi;
		v->incident = idx;
		if (inc->type == V2X_EVT_STOPPED_VEHICLE) {
			v->force_a = -3.0;
		} else if (inc->type == V2X_EVT_HARD_BRAKING) {
			/*
			 * Down to 40 % of the speed, but for at least
			 * HB_MIN_S of braking (to a stop if it is slow).
			 */
			v->force_a = -6.5;
			inc->timer = fmin(v->v * 0.4, v->v - 6.5 * HB_MIN_S);
			if (inc->timer < 0)
				inc->timer = 0;
		} else if (inc->type == V2X_EVT_SPEEDING) {
			/* An aggressive driver: fast, close, brakes late and hard. */
			v->v0_override = 1.6 * w->road.lane[v->lane].speed_limit;
			v->T_override = 0.8;
			inc->save[0] = v->amax; /* restored at the end */
			inc->save[1] = v->polite;
			inc->save[2] = v->b;
			v->amax = 3.0f;
			v->b = 4.0f;
			v->polite = 0.0f;
		} else {
			/* It has turned (or come up an exit ramp) and drives on. */
			v->wrong_way = 1;
			v->v = 0.3 * w->road.lane[v->lane].speed_limit;
			v->v0_override = 0.6 * w->road.lane[v->lane].speed_limit;
		}
		inc__locate(w, inc, v->x, v->y, v->lane);
		break;
	case V2X_EVT_COLLISION_RISK:
		vi = pick_vehicle(w, 8.0, 0, 1, &f, 0);
		if (vi < 0) {
			snprintf(inc->why, sizeof(inc->why), "no leader-follower pair");
			return -1;
		}
		inc->veh[inc->nveh++] = vi;
		inc->veh[inc->nveh++] = f;
		w->veh[vi].incident = idx;
		w->veh[f].incident = idx;
		/* The follower closes up to a tailgating headway. */
		w->veh[f].T_override = 0.3;
		w->veh[f].v0_override = 1.2 * w->road.lane[w->veh[f].lane].speed_limit;
		inc__locate(w, inc, w->veh[vi].x, w->veh[vi].y, w->veh[vi].lane);
		break;
	case V2X_EVT_CONGESTION: {
		int lanes[16], n, start, found = -1;

		start = (int)sim_rng_below(&w->rng, (uint32_t)w->road.nlane);
		for (int j = 0; j < w->road.nlane && found < 0; j++) {
			int ln = (start + j) % w->road.nlane;
			const struct sim_lane *l = &w->road.lane[ln];

			if (l->type != SIM_LANE_VEHICLE || l->connector || l->dead_end ||
			    l->index != 0 || l->length < 200 || l->entry)
				continue;
			found = ln;
		}
		if (found < 0) {
			snprintf(inc->why, sizeof(inc->why), "no road section of 200 m");
			return -1;
		}
		n = segment_lanes(w, found, lanes, 16);
		if (inc__obstacles(w, inc, n > 1 ? n - 1 : 1) < 0) {
			snprintf(inc->why, sizeof(inc->why), "too many obstacles");
			return -1;
		}
		inc->s = w->road.lane[found].length * 0.6;
		inc->nclosed = 0;
		for (int i = 0; i < (n > 1 ? n - 1 : 1); i++) {
			struct sim_obstacle *o = &w->obstacle[inc->obstacle + i];

			o->lane = lanes[i];
			o->from = inc->s;
			o->to = inc->s + 60;
			o->active = inc->id;
			inc->closed_lane_id[inc->nclosed++] = w->road.lane[lanes[i]].id;
		}
		inc->closed_from = inc->s;
		inc->closed_to = inc->s + 60;
		{
			double x, y, h;

			sim_lane_point(&w->road.lane[found], inc->s + 30, 0, &x, &y, &h, NULL);
			sim_geo_to_ll(&w->geo, x, y, &inc->closed_lat, &inc->closed_lon);
			sim_lane_point(&w->road.lane[lanes[0]], inc->s, 0, &x, &y, &h, NULL);
			sim_geo_to_ll(&w->geo, x, y, &inc->closed_start_lat,
				      &inc->closed_start_lon);
			sim_lane_point(&w->road.lane[found], inc->s, 0, &x, &y, &h, NULL);
			inc__locate(w, inc, x, y, found);
		}
		break;
	}
	case V2X_EVT_VRU_ON_ROAD: {
		int lanes[16], n, ln = -1, pi;
		double s = 0, x, y, h, lw;
		struct sim_ped *p;

		/* Somewhere a sensor sees, away from crosswalks and stop lines. */
		for (int pass = 0; pass < 2 && ln < 0; pass++) {
			int start = (int)sim_rng_below(&w->rng, (uint32_t)w->road.nlane);

			for (int j = 0; j < w->road.nlane && ln < 0; j++) {
				int c = (start + j) % w->road.nlane;
				const struct sim_lane *l = &w->road.lane[c];

				if (l->type != SIM_LANE_VEHICLE || l->connector || l->dead_end ||
				    l->index != 0 || l->length < 120)
					continue;
				for (double q = 50; q < l->length - 60 && ln < 0; q += 10) {
					sim_lane_point(l, q, 0, &x, &y, &h, NULL);
					for (int si = 0; si < w->nsensor && pass == 0; si++) {
						const struct sim_sensor *sn = &w->sensor[si];
						double dx = x - sn->x, dy = y - sn->y;
						double ang = remainder(atan2(dx, dy) - sn->heading, 2 * M_PI);

						if (hypot(dx, dy) < sn->range * 0.8 &&
						    (sn->half_fov >= M_PI || fabs(ang) < sn->half_fov * 0.7)) {
							ln = c;
							s = q;
							break;
						}
					}
					if (pass == 1) {
						ln = c;
						s = q;
					}
				}
			}
		}
		if (ln < 0) {
			snprintf(inc->why, sizeof(inc->why), "no road section of 120 m");
			return -1;
		}
		n = segment_lanes(w, ln, lanes, 16);
		if (inc__obstacles(w, inc, n) < 0) {
			snprintf(inc->why, sizeof(inc->why), "too many obstacles");
			return -1;
		}
		pi = sim__ped_alloc(w);
		if (pi < 0) {
			snprintf(inc->why, sizeof(inc->why), "out of memory");
			return -1;
		}
		p = &w->ped[pi];
		lw = w->road.lane[ln].width;
		sim_lane_point(&w->road.lane[ln], s, -(lw / 2 + 2.0), &x, &y, &h, NULL);
		p->active = 1;
		p->on_road = 1;
		p->cls = V2X_CLASS_PEDESTRIAN;
		p->incident = idx;
		p->speed = 1.2;
		p->rx = x;
		p->ry = y;
		/* Walk to the left of the traffic: the left normal of heading h. */
		p->ux = -cos(h);
		p->uy = sin(h);
		p->total = 2.0 + n * lw + 2.0;
		p->pause_at = 2.0 + lw * (n > 1 ? 1.5 : 0.5);
		p->pause_left = inc->duration;
		p->x = x;
		p->y = y;
		inc->ped = pi;
		inc->lane = ln;
		inc->s = s;
		inc__locate(w, inc, x, y, ln);
		break;
	}
	default:
		snprintf(inc->why, sizeof(inc->why), "unknown type");
		return -1;
	}
	inc->start_t = w->t;
	inc->state = SIM_INC_ACTIVE;
	return 0;
}

/* Speeding on lane ln: above limit + max(tolerance %, tolerance km/h). */
static double speeding_threshold(const struct sim_world *w, int ln)
{
	double limit = w->road.lane[ln].speed_limit;

	return limit + fmax(limit * w->cfg.truth.speed_tol_pct / 100.0,
			    w->cfg.truth.speed_tol_kph / 3.6);
}

static double ttc(const struct sim_vehicle *lead, const struct sim_vehicle *fol)
{
	double gap = lead->s - lead->length - fol->s;
	double closing = fol->v - lead->v;

	if (gap <= 0)
		return 0;
	return closing > 0 ? gap / closing : INFINITY;
}

static void inc__step(struct sim_world *w, struct sim_incident *inc)
{
	struct sim_vehicle *v = inc->nveh ? &w->veh[inc->veh[0]] : NULL;
	double elapsed = w->t - inc->start_t;
	int holds; /* the type's condition holds this step, while observable */

	inc__track_ids(w, inc);
	switch (inc->type) {
	case V2X_EVT_STOPPED_VEHICLE:
		if (!v->active) {
			inc__end(w, inc);
			break;
		}
		if (inc->phase == 0 && v->v < STOP_MPS) {
			inc->phase = 1;
			inc->timer = w->t;
			/* Where it stands, detectable or not. */
			inc__locate(w, inc, v->x, v->y, v->lane);
		}
		/*
		 * Detectable once it stands, while observable, with no
		 * vehicle slower than truth stop_lead_mps and nothing else
		 * (stop line, closure, pedestrian, lane end) within truth
		 * stop_clear_m ahead (sim__stands_clear(), the natural
		 * episodes' condition) for truth stop_min_s (dips under
		 * gap_s do not break it), from the onset of that run - the
		 * rule of a natural stopped vehicle, whose episode is
		 * written only once it lasted stop_min_s (truth.c,
		 * truth__close(): last step + SIM_DT - onset).  A breakdown
		 * that stops 9 m behind a standing car in a queue
		 * (intersection seed 4, incident 8; seed 25, incident 15, 18
		 * m behind one for 21 s) is a car waiting in the queue to
		 * anyone, the broker's detector included (docs/events.md):
		 * it becomes a stopped vehicle once the queue ahead has
		 * moved off.  A vehicle that cut in ahead and drives off
		 * faster than stop_lead_mps (the broker's jam_speed_mps) is
		 * no reason to wait: counting one (nothing at all within
		 * stop_clear_m, the natural rule) made broker events for
		 * breakdowns that such a car had just passed early, i.e.
		 * false (390c2ac, reverted).  Placed where it stood at that
		 * onset.
		 */
		if (inc->phase == 1 && inc->detect_t < 0) {
			double vl, gap = sim_world_leader(w, v->lane, v->s, inc->veh[0], &vl, NULL);

			if (vl >= w->cfg.truth.stop_lead_mps)
				gap = INFINITY;

			holds = sim__stands_clear(w, inc->veh[0], gap) &&
				sim__observable(w, inc->veh[0]);
			if (sim_run_step(&inc->cond, w->t, holds, w->cfg.truth.gap_s))
				inc__locate(w, inc, v->x, v->y, v->lane);
			if (holds && sim_run_span(&inc->cond, w->t) + SIM_DT >=
				     w->cfg.truth.stop_min_s - 1e-9)
				inc->detect_t = inc->cond.t0;
		}
		if (inc->phase == 1 && w->t - inc->timer >= inc->duration) {
			v->force_a = NAN;
			inc->phase = 2;
		} else if (inc->phase == 2 && v->v > STOP_MPS) {
			inc__end(w, inc);
		}
		break;
	case V2X_EVT_HARD_BRAKING:
		if (!v->active) {
			inc__end(w, inc);
			break;
		}
		/*
		 * Detectable from the first step beyond the threshold while
		 * observable: at once for a connected vehicle (its BSMs carry
		 * eventHardBraking from that step); a vehicle only a sensor
		 * sees, once it has been seen braking so for truth
		 * brake_obs_s in all (the broker's window_ms: a sensor
		 * reports speeds, and a deceleration is their slope over that
		 * window).  Highway seed 15, incident 2: a car a radar saw at
		 * the end of its range for the first 0.4 s of a 2.2 s braking
		 * (observable 0.7 s) was called detectable at its first step;
		 * no speeds of it braking beyond those five frames existed.
		 */
		holds = v->a < -HARD_BRAKE && sim__observable(w, inc->veh[0]);
		/* Placed where it was first seen braking. */
		if (sim_run_step(&inc->cond, w->t, holds, INFINITY))
			inc__locate(w, inc, v->x, v->y, v->lane);
		if (holds && inc->detect_t < 0 &&
		    (v->connected || inc->cond.held >= w->cfg.truth.brake_obs_s - 1e-9))
			inc->detect_t = inc->cond.t0;
		if (inc->phase == 0 && (v->v <= inc->timer || v->v <= 0 || elapsed > 4.0)) {
			v->force_a = NAN;
			inc->phase = 1;
		} else if (inc->phase == 1 && v->a >= -HARD_BRAKE) {
			inc__end(w, inc);
		}
		break;
	case V2X_EVT_SPEEDING:
		if (!v->active) {
			inc__end(w, inc);
			break;
		}
		/*
		 * Speeding is a speed over the threshold, sustained: detectable
		 * from the onset of a run over it while observable that held
		 * truth speed_min_s (the broker's persist_ms; dips, or gaps
		 * in what is observable, under gap_s do not break it), as a
		 * natural episode must, and placed at that onset.  Highway
		 * seed 16, incident 11: a car no BSM reported crossed the
		 * threshold 0.1 s before it left radar 4's view and was seen
		 * again only 17.6 s later - called detectable at the first of
		 * those steps, and "detected 18.4 s late".  Intersection seed
		 * 16, incident 11: a speeder held behind slower traffic for
		 * 46 s crossed the threshold 0.4 s before it left the network
		 * - no sustained speeding anybody could have seen.  Steps
		 * over it at most gap_s apart are one run, as the broker's
		 * speeding detector has it: a sample over the threshold more
		 * than its grace after the latest one over starts its clock
		 * again (broker/detect_speeding.c) - a dip of three steps
		 * (0.4 s between two steps over it) is not under gap_s.
		 */
		holds = v->v > speeding_threshold(w, v->lane) &&
			sim__observable(w, inc->veh[0]);
		if (sim_run_step(&inc->cond, w->t, holds, w->cfg.truth.gap_s) &&
		    inc->detect_t < 0)
			inc__locate(w, inc, v->x, v->y, v->lane);
		if (holds && inc->detect_t < 0 &&
		    sim_run_span(&inc->cond, w->t) >= w->cfg.truth.speed_min_s - 1e-9)
			inc->detect_t = inc->cond.t0;
		if (!(v->v > speeding_threshold(w, v->lane)) && inc->phase == 1) {
			inc__end(w, inc);
			break;
		}
		if (inc->phase == 0 && elapsed >= inc->duration) {
			v->v0_override = 0;
			v->T_override = 0;
			inc->phase = 1;
		}
		break;
	case V2X_EVT_WRONG_WAY:
		if (!v->active) {
			inc__end(w, inc);
			break;
		}
		/*
		 * Wrong way is heading against the lane, sustained, above
		 * walking speed: detectable from the onset of driving
		 * against the lane faster than truth ww_mps (the broker's
		 * min_speed_mps) once that has lasted, while observable,
		 * truth ww_min_s in all (its persistence; standing in
		 * between keeps what was driven, as the broker's evidence
		 * does).  A driver that turns and stops at once - faster
		 * than walking pace for 0.6 s, then standing in the lane
		 * for a minute (intersection seed 6, incident 10) - shows no wrong-way
		 * motion: its heading alone, standing, is no evidence (a
		 * standing vehicle's GNSS heading is unreliable).
		 *
		 * It is placed at the onset of the stretch of that driving
		 * (dips under gap_s do not split one) in which the total
		 * reached ww_min_s, not at the first step it ever held: a
		 * driver that turned, braked at once for the traffic it met
		 * (faster than walking pace for 0.3 s), stood facing it for
		 * 48 s and then drove off against the lane (intersection
		 * seed 23, incident 10) could be told from a standing car
		 * only once it drove off - called detectable at the turn,
		 * it was "detected 53.4 s late" at 1 s of driving.  A driver
		 * that drives on from its onset: the same onset as before.
		 */
		holds = v->v > w->cfg.truth.ww_mps && sim__observable(w, inc->veh[0]);
		sim_run_step(&inc->cond, w->t, holds, INFINITY);
		sim_run_step(&inc->stretch, w->t, holds, w->cfg.truth.gap_s);
		if (holds && inc->detect_t < 0 &&
		    inc->cond.held >= w->cfg.truth.ww_min_s - 1e-9) {
			inc__detect(w, inc, v->x, v->y, v->lane);
			inc->detect_t = inc->stretch.t0;
		}
		if (elapsed >= inc->duration) {
			/* It leaves the road (turns off or is stopped by police). */
			sim__vehicle_remove(w, inc->veh[0]); /* ends inc */
		}
		break;
	case V2X_EVT_COLLISION_RISK: {
		struct sim_vehicle *f = &w->veh[inc->veh[1]];
		double tc, gap;
		int seen;

		if (!v->active || !f->active || f->lane != v->lane) {
			if (inc->phase < 2 && (!v->active || !f->active || elapsed > 60)) {
				inc__end(w, inc);
				break;
			}
		}
		gap = v->s - v->length - f->s;
		tc = f->lane == v->lane ? ttc(v, f) : INFINITY;
		seen = sim__observable(w, inc->veh[0]) && sim__observable(w, inc->veh[1]);
		/*
		 * Once the follower has closed up (or after 30 s), the leader
		 * brakes where the roadside can see the pair, if that comes
		 * within a minute: an incident out of every sensor's view
		 * between unconnected vehicles could not be detected.
		 */
		if (inc->phase == 0 &&
		    ((((f->lane == v->lane && gap < 0.5 * f->v + 2.0) || elapsed > 30) && seen) ||
		     elapsed > 60)) {
			/* The leader brakes hard; the follower reacts 1.2 s late. */
			v->force_a = -8.0;
			f->hold_until = w->t + 1.2;
			inc->phase = 1;
			inc->timer = w->t;
			inc__locate(w, inc, f->x, f->y, f->lane);
		} else if (inc->phase == 1 && (v->v < 1.0 || w->t - inc->timer > 4)) {
			v->force_a = NAN;
			f->T_override = 0;
			f->v0_override = 0;
			inc->phase = 2;
		}
		/*
		 * Detectable from the onset of a time to collision under the
		 * threshold that held, with both observable, for truth
		 * ttc_min_s (dips under gap_s do not break it), as a natural
		 * episode must: a pair whose leader leaves the last sensor's
		 * view 0.1 s after the onset could be seen by nobody.
		 */
		holds = inc->phase >= 1 && tc < TTC_S && seen;
		sim_run_step(&inc->cond, w->t, holds, CR_RUN_GAP_S);
		if (holds && inc->detect_t < 0 &&
		    sim_run_span(&inc->cond, w->t) >= w->cfg.truth.ttc_min_s - 1e-9) {
			inc__detect(w, inc, f->x, f->y, f->lane);
			inc->detect_t = inc->cond.t0;
		}
		if (inc->phase == 2 && (tc >= TTC_S || (f->v < STOP_MPS && v->v < STOP_MPS)) &&
		    w->t - inc->timer > 1.0)
			inc__end(w, inc);
		break;
	}
	case V2X_EVT_CONGESTION: {
		int lanes[16], n = segment_lanes(w, w->obstacle[inc->obstacle].lane, lanes, 16);
		double sum = 0, limit = w->road.lane[lanes[0]].speed_limit;
		int cnt = 0, nobs = 0, cond, obs[SIM_INC_IDS_MAX];

		for (int i = 0; i < n; i++) {
			const struct sim_lane *l = &w->road.lane[lanes[i]];

			for (int k = 0; k < l->nveh; k++) {
				const struct sim_vehicle *q = &w->veh[l->veh[k]];

				if (q->s > inc->s)
					continue;
				if (q->s >= inc->s - 300) {
					sum += q->v;
					cnt++;
				}
				/* The queue: the 300 m before the closure, and the
				 * slow vehicles behind it where it has spilled back
				 * (maybe into a sensor's view near a junction). */
				if ((q->s >= inc->s - 300 || q->v < w->cfg.truth.jam_ratio * limit) &&
				    sim__observable(w, l->veh[k]) && nobs < SIM_INC_IDS_MAX)
					obs[nobs++] = l->veh[k];
			}
		}
		cond = cnt >= 5 && sum / cnt < 0.4 * limit;
		/*
		 * Detectable once the queue is observable: at least
		 * --truth-jam-min-vehicles of its vehicles (the 300 m before the
		 * closure, and the slow ones farther back: a queue spilled back
		 * to a junction is in its sensor's view) send BSMs or are in a
		 * sensor's latest frames at once, the least a bin of the
		 * natural congestion truth needs (highway seed 4, incident 19:
		 * 16 vehicles queued, 2 connected, no sensor in range - at most
		 * 1 observable at any time, yet called detectable).  The onset
		 * (start_ts) stays the closure's; the temp ids are those of the
		 * connected vehicles of the queue at that moment.
		 */
		if (cond && inc->detect_t < 0 && nobs >= w->cfg.truth.jam_min_vehicles) {
			double x, y, h;

			for (int i = 0; i < nobs && inc->ntemp < SIM_INC_IDS_MAX; i++)
				if (w->veh[obs[i]].connected)
					inc->temp_ids[inc->ntemp++] = w->veh[obs[i]].temp_id;
			sim_lane_point(&w->road.lane[lanes[0]], inc->s, 0, &x, &y, &h, NULL);
			inc__detect(w, inc, x, y, lanes[0]);
		}
		if (inc->phase == 0 && elapsed >= inc->duration) {
			for (int i = inc->obstacle; i < w->nobstacle; i++)
				if (w->obstacle[i].active == inc->id)
					w->obstacle[i].active = 0;
			inc->phase = 1;
			inc->timer = w->t;
		}
		if (inc->phase == 1 && (!cond || w->t - inc->timer > 600))
			inc__end(w, inc);
		break;
	}
	case V2X_EVT_VRU_ON_ROAD: {
		struct sim_ped *p = &w->ped[inc->ped];
		int lanes[16], n = segment_lanes(w, inc->lane, lanes, 16);
		double lw = w->road.lane[inc->lane].width;
		double lat = p->walked - (2.0 + lw / 2); /* from lane 0's centre */

		for (int i = 0; i < n; i++) {
			struct sim_obstacle *o = &w->obstacle[inc->obstacle + i];
			int in = p->active && fabs(lat - i * lw) < lw / 2 + 0.5;

			o->lane = lanes[i];
			o->from = inc->s - 1.0;
			o->to = inc->s + 1.0;
			o->active = in ? inc->id : 0;
		}
		if (lat > -lw / 2 && p->active)
			inc__detect(w, inc, p->x, p->y, inc->lane);
		if (!p->active || lat > (n - 0.5) * lw)
			inc__end(w, inc);
		break;
	}
	default:
		inc__end(w, inc);
	}
}

/*
 * sim__incident_vehicle_left() - vehicle vi leaves the road: the incident
 * that holds it (if any) ends now.
 */
void sim__incident_vehicle_left(struct sim_world *w, int vi)
{
	int idx = w->veh[vi].incident;

	if (idx >= 0 && idx < w->ninc && w->inc[idx].state == SIM_INC_ACTIVE)
		inc__end(w, &w->inc[idx]);
}

/*
 * sim__incidents_step() - start due incidents, advance active ones.
 */
void sim__incidents_step(struct sim_world *w)
{
	for (int i = 0; i < w->ninc; i++) {
		struct sim_incident *inc = &w->inc[i];

		if (inc->state == SIM_INC_PENDING && w->t >= inc->at) {
			if (inc__start(w, inc) < 0 && w->t > inc->at + RETRY_FOR) {
				inc->state = SIM_INC_FAILED;
				sim__incident_write(w, inc);
			}
		} else if (inc->state == SIM_INC_ACTIVE) {
			inc__step(w, inc);
		}
	}
}

/*
 * sim__incident_write() - one ground-truth line for inc, if a truth file
 * is open ("kind":"marginal" for a marginal collision risk, sim/truth.c).
 * Times are wall-clock ns; a condition never detected has detectable_ts 0.
 */
void sim__incident_write(struct sim_world *w, struct sim_incident *inc)
{
	FILE *f = w->truth;

	if (!f)
		return;
	if (inc->state == SIM_INC_FAILED) {
		fprintf(f, "{\"kind\":\"incident_skipped\",\"id\":%d,\"type\":\"%s\","
			   "\"at_ts\":%llu,\"reason\":\"%s\"}\n",
			inc->id, v2x_event_type_name(inc->type),
			(unsigned long long)sim_world_ns(w, inc->at), inc->why);
		return;
	}
	fprintf(f, "{\"kind\":\"%s\",\"id\":%d,\"type\":\"%s\",\"start_ts\":%llu,"
		   "\"detectable_ts\":%llu,\"end_ts\":%llu,\"lat\":%.7f,\"lon\":%.7f,"
		   "\"lane\":%d,\"segment\":%d,\"cause\":\"%s\",",
		inc->marginal ? "marginal" : "incident", inc->id, v2x_event_type_name(inc->type),
		(unsigned long long)sim_world_ns(w, inc->start_t),
		(unsigned long long)(inc->detect_t >= 0 ? sim_world_ns(w, inc->detect_t) : 0),
		(unsigned long long)sim_world_ns(w, inc->end_t >= 0 ? inc->end_t : w->t),
		inc->lat, inc->lon, inc->lane_id, inc->segment_id,
		inc->natural ? "natural" : "injected");
	if (inc->type == V2X_EVT_CONGESTION && inc->nclosed > 0) {
		fprintf(f, "\"closure\":{\"lat\":%.7f,\"lon\":%.7f,\"from_s\":%.1f,"
			   "\"to_s\":%.1f,\"length_m\":%.1f,\"lanes\":[",
			inc->closed_lat, inc->closed_lon, inc->closed_from, inc->closed_to,
			inc->closed_to - inc->closed_from);
		for (int i = 0; i < inc->nclosed; i++)
			fprintf(f, "%s%d", i ? "," : "", inc->closed_lane_id[i]);
		fputs("]},", f);
	}
	fputs("\"vehicles\":[", f);
	for (int i = 0; i < inc->nveh; i++)
		fprintf(f, "%s%u", i ? "," : "", w->veh[inc->veh[i]].id);
	fputs("],\"temp_ids\":[", f);
	for (int i = 0; i < inc->ntemp; i++)
		fprintf(f, "%s%u", i ? "," : "", inc->temp_ids[i]);
	fputs("],\"sensor_objects\":[", f);
	for (int i = 0; i < inc->nsobj; i++)
		fprintf(f, "%s{\"sensor\":%u,\"id\":%u}", i ? "," : "", inc->sobj_sensor[i],
			inc->sobj_id[i]);
	fputs("]}\n", f);
}

/*
 * sim_world_truth_header() - see sim.h.
 */
void sim_world_truth_header(struct sim_world *w)
{
	if (!w->truth)
		return;
	fprintf(w->truth,
		"{\"kind\":\"run\",\"scenario\":\"%s\",\"seed\":%llu,\"start_ts\":%llu,"
		"\"reference\":{\"lat\":%.7f,\"lon\":%.7f},\"step_ms\":100,"
		"\"vehicles\":%d,\"penetration\":%.3f,\"duration_s\":%.1f,"
		"\"lanes\":%d,\"signals\":%d,\"sensors\":%d,\"pedestrians\":%d,"
		"\"speed_limit_kph\":%.1f}\n",
		sim_scenario_name(w->cfg.scenario), (unsigned long long)w->cfg.seed,
		(unsigned long long)w->cfg.start_ns, w->cfg.ref_lat, w->cfg.ref_lon,
		w->cfg.vehicles, w->cfg.penetration, w->cfg.duration, w->road.nlane,
		w->nsig, w->nsensor, w->nped, w->speed_limit * 3.6);
}

/*
 * sim_world_finish() - see sim.h.
 */
void sim_world_finish(struct sim_world *w)
{
	int written = 0, natural;

	for (int i = 0; i < w->ninc; i++) {
		struct sim_incident *inc = &w->inc[i];

		if (inc->state == SIM_INC_ACTIVE) {
			inc->end_t = w->t;
			sim__incident_write(w, inc);
		}
		written += inc->state != SIM_INC_PENDING;
	}
	natural = sim__truth_finish(w);
	if (!w->truth)
		return;
	fprintf(w->truth,
		"{\"kind\":\"summary\",\"end_ts\":%llu,\"sim_time_s\":%.1f,\"bsm\":%llu,"
		"\"objects_frames\":%llu,\"objects\":%llu,\"spat\":%llu,\"entered\":%llu,"
		"\"exited\":%llu,\"present\":%d,\"incidents\":%d,\"natural\":%d,\"collisions\":%llu,"
		"\"red_crossings\":%llu,\"lane_changes\":%llu}\n",
		(unsigned long long)sim_world_ns(w, w->t), w->t,
		(unsigned long long)w->ctr.bsm, (unsigned long long)w->ctr.objects_frames,
		(unsigned long long)w->ctr.objects, (unsigned long long)w->ctr.spat,
		(unsigned long long)w->ctr.entered, (unsigned long long)w->ctr.exited,
		sim_world_present(w), written, natural, (unsigned long long)w->ctr.collisions,
		(unsigned long long)w->ctr.red_crossings,
		(unsigned long long)w->ctr.lane_changes);
	fflush(w->truth);
}
