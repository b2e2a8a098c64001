/* SPDX-License-Identifier: MIT */
/*
 * jer_test.c - J2735 JSON (X.697 JER style): the exact shape of a known
 * BSM, decode -> JSON -> parse -> encode reproducing the input for random
 * messages (opaque parts included), and clean errors for bad JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../codecs/hex.h"
#include "../interop/j2735_gen.h"
#include "v2x/error.h"
#include "v2x/j2735.h"

static struct v2x_j2735_msg msg_a, msg_b;
static char text[1 << 18];

/* The known BSM of j2735_test.c. */
static const uint8_t kat_bsm[] = {
	0x00, 0x14, 0x25, 0x00, 0x40, 0x40, 0x80, 0xc1, 0x3a, 0x98,
	0x1a, 0xd2, 0x74, 0x80, 0x35, 0xa4, 0xe8, 0xff, 0x00, 0x00,
	0x7f, 0x80, 0x7f, 0xff, 0xbf, 0xff, 0xf0, 0x80, 0xfd, 0xfa,
	0x10, 0x00, 0x7f, 0x80, 0x00, 0x4f, 0x37, 0xff, 0x80, 0x08,
};

static const char kat_json[] =
	"{\"messageId\":20,\"value\":{\"coreData\":{\"msgCnt\":1,"
	"\"id\":\"01020304\",\"secMark\":60000,\"lat\":0,\"long\":-1,"
	"\"elev\":-4096,\"accuracy\":{\"semiMajor\":255,\"semiMinor\":0,"
	"\"orientation\":65535},\"transmission\":\"reverseGears\","
	"\"speed\":8191,\"heading\":28800,\"angle\":127,\"accelSet\":"
	"{\"long\":2001,\"lat\":-2000,\"vert\":0,\"yaw\":1},\"brakes\":"
	"{\"wheelBrakes\":{\"value\":\"48\",\"length\":5},\"traction\":"
	"\"engaged\",\"abs\":\"on\",\"scs\":\"off\",\"brakeBoost\":\"on\","
	"\"auxBrakes\":\"reserved\"},\"size\":{\"width\":1023,\"length\":1}}}}";

static void test_kat_json(void **state)
{
	uint8_t out[64];
	int n;

	(void)state;
	assert_int_equal(v2x_j2735_decode(kat_bsm, sizeof(kat_bsm), &msg_a), 40);
	n = v2x_j2735_to_json(&msg_a, text, sizeof(text));
	assert_int_equal(n, (int)strlen(kat_json));
	assert_string_equal(text, kat_json);
	assert_int_equal(v2x_j2735_to_json(&msg_a, text, 20), V2X_E_NOSPACE);
	assert_int_equal(v2x_j2735_from_json(kat_json, strlen(kat_json), &msg_b), 0);
	assert_int_equal(v2x_j2735_encode(&msg_b, out, sizeof(out)), 40);
	assert_memory_equal(out, kat_bsm, 40);
}

static void test_random_json_roundtrip(void **state)
{
	static uint8_t buf[1 << 16], out[1 << 16];

	(void)state;
	for (int k = 0; k < 4; k++) {
		static const int ids[] = { 20, 19, 32, 18 };
		struct gen_rng r = { 500 + (uint64_t)k, 1 };

		for (int i = 0; i < 1500; i++) {
			int n, len;

			r.opaque = i & 1;
			gen_message(&msg_a, &r, ids[k]);
			n = v2x_j2735_encode(&msg_a, buf, sizeof(buf));
			assert_true(n > 0);
			assert_int_equal(v2x_j2735_decode(buf, (size_t)n, &msg_a), n);
			len = v2x_j2735_to_json(&msg_a, text, sizeof(text));
			assert_true(len > 0);
			if (v2x_j2735_from_json(text, (size_t)len, &msg_b) != 0)
				fail_msg("from_json failed on %s", text);
			assert_int_equal(v2x_j2735_encode(&msg_b, out, sizeof(out)), n);
			assert_memory_equal(buf, out, (size_t)n);
		}
	}
}

static void test_bad_json(void **state)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
		{ "{", V2X_E_SYNTAX },
		{ "[]", V2X_E_TYPE },
		{ "{\"messageId\":20}", V2X_E_MISSING },
		{ "{\"messageId\":40000,\"value\":\"00\"}", V2X_E_RANGE },
		{ "{\"messageId\":\"x\",\"value\":\"00\"}", V2X_E_TYPE },
		{ "{\"messageId\":18,\"value\":\"0G\"}", V2X_E_SYNTAX },
		{ "{\"messageId\":18,\"value\":\"000\"}", V2X_E_SYNTAX },
		{ "{\"messageId\":18,\"value\":\"00\",\"x\":1}", V2X_E_SYNTAX },
		{ "{\"messageId\":20,\"value\":{}}", V2X_E_MISSING },
		{ "{\"messageId\":32,\"value\":{\"basicType\":\"robot\"}}",
		  V2X_E_RANGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = v2x_j2735_from_json(cases[i].text,
					      strlen(cases[i].text), &msg_a);

		if (ret != cases[i].err)
			fail_msg("%s: got %d want %d", cases[i].text, ret,
				 cases[i].err);
	}
	/* Out of range and wrong types inside a known BSM. */
	{
		char buf[2048];
		const char *p = strstr(kat_json, "\"heading\":28800");

		assert_non_null(p);
		snprintf(buf, sizeof(buf), "%.*s\"heading\":28801%s",
			 (int)(p - kat_json), kat_json,
			 p + strlen("\"heading\":28800"));
		assert_int_equal(v2x_j2735_from_json(buf, strlen(buf), &msg_a),
				 V2X_E_RANGE);
		p = strstr(kat_json, "\"id\":\"01020304\"");
		snprintf(buf, sizeof(buf), "%.*s\"id\":\"010203\"%s",
			 (int)(p - kat_json), kat_json,
			 p + strlen("\"id\":\"01020304\""));
		assert_int_equal(v2x_j2735_from_json(buf, strlen(buf), &msg_a),
				 V2X_E_RANGE);
	}
}

/* The hex helpers shared by jer.c and v2x-codec. */
static void test_hex_helpers(void **state)
{
	static const uint8_t octets[] = { 0x00, 0x9f, 0xa5, 0xff };
	uint8_t out[4];
	char hex[9];

	(void)state;
	hex__encode(octets, 4, hex, true);
	assert_string_equal(hex, "009FA5FF");
	hex__encode(octets, 4, hex, false);
	assert_string_equal(hex, "009fa5ff");
	hex__encode(octets, 0, hex, false);
	assert_string_equal(hex, "");
	assert_int_equal(hex__decode("009fA5Ff", 8, out, 4, false), 4);
	assert_memory_equal(out, octets, 4);
	assert_int_equal(hex__decode(" 00 9f\ta5\r\nff ", 14, out, 4, true), 4);
	assert_memory_equal(out, octets, 4);
	/* Blanks only where allowed; odd digit counts; other characters. */
	assert_int_equal(hex__decode("00 9f", 5, out, 4, false), V2X_E_SYNTAX);
	assert_int_equal(hex__decode("009", 3, out, 4, true), V2X_E_SYNTAX);
	assert_int_equal(hex__decode("0 0 9", 5, out, 4, true), V2X_E_SYNTAX);
	assert_int_equal(hex__decode("0g", 2, out, 4, true), V2X_E_SYNTAX);
	assert_int_equal(hex__decode("0x00", 4, out, 4, true), V2X_E_SYNTAX);
	/* Capacity: exactly full is fine, one more octet is over. */
	assert_int_equal(hex__decode("0011223344", 10, out, 4, false),
			 V2X_E_LIMIT);
	assert_int_equal(hex__decode("", 0, out, 0, false), 0);
	assert_int_equal(hex__nibble('f'), 15);
	assert_int_equal(hex__nibble('G'), -1);
	assert_int_equal(hex__nibble('/'), -1);
	assert_int_equal(hex__nibble(':'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_json),
		cmocka_unit_test(test_random_json_roundtrip),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_hex_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
