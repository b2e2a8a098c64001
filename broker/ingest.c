/* SPDX-License-Identifier: MIT */
/* ingest.c - UDP ingest with io_uring multishot recvmsg (see ingest.h). */
#include "ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "v2x/v2x.h"

#define INGEST_BGID 7     /* provided-buffer group id */
#define INGEST_MMSG 64    /* datagrams per recvmmsg() in the fallback */
#define INGEST_WAIT_NS 100000000ll /* stop flag checked this often */
#define INGEST_WAKE_TAG UINT64_MAX /* user_data of the wake-up poll */
#define INGEST_SOCKSTAT_NS 100000000ull /* kernel drop counts read this often */

struct ingest_listener {
	int fd;
	int kind;     /* enum listener_kind */
	int counter;  /* index in broker_counters.listeners */
	int rearm;    /* multishot ended: submit a new one */
	uint32_t drops_seen; /* the socket's kernel drop count last read */
};

struct ingest {
	struct ring *out;
	struct broker_counters *cnt;
	struct ingest_listener lis[COUNTERS_LISTENERS_MAX];
	int n_lis;
	struct v2x_msgpack_decoder *dec;

	int use_uring;
	char fallback_reason[160];

	/* io_uring path */
	struct io_uring uring;
	int uring_ready;
	struct io_uring_buf_ring *br;
	size_t br_len;
	int br_registered;
	unsigned char *bufs;
	size_t bufs_len;
	uint32_t n_bufs, buf_size;
	unsigned batch_min;      /* completions to wait for under load */
	long long batch_wait_ns; /* ... or this long */
	struct msghdr msgh; /* layout of name/control in provided buffers */

	/* recvmmsg path */
	struct mmsghdr *mm;
	struct iovec *iov;
	unsigned char *mm_bufs, *mm_ctrl;

	/* Ring slots of the batch being reaped. */
	uint32_t slots_avail, slots_used;

	int deferred;    /* io_uring with DEFER_TASKRUN, created disabled */
	int enabled;     /* ... and enabled by the polling thread */
	uint32_t mm_buf_size;

	int wake_fd;     /* eventfd: ingest_wake() ends a wait early */
	int wake_rearm;  /* io_uring: the multishot poll on wake_fd ended */
	int busy;        /* the last wait returned datagrams */
	uint64_t next_sockstat; /* CLOCK_MONOTONIC_COARSE ns */

	pthread_t thread;
	int started;
	_Atomic int stop;
};

#define CTRL_LEN CMSG_SPACE(sizeof(struct timespec))

static void ingest__err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ingest__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t ingest__realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* See ingest.h.  Any thread (dec is per thread). */
int ingest_decode(int kind, struct v2x_msgpack_decoder *dec, const uint8_t *buf,
		  size_t len, struct v2x_msg *msg)
{
	struct v2x_frame_info info;
	int r;

	if (kind == LISTENER_UPER) {
		r = v2x_frame_unwrap(buf, len, V2X_FRAMING_AUTO, &info);
		if (r < 0)
			return r;
		r = v2x_uper_decode_bsm(buf + info.offset, info.length, &msg->u.bsm);
		if (r < 0)
			return r;
		if ((size_t)r != info.length)
			return V2X_E_TRAILING;
		msg->type = V2X_MSG_BSM;
		return 0;
	}
	r = v2x_msgpack_decode(dec, buf, len, msg);
	if (r < 0)
		return r;
	if ((size_t)r != len)
		return V2X_E_TRAILING;
	return 0;
}

/*
 * One datagram: count it, then decode it straight into the next free slot
 * of the output ring.  The slot is only committed at the end of the batch.
 */
static void ingest__datagram(struct ingest *in, const struct ingest_listener *l,
			     const uint8_t *p, size_t len, uint64_t rx_ns,
			     int truncated)
{
	struct listener_counters *lc = &in->cnt->listeners[l->counter];
	struct ingest_slot *slot;
	int r;

	counter_add_1w(&lc->received, 1);
	if (truncated) {
		counter_add_1w(&lc->rejected[counters_reason_index(V2X_E_LIMIT)], 1);
		return;
	}
	if (in->slots_used == in->slots_avail) {
		in->slots_avail = ring_prod_avail(in->out, ring_capacity(in->out));
		if (in->slots_used == in->slots_avail) {
			counter_add_1w(&lc->dropped, 1);
			counter_add_1w(&in->cnt->stage_dropped[STAGE_INGEST], 1);
			return;
		}
	}
	slot = ring_prod_slot(in->out, in->slots_used);
	r = ingest_decode(l->kind, in->dec, p, len, &slot->msg);
	if (r < 0) {
		counter_add_1w(&lc->rejected[counters_reason_index(r)], 1);
		return;
	}
	/* A msgpack BSM is already in the relay's wire format: keeping its
	 * octets spares fusion a re-encode per relayed message. */
	slot->raw_len = 0;
	if (l->kind == LISTENER_MSGPACK && slot->msg.type == V2X_MSG_BSM &&
	    len <= sizeof(slot->raw)) {
		memcpy(slot->raw, p, len);
		slot->raw_len = (uint32_t)len;
	}
	slot->rx_ns = rx_ns;
	slot->listener = (uint32_t)l->counter;
	slot->len = (uint32_t)len;
	in->slots_used++;
	counter_add_1w(&lc->decoded, 1);
}

static void ingest__batch_begin(struct ingest *in)
{
	in->slots_used = 0;
	in->slots_avail = 0;
}

static void ingest__batch_end(struct ingest *in)
{
	if (in->slots_used) {
		ring_prod_commit(in->out, in->slots_used);
		ring_notify(in->out);
	}
	counter_add_1w(&in->cnt->ingest_batches, 1);
}

/* Kernel receive time from an SCM_TIMESTAMPNS control message, or 0. */
static uint64_t ingest__cmsg_time(struct cmsghdr *c)
{
	struct timespec ts;

	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
	    c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return 0;
}

static int ingest__open(const struct config_addr *a, int rcvbuf, int nonblock,
			char *err, size_t errlen)
{
	int one = 1, fd, r;

	fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC |
				     (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		r = -errno;
		ingest__err(err, errlen, "socket for %s: %s", a->text, strerror(errno));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] and 0.0.0.0 on the same port are separate listeners. */
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* SO_RCVBUFFORCE passes rmem_max when we hold CAP_NET_ADMIN; without
	 * it the kernel clamps SO_RCVBUF to net.core.rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		r = -errno;
		ingest__err(err, errlen, "bind %s: %s", a->text, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

/* A free SQE, submitting the queued ones first if there is none; or NULL. */
static struct io_uring_sqe *ingest__sqe(struct ingest *in)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&in->uring);

	if (!sqe) {
		io_uring_submit(&in->uring);
		sqe = io_uring_get_sqe(&in->uring);
	}
	return sqe;
}

static int ingest__arm(struct ingest *in, int li)
{
	struct io_uring_sqe *sqe = ingest__sqe(in);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, in->lis[li].fd, &in->msgh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = INGEST_BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)li);
	in->lis[li].rearm = 0;
	return 0;
}

/* Multishot poll on the wake-up eventfd, so that a wait ends at once. */
static int ingest__arm_wake(struct ingest *in)
{
	struct io_uring_sqe *sqe = ingest__sqe(in);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, in->wake_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, INGEST_WAKE_TAG);
	in->wake_rearm = 0;
	return 0;
}

static void ingest__drain_wake(struct ingest *in)
{
	uint64_t v;

	/* Non-blocking: EAGAIN once it is empty. */
	while (read(in->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void ingest__uring_fini(struct ingest *in)
{
	if (in->br_registered)
		io_uring_unregister_buf_ring(&in->uring, INGEST_BGID);
	in->br_registered = 0;
	if (in->uring_ready)
		io_uring_queue_exit(&in->uring);
	in->uring_ready = 0;
	if (in->br)
		munmap(in->br, in->br_len);
	in->br = NULL;
	if (in->bufs)
		munmap(in->bufs, in->bufs_len);
	in->bufs = NULL;
}

/* Sets up the ring and the provided buffers; on failure says why. */
static int ingest__uring_init(struct ingest *in, const struct broker_config *cfg)
{
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	uint32_t n = 1;
	int r;

	while (n * 2 <= (uint32_t)cfg->uring_buffers && n < 32768)
		n *= 2;
	in->n_bufs = n;
	in->buf_size = (uint32_t)cfg->uring_buffer_size;

	/*
	 * Deferred task running (Linux >= 6.1): completions are not even
	 * prepared until the ring's one thread waits for them, and a wait for
	 * a batch of N sleeps until N are ready, so a datagram costs no
	 * wake-up of its own.  The ring must then be used from one thread
	 * only: it is created disabled and enabled by the thread that polls it
	 * (ingest__uring_enable()).  Older kernels: cooperative task running,
	 * else plain.
	 */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		  IORING_SETUP_R_DISABLED;
	r = io_uring_queue_init_params((unsigned)cfg->uring_entries, &in->uring, &p);
	if (r == 0) {
		in->deferred = 1;
	} else if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_COOP_TASKRUN;
		r = io_uring_queue_init_params((unsigned)cfg->uring_entries, &in->uring, &p);
	}
	if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		r = io_uring_queue_init_params((unsigned)cfg->uring_entries, &in->uring, &p);
	}
	if (r < 0) {
		snprintf(in->fallback_reason, sizeof(in->fallback_reason),
			 "io_uring_queue_init: %s", strerror(-r));
		return r;
	}
	in->uring_ready = 1;

	in->br_len = (size_t)n * sizeof(struct io_uring_buf);
	in->br = mmap(NULL, in->br_len, PROT_READ | PROT_WRITE,
		      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (in->br == MAP_FAILED) {
		in->br = NULL;
		r = -errno;
		snprintf(in->fallback_reason, sizeof(in->fallback_reason),
			 "mmap buffer ring: %s", strerror(errno));
		goto out;
	}
	in->bufs_len = (size_t)n * in->buf_size;
	in->bufs = mmap(NULL, in->bufs_len, PROT_READ | PROT_WRITE,
			MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (in->bufs == MAP_FAILED) {
		in->bufs = NULL;
		r = -errno;
		snprintf(in->fallback_reason, sizeof(in->fallback_reason),
			 "mmap buffers: %s", strerror(errno));
		goto out;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)(uintptr_t)in->br;
	reg.ring_entries = n;
	reg.bgid = INGEST_BGID;
	r = io_uring_register_buf_ring(&in->uring, &reg, 0);
	if (r < 0) {
		snprintf(in->fallback_reason, sizeof(in->fallback_reason),
			 "io_uring_register_buf_ring: %s (kernel >= 5.19 needed)",
			 strerror(-r));
		goto out;
	}
	in->br_registered = 1;
	io_uring_buf_ring_init(in->br);
	for (uint32_t i = 0; i < n; i++)
		io_uring_buf_ring_add(in->br, in->bufs + (size_t)i * in->buf_size,
				      in->buf_size, (unsigned short)i,
				      io_uring_buf_ring_mask(n), (int)i);
	io_uring_buf_ring_advance(in->br, (int)n);

	memset(&in->msgh, 0, sizeof(in->msgh));
	in->msgh.msg_namelen = 0;
	in->msgh.msg_controllen = CTRL_LEN;

	for (int i = 0; i < in->n_lis; i++) {
		r = ingest__arm(in, i);
		if (r < 0)
			goto out;
	}
	r = ingest__arm_wake(in);
	if (r < 0)
		goto out;
	/* A disabled ring submits when its thread enables it. */
	if (in->deferred)
		return 0;
	r = io_uring_submit(&in->uring);
	if (r < 0) {
		snprintf(in->fallback_reason, sizeof(in->fallback_reason),
			 "io_uring_submit: %s", strerror(-r));
		goto out;
	}
	/*
	 * A kernel without multishot recvmsg (< 6.0) fails the request at
	 * once with -EINVAL; find out now rather than in the loop.
	 */
	{
		struct io_uring_cqe *cqe;

		if (io_uring_peek_cqe(&in->uring, &cqe) == 0 && cqe->res == -EINVAL) {
			r = -EINVAL;
			snprintf(in->fallback_reason, sizeof(in->fallback_reason),
				 "multishot recvmsg not supported (kernel >= 6.0 needed)");
			goto out;
		}
	}
	return 0;
out:
	ingest__uring_fini(in);
	return r;
}

static int ingest__mmsg_init(struct ingest *in, uint32_t buf_size);

/*
 * First poll of a deferred ring, on the thread that will poll it from now
 * on: enable it (this thread becomes its only issuer) and submit the arms.
 */
static int ingest__uring_enable(struct ingest *in)
{
	/* liburing 2.3 has no wrapper for this registration. */
	int r = (int)syscall(__NR_io_uring_register, in->uring.ring_fd,
			     IORING_REGISTER_ENABLE_RINGS, NULL, 0);

	if (r < 0)
		r = -errno;
	if (r == 0)
		r = io_uring_submit(&in->uring);
	in->enabled = 1;
	return r < 0 ? r : 0;
}

/*
 * The deferred ring could not be enabled on the polling thread: this thread
 * carries on with recvmmsg.  (Multishot recvmsg needs Linux 6.0 and a
 * deferred ring 6.1, so a ring set up that far receives; older kernels are
 * sorted out at set-up, where the plain ring's first completion is checked.)
 */
static void ingest__uring_abandon(struct ingest *in, const char *why)
{
	snprintf(in->fallback_reason, sizeof(in->fallback_reason), "%s", why);
	log_warn("io_uring unusable (%s): using the recvmmsg fallback", why);
	if (ingest__mmsg_init(in, in->mm_buf_size) < 0) {
		log_err("ingest: out of memory for the recvmmsg fallback");
		return;
	}
	for (int i = 0; i < in->n_lis; i++)
		fcntl(in->lis[i].fd, F_SETFL, fcntl(in->lis[i].fd, F_GETFL) | O_NONBLOCK);
	in->use_uring = 0;
	counter_set(&in->cnt->ingest_io_uring, 0);
}

/*
 * One wait for completions (at most wait_ns, or until a batch under load)
 * and one reaping pass.  Returns the number of completions seen.
 */
static unsigned ingest__uring_once(struct ingest *in, long long wait_ns)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10);
	const int mask = io_uring_buf_ring_mask(in->n_bufs);
	struct __kernel_timespec ts = { .tv_sec = 0 };
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int recycled = 0, r;
	uint64_t batch_now = 0;

	/*
	 * Under load, wait for a batch (or batch_wait_ns): every wake-up of
	 * this thread and of the stages behind it is then paid once per batch
	 * instead of once per datagram, for at most batch_wait_ns of added
	 * latency.  When idle, wait for one datagram (or wait_ns) so that
	 * nothing spins.
	 */
	if (in->busy && in->batch_min > 1) {
		ts.tv_nsec = in->batch_wait_ns < wait_ns ? in->batch_wait_ns : wait_ns;
		r = io_uring_submit_and_wait_timeout(&in->uring, &cqe, in->batch_min,
						     &ts, NULL);
	} else {
		ts.tv_sec = (long long)(wait_ns / 1000000000ll);
		ts.tv_nsec = wait_ns % 1000000000ll;
		r = io_uring_submit_and_wait_timeout(&in->uring, &cqe, 1, &ts, NULL);
	}
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN)
		log_ratelimited(&rl, LOG_LVL_WARN, "ingest: io_uring wait: %s",
				strerror(-r));
	ingest__batch_begin(in);
	io_uring_for_each_cqe(&in->uring, head, cqe) {
		uint64_t li = cqe->user_data;
		struct ingest_listener *l;
		struct io_uring_recvmsg_out *o;
		unsigned bid;
		unsigned char *buf;

		seen++;
		if (li == INGEST_WAKE_TAG) {
			if (!(cqe->flags & IORING_CQE_F_MORE))
				in->wake_rearm = 1;
			ingest__drain_wake(in);
			continue;
		}
		if (li >= (uint64_t)in->n_lis)
			continue;
		l = &in->lis[li];
		if (!(cqe->flags & IORING_CQE_F_MORE))
			l->rearm = 1;
		if (cqe->res < 0) {
			if (cqe->res == -ENOBUFS)
				counter_add_1w(&in->cnt->ingest_nobufs, 1);
			else if (cqe->res != -ECANCELED)
				log_ratelimited(&rl, LOG_LVL_WARN,
						"ingest: recvmsg on %s: %s",
						in->cnt->listeners[l->counter].label,
						strerror(-cqe->res));
			continue;
		}
		if (!(cqe->flags & IORING_CQE_F_BUFFER))
			continue;
		bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		buf = in->bufs + (size_t)bid * in->buf_size;
		o = io_uring_recvmsg_validate(buf, cqe->res, &in->msgh);
		if (o) {
			uint64_t rx = 0;

			if (o->controllen)
				rx = ingest__cmsg_time(
					io_uring_recvmsg_cmsg_firsthdr(o, &in->msgh));
			if (!rx) {
				if (!batch_now)
					batch_now = ingest__realtime_ns();
				rx = batch_now;
			}
			ingest__datagram(in, l, io_uring_recvmsg_payload(o, &in->msgh),
					 io_uring_recvmsg_payload_length(o, cqe->res,
									 &in->msgh),
					 rx, (o->flags & MSG_TRUNC) != 0);
		}
		/* The datagram was decoded into the ring slot: the buffer can go
		 * back to the kernel right away. */
		io_uring_buf_ring_add(in->br, buf, in->buf_size, (unsigned short)bid,
				      mask, recycled++);
	}
	if (recycled)
		io_uring_buf_ring_advance(in->br, recycled);
	io_uring_cq_advance(&in->uring, seen);
	in->busy = recycled > 0;
	ingest__batch_end(in);
	/* Re-arm after recycling so that ENOBUFS does not repeat. */
	for (int i = 0; i < in->n_lis; i++)
		if (in->lis[i].rearm && ingest__arm(in, i) < 0)
			log_ratelimited(&rl, LOG_LVL_WARN,
					"ingest: cannot re-arm %s: no SQE",
					in->cnt->listeners[in->lis[i].counter].label);
	if (in->wake_rearm && ingest__arm_wake(in) < 0)
		log_ratelimited(&rl, LOG_LVL_WARN, "ingest: cannot re-arm the %s",
				"wake-up poll");
	return seen;
}

static int ingest__mmsg_init(struct ingest *in, uint32_t buf_size)
{
	in->buf_size = buf_size;
	in->mm = calloc(INGEST_MMSG, sizeof(*in->mm));
	in->iov = calloc(INGEST_MMSG, sizeof(*in->iov));
	in->mm_bufs = malloc((size_t)INGEST_MMSG * in->buf_size);
	in->mm_ctrl = calloc(INGEST_MMSG, CTRL_LEN);
	if (!in->mm || !in->iov || !in->mm_bufs || !in->mm_ctrl)
		return -ENOMEM;
	for (int i = 0; i < INGEST_MMSG; i++) {
		in->iov[i].iov_base = in->mm_bufs + (size_t)i * in->buf_size;
		in->iov[i].iov_len = in->buf_size;
		in->mm[i].msg_hdr.msg_iov = &in->iov[i];
		in->mm[i].msg_hdr.msg_iovlen = 1;
		in->mm[i].msg_hdr.msg_control = in->mm_ctrl + (size_t)i * CTRL_LEN;
	}
	return 0;
}

/* One poll (at most wait_ns) and draining of every ready listener. */
static unsigned ingest__mmsg_once(struct ingest *in, long long wait_ns)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10);
	struct pollfd pfd[COUNTERS_LISTENERS_MAX + 1];
	unsigned seen = 0;
	int r;

	for (int i = 0; i < in->n_lis; i++) {
		pfd[i].fd = in->lis[i].fd;
		pfd[i].events = POLLIN;
	}
	pfd[in->n_lis].fd = in->wake_fd;
	pfd[in->n_lis].events = POLLIN;
	r = poll(pfd, (nfds_t)in->n_lis + 1, (int)((wait_ns + 999999) / 1000000));
	if (r <= 0)
		return 0;
	if (pfd[in->n_lis].revents & POLLIN)
		ingest__drain_wake(in);
	for (int i = 0; i < in->n_lis; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		for (;;) {
			uint64_t batch_now = 0;
			int n;

			for (int k = 0; k < INGEST_MMSG; k++)
				in->mm[k].msg_hdr.msg_controllen = CTRL_LEN;
			n = recvmmsg(in->lis[i].fd, in->mm, INGEST_MMSG, MSG_DONTWAIT, NULL);
			if (n <= 0) {
				if (n < 0 && errno != EAGAIN && errno != EINTR)
					log_ratelimited(&rl, LOG_LVL_WARN, "ingest: recvmmsg: %s",
							strerror(errno));
				break;
			}
			ingest__batch_begin(in);
			for (int k = 0; k < n; k++) {
				struct msghdr *h = &in->mm[k].msg_hdr;
				uint64_t rx = ingest__cmsg_time(CMSG_FIRSTHDR(h));

				if (!rx) {
					if (!batch_now)
						batch_now = ingest__realtime_ns();
					rx = batch_now;
				}
				ingest__datagram(in, &in->lis[i], h->msg_iov->iov_base,
						 in->mm[k].msg_len, rx,
						 (h->msg_flags & MSG_TRUNC) != 0);
			}
			ingest__batch_end(in);
			seen += (unsigned)n;
			/* Bounded, so that the stages behind get their turn in
			 * the single-thread pipeline. */
			if (n < INGEST_MMSG || seen >= 8 * INGEST_MMSG)
				break;
		}
	}
	return seen;
}

static void *ingest__thread(void *arg)
{
	struct ingest *in = arg;
	uint64_t cpu_next = 0;

	pthread_setname_np(pthread_self(), "v2x-ingest");
	while (!atomic_load_explicit(&in->stop, memory_order_relaxed)) {
		ingest_poll(in, INGEST_WAIT_NS);
		counters_thread_cpu(in->cnt, THREAD_INGEST, &cpu_next, 0);
	}
	counters_thread_cpu(in->cnt, THREAD_INGEST, &cpu_next, 1);
	return NULL;
}

/*
 * Datagrams the kernel dropped on each socket (its receive buffer was full):
 * read a few times a second, never per datagram, and counted per listener so
 * that received + socket_dropped is everything that arrived.
 */
static void ingest__sockstat(struct ingest *in, int force)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now < in->next_sockstat && !force)
		return;
	in->next_sockstat = now + INGEST_SOCKSTAT_NS;
	for (int i = 0; i < in->n_lis; i++) {
		uint32_t mem[SK_MEMINFO_VARS];
		socklen_t len = sizeof(mem);

		struct ingest_listener *l = &in->lis[i];

		/* The kernel's count is 32 bits: add what it grew by. */
		if (getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
		    len > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
			counter_add_1w(&in->cnt->listeners[l->counter].socket_dropped,
				       (uint32_t)(mem[SK_MEMINFO_DROPS] - l->drops_seen));
			l->drops_seen = mem[SK_MEMINFO_DROPS];
		}
	}
}

/* See ingest.h.  The ingest thread, or the single pipeline thread. */
unsigned ingest_poll(struct ingest *in, uint64_t wait_ns)
{
	long long w = wait_ns > (uint64_t)INGEST_WAIT_NS ? INGEST_WAIT_NS : (long long)wait_ns;

	ingest__sockstat(in, 0);
	if (!in->use_uring)
		return ingest__mmsg_once(in, w);
	if (in->deferred && !in->enabled && ingest__uring_enable(in) < 0) {
		ingest__uring_abandon(in, "io_uring_enable_rings failed");
		return 0;
	}
	return ingest__uring_once(in, w);
}

/* See ingest.h.  Any thread; async-signal-safe. */
void ingest_wake(struct ingest *in)
{
	uint64_t one = 1;

	if (in && in->wake_fd >= 0)
		(void)!write(in->wake_fd, &one, sizeof(one));
}

static int ingest__add(struct ingest *in, const struct config_addr *a, int kind,
		       const struct broker_config *cfg, char *err, size_t errlen)
{
	struct listener_counters *lc;
	int fd, idx = in->n_lis;

	if (idx >= COUNTERS_LISTENERS_MAX) {
		ingest__err(err, errlen, "too many listeners");
		return -E2BIG;
	}
	/* Opened non-blocking for the recvmmsg fallback; made blocking again
	 * when io_uring is used (see ingest_new()). */
	fd = ingest__open(a, cfg->rcvbuf, 1, err, errlen);
	if (fd < 0)
		return fd;
	lc = &in->cnt->listeners[idx];
	snprintf(lc->label, sizeof(lc->label), "%s:%s",
		 kind == LISTENER_UPER ? "uper" : "msgpack", a->text);
	lc->kind = (uint8_t)kind;
	in->lis[idx].fd = fd;
	in->lis[idx].kind = kind;
	in->lis[idx].counter = idx;
	in->n_lis++;
	in->cnt->n_listeners = in->n_lis;
	return 0;
}

/* See ingest.h. */
struct ingest *ingest_new(const struct broker_config *cfg, struct ring *out,
			  struct broker_counters *cnt, char *err, size_t errlen)
{
	struct ingest *in;
	int r = 0;

	if (out->slot_size < sizeof(struct ingest_slot)) {
		ingest__err(err, errlen, "ingest ring slots too small");
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		ingest__err(err, errlen, "out of memory");
		return NULL;
	}
	in->out = out;
	in->cnt = cnt;
	in->batch_min = (unsigned)cfg->ingest_batch;
	in->batch_wait_ns = (long long)cfg->ingest_batch_wait_us * 1000;
	for (int i = 0; i < COUNTERS_LISTENERS_MAX; i++)
		in->lis[i].fd = -1;
	in->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->wake_fd < 0) {
		ingest__err(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	in->dec = v2x_msgpack_decoder_new();
	if (!in->dec) {
		ingest__err(err, errlen, "out of memory (msgpack decoder)");
		goto fail;
	}
	for (int i = 0; i < cfg->n_udp_uper && r == 0; i++)
		r = ingest__add(in, &cfg->udp_uper[i], LISTENER_UPER, cfg, err, errlen);
	for (int i = 0; i < cfg->n_udp_msgpack && r == 0; i++)
		r = ingest__add(in, &cfg->udp_msgpack[i], LISTENER_MSGPACK, cfg, err, errlen);
	if (r < 0)
		goto fail;

	if (cfg->force_recvmmsg) {
		snprintf(in->fallback_reason, sizeof(in->fallback_reason),
			 "force_recvmmsg is set");
	} else {
		/* io_uring would return -EAGAIN instead of waiting on an
		 * O_NONBLOCK socket: make them blocking before arming. */
		for (int i = 0; i < in->n_lis; i++)
			fcntl(in->lis[i].fd, F_SETFL,
			      fcntl(in->lis[i].fd, F_GETFL) & ~O_NONBLOCK);
		if (ingest__uring_init(in, cfg) == 0) {
			in->use_uring = 1;
		} else {
			for (int i = 0; i < in->n_lis; i++)
				fcntl(in->lis[i].fd, F_SETFL,
				      fcntl(in->lis[i].fd, F_GETFL) | O_NONBLOCK);
		}
	}
	in->mm_buf_size = (uint32_t)cfg->uring_buffer_size;
	if (!in->use_uring && ingest__mmsg_init(in, in->mm_buf_size) < 0) {
		ingest__err(err, errlen, "out of memory (recvmmsg buffers)");
		goto fail;
	}
	counter_set(&cnt->ingest_io_uring, (uint64_t)in->use_uring);
	return in;
fail:
	ingest_free(in);
	return NULL;
}

/* See ingest.h.  Main thread. */
int ingest_start(struct ingest *in)
{
	int r = pthread_create(&in->thread, NULL, ingest__thread, in);

	if (r)
		return -r;
	in->started = 1;
	return 0;
}

/* See ingest.h.  Main thread. */
void ingest_stop(struct ingest *in)
{
	if (!in || !in->started)
		return;
	atomic_store(&in->stop, 1);
	ingest_wake(in);
	pthread_join(in->thread, NULL);
	in->started = 0;
}

/* See ingest.h.  Any thread. */
int ingest_uses_io_uring(const struct ingest *in)
{
	return in->use_uring;
}

/* See ingest.h.  Any thread. */
const char *ingest_fallback_reason(const struct ingest *in)
{
	return in->use_uring ? "" : in->fallback_reason;
}

/* See ingest.h.  Main thread. */
void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	ingest_stop(in);
	/* The stages have stopped: the last count of the kernel's drops. */
	ingest__sockstat(in, 1);
	ingest__uring_fini(in);
	for (int i = 0; i < in->n_lis; i++)
		if (in->lis[i].fd >= 0)
			close(in->lis[i].fd);
	if (in->wake_fd >= 0)
		close(in->wake_fd);
	free(in->mm);
	free(in->iov);
	free(in->mm_bufs);
	free(in->mm_ctrl);
	v2x_msgpack_decoder_free(in->dec);
	free(in);
}
