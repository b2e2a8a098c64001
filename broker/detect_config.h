/* SPDX-License-Identifier: MIT */
/*
 * detect_config.h - thresholds of the event detectors, the event lifecycle
 * and map matching / association, with defaults, settable from the INI file
 * ([detect.<name>], [events], [fusion] sections); and the constructors of
 * the detectors (detect_<name>.c).
 *
 * Every threshold is documented in docs/events.md.  Times are in
 * milliseconds in the file and in the struct, speeds in m/s unless the name
 * says otherwise.
 *
 * Threading: a struct detect_config is plain data; the detectors copy what
 * they need when they are constructed.
 */
#ifndef V2X_BROKER_DETECT_CONFIG_H
#define V2X_BROKER_DETECT_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "detect.h"

struct detect_config {
	struct {
		uint32_t hold_ms;         /* clear after this long unraised */
		uint32_t min_update_ms;   /* at most one update per this period */
		float update_move_m;      /* position change that is material */
		float merge_radius_m;     /* same type, same lane/segment, closer
					   * than this: the same incident */
		float merge_moving_m;     /* the same for incidents that move
					   * (wrong way, speeding): a new track
					   * of the same vehicle (TemporaryID
					   * change) is found further away */
		float merge_queue_m;      /* the same for stopped vehicles in one
					   * lane: the queue behind a stopped
					   * vehicle is part of its incident */
		float merge_side_m;       /* stopped vehicles in adjacent lanes
					   * of a segment closer than this: one
					   * obstruction across the lanes */
		float reaction_radius_m;  /* a vehicle stopped this close to an
					   * active wrong-way or vru-on-road
					   * event reacts to it: no new
					   * stopped-vehicle event */
		int jam_holds_stopped;    /* no new stopped-vehicle event on a
					   * segment with active congestion */
		uint32_t max_events;      /* active events at once */
		uint64_t id_base;         /* first event id - 1; 0 = derive from
					   * the wall clock at events_new() */
	} events;
	struct {
		float lane_tolerance_m;   /* match buffer beyond width/2 */
		float lane_tie_m;         /* lateral distances closer than this
					   * are a tie broken by heading */
		float gate_m;             /* association gate, metres */
		float gate_speed_mps;     /* association gate on speed */
		float gate_heading_deg;   /* association gate on heading */
		float gate_lateral_m;     /* ... across a moving track's heading */
		uint32_t merge_frames;    /* frames in a row an established
					   * sensor-only object must match the
					   * same V2X track before it merges */
		uint32_t max_candidates;  /* tracks considered per frame */
		uint32_t max_objects;     /* sensor objects remembered */
		uint32_t object_ttl_ms;   /* forget an unseen sensor object */
		uint32_t lane_capacity;   /* tracks remembered per detector */
		uint32_t stale_ms;        /* a track unseen this long is gone */
		uint32_t confirm_samples; /* samples in a row before a track is
					   * a road user to its neighbours (a
					   * leader) and counts in congestion */
		uint32_t leader_max_age_ms; /* a leader's latest sample at most
					     * this far from the follower's */
	} fusion;
	struct {
		int enabled;
		float speed_mps;          /* below: stopped */
		float resume_mps;         /* above: moving again (hysteresis) */
		uint32_t persist_ms;      /* stopped this long: incident */
		float queue_zone_m;       /* within this of a signalised stop
					   * line: may be waiting */
		uint32_t green_grace_ms;  /* waiting still plausible this long
					   * after the signal turned green */
		float jam_lookahead_m;    /* slow leader closer: a jam */
		float jam_speed_mps;      /* leader slower than this: a jam */
		uint32_t junction_wait_ms; /* stopped this long on a junction
					    * connector: incident */
		uint32_t reason_hold_ms;  /* still waiting this long after the
					   * reason (signal, queue, wrong-way
					   * driver) went away */
		uint32_t crawl_ms;        /* below jam_speed_mps this long before
					   * stopping: stop-and-go ... */
		uint32_t crawl_persist_ms; /* ... then stopped this long to be
					    * an incident */
		uint32_t obstruction_ms;  /* a spot where a stopped vehicle left
					   * sideways is an obstruction this
					   * long after the latest departure */
		float closure_upstream_m; /* a vehicle standing in a lane the
					   * cloud announced closed, at most
					   * this far before the closure (or
					   * inside it), waits at the closure:
					   * not a stopped vehicle */
		uint32_t wrong_way_memory_ms; /* a vehicle stopping in the path
					   * of a wrong-way driver seen less
					   * than this long ago (within the
					   * distance it can have covered)
					   * faces it, even unseen */
		float queue_lookahead_m;  /* a slow vehicle ahead in the lane
					   * beyond jam_lookahead_m but within
					   * this: maybe the queue's visible
					   * head - crawl_persist_ms */
	} stopped;
	struct {
		int enabled;
		float decel_mps2;         /* deceleration threshold (positive) */
		int use_flag;             /* honour eventHardBraking */
		uint32_t window_ms;       /* speed-history window for decel */
		float min_speed_mps;      /* ignore below this speed */
		uint32_t warmup_ms;       /* a track younger than this is not judged */
	} hard_braking;
	struct {
		int enabled;
		float heading_err_deg;    /* against the lane beyond this */
		float min_speed_mps;      /* above walking speed */
		uint32_t persist_ms;      /* evidence needed */
	} wrong_way;
	struct {
		int enabled;
		float tolerance_pct;      /* over limit by this percent ... */
		float tolerance_kph;      /* ... or this, whichever larger */
		uint32_t persist_ms;      /* sustained this long */
		float resume_kph;         /* below threshold minus this: ends */
	} speeding;
	struct {
		int enabled;
		int min_level;            /* lowest level raised as an event */
		float light_ratio;        /* space-mean speed / limit below: */
		float moderate_ratio;
		float heavy_ratio;
		float moderate_density;   /* veh/km/lane at or above: >= moderate */
		float heavy_density;      /* veh/km/lane at or above: heavy */
		float hysteresis;         /* ratio margin for stepping down */
		uint32_t up_ms;           /* a higher level holds this long */
		uint32_t down_ms;         /* a lower level holds this long */
		uint32_t min_vehicles;    /* fewer in a bin: free */
		float bin_m;              /* segment bin length, metres */
		float min_segment_m;      /* shorter segments (junction boxes)
					   * are not judged */
		float exclude_stop_m;     /* ignore vehicles this close to a
					   * signalised stop line */
	} congestion;
	struct {
		int enabled;
		float ttc_s;              /* time to collision below: risk */
		float min_closing_mps;    /* closing speed above */
		float max_gap_m;          /* leader search distance */
		uint32_t persist_ms;      /* sustained this long */
		float min_speed_mps;      /* follower slower than this: not
					   * judged (queues creeping along) */
		float path_heading_deg;   /* leader or follower heading off the
					   * lane by more: not in the path */
		float heading_min_mps;    /* slower: a sensor's heading (and
					   * a sideways speed) means nothing */
		float lateral_filter_s;   /* time constant pulling the offset
					   * dead-reckoned along the heading
					   * towards the measured one */
		float steer_away_mps;     /* follower moving sideways away from
					   * the leader at least this fast:
					   * steering out to pass */
		float lateral_margin_m;   /* ... still a risk only if its body
					   * is predicted to overlap the
					   * leader's by more (position noise) */
	} collision;
	struct {
		int enabled;
		uint32_t persist_ms;      /* inside a vehicle lane this long */
		int cyclists;             /* also raise for cyclists */
	} vru;
};

/*
 * detect_config_write_ini() - every detector, lifecycle and fusion key with
 * its value in @cfg, as INI sections (for --print-config and deploy/).
 */
void detect_config_write_ini(const struct detect_config *cfg, FILE *out);

/* detect_config_defaults() - fill @cfg with the documented defaults. */
void detect_config_defaults(struct detect_config *cfg);

/*
 * detect_config_set() - set one key from the INI file.  @section is
 * "events", "fusion" or "detect.<name>" (<name> = stopped_vehicle,
 * hard_braking, wrong_way, speeding, congestion, collision_risk,
 * vru_on_road).  Returns 0, or V2X_E_MISSING for an unknown section or key,
 * V2X_E_SYNTAX for a value that is not a number (or boolean), V2X_E_RANGE
 * for a value out of range; then @err (if not NULL) holds a one-line
 * explanation.  Any thread (touches only @cfg).
 */
int detect_config_set(struct detect_config *cfg, const char *section,
		      const char *key, const char *value, char *err,
		      size_t errlen);

/*
 * Detector constructors.  Each returns a detector whose ops are static and
 * whose state is allocated here, with a track table of its own (freed by
 * ops->free(self)); on out of memory .ops is NULL.  The configuration is
 * copied.  Fusion thread only.
 */
struct detector detect_stopped_new(const struct detect_config *cfg);
struct detector detect_hard_braking_new(const struct detect_config *cfg);
struct detector detect_wrong_way_new(const struct detect_config *cfg);
struct detector detect_speeding_new(const struct detect_config *cfg);
struct detector detect_congestion_new(const struct detect_config *cfg);
struct detector detect_collision_new(const struct detect_config *cfg);
struct detector detect_vru_new(const struct detect_config *cfg);

/*
 * detect_all_new() - construct every enabled detector into @out (room for
 * @max, 7 is enough); they share one track table (fusion.lane_capacity
 * entries), so a sample costs one lookup, not one per detector.  Returns
 * the number constructed, -ENOMEM, or V2X_E_LIMIT if @max is too small
 * (those already constructed are freed).  Free each with detect_free(), in
 * any order.
 */
int detect_all_new(const struct detect_config *cfg, struct detector *out,
		   int max);

/* detect_free() - free a detector made by a constructor; .ops NULL no-op. */
void detect_free(struct detector *d);

#endif
