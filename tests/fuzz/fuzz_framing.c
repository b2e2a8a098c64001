/* SPDX-License-Identifier: MIT */
/*
 * fuzz_framing.c - v2x_frame_unwrap() in every mode on any input: the
 * frame it reports lies inside the input, and decoding it is safe.
 */
#include <stdint.h>
#include <stdlib.h>

#include "v2x/j2735.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct v2x_j2735_msg msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int mode = V2X_FRAMING_AUTO; mode <= V2X_FRAMING_WSMP; mode++) {
		struct v2x_frame_info info;
		struct v2x_bsm bsm;

		if (v2x_frame_unwrap(data, size, mode, &info) != 0)
			continue;
		if (info.offset > size || info.length > size - info.offset)
			abort();
		(void)v2x_j2735_decode(data + info.offset, info.length, &msg);
		(void)v2x_uper_decode_bsm(data + info.offset, info.length, &bsm);
	}
	return 0;
}
