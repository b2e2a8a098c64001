/* SPDX-License-Identifier: MIT */
/*
 * sim/scenario.c - geometry of the built-in scenarios, sized to hold the
 * vehicles asked for at the configured initial spacing.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "sim.h"

static void lane__station(struct sim_lane *l, const double *station)
{
	for (int i = 0; i < l->npts; i++)
		l->cum[i] = station[i] - station[0];
	l->length = l->cum[l->npts - 1];
	l->lc_to = l->length;
}

static int highway__build(struct sim_world *w, char *err, size_t errlen)
{
	const struct sim_config *cfg = &w->cfg;
	struct sim_road *r = &w->road;
	int nl = cfg->lanes > 0 ? cfg->lanes : 3;
	double lw = SIM_HW_LANE_WIDTH;
	double limit = (cfg->speed_limit_kph > 0 ? cfg->speed_limit_kph : 100) / 3.6;
	double len = cfg->length > 0 ? cfg->length : 5000;
	/* Every 1 km section may leave one spacing unused at its end. */
	double need = (double)cfg->vehicles * cfg->spacing / (2.0 * nl) *
		      (1.02 + 3.0 * cfg->spacing / SIM_HW_SECTION);
	double du = 10.0, period = 3000.0;
	int npts, nsec, ret = 0;
	struct sim_pt *cl = NULL, *rev = NULL, *buf = NULL;
	double *station = NULL, *theta = NULL;
	int *prev_lane = NULL;

	if (need > len) {
		len = ceil(need / SIM_HW_SECTION) * SIM_HW_SECTION;
		snprintf(w->scenario_note, sizeof(w->scenario_note),
			 "highway grown to %.0f m to hold %d vehicles at %.0f m spacing",
			 len, cfg->vehicles, cfg->spacing);
	}
	if (len > SIM_HW_MAX_LENGTH) {
		snprintf(err, errlen,
			 "highway would need %.0f km for %d vehicles on %d lanes each way "
			 "at %.0f m spacing (limit %.0f km): add --lanes or lower --spacing",
			 len / 1000, cfg->vehicles, nl, cfg->spacing,
			 SIM_HW_MAX_LENGTH / 1000);
		return -EINVAL;
	}
	if (len < 200)
		len = 200;
	w->speed_limit = limit;
	npts = (int)ceil(len / du) + 1;
	cl = malloc((size_t)npts * sizeof(*cl));
	rev = malloc((size_t)npts * sizeof(*rev));
	buf = malloc((size_t)npts * sizeof(*buf));
	station = malloc((size_t)npts * sizeof(*station));
	theta = malloc((size_t)npts * sizeof(*theta));
	prev_lane = malloc((size_t)(2 * nl) * sizeof(int));
	if (!cl || !rev || !buf || !station || !theta || !prev_lane) {
		ret = -ENOMEM;
		goto out;
	}
	/* A winding road: curvature k(u) = k0 cos(2 pi u / P). */
	{
		double x = 0, y = 0, th0 = 60.0 * M_PI / 180.0;

		for (int i = 0; i < npts; i++) {
			double u = i * du > len ? len : i * du;

			theta[i] = th0 + cfg->curvature * period / (2 * M_PI) *
						 sin(2 * M_PI * u / period);
			station[i] = u;
			cl[i].x = x;
			cl[i].y = y;
			if (i + 1 < npts) {
				double step = ((i + 1) * du > len ? len : (i + 1) * du) - u;
				double tm = th0 + cfg->curvature * period / (2 * M_PI) *
							  sin(2 * M_PI * (u + step / 2) / period);

				x += step * sin(tm);
				y += step * cos(tm);
			}
		}
		/* Centre the road on the reference point. */
		{
			double mx = cl[npts / 2].x, my = cl[npts / 2].y;

			for (int i = 0; i < npts; i++) {
				cl[i].x -= mx;
				cl[i].y -= my;
			}
		}
	}
	for (int i = 0; i < npts; i++)
		rev[i] = cl[npts - 1 - i];
	nsec = (int)ceil(len / SIM_HW_SECTION - 1e-9);
	for (int dir = 0; dir < 2; dir++) {
		const struct sim_pt *src = dir == 0 ? cl : rev;

		for (int i = 0; i < nl; i++)
			prev_lane[i] = -1;
		for (int k = 0; k < nsec; k++) {
			int i0 = (int)(k * SIM_HW_SECTION / du);
			int i1 = (int)fmin((k + 1) * SIM_HW_SECTION / du, npts - 1);
			int seg = r->next_segment_id++;
			int first = r->nlane;

			for (int i = 0; i < nl; i++) {
				double d = -(SIM_HW_MEDIAN / 2 + (nl - i - 0.5) * lw);
				struct sim_lane *l;
				int li;

				/*
				 * Offset the section with one point of context on
				 * each side, so that joints get the same mitre.
				 */
				{
					int a0 = i0 > 0 ? i0 - 1 : i0;
					int a1 = i1 < npts - 1 ? i1 + 1 : i1;

					sim_polyline_offset(src + a0, a1 - a0 + 1, d, buf);
					li = sim_road_add_lane(r, buf + (i0 - a0), i1 - i0 + 1,
							       seg, SIM_LANE_VEHICLE, lw, limit);
				}
				if (li < 0) {
					ret = li;
					goto out;
				}
				l = &r->lane[li];
				lane__station(l, station + i0);
				l->index = i;
				l->entry = k == 0;
				l->exit = k == nsec - 1;
				if (prev_lane[i] >= 0) {
					l->prev = prev_lane[i];
					r->lane[prev_lane[i]].next = li;
				}
				prev_lane[i] = li;
				if (i > 0) {
					l->right = li - 1;
					r->lane[li - 1].left = li;
				}
			}
			(void)first;
			/* The on-ramp joins the forward carriageway a third of the way. */
			if (dir == 0 && cfg->ramp && nsec >= 2 && k == nsec / 3 &&
			    i1 - i0 >= 65) {
				double daux = -(SIM_HW_MEDIAN / 2 + (nl + 0.5) * lw);
				int a = i0 + 10, b = i0 + 40, c = i0 + 65, n = c - a + 1;
				struct sim_pt *rp = malloc((size_t)n * sizeof(*rp));
				int li, right = r->nlane - nl;
				struct sim_lane *l;

				if (!rp) {
					ret = -ENOMEM;
					goto out;
				}
				for (int j = a; j <= c; j++) {
					double d = daux;
					double nx, ny;

					if (j < b) {
						double f = (double)(b - j) / (b - a);

						d -= 40.0 * f * f;
					}
					nx = -cos(theta[j]);
					ny = sin(theta[j]);
					rp[j - a].x = cl[j].x + d * nx;
					rp[j - a].y = cl[j].y + d * ny;
				}
				li = sim_road_add_lane(r, rp, n, r->next_segment_id++,
						       SIM_LANE_VEHICLE, lw, limit);
				free(rp);
				if (li < 0) {
					ret = li;
					goto out;
				}
				l = &r->lane[li];
				lane__station(l, station + a);
				l->index = -1;
				l->entry = 1;
				l->dead_end = 1;
				l->left = right;
				r->lane[right].merge_from = li;
				l->left_off = (a - i0) * du;
				l->lc_from = (b - a) * du;
				l->lc_to = l->length;
			}
		}
	}
out:
	free(cl);
	free(rev);
	free(buf);
	free(station);
	free(theta);
	free(prev_lane);
	return ret;
}

/* Unit vectors of the four arms: north, east, south, west. */
static const double arm_ux[4] = { 0, 1, 0, -1 };
static const double arm_uy[4] = { 1, 0, -1, 0 };

struct urban {
	int rows, cols, nl;
	double block, arm, lw, h, limit;
	int *in;  /* [k][a][i] inbound lane index */
	int *out; /* [k][a][i] outbound lane index */
	int *pnode; /* [k][a][side] crosswalk end walk node */
};

static int urban__idx(const struct urban *u, int k, int a, int i)
{
	return (k * 4 + a) * u->nl + i;
}

static void urban__centre(const struct urban *u, int k, double *x, double *y)
{
	int row = k / u->cols, col = k % u->cols;

	*x = (col - (u->cols - 1) / 2.0) * u->block;
	*y = (row - (u->rows - 1) / 2.0) * u->block;
}

/*
 * The intersection next to k on arm a (0 north, 1 east, 2 south, 3 west):
 * its index, or -1 where the arm leaves the grid.
 */
static int urban__neighbour(const struct urban *u, int k, int a)
{
	int nrow = k / u->cols + (a == 0) - (a == 2);
	int ncol = k % u->cols + (a == 1) - (a == 3);

	if (nrow < 0 || nrow >= u->rows || ncol < 0 || ncol >= u->cols)
		return -1;
	return nrow * u->cols + ncol;
}

/* Add the nl lanes of one direction from p0 to p1; returns the first index. */
static int urban__lanes(struct sim_world *w, const struct urban *u, double x0,
			double y0, double x1, double y1, int *idx_out)
{
	struct sim_pt c[2] = { { x0, y0 }, { x1, y1 } }, o[2];
	int seg = w->road.next_segment_id++;

	for (int i = 0; i < u->nl; i++) {
		double d = -((u->nl - i - 0.5) * u->lw);
		int li;

		sim_polyline_offset(c, 2, d, o);
		li = sim_road_add_lane(&w->road, o, 2, seg, SIM_LANE_VEHICLE, u->lw,
				       u->limit);
		if (li < 0)
			return li;
		w->road.lane[li].index = i;
		if (i > 0) {
			w->road.lane[li].right = li - 1;
			w->road.lane[li - 1].left = li;
		}
		idx_out[i] = li;
	}
	return 0;
}

static int urban__sidewalk(struct sim_world *w, int na, int nb, int crosswalk,
			   int sig, int group)
{
	struct sim_road *r = &w->road;
	struct sim_pt p[2] = { r->wnode[na].p, r->wnode[nb].p };
	int li = -1;

	if (!crosswalk) {
		li = sim_road_add_lane(r, p, 2, r->next_segment_id++, SIM_LANE_SIDEWALK,
				       2.5, 1.5);
		if (li < 0)
			return li;
	}
	return sim_road_add_wedge(r, na, nb, crosswalk, sig, group, li,
				  crosswalk ? 4.0 : 2.5);
}

static double urban__capacity(int rows, int cols, int nl, double block,
			      double arm, double h)
{
	double links = (double)rows * (cols - 1) + (double)cols * (rows - 1);
	double bound = 2.0 * (rows + cols);

	return links * 2 * nl * (block - 2 * h) + bound * 2 * nl * arm;
}

static int urban__build(struct sim_world *w, char *err, size_t errlen)
{
	const struct sim_config *cfg = &w->cfg;
	struct urban u;
	double need;
	int nk, ret = 0;
	struct sim_road *r = &w->road;

	memset(&u, 0, sizeof(u));
	u.nl = cfg->lanes > 0 ? cfg->lanes : 2;
	u.lw = SIM_URBAN_LANE_WIDTH;
	u.h = u.nl * u.lw + 6.0;
	u.limit = (cfg->speed_limit_kph > 0 ? cfg->speed_limit_kph : 50) / 3.6;
	u.block = cfg->block > 4 * u.h ? cfg->block : 300;
	/* Room for partly used lane ends: 25 % more than the bare need (trucks). */
	need = (double)cfg->vehicles * cfg->spacing * 1.25;
	w->speed_limit = u.limit;
	if (cfg->scenario == SIM_SCN_INTERSECTION) {
		u.rows = u.cols = 1;
		u.arm = cfg->length > 0 ? cfg->length : 300;
		if (urban__capacity(1, 1, u.nl, u.block, u.arm, u.h) < need) {
			u.arm = ceil(need / (8.0 * u.nl) / 50.0) * 50.0;
			snprintf(w->scenario_note, sizeof(w->scenario_note),
				 "approaches grown to %.0f m to hold %d vehicles",
				 u.arm, cfg->vehicles);
		}
		if (u.arm > SIM_URBAN_MAX_APPROACH) {
			snprintf(err, errlen,
				 "one intersection cannot hold %d vehicles at %.0f m spacing "
				 "(approaches would be %.0f km): use --scenario grid or --lanes",
				 cfg->vehicles, cfg->spacing, u.arm / 1000);
			return -EINVAL;
		}
	} else {
		u.arm = cfg->length > 0 ? cfg->length : 250;
		u.rows = cfg->grid_rows > 0 ? cfg->grid_rows : 3;
		u.cols = cfg->grid_cols > 0 ? cfg->grid_cols : 3;
		if (cfg->grid_rows <= 0) {
			while (urban__capacity(u.rows, u.cols, u.nl, u.block, u.arm, u.h) <
				       need && u.rows < SIM_GRID_MAX) {
				u.rows++;
				u.cols++;
			}
			if (u.rows > 3)
				snprintf(w->scenario_note, sizeof(w->scenario_note),
					 "grid grown to %dx%d to hold %d vehicles",
					 u.rows, u.cols, cfg->vehicles);
		}
		while (urban__capacity(u.rows, u.cols, u.nl, u.block, u.arm, u.h) < need &&
		       u.block < 5000) {
			u.block += 100;
			u.arm = u.block;
		}
		if (urban__capacity(u.rows, u.cols, u.nl, u.block, u.arm, u.h) < need) {
			snprintf(err, errlen,
				 "a %dx%d grid cannot hold %d vehicles at %.0f m spacing: "
				 "omit --grid to let it grow, or add --lanes",
				 u.rows, u.cols, cfg->vehicles, cfg->spacing);
			return -EINVAL;
		}
	}
	nk = u.rows * u.cols;
	u.in = malloc((size_t)nk * 4 * u.nl * sizeof(int));
	u.out = malloc((size_t)nk * 4 * u.nl * sizeof(int));
	u.pnode = malloc((size_t)nk * 8 * sizeof(int));
	w->sig = calloc((size_t)nk, sizeof(*w->sig));
	if (!u.in || !u.out || !u.pnode || !w->sig) {
		ret = -ENOMEM;
		goto out;
	}
	w->nsig = nk;
	for (int k = 0; k < nk; k++) {
		int row = k / u.cols, col = k % u.cols;
		double cx, cy;
		struct sim_signal *sg = &w->sig[k];

		urban__centre(&u, k, &cx, &cy);
		sim_signal_two_phase(sg, k + 1, 25.0, 3.0, 2.0, 0);
		sg->offset = fmod((row + col) * u.block / 12.0, sg->cycle);
		sg->x = cx;
		sg->y = cy;
	}
	/* Links between neighbours (north and east of each) and boundary arms. */
	for (int k = 0; k < nk; k++) {
		double cx, cy;

		urban__centre(&u, k, &cx, &cy);
		for (int a = 0; a < 4; a++) {
			int k2 = urban__neighbour(&u, k, a), inside = k2 >= 0;
			double ux = arm_ux[a], uy = arm_uy[a];
			int tmp[16];

			if (u.nl > 16) {
				ret = -EINVAL;
				snprintf(err, errlen, "at most 16 lanes per direction");
				goto out;
			}
			if (inside) {
				double x2, y2;

				if (a != 0 && a != 1)
					continue; /* built from the other side */
				urban__centre(&u, k2, &x2, &y2);
				ret = urban__lanes(w, &u, cx + u.h * ux, cy + u.h * uy,
						   x2 - u.h * ux, y2 - u.h * uy, tmp);
				if (ret < 0)
					goto out;
				for (int i = 0; i < u.nl; i++) {
					u.out[urban__idx(&u, k, a, i)] = tmp[i];
					u.in[urban__idx(&u, k2, (a + 2) % 4, i)] = tmp[i];
				}
				ret = urban__lanes(w, &u, x2 - u.h * ux, y2 - u.h * uy,
						   cx + u.h * ux, cy + u.h * uy, tmp);
				if (ret < 0)
					goto out;
				for (int i = 0; i < u.nl; i++) {
					u.in[urban__idx(&u, k, a, i)] = tmp[i];
					u.out[urban__idx(&u, k2, (a + 2) % 4, i)] = tmp[i];
				}
			} else {
				double far = u.h + u.arm;

				ret = urban__lanes(w, &u, cx + far * ux, cy + far * uy,
						   cx + u.h * ux, cy + u.h * uy, tmp);
				if (ret < 0)
					goto out;
				for (int i = 0; i < u.nl; i++) {
					u.in[urban__idx(&u, k, a, i)] = tmp[i];
					r->lane[tmp[i]].entry = 1;
				}
				ret = urban__lanes(w, &u, cx + u.h * ux, cy + u.h * uy,
						   cx + far * ux, cy + far * uy, tmp);
				if (ret < 0)
					goto out;
				for (int i = 0; i < u.nl; i++) {
					u.out[urban__idx(&u, k, a, i)] = tmp[i];
					r->lane[tmp[i]].exit = 1;
				}
			}
		}
	}
	/* Stop lines, connectors through each box. */
	for (int k = 0; k < nk; k++) {
		double cx, cy;

		urban__centre(&u, k, &cx, &cy);
		for (int a = 0; a < 4; a++) {
			int tmp[16];
			double ux = arm_ux[a], uy = arm_uy[a];

			ret = urban__lanes(w, &u, cx + u.h * ux, cy + u.h * uy,
					   cx - u.h * ux, cy - u.h * uy, tmp);
			if (ret < 0)
				goto out;
			for (int i = 0; i < u.nl; i++) {
				int li = u.in[urban__idx(&u, k, a, i)];
				int lo = u.out[urban__idx(&u, k, (a + 2) % 4, i)];
				struct sim_lane *c = &r->lane[tmp[i]];

				c->connector = 1;
				c->left = c->right = -1;
				c->lc_to = -1;
				c->prev = li;
				c->next = lo;
				r->lane[li].next = tmp[i];
				r->lane[lo].prev = tmp[i];
				r->lane[li].sig = k;
				r->lane[li].intersection = k + 1;
				r->lane[li].signal_group = (a == 0 || a == 2) ? 1 : 2;
				/* No lane changes in the last 40 m before a stop line. */
				r->lane[li].lc_to = r->lane[li].length - 40;
			}
		}
	}
	/* Walk graph: crosswalk ends, corners, crosswalks, sidewalks. */
	{
		double side = u.nl * u.lw + 2.0, along = u.nl * u.lw + 3.0;

		for (int k = 0; k < nk; k++) {
			double cx, cy;

			urban__centre(&u, k, &cx, &cy);
			for (int a = 0; a < 4; a++) {
				double ux = arm_ux[a], uy = arm_uy[a];
				double nx = -uy, ny = ux;

				for (int sd = 0; sd < 2; sd++) {
					double sgn = sd == 0 ? 1.0 : -1.0;
					int n = sim_road_add_wnode(r, cx + along * ux + sgn * side * nx,
								   cy + along * uy + sgn * side * ny);

					if (n < 0) {
						ret = n;
						goto out;
					}
					u.pnode[k * 8 + a * 2 + sd] = n;
				}
			}
			for (int a = 0; a < 4; a++) {
				ret = urban__sidewalk(w, u.pnode[k * 8 + a * 2],
						      u.pnode[k * 8 + a * 2 + 1], 1, k,
						      (a == 0 || a == 2) ? 4 : 3);
				if (ret < 0)
					goto out;
				ret = urban__sidewalk(w, u.pnode[k * 8 + a * 2 + 1],
						      u.pnode[k * 8 + ((a + 1) % 4) * 2], 0, -1, -1);
				if (ret < 0)
					goto out;
			}
		}
		for (int k = 0; k < nk; k++) {
			double cx, cy;

			urban__centre(&u, k, &cx, &cy);
			for (int a = 0; a < 4; a++) {
				int k2 = urban__neighbour(&u, k, a), inside = k2 >= 0;

				for (int sd = 0; sd < 2; sd++) {
					int na = u.pnode[k * 8 + a * 2 + sd], nb;

					if (inside) {
						if (a != 0 && a != 1)
							continue;
						nb = u.pnode[k2 * 8 + ((a + 2) % 4) * 2 + (1 - sd)];
					} else {
						double far = u.h + u.arm;
						double sgn = sd == 0 ? 1.0 : -1.0;

						nb = sim_road_add_wnode(r,
							cx + far * arm_ux[a] - sgn * side * arm_uy[a],
							cy + far * arm_uy[a] + sgn * side * arm_ux[a]);
						if (nb < 0) {
							ret = nb;
							goto out;
						}
					}
					ret = urban__sidewalk(w, na, nb, 0, -1, -1);
					if (ret < 0)
						goto out;
				}
			}
		}
	}
	ret = 0;
out:
	free(u.in);
	free(u.out);
	free(u.pnode);
	return ret;
}

/*
 * sim__scenario_build() - build w->road and w->sig for w->cfg.scenario.
 * Returns 0, -ENOMEM, or -EINVAL with a reason in err.
 */
int sim__scenario_build(struct sim_world *w, char *err, size_t errlen)
{
	switch (w->cfg.scenario) {
	case SIM_SCN_HIGHWAY:
		return highway__build(w, err, errlen);
	case SIM_SCN_INTERSECTION:
	case SIM_SCN_GRID:
		return urban__build(w, err, errlen);
	default:
		snprintf(err, errlen, "unknown scenario %d", w->cfg.scenario);
		return -EINVAL;
	}
}
