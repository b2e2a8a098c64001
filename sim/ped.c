/* SPDX-License-Identifier: MIT */
/*
 * sim/ped.c - pedestrians and cyclists on the walk graph: they walk along
 * sidewalks, pick a way at every corner, and wait for the walk signal at
 * crosswalks.  The vru_on_road walker (incident.c) moves here too.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/*
 * sim__ped_alloc() - a zeroed pedestrian slot; its index or -ENOMEM.
 */
int sim__ped_alloc(struct sim_world *w)
{
	struct sim_ped *p;

	for (int i = 0; i < w->nped; i++)
		if (!w->ped[i].active && !w->ped[i].on_road)
			return i;
	if (w->nped == w->capped) {
		int ncap = w->capped ? w->capped * 2 : 32;

		p = realloc(w->ped, (size_t)ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->ped = p;
		w->capped = ncap;
	}
	memset(&w->ped[w->nped], 0, sizeof(w->ped[0]));
	w->ped[w->nped].incident = -1;
	w->ped[w->nped].id = 1000000u + (uint32_t)w->nped;
	return w->nped++;
}

static void ped__pose(struct sim_world *w, struct sim_ped *p)
{
	const struct sim_wedge *e = &w->road.wedge[p->edge];
	const struct sim_pt *a = &w->road.wnode[p->dir > 0 ? e->a : e->b].p;
	const struct sim_pt *b = &w->road.wnode[p->dir > 0 ? e->b : e->a].p;
	double dx = b->x - a->x, dy = b->y - a->y;
	double len = e->length > 0 ? e->length : 1;
	double f = p->pos / len;

	p->x = a->x + f * dx + p->lat * dy / len;
	p->y = a->y + f * dy - p->lat * dx / len;
	p->heading = atan2(dx, dy);
	if (p->heading < 0)
		p->heading += 2 * M_PI;
}

static int ped__can_cross(const struct sim_world *w, const struct sim_wedge *e)
{
	if (!e->crosswalk || e->sig < 0)
		return 1;
	return sim_signal_light(&w->sig[e->sig], e->signal_group, w->t, NULL) ==
	       SIM_LIGHT_GREEN;
}

/*
 * sim__peds_init() - place the scenario's pedestrians and cyclists on
 * sidewalks.  Returns 0 or -ENOMEM.
 */
int sim__peds_init(struct sim_world *w)
{
	int nside = 0, np, nc;

	for (int i = 0; i < w->road.nwedge; i++)
		nside += !w->road.wedge[i].crosswalk;
	if (nside == 0)
		return 0;
	np = w->cfg.peds >= 0 ? w->cfg.peds : 12 * (w->nsig > 0 ? w->nsig : 1);
	nc = w->cfg.cyclists >= 0 ? w->cfg.cyclists : 6 * (w->nsig > 0 ? w->nsig : 1);
	if (np + nc > 20000) {
		np = np > 20000 ? 20000 : np;
		nc = 20000 - np;
	}
	for (int n = 0; n < np + nc; n++) {
		int pi = sim__ped_alloc(w), e;
		struct sim_ped *p;

		if (pi < 0)
			return pi;
		p = &w->ped[pi];
		do {
			e = (int)sim_rng_below(&w->rng, (uint32_t)w->road.nwedge);
		} while (w->road.wedge[e].crosswalk);
		p->active = 1;
		p->cls = n < np ? V2X_CLASS_PEDESTRIAN : V2X_CLASS_CYCLIST;
		p->speed = n < np ? sim_rng_normal_clip(&w->rng, 1.3, 0.2, 0.8, 1.9) :
				    sim_rng_normal_clip(&w->rng, 4.5, 0.7, 3.0, 6.5);
		p->v = p->speed;
		p->edge = e;
		p->dir = sim_rng_uniform(&w->rng) < 0.5 ? 1 : -1;
		p->came_from = -1;
		p->pos = sim_rng_uniform(&w->rng) * w->road.wedge[e].length;
		p->lat = sim_rng_range(&w->rng, -0.8, 0.8);
		ped__pose(w, p);
	}
	return 0;
}

static void ped__walk(struct sim_world *w, struct sim_ped *p)
{
	const struct sim_wedge *e = &w->road.wedge[p->edge];

	if (p->waiting) {
		if (!ped__can_cross(w, e))
			return;
		p->waiting = 0;
		p->v = p->speed;
	}
	p->pos += p->speed * SIM_DT;
	if (p->pos >= e->length) {
		int node = p->dir > 0 ? e->b : e->a;
		const struct sim_wnode *nd = &w->road.wnode[node];
		int choices[6], nch = 0, ne;

		for (int i = 0; i < nd->nedge; i++)
			if (nd->edge[i] != p->edge)
				choices[nch++] = nd->edge[i];
		ne = nch ? choices[sim_rng_below(&w->rng, (uint32_t)nch)] : p->edge;
		p->came_from = p->edge;
		p->edge = ne;
		e = &w->road.wedge[ne];
		p->dir = e->a == node ? 1 : -1;
		p->pos = 0;
		if (!ped__can_cross(w, e)) {
			p->waiting = 1;
			p->v = 0;
		}
	}
	ped__pose(w, p);
}

static void ped__road_walk(struct sim_world *w, struct sim_ped *p)
{
	if (p->pause_left > 0 && p->walked >= p->pause_at) {
		p->pause_left -= SIM_DT;
		p->v = 0;
	} else {
		p->v = p->speed;
		p->walked += p->speed * SIM_DT;
	}
	p->x = p->rx + p->walked * p->ux;
	p->y = p->ry + p->walked * p->uy;
	p->heading = atan2(p->ux, p->uy);
	if (p->heading < 0)
		p->heading += 2 * M_PI;
	if (p->walked >= p->total)
		p->active = 0;
}

/*
 * sim__peds_step() - move every pedestrian and cyclist by one step.
 */
void sim__peds_step(struct sim_world *w)
{
	for (int i = 0; i < w->nped; i++) {
		struct sim_ped *p = &w->ped[i];

		if (!p->active)
			continue;
		if (p->on_road)
			ped__road_walk(w, p);
		else
			ped__walk(w, p);
	}
}
