#!/usr/bin/env python3
"""Scripts/bench api: socfw-api under load, in a lab of its own.

Brings up a router lab with socfwd and socfw-api (Scripts/lab up --api; TLS
with the lab's certificate, the lab's admin token; rate limits raised for
the benchmark), fills socfwd with alerts from an ALERT rule on a UDP port,
and measures in the same run:

  * wrk (Debian) over TLS with the token: GET /api/v1/status and
    GET /api/v1/alerts?limit=100 (latency p50/p99, requests per second);
  * baseline: GET /health on the same server (TLS, HTTP, no token, no
    socfwd): what socfw-api's routes add on top of the transport;
  * the alerts route two more ways, because socfwd keeps recent pages
    until the next alert or acknowledgement (Docs/api.md): while alerts
    keep arriving (every one invalidates the kept page), and with every
    request asking for a different page (random cursors over 2,000 alerts:
    each one rendered, from socfwd's ring of recent alerts);
  * alert-to-WebSocket latency: a WebSocket client subscribed to `alerts`
    while N alerting datagrams cross the firewall; for each alert, the
    time from its timestamp in socfwd (the packet's arrival) to its receipt
    by the client (same host clock), p50/p99.

Human lines first, then ONE JSON object as the last line.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "Benchmarks"))
from control_bench import Client, lab, lab_env, SENDER  # noqa: E402

PY = sys.executable

WS_COUNTER = r"""
import json, sys, time, websocket
url, ca, token, count, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
ws = websocket.create_connection(url, header=[f"Authorization: Bearer {token}"], sslopt={"ca_certs": ca}, timeout=2)
ws.send(json.dumps({"subscribe": ["alerts"]}))
json.loads(ws.recv())
print("subscribed", flush=True)
latencies = []
deadline = time.monotonic() + seconds
while len(latencies) < count and time.monotonic() < deadline:
    try:
        m = json.loads(ws.recv())
    except websocket.WebSocketTimeoutException:
        continue
    if m.get("topic") == "alerts":
        latencies.append((time.time_ns() - m["data"]["timestamp_ns"]) / 1e6)
ws.close()
print(json.dumps(latencies))
"""


def unit_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# A different page of 100 alerts on every request: a cursor drawn from [lo, hi].
PAGES_LUA = """
local lo, hi
function init(args)
  lo = tonumber(args[1]); hi = tonumber(args[2])
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end
function request()
  return wrk.format("GET", "/api/v1/alerts?limit=100&cursor=" .. math.random(lo, hi))
end
"""


def wrk(env, token, path, seconds, connections, script=None, script_args=()):
    args = ["ip", "netns", "exec", env["LAB_API_NS"], "wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s",
            "--latency", "--timeout", "5s"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if script:
        args += ["-s", script]
    args.append(env["LAB_API_URL"] + path)
    if script_args:
        args += ["--", *map(str, script_args)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    out = p.stdout
    lat = {m.group(1): unit_ms(m.group(2), m.group(3))
           for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    if non2xx or errors:
        raise SystemExit(f"wrk {path}: {non2xx.group(0) if non2xx else ''} {errors.group(0) if errors else ''}\n{out}")
    return {"p50_ms": lat["50"], "p99_ms": lat["99"], "rps": rps}


def main():
    ap = argparse.ArgumentParser(description="socfw-api benchmark")
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per route")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--few-connections", type=int, default=4, help="the second, lighter load")
    ap.add_argument("--alerts", type=int, default=1000, help="alerts for the WebSocket latency")
    ap.add_argument("--rate", type=float, default=200, help="alerting datagrams per second during the latency run")
    ap.add_argument("--name", default=f"bapi{os.getpid()}")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench api: needs root (network namespaces)")
    os.environ["LAB_API_RATE"] = "500000"  # the benchmark measures the routes, not the limiter
    try:
        lab("up", "--name", args.name, "--api", timeout=240)
        env = lab_env(args.name)
        token = open(env["LAB_API_TOKEN_FILE"]).read().strip()
        ctl = Client(env["LAB_SOCKET"])
        port = 9178
        ctl.call("rules.add", {"rule": {"name": "bench-alert-udp", "action": "ALERT", "priority": 1,
                                        "conditions": [{"field": "protocol", "operator": "eq", "value": "udp"},
                                                       {"field": "dst_port", "operator": "eq", "value": str(port)}]}})
        # 2,000 alerts: a full page for the list route, and 1,900 different ones.
        subprocess.run(["ip", "netns", "exec", env["LAB_CLIENT_NS"], PY, "-c", SENDER, env["LAB_SERVER_IP"], str(port),
                        "1000", "2"], check=True, capture_output=True, timeout=30)
        time.sleep(0.5)
        newest = ctl.call("alerts.list", {"limit": 100})["alerts"]
        assert len(newest) == 100 and newest[0]["id"] >= 1500, len(newest)
        top_id = newest[0]["id"]

        health = wrk(env, None, "/health", args.seconds, args.connections)
        print(f"baseline GET /health (TLS, no token, no socfwd): p50 {health['p50_ms']:.2f} ms, "
              f"p99 {health['p99_ms']:.2f} ms, {health['rps']:.0f} req/s")
        status = wrk(env, token, "/api/v1/status", args.seconds, args.connections)
        print(f"GET /api/v1/status: p50 {status['p50_ms']:.2f} ms, p99 {status['p99_ms']:.2f} ms, {status['rps']:.0f} req/s")
        alerts = wrk(env, token, "/api/v1/alerts?limit=100", args.seconds, args.connections)
        print(f"GET /api/v1/alerts?limit=100: p50 {alerts['p50_ms']:.2f} ms, p99 {alerts['p99_ms']:.2f} ms, "
              f"{alerts['rps']:.0f} req/s")
        # While alerts arrive (200/s through the firewall): each one makes
        # socfwd render the page again.
        sender = subprocess.Popen(["ip", "netns", "exec", env["LAB_CLIENT_NS"], PY, "-c", SENDER, env["LAB_SERVER_IP"],
                                   str(port), "200", str(args.seconds + 2)], stdout=subprocess.DEVNULL)
        try:
            live = wrk(env, token, "/api/v1/alerts?limit=100", args.seconds, args.connections)
        finally:
            sender.wait(timeout=args.seconds + 30)
        print(f"  while 200 alerts/s arrive: p50 {live['p50_ms']:.2f} ms, p99 {live['p99_ms']:.2f} ms, {live['rps']:.0f} req/s")
        # Every request a different page: queried and rendered each time.
        script = Path(f"/tmp/socfw-bench-pages-{os.getpid()}.lua")
        script.write_text(PAGES_LUA)
        try:
            pages = wrk(env, token, "/api/v1/alerts", args.seconds, args.connections, script=str(script),
                        script_args=(101, top_id))
            print(f"  a different page per request (cursor 101..{top_id}): p50 {pages['p50_ms']:.2f} ms, "
                  f"p99 {pages['p99_ms']:.2f} ms, {pages['rps']:.0f} req/s")
            pages_few = wrk(env, token, "/api/v1/alerts", args.seconds, args.few_connections, script=str(script),
                            script_args=(101, top_id))
            print(f"  with {args.few_connections} connections, a different page per request: p50 {pages_few['p50_ms']:.2f} ms, "
                  f"p99 {pages_few['p99_ms']:.2f} ms, {pages_few['rps']:.0f} req/s")
        finally:
            script.unlink()
        # The same routes with fewer clients: at 16 connections on 2 shared
        # cores every figure is mostly queueing behind the others' requests.
        few = {}
        for name, path in (("status", "/api/v1/status"), ("alerts", "/api/v1/alerts?limit=100")):
            few[name] = wrk(env, token, path, args.seconds, args.few_connections)
            print(f"  with {args.few_connections} connections, GET {path}: p50 {few[name]['p50_ms']:.2f} ms, "
                  f"p99 {few[name]['p99_ms']:.2f} ms, {few[name]['rps']:.0f} req/s")

        url = env["LAB_API_URL"].replace("https://", "wss://") + "/api/v1/stream"
        seconds = args.alerts / args.rate + 20
        ws = subprocess.Popen(["ip", "netns", "exec", env["LAB_API_NS"], PY, "-c", WS_COUNTER, url, env["LAB_API_CA"],
                               token, str(args.alerts), str(seconds)], stdout=subprocess.PIPE, text=True)
        assert ws.stdout.readline().strip() == "subscribed"
        subprocess.run(["ip", "netns", "exec", env["LAB_CLIENT_NS"], PY, "-c", SENDER, env["LAB_SERVER_IP"], str(port),
                        str(args.rate), str(args.alerts / args.rate)], check=True, capture_output=True,
                       timeout=seconds + 30)
        latencies = sorted(json.loads(ws.communicate(timeout=seconds + 30)[0].strip().splitlines()[-1]))
        ctl.call("rules.delete", {"name": "bench-alert-udp"})
        if len(latencies) < args.alerts * 0.95:
            raise SystemExit(f"only {len(latencies)} of {args.alerts} alerts reached the WebSocket client")
        ws_p50 = latencies[len(latencies) // 2]
        ws_p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(f"alert to WebSocket client ({len(latencies)} alerts at {args.rate:.0f}/s): p50 {ws_p50:.2f} ms, "
              f"p99 {ws_p99:.2f} ms")
        print(json.dumps({
            "status_p99_ms": round(status["p99_ms"], 3), "status_p50_ms": round(status["p50_ms"], 3),
            "status_rps": round(status["rps"]), "alerts_p99_ms": round(alerts["p99_ms"], 3),
            "alerts_p50_ms": round(alerts["p50_ms"], 3), "alerts_rps": round(alerts["rps"]),
            "alerts_live_p99_ms": round(live["p99_ms"], 3), "alerts_live_rps": round(live["rps"]),
            "alerts_pages_p99_ms": round(pages["p99_ms"], 3), "alerts_pages_rps": round(pages["rps"]),
            "alert_ws_latency_p99_ms": round(ws_p99, 3), "alert_ws_latency_p50_ms": round(ws_p50, 3),
            "baseline_health_p99_ms": round(health["p99_ms"], 3), "baseline_health_rps": round(health["rps"]),
            "few_connections": args.few_connections,
            "status_p99_ms_few": round(few["status"]["p99_ms"], 3), "status_rps_few": round(few["status"]["rps"]),
            "alerts_p99_ms_few": round(few["alerts"]["p99_ms"], 3), "alerts_rps_few": round(few["alerts"]["rps"]),
            "alerts_pages_p99_ms_few": round(pages_few["p99_ms"], 3), "alerts_pages_rps_few": round(pages_few["rps"]),
            "target_api_p99_ms": 5, "target_alert_ws_p99_ms": 10, "connections": args.connections,
            "alerts": len(latencies)}))
    finally:
        lab("down", "--name", args.name, check=False, timeout=120)


if __name__ == "__main__":
    main()
