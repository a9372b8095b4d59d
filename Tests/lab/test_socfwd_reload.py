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
