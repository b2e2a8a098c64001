/* SPDX-License-Identifier: MIT */
/* fusion.c - the fusion stage (see fusion.h). */
#include "fusion.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enu.h"
#include "geohash.h"
#include "ingest.h"
#include "log.h"
#include "tracks.h"
#include "v2x/v2x.h"
#include "wire.h"

#define FUSION_DETECTORS_MAX 16
#define FUSION_SPAT_MAX 32
#define FUSION_BATCH 64
#define FUSION_PREFETCH_AHEAD 4 /* messages */
/*
 * Expiry is spread out so that no tick holds up the messages behind it:
 * each tick looks at 1/FUSION_EXPIRE_SWEEPS of the table (all of it once
 * per FUSION_EXPIRE_SWEEPS-th of the silence) and removes at most
 * FUSION_EXPIRE_TICK_MAX tracks (~50 us); when many went silent at once
 * the rest go FUSION_EXPIRE_BATCH_MAX per message batch until done.
 */
#define FUSION_EXPIRE_SWEEPS 8
#define FUSION_EXPIRE_TICK_MAX 128
#define FUSION_EXPIRE_BATCH_MAX 4
#define FUSION_EXPIRE_BATCH_SCAN 1024
/* A sensor object under a new id takes over the sensor's lost track when it
 * is this close to where that track would be now (metres) ... */
#define FUSION_REACQ_GATE_M 3.0
/* ... and the track has been silent at least this long (a sensor period or
 * two: not an object of the same frame) but not longer than this (ns). */
#define FUSION_REACQ_MIN_NS 250000000ull
#define FUSION_REACQ_MAX_NS 3000000000ull

/* Per track pool index: when its obj frame was last published. */
struct obj_pace {
	uint64_t track_id;
	uint64_t last_ns;
};

struct fusion {
	struct ring *in, *out;
	struct broker_counters *cnt;
	struct track_table *tt;
	struct obj_pace *pace;
	uint32_t capacity;

	uint64_t expiry_ns, obj_period_ns, tick_ns;
	int relay_bsm, forward_events;
	char map_path[CONFIG_STR_MAX];

	struct detector det[FUSION_DETECTORS_MAX];
	int n_det;
	struct fusion_lifecycle lc;
	struct fusion_map_ops map_ops;
	struct roadmap *map;
	struct det_env env;

	fusion_assoc_fn assoc_fn;
	void *assoc_ctx;
	struct track *assoc_out[V2X_OBJECTS_MAX];

	struct v2x_spat spat[FUSION_SPAT_MAX];
	int n_spat;

	/* Publish ring slots reserved in the current batch. */
	uint32_t out_avail, out_used;
	uint64_t cur_rx_ns; /* receive time of the message being processed */
	uint64_t stale_seen; /* track_table_stats.stale already accounted for */

	uint64_t next_tick; /* monotonic ns */
	uint32_t expire_left; /* entries the last tick's scan left to look at */

	pthread_t thread;
	int started;
	_Atomic int stop;
	_Atomic int reload;
};

static uint64_t fusion__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t fusion__real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fusion__raise_nop(void *owner, const struct det_candidate *cand)
{
	(void)owner;
	(void)cand;
}

/* Next free publish slot, or NULL when the ring is full (counted). */
static struct pub_slot *fusion__out_slot(struct fusion *f)
{
	if (f->out_used == f->out_avail) {
		f->out_avail = ring_prod_avail(f->out, ring_capacity(f->out));
		if (f->out_used == f->out_avail) {
			counter_add_1w(&f->cnt->stage_dropped[STAGE_PUBLISH], 1);
			return NULL;
		}
	}
	return ring_prod_slot(f->out, f->out_used);
}

static void fusion__out_commit_one(struct fusion *f)
{
	f->out_used++;
}

static void fusion__out_flush(struct fusion *f)
{
	if (f->out_used) {
		ring_prod_commit(f->out, f->out_used);
		ring_notify(f->out);
	}
	f->out_used = 0;
	f->out_avail = 0;
}

static void fusion__topic(struct pub_slot *s, const char *prefix, const char *cell,
			  const char *suffix)
{
	size_t n = 0;

	/* Called per output message: plain copies, no printf. */
	for (const char *p = prefix; *p && n < PUB_TOPIC_MAX - 1; p++)
		s->topic[n++] = *p;
	for (const char *p = cell; *p && n < PUB_TOPIC_MAX - 1; p++)
		s->topic[n++] = *p;
	if (suffix && n < PUB_TOPIC_MAX - 1) {
		s->topic[n++] = '/';
		for (const char *p = suffix; *p && n < PUB_TOPIC_MAX - 1; p++)
			s->topic[n++] = *p;
	}
	s->topic[n] = '\0';
	s->topic_len = (uint8_t)n;
}

/* See fusion.h.  Fusion thread only. */
int fusion_emit_event(struct fusion *f, const struct v2x_event *ev)
{
	struct pub_slot *s = fusion__out_slot(f);
	char cell[8] = "";
	const char *type = v2x_event_type_name(ev->type);

	if (ev->type < V2X_EVT_TYPE_COUNT)
		counter_add_1w(&f->cnt->events_total[ev->type], 1);
	if (!s)
		return -ENOBUFS;
	if (geohash_encode(ev->lat * 1e-7, ev->lon * 1e-7, 7, cell) < 0)
		strcpy(cell, "0000000");
	s->rx_ns = f->cur_rx_ns;
	s->kind = PUB_EVENT;
	fusion__topic(s, "evt/", cell, type ? type : "unknown");
	s->u.event = *ev;
	s->len = sizeof(*ev);
	fusion__out_commit_one(f);
	return 0;
}

/* See fusion.h.  Fusion thread only. */
void fusion_emit_event_cb(void *fusion, const struct v2x_event *ev)
{
	fusion_emit_event(fusion, ev);
}

static void fusion__sample(struct fusion *f, const struct track *t, uint32_t sensor_id,
			   uint64_t now_real)
{
	struct det_sample s;

	if (f->n_det == 0)
		return;
	memset(&s, 0, sizeof(s));
	s.track_id = t->id;
	s.t_ns = t->cur.t_ns;
	s.sources = t->sources;
	s.cls = t->cls;
	s.sensor_id = sensor_id;
	s.x = t->cur.x;
	s.y = t->cur.y;
	s.lat = t->cur.lat;
	s.lon = t->cur.lon;
	s.speed_mps = t->cur.speed_mps;
	s.heading_deg = t->cur.heading_deg;
	s.accel_mps2 = t->cur.accel_mps2;
	s.length_m = t->length_m;
	s.width_m = t->width_m;
	s.event_flags = t->event_flags;
	s.has_event_flags = t->has_event_flags;
	s.match.lane = -1;
	s.match.segment = -1;
	s.match.to_stop_line_m = -1;
	if (f->map && f->map_ops.match)
		f->map_ops.match(f->map, s.x, s.y, s.heading_deg, &s.match);
	f->env.now_ns = now_real;
	f->env.spat = f->spat;
	f->env.n_spat = f->n_spat;
	for (int i = 0; i < f->n_det; i++)
		if (f->det[i].ops->on_sample)
			f->det[i].ops->on_sample(f->det[i].self, &s, &f->env);
}

/* Publishes obj/<geohash7> for t if its period has passed. */
static void fusion__obj(struct fusion *f, const struct track *t, uint64_t now_mono)
{
	struct obj_pace *p = &f->pace[t->tt_index];
	struct pub_slot *s;
	int n;

	if (!f->obj_period_ns)
		return;
	if (p->track_id == t->id && now_mono - p->last_ns < f->obj_period_ns)
		return;
	s = fusion__out_slot(f);
	if (!s)
		return;
	n = wire_encode_obj(t, s->u.payload, sizeof(s->u.payload));
	if (n < 0)
		return;
	s->len = (uint16_t)n;
	s->rx_ns = f->cur_rx_ns;
	s->kind = PUB_OBJ;
	fusion__topic(s, "obj/", t->geohash, NULL);
	fusion__out_commit_one(f);
	p->track_id = t->id;
	p->last_ns = now_mono;
}

_Static_assert(INGEST_RAW_MAX <= PUB_PAYLOAD_MAX,
	       "a kept msgpack BSM must fit a publish slot");

/*
 * Relays the BSM of slot.  raw: the received msgpack frame when it can be
 * published as it is (NULL: encode msg).
 */
static void fusion__relay_bsm(struct fusion *f, const struct v2x_msg *msg,
			      const uint8_t *raw, uint32_t raw_len, const char *cell)
{
	struct pub_slot *s = fusion__out_slot(f);
	int n;

	if (!s)
		return;
	if (raw) {
		memcpy(s->u.payload, raw, raw_len);
		n = (int)raw_len;
	} else {
		n = v2x_msgpack_encode(msg, s->u.payload, sizeof(s->u.payload));
	}
	if (n < 0)
		return;
	s->len = (uint16_t)n;
	s->rx_ns = f->cur_rx_ns;
	s->kind = PUB_BSM;
	fusion__topic(s, "bsm/", cell, NULL);
	fusion__out_commit_one(f);
}

static void fusion__spat(struct fusion *f, const struct v2x_spat *sp)
{
	int i;

	for (i = 0; i < f->n_spat; i++)
		if (f->spat[i].intersection_id == sp->intersection_id &&
		    f->spat[i].region == sp->region)
			break;
	if (i == f->n_spat) {
		if (f->n_spat == FUSION_SPAT_MAX)
			return;
		f->n_spat++;
	}
	f->spat[i] = *sp;
}

/* 1 if the last track update was refused as not newer than the track. */
static int fusion__stale(struct fusion *f)
{
	struct track_table_stats st;

	track_table_get_stats(f->tt, &st);
	if (st.stale == f->stale_seen)
		return 0;
	f->stale_seen = st.stale;
	return 1;
}

/*
 * Object i of o has no track under its id.  A sensor that lost a road user
 * for a while (occlusion, misses) may report it again under a new id: if
 * one of this sensor's tracks of the same class, silent for a sensor period
 * or more, would be right here now, it is the same road user and keeps its
 * track (id, history, detector state) under the new key.
 */
static void fusion__reacquire(struct fusion *f, const struct v2x_objects *o, int i,
			      uint64_t ts)
{
	const struct v2x_object *ob = &o->obj[i];
	const struct enu_ref *ref = track_table_ref(f->tt);
	const struct track *near[8], *best = NULL;
	double x, y, u, best_d = FUSION_REACQ_GATE_M;
	int n;

	if (!ref || ob->lat == V2X_LAT_UNAVAILABLE)
		return;
	enu_from_geo(ref, ob->lat * 1e-7, ob->lon * 1e-7, 0.0, &x, &y, &u);
	n = track_table_near(f->tt, x, y, FUSION_REACQ_GATE_M + 30.0, near, 8);
	for (int k = 0; k < n; k++) {
		const struct track *t = near[k];
		double dt, px, py, d, hr;
		int seen_now = 0;

		if (t->kind != TRACK_SENSOR || t->sensor_id != o->sensor_id ||
		    t->cls != ob->cls || ts < t->last_ns + FUSION_REACQ_MIN_NS ||
		    ts - t->last_ns > FUSION_REACQ_MAX_NS)
			continue;
		/* Its old id still in this frame: another road user. */
		for (int j = 0; j < o->n && j < V2X_OBJECTS_MAX && !seen_now; j++)
			seen_now = o->obj[j].id == t->temp_id;
		if (seen_now)
			continue;
		dt = (double)(ts - t->last_ns) * 1e-9;
		hr = t->cur.heading_deg * (M_PI / 180.0);
		px = t->cur.x + t->cur.speed_mps * sin(hr) * dt;
		py = t->cur.y + t->cur.speed_mps * cos(hr) * dt;
		d = hypot(x - px, y - py);
		if (d < best_d) {
			best_d = d;
			best = t;
		}
	}
	if (best) {
		struct track *t = track_table_find(f->tt, best->key);

		if (t && track_table_rekey(f->tt, t, track_key_sensor(o->sensor_id, ob->id),
					   ob->id) == 0)
			counter_add_1w(&f->cnt->sensor_reacquired, 1);
	}
}

static void fusion__message(struct fusion *f, struct ingest_slot *slot,
			    uint64_t now_mono, uint64_t now_real)
{
	struct v2x_msg *msg = &slot->msg;
	struct track *t;

	f->cur_rx_ns = slot->rx_ns;
	counter_add_1w(&f->cnt->fusion_samples, 1);
	switch (msg->type) {
	case V2X_MSG_BSM: {
		struct v2x_bsm *bsm = &msg->u.bsm;
		/* A received msgpack frame is relayed as it is unless fusion
		 * changes the message (a ts filled in below). */
		const uint8_t *raw = slot->raw_len && bsm->ts_ns ? slot->raw : NULL;

		/* UPER carries no sender time: the kernel receive time
		 * stands in, so every output has a ts. */
		if (bsm->ts_ns == 0)
			bsm->ts_ns = slot->rx_ns;
		t = track_table_update_bsm(f->tt, bsm, now_mono);
		if (!t) {
			counter_add_1w(&f->cnt->stage_dropped[STAGE_TRACKS], 1);
			break;
		}
		/* A duplicated or reordered BSM (not newer than the track) only
		 * refreshes the track's receive time: nothing new to say. */
		if (fusion__stale(f))
			break;
		fusion__sample(f, t, 0, now_real);
		if (f->relay_bsm)
			fusion__relay_bsm(f, msg, raw, slot->raw_len, t->geohash);
		fusion__obj(f, t, now_mono);
		break;
	}
	case V2X_MSG_OBJECTS: {
		const struct v2x_objects *o = &msg->u.objects;
		uint64_t ts = o->ts_ns ? o->ts_ns : slot->rx_ns;
		int matched = 0;

		if (f->assoc_fn && o->n <= V2X_OBJECTS_MAX)
			matched = f->assoc_fn(f->assoc_ctx, f->tt, o, f->assoc_out);
		for (int i = 0; i < o->n && i < V2X_OBJECTS_MAX; i++) {
			if (matched > 0 && f->assoc_out[i]) {
				/* The sensor sees a vehicle that sends BSMs: one
				 * road user, published once, under its V2X track.
				 * Its sensor-only track, if it had one, falls
				 * silent: it expires like any other, or, if the
				 * match ends first, the object goes on with it
				 * (its id, history and detector state) instead of
				 * starting a new road user. */
				t = f->assoc_out[i];
				t->sources |= V2X_SRC_SENSOR;
				fusion__sample(f, t, o->sensor_id, now_real);
				fusion__obj(f, t, now_mono);
				continue;
			}
			if (!track_table_find(f->tt, track_key_sensor(o->sensor_id,
								      o->obj[i].id)))
				fusion__reacquire(f, o, i, ts);
			t = track_table_update_object(f->tt, o->sensor_id, ts, &o->obj[i],
						      now_mono);
			if (!t) {
				counter_add_1w(&f->cnt->stage_dropped[STAGE_TRACKS], 1);
				continue;
			}
			if (fusion__stale(f))
				continue;
			fusion__sample(f, t, o->sensor_id, now_real);
			fusion__obj(f, t, now_mono);
		}
		break;
	}
	case V2X_MSG_SPAT:
		fusion__spat(f, &msg->u.spat);
		break;
	case V2X_MSG_EVENT:
		if (f->forward_events) {
			if (msg->u.event.ts_ns == 0)
				msg->u.event.ts_ns = slot->rx_ns;
			fusion_emit_event(f, &msg->u.event);
		}
		break;
	default:
		break;
	}
	f->cur_rx_ns = 0;
}

static void fusion__on_expire(void *ctx, const struct track *t)
{
	struct fusion *f = ctx;

	f->pace[t->tt_index].track_id = 0;
}

static int fusion__load_map(struct fusion *f)
{
	struct roadmap *m = NULL;
	char err[256] = "";
	int r;

	if (!f->map_path[0]) {
		log_notice("road map: none configured (--map)");
		return 0;
	}
	if (!f->map_ops.load) {
		log_warn("road map: %s not loaded: this build has no map support",
			 f->map_path);
		return 0;
	}
	r = f->map_ops.load(f->map_path, track_table_ref(f->tt), &m, err, sizeof(err));
	if (r < 0) {
		if (f->map)
			log_err("road map: %s (keeping the previous map)", err);
		else
			log_err("road map: %s", err);
		return r;
	}
	if (!track_table_ref(f->tt) && f->map_ops.reference)
		track_table_set_ref(f->tt, f->map_ops.reference(m));
	if (f->map && f->map_ops.free)
		f->map_ops.free(f->map);
	f->map = m;
	f->env.map = m;
	log_info("road map: loaded %s", f->map_path);
	return 0;
}

/* A tick's share of expiry: see FUSION_EXPIRE_SWEEPS. */
static void fusion__expire_tick(struct fusion *f, uint64_t now_mono)
{
	uint64_t span = track_table_span(f->tt), scan;
	uint32_t left;

	if (!span || !f->expiry_ns)
		return;
	scan = span * f->tick_ns * FUSION_EXPIRE_SWEEPS / f->expiry_ns + 16;
	/* What an earlier tick left is looked at first, and on top. */
	scan += f->expire_left;
	if (scan > span)
		scan = span;
	track_table_expire_scan(f->tt, now_mono, f->expiry_ns, (uint32_t)scan,
				FUSION_EXPIRE_TICK_MAX, &left, fusion__on_expire, f);
	f->expire_left = left;
}

/* After a batch, while a tick's scan stopped at its maximum: a little more. */
static void fusion__expire_more(struct fusion *f, uint64_t now_mono)
{
	uint32_t scan = f->expire_left, left;

	if (scan > FUSION_EXPIRE_BATCH_SCAN)
		scan = FUSION_EXPIRE_BATCH_SCAN;
	track_table_expire_scan(f->tt, now_mono, f->expiry_ns, scan,
				FUSION_EXPIRE_BATCH_MAX, &left, fusion__on_expire, f);
	f->expire_left -= scan - left;
}

static void fusion__tick(struct fusion *f, uint64_t now_mono, uint64_t now_real)
{
	struct track_table_stats st;

	if (atomic_exchange(&f->reload, 0))
		(void)fusion__load_map(f); /* a bad map keeps the old one */
	fusion__expire_tick(f, now_mono);
	f->env.now_ns = now_real;
	f->env.spat = f->spat;
	f->env.n_spat = f->n_spat;
	for (int i = 0; i < f->n_det; i++)
		if (f->det[i].ops->tick)
			f->det[i].ops->tick(f->det[i].self, &f->env);
	if (f->lc.tick)
		f->lc.tick(f->lc.owner, now_mono);
	track_table_get_stats(f->tt, &st);
	counter_set(&f->cnt->tracks_active, track_table_count(f->tt));
	counter_set(&f->cnt->tracks_created, st.created);
	counter_set(&f->cnt->tracks_expired, st.expired);
}

/* Prefetch for the BSM of slot: its index slot (stage 0) or track (1). */
static void fusion__prefetch(struct fusion *f, const struct ingest_slot *slot,
			     int stage)
{
	uint64_t key;

	if (slot->msg.type != V2X_MSG_BSM)
		return;
	key = track_key_v2x(slot->msg.u.bsm.id);
	if (stage == 0)
		track_table_prefetch_slot(f->tt, key);
	else
		track_table_prefetch_track(f->tt, key);
}

/*
 * One batch: up to FUSION_BATCH messages, the tick when it is due, and the
 * publish slots handed on.  Returns the number of messages processed; *now
 * is the monotonic time the batch was processed at.
 */
static uint32_t fusion__batch(struct fusion *f, uint64_t *now)
{
	uint32_t n = ring_cons_avail(f->in, FUSION_BATCH);
	uint64_t now_mono = fusion__mono_ns();

	if (n) {
		uint64_t now_real = fusion__real_ns();

		/* Hide the memory latency of the track table: the index slots
		 * of the whole batch first, each track a few messages ahead. */
		for (uint32_t i = 0; i < n; i++)
			fusion__prefetch(f, ring_cons_slot(f->in, i), 0);
		for (uint32_t i = 0; i < n; i++) {
			if (i + FUSION_PREFETCH_AHEAD < n)
				fusion__prefetch(f, ring_cons_slot(f->in,
								i + FUSION_PREFETCH_AHEAD), 1);
			fusion__message(f, ring_cons_slot(f->in, i), now_mono, now_real);
		}
		ring_cons_release(f->in, n);
		if (f->expire_left)
			fusion__expire_more(f, now_mono);
	}
	if (now_mono >= f->next_tick) {
		fusion__tick(f, now_mono, fusion__real_ns());
		f->next_tick = now_mono + f->tick_ns;
	}
	fusion__out_flush(f);
	*now = now_mono;
	return n;
}

static void *fusion__thread(void *arg)
{
	struct fusion *f = arg;
	uint64_t cpu_next = 0;

	pthread_setname_np(pthread_self(), "v2x-fusion");
	for (;;) {
		uint64_t now;

		counters_thread_cpu(f->cnt, THREAD_FUSION, &cpu_next, 0);
		if (fusion__batch(f, &now))
			continue;
		/* The producer stops first, so an empty ring after the stop
		 * request means everything has been drained. */
		if (atomic_load(&f->stop) && ring_count(f->in) == 0)
			break;
		ring_wait(f->in, f->next_tick > now ? f->next_tick - now : 1000);
	}
	counters_thread_cpu(f->cnt, THREAD_FUSION, &cpu_next, 1);
	return NULL;
}

/* See fusion.h.  The single pipeline thread. */
uint64_t fusion_step(struct fusion *f)
{
	uint64_t now;

	fusion__batch(f, &now);
	return f->next_tick;
}

/* See fusion.h. */
struct fusion *fusion_new(const struct broker_config *cfg, struct ring *in,
			  struct ring *out, struct broker_counters *cnt,
			  char *err, size_t errlen)
{
	struct fusion *f = calloc(1, sizeof(*f));
	struct enu_ref ref;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (in->slot_size < sizeof(struct ingest_slot) ||
	    out->slot_size < sizeof(struct pub_slot)) {
		snprintf(err, errlen, "fusion: ring slots too small");
		goto fail;
	}
	f->in = in;
	f->out = out;
	f->cnt = cnt;
	f->capacity = (uint32_t)cfg->track_capacity;
	if (cfg->has_ref)
		enu_init(&ref, cfg->ref_lat, cfg->ref_lon, 0);
	f->tt = track_table_new(f->capacity, cfg->has_ref ? &ref : NULL);
	f->pace = calloc(f->capacity, sizeof(*f->pace));
	if (!f->tt || !f->pace) {
		snprintf(err, errlen, "fusion: cannot allocate a track table of %u tracks",
			 f->capacity);
		goto fail;
	}
	track_table_prefault(f->tt);
	/* Same for the per-track pacing array (calloc maps it lazily). */
	for (size_t off = 0; off < (size_t)f->capacity * sizeof(*f->pace); off += 4096)
		((volatile unsigned char *)f->pace)[off] = 0;
	f->expiry_ns = (uint64_t)(cfg->track_expiry_s * 1e9);
	f->obj_period_ns = cfg->obj_rate_hz > 0 ? (uint64_t)(1e9 / cfg->obj_rate_hz) : 0;
	f->tick_ns = (uint64_t)cfg->tick_ms * 1000000ull;
	f->relay_bsm = cfg->relay_bsm;
	f->forward_events = cfg->forward_events;
	strcpy(f->map_path, cfg->map);
	f->env.tracks = f->tt;
	f->env.raise = fusion__raise_nop;
	f->env.owner = f;
	return f;
fail:
	fusion_free(f);
	return NULL;
}

/* See fusion.h. */
int fusion_add_detector(struct fusion *f, struct detector d)
{
	if (f->n_det == FUSION_DETECTORS_MAX || !d.ops)
		return -ENOSPC;
	f->det[f->n_det++] = d;
	return 0;
}

/* See fusion.h. */
void fusion_set_lifecycle(struct fusion *f, const struct fusion_lifecycle *lc)
{
	f->lc = *lc;
	f->env.raise = lc->raise ? lc->raise : fusion__raise_nop;
	f->env.owner = lc->owner;
}

/* See fusion.h.  Main thread. */
void fusion_set_closures(struct fusion *f, struct closures *cl)
{
	f->env.closures = cl;
}

/* See fusion.h. */
void fusion_set_assoc(struct fusion *f, fusion_assoc_fn fn, void *ctx)
{
	f->assoc_fn = fn;
	f->assoc_ctx = ctx;
}

/* See fusion.h. */
void fusion_set_map_ops(struct fusion *f, const struct fusion_map_ops *ops)
{
	f->map_ops = *ops;
}

/* See fusion.h.  Main thread. */
int fusion_prepare(struct fusion *f)
{
	int r = fusion__load_map(f);
	uint64_t now = fusion__mono_ns();

	/* One tick before the first message: the detectors' clocks start
	 * now, so that what they record from the first samples on counts as
	 * fresh (with a clock at zero the first tick found it all stale). */
	fusion__tick(f, now, fusion__real_ns());
	f->next_tick = now + f->tick_ns;
	return r;
}

/* See fusion.h. */
int fusion_start(struct fusion *f)
{
	int r;

	r = pthread_create(&f->thread, NULL, fusion__thread, f);
	if (r)
		return -r;
	f->started = 1;
	return 0;
}

/* See fusion.h.  Any thread (async-signal-safe: one atomic store). */
void fusion_request_map_reload(struct fusion *f)
{
	atomic_store(&f->reload, 1);
}

/* See fusion.h.  Main thread. */
void fusion_stop(struct fusion *f)
{
	if (!f || !f->started)
		return;
	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	f->started = 0;
}

/* See fusion.h.  Main thread. */
void fusion_free(struct fusion *f)
{
	if (!f)
		return;
	fusion_stop(f);
	for (int i = 0; i < f->n_det; i++)
		if (f->det[i].ops->free)
			f->det[i].ops->free(f->det[i].self);
	if (f->map && f->map_ops.free)
		f->map_ops.free(f->map);
	track_table_free(f->tt);
	free(f->pace);
	free(f);
}
