"""SIGHUP reloads the rules while traffic flows; a bad rules file is refused
with file, line and field in the log and the running rules stay in force."""
import os
import re
import signal
from pathlib import Path

import pytest

from conftest import LABD, lab_with_rules, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]


@pytest.fixture(scope="module")
def reload_lab(request):
    lab = lab_with_rules(request, "router", "h", (LABD / "rules.yaml").read_text(), name="reload-rules")
    lab.reload_rules = lab.rules_path
    return lab


def hup(lab):
    pid = int(Path(lab.env["LAB_PIDFILE"]).read_text().strip())
    os.kill(pid, signal.SIGHUP)


def test_sighup_applies_new_rules_and_refuses_a_bad_file(reload_lab):
    lab = reload_lab
    assert lab.probe("tcp", 4, 8080, timeout=3)["result"] == "ok"

    # A new rule that drops 8080 takes effect after SIGHUP.
    offset = lab.file_size("LAB_LOG")
    good = lab.reload_rules.read_text() + """
  - name: drop-tcp-8080
    action: DROP
    priority: 5
    conditions:
      - { field: protocol, operator: eq, value: tcp }
      - { field: dst_port, operator: eq, value: 8080 }
"""
    lab.reload_rules.write_text(good)
    hup(lab)
    assert poll(lambda: "rules reloaded" in lab.read_from("LAB_LOG", offset), timeout=5), \
        lab.read_from("LAB_LOG", offset)
    for family in (4, 6):
        r = lab.probe("tcp", family, 8080, timeout=2)
        assert r["result"] == "timeout", f"ipv{family} 8080 should be dropped after reload: {r}"

    # A broken file is refused with file:line and field; 8080 stays dropped, 80 allowed.
    offset = lab.file_size("LAB_LOG")
    lab.reload_rules.write_text(good.replace("action: DROP\n    priority: 5", "action: DROPP\n    priority: 5"))
    hup(lab)
    assert poll(lambda: "reload refused" in lab.read_from("LAB_LOG", offset), timeout=5)
    log = lab.read_from("LAB_LOG", offset)
    assert re.search(rf"{re.escape(str(lab.reload_rules))}:\d+:\d+: field 'rules\[\d+\]\.action'", log), log
    assert lab.probe("tcp", 4, 8080, timeout=2)["result"] == "timeout"
    assert lab.probe("tcp", 4, 80, http=True, timeout=3)["result"] == "ok"


def test_reload_applies_the_configuration_it_can_and_names_what_waits_for_a_restart(reload_lab):
    """`reload` re-reads socfwd.yaml: the quarantine allowlist applies at
    once (the client can no longer be quarantined), a queue count is
    reported as needing a restart and left as it runs, and a file with an
    error changes nothing and says where the error is."""
    from conftest import ControlClient
    lab = reload_lab
    config = Path(lab.config_path)
    original = config.read_text()
    lab.reload_rules.write_text((LABD / "rules.yaml").read_text())  # a good rules file
    client_ip = lab.client_ip(4)
    c = ControlClient(lab.env["LAB_SOCKET"])
    try:
        running_queues = c.call("status")["result"]["queues"]["count"]
        edited = original.replace("  expiry_jitter: 1s\n", f"  expiry_jitter: 1s\n  allowlist: [{client_ip}]\n")
        edited = re.sub(r"(?m)^  count: \d+$", f"  count: {running_queues + 1}", edited)
        assert edited != original
        config.write_text(edited)
        r = c.call("reload")
        assert "result" in r, r
        r = r["result"]
        assert r["config"]["applied"] == ["quarantine.allowlist"], r
        assert r["config"]["restart_required"] == ["queues"], r
        assert c.call("status")["result"]["queues"]["count"] == running_queues
        e = c.call("quarantine.add", {"target": client_ip, "duration": "1m"})["error"]
        assert e["code"] == -32002 and "never quarantined" in e["message"], e

        # SIGHUP does the same: the allowlist goes again.
        config.write_text(original)
        offset = lab.file_size("LAB_LOG")
        hup(lab)
        assert poll(lambda: "applied [quarantine.allowlist]" in lab.read_from("LAB_LOG", offset), timeout=5)
        q = c.call("quarantine.add", {"target": client_ip, "duration": "1m"})
        assert "result" in q, q
        assert "result" in c.call("quarantine.remove", {"target": client_ip})

        # A bad file: refused with file and line, nothing changes.
        config.write_text(original + "detection:\n  scan: { ports: many }\n")
        e = c.call("reload")["error"]
        assert e["code"] == -32002 and f"{config}:" in e["message"] and "ports" in e["message"], e
        assert c.call("quarantine.list")["result"] is not None
    finally:
        config.write_text(original)
        c.call("reload")
        c.close()
