/* SPDX-License-Identifier: MIT */
/*
 * j2735_msg.c - the full-fidelity path: a UPER MessageFrame <-> struct
 * v2x_j2735_msg, driven by the type tables of j2735_schema.c.
 *
 * Decoding never allocates: nodes and octets come from the arrays inside the
 * caller's struct, and running out of them is V2X_E_LIMIT.  What the schema
 * does not model is kept as it was on the wire (opaque open types, extension
 * tails as raw bits), so that encode(decode(x)) == x.
 */
#include <string.h>

#include "j2735_schema.h"
#include "uper.h"
#include "v2x/j2735.h"
#include "v2x/j2735_types.h"

static int msg__alloc_nodes(struct v2x_j2735_msg *m, uint32_t n, uint32_t *idx)
{
	if (n > V2X_J2735_NODES_MAX - m->n_nodes)
		return V2X_E_LIMIT;
	*idx = m->n_nodes;
	memset(&m->node[*idx], 0, n * sizeof(m->node[0]));
	m->n_nodes += n;
	return 0;
}

static int msg__alloc_bytes(struct v2x_j2735_msg *m, size_t n, uint32_t *off)
{
	if (n > V2X_J2735_BYTES_MAX - m->n_bytes)
		return V2X_E_LIMIT;
	*off = m->n_bytes;
	m->n_bytes += (uint32_t)n;
	return 0;
}

/* Read n bits into fresh pool octets (first bit in the MSB, tail zeroed). */
static int msg__get_bitfield(struct uper_reader *r, struct v2x_j2735_msg *m,
			     size_t n, uint32_t *off)
{
	size_t octets = (n + 7) / 8;
	int ret;

	if (n > uper__left(r))
		return V2X_E_TRUNCATED;
	ret = msg__alloc_bytes(m, octets, off);
	if (ret < 0)
		return ret;
	if (octets)
		memset(m->bytes + *off, 0, octets);
	uper__copy_bits(m->bytes + *off, 0, r->buf, r->pos, n);
	r->pos += n;
	return 0;
}

/* Size of a string or list: fixed, constrained, or (extension) general. */
static int msg__get_size(struct uper_reader *r, const struct v2x_j2735_type *t,
			 size_t *n, int *ext)
{
	unsigned e = 0;
	int64_t v;
	int more, ret;

	*ext = 0;
	if (t->ext) {
		ret = uper__get_bit(r, &e);
		if (ret < 0)
			return ret;
	}
	if (e) {
		ret = uper__get_len(r, n, &more);
		if (ret < 0)
			return ret;
		if (more)
			return V2X_E_LIMIT;
		/* A size inside the root must not use the extension. */
		if ((int64_t)*n >= t->lb && (int64_t)*n <= t->ub)
			return V2X_E_INVALID;
		*ext = 1;
		return 0;
	}
	if (t->lb == t->ub) {
		*n = (size_t)t->lb;
		return 0;
	}
	ret = uper__get_cint(r, t->lb, t->ub, &v);
	if (ret < 0)
		return ret;
	*n = (size_t)v;
	return 0;
}

/* Skip an extension-additions tail and keep it as raw bits. */
static int msg__get_ext_tail(struct uper_reader *r, struct v2x_j2735_msg *m,
			     struct v2x_j2735_node *nd)
{
	size_t start = r->pos;
	struct uper_reader whole;
	uint32_t off;
	int ret;

	ret = uper__skip_ext(r);
	if (ret < 0)
		return ret;
	whole = (struct uper_reader){ r->buf, start, r->pos };
	ret = msg__get_bitfield(&whole, m, r->pos - start, &off);
	if (ret < 0)
		return ret;
	nd->ext_off = off;
	nd->ext_bits = (uint32_t)(r->pos - start);
	nd->flags |= V2X_J2735_F_EXT;
	return 0;
}

/*
 * The extension bit of an extensible ENUMERATED or CHOICE and, if it is set,
 * the index of the extension value (a normally-small number).  *e is 0 for
 * a root value (the caller reads its index against the root's size).
 */
static int msg__get_ext_index(struct uper_reader *r,
			      const struct v2x_j2735_type *t, unsigned *e,
			      uint64_t *idx)
{
	int ret;

	*e = 0;
	if (!t->ext)
		return 0;
	ret = uper__get_bit(r, e);
	if (ret < 0 || !*e)
		return ret;
	ret = uper__get_nsnn(r, idx);
	if (ret < 0)
		return ret;
	return *idx > J2735_EXT_INDEX_MAX ? V2X_E_LIMIT : 0;
}

static int msg__dec(struct uper_reader *r, struct v2x_j2735_msg *m,
		    const struct v2x_j2735_type *t, uint32_t idx, int64_t open_id);

static int msg__dec_open(struct uper_reader *r, struct v2x_j2735_msg *m,
			 const struct v2x_j2735_type *t, uint32_t idx,
			 int64_t open_id)
{
	const struct v2x_j2735_type *inner_t = j2735__open_type(t->open_by, open_id);
	uint32_t save_nodes = m->n_nodes, save_bytes = m->n_bytes, child, off;
	size_t start = r->pos, n;
	struct uper_reader in;
	int ret;

	if (inner_t) {
		ret = uper__get_open_span(r, &in);
		if (ret < 0 && ret != V2X_E_LIMIT)
			return ret;
		if (ret == 0) {
			ret = msg__alloc_nodes(m, 1, &child);
			if (ret == 0)
				ret = msg__dec(&in, m, inner_t, child, 0);
			/*
			 * The contents must be exactly the value padded with
			 * zero bits to an octet, or re-encoding would not
			 * reproduce them.
			 */
			if (ret == 0 && uper__left(&in) >= 8)
				ret = V2X_E_INVALID;
			if (ret == 0 && uper__left(&in)) {
				uint64_t pad = 0;

				uper__get_bits(&in, (unsigned)uper__left(&in), &pad);
				if (pad)
					ret = V2X_E_INVALID;
			}
			if (ret == 0) {
				m->node[idx].child = child;
				m->node[idx].n = 1;
				return 0;
			}
			/* A message's own value must decode... */
			if (t->open_by == J2735_OPEN_MSG_ID)
				return ret;
			/* ...Part II content that does not is kept as is. */
			m->n_nodes = save_nodes;
			m->n_bytes = save_bytes;
			r->pos = start;
		}
	}
	/* Opaque (or fragmented): copy the octets into the pool. */
	off = m->n_bytes;
	ret = uper__get_open(r, m->bytes + off, V2X_J2735_BYTES_MAX - off, &n);
	if (ret < 0)
		return ret;
	m->n_bytes += (uint32_t)n;
	m->node[idx].child = off;
	m->node[idx].n = (uint32_t)n;
	m->node[idx].flags |= V2X_J2735_F_OPAQUE;
	return 0;
}

static int msg__dec_seq(struct uper_reader *r, struct v2x_j2735_msg *m,
			const struct v2x_j2735_type *t, uint32_t idx)
{
	uint64_t bitmap = 0;
	unsigned e = 0, nopt = 0;
	uint32_t base;
	int ret;

	if (t->ext) {
		ret = uper__get_bit(r, &e);
		if (ret < 0)
			return ret;
	}
	for (int i = 0; i < t->nfields; i++)
		nopt += t->fields[i].optional;
	ret = uper__get_bits(r, nopt, &bitmap);
	if (ret < 0)
		return ret;
	ret = msg__alloc_nodes(m, t->nfields, &base);
	if (ret < 0)
		return ret;
	m->node[idx].child = base;
	m->node[idx].n = t->nfields;
	for (int i = 0; i < t->nfields; i++) {
		const struct j2735_field *f = &t->fields[i];

		m->node[base + i].type = f->type;
		if (f->optional && !((bitmap >> --nopt) & 1))
			continue;
		ret = msg__dec(r, m, f->type, base + i,
			       i ? m->node[base].val : 0);
		if (ret < 0)
			return ret;
	}
	if (e)
		return msg__get_ext_tail(r, m, &m->node[idx]);
	return 0;
}

static int msg__dec(struct uper_reader *r, struct v2x_j2735_msg *m,
		    const struct v2x_j2735_type *t, uint32_t idx, int64_t open_id)
{
	struct v2x_j2735_node *nd = &m->node[idx];
	uint32_t base, off;
	uint64_t u;
	int64_t v;
	unsigned e = 0;
	size_t n;
	int ext, ret;

	nd->type = t;
	nd->present = 1;
	switch (t->kind) {
	case J2735_INT:
		return uper__get_cint(r, t->lb, t->ub, &nd->val);
	case J2735_BOOL:
		ret = uper__get_bits(r, 1, &u);
		nd->val = (int64_t)u;
		return ret;
	case J2735_NULL:
		return 0;
	case J2735_ENUM:
		ret = msg__get_ext_index(r, t, &e, &u);
		if (ret < 0)
			return ret;
		if (e) {
			nd->val = (int64_t)u + t->nfields;
			nd->flags |= V2X_J2735_F_EXT;
			return 0;
		}
		return uper__get_cint(r, 0, t->nfields - 1, &nd->val);
	case J2735_BITS:
		ret = msg__get_size(r, t, &n, &ext);
		if (ret < 0)
			return ret;
		nd->n = (uint32_t)n;
		ret = msg__get_bitfield(r, m, n, &off);
		nd->child = off;
		return ret;
	case J2735_OCTETS:
	case J2735_IA5:
		ret = msg__get_size(r, t, &n, &ext);
		if (ret < 0)
			return ret;
		ret = msg__alloc_bytes(m, n, &off);
		if (ret < 0)
			return ret;
		nd->child = off;
		nd->n = (uint32_t)n;
		if (t->kind == J2735_OCTETS)
			return uper__get_octets(r, m->bytes + off, n);
		for (size_t i = 0; i < n; i++) {
			ret = uper__get_bits(r, 7, &u);
			if (ret < 0)
				return ret;
			m->bytes[off + i] = (uint8_t)u;
		}
		return 0;
	case J2735_SEQ:
		return msg__dec_seq(r, m, t, idx);
	case J2735_SEQOF:
		ret = msg__get_size(r, t, &n, &ext);
		if (ret < 0)
			return ret;
		if (n > t->cap)
			return V2X_E_LIMIT;
		ret = msg__alloc_nodes(m, (uint32_t)n, &base);
		if (ret < 0)
			return ret;
		nd->child = base;
		nd->n = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			ret = msg__dec(r, m, t->elem, base + (uint32_t)i, 0);
			if (ret < 0)
				return ret;
		}
		return 0;
	case J2735_CHOICE:
		ret = msg__get_ext_index(r, t, &e, &u);
		if (ret < 0)
			return ret;
		if (e) {
			nd->val = (int64_t)u;
			nd->flags |= V2X_J2735_F_EXT;
			off = m->n_bytes;
			ret = uper__get_open(r, m->bytes + off,
					     V2X_J2735_BYTES_MAX - off, &n);
			if (ret < 0)
				return ret;
			m->n_bytes += (uint32_t)n;
			nd->ext_off = off;
			nd->ext_bits = (uint32_t)(n * 8);
			return 0;
		}
		ret = uper__get_cint(r, 0, t->nfields - 1, &v);
		if (ret < 0)
			return ret;
		nd->val = v;
		ret = msg__alloc_nodes(m, 1, &base);
		if (ret < 0)
			return ret;
		nd->child = base;
		nd->n = 1;
		return msg__dec(r, m, t->fields[v].type, base, 0);
	case J2735_OPEN:
		return msg__dec_open(r, m, t, idx, open_id);
	default:
		return V2X_E_INVALID;
	}
}

/*
 * v2x_j2735_decode() - see v2x/j2735.h.  Trailing pad bits of the last octet
 * must be zero (V2X_E_INVALID otherwise) so that the frame re-encodes to the
 * same octets.  Any thread; msg owned by the caller.
 */
int v2x_j2735_decode(const uint8_t *buf, size_t len, struct v2x_j2735_msg *msg)
{
	struct uper_reader r;
	uint64_t pad;
	uint32_t root;
	int ret;

	msg->n_nodes = 0;
	msg->n_bytes = 0;
	msg->message_id = 0;
	uper__reader_init(&r, buf, len);
	ret = msg__alloc_nodes(msg, 1, &root);
	if (ret < 0)
		goto out;
	ret = msg__dec(&r, msg, &j2735__MessageFrame, root, 0);
	if (ret < 0)
		goto out;
	msg->message_id = (uint32_t)msg->node[msg->node[root].child].val;
	if (r.pos & 7) {
		ret = uper__get_bits(&r, 8 - (r.pos & 7), &pad);
		if (ret < 0)
			goto out;
		if (pad) {
			ret = V2X_E_INVALID;
			goto out;
		}
	}
	ret = (int)(r.pos / 8);
out:
	return ret;
}

/* ---- encoding ---- */

static int msg__enc(struct uper_writer *w, const struct v2x_j2735_msg *m,
		    uint32_t idx, int64_t open_id);

static int msg__bytes_ok(const struct v2x_j2735_msg *m, uint32_t off, size_t n)
{
	return off <= m->n_bytes && n <= m->n_bytes - off;
}

static int msg__put_size(struct uper_writer *w, const struct v2x_j2735_type *t,
			 size_t n)
{
	int inroot = (int64_t)n >= t->lb && (int64_t)n <= t->ub;
	int ret;

	if (t->ext) {
		ret = uper__put_bits(w, 1, !inroot);
		if (ret < 0)
			return ret;
		if (!inroot)
			return uper__put_len(w, n);
	}
	if (!inroot)
		return V2X_E_RANGE;
	if (t->lb == t->ub)
		return 0;
	return uper__put_cint(w, t->lb, t->ub, (int64_t)n);
}

static int msg__enc_open(struct uper_writer *w, const struct v2x_j2735_msg *m,
			 const struct v2x_j2735_node *nd)
{
	struct uper_writer count;
	size_t octets, start;
	int ret;

	if (nd->flags & V2X_J2735_F_OPAQUE) {
		if (!msg__bytes_ok(m, nd->child, nd->n))
			return V2X_E_INVALID;
		return uper__put_open(w, m->bytes + nd->child, nd->n);
	}
	if (nd->n != 1 || nd->child >= m->n_nodes)
		return V2X_E_INVALID;
	/* Learn the length of the contents first, by counting bits. */
	uper__writer_init(&count, NULL, 0);
	ret = msg__enc(&count, m, nd->child, 0);
	if (ret < 0)
		return ret;
	octets = (count.pos + 7) / 8;
	if (!octets)
		octets = 1;
	ret = uper__put_len(w, octets);
	if (ret < 0)
		return ret;
	start = w->pos;
	ret = msg__enc(w, m, nd->child, 0);
	if (ret < 0)
		return ret;
	return uper__put_bits(w, (unsigned)(start + octets * 8 - w->pos), 0);
}

static int msg__enc_seq(struct uper_writer *w, const struct v2x_j2735_msg *m,
			const struct v2x_j2735_node *nd)
{
	const struct v2x_j2735_type *t = nd->type;
	int ext = !!(nd->flags & V2X_J2735_F_EXT);
	int ret;

	if (nd->n != t->nfields || nd->child > m->n_nodes ||
	    t->nfields > m->n_nodes - nd->child)
		return V2X_E_INVALID;
	if (ext && !t->ext)
		return V2X_E_INVALID;
	if (t->ext) {
		ret = uper__put_bits(w, 1, ext);
		if (ret < 0)
			return ret;
	}
	for (int i = 0; i < t->nfields; i++) {
		const struct v2x_j2735_node *f = &m->node[nd->child + i];

		if (f->type != t->fields[i].type)
			return V2X_E_INVALID;
		if (!t->fields[i].optional) {
			if (!f->present)
				return V2X_E_MISSING;
			continue;
		}
		ret = uper__put_bits(w, 1, !!f->present);
		if (ret < 0)
			return ret;
	}
	for (int i = 0; i < t->nfields; i++) {
		if (!m->node[nd->child + i].present)
			continue;
		ret = msg__enc(w, m, nd->child + i,
			       i ? m->node[nd->child].val : 0);
		if (ret < 0)
			return ret;
	}
	if (ext) {
		if (!msg__bytes_ok(m, nd->ext_off, (nd->ext_bits + 7) / 8))
			return V2X_E_INVALID;
		return uper__put_bitcopy(w, m->bytes + nd->ext_off, 0,
					 nd->ext_bits);
	}
	return 0;
}

static int msg__enc(struct uper_writer *w, const struct v2x_j2735_msg *m,
		    uint32_t idx, int64_t open_id)
{
	const struct v2x_j2735_node *nd = &m->node[idx];
	const struct v2x_j2735_type *t = nd->type;
	int ret;

	(void)open_id;
	if (!t)
		return V2X_E_INVALID;
	switch (t->kind) {
	case J2735_INT:
		return uper__put_cint(w, t->lb, t->ub, nd->val);
	case J2735_BOOL:
		if (nd->val != 0 && nd->val != 1)
			return V2X_E_RANGE;
		return uper__put_bits(w, 1, (uint64_t)nd->val);
	case J2735_NULL:
		return 0;
	case J2735_ENUM:
		if (nd->flags & V2X_J2735_F_EXT) {
			if (!t->ext || nd->val < t->nfields)
				return V2X_E_RANGE;
			ret = uper__put_bits(w, 1, 1);
			if (ret < 0)
				return ret;
			return uper__put_nsnn(w, (uint64_t)(nd->val - t->nfields));
		}
		if (t->ext) {
			ret = uper__put_bits(w, 1, 0);
			if (ret < 0)
				return ret;
		}
		return uper__put_cint(w, 0, t->nfields - 1, nd->val);
	case J2735_BITS:
		if (!msg__bytes_ok(m, nd->child, (nd->n + 7) / 8))
			return V2X_E_INVALID;
		ret = msg__put_size(w, t, nd->n);
		if (ret < 0)
			return ret;
		return uper__put_bitcopy(w, m->bytes + nd->child, 0, nd->n);
	case J2735_OCTETS:
	case J2735_IA5:
		if (!msg__bytes_ok(m, nd->child, nd->n))
			return V2X_E_INVALID;
		ret = msg__put_size(w, t, nd->n);
		if (ret < 0)
			return ret;
		if (t->kind == J2735_OCTETS)
			return uper__put_octets(w, m->bytes + nd->child, nd->n);
		for (uint32_t i = 0; i < nd->n; i++) {
			uint8_t c = m->bytes[nd->child + i];

			if (c > 127)
				return V2X_E_RANGE;
			ret = uper__put_bits(w, 7, c);
			if (ret < 0)
				return ret;
		}
		return 0;
	case J2735_SEQ:
		return msg__enc_seq(w, m, nd);
	case J2735_SEQOF:
		if (nd->child > m->n_nodes || nd->n > m->n_nodes - nd->child)
			return V2X_E_INVALID;
		if ((int64_t)nd->n < t->lb || (int64_t)nd->n > t->ub)
			return V2X_E_RANGE;
		ret = msg__put_size(w, t, nd->n);
		if (ret < 0)
			return ret;
		for (uint32_t i = 0; i < nd->n; i++) {
			if (m->node[nd->child + i].type != t->elem)
				return V2X_E_INVALID;
			ret = msg__enc(w, m, nd->child + i, 0);
			if (ret < 0)
				return ret;
		}
		return 0;
	case J2735_CHOICE:
		if (nd->flags & V2X_J2735_F_EXT) {
			if (!t->ext || nd->val < 0 ||
			    !msg__bytes_ok(m, nd->ext_off, nd->ext_bits / 8))
				return V2X_E_RANGE;
			ret = uper__put_bits(w, 1, 1);
			if (ret == 0)
				ret = uper__put_nsnn(w, (uint64_t)nd->val);
			if (ret == 0)
				ret = uper__put_open(w, m->bytes + nd->ext_off,
						     nd->ext_bits / 8);
			return ret;
		}
		if (t->ext) {
			ret = uper__put_bits(w, 1, 0);
			if (ret < 0)
				return ret;
		}
		if (nd->val < 0 || nd->val >= t->nfields || nd->n != 1 ||
		    nd->child >= m->n_nodes ||
		    m->node[nd->child].type != t->fields[nd->val].type)
			return V2X_E_INVALID;
		ret = uper__put_cint(w, 0, t->nfields - 1, nd->val);
		if (ret < 0)
			return ret;
		return msg__enc(w, m, nd->child, 0);
	case J2735_OPEN:
		return msg__enc_open(w, m, nd);
	default:
		return V2X_E_INVALID;
	}
}

/*
 * v2x_j2735_encode() - see v2x/j2735.h.  Returns octets written, or
 * V2X_E_RANGE / V2X_E_MISSING / V2X_E_INVALID for a bad tree, V2X_E_NOSPACE.
 * Any thread.
 */
int v2x_j2735_encode(const struct v2x_j2735_msg *msg, uint8_t *buf, size_t cap)
{
	struct uper_writer w;
	int ret;

	if (!msg->n_nodes || msg->n_nodes > V2X_J2735_NODES_MAX ||
	    msg->n_bytes > V2X_J2735_BYTES_MAX ||
	    msg->node[0].type != &j2735__MessageFrame) {
		ret = V2X_E_INVALID;
		goto out;
	}
	uper__writer_init(&w, buf, cap);
	ret = msg__enc(&w, msg, 0, 0);
	if (ret < 0)
		goto out;
	ret = uper__pad(&w);
	if (ret < 0)
		goto out;
	ret = (int)(w.pos / 8);
out:
	return ret;
}

/* ---- compact views ---- */

/* The decoded value node of a MessageFrame with this id, or NULL. */
static const struct v2x_j2735_node *msg__value(const struct v2x_j2735_msg *m,
					       const struct v2x_j2735_type *t)
{
	const struct v2x_j2735_node *mf = &m->node[0], *val;

	if (!m->n_nodes || mf->type != &j2735__MessageFrame ||
	    mf->child + 2 > m->n_nodes)
		return NULL;
	val = &m->node[mf->child + 1];
	if ((val->flags & V2X_J2735_F_OPAQUE) || val->child >= m->n_nodes ||
	    m->node[val->child].type != t)
		return NULL;
	return &m->node[val->child];
}

static const struct v2x_j2735_node *msg__field(const struct v2x_j2735_msg *m,
					       const struct v2x_j2735_node *nd,
					       int i)
{
	const struct v2x_j2735_node *f = &m->node[nd->child + i];

	return f->present ? f : NULL;
}

static unsigned msg__bits(const struct v2x_j2735_msg *m,
			  const struct v2x_j2735_node *nd, unsigned max)
{
	unsigned v = 0;

	/* Bit i of the result is the i-th bit of the string. */
	for (unsigned i = 0; i < nd->n && i < max; i++)
		v |= ((m->bytes[nd->child + i / 8] >> (7 - i % 8)) & 1u) << i;
	return v;
}

/*
 * v2x_j2735_to_bsm() - see v2x/j2735.h.  Any thread.
 */
int v2x_j2735_to_bsm(const struct v2x_j2735_msg *msg, struct v2x_bsm *out)
{
	const struct v2x_j2735_node *bsm, *core, *f, *part2;
	const uint8_t *id;

	bsm = msg__value(msg, &j2735__BasicSafetyMessage);
	if (!bsm)
		return V2X_E_UNKNOWN_MSG;
	core = &msg->node[bsm->child];
	f = &msg->node[core->child];
	memset(out, 0, sizeof(*out));
	out->msg_cnt = (uint8_t)f[0].val;
	id = msg->bytes + f[1].child;
	out->id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
		  (uint32_t)id[2] << 8 | id[3];
	out->sec_mark = (uint16_t)f[2].val;
	out->lat = (int32_t)f[3].val;
	out->lon = (int32_t)f[4].val;
	out->elev = (int32_t)f[5].val;
	out->acc_semi_major = (uint8_t)msg->node[f[6].child].val;
	out->acc_semi_minor = (uint8_t)msg->node[f[6].child + 1].val;
	out->acc_orient = (uint16_t)msg->node[f[6].child + 2].val;
	out->transmission = (uint8_t)f[7].val;
	out->speed = (uint16_t)f[8].val;
	out->heading = (uint16_t)f[9].val;
	out->angle = (int8_t)f[10].val;
	out->accel_long = (int16_t)msg->node[f[11].child].val;
	out->accel_lat = (int16_t)msg->node[f[11].child + 1].val;
	out->accel_vert = (int8_t)msg->node[f[11].child + 2].val;
	out->yaw_rate = (int16_t)msg->node[f[11].child + 3].val;
	out->wheel_brakes = (uint8_t)msg__bits(msg, &msg->node[f[12].child], 5);
	out->traction = (uint8_t)msg->node[f[12].child + 1].val;
	out->abs = (uint8_t)msg->node[f[12].child + 2].val;
	out->scs = (uint8_t)msg->node[f[12].child + 3].val;
	out->brake_boost = (uint8_t)msg->node[f[12].child + 4].val;
	out->aux_brakes = (uint8_t)msg->node[f[12].child + 5].val;
	out->width_cm = (uint16_t)msg->node[f[13].child].val;
	out->length_cm = (uint16_t)msg->node[f[13].child + 1].val;
	part2 = msg__field(msg, bsm, 1);
	for (uint32_t i = 0; part2 && i < part2->n; i++) {
		const struct v2x_j2735_node *pc = &msg->node[part2->child + i];
		const struct v2x_j2735_node *pv = &msg->node[pc->child + 1];
		const struct v2x_j2735_node *vse, *ev;

		if (msg->node[pc->child].val != 0)
			continue;
		/* Only the first VehicleSafetyExtensions counts. */
		if (pv->flags & V2X_J2735_F_OPAQUE)
			break;
		vse = &msg->node[pv->child];
		ev = msg__field(msg, vse, 0);
		if (ev) {
			out->events = (uint16_t)msg__bits(msg, ev, 13);
			out->has_events = 1;
		}
		break;
	}
	return 0;
}

/*
 * v2x_j2735_to_spat() - see v2x/j2735.h.  Any thread.
 */
int v2x_j2735_to_spat(const struct v2x_j2735_msg *msg, int which,
		      struct v2x_spat *out)
{
	const struct v2x_j2735_node *spat, *list, *is, *f, *states;

	spat = msg__value(msg, &j2735__SPAT);
	if (!spat)
		return V2X_E_UNKNOWN_MSG;
	list = &msg->node[spat->child + 2];
	if (which < 0 || (uint32_t)which >= list->n)
		return V2X_E_RANGE;
	is = &msg->node[list->child + (uint32_t)which];
	f = &msg->node[is->child];
	memset(out, 0, sizeof(*out));
	out->region = f[1].present && msg->node[f[1].child].present
			      ? (uint16_t)msg->node[f[1].child].val
			      : 0;
	out->intersection_id = (uint32_t)msg->node[f[1].child + 1].val;
	out->revision = (uint8_t)f[2].val;
	out->status = (uint16_t)msg__bits(msg, &f[3], 16);
	out->moy = f[4].present ? (uint32_t)f[4].val : 527040;
	out->time_stamp = f[5].present ? (uint16_t)f[5].val : 65535;
	states = &f[7];
	for (uint32_t i = 0; i < states->n; i++) {
		const struct v2x_j2735_node *ms = &msg->node[states->child + i];
		const struct v2x_j2735_node *mf = &msg->node[ms->child];
		const struct v2x_j2735_node *ev = &msg->node[mf[2].child];
		const struct v2x_j2735_node *ef = &msg->node[ev->child];
		struct v2x_movement *mv;

		if (out->n >= V2X_SPAT_MOVEMENTS_MAX)
			return V2X_E_LIMIT;
		mv = &out->mv[out->n++];
		mv->signal_group = (uint8_t)mf[1].val;
		/* The current phase is the first MovementEvent. */
		mv->state = (ef[0].flags & V2X_J2735_F_EXT) ? 0 : (uint8_t)ef[0].val;
		mv->min_end = mv->max_end = mv->likely = V2X_TIMEMARK_UNKNOWN;
		if (ef[1].present) {
			const struct v2x_j2735_node *td = &msg->node[ef[1].child];

			mv->min_end = (uint16_t)td[1].val;
			if (td[2].present)
				mv->max_end = (uint16_t)td[2].val;
			if (td[3].present)
				mv->likely = (uint16_t)td[3].val;
		}
	}
	return 0;
}
