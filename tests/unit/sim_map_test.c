/* SPDX-License-Identifier: MIT */
/*
 * sim_map_test.c - the road map GeoJSON of each scenario: lanes with unique
 * ids and sane geometry, stop lines on signalised lanes, crosswalks,
 * sensors, the reference point.
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

struct counts {
	int lanes, vehicle_lanes, sidewalks, stop_lines, crosswalks, sensors;
};

static json_t *map_of(int scenario, struct sim_world **wout)
{
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	struct sim_world *w;
	char err[256];
	FILE *f = tmpfile();
	json_error_t je;
	json_t *j;

	assert_non_null(cfg);
	assert_non_null(f);
	sim_config_default(cfg);
	cfg->scenario = scenario;
	cfg->vehicles = 100;
	cfg->grid_rows = 2;
	cfg->grid_cols = 3;
	assert_int_equal(sim_world_new(cfg, &w, err, sizeof(err)), 0);
	assert_int_equal(sim_map_write(w, f), 0);
	rewind(f);
	j = json_loadf(f, 0, &je);
	if (!j)
		fail_msg("map is not JSON: %s line %d", je.text, je.line);
	fclose(f);
	free(cfg);
	*wout = w;
	return j;
}

static void check_map(json_t *j, const struct sim_world *w, struct counts *c)
{
	json_t *feats = json_object_get(j, "features"), *f;
	size_t i;
	int max_id = 0;
	char *seen;

	memset(c, 0, sizeof(*c));
	assert_string_equal(json_string_value(json_object_get(j, "type")), "FeatureCollection");
	assert_true(fabs(json_real_value(json_object_get(json_object_get(j, "reference"), "lat")) -
			 w->cfg.ref_lat) < 1e-9);
	json_array_foreach(feats, i, f) {
		json_t *p = json_object_get(f, "properties");

		if (!strcmp(json_string_value(json_object_get(p, "kind")), "lane")) {
			int id = (int)json_integer_value(json_object_get(p, "lane_id"));

			if (id > max_id)
				max_id = id;
		}
	}
	seen = calloc((size_t)max_id + 1, 1);
	assert_non_null(seen);
	json_array_foreach(feats, i, f) {
		json_t *p = json_object_get(f, "properties");
		json_t *g = json_object_get(f, "geometry");
		json_t *coords = json_object_get(g, "coordinates");
		const char *kind = json_string_value(json_object_get(p, "kind"));

		assert_non_null(kind);
		if (!strcmp(kind, "lane")) {
			int id = (int)json_integer_value(json_object_get(p, "lane_id"));
			const char *lt = json_string_value(json_object_get(p, "lane_type"));
			size_t k;
			json_t *pt;

			assert_string_equal(json_string_value(json_object_get(g, "type")), "LineString");
			assert_true(json_array_size(coords) >= 2);
			assert_true(id > 0);
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			assert_true(json_integer_value(json_object_get(p, "segment_id")) > 0);
			assert_string_equal(json_string_value(json_object_get(p, "direction")), "forward");
			assert_true(json_real_value(json_object_get(p, "speed_limit_kph")) > 0);
			assert_true(json_real_value(json_object_get(p, "width_m")) > 1.5);
			json_array_foreach(coords, k, pt) {
				assert_true(fabs(json_real_value(json_array_get(pt, 0)) - w->cfg.ref_lon) < 0.5);
				assert_true(fabs(json_real_value(json_array_get(pt, 1)) - w->cfg.ref_lat) < 0.5);
			}
			c->lanes++;
			if (!strcmp(lt, "vehicle"))
				c->vehicle_lanes++;
			else if (!strcmp(lt, "sidewalk"))
				c->sidewalks++;
		} else if (!strcmp(kind, "stop_line")) {
			int id = (int)json_integer_value(json_object_get(p, "lane_id"));

			assert_int_equal(json_array_size(coords), 2);
			assert_true(id > 0 && id <= max_id && seen[id]);
			assert_true(json_integer_value(json_object_get(p, "intersection_id")) > 0);
			assert_true(json_integer_value(json_object_get(p, "signal_group")) >= 1);
			c->stop_lines++;
		} else if (!strcmp(kind, "crosswalk")) {
			json_t *ring = json_array_get(coords, 0);
			json_t *a = json_array_get(ring, 0);
			json_t *b = json_array_get(ring, json_array_size(ring) - 1);

			assert_string_equal(json_string_value(json_object_get(g, "type")), "Polygon");
			assert_true(json_array_size(ring) >= 4);
			assert_true(json_real_value(json_array_get(a, 0)) ==
				    json_real_value(json_array_get(b, 0)));
			assert_true(json_integer_value(json_object_get(p, "crosswalk_id")) > 0);
			c->crosswalks++;
		} else if (!strcmp(kind, "sensor")) {
			assert_string_equal(json_string_value(json_object_get(g, "type")), "Point");
			assert_true(json_real_value(json_object_get(p, "range_m")) > 0);
			c->sensors++;
		} else {
			fail_msg("unexpected kind %s", kind);
		}
	}
	free(seen);
}

static void test_intersection_map(void **state)
{
	struct sim_world *w;
	json_t *j = map_of(SIM_SCN_INTERSECTION, &w);
	struct counts c;

	(void)state;
	check_map(j, w, &c);
	/* 4 arms x 2 lanes x (in, out, through) */
	assert_int_equal(c.vehicle_lanes, 24);
	assert_int_equal(c.stop_lines, 8);
	assert_int_equal(c.crosswalks, 4);
	assert_int_equal(c.sidewalks, 12);
	assert_int_equal(c.sensors, 1);
	json_decref(j);
	sim_world_free(w);
}

static void test_grid_map(void **state)
{
	struct sim_world *w;
	json_t *j = map_of(SIM_SCN_GRID, &w);
	struct counts c;

	(void)state;
	check_map(j, w, &c);
	assert_int_equal(w->nsig, 6);
	assert_int_equal(c.stop_lines, 6 * 8);
	assert_int_equal(c.crosswalks, 6 * 4);
	json_decref(j);
	sim_world_free(w);
}

static void test_highway_map(void **state)
{
	struct sim_world *w;
	json_t *j = map_of(SIM_SCN_HIGHWAY, &w);
	struct counts c;

	(void)state;
	check_map(j, w, &c);
	/* 5 km, 1 km sections, 3 lanes each way, one on-ramp. */
	assert_int_equal(c.vehicle_lanes, 5 * 3 * 2 + 1);
	assert_int_equal(c.stop_lines, 0);
	assert_true(c.sensors >= 1);
	json_decref(j);
	sim_world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intersection_map),
		cmocka_unit_test(test_grid_map),
		cmocka_unit_test(test_highway_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
