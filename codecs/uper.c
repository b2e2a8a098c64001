/* SPDX-License-Identifier: MIT */
/*
 * uper.c - ITU-T X.691 unaligned PER primitives (module-internal).
 *
 * Clause numbers refer to X.691 (02/2021).  Every reader checks the number of
 * bits left before it touches the buffer; every writer checks its capacity.
 * Non-canonical length forms (a two-octet length below 128, an empty
 * fragment) are rejected with V2X_E_INVALID so that a decoded message always
 * re-encodes to the same octets.
 */
#include <string.h>

#include "uper.h"

/*
 * uper__get_bits() - read n (0..64) bits MSB first into *val.
 * Returns 0 or V2X_E_TRUNCATED.  Any thread, reader owned by the caller.
 */
int uper__get_bits(struct uper_reader *r, unsigned n, uint64_t *val)
{
	size_t pos = r->pos;
	uint64_t v = 0;
	unsigned left = n;

	if (n > r->end - pos)
		return V2X_E_TRUNCATED;
	/*
	 * Fast path: one unaligned 64-bit load when eight octets are readable.
	 * The backing buffer holds at least ceil(end / 8) octets.
	 */
	if (n && n <= 57 && (pos >> 3) + 8 <= (r->end + 7) >> 3) {
		const uint8_t *p = r->buf + (pos >> 3);

		v = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
		    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
		    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
		    (uint64_t)p[6] << 8 | (uint64_t)p[7];
		v = (v << (pos & 7)) >> (64 - n);
		r->pos = pos + n;
		*val = v;
		return 0;
	}
	while (left) {
		unsigned off = pos & 7;
		unsigned k = 8 - off;
		uint8_t byte = r->buf[pos >> 3];

		if (k > left)
			k = left;
		v = (k == 64 ? 0 : v << k) |
		    ((uint64_t)(byte >> (8 - off - k)) & ((1u << k) - 1));
		pos += k;
		left -= k;
	}
	r->pos = pos;
	*val = v;
	return 0;
}

/* uper__get_bit() - read one bit.  Returns 0 or V2X_E_TRUNCATED. */
int uper__get_bit(struct uper_reader *r, unsigned *bit)
{
	if (r->pos >= r->end)
		return V2X_E_TRUNCATED;
	*bit = (r->buf[r->pos >> 3] >> (7 - (r->pos & 7))) & 1;
	r->pos++;
	return 0;
}

/*
 * uper__get_cint() - constrained whole number lb..ub (X.691 11.5.6, 11.6):
 * the offset from lb in the minimum number of bits.  Returns 0,
 * V2X_E_TRUNCATED, or V2X_E_RANGE if the offset exceeds ub - lb.
 */
int uper__get_cint(struct uper_reader *r, int64_t lb, int64_t ub, int64_t *val)
{
	uint64_t range = (uint64_t)ub - (uint64_t)lb + 1;
	uint64_t off;
	int ret;

	ret = uper__get_bits(r, uper__range_bits(range), &off);
	if (ret < 0)
		return ret;
	if (range && off > (uint64_t)ub - (uint64_t)lb)
		return V2X_E_RANGE;
	*val = (int64_t)((uint64_t)lb + off);
	return 0;
}

/*
 * uper__get_len() - an unconstrained length determinant (X.691 11.9.3.5-8).
 * *more is set when the length is one fragment (16K..64K items) and another
 * length determinant follows the items.  Returns 0, V2X_E_TRUNCATED or
 * V2X_E_INVALID (reserved or non-canonical form).
 */
int uper__get_len(struct uper_reader *r, size_t *len, int *more)
{
	uint64_t b, lo;
	int ret;

	*more = 0;
	ret = uper__get_bits(r, 8, &b);
	if (ret < 0)
		return ret;
	if (!(b & 0x80)) {
		*len = b;
		return 0;
	}
	if (!(b & 0x40)) {
		ret = uper__get_bits(r, 8, &lo);
		if (ret < 0)
			return ret;
		*len = (size_t)((b & 0x3f) << 8 | lo);
		/* The two-octet form is only for 128..16383. */
		if (*len < 128)
			return V2X_E_INVALID;
		return 0;
	}
	b &= 0x3f;
	if (b < 1 || b > 4)
		return V2X_E_INVALID;
	*len = (size_t)b * UPER_FRAG;
	*more = 1;
	return 0;
}

/*
 * uper__get_nsnn() - a normally small non-negative whole number (11.6):
 * a zero bit and six bits, or a one bit and a semi-constrained number.
 */
int uper__get_nsnn(struct uper_reader *r, uint64_t *val)
{
	unsigned big;
	int64_t v;
	int ret;

	ret = uper__get_bit(r, &big);
	if (ret < 0)
		return ret;
	if (!big)
		return uper__get_bits(r, 6, val);
	ret = uper__get_semi(r, 0, &v);
	if (ret < 0)
		return ret;
	if (v < 64)
		return V2X_E_INVALID;
	*val = (uint64_t)v;
	return 0;
}

/*
 * Read the octets of an integer encoding: the octet count (1..8) as a length
 * determinant, then that many octets as an unsigned number in *raw.
 */
static int uper__int_octets(struct uper_reader *r, size_t *n, uint64_t *raw)
{
	int more, ret;

	ret = uper__get_len(r, n, &more);
	if (ret < 0)
		return ret;
	if (more || *n > 8)
		return V2X_E_LIMIT;
	if (*n == 0)
		return V2X_E_INVALID;
	return uper__get_bits(r, (unsigned)*n * 8, raw);
}

/*
 * uper__get_semi() - semi-constrained whole number lb..MAX (11.7): a length
 * and the offset from lb as a non-negative binary integer in that many
 * octets.  Values beyond int64 give V2X_E_LIMIT.
 */
int uper__get_semi(struct uper_reader *r, int64_t lb, int64_t *val)
{
	uint64_t off;
	size_t n;
	int ret;

	ret = uper__int_octets(r, &n, &off);
	if (ret < 0)
		return ret;
	/* Minimal octets only (11.3.6): no leading zero octet. */
	if (n > 1 && !(off >> ((n - 1) * 8)))
		return V2X_E_INVALID;
	if (off > (uint64_t)INT64_MAX - (uint64_t)(lb < 0 ? 0 : lb))
		return V2X_E_LIMIT;
	*val = (int64_t)((uint64_t)lb + off);
	return 0;
}

/* uper__get_uncon() - unconstrained whole number (11.8): two's complement. */
int uper__get_uncon(struct uper_reader *r, int64_t *val)
{
	uint64_t raw;
	size_t n;
	int ret;

	ret = uper__int_octets(r, &n, &raw);
	if (ret < 0)
		return ret;
	if (n < 8 && (raw >> (n * 8 - 1)) & 1)
		raw |= ~(uint64_t)0 << (n * 8);
	*val = (int64_t)raw;
	/* Minimal octets only (11.4.6): n - 1 octets must not suffice. */
	if (n > 1) {
		int64_t lo = -((int64_t)1 << ((n - 1) * 8 - 1));
		int64_t hi = ((int64_t)1 << ((n - 1) * 8 - 1)) - 1;

		if (*val >= lo && *val <= hi)
			return V2X_E_INVALID;
	}
	return 0;
}

/* uper__get_octets() - n octets at the current (unaligned) position. */
int uper__get_octets(struct uper_reader *r, uint8_t *dst, size_t n)
{
	if (n > uper__left(r) / 8)
		return V2X_E_TRUNCATED;
	if (!(r->pos & 7)) {
		memcpy(dst, r->buf + (r->pos >> 3), n);
		r->pos += n * 8;
		return 0;
	}
	uper__copy_bits(dst, 0, r->buf, r->pos, n * 8);
	r->pos += n * 8;
	return 0;
}

/*
 * uper__get_open() - an open type or unconstrained OCTET STRING (11.2, 11.9):
 * length determinant(s) and the octets, fragmented or not, copied to dst.
 * Returns 0 with *len set, V2X_E_TRUNCATED, V2X_E_INVALID, or V2X_E_LIMIT if
 * the contents exceed cap.
 */
int uper__get_open(struct uper_reader *r, uint8_t *dst, size_t cap, size_t *len)
{
	size_t total = 0, n;
	int more, ret;

	do {
		ret = uper__get_len(r, &n, &more);
		if (ret < 0)
			return ret;
		if (n > uper__left(r) / 8)
			return V2X_E_TRUNCATED;
		if (n > cap - total)
			return V2X_E_LIMIT;
		ret = uper__get_octets(r, dst + total, n);
		if (ret < 0)
			return ret;
		total += n;
	} while (more);
	*len = total;
	return 0;
}

/*
 * uper__get_open_span() - an open type that is not fragmented: sets inner to
 * read exactly its octets in place and advances r past them.  Returns 0,
 * V2X_E_TRUNCATED, V2X_E_INVALID, or V2X_E_LIMIT for a fragmented length
 * (the caller then copies with uper__get_open()).  r is left unchanged on
 * V2X_E_LIMIT.
 */
int uper__get_open_span(struct uper_reader *r, struct uper_reader *inner)
{
	size_t save = r->pos, n;
	int more, ret;

	ret = uper__get_len(r, &n, &more);
	if (ret < 0)
		return ret;
	if (more) {
		r->pos = save;
		return V2X_E_LIMIT;
	}
	if (n > uper__left(r) / 8)
		return V2X_E_TRUNCATED;
	inner->buf = r->buf;
	inner->pos = r->pos;
	inner->end = r->pos + n * 8;
	r->pos += n * 8;
	return 0;
}

/* uper__skip_open() - step over an open type, fragmented or not. */
int uper__skip_open(struct uper_reader *r)
{
	size_t n;
	int more, ret;

	do {
		ret = uper__get_len(r, &n, &more);
		if (ret < 0)
			return ret;
		if (n > uper__left(r) / 8)
			return V2X_E_TRUNCATED;
		r->pos += n * 8;
	} while (more);
	return 0;
}

/*
 * uper__skip_ext() - step over the extension additions of a SEQUENCE
 * (19.7-19.9): a normally-small bitmap length, the bitmap, then one open
 * type per bit set.  The caller has read the extension bit (set).
 */
int uper__skip_ext(struct uper_reader *r)
{
	uint64_t n, count = 0;
	unsigned bit;
	int ret;

	ret = uper__get_nsnn(r, &n);
	if (ret < 0)
		return ret;
	n++;
	if (n > uper__left(r))
		return V2X_E_TRUNCATED;
	for (uint64_t i = 0; i < n; i++) {
		ret = uper__get_bit(r, &bit);
		if (ret < 0)
			return ret;
		count += bit;
	}
	/* The additions follow the whole bitmap, one open type per 1-bit. */
	while (count--) {
		ret = uper__skip_open(r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * uper__copy_bits() - copy n bits from src at bit spos to dst at bit dpos,
 * MSB first.  Bits of dst outside the range are preserved.  Returns 0.
 */
int uper__copy_bits(uint8_t *dst, size_t dpos, const uint8_t *src, size_t spos,
		    size_t n)
{
	while (n) {
		unsigned soff = spos & 7, doff = dpos & 7;
		unsigned k = 8 - (soff > doff ? soff : doff);
		unsigned bits, mask;

		if (k > n)
			k = (unsigned)n;
		bits = (src[spos >> 3] >> (8 - soff - k)) & ((1u << k) - 1);
		mask = ((1u << k) - 1) << (8 - doff - k);
		dst[dpos >> 3] = (uint8_t)((dst[dpos >> 3] & ~mask) |
					   (bits << (8 - doff - k)));
		spos += k;
		dpos += k;
		n -= k;
	}
	return 0;
}

/*
 * uper__put_bits() - write the low n (0..64) bits of val MSB first.
 * Returns 0 or V2X_E_NOSPACE.
 */
int uper__put_bits(struct uper_writer *w, unsigned n, uint64_t val)
{
	size_t pos = w->pos;

	if (n > w->cap - pos)
		return V2X_E_NOSPACE;
	w->pos = pos + n;
	if (!w->buf)
		return 0;
	while (n) {
		unsigned off = pos & 7;
		unsigned k = 8 - off;
		uint8_t *p = w->buf + (pos >> 3);

		if (k > n)
			k = n;
		/* A byte is cleared when its first bit is written. */
		if (!off)
			*p = 0;
		*p |= (uint8_t)(((val >> (n - k)) & ((1u << k) - 1))
				<< (8 - off - k));
		pos += k;
		n -= k;
	}
	return 0;
}

/* uper__put_cint() - constrained whole number; V2X_E_RANGE outside lb..ub. */
int uper__put_cint(struct uper_writer *w, int64_t lb, int64_t ub, int64_t val)
{
	if (val < lb || val > ub)
		return V2X_E_RANGE;
	return uper__put_bits(w, uper__range_bits((uint64_t)ub - (uint64_t)lb + 1),
			      (uint64_t)val - (uint64_t)lb);
}

/*
 * uper__put_len() - a length determinant below 16K (one or two octets).
 * Longer contents go through uper__put_open(), which fragments.
 */
int uper__put_len(struct uper_writer *w, size_t len)
{
	if (len < 128)
		return uper__put_bits(w, 8, len);
	if (len < UPER_FRAG)
		return uper__put_bits(w, 16, 0x8000 | len);
	return V2X_E_LIMIT;
}

/* uper__put_nsnn() - normally small non-negative whole number (11.6). */
int uper__put_nsnn(struct uper_writer *w, uint64_t val)
{
	int ret;

	if (val < 64)
		return uper__put_bits(w, 7, val);
	ret = uper__put_bits(w, 1, 1);
	if (ret < 0)
		return ret;
	return uper__put_semi(w, 0, (int64_t)val);
}

/* uper__put_semi() - semi-constrained whole number; V2X_E_RANGE below lb. */
int uper__put_semi(struct uper_writer *w, int64_t lb, int64_t val)
{
	uint64_t off;
	unsigned n = 1;
	int ret;

	if (val < lb)
		return V2X_E_RANGE;
	off = (uint64_t)val - (uint64_t)lb;
	while (n < 8 && (off >> (n * 8)))
		n++;
	ret = uper__put_len(w, n);
	if (ret < 0)
		return ret;
	return uper__put_bits(w, n * 8, off);
}

/* uper__put_uncon() - unconstrained whole number, minimal two's complement. */
int uper__put_uncon(struct uper_writer *w, int64_t val)
{
	unsigned n = 1;
	int ret;

	while (n < 8) {
		int64_t lo = -((int64_t)1 << (n * 8 - 1));
		int64_t hi = ((int64_t)1 << (n * 8 - 1)) - 1;

		if (val >= lo && val <= hi)
			break;
		n++;
	}
	ret = uper__put_len(w, n);
	if (ret < 0)
		return ret;
	return uper__put_bits(w, n * 8,
			      n == 8 ? (uint64_t)val
				     : (uint64_t)val & ((1ull << (n * 8)) - 1));
}

/* uper__put_octets() - n octets at the current position (no length). */
int uper__put_octets(struct uper_writer *w, const uint8_t *src, size_t n)
{
	return uper__put_bitcopy(w, src, 0, n * 8);
}

/* uper__put_bitcopy() - n bits copied from src starting at bit spos. */
int uper__put_bitcopy(struct uper_writer *w, const uint8_t *src, size_t spos,
		      size_t n)
{
	size_t pos = w->pos;

	if (n > w->cap - pos)
		return V2X_E_NOSPACE;
	w->pos = pos + n;
	if (!w->buf || !n)
		return 0;
	if (!(pos & 7) && !(spos & 7)) {
		memcpy(w->buf + (pos >> 3), src + (spos >> 3), n >> 3);
		if (n & 7) {
			/* Clear the partial last octet before merging. */
			w->buf[(pos + n) >> 3] = 0;
			uper__copy_bits(w->buf, pos + (n & ~(size_t)7), src,
					spos + (n & ~(size_t)7), n & 7);
		}
		return 0;
	}
	/* Clear every octet the copy starts; copy_bits merges into it. */
	for (size_t b = (pos + 7) >> 3; b <= (pos + n - 1) >> 3; b++)
		w->buf[b] = 0;
	return uper__copy_bits(w->buf, pos, src, spos, n);
}

/*
 * uper__put_open() - an open type's (or unconstrained OCTET STRING's)
 * length determinant(s) and contents; contents of 16K octets or more are
 * fragmented in chunks of 64K, 48K, 32K or 16K followed by a final length
 * (0 when nothing remains), as X.691 11.9.3.8 requires.
 */
int uper__put_open(struct uper_writer *w, const uint8_t *src, size_t len)
{
	int ret;

	while (len >= UPER_FRAG) {
		size_t m = len / UPER_FRAG;

		if (m > 4)
			m = 4;
		ret = uper__put_bits(w, 8, 0xc0 | m);
		if (ret < 0)
			return ret;
		ret = uper__put_octets(w, src, m * UPER_FRAG);
		if (ret < 0)
			return ret;
		src += m * UPER_FRAG;
		len -= m * UPER_FRAG;
	}
	ret = uper__put_len(w, len);
	if (ret < 0)
		return ret;
	return uper__put_octets(w, src, len);
}

/* uper__pad() - zero bits up to the next octet boundary. */
int uper__pad(struct uper_writer *w)
{
	unsigned n = (unsigned)((8 - (w->pos & 7)) & 7);

	return uper__put_bits(w, n, 0);
}
