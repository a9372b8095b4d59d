"""Connection tracking through the lab (router and bridge mode, both IP families):

  * a curl through the firewall is tracked through its states and ends as a
    closed TCP flow in the EVE flow records, with packets counted both ways;
  * a forged ACK into nothing (hping3 -A) is INVALID and dropped when
    mid-stream pickup is off;
  * a bulk TCP transfer is bypassed after the configured depth: socfwd's
    queues stop seeing its packets while the bytes still arrive, and the flow
    ends in socfwd when the kernel's conntrack entry goes.
"""
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import IS_ROOT, HAVE_SOCFWD, NOT_ROOT_REASON, NO_SOCFWD_REASON, make_lab, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]

CONNTRACK = """
conntrack:
  tcp_loose: false
  timeouts: { tcp_time_wait: 1, tcp_close: 1, tcp_fin_wait: 2, tcp_close_wait: 2, tcp_last_ack: 2, udp: 2, icmp: 2 }
  bypass: { enabled: true, packets: 32, bytes: 65536 }
"""


@pytest.fixture(scope="module", params=["router", "bridge"])
def ct_lab(request):
    if not IS_ROOT:
        pytest.skip(NOT_ROOT_REASON)
    if not HAVE_SOCFWD:
        pytest.skip(NO_SOCFWD_REASON)
    lab = make_lab(request, request.param, "c" + request.param[0])
    text = Path(lab.env["LAB_DEFAULT_CONFIG"]).read_text()
    config = Path(lab.env["LAB_STATE_DIR"]) / "socfwd-conntrack.yaml"
    config.write_text(text + CONNTRACK)
    lab.socfwd("restart", config=str(config))
    return lab


def eve_records(lab, offset):
    out = []
    for line in lab.read_from("LAB_EVE", offset).splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def queue_ids(lab):
    p = lab.ns(lab.fw_ns, ["cat", "/proc/net/netfilter/nfnetlink_queue"], timeout=10)
    return sum(int(line.split()[7]) for line in p.stdout.splitlines() if line.strip())


@pytest.mark.parametrize("family", [4, 6], ids=["ipv4", "ipv6"])
def test_a_curl_is_tracked_to_its_close(ct_lab, family):
    lab = ct_lab
    offset = lab.file_size("LAB_EVE")
    r = lab.probe("tcp", family, 80, http=True, timeout=3)
    assert r["result"] == "ok", r
    server = lab.server_ip(family)

    def closed_flow():
        for e in eve_records(lab, offset):
            if e.get("event_type") == "flow" and e.get("dest_ip") == server and e.get("dest_port") == 80:
                return e
        return None

    flow = poll(closed_flow, timeout=10)
    assert flow, f"no flow record for the curl: {lab.read_from('LAB_EVE', offset)[-2000:]}"
    assert flow["proto"] == "TCP" and flow["src_ip"] == lab.client_ip(family)
    assert flow["tcp"]["state"] in ("time_wait", "closed"), flow
    assert flow["flow"]["state"] == "closed" and flow["flow"]["reason"] == "timeout", flow
    # SYN, ACK, request, ACKs, FIN... each way.
    assert flow["flow"]["pkts_toserver"] >= 4 and flow["flow"]["pkts_toclient"] >= 3, flow
    assert flow["flow"]["bytes_toclient"] > flow["flow"]["bytes_toserver"] > 0, flow


@pytest.mark.skipif(shutil.which("hping3") is None, reason="hping3 is not installed (apt-get install hping3)")
def test_a_forged_ack_into_nothing_is_invalid_and_dropped(ct_lab):
    lab = ct_lab
    offset = lab.file_size("LAB_EVE")
    # Watch the client side for the server's RST: it must never get through.
    dump = subprocess.Popen(["ip", "netns", "exec", lab.client_ns, "timeout", "6", "tcpdump", "-nn", "-l",
                             "-i", "any", "tcp port 8080 and tcp[tcpflags] & tcp-rst != 0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1)
    lab.ns(lab.client_ns, ["hping3", "-A", "-c", "3", "-i", "u200000", "-p", "8080", lab.server_ip(4)],
           timeout=15)
    out, _ = dump.communicate(timeout=15)
    assert out.strip() == "", f"the server's RST reached the client, so the ACK passed: {out}"
    drops = [e for e in eve_records(lab, offset)
             if e.get("event_type") == "drop" and e.get("dest_port") == 8080]
    assert len(drops) >= 3, lab.read_from("LAB_EVE", offset)[-2000:]
    assert all(e["drop"]["reason"].startswith("ct_invalid_tcp_") for e in drops), drops


@pytest.mark.skipif(shutil.which("iperf3") is None, reason="iperf3 is not installed")
def test_a_bulk_transfer_is_bypassed_after_the_configured_depth(ct_lab):
    lab = ct_lab
    offset = lab.file_size("LAB_EVE")
    server = subprocess.Popen(["ip", "netns", "exec", lab.server_ns, "iperf3", "-s", "-1", "-p", "5201"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        before = queue_ids(lab)
        p = lab.ns(lab.client_ns, ["iperf3", "-c", lab.server_ip(4), "-p", "5201", "-t", "3", "-J"], timeout=30)
        result = json.loads(p.stdout)
        after = queue_ids(lab)
    finally:
        server.wait(timeout=10)
    segments = result["end"]["sum_sent"]["bytes"] // 1448
    queued = after - before
    assert result["end"]["sum_received"]["bytes"] > 50_000_000, "the transfer itself failed"
    # iperf3's control connection and the data flow's first packets are
    # inspected; the bulk of the data flow is not.
    assert queued < 2_000, f"{queued} packets queued for a transfer of ~{segments} segments: not bypassed"
    assert queued < segments // 20, (queued, segments)

    def bypass_ended():
        for e in eve_records(lab, offset):
            if e.get("event_type") == "flow" and e.get("dest_port") == 5201 and e["flow"]["state"] == "bypassed":
                return e
        return None

    # The kernel reaps expired entries lazily (its conntrack GC may take a
    # minute); deleting them over ctnetlink sends the same DESTROY event now.
    if shutil.which("conntrack"):
        lab.ns(lab.fw_ns, ["conntrack", "-D", "-p", "tcp", "--dport", "5201"], timeout=10)
    flow = poll(bypass_ended, timeout=90)
    assert flow, f"no bypassed flow record: {lab.read_from('LAB_EVE', offset)[-3000:]}"
    assert flow["flow"]["reason"] == "bypass_ended", flow
    assert flow["flow"]["pkts_toserver"] >= 32 and flow["flow"]["pkts_toclient"] >= 32, flow


def test_sigusr1_lists_live_connections(ct_lab):
    """An open TCP connection shows up, ESTABLISHED, in the connection dump."""
    import os
    import signal
    lab = ct_lab
    holder = subprocess.Popen(
        ["ip", "netns", "exec", lab.client_ns, "python3", "-c",
         "import socket,sys,time; s=socket.create_connection((sys.argv[1], 8080), timeout=3); "
         "s.sendall(b'hello'); print('open', flush=True); time.sleep(8)", lab.server_ip(4)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open", holder.stderr.read()
        offset = lab.file_size("LAB_LOG")
        os.kill(int(Path(lab.env["LAB_PIDFILE"]).read_text().strip()), signal.SIGUSR1)
        pattern = re.compile(rf"conn TCP {re.escape(lab.client_ip(4))}:\d+ -> {re.escape(lab.server_ip(4))}:8080 ESTABLISHED")
        assert poll(lambda: pattern.search(lab.read_from("LAB_LOG", offset)), timeout=5), \
            lab.read_from("LAB_LOG", offset)[-2000:]
    finally:
        holder.kill()
        holder.wait(timeout=5)
