/* SPDX-License-Identifier: MIT */
/*
 * codecs/msg_json.c - JSON for the msgpack frames, with the frame's own keys
 * in the frame's own order (docs/wire.md), so that msgpack -> JSON -> msgpack
 * reproduces a frame exactly.
 *
 * Printing writes straight into the caller's buffer (no allocation).
 * Reading parses with jansson (which allocates: this is the tools' path,
 * not the broker's), packs the jansson tree as msgpack with msgpack-c and
 * hands the bytes to the msgpack decoder, so the checks are identical.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack/pack.h>

#include "msgpack_int.h"
#include "v2x/error.h"
#include "v2x/msgpack.h"

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

struct json_writer {
	struct msgpack__sink sink;
	char *out;
	size_t cap, len;
	bool full;
	unsigned depth;
	bool after_key;
	uint32_t items[MSGPACK__MAX_DEPTH + 1];
};

static struct json_writer *jw_of(struct msgpack__sink *s)
{
	return (struct json_writer *)(void *)s;
}

static int jw_put(struct json_writer *w, const char *text, size_t len)
{
	/* Keep one octet for the terminating NUL. */
	if (w->full || w->cap == 0 || len > w->cap - 1 - w->len) {
		w->full = true;
		return V2X_E_NOSPACE;
	}
	memcpy(w->out + w->len, text, len);
	w->len += len;
	return 0;
}

/* Separator before a value: none after a key, a comma between items. */
static int jw_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return 0;
	}
	if (w->depth && w->items[w->depth]++)
		return jw_put(w, ",", 1);
	return 0;
}

static int jw_open(struct json_writer *w, const char *bracket)
{
	int rc = jw_value(w);

	if (rc < 0)
		return rc;
	if (w->depth >= MSGPACK__MAX_DEPTH)
		return V2X_E_NESTING;
	w->items[++w->depth] = 0;
	return jw_put(w, bracket, 1);
}

static int jw_close(struct json_writer *w, const char *bracket)
{
	w->depth--;
	return jw_put(w, bracket, 1);
}

static int jw_map(struct msgpack__sink *s, uint32_t n)
{
	(void)n;
	return jw_open(jw_of(s), "{");
}

static int jw_map_end(struct msgpack__sink *s)
{
	return jw_close(jw_of(s), "}");
}

static int jw_array(struct msgpack__sink *s, uint32_t n)
{
	(void)n;
	return jw_open(jw_of(s), "[");
}

static int jw_array_end(struct msgpack__sink *s)
{
	return jw_close(jw_of(s), "]");
}

/* Keys and strings are ours (field names, enum names, "sensor:N"): plain
 * ASCII without quotes or backslashes, so they need no escaping. */
static int jw_quoted(struct json_writer *w, const char *v, size_t len)
{
	int rc = jw_put(w, "\"", 1);

	if (rc >= 0)
		rc = jw_put(w, v, len);
	if (rc >= 0)
		rc = jw_put(w, "\"", 1);
	return rc;
}

static int jw_key(struct msgpack__sink *s, const char *k, size_t len)
{
	struct json_writer *w = jw_of(s);
	int rc = 0;

	if (w->items[w->depth]++)
		rc = jw_put(w, ",", 1);
	if (rc >= 0)
		rc = jw_quoted(w, k, len);
	if (rc >= 0)
		rc = jw_put(w, ":", 1);
	w->after_key = true;
	return rc;
}

static int jw_str(struct msgpack__sink *s, const char *v, size_t len)
{
	struct json_writer *w = jw_of(s);
	int rc = jw_value(w);

	return rc < 0 ? rc : jw_quoted(w, v, len);
}

static int jw_printf(struct json_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int jw_printf(struct json_writer *w, const char *fmt, ...)
{
	char text[48];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return V2X_E_RANGE;
	return jw_put(w, text, (size_t)n);
}

static int jw_uint(struct msgpack__sink *s, uint64_t v)
{
	struct json_writer *w = jw_of(s);
	int rc = jw_value(w);

	return rc < 0 ? rc : jw_printf(w, "%" PRIu64, v);
}

static int jw_sint(struct msgpack__sink *s, int64_t v)
{
	struct json_writer *w = jw_of(s);
	int rc = jw_value(w);

	return rc < 0 ? rc : jw_printf(w, "%" PRId64, v);
}

/*
 * The shortest decimal that reads back as the same double (or float, when
 * as_float), with ".0" added to integral values so that a reader sees a
 * real.  Values reaching here are range-checked, hence finite.
 */
static int jw_real(struct json_writer *w, double v, bool as_float)
{
	char text[40];
	int lo = as_float ? 6 : 15, hi = as_float ? 9 : 17;

	for (int prec = lo; prec <= hi; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, v);
		double back = strtod(text, NULL);
		if (as_float ? (float)back == (float)v : back == v)
			break;
	}
	if (!strpbrk(text, ".eEn"))
		strcat(text, ".0");
	return jw_put(w, text, strlen(text));
}

static int jw_f64(struct msgpack__sink *s, double v)
{
	struct json_writer *w = jw_of(s);
	int rc = jw_value(w);

	return rc < 0 ? rc : jw_real(w, v, false);
}

static int jw_f32(struct msgpack__sink *s, float v)
{
	struct json_writer *w = jw_of(s);
	int rc = jw_value(w);

	return rc < 0 ? rc : jw_real(w, v, true);
}

static const struct msgpack__sink_ops json_ops = {
	.map = jw_map,
	.map_end = jw_map_end,
	.array = jw_array,
	.array_end = jw_array_end,
	.key = jw_key,
	.uint = jw_uint,
	.sint = jw_sint,
	.f64 = jw_f64,
	.f32 = jw_f32,
	.str = jw_str,
};

/*
 * v2x_msg_to_json() - see v2x/msgpack.h.  Writes a NUL-terminated line
 * without newline; also returns V2X_E_RANGE / V2X_E_UNKNOWN_MSG for an
 * invalid msg.  Allocates nothing; thread-safe.
 */
int v2x_msg_to_json(const struct v2x_msg *msg, char *out, size_t cap)
{
	struct json_writer w = { .sink = { &json_ops }, .out = out, .cap = cap };
	int rc = msgpack__put_msg(&w.sink, msg);

	if (rc < 0) {
		if (cap)
			out[0] = '\0';
		return rc;
	}
	out[w.len] = '\0';
	return w.len > INT32_MAX ? V2X_E_LIMIT : (int)w.len;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* Growable output for msgpack_packer: the JSON path may allocate. */
struct grow_buf {
	uint8_t *p;
	size_t len, cap;
};

static int grow_write(void *data, const char *bytes, size_t len)
{
	struct grow_buf *g = data;

	if (len > g->cap - g->len) {
		size_t cap = g->cap ? g->cap : 1024;
		while (cap - g->len < len) {
			if (cap > (SIZE_MAX >> 2))
				return -1;
			cap *= 2;
		}
		uint8_t *bigger = realloc(g->p, cap);
		if (!bigger)
			return -1;
		g->p = bigger;
		g->cap = cap;
	}
	memcpy(g->p + g->len, bytes, len);
	g->len += len;
	return 0;
}

/*
 * Packs the jansson tree j as msgpack: objects as maps, integers as
 * integers, reals as float64.  Deeper than the frame limit is refused here
 * already, so that recursion stays shallow.
 */
static int pack_json(msgpack_packer *pk, const json_t *j, unsigned depth)
{
	int rc = 0;

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		if (depth >= MSGPACK__MAX_DEPTH)
			return V2X_E_NESTING;
		rc = msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)j, key, val) {
			size_t klen = strlen(key);
			if (rc >= 0)
				rc = msgpack_pack_str_with_body(pk, key, klen);
			if (rc >= 0)
				rc = pack_json(pk, val, depth + 1);
			if (rc < 0)
				return rc == -1 ? -ENOMEM : rc;
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;
		if (depth >= MSGPACK__MAX_DEPTH)
			return V2X_E_NESTING;
		rc = msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, val) {
			if (rc >= 0)
				rc = pack_json(pk, val, depth + 1);
			if (rc < 0)
				return rc == -1 ? -ENOMEM : rc;
		}
		break;
	}
	case JSON_STRING:
		rc = msgpack_pack_str_with_body(pk, json_string_value(j),
						json_string_length(j));
		break;
	case JSON_INTEGER:
		rc = msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		rc = msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		rc = msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		rc = msgpack_pack_false(pk);
		break;
	default:
		rc = msgpack_pack_nil(pk);
		break;
	}
	/* msgpack-c reports a failed write (our realloc) as -1. */
	return rc == -1 ? -ENOMEM : rc;
}

/*
 * v2x_msg_from_json() - see v2x/msgpack.h.  Returns 0, V2X_E_SYNTAX for
 * text that is not valid JSON (duplicate keys and integers beyond int64
 * included), -ENOMEM, or the same codes as v2x_msgpack_decode() for the
 * content.  Allocates (jansson and a scratch buffer); thread-safe.
 */
int v2x_msg_from_json(const char *text, size_t len, struct v2x_msg *msg)
{
	json_error_t jerr;
	json_t *root;
	struct grow_buf g = { 0 };
	msgpack_packer pk;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return V2X_E_SYNTAX;
	if (!json_is_object(root)) {
		rc = V2X_E_TYPE;
		goto out;
	}
	msgpack_packer_init(&pk, &g, grow_write);
	rc = pack_json(&pk, root, 0);
	if (rc < 0)
		goto out;
	rc = msgpack__decode(g.p, g.len, msg);
	if (rc >= 0)
		rc = (size_t)rc == g.len ? 0 : V2X_E_TRAILING;
out:
	free(g.p);
	json_decref(root);
	return rc;
}
