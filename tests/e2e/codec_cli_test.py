#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end test of build/codecs/v2x-codec.

Runs the real binary on seeded random messages of every msgpack frame type
and on J2735 frames from the fuzz corpus, and checks:
  - decode | encode reproduces the input bytes exactly (hex, binary and
    length-prefixed stream modes);
  - an independent msgpack implementation (python3-msgpack) reads what the
    encoder writes as the same data, and frames it packs (other key order,
    unknown keys) decode;
  - a bad line is reported on stderr with its line number, the run goes on,
    and the exit status is 1; trailing octets are a warning only;
  - --help, --version and usage errors.
Exit 0 = pass, 77 = skip (binary not built), 1 = fail.
"""
import json
import os
import random
import subprocess
import sys

import msgpack

BUILD = os.environ.get("V2X_BUILD_DIR", "build")
SOURCE = os.environ.get("V2X_SOURCE_DIR", ".")
CODEC = os.path.join(BUILD, "codecs", "v2x-codec")

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def run(args, data):
    if isinstance(data, str):
        data = data.encode()
    p = subprocess.run([CODEC] + args, input=data, capture_output=True,
                       timeout=120)
    err = p.stderr.decode(errors="replace")
    for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        check(marker not in err, "sanitizer report in stderr: " + err[:2000])
    return p.returncode, p.stdout, err


def deg(r, lo, hi):
    # Exactly the double the C encoder computes: n / 1e7.
    return r.randint(lo, hi) / 1e7


def gen_bsm(r):
    m = {"t": "bsm", "ts": r.randint(0, 2**63 - 1), "id": r.randint(0, 2**32 - 1),
         "cnt": r.randint(0, 127), "sec": r.randint(0, 65535),
         "lat": deg(r, -900000000, 900000001),
         "lon": deg(r, -1799999999, 1800000001),
         "elev": r.randint(-4096, 61439), "acc_maj": r.randint(0, 255),
         "acc_min": r.randint(0, 255), "acc_orient": r.randint(0, 65535),
         "trans": r.randint(0, 7), "speed": r.randint(0, 8191),
         "heading": r.randint(0, 28800), "angle": r.randint(-126, 127),
         "accel_long": r.randint(-2000, 2001), "accel_lat": r.randint(-2000, 2001),
         "accel_vert": r.randint(-127, 127), "yaw": r.randint(-32767, 32767),
         "brakes": r.randint(0, 31), "traction": r.randint(0, 3),
         "abs": r.randint(0, 3), "scs": r.randint(0, 3), "boost": r.randint(0, 2),
         "aux_brakes": r.randint(0, 3), "width": r.randint(0, 1023),
         "length": r.randint(0, 4095)}
    if r.random() < 0.5:
        m["events"] = r.randint(0, 8191)
    return m


CLASSES = ["unknown", "car", "truck", "bus", "pedestrian", "cyclist"]
TYPES = ["stopped_vehicle", "hard_braking", "wrong_way", "speeding",
         "congestion", "collision_risk", "vru_on_road"]


def gen_objects(r):
    objs = []
    for _ in range(r.randint(0, 20)):
        objs.append({"id": r.randint(0, 2**32 - 1), "cls": r.choice(CLASSES),
                     "lat": deg(r, -900000000, 900000001),
                     "lon": deg(r, -1799999999, 1800000001),
                     "speed": r.randint(0, 8191), "heading": r.randint(0, 28800),
                     "len": r.randint(0, 4095), "wid": r.randint(0, 1023),
                     "conf": r.randint(0, 100)})
    return {"t": "objects", "ts": r.randint(0, 2**63 - 1),
            "sensor": r.randint(0, 2**32 - 1), "objs": objs}


def gen_spat(r):
    mv = [{"sg": r.randint(0, 255), "state": r.randint(0, 9),
           "min_end": r.randint(0, 36001), "max_end": r.randint(0, 36001),
           "likely": r.randint(0, 36001)} for _ in range(r.randint(0, 32))]
    return {"t": "spat", "ts": r.randint(0, 2**63 - 1), "id": r.randint(0, 65535),
            "region": r.randint(0, 65535), "rev": r.randint(0, 127),
            "status": r.randint(0, 65535), "moy": r.randint(0, 527040),
            "dsec": r.randint(0, 65535), "mv": mv}


def gen_event(r):
    sources = []
    if r.random() < 0.6:
        sources.append("v2x")
    n = r.randint(0, 4)
    sources += ["sensor:%d" % r.randint(0, 2**32 - 1) for _ in range(n)]
    if n == 0 and r.random() < 0.3:
        sources.append("sensor")
    e = {"t": "event", "ts": r.randint(0, 2**63 - 1), "id": r.randint(0, 2**63 - 1),
         "type": r.choice(TYPES), "status": r.choice(["new", "update", "cleared"]),
         "severity": r.randint(0, 7), "lat": deg(r, -900000000, 900000001),
         "lon": deg(r, -1799999999, 1800000001), "lane": r.randint(-1, 2**31 - 1),
         "segment": r.randint(-1, 2**31 - 1), "start_ts": r.randint(0, 2**63 - 1),
         "last_ts": r.randint(0, 2**63 - 1),
         # k/64 is exact in float32, so the value survives unchanged.
         "confidence": r.randint(0, 64) / 64,
         "tracks": [r.randint(0, 2**63 - 1) for _ in range(r.randint(0, 8))],
         "sources": sources}
    if e["type"] == "congestion":
        e["level"] = r.choice(["free", "light", "moderate", "heavy"])
    return e


def frames(seed, count):
    r = random.Random(seed)
    gens = [gen_bsm, gen_objects, gen_spat, gen_event]
    return [gens[i % 4](r) for i in range(count)]


def test_msgpack_hex(msgs):
    text = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in msgs)
    rc, out, err = run(["encode", "--to", "msgpack", "--hex"], text)
    check(rc == 0 and err == "", "encode hex rc=%d err=%s" % (rc, err[:500]))
    hexes = out.decode().split("\n")[:-1]
    check(len(hexes) == len(msgs), "one hex line per message")
    for m, h in zip(msgs, hexes):
        # An independent msgpack reader sees the same data, "t" first.
        got = msgpack.unpackb(bytes.fromhex(h), raw=False)
        check(got == m, "python msgpack reads %r as %r" % (m, got))
        check(list(got)[0] == "t", "t is the first key")
    hex_text = out
    rc, out, err = run(["decode", "--from", "msgpack", "--hex"], hex_text)
    check(rc == 0 and err == "", "decode hex rc=%d err=%s" % (rc, err[:500]))
    # The same hex text without --hex is detected as hex lines.
    rc, out2, err = run(["decode", "--from", "msgpack"], hex_text)
    check(rc == 0 and err == "" and out2 == out, "msgpack hex text detected")
    lines = out.decode().split("\n")[:-1]
    check([json.loads(x) for x in lines] == msgs, "decode gives back the JSON")
    # decode | encode reproduces the bytes.
    rc, again, err = run(["encode", "--to", "msgpack", "--hex"], out)
    check(rc == 0 and again.decode().split("\n")[:-1] == hexes,
          "decode|encode hex byte-exact")
    # Keys in the order the CLI prints them: the JSON text itself is stable.
    check(out.decode() == "".join(
        json.dumps(json.loads(x), separators=(",", ":")) + "\n" for x in lines),
        "JSON output is compact and stable")
    return hexes


def test_msgpack_binary(msgs, hexes):
    stream = b"".join(len(bytes.fromhex(h)).to_bytes(2, "big") + bytes.fromhex(h)
                      for h in hexes)
    rc, out, err = run(["decode", "--from", "msgpack", "--stream"], stream)
    check(rc == 0 and err == "", "decode stream rc=%d err=%s" % (rc, err[:300]))
    check([json.loads(x) for x in out.decode().split("\n")[:-1]] == msgs,
          "stream decode gives back the JSON")
    rc, again, err = run(["encode", "--to", "msgpack", "--stream"], out)
    check(rc == 0 and again == stream, "decode|encode stream byte-exact")
    # One message per invocation in plain binary mode.
    for h in hexes[:40]:
        b = bytes.fromhex(h)
        rc, out, err = run(["decode", "--from", "msgpack"], b)
        check(rc == 0, "binary decode")
        rc, again, err = run(["encode", "--to", "msgpack"], out)
        check(rc == 0 and again == b, "decode|encode binary byte-exact")
    # A stream cut short is an error for the last record only.
    rc, out, err = run(["decode", "--from", "msgpack", "--stream"], stream[:-3])
    check(rc == 1 and ("message %d: truncated input" % len(hexes)) in err,
          "truncated stream reported: " + err[:300])
    check(len(out.decode().split("\n")[:-1]) == len(hexes) - 1,
          "records before the cut still decoded")


def test_bad_lines(hexes):
    good = hexes[:3]
    text = ("# a comment\n"          # line 1
            + good[0] + "\n"         # line 2
            + "zz11\n"               # line 3: not hex
            + "\n"                   # line 4: blank
            + good[1][:-6] + "\n"    # line 5: truncated frame
            + good[1] + "00ff\n"     # line 6: two trailing octets
            + "c1\n"                 # line 7: reserved octet
            + "  " + good[2] + "  \n")  # line 8: surrounding blanks
    rc, out, err = run(["decode", "--from", "msgpack", "--hex"], text)
    check(rc == 1, "exit status 1 when a line is bad (got %d)" % rc)
    check("line 3: syntax error" in err, "line 3 reported: " + err)
    check("line 5: truncated input" in err, "line 5 reported: " + err)
    check("line 6: warning: 2 trailing octets ignored" in err,
          "line 6 warned: " + err)
    check("line 7: invalid encoding" in err, "line 7 reported: " + err)
    check(len(out.decode().split("\n")[:-1]) == 3, "lines 2, 6 and 8 decoded")
    for n in (1, 2, 4, 8):
        check("line %d:" % n not in err, "line %d not reported" % n)

    text = ('{"t":"bsm"}\n'
            '{"t":"event","ts":1}\n'
            'not json\n'
            '{"t":"spaceship","ts":1}\n')
    rc, out, err = run(["encode", "--to", "msgpack", "--hex"], text)
    check(rc == 1 and out == b"", "bad JSON lines give no output, status 1")
    for n, reason in ((1, "mandatory field missing"), (2, "mandatory field missing"),
                      (3, "syntax error"), (4, "unknown message type")):
        check("line %d: %s" % (n, reason) in err, "json line %d: %s" % (n, err))


def test_foreign_msgpack():
    # Packed by python-msgpack: other key order, unknown keys, nested junk.
    m = {"speed": 100, "t": "bsm", "future": {"a": [1, 2.5, None]},
         "ts": 5, "id": 7, "cnt": 1, "sec": 2, "lat": 48.5, "lon": 11.25,
         "elev": 0, "acc_maj": 0, "acc_min": 0, "acc_orient": 0, "trans": 0,
         "heading": 0, "angle": 0, "accel_long": 0, "accel_lat": 0,
         "accel_vert": 0, "yaw": 0, "brakes": 0, "traction": 0, "abs": 0,
         "scs": 0, "boost": 0, "aux_brakes": 0, "width": 0, "length": 0}
    rc, out, err = run(["decode", "--from", "msgpack"], msgpack.packb(m))
    check(rc == 0, "foreign frame decodes: " + err)
    got = json.loads(out)
    want = dict(m)
    del want["future"]
    check(got == want, "foreign frame content %r" % got)
    check(list(got)[0] == "t", "canonical key order on output")


def test_uper():
    corpus = os.path.join(SOURCE, "tests", "fuzz", "corpus", "fuzz_framing")
    if not os.path.isdir(corpus):
        print("no UPER corpus; UPER part skipped")
        return
    raw_seen = 0
    for name in sorted(os.listdir(corpus)):
        data = open(os.path.join(corpus, name), "rb").read()
        rc, out, err = run(["decode", "--from", "uper"], data)
        if rc != 0:
            continue
        doc = json.loads(out)
        check("messageId" in doc and "value" in doc, "JER form for " + name)
        rc2, enc, err2 = run(["encode", "--to", "uper"], out)
        check(rc2 == 0, "encode back %s: %s" % (name, err2))
        if "note: framing" not in err:
            raw_seen += 1
            check(enc == data, "decode|encode byte-exact for raw " + name)
        else:
            # The inner MessageFrame is reproduced; it decodes the same.
            rc3, out3, _ = run(["decode", "--from", "uper", "--framing", "raw"], enc)
            check(rc3 == 0 and out3 == out, "inner frame of %s round-trips" % name)
        # Hex mode, the same message twice plus a comment.
        text = "# frame\n%s\n%s\n" % (data.hex(), data.hex().upper())
        rc, out2, err = run(["decode", "--from", "uper", "--hex"], text)
        check(rc == 0 and out2 == out + out, "hex decode of " + name)
    check(raw_seen > 0, "at least one raw UPER frame round-tripped")


def corpus_frame(name):
    path = os.path.join(SOURCE, "tests", "fuzz", "corpus", "fuzz_framing", name)
    return open(path, "rb").read()


def test_uper_cli():
    """Issue 2 points for UPER input: framings forced and detected, hex text
    detected without --hex, bad lines named, trailing octets, streams."""
    raw, wsmp, signed = (corpus_frame(n) for n in ("raw", "wsmp-raw",
                                                   "signed-cert"))
    rc, ref, err = run(["decode", "--from", "uper", "--framing", "raw"], raw)
    check(rc == 0 and err == "", "raw frame decodes: " + err)
    for data, framing, kind in ((wsmp, "wsmp", "framing wsmp"),
                                (signed, "1609.2",
                                 "framing 1609.2, signed, signer certificate")):
        for forced in ("auto", framing):
            rc, out, err = run(["decode", "--from", "uper", "--framing",
                                forced], data)
            check(rc == 0 and out == ref and ("message 1: note: " + kind) in err,
                  "%s frame with --framing %s: %s" % (framing, forced, err))
        # Forcing the wrong framing is a clean per-message error.
        wrong = "wsmp" if framing == "1609.2" else "1609.2"
        rc, out, err = run(["decode", "--from", "uper", "--framing", wrong],
                           data)
        check(rc == 1 and out == b"" and
              "message 1: invalid outer framing" in err,
              "%s frame forced as %s: %s" % (framing, wrong, err))
    rc, _, err = run(["decode", "--from", "uper", "--framing", "wsmp"], raw)
    check(rc == 1 and "message 1: invalid outer framing" in err,
          "raw frame forced as wsmp: " + err)

    # Hex text on stdin without --hex is detected: the same as --hex.
    text = "\n".join(d.hex() for d in (raw, wsmp, signed)) + "\n"
    rc, out_hex, err_hex = run(["decode", "--from", "uper", "--hex"], text)
    check(rc == 0 and out_hex == ref * 3, "hex lines of three framings")
    rc, out, err = run(["decode", "--from", "uper"], text)
    check(rc == 0 and out == out_hex and err == err_hex,
          "hex text detected without --hex: " + err)
    rc, out, err = run(["decode", "--from", "uper"], "# comment\n  \n" + text)
    check(rc == 0 and out == out_hex and err.replace("line 3", "line 1")
          .replace("line 4", "line 2").replace("line 5", "line 3") == err_hex,
          "hex text with a comment line detected: " + err)
    # A '#' that is not at a line start is not hex text.
    rc, out, err = run(["decode", "--from", "uper"], raw.hex() + " #\n")
    # (Read as binary: "00" is messageId 0x3030 and the rest trails.)
    check(b'"messageId":12336' in out and "message 1: warning" in err,
          "binary when not hex text: " + err)

    # Bad lines: named with their reason, the run goes on, exit 1.
    heading = bytearray(raw)  # heading (bits 209..223) all ones: 32767
    for bit in range(209, 224):
        heading[bit // 8] |= 0x80 >> (bit % 8)
    lines = [raw.hex(),                       # 1 good
             raw[:20].hex(),                  # 2 truncated
             heading.hex(),                   # 3 out of range
             (raw + b"\0\0").hex(),           # 4 trailing: warning only
             "0014c3" + "00" * 49153,         # 5 48K fragment: over limit
             "0x14",                          # 6 not hex
             raw.hex()]                       # 7 good
    rc, out, err = run(["decode", "--from", "uper", "--hex"],
                       "\n".join(lines) + "\n")
    check(rc == 1, "exit status 1 with bad UPER lines (got %d)" % rc)
    for n, reason in ((2, "truncated input"), (3, "value out of range"),
                      (4, "warning: 2 trailing octets ignored"),
                      (5, "length or count over limit"),
                      (6, "syntax error (hex)")):
        check("line %d: %s" % (n, reason) in err, "uper line %d: %s" % (n, err))
    check(out == ref * 3, "lines 1, 4 and 7 decoded")

    # Length-prefixed binary stream of the three framings.
    stream = b"".join(len(d).to_bytes(2, "big") + d for d in (raw, wsmp, signed))
    rc, out, err = run(["decode", "--from", "uper", "--stream"], stream)
    check(rc == 0 and out == ref * 3, "UPER stream decode: " + err)
    rc, enc, err = run(["encode", "--to", "uper", "--stream"], out)
    check(rc == 0 and enc == (len(raw).to_bytes(2, "big") + raw) * 3,
          "UPER stream re-encodes the inner frames")


def test_usage():
    rc, out, _ = run(["--help"], b"")
    check(rc == 0 and b"decode --from" in out, "--help")
    rc, out, _ = run(["--version"], b"")
    check(rc == 0 and out.startswith(b"v2x-codec "), "--version")
    for args in (["decode"], ["frobnicate", "--from", "msgpack"],
                 ["decode", "--from", "xml"], ["decode", "--from", "uper",
                                               "--framing", "carrier-pigeon"]):
        rc, _, err = run(args, b"")
        check(rc == 2 and err, "usage error for %r" % args)


def main():
    if not os.access(CODEC, os.X_OK):
        print("skip: %s not built" % CODEC)
        return 77
    msgs = frames(0xC0DEC, 400)
    hexes = test_msgpack_hex(msgs)
    test_msgpack_binary(msgs, hexes)
    test_bad_lines(hexes)
    test_foreign_msgpack()
    test_uper()
    test_uper_cli()
    test_usage()
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
