/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/msgpack_fast_test.c - the direct writers of the hot msgpack
 * frames (bsm, objects; codecs/msgpack.c, msgpack_fast.h) against the
 * generic table-driven encoder: identical octets for seeded random
 * messages, every field at the edges of its range and of each msgpack
 * integer width, Part II flags, every object class and array-header width;
 * out-of-range values declined and reported exactly as the generic encoder
 * reports them; the declared maximum sizes reached and never exceeded;
 * buffers of every size up to the frame's own (each malloc'd to the exact
 * size, and before a PROT_NONE page) give V2X_E_NOSPACE or the full frame
 * and are never written out of bounds; nothing past the returned length is
 * touched; decode(encode(x)) == x.
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

#include "../../codecs/msgpack_fast.h"
#include "msg_gen.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

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

/*
 * A valid msg: the direct writer takes it and writes the generic
 * encoder's octets, the public encoder writes the same, nothing past the
 * frame is touched, and the frame decodes back to msg when round_trip
 * (has_events values other than 0/1 come back as 1).  Returns the length.
 */
static int check_same(const struct v2x_msg *msg, bool round_trip)
{
	static uint8_t fast[BUF], generic[BUF], pub[BUF], fill5a[BUF], filla5[BUF];
	struct v2x_msg back;
	size_t max = msg->type == V2X_MSG_BSM
			     ? msgpack__bsm_max()
			     : msgpack__objects_max(msg->u.objects.n);
	/* Sentinels well past anything the writers may touch. */
	size_t watch = max + 512 < BUF ? max + 512 : BUF;

	if (!fill5a[0]) {
		memset(fill5a, 0x5a, sizeof(fill5a));
		memset(filla5, 0xa5, sizeof(filla5));
	}
	memset(fast, 0x5a, watch);
	memset(pub, 0xa5, watch);
	int nf = msgpack__encode_fast(msg, fast, sizeof(fast));
	int ng = msgpack__encode_generic(msg, generic, sizeof(generic));
	int np = v2x_msgpack_encode(msg, pub, sizeof(pub));

	assert_true(ng > 0);
	assert_int_equal(nf, ng);
	assert_int_equal(np, ng);
	assert_memory_equal(fast, generic, (size_t)ng);
	assert_memory_equal(pub, generic, (size_t)ng);
	assert_true((size_t)ng <= max);
	assert_memory_equal(fast + ng, fill5a, watch - (size_t)ng);
	assert_memory_equal(pub + ng, filla5, watch - (size_t)ng);
	if (round_trip) {
		memset(&back, 0xee, sizeof(back));
		assert_int_equal(v2x_msgpack_decode(g_dec, generic, (size_t)ng,
						    &back),
				 ng);
		assert_true(msg_equal(msg, &back));
	}
	return ng;
}

/*
 * An invalid msg: the direct writer declines and the public encoder
 * returns what the generic one does, which is want.
 */
static void check_refused(const struct v2x_msg *msg, int want)
{
	static uint8_t buf[BUF];

	assert_int_equal(msgpack__encode_fast(msg, buf, sizeof(buf)),
			 MSGPACK__DECLINED);
	assert_int_equal(msgpack__encode_generic(msg, buf, sizeof(buf)), want);
	assert_int_equal(v2x_msgpack_encode(msg, buf, sizeof(buf)), want);
}

/* ---- field descriptions, independent of the codec's tables ---- */

struct fdesc {
	const char *name;
	size_t off, size;
	bool is_signed;
	int64_t lo, hi;
};

#define BF(member, sgn, lo, hi)                                            \
	{ #member, offsetof(struct v2x_bsm, member),                       \
	  sizeof(((struct v2x_bsm *)0)->member), sgn, lo, hi }
#define OF(member, sgn, lo, hi)                                            \
	{ #member, offsetof(struct v2x_object, member),                    \
	  sizeof(((struct v2x_object *)0)->member), sgn, lo, hi }

/* docs/wire.md, the bsm table. */
static const struct fdesc bsm_desc[] = {
	BF(ts_ns, false, 0, INT64_MAX),
	BF(id, false, 0, UINT32_MAX),
	BF(msg_cnt, false, 0, 127),
	BF(sec_mark, false, 0, 65535),
	BF(lat, true, -900000000, 900000001),
	BF(lon, true, -1799999999, 1800000001),
	BF(elev, true, -4096, 61439),
	BF(acc_semi_major, false, 0, 255),
	BF(acc_semi_minor, false, 0, 255),
	BF(acc_orient, false, 0, 65535),
	BF(transmission, false, 0, 7),
	BF(speed, false, 0, 8191),
	BF(heading, false, 0, 28800),
	BF(angle, true, -126, 127),
	BF(accel_long, true, -2000, 2001),
	BF(accel_lat, true, -2000, 2001),
	BF(accel_vert, true, -127, 127),
	BF(yaw_rate, true, -32767, 32767),
	BF(wheel_brakes, false, 0, 31),
	BF(traction, false, 0, 3),
	BF(abs, false, 0, 3),
	BF(scs, false, 0, 3),
	BF(brake_boost, false, 0, 2),
	BF(aux_brakes, false, 0, 3),
	BF(width_cm, false, 0, 1023),
	BF(length_cm, false, 0, 4095),
	BF(events, false, 0, 8191),
};

/* docs/wire.md, the object table. */
static const struct fdesc object_desc[] = {
	OF(id, false, 0, UINT32_MAX),
	OF(cls, false, 0, V2X_CLASS_MAX),
	OF(lat, true, -900000000, 900000001),
	OF(lon, true, -1799999999, 1800000001),
	OF(speed, false, 0, 8191),
	OF(heading, false, 0, 28800),
	OF(length_cm, false, 0, 4095),
	OF(width_cm, false, 0, 1023),
	OF(confidence, false, 0, 100),
};

#define NDESC(t) (sizeof(t) / sizeof((t)[0]))

/*
 * Values just outside f's range and at the ends of its C type, as the raw
 * octets set_field() stores (a uint64 field's 2^63 and 2^64-1 included).
 * Returns how many.
 */
static size_t bad_values(const struct fdesc *f, uint64_t *out)
{
	size_t n = 0;

	if (f->size == 8) {
		/* Only ts_ns: 0..2^63-1 in a uint64. */
		out[n++] = (uint64_t)INT64_MAX + 1;
		out[n++] = UINT64_MAX;
		return n;
	}
	int64_t tmax = f->is_signed ? (int64_t)((1ull << (f->size * 8 - 1)) - 1)
				    : (int64_t)((1ull << (f->size * 8)) - 1);
	int64_t tmin = f->is_signed ? -tmax - 1 : 0;
	if (f->lo > tmin) {
		out[n++] = (uint64_t)(f->lo - 1);
		out[n++] = (uint64_t)tmin;
	}
	if (f->hi < tmax) {
		out[n++] = (uint64_t)(f->hi + 1);
		out[n++] = (uint64_t)tmax;
	}
	return n;
}

static void set_field(uint8_t *base, const struct fdesc *f, int64_t v)
{
	uint8_t *p = base + f->off;

	switch (f->size) {
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

/*
 * The edges of each msgpack integer form, both signs: a field takes
 * every one that lies in its range.
 */
static const int64_t width_edges[] = {
	0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536,
	(int64_t)UINT32_MAX, (int64_t)UINT32_MAX + 1, INT64_MAX,
	-1, -31, -32, -33, -127, -128, -129, -32767, -32768, -32769,
	INT32_MIN, (int64_t)INT32_MIN - 1,
};

#define NEDGES (sizeof(width_edges) / sizeof(width_edges[0]))

/* Every edge value in [f->lo, f->hi] plus the range's own ends. */
static size_t edges_of(const struct fdesc *f, int64_t *out)
{
	size_t n = 0;

	out[n++] = f->lo;
	out[n++] = f->hi;
	out[n++] = f->lo + 1;
	out[n++] = f->hi - 1;
	for (size_t i = 0; i < NEDGES; i++)
		if (width_edges[i] >= f->lo && width_edges[i] <= f->hi)
			out[n++] = width_edges[i];
	return n;
}

/* ---- bsm ---- */

static void test_bsm_random(void **state)
{
	struct gen_rng r = { 0xb5b5 };
	struct v2x_msg m;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		gen_bsm(&r, &m);
		check_same(&m, true);
	}
}

/* Every field at every edge, the others random; and just outside. */
static void test_bsm_field_edges(void **state)
{
	struct gen_rng r = { 0xed9e };
	struct v2x_msg m;
	int64_t vals[4 + NEDGES];
	uint64_t bad[4];
	size_t nbad, checked_bad = 0;

	(void)state;
	for (size_t k = 0; k < NDESC(bsm_desc); k++) {
		const struct fdesc *f = &bsm_desc[k];
		size_t n = edges_of(f, vals);

		for (size_t j = 0; j < n; j++) {
			for (int rep = 0; rep < 8; rep++) {
				gen_bsm(&r, &m);
				if (strcmp(f->name, "events") == 0)
					m.u.bsm.has_events = 1;
				set_field((uint8_t *)&m.u.bsm, f, vals[j]);
				check_same(&m, true);
			}
		}
		nbad = bad_values(f, bad);
		for (size_t j = 0; j < nbad; j++) {
			gen_bsm(&r, &m);
			m.u.bsm.has_events = 1;
			set_field((uint8_t *)&m.u.bsm, f, (int64_t)bad[j]);
			check_refused(&m, V2X_E_RANGE);
		}
		checked_bad += nbad;
	}
	/* Fields whose C type holds values outside the range: most. */
	assert_true(checked_bad >= 40);
}

/* Every value "unavailable" at once, and every field at its min / max. */
static void test_bsm_extremes(void **state)
{
	struct v2x_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = V2X_MSG_BSM;
	m.u.bsm.lat = V2X_LAT_UNAVAILABLE;
	m.u.bsm.lon = V2X_LON_UNAVAILABLE;
	m.u.bsm.elev = V2X_ELEV_UNAVAILABLE;
	m.u.bsm.speed = V2X_SPEED_UNAVAILABLE;
	m.u.bsm.heading = V2X_HEADING_UNAVAILABLE;
	m.u.bsm.angle = V2X_ANGLE_UNAVAILABLE;
	m.u.bsm.accel_long = V2X_ACCEL_UNAVAILABLE;
	m.u.bsm.accel_lat = V2X_ACCEL_UNAVAILABLE;
	m.u.bsm.accel_vert = V2X_VERT_ACCEL_UNAVAILABLE;
	m.u.bsm.yaw_rate = V2X_YAW_UNAVAILABLE;
	check_same(&m, true);

	for (int side = 0; side < 2; side++) {
		memset(&m, 0, sizeof(m));
		m.type = V2X_MSG_BSM;
		m.u.bsm.has_events = 1;
		for (size_t k = 0; k < NDESC(bsm_desc); k++)
			set_field((uint8_t *)&m.u.bsm, &bsm_desc[k],
				  side ? bsm_desc[k].hi : bsm_desc[k].lo);
		check_same(&m, true);
	}
}

/* Part II VehicleEventFlags: optional, any non-zero has_events counts. */
static void test_bsm_part2(void **state)
{
	static const uint16_t flags[] = {
		0, 1, V2X_EVENT_FLAG_HARD_BRAKING, 0x0fff, 8191,
	};
	struct gen_rng r = { 0x9a27 };
	struct v2x_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		gen_bsm(&r, &m);
		m.u.bsm.has_events = 1;
		m.u.bsm.events = flags[i];
		check_same(&m, true);
		/* Absent: events is not looked at, whatever it holds. */
		m.u.bsm.has_events = 0;
		m.u.bsm.events = 0xffff;
		int absent = check_same(&m, false);
		m.u.bsm.events = 0;
		assert_int_equal(check_same(&m, true), absent);
		/* Any non-zero presence byte means present. */
		m.u.bsm.has_events = 0x80;
		m.u.bsm.events = flags[i];
		assert_int_equal(check_same(&m, false),
				 absent + 7 + (flags[i] < 128	? 1
					       : flags[i] < 256 ? 2
								: 3));
	}
	gen_bsm(&r, &m);
	m.u.bsm.has_events = 1;
	m.u.bsm.events = 8192;
	check_refused(&m, V2X_E_RANGE);
	m.u.bsm.has_events = 0;
	check_same(&m, false);
}

/* A bsm with the widest form of every field. */
static void widest_bsm(struct v2x_msg *m)
{
	static const int64_t widest[] = {
		INT64_MAX, UINT32_MAX, 127, 65535, -900000000, 1800000001,
		-4096, 255, 255, 65535, 7, 8191, 28800, -126, -2000, -2000,
		-127, -32767, 31, 3, 3, 3, 2, 3, 1023, 4095, 8191,
	};

	assert_int_equal(NDESC(bsm_desc), sizeof(widest) / sizeof(widest[0]));
	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_BSM;
	m->u.bsm.has_events = 1;
	for (size_t k = 0; k < NDESC(bsm_desc); k++)
		set_field((uint8_t *)&m->u.bsm, &bsm_desc[k], widest[k]);
}

/* An objects frame of n objects, every value at its widest. */
static void widest_objects(struct v2x_msg *m, unsigned n)
{
	memset(m, 0, sizeof(*m));
	m->type = V2X_MSG_OBJECTS;
	m->u.objects.ts_ns = INT64_MAX;
	m->u.objects.sensor_id = UINT32_MAX;
	m->u.objects.n = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		struct v2x_object *x = &m->u.objects.obj[i];
		x->id = UINT32_MAX;
		x->cls = V2X_CLASS_PEDESTRIAN;
		x->lat = 900000001;
		x->lon = -1799999999;
		x->speed = 8191;
		x->heading = 28800;
		x->length_cm = 4095;
		x->width_cm = 1023;
		x->confidence = 100;
	}
}

/* The declared maximum is reached, by the widest form of every field. */
static void test_bsm_max(void **state)
{
	struct v2x_msg m;

	(void)state;
	widest_bsm(&m);
	assert_int_equal(check_same(&m, true), (int)msgpack__bsm_max());
	/* The broker's publish slot holds the largest frame. */
	assert_true(msgpack__bsm_max() <= 464);
}

/* ---- objects ---- */

static void test_objects_random(void **state)
{
	struct gen_rng r = { 0x0b1e };
	struct v2x_msg m;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		unsigned max = i % 3 == 0 ? V2X_OBJECTS_MAX : i % 3 == 1 ? 20 : 1;
		gen_objects(&r, &m, max);
		check_same(&m, true);
	}
	/* One-object frames: the broker's and the simulator's common case. */
	for (int i = 0; i < 20000; i++) {
		gen_objects(&r, &m, 1);
		m.u.objects.n = 1;
		check_same(&m, true);
	}
}

/* Every count 0..128 (fixarray up to 15, array16 from 16), every class. */
static void test_objects_counts_classes(void **state)
{
	struct gen_rng r = { 0xc1a5 };
	struct v2x_msg m;

	(void)state;
	for (unsigned n = 0; n <= V2X_OBJECTS_MAX; n++) {
		gen_objects(&r, &m, V2X_OBJECTS_MAX);
		m.u.objects.n = (uint16_t)n;
		for (unsigned i = 0; i < n; i++) {
			m.u.objects.obj[i].cls = (uint8_t)(i % (V2X_CLASS_MAX + 1));
			m.u.objects.obj[i].lat = gen_lat(&r);
			m.u.objects.obj[i].lon = gen_lon(&r);
		}
		check_same(&m, true);
	}
	/* Each class alone, so a wrong pre-encoded name shows by itself. */
	for (int cls = 0; cls <= V2X_CLASS_MAX; cls++) {
		gen_objects(&r, &m, 1);
		m.u.objects.n = 1;
		m.u.objects.obj[0].cls = (uint8_t)cls;
		check_same(&m, true);
	}
}

static void test_objects_field_edges(void **state)
{
	struct gen_rng r = { 0x0ed9 };
	struct v2x_msg m;
	int64_t vals[4 + NEDGES];
	uint64_t bad[4];
	size_t nbad;

	(void)state;
	for (size_t k = 0; k < NDESC(object_desc); k++) {
		const struct fdesc *f = &object_desc[k];
		size_t n = edges_of(f, vals);

		for (size_t j = 0; j < n; j++) {
			gen_objects(&r, &m, 3);
			m.u.objects.n = 3;
			set_field((uint8_t *)&m.u.objects.obj[1], f, vals[j]);
			check_same(&m, true);
		}
		nbad = bad_values(f, bad);
		for (size_t j = 0; j < nbad; j++) {
			/* Out of range in the first, a middle, the last. */
			for (unsigned at = 0; at < 40; at += 13) {
				gen_objects(&r, &m, 40);
				m.u.objects.n = 40;
				set_field((uint8_t *)&m.u.objects.obj[at], f,
					  (int64_t)bad[j]);
				check_refused(&m, V2X_E_RANGE);
			}
		}
	}
	/* The frame's own fields. */
	gen_objects(&r, &m, 4);
	m.u.objects.ts_ns = INT64_MAX;
	m.u.objects.sensor_id = UINT32_MAX;
	check_same(&m, true);
	m.u.objects.ts_ns = (uint64_t)INT64_MAX + 1;
	check_refused(&m, V2X_E_RANGE);
	m.u.objects.ts_ns = UINT64_MAX;
	check_refused(&m, V2X_E_RANGE);
	m.u.objects.ts_ns = 0;
	m.u.objects.n = V2X_OBJECTS_MAX + 1;
	check_refused(&m, V2X_E_RANGE);
	m.u.objects.n = UINT16_MAX;
	check_refused(&m, V2X_E_RANGE);
}

/* The declared maxima are reached: every object at its widest. */
static void test_objects_max(void **state)
{
	static const unsigned counts[] = { 0, 1, 2, 15, 16, 17, V2X_OBJECTS_MAX };
	struct v2x_msg m;

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		widest_objects(&m, counts[c]);
		assert_int_equal(check_same(&m, true),
				 (int)msgpack__objects_max(counts[c]));
	}
}

/* ---- other types: the generic encoder only ---- */

static void test_other_types(void **state)
{
	struct gen_rng r = { 0x07e5 };
	static uint8_t a[BUF], b[BUF];
	struct v2x_msg m;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		if (i & 1)
			gen_spat(&r, &m);
		else
			gen_event(&r, &m);
		assert_int_equal(msgpack__encode_fast(&m, a, sizeof(a)),
				 MSGPACK__DECLINED);
		int n = msgpack__encode_generic(&m, a, sizeof(a));
		assert_true(n > 0);
		assert_int_equal(v2x_msgpack_encode(&m, b, sizeof(b)), n);
		assert_memory_equal(a, b, (size_t)n);
	}
	/* A NaN confidence is refused the same way by both. */
	gen_event(&r, &m);
	m.u.event.confidence = NAN;
	check_refused(&m, V2X_E_RANGE);
	memset(&m, 0, sizeof(m));
	m.type = V2X_MSG_NONE;
	check_refused(&m, V2X_E_UNKNOWN_MSG);
	m.type = 99;
	check_refused(&m, V2X_E_UNKNOWN_MSG);
}

/* ---- small buffers ---- */

/*
 * Encodes msg into a heap buffer of exactly cap octets (ASan reports any
 * write past it) with the direct writer and with the public encoder.
 */
static void check_cap(const struct v2x_msg *msg, const uint8_t *frame,
		      int len, size_t cap)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	int rc;

	assert_non_null(buf);
	rc = msgpack__encode_fast(msg, buf, cap);
	assert_true(rc == MSGPACK__DECLINED || rc == len);
	if (rc == len)
		assert_memory_equal(buf, frame, (size_t)len);
	rc = v2x_msgpack_encode(msg, buf, cap);
	if (cap < (size_t)len) {
		assert_int_equal(rc, V2X_E_NOSPACE);
	} else {
		assert_int_equal(rc, len);
		assert_memory_equal(buf, frame, (size_t)len);
	}
	free(buf);
}

static void test_small_buffers(void **state)
{
	struct gen_rng r = { 0x5a11 };
	static uint8_t frame[BUF];
	struct v2x_msg m;

	(void)state;
	for (int k = 0; k < 60; k++) {
		gen_bsm(&r, &m);
		int len = v2x_msgpack_encode(&m, frame, sizeof(frame));
		assert_true(len > 0);
		for (size_t cap = 0; cap <= msgpack__bsm_max() + 1; cap++)
			check_cap(&m, frame, len, cap);
	}
	for (int k = 0; k < 60; k++) {
		gen_objects(&r, &m, k < 40 ? 3 : 40);
		int len = v2x_msgpack_encode(&m, frame, sizeof(frame));
		assert_true(len > 0);
		size_t top = msgpack__objects_max(m.u.objects.n) + 1;
		for (size_t cap = 0; cap <= top; cap++)
			check_cap(&m, frame, len, cap);
	}
	/* An invalid message in a small buffer: the generic verdict. */
	gen_bsm(&r, &m);
	m.u.bsm.speed = 8192;
	for (size_t cap = 0; cap < 300; cap++) {
		uint8_t *buf = malloc(cap ? cap : 1);
		int want = msgpack__encode_generic(&m, buf, cap);
		assert_true(want == V2X_E_NOSPACE || want == V2X_E_RANGE);
		assert_int_equal(v2x_msgpack_encode(&m, buf, cap), want);
		free(buf);
	}
}

/* The frame's last octet right before a PROT_NONE page. */
static void test_guard_page(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t area_len = (size_t)pg * 5;
	uint8_t *area = mmap(NULL, area_len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *guard = area + pg * 4;
	struct gen_rng r = { 0x9a9e };
	static uint8_t frame[BUF];
	struct v2x_msg m;

	(void)state;
	assert_true(area != MAP_FAILED);
	assert_int_equal(mprotect(guard, (size_t)pg, PROT_NONE), 0);
	for (int k = 0; k < 206; k++) {
		/* The widest frames end exactly at the writers' room. */
		if (k >= 200)
			widest_objects(&m, (unsigned)(k - 200) * 5);
		else if (k == 199)
			widest_bsm(&m);
		else if (k & 1)
			gen_bsm(&r, &m);
		else
			gen_objects(&r, &m, k % 10 ? 2 : 30);
		int len = v2x_msgpack_encode(&m, frame, sizeof(frame));
		assert_true(len > 0 && len <= pg * 4);
		/* Exactly the frame, one octet short, and the writer's room. */
		size_t room = m.type == V2X_MSG_BSM
				      ? msgpack__bsm_max()
				      : msgpack__objects_max(m.u.objects.n);
		size_t caps[3] = { (size_t)len, (size_t)len - 1, room };
		for (int c = 0; c < 3; c++) {
			uint8_t *p = guard - caps[c];
			int rc = v2x_msgpack_encode(&m, p, caps[c]);
			if (caps[c] < (size_t)len) {
				assert_int_equal(rc, V2X_E_NOSPACE);
				continue;
			}
			assert_int_equal(rc, len);
			assert_memory_equal(p, frame, (size_t)len);
			rc = msgpack__encode_fast(&m, p, caps[c]);
			if (caps[c] == room)
				assert_int_equal(rc, len);
		}
	}
	munmap(area, area_len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bsm_random),
		cmocka_unit_test(test_bsm_field_edges),
		cmocka_unit_test(test_bsm_extremes),
		cmocka_unit_test(test_bsm_part2),
		cmocka_unit_test(test_bsm_max),
		cmocka_unit_test(test_objects_random),
		cmocka_unit_test(test_objects_counts_classes),
		cmocka_unit_test(test_objects_field_edges),
		cmocka_unit_test(test_objects_max),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_guard_page),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
