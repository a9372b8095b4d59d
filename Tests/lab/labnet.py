#!/usr/bin/env python3
"""Traffic helpers for the socfw lab, run inside a lab namespace with `ip netns exec`.

    labnet.py serve [--tcp 80,8080,...] [--udp 5300,...]
        Dual-stack (IPv4 + IPv6) listeners: TCP ports answer HTTP GET/HEAD/POST with
        200 and anything else with one line; UDP ports echo. Prints `ready` once
        every port is bound; runs until SIGTERM/SIGINT or --max-seconds.

    labnet.py probe tcp|udp HOST PORT [--timeout S] [--http]
        One connection attempt; prints one JSON object:
        {"result": "ok"|"timeout"|"refused"|"error", "errno": .., "errname": ..,
         "elapsed": seconds, "data": first bytes of the reply}
        UDP sockets are connected and have IP(V6)_RECVERR set, so an ICMP error
        (port/host unreachable, admin prohibited) surfaces as "refused"/"error"
        at once instead of a timeout.

Only stdlib; used by Tests/lab and handy by hand (see `Scripts/lab up`).
"""
import argparse
import errno
import json
import os
import signal
import socket
import sys
import threading
import time

DEFAULT_TCP = "23,80,8080,9001,9002"
DEFAULT_UDP = "5300,9003,9004"
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)


def ports(text):
    return [int(p) for p in text.split(",") if p.strip()]


def dual_stack(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return s


def handle_tcp(conn, port):
    try:
        conn.settimeout(3.0)
        data = b""
        try:
            while b"\n" not in data and len(data) < 8192:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        if data.startswith((b"GET ", b"HEAD ", b"POST ")):
            body = b"socfw-lab http %d\n" % port
            head = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n" % len(body))
            conn.sendall(head + (b"" if data.startswith(b"HEAD ") else body))
        else:
            conn.sendall(b"socfw-lab tcp %d\n" % port)
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(sock, port):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handle_tcp, args=(conn, port), daemon=True).start()


def serve_udp(sock):
    while True:
        try:
            data, peer = sock.recvfrom(65535)
            sock.sendto(data, peer)
        except OSError:
            time.sleep(0.01)


def cmd_serve(args):
    socks = []
    for port in ports(args.tcp):
        s = dual_stack(socket.SOCK_STREAM)
        s.bind(("::", port))
        s.listen(128)
        socks.append(s)
        threading.Thread(target=serve_tcp, args=(s, port), daemon=True).start()
    for port in ports(args.udp):
        s = dual_stack(socket.SOCK_DGRAM)
        s.bind(("::", port))
        socks.append(s)
        threading.Thread(target=serve_udp, args=(s,), daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    print("ready tcp=%s udp=%s pid=%d" % (args.tcp, args.udp, os.getpid()), flush=True)
    stop.wait(args.max_seconds if args.max_seconds > 0 else None)
    return 0


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def errname(e):
    return errno.errorcode.get(e, str(e)) if e else None


def cmd_probe(args):
    fam = family_of(args.host)
    start = time.monotonic()
    out = {"proto": args.proto, "host": args.host, "port": args.port}
    try:
        if args.proto == "tcp":
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(args.timeout)
            s.connect((args.host, args.port))
            out["connected_after"] = round(time.monotonic() - start, 4)
            s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n" if args.http else b"hello socfw\n")
            data = b""
            try:
                while len(data) < 4096:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
            s.close()
            out.update(result="ok" if data else "ok-nodata", data=data[:200].decode("latin-1"))
        else:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET:
                s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
            else:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
            s.settimeout(args.timeout)
            s.connect((args.host, args.port))
            payload = b"socfw-lab udp probe %d" % os.getpid()
            s.send(payload)
            data = s.recv(65535)
            s.close()
            out.update(result="ok" if data == payload else "ok-mismatch", data=data[:200].decode("latin-1"))
    except socket.timeout:
        out.update(result="timeout")
    except ConnectionRefusedError as e:
        out.update(result="refused", errno=e.errno, errname=errname(e.errno))
    except OSError as e:
        out.update(result="error", errno=e.errno, errname=errname(e.errno), message=str(e))
    out["elapsed"] = round(time.monotonic() - start, 4)
    print(json.dumps(out), flush=True)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve")
    sp.add_argument("--tcp", default=DEFAULT_TCP)
    sp.add_argument("--udp", default=DEFAULT_UDP)
    sp.add_argument("--max-seconds", type=float, default=0, help="exit after this long (0: never)")
    pp = sub.add_parser("probe")
    pp.add_argument("proto", choices=["tcp", "udp"])
    pp.add_argument("host")
    pp.add_argument("port", type=int)
    pp.add_argument("--timeout", type=float, default=2.0)
    pp.add_argument("--http", action="store_true")
    args = ap.parse_args(argv)
    return cmd_serve(args) if args.cmd == "serve" else cmd_probe(args)


if __name__ == "__main__":
    sys.exit(main())
