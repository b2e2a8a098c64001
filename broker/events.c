/* SPDX-License-Identifier: MIT */
/*
 * events.c - event lifecycle: candidates -> events with stable ids and
 * hysteresis (see events.h for the rules).
 *
 * Data: a fixed array of event slots, a free list, and an open-addressing
 * index (linear probing, backward-shift deletion) from (type, key) to the
 * slot, holding up to EVT_KEYS keys per event.  A candidate whose key is not
 * indexed is compared with the active events of its type (a short list),
 * which happens once per key per event.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "hashmix.h"

#define EVT_KEYS 32
#define NO_SLOT UINT32_MAX
/* Tracks of recently cleared collision-risk and hard-braking events,
 * remembered this long (a vehicle that comes to a stop right after its
 * near-collision or its emergency braking). */
#define RECENT_MAX 64
#define RECENT_NS 10000000000ull

struct evt_slot {
	struct v2x_event e;          /* current state (status = last published) */
	uint8_t used;
	uint8_t dirty;               /* material change not yet published */
	uint8_t raised;              /* raised since the last tick */
	uint8_t n_keys;
	uint64_t last_raise_tick;    /* tick clock of the last raise */
	uint64_t last_emit_tick;
	int32_t pub_lat, pub_lon;    /* position last published */
	uint64_t keys[EVT_KEYS];
	uint32_t next_free;
	uint32_t type_next, type_prev; /* active list of its type */
};

struct key_ent {
	uint64_t key;
	uint32_t slot;  /* NO_SLOT = empty */
	uint8_t type;
};

struct events {
	events_emit_fn emit;
	void *ctx;
	uint32_t hold_ms, min_update_ms;
	float update_move_m, merge_radius_m, merge_moving_m, merge_queue_m;
	float merge_side_m, reaction_radius_m;
	int jam_holds_stopped;
	uint32_t max_events;
	uint64_t next_id;
	uint64_t now;               /* last tick clock */
	struct evt_slot *slots;
	uint32_t free_head;
	uint32_t type_head[V2X_EVT_TYPE_COUNT];
	struct key_ent *index;
	uint32_t index_mask;
	struct events_stats st;
	struct {
		uint64_t track, tick;
		uint8_t type;
	} recent[RECENT_MAX];    /* ring of tracks of cleared collision-risk
				    * and hard-braking events */
	uint32_t recent_next;
};

static uint32_t index_home(const struct events *ev, uint8_t type, uint64_t key)
{
	return (uint32_t)hash_mix64(key * 31u + type + 1) & ev->index_mask;
}

static uint32_t index_find(const struct events *ev, uint8_t type, uint64_t key)
{
	uint32_t i = index_home(ev, type, key);

	while (ev->index[i].slot != NO_SLOT) {
		if (ev->index[i].key == key && ev->index[i].type == type)
			return ev->index[i].slot;
		i = (i + 1) & ev->index_mask;
	}
	return NO_SLOT;
}

static void index_insert(struct events *ev, uint8_t type, uint64_t key,
			 uint32_t slot)
{
	uint32_t i = index_home(ev, type, key);

	while (ev->index[i].slot != NO_SLOT)
		i = (i + 1) & ev->index_mask;
	ev->index[i].key = key;
	ev->index[i].type = type;
	ev->index[i].slot = slot;
}

static void index_remove(struct events *ev, uint8_t type, uint64_t key)
{
	uint32_t i = index_home(ev, type, key), j, home;

	while (ev->index[i].slot != NO_SLOT) {
		if (ev->index[i].key == key && ev->index[i].type == type)
			break;
		i = (i + 1) & ev->index_mask;
	}
	if (ev->index[i].slot == NO_SLOT)
		return;
	/* Backward shift: move later entries of the probe run into the hole. */
	j = i;
	for (;;) {
		ev->index[i].slot = NO_SLOT;
		for (;;) {
			j = (j + 1) & ev->index_mask;
			if (ev->index[j].slot == NO_SLOT)
				return;
			home = index_home(ev, ev->index[j].type, ev->index[j].key);
			/* Entry j may move to i if its home is not in (i, j]. */
			if (i <= j ? (home <= i || home > j)
				   : (home <= i && home > j))
				break;
		}
		ev->index[i] = ev->index[j];
		i = j;
	}
}

/**
 * events_new() - see events.h.
 */
struct events *events_new(const struct detect_config *cfg,
			  events_emit_fn emit, void *ctx)
{
	struct events *ev = NULL;
	uint32_t i, cap;
	struct timespec ts;

	if (!emit || !cfg || cfg->events.max_events == 0) {
		errno = EINVAL;
		goto fail;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		goto fail;
	ev->emit = emit;
	ev->ctx = ctx;
	ev->hold_ms = cfg->events.hold_ms;
	ev->min_update_ms = cfg->events.min_update_ms;
	ev->update_move_m = cfg->events.update_move_m;
	ev->merge_radius_m = cfg->events.merge_radius_m;
	ev->merge_moving_m = fmaxf(cfg->events.merge_moving_m,
				   cfg->events.merge_radius_m);
	ev->merge_queue_m = fmaxf(cfg->events.merge_queue_m,
				  cfg->events.merge_radius_m);
	ev->merge_side_m = cfg->events.merge_side_m;
	ev->reaction_radius_m = cfg->events.reaction_radius_m;
	ev->jam_holds_stopped = cfg->events.jam_holds_stopped;
	ev->max_events = cfg->events.max_events;
	ev->next_id = cfg->events.id_base;
	if (!ev->next_id) {
		/* Microseconds of wall time: ids stay unique across restarts. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ev->next_id = (uint64_t)ts.tv_sec * 1000000u +
			      (uint64_t)ts.tv_nsec / 1000u;
	}
	ev->slots = calloc(ev->max_events, sizeof(*ev->slots));
	if (!ev->slots)
		goto fail;
	for (i = 0; i < ev->max_events; i++)
		ev->slots[i].next_free = i + 1 < ev->max_events ? i + 1 : NO_SLOT;
	ev->free_head = 0;
	for (i = 0; i < V2X_EVT_TYPE_COUNT; i++)
		ev->type_head[i] = NO_SLOT;
	cap = 16;
	while (cap < ev->max_events * EVT_KEYS * 2u)
		cap <<= 1;
	ev->index = malloc((size_t)cap * sizeof(*ev->index));
	if (!ev->index)
		goto fail;
	for (i = 0; i < cap; i++)
		ev->index[i].slot = NO_SLOT;
	ev->index_mask = cap - 1;
	return ev;
fail:
	events_free(ev);
	return NULL;
}

/**
 * events_free() - see events.h.
 */
void events_free(struct events *ev)
{
	if (!ev)
		return;
	free(ev->slots);
	free(ev->index);
	free(ev);
}

static void publish(struct events *ev, struct evt_slot *s, uint8_t status)
{
	s->e.status = status;
	s->dirty = 0;
	s->last_emit_tick = ev->now;
	s->pub_lat = s->e.lat;
	s->pub_lon = s->e.lon;
	ev->st.published[status]++;
	ev->emit(ev->ctx, &s->e);
}

/* Approximate ground distance in metres between two 1e-7 deg positions. */
static double geo_dist_m(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2)
{
	double mid = (lat1 + (double)lat2) / 2 * 1e-7 * (M_PI / 180.0);
	double dn = (lat2 - (double)lat1) * 1e-7 * 111195.0;
	double de = (lon2 - (double)lon1) * 1e-7 * 111195.0 * cos(mid);

	return hypot(dn, de);
}

static int has_track(const struct v2x_event *e, uint64_t id)
{
	int i;

	for (i = 0; i < e->n_tracks; i++)
		if (e->tracks[i] == id)
			return 1;
	return 0;
}

/* An active event of the candidate's type that is the same incident. */
static uint32_t find_merge(const struct events *ev,
			   const struct det_candidate *c)
{
	/* A moving incident seen through a new track (a TemporaryID change)
	 * shows up where the vehicle has got to meanwhile. */
	float radius = c->type == V2X_EVT_WRONG_WAY || c->type == V2X_EVT_SPEEDING ?
		ev->merge_moving_m : ev->merge_radius_m;
	/* Vehicles stopped behind a stopped vehicle in its lane (whose own
	 * leader the broker may not see: not connected, out of sensor
	 * range) are its queue, not further incidents; lane and segment
	 * must still agree below. */
	if (c->type == V2X_EVT_STOPPED_VEHICLE && c->lane >= 0)
		radius = ev->merge_queue_m;
	uint32_t i;
	int k;

	for (i = ev->type_head[c->type]; i != NO_SLOT;
	     i = ev->slots[i].type_next) {
		const struct v2x_event *e = &ev->slots[i].e;

		for (k = 0; k < c->n_tracks && k < V2X_EVENT_TRACKS_MAX; k++)
			if (has_track(e, c->tracks[k]))
				return i;
		if (c->segment >= 0 && e->segment >= 0 &&
		    c->segment != e->segment)
			continue;
		if (c->segment < 0 && c->lane < 0)
			continue; /* off the map: tracks only */
		if (c->lane >= 0 && e->lane >= 0 && c->lane != e->lane) {
			/* Vehicles stopped side by side in adjacent lanes of
			 * a segment: one obstruction across the lanes. */
			if (c->type == V2X_EVT_STOPPED_VEHICLE &&
			    geo_dist_m(c->lat, c->lon, e->lat, e->lon) <=
				    ev->merge_side_m)
				return i;
			continue;
		}
		if (geo_dist_m(c->lat, c->lon, e->lat, e->lon) <= radius)
			return i;
	}
	return NO_SLOT;
}

/*
 * Is the candidate's segment congested (an active congestion event on it)?
 * A vehicle stopped in a jam is part of the jam: waiting in a queue is not
 * a stopped-vehicle incident, whether or not its leader is visible.
 */
static int in_jam(const struct events *ev, const struct det_candidate *c)
{
	uint32_t i;

	if (c->segment < 0)
		return 0;
	for (i = ev->type_head[V2X_EVT_CONGESTION]; i != NO_SLOT;
	     i = ev->slots[i].type_next)
		if (ev->slots[i].e.segment == c->segment)
			return 1;
	return 0;
}

/*
 * Is one of the candidate's tracks in an active event of @type, or (for
 * collision risk and hard braking) in one that cleared less than
 * RECENT_NS ago?  A vehicle that stopped in a near-collision (the
 * leader's emergency stop) is part of that collision-risk incident; one
 * that braked hard to a standstill reacted to something ahead (the hard
 * braking is the incident): a breakdown does not begin with an emergency
 * stop, and a vehicle that stays stopped is reported once the hold is over.
 */
static int involved_in(const struct events *ev, uint8_t type,
		       const struct det_candidate *c)
{
	uint32_t i;
	int k;

	for (i = ev->type_head[type]; i != NO_SLOT; i = ev->slots[i].type_next)
		for (k = 0; k < c->n_tracks && k < V2X_EVENT_TRACKS_MAX; k++)
			if (has_track(&ev->slots[i].e, c->tracks[k]))
				return 1;
	if (type != V2X_EVT_COLLISION_RISK && type != V2X_EVT_HARD_BRAKING)
		return 0;
	/* A near-collision or a hard braking over a moment ago: its vehicles
	 * may only now come to a stop. */
	for (i = 0; i < RECENT_MAX; i++)
		for (k = 0; k < c->n_tracks && k < V2X_EVENT_TRACKS_MAX; k++)
			if (ev->recent[i].tick && ev->recent[i].type == type &&
			    ev->recent[i].track == c->tracks[k] &&
			    ev->now - ev->recent[i].tick < RECENT_NS)
				return 1;
	return 0;
}

/*
 * Is an active event of @type on the candidate's segment (or either off
 * the segments) within @radius_m of it?  A vehicle standing near a
 * wrong-way driver or a pedestrian on the road is waiting for them.
 */
static int near_active(const struct events *ev, uint8_t type,
		       const struct det_candidate *c, float radius_m)
{
	uint32_t i;

	for (i = ev->type_head[type]; i != NO_SLOT; i = ev->slots[i].type_next) {
		const struct v2x_event *e = &ev->slots[i].e;

		if (c->segment >= 0 && e->segment >= 0 && c->segment != e->segment)
			continue;
		if (geo_dist_m(c->lat, c->lon, e->lat, e->lon) <= radius_m)
			return 1;
	}
	return 0;
}

static void add_key(struct events *ev, uint32_t slot, uint8_t type,
		    uint64_t key)
{
	struct evt_slot *s = &ev->slots[slot];

	if (s->n_keys >= EVT_KEYS)
		return; /* later lookups fall back to find_merge() */
	s->keys[s->n_keys++] = key;
	index_insert(ev, type, key, slot);
}

static uint32_t alloc_slot(struct events *ev, uint8_t type)
{
	uint32_t i = ev->free_head;
	struct evt_slot *s;

	if (i == NO_SLOT)
		return NO_SLOT;
	s = &ev->slots[i];
	ev->free_head = s->next_free;
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->type_prev = NO_SLOT;
	s->type_next = ev->type_head[type];
	if (s->type_next != NO_SLOT)
		ev->slots[s->type_next].type_prev = i;
	ev->type_head[type] = i;
	ev->st.active++;
	return i;
}

static void free_slot(struct events *ev, uint32_t i)
{
	struct evt_slot *s = &ev->slots[i];
	int k;

	for (k = 0; k < s->n_keys; k++)
		index_remove(ev, s->e.type, s->keys[k]);
	if (s->type_prev != NO_SLOT)
		ev->slots[s->type_prev].type_next = s->type_next;
	else
		ev->type_head[s->e.type] = s->type_next;
	if (s->type_next != NO_SLOT)
		ev->slots[s->type_next].type_prev = s->type_prev;
	s->used = 0;
	s->next_free = ev->free_head;
	ev->free_head = i;
	ev->st.active--;
}

/* Fold the candidate into the event; 1 if that is a material change. */
static int absorb(struct evt_slot *s, const struct det_candidate *c)
{
	struct v2x_event *e = &s->e;
	int material = 0, k, j;

	if (c->t_ns > e->last_ts_ns) {
		e->last_ts_ns = c->t_ns;
		e->ts_ns = c->t_ns;
	}
	e->lat = c->lat;
	e->lon = c->lon;
	if (c->lane >= 0)
		e->lane = c->lane;
	if (c->segment >= 0)
		e->segment = c->segment;
	if (c->type == V2X_EVT_CONGESTION) {
		/* Congestion follows its level both ways. */
		if (c->level != e->level || c->severity != e->severity)
			material = 1;
		e->level = c->level;
		e->severity = c->severity;
	} else if (c->severity > e->severity) {
		e->severity = c->severity;
		material = 1;
	}
	if (c->confidence > e->confidence)
		e->confidence = c->confidence > 1.0f ? 1.0f : c->confidence;
	if ((e->sources | c->sources) != e->sources) {
		e->sources |= c->sources;
		material = 1;
	}
	if (c->sensor_id) {
		for (j = 0; j < e->n_sensors; j++)
			if (e->sensors[j] == c->sensor_id)
				break;
		if (j == e->n_sensors && e->n_sensors < V2X_EVENT_SENSORS_MAX) {
			e->sensors[e->n_sensors++] = c->sensor_id;
			material = 1;
		}
	}
	for (k = 0; k < c->n_tracks && k < V2X_EVENT_TRACKS_MAX; k++) {
		if (has_track(e, c->tracks[k]))
			continue;
		if (e->n_tracks < V2X_EVENT_TRACKS_MAX) {
			e->tracks[e->n_tracks++] = c->tracks[k];
			material = 1;
		}
	}
	return material;
}

static int rate_ok(const struct events *ev, const struct evt_slot *s)
{
	return ev->now - s->last_emit_tick >= (uint64_t)ev->min_update_ms * 1000000u;
}

/**
 * events_raise() - see events.h.
 */
void events_raise(void *owner, const struct det_candidate *c)
{
	struct events *ev = owner;
	struct evt_slot *s;
	uint32_t i;

	if (!c || c->type >= V2X_EVT_TYPE_COUNT)
		return;
	ev->st.raised++;
	i = index_find(ev, c->type, c->key);
	if (i == NO_SLOT) {
		i = find_merge(ev, c);
		if (i != NO_SLOT) {
			ev->st.merged++;
			add_key(ev, i, c->type, c->key);
		}
	}
	if (i == NO_SLOT && c->type == V2X_EVT_STOPPED_VEHICLE &&
	    ((ev->jam_holds_stopped && in_jam(ev, c)) ||
	     involved_in(ev, V2X_EVT_COLLISION_RISK, c) ||
	     involved_in(ev, V2X_EVT_HARD_BRAKING, c) ||
	     near_active(ev, V2X_EVT_WRONG_WAY, c, ev->reaction_radius_m) ||
	     near_active(ev, V2X_EVT_VRU_ON_ROAD, c, ev->reaction_radius_m))) {
		ev->st.held++;
		return;
	}
	if (i == NO_SLOT) {
		i = alloc_slot(ev, c->type);
		if (i == NO_SLOT) {
			ev->st.dropped++;
			return;
		}
		s = &ev->slots[i];
		s->e.id = ++ev->next_id;
		s->e.type = c->type;
		s->e.lane = -1;
		s->e.segment = -1;
		s->e.start_ts_ns = c->t_ns;
		s->e.last_ts_ns = c->t_ns;
		s->e.ts_ns = c->t_ns;
		s->raised = 1;
		add_key(ev, i, c->type, c->key);
		absorb(s, c);
		s->e.severity = c->severity;
		s->e.level = c->level;
		publish(ev, s, V2X_EVT_NEW);
		return;
	}
	s = &ev->slots[i];
	s->raised = 1;
	if (absorb(s, c) ||
	    geo_dist_m(s->pub_lat, s->pub_lon, s->e.lat, s->e.lon) >
		    fmaxf(ev->update_move_m, c->move_m))
		s->dirty = 1;
	if (s->dirty && rate_ok(ev, s))
		publish(ev, s, V2X_EVT_UPDATE);
}

/* Remember the tracks of a collision-risk or hard-braking event that
 * clears. */
static void remember_recent(struct events *ev, const struct v2x_event *e)
{
	int k;

	for (k = 0; k < e->n_tracks && k < V2X_EVENT_TRACKS_MAX; k++) {
		ev->recent[ev->recent_next].track = e->tracks[k];
		ev->recent[ev->recent_next].type = e->type;
		ev->recent[ev->recent_next].tick = ev->now ? ev->now : 1;
		ev->recent_next = (ev->recent_next + 1) % RECENT_MAX;
	}
}

/**
 * events_tick() - see events.h.
 */
void events_tick(struct events *ev, uint64_t now_ns)
{
	uint64_t hold = (uint64_t)ev->hold_ms * 1000000u;
	uint32_t i;
	int t;

	if (now_ns > ev->now)
		ev->now = now_ns;
	for (t = 0; t < V2X_EVT_TYPE_COUNT; t++) {
		uint32_t next;

		for (i = ev->type_head[t]; i != NO_SLOT; i = next) {
			struct evt_slot *s = &ev->slots[i];

			next = s->type_next;
			if (s->raised) {
				s->raised = 0;
				s->last_raise_tick = ev->now;
			} else if (ev->now - s->last_raise_tick >= hold) {
				publish(ev, s, V2X_EVT_CLEARED);
				if (t == V2X_EVT_COLLISION_RISK ||
				    t == V2X_EVT_HARD_BRAKING)
					remember_recent(ev, &s->e);
				free_slot(ev, i);
				continue;
			}
			if (s->dirty && rate_ok(ev, s))
				publish(ev, s, V2X_EVT_UPDATE);
		}
	}
}

/**
 * events_foreach() - see events.h.
 */
int events_foreach(const struct events *ev,
		   void (*fn)(void *ctx, const struct v2x_event *e), void *ctx)
{
	uint32_t i;
	int t, n = 0;

	for (t = 0; t < V2X_EVT_TYPE_COUNT; t++)
		for (i = ev->type_head[t]; i != NO_SLOT; i = ev->slots[i].type_next) {
			fn(ctx, &ev->slots[i].e);
			n++;
		}
	return n;
}

/**
 * events_get_stats() - see events.h.
 */
void events_get_stats(const struct events *ev, struct events_stats *st)
{
	*st = ev->st;
}
