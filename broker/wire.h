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

struct track;

struct mp_buf {
	uint8_t *p;
	size_t len, cap;
	int overflow; /* set when a write did not fit; later writes are no-ops */
};

void mp_init(struct mp_buf *b, uint8_t *buf, size_t cap);
void mp_map(struct mp_buf *b, uint32_t n);
void mp_array(struct mp_buf *b, uint32_t n);
void mp_str(struct mp_buf *b, const char *s);
void mp_strn(struct mp_buf *b, const char *s, size_t n);
void mp_bin(struct mp_buf *b, const void *p, size_t n);
void mp_uint(struct mp_buf *b, uint64_t v);
void mp_int(struct mp_buf *b, int64_t v);
void mp_f32(struct mp_buf *b, float v);
void mp_f64(struct mp_buf *b, double v);
void mp_bool(struct mp_buf *b, int v);
void mp_nil(struct mp_buf *b);

/* mp_finish() - bytes written, or V2X_E_NOSPACE if anything did not fit. */
int mp_finish(const struct mp_buf *b);

/*
 * wire_encode_obj() - the "obj" frame of track t: {"t":"obj","ts","id",
 * "cls","lat","lon","speed","heading","src","len","wid"} (see docs).
 * Returns bytes written or V2X_E_NOSPACE.
 */
int wire_encode_obj(const struct track *t, uint8_t *buf, size_t cap);

#endif
