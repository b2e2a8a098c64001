/* SPDX-License-Identifier: MIT */
/* sim/sumo.c - SUMO FCD traces and networks, streamed with expat. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "v2x/error.h"
#include "rng.h"
#include "sumo.h"

#define CHUNK 65536

/*
 * sim_sumo_parse_proj() - see sumo.h.
 */
int sim_sumo_parse_proj(const char *param, struct sim_sumo_proj *p)
{
	const char *z;

	p->have = 1;
	if (!strcmp(param, "!") || !*param) {
		p->utm = 0;
		return 0;
	}
	if (!strstr(param, "+proj=utm"))
		return -EINVAL;
	z = strstr(param, "+zone=");
	if (!z)
		return -EINVAL;
	p->zone = atoi(z + 6);
	if (p->zone < 1 || p->zone > 60)
		return -EINVAL;
	p->south = strstr(param, "+south") != NULL;
	p->utm = 1;
	return 0;
}

/*
 * sim_sumo_xy_to_ll() - see sumo.h.
 */
void sim_sumo_xy_to_ll(const struct sim_sumo_proj *p, double x, double y,
		       double *lat, double *lon)
{
	/* SUMO adds netOffset to projected coordinates: take it off again. */
	double px = x - p->off_x, py = y - p->off_y;

	if (p->utm)
		sim_utm_inverse(p->zone, p->south, px, py, lat, lon);
	else
		sim_geo_to_ll(&p->local, px, py, lat, lon);
}

static const char *attr(const XML_Char **atts, const char *name)
{
	for (int i = 0; atts[i]; i += 2)
		if (!strcmp(atts[i], name))
			return atts[i + 1];
	return NULL;
}

/* A number that is the whole attribute value and finite: 0, else -1. */
static int num(const char *s, double *v)
{
	char *end;

	if (!s || !*s)
		return -1;
	*v = strtod(s, &end);
	return (*end || !isfinite(*v)) ? -1 : 0;
}

/*
 * Bad input in an element: describe the first one (line, element,
 * attribute, value) in msg and stop the parser; the reader then returns
 * V2X_E_SYNTAX.
 */
static void bad_attr(XML_Parser p, int *bad, char *msg, size_t msglen, const char *elem,
		     const char *name, const char *val)
{
	if (*bad)
		return;
	*bad = 1;
	if (val)
		snprintf(msg, msglen, "line %lu: <%s> has a bad %s '%.60s'",
			 (unsigned long)XML_GetCurrentLineNumber(p), elem, name, val);
	else
		snprintf(msg, msglen, "line %lu: <%s> has no %s",
			 (unsigned long)XML_GetCurrentLineNumber(p), elem, name);
	XML_StopParser(p, XML_FALSE);
}

/*
 * The next "x,y[,z]" point of a SUMO shape at *p: 1 and the point, 0 at the
 * end, -1 if malformed.
 */
static int shape_next(const char **p, double *x, double *y)
{
	const char *s = *p;
	char *end;

	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	*x = strtod(s, &end);
	if (end == s || *end != ',')
		return -1;
	s = end + 1;
	*y = strtod(s, &end);
	if (end == s)
		return -1;
	s = end;
	if (*s == ',') { /* z is ignored */
		strtod(s + 1, &end);
		if (end == s + 1)
			return -1;
		s = end;
	}
	if (*s && *s != ' ')
		return -1;
	if (!isfinite(*x) || !isfinite(*y))
		return -1;
	*p = s;
	return 1;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct net_ctx {
	FILE *out;
	struct sim_sumo_proj proj;
	double ref_lat, ref_lon;
	int header, in_edge, internal, edge_no, lane_no, first;
	int bad_proj, bad;
	struct sim_sumo_net_stats *st;
	XML_Parser parser;
	char *msg;
	size_t msglen;
};

static void net__header(struct net_ctx *c, double lat, double lon)
{
	if (c->header)
		return;
	fprintf(c->out, "{\"type\":\"FeatureCollection\",\"reference\":{\"lat\":%.7f,"
			"\"lon\":%.7f},\"generator\":\"v2x-sim sumo\",\"features\":[\n",
		lat, lon);
	c->header = 1;
}

static void net__lane(struct net_ctx *c, const XML_Char **atts)
{
	const char *shape = attr(atts, "shape"), *speed = attr(atts, "speed");
	const char *width = attr(atts, "width"), *allow = attr(atts, "allow");
	const char *id = attr(atts, "id"), *index = attr(atts, "index");
	const char *type = "vehicle";
	const char *p;
	double x, y, lat, lon, speed_v = 50.0 / 3.6, width_v = 3.2;
	int npts = 0, r;

	if (!shape)
		return;
	for (p = shape; (r = shape_next(&p, &x, &y)) > 0;)
		npts++;
	if (r < 0 || npts < 2) {
		bad_attr(c->parser, &c->bad, c->msg, c->msglen, "lane", "shape", shape);
		return;
	}
	if (speed && num(speed, &speed_v) < 0) {
		bad_attr(c->parser, &c->bad, c->msg, c->msglen, "lane", "speed", speed);
		return;
	}
	if (width && num(width, &width_v) < 0) {
		bad_attr(c->parser, &c->bad, c->msg, c->msglen, "lane", "width", width);
		return;
	}
	npts = 0;
	if (allow && !strcmp(allow, "pedestrian"))
		type = "sidewalk";
	else if (allow && !strcmp(allow, "bicycle"))
		type = "bike";
	net__header(c, c->ref_lat, c->ref_lon);
	fprintf(c->out, "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
			"\"coordinates\":[", c->first ? "" : ",\n");
	c->first = 0;
	for (p = shape; shape_next(&p, &x, &y) > 0;) {
		sim_sumo_xy_to_ll(&c->proj, x, y, &lat, &lon);
		fprintf(c->out, "%s[%.7f,%.7f]", npts ? "," : "", lon, lat);
		npts++;
	}
	fprintf(c->out, "]},\"properties\":{\"kind\":\"lane\",\"lane_id\":%d,"
			"\"segment_id\":%d,\"direction\":\"forward\",\"speed_limit_kph\":%.1f,"
			"\"width_m\":%.2f,\"lane_type\":\"%s\",\"lane_index\":%d,\"sumo_id\":",
		++c->lane_no, c->edge_no, speed_v * 3.6, width_v, type, index ? atoi(index) : 0);
	json_str(c->out, id ? id : "");
	fputs("}}", c->out);
	c->st->lanes++;
}

/* The network's extent in degrees, from its corners, with 100 m of margin. */
static void net__box(struct sim_sumo_proj *p, double x0, double y0, double x1, double y1)
{
	const double m = 0.001; /* about 100 m of latitude */
	double xs[2] = { x0, x1 }, ys[2] = { y0, y1 };

	p->min_lat = p->min_lon = INFINITY;
	p->max_lat = p->max_lon = -INFINITY;
	for (int i = 0; i < 4; i++) {
		double lat, lon;

		sim_sumo_xy_to_ll(p, xs[i & 1], ys[i >> 1], &lat, &lon);
		p->min_lat = fmin(p->min_lat, lat - m);
		p->max_lat = fmax(p->max_lat, lat + m);
		p->min_lon = fmin(p->min_lon, lon - m);
		p->max_lon = fmax(p->max_lon, lon + m);
	}
	p->have_box = 1;
}

static void XMLCALL net__start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct net_ctx *c = ud;

	if (c->bad)
		return;
	if (!strcmp(name, "location")) {
		const char *off = attr(atts, "netOffset");
		const char *pp = attr(atts, "projParameter");
		const char *cb = attr(atts, "convBoundary");

		if (off && sscanf(off, "%lf,%lf", &c->proj.off_x, &c->proj.off_y) != 2) {
			bad_attr(c->parser, &c->bad, c->msg, c->msglen, "location", "netOffset",
				 off);
			return;
		}
		if (pp && sim_sumo_parse_proj(pp, &c->proj) < 0)
			c->bad_proj = 1;
		if (cb && !c->bad_proj) {
			double x0, y0, x1, y1, lat, lon;

			if (sscanf(cb, "%lf,%lf,%lf,%lf", &x0, &y0, &x1, &y1) != 4) {
				bad_attr(c->parser, &c->bad, c->msg, c->msglen, "location",
					 "convBoundary", cb);
				return;
			}
			if (c->proj.utm) {
				sim_sumo_xy_to_ll(&c->proj, (x0 + x1) / 2, (y0 + y1) / 2, &lat,
						  &lon);
				c->ref_lat = lat;
				c->ref_lon = lon;
			}
			net__box(&c->proj, x0, y0, x1, y1);
		}
	} else if (!strcmp(name, "edge")) {
		const char *fn = attr(atts, "function");

		c->in_edge = 1;
		c->internal = fn && !strcmp(fn, "internal");
		if (c->internal)
			c->st->skipped_internal++;
		else {
			c->edge_no++;
			c->st->edges++;
		}
	} else if (!strcmp(name, "lane") && c->in_edge && !c->internal && !c->bad_proj) {
		net__lane(c, atts);
	}
}

static void XMLCALL net__end(void *ud, const XML_Char *name)
{
	struct net_ctx *c = ud;

	if (!strcmp(name, "edge"))
		c->in_edge = 0;
}

static int xml_stream(XML_Parser p, FILE *in, int *stop, char *msg, size_t msglen)
{
	char *buf = malloc(CHUNK);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t n = fread(buf, 1, CHUNK, in);
		int last = n < CHUNK;

		if (ferror(in)) {
			ret = -EIO;
			break;
		}
		if (XML_Parse(p, buf, (int)n, last) == XML_STATUS_ERROR) {
			if (stop && *stop)
				break; /* the caller asked to stop */
			snprintf(msg, msglen, "XML error at line %lu: %s",
				 (unsigned long)XML_GetCurrentLineNumber(p),
				 XML_ErrorString(XML_GetErrorCode(p)));
			ret = V2X_E_SYNTAX;
			break;
		}
		if (last || (stop && *stop))
			break;
	}
	free(buf);
	return ret;
}

/*
 * sim_sumo_net_to_geojson() - see sumo.h.
 */
int sim_sumo_net_to_geojson(FILE *net, FILE *out, double ref_lat, double ref_lon,
			    struct sim_sumo_net_stats *st, char *msg, size_t msglen)
{
	struct net_ctx c;
	XML_Parser p = XML_ParserCreate(NULL);
	int ret;

	memset(st, 0, sizeof(*st));
	if (!p)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
	c.out = out;
	c.st = st;
	c.first = 1;
	c.ref_lat = ref_lat;
	c.ref_lon = ref_lon;
	c.parser = p;
	c.msg = msg;
	c.msglen = msglen;
	sim_geo_init(&c.proj.local, ref_lat, ref_lon);
	XML_SetUserData(p, &c);
	XML_SetElementHandler(p, net__start, net__end);
	ret = xml_stream(p, net, &c.bad, msg, msglen);
	XML_ParserFree(p);
	if (ret < 0)
		return ret;
	if (c.bad)
		return V2X_E_SYNTAX;
	st->proj = c.proj;
	if (c.bad_proj) {
		snprintf(msg, msglen, "unsupported projParameter (only +proj=utm and !)");
		return -EINVAL;
	}
	net__header(&c, c.ref_lat, c.ref_lon);
	fputs("\n]}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* Per-vehicle state of the FCD replay: an open-addressing table on ids. */
struct fcd_veh {
	char *id;            /* owned */
	uint32_t hash;
	uint8_t msg_cnt;
	double last_t, last_speed, last_angle;
};

struct fcd_ctx {
	const struct sim_sumo_proj *proj;
	uint64_t start_ns;
	sim_fcd_cb cb;
	void *cb_ctx;
	struct sim_fcd_stats *st;
	double t, t0;         /* current and first timestep, s */
	struct fcd_veh *tab;
	size_t cap, n;
	int stop, oom, bad;
	XML_Parser parser;
	char *msg;
	size_t msglen;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static struct fcd_veh *fcd__lookup(struct fcd_ctx *c, const char *id)
{
	uint32_t h = fnv1a(id);
	size_t i;

	if ((c->n + 1) * 2 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct fcd_veh *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return NULL;
		for (size_t k = 0; k < c->cap; k++) {
			if (!c->tab[k].id)
				continue;
			i = c->tab[k].hash & (ncap - 1);
			while (nt[i].id)
				i = (i + 1) & (ncap - 1);
			nt[i] = c->tab[k];
		}
		free(c->tab);
		c->tab = nt;
		c->cap = ncap;
	}
	i = h & (c->cap - 1);
	while (c->tab[i].id) {
		if (c->tab[i].hash == h && !strcmp(c->tab[i].id, id))
			return &c->tab[i];
		i = (i + 1) & (c->cap - 1);
	}
	c->tab[i].id = strdup(id);
	if (!c->tab[i].id)
		return NULL;
	c->tab[i].hash = h;
	c->tab[i].msg_cnt = (uint8_t)(sim_mix32(h) & 127);
	c->tab[i].last_t = -1;
	c->n++;
	c->st->vehicles++;
	return &c->tab[i];
}

/* Is x,y, read as lon,lat, inside the network's extent? */
static int fcd__in_box(const struct sim_sumo_proj *p, double x, double y)
{
	return y >= p->min_lat && y <= p->max_lat && x >= p->min_lon && x <= p->max_lon;
}

static void fcd__vehicle(struct fcd_ctx *c, const XML_Char **atts)
{
	const char *id = attr(atts, "id"), *xs = attr(atts, "x"), *ys = attr(atts, "y");
	const char *as = attr(atts, "angle"), *ss = attr(atts, "speed");
	const char *type = attr(atts, "type");
	struct fcd_veh *fv;
	struct v2x_bsm b;
	double x, y, lat, lon, speed, angle, acc = 0, yaw = 0;
	uint64_t ts;
	long v;

	if (!id || !xs || !ys) {
		bad_attr(c->parser, &c->bad, c->msg, c->msglen, "vehicle",
			 !id ? "id" : !xs ? "x" : "y", NULL);
		goto bad;
	}
	if (num(xs, &x) < 0 || num(ys, &y) < 0) {
		bad_attr(c->parser, &c->bad, c->msg, c->msglen, "vehicle",
			 num(xs, &x) < 0 ? "x" : "y", num(xs, &x) < 0 ? xs : ys);
		goto bad;
	}
	speed = 0;
	angle = 0;
	if ((ss && num(ss, &speed) < 0) || (as && num(as, &angle) < 0)) {
		bad_attr(c->parser, &c->bad, c->msg, c->msglen, "vehicle",
			 ss && num(ss, &speed) < 0 ? "speed" : "angle",
			 ss && num(ss, &speed) < 0 ? ss : as);
		goto bad;
	}
	fv = fcd__lookup(c, id);
	if (!fv) {
		c->oom = 1;
		c->stop = 1;
		XML_StopParser(c->parser, XML_FALSE);
		return;
	}
	if (c->proj && (c->proj->have_box ? !fcd__in_box(c->proj, x, y) :
					    fabs(x) > 180 || fabs(y) > 90)) {
		sim_sumo_xy_to_ll(c->proj, x, y, &lat, &lon);
	} else {
		lon = x;
		lat = y;
	}
	angle = fmod(angle, 360.0);
	if (angle < 0)
		angle += 360.0;
	if (fv->last_t >= 0 && c->t > fv->last_t) {
		double dt = c->t - fv->last_t, da = angle - fv->last_angle;

		if (da > 180)
			da -= 360;
		if (da < -180)
			da += 360;
		acc = (speed - fv->last_speed) / dt;
		yaw = da / dt;
	}
	fv->last_t = c->t;
	fv->last_speed = speed;
	fv->last_angle = angle;
	/* The trace's first timestep is sent at start_ns. */
	ts = c->start_ns + (uint64_t)llround((c->t - c->t0) * 1e9);
	memset(&b, 0, sizeof(b));
	b.ts_ns = ts;
	/* TemporaryID: stable per trace vehicle, changing every 5 minutes. */
	b.id = sim_mix32(fv->hash ^ (uint32_t)((c->t + (fv->hash % 300)) / 300.0) * 0x9e3779b9u);
	b.msg_cnt = fv->msg_cnt;
	fv->msg_cnt = (uint8_t)((fv->msg_cnt + 1) & 127);
	b.sec_mark = (uint16_t)((ts / 1000000ull) % 60000ull);
	b.lat = (int32_t)llround(lat * 1e7);
	b.lon = (int32_t)llround(lon * 1e7);
	b.elev = V2X_ELEV_UNAVAILABLE;
	b.acc_semi_major = 20;
	b.acc_semi_minor = 20;
	b.transmission = 2;
	v = lround(speed / 0.02);
	b.speed = (uint16_t)(v < 0 ? 0 : v > 8190 ? 8190 : v);
	v = lround(angle / 0.0125);
	b.heading = (uint16_t)(v >= 28800 ? 0 : v);
	b.angle = V2X_ANGLE_UNAVAILABLE;
	v = lround(acc * 100);
	b.accel_long = (int16_t)(v < -2000 ? -2000 : v > 2000 ? 2000 : v);
	b.accel_lat = V2X_ACCEL_UNAVAILABLE;
	b.accel_vert = V2X_VERT_ACCEL_UNAVAILABLE;
	v = lround(yaw * 100);
	b.yaw_rate = (int16_t)(v < -32767 ? -32767 : v > 32767 ? 32767 : v);
	b.wheel_brakes = acc < -0.5 ? 0x1e : 0;
	if (type && (strstr(type, "truck") || strstr(type, "trailer"))) {
		b.length_cm = 1200;
		b.width_cm = 250;
	} else if (type && strstr(type, "bus")) {
		b.length_cm = 1200;
		b.width_cm = 255;
	} else {
		b.length_cm = 500;
		b.width_cm = 180;
	}
	if (acc < -0.4 * 9.80665) {
		b.has_events = 1;
		b.events = V2X_EVENT_FLAG_HARD_BRAKING;
	}
	c->st->records++;
	if (c->cb(c->cb_ctx, c->t, &b)) {
		c->stop = 1;
		XML_StopParser(c->parser, XML_FALSE);
	}
	return;
bad:
	c->stop = 1;
}

static void XMLCALL fcd__start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct fcd_ctx *c = ud;

	if (c->stop)
		return;
	if (!strcmp(name, "timestep")) {
		const char *t = attr(atts, "time");

		if (!t || num(t, &c->t) < 0) {
			bad_attr(c->parser, &c->bad, c->msg, c->msglen, "timestep", "time", t);
			c->stop = 1;
			return;
		}
		if (!c->st->timesteps)
			c->t0 = c->t;
		c->st->timesteps++;
		c->st->last_time = c->t;
	} else if (!strcmp(name, "vehicle")) {
		fcd__vehicle(c, atts);
	}
}

/*
 * sim_fcd_read() - see sumo.h.
 */
int sim_fcd_read(FILE *fcd, const struct sim_sumo_proj *proj, uint64_t start_ns,
		 sim_fcd_cb cb, void *ctx, struct sim_fcd_stats *st, char *msg,
		 size_t msglen)
{
	struct fcd_ctx c;
	int ret;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	c.parser = XML_ParserCreate(NULL);
	if (!c.parser)
		return -ENOMEM;
	c.proj = proj;
	c.start_ns = start_ns;
	c.cb = cb;
	c.cb_ctx = ctx;
	c.st = st;
	c.msg = msg;
	c.msglen = msglen;
	XML_SetUserData(c.parser, &c);
	XML_SetElementHandler(c.parser, fcd__start, NULL);
	ret = xml_stream(c.parser, fcd, &c.stop, msg, msglen);
	XML_ParserFree(c.parser);
	for (size_t i = 0; i < c.cap; i++)
		free(c.tab[i].id);
	free(c.tab);
	if (c.oom)
		return -ENOMEM;
	if (c.bad)
		return V2X_E_SYNTAX;
	return ret;
}
