/* SPDX-License-Identifier: MIT */
/* advisory.c - cloud advisory -> adv/<geohash7> (see advisory.h). */
#include "advisory.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

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
