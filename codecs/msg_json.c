/* SPDX-License-Identifier: MIT */
/*
 * codecs/msg_json.c - JSON for the msgpack frames, with the frame's own keys
 * in the frame's own order (docs/wire.md), so that msgpack -> JSON -> msgpack
 * reproduces a frame exactly.
 *
 * Printing writes straight into the caller's buffer (no allocation).
 * Reading parses with jansson (which allocates: this is the tools' path,
 * not the broker's), turns the jansson tree into a msgpack-c object tree and
 * hands it to the same reader the msgpack decoder uses, so the checks are
 * identical.
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

struct tree_pool {
	msgpack_object *obj;
	msgpack_object_kv *kv;
	size_t n_obj, n_kv;
};

/* Counts the array slots and map entries the tree needs; checks depth. */
static int count_nodes(const json_t *j, unsigned depth, size_t *n_obj,
		       size_t *n_kv)
{
	if (json_is_object(j) || json_is_array(j)) {
		if (depth >= MSGPACK__MAX_DEPTH)
			return V2X_E_NESTING;
	}
	if (json_is_object(j)) {
		const char *key;
		json_t *val;

		*n_kv += json_object_size(j);
		json_object_foreach((json_t *)j, key, val) {
			int rc = count_nodes(val, depth + 1, n_obj, n_kv);
			if (rc < 0)
				return rc;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *val;

		*n_obj += json_array_size(j);
		json_array_foreach(j, i, val) {
			int rc = count_nodes(val, depth + 1, n_obj, n_kv);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Converts j into o; strings borrow jansson's storage. */
static void build_tree(const json_t *j, struct tree_pool *p, msgpack_object *o)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		o->type = MSGPACK_OBJECT_MAP;
		o->via.map.ptr = p->kv + p->n_kv;
		o->via.map.size = 0;
		p->n_kv += json_object_size(j);
		json_object_foreach((json_t *)j, key, val) {
			msgpack_object_kv *kv =
				&o->via.map.ptr[o->via.map.size++];
			kv->key.type = MSGPACK_OBJECT_STR;
			kv->key.via.str.ptr = key;
			kv->key.via.str.size = (uint32_t)strlen(key);
			build_tree(val, p, &kv->val);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.ptr = p->obj + p->n_obj;
		o->via.array.size = (uint32_t)json_array_size(j);
		p->n_obj += json_array_size(j);
		json_array_foreach(j, i, val)
			build_tree(val, p, &o->via.array.ptr[i]);
		break;
	}
	case JSON_STRING:
		o->type = MSGPACK_OBJECT_STR;
		o->via.str.ptr = json_string_value(j);
		o->via.str.size = (uint32_t)json_string_length(j);
		break;
	case JSON_INTEGER: {
		json_int_t v = json_integer_value(j);
		if (v >= 0) {
			o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			o->via.u64 = (uint64_t)v;
		} else {
			o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
			o->via.i64 = v;
		}
		break;
	}
	case JSON_REAL:
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = json_real_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = json_is_true(j);
		break;
	default:
		o->type = MSGPACK_OBJECT_NIL;
		break;
	}
}

/* Same bounds as the msgpack decoder's pools. */
#define JSON_MAX_OBJ 2048
#define JSON_MAX_KV 4096

/*
 * v2x_msg_from_json() - see v2x/msgpack.h.  Returns 0, V2X_E_SYNTAX for
 * text that is not one JSON object (or integers beyond int64), -ENOMEM, or
 * the same codes as v2x_msgpack_decode() for the content.  Thread-safe.
 */
int v2x_msg_from_json(const char *text, size_t len, struct v2x_msg *msg)
{
	json_error_t jerr;
	json_t *root = NULL;
	struct tree_pool pool = { 0 };
	size_t n_obj = 0, n_kv = 0;
	msgpack_object tree;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = V2X_E_SYNTAX;
		goto out;
	}
	if (!json_is_object(root)) {
		rc = V2X_E_TYPE;
		goto out;
	}
	rc = count_nodes(root, 0, &n_obj, &n_kv);
	if (rc < 0)
		goto out;
	if (n_obj > JSON_MAX_OBJ || n_kv > JSON_MAX_KV) {
		rc = V2X_E_LIMIT;
		goto out;
	}
	pool.obj = calloc(n_obj ? n_obj : 1, sizeof(*pool.obj));
	pool.kv = calloc(n_kv ? n_kv : 1, sizeof(*pool.kv));
	if (!pool.obj || !pool.kv) {
		rc = -ENOMEM;
		goto out;
	}
	build_tree(root, &pool, &tree);
	rc = msgpack__get_msg(&tree, msg);
out:
	free(pool.obj);
	free(pool.kv);
	json_decref(root);
	return rc;
}
