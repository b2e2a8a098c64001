/* SPDX-License-Identifier: MIT */
/*
 * sim/sumo.h - SUMO interoperability: stream an FCD trace (sumo
 * --fcd-output FILE --fcd-output.geo true) as BSMs, and convert a SUMO
 * network (.net.xml) into our GeoJSON road map.  Both parse with expat,
 * streaming, so file size is not bounded by memory.
 */
#ifndef SIM_SUMO_H
#define SIM_SUMO_H

#include <stdint.h>
#include <stdio.h>

#include "geo.h"
#include "v2x/msg.h"

/* The projection of a SUMO network, from its <location> element. */
struct sim_sumo_proj {
	int have;             /* a <location> was seen */
	int utm;              /* 1: +proj=utm; 0: "!" (local metres) */
	int zone, south;
	double off_x, off_y;  /* netOffset */
	struct sim_geo local; /* for "!": local metres around --ref */
	/* The network's extent in degrees (from convBoundary), if have_box:
	 * an FCD position inside it is taken as lon/lat, else as metres. */
	int have_box;
	double min_lat, max_lat, min_lon, max_lon;
};

/*
 * sim_sumo_xy_to_ll() - network x,y (metres) to WGS-84 degrees: the
 * netOffset is subtracted, then the inverse UTM (or the local plane).
 */
void sim_sumo_xy_to_ll(const struct sim_sumo_proj *p, double x, double y,
		       double *lat, double *lon);

/*
 * sim_sumo_parse_proj() - read zone and hemisphere from a projParameter
 * string ("+proj=utm +zone=50 +ellps=WGS84 ..." or "!").  Returns 0 or
 * -EINVAL for a projection other than UTM.
 */
int sim_sumo_parse_proj(const char *param, struct sim_sumo_proj *p);

struct sim_sumo_net_stats {
	int edges, lanes, skipped_internal;
	struct sim_sumo_proj proj; /* the network's projection (for FCD in metres) */
};

/*
 * sim_sumo_net_to_geojson() - convert the network in net (an open file) to
 * GeoJSON on out.  ref_lat/ref_lon are used for "!" networks and as the
 * map's reference when the network has none.  Returns 0, -EIO, or
 * V2X_E_SYNTAX (XML error or a bad attribute value: msg names the line),
 * -EINVAL (unsupported projection).
 */
int sim_sumo_net_to_geojson(FILE *net, FILE *out, double ref_lat, double ref_lon,
			    struct sim_sumo_net_stats *st, char *msg, size_t msglen);

/*
 * Callback of the FCD reader: one BSM per vehicle per timestep, in the
 * order of the trace; t is the timestep's time (s).  Return non-zero to
 * stop reading.
 */
typedef int (*sim_fcd_cb)(void *ctx, double t, const struct v2x_bsm *bsm);

struct sim_fcd_stats {
	uint64_t timesteps, records, vehicles;
	double last_time;
};

/*
 * sim_fcd_read() - stream the FCD trace in fcd, calling cb for each
 * vehicle record.  Positions are taken as lon/lat (geo output) unless proj
 * is given and the values are not degrees inside the network's extent
 * (proj->have_box; else not plausible degrees), in which case they are
 * network metres converted with proj.  ts_ns = start_ns + (time - the
 * first timestep's time): the trace starts at start_ns.
 * Returns 0, -EIO, V2X_E_SYNTAX (XML error or a bad attribute value: msg
 * names the line), or -ENOMEM.
 */
int sim_fcd_read(FILE *fcd, const struct sim_sumo_proj *proj, uint64_t start_ns,
		 sim_fcd_cb cb, void *ctx, struct sim_fcd_stats *st, char *msg,
		 size_t msglen);

#endif
