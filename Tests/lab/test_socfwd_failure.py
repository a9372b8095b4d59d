"""socfwd crashes (kill -9) and restarts, in a lab of their own per mode:

  bypass: true  (fail-open)   -> traffic flows uninspected while socfwd is dead
  bypass: false (fail-closed) -> traffic stops while socfwd is dead
  Scripts/lab socfwd restart  -> inspection resumes (9001 dropped, 9002 rejected, 80 allowed)
"""
import re
from pathlib import Path

import pytest

from conftest import IS_ROOT, HAVE_SOCFWD, NOT_ROOT_REASON, NO_SOCFWD_REASON, make_lab, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]


@pytest.fixture(scope="module", params=["router", "bridge"])
def crash_lab(request):
    if not IS_ROOT:
        pytest.skip(NOT_ROOT_REASON)
    if not HAVE_SOCFWD:
        pytest.skip(NO_SOCFWD_REASON)
    return make_lab(request, request.param, "k" + request.param[0])


def assert_inspecting(lab, family=4):
    r = lab.probe("tcp", family, 80, http=True, timeout=3)
    assert r["result"] == "ok", f"80 should be allowed: {r}"
    r = lab.probe("tcp", family, 9001, timeout=2)
    assert r["result"] == "timeout", f"9001 should be dropped: {r}"
    r = lab.probe("tcp", family, 9002, timeout=3)
    assert r["result"] == "refused" and r["elapsed"] < 1.0, f"9002 should be rejected: {r}"


def config_with_bypass(lab, value):
    text = Path(lab.env["LAB_DEFAULT_CONFIG"]).read_text()
    new, n = re.subn(r"(?m)^(\s*bypass:\s*)(true|false)\b", rf"\g<1>{value}", text)
    assert n == 1, "no `bypass:` key in the lab config"
    out = Path(lab.env["LAB_STATE_DIR"]) / f"socfwd-bypass-{value}.yaml"
    out.write_text(new)
    return out


def test_kill9_with_bypass_traffic_flows_uninspected(crash_lab):
    lab = crash_lab
    lab.socfwd("restart", config=config_with_bypass(lab, "true"))
    assert_inspecting(lab)
    lab.socfwd("kill9")
    assert "socfwd: not running" in lab.status().stdout
    # Nobody inspects: allowed traffic and even the dropped/rejected ports pass.
    r = poll(lambda: (lambda x: x if x["result"] == "ok" else None)(lab.probe("tcp", 4, 80, http=True, timeout=2)),
             timeout=5)
    assert r, "80 should still pass with bypass after kill -9"
    for fam in (4, 6):
        for port in (9001, 9002):
            r = lab.probe("tcp", fam, port, timeout=2)
            assert r["result"] == "ok", f"ipv{fam} tcp {port} should pass uninspected: {r}"
        r = lab.probe("udp", fam, 5300, timeout=2)
        assert r["result"] == "ok", r
    # Restart: inspection resumes.
    lab.socfwd("restart", config=lab.env["LAB_DEFAULT_CONFIG"])
    assert_inspecting(lab, 4)
    assert_inspecting(lab, 6)


def test_kill9_fail_closed_traffic_stops(crash_lab):
    lab = crash_lab
    lab.socfwd("restart", config=config_with_bypass(lab, "false"))
    assert_inspecting(lab)
    lab.socfwd("kill9")
    for fam in (4, 6):
        r = lab.probe("tcp", fam, 80, timeout=2)
        assert r["result"] == "timeout", f"ipv{fam} 80 should time out with socfwd dead and bypass off: {r}"
        r = lab.probe("udp", fam, 5300, timeout=1.5)
        assert r["result"] == "timeout", f"ipv{fam} udp 5300 should get nothing: {r}"
    lab.socfwd("restart", config=lab.env["LAB_DEFAULT_CONFIG"])
    assert_inspecting(lab, 4)
    assert_inspecting(lab, 6)
