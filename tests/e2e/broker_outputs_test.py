#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""BSMs in UPER and msgpack come out on ZeroMQ: bsm/<geohash7> (relay) and
obj/<geohash7> with the right fields; the msgpack sender's ts is carried
through; a subscriber to another cell gets nothing."""

import time

import v2xtest as t


def test():
    with t.Env() as env:
        v6_port = t.free_port(t.socket.SOCK_DGRAM)
        # A long expiry: under sanitizers on a loaded machine the checks
        # below can take longer than the default 3 s of silence, and the
        # track must survive until the vehicle's second BSM.
        br = env.start_broker("--relay-bsm", "--obj-rate-hz", "10",
                              "--track-expiry-s", "60",
                              "--udp-msgpack", "[::1]:%d" % v6_port)
        sub = env.zmq_sub(br, ["bsm/", "obj/"])
        lat1, lon1 = 48.137154, 11.576124
        lat2, lon2 = 48.138000, 11.577500
        gh1, gh2 = t.geohash(lat1, lon1), t.geohash(lat2, lon2)
        other = env.zmq_sub(br, ["bsm/" + ("s" if gh1[0] != "s" else "t")])

        ts = time.time_ns() - 5_000_000
        env.send_udp(br.msgpack_port, t.bsm_frame(0x1234, lat1, lon1, speed=750,
                                                  heading=3600, ts=ts))
        uper = t.uper_bsms([(0xABCDEF01, lat2, lon2)])[0]
        env.send_udp(br.uper_port, uper)

        got = {}
        deadline = time.time() + 10
        while len(got) < 4 and time.time() < deadline:
            m = sub.recv_msgpack(1.0)
            if m:
                topic, body = m
                got[(topic.split("/")[0], body.get("id") if topic.startswith("bsm")
                     else round(body["lat"], 4))] = (topic, body)
        t.check(len(got) == 4, "expected 2 bsm + 2 obj, got %r" % list(got))

        topic, b = got[("bsm", 0x1234)]
        t.check(topic == "bsm/" + gh1, "msgpack bsm topic %s != bsm/%s" % (topic, gh1))
        t.check(b["t"] == "bsm" and b["ts"] == ts, "ts not carried through: %r" % b)
        t.check(abs(b["lat"] - lat1) < 1e-7 and abs(b["lon"] - lon1) < 1e-7, "lat/lon")
        t.check(b["speed"] == 750 and b["heading"] == 3600, "speed/heading %r" % b)

        topic, b = got[("bsm", 0xABCDEF01)]
        t.check(topic == "bsm/" + gh2, "uper bsm topic %s != bsm/%s" % (topic, gh2))
        t.check(abs(b["lat"] - lat2) < 1e-7 and abs(b["lon"] - lon2) < 1e-7, "uper lat/lon")
        t.check(b["ts"] > 0, "uper bsm without ts (receive time expected)")
        t.check(b["speed"] == 500 and b["heading"] == 9000, "uper speed/heading")

        topic, o = got[("obj", round(lat1, 4))]
        t.check(topic == "obj/" + gh1, "obj topic %s" % topic)
        t.check(o["t"] == "obj" and o["ts"] == ts and o["cls"] == "car", "obj %r" % o)
        t.check(abs(o["speed"] - 15.0) < 1e-3, "obj speed %r m/s" % o["speed"])
        t.check(abs(o["heading"] - 45.0) < 1e-3, "obj heading %r" % o["heading"])
        t.check(o["src"] == 1 and o["id"] > 0, "obj src/id %r" % o)
        t.check(abs(o["len"] - 4.5) < 1e-3, "obj length")

        topic, o2 = got[("obj", round(lat2, 4))]
        t.check(topic == "obj/" + gh2 and o2["id"] != o["id"], "second obj")

        # A second BSM of the same vehicle, after the obj period (10 Hz),
        # is published again with the same track id.
        time.sleep(0.2)
        env.send_udp(br.msgpack_port, t.bsm_frame(0x1234, lat1, lon1 + 1e-5,
                                                  ts=ts + 200_000_000, cnt=2))
        ids = set()
        for topic, body in sub.drain(1.0):
            if topic.startswith("obj/"):
                ids.add(body["id"])
        t.check(ids == {o["id"]}, "track id changed: %r vs %r" % (ids, o["id"]))

        # A duplicated datagram (same sender time) is not published again.
        dup = t.bsm_frame(0x77, lat1, lon1, ts=ts + 300_000_000)
        env.send_udp(br.msgpack_port, dup)
        env.send_udp(br.msgpack_port, dup)
        ids = [b["id"] for topic, b in sub.drain(1.0) if topic.startswith("bsm/")]
        t.check(ids == [0x77], "duplicate relayed: %r" % ids)

        # A second msgpack listener, on IPv6 loopback.
        s6 = t.socket.socket(t.socket.AF_INET6, t.socket.SOCK_DGRAM)
        s6.sendto(t.bsm_frame(0x66, lat1, lon1), ("::1", v6_port))
        s6.close()
        ids = [b["id"] for topic, b in sub.drain(1.0) if topic.startswith("bsm/")]
        t.check(ids == [0x66], "IPv6 listener: %r" % ids)

        t.check(other.recv(0.3) is None, "subscriber of another cell got a message")
        m = br.metrics()
        t.check(m['v2x_tx_messages_total{sink="zmq_bsm"}'] == 5, "zmq_bsm count")
        t.check(m['v2x_rx_datagrams_total{listener="msgpack:[::1]:%d"}' % v6_port] == 1,
                "IPv6 listener not counted")
        t.check(m["v2x_pipeline_latency_seconds_count"] >= 5, "latency histogram empty")
        # Tracks expire after 3 s of silence, so count creations.
        t.check(m["v2x_tracks_created_total"] == 4,
                "tracks created %r" % m["v2x_tracks_created_total"])
        # CPU time per thread: the stage threads, or the one pipeline thread.
        cpu = {k: v for k, v in m.items() if k.startswith("v2x_thread_cpu_seconds_total")}
        single = t.os.environ.get("V2X_BROKER_PIPELINE") == "single"
        want = (["pipeline"] if single else ["ingest", "fusion", "publish"])
        t.check(sorted(cpu) == sorted('v2x_thread_cpu_seconds_total{thread="%s"}' % w
                                      for w in want), "thread CPU series: %r" % cpu)
        t.check(all(0 < v < 60 for v in cpu.values()), "thread CPU values: %r" % cpu)
        st = br.stats()
        t.check(sorted(st.get("thread_cpu_s", {})) == sorted(want),
                "/api/stats thread_cpu_s: %r" % st.get("thread_cpu_s"))
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
