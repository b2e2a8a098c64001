/* SPDX-License-Identifier: MIT */
/*
 * advisory.h - turning an advisory received from the cloud (MQTT
 * <prefix>/advisory/#) into the ZeroMQ message adv/<geohash7>.
 *
 * The cloud may send a msgpack map or a JSON object.  Its position, if any,
 * is read from the keys "lat" and "lon", numbers in degrees (as in every
 * msgpack frame of the message model, docs/wire.md).
 * The ZeroMQ payload is always a msgpack map: the cloud's msgpack bytes
 * unchanged, or the JSON object converted key by key (strings, numbers,
 * booleans, null, arrays, nested objects).
 *
 * Runs on the publish thread.  The msgpack path allocates nothing and
 * checks every length against the bytes present before using it; the JSON
 * path uses jansson, which allocates (advisories are rare: this is not the
 * per-message path).
 */
#ifndef V2X_BROKER_ADVISORY_H
#define V2X_BROKER_ADVISORY_H

#include <stddef.h>
#include <stdint.h>

/*
 * advisory_prepare() - parse payload; write the ZeroMQ payload into out and
 * the geohash7 of its position into cell (8 bytes; default_cell, truncated
 * to 7, when the advisory has no position).  Returns the payload length,
 * or V2X_E_SYNTAX (neither a msgpack map nor a JSON object), V2X_E_RANGE
 * (lat/lon out of range), V2X_E_MISSING (no position and no default
 * cell), V2X_E_NOSPACE (out too small), V2X_E_NESTING.
 */
int advisory_prepare(const void *payload, size_t len, const char *default_cell,
		     uint8_t *out, size_t cap, char cell[8]);

struct closure_msg;

/*
 * advisory_closure() - if the advisory (msgpack map or JSON object, as for
 * advisory_prepare()) is a lane closure ("type": "lane_closure",
 * docs/wire.md), check it and fill *out.  scratch (cap bytes, e.g. 4 KB)
 * holds the JSON form converted to msgpack.  Returns 1 for a valid lane
 * closure, 0 for any other advisory (or one advisory_prepare() would refuse
 * anyway: it is left to that path), or a negative code for a lane closure
 * that cannot be used, with the reason in err ("lane_closure: 'lanes' must
 * be an array of 1..8 lane ids"): V2X_E_TYPE, V2X_E_RANGE, V2X_E_MISSING,
 * V2X_E_LIMIT, V2X_E_INVALID.  Allocates nothing on the msgpack path (the
 * JSON path uses jansson).  Any thread.
 */
int advisory_closure(const void *payload, size_t len, uint8_t *scratch,
		     size_t cap, struct closure_msg *out, char *err,
		     size_t errlen);

#endif
