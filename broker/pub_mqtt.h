/* SPDX-License-Identifier: MIT */
/*
 * pub_mqtt.h - publishing to the cloud over MQTT with the Eclipse Paho C
 * asynchronous client (libpaho-mqtt3as).  This is the only file of the
 * project that touches Paho; Paho's return codes are converted here to
 * -errno / V2X_E_* and never leak.
 *
 * - Events: QoS 1 to "<prefix>/events/<type>", delivered at least once.
 *   Each event is written to a journal (one small file per unacknowledged
 *   event in <persist_dir>/<client id>.journal/) before it is handed to
 *   Paho, and removed when the server acknowledges it.  While the cloud is
 *   unreachable events are buffered (Paho sendWhileDisconnected, up to
 *   max_buffered); after the connection returns they are delivered, also
 *   after a process restart with the same client id and persist_dir (the
 *   journal is replayed in order), and also when the server lost our
 *   session while events were in flight (Paho 1.3 drops those; we re-send
 *   them from the journal - see pub_mqtt.c).
 * - Stats: QoS 0 to "<prefix>/stats"; dropped while disconnected.
 * - Advisories: "<prefix>/advisory/#" is subscribed with QoS 1 on every
 *   (re)connect (clean session off); each message is handed to on_advisory.
 * - Automatic reconnect (1 s .. 30 s back-off).
 *
 * Threading: pub_mqtt_publish_*(), pub_mqtt_flush() and the getters may be
 * called from any one thread (the publish thread); Paho's callbacks run on
 * Paho's own thread, and on_advisory is called there: it must be quick and
 * must hand the message on (copy it) - the payload is only valid during the
 * call.  Counters are atomic.
 */
#ifndef V2X_BROKER_PUB_MQTT_H
#define V2X_BROKER_PUB_MQTT_H

#include <stddef.h>
#include <stdint.h>

struct pub_mqtt_config {
	const char *uri;         /* tcp://host:1883, ssl://host:8883, mqtt://,
				  * mqtts://, ws:// and wss:// as Paho accepts */
	const char *client_id;   /* stable across restarts (persistence key) */
	const char *prefix;      /* "v2x/<rsu_id>" */
	const char *persist_dir; /* directory for the event journal and Paho's
				  * file persistence; NULL =
				  * current directory */
	const char *username, *password; /* NULL = none */
	const char *ca_file;     /* TLS trust store (PEM); NULL = system default */
	int keepalive_s;         /* 0 = 20 s */
	int json;                /* payload format flag, passed through (not
				  * interpreted here) */
	uint32_t max_buffered;   /* messages kept while offline; 0 = 100000 */
};

/* Counters (monotonic since pub_mqtt_new()). */
struct pub_mqtt_stats {
	uint64_t published;     /* events accepted by pub_mqtt_publish_event() */
	uint64_t acked;         /* events acknowledged by the server (PUBACK) */
	uint64_t failed;        /* delivery attempts Paho gave up (each is
				 * retried from the journal), and events
				 * dropped because the journal could not be
				 * written */
	uint64_t stats_sent;    /* QoS 0 stats handed to the network */
	uint64_t stats_dropped; /* QoS 0 stats dropped (disconnected) */
	uint64_t advisories;    /* advisory messages received */
	uint64_t connects;      /* successful (re)connections */
	uint64_t restored;      /* unacknowledged events replayed from the
				 * journal at pub_mqtt_new() */
};

struct pub_mqtt;

/* Advisory callback, see the threading note above. */
typedef void (*pub_mqtt_advisory_fn)(void *ctx, const char *topic,
				     const void *payload, size_t len);

/*
 * pub_mqtt_new() - create the client and start connecting (asynchronously:
 * returns before the connection is up; failure to reach the server is not
 * an error, it is retried).  The strings of @cfg are copied.  Returns NULL
 * on a bad configuration (unsupported URI, persist_dir not a writable
 * directory, ...) or out of memory, with a message in @err (may be NULL).
 * Free with pub_mqtt_free().
 */
struct pub_mqtt *pub_mqtt_new(const struct pub_mqtt_config *cfg,
			      pub_mqtt_advisory_fn on_advisory, void *ctx,
			      char *err, size_t errlen);

/*
 * pub_mqtt_publish_event() - publish @payload (copied) with QoS 1 to
 * "<prefix>/events/<type_name>".  Returns 0 when the event is accepted: a
 * worker thread of ours writes it to the journal and hands it to Paho (the
 * caller never waits for the disk or the network); an event that cannot be
 * journaled (disk full) is dropped and counted in failed.  -ENOBUFS when
 * max_buffered events are unacknowledged; -EINVAL for a bad argument
 * (payload > 16 MiB, topic > 511 bytes); -ENOMEM.  Allocates one small
 * record per event (events are rare; not for per-message data).
 */
int pub_mqtt_publish_event(struct pub_mqtt *pm, const char *type_name,
			   const void *payload, size_t len);

/*
 * pub_mqtt_publish_stats() - publish @payload with QoS 0 to
 * "<prefix>/stats".  Returns 0, or -ENOTCONN when disconnected (dropped,
 * counted), -EINVAL / -EIO as above.
 */
int pub_mqtt_publish_stats(struct pub_mqtt *pm, const void *payload, size_t len);

/* pub_mqtt_connected() - 1 if connected to the server now, else 0. */
int pub_mqtt_connected(const struct pub_mqtt *pm);

/*
 * pub_mqtt_buffered() - events not yet acknowledged (the journal's size):
 * in flight plus buffered while offline, including ones replayed from the
 * journal at start.
 */
uint64_t pub_mqtt_buffered(const struct pub_mqtt *pm);

/* pub_mqtt_get_stats() - copy the counters. */
void pub_mqtt_get_stats(const struct pub_mqtt *pm, struct pub_mqtt_stats *st);

/*
 * pub_mqtt_flush() - wait until no event is unacknowledged, or @timeout_ms.
 * Returns 0 when everything is acknowledged, -ETIMEDOUT otherwise.
 */
int pub_mqtt_flush(struct pub_mqtt *pm, int timeout_ms);

/*
 * pub_mqtt_free() - journal what was accepted, disconnect cleanly (giving
 * in-flight messages up to 1 s) and destroy the client; what is
 * unacknowledged stays in the journal
 * for the next pub_mqtt_new() with the same client id and persist_dir.
 * NULL is a no-op.
 */
void pub_mqtt_free(struct pub_mqtt *pm);

#endif
