/* SPDX-License-Identifier: MIT */
/*
 * detect_config.c - detector thresholds: defaults and INI keys.
 *
 * The keys are a table (section, key, type, offset, range) so that the
 * parser, the defaults and docs/events.md stay easy to compare.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "v2x/error.h"
#include "v2x/msg.h"
#include "detect_config.h"
#include "detect_common.h"

enum key_type { K_F32, K_U32, K_U64, K_BOOL, K_LEVEL };

struct key_desc {
	const char *section;
	const char *key;
	enum key_type type;
	size_t off;
	double min, max;
};

#define F(sec, name, field, lo, hi) \
	{ sec, name, K_F32, offsetof(struct detect_config, field), lo, hi }
#define U(sec, name, field, lo, hi) \
	{ sec, name, K_U32, offsetof(struct detect_config, field), lo, hi }
#define B(sec, name, field) \
	{ sec, name, K_BOOL, offsetof(struct detect_config, field), 0, 1 }

static const struct key_desc keys[] = {
	U("events", "hold_ms", events.hold_ms, 0, 3600000),
	U("events", "min_update_ms", events.min_update_ms, 0, 3600000),
	F("events", "update_move_m", events.update_move_m, 0, 10000),
	F("events", "merge_radius_m", events.merge_radius_m, 0, 10000),
	F("events", "merge_moving_m", events.merge_moving_m, 0, 10000),
	F("events", "merge_queue_m", events.merge_queue_m, 0, 10000),
	F("events", "merge_side_m", events.merge_side_m, 0, 10000),
	F("events", "reaction_radius_m", events.reaction_radius_m, 0, 10000),
	B("events", "jam_holds_stopped", events.jam_holds_stopped),
	U("events", "max_events", events.max_events, 1, 1000000),
	{ "events", "id_base", K_U64, offsetof(struct detect_config, events.id_base),
	  0, 1.8e19 },

	F("fusion", "lane_tolerance_m", fusion.lane_tolerance_m, 0, 50),
	F("fusion", "lane_tie_m", fusion.lane_tie_m, 0, 10),
	F("fusion", "gate_m", fusion.gate_m, 0.1, 1000),
	F("fusion", "gate_speed_mps", fusion.gate_speed_mps, 0.1, 1000),
	F("fusion", "gate_heading_deg", fusion.gate_heading_deg, 1, 180),
	F("fusion", "gate_lateral_m", fusion.gate_lateral_m, 0.1, 1000),
	U("fusion", "merge_frames", fusion.merge_frames, 1, 1000),
	U("fusion", "max_candidates", fusion.max_candidates, 1, 4096),
	U("fusion", "max_objects", fusion.max_objects, 16, 1u << 24),
	U("fusion", "object_ttl_ms", fusion.object_ttl_ms, 1, 3600000),
	U("fusion", "lane_capacity", fusion.lane_capacity, 16, 1u << 24),
	U("fusion", "stale_ms", fusion.stale_ms, 1, 3600000),
	U("fusion", "confirm_samples", fusion.confirm_samples, 1, 1000),
	U("fusion", "leader_max_age_ms", fusion.leader_max_age_ms, 1, 3600000),

	B("detect.stopped_vehicle", "enabled", stopped.enabled),
	F("detect.stopped_vehicle", "speed_mps", stopped.speed_mps, 0, 20),
	F("detect.stopped_vehicle", "resume_mps", stopped.resume_mps, 0, 30),
	U("detect.stopped_vehicle", "persist_ms", stopped.persist_ms, 0, 3600000),
	F("detect.stopped_vehicle", "queue_zone_m", stopped.queue_zone_m, 0, 2000),
	U("detect.stopped_vehicle", "green_grace_ms", stopped.green_grace_ms, 0, 3600000),
	F("detect.stopped_vehicle", "jam_lookahead_m", stopped.jam_lookahead_m, 0, 2000),
	F("detect.stopped_vehicle", "jam_speed_mps", stopped.jam_speed_mps, 0, 50),
	U("detect.stopped_vehicle", "junction_wait_ms", stopped.junction_wait_ms, 0, 3600000),
	U("detect.stopped_vehicle", "reason_hold_ms", stopped.reason_hold_ms, 0, 3600000),
	U("detect.stopped_vehicle", "crawl_ms", stopped.crawl_ms, 0, 3600000),
	U("detect.stopped_vehicle", "crawl_persist_ms", stopped.crawl_persist_ms, 0, 3600000),
	U("detect.stopped_vehicle", "obstruction_ms", stopped.obstruction_ms, 0, 3600000),
	F("detect.stopped_vehicle", "closure_upstream_m", stopped.closure_upstream_m, 0, 5000),
	U("detect.stopped_vehicle", "wrong_way_memory_ms", stopped.wrong_way_memory_ms, 0, 3600000),
	F("detect.stopped_vehicle", "queue_lookahead_m", stopped.queue_lookahead_m, 0, 1000),

	B("detect.hard_braking", "enabled", hard_braking.enabled),
	F("detect.hard_braking", "decel_mps2", hard_braking.decel_mps2, 0.5, 20),
	B("detect.hard_braking", "use_flag", hard_braking.use_flag),
	U("detect.hard_braking", "window_ms", hard_braking.window_ms, 50, 10000),
	F("detect.hard_braking", "min_speed_mps", hard_braking.min_speed_mps, 0, 50),
	U("detect.hard_braking", "warmup_ms", hard_braking.warmup_ms, 0, 10000),

	B("detect.wrong_way", "enabled", wrong_way.enabled),
	F("detect.wrong_way", "heading_err_deg", wrong_way.heading_err_deg, 90, 180),
	F("detect.wrong_way", "min_speed_mps", wrong_way.min_speed_mps, 0, 50),
	U("detect.wrong_way", "persist_ms", wrong_way.persist_ms, 0, 3600000),

	B("detect.speeding", "enabled", speeding.enabled),
	F("detect.speeding", "tolerance_pct", speeding.tolerance_pct, 0, 200),
	F("detect.speeding", "tolerance_kph", speeding.tolerance_kph, 0, 200),
	U("detect.speeding", "persist_ms", speeding.persist_ms, 0, 3600000),
	F("detect.speeding", "resume_kph", speeding.resume_kph, 0, 200),

	B("detect.congestion", "enabled", congestion.enabled),
	{ "detect.congestion", "min_level", K_LEVEL,
	  offsetof(struct detect_config, congestion.min_level), 1, 3 },
	F("detect.congestion", "light_ratio", congestion.light_ratio, 0, 1),
	F("detect.congestion", "moderate_ratio", congestion.moderate_ratio, 0, 1),
	F("detect.congestion", "heavy_ratio", congestion.heavy_ratio, 0, 1),
	F("detect.congestion", "moderate_density", congestion.moderate_density, 1, 1000),
	F("detect.congestion", "heavy_density", congestion.heavy_density, 1, 1000),
	F("detect.congestion", "hysteresis", congestion.hysteresis, 0, 0.5),
	U("detect.congestion", "up_ms", congestion.up_ms, 0, 3600000),
	U("detect.congestion", "down_ms", congestion.down_ms, 0, 3600000),
	U("detect.congestion", "min_vehicles", congestion.min_vehicles, 1, 10000),
	F("detect.congestion", "bin_m", congestion.bin_m, 10, 100000),
	F("detect.congestion", "min_segment_m", congestion.min_segment_m, 0, 100000),
	F("detect.congestion", "exclude_stop_m", congestion.exclude_stop_m, 0, 2000),

	B("detect.collision_risk", "enabled", collision.enabled),
	F("detect.collision_risk", "ttc_s", collision.ttc_s, 0.1, 30),
	F("detect.collision_risk", "min_closing_mps", collision.min_closing_mps, 0, 50),
	F("detect.collision_risk", "max_gap_m", collision.max_gap_m, 1, 500),
	U("detect.collision_risk", "persist_ms", collision.persist_ms, 0, 3600000),
	F("detect.collision_risk", "min_speed_mps", collision.min_speed_mps, 0, 50),
	F("detect.collision_risk", "path_heading_deg", collision.path_heading_deg, 1, 90),
	F("detect.collision_risk", "heading_min_mps", collision.heading_min_mps, 0, 50),
	F("detect.collision_risk", "lateral_filter_s", collision.lateral_filter_s, 0, 60),
	F("detect.collision_risk", "steer_away_mps", collision.steer_away_mps, 0, 10),
	F("detect.collision_risk", "lateral_margin_m", collision.lateral_margin_m, 0, 5),

	B("detect.vru_on_road", "enabled", vru.enabled),
	U("detect.vru_on_road", "persist_ms", vru.persist_ms, 0, 3600000),
	B("detect.vru_on_road", "cyclists", vru.cyclists),
};

/**
 * detect_config_defaults() - see detect_config.h.
 */
void detect_config_defaults(struct detect_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->events.hold_ms = 2000;
	cfg->events.min_update_ms = 1000;
	cfg->events.update_move_m = 5.0f;
	cfg->events.merge_radius_m = 8.0f;
	cfg->events.merge_moving_m = 60.0f;
	cfg->events.merge_queue_m = 60.0f;
	cfg->events.merge_side_m = 15.0f;
	cfg->events.reaction_radius_m = 60.0f;
	cfg->events.jam_holds_stopped = 0;
	cfg->events.max_events = 4096;
	cfg->events.id_base = 0;

	cfg->fusion.lane_tolerance_m = 1.0f;
	cfg->fusion.lane_tie_m = 0.25f;
	cfg->fusion.gate_m = 5.0f;
	cfg->fusion.gate_speed_mps = 5.0f;
	cfg->fusion.gate_heading_deg = 45.0f;
	cfg->fusion.gate_lateral_m = 2.0f;
	cfg->fusion.merge_frames = 3;
	cfg->fusion.max_candidates = 512;
	cfg->fusion.max_objects = 65536;
	cfg->fusion.object_ttl_ms = 5000;
	cfg->fusion.lane_capacity = 65536;
	cfg->fusion.stale_ms = 2000;
	cfg->fusion.confirm_samples = 3;
	cfg->fusion.leader_max_age_ms = 500;

	cfg->stopped.enabled = 1;
	cfg->stopped.speed_mps = 0.5f;
	cfg->stopped.resume_mps = 2.0f;
	cfg->stopped.persist_ms = 800;
	cfg->stopped.queue_zone_m = 80.0f;
	cfg->stopped.green_grace_ms = 20000;
	cfg->stopped.jam_lookahead_m = 60.0f;
	cfg->stopped.jam_speed_mps = 5.0f;
	cfg->stopped.junction_wait_ms = 60000;
	cfg->stopped.reason_hold_ms = 3000;
	cfg->stopped.crawl_ms = 10000;
	cfg->stopped.crawl_persist_ms = 60000;
	cfg->stopped.obstruction_ms = 120000;
	cfg->stopped.closure_upstream_m = 200.0f;
	cfg->stopped.wrong_way_memory_ms = 60000;
	cfg->stopped.queue_lookahead_m = 120.0f;

	cfg->hard_braking.enabled = 1;
	cfg->hard_braking.decel_mps2 = 4.0f;
	cfg->hard_braking.use_flag = 1;
	cfg->hard_braking.window_ms = 1000;
	cfg->hard_braking.min_speed_mps = 2.0f;
	cfg->hard_braking.warmup_ms = 1000;

	cfg->wrong_way.enabled = 1;
	cfg->wrong_way.heading_err_deg = 135.0f;
	cfg->wrong_way.min_speed_mps = 2.5f;
	cfg->wrong_way.persist_ms = 1000;

	cfg->speeding.enabled = 1;
	cfg->speeding.tolerance_pct = 10.0f;
	cfg->speeding.tolerance_kph = 5.0f;
	cfg->speeding.persist_ms = 800;
	cfg->speeding.resume_kph = 3.0f;

	cfg->congestion.enabled = 1;
	cfg->congestion.min_level = V2X_CONGESTION_MODERATE;
	cfg->congestion.light_ratio = 0.75f;
	cfg->congestion.moderate_ratio = 0.5f;
	cfg->congestion.heavy_ratio = 0.25f;
	cfg->congestion.moderate_density = 40.0f;
	cfg->congestion.heavy_density = 80.0f;
	cfg->congestion.hysteresis = 0.05f;
	cfg->congestion.up_ms = 1000;
	cfg->congestion.down_ms = 5000;
	cfg->congestion.min_vehicles = 4;
	cfg->congestion.bin_m = 200.0f;
	cfg->congestion.min_segment_m = 50.0f;
	cfg->congestion.exclude_stop_m = 150.0f;

	cfg->collision.enabled = 1;
	cfg->collision.ttc_s = 1.5f;
	cfg->collision.min_closing_mps = 1.0f;
	cfg->collision.max_gap_m = 60.0f;
	cfg->collision.persist_ms = 800;
	cfg->collision.min_speed_mps = 2.5f;
	cfg->collision.path_heading_deg = 45.0f;
	cfg->collision.heading_min_mps = 1.0f;
	cfg->collision.lateral_filter_s = 2.0f;
	cfg->collision.steer_away_mps = 0.3f;
	cfg->collision.lateral_margin_m = 0.5f;

	cfg->vru.enabled = 1;
	cfg->vru.persist_ms = 500;
	cfg->vru.cyclists = 1;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "1") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(v, "0") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
		*out = 0;
		return 0;
	}
	return V2X_E_SYNTAX;
}

static int parse_number(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (end == v || errno)
		return V2X_E_SYNTAX;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || !isfinite(*out))
		return V2X_E_SYNTAX;
	return 0;
}

/**
 * detect_config_set() - see detect_config.h.
 */
int detect_config_set(struct detect_config *cfg, const char *section,
		      const char *key, const char *value, char *err,
		      size_t errlen)
{
	const struct key_desc *kd = NULL;
	int known_section = 0;
	char *base = (char *)cfg;
	double num = 0;
	int ret = 0, b, lvl;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].section, section))
			continue;
		known_section = 1;
		if (!strcmp(keys[i].key, key)) {
			kd = &keys[i];
			break;
		}
	}
	if (!kd) {
		ret = V2X_E_MISSING;
		if (err)
			snprintf(err, errlen, known_section ?
				 "[%s]: unknown key '%s'" :
				 "unknown section [%s] (key '%s')",
				 section, key);
		goto out;
	}

	switch (kd->type) {
	case K_BOOL:
		ret = parse_bool(value, &b);
		if (ret < 0) {
			if (err)
				snprintf(err, errlen,
					 "[%s] %s: '%s' is not a boolean",
					 section, key, value);
			goto out;
		}
		*(int *)(base + kd->off) = b;
		goto out;
	case K_LEVEL:
		lvl = v2x_congestion_level_from_name(value);
		if (lvl < 0) {
			ret = parse_number(value, &num);
			if (ret < 0) {
				if (err)
					snprintf(err, errlen,
						 "[%s] %s: '%s' is not a level (light, moderate, heavy)",
						 section, key, value);
				goto out;
			}
			lvl = (int)num;
		}
		if (lvl < kd->min || lvl > kd->max) {
			ret = V2X_E_RANGE;
			if (err)
				snprintf(err, errlen,
					 "[%s] %s: level must be light, moderate or heavy",
					 section, key);
			goto out;
		}
		*(int *)(base + kd->off) = lvl;
		goto out;
	default:
		break;
	}

	ret = parse_number(value, &num);
	if (ret < 0) {
		if (err)
			snprintf(err, errlen, "[%s] %s: '%s' is not a number",
				 section, key, value);
		goto out;
	}
	if (num < kd->min || num > kd->max ||
	    (kd->type != K_F32 && num != floor(num))) {
		ret = V2X_E_RANGE;
		if (err)
			snprintf(err, errlen,
				 "[%s] %s: %s out of range (%g..%g%s)", section,
				 key, value, kd->min, kd->max,
				 kd->type != K_F32 ? ", integer" : "");
		goto out;
	}
	switch (kd->type) {
	case K_F32:
		*(float *)(base + kd->off) = (float)num;
		break;
	case K_U32:
		*(uint32_t *)(base + kd->off) = (uint32_t)num;
		break;
	case K_U64:
		*(uint64_t *)(base + kd->off) = (uint64_t)num;
		break;
	default:
		break;
	}
out:
	return ret;
}

/**
 * detect_config_write_ini() - see detect_config.h.
 */
void detect_config_write_ini(const struct detect_config *cfg, FILE *out)
{
	const char *base = (const char *)cfg;
	const char *section = "";
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_desc *kd = &keys[i];
		const char *field = base + kd->off;

		if (strcmp(section, kd->section) != 0) {
			section = kd->section;
			fprintf(out, "\n[%s]\n", section);
		}
		switch (kd->type) {
		case K_F32:
			fprintf(out, "%s = %g\n", kd->key,
				(double)*(const float *)field);
			break;
		case K_U32:
			fprintf(out, "%s = %u\n", kd->key,
				(unsigned)*(const uint32_t *)field);
			break;
		case K_U64:
			fprintf(out, "%s = %llu\n", kd->key,
				(unsigned long long)*(const uint64_t *)field);
			break;
		case K_BOOL:
			fprintf(out, "%s = %s\n", kd->key,
				*(const int *)field ? "true" : "false");
			break;
		case K_LEVEL:
			fprintf(out, "%s = %s\n", kd->key,
				v2x_congestion_level_name(*(const int *)field));
			break;
		}
	}
}

typedef struct detector (*detector_ctor)(const struct detect_config *cfg,
					 struct det_lanes *dl);

/**
 * detect_all_new() - see detect_config.h.  The detectors share one track
 * table, so a sample costs one lookup instead of one per detector.
 */
int detect_all_new(const struct detect_config *cfg, struct detector *out,
		   int max)
{
	struct {
		int enabled;
		detector_ctor ctor;
	} all[] = {
		{ cfg->stopped.enabled, detect__stopped_new },
		{ cfg->hard_braking.enabled, detect__hard_braking_new },
		{ cfg->wrong_way.enabled, detect__wrong_way_new },
		{ cfg->speeding.enabled, detect__speeding_new },
		{ cfg->congestion.enabled, detect__congestion_new },
		{ cfg->collision.enabled, detect__collision_new },
		{ cfg->vru.enabled, detect__vru_new },
	};
	struct det_lanes *dl;
	int n = 0, ret = 0;
	size_t i;

	dl = detect__lanes_for(cfg, NULL);
	if (!dl)
		return -ENOMEM;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!all[i].enabled)
			continue;
		if (n >= max) {
			ret = V2X_E_LIMIT;
			goto fail;
		}
		out[n] = all[i].ctor(cfg, dl);
		if (!out[n].ops) {
			ret = -ENOMEM;
			goto fail;
		}
		n++;
	}
	ret = n;
	goto out;
fail:
	while (n > 0)
		detect_free(&out[--n]);
out:
	detect__lanes_free(dl); /* the detectors hold their references */
	return ret;
}

/**
 * detect_free() - see detect_config.h.
 */
void detect_free(struct detector *d)
{
	if (!d || !d->ops)
		return;
	if (d->ops->free)
		d->ops->free(d->self);
	d->ops = NULL;
	d->self = NULL;
}
