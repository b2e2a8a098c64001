/* SPDX-License-Identifier: MIT */
/*
 * framing.c - find the J2735 MessageFrame inside the outer framings seen in
 * the field: an IEEE 1609.3 WSMP header (WSM-N-Header + WSM-T-Header) and an
 * IEEE 1609.2 Ieee1609Dot2Data, which is encoded in canonical OER (ITU-T
 * X.696), not UPER.  Zero-copy: the result is an offset and a length.
 *
 * Layouts used (docs/j2735.md has the sources):
 *   WSMP:  N-Header octet: subtype(4) | option indicator(1) | version(3)=3,
 *          [N-Header extensions: count, {element id, length, value}...],
 *          TPID octet (0: PSID, 1: PSID + T-Header extensions, 2/3: ITS
 *          port numbers [+ extensions]), PSID (p-encoded, 1..4 octets)
 *          or the two ports, [T-Header extensions],
 *          WSM length (1..2 octets), data.
 *   1609.2: protocolVersion octet 3, content CHOICE tag octet:
 *          0x80 unsecuredData (OER length + octets),
 *          0x81 signedData: hashId, tbsData { payload { data
 *          Ieee1609Dot2Data (unsecured), ... }, headerInfo }, signer.
 */
#include <string.h>

#include "v2x/error.h"
#include "v2x/j2735.h"

struct fr_cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static int fr__u8(struct fr_cursor *c, unsigned *v)
{
	if (c->pos >= c->len)
		return V2X_E_TRUNCATED;
	*v = c->p[c->pos++];
	return 0;
}

static int fr__skip(struct fr_cursor *c, size_t n)
{
	if (n > c->len - c->pos)
		return V2X_E_TRUNCATED;
	c->pos += n;
	return 0;
}

/* WSMP variable-length count/length: 0xxxxxxx or 10xxxxxx xxxxxxxx. */
static int fr__wsmp_len(struct fr_cursor *c, size_t *n)
{
	unsigned b0, b1;
	int ret;

	ret = fr__u8(c, &b0);
	if (ret < 0)
		return ret;
	if (!(b0 & 0x80)) {
		*n = b0;
		return 0;
	}
	if ((b0 & 0xc0) != 0x80)
		return V2X_E_FRAMING;
	ret = fr__u8(c, &b1);
	if (ret < 0)
		return ret;
	*n = (size_t)(b0 & 0x3f) << 8 | b1;
	return 0;
}

/*
 * A p-encoded PSID (IEEE 1609.3 / 1609.12): the leading bits give the
 * length, and each longer form starts where the shorter one ends.
 */
static int fr__psid(struct fr_cursor *c, uint32_t *psid)
{
	static const struct {
		uint8_t mask, tag, octets;
		uint32_t base, first;
	} form[] = {
		{ 0x80, 0x00, 1, 0x00, 0x0 },
		{ 0xc0, 0x80, 2, 0x8000, 0x80 },
		{ 0xe0, 0xc0, 3, 0xc00000, 0x4080 },
		{ 0xf0, 0xe0, 4, 0xe0000000u, 0x204080 },
	};
	uint32_t raw = 0;
	unsigned b;

	if (c->pos >= c->len)
		return V2X_E_TRUNCATED;
	b = c->p[c->pos];
	for (size_t i = 0; i < sizeof(form) / sizeof(form[0]); i++) {
		if ((b & form[i].mask) != form[i].tag)
			continue;
		if (form[i].octets > c->len - c->pos)
			return V2X_E_TRUNCATED;
		for (unsigned k = 0; k < form[i].octets; k++)
			raw = raw << 8 | c->p[c->pos + k];
		c->pos += form[i].octets;
		*psid = raw - form[i].base + form[i].first;
		return 0;
	}
	return V2X_E_FRAMING;
}

/* WAVE information element extensions: count, then id/length/value. */
static int fr__wsmp_ext(struct fr_cursor *c)
{
	size_t count, n;
	unsigned id;
	int ret;

	ret = fr__wsmp_len(c, &count);
	if (ret < 0)
		return ret;
	while (count--) {
		ret = fr__u8(c, &id);
		if (ret == 0)
			ret = fr__wsmp_len(c, &n);
		if (ret == 0)
			ret = fr__skip(c, n);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int fr__wsmp(struct fr_cursor *c, int exact, struct v2x_frame_info *info)
{
	unsigned b, tpid;
	size_t n;
	int ret;

	ret = fr__u8(c, &b);
	if (ret < 0)
		return ret;
	/* Version 3, subtype 0 (null networking protocol). */
	if ((b & 0x07) != 3 || (b >> 4) != 0)
		return V2X_E_FRAMING;
	if (b & 0x08) {
		ret = fr__wsmp_ext(c);
		if (ret < 0)
			return ret;
	}
	ret = fr__u8(c, &tpid);
	if (ret < 0)
		return ret;
	/*
	 * TPID 0/1: a PSID (1: then T-Header extensions); 2/3: source and
	 * destination ITS port numbers, two octets each (3: then extensions).
	 * The LPP modes 4/5 are not supported.
	 */
	if (tpid > 3)
		return V2X_E_FRAMING;
	if (tpid < 2)
		ret = fr__psid(c, &info->psid);
	else
		ret = fr__skip(c, 4);
	if (ret < 0)
		return ret;
	if (tpid & 1) {
		ret = fr__wsmp_ext(c);
		if (ret < 0)
			return ret;
	}
	ret = fr__wsmp_len(c, &n);
	if (ret < 0)
		return ret;
	if (n > c->len - c->pos)
		return V2X_E_TRUNCATED;
	if (exact && n != c->len - c->pos)
		return V2X_E_FRAMING;
	if (!n)
		return V2X_E_FRAMING;
	c->len = c->pos + n;
	info->has_wsmp = 1;
	return 0;
}

/* OER length determinant (X.696 8.6): short form or 0x8N + N octets. */
static int fr__oer_len(struct fr_cursor *c, size_t *n)
{
	unsigned b, k;
	int ret;

	ret = fr__u8(c, &b);
	if (ret < 0)
		return ret;
	if (!(b & 0x80)) {
		*n = b;
		return 0;
	}
	b &= 0x7f;
	if (b == 0 || b > 4)
		return V2X_E_FRAMING;
	*n = 0;
	while (b--) {
		ret = fr__u8(c, &k);
		if (ret < 0)
			return ret;
		*n = *n << 8 | k;
	}
	/* Canonical OER uses the short form below 128. */
	if (*n < 128)
		return V2X_E_FRAMING;
	return 0;
}

/* Skip an OER extension-additions block: presence bitmap, open types. */
static int fr__oer_ext(struct fr_cursor *c)
{
	size_t n, count = 0;
	unsigned unused;
	int ret;

	ret = fr__oer_len(c, &n);
	if (ret < 0)
		return ret;
	if (n < 2 || n > c->len - c->pos)
		return n < 2 ? V2X_E_FRAMING : V2X_E_TRUNCATED;
	unused = c->p[c->pos];
	if (unused > 7)
		return V2X_E_FRAMING;
	for (size_t i = 1; i < n; i++)
		count += (size_t)__builtin_popcount(c->p[c->pos + i]);
	c->pos += n;
	while (count--) {
		ret = fr__oer_len(c, &n);
		if (ret == 0)
			ret = fr__skip(c, n);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* A CHOICE whose extension alternatives come as open types. */
static int fr__oer_choice_fixed(struct fr_cursor *c, const uint8_t *sizes,
				unsigned nroot)
{
	unsigned tag;
	size_t n;
	int ret;

	ret = fr__u8(c, &tag);
	if (ret < 0)
		return ret;
	if ((tag & 0xc0) != 0x80 || (tag & 0x3f) == 0x3f)
		return V2X_E_FRAMING;
	tag &= 0x3f;
	if (tag < nroot)
		return fr__skip(c, sizes[tag]);
	ret = fr__oer_len(c, &n);
	if (ret < 0)
		return ret;
	return fr__skip(c, n);
}

/* HeaderInfo: psid and the optional fields we must step over. */
static int fr__header_info(struct fr_cursor *c, struct v2x_frame_info *info)
{
	static const uint8_t ecc_point[] = { 32, 0, 32, 32, 64 };
	static const uint8_t symm[] = { 16 };
	unsigned pre, b;
	size_t n;
	uint32_t psid = 0;
	int ret;

	ret = fr__u8(c, &pre);
	if (ret < 0)
		return ret;
	if (pre & 0x01)
		return V2X_E_FRAMING;
	/* psid: Psid ::= INTEGER (0..MAX), a length and unsigned octets. */
	ret = fr__oer_len(c, &n);
	if (ret < 0)
		return ret;
	if (n == 0 || n > 4)
		return V2X_E_FRAMING;
	while (n--) {
		ret = fr__u8(c, &b);
		if (ret < 0)
			return ret;
		psid = psid << 8 | b;
	}
	if (!info->psid)
		info->psid = psid;
	if (pre & 0x40 && (ret = fr__skip(c, 8)) < 0) /* generationTime */
		return ret;
	if (pre & 0x20 && (ret = fr__skip(c, 8)) < 0) /* expiryTime */
		return ret;
	if (pre & 0x10 && (ret = fr__skip(c, 10)) < 0) /* ThreeDLocation */
		return ret;
	if (pre & 0x08 && (ret = fr__skip(c, 3)) < 0) /* HashedId3 */
		return ret;
	if (pre & 0x04) {
		/* MissingCrlIdentifier { cracaId, crlSeries, ... } */
		ret = fr__u8(c, &b);
		if (ret == 0)
			ret = fr__skip(c, 5);
		if (ret == 0 && (b & 0x80))
			ret = fr__oer_ext(c);
		if (ret < 0)
			return ret;
	}
	if (pre & 0x02) {
		/* EncryptionKey ::= CHOICE { public, symmetric } */
		ret = fr__u8(c, &b);
		if (ret < 0)
			return ret;
		if (b == 0x80) {
			/* supportedSymmAlg, then BasePublicEncryptionKey */
			ret = fr__skip(c, 1);
			if (ret == 0)
				ret = fr__u8(c, &b);
			if (ret < 0)
				return ret;
			if (b == 0x80 || b == 0x81)
				ret = fr__oer_choice_fixed(c, ecc_point, 5);
			else if ((b & 0xc0) == 0x80)
				ret = fr__oer_len(c, &n) < 0 ? V2X_E_FRAMING
							     : fr__skip(c, n);
			else
				ret = V2X_E_FRAMING;
		} else if (b == 0x81) {
			c->pos--;
			ret = fr__oer_choice_fixed(c, symm, 1);
		} else {
			ret = V2X_E_FRAMING;
		}
		if (ret < 0)
			return ret;
	}
	if (pre & 0x80)
		return fr__oer_ext(c);
	return 0;
}

static int fr__dot2(struct fr_cursor *c, int depth, struct v2x_frame_info *info,
		    size_t *off, size_t *len)
{
	static const uint8_t hashed[] = { 32 };
	unsigned b, pre;
	size_t n;
	int ret;

	ret = fr__u8(c, &b);
	if (ret < 0)
		return ret;
	if (b != 3)
		return V2X_E_FRAMING;
	ret = fr__u8(c, &b);
	if (ret < 0)
		return ret;
	if (b == 0x80) {
		/* unsecuredData Opaque: the MessageFrame. */
		ret = fr__oer_len(c, &n);
		if (ret < 0)
			return ret;
		if (n > c->len - c->pos)
			return V2X_E_TRUNCATED;
		if (!n)
			return V2X_E_FRAMING;
		*off = c->pos;
		*len = n;
		c->pos += n;
		return 0;
	}
	if (b != 0x81 || depth > 0)
		return V2X_E_FRAMING;
	/* signedData: hashId (one octet, an ENUMERATED below 128). */
	info->signed_data = 1;
	ret = fr__u8(c, &b);
	if (ret < 0)
		return ret;
	if (b > 127)
		return V2X_E_FRAMING;
	/* tbsData.payload: SignedDataPayload preamble. */
	ret = fr__u8(c, &pre);
	if (ret < 0)
		return ret;
	if (pre & 0x1f || !(pre & 0x40))
		return V2X_E_FRAMING;
	ret = fr__dot2(c, depth + 1, info, off, len);
	if (ret < 0)
		return ret;
	if (pre & 0x20) {
		ret = fr__oer_choice_fixed(c, hashed, 1);
		if (ret < 0)
			return ret;
	}
	if (pre & 0x80) {
		ret = fr__oer_ext(c);
		if (ret < 0)
			return ret;
	}
	ret = fr__header_info(c, info);
	if (ret < 0)
		return ret;
	/* signer: SignerIdentifier ::= CHOICE { digest, certificate, self } */
	ret = fr__u8(c, &b);
	if (ret < 0)
		return ret;
	switch (b) {
	case 0x80:
		info->signer = V2X_SIGNER_DIGEST;
		return 0;
	case 0x81:
		info->signer = V2X_SIGNER_CERTIFICATE;
		return 0;
	case 0x82:
		info->signer = V2X_SIGNER_SELF;
		return 0;
	default:
		return V2X_E_FRAMING;
	}
}

/* Parse a 1609.2 envelope over c; fills info on success only. */
static int fr__try_dot2(struct fr_cursor *c, struct v2x_frame_info *info)
{
	struct v2x_frame_info tmp = *info;
	size_t off = 0, len = 0;
	int ret;

	tmp.signer = V2X_SIGNER_NONE;
	tmp.signed_data = 0;
	ret = fr__dot2(c, 0, &tmp, &off, &len);
	if (ret < 0)
		return ret;
	tmp.framing = tmp.has_wsmp ? V2X_FRAMING_WSMP : V2X_FRAMING_1609_2;
	tmp.offset = off;
	tmp.length = len;
	*info = tmp;
	return 0;
}

/*
 * v2x_frame_unwrap() - see v2x/j2735.h.  Detection order for
 * V2X_FRAMING_AUTO: a WSMP header whose WSM length matches the datagram,
 * then a 1609.2 envelope (protocolVersion 3), then a raw MessageFrame.
 * Inside WSMP the payload may itself be 1609.2 or raw.  Any thread.
 */
int v2x_frame_unwrap(const uint8_t *buf, size_t len, int framing,
		     struct v2x_frame_info *info)
{
	struct fr_cursor c = { buf, len, 0 };
	int ret = 0;

	memset(info, 0, sizeof(*info));
	if (!len) {
		ret = V2X_E_TRUNCATED;
		goto out;
	}
	switch (framing) {
	case V2X_FRAMING_AUTO:
		ret = fr__wsmp(&c, 1, info);
		if (ret == 0) {
			struct fr_cursor in = { buf, c.len, c.pos };

			if (buf[c.pos] == 3 && fr__try_dot2(&in, info) == 0)
				goto out;
			info->framing = V2X_FRAMING_WSMP;
			info->offset = c.pos;
			info->length = c.len - c.pos;
			goto out;
		}
		memset(info, 0, sizeof(*info));
		c.pos = 0;
		c.len = len;
		if (buf[0] == 3 && fr__try_dot2(&c, info) == 0) {
			ret = 0;
			goto out;
		}
		memset(info, 0, sizeof(*info));
		/* fall through: a raw MessageFrame */
		/* FALLTHROUGH */
	case V2X_FRAMING_RAW:
		info->framing = V2X_FRAMING_RAW;
		info->offset = 0;
		info->length = len;
		ret = 0;
		goto out;
	case V2X_FRAMING_1609_2:
		ret = fr__try_dot2(&c, info);
		goto out;
	case V2X_FRAMING_WSMP:
		ret = fr__wsmp(&c, 0, info);
		if (ret < 0)
			goto out;
		if (c.pos < c.len && buf[c.pos] == 3) {
			struct fr_cursor in = { buf, c.len, c.pos };

			if (fr__try_dot2(&in, info) == 0)
				goto out;
		}
		info->framing = V2X_FRAMING_WSMP;
		info->offset = c.pos;
		info->length = c.len - c.pos;
		goto out;
	default:
		ret = V2X_E_FRAMING;
		goto out;
	}
out:
	if (ret > 0)
		ret = 0;
	if (ret < 0 && ret != V2X_E_TRUNCATED)
		ret = V2X_E_FRAMING;
	return ret;
}

/* v2x_framing_name() - stable name of an enum v2x_framing value. */
const char *v2x_framing_name(int framing)
{
	switch (framing) {
	case V2X_FRAMING_AUTO:
		return "auto";
	case V2X_FRAMING_RAW:
		return "raw";
	case V2X_FRAMING_1609_2:
		return "1609.2";
	case V2X_FRAMING_WSMP:
		return "wsmp";
	default:
		return "unknown";
	}
}

/* v2x_signer_name() - stable name of an enum v2x_signer value. */
const char *v2x_signer_name(int signer)
{
	switch (signer) {
	case V2X_SIGNER_NONE:
		return "none";
	case V2X_SIGNER_DIGEST:
		return "digest";
	case V2X_SIGNER_CERTIFICATE:
		return "certificate";
	case V2X_SIGNER_SELF:
		return "self";
	default:
		return "unknown";
	}
}
