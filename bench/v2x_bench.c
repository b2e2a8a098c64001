/* SPDX-License-Identifier: MIT */
/*
 * bench/v2x_bench.c - v2x-bench: load test and event accuracy of the
 * broker, driven by the simulator.  A benchmark, not a test: it measures
 * and reports, it does not judge.
 *
 *   v2x-bench run [options]     start a broker (unless --no-spawn-broker),
 *                               run v2x-sim against it (one step, or one
 *                               per --rate), subscribe to its ZeroMQ
 *                               outputs, scrape /metrics before and after,
 *                               report throughput, loss per stage,
 *                               latency and event accuracy
 *   v2x-bench score --truth FILE --events FILE
 *                               accuracy of recorded events (JSON lines of
 *                               event frames, as --events-out writes them)
 *
 * The broker and the simulator are child processes (posix_spawn); they are
 * stopped on every exit path, including SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_hist.h"
#include "bench_score.h"
#include "v2x/error.h"
#include "v2x/msg.h"

extern char **environ;

#define MAX_RATES 32
#define MAX_EXTRA 32
#define MAX_SERIES 4096

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- options ---------------------------------------------------------- */

struct opts {
	const char *cmd;
	const char *broker, *sim;
	int spawn_broker;
	int cloud;                /* local mosquitto: lane closure advisories */
	const char *scenario;
	int vehicles;
	double penetration;
	double duration;
	int seed;
	int incidents;
	double speed;
	int nrates;
	double rates[MAX_RATES];
	const char *zmq;          /* with --no-spawn-broker */
	const char *metrics;      /* ADDR:PORT */
	const char *target;       /* sim target with --no-spawn-broker */
	const char *json_out, *report_out, *events_out, *obj_out;
	const char *config;       /* broker --config */
	const char *encoding;
	const char *keep_dir;
	int relay_bsm;
	double drain_s;
	int fp_list;
	int nextra_sim, nextra_broker;
	const char *extra_sim[MAX_EXTRA], *extra_broker[MAX_EXTRA];
	const char *truth, *events; /* score */
	const char *map;            /* score: the run's map.geojson */
	struct bench_score_cfg match;
};

/* ---- per-step results --------------------------------------------------- */

struct metrics_snap {
	int n;
	char *series[MAX_SERIES];
	double value[MAX_SERIES];
	int ok;
};

struct step {
	char label[48];
	double rate;              /* 0 = scenario pacing */
	/* simulator */
	int sim_status;
	unsigned long long sim_sent, sim_send_errors, sim_bsm, sim_objects_frames, sim_spat;
	double sim_wall_s;
	double wall_s;            /* sim start to sim exit, our clock */
	/* broker deltas */
	int have_metrics;
	double rx, decoded, rejected;
	double bl_count, bl_p50_us, bl_p99_us; /* broker's own receive -> ZeroMQ */
	double drop_ingest, drop_tracks, drop_publish, drop_zmq;
	double tx_bsm, tx_obj, tx_evt;
	double events_total;
	/* subscriber */
	uint64_t got_bsm, got_obj, got_evt, got_other, bad_payload;
	struct bench_hist lat_bsm, lat_obj, lat_evt;
	/* accuracy */
	int have_score;
	struct bench_score score;
};

struct bench {
	struct opts *o;
	char dir[PATH_MAX];
	char map_path[PATH_MAX + 32];
	char zmq_ep[128];
	char metrics_addr[128];
	char target[64], sensors_target[64];
	pid_t broker_pid, sim_pid, mosq_pid;
	char mqtt_uri[64];    /* the local mosquitto, "" = no cloud */
	void *zctx, *sub;
	FILE *events_out;
	FILE *obj_out;       /* --obj-out: every obj frame as a JSON line */
	int nsteps;
	struct step *steps;
	int score_only;       /* `score`: no load figures */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: v2x-bench run [options]\n"
"       v2x-bench score --truth FILE --events FILE [--map FILE] [--json FILE]\n"
"                       [match options]\n"
"\n"
"run options:\n"
"  --broker PATH          v2x-broker binary (default: ../broker/v2x-broker next to this)\n"
"  --no-spawn-broker      use a running broker (--zmq, --metrics, --target)\n"
"  --sim PATH             v2x-sim binary (default: ../sim/v2x-sim next to this)\n"
"  --scenario S           highway|intersection|grid (default highway)\n"
"  --vehicles N           (default 300)\n"
"  --penetration P        share of connected vehicles (default 0.3)\n"
"  --duration S           sim seconds per step (default 60)\n"
"  --seed K               (default 1)\n"
"  --incidents N          incidents of all types spread over the run (default 0)\n"
"  --speed X              sim pacing factor (default 1 = real time)\n"
"  --rate R[,R...]        rate sweep: one step per rate, sim fixed-rate mode\n"
"  --encoding uper|msgpack  BSM encoding (default msgpack: carries ts)\n"
"  --relay-bsm            ask the broker to relay bsm/ and subscribe to it\n"
"  --no-cloud             no local mosquitto: the simulator does not announce\n"
"                         its lane closures to the broker (default: announced\n"
"                         through a mosquitto on a free loopback port when the\n"
"                         mosquitto binary is installed)\n"
"  --zmq ENDPOINT         broker PUB endpoint (default tcp://127.0.0.1:7700)\n"
"  --metrics ADDR:PORT    broker metrics (default 127.0.0.1:9100)\n"
"  --target HOST:PORT     broker UPER port for the sim (default 127.0.0.1:46800)\n"
"  --config FILE          broker --config (detector thresholds)\n"
"  --broker-arg ARG       extra broker argument (repeatable)\n"
"  --sim-arg ARG          extra simulator argument (repeatable)\n"
"  --drain S              wait after the sim ends (default 3)\n"
"  --keep DIR             work directory (kept); default a temp dir, removed\n"
"  --json FILE            machine-readable report\n"
"  --report FILE.html     self-contained HTML report\n"
"  --events-out FILE      every received event frame as a JSON line\n"
"  --obj-out FILE         every received obj frame as a JSON line (diagnosis)\n"
"  --fp-list N            false positives / misses listed (default 20)\n"
"match options (run and score):\n"
"  --radius M             spatial radius (default 50)\n"
"  --congestion-radius M  (default 1000) congestion matches on the incident's\n"
"                         segment or upstream of it (next_lane_id links of the\n"
"                         map) within M along the road; without a map, within\n"
"                         M in a straight line or on the same segment\n"
"  --map FILE             score: the run's map.geojson (in its --keep DIR)\n"
"  --move-mps V           radius growth for moving incidents (default 50)\n"
"  --tolerance S          window opens detectable_ts - S (default 1)\n"
"  --grace S              window closes end_ts + S (default 5)\n"
"  --natural-min S        natural episodes detectable for < S are left out of\n"
"                         the natural recall (default 1, the persistence)\n");
}

static int parse_rates(struct opts *o, const char *v)
{
	char buf[512], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		double r = strtod(tok, &end);

		if (*end || !(r > 0) || o->nrates >= MAX_RATES)
			return -EINVAL;
		o->rates[o->nrates++] = r;
	}
	return 0;
}

static int num_arg(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end;
	double d;

	if (!v) {
		fprintf(stderr, "v2x-bench: %s needs a value\n", name);
		return -EINVAL;
	}
	d = strtod(v, &end);
	if (end == v || *end || !(d >= lo && d <= hi)) {
		fprintf(stderr, "v2x-bench: bad %s '%s'\n", name, v);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	double d;

	memset(o, 0, sizeof(*o));
	o->spawn_broker = 1;
	o->cloud = 1;
	o->scenario = "highway";
	o->vehicles = 300;
	o->penetration = 0.3;
	o->duration = 60;
	o->seed = 1;
	o->speed = 1;
	o->metrics = "127.0.0.1:9100";
	o->zmq = "tcp://127.0.0.1:7700";
	o->target = "127.0.0.1:46800";
	o->encoding = "msgpack";
	o->drain_s = 3;
	o->fp_list = 20;
	bench_score_cfg_default(&o->match);
	if (argc < 2)
		return -EINVAL;
	o->cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define STR(dst) do { if (!v) goto need; dst = v; i++; } while (0)
#define NUM(dst, lo, hi) do { if (num_arg(a, v, lo, hi, &d) < 0) return -EINVAL; dst = d; i++; } while (0)
		if (!strcmp(a, "--broker")) STR(o->broker);
		else if (!strcmp(a, "--no-spawn-broker")) o->spawn_broker = 0;
		else if (!strcmp(a, "--no-cloud")) o->cloud = 0;
		else if (!strcmp(a, "--sim")) STR(o->sim);
		else if (!strcmp(a, "--scenario")) STR(o->scenario);
		else if (!strcmp(a, "--vehicles")) NUM(o->vehicles, 1, 1e7);
		else if (!strcmp(a, "--penetration")) NUM(o->penetration, 0, 1);
		else if (!strcmp(a, "--duration")) NUM(o->duration, 0.1, 1e6);
		else if (!strcmp(a, "--seed")) NUM(o->seed, 0, 2147483647);
		else if (!strcmp(a, "--incidents")) NUM(o->incidents, 0, 10000);
		else if (!strcmp(a, "--speed")) NUM(o->speed, 0.01, 1000);
		else if (!strcmp(a, "--rate")) {
			if (!v)
				goto need;
			if (parse_rates(o, v) < 0) {
				fprintf(stderr, "v2x-bench: bad --rate '%s'\n", v);
				return -EINVAL;
			}
			i++;
		} else if (!strcmp(a, "--encoding")) {
			STR(o->encoding);
			if (strcmp(o->encoding, "uper") && strcmp(o->encoding, "msgpack")) {
				fprintf(stderr, "v2x-bench: bad --encoding '%s'\n", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--relay-bsm")) o->relay_bsm = 1;
		else if (!strcmp(a, "--zmq")) STR(o->zmq);
		else if (!strcmp(a, "--metrics")) STR(o->metrics);
		else if (!strcmp(a, "--target")) STR(o->target);
		else if (!strcmp(a, "--config")) STR(o->config);
		else if (!strcmp(a, "--broker-arg")) {
			if (!v || o->nextra_broker >= MAX_EXTRA)
				goto need;
			o->extra_broker[o->nextra_broker++] = v;
			i++;
		} else if (!strcmp(a, "--sim-arg")) {
			if (!v || o->nextra_sim >= MAX_EXTRA)
				goto need;
			o->extra_sim[o->nextra_sim++] = v;
			i++;
		} else if (!strcmp(a, "--drain")) NUM(o->drain_s, 0, 600);
		else if (!strcmp(a, "--keep")) STR(o->keep_dir);
		else if (!strcmp(a, "--json")) STR(o->json_out);
		else if (!strcmp(a, "--report")) STR(o->report_out);
		else if (!strcmp(a, "--events-out")) STR(o->events_out);
		else if (!strcmp(a, "--obj-out")) STR(o->obj_out);
		else if (!strcmp(a, "--fp-list")) NUM(o->fp_list, 0, 100000);
		else if (!strcmp(a, "--truth")) STR(o->truth);
		else if (!strcmp(a, "--events")) STR(o->events);
		else if (!strcmp(a, "--map")) STR(o->map);
		else if (!strcmp(a, "--radius")) NUM(o->match.radius_m, 0, 1e6);
		else if (!strcmp(a, "--congestion-radius")) NUM(o->match.congestion_radius_m, 0, 1e7);
		else if (!strcmp(a, "--move-mps")) NUM(o->match.move_mps, 0, 1000);
		else if (!strcmp(a, "--tolerance")) NUM(o->match.tolerance_s, 0, 3600);
		else if (!strcmp(a, "--grace")) NUM(o->match.grace_s, 0, 3600);
		else if (!strcmp(a, "--natural-min")) NUM(o->match.natural_min_s, 0, 3600);
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "v2x-bench: unknown option '%s'\n", a);
			return -EINVAL;
		}
#undef STR
#undef NUM
	}
	return 0;
need:
	fprintf(stderr, "v2x-bench: %s needs a value\n", argv[argc - 1]);
	return -EINVAL;
}

/* ---- small helpers ------------------------------------------------------ */

static uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec d = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&d, &d) < 0 && errno == EINTR && !stop_requested)
		;
}

/* A port that was free a moment ago on 127.0.0.1 (type SOCK_DGRAM/STREAM). */
static int free_port(int type)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), port = -errno;

	if (fd < 0)
		return port;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		port = -errno;
	else
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Path of a sibling program: <dir of this exe>/../<sub>/<name>. */
static void sibling_path(char *out, size_t cap, const char *sub, const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0) {
		snprintf(out, cap, "%s", name);
		return;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(out, cap, "%s/%s/%s", self, sub, name) >= (int)cap)
		snprintf(out, cap, "%s", name);
}

/*
 * Start path with argv (NULL-terminated), stdout and stderr appended to
 * log_path (stdin from /dev/null).  Returns the pid or -errno.
 */
static pid_t spawn_child(const char *path, char *const argv[], const char *log_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	ret = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return ret ? -ret : pid;
}

/* SIGTERM, wait up to timeout_ms, then SIGKILL.  Returns the wait status. */
static int stop_child(pid_t pid, int timeout_ms)
{
	int status = 0;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return status;
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

/* Run a program to completion (log appended); returns its exit status or -errno. */
static int run_child(const char *path, char *const argv[], const char *log_path)
{
	pid_t pid = spawn_child(path, argv, log_path);
	int status;

	if (pid < 0)
		return pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
		if (stop_requested) {
			stop_child(pid, 2000);
			return -EINTR;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- metrics scrape ----------------------------------------------------- */

/* GET path from addr ("host:port"); body (malloc'd) in *body.  Returns the
 * HTTP status or -errno. */
static int http_get(const char *addr, const char *path, char **body)
{
	char host[64], req[256];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa;
	struct timeval tv = { 2, 0 };
	char *buf = NULL, *p;
	size_t len = 0, cap = 0;
	int fd = -1, ret, status = 0;

	*body = NULL;
	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
		 path, addr);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		ret = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf) {
		ret = -EIO;
		goto out;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/%*s %d", &status) != 1) {
		ret = -EPROTO;
		goto out;
	}
	p = strstr(buf, "\r\n\r\n");
	if (!p) {
		ret = -EPROTO;
		goto out;
	}
	memmove(buf, p + 4, len - (size_t)(p + 4 - buf) + 1);
	*body = buf;
	buf = NULL;
	ret = status;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void snap_free(struct metrics_snap *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->series[i]);
	s->n = 0;
	s->ok = 0;
}

/* Scrape addr/metrics into s (Prometheus text: "series value" lines). */
static int snap_take(struct metrics_snap *s, const char *addr)
{
	char *body = NULL, *line, *save = NULL;
	int ret = http_get(addr, "/metrics", &body);

	snap_free(s);
	if (ret != 200) {
		free(body);
		return ret < 0 ? ret : -EPROTO;
	}
	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp;

		if (line[0] == '#' || !line[0] || s->n >= MAX_SERIES)
			continue;
		sp = strrchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		s->series[s->n] = strdup(line);
		if (!s->series[s->n])
			break;
		s->value[s->n++] = strtod(sp + 1, NULL);
	}
	free(body);
	s->ok = 1;
	return 0;
}

/* Sum of the series of metric name whose labels contain label (or any). */
static double snap_sum(const struct metrics_snap *s, const char *name, const char *label)
{
	size_t nl = strlen(name);
	double sum = 0;

	for (int i = 0; i < s->n; i++) {
		const char *x = s->series[i];

		if (strncmp(x, name, nl) || (x[nl] != '{' && x[nl] != '\0'))
			continue;
		if (label && !strstr(x + nl, label))
			continue;
		sum += s->value[i];
	}
	return sum;
}

static double snap_delta(const struct metrics_snap *a, const struct metrics_snap *b,
			 const char *name, const char *label)
{
	return snap_sum(b, name, label) - snap_sum(a, name, label);
}

/*
 * The broker's own histogram v2x_pipeline_latency_seconds (kernel receive
 * to handed to ZeroMQ), as the delta of two scrapes: p50 and p99 by linear
 * interpolation inside the bucket.
 */
static void broker_latency(const struct metrics_snap *a, const struct metrics_snap *b,
			   struct step *st)
{
	static const char name[] = "v2x_pipeline_latency_seconds_bucket{le=\"";
	double le[64], cnt[64];
	int n = 0;

	st->bl_p50_us = st->bl_p99_us = NAN;
	for (int i = 0; i < b->n && n < 64; i++) {
		const char *x = b->series[i];

		if (strncmp(x, name, sizeof(name) - 1))
			continue;
		le[n] = strncmp(x + sizeof(name) - 1, "+Inf", 4) ?
			strtod(x + sizeof(name) - 1, NULL) : INFINITY;
		cnt[n] = b->value[i] - snap_sum(a, x, NULL);
		n++;
	}
	if (!n || !(cnt[n - 1] > 0))
		return;
	st->bl_count = cnt[n - 1];
	for (int q = 0; q < 2; q++) {
		double want = (q ? 0.99 : 0.5) * cnt[n - 1], v = NAN;

		for (int i = 0; i < n; i++) {
			double lo = i ? le[i - 1] : 0, c0 = i ? cnt[i - 1] : 0;

			if (cnt[i] < want)
				continue;
			if (isinf(le[i]))
				v = lo;
			else
				v = lo + (le[i] - lo) * (cnt[i] > c0 ? (want - c0) / (cnt[i] - c0) : 1);
			break;
		}
		if (q)
			st->bl_p99_us = v * 1e6;
		else
			st->bl_p50_us = v * 1e6;
	}
}

static int wait_healthy(struct bench *b, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms && !stop_requested; waited += 100) {
		char *body = NULL;
		int st = http_get(b->metrics_addr, "/healthz", &body);

		free(body);
		if (st == 200)
			return 0;
		if (b->broker_pid > 0 && waitpid(b->broker_pid, NULL, WNOHANG) == b->broker_pid) {
			b->broker_pid = 0;
			return -ECHILD;
		}
		sleep_ms(100);
	}
	return -ETIMEDOUT;
}

/* ---- ZeroMQ subscriber -------------------------------------------------- */

static int mp_key_is(const msgpack_object_kv *kv, const char *key)
{
	size_t n = strlen(key);

	return kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
	       !memcmp(kv->key.via.str.ptr, key, n);
}

static int mp_u64(const msgpack_object *v, uint64_t *out)
{
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*out = v->via.u64;
		return 0;
	}
	return V2X_E_TYPE;
}

static int mp_int(const msgpack_object *v, int *out)
{
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT_MAX)
		*out = (int)v->via.u64;
	else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && v->via.i64 >= INT_MIN)
		*out = (int)v->via.i64;
	else
		return V2X_E_TYPE;
	return 0;
}

static int mp_num(const msgpack_object *v, double *out)
{
	if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
		*out = v->via.f64;
	else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		*out = (double)v->via.u64;
	else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*out = (double)v->via.i64;
	else
		return V2X_E_TYPE;
	return 0;
}

static int mp_str(const msgpack_object *v, char *out, size_t cap)
{
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap)
		return V2X_E_TYPE;
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = '\0';
	return 0;
}

/* The fields of a frame that the benchmark uses. */
struct frame {
	uint64_t ts, id;
	char type[24], status[12], level[12], sources[40], cls[12];
	double lat, lon, speed, heading;
	int lane, segment, severity, src, sensor;
	int have_ts, ntracks;
	uint64_t tracks[8];
};

static int frame_parse(const char *buf, size_t len, msgpack_zone *zone, struct frame *fr)
{
	msgpack_object obj;
	size_t off = 0;
	msgpack_unpack_return ur;

	memset(fr, 0, sizeof(*fr));
	fr->lane = fr->segment = -1;
	msgpack_zone_clear(zone);
	ur = msgpack_unpack(buf, len, &off, zone, &obj);
	if (ur != MSGPACK_UNPACK_SUCCESS || obj.type != MSGPACK_OBJECT_MAP)
		return V2X_E_SYNTAX;
	for (uint32_t i = 0; i < obj.via.map.size; i++) {
		const msgpack_object_kv *kv = &obj.via.map.ptr[i];

		if (mp_key_is(kv, "ts"))
			fr->have_ts = mp_u64(&kv->val, &fr->ts) == 0;
		else if (mp_key_is(kv, "id"))
			mp_u64(&kv->val, &fr->id);
		else if (mp_key_is(kv, "type"))
			mp_str(&kv->val, fr->type, sizeof(fr->type));
		else if (mp_key_is(kv, "status"))
			mp_str(&kv->val, fr->status, sizeof(fr->status));
		else if (mp_key_is(kv, "level"))
			mp_str(&kv->val, fr->level, sizeof(fr->level));
		else if (mp_key_is(kv, "lat"))
			mp_num(&kv->val, &fr->lat);
		else if (mp_key_is(kv, "lon"))
			mp_num(&kv->val, &fr->lon);
		else if (mp_key_is(kv, "lane"))
			mp_int(&kv->val, &fr->lane);
		else if (mp_key_is(kv, "segment"))
			mp_int(&kv->val, &fr->segment);
		else if (mp_key_is(kv, "severity"))
			mp_int(&kv->val, &fr->severity);
		else if (mp_key_is(kv, "speed"))
			mp_num(&kv->val, &fr->speed);
		else if (mp_key_is(kv, "heading"))
			mp_num(&kv->val, &fr->heading);
		else if (mp_key_is(kv, "src"))
			mp_int(&kv->val, &fr->src);
		else if (mp_key_is(kv, "sensor"))
			mp_int(&kv->val, &fr->sensor);
		else if (mp_key_is(kv, "cls"))
			mp_str(&kv->val, fr->cls, sizeof(fr->cls));
		else if (mp_key_is(kv, "tracks") && kv->val.type == MSGPACK_OBJECT_ARRAY) {
			for (uint32_t k = 0; k < kv->val.via.array.size && fr->ntracks < 8; k++)
				if (mp_u64(&kv->val.via.array.ptr[k], &fr->tracks[fr->ntracks]) == 0)
					fr->ntracks++;
		}
		else if (mp_key_is(kv, "sources") && kv->val.type == MSGPACK_OBJECT_ARRAY) {
			size_t n = 0;

			for (uint32_t k = 0; k < kv->val.via.array.size; k++) {
				const msgpack_object *x = &kv->val.via.array.ptr[k];

				if (x->type != MSGPACK_OBJECT_STR ||
				    n + x->via.str.size + 2 >= sizeof(fr->sources))
					continue;
				if (n)
					fr->sources[n++] = ',';
				memcpy(fr->sources + n, x->via.str.ptr, x->via.str.size);
				n += x->via.str.size;
				fr->sources[n] = '\0';
			}
		}
	}
	return fr->have_ts ? 0 : V2X_E_MISSING;
}

static void on_event_frame(struct bench *b, struct step *st, const struct frame *fr)
{
	int type = v2x_event_type_from_name(fr->type);
	int status = v2x_event_status_from_name(fr->status);

	if (bench_score_add_event(&st->score, fr->id, type, status, fr->ts, fr->lat, fr->lon,
				  fr->lane, fr->segment) < 0)
		st->bad_payload++;
	else if (fr->sources[0])
		bench_score_set_sources(&st->score, fr->id, fr->sources);
	if (b->events_out) {
		char src[96] = "", trk[200] = "";
		size_t n = 0, tn = 0;
		const char *p = fr->sources;

		for (int k = 0; k < fr->ntracks; k++)
			tn += (size_t)snprintf(trk + tn, sizeof(trk) - tn, "%s%llu", k ? "," : "",
					       (unsigned long long)fr->tracks[k]);

		/* Source tokens are [a-z0-9:]; quote each one. */
		while (*p && n + 8 < sizeof(src)) {
			size_t k = strcspn(p, ",");

			n += (size_t)snprintf(src + n, sizeof(src) - n, "%s\"%.*s\"", n ? "," : "",
					      (int)k, p);
			p += k + (p[k] == ',');
		}
		fprintf(b->events_out,
			"{\"t\":\"event\",\"ts\":%llu,\"id\":%llu,\"type\":\"%s\",\"status\":\"%s\","
			"\"severity\":%d,\"lat\":%.7f,\"lon\":%.7f,\"lane\":%d,\"segment\":%d,"
			"\"sources\":[%s],\"tracks\":[%s]%s%s%s}\n",
			(unsigned long long)fr->ts, (unsigned long long)fr->id, fr->type,
			fr->status, fr->severity, fr->lat, fr->lon, fr->lane, fr->segment, src, trk,
			fr->level[0] ? ",\"level\":\"" : "", fr->level, fr->level[0] ? "\"" : "");
	}
}

/* Receive everything queued on the SUB socket; returns messages taken. */
static int sub_drain(struct bench *b, struct step *st, msgpack_zone *zone)
{
	char topic[128];
	static char payload[65536];
	int n = 0;

	for (;;) {
		int more = 0, tl, pl;
		size_t ml = sizeof(more);
		uint64_t now;
		struct frame fr;

		tl = zmq_recv(b->sub, topic, sizeof(topic) - 1, ZMQ_DONTWAIT);
		if (tl < 0)
			break;
		now = now_real_ns();
		if (tl > (int)sizeof(topic) - 1)
			tl = (int)sizeof(topic) - 1;
		topic[tl] = '\0';
		zmq_getsockopt(b->sub, ZMQ_RCVMORE, &more, &ml);
		if (!more) {
			st->bad_payload++;
			continue;
		}
		pl = zmq_recv(b->sub, payload, sizeof(payload), 0);
		/* Skip any further frames of the same message. */
		for (;;) {
			ml = sizeof(more);
			zmq_getsockopt(b->sub, ZMQ_RCVMORE, &more, &ml);
			if (!more)
				break;
			zmq_recv(b->sub, NULL, 0, 0);
		}
		n++;
		if (pl < 0 || pl > (int)sizeof(payload) ||
		    frame_parse(payload, (size_t)pl, zone, &fr) < 0) {
			st->bad_payload++;
			continue;
		}
		if (!strncmp(topic, "bsm/", 4)) {
			st->got_bsm++;
			bench_hist_add(&st->lat_bsm, (int64_t)(now - fr.ts));
		} else if (!strncmp(topic, "obj/", 4)) {
			st->got_obj++;
			bench_hist_add(&st->lat_obj, (int64_t)(now - fr.ts));
			if (b->obj_out)
				fprintf(b->obj_out,
					"{\"ts\":%llu,\"id\":%llu,\"cls\":\"%s\",\"lat\":%.7f,"
					"\"lon\":%.7f,\"speed\":%.2f,\"heading\":%.1f,\"src\":%d,"
					"\"sensor\":%d}\n",
					(unsigned long long)fr.ts, (unsigned long long)fr.id, fr.cls,
					fr.lat, fr.lon, fr.speed, fr.heading, fr.src, fr.sensor);
		} else if (!strncmp(topic, "evt/", 4)) {
			st->got_evt++;
			bench_hist_add(&st->lat_evt, (int64_t)(now - fr.ts));
			on_event_frame(b, st, &fr);
		} else {
			st->got_other++;
		}
	}
	return n;
}

static int sub_open(struct bench *b)
{
	int hwm = 0, linger = 0;
	int ret = 0;

	b->zctx = zmq_ctx_new();
	if (!b->zctx)
		return -errno;
	b->sub = zmq_socket(b->zctx, ZMQ_SUB);
	if (!b->sub)
		return -zmq_errno();
	/* No receive limit: the benchmark must not be the one that drops. */
	zmq_setsockopt(b->sub, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(b->sub, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_setsockopt(b->sub, ZMQ_SUBSCRIBE, "evt/", 4) ||
	    zmq_setsockopt(b->sub, ZMQ_SUBSCRIBE, "obj/", 4) ||
	    (b->o->relay_bsm && zmq_setsockopt(b->sub, ZMQ_SUBSCRIBE, "bsm/", 4)))
		ret = -zmq_errno();
	if (!ret && zmq_connect(b->sub, b->zmq_ep))
		ret = -zmq_errno();
	return ret;
}

/* ---- one step ----------------------------------------------------------- */

static void parse_sim_log(const char *path, struct step *st)
{
	FILE *f = fopen(path, "r");
	char line[2048];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "v2x-sim: done:");

		if (!p)
			continue;
#define FIELD(key, fmt, dst) do { const char *q = strstr(p, " " key "="); if (q) sscanf(q + strlen(key) + 2, fmt, dst); } while (0)
		FIELD("datagrams", "%llu", &st->sim_sent);
		FIELD("send_errors", "%llu", &st->sim_send_errors);
		FIELD("bsm", "%llu", &st->sim_bsm);
		FIELD("objects_frames", "%llu", &st->sim_objects_frames);
		FIELD("spat", "%llu", &st->sim_spat);
		FIELD("wall", "%lf", &st->sim_wall_s);
#undef FIELD
	}
	fclose(f);
}

static int run_step(struct bench *b, struct step *st, int idx)
{
	struct opts *o = b->o;
	struct metrics_snap before = { 0 }, after = { 0 };
	char sim_path[PATH_MAX], truth[PATH_MAX + 32], log[PATH_MAX + 32];
	char veh[16], pen[16], dur[16], seed[16], inc[16], pace[32];
	char map_err[512];
	const char *argv[64 + MAX_EXTRA];
	int na = 0, ret = 0, status = 0, sim_done = 0;
	msgpack_zone zone;
	uint64_t t0, t_end = 0;

	msgpack_zone_init(&zone, 65536);
	if (o->sim)
		snprintf(sim_path, sizeof(sim_path), "%s", o->sim);
	else
		sibling_path(sim_path, sizeof(sim_path), "sim", "v2x-sim");
	snprintf(truth, sizeof(truth), "%s/truth-%d.jsonl", b->dir, idx);
	snprintf(log, sizeof(log), "%s/sim-%d.log", b->dir, idx);
	snprintf(veh, sizeof(veh), "%d", o->vehicles);
	snprintf(pen, sizeof(pen), "%g", o->penetration);
	snprintf(dur, sizeof(dur), "%g", o->duration);
	snprintf(seed, sizeof(seed), "%d", o->seed);
	snprintf(inc, sizeof(inc), "%d", o->incidents);
	argv[na++] = sim_path;
	argv[na++] = "run";
	argv[na++] = "--scenario";
	argv[na++] = o->scenario;
	argv[na++] = "--vehicles";
	argv[na++] = veh;
	argv[na++] = "--penetration";
	argv[na++] = pen;
	argv[na++] = "--duration";
	argv[na++] = dur;
	argv[na++] = "--seed";
	argv[na++] = seed;
	if (o->incidents > 0) {
		argv[na++] = "--incidents";
		argv[na++] = inc;
	}
	argv[na++] = "--target";
	argv[na++] = b->target;
	if (b->sensors_target[0]) {
		argv[na++] = "--sensors-target";
		argv[na++] = b->sensors_target;
	}
	argv[na++] = "--encoding";
	argv[na++] = o->encoding;
	argv[na++] = "--truth-out";
	argv[na++] = truth;
	if (st->rate > 0) {
		snprintf(pace, sizeof(pace), "%.0f", st->rate);
		argv[na++] = "--rate";
		argv[na++] = pace;
	} else if (o->speed != 1) {
		snprintf(pace, sizeof(pace), "%g", o->speed);
		argv[na++] = "--speed";
		argv[na++] = pace;
	}
	if (b->mqtt_uri[0]) {
		/* The traffic-management side announces its lane closures. */
		argv[na++] = "--mqtt";
		argv[na++] = b->mqtt_uri;
		argv[na++] = "--rsu-id";
		argv[na++] = "bench";
	}
	for (int i = 0; i < o->nextra_sim; i++)
		argv[na++] = o->extra_sim[i];
	argv[na] = NULL;

	bench_score_init(&st->score, &o->match);
	/* The broker was started with this map: one it cannot load is no run.
	 * An external broker's map is unknown here (the radius rule). */
	if (b->map_path[0]) {
		ret = bench_score_load_map(&st->score, b->map_path, map_err,
					   sizeof(map_err));
		if (ret < 0) {
			fprintf(stderr, "v2x-bench: road map: %s\n", map_err);
			goto out;
		}
		ret = 0;
	} else {
		fprintf(stderr, "v2x-bench: no road map for congestion matching "
			"(external broker), radius rule\n");
	}
	if (snap_take(&before, b->metrics_addr) < 0)
		fprintf(stderr, "v2x-bench: cannot scrape %s/metrics before the step\n",
			b->metrics_addr);

	fprintf(stderr, "v2x-bench: step %s: sim %s for %gs\n", st->label, o->scenario,
		o->duration);
	t0 = now_mono_ns();
	b->sim_pid = spawn_child(sim_path, (char *const *)argv, log);
	if (b->sim_pid < 0) {
		ret = b->sim_pid;
		b->sim_pid = 0;
		fprintf(stderr, "v2x-bench: cannot start %s: %s\n", sim_path, strerror(-ret));
		goto out;
	}
	for (;;) {
		zmq_pollitem_t pi = { b->sub, 0, ZMQ_POLLIN, 0 };

		if (stop_requested) {
			ret = -EINTR;
			break;
		}
		zmq_poll(&pi, 1, 50);
		sub_drain(b, st, &zone);
		if (!sim_done) {
			pid_t r = waitpid(b->sim_pid, &status, WNOHANG);

			if (r == b->sim_pid) {
				sim_done = 1;
				b->sim_pid = 0;
				t_end = now_mono_ns();
				st->wall_s = (double)(t_end - t0) / 1e9;
				st->sim_status = WIFEXITED(status) ? WEXITSTATUS(status) :
					128 + WTERMSIG(status);
			}
		} else if (now_mono_ns() - t_end >= (uint64_t)(o->drain_s * 1e9)) {
			break;
		}
	}
	if (snap_take(&after, b->metrics_addr) == 0 && before.ok) {
		st->have_metrics = 1;
		st->rx = snap_delta(&before, &after, "v2x_rx_datagrams_total", NULL);
		st->decoded = snap_delta(&before, &after, "v2x_rx_decoded_total", NULL);
		st->rejected = snap_delta(&before, &after, "v2x_rx_rejected_total", NULL);
		broker_latency(&before, &after, st);
		st->drop_ingest = snap_delta(&before, &after, "v2x_stage_dropped_total", "stage=\"ingest\"");
		st->drop_tracks = snap_delta(&before, &after, "v2x_stage_dropped_total", "stage=\"tracks\"");
		st->drop_publish = snap_delta(&before, &after, "v2x_stage_dropped_total", "stage=\"publish\"");
		st->drop_zmq = snap_delta(&before, &after, "v2x_stage_dropped_total", "stage=\"zmq\"");
		st->tx_bsm = snap_delta(&before, &after, "v2x_tx_messages_total", "sink=\"zmq_bsm\"");
		st->tx_obj = snap_delta(&before, &after, "v2x_tx_messages_total", "sink=\"zmq_obj\"");
		st->tx_evt = snap_delta(&before, &after, "v2x_tx_messages_total", "sink=\"zmq_evt\"");
		st->events_total = snap_delta(&before, &after, "v2x_events_total", NULL);
	}
	parse_sim_log(log, st);
	if (st->sim_status)
		fprintf(stderr, "v2x-bench: the simulator exited with status %d (log %s)\n",
			st->sim_status, log);
	{
		int bad = 0, n = bench_score_load_truth(&st->score, truth, &bad);

		if (n < 0) {
			fprintf(stderr, "v2x-bench: %s:%d: %s\n", truth, bad, v2x_strerror(n));
		} else {
			bench_score_run(&st->score);
			st->have_score = 1;
		}
	}
out:
	if (b->sim_pid > 0) {
		stop_child(b->sim_pid, 2000);
		b->sim_pid = 0;
	}
	snap_free(&before);
	snap_free(&after);
	msgpack_zone_destroy(&zone);
	return ret;
}

/* ---- reports ------------------------------------------------------------ */

static double ratio(double num, double den)
{
	return den > 0 ? num / den : NAN;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *hist_json(const struct bench_hist *h)
{
	return json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "count", (json_int_t)h->count, "negative", (json_int_t)h->negative,
			 "min_us", jnum(h->count ? (double)h->min_ns / 1e3 : NAN),
			 "mean_us", jnum(h->count ? h->sum_ns / (double)h->count / 1e3 : NAN),
			 "p50_us", jnum(h->count ? bench_hist_pct(h, 0.5) / 1e3 : NAN),
			 "p90_us", jnum(h->count ? bench_hist_pct(h, 0.9) / 1e3 : NAN),
			 "p99_us", jnum(h->count ? bench_hist_pct(h, 0.99) / 1e3 : NAN),
			 "p999_us", jnum(h->count ? bench_hist_pct(h, 0.999) / 1e3 : NAN),
			 "max_us", jnum(h->count ? (double)h->max_ns / 1e3 : NAN));
}

static double loss_frac(double in, double out)
{
	return in > 0 ? (in - out) / in : NAN;
}

/* Distinct events that matched no incident, in arrival order ("marginal":
 * the marginal line's id when one matched it - not false then but for the
 * strict precision). */
static json_t *fp_json(const struct step *st, int limit, uint64_t t0)
{
	json_t *a = json_array();
	int n = 0;

	for (int j = 0; j < st->score.nevt && n < limit; j++) {
		const struct bench_event *e = &st->score.evt[j];

		if (e->matched_incident >= 0)
			continue;
		json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:o,s:f,s:f,s:i,s:i,s:i,s:b,s:o}",
			"id", (json_int_t)e->id, "type", v2x_event_type_name(e->type),
			"sources", e->sources,
			"t_s", jnum(t0 && e->first_ts >= t0 ? (double)(e->first_ts - t0) / 1e9 : NAN),
			"lat", e->pos[0].lat, "lon", e->pos[0].lon, "lane", e->pos[0].lane,
			"segment", e->pos[0].segment, "transitions", e->ntransitions,
			"at_closure", e->at_closure,
			"marginal", e->matched_marginal >= 0 ? json_integer(e->matched_marginal) :
							    json_null()));
		n++;
	}
	return a;
}

static json_t *incidents_json(const struct step *st, uint64_t t0)
{
	json_t *a = json_array();

	for (int i = 0; i < st->score.ninc; i++) {
		const struct bench_incident *in = &st->score.inc[i];

		json_array_append_new(a, json_pack("{s:i,s:s,s:s,s:b,s:o,s:o,s:o,s:f,s:f,s:i,s:i,s:i,s:o}",
			"id", in->id, "type", v2x_event_type_name(in->type),
			"cause", in->marginal ? "marginal" : in->natural ? "natural" : "injected",
			"observed", in->observed,
			"start_s", jnum(t0 ? ((double)in->start_ts - (double)t0) / 1e9 : NAN),
			"detectable_s", jnum(in->detectable_ts && t0 ?
					     ((double)in->detectable_ts - (double)t0) / 1e9 : NAN),
			"end_s", jnum(t0 ? ((double)in->end_ts - (double)t0) / 1e9 : NAN),
			"lat", in->lat, "lon", in->lon, "lane", in->lane, "segment", in->segment,
			"matched_events", in->n_matched,
			"delay_s", jnum(in->n_matched && in->detectable_ts ?
					((double)in->first_event_ts - (double)in->detectable_ts) / 1e9 : NAN)));
	}
	return a;
}

static json_t *accuracy_json(const struct step *st, int fp_limit)
{
	json_t *types = json_object();
	const struct bench_score *sc = &st->score;

	for (int t = 0; t < BENCH_NTYPES; t++) {
		const struct bench_type_score *ts = &sc->type[t];

		json_object_set_new(types, v2x_event_type_name(t),
			json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
				  "incidents", ts->incidents, "detectable", ts->detectable,
				  "detected", ts->detected, "observed", ts->observed,
				  "detected_observed", ts->detected_observed,
				  "natural", ts->natural, "natural_scored", ts->natural_scored,
				  "natural_detected", ts->natural_detected, "events", ts->events,
				  "matched_events", ts->matched_events,
				  "matched_natural_only", ts->matched_natural_only,
				  "unmatched_at_closure", ts->unmatched_at_closure,
				  "marginal", ts->marginal, "marginal_matched", ts->marginal_matched,
				  "precision", jnum(ts->precision),
				  "precision_strict", jnum(ts->precision_strict),
				  "recall", jnum(ts->recall),
				  "recall_observed", jnum(ts->recall_observed),
				  "recall_natural", jnum(ts->recall_natural),
				  "delay_p50_s", jnum(ts->delay_p50_s),
				  "delay_p90_s", jnum(ts->delay_p90_s),
				  "delay_max_s", jnum(ts->delay_max_s),
				  "events_per_incident", jnum(ts->events_per_incident)));
	}
	return json_pack("{s:i,s:i,s:I,s:I,s:{s:f,s:s,s:f,s:f,s:f,s:f,s:f},s:o,s:o,s:o}",
			 "incidents", sc->ninc, "skipped", sc->nskipped,
			 "events", (json_int_t)sc->nevt, "transitions", (json_int_t)sc->transitions,
			 "match", "radius_m", sc->cfg.radius_m,
			 "congestion_rule", sc->nseg ? "segment_or_upstream" : "radius_or_segment",
			 "congestion_radius_m", sc->cfg.congestion_radius_m,
			 "move_mps", sc->cfg.move_mps, "tolerance_s", sc->cfg.tolerance_s,
			 "grace_s", sc->cfg.grace_s, "natural_min_s", sc->cfg.natural_min_s,
			 "types", types,
			 "false_positives", fp_json(st, fp_limit, sc->run_start_ts),
			 "incident_list", incidents_json(st, sc->run_start_ts));
}

static json_t *step_json(const struct bench *b, const struct step *st)
{
	json_t *j = json_object();
	double wall = st->wall_s > 0 ? st->wall_s : NAN;

	json_object_set_new(j, "label", json_string(st->label));
	json_object_set_new(j, "rate", st->rate > 0 ? json_real(st->rate) : json_null());
	json_object_set_new(j, "sim", json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:f,s:f}",
		"status", st->sim_status, "sent", (json_int_t)st->sim_sent,
		"send_errors", (json_int_t)st->sim_send_errors, "bsm", (json_int_t)st->sim_bsm,
		"objects_frames", (json_int_t)st->sim_objects_frames,
		"spat", (json_int_t)st->sim_spat, "sim_wall_s", st->sim_wall_s,
		"wall_s", st->wall_s));
	if (st->have_metrics) {
		json_object_set_new(j, "broker", json_pack(
			"{s:f,s:f,s:f,s:f,s:o,s:o,s:{s:f,s:f,s:f,s:f},s:{s:f,s:f,s:f},s:f}",
			"rx_datagrams", st->rx, "decoded", st->decoded, "rejected", st->rejected,
			"pipeline_latency_count", st->bl_count,
			"pipeline_latency_p50_us", jnum(st->bl_p50_us),
			"pipeline_latency_p99_us", jnum(st->bl_p99_us),
			"stage_dropped", "ingest", st->drop_ingest, "tracks", st->drop_tracks,
			"publish", st->drop_publish, "zmq", st->drop_zmq,
			"tx", "zmq_bsm", st->tx_bsm, "zmq_obj", st->tx_obj, "zmq_evt", st->tx_evt,
			"events_total", st->events_total));
		json_object_set_new(j, "loss", json_pack("{s:o,s:o,s:o,s:o,s:o}",
			"network", jnum(loss_frac((double)st->sim_sent, st->rx)),
			"broker_ingest", jnum(loss_frac(st->rx, st->decoded)),
			"bsm_sent_to_published", jnum(b->o->relay_bsm ?
						      loss_frac((double)st->sim_bsm, st->tx_bsm) : NAN),
			"subscriber_bsm", jnum(b->o->relay_bsm ?
					       loss_frac(st->tx_bsm, (double)st->got_bsm) : NAN),
			"subscriber_obj", jnum(loss_frac(st->tx_obj, (double)st->got_obj))));
	} else {
		json_object_set_new(j, "broker", json_null());
	}
	json_object_set_new(j, "received", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"bsm", (json_int_t)st->got_bsm, "obj", (json_int_t)st->got_obj,
		"evt", (json_int_t)st->got_evt, "other", (json_int_t)st->got_other,
		"bad", (json_int_t)st->bad_payload));
	json_object_set_new(j, "throughput", json_pack("{s:o,s:o,s:o}",
		"sent_per_s", jnum(ratio((double)st->sim_sent, wall)),
		"broker_rx_per_s", jnum(st->have_metrics ? ratio(st->rx, wall) : NAN),
		"received_per_s", jnum(ratio((double)(st->got_bsm + st->got_obj + st->got_evt), wall))));
	json_object_set_new(j, "latency", json_pack("{s:o,s:o,s:o}",
		"bsm", hist_json(&st->lat_bsm), "obj", hist_json(&st->lat_obj),
		"evt", hist_json(&st->lat_evt)));
	if (st->have_score)
		json_object_set_new(j, "accuracy", accuracy_json(st, b->o->fp_list));
	return j;
}

static json_t *report_json(const struct bench *b)
{
	const struct opts *o = b->o;
	json_t *steps = json_array();
	json_t *cfg = json_pack("{s:s,s:i,s:f,s:f,s:i,s:i,s:f,s:s,s:b,s:b,s:s*,s:b}",
				"scenario", o->scenario, "vehicles", o->vehicles,
				"penetration", o->penetration, "duration_s", o->duration,
				"seed", o->seed, "incidents", o->incidents, "speed", o->speed,
				"encoding", o->encoding, "relay_bsm", o->relay_bsm,
				"spawn_broker", o->spawn_broker, "broker_config", o->config,
				"cloud", b->mqtt_uri[0] != '\0');

	for (int i = 0; i < b->nsteps; i++)
		json_array_append_new(steps, step_json(b, &b->steps[i]));
	/* Frame times are simulation times unless the simulator runs in real
	 * time (or at a fixed rate, which is paced in real time). */
	return json_pack("{s:s,s:I,s:b,s:o,s:o}", "tool", "v2x-bench",
			 "ts", (json_int_t)now_real_ns(),
			 "latency_wall_clock", o->nrates > 0 || o->speed == 1,
			 "config", cfg, "steps", steps);
}

static void fmt_num(char *out, size_t cap, double v, const char *fmt)
{
	if (isfinite(v))
		snprintf(out, cap, fmt, v);
	else
		snprintf(out, cap, "-");
}

static void print_summary(const struct bench *b, FILE *f)
{
	if (b->score_only)
		goto accuracy;
	fprintf(f, "\n%-14s %10s %10s %10s %10s %8s %5s %9s %9s %9s %9s\n", "step", "sent",
		"broker_rx", "sent/s", "rx/s", "net_loss", "lat", "min_us", "p50_us", "p99_us",
		"max_us");
	for (int i = 0; i < b->nsteps; i++) {
		const struct step *st = &b->steps[i];
		const struct bench_hist *h = b->o->relay_bsm ? &st->lat_bsm : &st->lat_obj;
		char loss[16], mn[16], p50[16], p99[16], mx[16];

		fmt_num(loss, sizeof(loss), st->have_metrics ?
			loss_frac((double)st->sim_sent, st->rx) * 100 : NAN, "%.3f%%");
		fmt_num(mn, sizeof(mn), h->count ? (double)h->min_ns / 1e3 : NAN, "%.0f");
		fmt_num(p50, sizeof(p50), h->count ? bench_hist_pct(h, 0.5) / 1e3 : NAN, "%.0f");
		fmt_num(p99, sizeof(p99), h->count ? bench_hist_pct(h, 0.99) / 1e3 : NAN, "%.0f");
		fmt_num(mx, sizeof(mx), h->count ? (double)h->max_ns / 1e3 : NAN, "%.0f");
		fprintf(f, "%-14s %10llu %10.0f %10.0f %10.0f %8s %5s %9s %9s %9s %9s\n", st->label,
			st->sim_sent, st->rx, ratio((double)st->sim_sent, st->wall_s),
			ratio(st->rx, st->wall_s), loss, b->o->relay_bsm ? "bsm" : "obj",
			mn, p50, p99, mx);
		fprintf(f, "%14s decoded=%.0f rejected=%.0f dropped: ingest=%.0f tracks=%.0f "
			"publish=%.0f zmq=%.0f | tx bsm=%.0f obj=%.0f evt=%.0f | got bsm=%llu "
			"obj=%llu evt=%llu | broker rx->zmq p50=%.0fus p99=%.0fus\n", "",
			st->decoded, st->rejected, st->drop_ingest,
			st->drop_tracks, st->drop_publish, st->drop_zmq, st->tx_bsm, st->tx_obj,
			st->tx_evt, (unsigned long long)st->got_bsm,
			(unsigned long long)st->got_obj, (unsigned long long)st->got_evt,
			st->bl_p50_us, st->bl_p99_us);
	}
accuracy:
	for (int i = 0; i < b->nsteps; i++) {
		const struct step *st = &b->steps[i];

		if (!st->have_score || !st->score.ninc)
			continue;
		fprintf(f, "\naccuracy (%s): %d incidents, %d distinct events\n", st->label,
			st->score.ninc, st->score.nevt);
		fprintf(f, "(inc..rec_obs: injected incidents; nat/nat_sc/nat_fd/rec_nat: natural "
			"episodes, scored = observed and detectable >= %.1f s; nat_only = events "
			"matching natural episodes only; marg = events matching only a marginal "
			"collision risk (within the position error), left out of precision and "
			"counted false in p_strict)\n",
			st->score.cfg.natural_min_s);
		if (st->score.nseg)
			fprintf(f, "(congestion matched on the incident's segment or upstream of it "
				"within %.0f m along the road, %d segments of the run's map)\n",
				st->score.cfg.congestion_radius_m, st->score.nseg);
		else
			fprintf(f, "(congestion matched within %.0f m or on the incident's segment: "
				"no map, the radius also reaches the opposite carriageway)\n",
				st->score.cfg.congestion_radius_m);
		fprintf(f, "%-16s %4s %4s %4s %5s %5s %6s %6s %7s %6s %7s %9s %4s %9s %8s %7s %8s %9s %9s %6s\n",
			"type", "inc", "det", "obs", "found", "nat", "nat_sc", "nat_fd", "rec_nat",
			"events", "matched", "nat_only", "marg", "precision", "p_strict", "recall",
			"rec_obs", "delay_p50", "delay_p90", "ev/inc");
		for (int t = 0; t < BENCH_NTYPES; t++) {
			const struct bench_type_score *ts = &st->score.type[t];
			char p[16], ps[16], r[16], ro[16], rn[16], d50[16], d90[16], epi[16];

			if (!ts->incidents && !ts->natural && !ts->events)
				continue;
			fmt_num(p, sizeof(p), ts->precision, "%.3f");
			fmt_num(ps, sizeof(ps), ts->precision_strict, "%.3f");
			fmt_num(r, sizeof(r), ts->recall, "%.3f");
			fmt_num(ro, sizeof(ro), ts->recall_observed, "%.3f");
			fmt_num(rn, sizeof(rn), ts->recall_natural, "%.3f");
			fmt_num(d50, sizeof(d50), ts->delay_p50_s, "%.2fs");
			fmt_num(d90, sizeof(d90), ts->delay_p90_s, "%.2fs");
			fmt_num(epi, sizeof(epi), ts->events_per_incident, "%.2f");
			fprintf(f, "%-16s %4d %4d %4d %5d %5d %6d %6d %7s %6d %7d %9d %4d %9s %8s %7s %8s %9s %9s %6s\n",
				v2x_event_type_name(t), ts->incidents, ts->detectable, ts->observed,
				ts->detected, ts->natural, ts->natural_scored, ts->natural_detected, rn,
				ts->events, ts->matched_events, ts->matched_natural_only,
				ts->marginal_matched, p, ps, r, ro, d50, d90, epi);
		}
		if (st->score.type[V2X_EVT_STOPPED_VEHICLE].unmatched_at_closure)
			fprintf(f, "(stopped_vehicle: %d of the unmatched events stand at the head "
				"of a closed lane of a lane closure, whose obstacle is no track)\n",
				st->score.type[V2X_EVT_STOPPED_VEHICLE].unmatched_at_closure);
	}
	fputc('\n', f);
}

static void html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

/* Inline SVG: latency histogram on a log axis, 10 bins per decade. */
static void html_hist_svg(FILE *f, const struct bench_hist *h, const char *title)
{
	enum { DEC_LO = 3, DEC_HI = 10, PER = 10, NB = (DEC_HI - DEC_LO) * PER };
	double bins[NB] = { 0 }, top = 0;
	int first = NB, last = -1;
	const int W = 640, H = 180, pad = 30;

	if (!h->count)
		return;
	for (int i = 0; i < BENCH_HIST_N; i++) {
		double mid;
		int k;

		if (!h->bucket[i])
			continue;
		mid = ((double)bench_hist_bucket_lo(i) + (double)bench_hist_bucket_hi(i)) / 2;
		k = mid < 1 ? 0 : (int)floor((log10(mid) - DEC_LO) * PER);
		k = k < 0 ? 0 : k >= NB ? NB - 1 : k;
		bins[k] += (double)h->bucket[i];
	}
	for (int k = 0; k < NB; k++) {
		if (bins[k] > 0) {
			first = k < first ? k : first;
			last = k;
		}
		top = bins[k] > top ? bins[k] : top;
	}
	first = first - first % PER;
	last = last + (PER - last % PER);
	if (last > NB)
		last = NB;
	fprintf(f, "<figure><svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'>"
		   "<rect width='100%%' height='100%%' fill='#fafafa'/>", W, H + pad);
	for (int k = first; k < last; k++) {
		double bw = (double)(W - 2 * pad) / (last - first);
		double bh = top > 0 ? bins[k] / top * (H - 20) : 0;

		fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#3a7bd5'>"
			   "<title>%.0f</title></rect>",
			pad + (k - first) * bw, H - bh, bw > 1 ? bw - 1 : bw, bh, bins[k]);
		if (k % PER == 0) {
			static const char *lbl[] = { "1us", "10us", "100us", "1ms", "10ms",
						     "100ms", "1s" };
			fprintf(f, "<text x='%.1f' y='%d' font-size='11'>%s</text>",
				pad + (k - first) * bw, H + 15, lbl[k / PER]);
		}
	}
	fprintf(f, "</svg><figcaption>");
	html_escape(f, title);
	fprintf(f, " (%llu samples, log scale)</figcaption></figure>\n",
		(unsigned long long)h->count);
}

static void html_lat_row(FILE *f, const char *name, const struct bench_hist *h)
{
	if (!h->count) {
		fprintf(f, "<tr><td>%s</td><td>0</td><td colspan=5>-</td></tr>\n", name);
		return;
	}
	fprintf(f, "<tr><td>%s</td><td>%llu</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>"
		   "<td>%.0f</td><td>%.0f</td></tr>\n", name, (unsigned long long)h->count,
		bench_hist_pct(h, 0.5) / 1e3, bench_hist_pct(h, 0.9) / 1e3,
		bench_hist_pct(h, 0.99) / 1e3, bench_hist_pct(h, 0.999) / 1e3,
		(double)h->max_ns / 1e3);
}

static int write_html(const struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");
	const struct opts *o = b->o;

	if (!f)
		return -errno;
	fprintf(f, "<!DOCTYPE html><html><head><meta charset='utf-8'><title>v2x-bench report</title>"
		   "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
		   "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
		   "th{background:#eee}td:first-child{text-align:left}</style></head><body>\n");
	fprintf(f, "<h1>v2x-bench report</h1><p>scenario <b>");
	html_escape(f, o->scenario);
	fprintf(f, "</b>, %d vehicles, penetration %.2f, %g s per step, seed %d, %d incidents, "
		   "speed %g, encoding %s%s</p>\n", o->vehicles, o->penetration, o->duration,
		o->seed, o->incidents, o->speed, o->encoding, o->relay_bsm ? ", bsm relay" : "");
	if (b->score_only)
		goto accuracy;
	fprintf(f, "<h2>Throughput and loss</h2><table><tr><th>step</th><th>sent</th>"
		   "<th>send errors</th><th>broker rx</th><th>decoded</th><th>rejected</th>"
		   "<th>dropped ingest/tracks/publish/zmq</th><th>tx bsm/obj/evt</th>"
		   "<th>got bsm/obj/evt</th><th>sent/s</th><th>rx/s</th><th>network loss</th></tr>\n");
	for (int i = 0; i < b->nsteps; i++) {
		const struct step *st = &b->steps[i];

		fprintf(f, "<tr><td>%s</td><td>%llu</td><td>%llu</td><td>%.0f</td><td>%.0f</td>"
			   "<td>%.0f</td><td>%.0f/%.0f/%.0f/%.0f</td><td>%.0f/%.0f/%.0f</td>"
			   "<td>%llu/%llu/%llu</td><td>%.0f</td><td>%.0f</td><td>%.3f%%</td></tr>\n",
			st->label, st->sim_sent, st->sim_send_errors, st->rx, st->decoded,
			st->rejected, st->drop_ingest, st->drop_tracks, st->drop_publish,
			st->drop_zmq, st->tx_bsm, st->tx_obj, st->tx_evt,
			(unsigned long long)st->got_bsm, (unsigned long long)st->got_obj,
			(unsigned long long)st->got_evt, ratio((double)st->sim_sent, st->wall_s),
			ratio(st->rx, st->wall_s),
			loss_frac((double)st->sim_sent, st->rx) * 100);
	}
	fprintf(f, "</table>\n<h2>Latency (ts to subscriber receipt, &micro;s)</h2>\n");
	for (int i = 0; i < b->nsteps; i++) {
		const struct step *st = &b->steps[i];

		fprintf(f, "<h3>%s</h3><table><tr><th>topic</th><th>n</th><th>p50</th><th>p90</th>"
			   "<th>p99</th><th>p99.9</th><th>max</th></tr>\n", st->label);
		html_lat_row(f, "bsm/ relay", &st->lat_bsm);
		html_lat_row(f, "obj/ (rate-limited)", &st->lat_obj);
		html_lat_row(f, "evt/", &st->lat_evt);
		fprintf(f, "<tr><td>broker histogram (receive to ZeroMQ)</td><td>%.0f</td>"
			   "<td>%.0f</td><td>-</td><td>%.0f</td><td>-</td><td>-</td></tr></table>\n",
			st->bl_count, st->bl_p50_us, st->bl_p99_us);
		html_hist_svg(f, o->relay_bsm ? &st->lat_bsm : &st->lat_obj,
			      o->relay_bsm ? "bsm/ latency" : "obj/ latency");
	}
accuracy:
	for (int i = 0; i < b->nsteps; i++) {
		const struct step *st = &b->steps[i];
		const struct bench_score *sc = &st->score;
		int n = 0;

		if (!st->have_score || !sc->ninc)
			continue;
		fprintf(f, "<h2>Event accuracy (%s)</h2><p>%d incidents, %d skipped, %d distinct "
			   "events; match radius %.0f m (+%.0f m/s for moving incidents), congestion "
			   "%.0f m %s, window [detectable - %.1f s, end + %.1f s]. "
			   "Incidents, detected and recall: injected incidents; natural episodes "
			   "(conditions of the simulated traffic) are scored when observed and "
			   "detectable for &ge; %.1f s; precision counts events matching either, "
			   "and leaves out those matching only a marginal collision risk (one "
			   "within the pair's position error), which strict precision counts "
			   "false.</p>"
			   "<table><tr><th>type</th><th>incidents</th><th>detectable</th>"
			   "<th>observed</th><th>detected</th><th>natural</th><th>natural scored</th>"
			   "<th>natural detected</th><th>recall (natural)</th>"
			   "<th>events</th><th>matched</th><th>matched natural only</th>"
			   "<th>marginal only</th><th>precision</th><th>precision (strict)</th>"
			   "<th>recall</th><th>recall (observed)</th><th>delay p50 s</th><th>delay p90 s</th><th>events/incident</th></tr>\n",
			st->label, sc->ninc, sc->nskipped, sc->nevt, sc->cfg.radius_m,
			sc->cfg.move_mps, sc->cfg.congestion_radius_m,
			sc->nseg ? "along the road upstream (map) or same segment" :
				   "or same segment (no map)",
			sc->cfg.tolerance_s,
			sc->cfg.grace_s, sc->cfg.natural_min_s);
		for (int t = 0; t < BENCH_NTYPES; t++) {
			const struct bench_type_score *ts = &sc->type[t];
			char p[16], ps[16], r[16], ro[16], rn[16], d50[16], d90[16], epi[16];

			fmt_num(p, sizeof(p), ts->precision, "%.3f");
			fmt_num(ps, sizeof(ps), ts->precision_strict, "%.3f");
			fmt_num(r, sizeof(r), ts->recall, "%.3f");
			fmt_num(ro, sizeof(ro), ts->recall_observed, "%.3f");
			fmt_num(rn, sizeof(rn), ts->recall_natural, "%.3f");
			fmt_num(d50, sizeof(d50), ts->delay_p50_s, "%.2f");
			fmt_num(d90, sizeof(d90), ts->delay_p90_s, "%.2f");
			fmt_num(epi, sizeof(epi), ts->events_per_incident, "%.2f");
			fprintf(f, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>"
				   "<td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>%d</td>"
				   "<td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td>"
				   "<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
				v2x_event_type_name(t), ts->incidents, ts->detectable, ts->observed,
				ts->detected, ts->natural, ts->natural_scored, ts->natural_detected, rn,
				ts->events, ts->matched_events, ts->matched_natural_only,
				ts->marginal_matched, p, ps, r, ro, d50, d90, epi);
		}
		fprintf(f, "</table><h3>Incidents</h3><table><tr><th>id</th><th>type</th>"
			   "<th>cause</th><th>start s</th><th>detectable s</th><th>end s</th><th>lane</th>"
			   "<th>segment</th><th>events</th><th>delay s</th></tr>\n");
		for (int k = 0; k < sc->ninc; k++) {
			const struct bench_incident *in = &sc->inc[k];
			double t0 = (double)sc->run_start_ts;

			fprintf(f, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%.1f</td><td>", in->id,
				v2x_event_type_name(in->type),
				in->marginal ? "marginal" : in->natural ? "natural" : "injected",
				((double)in->start_ts - t0) / 1e9);
			if (in->detectable_ts)
				fprintf(f, "%.1f", ((double)in->detectable_ts - t0) / 1e9);
			else
				fprintf(f, "never");
			fprintf(f, "</td><td>%.1f</td><td>%d</td><td>%d</td><td>%d</td><td>",
				((double)in->end_ts - t0) / 1e9, in->lane, in->segment, in->n_matched);
			if (in->n_matched && in->detectable_ts)
				fprintf(f, "%.2f", ((double)in->first_event_ts -
						    (double)in->detectable_ts) / 1e9);
			else
				fprintf(f, "-");
			fprintf(f, "</td></tr>\n");
		}
		fprintf(f, "</table><h3>False positives (first %d)</h3><table><tr><th>id</th>"
			   "<th>type</th><th>t s</th><th>lat</th><th>lon</th><th>lane</th>"
			   "<th>segment</th><th>transitions</th><th>sources</th>"
			   "<th>marginal</th></tr>\n", o->fp_list);
		for (int j = 0; j < sc->nevt && n < o->fp_list; j++) {
			const struct bench_event *e = &sc->evt[j];

			if (e->matched_incident >= 0)
				continue;
			n++;
			fprintf(f, "<tr><td>%llu</td><td>%s</td><td>%.1f</td><td>%.7f</td>"
				   "<td>%.7f</td><td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>",
				(unsigned long long)e->id, v2x_event_type_name(e->type),
				((double)e->first_ts - (double)sc->run_start_ts) / 1e9,
				e->pos[0].lat, e->pos[0].lon, e->pos[0].lane, e->pos[0].segment,
				e->ntransitions, e->sources);
			if (e->matched_marginal >= 0)
				fprintf(f, "%d", e->matched_marginal);
			else
				fprintf(f, "-");
			fprintf(f, "</td></tr>\n");
		}
		fprintf(f, "</table>\n");
	}
	fprintf(f, "</body></html>\n");
	return fclose(f) ? -errno : 0;
}

static int write_outputs(struct bench *b)
{
	int ret = 0;

	print_summary(b, stdout);
	if (b->o->json_out) {
		json_t *j = report_json(b);

		if (!j || json_dump_file(j, b->o->json_out, JSON_INDENT(1)) < 0) {
			fprintf(stderr, "v2x-bench: cannot write %s\n", b->o->json_out);
			ret = -EIO;
		}
		json_decref(j);
	}
	if (b->o->report_out && write_html(b, b->o->report_out) < 0) {
		fprintf(stderr, "v2x-bench: cannot write %s\n", b->o->report_out);
		ret = -EIO;
	}
	return ret;
}

/* ---- run ---------------------------------------------------------------- */

/* The mosquitto binary: /usr/sbin/mosquitto or on PATH; 0 if found. */
static int find_mosquitto(char *out, size_t cap)
{
	const char *path = getenv("PATH");
	char dirs[4096], *save = NULL, *d;

	snprintf(out, cap, "/usr/sbin/mosquitto");
	if (access(out, X_OK) == 0)
		return 0;
	snprintf(dirs, sizeof(dirs), "%s", path ? path : "/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (snprintf(out, cap, "%s/mosquitto", d) >= (int)cap)
			continue;
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* 1 once something accepts TCP connections on 127.0.0.1:port. */
static int tcp_listening(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/*
 * The cloud: a mosquitto of our own on a free loopback port, through which
 * the simulator (as the traffic management centre) announces its lane
 * closures to the broker.  Without the binary, or if it does not start,
 * warns and leaves b->mqtt_uri empty: the run goes on without the cloud.
 */
static void start_cloud(struct bench *b)
{
	char exe[PATH_MAX], conf[PATH_MAX + 32], log[PATH_MAX + 32];
	const char *argv[4];
	FILE *f;
	int port;

	b->mqtt_uri[0] = '\0';
	if (find_mosquitto(exe, sizeof(exe)) < 0) {
		fprintf(stderr, "v2x-bench: mosquitto not installed: running without the cloud "
			"(no lane closure advisories; scripts/install-deps installs it)\n");
		return;
	}
	port = free_port(SOCK_STREAM);
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
	snprintf(log, sizeof(log), "%s/mosquitto.log", b->dir);
	f = fopen(conf, "w");
	if (port < 0 || !f) {
		if (f)
			fclose(f);
		fprintf(stderr, "v2x-bench: cannot set up mosquitto: running without the cloud\n");
		return;
	}
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port);
	fclose(f);
	argv[0] = exe;
	argv[1] = "-c";
	argv[2] = conf;
	argv[3] = NULL;
	b->mosq_pid = spawn_child(exe, (char *const *)argv, log);
	if (b->mosq_pid < 0) {
		b->mosq_pid = 0;
		fprintf(stderr, "v2x-bench: cannot start %s: running without the cloud\n", exe);
		return;
	}
	for (int waited = 0; waited < 5000; waited += 20) {
		if (tcp_listening(port)) {
			snprintf(b->mqtt_uri, sizeof(b->mqtt_uri), "tcp://127.0.0.1:%d", port);
			fprintf(stderr, "v2x-bench: cloud: mosquitto on %s (the simulator "
				"announces its lane closures; --no-cloud: off)\n", b->mqtt_uri);
			return;
		}
		if (waitpid(b->mosq_pid, NULL, WNOHANG) == b->mosq_pid) {
			b->mosq_pid = 0;
			break;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "v2x-bench: mosquitto did not start (see %s): running without the "
		"cloud\n", log);
	if (b->mosq_pid > 0)
		stop_child(b->mosq_pid, 2000);
	b->mosq_pid = 0;
}

static int start_broker(struct bench *b)
{
	struct opts *o = b->o;
	char broker[PATH_MAX], sim[PATH_MAX], log[PATH_MAX + 32], uper[64], mp[64];
	char veh[16], seed[16], datadir[PATH_MAX + 16];
	const char *argv[48 + MAX_EXTRA];
	int na = 0, p_uper, p_mp, p_zmq, p_met, ret;

	p_uper = free_port(SOCK_DGRAM);
	p_mp = free_port(SOCK_DGRAM);
	p_zmq = free_port(SOCK_STREAM);
	p_met = free_port(SOCK_STREAM);
	if (p_uper < 0 || p_mp < 0 || p_zmq < 0 || p_met < 0)
		return -EADDRNOTAVAIL;
	snprintf(uper, sizeof(uper), "127.0.0.1:%d", p_uper);
	snprintf(mp, sizeof(mp), "127.0.0.1:%d", p_mp);
	/* msgpack BSMs (which carry ts) go to the msgpack listener. */
	snprintf(b->target, sizeof(b->target), "%s", strcmp(o->encoding, "uper") ? mp : uper);
	snprintf(b->sensors_target, sizeof(b->sensors_target), "%s", mp);
	snprintf(b->zmq_ep, sizeof(b->zmq_ep), "tcp://127.0.0.1:%d", p_zmq);
	snprintf(b->metrics_addr, sizeof(b->metrics_addr), "127.0.0.1:%d", p_met);

	/* The scenario's road map, from the simulator, so both agree. */
	if (o->sim)
		snprintf(sim, sizeof(sim), "%s", o->sim);
	else
		sibling_path(sim, sizeof(sim), "sim", "v2x-sim");
	snprintf(b->map_path, sizeof(b->map_path), "%s/map.geojson", b->dir);
	snprintf(log, sizeof(log), "%s/sim-map.log", b->dir);
	snprintf(veh, sizeof(veh), "%d", o->vehicles);
	snprintf(seed, sizeof(seed), "%d", o->seed);
	argv[na++] = sim;
	argv[na++] = "map";
	argv[na++] = "--scenario";
	argv[na++] = o->scenario;
	argv[na++] = "--vehicles";
	argv[na++] = veh;
	argv[na++] = "--seed";
	argv[na++] = seed;
	for (int i = 0; i < o->nextra_sim; i++)
		argv[na++] = o->extra_sim[i];
	argv[na++] = "--out";
	argv[na++] = b->map_path;
	argv[na] = NULL;
	ret = run_child(sim, (char *const *)argv, log);
	if (ret != 0) {
		fprintf(stderr, "v2x-bench: '%s map' failed (%d), see %s\n", sim, ret, log);
		return ret < 0 ? ret : -EIO;
	}

	if (o->broker)
		snprintf(broker, sizeof(broker), "%s", o->broker);
	else
		sibling_path(broker, sizeof(broker), "broker", "v2x-broker");
	snprintf(log, sizeof(log), "%s/broker.log", b->dir);
	snprintf(datadir, sizeof(datadir), "%s/broker-data", b->dir);
	mkdir(datadir, 0700);
	na = 0;
	argv[na++] = broker;
	if (o->config) {
		argv[na++] = "--config";
		argv[na++] = o->config;
	}
	argv[na++] = "--udp-uper";
	argv[na++] = uper;
	argv[na++] = "--udp-msgpack";
	argv[na++] = mp;
	argv[na++] = "--zmq-pub";
	argv[na++] = b->zmq_ep;
	argv[na++] = "--metrics";
	argv[na++] = b->metrics_addr;
	argv[na++] = "--map";
	argv[na++] = b->map_path;
	argv[na++] = "--data-dir";
	argv[na++] = datadir;
	argv[na++] = "--rsu-id";
	argv[na++] = "bench";
	if (o->cloud)
		start_cloud(b);
	if (b->mqtt_uri[0]) {
		argv[na++] = "--mqtt";
		argv[na++] = b->mqtt_uri;
	}
	if (o->relay_bsm)
		argv[na++] = "--relay-bsm";
	for (int i = 0; i < o->nextra_broker; i++)
		argv[na++] = o->extra_broker[i];
	argv[na] = NULL;
	b->broker_pid = spawn_child(broker, (char *const *)argv, log);
	if (b->broker_pid < 0) {
		ret = b->broker_pid;
		b->broker_pid = 0;
		fprintf(stderr, "v2x-bench: cannot start %s: %s\n", broker, strerror(-ret));
		return ret;
	}
	ret = wait_healthy(b, 10000);
	if (ret < 0)
		fprintf(stderr, "v2x-bench: the broker did not become healthy (%s), see %s\n",
			strerror(-ret), log);
	return ret;
}

static int rm_tree(const char *dir)
{
	const char *argv[] = { "/bin/rm", "-rf", "--", dir, NULL };

	return run_child("/bin/rm", (char *const *)argv, "/dev/null");
}

static int cmd_run(struct opts *o)
{
	struct bench b;
	int ret = 0, made_dir = 0;

	memset(&b, 0, sizeof(b));
	b.o = o;
	if (o->keep_dir) {
		snprintf(b.dir, sizeof(b.dir), "%s", o->keep_dir);
		if (mkdir(b.dir, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "v2x-bench: %s: %s\n", b.dir, strerror(errno));
			return 1;
		}
	} else {
		snprintf(b.dir, sizeof(b.dir), "/tmp/v2x-bench.XXXXXX");
		if (!mkdtemp(b.dir)) {
			fprintf(stderr, "v2x-bench: mkdtemp: %s\n", strerror(errno));
			return 1;
		}
		made_dir = 1;
	}
	if (o->events_out) {
		b.events_out = fopen(o->events_out, "w");
		if (!b.events_out) {
			fprintf(stderr, "v2x-bench: %s: %s\n", o->events_out, strerror(errno));
			ret = -errno;
			goto out;
		}
	}
	if (o->obj_out) {
		b.obj_out = fopen(o->obj_out, "w");
		if (!b.obj_out) {
			fprintf(stderr, "v2x-bench: %s: %s\n", o->obj_out, strerror(errno));
			ret = -errno;
			goto out;
		}
	}
	if (o->spawn_broker) {
		ret = start_broker(&b);
		if (ret < 0)
			goto out;
	} else {
		snprintf(b.zmq_ep, sizeof(b.zmq_ep), "%s", o->zmq);
		snprintf(b.metrics_addr, sizeof(b.metrics_addr), "%s", o->metrics);
		snprintf(b.target, sizeof(b.target), "%s", o->target);
	}
	ret = sub_open(&b);
	if (ret < 0) {
		fprintf(stderr, "v2x-bench: ZeroMQ %s: %s\n", b.zmq_ep, zmq_strerror(-ret));
		goto out;
	}
	if (o->speed != 1 && !o->nrates)
		fprintf(stderr, "v2x-bench: --speed %g: frame times are simulation times, so the "
			"latencies from ts are not wall-clock latencies\n", o->speed);
	/* Let the subscription reach the publisher before traffic starts. */
	sleep_ms(300);
	b.nsteps = o->nrates ? o->nrates : 1;
	b.steps = calloc((size_t)b.nsteps, sizeof(*b.steps));
	if (!b.steps) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < b.nsteps && !stop_requested; i++) {
		struct step *st = &b.steps[i];

		st->rate = o->nrates ? o->rates[i] : 0;
		if (st->rate > 0)
			snprintf(st->label, sizeof(st->label), "rate %.0f/s", st->rate);
		else
			snprintf(st->label, sizeof(st->label), "%s x%g", o->scenario, o->speed);
		ret = run_step(&b, st, i);
		if (ret < 0)
			break;
		if (b.events_out)
			fflush(b.events_out);
		if (o->spawn_broker && waitpid(b.broker_pid, NULL, WNOHANG) == b.broker_pid) {
			b.broker_pid = 0;
			fprintf(stderr, "v2x-bench: the broker exited during the step (see %s/broker.log)\n",
				b.dir);
			ret = -ECHILD;
			break;
		}
	}
	if (write_outputs(&b) < 0 && ret >= 0)
		ret = -EIO;
out:
	if (b.sim_pid > 0)
		stop_child(b.sim_pid, 2000);
	if (b.broker_pid > 0) {
		int st = stop_child(b.broker_pid, 10000);

		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fprintf(stderr, "v2x-bench: broker exit status 0x%x (see %s/broker.log)\n",
				st, b.dir);
	}
	if (b.mosq_pid > 0)
		stop_child(b.mosq_pid, 2000);
	if (b.sub)
		zmq_close(b.sub);
	if (b.zctx)
		zmq_ctx_term(b.zctx);
	if (b.events_out)
		fclose(b.events_out);
	if (b.obj_out)
		fclose(b.obj_out);
	for (int i = 0; b.steps && i < b.nsteps; i++)
		bench_score_fini(&b.steps[i].score);
	free(b.steps);
	if (made_dir)
		rm_tree(b.dir);
	else
		fprintf(stderr, "v2x-bench: logs, map and truth in %s\n", b.dir);
	return ret < 0 ? 1 : 0;
}

/* ---- score -------------------------------------------------------------- */

static int cmd_score(struct opts *o)
{
	struct bench b;
	struct step st;
	FILE *f = NULL;
	char *line = NULL, map_err[512];
	size_t cap = 0;
	ssize_t len;
	int ret, bad = 0, status = 1, lineno = 0;

	memset(&b, 0, sizeof(b));
	memset(&st, 0, sizeof(st));
	if (!o->truth || !o->events) {
		fprintf(stderr, "v2x-bench score: --truth FILE and --events FILE are required\n");
		return 2;
	}
	b.o = o;
	b.nsteps = 1;
	b.steps = &st;
	b.score_only = 1;
	snprintf(st.label, sizeof(st.label), "score");
	bench_score_init(&st.score, &o->match);
	if (o->map) {
		ret = bench_score_load_map(&st.score, o->map, map_err, sizeof(map_err));
		if (ret < 0) {
			fprintf(stderr, "v2x-bench: road map: %s\n", map_err);
			goto out;
		}
	}
	ret = bench_score_load_truth(&st.score, o->truth, &bad);
	if (ret < 0) {
		if (bad)
			fprintf(stderr, "v2x-bench: %s:%d: %s\n", o->truth, bad, v2x_strerror(ret));
		else
			fprintf(stderr, "v2x-bench: %s: %s\n", o->truth, v2x_strerror(ret));
		goto out;
	}
	f = fopen(o->events, "r");
	if (!f) {
		fprintf(stderr, "v2x-bench: %s: %s\n", o->events, strerror(errno));
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len <= 1)
			continue;
		ret = bench_score_add_event_json(&st.score, line, (size_t)len);
		if (ret < 0)
			fprintf(stderr, "v2x-bench: %s:%d: %s (line ignored)\n", o->events, lineno,
				v2x_strerror(ret));
	}
	bench_score_run(&st.score);
	st.have_score = 1;
	status = write_outputs(&b) < 0 ? 1 : 0;
out:
	free(line);
	if (f)
		fclose(f);
	bench_score_fini(&st.score);
	return status;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sigaction sa;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (parse_opts(&o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(o.cmd, "run"))
		return cmd_run(&o);
	if (!strcmp(o.cmd, "score"))
		return cmd_score(&o);
	fprintf(stderr, "v2x-bench: unknown command '%s'\n", o.cmd);
	usage(stderr);
	return 2;
}
