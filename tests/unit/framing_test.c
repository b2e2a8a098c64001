/* SPDX-License-Identifier: MIT */
/*
 * framing_test.c - v2x_frame_unwrap(): raw, IEEE 1609.2 (COER) unsecured
 * and signed with each signer kind, WSMP with and without extensions, auto
 * detection, every truncation, random round trips through each framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../interop/j2735_gen.h"
#include "v2x/error.h"
#include "v2x/j2735.h"

static struct v2x_j2735_msg msg;
static size_t signer_pos; /* where wrap_signed() put the signer tag */

/* OER length determinant (X.696 8.6). */
static size_t put_oer_len(uint8_t *p, size_t n)
{
	if (n < 128) {
		p[0] = (uint8_t)n;
		return 1;
	}
	p[0] = 0x82;
	p[1] = (uint8_t)(n >> 8);
	p[2] = (uint8_t)n;
	return 3;
}

/* Ieee1609Dot2Data { protocolVersion 3, content unsecuredData }. */
static size_t wrap_unsecured(uint8_t *out, const uint8_t *frame, size_t n)
{
	size_t k = 0;

	out[k++] = 0x03;
	out[k++] = 0x80;
	k += put_oer_len(out + k, n);
	memcpy(out + k, frame, n);
	return k + n;
}

/*
 * signedData: hashId sha256 (00), tbsData { payload (preamble 0x40: data
 * present) data = unsecured Ieee1609Dot2Data, headerInfo (preamble 0x40:
 * generationTime present) psid 0x20 (01 20), generationTime 8 octets },
 * signer (0x80 digest + HashedId8, 0x81 certificate + a stand-in, 0x82
 * self), signature ecdsaNistP256Signature (0x80, rSig x-only 0x80 + 32,
 * sSig 32).
 */
static size_t wrap_signed(uint8_t *out, const uint8_t *frame, size_t n,
			  int signer)
{
	size_t k = 0;

	out[k++] = 0x03;
	out[k++] = 0x81;
	out[k++] = 0x00;
	out[k++] = 0x40;
	k += wrap_unsecured(out + k, frame, n);
	out[k++] = 0x40;
	out[k++] = 0x01;
	out[k++] = 0x20;
	for (int i = 0; i < 8; i++)
		out[k++] = (uint8_t)(0x10 + i);
	signer_pos = k;
	switch (signer) {
	case V2X_SIGNER_DIGEST:
		out[k++] = 0x80;
		memset(out + k, 0xd1, 8);
		k += 8;
		break;
	case V2X_SIGNER_CERTIFICATE:
		out[k++] = 0x81;
		out[k++] = 0x01; /* SEQUENCE OF count length */
		out[k++] = 0x01; /* one certificate (contents not parsed) */
		memset(out + k, 0xce, 20);
		k += 20;
		break;
	default:
		out[k++] = 0x82;
		break;
	}
	out[k++] = 0x80;
	out[k++] = 0x80;
	memset(out + k, 0x55, 64);
	return k + 64;
}

/*
 * WSMP: N-Header octet (subtype 0, option indicator, version 3), optional
 * extensions {count 1: channel number (id 15, length 1, 172)}, TPID 0,
 * p-encoded PSID, WSM length, data.
 */
static size_t wrap_wsmp(uint8_t *out, const uint8_t *data, size_t n,
			int with_ext, uint32_t psid)
{
	size_t k = 0;

	out[k++] = with_ext ? 0x0b : 0x03;
	if (with_ext) {
		out[k++] = 1;
		out[k++] = 15;
		out[k++] = 1;
		out[k++] = 172;
	}
	out[k++] = 0x00;
	if (psid < 0x80) {
		out[k++] = (uint8_t)psid;
	} else {
		uint32_t raw = psid - 0x80 + 0x8000;

		out[k++] = (uint8_t)(raw >> 8);
		out[k++] = (uint8_t)raw;
	}
	if (n < 128) {
		out[k++] = (uint8_t)n;
	} else {
		out[k++] = (uint8_t)(0x80 | n >> 8);
		out[k++] = (uint8_t)n;
	}
	memcpy(out + k, data, n);
	return k + n;
}

static const uint8_t bsm_head[] = { 0x00, 0x14, 0x25 };

static void test_raw_and_known(void **state)
{
	uint8_t frame[40], buf[200];
	struct v2x_frame_info info;
	size_t n;

	(void)state;
	memset(frame, 0x11, sizeof(frame));
	memcpy(frame, bsm_head, 3);
	assert_int_equal(v2x_frame_unwrap(frame, 40, V2X_FRAMING_AUTO, &info), 0);
	assert_int_equal(info.framing, V2X_FRAMING_RAW);
	assert_int_equal(info.offset, 0);
	assert_int_equal(info.length, 40);

	/* 03 80 28 <frame>: unsecuredData of 40 octets. */
	n = wrap_unsecured(buf, frame, 40);
	assert_int_equal(n, 43);
	assert_int_equal(buf[2], 0x28);
	assert_int_equal(v2x_frame_unwrap(buf, n, V2X_FRAMING_AUTO, &info), 0);
	assert_int_equal(info.framing, V2X_FRAMING_1609_2);
	assert_int_equal(info.signed_data, 0);
	assert_int_equal(info.signer, V2X_SIGNER_NONE);
	assert_int_equal(info.offset, 3);
	assert_int_equal(info.length, 40);

	/* WSMP 03 00 20 2b <1609.2>: PSID 0x20 (BSM). */
	{
		uint8_t w[300];
		size_t wn = wrap_wsmp(w, buf, n, 0, 0x20);

		assert_int_equal(w[0], 0x03);
		assert_int_equal(w[2], 0x20);
		assert_int_equal(w[3], 43);
		assert_int_equal(v2x_frame_unwrap(w, wn, V2X_FRAMING_AUTO, &info), 0);
		assert_int_equal(info.framing, V2X_FRAMING_WSMP);
		assert_int_equal(info.has_wsmp, 1);
		assert_int_equal(info.psid, 0x20);
		assert_int_equal(info.offset, 4 + 3);
		assert_int_equal(info.length, 40);
	}
	/* Two-octet PSID 80 02 = 0x82 (SPaT), WSMP with an extension. */
	{
		uint8_t w[300];
		size_t wn = wrap_wsmp(w, frame, 40, 1, 0x82);

		assert_int_equal(w[6], 0x80);
		assert_int_equal(w[7], 0x02);
		assert_int_equal(v2x_frame_unwrap(w, wn, V2X_FRAMING_AUTO, &info), 0);
		assert_int_equal(info.psid, 0x82);
		assert_int_equal(info.offset, wn - 40);
		assert_int_equal(info.length, 40);
	}
	/* TPID 2: ITS port numbers instead of a PSID; TPID 4 (LPP) refused. */
	{
		uint8_t w[64] = { 0x03, 0x02, 0x12, 0x34, 0x56, 0x78, 40 };

		memcpy(w + 7, frame, 40);
		assert_int_equal(v2x_frame_unwrap(w, 47, V2X_FRAMING_WSMP, &info), 0);
		assert_int_equal(info.psid, 0);
		assert_int_equal(info.offset, 7);
		assert_int_equal(info.length, 40);
		w[1] = 0x04;
		assert_int_equal(v2x_frame_unwrap(w, 47, V2X_FRAMING_WSMP, &info),
				 V2X_E_FRAMING);
	}
	assert_string_equal(v2x_framing_name(V2X_FRAMING_1609_2), "1609.2");
	assert_string_equal(v2x_signer_name(V2X_SIGNER_SELF), "self");
	assert_int_equal(v2x_frame_unwrap(frame, 0, V2X_FRAMING_AUTO, &info),
			 V2X_E_TRUNCATED);
	assert_int_equal(v2x_frame_unwrap(frame, 40, V2X_FRAMING_1609_2, &info),
			 V2X_E_FRAMING);
	assert_int_equal(v2x_frame_unwrap(frame, 40, V2X_FRAMING_WSMP, &info),
			 V2X_E_FRAMING);
	assert_int_equal(v2x_frame_unwrap(frame, 40, 99, &info), V2X_E_FRAMING);
}

static void test_signed(void **state)
{
	uint8_t frame[40], buf[300];
	struct v2x_frame_info info;

	(void)state;
	memset(frame, 0x22, sizeof(frame));
	memcpy(frame, bsm_head, 3);
	for (int s = V2X_SIGNER_DIGEST; s <= V2X_SIGNER_SELF; s++) {
		size_t n = wrap_signed(buf, frame, 40, s);

		assert_int_equal(v2x_frame_unwrap(buf, n, V2X_FRAMING_AUTO, &info), 0);
		assert_int_equal(info.framing, V2X_FRAMING_1609_2);
		assert_int_equal(info.signed_data, 1);
		assert_int_equal(info.signer, s);
		assert_int_equal(info.psid, 0x20);
		assert_int_equal(info.offset, 7);
		assert_int_equal(info.length, 40);
		assert_memory_equal(buf + info.offset, frame, 40);
		/* Every truncation of the forced framing fails cleanly. */
		for (size_t len = 0; len < n; len++) {
			uint8_t *copy = malloc(len ? len : 1);
			int ret;

			memcpy(copy, buf, len);
			ret = v2x_frame_unwrap(copy, len, V2X_FRAMING_1609_2, &info);
			/* The signer tag is the last octet we need. */
			if (len <= signer_pos)
				assert_true(ret < 0);
			ret = v2x_frame_unwrap(copy, len, V2X_FRAMING_AUTO, &info);
			if (ret == 0)
				assert_true(info.offset + info.length <= len);
			free(copy);
		}
	}
}

/* Random messages through every framing decode to the same bytes. */
static void test_random_framings(void **state)
{
	static uint8_t frame[1 << 14], inner[1 << 15], outer[1 << 15];
	struct gen_rng r = { 2024, 1 };

	(void)state;
	for (int i = 0; i < 2000; i++) {
		static const int ids[] = { 20, 19, 32 };
		struct v2x_frame_info info;
		int n = 0, kind = i % 6;
		size_t in_n, out_n;

		do {
			gen_message(&msg, &r, ids[i % 3]);
			n = v2x_j2735_encode(&msg, frame, sizeof(frame));
		} while (n <= 0 || n > 4000);
		switch (kind) {
		case 0:
			memcpy(outer, frame, (size_t)n);
			out_n = (size_t)n;
			break;
		case 1:
			out_n = wrap_unsecured(outer, frame, (size_t)n);
			break;
		case 2:
			out_n = wrap_signed(outer, frame, (size_t)n,
					    1 + (int)(gen_next(&r) % 3));
			break;
		case 3:
			out_n = wrap_wsmp(outer, frame, (size_t)n, i & 1, 0x20);
			break;
		case 4:
			in_n = wrap_unsecured(inner, frame, (size_t)n);
			out_n = wrap_wsmp(outer, inner, in_n, i & 1, 0x20);
			break;
		default:
			in_n = wrap_signed(inner, frame, (size_t)n, 1);
			out_n = wrap_wsmp(outer, inner, in_n, i & 1, 0x4000);
			break;
		}
		assert_int_equal(v2x_frame_unwrap(outer, out_n, V2X_FRAMING_AUTO,
						  &info), 0);
		assert_int_equal(info.length, (size_t)n);
		assert_memory_equal(outer + info.offset, frame, (size_t)n);
		assert_int_equal(info.has_wsmp, kind >= 3);
		assert_int_equal(info.signed_data, kind == 2 || kind == 5);
		assert_int_equal(v2x_j2735_decode(outer + info.offset, info.length,
						  &msg), n);
	}
}

/*
 * Wrapped frames cut at every length and with random bit flips, each in a
 * buffer of exactly its size (so that ASan sees any read past the end):
 * unwrap returns an error or a payload inside the input; the payload then
 * decodes or fails cleanly.  With a WSMP header in front (whose WSM length
 * must cover the rest) no truncation is taken as WSMP.
 */
static void test_truncated_and_flipped_framings(void **state)
{
	static uint8_t frame[1 << 12], inner[1 << 13], outer[1 << 13];
	struct gen_rng r = { 77, 1 };

	(void)state;
	for (int i = 0; i < 60; i++) {
		struct v2x_frame_info info;
		int n, kind = 1 + i % 5, ret;
		size_t in_n, out_n;

		do {
			gen_message(&msg, &r, i & 1 ? 20 : 19);
			n = v2x_j2735_encode(&msg, frame, sizeof(frame));
		} while (n <= 0 || n > 1000);
		if (kind == 1) {
			out_n = wrap_unsecured(outer, frame, (size_t)n);
		} else if (kind == 2) {
			out_n = wrap_signed(outer, frame, (size_t)n,
					    1 + (int)(gen_next(&r) % 3));
		} else if (kind == 3) {
			out_n = wrap_wsmp(outer, frame, (size_t)n, i & 1, 0x20);
		} else {
			in_n = kind == 4 ? wrap_unsecured(inner, frame, (size_t)n)
					 : wrap_signed(inner, frame, (size_t)n, 2);
			out_n = wrap_wsmp(outer, inner, in_n, i & 1, 0x4000);
		}
		for (size_t k = 0; k < out_n; k++) {
			uint8_t *cut = malloc(k ? k : 1);

			assert_non_null(cut);
			memcpy(cut, outer, k);
			ret = v2x_frame_unwrap(cut, k, V2X_FRAMING_AUTO, &info);
			/* A cut WSMP datagram is never taken as WSMP (its WSM
			 * length no longer matches); auto mode then falls back
			 * to a raw MessageFrame, which the decoder judges. */
			if (kind >= 3 && ret >= 0)
				assert_int_equal(info.framing, V2X_FRAMING_RAW);
			if (ret >= 0) {
				assert_true(info.offset + info.length <= k);
				(void)v2x_j2735_decode(cut + info.offset,
						       info.length, &msg);
			}
			free(cut);
		}
		for (int f = 0; f < 200; f++) {
			uint8_t *flip = malloc(out_n);

			assert_non_null(flip);
			memcpy(flip, outer, out_n);
			for (int b = 0; b < 1 + f % 3; b++) {
				size_t bit = gen_next(&r) % (out_n * 8);

				flip[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			}
			for (int fr = V2X_FRAMING_AUTO; fr <= V2X_FRAMING_WSMP;
			     fr++) {
				ret = v2x_frame_unwrap(flip, out_n, fr, &info);
				if (ret < 0)
					continue;
				assert_true(info.offset + info.length <= out_n);
				(void)v2x_j2735_decode(flip + info.offset,
						       info.length, &msg);
			}
			free(flip);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_and_known),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_random_framings),
		cmocka_unit_test(test_truncated_and_flipped_framings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
