/* SPDX-License-Identifier: MIT */
/*
 * fusion.h - the fusion stage: its own thread pops the ingest ring, updates
 * the track table, feeds the detectors, keeps the latest SPaT, ticks, expires
 * tracks, and pushes what is to be published to the publish ring:
 *   - bsm/<geohash7>: every accepted BSM re-encoded as a msgpack frame, at
 *     once (only with relay_bsm);
 *   - obj/<geohash7>: each tracked road user at most obj_rate_hz times per
 *     second, right when it is updated (the "obj" frame, docs/broker.md);
 *   - events: every transition the event lifecycle manager emits through
 *     fusion_emit_event().
 * The originating receive time travels with every output so that the
 * publisher can record receive -> published latency.
 *
 * Detectors (detect.h) are registered with fusion_add_detector(); their
 * candidates go to the lifecycle hooks (fusion_set_lifecycle()), which emit
 * transitions with fusion_emit_event().  The road map is loaded and
 * reloaded on the fusion thread through fusion_set_map_ops().
 *
 * Threading: fusion_new/_add_detector/_set_* /_start/_stop/_free on the main
 * thread before start / after stop; fusion_request_map_reload() from any
 * thread; fusion_emit_event() and the hooks run on the fusion thread.
 */
#ifndef V2X_BROKER_FUSION_H
#define V2X_BROKER_FUSION_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "detect.h"
#include "enu.h"
#include "ring.h"
#include "v2x/msg.h"

enum pub_kind {
	PUB_BSM = 1,   /* payload: msgpack bsm frame */
	PUB_OBJ = 2,   /* payload: msgpack obj frame */
	PUB_EVENT = 3, /* event: encoded by the publisher (ZMQ + MQTT) */
};

#define PUB_TOPIC_MAX 40
#define PUB_PAYLOAD_MAX 464

/* One slot of the fusion -> publish ring (512 bytes). */
struct pub_slot {
	uint64_t rx_ns;   /* originating receive time (CLOCK_REALTIME); 0 = none */
	uint8_t kind;     /* enum pub_kind */
	uint8_t topic_len;
	uint16_t len;     /* payload length */
	char topic[PUB_TOPIC_MAX];
	union {
		uint8_t payload[PUB_PAYLOAD_MAX];
		struct v2x_event event;
	} u;
};

/* Road map operations (roadmap.h), passed in so that fusion.c does not
 * depend on the map module being linked. */
struct roadmap;
struct fusion_map_ops {
	int (*load)(const char *path, const struct enu_ref *ref, struct roadmap **out,
		    char *err, size_t errlen);
	void (*free)(struct roadmap *m);
	const struct enu_ref *(*reference)(const struct roadmap *m);
	int (*match)(const struct roadmap *m, double x, double y, float heading_deg,
		     struct det_match *out);
};

/* Event lifecycle hooks (events.h), all called on the fusion thread. */
struct fusion_lifecycle {
	void *owner;
	/* det_env.raise: a detector's candidate. */
	void (*raise)(void *owner, const struct det_candidate *cand);
	/* Once per tick, after the detectors' ticks; now_ns is CLOCK_MONOTONIC. */
	void (*tick)(void *owner, uint64_t now_ns);
};

/*
 * Association hook (assoc.h): for each object of a sensor frame, out[i] =
 * the V2X track that object is (fusion adds V2X_SRC_SENSOR to it and
 * retires the object's sensor-only track), or NULL for a sensor-only road
 * user.  Returns the number matched, or a negative code (then every object
 * is sensor-only).  Called on the fusion thread.
 */
struct track;
struct track_table;
typedef int (*fusion_assoc_fn)(void *ctx, struct track_table *tt,
			       const struct v2x_objects *frame, struct track **out);

struct fusion;

/*
 * fusion_new() - a fusion stage reading in (ingest slots) and writing out
 * (struct pub_slot), with the [fusion] settings of cfg.  Allocates the
 * track table (track_capacity).  Returns NULL with err filled on failure.
 */
struct fusion *fusion_new(const struct broker_config *cfg, struct ring *in,
			  struct ring *out, struct broker_counters *cnt,
			  char *err, size_t errlen);

/*
 * fusion_add_detector() - register a detector; fusion owns it from now on
 * and calls d.ops->free(d.self) in fusion_free().  Returns 0 or -ENOSPC
 * (at most 16 detectors).  Main thread, before fusion_start().
 */
int fusion_add_detector(struct fusion *f, struct detector d);

/* fusion_set_lifecycle() - install the lifecycle hooks (copied). */
void fusion_set_lifecycle(struct fusion *f, const struct fusion_lifecycle *lc);

/*
 * fusion_set_map_ops() - install road map operations (copied); the map of
 * cfg->map is loaded at fusion_start() and on fusion_request_map_reload().
 */
void fusion_set_map_ops(struct fusion *f, const struct fusion_map_ops *ops);

/*
 * fusion_set_closures() - the lane closures the detectors see
 * (det_env.closures; borrowed, must outlive the fusion thread).  Main
 * thread, before start.
 */
struct closures;
void fusion_set_closures(struct fusion *f, struct closures *cl);

/* fusion_set_assoc() - install the association hook (main thread, before start). */
void fusion_set_assoc(struct fusion *f, fusion_assoc_fn fn, void *ctx);

/*
 * fusion_emit_event() - publish one event transition (ZeroMQ evt/..., MQTT
 * events/<type>).  Returns 0 or -ENOBUFS when the publish ring is full
 * (counted).  Fusion thread only: meant as the lifecycle manager's emit
 * callback (fusion_emit_event_cb() has the events_emit_fn signature).
 */
int fusion_emit_event(struct fusion *f, const struct v2x_event *ev);
void fusion_emit_event_cb(void *fusion, const struct v2x_event *ev);

/*
 * fusion_prepare() - load the configured road map.  Returns 0, or a negative
 * code when the map cannot be used (logged with the feature and the
 * problem): the broker refuses to start with it.  Main thread, once, before
 * fusion_start() or the first fusion_step().
 */
int fusion_prepare(struct fusion *f);

/* fusion_start() - start the fusion thread.  Returns 0 or -errno. */
int fusion_start(struct fusion *f);

/*
 * fusion_step() - run the stage in the caller's thread instead of its own
 * (the single-thread pipeline): process one batch (at most 64) of the
 * messages waiting in the ingest ring, tick when due, hand outputs on.
 * The caller publishes and calls again while the ingest ring is not empty:
 * the first messages of a burst go out before the last ones are fused.
 * Returns the monotonic time (ns) of the next tick, the latest the caller
 * should call again.
 */
uint64_t fusion_step(struct fusion *f);

/* fusion_request_map_reload() - SIGHUP: reload on the next tick.  Any thread. */
void fusion_request_map_reload(struct fusion *f);

/*
 * fusion_stop() - drain the ingest ring (the producer must be stopped
 * first), flush outputs and join the thread.
 */
void fusion_stop(struct fusion *f);

/* fusion_free() - stop, free detectors, map and tracks; NULL is a no-op. */
void fusion_free(struct fusion *f);

#endif
