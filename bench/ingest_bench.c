/* SPDX-License-Identifier: MIT */
/*
 * ingest_bench.c - v2x-ingest-bench: throughput and latency of the broker's
 * UDP ingest, side by side with a bare recvmmsg drain of the same stream in
 * the same run.  A benchmark, not a test: it reports, it does not judge.
 *
 * Per run:
 *  A. bare drain: a sender thread pinned to one core sends pre-encoded UPER
 *     BSMs (many vehicle ids) with sendmmsg at its maximum rate for the
 *     given time to a socket drained by a recvmmsg thread pinned to the
 *     other core;
 *  B. broker: the same sender, the same stream, to a real v2x-broker (its
 *     process pinned to the other core) that ingests, decodes, tracks and
 *     relays (--relay-bsm) to a ZeroMQ subscriber in this process;
 *  C. latency: msgpack BSM frames carrying the send time (CLOCK_REALTIME)
 *     paced at --rate msg/s to the broker; the subscriber computes
 *     receive-time minus ts of every bsm/ relay;
 *  D. the floor: the stream of B, then the paced frames of C, through a
 *     bare relay thread (recvmmsg, zmq_send of each frame as it is) on the
 *     broker's CPU to the same kind of subscriber - what this machine's
 *     kernel, scheduler and ZeroMQ cost any relay, side by side with the
 *     broker.
 * Reported: messages/s, loss, receiver CPU time per message (thread CPU
 * clock for the drain, /proc/<pid>/stat utime+stime for the broker), their
 * ratio, latency p50/p99/p99.9/max; medians over --runs.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "v2x/v2x.h"

#define BATCH 64
#define LAT_ID_BASE 1000000u

struct opts {
	const char *broker;
	double seconds;
	int vehicles;
	double rate;
	double uper_rate; /* throughput phase: 0 = full rate, else paced */
	double lat_seconds;
	int runs;
	int cpu_tx, cpu_rx;
	int rt_priority; /* > 0: broker and subscriber run SCHED_FIFO */
	int json;
	const char *extra[16]; /* --broker-arg, passed to the broker */
	int n_extra;
	const char *trace_dir; /* --trace: every latency sample to CSV files */
	int run;               /* 1-based, for the trace files' names */
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return; /* not pinned: the scheduler decides */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("free_port");
		exit(1);
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- the stream ----------------------------------------------------------- */

struct stream {
	int n;
	uint8_t (*frame)[64];
	size_t *len;
};

static void stream_make(struct stream *s, int vehicles)
{
	s->n = vehicles;
	s->frame = calloc((size_t)vehicles, sizeof(*s->frame));
	s->len = calloc((size_t)vehicles, sizeof(*s->len));
	for (int i = 0; i < vehicles; i++) {
		struct v2x_bsm b = { 0 };
		int r;

		b.id = 0x10000u + (uint32_t)i;
		b.msg_cnt = (uint8_t)(i % 128);
		b.sec_mark = (uint16_t)(i % 60000);
		/* Vehicles spread over about 2 km x 2 km. */
		b.lat = 481000000 + (i % 200) * 900;
		b.lon = 115000000 + (i / 200) * 1300;
		b.elev = 500;
		b.transmission = 2;
		b.speed = (uint16_t)(500 + i % 1000);
		b.heading = (uint16_t)((i * 37) % 28800);
		b.angle = V2X_ANGLE_UNAVAILABLE;
		b.width_cm = 180;
		b.length_cm = 450;
		r = v2x_uper_encode_bsm(&b, s->frame[i], sizeof(s->frame[i]));
		if (r < 0) {
			fprintf(stderr, "encode: %s\n", v2x_strerror(r));
			exit(1);
		}
		s->len[i] = (size_t)r;
	}
}

struct sender {
	struct sockaddr_in dst;
	const struct stream *st;
	double seconds;
	int cpu;
	double rate;      /* 0 = UPER stream; else paced msgpack with ts */
	double uper_rate; /* UPER stream: 0 = as fast as possible, else paced */
	uint64_t sent;
	uint64_t elapsed_ns;
};

/*
 * Paced senders sleep until the next batch is due instead of spinning: a
 * spinning sender would take the CPU it shares with the subscriber and show
 * up as latency that is not the broker's.
 */
static void pace_sleep(uint64_t until_mono_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(until_mono_ns / 1000000000ull),
		.tv_nsec = (long)(until_mono_ns % 1000000000ull),
	};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/*
 * Paced sending: how many frames are due now (at most BATCH), advancing
 * *next past them; 0 after sleeping until the next one is due.
 */
static int pace_due(uint64_t *next, double rate)
{
	uint64_t t = now_ns(CLOCK_MONOTONIC);
	uint64_t period = (uint64_t)(1e9 / rate);
	int n;

	if (t < *next) {
		pace_sleep(*next);
		return 0;
	}
	n = (int)((t - *next) / period) + 1;
	if (n > BATCH)
		n = BATCH;
	*next += (uint64_t)n * period;
	return n;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	static uint8_t mp[BATCH][256];
	uint64_t start, end, next;
	int k = 0, sndbuf = 8 << 20;

	pin(s->cpu);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (struct sockaddr *)&s->dst, sizeof(s->dst)) < 0) {
		perror("connect");
		exit(1);
	}
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < BATCH; i++) {
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_ns(CLOCK_MONOTONIC);
	end = start + (uint64_t)(s->seconds * 1e9);
	next = start;
	while (now_ns(CLOCK_MONOTONIC) < end) {
		int n = BATCH, r;

		if (s->rate > 0) {
			/* Paced: send what is due now, each frame stamped with
			 * the wall clock just before the send. */
			n = pace_due(&next, s->rate);
			if (n == 0)
				continue;
			for (int i = 0; i < n; i++) {
				struct v2x_msg m = { .type = V2X_MSG_BSM };
				int len;

				m.u.bsm.id = LAT_ID_BASE + (uint32_t)(k % 1000);
				m.u.bsm.lat = 481000000 + (k % 1000) * 500;
				m.u.bsm.lon = 115000000;
				m.u.bsm.speed = 500;
				m.u.bsm.heading = 9000;
				m.u.bsm.angle = V2X_ANGLE_UNAVAILABLE;
				m.u.bsm.length_cm = 450;
				m.u.bsm.width_cm = 180;
				m.u.bsm.ts_ns = now_ns(CLOCK_REALTIME);
				len = v2x_msgpack_encode(&m, mp[i], sizeof(mp[i]));
				if (len < 0) {
					fprintf(stderr, "msgpack: %s\n", v2x_strerror(len));
					exit(1);
				}
				iov[i].iov_base = mp[i];
				iov[i].iov_len = (size_t)len;
				k++;
			}
		} else {
			if (s->uper_rate > 0) {
				n = pace_due(&next, s->uper_rate);
				if (n == 0)
					continue;
			}
			for (int i = 0; i < n; i++) {
				int j = k++ % s->st->n;

				iov[i].iov_base = (void *)s->st->frame[j];
				iov[i].iov_len = s->st->len[j];
			}
		}
		r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r > 0)
			s->sent += (uint64_t)r;
		if (s->rate == 0 && s->uper_rate == 0 && r < n)
			k -= n - (r > 0 ? r : 0);
	}
	s->elapsed_ns = now_ns(CLOCK_MONOTONIC) - start;
	close(fd);
	return NULL;
}

/* ---- receivers ------------------------------------------------------------ */

/* recvmmsg vectors over BATCH buffers of their own. */
struct rx_batch {
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	uint8_t buf[BATCH][2048];
};

/*
 * The receiving thread's part: pinned (and SCHED_FIFO at rt_priority > 0),
 * a 200 ms receive timeout on fd so that a stop flag is seen, and the
 * vectors.  NULL if out of memory.
 */
static struct rx_batch *rx_batch_new(int fd, int cpu, int rt_priority)
{
	struct rx_batch *b = calloc(1, sizeof(*b));
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

	pin(cpu);
	if (rt_priority > 0) {
		struct sched_param sp = { .sched_priority = rt_priority };

		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!b)
		return NULL;
	for (int i = 0; i < BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = sizeof(b->buf[i]);
		b->mm[i].msg_hdr.msg_iov = &b->iov[i];
		b->mm[i].msg_hdr.msg_iovlen = 1;
	}
	return b;
}

/* A UDP socket on 127.0.0.1 (port chosen by the kernel, in *a) with a 32 MB
 * receive buffer, as the broker's. */
static int rx_socket(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int rcvbuf = 32 << 20, fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)a, &len) < 0) {
		perror("receiver socket");
		exit(1);
	}
	return fd;
}

/* ---- A: bare recvmmsg drain ----------------------------------------------- */

struct drain {
	int fd, cpu;
	_Atomic int stop;
	uint64_t received, cpu_ns;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	struct rx_batch *b = rx_batch_new(d->fd, d->cpu, 0);
	uint64_t c0;

	if (!b)
		return NULL;
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	while (!atomic_load(&d->stop)) {
		int r = recvmmsg(d->fd, b->mm, BATCH, MSG_WAITFORONE, NULL);

		if (r > 0)
			d->received += (uint64_t)r;
	}
	d->cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	free(b);
	return NULL;
}

struct result {
	double tx_rate, rx_rate, loss_pct, cpu_ns_per_msg;
	uint64_t sent, received;
};

static void run_drain(const struct opts *o, const struct stream *st, struct result *res)
{
	struct drain d = { .cpu = o->cpu_rx };
	struct sender s = { .st = st, .seconds = o->seconds, .cpu = o->cpu_tx,
			    .uper_rate = o->uper_rate };
	pthread_t td, ts;

	d.fd = rx_socket(&s.dst);
	pthread_create(&td, NULL, drain_main, &d);
	usleep(100000);
	pthread_create(&ts, NULL, sender_main, &s);
	pthread_join(ts, NULL);
	usleep(500000);
	atomic_store(&d.stop, 1);
	pthread_join(td, NULL);
	close(d.fd);
	res->sent = s.sent;
	res->received = d.received;
	res->tx_rate = (double)s.sent / ((double)s.elapsed_ns * 1e-9);
	res->rx_rate = (double)d.received / ((double)s.elapsed_ns * 1e-9);
	res->loss_pct = s.sent ? 100.0 * (double)(s.sent - d.received) / (double)s.sent : 0;
	res->cpu_ns_per_msg = d.received ? (double)d.cpu_ns / (double)d.received : 0;
}

/* ---- B, C: the broker ------------------------------------------------------ */

struct sub {
	void *ctx, *sock;
	_Atomic int stop;
	_Atomic uint64_t count;
	uint64_t *lat, *sent; /* latency and send time (CLOCK_REALTIME) */
	size_t n_lat, cap_lat;
	char trace[512];      /* "": no trace file */
	struct v2x_msgpack_decoder *dec;
	int cpu; /* -1: not pinned */
	int rt_priority;
	pthread_t thread;
};

static void *sub_main(void *arg)
{
	struct sub *s = arg;
	uint8_t topic[64], payload[1024];
	struct v2x_msg m;

	/* The rig stays off the broker's CPU: with the sender. */
	pin(s->cpu);
	if (s->rt_priority > 0) {
		struct sched_param sp = { .sched_priority = s->rt_priority };

		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))
			fprintf(stderr, "subscriber: SCHED_FIFO refused\n");
	}

	while (!atomic_load(&s->stop)) {
		int n = zmq_recv(s->sock, topic, sizeof(topic), 0);
		int more = 0;
		size_t ml = sizeof(more);
		uint64_t t;

		if (n < 0)
			continue; /* timeout: check stop */
		zmq_getsockopt(s->sock, ZMQ_RCVMORE, &more, &ml);
		if (!more)
			continue;
		n = zmq_recv(s->sock, payload, sizeof(payload), 0);
		t = now_ns(CLOCK_REALTIME);
		if (n <= 0 || n > (int)sizeof(payload))
			continue;
		atomic_fetch_add(&s->count, 1);
		if (v2x_msgpack_decode(s->dec, payload, (size_t)n, &m) > 0 &&
		    m.type == V2X_MSG_BSM && m.u.bsm.id >= LAT_ID_BASE &&
		    s->n_lat < s->cap_lat) {
			s->sent[s->n_lat] = m.u.bsm.ts_ns;
			s->lat[s->n_lat++] = t > m.u.bsm.ts_ns ? t - m.u.bsm.ts_ns : 0;
		}
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t wait_stable(struct sub *s, double max_s)
{
	uint64_t last = atomic_load(&s->count), t0 = now_ns(CLOCK_MONOTONIC);

	for (;;) {
		usleep(300000);
		uint64_t c = atomic_load(&s->count);

		if (c == last || now_ns(CLOCK_MONOTONIC) - t0 > (uint64_t)(max_s * 1e9))
			return c;
		last = c;
	}
}

/* Latency figures of a paced phase: the subscriber's samples, the sender's count. */
struct lat_result {
	double p50_us, p99_us, p999_us, max_us;
	double rate, loss_pct;
	double cpu_ns_per_msg; /* the floor relay's threads, paced phase */
};

/*
 * A subscriber to bsm/ on ENDPOINT, with its ZeroMQ I/O thread on the
 * sender's CPU (and SCHED_FIFO under --rt-priority), keeping the latency of
 * up to rate * lat_seconds frames.  Runs until sub_close().
 */
static void sub_open(struct sub *s, const struct opts *o, const char *endpoint,
		     const char *label)
{
	int timeout = 200, hwm = 0;

	s->ctx = zmq_ctx_new();
	s->cpu = o->cpu_tx;
	s->rt_priority = o->rt_priority;
	if (o->cpu_tx >= 0)
		zmq_ctx_set(s->ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, o->cpu_tx);
	if (o->rt_priority > 0) {
		zmq_ctx_set(s->ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_FIFO);
		zmq_ctx_set(s->ctx, ZMQ_THREAD_PRIORITY, o->rt_priority);
	}
	s->sock = zmq_socket(s->ctx, ZMQ_SUB);
	zmq_setsockopt(s->sock, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(s->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, "bsm/", 4);
	zmq_connect(s->sock, endpoint);
	s->cap_lat = (size_t)(o->rate * o->lat_seconds) + 1000;
	s->lat = calloc(s->cap_lat, sizeof(*s->lat));
	s->sent = calloc(s->cap_lat, sizeof(*s->sent));
	if (o->trace_dir)
		snprintf(s->trace, sizeof(s->trace), "%.400s/run%d-%s.csv", o->trace_dir,
			 o->run, label);
	s->dec = v2x_msgpack_decoder_new();
	pthread_create(&s->thread, NULL, sub_main, s);
}

/*
 * The samples in arrival order as CSV (send time in microseconds from the
 * first frame, latency in microseconds), for looking at when the slow
 * ones came: in bursts, periodically, or spread out.
 */
static void lat_trace(const struct sub *s)
{
	FILE *f;

	if (!s->trace[0] || !s->n_lat)
		return;
	f = fopen(s->trace, "w");
	if (!f) {
		fprintf(stderr, "%s: %s\n", s->trace, strerror(errno));
		return;
	}
	fprintf(f, "sent_us,latency_us\n");
	for (size_t i = 0; i < s->n_lat; i++)
		fprintf(f, "%.1f,%.1f\n", (double)(s->sent[i] - s->sent[0]) / 1e3,
			(double)s->lat[i] / 1e3);
	fclose(f);
}

static void lat_summarise(struct sub *s, const struct sender *snd, struct lat_result *r)
{
	r->rate = (double)snd->sent / ((double)snd->elapsed_ns * 1e-9);
	r->loss_pct = snd->sent ? 100.0 * (double)(snd->sent - s->n_lat) / (double)snd->sent : 0;
	if (!s->n_lat)
		return;
	lat_trace(s);
	qsort(s->lat, s->n_lat, sizeof(*s->lat), cmp_u64);
	r->p50_us = (double)s->lat[s->n_lat / 2] / 1e3;
	r->p99_us = (double)s->lat[(size_t)((double)s->n_lat * 0.99)] / 1e3;
	r->p999_us = (double)s->lat[(size_t)((double)s->n_lat * 0.999)] / 1e3;
	r->max_us = (double)s->lat[s->n_lat - 1] / 1e3;
}


/* Stops the subscriber; its latency figures against what snd sent go to *r. */
static void sub_close(struct sub *s, const struct sender *snd, struct lat_result *r)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	lat_summarise(s, snd, r);
	zmq_close(s->sock);
	zmq_ctx_term(s->ctx);
	free(s->lat);
	free(s->sent);
	v2x_msgpack_decoder_free(s->dec);
}

/* A paced msgpack sender (the latency phases) to 127.0.0.1:port. */
static void sender_paced(struct sender *snd, const struct opts *o, int port)
{
	memset(snd, 0, sizeof(*snd));
	inet_pton(AF_INET, "127.0.0.1", &snd->dst.sin_addr);
	snd->dst.sin_family = AF_INET;
	snd->dst.sin_port = htons((uint16_t)port);
	snd->seconds = o->lat_seconds;
	snd->rate = o->rate;
	snd->cpu = o->cpu_tx;
}


/* ---- D: the floor - a bare UDP -> ZeroMQ relay ------------------------------ */

struct relay {
	int fd, cpu, rt_priority;
	void *pub;
	_Atomic int stop;
};

/*
 * What any relay on this machine pays: recvmmsg, wake on the first
 * datagram, zmq_send of each as it is (topic bsm/ + the msgpack frame), no
 * batching wait and no processing.  The same sender, subscriber and CPUs as
 * the broker's latency phase, so that the two are side by side.
 */
static void *relay_main(void *arg)
{
	struct relay *rl = arg;
	struct rx_batch *b = rx_batch_new(rl->fd, rl->cpu, rl->rt_priority);
	static const char topic[] = "bsm/floor00";

	if (!b)
		return NULL;
	while (!atomic_load(&rl->stop)) {
		int r = recvmmsg(rl->fd, b->mm, BATCH, MSG_WAITFORONE, NULL);

		for (int i = 0; i < r; i++) {
			zmq_send(rl->pub, topic, sizeof(topic) - 1, ZMQ_SNDMORE);
			zmq_send(rl->pub, b->buf[i], b->mm[i].msg_len, 0);
		}
	}
	free(b);
	return NULL;
}

/* utime + stime in seconds from a /proc .../stat file, 0 if unreadable. */
static double stat_cpu_s(const char *path)
{
	char buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	/* Fields after the command: state is 3rd; utime 14th, stime 15th. */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double proc_cpu_s(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return stat_cpu_s(path);
}

/*
 * CPU time of this process's threads pinned to CPU cpu alone: the relay
 * thread and its ZeroMQ I/O thread (the sender and the subscriber are on
 * the other CPU).
 */
static double pinned_threads_cpu_s(int cpu)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	double sum = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		cpu_set_t set;
		char path[300];
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid <= 0 || sched_getaffinity(tid, sizeof(set), &set) < 0 ||
		    CPU_COUNT(&set) != 1 || !CPU_ISSET(cpu, &set))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
		sum += stat_cpu_s(path);
	}
	closedir(d);
	return sum;
}

static void run_floor(const struct opts *o, const struct stream *st, struct result *thr,
		      struct lat_result *res)
{
	struct sockaddr_in a;
	int zp = free_port(SOCK_STREAM), hwm = 100000;
	struct relay rl = { .cpu = o->cpu_rx, .rt_priority = o->rt_priority };
	struct sub s = { 0 };
	struct sender snd = { .st = st, .cpu = o->cpu_tx, .seconds = o->seconds,
			      .uper_rate = o->uper_rate };
	char ep[48];
	void *ctx = zmq_ctx_new();
	pthread_t tr, ts;
	uint64_t n0, n1;
	double c0, c1;

	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", zp);
	if (o->cpu_rx >= 0)
		zmq_ctx_set(ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, o->cpu_rx);
	if (o->rt_priority > 0) {
		zmq_ctx_set(ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_FIFO);
		zmq_ctx_set(ctx, ZMQ_THREAD_PRIORITY, o->rt_priority);
	}
	rl.pub = zmq_socket(ctx, ZMQ_PUB);
	zmq_setsockopt(rl.pub, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_bind(rl.pub, ep);
	rl.fd = rx_socket(&a);
	pthread_create(&tr, NULL, relay_main, &rl);
	sub_open(&s, o, ep, "floor");
	usleep(500000);

	/* The UPER stream of phase B, at the same rate: what the bare relay
	 * keeps, and its CPU (relay and ZeroMQ I/O threads) per message. */
	snd.dst = a;
	n0 = atomic_load(&s.count);
	c0 = o->cpu_rx >= 0 ? pinned_threads_cpu_s(o->cpu_rx) : 0;
	pthread_create(&ts, NULL, sender_main, &snd);
	pthread_join(ts, NULL);
	n1 = wait_stable(&s, 10);
	c1 = o->cpu_rx >= 0 ? pinned_threads_cpu_s(o->cpu_rx) : 0;
	thr->sent = snd.sent;
	thr->received = n1 - n0;
	thr->tx_rate = (double)snd.sent / ((double)snd.elapsed_ns * 1e-9);
	thr->rx_rate = (double)(n1 - n0) / ((double)snd.elapsed_ns * 1e-9);
	thr->loss_pct = snd.sent ? 100.0 * (double)(snd.sent - (n1 - n0)) / (double)snd.sent : 0;
	thr->cpu_ns_per_msg = n1 > n0 ? (c1 - c0) * 1e9 / (double)(n1 - n0) : 0;

	/* The paced frames of phase C: latency, and CPU per message at that
	 * rate (where wake-ups, not the work per message, dominate). */
	usleep(200000);
	sender_paced(&snd, o, ntohs(a.sin_port));
	n0 = atomic_load(&s.count);
	c0 = o->cpu_rx >= 0 ? pinned_threads_cpu_s(o->cpu_rx) : 0;
	pthread_create(&ts, NULL, sender_main, &snd);
	pthread_join(ts, NULL);
	n1 = wait_stable(&s, 5);
	c1 = o->cpu_rx >= 0 ? pinned_threads_cpu_s(o->cpu_rx) : 0;
	sub_close(&s, &snd, res);
	res->cpu_ns_per_msg = n1 > n0 ? (c1 - c0) * 1e9 / (double)(n1 - n0) : 0;
	atomic_store(&rl.stop, 1);
	pthread_join(tr, NULL);
	close(rl.fd);
	zmq_close(rl.pub);
	zmq_ctx_term(ctx);
}

/* Sum of every sample of a metric family in /metrics, or -1. */
static double metric_sum(int port, const char *name)
{
	static char buf[1 << 18];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
	size_t off = 0, nl = strlen(name);
	double sum = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;
	char *line;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return -1;
	}
	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(fd);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, name, nl) == 0 && (line[nl] == '{' || line[nl] == ' '))
			sum += strtod(strrchr(line, ' ') + 1, NULL);
	return sum;
}

/* The broker's own latency histogram (cumulative buckets) from /metrics. */
#define HB 32
struct hist {
	int n;
	double le[HB], cum[HB];
};

static void hist_read(int port, struct hist *h)
{
	static char buf[1 << 18];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
	const char *key = "v2x_pipeline_latency_seconds_bucket{le=\"";
	size_t off = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;
	char *line;

	h->n = 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, req, strlen(req)) < 0) {
		close(fd);
		return;
	}
	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(fd);
	for (line = strtok(buf, "\n"); line && h->n < HB; line = strtok(NULL, "\n")) {
		if (strncmp(line, key, strlen(key)) != 0)
			continue;
		h->le[h->n] = strncmp(line + strlen(key), "+Inf", 4) == 0
				      ? INFINITY : strtod(line + strlen(key), NULL);
		h->cum[h->n] = strtod(strrchr(line, ' ') + 1, NULL);
		h->n++;
	}
}

/* Upper bound (us) of the bucket holding quantile q of after - before. */
static double hist_quantile_us(const struct hist *b, const struct hist *a, double q)
{
	double total;

	if (a->n == 0 || a->n != b->n)
		return NAN;
	total = a->cum[a->n - 1] - b->cum[b->n - 1];
	for (int i = 0; i < a->n; i++)
		if (total > 0 && a->cum[i] - b->cum[i] >= q * total)
			return a->le[i] * 1e6;
	return NAN;
}

struct broker_run {
	double hist_p50_us, hist_p99_us;
	struct result thr;
	struct lat_result lat;
	double lat_cpu_ns_per_msg; /* broker CPU per message at the paced rate */
	double rx_by_broker, decoded;
};

static int run_broker(const struct opts *o, const struct stream *st, struct broker_run *res)
{
	int up = free_port(SOCK_DGRAM), mp = free_port(SOCK_DGRAM);
	int zp = free_port(SOCK_STREAM), hp = free_port(SOCK_STREAM);
	char a_up[32], a_mp[32], a_z[48], a_h[32];
	struct sub s = { 0 };
	struct sender snd = { .st = st, .cpu = o->cpu_tx };
	pthread_t ts;
	double c0, c1, rx0, dec0;
	uint64_t n0, n1;
	int status;
	pid_t pid;

	snprintf(a_up, sizeof(a_up), "127.0.0.1:%d", up);
	snprintf(a_mp, sizeof(a_mp), "127.0.0.1:%d", mp);
	snprintf(a_z, sizeof(a_z), "tcp://127.0.0.1:%d", zp);
	snprintf(a_h, sizeof(a_h), "127.0.0.1:%d", hp);
	pid = fork();
	if (pid == 0) {
		const char *av[48] = { o->broker, "--udp-uper", a_up, "--udp-msgpack", a_mp,
				       "--zmq-pub", a_z, "--metrics", a_h, "--relay-bsm",
				       "--log-level", "warning" };
		int ac = 12;

		char prio[16];

		for (int i = 0; i < o->n_extra; i++)
			av[ac++] = o->extra[i];
		if (o->rt_priority > 0) {
			snprintf(prio, sizeof(prio), "%d", o->rt_priority);
			av[ac++] = "--rt-priority";
			av[ac++] = prio;
		}
		av[ac] = NULL;
		pin(o->cpu_rx);
		execv(o->broker, (char *const *)av);
		perror(o->broker);
		_exit(127);
	}
	/* The metrics endpoint starts after the listeners are bound. */
	for (int i = 0; i < 600 && metric_sum(hp, "v2x_tracks_active") < 0; i++)
		usleep(50000);
	if (metric_sum(hp, "v2x_tracks_active") < 0) {
		fprintf(stderr, "broker did not start\n");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}

	sub_open(&s, o, a_z, "broker");
	usleep(500000);

	/* B: throughput at the sender's full rate. */
	inet_pton(AF_INET, "127.0.0.1", &snd.dst.sin_addr);
	snd.dst.sin_family = AF_INET;
	snd.dst.sin_port = htons((uint16_t)up);
	snd.seconds = o->seconds;
	snd.uper_rate = o->uper_rate;
	rx0 = metric_sum(hp, "v2x_rx_datagrams_total");
	dec0 = metric_sum(hp, "v2x_rx_decoded_total");
	n0 = atomic_load(&s.count);
	c0 = proc_cpu_s(pid);
	pthread_create(&ts, NULL, sender_main, &snd);
	pthread_join(ts, NULL);
	n1 = wait_stable(&s, 10);
	c1 = proc_cpu_s(pid);
	res->rx_by_broker = metric_sum(hp, "v2x_rx_datagrams_total") - rx0;
	res->decoded = metric_sum(hp, "v2x_rx_decoded_total") - dec0;
	res->thr.sent = snd.sent;
	res->thr.received = n1 - n0;
	res->thr.tx_rate = (double)snd.sent / ((double)snd.elapsed_ns * 1e-9);
	res->thr.rx_rate = (double)(n1 - n0) / ((double)snd.elapsed_ns * 1e-9);
	res->thr.loss_pct = snd.sent ? 100.0 * (double)(snd.sent - (n1 - n0)) / (double)snd.sent : 0;
	res->thr.cpu_ns_per_msg = res->decoded > 0 ? (c1 - c0) * 1e9 / res->decoded : 0;

	/* C: latency at a paced rate, msgpack frames with the send time. */
	usleep(200000);
	struct hist h0, h1;

	hist_read(hp, &h0);
	sender_paced(&snd, o, mp);
	c0 = proc_cpu_s(pid);
	dec0 = metric_sum(hp, "v2x_rx_decoded_total");
	pthread_create(&ts, NULL, sender_main, &snd);
	pthread_join(ts, NULL);
	wait_stable(&s, 5);
	c1 = proc_cpu_s(pid);
	{
		double dec = metric_sum(hp, "v2x_rx_decoded_total") - dec0;

		res->lat_cpu_ns_per_msg = dec > 0 ? (c1 - c0) * 1e9 / dec : 0;
	}
	hist_read(hp, &h1);
	res->hist_p50_us = hist_quantile_us(&h0, &h1, 0.5);
	res->hist_p99_us = hist_quantile_us(&h0, &h1, 0.99);
	sub_close(&s, &snd, &res->lat);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fputs("usage: v2x-ingest-bench [--broker PATH] [--seconds S] [--vehicles N]\n"
	      "                        [--rate MSG_PER_S] [--latency-seconds S] [--runs N]\n"
	      "                        [--cpu-sender N] [--cpu-receiver N] [--json]\n"
	      "                        [--uper-rate MSG_PER_S] [--rt-priority N]\n"
	      "                        [--broker-arg ARG]... [--trace DIR]\n"
	      "Throughput at the sender's full rate (UPER BSMs, sendmmsg) into a bare\n"
	      "recvmmsg drain and into v2x-broker (--relay-bsm, ZeroMQ subscriber), then\n"
	      "receive -> subscriber latency at a paced rate (msgpack frames with ts),\n"
	      "and the same through a bare recvmmsg -> ZeroMQ relay (the floor).\n"
	      "Defaults: broker next to this program (../broker/v2x-broker), 3 s,\n"
	      "10000 vehicles, 100000 msg/s for 3 s, 3 runs, sender on CPU 0,\n"
	      "receivers on CPU 1 (-1: not pinned).  Prints medians over the runs.\n"
	      "--uper-rate paces the throughput phase (both receivers) instead of\n"
	      "sending at the sender's full rate: to find the rate the broker keeps\n"
	      "without loss, and its CPU per message there.  --rt-priority N runs the\n"
	      "broker (its --rt-priority) and this program's subscriber SCHED_FIFO\n"
	      "(root), so that other work on the machine does not show as latency.\n"
	      "--trace DIR writes every latency sample of each run, in arrival order,\n"
	      "to DIR/runN-broker.csv and DIR/runN-floor.csv (sent_us,latency_us).\n", f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' },
		{ "vehicles", required_argument, NULL, 'v' },
		{ "rate", required_argument, NULL, 'r' },
		{ "uper-rate", required_argument, NULL, 'u' },
		{ "rt-priority", required_argument, NULL, 'p' },
		{ "latency-seconds", required_argument, NULL, 'l' },
		{ "runs", required_argument, NULL, 'n' },
		{ "cpu-sender", required_argument, NULL, 't' },
		{ "cpu-receiver", required_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "broker-arg", required_argument, NULL, 'a' },
		{ "trace", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .seconds = 3, .vehicles = 10000, .rate = 100000,
			  .lat_seconds = 3, .runs = 3, .cpu_tx = 0, .cpu_rx = 1 };
	static char broker_path[4096];
	struct stream st;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o.broker = optarg; break;
		case 's': o.seconds = atof(optarg); break;
		case 'v': o.vehicles = atoi(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 'u': o.uper_rate = atof(optarg); break;
		case 'p': o.rt_priority = atoi(optarg); break;
		case 'l': o.lat_seconds = atof(optarg); break;
		case 'n': o.runs = atoi(optarg); break;
		case 't': o.cpu_tx = atoi(optarg); break;
		case 'x': o.cpu_rx = atoi(optarg); break;
		case 'j': o.json = 1; break;
		case 'T': o.trace_dir = optarg; break;
		case 'a':
			if (o.n_extra == 16) {
				usage(stderr);
				return 2;
			}
			o.extra[o.n_extra++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.runs < 1 || o.runs > 50 || o.vehicles < 1 || o.seconds <= 0 ||
	    o.rate <= 0 || o.lat_seconds <= 0) {
		usage(stderr);
		return 2;
	}
	if (!o.broker) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash;

		if (n < 0)
			return 1;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(broker_path, sizeof(broker_path), "%.4000s/../broker/v2x-broker", self);
		o.broker = broker_path;
	}
	signal(SIGPIPE, SIG_IGN);
	stream_make(&st, o.vehicles);

	{
		double d_tx[50], d_rx[50], d_loss[50], d_cpu[50];
		double b_tx[50], b_rx[50], b_loss[50], b_cpu[50], ratio[50];
		double l50[50], l99[50], l999[50], lmax[50], lrate[50], lloss[50], lcpu[50];
		double r_tx[50], r_rx[50], r_loss[50], r_cpu[50];
		double h50[50], h99[50], f50[50], f99[50], f999[50], fmax[50], floss[50], fcpu[50];
		int b_under_1ms = 0, f_under_1ms = 0;

		for (int r = 0; r < o.runs; r++) {
			struct result dr;
			struct broker_run br = { 0 };
			struct lat_result fl = { 0 };
			struct result ft = { 0 };
			int rc;

			o.run = r + 1;
			run_drain(&o, &st, &dr);
			rc = run_broker(&o, &st, &br);
			run_floor(&o, &st, &ft, &fl);
			r_tx[r] = ft.tx_rate;
			r_rx[r] = ft.rx_rate;
			r_loss[r] = ft.loss_pct;
			r_cpu[r] = ft.cpu_ns_per_msg;
			f50[r] = fl.p50_us;
			f99[r] = fl.p99_us;
			f999[r] = fl.p999_us;
			fmax[r] = fl.max_us;
			floss[r] = fl.loss_pct;
			fcpu[r] = fl.cpu_ns_per_msg;
			b_under_1ms += br.lat.p99_us < 1000;
			f_under_1ms += fl.p99_us < 1000;
			d_tx[r] = dr.tx_rate;
			d_rx[r] = dr.rx_rate;
			d_loss[r] = dr.loss_pct;
			d_cpu[r] = dr.cpu_ns_per_msg;
			b_tx[r] = br.thr.tx_rate;
			b_rx[r] = br.thr.rx_rate;
			b_loss[r] = br.thr.loss_pct;
			b_cpu[r] = br.thr.cpu_ns_per_msg;
			ratio[r] = dr.cpu_ns_per_msg > 0 ? br.thr.cpu_ns_per_msg / dr.cpu_ns_per_msg : 0;
			l50[r] = br.lat.p50_us;
			l99[r] = br.lat.p99_us;
			l999[r] = br.lat.p999_us;
			lmax[r] = br.lat.max_us;
			lrate[r] = br.lat.rate;
			lcpu[r] = br.lat_cpu_ns_per_msg;
			lloss[r] = br.lat.loss_pct;
			fprintf(stderr,
				"run %d: drain %.0f/%.0f msg/s loss %.2f%% %.0f ns/msg | broker "
				"%.0f/%.0f msg/s loss %.2f%% (kernel->broker %.0f of %llu, decoded %.0f) "
				"%.0f ns/msg | ratio %.2f | latency @%.0f msg/s p50 %.0f us p99 %.0f "
				"us p99.9 %.0f us max %.0f us, lost %.3f%%, broker CPU %.0f ns/msg; broker's own histogram "
				"(kernel rx -> zmq_send) p50 <= %.0f us p99 <= %.0f us | broker exit %d | "
				"floor (bare recvmmsg -> ZeroMQ relay) %.0f/%.0f msg/s loss %.2f%% %.0f ns/msg, "
				"latency p50 %.0f us p99 %.0f us p99.9 %.0f us "
				"max %.0f us, lost %.3f%%, relay CPU %.0f ns/msg\n",
				r + 1, dr.tx_rate, dr.rx_rate, dr.loss_pct, dr.cpu_ns_per_msg,
				br.thr.tx_rate, br.thr.rx_rate, br.thr.loss_pct, br.rx_by_broker,
				(unsigned long long)br.thr.sent, br.decoded, br.thr.cpu_ns_per_msg,
				ratio[r], br.lat.rate, br.lat.p50_us, br.lat.p99_us, br.lat.p999_us,
				br.lat.max_us, lloss[r], br.lat_cpu_ns_per_msg, br.hist_p50_us,
				br.hist_p99_us, rc, ft.tx_rate, ft.rx_rate, ft.loss_pct,
				ft.cpu_ns_per_msg, fl.p50_us, fl.p99_us, fl.p999_us, fl.max_us, fl.loss_pct,
				fl.cpu_ns_per_msg);
			h50[r] = br.hist_p50_us;
			h99[r] = br.hist_p99_us;
		}
		if (o.json) {
			printf("{\"runs\":%d,\"vehicles\":%d,\"seconds\":%g,"
			       "\"drain\":{\"tx_msg_s\":%.0f,\"rx_msg_s\":%.0f,\"loss_pct\":%.3f,"
			       "\"cpu_ns_per_msg\":%.1f},"
			       "\"broker\":{\"tx_msg_s\":%.0f,\"rx_msg_s\":%.0f,\"loss_pct\":%.3f,"
			       "\"cpu_ns_per_msg\":%.1f},\"cpu_ratio\":%.2f,"
			       "\"latency\":{\"rate_msg_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,"
			       "\"p999_us\":%.0f,\"max_us\":%.0f,\"loss_pct\":%.3f,"
			       "\"broker_cpu_ns_per_msg\":%.1f,"
			       "\"broker_hist_p50_us\":%.0f,\"broker_hist_p99_us\":%.0f},"
			       "\"floor\":{\"tx_msg_s\":%.0f,\"rx_msg_s\":%.0f,\"loss_pct\":%.3f,"
			       "\"cpu_ns_per_msg\":%.1f,\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,"
			       "\"max_us\":%.0f,\"loss_pct\":%.3f,\"paced_cpu_ns_per_msg\":%.1f},"
			       "\"runs_p99_under_1ms\":{\"broker\":%d,\"floor\":%d}}\n",
			       o.runs, o.vehicles, o.seconds, median(d_tx, o.runs),
			       median(d_rx, o.runs), median(d_loss, o.runs), median(d_cpu, o.runs),
			       median(b_tx, o.runs), median(b_rx, o.runs), median(b_loss, o.runs),
			       median(b_cpu, o.runs), median(ratio, o.runs), median(lrate, o.runs),
			       median(l50, o.runs), median(l99, o.runs), median(l999, o.runs),
			       median(lmax, o.runs), median(lloss, o.runs), median(lcpu, o.runs),
			       median(h50, o.runs), median(h99, o.runs), median(r_tx, o.runs),
			       median(r_rx, o.runs), median(r_loss, o.runs), median(r_cpu, o.runs),
			       median(f50, o.runs),
			       median(f99, o.runs), median(f999, o.runs), median(fmax, o.runs),
			       median(floss, o.runs), median(fcpu, o.runs), b_under_1ms, f_under_1ms);
		} else {
			if (o.uper_rate > 0)
				printf("medians of %d runs, %d vehicles, %g s paced at %.0f msg/s:\n",
				       o.runs, o.vehicles, o.seconds, o.uper_rate);
			else
				printf("medians of %d runs, %d vehicles, %g s at full rate:\n",
				       o.runs, o.vehicles, o.seconds);
			printf("  %-22s %12s %12s %8s %12s\n", "", "sent msg/s", "recv msg/s",
			       "loss %", "CPU ns/msg");
			printf("  %-22s %12.0f %12.0f %8.3f %12.1f\n", "bare recvmmsg drain",
			       median(d_tx, o.runs), median(d_rx, o.runs), median(d_loss, o.runs),
			       median(d_cpu, o.runs));
			printf("  %-22s %12.0f %12.0f %8.3f %12.1f\n", "v2x-broker -> ZeroMQ",
			       median(b_tx, o.runs), median(b_rx, o.runs), median(b_loss, o.runs),
			       median(b_cpu, o.runs));
			printf("  %-22s %12.0f %12.0f %8.3f %12.1f\n", "bare relay -> ZeroMQ",
			       median(r_tx, o.runs), median(r_rx, o.runs), median(r_loss, o.runs),
			       median(r_cpu, o.runs));
			printf("  broker/drain CPU per message: %.2f\n", median(ratio, o.runs));
			printf("latency receive -> ZeroMQ subscriber at %.0f msg/s: p50 %.0f us, "
			       "p99 %.0f us, p99.9 %.0f us, max %.0f us, lost %.3f%%\n",
			       median(lrate, o.runs), median(l50, o.runs), median(l99, o.runs),
			       median(l999, o.runs), median(lmax, o.runs), median(lloss, o.runs));
			printf("broker CPU per message at that paced rate (msgpack): %.1f ns\n",
			       median(lcpu, o.runs));
			printf("broker's own histogram, kernel receive -> zmq_send: p50 <= %.0f us, "
			       "p99 <= %.0f us (bucket bounds)\n", median(h50, o.runs),
			       median(h99, o.runs));
			printf("floor, a bare recvmmsg -> ZeroMQ relay on the broker's CPU, same "
			       "sender and subscriber: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, "
			       "max %.0f us, lost %.3f%%\n", median(f50, o.runs), median(f99, o.runs),
			       median(f999, o.runs), median(fmax, o.runs), median(floss, o.runs));
			printf("floor CPU per message at that paced rate (relay + its ZeroMQ I/O "
			       "thread): %.1f ns\n", median(fcpu, o.runs));
			printf("runs with p99 under 1 ms: broker %d of %d, floor %d of %d\n",
			       b_under_1ms, o.runs, f_under_1ms, o.runs);
		}
	}
	return 0;
}
