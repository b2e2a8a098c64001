/* SPDX-License-Identifier: MIT */
/* advisory.c - cloud advisory -> adv/<geohash7> (see advisory.h). */
#include "advisory.h"

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <string.h>

#include "geohash.h"
#include "v2x/error.h"
#include "wire.h"

#define ADV_DEPTH_MAX 32

/* One coordinate in degrees, as in every msgpack frame (docs/wire.md). */
static int adv__coord(int is_int, int64_t i, double d, double *deg)
{
	*deg = is_int ? (double)i : d;
	return isfinite(*deg) ? 0 : V2X_E_RANGE;
}

static int adv__cell(int have_lat, double lat, int have_lon, double lon,
		     const char *default_cell, char cell[8])
{
	size_t n;

	if (have_lat && have_lon) {
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
		r = adv__coord(json_is_integer(jlat), json_integer_value(jlat),
			       json_number_value(jlat), &lat);
		if (r < 0)
			goto out;
		have_lat = 1;
	}
	if (jlon && json_is_number(jlon)) {
		r = adv__coord(json_is_integer(jlon), json_integer_value(jlon),
			       json_number_value(jlon), &lon);
		if (r < 0)
			goto out;
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

static int adv__mp_number(const msgpack_object *o, double *deg)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return V2X_E_RANGE;
		return adv__coord(1, (int64_t)o->via.u64, 0, deg);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return adv__coord(1, o->via.i64, 0, deg);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return adv__coord(0, 0, o->via.f64, deg);
	default:
		return V2X_E_TYPE;
	}
}

static int adv__msgpack(const void *payload, size_t len, const char *default_cell,
			uint8_t *out, size_t cap, char cell[8])
{
	msgpack_unpacked u;
	size_t off = 0;
	double lat = 0, lon = 0;
	int have_lat = 0, have_lon = 0;
	int r;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, payload, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP || off != len) {
		r = V2X_E_SYNTAX;
		goto out;
	}
	for (uint32_t i = 0; i < u.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &u.data.via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		if (kv->key.via.str.size == 3 && memcmp(kv->key.via.str.ptr, "lat", 3) == 0)
			have_lat = adv__mp_number(&kv->val, &lat) == 0;
		else if (kv->key.via.str.size == 3 &&
			 memcmp(kv->key.via.str.ptr, "lon", 3) == 0)
			have_lon = adv__mp_number(&kv->val, &lon) == 0;
	}
	r = adv__cell(have_lat, lat, have_lon, lon, default_cell, cell);
	if (r < 0)
		goto out;
	if (len > cap) {
		r = V2X_E_NOSPACE;
		goto out;
	}
	memcpy(out, payload, len);
	r = (int)len;
out:
	msgpack_unpacked_destroy(&u);
	return r;
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
