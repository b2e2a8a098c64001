/* SPDX-License-Identifier: MIT */
/*
 * j2735_gen.h - seeded random J2735 messages for tests, the fuzz seed
 * generator and the interop driver: walks the codec's schema
 * (codecs/j2735_schema.h) and fills a struct v2x_j2735_msg with random valid
 * values, including the parts the codec keeps opaque (unknown messageIds,
 * Part II kinds, regional extensions, extension additions, extension
 * values of ENUMERATED/CHOICE/BIT STRING sizes).  Header-only, test code.
 */
#ifndef V2X_TEST_J2735_GEN_H
#define V2X_TEST_J2735_GEN_H

#include <stdint.h>
#include <string.h>

#include "../../codecs/j2735_schema.h"
#include "../../codecs/uper.h"
#include "v2x/j2735.h"

struct gen_rng {
	uint64_t s;
	int opaque; /* 0: only modelled content; 1: also opaque/extension parts */
};

static inline uint64_t gen_next(struct gen_rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in lo..hi, with the bounds themselves favoured. */
static inline int64_t gen_range(struct gen_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;

	switch (gen_next(r) % 8) {
	case 0:
		return lo;
	case 1:
		return hi;
	default:
		return span ? (int64_t)((uint64_t)lo + gen_next(r) % span) : lo;
	}
}

static inline int gen_chance(struct gen_rng *r, unsigned pct)
{
	return gen_next(r) % 100 < pct;
}

static inline uint32_t gen_bytes(struct v2x_j2735_msg *m, struct gen_rng *r,
				 size_t n)
{
	uint32_t off = m->n_bytes;

	for (size_t i = 0; i < n; i++)
		m->bytes[off + i] = (uint8_t)gen_next(r);
	m->n_bytes += (uint32_t)n;
	return off;
}

static inline uint32_t gen_nodes(struct v2x_j2735_msg *m, uint32_t n)
{
	uint32_t idx = m->n_nodes;

	memset(&m->node[idx], 0, n * sizeof(m->node[0]));
	m->n_nodes += n;
	return idx;
}

/* A valid extension-additions tail: bitmap length, bitmap, open types. */
static inline void gen_ext_tail(struct v2x_j2735_msg *m, struct gen_rng *r,
				struct v2x_j2735_node *nd)
{
	uint8_t tmp[256];
	struct uper_writer w;
	unsigned n = 1 + (unsigned)(gen_next(r) % 4), present = 0;
	uint64_t bitmap = 0;

	uper__writer_init(&w, tmp, sizeof(tmp));
	for (unsigned i = 0; i < n; i++)
		if (gen_chance(r, 60))
			bitmap |= 1ull << (n - 1 - i), present++;
	uper__put_nsnn(&w, n - 1);
	uper__put_bits(&w, n, bitmap);
	while (present--) {
		uint8_t v[8];
		size_t len = 1 + gen_next(r) % 8;

		for (size_t i = 0; i < len; i++)
			v[i] = (uint8_t)gen_next(r);
		uper__put_open(&w, v, len);
	}
	nd->flags |= V2X_J2735_F_EXT;
	nd->ext_off = m->n_bytes;
	nd->ext_bits = (uint32_t)w.pos;
	memcpy(m->bytes + m->n_bytes, tmp, (w.pos + 7) / 8);
	m->n_bytes += (uint32_t)((w.pos + 7) / 8);
}

static inline void gen_value(struct v2x_j2735_msg *m, struct gen_rng *r,
			     const struct v2x_j2735_type *t, uint32_t idx,
			     int64_t open_id)
{
	struct v2x_j2735_node *nd = &m->node[idx];
	const struct v2x_j2735_type *inner;
	uint32_t base;
	size_t n;

	nd->type = t;
	nd->present = 1;
	switch (t->kind) {
	case J2735_INT:
		nd->val = gen_range(r, t->lb, t->ub);
		break;
	case J2735_BOOL:
		nd->val = (int64_t)(gen_next(r) & 1);
		break;
	case J2735_NULL:
		break;
	case J2735_ENUM:
		if (t->ext && r->opaque && gen_chance(r, 5)) {
			nd->val = t->nfields + (int64_t)(gen_next(r) % 70);
			nd->flags |= V2X_J2735_F_EXT;
		} else {
			nd->val = gen_range(r, 0, t->nfields - 1);
		}
		break;
	case J2735_BITS:
		n = (size_t)t->lb;
		if (t->ext && r->opaque && gen_chance(r, 5))
			n = (size_t)t->ub + 1 + gen_next(r) % 20;
		nd->n = (uint32_t)n;
		nd->child = gen_bytes(m, r, (n + 7) / 8);
		if (n & 7)
			m->bytes[nd->child + n / 8] &= (uint8_t)(0xff00 >> (n & 7));
		break;
	case J2735_OCTETS:
	case J2735_IA5:
		n = (size_t)gen_range(r, t->lb, t->ub < t->lb + 12 ? t->ub : t->lb + 12);
		nd->n = (uint32_t)n;
		nd->child = gen_bytes(m, r, n);
		if (t->kind == J2735_IA5)
			for (size_t i = 0; i < n; i++)
				m->bytes[nd->child + i] &= 0x7f;
		break;
	case J2735_SEQ:
		base = gen_nodes(m, t->nfields);
		nd = &m->node[idx];
		nd->child = base;
		nd->n = t->nfields;
		for (int i = 0; i < t->nfields; i++) {
			const struct j2735_field *f = &t->fields[i];

			m->node[base + i].type = f->type;
			/* Regional extensions are opaque: only with opaque. */
			if (f->optional &&
			    (gen_chance(r, 50) ||
			     (!r->opaque && !strcmp(f->name, "regional"))))
				continue;
			gen_value(m, r, f->type, base + i,
				  i ? m->node[base].val : 0);
		}
		if (t->ext && r->opaque && gen_chance(r, 5))
			gen_ext_tail(m, r, &m->node[idx]);
		break;
	case J2735_SEQOF: {
		int64_t hi = t->ub;

		if (hi > (int64_t)t->cap)
			hi = t->cap;
		if (hi > t->lb + 2)
			hi = t->lb + 2;
		n = (size_t)gen_range(r, t->lb, hi);
		base = gen_nodes(m, (uint32_t)n);
		nd = &m->node[idx];
		nd->child = base;
		nd->n = (uint32_t)n;
		for (size_t i = 0; i < n; i++)
			gen_value(m, r, t->elem, base + (uint32_t)i, 0);
		break;
	}
	case J2735_CHOICE:
		if (t->ext && r->opaque && gen_chance(r, 5)) {
			n = 1 + gen_next(r) % 6;
			nd->val = (int64_t)(gen_next(r) % 80);
			nd->flags |= V2X_J2735_F_EXT;
			nd->ext_off = gen_bytes(m, r, n);
			nd->ext_bits = (uint32_t)(n * 8);
			break;
		}
		nd->val = gen_range(r, 0, t->nfields - 1);
		base = gen_nodes(m, 1);
		nd = &m->node[idx];
		nd->child = base;
		nd->n = 1;
		gen_value(m, r, t->fields[nd->val].type, base, 0);
		break;
	case J2735_OPEN:
		inner = j2735__open_type(t->open_by, open_id);
		if (inner) {
			base = gen_nodes(m, 1);
			nd = &m->node[idx];
			nd->child = base;
			nd->n = 1;
			gen_value(m, r, inner, base, 0);
		} else {
			n = 1 + gen_next(r) % 12;
			nd->child = gen_bytes(m, r, n);
			nd->n = (uint32_t)n;
			nd->flags |= V2X_J2735_F_OPAQUE;
		}
		break;
	}
}

/*
 * gen_message() - a random MessageFrame with messageId id (19, 20, 32, or
 * anything else for an opaque value).
 */
static inline void gen_message(struct v2x_j2735_msg *m, struct gen_rng *r,
			       int id)
{
	uint32_t base;

	memset(m, 0, offsetof(struct v2x_j2735_msg, node));
	m->n_nodes = 0;
	m->n_bytes = 0;
	gen_nodes(m, 1);
	m->node[0].type = &j2735__MessageFrame;
	m->node[0].present = 1;
	base = gen_nodes(m, 2);
	m->node[0].child = base;
	m->node[0].n = 2;
	m->node[base].type = j2735__MessageFrame.fields[0].type;
	m->node[base].present = 1;
	m->node[base].val = id;
	gen_value(m, r, j2735__MessageFrame.fields[1].type, base + 1, id);
	m->message_id = (uint32_t)id;
}

#endif
