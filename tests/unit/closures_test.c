/* SPDX-License-Identifier: MIT */
/*
 * closures_test.c - lane closures from the cloud: the lane_closure advisory
 * (advisory_closure(), JSON and msgpack, good and bad), the closure table
 * (closures.h: ranges, map matching, clear, expiry, the hand-over ring) and
 * the stopped-vehicle rule that uses it (a vehicle standing at a known
 * closure is no stopped vehicle; one in an open lane, at a closure of
 * another lane, far upstream, or after the closure is cleared or expired
 * still is).
 *
 * The detector scenarios run on lanes 11 (right) and 12 (left) of the
 * fixture map (segment 60, eastbound, along = x), through the real
 * detectors and lifecycle (evt_fixture.h).
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
#include "advisory.h"
#include "closures.h"
#include "evt_fixture.h"

#define STEP (100 * MS)
#define CAR V2X_CLASS_CAR

static int parse(const char *text, struct closure_msg *m, char *err, size_t errlen)
{
	static uint8_t scratch[4096];

	return advisory_closure(text, strlen(text), scratch, sizeof(scratch), m,
				err, errlen);
}

/* ---- the advisory -------------------------------------------------- */

static void test_parse_json_forms(void **state)
{
	struct closure_msg m;
	char err[160];

	(void)state;
	assert_int_equal(parse("{\"type\":\"lane_closure\",\"id\":\"wz-17\",\"lanes\":[11,12],"
			       "\"from_m\":600,\"to_m\":660.5,\"until\":1700000100.5}",
			       &m, err, sizeof(err)), 1);
	assert_string_equal(m.id, "wz-17");
	assert_int_equal(m.cleared, 0);
	assert_int_equal(m.n_lanes, 2);
	assert_int_equal(m.lanes[0], 11);
	assert_int_equal(m.lanes[1], 12);
	assert_int_equal(m.has_range, 1);
	assert_int_equal(m.has_pos, 0);
	assert_true(m.from_m == 600.0f && m.to_m == 660.5f);
	assert_true(m.until_ns == 1700000100500000000ull);

	assert_int_equal(parse("{\"type\":\"lane_closure\",\"id\":42,\"lat\":48.1,"
			       "\"lon\":11.5,\"length_m\":60,\"reason\":\"incident\","
			       "\"status\":\"active\",\"extra\":{\"a\":[1,2]}}",
			       &m, err, sizeof(err)), 1);
	assert_string_equal(m.id, "42");
	assert_int_equal(m.has_pos, 1);
	assert_int_equal(m.has_range, 0);
	assert_int_equal(m.n_lanes, 0);
	assert_true(fabs(m.lat - 48.1) < 1e-9 && fabs(m.lon - 11.5) < 1e-9);
	assert_true(m.length_m == 60.0f);
	assert_true(m.until_ns == 0);

	/* A clear needs only the id. */
	assert_int_equal(parse("{\"type\":\"lane_closure\",\"id\":\"wz-17\","
			       "\"status\":\"cleared\"}", &m, err, sizeof(err)), 1);
	assert_int_equal(m.cleared, 1);
	assert_string_equal(m.id, "wz-17");

	/* Other advisories are not closures (and left to the relay path). */
	assert_int_equal(parse("{\"type\":\"weather\",\"id\":\"x\",\"lanes\":\"bad\"}",
			       &m, err, sizeof(err)), 0);
	assert_int_equal(parse("{\"text\":\"fog\"}", &m, err, sizeof(err)), 0);
	assert_int_equal(parse("[1,2]", &m, err, sizeof(err)), 0);
	assert_int_equal(parse("{\"type\":7}", &m, err, sizeof(err)), 0);
	/* A position out of range is refused by the relay path (which logs
	 * and counts it), for every advisory: not reported twice. */
	assert_int_equal(parse("{\"type\":\"lane_closure\",\"id\":\"a\",\"lat\":91,"
			       "\"lon\":2}", &m, err, sizeof(err)), 0);
}

static void test_parse_msgpack(void **state)
{
	/* {"type":"lane_closure","id":"a","lanes":[11],"from_m":600,"to_m":660} */
	static const uint8_t mp[] = {
		0x85, 0xa4, 't', 'y', 'p', 'e', 0xac, 'l', 'a', 'n', 'e', '_', 'c',
		'l', 'o', 's', 'u', 'r', 'e', 0xa2, 'i', 'd', 0xa1, 'a', 0xa5, 'l',
		'a', 'n', 'e', 's', 0x91, 0x0b, 0xa6, 'f', 'r', 'o', 'm', '_', 'm',
		0xcd, 0x02, 0x58, 0xa4, 't', 'o', '_', 'm', 0xcd, 0x02, 0x94,
	};
	uint8_t scratch[256], bad[sizeof(mp)];
	struct closure_msg m;
	char err[160];

	(void)state;
	assert_int_equal(advisory_closure(mp, sizeof(mp), scratch, sizeof(scratch),
					  &m, err, sizeof(err)), 1);
	assert_string_equal(m.id, "a");
	assert_int_equal(m.n_lanes, 1);
	assert_int_equal(m.lanes[0], 11);
	assert_true(m.from_m == 600.0f && m.to_m == 660.0f);
	/* A lane id that is no number: a bad closure. */
	memcpy(bad, mp, sizeof(mp));
	bad[31] = 0xc0; /* "lanes": [nil] */
	assert_true(advisory_closure(bad, sizeof(bad), scratch, sizeof(scratch), &m,
				     err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "lanes"));
	/* Truncated: not a usable advisory at all (the relay path drops it). */
	assert_int_equal(advisory_closure(mp, sizeof(mp) - 3, scratch, sizeof(scratch),
					  &m, err, sizeof(err)), 0);
}

static void test_parse_bad_closures(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *word;
	} bad[] = {
		{ "{\"type\":\"lane_closure\",\"lanes\":[1],\"from_m\":1,\"to_m\":2}",
		  V2X_E_MISSING, "id" },
		{ "{\"type\":\"lane_closure\",\"id\":\"\",\"lat\":1,\"lon\":2}",
		  V2X_E_LIMIT, "id" },
		{ "{\"type\":\"lane_closure\",\"id\":\"0123456789012345678901234567890123456789012345678\",\"lat\":1,\"lon\":2}",
		  V2X_E_LIMIT, "id" },
		{ "{\"type\":\"lane_closure\",\"id\":1.5,\"lat\":1,\"lon\":2}",
		  V2X_E_TYPE, "id" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":\"1\",\"lat\":1,\"lon\":2}",
		  V2X_E_TYPE, "lanes" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[],\"lat\":1,\"lon\":2}",
		  V2X_E_TYPE, "lanes" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[1,2,3,4,5,6,7,8,9],\"lat\":1,\"lon\":2}",
		  V2X_E_TYPE, "lanes" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[-1],\"lat\":1,\"lon\":2}",
		  V2X_E_RANGE, "lanes" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[1.5],\"lat\":1,\"lon\":2}",
		  V2X_E_RANGE, "lanes" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lat\":1}",
		  V2X_E_MISSING, "lon" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lat\":\"48\",\"lon\":2}",
		  V2X_E_TYPE, "lat" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[1],\"from_m\":5,\"to_m\":2}",
		  V2X_E_RANGE, "from_m" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[1],\"from_m\":5}",
		  V2X_E_MISSING, "to_m" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"from_m\":1,\"to_m\":5}",
		  V2X_E_MISSING, "lanes" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lanes\":[1]}",
		  V2X_E_MISSING, "needs" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"status\":\"maybe\",\"lat\":1,\"lon\":2}",
		  V2X_E_INVALID, "status" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lat\":1,\"lon\":2,\"length_m\":-1}",
		  V2X_E_RANGE, "length_m" },
		{ "{\"type\":\"lane_closure\",\"id\":\"a\",\"lat\":1,\"lon\":2,\"until\":-5}",
		  V2X_E_RANGE, "until" },
	};
	struct closure_msg m;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].text, &m, err, sizeof(err));

		if (r != bad[i].code || !strstr(err, bad[i].word) ||
		    strncmp(err, "lane_closure: ", 14) != 0)
			fail_msg("%s: %d (%s), want %d with '%s'", bad[i].text, r, err,
				 bad[i].code, bad[i].word);
	}
}

/* ---- the table ----------------------------------------------------- */

static struct closure_msg range_msg(const char *id, int32_t lane, float from,
				    float to)
{
	struct closure_msg m;

	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", id);
	m.n_lanes = 1;
	m.lanes[0] = lane;
	m.has_range = 1;
	m.from_m = from;
	m.to_m = to;
	m.length_m = to - from;
	return m;
}

static void test_table_ranges_clear_expiry(void **state)
{
	struct closures *cl = closures_new();
	struct closure_msg m = range_msg("a", 11, 600, 660);
	struct closures_stats st;

	(void)state;
	assert_non_null(cl);
	assert_int_equal(closures_at(cl, 11, 590, 200, T0), 0);
	assert_int_equal(closures_apply(cl, &m, NULL), 0);
	assert_int_equal(closures_at(cl, 11, 590, 200, T0), 1);  /* just before */
	assert_int_equal(closures_at(cl, 11, 630, 200, T0), 1);  /* inside */
	assert_int_equal(closures_at(cl, 11, 400, 200, T0), 1);  /* 200 m before */
	assert_int_equal(closures_at(cl, 11, 399, 200, T0), 0);  /* farther */
	assert_int_equal(closures_at(cl, 11, 661, 200, T0), 0);  /* past it */
	assert_int_equal(closures_at(cl, 12, 590, 200, T0), 0);  /* other lane */
	assert_int_equal(closures_at(cl, 11, 590, 0, T0), 0);    /* no upstream */
	/* Replaced under the same id (moved downstream). */
	m = range_msg("a", 11, 800, 860);
	assert_int_equal(closures_apply(cl, &m, NULL), 0);
	assert_int_equal(closures_at(cl, 11, 610, 200, T0), 1);
	assert_int_equal(closures_at(cl, 11, 610, 100, T0), 0);
	closures_stats(cl, &st);
	assert_int_equal(st.active, 1);
	/* Cleared. */
	m.cleared = 1;
	assert_int_equal(closures_apply(cl, &m, NULL), 0);
	assert_int_equal(closures_at(cl, 11, 800, 200, T0), 0);
	/* Expiry: "until" passed. */
	m = range_msg("b", 12, 100, 200);
	m.until_ns = T0 + 10 * SEC;
	assert_int_equal(closures_apply(cl, &m, NULL), 0);
	assert_int_equal(closures_update(cl, NULL, T0 + 9 * SEC), 1);
	assert_int_equal(closures_at(cl, 12, 150, 0, T0 + 9 * SEC), 1);
	assert_int_equal(closures_at(cl, 12, 150, 0, T0 + 10 * SEC), 0);
	assert_int_equal(closures_update(cl, NULL, T0 + 10 * SEC), 0);
	closures_stats(cl, &st);
	assert_int_equal(st.cleared, 1);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.active, 0);
	/* A full table refuses (and counts); a clear of an unknown id is
	 * harmless. */
	for (int i = 0; i < CLOSURES_MAX; i++) {
		char id[16];

		snprintf(id, sizeof(id), "c%d", i);
		m = range_msg(id, 1, 0, 1);
		assert_int_equal(closures_apply(cl, &m, NULL), 0);
	}
	m = range_msg("one-too-many", 1, 0, 1);
	assert_int_equal(closures_apply(cl, &m, NULL), -ENOSPC);
	m.cleared = 1;
	assert_int_equal(closures_apply(cl, &m, NULL), 0);
	closures_stats(cl, &st);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.active, CLOSURES_MAX);
	closures_free(cl);
	closures_free(NULL);
}

static void test_table_position_and_ring(void **state)
{
	struct roadmap *map = fx_map_load();
	struct closures *cl = closures_new();
	struct closure_msg m;
	struct closures_stats st;
	double lat, lon;
	int n = 0;

	(void)state;
	assert_non_null(map);
	assert_non_null(cl);
	/* The start of the closure on lane 11 (y = -43.5) at x = 600, 60 m
	 * long, lanes 11 and 12: lane 12 takes the along of lane 11 (one
	 * segment). */
	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "p");
	fx_geo(600, -43.5, &lat, &lon);
	m.has_pos = 1;
	m.lat = lat;
	m.lon = lon;
	m.length_m = 60;
	m.n_lanes = 2;
	m.lanes[0] = 11;
	m.lanes[1] = 12;
	/* Through the ring, before any map: kept, not resolved. */
	assert_int_equal(closures_offer(cl, &m), 0);
	assert_int_equal(closures_update(cl, NULL, T0), 1);
	assert_int_equal(closures_at(cl, 11, 600, 10, T0), 0);
	closures_stats(cl, &st);
	assert_int_equal(st.unresolved, 1);
	/* The map arrives: resolved. */
	assert_int_equal(closures_update(cl, map, T0), 1);
	assert_int_equal(closures_at(cl, 11, 595, 10, T0), 1);
	assert_int_equal(closures_at(cl, 12, 595, 10, T0), 1);
	assert_int_equal(closures_at(cl, 11, 655, 0, T0), 1);
	assert_int_equal(closures_at(cl, 11, 665, 0, T0), 0);
	assert_int_equal(closures_at(cl, 11, 580, 10, T0), 0);
	/* Without lanes: the matched lane only. */
	snprintf(m.id, sizeof(m.id), "q");
	m.n_lanes = 0;
	fx_geo(300, -40.0, &lat, &lon);
	m.lat = lat;
	m.lon = lon;
	assert_int_equal(closures_offer(cl, &m), 0);
	assert_int_equal(closures_update(cl, map, T0), 2);
	assert_int_equal(closures_at(cl, 12, 300, 0, T0), 1);
	assert_int_equal(closures_at(cl, 11, 300, 0, T0), 0);
	/* A listed lane of another segment is not guessed. */
	snprintf(m.id, sizeof(m.id), "r");
	m.n_lanes = 1;
	m.lanes[0] = 2;
	assert_int_equal(closures_offer(cl, &m), 0);
	closures_update(cl, map, T0);
	assert_int_equal(closures_at(cl, 2, 700, 1000, T0), 0);
	/* The ring refuses when full (64 slots) and the table drains it. */
	while (closures_offer(cl, &m) == 0)
		n++;
	assert_true(n > 0 && n < 1000);
	assert_int_equal(closures_offer(cl, &m), -ENOBUFS);
	closures_update(cl, map, T0);
	assert_int_equal(closures_offer(cl, &m), 0);
	closures_free(cl);
	roadmap_free(map);
}

/* ---- the stopped-vehicle rule -------------------------------------- */

struct scen {
	const struct closure_msg *closure; /* announced at 1 s, NULL = none */
	double clear_at;                   /* s, < 0 = never */
	double stop_y;                     /* lane: -43.5 = 11, -40 = 12 */
	double stop_x;                     /* where the car stops */
	double upstream_m;                 /* closure_upstream_m, < 0 = default */
};

/*
 * A car drives east at 25 m/s and brakes at 3 m/s^2 to a stop at stop_x
 * (reached at about 9 s), stands for 25 s.  Returns the time (s from
 * T0) of its stopped-vehicle event, or -1.
 */
static double run_scen(const struct scen *sc)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct detect_config cfg;
	struct closures *cl = closures_new();
	const struct v2x_event *e;
	double x, t, at;

	assert_non_null(f);
	assert_non_null(cl);
	detect_config_defaults(&cfg);
	if (sc->upstream_m >= 0)
		cfg.stopped.closure_upstream_m = (float)sc->upstream_m;
	assert_int_equal(fx_init(f, &cfg), 0);
	f->env.closures = cl;
	x = sc->stop_x - 125;
	for (int i = 0; i < 350; i++) {
		float v;

		t = i * 0.1;
		if (sc->closure && i == 10)
			assert_int_equal(closures_offer(cl, sc->closure), 0);
		if (sc->closure && sc->clear_at >= 0 && fabs(t - sc->clear_at) < 0.05) {
			struct closure_msg c = *sc->closure;

			c.cleared = 1;
			assert_int_equal(closures_offer(cl, &c), 0);
		}
		/* 25 m/s, braking at 3 m/s^2 to a stop at stop_x (a
		 * breakdown; an emergency stop is hard braking). */
		v = (float)fmin(25.0, sqrt(6.0 * fmax(sc->stop_x - x, 0.0)));
		if (sc->stop_x - x < 0.05)
			v = 0.0f;
		x += v * 0.1;
		if (x > sc->stop_x)
			x = sc->stop_x;
		fx_sample(f, 1, CAR, x, sc->stop_y, v, 90, V2X_SRC_V2X);
		fx_tick(f, STEP);
	}
	e = fx_first(f, V2X_EVT_STOPPED_VEHICLE, V2X_EVT_NEW);
	at = e ? (double)(e->ts_ns - T0) / 1e9 : -1.0;
	fx_fini(f);
	closures_free(cl);
	free(f);
	return at;
}

static void test_stopped_at_closure_not_raised(void **state)
{
	struct closure_msg m = range_msg("wz", 11, 600, 660);
	struct scen sc = { &m, -1, -43.5, 596, -1 };

	(void)state;
	/* Without the closure this car is a stopped vehicle... */
	sc.closure = NULL;
	assert_true(run_scen(&sc) > 0);
	/* ...with it, it waits at the closure: at its head, and 150 m
	 * before it (the queue in the closed lane). */
	sc.closure = &m;
	assert_true(run_scen(&sc) < 0);
	sc.stop_x = 450;
	assert_true(run_scen(&sc) < 0);
	/* Inside the closed stretch. */
	sc.stop_x = 620;
	assert_true(run_scen(&sc) < 0);
}

static void test_stopped_still_raised_elsewhere(void **state)
{
	struct closure_msg m = range_msg("wz", 11, 600, 660);
	struct closure_msg other = range_msg("wz2", 12, 600, 660);
	struct scen sc = { &m, -1, -40.0, 596, -1 };
	double at;

	(void)state;
	/* A breakdown in the open lane beside the closure. */
	at = run_scen(&sc);
	assert_true(at > 0 && at < 11);
	/* A closure of another lane. */
	sc.stop_y = -43.5;
	sc.closure = &other;
	assert_true(run_scen(&sc) > 0);
	/* Farther upstream than closure_upstream_m. */
	sc.closure = &m;
	sc.stop_x = 350;
	assert_true(run_scen(&sc) > 0);
	sc.upstream_m = 300;
	assert_true(run_scen(&sc) < 0);
	/* Past the closed stretch. */
	sc.upstream_m = -1;
	sc.stop_x = 700;
	assert_true(run_scen(&sc) > 0);
}

static void test_stopped_after_clear_or_expiry(void **state)
{
	struct closure_msg m = range_msg("wz", 11, 600, 660);
	struct scen sc = { &m, 15.0, -43.5, 596, -1 };
	struct detect_config cfg;
	double at, hold;

	(void)state;
	detect_config_defaults(&cfg);
	hold = cfg.stopped.reason_hold_ms / 1000.0;
	/* Cleared at 15 s while the car still stands there: a stopped
	 * vehicle once the reason hold has passed. */
	at = run_scen(&sc);
	assert_true(at >= 15.0 + hold - 0.2 && at <= 15.0 + hold + 1.0);
	/* Cleared before it stopped: raised as usual. */
	sc.clear_at = 2.0;
	at = run_scen(&sc);
	assert_true(at > 0 && at < 11);
	/* Expired ("until" 12 s after T0). */
	m.until_ns = T0 + 12 * SEC;
	sc.clear_at = -1;
	at = run_scen(&sc);
	assert_true(at >= 12.0 && at <= 12.0 + hold + 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_json_forms),
		cmocka_unit_test(test_parse_msgpack),
		cmocka_unit_test(test_parse_bad_closures),
		cmocka_unit_test(test_table_ranges_clear_expiry),
		cmocka_unit_test(test_table_position_and_ring),
		cmocka_unit_test(test_stopped_at_closure_not_raised),
		cmocka_unit_test(test_stopped_still_raised_elsewhere),
		cmocka_unit_test(test_stopped_after_clear_or_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
