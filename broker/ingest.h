/* SPDX-License-Identifier: MIT */
/*
 * ingest.h - the UDP ingest stage: listeners for J2735 UPER and msgpack
 * datagrams, decoded straight from the receive buffer into slots of the
 * ingest -> fusion ring.
 *
 * One ingest thread owns one io_uring with one multishot recvmsg per socket
 * into a registered provided-buffer ring; completions are reaped in batches
 * and buffers are recycled right after decoding, so the hot path makes no
 * syscall and no allocation per datagram.  When io_uring cannot be used
 * (old kernel, seccomp, --force-recvmmsg) a recvmmsg loop takes over.
 * Receive times come from the kernel (SO_TIMESTAMPNS, CLOCK_REALTIME).
 *
 * Every datagram is counted in its listener's counters: received, then
 * exactly one of decoded, rejected[reason] or dropped (ring full).
 */
#ifndef V2X_BROKER_INGEST_H
#define V2X_BROKER_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "ring.h"
#include "v2x/msg.h"

/* Largest msgpack BSM datagram kept verbatim for the relay (a BSM frame
 * takes about 250 octets); at most fusion.h's PUB_PAYLOAD_MAX. */
#define INGEST_RAW_MAX 464

/* One slot of the ingest -> fusion ring. */
struct ingest_slot {
	uint64_t rx_ns;     /* receive time, CLOCK_REALTIME ns (kernel stamp) */
	uint32_t listener;  /* index into broker_counters.listeners */
	uint32_t len;       /* datagram length */
	/* > 0: msg is a BSM decoded from the msgpack octets raw[0..raw_len),
	 * which the relay publishes as they are instead of re-encoding. */
	uint32_t raw_len;
	struct v2x_msg msg; /* decoded message */
	uint8_t raw[INGEST_RAW_MAX];
};

struct ingest;

/*
 * ingest_new() - open and bind every listener of cfg (UPER first, then
 * msgpack; their counters are set up in cnt->listeners in that order) and
 * set up io_uring (or the recvmmsg fallback).  Decoded messages go to out
 * (the producer side is owned by the ingest thread).  Returns NULL with a
 * message in err on failure (e.g. "bind 0.0.0.0:46800: Address already in
 * use").  Threading: main thread.
 */
struct ingest *ingest_new(const struct broker_config *cfg, struct ring *out,
			  struct broker_counters *cnt, char *err, size_t errlen);

/* ingest_start() - start the ingest thread.  Returns 0 or -errno. */
int ingest_start(struct ingest *in);

/*
 * ingest_stop() - stop receiving and join the thread (returns within about
 * 100 ms); datagrams already in the ring stay there for fusion to drain.
 */
void ingest_stop(struct ingest *in);

/*
 * ingest_poll() - wait at most @wait_ns (capped at 100 ms) for datagrams,
 * or less when ingest_wake() is called, and move what arrived into the
 * output ring.  Returns the number of completions or datagrams seen (0: the
 * wait timed out).  For a caller that runs the stages itself (the single
 * thread pipeline) instead of ingest_start(); one thread at a time.
 */
unsigned ingest_poll(struct ingest *in, uint64_t wait_ns);

/*
 * ingest_wake() - end the current or next ingest_poll() wait early.  Any
 * thread; async-signal-safe.  NULL is a no-op.
 */
void ingest_wake(struct ingest *in);

/* ingest_uses_io_uring() - 1 if io_uring is in use, 0 for recvmmsg. */
int ingest_uses_io_uring(const struct ingest *in);

/* ingest_fallback_reason() - why io_uring is not used ("" if it is). */
const char *ingest_fallback_reason(const struct ingest *in);

/* ingest_free() - stop if running, close sockets, free; NULL is a no-op. */
void ingest_free(struct ingest *in);

/*
 * ingest_decode() - decode one datagram of the given listener kind into
 * msg.  Returns 0, or the decoder's negative V2X_E_* code (V2X_E_TRAILING
 * when bytes follow the message).  Exposed for tests and benchmarks; the
 * msgpack decoder dec is required for LISTENER_MSGPACK.
 */
struct v2x_msgpack_decoder;
int ingest_decode(int kind, struct v2x_msgpack_decoder *dec, const uint8_t *buf,
		  size_t len, struct v2x_msg *msg);

#endif
