/* SPDX-License-Identifier: MIT */
/*
 * fuzz_msgpack - libFuzzer target for v2x_msgpack_decode().
 *
 * Any input: a clean result, never a crash or an over-read.  An input that
 * decodes must re-encode (the decoder accepts only valid values), the
 * re-encoding must decode to the same message, encoding that again must give
 * the same octets, and the message must survive JSON unchanged.  The
 * direct writers of the hot frames (codecs/msgpack_fast.h) must write the
 * generic encoder's octets, and a buffer of exactly the frame's size (or
 * one octet less) must give the frame (or V2X_E_NOSPACE) without writing
 * out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codecs/msgpack_fast.h"
#include "../unit/msg_gen.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t enc1[65536], enc2[65536], enc3[65536];
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
	int n3 = msgpack__encode_generic(&a, enc3, sizeof(enc3));
	if (n3 != n1 || memcmp(enc1, enc3, (size_t)n1) != 0)
		abort();
	n3 = msgpack__encode_fast(&a, enc3, sizeof(enc3));
	if (n3 != MSGPACK__DECLINED &&
	    (n3 != n1 || memcmp(enc1, enc3, (size_t)n1) != 0))
		abort();
	if ((a.type == V2X_MSG_BSM || a.type == V2X_MSG_OBJECTS) &&
	    n3 == MSGPACK__DECLINED)
		abort(); /* a decoded hot frame is valid: the writer takes it */
	for (int cap = n1 - 1; cap <= n1; cap++) {
		uint8_t *exact = malloc((size_t)cap);
		if (!exact)
			abort();
		int got = v2x_msgpack_encode(&a, exact, (size_t)cap);
		if (cap < n1 ? got != V2X_E_NOSPACE
			     : got != n1 || memcmp(exact, enc1, (size_t)n1) != 0)
			abort();
		free(exact);
	}
	int t = v2x_msg_to_json(&a, text, sizeof(text));
	if (t <= 0)
		abort();
	if (v2x_msg_from_json(text, (size_t)t, &c) != 0 || !msg_equal(&a, &c))
		abort();
	return 0;
}
