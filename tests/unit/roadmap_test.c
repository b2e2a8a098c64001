/* SPDX-License-Identifier: MIT */
/*
 * roadmap_test.c - road map loading (good map, every kind of bad map named
 * by feature and problem), references, and map matching: the right lane,
 * heading error of a wrong-way vehicle, along/stop-line distances,
 * crosswalks, lane types, ties broken by heading, off-map points.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "v2x/error.h"
#include "evt_fixture.h"

#define assert_near(a, b, eps)                                                 \
	do {                                                                   \
		double a_ = (a), b_ = (b);                                     \
		if (!(fabs(a_ - b_) <= (eps)))                                 \
			fail_msg("%s = %.6f, want %.6f +- %g", #a, a_, b_,     \
				 (double)(eps));                               \
	} while (0)

static void test_load_fixture(void **state)
{
	struct roadmap_lane_info li;
	struct roadmap_segment_info si;
	struct roadmap *m = fx_map_load();
	const struct enu_ref *ref;

	(void)state;
	assert_non_null(m);
	assert_int_equal(roadmap_lane_count(m), 8);
	assert_int_equal(roadmap_segment_count(m), 7);
	ref = roadmap_reference(m);
	assert_near(ref->lat_deg, REF_LAT, 1e-9);
	assert_near(ref->lon_deg, REF_LON, 1e-9);

	assert_int_equal(roadmap_lane(m, 1, &li), 0);
	assert_int_equal(li.segment_id, 10);
	assert_int_equal(li.intersection_id, 1);
	assert_int_equal(li.signal_group, 2);
	assert_int_equal(li.type, ROADMAP_LANE_VEHICLE);
	assert_near(li.speed_limit_mps, 50 / 3.6, 1e-4);
	assert_near(li.width_m, 3.5, 1e-6);
	assert_near(li.length_m, 500, 0.05);
	assert_near(li.stop_along_m, 495, 0.05);
	assert_int_equal(li.connector, 0);
	assert_int_equal(li.next_lane_id, -1);
	assert_int_equal(roadmap_lane(m, 9, &li), 0);
	assert_int_equal(li.connector, 1);
	assert_int_equal(li.next_lane_id, 3);
	assert_int_equal(roadmap_lane(m, 11, &li), 0);
	assert_int_equal(li.left_lane_id, 12);
	assert_int_equal(li.right_lane_id, -1);
	assert_int_equal(roadmap_lane(m, 12, &li), 0);
	assert_int_equal(li.right_lane_id, 11);
	assert_int_equal(roadmap_lane(m, 5, &li), 0);
	assert_int_equal(li.type, ROADMAP_LANE_SIDEWALK);
	assert_int_equal(roadmap_lane(m, 7, &li), 0);
	assert_int_equal(li.type, ROADMAP_LANE_BIKE);
	assert_int_equal(roadmap_lane(m, 3, &li), 0);
	assert_near(li.stop_along_m, -1, 1e-6);
	assert_int_equal(roadmap_lane(m, 99, &li), V2X_E_RANGE);

	assert_int_equal(roadmap_segment_index(m, 11), 1);
	assert_int_equal(roadmap_segment_index(m, 12), V2X_E_RANGE);
	assert_int_equal(roadmap_segment_at(m, 1, &si), 0);
	assert_int_equal(si.segment_id, 11);
	assert_int_equal(si.n_lanes, 1);
	assert_near(si.length_m, 495, 0.05);
	assert_int_equal(roadmap_segment_at(m, 7, &si), V2X_E_RANGE);
	roadmap_free(m);
	roadmap_free(NULL);
}

/*
 * Lanes by index in lane_id order, and the along position on a given lane
 * of any point (the scorer's segment centre lines, bench/bench_score.c):
 * measured in the direction of travel, also on a "backward" lane, and
 * clamped to the lane's ends for a point beyond them or far beside it.
 */
static void test_lane_index_and_along(void **state)
{
	static const int32_t ids[] = { 1, 2, 3, 5, 7, 9, 11, 12 };
	struct roadmap *m = fx_map_load();
	struct roadmap_lane_info li;
	double along;

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(roadmap_lane_by_index(m, i, &li), 0);
		assert_int_equal(li.lane_id, ids[i]);
	}
	assert_int_equal(roadmap_lane_by_index(m, 6, &li), 0);
	assert_int_equal(li.segment_id, 60);
	assert_int_equal(li.left_lane_id, 12);
	assert_int_equal(roadmap_lane_by_index(m, 8, &li), V2X_E_RANGE);
	assert_int_equal(roadmap_lane_by_index(m, -1, &li), V2X_E_RANGE);

	assert_int_equal(roadmap_lane_along(m, 1, 200, -1.75, &along), 0);
	assert_near(along, 200, 0.05);
	/* 300 m beside the lane: still its nearest point. */
	assert_int_equal(roadmap_lane_along(m, 1, 300, 300, &along), 0);
	assert_near(along, 300, 0.05);
	assert_int_equal(roadmap_lane_along(m, 1, -50, -1.75, &along), 0);
	assert_near(along, 0, 1e-6);
	assert_int_equal(roadmap_lane_along(m, 1, 900, -1.75, &along), 0);
	assert_near(along, 500, 0.05);
	/* Lane 2 runs west from x = 1000. */
	assert_int_equal(roadmap_lane_along(m, 2, 200, 1.75, &along), 0);
	assert_near(along, 800, 0.05);
	assert_int_equal(roadmap_lane_along(m, 99, 0, 0, &along), V2X_E_RANGE);
	roadmap_free(m);
}

static void test_match_lanes(void **state)
{
	struct roadmap *m = fx_map_load();
	struct det_match d;

	(void)state;
	assert_non_null(m);
	/* Eastbound lane 3, heading east. */
	assert_int_equal(roadmap_match(m, 700, -1.0, 90, &d), 1);
	assert_int_equal(d.lane, 3);
	assert_int_equal(d.segment, 11);
	assert_near(d.along_m, 195, 0.05);
	assert_near(d.offset_m, 0.75, 0.02); /* left of travel = north */
	assert_near(d.heading_err_deg, 0, 0.01);
	assert_near(d.speed_limit_mps, 50 / 3.6, 1e-4);
	assert_near(d.lane_width_m, 3.5, 1e-6);
	assert_near(d.to_stop_line_m, -1, 1e-6);
	assert_int_equal(d.on_crosswalk, 0);

	/* A wrong-way driver in lane 3 still matches lane 3, error ~180. */
	assert_int_equal(roadmap_match(m, 700, -1.2, 270, &d), 1);
	assert_int_equal(d.lane, 3);
	assert_near(fabs(d.heading_err_deg), 180, 0.01);
	/* ... even close to the boundary with the westbound lane. */
	assert_int_equal(roadmap_match(m, 700, -0.3, 270, &d), 1);
	assert_int_equal(d.lane, 3);

	/* Westbound lane 2 ("backward"): along grows to the west. */
	assert_int_equal(roadmap_match(m, 700, 2.0, 268, &d), 1);
	assert_int_equal(d.lane, 2);
	assert_int_equal(d.segment, 20);
	assert_near(d.along_m, 300, 0.05);
	assert_near(d.heading_err_deg, -2, 0.01);
	/* Unknown heading: nearest lane, error 0. */
	assert_int_equal(roadmap_match(m, 700, 2.0, NAN, &d), 1);
	assert_int_equal(d.lane, 2);

	/* Approach lane 1: distance to the stop line ahead. */
	assert_int_equal(roadmap_match(m, 400, -1.75, 90, &d), 1);
	assert_int_equal(d.lane, 1);
	assert_near(d.to_stop_line_m, 95, 0.05);
	assert_int_equal(roadmap_match(m, 498, -1.75, 90, &d), 1);
	assert_near(d.to_stop_line_m, -1, 1e-6); /* past it */

	/* Crosswalk containment, set whether or not a lane matched. */
	assert_int_equal(roadmap_match(m, 302, -1.75, 0, &d), 1);
	assert_int_equal(d.on_crosswalk, 1);
	assert_int_equal(roadmap_on_crosswalk(m, 302, 3.9), 1);
	assert_int_equal(roadmap_on_crosswalk(m, 305, 0), 0);
	assert_int_equal(roadmap_on_crosswalk(m, 302, 4.5), 0);

	/* Within the tolerance beyond the edge, and beyond it. */
	assert_int_equal(roadmap_match(m, 700, 4.3, 270, &d), 1);
	assert_int_equal(d.lane, 2);
	assert_int_equal(roadmap_match(m, 700, 20, 270, &d), 0);
	assert_int_equal(d.lane, -1);
	assert_int_equal(d.segment, -1);
	assert_int_equal(roadmap_match(m, -5000, 0, 90, &d), 0);
	assert_int_equal(roadmap_match(m, NAN, 0, 90, &d), 0);

	roadmap_free(m);
}

static void test_lane_at_types(void **state)
{
	struct roadmap *m = fx_map_load();
	int32_t lane = -1;

	(void)state;
	assert_non_null(m);
	assert_int_equal(roadmap_lane_at(m, 700, -1.75, ROADMAP_LANE_VEHICLE, &lane), 1);
	assert_int_equal(lane, 3);
	/* The sidewalk is not a vehicle lane, strictly (no tolerance). */
	assert_int_equal(roadmap_lane_at(m, 700, -5.0, ROADMAP_LANE_VEHICLE, &lane), 0);
	assert_int_equal(roadmap_lane_at(m, 700, -5.0, ROADMAP_LANE_SIDEWALK, &lane), 1);
	assert_int_equal(lane, 5);
	assert_int_equal(roadmap_lane_at(m, 700, -8.5, ROADMAP_LANE_BIKE, &lane), 1);
	assert_int_equal(lane, 7);
	/* Between the intersection's lane ends: no lane. */
	assert_int_equal(roadmap_lane_at(m, 502.5, -1.75, ROADMAP_LANE_VEHICLE, &lane), 0);
	roadmap_free(m);
}

/* Two lanes crossing at a right angle overlap at the crossing: the
 * heading breaks the tie. */
static void test_tie_broken_by_heading(void **state)
{
	char buf[4096] = "";
	struct roadmap *m = NULL;
	struct det_match d;
	char err[256];

	(void)state;
	enu_init(&fx_ref, REF_LAT, REF_LON, 0);
	strcpy(buf, "{\"type\": \"FeatureCollection\", \"features\": [");
	fx_lane(buf, sizeof(buf), "\"lane_id\": 1, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 50, \"width_m\": 3.5",
		-100, 0, 100, 0);
	fx_lane(buf, sizeof(buf), "\"lane_id\": 2, \"segment_id\": 2, \"direction\": \"forward\", \"speed_limit_kph\": 30, \"width_m\": 3.5",
		0, -100, 0, 100);
	strcat(buf, "]}");
	assert_int_equal(roadmap_load_string(buf, "cross", &fx_ref, NULL, &m, err,
					     sizeof(err)), 0);
	assert_int_equal(roadmap_match(m, 0.1, 0.1, 90, &d), 1);
	assert_int_equal(d.lane, 1);
	assert_int_equal(roadmap_match(m, 0.1, 0.1, 1, &d), 1);
	assert_int_equal(d.lane, 2);
	assert_near(d.speed_limit_mps, 30 / 3.6, 1e-4);
	/* Preferred lane (previous match) wins while within its buffer. */
	assert_int_equal(roadmap_match_prefer(m, 0.1, 1.5, 90, 1, &d), 1);
	assert_int_equal(d.lane, 1);
	assert_int_equal(roadmap_match_prefer(m, 0.1, 1.5, 90, 2, &d), 1);
	assert_int_equal(d.lane, 2);
	/* The map's reference: first coordinate when none is given. */
	roadmap_free(m);
	m = NULL;
	assert_int_equal(roadmap_load_string(buf, "cross", NULL, NULL, &m, err,
					     sizeof(err)), 0);
	{
		double lat, lon;

		fx_geo(-100, 0, &lat, &lon);
		assert_near(roadmap_reference(m)->lat_deg, lat, 1e-9);
		assert_near(roadmap_reference(m)->lon_deg, lon, 1e-9);
		assert_int_equal(roadmap_match(m, 100, 0, 90, &d), 1);
		assert_near(d.along_m, 100, 0.05);
	}
	roadmap_free(m);
}

struct bad_case {
	const char *json;
	int code;
	const char *msg; /* must appear in the error text */
};

static void test_bad_maps(void **state)
{
	static const struct bad_case cases[] = {
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 7, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 50, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1]]}}]}",
		  V2X_E_INVALID, "t: feature 0 (lane_id 7): LineString needs >= 2 points" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"other\"}}, {\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 50, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.6, 48.1]]}}]}",
		  V2X_E_MISSING, "feature 1 (lane): missing property lane_id" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"sideways\", \"speed_limit_kph\": 50, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.6, 48.1]]}}]}",
		  V2X_E_INVALID, "feature 0 (lane_id 3): direction must be" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": -5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.6, 48.1]]}}]}",
		  V2X_E_RANGE, "speed_limit_kph must be > 0" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": \"x\", \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.6, 48.1]]}}]}",
		  V2X_E_TYPE, "lane_id must be an integer" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [11.5, 48.1]}}]}",
		  V2X_E_TYPE, "geometry must be a LineString, not Point" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.5, 48.1]]}}]}",
		  V2X_E_INVALID, "LineString has zero length" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 98.1], [11.5, 48.1]]}}]}",
		  V2X_E_RANGE, "out of range" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.6, 48.1]]}}, {\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 2, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.2], [11.6, 48.2]]}}]}",
		  V2X_E_INVALID, "lane_id 3 is used twice" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", \"lane_id\": 3, \"segment_id\": 1, \"direction\": \"forward\", \"speed_limit_kph\": 5, \"width_m\": 3}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.5, 48.1], [11.6, 48.1]]}}, {\"type\": \"Feature\", \"properties\": {\"kind\": \"stop_line\", \"lane_id\": 4}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[11.55, 48.1], [11.55, 48.11]]}}]}",
		  V2X_E_INVALID, "feature 1 (stop_line of lane_id 4): stop_line refers to unknown lane_id 4" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"crosswalk\", \"crosswalk_id\": 2}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[11.5, 48.1], [11.6, 48.1], [11.5, 48.1]]]}}]}",
		  V2X_E_INVALID, "feature 0 (crosswalk_id 2): Polygon needs an outer ring" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"kind\": \"sensor\"}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [11.5, 48.1]}}]}",
		  V2X_E_MISSING, "no lane features" },
		{ "{\"type\": \"Feature\"}", V2X_E_INVALID, "not a GeoJSON FeatureCollection" },
		{ "{\"type\": \"FeatureCollection\", \"features\": [}", V2X_E_SYNTAX, "t: line 1 column" },
		{ "{\"type\": \"FeatureCollection\", \"reference\": {\"lat\": 100, \"lon\": 0}, \"features\": []}",
		  V2X_E_INVALID, "reference must be" },
	};
	struct roadmap *m;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		m = NULL;
		err[0] = 0;
		r = roadmap_load_string(cases[i].json, "t", NULL, NULL, &m, err,
					sizeof(err));
		if (r != cases[i].code || !strstr(err, cases[i].msg))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, r, err,
				 cases[i].code, cases[i].msg);
		assert_null(m);
	}
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/roadmap_test_XXXXXX";
	struct roadmap *m = NULL, *old;
	const char *json = fx_map_json();
	char err[256];
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(roadmap_load("/nonexistent/map.geojson", NULL, &m, err,
				      sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/map.geojson"));
	assert_null(m);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	assert_int_equal(roadmap_load(path, NULL, &m, err, sizeof(err)), 0);
	assert_int_equal(roadmap_lane_count(m), 8);

	/* Reload keeps the old map if the new file is bad. */
	old = m;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"type\": \"FeatureCollection\", \"features\": [", f);
	fclose(f);
	assert_int_equal(roadmap_load(path, NULL, &m, err, sizeof(err)), V2X_E_SYNTAX);
	assert_ptr_equal(m, old);
	assert_non_null(strstr(err, path));
	roadmap_free(m);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_fixture),
		cmocka_unit_test(test_lane_index_and_along),
		cmocka_unit_test(test_match_lanes),
		cmocka_unit_test(test_lane_at_types),
		cmocka_unit_test(test_tie_broken_by_heading),
		cmocka_unit_test(test_bad_maps),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
