#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SIGTERM: the broker drains its rings, flushes MQTT and exits 0; nothing
it accepted is lost - every decoded BSM comes out on ZeroMQ and every event
is acknowledged by MQTT."""

import time

import msgpack

import v2xtest as t


def test():
    with t.Env() as env:
        mq = env.start_mosquitto()
        cloud = env.mqtt_client(mq, ["v2x/rsuS/events/#"])
        br = env.start_broker("--relay-bsm", "--forward-events", mqtt=mq, rsu_id="rsuS")
        t.check(t.wait_until(lambda: br.metrics()["v2x_mqtt_connected"] == 1, 10),
                "broker did not connect")
        sub = env.zmq_sub(br, ["bsm/"])
        n_bsm, n_evt = 2000, 50
        for i in range(n_bsm):
            env.send_udp(br.msgpack_port, t.bsm_frame(i, 48.1 + (i % 100) * 1e-4, 11.5))
        for i in range(n_evt):
            now = time.time_ns()
            env.send_udp(br.msgpack_port, msgpack.packb({
                "t": "event", "ts": now, "id": 9000 + i, "type": "hard_braking",
                "status": "new", "severity": 2, "lat": 48.1, "lon": 11.5,
                "lane": -1, "segment": -1, "start_ts": now, "last_ts": now,
                "confidence": 1.0, "tracks": [], "sources": ["v2x"]}))
        # Stop as soon as everything is decoded: the rings may still hold work.
        def decoded():
            m = br.metrics()
            return sum(v for k, v in m.items() if k.startswith("v2x_rx_decoded_total"))
        t.wait_until(lambda: decoded() >= n_bsm + n_evt, 10, 0.005)
        dec = decoded()
        rc = br.stop()
        t.check(rc == 0, "exit status %r" % rc)
        got = set(b["id"] for _, b in sub.drain(1.0))
        t.check(len(got) == dec - n_evt if dec >= n_evt else False,
                "ZeroMQ got %d of %d decoded BSMs" % (len(got), dec - n_evt))
        t.check(t.wait_until(lambda: len(cloud.messages) >= n_evt, 5),
                "MQTT got %d of %d events" % (len(cloud.messages), n_evt))
        text = br.proc.stderr_text()
        t.check("SIGTERM: shutting down" in text and "stopped:" in text, "shutdown log")


t.run(test)
