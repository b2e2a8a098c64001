/* SPDX-License-Identifier: MIT */
/*
 * sim/sensor.c - roadside sensors (radar, camera, lidar): every road user
 * in range and field of view is reported with noise, some are missed, some
 * false detections appear; object ids are stable while an object stays in
 * view, as a tracker's would be.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define KEY_PED 0x80000000u

static int sensor__add(struct sim_world *w, const struct sim_sensor_spec *sp)
{
	struct sim_sensor *s = &w->sensor[w->nsensor];
	double rate = sp->rate_hz > 0 ? sp->rate_hz : 10;

	memset(s, 0, sizeof(*s));
	s->id = (uint32_t)(w->nsensor + 1);
	s->spec = *sp;
	if (sp->have_ll) {
		sim_geo_from_ll(&w->geo, sp->lat, sp->lon, &s->x, &s->y);
	} else {
		s->x = sp->x;
		s->y = sp->y;
		sim_geo_to_ll(&w->geo, s->x, s->y, &s->spec.lat, &s->spec.lon);
	}
	s->heading = sp->heading_deg * M_PI / 180.0;
	s->half_fov = sp->fov_deg * M_PI / 360.0;
	s->range = sp->range_m;
	s->period_steps = (int)lround(SIM_STEPS_PER_S / rate);
	if (s->period_steps < 1)
		s->period_steps = 1;
	s->phase = w->nsensor % s->period_steps;
	s->next_obj = 1;
	sim_rng_seed(&s->rng, w->cfg.seed, 100 + (uint64_t)w->nsensor);
	s->ntrack_cap = 1024;
	s->track = calloc(s->ntrack_cap, sizeof(*s->track));
	if (!s->track)
		return -ENOMEM;
	/* The lanes that pass through the coverage, sampled every 5 m. */
	for (int ln = 0; ln < w->road.nlane; ln++) {
		const struct sim_lane *l = &w->road.lane[ln];
		double from = -1, to = -1;
		int hint = 0;

		if (l->type != SIM_LANE_VEHICLE)
			continue;
		for (double sp5 = 0; sp5 <= l->length + 5; sp5 += 5) {
			double x, y, h;
			double q = sp5 > l->length ? l->length : sp5;

			sim_lane_point(l, q, 0, &x, &y, &h, &hint);
			if (hypot(x - s->x, y - s->y) <= s->range + 10) {
				if (from < 0)
					from = q;
				to = q;
			}
		}
		if (from < 0)
			continue;
		if (!(s->ncover & 15)) {
			int n = s->ncover + 16;
			int *cl = realloc(s->cover_lane, (size_t)n * sizeof(int));
			double *cf, *ct;

			if (!cl)
				return -ENOMEM;
			s->cover_lane = cl;
			cf = realloc(s->cover_from, (size_t)n * sizeof(double));
			if (!cf)
				return -ENOMEM;
			s->cover_from = cf;
			ct = realloc(s->cover_to, (size_t)n * sizeof(double));
			if (!ct)
				return -ENOMEM;
			s->cover_to = ct;
		}
		s->cover_lane[s->ncover] = ln;
		s->cover_from[s->ncover] = from - 10;
		s->cover_to[s->ncover] = to + 30;
		s->ncover++;
	}
	w->nsensor++;
	return 0;
}

static void sensor__defaults(struct sim_world *w, struct sim_sensor_spec *out,
			     int *n)
{
	struct sim_sensor_spec base = {
		.fov_deg = 360, .range_m = 150, .rate_hz = 10, .pos_sigma = 0.3,
		.speed_sigma = 0.3, .miss = 0.02, .false_rate = 0.02,
	};

	*n = 0;
	if (w->nsig > 0) {
		/* A lidar at the centre of each intersection, up to 16. */
		for (int k = 0; k < w->nsig && *n < 16; k++) {
			out[*n] = base;
			out[*n].x = w->sig[k].x;
			out[*n].y = w->sig[k].y;
			(*n)++;
		}
		return;
	}
	/* Highway: radars on the median looking downstream, 1 km apart. */
	{
		int nsec = 0, first, sec = 0;

		for (int ln = 0; ln < w->road.nlane; ln++)
			nsec += w->road.lane[ln].index == 0;
		nsec /= 2; /* the forward carriageway's sections come first */
		first = nsec / 2 - 3 > 0 ? nsec / 2 - 3 : 0;
		for (int ln = 0; ln < w->road.nlane && *n < 6 && sec < nsec; ln++) {
			const struct sim_lane *l = &w->road.lane[ln];
			int top = ln;
			double x, y, h;

			if (l->index != 0)
				continue;
			if (sec++ < first)
				continue;
			while (w->road.lane[top].left >= 0)
				top = w->road.lane[top].left;
			sim_lane_point(&w->road.lane[top], 10,
				       w->road.lane[top].width / 2 + 1.5, &x, &y, &h, NULL);
			out[*n] = base;
			out[*n].x = x;
			out[*n].y = y;
			out[*n].heading_deg = h * 180.0 / M_PI;
			out[*n].fov_deg = 40;
			out[*n].range_m = 300;
			(*n)++;
		}
	}
}

/*
 * sim__sensors_init() - the configured sensors, or the scenario's default
 * ones.  Returns 0 or -ENOMEM.
 */
int sim__sensors_init(struct sim_world *w)
{
	struct sim_sensor_spec *specs = w->cfg.sensor;
	struct sim_sensor_spec defs[16];
	int n = w->cfg.nsensors;

	if (n < 0) {
		sensor__defaults(w, defs, &n);
		specs = defs;
	}
	w->sensor = calloc((size_t)n + 1, sizeof(*w->sensor));
	if (!w->sensor)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		int ret = sensor__add(w, &specs[i]);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * sim__sensors_free() - free the sensors' memory.
 */
void sim__sensors_free(struct sim_world *w)
{
	for (int i = 0; i < w->nsensor; i++) {
		free(w->sensor[i].track);
		free(w->sensor[i].cover_lane);
		free(w->sensor[i].cover_from);
		free(w->sensor[i].cover_to);
	}
	free(w->sensor);
	w->sensor = NULL;
	w->nsensor = 0;
}

static int sensor__rehash(struct sim_sensor *s, uint32_t cap)
{
	struct sim_sensor_track *old = s->track, *nt = calloc(cap, sizeof(*nt));
	uint32_t oldcap = s->ntrack_cap;

	if (!nt)
		return -ENOMEM;
	s->track = nt;
	s->ntrack_cap = cap;
	s->ntrack = 0;
	for (uint32_t i = 0; i < oldcap; i++) {
		uint32_t h;

		/* Forget objects not seen for a second: they left the view. */
		if (!old[i].key || s->frame - old[i].last_frame > 10)
			continue;
		h = sim_mix32(old[i].key) & (cap - 1);
		while (nt[h].key)
			h = (h + 1) & (cap - 1);
		nt[h] = old[i];
		s->ntrack++;
	}
	free(old);
	return 0;
}

/* The stable object id of agent key in sensor s. */
static uint32_t sensor__obj_id(struct sim_sensor *s, uint32_t key)
{
	uint32_t h = sim_mix32(key) & (s->ntrack_cap - 1);

	while (s->track[h].key) {
		if (s->track[h].key == key) {
			if (s->frame - s->track[h].last_frame > 10)
				s->track[h].obj_id = s->next_obj++;
			s->track[h].last_frame = s->frame;
			return s->track[h].obj_id;
		}
		h = (h + 1) & (s->ntrack_cap - 1);
	}
	s->track[h].key = key;
	s->track[h].obj_id = s->next_obj++;
	s->track[h].last_frame = s->frame;
	s->ntrack++;
	return s->track[h].obj_id;
}

static void sensor__note_incident(struct sim_world *w, int inc_idx,
				  uint32_t sensor_id, uint32_t obj_id)
{
	struct sim_incident *inc;

	if (inc_idx < 0 || inc_idx >= w->ninc)
		return;
	inc = &w->inc[inc_idx];
	if (inc->state != SIM_INC_ACTIVE)
		return;
	for (int i = 0; i < inc->nsobj; i++)
		if (inc->sobj_sensor[i] == sensor_id && inc->sobj_id[i] == obj_id)
			return;
	if (inc->nsobj < SIM_INC_IDS_MAX) {
		inc->sobj_sensor[inc->nsobj] = sensor_id;
		inc->sobj_id[inc->nsobj] = obj_id;
		inc->nsobj++;
	}
}

struct frame_ctx {
	struct sim_world *w;
	struct sim_sensor *s;
	const struct sim_sink *sink;
	struct v2x_objects *fr;
};

static void frame__flush(struct frame_ctx *c)
{
	if (c->fr->n == 0)
		return;
	c->w->ctr.objects_frames++;
	c->w->ctr.objects += c->fr->n;
	if (c->sink && c->sink->objects)
		c->sink->objects(c->sink->ctx, c->fr);
	c->fr->n = 0;
}

static void frame__add(struct frame_ctx *c, uint32_t id, int cls, double x, double y,
		       double speed, double heading, double length, double width,
		       int confidence)
{
	struct sim_sensor *s = c->s;
	struct v2x_object *o;
	double lat, lon, hd;
	long sp;

	if (c->fr->n == V2X_OBJECTS_MAX)
		frame__flush(c);
	o = &c->fr->obj[c->fr->n++];
	x += s->spec.pos_sigma * sim_rng_normal(&s->rng);
	y += s->spec.pos_sigma * sim_rng_normal(&s->rng);
	speed += s->spec.speed_sigma * sim_rng_normal(&s->rng);
	if (speed < 0)
		speed = 0;
	sim_geo_to_ll(&c->w->geo, x, y, &lat, &lon);
	o->id = id;
	o->cls = (uint8_t)cls;
	o->confidence = (uint8_t)confidence;
	o->lat = sim_geo_e7(lat);
	o->lon = sim_geo_e7(lon);
	sp = lround(speed / 0.02);
	o->speed = (uint16_t)(sp > 8190 ? 8190 : sp);
	hd = fmod(heading * 180.0 / M_PI, 360.0);
	if (hd < 0)
		hd += 360.0;
	o->heading = (uint16_t)(lround(hd / 0.0125) % 28800);
	o->length_cm = (uint16_t)lround(length * 100.0);
	o->width_cm = (uint16_t)lround(width * 100.0);
}

static int sensor__sees(const struct sim_sensor *s, double x, double y)
{
	double dx = x - s->x, dy = y - s->y, d = hypot(dx, dy), ang;

	if (d > s->range)
		return 0;
	if (s->half_fov >= M_PI)
		return 1;
	ang = atan2(dx, dy) - s->heading;
	ang = remainder(ang, 2 * M_PI);
	return fabs(ang) <= s->half_fov;
}

static void sensor__frame(struct sim_world *w, struct sim_sensor *s,
			  const struct sim_sink *sink, struct v2x_objects *fr)
{
	struct frame_ctx c = { w, s, sink, fr };

	s->frame++;
	if (s->ntrack * 2 > s->ntrack_cap)
		sensor__rehash(s, s->ntrack_cap * 2);
	else if (s->frame % 100 == 0)
		sensor__rehash(s, s->ntrack_cap);
	memset(fr, 0, offsetof(struct v2x_objects, obj));
	fr->ts_ns = sim_world_ns(w, w->t);
	fr->sensor_id = s->id;
	for (int c2 = 0; c2 < s->ncover; c2++) {
		const struct sim_lane *l = &w->road.lane[s->cover_lane[c2]];

		for (int k = 0; k < l->nveh; k++) {
			struct sim_vehicle *v = &w->veh[l->veh[k]];
			uint32_t oid;

			if (v->s < s->cover_from[c2] || v->s > s->cover_to[c2])
				continue;
			if (!sensor__sees(s, v->x, v->y))
				continue;
			v->seen_t = w->t;
			oid = sensor__obj_id(s, v->id);
			if (v->incident >= 0)
				sensor__note_incident(w, v->incident, s->id, oid);
			if (w->nat)
				sim__truth_seen(w, l->veh[k], s->id, oid);
			if (sim_rng_uniform(&s->rng) < s->spec.miss)
				continue;
			frame__add(&c, oid, v->cls, v->x, v->y, v->v, v->heading, v->length,
				   v->width, 80 + (int)sim_rng_below(&s->rng, 21));
		}
	}
	for (int i = 0; i < w->nped; i++) {
		struct sim_ped *p = &w->ped[i];
		uint32_t oid;

		if (!p->active || !sensor__sees(s, p->x, p->y))
			continue;
		oid = sensor__obj_id(s, KEY_PED | (uint32_t)i);
		if (p->incident >= 0)
			sensor__note_incident(w, p->incident, s->id, oid);
		if (sim_rng_uniform(&s->rng) < s->spec.miss)
			continue;
		frame__add(&c, oid, p->cls, p->x, p->y, p->v, p->heading,
			   p->cls == V2X_CLASS_CYCLIST ? 1.8 : 0.5,
			   p->cls == V2X_CLASS_CYCLIST ? 0.6 : 0.5,
			   70 + (int)sim_rng_below(&s->rng, 26));
	}
	/* False detections: a Poisson number of ghosts anywhere in view. */
	{
		double lim = exp(-s->spec.false_rate), prod = sim_rng_uniform(&s->rng);

		while (prod > lim) {
			double r = s->range * sqrt(sim_rng_uniform(&s->rng));
			double a = s->heading + sim_rng_range(&s->rng, -s->half_fov, s->half_fov);

			frame__add(&c, s->next_obj++, V2X_CLASS_UNKNOWN, s->x + r * sin(a),
				   s->y + r * cos(a), sim_rng_range(&s->rng, 0, 15),
				   sim_rng_range(&s->rng, 0, 2 * M_PI), 2.0, 1.0,
				   20 + (int)sim_rng_below(&s->rng, 40));
			prod *= sim_rng_uniform(&s->rng);
		}
	}
	frame__flush(&c);
}

/*
 * sim__sensors_step() - the frames of the sensors due at this step.
 */
void sim__sensors_step(struct sim_world *w, const struct sim_sink *sink)
{
	static _Thread_local struct v2x_objects fr;

	for (int i = 0; i < w->nsensor; i++) {
		struct sim_sensor *s = &w->sensor[i];

		if (w->step % s->period_steps != s->phase)
			continue;
		sensor__frame(w, s, sink, &fr);
	}
}
