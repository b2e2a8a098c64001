/* SPDX-License-Identifier: MIT */
/* wire_test.c - the msgpack writer and the obj frame, checked with msgpack-c. */
#include <math.h>
#include <msgpack.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracks.h"
#include "v2x/error.h"
#include "wire.h"

static void test_integers_round_trip(void **state)
{
	static const int64_t ints[] = {
		0, 1, 127, -1, -32, -33, -128, -129, -32768, -32769,
		INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN, 128, 255, 256, 65535,
		65536, 4294967295LL, 4294967296LL, INT64_MAX,
	};
	uint8_t buf[1024];
	struct mp_buf b;
	msgpack_unpacked u;
	size_t off = 0;
	int n;

	(void)state;
	mp_init(&b, buf, sizeof(buf));
	mp_array(&b, (uint32_t)(sizeof(ints) / sizeof(ints[0])) + 1);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		mp_int(&b, ints[i]);
	mp_uint(&b, UINT64_MAX);
	n = mp_finish(&b);
	assert_true(n > 0);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (char *)buf, (size_t)n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, (size_t)n);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_ARRAY);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		const msgpack_object *o = &u.data.via.array.ptr[i];

		if (ints[i] >= 0) {
			assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
			assert_true(o->via.u64 == (uint64_t)ints[i]);
		} else {
			assert_int_equal(o->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
			assert_true(o->via.i64 == ints[i]);
		}
	}
	assert_true(u.data.via.array.ptr[sizeof(ints) / sizeof(ints[0])].via.u64 == UINT64_MAX);
	msgpack_unpacked_destroy(&u);
}

static void test_strings_bins_maps(void **state)
{
	static char big[70000];
	static uint8_t buf[80000];
	struct mp_buf b;
	msgpack_unpacked u;
	size_t off = 0;
	int n;

	(void)state;
	memset(big, 'x', sizeof(big));
	mp_init(&b, buf, sizeof(buf));
	mp_map(&b, 5);
	mp_str(&b, "short");
	mp_strn(&b, big, 31);
	mp_str(&b, "s8");
	mp_strn(&b, big, 200);
	mp_str(&b, "s32");
	mp_strn(&b, big, sizeof(big));
	mp_str(&b, "bin");
	mp_bin(&b, "\x00\x01\x02", 3);
	mp_str(&b, "misc");
	mp_array(&b, 4);
	mp_bool(&b, 1);
	mp_nil(&b);
	mp_f32(&b, 1.5f);
	mp_f64(&b, -2.25);
	n = mp_finish(&b);
	assert_true(n > 70000);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (char *)buf, (size_t)n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, (size_t)n);
	assert_int_equal(u.data.via.map.size, 5);
	assert_int_equal(u.data.via.map.ptr[0].val.via.str.size, 31);
	assert_int_equal(u.data.via.map.ptr[1].val.via.str.size, 200);
	assert_int_equal(u.data.via.map.ptr[2].val.via.str.size, sizeof(big));
	assert_int_equal(u.data.via.map.ptr[3].val.type, MSGPACK_OBJECT_BIN);
	assert_memory_equal(u.data.via.map.ptr[3].val.via.bin.ptr, "\x00\x01\x02", 3);
	{
		const msgpack_object_array *a = &u.data.via.map.ptr[4].val.via.array;

		assert_int_equal(a->ptr[0].type, MSGPACK_OBJECT_BOOLEAN);
		assert_int_equal(a->ptr[1].type, MSGPACK_OBJECT_NIL);
		assert_true(a->ptr[2].via.f64 == 1.5);
		assert_true(a->ptr[3].via.f64 == -2.25);
	}
	msgpack_unpacked_destroy(&u);
}

static void test_overflow_reported(void **state)
{
	uint8_t buf[8];
	struct mp_buf b;

	(void)state;
	mp_init(&b, buf, sizeof(buf));
	mp_str(&b, "0123456789");
	mp_uint(&b, 1); /* later writes are no-ops */
	assert_int_equal(mp_finish(&b), V2X_E_NOSPACE);
	mp_init(&b, buf, sizeof(buf));
	mp_f64(&b, 1.0); /* 9 bytes */
	assert_int_equal(mp_finish(&b), V2X_E_NOSPACE);
	mp_init(&b, buf, sizeof(buf));
	mp_uint(&b, 1);
	assert_int_equal(mp_finish(&b), 1);
}

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.via.str.size == strlen(key) &&
		    memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
			return &kv->val;
	}
	return NULL;
}

static void test_obj_frame(void **state)
{
	static struct track t;
	uint8_t buf[256];
	msgpack_unpacked u;
	size_t off = 0;
	int n;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.id = 1234567890123ull;
	t.kind = TRACK_SENSOR;
	t.cls = V2X_CLASS_PEDESTRIAN;
	t.sources = V2X_SRC_SENSOR;
	t.sensor_id = 42;
	t.cur.t_ns = 1700000000123456789ull;
	t.cur.lat = 481371540;
	t.cur.lon = -115761240;
	t.cur.speed_mps = 1.25f;
	t.cur.heading_deg = 270.0f;
	t.length_m = 0.5f;
	t.width_m = 0.5f;
	n = wire_encode_obj(&t, buf, sizeof(buf));
	assert_true(n > 0);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (char *)buf, (size_t)n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, (size_t)n);
	assert_int_equal(u.data.via.map.size, 12);
	assert_memory_equal(get(&u.data, "t")->via.str.ptr, "obj", 3);
	assert_true(get(&u.data, "ts")->via.u64 == t.cur.t_ns);
	assert_true(get(&u.data, "id")->via.u64 == t.id);
	assert_memory_equal(get(&u.data, "cls")->via.str.ptr, "pedestrian", 10);
	assert_true(fabs(get(&u.data, "lat")->via.f64 - 48.137154) < 1e-9);
	assert_true(fabs(get(&u.data, "lon")->via.f64 + 11.576124) < 1e-9);
	assert_true(get(&u.data, "speed")->via.f64 == 1.25);
	assert_true(get(&u.data, "heading")->via.f64 == 270.0);
	assert_true(get(&u.data, "src")->via.u64 == V2X_SRC_SENSOR);
	assert_true(get(&u.data, "sensor")->via.u64 == 42);
	msgpack_unpacked_destroy(&u);
	/* Too small a buffer is an error, not an overrun. */
	assert_int_equal(wire_encode_obj(&t, buf, 20), V2X_E_NOSPACE);
	/* A V2X track has no "sensor" key. */
	t.kind = TRACK_V2X;
	off = 0;
	n = wire_encode_obj(&t, buf, sizeof(buf));
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (char *)buf, (size_t)n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(u.data.via.map.size, 11);
	assert_null(get(&u.data, "sensor"));
	msgpack_unpacked_destroy(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers_round_trip),
		cmocka_unit_test(test_strings_bins_maps),
		cmocka_unit_test(test_overflow_reported),
		cmocka_unit_test(test_obj_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
