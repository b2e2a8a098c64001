/* SPDX-License-Identifier: MIT */
/*
 * codecs/msgpack_fast.h - module-internal: the two msgpack encoders behind
 * v2x_msgpack_encode(), exposed so that tests and the codec benchmark can
 * hold them against each other.  Not installed, not part of the public API.
 *
 * The generic encoder walks the field tables of msgpack.c through the
 * abstract sink (msgpack_int.h) into msgpack-c's packer: it handles every
 * message type and every buffer size.  The direct writers for the hot
 * frames (bsm, objects) write the same octets straight into the caller's
 * buffer; v2x_msgpack_encode() uses one when the message is valid and the
 * buffer holds the frame's largest possible size, and the generic encoder
 * otherwise (docs/wire.md, "Encoding").
 */
#ifndef V2X_CODECS_MSGPACK_FAST_H
#define V2X_CODECS_MSGPACK_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "v2x/msg.h"

/*
 * Returned by msgpack__encode_fast() when it does not take the message:
 * a type without a direct writer, a value out of range, or a buffer that
 * may be too small.  The generic encoder then decides (and reports the
 * error, if any).  Never returned by a public function.
 */
#define MSGPACK__DECLINED (-1)

/*
 * msgpack__encode_generic() - the table-driven encoder over msgpack-c.
 * Same contract as v2x_msgpack_encode(): octets written, V2X_E_NOSPACE,
 * V2X_E_RANGE, V2X_E_UNKNOWN_MSG or V2X_E_LIMIT.  Allocates nothing;
 * thread-safe.
 */
int msgpack__encode_generic(const struct v2x_msg *msg, uint8_t *buf,
			    size_t cap);

/*
 * msgpack__encode_fast() - the direct writers.  Returns octets written
 * (the same octets msgpack__encode_generic() writes for msg) or
 * MSGPACK__DECLINED; never writes at or past buf + cap, and never past
 * the returned length on success.  After a decline buf[0..cap) may hold
 * partial output.  Allocates nothing; thread-safe.
 */
int msgpack__encode_fast(const struct v2x_msg *msg, uint8_t *buf, size_t cap);

/*
 * Largest bsm frame and the largest objects frame of n objects (n <=
 * V2X_OBJECTS_MAX), in octets: the direct writers need this much room.
 */
size_t msgpack__bsm_max(void);
size_t msgpack__objects_max(unsigned n);

#endif
