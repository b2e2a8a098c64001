/* SPDX-License-Identifier: MIT */
/*
 * wire.h - a small msgpack writer into a caller buffer (no allocation), and
 * the broker's own output frames: "obj" (a fused road user, topic
 * obj/<geohash7>).  The frame is documented in docs/broker.md.
 *
 * Pure functions, any thread.
 */
#ifndef V2X_BROKER_WIRE_H
#define V2X_BROKER_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "v2x/error.h"

struct track;

struct mp_buf {
	uint8_t *p;
	size_t len, cap;
	int overflow; /* set when a write did not fit; later writes are no-ops */
};

/*
 * The writer is inline: its callers write constant keys, whose lengths
 * and copies then cost nothing at run time (the obj frame goes out for
 * every road user update).
 */
/* Initialises b to write into buf[0..cap). */
static inline void mp_init(struct mp_buf *b, uint8_t *buf, size_t cap)
{
	b->p = buf;
	b->len = 0;
	b->cap = cap;
	b->overflow = 0;
}

static inline uint8_t *mp__room(struct mp_buf *b, size_t n)
{
	uint8_t *at;

	if (b->overflow || b->cap - b->len < n) {
		b->overflow = 1;
		return NULL;
	}
	at = b->p + b->len;
	b->len += n;
	return at;
}

static inline void mp__be(uint8_t *at, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		at[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline void mp__tagged(struct mp_buf *b, uint8_t tag, uint64_t v, int bytes)
{
	uint8_t *at = mp__room(b, 1 + (size_t)bytes);

	if (!at)
		return;
	at[0] = tag;
	mp__be(at + 1, v, bytes);
}

static inline void mp__header(struct mp_buf *b, uint32_t n, uint8_t fix, uint32_t fixmax,
		       uint8_t t8, uint8_t t16, uint8_t t32)
{
	if (n <= fixmax) {
		uint8_t *at = mp__room(b, 1);

		if (at)
			at[0] = (uint8_t)(fix | n);
	} else if (t8 && n <= 0xff) {
		mp__tagged(b, t8, n, 1);
	} else if (n <= 0xffff) {
		mp__tagged(b, t16, n, 2);
	} else {
		mp__tagged(b, t32, n, 4);
	}
}

/* Map header of n pairs. */
static inline void mp_map(struct mp_buf *b, uint32_t n)
{
	mp__header(b, n, 0x80, 15, 0, 0xde, 0xdf);
}

/* Array header of n elements. */
static inline void mp_array(struct mp_buf *b, uint32_t n)
{
	mp__header(b, n, 0x90, 15, 0, 0xdc, 0xdd);
}

/* String of n bytes (UTF-8 is the caller's business). */
static inline void mp_strn(struct mp_buf *b, const char *s, size_t n)
{
	uint8_t *at;

	if (n > UINT32_MAX) {
		b->overflow = 1;
		return;
	}
	mp__header(b, (uint32_t)n, 0xa0, 31, 0xd9, 0xda, 0xdb);
	at = mp__room(b, n);
	if (at && n)
		memcpy(at, s, n);
}

/*
 * A string of n <= 31 bytes known at compile time, such as a map key: one
 * capacity check and a copy of constant size (MP_KEY(b, "lat")).
 */
static inline __attribute__((always_inline)) void mp_key(struct mp_buf *b, const char *s,
							 size_t n)
{
	uint8_t *at = mp__room(b, 1 + n);

	if (at) {
		at[0] = (uint8_t)(0xa0 | n);
		memcpy(at + 1, s, n);
	}
}

#define MP_KEY(b, lit) mp_key((b), "" lit, sizeof(lit) - 1)

/* NUL-terminated string. */
static inline void mp_str(struct mp_buf *b, const char *s)
{
	mp_strn(b, s, strlen(s));
}

/* Binary of n bytes. */
static inline void mp_bin(struct mp_buf *b, const void *p, size_t n)
{
	uint8_t *at;

	if (n > UINT32_MAX) {
		b->overflow = 1;
		return;
	}
	if (n <= 0xff)
		mp__tagged(b, 0xc4, n, 1);
	else if (n <= 0xffff)
		mp__tagged(b, 0xc5, n, 2);
	else
		mp__tagged(b, 0xc6, n, 4);
	at = mp__room(b, n);
	if (at && n)
		memcpy(at, p, n);
}

/* Unsigned integer in its shortest form. */
static inline void mp_uint(struct mp_buf *b, uint64_t v)
{
	if (v <= 0x7f) {
		uint8_t *at = mp__room(b, 1);

		if (at)
			at[0] = (uint8_t)v;
	} else if (v <= 0xff) {
		mp__tagged(b, 0xcc, v, 1);
	} else if (v <= 0xffff) {
		mp__tagged(b, 0xcd, v, 2);
	} else if (v <= 0xffffffffu) {
		mp__tagged(b, 0xce, v, 4);
	} else {
		mp__tagged(b, 0xcf, v, 8);
	}
}

/* Signed integer in its shortest form. */
static inline void mp_int(struct mp_buf *b, int64_t v)
{
	if (v >= 0) {
		mp_uint(b, (uint64_t)v);
	} else if (v >= -32) {
		uint8_t *at = mp__room(b, 1);

		if (at)
			at[0] = (uint8_t)(int8_t)v;
	} else if (v >= INT8_MIN) {
		mp__tagged(b, 0xd0, (uint64_t)v & 0xff, 1);
	} else if (v >= INT16_MIN) {
		mp__tagged(b, 0xd1, (uint64_t)v & 0xffff, 2);
	} else if (v >= INT32_MIN) {
		mp__tagged(b, 0xd2, (uint64_t)v & 0xffffffffu, 4);
	} else {
		mp__tagged(b, 0xd3, (uint64_t)v, 8);
	}
}

/* 32-bit float. */
static inline void mp_f32(struct mp_buf *b, float v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	mp__tagged(b, 0xca, u, 4);
}

/* 64-bit float. */
static inline void mp_f64(struct mp_buf *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	mp__tagged(b, 0xcb, u, 8);
}

/* Boolean. */
static inline void mp_bool(struct mp_buf *b, int v)
{
	uint8_t *at = mp__room(b, 1);

	if (at)
		at[0] = v ? 0xc3 : 0xc2;
}

/* Nil. */
static inline void mp_nil(struct mp_buf *b)
{
	uint8_t *at = mp__room(b, 1);

	if (at)
		at[0] = 0xc0;
}

/* mp_finish() - bytes written, or V2X_E_NOSPACE if anything did not fit. */
static inline int mp_finish(const struct mp_buf *b)
{
	if (b->overflow || b->len > INT32_MAX)
		return V2X_E_NOSPACE;
	return (int)b->len;
}

/*
 * wire_encode_obj() - the "obj" frame of track t: {"t":"obj","ts","id",
 * "cls","lat","lon","speed","heading","src","len","wid"} (see docs).
 * Returns bytes written or V2X_E_NOSPACE.
 */
int wire_encode_obj(const struct track *t, uint8_t *buf, size_t cap);

#endif
