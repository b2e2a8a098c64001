/* SPDX-License-Identifier: MIT */
/*
 * sim_sumo_test.c - SUMO network to GeoJSON (UTM and "!" projections,
 * internal edges, sidewalks, errors) and FCD trace reading, on small
 * files written here.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "v2x/error.h"
#include "sim/sumo.h"

#define OFF_X (-240000.0)
#define OFF_Y (-3380000.0)

static FILE *text_file(const char *text)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs(text, f);
	rewind(f);
	return f;
}

/* "x,y" of a lat/lon in network coordinates (UTM 50N plus netOffset). */
static void net_xy(double lat, double lon, char *out, size_t n)
{
	double e, nn;

	sim_utm_forward(50, 0, lat, lon, &e, &nn);
	snprintf(out, n, "%.3f,%.3f", e + OFF_X, nn + OFF_Y);
}

static json_t *convert(const char *xml, int expect)
{
	FILE *in = text_file(xml), *out = tmpfile();
	struct sim_sumo_net_stats st;
	char msg[256] = "";
	json_t *j = NULL;
	long size;
	char *buf;
	int ret;

	assert_non_null(out);
	ret = sim_sumo_net_to_geojson(in, out, 30.5928, 114.3055, &st, msg, sizeof(msg));
	assert_int_equal(ret, expect);
	if (ret == 0) {
		json_error_t je;

		size = ftell(out);
		buf = malloc((size_t)size + 1);
		assert_non_null(buf);
		rewind(out);
		assert_int_equal(fread(buf, 1, (size_t)size, out), (size_t)size);
		buf[size] = 0;
		j = json_loads(buf, 0, &je);
		if (!j)
			fail_msg("GeoJSON does not parse: %s\n%s", je.text, buf);
		free(buf);
	} else {
		assert_true(msg[0] != 0);
	}
	fclose(in);
	fclose(out);
	return j;
}

static void test_net_utm(void **state)
{
	char a[64], b[64], c[64], xml[4096];
	json_t *j, *feats, *f0, *coords, *props;

	(void)state;
	net_xy(30.5900, 114.3000, a, sizeof(a));
	net_xy(30.5950, 114.3100, b, sizeof(b));
	net_xy(30.6000, 114.3200, c, sizeof(c));
	snprintf(xml, sizeof(xml),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<net version=\"1.16\">\n"
		 "  <location netOffset=\"%.2f,%.2f\" convBoundary=\"0,0,2000,2000\" "
		 "origBoundary=\"114.2,30.5,114.4,30.7\" projParameter=\"+proj=utm +zone=50 "
		 "+ellps=WGS84 +datum=WGS84 +units=m +no_defs\"/>\n"
		 "  <edge id=\":J1_0\" function=\"internal\">\n"
		 "    <lane id=\":J1_0_0\" index=\"0\" speed=\"8.00\" length=\"5.00\" shape=\"%s %s\"/>\n"
		 "  </edge>\n"
		 "  <edge id=\"E1\" from=\"J0\" to=\"J1\" priority=\"1\">\n"
		 "    <lane id=\"E1_0\" index=\"0\" allow=\"pedestrian\" speed=\"2.78\" length=\"1000\" width=\"2.00\" shape=\"%s %s\"/>\n"
		 "    <lane id=\"E1_1\" index=\"1\" speed=\"13.89\" length=\"1000\" shape=\"%s %s %s\"/>\n"
		 "    <lane id=\"E1_2\" index=\"2\" speed=\"13.89\" length=\"1000\" width=\"3.50\" shape=\"%s,0.00 %s,0.00\"/>\n"
		 "  </edge>\n"
		 "  <edge id=\"E2\" from=\"J1\" to=\"J2\">\n"
		 "    <lane id=\"E2_0\" index=\"0\" speed=\"27.78\" length=\"500\" shape=\"%s %s\"/>\n"
		 "  </edge>\n"
		 "</net>\n",
		 OFF_X, OFF_Y, a, b, a, b, a, b, c, a, b, b, c);
	j = convert(xml, 0);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "FeatureCollection");
	assert_non_null(json_object_get(j, "reference"));
	feats = json_object_get(j, "features");
	assert_int_equal(json_array_size(feats), 4); /* internal edge skipped */
	f0 = json_array_get(feats, 1);
	props = json_object_get(f0, "properties");
	assert_string_equal(json_string_value(json_object_get(props, "kind")), "lane");
	assert_int_equal(json_integer_value(json_object_get(props, "lane_id")), 2);
	assert_int_equal(json_integer_value(json_object_get(props, "segment_id")), 1);
	assert_string_equal(json_string_value(json_object_get(props, "direction")), "forward");
	assert_true(fabs(json_real_value(json_object_get(props, "speed_limit_kph")) - 50.0) < 0.1);
	assert_true(fabs(json_real_value(json_object_get(props, "width_m")) - 3.2) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(props, "sumo_id")), "E1_1");
	coords = json_object_get(json_object_get(f0, "geometry"), "coordinates");
	assert_int_equal(json_array_size(coords), 3);
	/* Back to the very lat/lon the shape was made from (< 1 cm). */
	assert_true(fabs(json_real_value(json_array_get(json_array_get(coords, 0), 0)) - 114.3) < 1e-7);
	assert_true(fabs(json_real_value(json_array_get(json_array_get(coords, 0), 1)) - 30.59) < 1e-7);
	assert_true(fabs(json_real_value(json_array_get(json_array_get(coords, 2), 0)) - 114.32) < 1e-7);
	assert_true(fabs(json_real_value(json_array_get(json_array_get(coords, 2), 1)) - 30.60) < 1e-7);
	/* The sidewalk and a 3D shape (z ignored). */
	props = json_object_get(json_array_get(feats, 0), "properties");
	assert_string_equal(json_string_value(json_object_get(props, "lane_type")), "sidewalk");
	coords = json_object_get(json_object_get(json_array_get(feats, 2), "geometry"),
				 "coordinates");
	assert_int_equal(json_array_size(coords), 2);
	assert_true(fabs(json_real_value(json_array_get(json_array_get(coords, 1), 1)) - 30.595) < 1e-7);
	props = json_object_get(json_array_get(feats, 3), "properties");
	assert_int_equal(json_integer_value(json_object_get(props, "segment_id")), 2);
	json_decref(j);
}

static void test_net_local(void **state)
{
	json_t *j, *c;

	(void)state;
	j = convert("<net><location netOffset=\"10.00,20.00\" convBoundary=\"0,0,100,100\" "
		    "projParameter=\"!\"/><edge id=\"a\"><lane id=\"a_0\" index=\"0\" "
		    "speed=\"10\" shape=\"10.00,20.00 110.00,20.00\"/></edge></net>", 0);
	c = json_object_get(json_object_get(json_array_get(json_object_get(j, "features"), 0),
					    "geometry"), "coordinates");
	/* (10,20) minus the offset is the reference itself; +100 m east. */
	assert_true(fabs(json_real_value(json_array_get(json_array_get(c, 0), 0)) - 114.3055) < 1e-9);
	assert_true(fabs(json_real_value(json_array_get(json_array_get(c, 0), 1)) - 30.5928) < 1e-9);
	assert_true(fabs((json_real_value(json_array_get(json_array_get(c, 1), 0)) - 114.3055) *
			 95950.0 - 100.0) < 0.1);
	json_decref(j);
}

static void test_net_errors(void **state)
{
	(void)state;
	convert("<net><location projParameter=\"+proj=merc +lon_0=0\"/></net>", -EINVAL);
	convert("<net><edge id=\"a\"><lane id=\"x\" shape=\"1,2 3,4\"></edge></net>",
		V2X_E_SYNTAX);
	convert("", V2X_E_SYNTAX);
	/* Bad values are named with their line, not read as 0. */
	{
		static const char *const bad[][2] = {
			{ "<net>\n<edge id=\"a\"><lane id=\"x\" shape=\"1,2 3\"/></edge></net>",
			  "line 2: <lane> has a bad shape" },
			{ "<net><edge id=\"a\"><lane id=\"x\" shape=\"1,2\"/></edge></net>",
			  "bad shape" },
			{ "<net><edge id=\"a\"><lane id=\"x\" shape=\"1,2 3,4\" speed=\"fast\"/>"
			  "</edge></net>", "bad speed 'fast'" },
			{ "<net><edge id=\"a\"><lane id=\"x\" shape=\"1,2 3,4\" width=\"3m\"/>"
			  "</edge></net>", "bad width '3m'" },
			{ "<net><location netOffset=\"12\"/></net>", "bad netOffset" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			FILE *in = text_file(bad[i][0]), *out = tmpfile();
			struct sim_sumo_net_stats st;
			char msg[256] = "";

			assert_non_null(out);
			assert_int_equal(sim_sumo_net_to_geojson(in, out, 30.5928, 114.3055, &st,
								 msg, sizeof(msg)),
					 V2X_E_SYNTAX);
			if (!strstr(msg, bad[i][1]))
				fail_msg("case %zu: '%s' does not say '%s'", i, msg, bad[i][1]);
			fclose(in);
			fclose(out);
		}
	}
	{
		struct sim_sumo_proj p;

		memset(&p, 0, sizeof(p));
		assert_int_equal(sim_sumo_parse_proj("+proj=utm +zone=51 +south +ellps=WGS84", &p), 0);
		assert_int_equal(p.zone, 51);
		assert_int_equal(p.south, 1);
		assert_int_equal(sim_sumo_parse_proj("+proj=utm +zone=61", &p), -EINVAL);
	}
}

struct fcd_rec {
	double t;
	struct v2x_bsm b;
};

struct fcd_cap {
	struct fcd_rec rec[64];
	int n, stop_after;
};

static int on_rec(void *ctx, double t, const struct v2x_bsm *b)
{
	struct fcd_cap *c = ctx;

	assert_true(c->n < 64);
	c->rec[c->n].t = t;
	c->rec[c->n].b = *b;
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static const char *fcd_geo =
	"<?xml version=\"1.0\"?>\n<fcd-export xmlns:xsi=\"x\">\n"
	"  <timestep time=\"0.00\">\n"
	"    <vehicle id=\"veh0\" x=\"114.305500\" y=\"30.592800\" angle=\"90.00\" type=\"DEFAULT_VEHTYPE\" speed=\"20.00\" pos=\"5.1\" lane=\"E1_1\" slope=\"0.00\"/>\n"
	"    <vehicle id=\"bus7\" x=\"114.306000\" y=\"30.593000\" angle=\"359.90\" type=\"bus\" speed=\"10.00\" pos=\"5.1\" lane=\"E1_0\" slope=\"0.00\"/>\n"
	"  </timestep>\n"
	"  <timestep time=\"1.00\">\n"
	"    <vehicle id=\"veh0\" x=\"114.305700\" y=\"30.592800\" angle=\"90.00\" type=\"DEFAULT_VEHTYPE\" speed=\"10.00\" pos=\"25\" lane=\"E1_1\" slope=\"0.00\"/>\n"
	"    <vehicle id=\"bus7\" x=\"114.306000\" y=\"30.593090\" angle=\"0.50\" type=\"bus\" speed=\"10.50\" pos=\"15\" lane=\"E1_0\" slope=\"0.00\"/>\n"
	"    <person id=\"p0\" x=\"114.3\" y=\"30.5\" angle=\"0\" speed=\"1\"/>\n"
	"  </timestep>\n"
	"  <timestep time=\"2.00\">\n"
	"    <vehicle id=\"veh0\" x=\"114.305800\" y=\"30.592800\" angle=\"90.00\" type=\"DEFAULT_VEHTYPE\" speed=\"9.50\" pos=\"35\" lane=\"E1_1\" slope=\"0.00\"/>\n"
	"  </timestep>\n"
	"</fcd-export>\n";

static void test_fcd_geo(void **state)
{
	FILE *f = text_file(fcd_geo);
	struct fcd_cap c;
	struct sim_fcd_stats st;
	char msg[128] = "";
	uint64_t t0 = 1767225600ull * 1000000000ull;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(sim_fcd_read(f, NULL, t0, on_rec, &c, &st, msg, sizeof(msg)), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(st.timesteps, 3);
	assert_int_equal(st.records, 5);
	assert_int_equal(st.vehicles, 2);
	assert_true(st.last_time == 2.0);
	/* veh0 at t=0 */
	assert_int_equal(c.rec[0].b.lat, 305928000);
	assert_int_equal(c.rec[0].b.lon, 1143055000);
	assert_int_equal(c.rec[0].b.speed, 1000);
	assert_int_equal(c.rec[0].b.heading, 7200);
	assert_int_equal(c.rec[0].b.ts_ns, t0);
	assert_int_equal(c.rec[0].b.sec_mark, 0);
	assert_int_equal(c.rec[0].b.length_cm, 500);
	/* The bus by its type, heading near north. */
	assert_int_equal(c.rec[1].b.length_cm, 1200);
	assert_int_equal(c.rec[1].b.heading, 28792);
	/* veh0 at t=1: 20 -> 10 m/s in 1 s is hard braking. */
	assert_int_equal(c.rec[2].b.ts_ns, t0 + 1000000000ull);
	assert_int_equal(c.rec[2].b.sec_mark, 1000);
	assert_int_equal(c.rec[2].b.accel_long, -1000);
	assert_int_equal(c.rec[2].b.has_events, 1);
	assert_true(c.rec[2].b.events & V2X_EVENT_FLAG_HARD_BRAKING);
	assert_int_equal(c.rec[2].b.id, c.rec[0].b.id);
	assert_int_equal(c.rec[2].b.msg_cnt, (c.rec[0].b.msg_cnt + 1) & 127);
	assert_true(c.rec[1].b.id != c.rec[0].b.id);
	/* The bus turned through north: +1.0 deg/s, not -359. */
	assert_int_equal(c.rec[3].b.yaw_rate, 60);
	assert_int_equal(c.rec[4].b.has_events, 0);
	assert_int_equal(c.rec[4].b.accel_long, -50);
	fclose(f);
	/* The callback can stop the stream. */
	f = text_file(fcd_geo);
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(sim_fcd_read(f, NULL, t0, on_rec, &c, &st, msg, sizeof(msg)), 0);
	assert_int_equal(c.n, 2);
	fclose(f);
}

static void test_fcd_metres_and_errors(void **state)
{
	struct sim_sumo_proj p;
	struct fcd_cap c;
	struct sim_fcd_stats st;
	char msg[128] = "", xml[1024], xy[64];
	FILE *f;
	double e, n;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(sim_sumo_parse_proj("+proj=utm +zone=50 +ellps=WGS84", &p), 0);
	p.off_x = OFF_X;
	p.off_y = OFF_Y;
	sim_utm_forward(50, 0, 30.6, 114.31, &e, &n);
	snprintf(xy, sizeof(xy), "x=\"%.3f\" y=\"%.3f\"", e + OFF_X, n + OFF_Y);
	snprintf(xml, sizeof(xml), "<fcd-export><timestep time=\"3\"><vehicle id=\"a\" %s "
		 "angle=\"10\" speed=\"1\"/></timestep><timestep time=\"3.5\"><vehicle "
		 "id=\"a\" %s angle=\"10\" speed=\"1\"/></timestep></fcd-export>", xy, xy);
	f = text_file(xml);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sim_fcd_read(f, &p, 1000, on_rec, &c, &st, msg, sizeof(msg)), 0);
	assert_int_equal(c.n, 2);
	/* A trace that starts at 3 s starts at start_ns. */
	assert_int_equal(c.rec[0].b.ts_ns, 1000);
	assert_int_equal(c.rec[1].b.ts_ns, 1000 + 500000000ull);
	assert_true(abs(c.rec[0].b.lat - 306000000) <= 1);
	assert_true(abs(c.rec[0].b.lon - 1143100000) <= 1);
	fclose(f);
	f = text_file("<fcd-export><timestep time=\"0\"><vehicle id=\"a\" x=\"1\" y=\"2\">"
		      "</timestep>");
	memset(&c, 0, sizeof(c));
	assert_int_equal(sim_fcd_read(f, NULL, 0, on_rec, &c, &st, msg, sizeof(msg)),
			 V2X_E_SYNTAX);
	assert_non_null(strstr(msg, "line"));
	fclose(f);
	/* Bad values are named with their line, not read as 0. */
	{
		static const char *const bad[][2] = {
			{ "<fcd-export>\n<timestep time=\"abc\"/></fcd-export>",
			  "line 2: <timestep> has a bad time 'abc'" },
			{ "<fcd-export><timestep/></fcd-export>", "<timestep> has no time" },
			{ "<fcd-export><timestep time=\"0\"><vehicle id=\"a\" x=\"1\" "
			  "y=\"2\" speed=\"fast\"/></timestep></fcd-export>",
			  "bad speed 'fast'" },
			{ "<fcd-export><timestep time=\"0\"><vehicle id=\"a\" x=\"1\" "
			  "y=\"2q\"/></timestep></fcd-export>", "bad y '2q'" },
			{ "<fcd-export><timestep time=\"0\"><vehicle id=\"a\" y=\"2\"/>"
			  "</timestep></fcd-export>", "<vehicle> has no x" },
			{ "<fcd-export><timestep time=\"0\"><vehicle id=\"a\" x=\"1\" "
			  "y=\"2\" angle=\"nan\"/></timestep></fcd-export>", "bad angle" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			f = text_file(bad[i][0]);
			memset(&c, 0, sizeof(c));
			msg[0] = 0;
			assert_int_equal(sim_fcd_read(f, NULL, 0, on_rec, &c, &st, msg,
						      sizeof(msg)),
					 V2X_E_SYNTAX);
			assert_int_equal(c.n, 0);
			if (!strstr(msg, bad[i][1]))
				fail_msg("case %zu: '%s' does not say '%s'", i, msg, bad[i][1]);
			fclose(f);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_utm),
		cmocka_unit_test(test_net_local),
		cmocka_unit_test(test_net_errors),
		cmocka_unit_test(test_fcd_geo),
		cmocka_unit_test(test_fcd_metres_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
