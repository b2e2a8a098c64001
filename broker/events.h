/* SPDX-License-Identifier: MIT */
/*
 * events.h - event lifecycle manager: merges detector candidates into
 * events with stable ids and publishes new / update / cleared transitions.
 *
 * Identity: a candidate belongs to the active event of the same type that
 * already saw its (type, key), or else to an active event of the same type
 * that shares one of its tracks, or that lies within merge_radius_m on the
 * same segment (and lane, when both have one) - so the same incident seen
 * through a BSM track and a sensor track, or by two detectors' keys, is one
 * event.  Stopped vehicles: within merge_queue_m in one lane (a queue), or
 * within merge_side_m in another lane of the segment (side by side: one
 * obstruction).  Otherwise a new event starts (id = a 64-bit counter; see
 * detect_config.events.id_base).  A stopped vehicle that is a track of an
 * active collision-risk or hard-braking event, or of one cleared in the
 * last 10 s (the emergency stop of a near-collision, a vehicle that braked
 * hard to a standstill) is part of that incident and opens no event of its
 * own; so is one within
 * reaction_radius_m of an active wrong-way or vru-on-road event on its
 * segment (it stopped for the wrong-way driver or the pedestrian).
 *
 * Transitions (each passed once to the emit callback):
 * - new: on the first candidate (detectors apply their own persistence);
 * - update: on a material change - severity, congestion level, sources,
 *   a new track or sensor, or the position moved more than update_move_m
 *   from the last published one - at most once per min_update_ms (a change
 *   held back is published when the period allows);
 * - cleared: when no candidate was raised for hold_ms; the event is then
 *   forgotten.
 * Times for hysteresis and rate limits come from events_tick() (any
 * monotonic clock in ns; a candidate counts as seen "at" the next tick), so
 * the manager does not mix the sender clock of candidates with the clock
 * of the fusion loop.  The published ts / last_ts / start_ts are candidate
 * (sender) times.
 *
 * Memory: everything is allocated in events_new() (max_events slots and an
 * index); nothing per candidate.  A candidate that would need a new event
 * when all slots are taken is dropped and counted.
 *
 * Threading: fusion thread only.
 */
#ifndef V2X_BROKER_EVENTS_H
#define V2X_BROKER_EVENTS_H

#include <stdint.h>

#include "v2x/msg.h"
#include "detect.h"
#include "detect_config.h"

struct events;

/* Called for every transition; @ev is valid during the call only. */
typedef void (*events_emit_fn)(void *ctx, const struct v2x_event *ev);

struct events_stats {
	uint64_t raised;      /* candidates received */
	uint64_t published[3]; /* transitions by enum v2x_event_status */
	uint64_t merged;      /* candidates joined to an event by proximity
			       * or shared tracks rather than by key */
	uint64_t dropped;     /* candidates lost: all slots taken */
	uint64_t held;        /* stopped-vehicle candidates not opened as
			       * events: their segment is congested
			       * (jam_holds_stopped), their vehicle is in
			       * an active collision-risk event, or they are
			       * near an active wrong-way or vru-on-road one */
	uint32_t active;      /* events currently active */
};

/*
 * events_new() - a manager with the [events] settings of @cfg (copied),
 * publishing through @emit(@ctx, event).  Returns NULL on out of memory or
 * a NULL @emit (errno set).  Free with events_free().
 */
struct events *events_new(const struct detect_config *cfg,
			  events_emit_fn emit, void *ctx);

/* events_free() - release everything (no transitions published); NULL ok. */
void events_free(struct events *ev);

/*
 * events_raise() - accept one candidate; @owner is the struct events (this
 * is the det_env.raise callback).  May publish a new or an update
 * transition synchronously.  A candidate with an unknown type is ignored.
 */
void events_raise(void *owner, const struct det_candidate *cand);

/*
 * events_tick() - advance the manager's clock to @now_ns: publish held-back
 * updates whose rate limit has passed, and clear events not raised for
 * hold_ms.  Call periodically (e.g. every 100 ms), with a non-decreasing
 * clock.
 */
void events_tick(struct events *ev, uint64_t now_ns);

/*
 * events_foreach() - call @fn for each active event (status = last
 * published).  Do not raise or tick from @fn.  Returns the number visited.
 */
int events_foreach(const struct events *ev,
		   void (*fn)(void *ctx, const struct v2x_event *e), void *ctx);

/* events_get_stats() - copy the counters. */
void events_get_stats(const struct events *ev, struct events_stats *st);

#endif
