#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Advisories flow cloud -> vehicles: MQTT <prefix>/advisory/# (JSON or
msgpack) is re-published on ZeroMQ as adv/<geohash7>.  A retained advisory
(published before the broker started) reaches it when it subscribes; an
empty message (MQTT's deletion of a retained one) is no advisory."""

import msgpack

import v2xtest as t


def test():
    with t.Env() as env:
        mq = env.start_mosquitto()
        cloud = env.mqtt_client(mq, [])
        cloud.publish("v2x/rsu9/advisory/lane_closure/w1",
                      b'{"text":"kept by the cloud"}', retain=True)
        br = env.start_broker("--adv-default-cell", "u0zzzzz", mqtt=mq, rsu_id="rsu9")
        t.check(t.wait_until(lambda: br.metrics()["v2x_mqtt_connected"] == 1, 10),
                "broker did not connect to mosquitto")
        t.check(t.wait_until(lambda: br.metrics()["v2x_advisories_total"] == 1, 10),
                "retained advisory not received at start")
        sub = env.zmq_sub(br, ["adv/"])

        # The cloud deletes the retained advisory: an empty message.
        cloud.publish("v2x/rsu9/advisory/lane_closure/w1", b"", retain=True)

        cloud.publish("v2x/rsu9/advisory/roadworks",
                      b'{"kind":"roadworks","lat":48.1,"lon":11.5,"text":"lane 2 closed",'
                      b'"lanes":[2],"until":null}')
        m = sub.recv_msgpack(5)
        t.check(m is not None, "JSON advisory did not reach ZeroMQ")
        topic, body = m
        t.check(topic == "adv/" + t.geohash(48.1, 11.5), "topic %s" % topic)
        t.check(body == {"kind": "roadworks", "lat": 48.1, "lon": 11.5,
                         "text": "lane 2 closed", "lanes": [2], "until": None},
                "JSON advisory content %r" % body)

        payload = msgpack.packb({"kind": "ice", "lat": -33.86, "lon": 151.2, "sev": 3})
        cloud.publish("v2x/rsu9/advisory/weather/ice", payload)
        m = sub.recv(5)
        t.check(m is not None, "msgpack advisory did not reach ZeroMQ")
        t.check(m[0] == "adv/" + t.geohash(-33.86, 151.2), "topic %s" % m[0])
        t.check(m[1] == payload, "msgpack advisory not passed through unchanged")

        cloud.publish("v2x/rsu9/advisory/general", b'{"text":"hello"}')
        m = sub.recv_msgpack(5)
        t.check(m is not None and m[0] == "adv/u0zzzzz" and m[1] == {"text": "hello"},
                "advisory without position: %r" % (m,))

        # Another RSU's advisory and a malformed one are not re-published.
        cloud.publish("v2x/other/advisory/x", b'{"lat":1,"lon":2}')
        cloud.publish("v2x/rsu9/advisory/bad", b"\xc1\xc1")
        t.check(sub.recv(1.0) is None, "unexpected advisory on ZeroMQ")
        m = br.metrics()
        t.check(m['v2x_tx_messages_total{sink="zmq_adv"}'] == 4, "zmq_adv count")
        t.check(m['v2x_stage_dropped_total{stage="advisory"}'] == 1,
                "bad advisory not counted (or the empty one counted as bad)")
        t.check(m["v2x_advisories_total"] == 5, "advisories: %r" % m["v2x_advisories_total"])
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
