/* SPDX-License-Identifier: MIT */
/*
 * uper.h - module-internal ITU-T X.691 unaligned PER bit reader and writer.
 *
 * Every read checks the remaining bits first and fails with V2X_E_TRUNCATED;
 * every write checks the capacity and fails with V2X_E_NOSPACE.  A writer
 * whose buffer is NULL only counts bits, which is how the encoders learn the
 * length of an open type before writing it.
 */
#ifndef V2X_UPER_H
#define V2X_UPER_H

#include <stddef.h>
#include <stdint.h>

#include "v2x/error.h"

/* X.691 fragment size: lengths >= 16K are sent in chunks of 16K..64K. */
#define UPER_FRAG 16384u

struct uper_reader {
	const uint8_t *buf;
	size_t pos; /* next bit to read, from bit 7 of buf[0] */
	size_t end; /* one past the last readable bit */
};

struct uper_writer {
	uint8_t *buf; /* NULL: count bits only */
	size_t pos;   /* next bit to write */
	size_t cap;   /* capacity in bits */
};

static inline void uper__reader_init(struct uper_reader *r, const uint8_t *buf,
				     size_t len)
{
	r->buf = buf;
	r->pos = 0;
	r->end = len * 8;
}

static inline void uper__writer_init(struct uper_writer *w, uint8_t *buf,
				     size_t cap)
{
	w->buf = buf;
	w->pos = 0;
	w->cap = buf ? cap * 8 : SIZE_MAX;
}

static inline size_t uper__left(const struct uper_reader *r)
{
	return r->end - r->pos;
}

/* Number of bits of a constrained whole number with range ub - lb + 1. */
static inline unsigned uper__range_bits(uint64_t range)
{
	unsigned n = 0;

	/* range is ub - lb + 1; 0 means the full 2^64 range. */
	if (range == 0)
		return 64;
	range--;
	while (range) {
		n++;
		range >>= 1;
	}
	return n;
}

int uper__get_bits(struct uper_reader *r, unsigned n, uint64_t *val);
int uper__get_bit(struct uper_reader *r, unsigned *bit);
int uper__get_cint(struct uper_reader *r, int64_t lb, int64_t ub, int64_t *val);
int uper__get_len(struct uper_reader *r, size_t *len, int *more);
int uper__get_nsnn(struct uper_reader *r, uint64_t *val);
int uper__get_semi(struct uper_reader *r, int64_t lb, int64_t *val);
int uper__get_uncon(struct uper_reader *r, int64_t *val);
int uper__get_open(struct uper_reader *r, uint8_t *dst, size_t cap, size_t *len);
int uper__get_open_span(struct uper_reader *r, struct uper_reader *inner);
int uper__skip_open(struct uper_reader *r);
int uper__skip_ext(struct uper_reader *r);
int uper__get_octets(struct uper_reader *r, uint8_t *dst, size_t n);
int uper__copy_bits(uint8_t *dst, size_t dpos, const uint8_t *src, size_t spos,
		    size_t n);

int uper__put_bits(struct uper_writer *w, unsigned n, uint64_t val);
int uper__put_cint(struct uper_writer *w, int64_t lb, int64_t ub, int64_t val);
int uper__put_len(struct uper_writer *w, size_t len);
int uper__put_nsnn(struct uper_writer *w, uint64_t val);
int uper__put_semi(struct uper_writer *w, int64_t lb, int64_t val);
int uper__put_uncon(struct uper_writer *w, int64_t val);
int uper__put_open(struct uper_writer *w, const uint8_t *src, size_t len);
int uper__put_octets(struct uper_writer *w, const uint8_t *src, size_t n);
int uper__put_bitcopy(struct uper_writer *w, const uint8_t *src, size_t spos,
		      size_t n);
int uper__pad(struct uper_writer *w);

#endif
