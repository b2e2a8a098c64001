/* SPDX-License-Identifier: MIT */
/*
 * tracks.c - track table: fixed pool + open-addressing index + hashed
 * uniform grid + receive-time ordered list for expiry.  See tracks.h.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#include "v2x/error.h"
#include "geohash.h"
#include "hashmix.h"
#include "tracks.h"

#define TT_NIL UINT32_MAX

/* One index slot: key and pool index + 1 (0 = empty slot). */
struct tt_slot {
	uint64_t key;
	uint32_t ref;
	uint32_t pad;
};

/*
 * Per-track bookkeeping kept apart from the (large) struct track, in a
 * dense array, so that expiry scans and neighbour queries walk 48-byte
 * records instead of 2.5 KB ones.
 */
struct tt_node {
	double x, y;            /* copy of cur.x, cur.y */
	uint64_t last_rx;       /* copy of last_rx_ns */
	int32_t cell_x, cell_y; /* grid cell */
	uint32_t grid_next, grid_prev, bucket;
	uint32_t in_use;
};

struct track_table {
	uint32_t capacity;
	uint32_t count;
	uint32_t slot_mask;     /* index slots - 1 */
	uint32_t grid_mask;     /* grid buckets - 1 */
	uint32_t high;          /* pool entries [0, high) have ever been used */
	uint32_t free_top;      /* entries in free_idx[] */
	uint32_t exp_pos;       /* where track_table_expire_scan() goes on */
	struct tt_slot *slots;
	struct track *pool;     /* capacity entries */
	struct tt_node *nodes;  /* capacity entries */
	uint32_t *free_idx;     /* stack of released pool indices */
	uint32_t *grid;         /* bucket -> first pool index, TT_NIL = empty */
	uint64_t next_id;
	int has_ref;
	struct enu_ref ref;
	struct track_table_stats st;
	size_t pool_bytes, nodes_bytes, slots_bytes;
};

static uint32_t tt__cell_bucket(const struct track_table *tt, int32_t cx, int32_t cy)
{
	uint64_t k = ((uint64_t)(uint32_t)cx << 32) | (uint32_t)cy;

	return (uint32_t)hash_mix64(k) & tt->grid_mask;
}

static int32_t tt__cell_of(double v)
{
	double c = floor(v / TRACK_GRID_CELL_M);

	/* Far outside any plausible road the cells merely saturate. */
	if (c > 1e9)
		return 1000000000;
	if (c < -1e9)
		return -1000000000;
	return (int32_t)c;
}

/*
 * A zeroed, page-aligned region for one of the big arrays, with transparent
 * huge pages requested: the table is accessed at random, and 4 KB pages
 * would cost a TLB miss on most accesses.
 */
static void *tt__region(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

/* Backs every page of a region now (see track_table_prefault()). */
static void tt__region_populate(void *p, size_t bytes)
{
	volatile unsigned char *c = p;

#ifdef MADV_POPULATE_WRITE
	if (madvise(p, bytes, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	/* Older kernels: one write per page does the same. */
	for (size_t off = 0; off < bytes; off += 4096)
		c[off] = 0;
}

/* See tracks.h. */
void track_table_prefault(struct track_table *tt)
{
	tt__region_populate(tt->slots, tt->slots_bytes);
	tt__region_populate(tt->pool, tt->pool_bytes);
	tt__region_populate(tt->nodes, tt->nodes_bytes);
}

static void tt__region_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

struct track_table *track_table_new(uint32_t capacity, const struct enu_ref *ref)
{
	struct track_table *tt = NULL;
	uint32_t nslots, nbuckets;

	if (capacity == 0 || capacity > TRACK_CAPACITY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	tt = calloc(1, sizeof(*tt));
	if (!tt)
		goto fail;
	nslots = hash_pow2_at_least((uint64_t)capacity * 2, 1);
	nbuckets = hash_pow2_at_least(capacity, 1);
	tt->capacity = capacity;
	tt->slot_mask = nslots - 1;
	tt->grid_mask = nbuckets - 1;
	tt->slots_bytes = (size_t)nslots * sizeof(*tt->slots);
	tt->pool_bytes = (size_t)capacity * sizeof(*tt->pool);
	tt->nodes_bytes = (size_t)capacity * sizeof(*tt->nodes);
	tt->slots = tt__region(tt->slots_bytes);
	tt->pool = tt__region(tt->pool_bytes);
	tt->nodes = tt__region(tt->nodes_bytes);
	tt->free_idx = malloc((size_t)capacity * sizeof(*tt->free_idx));
	tt->grid = malloc((size_t)nbuckets * sizeof(*tt->grid));
	if (!tt->slots || !tt->pool || !tt->nodes || !tt->free_idx || !tt->grid)
		goto fail;
	for (uint32_t i = 0; i < nbuckets; i++)
		tt->grid[i] = TT_NIL;
	if (ref) {
		tt->ref = *ref;
		tt->has_ref = 1;
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		tt->next_id = (uint64_t)ts.tv_sec * 1000000u +
			      (uint64_t)ts.tv_nsec / 1000u;
		if (tt->next_id == 0)
			tt->next_id = 1;
	}
	return tt;
fail:
	track_table_free(tt);
	errno = ENOMEM;
	return NULL;
}

void track_table_free(struct track_table *tt)
{
	if (!tt)
		return;
	tt__region_free(tt->slots, tt->slots_bytes);
	tt__region_free(tt->pool, tt->pool_bytes);
	tt__region_free(tt->nodes, tt->nodes_bytes);
	free(tt->free_idx);
	free(tt->grid);
	free(tt);
}

/* Index slot of @key, or the empty slot where it would go. */
static uint32_t tt__probe(const struct track_table *tt, uint64_t key)
{
	uint32_t i = (uint32_t)hash_mix64(key) & tt->slot_mask;

	/* The index is at most half full, so an empty slot always ends this. */
	while (tt->slots[i].ref && tt->slots[i].key != key)
		i = (i + 1) & tt->slot_mask;
	return i;
}

/* See tracks.h.  Fusion thread. */
void track_table_prefetch_slot(const struct track_table *tt, uint64_t key)
{
	__builtin_prefetch(&tt->slots[(uint32_t)hash_mix64(key) & tt->slot_mask], 0, 3);
}

/* See tracks.h.  Fusion thread. */
void track_table_prefetch_track(const struct track_table *tt, uint64_t key)
{
	uint32_t i = tt__probe(tt, key);
	const struct track *t;

	if (!tt->slots[i].ref)
		return;
	t = &tt->pool[tt->slots[i].ref - 1];
	/* The head (ids, times, cur), the history entry written next and the
	 * grid node: what an update touches. */
	__builtin_prefetch(t, 1, 3);
	__builtin_prefetch((const char *)t + 64, 1, 3);
	__builtin_prefetch((const char *)t + 128, 1, 3);
	__builtin_prefetch(&t->hist[(t->hist_head + 1) % TRACK_HIST], 1, 3);
	__builtin_prefetch(&tt->nodes[tt->slots[i].ref - 1], 1, 3);
}

static void tt__slot_delete(struct track_table *tt, uint32_t i)
{
	uint32_t j = i;

	/*
	 * Backward shift: move each later entry of the probe run into the hole
	 * unless its home slot lies cyclically in (hole, entry], where it would
	 * no longer be found.
	 */
	for (;;) {
		uint32_t home;

		j = (j + 1) & tt->slot_mask;
		if (!tt->slots[j].ref)
			break;
		home = (uint32_t)hash_mix64(tt->slots[j].key) & tt->slot_mask;
		if (((j - home) & tt->slot_mask) >= ((j - i) & tt->slot_mask)) {
			tt->slots[i] = tt->slots[j];
			i = j;
		}
	}
	tt->slots[i].ref = 0;
	tt->slots[i].key = 0;
}

static void tt__grid_unlink(struct track_table *tt, uint32_t i)
{
	struct tt_node *nd = &tt->nodes[i];

	if (nd->grid_prev != TT_NIL)
		tt->nodes[nd->grid_prev].grid_next = nd->grid_next;
	else
		tt->grid[nd->bucket] = nd->grid_next;
	if (nd->grid_next != TT_NIL)
		tt->nodes[nd->grid_next].grid_prev = nd->grid_prev;
	nd->grid_next = nd->grid_prev = TT_NIL;
}

static void tt__grid_link(struct track_table *tt, uint32_t i)
{
	struct tt_node *nd = &tt->nodes[i];
	uint32_t b;

	nd->cell_x = tt__cell_of(nd->x);
	nd->cell_y = tt__cell_of(nd->y);
	b = tt__cell_bucket(tt, nd->cell_x, nd->cell_y);
	nd->bucket = b;
	nd->grid_prev = TT_NIL;
	nd->grid_next = tt->grid[b];
	if (tt->grid[b] != TT_NIL)
		tt->nodes[tt->grid[b]].grid_prev = i;
	tt->grid[b] = i;
}

static int tt__position_valid(int32_t lat, int32_t lon)
{
	return lat >= -900000000 && lat <= 900000000 &&
	       lon >= -1800000000 && lon <= 1800000000;
}

void track_table_set_ref(struct track_table *tt, const struct enu_ref *ref)
{
	tt->ref = *ref;
	tt->has_ref = 1;
	for (uint32_t i = 0; i < tt->high; i++) {
		struct track *t = &tt->pool[i];
		double u;

		if (!tt->nodes[i].in_use)
			continue;
		for (unsigned k = 0; k < t->hist_len; k++) {
			struct track_sample *smp =
				&t->hist[(t->hist_head + TRACK_HIST - k) % TRACK_HIST];

			enu_from_geo(&tt->ref, smp->lat * 1e-7, smp->lon * 1e-7, 0.0,
				     &smp->x, &smp->y, &u);
		}
		t->cur = t->hist[t->hist_head];
		tt__grid_unlink(tt, i);
		tt->nodes[i].x = t->cur.x;
		tt->nodes[i].y = t->cur.y;
		tt__grid_link(tt, i);
	}
}

const struct enu_ref *track_table_ref(const struct track_table *tt)
{
	return tt->has_ref ? &tt->ref : NULL;
}

/* What one message says about a road user, in SI units; NAN = unknown. */
struct tt_obs {
	uint64_t key;
	uint8_t kind, cls, sources;
	uint32_t sensor_id, temp_id;
	uint64_t ts_ns;
	int32_t lat, lon;
	float speed, heading, accel;
	float length_m, width_m;
	uint16_t event_flags;
	uint8_t has_event_flags;
};

static struct track *tt__alloc(struct track_table *tt, const struct tt_obs *o,
			       uint32_t slot)
{
	struct track *t;
	uint32_t idx;

	if (tt->count >= tt->capacity) {
		tt->st.full++;
		return NULL;
	}
	/* Reuse released entries first: keeps the used range dense. */
	idx = tt->free_top ? tt->free_idx[--tt->free_top] : tt->high++;
	t = &tt->pool[idx];
	memset(t, 0, offsetof(struct track, hist));
	t->id = tt->next_id++;
	t->key = o->key;
	t->kind = o->kind;
	t->sensor_id = o->sensor_id;
	t->temp_id = o->temp_id;
	t->tt_index = idx;
	tt->nodes[idx].in_use = 1;
	tt->nodes[idx].grid_next = tt->nodes[idx].grid_prev = TT_NIL;
	tt->slots[slot].key = o->key;
	tt->slots[slot].ref = idx + 1;
	tt->count++;
	tt->st.created++;
	return t;
}

static struct track *tt__update(struct track_table *tt, const struct tt_obs *o,
				uint64_t rx_ns)
{
	struct track_sample s;
	const struct track_sample *prev = NULL;
	struct track *t;
	uint32_t slot;
	int is_new = 0;
	double u;

	if (!tt__position_valid(o->lat, o->lon)) {
		tt->st.bad_position++;
		return NULL;
	}
	slot = tt__probe(tt, o->key);
	if (tt->slots[slot].ref) {
		t = &tt->pool[tt->slots[slot].ref - 1];
		prev = &t->cur;
	} else {
		t = tt__alloc(tt, o, slot);
		if (!t)
			return NULL;
		is_new = 1;
	}

	/* Sample time: the sender's, else extrapolated by the receive clock. */
	s.t_ns = o->ts_ns;
	if (s.t_ns == 0)
		s.t_ns = prev ? prev->t_ns + (rx_ns > t->last_rx_ns ?
					      rx_ns - t->last_rx_ns : 0) : rx_ns;
	if (prev && s.t_ns <= prev->t_ns) {
		/* Reordered or duplicated datagram: proof of life only. */
		tt->st.stale++;
		t->last_rx_ns = rx_ns;
		tt->nodes[t - tt->pool].last_rx = rx_ns;
		return t;
	}

	if (!tt->has_ref) {
		enu_init(&tt->ref, o->lat * 1e-7, o->lon * 1e-7, 0.0);
		tt->has_ref = 1;
	}
	s.lat = o->lat;
	s.lon = o->lon;
	enu_from_geo(&tt->ref, o->lat * 1e-7, o->lon * 1e-7, 0.0, &s.x, &s.y, &u);
	s.accel_mps2 = o->accel;

	s.speed_mps = o->speed;
	if (isnan(s.speed_mps)) {
		double dt = prev ? (double)(s.t_ns - prev->t_ns) * 1e-9 : 0.0;

		if (prev && dt >= 0.01 && dt <= 5.0)
			s.speed_mps = (float)(hypot(s.x - prev->x, s.y - prev->y) / dt);
		else
			s.speed_mps = prev ? prev->speed_mps : 0.0f;
	}
	s.heading_deg = o->heading;
	if (isnan(s.heading_deg)) {
		double dx = prev ? s.x - prev->x : 0.0, dy = prev ? s.y - prev->y : 0.0;

		if (prev && hypot(dx, dy) >= 1.0) {
			double h = atan2(dx, dy) * (180.0 / 3.14159265358979323846);

			s.heading_deg = (float)(h < 0 ? h + 360.0 : h);
		} else {
			s.heading_deg = prev ? prev->heading_deg : 0.0f;
		}
	}

	t->cls = o->cls;
	t->sources |= o->sources;
	if (o->length_m > 0)
		t->length_m = o->length_m;
	if (o->width_m > 0)
		t->width_m = o->width_m;
	t->event_flags = o->event_flags;
	t->has_event_flags = o->has_event_flags;
	if (is_new)
		t->first_ns = s.t_ns;
	t->last_ns = s.t_ns;
	t->hist_head = (uint16_t)(is_new ? 0 : (t->hist_head + 1) % TRACK_HIST);
	t->hist[t->hist_head] = s;
	if (t->hist_len < TRACK_HIST)
		t->hist_len++;
	t->cur = s;
	geohash_encode(o->lat * 1e-7, o->lon * 1e-7, 7, t->geohash);

	t->last_rx_ns = rx_ns;
	{
		uint32_t idx = (uint32_t)(t - tt->pool);
		struct tt_node *nd = &tt->nodes[idx];

		nd->x = s.x;
		nd->y = s.y;
		nd->last_rx = rx_ns;
		if (is_new) {
			tt__grid_link(tt, idx);
		} else if (tt__cell_of(s.x) != nd->cell_x ||
			   tt__cell_of(s.y) != nd->cell_y) {
			tt__grid_unlink(tt, idx);
			tt__grid_link(tt, idx);
		}
	}
	return t;
}

struct track *track_table_update_bsm(struct track_table *tt,
				     const struct v2x_bsm *bsm, uint64_t rx_ns)
{
	struct tt_obs o = {
		.key = track_key_v2x(bsm->id),
		.kind = TRACK_V2X,
		.cls = V2X_CLASS_CAR,
		.sources = V2X_SRC_V2X,
		.temp_id = bsm->id,
		.ts_ns = bsm->ts_ns,
		.lat = bsm->lat,
		.lon = bsm->lon,
		.speed = NAN,
		.heading = NAN,
		.accel = NAN,
		.length_m = bsm->length_cm * 0.01f,
		.width_m = bsm->width_cm * 0.01f,
		.event_flags = bsm->events,
		.has_event_flags = bsm->has_events,
	};

	if (bsm->speed < V2X_SPEED_UNAVAILABLE)
		o.speed = bsm->speed * 0.02f;
	if (bsm->heading < V2X_HEADING_UNAVAILABLE)
		o.heading = bsm->heading * 0.0125f;
	if (bsm->accel_long >= -2000 && bsm->accel_long < V2X_ACCEL_UNAVAILABLE)
		o.accel = bsm->accel_long * 0.01f;
	if (o.length_m >= 8.0f)
		o.cls = V2X_CLASS_TRUCK;
	return tt__update(tt, &o, rx_ns);
}

struct track *track_table_update_object(struct track_table *tt,
					uint32_t sensor_id, uint64_t ts_ns,
					const struct v2x_object *obj,
					uint64_t rx_ns)
{
	struct tt_obs o = {
		.key = track_key_sensor(sensor_id, obj->id),
		.kind = TRACK_SENSOR,
		.cls = obj->cls <= V2X_CLASS_MAX ? obj->cls : V2X_CLASS_UNKNOWN,
		.sources = V2X_SRC_SENSOR,
		.sensor_id = sensor_id,
		.temp_id = obj->id,
		.ts_ns = ts_ns,
		.lat = obj->lat,
		.lon = obj->lon,
		.speed = NAN,
		.heading = NAN,
		.accel = NAN,
		.length_m = obj->length_cm * 0.01f,
		.width_m = obj->width_cm * 0.01f,
	};

	if (obj->speed < V2X_SPEED_UNAVAILABLE)
		o.speed = obj->speed * 0.02f;
	if (obj->heading < V2X_HEADING_UNAVAILABLE)
		o.heading = obj->heading * 0.0125f;
	return tt__update(tt, &o, rx_ns);
}

static void tt__remove(struct track_table *tt, uint32_t idx)
{
	uint32_t slot = tt__probe(tt, tt->pool[idx].key);

	tt__slot_delete(tt, slot);
	tt__grid_unlink(tt, idx);
	tt->nodes[idx].in_use = 0;
	tt->free_idx[tt->free_top++] = idx;
	tt->count--;
}

int track_table_expire(struct track_table *tt, uint64_t now_rx_ns,
		       uint64_t silence_ns,
		       void (*on_expire)(void *ctx, const struct track *t),
		       void *ctx)
{
	return track_table_expire_some(tt, now_rx_ns, silence_ns, UINT32_MAX,
				       on_expire, ctx);
}

int track_table_expire_some(struct track_table *tt, uint64_t now_rx_ns,
			    uint64_t silence_ns, uint32_t max,
			    void (*on_expire)(void *ctx, const struct track *t),
			    void *ctx)
{
	/*
	 * One pass over the dense node array from its start: about 0.1-0.3 ms
	 * for 100,000 tracks, cheaper than keeping a receive-ordered list up
	 * to date on every update.  The incremental scan's place is kept.
	 */
	uint32_t pos = tt->exp_pos;
	int n;

	tt->exp_pos = 0;
	n = track_table_expire_scan(tt, now_rx_ns, silence_ns, tt->high, max, NULL,
				    on_expire, ctx);
	tt->exp_pos = pos;
	return n;
}

int track_table_expire_scan(struct track_table *tt, uint64_t now_rx_ns,
			    uint64_t silence_ns, uint32_t scan, uint32_t max,
			    uint32_t *left,
			    void (*on_expire)(void *ctx, const struct track *t),
			    void *ctx)
{
	uint32_t pos = tt->exp_pos, seen = 0;
	int n = 0;

	if (scan > tt->high)
		scan = tt->high;
	for (; seen < scan; seen++, pos++) {
		const struct tt_node *nd;

		if (pos >= tt->high)
			pos = 0;
		nd = &tt->nodes[pos];
		if (!nd->in_use || now_rx_ns < nd->last_rx ||
		    now_rx_ns - nd->last_rx < silence_ns)
			continue;
		if ((uint32_t)n == max)
			break;
		if (on_expire)
			on_expire(ctx, &tt->pool[pos]);
		tt__remove(tt, pos);
		tt->st.expired++;
		n++;
	}
	tt->exp_pos = pos;
	if (left)
		*left = scan - seen;
	return n;
}

uint32_t track_table_span(const struct track_table *tt)
{
	return tt->high;
}

int track_table_rekey(struct track_table *tt, struct track *t, uint64_t new_key,
		      uint32_t temp_id)
{
	uint32_t i = tt__probe(tt, t->key), ref;

	if (!tt->slots[i].ref || &tt->pool[tt->slots[i].ref - 1] != t)
		return -ENOENT;
	if (tt->slots[tt__probe(tt, new_key)].ref)
		return -EEXIST;
	ref = tt->slots[i].ref;
	tt__slot_delete(tt, i);
	i = tt__probe(tt, new_key);
	tt->slots[i].key = new_key;
	tt->slots[i].ref = ref;
	t->key = new_key;
	t->temp_id = temp_id;
	return 0;
}

int track_table_remove(struct track_table *tt, uint64_t key)
{
	uint32_t slot = tt__probe(tt, key);

	if (!tt->slots[slot].ref)
		return -ENOENT;
	tt__remove(tt, tt->slots[slot].ref - 1);
	return 0;
}

uint32_t track_table_count(const struct track_table *tt)
{
	return tt->count;
}

uint32_t track_table_capacity(const struct track_table *tt)
{
	return tt->capacity;
}

struct track *track_table_find(struct track_table *tt, uint64_t key)
{
	uint32_t slot = tt__probe(tt, key);

	return tt->slots[slot].ref ? &tt->pool[tt->slots[slot].ref - 1] : NULL;
}

struct track *track_table_next(struct track_table *tt, uint32_t *cursor)
{
	while (*cursor < tt->high) {
		uint32_t i = (*cursor)++;

		if (tt->nodes[i].in_use)
			return &tt->pool[i];
	}
	return NULL;
}

static int tt__near_match(const struct tt_node *nd, double x, double y, double r2)
{
	double dx = nd->x - x, dy = nd->y - y;

	return dx * dx + dy * dy <= r2;
}

int track_table_near(const struct track_table *tt, double x, double y,
		     double radius_m, const struct track **out, int max)
{
	double r2 = radius_m * radius_m;
	int32_t cx0, cx1, cy0, cy1;
	uint64_t ncells;
	int n = 0;

	if (!(radius_m >= 0) || isnan(x) || isnan(y))
		return V2X_E_RANGE;
	if (max <= 0 || tt->count == 0)
		return 0;
	cx0 = tt__cell_of(x - radius_m);
	cx1 = tt__cell_of(x + radius_m);
	cy0 = tt__cell_of(y - radius_m);
	cy1 = tt__cell_of(y + radius_m);
	ncells = (uint64_t)((int64_t)cx1 - cx0 + 1) * (uint64_t)((int64_t)cy1 - cy0 + 1);

	/* A query wider than the population is cheaper as a plain scan. */
	if (ncells > tt->count || ncells > (uint64_t)tt->grid_mask + 1) {
		for (uint32_t i = 0; i < tt->high && n < max; i++) {
			if (tt->nodes[i].in_use && tt__near_match(&tt->nodes[i], x, y, r2))
				out[n++] = &tt->pool[i];
		}
		return n;
	}
	for (int32_t cx = cx0; cx <= cx1; cx++) {
		for (int32_t cy = cy0; cy <= cy1; cy++) {
			uint32_t i = tt->grid[tt__cell_bucket(tt, cx, cy)];

			for (; i != TT_NIL; i = tt->nodes[i].grid_next) {
				const struct tt_node *nd = &tt->nodes[i];

				/* Other cells may share the bucket. */
				if (nd->cell_x != cx || nd->cell_y != cy)
					continue;
				if (!tt__near_match(nd, x, y, r2))
					continue;
				out[n++] = &tt->pool[i];
				if (n >= max)
					return n;
			}
		}
	}
	return n;
}

void track_table_get_stats(const struct track_table *tt,
			   struct track_table_stats *st)
{
	*st = tt->st;
}
