/* SPDX-License-Identifier: MIT */
/* counters.c - labels and the latency histogram (see counters.h). */
#include "counters.h"

#include <time.h>

#include "v2x/error.h"

#define COUNTERS_THREAD_CPU_NS 100000000ull

/* Fine where the targets are (sub-millisecond), coarse beyond. */
const uint64_t latency_bounds_ns[LATENCY_BUCKETS] = {
	10000,     20000,     50000,     100000,    150000,     200000,
	300000,    500000,    750000,    1000000,   1500000,    2000000,
	3000000,   5000000,   10000000,  20000000,  50000000,   100000000,
	200000000, 500000000, 1000000000,
};

static const char *const stage_names[STAGE_COUNT] = {
	[STAGE_INGEST] = "ingest",   [STAGE_TRACKS] = "tracks",
	[STAGE_PUBLISH] = "publish", [STAGE_ZMQ] = "zmq",
	[STAGE_MQTT] = "mqtt",       [STAGE_ADVISORY] = "advisory",
};

static const char *const sink_names[SINK_COUNT] = {
	[SINK_ZMQ_BSM] = "zmq_bsm",       [SINK_ZMQ_OBJ] = "zmq_obj",
	[SINK_ZMQ_EVT] = "zmq_evt",       [SINK_ZMQ_ADV] = "zmq_adv",
	[SINK_MQTT_EVENT] = "mqtt_event", [SINK_MQTT_STATS] = "mqtt_stats",
};

/* See counters.h.  Any thread. */
int counters_reason_index(int err)
{
	if (err <= V2X_E_TRUNCATED && err > V2X_E_TRUNCATED - (REJECT_REASONS - 1))
		return V2X_E_TRUNCATED - err;
	return REJECT_REASONS - 1;
}

/* See counters.h.  Any thread; never NULL. */
const char *counters_reason_name(int index)
{
	if (index < 0 || index >= REJECT_REASONS - 1)
		return v2x_errname(-1); /* "system" */
	return v2x_errname(V2X_E_TRUNCATED - index);
}

/* Label of a stage; "?" when out of range.  Any thread. */
const char *counters_stage_name(int stage)
{
	return stage >= 0 && stage < STAGE_COUNT ? stage_names[stage] : "?";
}

static const char *const thread_names[THREAD_COUNT] = {
	[THREAD_INGEST] = "ingest",   [THREAD_FUSION] = "fusion",
	[THREAD_PUBLISH] = "publish", [THREAD_PIPELINE] = "pipeline",
};

/* Label of a thread; "?" when out of range.  Any thread. */
const char *counters_thread_name(int thread)
{
	return thread >= 0 && thread < THREAD_COUNT ? thread_names[thread] : "?";
}

/* See counters.h.  Thread @thread only. */
void counters_thread_cpu(struct broker_counters *c, int thread,
			 uint64_t *next_ns, int force)
{
	struct timespec ts;
	uint64_t now;

	if (thread < 0 || thread >= THREAD_COUNT)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now < *next_ns && !force)
		return;
	*next_ns = now + COUNTERS_THREAD_CPU_NS;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		counter_set(&c->thread_cpu_ns[thread],
			    (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

/* Label of a sink; "?" when out of range.  Any thread. */
const char *counters_sink_name(int sink)
{
	return sink >= 0 && sink < SINK_COUNT ? sink_names[sink] : "?";
}

/* See counters.h.  One writer thread per histogram. */
void latency_record(struct latency_hist *h, uint64_t ns)
{
	int i = 0;

	while (i < LATENCY_BUCKETS && ns > latency_bounds_ns[i])
		i++;
	counter_add(&h->bucket[i], 1);
	counter_add(&h->sum_ns, ns);
	counter_add(&h->count, 1);
}

/* See counters.h.  Any thread. */
uint64_t latency_quantile(const struct latency_hist *h, double q)
{
	uint64_t total = counter_get(&h->count);
	uint64_t acc = 0;

	if (total == 0)
		return 0;
	for (int i = 0; i <= LATENCY_BUCKETS; i++) {
		acc += counter_get(&h->bucket[i]);
		if ((double)acc >= q * (double)total)
			return i < LATENCY_BUCKETS ? latency_bounds_ns[i] : UINT64_MAX;
	}
	return UINT64_MAX;
}
