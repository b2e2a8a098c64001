/* SPDX-License-Identifier: MIT */
/*
 * v2x/j2735.h - SAE J2735 MessageFrame in UPER (ITU-T X.691 unaligned PER),
 * decode and encode, bit-exact; JSON in the style of X.697 JER; the outer
 * framings seen in the field (IEEE 1609.2 Ieee1609Dot2Data, WSMP).
 *
 * Two APIs:
 *  - the fast path used by the broker and the simulator: MessageFrame <->
 *    struct v2x_bsm (BSMcoreData + VehicleEventFlags), zero allocation;
 *  - the full-fidelity path used by v2x-codec: MessageFrame <->
 *    struct v2x_j2735_msg, which models BSM (with Part II), SPaT and PSM and
 *    keeps what it does not model as opaque bytes, so that re-encoding
 *    reproduces the input exactly.
 *
 * No function here allocates, logs or keeps state; all are thread-safe.
 */
#ifndef V2X_J2735_H
#define V2X_J2735_H

#include <stddef.h>
#include <stdint.h>

#include "v2x/j2735_types.h"
#include "v2x/msg.h"

/* DSRCmsgID values (J2735 2016+). */
#define V2X_J2735_ID_SPAT 19
#define V2X_J2735_ID_BSM 20
#define V2X_J2735_ID_PSM 32

/*
 * v2x_uper_decode_bsm() - decode a UPER MessageFrame holding a BSM into the
 * compact model.  Part II VehicleSafetyExtensions' event flags are kept (sets
 * has_events/events); every other Part II kind, regional extension and
 * extension addition is skipped by its length.  out->ts_ns is set to 0.
 *
 * Returns the number of octets consumed (the whole frame, padded to an octet),
 * or V2X_E_TRUNCATED, V2X_E_RANGE, V2X_E_UNKNOWN_MSG (not messageId 20),
 * V2X_E_LIMIT, V2X_E_INVALID.  Trailing octets after the frame are not an
 * error here: the caller compares the return with len.
 */
int v2x_uper_decode_bsm(const uint8_t *buf, size_t len, struct v2x_bsm *out);

/*
 * v2x_uper_encode_bsm() - encode bsm as a UPER MessageFrame (messageId 20),
 * with a Part II VehicleSafetyExtensions carrying the event flags when
 * bsm->has_events is set.  Returns octets written, V2X_E_RANGE for a field
 * outside its range, V2X_E_NOSPACE if cap is too small (300 is always enough).
 */
int v2x_uper_encode_bsm(const struct v2x_bsm *bsm, uint8_t *buf, size_t cap);

/*
 * Full-fidelity model.  The struct is defined in v2x/j2735_types.h; it is
 * large (about 192 KiB) and fixed-size: allocate it once and reuse it.
 */
struct v2x_j2735_msg;

/*
 * v2x_j2735_decode() - decode a UPER MessageFrame into msg.  Returns octets
 * consumed (trailing octets after the frame are left to the caller to report)
 * or a V2X_E_* code.  A messageId this codec does not model decodes as an
 * opaque value (kept as bytes) rather than failing.
 */
int v2x_j2735_decode(const uint8_t *buf, size_t len, struct v2x_j2735_msg *msg);

/* v2x_j2735_encode() - the reverse; returns octets written or V2X_E_*. */
int v2x_j2735_encode(const struct v2x_j2735_msg *msg, uint8_t *buf, size_t cap);

/*
 * v2x_j2735_to_json() - render msg as one line of JSON (no newline) in the
 * X.697 JER style: {"messageId":20,"value":{"coreData":{...},"partII":[...]}}.
 * Returns the string length (excluding NUL) or V2X_E_NOSPACE.
 */
int v2x_j2735_to_json(const struct v2x_j2735_msg *msg, char *out, size_t cap);

/* v2x_j2735_from_json() - parse what to_json prints.  Returns 0 or V2X_E_*. */
int v2x_j2735_from_json(const char *text, size_t len, struct v2x_j2735_msg *msg);

/* v2x_j2735_to_bsm() - compact view of a decoded BSM; V2X_E_UNKNOWN_MSG if not one. */
int v2x_j2735_to_bsm(const struct v2x_j2735_msg *msg, struct v2x_bsm *out);

/*
 * v2x_j2735_to_spat() - compact view of intersection number `which` (0 for
 * the first) of a decoded SPaT: its id, revision, status, times and, per
 * MovementState, the signal group and the first MovementEvent's state and
 * timing (36001 where absent).  out->ts_ns is 0.  Returns 0,
 * V2X_E_UNKNOWN_MSG if msg is not a SPaT, V2X_E_RANGE if there is no such
 * intersection, V2X_E_LIMIT beyond V2X_SPAT_MOVEMENTS_MAX states.
 */
int v2x_j2735_to_spat(const struct v2x_j2735_msg *msg, int which,
		      struct v2x_spat *out);

/* Outer framing. */
enum v2x_framing {
	V2X_FRAMING_AUTO = 0,
	V2X_FRAMING_RAW = 1,    /* a bare MessageFrame */
	V2X_FRAMING_1609_2 = 2, /* Ieee1609Dot2Data (unsecured or signed) */
	V2X_FRAMING_WSMP = 3,   /* IEEE 1609.3 WSMP header (+ optional 1609.2) */
};

enum v2x_signer {
	V2X_SIGNER_NONE = 0,   /* unsecured data */
	V2X_SIGNER_DIGEST = 1,
	V2X_SIGNER_CERTIFICATE = 2,
	V2X_SIGNER_SELF = 3,
};

struct v2x_frame_info {
	uint8_t framing;      /* enum v2x_framing actually found */
	uint8_t signed_data;  /* 1 if 1609.2 signedData */
	uint8_t signer;       /* enum v2x_signer */
	uint8_t has_wsmp;     /* 1 if a WSMP header was present */
	uint32_t psid;        /* WSMP / 1609.2 PSID if present, else 0 */
	size_t offset;        /* where the MessageFrame starts in the input */
	size_t length;        /* its length in octets */
};

/*
 * v2x_frame_unwrap() - find the MessageFrame inside buf.  With
 * V2X_FRAMING_AUTO the outer framing is detected.  Fills info; returns 0 or
 * V2X_E_FRAMING / V2X_E_TRUNCATED.  The MessageFrame is buf[info->offset ..
 * info->offset + info->length); nothing is copied.
 */
int v2x_frame_unwrap(const uint8_t *buf, size_t len, int framing,
		     struct v2x_frame_info *info);

/* Name of an enum v2x_framing / v2x_signer value ("raw", "1609.2", ...). */
const char *v2x_framing_name(int framing);
const char *v2x_signer_name(int signer);

#endif
