/* SPDX-License-Identifier: MIT */
/*
 * sim/road.h - road geometry: lanes as polylines in local metres, linked
 * to their successor and to their left/right neighbours, stop lines at the
 * end of signalised approach lanes; a walk graph (sidewalks and crosswalks)
 * for pedestrians and cyclists.
 */
#ifndef SIM_ROAD_H
#define SIM_ROAD_H

#include <stddef.h>

enum sim_lane_type {
	SIM_LANE_VEHICLE = 0,
	SIM_LANE_BIKE = 1,
	SIM_LANE_SIDEWALK = 2,
};

struct sim_pt {
	double x, y;
};

struct sim_lane {
	int id;              /* lane_id in the map (unique) */
	int segment;         /* segment_id: lanes of one section and direction */
	int type;            /* enum sim_lane_type */
	int index;           /* 0 = rightmost lane of its segment */
	int connector;       /* 1 = inside an intersection box */
	double width;        /* m */
	double speed_limit;  /* m/s */
	int npts;
	struct sim_pt *pts;  /* owned */
	double *cum;         /* cumulative length at each point, owned */
	double *hdg;         /* heading of each segment, radians from north, owned */
	double length;       /* m */
	int next;            /* successor lane index, -1: none */
	int prev;            /* predecessor lane index, -1: none */
	int exit;            /* 1: vehicles leave the network at the end */
	int dead_end;        /* 1: the lane ends (a merge); its end is a wall */
	int entry;           /* 1: vehicles enter the network at s = 0 */
	int left, right;     /* neighbour lanes (same direction), -1: none */
	double left_off;     /* s on the left lane = s + left_off */
	double right_off;
	double lc_from, lc_to; /* lane changes allowed for s in [from, to] */
	int merge_from;      /* a merge lane that ends beside this one, or -1 */
	int intersection;    /* stop line at the end: intersection id, or -1 */
	int signal_group;    /* its signal group, or -1 */
	int sig;             /* index of the signal controller, or -1 */
	/* closure (congestion incident): no travel for s in [from, to) */
	double closed_from, closed_to;
	/* dynamic: vehicle indices on this lane, ascending s */
	int *veh;
	int nveh, capveh;
};

/* A walk graph node: a sidewalk corner or end. */
struct sim_wnode {
	struct sim_pt p;
	int nedge;
	int edge[6];
};

/* A walk graph edge: a stretch of sidewalk or a crosswalk. */
struct sim_wedge {
	int a, b;            /* node indices */
	double length;
	int crosswalk;       /* 1: a crosswalk (signal controlled) */
	int crosswalk_id;
	int sig;             /* signal controller index or -1 */
	int signal_group;    /* pedestrian signal group or -1 */
	int lane;            /* sidewalk lane index in the road, or -1 */
	double width;
};

struct sim_road {
	struct sim_lane *lane;
	int nlane, caplane;
	struct sim_wnode *wnode;
	int nwnode, capwnode;
	struct sim_wedge *wedge;
	int nwedge, capwedge;
	int next_lane_id;
	int next_segment_id;
	int next_crosswalk_id;
};

void sim_road_init(struct sim_road *r);
void sim_road_fini(struct sim_road *r);

/*
 * sim_road_add_lane() - append a lane with a copy of the npts points (>= 2).
 * Returns the new lane's index, or -ENOMEM.  Links are -1; the caller sets
 * them.  The lane id is taken from r->next_lane_id.
 */
int sim_road_add_lane(struct sim_road *r, const struct sim_pt *pts, int npts,
		      int segment, int type, double width, double speed_limit);

/* sim_road_add_wnode() - a walk node; returns its index or -ENOMEM. */
int sim_road_add_wnode(struct sim_road *r, double x, double y);

/*
 * sim_road_add_wedge() - a walk edge between nodes a and b; returns its
 * index, -ENOMEM, or -ENOSPC when a node has no room for another edge.
 */
int sim_road_add_wedge(struct sim_road *r, int a, int b, int crosswalk, int sig,
		       int signal_group, int lane, double width);

/*
 * sim_lane_point() - the point at distance s along lane l, offset d metres
 * to the left of travel, and the heading (radians, clockwise from north).
 * hint is a cached segment index (in/out, may be NULL).
 */
void sim_lane_point(const struct sim_lane *l, double s, double d,
		    double *x, double *y, double *heading, int *hint);

/*
 * sim_polyline_offset() - the polyline in[0..n) shifted d metres to the
 * left (d < 0: right), using the bisector at inner points.  out has n
 * points.
 */
void sim_polyline_offset(const struct sim_pt *in, int n, double d,
			 struct sim_pt *out);

#endif
