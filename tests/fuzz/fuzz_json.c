/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json - libFuzzer target for v2x_msg_from_json().
 *
 * Any input: a clean result.  Text that parses must print, and the printed
 * text must parse back to the same message and print identically; the
 * message must also survive msgpack unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/msg_gen.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char text1[1 << 20], text2[1 << 20];
static uint8_t enc[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct v2x_msgpack_decoder *dec;
	static struct v2x_msg a, b, c;

	if (!dec && !(dec = v2x_msgpack_decoder_new()))
		abort();
	int rc = v2x_msg_from_json((const char *)data, size, &a);
	if (rc < 0) {
		if (strcmp(v2x_errname(rc), "unknown") == 0)
			abort();
		return 0;
	}
	int n1 = v2x_msg_to_json(&a, text1, sizeof(text1));
	if (n1 <= 0)
		abort();
	if (v2x_msg_from_json(text1, (size_t)n1, &b) != 0 || !msg_equal(&a, &b))
		abort();
	int n2 = v2x_msg_to_json(&b, text2, sizeof(text2));
	if (n2 != n1 || memcmp(text1, text2, (size_t)n1) != 0)
		abort();
	int m = v2x_msgpack_encode(&a, enc, sizeof(enc));
	if (m <= 0)
		abort();
	if (v2x_msgpack_decode(dec, enc, (size_t)m, &c) != m || !msg_equal(&a, &c))
		abort();
	return 0;
}
