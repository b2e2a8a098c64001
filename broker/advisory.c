/* SPDX-License-Identifier: MIT */
/* advisory.c - cloud advisory -> adv/<geohash7> (see advisory.h). */
#include "advisory.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "closures.h"
#include "geohash.h"
#include "v2x/error.h"
#include "wire.h"

#define ADV_DEPTH_MAX 32

static int adv__cell(int have_lat, double lat, int have_lon, double lon,
		     const char *default_cell, char cell[8])
{
	size_t n;

	if (have_lat && have_lon) {
		if (!isfinite(lat) || !isfinite(lon))
			return V2X_E_RANGE;
		if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
			return V2X_E_RANGE;
		return geohash_encode(lat, lon, 7, cell) < 0 ? V2X_E_RANGE : 0;
	}
	if (!default_cell || !default_cell[0])
		return V2X_E_MISSING;
	n = strlen(default_cell);
	if (n > 7)
		n = 7;
	memcpy(cell, default_cell, n);
	cell[n] = '\0';
	return 0;
}

static int adv__json_to_mp(const json_t *v, struct mp_buf *b, int depth)
{
	if (depth > ADV_DEPTH_MAX)
		return V2X_E_NESTING;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *e;
		int r;

		mp_map(b, (uint32_t)json_object_size(v));
		json_object_foreach((json_t *)v, k, e) {
			mp_str(b, k);
			r = adv__json_to_mp(e, b, depth + 1);
			if (r < 0)
				return r;
		}
		return 0;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		int r;

		mp_array(b, (uint32_t)json_array_size(v));
		json_array_foreach(v, i, e) {
			r = adv__json_to_mp(e, b, depth + 1);
			if (r < 0)
				return r;
		}
		return 0;
	}
	case JSON_STRING:
		mp_strn(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		mp_int(b, (int64_t)json_integer_value(v));
		return 0;
	case JSON_REAL:
		mp_f64(b, json_real_value(v));
		return 0;
	case JSON_TRUE:
		mp_bool(b, 1);
		return 0;
	case JSON_FALSE:
		mp_bool(b, 0);
		return 0;
	case JSON_NULL:
		mp_nil(b);
		return 0;
	}
	return V2X_E_TYPE;
}

static int adv__json(const void *payload, size_t len, const char *default_cell,
		     uint8_t *out, size_t cap, char cell[8])
{
	json_error_t jerr;
	json_t *root, *jlat, *jlon;
	double lat = 0, lon = 0;
	int have_lat = 0, have_lon = 0;
	struct mp_buf b;
	int r;

	root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return V2X_E_SYNTAX;
	if (!json_is_object(root)) {
		r = V2X_E_SYNTAX;
		goto out;
	}
	jlat = json_object_get(root, "lat");
	jlon = json_object_get(root, "lon");
	if (jlat && json_is_number(jlat)) {
		lat = json_number_value(jlat);
		have_lat = 1;
	}
	if (jlon && json_is_number(jlon)) {
		lon = json_number_value(jlon);
		have_lon = 1;
	}
	r = adv__cell(have_lat, lat, have_lon, lon, default_cell, cell);
	if (r < 0)
		goto out;
	mp_init(&b, out, cap);
	r = adv__json_to_mp(root, &b, 0);
	if (r < 0)
		goto out;
	r = mp_finish(&b);
out:
	json_decref(root);
	return r;
}

/*
 * A bounded msgpack reader (no allocation): msgpack-c's unpacker would
 * allocate what a hostile header claims (a map32 of 2^32 pairs) before it
 * finds out that the bytes are not there.  Every length is checked against
 * the bytes left before it is used.
 */
struct adv_rd {
	const uint8_t *p, *end;
};

static int adv__take(struct adv_rd *r, size_t n, const uint8_t **at)
{
	if ((size_t)(r->end - r->p) < n)
		return V2X_E_TRUNCATED;
	*at = r->p;
	r->p += n;
	return 0;
}

static uint64_t adv__be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads a header: kind ('m'ap, 'a'rray, 's'tr/bin/ext payload, 'n'umber,
 * 'o'ther scalar), count (pairs, elements or payload bytes). */
static int adv__head(struct adv_rd *r, char *kind, uint64_t *count, double *num)
{
	const uint8_t *b, *x;
	int r2;
	uint8_t c;

	r2 = adv__take(r, 1, &b);
	if (r2 < 0)
		return r2;
	c = *b;
	*count = 0;
	if (c <= 0x7f || c >= 0xe0) {
		*kind = 'n';
		*num = c <= 0x7f ? (double)c : (double)(int8_t)c;
		return 0;
	}
	if (c <= 0x8f) {
		*kind = 'm';
		*count = c & 0x0f;
		return 0;
	}
	if (c <= 0x9f) {
		*kind = 'a';
		*count = c & 0x0f;
		return 0;
	}
	if (c <= 0xbf) {
		*kind = 's';
		*count = c & 0x1f;
		return 0;
	}
	switch (c) {
	case 0xc0: case 0xc2: case 0xc3:
		*kind = 'o';
		return 0;
	case 0xc4: case 0xc5: case 0xc6:
	case 0xd9: case 0xda: case 0xdb: {
		int n = (c == 0xc4 || c == 0xd9) ? 1 : (c == 0xc5 || c == 0xda) ? 2 : 4;

		if ((r2 = adv__take(r, (size_t)n, &x)) < 0)
			return r2;
		*kind = c >= 0xd9 ? 'S' : 's';
		*count = adv__be(x, n);
		return 0;
	}
	case 0xc7: case 0xc8: case 0xc9: {
		int n = c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4;

		if ((r2 = adv__take(r, (size_t)n, &x)) < 0)
			return r2;
		*kind = 's';
		*count = adv__be(x, n) + 1; /* type byte + data */
		return 0;
	}
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		*kind = 's';
		*count = 1 + (1u << (c - 0xd4));
		return 0;
	case 0xca: {
		uint32_t u;
		float f;

		if ((r2 = adv__take(r, 4, &x)) < 0)
			return r2;
		u = (uint32_t)adv__be(x, 4);
		memcpy(&f, &u, sizeof(f));
		*kind = 'n';
		*num = f;
		return 0;
	}
	case 0xcb: {
		uint64_t u;
		double d;

		if ((r2 = adv__take(r, 8, &x)) < 0)
			return r2;
		u = adv__be(x, 8);
		memcpy(&d, &u, sizeof(d));
		*kind = 'n';
		*num = d;
		return 0;
	}
	case 0xcc: case 0xcd: case 0xce: case 0xcf: {
		int n = 1 << (c - 0xcc);

		if ((r2 = adv__take(r, (size_t)n, &x)) < 0)
			return r2;
		*kind = 'n';
		*num = (double)adv__be(x, n);
		return 0;
	}
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		int n = 1 << (c - 0xd0);
		uint64_t u;

		if ((r2 = adv__take(r, (size_t)n, &x)) < 0)
			return r2;
		u = adv__be(x, n);
		/* Sign-extend from n bytes. */
		if (n < 8 && (u >> (8 * n - 1)) & 1)
			u |= ~0ull << (8 * n);
		*kind = 'n';
		*num = (double)(int64_t)u;
		return 0;
	}
	case 0xdc: case 0xdd:
		if ((r2 = adv__take(r, c == 0xdc ? 2 : 4, &x)) < 0)
			return r2;
		*kind = 'a';
		*count = adv__be(x, c == 0xdc ? 2 : 4);
		return 0;
	case 0xde: case 0xdf:
		if ((r2 = adv__take(r, c == 0xde ? 2 : 4, &x)) < 0)
			return r2;
		*kind = 'm';
		*count = adv__be(x, c == 0xde ? 2 : 4);
		return 0;
	default: /* 0xc1 is never used */
		return V2X_E_INVALID;
	}
}

/* Skips one object (and everything inside it). */
static int adv__skip(struct adv_rd *r, int depth)
{
	const uint8_t *x;
	uint64_t n;
	double num;
	char kind;
	int ret;

	if (depth > ADV_DEPTH_MAX)
		return V2X_E_NESTING;
	ret = adv__head(r, &kind, &n, &num);
	if (ret < 0)
		return ret;
	if (kind == 's' || kind == 'S')
		return n > (uint64_t)(r->end - r->p) ? V2X_E_TRUNCATED
						     : adv__take(r, (size_t)n, &x);
	if (kind == 'm' || kind == 'a') {
		uint64_t items = kind == 'm' ? 2 * n : n;

		/* Every element takes at least one byte. */
		if (items > (uint64_t)(r->end - r->p))
			return V2X_E_TRUNCATED;
		for (uint64_t i = 0; i < items; i++) {
			ret = adv__skip(r, depth + 1);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int adv__msgpack(const void *payload, size_t len, const char *default_cell,
			uint8_t *out, size_t cap, char cell[8])
{
	struct adv_rd r = { payload, (const uint8_t *)payload + len };
	double lat = 0, lon = 0, num;
	int have_lat = 0, have_lon = 0;
	uint64_t pairs, n;
	char kind;
	int ret;

	ret = adv__head(&r, &kind, &pairs, &num);
	if (ret < 0 || kind != 'm')
		return V2X_E_SYNTAX;
	if (2 * pairs > (uint64_t)(r.end - r.p))
		return V2X_E_SYNTAX;
	for (uint64_t i = 0; i < pairs; i++) {
		const uint8_t *key = NULL;
		struct adv_rd save;

		save = r;
		ret = adv__head(&r, &kind, &n, &num);
		if (ret < 0)
			return V2X_E_SYNTAX;
		if (kind == 'S' || (kind == 's' && save.p[0] >= 0xa0 && save.p[0] <= 0xbf)) {
			/* A string key: "lat" or "lon" is read, others skipped. */
			if (n > (uint64_t)(r.end - r.p) || adv__take(&r, (size_t)n, &key) < 0)
				return V2X_E_SYNTAX;
		} else {
			r = save;
			if (adv__skip(&r, 1) < 0)
				return V2X_E_SYNTAX;
		}
		if (key && n == 3 && (memcmp(key, "lat", 3) == 0 || memcmp(key, "lon", 3) == 0)) {
			save = r;
			ret = adv__head(&r, &kind, &n, &num);
			if (ret < 0)
				return V2X_E_SYNTAX;
			if (kind == 'n') {
				if (!isfinite(num))
					return V2X_E_RANGE;
				if (key[2] == 't') {
					lat = num;
					have_lat = 1;
				} else {
					lon = num;
					have_lon = 1;
				}
				continue;
			}
			r = save;
		}
		ret = adv__skip(&r, 1);
		if (ret < 0)
			return ret == V2X_E_NESTING ? ret : V2X_E_SYNTAX;
	}
	if (r.p != r.end)
		return V2X_E_SYNTAX; /* trailing bytes: not one msgpack map */
	ret = adv__cell(have_lat, lat, have_lon, lon, default_cell, cell);
	if (ret < 0)
		return ret;
	if (len > cap)
		return V2X_E_NOSPACE;
	memcpy(out, payload, len);
	return (int)len;
}

/* See advisory.h.  Publish thread. */
int advisory_prepare(const void *payload, size_t len, const char *default_cell,
		     uint8_t *out, size_t cap, char cell[8])
{
	const uint8_t *p = payload;
	size_t i = 0;

	if (len == 0 || len > INT32_MAX)
		return V2X_E_SYNTAX;
	/* JSON objects start with '{' (after optional white space); a msgpack
	 * map starts with 0x80..0x8f, 0xde or 0xdf. */
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < len && p[i] == '{')
		return adv__json(payload, len, default_cell, out, cap, cell);
	return adv__msgpack(payload, len, default_cell, out, cap, cell);
}

/*
 * Lane closures (docs/wire.md, "Lane closure advisory").  The advisory is
 * read from its msgpack form: the JSON form is converted first, so that
 * one reader checks both.
 */

#define CLO_LEN_MAX 100000.0 /* metres: no closure is longer than 100 km */

static int clo__err(char *err, size_t errlen, int code, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "lane_closure: %s", what);
	return code;
}

/* Reads a msgpack string at r (not bin/ext).  Returns 0 or V2X_E_TYPE /
 * V2X_E_TRUNCATED. */
static int adv__str(struct adv_rd *r, const uint8_t **s, uint64_t *n)
{
	const uint8_t *first = r->p;
	double num;
	char kind;
	int ret;

	ret = adv__head(r, &kind, n, &num);
	if (ret < 0)
		return ret;
	if (!(kind == 'S' || (kind == 's' && first[0] >= 0xa0 && first[0] <= 0xbf)))
		return V2X_E_TYPE;
	if (*n > (uint64_t)(r->end - r->p))
		return V2X_E_TRUNCATED;
	return adv__take(r, (size_t)*n, s);
}

/* Reads a number at r.  Returns 0, V2X_E_TYPE (not a number) or
 * V2X_E_RANGE (not finite). */
static int adv__num(struct adv_rd *r, double *v)
{
	uint64_t n;
	char kind;
	int ret;

	ret = adv__head(r, &kind, &n, v);
	if (ret < 0)
		return ret;
	if (kind != 'n')
		return V2X_E_TYPE;
	return isfinite(*v) ? 0 : V2X_E_RANGE;
}

static int adv__key_is(const uint8_t *k, uint64_t n, const char *name)
{
	return n == strlen(name) && memcmp(k, name, (size_t)n) == 0;
}

/*
 * The next key of the map being read at r: 1 with a string key in k/n (r
 * at its value), 0 when the key is not a string (the pair is skipped), or
 * V2X_E_SYNTAX.
 */
static int clo__key(struct adv_rd *r, const uint8_t **k, uint64_t *n)
{
	struct adv_rd save = *r;

	if (adv__str(r, k, n) == 0)
		return 1;
	*r = save;
	if (adv__skip(r, 1) < 0 || adv__skip(r, 1) < 0)
		return V2X_E_SYNTAX;
	return 0;
}

/* The map at r: "type" first pass (is it a lane closure at all?). */
static int clo__is_closure(struct adv_rd r)
{
	uint64_t pairs, n;
	double num;
	char kind;

	if (adv__head(&r, &kind, &pairs, &num) < 0 || kind != 'm')
		return 0;
	for (uint64_t i = 0; i < pairs; i++) {
		struct adv_rd save;
		const uint8_t *k, *v;
		uint64_t vn;
		int kr = clo__key(&r, &k, &n);

		if (kr < 0)
			return 0;
		if (kr == 0)
			continue;
		if (adv__key_is(k, n, "type")) {
			save = r;
			if (adv__str(&r, &v, &vn) == 0)
				return adv__key_is(v, vn, "lane_closure");
			r = save;
		}
		if (adv__skip(&r, 1) < 0)
			return 0;
	}
	return 0;
}

/* Reads the lane closure map at r into out (zeroed by the caller). */
static int clo__read(struct adv_rd r, struct closure_msg *out, char *err,
		     size_t errlen)
{
	int have_lat = 0, have_lon = 0, have_from = 0, have_to = 0, have_id = 0;
	int have_len = 0;
	uint64_t pairs, n;
	double num, from = 0, to = 0;
	char kind;
	int ret;

	ret = adv__head(&r, &kind, &pairs, &num);
	if (ret < 0 || kind != 'm')
		return clo__err(err, errlen, V2X_E_SYNTAX, "not a map");
	for (uint64_t i = 0; i < pairs; i++) {
		struct adv_rd save;
		const uint8_t *k, *v;
		uint64_t vn;
		int kr = clo__key(&r, &k, &n);

		if (kr < 0)
			return clo__err(err, errlen, V2X_E_SYNTAX, "bad map");
		if (kr == 0)
			continue;
		if (adv__key_is(k, n, "id")) {
			save = r;
			if (adv__str(&r, &v, &vn) == 0) {
				if (vn == 0 || vn >= CLOSURE_ID_MAX)
					return clo__err(err, errlen, V2X_E_LIMIT,
							"'id' must be 1..47 characters");
				memcpy(out->id, v, (size_t)vn);
				out->id[vn] = '\0';
			} else {
				r = save;
				if (adv__num(&r, &num) < 0 || num != floor(num) ||
				    fabs(num) > 9e15)
					return clo__err(err, errlen, V2X_E_TYPE,
							"'id' must be a string or an integer");
				snprintf(out->id, sizeof(out->id), "%.0f", num);
			}
			have_id = 1;
		} else if (adv__key_is(k, n, "status")) {
			if (adv__str(&r, &v, &vn) < 0)
				return clo__err(err, errlen, V2X_E_TYPE,
						"'status' must be a string");
			if (adv__key_is(v, vn, "cleared"))
				out->cleared = 1;
			else if (adv__key_is(v, vn, "active"))
				out->cleared = 0;
			else
				return clo__err(err, errlen, V2X_E_INVALID,
						"'status' must be \"active\" or \"cleared\"");
		} else if (adv__key_is(k, n, "lanes")) {
			uint64_t cnt;

			ret = adv__head(&r, &kind, &cnt, &num);
			if (ret < 0 || kind != 'a' || cnt == 0 || cnt > CLOSURE_LANES_MAX)
				return clo__err(err, errlen, V2X_E_TYPE,
						"'lanes' must be an array of 1..8 lane ids");
			for (uint64_t j = 0; j < cnt; j++) {
				if (adv__num(&r, &num) < 0 || num != floor(num) ||
				    num < 0 || num > INT32_MAX)
					return clo__err(err, errlen, V2X_E_RANGE,
							"'lanes' must be an array of 1..8 lane ids");
				out->lanes[j] = (int32_t)num;
			}
			out->n_lanes = (uint8_t)cnt;
		} else if (adv__key_is(k, n, "lat") || adv__key_is(k, n, "lon") ||
			   adv__key_is(k, n, "length_m") || adv__key_is(k, n, "from_m") ||
			   adv__key_is(k, n, "to_m") || adv__key_is(k, n, "until")) {
			char key[16];

			memcpy(key, k, (size_t)n);
			key[n] = '\0';
			if (adv__num(&r, &num) < 0) {
				char what[64];

				snprintf(what, sizeof(what), "'%s' must be a finite number", key);
				return clo__err(err, errlen, V2X_E_TYPE, what);
			}
			if (!strcmp(key, "lat")) {
				if (num < -90 || num > 90)
					return clo__err(err, errlen, V2X_E_RANGE, "'lat' out of range");
				out->lat = num;
				have_lat = 1;
			} else if (!strcmp(key, "lon")) {
				if (num < -180 || num > 180)
					return clo__err(err, errlen, V2X_E_RANGE, "'lon' out of range");
				out->lon = num;
				have_lon = 1;
			} else if (!strcmp(key, "length_m")) {
				if (num < 0 || num > CLO_LEN_MAX)
					return clo__err(err, errlen, V2X_E_RANGE,
							"'length_m' must be 0..100000");
				out->length_m = (float)num;
				have_len = 1;
			} else if (!strcmp(key, "from_m")) {
				from = num;
				have_from = 1;
			} else if (!strcmp(key, "to_m")) {
				to = num;
				have_to = 1;
			} else {
				/* until: seconds since the epoch, before 2200. */
				if (num < 0 || num > 7258118400.0)
					return clo__err(err, errlen, V2X_E_RANGE,
							"'until' must be seconds since the epoch");
				out->until_ns = (uint64_t)(num * 1e9);
			}
		} else if (adv__skip(&r, 1) < 0) {
			return clo__err(err, errlen, V2X_E_SYNTAX, "bad map");
		}
	}
	if (!have_id)
		return clo__err(err, errlen, V2X_E_MISSING, "'id' missing");
	if (out->cleared)
		return 1; /* the id is all a clear needs */
	if (have_lat != have_lon)
		return clo__err(err, errlen, V2X_E_MISSING, "'lat' and 'lon' go together");
	if (have_from != have_to)
		return clo__err(err, errlen, V2X_E_MISSING, "'from_m' and 'to_m' go together");
	if (have_from) {
		if (from < 0 || to < from || to > CLO_LEN_MAX)
			return clo__err(err, errlen, V2X_E_RANGE,
					"need 0 <= from_m <= to_m <= 100000");
		if (!out->n_lanes)
			return clo__err(err, errlen, V2X_E_MISSING,
					"'from_m'/'to_m' need 'lanes'");
		out->from_m = (float)from;
		out->to_m = (float)to;
		out->has_range = 1;
	}
	out->has_pos = (uint8_t)have_lat;
	if (!out->has_range && !out->has_pos)
		return clo__err(err, errlen, V2X_E_MISSING,
				"needs 'lat'/'lon' or 'lanes' with 'from_m'/'to_m'");
	if (out->has_range && !have_len)
		out->length_m = out->to_m - out->from_m;
	return 1;
}

/* See advisory.h.  Any thread. */
int advisory_closure(const void *payload, size_t len, uint8_t *scratch,
		     size_t cap, struct closure_msg *out, char *err,
		     size_t errlen)
{
	const uint8_t *mp = payload;
	size_t mlen = len;
	struct adv_rd r;
	char cell[8];
	int n;

	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	/* advisory_prepare() checks the whole message (and converts JSON);
	 * what it refuses is its path's to report. */
	n = advisory_prepare(payload, len, "s000000", scratch, cap, cell);
	if (n < 0)
		return 0;
	mp = scratch;
	mlen = (size_t)n;
	r.p = mp;
	r.end = mp + mlen;
	if (!clo__is_closure(r))
		return 0;
	return clo__read(r, out, err, errlen);
}
