/* SPDX-License-Identifier: MIT */
/*
 * detect_common.c - per-track detector state with per-lane ordering (see
 * detect_common.h) and small helpers shared by the detectors.
 *
 * Two open-addressing tables (linear probing, backward-shift deletion):
 * track id -> entry index, and (lane, 20 m cell) -> head of a doubly linked
 * list of the entries in that cell.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "v2x/msg.h"
#include "hashmix.h"
#include "detect_common.h"

#define CELL_M 20.0f

struct cell_slot {
	int32_t lane, cell;
	uint32_t head; /* DET_NONE = empty slot */
};

#define DET_HOOKS 8

struct det_hook {
	void (*fn)(void *ctx, struct det_entry *e);
	void *ctx;
};

struct det_lanes {
	int refs;
	struct det_hook hooks[DET_HOOKS];
	struct det_entry *ent;
	uint64_t *seen;    /* ent[i].seen, densely; UINT64_MAX = free entry */
	uint32_t cap, free_head, sweep_pos;
	uint32_t high;     /* entries [0, high) have ever been used: freed ones
			    * are reused first, so sweeps stay within the
			    * most road users seen at once, not the capacity */
	uint64_t stale_ns;
	uint16_t confirm;  /* samples before an entry counts as a road user */
	uint64_t leader_age_ns;
	uint64_t now;      /* tick clock */
	uint64_t swept;    /* tick clock of the last maintenance sweep */
	uint32_t sweep_left; /* entries a sweep that stopped at its maximum
			      * removals left to look at */
	/*
	 * The last sample recorded and its entry: the detectors sharing the
	 * table all pass the same sample, and recording it again would
	 * rewrite the entry with the same values.  Invalid (DET_NONE) after
	 * any removal; only valid on the tick clock it was taken at.
	 */
	struct det_sample memo;
	uint32_t memo_idx;
	uint64_t memo_now;
	struct det_lanes_stats stats;
	uint32_t *tslot;   /* track hash: entry index or DET_NONE */
	uint32_t tmask;
	struct cell_slot *cslot;
	uint32_t cmask;
};

/**
 * detect__lanes_new() - see detect_common.h.
 */
struct det_lanes *detect__lanes_new(uint32_t capacity, uint64_t stale_ns)
{
	struct det_lanes *dl = calloc(1, sizeof(*dl));
	uint32_t i, n;

	if (!dl)
		return NULL;
	if (capacity < 16)
		capacity = 16;
	dl->refs = 1;
	dl->cap = capacity;
	dl->stale_ns = stale_ns;
	dl->confirm = 1;
	dl->leader_age_ns = UINT64_MAX;
	dl->ent = calloc(capacity, sizeof(*dl->ent));
	dl->seen = malloc((size_t)capacity * sizeof(*dl->seen));
	dl->memo_idx = DET_NONE;
	n = hash_pow2_at_least((uint64_t)capacity * 2, 16);
	dl->tslot = malloc((size_t)n * sizeof(*dl->tslot));
	dl->tmask = n - 1;
	dl->cslot = malloc((size_t)n * sizeof(*dl->cslot));
	dl->cmask = n - 1;
	if (!dl->ent || !dl->seen || !dl->tslot || !dl->cslot) {
		detect__lanes_free(dl);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		dl->tslot[i] = DET_NONE;
		dl->cslot[i].head = DET_NONE;
	}
	for (i = 0; i < capacity; i++) {
		dl->ent[i].next = i + 1 < capacity ? i + 1 : DET_NONE;
		dl->seen[i] = UINT64_MAX;
	}
	dl->free_head = 0;
	return dl;
}

/**
 * detect__lanes_set_confirm() - see detect_common.h.
 */
void detect__lanes_set_confirm(struct det_lanes *dl, uint16_t confirm_samples,
			       uint64_t leader_age_ns)
{
	dl->confirm = confirm_samples ? confirm_samples : 1;
	dl->leader_age_ns = leader_age_ns ? leader_age_ns : UINT64_MAX;
}

/**
 * detect__lanes_confirmed() - see detect_common.h.
 */
int detect__lanes_confirmed(const struct det_lanes *dl,
			    const struct det_entry *e)
{
	return e->n_samples >= dl->confirm;
}

/**
 * detect__lanes_free() - see detect_common.h.
 */
void detect__lanes_free(struct det_lanes *dl)
{
	if (!dl || --dl->refs > 0)
		return;
	free(dl->ent);
	free(dl->seen);
	free(dl->tslot);
	free(dl->cslot);
	free(dl);
}

/**
 * detect__lanes_ref() - see detect_common.h.
 */
struct det_lanes *detect__lanes_ref(struct det_lanes *dl)
{
	dl->refs++;
	return dl;
}

/**
 * detect__lanes_capacity() - see detect_common.h.
 */
uint32_t detect__lanes_capacity(const struct det_lanes *dl)
{
	return dl->cap;
}

/**
 * detect__lanes_for() - see detect_common.h.
 */
struct det_lanes *detect__lanes_for(const struct detect_config *cfg,
				    struct det_lanes *dl)
{
	if (dl)
		return detect__lanes_ref(dl);
	dl = detect__lanes_new(cfg->fusion.lane_capacity,
			       (uint64_t)cfg->fusion.stale_ms * 1000000u);
	if (dl)
		detect__lanes_set_confirm(dl, (uint16_t)cfg->fusion.confirm_samples,
					  (uint64_t)cfg->fusion.leader_max_age_ms *
						  1000000u);
	return dl;
}

/**
 * detect__lanes_hook() - see detect_common.h.
 */
int detect__lanes_hook(struct det_lanes *dl,
		       void (*fn)(void *ctx, struct det_entry *e), void *ctx)
{
	int i;

	for (i = 0; i < DET_HOOKS; i++) {
		if (fn && !dl->hooks[i].fn) {
			dl->hooks[i].fn = fn;
			dl->hooks[i].ctx = ctx;
			return 0;
		}
		if (!fn && dl->hooks[i].fn && dl->hooks[i].ctx == ctx) {
			dl->hooks[i].fn = NULL;
			dl->hooks[i].ctx = NULL;
		}
	}
	return fn ? -ENOSPC : 0;
}

static uint32_t thome(const struct det_lanes *dl, uint64_t id)
{
	return (uint32_t)hash_mix64(id) & dl->tmask;
}

static uint32_t chome(const struct det_lanes *dl, int32_t lane, int32_t cell)
{
	return (uint32_t)hash_mix64(((uint64_t)(uint32_t)lane << 32) | (uint32_t)cell) &
	       dl->cmask;
}

static int between(uint32_t i, uint32_t home, uint32_t j)
{
	/* home cyclically in (i, j] */
	return i <= j ? (home > i && home <= j) : (home > i || home <= j);
}

static void tslot_delete(struct det_lanes *dl, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		dl->tslot[i] = DET_NONE;
		for (;;) {
			j = (j + 1) & dl->tmask;
			if (dl->tslot[j] == DET_NONE)
				return;
			if (!between(i, thome(dl, dl->ent[dl->tslot[j]].track_id), j))
				break;
		}
		dl->tslot[i] = dl->tslot[j];
		i = j;
	}
}

static void cslot_delete(struct det_lanes *dl, uint32_t i)
{
	uint32_t j = i, k;

	for (;;) {
		dl->cslot[i].head = DET_NONE;
		for (;;) {
			j = (j + 1) & dl->cmask;
			if (dl->cslot[j].head == DET_NONE)
				return;
			if (!between(i, chome(dl, dl->cslot[j].lane,
					      dl->cslot[j].cell), j))
				break;
		}
		dl->cslot[i] = dl->cslot[j];
		/* Entries on the moved list point at their slot: fix them. */
		for (k = dl->cslot[i].head; k != DET_NONE; k = dl->ent[k].next)
			dl->ent[k].cell_slot = i;
		i = j;
	}
}

static uint32_t cslot_find(const struct det_lanes *dl, int32_t lane,
			   int32_t cell)
{
	uint32_t i = chome(dl, lane, cell);

	while (dl->cslot[i].head != DET_NONE) {
		if (dl->cslot[i].lane == lane && dl->cslot[i].cell == cell)
			return i;
		i = (i + 1) & dl->cmask;
	}
	return DET_NONE;
}

static void cell_unlink(struct det_lanes *dl, uint32_t idx)
{
	struct det_entry *e = &dl->ent[idx];
	uint32_t cs = e->cell_slot;

	if (cs == DET_NONE)
		return;
	if (e->prev != DET_NONE)
		dl->ent[e->prev].next = e->next;
	else
		dl->cslot[cs].head = e->next;
	if (e->next != DET_NONE)
		dl->ent[e->next].prev = e->prev;
	e->cell_slot = DET_NONE;
	e->next = e->prev = DET_NONE;
	if (dl->cslot[cs].head == DET_NONE)
		cslot_delete(dl, cs);
}

static void cell_link(struct det_lanes *dl, uint32_t idx)
{
	struct det_entry *e = &dl->ent[idx];
	int32_t cell = (int32_t)floorf(e->along_m / CELL_M);
	uint32_t i = chome(dl, e->lane, cell);

	while (dl->cslot[i].head != DET_NONE) {
		if (dl->cslot[i].lane == e->lane && dl->cslot[i].cell == cell)
			break;
		i = (i + 1) & dl->cmask;
	}
	if (dl->cslot[i].head == DET_NONE) {
		dl->cslot[i].lane = e->lane;
		dl->cslot[i].cell = cell;
	} else {
		dl->ent[dl->cslot[i].head].prev = idx;
	}
	e->next = dl->cslot[i].head;
	e->prev = DET_NONE;
	dl->cslot[i].head = idx;
	e->cell_slot = i;
}

/**
 * detect__lanes_get() - see detect_common.h.
 */
struct det_entry *detect__lanes_get(struct det_lanes *dl, uint64_t track_id)
{
	uint32_t i = thome(dl, track_id);

	while (dl->tslot[i] != DET_NONE) {
		if (dl->ent[dl->tslot[i]].track_id == track_id)
			return &dl->ent[dl->tslot[i]];
		i = (i + 1) & dl->tmask;
	}
	return NULL;
}

/**
 * detect__lanes_update() - see detect_common.h.
 */
static void lanes__sweep_more(struct det_lanes *dl);

struct det_entry *detect__lanes_update(struct det_lanes *dl,
				       const struct det_sample *s,
				       int *created)
{
	uint32_t i = thome(dl, s->track_id), idx;
	struct det_entry *e;
	int32_t old_cell, new_cell;

	*created = 0;
	dl->stats.update_calls++;
	if (dl->memo_idx != DET_NONE && dl->memo_now == dl->now &&
	    memcmp(&dl->memo, s, sizeof(*s)) == 0)
		return &dl->ent[dl->memo_idx];
	dl->stats.updates++;
	/* A sweep stopped at its maximum: a little more of it per sample
	 * (before the lookup: no entry is held yet). */
	if (dl->sweep_left)
		lanes__sweep_more(dl);
	while (dl->tslot[i] != DET_NONE) {
		if (dl->ent[dl->tslot[i]].track_id == s->track_id)
			break;
		i = (i + 1) & dl->tmask;
	}
	if (dl->tslot[i] == DET_NONE) {
		idx = dl->free_head;
		if (idx == DET_NONE)
			return NULL;
		dl->free_head = dl->ent[idx].next;
		if (idx >= dl->high)
			dl->high = idx + 1;
		e = &dl->ent[idx];
		memset(e, 0, sizeof(*e));
		e->used = 1;
		e->track_id = s->track_id;
		e->cell_slot = DET_NONE;
		e->next = e->prev = DET_NONE;
		e->lane = -1;
		dl->tslot[i] = idx;
		*created = 1;
	} else {
		idx = dl->tslot[i];
		e = &dl->ent[idx];
	}
	old_cell = e->cell_slot != DET_NONE ?
		dl->cslot[e->cell_slot].cell : INT32_MIN;
	new_cell = s->match.lane >= 0 ?
		(int32_t)floorf(s->match.along_m / CELL_M) : INT32_MIN;
	if (e->cell_slot != DET_NONE &&
	    (e->lane != s->match.lane || old_cell != new_cell))
		cell_unlink(dl, idx);
	/* Samples in a row; a silence over 1 s starts a new appearance. */
	if (*created || s->t_ns > e->t_ns + 1000000000ull)
		e->n_samples = 1;
	else if (e->n_samples < UINT16_MAX)
		e->n_samples++;
	e->t_ns = s->t_ns;
	e->seen = dl->now;
	e->lane = s->match.lane;
	e->segment = s->match.segment;
	e->along_m = s->match.along_m;
	e->speed_mps = s->speed_mps;
	e->length_m = s->length_m;
	e->lat = s->lat;
	e->lon = s->lon;
	e->cls = s->cls;
	e->sources = s->sources;
	/* Direction of travel; a standing vehicle keeps its last one (its
	 * heading is unreliable, and a wrong-way driver that stopped still
	 * faces the traffic). */
	if (s->match.lane < 0)
		e->against = 0;
	else if (s->speed_mps > 1.0f)
		e->against = fabsf(s->match.heading_err_deg) > 90.0f;
	e->sensor_id = s->sensor_id;
	if (e->lane >= 0 && e->cell_slot == DET_NONE)
		cell_link(dl, idx);
	dl->seen[idx] = dl->now;
	memcpy(&dl->memo, s, sizeof(*s));
	dl->memo_idx = idx;
	dl->memo_now = dl->now;
	return e;
}

/**
 * detect__lanes_leader() - see detect_common.h.
 */
const struct det_entry *detect__lanes_leader(const struct det_lanes *dl,
					     const struct det_entry *e,
					     float min_dist_m, float max_gap_m)
{
	const struct det_entry *best = NULL;
	int32_t c0, c1, c;
	uint32_t cs, k;

	if (e->lane < 0)
		return NULL;
	c0 = (int32_t)floorf(e->along_m / CELL_M);
	c1 = (int32_t)floorf((e->along_m + max_gap_m) / CELL_M);
	for (c = c0; c <= c1; c++) {
		cs = cslot_find(dl, e->lane, c);
		if (cs == DET_NONE)
			continue;
		for (k = dl->cslot[cs].head; k != DET_NONE; k = dl->ent[k].next) {
			const struct det_entry *o = &dl->ent[k];
			float d = o->along_m - e->along_m;

			if (o == e || d <= min_dist_m || d > max_gap_m)
				continue;
			/* Not updated for a while: not there any more. */
			if (o->seen + dl->stale_ns < dl->now)
				continue;
			/* A false detection, or a sample too old (or too new)
			 * to say where it is at @e's time. */
			if (o->n_samples < dl->confirm ||
			    (o->t_ns > e->t_ns ? o->t_ns - e->t_ns : e->t_ns - o->t_ns) >
				    dl->leader_age_ns)
				continue;
			if (!best || o->along_m < best->along_m)
				best = o;
		}
		/* Cells are visited in order: the first hit cell has the
		 * nearest leader unless a closer one is in a later cell,
		 * which cannot be. */
		if (best)
			break;
	}
	return best;
}

/**
 * detect__lanes_slow_in() - see detect_common.h.
 */
int detect__lanes_slow_in(const struct det_lanes *dl, int32_t lane,
			  float along_from, float along_to, float speed_below)
{
	int32_t c0 = (int32_t)floorf(along_from / CELL_M);
	int32_t c1 = (int32_t)floorf(along_to / CELL_M), c;
	uint32_t cs, k;
	int n = 0;

	if (lane < 0 || c1 - c0 > 64)
		return 0;
	for (c = c0; c <= c1; c++) {
		cs = cslot_find(dl, lane, c);
		if (cs == DET_NONE)
			continue;
		for (k = dl->cslot[cs].head; k != DET_NONE; k = dl->ent[k].next) {
			const struct det_entry *o = &dl->ent[k];

			if (o->along_m < along_from || o->along_m > along_to ||
			    o->seen + dl->stale_ns < dl->now ||
			    o->n_samples < dl->confirm ||
			    o->cls == V2X_CLASS_PEDESTRIAN ||
			    o->cls == V2X_CLASS_CYCLIST)
				continue;
			n += o->speed_mps < speed_below;
		}
	}
	return n;
}

/**
 * detect__lanes_seen_near() - see detect_common.h.
 */
int detect__lanes_seen_near(struct det_lanes *dl, int32_t lane, float along,
			    float radius_m, uint64_t t_ns, uint64_t max_age_ns,
			    uint64_t except_id,
			    void (*fn)(void *ctx, struct det_entry *o),
			    void *ctx)
{
	/* A metre of margin on the cells: an entry within the radius by the
	 * float difference below is in one of them whatever the rounding of
	 * along +- radius. */
	int32_t c0 = (int32_t)floorf((along - radius_m - 1.0f) / CELL_M);
	int32_t c1 = (int32_t)floorf((along + radius_m + 1.0f) / CELL_M), c;
	uint32_t cs, k;
	int n = 0;

	if (lane < 0)
		return 0;
	if (c1 - c0 > 64)
		c1 = c0 + 64;
	for (c = c0; c <= c1; c++) {
		cs = cslot_find(dl, lane, c);
		if (cs == DET_NONE)
			continue;
		for (k = dl->cslot[cs].head; k != DET_NONE; k = dl->ent[k].next) {
			struct det_entry *o = &dl->ent[k];

			if (o->track_id == except_id ||
			    fabsf(o->along_m - along) > radius_m ||
			    o->t_ns > t_ns || t_ns - o->t_ns > max_age_ns)
				continue;
			fn(ctx, o);
			n++;
		}
	}
	return n;
}

/**
 * detect__lanes_remove() - see detect_common.h.
 */
void detect__lanes_remove(struct det_lanes *dl, struct det_entry *e)
{
	uint32_t idx = (uint32_t)(e - dl->ent), i;

	cell_unlink(dl, idx);
	i = thome(dl, e->track_id);
	while (dl->tslot[i] != idx)
		i = (i + 1) & dl->tmask;
	tslot_delete(dl, i);
	e->used = 0;
	dl->seen[idx] = UINT64_MAX;
	dl->memo_idx = DET_NONE;
	e->next = dl->free_head;
	dl->free_head = idx;
}

/*
 * Look at up to @budget entries from where the last sweep stopped, removing
 * the stale ones, at most @max of them.  Returns the number removed;
 * *@left is the number of the @budget not looked at (> 0 only when it
 * stopped at @max).  Looks at the dense copy of the entries' clocks, so
 * that a sweep touches 8 bytes per live entry and the large entries only
 * when they are removed.
 */
static int lanes__sweep(struct det_lanes *dl, uint32_t budget, int max,
			uint32_t *left)
{
	uint32_t span = dl->high, n = 0, pos;
	uint64_t limit;
	int removed = 0, h;

	*left = 0;
	if (span == 0)
		return 0;
	if (budget > span)
		budget = span;
	pos = dl->sweep_pos < span ? dl->sweep_pos : 0;
	/* Stale: seen + stale_ns < now, i.e. seen < now - stale_ns. */
	if (dl->now <= dl->stale_ns) {
		dl->sweep_pos = (uint32_t)(((uint64_t)pos + budget) % span);
		return 0;
	}
	limit = dl->now - dl->stale_ns;
	for (; n < budget; n++, pos = pos + 1 < span ? pos + 1 : 0) {
		struct det_entry *e;

		if (dl->seen[pos] >= limit)
			continue; /* fresh, or free (UINT64_MAX) */
		if (removed == max)
			break;
		e = &dl->ent[pos];
		for (h = 0; h < DET_HOOKS; h++)
			if (dl->hooks[h].fn)
				dl->hooks[h].fn(dl->hooks[h].ctx, e);
		detect__lanes_remove(dl, e);
		removed++;
	}
	dl->sweep_pos = pos;
	*left = budget - n;
	return removed;
}

/*
 * The rest of a sweep that stopped at DET_SWEEP_REMOVE_MAX, a little per
 * recorded sample: many road users silent at once (a sensor or network
 * outage, the end of a load test) cost each later sample a microsecond or
 * two until they are gone, instead of one long tick.
 */
#define DET_SWEEP_MORE_REMOVE 2
#define DET_SWEEP_MORE_SCAN 256

static void lanes__sweep_more(struct det_lanes *dl)
{
	uint32_t budget = dl->sweep_left < DET_SWEEP_MORE_SCAN ?
			  dl->sweep_left : DET_SWEEP_MORE_SCAN, left;

	lanes__sweep(dl, budget, DET_SWEEP_MORE_REMOVE, &left);
	dl->sweep_left -= budget - left;
}

/**
 * detect__lanes_sweep() - see detect_common.h.
 */
int detect__lanes_sweep(struct det_lanes *dl, uint32_t budget)
{
	uint32_t left;
	int removed;

	/* What a sweep stopped at its maximum left is looked at first. */
	budget = budget > UINT32_MAX - dl->sweep_left ?
		 UINT32_MAX : budget + dl->sweep_left;
	removed = lanes__sweep(dl, budget, DET_SWEEP_REMOVE_MAX, &left);
	dl->sweep_left = left;
	return removed;
}

/**
 * detect__lanes_maintain() - see detect_common.h.
 */
int detect__lanes_maintain(struct det_lanes *dl)
{
	uint64_t dt, budget;

	if (dl->now == dl->swept)
		return 0;
	dt = dl->now - dl->swept;
	dl->swept = dl->now;
	dl->stats.sweeps++;
	/* The whole used part of the table every DET_SWEEP_FRACTION of the
	 * stale time. */
	if (dt >= dl->stale_ns / DET_SWEEP_FRACTION)
		budget = dl->high;
	else
		budget = (uint64_t)((double)dl->high * (double)dt *
				    DET_SWEEP_FRACTION / (double)dl->stale_ns) + 16;
	return detect__lanes_sweep(dl, (uint32_t)(budget < dl->high ?
						  budget : dl->high));
}

/**
 * detect__lanes_stats() - see detect_common.h.
 */
void detect__lanes_stats(const struct det_lanes *dl,
			 struct det_lanes_stats *st)
{
	*st = dl->stats;
}

/**
 * detect__cand_from_sample() - see detect_common.h.
 */
void detect__cand_from_sample(struct det_candidate *c, uint8_t type,
			      const struct det_sample *s)
{
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->sources = s->sources;
	c->sensor_id = s->sensor_id;
	c->key = s->track_id;
	c->t_ns = s->t_ns;
	c->lat = s->lat;
	c->lon = s->lon;
	c->lane = s->match.lane;
	c->segment = s->match.segment;
	c->confidence = (s->sources & V2X_SRC_V2X) &&
			(s->sources & V2X_SRC_SENSOR) ? 0.95f :
			(s->sources & V2X_SRC_V2X) ? 0.9f : 0.8f;
	c->n_tracks = 1;
	c->tracks[0] = s->track_id;
}

/**
 * detect__signal_state() - see detect_common.h.
 */
int detect__signal_state(const struct det_env *env, int32_t intersection_id,
			 int32_t signal_group)
{
	int i, k;

	if (!env->spat || intersection_id < 0 || signal_group < 0)
		return -1;
	for (i = 0; i < env->n_spat; i++) {
		const struct v2x_spat *sp = &env->spat[i];

		if (sp->intersection_id != (uint32_t)intersection_id)
			continue;
		for (k = 0; k < sp->n && k < V2X_SPAT_MOVEMENTS_MAX; k++)
			if (sp->mv[k].signal_group == signal_group)
				return sp->mv[k].state;
	}
	return -1;
}

/**
 * detect__state_is_stop() - see detect_common.h.
 */
int detect__state_is_stop(int state)
{
	switch (state) {
	case V2X_PHASE_DARK:
	case V2X_PHASE_STOP_THEN_PROCEED:
	case V2X_PHASE_STOP_AND_REMAIN:
	case V2X_PHASE_PRE_MOVEMENT:
	case V2X_PHASE_PERMISSIVE_CLEARANCE:
	case V2X_PHASE_PROTECTED_CLEARANCE:
		return 1;
	default:
		return 0;
	}
}

/**
 * detect__lanes_index() - see detect_common.h.
 */
uint32_t detect__lanes_index(const struct det_lanes *dl,
			     const struct det_entry *e)
{
	return (uint32_t)(e - dl->ent);
}

/**
 * detect__lanes_tick() - see detect_common.h.
 */
uint64_t detect__lanes_tick(struct det_lanes *dl, uint64_t now_ns)
{
	if (now_ns > dl->now)
		dl->now = now_ns;
	return dl->now;
}

/**
 * detect__lanes_now() - see detect_common.h.
 */
uint64_t detect__lanes_now(const struct det_lanes *dl)
{
	return dl->now;
}

void detect__lanes_only_tick(void *self, struct det_env *env)
{
	struct det_lanes **dl = self;

	detect__lanes_tick(*dl, env->now_ns);
	detect__lanes_maintain(*dl);
}

void detect__lanes_only_free(void *self)
{
	struct det_lanes **dl = self;

	if (!dl)
		return;
	detect__lanes_free(*dl);
	free(dl);
}
