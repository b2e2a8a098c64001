/* SPDX-License-Identifier: MIT */
/*
 * uper_test.c - the X.691 unaligned PER primitives: known encodings worked
 * out from the clauses, round trips, truncation at every bit, and the
 * fragmented length determinant (16K/32K/48K/64K chunks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../codecs/uper.h"

/* Constrained whole numbers (11.5.7.1): offset from lb in minimal bits. */
static void test_cint_known(void **state)
{
	uint8_t buf[16];
	struct uper_writer w;
	struct uper_reader r;
	int64_t v;

	(void)state;
	uper__writer_init(&w, buf, sizeof(buf));
	/* -2000..2001 has 4002 values: 12 bits; -2000 -> 000000000000 */
	assert_int_equal(uper__put_cint(&w, -2000, 2001, -2000), 0);
	/* 2001 -> offset 4001 = 1111 1010 0001 */
	assert_int_equal(uper__put_cint(&w, -2000, 2001, 2001), 0);
	/* 0..0: a single value takes no bits */
	assert_int_equal(uper__put_cint(&w, 5, 5, 5), 0);
	/* -126..127 (8 bits): -3 -> offset 123 = 0111 1011 */
	assert_int_equal(uper__put_cint(&w, -126, 127, -3), 0);
	assert_int_equal(w.pos, 32);
	assert_int_equal(buf[0], 0x00);
	assert_int_equal(buf[1], 0x0f);
	assert_int_equal(buf[2], 0xa1);
	assert_int_equal(buf[3], 0x7b);
	assert_int_equal(uper__put_cint(&w, -126, 127, 128), V2X_E_RANGE);
	assert_int_equal(uper__put_cint(&w, -126, 127, -127), V2X_E_RANGE);

	uper__reader_init(&r, buf, 4);
	assert_int_equal(uper__get_cint(&r, -2000, 2001, &v), 0);
	assert_int_equal(v, -2000);
	assert_int_equal(uper__get_cint(&r, -2000, 2001, &v), 0);
	assert_int_equal(v, 2001);
	assert_int_equal(uper__get_cint(&r, 5, 5, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(uper__get_cint(&r, -126, 127, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(uper__get_cint(&r, 0, 1, &v), V2X_E_TRUNCATED);
	/* 12 bits of all ones = 4095 > 4001: out of range on decode. */
	{
		uint8_t ones[2] = { 0xff, 0xf0 };

		uper__reader_init(&r, ones, 2);
		assert_int_equal(uper__get_cint(&r, -2000, 2001, &v), V2X_E_RANGE);
	}
}

/* Normally small numbers (11.6): 0 + 6 bits, or 1 + semi-constrained. */
static void test_nsnn(void **state)
{
	uint8_t buf[16];
	struct uper_writer w;
	struct uper_reader r;
	uint64_t v;

	(void)state;
	uper__writer_init(&w, buf, sizeof(buf));
	assert_int_equal(uper__put_nsnn(&w, 5), 0);   /* 0 000101 */
	assert_int_equal(uper__put_nsnn(&w, 64), 0);  /* 1 00000001 01000000 */
	assert_int_equal(w.pos, 7 + 17);
	assert_int_equal(buf[0], 0x0b);
	/* 0000101 1 00000001 01000000 */
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[2], 0x40);
	uper__reader_init(&r, buf, 3);
	assert_int_equal(uper__get_nsnn(&r, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(uper__get_nsnn(&r, &v), 0);
	assert_int_equal(v, 64);
}

/* Semi-constrained and unconstrained integers with length determinants. */
static void test_semi_uncon(void **state)
{
	static const int64_t vals[] = { 0, 1, 127, 128, -1, -128, -129, 255,
					256, 65535, -32768, INT64_MAX, INT64_MIN };
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct uper_writer w;
		struct uper_reader r;
		int64_t v;

		uper__writer_init(&w, buf, sizeof(buf));
		assert_int_equal(uper__put_uncon(&w, vals[i]), 0);
		if (vals[i] >= 0)
			assert_int_equal(uper__put_semi(&w, 0, vals[i]), 0);
		uper__reader_init(&r, buf, (w.pos + 7) / 8);
		assert_int_equal(uper__get_uncon(&r, &v), 0);
		assert_true(v == vals[i]);
		if (vals[i] >= 0) {
			assert_int_equal(uper__get_semi(&r, 0, &v), 0);
			assert_true(v == vals[i]);
		}
	}
	/* -129 needs two octets: length 02, then FF 7F. */
	{
		struct uper_writer w;

		uper__writer_init(&w, buf, sizeof(buf));
		assert_int_equal(uper__put_uncon(&w, -129), 0);
		assert_int_equal(buf[0], 0x02);
		assert_int_equal(buf[1], 0xff);
		assert_int_equal(buf[2], 0x7f);
	}
	/* A 9-octet integer is over our limit. */
	{
		uint8_t nine[10] = { 0x09 };
		struct uper_reader r;
		int64_t v;

		uper__reader_init(&r, nine, sizeof(nine));
		assert_int_equal(uper__get_semi(&r, 0, &v), V2X_E_LIMIT);
	}
}

static void test_length_forms(void **state)
{
	uint8_t buf[8];
	struct uper_reader r;
	size_t n;
	int more;

	(void)state;
	/* 127: one octet; 128: 10 + 14 bits; 16383: 0xbf 0xff. */
	buf[0] = 0x7f;
	uper__reader_init(&r, buf, 1);
	assert_int_equal(uper__get_len(&r, &n, &more), 0);
	assert_int_equal(n, 127);
	buf[0] = 0x80;
	buf[1] = 0x80;
	uper__reader_init(&r, buf, 2);
	assert_int_equal(uper__get_len(&r, &n, &more), 0);
	assert_int_equal(n, 128);
	/* The two-octet form of 5 is not canonical. */
	buf[0] = 0x80;
	buf[1] = 0x05;
	uper__reader_init(&r, buf, 2);
	assert_int_equal(uper__get_len(&r, &n, &more), V2X_E_INVALID);
	/* Fragments of 1..4 x 16K; 0 and 5 are reserved. */
	for (unsigned m = 0; m < 8; m++) {
		buf[0] = (uint8_t)(0xc0 | m);
		uper__reader_init(&r, buf, 1);
		if (m >= 1 && m <= 4) {
			assert_int_equal(uper__get_len(&r, &n, &more), 0);
			assert_int_equal(n, m * 16384);
			assert_int_equal(more, 1);
		} else {
			assert_int_equal(uper__get_len(&r, &n, &more),
					 V2X_E_INVALID);
		}
	}
	uper__reader_init(&r, buf, 0);
	assert_int_equal(uper__get_len(&r, &n, &more), V2X_E_TRUNCATED);
	buf[0] = 0x81;
	uper__reader_init(&r, buf, 1);
	assert_int_equal(uper__get_len(&r, &n, &more), V2X_E_TRUNCATED);
}

/*
 * Fragmented open types (11.9.3.8): 64K chunks first, then smaller
 * multiples of 16K, then a final length (0 when nothing remains).  Written
 * at an odd bit offset so the unaligned paths are exercised.
 */
static void test_fragmented(void **state)
{
	static const size_t sizes[] = { 0, 1, 127, 128, 16383, 16384, 16385,
					32768, 49152, 65535, 65536, 65537,
					81920, 147456, 200000 };
	uint8_t *src = malloc(200000), *buf = malloc(210000),
		*dst = malloc(200000);

	(void)state;
	for (size_t i = 0; i < 200000; i++)
		src[i] = (uint8_t)(i * 131 + 7);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k], got, expect_hdr = 0, left = n;
		struct uper_writer w;
		struct uper_reader r;
		uint64_t bit;

		while (left >= 16384) {
			size_t m = left / 16384 > 4 ? 4 : left / 16384;

			expect_hdr++;
			left -= m * 16384;
		}
		expect_hdr += left < 128 ? 1 : 2;
		uper__writer_init(&w, buf, 210000);
		assert_int_equal(uper__put_bits(&w, 3, 5), 0);
		assert_int_equal(uper__put_open(&w, src, n), 0);
		assert_int_equal(w.pos, 3 + (n + expect_hdr) * 8);
		if (n >= 65536) {
			/* First length octet: 11 000100 = 64K fragment. */
			assert_int_equal(((buf[0] << 3) | (buf[1] >> 5)) & 0xff,
					 0xc4);
		}
		uper__reader_init(&r, buf, (w.pos + 7) / 8);
		assert_int_equal(uper__get_bits(&r, 3, &bit), 0);
		assert_int_equal(bit, 5);
		memset(dst, 0, 200000);
		assert_int_equal(uper__get_open(&r, dst, 200000, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(dst, src, n);
		/* Too small a destination: a limit, not an overflow. */
		if (n > 10) {
			uper__reader_init(&r, buf, (w.pos + 7) / 8);
			uper__get_bits(&r, 3, &bit);
			assert_int_equal(uper__get_open(&r, dst, n - 1, &got),
					 V2X_E_LIMIT);
		}
		/* Every truncation fails cleanly (sampled for big sizes). */
		for (size_t len = 0; len < (w.pos + 7) / 8;
		     len += len < 200 ? 1 : 997) {
			uper__reader_init(&r, buf, len);
			if (uper__get_bits(&r, 3, &bit) < 0)
				continue;
			assert_true(uper__get_open(&r, dst, 200000, &got) < 0);
			uper__reader_init(&r, buf, len);
			if (uper__get_bits(&r, 3, &bit) < 0)
				continue;
			assert_true(uper__skip_open(&r) < 0);
		}
	}
	free(src);
	free(buf);
	free(dst);
}

/* Random widths and values round trip at every alignment. */
static void test_bits_random(void **state)
{
	uint8_t buf[1024];
	uint64_t s = 12345, vals[400];
	unsigned widths[400];

	(void)state;
	for (int round = 0; round < 50; round++) {
		struct uper_writer w;
		struct uper_reader r;
		size_t total;

		uper__writer_init(&w, buf, sizeof(buf));
		for (int i = 0; i < 400; i++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			widths[i] = (unsigned)(s >> 58) + 1; /* 1..64 */
			vals[i] = s * 0x9e3779b97f4a7c15ull;
			if (widths[i] < 64)
				vals[i] &= (1ull << widths[i]) - 1;
			if (uper__put_bits(&w, widths[i], vals[i]) < 0)
				break;
		}
		total = w.pos;
		uper__reader_init(&r, buf, (total + 7) / 8);
		for (int i = 0; i < 400 && r.pos < total; i++) {
			uint64_t v;

			assert_int_equal(uper__get_bits(&r, widths[i], &v), 0);
			assert_true(v == vals[i]);
		}
	}
	/* Writing past the capacity fails without writing. */
	{
		struct uper_writer w;

		uper__writer_init(&w, buf, 1);
		assert_int_equal(uper__put_bits(&w, 6, 1), 0);
		assert_int_equal(uper__put_bits(&w, 3, 1), V2X_E_NOSPACE);
		assert_int_equal(w.pos, 6);
	}
}

static void test_copy_bits(void **state)
{
	uint8_t src[8] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67 };
	uint8_t buf[16];

	(void)state;
	for (size_t so = 0; so < 8; so++) {
		for (size_t n = 0; n <= 40; n++) {
			struct uper_writer w;
			struct uper_reader r, s;

			memset(buf, 0xff, sizeof(buf));
			uper__writer_init(&w, buf, sizeof(buf));
			uper__put_bits(&w, (unsigned)so, 0);
			assert_int_equal(uper__put_bitcopy(&w, src, so, n), 0);
			uper__reader_init(&r, buf, sizeof(buf));
			uper__reader_init(&s, src, sizeof(src));
			r.pos = so;
			s.pos = so;
			for (size_t i = 0; i < n; i++) {
				uint64_t a, b;

				uper__get_bits(&r, 1, &a);
				uper__get_bits(&s, 1, &b);
				assert_true(a == b);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cint_known),
		cmocka_unit_test(test_nsnn),
		cmocka_unit_test(test_semi_uncon),
		cmocka_unit_test(test_length_forms),
		cmocka_unit_test(test_fragmented),
		cmocka_unit_test(test_bits_random),
		cmocka_unit_test(test_copy_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
