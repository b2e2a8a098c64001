/* SPDX-License-Identifier: MIT */
/*
 * sim_model_test.c - the traffic model: no collisions in free and congested
 * traffic, red lights obeyed, flow conservation, determinism by seed.
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

#include "sim/sim.h"

static struct sim_config *config(int scenario, int vehicles, double spacing)
{
	struct sim_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	sim_config_default(cfg);
	cfg->scenario = scenario;
	cfg->vehicles = vehicles;
	cfg->spacing = spacing;
	cfg->seed = 7;
	return cfg;
}

static struct sim_world *world(const struct sim_config *cfg)
{
	struct sim_world *w = NULL;
	char err[256] = "";
	int ret = sim_world_new(cfg, &w, err, sizeof(err));

	if (ret < 0)
		fail_msg("sim_world_new: %d %s", ret, err);
	return w;
}

/* Bumper overlaps: neighbours in a lane and across a lane boundary. */
static int overlaps(const struct sim_world *w)
{
	int n = 0;

	for (int ln = 0; ln < w->road.nlane; ln++) {
		const struct sim_lane *l = &w->road.lane[ln];

		for (int k = 1; k < l->nveh; k++) {
			const struct sim_vehicle *a = &w->veh[l->veh[k - 1]];
			const struct sim_vehicle *b = &w->veh[l->veh[k]];

			if (a->s > b->s - b->length + 1e-6)
				n++;
			assert_true(a->s <= b->s); /* lanes stay sorted */
		}
		if (l->nveh > 0 && l->next >= 0 && !l->exit &&
		    w->road.lane[l->next].nveh > 0) {
			const struct sim_vehicle *a = &w->veh[l->veh[l->nveh - 1]];
			const struct sim_lane *nl = &w->road.lane[l->next];
			const struct sim_vehicle *b = &w->veh[nl->veh[0]];

			if (a->s - l->length > b->s - b->length + 1e-6)
				n++;
		}
	}
	return n;
}

static void run_no_collisions(int scenario, int vehicles, double spacing, double secs)
{
	struct sim_config *cfg = config(scenario, vehicles, spacing);
	struct sim_world *w = world(cfg);
	int steps = (int)(secs * SIM_STEPS_PER_S), total = 0;
	double vsum = 0;

	assert_int_equal(overlaps(w), 0);
	for (int i = 0; i < steps; i++) {
		sim_world_step(w, NULL);
		total += overlaps(w);
		for (int k = 0; k < w->nveh; k++) {
			const struct sim_vehicle *v = &w->veh[k];

			if (!v->active)
				continue;
			assert_true(v->v >= 0);
			assert_true(isfinite(v->s));
			vsum += v->v;
		}
	}
	assert_int_equal(total, 0);
	assert_int_equal(w->ctr.collisions, 0);
	/* Something moved. */
	assert_true(vsum > 0);
	sim_world_free(w);
	free(cfg);
}

static void test_no_collisions_free(void **state)
{
	(void)state;
	run_no_collisions(SIM_SCN_HIGHWAY, 400, 60, 300);
	run_no_collisions(SIM_SCN_INTERSECTION, 150, 40, 300);
}

static void test_no_collisions_congested(void **state)
{
	(void)state;
	/* 9 m per vehicle and lane: a jam with stop-and-go waves. */
	run_no_collisions(SIM_SCN_HIGHWAY, 1200, 9, 300);
	run_no_collisions(SIM_SCN_GRID, 1500, 12, 300);
	run_no_collisions(SIM_SCN_INTERSECTION, 500, 10, 300);
}

/* A jam really is a jam: mean speed well below the free speed. */
static void test_congested_is_slow(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_HIGHWAY, 1200, 9);
	struct sim_world *w = world(cfg);
	double sum = 0;
	int n = 0;

	(void)state;
	for (int i = 0; i < 600; i++)
		sim_world_step(w, NULL);
	for (int k = 0; k < w->nveh; k++) {
		if (!w->veh[k].active)
			continue;
		sum += w->veh[k].v;
		n++;
	}
	assert_true(n > 0);
	assert_true(sum / n < 0.6 * w->speed_limit);
	sim_world_free(w);
	free(cfg);
}

/*
 * Red lights: a vehicle may cross a stop line on red only if, when its
 * light turned yellow (or when it reached the lane during yellow or red),
 * it was too close to stop with a firm 4 m/s^2.
 */
static void test_red_lights(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_GRID, 600, 25);
	struct sim_world *w;
	int *prev_light, *prev_lane;
	uint8_t *excused;
	int crossings = 0, red_crossings = 0;

	(void)state;
	cfg->grid_rows = cfg->grid_cols = 2;
	w = world(cfg);
	prev_light = calloc((size_t)w->road.nlane, sizeof(int));
	prev_lane = malloc((size_t)w->nveh * sizeof(int));
	excused = calloc((size_t)w->nveh, 1);
	assert_non_null(prev_light);
	assert_non_null(prev_lane);
	assert_non_null(excused);
	for (int k = 0; k < w->nveh; k++)
		prev_lane[k] = w->veh[k].lane;
	for (int ln = 0; ln < w->road.nlane; ln++)
		prev_light[ln] = SIM_LIGHT_GREEN;
	for (int i = 0; i < 6000; i++) {
		for (int ln = 0; ln < w->road.nlane; ln++) {
			const struct sim_lane *l = &w->road.lane[ln];
			int light;

			if (l->sig < 0)
				continue;
			light = sim_signal_light(&w->sig[l->sig], l->signal_group, w->t, NULL);
			for (int k = 0; k < l->nveh; k++) {
				int vi = l->veh[k];
				const struct sim_vehicle *v = &w->veh[vi];
				double d = l->length - v->s;
				int onset = light != SIM_LIGHT_GREEN &&
					    (prev_light[ln] == SIM_LIGHT_GREEN || prev_lane[vi] != ln);

				if (light == SIM_LIGHT_GREEN)
					excused[vi] = 0;
				else if (onset)
					excused[vi] = v->v * v->v > 2.0 * 4.0 * d;
			}
			prev_light[ln] = light;
		}
		for (int k = 0; k < w->nveh; k++)
			prev_lane[k] = w->veh[k].lane;
		{
			/* Remember who is on which signalised lane before the step. */
			int *before = malloc((size_t)w->nveh * sizeof(int));
			double t_before = w->t;

			assert_non_null(before);
			memcpy(before, prev_lane, (size_t)w->nveh * sizeof(int));
			sim_world_step(w, NULL);
			for (int k = 0; k < w->nveh; k++) {
				int from = before[k];
				const struct sim_lane *l;

				if (from < 0 || w->veh[k].lane == from)
					continue;
				l = &w->road.lane[from];
				if (l->sig < 0 || w->veh[k].lane != l->next)
					continue;
				crossings++;
				if (sim_signal_light(&w->sig[l->sig], l->signal_group, t_before,
						     NULL) == SIM_LIGHT_RED) {
					red_crossings++;
					if (!excused[k])
						fail_msg("vehicle %u crossed lane %d's stop line on red "
							 "at t=%.1f able to stop",
							 w->veh[k].id, l->id, t_before);
				}
			}
			free(before);
		}
	}
	/* The test saw real traffic through the junctions. */
	assert_true(crossings > 200);
	assert_int_equal(w->ctr.red_crossings, 0);
	free(prev_light);
	free(prev_lane);
	free(excused);
	sim_world_free(w);
	free(cfg);
}

static void test_flow_conservation(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_INTERSECTION, 100, 40);
	struct sim_world *w;

	(void)state;
	/* Flow mode: vehicles come in at the entries and leave at the exits. */
	cfg->flow_vph = 500;
	w = world(cfg);
	for (int i = 0; i < 3000; i++) {
		sim_world_step(w, NULL);
		assert_int_equal(w->ctr.entered, w->ctr.exited + (uint64_t)sim_world_present(w));
	}
	assert_true(w->ctr.exited > 100);
	assert_true(w->ctr.entered > 200);
	sim_world_free(w);
	/* Constant count: every vehicle that leaves comes back. */
	cfg->flow_vph = 0;
	cfg->scenario = SIM_SCN_HIGHWAY;
	cfg->vehicles = 300;
	w = world(cfg);
	for (int i = 0; i < 3000; i++) {
		sim_world_step(w, NULL);
		assert_int_equal(w->ctr.entered, w->ctr.exited + (uint64_t)sim_world_present(w));
		assert_int_equal(sim_world_present(w) + w->qlen, 300);
	}
	assert_true(w->ctr.exited > 50);
	sim_world_free(w);
	free(cfg);
}

struct digest {
	uint64_t h;
	uint64_t bsm, objects, spat;
};

static void digest_bytes(struct digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		d->h ^= b[i];
		d->h *= 1099511628211ull;
	}
}

static void on_bsm(void *ctx, const struct v2x_bsm *b)
{
	struct digest *d = ctx;

	d->bsm++;
	digest_bytes(d, &b->ts_ns, sizeof(b->ts_ns));
	digest_bytes(d, &b->id, sizeof(b->id));
	digest_bytes(d, &b->lat, sizeof(b->lat));
	digest_bytes(d, &b->lon, sizeof(b->lon));
	digest_bytes(d, &b->speed, sizeof(b->speed));
	digest_bytes(d, &b->heading, sizeof(b->heading));
	digest_bytes(d, &b->msg_cnt, sizeof(b->msg_cnt));
}

static void on_objects(void *ctx, const struct v2x_objects *o)
{
	struct digest *d = ctx;

	d->objects++;
	digest_bytes(d, &o->ts_ns, sizeof(o->ts_ns));
	for (int i = 0; i < o->n; i++) {
		digest_bytes(d, &o->obj[i].id, sizeof(o->obj[i].id));
		digest_bytes(d, &o->obj[i].lat, sizeof(o->obj[i].lat));
		digest_bytes(d, &o->obj[i].lon, sizeof(o->obj[i].lon));
	}
}

static void on_spat(void *ctx, const struct v2x_spat *s)
{
	struct digest *d = ctx;

	d->spat++;
	for (int i = 0; i < s->n; i++)
		digest_bytes(d, &s->mv[i], sizeof(s->mv[i]));
}

static struct digest run_digest(uint64_t seed)
{
	struct sim_config *cfg = config(SIM_SCN_GRID, 300, 30);
	struct sim_world *w;
	struct digest d = { 14695981039346656037ull, 0, 0, 0 };
	struct sim_sink sink = { &d, on_bsm, on_objects, on_spat, NULL };

	cfg->seed = seed;
	cfg->penetration = 0.5;
	cfg->grid_rows = cfg->grid_cols = 2;
	cfg->nincidents = 2;
	cfg->incident[0].type = V2X_EVT_STOPPED_VEHICLE;
	cfg->incident[0].at = 10;
	cfg->incident[1].type = V2X_EVT_VRU_ON_ROAD;
	cfg->incident[1].at = 20;
	w = world(cfg);
	for (int i = 0; i < 600; i++)
		sim_world_step(w, &sink);
	sim_world_free(w);
	free(cfg);
	return d;
}

static void test_determinism(void **state)
{
	struct digest a = run_digest(42), b = run_digest(42), c = run_digest(43);

	(void)state;
	assert_true(a.bsm > 1000);
	assert_true(a.objects > 100);
	assert_true(a.spat > 100);
	assert_true(a.h == b.h);
	assert_int_equal(a.bsm, b.bsm);
	assert_true(a.h != c.h);
}

/* Penetration: the share of connected vehicles follows P. */
static void test_penetration(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_HIGHWAY, 2000, 40);
	struct sim_world *w;
	int conn = 0;

	(void)state;
	cfg->penetration = 0.3;
	w = world(cfg);
	for (int k = 0; k < w->nveh; k++)
		conn += w->veh[k].connected;
	assert_true(conn > 500 && conn < 700);
	assert_int_equal(w->nconnected, conn);
	sim_world_free(w);
	free(cfg);
}

/* A scenario grows to hold what is asked, or says why it cannot. */
static void test_growth(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_HIGHWAY, 20000, 40);
	struct sim_world *w = NULL;
	char err[256] = "";
	double total = 0;

	(void)state;
	w = world(cfg);
	for (int ln = 0; ln < w->road.nlane; ln++)
		if (!w->road.lane[ln].dead_end)
			total += w->road.lane[ln].length;
	assert_true(total >= 20000.0 * 40 * 0.99);
	assert_int_equal(sim_world_present(w), 20000);
	sim_world_free(w);
	cfg->scenario = SIM_SCN_GRID;
	w = world(cfg);
	assert_true(w->nsig > 9);
	assert_int_equal(sim_world_present(w), 20000);
	sim_world_free(w);
	cfg->scenario = SIM_SCN_INTERSECTION;
	cfg->vehicles = 10000000;
	w = NULL;
	assert_int_equal(sim_world_new(cfg, &w, err, sizeof(err)), -EINVAL);
	assert_null(w);
	assert_non_null(strstr(err, "cannot hold"));
	free(cfg);
}

static void count_bsm(void *ctx, const struct v2x_bsm *b)
{
	(void)b;
	(*(uint64_t *)ctx)++;
}

/* --rate: exactly that many BSMs per sim second, whatever the fleet. */
static void test_rate_mode(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_HIGHWAY, 300, 40);
	struct sim_world *w;
	uint64_t n = 0;
	struct sim_sink sink = { &n, count_bsm, NULL, NULL, NULL };

	(void)state;
	cfg->rate = 12345;
	w = world(cfg);
	for (int i = 0; i < 100; i++)
		sim_world_step(w, &sink);
	assert_int_equal(n, 123450);
	sim_world_free(w);
	free(cfg);
}

/* TemporaryID changes every 5 minutes, at a random phase per vehicle. */
static void test_temp_id_rotation(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_HIGHWAY, 100, 40);
	struct sim_world *w;
	uint32_t *last;
	int *changes;

	(void)state;
	cfg->length = 100000; /* nobody leaves in 700 s */
	w = world(cfg);
	last = calloc((size_t)w->nveh, sizeof(*last));
	changes = calloc((size_t)w->nveh, sizeof(*changes));
	assert_non_null(last);
	assert_non_null(changes);
	for (int i = 0; i < 7000; i++) {
		sim_world_step(w, NULL);
		for (int k = 0; k < w->nveh; k++) {
			if (i > 0 && w->veh[k].temp_id != last[k])
				changes[k]++;
			last[k] = w->veh[k].temp_id;
		}
	}
	assert_int_equal(w->ctr.exited, 0);
	for (int k = 0; k < w->nveh; k++)
		assert_true(changes[k] >= 2 && changes[k] <= 3);
	free(last);
	free(changes);
	sim_world_free(w);
	free(cfg);
}

/* A vehicle that leaves and comes back uses a new TemporaryID. */
static void test_reentry_new_temp_id(void **state)
{
	struct sim_config *cfg = config(SIM_SCN_HIGHWAY, 100, 40);
	struct sim_world *w;
	uint32_t *id_out;
	int *was_active, reentries = 0;

	(void)state;
	cfg->length = 2000; /* short loop: many exits within 300 s */
	w = world(cfg);
	id_out = calloc((size_t)w->nveh, sizeof(*id_out));
	was_active = calloc((size_t)w->nveh, sizeof(*was_active));
	assert_non_null(id_out);
	assert_non_null(was_active);
	for (int k = 0; k < w->nveh; k++)
		was_active[k] = w->veh[k].active;
	for (int i = 0; i < 3000; i++) {
		sim_world_step(w, NULL);
		for (int k = 0; k < w->nveh; k++) {
			const struct sim_vehicle *v = &w->veh[k];

			if (was_active[k] && !v->active) {
				id_out[k] = v->temp_id; /* the id it left with */
			} else if (!was_active[k] && v->active) {
				assert_int_not_equal(v->temp_id, id_out[k]);
				reentries++;
			}
			was_active[k] = v->active;
		}
	}
	assert_true(w->ctr.exited > 0);
	assert_true(reentries > 0);
	free(id_out);
	free(was_active);
	sim_world_free(w);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_collisions_free),
		cmocka_unit_test(test_no_collisions_congested),
		cmocka_unit_test(test_congested_is_slow),
		cmocka_unit_test(test_red_lights),
		cmocka_unit_test(test_flow_conservation),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_penetration),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_rate_mode),
		cmocka_unit_test(test_temp_id_rotation),
		cmocka_unit_test(test_reentry_new_temp_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
