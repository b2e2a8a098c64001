/* SPDX-License-Identifier: MIT */
/*
 * detect_stopped_test.c - stopped-vehicle rules at the ends of lanes, on a
 * map of its own (built with evt_fixture.h's helpers), through the real
 * detectors and lifecycle:
 *
 *   lane 21  seg 70  eastbound  y = -1.75  x 0..500     next lane 23,
 *                                                       right lane 22
 *   lane 23  seg 71  eastbound  y = -1.75  x 500..1000
 *   lane 22  seg 70  eastbound  y = -5.25  x 100..400   an acceleration
 *                                                       lane: ends, left
 *                                                       lane 21 goes on
 *   lane 24  seg 72  eastbound  y = -30    x 0..300     ends, no neighbour
 *
 * - A queue does not end at a segment boundary: a vehicle stopping just
 *   before the end of lane 21 behind a slow vehicle at the start of lane
 *   23 is queued (measured: a vehicle stopped 47 m behind a wrong-way
 *   driver standing in the next segment was reported, highway seed 3).
 * - A vehicle standing at the end of an acceleration lane waits for a gap
 *   (measured: highway seed 2, 12 s at the end of the on-ramp's lane): it
 *   must stand junction_wait_ms there.
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
#include <cmocka.h>

#include "v2x/error.h"
#include "evt_fixture.h"

#define STEP (100 * MS)
#define CAR V2X_CLASS_CAR

static struct roadmap *ends_map(void)
{
	static char buf[8192];
	struct roadmap *m = NULL;
	char err[256];

	fx_map_json(); /* sets the reference */
	snprintf(buf, sizeof(buf),
		 "{\"type\": \"FeatureCollection\", \"reference\": {\"lat\": %.7f, \"lon\": %.7f},\n"
		 " \"features\": [", REF_LAT, REF_LON);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 21, \"segment_id\": 70, \"direction\": \"forward\", \"speed_limit_kph\": 100, \"width_m\": 3.5, \"next_lane_id\": 23, \"right_lane_id\": 22",
		0, -1.75, 500, -1.75);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 23, \"segment_id\": 71, \"direction\": \"forward\", \"speed_limit_kph\": 100, \"width_m\": 3.5",
		500, -1.75, 1000, -1.75);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 22, \"segment_id\": 70, \"direction\": \"forward\", \"speed_limit_kph\": 100, \"width_m\": 3.5, \"left_lane_id\": 21",
		100, -5.25, 400, -5.25);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 24, \"segment_id\": 72, \"direction\": \"forward\", \"speed_limit_kph\": 100, \"width_m\": 3.5",
		0, -30, 300, -30);
	strncat(buf, "\n]}\n", sizeof(buf) - strlen(buf) - 1);
	if (roadmap_load_string(buf, "ends", NULL, NULL, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "ends map: %s\n", err);
		return NULL;
	}
	return m;
}

static struct fx *ends_fx(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	roadmap_free(f->map);
	f->map = ends_map();
	assert_non_null(f->map);
	f->env.map = f->map;
	return f;
}

static void ends_free(struct fx *f)
{
	fx_fini(f);
	free(f);
}

/* New stopped-vehicle events in @lane. */
static int stopped_in(const struct fx *f, int32_t lane)
{
	int n = 0;

	for (int i = 0; i < f->n_out; i++)
		if (f->out[i].type == V2X_EVT_STOPPED_VEHICLE &&
		    f->out[i].status == V2X_EVT_NEW && f->out[i].lane == lane)
			n++;
	return n;
}

/*
 * Car 2 drives east in lane 21 at 20 m/s and stops at stop_x, stands 20 s.
 * Car 1 (when lead_x > 0) stands in lane 23 at lead_x all along, facing
 * lead_heading.  Returns the new stopped-vehicle events in lane 21.
 */
static int queue_across(double stop_x, double lead_x, float lead_heading)
{
	struct fx *f = ends_fx();
	double x = stop_x - 200;
	int n;

	for (int i = 0; i < 300; i++) {
		float v = x < stop_x ? 20.0f : 0.0f;

		x = fmin(x + v * 0.1, stop_x);
		if (lead_x > 0)
			fx_sample(f, 1, CAR, lead_x, -1.75, 0, lead_heading, V2X_SRC_SENSOR);
		fx_sample(f, 2, CAR, x, -1.75, v, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	n = stopped_in(f, 21);
	ends_free(f);
	return n;
}

static void test_queue_across_segment_boundary(void **state)
{
	(void)state;
	/* Alone at the end of its lane: a stopped vehicle. */
	assert_int_equal(queue_across(490, -1, 90), 1);
	/* Behind a standing vehicle 40 m ahead, across the boundary: queued. */
	assert_int_equal(queue_across(490, 530, 90), 0);
	/* The same facing it (a wrong-way driver that stopped). */
	assert_int_equal(queue_across(490, 530, 270), 0);
	/* The vehicle ahead farther than jam_lookahead_m (60 m): reported. */
	assert_int_equal(queue_across(470, 540, 90), 1);
}

/*
 * Car 3 drives east in @lane (y) at 15 m/s from @x0, stops at stop_x and
 * stands @stand_s.  Returns the time of its stopped-vehicle event after it
 * stopped (s), or -1.
 */
static double stand_at(double y, double x0, double stop_x, double stand_s)
{
	struct fx *f = ends_fx();
	const struct v2x_event *e;
	double x = x0, t_stop = -1, at;
	int steps = (int)((stop_x - x0) / 1.5) + (int)(stand_s * 10) + 5;

	for (int i = 0; i < steps; i++) {
		float v = x < stop_x ? 15.0f : 0.0f;

		x = fmin(x + v * 0.1, stop_x);
		if (v == 0 && t_stop < 0)
			t_stop = (double)(f->now - T0) / 1e9;
		fx_sample(f, 3, CAR, x, y, v, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	e = fx_first(f, V2X_EVT_STOPPED_VEHICLE, V2X_EVT_NEW);
	at = e ? (double)(e->ts_ns - T0) / 1e9 - t_stop : -1;
	ends_free(f);
	return at;
}

static void test_end_of_acceleration_lane(void **state)
{
	struct detect_config cfg;
	double at, wait;

	(void)state;
	detect_config_defaults(&cfg);
	wait = cfg.stopped.junction_wait_ms / 1000.0;
	/* Waiting for a gap at the end of the acceleration lane: not within
	 * 20 s, reported once it stood junction_wait_ms. */
	assert_true(stand_at(-5.25, 120, 390, 20) < 0);
	at = stand_at(-5.25, 120, 390, wait + 5);
	assert_true(at >= wait && at <= wait + 1.5);
	/* Farther back than jam_lookahead_m from its end: a breakdown. */
	at = stand_at(-5.25, 120, 300, 10);
	assert_true(at >= 0 && at <= cfg.stopped.persist_ms / 1000.0 + 1.0);
	/* The end of a lane with no lane going on beside it (the road ends,
	 * or the map says nothing): a breakdown as before. */
	at = stand_at(-30, 20, 290, 10);
	assert_true(at >= 0 && at <= cfg.stopped.persist_ms / 1000.0 + 1.0);
	/* The end of lane 21, which goes on into lane 23: as before. */
	at = stand_at(-1.75, 300, 495, 10);
	assert_true(at >= 0 && at <= cfg.stopped.persist_ms / 1000.0 + 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_across_segment_boundary),
		cmocka_unit_test(test_end_of_acceleration_lane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
