"""`socfwd --pcap FILE [--eve OUT]`: offline replay of a capture through the same
pipeline as inline mode, driven the way a user runs it. Needs no root.

The captures are written here with Python's struct module (classic pcap,
Ethernet link type), so the test controls every byte it checks."""
import json
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import HAVE_SOCFWD, NO_SOCFWD_REASON, LABD, SOCFWD_BIN

pytestmark = pytest.mark.skipif(not HAVE_SOCFWD, reason=NO_SOCFWD_REASON)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, l4):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                      bytes(src), bytes(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + l4


def tcp(sport, dport, flags=0x02):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)


def udp(sport, dport, payload=b"x"):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ether(packet, ethertype=0x0800):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", ethertype) + packet


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1764075370 + i, 0, len(frame), len(frame)))
            f.write(frame)


C, S = [198, 18, 1, 2], [198, 18, 2, 2]


def socfwd(*args):
    return subprocess.run([SOCFWD_BIN, *args], capture_output=True, text=True, timeout=30)


def test_pcap_replay_prints_a_summary_and_writes_eve(tmp_path):
    frames = [
        ether(ipv4(C, S, 6, tcp(40000, 80))),       # log-http: accepted, LOG event
        ether(ipv4(C, S, 6, tcp(40001, 9001))),     # drop-tcp-9001
        ether(ipv4(C, S, 6, tcp(40002, 9002))),     # reject-tcp-9002
        ether(ipv4(C, S, 17, udp(40003, 9003))),    # drop-udp-9003
        ether(ipv4(C, S, 17, udp(40004, 5300))),    # allowed, no event
        ether(ipv4(C, S, 6, tcp(40005, 23))),       # alert-telnet: accepted, ALERT event
        ether(ipv4(C, S, 6, tcp(40006, 80)[:10])),  # IP fine, TCP header cut at 10 bytes: malformed, dropped
        ether(b"\0" * 28, ethertype=0x0806),        # ARP: not IP
    ]
    pcap = tmp_path / "mixed.pcap"
    eve = tmp_path / "eve.json"
    write_pcap(pcap, frames)
    r = socfwd("--pcap", str(pcap), "--rules", str(LABD / "rules.yaml"), "--eve", str(eve))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["records"] == 8
    assert summary["packets"] == 7
    assert summary["non_ip"] == 1
    assert summary["verdicts"] == {"accept": 3, "drop": 3, "reject": 1}
    assert summary["malformed"] == 1
    assert summary["parse_errors"] == {"tcp_truncated": 1}
    assert summary["packets_per_second"] > 0 and summary["seconds"] >= 0

    events = [json.loads(line) for line in eve.read_text().splitlines()]
    by_sig = {(e["event_type"], e.get("alert", {}).get("signature")) for e in events}
    assert ("alert", "log-http") in by_sig
    assert ("alert", "alert-telnet") in by_sig
    assert ("drop", "drop-tcp-9001") in by_sig
    assert ("drop", "reject-tcp-9002") in by_sig
    assert ("drop", "drop-udp-9003") in by_sig
    drop = next(e for e in events if e.get("alert", {}).get("signature") == "drop-tcp-9001")
    assert drop["src_ip"] == "198.18.1.2" and drop["dest_ip"] == "198.18.2.2"
    assert drop["dest_port"] == 9001 and drop["proto"] == "TCP"
    assert drop["alert"]["action"] == "blocked" and drop["drop"]["syn"] is True
    assert isinstance(drop["flow_id"], int) and drop["timestamp"].startswith("2025-11-25T")
    assert any(e["event_type"] == "drop" and e["drop"]["reason"] == "tcp_truncated" for e in events)


def test_a_damaged_capture_is_refused_with_the_record_and_offset(tmp_path):
    pcap = tmp_path / "cut.pcap"
    write_pcap(pcap, [ether(ipv4(C, S, 6, tcp(1, 2)))] * 3)
    data = pcap.read_bytes()
    pcap.write_bytes(data[:-10])  # the last record is cut short
    r = socfwd("--pcap", str(pcap), "--rules", str(LABD / "rules.yaml"))
    assert r.returncode == 65, (r.returncode, r.stdout, r.stderr)
    assert "record 2" in r.stderr and "cut.pcap" in r.stderr, r.stderr


def test_not_a_capture_is_refused(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a capture\n")
    r = socfwd("--pcap", str(bogus))
    assert r.returncode == 65 and "not a" in r.stderr.lower(), r.stderr


def tcp_seg(sport, dport, flags, seq, ack, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + payload


def test_pcap_replay_tracks_connections_to_their_final_state(tmp_path):
    """A full TCP exchange ends as a closed flow; a stray ACK with loose pickup
    off is INVALID and dropped; the summary counts both."""
    S_, A, F, P = 0x02, 0x10, 0x01, 0x08
    ci, si = 0xF3A10C2E, 0x1B2C3D4E
    c2s = lambda fl, seq, ack, data=b"": ether(ipv4(C, S, 6, tcp_seg(41000, 80, fl, seq, ack, data)))
    s2c = lambda fl, seq, ack, data=b"": ether(ipv4(S, C, 6, tcp_seg(80, 41000, fl, seq, ack, data)))
    frames = [
        c2s(S_, ci, 0), s2c(S_ | A, si, ci + 1), c2s(A, ci + 1, si + 1),
        c2s(P | A, ci + 1, si + 1, b"GET / HTTP/1.0\r\n\r\n"), s2c(P | A, si + 1, ci + 19, b"HTTP/1.0 200 OK\r\n\r\n"),
        c2s(F | A, ci + 19, si + 20), s2c(F | A, si + 20, ci + 20), c2s(A, ci + 20, si + 21),
        ether(ipv4(C, S, 6, tcp_seg(40999, 8080, A, 1000, 5000))),   # forged ACK into nothing
    ]
    pcap = tmp_path / "conn.pcap"
    eve = tmp_path / "eve.json"
    config = tmp_path / "socfwd.yaml"
    config.write_text(f"rules: {LABD / 'rules.yaml'}\nconntrack: {{ tcp_loose: false }}\n")
    write_pcap(pcap, frames)
    r = socfwd("--pcap", str(pcap), "--config", str(config), "--eve", str(eve))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["verdicts"] == {"accept": 8, "drop": 1, "reject": 0}, summary
    flows = summary["flows"]
    assert flows["new"] == 1 and flows["invalid"] == 1 and flows["active_at_end"] == 1, flows
    assert flows["invalid_by_reason"] == {"tcp_not_syn": 1}, flows
    records = [json.loads(line) for line in eve.read_text().splitlines()]
    flow = next(e for e in records if e["event_type"] == "flow")
    assert flow["tcp"]["state"] == "time_wait" and flow["flow"]["reason"] == "shutdown", flow
    assert flow["flow"]["pkts_toserver"] == 5 and flow["flow"]["pkts_toclient"] == 3, flow
    drop = next(e for e in records if e["event_type"] == "drop")
    assert drop["dest_port"] == 8080 and drop["drop"]["reason"] == "ct_invalid_tcp_not_syn", drop
