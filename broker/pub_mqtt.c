/* SPDX-License-Identifier: MIT */
/*
 * pub_mqtt.c - MQTT publisher on the Paho C asynchronous client.  See
 * pub_mqtt.h.  The only file that includes a Paho header.
 *
 * Why our own journal.  Paho's file persistence (tested with Debian 12's
 * libpaho-mqtt3as, 1.3.11 inside) restores and resends QoS 1 messages that
 * were still queued (never sent) after a restart, but it discards messages
 * that were sent and not yet acknowledged as soon as it reconnects to a
 * server that has no session for the client ("Cleaning session state on
 * connect because sessionPresent is 0": a cloud broker restarted without
 * persistence, or a fail-over to another node) - reported as a failure in
 * the running process, silently after a restart.  Events must survive both,
 * so every event is written to a small journal - one file per
 * unacknowledged event in <persist_dir>/<client id>.journal/ - before it is
 * handed to Paho; the file is removed when the PUBACK arrives (onSuccess),
 * an event Paho reports as failed is handed to Paho again, and at start the
 * journal is replayed in publication order.  Delivery is at least once.
 * The journal is written without fsync: it survives a process crash or
 * restart, not a power loss of the edge server; an event accepted in the
 * last moments before a crash (still in the worker's inbox, normally
 * microseconds) is lost with it.  pub_mqtt_free() journals the inbox.  Events are rare (state
 * transitions, not per message), so the per-event allocation and file are
 * off the hot path.  Paho keeps its own file persistence in persist_dir
 * too, but with restoreMessages = 0 (cleared at start, so that nothing is
 * sent twice after a restart): without persistence the same library leaks
 * every message buffered while offline (seen under LeakSanitizer).
 *
 * Connection.  Paho's automatic reconnect only re-establishes a connection
 * that was once up; when the very first connect fails (cloud down while the
 * broker starts) Paho gives up, so a small retry thread of ours calls
 * MQTTAsync_connect() again with a 1 s .. 30 s back-off until it succeeds.
 * The same thread (the worker) writes accepted events to the journal and
 * hands them to Paho, so that the caller never waits for the disk, and
 * re-submits journal entries that Paho refused (offline buffer full).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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
#define PM_PAYLOAD_MAX (16u << 20)
#define PM_RETRY_MIN_S 1
#define PM_RETRY_MAX_S 30
#define PM_JOURNAL_MAGIC "V2XJ"

/*
 * One unacknowledged event: in the journal directory as <seq>.evt and on
 * pm->pending until the server acknowledged it.
 */
struct pm_entry {
	struct pub_mqtt *pm;
	struct pm_entry *prev, *next;
	struct pm_entry *inbox_next; /* link on pm->inbox or pm->retry */
	uint64_t seq;
	int queued;        /* a submission to Paho is outstanding or being
			    * made; 0 = on pm->retry (under lock) */
	uint16_t topic_len;
	uint32_t payload_len;
	char data[];       /* topic, NUL, payload */
};

struct pub_mqtt {
	MQTTAsync client;
	char *uri, *client_id, *prefix, *persist_dir;
	char *username, *password, *ca_file;
	char *advisory_filter;       /* "<prefix>/advisory/#" */
	char *journal_dir;           /* "<persist_dir>/<client id>.journal" */
	int keepalive_s;
	int tls;
	uint32_t max_buffered;
	pub_mqtt_advisory_fn on_advisory;
	void *ctx;

	atomic_int connected;
	atomic_uint_fast64_t published, acked, failed, restored;
	atomic_uint_fast64_t stats_sent, stats_dropped, advisories, connects;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock: */
	struct pm_entry *pending_head, *pending_tail;
	uint64_t pending_count;
	struct pm_entry *inbox_head, *inbox_tail; /* accepted, not journaled yet */
	uint64_t next_seq;
	struct pm_entry *retry_head, *retry_tail; /* journaled, to (re)submit */
	int stopping;
	int connect_failed;          /* a connect attempt failed */
	int connect_pending;         /* an attempt is running */
	int disconnect_done;

	pthread_t retry_thread;
	int retry_started;
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

/* ---- journal ---- */

static void pm__journal_path(const struct pub_mqtt *pm, uint64_t seq,
			     const char *ext, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%016llx.%s", pm->journal_dir,
		 (unsigned long long)seq, ext);
}

static int pm__write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Write @e as <seq>.evt, atomically (through a temporary name), so that a
 * crash never leaves a half-written entry behind under the final name.
 */
static int pm__journal_write(const struct pub_mqtt *pm, const struct pm_entry *e)
{
	char tmp[4096], path[4096];
	unsigned char hdr[12];
	int fd, ret;

	pm__journal_path(pm, e->seq, "tmp", tmp, sizeof(tmp));
	pm__journal_path(pm, e->seq, "evt", path, sizeof(path));
	memcpy(hdr, PM_JOURNAL_MAGIC, 4);
	hdr[4] = 1; /* version */
	hdr[5] = 0;
	hdr[6] = (unsigned char)(e->topic_len >> 8);
	hdr[7] = (unsigned char)e->topic_len;
	hdr[8] = (unsigned char)(e->payload_len >> 24);
	hdr[9] = (unsigned char)(e->payload_len >> 16);
	hdr[10] = (unsigned char)(e->payload_len >> 8);
	hdr[11] = (unsigned char)e->payload_len;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = pm__write_all(fd, hdr, sizeof(hdr));
	if (!ret)
		ret = pm__write_all(fd, e->data, e->topic_len);
	if (!ret)
		ret = pm__write_all(fd, e->data + e->topic_len + 1, e->payload_len);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static void pm__journal_remove(const struct pub_mqtt *pm, uint64_t seq)
{
	char path[4096];

	pm__journal_path(pm, seq, "evt", path, sizeof(path));
	unlink(path);
}

static struct pm_entry *pm__entry_new(struct pub_mqtt *pm, const char *topic,
				      size_t topic_len, const void *payload,
				      size_t payload_len)
{
	struct pm_entry *e = malloc(sizeof(*e) + topic_len + 1 + payload_len);

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->pm = pm;
	e->topic_len = (uint16_t)topic_len;
	e->payload_len = (uint32_t)payload_len;
	memcpy(e->data, topic, topic_len);
	e->data[topic_len] = '\0';
	if (payload_len)
		memcpy(e->data + topic_len + 1, payload, payload_len);
	return e;
}

/* Under lock. */
static void pm__pending_append(struct pub_mqtt *pm, struct pm_entry *e)
{
	e->next = NULL;
	e->prev = pm->pending_tail;
	if (pm->pending_tail)
		pm->pending_tail->next = e;
	else
		pm->pending_head = e;
	pm->pending_tail = e;
	pm->pending_count++;
}

/* Under lock. */
static void pm__pending_unlink(struct pub_mqtt *pm, struct pm_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		pm->pending_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		pm->pending_tail = e->prev;
	pm->pending_count--;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Read one journal file into a new entry; NULL if it is damaged. */
static struct pm_entry *pm__journal_read(struct pub_mqtt *pm, uint64_t seq)
{
	char path[4096];
	unsigned char hdr[12];
	struct pm_entry *e = NULL;
	size_t topic_len, payload_len;
	struct stat st;
	FILE *f;

	pm__journal_path(pm, seq, "evt", path, sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    memcmp(hdr, PM_JOURNAL_MAGIC, 4) || hdr[4] != 1)
		goto out;
	topic_len = (size_t)hdr[6] << 8 | hdr[7];
	payload_len = (size_t)hdr[8] << 24 | (size_t)hdr[9] << 16 |
		      (size_t)hdr[10] << 8 | hdr[11];
	if (topic_len == 0 || topic_len >= PM_TOPIC_MAX || payload_len > PM_PAYLOAD_MAX ||
	    (off_t)(sizeof(hdr) + topic_len + payload_len) != st.st_size)
		goto out;
	e = malloc(sizeof(*e) + topic_len + 1 + payload_len);
	if (!e)
		goto out;
	memset(e, 0, sizeof(*e));
	e->pm = pm;
	e->seq = seq;
	e->topic_len = (uint16_t)topic_len;
	e->payload_len = (uint32_t)payload_len;
	if (fread(e->data, 1, topic_len, f) != topic_len ||
	    fread(e->data + topic_len + 1, 1, payload_len, f) != payload_len) {
		free(e);
		e = NULL;
		goto out;
	}
	e->data[topic_len] = '\0';
out:
	fclose(f);
	return e;
}

/*
 * Load the journal left by a previous run into pm->pending, oldest first.
 * Damaged files are renamed to <seq>.bad and skipped.  Returns the number
 * loaded or -errno.
 */
static int pm__journal_load(struct pub_mqtt *pm)
{
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	if (mkdir(pm->journal_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	dir = opendir(pm->journal_dir);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		unsigned long long seq = strtoull(de->d_name, &end, 16);

		if (end != de->d_name + 16)
			continue;
		/* Never reuse a number, whatever became of its file. */
		if (seq >= pm->next_seq)
			pm->next_seq = seq + 1;
		if (!strcmp(end, ".tmp")) {
			/* An entry whose write never completed: not published. */
			char path[4096];

			pm__journal_path(pm, seq, "tmp", path, sizeof(path));
			unlink(path);
			continue;
		}
		if (strcmp(end, ".evt"))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *grown = realloc(seqs, ncap * sizeof(*seqs));

			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			seqs = grown;
			cap = ncap;
		}
		seqs[n++] = seq;
	}
	if (n)
		qsort(seqs, n, sizeof(*seqs), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		struct pm_entry *e = pm__journal_read(pm, seqs[i]);

		if (!e) {
			char from[4096], to[4096];

			pm__journal_path(pm, seqs[i], "evt", from, sizeof(from));
			pm__journal_path(pm, seqs[i], "bad", to, sizeof(to));
			rename(from, to);
			continue;
		}
		pm__pending_append(pm, e);
		ret++;
	}
out:
	closedir(dir);
	free(seqs);
	return ret;
}

/* ---- Paho callbacks: all on Paho's thread ---- */

/* Under lock: queue @e for (re)submission by the worker. */
static void pm__retry_push(struct pub_mqtt *pm, struct pm_entry *e)
{
	e->queued = 0;
	e->inbox_next = NULL;
	if (pm->retry_tail)
		pm->retry_tail->inbox_next = e;
	else
		pm->retry_head = e;
	pm->retry_tail = e;
}

static void pm__on_publish_success(void *context, MQTTAsync_successData *resp)
{
	struct pm_entry *e = context;
	struct pub_mqtt *pm = e->pm;

	pm__journal_remove(pm, e->seq);
	/* Counted first: a flush that sees the journal empty sees the count. */
	atomic_fetch_add(&pm->acked, 1);
	pthread_mutex_lock(&pm->lock);
	pm__pending_unlink(pm, e);
	pthread_cond_broadcast(&pm->cond);
	pthread_mutex_unlock(&pm->lock);
	free(e);
}

static int pm__send(struct pub_mqtt *pm, struct pm_entry *e);

static void pm__on_publish_failure(void *context, MQTTAsync_failureData *resp)
{
	struct pm_entry *e = context;
	struct pub_mqtt *pm = e->pm;
	int stopping;

	atomic_fetch_add(&pm->failed, 1);
	pthread_mutex_lock(&pm->lock);
	stopping = pm->stopping;
	pthread_mutex_unlock(&pm->lock);
	/*
	 * Paho gave the message up (typically: the server lost our session).
	 * It is still in the journal: hand it over again, unless we are
	 * shutting down, when the journal keeps it for the next start.  The
	 * entry stays claimed (queued) meanwhile, so that the retry thread
	 * never submits it a second time.
	 */
	if (stopping || pm__send(pm, e) < 0) {
		pthread_mutex_lock(&pm->lock);
		pm__retry_push(pm, e);
		pthread_cond_broadcast(&pm->cond);
		pthread_mutex_unlock(&pm->lock);
	}
}

/*
 * Hand @e to Paho (QoS 1).  The caller has claimed it (e->queued = 1 under
 * the lock): at most one submission of an entry is outstanding, so its
 * completion is the only one that can free it.  Returns 0 or the converted
 * Paho error.
 */
static int pm__send(struct pub_mqtt *pm, struct pm_entry *e)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	msg.payload = e->data + e->topic_len + 1; /* Paho copies it */
	msg.payloadlen = (int)e->payload_len;
	msg.qos = 1;
	ro.onSuccess = pm__on_publish_success;
	ro.onFailure = pm__on_publish_failure;
	ro.context = e;
	return pm__errno(MQTTAsync_sendMessage(pm->client, e->data, &msg, &ro));
}

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
	pm->connect_pending = 0;
	pm->connect_failed = 0;
	pthread_cond_broadcast(&pm->cond);
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

	/*
	 * Hand the callback a NUL-terminated topic even when Paho gave a
	 * length.  An empty message is how MQTT deletes a retained one (a
	 * traffic centre that keeps its closures retained, so that an RSU
	 * starting up learns them, deletes one this way when it ends): no
	 * advisory, nothing to relay.
	 */
	if (n < sizeof(name) && msg->payloadlen > 0) {
		memcpy(name, topic, n);
		name[n] = '\0';
		atomic_fetch_add(&pm->advisories, 1);
		if (pm->on_advisory)
			pm->on_advisory(pm->ctx, name, msg->payload, (size_t)msg->payloadlen);
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
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

/* ---- connecting, retrying ---- */

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

/*
 * Hand the journaled entries waiting on pm->retry to Paho, oldest first,
 * until Paho refuses one (it goes back to the front).  Worker thread,
 * called without the lock.
 */
static void pm__resubmit(struct pub_mqtt *pm)
{
	for (;;) {
		struct pm_entry *e;

		pthread_mutex_lock(&pm->lock);
		e = pm->retry_head;
		if (!e || pm->stopping) {
			pthread_mutex_unlock(&pm->lock);
			return;
		}
		pm->retry_head = e->inbox_next;
		if (!pm->retry_head)
			pm->retry_tail = NULL;
		e->queued = 1;
		pthread_mutex_unlock(&pm->lock);
		if (pm__send(pm, e) < 0) {
			pthread_mutex_lock(&pm->lock);
			e->queued = 0;
			e->inbox_next = pm->retry_head;
			pm->retry_head = e;
			if (!pm->retry_tail)
				pm->retry_tail = e;
			pthread_mutex_unlock(&pm->lock);
			return;
		}
	}
}

/*
 * Journal the accepted events, oldest first, and hand each to Paho (worker
 * thread; called without the lock).  An event that cannot be journaled
 * (disk full, ...) is dropped and counted as failed.
 */
static void pm__drain_inbox(struct pub_mqtt *pm)
{
	for (;;) {
		struct pm_entry *e;

		pthread_mutex_lock(&pm->lock);
		e = pm->inbox_head;
		if (e) {
			pm->inbox_head = e->inbox_next;
			if (!pm->inbox_head)
				pm->inbox_tail = NULL;
		}
		pthread_mutex_unlock(&pm->lock);
		if (!e)
			return;
		/* Journal first: once Paho has it, the PUBACK may come at any time. */
		if (pm__journal_write(pm, e) < 0) {
			atomic_fetch_add(&pm->failed, 1);
			pthread_mutex_lock(&pm->lock);
			pm__pending_unlink(pm, e);
			pthread_cond_broadcast(&pm->cond);
			pthread_mutex_unlock(&pm->lock);
			free(e);
			continue;
		}
		if (pm__send(pm, e) < 0) {
			pthread_mutex_lock(&pm->lock);
			pm__retry_push(pm, e);
			pthread_mutex_unlock(&pm->lock);
		}
	}
}

static void *pm__retry_main(void *arg)
{
	struct pub_mqtt *pm = arg;
	int delay_s = PM_RETRY_MIN_S;
	time_t next_connect = 0;

	pthread_mutex_lock(&pm->lock);
	/* At shutdown, what was accepted is still journaled before we leave. */
	while (!pm->stopping || pm->inbox_head) {
		struct timespec until, mono;
		time_t now;

		/* Back-off in monotonic seconds: wall-clock steps do not matter. */
		clock_gettime(CLOCK_MONOTONIC, &mono);
		now = mono.tv_sec;

		/* Older entries first: the replayed journal, then new events. */
		if (pm->retry_head && !pm->stopping) {
			pthread_mutex_unlock(&pm->lock);
			pm__resubmit(pm);
			pthread_mutex_lock(&pm->lock);
		}
		if (pm->inbox_head) {
			pthread_mutex_unlock(&pm->lock);
			pm__drain_inbox(pm);
			pthread_mutex_lock(&pm->lock);
			continue;
		}
		if (pm->stopping)
			break;
		if (pm->connect_failed && !pm->connect_pending && !atomic_load(&pm->connected)) {
			if (!next_connect)
				next_connect = now + delay_s;
			if (now >= next_connect) {
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
				delay_s = delay_s * 2 > PM_RETRY_MAX_S ? PM_RETRY_MAX_S
								       : delay_s * 2;
				next_connect = 0;
				continue;
			}
		} else if (atomic_load(&pm->connected)) {
			delay_s = PM_RETRY_MIN_S;
			next_connect = 0;
		}
		/* Wake at least once a second for refused entries and back-off. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&pm->cond, &pm->lock, &until);
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

struct pub_mqtt *pub_mqtt_new(const struct pub_mqtt_config *cfg,
			      pub_mqtt_advisory_fn on_advisory, void *ctx,
			      char *err, size_t errlen)
{
	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	struct pub_mqtt *pm = NULL;
	struct stat st;
	size_t len;
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
	if (strlen(cfg->prefix) > PM_TOPIC_MAX / 2) {
		pm__set_err(err, errlen, "mqtt: topic prefix '%s' is too long", cfg->prefix);
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
	len = strlen(cfg->prefix) + sizeof("/advisory/#");
	pm->advisory_filter = malloc(len);
	if (!pm->advisory_filter)
		goto nomem;
	snprintf(pm->advisory_filter, len, "%s/advisory/#", cfg->prefix);
	/* The client id names the journal; keep it a plain file name. */
	len = strlen(pm->persist_dir) + 1 + strlen(cfg->client_id) + sizeof(".journal");
	pm->journal_dir = malloc(len);
	if (!pm->journal_dir)
		goto nomem;
	snprintf(pm->journal_dir, len, "%s/", pm->persist_dir);
	for (const char *c = cfg->client_id; *c; c++) {
		char ch = *c;
		size_t at = strlen(pm->journal_dir);

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			ch = '_';
		pm->journal_dir[at] = ch;
		pm->journal_dir[at + 1] = '\0';
	}
	strcat(pm->journal_dir, ".journal");
	pm->keepalive_s = cfg->keepalive_s > 0 ? cfg->keepalive_s : 20;
	pm->tls = pm__is_tls(cfg->uri);
	pm->max_buffered = cfg->max_buffered ? cfg->max_buffered : 100000;
	pm->on_advisory = on_advisory;
	pm->ctx = ctx;
	pm->next_seq = 1;

	rc = pm__journal_load(pm);
	if (rc < 0) {
		pm__set_err(err, errlen, "mqtt: cannot read the journal in '%s'",
			    pm->journal_dir);
		goto fail;
	}
	atomic_store(&pm->restored, (uint64_t)rc);

	cro.sendWhileDisconnected = 1;
	cro.allowDisconnectedSendAtAnyTime = 1;
	/* Paho's buffer holds what the journal holds, plus room for retries. */
	cro.maxBufferedMessages = pm->max_buffered > INT32_MAX / 2 ? INT32_MAX
			: (int)(pm->max_buffered * 2 + 16);
	cro.MQTTVersion = MQTTVERSION_3_1_1;
	cro.deleteOldestMessages = 0;
	cro.restoreMessages = 0;
	rc = MQTTAsync_createWithOptions(&pm->client, pm->uri, pm->client_id,
					 MQTTCLIENT_PERSISTENCE_DEFAULT, pm->persist_dir, &cro);
	if (rc != MQTTASYNC_SUCCESS) {
		pm->client = NULL;
		pm__set_err(err, errlen, "mqtt: cannot create client: %s",
			    MQTTAsync_strerror(rc));
		goto fail;
	}
	rc = MQTTAsync_setCallbacks(pm->client, pm, pm__on_connection_lost,
				    pm__on_message, NULL);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(pm->client, pm, pm__on_connected);
	if (rc != MQTTASYNC_SUCCESS) {
		pm__set_err(err, errlen, "mqtt: cannot set callbacks: %s",
			    MQTTAsync_strerror(rc));
		goto fail;
	}
	/*
	 * The worker replays the journal, oldest first (Paho buffers until
	 * connected), so that a long backlog does not delay the start.
	 */
	pthread_mutex_lock(&pm->lock);
	for (struct pm_entry *e = pm->pending_head; e; e = e->next)
		pm__retry_push(pm, e);
	pthread_mutex_unlock(&pm->lock);

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
	char topic[PM_TOPIC_MAX];
	struct pm_entry *e;
	int n;

	if (!pm || !type_name || !type_name[0] || (!payload && len) ||
	    len > PM_PAYLOAD_MAX)
		return -EINVAL;
	n = snprintf(topic, sizeof(topic), "%s/events/%s", pm->prefix, type_name);
	if (n < 0 || (size_t)n >= sizeof(topic))
		return -EINVAL;
	e = pm__entry_new(pm, topic, (size_t)n, payload, len);
	if (!e)
		return -ENOMEM;
	pthread_mutex_lock(&pm->lock);
	if (pm->pending_count >= pm->max_buffered) {
		pthread_mutex_unlock(&pm->lock);
		free(e);
		return -ENOBUFS;
	}
	e->seq = pm->next_seq++;
	/*
	 * Claimed for the worker thread, which journals it and hands it to
	 * Paho: a file creation costs 0.1-1 ms on a busy disk, which the
	 * caller's (publishing) thread must not wait for.
	 */
	e->queued = 1;
	pm__pending_append(pm, e);
	e->inbox_next = NULL;
	if (pm->inbox_tail)
		pm->inbox_tail->inbox_next = e;
	else
		pm->inbox_head = e;
	pm->inbox_tail = e;
	pthread_cond_broadcast(&pm->cond);
	pthread_mutex_unlock(&pm->lock);
	atomic_fetch_add(&pm->published, 1);
	return 0;
}

int pub_mqtt_publish_stats(struct pub_mqtt *pm, const void *payload, size_t len)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	char topic[PM_TOPIC_MAX];
	int n, rc;

	if (!pm || (!payload && len) || len > PM_PAYLOAD_MAX)
		return -EINVAL;
	if (!atomic_load(&pm->connected)) {
		atomic_fetch_add(&pm->stats_dropped, 1);
		return -ENOTCONN;
	}
	n = snprintf(topic, sizeof(topic), "%s/stats", pm->prefix);
	if (n < 0 || (size_t)n >= sizeof(topic))
		return -EINVAL;
	msg.payload = (void *)payload; /* Paho copies it */
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
	struct pub_mqtt *mpm = (struct pub_mqtt *)pm;
	uint64_t n;

	if (!pm)
		return 0;
	/* The lock is logically const: it only orders the read. */
	pthread_mutex_lock(&mpm->lock);
	n = mpm->pending_count;
	pthread_mutex_unlock(&mpm->lock);
	return n;
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
	struct timespec until;
	int ret = 0;

	if (!pm)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pm->lock);
	while (pm->pending_count && ret == 0)
		ret = pthread_cond_timedwait(&pm->cond, &pm->lock, &until);
	ret = pm->pending_count ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&pm->lock);
	return ret;
}

void pub_mqtt_free(struct pub_mqtt *pm)
{
	struct pm_entry *e;

	if (!pm)
		return;
	pthread_mutex_lock(&pm->lock);
	pm->stopping = 1;
	pthread_cond_broadcast(&pm->cond);
	pthread_mutex_unlock(&pm->lock);
	if (pm->retry_started)
		pthread_join(pm->retry_thread, NULL);
	if (pm->client) {
		MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;

		/* Give what is in flight a second to be acknowledged. */
		dopt.timeout = 1000;
		dopt.onSuccess = pm__on_disconnect_done;
		dopt.onFailure = pm__on_disconnect_failed;
		dopt.context = pm;
		if (MQTTAsync_disconnect(pm->client, &dopt) == MQTTASYNC_SUCCESS) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 3;
			pthread_mutex_lock(&pm->lock);
			while (!pm->disconnect_done &&
			       pthread_cond_timedwait(&pm->cond, &pm->lock, &until) == 0)
				;
			pthread_mutex_unlock(&pm->lock);
		}
		/* After this no callback runs any more. */
		MQTTAsync_destroy(&pm->client);
	}
	/* What is still pending stays in the journal for the next start. */
	while ((e = pm->pending_head) != NULL) {
		pm->pending_head = e->next;
		free(e);
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
	free(pm->journal_dir);
	free(pm);
}
