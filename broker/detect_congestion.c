/* SPDX-License-Identifier: MIT */
/*
 * detect_congestion.c - congestion level per road segment.
 *
 * Each confirmed vehicle's latest sample (fusion.confirm_samples) counts
 * in its segment's bin (bin_m of
 * distance along the lane; vehicle lanes only, not with its front within
 * exclude_stop_m of a stop line, where a signal queue is normal): running
 * sums per bin of the
 * count, of 1/speed (speeds floored at MIN_SPEED) and of the position,
 * updated incrementally per sample and when a track goes stale.  Bins let a
 * jam on part of a long segment show instead of being averaged away with
 * the free-flowing rest.  Every tick, per bin with at least min_vehicles:
 *   space-mean speed v = n / sum(1 / v_i)  (harmonic mean of spot speeds),
 *   ratio r = v / limit, density k = n / (length km * vehicle lanes);
 *   r counts as at least moderate_ratio + hysteresis (free or light) when
 *   fewer than MIN_SLOW (2) of the bin's vehicles are slower than
 *   moderate_ratio x limit: one slow vehicle is no queue;
 *   heavy    if r < heavy_ratio    or k >= heavy_density,
 *   moderate if r < moderate_ratio or k >= moderate_density,
 *   light    if r < light_ratio,   else free.
 * Hysteresis: stepping down is judged with the ratio thresholds raised by
 * `hysteresis` and the density thresholds lowered by that fraction.
 * The segment's level is that of its worst bin; a higher level must hold
 * up_ms before it is taken; stepping down takes the highest level the
 * (hysteresis) target reached in the last down_ms, counted from when the
 * target first fell below the level, however it moves below it.  A level
 * held while no bin
 * has min_vehicles is let go once nothing was raised for events.hold_ms
 * (the lifecycle has ended the event): congestion seen after that must
 * hold up_ms, as a new event.  A segment at min_level or
 * above is raised every tick (key = segment id, position = centroid of the
 * vehicles of its worst bin).  Segments shorter than min_segment_m
 * (junction boxes) are not judged.
 * A vehicle counted under a new track (a new BSM TemporaryID, a sensor
 * object found again under a new id) where a silent track of the same
 * lane would be by now is that vehicle: the old track stops counting at
 * once instead of when it goes stale (handover()).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/msg.h"
#include "detect_common.h"

#define PRIV(e) (&(e)->priv.congestion)
#include "roadmap.h"

#define MIN_SPEED 0.5f

/*
 * A bin's speed says congestion (moderate or heavy) only when at least
 * MIN_SLOW of its vehicles are slower than moderate_ratio x limit: a queue
 * is more than one vehicle.  With the few vehicles a partial penetration
 * shows, one slow vehicle among free-flowing ones pulls the harmonic mean
 * under half the limit on its own (any one under 6.6 m/s among three at
 * 22 m/s on a 100 km/h road): measured, highway seed 6, a car re-entering
 * the network at 3.3 m/s at the start of segment 7 among three connected
 * cars at 16-23 m/s raised a 13 s moderate congestion that the truth,
 * judging every vehicle of the bin, never had; highway seed 5, the
 * injected stopped vehicle of segment 1 (0 m/s among six at 15-24 m/s)
 * held its bin "heavy" (ratio 0.07-0.11) for 94 s.  One slow vehicle is a
 * stopped or slow vehicle, the other detectors' matter.
 */
#define MIN_SLOW 2

/*
 * A new track first counted within DUP_DIST_M (the stopped-vehicle
 * detector's: two vehicles cannot be that close in one lane) of where a
 * counted track of the same lane would be now at its last speed, whose
 * last sample is at most HANDOVER_NS old and not newer, is the same
 * vehicle.  A TemporaryID change leaves the old track in its bin until it
 * goes stale (fusion.stale_ms, 2 s): the vehicle counts twice.  Measured:
 * intersection seed 21 at 202.0 s, a connected car standing 152 m before
 * the stop line of segment 1 changed its TemporaryID at 200.9 s; its old
 * track stayed in the bin until 202.5 s, the bin held 4 vehicles (3 of
 * them slow) instead of 3 and raised a heavy congestion for 0.5 s that
 * the truth, judging every vehicle, never had.  The old tracks are
 * looked for on the lane index (detect__lanes_seen_near()) as far back as
 * HANDOVER_MAX_MPS covers in HANDOVER_NS: 80 m/s (288 km/h), more than
 * any road vehicle drives.
 */
#define DUP_DIST_M 3.5f
#define HANDOVER_NS 2000000000ull
#define HANDOVER_MAX_MPS 80.0f

struct bin_state {
	uint32_t n;
	uint32_t n_slow;   /* of n, slower than moderate_ratio x limit */
	double inv_sum, lat_sum, lon_sum;
};

struct seg_state {
	uint32_t first_bin, n_bins;
	uint8_t level, pending;    /* pending: a higher level held up_ms */
	uint64_t pending_since;
	/*
	 * below_since[l]: start of the current run of ticks whose step-down
	 * target was at or below level l (0: not now).  Not restarted when
	 * the target moves within that range.
	 */
	uint64_t below_since[4];
	uint64_t raised_ns;        /* tick clock of its latest candidate */
	uint8_t sources;
	uint32_t sensor_id;
};

struct congestion {
	struct det_lanes *dl;
	struct detect_config cfg;
	const struct roadmap *map; /* the map seg[] was built for */
	struct seg_state *seg;
	int n_seg;
	struct bin_state *bin;
	uint32_t n_bin;
	float bin_m;
	uint64_t generation;       /* bumped on a map change */
};

static int is_vehicle(uint8_t cls)
{
	return cls != V2X_CLASS_PEDESTRIAN && cls != V2X_CLASS_CYCLIST;
}

static void uncount(struct congestion *cg, struct det_entry *e)
{
	struct bin_state *sg;

	if (!PRIV(e)->in_bin)
		return;
	PRIV(e)->in_bin = 0;
	if (PRIV(e)->generation != cg->generation || PRIV(e)->bin_idx < 0 ||
	    (uint32_t)PRIV(e)->bin_idx >= cg->n_bin)
		return;
	sg = &cg->bin[PRIV(e)->bin_idx];
	sg->n--;
	sg->n_slow -= PRIV(e)->slow;
	sg->inv_sum -= PRIV(e)->inv_speed;
	sg->lat_sum -= PRIV(e)->lat;
	sg->lon_sum -= PRIV(e)->lon;
	if (!sg->n) {
		sg->inv_sum = sg->lat_sum = sg->lon_sum = 0;
		sg->n_slow = 0;
	}
}

static void on_remove(void *ctx, struct det_entry *e)
{
	uncount(ctx, e);
}

/* A new track's sample, for handover(). */
struct handover_ctx {
	struct congestion *cg;
	const struct det_sample *s;
};

static void drop_if_same(void *ctx, struct det_entry *o)
{
	struct handover_ctx *h = ctx;
	double dt, at;

	if (!PRIV(o)->in_bin)
		return;
	dt = (double)(h->s->t_ns - o->t_ns) / 1e9;
	at = o->along_m + o->speed_mps * dt;
	if (fabs(at - h->s->match.along_m) <= DUP_DIST_M)
		uncount(h->cg, o);
}

/*
 * @e is counted for the first time with sample @s: a counted track of the
 * same lane that has gone silent where @e now is (DUP_DIST_M), at most
 * HANDOVER_NS ago, is the same vehicle under its old id - it stops
 * counting.  If it sends again, its next sample counts it again.
 */
static void handover(struct congestion *cg, const struct det_sample *s)
{
	struct handover_ctx h = { cg, s };

	detect__lanes_seen_near(cg->dl, s->match.lane, s->match.along_m,
				DUP_DIST_M + HANDOVER_MAX_MPS *
					(float)(HANDOVER_NS / 1e9),
				s->t_ns, HANDOVER_NS, s->track_id,
				drop_if_same, &h);
}

/* Follow a map change: per-segment and per-bin state sized for the map. */
static int sync_map(struct congestion *cg, const struct roadmap *map)
{
	struct roadmap_segment_info si;
	struct seg_state *seg = NULL;
	struct bin_state *bin = NULL;
	uint32_t nb = 0;
	int n, i;

	if (map == cg->map)
		return cg->seg != NULL;
	n = map ? roadmap_segment_count(map) : 0;
	if (n > 0) {
		seg = calloc((size_t)n, sizeof(*seg));
		if (!seg)
			return 0;
		for (i = 0; i < n; i++) {
			roadmap_segment_at(map, i, &si);
			seg[i].first_bin = nb;
			/* Lanes of a segment differ a little in length: spare bin. */
			seg[i].n_bins = (uint32_t)(si.length_m / cg->bin_m) + 2;
			nb += seg[i].n_bins;
		}
		bin = calloc(nb, sizeof(*bin));
		if (!bin) {
			free(seg);
			return 0;
		}
	}
	free(cg->seg);
	free(cg->bin);
	cg->seg = seg;
	cg->n_seg = n;
	cg->bin = bin;
	cg->n_bin = nb;
	cg->map = map;
	cg->generation++;
	return seg != NULL;
}

static void cg_on_sample(void *self, const struct det_sample *s,
			 struct det_env *env)
{
	struct congestion *cg = self;
	struct roadmap_segment_info si;
	struct roadmap_lane_info li;
	struct seg_state *seg;
	struct bin_state *sg;
	struct det_entry *e;
	int created, idx;
	uint32_t b;

	if (!is_vehicle(s->cls))
		return;
	if (!sync_map(cg, env->map))
		return;
	e = detect__lanes_update(cg->dl, s, &created);
	if (!e)
		return;
	uncount(cg, e);
	/* Not (yet) a road user: a sensor's false detection with a random
	 * speed would weigh heavily in the harmonic mean. */
	if (!detect__lanes_confirmed(cg->dl, e))
		return;
	if (s->match.lane < 0 || roadmap_lane(env->map, s->match.lane, &li) < 0 ||
	    li.type != ROADMAP_LANE_VEHICLE)
		return;
	/*
	 * The exclusion is measured at the vehicle's front, where the
	 * natural truth (docs/simulator.md) and a queue measure it; a BSM or
	 * a sensor object gives the centre.  Measured: intersection seed 21
	 * at 190.8 s, a connected 12 m truck decelerating into the tail of a
	 * red-light queue with its front 146-150 m before the stop line was
	 * counted by its centre (152-156 m) in the bin beyond, among two cars
	 * at 10-13 m/s and one slowing to 5 m/s: 4 vehicles, 2 slow, ratio
	 * 0.49 - a moderate congestion for 0.6 s that the truth (every
	 * vehicle with its front in that bin: 4-5, ratio 0.58-0.72) never
	 * had; by its front the truck was not in the bin, which held 3
	 * connected vehicles.
	 */
	if (s->match.to_stop_line_m >= 0 &&
	    s->match.to_stop_line_m - fmaxf(s->length_m, 0.0f) / 2 <=
		    cg->cfg.congestion.exclude_stop_m)
		return;
	idx = roadmap_segment_index(env->map, s->match.segment);
	if (idx < 0 || roadmap_segment_at(env->map, idx, &si) < 0)
		return;
	seg = &cg->seg[idx];
	b = s->match.along_m > 0 ? (uint32_t)(s->match.along_m / cg->bin_m) : 0;
	if (b >= seg->n_bins)
		b = seg->n_bins - 1;
	sg = &cg->bin[seg->first_bin + b];
	if (!PRIV(e)->generation)
		handover(cg, s);
	PRIV(e)->bin_idx = (int32_t)(seg->first_bin + b);
	PRIV(e)->generation = cg->generation;
	PRIV(e)->inv_speed = 1.0f / fmaxf(s->speed_mps, MIN_SPEED);
	PRIV(e)->in_bin = 1;
	PRIV(e)->slow = s->speed_mps <
		cg->cfg.congestion.moderate_ratio * si.speed_limit_mps;
	PRIV(e)->lat = s->lat;
	PRIV(e)->lon = s->lon;
	sg->n++;
	sg->n_slow += PRIV(e)->slow;
	sg->inv_sum += PRIV(e)->inv_speed;
	sg->lat_sum += s->lat;
	sg->lon_sum += s->lon;
	seg->sources |= s->sources;
	if (s->sensor_id)
		seg->sensor_id = s->sensor_id;
}

static int level_of(const struct detect_config *cfg, double ratio,
		    double density, double margin)
{
	double dm = 1.0 - margin;

	if (ratio < cfg->congestion.heavy_ratio + margin || density >= cfg->congestion.heavy_density * dm)
		return V2X_CONGESTION_HEAVY;
	if (ratio < cfg->congestion.moderate_ratio + margin ||
	    density >= cfg->congestion.moderate_density * dm)
		return V2X_CONGESTION_MODERATE;
	if (ratio < cfg->congestion.light_ratio + margin)
		return V2X_CONGESTION_LIGHT;
	return V2X_CONGESTION_FREE;
}

static void cg_tick(void *self, struct det_env *env)
{
	struct congestion *cg = self;
	static const uint8_t sev[4] = { 0, 2, 3, 5 };
	struct roadmap_segment_info si;
	uint64_t now = detect__lanes_tick(cg->dl, env->now_ns);
	int i, up, down, target;

	detect__lanes_maintain(cg->dl);
	if (!sync_map(cg, env->map))
		return;
	for (i = 0; i < cg->n_seg; i++) {
		struct seg_state *sg = &cg->seg[i];
		const struct bin_state *worst = NULL;
		struct det_candidate c;
		double ratio, density, bin_len;
		uint32_t k;
		int lu, ld, skip;

		if (roadmap_segment_at(env->map, i, &si) < 0)
			continue;
		up = down = V2X_CONGESTION_FREE;
		/* Vehicles crawl through a junction box as a matter of course. */
		skip = si.length_m < cg->cfg.congestion.min_segment_m;
		bin_len = fmin(cg->bin_m, fmax(si.length_m, 1.0)) / 1000.0;
		for (k = 0; !skip && k < sg->n_bins; k++) {
			const struct bin_state *bs = &cg->bin[sg->first_bin + k];

			if (bs->n < cg->cfg.congestion.min_vehicles ||
			    !(si.speed_limit_mps > 0) || !(bs->inv_sum > 0))
				continue;
			ratio = bs->n / bs->inv_sum / si.speed_limit_mps;
			/* One slow vehicle is no queue (MIN_SLOW): at most
			 * light by speed. */
			if (bs->n_slow < MIN_SLOW)
				ratio = fmax(ratio, cg->cfg.congestion.moderate_ratio +
						    cg->cfg.congestion.hysteresis);
			density = bs->n / (bin_len * (si.n_lanes ? si.n_lanes : 1));
			lu = level_of(&cg->cfg, ratio, density, 0.0);
			ld = level_of(&cg->cfg, ratio, density,
				      cg->cfg.congestion.hysteresis);
			/* The worst bin: highest level, then most vehicles. */
			if (!worst || lu > up || (lu == up && bs->n > worst->n)) {
				worst = bs;
				up = lu;
			}
			if (ld > down)
				down = ld;
		}
		/*
		 * No bin with min_vehicles for events.hold_ms: nothing was
		 * raised, and the lifecycle has cleared the segment's event.
		 * The level held for down_ms was that event's; congestion
		 * seen next must hold up_ms as a new one.  Measured:
		 * intersection seed 2, segment 5, no bin of 4 vehicles from
		 * 223.6 s (the event cleared at 225.6 s); the level still
		 * held "heavy" was raised at 227.9 s, when a fourth car at
		 * 12 m/s entered a bin, as a new event (the truth's jam had
		 * ended at 222.7 s): a false positive.
		 */
		if (sg->level >= cg->cfg.congestion.min_level && !worst &&
		    now - sg->raised_ns >=
			    (uint64_t)cg->cfg.events.hold_ms * 1000000u) {
			sg->level = sg->pending = V2X_CONGESTION_FREE;
			sg->pending_since = now;
		}
		/*
		 * Down: the level steps to the lowest level l whose step-down
		 * target has stayed at or below l for down_ms, i.e. to the
		 * highest target of the last down_ms.  Each l keeps its own
		 * run, so a target that wanders below the level (light, free,
		 * light, ...) does not restart the hold: the segment steps to
		 * light down_ms after it first fell there.  A single pending
		 * target restarted at every flip.  Measured (replays): highway
		 * seed 2, segment 8, "heavy" held 15.2 s after its target fell
		 * to light, flipping light / free every 1.6-2.9 s; intersection
		 * seed 1, segment 6, "moderate" held from 89.0 s to 105.6 s
		 * while its target flipped light / free every 0.1-1.3 s (now
		 * light at 94.0 s).  Any tick at or above the level ends every
		 * run under it: a brief dip keeps the level.
		 */
		for (k = 0; k < 4; k++) {
			if (down > (int)k)
				sg->below_since[k] = 0;
			else if (!sg->below_since[k])
				sg->below_since[k] = now;
		}
		if (up > sg->level) {
			/* Up: the new level must hold up_ms. */
			target = up;
		} else {
			target = sg->level;
			for (k = 0; (int)k < sg->level; k++) {
				if (sg->below_since[k] &&
				    now - sg->below_since[k] >=
					    (uint64_t)cg->cfg.congestion.down_ms * 1000000u) {
					sg->level = (uint8_t)k;
					target = (int)k;
					break;
				}
			}
		}
		if (target != sg->pending) {
			sg->pending = (uint8_t)target;
			sg->pending_since = now;
		}
		if (sg->pending > sg->level &&
		    now - sg->pending_since >=
			    (uint64_t)cg->cfg.congestion.up_ms * 1000000u)
			sg->level = sg->pending;
		if (sg->level < cg->cfg.congestion.min_level || !worst || !worst->n)
			continue;
		memset(&c, 0, sizeof(c));
		c.type = V2X_EVT_CONGESTION;
		c.level = sg->level;
		c.severity = sev[sg->level];
		c.sources = sg->sources;
		c.sensor_id = sg->sensor_id;
		c.key = (uint64_t)(uint32_t)si.segment_id;
		c.t_ns = now;
		c.lat = (int32_t)llround(worst->lat_sum / worst->n);
		c.lon = (int32_t)llround(worst->lon_sum / worst->n);
		c.lane = -1;
		c.segment = si.segment_id;
		c.confidence = worst->n >= 2 * cg->cfg.congestion.min_vehicles ?
			0.9f : 0.7f;
		/* The position is the worst bin's centroid, which wanders
		 * with the traffic in it: only a move by a quarter of a bin
		 * is news (a level change always is). */
		c.move_m = (float)cg->bin_m / 4.0f;
		env->raise(env->owner, &c);
		sg->raised_ns = now;
	}
}

static void cg_free(void *self)
{
	struct congestion *cg = self;

	if (!cg)
		return;
	if (cg->dl)
		detect__lanes_hook(cg->dl, NULL, cg);
	detect__lanes_free(cg->dl);
	free(cg->seg);
	free(cg->bin);
	free(cg);
}

static const struct detector_ops cg_ops = {
	.name = "congestion",
	.on_sample = cg_on_sample,
	.tick = cg_tick,
	.free = cg_free,
};

/**
 * detect__congestion_new() - see detect_common.h.
 */
struct detector detect__congestion_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct congestion *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return d;
	cg->dl = detect__lanes_for(cfg, shared);
	if (!cg->dl) {
		free(cg);
		return d;
	}
	/* Sums must lose a track whichever detector's sweep removes it. */
	if (detect__lanes_hook(cg->dl, on_remove, cg) < 0) {
		detect__lanes_free(cg->dl);
		free(cg);
		return d;
	}
	cg->cfg = *cfg;
	cg->bin_m = cfg->congestion.bin_m > 10 ? cfg->congestion.bin_m : 10;
	cg->generation = 1;
	d.ops = &cg_ops;
	d.self = cg;
	return d;
}

/**
 * detect_congestion_new() - see detect_config.h.
 */
struct detector detect_congestion_new(const struct detect_config *cfg)
{
	return detect__congestion_new(cfg, NULL);
}
