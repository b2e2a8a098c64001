/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/msgpack_test.c - the msgpack frame codec (codecs/msgpack.c)
 * against docs/wire.md: known-answer bytes built by hand, seeded random
 * round trips, every truncation, wrong types, out-of-range values, unknown
 * keys, nesting and length limits, a PROT_NONE guard page, and a check that
 * decoding allocates nothing (malloc is wrapped at link time).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "msg_gen.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

/* ---- allocation counting (-Wl,--wrap=malloc etc., see meson.build) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static unsigned long g_allocs;

void *__wrap_malloc(size_t n)
{
	g_allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	g_allocs++;
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	g_allocs++;
	return __real_realloc(p, n);
}

/* ---- helpers ---- */

#define BUF 16384

static struct v2x_msgpack_decoder *g_dec;

static int setup(void **state)
{
	(void)state;
	g_dec = v2x_msgpack_decoder_new();
	return g_dec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	v2x_msgpack_decoder_free(g_dec);
	g_dec = NULL;
	return 0;
}

static int decode(const void *buf, size_t len, struct v2x_msg *out)
{
	return v2x_msgpack_decode(g_dec, buf, len, out);
}

/* Encodes msg, decodes it back and checks equality and the octet count. */
static size_t roundtrip(const struct v2x_msg *msg, uint8_t *buf)
{
	struct v2x_msg back;
	int n = v2x_msgpack_encode(msg, buf, BUF);

	assert_true(n > 0);
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(decode(buf, (size_t)n, &back), n);
	assert_true(msg_equal(msg, &back));
	return (size_t)n;
}

typedef void (*val_fn)(msgpack_packer *pk);

/*
 * Re-packs the msgpack object o, replacing the value at path (map keys,
 * or decimal indices into arrays) by what fn packs; fn NULL removes the
 * key; a key absent from its map is appended.  Uses msgpack-c's own
 * unpacker and packer, independent of the code under test.
 */
static void repack(msgpack_packer *pk, const msgpack_object *o,
		   const char *const *path, val_fn fn)
{
	if (!path[0]) {
		msgpack_pack_object(pk, *o);
		return;
	}
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		uint32_t idx = (uint32_t)atoi(path[0]);
		uint32_t size = o->via.array.size;
		bool append = !path[1] && idx == size;
		msgpack_pack_array(pk, size + (append ? 1 : 0));
		for (uint32_t i = 0; i < size; i++) {
			if (i != idx)
				msgpack_pack_object(pk, o->via.array.ptr[i]);
			else if (path[1])
				repack(pk, &o->via.array.ptr[i], path + 1, fn);
			else
				fn(pk);
		}
		if (append)
			fn(pk);
		return;
	}
	assert_int_equal(o->type, MSGPACK_OBJECT_MAP);
	const msgpack_object_map *m = &o->via.map;
	size_t klen = strlen(path[0]);
	bool last = !path[1], found = false;
	uint32_t count = m->size;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, path[0], klen) == 0)
			found = true;
	}
	if (last && found && !fn)
		count--;
	if (last && !found && fn)
		count++;
	msgpack_pack_map(pk, count);
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;
		bool hit = k->type == MSGPACK_OBJECT_STR &&
			   k->via.str.size == klen &&
			   memcmp(k->via.str.ptr, path[0], klen) == 0;
		if (!hit) {
			msgpack_pack_object(pk, *k);
			msgpack_pack_object(pk, m->ptr[i].val);
		} else if (!last) {
			msgpack_pack_object(pk, *k);
			repack(pk, &m->ptr[i].val, path + 1, fn);
		} else if (fn) {
			msgpack_pack_object(pk, *k);
			fn(pk);
		}
	}
	if (last && !found && fn) {
		msgpack_pack_str(pk, klen);
		msgpack_pack_str_body(pk, path[0], klen);
		fn(pk);
	}
}

/* Encodes msg, applies the change at the '/'-separated path, decodes. */
static int decode_mutated_out(const struct v2x_msg *msg, const char *where,
			      val_fn fn, struct v2x_msg *out)
{
	uint8_t frame[BUF];
	char pathbuf[64];
	const char *path[8] = { 0 };
	msgpack_unpacked up;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t off = 0;
	int n = v2x_msgpack_encode(msg, frame, sizeof(frame));

	assert_true(n > 0);
	strcpy(pathbuf, where);
	path[0] = strtok(pathbuf, "/");
	for (int i = 1; i < 7 && path[i - 1]; i++)
		path[i] = strtok(NULL, "/");

	msgpack_unpacked_init(&up);
	assert_int_equal(msgpack_unpack_next(&up, (const char *)frame,
					     (size_t)n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	repack(&pk, &up.data, path, fn);
	int rc = decode(sb.data, sb.size, out);
	if (rc >= 0)
		assert_int_equal(rc, (int)sb.size);
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_destroy(&up);
	return rc;
}

static int decode_mutated(const struct v2x_msg *msg, const char *where,
			  val_fn fn)
{
	struct v2x_msg out;

	return decode_mutated_out(msg, where, fn, &out);
}

static void bsm_sample(struct v2x_msg *m)
{
	struct gen_rng r = { 7 };
	gen_bsm(&r, m);
}

static void objects_sample(struct v2x_msg *m)
{
	struct gen_rng r = { 11 };
	do
		gen_objects(&r, m, 4);
	while (m->u.objects.n == 0);
}

static void spat_sample(struct v2x_msg *m)
{
	struct gen_rng r = { 13 };
	do
		gen_spat(&r, m);
	while (m->u.spat.n == 0);
}

static void event_sample(struct v2x_msg *m, int type)
{
	struct gen_rng r = { 17 };
	gen_event(&r, m);
	m->u.event.type = (uint8_t)type;
	m->u.event.level = type == V2X_EVT_CONGESTION ? 2 : 0;
}

/* ---- known answers ---- */

/*
 * A BSM frame, byte by byte (msgpack spec: fixmap 0x8N / map16 0xde,
 * fixstr 0xaN, positive fixint 0x00-0x7f, negative fixint 0xe0-0xff,
 * uint8 0xcc, uint16 0xcd, uint32 0xce, int8 0xd0, int16 0xd1,
 * float32 0xca, float64 0xcb).  Integers use their shortest form.
 */
static const char kat_bsm[] =
	"\xde\x00\x1c"                       /* map16, 28 pairs */
	"\xa1" "t" "\xa3" "bsm"
	"\xa2" "ts" "\x01"                   /* 1 ns */
	"\xa2" "id" "\xce\x12\x34\x56\x78"   /* uint32 0x12345678 */
	"\xa3" "cnt" "\x05"
	"\xa3" "sec" "\xcd\x03\xe8"          /* 1000 ms */
	"\xa3" "lat" "\xcb\x00\x00\x00\x00\x00\x00\x00\x00"  /* 0.0 deg */
	"\xa3" "lon" "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"  /* 1.0 deg */
	"\xa4" "elev" "\xff"                 /* -1 (0.1 m) */
	"\xa7" "acc_maj" "\xcc\xff"          /* 255 */
	"\xa7" "acc_min" "\x00"
	"\xaa" "acc_orient" "\xcd\xff\xff"   /* 65535 */
	"\xa5" "trans" "\x07"
	"\xa5" "speed" "\xcd\x1f\xff"        /* 8191 = unavailable */
	"\xa7" "heading" "\xcd\x70\x80"      /* 28800 = unavailable */
	"\xa5" "angle" "\xd0\x82"            /* int8 -126 */
	"\xaa" "accel_long" "\xd1\xf8\x30"   /* int16 -2000 */
	"\xa9" "accel_lat" "\xcd\x07\xd1"    /* 2001 = unavailable */
	"\xaa" "accel_vert" "\xd0\x81"       /* int8 -127 */
	"\xa3" "yaw" "\xd1\x80\x01"          /* int16 -32767 */
	"\xa6" "brakes" "\x1f"               /* all five wheels */
	"\xa8" "traction" "\x03"
	"\xa3" "abs" "\x02"
	"\xa3" "scs" "\x01"
	"\xa5" "boost" "\x00"
	"\xaa" "aux_brakes" "\x03"
	"\xa5" "width" "\xcc\xc8"            /* 200 cm */
	"\xa6" "length" "\xcd\x01\xf4"       /* 500 cm */
	"\xa6" "events" "\xcc\x80";          /* eventHardBraking (bit 7) */

static void kat_bsm_msg(struct v2x_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_BSM;
	m->u.bsm = (struct v2x_bsm){
		.ts_ns = 1, .id = 0x12345678, .msg_cnt = 5, .sec_mark = 1000,
		.lat = 0, .lon = 10000000, .elev = -1, .acc_semi_major = 255,
		.acc_semi_minor = 0, .acc_orient = 65535, .transmission = 7,
		.speed = 8191, .heading = 28800, .angle = -126,
		.accel_long = -2000, .accel_lat = 2001, .accel_vert = -127,
		.yaw_rate = -32767, .wheel_brakes = 31, .traction = 3,
		.abs = 2, .scs = 1, .brake_boost = 0, .aux_brakes = 3,
		.width_cm = 200, .length_cm = 500,
		.events = V2X_EVENT_FLAG_HARD_BRAKING, .has_events = 1,
	};
}

static const char kat_objects[] =
	"\x84"                               /* fixmap, 4 pairs */
	"\xa1" "t" "\xa7" "objects"
	"\xa2" "ts" "\x02"
	"\xa6" "sensor" "\x07"
	"\xa4" "objs" "\x91"                 /* fixarray, 1 object */
	"\x89"                               /* fixmap, 9 pairs */
	"\xa2" "id" "\x01"
	"\xa3" "cls" "\xaa" "pedestrian"
	"\xa3" "lat" "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"  /* 1.5 deg */
	"\xa3" "lon" "\xcb\xbf\xe0\x00\x00\x00\x00\x00\x00"  /* -0.5 deg */
	"\xa5" "speed" "\x32"                /* 50 x 0.02 m/s = 1 m/s */
	"\xa7" "heading" "\x00"
	"\xa3" "len" "\x32"                  /* 50 cm */
	"\xa3" "wid" "\x3c"                  /* 60 cm */
	"\xa4" "conf" "\x5a";                /* 90 % */

static void kat_objects_msg(struct v2x_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_OBJECTS;
	m->u.objects.ts_ns = 2;
	m->u.objects.sensor_id = 7;
	m->u.objects.n = 1;
	m->u.objects.obj[0] = (struct v2x_object){
		.id = 1, .cls = V2X_CLASS_PEDESTRIAN, .confidence = 90,
		.lat = 15000000, .lon = -5000000, .speed = 50, .heading = 0,
		.length_cm = 50, .width_cm = 60,
	};
}

static const char kat_spat[] =
	"\x89"                               /* fixmap, 9 pairs */
	"\xa1" "t" "\xa4" "spat"
	"\xa2" "ts" "\x03"
	"\xa2" "id" "\x64"                   /* intersection 100 */
	"\xa6" "region" "\x00"
	"\xa3" "rev" "\x01"
	"\xa6" "status" "\x00"
	"\xa3" "moy" "\xce\x00\x08\x0a\xc0"  /* 527040 = invalid */
	"\xa4" "dsec" "\xcd\xff\xff"         /* 65535 = unavailable */
	"\xa2" "mv" "\x91"                   /* one movement */
	"\x85"
	"\xa2" "sg" "\x02"
	"\xa5" "state" "\x06"                /* protected-Movement-Allowed */
	"\xa7" "min_end" "\x64"              /* 10.0 s in the hour */
	"\xa7" "max_end" "\xcd\x8c\xa1"      /* 36001 = unknown */
	"\xa6" "likely" "\xcc\xc8";          /* 20.0 s */

static void kat_spat_msg(struct v2x_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_SPAT;
	m->u.spat.ts_ns = 3;
	m->u.spat.intersection_id = 100;
	m->u.spat.revision = 1;
	m->u.spat.moy = 527040;
	m->u.spat.time_stamp = 65535;
	m->u.spat.n = 1;
	m->u.spat.mv[0] = (struct v2x_movement){
		.signal_group = 2, .state = V2X_PHASE_PROTECTED_GREEN,
		.min_end = 100, .max_end = V2X_TIMEMARK_UNKNOWN, .likely = 200,
	};
}

static const char kat_event[] =
	"\xde\x00\x10"                       /* map16, 16 pairs */
	"\xa1" "t" "\xa5" "event"
	"\xa2" "ts" "\x04"
	"\xa2" "id" "\x2a"                   /* 42 */
	"\xa4" "type" "\xaa" "congestion"
	"\xa6" "status" "\xa6" "update"
	"\xa8" "severity" "\x03"
	"\xa3" "lat" "\xcb\x00\x00\x00\x00\x00\x00\x00\x00"  /* 0.0 */
	"\xa3" "lon" "\xcb\xc0\x5e\xa0\x00\x00\x00\x00\x00"  /* -122.5 */
	"\xa4" "lane" "\xff"                 /* -1 = none */
	"\xa7" "segment" "\x05"
	"\xa8" "start_ts" "\x01"
	"\xa7" "last_ts" "\x04"
	"\xaa" "confidence" "\xca\x3f\x00\x00\x00"  /* float32 0.5 */
	"\xa6" "tracks" "\x92\x07\x09"       /* [7, 9] */
	"\xa7" "sources" "\x92"              /* ["v2x", "sensor:12"] */
	"\xa3" "v2x" "\xa9" "sensor:12"
	"\xa5" "level" "\xa5" "heavy";       /* congestion only */

static void kat_event_msg(struct v2x_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_EVENT;
	struct v2x_event *e = &m->u.event;
	e->ts_ns = 4;
	e->id = 42;
	e->type = V2X_EVT_CONGESTION;
	e->status = V2X_EVT_UPDATE;
	e->severity = 3;
	e->level = V2X_CONGESTION_HEAVY;
	e->lat = 0;
	e->lon = -1225000000;
	e->lane = -1;
	e->segment = 5;
	e->start_ts_ns = 1;
	e->last_ts_ns = 4;
	e->confidence = 0.5f;
	e->sources = V2X_SRC_V2X | V2X_SRC_SENSOR;
	e->n_sensors = 1;
	e->sensors[0] = 12;
	e->n_tracks = 2;
	e->tracks[0] = 7;
	e->tracks[1] = 9;
}

static void check_kat(const char *bytes, size_t len,
		      void (*make)(struct v2x_msg *))
{
	struct v2x_msg want, got;
	uint8_t buf[BUF];

	make(&want);
	assert_int_equal(v2x_msgpack_encode(&want, buf, sizeof(buf)), (int)len);
	assert_memory_equal(buf, bytes, len);
	assert_int_equal(decode(bytes, len, &got), (int)len);
	assert_true(msg_equal(&want, &got));
}

static void test_kat(void **state)
{
	(void)state;
	check_kat(kat_bsm, sizeof(kat_bsm) - 1, kat_bsm_msg);
	check_kat(kat_objects, sizeof(kat_objects) - 1, kat_objects_msg);
	check_kat(kat_spat, sizeof(kat_spat) - 1, kat_spat_msg);
	check_kat(kat_event, sizeof(kat_event) - 1, kat_event_msg);
}

/* ---- round trips ---- */

static void test_random_roundtrips(void **state)
{
	struct gen_rng r = { 0x5eed };
	uint8_t buf[BUF];
	struct v2x_msg m;

	(void)state;
	for (int i = 0; i < 4000; i++) {
		gen_bsm(&r, &m);
		roundtrip(&m, buf);
		gen_objects(&r, &m, i % 10 ? 16 : V2X_OBJECTS_MAX);
		roundtrip(&m, buf);
		gen_spat(&r, &m);
		roundtrip(&m, buf);
		gen_event(&r, &m);
		roundtrip(&m, buf);
	}
}

/* msgpack-c's own unpacker reads every frame we write as one object. */
static void test_msgpack_c_reads_ours(void **state)
{
	struct gen_rng r = { 0xc0de };
	uint8_t buf[BUF];
	struct v2x_msg m;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		msgpack_unpacked up;
		size_t off = 0;
		gen_any(&r, &m);
		int n = v2x_msgpack_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		msgpack_unpacked_init(&up);
		assert_int_equal(msgpack_unpack_next(&up, (const char *)buf,
						     (size_t)n, &off),
				 MSGPACK_UNPACK_SUCCESS);
		assert_int_equal(off, (size_t)n);
		assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
		/* The first key is "t", the type name. */
		const msgpack_object_kv *kv = &up.data.via.map.ptr[0];
		assert_int_equal(kv->key.type, MSGPACK_OBJECT_STR);
		assert_int_equal(kv->key.via.str.size, 1);
		assert_int_equal(kv->key.via.str.ptr[0], 't');
		msgpack_unpacked_destroy(&up);
	}
}

/* Full arrays: the largest frames. */
static void test_max_sizes(void **state)
{
	struct gen_rng r = { 99 };
	uint8_t buf[BUF];
	struct v2x_msg m;

	(void)state;
	gen_objects(&r, &m, V2X_OBJECTS_MAX);
	m.u.objects.n = V2X_OBJECTS_MAX;
	for (unsigned i = 0; i < V2X_OBJECTS_MAX; i++)
		m.u.objects.obj[i] = m.u.objects.obj[0];
	roundtrip(&m, buf);
	gen_spat(&r, &m);
	m.u.spat.n = V2X_SPAT_MOVEMENTS_MAX;
	roundtrip(&m, buf);
	gen_event(&r, &m);
	m.u.event.sources = V2X_SRC_V2X | V2X_SRC_SENSOR;
	m.u.event.n_sensors = V2X_EVENT_SENSORS_MAX;
	m.u.event.n_tracks = V2X_EVENT_TRACKS_MAX;
	roundtrip(&m, buf);
}

/* ---- malformed input ---- */

static void test_truncations(void **state)
{
	struct gen_rng r = { 3 };
	uint8_t buf[BUF];
	struct v2x_msg m, out;

	(void)state;
	for (int k = 0; k < 40; k++) {
		gen_any(&r, &m);
		size_t n = roundtrip(&m, buf);
		for (size_t len = 0; len < n; len++) {
			/* An exact-size copy so that ASan sees any over-read. */
			uint8_t *copy = malloc(len ? len : 1);
			memcpy(copy, buf, len);
			assert_int_equal(decode(copy, len, &out), V2X_E_TRUNCATED);
			free(copy);
		}
	}
}

/* Random bit flips: any result, but a clean one. */
static void test_bit_flips(void **state)
{
	struct gen_rng r = { 5 };
	uint8_t buf[BUF];
	struct v2x_msg m, out;

	(void)state;
	for (int k = 0; k < 20000; k++) {
		gen_any(&r, &m);
		int n = v2x_msgpack_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		for (int f = 0; f < 3; f++) {
			size_t bit = gen_next(&r) % ((size_t)n * 8);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		int rc = decode(buf, (size_t)n, &out);
		assert_true(rc <= n);
		if (rc < 0)
			assert_string_not_equal(v2x_errname(rc), "unknown");
	}
}

static void pack_str_x(msgpack_packer *pk)
{
	msgpack_pack_str_with_body(pk, "x", 1);
}

static void pack_float(msgpack_packer *pk)
{
	msgpack_pack_double(pk, 1.0);
}

static void pack_int_1(msgpack_packer *pk)
{
	msgpack_pack_int(pk, 1);
}

static void pack_nil(msgpack_packer *pk)
{
	msgpack_pack_nil(pk);
}

static void pack_map0(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 0);
}

static void test_wrong_types(void **state)
{
	struct v2x_msg bsm, obj, spat, evt;

	(void)state;
	bsm_sample(&bsm);
	objects_sample(&obj);
	spat_sample(&spat);
	event_sample(&evt, V2X_EVT_SPEEDING);

	assert_int_equal(decode_mutated(&bsm, "t", pack_int_1), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&bsm, "lat", pack_str_x), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&bsm, "speed", pack_float), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&bsm, "id", pack_nil), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&obj, "objs", pack_map0), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&obj, "objs/0", pack_int_1), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&obj, "objs/0/cls", pack_int_1),
			 V2X_E_TYPE);
	assert_int_equal(decode_mutated(&spat, "mv", pack_str_x), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&spat, "mv/0/state", pack_float),
			 V2X_E_TYPE);
	assert_int_equal(decode_mutated(&evt, "type", pack_int_1), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&evt, "tracks", pack_int_1), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&evt, "sources", pack_str_x), V2X_E_TYPE);
	assert_int_equal(decode_mutated(&evt, "confidence", pack_str_x),
			 V2X_E_TYPE);

	/* A root that is not a map. */
	struct v2x_msg out;
	assert_int_equal(decode("\x93\x01\x02\x03", 4, &out), V2X_E_TYPE);
	assert_int_equal(decode("\x01", 1, &out), V2X_E_TYPE);
}

/* Packs the value stored in g_val / g_dval / g_sval. */
static int64_t g_ival;
static uint64_t g_uval;
static double g_dval;
static const char *g_sval;

static void pack_ival(msgpack_packer *pk)
{
	msgpack_pack_int64(pk, g_ival);
}

static void pack_uval(msgpack_packer *pk)
{
	msgpack_pack_uint64(pk, g_uval);
}

static void pack_dval(msgpack_packer *pk)
{
	msgpack_pack_double(pk, g_dval);
}

static void pack_sval(msgpack_packer *pk)
{
	msgpack_pack_str_with_body(pk, g_sval, strlen(g_sval));
}

static int with_int(const struct v2x_msg *m, const char *path, int64_t v)
{
	g_ival = v;
	return decode_mutated(m, path, pack_ival);
}

static int with_double(const struct v2x_msg *m, const char *path, double v)
{
	g_dval = v;
	return decode_mutated(m, path, pack_dval);
}

static int with_str(const struct v2x_msg *m, const char *path, const char *v)
{
	g_sval = v;
	return decode_mutated(m, path, pack_sval);
}

static void test_ranges(void **state)
{
	struct v2x_msg bsm, obj, spat, evt;

	(void)state;
	bsm_sample(&bsm);
	objects_sample(&obj);
	spat_sample(&spat);
	event_sample(&evt, V2X_EVT_HARD_BRAKING);

	/* Edges accepted, one past rejected. */
	assert_true(with_int(&bsm, "speed", 8191) > 0);
	assert_int_equal(with_int(&bsm, "speed", 8192), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "speed", -1), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "cnt", 128), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "heading", 28801), V2X_E_RANGE);
	assert_true(with_int(&bsm, "angle", -126) > 0);
	assert_int_equal(with_int(&bsm, "angle", -127), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "elev", -4097), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "elev", 61440), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "accel_long", 2002), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "yaw", -32768), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "brakes", 32), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "boost", 3), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "width", 1024), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "events", 8192), V2X_E_RANGE);
	assert_int_equal(with_int(&bsm, "id", 1ll << 32), V2X_E_RANGE);
	g_uval = UINT64_MAX;
	assert_int_equal(decode_mutated(&bsm, "ts", pack_uval), V2X_E_RANGE);
	assert_true(with_double(&bsm, "lat", 90.0000001) > 0);
	assert_int_equal(with_double(&bsm, "lat", 90.0000002), V2X_E_RANGE);
	assert_int_equal(with_double(&bsm, "lat", -90.0000001), V2X_E_RANGE);
	assert_int_equal(with_double(&bsm, "lon", 180.0000002), V2X_E_RANGE);
	assert_int_equal(with_double(&bsm, "lon", NAN), V2X_E_RANGE);
	assert_int_equal(with_double(&bsm, "lon", INFINITY), V2X_E_RANGE);
	/* An integer number of degrees is a number too. */
	assert_true(with_int(&bsm, "lat", 45) > 0);

	assert_int_equal(with_str(&obj, "objs/0/cls", "plane"), V2X_E_RANGE);
	assert_int_equal(with_int(&obj, "objs/0/conf", 101), V2X_E_RANGE);
	assert_int_equal(with_int(&obj, "objs/0/wid", 1024), V2X_E_RANGE);
	assert_int_equal(with_int(&spat, "moy", 527041), V2X_E_RANGE);
	assert_int_equal(with_int(&spat, "id", 65536), V2X_E_RANGE);
	assert_int_equal(with_int(&spat, "mv/0/state", 10), V2X_E_RANGE);
	assert_int_equal(with_int(&spat, "mv/0/likely", 36002), V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "type", "meteor"), V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "status", "gone"), V2X_E_RANGE);
	assert_int_equal(with_int(&evt, "severity", 8), V2X_E_RANGE);
	assert_int_equal(with_int(&evt, "lane", -2), V2X_E_RANGE);
	assert_int_equal(with_double(&evt, "confidence", 1.01), V2X_E_RANGE);
	assert_int_equal(with_double(&evt, "confidence", -0.01), V2X_E_RANGE);
	assert_int_equal(with_int(&evt, "tracks/0", -1), V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "sources/0", "radar"), V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "sources/0", "sensor:"), V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "sources/0", "sensor:4294967296"),
			 V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "sources/0", "sensor:01"), V2X_E_RANGE);
	assert_int_equal(with_str(&evt, "sources/0", "sensor:1x"), V2X_E_RANGE);
	/* The type name itself. */
	assert_int_equal(with_str(&bsm, "t", "rsm"), V2X_E_UNKNOWN_MSG);
}

static void test_missing(void **state)
{
	struct v2x_msg bsm, obj, spat, evt, out;

	(void)state;
	bsm_sample(&bsm);
	objects_sample(&obj);
	spat_sample(&spat);
	event_sample(&evt, V2X_EVT_CONGESTION);

	assert_int_equal(decode_mutated(&bsm, "t", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&bsm, "sec", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&bsm, "ts", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&obj, "objs", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&obj, "objs/0/conf", NULL),
			 V2X_E_MISSING);
	assert_int_equal(decode_mutated(&spat, "mv/0/sg", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&evt, "level", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&evt, "tracks", NULL), V2X_E_MISSING);
	assert_int_equal(decode_mutated(&evt, "sources", NULL), V2X_E_MISSING);

	/* "events" is optional: absent means has_events = 0. */
	bsm.u.bsm.has_events = 1;
	bsm.u.bsm.events = 5;
	assert_true(decode_mutated_out(&bsm, "events", NULL, &out) > 0);
	assert_int_equal(out.u.bsm.has_events, 0);
	assert_int_equal(out.u.bsm.events, 0);

	/* "level" on another type of event is ignored. */
	event_sample(&evt, V2X_EVT_SPEEDING);
	g_sval = "heavy";
	assert_true(decode_mutated_out(&evt, "level", pack_sval, &out) > 0);
	assert_true(msg_equal(&evt, &out));
	assert_int_equal(out.u.event.level, 0);
}

static void pack_nested_junk(msgpack_packer *pk)
{
	/* {"a": [1, {"b": nil}], "c": bin, "d": ext} */
	msgpack_pack_map(pk, 3);
	msgpack_pack_str_with_body(pk, "a", 1);
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, 1);
	msgpack_pack_map(pk, 1);
	msgpack_pack_str_with_body(pk, "b", 1);
	msgpack_pack_nil(pk);
	msgpack_pack_str_with_body(pk, "c", 1);
	msgpack_pack_bin_with_body(pk, "\x00\x01", 2);
	msgpack_pack_str_with_body(pk, "d", 1);
	msgpack_pack_ext_with_body(pk, "xyz", 3, 5);
}

static void test_unknown_keys(void **state)
{
	struct v2x_msg bsm, obj, evt, out;

	(void)state;
	bsm_sample(&bsm);
	objects_sample(&obj);
	event_sample(&evt, V2X_EVT_WRONG_WAY);
	/* Decoded messages equal the originals: unknown keys change nothing. */
	assert_true(decode_mutated_out(&bsm, "zz_future", pack_nested_junk,
				       &out) > 0);
	assert_true(msg_equal(&bsm, &out));
	assert_true(decode_mutated_out(&obj, "objs/0/extra", pack_str_x,
				       &out) > 0);
	assert_true(msg_equal(&obj, &out));
	assert_true(decode_mutated_out(&evt, "note", pack_nested_junk, &out) > 0);
	assert_true(msg_equal(&evt, &out));
	/* A key that is not a string is not ours either. */
	g_ival = 5;
	assert_true(decode_mutated_out(&bsm, "1", pack_ival, &out) > 0);
	assert_true(msg_equal(&bsm, &out));
}

static void test_duplicate_key(void **state)
{
	/* {"t":"spat", ..., "t":"spat"} built by hand from the KAT. */
	char frame[sizeof(kat_spat) + 16];
	struct v2x_msg out;
	size_t n = sizeof(kat_spat) - 1;

	(void)state;
	memcpy(frame, kat_spat, n);
	frame[0] = '\x8a'; /* 10 pairs */
	memcpy(frame + n, "\xa3" "rev" "\x01", 5);
	assert_int_equal(decode(frame, n + 5, &out), V2X_E_INVALID);
}

/* "t" need not come first: the decoder looks for it. */
static void test_type_not_first(void **state)
{
	char frame[sizeof(kat_objects)];
	size_t n = sizeof(kat_objects) - 1;
	size_t t_len = 1 + 1 + 1 + 7; /* "\xa1" "t" "\xa7" "objects" */
	struct v2x_msg want, out;

	(void)state;
	frame[0] = kat_objects[0];
	memcpy(frame + 1, kat_objects + 1 + t_len, n - 1 - t_len);
	memcpy(frame + n - t_len, kat_objects + 1, t_len);
	kat_objects_msg(&want);
	assert_int_equal(decode(frame, n, &out), (int)n);
	assert_true(msg_equal(&want, &out));
	/* Truncated before the late "t": still a clean truncation. */
	assert_int_equal(decode(frame, n - 3, &out), V2X_E_TRUNCATED);
}

static void test_limits(void **state)
{
	struct v2x_msg m, out;
	struct gen_rng r = { 23 };
	uint8_t buf[BUF];
	int n;

	(void)state;
	/* 129 objects: encoder refuses, decoder says limit. */
	gen_objects(&r, &m, 1);
	m.u.objects.n = V2X_OBJECTS_MAX + 1;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	m.u.objects.n = V2X_OBJECTS_MAX;
	for (unsigned i = 0; i < V2X_OBJECTS_MAX; i++)
		m.u.objects.obj[i] = m.u.objects.obj[0];
	n = v2x_msgpack_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	/* Patch the array header (array16 0xdc 0x00 0x80) to 129 and append
	 * one more copy of the first object map. */
	uint8_t *hdr = memmem(buf, (size_t)n, "\xa4" "objs" "\xdc\x00\x80", 8);
	assert_non_null(hdr);
	hdr[7] = 0x81;
	uint8_t *first = hdr + 8;
	uint8_t *second = memmem(first + 1, (size_t)(buf + n - first - 1),
				 "\x89\xa2" "id", 4);
	assert_non_null(second);
	size_t one = (size_t)(second - first);
	memcpy(buf + n, first, one);
	assert_int_equal(decode(buf, (size_t)n + one, &out), V2X_E_LIMIT);

	/* Nine tracks, 33 movements, six sources, five sensors. */
	gen_event(&r, &m);
	m.u.event.n_tracks = V2X_EVENT_TRACKS_MAX;
	assert_int_equal(with_int(&m, "tracks/8", 1), V2X_E_LIMIT);
	m.u.event.sources = V2X_SRC_V2X | V2X_SRC_SENSOR;
	m.u.event.n_sensors = V2X_EVENT_SENSORS_MAX;
	assert_int_equal(with_str(&m, "sources/5", "v2x"), V2X_E_LIMIT);
	assert_int_equal(with_str(&m, "sources/0", "sensor:9"), V2X_E_LIMIT);
	spat_sample(&m);
	m.u.spat.n = V2X_SPAT_MOVEMENTS_MAX;
	assert_int_equal(decode_mutated(&m, "mv/32", pack_map0), V2X_E_LIMIT);
	gen_event(&r, &m);
	m.u.event.n_tracks = V2X_EVENT_TRACKS_MAX + 1;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);

	/* Huge announced counts and lengths: every item takes at least one
	 * octet, so a count beyond the octets left is refused at once. */
	static const char *const huge[] = {
		"\xdd\xff\xff\xff\xff",                /* array32 of 2^32-1 */
		"\xdf\xff\xff\xff\xff",                /* map32 of 2^32-1 */
		"\x81\xa1" "x" "\xdd\x00\x10\x00\x00",  /* nested array32 */
		"\x81\xa1" "x" "\xdb\xff\xff\xff\xff",  /* str32 */
		"\x81\xa1" "x" "\xc6\xff\xff\xff\xff",  /* bin32 */
		"\x81\xa1" "x" "\xc9\xff\xff\xff\xff",  /* ext32 */
	};
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++)
		assert_int_equal(decode(huge[i], i < 2 ? 5 : 8, &out),
				 V2X_E_TRUNCATED);
	/* A large unknown value that is really there is skipped, not
	 * refused: the decoder has no pool to run out of. */
	struct v2x_msg spat;
	spat_sample(&spat);
	n = v2x_msgpack_encode(&spat, buf, sizeof(buf));
	assert_true(n > 0);
	buf[0]++; /* one more pair, appended: "zz": [nil x 3000] */
	memcpy(buf + n, "\xa2" "zz" "\xdc\x0b\xb8", 6);
	memset(buf + n + 6, 0xc0, 3000);
	assert_int_equal(decode(buf, (size_t)n + 3006, &out), n + 3006);
	assert_true(msg_equal(&spat, &out));
	/* The reserved octet 0xc1. */
	assert_int_equal(decode("\x81\xa1" "t" "\xc1", 4, &out), V2X_E_INVALID);
	assert_int_equal(decode(NULL, 0, &out), V2X_E_TRUNCATED);
}

static void test_nesting(void **state)
{
	uint8_t buf[256];
	struct v2x_msg out;

	(void)state;
	/* The root must be a map. */
	memset(buf, 0x91, 100);
	buf[100] = 0x00;
	assert_int_equal(decode(buf, 101, &out), V2X_E_TYPE);

	/* 100 nested one-element arrays under a key. */
	buf[0] = 0x81;
	buf[1] = 0xa1;
	buf[2] = 'z';
	memset(buf + 3, 0x91, 100);
	buf[103] = 0x00;
	assert_int_equal(decode(buf, 104, &out), V2X_E_NESTING);
	/* ... and nested maps. */
	for (int i = 0; i < 50; i++) {
		buf[3 + 3 * i] = 0x81;
		buf[4 + 3 * i] = 0xa1;
		buf[5 + 3 * i] = 'k';
	}
	buf[153] = 0x00;
	assert_int_equal(decode(buf, 154, &out), V2X_E_NESTING);

	/* A frame whose unknown key holds arrays nested 8 deep: 9 levels. */
	size_t n = 0;
	buf[n++] = 0x81;
	buf[n++] = 0xa1;
	buf[n++] = 'z';
	for (int i = 0; i < 8; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x00;
	assert_int_equal(decode(buf, n, &out), V2X_E_NESTING);

	/* Seven deep inside the map (8 levels) is allowed by the parser; the
	 * frame then lacks "t". */
	n = 0;
	buf[n++] = 0x81;
	buf[n++] = 0xa1;
	buf[n++] = 'z';
	for (int i = 0; i < 7; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x00;
	assert_int_equal(decode(buf, n, &out), V2X_E_MISSING);
}

static void test_encode_errors(void **state)
{
	struct v2x_msg m;
	uint8_t buf[BUF];
	struct gen_rng r = { 29 };

	(void)state;
	for (int k = 0; k < 50; k++) {
		gen_any(&r, &m);
		int n = v2x_msgpack_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		for (int cap = 0; cap < n; cap++)
			assert_int_equal(v2x_msgpack_encode(&m, buf, (size_t)cap),
					 V2X_E_NOSPACE);
	}
	bsm_sample(&m);
	m.u.bsm.speed = 8192;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	bsm_sample(&m);
	m.u.bsm.lat = 900000002;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	bsm_sample(&m);
	m.u.bsm.ts_ns = UINT64_MAX;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	m.type = 9;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)),
			 V2X_E_UNKNOWN_MSG);
	m.type = V2X_MSG_NONE;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)),
			 V2X_E_UNKNOWN_MSG);
	event_sample(&m, V2X_EVT_STOPPED_VEHICLE);
	m.u.event.sources = V2X_SRC_V2X;
	m.u.event.n_sensors = 1;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	event_sample(&m, V2X_EVT_STOPPED_VEHICLE);
	m.u.event.confidence = NAN;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	event_sample(&m, V2X_EVT_CONGESTION);
	m.u.event.level = 4;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	event_sample(&m, V2X_EVT_STOPPED_VEHICLE);
	m.u.event.type = V2X_EVT_TYPE_COUNT;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	objects_sample(&m);
	m.u.objects.obj[0].cls = V2X_CLASS_MAX + 1;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
	spat_sample(&m);
	m.u.spat.n = V2X_SPAT_MOVEMENTS_MAX + 1;
	assert_int_equal(v2x_msgpack_encode(&m, buf, sizeof(buf)), V2X_E_RANGE);
}

/* Trailing octets are the caller's business: the return says where the
 * frame ended. */
static void test_trailing(void **state)
{
	uint8_t buf[BUF];
	struct v2x_msg m, out;
	size_t n = sizeof(kat_spat) - 1;

	(void)state;
	memcpy(buf, kat_spat, n);
	memcpy(buf + n, "\x01\x02\x03", 3);
	assert_int_equal(decode(buf, n + 3, &out), (int)n);
	kat_spat_msg(&m);
	assert_true(msg_equal(&m, &out));
}

/* ---- guard page ---- */

static void test_guard_page(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *guard = area + pg * 3;
	struct gen_rng r = { 31 };
	uint8_t buf[BUF];
	struct v2x_msg m, out;

	(void)state;
	assert_true(area != MAP_FAILED);
	assert_int_equal(mprotect(guard, (size_t)pg, PROT_NONE), 0);
	for (int k = 0; k < 40; k++) {
		gen_any(&r, &m);
		int n = v2x_msgpack_encode(&m, buf, sizeof(buf));
		assert_true(n > 0 && n <= pg * 3);
		for (int len = 0; len <= n; len++) {
			uint8_t *p = guard - len;
			memcpy(p, buf, (size_t)len);
			int rc = decode(p, (size_t)len, &out);
			if (len == n)
				assert_int_equal(rc, n);
			else
				assert_int_equal(rc, V2X_E_TRUNCATED);
		}
	}
	munmap(area, (size_t)pg * 4);
}

/* ---- no allocation on the decode and encode paths ---- */

static void test_no_allocation(void **state)
{
	struct gen_rng r = { 37 };
	static uint8_t frames[64][BUF];
	int lens[64];
	struct v2x_msg m, out;

	(void)state;
	for (int i = 0; i < 64; i++) {
		gen_any(&r, &m);
		lens[i] = v2x_msgpack_encode(&m, frames[i], BUF);
		assert_true(lens[i] > 0);
	}
	unsigned long before = g_allocs;
	for (int k = 0; k < 20000; k++) {
		int i = k % 64;
		assert_int_equal(decode(frames[i], (size_t)lens[i], &out),
				 lens[i]);
		assert_int_equal(v2x_msgpack_encode(&out, frames[i], BUF),
				 lens[i]);
		/* Malformed input takes the error paths. */
		decode(frames[i], (size_t)lens[i] / 2, &out);
		decode("\xdd\xff\xff\xff\xff", 5, &out);
	}
	assert_int_equal(g_allocs, before);
	/* The wrap itself works: creating a decoder is one allocation. */
	struct v2x_msgpack_decoder *d = v2x_msgpack_decoder_new();
	assert_int_equal(g_allocs, before + 1);
	v2x_msgpack_decoder_free(d);
	v2x_msgpack_decoder_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat),
		cmocka_unit_test(test_random_roundtrips),
		cmocka_unit_test(test_msgpack_c_reads_ours),
		cmocka_unit_test(test_max_sizes),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_type_not_first),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_guard_page),
		cmocka_unit_test(test_no_allocation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
