"""Engine benchmarks: the same cells through the Jupyter kernel on each engine, side by side.

Kernels, all started through jupyter_client and measured in the same run:

* ``woxi``: our kernel with the Woxi engine (``WSTP_JUPYTER_ENGINE=woxi``);
* ``mathics3``: our kernel with the Mathics3 engine (the default);
* ``mathics3-jupyter-kernel``: the peer, Mathics3 in the Jupyter kernel's own process;
* the floor: ``woxi.interpret`` called directly in this process, plus one ``1+1`` round trip of
  the Woxi kernel per cell (what no layering can beat).

Each cell is run ``reps`` times per kernel (the median is kept; Mathics3 kernels once, they are
slow). Goals: the Woxi engine at least 100x faster than the Mathics3 engine (geometric mean over
the numeric cells), the Woxi kernel's total within 1.5x of the floor, and the stop button ending
a Woxi loop within 1 s. An extra row gives the same mean against ``woxi.interpret`` called
directly: the most any layering of Woxi could reach. ``--quick`` uses smaller sizes so the
Mathics3 kernels finish in a minute or two.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from benchmarks.bench_kernel import MATHICS, STARTUP_TIMEOUT, _interrupt, _spec_manager, _wait

Row = dict[str, Any]
OURS = "wolfram-wstp"
DEFINE_FIB = "fib[0] = 0; fib[1] = 1; fib[n_] := fib[n - 1] + fib[n - 2];"
NUMERIC = ("Table", "Total", "Sum", "fib", "Select", "Nest", "Sort")


def cells(quick: bool) -> list[tuple[str, str]]:
    """``(label, code)`` of the benchmark cells (the issue's sizes, or smaller ones)."""
    if quick:
        sizes = {"t": "10^3", "r": "10^5", "s": "2000", "f": "15", "p": "2000", "n": "10^3",
                 "o": "10^4", "e": "6"}
    else:
        sizes = {"t": "10^4", "r": "10^6", "s": "20000", "f": "20", "p": "20000", "n": "10^4",
                 "o": "10^5", "e": "12"}
    return [
        ("Table", f"Table[i^2, {{i, {sizes['t']}}}]"),
        ("Total", f"Total[Range[{sizes['r']}]]"),
        ("Sum", f"Sum[1./i^2, {{i, {sizes['s']}}}]"),
        ("fib", f"fib[{sizes['f']}]"),
        ("Select", f"Select[Range[{sizes['p']}], PrimeQ] // Length"),
        ("Nest", f"Nest[Sin, 1.0, {sizes['n']}]"),
        ("Sort", f"Sort[RandomInteger[10^6, {sizes['o']}]]"),
        ("Expand", f"Expand[(x + y + z)^{sizes['e']}]"),
        ("Integrate", "Integrate[x^2 Sin[x], x]"),
    ]


@contextmanager
def _kernel(name: str, specs: KernelSpecManager, env: dict[str, str] | None = None,
            ) -> Iterator[BlockingKernelClient]:
    km = KernelManager(kernel_name=name, kernel_spec_manager=specs)
    km.start_kernel(env=env) if env is not None else km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        _wait(kc, kc.execute("1+1"), STARTUP_TIMEOUT)
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def _run(kc: BlockingKernelClient, code: str, timeout: float = 900.0) -> float:
    started = time.perf_counter()
    _wait(kc, kc.execute(code), timeout)
    return time.perf_counter() - started


def measure(quick: bool) -> dict[str, dict[str, float]]:
    """Times per kernel and cell (seconds).

    The three kernels run side by side and each cell goes through all of them before the next
    cell starts, so a change in the machine's load touches every kernel alike.
    """
    import woxi

    reps = 3
    kernels = {"woxi": reps, "mathics3": 1, "peer": 1}
    out: dict[str, dict[str, float]] = {name: {} for name in (*kernels, "direct")}
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp, ExitStack() as stack:
        specs = _spec_manager(Path(tmp))
        clients = {
            "woxi": stack.enter_context(
                _kernel(OURS, specs, {**os.environ, "WSTP_JUPYTER_ENGINE": "woxi"})),
            "mathics3": stack.enter_context(
                _kernel(OURS, specs, {**os.environ, "WSTP_JUPYTER_ENGINE": "mathics3"})),
            "peer": stack.enter_context(_kernel(MATHICS, specs)),
        }
        for kc in clients.values():
            _run(kc, DEFINE_FIB)
        woxi.interpret(DEFINE_FIB)
        for label, code in cells(quick):
            print(f"# engine: {code}", file=sys.stderr, flush=True)
            for name, kc in clients.items():
                out[name][label] = statistics.median(_run(kc, code) for _ in range(kernels[name]))
            out["direct"][label] = statistics.median(_direct(woxi, code) for _ in range(reps))
        out["woxi"]["1+1"] = statistics.median(_run(clients["woxi"], "1+1") for _ in range(20))
        # Stop: Woxi cannot be interrupted; the engine replaces the evaluating process.
        out["woxi"]["stop"] = _interrupt(clients["woxi"], "Do[i^2, {i, 10^10}]", reps)
    return out


def _direct(woxi: Any, code: str) -> float:
    started = time.perf_counter()
    woxi.interpret(code)
    return time.perf_counter() - started


def _row(name: str, ours: float | None, peer: float | None, peer_name: str, goal: str,  # noqa: PLR0917
         verdict: str = "info", unit: str = "s") -> Row:
    ratio = ours / peer if ours is not None and peer else None
    return {"group": "engine", "name": name, "unit": unit, "ours": ours, "peer": peer,
            "peer_name": peer_name, "ratio": ratio, "goal": goal, "verdict": verdict}


def rows_from(times: dict[str, dict[str, float]], quick: bool) -> list[Row]:
    """The table rows: per cell Woxi against each Mathics3 kernel, then the two goals."""
    woxi, mathics, peer, direct = times["woxi"], times["mathics3"], times["peer"], times["direct"]
    rows: list[Row] = []
    for label, code in cells(quick):
        rows.append(_row(f"{code} (woxi)", woxi[label], mathics[label], "mathics3 engine",
                         "info"))
        rows.append(_row(f"{code} (woxi)", woxi[label], peer[label], MATHICS, "info"))
    geo = _geomean([mathics[label] / woxi[label] for label in NUMERIC])
    rows.append({"group": "engine", "name": "numeric cells: mathics3 engine / woxi engine",
                 "unit": "x", "ours": geo, "peer": None, "peer_name": "geometric mean",
                 "ratio": None, "goal": ">= 100x", "verdict": "pass" if geo >= 100 else "fail"})
    # What no layering can beat: the same mean with Woxi called directly, no kernel at all.
    ceiling = _geomean([mathics[label] / direct[label] for label in NUMERIC])
    rows.append({"group": "engine", "name": "numeric cells: mathics3 engine / woxi.interpret",
                 "unit": "x", "ours": ceiling, "peer": None,
                 "peer_name": "geometric mean (the ceiling: Woxi's own speed)", "ratio": None,
                 "goal": "info", "verdict": "info"})
    labels = [label for label, _ in cells(quick)]
    total = sum(woxi[label] for label in labels)
    floor = sum(direct[label] for label in labels) + len(labels) * woxi["1+1"]
    ratio = total / floor
    rows.append(_row("all cells: woxi kernel total", total, floor,
                     "woxi.interpret + one 1+1 round trip per cell", "<= 1.5x",
                     "pass" if ratio <= 1.5 else "fail"))
    stop = woxi["stop"]
    rows.append(_row("stop button -> cell reply (woxi, process replaced)", stop, None, "",
                     "< 1 s", "pass" if stop < 1.0 else "fail"))
    return rows


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def run(quick: bool = False) -> list[Row]:
    """Measure and return the table rows (see ``benchmarks/__main__.py`` for the keys)."""
    return rows_from(measure(quick), quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args(argv)
    from benchmarks.__main__ import render_table

    print(render_table(run(quick=args.quick), markdown=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
