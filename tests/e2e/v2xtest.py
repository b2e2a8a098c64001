# SPDX-License-Identifier: MIT
"""v2xtest - fixtures for the end-to-end tests of v2x-broker.

Each test starts the real programs on 127.0.0.1 with per-test ports and a
per-test temporary directory:

    with v2xtest.Env() as env:
        mq = env.start_mosquitto()
        br = env.start_broker("--relay-bsm", mqtt=mq)
        sub = env.zmq_sub(br, ["bsm/"])
        env.send_udp(br.uper_port, payload)
        topic, msg = sub.recv_msgpack(timeout=5)

Everything started is killed when the block ends (also on failure or
timeout), and the stderr of every child is scanned for sanitizer reports
("ERROR: AddressSanitizer", "runtime error:", ...): any report fails the
test.  Exit codes follow meson: 0 pass, 77 skip, anything else fail.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
    "ERROR: ThreadSanitizer",
    "UndefinedBehaviorSanitizer",
)


class TestFailure(Exception):
    pass


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def build_dir():
    d = os.environ.get("V2X_BUILD_DIR")
    if d:
        return d
    return os.path.join(os.path.dirname(__file__), "..", "..", "build")


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP on 127.0.0.1 right now."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        t = socket.socket(socket.AF_INET, other)
        try:
            t.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            t.close()
        return port
    raise TestFailure("no free port")


_B32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def geohash(lat, lon, precision=7):
    """Standard geohash, to predict the broker's topics."""
    lat_r, lon_r = [-90.0, 90.0], [-180.0, 180.0]
    bits, ch, even, out = 0, 0, True, []
    while len(out) < precision:
        rng, val = (lon_r, lon) if even else (lat_r, lat)
        mid = (rng[0] + rng[1]) / 2
        if val >= mid:
            ch = (ch << 1) | 1
            rng[0] = mid
        else:
            ch <<= 1
            rng[1] = mid
        even = not even
        bits += 1
        if bits == 5:
            out.append(_B32[ch])
            bits, ch = 0, 0
    return "".join(out)


class Proc:
    def __init__(self, name, argv, logdir, env=None):
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(logdir, name + ".stderr")
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL, env=env)

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.alive():
            self.p.kill()
            self.p.wait()

    def stderr_text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def sanitizer_reports(self):
        text = self.stderr_text()
        return [m for m in SANITIZER_MARKERS if m in text]


class Mosquitto:
    def __init__(self, env, port=None):
        self.env = env
        self.port = port or free_port()
        self.proc = None
        self.starts = 0

    def conf_lines(self):
        return "persistence false\n"

    def start(self):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            skip("mosquitto not installed")
        conf = os.path.join(self.env.tmp, "mosquitto-%d.conf" % self.port)
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port +
                    self.conf_lines())
        self.starts += 1
        name = "mosquitto-%d" % self.port
        if self.starts > 1:
            name += "-%d" % self.starts
        self.proc = self.env.spawn(name, [exe, "-c", conf])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise TestFailure("mosquitto did not start:\n" + self.proc.stderr_text())

    def stop(self):
        if self.proc:
            self.proc.signal(signal.SIGTERM)
            self.proc.wait(5)
            self.proc.kill()

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port


class Broker:
    def __init__(self, env, args, mqtt=None, rsu_id="rsu-test", data_dir=None):
        self.env = env
        self.uper_port = free_port(socket.SOCK_DGRAM)
        self.msgpack_port = free_port(socket.SOCK_DGRAM)
        self.zmq_port = free_port()
        self.metrics_port = free_port()
        self.rsu_id = rsu_id
        self.data_dir = data_dir or os.path.join(env.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        exe = os.path.join(build_dir(), "broker", "v2x-broker")
        if not os.path.exists(exe):
            raise TestFailure("broker not built: " + exe)
        self.argv = [exe,
                     "--udp-uper", "127.0.0.1:%d" % self.uper_port,
                     "--udp-msgpack", "127.0.0.1:%d" % self.msgpack_port,
                     "--zmq-pub", "tcp://127.0.0.1:%d" % self.zmq_port,
                     "--metrics", "127.0.0.1:%d" % self.metrics_port,
                     "--rsu-id", rsu_id, "--data-dir", self.data_dir,
                     "--rcvbuf", "4194304", "--log-level", "debug"]
        if mqtt is not None:
            self.argv += ["--mqtt", mqtt.uri]
        # The same tests run once per pipeline mode (tests/e2e/meson.build).
        if os.environ.get("V2X_BROKER_PIPELINE"):
            self.argv += ["--pipeline", os.environ["V2X_BROKER_PIPELINE"]]
        self.argv += list(args)
        self.proc = None

    def start(self, name="broker"):
        self.proc = self.env.spawn(name, self.argv)
        deadline = time.time() + 15
        while time.time() < deadline:
            if not self.proc.alive():
                raise TestFailure("broker exited at start (%s):\n%s" %
                                  (self.proc.p.returncode, self.proc.stderr_text()))
            try:
                code, _ = self.http("/healthz")
                if code == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise TestFailure("broker not healthy:\n" + self.proc.stderr_text())

    def http(self, path):
        url = "http://127.0.0.1:%d%s" % (self.metrics_port, path)
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        """/metrics as {name{labels}: value}."""
        _, text = self.http("/metrics")
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        return out

    def stats(self):
        _, text = self.http("/api/stats")
        return json.loads(text)

    def stop(self, timeout=15):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        self.proc.signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        if rc is None:
            self.proc.kill()
        return rc


class ZmqSub:
    def __init__(self, port, topics):
        import zmq
        self.zmq = zmq
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, 1000000)
        for t in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, t.encode())
        # ZeroMQ's slow joiner: messages published before the subscription
        # reached the publisher are lost.  Wait for the ZMTP handshake (the
        # subscriptions are sent right after it), then a little more.
        mon = self.sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self.sock.connect("tcp://127.0.0.1:%d" % port)
        if not mon.poll(10000):
            raise TestFailure("ZeroMQ subscriber did not connect")
        mon.recv_multipart()
        self.sock.disable_monitor()
        mon.close(0)

    def recv(self, timeout=5.0):
        """(topic, payload bytes) or None on timeout."""
        if not self.sock.poll(int(timeout * 1000)):
            return None
        frames = self.sock.recv_multipart()
        if len(frames) != 2:
            raise TestFailure("expected 2 frames, got %d" % len(frames))
        return frames[0].decode(), frames[1]

    def recv_msgpack(self, timeout=5.0):
        import msgpack
        m = self.recv(timeout)
        if m is None:
            return None
        return m[0], msgpack.unpackb(m[1], raw=False)

    def drain(self, timeout=0.3):
        out = []
        while True:
            m = self.recv_msgpack(timeout)
            if m is None:
                return out
            out.append(m)

    def close(self):
        self.sock.close(0)


class MqttClient:
    def __init__(self, mosq, topics, client_id=None):
        import paho.mqtt.client as mqtt
        self.messages = []
        self.c = mqtt.Client(client_id=client_id or "v2xtest-%d" % os.getpid())
        self.connected = False

        def on_connect(c, u, f, rc):
            for t in topics:
                c.subscribe(t, qos=1)
            self.connected = True

        def on_message(c, u, msg):
            self.messages.append((msg.topic, msg.payload))

        self.c.on_connect = on_connect
        self.c.on_message = on_message
        self.c.connect("127.0.0.1", mosq.port)
        self.c.loop_start()
        deadline = time.time() + 10
        while not self.connected and time.time() < deadline:
            time.sleep(0.02)
        check(self.connected, "test MQTT client could not connect")
        time.sleep(0.2)  # let the subscription settle

    def publish(self, topic, payload, qos=1, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish()

    def wait_for(self, n, timeout=10.0):
        deadline = time.time() + timeout
        while len(self.messages) < n and time.time() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def wait_until(fn, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


class PersistentMosquitto(Mosquitto):
    """Mosquitto on a fixed port that keeps its sessions and retained
    messages across restarts (in the env's temp dir), so that a cloud-side
    subscriber with a persistent session misses nothing while either side
    reconnects."""

    def __init__(self, env):
        super().__init__(env)
        self.dir = os.path.join(env.tmp, "mosquitto-db")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)  # run as root, Mosquitto drops to its user

    def conf_lines(self):
        return ("persistence true\npersistence_location %s/\n"
                "autosave_interval 0\n" % self.dir)

    def stop(self):
        # It writes its database on SIGTERM: let it finish.
        self.proc.signal(signal.SIGTERM)
        check(self.proc.wait(10) is not None, "mosquitto did not stop")


class CloudSubscriber:
    """A persistent-session subscriber that reconnects by itself."""

    def __init__(self, mosq, topic, client_id=None):
        import msgpack
        import paho.mqtt.client as mqtt
        self.ids = {}
        self.transitions = set()  # (id, status, ts): one per published change
        self.connected = False
        self.c = mqtt.Client(client_id=client_id or "cloud-%d" % os.getpid(),
                             clean_session=False)
        self.c.reconnect_delay_set(min_delay=1, max_delay=1)

        def on_connect(c, u, flags, rc):
            if rc == 0:
                c.subscribe(topic, qos=1)
                self.connected = True

        def on_disconnect(c, u, rc):
            self.connected = False

        def on_message(c, u, msg):
            body = msgpack.unpackb(msg.payload)
            self.ids[body["id"]] = self.ids.get(body["id"], 0) + 1
            self.transitions.add((body["id"], body.get("status"), body.get("ts")))

        self.c.on_connect = on_connect
        self.c.on_disconnect = on_disconnect
        self.c.on_message = on_message
        self.c.connect("127.0.0.1", mosq.port)
        self.c.loop_start()
        check(wait_until(lambda: self.connected, 10), "cloud subscriber not connected")
        time.sleep(0.3)  # let the subscription settle

    def missing(self, ids):
        return sorted(set(ids) - set(self.ids))

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class Env:
    """A test's processes, sockets and temp dir; everything ends with it."""

    def __init__(self, timeout=120):
        self.tmp = tempfile.mkdtemp(prefix="v2x-e2e-")
        self.procs = []
        self.closers = []
        self.timeout = timeout
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def __enter__(self):
        # A test that hangs is killed with everything it started.
        signal.signal(signal.SIGALRM, self._on_timeout)
        signal.alarm(self.timeout)
        return self

    def _on_timeout(self, signum, frame):
        raise TestFailure("test timed out after %d s" % self.timeout)

    def spawn(self, name, argv):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        p = Proc(name, argv, self.tmp, env)
        self.procs.append(p)
        return p

    def start_mosquitto(self, port=None):
        return Mosquitto(self, port).start()

    def start_broker(self, *args, mqtt=None, **kw):
        return Broker(self, args, mqtt=mqtt, **kw).start()

    def zmq_sub(self, broker, topics):
        s = ZmqSub(broker.zmq_port, topics)
        self.closers.append(s.close)
        time.sleep(0.2)  # the subscription travels after the handshake
        return s

    def mqtt_client(self, mosq, topics, **kw):
        c = MqttClient(mosq, topics, **kw)
        self.closers.append(c.close)
        return c

    def send_udp(self, port, payload):
        self.udp.sendto(payload, ("127.0.0.1", port))

    def __exit__(self, etype, e, tb):
        signal.alarm(0)
        for c in reversed(self.closers):
            try:
                c()
            except Exception:
                pass
        for p in reversed(self.procs):
            p.kill()
        reports = []
        for p in self.procs:
            r = p.sanitizer_reports()
            if r:
                reports.append((p.name, r, p.stderr_text()))
        failed = etype is not None or bool(reports)
        for name, r, text in reports:
            print("sanitizer report in %s: %s\n%s" % (name, ", ".join(r), text[-8000:]))
        if failed:
            for p in self.procs:
                print("---- %s stderr (tail) ----\n%s" % (p.name, p.stderr_text()[-3000:]))
            print("temp dir kept: " + self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports and etype is None:
            raise TestFailure("sanitizer reports in children")
        return False


# ---- message helpers -------------------------------------------------------

def bsm_frame(vid, lat, lon, speed=500, heading=9000, ts=None, cnt=1):
    """A msgpack bsm frame (docs/wire.md), lat/lon in degrees."""
    import msgpack
    return msgpack.packb({
        "t": "bsm", "ts": ts if ts is not None else time.time_ns(), "id": vid,
        "cnt": cnt, "sec": 1000, "lat": lat, "lon": lon, "elev": 100,
        "acc_maj": 10, "acc_min": 10, "acc_orient": 0, "trans": 2,
        "speed": speed, "heading": heading, "angle": 0, "accel_long": 0,
        "accel_lat": 0, "accel_vert": 0, "yaw": 0, "brakes": 0, "traction": 0,
        "abs": 0, "scs": 0, "boost": 0, "aux_brakes": 0, "width": 180,
        "length": 450})


def bsm_jer(vid, lat, lon, speed=500, heading=9000, cnt=1):
    """The JER (X.697 style) text of a BSM MessageFrame, lat/lon degrees."""
    return json.dumps({"messageId": 20, "value": {"coreData": {
        "msgCnt": cnt, "id": "%08X" % vid, "secMark": 1000,
        "lat": int(round(lat * 1e7)), "long": int(round(lon * 1e7)),
        "elev": 100,
        "accuracy": {"semiMajor": 10, "semiMinor": 10, "orientation": 0},
        "transmission": "forwardGears", "speed": speed, "heading": heading,
        "angle": 0, "accelSet": {"long": 0, "lat": 0, "vert": 0, "yaw": 0},
        "brakes": {"wheelBrakes": {"value": "00", "length": 5},
                   "traction": "unavailable", "abs": "unavailable",
                   "scs": "unavailable", "brakeBoost": "unavailable",
                   "auxBrakes": "unavailable"},
        "size": {"width": 180, "length": 450}}}})


def uper_bsms(specs):
    """UPER MessageFrames for [(vid, lat, lon), ...] through v2x-codec."""
    exe = os.path.join(build_dir(), "codecs", "v2x-codec")
    if not os.path.exists(exe):
        raise TestFailure("v2x-codec not built: " + exe)
    text = "".join(bsm_jer(*s) + "\n" for s in specs)
    r = subprocess.run([exe, "encode", "--to", "uper", "--hex"], input=text.encode(),
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise TestFailure("v2x-codec encode failed: " + r.stderr.decode())
    lines = [l for l in r.stdout.decode().split() if l]
    check(len(lines) == len(specs), "v2x-codec gave %d frames for %d" %
          (len(lines), len(specs)))
    return [bytes.fromhex(l) for l in lines]


def run(test):
    """Run test() and map the outcome to a meson exit code."""
    try:
        test()
    except TestFailure as e:
        print("FAIL: %s" % e)
        sys.exit(1)
    print("PASS")
    sys.exit(0)
