/* SPDX-License-Identifier: MIT */
/*
 * detect_wrong_way.c - wrong-way driving.
 *
 * Evidence accumulates in time: while a vehicle on a vehicle lane moves
 * faster than min_speed_mps with a heading more than heading_err_deg off the
 * lane's direction of travel, its score grows by the elapsed time; any other
 * sample shrinks it by the same amount (floor 0, ceiling persist_ms).  The
 * time between two samples is evidence only when both of them met that
 * condition; the first sample meeting it after one that did not (or the
 * track's first sample) counts for its own sampling interval only
 * (ONSET_STEP_NS at most), not for the time since the previous sample,
 * which may be an unseen interval that says nothing of when the vehicle
 * turned.  Each sample against the lane thus counts as its own interval of
 * driving, as the ground truth counts each 0.1 s step, its first included
 * (docs/simulator.md: "1.0 s in all" is ten steps).  The vehicle is a
 * candidate once the score reaches persist_ms, and stays one until the
 * score falls under half of it.  Position noise near the boundary with an
 * opposite lane is handled by lane keeping: the sample is re-matched
 * preferring the lane of the track's previous sample
 * (roadmap_match_prefer()), so a wrong-way driver is judged against the
 * lane it is in, not the neighbouring lane its heading agrees with.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "v2x/msg.h"
#include "detect_common.h"

#define PRIV(e) (&(e)->priv.wrong_way)
#include "roadmap.h"

#define MAX_STEP_NS 1000000000ull
/* The most a first sample against the lane counts for: the sampling
 * interval of a BSM (10 Hz, SAE J2945/1) and of the roadside sensors'
 * frames (the maps' rate_hz 10). */
#define ONSET_STEP_NS 100000000ull

struct wrong_way {
	struct det_lanes *dl;
	float err_deg, min_speed;
	uint64_t persist_ns;
};

static void ww_on_sample(void *self, const struct det_sample *s,
			 struct det_env *env)
{
	struct wrong_way *ww = self;
	struct det_match m = s->match;
	struct roadmap_lane_info li;
	struct det_candidate c;
	struct det_entry *e;
	int32_t prev_lane;
	uint64_t dt = 0;
	int created, cond, newest;
	float score;

	if (s->cls == V2X_CLASS_PEDESTRIAN || s->cls == V2X_CLASS_CYCLIST)
		return;
	e = detect__lanes_get(ww->dl, s->track_id);
	/* An entry without a sample here was created (zeroed) by a detector
	 * that ran before this one: its lane 0 is no lane the track was in. */
	prev_lane = e && PRIV(e)->seen ? PRIV(e)->lane : -1;
	if (env->map && prev_lane >= 0 && m.lane != prev_lane)
		roadmap_match_prefer(env->map, s->x, s->y, s->heading_deg,
				     prev_lane, &m);
	e = detect__lanes_update(ww->dl, s, &created);
	if (!e)
		return;
	newest = !PRIV(e)->seen || s->t_ns >= PRIV(e)->last_ns;
	if (PRIV(e)->seen && s->t_ns > PRIV(e)->last_ns)
		dt = s->t_ns - PRIV(e)->last_ns;
	if (dt > MAX_STEP_NS)
		dt = MAX_STEP_NS;
	cond = m.lane >= 0 && s->speed_mps > ww->min_speed &&
	       fabsf(m.heading_err_deg) > ww->err_deg;
	if (cond && env->map && roadmap_lane(env->map, m.lane, &li) == 0 &&
	    li.type != ROADMAP_LANE_VEHICLE)
		cond = 0;
	/* The time since the previous sample is evidence only if that
	 * sample was too: a vehicle creeping the right way, unseen for
	 * 0.9 s while it turned and seen again against the lane had not
	 * driven 0.9 s against it (intersection seed 27, incident 10: it
	 * had for 0.3 s, and the whole gap raised it at the turn).  The
	 * first sample against the lane - the track's first, too - counts
	 * for its own sampling interval: counting nothing for it asked for
	 * one sample more than the truth's 1 s (ten 0.1 s steps, the first
	 * included, also the first in a sensor's view) - 1.0 instead of
	 * 0.9 s after the first sample at 10 Hz: every wrong-way delay
	 * 0.1 s longer (intersection seeds 25 and 27, highway 26: 0.91-0.99
	 * s -> 1.01-1.09 s), and 1.0 s for a driver first seen against the
	 * lane (highway seed 26, a sensor-only track, twice). */
	if (cond && !PRIV(e)->against &&
	    (dt > ONSET_STEP_NS || !PRIV(e)->seen))
		dt = ONSET_STEP_NS;
	/* Standing (or walking pace): its heading says nothing either way,
	 * and a wrong-way driver that stopped in the lane still faces the
	 * traffic - the evidence is kept, not lost. */
	if (!cond && m.lane >= 0 && s->speed_mps <= ww->min_speed)
		dt = 0;
	/* A sample not newer than the newest adds nothing (dt 0): fusion
	 * repeats a V2X track's latest BSM when a sensor sees the vehicle.
	 * An older one (the track table drops reordered datagrams; a
	 * caller may not) does not say what the newest one was either. */
	if (newest) {
		PRIV(e)->last_ns = s->t_ns;
		PRIV(e)->against = (uint8_t)cond;
	}
	PRIV(e)->seen = 1;
	PRIV(e)->lane = m.lane;
	score = PRIV(e)->evidence_s + (cond ? 1.0f : -1.0f) * (float)dt * 1e-9f;
	if (score < 0)
		score = 0;
	if (score > (float)ww->persist_ns * 1e-9f)
		score = (float)ww->persist_ns * 1e-9f;
	PRIV(e)->evidence_s = score;
	if (!PRIV(e)->reported && score >= (float)ww->persist_ns * 1e-9f * 0.999f)
		PRIV(e)->reported = 1;
	else if (PRIV(e)->reported && score < (float)ww->persist_ns * 0.5e-9f)
		PRIV(e)->reported = 0;
	if (!PRIV(e)->reported)
		return;
	detect__cand_from_sample(&c, V2X_EVT_WRONG_WAY, s);
	c.lane = m.lane >= 0 ? m.lane : c.lane;
	c.segment = m.lane >= 0 ? m.segment : c.segment;
	c.severity = 7;
	env->raise(env->owner, &c);
}

/* detect__lanes_only_tick() and _free() take the state as its table pointer. */
_Static_assert(offsetof(struct wrong_way, dl) == 0, "dl must come first");

static const struct detector_ops ww_ops = {
	.name = "wrong_way",
	.on_sample = ww_on_sample,
	.tick = detect__lanes_only_tick,
	.free = detect__lanes_only_free,
};

/**
 * detect__wrong_way_new() - see detect_common.h.
 */
struct detector detect__wrong_way_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct wrong_way *ww = calloc(1, sizeof(*ww));

	if (!ww)
		return d;
	ww->dl = detect__lanes_for(cfg, shared);
	if (!ww->dl) {
		free(ww);
		return d;
	}
	ww->err_deg = cfg->wrong_way.heading_err_deg;
	ww->min_speed = cfg->wrong_way.min_speed_mps;
	ww->persist_ns = (uint64_t)cfg->wrong_way.persist_ms * 1000000u;
	d.ops = &ww_ops;
	d.self = ww;
	return d;
}

/**
 * detect_wrong_way_new() - see detect_config.h.
 */
struct detector detect_wrong_way_new(const struct detect_config *cfg)
{
	return detect__wrong_way_new(cfg, NULL);
}
