/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - the HTTP endpoint (libmicrohttpd; the only file touching it):
 *   /metrics    Prometheus text format (contract names, see docs/broker.md)
 *   /healthz    200 + JSON status
 *   /api/stats  the counters as JSON
 *   /           a dashboard page polling /api/stats
 * Counters are read with relaxed atomic loads on libmicrohttpd's thread;
 * nothing here writes them.
 */
#ifndef V2X_BROKER_METRICS_H
#define V2X_BROKER_METRICS_H

#include <stddef.h>

#include "config.h"
#include "counters.h"

struct metrics;

/*
 * metrics_new() - serve on cfg->metrics (port 0: returns NULL with err
 * empty - metrics off).  cnt is borrowed and must outlive the server.
 * Returns NULL with err filled on failure.  Main thread.
 */
struct metrics *metrics_new(const struct broker_config *cfg,
			    const struct broker_counters *cnt, char *err,
			    size_t errlen);

/* metrics_free() - stop serving; NULL is a no-op.  Main thread. */
void metrics_free(struct metrics *m);

/*
 * metrics_render_prometheus() / metrics_render_json() - the documents,
 * into buf.  Return the length, or V2X_E_NOSPACE.  Any thread.
 */
int metrics_render_prometheus(const struct broker_counters *cnt, char *buf,
			      size_t cap);
int metrics_render_json(const struct broker_counters *cnt, char *buf, size_t cap);

#endif
