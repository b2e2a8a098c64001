/* SPDX-License-Identifier: MIT */
/*
 * v2x-sim - microscopic traffic simulator and load generator.
 *
 *   v2x-sim run --scenario highway|intersection|grid [options]
 *   v2x-sim map --scenario NAME [geometry options] --out FILE
 *   v2x-sim replay --fcd FILE [--net FILE.net.xml --map-out FILE] ...
 *
 * See docs/simulator.md and `v2x-sim --help`.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "v2x/v2x.h"
#include "cloud.h"
#include "output.h"
#include "sim.h"
#include "sumo.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* CPU time of this thread: the generation rate independent of load. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME in ns since the Unix epoch: the clock of message ts. */
static uint64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fputs(
"usage: v2x-sim run --scenario highway|intersection|grid [options]\n"
"       v2x-sim map --scenario NAME [geometry options] --out FILE\n"
"       v2x-sim replay --fcd FILE [--net FILE.net.xml --map-out FILE]\n"
"                      [--target HOST:PORT] [--speed X | --max] [--no-send]\n"
"\n"
"run options:\n"
"  --vehicles N           vehicles on the road (kept constant; default 200)\n"
"  --flow VEH_PER_H       inflow per entry lane instead (vehicles leave at exits)\n"
"  --penetration P        share of vehicles sending BSMs, 0..1 (default 1)\n"
"  --duration S           sim seconds (default 60)\n"
"  --seed K               PRNG seed (default 1)\n"
"  --incidents N          N incidents of all types spread over the run\n"
"  --incident TYPE@S[+D]  an incident at S seconds (duration D); repeatable.\n"
"                         TYPE: stopped_vehicle hard_braking wrong_way speeding\n"
"                         congestion collision_risk vru_on_road\n"
"  --incident-file FILE   lines 'TYPE SECONDS [DURATION]' (# comments)\n"
"  --target HOST:PORT     BSM destination (default 127.0.0.1:46800)\n"
"  --sensors-target H:P   sensor frames and SPaT (default target port + 1)\n"
"  --encoding uper|msgpack  BSM encoding (default uper)\n"
"  --speed X | --rate MSGS_PER_S | --max   pacing (default real time)\n"
"  --truth-out FILE       ground truth as JSON lines\n"
"  --map-out FILE         the road map as GeoJSON\n"
"  --capture FILE         every datagram, length-prefixed (see docs)\n"
"  --no-send              generate and encode, do not send\n"
"  --mqtt URI             as the traffic management centre: announce each lane\n"
"                         closure as a lane_closure advisory on\n"
"                         <prefix>/advisory/lane_closure/<id> when it starts,\n"
"                         clear it when it ends (default off)\n"
"  --rsu-id ID            prefix v2x/<ID> (default rsu1, as the broker)\n"
"  --mqtt-prefix PREFIX   the broker's MQTT prefix instead\n"
"  --start-ts NS|now      wall time of sim time 0 (default now)\n"
"  --progress / --quiet   force the progress line / print only errors\n"
"geometry options:\n"
"  --ref LAT,LON          reference point (default 30.5928,114.3055)\n"
"  --lanes N              lanes per direction\n"
"  --length M             highway length / approach length (m)\n"
"  --curvature K          highway peak curvature 1/m (default 0.0005)\n"
"  --no-ramp              highway without on-ramp\n"
"  --grid RxC             grid size (default: grows with --vehicles)\n"
"  --block M              grid spacing (default 300)\n"
"  --speed-limit KPH      speed limit of the main roads\n"
"  --spacing M            initial spacing per lane (default 40; sizes the road)\n"
"  --peds N --cyclists N  pedestrians / cyclists on sidewalks\n"
"  --gnss-sigma M         BSM position noise (default 0.5)\n"
"  --sensor k=v,...       a roadside sensor (repeatable): x=,y= (m) or lat=,lon=,\n"
"                         heading=,fov=,range=,rate=,pos_sigma=,speed_sigma=,\n"
"                         miss=,false=\n"
"  --no-sensors           no roadside sensors\n", f);
	fputs(
"ground truth of natural episodes (defaults = the broker's detector defaults):\n"
"  --truth-hard-brake-mps2 A  hard braking: deceleration >= A (4.0)\n"
"  --truth-brake-merge-s S    re-triggered within S: one episode (2.0)\n"
"  --truth-ttc-s S            collision risk: TTC to the leader < S (1.5)\n"
"  --truth-ttc-min-s S        ... for at least S (0.8)\n"
"  --truth-stop-mps V         stopped: speed < V (0.5)\n"
"  --truth-stop-min-s S       ... for at least S (0.8)\n"
"  --truth-stop-clear-m M     ... with no vehicle, stop line or obstacle within M (20)\n"
"  --truth-stop-lead-mps V    injected: ... no vehicle slower than V within M (5.0)\n"
"  --truth-speed-tol-pct P    speeding: above limit + max(P %, K km/h) (10)\n"
"  --truth-speed-tol-kph K    (5)\n"
"  --truth-speed-min-s S      ... sustained S (0.8)\n"
"  --truth-brake-obs-s S      hard braking (injected) without BSMs: seen braking S in all (1.0)\n"
"  --truth-ww-mps V           wrong way (injected): against its lane faster than V (2.5)\n"
"  --truth-ww-min-s S         ... for S in all (1.0; standing keeps it)\n"
"  --truth-jam-ratio R        congestion: space-mean speed < R x limit (0.5)\n"
"  --truth-jam-min-vehicles N ... of at least N vehicles in a bin (4)\n"
"  --truth-jam-bin-m M        bins of M along the segment (200)\n"
"  --truth-jam-min-s S        ... held S (1.0); ends after --truth-jam-clear-s (5) without\n"
"  --truth-jam-clear-s S\n"
"  --truth-gap-s S            shorter dips do not split an episode (0.3)\n", f);
}

struct opts {
	struct sim_config cfg;
	const char *cmd;
	const char *target, *sensors_target, *truth_out, *map_out, *capture, *out;
	const char *fcd, *net;
	const char *mqtt, *rsu_id, *mqtt_prefix;
	int encoding, pace, send, progress, quiet, random_incidents, start_now;
	double speed;
};

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return (errno || end == s || *end) ? -EINVAL : 0;
}

static int parse_sensor(const char *spec, struct sim_sensor_spec *sp)
{
	char buf[512], *save = NULL, *tok;

	memset(sp, 0, sizeof(*sp));
	sp->fov_deg = 120;
	sp->range_m = 150;
	sp->rate_hz = 10;
	sp->pos_sigma = 0.3;
	sp->speed_sigma = 0.3;
	sp->miss = 0.02;
	sp->false_rate = 0.02;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		double v;

		if (!eq || parse_double(eq + 1, &v) < 0)
			return -EINVAL;
		*eq = 0;
		if (!strcmp(tok, "lat")) {
			sp->lat = v;
			sp->have_ll = 1;
		} else if (!strcmp(tok, "lon")) {
			sp->lon = v;
			sp->have_ll = 1;
		} else if (!strcmp(tok, "x")) {
			sp->x = v;
		} else if (!strcmp(tok, "y")) {
			sp->y = v;
		} else if (!strcmp(tok, "heading")) {
			sp->heading_deg = v;
		} else if (!strcmp(tok, "fov")) {
			sp->fov_deg = v;
		} else if (!strcmp(tok, "range")) {
			sp->range_m = v;
		} else if (!strcmp(tok, "rate")) {
			sp->rate_hz = v;
		} else if (!strcmp(tok, "pos_sigma")) {
			sp->pos_sigma = v;
		} else if (!strcmp(tok, "speed_sigma")) {
			sp->speed_sigma = v;
		} else if (!strcmp(tok, "miss")) {
			sp->miss = v;
		} else if (!strcmp(tok, "false")) {
			sp->false_rate = v;
		} else {
			return -EINVAL;
		}
	}
	if (sp->range_m <= 0 || sp->fov_deg <= 0 || sp->fov_deg > 360 ||
	    sp->rate_hz <= 0 || sp->rate_hz > 10 || sp->miss < 0 || sp->miss > 1 ||
	    sp->false_rate < 0 || sp->pos_sigma < 0 || sp->speed_sigma < 0)
		return -EINVAL;
	return 0;
}

/*
 * Schedule one incident: NULL, or what is wrong with it (for the message of
 * --incident and --incident-file alike).
 */
static const char *add_incident(struct sim_config *cfg, const char *type, double at,
				double dur)
{
	int t = v2x_event_type_from_name(type);

	if (t < 0)
		return "unknown incident type";
	if (at < 0)
		return "negative start time";
	if (dur < 0)
		return "negative duration";
	if (cfg->nincidents >= SIM_INCIDENTS_MAX)
		return "too many incidents";
	cfg->incident[cfg->nincidents].type = t;
	cfg->incident[cfg->nincidents].at = at;
	cfg->incident[cfg->nincidents].duration = dur;
	cfg->nincidents++;
	return NULL;
}

/* TYPE@SECONDS[+DURATION]: NULL, or what is wrong with spec. */
static const char *parse_incident(struct sim_config *cfg, const char *spec)
{
	char buf[128], *at, *plus;
	double t, d = 0;

	if (strlen(spec) >= sizeof(buf))
		return "too long";
	strcpy(buf, spec);
	at = strchr(buf, '@');
	if (!at)
		return "no '@SECONDS'";
	*at++ = 0;
	plus = strchr(at, '+');
	if (plus) {
		*plus++ = 0;
		if (parse_double(plus, &d) < 0)
			return "bad duration";
	}
	if (parse_double(at, &t) < 0)
		return "bad start time";
	return add_incident(cfg, buf, t, d);
}

static int read_incident_file(struct sim_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int ret = 0, lineno = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char type[64];
		double t, d = 0;
		const char *why = "expected 'TYPE SECONDS [DURATION]'";
		int n;

		lineno++;
		if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t\r\n")] == 0)
			continue;
		n = sscanf(line, "%63s %lf %lf", type, &t, &d);
		if (n < 2 || (why = add_incident(cfg, type, t, n == 3 ? d : 0)) != NULL) {
			fprintf(stderr, "v2x-sim: %s:%d: bad incident line: %s\n", path, lineno,
				why);
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	struct sim_config *cfg = &o->cfg;

	memset(o, 0, sizeof(*o));
	sim_config_default(cfg);
	o->target = "127.0.0.1:46800";
	o->send = 1;
	o->speed = 1;
	o->start_now = 1;
	o->cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;

#define NEED_ARG() do { if (!v) { fprintf(stderr, "v2x-sim: %s needs a value\n", a); return -EINVAL; } i++; } while (0)
#define NUM(dst, lo, hi) do { NEED_ARG(); if (parse_double(v, &d) < 0 || d < (lo) || d > (hi)) { fprintf(stderr, "v2x-sim: bad %s '%s'\n", a, v); return -EINVAL; } dst = d; } while (0)
		if (!strcmp(a, "--scenario")) {
			NEED_ARG();
			cfg->scenario = sim_scenario_from_name(v);
			if (cfg->scenario < 0) {
				fprintf(stderr, "v2x-sim: unknown scenario '%s'\n", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--truth-hard-brake-mps2")) {
			NUM(cfg->truth.hard_brake_mps2, 0.1, 100);
		} else if (!strcmp(a, "--truth-brake-merge-s")) {
			NUM(cfg->truth.hard_brake_merge_s, 0, 60);
		} else if (!strcmp(a, "--truth-ttc-s")) {
			NUM(cfg->truth.ttc_s, 0.1, 60);
		} else if (!strcmp(a, "--truth-ttc-min-s")) {
			NUM(cfg->truth.ttc_min_s, 0, 60);
		} else if (!strcmp(a, "--truth-stop-mps")) {
			NUM(cfg->truth.stop_mps, 0.01, 10);
		} else if (!strcmp(a, "--truth-stop-min-s")) {
			NUM(cfg->truth.stop_min_s, 0, 600);
		} else if (!strcmp(a, "--truth-stop-clear-m")) {
			NUM(cfg->truth.stop_clear_m, 0, 1000);
		} else if (!strcmp(a, "--truth-stop-lead-mps")) {
			NUM(cfg->truth.stop_lead_mps, 0, 100);
		} else if (!strcmp(a, "--truth-speed-tol-pct")) {
			NUM(cfg->truth.speed_tol_pct, 0, 500);
		} else if (!strcmp(a, "--truth-speed-tol-kph")) {
			NUM(cfg->truth.speed_tol_kph, 0, 500);
		} else if (!strcmp(a, "--truth-speed-min-s")) {
			NUM(cfg->truth.speed_min_s, 0, 600);
		} else if (!strcmp(a, "--truth-brake-obs-s")) {
			NUM(cfg->truth.brake_obs_s, 0, 600);
		} else if (!strcmp(a, "--truth-ww-mps")) {
			NUM(cfg->truth.ww_mps, 0, 50);
		} else if (!strcmp(a, "--truth-ww-min-s")) {
			NUM(cfg->truth.ww_min_s, 0, 600);
		} else if (!strcmp(a, "--truth-jam-ratio")) {
			NUM(cfg->truth.jam_ratio, 0.01, 1);
		} else if (!strcmp(a, "--truth-jam-min-vehicles")) {
			NUM(cfg->truth.jam_min_vehicles, 1, 1000);
		} else if (!strcmp(a, "--truth-jam-bin-m")) {
			NUM(cfg->truth.jam_bin_m, 10, 100000);
		} else if (!strcmp(a, "--truth-jam-min-s")) {
			NUM(cfg->truth.jam_min_s, 0, 3600);
		} else if (!strcmp(a, "--truth-jam-clear-s")) {
			NUM(cfg->truth.jam_clear_s, 0, 3600);
		} else if (!strcmp(a, "--truth-gap-s")) {
			NUM(cfg->truth.gap_s, 0, 60);
		} else if (!strcmp(a, "--vehicles")) {
			NUM(cfg->vehicles, 0, 10000000);
		} else if (!strcmp(a, "--flow")) {
			NUM(cfg->flow_vph, 0, 20000);
		} else if (!strcmp(a, "--penetration")) {
			NUM(cfg->penetration, 0, 1);
		} else if (!strcmp(a, "--duration")) {
			NUM(cfg->duration, 0, 1e7);
		} else if (!strcmp(a, "--seed")) {
			NEED_ARG();
			char *end;

			errno = 0;
			cfg->seed = strtoull(v, &end, 0);
			if (!*v || *end || errno || *v == '-') {
				fprintf(stderr, "v2x-sim: bad --seed '%s'\n", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--incidents")) {
			NUM(o->random_incidents, 0, SIM_INCIDENTS_MAX);
		} else if (!strcmp(a, "--incident")) {
			NEED_ARG();
			const char *why = parse_incident(cfg, v);

			if (why) {
				fprintf(stderr, "v2x-sim: bad --incident '%s': %s "
					"(TYPE@SECONDS[+DURATION])\n", v, why);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--incident-file")) {
			NEED_ARG();
			int r = read_incident_file(cfg, v);

			if (r < 0) {
				if (r != -EINVAL) /* a bad line has been named */
					fprintf(stderr, "v2x-sim: incident file '%s': %s\n", v,
						strerror(-r));
				return -EINVAL;
			}
		} else if (!strcmp(a, "--mqtt")) {
			NEED_ARG();
			o->mqtt = v;
		} else if (!strcmp(a, "--rsu-id")) {
			NEED_ARG();
			o->rsu_id = v;
		} else if (!strcmp(a, "--mqtt-prefix")) {
			NEED_ARG();
			o->mqtt_prefix = v;
		} else if (!strcmp(a, "--target")) {
			NEED_ARG();
			o->target = v;
		} else if (!strcmp(a, "--sensors-target")) {
			NEED_ARG();
			o->sensors_target = v;
		} else if (!strcmp(a, "--encoding")) {
			NEED_ARG();
			if (!strcmp(v, "uper")) {
				o->encoding = SIM_ENC_UPER;
			} else if (!strcmp(v, "msgpack")) {
				o->encoding = SIM_ENC_MSGPACK;
			} else {
				fprintf(stderr, "v2x-sim: unknown encoding '%s'\n", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--speed")) {
			NUM(o->speed, 0.001, 1e6);
			o->pace = SIM_PACE_SPEED;
		} else if (!strcmp(a, "--rate")) {
			NUM(cfg->rate, 1, 1e9);
		} else if (!strcmp(a, "--max")) {
			o->pace = SIM_PACE_MAX;
		} else if (!strcmp(a, "--truth-out")) {
			NEED_ARG();
			o->truth_out = v;
		} else if (!strcmp(a, "--map-out")) {
			NEED_ARG();
			o->map_out = v;
		} else if (!strcmp(a, "--out")) {
			NEED_ARG();
			o->out = v;
		} else if (!strcmp(a, "--capture")) {
			NEED_ARG();
			o->capture = v;
		} else if (!strcmp(a, "--no-send")) {
			o->send = 0;
		} else if (!strcmp(a, "--start-ts")) {
			NEED_ARG();
			if (strcmp(v, "now")) {
				o->start_now = 0;
				cfg->start_ns = strtoull(v, NULL, 10);
			}
		} else if (!strcmp(a, "--progress")) {
			o->progress = 1;
		} else if (!strcmp(a, "--quiet")) {
			o->quiet = 1;
		} else if (!strcmp(a, "--ref")) {
			NEED_ARG();
			if (sscanf(v, "%lf,%lf", &cfg->ref_lat, &cfg->ref_lon) != 2 ||
			    fabs(cfg->ref_lat) > 80 || fabs(cfg->ref_lon) > 180) {
				fprintf(stderr, "v2x-sim: bad --ref '%s' (LAT,LON)\n", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--lanes")) {
			NUM(cfg->lanes, 1, 8);
		} else if (!strcmp(a, "--length")) {
			NUM(cfg->length, 100, 2e6);
		} else if (!strcmp(a, "--curvature")) {
			NUM(cfg->curvature, 0, 0.01);
		} else if (!strcmp(a, "--no-ramp")) {
			cfg->ramp = 0;
		} else if (!strcmp(a, "--grid")) {
			NEED_ARG();
			if (sscanf(v, "%dx%d", &cfg->grid_rows, &cfg->grid_cols) != 2 ||
			    cfg->grid_rows < 1 || cfg->grid_cols < 1 || cfg->grid_rows > 60 ||
			    cfg->grid_cols > 60) {
				fprintf(stderr, "v2x-sim: bad --grid '%s' (RxC, 1..60)\n", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "--block")) {
			NUM(cfg->block, 80, 5000);
		} else if (!strcmp(a, "--speed-limit")) {
			NUM(cfg->speed_limit_kph, 5, 200);
		} else if (!strcmp(a, "--spacing")) {
			NUM(cfg->spacing, 8, 10000);
		} else if (!strcmp(a, "--peds")) {
			NUM(cfg->peds, 0, 20000);
		} else if (!strcmp(a, "--cyclists")) {
			NUM(cfg->cyclists, 0, 20000);
		} else if (!strcmp(a, "--gnss-sigma")) {
			NUM(cfg->gnss_sigma, 0, 50);
		} else if (!strcmp(a, "--sensor")) {
			NEED_ARG();
			if (cfg->nsensors < 0)
				cfg->nsensors = 0;
			if (cfg->nsensors >= SIM_SENSORS_MAX ||
			    parse_sensor(v, &cfg->sensor[cfg->nsensors]) < 0) {
				fprintf(stderr, "v2x-sim: bad --sensor '%s'\n", v);
				return -EINVAL;
			}
			cfg->nsensors++;
		} else if (!strcmp(a, "--no-sensors")) {
			cfg->nsensors = 0;
		} else if (!strcmp(a, "--fcd")) {
			NEED_ARG();
			o->fcd = v;
		} else if (!strcmp(a, "--net")) {
			NEED_ARG();
			o->net = v;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "v2x-sim: unknown option '%s'\n", a);
			return -EINVAL;
		}
#undef NUM
#undef NEED_ARG
	}
	if (o->start_now)
		cfg->start_ns = wall_clock_ns(); /* run takes it again before its first step */
	/* --incidents N: every type in turn, evenly over the run. */
	for (int k = 0; k < o->random_incidents; k++) {
		double at = (k + 1) * cfg->duration / (o->random_incidents + 1);

		const char *why = add_incident(cfg, v2x_event_type_name(k % V2X_EVT_TYPE_COUNT),
					       at, 0);

		if (why) {
			fprintf(stderr, "v2x-sim: --incidents %d: %s\n", o->random_incidents, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* fopen() that names the file and the reason when it fails. */
static FILE *open_file(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f)
		fprintf(stderr, "v2x-sim: %s: %s\n", path, strerror(errno));
	return f;
}

/*
 * The output stage of run and replay: the capture file (if asked for) and
 * the encoder/sender, with SIGINT/SIGTERM ending the run cleanly.
 */
static int open_output(const struct opts *o, FILE **capture, struct sim_out **out)
{
	struct sim_out_config oc;
	char err[256] = "";
	int ret;

	if (o->capture) {
		*capture = open_file(o->capture, "wb");
		if (!*capture)
			return -EIO;
	}
	memset(&oc, 0, sizeof(oc));
	oc.encoding = o->encoding;
	oc.pace = o->pace;
	oc.speed = o->speed;
	oc.send = o->send;
	oc.target = o->target;
	oc.sensors_target = o->sensors_target;
	oc.capture = *capture;
	oc.start_ns = o->cfg.start_ns;
	ret = sim_out_new(&oc, out, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "v2x-sim: %s\n", err[0] ? err : strerror(-ret));
		return ret;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	return 0;
}

static int write_map(const struct sim_world *w, const char *path)
{
	FILE *f = open_file(path, "w");
	int ret;

	if (!f)
		return -EIO;
	ret = sim_map_write(w, f);
	if (fclose(f) != 0 && ret == 0)
		ret = -EIO;
	if (ret < 0)
		fprintf(stderr, "v2x-sim: writing %s failed\n", path);
	return ret;
}

static int cmd_map(struct opts *o)
{
	struct sim_world *w;
	char err[256] = "";
	int ret;

	if (!o->out && !o->map_out) {
		fprintf(stderr, "v2x-sim map: --out FILE is required\n");
		return 2;
	}
	o->cfg.nincidents = 0;
	ret = sim_world_new(&o->cfg, &w, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "v2x-sim: %s\n", err[0] ? err : strerror(-ret));
		return 1;
	}
	ret = write_map(w, o->out ? o->out : o->map_out);
	sim_world_free(w);
	return ret < 0 ? 1 : 0;
}

static int cmd_run(struct opts *o)
{
	struct sim_world *w = NULL;
	struct sim_out *out = NULL;
	struct sim_cloud *cloud = NULL;
	struct sim_sink sink;
	struct sim_out_stats st;
	FILE *truth = NULL, *capture = NULL;
	char err[256] = "";
	int ret, status = 1, show;
	int64_t steps;
	uint64_t wall0, next_progress, last_sent = 0, cpu0;

	ret = sim_world_new(&o->cfg, &w, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "v2x-sim: %s\n", err[0] ? err : strerror(-ret));
		goto out;
	}
	if (w->scenario_note[0] && !o->quiet)
		fprintf(stderr, "v2x-sim: %s\n", w->scenario_note);
	if (o->map_out && write_map(w, o->map_out) < 0)
		goto out;
	if (o->truth_out) {
		truth = open_file(o->truth_out, "w");
		if (!truth)
			goto out;
		w->truth = truth;
	}
	if (open_output(o, &capture, &out) < 0)
		goto out;
	if (o->mqtt) {
		char prefix[192];

		if (o->mqtt_prefix)
			snprintf(prefix, sizeof(prefix), "%s", o->mqtt_prefix);
		else
			snprintf(prefix, sizeof(prefix), "v2x/%s", o->rsu_id ? o->rsu_id : "rsu1");
		cloud = sim_cloud_new(o->mqtt, prefix, err, sizeof(err));
		if (!cloud) {
			fprintf(stderr, "v2x-sim: %s\n", err);
			goto out;
		}
	}
	/*
	 * Sim time 0 is the wall clock right before the first step, not when
	 * the options were read: building a large world takes a while, and
	 * every message's ts would be early by that much.
	 */
	if (o->start_now) {
		w->cfg.start_ns = wall_clock_ns();
		sim_out_restart(out, w->cfg.start_ns);
	}
	sim_world_truth_header(w);
	sim_out_sink(out, &sink);
	show = !o->quiet && (o->progress || isatty(2));
	steps = (int64_t)llround(o->cfg.duration * SIM_STEPS_PER_S);
	wall0 = sim_now_ns();
	cpu0 = cpu_ns();
	next_progress = wall0 + 1000000000ull;
	for (int64_t s = 0; s < steps && !stop_requested; s++) {
		sim_world_step(w, &sink);
		sim_cloud_poll(cloud, w);
		if (show && sim_now_ns() >= next_progress) {
			sim_out_stats(out, &st);
			fprintf(stderr, "v2x-sim: t=%.1fs vehicles=%d msgs/s=%llu sent=%llu%s",
				w->t, sim_world_present(w),
				(unsigned long long)(st.sent - last_sent),
				(unsigned long long)st.sent, isatty(2) ? "   \r" : "\n");
			last_sent = st.sent;
			next_progress += 1000000000ull;
		}
	}
	sim_out_flush(out);
	sim_world_finish(w);
	sim_cloud_finish(cloud, w);
	sim_out_stats(out, &st);
	if (cloud && !o->quiet) {
		uint64_t pub, failed;

		sim_cloud_stats(cloud, &pub, &failed);
		fprintf(stderr, "v2x-sim: lane closure advisories: %llu published, %llu failed\n",
			(unsigned long long)pub, (unsigned long long)failed);
	}
	{
		double wall = (double)(sim_now_ns() - wall0) / 1e9;
		double cpu = (double)(cpu_ns() - cpu0) / 1e9;

		if (!o->quiet)
			fprintf(stderr,
				"%sv2x-sim: done: scenario=%s sim=%.1fs wall=%.2fs cpu=%.2fs vehicles=%d "
				"bsm=%llu (%.0f/s wall, %.0f/s cpu) objects_frames=%llu spat=%llu datagrams=%llu "
				"send_errors=%llu encode_errors=%llu incidents=%d collisions=%llu "
				"red_crossings=%llu entered=%llu exited=%llu\n",
				show && isatty(2) ? "\n" : "", sim_scenario_name(o->cfg.scenario),
				w->t, wall, cpu, sim_world_present(w),
				(unsigned long long)w->ctr.bsm,
				wall > 0 ? (double)w->ctr.bsm / wall : 0.0,
				cpu > 0 ? (double)w->ctr.bsm / cpu : 0.0,
				(unsigned long long)w->ctr.objects_frames,
				(unsigned long long)w->ctr.spat, (unsigned long long)st.sent,
				(unsigned long long)st.send_errors,
				(unsigned long long)st.encode_errors, w->ninc,
				(unsigned long long)w->ctr.collisions,
				(unsigned long long)w->ctr.red_crossings,
				(unsigned long long)w->ctr.entered,
				(unsigned long long)w->ctr.exited);
		if (st.encode_errors)
			fprintf(stderr, "v2x-sim: last encode error: %s\n",
				v2x_strerror(st.last_encode_error));
		for (int i = 0; i < w->ninc; i++)
			if (w->inc[i].state == SIM_INC_FAILED && !o->quiet)
				fprintf(stderr, "v2x-sim: incident %d (%s) skipped: %s\n",
					w->inc[i].id, v2x_event_type_name(w->inc[i].type),
					w->inc[i].why);
	}
	status = st.encode_errors ? 1 : 0;
out:
	sim_cloud_free(cloud);
	sim_out_free(out);
	if (truth && fclose(truth) != 0)
		status = 1;
	if (capture && fclose(capture) != 0)
		status = 1;
	sim_world_free(w);
	return status;
}

struct replay_ctx {
	struct sim_out *out;
	uint64_t n;
};

static int replay_cb(void *ctx, double t, const struct v2x_bsm *bsm)
{
	struct replay_ctx *rc = ctx;

	sim_out_bsm(rc->out, bsm);
	rc->n++;
	return stop_requested;
}

static int cmd_replay(struct opts *o)
{
	struct sim_sumo_proj proj;
	struct sim_out *out = NULL;
	struct sim_out_stats st;
	struct sim_fcd_stats fst;
	struct replay_ctx rc;
	FILE *fcd = NULL, *net = NULL, *map = NULL, *capture = NULL;
	char err[256] = "";
	int ret, status = 1;

	memset(&proj, 0, sizeof(proj));
	sim_geo_init(&proj.local, o->cfg.ref_lat, o->cfg.ref_lon);
	if (!o->fcd && !o->net) {
		fprintf(stderr, "v2x-sim replay: --fcd FILE (and/or --net FILE) required\n");
		return 2;
	}
	if (o->net) {
		struct sim_sumo_net_stats ns;

		net = open_file(o->net, "r");
		if (!net)
			goto out;
		map = open_file(o->map_out ? o->map_out : "/dev/null", "w");
		if (!map)
			goto out;
		ret = sim_sumo_net_to_geojson(net, map, o->cfg.ref_lat, o->cfg.ref_lon, &ns,
					      err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "v2x-sim: %s: %s\n", o->net,
				err[0] ? err : v2x_strerror(ret));
			goto out;
		}
		if (!o->quiet)
			fprintf(stderr, "v2x-sim: net: %d edges, %d lanes (%d internal skipped)\n",
				ns.edges, ns.lanes, ns.skipped_internal);
		/* The network's projection, for FCD files in network metres. */
		proj = ns.proj;
	}
	if (!o->fcd) {
		status = 0;
		goto out;
	}
	fcd = open_file(o->fcd, "r");
	if (!fcd)
		goto out;
	if (open_output(o, &capture, &out) < 0)
		goto out;
	rc.out = out;
	rc.n = 0;
	ret = sim_fcd_read(fcd, proj.have ? &proj : NULL, o->cfg.start_ns, replay_cb, &rc,
			   &fst, err, sizeof(err));
	sim_out_flush(out);
	sim_out_stats(out, &st);
	if (ret < 0) {
		fprintf(stderr, "v2x-sim: %s: %s\n", o->fcd, err[0] ? err : v2x_strerror(ret));
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "v2x-sim: replay done: timesteps=%llu records=%llu vehicles=%llu "
				"trace=%.1fs bsm=%llu datagrams=%llu send_errors=%llu "
				"encode_errors=%llu\n",
			(unsigned long long)fst.timesteps, (unsigned long long)fst.records,
			(unsigned long long)fst.vehicles, fst.last_time,
			(unsigned long long)rc.n, (unsigned long long)st.sent,
			(unsigned long long)st.send_errors, (unsigned long long)st.encode_errors);
	status = st.encode_errors ? 1 : 0;
out:
	sim_out_free(out);
	if (fcd)
		fclose(fcd);
	if (net)
		fclose(net);
	if (map && fclose(map) != 0)
		status = 1;
	if (capture && fclose(capture) != 0)
		status = 1;
	return status;
}

int main(int argc, char **argv)
{
	struct opts *o;
	int ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	/* The config holds the sensor and incident tables: keep it off the stack. */
	o = malloc(sizeof(*o));
	if (!o)
		return 1;
	if (parse_args(argc, argv, o) < 0) {
		free(o);
		return 2;
	}
	if (!strcmp(o->cmd, "run")) {
		ret = cmd_run(o);
	} else if (!strcmp(o->cmd, "map")) {
		ret = cmd_map(o);
	} else if (!strcmp(o->cmd, "replay")) {
		ret = cmd_replay(o);
	} else {
		fprintf(stderr, "v2x-sim: unknown command '%s'\n", o->cmd);
		usage(stderr);
		ret = 2;
	}
	free(o);
	return ret;
}
