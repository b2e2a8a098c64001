/* SPDX-License-Identifier: MIT */
/*
 * detect_hard_braking.c - hard braking.
 *
 * A road vehicle brakes hard when
 * - its BSM carries the eventHardBraking flag (use_flag), or
 * - its reported longitudinal acceleration is below -decel_mps2 on two
 *   consecutive samples, or
 * - the least-squares slope of its speed over the last window_ms (at least
 *   4 samples spanning half the window), less steep by one standard error,
 *   is below -decel_mps2 on two consecutive samples; a regression rather
 *   than a difference of two samples, its uncertainty taken off, and held
 *   for a second sample, so that sensor speed noise does not look like
 *   braking (the newest sample weighs most in the slope: one noisy speed
 *   at the end of the window can tip moderate braking over the threshold,
 *   and the next window, with a fresh sample, no longer is).
 * The vehicle must be faster than min_speed_mps at the start of the window
 * (or now, for the flag and the reported acceleration), and its track must
 * be at least warmup_ms old: a road user that has just appeared (at the
 * edge of the map or of a sensor's coverage, or a new BSM TemporaryID) is
 * not yet judged, because what it does in its first instants is not known
 * against its earlier motion (a vehicle merging in at the map edge and
 * adapting to the traffic ahead is not an incident).  Braking that lasts
 * beyond the warm-up is still reported, warmup_ms after the track appeared.
 * A vehicle that moved against its lane's direction in the last 2 s is a
 * wrong-way driver: its braking is part of that incident, not reported
 * here.  A track that falls silent for a second or jumps further than a
 * vehicle can drive appears anew (a TemporaryID seen again at the map entry after
 * leaving at its exit), and its warm-up starts again.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/msg.h"
#include "detect_common.h"

#define PRIV(e) (&(e)->priv.hard_braking)

#define HB_HIST 16
#define GAP_NS 1000000000ull  /* silent this long: a new appearance */
#define JUMP_M 15.0           /* position noise and sensor offsets */
#define MAX_SPEED_MPS 70.0    /* nothing on the road moves faster */
#define AGAINST_NS 2000000000ull /* moved against its lane this recently */

struct hb_hist {
	uint64_t track_id; /* whose history this is (entries are recycled) */
	uint64_t first_ns; /* first sample of this appearance of the track */
	double x, y;       /* position of the newest sample */
	uint64_t t[HB_HIST];
	float v[HB_HIST];
	uint8_t n, head; /* head = index of the newest */
	uint8_t accel_hits;
	uint8_t slope_hits; /* samples in a row with the slope beyond -decel */
};

struct hard_braking {
	struct det_lanes *dl;
	struct hb_hist *hist; /* parallel to the det_lanes entries */
	float decel, min_speed;
	uint64_t window_ns, warmup_ns;
	int use_flag;
};

/*
 * Slope (m/s^2) of speed over the window, from samples not older than
 * t_min, plus its standard error (from the residuals: the speed noise of
 * the samples); 0 if too few samples.  The slope that is reported is the
 * least-steep one within one standard error, so that the noise of a
 * roadside sensor's speeds (0.3 m/s is typical: +-0.4 m/s^2 on a slope
 * over one second) does not make moderate braking look hard; exact speeds
 * (BSMs) have no residuals and lose nothing.
 */
static float speed_slope(const struct hb_hist *h, uint64_t window_ns,
			 uint64_t t_min, float *v_first)
{
	uint64_t t_new = h->t[h->head], t0;
	double st = 0, sv = 0, stt = 0, stv = 0, x, b, a, r, sse = 0, sxx;
	int i, n = 0, idx;

	for (i = 0; i < h->n; i++) {
		idx = (h->head + HB_HIST - i) % HB_HIST;
		if (t_new - h->t[idx] > window_ns || h->t[idx] < t_min)
			break;
		n++;
	}
	if (n < 4)
		return 0.0f;
	t0 = h->t[(h->head + HB_HIST - (n - 1)) % HB_HIST];
	if (t_new - t0 < window_ns / 2)
		return 0.0f;
	for (i = 0; i < n; i++) {
		idx = (h->head + HB_HIST - i) % HB_HIST;
		x = (double)(h->t[idx] - t0) * 1e-9;
		st += x;
		sv += h->v[idx];
		stt += x * x;
		stv += x * h->v[idx];
	}
	*v_first = h->v[(h->head + HB_HIST - (n - 1)) % HB_HIST];
	x = n * stt - st * st;
	if (x <= 0)
		return 0.0f;
	b = (n * stv - st * sv) / x;
	a = (sv - b * st) / n;
	for (i = 0; i < n; i++) {
		idx = (h->head + HB_HIST - i) % HB_HIST;
		r = h->v[idx] - (a + b * (double)(h->t[idx] - t0) * 1e-9);
		sse += r * r;
	}
	sxx = x / n;
	/* Towards zero by one standard error of the slope. */
	b += sqrt(sse / (n - 2) / sxx) * (b < 0 ? 1 : -1);
	if ((b < 0) != (n * stv - st * sv < 0))
		return 0.0f;
	return (float)b;
}

/*
 * Has the track reappeared rather than moved on: silent for longer than
 * GAP_NS, or further from its last sample than any vehicle drives in the
 * time between (a TemporaryID that comes back elsewhere, a sensor track
 * that jumped to another object)?  Its earlier history then says nothing
 * about its braking now, and the warm-up starts again.
 */
static int hb__reappeared(const struct hb_hist *h, const struct det_sample *s)
{
	double dt = (double)(s->t_ns - h->t[h->head]) * 1e-9;
	double dx = s->x - h->x, dy = s->y - h->y;
	double reach = JUMP_M + MAX_SPEED_MPS * dt;

	if (s->t_ns - h->t[h->head] > GAP_NS)
		return 1;
	return dx * dx + dy * dy > reach * reach;
}

static void hb_on_sample(void *self, const struct det_sample *s,
			 struct det_env *env)
{
	struct hard_braking *hb = self;
	struct det_candidate c;
	struct det_entry *e;
	struct hb_hist *h;
	float decel = 0, v_first = 0, slope;
	int created, hit = 0;

	if (s->cls == V2X_CLASS_PEDESTRIAN || s->cls == V2X_CLASS_CYCLIST)
		return;
	e = detect__lanes_update(hb->dl, s, &created);
	if (!e)
		return;
	h = &hb->hist[detect__lanes_index(hb->dl, e)];
	if (created || h->track_id != s->track_id) {
		memset(h, 0, sizeof(*h));
		h->track_id = s->track_id;
		h->first_ns = s->t_ns;
	} else if (h->n && s->t_ns > h->t[h->head] && hb__reappeared(h, s)) {
		memset(h, 0, sizeof(*h));
		h->track_id = s->track_id;
		h->first_ns = s->t_ns;
	}
	if (h->n && s->t_ns <= h->t[h->head])
		return; /* not newer: nothing to learn */
	h->x = s->x;
	h->y = s->y;
	h->head = (uint8_t)((h->head + 1) % HB_HIST);
	h->t[h->head] = s->t_ns;
	h->v[h->head] = s->speed_mps;
	if (h->n < HB_HIST)
		h->n++;

	if (hb->use_flag && s->has_event_flags &&
	    (s->event_flags & V2X_EVENT_FLAG_HARD_BRAKING)) {
		hit = 1;
		decel = hb->decel;
	}
	if (isfinite(s->accel_mps2) && s->accel_mps2 <= -hb->decel &&
	    s->speed_mps >= hb->min_speed * 0.5f) {
		if (++h->accel_hits >= 2) {
			hit = 1;
			decel = fmaxf(decel, -s->accel_mps2);
		}
	} else {
		h->accel_hits = 0;
	}
	/* Speed history from the warm-up on: braking during it is not judged. */
	slope = speed_slope(h, hb->window_ns, h->first_ns + hb->warmup_ns,
			    &v_first);
	if (slope <= -hb->decel && v_first >= hb->min_speed) {
		/* Two in a row: see the top of the file. */
		if (h->slope_hits < UINT8_MAX)
			h->slope_hits++;
		if (h->slope_hits >= 2) {
			hit = 1;
			decel = fmaxf(decel, -slope);
		}
	} else {
		h->slope_hits = 0;
	}
	if (e->against)
		PRIV(e)->against_ns = s->t_ns ? s->t_ns : 1;
	if (!hit || s->t_ns - h->first_ns < hb->warmup_ns)
		return;
	/* A wrong-way driver braking (for the traffic it meets) is part of
	 * the wrong-way incident, reported by its own detector. */
	if (PRIV(e)->against_ns && s->t_ns - PRIV(e)->against_ns < AGAINST_NS)
		return;
	detect__cand_from_sample(&c, V2X_EVT_HARD_BRAKING, s);
	c.severity = decel >= 1.5f * hb->decel ? 6 : 4;
	env->raise(env->owner, &c);
}

static void hb_free(void *self)
{
	struct hard_braking *hb = self;

	if (!hb)
		return;
	detect__lanes_free(hb->dl);
	free(hb->hist);
	free(hb);
}

/* detect__lanes_only_tick() and _free() take the state as its table pointer. */
_Static_assert(offsetof(struct hard_braking, dl) == 0, "dl must come first");

static const struct detector_ops hb_ops = {
	.name = "hard_braking",
	.on_sample = hb_on_sample,
	.tick = detect__lanes_only_tick,
	.free = hb_free,
};

/**
 * detect__hard_braking_new() - see detect_common.h.
 */
struct detector detect__hard_braking_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct hard_braking *hb = calloc(1, sizeof(*hb));
	uint32_t cap;

	if (!hb)
		return d;
	hb->dl = detect__lanes_for(cfg, shared);
	if (!hb->dl) {
		free(hb);
		return d;
	}
	cap = detect__lanes_capacity(hb->dl);
	hb->hist = calloc(cap, sizeof(*hb->hist));
	if (!hb->dl || !hb->hist) {
		hb_free(hb);
		return d;
	}
	hb->decel = cfg->hard_braking.decel_mps2;
	hb->min_speed = cfg->hard_braking.min_speed_mps;
	hb->window_ns = (uint64_t)cfg->hard_braking.window_ms * 1000000u;
	hb->use_flag = cfg->hard_braking.use_flag;
	hb->warmup_ns = (uint64_t)cfg->hard_braking.warmup_ms * 1000000u;
	d.ops = &hb_ops;
	d.self = hb;
	return d;
}

/**
 * detect_hard_braking_new() - see detect_config.h.
 */
struct detector detect_hard_braking_new(const struct detect_config *cfg)
{
	return detect__hard_braking_new(cfg, NULL);
}
