/* SPDX-License-Identifier: MIT */
/*
 * j2735_bsm.c - the fast path: a UPER MessageFrame holding a
 * BasicSafetyMessage <-> struct v2x_bsm, zero allocation.
 *
 * The layout (docs/j2735.md has the sources, field by field):
 *   MessageFrame ::= SEQUENCE { messageId (0..32767), value open type, ... }
 *   BasicSafetyMessage ::= SEQUENCE { coreData BSMcoreData,
 *       partII SEQUENCE (SIZE(1..8)) OF PartIIcontent OPTIONAL,
 *       regional SEQUENCE (SIZE(1..4)) OF RegionalExtension OPTIONAL, ... }
 *   BSMcoreData: 290 bits, no extension marker.
 */
#include <string.h>

#include "uper.h"
#include "v2x/j2735.h"

#define GET(n, dst)                                          \
	do {                                                 \
		uint64_t v__;                                \
		ret = uper__get_bits(&r, (n), &v__);         \
		if (ret < 0)                                 \
			goto out;                            \
		(dst) = v__;                                 \
	} while (0)

/* Reverse the low n bits: wire order (first bit = bit 0 in our fields). */
static unsigned bsm__rev(unsigned v, unsigned n)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n; i++)
		out |= ((v >> i) & 1) << (n - 1 - i);
	return out;
}

/* Skip extension additions: normally-small bitmap length, bitmap, opens. */
static int bsm__skip_ext(struct uper_reader *r)
{
	uint64_t n, bit, count = 0;
	int ret;

	ret = uper__get_nsnn(r, &n);
	if (ret < 0)
		return ret;
	n += 1;
	if (n > uper__left(r))
		return V2X_E_TRUNCATED;
	for (uint64_t i = 0; i < n; i++) {
		ret = uper__get_bits(r, 1, &bit);
		if (ret < 0)
			return ret;
		count += bit;
	}
	/* The additions follow the whole bitmap, one open type per 1-bit. */
	while (count--) {
		ret = uper__skip_open(r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int bsm__skip_regional(struct uper_reader *r)
{
	int64_t n;
	uint64_t id;
	int ret;

	ret = uper__get_cint(r, 1, 4, &n);
	if (ret < 0)
		return ret;
	while (n--) {
		ret = uper__get_bits(r, 8, &id);
		if (ret < 0)
			return ret;
		ret = uper__skip_open(r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * VehicleSafetyExtensions: only the leading events bit string is needed.
 * The first VSE in Part II counts, as in v2x_j2735_to_bsm().
 */
static int bsm__vse_events(struct uper_reader *r, struct v2x_bsm *out)
{
	uint64_t pre, ext, bits;
	size_t n;
	int more, ret;

	/* Extension bit and four optional bits: events, pathHistory, ... */
	ret = uper__get_bits(r, 5, &pre);
	if (ret < 0)
		return ret;
	if (!(pre & 0x8))
		return 0;
	/* VehicleEventFlags ::= BIT STRING (SIZE(13, ...)) */
	ret = uper__get_bits(r, 1, &ext);
	if (ret < 0)
		return ret;
	if (!ext) {
		ret = uper__get_bits(r, 13, &bits);
		if (ret < 0)
			return ret;
	} else {
		ret = uper__get_len(r, &n, &more);
		if (ret < 0)
			return ret;
		if (more)
			return V2X_E_LIMIT;
		if (n < 13)
			return V2X_E_INVALID;
		ret = uper__get_bits(r, 13, &bits);
		if (ret < 0)
			return ret;
		if (n - 13 > uper__left(r))
			return V2X_E_TRUNCATED;
		r->pos += n - 13;
	}
	out->events = (uint16_t)bsm__rev((unsigned)bits, 13);
	out->has_events = 1;
	return 0;
}

/*
 * v2x_uper_decode_bsm() - see v2x/j2735.h.  Any thread; no allocation.
 */
int v2x_uper_decode_bsm(const uint8_t *buf, size_t len, struct v2x_bsm *out)
{
	struct uper_reader r, mf;
	uint64_t mf_ext, id, pre, v;
	int seen_vse = 0;
	int64_t s;
	int ret;

	uper__reader_init(&mf, buf, len);
	ret = uper__get_bits(&mf, 16, &id);
	if (ret < 0)
		goto out;
	mf_ext = id >> 15;
	id &= 0x7fff;
	if (id != V2X_J2735_ID_BSM) {
		ret = V2X_E_UNKNOWN_MSG;
		goto out;
	}
	ret = uper__get_open_span(&mf, &r);
	if (ret < 0)
		goto out;

	out->ts_ns = 0;
	out->events = 0;
	out->has_events = 0;
	GET(3, pre);
	/* BSMcoreData */
	GET(7, out->msg_cnt);
	GET(32, out->id);
	GET(16, out->sec_mark);
	GET(31, v);
	if (v > 1800000001u) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->lat = (int32_t)((int64_t)v - 900000000);
	GET(32, v);
	if (v > 3600000000u) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->lon = (int32_t)((int64_t)v - 1799999999);
	GET(16, v);
	out->elev = (int32_t)((int64_t)v - 4096);
	GET(8, out->acc_semi_major);
	GET(8, out->acc_semi_minor);
	GET(16, out->acc_orient);
	GET(3, out->transmission);
	GET(13, out->speed);
	GET(15, out->heading);
	if (out->heading > 28800) {
		ret = V2X_E_RANGE;
		goto out;
	}
	GET(8, v);
	if (v > 253) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->angle = (int8_t)((int)v - 126);
	GET(12, v);
	if (v > 4001) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->accel_long = (int16_t)((int)v - 2000);
	GET(12, v);
	if (v > 4001) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->accel_lat = (int16_t)((int)v - 2000);
	GET(8, v);
	if (v > 254) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->accel_vert = (int8_t)((int)v - 127);
	GET(16, v);
	if (v > 65534) {
		ret = V2X_E_RANGE;
		goto out;
	}
	out->yaw_rate = (int16_t)((int)v - 32767);
	GET(5, v);
	out->wheel_brakes = (uint8_t)bsm__rev((unsigned)v, 5);
	GET(2, out->traction);
	GET(2, out->abs);
	GET(2, out->scs);
	GET(2, out->brake_boost);
	if (out->brake_boost > 2) {
		ret = V2X_E_RANGE;
		goto out;
	}
	GET(2, out->aux_brakes);
	GET(10, out->width_cm);
	GET(12, out->length_cm);

	if (pre & 2) {
		ret = uper__get_cint(&r, 1, 8, &s);
		if (ret < 0)
			goto out;
		while (s--) {
			struct uper_reader part;

			GET(6, v);
			ret = uper__get_open_span(&r, &part);
			if (ret == V2X_E_LIMIT) {
				/* Fragmented: far too big to be a VSE we read. */
				seen_vse += v == 0;
				ret = uper__skip_open(&r);
			} else if (ret == 0 && v == 0 && !seen_vse++) {
				ret = bsm__vse_events(&part, out);
			}
			if (ret < 0)
				goto out;
		}
	}
	if (pre & 1) {
		ret = bsm__skip_regional(&r);
		if (ret < 0)
			goto out;
	}
	if (pre & 4) {
		ret = bsm__skip_ext(&r);
		if (ret < 0)
			goto out;
	}
	if (mf_ext) {
		ret = bsm__skip_ext(&mf);
		if (ret < 0)
			goto out;
	}
	ret = (int)((mf.pos + 7) / 8);
out:
	return ret;
}

#define PUT(lb, ub, val)                                             \
	do {                                                         \
		ret = uper__put_cint(&w, (lb), (ub), (int64_t)(val)); \
		if (ret < 0)                                         \
			goto out;                                    \
	} while (0)

/*
 * v2x_uper_encode_bsm() - see v2x/j2735.h.  Any thread; no allocation.
 */
int v2x_uper_encode_bsm(const struct v2x_bsm *bsm, uint8_t *buf, size_t cap)
{
	struct uper_writer w;
	/* 3 preamble + 290 core bits; Part II adds 41 bits (see below). */
	size_t bits = bsm->has_events ? 334 : 293;
	int ret;

	uper__writer_init(&w, buf, cap);
	if (bsm->wheel_brakes > 31 || bsm->events > 0x1fff) {
		ret = V2X_E_RANGE;
		goto out;
	}
	PUT(0, 65535, V2X_J2735_ID_BSM); /* extension bit 0 + messageId */
	PUT(0, 255, (bits + 7) / 8);     /* open type length */
	PUT(0, 7, bsm->has_events ? 2 : 0);
	PUT(0, 127, bsm->msg_cnt);
	PUT(0, 0xffffffffLL, bsm->id);
	PUT(0, 65535, bsm->sec_mark);
	PUT(-900000000, 900000001, bsm->lat);
	PUT(-1799999999, 1800000001, bsm->lon);
	PUT(-4096, 61439, bsm->elev);
	PUT(0, 255, bsm->acc_semi_major);
	PUT(0, 255, bsm->acc_semi_minor);
	PUT(0, 65535, bsm->acc_orient);
	PUT(0, 7, bsm->transmission);
	PUT(0, 8191, bsm->speed);
	PUT(0, 28800, bsm->heading);
	PUT(-126, 127, bsm->angle);
	PUT(-2000, 2001, bsm->accel_long);
	PUT(-2000, 2001, bsm->accel_lat);
	PUT(-127, 127, bsm->accel_vert);
	PUT(-32767, 32767, bsm->yaw_rate);
	PUT(0, 31, bsm__rev(bsm->wheel_brakes, 5));
	PUT(0, 3, bsm->traction);
	PUT(0, 3, bsm->abs);
	PUT(0, 3, bsm->scs);
	PUT(0, 2, bsm->brake_boost);
	PUT(0, 3, bsm->aux_brakes);
	PUT(0, 1023, bsm->width_cm);
	PUT(0, 4095, bsm->length_cm);
	if (bsm->has_events) {
		/* partII count 1 (3 bits), partII-Id 0 (6), length 3 (8). */
		PUT(1, 8, 1);
		PUT(0, 63, 0);
		PUT(0, 255, 3);
		/* VSE: ext 0, events present, 3 absent; BIT STRING ext 0. */
		PUT(0, 63, 0x10);
		PUT(0, 8191, bsm__rev(bsm->events, 13));
		PUT(0, 31, 0); /* pad the open type to its 3 octets */
	}
	ret = uper__pad(&w);
	if (ret < 0)
		goto out;
	ret = (int)(w.pos / 8);
out:
	return ret;
}
