/* SPDX-License-Identifier: MIT */
/*
 * detect_common.h - helpers shared by the detectors (module-internal).
 *
 * struct det_lanes keeps, per track, the detector's state and its latest
 * map-matched position; tracks on a lane are also kept on per-(lane, 20 m
 * cell) lists so that the leader of a vehicle (the nearest one ahead in
 * the same lane) is found by looking at a few cells, not by a scan.
 * Bounded: everything is allocated at creation; nothing per sample.
 *
 * Threading: fusion thread only.
 */
#ifndef V2X_BROKER_DETECT_COMMON_H
#define V2X_BROKER_DETECT_COMMON_H

#include <stdint.h>

#include "detect.h"
#include "detect_config.h"

#define DET_NONE UINT32_MAX

/*
 * Each detector's private state about one track, in every entry, so that
 * all detectors can share one table (one lookup per sample, not seven).
 * Zeroed with the entry (detect__lanes_update()); times are the track's
 * sender times.
 */

/* detect_stopped.c */
struct det_stopped_priv {
	uint8_t reported;      /* the stop is reported (a candidate) */
	uint8_t crawl_persist; /* this stop must last crawl_persist_ms: slow
				* traffic beside it or far ahead, or it
				* merged standing from a closed lane */
	uint8_t waited_at_closure; /* this stop has waited at a known
				    * closure */
	uint8_t judged;        /* slow traffic beside it or far ahead
				* judged for this stop (at persist_ms) */
	uint8_t flow_ahead;    /* standing before a known closure, it saw
				* a vehicle drive on ahead of it in its
				* lane, short of the closed stretch: the
				* closure's queue did not reach it */
	int32_t head_lane;     /* 1 + the lane it stood at the head of,
				* with no reason to wait (0: none; a
				* departure sideways from there is an
				* obstruction, note_departure()) */
	float head_along;      /* where along that lane it stood, m */
	uint64_t stop_ns;      /* stop start, 0 = not standing */
	uint64_t hold_until_ns; /* end of the reason hold: a reason to
				 * wait gone a moment ago still holds
				 * before this time */
	uint64_t crawl_ns;     /* crawling (below jam_speed_mps, 20 %
				* hysteresis) since, 0 = not crawling */
	float move_off_s;      /* when, after stop_ns, it began to move
				* off (0 = standing) */
	uint64_t far_track;    /* the slow vehicle far ahead that alone set
				* crawl_persist (0: none) */
};

/* detect_hard_braking.c */
struct det_hard_braking_priv {
	uint64_t against_ns;   /* latest sample moving against its lane,
				* 0 = none */
};

/* detect_wrong_way.c */
struct det_wrong_way_priv {
	uint8_t reported;      /* a wrong-way driver (a candidate); read by
				* detect_stopped.c */
	uint8_t seen;          /* it has had a sample here (lane and
				* last_ns are valid; a detector that runs
				* before this one may have created the
				* entry, zeroed) */
	uint8_t against;       /* its newest sample met the condition: the
				* time to the next one may count */
	int32_t lane;          /* lane its latest sample was matched to (-1
				* off the map), preferred for the next one */
	float evidence_s;      /* s of evidence (floor 0, ceiling
				* persist_ms) */
	uint64_t last_ns;      /* newest sample seen */
};

/* detect_speeding.c */
struct det_speeding_priv {
	uint8_t reported;      /* speeding (a candidate) */
	uint64_t over_ns;      /* onset of the current run over the
				* threshold, 0 = none */
	uint64_t last_over_ns; /* latest sample over it */
	uint64_t judged_ns;    /* latest sample of the track that counted
				* (newer samples only) */
};

/* detect_congestion.c */
struct det_congestion_priv {
	uint8_t in_bin;        /* counted in bin bin_idx's sums */
	uint8_t slow;          /* slower than moderate_ratio x limit:
				* counted in its bin's n_slow */
	int32_t bin_idx;       /* the bin it is counted in */
	float inv_speed;       /* 1 / speed, as added to the bin's sum */
	/* The position it added to its bin's sums.  e->lat/lon cannot be
	 * subtracted: detect__lanes_update() has already overwritten them
	 * with the next sample's when uncount() runs, and the sums drifted
	 * by every move (highway seed 5: event centroids 69-1727 m from the
	 * road of their segment). */
	int32_t lat, lon;
	uint64_t generation;   /* map generation bin_idx is of (0: never
				* counted) */
};

/* detect_collision.c */
struct det_collision_priv {
	uint8_t reported;      /* collision risk (a candidate) */
	uint8_t at_risk;       /* the latest sample is at risk: the time
				* to the next one counts */
	float risk_ms;         /* ms of evidence (time at risk, twice over
				* under half the TTC threshold) */
	uint64_t risk_ns;      /* start of the run at risk, 0 = none */
	uint64_t last_risk_ns; /* latest sample at risk */
	uint64_t leader_id;    /* the leader of its latest sample at risk
				* (kept when the risk ends; 0 = none) */
};

/* detect_vru.c */
struct det_vru_priv {
	uint8_t reported;      /* on the roadway (a candidate) */
	uint64_t inside_ns;    /* onset of the stay in a vehicle lane, 0 =
				* none */
	uint64_t last_inside_ns; /* latest sample inside */
};

struct det_priv {
	struct det_stopped_priv stopped;
	struct det_hard_braking_priv hard_braking;
	struct det_wrong_way_priv wrong_way;
	struct det_speeding_priv speeding;
	struct det_congestion_priv congestion;
	struct det_collision_priv collision;
	struct det_vru_priv vru;
};

/* One track's entry. */
struct det_entry {
	uint64_t track_id;
	/* index bookkeeping: next to the id, in the cache line that every
	 * update reads anyway */
	uint32_t cell_slot;    /* DET_NONE if not on a lane list */
	uint32_t next, prev;
	uint8_t used;
	uint64_t t_ns;         /* time of the latest sample (sender clock) */
	uint64_t seen;         /* tick clock at the latest sample */
	int32_t lane, segment; /* -1 when off the map */
	float along_m, speed_mps, length_m;
	int32_t lat, lon;
	uint8_t cls;
	uint8_t sources;
	uint8_t against;       /* moving against the lane's direction (kept
				* while standing: the last direction) */
	uint16_t n_samples;    /* samples of this appearance (saturating): a
				* track seen once or twice may be a false
				* detection, not a road user */
	uint32_t sensor_id;
	struct det_priv priv;  /* zeroed with the entry */
};

struct det_lanes;

/* Create a table for @capacity tracks; entries not updated for @stale_ns
 * of tick clock are ignored by queries and removed by sweeps.  NULL on out
 * of memory. */
struct det_lanes *detect__lanes_new(uint32_t capacity, uint64_t stale_ns);

/*
 * Track confirmation for neighbour queries: an entry is *confirmed* once it
 * has @confirm_samples samples in a row without a gap over 1 s (a roadside
 * sensor's single false detection is not a road user), and a leader is
 * only taken from entries whose latest sample is at most @leader_age_ns
 * older or newer than the asking vehicle's.  Defaults 1 and unlimited.
 */
void detect__lanes_set_confirm(struct det_lanes *dl, uint16_t confirm_samples,
			       uint64_t leader_age_ns);

/* 1 if @e is confirmed (see detect__lanes_set_confirm()). */
int detect__lanes_confirmed(const struct det_lanes *dl,
			    const struct det_entry *e);

/* Reference counting: a table shared by several detectors is freed when
 * the last one drops it (detect__lanes_free()). */
struct det_lanes *detect__lanes_ref(struct det_lanes *dl);
void detect__lanes_free(struct det_lanes *dl);

/* Capacity given to detect__lanes_new(). */
uint32_t detect__lanes_capacity(const struct det_lanes *dl);

/*
 * Register (@fn non-NULL) or remove (@fn NULL) the removal hook of @ctx:
 * called for every entry a sweep removes, whichever detector sweeps.  At
 * most 8 hooks.  Returns 0 or -ENOSPC.
 */
int detect__lanes_hook(struct det_lanes *dl,
		       void (*fn)(void *ctx, struct det_entry *e), void *ctx);

/* The entry of @track_id, or NULL. */
struct det_entry *detect__lanes_get(struct det_lanes *dl, uint64_t track_id);

/*
 * Record sample @s for its track (creating the entry, private fields
 * zeroed, *@created = 1) and move it to its lane/cell.  NULL when the table
 * is full (the sample is then not tracked).  The detectors sharing a table
 * pass the same sample one after the other: a sample identical to the one
 * just recorded (same bytes, same tick, no removal since) returns its entry
 * without a lookup or a rewrite (*@created = 0).
 */
struct det_entry *detect__lanes_update(struct det_lanes *dl,
				       const struct det_sample *s,
				       int *created);

/*
 * The nearest fresh, confirmed entry ahead of @e in its lane, farther than
 * @min_dist_m (closer ones are taken as duplicates of the same road user)
 * and at most @max_gap_m away (centre to centre), whose latest sample is
 * within the leader age of @e's (detect__lanes_set_confirm()), or NULL.
 */
const struct det_entry *detect__lanes_leader(const struct det_lanes *dl,
					     const struct det_entry *e,
					     float min_dist_m, float max_gap_m);

/*
 * Look at @budget entries and remove the stale ones (not updated for
 * stale_ns of tick clock), calling the removal hooks first, at most
 * DET_SWEEP_REMOVE_MAX (~0.1 ms of work): when more went silent at once,
 * the sweep stops there, and the entries it did not look at are looked at
 * a few per recorded sample (detect__lanes_update()) and first by the next
 * sweep.  Returns the number removed.  Scans round-robin, so repeated
 * calls cover the table.
 */
#define DET_SWEEP_REMOVE_MAX 64
int detect__lanes_sweep(struct det_lanes *dl, uint32_t budget);

/*
 * Per-tick upkeep of a shared table, called by every detector's tick():
 * the first call for a new tick clock value sweeps, the others return 0.
 * The budget follows the time since the last sweep so that the whole
 * table is looked at once per stale_ns / DET_SWEEP_FRACTION of tick clock
 * (a stale entry is removed at most that long after it went stale),
 * whatever the tick period and however many detectors share the table.
 * Returns the number of entries removed.
 */
#define DET_SWEEP_FRACTION 8
int detect__lanes_maintain(struct det_lanes *dl);

/* Work counters of a table (for tests and profiling). */
struct det_lanes_stats {
	uint64_t update_calls; /* detect__lanes_update() calls */
	uint64_t updates;      /* of which recorded (not a repeat) */
	uint64_t sweeps;       /* sweeps by detect__lanes_maintain() */
};

void detect__lanes_stats(const struct det_lanes *dl,
			 struct det_lanes_stats *st);

/*
 * Confirmed, fresh entries on @lane with @along_from <= along <= @along_to
 * slower than @speed_below (up to 64 cells looked at).
 */
int detect__lanes_slow_in(const struct det_lanes *dl, int32_t lane,
			  float along_from, float along_to, float speed_below);

/*
 * The tracks a road user may have had until a moment ago, for a new track
 * (a new BSM TemporaryID, a sensor object found again under a new id):
 * calls @fn(@ctx, o) for every entry o on @lane, other than @except_id's,
 * whose latest sample lies within @radius_m of @along along the lane
 * (|o->along_m - @along| <= @radius_m) and was taken at most @max_age_ns
 * before @t_ns and not after it (sender times).  Entries gone stale but
 * not yet swept are included: the sender times decide.  The detector's
 * policy (which of them is the same road user, what it takes over) is
 * @fn's; @fn may change the entries' private fields, not the table.
 * Looks at the lane's cells that the radius covers (up to 64; a wider
 * radius is cut to them), in no particular order.  Returns the number of
 * entries @fn was called for.
 */
int detect__lanes_seen_near(struct det_lanes *dl, int32_t lane, float along,
			    float radius_m, uint64_t t_ns, uint64_t max_age_ns,
			    uint64_t except_id,
			    void (*fn)(void *ctx, struct det_entry *o),
			    void *ctx);

/* Remove @e now. */
void detect__lanes_remove(struct det_lanes *dl, struct det_entry *e);

/* Index of @e in the table (0..capacity-1), for detectors' side arrays. */
uint32_t detect__lanes_index(const struct det_lanes *dl,
			     const struct det_entry *e);

/*
 * detect__lanes_tick() - advance the table's clock to the fusion tick's
 * @now_ns (any monotonic clock; never goes back) and return it.  Entries
 * remember the tick clock of their latest update: staleness and freshness
 * are judged on this local clock, not on sender times, so that a sender
 * clock that is skewed, slow (a replay) or wrong once cannot expire live
 * tracks or keep dead ones.
 */
uint64_t detect__lanes_tick(struct det_lanes *dl, uint64_t now_ns);

/*
 * Tick and free for a detector whose state struct starts with its
 * struct det_lanes * and has nothing else to maintain on a tick or to free:
 * the tick advances and maintains the shared table, the free drops the
 * table reference and frees the state (NULL is a no-op).
 */
void detect__lanes_only_tick(void *self, struct det_env *env);
void detect__lanes_only_free(void *self);

/* detect__lanes_now() - the clock of the last detect__lanes_tick(). */
uint64_t detect__lanes_now(const struct det_lanes *dl);

/*
 * Internal constructors: a detector on table @dl (NULL = its own table of
 * fusion.lane_capacity); it takes a reference.  .ops NULL on failure.
 */
struct detector detect__stopped_new(const struct detect_config *cfg,
				    struct det_lanes *dl);
struct detector detect__hard_braking_new(const struct detect_config *cfg,
					 struct det_lanes *dl);
struct detector detect__wrong_way_new(const struct detect_config *cfg,
				      struct det_lanes *dl);
struct detector detect__speeding_new(const struct detect_config *cfg,
				     struct det_lanes *dl);
struct detector detect__congestion_new(const struct detect_config *cfg,
				       struct det_lanes *dl);
struct detector detect__collision_new(const struct detect_config *cfg,
				      struct det_lanes *dl);
struct detector detect__vru_new(const struct detect_config *cfg,
				struct det_lanes *dl);

/* A table for a detector: @dl with a new reference, or a new one. */
struct det_lanes *detect__lanes_for(const struct detect_config *cfg,
				    struct det_lanes *dl);

/* Fill the common parts of a candidate from a sample. */
void detect__cand_from_sample(struct det_candidate *c, uint8_t type,
			      const struct det_sample *s);

/* Latest SPaT state of (intersection, signal group), or -1 if unknown. */
int detect__signal_state(const struct det_env *env, int32_t intersection_id,
			 int32_t signal_group);

/* 1 if a phase state means "must stop" (red, stop-then-proceed, dark). */
int detect__state_is_stop(int state);

#endif
