/* SPDX-License-Identifier: MIT */
/*
 * evt_fixture.h - a small synthetic road map (GeoJSON built in memory from
 * ENU metres) and a harness that drives the detectors and the event
 * lifecycle with synthetic samples, for roadmap_test, detect_test and
 * events_test.
 *
 * The map, around REF_LAT/REF_LON (x east, y north, metres):
 *   lane 1  seg 10  eastbound  y = -1.75  x 0..500    limit 50 km/h,
 *           signalised approach: intersection 1, signal group 2, stop line
 *           at x = 495
 *   lane 3  seg 11  eastbound  y = -1.75  x 505..1000 limit 50 km/h
 *   lane 2  seg 20  westbound  y = +1.75  x 1000..0 (drawn 0..1000,
 *           "backward")                                  limit 50 km/h
 *   lane 5  seg 30  sidewalk   y = -5.0   width 2  x 0..1000
 *   lane 7  seg 40  bike       y = -8.5   width 1.5  x 0..1000
 *   lane 9  seg 50  junction connector (next lane 3) y = -20  x 0..30
 *   lanes 11 (right, y = -43.5) and 12 (left, y = -40)  seg 60  eastbound
 *           x 0..1000, limit 100 km/h, left_lane_id / right_lane_id
 *           limit 30 km/h
 *   crosswalk 1: x 300..304, y -4..4
 * All vehicle lanes are 3.5 m wide.
 */
#ifndef EVT_FIXTURE_H
#define EVT_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/msg.h"
#include "detect.h"
#include "detect_config.h"
#include "enu.h"
#include "events.h"
#include "roadmap.h"

#define REF_LAT 48.1351
#define REF_LON 11.5820
#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (1700000000ULL * SEC)

static struct enu_ref fx_ref;

static inline void fx_geo(double x, double y, double *lat, double *lon)
{
	double h;

	enu_to_geo(&fx_ref, x, y, 0, lat, lon, &h);
}

/* Append "[lon, lat]" of ENU (x, y) to buf. */
static inline void fx_pos(char *buf, size_t len, double x, double y)
{
	double lat, lon;

	fx_geo(x, y, &lat, &lon);
	snprintf(buf + strlen(buf), len - strlen(buf), "[%.9f, %.9f]", lon, lat);
}

static inline void fx_line(char *buf, size_t len, double x0, double y0, double x1,
		    double y1)
{
	strncat(buf, "{\"type\": \"LineString\", \"coordinates\": [", len - strlen(buf) - 1);
	fx_pos(buf, len, x0, y0);
	strncat(buf, ", ", len - strlen(buf) - 1);
	fx_pos(buf, len, x1, y1);
	strncat(buf, "]}", len - strlen(buf) - 1);
}

static inline void fx_lane(char *buf, size_t len, const char *props, double x0,
		    double y0, double x1, double y1)
{
	snprintf(buf + strlen(buf), len - strlen(buf),
		 "%s{\"type\": \"Feature\", \"properties\": {\"kind\": \"lane\", %s}, \"geometry\": ",
		 buf[strlen(buf) - 1] == '[' ? "" : ",\n", props);
	fx_line(buf, len, x0, y0, x1, y1);
	strncat(buf, "}", len - strlen(buf) - 1);
}

/* The fixture map as GeoJSON text (static buffer). */
static inline const char *fx_map_json(void)
{
	static char buf[16384];

	enu_init(&fx_ref, REF_LAT, REF_LON, 0);
	snprintf(buf, sizeof(buf),
		 "{\"type\": \"FeatureCollection\", \"reference\": {\"lat\": %.7f, \"lon\": %.7f},\n"
		 " \"features\": [", REF_LAT, REF_LON);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 1, \"segment_id\": 10, \"direction\": \"forward\", \"speed_limit_kph\": 50, \"width_m\": 3.5, \"intersection_id\": 1, \"signal_group\": 2",
		0, -1.75, 500, -1.75);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 3, \"segment_id\": 11, \"direction\": \"forward\", \"speed_limit_kph\": 50, \"width_m\": 3.5",
		505, -1.75, 1000, -1.75);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 2, \"segment_id\": 20, \"direction\": \"backward\", \"speed_limit_kph\": 50, \"width_m\": 3.5, \"unknown_prop\": [1, 2]",
		0, 1.75, 1000, 1.75);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 5, \"segment_id\": 30, \"direction\": \"forward\", \"speed_limit_kph\": 6, \"width_m\": 2, \"lane_type\": \"sidewalk\"",
		0, -5.0, 1000, -5.0);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 7, \"segment_id\": 40, \"direction\": \"forward\", \"speed_limit_kph\": 25, \"width_m\": 1.5, \"lane_type\": \"bike\"",
		0, -8.5, 1000, -8.5);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 11, \"segment_id\": 60, \"direction\": \"forward\", \"speed_limit_kph\": 100, \"width_m\": 3.5, \"left_lane_id\": 12",
		0, -43.5, 1000, -43.5);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 12, \"segment_id\": 60, \"direction\": \"forward\", \"speed_limit_kph\": 100, \"width_m\": 3.5, \"right_lane_id\": 11",
		0, -40.0, 1000, -40.0);
	fx_lane(buf, sizeof(buf),
		"\"lane_id\": 9, \"segment_id\": 50, \"direction\": \"forward\", \"speed_limit_kph\": 30, \"width_m\": 3.5, \"connector\": true, \"next_lane_id\": 3",
		0, -20.0, 30, -20.0);
	strncat(buf, ",\n{\"type\": \"Feature\", \"properties\": {\"kind\": \"stop_line\", \"lane_id\": 1, \"intersection_id\": 1, \"signal_group\": 2}, \"geometry\": ",
		sizeof(buf) - strlen(buf) - 1);
	fx_line(buf, sizeof(buf), 495, -3.5, 495, 0);
	strncat(buf, "},\n{\"type\": \"Feature\", \"properties\": {\"kind\": \"crosswalk\", \"crosswalk_id\": 1}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[",
		sizeof(buf) - strlen(buf) - 1);
	fx_pos(buf, sizeof(buf), 300, -4);
	strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
	fx_pos(buf, sizeof(buf), 304, -4);
	strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
	fx_pos(buf, sizeof(buf), 304, 4);
	strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
	fx_pos(buf, sizeof(buf), 300, 4);
	strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
	fx_pos(buf, sizeof(buf), 300, -4);
	strncat(buf, "]]}},\n{\"type\": \"Feature\", \"properties\": {\"kind\": \"sensor\", \"sensor_id\": 9}, \"geometry\": {\"type\": \"Point\", \"coordinates\": ",
		sizeof(buf) - strlen(buf) - 1);
	fx_pos(buf, sizeof(buf), 400, 10);
	strncat(buf, "}}\n]}\n", sizeof(buf) - strlen(buf) - 1);
	return buf;
}

static inline struct roadmap *fx_map_load(void)
{
	struct roadmap *m = NULL;
	char err[256];

	if (roadmap_load_string(fx_map_json(), "fixture", NULL, NULL, &m, err,
				sizeof(err)) < 0) {
		fprintf(stderr, "fixture map: %s\n", err);
		return NULL;
	}
	return m;
}

/* Deterministic noise. */
static uint64_t fx_rng = 0x9e3779b97f4a7c15ULL;

static inline double fx_uniform(double lo, double hi)
{
	fx_rng = fx_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return lo + (hi - lo) * ((double)(fx_rng >> 11) / 9007199254740992.0);
}

#define FX_EVENTS_MAX 4096
#define FX_DET_MAX 8

/* A harness: map + all detectors + lifecycle; emitted events recorded. */
struct fx {
	struct roadmap *map;
	struct detect_config cfg;
	struct detector det[FX_DET_MAX];
	int n_det;
	struct events *ev;
	struct det_env env;
	struct v2x_spat spat[2];
	int n_spat;
	uint64_t now;
	int half_rate_sender; /* sender clock runs at half the tick clock */
	uint64_t lag_ns;      /* fx_sample() times are this much in the past */
	struct v2x_event out[FX_EVENTS_MAX];
	int n_out;
};

static inline void fx_emit(void *ctx, const struct v2x_event *e)
{
	struct fx *f = ctx;

	if (f->n_out < FX_EVENTS_MAX)
		f->out[f->n_out++] = *e;
}

/* Set up with @cfg (NULL = defaults) and room for @lane_capacity tracks;
 * returns 0 or -1. */
static inline int fx_init_cap(struct fx *f, const struct detect_config *cfg,
			      uint32_t lane_capacity)
{
	memset(f, 0, sizeof(*f));
	if (cfg)
		f->cfg = *cfg;
	else
		detect_config_defaults(&f->cfg);
	f->cfg.fusion.lane_capacity = lane_capacity;
	f->cfg.events.id_base = 1000;
	f->map = fx_map_load();
	if (!f->map)
		return -1;
	f->n_det = detect_all_new(&f->cfg, f->det, FX_DET_MAX);
	if (f->n_det < 0)
		return -1;
	f->ev = events_new(&f->cfg, fx_emit, f);
	if (!f->ev)
		return -1;
	f->env.map = f->map;
	f->env.raise = events_raise;
	f->env.owner = f->ev;
	f->env.spat = f->spat;
	f->env.n_spat = 0;
	f->now = T0;
	return 0;
}

/* Set up with @cfg (NULL = defaults), room for 1024 tracks; 0 or -1. */
static inline int fx_init(struct fx *f, const struct detect_config *cfg)
{
	return fx_init_cap(f, cfg, 1024);
}

static inline void fx_fini(struct fx *f)
{
	int i;

	for (i = 0; i < f->n_det; i++)
		detect_free(&f->det[i]);
	events_free(f->ev);
	roadmap_free(f->map);
}

/* Set the signal of intersection 1 group 2 (the approach of lane 1). */
static inline void fx_signal(struct fx *f, int state)
{
	f->spat[0].intersection_id = 1;
	f->spat[0].n = 1;
	f->spat[0].mv[0].signal_group = 2;
	f->spat[0].mv[0].state = (uint8_t)state;
	f->n_spat = 1;
	f->env.n_spat = 1;
}

/* One sample of a road user of @len_m x @width_m at ENU (x, y) at the
 * harness time. */
static inline void fx_sample_size(struct fx *f, uint64_t track, uint8_t cls, double x,
				  double y, float speed, float heading, uint8_t sources,
				  float len_m, float width_m)
{
	struct det_sample s;
	double lat, lon;
	int i;

	memset(&s, 0, sizeof(s));
	s.track_id = track;
	s.t_ns = (f->half_rate_sender ? T0 + (f->now - T0) / 2 : f->now) - f->lag_ns;
	s.sources = sources;
	s.cls = cls;
	s.sensor_id = (sources & V2X_SRC_SENSOR) ? 9 : 0;
	s.x = x;
	s.y = y;
	fx_geo(x, y, &lat, &lon);
	s.lat = (int32_t)lrint(lat * 1e7);
	s.lon = (int32_t)lrint(lon * 1e7);
	s.speed_mps = speed;
	s.heading_deg = heading < 0 ? heading + 360 : heading >= 360 ? heading - 360 : heading;
	s.accel_mps2 = NAN;
	s.length_m = len_m;
	s.width_m = width_m;
	roadmap_match(f->map, x, y, s.heading_deg, &s.match);
	f->env.now_ns = f->now;
	for (i = 0; i < f->n_det; i++)
		f->det[i].ops->on_sample(f->det[i].self, &s, &f->env);
}

/* One sample of a road user at ENU (x, y) at the harness time (4.5 m x
 * 1.8 m; a pedestrian 0.5 m). */
static inline void fx_sample(struct fx *f, uint64_t track, uint8_t cls, double x,
		      double y, float speed, float heading, uint8_t sources)
{
	fx_sample_size(f, track, cls, x, y, speed, heading, sources,
		       cls == V2X_CLASS_PEDESTRIAN ? 0.5f : 4.5f, 1.8f);
}

/* Advance the harness clock by @dt_ns and tick detectors and lifecycle. */
static inline void fx_tick(struct fx *f, uint64_t dt_ns)
{
	int i;

	f->now += dt_ns;
	f->env.now_ns = f->now;
	for (i = 0; i < f->n_det; i++)
		f->det[i].ops->tick(f->det[i].self, &f->env);
	events_tick(f->ev, f->now);
}

/* Number of transitions of @type with @status (-1 = any). */
static inline int fx_count(const struct fx *f, int type, int status)
{
	int i, n = 0;

	for (i = 0; i < f->n_out; i++)
		if (f->out[i].type == type &&
		    (status < 0 || f->out[i].status == status))
			n++;
	return n;
}

/* The first transition of @type with @status, or NULL. */
static inline const struct v2x_event *fx_first(const struct fx *f, int type,
					int status)
{
	int i;

	for (i = 0; i < f->n_out; i++)
		if (f->out[i].type == type && f->out[i].status == status)
			return &f->out[i];
	return NULL;
}

/* The first transition of @type with @status naming @track, or NULL. */
static inline const struct v2x_event *fx_first_track(const struct fx *f, int type,
						      int status, uint64_t track)
{
	for (int i = 0; i < f->n_out; i++) {
		const struct v2x_event *e = &f->out[i];

		if (e->type != type || e->status != status)
			continue;
		for (int k = 0; k < e->n_tracks; k++)
			if (e->tracks[k] == track)
				return e;
	}
	return NULL;
}

#endif
