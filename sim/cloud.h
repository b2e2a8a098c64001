/* SPDX-License-Identifier: MIT */
/*
 * cloud.h - the simulator as the traffic management centre: the lane
 * closures of injected congestion incidents are announced over MQTT as
 * lane_closure advisories (docs/wire.md) on
 * <prefix>/advisory/lane_closure/<id> (QoS 1) when the closure starts, and
 * cleared when it ends - when a real TMC would know.
 *
 * Uses the synchronous Eclipse Paho C client; each announcement connects,
 * publishes and disconnects (a few per run: a kept-alive connection would
 * need servicing between them).  Part of the v2x-sim program only.
 */
#ifndef V2X_SIM_CLOUD_H
#define V2X_SIM_CLOUD_H

#include <stddef.h>
#include <stdint.h>

struct sim_world;
struct sim_incident;
struct sim_cloud;

/*
 * sim_cloud_new() - announce to the MQTT broker at @uri under @prefix
 * ("v2x/<rsu-id>").  Connects once to check the broker is there.  Returns
 * NULL with @err filled on failure.
 */
struct sim_cloud *sim_cloud_new(const char *uri, const char *prefix, char *err,
				size_t errlen);

/*
 * sim_cloud_poll() - after a step: announce the closures that started and
 * clear those that ended since the last call.  Failures are counted and
 * reported on stderr once each.
 */
void sim_cloud_poll(struct sim_cloud *c, const struct sim_world *w);

/* sim_cloud_finish() - at the end of the run: clear what is still announced. */
void sim_cloud_finish(struct sim_cloud *c, const struct sim_world *w);

/* Counters: advisories published, publications that failed. */
void sim_cloud_stats(const struct sim_cloud *c, uint64_t *published,
		     uint64_t *failed);

/* sim_cloud_free() - NULL is a no-op. */
void sim_cloud_free(struct sim_cloud *c);

/*
 * sim_cloud_closure_json() - the advisory of @inc's closure (cleared: the
 * clear), id "sim-<seed>-<incident id>", ts @ts_ns.  Returns the length, or
 * -1 if @cap is too small.
 */
int sim_cloud_closure_json(const struct sim_incident *inc, uint64_t seed,
			   int cleared, uint64_t ts_ns, char *buf, size_t cap);

#endif
