"""The control socket against a live socfwd in the lab: the greeting, every
method, every error code, malformed and over-long input, a client that
never reads, many clients at once, and permissions by peer credentials.

The lab's socfwd gets `control.group: users` and `control.admin_group:
staff` (groups every Debian system has), so permission tests can run a
client as `nobody` with or without those groups (setpriv)."""
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import ControlClient as Client, lab_with_rules, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]

PY = sys.executable


def control_groups(text):
    text, n = re.subn(r"(?m)^(control:\n(?:  .*\n)*)", r"\1  group: users\n  admin_group: staff\n", text)
    assert n == 1, "no control: section in the lab config"
    return text


@pytest.fixture(scope="module")
def ctl_lab(request):
    # The lab's rules directory: rule management writes its managed file there.
    return lab_with_rules(request, "router", "cp", None, name="ctl", edit_config=control_groups)


@pytest.fixture
def client(ctl_lab):
    c = Client(ctl_lab.env["LAB_SOCKET"])
    hello = c.line()
    assert hello["event"] == "hello" and hello["data"]["protocol"] == 1, hello
    yield c
    c.close()


def test_socket_is_group_readable_only(ctl_lab):
    st = os.stat(ctl_lab.env["LAB_SOCKET"])
    assert oct(st.st_mode & 0o777) == "0o660"
    import grp
    assert st.st_gid == grp.getgrnam("users").gr_gid


def test_status_and_stats(ctl_lab, client):
    assert ctl_lab.probe("tcp", 4, 80)["result"] == "ok"
    r = client.call("status")["result"]
    assert r["inspecting"] is True and r["mode"] == "router" and r["queues"]["count"] >= 1
    assert r["rules"]["enabled"] >= 6 and r["packets"] > 0 and r["diversion"] in ("xtables-nfqueue", "nft-queue")
    assert r["database"]["path"] == ctl_lab.env["LAB_DB"] and r["database"]["writable"] is True, r
    s = client.call("stats")["result"]
    assert s["packets"] == sum(q["packets"] for q in s["queues"]) and s["accepted"] > 0


def test_stats_report_packet_and_bit_rates_per_queue_and_in_total(ctl_lab, client):
    """socfwd samples each queue's rates every second: a caller needs one call."""
    import threading
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            ctl_lab.probe("tcp", 4, 80, timeout=2)
    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 8
        s = None
        while time.monotonic() < deadline:
            s = client.call("stats")["result"]
            if s["packets_per_second"] > 0:
                break
            time.sleep(0.3)
    finally:
        stop.set()
        t.join(timeout=5)
    assert s["packets_per_second"] > 0 and s["bits_per_second"] > 0, s
    assert s["packets_per_second"] == pytest.approx(sum(q["packets_per_second"] for q in s["queues"]), abs=len(s["queues"]))
    assert all(q["packets_per_second"] >= 0 and q["bits_per_second"] >= 0 for q in s["queues"]), s


def test_rules_are_listed_added_disabled_and_removed(ctl_lab, client):
    rules = client.call("rules.list")["result"]["rules"]
    names = [r["name"] for r in rules]
    assert "drop-tcp-9001" in names
    r = client.call("rules.get", {"name": "drop-tcp-9001"})["result"]
    assert r["action"] == "DROP" and r["managed"] is False and r["conditions"][1] == \
        {"field": "dst_port", "operator": "eq", "value": "9001"}
    assert ctl_lab.probe("tcp", 4, 8080)["result"] == "ok"
    rule = {"name": "ctl-drop-8080", "action": "DROP", "priority": 1, "enabled": True,
            "conditions": [{"field": "dst_port", "operator": "eq", "value": "8080"}]}
    added = client.call("rules.add", {"rule": rule})
    assert "result" in added, added
    assert ctl_lab.probe("tcp", 4, 8080)["result"] == "timeout"
    got = client.call("rules.get", {"name": "ctl-drop-8080"})["result"]
    assert got["managed"] is True and got["hits"]["packets"] >= 0
    assert "result" in client.call("rules.disable", {"name": "ctl-drop-8080"})
    assert ctl_lab.probe("tcp", 4, 8080)["result"] == "ok"
    assert "result" in client.call("rules.enable", {"name": "ctl-drop-8080"})
    assert ctl_lab.probe("tcp", 4, 8080)["result"] == "timeout"
    assert "result" in client.call("rules.delete", {"name": "ctl-drop-8080"})
    assert ctl_lab.probe("tcp", 4, 8080)["result"] == "ok"


def test_refusals_carry_precise_messages(ctl_lab, client):
    bad = {"name": "bad", "action": "DROP", "conditions": [{"field": "dst_prt", "operator": "eq", "value": "1"}]}
    e = client.call("rules.add", {"rule": bad})["error"]
    assert e["code"] == -32002 and "unknown field 'dst_prt'" in e["message"] and "90-managed.yaml" in e["message"], e
    e = client.call("rules.disable", {"name": "drop-tcp-9001"})["error"]
    assert e["code"] == -32002 and "edit it there" in e["message"], e
    e = client.call("rules.delete", {"name": "no-such-rule"})["error"]
    assert e["code"] == -32002 and "no rule named 'no-such-rule'" in e["message"], e
    e = client.call("rules.add", {"rule": {"action": "DROP"}})["error"]
    assert e["code"] == -32602 and "params.rule.name" in e["message"], e
    e = client.call("rules.add", {"rule": {"name": "x", "action": "DROP", "priorty": 3}})["error"]
    assert e["code"] == -32602 and "params.rule.priorty: unknown key" in e["message"], e
    e = client.call("rules.check", {"text": "rules:\n  - name: a\n    action: DROPP\n", "file": "mine.yaml"})["error"]
    assert e["code"] == -32002 and e["message"].startswith("mine.yaml:3:") and "unknown action 'DROPP'" in e["message"], e
    ok = client.call("rules.check", {"text": "rules:\n  - { name: a, action: DROP }\n"})["result"]
    assert ok == {"ok": True, "rules": 1, "enabled": 1}
    e = client.call("status", {"verbose": True})["error"]
    assert e["code"] == -32602 and "unknown parameter 'verbose'" in e["message"]
    e = client.call("nosuch")["error"]
    assert e["code"] == -32601 and "rules.list" in e["message"]
    e = client.call("config.check", {"path": "/nonexistent/socfwd.yaml"})["error"]
    assert e["code"] == -32002 and "/nonexistent/socfwd.yaml" in e["message"]
    r = client.call("config.check", {"path": ctl_lab.env["LAB_DEFAULT_CONFIG"]})["result"]
    assert r["ok"] is True


def test_malformed_requests(client):
    for raw, code in [(b"{not json\n", -32700), (b"[1,2]\n", -32600), (b'{"id":1}\n', -32600),
                      (b'{"id":[1],"method":"status"}\n', -32600), (b'{"id":2,"method":"status","params":[]}\n', -32602),
                      (b'{"id":3,"method":"status","extra":1}\n', -32600), (b"\xff\xfe\n", -32700)]:
        client.send_raw(raw)
        msg = client.line()
        assert msg["error"]["code"] == code, (raw, msg)
    # The connection still works afterwards.
    assert "result" in client.call("status")


def test_an_over_long_line_is_refused_and_the_connection_closed(ctl_lab, client):
    client.send_raw(b'{"id":1,"method":"status","params":{"x":"' + b"a" * 70000)
    msg = client.line()
    assert msg["error"]["code"] == -32003, msg
    with pytest.raises((EOFError, ConnectionResetError)):
        client.line()
    # Others are served.
    other = Client(ctl_lab.env["LAB_SOCKET"])
    other.line()
    assert "result" in other.call("status")
    other.close()


def test_conns_list_filters(ctl_lab, client):
    assert ctl_lab.curl(4, 80).returncode == 0
    conns = client.call("conns.list", {"port": 80, "protocol": "tcp", "limit": 5})["result"]["connections"]
    assert conns and all(c["dest_port"] == 80 or c["src_port"] == 80 for c in conns)
    e = client.call("conns.list", {"address": "not-an-address"})["error"]
    assert e["code"] == -32602


def test_subscribers_get_stats_and_reload_events(ctl_lab, client):
    r = client.call("subscribe", {"topics": ["stats", "reloads"]})["result"]
    assert r["topics"] == ["reloads", "stats"]
    events = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(e["event"] == "stats" for e in events):
        events.append(client.line())
    assert any(e["event"] == "stats" and "queues" in e["data"] for e in events), events
    other = Client(ctl_lab.env["LAB_SOCKET"])
    other.line()
    assert "result" in other.call("reload")
    other.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        e = client.line()
        if e.get("event") == "reload":
            assert e["data"]["ok"] is True
            break
    else:
        pytest.fail("no reload event")
    e = client.call("subscribe", {"topics": ["nope"]})["error"]
    assert e["code"] == -32602


def test_alerts_are_listed_pushed_and_acknowledged(ctl_lab, client):
    assert "result" in client.call("subscribe", {"topics": ["alerts"]})
    assert ctl_lab.probe("tcp", 4, 23)["result"] == "ok"  # the lab's alert-telnet rule
    pushed = None
    deadline = time.monotonic() + 5
    while pushed is None and time.monotonic() < deadline:
        e = client.line()
        if e.get("event") == "alert":
            pushed = e["data"]
    assert pushed and pushed["eve"]["alert"]["signature"] == "alert-telnet" and pushed["eve"]["dest_port"] == 23, pushed
    # By cursor: the rule alerts on every packet to port 23, so the probe
    # raised several. Asked twice: the second answer may be a kept page.
    mine = {"limit": 1, "open": True, "cursor": str(pushed["id"] + 1)}
    for _ in range(2):
        listed = client.call("alerts.list", mine)["result"]
        assert [a["id"] for a in listed["alerts"]] == [pushed["id"]], listed
    acked = client.call("alerts.ack", {"id": pushed["id"]})["result"]
    assert acked["acknowledged_by"] == "uid:0" and acked["acknowledged_at_ns"] > 0 and acked["acknowledged"] is True
    assert acked["source"] == "rule" and acked["src_ip"] == ctl_lab.client_ip(4) and acked["title"] == "alert-telnet"
    e = client.call("alerts.ack", {"id": pushed["id"]})["error"]
    assert e["code"] == -32002 and "already acknowledged by uid:0" in e["message"], e
    for unknown in (10 ** 12, 2 ** 63 - 1):  # the largest id once crashed socfwd (found by schemathesis)
        e = client.call("alerts.ack", {"id": unknown})["error"]
        assert e["code"] == -32002 and "no alert" in e["message"], e
    still_open = client.call("alerts.list", {"open": True})["result"]["alerts"]
    assert all(a["id"] != pushed["id"] for a in still_open)
    # The same query as before the acknowledgement: not answered from the page kept then.
    assert all(a["id"] != pushed["id"] for a in client.call("alerts.list", mine)["result"]["alerts"])
    # Nor the newest page after a new alert.
    newest = client.call("alerts.list", {"limit": 1})["result"]["alerts"][0]["id"]
    assert ctl_lab.probe("tcp", 4, 23)["result"] == "ok"
    assert poll(lambda: client.call("alerts.list", {"limit": 1})["result"]["alerts"][0]["id"] > newest, timeout=5)
    # Persisted too (the database's alerts table, written off the packet path).
    import sqlite3

    def in_db():
        with sqlite3.connect(ctl_lab.env["LAB_DB"]) as db:
            return db.execute("SELECT title, src_ip, eve FROM alerts WHERE title = 'alert-telnet'").fetchall()
    rows = poll(in_db, timeout=5)
    assert rows and rows[-1][1] == ctl_lab.client_ip(4) and json.loads(rows[-1][2])["alert"]["signature"] == "alert-telnet"


def test_alerts_are_filtered_paged_and_kept_across_a_restart(ctl_lab, client):
    """alerts.list reads the database (socfwd numbers alerts after the
    highest stored id): filters, a cursor, and acknowledgements that
    survive a restart."""
    for _ in range(3):
        assert ctl_lab.probe("tcp", 4, 23)["result"] == "ok"
    for _ in range(2):
        assert ctl_lab.probe("tcp", 6, 23)["result"] == "ok"
    v4, v6 = ctl_lab.client_ip(4), ctl_lab.client_ip(6)

    def listed(**params):
        return client.call("alerts.list", params)["result"]
    assert poll(lambda: len(listed(address=v6, source="rule")["alerts"]) >= 2, timeout=5)
    by_v4 = listed(address=v4, limit=1000)["alerts"]
    assert len(by_v4) >= 3 and all(v4 in (a["src_ip"], a["dst_ip"]) for a in by_v4)
    assert all(a["source"] == "rule" and a["severity"] == 2 for a in listed(source="rule", severity=2)["alerts"])
    assert listed(source="signature", address=v6)["alerts"] == []
    assert listed(since_ns=time.time_ns() + 10 ** 12)["alerts"] == []
    # Pages of 2 walk every alert once, newest first.
    ids, cursor = [], None
    while True:
        page = listed(limit=2, **({"cursor": cursor} if cursor else {}))
        ids += [a["id"] for a in page["alerts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) >= 5
    assert ids == [a["id"] for a in listed(limit=1000)["alerts"]]
    for params, word in (({"cursor": "x"}, "cursor"), ({"source": "dns"}, "source"), ({"address": "10.0.0.999"}, "address"),
                         ({"severity": 4}, "severity"), ({"open": "yes"}, "open")):
        e = client.call("alerts.list", params)["error"]
        assert e["code"] == -32602 and word in e["message"], (params, e)

    newest = ids[0]
    assert "result" in client.call("alerts.ack", {"id": newest})
    time.sleep(0.5)
    ids = [a["id"] for a in listed(limit=1000)["alerts"]]
    newest = ids[0]
    ctl_lab.socfwd("restart")
    assert poll(lambda: os.path.exists(ctl_lab.env["LAB_SOCKET"]), timeout=10)
    again = Client(ctl_lab.env["LAB_SOCKET"])
    again.line()
    try:
        kept = again.call("alerts.list", {"limit": 1000})["result"]["alerts"]
        assert [a["id"] for a in kept] == ids, "every alert is still listed after the restart"
        assert any(a["acknowledged_by"] == "uid:0" for a in kept)
        oldest_open = [a for a in kept if not a["acknowledged"]][-1]["id"]
        assert again.call("alerts.ack", {"id": oldest_open})["result"]["acknowledged_by"] == "uid:0"
        assert again.call("alerts.ack", {"id": oldest_open})["error"]["code"] == -32002
        assert ctl_lab.probe("tcp", 4, 23)["result"] == "ok"
        assert poll(lambda: again.call("alerts.list", {"limit": 1})["result"]["alerts"][0]["id"] > newest, timeout=5), \
            "alerts raised after the restart are numbered after the stored ones"
    finally:
        again.close()


def test_api_tokens_are_created_listed_as_hashes_and_revoked(ctl_lab, client):
    import hashlib
    assert "result" in client.call("subscribe", {"topics": ["tokens"]})
    made = client.call("tokens.create", {"name": "grafana", "scopes": ["read", "operate"]})["result"]
    token = made["token"]
    assert re.fullmatch(r"socfw_[A-Za-z0-9_-]{43}", token) and made["scopes"] == ["read", "operate"], made
    event = poll(lambda: (lambda e: e if e.get("event") == "token" else None)(client.line()), timeout=5)
    assert event["data"] == {"change": "created", "name": "grafana"}, event
    listed = client.call("tokens.list")["result"]["tokens"]
    assert [t["name"] for t in listed] == ["grafana"] and "sha256" not in listed[0] and token not in json.dumps(listed)
    hashed = client.call("tokens.list", {"include_hashes": True})["result"]["tokens"]
    assert hashed[0]["sha256"] == hashlib.sha256(token.encode()).hexdigest()
    e = client.call("tokens.create", {"name": "grafana", "scopes": ["read"]})["error"]
    assert e["code"] == -32002 and "exists" in e["message"], e
    for params, word in (({"name": "a b", "scopes": ["read"]}, "name"), ({"name": "x", "scopes": ["root"]}, "scopes[0]"),
                         ({"name": "x"}, "scopes")):
        e = client.call("tokens.create", params)["error"]
        assert e["code"] == -32602 and word in e["message"], (params, e)
    with sqlite3.connect(ctl_lab.env["LAB_DB"]) as db:
        stored = db.execute("SELECT sha256, scopes FROM api_tokens WHERE name = 'grafana'").fetchall()
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(), "read,operate")], "only the hash is stored"
    assert client.call("tokens.revoke", {"name": "grafana"})["result"]["revoked_ns"] > 0
    assert client.call("tokens.list")["result"]["tokens"] == []
    assert client.call("tokens.revoke", {"name": "grafana"})["error"]["code"] == -32002


def test_a_client_that_may_change_socfwd_names_the_actor_for_the_audit_log(ctl_lab, client):
    rule = {"name": "ctl-actor-9123", "action": "DROP", "conditions": [{"field": "dst_port", "operator": "eq", "value": "9123"}]}
    r = client.call("rules.add", {"rule": rule, "actor": "token:soc-bot"})
    assert "result" in r, r
    assert "result" in client.call("rules.delete", {"name": "ctl-actor-9123"})
    def actors():  # audit rows are appended off the control thread
        with sqlite3.connect(ctl_lab.env["LAB_DB"]) as db:
            return [a for (a, d) in db.execute("SELECT actor, details FROM audit_log WHERE action IN ('rules.add', 'rules.delete') "
                                               "ORDER BY id") if "ctl-actor-9123" in d]
    assert poll(lambda: len(actors()) == 2, timeout=5), actors()
    assert actors() == ["uid:0/token:soc-bot", "uid:0"]
    e = client.call("status", {"actor": "has space"})["error"]
    assert e["code"] == -32602 and "actor" in e["message"], e


def test_a_client_that_never_reads_is_dropped_and_others_are_served(ctl_lab):
    hog = Client(ctl_lab.env["LAB_SOCKET"])
    hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = json.dumps({"id": 1, "method": "rules.list"}).encode() + b"\n"
    hog.sock.settimeout(0.5)
    sent = 0
    try:
        for _ in range(20000):
            hog.sock.sendall(req)
            sent += 1
    except (socket.timeout, BrokenPipeError, ConnectionResetError):
        pass
    start = time.monotonic()
    ok = Client(ctl_lab.env["LAB_SOCKET"], timeout=5)
    ok.line()
    assert "result" in ok.call("status")
    assert time.monotonic() - start < 3, "the server was held up by a client that does not read"
    ok.close()

    def hog_dropped():
        try:
            hog.sock.settimeout(0.2)
            while True:
                if not hog.sock.recv(1 << 20):
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, OSError):
            return True
    assert poll(hog_dropped, timeout=15, interval=0.2), f"client that sent {sent} requests and read nothing was not dropped"
    log = open(ctl_lab.env["LAB_LOG"]).read()
    assert "is not reading its replies: disconnected" in log
    hog.close()


def test_many_clients_at_once(ctl_lab):
    clients = [Client(ctl_lab.env["LAB_SOCKET"]) for _ in range(40)]
    for c in clients:
        assert c.line()["event"] == "hello"
    for c in clients:
        c.send_raw(b'{"id":1,"method":"status"}\n')
    for c in clients:
        assert c.line()["id"] == 1
    for c in clients:
        c.close()


def as_user(lab, groups, script):
    """Runs python `script` as nobody with the given supplementary groups."""
    args = ["setpriv", "--reuid", "nobody", "--regid", "nogroup"]
    args += ["--groups", ",".join(groups)] if groups else ["--clear-groups"]
    return subprocess.run(args + [PY, "-c", script, lab.env["LAB_SOCKET"]], capture_output=True, text=True, timeout=20)


CLIENT_SCRIPT = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(json.dumps({"connect_error": e.errno})); sys.exit(0)
f = s.makefile("rwb")
out = [json.loads(f.readline())]
for m, p in (("status", {}), ("reload", {}), ("tokens.list", {"include_hashes": True}), ("status", {"actor": "token:x"})):
    try:
        f.write(json.dumps({"id": m, "method": m, "params": p}).encode() + b"\n"); f.flush()
        line = f.readline()
        out.append(json.loads(line) if line else None)
    except OSError as e:
        out.append({"io_error": str(e)})
print(json.dumps(out))
"""


def test_permissions_follow_peer_credentials(ctl_lab):
    # Let nobody reach the socket file (the lab's state dirs are root's).
    socket_dir = os.path.dirname(ctl_lab.env["LAB_SOCKET"])
    for d in (socket_dir, os.path.dirname(socket_dir)):
        os.chmod(d, os.stat(d).st_mode | 0o011)
    # Outside both groups: the socket file itself refuses (0660, group users).
    r = as_user(ctl_lab, [], CLIENT_SCRIPT)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"connect_error": 13}, r.stdout
    # In group users: reading yes, changing no.
    r = as_user(ctl_lab, ["users"], CLIENT_SCRIPT)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out[0]["data"]["read"] is True and out[0]["data"]["write"] is False, out
    assert "result" in out[1], out
    assert out[2]["error"]["code"] == -32001 and "staff" in out[2]["error"]["message"], out
    assert out[3]["error"]["code"] == -32001 and "include_hashes" in out[3]["error"]["message"], out
    assert out[4]["error"]["code"] == -32001 and "actor" in out[4]["error"]["message"], out
    # In the admin group too: both.
    r = as_user(ctl_lab, ["users", "staff"], CLIENT_SCRIPT)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out[0]["data"]["write"] is True and "result" in out[2] and "result" in out[3] and "result" in out[4], out
    # Only staff (not users): the socket file's group refuses the connection.
    r = as_user(ctl_lab, ["staff"], CLIENT_SCRIPT)
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"connect_error": 13}, r.stdout
