#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""v2x-sim as the traffic management centre (--mqtt): a lane closure is
announced when it starts and kept retained while it lasts (a subscriber
that arrives meanwhile - a broker starting up - receives it), then cleared,
and the retained message is deleted (a subscriber that arrives afterwards
receives nothing)."""

import json
import os
import subprocess
import time

import v2xtest as t


def test():
    with t.Env(timeout=90) as env:
        mq = env.start_mosquitto()
        live = env.mqtt_client(mq, ["v2x/rsuS/advisory/#"], client_id="live")
        sim = os.path.join(t.build_dir(), "sim", "v2x-sim")
        p = subprocess.Popen([sim, "run", "--scenario", "highway", "--vehicles", "40",
                              "--incident", "congestion@1+5", "--duration", "8",
                              "--no-send", "--quiet", "--mqtt", mq.uri,
                              "--rsu-id", "rsuS"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        t.check(t.wait_until(lambda: len(live.messages) >= 1, 10),
                "closure not announced")
        topic, body = live.messages[0]
        closure = json.loads(body)
        t.check(topic.startswith("v2x/rsuS/advisory/lane_closure/") and
                closure["type"] == "lane_closure" and closure["status"] == "active" and
                closure["lanes"], "announcement %s %r" % (topic, closure))

        # Arriving during the closure: the retained announcement.
        late = env.mqtt_client(mq, ["v2x/rsuS/advisory/#"], client_id="late")
        got = late.wait_for(1, 5)
        t.check(len(got) == 1 and got[0][0] == topic and json.loads(got[0][1]) == closure,
                "retained closure not handed to a new subscriber: %r" % got)

        out, err = p.communicate(timeout=30)
        t.check(p.returncode == 0, "v2x-sim exit %d: %s" % (p.returncode, err.decode()))
        got = live.wait_for(3, 10)
        t.check(len(got) == 3 and json.loads(got[1][1])["status"] == "cleared" and
                got[2] == (topic, b""), "end of the closure: %r" % got)

        # Arriving after it: nothing is kept.
        after = env.mqtt_client(mq, ["v2x/rsuS/advisory/#"], client_id="after")
        time.sleep(1.0)
        t.check(after.messages == [], "retained closure left behind: %r" % after.messages)


t.run(test)
