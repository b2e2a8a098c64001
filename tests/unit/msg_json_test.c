/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/msg_json_test.c - JSON for msgpack frames (codecs/msg_json.c):
 * the exact text of known messages, seeded round trips msg -> JSON -> msg
 * and msgpack -> JSON -> msgpack (byte-exact), the same checks as msgpack on
 * bad content, syntax errors, output buffer limits and a guard page.
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

#include "msg_gen.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

#define BUF 65536

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
	return 0;
}

static int from_json(const char *text, struct v2x_msg *out)
{
	return v2x_msg_from_json(text, strlen(text), out);
}

static void test_known_text(void **state)
{
	struct v2x_msg m, back;
	char out[BUF];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = V2X_MSG_EVENT;
	m.u.event = (struct v2x_event){
		.ts_ns = 1764300000123456789ull, .id = 42,
		.type = V2X_EVT_CONGESTION, .status = V2X_EVT_NEW,
		.severity = 4, .level = V2X_CONGESTION_MODERATE,
		.lat = 481370000, .lon = -1225000001, .lane = 3,
		.segment = -1, .start_ts_ns = 1764300000000000000ull,
		.last_ts_ns = 1764300000123456789ull, .confidence = 0.8f,
		.sources = V2X_SRC_V2X | V2X_SRC_SENSOR, .n_sensors = 2,
		.sensors = { 12, 4000000000u }, .n_tracks = 1, .tracks = { 7 },
	};
	static const char want[] =
		"{\"t\":\"event\",\"ts\":1764300000123456789,\"id\":42,"
		"\"type\":\"congestion\",\"status\":\"new\",\"severity\":4,"
		"\"lat\":48.137,\"lon\":-122.5000001,\"lane\":3,\"segment\":-1,"
		"\"start_ts\":1764300000000000000,"
		"\"last_ts\":1764300000123456789,\"confidence\":0.8,"
		"\"tracks\":[7],\"sources\":[\"v2x\",\"sensor:12\","
		"\"sensor:4000000000\"],\"level\":\"moderate\"}";
	assert_int_equal(v2x_msg_to_json(&m, out, sizeof(out)),
			 (int)strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(from_json(want, &back), 0);
	assert_true(msg_equal(&m, &back));

	memset(&m, 0, sizeof(m));
	m.type = V2X_MSG_SPAT;
	m.u.spat.ts_ns = 5;
	m.u.spat.intersection_id = 1;
	m.u.spat.moy = 100;
	static const char want_spat[] =
		"{\"t\":\"spat\",\"ts\":5,\"id\":1,\"region\":0,\"rev\":0,"
		"\"status\":0,\"moy\":100,\"dsec\":0,\"mv\":[]}";
	assert_int_equal(v2x_msg_to_json(&m, out, sizeof(out)),
			 (int)strlen(want_spat));
	assert_string_equal(out, want_spat);
}

static void test_roundtrips(void **state)
{
	struct gen_rng r = { 0x15 };
	struct v2x_msg m, back, again;
	static char text[BUF];
	static uint8_t mp1[BUF], mp2[BUF];

	(void)state;
	for (int i = 0; i < 4000; i++) {
		gen_any(&r, &m);
		/* msg -> JSON -> msg */
		int n = v2x_msg_to_json(&m, text, sizeof(text));
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(text));
		assert_int_equal(v2x_msg_from_json(text, (size_t)n, &back), 0);
		assert_true(msg_equal(&m, &back));
		/* msgpack -> JSON -> msgpack, byte for byte */
		int l1 = v2x_msgpack_encode(&m, mp1, sizeof(mp1));
		assert_true(l1 > 0);
		assert_int_equal(v2x_msgpack_decode(g_dec, mp1, (size_t)l1, &again),
				 l1);
		n = v2x_msg_to_json(&again, text, sizeof(text));
		assert_true(n > 0);
		assert_int_equal(v2x_msg_from_json(text, (size_t)n, &back), 0);
		int l2 = v2x_msgpack_encode(&back, mp2, sizeof(mp2));
		assert_int_equal(l1, l2);
		assert_memory_equal(mp1, mp2, (size_t)l1);
	}
}

static void test_content_errors(void **state)
{
	struct v2x_msg out;

	(void)state;
	static const char bsm_head[] =
		"{\"t\":\"bsm\",\"ts\":1,\"id\":2,\"cnt\":3,\"sec\":4,"
		"\"lat\":1.5,\"lon\":2.5,\"elev\":0,\"acc_maj\":0,\"acc_min\":0,"
		"\"acc_orient\":0,\"trans\":0,\"heading\":0,\"angle\":0,"
		"\"accel_long\":0,\"accel_lat\":0,\"accel_vert\":0,\"yaw\":0,"
		"\"brakes\":0,\"traction\":0,\"abs\":0,\"scs\":0,\"boost\":0,"
		"\"aux_brakes\":0,\"width\":0,\"length\":0";
	char text[2048];

	snprintf(text, sizeof(text), "%s,\"speed\":100}", bsm_head);
	assert_int_equal(from_json(text, &out), 0);
	assert_int_equal(out.type, V2X_MSG_BSM);
	assert_int_equal(out.u.bsm.lat, 15000000);
	assert_int_equal(out.u.bsm.speed, 100);
	assert_int_equal(out.u.bsm.has_events, 0);

	snprintf(text, sizeof(text), "%s,\"speed\":8192}", bsm_head);
	assert_int_equal(from_json(text, &out), V2X_E_RANGE);
	snprintf(text, sizeof(text), "%s,\"speed\":1.5}", bsm_head);
	assert_int_equal(from_json(text, &out), V2X_E_TYPE);
	snprintf(text, sizeof(text), "%s,\"speed\":\"100\"}", bsm_head);
	assert_int_equal(from_json(text, &out), V2X_E_TYPE);
	snprintf(text, sizeof(text), "%s}", bsm_head);
	assert_int_equal(from_json(text, &out), V2X_E_MISSING);
	/* Unknown keys, however nested, are ignored. */
	snprintf(text, sizeof(text),
		 "%s,\"speed\":7,\"future\":{\"a\":[1,2,{\"b\":null}]}}",
		 bsm_head);
	assert_int_equal(from_json(text, &out), 0);
	assert_int_equal(out.u.bsm.speed, 7);
	/* Nesting beyond the limit. */
	snprintf(text, sizeof(text), "%s,\"speed\":7,\"x\":[[[[[[[[1]]]]]]]]}",
		 bsm_head);
	assert_int_equal(from_json(text, &out), V2X_E_NESTING);

	assert_int_equal(from_json("{\"t\":\"nope\",\"ts\":1}", &out),
			 V2X_E_UNKNOWN_MSG);
	assert_int_equal(from_json("{\"ts\":1}", &out), V2X_E_MISSING);
	assert_int_equal(from_json("[1,2]", &out), V2X_E_TYPE);
	assert_int_equal(from_json("{\"t\":\"objects\",\"ts\":1,\"sensor\":2,"
				   "\"objs\":[{\"id\":1,\"cls\":\"tank\","
				   "\"lat\":0.0,\"lon\":0.0,\"speed\":0,"
				   "\"heading\":0,\"len\":0,\"wid\":0,"
				   "\"conf\":0}]}", &out),
			 V2X_E_RANGE);
	/* 129 objects. */
	char *big = malloc(200000);
	size_t n = (size_t)sprintf(big, "{\"t\":\"objects\",\"ts\":1,"
				   "\"sensor\":2,\"objs\":[");
	for (int i = 0; i <= V2X_OBJECTS_MAX; i++)
		n += (size_t)sprintf(big + n, "%s{\"id\":1,\"cls\":\"car\","
				     "\"lat\":0.0,\"lon\":0.0,\"speed\":0,"
				     "\"heading\":0,\"len\":0,\"wid\":0,"
				     "\"conf\":0}", i ? "," : "");
	strcpy(big + n, "]}");
	assert_int_equal(from_json(big, &out), V2X_E_LIMIT);
	free(big);
}

static void test_syntax(void **state)
{
	struct v2x_msg out;

	(void)state;
	assert_int_equal(from_json("", &out), V2X_E_SYNTAX);
	assert_int_equal(from_json("{", &out), V2X_E_SYNTAX);
	assert_int_equal(from_json("{\"t\":\"bsm\"} x", &out), V2X_E_SYNTAX);
	assert_int_equal(from_json("{\"t\":\"bsm\",\"t\":\"bsm\"}", &out),
			 V2X_E_SYNTAX);
	/* Integers beyond int64 are outside the contract (docs/wire.md). */
	assert_int_equal(from_json("{\"t\":\"bsm\",\"ts\":18446744073709551615}",
				   &out),
			 V2X_E_SYNTAX);
}

static void test_nospace(void **state)
{
	struct gen_rng r = { 77 };
	struct v2x_msg m;
	char text[BUF];

	(void)state;
	for (int k = 0; k < 24; k++) {
		/* Small frames of every type: each cap below is one call. */
		switch (k % 4) {
		case 0:
			gen_bsm(&r, &m);
			break;
		case 1:
			gen_objects(&r, &m, 4);
			break;
		case 2:
			gen_spat(&r, &m);
			break;
		default:
			gen_event(&r, &m);
			break;
		}
		int n = v2x_msg_to_json(&m, text, sizeof(text));
		assert_true(n > 0);
		/* n + 1 octets (with the NUL) fit; anything less does not. */
		assert_int_equal(v2x_msg_to_json(&m, text, (size_t)n + 1), n);
		for (int cap = 0; cap <= n; cap++) {
			char *exact = malloc((size_t)cap + 1);
			assert_int_equal(v2x_msg_to_json(&m, exact, (size_t)cap),
					 V2X_E_NOSPACE);
			free(exact);
		}
	}
	m.type = 42;
	assert_int_equal(v2x_msg_to_json(&m, text, sizeof(text)),
			 V2X_E_UNKNOWN_MSG);
}

/* Every prefix of valid JSON placed right before a PROT_NONE page. */
static void test_guard_page(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *guard = (char *)area + pg * 3;
	struct gen_rng r = { 91 };
	struct v2x_msg m, out;
	char text[BUF];

	(void)state;
	assert_true(area != MAP_FAILED);
	assert_int_equal(mprotect(guard, (size_t)pg, PROT_NONE), 0);
	for (int k = 0; k < 8; k++) {
		gen_bsm(&r, &m);
		int n = v2x_msg_to_json(&m, text, sizeof(text));
		assert_true(n > 0 && n < pg * 3);
		for (int len = 0; len <= n; len++) {
			memcpy(guard - len, text, (size_t)len);
			int rc = v2x_msg_from_json(guard - len, (size_t)len, &out);
			assert_int_equal(rc, len == n ? 0 : V2X_E_SYNTAX);
		}
	}
	munmap(area, (size_t)pg * 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_text),
		cmocka_unit_test(test_roundtrips),
		cmocka_unit_test(test_content_errors),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_guard_page),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
