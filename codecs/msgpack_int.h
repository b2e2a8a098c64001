/* SPDX-License-Identifier: MIT */
/*
 * codecs/msgpack_int.h - module-internal interface shared by msgpack.c and
 * msg_json.c.  Not installed, not part of the public API.
 *
 * The frame layout (which keys, in which order, with which range) is written
 * once, in msgpack.c, against an abstract sink; the msgpack encoder and the
 * JSON printer are two sinks.  It is read once, from msgpack bytes; the
 * JSON reader turns a jansson tree into msgpack bytes and decodes those.
 * So both encodings have identical keys and identical checks by
 * construction.
 */
#ifndef V2X_CODECS_MSGPACK_INT_H
#define V2X_CODECS_MSGPACK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "v2x/msg.h"

/* Deepest container nesting a frame may have (maps and arrays). */
#define MSGPACK__MAX_DEPTH 8

struct msgpack__sink;

/* Each returns 0 or a negative V2X_E_* code (V2X_E_NOSPACE when full). */
struct msgpack__sink_ops {
	int (*map)(struct msgpack__sink *s, uint32_t n);
	int (*map_end)(struct msgpack__sink *s);
	int (*array)(struct msgpack__sink *s, uint32_t n);
	int (*array_end)(struct msgpack__sink *s);
	int (*key)(struct msgpack__sink *s, const char *k, size_t len);
	int (*uint)(struct msgpack__sink *s, uint64_t v);
	int (*sint)(struct msgpack__sink *s, int64_t v);
	int (*f64)(struct msgpack__sink *s, double v);
	int (*f32)(struct msgpack__sink *s, float v);
	int (*str)(struct msgpack__sink *s, const char *v, size_t len);
};

/* A sink is embedded first in the encoder's own state. */
struct msgpack__sink {
	const struct msgpack__sink_ops *ops;
};

/*
 * msgpack__put_msg() - write msg as a frame into sink s.  Returns 0,
 * V2X_E_RANGE / V2X_E_UNKNOWN_MSG for an invalid msg, or the sink's error.
 */
int msgpack__put_msg(struct msgpack__sink *s, const struct v2x_msg *msg);

/*
 * msgpack__decode() - decode one frame from buf[0..len) into out.  Same
 * contract as v2x_msgpack_decode(), without a decoder handle.
 */
int msgpack__decode(const uint8_t *buf, size_t len, struct v2x_msg *out);

#endif
