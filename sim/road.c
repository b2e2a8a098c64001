/* SPDX-License-Identifier: MIT */
/* sim/road.c - lane polylines and the walk graph. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "road.h"

/*
 * sim_road_init() - an empty road.  Free with sim_road_fini().
 */
void sim_road_init(struct sim_road *r)
{
	memset(r, 0, sizeof(*r));
	r->next_lane_id = 1;
	r->next_segment_id = 1;
	r->next_crosswalk_id = 1;
}

/*
 * sim_road_fini() - free everything the road owns.
 */
void sim_road_fini(struct sim_road *r)
{
	for (int i = 0; i < r->nlane; i++) {
		free(r->lane[i].pts);
		free(r->lane[i].cum);
		free(r->lane[i].hdg);
		free(r->lane[i].veh);
	}
	free(r->lane);
	free(r->wnode);
	free(r->wedge);
	memset(r, 0, sizeof(*r));
}

static int road__grow(void **arr, int *cap, int need, size_t elem)
{
	void *p;
	int ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/*
 * sim_road_add_lane() - see road.h.
 */
int sim_road_add_lane(struct sim_road *r, const struct sim_pt *pts, int npts,
		      int segment, int type, double width, double speed_limit)
{
	struct sim_lane *l;
	int ret;

	ret = road__grow((void **)&r->lane, &r->caplane, r->nlane + 1,
			 sizeof(*r->lane));
	if (ret < 0)
		goto out;
	l = &r->lane[r->nlane];
	memset(l, 0, sizeof(*l));
	l->pts = malloc((size_t)npts * sizeof(*l->pts));
	l->cum = malloc((size_t)npts * sizeof(*l->cum));
	l->hdg = malloc((size_t)npts * sizeof(*l->hdg));
	if (!l->pts || !l->cum || !l->hdg) {
		free(l->pts);
		free(l->cum);
		free(l->hdg);
		ret = -ENOMEM;
		goto out;
	}
	memcpy(l->pts, pts, (size_t)npts * sizeof(*pts));
	l->npts = npts;
	l->cum[0] = 0;
	for (int i = 1; i < npts; i++)
		l->cum[i] = l->cum[i - 1] + hypot(pts[i].x - pts[i - 1].x,
						  pts[i].y - pts[i - 1].y);
	l->length = l->cum[npts - 1];
	for (int i = 0; i + 1 < npts; i++)
		l->hdg[i] = atan2(pts[i + 1].x - pts[i].x, pts[i + 1].y - pts[i].y);
	l->hdg[npts - 1] = npts > 1 ? l->hdg[npts - 2] : 0;
	l->id = r->next_lane_id++;
	l->segment = segment;
	l->type = type;
	l->width = width;
	l->speed_limit = speed_limit;
	l->next = l->prev = l->left = l->right = -1;
	l->intersection = l->signal_group = l->sig = -1;
	l->merge_from = -1;
	l->lc_from = 0;
	l->lc_to = l->length;
	ret = r->nlane++;
out:
	return ret;
}

/*
 * sim_road_add_wnode() - see road.h.
 */
int sim_road_add_wnode(struct sim_road *r, double x, double y)
{
	int ret = road__grow((void **)&r->wnode, &r->capwnode, r->nwnode + 1,
			     sizeof(*r->wnode));

	if (ret < 0)
		return ret;
	memset(&r->wnode[r->nwnode], 0, sizeof(r->wnode[0]));
	r->wnode[r->nwnode].p.x = x;
	r->wnode[r->nwnode].p.y = y;
	return r->nwnode++;
}

/*
 * sim_road_add_wedge() - see road.h.
 */
int sim_road_add_wedge(struct sim_road *r, int a, int b, int crosswalk, int sig,
		       int signal_group, int lane, double width)
{
	struct sim_wedge *e;
	struct sim_wnode *na = &r->wnode[a], *nb = &r->wnode[b];
	int ret;

	if (na->nedge >= 6 || nb->nedge >= 6)
		return -ENOSPC;
	ret = road__grow((void **)&r->wedge, &r->capwedge, r->nwedge + 1,
			 sizeof(*r->wedge));
	if (ret < 0)
		return ret;
	na = &r->wnode[a];
	nb = &r->wnode[b];
	e = &r->wedge[r->nwedge];
	e->a = a;
	e->b = b;
	e->length = hypot(nb->p.x - na->p.x, nb->p.y - na->p.y);
	e->crosswalk = crosswalk;
	e->crosswalk_id = crosswalk ? r->next_crosswalk_id++ : -1;
	e->sig = sig;
	e->signal_group = signal_group;
	e->lane = lane;
	e->width = width;
	na->edge[na->nedge++] = r->nwedge;
	nb->edge[nb->nedge++] = r->nwedge;
	return r->nwedge++;
}

/*
 * sim_lane_point() - see road.h.  Positions beyond either end extrapolate
 * along the end segment.
 */
void sim_lane_point(const struct sim_lane *l, double s, double d,
		    double *x, double *y, double *heading, int *hint)
{
	int i = hint ? *hint : 0;
	double dx, dy, seg, f;

	if (i < 0 || i >= l->npts - 1)
		i = 0;
	/* Vehicles move forward a little each step: walk from the hint. */
	while (i < l->npts - 2 && l->cum[i + 1] < s)
		i++;
	while (i > 0 && l->cum[i] > s)
		i--;
	if (hint)
		*hint = i;
	dx = l->pts[i + 1].x - l->pts[i].x;
	dy = l->pts[i + 1].y - l->pts[i].y;
	seg = l->cum[i + 1] - l->cum[i];
	f = seg > 0 ? (s - l->cum[i]) / seg : 0;
	/* Station and geometric length differ slightly on offset lanes. */
	seg = sqrt(dx * dx + dy * dy);
	if (seg <= 0)
		seg = 1;
	/* The left normal of direction (dx, dy) is (-dy, dx). */
	*x = l->pts[i].x + f * dx - d * dy / seg;
	*y = l->pts[i].y + f * dy + d * dx / seg;
	*heading = l->hdg[i];
}

/*
 * sim_polyline_offset() - see road.h.
 */
void sim_polyline_offset(const struct sim_pt *in, int n, double d,
			 struct sim_pt *out)
{
	for (int i = 0; i < n; i++) {
		double nx = 0, ny = 0, scale = 1.0;
		int a = i > 0 ? i - 1 : i, b = i < n - 1 ? i + 1 : i;

		if (i > 0 && i < n - 1) {
			/* Mitre: the sum of both segment normals, scaled. */
			double ax = in[i].x - in[i - 1].x, ay = in[i].y - in[i - 1].y;
			double bx = in[i + 1].x - in[i].x, by = in[i + 1].y - in[i].y;
			double la = hypot(ax, ay), lb = hypot(bx, by);
			double n1x = -ay / la, n1y = ax / la;
			double n2x = -by / lb, n2y = bx / lb;
			double mx = n1x + n2x, my = n1y + n2y;
			double lm = hypot(mx, my);

			if (lm > 1e-9) {
				nx = mx / lm;
				ny = my / lm;
				scale = 1.0 / (nx * n1x + ny * n1y);
				if (scale > 4)
					scale = 4;
			} else {
				nx = n1x;
				ny = n1y;
			}
		} else {
			double dx = in[b].x - in[a].x, dy = in[b].y - in[a].y;
			double len = hypot(dx, dy);

			if (len > 0) {
				nx = -dy / len;
				ny = dx / len;
			}
		}
		out[i].x = in[i].x + nx * d * scale;
		out[i].y = in[i].y + ny * d * scale;
	}
}
