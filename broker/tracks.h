/* SPDX-License-Identifier: MIT */
/*
 * tracks.h - the fusion stage's track table: one entry per road user
 * (a V2X vehicle by its TemporaryID, or a roadside-sensor object by
 * (sensor id, object id)), its latest state, a short history and a
 * uniform spatial grid for neighbour queries.
 *
 * Design
 * - Bounded memory, all allocated by track_table_new(); nothing is
 *   allocated per update.  Tracks live in a fixed pool (their addresses are
 *   stable until they expire); an open-addressing index (linear probing,
 *   power-of-two slots >= 2x capacity, deletion by backward shift, no
 *   tombstones) maps the 64-bit key to the pool entry.
 * - Positions are kept in local ENU metres (x east, y north) around the
 *   reference point: the configured one, or the first valid position seen.
 * - Spatial grid: square cells of TRACK_GRID_CELL_M metres, hashed by
 *   (cell x, cell y) into a fixed bucket array so that the road can be
 *   anywhere; each track is on a doubly linked list of its bucket; moved on
 *   update when it changes cell, removed on expiry.  The grid links, a copy
 *   of the position and the receive time live in a dense 48-byte record
 *   per track, apart from the large struct track, so that neighbour
 *   queries and expiry touch little memory.
 * - Expiry by silence (last_rx_ns, a local monotonic clock): one sequential
 *   pass over the dense records, about 0.1-0.3 ms at 100,000 tracks.
 * - The big arrays are mmap'ed with transparent huge pages requested.
 * - Track ids are unique 64-bit numbers, never reused: the first id of a
 *   table is the CLOCK_REALTIME time in microseconds at track_table_new(),
 *   then +1 per new track, so ids also stay unique across restarts (unless
 *   more than a million tracks per second are created for a long time).
 *
 * Memory: sizeof(struct track) is 2,536 bytes (TRACK_HIST = 50 samples of
 * 48 bytes, i.e. 5 s at 10 Hz, + 136 bytes of state); with the dense record
 * (48 B), the index (2-4 slots of 16 B) and grid (1-2 buckets of 4 B) and
 * the free list (4 B) the table costs about 2.64 KB per track of capacity:
 * about 264 MB for 100,000 tracks.  Pages of never-used tracks are not
 * resident (anonymous mmap, zero-filled on first touch).
 *
 * Units: BSM raw J2735 values are converted: speed 0.02 m/s, heading
 * 0.0125 deg, acceleration 0.01 m/s^2, size cm -> m.  "Unavailable" values:
 * - speed (8191): derived from the last two positions when their times are
 *   10 ms..5 s apart, otherwise the previous speed is kept (0 for a new
 *   track);
 * - heading (28800): derived from the displacement when the track moved at
 *   least 1 m since the previous sample, otherwise the previous heading is
 *   kept (0 for a new track);
 * - acceleration (2001): NAN;
 * - position (lat 900000001 / lon 1800000001, or outside the WGS-84
 *   range): the sample is rejected (NULL, counted as bad_position).
 * Sample time is the sender time (ts_ns); when it is 0 (unknown) the
 * previous sample's time advanced by the local receive-time delta is used.
 * A sample whose sender time is older than or equal to the track's newest
 * sample (reordered or duplicated datagram) is not applied: the track is
 * returned unchanged except last_rx_ns (counted as stale).
 *
 * Threading: single writer (the fusion thread); readers on the same thread.
 * Nothing is locked.
 */
#ifndef V2X_BROKER_TRACKS_H
#define V2X_BROKER_TRACKS_H

#include <stdint.h>

#include "v2x/msg.h"
#include "enu.h"

#define TRACK_HIST 50          /* about 5 s at 10 Hz */
#define TRACK_GRID_CELL_M 50.0 /* spatial grid cell size, metres */
#define TRACK_CAPACITY_MAX (1u << 24)

enum track_kind {
	TRACK_V2X = 1,    /* vehicle's own BSMs */
	TRACK_SENSOR = 2, /* roadside-sensor object */
};

/* One state sample of a track. */
struct track_sample {
	uint64_t t_ns;      /* sender time, ns since Unix epoch */
	double x, y;        /* ENU east/north metres from the reference */
	int32_t lat, lon;   /* 1e-7 deg */
	float speed_mps;    /* >= 0 */
	float heading_deg;  /* 0..360, clockwise from north */
	float accel_mps2;   /* longitudinal; NAN if unknown */
};

struct track {
	uint64_t id;          /* stable, unique, never reused */
	uint64_t key;         /* track_key_v2x() / track_key_sensor() */
	uint8_t kind;         /* enum track_kind */
	uint8_t cls;          /* enum v2x_obj_class (CAR for a BSM, TRUCK if
			       * its length >= 8 m) */
	uint8_t sources;      /* V2X_SRC_* bits; fusion may add bits */
	uint32_t sensor_id;   /* sensor of a TRACK_SENSOR, 0 for V2X */
	uint32_t temp_id;     /* BSM TemporaryID or sensor object id */
	uint64_t first_ns, last_ns; /* sender time of first / newest sample */
	uint64_t last_rx_ns;  /* local monotonic receive time, for expiry */
	struct track_sample cur;    /* newest sample (== track_hist(t, 0)) */
	char geohash[8];      /* geohash7 of cur, NUL-terminated */
	float length_m, width_m;    /* 0 = unknown */
	uint16_t event_flags; /* J2735 VehicleEventFlags (BSM Part II) */
	uint8_t has_event_flags;
	uint16_t hist_len;    /* valid samples in hist[], 1..TRACK_HIST */
	uint16_t hist_head;   /* index of the newest sample in hist[] */
	uint32_t tt_index;    /* the track's pool index, 0..capacity-1: stable
			       * while the track lives (reused after expiry),
			       * for callers' per-track side arrays */
	struct track_sample hist[TRACK_HIST]; /* ring, see track_hist() */
};

/* Counters of rejected updates, for metrics. */
struct track_table_stats {
	uint64_t full;         /* new track refused: table at capacity */
	uint64_t bad_position; /* position unavailable or out of range */
	uint64_t stale;        /* sample not newer than the track's newest */
	uint64_t created, expired;
};

struct track_table;

/* Key of a V2X track: kind in the top bits, TemporaryID below. */
static inline uint64_t track_key_v2x(uint32_t temp_id)
{
	return ((uint64_t)TRACK_V2X << 62) | temp_id;
}

/* Key of a sensor track; sensor ids are 30 bits (higher bits ignored). */
static inline uint64_t track_key_sensor(uint32_t sensor_id, uint32_t obj_id)
{
	return ((uint64_t)TRACK_SENSOR << 62) |
	       ((uint64_t)(sensor_id & 0x3fffffffu) << 32) | obj_id;
}

/*
 * track_hist() - the sample @age steps back (0 = newest, == t->cur), or
 * NULL if age >= t->hist_len.  Samples are in increasing time order from
 * age hist_len-1 (oldest) to 0.
 */
static inline const struct track_sample *track_hist(const struct track *t,
						    unsigned age)
{
	if (age >= t->hist_len)
		return (void *)0;
	return &t->hist[(t->hist_head + TRACK_HIST - age) % TRACK_HIST];
}

/*
 * track_table_new() - a table for up to @capacity tracks (1..
 * TRACK_CAPACITY_MAX).  @ref: the ENU reference point (copied), or NULL to
 * take the first valid position seen.  Returns NULL on a bad capacity or
 * out of memory (errno set).  Free with track_table_free().
 */
struct track_table *track_table_new(uint32_t capacity, const struct enu_ref *ref);

/*
 * track_table_prefault() - back the whole table with memory now instead of
 * on first use.  The table is sized for the most tracks a deployment will
 * see, and a page first touched while traffic grows costs a page fault (a
 * zeroed 2 MiB huge page: hundreds of microseconds) in the middle of the
 * message path; a daemon pays it once at start and its memory use is what
 * it will be.
 */
void track_table_prefault(struct track_table *tt);

/* track_table_free() - release everything; NULL is a no-op. */
void track_table_free(struct track_table *tt);

/*
 * track_table_set_ref() - set (or change) the reference point; positions of
 * existing tracks and their histories are recomputed and the grid rebuilt.
 */
void track_table_set_ref(struct track_table *tt, const struct enu_ref *ref);

/* track_table_ref() - the reference point, or NULL if not yet known. */
const struct enu_ref *track_table_ref(const struct track_table *tt);

/*
 * track_table_prefetch_slot(), track_table_prefetch_track() - hints for a
 * batch of updates: the first starts loading the index slot of @key, the
 * second (later, once that slot is likely in cache) the parts of its track
 * that an update writes.  Neither changes anything; a missing key is fine.
 * With 10,000s of tracks every update would otherwise wait for main memory
 * several times.
 */
void track_table_prefetch_slot(const struct track_table *tt, uint64_t key);
void track_table_prefetch_track(const struct track_table *tt, uint64_t key);

/*
 * track_table_update_bsm() - create or update the V2X track of @bsm
 * (key track_key_v2x(bsm->id)); @rx_ns is the local monotonic receive time.
 * Returns the track (valid until it expires or the table is freed), or NULL
 * if the table is full or the position is unavailable (see
 * track_table_get_stats() for which).
 */
struct track *track_table_update_bsm(struct track_table *tt,
				     const struct v2x_bsm *bsm, uint64_t rx_ns);

/*
 * track_table_update_object() - create or update the sensor track of one
 * object of a sensor frame taken at @ts_ns (key track_key_sensor()).
 * Same return contract as track_table_update_bsm().
 */
struct track *track_table_update_object(struct track_table *tt,
					uint32_t sensor_id, uint64_t ts_ns,
					const struct v2x_object *obj,
					uint64_t rx_ns);

/*
 * track_table_expire() - remove every track whose last_rx_ns + @silence_ns
 * <= @now_rx_ns, calling @on_expire (may be NULL) for each just before it
 * is removed (the track must not be kept).  Returns the number expired.
 */
/*
 * track_table_expire_some() - the same, removing at most @max tracks (the
 * rest on a later call): when many road users go silent at once (a network
 * or sensor outage) the work is spread over several ticks instead of
 * holding up every message behind one long tick.
 */
int track_table_expire_some(struct track_table *tt, uint64_t now_rx_ns,
			    uint64_t silence_ns, uint32_t max,
			    void (*on_expire)(void *ctx, const struct track *t),
			    void *ctx);
int track_table_expire(struct track_table *tt, uint64_t now_rx_ns,
		       uint64_t silence_ns,
		       void (*on_expire)(void *ctx, const struct track *t),
		       void *ctx);

/*
 * track_table_expire_scan() - the same, incrementally: looks at up to @scan
 * entries of the table, going on from where the previous call stopped
 * (round the used part of the table), and removes at most @max of them.
 * Returns the number removed; *@left (may be NULL) is the number of the
 * @scan entries not looked at, more than 0 only when it stopped at @max.
 * A caller that scans the whole table every silence / k spreads the work
 * of expiry evenly, and one that stops at @max goes on later from there.
 */
int track_table_expire_scan(struct track_table *tt, uint64_t now_rx_ns,
			    uint64_t silence_ns, uint32_t scan, uint32_t max,
			    uint32_t *left,
			    void (*on_expire)(void *ctx, const struct track *t),
			    void *ctx);

/* track_table_span() - the used part of the table: entries [0, span) have
 * ever been used (what a whole scan looks at). */
uint32_t track_table_span(const struct track_table *tt);

/*
 * track_table_remove() - remove the track of @key now.  Returns 0, or
 * -ENOENT if there is none.
 */
int track_table_remove(struct track_table *tt, uint64_t key);

/* track_table_count() - number of live tracks. */
uint32_t track_table_count(const struct track_table *tt);

/* track_table_capacity() - the capacity given to track_table_new(). */
uint32_t track_table_capacity(const struct track_table *tt);

/*
 * track_table_rekey() - from now on @t is found under @new_key (a sensor
 * that gave the road user it tracks a new object id), with @temp_id; its
 * id, history and everything else stay.  Returns 0, -ENOENT if @t is not in
 * the table or -EEXIST if @new_key already has a track.
 */
int track_table_rekey(struct track_table *tt, struct track *t, uint64_t new_key,
		      uint32_t temp_id);

/* track_table_find() - the track of @key, or NULL. */
struct track *track_table_find(struct track_table *tt, uint64_t key);

/*
 * track_table_next() - iteration: start with *cursor = 0; returns the next
 * live track, or NULL at the end.  Do not update or expire while iterating.
 */
struct track *track_table_next(struct track_table *tt, uint32_t *cursor);

/*
 * track_table_near() - up to @max tracks within @radius_m of (x, y) (ENU
 * metres, distance of cur), in no particular order, through the grid.
 * Returns the number stored in @out (capped at @max; the count of all
 * matches is not returned), or V2X_E_RANGE for a negative/NaN radius.
 */
int track_table_near(const struct track_table *tt, double x, double y,
		     double radius_m, const struct track **out, int max);

/* track_table_get_stats() - copy the rejection counters. */
void track_table_get_stats(const struct track_table *tt,
			   struct track_table_stats *st);

#endif
