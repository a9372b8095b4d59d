"""socfwd inline in the lab, demo rules (Scripts/lab.d/rules.yaml), for
router and bridge mode x IPv4 and IPv6:

  tcp 80 LOG (allowed, event), tcp 23 ALERT (allowed, event), tcp 8080 and
  udp 5300 allowed by default, ping allowed, tcp 9001 / udp 9003 DROP,
  tcp 9002 / udp 9004 REJECT.

Listeners run on every port in the server namespace (checked locally by the
fixture), so a timeout is the firewall's doing, not a missing server."""
import errno
import re

import pytest

from conftest import ip_pattern, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]

DROP_TIMEOUT = 2.0      # a dropped TCP connect / UDP exchange must still be silent after this
REJECT_WITHIN = 1.0     # a rejected one must fail faster than this
UDP_ICMP_ERRORS = {"ECONNREFUSED", "EHOSTUNREACH", "EACCES", "ENETUNREACH", "EHOSTDOWN", "EPERM"}


def test_socfwd_running_and_bound(socfwd_lab):
    st = socfwd_lab.status()
    assert st.returncode == 0, st.stdout + st.stderr
    assert "socfwd: running pid" in st.stdout, st.stdout
    # Its queues are bound in the fw namespace (a portid per queue line).
    q = socfwd_lab.ns(socfwd_lab.fw_ns, ["cat", "/proc/net/netfilter/nfnetlink_queue"], timeout=10).stdout
    assert len([ln for ln in q.splitlines() if ln.strip()]) >= 1, f"no queue bound: {q!r}"
    tables = socfwd_lab.ns(socfwd_lab.fw_ns, ["nft", "list", "tables"], timeout=10).stdout
    assert re.search(r"table \w+ socfw\b", tables), tables


def test_ping_allowed(socfwd_lab, family):
    p = socfwd_lab.ping(family, count=2, wait=2)
    assert p.returncode == 0, p.stdout + p.stderr


def test_tcp_allowed(socfwd_lab, family):
    c = socfwd_lab.curl(family, 80)
    assert c.returncode == 0 and "http_code=200" in c.stdout and "socfw-lab http 80" in c.stdout, \
        c.stdout + c.stderr
    r = socfwd_lab.probe("tcp", family, 8080, http=True, timeout=3)
    assert r["result"] == "ok" and "socfw-lab http 8080" in r["data"], r


def test_udp_allowed(socfwd_lab, family):
    r = socfwd_lab.probe("udp", family, 5300, timeout=2)
    assert r["result"] == "ok", r


def test_tcp_drop(socfwd_lab, family):
    r = socfwd_lab.probe("tcp", family, 9001, timeout=DROP_TIMEOUT)
    assert r["result"] == "timeout", f"tcp 9001 should be dropped silently: {r}"


def test_udp_drop(socfwd_lab, family):
    r = socfwd_lab.probe("udp", family, 9003, timeout=DROP_TIMEOUT)
    assert r["result"] == "timeout", f"udp 9003 should be dropped silently: {r}"


def test_tcp_reject(socfwd_lab, family):
    r = socfwd_lab.probe("tcp", family, 9002, timeout=3)
    assert r["result"] == "refused" and r.get("errno") == errno.ECONNREFUSED, \
        f"tcp 9002 should be refused (RST): {r}"
    assert r["elapsed"] < REJECT_WITHIN, f"RST came late: {r}"


def test_udp_reject(socfwd_lab, family):
    r = socfwd_lab.probe("udp", family, 9004, timeout=3)
    assert r["result"] in ("refused", "error") and r.get("errname") in UDP_ICMP_ERRORS, \
        f"udp 9004 should get an ICMP error: {r}"
    assert r["elapsed"] < REJECT_WITHIN, f"ICMP error came late: {r}"


def _event_lines(lab, offsets, rule):
    text = lab.read_from("LAB_EVE", offsets[0]) + "\n" + lab.read_from("LAB_LOG", offsets[1])
    return [ln for ln in text.splitlines() if rule in ln]


@pytest.mark.parametrize("port,rule", [(80, "log-http"), (23, "alert-telnet")], ids=["LOG", "ALERT"])
def test_event_recorded(socfwd_lab, family, port, rule):
    """LOG / ALERT: the connection passes (non-terminal rule, default ALLOW) and
    an event naming the rule and the client address lands in the EVE file (or log)."""
    lab = socfwd_lab
    offsets = (lab.file_size("LAB_EVE"), lab.file_size("LAB_LOG"))
    r = lab.probe("tcp", family, port, http=True, timeout=3)
    assert r["result"] == "ok", f"tcp {port} should pass: {r}"
    client = ip_pattern(lab.client_ip(family))
    lines = poll(lambda: [ln for ln in _event_lines(lab, offsets, rule) if client.search(ln)], timeout=5)
    assert lines, (f"no event for rule {rule} from {lab.client_ip(family)} in {lab.env['LAB_EVE']} "
                   f"or {lab.env['LAB_LOG']}; new EVE text: {lab.read_from('LAB_EVE', offsets[0])[-2000:]!r}")
