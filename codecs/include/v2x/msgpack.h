/* SPDX-License-Identifier: MIT */
/*
 * v2x/msgpack.h - the native msgpack frame (contract, docs/wire.md) for every
 * type of the message model, and JSON for people and tools.
 *
 * A frame is a msgpack map with "t" (type name: "bsm", "objects", "spat",
 * "event"), "ts" (ns since Unix epoch) and the type's named fields.  Decoding
 * is strict on types and ranges, ignores unknown keys, and bounds nesting and
 * lengths.
 */
#ifndef V2X_MSGPACK_H
#define V2X_MSGPACK_H

#include <stddef.h>
#include <stdint.h>

#include "v2x/msg.h"

/*
 * A decoder holds the scratch memory msgpack-c needs, allocated once by
 * _new() so that decoding allocates nothing.  One decoder per thread.
 */
struct v2x_msgpack_decoder;

/* Returns a decoder, or NULL on allocation failure.  Free with _free(). */
struct v2x_msgpack_decoder *v2x_msgpack_decoder_new(void);
/* Frees dec; NULL is a no-op. */
void v2x_msgpack_decoder_free(struct v2x_msgpack_decoder *dec);

/*
 * v2x_msgpack_decode() - decode one frame from buf into out.  Returns octets
 * consumed, or V2X_E_TRUNCATED, V2X_E_TYPE, V2X_E_RANGE, V2X_E_MISSING,
 * V2X_E_UNKNOWN_MSG (unknown "t"), V2X_E_LIMIT, V2X_E_NESTING, V2X_E_INVALID.
 * Trailing octets after the frame are left to the caller to report.
 */
int v2x_msgpack_decode(struct v2x_msgpack_decoder *dec, const uint8_t *buf,
		       size_t len, struct v2x_msg *out);

/*
 * v2x_msgpack_encode() - encode msg into buf.  Returns octets written,
 * V2X_E_NOSPACE, or V2X_E_RANGE / V2X_E_UNKNOWN_MSG for an invalid msg.
 * Allocates nothing.
 */
int v2x_msgpack_encode(const struct v2x_msg *msg, uint8_t *buf, size_t cap);

/*
 * v2x_msg_to_json() - one line of JSON with the frame's own field names.
 * Returns length (excluding NUL) or V2X_E_NOSPACE.
 */
int v2x_msg_to_json(const struct v2x_msg *msg, char *out, size_t cap);

/* v2x_msg_from_json() - parse what to_json prints; 0 or V2X_E_*. */
int v2x_msg_from_json(const char *text, size_t len, struct v2x_msg *msg);

#endif
