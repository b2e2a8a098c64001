/* SPDX-License-Identifier: MIT */
/* closures.c - lane closures known to the detectors (see closures.h). */
#include "closures.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "roadmap.h"

#define CLOSURE_RING_SLOTS 64

/* One closure and where it lies on the current map. */
struct closure_ent {
	struct closure_msg msg;   /* as announced (kept to re-resolve) */
	uint8_t used;
	uint8_t n;                /* lanes resolved */
	int32_t lane[CLOSURE_LANES_MAX];
	float from[CLOSURE_LANES_MAX], to[CLOSURE_LANES_MAX];
};

struct closures {
	struct ring in;
	const struct roadmap *map_seen;
	struct closure_ent ent[CLOSURES_MAX];
	struct closures_stats st;
};

/* See closures.h.  Main thread. */
struct closures *closures_new(void)
{
	struct closures *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	if (ring_init(&cl->in, CLOSURE_RING_SLOTS, sizeof(struct closure_msg)) < 0) {
		free(cl);
		return NULL;
	}
	return cl;
}

/* See closures.h.  Main thread. */
void closures_free(struct closures *cl)
{
	if (!cl)
		return;
	ring_fini(&cl->in);
	free(cl);
}

/* See closures.h.  Single producer. */
int closures_offer(struct closures *cl, const struct closure_msg *m)
{
	if (ring_prod_avail(&cl->in, 1) == 0)
		return -ENOBUFS;
	memcpy(ring_prod_slot(&cl->in, 0), m, sizeof(*m));
	ring_prod_commit(&cl->in, 1);
	return 0;
}

static int32_t closures__segment(const struct roadmap *map, int32_t lane)
{
	struct roadmap_lane_info li;

	if (roadmap_lane(map, lane, &li) < 0)
		return -1;
	return li.segment_id;
}

/*
 * Where e's closure lies on map: lanes given with from_m/to_m are taken
 * as they are; a position is map-matched (a listed lane whose buffer does
 * not hold the point takes the along of the matched lane when both are
 * lanes of one segment - parallel lanes share their along measure).
 * Returns the number of lanes resolved.
 */
static int closures__resolve(struct closure_ent *e, const struct roadmap *map)
{
	const struct closure_msg *m = &e->msg;
	struct det_match dm, dl;
	double x, y, u;
	int32_t seg;

	e->n = 0;
	if (m->has_range) {
		for (int i = 0; i < m->n_lanes; i++) {
			e->lane[e->n] = m->lanes[i];
			e->from[e->n] = m->from_m;
			e->to[e->n] = m->to_m;
			e->n++;
		}
		return e->n;
	}
	if (!m->has_pos || !map || !roadmap_reference(map))
		return 0;
	enu_from_geo(roadmap_reference(map), m->lat, m->lon, 0, &x, &y, &u);
	memset(&dm, 0, sizeof(dm));
	if (!roadmap_match(map, x, y, NAN, &dm))
		dm.lane = -1;
	if (m->n_lanes == 0) {
		if (dm.lane < 0)
			return 0;
		e->lane[0] = dm.lane;
		e->from[0] = dm.along_m;
		e->to[0] = dm.along_m + m->length_m;
		e->n = 1;
		return 1;
	}
	seg = dm.lane >= 0 ? closures__segment(map, dm.lane) : -1;
	for (int i = 0; i < m->n_lanes; i++) {
		float along;

		memset(&dl, 0, sizeof(dl));
		if (roadmap_match_prefer(map, x, y, NAN, m->lanes[i], &dl) &&
		    dl.lane == m->lanes[i])
			along = dl.along_m;
		else if (seg >= 0 && closures__segment(map, m->lanes[i]) == seg)
			along = dm.along_m;
		else
			continue;
		e->lane[e->n] = m->lanes[i];
		e->from[e->n] = along;
		e->to[e->n] = along + m->length_m;
		e->n++;
	}
	return e->n;
}

static struct closure_ent *closures__find(struct closures *cl, const char *id)
{
	for (int i = 0; i < CLOSURES_MAX; i++)
		if (cl->ent[i].used && strcmp(cl->ent[i].msg.id, id) == 0)
			return &cl->ent[i];
	return NULL;
}

/* See closures.h.  Fusion thread. */
int closures_apply(struct closures *cl, const struct closure_msg *m,
		   const struct roadmap *map)
{
	struct closure_ent *e = closures__find(cl, m->id);

	if (m->cleared) {
		if (e) {
			e->used = 0;
			cl->st.active--;
			cl->st.cleared++;
		}
		return 0;
	}
	if (!e) {
		for (int i = 0; i < CLOSURES_MAX && !e; i++)
			if (!cl->ent[i].used)
				e = &cl->ent[i];
		if (!e) {
			cl->st.full++;
			return -ENOSPC;
		}
		e->used = 1;
		cl->st.active++;
	}
	/* An advisory with a known id replaces the closure (extended,
	 * shortened, moved). */
	e->msg = *m;
	e->msg.id[CLOSURE_ID_MAX - 1] = '\0';
	if (closures__resolve(e, map) == 0)
		cl->st.unresolved++;
	cl->st.applied++;
	return 0;
}

/* See closures.h.  Fusion thread. */
int closures_update(struct closures *cl, const struct roadmap *map,
		    uint64_t now_ns)
{
	if (map != cl->map_seen) {
		cl->map_seen = map;
		for (int i = 0; i < CLOSURES_MAX; i++)
			if (cl->ent[i].used && closures__resolve(&cl->ent[i], map) == 0)
				cl->st.unresolved++;
	}
	while (ring_cons_avail(&cl->in, 1)) {
		struct closure_msg m;

		memcpy(&m, ring_cons_slot(&cl->in, 0), sizeof(m));
		ring_cons_release(&cl->in, 1);
		(void)closures_apply(cl, &m, map); /* a full table is counted */
	}
	for (int i = 0; now_ns && cl->st.active && i < CLOSURES_MAX; i++) {
		struct closure_ent *e = &cl->ent[i];

		if (e->used && e->msg.until_ns && e->msg.until_ns <= now_ns) {
			e->used = 0;
			cl->st.active--;
			cl->st.expired++;
		}
	}
	return (int)cl->st.active;
}

/* See closures.h.  Fusion thread. */
int closures_at(const struct closures *cl, int32_t lane, float along,
		float upstream_m, uint64_t now_ns)
{
	if (!cl || !cl->st.active || lane < 0)
		return 0;
	for (int i = 0; i < CLOSURES_MAX; i++) {
		const struct closure_ent *e = &cl->ent[i];

		if (!e->used)
			continue;
		if (e->msg.until_ns && now_ns && e->msg.until_ns <= now_ns)
			continue;
		for (int k = 0; k < e->n; k++)
			if (e->lane[k] == lane && along >= e->from[k] - upstream_m &&
			    along <= e->to[k])
				return 1;
	}
	return 0;
}

/* See closures.h.  Fusion thread. */
void closures_stats(const struct closures *cl, struct closures_stats *st)
{
	*st = cl->st;
}
