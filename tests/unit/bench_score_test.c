/* SPDX-License-Identifier: MIT */
/*
 * bench_score_test.c - the accuracy scorer's matching rule
 * (bench/bench_score.c) on hand-written truth lines and event transitions.
 *
 * - A congestion event covers every congestion incident of its segment
 *   that it stood through (first to last transition), with or without a
 *   transition inside the incident's window (measured: highway seed 5's
 *   incident 19, a second closure on incident 5's lanes 191 s after the
 *   segment's one event opened; the score kept that event's first 32 of
 *   69 transitions, all before incident 19's window).  It is still one
 *   event for precision.
 * - Not: an event of another segment far away, one cleared before the
 *   window, one opened after it, nor an event of another type standing
 *   through its window (only its `new` places it).
 */
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

#include "bench_score.h"
#include "v2x/msg.h"

#define T0 1000000000000000000ull
#define S(sec) (T0 + (uint64_t)((sec) * 1e9))

/* Where the incidents are; FAR is ~2.2 km away, beyond the congestion
 * radius (1000 m). */
#define LAT 30.5970718
#define LON 114.3134299
#define FAR_LAT (LAT + 0.02)

struct fixture {
	struct bench_score sc;
	char path[64];
	FILE *truth;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/bench_score_test.XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	f->truth = fdopen(fd, "w");
	assert_non_null(f->truth);
	bench_score_init(&f->sc, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->truth)
		fclose(f->truth);
	unlink(f->path);
	bench_score_fini(&f->sc);
	free(f);
	return 0;
}

static void incident(struct fixture *f, int id, const char *type, double start_s,
		     double detectable_s, double end_s, int segment)
{
	fprintf(f->truth,
		"{\"kind\":\"incident\",\"id\":%d,\"type\":\"%s\",\"start_ts\":%llu,"
		"\"detectable_ts\":%llu,\"end_ts\":%llu,\"lat\":%.7f,\"lon\":%.7f,"
		"\"lane\":20,\"segment\":%d,\"cause\":\"injected\","
		"\"temp_ids\":[7]}\n",
		id, type, (unsigned long long)S(start_s), (unsigned long long)S(detectable_s),
		(unsigned long long)S(end_s), LAT, LON, segment);
}

static void load(struct fixture *f, int n)
{
	fclose(f->truth);
	f->truth = NULL;
	assert_int_equal(bench_score_load_truth(&f->sc, f->path, NULL), n);
}

static void transition(struct fixture *f, uint64_t id, int type, int status, double t_s,
		       double lat, int segment)
{
	assert_int_equal(bench_score_add_event(&f->sc, id, type, status, S(t_s), lat, LON, -1,
					       segment), 0);
}

/*
 * Highway seed 5: closure 5 from 68 s, its event from 100 s with an update
 * every 4 s (60 transitions, more than the score keeps) until the run
 * ends; closure 19 on the same lanes from 259 s.  Both are detected by the
 * one event, which is one matched event.
 */
static void test_one_event_covers_two_closures(void **state)
{
	struct fixture *f = *state;
	const struct bench_type_score *ts = &f->sc.type[V2X_EVT_CONGESTION];

	incident(f, 5, "congestion", 68, 108, 300, 8);
	incident(f, 19, "congestion", 259, 259.1, 300, 8);
	load(f, 2);
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_NEW, 100, LAT, 8);
	for (int k = 1; k < 50; k++)
		transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_UPDATE, 100 + 4 * k, LAT, 8);
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_CLEARED, 302, LAT, 8);
	bench_score_run(&f->sc);
	assert_int_equal(ts->detectable, 2);
	assert_int_equal(ts->detected, 2);
	assert_int_equal(ts->events, 1);
	assert_int_equal(ts->matched_events, 1);
	assert_true(ts->precision == 1.0);
	/* Incident 19: covered from its window's start (start - 1 s). */
	assert_int_equal(f->sc.inc[1].n_matched, 1);
	assert_true(fabs(((double)f->sc.inc[1].first_event_ts - (double)S(258)) / 1e9) < 1e-6);
}

/* An event with no transition inside the window, standing through it. */
static void test_event_standing_through_window(void **state)
{
	struct fixture *f = *state;
	const struct bench_type_score *ts = &f->sc.type[V2X_EVT_CONGESTION];

	incident(f, 3, "congestion", 50, 60, 100, 8);
	load(f, 1);
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_NEW, 10, LAT, 8);
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_CLEARED, 200, LAT, 8);
	bench_score_run(&f->sc);
	assert_int_equal(ts->detected, 1);
	assert_int_equal(ts->matched_events, 1);
}

/* Must not match: another segment far away, before, after, other type. */
static void test_standing_must_not_match(void **state)
{
	struct fixture *f = *state;
	const struct bench_type_score *ts = &f->sc.type[V2X_EVT_CONGESTION];
	const struct bench_type_score *sv = &f->sc.type[V2X_EVT_STOPPED_VEHICLE];

	incident(f, 3, "congestion", 50, 60, 100, 8);
	incident(f, 4, "stopped_vehicle", 50, 60, 100, 8);
	load(f, 2);
	/* Segment 9, 2.2 km away, standing through the window. */
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_NEW, 10, FAR_LAT, 9);
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_CLEARED, 200, FAR_LAT, 9);
	/* Segment 8, cleared 1.5 s before the window opens (49 s). */
	transition(f, 2, V2X_EVT_CONGESTION, V2X_EVT_NEW, 10, LAT, 8);
	transition(f, 2, V2X_EVT_CONGESTION, V2X_EVT_CLEARED, 47.5, LAT, 8);
	/* Segment 8, opened after the grace (105 s). */
	transition(f, 3, V2X_EVT_CONGESTION, V2X_EVT_NEW, 106, LAT, 8);
	transition(f, 3, V2X_EVT_CONGESTION, V2X_EVT_CLEARED, 200, LAT, 8);
	/* A stopped vehicle opened before its window, standing through it. */
	transition(f, 4, V2X_EVT_STOPPED_VEHICLE, V2X_EVT_NEW, 10, LAT, 8);
	transition(f, 4, V2X_EVT_STOPPED_VEHICLE, V2X_EVT_CLEARED, 200, LAT, 8);
	bench_score_run(&f->sc);
	assert_int_equal(ts->detected, 0);
	assert_int_equal(ts->events, 3);
	assert_int_equal(ts->matched_events, 0);
	assert_int_equal(sv->detected, 0);
	assert_int_equal(sv->matched_events, 0);
}

/* Still raised: a transition inside the window on the segment, and one
 * within the congestion radius of another segment (a spilled-back queue);
 * a false event among them keeps precision honest. */
static void test_transitions_still_match(void **state)
{
	struct fixture *f = *state;
	const struct bench_type_score *ts = &f->sc.type[V2X_EVT_CONGESTION];

	incident(f, 3, "congestion", 50, 60, 100, 8);
	incident(f, 6, "congestion", 150, 160, 200, 8);
	load(f, 2);
	transition(f, 1, V2X_EVT_CONGESTION, V2X_EVT_NEW, 70, LAT, 8);
	transition(f, 2, V2X_EVT_CONGESTION, V2X_EVT_NEW, 170, LAT + 0.005, 7);
	transition(f, 3, V2X_EVT_CONGESTION, V2X_EVT_NEW, 120, LAT, 8);
	transition(f, 3, V2X_EVT_CONGESTION, V2X_EVT_CLEARED, 130, LAT, 8);
	bench_score_run(&f->sc);
	assert_int_equal(ts->detected, 2);
	assert_int_equal(ts->events, 3);
	assert_int_equal(ts->matched_events, 2);
	assert_true(fabs(ts->precision - 2.0 / 3.0) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_event_covers_two_closures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_standing_through_window, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_standing_must_not_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions_still_match, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
