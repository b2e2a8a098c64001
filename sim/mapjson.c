/* SPDX-License-Identifier: MIT */
/*
 * sim/mapjson.c - the road map as GeoJSON (format: docs/simulator.md and
 * docs/roadmap.md): lanes, stop lines, crosswalks, sensors.
 */
#include <errno.h>
#include <math.h>

#include "sim.h"

static void map__pt(const struct sim_world *w, FILE *f, double x, double y)
{
	double lat, lon;

	sim_geo_to_ll(&w->geo, x, y, &lat, &lon);
	fprintf(f, "[%.7f,%.7f]", lon, lat);
}

/*
 * sim_map_write() - see sim.h.
 */
int sim_map_write(const struct sim_world *w, FILE *f)
{
	const struct sim_road *r = &w->road;
	int first = 1;

	fprintf(f, "{\"type\":\"FeatureCollection\",\"reference\":{\"lat\":%.7f,\"lon\":%.7f},"
		   "\"generator\":\"v2x-sim %s\",\"features\":[\n",
		w->cfg.ref_lat, w->cfg.ref_lon, sim_scenario_name(w->cfg.scenario));
	for (int i = 0; i < r->nlane; i++) {
		const struct sim_lane *l = &r->lane[i];
		static const char *const types[] = { "vehicle", "bike", "sidewalk" };

		fprintf(f, "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
			   "\"coordinates\":[", first ? "" : ",\n");
		first = 0;
		for (int p = 0; p < l->npts; p++) {
			if (p)
				fputc(',', f);
			map__pt(w, f, l->pts[p].x, l->pts[p].y);
		}
		fprintf(f, "]},\"properties\":{\"kind\":\"lane\",\"lane_id\":%d,"
			   "\"segment_id\":%d,\"direction\":\"%s\",\"speed_limit_kph\":%.1f,"
			   "\"width_m\":%.2f,\"lane_type\":\"%s\",\"lane_index\":%d",
			l->id, l->segment, "forward",
			l->speed_limit * 3.6, l->width, types[l->type], l->index);
		if (l->connector)
			fputs(",\"connector\":true", f);
		if (l->next >= 0)
			fprintf(f, ",\"next_lane_id\":%d", r->lane[l->next].id);
		if (l->left >= 0)
			fprintf(f, ",\"left_lane_id\":%d", r->lane[l->left].id);
		if (l->right >= 0)
			fprintf(f, ",\"right_lane_id\":%d", r->lane[l->right].id);
		if (l->sig >= 0)
			fprintf(f, ",\"intersection_id\":%d,\"signal_group\":%d",
				l->intersection, l->signal_group);
		fputs("}}", f);
		if (l->sig >= 0) {
			/* The stop line, across the lane at its end. */
			double x, y, h, x2, y2;

			sim_lane_point(l, l->length, l->width / 2, &x, &y, &h, NULL);
			sim_lane_point(l, l->length, -l->width / 2, &x2, &y2, &h, NULL);
			fputs(",\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
			      "\"coordinates\":[", f);
			map__pt(w, f, x, y);
			fputc(',', f);
			map__pt(w, f, x2, y2);
			fprintf(f, "]},\"properties\":{\"kind\":\"stop_line\",\"lane_id\":%d,"
				   "\"intersection_id\":%d,\"signal_group\":%d}}",
				l->id, l->intersection, l->signal_group);
		}
	}
	for (int i = 0; i < r->nwedge; i++) {
		const struct sim_wedge *e = &r->wedge[i];
		const struct sim_pt *a = &r->wnode[e->a].p, *b = &r->wnode[e->b].p;
		double dx, dy, len, nx, ny, hw = e->width / 2;

		if (!e->crosswalk)
			continue;
		dx = b->x - a->x;
		dy = b->y - a->y;
		len = hypot(dx, dy);
		if (len <= 0)
			continue;
		nx = -dy / len * hw;
		ny = dx / len * hw;
		fputs(",\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\","
		      "\"coordinates\":[[", f);
		map__pt(w, f, a->x + nx, a->y + ny);
		fputc(',', f);
		map__pt(w, f, b->x + nx, b->y + ny);
		fputc(',', f);
		map__pt(w, f, b->x - nx, b->y - ny);
		fputc(',', f);
		map__pt(w, f, a->x - nx, a->y - ny);
		fputc(',', f);
		map__pt(w, f, a->x + nx, a->y + ny);
		fprintf(f, "]]},\"properties\":{\"kind\":\"crosswalk\",\"crosswalk_id\":%d",
			e->crosswalk_id);
		if (e->sig >= 0)
			fprintf(f, ",\"intersection_id\":%d,\"signal_group\":%d",
				w->sig[e->sig].intersection_id, e->signal_group);
		fputs("}}", f);
	}
	for (int i = 0; i < w->nsensor; i++) {
		const struct sim_sensor *s = &w->sensor[i];

		fputs(",\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
		      "\"coordinates\":", f);
		map__pt(w, f, s->x, s->y);
		fprintf(f, "},\"properties\":{\"kind\":\"sensor\",\"sensor_id\":%u,"
			   "\"range_m\":%.1f,\"fov_deg\":%.1f,\"heading_deg\":%.1f,"
			   "\"rate_hz\":%.1f}}",
			s->id, s->range, s->half_fov * 360.0 / M_PI,
			s->heading * 180.0 / M_PI, s->spec.rate_hz > 0 ? s->spec.rate_hz : 10);
	}
	fputs("\n]}\n", f);
	return ferror(f) ? -EIO : 0;
}
