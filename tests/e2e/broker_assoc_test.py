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

        # A standing car that only the sensor sees, and a connected car that
        # stops 2 m from it: two frames of matching are not enough to merge
        # an established sensor-only road user (merge_frames 3); the third
        # merges; when the connected car moves on, the object goes on under
        # its sensor-only id, not a new one.
        slat = lat + 600 / 111_000
        ft = ts + 2_000_000_000

        def frame_out(k, extra_bsm=None):
            # The frame first: a merged object's obj frame (src 3) goes out
            # before the BSM's, which then falls within the obj period.
            env.send_udp(br.msgpack_port, objects_frame(7, ft + k * 100_000_000, [
                {"id": 30, "cls": "car", "lat": slat, "lon": lon, "speed": 0,
                 "heading": 0, "len": 450, "wid": 180, "conf": 90}]))
            if extra_bsm:
                env.send_udp(br.msgpack_port, extra_bsm)
            time.sleep(0.12)  # past the obj period
            return [b for _, b in sub.drain(0.05)]

        outs = [frame_out(k) for k in range(6)]
        sid = outs[0][0]["id"]
        t.check(all(len(o) == 1 and o[0]["id"] == sid and o[0]["src"] == 2 for o in outs),
                "standing sensor-only car: %r" % outs)
        # (Its first BSM arrives after the first of these frames: three
        # frames match it after that.)
        outs = [frame_out(k, t.bsm_frame(0x5151, slat - 2 / 111_000, lon, speed=0,
                                          heading=0, ts=ft + k * 100_000_000))
                for k in range(6, 10)]
        held = [[b for b in o if b["src"] == 2] for o in outs]
        t.check([len(h) for h in held] == [1, 1, 1, 0] and
                all(h[0]["id"] == sid for h in held[:3]),
                "merge before 3 frames in a row, or not after: %r" % outs)
        t.check(any(b["src"] == 3 for b in outs[3]), "no fused obj after 3 frames: %r" % outs)
        outs = [frame_out(k, t.bsm_frame(0x5151, slat + 80 / 111_000, lon, speed=1500,
                                          heading=0, ts=ft + k * 100_000_000))
                for k in range(10, 12)]
        mine = [b for o in outs for b in o if b["src"] == 2]
        t.check(mine and all(b["id"] == sid for b in mine),
                "after the match ended the object is a new road user: %r (was %d)" % (outs, sid))
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
