/* SPDX-License-Identifier: MIT */
/*
 * fuzz_msgpack - libFuzzer target for v2x_msgpack_decode().
 *
 * Any input: a clean result, never a crash or an over-read.  An input that
 * decodes must re-encode (the decoder accepts only valid values), the
 * re-encoding must decode to the same message, encoding that again must give
 * the same octets, and the message must survive JSON unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/msg_gen.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t enc1[65536], enc2[65536];
static char text[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct v2x_msgpack_decoder *dec;
	static struct v2x_msg a, b, c;

	if (!dec && !(dec = v2x_msgpack_decoder_new()))
		abort();
	int rc = v2x_msgpack_decode(dec, data, size, &a);
	if (rc < 0) {
		if (strcmp(v2x_errname(rc), "unknown") == 0)
			abort();
		return 0;
	}
	if ((size_t)rc > size)
		abort();
	int n1 = v2x_msgpack_encode(&a, enc1, sizeof(enc1));
	if (n1 <= 0)
		abort();
	if (v2x_msgpack_decode(dec, enc1, (size_t)n1, &b) != n1)
		abort();
	if (!msg_equal(&a, &b))
		abort();
	int n2 = v2x_msgpack_encode(&b, enc2, sizeof(enc2));
	if (n2 != n1 || memcmp(enc1, enc2, (size_t)n1) != 0)
		abort();
	int t = v2x_msg_to_json(&a, text, sizeof(text));
	if (t <= 0)
		abort();
	if (v2x_msg_from_json(text, (size_t)t, &c) != 0 || !msg_equal(&a, &c))
		abort();
	return 0;
}
