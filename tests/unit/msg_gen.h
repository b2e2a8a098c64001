/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/msg_gen.h - seeded random valid messages of every type and
 * field-wise comparison, shared by the msgpack and JSON tests.
 */
#ifndef V2X_TESTS_MSG_GEN_H
#define V2X_TESTS_MSG_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "v2x/msg.h"

struct gen_rng {
	uint64_t s;
};

static inline uint64_t gen_next(struct gen_rng *r)
{
	/* xorshift64*: deterministic for a seed, good enough for tests. */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

/* Uniform in [lo, hi]. */
static inline int64_t gen_range(struct gen_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)(hi - lo) + 1;
	return lo + (int64_t)(span ? gen_next(r) % span : gen_next(r));
}

/* Often an edge of the range, otherwise uniform: edges find more bugs. */
static inline int64_t gen_val(struct gen_rng *r, int64_t lo, int64_t hi)
{
	switch (gen_next(r) % 8) {
	case 0:
		return lo;
	case 1:
		return hi;
	default:
		return gen_range(r, lo, hi);
	}
}

static inline int32_t gen_lat(struct gen_rng *r)
{
	return (int32_t)gen_val(r, -900000000, 900000001);
}

static inline int32_t gen_lon(struct gen_rng *r)
{
	return (int32_t)gen_val(r, -1799999999, 1800000001);
}

static inline void gen_bsm(struct gen_rng *r, struct v2x_msg *m)
{
	struct v2x_bsm *b = &m->u.bsm;

	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_BSM;
	b->ts_ns = (uint64_t)gen_val(r, 0, INT64_MAX);
	b->id = (uint32_t)gen_val(r, 0, UINT32_MAX);
	b->msg_cnt = (uint8_t)gen_val(r, 0, 127);
	b->sec_mark = (uint16_t)gen_val(r, 0, 65535);
	b->lat = gen_lat(r);
	b->lon = gen_lon(r);
	b->elev = (int32_t)gen_val(r, -4096, 61439);
	b->acc_semi_major = (uint8_t)gen_val(r, 0, 255);
	b->acc_semi_minor = (uint8_t)gen_val(r, 0, 255);
	b->acc_orient = (uint16_t)gen_val(r, 0, 65535);
	b->transmission = (uint8_t)gen_val(r, 0, 7);
	b->speed = (uint16_t)gen_val(r, 0, 8191);
	b->heading = (uint16_t)gen_val(r, 0, 28800);
	b->angle = (int8_t)gen_val(r, -126, 127);
	b->accel_long = (int16_t)gen_val(r, -2000, 2001);
	b->accel_lat = (int16_t)gen_val(r, -2000, 2001);
	b->accel_vert = (int8_t)gen_val(r, -127, 127);
	b->yaw_rate = (int16_t)gen_val(r, -32767, 32767);
	b->wheel_brakes = (uint8_t)gen_val(r, 0, 31);
	b->traction = (uint8_t)gen_val(r, 0, 3);
	b->abs = (uint8_t)gen_val(r, 0, 3);
	b->scs = (uint8_t)gen_val(r, 0, 3);
	b->brake_boost = (uint8_t)gen_val(r, 0, 2);
	b->aux_brakes = (uint8_t)gen_val(r, 0, 3);
	b->width_cm = (uint16_t)gen_val(r, 0, 1023);
	b->length_cm = (uint16_t)gen_val(r, 0, 4095);
	b->has_events = (uint8_t)(gen_next(r) & 1);
	if (b->has_events)
		b->events = (uint16_t)gen_val(r, 0, 8191);
}

static inline void gen_objects(struct gen_rng *r, struct v2x_msg *m,
			       unsigned max_n)
{
	struct v2x_objects *o = &m->u.objects;

	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_OBJECTS;
	o->ts_ns = (uint64_t)gen_val(r, 0, INT64_MAX);
	o->sensor_id = (uint32_t)gen_val(r, 0, UINT32_MAX);
	o->n = (uint16_t)gen_val(r, 0, max_n);
	for (unsigned i = 0; i < o->n; i++) {
		struct v2x_object *x = &o->obj[i];
		x->id = (uint32_t)gen_val(r, 0, UINT32_MAX);
		x->cls = (uint8_t)gen_val(r, 0, V2X_CLASS_MAX);
		x->confidence = (uint8_t)gen_val(r, 0, 100);
		x->lat = gen_lat(r);
		x->lon = gen_lon(r);
		x->speed = (uint16_t)gen_val(r, 0, 8191);
		x->heading = (uint16_t)gen_val(r, 0, 28800);
		x->length_cm = (uint16_t)gen_val(r, 0, 4095);
		x->width_cm = (uint16_t)gen_val(r, 0, 1023);
	}
}

static inline void gen_spat(struct gen_rng *r, struct v2x_msg *m)
{
	struct v2x_spat *s = &m->u.spat;

	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_SPAT;
	s->ts_ns = (uint64_t)gen_val(r, 0, INT64_MAX);
	s->intersection_id = (uint32_t)gen_val(r, 0, 65535);
	s->region = (uint16_t)gen_val(r, 0, 65535);
	s->revision = (uint8_t)gen_val(r, 0, 127);
	s->status = (uint16_t)gen_val(r, 0, 65535);
	s->moy = (uint32_t)gen_val(r, 0, 527040);
	s->time_stamp = (uint16_t)gen_val(r, 0, 65535);
	s->n = (uint8_t)gen_val(r, 0, V2X_SPAT_MOVEMENTS_MAX);
	for (unsigned i = 0; i < s->n; i++) {
		struct v2x_movement *mv = &s->mv[i];
		mv->signal_group = (uint8_t)gen_val(r, 0, 255);
		mv->state = (uint8_t)gen_val(r, 0, 9);
		mv->min_end = (uint16_t)gen_val(r, 0, 36001);
		mv->max_end = (uint16_t)gen_val(r, 0, 36001);
		mv->likely = (uint16_t)gen_val(r, 0, 36001);
	}
}

static inline void gen_event(struct gen_rng *r, struct v2x_msg *m)
{
	struct v2x_event *e = &m->u.event;

	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_EVENT;
	e->ts_ns = (uint64_t)gen_val(r, 0, INT64_MAX);
	e->id = (uint64_t)gen_val(r, 0, INT64_MAX);
	e->type = (uint8_t)gen_val(r, 0, V2X_EVT_TYPE_COUNT - 1);
	e->status = (uint8_t)gen_val(r, 0, 2);
	e->severity = (uint8_t)gen_val(r, 0, 7);
	if (e->type == V2X_EVT_CONGESTION)
		e->level = (uint8_t)gen_val(r, 0, 3);
	e->lat = gen_lat(r);
	e->lon = gen_lon(r);
	e->lane = (int32_t)gen_val(r, -1, INT32_MAX);
	e->segment = (int32_t)gen_val(r, -1, INT32_MAX);
	e->start_ts_ns = (uint64_t)gen_val(r, 0, INT64_MAX);
	e->last_ts_ns = (uint64_t)gen_val(r, 0, INT64_MAX);
	e->confidence = (float)gen_range(r, 0, 1000000) / 1e6f;
	e->sources = (uint8_t)gen_range(r, 0, 3);
	if (e->sources & V2X_SRC_SENSOR)
		e->n_sensors = (uint8_t)gen_range(r, 0, V2X_EVENT_SENSORS_MAX);
	for (unsigned i = 0; i < e->n_sensors; i++)
		e->sensors[i] = (uint32_t)gen_val(r, 0, UINT32_MAX);
	e->n_tracks = (uint8_t)gen_range(r, 0, V2X_EVENT_TRACKS_MAX);
	for (unsigned i = 0; i < e->n_tracks; i++)
		e->tracks[i] = (uint64_t)gen_val(r, 0, INT64_MAX);
}

/* Any type, chosen by the generator. */
static inline void gen_any(struct gen_rng *r, struct v2x_msg *m)
{
	switch (gen_next(r) % 4) {
	case 0:
		gen_bsm(r, m);
		break;
	case 1:
		gen_objects(r, m, V2X_OBJECTS_MAX);
		break;
	case 2:
		gen_spat(r, m);
		break;
	default:
		gen_event(r, m);
		break;
	}
}

/* Field-wise equality of the valid part of two messages. */
static inline bool msg_equal(const struct v2x_msg *a, const struct v2x_msg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case V2X_MSG_BSM: {
		struct v2x_bsm x = a->u.bsm, y = b->u.bsm;
		return x.ts_ns == y.ts_ns && x.id == y.id &&
		       x.msg_cnt == y.msg_cnt && x.sec_mark == y.sec_mark &&
		       x.lat == y.lat && x.lon == y.lon && x.elev == y.elev &&
		       x.acc_semi_major == y.acc_semi_major &&
		       x.acc_semi_minor == y.acc_semi_minor &&
		       x.acc_orient == y.acc_orient &&
		       x.transmission == y.transmission &&
		       x.speed == y.speed && x.heading == y.heading &&
		       x.angle == y.angle && x.accel_long == y.accel_long &&
		       x.accel_lat == y.accel_lat &&
		       x.accel_vert == y.accel_vert &&
		       x.yaw_rate == y.yaw_rate &&
		       x.wheel_brakes == y.wheel_brakes &&
		       x.traction == y.traction && x.abs == y.abs &&
		       x.scs == y.scs && x.brake_boost == y.brake_boost &&
		       x.aux_brakes == y.aux_brakes &&
		       x.width_cm == y.width_cm && x.length_cm == y.length_cm &&
		       x.has_events == y.has_events && x.events == y.events;
	}
	case V2X_MSG_OBJECTS: {
		const struct v2x_objects *x = &a->u.objects, *y = &b->u.objects;
		if (x->ts_ns != y->ts_ns || x->sensor_id != y->sensor_id ||
		    x->n != y->n)
			return false;
		for (unsigned i = 0; i < x->n; i++) {
			const struct v2x_object *p = &x->obj[i], *q = &y->obj[i];
			if (p->id != q->id || p->cls != q->cls ||
			    p->confidence != q->confidence || p->lat != q->lat ||
			    p->lon != q->lon || p->speed != q->speed ||
			    p->heading != q->heading ||
			    p->length_cm != q->length_cm ||
			    p->width_cm != q->width_cm)
				return false;
		}
		return true;
	}
	case V2X_MSG_SPAT: {
		const struct v2x_spat *x = &a->u.spat, *y = &b->u.spat;
		if (x->ts_ns != y->ts_ns ||
		    x->intersection_id != y->intersection_id ||
		    x->region != y->region || x->revision != y->revision ||
		    x->status != y->status || x->moy != y->moy ||
		    x->time_stamp != y->time_stamp || x->n != y->n)
			return false;
		for (unsigned i = 0; i < x->n; i++) {
			const struct v2x_movement *p = &x->mv[i], *q = &y->mv[i];
			if (p->signal_group != q->signal_group ||
			    p->state != q->state || p->min_end != q->min_end ||
			    p->max_end != q->max_end || p->likely != q->likely)
				return false;
		}
		return true;
	}
	case V2X_MSG_EVENT: {
		const struct v2x_event *x = &a->u.event, *y = &b->u.event;
		if (x->ts_ns != y->ts_ns || x->id != y->id ||
		    x->type != y->type || x->status != y->status ||
		    x->severity != y->severity || x->level != y->level ||
		    x->lat != y->lat || x->lon != y->lon ||
		    x->lane != y->lane || x->segment != y->segment ||
		    x->start_ts_ns != y->start_ts_ns ||
		    x->last_ts_ns != y->last_ts_ns ||
		    x->confidence != y->confidence ||
		    x->sources != y->sources || x->n_sensors != y->n_sensors ||
		    x->n_tracks != y->n_tracks)
			return false;
		for (unsigned i = 0; i < x->n_sensors; i++)
			if (x->sensors[i] != y->sensors[i])
				return false;
		for (unsigned i = 0; i < x->n_tracks; i++)
			if (x->tracks[i] != y->tracks[i])
				return false;
		return true;
	}
	default:
		return false;
	}
}

#endif
