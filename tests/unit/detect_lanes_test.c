/* SPDX-License-Identifier: MIT */
/*
 * detect_lanes_test.c - the detectors' shared lane table does its work once
 * per sample and once per tick, however many detectors share it: one
 * recorded update per sample, one sweep per tick; stale entries are still
 * removed within the documented bound, and a repeated sample is recorded
 * again whenever the table changed in between.
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
#include "detect_common.h"

#define STALE_NS (2 * SEC)
#define TICK_NS (100 * MS)

struct lanes_fx {
	struct fx f;              /* map, lifecycle and env of the fixture */
	struct det_lanes *dl;
	int removed;              /* removal hook calls */
};

static void on_remove(void *ctx, struct det_entry *e)
{
	struct lanes_fx *lf = ctx;

	(void)e;
	lf->removed++;
}

/* All seven detectors on one table we keep a reference to. */
static void lanes_init(struct lanes_fx *lf)
{
	struct detector (*ctor[])(const struct detect_config *,
				  struct det_lanes *) = {
		detect__stopped_new, detect__hard_braking_new,
		detect__wrong_way_new, detect__speeding_new,
		detect__congestion_new, detect__collision_new,
		detect__vru_new,
	};
	struct fx *f = &lf->f;
	size_t i;

	memset(lf, 0, sizeof(*lf));
	detect_config_defaults(&f->cfg);
	f->cfg.fusion.lane_capacity = 1024;
	f->cfg.fusion.stale_ms = STALE_NS / MS;
	f->cfg.events.id_base = 1000;
	f->map = fx_map_load();
	assert_non_null(f->map);
	lf->dl = detect__lanes_new(f->cfg.fusion.lane_capacity, STALE_NS);
	assert_non_null(lf->dl);
	assert_int_equal(detect__lanes_hook(lf->dl, on_remove, lf), 0);
	for (i = 0; i < sizeof(ctor) / sizeof(ctor[0]); i++) {
		f->det[f->n_det] = ctor[i](&f->cfg, lf->dl);
		assert_non_null(f->det[f->n_det].ops);
		f->n_det++;
	}
	f->ev = events_new(&f->cfg, fx_emit, f);
	assert_non_null(f->ev);
	f->env.map = f->map;
	f->env.raise = events_raise;
	f->env.owner = f->ev;
	f->env.spat = f->spat;
	f->now = T0;
	/* Start the tick clock (entries remember the tick of their update). */
	fx_tick(f, TICK_NS);
}

static void lanes_fini(struct lanes_fx *lf)
{
	detect__lanes_hook(lf->dl, NULL, lf);
	detect__lanes_free(lf->dl);
	fx_fini(&lf->f);
}

static void test_one_update_per_sample_one_sweep_per_tick(void **state)
{
	struct lanes_fx lf;
	struct det_lanes_stats st;
	uint64_t samples = 0;
	int tick, v;

	(void)state;
	lanes_init(&lf);
	assert_int_equal(lf.f.n_det, 7);
	for (tick = 0; tick < 50; tick++) {
		for (v = 0; v < 20; v++) {
			fx_sample(&lf.f, 100 + (uint64_t)v, V2X_CLASS_CAR,
				  10.0 + 20.0 * v + 1.4 * tick, -1.75, 14.0f,
				  90.0f, V2X_SRC_V2X);
			samples++;
		}
		/* A pedestrian on the sidewalk: only some detectors take it,
		 * the table still records it once. */
		fx_sample(&lf.f, 900, V2X_CLASS_PEDESTRIAN, 50.0 + 0.1 * tick,
			  -5.0, 1.2f, 90.0f, V2X_SRC_SENSOR);
		samples++;
		fx_tick(&lf.f, TICK_NS);
	}
	detect__lanes_stats(lf.dl, &st);
	assert_int_equal(st.updates, samples);
	/* Every detector asked (the vehicle ones at least five per car). */
	assert_true(st.update_calls >= 5 * (samples - 50));
	assert_int_equal(st.sweeps, 1 + 50);
	/* The same tick again (other callers of tick) sweeps no more. */
	assert_int_equal(detect__lanes_maintain(lf.dl), 0);
	detect__lanes_stats(lf.dl, &st);
	assert_int_equal(st.sweeps, 1 + 50);
	assert_int_equal(lf.removed, 0);
	lanes_fini(&lf);
}

static void test_stale_entries_removed_in_time(void **state)
{
	struct lanes_fx lf;
	uint64_t silent_at;
	int v;

	(void)state;
	lanes_init(&lf);
	/* As in the broker, the clock runs before the first sample (fusion
	 * ticks once at start): the samples below are seen at this time. */
	fx_tick(&lf.f, TICK_NS);
	silent_at = lf.f.now;
	for (v = 0; v < 30; v++)
		fx_sample(&lf.f, 1 + (uint64_t)v, V2X_CLASS_CAR,
			  10.0 + 15.0 * v, -1.75, 10.0f, 90.0f, V2X_SRC_V2X);
	fx_tick(&lf.f, TICK_NS);
	/* Track 1 keeps talking, the others go silent. */
	while (lf.f.now < silent_at + STALE_NS) {
		fx_sample(&lf.f, 1, V2X_CLASS_CAR, 10.0, -1.75, 0.0f,
			  90.0f, V2X_SRC_V2X);
		fx_tick(&lf.f, TICK_NS);
		assert_int_equal(lf.removed, 0);
	}
	/* Gone at most stale / DET_SWEEP_FRACTION (+ one tick) later. */
	while (lf.f.now <= silent_at + STALE_NS + STALE_NS / DET_SWEEP_FRACTION +
			   TICK_NS) {
		fx_sample(&lf.f, 1, V2X_CLASS_CAR, 10.0, -1.75, 0.0f,
			  90.0f, V2X_SRC_V2X);
		fx_tick(&lf.f, TICK_NS);
	}
	assert_int_equal(lf.removed, 29);
	assert_non_null(detect__lanes_get(lf.dl, 1));
	for (v = 1; v < 30; v++)
		assert_null(detect__lanes_get(lf.dl, 1 + (uint64_t)v));
	lanes_fini(&lf);
}

static void test_repeat_recorded_after_change(void **state)
{
	struct det_lanes *dl = detect__lanes_new(16, STALE_NS);
	struct det_lanes_stats st;
	struct det_entry *e, *e2;
	struct det_sample s;
	int created;

	(void)state;
	assert_non_null(dl);
	memset(&s, 0, sizeof(s));
	s.track_id = 7;
	s.t_ns = T0;
	s.cls = V2X_CLASS_CAR;
	s.speed_mps = 5.0f;
	s.match.lane = 1;
	s.match.segment = 10;
	s.match.along_m = 42.0f;
	detect__lanes_tick(dl, T0);
	e = detect__lanes_update(dl, &s, &created);
	assert_non_null(e);
	assert_int_equal(created, 1);
	/* The same sample again: the same entry, not created again. */
	e2 = detect__lanes_update(dl, &s, &created);
	assert_ptr_equal(e, e2);
	assert_int_equal(created, 0);
	detect__lanes_stats(dl, &st);
	assert_int_equal(st.update_calls, 2);
	assert_int_equal(st.updates, 1);
	/* A different sample of the same track is recorded. */
	s.match.along_m = 43.0f;
	e2 = detect__lanes_update(dl, &s, &created);
	assert_ptr_equal(e, e2);
	assert_true(e->along_m == 43.0f);
	detect__lanes_stats(dl, &st);
	assert_int_equal(st.updates, 2);
	/* After a tick the same sample refreshes the entry's clock. */
	detect__lanes_tick(dl, T0 + SEC);
	e2 = detect__lanes_update(dl, &s, &created);
	assert_int_equal(e2->seen, T0 + SEC);
	detect__lanes_stats(dl, &st);
	assert_int_equal(st.updates, 3);
	/* After a removal it is a new entry again. */
	detect__lanes_remove(dl, e2);
	assert_null(detect__lanes_get(dl, 7));
	e2 = detect__lanes_update(dl, &s, &created);
	assert_non_null(e2);
	assert_int_equal(created, 1);
	assert_ptr_equal(detect__lanes_get(dl, 7), e2);
	detect__lanes_free(dl);
}

static void test_full_table_and_sweep_budget(void **state)
{
	struct det_lanes *dl = detect__lanes_new(16, STALE_NS);
	struct det_sample s;
	int created, i;

	(void)state;
	assert_non_null(dl);
	memset(&s, 0, sizeof(s));
	s.match.lane = -1;
	detect__lanes_tick(dl, T0);
	for (i = 0; i < 16; i++) {
		s.track_id = 100 + (uint64_t)i;
		assert_non_null(detect__lanes_update(dl, &s, &created));
	}
	s.track_id = 999;
	assert_null(detect__lanes_update(dl, &s, &created));
	/* A long gap: one maintenance call covers the whole table. */
	detect__lanes_tick(dl, T0 + 10 * SEC);
	assert_int_equal(detect__lanes_maintain(dl), 16);
	assert_int_equal(detect__lanes_maintain(dl), 0);
	assert_non_null(detect__lanes_update(dl, &s, &created));
	assert_int_equal(created, 1);
	detect__lanes_free(dl);
}

/* Thousands silent at once: removed at most 1,000 per sweep, all of them
 * within a few ticks, and only the entries that are used are looked at. */
static void test_mass_silence_spread(void **state)
{
	struct det_lanes *dl = detect__lanes_new(100000, STALE_NS);
	struct det_sample s;
	int created, i, total = 0, sweeps = 0, r;

	(void)state;
	assert_non_null(dl);
	memset(&s, 0, sizeof(s));
	s.match.lane = -1;
	detect__lanes_tick(dl, T0);
	for (i = 0; i < 2500; i++) {
		s.track_id = 1 + (uint64_t)i;
		assert_non_null(detect__lanes_update(dl, &s, &created));
	}
	detect__lanes_tick(dl, T0 + 10 * SEC);
	while ((r = detect__lanes_sweep(dl, 100000)) > 0) {
		assert_true(r <= DET_SWEEP_REMOVE_MAX);
		total += r;
		sweeps++;
	}
	assert_int_equal(total, 2500);
	assert_int_equal(sweeps, (2500 + DET_SWEEP_REMOVE_MAX - 1) /
			 DET_SWEEP_REMOVE_MAX);
	for (i = 0; i < 2500; i++)
		assert_null(detect__lanes_get(dl, 1 + (uint64_t)i));
	detect__lanes_free(dl);
}

/* The rest of a sweep that stopped at its maximum goes a few entries per
 * recorded sample, without another sweep, and only stale ones go. */
static void test_sweep_rest_per_sample(void **state)
{
	struct det_lanes *dl = detect__lanes_new(10000, STALE_NS);
	struct det_sample s;
	int created, i, samples = 0;

	(void)state;
	assert_non_null(dl);
	memset(&s, 0, sizeof(s));
	s.match.lane = -1;
	detect__lanes_tick(dl, T0);
	for (i = 0; i < 1000; i++) {
		s.track_id = 1 + (uint64_t)i;
		assert_non_null(detect__lanes_update(dl, &s, &created));
	}
	detect__lanes_tick(dl, T0 + 10 * SEC);
	/* One live road user, recorded before the sweep. */
	s.track_id = 5000;
	assert_non_null(detect__lanes_update(dl, &s, &created));
	assert_int_equal(detect__lanes_sweep(dl, 100000), DET_SWEEP_REMOVE_MAX);
	/* Its samples (each a new one) take the rest away. */
	while (samples < 10000) {
		s.t_ns += MS;
		assert_non_null(detect__lanes_update(dl, &s, &created));
		samples++;
		for (i = 0; i < 1000; i++)
			if (detect__lanes_get(dl, 1 + (uint64_t)i))
				break;
		if (i == 1000)
			break;
	}
	/* At most 2 per sample, and all of them. */
	assert_true(samples >= (1000 - DET_SWEEP_REMOVE_MAX) / 2);
	assert_true(samples < 10000);
	assert_non_null(detect__lanes_get(dl, 5000));
	detect__lanes_free(dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_update_per_sample_one_sweep_per_tick),
		cmocka_unit_test(test_stale_entries_removed_in_time),
		cmocka_unit_test(test_repeat_recorded_after_change),
		cmocka_unit_test(test_full_table_and_sweep_budget),
		cmocka_unit_test(test_mass_silence_spread),
		cmocka_unit_test(test_sweep_rest_per_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
