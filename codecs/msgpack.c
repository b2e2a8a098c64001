/* SPDX-License-Identifier: MIT */
/*
 * codecs/msgpack.c - the native msgpack frame (docs/wire.md) for every type
 * of the message model.
 *
 * Encoding goes through msgpack-c's msgpack_packer with a write callback
 * into the caller's fixed buffer: no allocation.
 *
 * Decoding uses msgpack-c's parser state machine (msgpack/unpack_template.h,
 * the engine behind msgpack_unpack()) instantiated here with our own
 * callbacks.  The stock msgpack_unpack() allocates every array and map from
 * a msgpack_zone sized by the count announced in the input, so a five-byte
 * frame claiming 2^32 entries makes it malloc tens of GiB, and any large
 * count grows the zone per message.  Our callbacks build the same
 * msgpack_object tree from two fixed pools owned by the decoder (allocated
 * once in _new, rewound before each decode), refuse a count that does not
 * fit (V2X_E_LIMIT) before touching memory, and the parser stack is capped
 * at MSGPACK__MAX_DEPTH (V2X_E_NESTING).  Strings point into the input.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgpack_int.h"

/* Must precede unpack_define.h: the parser's fixed container stack. */
#define MSGPACK_EMBED_STACK_SIZE MSGPACK__MAX_DEPTH

#include <msgpack/object.h>
#include <msgpack/pack.h>
#include <msgpack/unpack.h>
#include <msgpack/unpack_define.h>

#include "v2x/error.h"
#include "v2x/msgpack.h"

/* Pool sizes: an objects frame of V2X_OBJECTS_MAX objects needs about
 * 130 array slots and 1200 map entries; the rest is room for unknown keys. */
#define POOL_OBJ 2048
#define POOL_KV 4096

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
/* Reading a frame from an object tree                                 */
/* ------------------------------------------------------------------ */

static bool key_is(const msgpack_object_str *k, const char *name, size_t len)
{
	return k->size == len && memcmp(k->ptr, name, len) == 0;
}

static int get_number(const msgpack_object *v, double *out)
{
	switch (v->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = v->via.f64;
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double)v->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double)v->via.i64;
		return 0;
	default:
		return V2X_E_TYPE;
	}
}

static int get_field(const struct field *f, const msgpack_object *v,
		     uint8_t *base)
{
	uint8_t *p = base + f->off;
	int64_t iv;

	switch (f->kind) {
	case FK_UINT:
	case FK_SINT:
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			if (v->via.u64 > (uint64_t)f->max)
				return V2X_E_RANGE;
			iv = (int64_t)v->via.u64;
		} else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			iv = v->via.i64;
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
		iv = llround(d * 1e7);
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
		if (v->type != MSGPACK_OBJECT_STR)
			return V2X_E_TYPE;
		if (v->via.str.size >= sizeof(name))
			return V2X_E_RANGE;
		memcpy(name, v->via.str.ptr, v->via.str.size);
		name[v->via.str.size] = '\0';
		int value = f->enum_value(name);
		if (value < 0 || value > f->max)
			return V2X_E_RANGE;
		store(p, f->size, value);
		return 0;
	}
	}
}

/*
 * Handles a key the table does not hold.  Returns 0 (consumed or ignored)
 * or a V2X_E_* code.
 */
typedef int (*extra_fn)(void *ctx, const msgpack_object_str *key,
			const msgpack_object *val);

static int find_field(const struct field *tab, size_t n, size_t hint,
		      const msgpack_object_str *k)
{
	/* Our encoder writes keys in table order, so try the expected
	 * position first: one comparison per key in the common case. */
	if (hint < n && key_is(k, tab[hint].name, tab[hint].len))
		return (int)hint;
	for (size_t i = 0; i < n; i++)
		if (key_is(k, tab[i].name, tab[i].len))
			return (int)i;
	return -1;
}

static int get_map(const struct field *tab, size_t n,
		   const msgpack_object *map, uint8_t *base, extra_fn extra,
		   void *ctx)
{
	uint64_t seen = 0;
	size_t hint = 0;

	if (map->type != MSGPACK_OBJECT_MAP)
		return V2X_E_TYPE;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		int rc;

		/* Keys that are not strings cannot be ours: ignored. */
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		int idx = find_field(tab, n, hint, &kv->key.via.str);
		if (idx >= 0) {
			if (seen & (1ull << idx))
				return V2X_E_INVALID;
			seen |= 1ull << idx;
			hint = (size_t)idx + 1;
			rc = get_field(&tab[idx], &kv->val, base);
		} else {
			rc = extra ? extra(ctx, &kv->key.via.str, &kv->val) : 0;
		}
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (seen & (1ull << i))
			continue;
		if (!tab[i].opt)
			return V2X_E_MISSING;
		base[tab[i].has_off] = 0;
		store(base + tab[i].off, tab[i].size, 0);
	}
	for (size_t i = 0; i < n; i++)
		if (tab[i].opt && (seen & (1ull << i)))
			base[tab[i].has_off] = 1;
	return 0;
}

struct objects_ctx {
	struct v2x_objects *o;
	bool have_objs;
};

static int objects_extra(void *ctx, const msgpack_object_str *key,
			 const msgpack_object *val)
{
	struct objects_ctx *c = ctx;

	if (!key_is(key, "objs", 4))
		return 0;
	if (c->have_objs)
		return V2X_E_INVALID;
	c->have_objs = true;
	if (val->type != MSGPACK_OBJECT_ARRAY)
		return V2X_E_TYPE;
	if (val->via.array.size > V2X_OBJECTS_MAX)
		return V2X_E_LIMIT;
	for (uint32_t i = 0; i < val->via.array.size; i++) {
		struct v2x_object *obj = &c->o->obj[i];
		memset(obj, 0, sizeof(*obj));
		int rc = get_map(object_fields, NFIELDS(object_fields),
				 &val->via.array.ptr[i], (uint8_t *)obj, NULL,
				 NULL);
		if (rc < 0)
			return rc;
	}
	c->o->n = (uint16_t)val->via.array.size;
	return 0;
}

struct spat_ctx {
	struct v2x_spat *s;
	bool have_mv;
};

static int spat_extra(void *ctx, const msgpack_object_str *key,
		      const msgpack_object *val)
{
	struct spat_ctx *c = ctx;

	if (!key_is(key, "mv", 2))
		return 0;
	if (c->have_mv)
		return V2X_E_INVALID;
	c->have_mv = true;
	if (val->type != MSGPACK_OBJECT_ARRAY)
		return V2X_E_TYPE;
	if (val->via.array.size > V2X_SPAT_MOVEMENTS_MAX)
		return V2X_E_LIMIT;
	for (uint32_t i = 0; i < val->via.array.size; i++) {
		struct v2x_movement *mv = &c->s->mv[i];
		memset(mv, 0, sizeof(*mv));
		int rc = get_map(movement_fields, NFIELDS(movement_fields),
				 &val->via.array.ptr[i], (uint8_t *)mv, NULL,
				 NULL);
		if (rc < 0)
			return rc;
	}
	c->s->n = (uint8_t)val->via.array.size;
	return 0;
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

static int get_sources(struct v2x_event *e, const msgpack_object *val)
{
	if (val->type != MSGPACK_OBJECT_ARRAY)
		return V2X_E_TYPE;
	if (val->via.array.size > 1 + V2X_EVENT_SENSORS_MAX)
		return V2X_E_LIMIT;
	for (uint32_t i = 0; i < val->via.array.size; i++) {
		const msgpack_object *item = &val->via.array.ptr[i];
		const msgpack_object_str *str = &item->via.str;

		if (item->type != MSGPACK_OBJECT_STR)
			return V2X_E_TYPE;
		if (key_is(str, "v2x", 3)) {
			e->sources |= V2X_SRC_V2X;
		} else if (key_is(str, "sensor", 6)) {
			e->sources |= V2X_SRC_SENSOR;
		} else if (str->size > 7 && memcmp(str->ptr, "sensor:", 7) == 0) {
			uint32_t id;
			int rc = parse_sensor_id(str->ptr + 7, str->size - 7, &id);
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

static int event_extra(void *ctx, const msgpack_object_str *key,
		       const msgpack_object *val)
{
	struct event_ctx *c = ctx;
	struct v2x_event *e = c->e;

	if (key_is(key, "tracks", 6)) {
		if (c->have_tracks)
			return V2X_E_INVALID;
		c->have_tracks = true;
		if (val->type != MSGPACK_OBJECT_ARRAY)
			return V2X_E_TYPE;
		if (val->via.array.size > V2X_EVENT_TRACKS_MAX)
			return V2X_E_LIMIT;
		for (uint32_t i = 0; i < val->via.array.size; i++) {
			const msgpack_object *item = &val->via.array.ptr[i];
			if (item->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
				return V2X_E_RANGE;
			if (item->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				return V2X_E_TYPE;
			if (item->via.u64 > U63_MAX)
				return V2X_E_RANGE;
			e->tracks[i] = item->via.u64;
		}
		e->n_tracks = (uint8_t)val->via.array.size;
		return 0;
	}
	if (key_is(key, "sources", 7)) {
		if (c->have_sources)
			return V2X_E_INVALID;
		c->have_sources = true;
		return get_sources(e, val);
	}
	if (key_is(key, "level", 5)) {
		char name[16];
		if (c->have_level)
			return V2X_E_INVALID;
		c->have_level = true;
		if (val->type != MSGPACK_OBJECT_STR)
			return V2X_E_TYPE;
		if (val->via.str.size >= sizeof(name))
			return V2X_E_RANGE;
		memcpy(name, val->via.str.ptr, val->via.str.size);
		name[val->via.str.size] = '\0';
		c->level = v2x_congestion_level_from_name(name);
		return c->level < 0 ? V2X_E_RANGE : 0;
	}
	return 0;
}

static int get_type(const msgpack_object *root)
{
	const msgpack_object_map *map = &root->via.map;
	const msgpack_object *t = NULL;

	/* Our encoder writes "t" first. */
	if (map->size && map->ptr[0].key.type == MSGPACK_OBJECT_STR &&
	    key_is(&map->ptr[0].key.via.str, "t", 1)) {
		t = &map->ptr[0].val;
	} else {
		for (uint32_t i = 0; i < map->size; i++) {
			if (map->ptr[i].key.type == MSGPACK_OBJECT_STR &&
			    key_is(&map->ptr[i].key.via.str, "t", 1)) {
				t = &map->ptr[i].val;
				break;
			}
		}
	}
	if (!t)
		return V2X_E_MISSING;
	if (t->type != MSGPACK_OBJECT_STR)
		return V2X_E_TYPE;
	for (int i = V2X_MSG_BSM; i <= V2X_MSG_EVENT; i++)
		if (key_is(&t->via.str, type_names[i], strlen(type_names[i])))
			return i;
	return V2X_E_UNKNOWN_MSG;
}

int msgpack__get_msg(const msgpack_object *root, struct v2x_msg *out)
{
	int type, rc;

	if (root->type != MSGPACK_OBJECT_MAP)
		return V2X_E_TYPE;
	type = get_type(root);
	if (type < 0)
		return type;

	switch (type) {
	case V2X_MSG_BSM:
		memset(&out->u.bsm, 0, sizeof(out->u.bsm));
		rc = get_map(bsm_fields, NFIELDS(bsm_fields), root,
			     (uint8_t *)&out->u.bsm, NULL, NULL);
		break;
	case V2X_MSG_OBJECTS: {
		struct objects_ctx c = { .o = &out->u.objects };
		out->u.objects.n = 0;
		out->u.objects.ts_ns = 0;
		out->u.objects.sensor_id = 0;
		rc = get_map(objects_fields, NFIELDS(objects_fields), root,
			     (uint8_t *)&out->u.objects, objects_extra, &c);
		if (rc >= 0 && !c.have_objs)
			rc = V2X_E_MISSING;
		break;
	}
	case V2X_MSG_SPAT: {
		struct spat_ctx c = { .s = &out->u.spat };
		memset(&out->u.spat, 0, offsetof(struct v2x_spat, mv));
		rc = get_map(spat_fields, NFIELDS(spat_fields), root,
			     (uint8_t *)&out->u.spat, spat_extra, &c);
		if (rc >= 0 && !c.have_mv)
			rc = V2X_E_MISSING;
		break;
	}
	default: {
		struct event_ctx c = { .e = &out->u.event };
		memset(&out->u.event, 0, sizeof(out->u.event));
		rc = get_map(event_fields, NFIELDS(event_fields), root,
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

	if (len > w->cap - w->len)
		return -1;
	memcpy(w->buf + w->len, bytes, len);
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
	.key = mp_str,
	.uint = mp_uint,
	.sint = mp_sint,
	.f64 = mp_f64,
	.f32 = mp_f32,
	.str = mp_str,
};

/*
 * v2x_msgpack_encode() - see v2x/msgpack.h.  Thread-safe; allocates
 * nothing; buf is untouched past the returned length.
 */
int v2x_msgpack_encode(const struct v2x_msg *msg, uint8_t *buf, size_t cap)
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
/* msgpack decoder: msgpack-c's parser over fixed pools                */
/* ------------------------------------------------------------------ */

struct mp_pool {
	msgpack_object *obj;
	msgpack_object_kv *kv;
	uint32_t n_obj, n_kv;
};

struct v2x_msgpack_decoder {
	struct mp_pool pool;
	msgpack_object obj[POOL_OBJ];
	msgpack_object_kv kv[POOL_KV];
};

static inline msgpack_object tpl_root(struct mp_pool *u)
{
	msgpack_object o;

	(void)u;
	o.type = MSGPACK_OBJECT_NIL;
	o.via.u64 = 0;
	return o;
}

static inline int tpl_uint(struct mp_pool *u, uint64_t d, msgpack_object *o)
{
	(void)u;
	o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	o->via.u64 = d;
	return 0;
}

static inline int tpl_sint(struct mp_pool *u, int64_t d, msgpack_object *o)
{
	(void)u;
	if (d >= 0) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = (uint64_t)d;
	} else {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = d;
	}
	return 0;
}

static inline int tpl_uint8(struct mp_pool *u, uint8_t d, msgpack_object *o)
{
	return tpl_uint(u, d, o);
}

static inline int tpl_uint16(struct mp_pool *u, uint16_t d, msgpack_object *o)
{
	return tpl_uint(u, d, o);
}

static inline int tpl_uint32(struct mp_pool *u, uint32_t d, msgpack_object *o)
{
	return tpl_uint(u, d, o);
}

static inline int tpl_uint64(struct mp_pool *u, uint64_t d, msgpack_object *o)
{
	return tpl_uint(u, d, o);
}

static inline int tpl_int8(struct mp_pool *u, int8_t d, msgpack_object *o)
{
	return tpl_sint(u, d, o);
}

static inline int tpl_int16(struct mp_pool *u, int16_t d, msgpack_object *o)
{
	return tpl_sint(u, d, o);
}

static inline int tpl_int32(struct mp_pool *u, int32_t d, msgpack_object *o)
{
	return tpl_sint(u, d, o);
}

static inline int tpl_int64(struct mp_pool *u, int64_t d, msgpack_object *o)
{
	return tpl_sint(u, d, o);
}

static inline int tpl_float(struct mp_pool *u, float d, msgpack_object *o)
{
	(void)u;
	o->type = MSGPACK_OBJECT_FLOAT32;
	o->via.f64 = d;
	return 0;
}

static inline int tpl_double(struct mp_pool *u, double d, msgpack_object *o)
{
	(void)u;
	o->type = MSGPACK_OBJECT_FLOAT64;
	o->via.f64 = d;
	return 0;
}

static inline int tpl_nil(struct mp_pool *u, msgpack_object *o)
{
	(void)u;
	o->type = MSGPACK_OBJECT_NIL;
	return 0;
}

static inline int tpl_true(struct mp_pool *u, msgpack_object *o)
{
	(void)u;
	o->type = MSGPACK_OBJECT_BOOLEAN;
	o->via.boolean = true;
	return 0;
}

static inline int tpl_false(struct mp_pool *u, msgpack_object *o)
{
	(void)u;
	o->type = MSGPACK_OBJECT_BOOLEAN;
	o->via.boolean = false;
	return 0;
}

/* Containers take their slots when their header is read: refuse a count
 * that does not fit before anything is written. */
static inline int tpl_array(struct mp_pool *u, unsigned int n,
			    msgpack_object *o)
{
	if (n > POOL_OBJ - u->n_obj)
		return V2X_E_LIMIT;
	o->type = MSGPACK_OBJECT_ARRAY;
	o->via.array.size = 0;
	o->via.array.ptr = u->obj + u->n_obj;
	u->n_obj += n;
	return 0;
}

static inline int tpl_array_item(struct mp_pool *u, msgpack_object *c,
				 msgpack_object o)
{
	(void)u;
	c->via.array.ptr[c->via.array.size++] = o;
	return 0;
}

static inline int tpl_map(struct mp_pool *u, unsigned int n,
			  msgpack_object *o)
{
	if (n > POOL_KV - u->n_kv)
		return V2X_E_LIMIT;
	o->type = MSGPACK_OBJECT_MAP;
	o->via.map.size = 0;
	o->via.map.ptr = u->kv + u->n_kv;
	u->n_kv += n;
	return 0;
}

static inline int tpl_map_item(struct mp_pool *u, msgpack_object *c,
			       msgpack_object k, msgpack_object v)
{
	(void)u;
	c->via.map.ptr[c->via.map.size].key = k;
	c->via.map.ptr[c->via.map.size].val = v;
	c->via.map.size++;
	return 0;
}

static inline int tpl_str(struct mp_pool *u, const char *b, const char *p,
			  unsigned int l, msgpack_object *o)
{
	(void)u;
	(void)b;
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.ptr = p;
	o->via.str.size = l;
	return 0;
}

static inline int tpl_bin(struct mp_pool *u, const char *b, const char *p,
			  unsigned int l, msgpack_object *o)
{
	(void)u;
	(void)b;
	o->type = MSGPACK_OBJECT_BIN;
	o->via.bin.ptr = p;
	o->via.bin.size = l;
	return 0;
}

/* The parser hands ext payloads with their type octet first (l >= 1). */
static inline int tpl_ext(struct mp_pool *u, const char *b, const char *p,
			  unsigned int l, msgpack_object *o)
{
	(void)u;
	(void)b;
	if (l == 0)
		return V2X_E_INVALID;
	o->type = MSGPACK_OBJECT_EXT;
	o->via.ext.type = (int8_t)p[0];
	o->via.ext.ptr = p + 1;
	o->via.ext.size = l - 1;
	return 0;
}

#define msgpack_unpack_struct(name) struct v2x_tpl##name
#define msgpack_unpack_func(ret, name) static inline ret v2x_tpl##name
#define msgpack_unpack_callback(name) tpl##name
#define msgpack_unpack_object msgpack_object
#define msgpack_unpack_user struct mp_pool

/* The template uses GNU case ranges; it is msgpack-c's own code. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <msgpack/unpack_template.h>
#pragma GCC diagnostic pop

/*
 * v2x_msgpack_decoder_new() - allocate a decoder with its fixed pools
 * (about 250 KiB).  Returns NULL on allocation failure.  A decoder is used
 * by one thread at a time.
 */
struct v2x_msgpack_decoder *v2x_msgpack_decoder_new(void)
{
	struct v2x_msgpack_decoder *dec = malloc(sizeof(*dec));

	if (!dec)
		return NULL;
	dec->pool.obj = dec->obj;
	dec->pool.kv = dec->kv;
	dec->pool.n_obj = 0;
	dec->pool.n_kv = 0;
	return dec;
}

/* v2x_msgpack_decoder_free() - free dec; NULL is a no-op. */
void v2x_msgpack_decoder_free(struct v2x_msgpack_decoder *dec)
{
	free(dec);
}

/*
 * v2x_msgpack_decode() - see v2x/msgpack.h.  Allocates nothing: the tree
 * lives in dec's pools, rewound at every call.  out is written only on
 * success for its type's part; on error it may hold partial data.
 */
int v2x_msgpack_decode(struct v2x_msgpack_decoder *dec, const uint8_t *buf,
		       size_t len, struct v2x_msg *out)
{
	struct v2x_tpl_context ctx;
	size_t off = 0;
	int rc;

	if (!buf || len == 0)
		return V2X_E_TRUNCATED;
	if (len > INT32_MAX)
		return V2X_E_LIMIT;
	v2x_tpl_init(&ctx);
	ctx.user = dec->pool;
	ctx.user.n_obj = 0;
	ctx.user.n_kv = 0;

	rc = v2x_tpl_execute(&ctx, (const char *)buf, len, &off);
	if (rc == 0)
		return V2X_E_TRUNCATED;
	if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
		return V2X_E_NESTING; /* the fixed parser stack is full */
	if (rc == MSGPACK_UNPACK_PARSE_ERROR)
		return V2X_E_INVALID;
	if (rc < 0)
		return rc;

	rc = msgpack__get_msg(&ctx.stack[0].obj, out);
	if (rc < 0)
		return rc;
	return (int)off;
}
