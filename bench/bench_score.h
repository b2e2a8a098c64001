/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_score.h - event accuracy of the broker against the
 * simulator's ground truth (v2x-bench).
 *
 * Ground truth: the JSON lines of `v2x-sim run --truth-out` (incident and
 * marginal lines; "run", "summary" and "incident_skipped" lines are read
 * for context).
 * Events: every `event` frame received from the broker, fed one transition
 * at a time.  Scoring matches each incident to the distinct events of its
 * type (see bench_score_run() for the rule) and yields per type precision,
 * recall and detection delay.
 *
 * Single-threaded; a struct bench_score is owned by its creator.
 */
#ifndef V2X_BENCH_SCORE_H
#define V2X_BENCH_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct roadmap; /* broker/roadmap.h: the broker's road map loader */

#define BENCH_NTYPES 7       /* enum v2x_event_type values 0..6 */
#define BENCH_EVT_POS_MAX 32 /* transitions remembered per event */

/* Matching parameters; bench_score_cfg_default() fills the defaults. */
struct bench_score_cfg {
	double radius_m;            /* spatial radius around the incident */
	double congestion_radius_m; /* radius for congestion (queues grow) */
	double move_mps;            /* allowance for moving incidents, m/s
				     * after detectable_ts */
	double tolerance_s;         /* window opens detectable_ts - this */
	double grace_s;             /* window closes end_ts + this */
	double natural_min_s;       /* a natural episode counts in the natural
				     * recall when end_ts - detectable_ts >=
				     * this (the detector's persistence) */
};

/* One ground-truth incident. */
struct bench_incident {
	int id;
	int type;               /* enum v2x_event_type */
	uint64_t start_ts, detectable_ts, end_ts; /* ns; detectable 0 = never */
	double lat, lon;        /* where it became detectable (or started) */
	int lane, segment;
	int observed;           /* its road users were in the broker's input
				 * (temp_ids or sensor_objects not empty);
				 * congestion always */
	int natural;            /* "cause":"natural" (a condition of the
				 * simulated traffic, not an injected one) */
	int marginal;           /* a "kind":"marginal" line: a natural
				 * collision risk only within the position
				 * error of the pair (sim/truth.c); in no
				 * recall, and an event matching only it is
				 * neither true nor false (marginal_matched) */
	int nclosed;            /* congestion: lanes of its "closure" (0 =
				 * none); lat/lon is where the closure starts */
	int closed_lane[8];
	/* Filled by bench_score_run(). */
	int n_matched;          /* distinct events matched */
	uint64_t first_event_ts; /* earliest matching transition's ts */
	uint64_t first_event_id;
};

/* One transition of an event as published. */
struct bench_evt_pos {
	uint64_t ts;
	double lat, lon;
	int lane, segment;
	int status;            /* enum v2x_event_status */
};

/* One distinct event id. */
struct bench_event {
	uint64_t id;
	int type;
	int saw_new;           /* its `new` was received */
	int cleared;
	uint64_t first_ts, last_ts; /* ts of first / last transition */
	int npos;              /* transitions kept (the first BENCH_EVT_POS_MAX) */
	int ntransitions;
	char sources[40];      /* of the first transition, e.g. "v2x,sensor:3" */
	struct bench_evt_pos pos[BENCH_EVT_POS_MAX];
	/* Filled by bench_score_run(). */
	int matched_incident;  /* incident id (an injected one if any), or -1 */
	int matched_injected;  /* matched at least one injected incident */
	int matched_marginal;  /* matched no incident or episode but a
				* marginal line (its id), or -1 */
	int at_closure;        /* unmatched stopped vehicle whose first
				* transition is at the head of a closed lane
				* (see bench_type_score.unmatched_at_closure) */
};

/* Per-type figures. */
struct bench_type_score {
	/* Injected incidents ("cause":"injected", or no cause). */
	int incidents;          /* injected incidents of the type */
	int detectable;         /* with detectable_ts != 0 */
	int detected;           /* detectable incidents with >= 1 matched event */
	int observed;           /* detectable and observed */
	int detected_observed;  /* of those, detected */
	/* Natural episodes ("cause":"natural"). */
	int natural;            /* natural episodes of the type */
	int natural_scored;     /* detectable, observed and detectable for
				 * >= natural_min_s */
	int natural_detected;   /* of those, with >= 1 matched event */
	int marginal;           /* marginal lines of the type (in no recall) */
	int events;             /* distinct event ids of the type */
	int matched_events;     /* events matched to some incident or episode */
	int marginal_matched;   /* events matched to marginal lines only:
				 * neither hits nor false positives */
	int matched_natural_only; /* of those, matched to natural ones only */
	int unmatched_at_closure; /* stopped_vehicle: unmatched events whose
				   * first transition lies in a closed lane of
				   * an active lane closure (a congestion
				   * incident), within radius_m of where it
				   * starts - a vehicle standing at the head of
				   * a closed lane, whose obstacle is no track;
				   * informational, still counted false */
	double precision, recall; /* NAN when undefined (0/0); precision =
				   * matched_events / (events -
				   * marginal_matched), recall over the
				   * injected incidents */
	double precision_strict;  /* matched_events / events: an event
				   * matching only a marginal line false */
	double recall_observed;   /* detected_observed / observed */
	double recall_natural;    /* natural_detected / natural_scored */
	int ndelay;             /* delays of the detected injected incidents */
	double delay_p50_s, delay_p90_s, delay_max_s; /* NAN without delays */
	double events_per_incident; /* matched events / detected incidents */
};

/*
 * One road segment of the run's map (bench_score_load_map()), derived from
 * the broker's loaded map: its centre line is one of its lanes (the
 * lowest lane_id; in the direction of travel), and
 * pred lists the segments one of whose lanes continues (next_lane_id)
 * into one of its lanes - the segments upstream of it.
 */
struct bench_seg {
	int id;
	int32_t lane_id;        /* the lane that is its centre line */
	int signal;             /* a lane of it ends at a signal (signal_group
				 * of the lane or of its stop line) */
	double len_m;           /* length of that lane */
	int npred, cap_pred;
	int *pred;              /* indices into bench_score.seg, owned */
};

struct bench_score {
	struct bench_score_cfg cfg;
	/* The run's road map, when loaded (nseg > 0): congestion matches by
	 * road topology instead of by radius.  map is owned; seg[i] is the
	 * segment of dense index i of the map (roadmap_segment_at()). */
	struct roadmap *map;
	struct bench_seg *seg;
	int nseg;
	struct bench_incident *inc;
	int ninc, cap_inc;
	int nskipped;           /* incident_skipped lines */
	struct bench_event *evt;
	int nevt, cap_evt;
	uint64_t *index;        /* open addressing: event id + 1 -> slot */
	int *index_slot;
	int index_cap;
	uint64_t transitions;   /* event frames fed */
	uint64_t bad_frames;
	char scenario[32];
	uint64_t run_start_ts;
	struct bench_type_score type[BENCH_NTYPES];
};

/* Defaults: 50 m, 1000 m, 40 m/s, 1 s, 5 s, natural_min_s 1 s. */
void bench_score_cfg_default(struct bench_score_cfg *cfg);

/*
 * bench_score_init() - empty score with cfg (copied).  Returns 0.
 * bench_score_fini() frees what the score allocated; safe after init.
 */
int bench_score_init(struct bench_score *sc, const struct bench_score_cfg *cfg);
void bench_score_fini(struct bench_score *sc);

/*
 * bench_score_load_truth() - read ground-truth JSON lines from path.
 * Returns the number of incidents read, -errno when the file cannot be
 * read, -ENOMEM, or V2X_E_SYNTAX / V2X_E_MISSING / V2X_E_RANGE for a bad
 * line (its number in *bad_line when bad_line is not NULL).
 */
int bench_score_load_truth(struct bench_score *sc, const char *path, int *bad_line);

/*
 * bench_score_load_map() - the run's road map (v2x-sim map's GeoJSON, read
 * by the broker's loader, roadmap_load(), with its validation) for
 * congestion matching by the lanes' segments and next_lane_id links, see
 * bench_score_run().  Returns the number of segments (> 0), or the
 * loader's code: -errno when the file cannot be read, V2X_E_SYNTAX for bad
 * JSON, V2X_E_INVALID / V2X_E_MISSING / V2X_E_TYPE / V2X_E_RANGE for a bad
 * feature or a map without lanes, -ENOMEM; then the loader's one-line
 * message (file, feature index and id, problem) is in err (errlen bytes;
 * err may be NULL).  On failure the score keeps no map (the radius rule).
 */
int bench_score_load_map(struct bench_score *sc, const char *path, char *err,
			 size_t errlen);

/*
 * bench_score_add_event() - one event transition: id, type and status as
 * enum values, ts in ns, position in degrees.  Returns 0, -ENOMEM, or
 * V2X_E_RANGE for a type or status out of range (counted in bad_frames).
 */
int bench_score_add_event(struct bench_score *sc, uint64_t id, int type, int status,
			  uint64_t ts, double lat, double lon, int lane, int segment);

/*
 * bench_score_set_sources() - remember the sources text of event id (kept
 * from its first transition; informational).  Returns 0 or -ENOENT.
 */
int bench_score_set_sources(struct bench_score *sc, uint64_t id, const char *sources);

/*
 * bench_score_add_event_json() - one event transition as a JSON object
 * (the `event` frame's keys, as `v2x-codec decode` prints it).  Returns 0
 * or a negative code (counted in bad_frames).
 */
int bench_score_add_event_json(struct bench_score *sc, const char *text, size_t len);

/*
 * bench_score_run() - match and fill the per-type figures.
 *
 * An event E of type T matches an incident I of type T when one of E's
 * transitions lies in I's window [w0, w1] and within its radius, where
 * w0 = (detectable_ts, or start_ts when 0 or for congestion) - tolerance, w1 = end_ts + grace and
 * radius = radius_m + move_mps * max(0, t - w0') for the moving types
 * (hard braking, wrong way, speeding, collision risk; w0' is the window
 * start without tolerance; the truth gives the position at detectable_ts);
 * for congestion, with a map (bench_score_load_map()), a transition on
 * the incident's segment, or on a segment upstream of it in the same
 * direction of travel (reachable backwards through the lanes'
 * next_lane_id links) within congestion_radius_m of the incident along the
 * road - a queue spills back upstream, never onto the opposite carriageway
 * or an unrelated road nearby - except, on an upstream segment that ends at
 * a signal, within 150 m of its stop line (the signal's own queue, which
 * the simulator's congestion truth leaves out too); without a map, within congestion_radius_m
 * (straight line) or on the incident's segment; and any transition within the window
 * counts (a long incident), and so does an event of the incident's segment
 * that stood (from its first to its last transition) at any time in the
 * window, with or without a transition inside it; for the other types only
 * the first transition (the `new`) counts.  Injected incidents and natural episodes (real
 * conditions of the simulated traffic) are matched alike; a marginal line
 * ("kind":"marginal") too, but only by an event on its own segment and
 * up to end_ts + tolerance (it excuses an event, it waits for no late
 * detection).
 * Precision = events matching an injected incident or a natural episode /
 * distinct events that match more than a marginal line only (a
 * collision risk within the pair's position error, which no roadside
 * system can tell from one outside it: such an event is neither a hit nor
 * a false positive, and a marginal line is in no recall);
 * precision_strict = the same / all distinct events; recall = detected
 * detectable injected incidents / detectable injected incidents (and the
 * same over the observed ones only:
 * an incident whose road users neither sent a BSM nor were seen by a
 * sensor cannot be detected); recall_natural = detected / natural episodes
 * that were observed and held for >= natural_min_s after detectable_ts
 * (shorter ones cannot outlast the detector's persistence); delay = the
 * earliest matching transition (the `new`, but for congestion possibly an
 * update of an event already active, or the window's start for one that
 * stood through it) - detectable_ts; negative when the
 * broker reported before the truth's own threshold.
 */
void bench_score_run(struct bench_score *sc);

/* Great-circle distance in metres (spherical Earth, R = 6371008.8 m). */
double bench_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
