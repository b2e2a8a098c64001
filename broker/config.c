/* SPDX-License-Identifier: MIT */
/* config.c - broker settings: defaults, INI file (inih), flags (see config.h). */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "v2x/error.h"

#ifndef V2X_VERSION
#define V2X_VERSION "0.0.0"
#endif

enum opt_type {
	OPT_STR,
	OPT_ADDR_LIST,
	OPT_ADDR,
	OPT_INT,
	OPT_DOUBLE,
	OPT_BOOL,
	OPT_LOGLEVEL,
	OPT_LATLON,
	OPT_PIPELINE,
};

struct opt {
	const char *key;     /* INI key; the flag is "--" + key with '_' -> '-' */
	const char *section; /* INI section */
	enum opt_type type;
	size_t off;          /* offset of the field in struct broker_config */
	size_t size;         /* field size (strings) */
	double min, max;     /* numeric range */
	const char *def;     /* default, as text ("" = empty / none) */
	const char *metavar;
	const char *help;
};

#define OFF(f) offsetof(struct broker_config, f)
#define SZ(f) sizeof(((struct broker_config *)0)->f)

static const struct opt opts[] = {
	/* [ingest] */
	{ "udp_uper", "ingest", OPT_ADDR_LIST, OFF(udp_uper), 0, 0, 0,
	  "0.0.0.0:46800", "ADDR:PORT",
	  "UDP listener for J2735 UPER MessageFrames (repeatable, IPv4 or [IPv6]:port)" },
	{ "udp_msgpack", "ingest", OPT_ADDR_LIST, OFF(udp_msgpack), 0, 0, 0,
	  "0.0.0.0:46801", "ADDR:PORT",
	  "UDP listener for msgpack frames (repeatable)" },
	{ "rcvbuf", "ingest", OPT_INT, OFF(rcvbuf), 0, 65536, 1 << 30,
	  "33554432", "BYTES", "socket receive buffer (SO_RCVBUFFORCE when permitted)" },
	{ "uring_entries", "ingest", OPT_INT, OFF(uring_entries), 0, 8, 32768,
	  "256", "N", "io_uring submission queue entries per ingest thread" },
	{ "uring_buffers", "ingest", OPT_INT, OFF(uring_buffers), 0, 16, 32768,
	  "4096", "N", "provided receive buffers per ingest ring (power of 2)" },
	{ "uring_buffer_size", "ingest", OPT_INT, OFF(uring_buffer_size), 0, 512, 65536,
	  "2048", "BYTES", "size of one provided receive buffer" },
	{ "ingest_ring", "ingest", OPT_INT, OFF(ingest_ring), 0, 16, 1 << 20,
	  "8192", "SLOTS", "ingest -> fusion ring size (power of 2)" },
	{ "publish_ring", "ingest", OPT_INT, OFF(publish_ring), 0, 16, 1 << 20,
	  "16384", "SLOTS", "fusion -> publish ring size (power of 2)" },
	{ "ingest_batch", "ingest", OPT_INT, OFF(ingest_batch), 0, 1, 4096,
	  "32", "N", "under load, datagrams awaited together (1 = no batching)" },
	{ "ingest_batch_wait_us", "ingest", OPT_INT, OFF(ingest_batch_wait_us), 0, 0, 100000,
	  "250", "US", "longest wait for such a batch (added latency bound)" },
	{ "pipeline", "ingest", OPT_PIPELINE, OFF(pipeline), 0, 0, 0,
	  "auto", "auto|threads|single",
	  "stages in one thread each, or all in one thread (auto: single when "
	  "the process may use one CPU only)" },
	{ "force_recvmmsg", "ingest", OPT_BOOL, OFF(force_recvmmsg), 0, 0, 1,
	  "false", "BOOL", "use the recvmmsg fallback instead of io_uring" },
	/* [fusion] */
	{ "ref", "fusion", OPT_LATLON, 0, 0, 0, 0,
	  "", "LAT,LON", "ENU reference point in degrees (default: first position seen)" },
	{ "track_expiry_s", "fusion", OPT_DOUBLE, OFF(track_expiry_s), 0, 0.1, 3600,
	  "3", "SECONDS", "a track silent this long is removed" },
	{ "obj_rate_hz", "fusion", OPT_DOUBLE, OFF(obj_rate_hz), 0, 0, 100,
	  "10", "HZ", "rate of obj/<geohash7> publications per track (0 = off)" },
	{ "relay_bsm", "fusion", OPT_BOOL, OFF(relay_bsm), 0, 0, 1,
	  "false", "BOOL", "relay every accepted BSM as bsm/<geohash7>" },
	{ "forward_events", "fusion", OPT_BOOL, OFF(forward_events), 0, 0, 1,
	  "false", "BOOL", "publish event frames received on msgpack listeners "
	  "(neighbour RSUs, test tools) as events" },
	{ "track_capacity", "fusion", OPT_INT, OFF(track_capacity), 0, 16, 4 << 20,
	  "131072", "N", "maximum concurrent tracks" },
	{ "tick_ms", "fusion", OPT_INT, OFF(tick_ms), 0, 10, 10000,
	  "100", "MS", "fusion tick period (detectors, expiry)" },
	{ "map", "fusion", OPT_STR, OFF(map), SZ(map), 0, 0,
	  "", "FILE", "road map GeoJSON (reloaded on SIGHUP)" },
	/* [zmq] */
	{ "zmq_pub", "zmq", OPT_STR, OFF(zmq_pub), SZ(zmq_pub), 0, 0,
	  "tcp://*:7700", "ENDPOINT", "ZeroMQ PUB endpoint for vehicles" },
	{ "zmq_sndhwm", "zmq", OPT_INT, OFF(zmq_sndhwm), 0, 1, 10000000,
	  "100000", "N", "ZeroMQ send high-water mark per subscriber (drops beyond)" },
	{ "adv_default_cell", "zmq", OPT_STR, OFF(adv_default_cell), SZ(adv_default_cell), 0, 0,
	  "", "GEOHASH", "cell for advisories without a position (default: the reference point's)" },
	/* [mqtt] */
	{ "mqtt", "mqtt", OPT_STR, OFF(mqtt), SZ(mqtt), 0, 0,
	  "", "URI", "MQTT broker URI tcp://, ssl:// or mqtts:// (empty = MQTT off)" },
	{ "rsu_id", "mqtt", OPT_STR, OFF(rsu_id), SZ(rsu_id), 0, 0,
	  "rsu1", "ID", "RSU id: MQTT client id and topic prefix v2x/<id>" },
	{ "mqtt_prefix", "mqtt", OPT_STR, OFF(mqtt_prefix), SZ(mqtt_prefix), 0, 0,
	  "", "PREFIX", "MQTT topic prefix (default v2x/<rsu_id>)" },
	{ "mqtt_username", "mqtt", OPT_STR, OFF(mqtt_username), SZ(mqtt_username), 0, 0,
	  "", "NAME", "MQTT user name" },
	{ "mqtt_password", "mqtt", OPT_STR, OFF(mqtt_password), SZ(mqtt_password), 0, 0,
	  "", "SECRET", "MQTT password" },
	{ "mqtt_ca_file", "mqtt", OPT_STR, OFF(mqtt_ca_file), SZ(mqtt_ca_file), 0, 0,
	  "", "FILE", "CA bundle for ssl:// and mqtts://" },
	{ "mqtt_keepalive_s", "mqtt", OPT_INT, OFF(mqtt_keepalive_s), 0, 1, 3600,
	  "30", "SECONDS", "MQTT keepalive" },
	{ "mqtt_max_buffered", "mqtt", OPT_INT, OFF(mqtt_max_buffered), 0, 1, 10000000,
	  "100000", "N", "events kept while the cloud is unreachable" },
	{ "mqtt_json", "mqtt", OPT_BOOL, OFF(mqtt_json), 0, 0, 1,
	  "false", "BOOL", "MQTT payloads in JSON instead of msgpack" },
	{ "stats_interval_s", "mqtt", OPT_INT, OFF(stats_interval_s), 0, 0, 86400,
	  "10", "SECONDS", "period of <prefix>/stats (0 = off)" },
	{ "mqtt_flush_ms", "mqtt", OPT_INT, OFF(mqtt_flush_ms), 0, 0, 600000,
	  "3000", "MS", "at shutdown, wait this long for MQTT acknowledgements" },
	/* [metrics] */
	{ "metrics", "metrics", OPT_ADDR, OFF(metrics), 0, 0, 0,
	  "127.0.0.1:9100", "ADDR:PORT", "HTTP /metrics, /healthz, /api/stats, / (port 0 = off)" },
	/* [general] */
	{ "data_dir", "general", OPT_STR, OFF(data_dir), SZ(data_dir), 0, 0,
	  "/var/lib/v2x-broker", "DIR", "state directory (MQTT offline buffer)" },
	{ "log_level", "general", OPT_LOGLEVEL, OFF(log_level), 0, 0, 0,
	  "info", "LEVEL", "error, warning, notice, info or debug" },
	{ "rt_priority", "general", OPT_INT, OFF(rt_priority), 0, 0, 99,
	  "0", "N", "real-time (SCHED_FIFO) priority of the ingest, fusion and "
	  "publish threads and ZeroMQ's I/O thread: other work on the CPU no "
	  "longer delays messages (0 = normal scheduling; needs CAP_SYS_NICE)" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void config__err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void config__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct opt *config__find(const char *key)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

/* See config.h. */
int config_parse_addr(const char *text, struct config_addr *out)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	unsigned long port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(out->text))
		return V2X_E_SYNTAX;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return V2X_E_SYNTAX;
		hlen = (size_t)(close - text - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return V2X_E_SYNTAX;
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		port_s = close + 2;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return V2X_E_SYNTAX;
		hlen = (size_t)(colon - text);
		if (hlen == 0 || hlen >= sizeof(host))
			return V2X_E_SYNTAX;
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		port_s = colon + 1;
	}
	if (*port_s == '\0' || *port_s == '-' || *port_s == '+')
		return V2X_E_SYNTAX;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (*end != '\0' || errno)
		return V2X_E_SYNTAX;
	if (port > 65535)
		return V2X_E_RANGE;

	if (text[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return V2X_E_SYNTAX;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return V2X_E_SYNTAX;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*s4);
	}
	strcpy(out->text, text);
	return 0;
}

static int config__bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return V2X_E_RANGE;
}

static int config__double(const char *v, double *out)
{
	char *end;

	if (*v == '\0')
		return V2X_E_SYNTAX;
	errno = 0;
	*out = strtod(v, &end);
	if (*end != '\0' || errno || !isfinite(*out))
		return V2X_E_SYNTAX;
	return 0;
}

/* See config.h. */
int config_set(struct broker_config *cfg, const char *key, const char *value,
	       int source, char *err, size_t errlen)
{
	const struct opt *o = config__find(key);
	char *field;
	int ret = 0;

	if (!o) {
		config__err(err, errlen, "unknown key '%s'", key);
		return V2X_E_INVALID;
	}
	field = (char *)cfg + o->off;

	switch (o->type) {
	case OPT_STR:
		if (strlen(value) >= o->size) {
			config__err(err, errlen, "value of '%s' longer than %zu characters",
				    key, o->size - 1);
			return V2X_E_RANGE;
		}
		strcpy(field, value);
		break;
	case OPT_ADDR_LIST: {
		int is_uper = o->off == OFF(udp_uper);
		int *n = is_uper ? &cfg->n_udp_uper : &cfg->n_udp_msgpack;
		int *src = is_uper ? &cfg->src_udp_uper : &cfg->src_udp_msgpack;
		struct config_addr *list = (struct config_addr *)field;
		struct config_addr a;

		ret = config_parse_addr(value, &a);
		if (ret < 0) {
			config__err(err, errlen, "invalid address '%s' for '%s' (expected "
				    "ADDR:PORT or [IPV6]:PORT)", value, key);
			return ret;
		}
		if (*src != source) {
			*n = 0;
			*src = source;
		}
		if (*n >= CONFIG_LISTENERS_MAX) {
			config__err(err, errlen, "more than %d listeners for '%s'",
				    CONFIG_LISTENERS_MAX, key);
			return V2X_E_RANGE;
		}
		list[(*n)++] = a;
		break;
	}
	case OPT_ADDR:
		ret = config_parse_addr(value, (struct config_addr *)field);
		if (ret < 0) {
			config__err(err, errlen, "invalid address '%s' for '%s' (expected "
				    "ADDR:PORT or [IPV6]:PORT)", value, key);
			return ret;
		}
		break;
	case OPT_INT: {
		char *end;
		long v;

		errno = 0;
		v = strtol(value, &end, 0);
		if (*value == '\0' || *end != '\0' || errno) {
			config__err(err, errlen, "'%s' is not an integer (key '%s')", value, key);
			return V2X_E_RANGE;
		}
		if (v < o->min || v > o->max) {
			config__err(err, errlen, "%s = %ld out of range %.0f..%.0f", key, v,
				    o->min, o->max);
			return V2X_E_RANGE;
		}
		*(int *)field = (int)v;
		break;
	}
	case OPT_DOUBLE: {
		double v;

		if (config__double(value, &v) < 0) {
			config__err(err, errlen, "'%s' is not a number (key '%s')", value, key);
			return V2X_E_RANGE;
		}
		if (v < o->min || v > o->max) {
			config__err(err, errlen, "%s = %g out of range %g..%g", key, v,
				    o->min, o->max);
			return V2X_E_RANGE;
		}
		*(double *)field = v;
		break;
	}
	case OPT_BOOL:
		if (config__bool(value, (int *)field) < 0) {
			config__err(err, errlen, "'%s' is not a boolean (key '%s': "
				    "true/false, yes/no, on/off, 1/0)", value, key);
			return V2X_E_RANGE;
		}
		break;
	case OPT_LOGLEVEL:
		ret = v2x_log_level_from_name(value);
		if (ret < 0) {
			config__err(err, errlen, "unknown log level '%s' (error, warning, "
				    "notice, info, debug)", value);
			return V2X_E_RANGE;
		}
		*(int *)field = ret;
		ret = 0;
		break;
	case OPT_PIPELINE: {
		int v = -1;

		for (int k = CONFIG_PIPELINE_AUTO; k <= CONFIG_PIPELINE_SINGLE; k++)
			if (strcmp(value, config_pipeline_name(k)) == 0)
				v = k;
		if (v < 0) {
			config__err(err, errlen, "unknown pipeline '%s' for '%s' (auto, "
				    "threads, single)", value, key);
			return V2X_E_RANGE;
		}
		*(int *)field = v;
		break;
	}
	case OPT_LATLON: {
		char buf[64];
		char *comma;
		double lat, lon;

		if (*value == '\0') {
			cfg->has_ref = 0;
			break;
		}
		if (strlen(value) >= sizeof(buf))
			goto bad_latlon;
		strcpy(buf, value);
		comma = strchr(buf, ',');
		if (!comma)
			goto bad_latlon;
		*comma = '\0';
		if (config__double(buf, &lat) < 0 || config__double(comma + 1, &lon) < 0)
			goto bad_latlon;
		if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
			goto bad_latlon;
		cfg->has_ref = 1;
		cfg->ref_lat = lat;
		cfg->ref_lon = lon;
		break;
bad_latlon:
		config__err(err, errlen, "invalid reference '%s' for '%s' (expected "
			    "LAT,LON in degrees)", value, key);
		return V2X_E_RANGE;
	}
	}
	return ret;
}

/* See config.h. */
const char *config_pipeline_name(int pipeline)
{
	switch (pipeline) {
	case CONFIG_PIPELINE_THREADS:
		return "threads";
	case CONFIG_PIPELINE_SINGLE:
		return "single";
	default:
		return "auto";
	}
}

/* See config.h. */
void config_set_extension(struct broker_config *cfg,
			  int (*fn)(void *ctx, const char *section, const char *key,
				    const char *value, char *err, size_t errlen),
			  void *ctx)
{
	cfg->ext_fn = fn;
	cfg->ext_ctx = ctx;
}

/* See config.h. */
void config_defaults(struct broker_config *cfg)
{
	char err[128];

	memset(cfg, 0, sizeof(*cfg));
	cfg->src_udp_uper = -2;
	cfg->src_udp_msgpack = -2;
	/* The defaults go through the same parser as user input, so that the
	 * text --help prints is exactly what is applied. */
	for (size_t i = 0; i < N_OPTS; i++) {
		int r = config_set(cfg, opts[i].key, opts[i].def, -1, err, sizeof(err));

		assert(r == 0); /* a bad default is a programming error */
		(void)r;
	}
}

struct ini_ctx {
	struct broker_config *cfg;
	char msg[256];
	int failed;
	int code;
};

static int config__ini_handler(void *user, const char *section, const char *name,
			       const char *value)
{
	struct ini_ctx *ctx = user;
	const struct opt *o;
	char err[200];
	int r;

	if (ctx->failed)
		return 1; /* keep only the first error; inih reports its line */
	o = config__find(name);
	if ((!o || strcmp(o->section, section) != 0) && ctx->cfg->ext_fn) {
		r = ctx->cfg->ext_fn(ctx->cfg->ext_ctx, section, name, value, err,
				     sizeof(err));
		if (r == 0)
			return 1;
		if (r != V2X_E_MISSING) {
			snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s: %s", section,
				 name, err);
			ctx->code = r;
			goto fail;
		}
	}
	if (!o) {
		snprintf(ctx->msg, sizeof(ctx->msg), "unknown key '%s' in [%s]", name,
			 section);
		ctx->code = V2X_E_INVALID;
		goto fail;
	}
	if (strcmp(o->section, section) != 0) {
		snprintf(ctx->msg, sizeof(ctx->msg), "key '%s' belongs in [%s], not [%s]",
			 name, o->section, section);
		ctx->code = V2X_E_INVALID;
		goto fail;
	}
	r = config_set(ctx->cfg, name, value, 0, err, sizeof(err));
	if (r < 0) {
		snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s", section, err);
		ctx->code = r;
		goto fail;
	}
	return 1;
fail:
	ctx->failed = 1;
	return 0;
}

/* See config.h. */
int config_load_file(struct broker_config *cfg, const char *path, char *err,
		     size_t errlen)
{
	struct ini_ctx ctx = { .cfg = cfg };
	FILE *f;
	int r;

	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		config__err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return r;
	}
	r = ini_parse_file(f, config__ini_handler, &ctx);
	fclose(f);
	if (r == 0)
		goto out;
	if (ctx.failed) {
		config__err(err, errlen, "%s:%d: %s", path, r, ctx.msg);
		r = ctx.code;
	} else {
		config__err(err, errlen, "%s:%d: syntax error (expected [section] "
			    "or key = value)", path, r);
		r = V2X_E_SYNTAX;
	}
	return r;
out:
	if (strlen(path) < sizeof(cfg->config_file))
		strcpy(cfg->config_file, path);
	return 0;
}

static void config__flag_name(const struct opt *o, char *out, size_t len)
{
	size_t i;

	for (i = 0; o->key[i] && i + 1 < len; i++)
		out[i] = o->key[i] == '_' ? '-' : o->key[i];
	out[i] = '\0';
}

/* Maps "--udp-uper" (without the dashes) to its option, or NULL. */
static const struct opt *config__find_flag(const char *flag, size_t len)
{
	char name[64];

	for (size_t i = 0; i < N_OPTS; i++) {
		config__flag_name(&opts[i], name, sizeof(name));
		if (strlen(name) == len && strncmp(name, flag, len) == 0)
			return &opts[i];
	}
	return NULL;
}

/* See config.h. */
void config_print_help(FILE *out, const char *prog)
{
	const char *section = "";
	char name[64], left[96];

	fprintf(out,
		"Usage: %s [--config FILE] [OPTION...]\n"
		"V2X edge message broker: UDP (J2735 UPER, msgpack) in; ZeroMQ and MQTT out.\n\n"
		"  --config FILE            INI file; its keys are the options below, in\n"
		"                           the sections shown (flags override the file)\n"
		"  --print-config           print the effective configuration as INI and exit\n"
		"  --help                   this text\n"
		"  --version                print the version\n",
		prog);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];

		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(out, "\n[%s]\n", section);
		}
		config__flag_name(o, name, sizeof(name));
		if (o->type == OPT_BOOL)
			snprintf(left, sizeof(left), "--%s[=%s]", name, o->metavar);
		else
			snprintf(left, sizeof(left), "--%s %s", name, o->metavar);
		fprintf(out, "  %-24s %s\n", left, o->help);
		fprintf(out, "  %-24s (default: %s)\n", "",
			o->def[0] ? o->def : "none");
	}
}

/* See config.h. */
void config_set_extension_dump(struct broker_config *cfg,
			       void (*fn)(void *ctx, FILE *out))
{
	cfg->ext_dump = fn;
}

void config_dump(const struct broker_config *cfg, FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		const char *field = (const char *)cfg + o->off;

		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
		}
		switch (o->type) {
		case OPT_STR:
			fprintf(out, "%s = %s\n", o->key, field);
			break;
		case OPT_ADDR_LIST: {
			int n = o->off == OFF(udp_uper) ? cfg->n_udp_uper : cfg->n_udp_msgpack;
			const struct config_addr *list = (const struct config_addr *)field;

			for (int k = 0; k < n; k++)
				fprintf(out, "%s = %s\n", o->key, list[k].text);
			break;
		}
		case OPT_ADDR:
			fprintf(out, "%s = %s\n", o->key,
				((const struct config_addr *)field)->text);
			break;
		case OPT_INT:
			fprintf(out, "%s = %d\n", o->key, *(const int *)field);
			break;
		case OPT_DOUBLE:
			fprintf(out, "%s = %g\n", o->key, *(const double *)field);
			break;
		case OPT_BOOL:
			fprintf(out, "%s = %s\n", o->key, *(const int *)field ? "true" : "false");
			break;
		case OPT_LOGLEVEL:
			fprintf(out, "%s = %s\n", o->key,
				v2x_log_level_name(*(const int *)field));
			break;
		case OPT_PIPELINE:
			fprintf(out, "%s = %s\n", o->key,
				config_pipeline_name(*(const int *)field));
			break;
		case OPT_LATLON:
			if (cfg->has_ref)
				fprintf(out, "%s = %.7f,%.7f\n", o->key, cfg->ref_lat,
					cfg->ref_lon);
			else
				fprintf(out, "%s =\n", o->key);
			break;
		}
	}
	if (cfg->ext_dump)
		cfg->ext_dump(cfg->ext_ctx, out);
}

/* See config.h. */
int config_parse_args(struct broker_config *cfg, int argc, char **argv,
		      FILE *out, char *err, size_t errlen)
{
	const char *prog = argc > 0 ? argv[0] : "v2x-broker";
	int print_config = 0;
	char msg[256];
	int i, r;

	/* First pass: --help, --version and --config, which apply first. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			config_print_help(out, prog);
			return 1;
		}
		if (strcmp(a, "--version") == 0) {
			fprintf(out, "v2x-broker %s\n", V2X_VERSION);
			return 1;
		}
		if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
			const char *path = a[8] == '=' ? a + 9 : NULL;

			if (!path) {
				if (i + 1 >= argc) {
					config__err(err, errlen, "--config: missing FILE");
					return V2X_E_MISSING;
				}
				path = argv[++i];
			}
			r = config_load_file(cfg, path, err, errlen);
			if (r < 0)
				return r;
		}
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *name, *eq, *value;
		const struct opt *o;
		size_t nlen;

		if (strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0)
			continue;
		if (strcmp(a, "--print-config") == 0) {
			print_config = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			config__err(err, errlen, "unexpected argument '%s' (see --help)", a);
			return V2X_E_INVALID;
		}
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		o = config__find_flag(name, nlen);
		if (!o) {
			config__err(err, errlen, "unknown option '--%.*s' (see --help)",
				    (int)nlen, name);
			return V2X_E_INVALID;
		}
		if (eq) {
			value = eq + 1;
		} else if (o->type == OPT_BOOL) {
			value = "true";
		} else {
			if (i + 1 >= argc) {
				config__err(err, errlen, "--%.*s: missing %s", (int)nlen,
					    name, o->metavar);
				return V2X_E_MISSING;
			}
			value = argv[++i];
		}
		r = config_set(cfg, o->key, value, 1, msg, sizeof(msg));
		if (r < 0) {
			config__err(err, errlen, "--%.*s: %s", (int)nlen, name, msg);
			return r;
		}
	}
	if (print_config) {
		config_dump(cfg, out);
		return 1;
	}
	return 0;
}
