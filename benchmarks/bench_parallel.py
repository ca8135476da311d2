"""Parallel computing benchmarks: speed-up with two subkernels, per-element overhead, launching.

Rows (one master kernel process, driven over its main link with ``EvaluatePacket``; everything
measured in one run, medians):

* CPU-bound ``ParallelTable``: ``ParallelTable[work[i], {i, n}]`` with two local subkernels vs
  ``Table[work[i], {i, n}]`` in the master, where ``work`` is a loop of integer arithmetic in
  the Mathics3 evaluator. Goal: at least 1.7x faster on a 2-core machine (the ratio, parallel
  time / master time as in every row, at most 0.588).
* ``ParallelMap`` per element: ``ParallelMap[# + 1 &, Range[n], Method -> "CoarsestGrained"]``,
  total time divided by ``n`` (so the element's own evaluation is included: an upper bound on the
  overhead). Goal: under 2 ms per element. The peer is ``Map`` in the master.
* machine capacity (informational): two pure-Python CPU-bound processes side by side vs one,
  measured next to the rows above. On a shared machine this, not the parallel machinery, bounds
  the speed-up: when other work holds the cores, two processes do not get two cores.
* ``LaunchKernels``: two subkernels from a warm wstpserver pool (``ParallelKernels``) vs two
  local subkernels started cold. Goal for the warm pool: under 250 ms.

``python -m benchmarks.bench_parallel [--quick]`` prints the table; ``run(quick)`` returns the
rows for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.server.helpers import Client, ServerProcess
from wstp_jupyter.engine import KernelProcess, launch
from wstp_jupyter.wxf import Expr, Symbol

Row = dict[str, Any]
WORK = "work[i_] := Module[{s = 0}, Do[s += Mod[k^2 + i, 7], {k, %d}]; s]"
POOL = {"Pools": {"Sub": {"Default": True, "ParallelKernels": True, "MinimumKernelNumber": 2,
                          "MaximumKernelNumber": 4}}}


def _evaluate(kernel: KernelProcess, code: str, timeout: float = 600.0) -> Any:
    kernel.link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("ToExpression"), code)))
    while True:
        packet = kernel.link.get(timeout=timeout)
        if isinstance(packet, Expr) and packet.head == Symbol("ReturnPacket"):
            return packet.args[0] if packet.args else None


def _timed(kernel: KernelProcess, code: str) -> tuple[float, Any]:
    start = time.perf_counter()
    value = _evaluate(kernel, code)
    return time.perf_counter() - start, value


def _median(kernel: KernelProcess, code: str, reps: int) -> tuple[float, Any]:
    times: list[float] = []
    value: Any = None
    for _ in range(reps):
        t, value = _timed(kernel, code)
        times.append(t)
    return statistics.median(times), value


def _row(name: str, unit: str, ours: float, peer: float, *, peer_name: str, goal: str,
         ratio: float, passed: bool) -> Row:
    verdict = "pass" if passed else "fail"
    return {"group": "parallel", "name": name, "unit": unit, "ours": ours, "peer": peer,
            "peer_name": peer_name, "ratio": ratio, "goal": goal, "verdict": verdict}


_SPIN = "import time\nt = time.perf_counter()\nfor i in range(6_000_000): pass\n" \
    "print(time.perf_counter() - t)"


def _spin(count: int) -> float:
    """Wall time of ``count`` pure-Python CPU-bound processes run side by side (the slowest)."""
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN], stdout=subprocess.PIPE, text=True)
             for _ in range(count)]
    return max(float(p.communicate()[0]) for p in procs)


def _capacity_row(reps: int) -> Row:
    """What this machine gives two processes at the moment: the ceiling of any speed-up."""
    ones: list[float] = []
    twos: list[float] = []
    for _ in range(reps):
        ones.append(_spin(1))
        twos.append(_spin(2))
    one, two = statistics.median(ones), statistics.median(twos)
    # Two processes doing one's work each: the speed-up they got over running one after the other.
    row = _row("machine: 2 pure-Python processes side by side vs 1", "s", two, one,
               peer_name="1 process", goal="informational", ratio=two / one,
               passed=True)
    row["verdict"] = f"info ({2 * one / two:.2f}x available)"
    return row


def _compute_rows(master: KernelProcess, quick: bool) -> list[Row]:
    n, steps, reps = (8, 200, 2) if quick else (16, 400, 3)
    _evaluate(master, WORK % steps)
    launched = _evaluate(master, "Length[LaunchKernels[2]]")
    if launched != 2:
        raise RuntimeError(f"could not launch two local subkernels: {launched}")
    table = f"Table[work[i], {{i, {n}}}]"
    parallel = f'ParallelTable[work[i], {{i, {n}}}, Method -> "CoarsestGrained"]'
    _evaluate(master, parallel)  # definitions distributed, subkernels warmed up
    # Alternated, so that both see the same load on a shared machine.
    seqs: list[float] = []
    pars: list[float] = []
    for _ in range(reps):
        t, expected = _timed(master, table)
        seqs.append(t)
        t, got = _timed(master, parallel)
        pars.append(t)
    seq, par = statistics.median(seqs), statistics.median(pars)
    if got != expected:
        raise RuntimeError(f"ParallelTable gave {got!r}, Table {expected!r}")
    rows = [_capacity_row(reps)]
    rows += [_row(f"CPU-bound ParallelTable ({n} elements, 2 subkernels)", "s", par, seq,
                 peer_name="Table in the master", goal="1.7x faster (ratio <= 0.588)",
                 ratio=par / seq,
                 passed=seq / par >= 1.7)]
    m = 2000 if quick else 5000
    pmap = f'ParallelMap[# + 1 &, Range[{m}], Method -> "CoarsestGrained"]; Null'
    _evaluate(master, pmap)
    par_map, _ = _median(master, pmap, reps)
    seq_map, _ = _median(master, f"Map[# + 1 &, Range[{m}]]; Null", reps)
    per, peer = par_map / m * 1e3, seq_map / m * 1e3
    rows.append(_row(f"ParallelMap per element ({m}, CoarsestGrained)", "ms", per, peer,
                     peer_name="Map in the master", goal="< 2 ms", ratio=per / peer,
                     passed=per < 2.0))
    _evaluate(master, "CloseKernels[]")
    return rows


def _wait_warm(address: str, pool: str, count: int, timeout: float = 600.0) -> None:
    """Until ``pool`` has ``count`` idle kernels (the pool re-warms after CloseKernels)."""
    deadline = time.monotonic() + timeout
    while True:
        client = Client(address)
        try:
            kernels = client.command("GetServerInformation")["Kernels"]
        finally:
            client.close()
        idle = [k for k in kernels.values() if k["Pool"] == pool and k["State"] == "Idle"]
        if len(idle) >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"pool {pool} did not get {count} idle kernels")
        time.sleep(0.2)


def _launch_rows(master: KernelProcess, quick: bool) -> list[Row]:
    reps = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        server = ServerProcess(POOL, Path(tmp))
        try:
            url = f"wstp://127.0.0.1:{server.port}"
            warm: list[float] = []
            for _ in range(reps):
                _wait_warm(server.address, "Sub", 2)
                t, count = _timed(master, f'Length[LaunchKernels["{url}", 2]]')
                if count != 2:
                    raise RuntimeError(f"the pool gave {count} subkernels")
                warm.append(t)
                _evaluate(master, "CloseKernels[]")
        finally:
            server.stop()
    cold: list[float] = []
    for _ in range(reps):
        t, count = _timed(master, "Length[LaunchKernels[2]]")
        if count != 2:
            raise RuntimeError(f"{count} local subkernels started")
        cold.append(t)
        _evaluate(master, "CloseKernels[]")
    w, c = statistics.median(warm), statistics.median(cold)
    return [_row("LaunchKernels: 2 from a warm wstpserver pool", "s", w, c,
                 peer_name="2 local, cold", goal="< 0.25 s", ratio=w / c, passed=w < 0.25)]


def run(quick: bool = False) -> list[Row]:
    master = launch()
    try:
        _evaluate(master, "1")
        return _compute_rows(master, quick) + _launch_rows(master, quick)
    finally:
        master.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from benchmarks.__main__ import render_table

    print(render_table(run(args.quick), markdown=False))


if __name__ == "__main__":
    main()
