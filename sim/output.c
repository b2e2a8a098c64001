/* SPDX-License-Identifier: MIT */
/* sim/output.c - encoding, pacing, sendmmsg batching, capture. */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "v2x/error.h"
#include "v2x/j2735.h"
#include "v2x/msgpack.h"
#include "output.h"

struct out_chan {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int n;
	struct mmsghdr msg[SIM_OUT_BATCH];
	struct iovec iov[SIM_OUT_BATCH];
	uint8_t buf[SIM_OUT_BATCH][SIM_OUT_MTU];
};

struct sim_out {
	struct sim_out_config cfg;
	struct out_chan chan[2];
	uint64_t wall0;
	struct sim_out_stats st;
	struct v2x_msg msg; /* scratch for msgpack encoding, large */
};

/*
 * sim_now_ns() - CLOCK_MONOTONIC in ns.
 */
uint64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * sim_parse_hostport() - see output.h.
 */
int sim_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int ret = -EINVAL;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			goto out;
		hl = (size_t)(end - s - 1);
		if (hl >= sizeof(host))
			goto out;
		memcpy(host, s + 1, hl);
		port = end + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto out;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			goto out;
		memcpy(host, s, hl);
		port = colon + 1;
	}
	host[hl] = 0;
	if (!*port || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535)
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res) || !res)
		goto out;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	ret = 0;
out:
	if (res)
		freeaddrinfo(res);
	return ret;
}

static int out__port_plus_one(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_port = htons((uint16_t)(ntohs(in->sin_port) + 1));
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_port = htons((uint16_t)(ntohs(in6->sin6_port) + 1));
		return 0;
	}
	return -EINVAL;
}

/*
 * sim_out_new() - see output.h.
 */
int sim_out_new(const struct sim_out_config *cfg, struct sim_out **out,
		char *err, size_t errlen)
{
	struct sim_out *o = calloc(1, sizeof(*o));
	int ret = -ENOMEM;

	*out = NULL;
	if (!o)
		goto out;
	o->cfg = *cfg;
	o->chan[0].fd = o->chan[1].fd = -1;
	if (sim_parse_hostport(cfg->target, &o->chan[0].addr, &o->chan[0].addrlen) < 0) {
		snprintf(err, errlen, "bad --target '%s' (want HOST:PORT)", cfg->target);
		ret = -EINVAL;
		goto out;
	}
	if (cfg->sensors_target) {
		if (sim_parse_hostport(cfg->sensors_target, &o->chan[1].addr,
				       &o->chan[1].addrlen) < 0) {
			snprintf(err, errlen, "bad --sensors-target '%s'", cfg->sensors_target);
			ret = -EINVAL;
			goto out;
		}
	} else {
		o->chan[1].addr = o->chan[0].addr;
		o->chan[1].addrlen = o->chan[0].addrlen;
		out__port_plus_one(&o->chan[1].addr);
	}
	for (int c = 0; c < 2; c++) {
		struct out_chan *ch = &o->chan[c];

		for (int i = 0; i < SIM_OUT_BATCH; i++) {
			ch->iov[i].iov_base = ch->buf[i];
			ch->msg[i].msg_hdr.msg_iov = &ch->iov[i];
			ch->msg[i].msg_hdr.msg_iovlen = 1;
			ch->msg[i].msg_hdr.msg_name = &ch->addr;
			ch->msg[i].msg_hdr.msg_namelen = ch->addrlen;
		}
		if (!cfg->send)
			continue;
		ch->fd = socket(ch->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (ch->fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "socket: %s", strerror(errno));
			goto out;
		}
		{
			int sz = 4 << 20;

			setsockopt(ch->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		}
	}
	o->wall0 = sim_now_ns();
	*out = o;
	o = NULL;
	ret = 0;
out:
	sim_out_free(o);
	return ret;
}

static int out__flush_chan(struct sim_out *o, struct out_chan *ch)
{
	int done = 0, ret = 0;

	if (ch->fd < 0 || ch->n == 0) {
		ch->n = 0;
		return 0;
	}
	while (done < ch->n) {
		int r = sendmmsg(ch->fd, ch->msg + done, (unsigned int)(ch->n - done), 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* A refused or full send loses this datagram; count it. */
			o->st.send_errors++;
			o->st.last_errno = errno;
			ret = -errno;
			done++;
			continue;
		}
		for (int i = done; i < done + r; i++)
			o->st.bytes += ch->msg[i].msg_len;
		o->st.sent += (uint64_t)r;
		done += r;
	}
	ch->n = 0;
	return ret;
}

/*
 * sim_out_flush() - see output.h.
 */
int sim_out_flush(struct sim_out *o)
{
	int a = out__flush_chan(o, &o->chan[0]);
	int b = out__flush_chan(o, &o->chan[1]);

	return a < 0 ? a : b;
}

/* Wait until the wall-clock moment of message time ts. */
static void out__pace(struct sim_out *o, uint64_t ts)
{
	double speed = o->cfg.pace == SIM_PACE_SPEED ? o->cfg.speed : 1.0;
	uint64_t due, now;

	if (o->cfg.pace == SIM_PACE_MAX || ts < o->cfg.start_ns)
		return;
	due = o->wall0 + (uint64_t)((double)(ts - o->cfg.start_ns) / speed);
	now = sim_now_ns();
	if (due <= now + 500000)
		return;
	/* Send what is ready before sleeping, so nothing waits in the batch. */
	sim_out_flush(o);
	{
		struct timespec d;
		uint64_t wait = due - now;

		d.tv_sec = (time_t)(wait / 1000000000ull);
		d.tv_nsec = (long)(wait % 1000000000ull);
		while (nanosleep(&d, &d) < 0 && errno == EINTR)
			;
	}
}

/* Reserve the next slot of channel c; returns its buffer. */
static uint8_t *out__slot(struct sim_out *o, int c)
{
	struct out_chan *ch = &o->chan[c];

	if (ch->n == SIM_OUT_BATCH)
		out__flush_chan(o, ch);
	return ch->buf[ch->n];
}

static void out__commit(struct sim_out *o, int c, int len)
{
	struct out_chan *ch = &o->chan[c];

	if (o->cfg.capture) {
		uint8_t hdr[5] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
				   (uint8_t)(len >> 8), (uint8_t)len, (uint8_t)c };

		fwrite(hdr, 1, sizeof(hdr), o->cfg.capture);
		fwrite(ch->buf[ch->n], 1, (size_t)len, o->cfg.capture);
		o->st.captured++;
	}
	if (ch->fd < 0) {
		o->st.sent++;
		o->st.bytes += (uint64_t)len;
		return;
	}
	ch->iov[ch->n].iov_len = (size_t)len;
	ch->n++;
}

/*
 * sim_out_bsm() - see output.h.
 */
int sim_out_bsm(struct sim_out *o, const struct v2x_bsm *bsm)
{
	uint8_t *buf;
	int len;

	out__pace(o, bsm->ts_ns);
	buf = out__slot(o, 0);
	if (o->cfg.encoding == SIM_ENC_UPER) {
		len = v2x_uper_encode_bsm(bsm, buf, SIM_OUT_MTU);
	} else {
		o->msg.type = V2X_MSG_BSM;
		o->msg.u.bsm = *bsm;
		len = v2x_msgpack_encode(&o->msg, buf, SIM_OUT_MTU);
	}
	if (len < 0) {
		o->st.encode_errors++;
		o->st.last_encode_error = len;
		return len;
	}
	out__commit(o, 0, len);
	return 0;
}

static void out__on_bsm(void *ctx, const struct v2x_bsm *bsm)
{
	sim_out_bsm(ctx, bsm);
}

/*
 * Encode objs->obj[from .. from + n) as one frame; a frame that does not
 * fit one datagram (SIM_OUT_MTU, below the broker's receive buffers) is
 * split in two with the same sensor and time.
 */
static void out__objects_part(struct sim_out *o, const struct v2x_objects *objs,
			      int from, int n)
{
	uint8_t *buf = out__slot(o, 1);
	int len;

	o->msg.type = V2X_MSG_OBJECTS;
	o->msg.u.objects.ts_ns = objs->ts_ns;
	o->msg.u.objects.sensor_id = objs->sensor_id;
	o->msg.u.objects.n = (uint16_t)n;
	memcpy(o->msg.u.objects.obj, objs->obj + from, (size_t)n * sizeof(objs->obj[0]));
	len = v2x_msgpack_encode(&o->msg, buf, SIM_OUT_MTU);
	if (len == V2X_E_NOSPACE && n > 1) {
		out__objects_part(o, objs, from, n / 2);
		out__objects_part(o, objs, from + n / 2, n - n / 2);
		return;
	}
	if (len < 0) {
		o->st.encode_errors++;
		o->st.last_encode_error = len;
		return;
	}
	out__commit(o, 1, len);
}

static void out__on_objects(void *ctx, const struct v2x_objects *objs)
{
	struct sim_out *o = ctx;

	out__pace(o, objs->ts_ns);
	out__objects_part(o, objs, 0, objs->n);
}

static void out__on_spat(void *ctx, const struct v2x_spat *spat)
{
	struct sim_out *o = ctx;
	uint8_t *buf;
	int len;

	out__pace(o, spat->ts_ns);
	buf = out__slot(o, 1);
	o->msg.type = V2X_MSG_SPAT;
	o->msg.u.spat = *spat;
	len = v2x_msgpack_encode(&o->msg, buf, SIM_OUT_MTU);
	if (len < 0) {
		o->st.encode_errors++;
		o->st.last_encode_error = len;
		return;
	}
	out__commit(o, 1, len);
}

static void out__on_step_end(void *ctx, double t)
{
	sim_out_flush(ctx);
}

/*
 * sim_out_sink() - see output.h.
 */
void sim_out_sink(struct sim_out *o, struct sim_sink *sink)
{
	memset(sink, 0, sizeof(*sink));
	sink->ctx = o;
	sink->bsm = out__on_bsm;
	sink->objects = out__on_objects;
	sink->spat = out__on_spat;
	sink->step_end = out__on_step_end;
}

/*
 * sim_out_stats() - see output.h.
 */
void sim_out_stats(const struct sim_out *o, struct sim_out_stats *st)
{
	*st = o->st;
}

/*
 * sim_out_restart() - see output.h.
 */
void sim_out_restart(struct sim_out *o, uint64_t start_ns)
{
	o->cfg.start_ns = start_ns;
	o->wall0 = sim_now_ns();
}

/*
 * sim_out_free() - see output.h.
 */
void sim_out_free(struct sim_out *o)
{
	if (!o)
		return;
	sim_out_flush(o);
	for (int c = 0; c < 2; c++)
		if (o->chan[c].fd >= 0)
			close(o->chan[c].fd);
	free(o);
}
