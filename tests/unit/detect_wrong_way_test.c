/* SPDX-License-Identifier: MIT */
/*
 * detect_wrong_way_test.c - wrong-way driving through the real detectors
 * and lifecycle on evt_fixture.h's map (lane 3: eastbound, centre line
 * y = -1.75, x 505..1000; lane 2: westbound, y = +1.75, x 0..1000).
 *
 * Measured reason (intersection seed 27, incident 10, 300 s): sensor 1
 * lost a car creeping the right way for 0.9 s while it turned; its first
 * sample back was against the lane at 3.02 m/s, and the whole 0.9 s since
 * the previous (right-way) sample was taken for wrong-way driving: raised
 * 0.3 s after the turn, though it drove against the lane above walking
 * pace for 0.3 s and then stood for 6 s (the truth dates it from its
 * drive-off).  The time between two samples is now evidence only when
 * both met the condition, and the first sample against the lane counts
 * for its own sampling interval (at most 0.1 s), as the truth counts each
 * 0.1 s step meeting its condition, the first included.
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
#define LANE3_Y (-1.75)
#define LANE2_Y (1.75)

static double first_at(const struct fx *f, int type, int status)
{
	const struct v2x_event *e = fx_first(f, type, status);

	return e ? (double)(e->ts_ns - T0) / 1e9 : -1.0;
}

/* Harness time in s since T0. */
static double now_s(const struct fx *f)
{
	return (double)(f->now - T0) / 1e9;
}

/*
 * A sensor-only car creeping east in lane 3 (0.2-0.4 m/s) for 5 s, unseen
 * for 0.9 s while it turns, seen again heading west at the speeds @back
 * (@n_back samples, 10 Hz), then standing for 6 s; it then drives off
 * west at 1.33 m/s^2 for 6 s (seed 27's driver drove off at about that).
 * Fills *@stand_end with the harness time at which it began to drive off
 * and *@over with that of its first sample faster than min_speed_mps.
 * Returns the wrong-way transitions seen before the drive-off.
 */
static int turn_after_gap(struct fx *f, const float *back, int n_back,
			  double *drive_off, double *over)
{
	double x = 700;
	int i, before;
	float v;

	for (i = 0; i < 50; i++) {
		v = (float)fx_uniform(0.2, 0.4);
		x += v * 0.1;
		fx_sample(f, 184, CAR, x, LANE3_Y, v, 90, V2X_SRC_SENSOR);
		fx_tick(f, STEP);
	}
	for (i = 0; i < 8; i++)
		fx_tick(f, STEP); /* unseen: 0.9 s between two samples */
	for (i = 0; i < n_back + 60; i++) {
		v = i < n_back ? back[i] : 0.0f;
		x -= v * 0.1;
		fx_sample(f, 184, CAR, x, LANE3_Y, v, 270, V2X_SRC_SENSOR);
		fx_tick(f, STEP);
	}
	before = fx_count(f, V2X_EVT_WRONG_WAY, -1);
	*drive_off = now_s(f);
	*over = -1;
	for (i = 1; i <= 60; i++) {
		v = 1.33f * (float)i * 0.1f;
		x -= v * 0.1;
		if (*over < 0 && v > f->cfg.wrong_way.min_speed_mps)
			*over = now_s(f);
		fx_sample(f, 184, CAR, x, LANE3_Y, v, 270, V2X_SRC_SENSOR);
		fx_tick(f, STEP);
	}
	return before;
}

/*
 * Seed 27's speeds after the gap: 3.02 and 2.64 m/s (two samples, 0.2 s
 * against the lane above walking pace), then braking to a stand.  No event
 * while it stands (before: raised at its second sample back, 0.9 + 0.1 s);
 * one when it drives off, once the 0.2 s and eight samples of the
 * drive-off make 1 s.
 */
static void test_gap_over_turn_is_no_evidence(void **state)
{
	static const float back[] = { 3.02f, 2.64f, 1.66f, 1.78f, 1.90f,
				      1.28f, 1.06f, 0.54f, 1.0f, 0.38f };
	struct fx *f = calloc(1, sizeof(*f));
	double off, over, t;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	assert_int_equal(turn_after_gap(f, back, 10, &off, &over), 0);
	assert_true(over > off);
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW), 1);
	t = first_at(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW);
	assert_true(t >= over + 0.7 - 1e-3 && t <= over + 0.8 + 1e-3);
	fx_fini(f);
	free(f);
}

/*
 * Seen once above walking pace after the gap (3.0 m/s), then braking: that
 * sample counts for 0.1 s, not 0.9, so the event comes 0.8 s after the
 * drive-off passed min_speed_mps (nine samples), not at once (before: the
 * 0.9 s gap was kept while it stood, and its first fast sample made 1 s).
 */
static void test_one_sample_after_gap_counts_one_interval(void **state)
{
	static const float back[] = { 3.0f, 2.4f, 1.7f, 1.1f, 0.6f, 0.2f };
	struct fx *f = calloc(1, sizeof(*f));
	double off, over, t;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	assert_int_equal(turn_after_gap(f, back, 6, &off, &over), 0);
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW), 1);
	t = first_at(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW);
	assert_true(t >= over + 0.8 - 1e-3 && t <= over + 0.9 + 1e-3);
	fx_fini(f);
	free(f);
}

/*
 * Seen after the gap only below walking pace (nothing kept): the drive-off
 * is raised at its tenth sample faster than min_speed_mps, 0.9 s after
 * the first - ten samples at 10 Hz are 1 s of driving, as ten 0.1 s steps
 * are to the truth (counting nothing for the first sample asked for
 * eleven, 1.0 s after the first).
 */
static void test_drive_off_counts_its_first_sample(void **state)
{
	static const float back[] = { 2.2f, 1.7f, 1.1f, 0.6f, 0.2f };
	struct fx *f = calloc(1, sizeof(*f));
	double off, over, t;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	assert_int_equal(turn_after_gap(f, back, 5, &off, &over), 0);
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW), 1);
	t = first_at(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW);
	assert_true(t >= over + 0.9 - 1e-3 && t <= over + 0.9 + 1e-3);
	fx_fini(f);
	free(f);
}

/*
 * Must still raise: a connected car driving east in the westbound lane 2
 * at 13 m/s, BSMs at 10 Hz, every fifth one lost (the time between two
 * samples against the lane counts, gap or not), having driven the right
 * way in lane 3 before it turned: raised 0.9 s after its first sample
 * against the lane (that sample counts for its 0.1 s), as before.
 */
static void test_bsm_against_lane_raised_in_time(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	double x = 100, first = -1, t;
	int i, turned;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	for (i = 0; i < 60; i++) {
		turned = i >= 20;
		x += 13.0 * 0.1;
		if (turned && first < 0)
			first = now_s(f);
		if (i % 5 != 2)
			fx_sample(f, 7, CAR, x, turned ? LANE2_Y : LANE3_Y, 13,
				  90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW), 1);
	t = first_at(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW);
	assert_true(t >= first + 0.9 - 1e-3 && t <= first + 0.9 + 1e-3);
	assert_int_equal(fx_first(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW)->lane, 2);
	fx_fini(f);
	free(f);
}

/*
 * A sensor-only car that comes into view driving west in lane 3 at
 * 10 m/s: its first sample counts for its 0.1 s, as the truth counts its
 * first observable step - raised at its tenth sample, 0.9 s after the
 * first (counting nothing for it: 1.0 s, highway seed 26 twice).  One
 * seen for nine samples only and then lost: nothing.
 */
static void test_first_sample_of_track_counts(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	double x = 990, first, t;
	int i;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	for (i = 0; i < 9; i++) {
		x -= 10.0 * 0.1;
		fx_sample(f, 30, CAR, x, LANE3_Y, 10, 270, V2X_SRC_SENSOR);
		fx_tick(f, STEP);
	}
	for (i = 0; i < 30; i++)
		fx_tick(f, STEP);
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, -1), 0);
	x = 800;
	first = now_s(f);
	for (i = 0; i < 20; i++) {
		x -= 10.0 * 0.1;
		fx_sample(f, 31, CAR, x, LANE3_Y, 10, 270, V2X_SRC_SENSOR);
		fx_tick(f, STEP);
	}
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW), 1);
	t = first_at(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW);
	assert_true(t >= first + 0.9 - 1e-3 && t <= first + 0.9 + 1e-3);
	fx_fini(f);
	free(f);
}

/*
 * Must not raise: right-way cars next to the opposite lane with GNSS
 * noise of +-2 m and +-10 degrees, unseen now and then for 0.3-0.9 s
 * (a sensor's dropouts), for 60 s.
 */
static void test_right_way_noise_and_gaps(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	double x = 506, x2 = 995;
	int i, skip = 0, skip2 = 0;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	for (i = 0; i < 600; i++) {
		x += 8.0 * 0.1;
		x2 -= 8.0 * 0.1;
		if (skip > 0)
			skip--;
		else if (fx_uniform(0, 1) < 0.05)
			skip = (int)fx_uniform(3, 9.99);
		else
			fx_sample(f, 4, CAR, x + fx_uniform(-2, 2),
				  LANE3_Y + fx_uniform(-2, 2), 8,
				  (float)(90 + fx_uniform(-10, 10)),
				  V2X_SRC_SENSOR);
		if (skip2 > 0)
			skip2--;
		else if (fx_uniform(0, 1) < 0.05)
			skip2 = (int)fx_uniform(3, 9.99);
		else
			fx_sample(f, 5, CAR, x2 + fx_uniform(-2, 2),
				  LANE2_Y + fx_uniform(-2, 2), 8,
				  (float)(270 + fx_uniform(-10, 10)),
				  V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, -1), 0);
	fx_fini(f);
	free(f);
}

/*
 * A map whose westbound lane has the id 0 (a valid id): lane 0 at
 * y = +1.75 and lane 3 eastbound at y = -1.75, x 0..1000.  The track's
 * entry is created by the detectors that run before this one, zeroed:
 * its "previous lane" was 0 before its first sample here, and the first
 * sample was re-matched preferring lane 0 - a right-way car 0.95 m left of
 * lane 3's centre (2.55 m from lane 0's, inside its 1 m tolerance) was
 * put in lane 0, against it, and kept there: a wrong-way event.
 */
static void test_lane_id_zero_is_no_previous_lane(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static char json[4096];
	struct roadmap *m = NULL;
	char err[256];
	double x = 100;
	int i;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, NULL), 0);
	snprintf(json, sizeof(json),
		 "{\"type\": \"FeatureCollection\", \"reference\": {\"lat\": %.7f, \"lon\": %.7f},\n"
		 " \"features\": [", REF_LAT, REF_LON);
	fx_lane(json, sizeof(json),
		"\"lane_id\": 0, \"segment_id\": 20, \"direction\": \"backward\", \"speed_limit_kph\": 50, \"width_m\": 3.5",
		0, LANE2_Y, 1000, LANE2_Y);
	fx_lane(json, sizeof(json),
		"\"lane_id\": 3, \"segment_id\": 10, \"direction\": \"forward\", \"speed_limit_kph\": 50, \"width_m\": 3.5",
		0, LANE3_Y, 1000, LANE3_Y);
	strncat(json, "\n]}\n", sizeof(json) - strlen(json) - 1);
	assert_int_equal(roadmap_load_string(json, "lane0", NULL, NULL, &m,
					     err, sizeof(err)), 0);
	roadmap_free(f->map);
	f->map = m;
	f->env.map = m;
	for (i = 0; i < 50; i++) {
		x += 10.0 * 0.1;
		fx_sample(f, 9, CAR, x, LANE3_Y + 0.95, 10, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, -1), 0);
	/* The same car in lane 0, heading east: raised (lane 0 is a lane). */
	for (i = 0; i < 30; i++) {
		x += 10.0 * 0.1;
		fx_sample(f, 9, CAR, x, LANE2_Y, 10, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	assert_int_equal(fx_count(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW), 1);
	assert_int_equal(fx_first(f, V2X_EVT_WRONG_WAY, V2X_EVT_NEW)->lane, 0);
	fx_fini(f);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap_over_turn_is_no_evidence),
		cmocka_unit_test(test_one_sample_after_gap_counts_one_interval),
		cmocka_unit_test(test_drive_off_counts_its_first_sample),
		cmocka_unit_test(test_bsm_against_lane_raised_in_time),
		cmocka_unit_test(test_first_sample_of_track_counts),
		cmocka_unit_test(test_right_way_noise_and_gaps),
		cmocka_unit_test(test_lane_id_zero_is_no_previous_lane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
