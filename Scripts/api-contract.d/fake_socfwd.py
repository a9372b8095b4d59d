#!/usr/bin/env python3
"""A stand-in socfwd for contract tests: serves the control protocol
(Docs/control-protocol.md) on a Unix socket with fixed answers, so
socfw-api can be exercised (schemathesis) without a kernel or root."""
import asyncio, hashlib, json, sys

TOKEN = "socfw_" + "A" * 42 + "_"   # admin; pass it to the HTTP client

RULE = {"name": "block-telnet", "id": 1000023, "action": "REJECT", "priority": 0, "enabled": True,
        "description": "no telnet", "conditions": [{"field": "dst_port", "operator": "eq", "value": "23"}],
        "file": "/etc/socfw/rules.d/50-example.yaml", "origin": "file", "managed": False,
        "hits": {"packets": 42, "bytes": 2520, "last_hit_ns": 0}}
RELOAD = {"loaded": 3, "enabled": 2, "parse_ms": 2.1, "compile_ms": 0.3, "generation": 5}
ALERT = {"id": 17, "timestamp_ns": 1764000000000000000, "acknowledged_by": None, "acknowledged_at_ns": None,
         "eve": {"event_type": "alert", "alert": {"signature_id": 1000023, "severity": 3, "category": "Filter rule"}}}
ROW = {"id": 3, "target": "192.0.2.9", "reason": "manual", "action": "drop", "source": "api",
       "timestamp_ns": 1764000000000000000, "expires_ns": 1764000360000000000, "active": True, "offence": 1}
TOKENS = [{"name": "admin", "scopes": ["admin"], "created_ns": 1, "revoked_ns": None,
           "sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}]
ANSWERS = {
    "status": {"version": "0.5.0", "pid": 1, "uptime_s": 5, "inspecting": True, "mode": "inline", "diversion": "nft-queue",
               "queues": {"first": 0, "count": 1, "fail_open": True, "bypass": False},
               "rules": {"loaded": 3, "enabled": 2, "path": "/etc/socfw/rules.d", "generation": 4, "default_action": "ALLOW"},
               "packets": 10, "verdicts": {"accept": 9, "drop": 1, "reject": 0}, "pps": 0.5, "flows_active": 1, "events_lost": 0},
    "stats": {"packets": 10, "bytes": 640, "accepted": 9, "dropped": 1, "rejected": 0, "malformed": 0, "events": 1, "events_lost": 0,
              "flows": {"active": 1, "new": 2, "closed": 1}, "queues": [{"queue": 0, "accepted": 9, "dropped": 1, "rejected": 0,
                                                                          "kernel_queue_dropped": 0, "kernel_user_dropped": 0, "malformed": 0}]},
    "rules.list": {"rules": [RULE]}, "rules.get": RULE,
    "rules.add": RELOAD, "rules.update": RELOAD, "rules.delete": RELOAD, "rules.enable": RELOAD, "rules.disable": RELOAD, "reload": RELOAD,
    "alerts.list": {"alerts": [ALERT], "kept": 1, "capacity": 10000, "next_cursor": None}, "alerts.ack": ALERT,
    "quarantine.list": {"quarantined": [ROW]}, "quarantine.add": ROW, "quarantine.remove": ROW, "quarantine.history": {"history": [ROW]},
    "conns.list": {"connections": []}, "signatures.list": {"total": 0, "signatures": []},
    "signatures.stats": {"active": 0, "matches": 0, "top": []},
    "config.check": {"ok": True, "rules": 3, "enabled": 2, "rules_path": "/etc/socfw/rules.d"},
    "tokens.create": {"name": "new", "scopes": ["read"], "token": "socfw_" + "n" * 43, "created_ns": 2},
    "tokens.revoke": {"name": "old", "revoked_ns": 3},
}

DELETED_RULES = set()   # a deleted rule is gone, as in socfwd (schemathesis' stateful phase checks it)


def answer(method, params):
    """The reply object for one request: {"result": ...} or {"error": ...}."""
    name = params.get("name")
    if method in ("rules.get", "rules.update", "rules.delete", "rules.enable", "rules.disable") and name in DELETED_RULES:
        return {"error": {"code": -32002, "message": f"no rule named '{name}'"}}
    if method == "rules.delete":
        DELETED_RULES.add(name)
    elif method == "rules.add" and isinstance(params.get("rule"), dict):
        DELETED_RULES.discard(params["rule"].get("name"))
    if method == "subscribe":
        return {"result": {"topics": params.get("topics", [])}}
    if method == "tokens.list":
        hashes = params.get("include_hashes")
        return {"result": {"tokens": [t if hashes else {k: v for k, v in t.items() if k != "sha256"} for t in TOKENS]}}
    if method in ANSWERS:
        return {"result": ANSWERS[method]}
    return {"error": {"code": -32601, "message": f"unknown method {method}"}}


async def serve(reader, writer):
    writer.write(json.dumps({"event": "hello", "data": {"protocol": 1, "server": "socfwd", "version": "fake",
                                                        "pid": 1, "read": True, "write": True}}).encode() + b"\n")
    while line := await reader.readline():
        request = json.loads(line)
        params = request.get("params") or {}
        reply = {"id": request["id"], **answer(request["method"], params)}
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()


async def main(path):
    server = await asyncio.start_unix_server(serve, path)
    async with server:
        await server.serve_forever()

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
