/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_score.c - event accuracy against the simulator's ground
 * truth; see bench_score.h for the matching rule.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_score.h"
#include "enu.h"
#include "roadmap.h"
#include "v2x/error.h"
#include "v2x/msg.h"

#define EARTH_R 6371008.8
/* A queue this close to a signal's stop line is the signal's (sim/truth.c,
 * truth__congestion(): "A queue at a signal is normal traffic"). */
#define SIGNAL_QUEUE_M 150.0

/*
 * bench_score_cfg_default() - see bench_score.h.
 */
void bench_score_cfg_default(struct bench_score_cfg *cfg)
{
	cfg->radius_m = 50.0;
	cfg->congestion_radius_m = 1000.0;
	cfg->move_mps = 50.0;
	cfg->tolerance_s = 1.0;
	cfg->grace_s = 5.0;
	cfg->natural_min_s = 1.0;
}

/*
 * bench_distance_m() - see bench_score.h.
 */
double bench_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * M_PI / 180.0, p2 = lat2 * M_PI / 180.0;
	double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180.0;
	double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);

	return 2.0 * EARTH_R * atan2(sqrt(a), sqrt(1.0 - a));
}

/*
 * bench_score_init() - see bench_score.h.
 */
int bench_score_init(struct bench_score *sc, const struct bench_score_cfg *cfg)
{
	memset(sc, 0, sizeof(*sc));
	if (cfg)
		sc->cfg = *cfg;
	else
		bench_score_cfg_default(&sc->cfg);
	return 0;
}

/*
 * bench_score_fini() - see bench_score.h.
 */
static void score__free_map(struct bench_score *sc)
{
	for (int i = 0; i < sc->nseg; i++)
		free(sc->seg[i].pred);
	free(sc->seg);
	sc->seg = NULL;
	sc->nseg = 0;
	roadmap_free(sc->map);
	sc->map = NULL;
}

void bench_score_fini(struct bench_score *sc)
{
	score__free_map(sc);
	free(sc->inc);
	free(sc->evt);
	free(sc->index);
	free(sc->index_slot);
	memset(sc, 0, sizeof(*sc));
}

static int json__u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return V2X_E_MISSING;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0) {
		*out = (uint64_t)json_real_value(v);
		return 0;
	}
	return V2X_E_TYPE;
}

static int json__num(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return V2X_E_MISSING;
	if (!json_is_number(v))
		return V2X_E_TYPE;
	*out = json_number_value(v);
	return 0;
}

static int json__int(json_t *o, const char *key, int *out, int dflt)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v))
		return V2X_E_TYPE;
	*out = (int)json_integer_value(v);
	return 0;
}

static int score__incident(struct bench_score *sc, json_t *o, int marginal)
{
	struct bench_incident in;
	const char *tname = json_string_value(json_object_get(o, "type"));
	int ret;

	memset(&in, 0, sizeof(in));
	in.marginal = marginal;
	if (!tname)
		return V2X_E_MISSING;
	in.type = v2x_event_type_from_name(tname);
	if (in.type < 0 || in.type >= BENCH_NTYPES)
		return V2X_E_RANGE;
	if ((ret = json__int(o, "id", &in.id, -1)) < 0 ||
	    (ret = json__u64(o, "start_ts", &in.start_ts)) < 0 ||
	    (ret = json__u64(o, "end_ts", &in.end_ts)) < 0 ||
	    (ret = json__num(o, "lat", &in.lat)) < 0 ||
	    (ret = json__num(o, "lon", &in.lon)) < 0 ||
	    (ret = json__int(o, "lane", &in.lane, -1)) < 0 ||
	    (ret = json__int(o, "segment", &in.segment, -1)) < 0)
		return ret;
	ret = json__u64(o, "detectable_ts", &in.detectable_ts);
	if (ret == V2X_E_MISSING)
		in.detectable_ts = 0;
	else if (ret < 0)
		return ret;
	{
		json_t *t = json_object_get(o, "temp_ids"), *so = json_object_get(o, "sensor_objects");

		in.observed = in.type == V2X_EVT_CONGESTION ||
			      (json_is_array(t) && json_array_size(t) > 0) ||
			      (json_is_array(so) && json_array_size(so) > 0);
	}
	{
		json_t *cl = json_object_get(json_object_get(o, "closure"), "lanes");
		size_t k;
		json_t *v;

		json_array_foreach(cl, k, v)
			if (json_is_integer(v) && in.nclosed < 8)
				in.closed_lane[in.nclosed++] = (int)json_integer_value(v);
	}
	{
		json_t *c = json_object_get(o, "cause");

		/* Older truth files have no cause: all injected. */
		if (c && !json_is_null(c)) {
			const char *cs = json_string_value(c);

			if (!cs)
				return V2X_E_TYPE;
			if (!strcmp(cs, "natural"))
				in.natural = 1;
			else if (strcmp(cs, "injected"))
				return V2X_E_RANGE;
		}
	}
	if (in.lat < -90 || in.lat > 90 || in.lon < -180 || in.lon > 180 ||
	    in.end_ts < in.start_ts)
		return V2X_E_RANGE;
	if (sc->ninc == sc->cap_inc) {
		int cap = sc->cap_inc ? sc->cap_inc * 2 : 64;
		struct bench_incident *p = realloc(sc->inc, (size_t)cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sc->inc = p;
		sc->cap_inc = cap;
	}
	sc->inc[sc->ninc++] = in;
	return 0;
}

/*
 * bench_score_load_truth() - see bench_score.h.
 */
int bench_score_load_truth(struct bench_score *sc, const char *path, int *bad_line)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, ret = 0, n0 = sc->ninc;

	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *o;
		const char *kind;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
				   line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0)
			continue;
		o = json_loadb(line, (size_t)len, 0, &jerr);
		if (!o || !json_is_object(o)) {
			json_decref(o);
			ret = V2X_E_SYNTAX;
			goto out;
		}
		kind = json_string_value(json_object_get(o, "kind"));
		if (!kind) {
			ret = V2X_E_MISSING;
		} else if (!strcmp(kind, "incident") || !strcmp(kind, "marginal")) {
			ret = score__incident(sc, o, !strcmp(kind, "marginal"));
		} else if (!strcmp(kind, "incident_skipped")) {
			sc->nskipped++;
		} else if (!strcmp(kind, "run")) {
			const char *s = json_string_value(json_object_get(o, "scenario"));

			if (s)
				snprintf(sc->scenario, sizeof(sc->scenario), "%s", s);
			json__u64(o, "start_ts", &sc->run_start_ts);
		}
		json_decref(o);
		if (ret < 0)
			goto out;
	}
	if (ferror(f)) {
		ret = -EIO;
		goto out;
	}
	ret = sc->ninc - n0;
out:
	if (ret < 0 && bad_line)
		*bad_line = lineno;
	free(line);
	fclose(f);
	return ret;
}

static uint64_t score__hash(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Slot of event id, or -1; with insert, a new slot (or -ENOMEM). */
static int score__find(struct bench_score *sc, uint64_t id, int insert)
{
	uint64_t key = id + 1;
	unsigned int mask;

	if (insert && (sc->nevt + 1) * 2 > sc->index_cap) {
		int cap = sc->index_cap ? sc->index_cap * 2 : 1024;
		uint64_t *keys = calloc((size_t)cap, sizeof(*keys));
		int *slots = calloc((size_t)cap, sizeof(*slots));

		if (!keys || !slots) {
			free(keys);
			free(slots);
			return -ENOMEM;
		}
		for (int i = 0; i < sc->index_cap; i++) {
			unsigned int h;

			if (!sc->index[i])
				continue;
			h = (unsigned int)score__hash(sc->index[i]) & (unsigned int)(cap - 1);
			while (keys[h])
				h = (h + 1) & (unsigned int)(cap - 1);
			keys[h] = sc->index[i];
			slots[h] = sc->index_slot[i];
		}
		free(sc->index);
		free(sc->index_slot);
		sc->index = keys;
		sc->index_slot = slots;
		sc->index_cap = cap;
	}
	if (!sc->index_cap)
		return -1;
	mask = (unsigned int)(sc->index_cap - 1);
	for (unsigned int h = (unsigned int)score__hash(key) & mask;; h = (h + 1) & mask) {
		if (sc->index[h] == key)
			return sc->index_slot[h];
		if (!sc->index[h]) {
			if (!insert)
				return -1;
			if (sc->nevt == sc->cap_evt) {
				int cap = sc->cap_evt ? sc->cap_evt * 2 : 256;
				struct bench_event *p = realloc(sc->evt, (size_t)cap * sizeof(*p));

				if (!p)
					return -ENOMEM;
				sc->evt = p;
				sc->cap_evt = cap;
			}
			memset(&sc->evt[sc->nevt], 0, sizeof(sc->evt[0]));
			sc->evt[sc->nevt].id = id;
			sc->evt[sc->nevt].matched_incident = -1;
			sc->evt[sc->nevt].matched_marginal = -1;
			sc->index[h] = key;
			sc->index_slot[h] = sc->nevt;
			return sc->nevt++;
		}
	}
}

/*
 * bench_score_add_event() - see bench_score.h.
 */
int bench_score_add_event(struct bench_score *sc, uint64_t id, int type, int status,
			  uint64_t ts, double lat, double lon, int lane, int segment)
{
	struct bench_event *e;
	int slot;

	if (type < 0 || type >= BENCH_NTYPES || status < V2X_EVT_NEW ||
	    status > V2X_EVT_CLEARED || !isfinite(lat) || !isfinite(lon)) {
		sc->bad_frames++;
		return V2X_E_RANGE;
	}
	slot = score__find(sc, id, 1);
	if (slot < 0)
		return slot;
	e = &sc->evt[slot];
	sc->transitions++;
	if (e->ntransitions == 0) {
		e->type = type;
		e->first_ts = ts;
	}
	e->ntransitions++;
	if (ts < e->first_ts)
		e->first_ts = ts;
	if (ts > e->last_ts)
		e->last_ts = ts;
	if (status == V2X_EVT_NEW)
		e->saw_new = 1;
	if (status == V2X_EVT_CLEARED)
		e->cleared = 1;
	if (e->npos < BENCH_EVT_POS_MAX) {
		struct bench_evt_pos *p = &e->pos[e->npos++];

		p->ts = ts;
		p->lat = lat;
		p->lon = lon;
		p->lane = lane;
		p->segment = segment;
		p->status = status;
	}
	return 0;
}

/*
 * bench_score_set_sources() - see bench_score.h.
 */
int bench_score_set_sources(struct bench_score *sc, uint64_t id, const char *sources)
{
	int slot = score__find(sc, id, 0);

	if (slot < 0)
		return -ENOENT;
	if (!sc->evt[slot].sources[0])
		snprintf(sc->evt[slot].sources, sizeof(sc->evt[slot].sources), "%s", sources);
	return 0;
}

/*
 * bench_score_add_event_json() - see bench_score.h.
 */
int bench_score_add_event_json(struct bench_score *sc, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr);
	const char *tname, *sname;
	uint64_t id = 0, ts = 0;
	double lat = 0, lon = 0;
	int lane = -1, segment = -1, ret;

	if (!o || !json_is_object(o)) {
		ret = V2X_E_SYNTAX;
		goto out;
	}
	tname = json_string_value(json_object_get(o, "type"));
	sname = json_string_value(json_object_get(o, "status"));
	if (!tname || !sname) {
		ret = V2X_E_MISSING;
		goto out;
	}
	if ((ret = json__u64(o, "id", &id)) < 0 || (ret = json__u64(o, "ts", &ts)) < 0 ||
	    (ret = json__num(o, "lat", &lat)) < 0 || (ret = json__num(o, "lon", &lon)) < 0 ||
	    (ret = json__int(o, "lane", &lane, -1)) < 0 ||
	    (ret = json__int(o, "segment", &segment, -1)) < 0)
		goto out;
	ret = bench_score_add_event(sc, id, v2x_event_type_from_name(tname),
				    v2x_event_status_from_name(sname), ts, lat, lon, lane,
				    segment);
	{
		json_t *src = json_object_get(o, "sources");
		char srcs[40] = "";
		size_t i, n = 0;
		json_t *v;

		json_array_foreach(src, i, v) {
			if (json_is_string(v) && n + strlen(json_string_value(v)) + 2 < sizeof(srcs))
				n += (size_t)snprintf(srcs + n, sizeof(srcs) - n, "%s%s", n ? "," : "",
						      json_string_value(v));
		}
		if (ret == 0 && srcs[0])
			bench_score_set_sources(sc, id, srcs);
	}
	json_decref(o);
	return ret;
out:
	json_decref(o);
	sc->bad_frames++;
	return ret;
}

/* ---- road map (congestion matching by topology) ------------------------ */

/* Index of segment id in sc->seg (the map's dense index), or -1. */
static int score__seg_index(const struct bench_score *sc, int id)
{
	int i = roadmap_segment_index(sc->map, id);

	return i < 0 ? -1 : i;
}

/* Arc length from the start of segment g's centre line to the point of it
 * nearest (lat, lon), in the map's ENU metres. */
static double score__arc_m(const struct bench_score *sc, const struct bench_seg *g,
			   double lat, double lon)
{
	double x, y, up, along = 0;

	enu_from_geo(roadmap_reference(sc->map), lat, lon, 0.0, &x, &y, &up);
	roadmap_lane_along(sc->map, g->lane_id, x, y, &along);
	return along;
}

static int score__add_pred(struct bench_seg *g, int pred)
{
	for (int k = 0; k < g->npred; k++)
		if (g->pred[k] == pred)
			return 0;
	if (g->npred == g->cap_pred) {
		int cap = g->cap_pred ? g->cap_pred * 2 : 4;
		int *p = realloc(g->pred, (size_t)cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		g->pred = p;
		g->cap_pred = cap;
	}
	g->pred[g->npred++] = pred;
	return 0;
}

/*
 * bench_score_load_map() - see bench_score.h.
 *
 * The map is read by the broker's loader, so that the scorer and the
 * broker accept the same maps and see the same lanes; the segments, their
 * centre lines and the upstream links are derived from the loaded map.
 */
int bench_score_load_map(struct bench_score *sc, const char *path, char *err, size_t errlen)
{
	struct roadmap_segment_info si;
	struct roadmap_lane_info li, next;
	int nlanes, ret;

	score__free_map(sc);
	ret = roadmap_load(path, NULL, &sc->map, err, errlen);
	if (ret < 0)
		goto out;
	sc->nseg = roadmap_segment_count(sc->map);
	sc->seg = calloc((size_t)sc->nseg, sizeof(*sc->seg));
	if (!sc->seg) {
		sc->nseg = 0;
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < sc->nseg; i++) {
		roadmap_segment_at(sc->map, i, &si);
		sc->seg[i].id = si.segment_id;
		sc->seg[i].lane_id = -1;
	}
	/* Centre lines: a segment's lanes run side by side, so any one will
	 * do; the lowest lane_id (lanes come in lane_id order) for a fixed
	 * choice. */
	nlanes = roadmap_lane_count(sc->map);
	for (int k = 0; k < nlanes; k++) {
		struct bench_seg *g;
		int gi;

		roadmap_lane_by_index(sc->map, k, &li);
		gi = score__seg_index(sc, li.segment_id);
		if (gi < 0)
			continue;
		g = &sc->seg[gi];
		if (li.signal_group >= 0)
			g->signal = 1;
		if (g->lane_id < 0) {
			g->lane_id = li.lane_id;
			g->len_m = li.length_m;
		}
	}
	/* Upstream links: a lane of P continuing into a lane of S. */
	for (int k = 0; k < nlanes; k++) {
		int from, to;

		roadmap_lane_by_index(sc->map, k, &li);
		if (li.next_lane_id < 0 || roadmap_lane(sc->map, li.next_lane_id, &next) < 0)
			continue;
		from = score__seg_index(sc, li.segment_id);
		to = score__seg_index(sc, next.segment_id);
		if (from < 0 || to < 0 || from == to)
			continue;
		if ((ret = score__add_pred(&sc->seg[to], from)) < 0)
			goto out;
	}
	ret = sc->nseg;
out:
	if (ret == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", path);
	if (ret < 0)
		score__free_map(sc);
	return ret;
}

/*
 * Is (lat, lon) on segment ev_seg upstream of incident in, within
 * congestion_radius_m of it along the road?  Distances along the road:
 * from the incident back to the start of its segment, the whole of every
 * segment between, and from the end of ev_seg back to the point.  The
 * shortest way back counts (Bellman-Ford over the few segments).  Not
 * within SIGNAL_QUEUE_M of the stop line of a segment ending at a signal.
 */
static int score__upstream(const struct bench_score *sc, const struct bench_incident *in,
			   int ev_seg, double lat, double lon)
{
	int gi = score__seg_index(sc, in->segment), ge = score__seg_index(sc, ev_seg);
	double r = sc->cfg.congestion_radius_m, *end_m, d, to_end;
	int changed = 1;

	if (gi < 0 || ge < 0 || gi == ge)
		return 0;
	end_m = malloc((size_t)sc->nseg * sizeof(*end_m));
	if (!end_m)
		return 0;
	/* end_m[k]: along the road from the incident back to the end of k. */
	for (int k = 0; k < sc->nseg; k++)
		end_m[k] = INFINITY;
	d = score__arc_m(sc, &sc->seg[gi], in->lat, in->lon);
	for (int p = 0; p < sc->seg[gi].npred; p++)
		end_m[sc->seg[gi].pred[p]] = d;
	for (int round = 0; changed && round < sc->nseg; round++) {
		changed = 0;
		for (int k = 0; k < sc->nseg; k++) {
			if (!(end_m[k] <= r) || k == gi)
				continue;
			for (int p = 0; p < sc->seg[k].npred; p++) {
				int q = sc->seg[k].pred[p];
				double dq = end_m[k] + sc->seg[k].len_m;

				if (q != gi && dq < end_m[q]) {
					end_m[q] = dq;
					changed = 1;
				}
			}
		}
	}
	to_end = sc->seg[ge].len_m - score__arc_m(sc, &sc->seg[ge], lat, lon);
	d = end_m[ge] + to_end;
	free(end_m);
	/* Across a signalised junction, the approach's signal queue is not
	 * the incident's. */
	if (sc->seg[ge].signal && to_end < SIGNAL_QUEUE_M)
		return 0;
	return d <= r;
}

static int is_moving_type(int type)
{
	return type == V2X_EVT_HARD_BRAKING || type == V2X_EVT_WRONG_WAY ||
	       type == V2X_EVT_SPEEDING || type == V2X_EVT_COLLISION_RISK;
}

/* Does transition p of an event match incident in (type already equal)? */
static int score__pos_matches(const struct bench_score *sc, const struct bench_incident *in,
			      const struct bench_evt_pos *p)
{
	/* A queue may be reported before the truth's own threshold says so. */
	uint64_t t0 = in->detectable_ts && in->type != V2X_EVT_CONGESTION ?
		in->detectable_ts : in->start_ts;
	uint64_t tol = (uint64_t)(sc->cfg.tolerance_s * 1e9);
	uint64_t w0 = t0 > tol ? t0 - tol : 0;
	/* A marginal line excuses an event raised while the pair was
	 * within the margin, give or take the tolerance; the grace after
	 * the end is for detections that come late, which a marginal line
	 * does not ask for.  (Collision-risk events moved 20-40 s in time,
	 * over the 24 runs of /tmp/acc10: 30 of 177 fell on a marginal line
	 * of their segment with the grace, 13 with the tolerance.) */
	uint64_t w1 = in->end_ts + (uint64_t)((in->marginal ? sc->cfg.tolerance_s :
					       sc->cfg.grace_s) * 1e9);
	double d, radius;

	if (p->ts < w0 || p->ts > w1)
		return 0;
	if (in->type == V2X_EVT_CONGESTION) {
		if (in->segment >= 0 && p->segment == in->segment)
			return 1;
		if (sc->nseg)
			return score__upstream(sc, in, p->segment, p->lat, p->lon);
		return bench_distance_m(in->lat, in->lon, p->lat, p->lon) <=
		       sc->cfg.congestion_radius_m;
	}
	/* A marginal line excuses only an event on its own road segment:
	 * there are many of them (every gap near the threshold), and the
	 * radius growing with the time would reach the opposite carriageway
	 * and the next road (highway seed 26: an event on segment 10 fell
	 * within the radius of a marginal pair on segment 2). */
	if (in->marginal && in->segment >= 0 && p->segment != in->segment)
		return 0;
	d = bench_distance_m(in->lat, in->lon, p->lat, p->lon);
	radius = sc->cfg.radius_m;
	if (is_moving_type(in->type) && p->ts > t0)
		radius += sc->cfg.move_mps * (double)(p->ts - t0) / 1e9;
	return d <= radius;
}

/*
 * A congestion event covers every congestion incident of its segment that
 * it stood through, not only those with one of its transitions inside
 * their window: the event says "segment S is congested" from its `new`
 * to its `cleared` (or its last transition, when the run ended first),
 * and between those it sends updates only on a material change, of which
 * the score keeps the first BENCH_EVT_POS_MAX.  Two closures on one
 * segment at once are one congestion on the road, and the one event that
 * reports it detects both (highway seed 5: incident 19 was injected onto
 * incident 5's closed lanes 191 s after the event for incident 5 opened,
 * whose 69 transitions the score cut at its 32nd, 6 s before incident 19's
 * window).  The segment is the event's key, so every transition has it.
 * Precision is untouched: an event is one event however many incidents it
 * covers.  Returns the time from which the event covered the incident (its
 * first transition or the window's start, whichever is later), or 0.
 */
static uint64_t score__stood_on(const struct bench_score *sc, const struct bench_incident *in,
				const struct bench_event *e)
{
	uint64_t tol = (uint64_t)(sc->cfg.tolerance_s * 1e9);
	uint64_t w0 = in->start_ts > tol ? in->start_ts - tol : 0;
	uint64_t w1 = in->end_ts + (uint64_t)(sc->cfg.grace_s * 1e9);

	if (in->segment < 0 || e->npos == 0 || e->pos[0].segment != in->segment ||
	    e->first_ts > w1 || e->last_ts < w0)
		return 0;
	return e->first_ts > w0 ? e->first_ts : (w0 ? w0 : 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n-1]. */
static double pct(const double *v, int n, double q)
{
	int k;

	if (n <= 0)
		return NAN;
	k = (int)ceil(q * n) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

/*
 * bench_score_run() - see bench_score.h.
 */
void bench_score_run(struct bench_score *sc)
{
	double *delays = malloc((size_t)(sc->ninc ? sc->ninc : 1) * sizeof(double));

	memset(sc->type, 0, sizeof(sc->type));
	if (!delays)
		return;
	for (int i = 0; i < sc->ninc; i++) {
		sc->inc[i].n_matched = 0;
		sc->inc[i].first_event_ts = 0;
		sc->inc[i].first_event_id = 0;
	}
	for (int j = 0; j < sc->nevt; j++) {
		sc->evt[j].matched_incident = -1;
		sc->evt[j].matched_injected = 0;
		sc->evt[j].matched_marginal = -1;
	}

	for (int i = 0; i < sc->ninc; i++) {
		struct bench_incident *in = &sc->inc[i];

		for (int j = 0; j < sc->nevt; j++) {
			struct bench_event *e = &sc->evt[j];
			uint64_t hit_ts = 0;
			int npos;

			if (e->type != in->type || e->npos == 0)
				continue;
			/* Only the first transition places an event, except for
			 * congestion, which may match anywhere in a long window
			 * (an event already active for an earlier queue counts
			 * from its first transition inside the window). */
			npos = in->type == V2X_EVT_CONGESTION ? e->npos : 1;
			for (int k = 0; k < npos && !hit_ts; k++)
				if (score__pos_matches(sc, in, &e->pos[k]))
					hit_ts = e->pos[k].ts ? e->pos[k].ts : 1;
			if (!hit_ts && in->type == V2X_EVT_CONGESTION)
				hit_ts = score__stood_on(sc, in, e);
			if (!hit_ts)
				continue;
			in->n_matched++;
			if (!in->first_event_ts || hit_ts < in->first_event_ts) {
				in->first_event_ts = hit_ts;
				in->first_event_id = e->id;
			}
			/* A marginal line only excuses an event that nothing
			 * else matches (bench_type_score.marginal_matched). */
			if (in->marginal) {
				if (e->matched_marginal < 0)
					e->matched_marginal = in->id;
				continue;
			}
			/* Prefer naming an injected incident. */
			if (e->matched_incident < 0 || (!in->natural && !e->matched_injected))
				e->matched_incident = in->id;
			if (!in->natural)
				e->matched_injected = 1;
		}
	}

	/* Unmatched stopped vehicles at the head of a closed lane. */
	for (int j = 0; j < sc->nevt; j++) {
		struct bench_event *e = &sc->evt[j];

		e->at_closure = 0;
		if (e->type != V2X_EVT_STOPPED_VEHICLE || e->matched_incident >= 0 ||
		    e->npos == 0)
			continue;
		for (int i = 0; i < sc->ninc && !e->at_closure; i++) {
			const struct bench_incident *in = &sc->inc[i];
			const struct bench_evt_pos *p = &e->pos[0];
			int lane_closed = 0;

			if (in->type != V2X_EVT_CONGESTION || !in->nclosed ||
			    p->ts < in->start_ts ||
			    p->ts > in->end_ts + (uint64_t)(sc->cfg.grace_s * 1e9))
				continue;
			for (int k = 0; k < in->nclosed; k++)
				lane_closed |= in->closed_lane[k] == p->lane;
			e->at_closure = lane_closed &&
				bench_distance_m(in->lat, in->lon, p->lat, p->lon) <=
					sc->cfg.radius_m;
		}
	}

	for (int t = 0; t < BENCH_NTYPES; t++) {
		struct bench_type_score *ts = &sc->type[t];
		int nd = 0, matched_evt_of_detected = 0;

		for (int i = 0; i < sc->ninc; i++) {
			const struct bench_incident *in = &sc->inc[i];

			if (in->type != t)
				continue;
			if (in->marginal) {
				ts->marginal++;
				continue;
			}
			if (in->natural) {
				uint64_t min_ns = (uint64_t)(sc->cfg.natural_min_s * 1e9);

				ts->natural++;
				if (!in->detectable_ts || !in->observed ||
				    in->end_ts < in->detectable_ts ||
				    in->end_ts - in->detectable_ts < min_ns)
					continue;
				ts->natural_scored++;
				ts->natural_detected += in->n_matched > 0;
				continue;
			}
			ts->incidents++;
			if (!in->detectable_ts)
				continue;
			ts->detectable++;
			ts->observed += in->observed;
			if (!in->n_matched)
				continue;
			ts->detected++;
			ts->detected_observed += in->observed;
			matched_evt_of_detected += in->n_matched;
			delays[nd++] = ((double)in->first_event_ts - (double)in->detectable_ts) / 1e9;
		}
		for (int j = 0; j < sc->nevt; j++) {
			if (sc->evt[j].type != t)
				continue;
			ts->events++;
			if (sc->evt[j].matched_incident >= 0) {
				ts->matched_events++;
				ts->matched_natural_only += !sc->evt[j].matched_injected;
			} else if (sc->evt[j].matched_marginal >= 0) {
				ts->marginal_matched++;
			}
			ts->unmatched_at_closure += sc->evt[j].at_closure;
		}
		ts->precision = ts->events > ts->marginal_matched ?
			(double)ts->matched_events / (ts->events - ts->marginal_matched) : NAN;
		ts->precision_strict = ts->events ? (double)ts->matched_events / ts->events : NAN;
		ts->recall = ts->detectable ? (double)ts->detected / ts->detectable : NAN;
		ts->recall_observed = ts->observed ?
			(double)ts->detected_observed / ts->observed : NAN;
		ts->recall_natural = ts->natural_scored ?
			(double)ts->natural_detected / ts->natural_scored : NAN;
		ts->events_per_incident = ts->detected ?
			(double)matched_evt_of_detected / ts->detected : NAN;
		ts->ndelay = nd;
		qsort(delays, (size_t)nd, sizeof(double), cmp_double);
		ts->delay_p50_s = pct(delays, nd, 0.5);
		ts->delay_p90_s = pct(delays, nd, 0.9);
		ts->delay_max_s = nd ? delays[nd - 1] : NAN;
	}
	free(delays);
}
