/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "v2x/error.h"

const char *v2x_strerror(int err)
{
	switch (err) {
	case V2X_OK:
		return "success";
	case V2X_E_TRUNCATED:
		return "truncated input";
	case V2X_E_RANGE:
		return "value out of range";
	case V2X_E_UNKNOWN_MSG:
		return "unknown message type";
	case V2X_E_LIMIT:
		return "length or count over limit";
	case V2X_E_TRAILING:
		return "trailing bytes after message";
	case V2X_E_TYPE:
		return "wrong field type";
	case V2X_E_MISSING:
		return "mandatory field missing";
	case V2X_E_NOSPACE:
		return "output buffer too small";
	case V2X_E_SYNTAX:
		return "syntax error";
	case V2X_E_FRAMING:
		return "invalid outer framing";
	case V2X_E_INVALID:
		return "invalid encoding";
	case V2X_E_NESTING:
		return "nesting too deep";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

const char *v2x_errname(int err)
{
	switch (err) {
	case V2X_OK:
		return "ok";
	case V2X_E_TRUNCATED:
		return "truncated";
	case V2X_E_RANGE:
		return "range";
	case V2X_E_UNKNOWN_MSG:
		return "unknown_msg";
	case V2X_E_LIMIT:
		return "limit";
	case V2X_E_TRAILING:
		return "trailing";
	case V2X_E_TYPE:
		return "type";
	case V2X_E_MISSING:
		return "missing";
	case V2X_E_NOSPACE:
		return "nospace";
	case V2X_E_SYNTAX:
		return "syntax";
	case V2X_E_FRAMING:
		return "framing";
	case V2X_E_INVALID:
		return "invalid";
	case V2X_E_NESTING:
		return "nesting";
	default:
		break;
	}
	return err < 0 && err > -4096 ? "system" : "unknown";
}
