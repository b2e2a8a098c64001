#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end test of build/bench/v2x-bench.

1. Accuracy scoring on a tiny hand-built case (`v2x-bench score`): a ground
   truth file and a recorded event stream written here, with the expected
   precision, recall, detection delays, duplicates, false positives and
   the handling of never-detectable and unobserved incidents worked out by
   hand.
2. Bad input: a malformed truth line is refused with its line number.
3. A short real run (`v2x-bench run`: it starts v2x-broker and v2x-sim):
   the JSON report is well-formed and consistent (sent vs received by the
   broker vs published vs received by the subscriber, latency counts and
   ordered percentiles), the HTML report is a complete page, and neither
   child left a sanitizer report or a non-zero exit.
Exit 0 = pass, 77 = skip (binaries not built), 1 = fail.
"""
import json
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("V2X_BUILD_DIR", "build")
BENCH = os.path.join(BUILD, "bench", "v2x-bench")
SIM = os.path.join(BUILD, "sim", "v2x-sim")
BROKER = os.path.join(BUILD, "broker", "v2x-broker")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "UndefinedBehaviorSanitizer")

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def close(a, b, eps=1e-6):
    return a is not None and b is not None and abs(a - b) <= eps


T0 = 1767225600 * 10**9
S = 10**9
M_LAT = 1.0 / 111195.0  # degrees of latitude per metre (R = 6371008.8 m)


def north(lat, metres):
    return lat + metres * M_LAT


def incident(iid, typ, start, det, end, lat, lon, seg, temp_ids=(), sobj=(),
             cause="injected"):
    return {"kind": "incident", "id": iid, "type": typ, "cause": cause,
            "start_ts": T0 + int(start * S),
            "detectable_ts": T0 + int(det * S) if det is not None else 0,
            "end_ts": T0 + int(end * S), "lat": lat, "lon": lon,
            "lane": seg * 10, "segment": seg, "vehicles": [iid],
            "temp_ids": list(temp_ids),
            "sensor_objects": [{"sensor": s, "id": i} for s, i in sobj]}


def event(eid, typ, status, t, lat, lon, seg):
    return {"t": "event", "ts": T0 + int(t * S), "id": eid, "type": typ,
            "status": status, "severity": 3, "lat": lat, "lon": lon,
            "lane": seg * 10, "segment": seg}


def score(tmp, prefix, truth, events, extra=()):
    """Writes truth and events (and the raw lines extra after the events) as
    JSON lines and runs v2x-bench score on them; returns the completed
    process and the paths of the truth, the events and the JSON report."""
    tp = os.path.join(tmp, prefix + "truth.jsonl")
    ep = os.path.join(tmp, prefix + "events.jsonl")
    jp = os.path.join(tmp, prefix + "score.json")
    with open(tp, "w") as f:
        for line in truth:
            f.write(json.dumps(line) + "\n")
    with open(ep, "w") as f:
        for line in events:
            f.write(json.dumps(line) + "\n")
        for line in extra:
            f.write(line)
    r = subprocess.run([BENCH, "score", "--truth", tp, "--events", ep, "--json", jp],
                       capture_output=True, text=True, timeout=60)
    return r, tp, ep, jp


def score_case(tmp):
    lat0, lon0 = 48.0, 11.0
    truth = [
        {"kind": "run", "scenario": "hand", "seed": 1, "start_ts": T0,
         "reference": {"lat": lat0, "lon": lon0}},
        incident(1, "stopped_vehicle", 5, 10, 60, lat0, lon0, 1, temp_ids=[11]),
        incident(2, "wrong_way", 15, 20, 40, north(lat0, 1000), lon0, 2, temp_ids=[22]),
        incident(3, "speeding", 25, 30, 50, north(lat0, 3000), lon0, 3, sobj=[(4, 7)]),
        # Unobserved: no BSM, no sensor saw it; never matched.
        incident(4, "speeding", 25, 31, 50, north(lat0, 6000), lon0, 6),
        incident(5, "congestion", 5, 30, 100, north(lat0, 8000), lon0, 5),
        # Never detectable: excluded from recall, its event is no false positive.
        incident(6, "collision_risk", 60, None, 70, north(lat0, 12000), lon0, 7,
                 temp_ids=[66]),
        # Natural episodes (conditions of the simulated traffic): event 300
        # matches 8, so it is a true positive; 9 is shorter than the
        # detector's persistence (0.6 s < 1 s) and 11 unobserved: both left
        # out of the natural recall; 10 is scored and missed.
        incident(8, "hard_braking", 39.5, 39.8, 42, north(lat0, 210), lon0, 1,
                 temp_ids=[88], cause="natural"),
        incident(9, "hard_braking", 70, 70.2, 70.8, north(lat0, 15000), lon0, 8,
                 temp_ids=[99], cause="natural"),
        incident(10, "hard_braking", 80, 80.5, 85, north(lat0, 16000), lon0, 8,
                 temp_ids=[100], cause="natural"),
        incident(11, "hard_braking", 90, 90.5, 95, north(lat0, 17000), lon0, 8,
                 cause="natural"),
        {"kind": "incident_skipped", "id": 7, "type": "vru_on_road",
         "at_ts": T0 + 80 * S, "reason": "no pedestrian"},
        {"kind": "summary", "end_ts": T0 + 120 * S},
    ]
    events = [
        # Incident 1: detected 1.5 s after detectable, 10 m away; then an
        # update and the clear (same id: one event).
        event(100, "stopped_vehicle", "new", 11.5, north(lat0, 10), lon0, 1),
        event(100, "stopped_vehicle", "update", 13.0, north(lat0, 12), lon0, 1),
        event(100, "stopped_vehicle", "cleared", 62.0, north(lat0, 12), lon0, 1),
        # 500 m away: a false positive.
        event(101, "stopped_vehicle", "new", 12.0, north(lat0, 500), lon0, 1),
        # Right place, before the window (detectable - 1 s): false positive.
        event(102, "stopped_vehicle", "new", 5.0, north(lat0, 5), lon0, 1),
        # Incident 2, twice (a duplicate event): 1.0 s and 1.5 s late.
        event(200, "wrong_way", "new", 21.0, north(lat0, 1030), lon0, 2),
        event(201, "wrong_way", "new", 21.5, north(lat0, 1020), lon0, 2),
        # No injected hard-braking incident, but natural episode 8.
        event(300, "hard_braking", "new", 40.0, north(lat0, 200), lon0, 1),
        # Incident 3: 2 s late, 100 m on (a moving vehicle: 50 + 40 * 2 m).
        event(400, "speeding", "new", 32.0, north(lat0, 3100), lon0, 3),
        # Incident 5: 2 km away (beyond 1000 m) but on its segment; 5 s
        # before the truth's own threshold.
        event(500, "congestion", "new", 25.0, north(lat0, 10000), lon0, 5),
        event(500, "congestion", "update", 40.0, north(lat0, 9000), lon0, 5),
        # Incident 6 (never detectable) still explains this event.
        event(600, "collision_risk", "new", 61.0, north(lat0, 12005), lon0, 7),
    ]
    r, tp, ep, jp = score(tmp, "", truth, events, extra=[
        "{not json\n",
        json.dumps({"t": "event", "ts": 1, "id": 9, "type": "meteor",
                    "status": "new", "lat": 0.0, "lon": 0.0}) + "\n"])
    check(r.returncode == 0, "score exit status %d: %s" % (r.returncode, r.stderr))
    check(not any(m in r.stderr for m in SANITIZER_MARKERS), "sanitizer report: " + r.stderr)
    check("events.jsonl:13" in r.stderr and "events.jsonl:14" in r.stderr,
          "bad event lines reported with their numbers: %r" % r.stderr)
    check("stopped_vehicle" in r.stdout, "summary table on stdout")
    with open(jp) as f:
        rep = json.load(f)
    acc = rep["steps"][0]["accuracy"]
    check(acc["incidents"] == 10, "10 incident lines, got %r" % acc["incidents"])
    check(acc["skipped"] == 1, "1 skipped incident")
    check(acc["events"] == 9, "9 distinct events, got %r" % acc["events"])
    check(acc["transitions"] == 12, "12 transitions, got %r" % acc["transitions"])
    ty = acc["types"]

    sv = ty["stopped_vehicle"]
    check(sv["events"] == 3 and sv["matched_events"] == 1, "stopped: 1 of 3 matched %r" % sv)
    check(close(sv["precision"], 1 / 3), "stopped precision 1/3: %r" % sv["precision"])
    check(close(sv["recall"], 1.0), "stopped recall 1: %r" % sv["recall"])
    check(close(sv["delay_p50_s"], 1.5), "stopped delay 1.5 s: %r" % sv["delay_p50_s"])

    ww = ty["wrong_way"]
    check(close(ww["precision"], 1.0) and close(ww["recall"], 1.0), "wrong way 1/1 %r" % ww)
    check(close(ww["events_per_incident"], 2.0), "wrong way duplicate: %r" % ww)
    check(close(ww["delay_p50_s"], 1.0), "wrong way delay = first event: %r" % ww)

    hb = ty["hard_braking"]
    check(hb["incidents"] == 0 and hb["recall"] is None,
          "hard braking: no injected incident, recall undefined %r" % hb)
    check(close(hb["precision"], 1.0) and hb["matched_natural_only"] == 1,
          "hard braking: the event matching a natural episode is true %r" % hb)
    check(hb["natural"] == 4 and hb["natural_scored"] == 2 and hb["natural_detected"] == 1
          and close(hb["recall_natural"], 0.5),
          "natural recall: short and unobserved episodes left out %r" % hb)
    check(sv["natural"] == 0 and sv["recall_natural"] is None and sv["matched_natural_only"] == 0,
          "stopped vehicle: no natural episodes %r" % sv)

    sp = ty["speeding"]
    check(sp["incidents"] == 2 and sp["detectable"] == 2 and sp["observed"] == 1,
          "speeding counts %r" % sp)
    check(close(sp["recall"], 0.5) and close(sp["recall_observed"], 1.0),
          "speeding recall 0.5, observed 1.0: %r" % sp)
    check(close(sp["precision"], 1.0) and close(sp["delay_p50_s"], 2.0), "speeding %r" % sp)

    cg = ty["congestion"]
    check(close(cg["recall"], 1.0) and close(cg["precision"], 1.0), "congestion by segment %r" % cg)
    check(close(cg["delay_p50_s"], -5.0), "congestion early: -5 s %r" % cg["delay_p50_s"])

    cr = ty["collision_risk"]
    check(cr["detectable"] == 0 and cr["recall"] is None and close(cr["precision"], 1.0),
          "never-detectable incident: no recall, event not false %r" % cr)

    fps = acc["false_positives"]
    check(sorted(f["id"] for f in fps) == [101, 102], "false positives %r" % fps)
    for fp in fps:
        check(fp["segment"] >= 0 and "lat" in fp and "lane" in fp, "fp has position and lane")
    inc = {i["id"]: i for i in acc["incident_list"]}
    check(inc[4]["observed"] is False and inc[4]["matched_events"] == 0, "incident 4 %r" % inc[4])
    check(inc[2]["matched_events"] == 2, "incident 2 matched twice")
    check(inc[8]["cause"] == "natural" and inc[8]["matched_events"] == 1
          and inc[1]["cause"] == "injected", "causes in the incident list %r" % inc[8])
    check("rec_nat" in r.stdout, "natural recall on stdout")

    # --natural-min 0.5: the 0.6 s episode counts (and is missed).
    r = subprocess.run([BENCH, "score", "--truth", tp, "--events", ep, "--json", jp,
                        "--natural-min", "0.5"], capture_output=True, text=True, timeout=60)
    with open(jp) as f:
        hb = json.load(f)["steps"][0]["accuracy"]["types"]["hard_braking"]
    check(hb["natural_scored"] == 3 and close(hb["recall_natural"], 1 / 3),
          "--natural-min 0.5 scores the short episode %r" % hb)

    # A narrower radius turns the 100 m speeding match into a miss.
    r = subprocess.run([BENCH, "score", "--truth", tp, "--events", ep, "--json", jp,
                        "--move-mps", "0"], capture_output=True, text=True, timeout=60)
    with open(jp) as f:
        sp = json.load(f)["steps"][0]["accuracy"]["types"]["speeding"]
    check(close(sp["recall"], 0.0) and close(sp["precision"], 0.0),
          "--move-mps 0: the moved speeder is missed %r" % sp)

    # Bad truth: refused, with the line number.
    with open(tp, "a") as f:
        f.write('{"kind":"incident","id":9,"type":"stopped_vehicle"}\n')
    r = subprocess.run([BENCH, "score", "--truth", tp, "--events", ep],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "truth.jsonl:14" in r.stderr,
          "bad truth line refused with its number: %d %r" % (r.returncode, r.stderr))


def run_case(tmp):
    jp = os.path.join(tmp, "run.json")
    hp = os.path.join(tmp, "run.html")
    ep = os.path.join(tmp, "run-events.jsonl")
    keep = os.path.join(tmp, "work")
    r = subprocess.run([BENCH, "run", "--scenario", "highway", "--vehicles", "60",
                        "--penetration", "0.5", "--duration", "6", "--incidents", "2",
                        "--relay-bsm", "--drain", "2", "--json", jp, "--report", hp,
                        "--events-out", ep, "--keep", keep],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "run exit status %d: %s" % (r.returncode, r.stderr[-2000:]))
    check("broker exit status" not in r.stderr, "broker exited cleanly: %s" % r.stderr)
    check(not any(m in r.stderr for m in SANITIZER_MARKERS), "sanitizer report: " + r.stderr)
    for name in ("broker.log", "sim-0.log"):
        p = os.path.join(keep, name)
        if os.path.exists(p):
            text = open(p, errors="replace").read()
            check(not any(m in text for m in SANITIZER_MARKERS), "sanitizer report in " + name)
    check("step" in r.stdout and "broker_rx" in r.stdout, "summary table on stdout")
    with open(jp) as f:
        rep = json.load(f)
    check(rep["tool"] == "v2x-bench" and rep["config"]["scenario"] == "highway", "header")
    check(len(rep["steps"]) == 1, "one step")
    st = rep["steps"][0]
    sim, br, got = st["sim"], st["broker"], st["received"]
    check(sim["status"] == 0 and sim["sent"] > 0, "sim sent messages %r" % sim)
    check(sim["sent"] == sim["bsm"] + sim["objects_frames"] + sim["spat"],
          "sent = bsm + objects + spat %r" % sim)
    check(br is not None, "broker metrics scraped")
    # Loopback at a few hundred messages/s: nothing may be lost.
    check(br["rx_datagrams"] == sim["sent"], "broker received all: %r vs %r" %
          (br["rx_datagrams"], sim["sent"]))
    check(br["decoded"] + br["rejected"] == br["rx_datagrams"], "rx = decoded + rejected")
    check(br["tx"]["zmq_bsm"] == sim["bsm"], "every BSM relayed %r vs %r" %
          (br["tx"]["zmq_bsm"], sim["bsm"]))
    check(got["bsm"] == br["tx"]["zmq_bsm"], "subscriber got every relayed BSM")
    check(got["obj"] == br["tx"]["zmq_obj"] and got["obj"] > 0, "subscriber got every obj")
    check(got["bad"] == 0, "no bad payloads")
    check(close(st["loss"]["network"], 0.0) and close(st["loss"]["subscriber_bsm"], 0.0),
          "zero loss %r" % st["loss"])
    lat = st["latency"]["bsm"]
    check(lat["count"] == got["bsm"], "one latency sample per bsm")
    check(0 <= lat["p50_us"] <= lat["p90_us"] <= lat["p99_us"] <= lat["max_us"],
          "ordered percentiles %r" % lat)
    check(lat["max_us"] < 5e6, "latency plausible (< 5 s) %r" % lat)
    check(st["throughput"]["sent_per_s"] > 0, "throughput")
    acc = st["accuracy"]
    check(set(acc["types"]) == {"stopped_vehicle", "hard_braking", "wrong_way", "speeding",
                                "congestion", "collision_risk", "vru_on_road"}, "all types")
    nevt = sum(1 for _ in open(ep))
    check(nevt == got["evt"], "events-out has every event frame (%d vs %d)" % (nevt, got["evt"]))
    html = open(hp).read()
    check(html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>"), "html page")
    check("<table" in html and "<svg" in html, "html tables and histogram")


def closure_case(tmp):
    """Unmatched stopped vehicles at the head of a closed lane are counted
    apart (still false): in a closed lane near where the closure starts,
    while it is active - not in the open lane, not far upstream."""
    lat0, lon0 = 48.0, 11.0
    cong = incident(1, "congestion", 10, 30, 200, lat0, lon0, 5)
    cong["lane"] = 51
    cong["closure"] = {"lat": north(lat0, 30), "lon": lon0, "from_s": 600.0,
                       "to_s": 660.0, "length_m": 60.0, "lanes": [51, 52]}
    truth = [{"kind": "run", "scenario": "hand", "seed": 1, "start_ts": T0}, cong]
    events = []
    for eid, lane, metres, t in ((700, 51, -5, 40), (701, 52, -3, 50),
                                 (702, 53, -4, 60), (703, 51, -400, 70),
                                 (704, 51, -5, 5)):
        e = event(eid, "stopped_vehicle", "new", t, north(lat0, metres), lon0, 5)
        e["lane"] = lane
        events.append(e)
    r, _, _, jp = score(tmp, "closure-", truth, events)
    check(r.returncode == 0, "closure score exit status %d: %s" % (r.returncode, r.stderr))
    with open(jp) as f:
        acc = json.load(f)["steps"][0]["accuracy"]
    sv = acc["types"]["stopped_vehicle"]
    check(sv["events"] == 5 and sv["matched_events"] == 0 and close(sv["precision"], 0.0),
          "closure heads are still false %r" % sv)
    check(sv["unmatched_at_closure"] == 2, "two at the head of a closed lane %r" % sv)
    flags = {f["id"]: f["at_closure"] for f in acc["false_positives"]}
    check(flags == {700: True, 701: True, 702: False, 703: False, 704: False},
          "at_closure flags %r" % flags)
    check("head of a closed lane" in r.stdout, "closure note on stdout")


def main():
    for p in (BENCH, SIM, BROKER):
        if not os.access(p, os.X_OK):
            print("SKIP: %s not built" % p)
            return 77
    with tempfile.TemporaryDirectory(prefix="v2x-bench-test.") as tmp:
        score_case(tmp)
        closure_case(tmp)
        run_case(tmp)
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
