/* SPDX-License-Identifier: MIT */
/*
 * closures.h - lane closures announced by the cloud (traffic management
 * centre) as "lane_closure" advisories (docs/wire.md), known to the
 * detectors.
 *
 * An advisory arrives on Paho's thread (pub_mqtt); the broker's advisory
 * callback parses it there (advisory_closure(), advisory.h) and hands a
 * lane_closure over with closures_offer() through an SPSC ring - no lock
 * on the fusion thread.  On the fusion thread closures_update() drains the
 * ring, map-matches each closure onto its lanes (lane id + along-lane
 * range [from_m, to_m]) and drops closures that were cleared or whose
 * "until" has passed; closures_at() answers "is this spot of this lane at
 * or upstream of a known closure?" for the stopped-vehicle detector.
 *
 * Bounded: CLOSURES_MAX closures, allocated at creation; nothing per
 * sample.  Threading: closures_new/_free on the main thread; closures_offer
 * from one producer thread (Paho's); closures_update/_at/_stats on the
 * fusion thread only.
 */
#ifndef V2X_BROKER_CLOSURES_H
#define V2X_BROKER_CLOSURES_H

#include <stddef.h>
#include <stdint.h>

#define CLOSURES_MAX 64
#define CLOSURE_LANES_MAX 8
#define CLOSURE_ID_MAX 48

struct roadmap;

/* A parsed lane_closure advisory (what travels through the ring). */
struct closure_msg {
	char id[CLOSURE_ID_MAX];  /* the advisory's "id", NUL-terminated */
	uint8_t cleared;          /* "status": "cleared" */
	uint8_t n_lanes;          /* "lanes" given (0 = the matched lane) */
	uint8_t has_pos;          /* "lat"/"lon" given */
	uint8_t has_range;        /* "from_m"/"to_m" given */
	int32_t lanes[CLOSURE_LANES_MAX];
	double lat, lon;          /* degrees: upstream end of the closed stretch */
	float length_m;           /* closed length downstream of lat/lon */
	float from_m, to_m;       /* along-lane range, metres from the lane start */
	uint64_t until_ns;        /* CLOCK_REALTIME ns; 0 = until cleared */
};

/* Counters (fusion thread; read with closures_stats()). */
struct closures_stats {
	uint64_t applied;     /* closures added or replaced */
	uint64_t cleared;     /* removed by a "cleared" advisory */
	uint64_t expired;     /* removed because "until" passed */
	uint64_t unresolved;  /* a position that matched no lane (kept, retried
			       * when the map changes) */
	uint64_t full;        /* refused: CLOSURES_MAX closures active */
	uint32_t active;      /* closures known now */
};

struct closures;

/* closures_new() - an empty table with its hand-over ring; NULL on ENOMEM. */
struct closures *closures_new(void);

/* closures_free() - NULL is a no-op.  Main thread, after the threads stop. */
void closures_free(struct closures *cl);

/*
 * closures_offer() - hand @m (copied) to the fusion thread.  Returns 0, or
 * -ENOBUFS when the ring is full (the closure is lost; count it).  Single
 * producer (Paho's thread).
 */
int closures_offer(struct closures *cl, const struct closure_msg *m);

/*
 * closures_update() - drain the ring into the table, resolving positions
 * on @map (NULL: only closures given as lanes + from_m/to_m are usable;
 * others wait for a map), re-resolve every closure when @map is not the
 * map of the last call (a reload), and drop those whose until_ns is at or
 * before @now_ns (CLOCK_REALTIME ns; 0 = do not expire).  Returns the
 * number of closures active.  Fusion thread.
 */
int closures_update(struct closures *cl, const struct roadmap *map,
		    uint64_t now_ns);

/*
 * closures_apply() - apply one message directly (what closures_update()
 * does for each message of the ring).  Returns 0, or -ENOSPC when the
 * table is full.  Fusion thread (and tests).
 */
int closures_apply(struct closures *cl, const struct closure_msg *m,
		   const struct roadmap *map);

/*
 * closures_at() - 1 if @along on @lane lies within a known closure of
 * that lane or at most @upstream_m before its start, not expired at
 * @now_ns (0 = ignore expiry); else 0.  Fusion thread.
 */
int closures_at(const struct closures *cl, int32_t lane, float along,
		float upstream_m, uint64_t now_ns);

/* closures_stats() - copy the counters.  Fusion thread. */
void closures_stats(const struct closures *cl, struct closures_stats *st);

#endif
