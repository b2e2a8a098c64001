/* SPDX-License-Identifier: MIT */
/*
 * detect.h - the detector interface between the fusion stage and the event
 * detectors (contract between broker/fusion.c and broker/detect_*.c).
 *
 * Threading: everything here runs on the fusion thread only (single writer);
 * no locking.  Nothing here allocates per sample.
 *
 * The fusion stage turns every accepted message into one struct det_sample
 * per road user (a BSM gives one, a sensor frame gives one per associated or
 * sensor-only object), map-matched when a road map is loaded, and calls
 * on_sample() of every registered detector; it calls tick() of every
 * detector once per period (default 100 ms).  A detector reports what it
 * sees as candidates through env->raise(); the event lifecycle manager
 * (events.c) merges candidates into events with stable ids, applies
 * hysteresis, and publishes new/update/cleared transitions.
 */
#ifndef V2X_BROKER_DETECT_H
#define V2X_BROKER_DETECT_H

#include <stdint.h>

#include "v2x/msg.h"

struct roadmap;      /* road map and map matching (roadmap.h) */
struct track_table;  /* track table (tracks.h) */
struct closures;     /* lane closures from the cloud (closures.h) */

/* Map matching result for one sample; lane < 0 when off the map. */
struct det_match {
	int32_t lane;          /* lane_id, -1 = none */
	int32_t segment;       /* segment_id, -1 = none */
	float along_m;         /* distance along the lane from its start */
	float offset_m;        /* signed lateral offset from the centre line */
	float heading_err_deg; /* sample heading minus lane direction, -180..180 */
	float speed_limit_mps; /* lane's limit, 0 = unknown */
	float lane_width_m;
	float to_stop_line_m;  /* distance to the lane's stop line ahead, <0 = none */
	uint8_t on_crosswalk;  /* 1 if inside a crosswalk polygon */
};

/* One observation of one road user, in the RSU's local ENU frame. */
struct det_sample {
	uint64_t track_id;   /* fused track id (stable) */
	uint64_t t_ns;       /* measurement time (sender ts), ns since epoch */
	uint8_t sources;     /* V2X_SRC_* bits of the fused track */
	uint8_t cls;         /* enum v2x_obj_class */
	uint32_t sensor_id;  /* sensor that produced this sample, 0 for a BSM */
	double x, y;         /* east, north metres from the reference point */
	int32_t lat, lon;    /* 1e-7 deg */
	float speed_mps;     /* >= 0 */
	float heading_deg;   /* 0..360, clockwise from north */
	float accel_mps2;    /* longitudinal; NAN if unknown */
	float length_m, width_m;
	uint16_t event_flags; /* J2735 VehicleEventFlags if known */
	uint8_t has_event_flags;
	struct det_match match;
};

/* A detector's report: "condition of this type holds for these tracks here". */
struct det_candidate {
	uint8_t type;        /* enum v2x_event_type */
	uint8_t severity;    /* 0..7 */
	uint8_t level;       /* congestion level */
	uint8_t sources;     /* V2X_SRC_* */
	uint32_t sensor_id;  /* 0 if none */
	uint64_t key;        /* detector-chosen identity of the condition (e.g.
			      * track id, or segment id for congestion): the same
			      * key on later calls means the same incident */
	uint64_t t_ns;       /* time the condition was observed */
	int32_t lat, lon;
	int32_t lane, segment;
	float confidence;    /* 0..1 */
	float move_m;        /* a move of the position farther than this from
			      * the last published one is a material change;
			      * below events' update_move_m (0) that is used */
	uint8_t n_tracks;
	uint64_t tracks[V2X_EVENT_TRACKS_MAX];
};

struct det_env {
	const struct roadmap *map;        /* NULL if no map loaded */
	const struct track_table *tracks; /* neighbour queries */
	const struct v2x_spat *spat;      /* latest SPaT per intersection */
	int n_spat;
	uint64_t now_ns;
	/* Report a candidate; the lifecycle manager copies it. */
	void (*raise)(void *owner, const struct det_candidate *cand);
	void *owner;
	/* Lane closures announced by the cloud, NULL if none: a detector's
	 * tick calls closures_update() (fusion thread) before using them. */
	struct closures *closures;
};

struct detector_ops {
	const char *name; /* "stopped_vehicle", ... (config section name) */
	void (*on_sample)(void *self, const struct det_sample *s, struct det_env *env);
	void (*tick)(void *self, struct det_env *env);
	void (*free)(void *self);
};

struct detector {
	const struct detector_ops *ops;
	void *self;
};

#endif
