/* SPDX-License-Identifier: MIT */
/* ring.c - SPSC ring of fixed-size slots (see ring.h). */
#include "ring.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* See ring.h.  Call before either thread uses the ring. */
int ring_init(struct ring *r, uint32_t n_slots, size_t slot_size)
{
	size_t sz = (slot_size + 7) & ~(size_t)7;

	memset(r, 0, sizeof(*r));
	if (n_slots < 2 || (n_slots & (n_slots - 1)) || slot_size == 0 ||
	    sz > UINT32_MAX)
		return -EINVAL;
	r->slots = aligned_alloc(RING_CACHELINE,
				 ((size_t)n_slots * sz + RING_CACHELINE - 1) &
					 ~(size_t)(RING_CACHELINE - 1));
	if (!r->slots)
		return -ENOMEM;
	r->mask = n_slots - 1;
	r->slot_size = (uint32_t)sz;
	return 0;
}

/* See ring.h.  Call after both threads stopped using the ring. */
void ring_fini(struct ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

/* See ring.h.  Producer thread only. */
uint32_t ring_prod_avail(struct ring *r, uint32_t want)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t free_slots = ring_capacity(r) - (t - r->head_cache);

	if (free_slots < want) {
		/* Only now pay for reading the consumer's cache line. */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		free_slots = ring_capacity(r) - (t - r->head_cache);
	}
	return free_slots < want ? free_slots : want;
}

/* See ring.h.  Producer thread only. */
int ring_push(struct ring *r, const void *src, size_t len)
{
	if (len > r->slot_size)
		return -EINVAL;
	if (ring_prod_avail(r, 1) == 0)
		return -ENOBUFS;
	memcpy(ring_prod_slot(r, 0), src, len);
	ring_prod_commit(r, 1);
	return 0;
}

/* See ring.h.  Consumer thread only. */
uint32_t ring_cons_avail(struct ring *r, uint32_t want)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t filled = r->tail_cache - h;

	if (filled < want) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		filled = r->tail_cache - h;
	}
	return filled < want ? filled : want;
}

/* See ring.h.  Consumer thread only. */
int ring_pop(struct ring *r, void *dst, size_t len)
{
	if (ring_cons_avail(r, 1) == 0)
		return -EAGAIN;
	memcpy(dst, ring_cons_slot(r, 0), len < r->slot_size ? len : r->slot_size);
	ring_cons_release(r, 1);
	return 0;
}

/* See ring.h.  Any thread; the value may be stale by the time it is used. */
uint32_t ring_count(const struct ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	return t - h;
}

static long ring__futex(_Atomic uint32_t *addr, int op, uint32_t val,
			const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

/*
 * See ring.h.  Producer thread only.  Pairs with ring_wait(): the producer
 * stores tail then loads waiting; the consumer stores waiting then loads
 * tail; the seq_cst fences make sure at least one of them sees the other.
 */
void ring_notify(struct ring *r)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->waiting, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&r->seq, 1, memory_order_release);
		ring__futex(&r->seq, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
}

/* See ring.h.  Consumer thread only. */
int ring_wait(struct ring *r, uint64_t timeout_ns)
{
	uint32_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000ull),
		.tv_nsec = (long)(timeout_ns % 1000000000ull),
	};

	if (ring_cons_avail(r, 1))
		return 1;
	atomic_store_explicit(&r->waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (ring_cons_avail(r, 1) == 0)
		ring__futex(&r->seq, FUTEX_WAIT_PRIVATE, seq, &ts);
	atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
	return ring_cons_avail(r, 1) ? 1 : 0;
}
