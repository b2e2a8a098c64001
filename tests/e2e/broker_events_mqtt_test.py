#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Events reach MQTT (QoS 1, <prefix>/events/<type>, msgpack and JSON) and
ZeroMQ (evt/<geohash7>/<type>).  The events are injected as msgpack event
frames with --forward-events (the path a neighbour RSU uses), so this tests
the publish path independently of the detectors."""

import json
import time

import msgpack

import v2xtest as t


def event_frame(eid, etype="stopped_vehicle", status="new", lat=48.1, lon=11.5):
    now = time.time_ns()
    return msgpack.packb({
        "t": "event", "ts": now, "id": eid, "type": etype, "status": status,
        "severity": 4, "lat": lat, "lon": lon, "lane": 3, "segment": 7,
        "start_ts": now, "last_ts": now, "confidence": 0.75,
        "tracks": [11, 12], "sources": ["v2x"]})


def run_once(json_mode):
    with t.Env() as env:
        mq = env.start_mosquitto()
        cloud = env.mqtt_client(mq, ["v2x/rsuE/#"])
        args = ["--forward-events", "--stats-interval-s", "1"]
        if json_mode:
            args.append("--mqtt-json")
        br = env.start_broker(*args, mqtt=mq, rsu_id="rsuE")
        t.check(t.wait_until(lambda: br.metrics()["v2x_mqtt_connected"] == 1, 10),
                "broker did not connect to mosquitto")
        sub = env.zmq_sub(br, ["evt/"])
        env.send_udp(br.msgpack_port, event_frame(1001))
        env.send_udp(br.msgpack_port, event_frame(1002, "wrong_way", lat=48.2, lon=11.6))

        zmq_got = [sub.recv_msgpack(5), sub.recv_msgpack(5)]
        t.check(all(zmq_got), "events missing on ZeroMQ: %r" % zmq_got)
        topics = sorted(m[0] for m in zmq_got)
        t.check(topics == sorted(["evt/%s/stopped_vehicle" % t.geohash(48.1, 11.5),
                                  "evt/%s/wrong_way" % t.geohash(48.2, 11.6)]),
                "zmq topics %r" % topics)

        def events():
            return [m for m in cloud.messages if "/events/" in m[0]]
        t.check(t.wait_until(lambda: len(events()) == 2, 10), "events missing on MQTT")
        by_topic = dict(events())
        p = by_topic.get("v2x/rsuE/events/stopped_vehicle")
        t.check(p is not None, "topic v2x/rsuE/events/stopped_vehicle missing: %r" % by_topic)
        body = json.loads(p) if json_mode else msgpack.unpackb(p)
        t.check(body["id"] == 1001 and body["type"] == "stopped_vehicle" and
                body["status"] == "new" and body["lane"] == 3, "event body %r" % body)
        t.check("v2x/rsuE/events/wrong_way" in by_topic, "wrong_way missing")
        t.check(t.wait_until(lambda: any(m[0] == "v2x/rsuE/stats" for m in cloud.messages), 5),
                "no stats on MQTT")
        stats = [m[1] for m in cloud.messages if m[0] == "v2x/rsuE/stats"][-1]
        s = json.loads(stats) if json_mode else msgpack.unpackb(stats)
        t.check(s["t"] == "stats" and s["rsu"] == "rsuE", "stats %r" % s)
        m = br.metrics()
        t.check(m['v2x_events_total{type="stopped_vehicle"}'] == 1, "events_total")
        t.check(m['v2x_tx_messages_total{sink="mqtt_event"}'] == 2, "mqtt_event count")
        t.check(br.stop() == 0, "broker did not exit 0")


def test():
    run_once(False)
    run_once(True)


t.run(test)
