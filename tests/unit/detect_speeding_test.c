/* SPDX-License-Identifier: MIT */
/*
 * detect_speeding_test.c - speeding with noisy positions and fused tracks,
 * through the real detectors and lifecycle on evt_fixture.h's map (lane 1:
 * eastbound, centre line y = -1.75, 3.5 m wide, 50 km/h; the sidewalk,
 * lane 5, 2 m wide at y = -5, 6 km/h, on its right).
 *
 * Measured reason (intersection seed 4, 300 s): a car at 13 m/s in the
 * rightmost lane, its GNSS error drifted 1.4-2.0 m to the right for a
 * second, was map-matched to the sidewalk beside it in five samples of ten
 * and raised as speeding on the sidewalk's walking-pace limit 1.9 s into
 * the run; the samples on its own lane in between were shorter dips than
 * the grace.
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
#define LANE_Y (-1.75)
#define OFF_LANE_Y (-3.8) /* 2.05 m right of lane 1's centre: the sidewalk */

static double first_at(const struct fx *f, int type, int status)
{
	const struct v2x_event *e = fx_first(f, type, status);

	return e ? (double)(e->ts_ns - T0) / 1e9 : -1.0;
}

/*
 * A car (BSM) at @v m/s on lane 1 for 3 s, whose positions from 0.5 s to
 * 2.5 s are, two in every three, 2.05 m right of the lane's centre line
 * (on the sidewalk); returns the time of the first speeding "new", or -1.
 */
static double drift_onto_sidewalk(float v)
{
	struct fx *f = calloc(1, sizeof(*f));
	double x = 10, y, t, ret;
	struct det_match m;
	int i;

	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	/* The premise: such a position matches the sidewalk. */
	assert_int_equal(roadmap_match(f->map, 50, OFF_LANE_Y, 90, &m), 1);
	assert_int_equal(m.lane, 5);
	for (i = 0; i < 30; i++) {
		t = i * 0.1;
		y = t >= 0.5 && t < 2.5 && i % 3 != 0 ? OFF_LANE_Y : LANE_Y;
		x += v * 0.1;
		fx_sample(f, 30, CAR, x, y, v, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	ret = first_at(f, V2X_EVT_SPEEDING, V2X_EVT_NEW);
	fx_fini(f);
	free(f);
	return ret;
}

/* A car under the limit whose GNSS error puts it on the sidewalk is not
 * speeding: the sidewalk's limit is a pedestrian's pace. */
static void test_gnss_onto_sidewalk_not_speeding(void **state)
{
	(void)state;
	assert_true(drift_onto_sidewalk(13.0f) < 0);
	assert_true(drift_onto_sidewalk(8.0f) < 0);
}

/* A car speeding (80 km/h in a 50 zone) with the same GNSS error is
 * raised, within the persistence of its first sample on its lane plus
 * the time to the next one on it. */
static void test_speeder_onto_sidewalk_still_raised(void **state)
{
	struct detect_config cfg;
	double t;

	(void)state;
	detect_config_defaults(&cfg);
	t = drift_onto_sidewalk(22.0f);
	assert_true(t > 0);
	assert_true(t >= cfg.speeding.persist_ms / 1000.0 &&
		    t <= cfg.speeding.persist_ms / 1000.0 + 0.4);
}

/*
 * A fused track: a BSM at @v m/s every 100 ms and, between them, the
 * junction sensor's sample of the same car taken @lag_ms earlier (sensor
 * frames arrive later than BSMs), for @n steps.  Returns the time of the
 * first speeding "new", or -1.
 */
static double fused(float v, uint64_t lag_ms, int n)
{
	struct fx *f = calloc(1, sizeof(*f));
	double x = 10, ret;
	int i;

	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	for (i = 0; i < n; i++) {
		x += v * 0.1;
		f->lag_ns = 0;
		fx_sample(f, 31, CAR, x, LANE_Y, v, 90, V2X_SRC_V2X | V2X_SRC_SENSOR);
		f->lag_ns = lag_ms * MS;
		fx_sample(f, 31, CAR, x - v * lag_ms / 1000.0, LANE_Y, v, 90,
			  V2X_SRC_V2X | V2X_SRC_SENSOR);
		fx_tick(f, STEP);
	}
	ret = first_at(f, V2X_EVT_SPEEDING, V2X_EVT_NEW);
	fx_fini(f);
	free(f);
	return ret;
}

/* A sample older than the track's latest (another source's) is no age of
 * the persistence: a speeder seen for 0.3 s is not raised (the age since
 * the onset, in unsigned arithmetic, read as enormous and raised it at
 * its second sample); seen on, it is raised after the persistence. */
static void test_older_sample_no_instant_raise(void **state)
{
	struct detect_config cfg;
	double t;

	(void)state;
	detect_config_defaults(&cfg);
	assert_true(fused(22.0f, 50, 3) < 0);
	t = fused(22.0f, 50, 30);
	assert_true(t >= cfg.speeding.persist_ms / 1000.0 &&
		    t <= cfg.speeding.persist_ms / 1000.0 + 0.3);
}

/*
 * A speeder (BSM) seen for 0.5 s, unseen for @gap_ms, then seen again:
 * returns the time of the first speeding "new", or -1.
 */
static double with_gap(uint64_t gap_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	double x = 10, ret;
	int i;

	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	for (i = 0; i < 5; i++) {
		x += 2.2;
		fx_sample(f, 32, CAR, x, LANE_Y, 22.0f, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	for (i = 0; i < (int)(gap_ms / 100); i++) {
		x += 2.2;
		fx_tick(f, STEP);
	}
	for (i = 0; i < 20; i++) {
		x += 2.2;
		fx_sample(f, 32, CAR, x, LANE_Y, 22.0f, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	ret = first_at(f, V2X_EVT_SPEEDING, V2X_EVT_NEW);
	fx_fini(f);
	free(f);
	return ret;
}

/* Evidence resumed after a gap longer than the grace starts the
 * persistence over (0.4 s seen, 0.5 s unseen: not yet 0.8 s held); a gap
 * within the grace does not. */
static void test_gap_restarts_persistence(void **state)
{
	double t;

	(void)state;
	t = with_gap(500);
	assert_true(t >= 1.0 + 0.8 - 1e-6 && t <= 1.0 + 0.8 + 0.2);
	t = with_gap(200);
	assert_true(t >= 0.8 - 1e-6 && t <= 0.8 + 0.2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gnss_onto_sidewalk_not_speeding),
		cmocka_unit_test(test_speeder_onto_sidewalk_still_raised),
		cmocka_unit_test(test_older_sample_no_instant_raise),
		cmocka_unit_test(test_gap_restarts_persistence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
