/* SPDX-License-Identifier: MIT */
/*
 * detect_speeding.c - speeding.
 *
 * A vehicle on a lane with a known limit is over it when its speed exceeds
 * limit + max(limit * tolerance_pct / 100, tolerance_kph); sustained for
 * persist_ms (dips under the threshold shorter than GRACE_NS do not restart
 * the clock), it is a candidate, and stays one until its speed falls below
 * the threshold minus resume_kph (hysteresis).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "v2x/msg.h"
#include "detect_common.h"

#define PRIV(e) (&(e)->p[DET_K_SPEEDING])

#define GRACE_NS 300000000ull

struct speeding {
	struct det_lanes *dl;
	float pct, tol_mps, resume_mps;
	uint64_t persist_ns;
};

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
	if (s->match.lane < 0 || !(limit > 0)) {
		PRIV(e)->since_ns = 0;
		PRIV(e)->active = 0;
		return;
	}
	thr = limit + fmaxf(limit * sp->pct / 100.0f, sp->tol_mps);
	over = s->speed_mps > (PRIV(e)->active ? thr - sp->resume_mps : thr);
	if (over) {
		PRIV(e)->ref_ns = s->t_ns; /* last time over */
		if (!PRIV(e)->since_ns)
			PRIV(e)->since_ns = s->t_ns ? s->t_ns : 1;
	} else {
		if (PRIV(e)->active || s->t_ns - PRIV(e)->ref_ns > GRACE_NS) {
			PRIV(e)->since_ns = 0;
			PRIV(e)->active = 0;
		}
		return;
	}
	if (s->t_ns - PRIV(e)->since_ns < sp->persist_ns)
		return;
	PRIV(e)->active = 1;
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
