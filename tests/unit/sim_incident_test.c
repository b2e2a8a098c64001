/* SPDX-License-Identifier: MIT */
/*
 * sim_incident_test.c - every incident type appears in the ground truth
 * with a detectable time, and what the simulator emits shows it: a stopped
 * vehicle's BSM speed is 0, hard braking sets the BSM event flag, a
 * wrong-way driver's heading opposes its lane, a speeder exceeds the limit,
 * a bottleneck slows the traffic upstream, a pedestrian on the road is in
 * the roadside sensors' frames.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sim/sim.h"

struct seen_obj {
	uint64_t ts;
	uint32_t sensor, id;
	uint8_t cls;
	int32_t lat, lon;
};

struct capture {
	struct v2x_bsm *bsm;
	size_t nbsm, capbsm;
	struct seen_obj *obj;
	size_t nobj, capobj;
};

static void cap_bsm(void *ctx, const struct v2x_bsm *b)
{
	struct capture *c = ctx;

	if (c->nbsm == c->capbsm) {
		c->capbsm = c->capbsm ? c->capbsm * 2 : 65536;
		c->bsm = realloc(c->bsm, c->capbsm * sizeof(*c->bsm));
		assert_non_null(c->bsm);
	}
	c->bsm[c->nbsm++] = *b;
}

static void cap_objects(void *ctx, const struct v2x_objects *o)
{
	struct capture *c = ctx;

	for (int i = 0; i < o->n; i++) {
		struct seen_obj *so;

		if (c->nobj == c->capobj) {
			c->capobj = c->capobj ? c->capobj * 2 : 65536;
			c->obj = realloc(c->obj, c->capobj * sizeof(*c->obj));
			assert_non_null(c->obj);
		}
		so = &c->obj[c->nobj++];
		so->ts = o->ts_ns;
		so->sensor = o->sensor_id;
		so->id = o->obj[i].id;
		so->cls = o->obj[i].cls;
		so->lat = o->obj[i].lat;
		so->lon = o->obj[i].lon;
	}
}

struct run {
	struct sim_world *w;
	struct sim_config *cfg;
	struct capture cap;
	json_t *inc;   /* the incident line */
	json_t *lines; /* every line */
};

/* An incident line's cause: "injected" (1) or "natural" (0); nothing else. */
static int is_injected(const json_t *j)
{
	const char *cause = json_string_value(json_object_get(j, "cause"));

	assert_non_null(cause);
	assert_true(!strcmp(cause, "injected") || !strcmp(cause, "natural"));
	return !strcmp(cause, "injected");
}

/* run_type() with neither V2X nor sensors (set by the test). */
static int blind;

static void run_type(struct run *r, int type, int vehicles, double spacing,
		     double secs)
{
	struct sim_sink sink;
	char err[256] = "";
	FILE *truth = tmpfile();
	char line[8192];

	memset(r, 0, sizeof(*r));
	assert_non_null(truth);
	r->cfg = calloc(1, sizeof(*r->cfg));
	assert_non_null(r->cfg);
	sim_config_default(r->cfg);
	r->cfg->vehicles = vehicles;
	r->cfg->spacing = spacing;
	r->cfg->seed = 11;
	r->cfg->start_ns = 1767225600ull * 1000000000ull;
	if (blind) {
		/* Nobody sends BSMs and no roadside sensor looks. */
		r->cfg->penetration = 0;
		r->cfg->nsensors = 0;
	}
	r->cfg->nincidents = 1;
	r->cfg->incident[0].type = type;
	r->cfg->incident[0].at = 10;
	if (sim_world_new(r->cfg, &r->w, err, sizeof(err)) < 0)
		fail_msg("sim_world_new: %s", err);
	r->w->truth = truth;
	sim_world_truth_header(r->w);
	memset(&sink, 0, sizeof(sink));
	sink.ctx = &r->cap;
	sink.bsm = cap_bsm;
	sink.objects = cap_objects;
	for (int i = 0; i < (int)(secs * SIM_STEPS_PER_S); i++)
		sim_world_step(r->w, &sink);
	sim_world_finish(r->w);
	rewind(truth);
	r->lines = json_array();
	while (fgets(line, sizeof(line), truth)) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		const char *kind;

		if (!j)
			fail_msg("truth line is not JSON: %s (%s)", line, je.text);
		kind = json_string_value(json_object_get(j, "kind"));
		assert_non_null(kind);
		if (!strcmp(kind, "incident") && is_injected(j)) {
			assert_null(r->inc);
			r->inc = j;
			json_incref(j);
		}
		json_array_append_new(r->lines, j);
	}
	fclose(truth);
	r->w->truth = NULL;
	if (!r->inc)
		fail_msg("no incident line for type %s", v2x_event_type_name(type));
	/* Common shape of an incident line. */
	assert_string_equal(json_string_value(json_object_get(r->inc, "type")),
			    v2x_event_type_name(type));
	{
		json_int_t start = json_integer_value(json_object_get(r->inc, "start_ts"));
		json_int_t det = json_integer_value(json_object_get(r->inc, "detectable_ts"));
		json_int_t end = json_integer_value(json_object_get(r->inc, "end_ts"));
		double lat = json_real_value(json_object_get(r->inc, "lat"));
		double lon = json_real_value(json_object_get(r->inc, "lon"));

		assert_true(start >= (json_int_t)(r->cfg->start_ns + 10000000000ull));
		assert_true(det >= start || (blind && det == 0));
		assert_true(end >= det);
		assert_true(fabs(lat - r->cfg->ref_lat) < 0.2);
		assert_true(fabs(lon - r->cfg->ref_lon) < 0.2);
		assert_true(json_integer_value(json_object_get(r->inc, "lane")) > 0);
		assert_true(json_integer_value(json_object_get(r->inc, "segment")) > 0);
	}
	/* The header and the summary frame the incidents. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(r->lines, 0),
							      "kind")), "run");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(r->lines, json_array_size(r->lines) - 1), "kind")), "summary");
}

static void run_free(struct run *r)
{
	json_decref(r->inc);
	json_decref(r->lines);
	free(r->cap.bsm);
	free(r->cap.obj);
	sim_world_free(r->w);
	free(r->cfg);
}

static uint64_t ts_of(const struct run *r, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(r->inc, key));
}

static int has_temp_id(const struct run *r, uint32_t id)
{
	json_t *ids = json_object_get(r->inc, "temp_ids");
	size_t i;
	json_t *v;

	json_array_foreach(ids, i, v)
		if ((uint32_t)json_integer_value(v) == id)
			return 1;
	return 0;
}

static void test_stopped_vehicle(void **state)
{
	struct run r;
	uint64_t det, end;
	int n = 0;

	(void)state;
	run_type(&r, V2X_EVT_STOPPED_VEHICLE, 600, 40, 100);
	det = ts_of(&r, "detectable_ts");
	end = ts_of(&r, "end_ts");
	assert_true(json_array_size(json_object_get(r.inc, "temp_ids")) >= 1);
	for (size_t i = 0; i < r.cap.nbsm; i++) {
		const struct v2x_bsm *b = &r.cap.bsm[i];

		if (!has_temp_id(&r, b->id) || b->ts_ns < det + 1000000000ull || b->ts_ns >= end)
			continue;
		assert_int_equal(b->speed, 0);
		n++;
	}
	assert_true(n >= 100);
	run_free(&r);
}

static void test_hard_braking(void **state)
{
	struct run r;
	uint64_t start, end;
	int flagged = 0;

	(void)state;
	run_type(&r, V2X_EVT_HARD_BRAKING, 600, 40, 40);
	start = ts_of(&r, "start_ts");
	end = ts_of(&r, "end_ts");
	for (size_t i = 0; i < r.cap.nbsm; i++) {
		const struct v2x_bsm *b = &r.cap.bsm[i];

		/* (The same car may brake hard again later in traffic.) */
		if (!has_temp_id(&r, b->id) || !b->has_events ||
		    !(b->events & V2X_EVENT_FLAG_HARD_BRAKING) ||
		    b->ts_ns < start || b->ts_ns > end)
			continue;
		assert_true(b->accel_long < -392);
		flagged++;
	}
	assert_true(flagged >= 3);
	run_free(&r);
}

/* Heading (deg) of the lane nearest to a point, local metres. */
static double nearest_lane_heading(const struct sim_world *w, double x, double y)
{
	double best = INFINITY, hd = 0;

	for (int ln = 0; ln < w->road.nlane; ln++) {
		const struct sim_lane *l = &w->road.lane[ln];

		if (l->type != SIM_LANE_VEHICLE)
			continue;
		for (int p = 0; p + 1 < l->npts; p++) {
			double dx = l->pts[p + 1].x - l->pts[p].x, dy = l->pts[p + 1].y - l->pts[p].y;
			double len2 = dx * dx + dy * dy, f, px, py, d;

			if (len2 <= 0)
				continue;
			f = ((x - l->pts[p].x) * dx + (y - l->pts[p].y) * dy) / len2;
			f = f < 0 ? 0 : f > 1 ? 1 : f;
			px = l->pts[p].x + f * dx;
			py = l->pts[p].y + f * dy;
			d = hypot(x - px, y - py);
			if (d < best) {
				best = d;
				hd = atan2(dx, dy) * 180.0 / M_PI;
			}
		}
	}
	return hd;
}

static void test_wrong_way(void **state)
{
	struct run r;
	uint64_t det, end;
	int n = 0, against = 0;

	(void)state;
	run_type(&r, V2X_EVT_WRONG_WAY, 600, 40, 60);
	det = ts_of(&r, "detectable_ts");
	end = ts_of(&r, "end_ts");
	for (size_t i = 0; i < r.cap.nbsm; i++) {
		const struct v2x_bsm *b = &r.cap.bsm[i];
		double x, y, diff;

		if (!has_temp_id(&r, b->id) || b->ts_ns < det || b->ts_ns >= end)
			continue;
		sim_geo_from_ll(&r.w->geo, b->lat / 1e7, b->lon / 1e7, &x, &y);
		diff = fabs(remainder(b->heading * 0.0125 - nearest_lane_heading(r.w, x, y), 360.0));
		n++;
		against += diff > 150;
	}
	assert_true(n >= 50);
	assert_true(against >= n * 9 / 10);
	run_free(&r);
}

static void test_speeding(void **state)
{
	struct run r;
	int fast = 0;

	(void)state;
	run_type(&r, V2X_EVT_SPEEDING, 300, 60, 60);
	for (size_t i = 0; i < r.cap.nbsm; i++) {
		const struct v2x_bsm *b = &r.cap.bsm[i];

		if (has_temp_id(&r, b->id) && b->speed * 0.02 > 1.2 * r.w->speed_limit) {
			assert_true(b->ts_ns >= ts_of(&r, "detectable_ts"));
			fast++;
		}
	}
	assert_true(fast >= 10);
	run_free(&r);
}

static void test_collision_risk(void **state)
{
	struct run r;
	int braking = 0;

	(void)state;
	run_type(&r, V2X_EVT_COLLISION_RISK, 900, 30, 80);
	assert_int_equal(json_array_size(json_object_get(r.inc, "vehicles")), 2);
	assert_true(ts_of(&r, "detectable_ts") > 0);
	for (size_t i = 0; i < r.cap.nbsm; i++) {
		const struct v2x_bsm *b = &r.cap.bsm[i];

		if (has_temp_id(&r, b->id) && b->has_events &&
		    (b->events & V2X_EVENT_FLAG_HARD_BRAKING))
			braking++;
	}
	assert_true(braking >= 3);
	/* The leader's emergency stop is a hard braking as well. */
	{
		json_int_t leader = json_integer_value(
			json_array_get(json_object_get(r.inc, "vehicles"), 0));
		size_t i, k;
		json_t *j, *v;
		int found = 0;

		json_array_foreach(r.lines, i, j) {
			const char *t = json_string_value(json_object_get(j, "type"));
			const char *c = json_string_value(json_object_get(j, "cause"));

			if (!t || !c || strcmp(t, "hard_braking") || strcmp(c, "natural"))
				continue;
			json_array_foreach(json_object_get(j, "vehicles"), k, v)
				found |= json_integer_value(v) == leader;
		}
		assert_true(found);
	}
	run_free(&r);
}

/* A condition nobody can observe (no BSMs, no sensor in view) is never
 * detectable: the truth says so with detectable_ts 0. */
static void test_unobservable_not_detectable(void **state)
{
	static const int types[] = { V2X_EVT_STOPPED_VEHICLE, V2X_EVT_HARD_BRAKING,
				     V2X_EVT_COLLISION_RISK };
	struct run r;

	(void)state;
	blind = 1;
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		run_type(&r, types[k], 900, 30, 80);
		assert_int_equal(ts_of(&r, "detectable_ts"), 0);
		run_free(&r);
	}
	blind = 0;
}

static void test_congestion(void **state)
{
	struct run r;
	uint64_t det;
	double x0, y0, sum = 0, hd, ux, uy;
	int n = 0, li = -1;
	json_int_t lane_id;

	(void)state;
	run_type(&r, V2X_EVT_CONGESTION, 2400, 15, 300);
	det = ts_of(&r, "detectable_ts");
	assert_true(det > 0);
	lane_id = json_integer_value(json_object_get(r.inc, "lane"));
	for (int ln = 0; ln < r.w->road.nlane; ln++)
		if (r.w->road.lane[ln].id == lane_id)
			li = ln;
	assert_true(li >= 0);
	sim_geo_from_ll(&r.w->geo, json_real_value(json_object_get(r.inc, "lat")),
			json_real_value(json_object_get(r.inc, "lon")), &x0, &y0);
	hd = nearest_lane_heading(r.w, x0, y0);
	ux = sin(hd * M_PI / 180);
	uy = cos(hd * M_PI / 180);
	/* BSMs in the 300 m before the bottleneck, travelling its way. */
	for (size_t i = 0; i < r.cap.nbsm; i++) {
		const struct v2x_bsm *b = &r.cap.bsm[i];
		double x, y, along;

		if (b->ts_ns < det || b->ts_ns > det + 5000000000ull)
			continue;
		sim_geo_from_ll(&r.w->geo, b->lat / 1e7, b->lon / 1e7, &x, &y);
		along = (x0 - x) * ux + (y0 - y) * uy;
		if (along < 0 || along > 300 || hypot(x - x0, y - y0) > 320 ||
		    fabs(remainder(b->heading * 0.0125 - hd, 360.0)) > 45)
			continue;
		sum += b->speed * 0.02;
		n++;
	}
	assert_true(n >= 20);
	assert_true(sum / n < 0.5 * r.w->speed_limit);
	run_free(&r);
}

static void test_vru_on_road(void **state)
{
	struct run r;
	json_t *so;
	int seen = 0;

	(void)state;
	run_type(&r, V2X_EVT_VRU_ON_ROAD, 600, 40, 60);
	so = json_object_get(r.inc, "sensor_objects");
	assert_true(json_array_size(so) >= 1);
	for (size_t i = 0; i < r.cap.nobj; i++) {
		const struct seen_obj *o = &r.cap.obj[i];
		size_t k;
		json_t *v;

		if (o->cls != V2X_CLASS_PEDESTRIAN || o->ts < ts_of(&r, "detectable_ts"))
			continue;
		json_array_foreach(so, k, v) {
			if ((uint32_t)json_integer_value(json_object_get(v, "sensor")) == o->sensor &&
			    (uint32_t)json_integer_value(json_object_get(v, "id")) == o->id)
				seen++;
		}
	}
	assert_true(seen >= 10);
	run_free(&r);
}

/* --incidents style schedule: all seven types in one run, all in the truth. */
static void test_all_types_one_run(void **state)
{
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	struct sim_world *w;
	char err[256], line[8192];
	FILE *truth = tmpfile();
	int found[V2X_EVT_TYPE_COUNT] = { 0 };

	(void)state;
	assert_non_null(cfg);
	assert_non_null(truth);
	sim_config_default(cfg);
	cfg->vehicles = 1500;
	cfg->spacing = 20;
	for (int k = 0; k < V2X_EVT_TYPE_COUNT; k++) {
		cfg->incident[k].type = k;
		cfg->incident[k].at = 10 + 20 * k;
	}
	cfg->nincidents = V2X_EVT_TYPE_COUNT;
	assert_int_equal(sim_world_new(cfg, &w, err, sizeof(err)), 0);
	w->truth = truth;
	sim_world_truth_header(w);
	for (int i = 0; i < 2000; i++)
		sim_world_step(w, NULL);
	sim_world_finish(w);
	rewind(truth);
	while (fgets(line, sizeof(line), truth)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *kind, *type;

		assert_non_null(j);
		kind = json_string_value(json_object_get(j, "kind"));
		type = json_string_value(json_object_get(j, "type"));
		if (kind && !strcmp(kind, "incident") && is_injected(j)) {
			int t = v2x_event_type_from_name(type);

			assert_true(t >= 0);
			found[t]++;
		}
		json_decref(j);
	}
	for (int k = 0; k < V2X_EVT_TYPE_COUNT; k++)
		if (found[k] != 1)
			fail_msg("type %s appears %d times", v2x_event_type_name(k), found[k]);
	fclose(truth);
	w->truth = NULL;
	sim_world_free(w);
	free(cfg);
}

/* The truth's --truth-brake-obs-s for accuracy_run_detectable() (set by
 * the test; < 0: the default). */
static double brake_obs_s = -1;
/* ... and its --truth-speed-min-s (< 0: the default). */
static double speed_min_s = -1;

/*
 * The detectable_ts of injected incident @id (1-based) of a run like the
 * accuracy runs (scripts/accuracy: 300 vehicles, 30 % penetration, 21
 * incidents spread over 300 s) of @scenario and @seed, simulated for
 * @secs, with the truth's wrong-way floor @ww_mps held for @ww_min_s in
 * all.  0: never detectable.
 */
static uint64_t accuracy_run_detectable(int scenario, uint64_t seed, int id,
					double secs, double ww_mps, double ww_min_s)
{
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	struct sim_world *w = NULL;
	struct sim_sink sink;
	char err[256] = "", line[8192];
	FILE *truth = tmpfile();
	uint64_t det = 0;
	int found = 0;

	assert_non_null(cfg);
	assert_non_null(truth);
	sim_config_default(cfg);
	cfg->scenario = scenario;
	cfg->vehicles = 300;
	cfg->penetration = 0.3;
	cfg->seed = seed;
	cfg->duration = 300;
	/* --incidents 21: every type in turn, evenly over the run (main.c). */
	cfg->nincidents = 21;
	for (int k = 0; k < cfg->nincidents; k++) {
		cfg->incident[k].type = k % V2X_EVT_TYPE_COUNT;
		cfg->incident[k].at = (k + 1) * cfg->duration / (cfg->nincidents + 1);
	}
	cfg->truth.ww_mps = ww_mps;
	cfg->truth.ww_min_s = ww_min_s;
	if (brake_obs_s >= 0)
		cfg->truth.brake_obs_s = brake_obs_s;
	if (speed_min_s >= 0)
		cfg->truth.speed_min_s = speed_min_s;
	if (sim_world_new(cfg, &w, err, sizeof(err)) < 0)
		fail_msg("sim_world_new: %s", err);
	w->truth = truth;
	sim_world_truth_header(w);
	memset(&sink, 0, sizeof(sink));
	for (int i = 0; i < (int)(secs * SIM_STEPS_PER_S); i++)
		sim_world_step(w, &sink);
	sim_world_finish(w);
	rewind(truth);
	while (fgets(line, sizeof(line), truth)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *kind;

		assert_non_null(j);
		kind = json_string_value(json_object_get(j, "kind"));
		if (kind && !strcmp(kind, "incident") && is_injected(j) &&
		    json_integer_value(json_object_get(j, "id")) == id) {
			det = (uint64_t)json_integer_value(json_object_get(j, "detectable_ts"));
			found++;
		}
		json_decref(j);
	}
	fclose(truth);
	w->truth = NULL;
	sim_world_free(w);
	free(cfg);
	assert_int_equal(found, 1);
	return det;
}

/*
 * Wrong way is heading against the lane, sustained, above walking speed:
 * an injected wrong-way driver is detectable from its onset once it has
 * driven against its lane faster than --truth-ww-mps for --truth-ww-min-s
 * in all.  The driver of highway seed 1's incident 10 drives on at 0.6 x
 * the limit: detectable from the same onset with a persistence of 1 s as
 * with none, never if the floor is above its speed or the persistence
 * longer than the incident.
 */
static void test_wrong_way_truth_sustained(void **state)
{
	uint64_t det;

	(void)state;
	det = accuracy_run_detectable(SIM_SCN_HIGHWAY, 1, 10, 200, 2.5, 1.0);
	assert_true(det > 0);
	assert_int_equal(det, accuracy_run_detectable(SIM_SCN_HIGHWAY, 1, 10, 200, 2.5, 0));
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 1, 10, 200, 40.0, 1.0), 0);
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 1, 10, 200, 2.5, 120.0), 0);
}

/*
 * A lane closure's queue is detectable only once it is observable: at
 * least --truth-jam-min-vehicles (4) of the vehicles of its queue (the
 * 300 m before it, and the slow ones farther back) send BSMs or are in a
 * sensor's latest frames at once.  With
 * nobody connected and no sensor, never; highway seed 4's incident 19
 * (16 vehicles queued on segment 4, 2 connected, no sensor in range: at
 * most 1 observable at any time) was called detectable at 278.9 s and is
 * not now; the run's other closures (5 and 12) still are, from the same
 * onset, and list the connected vehicles of their queue.
 */
static void test_congestion_unobservable(void **state)
{
	struct run r;

	(void)state;
	blind = 1;
	run_type(&r, V2X_EVT_CONGESTION, 2400, 15, 300);
	assert_int_equal(ts_of(&r, "detectable_ts"), 0);
	run_free(&r);
	blind = 0;
}

static void test_congestion_queue_observable(void **state)
{
	(void)state;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 4, 19, 300, 2.5, 1.0), 0);
	assert_true(accuracy_run_detectable(SIM_SCN_HIGHWAY, 4, 5, 300, 2.5, 1.0) > 0);
	assert_true(accuracy_run_detectable(SIM_SCN_HIGHWAY, 4, 12, 300, 2.5, 1.0) > 0);
	/* Intersection seed 4, incident 19: a closure 570 m out on an exit
	 * arm, its queue spilled back to the junction, into the sensor's
	 * view (the broker reported it 1.3 s after the truth's threshold);
	 * too few connected in the 300 m before the closure alone. */
	assert_true(accuracy_run_detectable(SIM_SCN_INTERSECTION, 4, 19, 300, 2.5, 1.0) > 0);
}

/* A detectable closure names the connected vehicles of its queue. */
static void test_congestion_temp_ids(void **state)
{
	struct run r;

	(void)state;
	run_type(&r, V2X_EVT_CONGESTION, 2400, 15, 300);
	assert_true(ts_of(&r, "detectable_ts") > 0);
	assert_true(json_array_size(json_object_get(r.inc, "temp_ids")) > 0 ||
		    r.cfg->penetration == 0);
	run_free(&r);
}

/*
 * Regression (intersection seed 6, incident 10): a connected driver that
 * turned at 4 m/s, braked for the traffic it met, was faster than
 * walking pace (2.5 m/s, the broker's min_speed_mps) for 0.6 s and then
 * stood in the lane for a minute was called detectable at the turn; the
 * broker, which does not take a standing vehicle's heading as evidence,
 * could never report it.  Not detectable now; under the old rule (faster
 * than 2 m/s once) it is, and the run's other wrong-way drivers (3, 17)
 * still are.
 */
static void test_wrong_way_turn_and_stand(void **state)
{
	(void)state;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_INTERSECTION, 6, 10, 200, 2.5, 1.0), 0);
	assert_true(accuracy_run_detectable(SIM_SCN_INTERSECTION, 6, 10, 200, 2.0, 0) > 0);
	assert_true(accuracy_run_detectable(SIM_SCN_INTERSECTION, 6, 3, 100, 2.5, 1.0) > 0);
	assert_true(accuracy_run_detectable(SIM_SCN_INTERSECTION, 6, 17, 300, 2.5, 1.0) > 0);
}

/*
 * Regression (intersection seeds 23, 9 and 19): a wrong-way driver is
 * placed at the onset of the stretch of driving against its lane in which
 * its total reached --truth-ww-min-s, not at the first step it ever held.
 * Seed 23's incident 10, connected, turned at 136.4 s, was faster than
 * walking pace for 0.3 s before it braked for the traffic it met, stood
 * facing it until 187.2 s and passed 2.5 m/s again at 189.2 s (1 s in all
 * at 189.9 s, when the broker raised it): called detectable at 136.5 s, it
 * was "detected 53.4 s late".  Seed 9's incident 17 (only a sensor saw
 * it) drove 0.3 s, stood 40 s and drove off at 273.9 s; seed 19's (BSMs)
 * 0.1 s, then off at 244.4 s.  With no persistence (0) each is detectable
 * at its first step (136.5 s; 232.0 s for 9 and 19), as before; seed 23's other
 * wrong-way drivers (3 and 17), which drove on from the turn, are
 * detectable from the same step with a persistence of 1 s as with none.
 */
static void test_wrong_way_truth_stretch(void **state)
{
	const uint64_t s = 1000000000ull;
	uint64_t det, first;

	(void)state;
	first = accuracy_run_detectable(SIM_SCN_INTERSECTION, 23, 10, 200, 2.5, 0);
	det = accuracy_run_detectable(SIM_SCN_INTERSECTION, 23, 10, 200, 2.5, 1.0);
	assert_true(first > 0);
	assert_true(det >= first + 50 * s && det <= first + 54 * s);
	assert_int_equal(accuracy_run_detectable(SIM_SCN_INTERSECTION, 23, 3, 100, 2.5, 1.0),
			 accuracy_run_detectable(SIM_SCN_INTERSECTION, 23, 3, 100, 2.5, 0));
	assert_int_equal(accuracy_run_detectable(SIM_SCN_INTERSECTION, 23, 17, 300, 2.5, 1.0),
			 accuracy_run_detectable(SIM_SCN_INTERSECTION, 23, 17, 300, 2.5, 0));
	first = accuracy_run_detectable(SIM_SCN_INTERSECTION, 9, 17, 300, 2.5, 0);
	det = accuracy_run_detectable(SIM_SCN_INTERSECTION, 9, 17, 300, 2.5, 1.0);
	assert_true(first > 0);
	assert_true(det >= first + 40 * s && det <= first + 43 * s);
	first = accuracy_run_detectable(SIM_SCN_INTERSECTION, 19, 17, 300, 2.5, 0);
	det = accuracy_run_detectable(SIM_SCN_INTERSECTION, 19, 17, 300, 2.5, 1.0);
	assert_true(first > 0);
	assert_true(det >= first + 10 * s && det <= first + 14 * s);
}

/*
 * Regression (highway seed 15, incident 2): a car no BSM and only one
 * radar reported braked at 6.5 m/s^2 from 27.3 s to 29.6 s, 300 m down
 * the radar's view: the radar saw the first 0.4 s of it (five frames,
 * observable 0.7 s) and never again; called detectable at 27.4 s, its
 * first step, but the broker, which has only the radar's speeds, can
 * measure no deceleration from five of them (their slope over its 1 s
 * window, less its standard error, was -2.65 m/s^2 at the last).  A
 * vehicle only a sensor sees is detectable once it was seen braking
 * --truth-brake-obs-s (1.0 s, the broker's window_ms) in all: this one
 * never, under the old rule (0) at 27.4 s.  The run's other two still
 * are, from the same step: 9 (sensor only, seen throughout) and 16
 * (connected: at once).
 */
static void test_hard_braking_seen_too_briefly(void **state)
{
	const uint64_t t0 = 1767225600ull * 1000000000ull;

	(void)state;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 15, 2, 40, 2.5, 1.0), 0);
	brake_obs_s = 0;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 15, 2, 40, 2.5, 1.0),
			 t0 + 27400000000ull);
	brake_obs_s = -1;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 15, 9, 140, 2.5, 1.0),
			 t0 + 122900000000ull);
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 15, 16, 230, 2.5, 1.0),
			 t0 + 218300000000ull);
}

/*
 * Speeding is a speed over the threshold, sustained: an injected speeder
 * is detectable from the onset of a run over the threshold, while
 * observable, that held --truth-speed-min-s (0.8 s, the broker's
 * persist_ms).  Regressions: highway seed 16, incident 11, a car no BSM
 * reported, crossed the threshold at 151.7 s, 0.1 s before it left radar
 * 4's view, and was seen again, still speeding, from 169.4 s: called
 * detectable at 151.8 s (with --truth-speed-min-s 0 still), now at
 * 169.4 s.  Intersection seed 16, incident 11: a connected speeder held
 * behind slower traffic for 46 s was over the threshold only for the
 * 0.4 s before it left the network at 197.8 s: called detectable at
 * 197.4 s, now never.  The run's connected speeders 4 and 18 still are,
 * at their first step over the threshold.
 */
static void test_speeding_sustained(void **state)
{
	const uint64_t t0 = 1767225600ull * 1000000000ull;

	(void)state;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 16, 11, 175, 2.5, 1.0),
			 t0 + 169400000000ull);
	speed_min_s = 0;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 16, 11, 175, 2.5, 1.0),
			 t0 + 151800000000ull);
	assert_int_equal(accuracy_run_detectable(SIM_SCN_INTERSECTION, 16, 11, 200, 2.5, 1.0),
			 t0 + 197400000000ull);
	speed_min_s = -1;
	assert_int_equal(accuracy_run_detectable(SIM_SCN_INTERSECTION, 16, 11, 200, 2.5, 1.0), 0);
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 16, 4, 65, 2.5, 1.0),
			 t0 + 60900000000ull);
	assert_int_equal(accuracy_run_detectable(SIM_SCN_HIGHWAY, 16, 18, 255, 2.5, 1.0),
			 t0 + 248500000000ull);
}

/*
 * Injected stopped vehicle A (incident 1, held by force_a as inc__start()
 * holds it) stands at 100 m in a one-lane carriageway, car B standing
 * @gap_m ahead of it (bumper to bumper); B drives off at @go_mps from
 * @go_s s.  A sends BSMs when @conn; else a sensor reports it in the steps from
 * @seen_from to @seen_to s and from @seen_again s on.  Runs the incident
 * alone for @secs; returns its detect_t (-1: not detectable) and in
 * *@clear_t the first step with B more than 20 m (--truth-stop-clear-m)
 * ahead of A (-1: none).
 */
static double breakdown_behind(double gap_m, double go_s, double go_mps, int conn,
			       double seen_from,
			       double seen_to, double seen_again, double secs,
			       double *clear_t)
{
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	struct sim_world *w = NULL;
	struct sim_vehicle *v[64], *a, *b;
	struct sim_incident *inc;
	char err[256] = "";
	double det;
	int nl = 0;

	assert_non_null(cfg);
	sim_config_default(cfg);
	cfg->vehicles = 24;
	cfg->spacing = 20;
	cfg->lanes = 1;
	cfg->ramp = 0;
	cfg->seed = 5;
	cfg->penetration = 0;
	cfg->nsensors = 0;
	cfg->nincidents = 1;
	cfg->incident[0].type = V2X_EVT_STOPPED_VEHICLE;
	cfg->incident[0].at = 1e6; /* started by hand below */
	if (sim_world_new(cfg, &w, err, sizeof(err)) < 0)
		fail_msg("sim_world_new: %s", err);
	/* Vehicle 0's lane in the lane's order (rearmost first), kept so. */
	for (int k = 0; k < w->nveh && nl < 64; k++)
		if (w->veh[k].active && w->veh[k].lane == w->veh[0].lane)
			v[nl++] = &w->veh[k];
	assert_true(nl >= 3);
	for (int i = 0; i < nl; i++)
		for (int j = i + 1; j < nl; j++)
			if (v[j]->s < v[i]->s) {
				struct sim_vehicle *t = v[i];

				v[i] = v[j];
				v[j] = t;
			}
	a = v[0];
	b = v[1];
	for (int k = 0; k < nl; k++) {
		v[k]->s = k == 0 ? 100 : k == 1 ? 100 + gap_m + v[1]->length : 700 + 20 * k;
		v[k]->v = k < 2 ? 0 : 25;
		v[k]->a = 0;
		v[k]->lat_off = 0;
		v[k]->connected = 0;
		v[k]->seen_t = -1;
	}
	assert_true(v[nl - 1]->s + 100 < w->road.lane[a->lane].length);
	a->connected = (uint8_t)conn;
	inc = &w->inc[0];
	inc->state = SIM_INC_ACTIVE;
	inc->start_t = 0;
	inc->duration = 120;
	inc->veh[inc->nveh++] = (int)(a - w->veh);
	a->incident = 0;
	a->force_a = -3.0;
	*clear_t = -1;
	for (long step = 0; step < lround(secs * SIM_STEPS_PER_S); step++) {
		w->t = (double)step * SIM_DT;
		if (w->t >= go_s - 1e-9) {
			b->v = go_mps;
			b->s += go_mps * SIM_DT;
		}
		if (!conn && ((w->t >= seen_from - 1e-9 && w->t <= seen_to + 1e-9) ||
			      w->t >= seen_again - 1e-9))
			a->seen_t = w->t;
		if (*clear_t < 0 && b->s - b->length - a->s > 20)
			*clear_t = w->t;
		sim__incidents_step(w);
	}
	det = inc->detect_t;
	sim_world_free(w);
	free(cfg);
	return det;
}

/*
 * An injected stopped vehicle is detectable once it stands, while
 * observable, with nothing within --truth-stop-clear-m (20 m) ahead for
 * --truth-stop-min-s (0.8 s), from the onset of that - the rule of a
 * natural stopped vehicle (sim__stands_clear()).  Measured reason:
 * intersection seed 4, incident 8 stopped 9 m behind a standing car in a
 * queue at 111.0 s, a car waiting in the queue to anyone (the broker's
 * detector does not report one either); it stood clear lastingly only
 * from 142.7 s.  A breakdown 9 m behind a car that creeps off at 2 m/s
 * at 3 s: detectable when that car is more than 20 m ahead, not at once;
 * behind one that never moves, never.  Only a vehicle slower than
 * --truth-stop-lead-mps (5 m/s, the broker's jam_speed_mps) is a reason
 * to wait: one that drives off at 6 m/s (or cut in ahead and drives on)
 * is none, and the breakdown is detectable as it goes (390c2ac counted
 * it until 20 m ahead; the broker rightly reported such breakdowns
 * earlier, and its events were scored false).  Must still: on an empty
 * lane at once, as before; seen by a sensor only for 0.7 s, not then but
 * from when it is seen again; seen for 1 s, from the first of those
 * steps.
 */
static void test_stopped_vehicle_behind_queue(void **state)
{
	double clear_t, det;

	(void)state;
	det = breakdown_behind(9, 3, 2, 1, -1, -1, 1e9, 12, &clear_t);
	assert_true(clear_t > 8 && clear_t < 9);
	assert_true(fabs(det - clear_t) < 1e-6);
	det = breakdown_behind(9, 1e9, 2, 1, -1, -1, 1e9, 10, &clear_t);
	assert_true(clear_t < 0);
	assert_true(det < 0);
	/* Driving off faster than stop_lead_mps: from then on. */
	det = breakdown_behind(9, 3, 6, 1, -1, -1, 1e9, 10, &clear_t);
	assert_true(clear_t > 4 && clear_t < 5);
	assert_true(fabs(det - 3.0) < 1e-6);
	/* Must still: nothing ahead. */
	det = breakdown_behind(500, 1e9, 2, 1, -1, -1, 1e9, 10, &clear_t);
	assert_true(fabs(det - 0) < 1e-6);
	/* Seen 2.0-2.4 s: observable to 2.6 s (a sensor's latest frames,
	 * sim__observable()), 0.7 s; again from 5.0 s. */
	det = breakdown_behind(500, 1e9, 2, 0, 2.0, 2.4, 5.0, 10, &clear_t);
	assert_true(fabs(det - 5.0) < 1e-6);
	det = breakdown_behind(500, 1e9, 2, 0, 2.0, 2.9, 1e9, 10, &clear_t);
	assert_true(fabs(det - 2.0) < 1e-6);
	/* Behind the queue and seen: from when both hold. */
	det = breakdown_behind(9, 3, 2, 0, 0, 1e9, 1e9, 12, &clear_t);
	assert_true(fabs(det - clear_t) < 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stopped_vehicle),
		cmocka_unit_test(test_stopped_vehicle_behind_queue),
		cmocka_unit_test(test_hard_braking),
		cmocka_unit_test(test_hard_braking_seen_too_briefly),
		cmocka_unit_test(test_speeding_sustained),
		cmocka_unit_test(test_wrong_way),
		cmocka_unit_test(test_wrong_way_truth_sustained),
		cmocka_unit_test(test_wrong_way_turn_and_stand),
		cmocka_unit_test(test_wrong_way_truth_stretch),
		cmocka_unit_test(test_speeding),
		cmocka_unit_test(test_collision_risk),
		cmocka_unit_test(test_unobservable_not_detectable),
		cmocka_unit_test(test_congestion),
		cmocka_unit_test(test_congestion_unobservable),
		cmocka_unit_test(test_congestion_queue_observable),
		cmocka_unit_test(test_congestion_temp_ids),
		cmocka_unit_test(test_vru_on_road),
		cmocka_unit_test(test_all_types_one_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
