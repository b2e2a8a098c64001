#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Command line and config file errors: clear message, exit status 2;
--help lists every option; --version; --config loads an INI file."""

import os
import subprocess

import v2xtest as t


def run(*args):
    exe = os.path.join(t.build_dir(), "broker", "v2x-broker")
    return subprocess.run([exe] + list(args), capture_output=True, timeout=20, text=True)


def test():
    with t.Env() as env:
        r = run("--version")
        t.check(r.returncode == 0 and r.stdout.startswith("v2x-broker "), "--version")
        r = run("--help")
        for opt in ("--udp-uper", "--udp-msgpack", "--zmq-pub", "--mqtt", "--rsu-id",
                    "--metrics", "--map", "--config", "--data-dir", "--ref",
                    "--track-expiry-s", "--obj-rate-hz", "--relay-bsm", "--mqtt-json",
                    "--rcvbuf", "--log-level"):
            t.check(opt in r.stdout, "--help lacks " + opt)
        t.check("(default: 0.0.0.0:46800)" in r.stdout, "--help lacks defaults")
        r = run("--pipeline", "fast")
        t.check(r.returncode == 2 and "pipeline" in r.stderr and "single" in r.stderr,
                "bad pipeline mode: %r" % r.stderr)
        t.check("--pipeline" in run("--help").stdout, "--help lacks --pipeline")
        r = run("--udp-uper", "nonsense")
        t.check(r.returncode == 2 and "--udp-uper" in r.stderr, "bad address: %r" % r.stderr)
        ini = os.path.join(env.tmp, "broker.ini")
        with open(ini, "w") as f:
            f.write("[ingest]\nrcvbuf = 1048576\n# comment\nudp_uppr = 1.2.3.4:5\n")
        r = run("--config", ini)
        t.check(r.returncode == 2, "bad ini accepted")
        t.check("%s:4: unknown key 'udp_uppr' in [ingest]" % ini in r.stderr,
                "ini error text: %r" % r.stderr)
        with open(ini, "w") as f:
            f.write("[fusion]\nrelay_bsm = true\nobj_rate_hz = 4\n[mqtt]\nrsu_id = fromini\n")
        r = run("--config", ini, "--rsu-id", "fromflag", "--print-config")
        t.check(r.returncode == 0, "print-config failed: %r" % r.stderr)
        t.check("relay_bsm = true" in r.stdout and "obj_rate_hz = 4" in r.stdout and
                "rsu_id = fromflag" in r.stdout, "config precedence: %s" % r.stdout)

        # --print-config lists every key, the detectors' too, and its output
        # is a valid config that prints the same again.
        t.check("[detect.collision_risk]" in r.stdout and "ttc_s = " in r.stdout,
                "detector keys missing from --print-config")
        with open(ini, "w") as f:
            f.write(r.stdout)
        r2 = run("--config", ini, "--print-config")
        t.check(r2.returncode == 0 and r2.stdout == r.stdout,
                "--print-config output does not reload to itself: %r" % r2.stderr)
        # The shipped example config loads.
        src = os.environ.get("V2X_SOURCE_DIR",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
        r3 = run("--config", os.path.join(src, "deploy", "v2x-broker.ini"), "--print-config")
        t.check(r3.returncode == 0, "deploy/v2x-broker.ini: %r" % r3.stderr)


t.run(test)
