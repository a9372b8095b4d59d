"""Reload with 10,000 rules under load loses no packet.

A steady UDP flow (numbered datagrams, IPv4 and IPv6 alternately, ~2,000 per
second) runs from the client to the server through socfwd while the rules file
is switched between two generated 10,000-rule variants with SIGHUP. None of the
generated rules matches the lab's traffic, except one in variant B that drops
TCP 8080 to the server. Checked: every datagram arrived, every reload was
applied (none refused), the kernel's queues counted no drop and queued every
datagram to socfwd, and after each reload the new file's rules are in force.

The copied config sets `fail_open: false`: with the lab's `fail_open: true` a
worker stalled by a reload would let packets through uninspected and uncounted
instead of losing them, and this test would not see it.
"""
import ipaddress
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LABD, lab_with_rules, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]

PY = sys.executable
N_RULES = 10_000
SEEDS = {"a": 0x50CF1, "b": 0x50CF2}
FLOW_PORT = 9100            # UDP, nothing else in the lab uses it; no rule names it
FLOW_RATE = 2000            # datagrams per second (both families together)
FLOW_MIN_SECONDS = 8.0
FLOW_MAX_SECONDS = 40.0     # hard cap for the sender and the receiver
RELOADS = 3                 # b, a, b: the last one leaves variant B (tcp 8080 dropped) in force
RELOAD_TIMEOUT = 10.0
SLOW_RELOAD = 2.0           # reported (not failed) when a reload takes longer
PROBE_PORT = 8080           # served by labnet; variant B drops it, variant A does not
NON_LAB_NETS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "2001:db8::/32")]

# ------------------------------------------------------------------ rule generator
COMMON_PORTS = [21, 22, 25, 53, 110, 123, 135, 139, 143, 161, 389, 443, 445, 465, 514, 587, 636, 993,
                995, 1194, 1433, 1521, 1883, 2049, 3306, 3389, 5060, 5432, 5601, 5672, 5900, 6379,
                6443, 8000, 8443, 8888, 9000, 9200, 9300, 11211, 27017]


def _v4(rng, kind):
    if rng.random() < 0.7:
        a = [10, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)]
    else:
        a = [172, rng.randrange(16, 32), rng.randrange(256), rng.randrange(1, 255)]
    if kind == "host":
        return "%d.%d.%d.%d" % tuple(a)
    if kind == "net":
        return "%d.%d.%d.0/24" % tuple(a[:3])
    return "%d.%d.0.0/16" % tuple(a[:2])


def _v6(rng, kind):
    g = [rng.randrange(1, 0x10000) for _ in range(4)]
    if kind == "host":
        return "2001:db8:%x:%x::%x" % (g[0], g[1], g[3])
    if kind == "net":
        return "2001:db8:%x:%x::/64" % (g[0], g[1])
    return "2001:db8:%x::/48" % g[0]


def _addr_condition(rng, field, family):
    make = _v4 if family == 4 else _v6
    r = rng.random()
    if r < 0.15:                                    # one host, eq
        return field, "eq", '"%s"' % make(rng, "host")
    if r < 0.85:                                    # one prefix: /32 (/128), /24 (/64), /16 (/48)
        kind = rng.choices(["host", "net", "wide"], [45, 35, 20])[0]
        v = make(rng, kind)
        if kind == "host":
            v += "/32" if family == 4 else "/128"
        return field, "cidr", '"%s"' % v
    vals = []                                       # a list of hosts and prefixes
    for _ in range(rng.randrange(2, 7)):
        kind = rng.choice(["host", "net", "wide"])
        vals.append('"%s"' % make(rng, kind))
    return field, rng.choice(["cidr", "in"]), "[%s]" % ", ".join(vals)


def _port_value(rng):
    if rng.random() < 0.6:
        return rng.choice(COMMON_PORTS)
    return rng.randrange(1024, 65536)


def _port_condition(rng, field):
    if rng.random() < 0.6:
        return field, "eq", str(_port_value(rng))
    vals = []
    for _ in range(rng.randrange(2, 8)):
        if rng.random() < 0.25:
            lo = rng.randrange(1024, 60000)
            vals.append('"%d-%d"' % (lo, lo + rng.randrange(1, 500)))
        else:
            vals.append(str(_port_value(rng)))
    return field, "in", "[%s]" % ", ".join(vals)


def generate_rules(variant, n=N_RULES):
    """n rules as (name, action, priority, enabled, [(field, operator, value-as-YAML)]).
    Every rule has an address condition inside 10/8, 172.16/12 or 2001:db8::/32 (never
    the lab's 198.18/15 or fd53:6f63::/32), so none matches the lab's traffic."""
    rng = random.Random(SEEDS[variant])
    actions = rng.choices(["DROP", "REJECT", "ALLOW", "LOG", "ALERT"], [38, 20, 25, 15, 2], k=n)
    out = []
    for i in range(n):
        family = 4 if rng.random() < 0.7 else 6
        conds = []
        sides = rng.choices([("src_ip",), ("dst_ip",), ("src_ip", "dst_ip")], [35, 45, 20])[0]
        for side in sides:
            conds.append(_addr_condition(rng, side, family))
        r = rng.random()
        if r < 0.75:                                # tcp/udp with ports
            conds.insert(rng.randrange(len(conds) + 1),
                         ("protocol", "eq", rng.choices(["tcp", "udp"], [75, 25])[0]))
            conds.append(_port_condition(rng, "dst_port"))
            if rng.random() < 0.1:
                conds.append(_port_condition(rng, "src_port"))
        elif r < 0.85:                              # ICMP
            conds.append(("protocol", "eq", "icmp" if family == 4 else "icmpv6"))
        elif r < 0.9:                               # other protocols
            conds.append(("protocol", "eq", rng.choice(["gre", "esp", "ah", "sctp"])))
        # else: addresses only
        out.append(("gen-%s-%05d-%s" % (variant, i, actions[i].lower()), actions[i],
                    rng.randrange(200, 100_000), rng.random() >= 0.02, conds))
    return out


NON_LAB_VALUE = re.compile(r'"(?:10\.|172\.(?:1[6-9]|2\d|3[01])\.|2001:db8:)[0-9a-f.:/]*"')


def check_no_lab_match(rules):
    """Guard on the generator: every rule has an address condition whose values all
    lie in 10/8, 172.16/12 or 2001:db8::/32 (so it can never match a lab packet)."""
    for name, _, _, _, conds in rules:
        assert any(field in ("src_ip", "dst_ip") and value.count('"') == 2 * len(NON_LAB_VALUE.findall(value))
                   for field, _, value in conds), f"generated rule {name} might match lab traffic: {conds}"
    # And the values are valid addresses / prefixes without host bits (a sample: it is slow).
    for _, _, _, _, conds in rules[::50]:
        for field, _, value in conds:
            if field in ("src_ip", "dst_ip"):
                for v in re.findall(r'"([^"]+)"', value):
                    n = ipaddress.ip_network(v, strict=True)
                    assert any(n.version == x.version and n.subnet_of(x) for x in NON_LAB_NETS), v


def rules_yaml(variant, lab_rules_text, server4, server6):
    rules = generate_rules(variant)
    check_no_lab_match(rules)
    if variant == "b":
        # One rule of the 10,000 hits the lab: TCP 8080 to the server is dropped.
        rules[N_RULES // 2] = ("gen-b-drop-tcp-%d-to-server" % PROBE_PORT, "DROP", 5, True, [
            ("protocol", "eq", "tcp"),
            ("dst_ip", "cidr", '["%s/32", "%s/128"]' % (server4, server6)),
            ("dst_port", "eq", str(PROBE_PORT)),
        ])
    lines = [lab_rules_text.rstrip("\n"), "",
             f"  # ---- {N_RULES} generated rules, variant {variant} (seed {SEEDS[variant]:#x})"]
    for name, action, priority, enabled, conds in rules:
        lines.append(f"  - name: {name}\n    action: {action}\n    priority: {priority}")
        if not enabled:
            lines.append("    enabled: false")
        lines.append("    conditions:")
        for field, op, value in conds:
            lines.append(f"      - {{ field: {field}, operator: {op}, value: {value} }}")
    return "\n".join(lines) + "\n"


def count_rules(rules_text):
    """(all rules, enabled rules) in a rules file written by rules_yaml."""
    total = len(re.findall(r"(?m)^  - name:", rules_text))
    return total, total - len(re.findall(r"(?m)^    enabled: false", rules_text))


# ------------------------------------------------------------------ flow programs
SENDER = r'''
import errno, json, os, socket, struct, sys, time
hosts, port, rate, max_s = sys.argv[1].split(","), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
socks = []
for h in hosts:
    s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((h, port))
    socks.append(s)
os.set_blocking(0, False)
pad = b"." * 40
errors, unsent = {}, []
print("started", flush=True)
t0 = time.monotonic()
seq, stop = 0, False
while not stop:
    now = time.monotonic()
    if now - t0 >= max_s:
        break
    due = int((now - t0) * rate) + 1
    while seq < due:
        for attempt in range(200):
            try:
                socks[seq % len(socks)].send(b"SOCFWRL1" + struct.pack("!Qd", seq, time.monotonic()) + pad)
                break
            except OSError as e:
                name = errno.errorcode.get(e.errno, str(e.errno))
                errors[name] = errors.get(name, 0) + 1
                time.sleep(0.0005)
        else:
            unsent.append(seq)
        seq += 1
    try:
        data = os.read(0, 4096)
        if not data or b"stop" in data:
            stop = True
    except BlockingIOError:
        pass
    time.sleep(0.001)
print(json.dumps({"sent": seq, "t0": t0, "end": time.monotonic(), "errors": errors, "unsent": unsent}), flush=True)
'''

RECEIVER = r'''
import json, os, select, socket, struct, sys, time
port, max_s = int(sys.argv[1]), float(sys.argv[2])

def snmp():
    out = {}
    for path in ("/proc/net/snmp", "/proc/net/snmp6"):
        try:
            text = open(path).read()
        except OSError:
            continue
        if path.endswith("6"):
            for line in text.splitlines():
                k, v = line.split()
                if k.startswith("Udp6"):
                    out[k] = int(v)
        else:
            rows = [l.split() for l in text.splitlines() if l.startswith("Udp:")]
            if len(rows) == 2:
                out.update({"Udp" + k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])})
    return out

s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
try:
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)        # SO_RCVBUFFORCE (root)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("::", port))
s.setblocking(False)
before = snmp()
print("ready", flush=True)
recs, seen, dups = [], set(), 0
deadline = time.monotonic() + max_s
stop_at, expected, stdin_open, buf = None, None, True, b""
while True:
    now = time.monotonic()
    if now >= deadline or (stop_at is not None and (now >= stop_at or (expected is not None and len(seen) >= expected))):
        break
    r, _, _ = select.select([s] + ([0] if stdin_open else []), [], [], 0.05)
    if s in r:
        while True:
            try:
                data = s.recv(2048)
            except BlockingIOError:
                break
            t = time.monotonic()
            if data[:8] == b"SOCFWRL1":
                seq, sent = struct.unpack("!Qd", data[8:24])
                if seq in seen:
                    dups += 1
                else:
                    seen.add(seq)
                    recs.append((seq, round(sent, 6), round(t, 6)))
    if stdin_open and 0 in r:
        chunk = os.read(0, 4096)
        buf += chunk
        if not chunk or b"\n" in buf:
            stdin_open = False
            parts = buf.split()
            if len(parts) >= 2 and parts[0] == b"stop":
                expected = int(parts[1])
            stop_at = time.monotonic() + 3.0     # drain what is still in flight
print(json.dumps({"recs": recs, "dups": dups, "snmp_before": before, "snmp_after": snmp()}), flush=True)
'''


def start_in_ns(ns, code, *args, expect):
    p = subprocess.Popen(["ip", "netns", "exec", ns, PY, "-c", code, *map(str, args)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], 15)
    line = p.stdout.readline() if ready else ""
    if not line.startswith(expect):
        p.kill()
        _, err = p.communicate(timeout=10)
        raise AssertionError(f"flow program in {ns} did not start: {line!r} {err}")
    return p


def finish(p, stdin_text, timeout=20):
    try:
        out, err = p.communicate(input=stdin_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=10)
        raise AssertionError(f"flow program did not finish in {timeout}s: {err}")
    lines = out.strip().splitlines()
    assert p.returncode == 0 and lines, f"flow program failed (exit {p.returncode}): {err}"
    return json.loads(lines[-1])


def kill_quietly(p):
    if p is not None and p.poll() is None:
        p.kill()
        try:
            p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def missing_runs(missing, limit=30):
    """Missing sequence numbers as runs per family (even: ipv4, odd: ipv6)."""
    runs = []
    for fam, parity in ((4, 0), (6, 1)):
        seqs = [s for s in missing if s % 2 == parity]
        i = 0
        while i < len(seqs):
            j = i
            while j + 1 < len(seqs) and seqs[j + 1] == seqs[j] + 2:
                j += 1
            runs.append((seqs[i], seqs[j], j - i + 1, fam))
            i = j + 1
    runs.sort()
    text = "; ".join(f"ipv{fam} {a}..{b} ({n}, +{a / FLOW_RATE:.3f}s..+{b / FLOW_RATE:.3f}s)" for a, b, n, fam in runs[:limit])
    return text + (f"; ... {len(runs) - limit} more runs" if len(runs) > limit else "")


# ------------------------------------------------------------------ lab helpers
def queue_counters(lab):
    """{queue: (portid, queue_dropped, user_dropped, id_seq)} in the fw namespace."""
    p = lab.ns(lab.fw_ns, ["cat", "/proc/net/netfilter/nfnetlink_queue"], timeout=10, check=True)
    rows = {}
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 8:
            rows[int(f[0])] = (int(f[1]), int(f[5]), int(f[6]), int(f[7]))
    return rows


def hup(lab):
    pid = int(Path(lab.env["LAB_PIDFILE"]).read_text().strip())
    os.kill(pid, signal.SIGHUP)


RELOAD_LINE = re.compile(r"^.*(rules reloaded|reload refused).*$", re.M)


def log_metadata(line):
    return dict(re.findall(r"(?<![\w.])([A-Za-z_]+)=(\S+)", line))


def fail_closed(text):
    text, n = re.subn(r"(?m)^(\s+fail_open:).*$", r"\1 false", text)
    assert n == 1, "no `fail_open:` line in the lab config"
    return text


@pytest.fixture(scope="module")
def load_lab(request):
    lab_rules = (LABD / "rules.yaml").read_text()
    generated = {}

    def variant_a(lab):
        t = time.monotonic()
        generated.update({v: rules_yaml(v, lab_rules, lab.server_ip(4), lab.server_ip(6)) for v in SEEDS})
        generated["seconds"] = time.monotonic() - t
        return generated["a"]

    lab = lab_with_rules(request, "router", "rl", variant_a, name="reload-load-rules", edit_config=fail_closed)
    lab.generate_seconds = generated.pop("seconds")
    lab.variants = generated
    lab.reload_rules = lab.rules_path
    return lab


def write_variant(lab, variant):
    tmp = lab.reload_rules.with_suffix(".tmp")
    tmp.write_text(lab.variants[variant])
    os.replace(tmp, lab.reload_rules)


def test_reload_10000_rules_under_load_loses_no_packet(load_lab):
    lab = load_lab
    print(f"\ngenerated 2 x {N_RULES} rules in {lab.generate_seconds:.2f}s "
          f"({len(lab.variants['a']) // 1024} KiB each); socfwd restart with variant a took {lab.start_seconds:.2f}s")
    assert lab.probe("tcp", 4, PROBE_PORT, timeout=3)["result"] == "ok", "variant a must not drop tcp 8080"

    q_before = queue_counters(lab)
    assert q_before, "socfwd has no queue bound in the fw namespace"
    log_offset = lab.file_size("LAB_LOG")
    receiver = sender = None
    reloads, probes = [], []
    try:
        receiver = start_in_ns(lab.server_ns, RECEIVER, FLOW_PORT, FLOW_MAX_SECONDS + 15, expect="ready")
        sender = start_in_ns(lab.client_ns, SENDER, f"{lab.server_ip(4)},{lab.server_ip(6)}", FLOW_PORT,
                             FLOW_RATE, FLOW_MAX_SECONDS, expect="started")
        t_flow = time.monotonic()
        time.sleep(1.0)                                  # steady state before the first reload

        for i in range(RELOADS):
            variant = "b" if i % 2 == 0 else "a"
            write_variant(lab, variant)
            off = lab.file_size("LAB_LOG")
            t_hup = time.monotonic()
            hup(lab)
            m = poll(lambda: RELOAD_LINE.search(lab.read_from("LAB_LOG", off)), timeout=RELOAD_TIMEOUT, interval=0.02)
            t_done = time.monotonic()
            rec = {"variant": variant, "hup_at": round(t_hup - t_flow, 3),
                   "seen_after": round(t_done - t_hup, 3) if m else None,
                   "line": m.group(0).strip() if m else None}
            if m:
                md = log_metadata(m.group(0))
                rec["timing"] = {k: v for k, v in md.items() if k == "ms" or k.endswith("_ms")}
                rec["counts"] = {k: v for k, v in md.items() if k in ("rules", "loaded", "enabled")}
            reloads.append(rec)
            if not m or "refused" in m.group(1):
                break
            # The new file is in force while the flow runs: b drops tcp 8080, a lets it through.
            r = lab.probe("tcp", 4, PROBE_PORT, timeout=1.5)
            probes.append((variant, round(time.monotonic() - t_flow, 3), r))
            time.sleep(0.5)

        # Keep the flow going a while after the last reload, and at least FLOW_MIN_SECONDS.
        time.sleep(max(1.5, FLOW_MIN_SECONDS - (time.monotonic() - t_flow)))
        final_probes = {6: lab.probe("tcp", 6, PROBE_PORT, timeout=1.5)}   # ipv4: the loop's last probe
        http = lab.probe("tcp", 4, 80, http=True, timeout=3)
        sent = finish(sender, "stop\n")
        sender = None
        received = finish(receiver, f"stop {sent['sent']}\n")
        receiver = None
    finally:
        kill_quietly(sender)
        kill_quietly(receiver)

    q_after = queue_counters(lab)
    log = lab.read_from("LAB_LOG", log_offset)

    # ---- report
    n_sent = sent["sent"]
    recs = received["recs"]
    got = {r[0] for r in recs}
    missing = [s for s in range(n_sent) if s not in got]
    t0 = sent["t0"]
    lat = sorted(((r[2] - r[1]) * 1000, r[0], r[1] - t0) for r in recs)
    flow_seconds = sent["end"] - t0
    print(f"flow: sent {n_sent} datagrams in {flow_seconds:.2f}s ({n_sent / max(flow_seconds, 1e-9):.0f}/s, "
          f"ipv4+ipv6 alternately), received {len(got)}, missing {len(missing)}, duplicates {received['dups']}, "
          f"sender errors {sent['errors']}, unsent {len(sent['unsent'])}")
    if lat:
        p50 = lat[len(lat) // 2][0]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))][0]
        worst = ", ".join(f"seq {s} at +{at:.2f}s: {ms:.1f}ms" for ms, s, at in lat[-5:])
        print(f"latency client->server: p50 {p50:.2f}ms p99 {p99:.2f}ms max {lat[-1][0]:.1f}ms (worst: {worst})")
    flow_offset = t_flow - t0   # test clock -> sender clock (same CLOCK_MONOTONIC)
    for r in reloads:
        slow = " SLOW" if r["seen_after"] is not None and r["seen_after"] > SLOW_RELOAD else ""
        start = r["hup_at"] + flow_offset
        end = start + (r["seen_after"] or RELOAD_TIMEOUT) + 0.25
        window = [ms for ms, _, at in lat if start <= at <= end]
        print(f"reload -> {r['variant']}: SIGHUP at flow +{start:.2f}s, logged after {r['seen_after']}s{slow}, "
              f"timing {r.get('timing')}, counts {r.get('counts')}, max latency of the {len(window)} datagrams "
              f"sent from SIGHUP to 0.25s after the log line: {max(window, default=0):.1f}ms\n    {r['line']}")
    for variant, at, r in probes:
        print(f"probe tcp {PROBE_PORT} after reload to {variant} (+{at + flow_offset:.2f}s): {r['result']} "
              f"in {r['elapsed']}s")
    print(f"queues before: {q_before}\nqueues after:  {q_after}  (queue: portid, queue_dropped, user_dropped, id_seq)")
    snmp0, snmp1 = received["snmp_before"], received["snmp_after"]
    udp_err = {k: snmp1[k] - snmp0.get(k, 0) for k in snmp1
               if ("Err" in k or "Drop" in k) and snmp1[k] != snmp0.get(k, 0)}
    print(f"server namespace UDP error counters changed: {udp_err or 'none'}")

    # ---- checks
    applied = len(re.findall(r"rules reloaded", log))
    refused = re.findall(r"(?m)^.*reload refused.*$", log)
    assert len(reloads) == RELOADS and all(r["seen_after"] is not None for r in reloads), \
        f"a reload was not logged within {RELOAD_TIMEOUT}s: {reloads}\n{log[-3000:]}"
    assert not refused, f"reload refused: {refused}"
    assert applied >= RELOADS, f"only {applied} reloads logged as applied: {reloads}"
    for r in reloads:
        # Whatever counts the log line carries must fit the file (rules= may count enabled rules only).
        total, enabled = count_rules(lab.variants[r["variant"]])
        counts = r.get("counts") or {}
        if "loaded" in counts:
            assert int(counts["loaded"]) == total, f"reload loaded {counts['loaded']} rules, not {total}: {r}"
        if "rules" in counts:
            assert int(counts["rules"]) in (total, enabled), \
                f"reload reports rules={counts['rules']}, the file has {total} ({enabled} enabled): {r}"

    if missing:
        windows = [(round(r["hup_at"] + flow_offset, 3), round(r["hup_at"] + flow_offset + r["seen_after"], 3))
                   for r in reloads]
        pytest.fail(f"{len(missing)} of {n_sent} datagrams lost (runs of sequence numbers per family, "
                    f"with their scheduled send time after the flow started):\n  {missing_runs(missing)}\n"
                    f"reload windows (s after flow start, SIGHUP -> logged): {windows}\n"
                    f"queues before {q_before} after {q_after}; server UDP errors {udp_err}; "
                    f"sender errors {sent['errors']} unsent {sent['unsent'][:20]}")
    assert received["dups"] == 0, f"{received['dups']} duplicated datagrams"
    assert n_sent >= FLOW_RATE * FLOW_MIN_SECONDS * 0.9, f"sender only sent {n_sent} datagrams"

    assert set(q_after) == set(q_before) and all(q_after[q][0] == q_before[q][0] for q in q_before), \
        f"socfwd's queues were rebound during the test (counters not comparable): {q_before} -> {q_after}"
    drops = {q: (q_after[q][1] - q_before[q][1], q_after[q][2] - q_before[q][2]) for q in q_before}
    assert all(d == (0, 0) for d in drops.values()), \
        f"kernel queues counted drops (queue: queue_dropped, user_dropped): {drops}"
    queued = sum(q_after[q][3] - q_before[q][3] for q in q_before)
    assert queued >= n_sent, \
        f"only {queued} packets were queued to socfwd for {n_sent} datagrams (some passed uninspected)"

    for variant, at, r in probes:
        want = "timeout" if variant == "b" else "ok"
        assert r["result"] == want, f"tcp {PROBE_PORT} after reload to {variant} (+{at}s): {r}, want {want}"
    for fam, r in final_probes.items():
        assert r["result"] == "timeout", f"ipv{fam} tcp {PROBE_PORT} should be dropped by variant b: {r}"
    assert http["result"] == "ok", f"tcp 80 should still be allowed: {http}"
