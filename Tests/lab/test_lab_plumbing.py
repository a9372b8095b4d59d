"""The lab itself, without socfwd: namespaces, addressing, env/status/down,
and the kernel facts socfwd relies on (xtables NFQUEUE diversion with and
without `bypass`, in router and bridge mode) checked with the C baseline."""
import os
import re
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (LAB, REPO, STATE_ROOT, TCP_PORTS, UDP_PORTS, Lab, make_lab, poll, run)

pytestmark = pytest.mark.netns

BASELINE_SRC = REPO / "Benchmarks" / "baseline" / "nfq_accept.c"


@pytest.fixture(scope="module", params=["router", "bridge"])
def plain_lab(request):
    return make_lab(request, request.param, "p" + request.param[0], socfwd=False)


def test_env_and_addresses(plain_lab):
    env = plain_lab.env
    for key in ("LAB_NAME LAB_MODE LAB_CLIENT_NS LAB_FW_NS LAB_SERVER_NS LAB_CLIENT_IP LAB_SERVER_IP "
                "LAB_CLIENT_IP6 LAB_SERVER_IP6 LAB_CONFIG LAB_LOG LAB_EVE LAB_PIDFILE "
                "LAB_FW_IN_IF LAB_FW_OUT_IF").split():
        assert env.get(key), f"{key} missing from `lab env`: {env}"
    assert env["LAB_MODE"] == plain_lab.mode
    assert env["LAB_CLIENT_NS"] == f"{plain_lab.name}-client"
    for key in ("LAB_FW_IN_IF", "LAB_FW_OUT_IF"):
        assert len(env[key]) <= 15
    for key in ("LAB_CLIENT_IP", "LAB_SERVER_IP"):
        assert env[key].startswith("198.18.") or env[key].startswith("198.19.")
    for key in ("LAB_CLIENT_IP6", "LAB_SERVER_IP6"):
        assert env[key].startswith("fd53:6f63:")
    # The rendered demo config points at this lab's files.
    cfg = Path(env["LAB_CONFIG"]).read_text()
    assert f"mode: {plain_lab.mode}" in cfg
    assert env["LAB_EVE"] in cfg and not re.search(r"@[A-Z_]+@", cfg), cfg
    # The fw ns: addresses only in router mode; bridge with br_netfilter in bridge mode.
    fw_addrs = run(["ip", "-n", env["LAB_FW_NS"], "-br", "addr"], timeout=10, check=True).stdout
    if plain_lab.mode == "router":
        assert "198.18.1.1/24" in fw_addrs and "198.18.2.1/24" in fw_addrs
        fwd = plain_lab.ns(env["LAB_FW_NS"], ["sysctl", "-n", "net.ipv4.ip_forward",
                                              "net.ipv6.conf.all.forwarding"], timeout=10).stdout.split()
        assert fwd == ["1", "1"]
    else:
        assert "198.18." not in fw_addrs and "fd53:" not in fw_addrs
        links = run(["ip", "-n", env["LAB_FW_NS"], "-d", "link", "show", "master", "br0"],
                    timeout=10, check=True).stdout
        assert env["LAB_FW_IN_IF"] in links and env["LAB_FW_OUT_IF"] in links
        bnf = plain_lab.ns(env["LAB_FW_NS"], ["sysctl", "-n", "net.bridge.bridge-nf-call-iptables",
                                              "net.bridge.bridge-nf-call-ip6tables"], timeout=10).stdout.split()
        assert bnf == ["1", "1"]
    # Nothing of ours in the root namespace.
    root_links = run(["ip", "-br", "link"], timeout=10, check=True).stdout
    assert env["LAB_FW_IN_IF"] not in root_links and env["LAB_CLIENT_IF"] not in root_links


def test_ping_and_all_ports_open_without_firewall(plain_lab, family):
    """Positive control for the socfwd tests: with nothing inspecting, every
    port that the demo rules drop or reject answers through the lab."""
    assert plain_lab.ping(family).returncode == 0
    for port in TCP_PORTS:
        r = plain_lab.probe("tcp", family, port, timeout=2)
        assert r["result"] == "ok", f"tcp {port}: {r}"
    for port in UDP_PORTS:
        r = plain_lab.probe("udp", family, port, timeout=2)
        assert r["result"] == "ok", f"udp {port}: {r}"
    c = plain_lab.curl(family, 80)
    assert "http_code=200" in c.stdout, c.stdout + c.stderr
    # A closed port is refused at once: the probe reports errors, not timeouts.
    r = plain_lab.probe("tcp", family, 9999, timeout=2)
    assert r["result"] == "refused" and r["elapsed"] < 1, r
    r = plain_lab.probe("udp", family, 9999, timeout=2)
    assert r["result"] == "refused" and r["elapsed"] < 1, r


def test_status_and_up_is_idempotent(plain_lab):
    st = plain_lab.status()
    assert st.returncode == 0, st.stdout + st.stderr
    assert f"lab {plain_lab.name}: up" in st.stdout
    assert "socfwd: not running" in st.stdout
    assert "nfnetlink_queue" in st.stdout
    t0 = time.monotonic()
    plain_lab.up(socfwd=False)          # second up: no rebuild, still working
    assert time.monotonic() - t0 < 15
    assert plain_lab.ping(4).returncode == 0


@pytest.fixture(scope="module")
def nfq_accept(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler (package gcc)")
    out = tmp_path_factory.mktemp("baseline") / "nfq_accept"
    p = run([cc, "-O2", "-Wall", "-o", out, BASELINE_SRC, "-lnetfilter_queue", "-lmnl", "-lpthread"],
            timeout=120)
    if p.returncode != 0:
        pytest.skip(f"cannot build the C baseline (libnetfilter-queue-dev, libmnl-dev): {p.stderr[-500:]}")
    return out


def queue_ids(lab):
    """Packets handed to userspace so far (sum of id_seq) in the fw namespace."""
    p = lab.ns(lab.fw_ns, ["cat", "/proc/net/netfilter/nfnetlink_queue"], timeout=10)
    return sum(int(line.split()[7]) for line in p.stdout.splitlines() if line.strip())


def xt(lab, op, bypass=True, check=True):
    rule = ["FORWARD", "-j", "NFQUEUE", "--queue-balance", "0:1"] + (["--queue-bypass"] if bypass else [])
    for tool in ("iptables-nft", "ip6tables-nft"):
        lab.ns(lab.fw_ns, [tool, op, *rule], timeout=20, check=check)


def test_c_baseline_through_xtables_nfqueue(plain_lab, nfq_accept):
    """Kernel facts: the xtables NFQUEUE target diverts forwarded (router) and
    bridged (br_netfilter) IPv4+IPv6 traffic; with --queue-bypass traffic
    flows when no program is bound; without it, traffic stops."""
    lab = plain_lab
    proc = subprocess.Popen(["ip", "netns", "exec", lab.fw_ns, nfq_accept, "-q", "0", "-n", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    diverted = None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("ready"), f"nfq_accept did not start: {line!r}"
        xt(lab, "-A", bypass=True)
        diverted = True
        ids0 = queue_ids(lab)
        for fam in (4, 6):
            assert lab.ping(fam).returncode == 0
            r = lab.probe("tcp", fam, 80, http=True)
            assert r["result"] == "ok", r
            r = lab.probe("udp", fam, 5300)
            assert r["result"] == "ok", r
        assert queue_ids(lab) - ids0 >= 10, "traffic did not go through the queues"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "stopped" in out, out
        # Nobody bound + bypass: traffic still flows.
        ids1 = queue_ids(lab)
        r = lab.probe("tcp", 4, 9001)
        assert r["result"] == "ok", r
        assert queue_ids(lab) == ids1
        # Nobody bound, no bypass: fail-closed.
        xt(lab, "-D", bypass=True)
        xt(lab, "-A", bypass=False)
        diverted = False
        r = lab.probe("tcp", 4, 80, timeout=1.5)
        assert r["result"] == "timeout", r
        r = lab.probe("udp", 6, 5300, timeout=1.0)
        assert r["result"] == "timeout", r
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        if diverted is not None:
            xt(lab, "-D", bypass=diverted, check=False)
        for fam in ("ip", "ip6"):
            lab.ns(lab.fw_ns, ["nft", "delete", "table", fam, "filter"], timeout=10)
    assert lab.probe("tcp", 4, 80)["result"] == "ok"


def test_down_is_idempotent_and_cleans_a_partial_lab():
    name = f"t{os.getpid()}x"
    lab = Lab(name, "router")
    try:
        # A crash half-way through `up`: one namespace and a state dir, nothing else.
        run(["ip", "netns", "add", f"{name}-fw"], timeout=10, check=True)
        (STATE_ROOT / name).mkdir(parents=True, exist_ok=True)
        (STATE_ROOT / name / "socfwd.pid").write_text("999999999\n")
        st = lab.status()
        assert st.returncode != 0 and "partial" in st.stdout, st.stdout
        lab.lab("down", timeout=60)
        lab.lab("down", timeout=60)     # already down: no error
        assert not Path(f"/run/netns/{name}-fw").exists()
        assert not (STATE_ROOT / name).exists()
        # up -> down -> down
        lab.up(socfwd=False)
        assert lab.ping(6).returncode == 0
        lab.lab("down", timeout=60)
        lab.lab("down", timeout=60)
        left = run(["ip", "netns", "list"], timeout=10, check=True).stdout
        assert name not in left, left
    finally:
        lab.down()


def test_lab_cli_errors():
    p = run([LAB, "up", "--mode", "hub", "--name", f"t{os.getpid()}y"], timeout=20)
    assert p.returncode != 0 and "mode" in p.stderr
    p = run([LAB, "up", "--name", "bad name!"], timeout=20)
    assert p.returncode != 0 and "name" in p.stderr
    p = run([LAB, "frobnicate"], timeout=20)
    assert p.returncode == 2 and "usage" in p.stderr
    # socfwd start against a lab that is not up
    p = run([LAB, "socfwd", "start", "--name", f"t{os.getpid()}z"], timeout=20)
    assert p.returncode != 0 and "not up" in p.stderr
    assert not Path(f"/run/netns/t{os.getpid()}y-fw").exists()
