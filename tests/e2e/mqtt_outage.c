/* SPDX-License-Identifier: MIT */
/*
 * mqtt_outage.c - end-to-end test of broker/pub_mqtt.c against a real
 * Mosquitto started on a free loopback port:
 *   1. QoS 1 events reach a subscriber; QoS 0 stats too;
 *   2. an advisory published by the cloud reaches the callback;
 *   3. outage: Mosquitto down, N events published and buffered
 *      (pub_mqtt_buffered() == N), Mosquitto back: all N delivered;
 *   4. restart survival: Mosquitto down, N events published,
 *      pub_mqtt_free() (the process "restarts"), a new pub_mqtt with the
 *      same client id and persist_dir, Mosquitto back: all N delivered;
 *   5. in flight at shutdown: events sent to a server that never
 *      acknowledges them, restart, real server on the same URI: delivered;
 *   6. the same without a restart: the server lost the session while
 *      events were in flight: delivered;
 *   7. TLS (ssl://, certificates made with the openssl tool): delivered
 *      with the right CA file, no connection with a foreign one.
 * Exit 0 pass, 77 skip (no mosquitto / mosquitto_sub), 1 fail.
 *
 * The subscriber (mosquitto_sub) holds a persistent session (-c, QoS 1) and
 * Mosquitto keeps sessions across its own restarts in a per-test directory,
 * so that the subscriber cannot miss messages while it reconnects.  The
 * events under test are published while Mosquitto is down, so they never
 * reached the server before it restarted: server persistence cannot mask a
 * message lost by the client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pub_mqtt.h"

#define MOSQUITTO "/usr/sbin/mosquitto"
#define MOSQUITTO_SUB "/usr/bin/mosquitto_sub"
#define MOSQUITTO_PUB "/usr/bin/mosquitto_pub"
#define PREFIX "v2x/e2e"

static char workdir[256];
static int port;
static pid_t broker_pid = -1, sub_pid = -1;
static char sub_file[300];
static int failures;
static char tls_ca[300];    /* when set: Mosquitto and its clients use TLS */

#define REPORT_FAIL(cond, ...)                                                 \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
	} while (0)

/* In main(): report, count and go to its cleanup. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			REPORT_FAIL(cond, __VA_ARGS__);                        \
			failures++;                                            \
			goto out;                                              \
		}                                                              \
	} while (0)

/* In the phase helpers: report and return -1 (main's CHECK counts it). */
#define REQUIRE(cond, ...)                                                     \
	do {                                                                   \
		if (!(cond)) {                                                 \
			REPORT_FAIL(cond, __VA_ARGS__);                        \
			return -1;                                             \
		}                                                              \
	} while (0)

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		p = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static int port_open(int p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t spawn(char *const argv[], const char *out_path)
{
	pid_t pid;

	/* The child must not inherit (and flush twice) our buffered output. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		if (out_path) {
			FILE *f = freopen(out_path, "a", stdout);

			if (!f)
				_exit(127);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static int broker_start(void)
{
	char conf[300], port_s[16];
	char *argv[] = { MOSQUITTO, "-c", conf, NULL };
	FILE *f;
	long t0 = now_ms();

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", workdir);
	snprintf(port_s, sizeof(port_s), "%d", port);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n"
		"persistence true\npersistence_location %s/\nautosave_interval 0\n"
		"log_dest file %s/mosquitto.log\n", port, workdir, workdir);
	if (tls_ca[0])
		fprintf(f, "cafile %s\ncertfile %s/server.crt\nkeyfile %s/server.key\n",
			tls_ca, workdir, workdir);
	fclose(f);
	broker_pid = spawn(argv, NULL);
	while (!port_open(port)) {
		if (now_ms() - t0 > 10000)
			return -1;
		sleep_ms(20);
	}
	return 0;
}

/* Lines of the subscriber output that contain @needle. */
static int count_lines(const char *needle)
{
	FILE *f = fopen(sub_file, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, needle))
			n++;
	}
	fclose(f);
	return n;
}

/* How many of "<tag>-0" .. "<tag>-(n-1)" the subscriber got (each counted once). */
static int count_unique(const char *tag, int n)
{
	char *seen = calloc((size_t)n, 1), line[1024];
	FILE *f = fopen(sub_file, "r");
	size_t tl = strlen(tag);
	int got = 0;

	if (!f || !seen) {
		free(seen);
		if (f)
			fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ' ');

		/* "-v" output: "<topic> <payload>" */
		if (!p || strncmp(p + 1, tag, tl) || p[1 + tl] != '-')
			continue;
		int i = atoi(p + 2 + tl);

		if (i >= 0 && i < n && !seen[i]) {
			seen[i] = 1;
			got++;
		}
	}
	fclose(f);
	free(seen);
	return got;
}

static void cloud_publish(const char *topic, const char *msg)
{
	char port_s[16];
	char *argv[] = { MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", port_s, "-q", "1",
			 "-t", (char *)topic, "-m", (char *)msg, NULL, NULL, NULL };
	pid_t pid;

	snprintf(port_s, sizeof(port_s), "%d", port);
	if (tls_ca[0]) {
		argv[11] = "--cafile";
		argv[12] = tls_ca;
	}
	pid = spawn(argv, NULL);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* Start the subscriber and wait until a probe message comes through. */
static int sub_start(void)
{
	char port_s[16];
	char *argv[] = { MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", port_s, "-i",
			 "e2e-sub", "-c", "-q", "1", "-v", "-t", PREFIX "/#", NULL,
			 NULL, NULL };
	long t0 = now_ms();
	int before = count_lines("probe");

	snprintf(port_s, sizeof(port_s), "%d", port);
	if (tls_ca[0]) {
		argv[13] = "--cafile";
		argv[14] = tls_ca;
	}
	sub_pid = spawn(argv, sub_file);
	while (count_lines("probe") == before) {
		if (now_ms() - t0 > 10000)
			return -1;
		cloud_publish(PREFIX "/probe", "probe");
		sleep_ms(100);
	}
	return 0;
}

static int wait_until(int (*cond)(void *), void *arg, long timeout_ms)
{
	long t0 = now_ms();

	while (!cond(arg)) {
		if (now_ms() - t0 > timeout_ms)
			return -1;
		sleep_ms(20);
	}
	return 0;
}

static int is_connected(void *pm)
{
	return pub_mqtt_connected(pm);
}

static int is_disconnected(void *pm)
{
	return !pub_mqtt_connected(pm);
}

struct advisory_seen {
	pthread_mutex_t lock;
	int n;
	char topic[128];
	char payload[128];
};

static void on_advisory(void *ctx, const char *topic, const void *payload, size_t len)
{
	struct advisory_seen *a = ctx;

	pthread_mutex_lock(&a->lock);
	a->n++;
	snprintf(a->topic, sizeof(a->topic), "%s", topic);
	snprintf(a->payload, sizeof(a->payload), "%.*s", (int)len, (const char *)payload);
	pthread_mutex_unlock(&a->lock);
}

static int advisory_arrived(void *arg)
{
	struct advisory_seen *a = arg;
	int n;

	pthread_mutex_lock(&a->lock);
	n = a->n;
	pthread_mutex_unlock(&a->lock);
	return n > 0;
}

static int stats_arrived(void *arg)
{
	return count_lines(PREFIX "/stats stats-1") == 1;
}

struct unique_wait {
	const char *tag;
	int n;
};

static int all_arrived(void *arg)
{
	struct unique_wait *w = arg;

	return count_unique(w->tag, w->n) == w->n;
}

static int publish_n(struct pub_mqtt *pm, const char *tag, int n)
{
	for (int i = 0; i < n; i++) {
		char payload[64];
		int len = snprintf(payload, sizeof(payload), "%s-%d", tag, i);
		int rc = pub_mqtt_publish_event(pm, "stopped_vehicle", payload, (size_t)len);

		if (rc != 0) {
			fprintf(stderr, "publish %s-%d: %d\n", tag, i, rc);
			return rc;
		}
	}
	return 0;
}

/*
 * A test CA and a server certificate for 127.0.0.1 in workdir, made with
 * the openssl command line tool.  Returns 0, or -1 if it is not available.
 */
static int make_certs(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && command -v openssl >/dev/null && "
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=v2x-test-ca "
		 "-keyout ca.key -out ca.crt >/dev/null 2>&1 && "
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
		 "-keyout other.key -out other.crt >/dev/null 2>&1 && "
		 "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
		 "-keyout server.key -out server.csr >/dev/null 2>&1 && "
		 "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
		 "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
		 "-CAcreateserial -days 2 -extfile ext.cnf -out server.crt >/dev/null 2>&1 && "
		 "chmod 644 ca.crt other.crt server.crt server.key",
		 workdir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A fake MQTT server that accepts one connection, answers CONNECT and
 * PINGREQ, and reads PUBLISH packets without ever acknowledging them: the
 * client's QoS 1 messages stay in flight.
 */
struct fake_server {
	int listen_fd;
	pthread_t thread;
	atomic_int publishes;
	atomic_int stop;
};

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void *fake_server_main(void *arg)
{
	struct fake_server *fs = arg;
	int fd = accept(fs->listen_fd, NULL, NULL);
	unsigned char hdr, body[65536];

	while (fd >= 0 && !atomic_load(&fs->stop) && read_full(fd, &hdr, 1) == 0) {
		size_t len = 0, mult = 1;
		unsigned char b;

		do {
			if (read_full(fd, &b, 1))
				goto out;
			len += (b & 127u) * mult;
			mult *= 128;
		} while ((b & 128u) && mult < 128u * 128 * 128 * 128);
		if (len > sizeof(body) || read_full(fd, body, len))
			break;
		switch (hdr >> 4) {
		case 1: /* CONNECT -> CONNACK accepted, no session */
			if (write(fd, "\x20\x02\x00\x00", 4) != 4)
				goto out;
			break;
		case 3: /* PUBLISH: swallowed, never acknowledged */
			atomic_fetch_add(&fs->publishes, 1);
			break;
		case 12: /* PINGREQ -> PINGRESP */
			if (write(fd, "\xd0\x00", 2) != 2)
				goto out;
			break;
		case 14: /* DISCONNECT */
			goto out;
		default:
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int fake_server_start(struct fake_server *fs, int p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	atomic_store(&fs->publishes, 0);
	atomic_store(&fs->stop, 0);
	fs->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fs->listen_fd < 0)
		return -1;
	setsockopt(fs->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fs->listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fs->listen_fd, 4))
		return -1;
	return pthread_create(&fs->thread, NULL, fake_server_main, fs) ? -1 : 0;
}

static void fake_server_stop(struct fake_server *fs)
{
	atomic_store(&fs->stop, 1);
	/* Unblock accept() if nobody ever connected. */
	shutdown(fs->listen_fd, SHUT_RDWR);
	pthread_join(fs->thread, NULL);
	close(fs->listen_fd);
}

static int fake_got_all(void *arg)
{
	struct fake_server *fs = arg;

	return atomic_load(&fs->publishes) >= 20;
}

/*
 * Flush @pm within @timeout_ms and wait until the subscriber has every one
 * of the @n events tagged @tag.
 */
static int flush_and_wait(struct pub_mqtt *pm, const char *tag, int n, long timeout_ms)
{
	struct unique_wait w = { tag, n };

	REQUIRE(pub_mqtt_flush(pm, timeout_ms) == 0, "%s flush: %llu unacked", tag,
		(unsigned long long)pub_mqtt_buffered(pm));
	REQUIRE(wait_until(all_arrived, &w, 10000) == 0, "%s: %d of %d arrived", tag,
		count_unique(tag, n), n);
	return 0;
}

/* Mosquitto and the subscriber back on port; the @n @tag events delivered. */
static int restart_and_deliver(struct pub_mqtt *pm, const char *tag, int n)
{
	REQUIRE(broker_start() == 0, "mosquitto (re)start on port %d", port);
	REQUIRE(sub_start() == 0, "subscriber (re)start");
	return flush_and_wait(pm, tag, n, 60000);
}

/*
 * Stop the publisher and start it again on the same journal: the @n events
 * it had not delivered must be restored and still buffered.
 */
static int reopen_restored(struct pub_mqtt **pm, const struct pub_mqtt_config *cfg,
			   struct advisory_seen *adv, int n)
{
	struct pub_mqtt_stats st;
	char err[256];

	pub_mqtt_free(*pm);
	*pm = pub_mqtt_new(cfg, on_advisory, adv, err, sizeof(err));
	REQUIRE(*pm, "pub_mqtt_new again: %s", err);
	pub_mqtt_get_stats(*pm, &st);
	REQUIRE(st.restored == (uint64_t)n, "restored %llu, want %d",
		(unsigned long long)st.restored, n);
	REQUIRE(pub_mqtt_buffered(*pm) == (uint64_t)n, "buffered after restart %llu",
		(unsigned long long)pub_mqtt_buffered(*pm));
	return 0;
}

/*
 * Mosquitto and the subscriber stopped; a fake server that receives but
 * never acknowledges on a new port; a publisher with @client_id connected
 * to it, which sends it @n events tagged @tag.  The fake server is left
 * running.
 */
static int publish_unacked(struct fake_server *fake, struct pub_mqtt **pm,
			   struct pub_mqtt_config *cfg, char *uri, size_t uri_len,
			   struct advisory_seen *adv, const char *client_id,
			   const char *tag, int n)
{
	char err[256];

	pub_mqtt_free(*pm);
	*pm = NULL;
	stop(&sub_pid);
	stop(&broker_pid);
	port = free_port();
	REQUIRE(port > 0 && fake_server_start(fake, port) == 0, "fake server");
	snprintf(uri, uri_len, "tcp://127.0.0.1:%d", port);
	cfg->client_id = client_id;
	*pm = pub_mqtt_new(cfg, on_advisory, adv, err, sizeof(err));
	REQUIRE(*pm, "pub_mqtt_new: %s", err);
	REQUIRE(wait_until(is_connected, *pm, 10000) == 0, "not connected to fake server");
	REQUIRE(publish_n(*pm, tag, n) == 0, "publish");
	REQUIRE(wait_until(fake_got_all, fake, 10000) == 0, "fake server got %d",
		atomic_load(&fake->publishes));
	return 0;
}

int main(void)
{
	struct advisory_seen adv = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct pub_mqtt_config cfg = { 0 };
	struct pub_mqtt_stats st;
	struct pub_mqtt *pm = NULL;
	char uri[64], persist[300], err[256];
	enum { N_LIVE = 50, N_OUTAGE = 200, N_RESTART = 100, N_INFLIGHT = 20 };
	struct fake_server fake;

	if (access(MOSQUITTO, X_OK) || access(MOSQUITTO_SUB, X_OK) ||
	    access(MOSQUITTO_PUB, X_OK)) {
		fprintf(stderr, "SKIP: mosquitto, mosquitto_sub or mosquitto_pub not installed\n");
		return 77;
	}
	snprintf(workdir, sizeof(workdir), "/tmp/v2x-mqtt-e2e-XXXXXX");
	if (!mkdtemp(workdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* Mosquitto started as root runs as user mosquitto: let it write here. */
	chmod(workdir, 0777);
	snprintf(sub_file, sizeof(sub_file), "%s/sub.out", workdir);
	snprintf(persist, sizeof(persist), "%s/persist", workdir);
	mkdir(persist, 0700);
	port = free_port();
	CHECK(port > 0, "no free port");
	CHECK(broker_start() == 0, "mosquitto did not start on port %d", port);
	CHECK(sub_start() == 0, "subscriber not ready");

	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	cfg.uri = uri;
	cfg.client_id = "v2x-e2e-rsu";
	cfg.prefix = PREFIX;
	cfg.persist_dir = persist;
	cfg.keepalive_s = 5;
	cfg.max_buffered = 10000;
	pm = pub_mqtt_new(&cfg, on_advisory, &adv, err, sizeof(err));
	CHECK(pm, "pub_mqtt_new: %s", err);
	CHECK(wait_until(is_connected, pm, 10000) == 0, "not connected");

	/* 1. Live delivery. */
	CHECK(publish_n(pm, "live", N_LIVE) == 0, "publish");
	CHECK(flush_and_wait(pm, "live", N_LIVE, 10000) == 0, "live delivery");
	CHECK(count_lines(PREFIX "/events/stopped_vehicle live-") == N_LIVE,
	      "live: duplicates or wrong topic");
	CHECK(pub_mqtt_publish_stats(pm, "stats-1", 7) == 0, "stats");
	CHECK(wait_until(stats_arrived, NULL, 10000) == 0, "stats not received");
	pub_mqtt_get_stats(pm, &st);
	CHECK(st.published == N_LIVE && st.acked == N_LIVE && st.failed == 0,
	      "counters %llu/%llu/%llu", (unsigned long long)st.published,
	      (unsigned long long)st.acked, (unsigned long long)st.failed);
	printf("ok 1 - live delivery of %d QoS 1 events and a QoS 0 stats message\n", N_LIVE);

	/* 2. Advisory from the cloud. */
	cloud_publish(PREFIX "/advisory/work_zone", "slow down");
	CHECK(wait_until(advisory_arrived, &adv, 10000) == 0, "no advisory");
	CHECK(!strcmp(adv.topic, PREFIX "/advisory/work_zone"), "topic %s", adv.topic);
	CHECK(!strcmp(adv.payload, "slow down"), "payload %s", adv.payload);
	printf("ok 2 - advisory delivered to the callback\n");

	/* 3. Outage: Mosquitto down, publish, Mosquitto back. */
	stop(&sub_pid);
	stop(&broker_pid);
	CHECK(wait_until(is_disconnected, pm, 30000) == 0, "still connected");
	CHECK(pub_mqtt_publish_stats(pm, "x", 1) == -ENOTCONN, "stats while down");
	CHECK(publish_n(pm, "outage", N_OUTAGE) == 0, "publish while down");
	CHECK(pub_mqtt_buffered(pm) == N_OUTAGE, "buffered %llu, want %d",
	      (unsigned long long)pub_mqtt_buffered(pm), N_OUTAGE);
	sleep_ms(1500); /* a reconnect attempt or two fails meanwhile */
	CHECK(pub_mqtt_buffered(pm) == N_OUTAGE, "buffered %llu after failed reconnects",
	      (unsigned long long)pub_mqtt_buffered(pm));
	CHECK(restart_and_deliver(pm, "outage", N_OUTAGE) == 0, "after the outage");
	printf("ok 3 - %d events buffered during the outage, all delivered after (%d lines)\n",
	       N_OUTAGE, count_lines(" outage-"));

	/* 4. Restart survival. */
	stop(&sub_pid);
	stop(&broker_pid);
	CHECK(wait_until(is_disconnected, pm, 30000) == 0, "still connected");
	CHECK(publish_n(pm, "restart", N_RESTART) == 0, "publish while down");
	CHECK(pub_mqtt_buffered(pm) == N_RESTART, "buffered %llu",
	      (unsigned long long)pub_mqtt_buffered(pm));
	CHECK(reopen_restored(&pm, &cfg, &adv, N_RESTART) == 0, "publisher restart");
	CHECK(restart_and_deliver(pm, "restart", N_RESTART) == 0, "after the restart");
	printf("ok 4 - %d events survived a publisher restart during the outage (%d lines)\n",
	       N_RESTART, count_lines(" restart-"));

	/*
	 * 5. In flight at shutdown: the server received the events but never
	 * acknowledged them when the publisher stopped; after the restart they
	 * are sent again to the real server on the same URI.
	 */
	CHECK(publish_unacked(&fake, &pm, &cfg, uri, sizeof(uri), &adv,
			      "v2x-e2e-rsu-inflight", "inflight", N_INFLIGHT) == 0,
	      "in flight to the fake server");
	CHECK(pub_mqtt_buffered(pm) == N_INFLIGHT, "buffered %llu",
	      (unsigned long long)pub_mqtt_buffered(pm));
	pub_mqtt_free(pm);       /* shut down with the events unacknowledged */
	pm = NULL;
	fake_server_stop(&fake);
	CHECK(reopen_restored(&pm, &cfg, &adv, N_INFLIGHT) == 0, "publisher restart");
	CHECK(restart_and_deliver(pm, "inflight", N_INFLIGHT) == 0,
	      "mosquitto on the fake server's port");
	printf("ok 5 - %d events in flight (sent, unacknowledged) at shutdown re-sent after restart (%d lines)\n",
	       N_INFLIGHT, count_lines(" inflight-"));

	/*
	 * 6. The server loses the session while events are in flight, in the
	 * same process: Paho gives them up on reconnect, the journal re-sends.
	 */
	CHECK(publish_unacked(&fake, &pm, &cfg, uri, sizeof(uri), &adv,
			      "v2x-e2e-rsu-lost-session", "lost", N_INFLIGHT) == 0,
	      "in flight to the fake server");
	fake_server_stop(&fake);
	CHECK(restart_and_deliver(pm, "lost", N_INFLIGHT) == 0,
	      "mosquitto on the fake server's port");
	pub_mqtt_get_stats(pm, &st);
	CHECK(st.acked == N_INFLIGHT, "acked %llu", (unsigned long long)st.acked);
	printf("ok 6 - %d in-flight events re-sent after the server lost the session (%llu attempts failed, %d lines)\n",
	       N_INFLIGHT, (unsigned long long)st.failed, count_lines(" lost-"));

	/* 7. TLS: ssl:// with our CA; and refused with a foreign CA. */
	pub_mqtt_free(pm);
	pm = NULL;
	stop(&sub_pid);
	stop(&broker_pid);
	if (make_certs() < 0) {
		printf("ok 7 # SKIP openssl not available to make test certificates\n");
		goto out;
	}
	snprintf(tls_ca, sizeof(tls_ca), "%s/ca.crt", workdir);
	port = free_port();
	CHECK(port > 0 && broker_start() == 0, "TLS mosquitto did not start");
	CHECK(sub_start() == 0, "TLS subscriber");
	snprintf(uri, sizeof(uri), "ssl://127.0.0.1:%d", port);
	cfg.client_id = "v2x-e2e-rsu-tls";
	cfg.ca_file = tls_ca;
	pm = pub_mqtt_new(&cfg, on_advisory, &adv, err, sizeof(err));
	CHECK(pm, "pub_mqtt_new: %s", err);
	CHECK(wait_until(is_connected, pm, 10000) == 0, "not connected over TLS");
	CHECK(publish_n(pm, "tls", 5) == 0, "publish over TLS");
	CHECK(flush_and_wait(pm, "tls", 5, 10000) == 0, "TLS delivery");
	pub_mqtt_free(pm);
	pm = NULL;
	{
		char other[300];

		snprintf(other, sizeof(other), "%s/other.crt", workdir);
		cfg.client_id = "v2x-e2e-rsu-tls-bad";
		cfg.ca_file = other;
		pm = pub_mqtt_new(&cfg, on_advisory, &adv, err, sizeof(err));
		CHECK(pm, "pub_mqtt_new: %s", err);
		sleep_ms(2500);
		CHECK(!pub_mqtt_connected(pm), "connected although the server's CA is not trusted");
		CHECK(pub_mqtt_publish_event(pm, "t", "x", 1) == 0 && pub_mqtt_buffered(pm) == 1,
		      "not buffered while the TLS handshake fails");
	}
	printf("ok 7 - TLS: delivered with the right CA, refused with a foreign one\n");
out:
	pub_mqtt_free(pm);
	stop(&sub_pid);
	stop(&broker_pid);
	if (!failures) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", workdir);
	} else {
		fprintf(stderr, "work directory kept: %s\n", workdir);
	}
	return failures ? 1 : 0;
}
