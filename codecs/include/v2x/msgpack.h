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
 * A decoder handle.  Decoding allocates nothing and needs no scratch memory
 * (a bounds-checked pull reader, see docs/wire.md); the handle is kept so
 * that per-decoder state can be added without changing callers.  One
 * decoder per thread.
 */
struct v2x_msgpack_decoder;

/* Returns a decoder, or NULL on allocation failure.  Free with _free(). */
struct v2x_msgpack_decoder *v2x_msgpack_decoder_new(void);
/* Frees dec; NULL is a no-op. */
void v2x_msgpack_decoder_free(struct v2x_msgpack_decoder *dec);

/*
 * v2x_msgpack_decode() - decode one frame from buf into out.  Returns octets
 * consumed, or V2X_E_TRUNCATED (input ends inside the frame, or a header
 * announces more than is left), V2X_E_TYPE, V2X_E_RANGE, V2X_E_MISSING,
 * V2X_E_UNKNOWN_MSG (unknown "t"), V2X_E_LIMIT (array longer than the
 * model holds), V2X_E_NESTING (deeper than 8), V2X_E_INVALID (0xc1, or a
 * known key twice).  Trailing octets after the frame are left to the caller
 * to report.  Only the part of out for the decoded type is written; on
 * error it may hold partial data.  Unsigned 64-bit fields are limited to
 * 0..2^63-1 (docs/wire.md).
 */
int v2x_msgpack_decode(struct v2x_msgpack_decoder *dec, const uint8_t *buf,
		       size_t len, struct v2x_msg *out);

/*
 * v2x_msgpack_encode() - encode msg into buf.  Returns octets written,
 * V2X_E_NOSPACE, or V2X_E_RANGE / V2X_E_UNKNOWN_MSG for an invalid msg
 * (every field is range-checked as the decoder would).  Allocates nothing;
 * thread-safe.  A BSM frame takes about 250 octets, an objects frame of
 * 128 objects about 11 KiB; 16 KiB is always enough.
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
