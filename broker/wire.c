/* SPDX-License-Identifier: MIT */
/* wire.c - msgpack writer and the obj frame (see wire.h). */
#include "wire.h"

#include <string.h>

#include "tracks.h"
#include "v2x/error.h"
#include "v2x/msg.h"

/* See wire.h.  Any thread. */
int wire_encode_obj(const struct track *t, uint8_t *buf, size_t cap)
{
	const char *cls = v2x_class_name(t->cls);
	struct mp_buf b;
	int sensor = t->kind == TRACK_SENSOR;

	mp_init(&b, buf, cap);
	mp_map(&b, sensor ? 12 : 11);
	MP_KEY(&b, "t");
	MP_KEY(&b, "obj");
	MP_KEY(&b, "ts");
	mp_uint(&b, t->cur.t_ns);
	MP_KEY(&b, "id");
	mp_uint(&b, t->id);
	MP_KEY(&b, "cls");
	mp_str(&b, cls ? cls : "unknown");
	MP_KEY(&b, "lat");
	mp_f64(&b, t->cur.lat * 1e-7);
	MP_KEY(&b, "lon");
	mp_f64(&b, t->cur.lon * 1e-7);
	MP_KEY(&b, "speed");
	mp_f32(&b, t->cur.speed_mps);
	MP_KEY(&b, "heading");
	mp_f32(&b, t->cur.heading_deg);
	MP_KEY(&b, "src");
	mp_uint(&b, t->sources);
	MP_KEY(&b, "len");
	mp_f32(&b, t->length_m);
	MP_KEY(&b, "wid");
	mp_f32(&b, t->width_m);
	if (sensor) {
		MP_KEY(&b, "sensor");
		mp_uint(&b, t->sensor_id);
	}
	return mp_finish(&b);
}
