/* SPDX-License-Identifier: MIT */
/*
 * roadmap.c - GeoJSON road map loading (jansson) and map matching.
 *
 * Layout after loading: lane centre lines as one array of ENU points (each
 * lane a contiguous run, in its direction of travel, with the cumulative
 * distance along the lane per point); crosswalk rings likewise.  A uniform
 * grid (CSR: cell_start[] offsets into cell_items[]) lists, per cell, every
 * lane segment whose buffer may reach into the cell, and a second one the
 * crosswalks whose bounding box overlaps it.  A query looks at one cell.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "v2x/error.h"
#include "roadmap.h"

#define RM_DEFAULT_TOLERANCE_M 1.0f
#define RM_DEFAULT_TIE_M 0.25f
#define RM_DEFAULT_CELL_M 10.0f
#define RM_MAX_CELLS (4u << 20)
#define RM_MIN_SEG_M 1e-3

struct rm_lane {
	int32_t lane_id, segment_id, intersection_id, signal_group;
	int32_t next_lane_id, left_lane_id, right_lane_id;
	uint8_t type;
	uint8_t connector;
	float limit_mps, width_m, length_m, stop_along_m;
	uint32_t first_pt, n_pts;
};

struct rm_crosswalk {
	int32_t id;
	uint32_t first_pt, n_pts;
	double minx, miny, maxx, maxy;
};

struct rm_stop {
	int32_t lane_id, intersection_id, signal_group;
	int feature;
	double x, y;
};

struct roadmap {
	struct enu_ref ref;
	struct roadmap_opts opts;

	struct rm_lane *lanes; /* sorted by lane_id */
	int n_lanes;
	double *px, *py;       /* lane points */
	double *cum;           /* distance along the lane at each point */
	uint32_t *pt_lane;     /* lane index of each point */
	uint32_t n_pts;

	struct rm_crosswalk *cws;
	int n_cws;
	double *cx, *cy;       /* crosswalk ring points */
	uint32_t n_cpts;

	struct roadmap_segment_info *segs; /* sorted by segment_id */
	int n_segs;

	double gx0, gy0, cell;
	uint32_t gw, gh;
	uint32_t *cell_start, *cell_items; /* lane segments (point index) */
	uint32_t *cw_start, *cw_items;     /* crosswalk indices */
};

/* Load-time context: growing arrays and the error buffer. */
struct loader {
	const char *name;
	char *err;
	size_t errlen;
	struct roadmap *m;
	uint32_t cap_pts, cap_cpts;
	int cap_lanes, cap_cws, cap_stops;
	struct rm_stop *stops;
	int n_stops;
};

static void load_err(struct loader *ld, int idx, json_t *feat,
		     const char *fmt, ...)
{
	json_t *props = feat ? json_object_get(feat, "properties") : NULL;
	const char *kind = json_string_value(json_object_get(props, "kind"));
	const char *idname = NULL;
	char who[96] = "";
	char what[256];
	json_t *idv;
	va_list ap;

	if (!ld->err || !ld->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (kind && !strcmp(kind, "lane"))
		idname = "lane_id";
	else if (kind && !strcmp(kind, "stop_line"))
		idname = "lane_id";
	else if (kind && !strcmp(kind, "crosswalk"))
		idname = "crosswalk_id";
	idv = idname ? json_object_get(props, idname) : NULL;
	if (idv && json_is_integer(idv))
		snprintf(who, sizeof(who), " (%s%s %lld)",
			 !strcmp(kind, "stop_line") ? "stop_line of " : "",
			 idname, (long long)json_integer_value(idv));
	else if (kind)
		snprintf(who, sizeof(who), " (%s)", kind);
	if (idx >= 0)
		snprintf(ld->err, ld->errlen, "%s: feature %d%s: %s", ld->name,
			 idx, who, what);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->name, what);
}

static int grow(void **arr, size_t elem, uint32_t need, uint32_t *cap)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int grow_int(void **arr, size_t elem, int need, int *cap)
{
	uint32_t c = (uint32_t)*cap;
	int ret = grow(arr, elem, (uint32_t)need, &c);

	*cap = (int)c;
	return ret;
}

static double heading_of(double dx, double dy)
{
	double h = atan2(dx, dy) * (180.0 / M_PI);

	return h < 0 ? h + 360.0 : h;
}

static float wrap180(double d)
{
	while (d > 180.0)
		d -= 360.0;
	while (d < -180.0)
		d += 360.0;
	return (float)d;
}

/* Read [lon, lat] into ENU; 0 or a negative code (message filled). */
static int read_position(struct loader *ld, int idx, json_t *feat,
			 json_t *pos, double *x, double *y)
{
	double lon, lat, u;

	if (!json_is_array(pos) || json_array_size(pos) < 2 ||
	    !json_is_number(json_array_get(pos, 0)) ||
	    !json_is_number(json_array_get(pos, 1))) {
		load_err(ld, idx, feat, "a position must be [lon, lat] numbers");
		return V2X_E_TYPE;
	}
	lon = json_number_value(json_array_get(pos, 0));
	lat = json_number_value(json_array_get(pos, 1));
	if (!isfinite(lon) || !isfinite(lat) || lon < -180.0 || lon > 180.0 ||
	    lat < -90.0 || lat > 90.0) {
		load_err(ld, idx, feat, "position [%g, %g] out of range", lon,
			 lat);
		return V2X_E_RANGE;
	}
	enu_from_geo(&ld->m->ref, lat, lon, 0.0, x, y, &u);
	return 0;
}

static int get_int(struct loader *ld, int idx, json_t *feat, json_t *props,
		   const char *key, int required, int32_t *out)
{
	json_t *v = json_object_get(props, key);
	double d;

	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		load_err(ld, idx, feat, "missing property %s", key);
		return V2X_E_MISSING;
	}
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < INT32_MIN || i > INT32_MAX) {
			load_err(ld, idx, feat, "%s out of range", key);
			return V2X_E_RANGE;
		}
		*out = (int32_t)i;
		return 1;
	}
	/* Some writers emit 7.0 for an integer; accept an integral real. */
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d == floor(d) && d >= INT32_MIN && d <= INT32_MAX) {
			*out = (int32_t)d;
			return 1;
		}
	}
	load_err(ld, idx, feat, "%s must be an integer", key);
	return V2X_E_TYPE;
}

static int get_positive(struct loader *ld, int idx, json_t *feat,
			json_t *props, const char *key, float *out)
{
	json_t *v = json_object_get(props, key);
	double d;

	if (!v) {
		load_err(ld, idx, feat, "missing property %s", key);
		return V2X_E_MISSING;
	}
	if (!json_is_number(v)) {
		load_err(ld, idx, feat, "%s must be a number", key);
		return V2X_E_TYPE;
	}
	d = json_number_value(v);
	if (!(d > 0.0) || d > 1000.0) {
		load_err(ld, idx, feat, "%s must be > 0 (got %g)", key, d);
		return V2X_E_RANGE;
	}
	*out = (float)d;
	return 0;
}

static json_t *get_geometry(struct loader *ld, int idx, json_t *feat,
			    const char *type, int *ret)
{
	json_t *geom = json_object_get(feat, "geometry");
	const char *gt = json_string_value(json_object_get(geom, "type"));
	json_t *coords = json_object_get(geom, "coordinates");

	if (!geom || !gt || !json_is_array(coords)) {
		load_err(ld, idx, feat, "missing %s geometry", type);
		*ret = V2X_E_MISSING;
		return NULL;
	}
	if (strcmp(gt, type)) {
		load_err(ld, idx, feat, "geometry must be a %s, not %s", type,
			 gt);
		*ret = V2X_E_TYPE;
		return NULL;
	}
	return coords;
}

static int load_lane(struct loader *ld, int idx, json_t *feat, json_t *props)
{
	struct roadmap *m = ld->m;
	struct rm_lane *ln;
	const char *dir, *lt;
	json_t *coords;
	size_t n, i;
	uint32_t first;
	int ret = 0, backward;
	double x, y;

	coords = get_geometry(ld, idx, feat, "LineString", &ret);
	if (!coords)
		goto out;
	n = json_array_size(coords);
	if (n < 2) {
		load_err(ld, idx, feat, "LineString needs >= 2 points (has %zu)",
			 n);
		ret = V2X_E_INVALID;
		goto out;
	}
	ret = grow_int((void **)&m->lanes, sizeof(*m->lanes), m->n_lanes + 1,
		       &ld->cap_lanes);
	if (ret < 0)
		goto oom;
	ln = &m->lanes[m->n_lanes];
	memset(ln, 0, sizeof(*ln));
	ln->intersection_id = -1;
	ln->signal_group = -1;
	ln->stop_along_m = -1.0f;
	if ((ret = get_int(ld, idx, feat, props, "lane_id", 1, &ln->lane_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "segment_id", 1,
			   &ln->segment_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "intersection_id", 0,
			   &ln->intersection_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "signal_group", 0,
			   &ln->signal_group)) < 0)
		goto out;
	if ((ret = get_positive(ld, idx, feat, props, "speed_limit_kph",
				&ln->limit_mps)) < 0 ||
	    (ret = get_positive(ld, idx, feat, props, "width_m",
				&ln->width_m)) < 0)
		goto out;
	ln->limit_mps /= 3.6f;
	dir = json_string_value(json_object_get(props, "direction"));
	if (!dir) {
		load_err(ld, idx, feat, "missing property direction");
		ret = V2X_E_MISSING;
		goto out;
	}
	if (!strcmp(dir, "forward")) {
		backward = 0;
	} else if (!strcmp(dir, "backward")) {
		backward = 1;
	} else {
		load_err(ld, idx, feat,
			 "direction must be \"forward\" or \"backward\", not \"%s\"",
			 dir);
		ret = V2X_E_INVALID;
		goto out;
	}
	ln->next_lane_id = -1;
	ln->left_lane_id = -1;
	ln->right_lane_id = -1;
	if ((ret = get_int(ld, idx, feat, props, "next_lane_id", 0,
			   &ln->next_lane_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "left_lane_id", 0,
			   &ln->left_lane_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "right_lane_id", 0,
			   &ln->right_lane_id)) < 0)
		goto out;
	{
		json_t *cv = json_object_get(props, "connector");

		if (cv && !json_is_null(cv) && !json_is_boolean(cv)) {
			load_err(ld, idx, feat, "connector must be true or false");
			ret = V2X_E_TYPE;
			goto out;
		}
		ln->connector = json_is_true(cv);
	}
	lt = json_string_value(json_object_get(props, "lane_type"));
	if (!lt || !strcmp(lt, "vehicle")) {
		ln->type = ROADMAP_LANE_VEHICLE;
	} else if (!strcmp(lt, "bike")) {
		ln->type = ROADMAP_LANE_BIKE;
	} else if (!strcmp(lt, "sidewalk")) {
		ln->type = ROADMAP_LANE_SIDEWALK;
	} else {
		load_err(ld, idx, feat,
			 "lane_type must be vehicle, bike or sidewalk, not \"%s\"",
			 lt);
		ret = V2X_E_INVALID;
		goto out;
	}

	first = m->n_pts;
	ret = grow((void **)&m->px, sizeof(double), m->n_pts + (uint32_t)n,
		   &ld->cap_pts);
	if (ret < 0)
		goto oom;
	/* px grew; keep py and cum the same capacity. */
	{
		double *py = realloc(m->py, (size_t)ld->cap_pts * sizeof(double));
		double *cum;

		if (!py)
			goto oom;
		m->py = py;
		cum = realloc(m->cum, (size_t)ld->cap_pts * sizeof(double));
		if (!cum)
			goto oom;
		m->cum = cum;
	}
	for (i = 0; i < n; i++) {
		json_t *pos = json_array_get(coords, backward ? n - 1 - i : i);
		uint32_t k = m->n_pts;

		ret = read_position(ld, idx, feat, pos, &x, &y);
		if (ret < 0)
			goto out;
		if (k > first) {
			double d = hypot(x - m->px[k - 1], y - m->py[k - 1]);

			/* Repeated points make zero-length segments. */
			if (d < RM_MIN_SEG_M)
				continue;
			m->cum[k] = m->cum[k - 1] + d;
		} else {
			m->cum[k] = 0.0;
		}
		m->px[k] = x;
		m->py[k] = y;
		m->n_pts++;
	}
	if (m->n_pts - first < 2) {
		load_err(ld, idx, feat, "LineString has zero length");
		m->n_pts = first;
		ret = V2X_E_INVALID;
		goto out;
	}
	ln->first_pt = first;
	ln->n_pts = m->n_pts - first;
	ln->length_m = (float)m->cum[m->n_pts - 1];
	m->n_lanes++;
	ret = 0;
	goto out;
oom:
	load_err(ld, -1, NULL, "out of memory");
	ret = -ENOMEM;
out:
	return ret;
}

static int load_stop_line(struct loader *ld, int idx, json_t *feat,
			  json_t *props)
{
	struct rm_stop *st;
	json_t *coords;
	double x0, y0, x1, y1;
	size_t n;
	int ret = 0;

	coords = get_geometry(ld, idx, feat, "LineString", &ret);
	if (!coords)
		goto out;
	n = json_array_size(coords);
	if (n < 2) {
		load_err(ld, idx, feat, "LineString needs >= 2 points (has %zu)",
			 n);
		ret = V2X_E_INVALID;
		goto out;
	}
	ret = grow_int((void **)&ld->stops, sizeof(*ld->stops),
		       ld->n_stops + 1, &ld->cap_stops);
	if (ret < 0) {
		load_err(ld, -1, NULL, "out of memory");
		goto out;
	}
	st = &ld->stops[ld->n_stops];
	st->intersection_id = -1;
	st->signal_group = -1;
	st->feature = idx;
	if ((ret = get_int(ld, idx, feat, props, "lane_id", 1, &st->lane_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "intersection_id", 0,
			   &st->intersection_id)) < 0 ||
	    (ret = get_int(ld, idx, feat, props, "signal_group", 0,
			   &st->signal_group)) < 0)
		goto out;
	if ((ret = read_position(ld, idx, feat, json_array_get(coords, 0),
				 &x0, &y0)) < 0 ||
	    (ret = read_position(ld, idx, feat, json_array_get(coords, n - 1),
				 &x1, &y1)) < 0)
		goto out;
	st->x = (x0 + x1) / 2;
	st->y = (y0 + y1) / 2;
	ld->n_stops++;
	ret = 0;
out:
	return ret;
}

static int load_crosswalk(struct loader *ld, int idx, json_t *feat,
			  json_t *props)
{
	struct roadmap *m = ld->m;
	struct rm_crosswalk *cw;
	json_t *coords, *ring;
	size_t n, i;
	int ret = 0;
	double x, y;

	coords = get_geometry(ld, idx, feat, "Polygon", &ret);
	if (!coords)
		goto out;
	ring = json_array_get(coords, 0);
	n = json_is_array(ring) ? json_array_size(ring) : 0;
	if (n < 4) {
		load_err(ld, idx, feat,
			 "Polygon needs an outer ring of >= 4 positions (has %zu)",
			 n);
		ret = V2X_E_INVALID;
		goto out;
	}
	ret = grow_int((void **)&m->cws, sizeof(*m->cws), m->n_cws + 1,
		       &ld->cap_cws);
	if (ret < 0)
		goto oom;
	cw = &m->cws[m->n_cws];
	memset(cw, 0, sizeof(*cw));
	ret = get_int(ld, idx, feat, props, "crosswalk_id", 1, &cw->id);
	if (ret < 0)
		goto out;
	ret = grow((void **)&m->cx, sizeof(double), m->n_cpts + (uint32_t)n,
		   &ld->cap_cpts);
	if (ret < 0)
		goto oom;
	{
		double *cy = realloc(m->cy, (size_t)ld->cap_cpts * sizeof(double));

		if (!cy)
			goto oom;
		m->cy = cy;
	}
	cw->first_pt = m->n_cpts;
	cw->minx = cw->miny = INFINITY;
	cw->maxx = cw->maxy = -INFINITY;
	for (i = 0; i < n; i++) {
		ret = read_position(ld, idx, feat, json_array_get(ring, i), &x,
				    &y);
		if (ret < 0) {
			m->n_cpts = cw->first_pt;
			goto out;
		}
		m->cx[m->n_cpts] = x;
		m->cy[m->n_cpts] = y;
		m->n_cpts++;
		cw->minx = fmin(cw->minx, x);
		cw->miny = fmin(cw->miny, y);
		cw->maxx = fmax(cw->maxx, x);
		cw->maxy = fmax(cw->maxy, y);
	}
	cw->n_pts = (uint32_t)n;
	m->n_cws++;
	ret = 0;
	goto out;
oom:
	load_err(ld, -1, NULL, "out of memory");
	ret = -ENOMEM;
out:
	return ret;
}

static int cmp_lane(const void *a, const void *b)
{
	const struct rm_lane *x = a, *y = b;

	return (x->lane_id > y->lane_id) - (x->lane_id < y->lane_id);
}

static struct rm_lane *find_lane(const struct roadmap *m, int32_t lane_id)
{
	int lo = 0, hi = m->n_lanes - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (m->lanes[mid].lane_id == lane_id)
			return &m->lanes[mid];
		if (m->lanes[mid].lane_id < lane_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Nearest point of segment a-b to p: squared distance, parameter t. */
static double seg_project(double ax, double ay, double bx, double by,
			  double x, double y, double *t_out, double *cross)
{
	double dx = bx - ax, dy = by - ay;
	double l2 = dx * dx + dy * dy;
	double t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / l2 : 0.0;
	double qx, qy;

	if (t < 0)
		t = 0;
	else if (t > 1)
		t = 1;
	qx = ax + t * dx - x;
	qy = ay + t * dy - y;
	*t_out = t;
	*cross = dx * (y - ay) - dy * (x - ax);
	return qx * qx + qy * qy;
}

/* Along position on @ln nearest to (x, y), by a scan of its segments. */
static double lane_along_of(const struct roadmap *m, const struct rm_lane *ln,
			    double x, double y)
{
	double best = INFINITY, along = 0, t, cr;
	uint32_t i;

	for (i = ln->first_pt; i + 1 < ln->first_pt + ln->n_pts; i++) {
		double d2 = seg_project(m->px[i], m->py[i], m->px[i + 1],
					m->py[i + 1], x, y, &t, &cr);

		if (d2 < best) {
			best = d2;
			along = m->cum[i] + t * (m->cum[i + 1] - m->cum[i]);
		}
	}
	return along;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct roadmap_segment_info *x = a, *y = b;

	return (x->segment_id > y->segment_id) - (x->segment_id < y->segment_id);
}

static int build_segments(struct roadmap *m)
{
	int i, n = 0;
	float *len_all;
	uint16_t *n_all;

	m->segs = calloc((size_t)m->n_lanes, sizeof(*m->segs));
	len_all = calloc((size_t)m->n_lanes, sizeof(*len_all));
	n_all = calloc((size_t)m->n_lanes, sizeof(*n_all));
	if (!m->segs || !len_all || !n_all) {
		free(len_all);
		free(n_all);
		return -ENOMEM;
	}
	for (i = 0; i < m->n_lanes; i++) {
		const struct rm_lane *ln = &m->lanes[i];
		int k;

		for (k = 0; k < n; k++)
			if (m->segs[k].segment_id == ln->segment_id)
				break;
		if (k == n) {
			m->segs[n].segment_id = ln->segment_id;
			n++;
		}
		/* Means of vehicle lanes; of all lanes as a fallback. */
		len_all[k] += ln->length_m;
		n_all[k]++;
		if (ln->type == ROADMAP_LANE_VEHICLE) {
			m->segs[k].length_m += ln->length_m;
			m->segs[k].n_lanes++;
		}
		if (ln->limit_mps > m->segs[k].speed_limit_mps)
			m->segs[k].speed_limit_mps = ln->limit_mps;
	}
	for (i = 0; i < n; i++) {
		if (m->segs[i].n_lanes)
			m->segs[i].length_m /= m->segs[i].n_lanes;
		else
			m->segs[i].length_m = len_all[i] / n_all[i];
	}
	free(len_all);
	free(n_all);
	qsort(m->segs, (size_t)n, sizeof(*m->segs), cmp_seg);
	m->n_segs = n;
	return 0;
}

static void cell_range(const struct roadmap *m, double minx, double miny,
		       double maxx, double maxy, uint32_t *cx0, uint32_t *cy0,
		       uint32_t *cx1, uint32_t *cy1)
{
	double fx0 = floor((minx - m->gx0) / m->cell);
	double fy0 = floor((miny - m->gy0) / m->cell);
	double fx1 = floor((maxx - m->gx0) / m->cell);
	double fy1 = floor((maxy - m->gy0) / m->cell);

	*cx0 = fx0 < 0 ? 0 : (uint32_t)fx0;
	*cy0 = fy0 < 0 ? 0 : (uint32_t)fy0;
	*cx1 = fx1 >= m->gw ? m->gw - 1 : (uint32_t)fx1;
	*cy1 = fy1 >= m->gh ? m->gh - 1 : (uint32_t)fy1;
}

/*
 * Build both CSR grids.  pass 0 counts, pass 1 fills; cells covered by a
 * segment's buffered bounding box get the segment.
 */
static int build_grid(struct roadmap *m)
{
	double minx = INFINITY, miny = INFINITY, maxx = -INFINITY,
	       maxy = -INFINITY, margin = 0;
	uint32_t ncell, i, cx, cy, cx0, cy0, cx1, cy1;
	uint32_t *fill = NULL, *cwfill = NULL;
	int pass, l, k, ret = 0;

	for (i = 0; i < m->n_pts; i++) {
		minx = fmin(minx, m->px[i]);
		miny = fmin(miny, m->py[i]);
		maxx = fmax(maxx, m->px[i]);
		maxy = fmax(maxy, m->py[i]);
	}
	for (i = 0; i < m->n_cpts; i++) {
		minx = fmin(minx, m->cx[i]);
		miny = fmin(miny, m->cy[i]);
		maxx = fmax(maxx, m->cx[i]);
		maxy = fmax(maxy, m->cy[i]);
	}
	for (l = 0; l < m->n_lanes; l++)
		margin = fmax(margin, m->lanes[l].width_m / 2.0 +
					      m->opts.tolerance_m);
	if (!isfinite(minx)) {
		minx = miny = maxx = maxy = 0;
	}
	minx -= margin + 1;
	miny -= margin + 1;
	maxx += margin + 1;
	maxy += margin + 1;
	m->cell = m->opts.cell_m;
	for (;;) {
		double w = ceil((maxx - minx) / m->cell);
		double h = ceil((maxy - miny) / m->cell);

		if (w * h <= RM_MAX_CELLS) {
			m->gw = (uint32_t)(w < 1 ? 1 : w);
			m->gh = (uint32_t)(h < 1 ? 1 : h);
			break;
		}
		m->cell *= 2;
	}
	m->gx0 = minx;
	m->gy0 = miny;
	ncell = m->gw * m->gh;
	m->cell_start = calloc((size_t)ncell + 1, sizeof(uint32_t));
	m->cw_start = calloc((size_t)ncell + 1, sizeof(uint32_t));
	fill = calloc((size_t)ncell, sizeof(uint32_t));
	cwfill = calloc((size_t)ncell, sizeof(uint32_t));
	if (!m->cell_start || !m->cw_start || !fill || !cwfill) {
		ret = -ENOMEM;
		goto out;
	}
	for (pass = 0; pass < 2; pass++) {
		for (l = 0; l < m->n_lanes; l++) {
			const struct rm_lane *ln = &m->lanes[l];
			double r = ln->width_m / 2.0 + m->opts.tolerance_m;

			for (i = ln->first_pt; i + 1 < ln->first_pt + ln->n_pts;
			     i++) {
				cell_range(m, fmin(m->px[i], m->px[i + 1]) - r,
					   fmin(m->py[i], m->py[i + 1]) - r,
					   fmax(m->px[i], m->px[i + 1]) + r,
					   fmax(m->py[i], m->py[i + 1]) + r,
					   &cx0, &cy0, &cx1, &cy1);
				for (cy = cy0; cy <= cy1; cy++)
					for (cx = cx0; cx <= cx1; cx++) {
						uint32_t c = cy * m->gw + cx;

						if (pass == 0)
							m->cell_start[c + 1]++;
						else
							m->cell_items[m->cell_start[c] +
								      fill[c]++] = i;
					}
			}
		}
		for (k = 0; k < m->n_cws; k++) {
			const struct rm_crosswalk *cw = &m->cws[k];

			cell_range(m, cw->minx, cw->miny, cw->maxx, cw->maxy,
				   &cx0, &cy0, &cx1, &cy1);
			for (cy = cy0; cy <= cy1; cy++)
				for (cx = cx0; cx <= cx1; cx++) {
					uint32_t c = cy * m->gw + cx;

					if (pass == 0)
						m->cw_start[c + 1]++;
					else
						m->cw_items[m->cw_start[c] +
							    cwfill[c]++] = (uint32_t)k;
				}
		}
		if (pass == 0) {
			for (i = 0; i < ncell; i++) {
				m->cell_start[i + 1] += m->cell_start[i];
				m->cw_start[i + 1] += m->cw_start[i];
			}
			m->cell_items = malloc(((size_t)m->cell_start[ncell] + 1) *
					       sizeof(uint32_t));
			m->cw_items = malloc(((size_t)m->cw_start[ncell] + 1) *
					     sizeof(uint32_t));
			if (!m->cell_items || !m->cw_items) {
				ret = -ENOMEM;
				goto out;
			}
		}
	}
out:
	free(fill);
	free(cwfill);
	return ret;
}

/* Find the first coordinate of the first feature with a geometry. */
static int first_coordinate(json_t *features, double *lat, double *lon)
{
	size_t i;

	for (i = 0; i < json_array_size(features); i++) {
		json_t *c = json_object_get(
			json_object_get(json_array_get(features, i), "geometry"),
			"coordinates");

		/* Descend into nested arrays down to a position. */
		while (json_is_array(c) && json_array_size(c) &&
		       json_is_array(json_array_get(c, 0)))
			c = json_array_get(c, 0);
		if (json_is_array(c) && json_array_size(c) >= 2 &&
		    json_is_number(json_array_get(c, 0)) &&
		    json_is_number(json_array_get(c, 1))) {
			*lon = json_number_value(json_array_get(c, 0));
			*lat = json_number_value(json_array_get(c, 1));
			if (*lat >= -90 && *lat <= 90 && *lon >= -180 &&
			    *lon <= 180)
				return 1;
		}
	}
	return 0;
}

static int load_root(struct loader *ld, json_t *root, const struct enu_ref *ref)
{
	struct roadmap *m = ld->m;
	json_t *features, *refj;
	const char *type;
	double lat, lon;
	size_t i;
	int ret = 0, s;

	type = json_string_value(json_object_get(root, "type"));
	features = json_object_get(root, "features");
	if (!type || strcmp(type, "FeatureCollection") || !json_is_array(features)) {
		load_err(ld, -1, NULL,
			 "not a GeoJSON FeatureCollection with a features array");
		ret = V2X_E_INVALID;
		goto out;
	}
	refj = json_object_get(root, "reference");
	if (ref) {
		m->ref = *ref;
	} else if (refj) {
		json_t *la = json_object_get(refj, "lat");
		json_t *lo = json_object_get(refj, "lon");

		if (!json_is_number(la) || !json_is_number(lo) ||
		    fabs(json_number_value(la)) > 90 ||
		    fabs(json_number_value(lo)) > 180) {
			load_err(ld, -1, NULL,
				 "reference must be {\"lat\": deg, \"lon\": deg} in range");
			ret = V2X_E_INVALID;
			goto out;
		}
		enu_init(&m->ref, json_number_value(la), json_number_value(lo),
			 0.0);
	} else if (first_coordinate(features, &lat, &lon)) {
		enu_init(&m->ref, lat, lon, 0.0);
	} else {
		enu_init(&m->ref, 0.0, 0.0, 0.0);
	}

	for (i = 0; i < json_array_size(features); i++) {
		json_t *feat = json_array_get(features, i);
		json_t *props = json_object_get(feat, "properties");
		const char *kind = json_string_value(json_object_get(props, "kind"));

		if (!json_is_object(feat) || !json_is_object(props)) {
			load_err(ld, (int)i, NULL,
				 "a feature must be an object with properties");
			ret = V2X_E_INVALID;
			goto out;
		}
		if (!kind)
			continue; /* not ours: ignored like an unknown kind */
		if (!strcmp(kind, "lane"))
			ret = load_lane(ld, (int)i, feat, props);
		else if (!strcmp(kind, "stop_line"))
			ret = load_stop_line(ld, (int)i, feat, props);
		else if (!strcmp(kind, "crosswalk"))
			ret = load_crosswalk(ld, (int)i, feat, props);
		if (ret < 0)
			goto out;
	}
	if (m->n_lanes == 0) {
		load_err(ld, -1, NULL, "no lane features");
		ret = V2X_E_MISSING;
		goto out;
	}
	qsort(m->lanes, (size_t)m->n_lanes, sizeof(*m->lanes), cmp_lane);
	for (s = 1; s < m->n_lanes; s++) {
		if (m->lanes[s].lane_id == m->lanes[s - 1].lane_id) {
			load_err(ld, -1, NULL, "lane_id %d is used twice",
				 m->lanes[s].lane_id);
			ret = V2X_E_INVALID;
			goto out;
		}
	}
	m->pt_lane = malloc((size_t)m->n_pts * sizeof(uint32_t));
	if (!m->pt_lane) {
		ret = -ENOMEM;
		goto out;
	}
	for (s = 0; s < m->n_lanes; s++) {
		struct rm_lane *ln = &m->lanes[s];
		uint32_t k;

		for (k = 0; k < ln->n_pts; k++)
			m->pt_lane[ln->first_pt + k] = (uint32_t)s;
		/* A signalised lane without a stop line stops at its end. */
		if (ln->signal_group >= 0)
			ln->stop_along_m = ln->length_m;
	}
	for (s = 0; s < ld->n_stops; s++) {
		const struct rm_stop *st = &ld->stops[s];
		struct rm_lane *ln = find_lane(m, st->lane_id);

		if (!ln) {
			json_t *feat = json_array_get(features, (size_t)st->feature);

			load_err(ld, st->feature, feat,
				 "stop_line refers to unknown lane_id %d",
				 st->lane_id);
			ret = V2X_E_INVALID;
			goto out;
		}
		ln->stop_along_m = (float)lane_along_of(m, ln, st->x, st->y);
		if (st->intersection_id >= 0)
			ln->intersection_id = st->intersection_id;
		if (st->signal_group >= 0)
			ln->signal_group = st->signal_group;
	}
	ret = build_segments(m);
	if (ret < 0)
		goto out;
	ret = build_grid(m);
out:
	if (ret == -ENOMEM)
		load_err(ld, -1, NULL, "out of memory");
	return ret;
}

static int load_common(json_t *root, const char *name,
		       const struct enu_ref *ref,
		       const struct roadmap_opts *opts, struct roadmap **out,
		       char *err, size_t errlen)
{
	struct loader ld;
	int ret;

	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.err = err;
	ld.errlen = errlen;
	ld.m = calloc(1, sizeof(*ld.m));
	if (!ld.m) {
		load_err(&ld, -1, NULL, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ld.m->opts.tolerance_m = RM_DEFAULT_TOLERANCE_M;
	ld.m->opts.tie_m = RM_DEFAULT_TIE_M;
	ld.m->opts.cell_m = RM_DEFAULT_CELL_M;
	if (opts) {
		if (opts->tolerance_m >= 0)
			ld.m->opts.tolerance_m = opts->tolerance_m;
		if (opts->tie_m >= 0)
			ld.m->opts.tie_m = opts->tie_m;
		if (opts->cell_m >= 1)
			ld.m->opts.cell_m = opts->cell_m;
	}
	ret = load_root(&ld, root, ref);
	if (ret < 0)
		goto out;
	*out = ld.m;
	ld.m = NULL;
out:
	roadmap_free(ld.m);
	free(ld.stops);
	return ret;
}

/**
 * roadmap_load_string() - see roadmap.h.
 */
int roadmap_load_string(const char *json, const char *name,
			const struct enu_ref *ref,
			const struct roadmap_opts *opts, struct roadmap **out,
			char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_loads(json, 0, &jerr);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "%s: line %d column %d: %s", name,
				 jerr.line, jerr.column, jerr.text);
		ret = V2X_E_SYNTAX;
		goto out;
	}
	ret = load_common(root, name, ref, opts, out, err, errlen);
out:
	json_decref(root);
	return ret;
}

/**
 * roadmap_load_opts() - see roadmap.h.
 */
int roadmap_load_opts(const char *path, const struct enu_ref *ref,
		      const struct roadmap_opts *opts, struct roadmap **out,
		      char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = NULL;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	root = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "%s: line %d column %d: %s", path,
				 jerr.line, jerr.column, jerr.text);
		ret = V2X_E_SYNTAX;
		goto out;
	}
	ret = load_common(root, path, ref, opts, out, err, errlen);
out:
	json_decref(root);
	return ret;
}

/**
 * roadmap_load() - see roadmap.h.
 */
int roadmap_load(const char *path, const struct enu_ref *ref,
		 struct roadmap **out, char *err, size_t errlen)
{
	return roadmap_load_opts(path, ref, NULL, out, err, errlen);
}

/**
 * roadmap_free() - see roadmap.h.
 */
void roadmap_free(struct roadmap *m)
{
	if (!m)
		return;
	free(m->lanes);
	free(m->px);
	free(m->py);
	free(m->cum);
	free(m->pt_lane);
	free(m->cws);
	free(m->cx);
	free(m->cy);
	free(m->segs);
	free(m->cell_start);
	free(m->cell_items);
	free(m->cw_start);
	free(m->cw_items);
	free(m);
}

/**
 * roadmap_reference() - see roadmap.h.
 */
const struct enu_ref *roadmap_reference(const struct roadmap *m)
{
	return &m->ref;
}

static int cell_of(const struct roadmap *m, double x, double y, uint32_t *c)
{
	double fx = floor((x - m->gx0) / m->cell);
	double fy = floor((y - m->gy0) / m->cell);

	if (!(fx >= 0 && fy >= 0 && fx < m->gw && fy < m->gh))
		return 0;
	*c = (uint32_t)fy * m->gw + (uint32_t)fx;
	return 1;
}

static int point_in_ring(const double *xs, const double *ys, uint32_t n,
			 double x, double y)
{
	uint32_t i, j;
	int in = 0;

	for (i = 0, j = n - 1; i < n; j = i++) {
		if ((ys[i] > y) != (ys[j] > y) &&
		    x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i])
			in = !in;
	}
	return in;
}

/**
 * roadmap_on_crosswalk() - see roadmap.h.
 */
int roadmap_on_crosswalk(const struct roadmap *m, double x, double y)
{
	uint32_t c, k;

	if (!cell_of(m, x, y, &c))
		return 0;
	for (k = m->cw_start[c]; k < m->cw_start[c + 1]; k++) {
		const struct rm_crosswalk *cw = &m->cws[m->cw_items[k]];

		if (x < cw->minx || x > cw->maxx || y < cw->miny || y > cw->maxy)
			continue;
		if (point_in_ring(m->cx + cw->first_pt, m->cy + cw->first_pt,
				  cw->n_pts, x, y))
			return 1;
	}
	return 0;
}


static int match_impl(const struct roadmap *m, double x, double y,
		      float heading_deg, int32_t prefer_lane,
		      struct det_match *out)
{
	double best_lat = INFINITY, best_herr = INFINITY, pref_lat = INFINITY;
	double t, cross;
	uint32_t c, k, best = UINT32_MAX, pref = UINT32_MAX;
	const struct rm_lane *ln;
	/* Two passes over the cell: nearest distance, then the tie set. */
	int pass, found = 0;

	memset(out, 0, sizeof(*out));
	out->lane = -1;
	out->segment = -1;
	out->to_stop_line_m = -1.0f;
	if (!isfinite(x) || !isfinite(y) || !cell_of(m, x, y, &c))
		return 0;
	out->on_crosswalk = (uint8_t)roadmap_on_crosswalk(m, x, y);
	for (pass = 0; pass < 2; pass++) {
		for (k = m->cell_start[c]; k < m->cell_start[c + 1]; k++) {
			uint32_t i = m->cell_items[k];
			double d, herr;

			ln = &m->lanes[m->pt_lane[i]];
			d = sqrt(seg_project(m->px[i], m->py[i], m->px[i + 1],
					     m->py[i + 1], x, y, &t, &cross));
			if (d > ln->width_m / 2.0 + m->opts.tolerance_m)
				continue;
			if (pass == 0) {
				if (d < best_lat) {
					best_lat = d;
					best = i;
				}
				if (ln->lane_id == prefer_lane && d < pref_lat) {
					pref_lat = d;
					pref = i;
				}
				continue;
			}
			if (d > best_lat + m->opts.tie_m || !isfinite(heading_deg))
				continue;
			herr = fabs(wrap180(heading_deg -
					    heading_of(m->px[i + 1] - m->px[i],
						       m->py[i + 1] - m->py[i])));
			if (herr < best_herr) {
				best_herr = herr;
				best = i;
			}
		}
		if (best == UINT32_MAX)
			return 0;
		if (pref != UINT32_MAX) {
			best = pref;
			break;
		}
	}
	ln = &m->lanes[m->pt_lane[best]];
	seg_project(m->px[best], m->py[best], m->px[best + 1], m->py[best + 1],
		    x, y, &t, &cross);
	{
		double dx = m->px[best + 1] - m->px[best];
		double dy = m->py[best + 1] - m->py[best];
		double len = hypot(dx, dy);
		double along = m->cum[best] + t * (m->cum[best + 1] - m->cum[best]);

		out->lane = ln->lane_id;
		out->segment = ln->segment_id;
		out->along_m = (float)along;
		/* cross > 0: the point is left of the direction of travel. */
		out->offset_m = (float)(cross / len);
		out->heading_err_deg = isfinite(heading_deg) ?
			wrap180(heading_deg - heading_of(dx, dy)) : 0.0f;
		out->speed_limit_mps = ln->limit_mps;
		out->lane_width_m = ln->width_m;
		if (ln->stop_along_m >= 0 && ln->stop_along_m >= along)
			out->to_stop_line_m = (float)(ln->stop_along_m - along);
	}
	found = 1;
	return found;
}

/**
 * roadmap_match() - see roadmap.h.
 */
int roadmap_match(const struct roadmap *m, double x, double y,
		  float heading_deg, struct det_match *out)
{
	return match_impl(m, x, y, heading_deg, -1, out);
}

/**
 * roadmap_match_prefer() - see roadmap.h.
 */
int roadmap_match_prefer(const struct roadmap *m, double x, double y,
			 float heading_deg, int32_t prefer_lane,
			 struct det_match *out)
{
	return match_impl(m, x, y, heading_deg, prefer_lane < 0 ? INT32_MIN :
			  prefer_lane, out);
}

/**
 * roadmap_lane_at() - see roadmap.h.
 */
int roadmap_lane_at(const struct roadmap *m, double x, double y, int type,
		    int32_t *lane_id)
{
	double best = INFINITY, t, cross;
	uint32_t c, k;
	int found = 0;

	if (!isfinite(x) || !isfinite(y) || !cell_of(m, x, y, &c))
		return 0;
	for (k = m->cell_start[c]; k < m->cell_start[c + 1]; k++) {
		uint32_t i = m->cell_items[k];
		const struct rm_lane *ln = &m->lanes[m->pt_lane[i]];
		double d;

		if (ln->type != type)
			continue;
		d = sqrt(seg_project(m->px[i], m->py[i], m->px[i + 1],
				     m->py[i + 1], x, y, &t, &cross));
		/* Past either end of the lane is not inside it. */
		if ((t <= 0.0 && i == ln->first_pt) ||
		    (t >= 1.0 && i + 2 == ln->first_pt + ln->n_pts))
			continue;
		if (d <= ln->width_m / 2.0 && d < best) {
			best = d;
			*lane_id = ln->lane_id;
			found = 1;
		}
	}
	return found;
}

/**
 * roadmap_lane() - see roadmap.h.
 */
int roadmap_lane(const struct roadmap *m, int32_t lane_id,
		 struct roadmap_lane_info *out)
{
	const struct rm_lane *ln = find_lane(m, lane_id);

	if (!ln)
		return V2X_E_RANGE;
	out->lane_id = ln->lane_id;
	out->segment_id = ln->segment_id;
	out->intersection_id = ln->intersection_id;
	out->signal_group = ln->signal_group;
	out->type = ln->type;
	out->speed_limit_mps = ln->limit_mps;
	out->width_m = ln->width_m;
	out->length_m = ln->length_m;
	out->stop_along_m = ln->stop_along_m;
	out->next_lane_id = ln->next_lane_id;
	out->left_lane_id = ln->left_lane_id;
	out->right_lane_id = ln->right_lane_id;
	out->connector = ln->connector;
	return 0;
}

/**
 * roadmap_segment_count() - see roadmap.h.
 */
int roadmap_segment_count(const struct roadmap *m)
{
	return m->n_segs;
}

/**
 * roadmap_segment_at() - see roadmap.h.
 */
int roadmap_segment_at(const struct roadmap *m, int index,
		       struct roadmap_segment_info *out)
{
	if (index < 0 || index >= m->n_segs)
		return V2X_E_RANGE;
	*out = m->segs[index];
	return 0;
}

/**
 * roadmap_segment_index() - see roadmap.h.
 */
int roadmap_segment_index(const struct roadmap *m, int32_t segment_id)
{
	int lo = 0, hi = m->n_segs - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (m->segs[mid].segment_id == segment_id)
			return mid;
		if (m->segs[mid].segment_id < segment_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return V2X_E_RANGE;
}

/**
 * roadmap_lane_count() - see roadmap.h.
 */
int roadmap_lane_count(const struct roadmap *m)
{
	return m->n_lanes;
}

/**
 * roadmap_lane_by_index() - see roadmap.h.
 */
int roadmap_lane_by_index(const struct roadmap *m, int index,
			  struct roadmap_lane_info *out)
{
	if (index < 0 || index >= m->n_lanes)
		return V2X_E_RANGE;
	return roadmap_lane(m, m->lanes[index].lane_id, out);
}

/**
 * roadmap_lane_along() - see roadmap.h.
 */
int roadmap_lane_along(const struct roadmap *m, int32_t lane_id, double x,
		       double y, double *along_m)
{
	const struct rm_lane *ln = find_lane(m, lane_id);

	if (!ln)
		return V2X_E_RANGE;
	*along_m = lane_along_of(m, ln, x, y);
	return 0;
}
