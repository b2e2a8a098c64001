/* SPDX-License-Identifier: MIT */
/*
 * detect_stopped.c - stopped vehicle in a travel lane.
 *
 * A vehicle on a vehicle lane slower than speed_mps (until it exceeds
 * resume_mps again) for persist_ms is a candidate, unless
 * - it is within queue_zone_m of the stop line of a signalised approach and
 *   the signal is not green, unknown, or green for less than green_grace_ms
 *   (waiting at the signal or for the queue to discharge); or
 * - the nearest vehicle ahead in its lane (within jam_lookahead_m) is slow
 *   (below jam_speed_mps): it is queued behind it, in a signal queue or a
 *   jam.  The vehicle at the head of the queue has no slow leader, so a
 *   broken-down vehicle is still reported while those stuck behind it are
 *   not.  A leader moving against the lane (a wrong-way driver the
 *   vehicle stopped for) suppresses it too.
 * A queue does not end at a segment boundary: a vehicle less than
 * jam_lookahead_m before the end of its lane with a slow vehicle at the
 * start of the lane it continues into (map next_lane_id) is queued too.
 * A vehicle that was waiting behind a slow or wrong-way leader (judged on
 * every sample below jam_speed_mps) is still taken as waiting for
 * reason_hold_ms after the leader moved off or left the lane: drivers need
 * a moment to move off.  A leader farther ahead adds the time the wave of
 * moving off takes to come back through the queue between them (vehicles
 * the broker may not see) at START_WAVE_MPS.  A leader faster than
 * resume_mps has moved off: it holds a standing vehicle only for that
 * hold, also while it is still below jam_speed_mps.
 * A vehicle that crawled (below jam_speed_mps) for crawl_ms before it
 * stopped is in stop-and-go traffic even when no slow leader is visible
 * (at 30 % V2X penetration and outside sensor coverage most vehicles
 * ahead are not): it must stand crawl_persist_ms before it is reported.
 * So must one with a slow vehicle beside it (within 20 m along) in a
 * neighbouring lane of the same direction (map properties left_lane_id /
 * right_lane_id): the neighbouring lanes stand too, a jam or the queue at
 * an obstruction, not a breakdown in moving traffic.
 * A vehicle that stood at the head of its lane and then left it into a
 * neighbouring lane without driving on past the spot went round something
 * the broker does not see (a lane closure, debris, an unseen broken-down
 * vehicle): for obstruction_ms after such a departure, vehicles stopping
 * within 15 m of that spot queue at the obstruction (the first one there
 * was reported) and open no new incident.
 * On a junction connector (a lane through the junction box, "connector" in
 * the map) a vehicle waits to turn or for its exit to clear: it must be
 * stopped for junction_wait_ms there.  So must one within jam_lookahead_m
 * of the end of a lane that ends beside a lane that goes on (no
 * next_lane_id of its own, a neighbour with one: an acceleration lane, a
 * lane drop): it waits for a gap to merge.
 * A vehicle standing in a lane that the cloud announced closed (a
 * lane_closure advisory, closures.h), inside the closed stretch or at most
 * closure_upstream_m before it, waits at the closure (to merge into an
 * open lane): a known condition, not a breakdown.  So does one farther
 * back in that lane whose nearest vehicle ahead (within
 * queue_lookahead_m) stands waiting at the closure: the queue reaches back
 * as far as it stands, link by seen link.  Like any other reason to
 * wait, it is held for reason_hold_ms after the closure is cleared.  One
 * that waited there and moves, still standing, into an open lane beside
 * the closure has merged into the queue through the bottleneck (whose
 * vehicles ahead may be unseen): its stop in the open lane must last
 * crawl_persist_ms.  A vehicle that was in the open lane all along is
 * judged as before (a breakdown there is reported at once).
 * A wrong-way driver that leaves the coverage goes on down the lane (and
 * into the lane before it) or stands in it facing the traffic: a vehicle
 * that stops in its path - ahead of where it was last seen, within the
 * distance it can have covered since, less than wrong_way_memory_ms ago -
 * faces it, and so does the driver itself under a new track (a new
 * TemporaryID while it stands) or found again under its own after a gap.
 * A slow vehicle ahead in the lane beyond jam_lookahead_m but within
 * queue_lookahead_m may be the visible head of a queue whose vehicles in
 * between send no BSMs and are out of sensor range: the stop must last
 * crawl_persist_ms.
 * A vehicle that changes its BSM TemporaryID (or that a sensor loses and
 * finds again under a new object id) while it stands is a new track: one
 * that appears standing within DUP_DIST_M of where a standing track of the
 * same lane sent its last sample, less than HANDOVER_NS before, is that
 * vehicle and carries on its stop (since when, what it waited for, whether
 * it crawled or had slow traffic beside it) instead of starting one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/msg.h"
#include "closures.h"
#include "detect_common.h"
#include "roadmap.h"

#define PRIV(e) (&(e)->priv.stopped)

#define SIG_MAX 64
#define DUP_DIST_M 3.5f
#define ALONGSIDE_M 20.0f
#define OBS_MAX 64        /* obstructions remembered */
#define OBS_NEAR_M 15.0f  /* a stop this close to one is at it */
#define WW_MAX 32         /* wrong-way sightings remembered */
#define WW_HOPS 3         /* lanes followed into the driver's path */
#define WW_MIN_SPEED 8.0f /* m/s assumed for a driver seen slower */
#define HANDOVER_NS 2000000000ull /* a new id this soon after the old one */
#define MOVE_OFF_NS 500000000ull  /* faster than speed_mps this long: moved off */
/*
 * How fast the wave of moving off travels back through a standing queue
 * when its head drives away: each driver moves off a moment after the one
 * ahead, so a vehicle d m back starts about d / START_WAVE_MPS s after the
 * head.  Traffic-flow measurements put this backward wave at 15-20 km/h
 * (4.2-5.6 m/s); 18 km/h is taken.
 */
#define START_WAVE_MPS 5.0f

struct sig_state {
	int32_t intersection, group;
	int state;
	uint64_t since_ns;
};

/* A spot of a lane where a stopped vehicle left sideways. */
struct obstruction {
	int32_t lane;
	float along;
	uint64_t t_ns;    /* sender time of the latest departure; 0 = free */
};

/* Where a wrong-way driver was last seen. */
struct ww_sighting {
	uint64_t track;
	int32_t lane;
	float along, speed;
	uint64_t t_ns;    /* sender time; 0 = free */
};

struct stopped {
	struct det_lanes *dl;
	struct obstruction obs[OBS_MAX];
	uint64_t obs_ns;
	struct ww_sighting ww[WW_MAX];
	uint64_t ww_ns;
	float queue_lookahead;
	float against_deg;        /* wrong_way.heading_err_deg */
	float speed, resume, queue_zone, lookahead, jam_speed, closure_upstream;
	uint64_t persist_ns, grace_ns, junction_ns, reason_hold_ns;
	uint64_t crawl_ns, crawl_persist_ns;
	struct sig_state sig[SIG_MAX];
	int n_sig;
};

static int is_vehicle(uint8_t cls)
{
	return cls != V2X_CLASS_PEDESTRIAN && cls != V2X_CLASS_CYCLIST;
}

/* How long the signal has been in its current state (0 if just seen). */
static uint64_t signal_age(struct stopped *st, int32_t inter, int32_t group,
			   int state, uint64_t now)
{
	struct sig_state *g = NULL;
	int i;

	for (i = 0; i < st->n_sig; i++)
		if (st->sig[i].intersection == inter && st->sig[i].group == group) {
			g = &st->sig[i];
			break;
		}
	if (!g) {
		/* A full table recycles the first entry: only ageing suffers. */
		g = st->n_sig < SIG_MAX ? &st->sig[st->n_sig++] : &st->sig[0];
		g->intersection = inter;
		g->group = group;
		g->state = state;
		g->since_ns = now;
	}
	if (g->state != state) {
		g->state = state;
		g->since_ns = now;
	}
	return now > g->since_ns ? now - g->since_ns : 0;
}

static int waiting_at_signal(struct stopped *st, const struct det_sample *s,
			     const struct det_env *env)
{
	struct roadmap_lane_info li;
	int state;

	if (!env->map || roadmap_lane(env->map, s->match.lane, &li) < 0)
		return 0;
	if (li.signal_group < 0 || s->match.to_stop_line_m < 0 ||
	    s->match.to_stop_line_m > st->queue_zone)
		return 0;
	state = detect__signal_state(env, li.intersection_id, li.signal_group);
	if (state < 0 || detect__state_is_stop(state))
		return 1;
	/* Before the first tick the age of the state is unknown. */
	if (!detect__lanes_now(st->dl))
		return 1;
	return signal_age(st, li.intersection_id, li.signal_group, state,
			  detect__lanes_now(st->dl)) < st->grace_ns;
}

/* 1 if @lane_id is a lane of @map that continues into another. */
static int lane_goes_on(const struct roadmap *map, int32_t lane_id)
{
	struct roadmap_lane_info li;

	return lane_id >= 0 && roadmap_lane(map, lane_id, &li) == 0 &&
	       li.next_lane_id >= 0;
}

/*
 * 0: not a vehicle lane; 1: a vehicle lane; 2: a place where vehicles
 * yield and wait - a junction connector, or the last zone_m of a lane
 * that ends beside one that goes on (merging).
 */
static int on_vehicle_lane(const struct det_sample *s, const struct det_env *env,
			   float zone_m)
{
	struct roadmap_lane_info li;

	if (s->match.lane < 0)
		return 0;
	if (!env->map || roadmap_lane(env->map, s->match.lane, &li) < 0)
		return 1;
	if (li.type != ROADMAP_LANE_VEHICLE)
		return 0;
	if (li.connector)
		return 2;
	if (li.next_lane_id < 0 && li.length_m - s->match.along_m <= zone_m &&
	    (lane_goes_on(env->map, li.left_lane_id) ||
	     lane_goes_on(env->map, li.right_lane_id)))
		return 2;
	return 1;
}

/*
 * A slow vehicle (below jam_speed_mps) at the start of the lane this one
 * continues into, within jam_lookahead_m of the vehicle: its leader is
 * across the segment boundary.
 */
static int slow_in_next_lane(struct stopped *st, const struct det_sample *s,
			     const struct det_env *env)
{
	struct roadmap_lane_info li;
	float left;

	if (!env->map || roadmap_lane(env->map, s->match.lane, &li) < 0 ||
	    li.next_lane_id < 0)
		return 0;
	left = fmaxf(li.length_m - s->match.along_m, 0.0f);
	if (left >= st->lookahead)
		return 0;
	return detect__lanes_slow_in(st->dl, li.next_lane_id, 0.0f,
				     st->lookahead - left, st->jam_speed) > 0;
}

/* Is a lane beside the vehicle's (map left_lane_id / right_lane_id) closed
 * at its position, or at most closure_upstream_m before the closure? */
static int beside_closure(const struct stopped *st, const struct det_sample *s,
			  const struct det_env *env)
{
	struct roadmap_lane_info li;

	if (!env->closures || !env->map ||
	    roadmap_lane(env->map, s->match.lane, &li) < 0)
		return 0;
	return (li.left_lane_id >= 0 &&
		closures_at(env->closures, li.left_lane_id, s->match.along_m,
			    st->closure_upstream, env->now_ns)) ||
	       (li.right_lane_id >= 0 &&
		closures_at(env->closures, li.right_lane_id, s->match.along_m,
			    st->closure_upstream, env->now_ns));
}

/* A confirmed vehicle slower than jam_speed_mps within ALONGSIDE_M ahead
 * or behind in a neighbouring lane of the same direction? */
static int slow_alongside(struct stopped *st, const struct det_sample *s,
			  const struct det_env *env)
{
	struct roadmap_lane_info li;
	float a = s->match.along_m;

	if (!env->map || roadmap_lane(env->map, s->match.lane, &li) < 0)
		return 0;
	return detect__lanes_slow_in(st->dl, li.left_lane_id, a - ALONGSIDE_M,
				     a + ALONGSIDE_M, st->jam_speed) > 0 ||
	       detect__lanes_slow_in(st->dl, li.right_lane_id, a - ALONGSIDE_M,
				     a + ALONGSIDE_M, st->jam_speed) > 0;
}

/*
 * The nearest confirmed vehicle ahead in the lane lies beyond
 * jam_lookahead_m but within queue_lookahead_m and is slow: the visible
 * head of a queue, perhaps, whose vehicles in between are unseen (at 30 %
 * penetration 8 vehicles in a row without a BSM are 6 % of queues).
 */
static const struct det_entry *slow_far_ahead(const struct stopped *st,
					      const struct det_entry *e)
{
	const struct det_entry *lead;

	if (st->queue_lookahead <= st->lookahead)
		return NULL;
	lead = detect__lanes_leader(st->dl, e, DUP_DIST_M, st->queue_lookahead);
	if (lead && lead->along_m - e->along_m > st->lookahead &&
	    (lead->speed_mps < st->jam_speed || lead->against))
		return lead;
	return NULL;
}

/*
 * @e stands before a closure of its lane (within closure_upstream_m of its
 * start, but farther than jam_lookahead_m: not where vehicles wait to
 * merge), and its nearest confirmed vehicle ahead, within jam_lookahead_m
 * and short of the closed stretch, drives on (at least jam_speed_mps, along
 * the lane): no queue stands in front of @e.
 */
static int flow_before_closure(const struct stopped *st,
			       const struct det_entry *e,
			       const struct det_sample *s,
			       const struct det_env *env)
{
	const struct det_entry *lead;
	int32_t lane = s->match.lane;

	if (!closures_at(env->closures, lane, s->match.along_m,
			 st->closure_upstream, env->now_ns) ||
	    closures_at(env->closures, lane, s->match.along_m, st->lookahead,
			env->now_ns))
		return 0;
	lead = detect__lanes_leader(st->dl, e, DUP_DIST_M, st->lookahead);
	return lead && !lead->against && lead->speed_mps >= st->jam_speed &&
	       closures_at(env->closures, lane, lead->along_m,
			   st->closure_upstream, env->now_ns) &&
	       !closures_at(env->closures, lane, lead->along_m, 0.0f, env->now_ns);
}

/*
 * @e is in a lane closed farther ahead, and the nearest confirmed vehicle
 * ahead of it, within queue_lookahead_m, is slow and stands in the
 * closure's queue (it waited in the closed stretch or the
 * closure_upstream_m before it, or behind one that did): @e is farther
 * back in the same queue.  A closure's queue grows back as far as the
 * demand reaches, not to a fixed distance, and at 30 % penetration most of
 * its vehicles are not seen.
 */
static int in_closure_queue(const struct stopped *st, const struct det_entry *e,
			    const struct det_sample *s, const struct det_env *env)
{
	const struct det_entry *lead;

	/* Closed anywhere ahead in its lane: no upstream limit. */
	if (!closures_at(env->closures, s->match.lane, s->match.along_m,
			 1e9f, env->now_ns))
		return 0;
	lead = detect__lanes_leader(st->dl, e, DUP_DIST_M,
				    fmaxf(st->queue_lookahead, st->lookahead));
	return lead && lead->speed_mps < st->jam_speed &&
	       PRIV(lead)->waited_at_closure;
}

/* Is (lane, along) at an obstruction seen lately? */
static int at_obstruction(const struct stopped *st, int32_t lane, float along,
			  uint64_t t_ns)
{
	int i;

	for (i = 0; i < OBS_MAX; i++) {
		const struct obstruction *o = &st->obs[i];

		if (o->t_ns && o->lane == lane && fabsf(o->along - along) <= OBS_NEAR_M &&
		    t_ns >= o->t_ns && t_ns - o->t_ns <= st->obs_ns)
			return 1;
	}
	return 0;
}

/* Remember (or refresh) an obstruction; the oldest entry is reused. */
static void add_obstruction(struct stopped *st, int32_t lane, float along,
			    uint64_t t_ns)
{
	struct obstruction *o = &st->obs[0];
	int i;

	for (i = 0; i < OBS_MAX; i++) {
		if (st->obs[i].t_ns && st->obs[i].lane == lane &&
		    fabsf(st->obs[i].along - along) <= OBS_NEAR_M) {
			o = &st->obs[i];
			break;
		}
		if (st->obs[i].t_ns < o->t_ns)
			o = &st->obs[i];
	}
	o->lane = lane;
	o->along = along;
	o->t_ns = t_ns ? t_ns : 1;
}

/*
 * A vehicle that stood at the head of its lane (head_lane = lane + 1,
 * head_along = along) and leaves it into a neighbouring lane without driving
 * on past the spot went round something there: an obstruction the broker
 * does not see (a lane closure, debris, an unseen broken-down vehicle).
 */
static void note_departure(struct stopped *st, struct det_entry *e,
			   const struct det_sample *s, const struct det_env *env)
{
	struct roadmap_lane_info li;
	int32_t lane = PRIV(e)->head_lane - 1;

	if (PRIV(e)->head_lane <= 0 || s->match.lane == lane)
	{
		if (PRIV(e)->head_lane > 0 && s->match.along_m > PRIV(e)->head_along + OBS_NEAR_M)
			PRIV(e)->head_lane = 0; /* drove on through */
		return;
	}
	PRIV(e)->head_lane = 0;
	if (s->match.lane < 0 || !env->map ||
	    roadmap_lane(env->map, lane, &li) < 0 ||
	    (li.left_lane_id != s->match.lane && li.right_lane_id != s->match.lane))
		return;
	add_obstruction(st, lane, PRIV(e)->head_along, s->t_ns);
}

/*
 * Remember where a wrong-way driver is (the wrong-way detector's verdict
 * on the shared table entry): one sighting per track, the oldest reused.
 */
static void note_wrong_way(struct stopped *st, const struct det_entry *e,
			   const struct det_sample *s)
{
	struct ww_sighting *w = &st->ww[0];
	int i;

	if (!e->priv.wrong_way.reported || s->match.lane < 0 || !st->ww_ns)
		return;
	for (i = 0; i < WW_MAX; i++) {
		if (st->ww[i].t_ns && st->ww[i].track == s->track_id) {
			w = &st->ww[i];
			break;
		}
		if (st->ww[i].t_ns < w->t_ns)
			w = &st->ww[i];
	}
	w->track = s->track_id;
	w->lane = s->match.lane;
	w->along = s->match.along_m;
	w->speed = s->speed_mps;
	w->t_ns = s->t_ns ? s->t_ns : 1;
}

/*
 * Is the vehicle of @s in the path of a wrong-way driver seen lately: in
 * its lane ahead of the vehicle (or at most OBS_NEAR_M behind it: the
 * driver itself, standing under a new track, or under its own one found
 * again after a sensor lost it - the table dropped its entry and the
 * wrong-way evidence with it), or in a lane this one
 * continues into (up to WW_HOPS), no farther than jam_lookahead_m plus the
 * distance the driver can have driven since?
 */
static int in_wrong_way_path(const struct stopped *st,
			     const struct det_sample *s,
			     const struct det_env *env)
{
	struct roadmap_lane_info li;
	int i, hop;

	for (i = 0; i < WW_MAX; i++) {
		const struct ww_sighting *w = &st->ww[i];
		float reach, dist;
		int32_t lane;

		if (!w->t_ns || s->t_ns < w->t_ns ||
		    s->t_ns - w->t_ns > st->ww_ns)
			continue;
		reach = st->lookahead + fmaxf(w->speed, WW_MIN_SPEED) *
			(float)((double)(s->t_ns - w->t_ns) * 1e-9);
		if (w->lane == s->match.lane) {
			dist = w->along - s->match.along_m;
			if (dist >= -OBS_NEAR_M && dist <= reach)
				return 1;
			continue;
		}
		if (!env->map)
			continue;
		lane = s->match.lane;
		dist = 0.0f;
		for (hop = 0; hop < WW_HOPS; hop++) {
			if (roadmap_lane(env->map, lane, &li) < 0 ||
			    li.next_lane_id < 0)
				break;
			dist += hop ? li.length_m :
				fmaxf(li.length_m - s->match.along_m, 0.0f);
			lane = li.next_lane_id;
			if (dist > reach)
				break;
			if (lane == w->lane) {
				if (dist + w->along <= reach)
					return 1;
				break;
			}
		}
	}
	return 0;
}

/*
 * The stop a new track takes over (take_over_stop()): the newest standing
 * track's; of two seen at the same instant (a BSM's and a sensor's track
 * of one vehicle), the one that stopped first - when the vehicle stopped.
 */
static void pick_standing(void *ctx, struct det_entry *o)
{
	const struct det_entry **best = ctx, *b = *best;

	if (PRIV(o)->stop_ns &&
	    (!b || o->t_ns > b->t_ns ||
	     (o->t_ns == b->t_ns && PRIV(o)->stop_ns < PRIV(b)->stop_ns)))
		*best = o;
}

/*
 * @e appears standing (its first sample of the appearance): is it a
 * vehicle that stood there under another track until a moment ago - a new
 * BSM TemporaryID, a sensor object re-acquired under a new id?  The
 * standing track of the same lane whose last sample lies within
 * DUP_DIST_M, at most HANDOVER_NS before @s and not after it, hands over
 * its stop (the newest; pick_standing()).  Two
 * vehicles cannot stand within DUP_DIST_M of each other in one lane; a
 * track of the same vehicle that goes on sending (a sensor's duplicate)
 * holds the same stop anyway.
 */
static void take_over_stop(struct stopped *st, struct det_entry *e,
			   const struct det_sample *s)
{
	const struct det_entry *best = NULL;

	detect__lanes_seen_near(st->dl, s->match.lane, s->match.along_m,
				DUP_DIST_M, s->t_ns, HANDOVER_NS, s->track_id,
				pick_standing, &best);
	if (!best)
		return;
	PRIV(e)->stop_ns = PRIV(best)->stop_ns;
	PRIV(e)->hold_until_ns = PRIV(best)->hold_until_ns;
	PRIV(e)->crawl_ns = PRIV(best)->crawl_ns;
	PRIV(e)->crawl_persist = PRIV(best)->crawl_persist;
	PRIV(e)->waited_at_closure = PRIV(best)->waited_at_closure;
	PRIV(e)->judged = PRIV(best)->judged;
	PRIV(e)->flow_ahead = PRIV(best)->flow_ahead;
	PRIV(e)->far_track = PRIV(best)->far_track;
}

static void stopped_on_sample(void *self, const struct det_sample *s,
			      struct det_env *env)
{
	struct stopped *st = self;
	const struct det_entry *lead;
	struct det_candidate c;
	struct det_entry *e;
	uint64_t need, hold_ns;
	int created, slow, kind, waiting = 0;

	if (!is_vehicle(s->cls))
		return;
	e = detect__lanes_update(st->dl, s, &created);
	if (!e)
		return;
	note_departure(st, e, s, env);
	note_wrong_way(st, e, s);
	slow = s->speed_mps < (PRIV(e)->reported ? st->resume : st->speed);
	kind = on_vehicle_lane(s, env, st->lookahead);
	/* Crawling (below jam_speed_mps, with 20 % hysteresis) since crawl_ns. */
	if (s->speed_mps < st->jam_speed) {
		if (!PRIV(e)->crawl_ns)
			PRIV(e)->crawl_ns = s->t_ns ? s->t_ns : 1;
	} else if (s->speed_mps >= st->jam_speed * 1.2f) {
		PRIV(e)->crawl_ns = 0;
	}
	if (kind && (slow || s->speed_mps < st->jam_speed)) {
		/*
		 * Waiting for a reason: at a signal, behind a slow vehicle
		 * (a queue, a jam), or facing one coming the wrong way down
		 * the lane - judged while slow, so that a vehicle creeping
		 * up a queue is known to be queued when it stops.
		 */
		lead = detect__lanes_leader(st->dl, e, DUP_DIST_M, st->lookahead);
		waiting = lead && (lead->speed_mps < st->jam_speed || lead->against);
		/*
		 * A standing vehicle whose leader has moved off (faster than
		 * resume_mps, the speed that ends a stop) is no longer held
		 * by it: it follows within the hold below, the driver's
		 * moment and the wave back through the queue between them.
		 * A queue ahead that discharges below jam_speed_mps while
		 * the vehicle stands is a queue it was left behind by, not
		 * one it waits in (measured: intersection seed 29, incident
		 * 15, a connected car broke down 40 m behind the visible
		 * tail of a signal queue; the queue moved off at 1-5 m/s,
		 * one seen leader after another within jam_lookahead_m, and
		 * the next red's queue came back to 36-46 m ahead: it was
		 * never reported).  One still creeping itself (a queue
		 * moving up) is judged as before.
		 */
		if (waiting && !lead->against && slow &&
		    lead->speed_mps >= st->resume)
			waiting = 0;
		/* Until when the reason holds once it is gone (hold_until_ns): a
		 * moment for the driver, and for a leader farther ahead the
		 * time its moving off takes to come back through the queue
		 * between them (measured: intersection seed 20, a connected
		 * car stood 47 m behind a broken-down car, with five unseen
		 * cars between them; it was reported 5.7 s after the
		 * breakdown drove off, while the car in front of it was only
		 * moving off; a false positive). */
		hold_ns = st->reason_hold_ns;
		if (waiting && lead->along_m > e->along_m)
			hold_ns += (uint64_t)((double)(lead->along_m - e->along_m) /
					      START_WAVE_MPS * 1e9);
		if (!lead)
			waiting = slow_in_next_lane(st, s, env);
		/* A wrong-way driver may be coming down the lane (or stand
		 * in it) out of sight. */
		if (!waiting && !e->priv.wrong_way.reported)
			waiting = in_wrong_way_path(st, s, env);
		/*
		 * It faces against its lane (more than the wrong-way
		 * detector's heading_err_deg off): a wrong-way driver that
		 * stopped - facing the traffic it has met, before it moved
		 * far or fast enough for the wrong-way detector - or one
		 * turning round, not a breakdown in the lane (measured:
		 * intersection seed 9, incident 17's driver turned in the
		 * queue behind a stopped car, crept 0.8 m/s, and stood
		 * 40 s nose to nose with the car behind it; reported as a
		 * stopped vehicle at 239.6 s, a false positive).
		 */
		if (!waiting && s->match.lane >= 0 &&
		    fabsf(s->match.heading_err_deg) > st->against_deg)
			waiting = 1;
		if (waiting)
			PRIV(e)->hold_until_ns = s->t_ns + hold_ns;
		/*
		 * Standing before a closure while a vehicle drives on ahead
		 * of it in its lane, short of the closed stretch: the
		 * closure's queue does not reach back to it, and for the
		 * rest of this stop the closure is no reason (a queue that
		 * grows back to it later is judged as any queue).  Measured:
		 * highway seed 31, incident 15, a connected car broke down
		 * 86 m before the closure of lanes 8 and 9, 83 m behind the
		 * only car waiting at it; connected cars changing lanes
		 * drove past it in its lane at 7-13 m/s for 20 s before the
		 * queue grew back to it - never reported.
		 */
		if (slow && !PRIV(e)->flow_ahead &&
		    flow_before_closure(st, e, s, env))
			PRIV(e)->flow_ahead = 1;
		/* A lane the cloud announced closed: the vehicle waits to
		 * merge out at (or queues before) the closure. */
		if (PRIV(e)->flow_ahead) {
			/* judged as in an open lane */
		} else if (closures_at(env->closures, s->match.lane,
				       s->match.along_m, st->closure_upstream,
				       env->now_ns) ||
			   in_closure_queue(st, e, s, env)) {
			/*
			 * Or it stands farther back in the closure's queue,
			 * behind a vehicle that waits there (measured:
			 * highway seed 13, a car stood 64 s in the queue of
			 * the closure of lanes 11 and 12, 217 m before it,
			 * behind unseen cars, the nearest vehicle seen one
			 * 74 m ahead waiting 143 m before the closure;
			 * reported after crawl_persist_ms, a false positive).
			 */
			waiting = 1;
			PRIV(e)->hold_until_ns = s->t_ns + st->reason_hold_ns;
			PRIV(e)->waited_at_closure = 1;
		} else if (slow && PRIV(e)->waited_at_closure &&
			   beside_closure(st, s, env)) {
			/*
			 * It waited at the closure and has moved, standing,
			 * into an open lane beside it: merged into the
			 * queue through the bottleneck, whose vehicles ahead
			 * may be unseen - a stop of its own there, which
			 * must last crawl_persist_ms (measured: highway
			 * seed 6, a car that merged at walking pace 62 m
			 * before a closure, no vehicle visible ahead, was
			 * reported 5 s later and drove on 1 s after that).
			 */
			PRIV(e)->waited_at_closure = 0;
			PRIV(e)->stop_ns = s->t_ns ? s->t_ns : 1;
			PRIV(e)->crawl_persist = 1;
			PRIV(e)->far_track = 0;
		}
		/* A signal has its own grace (green_grace_ms). */
		waiting |= waiting_at_signal(st, s, env);
	}
	/*
	 * A stop ends when the vehicle moves off: faster than speed_mps
	 * for MOVE_OFF_NS (or at once faster than resume_mps).  A roadside
	 * sensor's speed of a standing object is noisy: measured on
	 * intersection seed 7, standing sensor tracks had 677 single
	 * samples of 0.5-0.9 m/s, 34 pairs, 2 triples and none longer, and
	 * every such sample started the stop over (its sensor-only
	 * breakdown stood 120 s, never 6 s in a row, and was never
	 * reported).  Meanwhile the stop is held: neither raised nor ended.
	 */
	if (slow) {
		PRIV(e)->move_off_s = 0.0f;
	} else if (kind && PRIV(e)->stop_ns && !PRIV(e)->reported &&
		   s->speed_mps < st->resume && s->t_ns >= PRIV(e)->stop_ns) {
		float at = (float)((double)(s->t_ns - PRIV(e)->stop_ns) * 1e-9);

		if (PRIV(e)->move_off_s <= 0.0f)
			PRIV(e)->move_off_s = fmaxf(at, 1e-6f);
		if ((double)(at - PRIV(e)->move_off_s) * 1e9 < (double)MOVE_OFF_NS)
			return;
	}
	if (!slow || !kind) {
		PRIV(e)->move_off_s = 0.0f;
		PRIV(e)->stop_ns = 0;
		PRIV(e)->reported = 0;
		PRIV(e)->crawl_persist = 0;
		PRIV(e)->waited_at_closure = 0;
		PRIV(e)->judged = 0;
		PRIV(e)->flow_ahead = 0;
		PRIV(e)->far_track = 0;
		return;
	}
	if (!PRIV(e)->stop_ns && e->n_samples == 1)
		take_over_stop(st, e, s);
	if (!PRIV(e)->stop_ns)
		PRIV(e)->stop_ns = s->t_ns ? s->t_ns : 1;
	need = st->persist_ns;
	/* In a junction box vehicles wait to turn or for their exit to
	 * clear: only a much longer stop there is an incident. */
	if (kind == 2 && st->junction_ns > need)
		need = st->junction_ns;
	/* Crawled for a long time before it stopped: stop-and-go in a queue
	 * whose vehicles ahead the broker may not see (not connected, out of
	 * sensor range); a vehicle that breaks down drops from speed. */
	if (PRIV(e)->crawl_ns && PRIV(e)->stop_ns > PRIV(e)->crawl_ns &&
	    PRIV(e)->stop_ns - PRIV(e)->crawl_ns >= st->crawl_ns &&
	    st->crawl_persist_ns > need)
		need = st->crawl_persist_ns;
	/*
	 * Traffic beside it in the neighbouring lanes stands or crawls too:
	 * a jam (or the queue at an obstruction), not a vehicle that broke
	 * down in moving traffic.  Judged once, when the stop has lasted
	 * persist_ms: later the traffic around a stopped vehicle slows
	 * because of it - vehicles behind squeeze past in the lane beside -
	 * or a queue grows back to it (measured: intersection seed 29,
	 * incident 15, a car 37 s into its stop behind a signal queue was
	 * given crawl_persist_ms by the queue beside it moving off).  A
	 * slow vehicle far ahead that alone set it and is then seen driving
	 * on was a queue head that moved off, not a jam: it holds only for
	 * the reason hold and the wave back over the gap (measured: highway
	 * seed 31, incident 15, a car slowing 67 m ahead to merge out at a
	 * closure when the breakdown stopped, gone 3 s later).
	 */
	if (!PRIV(e)->reported && st->crawl_persist_ns > need &&
	    s->t_ns - PRIV(e)->stop_ns >= st->persist_ns) {
		const struct det_entry *far;

		if (!PRIV(e)->judged) {
			PRIV(e)->judged = 1;
			if (!PRIV(e)->crawl_persist && slow_alongside(st, s, env)) {
				PRIV(e)->crawl_persist = 1;
			} else if (!PRIV(e)->crawl_persist &&
				   (far = slow_far_ahead(st, e)) != NULL) {
				PRIV(e)->crawl_persist = 1;
				PRIV(e)->far_track = far->track_id;
			}
		} else if (PRIV(e)->far_track &&
			   (far = detect__lanes_get(st->dl, PRIV(e)->far_track)) &&
			   far->speed_mps >= st->jam_speed && !far->against) {
			uint64_t until = s->t_ns + st->reason_hold_ns +
				(uint64_t)((double)fmaxf(far->along_m - e->along_m, 0.0f) /
					   START_WAVE_MPS * 1e9);

			PRIV(e)->crawl_persist = 0;
			PRIV(e)->far_track = 0;
			if (until > PRIV(e)->hold_until_ns)
				PRIV(e)->hold_until_ns = until;
		}
		if (PRIV(e)->crawl_persist)
			need = st->crawl_persist_ns; /* for this stop */
	}
	if (s->t_ns - PRIV(e)->stop_ns < need)
		return;
	/* Stopped for a reason already reported (or normal), or for one
	 * that went away a moment ago: the driver is about to move on (a
	 * pedestrian who left the lane, a queue ahead that moved off, the
	 * vehicle ahead that merged out of a closed lane).  Once reported,
	 * the stop stays reported while it stands: a queue that forms ahead
	 * of a broken-down vehicle later does not explain its stop
	 * (measured: intersection seed 33, incident 8, the event of a truck
	 * standing behind a signal queue cleared when the next red's queue
	 * came back within jam_lookahead_m, and a second event opened when
	 * it moved off; highway seed 31 and intersection seed 29 incident
	 * 15 cleared the same way 14-20 s after they were raised). */
	if (!PRIV(e)->reported &&
	    (waiting || s->t_ns < PRIV(e)->hold_until_ns))
		return;
	/* Standing at the head of its lane: if it leaves sideways, the spot
	 * is an obstruction (note_departure()). */
	PRIV(e)->head_lane = s->match.lane + 1;
	PRIV(e)->head_along = s->match.along_m;
	/* Queued at an obstruction that earlier vehicles went round: not a
	 * new incident (the first one there was reported). */
	if (!PRIV(e)->reported && at_obstruction(st, s->match.lane, s->match.along_m, s->t_ns))
		return;
	PRIV(e)->reported = 1;
	detect__cand_from_sample(&c, V2X_EVT_STOPPED_VEHICLE, s);
	c.severity = 5;
	env->raise(env->owner, &c);
}

static void stopped_tick(void *self, struct det_env *env)
{
	struct stopped *st = self;
	uint64_t now = detect__lanes_tick(st->dl, env->now_ns);
	int i, k;

	/* Closures announced since the last tick, expiries (now_ns is
	 * CLOCK_REALTIME, as the advisories' "until"). */
	if (env->closures)
		closures_update(env->closures, env->map, env->now_ns);
	/* Follow every signal's state so that its age is known from when it
	 * changed, not from when a vehicle first asked. */
	for (i = 0; env->spat && i < env->n_spat; i++)
		for (k = 0; k < env->spat[i].n && k < V2X_SPAT_MOVEMENTS_MAX; k++)
			signal_age(st, (int32_t)env->spat[i].intersection_id,
				   env->spat[i].mv[k].signal_group,
				   env->spat[i].mv[k].state, now);
	detect__lanes_maintain(st->dl);
}

static void stopped_free(void *self)
{
	struct stopped *st = self;

	if (!st)
		return;
	detect__lanes_free(st->dl);
	free(st);
}

static const struct detector_ops stopped_ops = {
	.name = "stopped_vehicle",
	.on_sample = stopped_on_sample,
	.tick = stopped_tick,
	.free = stopped_free,
};

/**
 * detect__stopped_new() - see detect_common.h.
 */
struct detector detect__stopped_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct stopped *st = calloc(1, sizeof(*st));

	if (!st)
		return d;
	st->dl = detect__lanes_for(cfg, shared);
	if (!st->dl) {
		free(st);
		return d;
	}
	st->speed = cfg->stopped.speed_mps;
	st->resume = fmaxf(cfg->stopped.resume_mps, cfg->stopped.speed_mps);
	st->persist_ns = (uint64_t)cfg->stopped.persist_ms * 1000000u;
	st->queue_zone = cfg->stopped.queue_zone_m;
	st->grace_ns = (uint64_t)cfg->stopped.green_grace_ms * 1000000u;
	st->junction_ns = (uint64_t)cfg->stopped.junction_wait_ms * 1000000u;
	st->reason_hold_ns = (uint64_t)cfg->stopped.reason_hold_ms * 1000000u;
	st->crawl_ns = (uint64_t)cfg->stopped.crawl_ms * 1000000u;
	st->crawl_persist_ns = (uint64_t)cfg->stopped.crawl_persist_ms * 1000000u;
	st->obs_ns = (uint64_t)cfg->stopped.obstruction_ms * 1000000u;
	st->lookahead = cfg->stopped.jam_lookahead_m;
	st->jam_speed = cfg->stopped.jam_speed_mps;
	st->closure_upstream = cfg->stopped.closure_upstream_m;
	st->ww_ns = (uint64_t)cfg->stopped.wrong_way_memory_ms * 1000000u;
	st->queue_lookahead = cfg->stopped.queue_lookahead_m;
	st->against_deg = cfg->wrong_way.heading_err_deg;
	d.ops = &stopped_ops;
	d.self = st;
	return d;
}

/**
 * detect_stopped_new() - see detect_config.h.
 */
struct detector detect_stopped_new(const struct detect_config *cfg)
{
	return detect__stopped_new(cfg, NULL);
}
