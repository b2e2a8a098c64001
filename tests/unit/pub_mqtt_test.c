/* SPDX-License-Identifier: MIT */
/*
 * pub_mqtt_test.c - the MQTT publisher without a server: configuration
 * errors, offline buffering into the journal, limits, stats dropped while
 * disconnected, journal replay after a restart, damaged journal entries.
 * (Delivery against a real Mosquitto: tests/e2e/mqtt_outage.c.)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pub_mqtt.h"

struct fixture {
	char dir[64];
	char uri[64];
	struct pub_mqtt_config cfg;
};

/* A loopback port with nobody listening (bound, then released). */
static int closed_port(void)
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

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/v2x-pub-mqtt-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->uri, sizeof(f->uri), "tcp://127.0.0.1:%d", closed_port());
	f->cfg.uri = f->uri;
	f->cfg.client_id = "unit-rsu";
	f->cfg.prefix = "v2x/unit";
	f->cfg.persist_dir = f->dir;
	f->cfg.keepalive_s = 5;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int journal_files(const struct fixture *f, const char *client, const char *ext);

/* The journal is written by the worker thread: wait (bounded) for @n files. */
static int journal_files_eventually(const struct fixture *f, const char *client,
				    const char *ext, int n)
{
	int got = -1;

	for (int i = 0; i < 500; i++) {
		got = journal_files(f, client, ext);
		if (got == n)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	return got;
}

/* Files in the client's journal directory ending in @ext. */
static int journal_files(const struct fixture *f, const char *client, const char *ext)
{
	char path[256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.journal", f->dir, client);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), el = strlen(ext);

		if (l > el && !strcmp(de->d_name + l - el, ext))
			n++;
	}
	closedir(d);
	return n;
}

static void test_config_errors(void **state)
{
	struct fixture *f = *state;
	struct pub_mqtt_config c = f->cfg;
	char err[256], file[128];
	FILE *fp;

	assert_null(pub_mqtt_new(NULL, NULL, NULL, err, sizeof(err)));
	c.client_id = "";
	err[0] = '\0';
	assert_null(pub_mqtt_new(&c, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "client id"));
	c = f->cfg;
	c.prefix = NULL;
	assert_null(pub_mqtt_new(&c, NULL, NULL, err, sizeof(err)));
	c = f->cfg;
	c.uri = "http://example.com";
	assert_null(pub_mqtt_new(&c, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "unsupported URI"));
	c = f->cfg;
	c.persist_dir = "/nonexistent/v2x";
	assert_null(pub_mqtt_new(&c, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/v2x"));
	/* A file is not a directory. */
	snprintf(file, sizeof(file), "%s/plain", f->dir);
	fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	c.persist_dir = file;
	assert_null(pub_mqtt_new(&c, NULL, NULL, err, sizeof(err)));
	/* No error buffer is fine too. */
	assert_null(pub_mqtt_new(&c, NULL, NULL, NULL, 0));
	/* NULL handles. */
	pub_mqtt_free(NULL);
	assert_int_equal(pub_mqtt_connected(NULL), 0);
	assert_int_equal(pub_mqtt_buffered(NULL), 0);
	assert_int_equal(pub_mqtt_publish_event(NULL, "x", "p", 1), -EINVAL);
	assert_int_equal(pub_mqtt_publish_stats(NULL, "p", 1), -EINVAL);
}

static void test_offline_buffering(void **state)
{
	struct fixture *f = *state;
	struct pub_mqtt_config c = f->cfg;
	struct pub_mqtt_stats st;
	struct pub_mqtt *pm;
	char err[256], longname[600];
	struct timespec t0, t1;
	long ms;

	c.max_buffered = 5;
	pm = pub_mqtt_new(&c, NULL, NULL, err, sizeof(err));
	assert_non_null(pm);
	assert_int_equal(pub_mqtt_connected(pm), 0);
	/* Stats are QoS 0: dropped while disconnected. */
	assert_int_equal(pub_mqtt_publish_stats(pm, "s", 1), -ENOTCONN);
	/* Events are journaled and buffered. */
	for (int i = 0; i < 5; i++) {
		char p[16];
		int n = snprintf(p, sizeof(p), "evt-%d", i);

		assert_int_equal(pub_mqtt_publish_event(pm, "stopped_vehicle", p, (size_t)n), 0);
		assert_int_equal(pub_mqtt_buffered(pm), (uint64_t)i + 1);
	}
	assert_int_equal(journal_files_eventually(f, "unit-rsu", ".evt", 5), 5);
	/* The limit: refused, not journaled. */
	assert_int_equal(pub_mqtt_publish_event(pm, "stopped_vehicle", "x", 1), -ENOBUFS);
	assert_int_equal(pub_mqtt_buffered(pm), 5);
	assert_int_equal(journal_files(f, "unit-rsu", ".evt"), 5);
	/* Bad arguments. */
	assert_int_equal(pub_mqtt_publish_event(pm, "", "x", 1), -EINVAL);
	assert_int_equal(pub_mqtt_publish_event(pm, NULL, "x", 1), -EINVAL);
	assert_int_equal(pub_mqtt_publish_event(pm, "t", NULL, 3), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(pub_mqtt_publish_event(pm, longname, "x", 1), -EINVAL);
	pub_mqtt_get_stats(pm, &st);
	assert_int_equal(st.published, 5);
	assert_int_equal(st.acked, 0);
	assert_int_equal(st.stats_dropped, 1);
	assert_int_equal(st.restored, 0);
	/* Nothing can be acknowledged: flush times out, after the timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pub_mqtt_flush(pm, 300), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250);
	pub_mqtt_free(pm);
	/* Everything unacknowledged is still in the journal. */
	assert_int_equal(journal_files(f, "unit-rsu", ".evt"), 5);

	/* "Restart": the journal is replayed. */
	pm = pub_mqtt_new(&c, NULL, NULL, err, sizeof(err));
	assert_non_null(pm);
	pub_mqtt_get_stats(pm, &st);
	assert_int_equal(st.restored, 5);
	assert_int_equal(pub_mqtt_buffered(pm), 5);
	/* Still full. */
	assert_int_equal(pub_mqtt_publish_event(pm, "stopped_vehicle", "x", 1), -ENOBUFS);
	pub_mqtt_free(pm);

	/* Another client id has its own (empty) journal. */
	c.client_id = "other/rsu id";
	pm = pub_mqtt_new(&c, NULL, NULL, err, sizeof(err));
	assert_non_null(pm);
	pub_mqtt_get_stats(pm, &st);
	assert_int_equal(st.restored, 0);
	assert_int_equal(pub_mqtt_publish_event(pm, "wrong_way", "w", 1), 0);
	pub_mqtt_free(pm);
	/* Characters unfit for a file name are replaced; free() journaled it. */
	assert_int_equal(journal_files(f, "other_rsu_id", ".evt"), 1);
}

static void test_damaged_journal(void **state)
{
	struct fixture *f = *state;
	struct pub_mqtt_stats st;
	struct pub_mqtt *pm;
	char path[256], err[256];
	FILE *fp;

	pm = pub_mqtt_new(&f->cfg, NULL, NULL, err, sizeof(err));
	assert_non_null(pm);
	assert_int_equal(pub_mqtt_publish_event(pm, "speeding", "ok-1", 4), 0);
	assert_int_equal(pub_mqtt_publish_event(pm, "speeding", "ok-2", 4), 0);
	pub_mqtt_free(pm);
	/* A garbage entry, a truncated one and a half-written temporary. */
	snprintf(path, sizeof(path), "%s/unit-rsu.journal/00000000000000a0.evt", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("not a journal entry", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/unit-rsu.journal/00000000000000a1.evt", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fwrite("V2XJ\x01\x00\x00\x05\x00\x00\x00\x09top", 1, 15, fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/unit-rsu.journal/00000000000000a2.tmp", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);

	pm = pub_mqtt_new(&f->cfg, NULL, NULL, err, sizeof(err));
	assert_non_null(pm);
	pub_mqtt_get_stats(pm, &st);
	assert_int_equal(st.restored, 2);
	assert_int_equal(pub_mqtt_buffered(pm), 2);
	assert_int_equal(journal_files(f, "unit-rsu", ".bad"), 2);
	assert_int_equal(journal_files(f, "unit-rsu", ".tmp"), 0);
	/* New entries continue after the highest sequence number seen. */
	assert_int_equal(pub_mqtt_publish_event(pm, "speeding", "ok-3", 4), 0);
	pub_mqtt_free(pm);
	snprintf(path, sizeof(path), "%s/unit-rsu.journal/00000000000000a3.evt", f->dir);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_tls_uri_accepted(void **state)
{
	struct fixture *f = *state;
	struct pub_mqtt_config c = f->cfg;
	struct pub_mqtt *pm;
	char uri[64], err[256];

	/* TLS is set up at connect time; with nobody listening it just retries. */
	snprintf(uri, sizeof(uri), "ssl://%s", f->uri + strlen("tcp://"));
	c.uri = uri;
	c.client_id = "tls-rsu";
	c.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	pm = pub_mqtt_new(&c, NULL, NULL, err, sizeof(err));
	assert_non_null(pm);
	assert_int_equal(pub_mqtt_connected(pm), 0);
	pub_mqtt_free(pm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_buffering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_uri_accepted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
