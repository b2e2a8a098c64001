/* SPDX-License-Identifier: MIT */
/*
 * sim/sim.c - the world and its fixed-step loop: car following, lane
 * changes, lane transitions, entries and exits, and BSM emission.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define LOOKAHEAD 250.0
#define LAT_SPEED 1.0   /* m/s lateral speed during a lane change */
#define LC_COOLDOWN 4.0 /* s between lane changes of one vehicle */

static const char *const scenario_names[] = { "highway", "intersection", "grid" };

/*
 * sim_scenario_name() - "highway", "intersection", "grid"; "?" otherwise.
 */
const char *sim_scenario_name(int scn)
{
	if (scn < 0 || scn > SIM_SCN_GRID)
		return "?";
	return scenario_names[scn];
}

/*
 * sim_scenario_from_name() - the enum value of name, or -EINVAL.
 */
int sim_scenario_from_name(const char *name)
{
	for (int i = 0; i <= SIM_SCN_GRID; i++)
		if (!strcmp(name, scenario_names[i]))
			return i;
	return -EINVAL;
}

/*
 * sim_config_default() - see sim.h.
 */
void sim_config_default(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->scenario = SIM_SCN_HIGHWAY;
	cfg->vehicles = 200;
	cfg->penetration = 1.0;
	cfg->seed = 1;
	cfg->ref_lat = 30.5928;
	cfg->ref_lon = 114.3055;
	cfg->ramp = 1;
	cfg->curvature = 1.0 / 2000.0;
	cfg->block = 300;
	cfg->spacing = 40;
	cfg->truck_share = 0.08;
	cfg->bus_share = 0.03;
	cfg->peds = -1;
	cfg->cyclists = -1;
	cfg->gnss_sigma = 0.5;
	cfg->start_ns = 1767225600ull * 1000000000ull; /* 2026-01-01T00:00:00Z */
	cfg->duration = 60;
	cfg->nsensors = -1;
	cfg->truth.hard_brake_mps2 = 4.0;
	cfg->truth.hard_brake_merge_s = 2.0;
	cfg->truth.ttc_s = 1.5;
	cfg->truth.ttc_min_s = 0.8;
	cfg->truth.stop_mps = 0.5;
	cfg->truth.stop_min_s = 0.8;
	cfg->truth.stop_clear_m = 20.0;
	cfg->truth.stop_lead_mps = 5.0;
	cfg->truth.speed_tol_pct = 10;
	cfg->truth.speed_tol_kph = 5;
	cfg->truth.speed_min_s = 0.8;
	cfg->truth.brake_obs_s = 1.0;
	cfg->truth.ww_mps = 2.5;
	cfg->truth.ww_min_s = 1.0;
	cfg->truth.jam_ratio = 0.5;
	cfg->truth.jam_min_vehicles = 4;
	cfg->truth.jam_bin_m = 200;
	cfg->truth.jam_min_s = 1.0;
	cfg->truth.jam_clear_s = 5.0;
	cfg->truth.gap_s = 0.3;
}

static int world__grow_veh(struct sim_world *w)
{
	int ncap = w->capveh ? w->capveh * 2 : 256;
	void *p = realloc(w->veh, (size_t)ncap * sizeof(*w->veh));

	if (!p)
		return -ENOMEM;
	w->veh = p;
	w->capveh = ncap;
	return 0;
}

static int lane__insert(struct sim_lane *l, int vi, const struct sim_vehicle *veh)
{
	int k;

	if (l->nveh == l->capveh) {
		int ncap = l->capveh ? l->capveh * 2 : 16;
		int *p = realloc(l->veh, (size_t)ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->veh = p;
		l->capveh = ncap;
	}
	k = l->nveh;
	while (k > 0 && veh[l->veh[k - 1]].s > veh[vi].s) {
		l->veh[k] = l->veh[k - 1];
		k--;
	}
	l->veh[k] = vi;
	l->nveh++;
	return 0;
}

static void lane__remove(struct sim_lane *l, int vi)
{
	for (int k = 0; k < l->nveh; k++) {
		if (l->veh[k] == vi) {
			memmove(&l->veh[k], &l->veh[k + 1],
				(size_t)(l->nveh - k - 1) * sizeof(int));
			l->nveh--;
			return;
		}
	}
}

/* Index of the first vehicle on l whose s is > s (binary search). */
static int lane__upper(const struct sim_lane *l, const struct sim_vehicle *veh,
		       double s)
{
	int lo = 0, hi = l->nveh;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (veh[l->veh[mid]].s > s)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static double vehicle__speed_along(const struct sim_vehicle *v)
{
	return v->wrong_way ? -v->v : v->v;
}

/* The leader search from index k of lane (the first candidate). */
static double world__leader_from(const struct sim_world *w, int lane, double s,
				 int self, int k, double *vl, int *leader)
{
	const struct sim_lane *l = &w->road.lane[lane];
	double dist;

	while (k < l->nveh && l->veh[k] == self)
		k++;
	if (k < l->nveh) {
		const struct sim_vehicle *ld = &w->veh[l->veh[k]];

		*vl = vehicle__speed_along(ld);
		if (leader)
			*leader = l->veh[k];
		return ld->s - ld->length - s;
	}
	dist = l->length - s;
	for (int ln = l->next; ln >= 0 && dist < LOOKAHEAD; ln = w->road.lane[ln].next) {
		const struct sim_lane *nl = &w->road.lane[ln];

		for (int j = 0; j < nl->nveh; j++) {
			const struct sim_vehicle *ld = &w->veh[nl->veh[j]];

			if (nl->veh[j] == self)
				continue;
			*vl = vehicle__speed_along(ld);
			if (leader)
				*leader = nl->veh[j];
			return dist + ld->s - ld->length;
		}
		dist += nl->length;
	}
	*vl = 0;
	if (leader)
		*leader = -1;
	return INFINITY;
}

/*
 * sim_world_leader() - see sim.h.  Vehicles only; obstacles and stop lines
 * are in world__obstacle().
 */
double sim_world_leader(const struct sim_world *w, int lane, double s,
			int self, double *vl, int *leader)
{
	return world__leader_from(w, lane, s, self,
				  lane__upper(&w->road.lane[lane], w->veh, s), vl, leader);
}

/* Does the signal at the end of lane ln stop vehicle self? */
static int world__must_stop(const struct sim_world *w, int ln, int self)
{
	const struct sim_lane *l = &w->road.lane[ln];
	int light;

	if (l->sig < 0)
		return 0;
	light = sim_signal_light(&w->sig[l->sig], l->signal_group, w->t, NULL);
	if (light == SIM_LIGHT_GREEN)
		return 0;
	if (self >= 0 && w->veh[self].committed == ln)
		return 0;
	return 1;
}

/*
 * Nearest static obstacle ahead of s on lane (a closure, a pedestrian, a
 * dead end, a stop line that stops self): the gap, INFINITY if none.
 */
static double world__obstacle(const struct sim_world *w, int lane, double s,
			      int self)
{
	double best = INFINITY, dist = 0;
	int ln = lane;
	double from = s;

	while (ln >= 0 && dist < LOOKAHEAD) {
		const struct sim_lane *l = &w->road.lane[ln];

		for (int i = 0; i < w->nobstacle; i++) {
			const struct sim_obstacle *o = &w->obstacle[i];

			if (!o->active || o->lane != ln || o->from < from)
				continue;
			if (dist + o->from - from < best)
				best = dist + o->from - from;
		}
		/*
		 * The end of a merge lane is a wall, but drivers accelerate along
		 * the merge lane and only brake for its end when they must.
		 */
		if (l->dead_end) {
			double d = dist + l->length - from;
			double v = self >= 0 ? w->veh[self].v : 0;

			if (d < best && d < v * v / (2.0 * 1.0) + 25.0)
				best = d;
		}
		if (world__must_stop(w, ln, self) && dist + l->length - from < best)
			best = dist + l->length - from;
		if (best < INFINITY)
			break;
		dist += l->length - from;
		from = 0;
		ln = l->next;
	}
	return best;
}

/*
 * sim__obstacle_ahead() - see sim.h.
 */
double sim__obstacle_ahead(const struct sim_world *w, int lane, double s, int self)
{
	return world__obstacle(w, lane, s, self);
}

/*
 * IDM acceleration of vehicle vi if it were at s on lane; k is the index of
 * the first vehicle ahead in the lane if known, else -1.
 */
static double world__accel_k(const struct sim_world *w, int vi, int lane, double s,
			     int k)
{
	const struct sim_vehicle *v = &w->veh[vi];
	double v0 = sim_vehicle_v0(v, w->road.lane[lane].speed_limit);
	double vl, gap, acc, obs;

	if (k < 0)
		k = lane__upper(&w->road.lane[lane], w->veh, s);
	gap = world__leader_from(w, lane, s, vi, k, &vl, NULL);
	acc = sim_idm_accel(v, v->v, v0, gap, vl);
	obs = world__obstacle(w, lane, s, vi);
	if (!isinf(obs)) {
		double a2 = sim_idm_accel(v, v->v, v0, obs, 0);

		if (a2 < acc)
			acc = a2;
	}
	/*
	 * Courtesy at a merge: a vehicle waiting at the end of the merge lane
	 * beside is let in by the first driver below 20 m/s who
	 * can still stop gently; in fast traffic it waits for a gap.
	 */
	if (w->road.lane[lane].merge_from >= 0 && !v->wrong_way) {
		const struct sim_lane *ml = &w->road.lane[w->road.lane[lane].merge_from];

		if (ml->nveh > 0) {
			const struct sim_vehicle *m = &w->veh[ml->veh[ml->nveh - 1]];
			double mgap = m->s + ml->left_off - m->length - 2.0 - s;

			if (m->v < 3.0 && ml->length - m->s < 40.0 && mgap > 0 &&
			    v->v < 20.0 && mgap > v->v * v->v / (2.0 * 2.0)) {
				double a2 = sim_idm_accel(v, v->v, v0, mgap, 0);

				if (a2 < acc)
					acc = a2;
			}
		}
	}
	return acc;
}

static double world__accel_at(const struct sim_world *w, int vi, int lane, double s)
{
	return world__accel_k(w, vi, lane, s, -1);
}

/* Decide whether vi passes the stop line at the end of ln on yellow/red. */
static void world__commit(struct sim_world *w, int vi, int ln, double dist)
{
	struct sim_vehicle *v = &w->veh[vi];
	const struct sim_lane *l = &w->road.lane[ln];
	int light;

	if (l->sig < 0 || v->committed == ln)
		return;
	light = sim_signal_light(&w->sig[l->sig], l->signal_group, w->t, NULL);
	if (light == SIM_LIGHT_GREEN)
		return;
	/*
	 * Past the point of comfortable stopping when the light turns, a
	 * driver goes on (the dilemma zone is resolved towards going); on red
	 * only a vehicle that physically cannot stop any more does.
	 */
	if (light == SIM_LIGHT_YELLOW) {
		if (v->v * v->v > 2.0 * SIM_MOBIL_BSAFE * dist)
			v->committed = ln;
	} else if (v->v * v->v > 2.0 * SIM_DECEL_MAX * dist) {
		v->committed = ln;
	}
}

static double world__wrong_way_accel(const struct sim_world *w, int vi)
{
	const struct sim_vehicle *v = &w->veh[vi];
	const struct sim_lane *l = &w->road.lane[v->lane];
	double target = v->v0_override > 0 ? v->v0_override : 0.6 * l->speed_limit;
	double front = v->s - v->length;
	int k = lane__upper(l, w->veh, front) - 1;
	double gap = INFINITY;

	/*
	 * The vehicle ahead of a wrong-way driver is the one below it in s.
	 * The driver does not expect oncoming traffic: it keeps its speed and
	 * only brakes for what is close, as if it were standing.
	 */
	while (k >= 0 && l->veh[k] == vi)
		k--;
	if (k >= 0)
		gap = front - w->veh[l->veh[k]].s;
	if (gap > 40)
		gap = INFINITY;
	return sim_idm_accel(v, v->v, target, gap, 0);
}

static void world__accel_one(struct sim_world *w, int i, int k)
{
	struct sim_vehicle *v = &w->veh[i];
	const struct sim_lane *l;
	double acc;

	if (v->wrong_way) {
		acc = world__wrong_way_accel(w, i);
	} else {
		l = &w->road.lane[v->lane];
		if (v->committed >= 0 && v->committed != v->lane && v->committed != l->next)
			v->committed = -1;
		world__commit(w, i, v->lane, l->length - v->s);
		if (l->next >= 0)
			world__commit(w, i, l->next,
				      l->length - v->s + w->road.lane[l->next].length);
		acc = world__accel_k(w, i, v->lane, v->s, k);
	}
	if (v->hold_until > w->t)
		acc = v->a; /* reaction time: keep the previous action */
	if (!isnan(v->force_a) && v->force_a < acc)
		acc = v->force_a;
	v->a_next = acc;
}

static void world__accelerations(struct sim_world *w)
{
	/* Lane by lane: the leader of the k-th vehicle is the (k+1)-th. */
	for (int ln = 0; ln < w->road.nlane; ln++) {
		const struct sim_lane *l = &w->road.lane[ln];

		for (int k = 0; k < l->nveh; k++)
			world__accel_one(w, l->veh[k], k + 1);
	}
}

/* MOBIL for vehicle vi towards neighbour lane side (-1 right, +1 left). */
static int world__mobil(struct sim_world *w, int vi, int side, double *gain)
{
	struct sim_vehicle *v = &w->veh[vi];
	const struct sim_lane *l = &w->road.lane[v->lane];
	int cand = side > 0 ? l->left : l->right;
	double off = side > 0 ? l->left_off : l->right_off;
	const struct sim_lane *cl;
	double s2, an_new = 0, an_old = 0, ao_new = 0, ao_old = 0, ac_new;
	double vl, gap, bias;
	int k, fi = -1, oi = -1, lead;

	if (cand < 0 || v->s < l->lc_from || v->s > l->lc_to)
		return 0;
	cl = &w->road.lane[cand];
	s2 = v->s + off;
	if (s2 < cl->lc_from || s2 > cl->lc_to || s2 - v->length < 0)
		return 0;
	/* Space: the new leader's rear and the new follower's front. */
	gap = sim_world_leader(w, cand, s2, vi, &vl, &lead);
	if (gap < v->s0 * 0.5 || (lead >= 0 && w->veh[lead].wrong_way))
		return 0;
	/* No cut-in that puts anyone within 3 s of a collision. */
	if (v->v > vl && gap / (v->v - vl) < 3.0)
		return 0;
	k = lane__upper(cl, w->veh, s2) - 1;
	if (k >= 0 || (cl->prev >= 0 && w->road.lane[cl->prev].nveh > 0)) {
		/* The new follower may still be on the lane before. */
		const struct sim_lane *pl = k >= 0 ? cl : &w->road.lane[cl->prev];
		int fidx = k >= 0 ? cl->veh[k] : pl->veh[pl->nveh - 1];
		struct sim_vehicle *f = &w->veh[fidx];
		double fgap = s2 - v->length - (k >= 0 ? f->s : f->s - pl->length);

		if (f->wrong_way || fgap < f->s0 * 0.5 ||
		    (f->v > v->v && fgap / (f->v - v->v) < 3.0))
			return 0;
		fi = fidx;
		an_old = f->a_next;
		an_new = sim_idm_accel(f, f->v, sim_vehicle_v0(f, cl->speed_limit),
				       fgap, v->v);
		if (an_new < -SIM_MOBIL_BSAFE)
			return 0;
	}
	ac_new = world__accel_at(w, vi, cand, s2);
	if (ac_new < -SIM_MOBIL_BSAFE)
		return 0;
	/* The old follower gains the gap we leave. */
	k = lane__upper(l, w->veh, v->s - v->length) - 1;
	while (k >= 0 && l->veh[k] == vi)
		k--;
	if (k >= 0 && !w->veh[l->veh[k]].wrong_way) {
		struct sim_vehicle *o = &w->veh[l->veh[k]];
		double ogap;

		oi = l->veh[k];
		ao_old = o->a_next;
		ogap = sim_world_leader(w, v->lane, v->s, vi, &vl, NULL);
		if (!isinf(ogap))
			ogap += v->s - o->s;
		ao_new = sim_idm_accel(o, o->v, sim_vehicle_v0(o, l->speed_limit),
				       ogap, vl);
	}
	(void)fi;
	(void)oi;
	bias = side < 0 ? SIM_MOBIL_BIAS_RIGHT : -SIM_MOBIL_BIAS_RIGHT;
	/* A lane that ends (a merge) pushes its vehicles off it. */
	if (l->dead_end)
		bias += 1.0;
	*gain = ac_new - v->a_next + v->polite * (an_new - an_old + ao_new - ao_old) + bias;
	return *gain > SIM_MOBIL_THRESHOLD;
}

static int world__lane_changes(struct sim_world *w)
{
	for (int i = 0; i < w->nveh; i++) {
		struct sim_vehicle *v = &w->veh[i];
		double gl = 0, gr = 0;
		int okl, okr, side, from, to;
		double off;
		struct sim_lane *l;

		if (!v->active || v->wrong_way)
			continue;
		/* A vehicle in an incident keeps its lane, except a speeder. */
		if (v->incident >= 0 && w->inc[v->incident].type != V2X_EVT_SPEEDING)
			continue;
		if (v->lc_cool > 0) {
			v->lc_cool -= SIM_DT;
			continue;
		}
		/*
		 * Each vehicle looks at its neighbours twice a second; on a lane
		 * that ends, every step.
		 */
		if ((w->step + i) % 5 && !w->road.lane[v->lane].dead_end)
			continue;
		okl = world__mobil(w, i, +1, &gl);
		okr = world__mobil(w, i, -1, &gr);
		if (!okl && !okr)
			continue;
		side = okl && (!okr || gl > gr) ? +1 : -1;
		from = v->lane;
		l = &w->road.lane[from];
		to = side > 0 ? l->left : l->right;
		off = side > 0 ? l->left_off : l->right_off;
		lane__remove(&w->road.lane[from], i);
		v->s += off;
		v->lane = to;
		v->hint = 0;
		if (lane__insert(&w->road.lane[to], i, w->veh) < 0) {
			/* Out of memory: stay put. */
			v->s -= off;
			v->lane = from;
			if (lane__insert(&w->road.lane[from], i, w->veh) < 0)
				return -ENOMEM;
			continue;
		}
		v->lat_off -= side * 0.5 * (l->width + w->road.lane[to].width);
		v->lc_cool = LC_COOLDOWN;
		v->a_next = world__accel_at(w, i, to, v->s);
		w->ctr.lane_changes++;
	}
	return 0;
}

/*
 * sim__vehicle_remove() - take vehicle vi off the road (an exit): it waits
 * to re-enter (constant count) or its slot is freed (flow mode).
 */
void sim__vehicle_remove(struct sim_world *w, int vi)
{
	struct sim_vehicle *v = &w->veh[vi];

	if (v->lane >= 0)
		lane__remove(&w->road.lane[v->lane], vi);
	sim__incident_vehicle_left(w, vi);
	sim__truth_vehicle_left(w, vi);
	v->active = 0;
	v->wrong_way = 0;
	v->lane = -1;
	if (v->connected)
		w->nconnected--;
	w->ctr.exited++;
	if (w->cfg.flow_vph > 0) {
		w->free_slots[w->nfree++] = vi;
	} else {
		if (w->qlen == w->qcap)
			return; /* cannot happen: the queue holds every vehicle */
		w->queue[(w->qhead + w->qlen) % w->qcap] = vi;
		w->qlen++;
	}
}

static void world__integrate(struct sim_world *w)
{
	int nmoves = 0;

	for (int i = 0; i < w->nveh; i++) {
		struct sim_vehicle *v = &w->veh[i];
		double nv, ds;

		if (!v->active)
			continue;
		nv = v->v + v->a_next * SIM_DT;
		if (nv < 0) {
			/* Stop within the step instead of rolling backwards. */
			ds = v->a_next < 0 ? -v->v * v->v / (2.0 * v->a_next) : 0;
			nv = 0;
		} else {
			ds = 0.5 * (v->v + nv) * SIM_DT;
		}
		v->a = v->a_next;
		v->v = nv;
		v->s += v->wrong_way ? -ds : ds;
	}
	/* Lane transitions, collected first so each vehicle moves once. */
	for (int ln = 0; ln < w->road.nlane; ln++) {
		struct sim_lane *l = &w->road.lane[ln];

		for (int k = 0; k < l->nveh; k++) {
			struct sim_vehicle *v = &w->veh[l->veh[k]];

			if ((!v->wrong_way && v->s > l->length) ||
			    (v->wrong_way && v->s - v->length < 0)) {
				if (nmoves == w->capmoves)
					break;
				w->moves[nmoves++] = l->veh[k];
			}
		}
	}
	for (int m = 0; m < nmoves; m++) {
		int vi = w->moves[m];
		struct sim_vehicle *v = &w->veh[vi];
		struct sim_lane *l = &w->road.lane[v->lane];
		int to;

		lane__remove(l, vi);
		if (v->wrong_way) {
			to = l->prev;
			if (to < 0) {
				sim__vehicle_remove(w, vi);
				continue;
			}
			v->s += w->road.lane[to].length;
		} else {
			if (l->sig >= 0 && v->committed != v->lane &&
			    sim_signal_light(&w->sig[l->sig], l->signal_group, w->t,
					     NULL) == SIM_LIGHT_RED)
				w->ctr.red_crossings++;
			to = l->next;
			if (to < 0 || l->exit) {
				sim__vehicle_remove(w, vi);
				continue;
			}
			v->s -= l->length;
		}
		v->lane = to;
		v->hint = 0;
		if (lane__insert(&w->road.lane[to], vi, w->veh) < 0)
			sim__vehicle_remove(w, vi);
	}
	/* Keep every lane sorted by s (insertion sort: nearly sorted). */
	for (int ln = 0; ln < w->road.nlane; ln++) {
		struct sim_lane *l = &w->road.lane[ln];

		for (int k = 1; k < l->nveh; k++) {
			int vi = l->veh[k], j = k;
			double s = w->veh[vi].s;

			while (j > 0 && w->veh[l->veh[j - 1]].s > s) {
				l->veh[j] = l->veh[j - 1];
				j--;
			}
			l->veh[j] = vi;
		}
		/* Bumper overlap between neighbours in a lane is a collision. */
		for (int k = 1; k < l->nveh; k++) {
			const struct sim_vehicle *a = &w->veh[l->veh[k - 1]];
			const struct sim_vehicle *b = &w->veh[l->veh[k]];

			if (a->s > b->s - b->length + 1e-6 && a->incident < 0 &&
			    b->incident < 0)
				w->ctr.collisions++;
		}
	}
}

static void world__pose(struct sim_world *w)
{
	for (int i = 0; i < w->nveh; i++) {
		struct sim_vehicle *v = &w->veh[i];
		const struct sim_lane *l;
		double h, lat_v = 0, prev = v->heading;

		if (!v->active)
			continue;
		if (v->lat_off != 0) {
			double step = LAT_SPEED * SIM_DT;

			if (fabs(v->lat_off) <= step) {
				v->lat_off = 0;
			} else {
				lat_v = v->lat_off > 0 ? -LAT_SPEED : LAT_SPEED;
				v->lat_off += lat_v * SIM_DT;
			}
		}
		l = &w->road.lane[v->lane];
		sim_lane_point(l, v->s - 0.5 * v->length, v->lat_off, &v->x, &v->y,
			       &h, &v->hint);
		if (v->v > 0.5)
			h -= atan2(lat_v, v->v); /* heading clockwise, offset leftwards */
		if (v->wrong_way)
			h += M_PI;
		h = fmod(h, 2 * M_PI);
		if (h < 0)
			h += 2 * M_PI;
		{
			double dh = h - prev;

			if (dh > M_PI)
				dh -= 2 * M_PI;
			if (dh < -M_PI)
				dh += 2 * M_PI;
			v->yaw_rate = dh / SIM_DT;
		}
		v->heading = h;
	}
}

static void world__new_obu(struct sim_world *w, struct sim_vehicle *v)
{
	v->temp_id = (uint32_t)sim_rng_next(&w->obu_rng);
	v->msg_cnt = (uint8_t)sim_rng_below(&w->obu_rng, 128);
	v->temp_next = w->t + sim_rng_range(&w->obu_rng, 0, SIM_TEMP_ID_PERIOD);
}

/* A new vehicle in slot vi; draws everything but the position. */
static void world__make_vehicle(struct sim_world *w, int vi)
{
	struct sim_vehicle *v = &w->veh[vi];

	memset(v, 0, sizeof(*v));
	v->id = w->next_vehicle_id++;
	sim_vehicle_draw(v, &w->rng, w->cfg.truck_share, w->cfg.bus_share);
	v->connected = sim_rng_uniform(&w->rng) < w->cfg.penetration;
	v->lane = -1;
	v->committed = -1;
	v->incident = -1;
	v->force_a = NAN;
	v->seen_t = -1;
	world__new_obu(w, v);
}

static int world__place(struct sim_world *w, int vi, int lane, double s, double v0)
{
	struct sim_vehicle *v = &w->veh[vi];
	int ret;

	v->lane = lane;
	v->s = s;
	v->v = v0;
	v->a = v->a_next = 0;
	v->hint = 0;
	v->lat_off = 0;
	v->committed = -1;
	v->wrong_way = 0;
	ret = lane__insert(&w->road.lane[lane], vi, w->veh);
	if (ret < 0)
		return ret;
	v->active = 1;
	if (v->connected)
		w->nconnected++;
	w->ctr.entered++;
	return 0;
}

/* Can a vehicle enter lane at s = 0; with what speed? */
static int world__entry_speed(const struct sim_world *w, int lane,
			      const struct sim_vehicle *v, double *speed)
{
	const struct sim_lane *l = &w->road.lane[lane];
	double v0 = sim_vehicle_v0(v, l->speed_limit) * 0.9;
	double gap = INFINITY, vl = v0;
	double need;

	/* An on-ramp takes only what the merge can absorb. */
	if (l->dead_end && l->nveh >= 3)
		return 0;
	if (l->nveh > 0) {
		const struct sim_vehicle *f = &w->veh[l->veh[0]];

		if (f->wrong_way)
			return 0;
		gap = f->s - f->length;
		vl = f->v;
	}
	if (!isinf(world__obstacle(w, lane, 0, -1)) && world__obstacle(w, lane, 0, -1) < 60)
		return 0;
	if (isinf(gap)) {
		*speed = v0;
		return 1;
	}
	*speed = fmin(v0, vl + 2.0);
	need = v->s0 + *speed * v->T + 2.0;
	if (gap >= need)
		return 1;
	*speed = fmin(vl, (gap - v->s0 - 2.0) / v->T);
	return *speed >= 1.0 && gap > v->s0 + 5.0;
}

static int world__entries(struct sim_world *w)
{
	if (w->nentry == 0)
		return 0;
	if (w->cfg.flow_vph > 0) {
		double rate = w->cfg.flow_vph / 3600.0;

		for (int e = 0; e < w->nentry; e++) {
			struct sim_vehicle probe;
			double speed;
			int vi;

			if (w->t < w->arrival_due[e])
				continue;
			memset(&probe, 0, sizeof(probe));
			probe.s0 = 2.0f;
			probe.T = 1.4f;
			probe.v0f = 1.0f;
			probe.vmax = 45.0f;
			if (!world__entry_speed(w, w->entry_lanes[e], &probe, &speed))
				continue;
			if (w->nfree > 0) {
				vi = w->free_slots[--w->nfree];
			} else {
				if (w->nveh == w->capveh && world__grow_veh(w) < 0)
					return -ENOMEM;
				vi = w->nveh++;
				int *fs = realloc(w->free_slots, (size_t)w->capveh * sizeof(int));

				if (!fs)
					return -ENOMEM;
				w->free_slots = fs;
			}
			world__make_vehicle(w, vi);
			if (!world__entry_speed(w, w->entry_lanes[e], &w->veh[vi], &speed))
				speed = 1.0;
			if (world__place(w, vi, w->entry_lanes[e], 0, speed) < 0)
				return -ENOMEM;
			w->arrival_due[e] += -log(1.0 - sim_rng_uniform(&w->rng)) / rate;
		}
		return 0;
	}
	/* Constant count: the vehicles that left come back at an entry. */
	for (int tries = 0; tries < w->nentry && w->qlen > 0; tries++) {
		int e = sim_rng_below(&w->rng, (uint32_t)w->nentry);
		int vi = w->queue[w->qhead];
		struct sim_vehicle *v = &w->veh[vi];
		double speed;

		if (!world__entry_speed(w, w->entry_lanes[e], v, &speed))
			continue;
		w->qhead = (w->qhead + 1) % w->qcap;
		w->qlen--;
		v->incident = -1;
		v->force_a = NAN;
		v->v0_override = v->T_override = 0;
		v->hold_until = 0;
		/* A returning vehicle is a new vehicle to the broker: a fresh
		 * OBU identity (TemporaryID, msgCnt, rotation phase). */
		world__new_obu(w, v);
		if (world__place(w, vi, w->entry_lanes[e], 0, speed) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void world__emit_bsm(struct sim_world *w, struct sim_vehicle *v,
			    uint64_t ts, const struct sim_sink *sink)
{
	struct v2x_bsm b;
	double lat, lon, hd, rho = 0.95, k = sqrt(1.0 - 0.95 * 0.95);
	double sigma = w->cfg.gnss_sigma;
	long speed, acc;

	if (w->t >= v->temp_next) {
		v->temp_id = (uint32_t)sim_rng_next(&w->obu_rng);
		v->temp_next += SIM_TEMP_ID_PERIOD;
	}
	if (sigma > 0) {
		v->noise_e = rho * v->noise_e + k * sigma * sim_rng_normal(&w->obu_rng);
		v->noise_n = rho * v->noise_n + k * sigma * sim_rng_normal(&w->obu_rng);
	}
	sim_geo_to_ll(&w->geo, v->x + v->noise_e, v->y + v->noise_n, &lat, &lon);
	memset(&b, 0, sizeof(b));
	b.ts_ns = ts;
	b.id = v->temp_id;
	b.msg_cnt = v->msg_cnt;
	v->msg_cnt = (uint8_t)((v->msg_cnt + 1) & 127);
	b.sec_mark = (uint16_t)((ts / 1000000ull) % 60000ull);
	b.lat = sim_geo_e7(lat);
	b.lon = sim_geo_e7(lon);
	b.elev = 230;
	{
		long acc_units = lround(2.0 * (sigma > 0 ? sigma : 0.05) / 0.05);

		b.acc_semi_major = (uint8_t)(acc_units > 254 ? 254 : acc_units);
		b.acc_semi_minor = b.acc_semi_major;
	}
	b.acc_orient = 0;
	b.transmission = 2; /* forwardGears */
	speed = lround(v->v / 0.02);
	b.speed = (uint16_t)(speed > 8190 ? 8190 : speed);
	hd = v->heading * 180.0 / M_PI;
	{
		long h = lround(hd / 0.0125);

		b.heading = (uint16_t)(h >= 28800 ? h - 28800 : h);
	}
	b.angle = 0;
	acc = lround(v->a * 100.0);
	b.accel_long = (int16_t)(acc < -2000 ? -2000 : acc > 2000 ? 2000 : acc);
	acc = lround(v->v * v->yaw_rate * 100.0);
	b.accel_lat = (int16_t)(acc < -2000 ? -2000 : acc > 2000 ? 2000 : acc);
	b.accel_vert = 0;
	acc = lround(v->yaw_rate * 180.0 / M_PI * 100.0);
	b.yaw_rate = (int16_t)(acc < -32767 ? -32767 : acc > 32767 ? 32767 : acc);
	b.wheel_brakes = v->a < -0.5 ? 0x1e : 0; /* all four wheels */
	b.width_cm = (uint16_t)lround(v->width * 100.0);
	b.length_cm = (uint16_t)lround(v->length * 100.0);
	if (v->a < -0.4 * 9.80665) {
		b.has_events = 1;
		b.events = V2X_EVENT_FLAG_HARD_BRAKING;
	}
	w->ctr.bsm++;
	if (sink && sink->bsm)
		sink->bsm(sink->ctx, &b);
}

static void world__bsms(struct sim_world *w, const struct sim_sink *sink)
{
	uint64_t t0 = sim_world_ns(w, w->t);
	uint64_t step_ns = (uint64_t)(SIM_DT * 1e9);

	if (w->cfg.rate > 0) {
		/* Fixed rate: exactly rate messages per sim second, cycling. */
		uint64_t due = (uint64_t)((double)w->step * w->cfg.rate * SIM_DT + 0.5);
		uint64_t n = due - w->rate_acc;
		uint64_t k = 0;

		w->rate_acc = due;
		if (w->nconnected == 0)
			return;
		while (k < n) {
			struct sim_vehicle *v;

			w->rate_cursor = (w->rate_cursor + 1) % w->nveh;
			v = &w->veh[w->rate_cursor];
			if (!v->active || !v->connected)
				continue;
			world__emit_bsm(w, v, t0 + k * step_ns / n, sink);
			k++;
		}
		return;
	}
	{
		uint64_t n = (uint64_t)(w->nconnected > 0 ? w->nconnected : 1), k = 0;

		for (int i = 0; i < w->nveh; i++) {
			struct sim_vehicle *v = &w->veh[i];

			if (!v->active || !v->connected)
				continue;
			world__emit_bsm(w, v, t0 + k * step_ns / n, sink);
			k++;
		}
	}
}

/*
 * sim_world_step() - see sim.h.
 */
void sim_world_step(struct sim_world *w, const struct sim_sink *sink)
{
	w->t = (double)w->step * SIM_DT;
	sim__peds_step(w);
	sim__incidents_step(w);
	world__accelerations(w);
	world__lane_changes(w);
	world__integrate(w);
	world__entries(w);
	world__pose(w);
	w->step++;
	w->t = (double)w->step * SIM_DT;
	sim__truth_step(w);
	world__bsms(w, sink);
	sim__sensors_step(w, sink);
	for (int i = 0; i < w->nsig; i++) {
		struct v2x_spat sp;

		sim_signal_spat(&w->sig[i], w->t, sim_world_ns(w, w->t), &sp);
		w->ctr.spat++;
		if (sink && sink->spat)
			sink->spat(sink->ctx, &sp);
	}
	if (sink && sink->step_end)
		sink->step_end(sink->ctx, w->t);
}

/*
 * sim_world_present() - see sim.h.
 */
int sim_world_present(const struct sim_world *w)
{
	int n = 0;

	for (int i = 0; i < w->nveh; i++)
		n += w->veh[i].active;
	return n;
}

static int world__initial(struct sim_world *w, char *err, size_t errlen)
{
	double total = 0, spacing, pos, last;
	int placed = 0, ret, nplace = 0;
	int n = w->cfg.vehicles;

	for (int ln = 0; ln < w->road.nlane; ln++) {
		const struct sim_lane *l = &w->road.lane[ln];

		if (l->type == SIM_LANE_VEHICLE && !l->connector && !l->dead_end) {
			total += l->length;
			nplace++;
		}
	}
	if (n <= 0)
		return 0;
	/* Each lane may leave up to about three spacings unused at its end. */
	spacing = total / (n + 3.0 * nplace);
	if (spacing < 8.0) {
		snprintf(err, errlen,
			 "%d vehicles do not fit on %.0f m of lanes (%.1f m each, need 8)",
			 n, total, spacing);
		return -EINVAL;
	}
	while (w->capveh < n)
		if (world__grow_veh(w) < 0)
			return -ENOMEM;
	pos = spacing * sim_rng_uniform(&w->rng);
	for (int ln = 0; ln < w->road.nlane && placed < n; ln++) {
		const struct sim_lane *l = &w->road.lane[ln];

		if (l->type != SIM_LANE_VEHICLE || l->connector || l->dead_end)
			continue;
		last = -1e9;
		while (pos < l->length && placed < n) {
			int vi = w->nveh;
			struct sim_vehicle *v;
			double s, v0, veq;

			world__make_vehicle(w, vi);
			v = &w->veh[vi];
			/* Never overlapping the one placed before, whatever the sizes. */
			s = fmax(pos + v->length, last + 2.0 + v->length);
			v0 = sim_vehicle_v0(v, l->speed_limit);
			veq = (spacing - v->length - v->s0) / (v->T + 0.3);
			if (veq < 0)
				veq = 0;
			if (veq > v0)
				veq = v0;
			/*
			 * The next lane may start with a vehicle right at its
			 * beginning: keep a safe gap to the end of this one.
			 */
			if (s + v->s0 + veq * v->T + 2.0 > l->length) {
				w->next_vehicle_id--; /* drawn again on the next lane */
				break;
			}
			w->nveh++;
			if (l->sig >= 0) {
				/* Able to stop comfortably at its stop line. */
				double d = l->length - s - 2.0;
				double vs = d > 0 ? sqrt(2.0 * 1.5 * d) : 0;

				if (veq > vs)
					veq = vs;
			}
			ret = world__place(w, vi, ln, s, veq);
			if (ret < 0)
				return ret;
			placed++;
			last = s;
			pos = s - v->length + spacing;
		}
		pos -= l->length;
		if (pos < 0)
			pos = 0;
	}
	if (placed < n) {
		snprintf(err, errlen, "only %d of %d vehicles fit at %.1f m spacing",
			 placed, n, spacing);
		return -EINVAL;
	}
	return 0;
}

/*
 * sim_world_new() - see sim.h.
 */
int sim_world_new(const struct sim_config *cfg, struct sim_world **out,
		  char *err, size_t errlen)
{
	struct sim_world *w = calloc(1, sizeof(*w));
	int ret = -ENOMEM;

	*out = NULL;
	if (!w)
		goto out;
	w->cfg = *cfg;
	sim_geo_init(&w->geo, cfg->ref_lat, cfg->ref_lon);
	sim_road_init(&w->road);
	sim_rng_seed(&w->rng, cfg->seed, 1);
	sim_rng_seed(&w->obu_rng, cfg->seed, 2);
	w->next_vehicle_id = 1;
	ret = sim__scenario_build(w, err, errlen);
	if (ret < 0)
		goto out;
	for (int ln = 0; ln < w->road.nlane; ln++)
		if (w->road.lane[ln].entry)
			w->nentry++;
	w->entry_lanes = calloc((size_t)w->nentry + 1, sizeof(int));
	w->arrival_due = calloc((size_t)w->nentry + 1, sizeof(double));
	if (!w->entry_lanes || !w->arrival_due) {
		ret = -ENOMEM;
		goto out;
	}
	w->nentry = 0;
	for (int ln = 0; ln < w->road.nlane; ln++)
		if (w->road.lane[ln].entry)
			w->entry_lanes[w->nentry++] = ln;
	if (cfg->flow_vph > 0) {
		for (int e = 0; e < w->nentry; e++)
			w->arrival_due[e] = -log(1.0 - sim_rng_uniform(&w->rng)) /
					    (cfg->flow_vph / 3600.0);
	}
	ret = world__initial(w, err, errlen);
	if (ret < 0)
		goto out;
	w->qcap = w->nveh + 1;
	w->queue = calloc((size_t)w->qcap, sizeof(int));
	w->free_slots = calloc((size_t)(w->capveh > 0 ? w->capveh : 1), sizeof(int));
	w->capmoves = w->nveh + 4096;
	w->moves = calloc((size_t)w->capmoves, sizeof(int));
	if (!w->queue || !w->free_slots || !w->moves) {
		ret = -ENOMEM;
		goto out;
	}
	ret = sim__peds_init(w);
	if (ret < 0)
		goto out;
	ret = sim__sensors_init(w);
	if (ret < 0)
		goto out;
	w->inc = calloc((size_t)cfg->nincidents + 1, sizeof(*w->inc));
	if (!w->inc) {
		ret = -ENOMEM;
		goto out;
	}
	w->ninc = cfg->nincidents;
	for (int i = 0; i < w->ninc; i++) {
		struct sim_incident *inc = &w->inc[i];

		inc->id = i + 1;
		inc->type = cfg->incident[i].type;
		inc->at = cfg->incident[i].at;
		inc->duration = cfg->incident[i].duration;
		inc->start_t = inc->detect_t = inc->end_t = -1;
		inc->ped = inc->obstacle = -1;
		inc->lane = -1;
		inc->lane_id = inc->segment_id = -1;
	}
	w->t = 0;
	world__pose(w);
	*out = w;
	w = NULL;
	ret = 0;
out:
	sim_world_free(w);
	return ret;
}

/*
 * sim_world_free() - see sim.h.
 */
void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	sim__sensors_free(w);
	sim__truth_free(w);
	sim_road_fini(&w->road);
	free(w->sig);
	free(w->veh);
	free(w->entry_lanes);
	free(w->arrival_due);
	free(w->queue);
	free(w->free_slots);
	free(w->moves);
	free(w->ped);
	free(w->inc);
	free(w);
}
