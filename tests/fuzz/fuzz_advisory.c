/* SPDX-License-Identifier: MIT */
/*
 * fuzz_advisory - a cloud advisory (MQTT payload, untrusted) through
 * advisory_prepare(): any bytes give a length or a V2X_E_* code, never a
 * crash; on success the output is a complete msgpack map and the cell a
 * 7-character (or default) geohash.  The same bytes through
 * advisory_closure(): 1 with a closure that is complete (an id, a clear or
 * a position or a lane range, sane numbers), 0, or a code with its reason.
 */
#include <math.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "advisory.h"
#include "closures.h"
#include "v2x/error.h"

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
	{
		struct closure_msg m;
		char err[160];
		int r = advisory_closure(data, size, out, sizeof(out), &m, err,
					 sizeof(err));

		if (r == 1) {
			if (!m.id[0] || strlen(m.id) >= CLOSURE_ID_MAX ||
			    m.n_lanes > CLOSURE_LANES_MAX)
				abort();
			if (!m.cleared && !m.has_pos && !m.has_range)
				abort();
			if (m.has_range && !(m.from_m >= 0 && m.to_m >= m.from_m))
				abort();
			if (m.has_pos && !(fabs(m.lat) <= 90 && fabs(m.lon) <= 180))
				abort();
			if (!(m.length_m >= 0))
				abort();
		} else if (r < 0 && (!err[0] || r < V2X_E_NESTING)) {
			abort();
		} else if (r > 1) {
			abort();
		}
	}
	/* Without a default cell a position-less advisory is refused. */
	advisory_prepare(data, size, "", out, sizeof(out), cell);
	/* A tiny output buffer must be reported, not overrun. */
	advisory_prepare(data, size, "u0", out, 8, cell);
	return 0;
}
