/* SPDX-License-Identifier: MIT */
/*
 * main.c - v2x-broker: parse the configuration, wire the stages together,
 * run until SIGTERM/SIGINT, then shut down in pipeline order so that
 * nothing accepted is lost: stop ingest, let fusion drain its ring, let the
 * publisher drain its ring, give MQTT time to be acknowledged (what is not
 * stays in Paho's persistence for the next start), exit 0.
 * SIGHUP reloads the road map.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "counters.h"
#include "fusion.h"
#include "hashmix.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "pub_mqtt.h"
#include "pub_zmq.h"
#include "ring.h"
#include "v2x/v2x.h"

#ifdef V2X_HAVE_EVENTS
#include "advisory.h"
#include "assoc.h"
#include "closures.h"
#include "detect_config.h"
#include "events.h"
#include "roadmap.h"
#include "tracks.h"
#endif

#ifndef V2X_VERSION
#define V2X_VERSION "0.0.0"
#endif

#define DETECTORS_MAX 16

#ifdef V2X_HAVE_EVENTS
static void detect_ext_dump(void *ctx, FILE *out)
{
	detect_config_write_ini(ctx, out);
}

static int detect_ext(void *ctx, const char *section, const char *key,
		      const char *value, char *err, size_t errlen)
{
	return detect_config_set(ctx, section, key, value, err, errlen);
}

static void events_tick_hook(void *owner, uint64_t now_ns)
{
	events_tick(owner, now_ns);
}

/* Sensor-frame association (assoc.h) as fusion's hook. */
#define ASSOC_CANDS_MAX 1024
struct assoc_glue {
	struct assoc *a;
	struct enu_ref ref; /* the reference assoc was given */
	int has_ref;
	double radius_m;
	struct candidate_track cands[ASSOC_CANDS_MAX];
	struct assoc_result res;
};

static int assoc_hook(void *ctx, struct track_table *tt,
		      const struct v2x_objects *frame, struct track **out)
{
	struct assoc_glue *g = ctx;
	const struct enu_ref *ref = track_table_ref(tt);
	int n, r;

	if (!ref)
		return 0; /* no reference point yet: nothing to compare */
	if (!g->has_ref || memcmp(&g->ref, ref, sizeof(*ref)) != 0) {
		g->ref = *ref;
		g->has_ref = 1;
		assoc_set_ref(g->a, ref);
	}
	n = assoc_candidates(tt, ref, frame, g->radius_m, g->cands, ASSOC_CANDS_MAX);
	r = assoc_frame(g->a, frame, g->cands, n, &g->res);
	if (r <= 0)
		return r;
	for (int i = 0; i < g->res.n && i < V2X_OBJECTS_MAX; i++) {
		const struct track *near[8];
		int k, m;

		out[i] = NULL;
		if (g->res.m[i].cand < 0)
			continue;
		/* assoc names the track by id: find it at its position. */
		m = track_table_near(tt, g->cands[g->res.m[i].cand].x,
				     g->cands[g->res.m[i].cand].y, 0.01, near, 8);
		for (k = 0; k < m; k++)
			if (near[k]->id == g->res.m[i].track_id)
				out[i] = (struct track *)near[k];
	}
	return r;
}

/* SCHED_FIFO at prio for the calling thread, or back to normal (0). */
static int set_realtime(int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	int r = pthread_setschedparam(pthread_self(), prio > 0 ? SCHED_FIFO : SCHED_OTHER,
				      &sp);

	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/*
 * The advisory callback (Paho's thread): a lane_closure advisory is
 * checked first - one that cannot be used is dropped (counted in
 * v2x_stage_dropped_total{stage="advisory"}, logged) and neither relayed
 * nor applied; a valid one is relayed as every advisory and handed to the
 * fusion thread's closure table.
 */
struct advisory_glue {
	struct pub_zmq *pz;
	struct closures *cl;  /* NULL: the detectors do not use closures */
	struct broker_counters *cnt;
	uint8_t scratch[4096];
};

static void advisory_hook(void *ctx, const char *topic, const void *payload,
			  size_t len)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10);
	struct advisory_glue *g = ctx;
	struct closure_msg m;
	char why[160];
	int r;

	r = advisory_closure(payload, len, g->scratch, sizeof(g->scratch), &m,
			     why, sizeof(why));
	if (r < 0) {
		counter_add(&g->cnt->stage_dropped[STAGE_ADVISORY], 1);
		log_ratelimited(&rl, LOG_LVL_WARN, "advisory on %s dropped: %s (%s)",
				topic, why, v2x_strerror(r));
		return;
	}
	pub_zmq_on_advisory(g->pz, topic, payload, len);
	if (r != 1 || !g->cl)
		return;
	if (closures_offer(g->cl, &m) < 0) {
		counter_add(&g->cnt->stage_dropped[STAGE_ADVISORY], 1);
		log_ratelimited(&rl, LOG_LVL_WARN, "lane closure %s on %s not applied: "
				"closure queue full", m.id, topic);
		return;
	}
	log_info("lane closure %s %s (%s)", m.id, m.cleared ? "cleared" : "announced", topic);
}

static int map_load(const char *path, const struct enu_ref *ref, struct roadmap **out,
		    char *err, size_t errlen)
{
	return roadmap_load(path, ref, out, err, errlen);
}
#endif

static int ensure_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (mkdir(path, 0700) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static struct broker_config cfg;
	struct broker_counters *cnt = NULL;
	struct ring ring_in = { 0 }, ring_out = { 0 };
	struct ingest *in = NULL;
	struct pipeline *pl = NULL;
	int single;
	struct fusion *fu = NULL;
	struct pub_zmq *pz = NULL;
	struct pub_mqtt *pm = NULL;
	struct metrics *mx = NULL;
	char err[512] = "";
	char prefix[192];
	sigset_t sigs;
	int sfd = -1, r, rc = 1;
	struct timespec ts;
#ifdef V2X_HAVE_EVENTS
	static struct detect_config dcfg;
	struct events *ev = NULL;
	static struct assoc_glue ag;
	static struct advisory_glue adg;
	struct detector dets[DETECTORS_MAX];
	int n_dets = 0;
#endif

	v2x_log_init();
	config_defaults(&cfg);
#ifdef V2X_HAVE_EVENTS
	detect_config_defaults(&dcfg);
	config_set_extension(&cfg, detect_ext, &dcfg);
	config_set_extension_dump(&cfg, detect_ext_dump);
#endif
	r = config_parse_args(&cfg, argc, argv, stdout, err, sizeof(err));
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "v2x-broker: %s\n", err);
		return 2;
	}
	v2x_log_set_level(cfg.log_level);
	if (cfg.rt_priority > 0 && set_realtime(cfg.rt_priority) < 0) {
		log_warn("rt_priority %d not applied: %s (needs CAP_SYS_NICE or an "
			 "RLIMIT_RTPRIO that allows it); normal scheduling", cfg.rt_priority,
			 strerror(errno));
		cfg.rt_priority = 0;
	}
	/* Only the stage threads get the real-time policy (below). */
	set_realtime(0);

	/* Signals are taken through a signalfd on this thread; every thread
	 * created from here on (ours and the libraries') inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		goto out;
	}

	cnt = calloc(1, sizeof(*cnt));
	if (!cnt) {
		log_err("out of memory");
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	cnt->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	if (ring_init(&ring_in, hash_pow2_at_least((uint64_t)cfg.ingest_ring, 2), sizeof(struct ingest_slot)) < 0 ||
	    ring_init(&ring_out, hash_pow2_at_least((uint64_t)cfg.publish_ring, 2), sizeof(struct pub_slot)) < 0) {
		log_err("cannot allocate the stage rings");
		goto out;
	}

	/* The pipeline mode is settled first: the publisher sets its I/O
	 * thread up for it. */
	single = cfg.pipeline == CONFIG_PIPELINE_SINGLE ||
		 (cfg.pipeline == CONFIG_PIPELINE_AUTO && pipeline_single_cpu());
	cfg.pipeline = single ? CONFIG_PIPELINE_SINGLE : CONFIG_PIPELINE_THREADS;
	pz = pub_zmq_new(&cfg, &ring_out, cnt, err, sizeof(err));
	if (!pz) {
		log_err("%s", err);
		goto out;
	}
	if (cfg.mqtt[0]) {
		struct pub_mqtt_config mc = { 0 };

		if (cfg.mqtt_prefix[0])
			snprintf(prefix, sizeof(prefix), "%s", cfg.mqtt_prefix);
		else
			snprintf(prefix, sizeof(prefix), "v2x/%s", cfg.rsu_id);
		r = ensure_dir(cfg.data_dir);
		if (r < 0) {
			log_err("data directory %s: %s", cfg.data_dir, strerror(-r));
			goto out;
		}
		mc.uri = cfg.mqtt;
		mc.client_id = cfg.rsu_id;
		mc.prefix = prefix;
		mc.persist_dir = cfg.data_dir;
		mc.username = cfg.mqtt_username[0] ? cfg.mqtt_username : NULL;
		mc.password = cfg.mqtt_password[0] ? cfg.mqtt_password : NULL;
		mc.ca_file = cfg.mqtt_ca_file[0] ? cfg.mqtt_ca_file : NULL;
		mc.keepalive_s = cfg.mqtt_keepalive_s;
		mc.json = cfg.mqtt_json;
		mc.max_buffered = (uint32_t)cfg.mqtt_max_buffered;
#ifdef V2X_HAVE_EVENTS
		/* Lane closures from the cloud reach the detectors too. */
		adg.pz = pz;
		adg.cnt = cnt;
		/* Only the stopped-vehicle detector uses them (and drains
		 * their ring on its tick). */
		adg.cl = dcfg.stopped.enabled ? closures_new() : NULL;
		if (dcfg.stopped.enabled && !adg.cl) {
			log_err("lane closures: out of memory");
			goto out;
		}
		pm = pub_mqtt_new(&mc, advisory_hook, &adg, err, sizeof(err));
#else
		pm = pub_mqtt_new(&mc, pub_zmq_on_advisory, pz, err, sizeof(err));
#endif
		if (!pm) {
			log_err("mqtt: %s", err);
			goto out;
		}
		pub_zmq_set_mqtt(pz, pm);
	} else {
		log_notice("MQTT off (no --mqtt URI)");
	}

	fu = fusion_new(&cfg, &ring_in, &ring_out, cnt, err, sizeof(err));
	if (!fu) {
		log_err("%s", err);
		goto out;
	}
#ifdef V2X_HAVE_EVENTS
	{
		struct fusion_lifecycle lc = { 0 };
		struct fusion_map_ops mo = {
			.load = map_load,
			.free = roadmap_free,
			.reference = roadmap_reference,
			.match = roadmap_match,
		};

		ev = events_new(&dcfg, fusion_emit_event_cb, fu);
		if (!ev) {
			log_err("events: out of memory");
			goto out;
		}
		lc.owner = ev;
		lc.raise = events_raise;
		lc.tick = events_tick_hook;
		fusion_set_lifecycle(fu, &lc);
		fusion_set_map_ops(fu, &mo);
		fusion_set_closures(fu, adg.cl); /* NULL without MQTT */
		n_dets = detect_all_new(&dcfg, dets, DETECTORS_MAX);
		if (n_dets < 0) {
			log_err("detectors: %s", strerror(-n_dets));
			goto out;
		}
		for (int i = 0; i < n_dets; i++)
			fusion_add_detector(fu, dets[i]);
		ag.a = assoc_new(&dcfg, NULL);
		if (!ag.a) {
			log_err("association: out of memory");
			goto out;
		}
		/* Candidates: within the gate of where a track could be up to
		 * a second later at motorway speed. */
		ag.radius_m = dcfg.fusion.gate_m + 50.0;
		fusion_set_assoc(fu, assoc_hook, &ag);
		log_info("%d event detectors enabled", n_dets);
	}
#else
	log_notice("event detectors are not part of this build");
#endif

	/* A map that cannot be used stops the broker here, before it opens
	 * its listeners (a bad map on SIGHUP keeps the old one instead). */
	r = fusion_prepare(fu);
	if (r < 0) {
		log_err("refusing to start with the road map %s", cfg.map);
		rc = 2;
		goto out;
	}

	in = ingest_new(&cfg, &ring_in, cnt, err, sizeof(err));
	if (!in) {
		log_err("%s", err);
		goto out;
	}
	if (!ingest_uses_io_uring(in))
		log_warn("io_uring unavailable (%s): using the recvmmsg fallback",
			 ingest_fallback_reason(in));

	mx = metrics_new(&cfg, cnt, err, sizeof(err));
	if (!mx && err[0]) {
		log_err("%s", err);
		goto out;
	}

	/* Threads inherit their creator's policy: the stage threads are
	 * created while this thread runs real-time, nothing else. */
	if (cfg.rt_priority > 0)
		set_realtime(cfg.rt_priority);
	if (single) {
		pl = pipeline_start(in, fu, pz, &ring_in, &ring_out, cnt);
		r = pl ? 0 : -errno;
	} else {
		r = pub_zmq_start(pz);
		if (r == 0)
			r = fusion_start(fu);
		if (r == 0)
			r = ingest_start(in);
	}
	if (cfg.rt_priority > 0) {
		set_realtime(0);
		log_notice("stage threads at SCHED_FIFO priority %d", cfg.rt_priority);
	}
	if (r < 0) {
		log_err("cannot start threads: %s", strerror(-r));
		goto out;
	}
	log_notice("v2x-broker %s: %d UPER + %d msgpack listeners (%s), %s pipeline, "
		   "zmq %s, mqtt %s, metrics %s", V2X_VERSION, cfg.n_udp_uper,
		   cfg.n_udp_msgpack, ingest_uses_io_uring(in) ? "io_uring" : "recvmmsg",
		   single ? "single-thread" : "threaded", cfg.zmq_pub,
		   cfg.mqtt[0] ? cfg.mqtt : "off", mx ? cfg.metrics.text : "off");

	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si)) {
			log_err("signalfd read: %s", strerror(errno));
			break;
		}
		if (si.ssi_signo == SIGHUP) {
			log_notice("SIGHUP: reloading the road map");
			fusion_request_map_reload(fu);
			continue;
		}
		log_notice("%s: shutting down", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	rc = 0;
out:
	/* Pipeline order: each stage drains what its producer left. */
	pipeline_stop(pl);
	ingest_stop(in);
	fusion_stop(fu);
	pub_zmq_stop(pz);
	if (pm) {
		r = pub_mqtt_flush(pm, cfg.mqtt_flush_ms);
		if (r < 0)
			log_warn("mqtt: %llu events not acknowledged at exit; they stay "
				 "persisted in %s", (unsigned long long)pub_mqtt_buffered(pm),
				 cfg.data_dir);
	}
	pub_mqtt_free(pm);
	pub_zmq_free(pz);
	fusion_free(fu);
#ifdef V2X_HAVE_EVENTS
	events_free(ev);
	assoc_free(ag.a);
	closures_free(adg.cl);
#endif
	ingest_free(in);
	metrics_free(mx);
	if (cnt && rc == 0) {
		uint64_t rx = 0, dec = 0;

		for (int i = 0; i < cnt->n_listeners; i++) {
			rx += counter_get(&cnt->listeners[i].received);
			dec += counter_get(&cnt->listeners[i].decoded);
		}
		log_notice("stopped: %llu datagrams received, %llu decoded",
			   (unsigned long long)rx, (unsigned long long)dec);
	}
	ring_fini(&ring_in);
	ring_fini(&ring_out);
	free(cnt);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
