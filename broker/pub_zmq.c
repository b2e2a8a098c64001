/* SPDX-License-Identifier: MIT */
/* pub_zmq.c - ZeroMQ publisher thread (see pub_zmq.h). */
#include "pub_zmq.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "advisory.h"
#include "fusion.h"
#include "geohash.h"
#include "log.h"
#include "pub_mqtt.h"
#include "v2x/v2x.h"
#include "wire.h"

#define ADV_SLOTS 256
#define ADV_TOPIC_MAX 200
#define ADV_PAYLOAD_MAX 4000
#define PUB_BATCH 64
#define PUB_WAIT_NS 100000000ull

struct adv_slot {
	uint32_t len;
	char topic[ADV_TOPIC_MAX];
	uint8_t payload[ADV_PAYLOAD_MAX];
};

struct pub_zmq {
	void *ctx, *sock;
	struct ring *in;
	struct ring adv;
	struct broker_counters *cnt;
	struct pub_mqtt *mqtt;
	int json;
	int stats_interval_s;
	char rsu_id[64];
	char default_cell[8];
	uint8_t scratch[4096];
	uint8_t scratch2[4096];

	/* Timers, monotonic ns. */
	uint64_t next_status, next_stats;
	/* Single pipeline: the wait to end when an advisory arrives. */
	void (*_Atomic waker)(void *ctx);
	void *_Atomic waker_ctx;

	pthread_t thread;
	int started;
	_Atomic int stop;
};

static uint64_t pz__real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t pz__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sends topic + payload without blocking.  Returns 0 or -EAGAIN / -errno. */
static int pz__send(struct pub_zmq *pz, const char *topic, size_t tlen,
		    const void *payload, size_t len)
{
	if (zmq_send(pz->sock, topic, tlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -zmq_errno();
	/* A multipart message is queued whole: the second frame cannot fail
	 * for the high-water mark once the first went in. */
	if (zmq_send(pz->sock, payload, len, ZMQ_DONTWAIT) < 0)
		return -zmq_errno();
	return 0;
}

static void pz__out(struct pub_zmq *pz, int sink, const char *topic, size_t tlen,
		    const void *payload, size_t len, uint64_t rx_ns)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10);
	int r = pz__send(pz, topic, tlen, payload, len);

	if (r < 0) {
		counter_add_1w(&pz->cnt->stage_dropped[STAGE_ZMQ], 1);
		if (r != -EAGAIN)
			log_ratelimited(&rl, LOG_LVL_WARN, "zmq send: %s", zmq_strerror(-r));
		return;
	}
	counter_add_1w(&pz->cnt->tx[sink], 1);
	if (rx_ns) {
		uint64_t now = pz__real_ns();

		latency_record(&pz->cnt->latency, now > rx_ns ? now - rx_ns : 0);
	}
}

static void pz__event(struct pub_zmq *pz, const struct pub_slot *s)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10);
	struct v2x_msg msg;
	int n;

	memset(&msg, 0, sizeof(msg));
	msg.type = V2X_MSG_EVENT;
	msg.u.event = s->u.event;
	n = v2x_msgpack_encode(&msg, pz->scratch, sizeof(pz->scratch));
	if (n < 0) {
		log_ratelimited(&rl, LOG_LVL_WARN, "event %llu not encodable: %s",
				(unsigned long long)s->u.event.id, v2x_strerror(n));
		return;
	}
	pz__out(pz, SINK_ZMQ_EVT, s->topic, s->topic_len, pz->scratch, (size_t)n,
		s->rx_ns);
	if (!pz->mqtt)
		return;
	if (pz->json) {
		n = v2x_msg_to_json(&msg, (char *)pz->scratch2, sizeof(pz->scratch2));
		if (n < 0)
			return;
	} else {
		memcpy(pz->scratch2, pz->scratch, (size_t)n);
	}
	n = pub_mqtt_publish_event(pz->mqtt, v2x_event_type_name(msg.u.event.type)
				   ? v2x_event_type_name(msg.u.event.type) : "unknown",
				   pz->scratch2, (size_t)n);
	if (n < 0)
		counter_add_1w(&pz->cnt->stage_dropped[STAGE_MQTT], 1);
	else
		counter_add_1w(&pz->cnt->tx[SINK_MQTT_EVENT], 1);
}

static void pz__advisories(struct pub_zmq *pz)
{
	struct adv_slot *a;
	char cell[8], topic[16];
	int n;

	while (ring_cons_avail(&pz->adv, 1)) {
		a = ring_cons_slot(&pz->adv, 0);
		n = advisory_prepare(a->payload, a->len, pz->default_cell, pz->scratch,
				     sizeof(pz->scratch), cell);
		if (n < 0) {
			counter_add_1w(&pz->cnt->stage_dropped[STAGE_ADVISORY], 1);
			log_warn("advisory on %s dropped: %s", a->topic, v2x_strerror(n));
		} else {
			int tl = snprintf(topic, sizeof(topic), "adv/%s", cell);

			pz__out(pz, SINK_ZMQ_ADV, topic, (size_t)tl, pz->scratch,
				(size_t)n, 0);
		}
		ring_cons_release(&pz->adv, 1);
	}
}

static void pz__mqtt_status(struct pub_zmq *pz)
{
	struct pub_mqtt_stats st;

	if (!pz->mqtt)
		return;
	pub_mqtt_get_stats(pz->mqtt, &st);
	counter_set(&pz->cnt->mqtt_connected, (uint64_t)pub_mqtt_connected(pz->mqtt));
	counter_set(&pz->cnt->mqtt_buffered, pub_mqtt_buffered(pz->mqtt));
	counter_set(&pz->cnt->mqtt_acked, st.acked);
	counter_set(&pz->cnt->advisories, st.advisories);
}

static void pz__stats(struct pub_zmq *pz)
{
	int n;

	if (!pz->mqtt)
		return;
	n = pub_stats_render(pz->cnt, pz->rsu_id, pz->json, pz->scratch,
			     sizeof(pz->scratch));
	if (n < 0)
		return;
	if (pub_mqtt_publish_stats(pz->mqtt, pz->scratch, (size_t)n) == 0)
		counter_add_1w(&pz->cnt->tx[SINK_MQTT_STATS], 1);
}

/*
 * One batch: up to PUB_BATCH publish slots, the advisories waiting and the
 * timers that are due.  Returns the number of slots published.
 */
static uint32_t pz__batch(struct pub_zmq *pz)
{
	uint32_t n = ring_cons_avail(pz->in, PUB_BATCH);
	uint64_t now;

	for (uint32_t i = 0; i < n; i++) {
		const struct pub_slot *s = ring_cons_slot(pz->in, i);

		switch (s->kind) {
		case PUB_BSM:
			pz__out(pz, SINK_ZMQ_BSM, s->topic, s->topic_len, s->u.payload,
				s->len, s->rx_ns);
			break;
		case PUB_OBJ:
			pz__out(pz, SINK_ZMQ_OBJ, s->topic, s->topic_len, s->u.payload,
				s->len, s->rx_ns);
			break;
		case PUB_EVENT:
			pz__event(pz, s);
			break;
		default:
			break;
		}
	}
	if (n)
		ring_cons_release(pz->in, n);
	if (ring_count(&pz->adv))
		pz__advisories(pz);
	now = pz__mono_ns();
	if (now >= pz->next_status) {
		pz__mqtt_status(pz);
		pz->next_status = now + 500000000ull;
	}
	if (pz->stats_interval_s > 0 && now >= pz->next_stats) {
		pz__stats(pz);
		pz->next_stats = now + (uint64_t)pz->stats_interval_s * 1000000000ull;
	}
	return n;
}

static void *pz__thread(void *arg)
{
	struct pub_zmq *pz = arg;
	uint64_t cpu_next = 0;

	pthread_setname_np(pthread_self(), "v2x-publish");
	for (;;) {
		counters_thread_cpu(pz->cnt, THREAD_PUBLISH, &cpu_next, 0);
		if (pz__batch(pz))
			continue;
		if (atomic_load(&pz->stop) && ring_count(pz->in) == 0)
			break;
		ring_wait(pz->in, PUB_WAIT_NS);
	}
	pz__mqtt_status(pz);
	counters_thread_cpu(pz->cnt, THREAD_PUBLISH, &cpu_next, 1);
	return NULL;
}

/* See pub_zmq.h.  The single pipeline thread. */
uint64_t pub_zmq_step(struct pub_zmq *pz)
{
	uint64_t next;

	while (pz__batch(pz) == PUB_BATCH)
		;
	next = pz->next_status;
	if (pz->stats_interval_s > 0 && pz->next_stats < next)
		next = pz->next_stats;
	return next;
}

/* See pub_zmq.h.  Main thread, after the last pub_zmq_step(). */
void pub_zmq_finish(struct pub_zmq *pz)
{
	pz__mqtt_status(pz);
}

/* See pub_zmq.h.  Main thread. */
void pub_zmq_set_waker(struct pub_zmq *pz, void (*fn)(void *ctx), void *ctx)
{
	atomic_store_explicit(&pz->waker_ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&pz->waker, fn, memory_order_release);
}

/* See pub_zmq.h.  Paho's thread only. */
void pub_zmq_on_advisory(void *ctx, const char *topic, const void *payload,
			 size_t len)
{
	struct pub_zmq *pz = ctx;
	struct adv_slot *a;
	size_t tl = strlen(topic);

	if (len > ADV_PAYLOAD_MAX || ring_prod_avail(&pz->adv, 1) == 0) {
		counter_add(&pz->cnt->stage_dropped[STAGE_ADVISORY], 1);
		return;
	}
	a = ring_prod_slot(&pz->adv, 0);
	if (tl >= sizeof(a->topic))
		tl = sizeof(a->topic) - 1;
	memcpy(a->topic, topic, tl);
	a->topic[tl] = '\0';
	memcpy(a->payload, payload, len);
	a->len = (uint32_t)len;
	ring_prod_commit(&pz->adv, 1);
	/* The publish thread sleeps on its main ring (the single pipeline
	 * thread in its ingest wait): wake it so that the advisory goes out at
	 * once. */
	ring_notify(pz->in);
	{
		void (*fn)(void *) = atomic_load_explicit(&pz->waker, memory_order_acquire);

		if (fn)
			fn(atomic_load_explicit(&pz->waker_ctx, memory_order_relaxed));
	}
}

/* See pub_zmq.h. */
struct pub_zmq *pub_zmq_new(const struct broker_config *cfg, struct ring *in,
			    struct broker_counters *cnt, char *err, size_t errlen)
{
	struct pub_zmq *pz = calloc(1, sizeof(*pz));
	int hwm = cfg->zmq_sndhwm, one = 1, linger = 1000;

	if (!pz) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pz->in = in;
	pz->cnt = cnt;
	pz->json = cfg->mqtt_json;
	pz->stats_interval_s = cfg->stats_interval_s;
	snprintf(pz->rsu_id, sizeof(pz->rsu_id), "%s", cfg->rsu_id);
	if (cfg->adv_default_cell[0]) {
		memcpy(pz->default_cell, cfg->adv_default_cell, 7);
		pz->default_cell[7] = '\0';
	} else if (cfg->has_ref) {
		geohash_encode(cfg->ref_lat, cfg->ref_lon, 7, pz->default_cell);
	}
	if (in->slot_size < sizeof(struct pub_slot) ||
	    ring_init(&pz->adv, ADV_SLOTS, sizeof(struct adv_slot)) < 0) {
		snprintf(err, errlen, "publish: ring setup failed");
		goto fail;
	}
	pz->ctx = zmq_ctx_new();
	if (!pz->ctx) {
		snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (cfg->rt_priority > 0) {
		/* Before the first socket, which starts the I/O thread.  libzmq
		 * aborts if it may not apply them: main.c checked that it may. */
		zmq_ctx_set(pz->ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_FIFO);
		zmq_ctx_set(pz->ctx, ZMQ_THREAD_PRIORITY, cfg->rt_priority);
	} else if (cfg->pipeline == CONFIG_PIPELINE_SINGLE) {
		/*
		 * One CPU for the pipeline thread and ZeroMQ's I/O thread: the
		 * first message of a batch wakes the I/O thread, which would
		 * preempt the pipeline thread there and then, send that one
		 * message and sleep again, many times per batch.  As a batch
		 * thread it is woken without preempting, and runs when the
		 * pipeline waits: a send per batch.  Measured at 200,000 msg/s
		 * paced (3 alternating runs each): broker CPU per message
		 * 2.74-2.95 us against 2.99-3.81 us, p99 latency 3-12 ms
		 * against 15-16 ms.  Needs no privilege.
		 */
		zmq_ctx_set(pz->ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_BATCH);
	}
	pz->sock = zmq_socket(pz->ctx, ZMQ_PUB);
	if (!pz->sock) {
		snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	zmq_setsockopt(pz->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(pz->sock, ZMQ_XPUB_NODROP, &one, sizeof(one));
	zmq_setsockopt(pz->sock, ZMQ_LINGER, &linger, sizeof(linger));
	/* Status at once, stats one period from now. */
	pz->next_status = 0;
	pz->next_stats = pz__mono_ns() + (uint64_t)pz->stats_interval_s * 1000000000ull;
	if (zmq_bind(pz->sock, cfg->zmq_pub) < 0) {
		snprintf(err, errlen, "zmq bind %s: %s", cfg->zmq_pub,
			 zmq_strerror(zmq_errno()));
		goto fail;
	}
	return pz;
fail:
	pub_zmq_free(pz);
	return NULL;
}

/* See pub_zmq.h. */
void pub_zmq_set_mqtt(struct pub_zmq *pz, struct pub_mqtt *pm)
{
	pz->mqtt = pm;
	counter_set(&pz->cnt->mqtt_enabled, pm != NULL);
}

/* See pub_zmq.h. */
int pub_zmq_start(struct pub_zmq *pz)
{
	int r;

	r = pthread_create(&pz->thread, NULL, pz__thread, pz);

	if (r)
		return -r;
	pz->started = 1;
	return 0;
}

/* See pub_zmq.h. */
void pub_zmq_stop(struct pub_zmq *pz)
{
	if (!pz || !pz->started)
		return;
	atomic_store(&pz->stop, 1);
	pthread_join(pz->thread, NULL);
	pz->started = 0;
}

/* See pub_zmq.h. */
void pub_zmq_free(struct pub_zmq *pz)
{
	if (!pz)
		return;
	pub_zmq_stop(pz);
	if (pz->sock)
		zmq_close(pz->sock);
	if (pz->ctx)
		zmq_ctx_term(pz->ctx);
	ring_fini(&pz->adv);
	free(pz);
}

static uint64_t pz__sum_listeners(const struct broker_counters *c, int what)
{
	uint64_t sum = 0;

	for (int i = 0; i < c->n_listeners; i++) {
		const struct listener_counters *l = &c->listeners[i];

		if (what == 0)
			sum += counter_get(&l->received);
		else if (what == 1)
			sum += counter_get(&l->decoded);
		else if (what == 2)
			sum += counter_get(&l->dropped);
		else
			for (int k = 0; k < REJECT_REASONS; k++)
				sum += counter_get(&l->rejected[k]);
	}
	return sum;
}

/* See pub_zmq.h. */
int pub_stats_render(const struct broker_counters *c, const char *rsu_id,
		     int json, uint8_t *buf, size_t cap)
{
	uint64_t ev = 0, tx = 0, drops = 0;
	uint64_t vals[11];
	static const char *const keys[11] = {
		"ts", "rx", "decoded", "rejected", "rx_dropped", "stage_dropped",
		"tracks", "events", "tx", "mqtt_buffered", "latency_p99_us",
	};

	for (int i = 0; i < V2X_EVT_TYPE_COUNT; i++)
		ev += counter_get(&c->events_total[i]);
	for (int i = 0; i < SINK_COUNT; i++)
		tx += counter_get(&c->tx[i]);
	for (int i = 0; i < STAGE_COUNT; i++)
		drops += counter_get(&c->stage_dropped[i]);
	vals[0] = pz__real_ns();
	vals[1] = pz__sum_listeners(c, 0);
	vals[2] = pz__sum_listeners(c, 1);
	vals[3] = pz__sum_listeners(c, 3);
	vals[4] = pz__sum_listeners(c, 2);
	vals[5] = drops;
	vals[6] = counter_get(&c->tracks_active);
	vals[7] = ev;
	vals[8] = tx;
	vals[9] = counter_get(&c->mqtt_buffered);
	vals[10] = latency_quantile(&c->latency, 0.99) / 1000;

	if (json) {
		size_t off = 0;
		int n = snprintf((char *)buf, cap, "{\"t\":\"stats\",\"rsu\":\"%s\"", rsu_id);

		if (n < 0 || (size_t)n >= cap)
			return V2X_E_NOSPACE;
		off = (size_t)n;
		for (int i = 0; i < 11; i++) {
			n = snprintf((char *)buf + off, cap - off, ",\"%s\":%llu", keys[i],
				     (unsigned long long)vals[i]);
			if (n < 0 || (size_t)n >= cap - off)
				return V2X_E_NOSPACE;
			off += (size_t)n;
		}
		if (off + 2 > cap)
			return V2X_E_NOSPACE;
		buf[off++] = '}';
		buf[off] = '\0';
		return (int)off;
	} else {
		struct mp_buf b;

		mp_init(&b, buf, cap);
		mp_map(&b, 13);
		mp_str(&b, "t");
		mp_str(&b, "stats");
		mp_str(&b, "rsu");
		mp_str(&b, rsu_id);
		for (int i = 0; i < 11; i++) {
			mp_str(&b, keys[i]);
			mp_uint(&b, vals[i]);
		}
		return mp_finish(&b);
	}
}
