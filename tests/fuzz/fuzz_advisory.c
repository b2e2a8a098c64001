/* SPDX-License-Identifier: MIT */
/*
 * fuzz_advisory - a cloud advisory (MQTT payload, untrusted) through
 * advisory_prepare(): any bytes give a length or a V2X_E_* code, never a
 * crash; on success the output is a complete msgpack map and the cell a
 * 7-character (or default) geohash.
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "advisory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4096];
	char cell[8];
	int n = advisory_prepare(data, size, "u0zzzzz", out, sizeof(out), cell);

	if (n >= 0) {
		msgpack_unpacked u;
		size_t off = 0;

		if (strlen(cell) != 7)
			abort();
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, (const char *)out, (size_t)n, &off) !=
			    MSGPACK_UNPACK_SUCCESS ||
		    u.data.type != MSGPACK_OBJECT_MAP || off != (size_t)n)
			abort();
		msgpack_unpacked_destroy(&u);
	}
	/* Without a default cell a position-less advisory is refused. */
	advisory_prepare(data, size, "", out, sizeof(out), cell);
	/* A tiny output buffer must be reported, not overrun. */
	advisory_prepare(data, size, "u0", out, 8, cell);
	return 0;
}
