/* SPDX-License-Identifier: MIT */
/*
 * fuzz_uper_bsm.c - the BSM fast path: decode any input; what decodes must
 * re-encode and decode to the same struct, and agree with the full model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/j2735.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct v2x_j2735_msg full;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct v2x_bsm a, b, c;
	uint8_t out[300];
	int n;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	if (v2x_uper_decode_bsm(data, size, &a) < 0)
		return 0;
	n = v2x_uper_encode_bsm(&a, out, sizeof(out));
	if (n <= 0)
		abort();
	if (v2x_uper_decode_bsm(out, (size_t)n, &b) != n ||
	    memcmp(&a, &b, sizeof(a)))
		abort();
	/*
	 * Whenever the full model also accepts it, both views agree.  The
	 * fast path reads only the events of the first VehicleSafetyExtensions;
	 * when the rest of that extension is malformed the full model keeps it
	 * opaque and reports no events, so events are compared only when the
	 * full model has them.
	 */
	if (v2x_j2735_decode(data, size, &full) > 0) {
		if (v2x_j2735_to_bsm(&full, &c) != 0)
			abort();
		if (!c.has_events) {
			c.has_events = a.has_events;
			c.events = a.events;
		}
		if (memcmp(&a, &c, sizeof(a)))
			abort();
	}
	return 0;
}
