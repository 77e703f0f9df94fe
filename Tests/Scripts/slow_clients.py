#!/usr/bin/env python3
"""Slow readers against an HTTP origin, and the latency other clients see meanwhile.

Usage: slow_clients.py <host> <port> <slow path> <probe path> <slow clients> <pid> <seconds>

1. Unloaded: 300 GETs of <probe path>, one connection each, one after another; their latency.
2. Loaded: <slow clients> connections each GET <slow path> and read it at about 10 kB/s (1 kB
   every 0.1 s, with a 4 KiB receive buffer so the server's writes block as they would at a
   slow client); once all are reading, the same 300 probes, then the slow clients hold on for
   <seconds> more while the resident memory of process <pid> is sampled.
Prints one JSON object: unloaded and loaded p50/p99 in milliseconds, the number of slow
clients answered 200, bytes they read (headers included), and the process's resident memory
(KiB) before, peak while loaded, and after the slow clients closed.
"""
import asyncio
import json
import resource
import socket
import sys
import time


def rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def probe(host, port, path):
    start = time.monotonic()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    await reader.read()
    writer.close()
    return time.monotonic() - start


async def probes(host, port, path, count=300):
    return [await probe(host, port, path) for _ in range(count)]


async def slow(host, port, path, started, stop, stats):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2048)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        first = await reader.read(1024)
        if first.startswith(b"HTTP/1.1 200 "):
            stats["answered"] += 1
        stats["bytes"] += len(first)
        started.release()
        while not stop.is_set():
            data = await reader.read(1024)
            if not data:
                break
            stats["bytes"] += len(data)
            await asyncio.sleep(0.1)
        writer.close()
    except OSError as error:
        stats["errors"] += 1
        stats["last_error"] = str(error)
        started.release()


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port, slow_path, probe_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    clients, pid, hold = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    await probes(host, port, probe_path, 30)  # warm-up
    unloaded = await probes(host, port, probe_path)
    before = rss(pid)
    started, stop = asyncio.Semaphore(0), asyncio.Event()
    stats = {"answered": 0, "bytes": 0, "errors": 0, "last_error": None}
    tasks = []
    for _ in range(clients):
        tasks.append(asyncio.create_task(slow(host, port, slow_path, started, stop, stats)))
        await asyncio.sleep(0.001)
    for _ in range(clients):
        await started.acquire()
    peak = rss(pid)
    loaded = await probes(host, port, probe_path)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        peak = max(peak, rss(pid))
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks)
    await asyncio.sleep(1)
    print(json.dumps({
        "unloaded_p50_ms": percentile(unloaded, 0.5), "unloaded_p99_ms": percentile(unloaded, 0.99),
        "loaded_p50_ms": percentile(loaded, 0.5), "loaded_p99_ms": percentile(loaded, 0.99),
        "answered": stats["answered"], "errors": stats["errors"], "last_error": stats["last_error"],
        "slow_bytes": stats["bytes"], "rss_before_kib": before, "rss_peak_kib": peak, "rss_after_kib": rss(pid),
    }))


if __name__ == "__main__":
    asyncio.run(main())
