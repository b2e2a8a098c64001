#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the Erlang/OTP UPER cross-check (uper_interop.escript).

Usage: run_interop.py TOOL [COUNT]
Exit 0 pass, 1 fail, 77 skip when Erlang's escript/asn1 is not installed
(Debian: apt-get install -y erlang-base erlang-asn1 erlang-dev).
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 2:
        print("usage: run_interop.py TOOL [COUNT]")
        return 2
    tool = os.path.abspath(sys.argv[1])
    count = sys.argv[2] if len(sys.argv) > 2 else "1000"
    here = os.path.dirname(os.path.abspath(__file__))
    escript = shutil.which("escript")
    if not escript:
        print("SKIP: escript not found (apt-get install erlang-base erlang-asn1)")
        return 77
    with tempfile.TemporaryDirectory(prefix="v2x-interop-") as work:
        proc = subprocess.run(
            [escript, os.path.join(here, "uper_interop.escript"), tool,
             os.path.join(here, "V2XJ2735Interop.asn"), work, count],
            capture_output=True, text=True, timeout=600)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if "asn1ct" in proc.stdout + proc.stderr and "undef" in proc.stdout + proc.stderr:
            print("SKIP: Erlang asn1 application missing (apt-get install erlang-asn1)")
            return 77
        return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
