"""Jupyter kernel benchmarks: our kernel against mathics3-jupyter-kernel and ipykernel.

Everything is measured through jupyter_client, as a front end sees it:

* ``1+1`` round trip -- ``execute_request`` sent until the kernel reports idle for it, with the
  result received (median of many, after warm-up);
* start to first result -- ``start_kernel`` until the first ``1+1`` result arrives (cold start of
  the kernel process included);
* large results -- ``Range[10^5]`` and a 10^6-element packed array (``RandomReal[1, 10^6]``)
  until the result arrived.

Peers: the in-process Mathics3 kernel (``mathics3-jupyter-kernel``, whose kernelspec is written
into a temporary directory when it is not installed) and ipykernel's ``python3`` (a floor for
the protocol itself). ``python -m benchmarks.bench_kernel [--quick]`` prints the table; ``run``
returns the rows for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

OURS = "wolfram-wstp"
MATHICS = "mathics3-jupyter-kernel"
PYTHON = "python3"
STARTUP_TIMEOUT = 180.0
# A large result that takes longer than this is reported as timed out (the peer formats a
# 10^6-element list for minutes).
LARGE_TIMEOUT = 300.0
LARGE_TIMEOUT_QUICK = 60.0

Row = dict[str, Any]


def _spec_manager(tmp: Path) -> KernelSpecManager:
    """A spec manager that also knows the Mathics3 peer, written into ``tmp``.

    The spec is the one the peer's own installer writes (its ``__main__`` is broken in 0.9.0,
    so the module ``mathics3_jupyter_kernel.kernel`` is run directly, as that installer does).
    """
    folder = tmp / "kernels" / MATHICS
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "mathics3_jupyter_kernel.kernel", "-f", "{connection_file}"],
        "display_name": "Mathics3 (mathics3-jupyter-kernel)",
        "language": "wolfram",
    }
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    manager = KernelSpecManager()
    manager.kernel_dirs = [*manager.kernel_dirs, str(tmp / "kernels")]
    return manager


def _wait(kc: BlockingKernelClient, msg_id: str, timeout: float) -> dict[str, Any] | None:
    """Drain iopub until ``msg_id`` is idle; return its execute_result content, if any."""
    deadline = time.monotonic() + timeout
    result = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no idle status within {timeout} s")
        try:
            msg = kc.get_iopub_msg(timeout=left)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]
        elif msg["msg_type"] == "error":
            raise RuntimeError(f"{msg['content']['ename']}: {msg['content']['evalue']}")
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return result


def _timed(kc: BlockingKernelClient, code: str, timeout: float = 300.0) -> float:
    started = time.perf_counter()
    result = _wait(kc, kc.execute(code), timeout)
    elapsed = time.perf_counter() - started
    if result is None:
        raise RuntimeError(f"{code!r} gave no result")
    return elapsed


@contextmanager
def _kernel(name: str, specs: KernelSpecManager) -> Iterator[tuple[BlockingKernelClient, float]]:
    """Start kernel ``name``; yield a ready client and the time to the first ``1+1`` result."""
    km = KernelManager(kernel_name=name, kernel_spec_manager=specs)
    started = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        _wait(kc, kc.execute("1+1"), STARTUP_TIMEOUT)
        yield kc, time.perf_counter() - started
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def _round_trip(kc: BlockingKernelClient, n: int) -> float:
    for _ in range(5):  # warm-up: caches, first-use imports
        _timed(kc, "1+1")
    return statistics.median(_timed(kc, "1+1") for _ in range(n))


def _large(kc: BlockingKernelClient, code: str, reps: int, timeout: float) -> float | None:
    """Median time of a large result; ``None`` when it did not arrive within ``timeout``."""
    times = []
    for _ in range(reps):
        try:
            times.append(_timed(kc, code, timeout=timeout))
        except TimeoutError:
            return None
    return statistics.median(times)


def _measure(name: str, specs: KernelSpecManager, quick: bool, large: bool) -> dict[str, Any]:
    starts: list[float] = []
    numbers: dict[str, Any] = {}
    limit = LARGE_TIMEOUT_QUICK if quick else LARGE_TIMEOUT
    repeats = 1 if quick else 3
    for i in range(repeats):
        with _kernel(name, specs) as (kc, start):
            starts.append(start)
            if i == 0:
                numbers["round_trip"] = _round_trip(kc, 30 if quick else 200)
                if large:
                    reps = 1 if quick else 3
                    numbers["range"] = _large(kc, "Range[10^5]", reps, limit)
                    numbers["packed"] = _large(kc, "RandomReal[1, 10^6]", reps, limit)
    numbers["start"] = statistics.median(starts)
    return numbers


def _row(name: str, unit: str, ours: float | None, peer: float | None, peer_name: str,  # noqa: PLR0917
         goal: str, must: bool) -> Row:
    ratio = ours / peer if ours is not None and peer else None
    verdict = "info"
    if must:
        verdict = "pass" if ratio is not None and ratio <= 1.0 else "fail"
    return {"group": "kernel", "name": name, "unit": unit, "ours": ours, "peer": peer,
            "peer_name": peer_name, "ratio": ratio, "goal": goal, "verdict": verdict}


def run(quick: bool = False) -> list[Row]:
    """Measure and return the table rows (see ``benchmarks/__main__.py`` for the keys)."""
    limit = LARGE_TIMEOUT_QUICK if quick else LARGE_TIMEOUT
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as tmp:
        specs = _spec_manager(Path(tmp))
        ours = _measure(OURS, specs, quick, large=True)
        mathics = _measure(MATHICS, specs, quick, large=True)
        python = _measure(PYTHON, specs, quick, large=False)
    ms = 1000.0
    return [
        _row("1+1 round trip", "ms", ours["round_trip"] * ms, mathics["round_trip"] * ms,
             MATHICS, "ours <= peer", must=True),
        _row("1+1 round trip", "ms", ours["round_trip"] * ms, python["round_trip"] * ms,
             "ipykernel python3 (1+1)", "info: protocol floor", must=False),
        _row("start to first result (cold)", "s", ours["start"], mathics["start"], MATHICS,
             "info: cold Mathics3 ~4-5 s", must=False),
        _row("start to first result (cold)", "s", ours["start"], python["start"],
             "ipykernel python3", "info", must=False),
        _row("Range[10^5] result", "s", ours["range"], mathics["range"],
             _peer_label(mathics["range"], limit), "info", must=False),
        _row("RandomReal[1, 10^6] result", "s", ours["packed"], mathics["packed"],
             _peer_label(mathics["packed"], limit), "info", must=False),
    ]


def _peer_label(value: float | None, limit: float) -> str:
    return MATHICS if value is not None else f"{MATHICS} (no result in {limit:.0f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick)
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        ours = f"{row['ours']:.3f}" if row["ours"] is not None else "-"
        peer = f"{row['peer']:.3f}" if row["peer"] is not None else "-"
        print(f"{row['name']:<30} {row['unit']:<3} ours {ours:>9}  {row['peer_name']:<45} "
              f"{peer:>9}  ratio {ratio:>6}  {row['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
