/* SPDX-License-Identifier: MIT */
/* config_test.c - broker configuration: defaults, flags, INI and its errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "v2x/error.h"

static char ini_path[64];

static const char *write_ini(const char *text)
{
	FILE *f;
	int fd;

	strcpy(ini_path, "/tmp/v2x-config-test-XXXXXX");
	fd = mkstemp(ini_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return ini_path;
}

static int run_args(struct broker_config *cfg, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	char *a;
	FILE *devnull = fopen("/dev/null", "w");
	int r;

	argv[argc++] = "v2x-broker";
	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	config_defaults(cfg);
	r = config_parse_args(cfg, argc, argv, devnull, err, errlen);
	fclose(devnull);
	return r;
}

static void test_defaults(void **state)
{
	struct broker_config cfg;
	const struct sockaddr_in *s4;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.n_udp_uper, 1);
	assert_string_equal(cfg.udp_uper[0].text, "0.0.0.0:46800");
	s4 = (const struct sockaddr_in *)&cfg.udp_uper[0].ss;
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 46800);
	assert_int_equal(cfg.n_udp_msgpack, 1);
	assert_string_equal(cfg.udp_msgpack[0].text, "0.0.0.0:46801");
	assert_string_equal(cfg.zmq_pub, "tcp://*:7700");
	assert_string_equal(cfg.mqtt, "");
	assert_string_equal(cfg.metrics.text, "127.0.0.1:9100");
	assert_int_equal(cfg.has_ref, 0);
	assert_int_equal(cfg.relay_bsm, 0);
	assert_true(cfg.obj_rate_hz == 10.0);
	assert_int_equal(cfg.log_level, LOG_LVL_INFO);
}

static void test_flags_override_and_repeat(void **state)
{
	struct broker_config cfg;
	char err[256] = "";
	const struct sockaddr_in6 *s6;

	(void)state;
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--udp-uper", "127.0.0.1:5000",
				  "--udp-uper", "[::1]:5001", "--relay-bsm",
				  "--obj-rate-hz=2.5", "--ref", "48.1,11.5",
				  "--mqtt", "mqtts://cloud:8883", "--rsu-id", "r7",
				  "--log-level", "debug", NULL), 0);
	assert_int_equal(cfg.n_udp_uper, 2);
	assert_string_equal(cfg.udp_uper[1].text, "[::1]:5001");
	s6 = (const struct sockaddr_in6 *)&cfg.udp_uper[1].ss;
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 5001);
	assert_int_equal(cfg.n_udp_msgpack, 1); /* untouched default */
	assert_int_equal(cfg.relay_bsm, 1);
	assert_true(cfg.obj_rate_hz == 2.5);
	assert_int_equal(cfg.has_ref, 1);
	assert_true(cfg.ref_lat == 48.1 && cfg.ref_lon == 11.5);
	assert_string_equal(cfg.mqtt, "mqtts://cloud:8883");
	assert_string_equal(cfg.rsu_id, "r7");
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
}

static void test_flag_errors(void **state)
{
	struct broker_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--udp-upper", "1.2.3.4:5", NULL),
			 V2X_E_INVALID);
	assert_non_null(strstr(err, "unknown option '--udp-upper'"));
	assert_true(run_args(&cfg, err, sizeof(err), "--udp-uper", "1.2.3.4", NULL) < 0);
	assert_non_null(strstr(err, "--udp-uper"));
	assert_non_null(strstr(err, "'1.2.3.4'"));
	assert_true(run_args(&cfg, err, sizeof(err), "--udp-uper", "1.2.3.4:70000", NULL) < 0);
	assert_true(run_args(&cfg, err, sizeof(err), "--udp-uper", "[::1:80", NULL) < 0);
	assert_true(run_args(&cfg, err, sizeof(err), "--udp-uper", "999.1.1.1:80", NULL) < 0);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--rsu-id", NULL), V2X_E_MISSING);
	assert_non_null(strstr(err, "--rsu-id: missing"));
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--obj-rate-hz", "fast", NULL),
			 V2X_E_RANGE);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--obj-rate-hz", "1000", NULL),
			 V2X_E_RANGE);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--relay-bsm=maybe", NULL),
			 V2X_E_RANGE);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--ref", "91,0", NULL), V2X_E_RANGE);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--log-level", "loud", NULL),
			 V2X_E_RANGE);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "stray", NULL), V2X_E_INVALID);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--config", "/nonexistent/x.ini",
				  NULL), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.ini"));
}

static void test_help_and_version(void **state)
{
	struct broker_config cfg;
	char err[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	char *argv[] = { "v2x-broker", "--help", NULL };

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_parse_args(&cfg, 2, argv, mem, err, sizeof(err)), 1);
	fclose(mem);
	assert_non_null(strstr(buf, "--udp-uper ADDR:PORT"));
	assert_non_null(strstr(buf, "(default: 0.0.0.0:46800)"));
	assert_non_null(strstr(buf, "--zmq-pub"));
	assert_non_null(strstr(buf, "--track-expiry-s"));
	assert_non_null(strstr(buf, "--metrics"));
	free(buf);
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--version", NULL), 1);
}

static void test_ini_file(void **state)
{
	struct broker_config cfg;
	char err[256] = "";
	const char *path = write_ini(
		"; comment\n"
		"[ingest]\n"
		"udp_uper = 127.0.0.1:6000\n"
		"udp_uper = [::]:6001\n"
		"rcvbuf = 1048576\n"
		"[fusion]\n"
		"relay_bsm = yes\n"
		"ref = 10.5,-20.25\n"
		"[zmq]\n"
		"zmq_pub = tcp://127.0.0.1:7777\n"
		"[mqtt]\n"
		"rsu_id = fromfile\n");

	(void)state;
	/* A flag overrides the file, the file overrides the default. */
	assert_int_equal(run_args(&cfg, err, sizeof(err), "--rsu-id", "fromflag",
				  "--config", (char *)path, NULL), 0);
	unlink(path);
	assert_int_equal(cfg.n_udp_uper, 2);
	assert_string_equal(cfg.udp_uper[0].text, "127.0.0.1:6000");
	assert_int_equal(cfg.rcvbuf, 1048576);
	assert_int_equal(cfg.relay_bsm, 1);
	assert_true(cfg.ref_lat == 10.5 && cfg.ref_lon == -20.25);
	assert_string_equal(cfg.zmq_pub, "tcp://127.0.0.1:7777");
	assert_string_equal(cfg.rsu_id, "fromflag");
	assert_string_equal(cfg.config_file, path);
}

static void test_ini_errors_name_file_line_key(void **state)
{
	struct broker_config cfg;
	char err[256] = "";
	char expect[128];
	const char *path;

	(void)state;
	path = write_ini("[ingest]\nrcvbuf = 1048576\n\n# x\nudp_uppr = 1.2.3.4:5\n");
	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), V2X_E_INVALID);
	snprintf(expect, sizeof(expect), "%s:5: unknown key 'udp_uppr' in [ingest]", path);
	assert_string_equal(err, expect);
	unlink(path);

	path = write_ini("[ingest]\nrcvbuf = lots\n");
	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), V2X_E_RANGE);
	snprintf(expect, sizeof(expect), "%s:2: ", path);
	assert_memory_equal(err, expect, strlen(expect));
	assert_non_null(strstr(err, "rcvbuf"));
	unlink(path);

	path = write_ini("[zmq]\nrelay_bsm = true\n");
	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), V2X_E_INVALID);
	assert_non_null(strstr(err, ":2: key 'relay_bsm' belongs in [fusion], not [zmq]"));
	unlink(path);

	path = write_ini("[ingest]\nthis line has no equals sign\n");
	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), V2X_E_SYNTAX);
	assert_non_null(strstr(err, ":2: syntax error"));
	unlink(path);

	path = write_ini("[ingest]\nudp_msgpack = nowhere\n");
	config_defaults(&cfg);
	assert_true(config_load_file(&cfg, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":2: [ingest] invalid address 'nowhere' for 'udp_msgpack'"));
	unlink(path);
}

static void test_listener_limit(void **state)
{
	struct broker_config cfg;
	char err[256];
	char buf[32];
	int r = 0;

	(void)state;
	config_defaults(&cfg);
	for (int i = 0; i <= CONFIG_LISTENERS_MAX && r == 0; i++) {
		snprintf(buf, sizeof(buf), "127.0.0.1:%d", 7000 + i);
		r = config_set(&cfg, "udp_msgpack", buf, 1, err, sizeof(err));
	}
	assert_int_equal(r, V2X_E_RANGE);
	assert_int_equal(cfg.n_udp_msgpack, CONFIG_LISTENERS_MAX);
}

struct ext_seen {
	int hold_ms;
	int calls;
};

static int ext_fn(void *ctx, const char *section, const char *key,
		  const char *value, char *err, size_t errlen)
{
	struct ext_seen *e = ctx;

	e->calls++;
	if (strcmp(section, "events") != 0 || strcmp(key, "hold_ms") != 0)
		return V2X_E_MISSING;
	e->hold_ms = atoi(value);
	if (e->hold_ms <= 0) {
		snprintf(err, errlen, "must be positive");
		return V2X_E_RANGE;
	}
	return 0;
}

static void test_extension_keys(void **state)
{
	struct broker_config cfg;
	struct ext_seen seen = { 0 };
	char err[256] = "";
	const char *path;

	(void)state;
	path = write_ini("[fusion]\nrelay_bsm = 1\n[events]\nhold_ms = 1500\n");
	config_defaults(&cfg);
	config_set_extension(&cfg, ext_fn, &seen);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(seen.hold_ms, 1500);
	assert_int_equal(cfg.relay_bsm, 1);
	assert_int_equal(seen.calls, 1); /* own keys never reach the extension */
	unlink(path);

	path = write_ini("[events]\nhold_ms = -3\n");
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), V2X_E_RANGE);
	assert_non_null(strstr(err, ":2: [events] hold_ms: must be positive"));
	unlink(path);

	path = write_ini("[events]\nhold_mz = 3\n");
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), V2X_E_INVALID);
	assert_non_null(strstr(err, ":2: unknown key 'hold_mz' in [events]"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flags_override_and_repeat),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_ini_file),
		cmocka_unit_test(test_ini_errors_name_file_line_key),
		cmocka_unit_test(test_listener_limit),
		cmocka_unit_test(test_extension_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
