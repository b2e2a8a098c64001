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

/* BSM preamble (extension bit, two optional bits) and BSMcoreData. */
#define BSM_CORE_BITS 293

/* n (<= 57) bits at bit p of a buffer with at least 8 readable octets. */
static inline uint64_t bsm__field(const uint8_t *buf, size_t p, unsigned n)
{
	uint64_t w;

	memcpy(&w, buf + (p >> 3), 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return (w << (p & 7)) >> (64 - n);
}

/* Reverse the low n bits: wire order (first bit = bit 0 in our fields). */
static unsigned bsm__rev(unsigned v, unsigned n)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n; i++)
		out |= ((v >> i) & 1) << (n - 1 - i);
	return out;
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
	/*
	 * The preamble and BSMcoreData are 293 bits at fixed offsets: check
	 * once, copy them into a zero-padded local buffer and extract each
	 * field with one unaligned 64-bit load, no per-field bounds check.
	 */
	if (uper__left(&r) < BSM_CORE_BITS) {
		ret = V2X_E_TRUNCATED;
		goto out;
	}
	{
		uint8_t core[48] = { 0 };
		size_t first = r.pos >> 3;
		size_t p = r.pos & 7;

		memcpy(core, r.buf + first,
		     ((r.pos + BSM_CORE_BITS + 7) >> 3) - first);
		r.pos += BSM_CORE_BITS;
#define F(n) (v = bsm__field(core, p, (n)), p += (n), v)
		pre = F(3);
		out->msg_cnt = (uint8_t)F(7);
		out->id = (uint32_t)F(32);
		out->sec_mark = (uint16_t)F(16);
		if (F(31) > 1800000001u)
			goto range;
		out->lat = (int32_t)((int64_t)v - 900000000);
		if (F(32) > 3600000000u)
			goto range;
		out->lon = (int32_t)((int64_t)v - 1799999999);
		out->elev = (int32_t)((int64_t)F(16) - 4096);
		out->acc_semi_major = (uint8_t)F(8);
		out->acc_semi_minor = (uint8_t)F(8);
		out->acc_orient = (uint16_t)F(16);
		out->transmission = (uint8_t)F(3);
		out->speed = (uint16_t)F(13);
		if (F(15) > 28800)
			goto range;
		out->heading = (uint16_t)v;
		if (F(8) > 253)
			goto range;
		out->angle = (int8_t)((int)v - 126);
		if (F(12) > 4001)
			goto range;
		out->accel_long = (int16_t)((int)v - 2000);
		if (F(12) > 4001)
			goto range;
		out->accel_lat = (int16_t)((int)v - 2000);
		if (F(8) > 254)
			goto range;
		out->accel_vert = (int8_t)((int)v - 127);
		if (F(16) > 65534)
			goto range;
		out->yaw_rate = (int16_t)((int)v - 32767);
		out->wheel_brakes = (uint8_t)bsm__rev((unsigned)F(5), 5);
		out->traction = (uint8_t)F(2);
		out->abs = (uint8_t)F(2);
		out->scs = (uint8_t)F(2);
		if (F(2) > 2)
			goto range;
		out->brake_boost = (uint8_t)v;
		out->aux_brakes = (uint8_t)F(2);
		out->width_cm = (uint16_t)F(10);
		out->length_cm = (uint16_t)F(12);
#undef F
	}

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
		ret = uper__skip_ext(&r);
		if (ret < 0)
			goto out;
	}
	if (mf_ext) {
		ret = uper__skip_ext(&mf);
		if (ret < 0)
			goto out;
	}
	ret = (int)((mf.pos + 7) / 8);
out:
	return ret;
range:
	return V2X_E_RANGE;
}

/* A minimal MSB-first bit packer for the fixed BSM layout. */
struct bsm_packer {
	uint8_t *p;
	uint64_t acc;
	unsigned nacc;
};

static inline void bsm__put(struct bsm_packer *w, unsigned n, uint64_t v)
{
	/* acc holds < 8 pending bits, so n <= 32 always fits. */
	w->acc = (w->acc << n) | v;
	w->nacc += n;
	while (w->nacc >= 8) {
		w->nacc -= 8;
		*w->p++ = (uint8_t)(w->acc >> w->nacc);
	}
}

/*
 * v2x_uper_encode_bsm() - see v2x/j2735.h.  Every field is range-checked
 * first; the layout is fixed (40 octets, 45 with Part II events).  Any
 * thread; no allocation.
 */
int v2x_uper_encode_bsm(const struct v2x_bsm *bsm, uint8_t *buf, size_t cap)
{
	/* 3 preamble + 290 core bits; Part II adds 41 bits (see below). */
	size_t bits = bsm->has_events ? 334 : 293;
	size_t total = 3 + (bits + 7) / 8;
	struct bsm_packer w = { buf, 0, 0 };
	int ret;

	if (bsm->msg_cnt > 127 || bsm->lat < -900000000 ||
	    bsm->lat > 900000001 || bsm->lon < -1799999999 ||
	    bsm->lon > 1800000001 || bsm->elev < -4096 || bsm->elev > 61439 ||
	    bsm->transmission > 7 || bsm->speed > 8191 ||
	    bsm->heading > 28800 || bsm->angle < -126 ||
	    bsm->accel_long < -2000 || bsm->accel_long > 2001 ||
	    bsm->accel_lat < -2000 || bsm->accel_lat > 2001 ||
	    bsm->accel_vert < -127 || bsm->yaw_rate < -32767 ||
	    bsm->wheel_brakes > 31 || bsm->traction > 3 || bsm->abs > 3 ||
	    bsm->scs > 3 || bsm->brake_boost > 2 || bsm->aux_brakes > 3 ||
	    bsm->width_cm > 1023 || bsm->length_cm > 4095 ||
	    bsm->events > 0x1fff) {
		ret = V2X_E_RANGE;
		goto out;
	}
	if (cap < total) {
		ret = V2X_E_NOSPACE;
		goto out;
	}
	bsm__put(&w, 16, V2X_J2735_ID_BSM); /* extension bit 0 + messageId */
	bsm__put(&w, 8, (bits + 7) / 8);    /* open type length */
	bsm__put(&w, 3, bsm->has_events ? 2 : 0);
	bsm__put(&w, 7, bsm->msg_cnt);
	bsm__put(&w, 32, bsm->id);
	bsm__put(&w, 16, bsm->sec_mark);
	bsm__put(&w, 31, (uint64_t)((int64_t)bsm->lat + 900000000));
	bsm__put(&w, 32, (uint64_t)((int64_t)bsm->lon + 1799999999));
	bsm__put(&w, 16, (uint64_t)(bsm->elev + 4096));
	bsm__put(&w, 8, bsm->acc_semi_major);
	bsm__put(&w, 8, bsm->acc_semi_minor);
	bsm__put(&w, 16, bsm->acc_orient);
	bsm__put(&w, 3, bsm->transmission);
	bsm__put(&w, 13, bsm->speed);
	bsm__put(&w, 15, bsm->heading);
	bsm__put(&w, 8, (uint64_t)(bsm->angle + 126));
	bsm__put(&w, 12, (uint64_t)(bsm->accel_long + 2000));
	bsm__put(&w, 12, (uint64_t)(bsm->accel_lat + 2000));
	bsm__put(&w, 8, (uint64_t)(bsm->accel_vert + 127));
	bsm__put(&w, 16, (uint64_t)(bsm->yaw_rate + 32767));
	bsm__put(&w, 5, bsm__rev(bsm->wheel_brakes, 5));
	bsm__put(&w, 2, bsm->traction);
	bsm__put(&w, 2, bsm->abs);
	bsm__put(&w, 2, bsm->scs);
	bsm__put(&w, 2, bsm->brake_boost);
	bsm__put(&w, 2, bsm->aux_brakes);
	bsm__put(&w, 10, bsm->width_cm);
	bsm__put(&w, 12, bsm->length_cm);
	if (bsm->has_events) {
		/* partII count 1 (3 bits), partII-Id 0 (6), length 3 (8). */
		bsm__put(&w, 3, 0);
		bsm__put(&w, 6, 0);
		bsm__put(&w, 8, 3);
		/* VSE: ext 0, events present, 3 absent; BIT STRING ext 0. */
		bsm__put(&w, 6, 0x10);
		bsm__put(&w, 13, bsm__rev(bsm->events, 13));
		bsm__put(&w, 5, 0); /* pad the open type to its 3 octets */
	}
	/* Pad the frame to an octet. */
	if (w.nacc)
		bsm__put(&w, 8 - w.nacc, 0);
	ret = (int)(w.p - buf);
out:
	return ret;
}
