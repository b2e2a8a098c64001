/* SPDX-License-Identifier: MIT */
/*
 * detect_collision.c - forward collision risk.
 *
 * For each vehicle sample, its leader is the nearest vehicle ahead in the
 * same lane (per-lane ordering by distance along the lane, det_lanes), at
 * most max_gap_m away.  With the bumper gap g = centre distance minus half
 * of both lengths (4.5 m each when unknown) and the closing speed
 * v = v_follower - v_leader, the time to collision is g / v.  The centres'
 * distances along the lane are moved at the speeds and only pulled
 * towards the measured positions with the time constant
 * lateral_filter_s, like the offsets across it (col__lat_update()): GNSS
 * errors drift over seconds, and two of them drifting apart shorten a
 * gap by metres that the speeds do not close.  A TTC under
 * ttc_s with v > min_closing_mps, held for persist_ms, makes the follower
 * a candidate (both tracks involved): the time between samples in a row
 * at risk counts, twice over under half the threshold (a near-collision
 * closing fast leaves no time to wait); dips shorter than GRACE_NS do
 * not restart the count but add nothing to it, nor does a silence
 * (no samples) longer than GRACE_NS.  Samples of a fused
 * track come from several sources, not in time order: an older one
 * neither adds time nor ends a grace.  Vehicles closer than DUP_DIST_M
 * centre to centre are taken as a second track of the same road user
 * (another sensor's, or its BSM's, before association) and looked past; a
 * leader overlapping the follower (g <= 0) is skipped - unless it is the
 * leader the follower was already closing on at risk (also once closer
 * than DUP_DIST_M, or with noisy positions crossed): then the gap shrank
 * to nothing (a near-collision; noisy positions of two vehicles a metre
 * apart overlap) and the TTC is 0.  Only a confirmed
 * leader counts (detect__lanes_leader(): seen in fusion.confirm_samples
 * samples, the latest within fusion.leader_max_age_ms of the follower's,
 * its position carried to the follower's sample time): a roadside
 * sensor's one-frame false detection in a lane is no vehicle to run
 * into.  A follower slower
 * than min_speed_mps is not judged: in a queue creeping along or starting
 * at a green light gaps are a few metres, and sensor speed noise on both
 * vehicles then gives TTCs under the threshold that are no hazard (forward
 * collision warnings are commonly inhibited at such speeds) - unless its
 * latest sample was at risk behind the same leader: a follower braking
 * into a leader that stopped short slows through the floor while the
 * risk goes on, and the floor is for starting a risk, not for ending one
 * (intersection seed 27 incident 13: a connected car at 4.4 m/s, TTC
 * 0.9-1.4 s to a leader braking to 0.4 m/s, fell under 2.5 m/s 0.7 s
 * into the risk - one sample short of persist_ms - and stopped 1.2 m
 * behind it).  Under the floor the gaps are a few metres and the
 * positions' errors weigh on them: a sample there is at risk only if its
 * TTC is under ttc_s with the gap longer by lateral_margin_m (the
 * positions' uncertainty, along the lane as across it) - seed 27's was
 * (1.17 s), while intersection seed 31 at 128.0 s, a connected car
 * braking to a stop behind a standing one, true TTC never under 1.62 s,
 * measured 1.38 s through GNSS errors 0.56 m short, was not (1.66 s).
 *
 * The leader must also be in the follower's path, not merely matched to
 * the same lane: its heading within path_heading_deg of the lane's direction
 * (where lanes cross, in a junction box, a vehicle standing across the
 * follower's way lies on its lane's line but is no vehicle ahead in the
 * lane; the heading of a standing leader counts only from its BSM), and
 * the lateral distance between the two centres (each track's
 * offset from the lane's centre line, dead-reckoned along its heading
 * and pulled towards the measured offsets with the time constant
 * lateral_filter_s) under half the sum of their widths, i.e. the two
 * bodies overlap sideways - and still will when the follower gets there,
 * if the two move apart sideways (speeds across the lane from headings
 * relative to the lane).  A follower pulling out to pass a slow or
 * stopped vehicle, or one in the next lane that map matching put in the
 * leader's lane, closes on it with a short "TTC" and no risk of hitting
 * it.  One steering away from its leader (at steer_away_mps or more) is
 * a risk only if its body is predicted to overlap the leader's by more
 * than lateral_margin_m when it gets there: positions from GNSS and
 * radar are uncertain by about that much, and a driver steering round
 * the vehicle ahead is seen to avoid it.  Once its front is level with
 * the leader's rear (gap <= 0), one steering away is beside it, passing
 * it: had the bodies overlapped sideways there it would have run into
 * it, and the overlap the positions still show is their error (relative
 * GNSS errors of two vehicles reach a metre).  The TTC of 0 a gap
 * shrunk to nothing gives holds only for a follower closing on its
 * leader without steering away from it.  (Intersection seed 4: a car
 * queued 3.3 m behind a stopped one pulled out round it at 1 m/s
 * across, accelerating from walking pace, and passed its corner within
 * centimetres; GNSS errors of about 0.7 m towards each other put the
 * bodies 0.65-1.3 m across instead of 1.2-1.7 m.  Its first two samples
 * judged (faster than min_speed_mps only 0.5 m behind it) and three
 * level with it at TTC 0, each counted twice over, made a collision
 * risk that the truth does not have: the TTC was under the threshold,
 * the bodies predicted to overlap, for 0.5 s.)
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "v2x/msg.h"
#include "detect_common.h"

#define PRIV(e) (&(e)->priv.collision)

#define DUP_DIST_M 3.5f
#define DEFAULT_LEN_M 4.5f
#define DEFAULT_WIDTH_M 1.8f
#define GRACE_NS 300000000ull
#define AGE_NS 500000000ull  /* samples this far apart describe one moment */
#define LAT_RESTART_S 1.0    /* lateral record older than this: start over */
#define LAT_MIN_STEP_S 0.05f /* correction weight of a sample no newer
			      * than the record (another source's) */
#define ALONG_RESET_M 3.0f   /* a measured position this far from the
			      * dead-reckoned one along the lane is no
			      * error of the positions (GNSS: 0.5 m,
			      * drifting; radar: 0.3 m) but a new fix - a
			      * sensor taking over a lost track, a track
			      * re-associated: start over */

/* Where a track lies in its lane, across and along it (parallel to the
 * det_lanes entries). */
struct col_lat {
	uint64_t track_id; /* whose this is (entries are recycled) */
	uint64_t t_ns;     /* time the offset is estimated for */
	int32_t lane;      /* lane the offset is measured from */
	float off;         /* lateral offset from the centre line, m: moved
			    * along the heading, pulled towards the
			    * measured offsets */
	float along;       /* distance along the lane at t_ns, m: moved at
			    * the speed along the lane, pulled towards the
			    * measured positions */
	float valong;      /* speed along the lane, m/s (< 0 against it) */
	float heading_err; /* latest heading minus the lane's direction, deg */
	float vlat;        /* across the lane, m/s, > 0 to the left */
	float width;       /* m */
};

struct collision {
	struct det_lanes *dl;
	struct col_lat *lat; /* one per table entry */
	float ttc, min_closing, max_gap, min_speed;
	float path_deg, heading_min, lat_tau, steer_away, lat_margin;
	uint32_t persist_ms;
};

/*
 * Record the position in its lane of sample @s of entry @e.  The offset
 * is dead-reckoned along the heading (a vehicle's heading relative to
 * its lane says how fast it moves across it, far more precisely than
 * GNSS or radar positions, whose errors of half a metre and more drift
 * slowly) and pulled towards each measured offset with the time
 * constant lat_tau: the noise of the positions averages out, the
 * sideways motion of a lane change does not lag.  The distance along
 * the lane likewise, moved at the speed along it: a GNSS error that
 * drifts a metre forward on one vehicle and back on the one ahead of it
 * in two seconds makes a gap 2 m short that the speeds do not close
 * (highway seed 22 at 221.4 s: a TTC of 1.9 s measured 1.3 s for 0.8 s),
 * while braking shows in the speeds at once.
 */
static struct col_lat *col__lat_update(struct collision *co,
				       const struct det_entry *e,
				       const struct det_sample *s)
{
	struct col_lat *l = &co->lat[detect__lanes_index(co->dl, e)];
	float off = s->match.offset_m, along = s->match.along_m;
	float vlat = 0, valong = s->speed_mps, step, k;
	double dt;

	/* Heading clockwise of the lane's direction: moving to the right.
	 * A slow road user's heading means nothing (taken as along the
	 * lane). */
	if (s->speed_mps >= co->heading_min) {
		float he = s->match.heading_err_deg * (float)M_PI / 180.0f;

		vlat = -s->speed_mps * sinf(he);
		valong = s->speed_mps * cosf(he);
	}
	if (!isfinite(vlat))
		vlat = 0;
	if (!isfinite(valong))
		valong = 0;
	dt = s->t_ns > l->t_ns ? (double)(s->t_ns - l->t_ns) * 1e-9 : 0;
	/* A sample older than the record (another source's): its
	 * position carried to the record's time. */
	if (s->t_ns < l->t_ns)
		along += valong * (float)((double)(l->t_ns - s->t_ns) * 1e-9);
	if (l->track_id != s->track_id || l->lane != s->match.lane ||
	    !isfinite(l->off) || !isfinite(l->along) || dt > LAT_RESTART_S ||
	    fabsf(along - (l->along + 0.5f * (l->valong + valong) * (float)dt)) >
		    ALONG_RESET_M) {
		l->track_id = s->track_id;
		l->lane = s->match.lane;
		l->off = off;
		l->along = s->match.along_m;
		l->t_ns = s->t_ns;
	} else {
		l->off += 0.5f * (l->vlat + vlat) * (float)dt;
		l->along += 0.5f * (l->valong + valong) * (float)dt;
		step = dt > LAT_MIN_STEP_S ? (float)dt : LAT_MIN_STEP_S;
		k = co->lat_tau > 0 ? step / (co->lat_tau + step) : 1.0f;
		l->off += k * (off - l->off);
		l->along += k * (along - l->along);
		if (s->t_ns > l->t_ns)
			l->t_ns = s->t_ns;
	}
	l->vlat = vlat;
	l->valong = valong;
	l->heading_err = s->match.heading_err_deg;
	l->width = s->width_m > 0 ? s->width_m : DEFAULT_WIDTH_M;
	return l;
}

/*
 * Where entry @e is along its lane at time @t_ns: its filtered position
 * (col__lat_update()) if it has one in this lane, else its latest
 * sample's, carried there at its speed (samples of different sources
 * are up to leader_max_age_ms apart, either way).
 */
static float col__along_at(const struct collision *co,
			   const struct det_entry *e, uint64_t t_ns)
{
	const struct col_lat *l = &co->lat[detect__lanes_index(co->dl, e)];
	float at = e->along_m, v = e->speed_mps;
	uint64_t t0 = e->t_ns;

	if (l->track_id == e->track_id && l->lane == e->lane &&
	    isfinite(l->along)) {
		at = l->along;
		v = l->valong;
		t0 = l->t_ns;
	}
	if (t_ns > t0)
		return at + v * (float)((double)(t_ns - t0) * 1e-9);
	return at - v * (float)((double)(t0 - t_ns) * 1e-9);
}

/*
 * Is @lead in the path of the follower at @fl, @ttc seconds from its rear
 * (@level: its front already level with the rear, the gap gone):
 * heading along the lane and overlapping it sideways, now and when the
 * follower gets there?  A leader with no lateral record of its own in
 * this lane (none yet) is taken as in the path.
 */
static int col__in_path(const struct collision *co, const struct col_lat *fl,
			const struct det_entry *lead, float ttc, int level)
{
	const struct col_lat *ll = &co->lat[detect__lanes_index(co->dl, lead)];
	float d, away, half, reach;

	if (ll->track_id != lead->track_id || ll->lane != fl->lane)
		return 1;
	if (fabsf(fl->heading_err) > co->path_deg)
		return 0;
	/* A standing object's heading is only known from its own BSM (a
	 * radar's is that of noise): a standing sensor-only leader is
	 * taken as in the lane whatever heading it reports. */
	if ((lead->speed_mps >= co->heading_min || (lead->sources & V2X_SRC_V2X)) &&
	    fabsf(ll->heading_err) > co->path_deg)
		return 0;
	/* d: where the leader is across the lane, seen from the follower. */
	d = ll->off - fl->off;
	half = (ll->width + fl->width) / 2;
	if (fabsf(d) >= half)
		return 0;
	/* How fast the two move apart sideways (a follower pulling out, a
	 * leader pulling away); only a separation counts: a drift towards
	 * each other adds no risk that the gap and TTC do not show, and
	 * heading noise must not hide a vehicle straight ahead. */
	away = d >= 0 ? ll->vlat - fl->vlat : fl->vlat - ll->vlat;
	if (away <= 0)
		return 1;
	reach = fabsf(d) + away * ttc;
	/* Steering out to pass: a risk only if the bodies are still
	 * predicted to overlap by more than the positions' uncertainty
	 * when it gets there - and not once it is there, level with the
	 * leader's rear and still moving away from it: passing it. */
	if (away >= co->steer_away)
		return !level && reach < half - co->lat_margin;
	return reach < half;
}

static void col_on_sample(void *self, const struct det_sample *s,
			  struct det_env *env)
{
	struct collision *co = self;
	const struct det_entry *lead;
	struct det_candidate c;
	struct det_entry *e;
	struct col_lat *fl;
	float gap, closing, ttc = INFINITY, lf, ll;
	int created, level = 0, judged;

	if (s->cls == V2X_CLASS_PEDESTRIAN || s->cls == V2X_CLASS_CYCLIST)
		return;
	e = detect__lanes_update(co->dl, s, &created);
	if (!e)
		return;
	fl = col__lat_update(co, e, s);
	lead = detect__lanes_leader(co->dl, e, DUP_DIST_M, co->max_gap);
	/* The leader it was closing on at risk, now closer than DUP_DIST_M:
	 * the near-collision going on, not a second track of itself. */
	if (PRIV(e)->risk_ns && PRIV(e)->leader_id) {
		const struct det_entry *was = detect__lanes_get(co->dl, PRIV(e)->leader_id);

		if (was && was != e && was->lane == e->lane &&
		    fabsf(was->along_m - e->along_m) < DUP_DIST_M &&
		    (was->t_ns > s->t_ns ? was->t_ns - s->t_ns : s->t_ns - was->t_ns) <= AGE_NS)
			lead = was;
	}
	/* Slower than min_speed_mps: judged only going on at risk behind
	 * the same leader. */
	judged = s->speed_mps >= co->min_speed ||
		 (lead && PRIV(e)->risk_ns && PRIV(e)->at_risk &&
		  lead->track_id == PRIV(e)->leader_id);
	if (lead && judged &&
	    lead->cls != V2X_CLASS_PEDESTRIAN &&
	    lead->cls != V2X_CLASS_CYCLIST) {
		lf = e->length_m > 0 ? e->length_m : DEFAULT_LEN_M;
		ll = lead->length_m > 0 ? lead->length_m : DEFAULT_LEN_M;
		/* Both where they are (were) at the follower's sample time,
		 * by their filtered positions. */
		gap = col__along_at(co, lead, s->t_ns) -
		      col__along_at(co, e, s->t_ns) - (lf + ll) / 2;
		/* The risk leader, closer than a duplicate: touching, the
		 * leader carried to the follower's sample time. */
		if (lead->along_m - e->along_m < DUP_DIST_M) {
			if (s->t_ns > lead->t_ns)
				gap = lead->speed_mps * (float)((double)(s->t_ns - lead->t_ns) * 1e-9);
			else
				gap = -lead->speed_mps * (float)((double)(lead->t_ns - s->t_ns) * 1e-9);
		}
		closing = e->speed_mps - lead->speed_mps;
		if (gap > 0 && closing > co->min_closing)
			ttc = gap / closing;
		/* The gap to the leader it was already closing on at risk
		 * shrank to nothing: a near-collision, not a duplicate. */
		else if (gap <= 0 && closing > co->min_closing &&
			 PRIV(e)->leader_id == lead->track_id) {
			ttc = 0;
			level = 1;
		}
		if (ttc < co->ttc && !col__in_path(co, fl, lead, ttc, level))
			ttc = INFINITY;
		/* Going on under the floor: a risk beyond the positions'
		 * uncertainty only. */
		if (s->speed_mps < co->min_speed && ttc < co->ttc &&
		    (fmaxf(gap, 0) + co->lat_margin) / closing >= co->ttc)
			ttc = INFINITY;
	}
	if (!(ttc < co->ttc)) {
		/* Samples of the track's other source may be older than the
		 * latest one at risk: they change nothing. */
		if (s->t_ns <= PRIV(e)->last_risk_ns)
			return;
		PRIV(e)->at_risk = 0; /* the latest sample is not at risk */
		if (PRIV(e)->reported || s->t_ns - PRIV(e)->last_risk_ns > GRACE_NS) {
			PRIV(e)->risk_ns = 0;
			PRIV(e)->reported = 0;
		}
		return;
	}
	PRIV(e)->leader_id = lead->track_id;
	if (!PRIV(e)->risk_ns) {
		PRIV(e)->risk_ns = s->t_ns ? s->t_ns : 1;
		PRIV(e)->last_risk_ns = s->t_ns;
		PRIV(e)->risk_ms = 0;
		PRIV(e)->at_risk = 1;
	} else if (s->t_ns > PRIV(e)->last_risk_ns) {
		/* Evidence: the time between two samples in a row at risk
		 * (a dip shorter than the grace does not restart the count,
		 * but is no time at risk: a TTC hovering about the threshold
		 * is not one under it), twice over while the TTC is under
		 * half the threshold - a near-collision closing that fast
		 * leaves no time to wait. */
		float w = ttc < co->ttc / 2 ? 2.0f : 1.0f;
		uint64_t dt = s->t_ns - PRIV(e)->last_risk_ns;

		/* A track silent for longer than the grace (a sensor's
		 * missed frames, a BSM gap) was not seen at risk in
		 * between: that time is no evidence, or a sample after a
		 * second's silence would raise at once. */
		if (PRIV(e)->at_risk && dt <= GRACE_NS)
			PRIV(e)->risk_ms += w * (float)((double)dt * 1e-6);
		PRIV(e)->last_risk_ns = s->t_ns;
		PRIV(e)->at_risk = 1;
	}
	if (PRIV(e)->risk_ms < (float)co->persist_ms)
		return;
	PRIV(e)->reported = 1;
	detect__cand_from_sample(&c, V2X_EVT_COLLISION_RISK, s);
	c.severity = ttc < co->ttc / 2 ? 6 : 5;
	c.n_tracks = 2;
	c.tracks[1] = lead->track_id;
	c.sources |= lead->sources;
	env->raise(env->owner, &c);
}

static void col_free(void *self)
{
	struct collision *co = self;

	if (!co)
		return;
	detect__lanes_free(co->dl);
	free(co->lat);
	free(co);
}

/* detect__lanes_only_tick() takes the state as its table pointer. */
_Static_assert(offsetof(struct collision, dl) == 0, "dl must come first");

static const struct detector_ops col_ops = {
	.name = "collision_risk",
	.on_sample = col_on_sample,
	.tick = detect__lanes_only_tick,
	.free = col_free,
};

/**
 * detect__collision_new() - see detect_common.h.
 */
struct detector detect__collision_new(const struct detect_config *cfg,
				 struct det_lanes *shared)
{
	struct detector d = { NULL, NULL };
	struct collision *co = calloc(1, sizeof(*co));

	if (!co)
		return d;
	co->dl = detect__lanes_for(cfg, shared);
	if (!co->dl) {
		free(co);
		return d;
	}
	co->lat = calloc(detect__lanes_capacity(co->dl), sizeof(*co->lat));
	if (!co->lat) {
		col_free(co);
		return d;
	}
	co->ttc = cfg->collision.ttc_s;
	co->min_closing = cfg->collision.min_closing_mps;
	co->max_gap = cfg->collision.max_gap_m;
	co->min_speed = cfg->collision.min_speed_mps;
	co->persist_ms = cfg->collision.persist_ms;
	co->path_deg = cfg->collision.path_heading_deg;
	co->heading_min = cfg->collision.heading_min_mps;
	co->lat_tau = cfg->collision.lateral_filter_s;
	co->steer_away = cfg->collision.steer_away_mps;
	co->lat_margin = cfg->collision.lateral_margin_m;
	d.ops = &col_ops;
	d.self = co;
	return d;
}

/**
 * detect_collision_new() - see detect_config.h.
 */
struct detector detect_collision_new(const struct detect_config *cfg)
{
	return detect__collision_new(cfg, NULL);
}
