/* SPDX-License-Identifier: MIT */
/*
 * jer.c - struct v2x_j2735_msg <-> JSON in the style of ITU-T X.697 JER:
 * ASN.1 identifiers as member names, INTEGER as a number in raw units,
 * ENUMERATED as its identifier, OCTET STRING as hex, BIT STRING as
 * {"value":"hex","length":N}, CHOICE as {"alternative":value}, SEQUENCE OF
 * as an array.  What the codec keeps opaque is printed so that parsing it
 * back restores it exactly (docs/j2735.md, "JSON"):
 *   - an open type not decoded: a hex string of its octets;
 *   - a SEQUENCE's extension additions: "_ext":{"value":hex,"length":bits}
 *     holding the raw UPER bits of the additions (bitmap length, bitmap,
 *     open types);
 *   - an unknown CHOICE extension alternative: {"_ext":{"index":N,
 *     "value":hex}};
 *   - an unknown ENUMERATED extension value: its extension index as a
 *     number.
 * jansson is used internally; the JSON text is the only allocation and is
 * released before return.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "j2735_schema.h"
#include "v2x/error.h"
#include "v2x/j2735.h"
#include "v2x/j2735_types.h"

#define JER_EXT "_ext"

static json_t *jer__hex(const uint8_t *p, size_t n)
{
	char small[256] = "", *s = small;
	json_t *out;

	if (n * 2 + 1 > sizeof(small)) {
		s = malloc(n * 2 + 1);
		if (!s)
			return NULL;
	}
	hex__encode(p, n, s, true);
	out = json_string(s);
	if (s != small)
		free(s);
	return out;
}

static json_t *jer__bits(const uint8_t *p, size_t nbits)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (json_object_set_new(o, "value", jer__hex(p, (nbits + 7) / 8)) ||
	    json_object_set_new(o, "length", json_integer((json_int_t)nbits))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *jer__node(const struct v2x_j2735_msg *m, uint32_t idx)
{
	const struct v2x_j2735_node *nd = &m->node[idx];
	const struct v2x_j2735_type *t = nd->type;
	json_t *o = NULL;

	if (!t)
		return NULL;
	switch (t->kind) {
	case J2735_INT:
		return json_integer(nd->val);
	case J2735_BOOL:
		return json_boolean(nd->val);
	case J2735_NULL:
		return json_null();
	case J2735_ENUM:
		if (nd->flags & V2X_J2735_F_EXT)
			return json_integer(nd->val - t->nfields);
		return json_string(t->names[nd->val]);
	case J2735_BITS:
		return jer__bits(m->bytes + nd->child, nd->n);
	case J2735_OCTETS:
		return jer__hex(m->bytes + nd->child, nd->n);
	case J2735_IA5:
		return json_stringn((const char *)m->bytes + nd->child, nd->n);
	case J2735_SEQ:
		o = json_object();
		if (!o)
			return NULL;
		for (int i = 0; i < t->nfields; i++) {
			if (!m->node[nd->child + i].present)
				continue;
			if (json_object_set_new(o, t->fields[i].name,
						jer__node(m, nd->child + i)))
				goto fail;
		}
		if ((nd->flags & V2X_J2735_F_EXT) &&
		    json_object_set_new(o, JER_EXT,
					jer__bits(m->bytes + nd->ext_off,
						  nd->ext_bits)))
			goto fail;
		return o;
	case J2735_SEQOF:
		o = json_array();
		if (!o)
			return NULL;
		for (uint32_t i = 0; i < nd->n; i++)
			if (json_array_append_new(o, jer__node(m, nd->child + i)))
				goto fail;
		return o;
	case J2735_CHOICE:
		o = json_object();
		if (!o)
			return NULL;
		if (nd->flags & V2X_J2735_F_EXT) {
			json_t *e = json_pack("{s:I,s:o}", "index",
					      (json_int_t)nd->val, "value",
					      jer__hex(m->bytes + nd->ext_off,
						       nd->ext_bits / 8));

			if (json_object_set_new(o, JER_EXT, e))
				goto fail;
			return o;
		}
		if (json_object_set_new(o, t->fields[nd->val].name,
					jer__node(m, nd->child)))
			goto fail;
		return o;
	case J2735_OPEN:
		if (nd->flags & V2X_J2735_F_OPAQUE)
			return jer__hex(m->bytes + nd->child, nd->n);
		return jer__node(m, nd->child);
	default:
		return NULL;
	}
fail:
	json_decref(o);
	return NULL;
}

/*
 * v2x_j2735_to_json() - see v2x/j2735.h.  Returns the length written
 * (without the NUL), V2X_E_NOSPACE, V2X_E_INVALID for an empty message, or
 * -ENOMEM.  Any thread.
 */
int v2x_j2735_to_json(const struct v2x_j2735_msg *msg, char *out, size_t cap)
{
	json_t *root = NULL;
	size_t n;
	int ret;

	if (!msg->n_nodes || msg->node[0].type != &j2735__MessageFrame) {
		ret = V2X_E_INVALID;
		goto out;
	}
	root = jer__node(msg, 0);
	if (!root) {
		ret = -ENOMEM;
		goto out;
	}
	n = json_dumpb(root, out, cap, JSON_COMPACT);
	if (n == 0) {
		ret = -ENOMEM;
		goto out;
	}
	if (n >= cap) {
		ret = V2X_E_NOSPACE;
		goto out;
	}
	out[n] = '\0';
	ret = (int)n;
out:
	json_decref(root);
	return ret;
}

/* ---- parsing ---- */

static int jer__alloc_nodes(struct v2x_j2735_msg *m, uint32_t n, uint32_t *idx)
{
	if (n > V2X_J2735_NODES_MAX - m->n_nodes)
		return V2X_E_LIMIT;
	*idx = m->n_nodes;
	memset(&m->node[*idx], 0, n * sizeof(m->node[0]));
	m->n_nodes += n;
	return 0;
}

/* Hex text into fresh pool octets. */
static int jer__unhex(struct v2x_j2735_msg *m, const json_t *j, uint32_t *off,
		      size_t *n)
{
	int ret;

	if (!json_is_string(j))
		return V2X_E_TYPE;
	ret = hex__decode(json_string_value(j), json_string_length(j),
			  m->bytes + m->n_bytes,
			  V2X_J2735_BYTES_MAX - m->n_bytes, false);
	if (ret < 0)
		return ret;
	*off = m->n_bytes;
	*n = (size_t)ret;
	m->n_bytes += (uint32_t)ret;
	return 0;
}

/* {"value":"hex","length":N} into pool octets; N bits. */
static int jer__unbits(struct v2x_j2735_msg *m, const json_t *j, uint32_t *off,
		       size_t *nbits)
{
	const json_t *v, *l;
	size_t n;
	int ret;

	if (!json_is_object(j) || json_object_size(j) != 2)
		return V2X_E_TYPE;
	v = json_object_get(j, "value");
	l = json_object_get(j, "length");
	if (!v || !l)
		return V2X_E_MISSING;
	if (!json_is_integer(l))
		return V2X_E_TYPE;
	ret = jer__unhex(m, v, off, &n);
	if (ret < 0)
		return ret;
	if (json_integer_value(l) < 0 ||
	    (size_t)(json_integer_value(l) + 7) / 8 != n)
		return V2X_E_RANGE;
	*nbits = (size_t)json_integer_value(l);
	return 0;
}

static int jer__parse(const json_t *j, struct v2x_j2735_msg *m,
		      const struct v2x_j2735_type *t, uint32_t idx,
		      int64_t open_id, int depth);

static int jer__parse_seq(const json_t *j, struct v2x_j2735_msg *m,
			  const struct v2x_j2735_type *t, uint32_t idx,
			  int depth)
{
	size_t known = 0, n;
	uint32_t base, off;
	const json_t *e;
	int ret;

	if (!json_is_object(j))
		return V2X_E_TYPE;
	ret = jer__alloc_nodes(m, t->nfields, &base);
	if (ret < 0)
		return ret;
	m->node[idx].child = base;
	m->node[idx].n = t->nfields;
	for (int i = 0; i < t->nfields; i++) {
		const json_t *f = json_object_get(j, t->fields[i].name);

		m->node[base + i].type = t->fields[i].type;
		if (!f) {
			if (!t->fields[i].optional)
				return V2X_E_MISSING;
			continue;
		}
		known++;
		ret = jer__parse(f, m, t->fields[i].type, base + i,
				 i ? m->node[base].val : 0, depth + 1);
		if (ret < 0)
			return ret;
	}
	e = json_object_get(j, JER_EXT);
	if (e) {
		if (!t->ext)
			return V2X_E_SYNTAX;
		ret = jer__unbits(m, e, &off, &n);
		if (ret < 0)
			return ret;
		m->node[idx].flags |= V2X_J2735_F_EXT;
		m->node[idx].ext_off = off;
		m->node[idx].ext_bits = (uint32_t)n;
		known++;
	}
	/* Every member must be a component we know. */
	if (known != json_object_size(j))
		return V2X_E_SYNTAX;
	return 0;
}

static int jer__size_ok(const struct v2x_j2735_type *t, size_t n)
{
	if ((int64_t)n >= t->lb && (int64_t)n <= t->ub)
		return 1;
	return t->ext && t->kind == J2735_BITS;
}

static int jer__parse(const json_t *j, struct v2x_j2735_msg *m,
		      const struct v2x_j2735_type *t, uint32_t idx,
		      int64_t open_id, int depth)
{
	struct v2x_j2735_node *nd = &m->node[idx];
	const struct v2x_j2735_type *inner;
	uint32_t base, off;
	size_t n;
	int ret;

	if (depth > 32)
		return V2X_E_NESTING;
	nd->type = t;
	nd->present = 1;
	switch (t->kind) {
	case J2735_INT:
		if (!json_is_integer(j))
			return V2X_E_TYPE;
		nd->val = json_integer_value(j);
		if (nd->val < t->lb || nd->val > t->ub)
			return V2X_E_RANGE;
		return 0;
	case J2735_BOOL:
		if (!json_is_boolean(j))
			return V2X_E_TYPE;
		nd->val = json_is_true(j);
		return 0;
	case J2735_NULL:
		return json_is_null(j) ? 0 : V2X_E_TYPE;
	case J2735_ENUM:
		if (json_is_integer(j) && t->ext) {
			if (json_integer_value(j) < 0 ||
			    json_integer_value(j) > J2735_EXT_INDEX_MAX)
				return V2X_E_RANGE;
			nd->val = json_integer_value(j) + t->nfields;
			nd->flags |= V2X_J2735_F_EXT;
			return 0;
		}
		if (!json_is_string(j))
			return V2X_E_TYPE;
		ret = j2735__enum_index(t, json_string_value(j));
		if (ret < 0)
			return V2X_E_RANGE;
		nd->val = ret;
		return 0;
	case J2735_BITS:
		ret = jer__unbits(m, j, &off, &n);
		if (ret < 0)
			return ret;
		if (!jer__size_ok(t, n))
			return V2X_E_RANGE;
		nd->child = off;
		nd->n = (uint32_t)n;
		return 0;
	case J2735_OCTETS:
		ret = jer__unhex(m, j, &off, &n);
		if (ret < 0)
			return ret;
		if (!jer__size_ok(t, n))
			return V2X_E_RANGE;
		nd->child = off;
		nd->n = (uint32_t)n;
		return 0;
	case J2735_IA5:
		if (!json_is_string(j))
			return V2X_E_TYPE;
		n = json_string_length(j);
		if (!jer__size_ok(t, n))
			return V2X_E_RANGE;
		if (n > V2X_J2735_BYTES_MAX - m->n_bytes)
			return V2X_E_LIMIT;
		for (size_t i = 0; i < n; i++)
			if ((uint8_t)json_string_value(j)[i] > 127)
				return V2X_E_RANGE;
		nd->child = m->n_bytes;
		nd->n = (uint32_t)n;
		memcpy(m->bytes + m->n_bytes, json_string_value(j), n);
		m->n_bytes += (uint32_t)n;
		return 0;
	case J2735_SEQ:
		return jer__parse_seq(j, m, t, idx, depth);
	case J2735_SEQOF:
		if (!json_is_array(j))
			return V2X_E_TYPE;
		n = json_array_size(j);
		if (!jer__size_ok(t, n))
			return V2X_E_RANGE;
		if (n > t->cap)
			return V2X_E_LIMIT;
		ret = jer__alloc_nodes(m, (uint32_t)n, &base);
		if (ret < 0)
			return ret;
		nd = &m->node[idx];
		nd->child = base;
		nd->n = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			ret = jer__parse(json_array_get(j, i), m, t->elem,
					 base + (uint32_t)i, 0, depth + 1);
			if (ret < 0)
				return ret;
		}
		return 0;
	case J2735_CHOICE: {
		const char *key;
		json_t *v;
		int alt;

		if (!json_is_object(j) || json_object_size(j) != 1)
			return V2X_E_TYPE;
		key = json_object_iter_key(json_object_iter((json_t *)j));
		v = json_object_iter_value(json_object_iter((json_t *)j));
		if (!strcmp(key, JER_EXT) && t->ext) {
			const json_t *i = json_object_get(v, "index");

			if (!json_is_object(v) || json_object_size(v) != 2 ||
			    !json_is_integer(i) || json_integer_value(i) < 0 ||
			    json_integer_value(i) > J2735_EXT_INDEX_MAX)
				return V2X_E_TYPE;
			ret = jer__unhex(m, json_object_get(v, "value"), &off, &n);
			if (ret < 0)
				return ret;
			nd->val = json_integer_value(i);
			nd->flags |= V2X_J2735_F_EXT;
			nd->ext_off = off;
			nd->ext_bits = (uint32_t)(n * 8);
			return 0;
		}
		alt = j2735__field_index(t, key);
		if (alt < 0)
			return V2X_E_SYNTAX;
		nd->val = alt;
		ret = jer__alloc_nodes(m, 1, &base);
		if (ret < 0)
			return ret;
		nd->child = base;
		nd->n = 1;
		return jer__parse(v, m, t->fields[alt].type, base, 0, depth + 1);
	}
	case J2735_OPEN:
		inner = j2735__open_type(t->open_by, open_id);
		if (json_is_string(j) || !inner) {
			ret = jer__unhex(m, j, &off, &n);
			if (ret < 0)
				return ret;
			nd->child = off;
			nd->n = (uint32_t)n;
			nd->flags |= V2X_J2735_F_OPAQUE;
			return 0;
		}
		ret = jer__alloc_nodes(m, 1, &base);
		if (ret < 0)
			return ret;
		nd->child = base;
		nd->n = 1;
		return jer__parse(j, m, inner, base, 0, depth + 1);
	default:
		return V2X_E_INVALID;
	}
}

/*
 * v2x_j2735_from_json() - see v2x/j2735.h.  Returns 0, V2X_E_SYNTAX (not
 * JSON, unknown member), V2X_E_TYPE, V2X_E_MISSING, V2X_E_RANGE, V2X_E_LIMIT
 * or V2X_E_NESTING.  Any thread.
 */
int v2x_j2735_from_json(const char *text, size_t len, struct v2x_j2735_msg *msg)
{
	json_error_t err;
	json_t *root;
	uint32_t idx;
	int ret;

	msg->n_nodes = 0;
	msg->n_bytes = 0;
	msg->message_id = 0;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			 &err);
	if (!root) {
		ret = V2X_E_SYNTAX;
		goto out;
	}
	ret = jer__alloc_nodes(msg, 1, &idx);
	if (ret < 0)
		goto out;
	ret = jer__parse(root, msg, &j2735__MessageFrame, idx, 0, 0);
	if (ret < 0)
		goto out;
	msg->message_id = (uint32_t)msg->node[msg->node[0].child].val;
out:
	json_decref(root);
	return ret;
}
