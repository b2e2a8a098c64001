/* SPDX-License-Identifier: MIT */
/*
 * v2x/error.h - project error codes shared by every module.
 *
 * Functions return int: >= 0 on success (a count or bytes consumed), a
 * negative value on failure: -errno for system errors, or one of the
 * V2X_E_* codes below.  The V2X_E_* codes are below -4096 so that they never
 * collide with a negated errno value.
 */
#ifndef V2X_ERROR_H
#define V2X_ERROR_H

enum v2x_error {
	V2X_OK = 0,
	V2X_E_TRUNCATED = -5001,   /* input ended inside a field */
	V2X_E_RANGE = -5002,       /* a value is outside its declared range */
	V2X_E_UNKNOWN_MSG = -5003, /* message id / frame type not supported */
	V2X_E_LIMIT = -5004,       /* a length or count exceeds our limit */
	V2X_E_TRAILING = -5005,    /* bytes left over after a complete message */
	V2X_E_TYPE = -5006,        /* wrong type for a field (msgpack, JSON) */
	V2X_E_MISSING = -5007,     /* a mandatory field is absent */
	V2X_E_NOSPACE = -5008,     /* output buffer too small */
	V2X_E_SYNTAX = -5009,      /* malformed text (JSON, hex, INI) */
	V2X_E_FRAMING = -5010,     /* outer framing (1609.2, WSMP) invalid */
	V2X_E_INVALID = -5011,     /* structurally invalid (bad tag, choice) */
	V2X_E_NESTING = -5012,     /* nesting too deep */
};

/*
 * v2x_strerror() - a static, human-readable text for any return code:
 * a V2X_E_* code, a negated errno, or 0.  Never NULL; thread-safe.
 */
const char *v2x_strerror(int err);

/*
 * v2x_errname() - a short stable token for a code ("truncated", "range",
 * "unknown_msg", "limit", "trailing", ...), suitable for metric labels.
 * Negated errno values map to "system".  Never NULL; thread-safe.
 */
const char *v2x_errname(int err);

#endif
