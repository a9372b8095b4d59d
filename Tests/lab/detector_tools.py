"""Helpers for Tests/lab/test_detectors_inline.py: the detector configuration
(one place), the lab for detector tests, an incremental EVE reader, and the
real attack tools (nmap, hping3, hydra against Debian's sshd, curl, iperf3)
run inside the lab namespaces.

Every tool runs with `ip netns exec` in one of the lab's own namespaces and
aims only at the lab's server address; every subprocess has a timeout and
every background process (sshd, iperf3 server, the packet-counter monitor) is
stopped by the caller's finalizer, even when the test fails. `Scripts/lab
down` also ends whatever is left in the lab namespaces.

Environment:
  SOCFW_LAB_DETECTION_CONFIG=0  leave the `detection:` block out of the lab
        config: for checking the traffic side with a socfwd that does not know
        the key yet (the detection assertions then fail, the tools still run).
"""
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from conftest import PY, lab_with_rules

# ------------------------------------------------------------ configuration
# The detector configuration used by every lab of the detector tests: the one
# place to tune it. Appended to the lab's socfwd.yaml (everything not named
# here keeps socfwd's defaults).
SCAN_WINDOW_SECONDS = 10
SCAN_PORTS = 20                  # distinct ports in the window that make a vertical scan
DETECTION_YAML = f"""\
detection:
  scan:
    window: {SCAN_WINDOW_SECONDS}s
    ports: {SCAN_PORTS}
"""

# No firewall rules in the detector labs: the demo rules LOG every packet to
# port 80 (a SYN flood would write one EVE line and one log line per packet)
# and are not what these tests are about. default_action stays ALLOW.
RULES_YAML = "rules: []\n"

# Tool parameters (measured on a 2-CPU VM through socfwd, see the test module).
NMAP_PORTS = 100                 # ports 1-NMAP_PORTS: well over SCAN_PORTS
NMAP_COMMON = ["-n", "-Pn", "-T4", "--max-retries", "1", "--max-rtt-timeout", "200ms",
               "--min-rate", "300", "-p", f"1-{NMAP_PORTS}"]
NMAP_TIMEOUT = 30
HPING_SECONDS = 3
HYDRA_PASSWORDS = 100           # ~24 connections: brute_force.connections is 15 per 60 s
HYDRA_LOGIN = "socfwlab"         # need not exist: sshd answers "Invalid user", every try fails
HYDRA_ARGS = ["-t", "4", "-f", "-I", "-w", "2"]
HYDRA_TIMEOUT = 60
CURL_REQUESTS = 50
IPERF_SECONDS = 3
IPERF_PORT = 5201

TOOLS = {"nmap": "nmap", "hping3": "hping3", "hydra": "hydra", "sshd": "openssh-server",
         "ssh-keygen": "openssh-client", "curl": "curl", "iperf3": "iperf3"}

ENV_DETECTION_CONFIG = "SOCFW_LAB_DETECTION_CONFIG"


def require_tools(*names):
    missing = [n for n in names if not find_tool(n)]
    if missing:
        pkgs = sorted({TOOLS.get(n, n) for n in missing})
        pytest.skip(f"missing tools {missing} (apt-get install {' '.join(pkgs)}; "
                    "all lab packages: Scripts/lab.d/packages.txt)")


def find_tool(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def detection_config(text, detection_yaml=None):
    if os.environ.get(ENV_DETECTION_CONFIG, "1") == "0":
        return text
    return text.rstrip("\n") + "\n" + (detection_yaml or DETECTION_YAML)


def detector_lab(request, mode, suffix, detection_yaml=None):
    """A lab (unique name, torn down by finalizer) running socfwd with the
    detector configuration (DETECTION_YAML unless given), no rules, and
    labnet's listeners on the server."""
    lab = lab_with_rules(request, mode, suffix, RULES_YAML, name="detect",
                         edit_config=lambda text: detection_config(text, detection_yaml))
    lab.eve = Eve(lab)
    return lab


def fresh_socfwd(lab):
    """Restart socfwd (same config): empty detector state and suppression."""
    t = time.monotonic()
    lab.socfwd("restart")
    lab.eve.mark()
    return time.monotonic() - t


# ------------------------------------------------------------ subprocesses
def ns_run(ns, args, timeout, cwd=None):
    """`ip netns exec NS args` with a timeout (a timeout fails the test)."""
    args = ["ip", "netns", "exec", ns, *map(str, args)]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"timed out after {timeout}s: {shlex.join(args)}\n"
                             f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}") from None


def ns_popen(ns, args, stdout, stderr, cwd=None):
    # `ip netns exec` execs the command: the Popen pid is the tool's pid.
    return subprocess.Popen(["ip", "netns", "exec", ns, *map(str, args)], stdout=stdout, stderr=stderr,
                            stdin=subprocess.DEVNULL, text=True, cwd=cwd)


class ToolRun:
    """A finished tool: args, returncode, stdout (stderr merged), start
    (wall clock), seconds, and the first matching detection (or None)."""

    def __init__(self, args, returncode, stdout, start, seconds, alert):
        self.args, self.returncode, self.stdout = args, returncode, stdout
        self.start, self.seconds, self.alert = start, seconds, alert
        self.args_text = shlex.join(map(str, args))


def run_watching(lab, ns, args, timeout, watch, detector=None, cwd=None, after=5.0, on_start=None):
    """Run a tool in ns while polling the lab's EVE file for the first
    detection satisfying `watch` (so that its delay is measured while the
    tool runs); then up to `after` s more if none came. The tool is killed
    (and the test fails) after `timeout` s. Output goes to a temporary file,
    so a chatty tool never blocks on a full pipe."""
    with tempfile.TemporaryFile(mode="w+") as out:
        start = time.time()
        proc = ns_popen(ns, args, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        if on_start:
            on_start(proc)
        deadline = time.monotonic() + timeout
        alert = None
        try:
            while proc.poll() is None:
                if alert is None:
                    alert = next((e for e in lab.eve.detections(detector) if watch(e)), None)
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out after {timeout}s: {shlex.join(map(str, args))}")
                time.sleep(0.05)
        finally:
            stop_process(proc)
        seconds = time.time() - start
        out.seek(0)
        text = out.read()
    if alert is None:
        alert = lab.eve.wait(watch, after, detector)
    return ToolRun(args, proc.returncode, text, start, seconds, alert)


def descendants(pid):
    """Pids of every descendant of pid (from /proc), deepest last."""
    children = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def stop_process(proc, timeout=5):
    """SIGTERM a Popen and its descendants (by pid), SIGKILL what is left."""
    if proc is None or proc.poll() is not None:
        return                      # exited and reaped: its pid may be reused
    kids = [(pid, start_time(pid)) for pid in descendants(proc.pid)]
    signal_pids(kids, 15)
    try:
        proc.terminate()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
    deadline = time.monotonic() + 2
    while any(start_time(pid) == st for pid, st in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    signal_pids(kids, 9)


def start_time(pid):
    """A process's start time (clock ticks since boot), None if it is gone:
    with the pid, it names the process even if the pid is reused later."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def signal_pids(pids, sig):
    """Signal each (pid, start time) that is still the same process."""
    for pid, st in pids:
        if st is not None and start_time(pid) == st:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


# ------------------------------------------------------------ EVE
def eve_time(event):
    """An EVE timestamp ("2026-01-01T12:00:00.123456+0000") as Unix seconds."""
    return datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


class Eve:
    """Reads the lab's EVE file incrementally from a mark; keeps the alert
    events (with the wall-clock time they were first seen as `_seen`)."""

    def __init__(self, lab):
        self.path = lab.env["LAB_EVE"]
        self.mark()

    def mark(self):
        try:
            self.offset = os.path.getsize(self.path)
        except OSError:
            self.offset = 0
        self.partial = b""
        self.alerts = []
        self.other_lines = 0

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.alerts
        self.offset += len(data)
        now = time.time()
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if b'"alert"' not in line:
                self.other_lines += 1
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event_type") == "alert":
                e["_seen"] = now
                self.alerts.append(e)
        return self.alerts

    def detections(self, detector=None):
        self.read()
        return [e for e in self.alerts if "detection" in e
                and (detector is None or e["detection"].get("detector") == detector)]

    def wait(self, pred, timeout, detector=None):
        """First detection alert satisfying pred, polling up to timeout s; None if none."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.detections(detector):
                if pred(e):
                    return e
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


def brief(events):
    """Detection alerts in a short form for assertion messages."""
    return json.dumps([{"ts": e.get("timestamp"), "sig": e.get("alert", {}).get("signature"),
                        "detection": e.get("detection")} for e in events], indent=1)


# ------------------------------------------------------------ counters
def link_counter(lab, ns, ifname, which):
    p = ns_run(ns, ["cat", f"/sys/class/net/{ifname}/statistics/{which}"], timeout=10)
    assert p.returncode == 0, p.stderr
    return int(p.stdout)


def queue_stats(lab):
    """{queue: {id_seq, queue_dropped, user_dropped}} in the fw namespace."""
    p = ns_run(lab.fw_ns, ["cat", "/proc/net/netfilter/nfnetlink_queue"], timeout=10)
    out = {}
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 8:
            out[int(f[0])] = {"queue_dropped": int(f[5]), "user_dropped": int(f[6]), "id_seq": int(f[7])}
    return out


def queued_packets(lab):
    return sum(q["id_seq"] for q in queue_stats(lab).values())


def rp_filter(lab, iface):
    """Effective IPv4 rp_filter on iface in the fw namespace: max(all, iface)."""
    vals = {}
    for key in ("all", iface):
        p = ns_run(lab.fw_ns, ["sysctl", "-n", f"net.ipv4.conf.{key}.rp_filter"], timeout=10)
        vals[key] = int(p.stdout.strip())
    return max(vals.values()), vals


# ------------------------------------------------------------ nmap
def nmap(lab, flag, watch, family=4, timeout=NMAP_TIMEOUT, after=5.0):
    """nmap FLAG from the client against the server, watching EVE for a scan
    detection satisfying `watch`: a ToolRun."""
    args = ["nmap", flag, *NMAP_COMMON] + (["-6"] if family == 6 else []) + [lab.server_ip(family)]
    return run_watching(lab, lab.client_ns, args, timeout, watch, detector="scan", after=after)


def nmap_ports_reported(out):
    """Ports nmap reports a state for: the listed lines plus the 'Not shown' counts."""
    listed = len(re.findall(r"(?m)^\d+/(?:tcp|udp)\s", out))
    hidden = sum(int(n) for line in re.findall(r"(?m)^Not shown: (.*)$", out)
                 for n in re.findall(r"(\d+) [\w|]+ (?:tcp|udp) ports", line))
    return listed + hidden


# ------------------------------------------------------------ hping3 flood
# Run in the client namespace: polls the client veth's tx_packets counter
# every 0.5 ms and reports when the flood started (the last poll before the
# burst that reached `need` packets), so that the detection delay is measured
# from the first flood packet, not from hping3's start-up.
FLOOD_MONITOR = r"""
import json, sys, time
path, limit, need = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def rd():
    with open(path) as f:
        return int(f.read())
base = last = rd()
print("ready", flush=True)
changes = []
last_t = time.time()
end = last_t + limit
while last_t < end:
    c = rd(); t = time.time()
    if c != last:
        changes.append((last_t, t, c - base)); last = c
        if c - base >= need:
            break
    last_t = t
    time.sleep(0.0005)
i = len(changes) - 1
while i > 0 and changes[i][0] - changes[i - 1][1] < 0.05:
    i -= 1
print(json.dumps({"first_before": changes[i][0] if changes else None,
                  "first_seen": changes[i][1] if changes else None,
                  "reached": changes[-1][2] if changes else 0, "changes": len(changes)}), flush=True)
"""


def start_flood_monitor(lab, need=1000, limit=HPING_SECONDS + 5):
    path = f"/sys/class/net/{lab.env['LAB_CLIENT_IF']}/statistics/tx_packets"
    proc = ns_popen(lab.client_ns, [PY, "-c", FLOOD_MONITOR, path, limit, need],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        stop_process(proc)
        raise AssertionError(f"flood monitor did not start: {line!r} {proc.stderr.read()!r}")
    return proc


def finish_flood_monitor(proc, timeout=HPING_SECONDS + 10):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(proc)
        raise AssertionError("flood monitor did not finish") from None
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------ sshd + hydra
class Sshd:
    """Debian's sshd in the server namespace, foreground (-D -e), with its own
    host key, config and pid file in a temporary directory; password
    authentication without PAM. No user is created: hydra's login need not
    exist (sshd then fails every password with "Invalid user")."""

    def __init__(self, lab, workdir):
        self.lab = lab
        self.dir = Path(workdir)
        self.proc = None
        self.made_privsep_dir = False

    def start(self, timeout=10):
        d = self.dir
        d.mkdir(parents=True, exist_ok=True)
        key = d / "ssh_host_ed25519_key"
        p = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "socfw-lab", "-f", str(key)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        self.config = d / "sshd_config"
        self.config.write_text("\n".join([
            f"ListenAddress {self.lab.server_ip(4)}:22",
            f"HostKey {key}",
            f"PidFile {d / 'sshd.pid'}",
            "UsePAM no",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication no",
            "AuthorizedKeysFile none",
            "PermitRootLogin no",
            "MaxStartups 100:30:200",
            "LoginGraceTime 20",
            "LogLevel INFO",
            "",
        ]))
        # sshd's privilege separation directory (normally made by the
        # package's init script / tmpfiles); ip netns exec keeps /run.
        privsep = Path("/run/sshd")
        if not privsep.exists():
            privsep.mkdir(mode=0o755)
            self.made_privsep_dir = True
        sshd = find_tool("sshd")
        p = subprocess.run([sshd, "-t", "-f", str(self.config)], capture_output=True, text=True, timeout=15)
        assert p.returncode == 0, f"sshd -t: {p.stderr}"
        self.log = d / "sshd.log"
        self.logf = open(self.log, "w")
        self.proc = ns_popen(self.lab.server_ns, [sshd, "-D", "-e", "-f", self.config],
                             stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "Server listening on" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                text = self.log.read_text()
                self.stop()
                raise AssertionError(f"sshd did not start in {self.lab.server_ns}: {text}")
            time.sleep(0.05)

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def stop(self):
        proc, self.proc = self.proc, None
        stop_process(proc)
        if getattr(self, "logf", None):
            self.logf.close()
        if self.made_privsep_dir:
            try:
                Path("/run/sshd").rmdir()
            except OSError:
                pass
            self.made_privsep_dir = False


def hydra_ssh(lab, workdir, watch, timeout=HYDRA_TIMEOUT, after=5.0):
    """hydra with HYDRA_PASSWORDS random wrong passwords against the server's
    sshd, watching EVE for a brute-force detection satisfying `watch`: a
    ToolRun. cwd is workdir (hydra writes ./hydra.restore there)."""
    words = Path(workdir) / "passwords.txt"
    words.write_text("".join(f"wrong-{i}-{secrets.token_urlsafe(9)}\n" for i in range(HYDRA_PASSWORDS)))
    args = ["hydra", "-l", HYDRA_LOGIN, "-P", words, *HYDRA_ARGS, f"ssh://{lab.server_ip(4)}:22"]
    return run_watching(lab, lab.client_ns, args, timeout, watch, detector="brute_force", cwd=workdir, after=after)


# ------------------------------------------------------------ benign traffic
def curl_loop(lab, family=4, port=80, count=CURL_REQUESTS):
    """count sequential curl requests (one process and connection each) from
    the client; returns (list of HTTP codes, seconds)."""
    host = lab.server_ip(family)
    url = f"http://{host}:{port}/" if family == 4 else f"http://[{host}]:{port}/"
    script = ('for i in $(seq %d); do curl -sS --noproxy "*" -m 3 -o /dev/null -w "%%{http_code}\\n" %s; done'
              % (count, shlex.quote(url)))
    t0 = time.time()
    p = ns_run(lab.client_ns, ["sh", "-c", script], timeout=count * 3 + 15)
    return p.stdout.split(), time.time() - t0


def start_iperf3_server(lab, port=IPERF_PORT, timeout=10):
    proc = ns_popen(lab.server_ns, ["iperf3", "-s", "-1", "-B", lab.server_ip(4), "-p", port],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        p = ns_run(lab.server_ns, ["ss", "-Hltn", f"sport = :{port}"], timeout=10)
        if p.stdout.strip():
            return proc
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise AssertionError(f"iperf3 -s did not listen on {port} in {lab.server_ns}")
        time.sleep(0.05)


def iperf3_client(lab, port=IPERF_PORT, seconds=IPERF_SECONDS):
    """iperf3 TCP client->server for `seconds`; returns (parsed JSON, seconds)."""
    t0 = time.time()
    p = ns_run(lab.client_ns, ["iperf3", "-c", lab.server_ip(4), "-p", port, "-t", seconds, "-J"],
               timeout=seconds + 20)
    assert p.returncode == 0, f"iperf3 -c failed: {p.stdout[-2000:]} {p.stderr}"
    return json.loads(p.stdout), time.time() - t0
