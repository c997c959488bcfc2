#!/usr/bin/env python3
"""Hostile HTTP client for http_test: a second process that abuses the operations endpoint.

  http_abuse.py --port P --mode MODE --count N --seconds S [--tls]

Modes (each bounded by --count and --seconds):
  slow     N connections each sending a request head one byte a second, never finishing it
  idle     N connections that connect and send nothing
  flood    N requests (not to the probe paths), each on its own connection, from 8 threads,
           answers not read
  body     a request claiming a body of N bytes, streamed as fast as the server takes it
  headers  a request with up to N small headers, sent as fast as the server takes them
           (body and headers: on a new connection again whenever the server closes one)

It prints one line, `MODE opened=A closed_by_server=B sent_bytes=C`, and exits 0; the test decides
what is acceptable. A connection the server closes (reset or end of stream) counts in
closed_by_server; the client never closes one before --seconds have passed.
"""
import argparse
import select
import socket
import ssl
import sys
import threading
import time


def connect(args):
    s = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    return s


def server_closed(s):
    """True when the server has closed or reset the connection (without blocking)."""
    try:
        readable, _, _ = select.select([s], [], [], 0)
        if not readable:
            return False
        s.setblocking(False)
        try:
            data = s.recv(65536)
        finally:
            s.setblocking(True)
        return data == b""  # an answer (e.g. 408, 413) is followed by the close; count the close
    except (ConnectionError, OSError, ssl.SSLError):
        return True


def send(s, data):
    try:
        s.sendall(data)
        return True
    except (ConnectionError, OSError, ssl.SSLError, socket.timeout):
        return False


def slow(args, stats):
    socks = []
    for _ in range(args.count):
        s = connect(args)
        socks.append(s)
        stats["opened"] += 1
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    alive = list(socks)
    deadline = time.monotonic() + args.seconds
    i = 0
    while time.monotonic() < deadline and alive:
        for s in list(alive):
            if server_closed(s) or not send(s, head[i:i + 1]):
                alive.remove(s)
                stats["closed_by_server"] += 1
            else:
                stats["sent_bytes"] += 1
        i = min(i + 1, len(head) - 1)
        time.sleep(1)
    finish(socks, alive, deadline, stats)


def idle(args, stats):
    socks = []
    for _ in range(args.count):
        try:
            socks.append(connect(args))
            stats["opened"] += 1
        except OSError:
            stats["closed_by_server"] += 1
    finish(socks, list(socks), time.monotonic() + args.seconds, stats)


def finish(socks, alive, deadline, stats):
    """Holds the connections until the deadline, counting those the server closes."""
    while time.monotonic() < deadline and alive:
        for s in list(alive):
            if server_closed(s):
                alive.remove(s)
                stats["closed_by_server"] += 1
        time.sleep(0.2)
    for s in socks:
        s.close()


def flood(args, stats):
    # Not the probe paths: a flood of /livez itself is indistinguishable from the kubelet's probes
    # on one address; the probe lane answers it 503 at once rather than hang (operations.md).
    paths = [b"/metrics", b"/v1/persons/P1/status", b"/nothing", b"/metrics?x=1"]
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    per_thread = args.count // 8

    def run(t):
        kept = []
        for n in range(per_thread):
            if time.monotonic() >= deadline:
                break
            try:
                s = connect(args)
            except OSError:
                with lock:
                    stats["closed_by_server"] += 1
                continue
            req = b"GET " + paths[(t + n) % len(paths)] + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            ok = send(s, req)
            with lock:
                stats["opened"] += 1
                stats["sent_bytes"] += len(req) if ok else 0
            kept.append(s)  # answers are not read; the socket stays open a while
            if len(kept) > 16:
                kept.pop(0).close()
        for s in kept:
            s.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def stream(args, stats, head, chunk, total):
    """Sends `head`, then `chunk` repeatedly up to `total` bytes or until the server closes; on a
    new connection again each time the server closes one, until --seconds have passed."""
    deadline = time.monotonic() + args.seconds
    # The last connection starts a second before the end, so that the server has cut it by then;
    # a pause between connections keeps the abuser from taking the machine's CPU.
    while time.monotonic() < deadline - 1:
        time.sleep(0.05)
        s = connect(args)
        stats["opened"] += 1
        s.settimeout(2)
        sent = 0
        closed = not send(s, head)
        while not closed and sent < total and time.monotonic() < deadline:
            try:
                s.sendall(chunk)
                sent += len(chunk)
            except socket.timeout:
                continue  # the server is not reading: keep the connection, try again
            except (ConnectionError, OSError, ssl.SSLError):
                closed = True
        stats["sent_bytes"] += sent
        if closed:
            stats["closed_by_server"] += 1
            s.close()
        else:
            finish([s], [s], deadline, stats)


def body(args, stats):
    head = (b"POST /v1/persons/P1/status HTTP/1.1\r\nHost: x\r\nContent-Length: " +
            str(args.count).encode() + b"\r\n\r\n")
    stream(args, stats, head, b"x" * (1 << 20), args.count)


def headers(args, stats):
    line = b"a: b\r\n"
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\n"
    stream(args, stats, head, line * 10000, len(line) * args.count)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["slow", "idle", "flood", "body", "headers"], required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--tls", action="store_true")
    args = p.parse_args()
    stats = {"opened": 0, "closed_by_server": 0, "sent_bytes": 0}
    globals()[args.mode](args, stats)
    print(f"{args.mode} opened={stats['opened']} closed_by_server={stats['closed_by_server']} "
          f"sent_bytes={stats['sent_bytes']}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
