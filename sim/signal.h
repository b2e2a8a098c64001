/* SPDX-License-Identifier: MIT */
/*
 * sim/signal.h - fixed-time signal controllers and their SPaT.
 *
 * A controller runs one cycle of fixed length; every signal group has a
 * green window [start, start + green) within the cycle (wrapping), then
 * yellow for `yellow` seconds (for pedestrian groups: flashing don't-walk),
 * red for the rest.
 */
#ifndef SIM_SIGNAL_H
#define SIM_SIGNAL_H

#include <stdint.h>

#include "v2x/msg.h"

#define SIM_SIGNAL_GROUPS_MAX 8

enum sim_light {
	SIM_LIGHT_RED = 0,
	SIM_LIGHT_GREEN = 1,
	SIM_LIGHT_YELLOW = 2,
};

struct sim_signal_group {
	int group;        /* SignalGroupID */
	double start;     /* s within the cycle */
	double green;     /* s */
	double yellow;    /* s */
};

struct sim_signal {
	int intersection_id;
	double cycle;     /* s */
	double offset;    /* s: the cycle starts at sim time offset */
	double x, y;      /* centre, local metres */
	int ngroups;
	struct sim_signal_group g[SIM_SIGNAL_GROUPS_MAX];
	uint8_t revision; /* SPaT msgCnt */
};

/*
 * sim_signal_two_phase() - a two-phase plan: group 1 (north/south through)
 * then group 2 (east/west through), each with green g, yellow y, all-red ar;
 * pedestrian groups 3 (walking parallel to group 1) and 4 (parallel to 2)
 * walk during their vehicle group's green minus a clearance.
 */
void sim_signal_two_phase(struct sim_signal *s, int intersection_id, double g,
			  double y, double ar, double offset);

/*
 * sim_signal_light() - the light of group at sim time t (s), and in
 * *remain the seconds until it next changes (may be NULL).  An unknown
 * group reads green (an uncontrolled movement).
 */
int sim_signal_light(const struct sim_signal *s, int group, double t,
		     double *remain);

/*
 * sim_signal_spat() - fill out with the SPaT of the controller at sim time
 * t; wall_ns is the matching wall-clock time (ns since the epoch), which
 * gives the TimeMarks (0.1 s within the UTC hour), moy and timeStamp.
 */
void sim_signal_spat(struct sim_signal *s, double t, uint64_t wall_ns,
		     struct v2x_spat *out);

#endif
