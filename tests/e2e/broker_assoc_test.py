#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sensor association in the fusion stage: an object that a roadside sensor
sees where a BSM-sending vehicle is becomes that vehicle's track (obj frame
with both source bits, no second road user); an object with no vehicle
around is a sensor-only road user."""

import time

import msgpack

import v2xtest as t


def objects_frame(sensor, ts, objs):
    return msgpack.packb({"t": "objects", "ts": ts, "sensor": sensor, "objs": objs})


def test():
    with t.Env() as env:
        br = env.start_broker("--obj-rate-hz", "10")
        sub = env.zmq_sub(br, ["obj/"])
        lat, lon = 48.137154, 11.576124
        ts = time.time_ns()
        env.send_udp(br.msgpack_port, t.bsm_frame(0x4242, lat, lon, speed=500,
                                                  heading=0, ts=ts))
        first = sub.recv_msgpack(5)
        t.check(first is not None and first[1]["src"] == 1, "BSM obj: %r" % (first,))
        v2x_id = first[1]["id"]
        time.sleep(0.2)  # past the obj period of the V2X track
        env.send_udp(br.msgpack_port, objects_frame(7, ts + 200_000_000, [
            # 2 m north of the BSM position, 0.2 s later at 10 m/s north.
            {"id": 1, "cls": "car", "lat": lat + 2 / 111_000, "lon": lon,
             "speed": 500, "heading": 0, "len": 450, "wid": 180, "conf": 90},
            # Nobody sends BSMs 300 m away: sensor-only.
            {"id": 2, "cls": "pedestrian", "lat": lat + 300 / 111_000, "lon": lon,
             "speed": 60, "heading": 9000, "len": 50, "wid": 50, "conf": 80},
        ]))
        got = [b for _, b in sub.drain(1.0)]
        fused = [b for b in got if b["id"] == v2x_id]
        t.check(len(fused) == 1 and fused[0]["src"] == 3,
                "V2X track not fused with the sensor object: %r" % got)
        others = [b for b in got if b["id"] != v2x_id]
        t.check(len(others) == 1 and others[0]["cls"] == "pedestrian" and
                others[0]["src"] == 2 and others[0]["sensor"] == 7,
                "expected one sensor-only pedestrian: %r" % others)
        m = br.metrics()
        t.check(m["v2x_tracks_created_total"] == 2,
                "a second track was created for the fused car: %r" %
                m["v2x_tracks_created_total"])

        # The sensor loses the pedestrian and reports it again under a new id
        # half a second later, where it would be by now: the same road user,
        # the same track (id), not a second one.
        ped_id = others[0]["id"]
        time.sleep(0.2)
        plat = lat + 300 / 111_000
        env.send_udp(br.msgpack_port, objects_frame(7, ts + 700_000_000, [
            {"id": 9, "cls": "pedestrian", "lat": plat, "lon": lon + 0.5 / 75_000,
             "speed": 60, "heading": 9000, "len": 50, "wid": 50, "conf": 80}]))
        got = [b for _, b in sub.drain(1.0)]
        t.check(len(got) == 1 and got[0]["id"] == ped_id and got[0]["src"] == 2,
                "re-identified pedestrian got another track: %r (was %d)" % (got, ped_id))
        m = br.metrics()
        t.check(m["v2x_sensor_reacquired_total"] == 1 and m["v2x_tracks_created_total"] == 2,
                "reacquired %r, created %r" % (m["v2x_sensor_reacquired_total"],
                                              m["v2x_tracks_created_total"]))
        # A different sensor's new object at the same place is not taken over,
        # nor is one of another class.
        env.send_udp(br.msgpack_port, objects_frame(8, ts + 1_400_000_000, [
            {"id": 9, "cls": "pedestrian", "lat": plat, "lon": lon + 1.0 / 75_000,
             "speed": 60, "heading": 9000, "len": 50, "wid": 50, "conf": 80}]))
        env.send_udp(br.msgpack_port, objects_frame(7, ts + 1_400_000_000, [
            {"id": 10, "cls": "cyclist", "lat": plat, "lon": lon + 1.0 / 75_000,
             "speed": 60, "heading": 9000, "len": 150, "wid": 50, "conf": 80}]))
        got = [b for _, b in sub.drain(1.0)]
        t.check(len(got) == 2 and all(b["id"] != ped_id for b in got),
                "another sensor's or class's object took the track over: %r" % got)
        t.check(br.metrics()["v2x_sensor_reacquired_total"] == 1, "reacquired again")
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
