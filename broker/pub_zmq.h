/* SPDX-License-Identifier: MIT */
/*
 * pub_zmq.h - the publish stage, and the only file that touches libzmq.
 *
 * Its thread pops the publish ring (struct pub_slot, fusion.h) and sends
 * each message on a ZeroMQ PUB socket as two frames, topic and msgpack
 * payload, never blocking: ZMQ_SNDHWM bounds the queue per subscriber and
 * ZMQ_XPUB_NODROP makes a full queue visible as EAGAIN on a ZMQ_DONTWAIT
 * send, so the message is dropped and counted (v2x_stage_dropped_total
 * {stage="zmq"}) instead of stalling the broker.  (The price: while one
 * subscriber is at its HWM, a message is dropped for all; the HWM is sized
 * so that only a stuck subscriber gets there.)
 *
 * Events also go to MQTT (pub_mqtt, QoS 1, msgpack or JSON), periodic stats
 * to <prefix>/stats (QoS 0).  Advisories that pub_mqtt receives on Paho's
 * thread are handed over through an SPSC ring (pub_zmq_on_advisory) and
 * re-published here as adv/<geohash7>.
 */
#ifndef V2X_BROKER_PUB_ZMQ_H
#define V2X_BROKER_PUB_ZMQ_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "ring.h"

struct pub_mqtt;
struct pub_zmq;

/*
 * pub_zmq_new() - create the context and PUB socket and bind cfg->zmq_pub.
 * in: the publish ring (consumer side owned by this stage's thread).
 * Returns NULL with err filled ("zmq bind tcp://0.0.0.0:7700: Address
 * already in use").  Main thread.
 */
struct pub_zmq *pub_zmq_new(const struct broker_config *cfg, struct ring *in,
			    struct broker_counters *cnt, char *err, size_t errlen);

/*
 * pub_zmq_set_mqtt() - events and stats also go to pm (borrowed; must
 * outlive the publish thread).  Main thread, before pub_zmq_start().
 */
void pub_zmq_set_mqtt(struct pub_zmq *pz, struct pub_mqtt *pm);

/*
 * pub_zmq_on_advisory() - pub_mqtt's advisory callback (ctx = the
 * pub_zmq): copies the message into the advisory ring; drops and counts
 * it if the ring is full or it is too large.  Called on Paho's thread only
 * (single producer).
 */
void pub_zmq_on_advisory(void *ctx, const char *topic, const void *payload,
			 size_t len);

/* pub_zmq_start() - start the publish thread.  Returns 0 or -errno. */
int pub_zmq_start(struct pub_zmq *pz);

/*
 * pub_zmq_step() - run the stage in the caller's thread instead of its own
 * (the single-thread pipeline): publish every slot waiting in the ring, the
 * advisories, the MQTT status and stats when due.  Returns the monotonic
 * time (ns) of the next timer, the latest the caller should call again.
 */
uint64_t pub_zmq_step(struct pub_zmq *pz);

/* pub_zmq_finish() - after the last pub_zmq_step(): final status counters. */
void pub_zmq_finish(struct pub_zmq *pz);

/*
 * pub_zmq_set_waker() - fn(ctx) is called (from Paho's thread) after an
 * advisory is queued, to end the single pipeline thread's wait.
 */
void pub_zmq_set_waker(struct pub_zmq *pz, void (*fn)(void *ctx), void *ctx);


/*
 * pub_zmq_stop() - drain the publish ring (fusion must be stopped first)
 * and join the thread.  Main thread.
 */
void pub_zmq_stop(struct pub_zmq *pz);

/*
 * pub_zmq_free() - stop, close the socket (lingering up to 1 s so queued
 * messages leave) and the context; NULL is a no-op.  Main thread.
 */
void pub_zmq_free(struct pub_zmq *pz);

/*
 * pub_stats_render() - the periodic stats document (JSON when json, else
 * msgpack) from the counters.  Returns length or V2X_E_NOSPACE.  Any thread.
 */
int pub_stats_render(const struct broker_counters *cnt, const char *rsu_id,
		     int json, uint8_t *buf, size_t cap);

#endif
