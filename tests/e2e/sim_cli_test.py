#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""v2x-sim end to end: the command line contract, determinism by seed (the
same bytes twice), what the datagrams contain (msgCnt, secMark, TemporaryID,
frame types; UPER checked with v2x-codec), UDP delivery to both targets,
the map command, SUMO replay of a small FCD trace and net, errors."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

import msgpack

BUILD = os.environ.get("V2X_BUILD_DIR", "build")
SIM = os.path.join(BUILD, "sim", "v2x-sim")
CODEC = os.path.join(BUILD, "codecs", "v2x-codec")
START = 1767225600 * 10**9
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, expect=0, timeout=240):
    p = subprocess.run([SIM] + args, capture_output=True, timeout=timeout)
    err = p.stderr.decode(errors="replace")
    for bad in ("runtime error", "AddressSanitizer", "LeakSanitizer"):
        if bad in err:
            check(False, "sanitizer report from %s: %s" % (args, err[-2000:]))
    check(p.returncode == expect,
          "exit %d (want %d) for %s: %s" % (p.returncode, expect, " ".join(args), err[-600:]))
    return err


def read_capture(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        ch = data[i + 4]
        out.append((ch, data[i + 5:i + 5 + n]))
        i += 5 + n
    check(i == len(data), "capture ends cleanly")
    return out


def truth_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_determinism_and_content(tmp):
    base = ["run", "--scenario", "grid", "--grid", "2x2", "--vehicles", "200", "--duration", "30",
            "--max", "--no-send", "--start-ts", str(START), "--encoding", "msgpack",
            "--incidents", "7", "--penetration", "0.7"]
    caps = []
    truths = []
    for seed, tag in (("5", "a"), ("5", "b"), ("6", "c")):
        cap = os.path.join(tmp, "cap_" + tag)
        tr = os.path.join(tmp, "truth_" + tag)
        run(base + ["--seed", seed, "--capture", cap, "--truth-out", tr])
        caps.append(open(cap, "rb").read())
        truths.append(open(tr, "rb").read())
    check(caps[0] == caps[1] and len(caps[0]) > 100000, "same seed gives identical datagrams")
    check(truths[0] == truths[1], "same seed gives identical ground truth")
    check(caps[0] != caps[2], "another seed gives other datagrams")

    frames = read_capture(os.path.join(tmp, "cap_a"))
    kinds = {}
    last_cnt = {}
    for ch, payload in frames:
        m = msgpack.unpackb(payload, raw=False)
        kinds[m["t"]] = kinds.get(m["t"], 0) + 1
        if m["t"] == "bsm":
            check(ch == 0, "BSMs go to the BSM target")
            check(m["sec"] == (m["ts"] // 10**6) % 60000, "secMark is ms in the minute of ts")
            check(30.0 < m["lat"] < 31.2 and 113.7 < m["lon"] < 114.9, "BSM position near the reference")
            prev = last_cnt.get(m["id"])
            if prev is not None:
                check(m["cnt"] == (prev + 1) % 128, "msgCnt increments mod 128")
            last_cnt[m["id"]] = m["cnt"]
        else:
            check(ch == 1, "objects and SPaT go to the sensors target")
            check(len(payload) <= 1472, "sensor frames fit one datagram")
    check(kinds.get("bsm", 0) > 10000, "BSMs emitted")
    check(kinds.get("objects", 0) > 100, "sensor frames emitted")
    check(kinds.get("spat", 0) == 4 * 300, "SPaT at 10 Hz from each of 4 controllers")
    lines = truth_lines(os.path.join(tmp, "truth_a"))
    check(lines[0]["kind"] == "run" and lines[0]["seed"] == 5 and lines[0]["start_ts"] == START,
          "truth header")
    check(lines[-1]["kind"] == "summary" and lines[-1]["bsm"] == kinds.get("bsm"),
          "truth summary counts what was emitted")
    types = {l["type"] for l in lines if l["kind"] in ("incident", "incident_skipped")}
    check(len(types) == 7, "all seven incident types scheduled: %s" % sorted(types))
    incs = [l for l in lines if l["kind"] == "incident"]
    causes = {l.get("cause") for l in incs}
    check(causes <= {"injected", "natural"} and "injected" in causes,
          "every incident line has its cause: %s" % causes)
    nat = [l for l in incs if l["cause"] == "natural"]
    check(lines[-1].get("natural") == len(nat), "summary counts the natural episodes")
    check(len({l["id"] for l in incs}) == len(incs), "incident and episode ids unique")
    # A collision risk or congestion never observable long enough is
    # never detectable (detectable_ts 0).
    check(all(l["start_ts"] <= l["detectable_ts"] <= l["end_ts"] or
              (l["detectable_ts"] == 0 and l["type"] in ("collision_risk", "congestion"))
              for l in nat), "natural episodes: start <= detectable <= end, or never")


def test_uper_decodes(tmp):
    cap = os.path.join(tmp, "cap_uper")
    run(["run", "--scenario", "highway", "--vehicles", "50", "--duration", "3", "--max",
         "--no-send", "--start-ts", str(START), "--capture", cap])
    bsms = [p for ch, p in read_capture(cap) if ch == 0]
    check(len(bsms) == 50 * 30, "UPER BSMs: 10 Hz per vehicle")
    if not os.path.exists(CODEC):
        return
    hexes = "\n".join(p.hex() for p in bsms[:300]) + "\n"
    p = subprocess.run([CODEC, "decode", "--from", "uper", "--hex"], input=hexes.encode(),
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "v2x-codec decodes every UPER BSM: %s" % p.stderr[-400:])
    out = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    check(len(out) == 300 and all(o.get("messageId") == 20 for o in out), "MessageFrame BSM")


def test_dense_sensor_frames(tmp):
    """A lidar that sees more objects than one 1472-octet datagram holds
    sends several frames with the same sensor and ts, none lost."""
    cap = os.path.join(tmp, "cap_dense")
    err = run(["run", "--scenario", "intersection", "--vehicles", "400", "--peds", "60",
               "--duration", "20", "--max", "--no-send", "--start-ts", str(START),
               "--capture", cap])
    check("encode_errors=0" in err, "no encode errors in a dense intersection")
    periods = {}
    for ch, payload in read_capture(cap):
        if ch != 1:
            continue
        check(len(payload) <= 1472, "sensor frame fits one datagram")
        m = msgpack.unpackb(payload, raw=False)
        if m["t"] == "objects":
            periods.setdefault((m["sensor"], m["ts"]), []).append(len(m["objs"]))
    parts = max(len(v) for v in periods.values())
    most = max(sum(v) for v in periods.values())
    check(parts >= 2 and most > 20, "large frames split (%d parts, %d objects)" % (parts, most))
    check(len(periods) == 200, "one period per 100 ms (%d)" % len(periods))


def udp_pair():
    for _ in range(50):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            b.bind(("127.0.0.1", port + 1))
            return a, b, port
        except OSError:
            a.close()
            b.close()
    raise RuntimeError("no consecutive UDP ports")


def test_udp(tmp):
    a, b, port = udp_pair()
    for s in (a, b):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.settimeout(0.5)
    got = {"a": 0, "b": 0}

    def drain(sock, key):
        while True:
            try:
                sock.recv(65536)
                got[key] += 1
            except socket.timeout:
                return

    ta = threading.Thread(target=drain, args=(a, "a"))
    tb = threading.Thread(target=drain, args=(b, "b"))
    ta.start()
    tb.start()
    tr = os.path.join(tmp, "truth_udp")
    run(["run", "--scenario", "intersection", "--vehicles", "60", "--duration", "5",
         "--speed", "10", "--target", "127.0.0.1:%d" % port, "--truth-out", tr,
         "--encoding", "msgpack"])
    ta.join()
    tb.join()
    summ = truth_lines(tr)[-1]
    check(got["a"] == summ["bsm"], "every BSM arrived (%d of %d)" % (got["a"], summ["bsm"]))
    check(got["b"] >= summ["spat"], "SPaT and sensor frames arrived on port+1")


def test_map_and_errors(tmp):
    out = os.path.join(tmp, "map.geojson")
    run(["map", "--scenario", "intersection", "--lanes", "3", "--out", out])
    m = json.load(open(out))
    kinds = [f["properties"]["kind"] for f in m["features"]]
    check(kinds.count("stop_line") == 12, "3-lane intersection map: 12 stop lines")
    check(m["reference"] == {"lat": 30.5928, "lon": 114.3055}, "map reference")
    err = run(["run", "--scenario", "intersection", "--vehicles", "5000000", "--no-send"], expect=1)
    check("cannot hold" in err, "impossible scenario says why")
    err = run(["run", "--scenario", "nowhere"], expect=2)
    check("unknown scenario" in err, "unknown scenario")
    err = run(["run", "--incident", "fire@10"], expect=2)
    check("unknown incident type" in err, "bad --incident names the reason: " + err)
    err = run(["run", "--incident", "speeding@3+x"], expect=2)
    check("bad duration" in err, "bad --incident duration named: " + err)
    err = run(["run", "--seed", "abc"], expect=2)
    check("bad --seed" in err, "bad --seed")
    inc = os.path.join(tmp, "incidents.txt")
    open(inc, "w").write("# schedule\nspeeding 10\nwrong_way ten\n")
    err = run(["run", "--incident-file", inc], expect=2)
    check("incidents.txt:3: bad incident line" in err, "incident file line named: " + err)
    err = run(["run", "--incident-file", os.path.join(tmp, "none.txt")], expect=2)
    check("No such file" in err, "unreadable incident file: " + err)
    err = run(["run", "--truth-ttc-s", "soon"], expect=2)
    check("bad --truth-ttc-s 'soon'" in err, "bad truth threshold named: " + err)
    run(["run", "--truth-hard-brake-mps2", "-1"], expect=2)
    run(["run", "--target", "nocolon"], expect=1)
    run(["run", "--sensor", "range=-1"], expect=2)


FCD = """<?xml version="1.0"?>
<fcd-export>
  <timestep time="0.00">
    <vehicle id="v0" x="114.3055" y="30.5928" angle="90" type="car" speed="10" pos="1" lane="e_0" slope="0"/>
    <vehicle id="v1" x="114.3060" y="30.5930" angle="180" type="car" speed="12" pos="1" lane="e_0" slope="0"/>
  </timestep>
  <timestep time="0.10">
    <vehicle id="v0" x="114.30551" y="30.5928" angle="90" type="car" speed="10" pos="2" lane="e_0" slope="0"/>
  </timestep>
</fcd-export>
"""

NET = """<net><location netOffset="0.00,0.00" convBoundary="0,0,100,0" projParameter="!"/>
<edge id="e"><lane id="e_0" index="0" speed="13.89" length="100" shape="0.00,0.00 100.00,0.00"/></edge></net>
"""


def test_replay(tmp):
    fcd = os.path.join(tmp, "t.fcd.xml")
    net = os.path.join(tmp, "t.net.xml")
    cap = os.path.join(tmp, "cap_replay")
    out = os.path.join(tmp, "net.geojson")
    open(fcd, "w").write(FCD)
    open(net, "w").write(NET)
    run(["replay", "--fcd", fcd, "--net", net, "--map-out", out, "--no-send", "--capture", cap,
         "--encoding", "msgpack", "--start-ts", str(START), "--max"])
    frames = [msgpack.unpackb(p, raw=False) for _, p in read_capture(cap)]
    check(len(frames) == 3, "one BSM per FCD record")
    check(frames[2]["ts"] == START + 100000000 and frames[2]["id"] == frames[0]["id"],
          "trace time and a stable id")
    check(abs(frames[0]["lat"] - 30.5928) < 1e-7 and frames[0]["speed"] == 500, "FCD values")
    m = json.load(open(out))
    check(len(m["features"]) == 1 and m["features"][0]["properties"]["speed_limit_kph"] == 50.0,
          "net converted")
    run(["replay", "--fcd", os.path.join(tmp, "missing.xml"), "--no-send"], expect=1)


def dist_m(lat1, lon1, lat2, lon2):
    import math
    dy = (lat1 - lat2) * 110860.0
    dx = (lon1 - lon2) * 110860.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


def seg_dist(p, a, b):
    """Metres from point p to segment a-b, all (lon, lat)."""
    import math
    k = math.cos(math.radians(p[1])) * 110860.0
    px, py = p[0] * k, p[1] * 110860.0
    ax, ay = a[0] * k, a[1] * 110860.0
    bx, by = b[0] * k, b[1] * 110860.0
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = 0 if l2 == 0 else max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / l2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


NODES = """<nodes>
 <node id="a" x="114.3000" y="30.5900"/>
 <node id="b" x="114.3050" y="30.5900"/>
 <node id="c" x="114.3100" y="30.5930"/>
</nodes>
"""
EDGES = """<edges>
 <edge id="ab" from="a" to="b" numLanes="2" speed="13.89"/>
 <edge id="bc" from="b" to="c" numLanes="2" speed="13.89"/>
 <edge id="cb" from="c" to="b" numLanes="1" speed="13.89"/>
</edges>
"""


def test_sumo(tmp):
    """On a network and a trace that SUMO itself produces, if installed:
    nodes placed at known lon/lat, projected by netconvert to UTM; our
    inverse UTM must put the lanes back there, and the trace on them."""
    import shutil
    netconvert, sumo = shutil.which("netconvert"), shutil.which("sumo")
    if not netconvert or not sumo:
        print("sumo not installed: SUMO-produced trace part skipped", file=sys.stderr)
        return
    env = dict(os.environ, SUMO_HOME=os.environ.get("SUMO_HOME", "/usr/share/sumo"))
    for name, text in (("n.nod.xml", NODES), ("e.edg.xml", EDGES),
                       ("r.rou.xml", '<routes><flow id="f" begin="0" end="60" period="3" '
                                     'from="ab" to="bc"/></routes>')):
        open(os.path.join(tmp, name), "w").write(text)
    net = os.path.join(tmp, "s.net.xml")
    fcd = os.path.join(tmp, "s.fcd.xml")
    subprocess.run([netconvert, "--proj.utm", "true", "-n", os.path.join(tmp, "n.nod.xml"),
                    "-e", os.path.join(tmp, "e.edg.xml"), "-o", net],
                   check=True, capture_output=True, timeout=120, env=env)
    subprocess.run([sumo, "-n", net, "-r", os.path.join(tmp, "r.rou.xml"), "--end", "120",
                    "--fcd-output", fcd, "--fcd-output.geo", "true", "--no-step-log"],
                   check=True, capture_output=True, timeout=300, env=env)
    out = os.path.join(tmp, "sumo.geojson")
    cap = os.path.join(tmp, "cap_sumo")
    run(["replay", "--fcd", fcd, "--net", net, "--map-out", out, "--no-send", "--max",
         "--capture", cap, "--encoding", "msgpack"])
    m = json.load(open(out))
    lanes = [f["geometry"]["coordinates"] for f in m["features"]
             if f["properties"]["kind"] == "lane"]
    check(len(lanes) == 5, "5 lanes from 3 edges (%d)" % len(lanes))
    first = {f["properties"]["sumo_id"]: f["geometry"]["coordinates"] for f in m["features"]}
    a = first.get("ab_0", [[0, 0]])[0]
    check(dist_m(a[1], a[0], 30.5900, 114.3000) < 25, "lane ab_0 starts at node a (%.1f m)"
          % dist_m(a[1], a[0], 30.5900, 114.3000))
    frames = [msgpack.unpackb(p, raw=False) for _, p in read_capture(cap)]
    check(len(frames) > 100, "SUMO trace replayed (%d BSMs)" % len(frames))
    worst = 0.0
    for f in frames:
        p = (f["lon"], f["lat"])
        d = min(seg_dist(p, ln[i], ln[i + 1]) for ln in lanes for i in range(len(ln) - 1))
        worst = max(worst, d)
    check(worst < 10.0, "every SUMO vehicle lies on a converted lane (worst %.2f m)" % worst)
    # The same trace in network metres (no --fcd-output.geo): the net's
    # projection and offset put every BSM where the geo trace has it.
    fcd_m = os.path.join(tmp, "s_m.fcd.xml")
    subprocess.run([sumo, "-n", net, "-r", os.path.join(tmp, "r.rou.xml"), "--end", "120",
                    "--fcd-output", fcd_m, "--no-step-log"],
                   check=True, capture_output=True, timeout=300, env=env)
    cap_m = os.path.join(tmp, "cap_sumo_m")
    run(["replay", "--fcd", fcd_m, "--net", net, "--no-send", "--max",
         "--capture", cap_m, "--encoding", "msgpack"])
    frames_m = [msgpack.unpackb(p, raw=False) for _, p in read_capture(cap_m)]
    check(len(frames_m) == len(frames), "metres trace: as many BSMs (%d, %d)"
          % (len(frames_m), len(frames)))
    off = max(dist_m(f["lat"], f["lon"], g["lat"], g["lon"]) for f, g in zip(frames, frames_m))
    check(off < 1.0, "metres trace projected like the geo trace (worst %.2f m)" % off)


def test_clock_origin(tmp):
    """Without --start-ts, sim time 0 is taken right before the first step,
    after the world is built: the map (written after the build) is older
    than the run's start_ts and every message's ts."""
    mp = os.path.join(tmp, "origin.geojson")
    tr = os.path.join(tmp, "origin.jsonl")
    cap = os.path.join(tmp, "origin.cap")
    run(["run", "--scenario", "highway", "--vehicles", "20000", "--duration", "0.3",
         "--seed", "3", "--no-send", "--encoding", "msgpack", "--no-sensors", "--quiet",
         "--map-out", mp, "--truth-out", tr, "--capture", cap])
    built_ns = os.stat(mp).st_mtime_ns
    head = truth_lines(tr)[0]
    check(head["kind"] == "run" and head["start_ts"] >= built_ns,
          "start_ts %d taken after the world build (map written at %d)"
          % (head["start_ts"], built_ns))
    frames = [msgpack.unpackb(p, raw=False) for _, p in read_capture(cap)]
    check(len(frames) > 0 and min(f["ts"] for f in frames) >= head["start_ts"],
          "message ts not before the run's start_ts")


def main():
    if not os.path.exists(SIM):
        print("v2x-sim not built", file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        for t in (test_determinism_and_content, test_uper_decodes, test_dense_sensor_frames,
                  test_udp, test_map_and_errors, test_clock_origin,
                  test_replay, test_sumo):
            t(tmp)
    if FAILS:
        print("%d failure(s)" % len(FAILS), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
