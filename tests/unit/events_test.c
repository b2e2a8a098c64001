/* SPDX-License-Identifier: MIT */
/*
 * events_test.c - event lifecycle: one event per incident across sources
 * and keys, stable ids, update only on material change and rate-limited,
 * cleared after the hold time, no flapping under intermittent candidates,
 * capacity, congestion level changes, the payload fields.
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

struct rec {
	struct v2x_event ev[1024];
	int n;
};

static void rec_emit(void *ctx, const struct v2x_event *e)
{
	struct rec *r = ctx;

	if (r->n < 1024)
		r->ev[r->n++] = *e;
}

static int rec_count(const struct rec *r, int status)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		if (status < 0 || r->ev[i].status == status)
			n++;
	return n;
}

static struct events *mk(struct rec *r, struct detect_config *cfg)
{
	struct detect_config c;

	if (!cfg) {
		detect_config_defaults(&c);
		c.events.id_base = 500;
		cfg = &c;
	}
	memset(r, 0, sizeof(*r));
	enu_init(&fx_ref, REF_LAT, REF_LON, 0);
	return events_new(cfg, rec_emit, r);
}

/* A candidate at ENU (x, y) on lane 3 / segment 11. */
static struct det_candidate cand(uint8_t type, uint64_t key, uint64_t track,
				 double x, double y, uint8_t sources,
				 uint32_t sensor, uint64_t t)
{
	struct det_candidate c;
	double lat, lon;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.key = key;
	c.severity = 5;
	c.sources = sources;
	c.sensor_id = sensor;
	c.t_ns = t;
	fx_geo(x, y, &lat, &lon);
	c.lat = (int32_t)lrint(lat * 1e7);
	c.lon = (int32_t)lrint(lon * 1e7);
	c.lane = 3;
	c.segment = 11;
	c.confidence = 0.8f;
	c.n_tracks = 1;
	c.tracks[0] = track;
	return c;
}

/* The same stopped vehicle through its BSM track and a radar's
 * sensor-only track (not associated): one event, both sources. */
static void test_merge_across_sources(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct events_stats st;
	uint64_t t = T0;
	int i;

	(void)state;
	assert_non_null(ev);
	for (i = 0; i < 50; i++) {
		struct det_candidate a = cand(V2X_EVT_STOPPED_VEHICLE, 11, 11, 700,
					      -1.75, V2X_SRC_V2X, 0, t);
		struct det_candidate b = cand(V2X_EVT_STOPPED_VEHICLE, 77, 77,
					      701.5 + fx_uniform(-1, 1), -1.0,
					      V2X_SRC_SENSOR, 9, t + 20 * MS);

		b.confidence = 0.7f;
		events_raise(ev, &a);
		events_raise(ev, &b);
		t += STEP;
		events_tick(ev, t);
	}
	for (i = 0; i < 30; i++) {
		t += STEP;
		events_tick(ev, t);
	}
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 1);
	/* The second source is a material change: one update. */
	assert_int_equal(rec_count(&r, V2X_EVT_UPDATE), 1);
	for (i = 0; i < r.n; i++)
		assert_int_equal(r.ev[i].id, 501);
	{
		const struct v2x_event *u = &r.ev[1];

		assert_int_equal(u->status, V2X_EVT_UPDATE);
		assert_int_equal(u->sources, V2X_SRC_V2X | V2X_SRC_SENSOR);
		assert_int_equal(u->n_tracks, 2);
		assert_int_equal(u->n_sensors, 1);
		assert_int_equal(u->sensors[0], 9);
		assert_int_equal(u->type, V2X_EVT_STOPPED_VEHICLE);
		assert_int_equal(u->lane, 3);
		assert_int_equal(u->segment, 11);
		assert_int_equal(u->start_ts_ns, T0);
		assert_true(fabsf(u->confidence - 0.8f) < 1e-6f);
	}
	events_get_stats(ev, &st);
	assert_int_equal(st.raised, 100);
	assert_int_equal(st.merged, 1); /* key 77 joined once, then indexed */
	assert_int_equal(st.active, 0);
	assert_int_equal(st.published[V2X_EVT_NEW], 1);
	events_free(ev);
}

/* Two different vehicles far apart on the same lane: two events; the
 * same type on another segment next to it: a third. */
static void test_distinct_incidents(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct det_candidate a, b, c;

	(void)state;
	a = cand(V2X_EVT_STOPPED_VEHICLE, 1, 1, 700, -1.75, V2X_SRC_V2X, 0, T0);
	b = cand(V2X_EVT_STOPPED_VEHICLE, 2, 2, 800, -1.75, V2X_SRC_V2X, 0, T0);
	c = cand(V2X_EVT_STOPPED_VEHICLE, 3, 3, 700, 1.75, V2X_SRC_V2X, 0, T0);
	c.lane = 2;
	c.segment = 20;
	events_raise(ev, &a);
	events_raise(ev, &b);
	events_raise(ev, &c);
	/* Another type at the same place is another event. */
	a.type = V2X_EVT_HARD_BRAKING;
	events_raise(ev, &a);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 4);
	assert_true(r.ev[0].id != r.ev[1].id && r.ev[1].id != r.ev[2].id &&
		    r.ev[2].id != r.ev[3].id);
	events_free(ev);
}

/* Candidates sharing a track merge even far apart (a vehicle moving). */
static void test_merge_by_track(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct det_candidate a, b;

	(void)state;
	a = cand(V2X_EVT_COLLISION_RISK, 21, 21, 600, -1.75, V2X_SRC_V2X, 0, T0);
	a.n_tracks = 2;
	a.tracks[1] = 20;
	b = cand(V2X_EVT_COLLISION_RISK, 22, 22, 640, -1.75, V2X_SRC_SENSOR, 9, T0);
	b.n_tracks = 2;
	b.tracks[1] = 20;
	events_raise(ev, &a);
	events_raise(ev, &b);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	events_free(ev);
}

/* A wrong-way driver whose BSM TemporaryID changes gets a new track: the
 * new track's first candidate comes some 30 m further on and continues the
 * same event (merge_moving_m), while a stopped vehicle 30 m away is a
 * different incident. */
static void test_moving_incident_new_track(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct det_candidate a, b;

	(void)state;
	a = cand(V2X_EVT_WRONG_WAY, 1, 1, 900, -1.75, V2X_SRC_V2X, 0, T0);
	b = cand(V2X_EVT_WRONG_WAY, 2, 2, 870, -1.75, V2X_SRC_V2X, 0, T0 + SEC);
	events_raise(ev, &a);
	events_raise(ev, &b);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	/* Stopped vehicles (on the other carriageway: one near the
	 * wrong-way driver on its own segment would be reacting to it) are
	 * not wrong-way events; 100 m apart: beyond merge_queue_m, two
	 * incidents. */
	a.type = V2X_EVT_STOPPED_VEHICLE;
	a.lane = 2;
	a.segment = 20;
	b = cand(V2X_EVT_STOPPED_VEHICLE, 2, 2, 800, 1.75, V2X_SRC_V2X, 0, T0 + SEC);
	b.lane = 2;
	b.segment = 20;
	events_raise(ev, &a);
	events_raise(ev, &b);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 3);
	events_free(ev);
}

/* Vehicles stopped in the lane behind a stopped vehicle (its queue) within
 * merge_queue_m are the same incident, whatever their leader's visibility;
 * a stopped vehicle in the next lane is another incident. */
static void test_stopped_queue_one_incident(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct det_candidate a, b, c;

	(void)state;
	a = cand(V2X_EVT_STOPPED_VEHICLE, 1, 1, 900, -1.75, V2X_SRC_V2X, 0, T0);
	b = cand(V2X_EVT_STOPPED_VEHICLE, 2, 2, 870, -1.75, V2X_SRC_V2X, 0, T0 + SEC);
	c = cand(V2X_EVT_STOPPED_VEHICLE, 3, 3, 845, -1.75, V2X_SRC_SENSOR, 1, T0 + 2 * SEC);
	events_raise(ev, &a);
	events_raise(ev, &b);
	events_raise(ev, &c);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	/* The next lane of the same segment, 20 m away: another incident. */
	c = cand(V2X_EVT_STOPPED_VEHICLE, 4, 4, 880, -5.25, V2X_SRC_V2X, 0, T0 + 3 * SEC);
	c.lane = 4;
	events_raise(ev, &c);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	events_free(ev);
}

/* Vehicles stopped side by side in adjacent lanes (an obstruction across
 * two lanes, e.g. a closure the broker cannot see): one event. */
static void test_stopped_side_by_side_one_incident(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct det_candidate a, b;

	(void)state;
	a = cand(V2X_EVT_STOPPED_VEHICLE, 1, 1, 900, -1.75, V2X_SRC_V2X, 0, T0);
	b = cand(V2X_EVT_STOPPED_VEHICLE, 2, 2, 902, -5.25, V2X_SRC_SENSOR, 1, T0 + SEC);
	b.lane = 4;
	events_raise(ev, &a);
	events_raise(ev, &b);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	events_free(ev);
}

/* The leader of a near-collision stops hard: that stop is part of the
 * collision-risk incident, not a stopped-vehicle one, also just after the
 * collision risk cleared; 10 s later a vehicle standing there is again
 * its own incident. */
static void test_stop_in_collision_risk_held(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct events_stats st;
	struct det_candidate cr, sv;
	uint64_t t;

	(void)state;
	cr = cand(V2X_EVT_COLLISION_RISK, 7, 7, 880, -1.75, V2X_SRC_V2X, 0, T0);
	cr.n_tracks = 2;
	cr.tracks[1] = 8; /* the leader */
	events_raise(ev, &cr);
	sv = cand(V2X_EVT_STOPPED_VEHICLE, 8, 8, 900, -1.75, V2X_SRC_SENSOR, 1, T0 + SEC);
	events_raise(ev, &sv);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	events_get_stats(ev, &st);
	assert_int_equal(st.held, 1);
	for (t = T0 + SEC; t < T0 + 5 * SEC; t += STEP)
		events_tick(ev, t);
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 1);
	/* Just after the collision risk cleared: still its emergency stop. */
	sv.t_ns = T0 + 5 * SEC;
	events_raise(ev, &sv);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	for (; t < T0 + 16 * SEC; t += STEP)
		events_tick(ev, t);
	sv.t_ns = T0 + 16 * SEC;
	events_raise(ev, &sv);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	events_free(ev);
}

/*
 * A vehicle that braked hard to a standstill (an emergency stop: it
 * reacted to something ahead) and drives on a moment later is the hard
 * braking incident, not a stopped vehicle - while the hard braking is
 * active and for 10 s after it cleared.  Measured reason: intersection
 * seeds 1 and 2 (300 s), two connected vehicles that braked at 6.5 and
 * 8 m/s^2 to a stop, stood about a second and drove on.  Must still
 * raise: the same vehicle still standing 10 s after the hard braking
 * cleared, and another vehicle stopping beside it meanwhile.
 */
static void test_stop_after_hard_braking_held(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct events_stats st;
	struct det_candidate hb, sv, other;
	uint64_t t;

	(void)state;
	hb = cand(V2X_EVT_HARD_BRAKING, 8, 8, 880, -1.75, V2X_SRC_V2X, 0, T0);
	events_raise(ev, &hb);
	sv = cand(V2X_EVT_STOPPED_VEHICLE, 8, 8, 900, -1.75, V2X_SRC_V2X, 0,
		  T0 + SEC);
	events_raise(ev, &sv);
	/* Another vehicle (track 9) on the other side of the road: not
	 * part of it. */
	other = cand(V2X_EVT_STOPPED_VEHICLE, 9, 9, 400, 1.75, V2X_SRC_V2X, 0,
		     T0 + SEC);
	other.segment = 12;
	events_raise(ev, &other);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	assert_int_equal(r.ev[1].type, V2X_EVT_STOPPED_VEHICLE);
	assert_int_equal(r.ev[1].tracks[0], 9);
	events_get_stats(ev, &st);
	assert_int_equal(st.held, 1);
	/* Both events clear; just after, the stop is still the braking's. */
	for (t = T0 + SEC; t < T0 + 5 * SEC; t += STEP)
		events_tick(ev, t);
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 2);
	sv.t_ns = T0 + 5 * SEC;
	events_raise(ev, &sv);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	/* Still standing 10 s after the braking's event cleared: raised. */
	for (; t < T0 + 16 * SEC; t += STEP)
		events_tick(ev, t);
	sv.t_ns = T0 + 16 * SEC;
	events_raise(ev, &sv);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 3);
	assert_int_equal(r.ev[r.n - 1].type, V2X_EVT_STOPPED_VEHICLE);
	events_free(ev);
}

/* Vehicles stopping for a wrong-way driver or a pedestrian on the road
 * react to that incident: no stopped-vehicle event near it on its
 * segment; farther away, or on another segment, one. */
static void test_stop_near_wrong_way_or_vru_held(void **state)
{
	static const uint8_t types[] = { V2X_EVT_WRONG_WAY, V2X_EVT_VRU_ON_ROAD };
	struct rec r;
	struct events *ev;
	struct det_candidate a, b;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(types); k++) {
		ev = mk(&r, NULL);
		a = cand(types[k], 1, 1, 800, -1.75, V2X_SRC_SENSOR, 1, T0);
		events_raise(ev, &a);
		b = cand(V2X_EVT_STOPPED_VEHICLE, 2, 2, 770, -1.75, V2X_SRC_V2X, 0, T0 + SEC);
		events_raise(ev, &b);
		assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
		b = cand(V2X_EVT_STOPPED_VEHICLE, 3, 3, 600, -1.75, V2X_SRC_V2X, 0, T0 + SEC);
		events_raise(ev, &b);
		assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
		events_free(ev);
	}
}

/* A vehicle stopped on a segment with active congestion waits in the jam:
 * no new stopped-vehicle event there (jam_holds_stopped, when enabled); on another
 * segment it is one; a stopped-vehicle event opened before the jam goes
 * on being updated. */
static void test_stopped_in_jam_held(void **state)
{
	struct rec r;
	struct detect_config cfg;
	struct events *ev;
	struct events_stats st;
	struct det_candidate a, j, b, c;

	(void)state;
	detect_config_defaults(&cfg);
	assert_int_equal(cfg.events.jam_holds_stopped, 0); /* off by default */
	cfg.events.jam_holds_stopped = 1;
	cfg.events.id_base = 500;
	ev = mk(&r, &cfg);
	a = cand(V2X_EVT_STOPPED_VEHICLE, 1, 1, 950, -1.75, V2X_SRC_V2X, 0, T0);
	events_raise(ev, &a);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	j = cand(V2X_EVT_CONGESTION, 11, 0, 750, -1.75, V2X_SRC_V2X, 0, T0 + SEC);
	j.lane = -1;
	j.n_tracks = 0;
	j.level = V2X_CONGESTION_MODERATE;
	events_raise(ev, &j);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	/* Stopped 200 m upstream on the congested segment 11: held. */
	b = cand(V2X_EVT_STOPPED_VEHICLE, 2, 2, 750, -1.75, V2X_SRC_V2X, 0, T0 + 2 * SEC);
	events_raise(ev, &b);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	events_get_stats(ev, &st);
	assert_int_equal(st.held, 1);
	/* The first stopped vehicle is still raised: its event stays. */
	a.t_ns = T0 + 2 * SEC;
	events_raise(ev, &a);
	events_tick(ev, T0 + 2 * SEC);
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 0);
	/* Segment 20 is not congested: a new event. */
	c = cand(V2X_EVT_STOPPED_VEHICLE, 3, 3, 300, 1.75, V2X_SRC_V2X, 0, T0 + 2 * SEC);
	c.lane = 2;
	c.segment = 20;
	events_raise(ev, &c);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 3);
	events_free(ev);
}

/* Material changes only, and at most one update per min_update_ms. */
static void test_update_rate_limited(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	uint64_t t = T0;
	int i, k;

	(void)state;
	/* Moving 2 m per 100 ms (a wrong-way driver) for 10 s. */
	for (i = 0; i < 100; i++) {
		struct det_candidate c = cand(V2X_EVT_WRONG_WAY, 5, 5, 900 - 2.0 * i,
					      -1.75, V2X_SRC_V2X, 0, t);

		events_raise(ev, &c);
		t += STEP;
		events_tick(ev, t);
	}
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	k = rec_count(&r, V2X_EVT_UPDATE);
	assert_true(k >= 8 && k <= 10);
	for (i = 2; i < r.n; i++)
		assert_true(r.ev[i].ts_ns - r.ev[i - 1].ts_ns >= 1000 * MS - STEP);
	/* The same position again and again: nothing new to say. */
	k = r.n;
	for (i = 0; i < 50; i++) {
		struct det_candidate c = cand(V2X_EVT_WRONG_WAY, 5, 5, 700, -1.75,
					      V2X_SRC_V2X, 0, t);

		events_raise(ev, &c);
		t += STEP;
		events_tick(ev, t);
	}
	assert_true(r.n - k <= 1); /* at most the jump to 700 */
	events_free(ev);
}

/* Intermittent candidates with gaps shorter than the hold: one event, one
 * clear at the end; gaps longer than the hold: separate events with new
 * ids. */
static void test_no_flapping_and_clear(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	uint64_t t = T0, cleared_at = 0;
	int i;

	(void)state;
	for (i = 0; i < 600; i++) {
		/* Raised on ~half of the samples at random, never more than
		 * 1.5 s apart. */
		if (fx_uniform(0, 1) < 0.5 || i % 15 == 0) {
			struct det_candidate c = cand(V2X_EVT_SPEEDING, 9, 9, 700,
						      -1.75, V2X_SRC_SENSOR, 9, t);

			events_raise(ev, &c);
		}
		t += STEP;
		events_tick(ev, t);
	}
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 0);
	for (i = 0; i < 40 && !cleared_at; i++) {
		t += STEP;
		events_tick(ev, t);
		if (rec_count(&r, V2X_EVT_CLEARED))
			cleared_at = t;
	}
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 1);
	/* Last raise at most 1.5 s before the loop ended; hold 2 s. */
	assert_true(cleared_at - (T0 + 600 * STEP) <= 2100 * MS);
	assert_int_equal(r.ev[r.n - 1].id, r.ev[0].id);
	assert_int_equal(r.ev[r.n - 1].status, V2X_EVT_CLEARED);

	/* The same key again after the clear: a new event, a new id. */
	{
		struct det_candidate c = cand(V2X_EVT_SPEEDING, 9, 9, 700, -1.75,
					      V2X_SRC_SENSOR, 9, t);

		events_raise(ev, &c);
		assert_int_equal(r.ev[r.n - 1].status, V2X_EVT_NEW);
		assert_true(r.ev[r.n - 1].id > r.ev[0].id);
	}
	events_free(ev);
}

/* Congestion: level changes both ways are updates; severity follows. */
static void test_congestion_levels(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	static const uint8_t lv[] = { 2, 2, 3, 3, 3, 2, 2 };
	uint64_t t = T0;
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof(lv); i++) {
		for (k = 0; k < 15; k++) {
			struct det_candidate c = cand(V2X_EVT_CONGESTION, 11, 0, 750,
						      -1.75, V2X_SRC_SENSOR, 9, t);

			c.n_tracks = 0;
			c.lane = -1;
			c.level = lv[i];
			c.severity = lv[i] == 3 ? 5 : 3;
			events_raise(ev, &c);
			t += STEP;
			events_tick(ev, t);
		}
	}
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	assert_int_equal(r.ev[0].level, 2);
	assert_int_equal(r.ev[0].n_tracks, 0);
	assert_int_equal(r.ev[0].lane, -1);
	assert_int_equal(rec_count(&r, V2X_EVT_UPDATE), 2);
	assert_int_equal(r.ev[1].level, 3);
	assert_int_equal(r.ev[1].severity, 5);
	assert_int_equal(r.ev[2].level, 2);
	assert_int_equal(r.ev[2].severity, 3);
	events_free(ev);
}

/*
 * A candidate's own move_m: a congestion centroid that wanders 20 m at a
 * time (under its 50 m) is no news, one that moves farther is; without
 * move_m (a stopped vehicle) update_move_m (5 m) still rules.
 */
static void test_candidate_move_threshold(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	uint64_t t = T0;
	int k;

	(void)state;
	for (k = 0; k < 40; k++) {
		/* 20 m back and forth, each 1.1 s (past min_update_ms) */
		struct det_candidate c = cand(V2X_EVT_CONGESTION, 11, 0,
					      750 + (k & 1) * 20.0, -1.75,
					      V2X_SRC_SENSOR, 9, t);

		c.n_tracks = 0;
		c.lane = -1;
		c.level = 2;
		c.move_m = 50.0f;
		events_raise(ev, &c);
		t += 1100 * MS;
		events_tick(ev, t);
	}
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 1);
	assert_int_equal(rec_count(&r, V2X_EVT_UPDATE), 0);
	{
		struct det_candidate c = cand(V2X_EVT_CONGESTION, 11, 0, 810,
					      -1.75, V2X_SRC_SENSOR, 9, t);

		c.n_tracks = 0;
		c.lane = -1;
		c.level = 2;
		c.move_m = 50.0f;
		events_raise(ev, &c);
	}
	assert_int_equal(rec_count(&r, V2X_EVT_UPDATE), 1);

	/* The same wandering with the default threshold: updates. */
	for (k = 0; k < 10; k++) {
		struct det_candidate c = cand(V2X_EVT_STOPPED_VEHICLE, 21, 21,
					      300 + (k & 1) * 20.0, -1.75,
					      V2X_SRC_V2X, 0, t);

		events_raise(ev, &c);
		t += 1100 * MS;
		events_tick(ev, t);
	}
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 2);
	assert_int_equal(rec_count(&r, V2X_EVT_UPDATE), 1 + 9);
	events_free(ev);
}

static void test_capacity_and_bad_input(void **state)
{
	struct detect_config cfg;
	struct events_stats st;
	struct rec r;
	struct events *ev;
	int i;

	(void)state;
	detect_config_defaults(&cfg);
	cfg.events.max_events = 3;
	cfg.events.id_base = 1;
	ev = mk(&r, &cfg);
	assert_non_null(ev);
	for (i = 0; i < 5; i++) {
		struct det_candidate c = cand(V2X_EVT_VRU_ON_ROAD, (uint64_t)i, (uint64_t)i,
					      520 + 100.0 * i, -1.75, V2X_SRC_SENSOR, 9, T0);

		events_raise(ev, &c);
	}
	{
		struct det_candidate c = cand(V2X_EVT_TYPE_COUNT, 1, 1, 700, -1.75,
					      V2X_SRC_SENSOR, 9, T0);

		events_raise(ev, &c);
		events_raise(ev, NULL);
	}
	events_get_stats(ev, &st);
	assert_int_equal(st.active, 3);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(rec_count(&r, V2X_EVT_NEW), 3);
	/* Slots come back after the clear. */
	events_tick(ev, T0 + 100 * MS);
	events_tick(ev, T0 + 3 * SEC);
	events_get_stats(ev, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(rec_count(&r, V2X_EVT_CLEARED), 3);
	events_free(ev);
	events_free(NULL);
	assert_null(events_new(&cfg, NULL, NULL));
}

static void count_cb(void *ctx, const struct v2x_event *e)
{
	(*(int *)ctx)++;
	assert_int_equal(e->status, V2X_EVT_NEW);
}

static void test_foreach(void **state)
{
	struct rec r;
	struct events *ev = mk(&r, NULL);
	struct det_candidate a = cand(V2X_EVT_WRONG_WAY, 1, 1, 700, -1.75, V2X_SRC_V2X, 0, T0);
	struct det_candidate b = cand(V2X_EVT_SPEEDING, 2, 2, 800, -1.75, V2X_SRC_V2X, 0, T0);
	int n = 0;

	(void)state;
	events_raise(ev, &a);
	events_raise(ev, &b);
	assert_int_equal(events_foreach(ev, count_cb, &n), 2);
	assert_int_equal(n, 2);
	events_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_across_sources),
		cmocka_unit_test(test_distinct_incidents),
		cmocka_unit_test(test_merge_by_track),
		cmocka_unit_test(test_moving_incident_new_track),
		cmocka_unit_test(test_stopped_queue_one_incident),
		cmocka_unit_test(test_stopped_side_by_side_one_incident),
		cmocka_unit_test(test_stop_in_collision_risk_held),
		cmocka_unit_test(test_stop_after_hard_braking_held),
		cmocka_unit_test(test_stop_near_wrong_way_or_vru_held),
		cmocka_unit_test(test_stopped_in_jam_held),
		cmocka_unit_test(test_update_rate_limited),
		cmocka_unit_test(test_no_flapping_and_clear),
		cmocka_unit_test(test_congestion_levels),
		cmocka_unit_test(test_candidate_move_threshold),
		cmocka_unit_test(test_capacity_and_bad_input),
		cmocka_unit_test(test_foreach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
