"""Rule fields that only exist inline, through the real kernel path:
payload `contains` / `matches` on a live HTTP request, `in_interface` /
`out_interface` with the lab's own interface names (bridge mode: the bridge
ports), and per-rule hit counters (SIGUSR1 log lines)."""
import os
import re
import signal
from pathlib import Path

import pytest

from conftest import LABD, lab_with_rules, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]


def rules_for(env):
    fw_in, fw_out = env["LAB_FW_IN_IF"], env["LAB_FW_OUT_IF"]
    return (LABD / "rules.yaml").read_text() + f"""
  - name: drop-admin-requests
    action: DROP
    priority: 1
    conditions:
      - {{ field: protocol, operator: eq, value: tcp }}
      - {{ field: payload, operator: contains, value: "GET |2f|admin" }}

  - name: reject-sql-injection
    action: REJECT
    priority: 2
    conditions:
      - {{ field: payload, operator: matches, value: "(?i)union(\\\\s|%20|\\\\+)+select" }}

  - name: drop-8080-from-client-side
    action: DROP
    priority: 3
    conditions:
      - {{ field: in_interface, operator: eq, value: "{fw_in}" }}
      - {{ field: out_interface, operator: eq, value: "{fw_out}" }}
      - {{ field: dst_port, operator: eq, value: 8080 }}
      - {{ field: ct_state, operator: eq, value: new }}

  - name: drop-23-from-server-side
    action: DROP
    priority: 4
    conditions:
      - {{ field: in_interface, operator: eq, value: "{fw_out}" }}
      - {{ field: dst_port, operator: eq, value: 23 }}
"""


@pytest.fixture(scope="module", params=["router", "bridge"])
def rules_lab(request):
    return lab_with_rules(request, request.param, "ri" + request.param[0], lambda lab: rules_for(lab.env),
                          name="inline-rules")


def curl(lab, family, path, timeout=3):
    host = lab.server_ip(family)
    url = f"http://{host}:80{path}" if family == 4 else f"http://[{host}]:80{path}"
    p = lab.ns(lab.client_ns, ["curl", "-sS", "--noproxy", "*", "-m", str(timeout), "-o", "/dev/null",
                               "-w", "%{http_code}", url], timeout=timeout + 10)
    return p.stdout.strip()


@pytest.mark.parametrize("family", [4, 6])
def test_payload_rules_stop_matching_requests_and_pass_others(rules_lab, family):
    lab = rules_lab
    assert curl(lab, family, "/index.html") == "200"
    # The request segment is dropped: the handshake completed, no answer comes.
    assert curl(lab, family, "/admin/users") == "000"
    # REJECT resets the connection at once.
    assert curl(lab, family, "/item?id=1%20UNION%20SELECT%20password") == "000"
    assert curl(lab, family, "/item?id=1") == "200"


@pytest.mark.parametrize("family", [4, 6])
def test_interface_rules_use_the_interfaces_packets_cross(rules_lab, family):
    lab = rules_lab
    # client -> server enters on the client side: 8080 dropped there.
    assert lab.probe("tcp", family, 8080, timeout=2)["result"] == "timeout"
    # Port 23 is dropped only when it comes in from the server side: the
    # client's connection (in on the client side) passes.
    assert lab.probe("tcp", family, 23, timeout=2)["result"] == "ok"
    assert lab.probe("tcp", family, 9001, timeout=2)["result"] == "timeout"  # the demo rules still apply


def test_hit_counters_are_reported(rules_lab):
    lab = rules_lab
    for _ in range(3):
        assert curl(lab, 4, "/admin/x", timeout=1) == "000"
    offset = lab.file_size("LAB_LOG")
    pid = int(Path(lab.env["LAB_PIDFILE"]).read_text().strip())
    # Workers publish their counters once a second.
    pattern = re.compile(r"rule drop-admin-requests action=DROP packets=(\d+) bytes=(\d+)")

    def counted():
        start = lab.file_size("LAB_LOG")
        os.kill(pid, signal.SIGUSR1)
        m = poll(lambda: pattern.search(lab.read_from("LAB_LOG", start)), timeout=2)
        return m if m and int(m.group(1)) >= 3 else None

    m = poll(counted, timeout=8, interval=0.5)
    assert m, lab.read_from("LAB_LOG", offset)[-3000:]
    assert int(m.group(2)) > 3 * 40, "bytes count whole packets"
