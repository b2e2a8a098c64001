/* SPDX-License-Identifier: MIT */
/*
 * detect_speeding.c - speeding.
 *
 * A vehicle on a lane with a known limit is over it when its speed exceeds
 * limit + max(limit * tolerance_pct / 100, tolerance_kph); sustained for
 * persist_ms (dips under the threshold shorter than GRACE_NS do not restart
 * the clock), it is a candidate, and stays one until its speed falls below
 * the threshold minus resume_kph (hysteresis).
 *
 * Only a vehicle lane's limit applies: a vehicle map-matched to a
 * sidewalk or bike lane is beside its own lane by position noise, and
 * that lane's walking or cycling pace says nothing of it (intersection
 * seed 4: a car at 13 m/s in the rightmost lane, its GNSS error drifted
 * 1.4-2.0 m to the right for a second, matched the 5.4 km/h sidewalk in
 * five samples of ten - its own lane's in between, dips shorter than
 * the grace - and was raised 1.9 s into the run).  Such a sample
 * is no evidence either way: it neither starts, extends nor ends the
 * persistence.  Samples of a fused track come from several sources, not
 * in time order: one older than the track's latest changes nothing
 * either (in unsigned arithmetic its age since the onset read as
 * enormous and raised it at once), and evidence resumed after more than
 * GRACE_NS without any (the track unseen, or off its lane) before the
 * persistence is reached starts it over.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "v2x/msg.h"
#include "detect_common.h"
#include "roadmap.h"

#define PRIV(e) (&(e)->priv.speeding)

#define GRACE_NS 300000000ull

struct speeding {
	struct det_lanes *dl;
	float pct, tol_mps, resume_mps;
	uint64_t persist_ns;
};

/* Is @lane a vehicle lane (a sample's match, without a map: taken as one)? */
static int sp__vehicle_lane(const struct det_env *env, int32_t lane)
{
	struct roadmap_lane_info li;

	if (!env->map)
		return 1;
	return roadmap_lane(env->map, lane, &li) == 0 &&
	       li.type == ROADMAP_LANE_VEHICLE;
}

/* Private state: struct det_speeding_priv (detect_common.h). */
static void sp_on_sample(void *self, const struct det_sample *s,
			 struct det_env *env)
{
	struct speeding *sp = self;
	struct det_candidate c;
	struct det_entry *e;
	float limit = s->match.speed_limit_mps, thr, over_pct;
	int created, over;

	if (s->cls == V2X_CLASS_PEDESTRIAN || s->cls == V2X_CLASS_CYCLIST)
		return;
	e = detect__lanes_update(sp->dl, s, &created);
	if (!e)
		return;
	if (s->t_ns < PRIV(e)->judged_ns)
		return; /* older than one already judged: another source's */
	if (s->match.lane < 0 || !(limit > 0)) {
		PRIV(e)->over_ns = 0;
		PRIV(e)->reported = 0;
		PRIV(e)->judged_ns = s->t_ns;
		return;
	}
	if (!sp__vehicle_lane(env, s->match.lane))
		return;
	PRIV(e)->judged_ns = s->t_ns;
	thr = limit + fmaxf(limit * sp->pct / 100.0f, sp->tol_mps);
	over = s->speed_mps > (PRIV(e)->reported ? thr - sp->resume_mps : thr);
	if (over) {
		/* No evidence for longer than the grace before the
		 * persistence was reached: start over. */
		if (!PRIV(e)->reported && PRIV(e)->over_ns &&
		    s->t_ns > PRIV(e)->last_over_ns + GRACE_NS)
			PRIV(e)->over_ns = 0;
		PRIV(e)->last_over_ns = s->t_ns; /* last time over */
		if (!PRIV(e)->over_ns)
			PRIV(e)->over_ns = s->t_ns ? s->t_ns : 1;
	} else {
		if (PRIV(e)->reported || s->t_ns > PRIV(e)->last_over_ns + GRACE_NS) {
			PRIV(e)->over_ns = 0;
			PRIV(e)->reported = 0;
		}
		return;
	}
	if (s->t_ns < PRIV(e)->over_ns + sp->persist_ns)
		return;
	PRIV(e)->reported = 1;
	detect__cand_from_sample(&c, V2X_EVT_SPEEDING, s);
	over_pct = (s->speed_mps - limit) / limit;
	c.severity = over_pct >= 0.4f ? 4 : over_pct >= 0.2f ? 3 : 2;
	env->raise(env->owner, &c);
}

/* detect__lanes_only_tick() and _free() take the state as its table pointer. */
_Static_assert(offsetof(struct speeding, dl) == 0, "dl must come first");

static const struct detector_ops sp_ops = {
	.name = "speeding",
	.on_sample = sp_on_sample,
	.tick = detect__lanes_only_tick,
	.free = detect__lanes_only_free,
};

/**
 * detect__speeding_new() - see detect_common.h.
 */
struct detector detect__speeding_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct speeding *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return d;
	sp->dl = detect__lanes_for(cfg, shared);
	if (!sp->dl) {
		free(sp);
		return d;
	}
	sp->pct = cfg->speeding.tolerance_pct;
	sp->tol_mps = cfg->speeding.tolerance_kph / 3.6f;
	sp->resume_mps = cfg->speeding.resume_kph / 3.6f;
	sp->persist_ns = (uint64_t)cfg->speeding.persist_ms * 1000000u;
	d.ops = &sp_ops;
	d.self = sp;
	return d;
}

/**
 * detect_speeding_new() - see detect_config.h.
 */
struct detector detect_speeding_new(const struct detect_config *cfg)
{
	return detect__speeding_new(cfg, NULL);
}
