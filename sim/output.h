/* SPDX-License-Identifier: MIT */
/*
 * sim/output.h - what leaves the simulator: BSMs encoded as UPER or
 * msgpack frames to the BSM target, sensor frames and SPaT as msgpack to
 * the sensors target; UDP with sendmmsg batching, paced to the messages'
 * timestamps (real time, a speed-up, or as fast as possible), optionally
 * captured to a file.
 *
 * Capture file format: per datagram a 4-octet big-endian length, one octet
 * channel (0 = BSM target, 1 = sensors target), then the datagram.
 */
#ifndef SIM_OUTPUT_H
#define SIM_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "sim.h"

enum sim_encoding {
	SIM_ENC_UPER = 0,
	SIM_ENC_MSGPACK = 1,
};

enum sim_pace {
	SIM_PACE_REALTIME = 0, /* speed 1 */
	SIM_PACE_SPEED = 1,    /* speed factor */
	SIM_PACE_MAX = 2,      /* as fast as possible */
};

#define SIM_OUT_BATCH 64
#define SIM_OUT_MTU 1472

struct sim_out_config {
	int encoding;        /* enum sim_encoding */
	int pace;            /* enum sim_pace */
	double speed;        /* for SIM_PACE_SPEED */
	int send;            /* 0: --no-send */
	const char *target;  /* HOST:PORT for BSMs */
	const char *sensors_target; /* HOST:PORT, NULL: target's port + 1 */
	FILE *capture;       /* borrowed, may be NULL */
	uint64_t start_ns;   /* message time that maps to the pacing start */
};

struct sim_out_stats {
	uint64_t sent, bytes, send_errors, encode_errors, captured;
	int last_errno;
	int last_encode_error;
};

struct sim_out;

/*
 * sim_out_new() - open the sockets of cfg.  Returns 0 and *out, or
 * -EINVAL (bad address, reason in err) / -errno.  Free with sim_out_free().
 */
int sim_out_new(const struct sim_out_config *cfg, struct sim_out **out,
		char *err, size_t errlen);

/* sim_out_free() - flush and close; NULL is a no-op. */
void sim_out_free(struct sim_out *o);

/*
 * sim_out_restart() - take the pacing origin again: message time start_ns
 * maps to now.  Call before the first message (after a slow world build).
 */
void sim_out_restart(struct sim_out *o, uint64_t start_ns);

/* sim_out_sink() - a sink that feeds o (valid while o lives). */
void sim_out_sink(struct sim_out *o, struct sim_sink *sink);

/* sim_out_bsm() - send one BSM (used by replay); returns 0 or V2X_E_*. */
int sim_out_bsm(struct sim_out *o, const struct v2x_bsm *bsm);

/* sim_out_flush() - send what is batched.  Returns 0 or -errno. */
int sim_out_flush(struct sim_out *o);

/* sim_out_stats() - counters so far. */
void sim_out_stats(const struct sim_out *o, struct sim_out_stats *st);

/*
 * sim_parse_hostport() - "HOST:PORT" or "[V6]:PORT" (numeric or a name)
 * into ss.  Returns 0 or -EINVAL.
 */
int sim_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Monotonic clock in ns. */
uint64_t sim_now_ns(void);

#endif
