#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SIGHUP reloads the road map; a broken map on reload keeps the previous
one and the broker keeps running."""

import os
import signal
import subprocess

import v2xtest as t


def test():
    sim = os.path.join(t.build_dir(), "sim", "v2x-sim")
    if not os.path.exists(sim):
        t.skip("v2x-sim not built (needed to write a road map)")
    with t.Env() as env:
        path = os.path.join(env.tmp, "map.geojson")
        r = subprocess.run([sim, "map", "--scenario", "highway", "--out", path],
                           capture_output=True, timeout=60)
        if r.returncode != 0 or not os.path.exists(path):
            t.skip("v2x-sim map failed: %s" % r.stderr.decode()[-300:])
        br = env.start_broker("--map", path)
        log = br.proc.stderr_text
        t.check(t.wait_until(lambda: log().count("road map: loaded") == 1, 5),
                "map not loaded at start:\n" + log())
        br.proc.signal(signal.SIGHUP)
        t.check(t.wait_until(lambda: log().count("road map: loaded") == 2, 5),
                "map not reloaded on SIGHUP:\n" + log())
        with open(path, "w") as f:
            f.write("{ this is not json")
        br.proc.signal(signal.SIGHUP)
        t.check(t.wait_until(lambda: "keeping the previous map" in log(), 5),
                "broken map not reported:\n" + log())
        code, _ = br.http("/healthz")
        t.check(code == 200 and br.proc.alive(), "broker not healthy after a bad reload")
        t.check(br.stop() == 0, "broker did not exit 0")

        # At start, a map that cannot be used is refused: exit 2 with the
        # reason, not a broker silently running without its map.
        with open(path, "w") as f:
            f.write('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                    '"properties": {"kind": "lane", "lane_id": 1, "segment_id": 1}, '
                    '"geometry": {"type": "Point", "coordinates": [114.3, 30.5]}}]}')
        exe = os.path.join(t.build_dir(), "broker", "v2x-broker")
        r = subprocess.run([exe, "--map", path, "--udp-uper", "127.0.0.1:%d" % t.free_port(),
                            "--udp-msgpack", "127.0.0.1:%d" % t.free_port(),
                            "--zmq-pub", "tcp://127.0.0.1:%d" % t.free_port(),
                            "--metrics", "127.0.0.1:%d" % t.free_port()],
                           capture_output=True, timeout=20, text=True)
        t.check(r.returncode == 2, "broker started with a bad map (exit %d)" % r.returncode)
        t.check("refusing to start" in r.stderr and "feature" in r.stderr,
                "bad map at start not explained: %r" % r.stderr)


t.run(test)
