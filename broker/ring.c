/* SPDX-License-Identifier: MIT */
/* ring.c - SPSC ring of fixed-size slots (see ring.h). */
#include "ring.h"

#define RING_HUGE_PAGE ((size_t)2 << 20)

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* len bytes mapped at a huge-page boundary (THP only backs aligned
 * ranges), with the huge-page advice; NULL on failure. */
static void *ring__map_aligned(size_t len)
{
	unsigned char *p, *start;
	size_t head;

	p = mmap(NULL, len + RING_HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = (unsigned char *)(((uintptr_t)p + RING_HUGE_PAGE - 1) &
				  ~(uintptr_t)(RING_HUGE_PAGE - 1));
	head = (size_t)(start - p);
	if (head)
		munmap(p, head);
	if (RING_HUGE_PAGE - head)
		munmap(start + len, RING_HUGE_PAGE - head);
#ifdef MADV_HUGEPAGE
	/* Advice only: without THP the ring works the same on small pages. */
	(void)madvise(start, len, MADV_HUGEPAGE);
#endif
	return start;
}

/* See ring.h.  Call before either thread uses the ring. */
int ring_init(struct ring *r, uint32_t n_slots, size_t slot_size)
{
	size_t sz = (slot_size + 7) & ~(size_t)7, len;
	void *map;

	memset(r, 0, sizeof(*r));
	if (n_slots < 2 || (n_slots & (n_slots - 1)) || slot_size == 0 ||
	    sz > UINT32_MAX)
		return -EINVAL;
	/* Slots are large (an ingest slot holds a whole v2x_msg) and a
	 * message touches the start of its slot only, so every message lands
	 * on another 4 KiB page: huge pages turn a TLB miss per message into
	 * one per 2 MiB.  Rounded up to whole huge pages so the kernel can
	 * back all of it; touching it now moves the page faults to start-up. */
	len = (size_t)n_slots * sz;
	if (len < RING_HUGE_PAGE / 2) {
		len = (len + 4095) & ~(size_t)4095;
		map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED)
			return -ENOMEM;
	} else {
		len = (len + RING_HUGE_PAGE - 1) & ~(size_t)(RING_HUGE_PAGE - 1);
		map = ring__map_aligned(len);
		if (!map)
			return -ENOMEM;
	}
	memset(map, 0, len);
	r->slots = map;
	r->map_len = len;
	r->mask = n_slots - 1;
	r->slot_size = (uint32_t)sz;
	return 0;
}

/* See ring.h.  Call after both threads stopped using the ring. */
void ring_fini(struct ring *r)
{
	if (r->slots)
		munmap(r->slots, r->map_len);
	r->slots = NULL;
	r->map_len = 0;
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
