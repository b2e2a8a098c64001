/* SPDX-License-Identifier: MIT */
/*
 * assoc.h - association of one roadside-sensor frame's detections with the
 * V2X tracks near them, so that a road user seen through its own BSM and by
 * a radar is one fused object.
 *
 * Per frame:
 * 1. Gating, per (object, candidate track) pair: the candidate is predicted
 *    to the frame time along its heading (at most 1 s); the pair is
 *    possible if the distance is within gate_m, the speeds differ by at
 *    most gate_speed_mps, the headings by at most gate_heading_deg (checked
 *    only when both move faster than 2 m/s), and the classes are compatible
 *    (a pedestrian or cyclist never matches a vehicle; unknown matches
 *    anything).  Cost = (d/gate_m)^2 + (dv/gate_speed)^2 + (dh/gate_heading)^2,
 *    quartered when the object matched the same track on its previous
 *    frame (keeping a sensor object bound to its V2X track while the gate
 *    holds).
 * 2. Assignment: a minimum-cost assignment over the gated pairs for the
 *    whole frame (Hungarian method, shortest augmenting paths with
 *    potentials, O(n^2 m)), with pairs outside the gate at a prohibitive
 *    cost, so the number of matches is maximal first and the total cost
 *    minimal second - not greedy per object.
 * 3. Merge hysteresis: an object that has been sensor-only for 5 frames in
 *    a row is an established road user of its own; it takes a V2X match
 *    only when it matched the same V2X track merge_frames frames in a row
 *    (reported sensor-only until then).  One frame's chance match - a
 *    connected vehicle creeping past a standing unconnected one inside the
 *    gate - no longer ends the sensor-only track.
 * 4. Identity: every (sensor id, object id) is remembered with the fused
 *    track id it was given.  A matched object takes the V2X track's id; an
 *    unmatched one keeps a sensor-only id that is stable across frames (and
 *    comes back if the object later loses its V2X match).  Sensor-only ids
 *    have bit 63 set (ASSOC_SENSOR_ONLY) so they never collide with track
 *    table ids; objects unseen for object_ttl_ms are forgotten.
 *
 * Memory: assoc_new() allocates the scratch for V2X_OBJECTS_MAX x
 * max_candidates and the object map (max_objects); assoc_frame() allocates
 * nothing.  Threading: fusion thread only.
 */
#ifndef V2X_BROKER_ASSOC_H
#define V2X_BROKER_ASSOC_H

#include <stdint.h>

#include "v2x/msg.h"
#include "detect_config.h"
#include "enu.h"

#define ASSOC_SENSOR_ONLY (1ull << 63)

/* A V2X track that may be one of the frame's objects (caller-filled, e.g.
 * from track_table_near() around the sensor). */
struct candidate_track {
	uint64_t track_id;
	uint64_t t_ns;       /* time of (x, y) */
	double x, y;         /* ENU metres */
	float speed_mps;     /* NAN if unknown */
	float heading_deg;   /* NAN if unknown */
	uint8_t cls;         /* enum v2x_obj_class */
};

/* What became of one object of the frame (same index as frame->obj[]). */
struct assoc_match {
	uint64_t track_id;      /* fused id: the V2X track's, or sensor-only */
	uint64_t prev_track_id; /* fused id on the previous frame if different
				 * (e.g. a sensor-only id now merged into a
				 * V2X track), else 0 */
	int32_t cand;           /* index into cands[], -1 = sensor-only */
	uint8_t is_new;         /* first sighting of this sensor object */
	float cost;             /* assignment cost, 0 if sensor-only */
	double x, y;            /* the object's ENU position */
};

struct assoc_result {
	int n;                  /* = frame->n */
	int n_matched;          /* objects matched to V2X tracks */
	int n_sensor_only;
	struct assoc_match m[V2X_OBJECTS_MAX];
};

struct assoc_stats {
	uint64_t frames, objects, matched, sensor_only;
	uint64_t cands_dropped; /* candidates beyond max_candidates */
	uint64_t map_full;      /* objects not remembered: map full */
	uint64_t merge_held;    /* matches held back: an established
				 * sensor-only object not yet merging */
};

struct assoc;

/*
 * assoc_new() - an associator with the [fusion] gates and sizes of @cfg,
 * converting positions with @ref (copied; NULL: set later with
 * assoc_set_ref()).  Returns NULL on out of memory (errno set).
 */
struct assoc *assoc_new(const struct detect_config *cfg,
			const struct enu_ref *ref);

/* assoc_free() - release everything; NULL is a no-op. */
void assoc_free(struct assoc *a);

/* assoc_set_ref() - set or change the ENU reference point (copied). */
void assoc_set_ref(struct assoc *a, const struct enu_ref *ref);

/*
 * assoc_frame() - associate @frame's objects with @cands (@n_cands; those
 * beyond max_candidates are ignored and counted).  Fills @out for every
 * object.  Returns the number matched to V2X tracks, or V2X_E_INVALID if no
 * reference point is set, V2X_E_LIMIT if frame->n > V2X_OBJECTS_MAX.
 */
int assoc_frame(struct assoc *a, const struct v2x_objects *frame,
		const struct candidate_track *cands, int n_cands,
		struct assoc_result *out);

/*
 * assoc_solve() - the assignment alone: minimum-cost assignment of the
 * @rows x @cols row-major @cost matrix (entries >= @forbid mean "not
 * allowed"), writing the column of each row (or -1) to @row_to_col.
 * @scratch must hold assoc_scratch_size(rows, cols) bytes (8-aligned).
 * Returns the number of rows assigned.  Exposed for tests and tools.
 */
int assoc_solve(const double *cost, int rows, int cols, double forbid,
		int *row_to_col, void *scratch);
size_t assoc_scratch_size(int rows, int cols);

struct track_table;

/*
 * assoc_candidates() - the V2X tracks (kind TRACK_V2X) of @tt within
 * @radius_m of any object of @frame (ENU through @ref), each once, as
 * candidates for assoc_frame(): at most @max (and 1024) written to @out.
 * Returns the number written.  Uses track_table_near() per object: no scan
 * of the table.
 * Fusion thread only.
 */
int assoc_candidates(const struct track_table *tt, const struct enu_ref *ref,
		     const struct v2x_objects *frame, double radius_m,
		     struct candidate_track *out, int max);

/* assoc_get_stats() - copy the counters. */
void assoc_get_stats(const struct assoc *a, struct assoc_stats *st);

#endif
