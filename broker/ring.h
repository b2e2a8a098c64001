/* SPDX-License-Identifier: MIT */
/*
 * ring.h - bounded lock-free single-producer/single-consumer ring of
 * fixed-size slots, the hand-off between broker stages.
 *
 * One thread produces, one consumes.  The producer writes directly into
 * slots it reserved (no copy), then publishes them with one release store;
 * the consumer reads slots in place and releases them.  Head and tail live on
 * separate cache lines, and each side caches the other's index so that the
 * shared line is read only when the cached view says full / empty.
 *
 * A full ring never blocks the producer: ring_prod_avail() returns fewer
 * slots than wanted and the caller counts the drop.
 *
 * Waiting: a consumer with nothing to do calls ring_wait(), which sleeps on a
 * futex; the producer calls ring_notify() after committing, which costs one
 * load unless the consumer is actually asleep (then one futex wake).
 *
 * Memory is allocated once by ring_init(); nothing allocates afterwards.
 */
#ifndef V2X_BROKER_RING_H
#define V2X_BROKER_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_CACHELINE 64

struct ring {
	/* Consumer side. */
	alignas(RING_CACHELINE) _Atomic uint32_t head; /* next slot to read */
	uint32_t tail_cache;                            /* consumer's view of tail */
	/* Producer side. */
	alignas(RING_CACHELINE) _Atomic uint32_t tail; /* next slot to write */
	uint32_t head_cache;                            /* producer's view of head */
	/* Wake-up (written rarely). */
	alignas(RING_CACHELINE) _Atomic uint32_t waiting; /* consumer asleep */
	_Atomic uint32_t seq;                              /* futex word */
	/* Read-only after init. */
	alignas(RING_CACHELINE) uint32_t mask;
	uint32_t slot_size;
	unsigned char *slots;
	size_t map_len; /* bytes mapped for the slots (munmap) */
};

/*
 * ring_init() - allocate n_slots (a power of two >= 2) slots of slot_size
 * bytes (rounded up to 8).  The slots are mapped up front (transparent huge
 * pages where the kernel allows them) and touched once, so that neither
 * thread takes a page fault or many TLB misses on the hot path.  Returns 0,
 * -EINVAL or -ENOMEM.
 */
int ring_init(struct ring *r, uint32_t n_slots, size_t slot_size);

/* ring_fini() - free the slots; safe on a zeroed or already-finished ring. */
void ring_fini(struct ring *r);

/* ring_capacity() - number of slots. */
static inline uint32_t ring_capacity(const struct ring *r)
{
	return r->mask + 1;
}

/*
 * ring_prod_avail() - producer: how many slots (up to want) may be written
 * now; 0 when full.  Reserved slots are ring_prod_slot(r, 0..n-1).
 */
uint32_t ring_prod_avail(struct ring *r, uint32_t want);

/* ring_prod_slot() - producer: the i-th free slot after the tail. */
static inline void *ring_prod_slot(struct ring *r, uint32_t i)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	return r->slots + (size_t)((t + i) & r->mask) * r->slot_size;
}

/* ring_prod_commit() - producer: publish n slots written (n <= avail). */
static inline void ring_prod_commit(struct ring *r, uint32_t n)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, t + n, memory_order_release);
}

/* ring_notify() - producer: wake the consumer if it sleeps in ring_wait(). */
void ring_notify(struct ring *r);

/* ring_push() - producer: copy len (<= slot size) bytes into one slot and
 * commit it.  Returns 0, or -ENOBUFS when full (nothing written). */
int ring_push(struct ring *r, const void *src, size_t len);

/* ring_cons_avail() - consumer: how many slots (up to want) are readable. */
uint32_t ring_cons_avail(struct ring *r, uint32_t want);

/* ring_cons_slot() - consumer: the i-th readable slot. */
static inline void *ring_cons_slot(struct ring *r, uint32_t i)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	return r->slots + (size_t)((h + i) & r->mask) * r->slot_size;
}

/* ring_cons_release() - consumer: hand n read slots back to the producer. */
static inline void ring_cons_release(struct ring *r, uint32_t n)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	atomic_store_explicit(&r->head, h + n, memory_order_release);
}

/* ring_pop() - consumer: copy one slot (slot_size bytes, or len if smaller)
 * into dst and release it.  Returns 0 or -EAGAIN when empty. */
int ring_pop(struct ring *r, void *dst, size_t len);

/* ring_count() - approximate number of filled slots; any thread. */
uint32_t ring_count(const struct ring *r);

/*
 * ring_wait() - consumer: sleep until the producer notifies or timeout_ns
 * passes; returns at once if the ring is not empty.  Returns 1 if readable,
 * 0 on timeout / spurious wake-up.
 */
int ring_wait(struct ring *r, uint64_t timeout_ns);

#endif
