"""Quarantine through the real kernel path: the client's address cut off by
the kernel's sets (socfwd's queues see nothing of it), release, expiry,
persistence across kill -9 and restart with traffic checked continuously,
a database row added while socfwd was down, an element deleted behind
socfwd's back, refusals, IPv6 and bridge mode, and the audit log's
verification catching a tampered row."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import IS_ROOT, control_call, HAVE_SOCFWD, NOT_ROOT_REASON, NO_SOCFWD_REASON, SOCFWD_BIN, make_lab, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]


@pytest.fixture(scope="module", params=["router", "bridge"])
def q_lab(request):
    if not IS_ROOT:
        pytest.skip(NOT_ROOT_REASON)
    if not HAVE_SOCFWD:
        pytest.skip(NO_SOCFWD_REASON)
    return make_lab(request, request.param, "q" + request.param[0])


def ctl(lab, method, params=None):
    return control_call(lab, method, params)


def queue_ids(lab):
    p = lab.ns(lab.fw_ns, ["cat", "/proc/net/netfilter/nfnetlink_queue"], timeout=10)
    return sum(int(line.split()[7]) for line in p.stdout.splitlines() if line.strip())


def set_elements(lab, family):
    p = lab.ns(lab.fw_ns, ["nft", "-j", "list", "set", "inet", "socfw", f"quarantine{family}"], timeout=10, check=True)
    out = []
    for item in json.loads(p.stdout)["nftables"]:
        for e in item.get("set", {}).get("elem", []) or []:
            v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
            if isinstance(v, dict) and "prefix" in v:
                v = f'{v["prefix"]["addr"]}/{v["prefix"]["len"]}'
            out.append(str(v))
    return out


def release_all(lab):
    for q in ctl(lab, "quarantine.list")["result"]["quarantined"]:
        ctl(lab, "quarantine.remove", {"target": q["target"]})


@pytest.mark.parametrize("family", [4, 6])
def test_a_quarantined_client_is_cut_off_by_the_kernel_until_released(q_lab, family):
    lab = q_lab
    release_all(lab)
    client = lab.client_ip(family)
    assert lab.probe("tcp", family, 80)["result"] == "ok"
    r = ctl(lab, "quarantine.add", {"target": client, "duration": "1h", "reason": "lab test"})
    assert "result" in r, r
    assert r["result"]["target"] == client and r["result"]["active"] is True
    assert any(e.startswith(client) for e in set_elements(lab, family)), set_elements(lab, family)
    for port in (80, 8080):
        assert lab.probe("tcp", family, port, timeout=1)["result"] == "timeout"
    assert lab.probe("udp", family, 5300, timeout=1)["result"] == "timeout"
    # Dropped by the kernel's set: socfwd's queues see none of a burst of
    # 200 datagrams (a bridge carries a little background traffic of its own).
    before = queue_ids(lab)
    burst = ("import socket\ns=socket.socket(socket.AF_INET%s,socket.SOCK_DGRAM)\n"
             "for i in range(200): s.sendto(b'q',('%s',5300))\n") % ("6" if family == 6 else "", lab.server_ip(family))
    lab.ns(lab.client_ns, [sys.executable, "-c", burst], timeout=20, check=True)
    time.sleep(0.5)
    assert queue_ids(lab) - before < 10, "quarantined traffic reached the queues"
    listed = ctl(lab, "quarantine.list")["result"]["quarantined"]
    assert [q["target"] for q in listed] == [client]
    r = ctl(lab, "quarantine.remove", {"target": client})
    assert r["result"]["active"] is False and r["result"]["released_by"] == "uid:0"
    assert lab.probe("tcp", family, 80)["result"] == "ok"
    assert not any(e.startswith(client) for e in set_elements(lab, family))


def test_refusals(q_lab):
    lab = q_lab
    for target, words in [("1.2.3.4; flush ruleset", "is not an IP address"), ("0.0.0.0/0", "too wide"),
                          ("::/0", "too wide"), ("999.1.1.1", "is not an IP address")]:
        e = ctl(lab, "quarantine.add", {"target": target})["error"]
        assert e["code"] == -32002 and words in e["message"], (target, e)
    # The firewall's own addresses (in router mode the gateways of client and server).
    if lab.mode == "router":
        e = ctl(lab, "quarantine.add", {"target": lab.env["LAB_CLIENT_GW"]})["error"]
        assert "never quarantined" in e["message"], e
    e = ctl(lab, "quarantine.add", {"target": "203.0.113.9", "duration": "soon"})["error"]
    assert e["code"] == -32602 and "params.duration" in e["message"], e
    assert "result" in ctl(lab, "quarantine.add", {"target": "203.0.113.9", "duration": "1h"})
    e = ctl(lab, "quarantine.add", {"target": "203.0.113.9"})["error"]
    assert "already quarantined" in e["message"], e
    assert "result" in ctl(lab, "quarantine.remove", {"target": "203.0.113.9"})
    e = ctl(lab, "quarantine.remove", {"target": "203.0.113.9"})["error"]
    assert "is not quarantined" in e["message"], e


def test_expiry_restores_traffic_and_is_recorded(q_lab):
    lab = q_lab
    release_all(lab)
    client = lab.client_ip(4)
    assert "result" in ctl(lab, "quarantine.add", {"target": client, "duration": "3s", "reason": "expiry test"})
    assert lab.probe("tcp", 4, 80, timeout=1)["result"] == "timeout"
    # 3 s plus up to 1 s of jitter (the lab's expiry_jitter).
    assert poll(lambda: lab.probe("tcp", 4, 80, timeout=1)["result"] == "ok", timeout=10, interval=0.5)
    assert poll(lambda: not ctl(lab, "quarantine.list")["result"]["quarantined"], timeout=5)
    h = ctl(lab, "quarantine.history", {"target": client, "limit": 1})["result"]["history"][0]
    assert h["active"] is False and h["released_by"] == "expiry" and h["reason"] == "expiry test"


class Counter:
    """Counts UDP datagrams the server receives from the client during a window."""

    def __init__(self, lab, port=9180):
        self.lab, self.port = lab, port
        self.receiver = subprocess.Popen(
            ["ip", "netns", "exec", lab.server_ns, sys.executable, "-c",
             "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',%d))\n"
             "s.settimeout(60)\nn=0\nprint('ready',flush=True)\n"
             "try:\n  while True:\n    s.recvfrom(100); n+=1; print(n,flush=True)\nexcept Exception: pass\n" % port],
            stdout=subprocess.PIPE, text=True)
        assert self.receiver.stdout.readline().startswith("ready")
        self.received = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.sender = subprocess.Popen(
            ["ip", "netns", "exec", lab.client_ns, sys.executable, "-c",
             "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "end=time.time()+60\nwhile time.time()<end:\n  s.sendto(b'x',('%s',%d)); time.sleep(0.01)\n"
             % (lab.server_ip(4), port)])

    def _read(self):
        for line in self.receiver.stdout:
            if line.strip().isdigit():
                self.received = int(line)

    def stop(self):
        for p in (self.sender, self.receiver):
            p.kill()
            p.wait(timeout=5)


def test_quarantine_survives_kill9_and_restart_without_a_gap(q_lab):
    lab = q_lab
    release_all(lab)
    client = lab.client_ip(4)
    assert "result" in ctl(lab, "quarantine.add", {"target": client, "duration": "permanent", "reason": "no gap"})
    counter = Counter(lab)
    try:
        time.sleep(1)
        lab.socfwd("kill9")
        time.sleep(1)  # socfwd down: the kernel's set still drops the client
        lab.socfwd("start")
        assert poll(lambda: os.path.exists(lab.env["LAB_SOCKET"]), timeout=10)
        time.sleep(1.5)
        assert counter.received == 0, f"{counter.received} datagrams from the quarantined client got through"
        assert [q["target"] for q in ctl(lab, "quarantine.list")["result"]["quarantined"]] == [client]
    finally:
        counter.stop()
    assert "result" in ctl(lab, "quarantine.remove", {"target": client})
    assert lab.probe("udp", 4, 5300)["result"] == "ok"


def test_a_row_added_while_socfwd_was_down_is_applied_at_start(q_lab):
    lab = q_lab
    release_all(lab)
    lab.socfwd("stop")
    client = lab.client_ip(6)
    now = time.time_ns()
    with sqlite3.connect(lab.env["LAB_DB"]) as db:
        db.execute("INSERT INTO quarantine (target, reason, action, source, timestamp, expires, active, offence) "
                   "VALUES (?, 'added offline', 'drop', 'operator', ?, ?, 1, 1)", (client, now, now + 3600 * 10**9))
    lab.socfwd("start")
    assert poll(lambda: os.path.exists(lab.env["LAB_SOCKET"]), timeout=10)
    assert lab.probe("tcp", 6, 80, timeout=1)["result"] == "timeout"
    assert any(e.startswith(client) for e in set_elements(lab, 6))
    assert "result" in ctl(lab, "quarantine.remove", {"target": client})
    assert lab.probe("tcp", 6, 80)["result"] == "ok"


def test_an_element_deleted_behind_socfwds_back_comes_back(q_lab):
    lab = q_lab
    release_all(lab)
    client = lab.client_ip(4)
    assert "result" in ctl(lab, "quarantine.add", {"target": client, "duration": "1h"})
    lab.ns(lab.fw_ns, ["nft", "delete", "element", "inet", "socfw", "quarantine4", "{", client, "}"], timeout=10, check=True)
    assert lab.probe("tcp", 4, 80)["result"] == "ok"  # really gone
    # Reconciled within socfwd's interval (10 s).
    assert poll(lambda: any(e.startswith(client) for e in set_elements(lab, 4)), timeout=15, interval=0.5)
    assert lab.probe("tcp", 4, 80, timeout=1)["result"] == "timeout"
    assert "result" in ctl(lab, "quarantine.remove", {"target": client})


def test_the_audit_log_records_changes_and_detects_tampering(q_lab):
    lab = q_lab
    config = lab.env["LAB_DEFAULT_CONFIG"]
    ok = subprocess.run([SOCFWD_BIN, "--verify-audit", "--config", config], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok
    with sqlite3.connect(lab.env["LAB_DB"]) as db:
        rows = db.execute("SELECT id, actor, action FROM audit_log ORDER BY id").fetchall()
        assert any(a == "quarantine" and actor == "uid:0" for _, actor, a in rows), rows
        assert any(a == "release" for _, _, a in rows) and any(a == "expire" for _, _, a in rows), rows
        victim = rows[len(rows) // 2][0]
        db.execute("UPDATE audit_log SET details = replace(details, 'lab test', 'nothing happened') WHERE id = ?", (victim,))
        db.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = ?", (victim,))
    bad = subprocess.run([SOCFWD_BIN, "--verify-audit", "--config", config], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and f"row {victim}" in bad.stdout + bad.stderr, bad


def test_a_file_of_targets_is_imported_in_one_go(q_lab, tmp_path):
    lab = q_lab
    release_all(lab)
    listing = tmp_path / "blocklist.txt"
    listing.write_text("# a blocklist\n203.0.113.5\n198.51.100.0/24   # a network\n\n2001:db8:5::/48\nnot-an-address\n")
    r = ctl(lab, "quarantine.import", {"path": str(listing), "duration": "10m", "reason": "feed"})["result"]
    assert r["added"] == 3 and r["refused_count"] == 1 and r["refused"][0]["target"] == "not-an-address", r
    assert sorted(q["target"] for q in ctl(lab, "quarantine.list")["result"]["quarantined"]) == \
        ["198.51.100.0/24", "2001:db8:5::/48", "203.0.113.5"]
    assert any(e.startswith("198.51.100.0/24") for e in set_elements(lab, 4))
    e = ctl(lab, "quarantine.import", {"path": str(tmp_path / "missing.txt")})["error"]
    assert e["code"] == -32002 and "cannot read" in e["message"], e
    release_all(lab)
