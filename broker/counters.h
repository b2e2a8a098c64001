/* SPDX-License-Identifier: MIT */
/*
 * counters.h - the broker's counters, shared between stages and the metrics
 * endpoint.
 *
 * Each counter has exactly one writer thread (the stage that owns it) and is
 * read by the HTTP and publish threads; all are relaxed atomics, so reading
 * costs nothing on the hot path and no lock is ever taken.  The struct is
 * allocated once by main and lives for the whole run.
 */
#ifndef V2X_BROKER_COUNTERS_H
#define V2X_BROKER_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "v2x/msg.h"

typedef _Atomic uint64_t counter_t;

static inline void counter_add(counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/*
 * counter_add_1w() - add for a counter with a single writer thread: a plain
 * load and store (no locked instruction); readers still see whole values.
 */
static inline void counter_add_1w(counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t counter_get(const counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void counter_set(counter_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

/* Rejection reasons: the V2X_E_* codes in order, then "system". */
#define REJECT_REASONS 13

/*
 * counters_reason_index() - slot in rejected[] for an error code (a V2X_E_*
 * code or -errno); counters_reason_name() - its label (v2x_errname()).
 */
int counters_reason_index(int err);
const char *counters_reason_name(int index);

enum listener_kind {
	LISTENER_UPER = 0,
	LISTENER_MSGPACK = 1,
};

struct listener_counters {
	char label[80];          /* "uper:0.0.0.0:46800" */
	uint8_t kind;            /* enum listener_kind */
	counter_t received;      /* every datagram, valid or not */
	counter_t decoded;       /* accepted and handed on */
	counter_t dropped;       /* decoded or not, lost because the ring was full */
	counter_t socket_dropped; /* dropped by the kernel before we saw them:
				   * receive buffer full (SO_MEMINFO drops) */
	counter_t rejected[REJECT_REASONS];
};

enum stage {
	STAGE_INGEST = 0,   /* ingest -> fusion ring full */
	STAGE_TRACKS,       /* track table full / unusable position */
	STAGE_PUBLISH,      /* fusion -> publish ring full */
	STAGE_ZMQ,          /* ZeroMQ would block (HWM): message dropped */
	STAGE_MQTT,         /* MQTT refused an event (offline buffer full) */
	STAGE_ADVISORY,     /* advisory ring full or advisory unusable */
	STAGE_COUNT,
};

enum sink {
	SINK_ZMQ_BSM = 0,
	SINK_ZMQ_OBJ,
	SINK_ZMQ_EVT,
	SINK_ZMQ_ADV,
	SINK_MQTT_EVENT,
	SINK_MQTT_STATS,
	SINK_COUNT,
};

const char *counters_stage_name(int stage);
const char *counters_sink_name(int sink);

/* Latency histogram bucket upper bounds in ns (10 us .. 1 s), plus +Inf. */
#define LATENCY_BUCKETS 21
extern const uint64_t latency_bounds_ns[LATENCY_BUCKETS];

struct latency_hist {
	counter_t bucket[LATENCY_BUCKETS + 1]; /* not cumulative; last = +Inf */
	counter_t sum_ns;
	counter_t count;
};

/* latency_record() - add one observation (writer: the publish thread). */
void latency_record(struct latency_hist *h, uint64_t ns);

/*
 * latency_quantile() - estimate of quantile q (0..1) in ns from the
 * buckets (the bucket's upper bound); 0 when empty.
 */
uint64_t latency_quantile(const struct latency_hist *h, double q);

#define COUNTERS_LISTENERS_MAX (2 * CONFIG_LISTENERS_MAX)

/* The broker's own threads whose CPU time is reported
 * (v2x_thread_cpu_seconds_total): the three stage threads, or the one
 * pipeline thread that runs them all. */
enum broker_thread {
	THREAD_INGEST = 0,
	THREAD_FUSION,
	THREAD_PUBLISH,
	THREAD_PIPELINE,
	THREAD_COUNT,
};

const char *counters_thread_name(int thread);

struct broker_counters {
	uint64_t start_realtime_ns;
	int n_listeners;
	struct listener_counters listeners[COUNTERS_LISTENERS_MAX];
	counter_t ingest_io_uring;      /* 1 if io_uring ingest, 0 recvmmsg */
	counter_t ingest_nobufs;        /* io_uring ran out of provided buffers */
	counter_t ingest_batches;       /* completion batches reaped */
	counter_t stage_dropped[STAGE_COUNT];
	counter_t tracks_active;
	counter_t tracks_created, tracks_expired;
	counter_t events_total[V2X_EVT_TYPE_COUNT];
	counter_t tx[SINK_COUNT];
	counter_t mqtt_enabled, mqtt_connected, mqtt_buffered, mqtt_acked;
	counter_t advisories;
	counter_t fusion_samples;
	counter_t sensor_reacquired; /* sensor objects back under a new id */
	counter_t thread_cpu_ns[THREAD_COUNT]; /* CPU time of each thread */
	struct latency_hist latency;
};

/*
 * counters_thread_cpu() - called by thread @thread in its loop: every
 * 100 ms or so (and always with @force, at its end) stores the thread's CPU
 * time in thread_cpu_ns[@thread].  *@next_ns is the caller's, zero at first.
 * Costs a coarse clock read per call, a system call per 100 ms.
 */
void counters_thread_cpu(struct broker_counters *c, int thread,
			 uint64_t *next_ns, int force);

#endif
