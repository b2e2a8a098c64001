/* SPDX-License-Identifier: MIT */
/* pipeline.c - the stages run to completion in one thread (see pipeline.h). */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* Longest wait, so that the stop flag is seen promptly even if a wake-up
 * were lost. */
#define PIPELINE_WAIT_MAX_NS 100000000ull

struct pipeline {
	struct ingest *in;
	struct fusion *fu;
	struct pub_zmq *pz;
	struct ring *ring_in, *ring_out;
	struct broker_counters *cnt;
	pthread_t thread;
	_Atomic int stop;
};

static uint64_t pipeline__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *pipeline__thread(void *arg)
{
	struct pipeline *p = arg;
	uint64_t next = 0, cpu_next = 0;

	pthread_setname_np(pthread_self(), "v2x-pipeline");
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		uint64_t now = pipeline__mono_ns(), f_next, p_next;
		uint64_t wait = next > now ? next - now : 0;

		if (wait > PIPELINE_WAIT_MAX_NS)
			wait = PIPELINE_WAIT_MAX_NS;
		ingest_poll(p->in, wait);
		/* Batch by batch: a burst's first messages are published
		 * while its last ones wait, not after all are fused. */
		do {
			f_next = fusion_step(p->fu);
			p_next = pub_zmq_step(p->pz);
		} while (ring_count(p->ring_in));
		next = f_next < p_next ? f_next : p_next;
		counters_thread_cpu(p->cnt, THREAD_PIPELINE, &cpu_next, 0);
	}
	/* Ingest has stopped: what is in the rings still goes out. */
	do {
		fusion_step(p->fu);
		pub_zmq_step(p->pz);
	} while (ring_count(p->ring_in) || ring_count(p->ring_out));
	pub_zmq_finish(p->pz);
	counters_thread_cpu(p->cnt, THREAD_PIPELINE, &cpu_next, 1);
	return NULL;
}

static void pipeline__wake(void *ctx)
{
	ingest_wake(ctx);
}

/* See pipeline.h.  Main thread. */
struct pipeline *pipeline_start(struct ingest *in, struct fusion *fu,
				struct pub_zmq *pz, struct ring *ring_in,
				struct ring *ring_out, struct broker_counters *cnt)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return NULL;
	p->in = in;
	p->fu = fu;
	p->pz = pz;
	p->ring_in = ring_in;
	p->ring_out = ring_out;
	p->cnt = cnt;
	pub_zmq_set_waker(pz, pipeline__wake, in);
	r = pthread_create(&p->thread, NULL, pipeline__thread, p);
	if (r) {
		pub_zmq_set_waker(pz, NULL, NULL);
		free(p);
		errno = r;
		return NULL;
	}
	return p;
}

/* See pipeline.h.  Main thread. */
void pipeline_stop(struct pipeline *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	ingest_wake(p->in);
	pthread_join(p->thread, NULL);
	free(p);
}

/* See pipeline.h.  Any thread. */
int pipeline_single_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	return CPU_COUNT(&set) == 1;
}
