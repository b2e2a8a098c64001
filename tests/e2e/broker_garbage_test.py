#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Garbage datagrams are counted (received, rejected by reason) and do not
disturb valid traffic on the same listener; with io_uring and with the
recvmmsg fallback."""

import os
import random

import v2xtest as t


def run_once(extra):
    rnd = random.Random(1234)
    with t.Env() as env:
        br = env.start_broker("--relay-bsm", *extra)
        t.check(br.metrics()["v2x_ingest_io_uring"] == (0 if extra else 1),
                "ingest mode not as configured")
        sub = env.zmq_sub(br, ["bsm/"])
        uper = t.uper_bsms([(100 + i, 48.1 + i * 1e-4, 11.5) for i in range(20)])
        garbage_uper = [b"", b"\x00", uper[0][:5], uper[0] + b"\x00\x00\x00",
                        b"\xff" * 40] + [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
                                         for _ in range(45)]
        # Larger than a receive buffer (2 KiB by default): "limit".
        garbage_mp = [b"\x80" + b"\x00" * 3000, b"\x80", b"\x81\xa1t\xa3bsm", b"not msgpack at all",
                      bytes([0x81, 0xa1, ord("t"), 0xa3]) + b"zzz"] + \
                     [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200)))
                      for _ in range(45)]
        valid_mp = [t.bsm_frame(500 + i, 48.2, 11.6 + i * 1e-4) for i in range(20)]
        # Interleave: every valid message sits between garbage.
        for i in range(50):
            env.send_udp(br.uper_port, garbage_uper[i])
            env.send_udp(br.msgpack_port, garbage_mp[i])
            if i < 20:
                env.send_udp(br.uper_port, uper[i])
                env.send_udp(br.msgpack_port, valid_mp[i])

        ids = set()
        for topic, body in sub.drain(1.5):
            ids.add(body["id"])
        want = set(range(100, 120)) | set(range(500, 520))
        t.check(ids == want, "valid BSMs lost: missing %r" % sorted(want - ids))

        def counts():
            m = br.metrics()
            rx = {k: v for k, v in m.items() if k.startswith("v2x_rx_datagrams_total")}
            return m if sum(rx.values()) == 140 else None

        m = t.wait_until(counts, 5)
        t.check(m is not None, "v2x_rx_datagrams_total != 140")
        up = 'listener="uper:127.0.0.1:%d"' % br.uper_port
        mp = 'listener="msgpack:127.0.0.1:%d"' % br.msgpack_port
        rej_up = sum(v for k, v in m.items() if k.startswith("v2x_rx_rejected_total{" + up))
        rej_mp = sum(v for k, v in m.items() if k.startswith("v2x_rx_rejected_total{" + mp))
        dec_up = m["v2x_rx_decoded_total{%s}" % up]
        dec_mp = m["v2x_rx_decoded_total{%s}" % mp]
        # A random byte string may by chance be a valid frame: every datagram
        # is accounted for exactly once, and at least the crafted ones fail.
        t.check(dec_up + rej_up == 70 and dec_mp + rej_mp == 70,
                "accounting: %r %r %r %r" % (dec_up, rej_up, dec_mp, rej_mp))
        t.check(rej_up >= 5 and rej_mp >= 5, "crafted garbage not rejected")
        t.check(m['v2x_rx_rejected_total{%s,reason="trailing"}' % up] >= 1,
                "trailing octets not reported")
        t.check(m['v2x_rx_rejected_total{%s,reason="truncated"}' % up] >= 1,
                "truncated frame not reported")
        t.check(m['v2x_rx_rejected_total{%s,reason="limit"}' % mp] >= 1,
                "oversized datagram not reported as limit")
        t.check(br.stop() == 0, "broker did not exit 0")


def test():
    run_once([])                    # io_uring
    run_once(["--force-recvmmsg"])  # the fallback path


t.run(test)
