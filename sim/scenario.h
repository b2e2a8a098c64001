/* SPDX-License-Identifier: MIT */
/*
 * sim/scenario.h - the built-in scenarios (highway, intersection, grid).
 * The builders live in scenario.c and are reached through
 * sim__scenario_build() (sim.h); this header only names their geometry.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#define SIM_HW_LANE_WIDTH 3.75
#define SIM_HW_MEDIAN 3.0
#define SIM_HW_SECTION 1000.0
#define SIM_HW_MAX_LENGTH 2000000.0 /* 2,000 km */
#define SIM_URBAN_LANE_WIDTH 3.5
#define SIM_URBAN_MAX_APPROACH 20000.0
#define SIM_GRID_MAX 60             /* intersections per side */

#endif
