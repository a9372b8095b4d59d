"""Behavioural detectors inline, with the real tools from Debian's packages,
from the client namespace through socfwd to the server namespace:

* nmap -sS -sT -sF -sN -sX -sA -sU (and -sM) each produce exactly one scan
  alert naming the scan type (router mode; -sS and -sU in bridge mode too);
* hping3 --flood -S --rand-source produces a SYN-flood alert for the server
  within one second of the first flood packet;
* hydra against a real sshd (openssh-server, in the server namespace)
  produces an ssh brute-force alert;
* a plain curl loop and an iperf3 run produce no detection at all.

Each test restarts socfwd first (fresh detector state and suppression). The
detection delay (tool start, or first flood packet, to the alert) is printed
as `DELAY ...` lines (pytest -s, or in the captured output of a failure).
The detector configuration is detector_tools.DETECTION_YAML.

Tool parameters and durations measured through socfwd on a 2-CPU VM:
  nmap NMAP_COMMON (-p 1-100, -T4, --max-retries 1, --max-rtt-timeout 200ms,
       --min-rate 300): 0.1-1.1 s per scan type (-sF/-sN/-sX are dropped as
       conntrack INVALID, so nmap waits out its timeouts: ~1 s);
  hping3 3 s at 50-100 kpps (150-300 k SYNs, ~90 % reach the server);
  hydra 100 passwords, 4 tasks, -w 2: ~11 s, ~23 TCP connections (sshd's
       default MaxAuthTries 6 lets hydra try ~5 passwords per connection;
       brute_force.connections defaults to 15 per 60 s);
  curl 50 sequential requests: ~0.4 s; iperf3 3 s.
Each test takes < 12 s; the module ~1 min (three labs).
"""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import detector_tools as dt
from conftest import control_call, poll

pytestmark = [pytest.mark.netns, pytest.mark.socfwd]

ALERT_TIMEOUT = 5.0       # s after the tool ends for a detection to appear in EVE
SETTLE = 1.0              # s more, so that a duplicate alert would be seen too
QUIET = 2.0               # s after benign traffic in which no detection may appear

SCANS = [
    # (nmap flag, detection.type)
    ("-sS", "syn"),
    ("-sT", "connect"),
    ("-sF", "fin"),
    ("-sN", "null"),
    ("-sX", "xmas"),
    ("-sA", "ack"),
    ("-sU", "udp"),
    ("-sM", "maimon"),     # not in the list; the detector has the type
]


@pytest.fixture(scope="module")
def router_lab(request):
    dt.require_tools("nmap")
    return dt.detector_lab(request, "router", "dr")


@pytest.fixture(scope="module")
def bridge_lab(request):
    dt.require_tools("nmap")
    return dt.detector_lab(request, "bridge", "db")


def run_scan_and_check(lab, flag, stype):
    restart = dt.fresh_socfwd(lab)
    r = dt.nmap(lab, flag, lambda e: e["detection"].get("type") == stype, after=ALERT_TIMEOUT)
    print(f"TOOL nmap {flag} ({lab.mode}): {r.seconds:.2f}s, socfwd restart {restart:.2f}s: {r.args_text}")
    assert r.returncode == 0, f"{r.args_text}: exit {r.returncode}\n{r.stdout}"
    assert "(1 host up)" in r.stdout, r.stdout
    assert dt.nmap_ports_reported(r.stdout) == dt.NMAP_PORTS, f"nmap did not probe every port:\n{r.stdout}"

    server, client = lab.server_ip(4), lab.client_ip(4)
    first = r.alert
    if first:
        print(f"DELAY scan {stype} ({lab.mode}): seen {first['_seen'] - r.start:.3f}s, alert timestamp "
              f"{dt.eve_time(first) - r.start:.3f}s after nmap started (nmap ran {r.seconds:.2f}s)")
    time.sleep(SETTLE)
    scans = lab.eve.detections("scan")
    assert first, f"no scan alert of type {stype} for nmap {flag}; scan alerts: {dt.brief(scans)}"
    assert len(scans) == 1, f"nmap {flag}: expected exactly one scan alert: {dt.brief(scans)}"
    e = scans[0]
    d = e["detection"]
    assert d["type"] == stype and d["scope"] == "vertical", dt.brief(scans)
    assert d["source"] == client and d["target"] == server, dt.brief(scans)
    assert e["src_ip"] == client and e["dest_ip"] == server, e
    assert e["alert"]["action"] in ("allowed", "blocked") and e["alert"]["signature_id"] > 0, e
    # The evidence: distinct ports probed (`ports`; `count` in the first draft of the format).
    probed = d.get("ports", d.get("count"))
    assert isinstance(probed, int) and probed >= dt.SCAN_PORTS, e


@pytest.mark.parametrize("flag,stype", SCANS, ids=[s for _, s in SCANS])
def test_nmap_scan_produces_one_alert_naming_its_type(router_lab, flag, stype):
    run_scan_and_check(router_lab, flag, stype)


@pytest.mark.parametrize("flag,stype", [("-sS", "syn"), ("-sU", "udp")], ids=["syn", "udp"])
def test_nmap_scan_in_bridge_mode(bridge_lab, flag, stype):
    run_scan_and_check(bridge_lab, flag, stype)


# ------------------------------------------------------------ brute force
@pytest.fixture
def sshd(router_lab, request, tmp_path):
    dt.require_tools("sshd", "ssh-keygen", "hydra")
    s = dt.Sshd(router_lab, tmp_path / "sshd")
    request.addfinalizer(s.stop)         # before start: a half-started sshd goes too
    s.start()
    return s


def test_hydra_against_sshd_produces_a_brute_force_alert(router_lab, sshd, tmp_path):
    lab = router_lab
    dt.fresh_socfwd(lab)
    r = dt.hydra_ssh(lab, tmp_path, lambda e: e["detection"].get("service") == "ssh", after=ALERT_TIMEOUT)
    log = sshd.log_text()
    failed = log.count("Failed password")
    conns = log.count("Invalid user")
    print(f"TOOL hydra: {r.seconds:.2f}s, exit {r.returncode}, sshd saw {conns} connections "
          f"and {failed} failed passwords: {r.args_text}")
    assert r.returncode == 0 and "0 valid password" in r.stdout, r.stdout
    # Really talked to sshd: the passwords were tried and refused by sshd itself.
    assert failed >= dt.HYDRA_PASSWORDS // 2, f"sshd log:\n{log}"

    server, client = lab.server_ip(4), lab.client_ip(4)
    e = r.alert
    assert e, f"no ssh brute-force alert; brute_force alerts: {dt.brief(lab.eve.detections('brute_force'))}; " \
              f"all detections: {dt.brief(lab.eve.detections())}"
    print(f"DELAY brute_force ssh: seen {e['_seen'] - r.start:.3f}s, alert timestamp {dt.eve_time(e) - r.start:.3f}s "
          f"after hydra started (hydra ran {r.seconds:.2f}s), attempts {e['detection'].get('attempts')}")
    d = e["detection"]
    assert d["source"] == client and d["target"] == server, e
    assert isinstance(d.get("attempts"), int) and d["attempts"] > 0, e
    assert d.get("window_seconds", 0) > 0, e
    assert e["dest_ip"] == server and e["src_ip"] == client, e


# ------------------------------------------------------------ benign traffic
@pytest.mark.parametrize("family", [4, 6], ids=["ipv4", "ipv6"])
def test_a_plain_curl_loop_produces_no_detection(router_lab, family):
    lab = router_lab
    dt.require_tools("curl")
    dt.fresh_socfwd(lab)
    queued = dt.queued_packets(lab)
    codes, took = dt.curl_loop(lab, family)
    print(f"TOOL curl x{dt.CURL_REQUESTS} ipv{family}: {took:.2f}s")
    assert codes == ["200"] * dt.CURL_REQUESTS, codes
    assert dt.queued_packets(lab) - queued >= dt.CURL_REQUESTS, "the requests did not go through socfwd's queues"
    time.sleep(QUIET)
    found = lab.eve.detections()
    assert not found, f"benign curl loop raised detections: {dt.brief(found)}"


def test_an_iperf3_run_produces_no_detection(router_lab, request):
    lab = router_lab
    dt.require_tools("iperf3")
    dt.fresh_socfwd(lab)
    server = dt.start_iperf3_server(lab)
    request.addfinalizer(lambda: dt.stop_process(server))
    queued = dt.queued_packets(lab)
    result, took = dt.iperf3_client(lab)
    gbps = result["end"]["sum_received"]["bits_per_second"] / 1e9
    print(f"TOOL iperf3 -t {dt.IPERF_SECONDS}: {took:.2f}s, {gbps:.2f} Gbit/s received")
    assert result["end"]["sum_received"]["bytes"] > 0, result.get("error")
    assert dt.queued_packets(lab) - queued > 0, "iperf3 did not go through socfwd's queues"
    time.sleep(QUIET)
    found = lab.eve.detections()
    assert not found, f"iperf3 raised detections: {dt.brief(found)}"


# ------------------------------------------------------------ SYN flood
@pytest.fixture
def flood_lab(request):
    """A lab of its own: the flood leaves ~150 k conntrack entries behind."""
    dt.require_tools("hping3")
    return dt.detector_lab(request, "router", "df")


def test_hping3_syn_flood_with_random_sources_is_detected_within_one_second(flood_lab, request):
    lab = flood_lab
    server = lab.server_ip(4)
    # Random sources only get through the router with rp_filter off (loose
    # mode drops them too: the fw namespace has no default route).
    eff, vals = dt.rp_filter(lab, lab.env["LAB_FW_IN_IF"])
    assert eff == 0, f"rp_filter in {lab.fw_ns} is {vals}: spoofed sources are dropped by the router " \
                     "(Scripts/lab must set net.ipv4.conf.{all,default,IF}.rp_filter=0 in the fw namespace)"
    dt.fresh_socfwd(lab)
    srv_if, cli_if = lab.env["LAB_SERVER_IF"], lab.env["LAB_CLIENT_IF"]
    rx0 = dt.link_counter(lab, lab.server_ns, srv_if, "rx_packets")
    tx0 = dt.link_counter(lab, lab.client_ns, cli_if, "tx_packets")
    q0 = dt.queue_stats(lab)

    monitor = dt.start_flood_monitor(lab)
    request.addfinalizer(lambda: dt.stop_process(monitor))
    args = ["timeout", dt.HPING_SECONDS, "hping3", "--flood", "-S", "-p", "80", "--rand-source", server]
    is_flood = lambda e: e["detection"].get("target") == server and e["detection"].get("scope") == "destination"
    r = dt.run_watching(lab, lab.client_ns, args, dt.HPING_SECONDS + 10, is_flood, detector="syn_flood",
                        after=ALERT_TIMEOUT)
    start = dt.finish_flood_monitor(monitor)
    alert = r.alert
    sent = dt.link_counter(lab, lab.client_ns, cli_if, "tx_packets") - tx0
    arrived = dt.link_counter(lab, lab.server_ns, srv_if, "rx_packets") - rx0
    q1 = dt.queue_stats(lab)
    queued = sum(q1[k]["id_seq"] - q0.get(k, {"id_seq": 0})["id_seq"] for k in q1)
    print(f"TOOL hping3 {r.seconds:.2f}s (exit {r.returncode}; 124 = stopped by timeout): client sent {sent}, "
          f"server received {arrived}, socfwd queued {queued}; queues {q1}; first packet "
          f"{(start['first_before'] or r.start) - r.start:.3f}s after spawn: {r.args_text}")
    assert r.returncode == 124, f"hping3 failed: {r.stdout}"
    assert sent >= 10000 and start["first_before"], f"no flood left the client: {r.stdout} {start}"
    # The router forwarded the spoofed sources (rp_filter), through socfwd's queues.
    assert arrived >= sent // 2, f"only {arrived} of {sent} flood packets reached the server"
    assert queued >= 1000, "the flood did not go through socfwd's queues"

    floods = lab.eve.detections("syn_flood")
    assert alert, f"no syn_flood alert for {server}: syn_flood alerts {dt.brief(floods)}; " \
                  f"all detections: {dt.brief(lab.eve.detections())}"
    first = start["first_before"]
    by_ts = dt.eve_time(alert) - first
    by_seen = alert["_seen"] - first
    print(f"DELAY syn_flood: alert timestamp {by_ts:.3f}s, seen in EVE {by_seen:.3f}s after the first flood packet")
    # The requirement: detected within one second of the first flood
    # packet, by the alert's own timestamp. Its appearance in the file may
    # lag by the EVE writer's 50 ms period plus our 50 ms polling: 0.5 s slack.
    assert by_ts <= 1.0, f"SYN flood detected {by_ts:.3f}s after the first packet: {dt.brief([alert])}"
    assert by_seen <= 1.5, f"SYN flood alert reached EVE {by_seen:.3f}s after the first packet"
    d = alert["detection"]
    assert d.get("port") in (None, 80), alert
    assert alert["dest_ip"] == server, alert


# ------------------------------------------------------------ response: quarantine
QUARANTINE_YAML = f"""\
detection:
  scan:
    window: {dt.SCAN_WINDOW_SECONDS}s
    ports: {dt.SCAN_PORTS}
    response: quarantine
    block: 2m
"""
SOCFWCTL_BIN = os.environ.get("SOCFWCTL_BIN") or str(Path(__file__).resolve().parents[2] / ".build" / "release" / "socfwctl")


def ctl(lab, method, params=None):
    return control_call(lab, method, params)


def socfwctl(lab, *args):
    p = subprocess.run([SOCFWCTL_BIN, *args, "--socket", lab.env["LAB_SOCKET"]], capture_output=True, text=True,
                       timeout=10)
    return p


@pytest.fixture(scope="module")
def quarantine_lab(request):
    dt.require_tools("nmap", "curl")
    return dt.detector_lab(request, "router", "dq", QUARANTINE_YAML)


def test_a_scan_with_response_quarantine_cuts_the_scanner_off_in_the_kernel(quarantine_lab):
    """The detector's quarantine action: the scanner lands in the kernel's
    quarantine set (source detector), its traffic stops, `socfwctl detectors`
    shows the detection and the block; unblock + release let it back in."""
    if not os.access(SOCFWCTL_BIN, os.X_OK):
        pytest.skip(f"socfwctl not found at {SOCFWCTL_BIN}")
    lab = quarantine_lab
    client = lab.client_ip(4)
    dt.fresh_socfwd(lab)
    assert dt.curl_loop(lab, 4, count=1)[0] == ["200"]
    r = dt.nmap(lab, "-sS", lambda e: e["detection"].get("type") == "syn", after=ALERT_TIMEOUT)
    assert r.alert, f"no scan alert: {dt.brief(lab.eve.detections())}"
    assert r.alert["detection"]["response"] == "quarantine", r.alert
    # Quarantined in the background (database, then the kernel's set).
    listed = poll(lambda: [q for q in ctl(lab, "quarantine.list")["result"]["quarantined"]
                           if q["target"] == client], timeout=5)
    assert listed, ctl(lab, "quarantine.list")
    assert listed[0]["source"] == "detector" and "SCAN" in listed[0]["reason"], listed
    codes, _ = dt.curl_loop(lab, 4, count=1)
    assert codes != ["200"], "the quarantined scanner still reaches the server"
    p = socfwctl(lab, "detectors", "--json")
    assert p.returncode == 0, p.stderr
    stats = json.loads(p.stdout)
    assert stats["detections"]["scan"] >= 1, stats
    assert any(b["address"] == client for b in stats["blocked"]), stats
    p = socfwctl(lab, "detectors")
    assert p.returncode == 0 and client in p.stdout and "scan" in p.stdout, p.stdout + p.stderr
    # Lifting both the detector's own block and the quarantine restores traffic.
    p = socfwctl(lab, "detectors", "unblock", client)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "result" in ctl(lab, "quarantine.remove", {"target": client})
    assert poll(lambda: dt.curl_loop(lab, 4, count=1)[0] == ["200"], timeout=5)
    p = socfwctl(lab, "detectors", "unblock", client)
    assert p.returncode == 1 and "not blocked" in p.stderr, p.stdout + p.stderr
