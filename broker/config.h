/* SPDX-License-Identifier: MIT */
/*
 * config.h - every broker setting in one struct, with defaults, loaded from
 * an INI file (--config FILE) and from command-line flags.
 *
 * Every INI key is also a flag: key "udp_uper" in section [ingest] is the
 * flag --udp-uper.  Precedence: defaults < config file < flags.  Repeatable
 * keys (udp_uper, udp_msgpack) accumulate within one source; the first value
 * from a source replaces what an earlier source (or the default) set.
 *
 * Errors are returned as negative codes with a message in a caller buffer,
 * naming the file, line and key ("broker.ini:12: unknown key 'udp_uppr' in
 * [ingest]").  Nothing here logs.  Not thread-safe: call from main only.
 */
#ifndef V2X_BROKER_CONFIG_H
#define V2X_BROKER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONFIG_LISTENERS_MAX 8
#define CONFIG_STR_MAX 256

/* A parsed ADDR:PORT (IPv4 "a.b.c.d:p" or IPv6 "[addr]:p"). */
struct config_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64]; /* as given, for labels and logs */
};

/* How the stages are run (key "pipeline"). */
enum config_pipeline {
	CONFIG_PIPELINE_AUTO,    /* single if the process may use one CPU only */
	CONFIG_PIPELINE_THREADS, /* a thread per stage */
	CONFIG_PIPELINE_SINGLE,  /* all stages in one thread, run to completion */
};

/* config_pipeline_name() - "auto", "threads" or "single". */
const char *config_pipeline_name(int pipeline);

struct broker_config {
	/* [ingest] */
	struct config_addr udp_uper[CONFIG_LISTENERS_MAX];
	int n_udp_uper;
	struct config_addr udp_msgpack[CONFIG_LISTENERS_MAX];
	int n_udp_msgpack;
	int rcvbuf;               /* SO_RCVBUF bytes */
	int uring_entries;        /* SQ entries per io_uring */
	int uring_buffers;        /* provided buffers per ingest ring, power of 2 */
	int uring_buffer_size;    /* bytes per provided buffer */
	int ingest_ring;          /* slots of the ingest -> fusion ring */
	int publish_ring;         /* slots of the fusion -> publish ring */
	int force_recvmmsg;       /* skip io_uring (testing, seccomp) */
	int ingest_batch;         /* completions awaited together under load */
	int ingest_batch_wait_us; /* longest wait for such a batch */
	int pipeline;             /* enum config_pipeline */

	/* [fusion] */
	int has_ref;              /* 0: the first position seen is the reference */
	double ref_lat, ref_lon;  /* degrees */
	double track_expiry_s;
	double obj_rate_hz;
	int relay_bsm;
	int forward_events;       /* event frames received are published */
	int track_capacity;
	int tick_ms;
	char map[CONFIG_STR_MAX]; /* road map GeoJSON, "" = none */

	/* [zmq] */
	char zmq_pub[CONFIG_STR_MAX];
	int zmq_sndhwm;
	char adv_default_cell[16]; /* geohash used for advisories without position */

	/* [mqtt] */
	char mqtt[CONFIG_STR_MAX]; /* URI, "" = MQTT off */
	char rsu_id[64];
	char mqtt_prefix[128];     /* "" = v2x/<rsu_id> */
	char mqtt_username[128];
	char mqtt_password[128];
	char mqtt_ca_file[CONFIG_STR_MAX];
	int mqtt_keepalive_s;
	int mqtt_max_buffered;
	int mqtt_json;
	int stats_interval_s;
	int mqtt_flush_ms;         /* how long shutdown waits for acks */

	/* [metrics] */
	struct config_addr metrics; /* port 0 = off */

	/* [general] */
	char data_dir[CONFIG_STR_MAX];
	int log_level;
	int rt_priority;          /* SCHED_FIFO priority of the stages, 0 = off */

	char config_file[CONFIG_STR_MAX]; /* the file loaded, "" if none */

	/* Which source last set each repeatable key (-1 default, 0 file, 1 flag). */
	int src_udp_uper, src_udp_msgpack;

	/* INI keys this table does not know go here (see config_set_extension). */
	int (*ext_fn)(void *ctx, const char *section, const char *key,
		      const char *value, char *err, size_t errlen);
	void *ext_ctx;
	/* Writes the extension's keys for --print-config (may be NULL). */
	void (*ext_dump)(void *ctx, FILE *out);
};

/*
 * config_set_extension() - let another module own more INI sections/keys
 * (the detectors' [events], [detect.<name>] and extra [fusion] keys).  A key
 * this table does not know is passed to fn; fn returns 0, V2X_E_MISSING for
 * "not mine either" (reported as an unknown key), or another negative code
 * with err filled.  Call after config_defaults() and before loading files.
 * Such keys are INI-only (no flags).
 */
void config_set_extension(struct broker_config *cfg,
			  int (*fn)(void *ctx, const char *section, const char *key,
				    const char *value, char *err, size_t errlen),
			  void *ctx);

/*
 * config_set_extension_dump() - let the extension's keys appear in
 * config_dump() (--print-config): fn writes its INI sections to out, with
 * the ctx given to config_set_extension().
 */
void config_set_extension_dump(struct broker_config *cfg,
			       void (*fn)(void *ctx, FILE *out));

/* config_defaults() - fill cfg with the documented defaults. */
void config_defaults(struct broker_config *cfg);

/*
 * config_load_file() - apply an INI file on top of cfg.  Returns 0, or
 * -ENOENT/-errno when the file cannot be read, V2X_E_SYNTAX for a malformed
 * line, V2X_E_INVALID for an unknown section or key, V2X_E_RANGE for a bad
 * value; err receives "FILE:LINE: ..." in every failure case.
 */
int config_load_file(struct broker_config *cfg, const char *path, char *err,
		     size_t errlen);

/*
 * config_parse_args() - the whole command line: --config FILE is loaded
 * first (wherever it appears), then the other flags on top.  Returns 0 to
 * run, 1 when --help or --version was handled (text written to out), or a
 * negative code with err filled ("--udp-uper: ...").
 */
int config_parse_args(struct broker_config *cfg, int argc, char **argv,
		      FILE *out, char *err, size_t errlen);

/*
 * config_set() - set one key (INI name, e.g. "udp_uper") from text, as the
 * given source (0 = file, 1 = command line; only used for repeatable keys).
 * Returns 0, V2X_E_INVALID (unknown key) or V2X_E_RANGE (bad value) with err
 * filled (without location).
 */
int config_set(struct broker_config *cfg, const char *key, const char *value,
	       int source, char *err, size_t errlen);

/*
 * config_parse_addr() - "a.b.c.d:port" or "[v6]:port" into out.  Returns 0
 * or V2X_E_SYNTAX / V2X_E_RANGE.
 */
int config_parse_addr(const char *text, struct config_addr *out);

/* config_print_help() - usage with every option, its section and default. */
void config_print_help(FILE *out, const char *prog);

/* config_dump() - every effective setting as INI (for --print-config). */
void config_dump(const struct broker_config *cfg, FILE *out);

#endif
