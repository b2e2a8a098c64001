/* SPDX-License-Identifier: MIT */
/* metrics.c - Prometheus /metrics, /healthz, /api/stats, dashboard. */
#include "metrics.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "v2x/error.h"
#include "v2x/msg.h"

#define METRICS_BUF (256 * 1024)

struct metrics {
	struct MHD_Daemon *d;
	const struct broker_counters *cnt;
};

struct out {
	char *p;
	size_t len, cap;
	int overflow;
};

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	o->len += (size_t)n;
}

static int out_finish(const struct out *o)
{
	return o->overflow ? V2X_E_NOSPACE : (int)o->len;
}

static unsigned long long ld(const counter_t *c)
{
	return (unsigned long long)counter_get(c);
}

/* See metrics.h. */
int metrics_render_prometheus(const struct broker_counters *c, char *buf, size_t cap)
{
	struct out o = { buf, 0, cap, 0 };
	unsigned long long acc = 0;

	out_printf(&o, "# HELP v2x_rx_datagrams_total Datagrams received, valid or not.\n"
		       "# TYPE v2x_rx_datagrams_total counter\n");
	for (int i = 0; i < c->n_listeners; i++)
		out_printf(&o, "v2x_rx_datagrams_total{listener=\"%s\"} %llu\n",
			   c->listeners[i].label, ld(&c->listeners[i].received));
	out_printf(&o, "# HELP v2x_rx_socket_dropped_total Datagrams the kernel dropped "
		       "before the broker saw them (socket receive buffer full).\n"
		       "# TYPE v2x_rx_socket_dropped_total counter\n");
	for (int i = 0; i < c->n_listeners; i++)
		out_printf(&o, "v2x_rx_socket_dropped_total{listener=\"%s\"} %llu\n",
			   c->listeners[i].label, ld(&c->listeners[i].socket_dropped));
	out_printf(&o, "# HELP v2x_rx_decoded_total Datagrams decoded and accepted.\n"
		       "# TYPE v2x_rx_decoded_total counter\n");
	for (int i = 0; i < c->n_listeners; i++)
		out_printf(&o, "v2x_rx_decoded_total{listener=\"%s\"} %llu\n",
			   c->listeners[i].label, ld(&c->listeners[i].decoded));
	out_printf(&o, "# HELP v2x_rx_rejected_total Datagrams rejected, by reason.\n"
		       "# TYPE v2x_rx_rejected_total counter\n");
	for (int i = 0; i < c->n_listeners; i++)
		for (int k = 0; k < REJECT_REASONS; k++)
			out_printf(&o, "v2x_rx_rejected_total{listener=\"%s\",reason=\"%s\"} %llu\n",
				   c->listeners[i].label, counters_reason_name(k),
				   ld(&c->listeners[i].rejected[k]));
	out_printf(&o, "# HELP v2x_stage_dropped_total Messages dropped by a stage.\n"
		       "# TYPE v2x_stage_dropped_total counter\n");
	for (int s = 0; s < STAGE_COUNT; s++) {
		unsigned long long v = ld(&c->stage_dropped[s]);

		/* The ingest ring's drops are counted per listener too. */
		out_printf(&o, "v2x_stage_dropped_total{stage=\"%s\"} %llu\n",
			   counters_stage_name(s), v);
	}
	out_printf(&o, "# HELP v2x_thread_cpu_seconds_total CPU time of the broker's stage "
		       "threads (ingest, fusion, publish), or of the one pipeline thread "
		       "that runs them all; updated every 100 ms.\n"
		       "# TYPE v2x_thread_cpu_seconds_total counter\n");
	for (int t = 0; t < THREAD_COUNT; t++) {
		uint64_t ns = ld(&c->thread_cpu_ns[t]);

		if (ns)
			out_printf(&o, "v2x_thread_cpu_seconds_total{thread=\"%s\"} %.6f\n",
				   counters_thread_name(t), (double)ns / 1e9);
	}
	out_printf(&o, "# HELP v2x_tracks_active Road users tracked now.\n"
		       "# TYPE v2x_tracks_active gauge\n"
		       "v2x_tracks_active %llu\n", ld(&c->tracks_active));
	out_printf(&o, "# HELP v2x_tracks_created_total Tracks created.\n"
		       "# TYPE v2x_tracks_created_total counter\n"
		       "v2x_tracks_created_total %llu\n", ld(&c->tracks_created));
	out_printf(&o, "# HELP v2x_sensor_reacquired_total Sensor objects reported under a "
		       "new id that kept the track of the road user they were.\n"
		       "# TYPE v2x_sensor_reacquired_total counter\n"
		       "v2x_sensor_reacquired_total %llu\n", ld(&c->sensor_reacquired));
	out_printf(&o, "# HELP v2x_events_total Event transitions published, by type.\n"
		       "# TYPE v2x_events_total counter\n");
	for (int t = 0; t < V2X_EVT_TYPE_COUNT; t++)
		out_printf(&o, "v2x_events_total{type=\"%s\"} %llu\n",
			   v2x_event_type_name(t), ld(&c->events_total[t]));
	out_printf(&o, "# HELP v2x_tx_messages_total Messages sent, by sink.\n"
		       "# TYPE v2x_tx_messages_total counter\n");
	for (int s = 0; s < SINK_COUNT; s++)
		out_printf(&o, "v2x_tx_messages_total{sink=\"%s\"} %llu\n",
			   counters_sink_name(s), ld(&c->tx[s]));
	out_printf(&o, "# HELP v2x_mqtt_connected 1 when connected to the MQTT server.\n"
		       "# TYPE v2x_mqtt_connected gauge\n"
		       "v2x_mqtt_connected %llu\n", ld(&c->mqtt_connected));
	out_printf(&o, "# HELP v2x_mqtt_buffered Events not yet acknowledged by MQTT.\n"
		       "# TYPE v2x_mqtt_buffered gauge\n"
		       "v2x_mqtt_buffered %llu\n", ld(&c->mqtt_buffered));
	out_printf(&o, "# HELP v2x_advisories_total Advisories received from the cloud.\n"
		       "# TYPE v2x_advisories_total counter\n"
		       "v2x_advisories_total %llu\n", ld(&c->advisories));
	out_printf(&o, "# HELP v2x_ingest_io_uring 1 when ingest uses io_uring, 0 recvmmsg.\n"
		       "# TYPE v2x_ingest_io_uring gauge\n"
		       "v2x_ingest_io_uring %llu\n", ld(&c->ingest_io_uring));
	out_printf(&o, "# HELP v2x_ingest_batches_total Waits of the ingest stage that returned "
		       "(datagrams per batch = v2x_rx_decoded_total / this).\n"
		       "# TYPE v2x_ingest_batches_total counter\n"
		       "v2x_ingest_batches_total %llu\n", ld(&c->ingest_batches));
	out_printf(&o, "# HELP v2x_ingest_nobufs_total io_uring provided buffers ran out.\n"
		       "# TYPE v2x_ingest_nobufs_total counter\n"
		       "v2x_ingest_nobufs_total %llu\n", ld(&c->ingest_nobufs));
	out_printf(&o, "# HELP v2x_pipeline_latency_seconds Receive to published.\n"
		       "# TYPE v2x_pipeline_latency_seconds histogram\n");
	for (int i = 0; i < LATENCY_BUCKETS; i++) {
		acc += ld(&c->latency.bucket[i]);
		out_printf(&o, "v2x_pipeline_latency_seconds_bucket{le=\"%g\"} %llu\n",
			   (double)latency_bounds_ns[i] * 1e-9, acc);
	}
	acc += ld(&c->latency.bucket[LATENCY_BUCKETS]);
	out_printf(&o, "v2x_pipeline_latency_seconds_bucket{le=\"+Inf\"} %llu\n", acc);
	out_printf(&o, "v2x_pipeline_latency_seconds_sum %.9f\n",
		   (double)ld(&c->latency.sum_ns) * 1e-9);
	out_printf(&o, "v2x_pipeline_latency_seconds_count %llu\n", acc);
	return out_finish(&o);
}

/* See metrics.h. */
int metrics_render_json(const struct broker_counters *c, char *buf, size_t cap)
{
	struct out o = { buf, 0, cap, 0 };
	struct timespec ts;
	double now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	out_printf(&o, "{\"time\":%.3f,\"uptime_s\":%.1f,\"ingest\":\"%s\",\"listeners\":[",
		   now, now - (double)c->start_realtime_ns * 1e-9,
		   ld(&c->ingest_io_uring) ? "io_uring" : "recvmmsg");
	for (int i = 0; i < c->n_listeners; i++) {
		const struct listener_counters *l = &c->listeners[i];
		int first = 1;

		out_printf(&o, "%s{\"name\":\"%s\",\"received\":%llu,\"decoded\":%llu,"
			   "\"dropped\":%llu,\"socket_dropped\":%llu,\"rejected\":{",
			   i ? "," : "", l->label, ld(&l->received), ld(&l->decoded),
			   ld(&l->dropped), ld(&l->socket_dropped));
		for (int k = 0; k < REJECT_REASONS; k++) {
			if (!ld(&l->rejected[k]))
				continue;
			out_printf(&o, "%s\"%s\":%llu", first ? "" : ",",
				   counters_reason_name(k), ld(&l->rejected[k]));
			first = 0;
		}
		out_printf(&o, "}}");
	}
	out_printf(&o, "],\"stage_dropped\":{");
	for (int s = 0; s < STAGE_COUNT; s++)
		out_printf(&o, "%s\"%s\":%llu", s ? "," : "", counters_stage_name(s),
			   ld(&c->stage_dropped[s]));
	out_printf(&o, "},\"thread_cpu_s\":{");
	for (int t = 0, first = 1; t < THREAD_COUNT; t++) {
		uint64_t ns = ld(&c->thread_cpu_ns[t]);

		if (!ns)
			continue;
		out_printf(&o, "%s\"%s\":%.6f", first ? "" : ",", counters_thread_name(t),
			   (double)ns / 1e9);
		first = 0;
	}
	out_printf(&o, "},\"tracks_active\":%llu,\"events\":{", ld(&c->tracks_active));
	for (int t = 0; t < V2X_EVT_TYPE_COUNT; t++)
		out_printf(&o, "%s\"%s\":%llu", t ? "," : "", v2x_event_type_name(t),
			   ld(&c->events_total[t]));
	out_printf(&o, "},\"tx\":{");
	for (int s = 0; s < SINK_COUNT; s++)
		out_printf(&o, "%s\"%s\":%llu", s ? "," : "", counters_sink_name(s),
			   ld(&c->tx[s]));
	out_printf(&o, "},\"mqtt\":{\"enabled\":%s,\"connected\":%s,\"buffered\":%llu,"
		   "\"acked\":%llu,\"advisories\":%llu},",
		   ld(&c->mqtt_enabled) ? "true" : "false",
		   ld(&c->mqtt_connected) ? "true" : "false", ld(&c->mqtt_buffered),
		   ld(&c->mqtt_acked), ld(&c->advisories));
	out_printf(&o, "\"latency_us\":{\"count\":%llu,\"p50\":%.0f,\"p99\":%.0f,\"mean\":%.1f}}",
		   ld(&c->latency.count),
		   (double)latency_quantile(&c->latency, 0.5) / 1000.0,
		   (double)latency_quantile(&c->latency, 0.99) / 1000.0,
		   ld(&c->latency.count)
			   ? (double)ld(&c->latency.sum_ns) / 1000.0 / (double)ld(&c->latency.count)
			   : 0.0);
	return out_finish(&o);
}

static const char dashboard_html[] =
	"<!doctype html><html><head><meta charset=utf-8><title>v2x-broker</title>"
	"<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
	"td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
	"th{background:#eee}td:first-child{text-align:left}</style></head><body>"
	"<h1>v2x-broker</h1><p id=s>loading...</p><h2>Listeners</h2><table id=l></table>"
	"<h2>Pipeline</h2><table id=p></table><script>"
	"let last=null;"
	"function row(c){return '<tr>'+c.map(x=>'<td>'+x+'</td>').join('')+'</tr>'}"
	"async function poll(){try{const r=await fetch('/api/stats');const j=await r.json();"
	"let rate=l=>last?((l.received-(last.listeners.find(x=>x.name==l.name)||l).received)"
	"/(j.time-last.time)).toFixed(0):'-';"
	"document.getElementById('s').textContent='ingest '+j.ingest+', up '+j.uptime_s+"
	"' s, tracks '+j.tracks_active+', MQTT '+(j.mqtt.enabled?(j.mqtt.connected?"
	"'connected':'DISCONNECTED')+' (buffered '+j.mqtt.buffered+')':'off')+"
	"', latency p50 '+j.latency_us.p50+' us p99 '+j.latency_us.p99+' us';"
	"document.getElementById('l').innerHTML='<tr><th>listener<th>received<th>msg/s"
	"<th>decoded<th>dropped<th>rejected</tr>'+j.listeners.map(l=>row([l.name,l.received,"
	"rate(l),l.decoded,l.dropped,JSON.stringify(l.rejected)])).join('');"
	"document.getElementById('p').innerHTML=row(['stage drops',JSON.stringify(j.stage_dropped)])"
	"+row(['events',JSON.stringify(j.events)])+row(['sent',JSON.stringify(j.tx)]);"
	"last=j}catch(e){document.getElementById('s').textContent='broker unreachable'}}"
	"poll();setInterval(poll,1000);</script></body></html>";

static enum MHD_Result metrics__reply(struct MHD_Connection *conn, unsigned status,
				      const char *type, char *body, size_t len,
				      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(len, body, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result metrics__handler(void *cls, struct MHD_Connection *conn,
					const char *url, const char *method,
					const char *version, const char *upload_data,
					size_t *upload_data_size, void **con_cls)
{
	struct metrics *m = cls;
	char *buf;
	int n;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return metrics__reply(conn, 405, "text/plain", "method not allowed\n", 19,
				      MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/") == 0)
		return metrics__reply(conn, 200, "text/html; charset=utf-8",
				      (char *)dashboard_html, sizeof(dashboard_html) - 1,
				      MHD_RESPMEM_PERSISTENT);
	buf = malloc(METRICS_BUF);
	if (!buf)
		return MHD_NO;
	if (strcmp(url, "/metrics") == 0) {
		n = metrics_render_prometheus(m->cnt, buf, METRICS_BUF);
		if (n >= 0)
			return metrics__reply(conn, 200, "text/plain; version=0.0.4",
					      buf, (size_t)n, MHD_RESPMEM_MUST_FREE);
	} else if (strcmp(url, "/api/stats") == 0) {
		n = metrics_render_json(m->cnt, buf, METRICS_BUF);
		if (n >= 0)
			return metrics__reply(conn, 200, "application/json", buf,
					      (size_t)n, MHD_RESPMEM_MUST_FREE);
	} else if (strcmp(url, "/healthz") == 0) {
		const struct broker_counters *c = m->cnt;
		int mqtt_on = counter_get(&c->mqtt_enabled) != 0;

		n = snprintf(buf, METRICS_BUF,
			     "{\"status\":\"ok\",\"ingest\":\"%s\",\"listeners\":%d,"
			     "\"tracks\":%llu,\"mqtt\":\"%s\"}\n",
			     ld(&c->ingest_io_uring) ? "io_uring" : "recvmmsg",
			     c->n_listeners, ld(&c->tracks_active),
			     !mqtt_on ? "off" : ld(&c->mqtt_connected) ? "connected"
								       : "disconnected");
		return metrics__reply(conn, 200, "application/json", buf, (size_t)n,
				      MHD_RESPMEM_MUST_FREE);
	} else {
		free(buf);
		return metrics__reply(conn, 404, "text/plain", "not found\n", 10,
				      MHD_RESPMEM_PERSISTENT);
	}
	free(buf);
	return metrics__reply(conn, 500, "text/plain", "too large\n", 10,
			      MHD_RESPMEM_PERSISTENT);
}

/* See metrics.h. */
struct metrics *metrics_new(const struct broker_config *cfg,
			    const struct broker_counters *cnt, char *err,
			    size_t errlen)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&cfg->metrics.ss;
	struct metrics *m;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	uint16_t port = ntohs(s4->sin_port); /* same offset in sockaddr_in6 */

	err[0] = '\0';
	if (port == 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cnt = cnt;
	if (cfg->metrics.ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, port, NULL, NULL, metrics__handler, m,
				MHD_OPTION_SOCK_ADDR, &cfg->metrics.ss,
				MHD_OPTION_CONNECTION_LIMIT, 64u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "metrics: cannot listen on %s (in use?)",
			 cfg->metrics.text);
		free(m);
		return NULL;
	}
	return m;
}

/* See metrics.h. */
void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
