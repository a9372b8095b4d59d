"""socfwctl against a live lab socfwd: status, stats, rules (list, show, add,
disable, rm, check), conns and config check, in text and --json; exit codes
1 (refused), 2 (usage), 3 (permission denied) and 4 (cannot connect).

The socfwctl binary is $SOCFWCTL_BIN or .build/release/socfwctl (tests are
skipped without it). The lab's control socket is LAB_SOCKET in `Scripts/lab env`.
"""
import json
import os
import pwd
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import HAVE_SOCFWD, IS_ROOT, NO_SOCFWD_REASON, NOT_ROOT_REASON, REPO, make_lab, poll, run

SOCFWCTL_BIN = os.environ.get("SOCFWCTL_BIN") or str(REPO / ".build" / "release" / "socfwctl")
HAVE_SOCFWCTL = os.path.isfile(SOCFWCTL_BIN) and os.access(SOCFWCTL_BIN, os.X_OK)

pytestmark = pytest.mark.skipif(
    not HAVE_SOCFWCTL, reason=f"socfwctl binary not found at {SOCFWCTL_BIN} "
                              "(build it with `swift build -c release`, or set SOCFWCTL_BIN)")

# The rules of Scripts/lab.d/rules.yaml, which a fresh lab's rules directory holds.
LAB_RULES = {"log-http", "alert-telnet", "drop-tcp-9001", "reject-tcp-9002", "drop-udp-9003", "reject-udp-9004"}


def ctl(*args, socket=None, timeout=30, env=None):
    """Runs socfwctl with `args` (and --socket when given); returns the CompletedProcess."""
    return run([SOCFWCTL_BIN, *args] + (["--socket", socket] if socket else []), timeout=timeout, env=env)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
    return p


def as_json(p):
    return json.loads(ok(p).stdout)


def check_text_output(p):
    """Human output: no trailing spaces, no empty output."""
    out = ok(p).stdout
    assert out.strip(), "empty output"
    assert not [l for l in out.splitlines() if l != l.rstrip()], f"trailing spaces:\n{out}"
    return out


# ------------------------------------------------------------ without a lab
def test_missing_socket_exits_4_and_says_what_to_do(tmp_path):
    path = tmp_path / "nowhere.sock"
    p = ctl("status", socket=str(path), timeout=15)
    assert p.returncode == 4, p
    assert p.stderr.startswith("socfwctl: "), p.stderr
    assert "is socfwd running" in p.stderr and str(path) in p.stderr, p.stderr
    assert "--socket" in p.stderr and "SOCFW_SOCKET" in p.stderr, p.stderr


def test_socket_from_environment(tmp_path):
    path = tmp_path / "env.sock"
    p = ctl("status", env={**os.environ, "SOCFW_SOCKET": str(path)}, timeout=15)
    assert p.returncode == 4 and str(path) in p.stderr, p


def test_usage_errors_exit_2():
    assert ctl("no-such-command", timeout=15).returncode == 2
    p = ctl("rules", "add", "--name", "x", "--action", "DROP", "--match", "dst_port eq", timeout=15)
    assert p.returncode == 2 and "FIELD OPERATOR VALUE" in p.stderr, p
    p = ctl("rules", "add", "--name", "x", "--action", "DROPP", "--match", "dst_port eq 1", timeout=15)
    assert p.returncode == 2 and "ALLOW" in p.stderr, p


def test_bash_completion_script_is_generated():
    p = ok(ctl("--generate-completion-script", "bash", timeout=15))
    assert "socfwctl" in p.stdout and "rules" in p.stdout


# ------------------------------------------------------------ against socfwd
@pytest.fixture(scope="module")
def ctl_lab(request):
    """A router lab with its default rules directory (Scripts/lab.d/rules.yaml)
    and listeners; `lab.socket` is socfwd's control socket."""
    if not IS_ROOT:
        pytest.skip(NOT_ROOT_REASON)
    if not HAVE_SOCFWD:
        pytest.skip(NO_SOCFWD_REASON)
    lab = make_lab(request, "router", "sc")
    lab.socket = lab.env["LAB_SOCKET"]
    assert poll(lambda: os.path.exists(lab.socket), timeout=10), f"no control socket at {lab.socket}"
    return lab


@pytest.mark.netns
@pytest.mark.socfwd
class TestAgainstSocfwd:
    def test_status_says_inspecting_with_the_lab_rules(self, ctl_lab):
        lab = ctl_lab
        s = as_json(ctl("status", "--json", socket=lab.socket))
        assert s["mode"] == "router" and s["diversion"], s
        assert s["rules"]["loaded"] == len(LAB_RULES) and s["rules"]["enabled"] == len(LAB_RULES), s
        assert s["queues"]["count"] >= 1 and s["pid"] == int(Path(lab.env["LAB_PIDFILE"]).read_text()), s

        out = check_text_output(ctl("status", socket=lab.socket))
        assert re.search(r"(?m)^inspecting:\s+yes, router mode", out), out
        assert re.search(rf"(?m)^rules:\s+{len(LAB_RULES)} loaded, {len(LAB_RULES)} enabled", out), out

        # The environment variable names the socket as well as --socket.
        ok(ctl("status", env={**os.environ, "SOCFW_SOCKET": lab.socket}))

    def test_stats_packets_grow_with_traffic(self, ctl_lab):
        lab = ctl_lab
        before = as_json(ctl("stats", "--json", socket=lab.socket))
        assert isinstance(before["queues"], list) and before["queues"], before
        for _ in range(3):
            assert lab.probe("tcp", 4, 80, http=True, timeout=3)["result"] == "ok"

        def grown():
            s = as_json(ctl("stats", "--json", socket=lab.socket))
            return s if s["packets"] > before["packets"] else None
        after = poll(grown, timeout=5, interval=0.5)
        assert after, f"packets did not grow from {before['packets']}"

        out = check_text_output(ctl("stats", socket=lab.socket))
        assert re.search(r"(?m)^QUEUE\s+PACKETS\s+ACCEPTED", out), out
        assert re.search(r"(?m)^total\s+[\d,]+", out), out
        assert len(re.findall(r"(?m)^\d+\s+[\d,]+", out)) == len(after["queues"]), out

    def test_stats_watch_repeats(self, ctl_lab):
        lab = ctl_lab
        p = run(["timeout", "-s", "INT", "4.5", SOCFWCTL_BIN, "stats", "--watch", "--socket", lab.socket], timeout=15)
        assert p.stdout.count("PACKETS") >= 2, p
        assert "PKTS/S" in p.stdout, p

    def test_rules_list_and_show(self, ctl_lab):
        lab = ctl_lab
        rules = as_json(ctl("rules", "list", "--json", socket=lab.socket))["rules"]
        assert LAB_RULES <= {r["name"] for r in rules}, rules
        http = next(r for r in rules if r["name"] == "log-http")
        assert http["action"] == "LOG" and http["priority"] == 10 and http["enabled"] is True, http
        assert re.search(r":\d+$", http["origin"]) and "packets" in http["hits"], http

        out = check_text_output(ctl("rules", "list", socket=lab.socket))
        assert re.match(r"PRIO\s+NAME\s+ACTION\s+ENABLED\s+HITS", out), out
        assert re.search(r"(?m)^\s*10\s+log-http\s+LOG\s+yes\s+[\d,]+\s+\S+:\d+", out), out
        # Evaluation order: log-http (10) before drop-tcp-9001 (100).
        assert out.index("log-http") < out.index("drop-tcp-9001")

        rule = as_json(ctl("rules", "show", "log-http", "--json", socket=lab.socket))
        assert rule["name"] == "log-http" and rule["action"] == "LOG", rule
        assert {(c["field"], c["operator"]) for c in rule["conditions"]} == {("protocol", "eq"), ("dst_port", "eq")}, rule
        out = check_text_output(ctl("rules", "show", "log-http", socket=lab.socket))
        assert re.search(r"(?m)^action:\s+LOG$", out) and "  protocol eq tcp" in out and "  dst_port eq 80" in out, out

        p = ctl("rules", "show", "no-such-rule", socket=lab.socket)
        assert p.returncode == 1 and p.stderr.startswith("socfwctl: ") and "no-such-rule" in p.stderr, p

    def test_rules_add_disable_rm_changes_traffic(self, ctl_lab, request):
        lab = ctl_lab
        name = "ctl-drop-tcp-8080"
        request.addfinalizer(lambda: ctl("rules", "rm", name, socket=lab.socket))
        assert lab.probe("tcp", 4, 8080, timeout=3)["result"] == "ok"

        p = ok(ctl("rules", "add", "--name", name, "--action", "drop", "--priority", "5",
                   "--description", "added by test_socfwctl",
                   "--match", "protocol eq tcp", "--match", "dst_port in 8080, 8081", socket=lab.socket))
        assert re.match(rf"rule '{name}' added: {len(LAB_RULES) + 1} loaded, {len(LAB_RULES) + 1} enabled", p.stdout), p.stdout
        assert poll(lambda: lab.probe("tcp", 4, 8080, timeout=1)["result"] == "timeout", timeout=5), \
            "TCP 8080 still passes after rules add"
        assert lab.probe("tcp", 6, 8080, timeout=1)["result"] == "timeout"
        assert lab.probe("tcp", 4, 80, http=True, timeout=3)["result"] == "ok"

        rule = as_json(ctl("rules", "show", name, "--json", socket=lab.socket))
        assert rule["managed"] is True and rule["action"] == "DROP" and rule["priority"] == 5, rule
        assert rule["description"] == "added by test_socfwctl", rule
        port = next(c for c in rule["conditions"] if c["field"] == "dst_port")
        assert port["operator"] == "in" and [str(v) for v in port["value"]] == ["8080", "8081"], rule
        assert re.search(rf"(?m)^\s*5\s+{name}\s+DROP\s+yes\s+.*\(managed\)$",
                         check_text_output(ctl("rules", "list", socket=lab.socket)))

        r = as_json(ctl("rules", "disable", name, "--json", socket=lab.socket))
        assert r["loaded"] == len(LAB_RULES) + 1 and r["enabled"] == len(LAB_RULES), r
        assert poll(lambda: lab.probe("tcp", 4, 8080, timeout=1)["result"] == "ok", timeout=5), \
            "TCP 8080 still dropped after rules disable"
        assert as_json(ctl("rules", "show", name, "--json", socket=lab.socket))["enabled"] is False

        p = ok(ctl("rules", "enable", name, socket=lab.socket))
        assert p.stdout.startswith(f"rule '{name}' enabled: "), p.stdout
        assert poll(lambda: lab.probe("tcp", 4, 8080, timeout=1)["result"] == "timeout", timeout=5)

        p = ok(ctl("rules", "rm", name, socket=lab.socket))
        assert p.stdout.startswith(f"rule '{name}' removed: {len(LAB_RULES)} loaded"), p.stdout
        names = {r["name"] for r in as_json(ctl("rules", "list", "--json", socket=lab.socket))["rules"]}
        assert name not in names and LAB_RULES <= names
        assert poll(lambda: lab.probe("tcp", 4, 8080, timeout=1)["result"] == "ok", timeout=5)

    def test_rules_add_with_an_unknown_field_is_refused(self, ctl_lab):
        lab = ctl_lab
        p = ctl("rules", "add", "--name", "ctl-bad-field", "--action", "DROP", "--match", "dst_prt eq 80", socket=lab.socket)
        assert p.returncode == 1, p
        assert p.stderr.startswith("socfwctl: ") and "dst_prt" in p.stderr, p.stderr
        names = {r["name"] for r in as_json(ctl("rules", "list", "--json", socket=lab.socket))["rules"]}
        assert "ctl-bad-field" not in names

    def test_rules_check(self, ctl_lab, tmp_path):
        lab = ctl_lab
        good = tmp_path / "good.yaml"
        good.write_text("rules:\n  - name: a\n    action: DROP\n    conditions:\n"
                        "      - { field: dst_port, operator: eq, value: 7 }\n")
        assert ok(ctl("rules", "check", good, socket=lab.socket)).stdout.strip() == f"{good}: ok, 1 rule, 1 enabled"
        r = as_json(ctl("rules", "check", good, "--json", socket=lab.socket))
        assert r["ok"] is True and r["rules"] == 1, r

        bad = tmp_path / "bad.yaml"
        bad.write_text(good.read_text().replace("action: DROP", "action: DROPP"))
        p = ctl("rules", "check", bad, socket=lab.socket)
        assert p.returncode == 1, p
        assert re.match(rf"socfwctl: {re.escape(str(bad))}:3:\d+: .*action", p.stderr), p.stderr

        p = ctl("rules", "check", tmp_path / "missing.yaml", socket=lab.socket)
        assert p.returncode == 1 and "missing.yaml" in p.stderr, p

    def test_conns_shows_a_connection_after_curl(self, ctl_lab):
        lab = ctl_lab
        server = lab.server_ip(4)
        p = lab.curl(4, 80)
        assert "http_code=200" in p.stdout, p
        conns = as_json(ctl("conns", "--port", "80", "--protocol", "tcp", "--json", socket=lab.socket))["connections"]
        assert any(server in json.dumps(c) for c in conns), conns

        out = check_text_output(ctl("conns", "--port", "80", socket=lab.socket))
        assert re.match(r"PROTO\s+SOURCE\s+DESTINATION\s+STATE\s+PACKETS\s+BYTES", out), out
        assert re.search(rf"(?m)^TCP\s+\S+\s+{re.escape(server)}:80\s", out), out

        assert len(as_json(ctl("conns", "--top", "1", "--json", socket=lab.socket))["connections"]) <= 1
        none = as_json(ctl("conns", "--port", "1", "--json", socket=lab.socket))["connections"]
        assert none == [], none

    def test_config_check(self, ctl_lab, tmp_path, monkeypatch):
        lab = ctl_lab
        config = Path(lab.env["LAB_CONFIG"])
        r = as_json(ctl("config", "check", config, "--json", socket=lab.socket))
        assert r["ok"] is True and r["rules"] == len(LAB_RULES), r

        # A relative path is sent as an absolute one: socfwd does not share our working directory.
        (tmp_path / "copy.yaml").write_text(config.read_text())
        monkeypatch.chdir(tmp_path)
        p = ok(ctl("config", "check", "copy.yaml", socket=lab.socket))
        assert p.stdout.startswith(f"{tmp_path / 'copy.yaml'}: ok, {len(LAB_RULES)} rules"), p.stdout

        bad = tmp_path / "bad.yaml"
        text, n = re.subn(r"(?m)^mode:.*$", "mode: bogus", config.read_text())
        assert n == 1
        bad.write_text(text)
        p = ctl("config", "check", bad, socket=lab.socket)
        assert p.returncode == 1 and str(bad) in p.stderr and "mode" in p.stderr, p

    def test_reload(self, ctl_lab):
        lab = ctl_lab
        before = as_json(ctl("status", "--json", socket=lab.socket))["rules"]["generation"]
        r = as_json(ctl("reload", "--json", socket=lab.socket))
        assert r["loaded"] == len(LAB_RULES) and r["generation"] > before, r
        out = check_text_output(ctl("reload", socket=lab.socket))
        assert re.match(rf"rules reloaded: {len(LAB_RULES)} loaded, {len(LAB_RULES)} enabled \(parse ", out), out

    def test_a_user_outside_group_socfw_is_refused(self, ctl_lab):
        lab = ctl_lab
        nobody = pwd.getpwnam("nobody")
        if shutil.which("setpriv"):
            prefix = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        else:
            prefix = ["runuser", "-u", "nobody", "--"]
        # A copy nobody can execute, whatever the permissions of the build directory.
        bindir = tempfile.mkdtemp(prefix="socfwctl-")
        try:
            os.chmod(bindir, 0o755)
            binary = shutil.copy2(SOCFWCTL_BIN, os.path.join(bindir, "socfwctl"))
            os.chmod(binary, 0o755)
            p = run([*prefix, binary, "status", "--socket", lab.socket], timeout=30)
        finally:
            shutil.rmtree(bindir, ignore_errors=True)
        assert p.returncode in (3, 4), p
        assert p.stderr.startswith("socfwctl: ") and "permission denied" in p.stderr.lower(), p.stderr

    def test_alerts_list_follow_and_ack(self, ctl_lab):
        lab = ctl_lab
        follower = subprocess.Popen([SOCFWCTL_BIN, "alerts", "tail", "-f", "-n", "0", "--json", "--socket", lab.socket],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)  # subscribed
            assert lab.probe("tcp", 4, 23)["result"] == "ok"  # alert-telnet
            ready, _, _ = select.select([follower.stdout], [], [], 5)
            assert ready, "alerts tail -f printed nothing"
            live = json.loads(follower.stdout.readline())
            assert live["eve"]["alert"]["signature"] == "alert-telnet", live
        finally:
            follower.terminate()
            follower.wait(timeout=5)
        listed = as_json(ctl("alerts", "ls", "--open", "--json", socket=lab.socket))["alerts"]
        assert any(a["id"] == live["id"] for a in listed)
        out = check_text_output(ctl("alerts", "ls", socket=lab.socket))
        assert "alert-telnet" in out and "open" in out.splitlines()[2], out
        out = check_text_output(ctl("alerts", "ack", str(live["id"]), socket=lab.socket))
        assert out.startswith(f"alert {live['id']} acknowledged (alert-telnet)"), out
        p = ctl("alerts", "ack", str(live["id"]), socket=lab.socket)
        assert p.returncode == 1 and "already acknowledged" in p.stderr, p
        assert all(a["id"] != live["id"] for a in as_json(ctl("alerts", "ls", "--open", "--json", socket=lab.socket))["alerts"])

    def test_alerts_ls_filters_and_pages(self, ctl_lab):
        lab = ctl_lab
        for _ in range(3):
            assert lab.probe("tcp", 4, 23)["result"] == "ok"
        client = lab.client_ip(4)
        mine = poll(lambda: (lambda a: a if len(a) >= 3 else None)(
            as_json(ctl("alerts", "ls", "--address", client, "--source", "rule", "--since", "10m", "--json",
                        socket=lab.socket))["alerts"]), timeout=5)
        assert all(a["source"] == "rule" and client in (a["src_ip"], a["dst_ip"]) for a in mine)
        assert as_json(ctl("alerts", "ls", "--source", "signature", "--address", client, "--json", socket=lab.socket))["alerts"] == []
        out = check_text_output(ctl("alerts", "ls", "--limit", "2", socket=lab.socket))
        cursor = re.search(r"older: --before (\d+)", out)
        assert cursor, out
        older = as_json(ctl("alerts", "ls", "--limit", "2", "--before", cursor.group(1), "--json", socket=lab.socket))["alerts"]
        assert older and all(a["id"] < int(cursor.group(1)) for a in older)
        for bad, code, word in ((["--severity", "5"], 2, "--severity"), (["--since", "yesterday"], 2, "--since"),
                                (["--address", "10.0.0.300"], 1, "address")):
            p = ctl("alerts", "ls", *bad, socket=lab.socket)
            assert p.returncode == code and word in p.stderr, (bad, p)

    def test_tokens_create_ls_revoke(self, ctl_lab):
        lab = ctl_lab
        out = check_text_output(ctl("tokens", "create", "ci-reader", "--scope", "read", "operate", socket=lab.socket))
        token = out.splitlines()[0]
        assert re.fullmatch(r"socfw_[A-Za-z0-9_-]{43}", token) and "shown only now" in out, out
        listed = as_json(ctl("tokens", "ls", "--json", socket=lab.socket))["tokens"]
        assert [t["scopes"] for t in listed if t["name"] == "ci-reader"] == [["read", "operate"]]
        table = check_text_output(ctl("tokens", socket=lab.socket))
        assert "ci-reader" in table and "read,operate" in table and token not in table, table
        p = ctl("tokens", "create", "ci-reader", socket=lab.socket)
        assert p.returncode == 1 and "exists" in p.stderr, p
        p = ctl("tokens", "create", "x", "--scope", "root", socket=lab.socket)
        assert p.returncode == 2 and "root" in p.stderr, p
        assert "revoked" in check_text_output(ctl("tokens", "revoke", "ci-reader", socket=lab.socket))
        assert "revoked" in check_text_output(ctl("tokens", "ls", "--all", socket=lab.socket))
        p = ctl("tokens", "revoke", "ci-reader", socket=lab.socket)
        assert p.returncode == 1 and "no live token" in p.stderr, p

    def test_quarantine_add_ls_history_rm(self, ctl_lab):
        lab = ctl_lab
        client = lab.env["LAB_CLIENT_IP"]
        out = check_text_output(ctl("quarantine", "add", client, "--for", "1h", "--reason", "socfwctl test", socket=lab.socket))
        assert out.startswith(f"quarantined {client} until "), out
        assert lab.probe("tcp", 4, 80, timeout=1)["result"] == "timeout"
        out = check_text_output(ctl("quarantine", "ls", socket=lab.socket))
        assert client in out and "socfwctl test" in out and "1 quarantine active" in out, out
        listed = as_json(ctl("quarantine", "ls", "--json", socket=lab.socket))["quarantined"]
        assert [q["target"] for q in listed] == [client]
        p = ctl("quarantine", "add", "0.0.0.0/0", socket=lab.socket)
        assert p.returncode == 1 and "too wide" in p.stderr, p
        p = ctl("quarantine", "add", "192.0.2.1", "--for", "soon", socket=lab.socket)
        assert p.returncode == 1 and "not a duration" in p.stderr, p
        out = check_text_output(ctl("quarantine", "rm", client, socket=lab.socket))
        assert out.strip() == f"released {client}", out
        assert lab.probe("tcp", 4, 80)["result"] == "ok"
        out = check_text_output(ctl("quarantine", "history", client, socket=lab.socket))
        assert "released" in out and "by uid:0" in out, out
