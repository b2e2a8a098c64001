/* SPDX-License-Identifier: MIT */
/*
 * codecs/msgpack.c - the native msgpack frame (docs/wire.md) for every type
 * of the message model.
 *
 * Encoding: the hot frames (bsm, objects) are written by direct writers
 * straight into the caller's buffer, everything else goes through
 * msgpack-c's msgpack_packer with a write callback into the caller's
 * fixed buffer; both write the same octets and allocate nothing (see
 * "Direct writers" below and docs/wire.md, "Encoding").
 *
 * Decoding walks the bytes once with a bounds-checked pull reader and
 * stores each value straight into the struct: no tree, no allocation, no
 * scratch memory.  It does not use msgpack-c: msgpack_unpack() allocates
 * every array and map from a msgpack_zone sized by the count announced in
 * the input (a five-byte frame claiming 2^32 entries makes it malloc tens
 * of GiB), and msgpack-c's parser engine alone, even instantiated without
 * allocation, costs more than our 300 ns budget (numbers in the reader
 * section below and in docs/wire.md).  Announced counts are checked against
 * the octets left before anything loops on them, and nesting is bounded
 * by MSGPACK__MAX_DEPTH (V2X_E_NESTING).
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgpack_fast.h"
#include "msgpack_int.h"

#include <msgpack/object.h>
#include <msgpack/pack.h>

#include "v2x/error.h"
#include "v2x/msgpack.h"

/* Largest integer any uint64 field may carry: int64-safe for JSON tools. */
#define U63_MAX INT64_MAX

/* ------------------------------------------------------------------ */
/* Field tables                                                        */
/* ------------------------------------------------------------------ */

enum fkind {
	FK_UINT, /* unsigned integer of 1, 2, 4 or 8 octets */
	FK_SINT, /* signed integer of 1, 2 or 4 octets */
	FK_DEG,  /* int32 in 1e-7 degree, float64 degrees on the wire */
	FK_F32,  /* float, float32 on the wire */
	FK_ENUM, /* uint8 enum value, its name (a string) on the wire */
};

struct field {
	const char *name;
	uint8_t len;
	uint8_t kind;
	uint8_t size;
	uint8_t opt;      /* optional; presence byte at has_off */
	uint16_t off;
	uint16_t has_off;
	int64_t min, max;
	const char *(*enum_name)(int value);
	int (*enum_value)(const char *name);
};

#define FLD(st, key, k, member, lo, hi)                                    \
	{ key, sizeof(key) - 1, k, sizeof(((struct st *)0)->member), 0,     \
	  offsetof(struct st, member), 0, lo, hi, NULL, NULL }
#define OPT(st, key, k, member, has, lo, hi)                               \
	{ key, sizeof(key) - 1, k, sizeof(((struct st *)0)->member), 1,     \
	  offsetof(struct st, member), offsetof(struct st, has), lo, hi,    \
	  NULL, NULL }
#define ENUMF(st, key, member, hi, to_name, from_name)                     \
	{ key, sizeof(key) - 1, FK_ENUM, sizeof(((struct st *)0)->member), \
	  0, offsetof(struct st, member), 0, 0, hi, to_name, from_name }

#define LAT_MIN (-900000000)
#define LAT_MAX 900000001
#define LON_MIN (-1799999999)
#define LON_MAX 1800000001

static const struct field bsm_fields[] = {
	FLD(v2x_bsm, "ts", FK_UINT, ts_ns, 0, U63_MAX),
	FLD(v2x_bsm, "id", FK_UINT, id, 0, UINT32_MAX),
	FLD(v2x_bsm, "cnt", FK_UINT, msg_cnt, 0, 127),
	FLD(v2x_bsm, "sec", FK_UINT, sec_mark, 0, 65535),
	FLD(v2x_bsm, "lat", FK_DEG, lat, LAT_MIN, LAT_MAX),
	FLD(v2x_bsm, "lon", FK_DEG, lon, LON_MIN, LON_MAX),
	FLD(v2x_bsm, "elev", FK_SINT, elev, -4096, 61439),
	FLD(v2x_bsm, "acc_maj", FK_UINT, acc_semi_major, 0, 255),
	FLD(v2x_bsm, "acc_min", FK_UINT, acc_semi_minor, 0, 255),
	FLD(v2x_bsm, "acc_orient", FK_UINT, acc_orient, 0, 65535),
	FLD(v2x_bsm, "trans", FK_UINT, transmission, 0, 7),
	FLD(v2x_bsm, "speed", FK_UINT, speed, 0, 8191),
	FLD(v2x_bsm, "heading", FK_UINT, heading, 0, 28800),
	FLD(v2x_bsm, "angle", FK_SINT, angle, -126, 127),
	FLD(v2x_bsm, "accel_long", FK_SINT, accel_long, -2000, 2001),
	FLD(v2x_bsm, "accel_lat", FK_SINT, accel_lat, -2000, 2001),
	FLD(v2x_bsm, "accel_vert", FK_SINT, accel_vert, -127, 127),
	FLD(v2x_bsm, "yaw", FK_SINT, yaw_rate, -32767, 32767),
	FLD(v2x_bsm, "brakes", FK_UINT, wheel_brakes, 0, 31),
	FLD(v2x_bsm, "traction", FK_UINT, traction, 0, 3),
	FLD(v2x_bsm, "abs", FK_UINT, abs, 0, 3),
	FLD(v2x_bsm, "scs", FK_UINT, scs, 0, 3),
	FLD(v2x_bsm, "boost", FK_UINT, brake_boost, 0, 2),
	FLD(v2x_bsm, "aux_brakes", FK_UINT, aux_brakes, 0, 3),
	FLD(v2x_bsm, "width", FK_UINT, width_cm, 0, 1023),
	FLD(v2x_bsm, "length", FK_UINT, length_cm, 0, 4095),
	OPT(v2x_bsm, "events", FK_UINT, events, has_events, 0, 8191),
};

static const struct field objects_fields[] = {
	FLD(v2x_objects, "ts", FK_UINT, ts_ns, 0, U63_MAX),
	FLD(v2x_objects, "sensor", FK_UINT, sensor_id, 0, UINT32_MAX),
};

static const struct field object_fields[] = {
	FLD(v2x_object, "id", FK_UINT, id, 0, UINT32_MAX),
	ENUMF(v2x_object, "cls", cls, V2X_CLASS_MAX, v2x_class_name,
	      v2x_class_from_name),
	FLD(v2x_object, "lat", FK_DEG, lat, LAT_MIN, LAT_MAX),
	FLD(v2x_object, "lon", FK_DEG, lon, LON_MIN, LON_MAX),
	FLD(v2x_object, "speed", FK_UINT, speed, 0, 8191),
	FLD(v2x_object, "heading", FK_UINT, heading, 0, 28800),
	FLD(v2x_object, "len", FK_UINT, length_cm, 0, 4095),
	FLD(v2x_object, "wid", FK_UINT, width_cm, 0, 1023),
	FLD(v2x_object, "conf", FK_UINT, confidence, 0, 100),
};

static const struct field spat_fields[] = {
	FLD(v2x_spat, "ts", FK_UINT, ts_ns, 0, U63_MAX),
	FLD(v2x_spat, "id", FK_UINT, intersection_id, 0, 65535),
	FLD(v2x_spat, "region", FK_UINT, region, 0, 65535),
	FLD(v2x_spat, "rev", FK_UINT, revision, 0, 127),
	FLD(v2x_spat, "status", FK_UINT, status, 0, 65535),
	FLD(v2x_spat, "moy", FK_UINT, moy, 0, 527040),
	FLD(v2x_spat, "dsec", FK_UINT, time_stamp, 0, 65535),
};

static const struct field movement_fields[] = {
	FLD(v2x_movement, "sg", FK_UINT, signal_group, 0, 255),
	FLD(v2x_movement, "state", FK_UINT, state, 0,
	    V2X_PHASE_CAUTION_CONFLICTING),
	FLD(v2x_movement, "min_end", FK_UINT, min_end, 0, V2X_TIMEMARK_UNKNOWN),
	FLD(v2x_movement, "max_end", FK_UINT, max_end, 0, V2X_TIMEMARK_UNKNOWN),
	FLD(v2x_movement, "likely", FK_UINT, likely, 0, V2X_TIMEMARK_UNKNOWN),
};

static const struct field event_fields[] = {
	FLD(v2x_event, "ts", FK_UINT, ts_ns, 0, U63_MAX),
	FLD(v2x_event, "id", FK_UINT, id, 0, U63_MAX),
	ENUMF(v2x_event, "type", type, V2X_EVT_TYPE_COUNT - 1,
	      v2x_event_type_name, v2x_event_type_from_name),
	ENUMF(v2x_event, "status", status, V2X_EVT_CLEARED,
	      v2x_event_status_name, v2x_event_status_from_name),
	FLD(v2x_event, "severity", FK_UINT, severity, 0, 7),
	FLD(v2x_event, "lat", FK_DEG, lat, LAT_MIN, LAT_MAX),
	FLD(v2x_event, "lon", FK_DEG, lon, LON_MIN, LON_MAX),
	FLD(v2x_event, "lane", FK_SINT, lane, -1, INT32_MAX),
	FLD(v2x_event, "segment", FK_SINT, segment, -1, INT32_MAX),
	FLD(v2x_event, "start_ts", FK_UINT, start_ts_ns, 0, U63_MAX),
	FLD(v2x_event, "last_ts", FK_UINT, last_ts_ns, 0, U63_MAX),
	FLD(v2x_event, "confidence", FK_F32, confidence, 0, 1),
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* Type names on the wire, indexed by enum v2x_msg_type. */
static const char *const type_names[] = {
	[V2X_MSG_BSM] = "bsm",
	[V2X_MSG_OBJECTS] = "objects",
	[V2X_MSG_SPAT] = "spat",
	[V2X_MSG_EVENT] = "event",
};

/* ------------------------------------------------------------------ */
/* Struct access                                                       */
/* ------------------------------------------------------------------ */

static uint64_t load_u(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

static int64_t load_s(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1: {
		int8_t v;
		memcpy(&v, p, 1);
		return v;
	}
	case 2: {
		int16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	default: {
		int32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	}
}

/* Stores v, already range-checked for the field, in size octets. */
static void store(uint8_t *p, unsigned size, int64_t v)
{
	switch (size) {
	case 1: {
		uint8_t b = (uint8_t)v;
		memcpy(p, &b, 1);
		break;
	}
	case 2: {
		uint16_t h = (uint16_t)v;
		memcpy(p, &h, 2);
		break;
	}
	case 4: {
		uint32_t w = (uint32_t)v;
		memcpy(p, &w, 4);
		break;
	}
	default: {
		uint64_t q = (uint64_t)v;
		memcpy(p, &q, 8);
		break;
	}
	}
}

/* ------------------------------------------------------------------ */
/* Writing a frame to a sink                                           */
/* ------------------------------------------------------------------ */

static int put_key(struct msgpack__sink *s, const char *k)
{
	return s->ops->key(s, k, strlen(k));
}

static uint32_t count_present(const struct field *tab, size_t n,
			      const uint8_t *base)
{
	uint32_t count = 0;

	for (size_t i = 0; i < n; i++)
		if (!tab[i].opt || base[tab[i].has_off])
			count++;
	return count;
}

static int put_field(struct msgpack__sink *s, const struct field *f,
		     const uint8_t *base)
{
	const uint8_t *p = base + f->off;
	int rc = s->ops->key(s, f->name, f->len);

	if (rc < 0)
		return rc;
	switch (f->kind) {
	case FK_UINT: {
		uint64_t v = load_u(p, f->size);
		if (v < (uint64_t)f->min || v > (uint64_t)f->max)
			return V2X_E_RANGE;
		return s->ops->uint(s, v);
	}
	case FK_SINT: {
		int64_t v = load_s(p, f->size);
		if (v < f->min || v > f->max)
			return V2X_E_RANGE;
		return v >= 0 ? s->ops->uint(s, (uint64_t)v) : s->ops->sint(s, v);
	}
	case FK_DEG: {
		int64_t v = load_s(p, 4);
		if (v < f->min || v > f->max)
			return V2X_E_RANGE;
		return s->ops->f64(s, (double)v / 1e7);
	}
	case FK_F32: {
		float v;
		memcpy(&v, p, sizeof(v));
		if (!(v >= (float)f->min && v <= (float)f->max))
			return V2X_E_RANGE;
		return s->ops->f32(s, v);
	}
	default: {
		const char *name = f->enum_name((int)load_u(p, f->size));
		if (!name)
			return V2X_E_RANGE;
		return s->ops->str(s, name, strlen(name));
	}
	}
}

static int put_fields(struct msgpack__sink *s, const struct field *tab,
		      size_t n, const uint8_t *base)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].opt && !base[tab[i].has_off])
			continue;
		int rc = put_field(s, &tab[i], base);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One map per element of a nested array (objs, mv). */
static int put_array_of_maps(struct msgpack__sink *s, const struct field *tab,
			     size_t n, const uint8_t *first, size_t stride,
			     uint32_t count)
{
	int rc = s->ops->array(s, count);

	for (uint32_t i = 0; rc >= 0 && i < count; i++) {
		const uint8_t *base = first + i * stride;
		rc = s->ops->map(s, count_present(tab, n, base));
		if (rc >= 0)
			rc = put_fields(s, tab, n, base);
		if (rc >= 0)
			rc = s->ops->map_end(s);
	}
	if (rc >= 0)
		rc = s->ops->array_end(s);
	return rc;
}

static int put_sources(struct msgpack__sink *s, const struct v2x_event *e)
{
	uint32_t count = 0;
	int rc;

	if (e->sources & ~(V2X_SRC_V2X | V2X_SRC_SENSOR))
		return V2X_E_RANGE;
	if (e->n_sensors > V2X_EVENT_SENSORS_MAX)
		return V2X_E_RANGE;
	if (e->n_sensors && !(e->sources & V2X_SRC_SENSOR))
		return V2X_E_RANGE;
	if (e->sources & V2X_SRC_V2X)
		count++;
	if (e->n_sensors)
		count += e->n_sensors;
	else if (e->sources & V2X_SRC_SENSOR)
		count++;

	rc = s->ops->array(s, count);
	if (rc >= 0 && (e->sources & V2X_SRC_V2X))
		rc = s->ops->str(s, "v2x", 3);
	for (unsigned i = 0; rc >= 0 && i < e->n_sensors; i++) {
		char text[24];
		int len = snprintf(text, sizeof(text), "sensor:%u",
				   (unsigned)e->sensors[i]);
		rc = s->ops->str(s, text, (size_t)len);
	}
	if (rc >= 0 && !e->n_sensors && (e->sources & V2X_SRC_SENSOR))
		rc = s->ops->str(s, "sensor", 6);
	if (rc >= 0)
		rc = s->ops->array_end(s);
	return rc;
}

static int put_event_extra(struct msgpack__sink *s, const struct v2x_event *e)
{
	int rc;

	if (e->n_tracks > V2X_EVENT_TRACKS_MAX)
		return V2X_E_RANGE;
	rc = put_key(s, "tracks");
	if (rc >= 0)
		rc = s->ops->array(s, e->n_tracks);
	for (unsigned i = 0; rc >= 0 && i < e->n_tracks; i++)
		rc = e->tracks[i] > U63_MAX ? V2X_E_RANGE
					    : s->ops->uint(s, e->tracks[i]);
	if (rc >= 0)
		rc = s->ops->array_end(s);
	if (rc >= 0)
		rc = put_key(s, "sources");
	if (rc >= 0)
		rc = put_sources(s, e);
	if (rc >= 0 && e->type == V2X_EVT_CONGESTION) {
		const char *level = v2x_congestion_level_name(e->level);
		if (!level)
			return V2X_E_RANGE;
		rc = put_key(s, "level");
		if (rc >= 0)
			rc = s->ops->str(s, level, strlen(level));
	}
	return rc;
}

int msgpack__put_msg(struct msgpack__sink *s, const struct v2x_msg *msg)
{
	const struct field *tab;
	size_t n;
	const uint8_t *base;
	uint32_t extra;
	int rc;

	switch (msg->type) {
	case V2X_MSG_BSM:
		tab = bsm_fields;
		n = NFIELDS(bsm_fields);
		base = (const uint8_t *)&msg->u.bsm;
		extra = 0;
		break;
	case V2X_MSG_OBJECTS:
		if (msg->u.objects.n > V2X_OBJECTS_MAX)
			return V2X_E_RANGE;
		tab = objects_fields;
		n = NFIELDS(objects_fields);
		base = (const uint8_t *)&msg->u.objects;
		extra = 1;
		break;
	case V2X_MSG_SPAT:
		if (msg->u.spat.n > V2X_SPAT_MOVEMENTS_MAX)
			return V2X_E_RANGE;
		tab = spat_fields;
		n = NFIELDS(spat_fields);
		base = (const uint8_t *)&msg->u.spat;
		extra = 1;
		break;
	case V2X_MSG_EVENT:
		tab = event_fields;
		n = NFIELDS(event_fields);
		base = (const uint8_t *)&msg->u.event;
		extra = msg->u.event.type == V2X_EVT_CONGESTION ? 3 : 2;
		break;
	default:
		return V2X_E_UNKNOWN_MSG;
	}

	rc = s->ops->map(s, 1 + count_present(tab, n, base) + extra);
	if (rc < 0)
		return rc;
	rc = put_key(s, "t");
	if (rc >= 0)
		rc = s->ops->str(s, type_names[msg->type],
				 strlen(type_names[msg->type]));
	if (rc >= 0)
		rc = put_fields(s, tab, n, base);
	if (rc < 0)
		return rc;

	switch (msg->type) {
	case V2X_MSG_OBJECTS:
		rc = put_key(s, "objs");
		if (rc >= 0)
			rc = put_array_of_maps(s, object_fields,
					       NFIELDS(object_fields),
					       (const uint8_t *)msg->u.objects.obj,
					       sizeof(msg->u.objects.obj[0]),
					       msg->u.objects.n);
		break;
	case V2X_MSG_SPAT:
		rc = put_key(s, "mv");
		if (rc >= 0)
			rc = put_array_of_maps(s, movement_fields,
					       NFIELDS(movement_fields),
					       (const uint8_t *)msg->u.spat.mv,
					       sizeof(msg->u.spat.mv[0]),
					       msg->u.spat.n);
		break;
	case V2X_MSG_EVENT:
		rc = put_event_extra(s, &msg->u.event);
		break;
	default:
		break;
	}
	if (rc >= 0)
		rc = s->ops->map_end(s);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* Reading a frame: a bounds-checked pull reader over the bytes        */
/* ------------------------------------------------------------------ */

/*
 * msgpack-c's object model (msgpack_unpack) allocates per message, and its
 * parser engine (msgpack/unpack_template.h) is a resumable streaming state
 * machine: instantiated with no-allocation callbacks it alone took about
 * 350-420 ns per 235-octet BSM frame on the 2-core EPYC VM of this project,
 * over the 300 ns budget before a single field is interpreted.  Frames
 * arrive whole in one datagram, so a reader that walks the bytes once and
 * stores each value straight into the struct needs no resumption, no tree
 * and no scratch memory.  Every read is checked against the end first.
 */

enum vkind {
	VK_NIL,
	VK_BOOL,
	VK_UINT,  /* u */
	VK_NINT,  /* i, negative */
	VK_F32,   /* d */
	VK_F64,   /* d */
	VK_STR,   /* s, n */
	VK_BIN,   /* s, n */
	VK_EXT,   /* s, n (type octet included) */
	VK_ARRAY, /* n items follow */
	VK_MAP,   /* n pairs follow */
};

struct val {
	uint8_t kind;
	uint32_t n;
	const char *s;
	union {
		uint64_t u;
		int64_t i;
		double d;
	};
};

struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Takes n octets; V2X_E_TRUNCATED if fewer are left. */
static inline int rd_take(struct rd *r, size_t n, const uint8_t **at)
{
	if ((size_t)(r->end - r->p) < n)
		return V2X_E_TRUNCATED;
	*at = r->p;
	r->p += n;
	return 0;
}

static inline int rd_bytes(struct rd *r, enum vkind kind, size_t n,
			   struct val *v)
{
	const uint8_t *at = NULL;
	int rc = rd_take(r, n, &at);

	v->kind = (uint8_t)kind;
	v->n = (uint32_t)n;
	v->s = (const char *)at;
	return rc;
}

/* Reads the next item's header: a scalar or string whole, a container's
 * count only.  A count that cannot fit in what is left is refused here, so
 * no caller ever loops on an announced length. */
static int rd_val_slow(struct rd *r, struct val *v, unsigned b);

static inline int rd_val(struct rd *r, struct val *v)
{
	unsigned b;

	if (r->p == r->end)
		return V2X_E_TRUNCATED;
	b = *r->p++;
	/* The forms most fields and keys take, inline. */
	if (b <= 0x7f) {
		v->kind = VK_UINT;
		v->u = b;
		return 0;
	}
	if ((b & 0xe0) == 0xa0)
		return rd_bytes(r, VK_STR, b & 0x1f, v);
	return rd_val_slow(r, v, b);
}

static int rd_val_slow(struct rd *r, struct val *v, unsigned b)
{
	const uint8_t *h;
	int rc;

	if (b >= 0xe0) {
		v->kind = VK_NINT;
		v->i = (int8_t)b;
		return 0;
	}
	if ((b & 0xf0) == 0x90) {
		v->kind = VK_ARRAY;
		v->n = b & 0x0f;
		goto container;
	}
	if ((b & 0xf0) == 0x80) {
		v->kind = VK_MAP;
		v->n = b & 0x0f;
		goto container;
	}
	switch (b) {
	case 0xc0:
		v->kind = VK_NIL;
		return 0;
	case 0xc2:
	case 0xc3:
		v->kind = VK_BOOL;
		v->u = b & 1;
		return 0;
	case 0xc4:
		if ((rc = rd_take(r, 1, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_BIN, h[0], v);
	case 0xc5:
		if ((rc = rd_take(r, 2, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_BIN, be16(h), v);
	case 0xc6:
		if ((rc = rd_take(r, 4, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_BIN, be32(h), v);
	case 0xc7:
		if ((rc = rd_take(r, 1, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_EXT, (size_t)h[0] + 1, v);
	case 0xc8:
		if ((rc = rd_take(r, 2, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_EXT, (size_t)be16(h) + 1, v);
	case 0xc9:
		if ((rc = rd_take(r, 4, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_EXT, (size_t)be32(h) + 1, v);
	case 0xca: {
		uint32_t bits;
		float f;
		if ((rc = rd_take(r, 4, &h)) < 0)
			return rc;
		bits = be32(h);
		memcpy(&f, &bits, sizeof(f));
		v->kind = VK_F32;
		v->d = f;
		return 0;
	}
	case 0xcb: {
		uint64_t bits;
		if ((rc = rd_take(r, 8, &h)) < 0)
			return rc;
		bits = be64(h);
		memcpy(&v->d, &bits, sizeof(v->d));
		v->kind = VK_F64;
		return 0;
	}
	case 0xcc:
		if ((rc = rd_take(r, 1, &h)) < 0)
			return rc;
		v->kind = VK_UINT;
		v->u = h[0];
		return 0;
	case 0xcd:
		if ((rc = rd_take(r, 2, &h)) < 0)
			return rc;
		v->kind = VK_UINT;
		v->u = be16(h);
		return 0;
	case 0xce:
		if ((rc = rd_take(r, 4, &h)) < 0)
			return rc;
		v->kind = VK_UINT;
		v->u = be32(h);
		return 0;
	case 0xcf:
		if ((rc = rd_take(r, 8, &h)) < 0)
			return rc;
		v->kind = VK_UINT;
		v->u = be64(h);
		return 0;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		size_t n = (size_t)1 << (b - 0xd0);
		int64_t i;
		if ((rc = rd_take(r, n, &h)) < 0)
			return rc;
		i = n == 1 ? (int8_t)h[0]
		    : n == 2 ? (int16_t)be16(h)
		    : n == 4 ? (int32_t)be32(h)
			     : (int64_t)be64(h);
		if (i >= 0) {
			v->kind = VK_UINT;
			v->u = (uint64_t)i;
		} else {
			v->kind = VK_NINT;
			v->i = i;
		}
		return 0;
	}
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		return rd_bytes(r, VK_EXT, ((size_t)1 << (b - 0xd4)) + 1, v);
	case 0xd9:
		if ((rc = rd_take(r, 1, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_STR, h[0], v);
	case 0xda:
		if ((rc = rd_take(r, 2, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_STR, be16(h), v);
	case 0xdb:
		if ((rc = rd_take(r, 4, &h)) < 0)
			return rc;
		return rd_bytes(r, VK_STR, be32(h), v);
	case 0xdc:
	case 0xde:
		if ((rc = rd_take(r, 2, &h)) < 0)
			return rc;
		v->kind = b == 0xdc ? VK_ARRAY : VK_MAP;
		v->n = be16(h);
		goto container;
	case 0xdd:
	case 0xdf:
		if ((rc = rd_take(r, 4, &h)) < 0)
			return rc;
		v->kind = b == 0xdd ? VK_ARRAY : VK_MAP;
		v->n = be32(h);
		goto container;
	default:
		return V2X_E_INVALID; /* 0xc1, never used */
	}
container:
	/* Every item takes at least one octet. */
	if ((uint64_t)v->n * (v->kind == VK_MAP ? 2 : 1) >
	    (uint64_t)(r->end - r->p))
		return V2X_E_TRUNCATED;
	return 0;
}

/*
 * Skips the rest of an item whose header v was just read, at container
 * depth `depth` (the frame's root map is depth 1).  Iterative, with the
 * nesting bounded by MSGPACK__MAX_DEPTH.
 */
static int rd_skip_rest(struct rd *r, const struct val *v, unsigned depth)
{
	uint64_t left[MSGPACK__MAX_DEPTH + 1];
	int top = -1;

	if (v->kind != VK_ARRAY && v->kind != VK_MAP)
		return 0;
	if (depth + 1 > MSGPACK__MAX_DEPTH)
		return V2X_E_NESTING;
	left[++top] = (uint64_t)v->n * (v->kind == VK_MAP ? 2 : 1);
	while (top >= 0) {
		struct val item;
		int rc;

		if (left[top] == 0) {
			top--;
			continue;
		}
		left[top]--;
		rc = rd_val(r, &item);
		if (rc < 0)
			return rc;
		if (item.kind != VK_ARRAY && item.kind != VK_MAP)
			continue;
		if (depth + 2 + (unsigned)top > MSGPACK__MAX_DEPTH)
			return V2X_E_NESTING;
		left[++top] = (uint64_t)item.n * (item.kind == VK_MAP ? 2 : 1);
	}
	return 0;
}

/* Skips one whole item. */
static int rd_skip(struct rd *r, unsigned depth)
{
	struct val v;
	int rc = rd_val(r, &v);

	return rc < 0 ? rc : rd_skip_rest(r, &v, depth);
}

/* Keys are short: a plain loop beats a call to memcmp here. */
static inline bool str_is(const struct val *v, const char *name, size_t len)
{
	if (v->n != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v->s[i] != name[i])
			return false;
	return true;
}

static int get_number(const struct val *v, double *out)
{
	switch (v->kind) {
	case VK_F32:
	case VK_F64:
		*out = v->d;
		return 0;
	case VK_UINT:
		*out = (double)v->u;
		return 0;
	case VK_NINT:
		*out = (double)v->i;
		return 0;
	default:
		return V2X_E_TYPE;
	}
}

static int get_field(const struct field *f, const struct val *v, uint8_t *base)
{
	uint8_t *p = base + f->off;
	int64_t iv;

	switch (f->kind) {
	case FK_UINT:
	case FK_SINT:
		if (v->kind == VK_UINT) {
			if (v->u > (uint64_t)f->max)
				return V2X_E_RANGE;
			iv = (int64_t)v->u;
		} else if (v->kind == VK_NINT) {
			iv = v->i;
		} else {
			return V2X_E_TYPE;
		}
		if (iv < f->min || iv > f->max)
			return V2X_E_RANGE;
		store(p, f->size, iv);
		return 0;
	case FK_DEG: {
		double d;
		if (get_number(v, &d) < 0)
			return V2X_E_TYPE;
		/* The comparison is false for NaN. */
		if (!(d >= -181.0 && d <= 181.0))
			return V2X_E_RANGE;
		d *= 1e7;
		iv = (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
		if (iv < f->min || iv > f->max)
			return V2X_E_RANGE;
		store(p, 4, iv);
		return 0;
	}
	case FK_F32: {
		double d;
		if (get_number(v, &d) < 0)
			return V2X_E_TYPE;
		if (!(d >= (double)f->min && d <= (double)f->max))
			return V2X_E_RANGE;
		float fv = (float)d;
		memcpy(p, &fv, sizeof(fv));
		return 0;
	}
	default: {
		char name[32];
		if (v->kind != VK_STR)
			return V2X_E_TYPE;
		if (v->n >= sizeof(name))
			return V2X_E_RANGE;
		memcpy(name, v->s, v->n);
		name[v->n] = '\0';
		int value = f->enum_value(name);
		if (value < 0 || value > f->max)
			return V2X_E_RANGE;
		store(p, f->size, value);
		return 0;
	}
	}
}

/*
 * Reads the value of a key the table does not hold (or skips it).
 * Returns 0 or a V2X_E_* code.
 */
typedef int (*extra_fn)(void *ctx, const struct val *key, struct rd *r,
			unsigned depth);

static inline int find_field(const struct field *tab, size_t n, size_t hint,
			     const struct val *k)
{
	/* Our encoder writes keys in table order, so try the expected
	 * position first: one comparison per key in the common case. */
	if (hint < n && str_is(k, tab[hint].name, tab[hint].len))
		return (int)hint;
	for (size_t i = 0; i < n; i++)
		if (str_is(k, tab[i].name, tab[i].len))
			return (int)i;
	return -1;
}

/*
 * Reads the n pairs of a map at `depth` into base per tab; keys not in tab
 * go to extra (or are skipped).  Checks that every mandatory field came.
 */
static int get_map(struct rd *r, uint32_t n, unsigned depth,
		   const struct field *tab, size_t ntab, uint8_t *base,
		   extra_fn extra, void *ctx)
{
	uint64_t seen = 0;
	size_t hint = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct val key, v;
		int rc = rd_val(r, &key);

		if (rc < 0)
			return rc;
		if (key.kind != VK_STR) {
			/* Keys that are not strings cannot be ours. */
			rc = rd_skip_rest(r, &key, depth);
			if (rc >= 0)
				rc = rd_skip(r, depth);
			if (rc < 0)
				return rc;
			continue;
		}
		int idx = find_field(tab, ntab, hint, &key);
		if (idx < 0) {
			rc = extra ? extra(ctx, &key, r, depth) : rd_skip(r, depth);
			if (rc < 0)
				return rc;
			continue;
		}
		if (seen & (1ull << idx))
			return V2X_E_INVALID;
		seen |= 1ull << idx;
		hint = (size_t)idx + 1;
		rc = rd_val(r, &v);
		if (rc < 0)
			return rc;
		rc = get_field(&tab[idx], &v, base);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < ntab; i++) {
		const struct field *f = &tab[i];
		if (!f->opt) {
			if (!(seen & (1ull << i)))
				return V2X_E_MISSING;
			continue;
		}
		base[f->has_off] = (seen >> i) & 1;
		if (!base[f->has_off])
			store(base + f->off, f->size, 0);
	}
	return 0;
}

/* Reads an array header into v; V2X_E_TYPE if it is something else. */
static int get_array(struct rd *r, struct val *v, unsigned depth,
		     uint32_t max)
{
	int rc = rd_val(r, v);

	if (rc < 0)
		return rc;
	if (v->kind != VK_ARRAY)
		return V2X_E_TYPE;
	if (depth + 1 > MSGPACK__MAX_DEPTH)
		return V2X_E_NESTING;
	return v->n > max ? V2X_E_LIMIT : 0;
}

/* Reads count maps per tab into first, first + stride, ... */
static int get_maps(struct rd *r, uint32_t count, unsigned depth,
		    const struct field *tab, size_t ntab, uint8_t *first,
		    size_t stride)
{
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *base = first + i * stride;
		struct val v;
		int rc = rd_val(r, &v);

		if (rc < 0)
			return rc;
		if (v.kind != VK_MAP)
			return V2X_E_TYPE;
		if (depth + 1 > MSGPACK__MAX_DEPTH)
			return V2X_E_NESTING;
		memset(base, 0, stride);
		rc = get_map(r, v.n, depth + 1, tab, ntab, base, NULL, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct objects_ctx {
	struct v2x_objects *o;
	bool have_objs;
};

static int objects_extra(void *ctx, const struct val *key, struct rd *r,
			 unsigned depth)
{
	struct objects_ctx *c = ctx;
	struct val v;
	int rc;

	if (!str_is(key, "objs", 4))
		return rd_skip(r, depth);
	if (c->have_objs)
		return V2X_E_INVALID;
	c->have_objs = true;
	rc = get_array(r, &v, depth, V2X_OBJECTS_MAX);
	if (rc >= 0)
		rc = get_maps(r, v.n, depth + 1, object_fields,
			      NFIELDS(object_fields), (uint8_t *)c->o->obj,
			      sizeof(c->o->obj[0]));
	if (rc >= 0)
		c->o->n = (uint16_t)v.n;
	return rc;
}

struct spat_ctx {
	struct v2x_spat *s;
	bool have_mv;
};

static int spat_extra(void *ctx, const struct val *key, struct rd *r,
		      unsigned depth)
{
	struct spat_ctx *c = ctx;
	struct val v;
	int rc;

	if (!str_is(key, "mv", 2))
		return rd_skip(r, depth);
	if (c->have_mv)
		return V2X_E_INVALID;
	c->have_mv = true;
	rc = get_array(r, &v, depth, V2X_SPAT_MOVEMENTS_MAX);
	if (rc >= 0)
		rc = get_maps(r, v.n, depth + 1, movement_fields,
			      NFIELDS(movement_fields), (uint8_t *)c->s->mv,
			      sizeof(c->s->mv[0]));
	if (rc >= 0)
		c->s->n = (uint8_t)v.n;
	return rc;
}

struct event_ctx {
	struct v2x_event *e;
	bool have_tracks, have_sources, have_level;
	int level;
};

/* "sensor:N" with N a decimal uint32 without sign or leading zeros. */
static int parse_sensor_id(const char *p, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (p[0] == '0' && len > 1))
		return V2X_E_RANGE;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return V2X_E_RANGE;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return V2X_E_RANGE;
	*out = (uint32_t)v;
	return 0;
}

static int get_sources(struct v2x_event *e, struct rd *r, unsigned depth)
{
	struct val arr;
	int rc = get_array(r, &arr, depth, 1 + V2X_EVENT_SENSORS_MAX);

	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < arr.n; i++) {
		struct val s;

		rc = rd_val(r, &s);
		if (rc < 0)
			return rc;
		if (s.kind != VK_STR)
			return V2X_E_TYPE;
		if (str_is(&s, "v2x", 3)) {
			e->sources |= V2X_SRC_V2X;
		} else if (str_is(&s, "sensor", 6)) {
			e->sources |= V2X_SRC_SENSOR;
		} else if (s.n > 7 && memcmp(s.s, "sensor:", 7) == 0) {
			uint32_t id;
			rc = parse_sensor_id(s.s + 7, s.n - 7, &id);
			if (rc < 0)
				return rc;
			if (e->n_sensors >= V2X_EVENT_SENSORS_MAX)
				return V2X_E_LIMIT;
			e->sources |= V2X_SRC_SENSOR;
			e->sensors[e->n_sensors++] = id;
		} else {
			return V2X_E_RANGE;
		}
	}
	return 0;
}

static int get_tracks(struct v2x_event *e, struct rd *r, unsigned depth)
{
	struct val arr;
	int rc = get_array(r, &arr, depth, V2X_EVENT_TRACKS_MAX);

	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < arr.n; i++) {
		struct val t;

		rc = rd_val(r, &t);
		if (rc < 0)
			return rc;
		if (t.kind == VK_NINT)
			return V2X_E_RANGE;
		if (t.kind != VK_UINT)
			return V2X_E_TYPE;
		if (t.u > U63_MAX)
			return V2X_E_RANGE;
		e->tracks[i] = t.u;
	}
	e->n_tracks = (uint8_t)arr.n;
	return 0;
}

static int event_extra(void *ctx, const struct val *key, struct rd *r,
		       unsigned depth)
{
	struct event_ctx *c = ctx;

	if (str_is(key, "tracks", 6)) {
		if (c->have_tracks)
			return V2X_E_INVALID;
		c->have_tracks = true;
		return get_tracks(c->e, r, depth);
	}
	if (str_is(key, "sources", 7)) {
		if (c->have_sources)
			return V2X_E_INVALID;
		c->have_sources = true;
		return get_sources(c->e, r, depth);
	}
	if (str_is(key, "level", 5)) {
		struct val v;
		char name[16];
		int rc = rd_val(r, &v);
		if (rc < 0)
			return rc;
		if (c->have_level)
			return V2X_E_INVALID;
		c->have_level = true;
		if (v.kind != VK_STR)
			return V2X_E_TYPE;
		if (v.n >= sizeof(name))
			return V2X_E_RANGE;
		memcpy(name, v.s, v.n);
		name[v.n] = '\0';
		c->level = v2x_congestion_level_from_name(name);
		return c->level < 0 ? V2X_E_RANGE : 0;
	}
	return rd_skip(r, depth);
}

static int type_of(const struct val *t)
{
	if (t->kind != VK_STR)
		return V2X_E_TYPE;
	for (int i = V2X_MSG_BSM; i <= V2X_MSG_EVENT; i++)
		if (str_is(t, type_names[i], strlen(type_names[i])))
			return i;
	return V2X_E_UNKNOWN_MSG;
}

/*
 * Finds "t" among the n pairs at r (r is a copy: the caller's position is
 * unchanged).  Used only when "t" is not the first key.
 */
static int find_type(struct rd r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct val key, v;
		int rc = rd_val(&r, &key);

		if (rc < 0)
			return rc;
		if (key.kind == VK_STR && str_is(&key, "t", 1)) {
			rc = rd_val(&r, &v);
			return rc < 0 ? rc : type_of(&v);
		}
		rc = rd_skip_rest(&r, &key, 1);
		if (rc >= 0)
			rc = rd_skip(&r, 1);
		if (rc < 0)
			return rc;
	}
	return V2X_E_MISSING;
}

static int get_msg(struct rd *r, struct v2x_msg *out)
{
	struct val root, key, v;
	uint32_t n;
	int type, rc;

	rc = rd_val(r, &root);
	if (rc < 0)
		return rc;
	if (root.kind != VK_MAP)
		return V2X_E_TYPE;
	n = root.n;

	/* Our encoder writes "t" first; anything else takes a second look. */
	struct rd mark = *r;
	if (n && (rc = rd_val(r, &key)) >= 0 && key.kind == VK_STR &&
	    str_is(&key, "t", 1)) {
		rc = rd_val(r, &v);
		if (rc < 0)
			return rc;
		type = type_of(&v);
		n--;
	} else {
		if (n && rc < 0)
			return rc;
		*r = mark;
		type = find_type(*r, n);
	}
	if (type < 0)
		return type;

	switch (type) {
	case V2X_MSG_BSM:
		memset(&out->u.bsm, 0, sizeof(out->u.bsm));
		rc = get_map(r, n, 1, bsm_fields, NFIELDS(bsm_fields),
			     (uint8_t *)&out->u.bsm, NULL, NULL);
		break;
	case V2X_MSG_OBJECTS: {
		struct objects_ctx c = { .o = &out->u.objects };
		out->u.objects.n = 0;
		out->u.objects.ts_ns = 0;
		out->u.objects.sensor_id = 0;
		rc = get_map(r, n, 1, objects_fields, NFIELDS(objects_fields),
			     (uint8_t *)&out->u.objects, objects_extra, &c);
		if (rc >= 0 && !c.have_objs)
			rc = V2X_E_MISSING;
		break;
	}
	case V2X_MSG_SPAT: {
		struct spat_ctx c = { .s = &out->u.spat };
		memset(&out->u.spat, 0, offsetof(struct v2x_spat, mv));
		rc = get_map(r, n, 1, spat_fields, NFIELDS(spat_fields),
			     (uint8_t *)&out->u.spat, spat_extra, &c);
		if (rc >= 0 && !c.have_mv)
			rc = V2X_E_MISSING;
		break;
	}
	default: {
		struct event_ctx c = { .e = &out->u.event };
		memset(&out->u.event, 0, sizeof(out->u.event));
		rc = get_map(r, n, 1, event_fields, NFIELDS(event_fields),
			     (uint8_t *)&out->u.event, event_extra, &c);
		if (rc >= 0 && (!c.have_tracks || !c.have_sources))
			rc = V2X_E_MISSING;
		if (rc >= 0 && out->u.event.type == V2X_EVT_CONGESTION) {
			if (!c.have_level)
				rc = V2X_E_MISSING;
			else
				out->u.event.level = (uint8_t)c.level;
		}
		break;
	}
	}
	if (rc < 0)
		return rc;
	out->type = (uint8_t)type;
	return 0;
}

/*
 * msgpack__decode() - see msgpack_int.h.  Returns octets consumed or a
 * V2X_E_* code; allocates nothing; thread-safe.
 */
int msgpack__decode(const uint8_t *buf, size_t len, struct v2x_msg *out)
{
	struct rd r = { buf, buf + len };
	int rc;

	if (!buf || len == 0)
		return V2X_E_TRUNCATED;
	if (len > INT32_MAX)
		return V2X_E_LIMIT;
	rc = get_msg(&r, out);
	return rc < 0 ? rc : (int)(r.p - buf);
}

/* ------------------------------------------------------------------ */
/* msgpack encoder: a sink over msgpack_packer                         */
/* ------------------------------------------------------------------ */

struct mp_writer {
	struct msgpack__sink sink;
	msgpack_packer pk;
	uint8_t *buf;
	size_t cap, len;
};

/* msgpack_packer's write callback: append to the fixed buffer. */
static int mp_write(void *data, const char *bytes, size_t len)
{
	struct mp_writer *w = data;

	uint8_t *dst = w->buf + w->len;

	if (len > w->cap - w->len)
		return -1;
	/* Almost every write is a few octets: a call to memcpy costs more
	 * than the copy. */
	if (len <= 16) {
		for (size_t i = 0; i < len; i++)
			dst[i] = (uint8_t)bytes[i];
	} else {
		memcpy(dst, bytes, len);
	}
	w->len += len;
	return 0;
}

static struct mp_writer *writer_of(struct msgpack__sink *s)
{
	return (struct mp_writer *)(void *)s;
}

/* msgpack-c returns -1 only when our callback reported a full buffer. */
static int mp_rc(int rc)
{
	return rc < 0 ? V2X_E_NOSPACE : 0;
}

static int mp_map(struct msgpack__sink *s, uint32_t n)
{
	return mp_rc(msgpack_pack_map(&writer_of(s)->pk, n));
}

static int mp_end(struct msgpack__sink *s)
{
	return 0;
}

static int mp_array(struct msgpack__sink *s, uint32_t n)
{
	return mp_rc(msgpack_pack_array(&writer_of(s)->pk, n));
}

static int mp_str(struct msgpack__sink *s, const char *v, size_t len)
{
	msgpack_packer *pk = &writer_of(s)->pk;
	int rc = msgpack_pack_str(pk, len);

	if (rc >= 0)
		rc = msgpack_pack_str_body(pk, v, len);
	return mp_rc(rc);
}

/* Keys are short fixstr: header and name in one write. */
static int mp_key(struct msgpack__sink *s, const char *k, size_t len)
{
	char text[32];

	if (len > 31)
		return mp_str(s, k, len);
	text[0] = (char)(0xa0 | len);
	for (size_t i = 0; i < len; i++)
		text[1 + i] = k[i];
	return mp_rc(mp_write(writer_of(s), text, len + 1));
}

static int mp_uint(struct msgpack__sink *s, uint64_t v)
{
	return mp_rc(msgpack_pack_uint64(&writer_of(s)->pk, v));
}

static int mp_sint(struct msgpack__sink *s, int64_t v)
{
	return mp_rc(msgpack_pack_int64(&writer_of(s)->pk, v));
}

static int mp_f64(struct msgpack__sink *s, double v)
{
	return mp_rc(msgpack_pack_double(&writer_of(s)->pk, v));
}

static int mp_f32(struct msgpack__sink *s, float v)
{
	return mp_rc(msgpack_pack_float(&writer_of(s)->pk, v));
}

static const struct msgpack__sink_ops mp_ops = {
	.map = mp_map,
	.map_end = mp_end,
	.array = mp_array,
	.array_end = mp_end,
	.key = mp_key,
	.uint = mp_uint,
	.sint = mp_sint,
	.f64 = mp_f64,
	.f32 = mp_f32,
	.str = mp_str,
};

/*
 * msgpack__encode_generic() - see msgpack_fast.h.  Thread-safe; allocates
 * nothing; buf is untouched past the returned length.
 */
int msgpack__encode_generic(const struct v2x_msg *msg, uint8_t *buf,
			    size_t cap)
{
	struct mp_writer w = { .sink = { &mp_ops }, .buf = buf, .cap = cap };
	int rc;

	msgpack_packer_init(&w.pk, &w, mp_write);
	rc = msgpack__put_msg(&w.sink, msg);
	if (rc < 0)
		return rc;
	if (w.len > INT32_MAX)
		return V2X_E_LIMIT;
	return (int)w.len;
}

/* ------------------------------------------------------------------ */
/* Direct writers for the hot frames (bsm, objects)                    */
/* ------------------------------------------------------------------ */

/*
 * The generic encoder above costs about 350 ns per BSM frame: some 55 indirect
 * calls through the sink, each into msgpack-c's packer and from there
 * through a second callback into the buffer, with a bounds check per
 * primitive.  The broker re-encodes every received UPER BSM and every
 * sensor frame, so the two hot frames get writers of their own: the whole
 * message is range-checked first (as put_field() would), the room for the
 * frame's largest possible size is checked once, and then keys go out as
 * constant octets and values in msgpack-c's own choice of widths (shortest
 * form; doubles always float64), straight into the caller's buffer.
 * Anything the writers do not take (another type, a value out of range, a
 * buffer that may be too small) goes to the generic encoder, so the return
 * codes are the generic encoder's by construction.  tests/unit/
 * msgpack_fast_test.c holds the two encoders to identical octets.
 */

/* Big-endian stores of 2, 4 and 8 octets. */
static inline void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
#endif
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
#else
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
#endif
}

/*
 * An unsigned integer in its shortest form, as msgpack_pack_uint64()
 * writes it.  Inlined at each call site, where the argument's type bounds
 * the value and the compiler drops the widths it cannot reach.
 */
static inline uint8_t *fw_uint(uint8_t *p, uint64_t v)
{
	if (v < 0x80) {
		p[0] = (uint8_t)v;
		return p + 1;
	}
	if (v < 0x100) {
		p[0] = 0xcc;
		p[1] = (uint8_t)v;
		return p + 2;
	}
	if (v < 0x10000) {
		p[0] = 0xcd;
		be16_put(p + 1, (uint16_t)v);
		return p + 3;
	}
	if (v <= UINT32_MAX) {
		p[0] = 0xce;
		be32_put(p + 1, (uint32_t)v);
		return p + 5;
	}
	p[0] = 0xcf;
	be64_put(p + 1, v);
	return p + 9;
}

/*
 * An integer in -32768..65535 as the generic path writes it (put_field):
 * non-negative values as msgpack_pack_uint64() does, negative ones as
 * msgpack_pack_int64() does (fixint from -32, then int8, int16).  Chosen
 * without branches: the sign and width of the values in a stream of BSMs
 * (accelerations, yaw rate, steering angle) change from one message to
 * the next, and a mispredicted branch per field cost more than computing
 * every form.  Always stores 4 octets and returns p + 1..3: the caller
 * overwrites the surplus with what follows, so it must not be the last
 * value of a frame.
 */
static inline uint8_t *fw_i16x(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint32_t neg = u >> 31;
	/* 1 for -32..127, 2 for -128..-33 and 128..255, 3 otherwise. */
	uint32_t one = (uint32_t)(v >= -32) & (uint32_t)(v < 128);
	uint32_t two = (uint32_t)(v >= -128) & (uint32_t)(v < 256);
	uint32_t len = 3 - two - one;
	uint32_t w1 = u & 0xff;
	uint32_t w2 = (0xccu + neg * 4) | (u & 0xff) << 8;
	uint32_t w3 = (0xcdu + neg * 4) | (u & 0xff00) | (u & 0xff) << 16;
	uint32_t w = one ? w1 : two ? w2 : w3;

	/* Octet i of the form is byte i of w, least significant first. */
	uint8_t b[4] = { (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16), 0 };
	memcpy(p, b, 4);
	return p + len;
}

/* A position in 1e-7 degree as float64 degrees, the generic n / 1e7. */
static inline uint8_t *fw_deg(uint8_t *p, int32_t v)
{
	double d = (double)v / 1e7;
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	p[0] = 0xcb;
	be64_put(p + 1, bits);
	return p + 9;
}

/* Constant octets (a key with its fixstr header, or several). */
#define FW_LIT(p, lit)                                                     \
	do {                                                               \
		memcpy((p), (lit), sizeof(lit) - 1);                       \
		(p) += sizeof(lit) - 1;                                    \
	} while (0)

/* Octets of a key of n characters with its fixstr header. */
#define KEY_LEN(k) (sizeof(k))

/* Widest msgpack form of each value kind: tag plus payload. */
#define W_U7 1   /* 0..127: positive fixint */
#define W_U8 2   /* 0..255 */
#define W_U16 3  /* 0..65535, and int16 / -32768..65535 */
#define W_S8 2   /* -128..127 */
#define W_U32 5
#define W_U64 9
#define W_F64 9

/* The largest bsm frame: every key, every value at its widest. */
#define BSM_MAX                                                            \
	(3 + KEY_LEN("t") + KEY_LEN("bsm") + KEY_LEN("ts") + W_U64 +       \
	 KEY_LEN("id") + W_U32 + KEY_LEN("cnt") + W_U7 + KEY_LEN("sec") +   \
	 W_U16 + KEY_LEN("lat") + W_F64 + KEY_LEN("lon") + W_F64 +          \
	 KEY_LEN("elev") + W_U16 + KEY_LEN("acc_maj") + W_U8 +              \
	 KEY_LEN("acc_min") + W_U8 + KEY_LEN("acc_orient") + W_U16 +        \
	 KEY_LEN("trans") + W_U7 + KEY_LEN("speed") + W_U16 +               \
	 KEY_LEN("heading") + W_U16 + KEY_LEN("angle") + W_S8 +             \
	 KEY_LEN("accel_long") + W_U16 + KEY_LEN("accel_lat") + W_U16 +     \
	 KEY_LEN("accel_vert") + W_S8 + KEY_LEN("yaw") + W_U16 +            \
	 KEY_LEN("brakes") + W_U7 + KEY_LEN("traction") + W_U7 +            \
	 KEY_LEN("abs") + W_U7 + KEY_LEN("scs") + W_U7 + KEY_LEN("boost") + \
	 W_U7 + KEY_LEN("aux_brakes") + W_U7 + KEY_LEN("width") + W_U16 +   \
	 KEY_LEN("length") + W_U16 + KEY_LEN("events") + W_U16)

/* The objects frame before its objects (array header of up to 3 octets). */
#define OBJECTS_HEAD_MAX                                                   \
	(1 + KEY_LEN("t") + KEY_LEN("objects") + KEY_LEN("ts") + W_U64 +   \
	 KEY_LEN("sensor") + W_U32 + KEY_LEN("objs") + 3)

/* The largest object map ("pedestrian" is the longest class name). */
#define OBJECT_MAX                                                         \
	(1 + KEY_LEN("id") + W_U32 + KEY_LEN("cls") + KEY_LEN("pedestrian") + \
	 KEY_LEN("lat") + W_F64 + KEY_LEN("lon") + W_F64 +                  \
	 KEY_LEN("speed") + W_U16 + KEY_LEN("heading") + W_U16 +            \
	 KEY_LEN("len") + W_U16 + KEY_LEN("wid") + W_U16 + KEY_LEN("conf") + \
	 W_U7)

/*
 * The class key and value of an object, pre-encoded.  The names are
 * v2x_class_name()'s (codecs/names.c); the fast == generic test covers
 * every class, so a renamed class cannot go unnoticed.  Copied 16 octets
 * at a time: the octets past len are overwritten by the next key.
 */
struct fw_cls {
	uint8_t len;
	char bytes[16];
};

static const struct fw_cls fw_classes[V2X_CLASS_MAX + 1] = {
	[V2X_CLASS_UNKNOWN] = { 12, "\xa3" "cls" "\xa7" "unknown" },
	[V2X_CLASS_CAR] = { 8, "\xa3" "cls" "\xa3" "car" },
	[V2X_CLASS_TRUCK] = { 10, "\xa3" "cls" "\xa5" "truck" },
	[V2X_CLASS_BUS] = { 8, "\xa3" "cls" "\xa3" "bus" },
	[V2X_CLASS_PEDESTRIAN] = { 15, "\xa3" "cls" "\xaa" "pedestrian" },
	[V2X_CLASS_CYCLIST] = { 12, "\xa3" "cls" "\xa7" "cyclist" },
};

/* The shortest entry is 8 octets ("car", "bus"), so a copy of 16 writes
 * at most 8 past it, and the lat key and value that follow cover them. */
_Static_assert(KEY_LEN("lat") + W_F64 >= sizeof(fw_classes[0].bytes) - 8,
	       "the class copy's overrun is covered by the lat key and value");

static inline bool deg_ok(int32_t lat, int32_t lon)
{
	return lat >= LAT_MIN && lat <= LAT_MAX && lon >= LON_MIN &&
	       lon <= LON_MAX;
}

/* The ranges of bsm_fields[], as put_field() checks them. */
static bool bsm_valid(const struct v2x_bsm *b)
{
	/* One unpredictable branch at the end instead of one per field. */
	bool ok = b->ts_ns <= U63_MAX;

	ok &= b->msg_cnt <= 127;
	ok &= deg_ok(b->lat, b->lon);
	ok &= b->elev >= -4096 && b->elev <= 61439;
	ok &= b->transmission <= 7;
	ok &= b->speed <= 8191;
	ok &= b->heading <= 28800;
	ok &= b->angle >= -126;
	ok &= b->accel_long >= -2000 && b->accel_long <= 2001;
	ok &= b->accel_lat >= -2000 && b->accel_lat <= 2001;
	ok &= b->accel_vert >= -127;
	ok &= b->yaw_rate >= -32767;
	ok &= b->wheel_brakes <= 31;
	ok &= b->traction <= 3 && b->abs <= 3 && b->scs <= 3;
	ok &= b->brake_boost <= 2 && b->aux_brakes <= 3;
	ok &= b->width_cm <= 1023 && b->length_cm <= 4095;
	ok &= !b->has_events || b->events <= 8191;
	return ok;
}

static int fw_bsm(const struct v2x_bsm *b, uint8_t *buf, size_t cap)
{
	uint8_t *p = buf;

	if (cap < BSM_MAX || !bsm_valid(b))
		return MSGPACK__DECLINED;

	/* A map of 27 or 28 pairs is a map16; "t" comes first. */
	FW_LIT(p, "\xde\x00");
	*p++ = (uint8_t)(27 + (b->has_events != 0));
	FW_LIT(p, "\xa1" "t" "\xa3" "bsm" "\xa2" "ts");
	p = fw_uint(p, b->ts_ns);
	FW_LIT(p, "\xa2" "id");
	p = fw_uint(p, b->id);
	FW_LIT(p, "\xa3" "cnt");
	p = fw_uint(p, b->msg_cnt);
	FW_LIT(p, "\xa3" "sec");
	p = fw_i16x(p, b->sec_mark);
	FW_LIT(p, "\xa3" "lat");
	p = fw_deg(p, b->lat);
	FW_LIT(p, "\xa3" "lon");
	p = fw_deg(p, b->lon);
	FW_LIT(p, "\xa4" "elev");
	p = fw_i16x(p, b->elev);
	FW_LIT(p, "\xa7" "acc_maj");
	p = fw_uint(p, b->acc_semi_major);
	FW_LIT(p, "\xa7" "acc_min");
	p = fw_uint(p, b->acc_semi_minor);
	FW_LIT(p, "\xaa" "acc_orient");
	p = fw_i16x(p, b->acc_orient);
	FW_LIT(p, "\xa5" "trans");
	p = fw_uint(p, b->transmission);
	FW_LIT(p, "\xa5" "speed");
	p = fw_i16x(p, b->speed);
	FW_LIT(p, "\xa7" "heading");
	p = fw_i16x(p, b->heading);
	FW_LIT(p, "\xa5" "angle");
	p = fw_i16x(p, b->angle);
	FW_LIT(p, "\xaa" "accel_long");
	p = fw_i16x(p, b->accel_long);
	FW_LIT(p, "\xa9" "accel_lat");
	p = fw_i16x(p, b->accel_lat);
	FW_LIT(p, "\xaa" "accel_vert");
	p = fw_i16x(p, b->accel_vert);
	FW_LIT(p, "\xa3" "yaw");
	p = fw_i16x(p, b->yaw_rate);
	FW_LIT(p, "\xa6" "brakes");
	p = fw_uint(p, b->wheel_brakes);
	FW_LIT(p, "\xa8" "traction");
	p = fw_uint(p, b->traction);
	FW_LIT(p, "\xa3" "abs");
	p = fw_uint(p, b->abs);
	FW_LIT(p, "\xa3" "scs");
	p = fw_uint(p, b->scs);
	FW_LIT(p, "\xa5" "boost");
	p = fw_uint(p, b->brake_boost);
	FW_LIT(p, "\xaa" "aux_brakes");
	p = fw_uint(p, b->aux_brakes);
	FW_LIT(p, "\xa5" "width");
	p = fw_i16x(p, b->width_cm);
	FW_LIT(p, "\xa6" "length");
	p = fw_uint(p, b->length_cm);
	if (b->has_events) {
		FW_LIT(p, "\xa6" "events");
		p = fw_uint(p, b->events);
	}
	return (int)(p - buf);
}

/* The ranges of object_fields[], as put_field() checks them. */
static inline bool object_valid(const struct v2x_object *x)
{
	bool ok = x->cls <= V2X_CLASS_MAX;

	ok &= deg_ok(x->lat, x->lon);
	ok &= x->speed <= 8191 && x->heading <= 28800;
	ok &= x->length_cm <= 4095 && x->width_cm <= 1023;
	ok &= x->confidence <= 100;
	return ok;
}

static int fw_objects(const struct v2x_objects *o, uint8_t *buf, size_t cap)
{
	uint8_t *p = buf;
	const uint8_t *end = buf + cap;

	/* The array header takes one octet below 16 objects, three from 16. */
	if (cap < OBJECTS_HEAD_MAX - (o->n < 16 ? 2 : 0) ||
	    o->n > V2X_OBJECTS_MAX || o->ts_ns > U63_MAX)
		return MSGPACK__DECLINED;

	FW_LIT(p, "\x84" "\xa1" "t" "\xa7" "objects" "\xa2" "ts");
	p = fw_uint(p, o->ts_ns);
	FW_LIT(p, "\xa6" "sensor");
	p = fw_uint(p, o->sensor_id);
	FW_LIT(p, "\xa4" "objs");
	if (o->n < 16) {
		*p++ = (uint8_t)(0x90 | o->n);
	} else {
		*p++ = 0xdc;
		be16_put(p, o->n);
		p += 2;
	}
	for (unsigned i = 0; i < o->n; i++) {
		const struct v2x_object *x = &o->obj[i];

		/* Room for the widest object, checked once per object, so
		 * that a frame the buffer holds is written here even when
		 * 128 of the widest would not fit. */
		if ((size_t)(end - p) < OBJECT_MAX || !object_valid(x))
			return MSGPACK__DECLINED;
		FW_LIT(p, "\x89" "\xa2" "id");
		p = fw_uint(p, x->id);
		memcpy(p, fw_classes[x->cls].bytes, sizeof(fw_classes[0].bytes));
		p += fw_classes[x->cls].len;
		FW_LIT(p, "\xa3" "lat");
		p = fw_deg(p, x->lat);
		FW_LIT(p, "\xa3" "lon");
		p = fw_deg(p, x->lon);
		FW_LIT(p, "\xa5" "speed");
		p = fw_uint(p, x->speed);
		FW_LIT(p, "\xa7" "heading");
		p = fw_uint(p, x->heading);
		FW_LIT(p, "\xa3" "len");
		p = fw_uint(p, x->length_cm);
		FW_LIT(p, "\xa3" "wid");
		p = fw_uint(p, x->width_cm);
		FW_LIT(p, "\xa4" "conf");
		p = fw_uint(p, x->confidence);
	}
	return (int)(p - buf);
}

/*
 * msgpack__encode_fast() - see msgpack_fast.h.  Allocates nothing;
 * thread-safe.
 */
int msgpack__encode_fast(const struct v2x_msg *msg, uint8_t *buf, size_t cap)
{
	switch (msg->type) {
	case V2X_MSG_BSM:
		return fw_bsm(&msg->u.bsm, buf, cap);
	case V2X_MSG_OBJECTS:
		return fw_objects(&msg->u.objects, buf, cap);
	default:
		return MSGPACK__DECLINED;
	}
}

/* msgpack__bsm_max() - see msgpack_fast.h.  Thread-safe. */
size_t msgpack__bsm_max(void)
{
	return BSM_MAX;
}

/* msgpack__objects_max() - see msgpack_fast.h.  Thread-safe. */
size_t msgpack__objects_max(unsigned n)
{
	/* The array header is one octet below 16 entries, three from 16. */
	return OBJECTS_HEAD_MAX - (n < 16 ? 2 : 0) + (size_t)n * OBJECT_MAX;
}

/*
 * v2x_msgpack_encode() - see v2x/msgpack.h.  Thread-safe; allocates
 * nothing; buf is untouched past the returned length.
 */
int v2x_msgpack_encode(const struct v2x_msg *msg, uint8_t *buf, size_t cap)
{
	int rc = msgpack__encode_fast(msg, buf, cap);

	if (rc != MSGPACK__DECLINED)
		return rc;
	return msgpack__encode_generic(msg, buf, cap);
}

/* ------------------------------------------------------------------ */
/* Decoder handle                                                      */
/* ------------------------------------------------------------------ */

/*
 * The reader needs no scratch memory: the handle stays in the API so that
 * a future decoder with state (statistics, a string table) needs no change
 * in callers.
 */
struct v2x_msgpack_decoder {
	uint64_t frames; /* frames decoded successfully */
};

/*
 * v2x_msgpack_decoder_new() - allocate a decoder.  Returns NULL on
 * allocation failure.  A decoder is used by one thread at a time.
 */
struct v2x_msgpack_decoder *v2x_msgpack_decoder_new(void)
{
	return calloc(1, sizeof(struct v2x_msgpack_decoder));
}

/* v2x_msgpack_decoder_free() - free dec; NULL is a no-op. */
void v2x_msgpack_decoder_free(struct v2x_msgpack_decoder *dec)
{
	free(dec);
}

/*
 * v2x_msgpack_decode() - see v2x/msgpack.h.  Allocates nothing.  On error
 * out may hold partial data.  Any thread, with its own dec.
 */
int v2x_msgpack_decode(struct v2x_msgpack_decoder *dec, const uint8_t *buf,
		       size_t len, struct v2x_msg *out)
{
	int rc = msgpack__decode(buf, len, out);

	if (rc >= 0)
		dec->frames++;
	return rc;
}
