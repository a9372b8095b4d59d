"""Fixtures for the socfw network-namespace lab tests (run as root:
``python3 -m pytest -q Tests/lab``).

Every lab has a unique name (t<pid><suffix>), is brought up with Scripts/lab
and ALWAYS torn down with ``Scripts/lab down`` (finalizer registered before
``up``, so a half-built lab is removed too). Traffic only flows between the
lab's own namespaces, on 198.18.0.0/15 and fd53:6f63::/32. Every subprocess
has a timeout.

Markers:
  netns   needs root (network namespaces) — skipped otherwise
  socfwd  needs the socfwd binary ($SOCFWD_BIN or .build/release/socfwd) —
          skipped otherwise, with the path in the reason
"""
import ipaddress
import json
import os
import re
import select
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LAB = REPO / "Scripts" / "lab"
LABD = REPO / "Scripts" / "lab.d"
LABNET = HERE / "labnet.py"
PY = sys.executable
SOCFWD_BIN = os.environ.get("SOCFWD_BIN") or str(REPO / ".build" / "release" / "socfwd")
STATE_ROOT = Path(os.environ.get("LAB_STATE_ROOT", "/run/socfw-lab"))

IS_ROOT = os.geteuid() == 0
HAVE_SOCFWD = os.path.isfile(SOCFWD_BIN) and os.access(SOCFWD_BIN, os.X_OK)
NOT_ROOT_REASON = "lab tests need root (they create network namespaces): run as root"
NO_SOCFWD_REASON = (f"socfwd binary not found at {SOCFWD_BIN} "
                    "(build it with `swift build -c release`, or set SOCFWD_BIN)")

# Ports served in the server namespace by labnet.py serve.
TCP_PORTS = (23, 80, 8080, 9001, 9002)
UDP_PORTS = (5300, 9003, 9004)


def pytest_configure(config):
    config.addinivalue_line("markers", "netns: needs root and network namespaces")
    config.addinivalue_line("markers", "socfwd: needs the socfwd binary")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("netns") and not IS_ROOT:
            item.add_marker(pytest.mark.skip(reason=NOT_ROOT_REASON))
        elif item.get_closest_marker("socfwd") and not HAVE_SOCFWD:
            item.add_marker(pytest.mark.skip(reason=NO_SOCFWD_REASON))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def pytest_sessionstart(session):
    """Remove labs left behind by an earlier test run that was killed (names
    t<pid><suffix> whose pid is gone). Only our own naming scheme is touched."""
    if not IS_ROOT:
        return
    names = set()
    if STATE_ROOT.is_dir():
        names.update(p.name for p in STATE_ROOT.iterdir() if p.is_dir())
    netns = Path("/run/netns")
    if netns.is_dir():
        for p in netns.iterdir():
            m = re.fullmatch(r"(t\d+[a-z]+)-(client|fw|server)", p.name)
            if m:
                names.add(m.group(1))
    for name in sorted(names):
        m = re.fullmatch(r"t(\d+)[a-z]+", name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            subprocess.run([str(LAB), "down", "--name", name], capture_output=True, timeout=60)


# ----------------------------------------------------------------- helpers
def run(args, timeout, check=False, env=None, input=None):
    """subprocess.run with a mandatory timeout; a timeout is a test failure."""
    args = [str(a) for a in args]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"timed out after {timeout}s: {shlex.join(args)}\n"
                             f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}") from None
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {shlex.join(args)}\n"
                             f"--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
    return p


def poll(fn, timeout, interval=0.1):
    """Call fn until it returns something truthy or timeout passes; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def ip_pattern(addr):
    """Regex matching an address as text, compressed or exploded form."""
    a = ipaddress.ip_address(addr)
    forms = {str(a), a.exploded}
    return re.compile("|".join(rf"(?<![0-9A-Fa-f:.]){re.escape(f)}(?![0-9A-Fa-f])" for f in forms))


class Lab:
    def __init__(self, name, mode):
        self.name = name
        self.mode = mode
        self.env = {}
        self.server_proc = None

    # --- Scripts/lab
    def lab(self, *args, timeout=90, check=True):
        return run([LAB, *args, "--name", self.name], timeout=timeout, check=check)

    def up(self, socfwd=True, config=None):
        args = ["up", "--mode", self.mode]
        if not socfwd:
            args.append("--no-socfwd")
        if config:
            args += ["--config", config]
        p = self.lab(*args, timeout=120)
        self.load_env()
        return p

    def load_env(self):
        p = self.lab("env", timeout=15)
        env = {}
        for tok in shlex.split(p.stdout, comments=True):
            k, _, v = tok.partition("=")
            env[k] = v
        self.env = env
        return env

    def down(self):
        p = self.lab("down", timeout=90, check=False)
        if p.returncode != 0:
            print(f"warning: lab down {self.name} failed: {p.stderr}", file=sys.stderr)

    def socfwd(self, action, config=None, check=True, timeout=90):
        args = ["socfwd", action] + (["--config", str(config)] if config else [])
        return self.lab(*args, timeout=timeout, check=check)

    def status(self):
        return self.lab("status", timeout=30, check=False)

    # --- addresses / namespaces
    @property
    def client_ns(self):
        return self.env["LAB_CLIENT_NS"]

    @property
    def server_ns(self):
        return self.env["LAB_SERVER_NS"]

    @property
    def fw_ns(self):
        return self.env["LAB_FW_NS"]

    def server_ip(self, family):
        return self.env["LAB_SERVER_IP" if family == 4 else "LAB_SERVER_IP6"]

    def client_ip(self, family):
        return self.env["LAB_CLIENT_IP" if family == 4 else "LAB_CLIENT_IP6"]

    def ns(self, ns, args, timeout, check=False):
        return run(["ip", "netns", "exec", ns, *args], timeout=timeout, check=check)

    # --- traffic
    def probe(self, proto, family, port, timeout=2.0, http=False, src="client", host=None):
        """One TCP connect / UDP exchange from `src` namespace; returns labnet's JSON dict."""
        ns = self.client_ns if src == "client" else self.server_ns
        host = host or self.server_ip(family)
        args = [PY, LABNET, "probe", proto, host, str(port), "--timeout", str(timeout)]
        if http:
            args.append("--http")
        p = self.ns(ns, args, timeout=timeout + 15, check=True)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def curl(self, family, port, timeout=5):
        host = self.server_ip(family)
        url = f"http://{host}:{port}/" if family == 4 else f"http://[{host}]:{port}/"
        return self.ns(self.client_ns, ["curl", "-sS", "--noproxy", "*", "-m", str(timeout),
                                        "-w", "\nhttp_code=%{http_code}\n", url], timeout=timeout + 10)

    def ping(self, family, count=1, wait=2):
        args = ["ping", "-n", "-q", "-c", str(count), "-W", str(wait)]
        if family == 6:
            args.append("-6")
        return self.ns(self.client_ns, args + [self.server_ip(family)], timeout=count * wait + 10)

    # --- listeners in the server namespace
    def start_servers(self):
        self.server_proc = subprocess.Popen(
            ["ip", "netns", "exec", self.server_ns, PY, str(LABNET), "serve",
             "--tcp", ",".join(map(str, TCP_PORTS)), "--udp", ",".join(map(str, UDP_PORTS)),
             "--max-seconds", "1800"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.server_proc.stdout], [], [], 15)
        line = self.server_proc.stdout.readline() if ready else ""
        if not line.startswith("ready"):
            self.stop_servers()
            raise AssertionError(f"labnet serve did not start in {self.server_ns}: {line!r}")
        # Positive control: every listener answers locally (no firewall on this path),
        # so a timeout through the lab is the firewall, not a missing server.
        for fam in (4, 6):
            for port in TCP_PORTS:
                r = self.probe("tcp", fam, port, src="server", timeout=2)
                assert r["result"] == "ok", f"local tcp {port} ipv{fam} in {self.server_ns}: {r}"
            for port in UDP_PORTS:
                r = self.probe("udp", fam, port, src="server", timeout=2)
                assert r["result"] == "ok", f"local udp {port} ipv{fam} in {self.server_ns}: {r}"

    def stop_servers(self):
        p, self.server_proc = self.server_proc, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)

    # --- files written by socfwd
    def file_size(self, key):
        try:
            return os.path.getsize(self.env[key])
        except OSError:
            return 0

    def read_from(self, key, offset):
        try:
            with open(self.env[key], "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def make_lab(request, mode, suffix, socfwd=True, servers=True):
    lab = Lab(f"t{os.getpid()}{suffix}", mode)
    request.addfinalizer(lab.down)          # before up: a partial lab goes too
    lab.up(socfwd=socfwd)
    if servers:
        request.addfinalizer(lab.stop_servers)
        lab.start_servers()
    return lab


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="session", params=["router", "bridge"])
def socfwd_lab(request):
    """A lab per mode with socfwd running the demo config and listeners on the server."""
    if not IS_ROOT:
        pytest.skip(NOT_ROOT_REASON)
    if not HAVE_SOCFWD:
        pytest.skip(NO_SOCFWD_REASON)
    return make_lab(request, request.param, request.param[0])


@pytest.fixture(params=[4, 6], ids=["ipv4", "ipv6"])
def family(request):
    return request.param


def lab_with_rules(request, mode, suffix, rules, name="rules", edit_config=None):
    """A lab whose socfwd runs a copy of the lab config with `rules:` pointing
    at a rules file in the lab's state dir. `rules`: the file's text, or a
    function of the lab returning it, or None to keep the lab's rules
    directory. `edit_config`: text -> text, applied to the copied config.
    The rules path is `lab.rules_path`."""
    if not IS_ROOT:
        pytest.skip(NOT_ROOT_REASON)
    if not HAVE_SOCFWD:
        pytest.skip(NO_SOCFWD_REASON)
    lab = make_lab(request, mode, suffix)
    state = Path(lab.env["LAB_STATE_DIR"])
    text = Path(lab.env["LAB_DEFAULT_CONFIG"]).read_text()
    if rules is None:
        lab.rules_path = Path(lab.env["LAB_RULES"])
    else:
        lab.rules_path = state / f"{name}.yaml"
        lab.rules_path.write_text(rules(lab) if callable(rules) else rules)
        text, n = re.subn(r"(?m)^rules:.*$", f"rules: {lab.rules_path}", text)
        assert n == 1, "no `rules:` line in the lab config"
    if edit_config:
        text = edit_config(text)
    config = state / f"socfwd-{name}.yaml"
    config.write_text(text)
    lab.config_path = config
    t = time.monotonic()
    lab.socfwd("restart", config=str(config))
    lab.start_seconds = time.monotonic() - t
    return lab


class ControlClient:
    """A minimal client of socfwd's control socket (Docs/control-protocol.md)."""
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def call(self, method, params=None):
        self.next_id += 1
        req = {"id": self.next_id, "method": method}
        if params is not None:
            req["params"] = params
        self.send_raw(json.dumps(req).encode() + b"\n")
        while True:
            msg = self.line()
            if msg.get("id") == self.next_id:
                return msg

    def close(self):
        self.sock.close()


def control_call(lab, method, params=None):
    """One call on the lab socfwd's control socket (a fresh connection)."""
    c = ControlClient(lab.env["LAB_SOCKET"])
    try:
        c.line()  # hello
        return c.call(method, params)
    finally:
        c.close()
