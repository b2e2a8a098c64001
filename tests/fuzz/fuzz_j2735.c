/* SPDX-License-Identifier: MIT */
/*
 * fuzz_j2735.c - the full model: decode any input; what decodes must
 * re-encode to exactly the octets consumed, decode again to the same JSON,
 * and survive JSON -> parse -> encode unchanged.  Aborts on any mismatch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/j2735.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct v2x_j2735_msg m1, m2;
static uint8_t out[1 << 17], out2[1 << 17];
static char j1[1 << 20], j2[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n, e, l1, l2;

	n = v2x_j2735_decode(data, size, &m1);
	if (n < 0)
		return 0;
	e = v2x_j2735_encode(&m1, out, sizeof(out));
	if (e != n || memcmp(out, data, (size_t)n))
		abort();
	if (v2x_j2735_decode(out, (size_t)e, &m2) != e)
		abort();
	l1 = v2x_j2735_to_json(&m1, j1, sizeof(j1));
	l2 = v2x_j2735_to_json(&m2, j2, sizeof(j2));
	if (l1 <= 0 || l1 != l2 || memcmp(j1, j2, (size_t)l1))
		abort();
	if (v2x_j2735_from_json(j1, (size_t)l1, &m2) != 0)
		abort();
	if (v2x_j2735_encode(&m2, out2, sizeof(out2)) != n ||
	    memcmp(out2, data, (size_t)n))
		abort();
	return 0;
}
