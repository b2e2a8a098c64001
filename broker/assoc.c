/* SPDX-License-Identifier: MIT */
/*
 * assoc.c - sensor frame to V2X track association (see assoc.h).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "v2x/error.h"
#include "assoc.h"
#include "hashmix.h"
#include "tracks.h"

#define FORBID 1e6
#define MAX_PREDICT_S 1.0
#define HEADING_MIN_SPEED 2.0f
#define STICKY_FACTOR 0.25
#define SWEEP_PER_FRAME 64u
#define EMPTY UINT32_MAX
/* Frames sensor-only in a row after which an object is established: it
 * merges into a V2X track only after merge_frames matches in a row. */
#define SOLO_ESTABLISHED 5

struct obj_ent {
	uint64_t key;          /* sensor id << 32 | object id */
	uint64_t fused_id;     /* id given on the last frame */
	uint64_t bound_v2x;    /* V2X track matched on the last frame, 0 none */
	uint64_t sensor_only;  /* its sensor-only id, 0 = not yet given */
	uint64_t last_ns;
	uint64_t pending_v2x;  /* V2X track it is matching, not yet merged */
	uint16_t solo;         /* frames sensor-only in a row */
	uint16_t pending;      /* frames in a row matching pending_v2x */
	uint8_t used;
};

struct assoc {
	struct enu_ref ref;
	int have_ref;
	float gate_m, gate_v, gate_h, gate_lat;
	uint32_t merge_frames;
	uint32_t max_cands;
	uint64_t ttl_ns;
	uint64_t next_sensor_id;

	/* object map: open addressing, linear probing, backward shift */
	struct obj_ent *objs;
	uint32_t omask, n_objs, max_objs, sweep_pos;

	/* per-frame scratch */
	float *full;           /* V2X_OBJECTS_MAX x max_cands gated costs */
	double *cost;          /* compressed matrix */
	int *row_obj, *col_cand, *row_to_col, *cand_col;
	void *solve_scratch;
	uint32_t *ent_of_obj;

	struct assoc_stats st;
};

/**
 * assoc_scratch_size() - see assoc.h.
 */
size_t assoc_scratch_size(int rows, int cols)
{
	size_t n = (size_t)(rows < cols ? rows : cols);
	size_t m = (size_t)(rows < cols ? cols : rows);

	/* transposed copy, u, v, minv (double); p, way (int); used (char) */
	return (size_t)rows * (size_t)cols * sizeof(double) +
	       (n + 1 + 2 * (m + 1)) * sizeof(double) +
	       2 * (m + 1) * sizeof(int) + (m + 1) + 8;
}

/**
 * assoc_solve() - see assoc.h.
 *
 * Hungarian method in the shortest-augmenting-path form with row and
 * column potentials: each row in turn is added and an augmenting path of
 * minimum reduced cost is found Dijkstra-style over the columns; O(n^2 m)
 * for n <= m (a wider-than-tall problem is solved transposed).
 */
int assoc_solve(const double *cost, int rows, int cols, double forbid,
		int *row_to_col, void *scratch)
{
	int transposed = rows > cols;
	int n = transposed ? cols : rows, m = transposed ? rows : cols;
	double *a = scratch;
	double *u = a + (size_t)rows * (size_t)cols;
	double *v = u + n + 1;
	double *minv = v + m + 1;
	int *p = (int *)(minv + m + 1);
	int *way = p + m + 1;
	char *used = (char *)(way + m + 1);
	int i, j, assigned = 0;

	for (i = 0; i < rows; i++)
		row_to_col[i] = -1;
	if (rows <= 0 || cols <= 0)
		return 0;
	/* a is n x m: rows of the (possibly transposed) problem. */
	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++) {
			double c = cost[(size_t)i * cols + j];

			if (!(c < forbid))
				c = forbid;
			if (transposed)
				a[(size_t)j * m + i] = c;
			else
				a[(size_t)i * m + j] = c;
		}
	for (i = 0; i <= n; i++)
		u[i] = 0;
	for (j = 0; j <= m; j++) {
		v[j] = 0;
		p[j] = 0;
		way[j] = 0;
	}
	for (i = 1; i <= n; i++) {
		int j0 = 0, j1 = 0;

		p[0] = i;
		for (j = 0; j <= m; j++) {
			minv[j] = INFINITY;
			used[j] = 0;
		}
		do {
			int i0 = p[j0];
			double delta = INFINITY;

			used[j0] = 1;
			for (j = 1; j <= m; j++) {
				double cur;

				if (used[j])
					continue;
				cur = a[(size_t)(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
				if (cur < minv[j]) {
					minv[j] = cur;
					way[j] = j0;
				}
				if (minv[j] < delta) {
					delta = minv[j];
					j1 = j;
				}
			}
			for (j = 0; j <= m; j++) {
				if (used[j]) {
					u[p[j]] += delta;
					v[j] -= delta;
				} else {
					minv[j] -= delta;
				}
			}
			j0 = j1;
		} while (p[j0] != 0);
		do {
			j1 = way[j0];
			p[j0] = p[j1];
			j0 = j1;
		} while (j0);
	}
	for (j = 1; j <= m; j++) {
		int r, c;

		if (!p[j])
			continue;
		r = transposed ? j - 1 : p[j] - 1;
		c = transposed ? p[j] - 1 : j - 1;
		if (cost[(size_t)r * cols + c] < forbid) {
			row_to_col[r] = c;
			assigned++;
		}
	}
	return assigned;
}

/**
 * assoc_new() - see assoc.h.
 */
struct assoc *assoc_new(const struct detect_config *cfg,
			const struct enu_ref *ref)
{
	struct assoc *a = calloc(1, sizeof(*a));
	uint32_t cap = 16, mc;
	struct timespec ts;

	if (!a)
		return NULL;
	a->gate_m = cfg->fusion.gate_m;
	a->gate_v = cfg->fusion.gate_speed_mps;
	a->gate_h = cfg->fusion.gate_heading_deg;
	a->gate_lat = cfg->fusion.gate_lateral_m < cfg->fusion.gate_m ?
		      cfg->fusion.gate_lateral_m : cfg->fusion.gate_m;
	a->max_cands = mc = cfg->fusion.max_candidates ? cfg->fusion.max_candidates : 1;
	a->merge_frames = cfg->fusion.merge_frames ? cfg->fusion.merge_frames : 1;
	a->ttl_ns = (uint64_t)cfg->fusion.object_ttl_ms * 1000000u;
	a->max_objs = cfg->fusion.max_objects ? cfg->fusion.max_objects : 16;
	while (cap < a->max_objs * 2u)
		cap <<= 1;
	a->omask = cap - 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	a->next_sensor_id = (uint64_t)ts.tv_sec * 1000000u +
			    (uint64_t)ts.tv_nsec / 1000u;
	a->objs = calloc(cap, sizeof(*a->objs));
	a->full = malloc((size_t)V2X_OBJECTS_MAX * mc * sizeof(*a->full));
	a->cost = malloc((size_t)V2X_OBJECTS_MAX * mc * sizeof(*a->cost));
	a->row_obj = malloc(V2X_OBJECTS_MAX * sizeof(int));
	a->row_to_col = malloc(V2X_OBJECTS_MAX * sizeof(int));
	a->col_cand = malloc((size_t)mc * sizeof(int));
	a->cand_col = malloc((size_t)mc * sizeof(int));
	a->ent_of_obj = malloc(V2X_OBJECTS_MAX * sizeof(uint32_t));
	a->solve_scratch = malloc(assoc_scratch_size(V2X_OBJECTS_MAX, (int)mc));
	if (!a->objs || !a->full || !a->cost || !a->row_obj || !a->row_to_col ||
	    !a->col_cand || !a->cand_col || !a->ent_of_obj || !a->solve_scratch) {
		assoc_free(a);
		errno = ENOMEM;
		return NULL;
	}
	if (ref)
		assoc_set_ref(a, ref);
	return a;
}

/**
 * assoc_free() - see assoc.h.
 */
void assoc_free(struct assoc *a)
{
	if (!a)
		return;
	free(a->objs);
	free(a->full);
	free(a->cost);
	free(a->row_obj);
	free(a->row_to_col);
	free(a->col_cand);
	free(a->cand_col);
	free(a->ent_of_obj);
	free(a->solve_scratch);
	free(a);
}

/**
 * assoc_set_ref() - see assoc.h.
 */
void assoc_set_ref(struct assoc *a, const struct enu_ref *ref)
{
	a->ref = *ref;
	a->have_ref = 1;
}

/**
 * assoc_get_stats() - see assoc.h.
 */
void assoc_get_stats(const struct assoc *a, struct assoc_stats *st)
{
	*st = a->st;
}

static uint32_t obj_home(const struct assoc *a, uint64_t key)
{
	return (uint32_t)hash_mix64(key) & a->omask;
}

static uint32_t obj_find_or_add(struct assoc *a, uint64_t key, int *created)
{
	uint32_t i = obj_home(a, key);

	*created = 0;
	while (a->objs[i].used) {
		if (a->objs[i].key == key)
			return i;
		i = (i + 1) & a->omask;
	}
	if (a->n_objs >= a->max_objs)
		return EMPTY;
	memset(&a->objs[i], 0, sizeof(a->objs[i]));
	a->objs[i].used = 1;
	a->objs[i].key = key;
	a->n_objs++;
	*created = 1;
	return i;
}

static void obj_delete(struct assoc *a, uint32_t i)
{
	uint32_t j = i, home;

	a->n_objs--;
	for (;;) {
		a->objs[i].used = 0;
		for (;;) {
			j = (j + 1) & a->omask;
			if (!a->objs[j].used)
				return;
			home = obj_home(a, a->objs[j].key);
			if (i <= j ? (home <= i || home > j)
				   : (home <= i && home > j))
				break;
		}
		a->objs[i] = a->objs[j];
		i = j;
	}
}

/* Forget objects not seen for ttl: a bounded slice of the map per frame. */
static void obj_sweep(struct assoc *a, uint64_t now)
{
	uint32_t n;

	for (n = 0; n < SWEEP_PER_FRAME && n <= a->omask; n++) {
		struct obj_ent *e = &a->objs[a->sweep_pos];

		if (e->used && e->last_ns + a->ttl_ns < now) {
			/* The hole is refilled from later slots: look again. */
			obj_delete(a, a->sweep_pos);
			continue;
		}
		a->sweep_pos = (a->sweep_pos + 1) & a->omask;
	}
}

static int is_vru(uint8_t cls)
{
	return cls == V2X_CLASS_PEDESTRIAN || cls == V2X_CLASS_CYCLIST;
}

static int class_compatible(uint8_t a, uint8_t b)
{
	if (a == V2X_CLASS_UNKNOWN || b == V2X_CLASS_UNKNOWN)
		return 1;
	return is_vru(a) == is_vru(b);
}

static float wrap180f(float d)
{
	while (d > 180.0f)
		d -= 360.0f;
	while (d < -180.0f)
		d += 360.0f;
	return d;
}

/* Gated cost of object (ox, oy, ov, oh, ocls) vs candidate; FORBID if out. */
static double pair_cost(const struct assoc *a, const struct v2x_objects *fr,
			double ox, double oy, float ov, float oh, uint8_t ocls,
			uint64_t bound, const struct candidate_track *c)
{
	double dt = ((double)fr->ts_ns - (double)c->t_ns) * 1e-9;
	double px = c->x, py = c->y, d, cost, lat = 0, gl = a->gate_m;
	double path_deg = NAN;
	float dv = 0, dh = 0;

	if (!class_compatible(ocls, c->cls))
		return FORBID;
	if (dt > MAX_PREDICT_S)
		dt = MAX_PREDICT_S;
	if (dt < -MAX_PREDICT_S)
		dt = -MAX_PREDICT_S;
	if (isfinite(c->speed_mps) && isfinite(c->heading_deg)) {
		double h = c->heading_deg * (M_PI / 180.0);

		px += c->speed_mps * dt * sin(h);
		py += c->speed_mps * dt * cos(h);
	}
	d = hypot(ox - px, oy - py);
	if (!(d <= a->gate_m))
		return FORBID;
	/*
	 * Across a moving road user the gate is narrower than along it:
	 * position noise and timing spread a road user along its path, while
	 * a vehicle 3.5 m to the side is in the next lane - another road
	 * user, whom a round gate would take for this one whenever the sensor
	 * misses it.  The path is the track's while it moves.  A standing
	 * car's GNSS heading is unreliable, but a sensor's heading of a
	 * moving object is good: when only the object moves, its own heading
	 * gives the path.  Otherwise a sensor object driving past a standing
	 * connected car in the next lane (intersection seed 9: 2.6 m/s, 2.9
	 * to 3.4 m across, within the round gate and the speed gate) is taken
	 * for that car, and its motion is lost to its own track.  A connected
	 * car moving off is still its radar object: its GNSS error across its
	 * path (up to about 1.5 m) stays inside this gate.
	 */
	if (isfinite(c->speed_mps) && isfinite(c->heading_deg) &&
	    c->speed_mps > HEADING_MIN_SPEED)
		path_deg = c->heading_deg;
	else if (isfinite(oh) && isfinite(ov) && ov > HEADING_MIN_SPEED)
		path_deg = oh;
	if (isfinite(path_deg)) {
		double h = path_deg * (M_PI / 180.0);

		lat = fabs((ox - px) * cos(h) - (oy - py) * sin(h));
		gl = a->gate_lat;
		if (!(lat <= gl))
			return FORBID;
	}
	if (isfinite(ov) && isfinite(c->speed_mps)) {
		dv = fabsf(ov - c->speed_mps);
		if (dv > a->gate_v)
			return FORBID;
	}
	if (isfinite(oh) && isfinite(c->heading_deg) && isfinite(ov) &&
	    isfinite(c->speed_mps) && ov > HEADING_MIN_SPEED &&
	    c->speed_mps > HEADING_MIN_SPEED) {
		dh = fabsf(wrap180f(oh - c->heading_deg));
		if (dh > a->gate_h)
			return FORBID;
	}
	cost = (d / a->gate_m) * (d / a->gate_m) + (lat / gl) * (lat / gl) +
	       (double)(dv / a->gate_v) * (dv / a->gate_v) +
	       (double)(dh / a->gate_h) * (dh / a->gate_h);
	if (bound && bound == c->track_id)
		cost *= STICKY_FACTOR;
	return cost;
}

/**
 * assoc_frame() - see assoc.h.
 */
int assoc_frame(struct assoc *a, const struct v2x_objects *frame,
		const struct candidate_track *cands, int n_cands,
		struct assoc_result *out)
{
	int i, j, n_rows = 0, n_cols = 0, ret = 0, created;
	int n = frame->n;

	memset(out, 0, offsetof(struct assoc_result, m));
	if (!a->have_ref) {
		ret = V2X_E_INVALID;
		goto out;
	}
	if (n > V2X_OBJECTS_MAX) {
		ret = V2X_E_LIMIT;
		goto out;
	}
	if (n_cands < 0)
		n_cands = 0;
	if ((uint32_t)n_cands > a->max_cands) {
		a->st.cands_dropped += (uint64_t)n_cands - a->max_cands;
		n_cands = (int)a->max_cands;
	}
	a->st.frames++;
	a->st.objects += (uint64_t)n;
	obj_sweep(a, frame->ts_ns);
	out->n = n;

	/* Gate every pair; remember which rows and columns take part. */
	for (j = 0; j < n_cands; j++)
		a->cand_col[j] = -1;
	for (i = 0; i < n; i++) {
		const struct v2x_object *o = &frame->obj[i];
		struct assoc_match *mt = &out->m[i];
		uint64_t key = ((uint64_t)frame->sensor_id << 32) | o->id;
		float ov = o->speed == V2X_SPEED_UNAVAILABLE ? NAN : o->speed * 0.02f;
		float oh = o->heading >= V2X_HEADING_UNAVAILABLE ? NAN :
			o->heading * 0.0125f;
		uint64_t bound = 0;
		double u;
		uint32_t e;
		int any = 0;

		memset(mt, 0, sizeof(*mt));
		mt->cand = -1;
		enu_from_geo(&a->ref, o->lat * 1e-7, o->lon * 1e-7, 0.0, &mt->x,
			     &mt->y, &u);
		e = obj_find_or_add(a, key, &created);
		a->ent_of_obj[i] = e;
		if (e == EMPTY) {
			a->st.map_full++;
		} else {
			mt->is_new = (uint8_t)created;
			bound = a->objs[e].bound_v2x;
		}
		for (j = 0; j < n_cands; j++) {
			double c = pair_cost(a, frame, mt->x, mt->y, ov, oh, o->cls,
					     bound, &cands[j]);

			a->full[(size_t)i * a->max_cands + j] = (float)c;
			if (c < FORBID) {
				any = 1;
				if (a->cand_col[j] < 0) {
					a->cand_col[j] = n_cols;
					a->col_cand[n_cols++] = j;
				}
			}
		}
		if (any)
			a->row_obj[n_rows++] = i;
	}
	/* Compressed matrix of the rows and columns with a gated pair. */
	for (i = 0; i < n_rows; i++)
		for (j = 0; j < n_cols; j++)
			a->cost[(size_t)i * n_cols + j] =
				a->full[(size_t)a->row_obj[i] * a->max_cands +
					a->col_cand[j]];
	assoc_solve(a->cost, n_rows, n_cols, FORBID, a->row_to_col,
		    a->solve_scratch);
	for (i = 0; i < n_rows; i++) {
		int col = a->row_to_col[i];
		struct assoc_match *mt = &out->m[a->row_obj[i]];

		if (col < 0)
			continue;
		mt->cand = a->col_cand[col];
		mt->cost = (float)a->cost[(size_t)i * n_cols + col];
	}

	/* Identities. */
	for (i = 0; i < n; i++) {
		struct assoc_match *mt = &out->m[i];
		uint32_t e = a->ent_of_obj[i];
		struct obj_ent *oe = e == EMPTY ? NULL : &a->objs[e];
		int held = 0;

		/* An established sensor-only road user merges only into a
		 * V2X track it keeps matching: not on one frame's chance. */
		if (mt->cand >= 0 && oe && oe->solo >= SOLO_ESTABLISHED) {
			uint64_t tid = cands[mt->cand].track_id;

			if (oe->pending_v2x != tid) {
				oe->pending_v2x = tid;
				oe->pending = 0;
			}
			if (++oe->pending < a->merge_frames) {
				mt->cand = -1;
				mt->cost = 0;
				held = 1;
				a->st.merge_held++;
			}
		}
		if (oe && !held) {
			oe->pending_v2x = 0;
			oe->pending = 0;
		}
		if (mt->cand >= 0) {
			mt->track_id = cands[mt->cand].track_id;
			out->n_matched++;
		} else {
			if (oe && !oe->sensor_only)
				oe->sensor_only = ASSOC_SENSOR_ONLY |
						  ++a->next_sensor_id;
			mt->track_id = oe ? oe->sensor_only :
				ASSOC_SENSOR_ONLY | ++a->next_sensor_id;
			out->n_sensor_only++;
		}
		if (!oe)
			continue;
		if (mt->cand >= 0)
			oe->solo = 0;
		else if (oe->solo < UINT16_MAX)
			oe->solo++;
		if (oe->fused_id && oe->fused_id != mt->track_id)
			mt->prev_track_id = oe->fused_id;
		oe->fused_id = mt->track_id;
		oe->bound_v2x = mt->cand >= 0 ? mt->track_id : 0;
		oe->last_ns = frame->ts_ns;
	}
	a->st.matched += (uint64_t)out->n_matched;
	a->st.sensor_only += (uint64_t)out->n_sensor_only;
	ret = out->n_matched;
out:
	return ret;
}

#define NEAR_MAX 256
#define SEEN_SLOTS 2048 /* > 2 x the largest max_candidates (1024) */

/**
 * assoc_candidates() - see assoc.h.
 */
int assoc_candidates(const struct track_table *tt, const struct enu_ref *ref,
		     const struct v2x_objects *frame, double radius_m,
		     struct candidate_track *out, int max)
{
	const struct track *near[NEAR_MAX];
	uint64_t seen[SEEN_SLOTS];
	int i, k, n_near, n = 0;
	double x, y, u;

	if (max > SEEN_SLOTS / 2)
		max = SEEN_SLOTS / 2;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < frame->n && i < V2X_OBJECTS_MAX && n < max; i++) {
		enu_from_geo(ref, frame->obj[i].lat * 1e-7,
			     frame->obj[i].lon * 1e-7, 0.0, &x, &y, &u);
		n_near = track_table_near(tt, x, y, radius_m, near, NEAR_MAX);
		for (k = 0; k < n_near && n < max; k++) {
			const struct track *t = near[k];
			uint32_t h;

			if (t->kind != TRACK_V2X)
				continue;
			/* A small set of ids already taken (ids are never 0). */
			h = (uint32_t)hash_mix64(t->id) & (SEEN_SLOTS - 1);
			while (seen[h] && seen[h] != t->id)
				h = (h + 1) & (SEEN_SLOTS - 1);
			if (seen[h])
				continue;
			seen[h] = t->id;
			out[n].track_id = t->id;
			out[n].t_ns = t->cur.t_ns;
			out[n].x = t->cur.x;
			out[n].y = t->cur.y;
			out[n].speed_mps = t->cur.speed_mps;
			out[n].heading_deg = t->cur.heading_deg;
			out[n].cls = t->cls;
			n++;
		}
	}
	return n;
}
