/* SPDX-License-Identifier: MIT */
/*
 * roadmap.h - the road map (GeoJSON, see docs/roadmap.md) in local ENU
 * metres, and map matching through a uniform grid over lane segments.
 *
 * A loaded map is immutable: matching only reads it, so a reload builds a
 * new map completely and the caller swaps the pointer (keeping the old map
 * if the new one fails to load), then frees the old one when no detector
 * uses it any more.
 *
 * Lanes are stored in their direction of travel: a "backward" lane's
 * coordinates are reversed at load time, so along_m always grows in the
 * direction of travel and the lane direction at a point is the direction of
 * its polyline there.
 *
 * Threading: roadmap_load() anywhere; the query functions on any thread
 * (read only).
 */
#ifndef V2X_BROKER_ROADMAP_H
#define V2X_BROKER_ROADMAP_H

#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "enu.h"

struct roadmap;

enum roadmap_lane_type {
	ROADMAP_LANE_VEHICLE = 0,
	ROADMAP_LANE_BIKE = 1,
	ROADMAP_LANE_SIDEWALK = 2,
};

/* Map-matching tunables (roadmap_load() uses the defaults below). */
struct roadmap_opts {
	float tolerance_m; /* buffer beyond width/2 (default 1.0) */
	float tie_m;       /* lateral tie broken by heading (default 0.25) */
	float cell_m;      /* grid cell size (default 10) */
};

/* What the map says about one lane (roadmap_lane()). */
struct roadmap_lane_info {
	int32_t lane_id, segment_id;
	int32_t intersection_id;  /* -1 = none */
	int32_t signal_group;     /* -1 = none */
	uint8_t type;             /* enum roadmap_lane_type */
	float speed_limit_mps;
	float width_m;
	float length_m;
	float stop_along_m;       /* along position of its stop line, -1 = none */
	int32_t next_lane_id;     /* "next_lane_id": the lane it continues
				   * into, -1 = none or unknown */
	int32_t left_lane_id;     /* "left_lane_id" / "right_lane_id": the */
	int32_t right_lane_id;    /* neighbouring lanes of the same direction
				   * in its segment, -1 = none or unknown */
	uint8_t connector;        /* "connector": true - a lane through a
				   * junction box (from one approach to an
				   * exit), where vehicles yield and wait */
};

/* One road segment (lanes sharing a segment_id). */
struct roadmap_segment_info {
	int32_t segment_id;
	uint16_t n_lanes;         /* vehicle lanes */
	float length_m;           /* mean length of its vehicle lanes */
	float speed_limit_mps;    /* highest limit of its lanes */
};

/*
 * roadmap_load() - parse the GeoJSON road map at @path into *@out, with the
 * default matching options.  @ref: the broker's reference point, or NULL to
 * use the map's top-level "reference" or else the first coordinate of the
 * first feature (see roadmap_reference()).
 * Returns 0, or a negative code with a one-line message in @err naming the
 * file, the feature index and id and the problem: -errno if the file
 * cannot be read, V2X_E_SYNTAX for bad JSON, V2X_E_INVALID / V2X_E_MISSING /
 * V2X_E_TYPE / V2X_E_RANGE for a bad feature, -ENOMEM.  *@out is set only
 * on success; free it with roadmap_free().
 */
int roadmap_load(const char *path, const struct enu_ref *ref,
		 struct roadmap **out, char *err, size_t errlen);

/* roadmap_load_opts() - roadmap_load() with matching options (NULL = defaults). */
int roadmap_load_opts(const char *path, const struct enu_ref *ref,
		      const struct roadmap_opts *opts, struct roadmap **out,
		      char *err, size_t errlen);

/*
 * roadmap_load_string() - as roadmap_load_opts() from a NUL-terminated
 * GeoJSON text; @name is used in messages in place of the path.
 */
int roadmap_load_string(const char *json, const char *name,
			const struct enu_ref *ref,
			const struct roadmap_opts *opts, struct roadmap **out,
			char *err, size_t errlen);

/* roadmap_free() - release a map; NULL is a no-op. */
void roadmap_free(struct roadmap *m);

/* roadmap_reference() - the ENU reference point the map was converted with. */
const struct enu_ref *roadmap_reference(const struct roadmap *m);

/*
 * roadmap_match() - map-match a point (ENU metres) with a heading (degrees
 * clockwise from north; NAN if unknown).  Among the lanes whose buffer
 * (width/2 + tolerance) contains the point, the laterally nearest wins;
 * lanes within tie_m of that distance are a tie broken by the smallest
 * heading error, so that a wrong-way vehicle still matches the lane it is
 * in.  Fills @out (lane = -1 if none; on_crosswalk is set either way).
 * Returns 1 if matched to a lane, 0 if not.
 */
int roadmap_match(const struct roadmap *m, double x, double y,
		  float heading_deg, struct det_match *out);

/*
 * roadmap_match_prefer() - as roadmap_match(), but if the point is within
 * the buffer of @prefer_lane (e.g. the lane matched for the previous sample
 * of the same track), that lane is chosen: lane keeping hysteresis, so that
 * position noise near a lane boundary does not flip the match.
 */
int roadmap_match_prefer(const struct roadmap *m, double x, double y,
			 float heading_deg, int32_t prefer_lane,
			 struct det_match *out);

/*
 * roadmap_lane_at() - the lane of type @type whose strict extent
 * (|offset| <= width/2, no tolerance) contains (x, y), the laterally
 * nearest if several; its lane_id in *@lane_id.  Returns 1 if found, 0 if
 * not.
 */
int roadmap_lane_at(const struct roadmap *m, double x, double y, int type,
		    int32_t *lane_id);

/* roadmap_on_crosswalk() - 1 if (x, y) is inside a crosswalk polygon. */
int roadmap_on_crosswalk(const struct roadmap *m, double x, double y);

/* roadmap_lane() - info about @lane_id; 0, or V2X_E_RANGE if unknown. */
int roadmap_lane(const struct roadmap *m, int32_t lane_id,
		 struct roadmap_lane_info *out);

/*
 * roadmap_segment_count() / roadmap_segment_at() - segments by dense index
 * 0..count-1 (ordered by segment_id); roadmap_segment_index() - the dense
 * index of @segment_id, or V2X_E_RANGE.
 */
int roadmap_segment_count(const struct roadmap *m);
int roadmap_segment_at(const struct roadmap *m, int index,
		       struct roadmap_segment_info *out);
int roadmap_segment_index(const struct roadmap *m, int32_t segment_id);

/* roadmap_lane_count() - number of lanes. */
int roadmap_lane_count(const struct roadmap *m);

/*
 * roadmap_lane_by_index() - lanes by dense index 0..roadmap_lane_count()-1,
 * ordered by lane_id: info about the lane at @index in *@out.  Returns 0,
 * or V2X_E_RANGE if @index is out of range.
 */
int roadmap_lane_by_index(const struct roadmap *m, int index,
			  struct roadmap_lane_info *out);

/*
 * roadmap_lane_along() - the position along lane @lane_id (metres from its
 * start, in its direction of travel, 0..length_m) of the point of its
 * centre line nearest to (x, y) (ENU metres), however far away the point
 * is, in *@along_m.  Returns 0, or V2X_E_RANGE if the lane is unknown.
 */
int roadmap_lane_along(const struct roadmap *m, int32_t lane_id, double x,
		       double y, double *along_m);

#endif
