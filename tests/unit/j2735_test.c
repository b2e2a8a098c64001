/* SPDX-License-Identifier: MIT */
/*
 * j2735_test.c - J2735 MessageFrame codec: hand-worked known-answer vectors,
 * seeded random round trips (fast path and full model, BSM/SPaT/PSM and
 * opaque content), every truncation (also against a PROT_NONE guard page),
 * random bit flips, out-of-range values, limits and huge lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "../interop/j2735_gen.h"
#include "v2x/error.h"
#include "v2x/j2735.h"

static struct v2x_j2735_msg msg_a, msg_b;
static char json_a[1 << 18], json_b[1 << 18];


/* Field-by-field comparison (struct padding is not part of the value). */
static void assert_bsm_equal(const struct v2x_bsm *a, const struct v2x_bsm *b)
{
#define EQ(f) assert_int_equal(a->f, b->f)
	EQ(ts_ns); EQ(id); EQ(msg_cnt); EQ(sec_mark); EQ(lat); EQ(lon);
	EQ(elev); EQ(acc_semi_major); EQ(acc_semi_minor); EQ(acc_orient);
	EQ(transmission); EQ(speed); EQ(heading); EQ(angle); EQ(accel_long);
	EQ(accel_lat); EQ(accel_vert); EQ(yaw_rate); EQ(wheel_brakes);
	EQ(traction); EQ(abs); EQ(scs); EQ(brake_boost); EQ(aux_brakes);
	EQ(width_cm); EQ(length_cm); EQ(events); EQ(has_events);
#undef EQ
}

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned x;

	while (*h && sscanf(h, "%2x", &x) == 1) {
		out[n++] = (uint8_t)x;
		h += 2;
	}
	return n;
}

/*
 * BSM known answer, worked out field by field from the published structure
 * (MessageFrame, BasicSafetyMessage, BSMcoreData; widths are those of the
 * constrained whole numbers, X.691 11.5.7.1):
 * bits   0..  0 MessageFrame extension bit 0
 * bits   1.. 15 messageId 20 in 0..32767 (15 bits)
 * bits  16.. 23 open type length: 37 octets (0x25)
 * bits  24.. 24 BSM extension bit 0
 * bits  25.. 25 partII absent
 * bits  26.. 26 regional absent
 * bits  27.. 33 msgCnt 1 (0..127, 7 bits)
 * bits  34.. 65 id 01020304 (OCTET STRING SIZE(4), 32 bits)
 * bits  66.. 81 secMark 60000 (0..65535, 16 bits)
 * bits  82..112 lat 0: offset 900000000 from -900000000 (31 bits)
 * bits 113..144 long -1: offset 1799999998 from -1799999999 (32 bits)
 * bits 145..160 elev -4096 (unavailable): offset 0 (16 bits)
 * bits 161..168 semiMajor 255 (8 bits)
 * bits 169..176 semiMinor 0 (8 bits)
 * bits 177..192 orientation 65535 (16 bits)
 * bits 193..195 transmission reverseGears = index 3 of 8 (3 bits)
 * bits 196..208 speed 8191 (13 bits)
 * bits 209..223 heading 28800 (15 bits)
 * bits 224..231 angle 127: offset 253 from -126 (8 bits)
 * bits 232..243 accelSet.long 2001: offset 4001 from -2000 (12 bits)
 * bits 244..255 accelSet.lat -2000: offset 0 (12 bits)
 * bits 256..263 accelSet.vert 0: offset 127 from -127 (8 bits)
 * bits 264..279 accelSet.yaw 1: offset 32768 from -32767 (16 bits)
 * bits 280..284 wheelBrakes leftFront, rightRear = 01001 (SIZE(5))
 * bits 285..286 traction engaged = 3 (2 bits)
 * bits 287..288 abs on = 2 (2 bits)
 * bits 289..290 scs off = 1 (2 bits)
 * bits 291..292 brakeBoost on = 2 (3 values, 2 bits)
 * bits 293..294 auxBrakes reserved = 3 (2 bits)
 * bits 295..304 size.width 1023 (10 bits)
 * bits 305..316 size.length 1 (12 bits)
 * 3 zero pad bits: 37 octets of BSM, 40 in all.
 */
static const char kat_bsm[] =
	"00142500404080c13a981ad2748035a4e8ff00007f807fffbffff080fdfa10007f80004f37ff8008";

/*
 * SPaT known answer:
 * bits   0..  0 MessageFrame extension bit
 * bits   1.. 15 messageId 19 (15 bits)
 * bits  16.. 23 open type length 23
 * then the open type contents (bit numbers from its start):
 * bits   0..  0 SPAT extension bit
 * bits   1..  3 timeStamp present, name absent, regional absent
 * bits   4.. 23 timeStamp 527040 (0..527040, 20 bits)
 * bits  24.. 28 intersections count 1: 0 in SIZE(1..32) (5 bits)
 * bits  29.. 29 IntersectionState extension bit
 * bits  30.. 35 name, moy absent; timeStamp present; enabledLanes,
 *               maneuverAssistList, regional absent
 * bits  36.. 36 id.region absent
 * bits  37.. 52 id.id 1234 (16 bits)
 * bits  53.. 59 revision 3 (7 bits)
 * bits  60.. 75 status BIT STRING (SIZE(16)) 8001
 * bits  76.. 91 timeStamp 5000 (16 bits)
 * bits  92.. 99 states count 1: 0 in SIZE(1..255) (8 bits)
 * bits 100..100 MovementState extension bit
 * bits 101..103 movementName, maneuverAssistList, regional absent
 * bits 104..111 signalGroup 2 (8 bits)
 * bits 112..115 state-time-speed count 1: 0 in SIZE(1..16) (4 bits)
 * bits 116..116 MovementEvent extension bit
 * bits 117..119 timing present, speeds, regional absent
 * bits 120..123 eventState protected-Movement-Allowed = 6 of 10 (4 bits)
 * bits 124..128 TimeChangeDetails (no extension marker): startTime absent,
 *               maxEndTime, likelyTime present, confidence, nextTime absent
 * bits 129..144 minEndTime 100 (0..36001, 16 bits)
 * bits 145..160 maxEndTime 200
 * bits 161..176 likelyTime 150
 * 7 zero pad bits
 */
static const char kat_spat[] =
	"001317480ac00080269038001138800002046600320064004b00";

/*
 * PSM known answer (messageId 32, open type length 28):
 * bits   0..  0 PSM extension bit
 * bits   1.. 18 18 optional bits: propulsion (4th), useState (5th),
 *               crossRequest (6th) present: 000111000000000000
 * bits  19.. 19 basicType: extension bit 0
 * bits  20.. 22 basicType aPEDESTRIAN = 1 of 5 root values (3 bits)
 * bits  23.. 38 secMark 1000 (16 bits)
 * bits  39.. 45 msgCnt 2 (7 bits)
 * bits  46.. 77 id 0A0B0C0D (32 bits)
 * bits  78.. 80 Position3D extension bit 0, elevation, regional absent
 * bits  81..111 position.lat 1: offset 900000001 (31 bits)
 * bits 112..143 position.long 2: offset 1800000001 (32 bits)
 * bits 144..151 accuracy semiMajor 10 (8 bits)
 * bits 152..159 accuracy semiMinor 20 (8 bits)
 * bits 160..175 accuracy orientation 300 (16 bits)
 * bits 176..188 speed Velocity 50 (0..8191, 13 bits)
 * bits 189..203 heading 100 (15 bits)
 * bits 204..204 propulsion CHOICE: extension bit 0
 * bits 205..206 propulsion alternative human = 0 of 3 (2 bits)
 * bits 207..207 HumanPropelledType: extension bit 0
 * bits 208..210 onFoot = 2 of 7 root values (3 bits)
 * bits 211..211 useState: size extension bit 0
 * bits 212..220 useState SIZE(9): idle (bit 2), typing (bit 4) = 001010000
 * bits 221..221 crossRequest TRUE
 * 2 zero pad bits
 */
static const char kat_psm[] =
	"00201c0e000207d008282c303435a4e9016b49d2010a14012c019006404284";

static const char kat_psm_json[] =
	"{\"messageId\":32,\"value\":{\"basicType\":\"aPEDESTRIAN\","
	"\"secMark\":1000,\"msgCnt\":2,\"id\":\"0A0B0C0D\",\"position\":"
	"{\"lat\":1,\"long\":2},\"accuracy\":{\"semiMajor\":10,"
	"\"semiMinor\":20,\"orientation\":300},\"speed\":50,\"heading\":100,"
	"\"propulsion\":{\"human\":\"onFoot\"},\"useState\":{\"value\":"
	"\"2800\",\"length\":9},\"crossRequest\":true}}";

static void test_kat_psm(void **state)
{
	uint8_t in[64], out[64];
	char text[1024];
	size_t n = unhex(kat_psm, in);

	(void)state;
	assert_int_equal(n, 31);
	assert_int_equal(v2x_j2735_decode(in, n, &msg_a), 31);
	assert_int_equal(msg_a.message_id, 32);
	assert_true(v2x_j2735_to_json(&msg_a, text, sizeof(text)) > 0);
	assert_string_equal(text, kat_psm_json);
	assert_int_equal(v2x_j2735_from_json(kat_psm_json, strlen(kat_psm_json),
					     &msg_b), 0);
	assert_int_equal(v2x_j2735_encode(&msg_b, out, sizeof(out)), 31);
	assert_memory_equal(out, in, 31);
}

static void test_kat_bsm(void **state)
{
	uint8_t in[64], out[300];
	struct v2x_bsm b, c;
	size_t n = unhex(kat_bsm, in);
	int ret;

	(void)state;
	assert_int_equal(n, 40);
	assert_int_equal(v2x_uper_decode_bsm(in, n, &b), 40);
	assert_int_equal(b.msg_cnt, 1);
	assert_int_equal(b.id, 0x01020304);
	assert_int_equal(b.sec_mark, 60000);
	assert_int_equal(b.lat, 0);
	assert_int_equal(b.lon, -1);
	assert_int_equal(b.elev, -4096);
	assert_int_equal(b.acc_semi_major, 255);
	assert_int_equal(b.acc_semi_minor, 0);
	assert_int_equal(b.acc_orient, 65535);
	assert_int_equal(b.transmission, 3);
	assert_int_equal(b.speed, 8191);
	assert_int_equal(b.heading, 28800);
	assert_int_equal(b.angle, 127);
	assert_int_equal(b.accel_long, 2001);
	assert_int_equal(b.accel_lat, -2000);
	assert_int_equal(b.accel_vert, 0);
	assert_int_equal(b.yaw_rate, 1);
	/* bit 0 = first named bit (unavailable): leftFront=1, rightRear=4 */
	assert_int_equal(b.wheel_brakes, (1 << 1) | (1 << 4));
	assert_int_equal(b.traction, 3);
	assert_int_equal(b.abs, 2);
	assert_int_equal(b.scs, 1);
	assert_int_equal(b.brake_boost, 2);
	assert_int_equal(b.aux_brakes, 3);
	assert_int_equal(b.width_cm, 1023);
	assert_int_equal(b.length_cm, 1);
	assert_int_equal(b.has_events, 0);

	ret = v2x_uper_encode_bsm(&b, out, sizeof(out));
	assert_int_equal(ret, 40);
	assert_memory_equal(out, in, 40);

	assert_int_equal(v2x_j2735_decode(in, n, &msg_a), 40);
	assert_int_equal(msg_a.message_id, 20);
	assert_int_equal(v2x_j2735_to_bsm(&msg_a, &c), 0);
	assert_bsm_equal(&b, &c);
	assert_int_equal(v2x_j2735_encode(&msg_a, out, sizeof(out)), 40);
	assert_memory_equal(out, in, 40);
}

/*
 * BSM with Part II: the fast encoder's VehicleSafetyExtensions carrying
 * eventHardBraking (bit 7).  After the 290 core bits: partII count 1 in
 * SIZE(1..8) (3 bits 000), partII-Id 0 (6 bits), open length 3 (8 bits),
 * then VSE: ext 0, events present, pathHistory/pathPrediction/lights absent
 * (10000), VehicleEventFlags ext 0, 13 bits with bit 7 set
 * (0000000100000), 5 pad bits.  The BSM is 334 bits: 42 octets.
 */
static void test_kat_bsm_events(void **state)
{
	uint8_t in[64], out[300];
	struct v2x_bsm b, c;
	size_t n = unhex(kat_bsm, in);
	size_t core_end;

	(void)state;
	assert_int_equal(v2x_uper_decode_bsm(in, n, &b), 40);
	b.has_events = 1;
	b.events = V2X_EVENT_FLAG_HARD_BRAKING;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), 45);
	assert_int_equal(out[2], 42);
	/* Preamble now says partII present: bits 24..26 = 010. */
	assert_int_equal(out[3] >> 5, 2);
	/* The Part II bits start at bit 24 + 3 + 290 = 317. */
	core_end = 317;
	{
		uint64_t v = 0;

		for (size_t i = 0; i < 41; i++) {
			size_t bit = core_end + i;

			v = v << 1 | ((out[bit / 8] >> (7 - bit % 8)) & 1);
		}
		/*
		 * count 000 | id 000000 | length 00000011 | VSE ext 0,
		 * optionals 1000 | BIT STRING ext 0 | 0000000100000 | pad 00000
		 */
		assert_int_equal(v, 0x3400400);
	}
	assert_int_equal(v2x_uper_decode_bsm(out, 45, &c), 45);
	assert_bsm_equal(&b, &c);
	assert_int_equal(v2x_j2735_decode(out, 45, &msg_a), 45);
	assert_int_equal(v2x_j2735_to_bsm(&msg_a, &c), 0);
	assert_bsm_equal(&b, &c);
}

static void test_kat_spat(void **state)
{
	uint8_t in[64], out[300];
	struct v2x_spat s;
	size_t n = unhex(kat_spat, in);

	(void)state;
	assert_int_equal(n, 26);
	assert_int_equal(v2x_j2735_decode(in, n, &msg_a), 26);
	assert_int_equal(msg_a.message_id, 19);
	assert_int_equal(v2x_j2735_to_spat(&msg_a, 0, &s), 0);
	assert_int_equal(s.intersection_id, 1234);
	assert_int_equal(s.region, 0);
	assert_int_equal(s.revision, 3);
	/* Wire 8001: first and last bits; bit i = i-th bit of the string. */
	assert_int_equal(s.status, 1u | 1u << 15);
	assert_int_equal(s.moy, 527040);
	assert_int_equal(s.time_stamp, 5000);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.mv[0].signal_group, 2);
	assert_int_equal(s.mv[0].state, V2X_PHASE_PROTECTED_GREEN);
	assert_int_equal(s.mv[0].min_end, 100);
	assert_int_equal(s.mv[0].max_end, 200);
	assert_int_equal(s.mv[0].likely, 150);
	assert_int_equal(v2x_j2735_to_spat(&msg_a, 1, &s), V2X_E_RANGE);
	assert_int_equal(v2x_j2735_encode(&msg_a, out, sizeof(out)), 26);
	assert_memory_equal(out, in, 26);
	assert_int_equal(v2x_uper_decode_bsm(in, n, &(struct v2x_bsm){ 0 }),
			 V2X_E_UNKNOWN_MSG);
}

static void random_bsm(struct gen_rng *r, struct v2x_bsm *b)
{
	memset(b, 0, sizeof(*b));
	b->msg_cnt = (uint8_t)gen_range(r, 0, 127);
	b->id = (uint32_t)gen_next(r);
	b->sec_mark = (uint16_t)gen_range(r, 0, 65535);
	b->lat = (int32_t)gen_range(r, -900000000, 900000001);
	b->lon = (int32_t)gen_range(r, -1799999999, 1800000001);
	b->elev = (int32_t)gen_range(r, -4096, 61439);
	b->acc_semi_major = (uint8_t)gen_range(r, 0, 255);
	b->acc_semi_minor = (uint8_t)gen_range(r, 0, 255);
	b->acc_orient = (uint16_t)gen_range(r, 0, 65535);
	b->transmission = (uint8_t)gen_range(r, 0, 7);
	b->speed = (uint16_t)gen_range(r, 0, 8191);
	b->heading = (uint16_t)gen_range(r, 0, 28800);
	b->angle = (int8_t)gen_range(r, -126, 127);
	b->accel_long = (int16_t)gen_range(r, -2000, 2001);
	b->accel_lat = (int16_t)gen_range(r, -2000, 2001);
	b->accel_vert = (int8_t)gen_range(r, -127, 127);
	b->yaw_rate = (int16_t)gen_range(r, -32767, 32767);
	b->wheel_brakes = (uint8_t)gen_range(r, 0, 31);
	b->traction = (uint8_t)gen_range(r, 0, 3);
	b->abs = (uint8_t)gen_range(r, 0, 3);
	b->scs = (uint8_t)gen_range(r, 0, 3);
	b->brake_boost = (uint8_t)gen_range(r, 0, 2);
	b->aux_brakes = (uint8_t)gen_range(r, 0, 3);
	b->width_cm = (uint16_t)gen_range(r, 0, 1023);
	b->length_cm = (uint16_t)gen_range(r, 0, 4095);
	b->has_events = (uint8_t)gen_chance(r, 50);
	if (b->has_events)
		b->events = (uint16_t)gen_range(r, 0, 0x1fff);
}

static void test_random_bsm_fast(void **state)
{
	struct gen_rng r = { 1, 0 };
	uint8_t out[300], out2[300];
	struct v2x_bsm b, c;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		int n;

		random_bsm(&r, &b);
		n = v2x_uper_encode_bsm(&b, out, sizeof(out));
		assert_int_equal(n, b.has_events ? 45 : 40);
		assert_int_equal(v2x_uper_decode_bsm(out, (size_t)n, &c), n);
		assert_bsm_equal(&b, &c);
		/* The full model agrees with the fast path, both ways. */
		assert_int_equal(v2x_j2735_decode(out, (size_t)n, &msg_a), n);
		assert_int_equal(v2x_j2735_to_bsm(&msg_a, &c), 0);
		assert_bsm_equal(&b, &c);
		assert_int_equal(v2x_j2735_encode(&msg_a, out2, sizeof(out2)), n);
		assert_memory_equal(out, out2, (size_t)n);
	}
}

/* encode -> decode -> encode and JSON agree for a generated message. */
static void check_roundtrip(struct v2x_j2735_msg *m, uint8_t *buf, size_t cap)
{
	static uint8_t again[1 << 16];
	int n, n2;

	n = v2x_j2735_encode(m, buf, cap);
	if (n < 0)
		fail_msg("encode: %s", v2x_strerror(n));
	n2 = v2x_j2735_decode(buf, (size_t)n, &msg_b);
	if (n2 != n)
		fail_msg("decode: %d %s", n2, v2x_strerror(n2));
	assert_int_equal(msg_b.message_id, m->message_id);
	assert_int_equal(v2x_j2735_encode(&msg_b, again, sizeof(again)), n);
	assert_memory_equal(buf, again, (size_t)n);
	assert_true(v2x_j2735_to_json(m, json_a, sizeof(json_a)) > 0);
	assert_true(v2x_j2735_to_json(&msg_b, json_b, sizeof(json_b)) > 0);
	assert_string_equal(json_a, json_b);
}

static void test_random_full(void **state)
{
	static const int ids[] = { 20, 19, 32, 18, 0, 32767 };
	static uint8_t buf[1 << 16];

	(void)state;
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		for (int opaque = 0; opaque < 2; opaque++) {
			struct gen_rng r = { 1000 * k + (uint64_t)opaque, opaque };

			for (int i = 0; i < 1500; i++) {
				gen_message(&msg_a, &r, ids[k]);
				check_roundtrip(&msg_a, buf, sizeof(buf));
			}
		}
	}
}

/* Decode input placed right before a PROT_NONE page: over-reads crash. */
static void test_truncations_guard_page(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map, *full = malloc(1 << 16);
	struct gen_rng r = { 77, 1 };
	struct v2x_bsm b;

	(void)state;
	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (int i = 0; i < 300; i++) {
		static const int ids[] = { 20, 19, 32, 18 };
		int n;

		gen_message(&msg_a, &r, ids[i % 4]);
		n = v2x_j2735_encode(&msg_a, full, 1 << 16);
		assert_true(n > 0);
		if (n > page)
			continue;
		for (int len = 0; len <= n; len++) {
			uint8_t *p = map + page - len;
			int ret;

			memcpy(p, full, (size_t)len);
			ret = v2x_j2735_decode(p, (size_t)len, &msg_b);
			if (len < n)
				assert_true(ret < 0);
			else
				assert_int_equal(ret, n);
			ret = v2x_uper_decode_bsm(p, (size_t)len, &b);
			if (len < n)
				assert_true(ret < 0);
		}
	}
	munmap(map, (size_t)page * 2);
	free(full);
}

/* Random bit flips: never a crash; what decodes re-encodes identically. */
static void test_bit_flips(void **state)
{
	static uint8_t full[1 << 16], out[1 << 16];
	struct gen_rng r = { 4242, 1 };
	struct v2x_bsm b;
	int ok = 0, bad = 0;

	(void)state;
	for (int i = 0; i < 4000; i++) {
		static const int ids[] = { 20, 19, 32, 18 };
		int n, ret, flips = 1 + (int)(gen_next(&r) % 3);

		gen_message(&msg_a, &r, ids[i % 4]);
		n = v2x_j2735_encode(&msg_a, full, sizeof(full));
		assert_true(n > 0);
		for (int f = 0; f < flips; f++) {
			size_t bit = gen_next(&r) % ((size_t)n * 8);

			full[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		}
		ret = v2x_j2735_decode(full, (size_t)n, &msg_b);
		(void)v2x_uper_decode_bsm(full, (size_t)n, &b);
		if (ret < 0) {
			bad++;
			continue;
		}
		ok++;
		assert_true(ret <= n);
		assert_int_equal(v2x_j2735_encode(&msg_b, out, sizeof(out)), ret);
		assert_memory_equal(out, full, (size_t)ret);
		assert_true(v2x_j2735_to_json(&msg_b, json_a, sizeof(json_a)) > 0);
	}
	assert_true(ok > 0);
	assert_true(bad > 0);
}

static void test_out_of_range_encode(void **state)
{
	struct gen_rng r = { 5, 0 };
	uint8_t out[300];
	struct v2x_bsm b;

	(void)state;
	random_bsm(&r, &b);
	b.lat = 900000002;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), V2X_E_RANGE);
	random_bsm(&r, &b);
	b.heading = 28801;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), V2X_E_RANGE);
	random_bsm(&r, &b);
	b.angle = -127;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), V2X_E_RANGE);
	random_bsm(&r, &b);
	b.msg_cnt = 128;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), V2X_E_RANGE);
	random_bsm(&r, &b);
	b.brake_boost = 3;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), V2X_E_RANGE);
	random_bsm(&r, &b);
	b.events = 0x2000;
	assert_int_equal(v2x_uper_encode_bsm(&b, out, sizeof(out)), V2X_E_RANGE);
	random_bsm(&r, &b);
	assert_int_equal(v2x_uper_encode_bsm(&b, out, 39), V2X_E_NOSPACE);

	/* Full model: an INTEGER node outside its range. */
	gen_message(&msg_a, &r, 20);
	for (uint32_t i = 0; i < msg_a.n_nodes; i++) {
		if (msg_a.node[i].type &&
		    !strcmp(msg_a.node[i].type->name, "Heading")) {
			msg_a.node[i].val = 28801;
			break;
		}
	}
	assert_int_equal(v2x_j2735_encode(&msg_a, out, sizeof(out)), V2X_E_RANGE);

	/* Decoding values beyond the range: heading 28801 in 15 bits. */
	{
		uint8_t in[64];
		size_t n = unhex(kat_bsm, in);
		/* heading occupies bits 209..223 of the frame (15 bits). */
		unsigned v = 28801;

		for (int k = 0; k < 15; k++) {
			size_t bit = 209 + (size_t)k;

			in[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
			if ((v >> (14 - k)) & 1)
				in[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		}
		assert_int_equal(v2x_uper_decode_bsm(in, n, &b), V2X_E_RANGE);
		assert_int_equal(v2x_j2735_decode(in, n, &msg_a), V2X_E_RANGE);
	}
}

static void test_unknown_message_opaque(void **state)
{
	/* messageId 18 (MapData), value 3 opaque octets. */
	static const uint8_t in[] = { 0x00, 0x12, 0x03, 0xaa, 0xbb, 0xcc };
	uint8_t out[16];
	struct v2x_bsm b;

	(void)state;
	assert_int_equal(v2x_j2735_decode(in, sizeof(in), &msg_a), 6);
	assert_int_equal(msg_a.message_id, 18);
	assert_int_equal(v2x_j2735_to_bsm(&msg_a, &b), V2X_E_UNKNOWN_MSG);
	assert_int_equal(v2x_uper_decode_bsm(in, sizeof(in), &b),
			 V2X_E_UNKNOWN_MSG);
	assert_int_equal(v2x_j2735_encode(&msg_a, out, sizeof(out)), 6);
	assert_memory_equal(out, in, 6);
	assert_true(v2x_j2735_to_json(&msg_a, json_a, sizeof(json_a)) > 0);
	assert_string_equal(json_a, "{\"messageId\":18,\"value\":\"AABBCC\"}");
}

/*
 * Opaque Part II kinds, regional extensions and extension additions: the
 * fast path skips them, the full model keeps them bit for bit.
 */
static void test_opaque_parts_lossless(void **state)
{
	static uint8_t buf[1 << 16], out[1 << 16];
	struct gen_rng r = { 99, 1 };
	int seen_ext = 0, seen_part = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct v2x_bsm fast, full;
		int n;

		gen_message(&msg_a, &r, 20);
		n = v2x_j2735_encode(&msg_a, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(v2x_j2735_decode(buf, (size_t)n, &msg_b), n);
		assert_int_equal(v2x_j2735_encode(&msg_b, out, sizeof(out)), n);
		assert_memory_equal(buf, out, (size_t)n);
		assert_int_equal(v2x_uper_decode_bsm(buf, (size_t)n, &fast), n);
		assert_int_equal(v2x_j2735_to_bsm(&msg_b, &full), 0);
		assert_bsm_equal(&fast, &full);
		for (uint32_t k = 0; k < msg_b.n_nodes; k++) {
			seen_ext += !!(msg_b.node[k].flags & V2X_J2735_F_EXT);
			seen_part += !!(msg_b.node[k].flags & V2X_J2735_F_OPAQUE);
		}
	}
	assert_true(seen_ext > 10);
	assert_true(seen_part > 10);
}

static void test_limits_and_lengths(void **state)
{
	uint8_t in[64];
	struct v2x_bsm b;

	(void)state;
	/*
	 * SPaT with 9 intersections (cap 8): ext 0, no optionals (000),
	 * count 9 -> 8 in 5 bits: 0000 0100 0 -> contents 0x04 0x00.
	 */
	{
		const uint8_t spat9[] = { 0x00, 0x13, 0x02, 0x04, 0x00 };

		assert_int_equal(v2x_j2735_decode(spat9, sizeof(spat9), &msg_a),
				 V2X_E_LIMIT);
	}
	/* A 64K fragment announced in a short input. */
	{
		const uint8_t frag[] = { 0x00, 0x12, 0xc4, 0x01, 0x02 };

		assert_int_equal(v2x_j2735_decode(frag, sizeof(frag), &msg_a),
				 V2X_E_TRUNCATED);
		assert_int_equal(v2x_uper_decode_bsm(frag, sizeof(frag), &b),
				 V2X_E_UNKNOWN_MSG);
	}
	/* Reserved fragment count 5, and 16383 announced. */
	{
		const uint8_t bad[] = { 0x00, 0x14, 0xc5, 0x00 };
		const uint8_t big[] = { 0x00, 0x14, 0xbf, 0xff, 0x00 };

		assert_int_equal(v2x_j2735_decode(bad, sizeof(bad), &msg_a),
				 V2X_E_INVALID);
		assert_int_equal(v2x_uper_decode_bsm(bad, sizeof(bad), &b),
				 V2X_E_INVALID);
		assert_int_equal(v2x_j2735_decode(big, sizeof(big), &msg_a),
				 V2X_E_TRUNCATED);
		assert_int_equal(v2x_uper_decode_bsm(big, sizeof(big), &b),
				 V2X_E_TRUNCATED);
	}
	/* A BSM whose open type carries an extra octet: not canonical. */
	{
		size_t n = unhex(kat_bsm, in);

		in[2] = 38;
		in[n] = 0;
		assert_int_equal(v2x_j2735_decode(in, n + 1, &msg_a),
				 V2X_E_INVALID);
	}
	(void)in;
}

/* A 40000-octet opaque value travels in fragments (64K is not reached). */
static void test_fragmented_open_type(void **state)
{
	static uint8_t buf[1 << 17], out[1 << 17];
	struct gen_rng r = { 3, 0 };
	int n;

	(void)state;
	gen_message(&msg_a, &r, 18);
	/* Replace the opaque value with 40000 octets. */
	msg_a.node[msg_a.node[0].child + 1].child = 0;
	msg_a.node[msg_a.node[0].child + 1].n = 32768;
	for (int i = 0; i < 32768; i++)
		msg_a.bytes[i] = (uint8_t)(i * 7);
	msg_a.n_bytes = 32768;
	n = v2x_j2735_encode(&msg_a, buf, sizeof(buf));
	/* 2 header octets, 0xc2 + 32768 octets, final length 0x00. */
	assert_int_equal(n, 2 + 1 + 32768 + 1);
	assert_int_equal(buf[2], 0xc2);
	assert_int_equal(buf[3 + 32768], 0x00);
	assert_int_equal(v2x_j2735_decode(buf, (size_t)n, &msg_b), n);
	assert_int_equal(msg_b.node[msg_b.node[0].child + 1].n, 32768);
	assert_int_equal(v2x_j2735_encode(&msg_b, out, sizeof(out)), n);
	assert_memory_equal(buf, out, (size_t)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_bsm),
		cmocka_unit_test(test_kat_bsm_events),
		cmocka_unit_test(test_kat_spat),
		cmocka_unit_test(test_kat_psm),
		cmocka_unit_test(test_random_bsm_fast),
		cmocka_unit_test(test_random_full),
		cmocka_unit_test(test_truncations_guard_page),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_out_of_range_encode),
		cmocka_unit_test(test_unknown_message_opaque),
		cmocka_unit_test(test_opaque_parts_lossless),
		cmocka_unit_test(test_limits_and_lengths),
		cmocka_unit_test(test_fragmented_open_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
