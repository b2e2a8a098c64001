/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tracks.c - the track table and geohash fed arbitrary input: BSMs and
 * sensor objects with any field values (unavailable, out of range, absurd
 * positions and times), expiry, removal, neighbour queries with any
 * coordinates, geohash decode/neighbours of any string.  After every
 * operation the table must agree with itself; any inconsistency aborts.
 *
 * Input: a sequence of operations, each one opcode byte followed by the
 * bytes it needs (missing bytes read as zero).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geohash.h"
#include "tracks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 64

struct reader {
	const uint8_t *p;
	size_t left;
};

static void take(struct reader *r, void *out, size_t n)
{
	size_t k = n < r->left ? n : r->left;

	memset(out, 0, n);
	memcpy(out, r->p, k);
	r->p += k;
	r->left -= k;
}

static void check(struct track_table *tt)
{
	const struct track *near[CAP + 1];
	uint32_t cursor = 0, n = 0;
	struct track *t;

	while ((t = track_table_next(tt, &cursor)) != NULL) {
		if (track_table_find(tt, t->key) != t || t->hist_len < 1 ||
		    t->hist_len > TRACK_HIST || t->tt_index >= CAP ||
		    memcmp(track_hist(t, 0), &t->cur, sizeof(t->cur)) ||
		    !(t->cur.speed_mps >= 0) || !(t->cur.heading_deg >= 0) ||
		    !(t->cur.heading_deg <= 360.0f))
			abort();
		n++;
	}
	if (n != track_table_count(tt) || n > CAP)
		abort();
	if (track_table_near(tt, 0, 0, 1e12, near, CAP + 1) != (int)n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct track_table *tt = track_table_new(CAP, NULL);
	uint64_t now = 0;

	if (!tt)
		return 0;
	while (r.left) {
		uint8_t op;

		take(&r, &op, 1);
		switch (op % 6) {
		case 0: {
			struct v2x_bsm b;
			uint32_t dt;

			take(&r, &b, sizeof(b));
			b.id %= 96; /* enough distinct ids to fill the table */
			take(&r, &dt, sizeof(dt));
			now += dt;
			track_table_update_bsm(tt, &b, now);
			break;
		}
		case 1: {
			struct v2x_object o;
			uint32_t sensor;
			uint64_t ts;

			take(&r, &o, sizeof(o));
			take(&r, &sensor, sizeof(sensor));
			take(&r, &ts, sizeof(ts));
			o.id %= 96;
			track_table_update_object(tt, sensor % 4, ts, &o, now);
			break;
		}
		case 2: {
			uint32_t silence;

			take(&r, &silence, sizeof(silence));
			track_table_expire(tt, now, silence, NULL, NULL);
			break;
		}
		case 3: {
			double q[3];
			const struct track *out[8];

			take(&r, q, sizeof(q));
			if (track_table_near(tt, q[0], q[1], q[2], out, 8) > 8)
				abort();
			break;
		}
		case 4: {
			char hash[14], nb[8][13];
			double lat, lon;

			take(&r, hash, 13);
			hash[13] = '\0';
			if (geohash_decode(hash, &lat, &lon, NULL, NULL) > 0) {
				char again[13];
				int p = (int)strlen(hash);

				if (geohash_encode(lat, lon, p, again) != p)
					abort();
				if (geohash_neighbors(hash, nb) < 5)
					abort();
			}
			break;
		}
		default: {
			uint32_t id;

			take(&r, &id, sizeof(id));
			track_table_remove(tt, track_key_v2x(id % 96));
			break;
		}
		}
		check(tt);
	}
	track_table_free(tt);
	return 0;
}
