/* SPDX-License-Identifier: MIT */
/* sim/signal.c - fixed-time controllers. */
#include <math.h>
#include <string.h>

#include "signal.h"

/*
 * sim_signal_two_phase() - see signal.h.
 */
void sim_signal_two_phase(struct sim_signal *s, int intersection_id, double g,
			  double y, double ar, double offset)
{
	double ped_clear = g > 12 ? 6 : g / 2;

	memset(s, 0, sizeof(*s));
	s->intersection_id = intersection_id;
	s->cycle = 2 * (g + y + ar);
	s->offset = offset;
	s->ngroups = 4;
	s->g[0] = (struct sim_signal_group){ 1, 0, g, y };
	s->g[1] = (struct sim_signal_group){ 2, g + y + ar, g, y };
	s->g[2] = (struct sim_signal_group){ 3, 0, g - ped_clear, ped_clear };
	s->g[3] = (struct sim_signal_group){ 4, g + y + ar, g - ped_clear, ped_clear };
}

/*
 * sim_signal_light() - see signal.h.
 */
int sim_signal_light(const struct sim_signal *s, int group, double t,
		     double *remain)
{
	for (int i = 0; i < s->ngroups; i++) {
		const struct sim_signal_group *sg = &s->g[i];
		double c, rel;

		if (sg->group != group)
			continue;
		c = fmod(t - s->offset, s->cycle);
		if (c < 0)
			c += s->cycle;
		rel = c - sg->start;
		if (rel < 0)
			rel += s->cycle;
		if (rel < sg->green) {
			if (remain)
				*remain = sg->green - rel;
			return SIM_LIGHT_GREEN;
		}
		if (rel < sg->green + sg->yellow) {
			if (remain)
				*remain = sg->green + sg->yellow - rel;
			return SIM_LIGHT_YELLOW;
		}
		if (remain)
			*remain = s->cycle - rel;
		return SIM_LIGHT_RED;
	}
	if (remain)
		*remain = 1e9;
	return SIM_LIGHT_GREEN;
}

static uint32_t signal__minute_of_year(uint64_t sec)
{
	uint64_t days = sec / 86400ull;
	int year = 1970;

	for (;;) {
		int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
		uint64_t len = leap ? 366 : 365;

		if (days < len)
			break;
		days -= len;
		year++;
	}
	return (uint32_t)(days * 1440ull + (sec % 86400ull) / 60ull);
}

/*
 * sim_signal_spat() - see signal.h.  Bumps the revision on every call that
 * sees a state change, as J2735 asks of the SPaT msgCnt.
 */
void sim_signal_spat(struct sim_signal *s, double t, uint64_t wall_ns,
		     struct v2x_spat *out)
{
	uint64_t ms = wall_ns / 1000000ull;
	uint64_t sec = ms / 1000ull;
	uint64_t tenth_in_hour = (ms / 100ull) % 36000ull;
	int changed = 0;

	memset(out, 0, sizeof(*out));
	out->ts_ns = wall_ns;
	out->intersection_id = (uint32_t)s->intersection_id;
	out->status = 0;
	out->moy = signal__minute_of_year(sec);
	out->time_stamp = (uint16_t)(ms % 60000ull);
	for (int i = 0; i < s->ngroups && i < V2X_SPAT_MOVEMENTS_MAX; i++) {
		struct v2x_movement *mv = &out->mv[out->n++];
		double remain;
		int light = sim_signal_light(s, s->g[i].group, t, &remain);
		uint64_t end = tenth_in_hour + (uint64_t)llround(remain * 10.0);

		mv->signal_group = (uint8_t)s->g[i].group;
		mv->state = light == SIM_LIGHT_GREEN ? V2X_PHASE_PROTECTED_GREEN :
			    light == SIM_LIGHT_YELLOW ? V2X_PHASE_PERMISSIVE_CLEARANCE :
							V2X_PHASE_STOP_AND_REMAIN;
		mv->min_end = mv->max_end = mv->likely = (uint16_t)(end % 36000ull);
		/* A change happens when less than one publication period is left. */
		if (remain <= 0.1)
			changed = 1;
	}
	out->revision = s->revision;
	if (changed)
		s->revision = (uint8_t)((s->revision + 1) & 127);
}
