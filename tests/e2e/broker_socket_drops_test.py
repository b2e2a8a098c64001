#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Datagrams the kernel drops before the broker sees them (its socket's
receive buffer full) are counted: v2x_rx_socket_dropped_total per listener,
so that received + socket_dropped is everything that was sent."""

import signal
import time

import v2xtest as t

SENT = 4000


def test():
    with t.Env() as env:
        # The smallest receive buffer the broker accepts: a stopped broker's
        # socket overflows after a few hundred datagrams.
        br = env.start_broker("--rcvbuf", "65536")
        label = 'listener="uper:127.0.0.1:%d"' % br.uper_port
        frame = t.uper_bsms([(0x7777, 48.1372, 11.5761)])[0]
        br.proc.signal(signal.SIGSTOP)
        try:
            for _ in range(SENT):
                env.send_udp(br.uper_port, frame)
        finally:
            br.proc.signal(signal.SIGCONT)

        def counts():
            m = br.metrics()
            return (m.get("v2x_rx_datagrams_total{%s}" % label, -1),
                    m.get("v2x_rx_socket_dropped_total{%s}" % label, -1))

        t.check(t.wait_until(lambda: sum(counts()) == SENT, 10),
                "received + socket_dropped = %r, sent %d" % (counts(), SENT))
        rx, dropped = counts()
        t.check(dropped > 0 and rx > 0, "expected both received and dropped: %r" %
                ((rx, dropped),))
        st = br.stats()
        lis = [l for l in st["listeners"] if l["name"].startswith("uper:")][0]
        t.check(lis["socket_dropped"] == dropped, "/api/stats disagrees: %r" % lis)
        # The broker is fine afterwards.
        time.sleep(0.2)
        env.send_udp(br.uper_port, frame)
        t.check(t.wait_until(lambda: counts()[0] == rx + 1, 5), "not receiving after the flood")
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
