#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Thread scheduling.  --rt-priority: the stage threads and ZeroMQ's I/O thread run SCHED_FIFO at
that priority, the other threads (metrics, MQTT, main) do not, and messages
still flow; without the privilege the broker says so and runs normally."""

import os
import time

import v2xtest as t

SCHED_FIFO = 1


def thread_policies(pid):
    """{thread name: (policy, rt priority)} from /proc."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        # Fields after the name start at 3 (state): rt_priority is 40,
        # policy 41.
        out[name] = (int(fields[41 - 3]), int(fields[40 - 3]))
    return out


SCHED_BATCH = 3


def test():
    with t.Env() as env:
        # Without rt_priority: in the single pipeline ZeroMQ's I/O thread is
        # a batch thread (it must not preempt the pipeline thread it shares
        # a CPU with); with a thread per stage it is left alone.
        for mode, want in (("single", SCHED_BATCH), ("threads", 0)):
            b = env.start_broker("--pipeline", mode)
            pol = thread_policies(b.proc.p.pid)
            io = [n for n in pol if n.startswith("ZMQbg/IO")]
            t.check(io and all(pol[n][0] == want for n in io),
                    "%s pipeline: ZeroMQ I/O thread policy %r, want %d" % (mode, pol, want))
            t.check(b.stop() == 0, "broker did not exit 0")
        br = env.start_broker("--rt-priority", "7", "--relay-bsm")
        log = br.proc.stderr_text
        if "rt_priority 7 not applied" in log():
            # Unprivileged: a clear warning and normal scheduling.
            pol = thread_policies(br.proc.p.pid)
            t.check(all(p != SCHED_FIFO for p, _ in pol.values()),
                    "SCHED_FIFO although not applied: %r" % pol)
            t.check(br.stop() == 0, "broker did not exit 0")
            t.skip("no CAP_SYS_NICE here: the warning path was checked")
        t.check("SCHED_FIFO priority 7" in log(), "no rt notice:\n" + log())
        pol = thread_policies(br.proc.p.pid)
        stages = [n for n in pol if n.startswith("v2x-pipeline") or
                  n in ("v2x-ingest", "v2x-fusion", "v2x-publish")]
        t.check(stages, "no stage threads found: %r" % pol)
        for n in stages + [n for n in pol if n.startswith("ZMQbg/IO")]:
            t.check(pol[n] == (SCHED_FIFO, 7), "%s runs %r, not SCHED_FIFO 7" % (n, pol[n]))
        for n in pol:
            if n.startswith("MHD") or n == "v2x-broker":
                t.check(pol[n][0] != SCHED_FIFO, "%s should not be real-time" % n)

        sub = env.zmq_sub(br, ["bsm/"])
        env.send_udp(br.uper_port, t.uper_bsms([(0x5151, 48.1372, 11.5761)])[0])
        m = sub.recv_msgpack(5.0)
        t.check(m is not None and m[1].get("id") == 0x5151, "no relay at rt priority")
        t.check(br.stop() == 0, "broker did not exit 0")


t.run(test)
