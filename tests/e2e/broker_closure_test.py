#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lane closures from the cloud: a lane_closure advisory published on MQTT
<prefix>/advisory/... reaches ZeroMQ subscribers (adv/<geohash7>) as every
advisory does, AND the broker's detectors know the closure: a vehicle
standing in the closed lane before the closure raises no stopped_vehicle
event, while one standing in the open lane beside it does; once the cloud
clears the closure, the vehicle still standing there is a stopped vehicle.
A lane_closure that cannot be used is counted and dropped with a log line.

The road: one segment of two eastbound lanes (1 right, 2 left), 1 km."""

import json
import math
import os
import time

import v2xtest as t

REF_LAT, REF_LON = 48.1, 11.5


def geo(x, y):
    """ENU metres -> (lat, lon) near the reference (flat earth; < 1 cm over 1 km)."""
    lat = REF_LAT + y / 111132.954
    lon = REF_LON + x / (111319.49 * math.cos(math.radians(REF_LAT)))
    return lat, lon


def lane_feature(lane_id, y):
    a, b = geo(0, y), geo(1000, y)
    return {"type": "Feature",
            "properties": {"kind": "lane", "lane_id": lane_id, "segment_id": 1,
                           "direction": "forward", "speed_limit_kph": 80, "width_m": 3.5},
            "geometry": {"type": "LineString",
                         "coordinates": [[a[1], a[0]], [b[1], b[0]]]}}


def write_map(path):
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection",
                   "reference": {"lat": REF_LAT, "lon": REF_LON},
                   "features": [lane_feature(1, -1.75), lane_feature(2, 1.75)]}, f)


def stand(env, br, seconds, vehicles):
    """BSMs at 10 Hz of vehicles [(id, x, y)] standing still (speed 0, east)."""
    for k in range(int(seconds * 10)):
        for vid, x, y in vehicles:
            lat, lon = geo(x, y)
            env.send_udp(br.msgpack_port, t.bsm_frame(vid, lat, lon, speed=0,
                                                      heading=7200, cnt=k % 128))
        time.sleep(0.1)


def stopped(events):
    return [b for topic, b in events
            if topic.startswith("evt/") and b.get("type") == "stopped_vehicle"
            and b.get("status") == "new"]


def test():
    with t.Env() as env:
        path = os.path.join(env.tmp, "map.geojson")
        write_map(path)
        mq = env.start_mosquitto()
        br = env.start_broker("--map", path, mqtt=mq, rsu_id="rsuC")
        t.check(t.wait_until(lambda: br.metrics()["v2x_mqtt_connected"] == 1, 10),
                "broker did not connect to mosquitto")
        sub = env.zmq_sub(br, ["adv/", "evt/"])
        cloud = env.mqtt_client(mq, [])

        # Lane 1 closed from x = 600 for 60 m, announced by its start point.
        lat, lon = geo(600, -1.75)
        adv = {"type": "lane_closure", "id": "wz-1", "status": "active", "lanes": [1],
               "lat": lat, "lon": lon, "length_m": 60, "reason": "roadworks"}
        cloud.publish("v2x/rsuC/advisory/lane_closure/wz-1", json.dumps(adv).encode())
        m = sub.recv_msgpack(5)
        t.check(m is not None, "closure advisory did not reach ZeroMQ")
        t.check(m[0] == "adv/" + t.geohash(lat, lon), "topic %s" % m[0])
        t.check(m[1] == adv, "advisory content %r" % (m[1],))
        t.check(t.wait_until(lambda: "lane closure wz-1 announced" in br.proc.stderr_text(), 5),
                "closure not handed to the detectors:\n" + br.proc.stderr_text())

        # A bad closure: counted, logged, neither relayed nor applied.
        cloud.publish("v2x/rsuC/advisory/lane_closure/bad",
                      b'{"type":"lane_closure","id":"bad","lanes":"1","lat":48.1,"lon":11.5}')
        t.check(t.wait_until(lambda: br.metrics()[
            'v2x_stage_dropped_total{stage="advisory"}'] == 1, 5), "bad closure not counted")
        t.check("'lanes' must be an array" in br.proc.stderr_text(), "no log line for it")

        # Vehicle 101 stands in the closed lane 10 m before the closure;
        # vehicle 102 stands in the open lane beside it (50 m back: two
        # vehicles side by side would be one incident, merge_side_m).
        stand(env, br, 5.0, [(101, 590, -1.75), (102, 540, 1.75)])
        got = sub.drain(1.0)
        t.check(not any(topic.startswith("adv/") for topic, _ in got),
                "the bad closure was relayed: %r" % got)
        ev = stopped(got)
        t.check(len(ev) == 1, "want one stopped vehicle (the open lane), got %r" % ev)
        t.check(ev[0]["lane"] == 2, "stopped vehicle in lane %r, want 2" % ev[0]["lane"])

        # The cloud clears the closure: the vehicle still standing in lane 1
        # is now a stopped vehicle (after the reason hold, 3 s).
        cloud.publish("v2x/rsuC/advisory/lane_closure/wz-1",
                      json.dumps({"type": "lane_closure", "id": "wz-1",
                                  "status": "cleared", "lat": lat, "lon": lon}).encode())
        stand(env, br, 6.0, [(101, 590, -1.75), (102, 540, 1.75)])
        got = sub.drain(1.0)
        t.check(any(topic.startswith("adv/") for topic, _ in got), "clear not relayed")
        ev = stopped(got)
        t.check(any(e["lane"] == 1 for e in ev),
                "no stopped vehicle in lane 1 after the clear: %r" % ev)
        m = br.metrics()
        t.check(m['v2x_tx_messages_total{sink="zmq_adv"}'] == 2, "zmq_adv count")
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
