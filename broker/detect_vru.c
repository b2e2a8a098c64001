/* SPDX-License-Identifier: MIT */
/*
 * detect_vru.c - vulnerable road user on the roadway.
 *
 * A pedestrian (or a cyclist, when cyclists = true) strictly inside a
 * vehicle lane (|lateral offset| <= width / 2, roadmap_lane_at(); bike lanes
 * and sidewalks do not count) and not inside a crosswalk polygon, for
 * persist_ms (gaps shorter than GRACE_NS do not restart the clock), is a
 * candidate for as long as it stays there.
 */
#include <stddef.h>
#include <stdlib.h>

#include "v2x/msg.h"
#include "detect_common.h"

#define PRIV(e) (&(e)->priv.vru)
#include "roadmap.h"

#define GRACE_NS 300000000ull

struct vru {
	struct det_lanes *dl;
	uint64_t persist_ns;
	int cyclists;
};

static void vru_on_sample(void *self, const struct det_sample *s,
			  struct det_env *env)
{
	struct vru *v = self;
	struct det_candidate c;
	struct det_entry *e;
	int32_t lane = -1;
	int created, inside;

	if (s->cls != V2X_CLASS_PEDESTRIAN &&
	    !(v->cyclists && s->cls == V2X_CLASS_CYCLIST))
		return;
	if (!env->map)
		return;
	e = detect__lanes_update(v->dl, s, &created);
	if (!e)
		return;
	inside = roadmap_lane_at(env->map, s->x, s->y, ROADMAP_LANE_VEHICLE,
				 &lane) &&
		 !roadmap_on_crosswalk(env->map, s->x, s->y);
	if (!inside) {
		if (PRIV(e)->reported || s->t_ns - PRIV(e)->last_inside_ns > GRACE_NS) {
			PRIV(e)->inside_ns = 0;
			PRIV(e)->reported = 0;
		}
		return;
	}
	PRIV(e)->last_inside_ns = s->t_ns;
	if (!PRIV(e)->inside_ns)
		PRIV(e)->inside_ns = s->t_ns ? s->t_ns : 1;
	if (s->t_ns - PRIV(e)->inside_ns < v->persist_ns)
		return;
	PRIV(e)->reported = 1;
	detect__cand_from_sample(&c, V2X_EVT_VRU_ON_ROAD, s);
	c.lane = lane;
	{
		struct roadmap_lane_info li;

		if (roadmap_lane(env->map, lane, &li) == 0)
			c.segment = li.segment_id;
	}
	c.severity = s->cls == V2X_CLASS_PEDESTRIAN ? 5 : 4;
	env->raise(env->owner, &c);
}

/* detect__lanes_only_tick() and _free() take the state as its table pointer. */
_Static_assert(offsetof(struct vru, dl) == 0, "dl must come first");

static const struct detector_ops vru_ops = {
	.name = "vru_on_road",
	.on_sample = vru_on_sample,
	.tick = detect__lanes_only_tick,
	.free = detect__lanes_only_free,
};

/**
 * detect__vru_new() - see detect_common.h.
 */
struct detector detect__vru_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct vru *v = calloc(1, sizeof(*v));

	if (!v)
		return d;
	v->dl = detect__lanes_for(cfg, shared);
	if (!v->dl) {
		free(v);
		return d;
	}
	v->persist_ns = (uint64_t)cfg->vru.persist_ms * 1000000u;
	v->cyclists = cfg->vru.cyclists;
	d.ops = &vru_ops;
	d.self = v;
	return d;
}

/**
 * detect_vru_new() - see detect_config.h.
 */
struct detector detect_vru_new(const struct detect_config *cfg)
{
	return detect__vru_new(cfg, NULL);
}
