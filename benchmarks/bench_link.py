"""Link benchmark: our links against a raw Python socket, same machine, same run.

Rows:

* small round trip: ``EvaluatePacket[1 + 1]`` put, echoed back by a peer thread, got (median
  over many round trips) vs a raw socket ping-pong of the same number of bytes with a peer thread
  doing ``recv``/``sendall``. Goal: within 5x.
* bulk: one 80 MB packed float64 array put and got (the receiver ends up with the numpy array)
  vs the same bytes with ``sendall`` / ``recv_into`` a preallocated buffer. Goal: at least 50%
  of the raw throughput.

Both for TCPIP (loopback) and Local (Unix socket). Run ``python benchmarks/bench_link.py
[--quick]``; ``run(quick)`` returns the rows for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wstp_jupyter.link import EvaluatePacket, Protocol, channel
from wstp_jupyter.wxf import dumps, wl

Row = dict[str, Any]


def _raw_pair(protocol: Protocol) -> tuple[socket.socket, socket.socket, Callable[[], None]]:
    if protocol is Protocol.TCPIP:
        lsock = socket.create_server(("127.0.0.1", 0))
        a = socket.create_connection(lsock.getsockname())
        b, _ = lsock.accept()
        for s in (a, b):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lsock.close()
        return a, b, lambda: None
    d = tempfile.mkdtemp()
    path = os.path.join(d, "raw.sock")
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(path)
    lsock.listen()
    a = socket.socket(socket.AF_UNIX)
    a.connect(path)
    b, _ = lsock.accept()
    lsock.close()

    def cleanup() -> None:
        os.unlink(path)
        os.rmdir(d)

    return a, b, cleanup


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            raise EOFError
        got += k
    return bytes(buf)


def raw_round_trip(protocol: Protocol, size: int, rounds: int) -> list[float]:
    a, b, cleanup = _raw_pair(protocol)
    msg = b"x" * size

    def echo() -> None:
        for _ in range(rounds):
            b.sendall(_recv_exact(b, size))

    t = threading.Thread(target=echo)
    t.start()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        a.sendall(msg)
        _recv_exact(a, size)
        times.append(time.perf_counter() - t0)
    t.join()
    a.close()
    b.close()
    cleanup()
    return times


def link_round_trip(protocol: Protocol, rounds: int) -> list[float]:
    a, b = channel(protocol)
    packet = EvaluatePacket(wl.Plus(1, 1))

    def echo() -> None:
        for _ in range(rounds):
            b.put(b.get())

    t = threading.Thread(target=echo)
    t.start()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        a.put_packet(packet)
        a.get_packet()
        times.append(time.perf_counter() - t0)
    t.join()
    a.close()
    b.close()
    return times


def raw_bulk(protocol: Protocol, arr: np.ndarray, reps: int) -> list[float]:
    a, b, cleanup = _raw_pair(protocol)
    data = memoryview(arr).cast("B")
    n = len(data)
    times = []
    for _ in range(reps):
        t = threading.Thread(target=a.sendall, args=(data,))
        t0 = time.perf_counter()
        t.start()
        buf = np.empty(n, dtype=np.uint8)
        view = memoryview(buf)  # type: ignore[arg-type]
        got = 0
        while got < n:
            got += b.recv_into(view[got:])
        out = buf.view(np.float64)
        times.append(time.perf_counter() - t0)
        t.join()
        assert out.shape == arr.shape
    a.close()
    b.close()
    cleanup()
    return times


def link_bulk(protocol: Protocol, arr: np.ndarray, reps: int) -> list[float]:
    a, b = channel(protocol)
    times = []
    for _ in range(reps):
        t = threading.Thread(target=b.put, args=(arr,))
        t0 = time.perf_counter()
        t.start()
        out = a.get()
        times.append(time.perf_counter() - t0)
        t.join()
        assert isinstance(out, np.ndarray) and out.shape == arr.shape
    a.close()
    b.close()
    return times


def run(quick: bool = False) -> list[Row]:
    """Measure and return the rows (see the module docstring)."""
    rounds = 500 if quick else 3000
    reps = 3 if quick else 7
    arr = np.random.default_rng(0).random(10_000_000)  # 80 MB of float64
    size = len(dumps(EvaluatePacket(wl.Plus(1, 1)).to_expr())) + 8
    rows: list[Row] = []
    for protocol in (Protocol.TCPIP, Protocol.Local):
        # Interleave ours and raw so drifts in machine load hit both alike.
        ours_rt, raw_rt = [], []
        for _ in range(2):
            raw_rt += raw_round_trip(protocol, size, rounds)
            ours_rt += link_round_trip(protocol, rounds)
        ours_us = statistics.median(ours_rt) * 1e6
        raw_us = statistics.median(raw_rt) * 1e6
        ratio = ours_us / raw_us
        rows.append(
            {
                "group": "link",
                "name": f"round trip EvaluatePacket[1+1] ({protocol.value})",
                "unit": "us",
                "ours": ours_us,
                "peer": raw_us,
                "peer_name": "raw socket ping-pong",
                "ratio": ratio,
                "goal": "<= 5x",
                "verdict": "pass" if ratio <= 5 else "fail",
            }
        )
        ours_b, raw_b = [], []
        for _ in range(2):
            raw_b += raw_bulk(protocol, arr, reps)
            ours_b += link_bulk(protocol, arr, reps)
        ours_gbs = arr.nbytes / statistics.median(ours_b) / 1e9
        raw_gbs = arr.nbytes / statistics.median(raw_b) / 1e9
        share = ours_gbs / raw_gbs
        rows.append(
            {
                "group": "link",
                "name": f"bulk 80 MB packed float64 ({protocol.value})",
                "unit": "GB/s",
                "ours": ours_gbs,
                "peer": raw_gbs,
                "peer_name": "raw socket",
                "ratio": share,
                "goal": ">= 0.5x",
                "verdict": "pass" if share >= 0.5 else "fail",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    from benchmarks.__main__ import render_table

    rows = run(quick=args.quick)
    print(render_table(rows, markdown=False))
    return 0 if all(r["verdict"] != "fail" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
