/* SPDX-License-Identifier: MIT */
/*
 * tracks_test.c - track table: insert/update/expiry, unit conversion and
 * unavailable values, capacity, 100,000 tracks, neighbour queries against
 * brute force, history ordering, reference changes.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "v2x/error.h"
#include "geohash.h"
#include "tracks.h"

#define assert_near(a, b, eps)                                                 \
	do {                                                                   \
		double a_ = (a), b_ = (b);                                     \
		if (!(fabs(a_ - b_) <= (eps)))                                 \
			fail_msg("%s = %.9f, want %.9f +- %g", #a, a_, b_,     \
				 (double)(eps));                               \
	} while (0)

#define REF_LAT 48.1351
#define REF_LON 11.5820
#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (1700000000ULL * SEC)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static double rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A BSM at (east, north) metres from the reference, moving. */
static struct v2x_bsm make_bsm(uint32_t id, double east, double north, uint64_t ts)
{
	struct v2x_bsm b;
	struct enu_ref ref;
	double lat, lon, h;

	memset(&b, 0, sizeof(b));
	enu_init(&ref, REF_LAT, REF_LON, 0);
	enu_to_geo(&ref, east, north, 0, &lat, &lon, &h);
	b.id = id;
	b.ts_ns = ts;
	b.lat = (int32_t)lround(lat * 1e7);
	b.lon = (int32_t)lround(lon * 1e7);
	b.elev = V2X_ELEV_UNAVAILABLE;
	b.speed = 500;        /* 10 m/s */
	b.heading = 7200;     /* 90 deg */
	b.accel_long = -150;  /* -1.5 m/s2 */
	b.length_cm = 450;
	b.width_cm = 180;
	return b;
}

/* Everything the public API can see agrees with itself. */
static void check_consistent(struct track_table *tt)
{
	uint32_t cursor = 0, n = 0;
	struct track *t;
	const struct track **near;
	int nn;

	while ((t = track_table_next(tt, &cursor)) != NULL) {
		assert_ptr_equal(track_table_find(tt, t->key), t);
		assert_true(t->tt_index < track_table_capacity(tt));
		assert_true(t->hist_len >= 1 && t->hist_len <= TRACK_HIST);
		assert_memory_equal(track_hist(t, 0), &t->cur, sizeof(t->cur));
		n++;
	}
	assert_int_equal(n, track_table_count(tt));
	/* A query covering everything finds every track exactly once. */
	near = calloc(n + 1, sizeof(*near));
	assert_non_null(near);
	nn = track_table_near(tt, 0, 0, 1e8, near, (int)n + 1);
	assert_int_equal(nn, (int)n);
	free(near);
}

static void test_insert_update_expire(void **state)
{
	struct enu_ref ref;
	struct track_table *tt;
	struct v2x_bsm b = make_bsm(0x1234, 0, 0, T0);
	struct track *t, *t2;
	struct track_table_stats st;
	char gh[8];
	uint64_t id;

	tt = track_table_new(16, NULL);
	assert_non_null(tt);
	assert_null(track_table_ref(tt));
	t = track_table_update_bsm(tt, &b, 5 * SEC);
	assert_non_null(t);
	assert_non_null(track_table_ref(tt));
	/* The reference was taken from this first position. */
	assert_near(t->cur.x, 0, 1e-6);
	assert_near(t->cur.y, 0, 1e-6);
	assert_int_equal(track_table_count(tt), 1);
	assert_int_equal(t->kind, TRACK_V2X);
	assert_int_equal(t->key, track_key_v2x(0x1234));
	assert_int_equal(t->temp_id, 0x1234);
	assert_int_equal(t->sources, V2X_SRC_V2X);
	assert_int_equal(t->cls, V2X_CLASS_CAR);
	assert_near(t->cur.speed_mps, 10.0, 1e-6);
	assert_near(t->cur.heading_deg, 90.0, 1e-6);
	assert_near(t->cur.accel_mps2, -1.5, 1e-6);
	assert_near(t->length_m, 4.5, 1e-6);
	assert_near(t->width_m, 1.8, 1e-6);
	assert_int_equal(t->first_ns, T0);
	assert_int_equal(t->last_ns, T0);
	assert_int_equal(t->last_rx_ns, 5 * SEC);
	assert_int_equal(t->hist_len, 1);
	assert_int_equal(geohash_encode(b.lat * 1e-7, b.lon * 1e-7, 7, gh), 7);
	assert_string_equal(t->geohash, gh);
	id = t->id;
	assert_true(id != 0);

	/* Update: same track, same id, new position (ENU from the reference). */
	b = make_bsm(0x1234, 30, -40, T0 + 100 * MS);
	t2 = track_table_update_bsm(tt, &b, 5 * SEC + 100 * MS);
	assert_ptr_equal(t2, t);
	assert_int_equal(t->id, id);
	assert_near(t->cur.x, 30, 0.02);
	assert_near(t->cur.y, -40, 0.02);
	assert_int_equal(t->hist_len, 2);
	assert_int_equal(t->first_ns, T0);
	assert_int_equal(t->last_ns, T0 + 100 * MS);

	/* A second vehicle, later. */
	b = make_bsm(0x99, 500, 500, T0 + 2 * SEC);
	assert_non_null(track_table_update_bsm(tt, &b, 7 * SEC));
	assert_int_equal(track_table_count(tt), 2);
	check_consistent(tt);

	/* Silence 1 s: at 6.0 s the first (last rx 5.1 s) is not yet expired. */
	assert_int_equal(track_table_expire(tt, 6 * SEC, SEC, NULL, NULL), 0);
	assert_int_equal(track_table_expire(tt, 6 * SEC + 100 * MS, SEC, NULL, NULL), 1);
	assert_null(track_table_find(tt, track_key_v2x(0x1234)));
	assert_non_null(track_table_find(tt, track_key_v2x(0x99)));
	assert_int_equal(track_table_count(tt), 1);
	check_consistent(tt);

	/* The same vehicle again is a new track with a new id. */
	b = make_bsm(0x1234, 0, 0, T0 + 3 * SEC);
	t = track_table_update_bsm(tt, &b, 7 * SEC);
	assert_non_null(t);
	assert_true(t->id > id);
	assert_int_equal(t->hist_len, 1);

	track_table_get_stats(tt, &st);
	assert_int_equal(st.created, 3);
	assert_int_equal(st.expired, 1);
	assert_int_equal(track_table_remove(tt, track_key_v2x(0x1234)), 0);
	assert_int_equal(track_table_remove(tt, track_key_v2x(0x1234)), -ENOENT);
	assert_int_equal(track_table_count(tt), 1);
	check_consistent(tt);
	track_table_free(tt);
	track_table_free(NULL);
	(void)ref;
}

static void count_expired(void *ctx, const struct track *t)
{
	uint64_t *n = ctx;

	assert_true(t->key != 0);
	(*n)++;
}

static void test_unavailable_values(void **state)
{
	struct track_table *tt = track_table_new(8, NULL);
	struct v2x_bsm b = make_bsm(7, 0, 0, T0);
	struct track_table_stats st;
	struct track *t;

	assert_non_null(tt);
	/* Unknown speed and heading on the first sample: 0; accel NAN. */
	b.speed = V2X_SPEED_UNAVAILABLE;
	b.heading = V2X_HEADING_UNAVAILABLE;
	b.accel_long = V2X_ACCEL_UNAVAILABLE;
	t = track_table_update_bsm(tt, &b, SEC);
	assert_non_null(t);
	assert_near(t->cur.speed_mps, 0, 0);
	assert_near(t->cur.heading_deg, 0, 0);
	assert_true(isnan(t->cur.accel_mps2));

	/* 10 m north-east in 0.5 s: derived 28.28 m/s, heading 45 deg. */
	b = make_bsm(7, 10, 10, T0 + 500 * MS);
	b.speed = V2X_SPEED_UNAVAILABLE;
	b.heading = V2X_HEADING_UNAVAILABLE;
	t = track_table_update_bsm(tt, &b, SEC + 500 * MS);
	assert_near(t->cur.speed_mps, sqrt(200) / 0.5, 0.05);
	assert_near(t->cur.heading_deg, 45, 0.1);
	/* A known speed, then unknown with a 10 s gap: the previous is kept. */
	b = make_bsm(7, 20, 10, T0 + 1 * SEC);
	b.speed = 250;
	b.heading = 1000;
	t = track_table_update_bsm(tt, &b, 2 * SEC);
	assert_near(t->cur.speed_mps, 5.0, 1e-6);
	assert_near(t->cur.heading_deg, 12.5, 1e-6);
	b = make_bsm(7, 20.3, 10, T0 + 11 * SEC);
	b.speed = V2X_SPEED_UNAVAILABLE;
	b.heading = V2X_HEADING_UNAVAILABLE;
	t = track_table_update_bsm(tt, &b, 12 * SEC);
	assert_near(t->cur.speed_mps, 5.0, 1e-6);
	/* Moved only 0.3 m: heading kept. */
	assert_near(t->cur.heading_deg, 12.5, 1e-6);
	/* Heading west, derived: 270. */
	b = make_bsm(7, 0, 10, T0 + 12 * SEC);
	b.heading = V2X_HEADING_UNAVAILABLE;
	t = track_table_update_bsm(tt, &b, 13 * SEC);
	assert_near(t->cur.heading_deg, 270, 0.1);

	/* Unavailable or out of range position: rejected, nothing created. */
	b = make_bsm(8, 0, 0, T0);
	b.lat = V2X_LAT_UNAVAILABLE;
	assert_null(track_table_update_bsm(tt, &b, 13 * SEC));
	b = make_bsm(8, 0, 0, T0);
	b.lon = V2X_LON_UNAVAILABLE;
	assert_null(track_table_update_bsm(tt, &b, 13 * SEC));
	b.lon = INT32_MIN;
	assert_null(track_table_update_bsm(tt, &b, 13 * SEC));
	assert_null(track_table_find(tt, track_key_v2x(8)));
	track_table_get_stats(tt, &st);
	assert_int_equal(st.bad_position, 3);
	assert_int_equal(track_table_count(tt), 1);

	/* Out of range speed values are unknown too; a long vehicle is a truck. */
	b = make_bsm(9, 0, 0, T0);
	b.speed = 60000;
	b.heading = 40000;
	b.accel_long = -3000;
	b.length_cm = 1650;
	t = track_table_update_bsm(tt, &b, 13 * SEC);
	assert_non_null(t);
	assert_near(t->cur.speed_mps, 0, 0);
	assert_true(isnan(t->cur.accel_mps2));
	assert_int_equal(t->cls, V2X_CLASS_TRUCK);
	track_table_free(tt);
}

static void test_stale_and_time(void **state)
{
	struct track_table *tt = track_table_new(8, NULL);
	struct v2x_bsm b = make_bsm(1, 0, 0, T0 + SEC);
	struct track_table_stats st;
	struct track *t;

	assert_non_null(tt);
	t = track_table_update_bsm(tt, &b, 10 * SEC);
	/* An older datagram arriving late does not move the track back. */
	b = make_bsm(1, 100, 0, T0);
	assert_ptr_equal(track_table_update_bsm(tt, &b, 11 * SEC), t);
	assert_near(t->cur.x, 0, 1e-6);
	assert_int_equal(t->hist_len, 1);
	assert_int_equal(t->last_rx_ns, 11 * SEC);
	/* A duplicate (same time) neither. */
	b = make_bsm(1, 100, 0, T0 + SEC);
	assert_ptr_equal(track_table_update_bsm(tt, &b, 11 * SEC), t);
	assert_int_equal(t->hist_len, 1);
	track_table_get_stats(tt, &st);
	assert_int_equal(st.stale, 2);
	/* Unknown sender time: extrapolated by the receive clock. */
	b = make_bsm(1, 1, 0, 0);
	assert_ptr_equal(track_table_update_bsm(tt, &b, 11 * SEC + 200 * MS), t);
	assert_int_equal(t->cur.t_ns, T0 + SEC + 200 * MS);
	assert_int_equal(t->hist_len, 2);
	track_table_free(tt);
}

/* A mass silence is expired a bounded number at a time, nothing lost. */
static void test_expire_some(void **state)
{
	struct track_table *tt = track_table_new(64, NULL);
	struct v2x_bsm b;
	uint64_t expired = 0;

	(void)state;
	assert_non_null(tt);
	for (uint32_t i = 0; i < 10; i++) {
		b = make_bsm(300 + i, i * 10.0, 0, T0);
		assert_non_null(track_table_update_bsm(tt, &b, SEC));
	}
	b = make_bsm(400, 0, 50, T0);
	assert_non_null(track_table_update_bsm(tt, &b, 3 * SEC)); /* still talking */
	assert_int_equal(track_table_expire_some(tt, 3 * SEC, SEC, 4, count_expired,
						 &expired), 4);
	assert_int_equal(track_table_count(tt), 7);
	check_consistent(tt);
	assert_int_equal(track_table_expire_some(tt, 3 * SEC, SEC, 4, count_expired,
						 &expired), 4);
	assert_int_equal(track_table_expire_some(tt, 3 * SEC, SEC, 4, count_expired,
						 &expired), 2);
	assert_int_equal(track_table_expire_some(tt, 3 * SEC, SEC, 4, count_expired,
						 &expired), 0);
	assert_int_equal(expired, 10);
	assert_int_equal(track_table_count(tt), 1);
	assert_non_null(track_table_find(tt, track_key_v2x(400)));
	check_consistent(tt);
	track_table_free(tt);
}

/*
 * The incremental scan: a share of the table per call from where the last
 * one stopped, at most max removals, the rest of a stopped scan reported
 * in *left; repeated calls expire every silent track and no other.
 */
static void test_expire_scan(void **state)
{
	struct track_table *tt = track_table_new(64, NULL);
	struct v2x_bsm b;
	uint64_t expired = 0;
	uint32_t left, span, total = 0;
	int calls = 0;

	(void)state;
	assert_non_null(tt);
	for (uint32_t i = 0; i < 20; i++) {
		b = make_bsm(500 + i, i * 10.0, 0, T0);
		/* Every third one keeps talking. */
		assert_non_null(track_table_update_bsm(tt, &b,
						       i % 3 ? SEC : 3 * SEC));
	}
	span = track_table_span(tt);
	assert_int_equal(span, 20);
	/* A scan of 5 entries looks at 5, not the table. */
	assert_true(track_table_expire_scan(tt, 3 * SEC, SEC, 5, 100, &left,
					    count_expired, &expired) <= 5);
	assert_int_equal(left, 0);
	total += (uint32_t)expired;
	/* At most 2 removals: it stops there and says what it did not see. */
	expired = 0;
	assert_int_equal(track_table_expire_scan(tt, 3 * SEC, SEC, span, 2, &left,
						 count_expired, &expired), 2);
	assert_true(left > 0 && left < span);
	total += (uint32_t)expired;
	/* Going on covers the rest: 13 silent in all, 7 kept. */
	while (total < 13 && calls++ < 100) {
		expired = 0;
		track_table_expire_scan(tt, 3 * SEC, SEC, 4, 3, &left,
					count_expired, &expired);
		assert_true(expired <= 3);
		total += (uint32_t)expired;
		check_consistent(tt);
	}
	assert_int_equal(total, 13);
	assert_int_equal(track_table_count(tt), 7);
	for (uint32_t i = 0; i < 20; i += 3)
		assert_non_null(track_table_find(tt, track_key_v2x(500 + i)));
	expired = 0;
	assert_int_equal(track_table_expire_scan(tt, 3 * SEC, SEC, span, 100, &left,
						 count_expired, &expired), 0);
	assert_int_equal(left, 0);
	track_table_free(tt);
}

static void test_capacity_full(void **state)
{
	struct track_table *tt;
	struct track_table_stats st;
	struct v2x_bsm b;
	uint64_t expired = 0;

	assert_null(track_table_new(0, NULL));
	assert_null(track_table_new(TRACK_CAPACITY_MAX + 1, NULL));
	tt = track_table_new(5, NULL);
	assert_non_null(tt);
	assert_int_equal(track_table_capacity(tt), 5);
	for (uint32_t i = 0; i < 5; i++) {
		b = make_bsm(100 + i, i * 10.0, 0, T0);
		assert_non_null(track_table_update_bsm(tt, &b, SEC + i));
	}
	/* Full: a new road user is refused, the table is unchanged. */
	b = make_bsm(999, 0, 0, T0);
	assert_null(track_table_update_bsm(tt, &b, 2 * SEC));
	assert_null(track_table_find(tt, track_key_v2x(999)));
	assert_int_equal(track_table_count(tt), 5);
	track_table_get_stats(tt, &st);
	assert_int_equal(st.full, 1);
	check_consistent(tt);
	/* Existing tracks can still be updated. */
	b = make_bsm(102, 25, 5, T0 + SEC);
	assert_non_null(track_table_update_bsm(tt, &b, 3 * SEC));
	check_consistent(tt);
	/* After an expiry there is room again. */
	assert_int_equal(track_table_expire(tt, 2 * SEC + 5, SEC, count_expired,
					    &expired), 4);
	assert_int_equal(expired, 4);
	assert_int_equal(track_table_count(tt), 1);
	b = make_bsm(999, 0, 0, T0);
	assert_non_null(track_table_update_bsm(tt, &b, 4 * SEC));
	check_consistent(tt);
	track_table_free(tt);
}

static void test_sensor_objects(void **state)
{
	struct track_table *tt;
	struct enu_ref ref;
	struct v2x_object o = { 0 };
	struct v2x_bsm b = make_bsm(42, 0, 0, T0);
	struct track *ts, *tv;
	double lat, lon, h;

	enu_init(&ref, REF_LAT, REF_LON, 0);
	tt = track_table_new(8, &ref);
	assert_non_null(tt);
	enu_to_geo(&ref, -12, 7, 0, &lat, &lon, &h);
	o.id = 42;
	o.cls = V2X_CLASS_PEDESTRIAN;
	o.lat = (int32_t)lround(lat * 1e7);
	o.lon = (int32_t)lround(lon * 1e7);
	o.speed = 70;
	o.heading = 14400;
	o.length_cm = 50;
	o.width_cm = 60;
	ts = track_table_update_object(tt, 3, T0, &o, SEC);
	tv = track_table_update_bsm(tt, &b, SEC);
	assert_non_null(ts);
	assert_non_null(tv);
	/* Same numeric id, different sources: different tracks. */
	assert_ptr_not_equal(ts, tv);
	assert_true(ts->id != tv->id);
	assert_int_equal(ts->kind, TRACK_SENSOR);
	assert_int_equal(ts->sensor_id, 3);
	assert_int_equal(ts->temp_id, 42);
	assert_int_equal(ts->key, track_key_sensor(3, 42));
	assert_int_equal(ts->sources, V2X_SRC_SENSOR);
	assert_int_equal(ts->cls, V2X_CLASS_PEDESTRIAN);
	/* The configured reference is used, not the first position. */
	assert_near(ts->cur.x, -12, 0.02);
	assert_near(ts->cur.y, 7, 0.02);
	assert_near(ts->cur.speed_mps, 1.4, 1e-6);
	assert_near(ts->cur.heading_deg, 180, 1e-6);
	/* Another sensor seeing its own object 42 is yet another track. */
	assert_ptr_not_equal(track_table_update_object(tt, 4, T0, &o, SEC), ts);
	assert_int_equal(track_table_count(tt), 3);
	/* An invalid class is stored as unknown. */
	o.id = 43;
	o.cls = 200;
	ts = track_table_update_object(tt, 3, T0, &o, SEC);
	assert_int_equal(ts->cls, V2X_CLASS_UNKNOWN);
	check_consistent(tt);

	/* The sensor renames object 42 to 77: the same track, id and all. */
	ts = track_table_find(tt, track_key_sensor(3, 42));
	assert_non_null(ts);
	{
		uint64_t id = ts->id;

		assert_int_equal(track_table_rekey(tt, ts, track_key_sensor(3, 77), 77), 0);
		assert_null(track_table_find(tt, track_key_sensor(3, 42)));
		assert_ptr_equal(track_table_find(tt, track_key_sensor(3, 77)), ts);
		assert_int_equal(ts->id, id);
		assert_int_equal(ts->temp_id, 77);
		check_consistent(tt);
		o.id = 77;
		o.cls = V2X_CLASS_PEDESTRIAN;
		assert_ptr_equal(track_table_update_object(tt, 3, T0 + SEC, &o, 2 * SEC), ts);
		assert_int_equal(ts->hist_len, 2);
	}
	/* Onto a key that has a track: refused, nothing changes. */
	assert_int_equal(track_table_rekey(tt, ts, track_key_sensor(3, 43), 43), -EEXIST);
	assert_ptr_equal(track_table_find(tt, track_key_sensor(3, 77)), ts);
	check_consistent(tt);
	track_table_free(tt);
}

static void test_history_order(void **state)
{
	struct track_table *tt = track_table_new(4, NULL);
	struct track *t = NULL;
	const int n = TRACK_HIST + 13;

	assert_non_null(tt);
	for (int i = 0; i < n; i++) {
		struct v2x_bsm b = make_bsm(5, i * 1.0, 0, T0 + (uint64_t)i * 100 * MS);

		t = track_table_update_bsm(tt, &b, SEC + (uint64_t)i * 100 * MS);
		assert_non_null(t);
		assert_int_equal(t->hist_len, i + 1 < TRACK_HIST ? i + 1 : TRACK_HIST);
	}
	assert_int_equal(t->hist_len, TRACK_HIST);
	for (unsigned age = 0; age < TRACK_HIST; age++) {
		const struct track_sample *s = track_hist(t, age);
		int i = n - 1 - (int)age;

		assert_non_null(s);
		assert_int_equal(s->t_ns, T0 + (uint64_t)i * 100 * MS);
		assert_near(s->x, i * 1.0, 0.02);
	}
	assert_null(track_hist(t, TRACK_HIST));
	assert_int_equal(t->first_ns, T0);
	track_table_free(tt);
}

static void test_set_ref(void **state)
{
	struct track_table *tt = track_table_new(4, NULL);
	struct enu_ref ref;
	struct v2x_bsm b;
	struct track *t;
	const struct track *near[4];

	assert_non_null(tt);
	b = make_bsm(1, 100, 200, T0);
	t = track_table_update_bsm(tt, &b, SEC);
	b = make_bsm(1, 110, 200, T0 + SEC);
	t = track_table_update_bsm(tt, &b, 2 * SEC);
	assert_near(t->cur.x, 10, 0.02);
	/* Move the reference to the generator's origin: positions follow. */
	enu_init(&ref, REF_LAT, REF_LON, 0);
	track_table_set_ref(tt, &ref);
	assert_near(t->cur.x, 110, 0.02);
	assert_near(t->cur.y, 200, 0.02);
	assert_near(track_hist(t, 1)->x, 100, 0.02);
	assert_int_equal(track_table_near(tt, 110, 200, 1, near, 4), 1);
	assert_int_equal(track_table_near(tt, 10, 0, 1, near, 4), 0);
	track_table_free(tt);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a;
	uintptr_t y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

static void test_near_vs_brute_force(void **state)
{
	enum { N = 3000 };
	struct enu_ref ref;
	struct track_table *tt;
	const struct track **got = calloc(N, sizeof(*got));
	const struct track **want = calloc(N, sizeof(*want));
	uint64_t now = SEC;

	assert_non_null(got);
	assert_non_null(want);
	enu_init(&ref, REF_LAT, REF_LON, 0);
	tt = track_table_new(N, &ref);
	assert_non_null(tt);
	/* Random positions in a 3 km square, then random moves and expiries. */
	for (int round = 0; round < 6; round++) {
		for (uint32_t i = 0; i < N; i++) {
			struct v2x_bsm b;

			if (rnd() < 0.3)
				continue;
			b = make_bsm(i, rnd() * 3000 - 1500, rnd() * 3000 - 1500,
				     T0 + (uint64_t)round * SEC + i);
			assert_non_null(track_table_update_bsm(tt, &b, now + i));
		}
		now += SEC;
		track_table_expire(tt, now, 1500 * MS, NULL, NULL);
		for (int q = 0; q < 200; q++) {
			double x = rnd() * 3400 - 1700, y = rnd() * 3400 - 1700;
			double r = q % 10 == 0 ? rnd() * 1000 : rnd() * 120;
			uint32_t cursor = 0;
			struct track *t;
			int ng, nw = 0;

			ng = track_table_near(tt, x, y, r, got, N);
			assert_true(ng >= 0);
			while ((t = track_table_next(tt, &cursor)) != NULL) {
				if (hypot(t->cur.x - x, t->cur.y - y) <= r)
					want[nw++] = t;
			}
			assert_int_equal(ng, nw);
			qsort(got, (size_t)ng, sizeof(*got), cmp_ptr);
			qsort(want, (size_t)nw, sizeof(*want), cmp_ptr);
			assert_memory_equal(got, want, (size_t)nw * sizeof(*got));
			/* The output is capped at max. */
			if (nw > 2)
				assert_int_equal(track_table_near(tt, x, y, r, got, 2), 2);
		}
		check_consistent(tt);
	}
	assert_int_equal(track_table_near(tt, 0, 0, -1, got, N), V2X_E_RANGE);
	assert_int_equal(track_table_near(tt, 0, 0, NAN, got, N), V2X_E_RANGE);
	assert_int_equal(track_table_near(tt, NAN, 0, 10, got, N), V2X_E_RANGE);
	assert_int_equal(track_table_near(tt, 0, 0, 10, got, 0), 0);
	track_table_free(tt);
	free(got);
	free(want);
}

static void test_100k(void **state)
{
	enum { N = 100000 };
	struct track_table *tt = track_table_new(N, NULL);
	uint64_t *ids = calloc(N, sizeof(*ids));
	uint64_t expired = 0;
	uint32_t alive = 0;

	assert_non_null(tt);
	assert_non_null(ids);
	/* Insert 100,000 road users spread over 20 km x 20 km. */
	for (uint32_t i = 0; i < N; i++) {
		struct v2x_bsm b = make_bsm(i * 2654435761u, rnd() * 20000 - 10000,
					    rnd() * 20000 - 10000, T0);
		struct track *t = track_table_update_bsm(tt, &b, SEC);

		assert_non_null(t);
		ids[i] = t->id;
	}
	assert_int_equal(track_table_count(tt), N);
	/* Table full: one more is refused. */
	{
		struct v2x_bsm b = make_bsm(7, 0, 0, T0);

		assert_null(track_table_update_bsm(tt, &b, SEC));
	}
	/* Update the even ones twice (moving them), leave the odd ones silent. */
	for (int k = 1; k <= 2; k++) {
		for (uint32_t i = 0; i < N; i += 2) {
			struct v2x_bsm b = make_bsm(i * 2654435761u, rnd() * 20000 - 10000,
						    rnd() * 20000 - 10000,
						    T0 + (uint64_t)k * SEC);
			struct track *t = track_table_update_bsm(tt, &b, SEC + (uint64_t)k * SEC);

			assert_non_null(t);
			assert_int_equal(t->id, ids[i]);
			assert_int_equal(t->hist_len, k + 1);
		}
	}
	assert_int_equal(track_table_expire(tt, 3 * SEC, 2 * SEC, count_expired,
					    &expired), N / 2);
	assert_int_equal(expired, N / 2);
	assert_int_equal(track_table_count(tt), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		struct track *t = track_table_find(tt, track_key_v2x(i * 2654435761u));

		if (i % 2) {
			assert_null(t);
		} else {
			assert_non_null(t);
			assert_int_equal(t->id, ids[i]);
			alive++;
		}
	}
	assert_int_equal(alive, N / 2);
	check_consistent(tt);
	/* Refill: new ids, all distinct from every id handed out before. */
	for (uint32_t i = 1; i < N; i += 2) {
		struct v2x_bsm b = make_bsm(i * 2654435761u, 0, 0, T0 + 4 * SEC);
		struct track *t = track_table_update_bsm(tt, &b, 4 * SEC);

		assert_non_null(t);
		assert_true(t->id > ids[N - 1]);
	}
	assert_int_equal(track_table_count(tt), N);
	check_consistent(tt);
	/* Everything expires. */
	assert_int_equal(track_table_expire(tt, 100 * SEC, SEC, NULL, NULL), N);
	assert_int_equal(track_table_count(tt), 0);
	check_consistent(tt);
	track_table_free(tt);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_update_expire),
		cmocka_unit_test(test_unavailable_values),
		cmocka_unit_test(test_stale_and_time),
		cmocka_unit_test(test_capacity_full),
		cmocka_unit_test(test_expire_some),
		cmocka_unit_test(test_expire_scan),
		cmocka_unit_test(test_sensor_objects),
		cmocka_unit_test(test_history_order),
		cmocka_unit_test(test_set_ref),
		cmocka_unit_test(test_near_vs_brute_force),
		cmocka_unit_test(test_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
