#!/usr/bin/env python3
"""Scripts/bench control: the control socket under load.

Brings up a lab of its own (router mode, socfwd inline), adds an ALERT rule
for a UDP port through the control socket, and while a UDP stream to that
port crosses the firewall (every datagram an alert):

  * status round trip: N `status` calls one after another over the control
    socket (p50, p99, max in microseconds);
  * baseline in the same run: the same client against a minimal echo server
    on a Unix socket in this process's machine (what the client and the
    kernel cost without socfwd);
  * events: a subscriber to `alerts` counts the alert events it receives per
    second, next to the datagrams sent.

Human lines first, then ONE JSON object as the last line.
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "Scripts" / "lab"
PY = sys.executable


def lab(*args, check=True, timeout=120):
    return subprocess.run([str(LAB), *args], capture_output=True, text=True, check=check, timeout=timeout)


def lab_env(name):
    out = lab("env", "--name", name).stdout
    env = {}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        env[k] = v.strip("'")
    return env


class Client:
    def __init__(self, path, greeting=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""
        self.n = 0
        if greeting:
            hello = self.line()
            assert hello.get("event") == "hello", hello

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None):
        self.n += 1
        req = {"id": self.n, "method": method}
        if params:
            req["params"] = params
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self.line()
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']['message']}")
                return msg["result"]


def round_trips(client, calls):
    times = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        client.call("status")
        times.append((time.perf_counter_ns() - t) / 1000)
    times.sort()
    return {"p50": times[len(times) // 2], "p99": times[int(len(times) * 0.99) - 1], "max": times[-1]}


def echo_server(path, stop):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(0.5)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        with conn:
            buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    req = json.loads(line)
                    conn.sendall(json.dumps({"id": req["id"], "result": {"ok": True}}).encode() + b"\n")
    srv.close()


SENDER = r"""
import socket, sys, time
host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
interval = 1.0 / rate
sent = 0
start = time.monotonic()
while True:
    now = time.monotonic()
    if now - start >= seconds:
        break
    due = int((now - start) / interval) + 1
    while sent < due:
        s.sendto(b"socfw-bench-control %d" % sent, (host, port))
        sent += 1
    time.sleep(interval / 2)
print(sent)
"""


def main():
    ap = argparse.ArgumentParser(description="control socket benchmark")
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=5000, help="alerting datagrams per second")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--name", default=f"bctl{os.getpid()}")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench control: needs root (network namespaces)")

    # Baseline: the same client, a minimal server, same machine.
    tmp = tempfile.mkdtemp(prefix="socfw-bench-control-")
    echo_path = os.path.join(tmp, "echo.sock")
    stop = threading.Event()
    t = threading.Thread(target=echo_server, args=(echo_path, stop), daemon=True)
    t.start()
    for _ in range(50):
        if os.path.exists(echo_path):
            break
        time.sleep(0.05)
    baseline = round_trips(Client(echo_path, greeting=False), args.calls)
    stop.set()
    print(f"baseline (echo server, same client): p50 {baseline['p50']:.0f} us, p99 {baseline['p99']:.0f} us")

    sender = None
    try:
        lab("up", "--name", args.name, timeout=180)
        env = lab_env(args.name)
        ctl = Client(env["LAB_SOCKET"])
        port = 9177
        ctl.call("rules.add", {"rule": {"name": "bench-alert-udp", "action": "ALERT", "priority": 1,
                                        "conditions": [{"field": "protocol", "operator": "eq", "value": "udp"},
                                                       {"field": "dst_port", "operator": "eq", "value": str(port)}]}})
        sub = Client(env["LAB_SOCKET"])
        sub.call("subscribe", {"topics": ["alerts"]})
        sub.sock.settimeout(1)
        received = 0
        counting = threading.Event()
        done = threading.Event()

        def count():
            nonlocal received
            while not done.is_set():
                try:
                    msg = sub.line()
                except (socket.timeout, EOFError):
                    continue
                if msg.get("event") == "alert" and counting.is_set():
                    received += 1
        counter = threading.Thread(target=count, daemon=True)
        counter.start()
        duration = args.seconds + 2 + args.calls * 0.0002
        sender = subprocess.Popen(["ip", "netns", "exec", env["LAB_CLIENT_NS"], PY, "-c", SENDER, env["LAB_SERVER_IP"],
                                   str(port), str(args.rate), str(duration)], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        counting.set()
        t0 = time.monotonic()
        time.sleep(args.seconds)
        counting.clear()
        events_per_s = received / (time.monotonic() - t0)
        loaded = round_trips(ctl, args.calls)
        sent = int(sender.communicate(timeout=duration + 30)[0].strip() or 0)
        sender = None
        done.set()
        status = ctl.call("status")
        ctl.call("rules.delete", {"name": "bench-alert-udp"})
        print(f"status over the control socket while {args.rate:.0f} alerting datagrams/s cross the lab: "
              f"p50 {loaded['p50']:.0f} us, p99 {loaded['p99']:.0f} us, max {loaded['max']:.0f} us ({args.calls} calls)")
        print(f"alert events to one subscriber: {events_per_s:.0f}/s (datagrams sent {sent}, socfwd packets {status['packets']}, "
              f"events lost {status['events_lost']})")
        print(json.dumps({"status_p50_us": round(loaded["p50"], 1), "status_p99_us": round(loaded["p99"], 1),
                          "status_max_us": round(loaded["max"], 1), "target_status_p99_us": 1000,
                          "baseline_echo_p50_us": round(baseline["p50"], 1), "baseline_echo_p99_us": round(baseline["p99"], 1),
                          "events_per_s": round(events_per_s), "alerting_rate": args.rate, "calls": args.calls}))
    finally:
        if sender is not None:
            sender.kill()
        lab("down", "--name", args.name, check=False, timeout=120)


if __name__ == "__main__":
    main()
