#!/usr/bin/env python3
"""A connection storm against one server: opens COUNT connections to URL (with a TLS handshake
each for https), sends one GET on each once all are open, reads every answer, closes them all,
then waits until the server's CPU time stops moving (it has dealt with the closes).

Prints "<server CPU microseconds per connection> <seconds from the first connect to the last
answer>". The CPU time is the user and system time of the PIDs given, read from /proc: what
accepting, setting up, answering once and tearing down one connection costs the server.

Usage: connection_storm.py URL COUNT PID...
"""
import os
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def read_answer(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection_storm.py: the server closed a connection before answering")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = head.split(b" ", 2)[1]
    if not status.startswith(b"2"):
        raise SystemExit(f"connection_storm.py: answered {status.decode()}")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:] if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection_storm.py: an answer ended early")
        body += chunk


def main():
    url, count, pids = sys.argv[1], int(sys.argv[2]), [int(pid) for pid in sys.argv[3:]]
    parts = urlsplit(url)
    context = None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n\r\n".encode()
    before = cpu_seconds(pids)
    start = time.monotonic()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port))
        sockets.append(context.wrap_socket(sock, server_hostname=parts.hostname) if context else sock)
    for sock in sockets:
        sock.sendall(request)
    for sock in sockets:
        read_answer(sock)
    answered = time.monotonic() - start
    for sock in sockets:
        sock.close()
    # The server is otherwise idle: its CPU time stops moving once the closes are dealt with.
    deadline = time.monotonic() + 20
    last = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pids)
        if now == last:
            break
        last = now
    print(f"{(last - before) * 1e6 / count:.1f} {answered:.2f}")


if __name__ == "__main__":
    main()
