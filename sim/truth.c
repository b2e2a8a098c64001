/* SPDX-License-Identifier: MIT */
/*
 * sim/truth.c - natural episodes of the ground truth: the conditions that
 * the simulated traffic itself produces (a driver braking hard behind a
 * sudden obstacle, a cut-in at a short time to collision, a jam), judged
 * every step from the world's exact state with the definitions of
 * struct sim_truth_config (docs/simulator.md, "Natural episodes").  They are
 * written as incident lines with "cause":"natural".
 *
 * A collision risk that holds only within the error of the positions the
 * roadside gets (the gap shortened and the bodies widened by
 * truth__margin(); every natural collision risk lies within one) is also
 * written, as a line of kind "marginal" (ids of their own): a broker that
 * reports it is not wrong, nor is one that does not - no roadside system
 * can tell a true TTC of 1.45 s from one of 1.55 s with each car's
 * position off by half a metre.  The scorer counts events matching only
 * such a line apart from both hits and false positives.
 *
 * Only observes: no random draws, no change to the traffic, so a run is the
 * same with or without it.  Nothing runs unless a truth file is open.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* A BSM carries eventHardBraking beyond 0.4 g (sim.c, world__emit_bsm()). */
#define BSM_HARD_BRAKE_MPS2 (0.4 * 9.80665)
/* A lane-changing body moves across at this speed (sim.c, LAT_SPEED). */
#define LANE_CHANGE_MPS 1.0
/* A marginal collision risk is one within this many standard deviations
 * of the error of the two vehicles' relative position (truth__margin()). */
#define CR_MARGIN_SIGMAS 2.0

enum {
	NAT_HB = 0,     /* hard braking */
	NAT_CR = 1,     /* collision risk (follower's TTC to its leader) */
	NAT_STOP = 2,   /* stopped in a travel lane, not waiting */
	NAT_SPEED = 3,  /* speeding */
	NAT_CRM = 4,    /* collision risk within the position error (marginal) */
	NAT_PER_VEH = 5,
};

static const int nat_type[NAT_PER_VEH] = {
	V2X_EVT_HARD_BRAKING, V2X_EVT_COLLISION_RISK,
	V2X_EVT_STOPPED_VEHICLE, V2X_EVT_SPEEDING, V2X_EVT_COLLISION_RISK,
};

/* An episode being followed: the truth line and when the condition last held. */
struct nat_ep {
	struct sim_incident inc;
	double last;    /* sim s of the last step the condition held */
	/* collision risk: the run of steps with both vehicles observable
	 * (truth__cr_seen()) and the follower's place at its first */
	struct sim_run obs;
	double obs_x, obs_y;
	int obs_lane;
	int used;
};

struct nat_seg {
	int nbins;
	int first_bin;  /* into the bin arrays */
	int ep;         /* open congestion episode or -1 */
	struct sim_run on;  /* the condition held, step after step */
	/* the run of steps it held in a bin with jam_min_vehicles observable
	 * vehicles (truth__jam_seen()) */
	struct sim_run obs;
	double limit;
};

struct sim_truth {
	struct nat_ep *ep;
	int nep, capep;
	int *free_ep;
	int nfree;
	int *open;          /* NAT_PER_VEH per vehicle slot: episode or -1 */
	int capveh;
	int next_id;
	int next_marginal_id; /* marginal lines are numbered on their own */
	int written;          /* natural episodes written (not marginal) */
	/* congestion: per segment id, bins along the segment */
	struct nat_seg *seg;
	int nseg;
	int nbins;
	int *bin_n, *bin_lane;
	int *bin_obs;       /* vehicles observable (sim__observable()) */
	double *bin_inv;    /* sum of 1 / v */
};

static void truth__veh_init(struct sim_truth *t, int from, int to)
{
	for (int i = from * NAT_PER_VEH; i < to * NAT_PER_VEH; i++)
		t->open[i] = -1;
}

static int truth__grow_veh(struct sim_truth *t, int capveh)
{
	int *o;

	if (capveh <= t->capveh)
		return 0;
	o = realloc(t->open, (size_t)capveh * NAT_PER_VEH * sizeof(*o));
	if (!o)
		return -ENOMEM;
	t->open = o;
	truth__veh_init(t, t->capveh, capveh);
	t->capveh = capveh;
	return 0;
}

static int truth__segments(struct sim_world *w, struct sim_truth *t)
{
	int maxseg = -1;

	for (int i = 0; i < w->road.nlane; i++)
		if (w->road.lane[i].segment > maxseg)
			maxseg = w->road.lane[i].segment;
	if (maxseg < 0)
		return 0;
	t->nseg = maxseg + 1;
	t->seg = calloc((size_t)t->nseg, sizeof(*t->seg));
	if (!t->seg)
		return -ENOMEM;
	for (int i = 0; i < w->road.nlane; i++) {
		const struct sim_lane *l = &w->road.lane[i];
		struct nat_seg *sg;
		int nb;

		if (l->segment < 0 || l->type != SIM_LANE_VEHICLE || l->connector)
			continue;
		sg = &t->seg[l->segment];
		nb = (int)ceil(l->length / w->cfg.truth.jam_bin_m);
		if (nb < 1)
			nb = 1;
		if (nb > sg->nbins)
			sg->nbins = nb;
		if (l->speed_limit > sg->limit)
			sg->limit = l->speed_limit;
	}
	for (int i = 0; i < t->nseg; i++) {
		t->seg[i].first_bin = t->nbins;
		t->seg[i].ep = -1;
		t->nbins += t->seg[i].nbins;
	}
	t->bin_n = calloc((size_t)t->nbins + 1, sizeof(int));
	t->bin_lane = calloc((size_t)t->nbins + 1, sizeof(int));
	t->bin_inv = calloc((size_t)t->nbins + 1, sizeof(double));
	t->bin_obs = calloc((size_t)t->nbins + 1, sizeof(int));
	if (!t->bin_n || !t->bin_lane || !t->bin_inv || !t->bin_obs)
		return -ENOMEM;
	return 0;
}

/* The natural-truth state of w, made on first use; NULL without memory. */
static struct sim_truth *truth__get(struct sim_world *w)
{
	struct sim_truth *t = w->nat;

	if (t)
		return truth__grow_veh(t, w->capveh) < 0 ? NULL : t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	w->nat = t;
	t->next_id = w->ninc + 1;
	t->next_marginal_id = 1;
	if (truth__grow_veh(t, w->capveh) < 0 || truth__segments(w, t) < 0) {
		sim__truth_free(w);
		return NULL;
	}
	return t;
}

static int truth__ep_new(struct sim_world *w, struct sim_truth *t, int type)
{
	struct nat_ep *e;
	int k;

	if (t->nfree > 0) {
		k = t->free_ep[--t->nfree];
	} else {
		if (t->nep == t->capep) {
			int ncap = t->capep ? 2 * t->capep : 64;
			struct nat_ep *p = realloc(t->ep, (size_t)ncap * sizeof(*p));
			int *f;

			if (!p)
				return -1;
			t->ep = p;
			f = realloc(t->free_ep, (size_t)ncap * sizeof(*f));
			if (!f)
				return -1;
			t->free_ep = f;
			t->capep = ncap;
		}
		k = t->nep++;
	}
	e = &t->ep[k];
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->inc.type = type;
	e->inc.natural = 1;
	e->inc.state = SIM_INC_ACTIVE;
	e->inc.start_t = w->t;
	e->inc.detect_t = w->t;
	e->inc.end_t = -1;
	e->inc.ped = -1;
	e->inc.obstacle = -1;
	e->last = w->t;
	/* A collision risk is detectable only once its pair has been
	 * observable long enough (truth__cr_seen()). */
	if (type == V2X_EVT_COLLISION_RISK)
		e->inc.detect_t = -1;
	return k;
}

static void truth__add_veh(struct sim_world *w, struct sim_incident *inc, int vi)
{
	const struct sim_vehicle *v = &w->veh[vi];
	int have = 0;

	for (int i = 0; i < inc->nveh; i++)
		have |= inc->veh[i] == vi;
	if (!have && inc->nveh < SIM_INC_VEH_MAX)
		inc->veh[inc->nveh++] = vi;
	if (!v->connected)
		return;
	have = 0;
	for (int i = 0; i < inc->ntemp; i++)
		have |= inc->temp_ids[i] == v->temp_id;
	if (!have && inc->ntemp < SIM_INC_IDS_MAX)
		inc->temp_ids[inc->ntemp++] = v->temp_id;
}

static void truth__locate(struct sim_world *w, struct sim_incident *inc,
			  double x, double y, int lane)
{
	sim_geo_to_ll(&w->geo, x, y, &inc->lat, &inc->lon);
	inc->lane = lane;
	inc->lane_id = w->road.lane[lane].id;
	inc->segment_id = w->road.lane[lane].segment;
}

/* Close episode k: written when it lasted min_s or more, dropped otherwise. */
static void truth__close(struct sim_world *w, struct sim_truth *t, int k, double min_s)
{
	struct nat_ep *e = &t->ep[k];
	double end = e->last + SIM_DT;

	if (end > w->t)
		end = w->t;
	e->inc.end_t = end;
	if (end - e->inc.start_t >= min_s - 1e-9) {
		e->inc.id = e->inc.marginal ? t->next_marginal_id++ : t->next_id++;
		e->inc.state = SIM_INC_DONE;
		sim__incident_write(w, &e->inc);
		t->written += !e->inc.marginal;
	}
	e->used = 0;
	t->free_ep[t->nfree++] = k;
}

static double truth__min_s(const struct sim_truth_config *c, int slot)
{
	switch (slot) {
	case NAT_CR:
	case NAT_CRM: return c->ttc_min_s;
	case NAT_STOP: return c->stop_min_s;
	case NAT_SPEED: return c->speed_min_s;
	default: return 0;
	}
}

/* The gap within which a condition that stopped holding may come back. */
static double truth__gap_s(const struct sim_truth_config *c, int slot)
{
	return slot == NAT_HB ? c->hard_brake_merge_s : c->gap_s;
}

/*
 * A collision risk (follower vi, leader ld) holds this step: it is
 * detectable from the onset of a run of steps with both vehicles
 * observable that has held ttc_min_s (dips under gap_s do not break it),
 * the rule of an injected collision risk - a pair of which one is in no
 * sensor's view and sends no BSMs could be judged by nobody, and one seen
 * for 0.3 s of a 1.5 s episode not for the time a detector must see it.
 * Placed where the follower was at that onset.
 */
static void truth__cr_seen(struct sim_world *w, struct nat_ep *e, int vi, int ld)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	int seen;

	if (e->inc.detect_t >= 0)
		return;
	seen = ld >= 0 && sim__observable(w, vi) && sim__observable(w, ld);
	if (sim_run_step(&e->obs, w->t, seen, c->gap_s)) {
		e->obs_x = v->x;
		e->obs_y = v->y;
		e->obs_lane = v->lane;
	}
	/* Its steps from the first to this one, each SIM_DT long, as an
	 * episode's length is measured (truth__close(): end = last +
	 * SIM_DT); the injected rule measures from step to step, t - t0. */
	if (seen && sim_run_span(&e->obs, w->t) + SIM_DT >= c->ttc_min_s - 1e-9) {
		e->inc.detect_t = e->obs.t0;
		truth__locate(w, &e->inc, e->obs_x, e->obs_y, e->obs_lane);
	}
}

/*
 * One condition of vehicle vi this step: open an episode at its onset,
 * extend it while it holds, close it once it has not held for the gap.
 */
static void truth__cond(struct sim_world *w, struct sim_truth *t, int vi, int slot,
			int holds, int other)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	int *open = &t->open[vi * NAT_PER_VEH + slot];

	if (*open >= 0) {
		struct nat_ep *e = &t->ep[*open];

		if (holds) {
			e->last = w->t;
			if (other >= 0)
				truth__add_veh(w, &e->inc, other);
			truth__add_veh(w, &e->inc, vi);
			if (slot == NAT_CR || slot == NAT_CRM)
				truth__cr_seen(w, e, vi, other);
		} else if (w->t - e->last > truth__gap_s(c, slot) + 1e-9) {
			truth__close(w, t, *open, truth__min_s(c, slot));
			*open = -1;
		}
		return;
	}
	if (!holds)
		return;
	*open = truth__ep_new(w, t, nat_type[slot]);
	if (*open < 0) {
		*open = -1;
		return;
	}
	t->ep[*open].inc.marginal = slot == NAT_CRM;
	/* A collision risk lists the leader first, as the injected ones do. */
	if (other >= 0)
		truth__add_veh(w, &t->ep[*open].inc, other);
	truth__add_veh(w, &t->ep[*open].inc, vi);
	truth__locate(w, &t->ep[*open].inc, v->x, v->y, v->lane);
	if (slot == NAT_CR || slot == NAT_CRM)
		truth__cr_seen(w, &t->ep[*open], vi, other);
}

/*
 * Hard braking: a deceleration of at least A, or - for a connected
 * vehicle - one its BSMs flag as eventHardBraking (J2735: beyond 0.4 g,
 * 3.92 m/s^2, a little under the default A).  The issue defines hard
 * braking as either, and a vehicle that declares it to everyone around
 * is braking hard on the road: the truth must list it, not only the
 * broker.
 */
static int truth__hard_braking(const struct sim_truth_config *c,
			       const struct sim_vehicle *v)
{
	return v->a <= -c->hard_brake_mps2 ||
	       (v->connected && v->a < -BSM_HARD_BRAKE_MPS2);
}

/* How far a body at lateral offset @off moves across in @t (towards its
 * lane's centre line, where a lane change ends), signed like the offset. */
static double truth__drift(double off, double t)
{
	double d = fmin(fabs(off), LANE_CHANGE_MPS * t);

	return off > 0 ? -d : off < 0 ? d : 0;
}

/*
 * The standard deviation of the error of vehicle v's position as the
 * roadside gets it, per axis: a connected vehicle's from its BSMs
 * (--gnss-sigma; the broker keeps the BSM's position when a sensor sees
 * the car too, broker/fusion.c), another's from a sensor (pos_sigma, the
 * largest of the run's sensors).
 */
static double truth__sigma(const struct sim_world *w, const struct sim_vehicle *v)
{
	double sigma = 0;

	if (v->connected)
		return w->cfg.gnss_sigma;
	for (int k = 0; k < w->nsensor; k++)
		sigma = fmax(sigma, w->sensor[k].spec.pos_sigma);
	return sigma;
}

/*
 * The margin of a marginal collision risk of vehicles a and b, m:
 * CR_MARGIN_SIGMAS standard deviations of the error of the one's
 * position relative to the other's, along the lane and across it alike
 * (independent errors per axis: the root of the sum of their variances).
 * Two connected cars at --gnss-sigma 0.5 m: 1.41 m.  No roadside system
 * can tell a gap that close to the threshold from one under it: highway
 * seed 26 at 187.0 s (true TTC never under 1.528 s) and intersection seed
 * 27 at 70.4 s, two connected cars whose GNSS errors pointed towards
 * each other by 1.0-1.7 m for longer than the broker's 2 s filter.
 */
static double truth__margin(const struct sim_world *w, const struct sim_vehicle *a,
			    const struct sim_vehicle *b)
{
	return CR_MARGIN_SIGMAS * hypot(truth__sigma(w, a), truth__sigma(w, b));
}

/*
 * Is the time to collision of vehicle vi to vehicle ld (closing speed
 * v - vl, bumper gap @gap) under the threshold, their bodies overlapping
 * sideways - @sep is the distance between their centres across the lane
 * (leader minus follower) - now and still when the follower gets there
 * (a follower pulling out whose body will be clear of the leader's runs
 * into nothing)?  With a margin @m (m, 0: none) the gap is shortened and
 * the bodies widened by m: the condition within the position error.
 */
static int truth__ttc_to(const struct sim_truth_config *c, const struct sim_vehicle *v,
			 const struct sim_vehicle *ld, double vl, double gap, double sep,
			 double m)
{
	double closing = v->v - vl, half = 0.5 * (v->width + ld->width) + m, ttc;

	/*
	 * A wrong-way driver coming the other way is no leader: meeting it
	 * head-on is the wrong-way incident (what a vehicle held by an
	 * injected incident does is that incident), and a broker's
	 * collision risk is with a vehicle ahead travelling the lane's way
	 * (docs/events.md, path_heading_deg).
	 */
	if (ld->wrong_way || fabs(sep) >= half || closing <= 0)
		return 0;
	gap -= m;
	ttc = gap <= 0 ? 0 : gap / closing;
	if (ttc >= c->ttc_s)
		return 0;
	sep += truth__drift(ld->lat_off, ttc) - truth__drift(v->lat_off, ttc);
	return fabs(sep) < half;
}

/*
 * The time to collision of vehicle vi to the vehicle ahead of it: in its
 * travel lane (or its successor), and - while it changes lanes and its
 * body still straddles the lane it is leaving - in that lane, each only if
 * the two bodies overlap sideways, now and when it gets there.  A lane change moves the vehicle to its
 * new lane at once and its body across at 1 m/s: a follower that pulls out
 * late to pass a stopped vehicle still runs up to it for a second or two,
 * and a vehicle cutting in is not yet ahead of anyone in its new lane
 * while it is still beside it.  *leader is the vehicle of a short TTC (or
 * the one ahead in the travel lane), *gap its bumper gap.  With
 * @marginal, each pair is judged within its position error
 * (truth__margin()).
 */
static int truth__ttc(struct sim_world *w, int vi, int *leader, double *gap, int marginal)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	const struct sim_lane *l = &w->road.lane[v->lane];
	double vl = 0;
	int cr = 0;

	*leader = -1;
	*gap = sim_world_leader(w, v->lane, v->s, vi, &vl, leader);
	if (*leader >= 0) {
		const struct sim_vehicle *ld = &w->veh[*leader];

		cr = truth__ttc_to(c, v, ld, vl, *gap, ld->lat_off - v->lat_off,
				   marginal ? truth__margin(w, v, ld) : 0);
	}
	if (!cr && v->lat_off != 0) {
		int side = v->lat_off > 0 ? 1 : -1, nb = side > 0 ? l->left : l->right, ln2 = -1;
		double off = side > 0 ? l->left_off : l->right_off, vl2 = 0, gap2;

		if (nb < 0)
			return 0;
		gap2 = sim_world_leader(w, nb, v->s + off, vi, &vl2, &ln2);
		if (ln2 >= 0) {
			const struct sim_vehicle *ld = &w->veh[ln2];
			/* Its centre across the lane it is leaving. */
			double d = v->lat_off - side * 0.5 * (l->width + w->road.lane[nb].width);

			if (truth__ttc_to(c, v, ld, vl2, gap2, ld->lat_off - d,
					  marginal ? truth__margin(w, v, ld) : 0)) {
				*leader = ln2;
				*gap = gap2;
				cr = 1;
			}
		}
	}
	/*
	 * A vehicle leaving v's lane for the next one is in that lane at
	 * once, but its body crosses at 1 m/s: until it is clear it is
	 * still ahead of v (highway seed 19 at 293.9 s: a car queued
	 * behind a 13.6 m truck pulling out of a closed lane accelerated
	 * to 4 m/s into the truck's rear corner, 0.6 m from it with the
	 * bodies 0.5 m into each other sideways, and passed it within
	 * centimetres - no episode, since only v's own lane was judged).
	 */
	for (int side = -1; side <= 1 && !cr; side += 2) {
		int nb = side > 0 ? l->left : l->right, ln2 = -1;
		double off = side > 0 ? l->left_off : l->right_off, vl2 = 0, gap2, sep;

		if (nb < 0)
			continue;
		gap2 = sim_world_leader(w, nb, v->s + off, vi, &vl2, &ln2);
		/* Only one displaced towards v's lane is leaving it. */
		if (ln2 < 0 || w->veh[ln2].lat_off * side >= 0)
			continue;
		/* Its centre across v's lane, from v's. */
		sep = w->veh[ln2].lat_off + side * 0.5 * (l->width + w->road.lane[nb].width) -
		      v->lat_off;
		if (truth__ttc_to(c, v, &w->veh[ln2], vl2, gap2, sep,
				  marginal ? truth__margin(w, v, &w->veh[ln2]) : 0)) {
			*leader = ln2;
			*gap = gap2;
			cr = 1;
		}
	}
	return cr;
}

/*
 * sim__stands_clear() - does vehicle vi stand (slower than truth stop_mps)
 * in a travel lane (a vehicle lane, not a junction connector) with nothing
 * within truth stop_clear_m ahead: no vehicle, no stop line that stops it
 * (@gap, the bumper gap to what is ahead as sim_world_leader() gives it),
 * no closure, pedestrian on the road or lane end (sim__obstacle_ahead())?
 * A vehicle waiting at a signal or in a queue is not a stopped vehicle,
 * natural or injected: the stopped-vehicle condition of the truth.  Pure;
 * any thread that owns w.
 */
int sim__stands_clear(const struct sim_world *w, int vi, double gap)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	const struct sim_lane *l = &w->road.lane[v->lane];

	return v->v < c->stop_mps && l->type == SIM_LANE_VEHICLE && !l->connector &&
	       gap > c->stop_clear_m &&
	       sim__obstacle_ahead(w, v->lane, v->s, vi) > c->stop_clear_m;
}

static void truth__vehicle(struct sim_world *w, struct sim_truth *t, int vi)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	const struct sim_lane *l = &w->road.lane[v->lane];
	double gap, mgap, limit = l->speed_limit;
	int leader = -1, mleader = -1, hb, cr, crm, stop, speed;

	hb = truth__hard_braking(c, v);
	/* The leader in the same travel lane (or its successor). */
	cr = truth__ttc(w, vi, &leader, &gap, 0);
	crm = truth__ttc(w, vi, &mleader, &mgap, 1);
	stop = sim__stands_clear(w, vi, gap);
	speed = v->v > limit + fmax(limit * c->speed_tol_pct / 100.0, c->speed_tol_kph / 3.6);
	truth__cond(w, t, vi, NAT_HB, hb, -1);
	truth__cond(w, t, vi, NAT_CR, cr, leader);
	truth__cond(w, t, vi, NAT_CRM, crm, mleader);
	truth__cond(w, t, vi, NAT_STOP, stop, -1);
	truth__cond(w, t, vi, NAT_SPEED, speed, -1);
}

/*
 * A vehicle of an injected collision risk: its hard-braking and speeding
 * conditions (the follower closes up at 1.2 x the limit) and its time to
 * collision to a leader other than its partner; a stop is the incident's.
 */
static void truth__cr_pair(struct sim_world *w, struct sim_truth *t, int vi)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	double limit = w->road.lane[v->lane].speed_limit;

	for (int k = 0; k < NAT_PER_VEH; k++) {
		int *open = &t->open[vi * NAT_PER_VEH + k];

		if (k == NAT_STOP && *open >= 0) {
			truth__close(w, t, *open, truth__min_s(c, k));
			*open = -1;
		}
	}
	truth__cond(w, t, vi, NAT_HB, truth__hard_braking(c, v), -1);
	/* Its time to collision to a leader other than its partner (the
	 * leader braking towards a queue ahead). */
	for (int marginal = 0; marginal <= 1; marginal++) {
		const struct sim_incident *inc = &w->inc[v->incident];
		int leader = -1, cr;
		double gap;

		cr = truth__ttc(w, vi, &leader, &gap, marginal);
		if (leader == inc->veh[0] || leader == inc->veh[1])
			cr = 0;
		truth__cond(w, t, vi, marginal ? NAT_CRM : NAT_CR, cr, leader);
	}
	truth__cond(w, t, vi, NAT_SPEED,
		    v->v > limit + fmax(limit * c->speed_tol_pct / 100.0,
				       c->speed_tol_kph / 3.6), -1);
}

/*
 * An injected speeder: its speeding is the incident, but the hard braking
 * it does when its free road ends (up to 9 m/s^2 from 1.6 x the limit,
 * behind slower traffic or a stopped vehicle) and its time to collision
 * to the vehicle ahead are those conditions all the same - a broker that
 * reports them is right.
 */
static void truth__speeder(struct sim_world *w, struct sim_truth *t, int vi)
{
	const struct sim_truth_config *c = &w->cfg.truth;
	const struct sim_vehicle *v = &w->veh[vi];
	int leader = -1, cr;
	double gap;

	for (int k = NAT_STOP; k <= NAT_SPEED; k++) {
		int *open = &t->open[vi * NAT_PER_VEH + k];

		if (*open >= 0) {
			truth__close(w, t, *open, truth__min_s(c, k));
			*open = -1;
		}
	}
	truth__cond(w, t, vi, NAT_HB, truth__hard_braking(c, v), -1);
	cr = truth__ttc(w, vi, &leader, &gap, 0);
	truth__cond(w, t, vi, NAT_CR, cr, leader);
	cr = truth__ttc(w, vi, &leader, &gap, 1);
	truth__cond(w, t, vi, NAT_CRM, cr, leader);
}

/* Segments that hold an injected congestion incident (its closure). */
static int truth__seg_injected(const struct sim_world *w, int seg)
{
	for (int i = 0; i < w->ninc; i++) {
		const struct sim_incident *inc = &w->inc[i];

		if (inc->type == V2X_EVT_CONGESTION && inc->state == SIM_INC_ACTIVE &&
		    inc->segment_id == seg)
			return 1;
	}
	return 0;
}

/*
 * A segment's jam is observable this step (@seen): it holds in a bin with
 * at least jam_min_vehicles vehicles that send BSMs or are in a sensor's
 * latest frames - the rule of an injected congestion's queue: no detector
 * can judge a bin of vehicles it does not see, and a broker's bin needs
 * that many (min_vehicles).  Follows the run of such steps (dips under
 * gap_s do not break it).
 */
static void truth__jam_seen(const struct sim_world *w, struct nat_seg *sg, int seen)
{
	sim_run_step(&sg->obs, w->t, seen, w->cfg.truth.gap_s);
}

/* Has the jam been observable for jam_min_s, as the episode must hold? */
static int truth__jam_detectable(const struct sim_world *w, const struct nat_seg *sg)
{
	return sim_run_span(&sg->obs, w->t) >= w->cfg.truth.jam_min_s - 1e-9;
}

static void truth__congestion(struct sim_world *w, struct sim_truth *t)
{
	const struct sim_truth_config *c = &w->cfg.truth;

	if (!t->nbins)
		return;
	memset(t->bin_n, 0, (size_t)t->nbins * sizeof(int));
	memset(t->bin_inv, 0, (size_t)t->nbins * sizeof(double));
	memset(t->bin_obs, 0, (size_t)t->nbins * sizeof(int));
	for (int i = 0; i < w->nveh; i++) {
		const struct sim_vehicle *v = &w->veh[i];
		const struct sim_lane *l;
		struct nat_seg *sg;
		int b;

		if (!v->active || v->lane < 0 || v->wrong_way)
			continue;
		l = &w->road.lane[v->lane];
		if (l->type != SIM_LANE_VEHICLE || l->connector || l->segment < 0 ||
		    l->segment >= t->nseg)
			continue;
		/* A queue at a signal is normal traffic, not congestion. */
		if (l->sig >= 0 && l->length - v->s < 150)
			continue;
		sg = &t->seg[l->segment];
		b = (int)(v->s / c->jam_bin_m);
		if (b < 0)
			b = 0;
		if (b >= sg->nbins)
			b = sg->nbins - 1;
		b += sg->first_bin;
		t->bin_n[b]++;
		t->bin_inv[b] += 1.0 / fmax(v->v, 0.5);
		t->bin_lane[b] = v->lane;
		t->bin_obs[b] += sim__observable(w, i);
	}
	for (int s = 0; s < t->nseg; s++) {
		struct nat_seg *sg = &t->seg[s];
		double worst = INFINITY;
		int wb = -1, holds, seen = 0;

		if (!sg->nbins || sg->limit <= 0)
			continue;
		for (int b = sg->first_bin; b < sg->first_bin + sg->nbins; b++) {
			double r;

			if (t->bin_n[b] < c->jam_min_vehicles)
				continue;
			r = t->bin_n[b] / t->bin_inv[b] / sg->limit;
			seen |= r < c->jam_ratio && t->bin_obs[b] >= c->jam_min_vehicles;
			if (r < worst) {
				worst = r;
				wb = b;
			}
		}
		holds = wb >= 0 && worst < c->jam_ratio && !truth__seg_injected(w, s);
		truth__jam_seen(w, sg, holds && seen);
		if (sg->ep >= 0) {
			struct nat_ep *e = &t->ep[sg->ep];

			if (holds)
				e->last = w->t;
			if (e->inc.detect_t < 0 && truth__jam_detectable(w, sg))
				e->inc.detect_t = fmax(sg->obs.t0, e->inc.start_t);
			else if (w->t - e->last > c->jam_clear_s + 1e-9) {
				truth__close(w, t, sg->ep, 0);
				sg->ep = -1;
			}
			continue;
		}
		sim_run_step(&sg->on, w->t, holds, SIM_DT);
		if (!holds || sim_run_span(&sg->on, w->t) < c->jam_min_s - 1e-9)
			continue;
		sg->ep = truth__ep_new(w, t, V2X_EVT_CONGESTION);
		if (sg->ep < 0) {
			sg->ep = -1;
			continue;
		}
		{
			struct nat_ep *e = &t->ep[sg->ep];
			int ln = t->bin_lane[wb];
			double x, y, h, mid = ((wb - sg->first_bin) + 0.5) * c->jam_bin_m;

			if (mid > w->road.lane[ln].length)
				mid = w->road.lane[ln].length;
			/* Onset: when it began to hold; detectable once it has
			 * been observable (truth__jam_seen()). */
			e->inc.start_t = sg->on.t0;
			e->inc.detect_t = truth__jam_detectable(w, sg) ?
				fmax(sg->obs.t0, sg->on.t0) : -1;
			sim_lane_point(&w->road.lane[ln], mid, 0, &x, &y, &h, NULL);
			truth__locate(w, &e->inc, x, y, ln);
		}
	}
}

/*
 * sim__truth_step() - judge every vehicle and segment after a step (the
 * state the step's BSMs report).  Nothing without a truth file.
 */
void sim__truth_step(struct sim_world *w)
{
	struct sim_truth *t;

	if (!w->truth)
		return;
	t = truth__get(w);
	if (!t)
		return;
	for (int i = 0; i < w->nveh; i++) {
		const struct sim_vehicle *v = &w->veh[i];

		if (!v->active || v->lane < 0)
			continue;
		/*
		 * What a vehicle held by an injected incident does is that
		 * incident - except the hard braking and the speeding of the
		 * two vehicles of an injected collision risk (the leader's
		 * emergency stop, the follower closing up at 1.2 x the limit
		 * and its reaction), and the hard braking and time to
		 * collision of an injected speeder: conditions all the same.
		 */
		if (v->incident >= 0 && !v->wrong_way &&
		    w->inc[v->incident].type == V2X_EVT_COLLISION_RISK) {
			truth__cr_pair(w, t, i);
			continue;
		}
		if (v->incident >= 0 && !v->wrong_way &&
		    w->inc[v->incident].type == V2X_EVT_SPEEDING) {
			truth__speeder(w, t, i);
			continue;
		}
		if (v->incident >= 0 || v->wrong_way) {
			sim__truth_vehicle_left(w, i);
			continue;
		}
		truth__vehicle(w, t, i);
	}
	truth__congestion(w, t);
	/* Sensor ids are added as the sensors see the vehicles (sim__truth_seen). */
}

/*
 * sim__truth_vehicle_left() - vehicle slot vi leaves the road (or an
 * injected incident takes it over): its open episodes end now.
 */
void sim__truth_vehicle_left(struct sim_world *w, int vi)
{
	struct sim_truth *t = w->nat;

	if (!t || vi >= t->capveh)
		return;
	for (int k = 0; k < NAT_PER_VEH; k++) {
		int *open = &t->open[vi * NAT_PER_VEH + k];

		if (*open >= 0) {
			truth__close(w, t, *open, truth__min_s(&w->cfg.truth, k));
			*open = -1;
		}
	}
}

/*
 * sim__truth_seen() - a sensor reported vehicle slot vi as object obj: the
 * vehicle's open episodes take the id.
 */
void sim__truth_seen(struct sim_world *w, int vi, uint32_t sensor, uint32_t obj)
{
	struct sim_truth *t = w->nat;

	if (!t || vi >= t->capveh)
		return;
	for (int k = 0; k < NAT_PER_VEH; k++) {
		int e = t->open[vi * NAT_PER_VEH + k];
		struct sim_incident *inc;
		int have = 0;

		if (e < 0)
			continue;
		inc = &t->ep[e].inc;
		for (int i = 0; i < inc->nsobj; i++)
			have |= inc->sobj_sensor[i] == sensor && inc->sobj_id[i] == obj;
		if (!have && inc->nsobj < SIM_INC_IDS_MAX) {
			inc->sobj_sensor[inc->nsobj] = sensor;
			inc->sobj_id[inc->nsobj] = obj;
			inc->nsobj++;
		}
	}
}

/*
 * sim__truth_finish() - the run ends: write the episodes still open (those
 * that qualify).  Returns the number of natural episodes written.
 */
int sim__truth_finish(struct sim_world *w)
{
	struct sim_truth *t = w->nat;

	if (!t)
		return 0;
	for (int vi = 0; vi < t->capveh; vi++)
		for (int k = 0; k < NAT_PER_VEH; k++) {
			int *open = &t->open[vi * NAT_PER_VEH + k];

			if (*open >= 0) {
				/* Still holding at the end: it lasts until the end. */
				if (t->ep[*open].last >= w->t - 1e-9)
					t->ep[*open].last = w->t;
				truth__close(w, t, *open, truth__min_s(&w->cfg.truth, k));
				*open = -1;
			}
		}
	for (int s = 0; s < t->nseg; s++)
		if (t->seg[s].ep >= 0) {
			truth__close(w, t, t->seg[s].ep, 0);
			t->seg[s].ep = -1;
		}
	return t->written;
}

/*
 * sim__truth_free() - free the natural-truth state of w.
 */
void sim__truth_free(struct sim_world *w)
{
	struct sim_truth *t = w->nat;

	if (!t)
		return;
	free(t->ep);
	free(t->free_ep);
	free(t->open);
	free(t->seg);
	free(t->bin_n);
	free(t->bin_lane);
	free(t->bin_inv);
	free(t->bin_obs);
	free(t);
	w->nat = NULL;
}
