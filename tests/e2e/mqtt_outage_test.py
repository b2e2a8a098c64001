#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cloud goes away and comes back; the broker restarts meanwhile.

1. Outage: Mosquitto stops; events keep coming (injected as msgpack event
   frames with --forward-events, so that the publish path is tested
   independently of the detectors); v2x_mqtt_connected drops to 0 and
   v2x_mqtt_buffered counts them; Mosquitto returns: every event arrives
   (at least once - counted by unique id) and v2x_mqtt_buffered is 0.
2. Restart survival: with Mosquitto down, events are buffered, the broker
   gets SIGTERM (exits 0, the events stay journaled in --data-dir), a new
   broker with the same --rsu-id and --data-dir starts (v2x_mqtt_buffered
   shows them at once), Mosquitto returns: every event arrives.

The cloud-side subscriber keeps a persistent session (clean session off,
QoS 1) and this test's Mosquitto keeps sessions across its own restarts in
the test's temp dir, so the subscriber cannot miss messages while it
reconnects.  The events under test are all produced while Mosquitto is down,
so server-side persistence cannot hide an event lost by the broker."""

import os
import time

import msgpack

import v2xtest as t

RSU = "rsuOutage"


def event_frame(eid):
    now = time.time_ns()
    return msgpack.packb({
        "t": "event", "ts": now, "id": eid, "type": "stopped_vehicle",
        "status": "new", "severity": 4, "lat": 48.1, "lon": 11.5, "lane": 1,
        "segment": 2, "start_ts": now, "last_ts": now, "confidence": 0.9,
        "tracks": [eid], "sources": ["v2x"]})


def send_events(env, br, ids):
    for eid in ids:
        env.send_udp(br.msgpack_port, event_frame(eid))
        time.sleep(0.002)  # stay far below the ingest ring's size


def metric(br, name):
    return br.metrics().get(name, -1)


def test():
    with t.Env(timeout=240) as env:
        mq = t.PersistentMosquitto(env).start()
        cloud = t.CloudSubscriber(mq, "v2x/%s/events/#" % RSU)
        env.closers.append(cloud.close)
        data_dir = os.path.join(env.tmp, "rsu-data")
        args = ["--forward-events", "--mqtt-flush-ms", "500"]
        br = t.Broker(env, args, mqtt=mq, rsu_id=RSU, data_dir=data_dir).start()
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_connected") == 1, 10),
                "broker did not connect to mosquitto")

        # A few events with the cloud up.
        live = list(range(1, 11))
        send_events(env, br, live)
        t.check(t.wait_until(lambda: not cloud.missing(live), 10),
                "live events missing: %r" % cloud.missing(live))

        # 1. Outage.
        mq.stop()
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_connected") == 0, 30),
                "broker did not notice the outage")
        outage = list(range(100, 160))
        send_events(env, br, outage)
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_buffered") == len(outage), 10),
                "v2x_mqtt_buffered = %r, want %d" %
                (metric(br, "v2x_mqtt_buffered"), len(outage)))
        time.sleep(1.5)  # reconnect attempts fail meanwhile
        t.check(metric(br, "v2x_mqtt_buffered") == len(outage), "buffer changed while down")
        mq.start()
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_connected") == 1, 60),
                "broker did not reconnect")
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_buffered") == 0, 30),
                "still buffered after reconnect: %r" % metric(br, "v2x_mqtt_buffered"))
        t.check(t.wait_until(lambda: not cloud.missing(outage), 15),
                "outage events missing: %r" % cloud.missing(outage))
        print("outage: %d events delivered, %d duplicates" %
              (len(outage), sum(cloud.ids[i] - 1 for i in outage)))

        # 2. Restart survival.
        mq.stop()
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_connected") == 0, 30),
                "broker did not notice the second outage")
        restart = list(range(1000, 1040))
        send_events(env, br, restart)
        t.check(t.wait_until(lambda: metric(br, "v2x_mqtt_buffered") == len(restart), 10),
                "v2x_mqtt_buffered = %r before restart" % metric(br, "v2x_mqtt_buffered"))
        t.check(br.stop() == 0, "broker did not exit 0 on SIGTERM")
        journal = [f for f in os.listdir(os.path.join(data_dir, RSU + ".journal"))
                   if f.endswith(".evt")]
        t.check(len(journal) == len(restart), "journal holds %d entries" % len(journal))
        br2 = t.Broker(env, args, mqtt=mq, rsu_id=RSU, data_dir=data_dir).start("broker2")
        t.check(t.wait_until(lambda: metric(br2, "v2x_mqtt_buffered") == len(restart), 10),
                "restarted broker buffers %r" % metric(br2, "v2x_mqtt_buffered"))
        mq.start()
        t.check(t.wait_until(lambda: metric(br2, "v2x_mqtt_buffered") == 0, 60),
                "restart events not acknowledged: %r" % metric(br2, "v2x_mqtt_buffered"))
        t.check(t.wait_until(lambda: not cloud.missing(restart), 15),
                "restart events missing: %r" % cloud.missing(restart))
        print("restart: %d events delivered, %d duplicates" %
              (len(restart), sum(cloud.ids[i] - 1 for i in restart)))
        t.check(br2.stop() == 0, "second broker did not exit 0")


t.run(test)
