"""wstpserver benchmarks: warm pools against cold kernels, routing overhead, load.

Rows (one server process on loopback, its pool kept warm, everything measured in one run):

* connect -> first result: a new client link to the server until ``ReturnPacket[2]`` for
  ``1+1`` (warm pool) vs launching a kernel process cold (``wstp_jupyter.engine.launch``) until
  the same result. Goal: under 1 s.
* Jupyter start -> first result: ``start_kernel`` of a Jupyter kernel whose kernelspec attaches to
  the server (``--server``) until the first ``1+1`` result. Goal: under 1 s.
* routing overhead: an ``EvaluatePacket[Plus[1, 1]]`` round trip through the server vs on a
  direct link to a kernel process (median). Informational.
* load: 32 clients x 25 evaluations, 8 clients per kernel over a pool of 4 -- throughput, p50 and
  p99 latency, lost or misrouted replies (goal: 0) and the server's memory after vs before
  (goal: within 10%).
* keep-alive: disconnect in the middle of an evaluation, reconnect by kernel ID: the result
  arrives (goal: yes).

``python -m benchmarks.bench_server [--quick]`` prints the table; ``run(quick)`` returns the rows
for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.server.helpers import jupyter_first_result
from tests.server.loadgen import run_load
from wstp_jupyter.link import Link, Protocol
from wstp_jupyter.wxf import Expr, Symbol

Row = dict[str, Any]
CONFIG = {"Pools": {"Bench": {"MinimumKernelNumber": 4, "MaximumKernelNumber": 8,
                              "KeepAlive": True}}}


@contextmanager
def _server(tmp: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    conf = tmp / "wstpserver.conf"
    conf.write_text(json.dumps(CONFIG))
    proc = subprocess.Popen([sys.executable, "-m", "wstp_jupyter.server", "-p", "0", "-c",
                             str(conf), "--log-file", str(tmp / "server.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    log = tmp / "server.log"
    deadline = time.monotonic() + 300
    try:
        while True:
            m = re.search(r"Server ready on (\d+)@", log.read_text() if log.exists() else "")
            if m:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.05)
        yield f"{m.group(1)}@127.0.0.1", proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _get(link: Link, head: str, timeout: float = 60.0) -> Expr:
    while True:
        p = link.get(timeout=timeout)
        if isinstance(p, Expr) and p.head == Symbol(head):
            return p


def _call(link: Link, name: str, *args: object, **options: object) -> object:
    rules = [Expr(Symbol("Rule"), k, v) for k, v in options.items()]
    link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol(f"WSTPServer`{name}"), *args, *rules)))
    return _get(link, "ReturnPacket").args[0]


def _evaluate(link: Link, expr: object) -> object:
    link.put(Expr(Symbol("EvaluatePacket"), expr))
    return _get(link, "ReturnPacket").args[0]


def _warm_first_result(address: str) -> float:
    t = time.perf_counter()
    link = Link.connect(Protocol.TCPIP, address)
    result = _evaluate(link, Expr(Symbol("Plus"), 1, 1))
    elapsed = time.perf_counter() - t
    assert result == 2, result
    link.close()
    return elapsed


def _cold_first_result() -> float:
    from wstp_jupyter.engine import launch

    t = time.perf_counter()
    kernel = launch()
    try:
        _get(kernel.link, "InputNamePacket", 120)
        result = _evaluate(kernel.link, Expr(Symbol("Plus"), 1, 1))
        assert result == 2, result
        return time.perf_counter() - t
    finally:
        kernel.close()


def _round_trips(link: Link, n: int) -> float:
    expr = Expr(Symbol("Plus"), 1, 1)
    for _ in range(20):
        _evaluate(link, expr)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        _evaluate(link, expr)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _direct_round_trip(n: int) -> float:
    from wstp_jupyter.engine import launch

    kernel = launch()
    try:
        _get(kernel.link, "InputNamePacket", 120)
        return _round_trips(kernel.link, n)
    finally:
        kernel.close()


def _jupyter_first_result(argv: list[str], tmp: Path) -> float:
    """``start_kernel`` of a kernel with ``argv`` until its first ``1+1`` result."""
    elapsed, data = jupyter_first_result(argv, tmp)
    assert "2" in data["text/plain"]
    return elapsed


def _reconnect_after_disconnect(address: str) -> tuple[bool, float]:
    a = Link.connect(Protocol.TCPIP, address)
    _call(a, "SetKeepAlive", True)
    kid = _call(a, "ConnectPool")
    a.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("ToExpression"), "Pause[0.5]; 6*7")))
    time.sleep(0.1)
    a.close()
    t = time.perf_counter()
    b = Link.connect(Protocol.TCPIP, address)
    try:
        assert _call(b, "ConnectKernel", kid) == kid
        result = _get(b, "ReturnPacket", 30).args[0]
        _call(b, "CloseKernel")
        return result == 42, time.perf_counter() - t
    finally:
        b.close()


def _row(name: str, unit: str, ours: float | None, peer: float | None = None, *,
         peer_name: str = "", goal: str = "info", verdict: str = "info") -> Row:
    ratio = ours / peer if ours is not None and peer else None
    return {"group": "server", "name": name, "unit": unit, "ours": ours, "peer": peer,
            "peer_name": peer_name, "ratio": ratio, "goal": goal, "verdict": verdict}


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory() as d, _server(Path(d)) as (address, proc):
        tmp = Path(d)
        warm = statistics.median(_warm_first_result(address) for _ in range(repeats))
        cold = statistics.median(_cold_first_result() for _ in range(1 if quick else 3))
        rows.append(_row("connect -> first 1+1 (warm pool)", "s", warm, cold,
                         peer_name="cold kernel launch", goal="< 1 s",
                         verdict="pass" if warm < 1.0 else "fail"))
        # The peer is ipykernel itself: the floor any Python Jupyter kernel starts from.
        ours_argv = [sys.executable, "-m", "wstp_jupyter.kernel", "-f", "{connection_file}",
                     "--server", address]
        python_argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        reps = 2 if quick else 5
        try:
            floor = statistics.median(_jupyter_first_result(python_argv, tmp)
                                      for _ in range(reps))
            jup = statistics.median(_jupyter_first_result(ours_argv, tmp) for _ in range(reps))
            rows.append(_row("Jupyter start_kernel -> first 1+1 (warm pool)", "s", jup, floor,
                             peer_name="ipykernel python3 start", goal="< 1 s",
                             verdict="pass" if jup < 1.0 else "fail"))
        except Exception as exc:
            rows.append(_row("Jupyter start_kernel -> first 1+1 (warm pool)", "s", None, None,
                             goal="< 1 s", verdict=f"fail ({type(exc).__name__}: {exc})"))
        n = 200 if quick else 1000
        link = Link.connect(Protocol.TCPIP, address)
        routed = _round_trips(link, n)
        link.close()
        direct = _direct_round_trip(n)
        rows.append(_row("EvaluatePacket[1+1] round trip (routed)", "ms", routed * 1e3,
                         direct * 1e3, peer_name="direct link"))
        run_load(address, clients=32, kernels=4, evaluations=3)  # warm-up
        time.sleep(2.5)  # the server returns closed links' memory ~1 s later
        before = _rss_kib(proc.pid)
        load = run_load(address, clients=32, kernels=4, evaluations=25)
        time.sleep(2.5)  # the server returns closed links' memory ~1 s later
        after = _rss_kib(proc.pid)
        bad = len(load.wrong) + len(load.errors) + (32 * 25 - load.replies)
        rows.append(_row("load 32 clients x 25 (4 kernels): throughput", "evals/s",
                         load.replies / load.elapsed))
        rows.append(_row("load: p50 latency", "ms", load.percentile(0.5) * 1e3))
        rows.append(_row("load: p99 latency", "ms", load.percentile(0.99) * 1e3))
        rows.append(_row("load: lost or misrouted replies", "count", float(bad), goal="0",
                         verdict="pass" if bad == 0 else "fail"))
        change = (after - before) / before * 100
        rows.append(_row("load: server memory after vs before", "%", change, goal="<= 10%",
                         verdict="pass" if change <= 10 else "fail"))
        ok, took = _reconnect_after_disconnect(address)
        rows.append(_row("disconnect mid-evaluation, reconnect by ID: result", "s", took,
                         goal="arrives", verdict="pass" if ok else "fail"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wstpserver benchmarks")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    from benchmarks.__main__ import render_table

    rows = run(args.quick)
    print(render_table(rows, markdown=False))
    return 1 if any(str(r["verdict"]).startswith("fail") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
