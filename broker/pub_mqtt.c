/* SPDX-License-Identifier: MIT */
/*
 * pub_mqtt.c - MQTT publisher on the Paho C asynchronous client.  See
 * pub_mqtt.h.  The only file that includes a Paho header.
 *
 * Delivery accounting.  Every QoS 1 event we accept is "published"; it is
 * "acked" when Paho reports delivery complete (the PUBACK arrived), which
 * it also does for messages restored from persistence after a restart, so
 * that pub_mqtt_buffered() = restored + published - acked - failed.
 *
 * Connection.  Paho's automatic reconnect only re-establishes a connection
 * that was once up; when the very first connect fails (cloud down while the
 * broker starts) Paho gives up, so a small retry thread of ours calls
 * MQTTAsync_connect() again with a 1 s .. 30 s back-off until it succeeds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "v2x/error.h"
#include "pub_mqtt.h"

#define PM_TOPIC_MAX 512
#define PM_RETRY_MIN_S 1
#define PM_RETRY_MAX_S 30

struct pub_mqtt {
	MQTTAsync client;
	char *uri, *client_id, *prefix, *persist_dir;
	char *username, *password, *ca_file;
	char *advisory_filter;       /* "<prefix>/advisory/#" */
	int keepalive_s;
	int tls;
	pub_mqtt_advisory_fn on_advisory;
	void *ctx;

	atomic_int connected;
	atomic_uint_fast64_t published, acked, failed, restored;
	atomic_uint_fast64_t stats_sent, stats_dropped, advisories, connects;

	/* Retry thread for connects that fail before the first success. */
	pthread_t retry_thread;
	int retry_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;                /* under lock */
	int connect_failed;          /* under lock: a connect attempt failed */
	int connect_pending;         /* under lock: an attempt is running */
	int ever_connected;          /* under lock */
	int disconnect_done;         /* under lock */
};

/* Paho's return codes to ours; the only place that knows them. */
static int pm__errno(int rc)
{
	switch (rc) {
	case MQTTASYNC_SUCCESS:
		return 0;
	case MQTTASYNC_MAX_BUFFERED_MESSAGES:
	case MQTTASYNC_MAX_BUFFERED:
	case MQTTASYNC_MAX_MESSAGES_INFLIGHT:
	case MQTTASYNC_NO_MORE_MSGIDS:
		return -ENOBUFS;
	case MQTTASYNC_DISCONNECTED:
		return -ENOTCONN;
	case MQTTASYNC_NULL_PARAMETER:
	case MQTTASYNC_BAD_UTF8_STRING:
	case MQTTASYNC_TOPICNAME_TRUNCATED:
	case MQTTASYNC_BAD_STRUCTURE:
	case MQTTASYNC_BAD_QOS:
	case MQTTASYNC_BAD_MQTT_OPTION:
	case MQTTASYNC_WRONG_MQTT_VERSION:
	case MQTTASYNC_0_LEN_WILL_TOPIC:
		return -EINVAL;
	case MQTTASYNC_SSL_NOT_SUPPORTED:
	case MQTTASYNC_BAD_PROTOCOL:
		return -EPROTONOSUPPORT;
	case MQTTASYNC_OPERATION_INCOMPLETE:
	case MQTTASYNC_COMMAND_IGNORED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static void pm__set_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg ? arg : "");
}

static int pm__dup(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* ---- Paho callbacks: all on Paho's thread ---- */

static void pm__on_connection_lost(void *context, char *cause)
{
	struct pub_mqtt *pm = context;

	atomic_store(&pm->connected, 0);
}

static void pm__on_subscribe_failure(void *context, MQTTAsync_failureData *resp)
{
	/* Retried on the next reconnect; nothing else to do here. */
}

static void pm__on_connected(void *context, char *cause)
{
	struct pub_mqtt *pm = context;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	atomic_store(&pm->connected, 1);
	atomic_fetch_add(&pm->connects, 1);
	pthread_mutex_lock(&pm->lock);
	pm->ever_connected = 1;
	pm->connect_pending = 0;
	pm->connect_failed = 0;
	pthread_mutex_unlock(&pm->lock);
	/*
	 * The session is persistent (clean session off), but a server that
	 * lost it would not deliver advisories any more: subscribe every time.
	 */
	ro.onFailure = pm__on_subscribe_failure;
	ro.context = pm;
	MQTTAsync_subscribe(pm->client, pm->advisory_filter, 1, &ro);
}

static void pm__on_connect_success(void *context, MQTTAsync_successData *resp)
{
	struct pub_mqtt *pm = context;

	atomic_store(&pm->connected, 1);
	pthread_mutex_lock(&pm->lock);
	pm->connect_pending = 0;
	pthread_mutex_unlock(&pm->lock);
}

static void pm__on_connect_failure(void *context, MQTTAsync_failureData *resp)
{
	struct pub_mqtt *pm = context;

	atomic_store(&pm->connected, 0);
	pthread_mutex_lock(&pm->lock);
	pm->connect_pending = 0;
	pm->connect_failed = 1;
	pthread_cond_broadcast(&pm->cond);
	pthread_mutex_unlock(&pm->lock);
}

static int pm__on_message(void *context, char *topic, int topic_len,
			  MQTTAsync_message *msg)
{
	struct pub_mqtt *pm = context;
	char name[PM_TOPIC_MAX];
	size_t n = topic_len > 0 ? (size_t)topic_len : strlen(topic);

	/* Hand the callback a NUL-terminated topic even when Paho gave a length. */
	if (n < sizeof(name)) {
		memcpy(name, topic, n);
		name[n] = '\0';
		atomic_fetch_add(&pm->advisories, 1);
		if (pm->on_advisory)
			pm->on_advisory(pm->ctx, name, msg->payload,
					(size_t)(msg->payloadlen > 0 ? msg->payloadlen : 0));
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

static void pm__on_delivered(void *context, MQTTAsync_token token)
{
	struct pub_mqtt *pm = context;

	atomic_fetch_add(&pm->acked, 1);
}

static void pm__on_publish_failure(void *context, MQTTAsync_failureData *resp)
{
	struct pub_mqtt *pm = context;

	atomic_fetch_add(&pm->failed, 1);
}

static void pm__on_disconnect_done(void *context, MQTTAsync_successData *resp)
{
	struct pub_mqtt *pm = context;

	pthread_mutex_lock(&pm->lock);
	pm->disconnect_done = 1;
	pthread_cond_broadcast(&pm->cond);
	pthread_mutex_unlock(&pm->lock);
}

static void pm__on_disconnect_failed(void *context, MQTTAsync_failureData *resp)
{
	pm__on_disconnect_done(context, NULL);
}

/* ---- connecting ---- */

static int pm__connect(struct pub_mqtt *pm)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;

	co.keepAliveInterval = pm->keepalive_s;
	co.cleansession = 0;
	co.automaticReconnect = 1;
	co.minRetryInterval = PM_RETRY_MIN_S;
	co.maxRetryInterval = PM_RETRY_MAX_S;
	co.connectTimeout = 10;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.username = pm->username;
	co.password = pm->password;
	co.onSuccess = pm__on_connect_success;
	co.onFailure = pm__on_connect_failure;
	co.context = pm;
	if (pm->tls) {
		ssl.trustStore = pm->ca_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		co.ssl = &ssl;
	}
	return pm__errno(MQTTAsync_connect(pm->client, &co));
}

static void *pm__retry_main(void *arg)
{
	struct pub_mqtt *pm = arg;
	int delay_s = PM_RETRY_MIN_S;

	pthread_mutex_lock(&pm->lock);
	while (!pm->stopping) {
		struct timespec until;

		if (!pm->connect_failed || pm->connect_pending) {
			pthread_cond_wait(&pm->cond, &pm->lock);
			continue;
		}
		/* A failed attempt: wait the back-off, then try again. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += delay_s;
		while (!pm->stopping &&
		       pthread_cond_timedwait(&pm->cond, &pm->lock, &until) == 0)
			;
		if (pm->stopping)
			break;
		if (atomic_load(&pm->connected) || !pm->connect_failed) {
			delay_s = PM_RETRY_MIN_S;
			continue;
		}
		pm->connect_failed = 0;
		pm->connect_pending = 1;
		pthread_mutex_unlock(&pm->lock);
		if (pm__connect(pm) < 0) {
			pthread_mutex_lock(&pm->lock);
			pm->connect_pending = 0;
			pm->connect_failed = 1;
		} else {
			pthread_mutex_lock(&pm->lock);
		}
		delay_s = delay_s * 2 > PM_RETRY_MAX_S ? PM_RETRY_MAX_S : delay_s * 2;
	}
	pthread_mutex_unlock(&pm->lock);
	return NULL;
}

/* ---- public ---- */

static int pm__is_tls(const char *uri)
{
	return !strncmp(uri, "ssl://", 6) || !strncmp(uri, "mqtts://", 8) ||
	       !strncmp(uri, "wss://", 6);
}

static int pm__uri_supported(const char *uri)
{
	return pm__is_tls(uri) || !strncmp(uri, "tcp://", 6) ||
	       !strncmp(uri, "mqtt://", 7) || !strncmp(uri, "ws://", 5);
}

static int pm__count_restored(struct pub_mqtt *pm)
{
	MQTTAsync_token *tokens = NULL;
	int n = 0;

	if (MQTTAsync_getPendingTokens(pm->client, &tokens) != MQTTASYNC_SUCCESS)
		return 0;
	if (tokens) {
		while (tokens[n] != -1)
			n++;
		MQTTAsync_free(tokens);
	}
	return n;
}

struct pub_mqtt *pub_mqtt_new(const struct pub_mqtt_config *cfg,
			      pub_mqtt_advisory_fn on_advisory, void *ctx,
			      char *err, size_t errlen)
{
	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	struct pub_mqtt *pm = NULL;
	struct stat st;
	size_t flen;
	int rc;

	if (!cfg || !cfg->uri || !cfg->client_id || !cfg->client_id[0] ||
	    !cfg->prefix || !cfg->prefix[0]) {
		pm__set_err(err, errlen, "mqtt: uri, client id and prefix are required%s", NULL);
		return NULL;
	}
	if (!pm__uri_supported(cfg->uri)) {
		pm__set_err(err, errlen, "mqtt: unsupported URI '%s' (tcp://, ssl://, mqtt://, mqtts://, ws://, wss://)",
			    cfg->uri);
		return NULL;
	}
	{
		const char *dir = cfg->persist_dir ? cfg->persist_dir : ".";

		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    access(dir, W_OK | X_OK) < 0) {
			pm__set_err(err, errlen, "mqtt: persistence directory '%s' is not a writable directory",
				    dir);
			return NULL;
		}
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		goto nomem;
	pthread_mutex_init(&pm->lock, NULL);
	pthread_cond_init(&pm->cond, NULL);
	if (pm__dup(&pm->uri, cfg->uri) || pm__dup(&pm->client_id, cfg->client_id) ||
	    pm__dup(&pm->prefix, cfg->prefix) ||
	    pm__dup(&pm->persist_dir, cfg->persist_dir ? cfg->persist_dir : ".") ||
	    pm__dup(&pm->username, cfg->username) ||
	    pm__dup(&pm->password, cfg->password) || pm__dup(&pm->ca_file, cfg->ca_file))
		goto nomem;
	flen = strlen(cfg->prefix) + sizeof("/advisory/#");
	pm->advisory_filter = malloc(flen);
	if (!pm->advisory_filter)
		goto nomem;
	snprintf(pm->advisory_filter, flen, "%s/advisory/#", cfg->prefix);
	pm->keepalive_s = cfg->keepalive_s > 0 ? cfg->keepalive_s : 20;
	pm->tls = pm__is_tls(cfg->uri);
	pm->on_advisory = on_advisory;
	pm->ctx = ctx;

	cro.struct_version = 3;
	cro.sendWhileDisconnected = 1;
	cro.allowDisconnectedSendAtAnyTime = 1;
	cro.maxBufferedMessages = cfg->max_buffered ? (int)cfg->max_buffered : 100000;
	cro.MQTTVersion = MQTTVERSION_3_1_1;
	cro.deleteOldestMessages = 0;
	cro.restoreMessages = 1;
	cro.persistQoS0 = 0;
	rc = MQTTAsync_createWithOptions(&pm->client, pm->uri, pm->client_id,
					 MQTTCLIENT_PERSISTENCE_DEFAULT,
					 pm->persist_dir, &cro);
	if (rc == MQTTASYNC_BAD_STRUCTURE) {
		/*
		 * Debian 12's library (1.3.11 inside) knows create options only
		 * up to version 2, without persistQoS0: QoS 0 stats are then
		 * persisted too while queued, which costs a file per stats
		 * message but changes nothing else (we send them only while
		 * connected).
		 */
		cro.struct_version = 2;
		rc = MQTTAsync_createWithOptions(&pm->client, pm->uri, pm->client_id,
						 MQTTCLIENT_PERSISTENCE_DEFAULT,
						 pm->persist_dir, &cro);
	}
	if (rc != MQTTASYNC_SUCCESS) {
		pm->client = NULL;
		pm__set_err(err, errlen, "mqtt: cannot create client: %s",
			    MQTTAsync_strerror(rc));
		goto fail;
	}
	atomic_store(&pm->restored, (uint64_t)pm__count_restored(pm));
	rc = MQTTAsync_setCallbacks(pm->client, pm, pm__on_connection_lost,
				    pm__on_message, pm__on_delivered);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(pm->client, pm, pm__on_connected);
	if (rc != MQTTASYNC_SUCCESS) {
		pm__set_err(err, errlen, "mqtt: cannot set callbacks: %s",
			    MQTTAsync_strerror(rc));
		goto fail;
	}
	if (pthread_create(&pm->retry_thread, NULL, pm__retry_main, pm) != 0) {
		pm__set_err(err, errlen, "mqtt: cannot start the retry thread%s", NULL);
		goto fail;
	}
	pm->retry_started = 1;
	pthread_mutex_lock(&pm->lock);
	pm->connect_pending = 1;
	pthread_mutex_unlock(&pm->lock);
	rc = pm__connect(pm);
	if (rc < 0) {
		pm__set_err(err, errlen, "mqtt: cannot start connecting: %s",
			    v2x_strerror(rc));
		goto fail;
	}
	return pm;
nomem:
	pm__set_err(err, errlen, "mqtt: out of memory%s", NULL);
fail:
	pub_mqtt_free(pm);
	return NULL;
}

int pub_mqtt_publish_event(struct pub_mqtt *pm, const char *type_name,
			   const void *payload, size_t len)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	char topic[PM_TOPIC_MAX];
	int n, rc;

	if (!pm || !type_name || !type_name[0] || (!payload && len) || len > INT32_MAX)
		return -EINVAL;
	n = snprintf(topic, sizeof(topic), "%s/events/%s", pm->prefix, type_name);
	if (n < 0 || (size_t)n >= sizeof(topic))
		return -EINVAL;
	msg.payload = (void *)payload; /* Paho copies it */
	msg.payloadlen = (int)len;
	msg.qos = 1;
	ro.onFailure = pm__on_publish_failure;
	ro.context = pm;
	/* Counted before the call: the delivery callback may run first. */
	atomic_fetch_add(&pm->published, 1);
	rc = pm__errno(MQTTAsync_sendMessage(pm->client, topic, &msg, &ro));
	if (rc < 0)
		atomic_fetch_sub(&pm->published, 1);
	return rc;
}

int pub_mqtt_publish_stats(struct pub_mqtt *pm, const void *payload, size_t len)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	char topic[PM_TOPIC_MAX];
	int n, rc;

	if (!pm || (!payload && len) || len > INT32_MAX)
		return -EINVAL;
	if (!atomic_load(&pm->connected)) {
		atomic_fetch_add(&pm->stats_dropped, 1);
		return -ENOTCONN;
	}
	n = snprintf(topic, sizeof(topic), "%s/stats", pm->prefix);
	if (n < 0 || (size_t)n >= sizeof(topic))
		return -EINVAL;
	msg.payload = (void *)payload;
	msg.payloadlen = (int)len;
	msg.qos = 0;
	rc = pm__errno(MQTTAsync_sendMessage(pm->client, topic, &msg, NULL));
	if (rc < 0)
		atomic_fetch_add(&pm->stats_dropped, 1);
	else
		atomic_fetch_add(&pm->stats_sent, 1);
	return rc;
}

int pub_mqtt_connected(const struct pub_mqtt *pm)
{
	return pm && atomic_load(&pm->connected) ? 1 : 0;
}

uint64_t pub_mqtt_buffered(const struct pub_mqtt *pm)
{
	uint64_t in, out;

	if (!pm)
		return 0;
	/* Read the completions first so that the difference never goes negative. */
	out = atomic_load(&pm->acked) + atomic_load(&pm->failed);
	in = atomic_load(&pm->restored) + atomic_load(&pm->published);
	return in > out ? in - out : 0;
}

void pub_mqtt_get_stats(const struct pub_mqtt *pm, struct pub_mqtt_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!pm)
		return;
	st->published = atomic_load(&pm->published);
	st->acked = atomic_load(&pm->acked);
	st->failed = atomic_load(&pm->failed);
	st->stats_sent = atomic_load(&pm->stats_sent);
	st->stats_dropped = atomic_load(&pm->stats_dropped);
	st->advisories = atomic_load(&pm->advisories);
	st->connects = atomic_load(&pm->connects);
	st->restored = atomic_load(&pm->restored);
}

int pub_mqtt_flush(struct pub_mqtt *pm, int timeout_ms)
{
	struct timespec start, now;

	if (!pm)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long elapsed_ms;

		if (pub_mqtt_buffered(pm) == 0)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 +
			     (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed_ms >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000000 }, NULL);
	}
}

void pub_mqtt_free(struct pub_mqtt *pm)
{
	if (!pm)
		return;
	if (pm->retry_started) {
		pthread_mutex_lock(&pm->lock);
		pm->stopping = 1;
		pthread_cond_broadcast(&pm->cond);
		pthread_mutex_unlock(&pm->lock);
		pthread_join(pm->retry_thread, NULL);
	}
	if (pm->client) {
		MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;

		dopt.timeout = 1000;
		dopt.onSuccess = pm__on_disconnect_done;
		dopt.onFailure = pm__on_disconnect_failed;
		dopt.context = pm;
		if (MQTTAsync_disconnect(pm->client, &dopt) == MQTTASYNC_SUCCESS) {
			struct timespec until;

			/* Wait for the disconnect to finish, bounded. */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 3;
			pthread_mutex_lock(&pm->lock);
			while (!pm->disconnect_done &&
			       pthread_cond_timedwait(&pm->cond, &pm->lock, &until) == 0)
				;
			pthread_mutex_unlock(&pm->lock);
		}
		MQTTAsync_destroy(&pm->client);
	}
	pthread_cond_destroy(&pm->cond);
	pthread_mutex_destroy(&pm->lock);
	free(pm->uri);
	free(pm->client_id);
	free(pm->prefix);
	free(pm->persist_dir);
	free(pm->username);
	free(pm->password);
	free(pm->ca_file);
	free(pm->advisory_filter);
	free(pm);
}
