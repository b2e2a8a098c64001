/* SPDX-License-Identifier: MIT */
/* cloud.c - lane closures announced over MQTT (see cloud.h). */
#include "cloud.h"

#include <MQTTClient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "v2x/msg.h"

#define CLOUD_TIMEOUT_MS 2000

/* Per incident: 0 nothing sent, 1 announced, 2 cleared (or never to be). */
struct sim_cloud {
	char *uri, *prefix;
	char client_id[48];
	uint8_t *state;
	int nstate;
	uint64_t published, failed;
	int warned;
};

/*
 * Connect, publish one QoS 1 message (retained if @retain; an empty
 * retained one deletes what the topic kept), disconnect.  0 or a Paho code.
 */
static int cloud__publish(struct sim_cloud *c, const char *topic, const char *payload,
			  int retain)
{
	MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
	MQTTClient_deliveryToken tok;
	MQTTClient cl;
	int rc;

	rc = MQTTClient_create(&cl, c->uri, c->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (rc != MQTTCLIENT_SUCCESS)
		return rc;
	co.keepAliveInterval = 20;
	co.cleansession = 1;
	co.connectTimeout = CLOUD_TIMEOUT_MS / 1000;
	rc = MQTTClient_connect(cl, &co);
	if (rc != MQTTCLIENT_SUCCESS)
		goto out;
	if (payload) {
		rc = MQTTClient_publish(cl, topic, (int)strlen(payload), payload, 1, retain,
					&tok);
		if (rc == MQTTCLIENT_SUCCESS)
			rc = MQTTClient_waitForCompletion(cl, tok, CLOUD_TIMEOUT_MS);
	}
	MQTTClient_disconnect(cl, 500);
out:
	MQTTClient_destroy(&cl);
	return rc;
}

/* See cloud.h. */
struct sim_cloud *sim_cloud_new(const char *uri, const char *prefix, char *err,
				size_t errlen)
{
	struct sim_cloud *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->uri = strdup(uri);
	c->prefix = strdup(prefix);
	snprintf(c->client_id, sizeof(c->client_id), "v2x-sim-tmc-%ld", (long)getpid());
	if (!c->uri || !c->prefix) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = cloud__publish(c, NULL, NULL, 0);
	if (rc != MQTTCLIENT_SUCCESS) {
		snprintf(err, errlen, "mqtt %s: %s", uri, MQTTClient_strerror(rc));
		goto fail;
	}
	return c;
fail:
	sim_cloud_free(c);
	return NULL;
}

/* See cloud.h. */
int sim_cloud_closure_json(const struct sim_incident *inc, uint64_t seed,
			   int cleared, uint64_t ts_ns, char *buf, size_t cap)
{
	size_t n;
	int r;

	r = snprintf(buf, cap, "{\"type\":\"lane_closure\",\"id\":\"sim-%llu-%d\","
		     "\"status\":\"%s\",\"ts\":%.3f,\"lat\":%.7f,\"lon\":%.7f",
		     (unsigned long long)seed, inc->id, cleared ? "cleared" : "active",
		     (double)ts_ns / 1e9, inc->closed_start_lat, inc->closed_start_lon);
	if (r < 0 || (size_t)r >= cap)
		return -1;
	n = (size_t)r;
	if (!cleared) {
		r = snprintf(buf + n, cap - n, ",\"length_m\":%.1f,\"reason\":\"incident\","
			     "\"lanes\":[", inc->closed_to - inc->closed_from);
		if (r < 0 || (size_t)r >= cap - n)
			return -1;
		n += (size_t)r;
		for (int i = 0; i < inc->nclosed; i++) {
			r = snprintf(buf + n, cap - n, "%s%d", i ? "," : "",
				     inc->closed_lane_id[i]);
			if (r < 0 || (size_t)r >= cap - n)
				return -1;
			n += (size_t)r;
		}
		if (n + 1 >= cap)
			return -1;
		buf[n++] = ']';
	}
	if (n + 2 > cap)
		return -1;
	buf[n++] = '}';
	buf[n] = '\0';
	return (int)n;
}

static void cloud__send(struct sim_cloud *c, const struct sim_world *w,
			const struct sim_incident *inc, int cleared)
{
	char topic[256], payload[1024];
	int rc;

	snprintf(topic, sizeof(topic), "%s/advisory/lane_closure/sim-%llu-%d", c->prefix,
		 (unsigned long long)w->cfg.seed, inc->id);
	if (sim_cloud_closure_json(inc, w->cfg.seed, cleared, sim_world_ns(w, w->t),
				   payload, sizeof(payload)) < 0) {
		c->failed++;
		return;
	}
	/*
	 * A closure stays retained while it lasts, as a traffic centre keeps
	 * it: an RSU that starts (or restarts) meanwhile learns it when it
	 * subscribes.  Its end goes to the subscribers, then the retained
	 * closure is deleted.
	 */
	rc = cloud__publish(c, topic, payload, !cleared);
	if (rc == MQTTCLIENT_SUCCESS && cleared)
		rc = cloud__publish(c, topic, "", 1);
	if (rc == MQTTCLIENT_SUCCESS) {
		c->published++;
		return;
	}
	c->failed++;
	if (!c->warned++)
		fprintf(stderr, "v2x-sim: lane closure advisory to %s not published: %s\n",
			c->uri, MQTTClient_strerror(rc));
}

static int cloud__grow(struct sim_cloud *c, int n)
{
	uint8_t *s;

	if (n <= c->nstate)
		return 0;
	s = realloc(c->state, (size_t)n);
	if (!s)
		return -1;
	memset(s + c->nstate, 0, (size_t)(n - c->nstate));
	c->state = s;
	c->nstate = n;
	return 0;
}

/* See cloud.h. */
void sim_cloud_poll(struct sim_cloud *c, const struct sim_world *w)
{
	if (!c || cloud__grow(c, w->ninc) < 0)
		return;
	for (int i = 0; i < w->ninc; i++) {
		const struct sim_incident *inc = &w->inc[i];

		if (c->state[i] == 2 || inc->type != V2X_EVT_CONGESTION || inc->nclosed <= 0)
			continue;
		if (c->state[i] == 0 && inc->state == SIM_INC_ACTIVE) {
			cloud__send(c, w, inc, 0);
			c->state[i] = 1;
		} else if (c->state[i] == 1 && inc->state == SIM_INC_DONE) {
			cloud__send(c, w, inc, 1);
			c->state[i] = 2;
		}
	}
}

/* See cloud.h. */
void sim_cloud_finish(struct sim_cloud *c, const struct sim_world *w)
{
	if (!c || cloud__grow(c, w->ninc) < 0)
		return;
	for (int i = 0; i < w->ninc; i++)
		if (c->state[i] == 1) {
			cloud__send(c, w, &w->inc[i], 1);
			c->state[i] = 2;
		}
}

/* See cloud.h. */
void sim_cloud_stats(const struct sim_cloud *c, uint64_t *published, uint64_t *failed)
{
	*published = c ? c->published : 0;
	*failed = c ? c->failed : 0;
}

/* See cloud.h. */
void sim_cloud_free(struct sim_cloud *c)
{
	if (!c)
		return;
	free(c->uri);
	free(c->prefix);
	free(c->state);
	free(c);
}
