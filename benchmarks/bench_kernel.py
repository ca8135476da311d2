"""Jupyter kernel benchmarks: our kernel against mathics3-jupyter-kernel and ipykernel.

Everything is measured through jupyter_client, as a front end sees it:

* ``1+1`` round trip -- ``execute_request`` sent until the kernel reports idle for it, with the
  result received (median of many, after warm-up, the kernels taking turns);
* start to first result -- ``start_kernel`` until the first ``1+1`` result arrives (cold start of
  the kernel process included);
* large results -- ``Range[10^5]`` and a 10^6-element packed array (``RandomReal[1, 10^6]``)
  until the result arrived;
* interrupt -- Jupyter's ``interrupt_kernel`` during an endless loop until the cell's
  ``execute_reply`` arrives (ours aborts the evaluation and keeps the session; the floor is
  ipykernel interrupting ``while True: pass``);
* a 3D surface -- the Graphics3D renderer turning an 1800-triangle surface into SVG, in process;
* widgets (``bench_widgets``) -- a Manipulate control update to its new output (``x^2`` and a
  plot), and an 1800-triangle 3D view from scene data to its first frame in headless Chromium.

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
from contextlib import ExitStack, contextmanager
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
LARGE_TIMEOUT_QUICK = 20.0  # keeps --quick (all modules) under 2 minutes

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


def _wait(kc: BlockingKernelClient, msg_id: str, timeout: float,
          errors_ok: bool = False) -> dict[str, Any] | None:
    """Drain iopub until ``msg_id`` is idle; return its execute_result content, if any.

    An ``error`` message raises ``RuntimeError`` unless ``errors_ok``.
    """
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
        elif msg["msg_type"] == "error" and not errors_ok:
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
    """Start kernel ``name``; yield a ready client and the time to the first ``1+1`` result.

    The client's ``parent`` is its KernelManager (jupyter_client sets it); the interrupt
    measurement goes through it.
    """
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


def _round_trips(clients: dict[str, BlockingKernelClient], n: int) -> dict[str, float]:
    """Median ``1+1`` round trip of each kernel, measured interleaved.

    Alternating between the kernels puts every one of them under the same machine load at the
    same moments, so a burst of background activity cannot favour one side.
    """
    for kc in clients.values():
        for _ in range(5):  # warm-up: caches, first-use imports
            _timed(kc, "1+1")
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(n):
        for name, kc in clients.items():
            times[name].append(_timed(kc, "1+1"))
    return {name: statistics.median(values) for name, values in times.items()}


def _large(kc: BlockingKernelClient, code: str, reps: int, timeout: float) -> float | None:
    """Median time of a large result; ``None`` when it did not arrive within ``timeout``."""
    times = []
    for _ in range(reps):
        try:
            times.append(_timed(kc, code, timeout=timeout))
        except TimeoutError:
            return None
    return statistics.median(times)


def _interrupt(kc: BlockingKernelClient, code: str, reps: int) -> float:
    """Median time from ``interrupt_kernel`` to the interrupted cell's ``execute_reply``."""
    km = kc.parent
    if not isinstance(km, KernelManager):
        raise RuntimeError("the client has no KernelManager to interrupt through")
    times = []
    for _ in range(reps):
        msg_id = kc.execute(code)
        time.sleep(0.5)  # well inside the loop
        started = time.perf_counter()
        km.interrupt_kernel()
        while True:
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        times.append(time.perf_counter() - started)
        _wait(kc, msg_id, 30, errors_ok=True)  # drain its iopub up to idle
    return statistics.median(times)


INTERRUPTED = {OURS: "i = 0; While[True, i++]", PYTHON: "while True: pass"}


def _render3d(reps: int) -> float:
    """Median time to render an 1800-triangle Graphics3D surface (Plot3D's default is ~1000)."""
    from benchmarks.bench_widgets import surface
    from wstp_jupyter.render3d import graphics3d_svg

    # The same scene as the 3D widget row, with the axes and background the SVG draws too.
    data = {
        **surface(30),
        "background_color": "rgba(100.0%, 100.0%, 100.0%, 100.0%)",
        "axes": {"hasaxes": [True, True, True], "ticks": []},
        "protocol": "1.1",
    }
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        graphics3d_svg(data)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _measure(specs: KernelSpecManager, quick: bool) -> dict[str, dict[str, Any]]:
    numbers: dict[str, dict[str, Any]] = {OURS: {}, MATHICS: {}, PYTHON: {}}
    limit = LARGE_TIMEOUT_QUICK if quick else LARGE_TIMEOUT
    starts: dict[str, list[float]] = {name: [] for name in numbers}
    for _ in range(1 if quick else 3):
        for name in numbers:
            with _kernel(name, specs) as (_, start):
                starts[name].append(start)
    with ExitStack() as stack:
        clients = {name: stack.enter_context(_kernel(name, specs))[0] for name in numbers}
        for name, value in _round_trips(clients, 30 if quick else 200).items():
            numbers[name]["round_trip"] = value
        reps = 1 if quick else 3
        for name in (OURS, MATHICS):
            numbers[name]["range"] = _large(clients[name], "Range[10^5]", reps, limit)
            numbers[name]["packed"] = _large(clients[name], "RandomReal[1, 10^6]", reps, limit)
        for name, code in INTERRUPTED.items():
            numbers[name]["interrupt"] = _interrupt(clients[name], code, 3 if quick else 7)
        from benchmarks import bench_widgets

        updates = 5 if quick else 25
        numbers[OURS]["update_trivial"] = bench_widgets.control_update(
            clients[OURS], bench_widgets.TRIVIAL, updates)
        numbers[OURS]["update_plot"] = bench_widgets.control_update(
            clients[OURS], bench_widgets.PLOT, updates)
    kernel_part, page_part, _ = bench_widgets.view_ready(3 if quick else 7)
    numbers[OURS]["view3d"] = kernel_part + page_part
    numbers[OURS]["render3d"] = _render3d(3 if quick else 9)
    for name, values in starts.items():
        numbers[name]["start"] = statistics.median(values)
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
        measured = _measure(_spec_manager(Path(tmp)), quick)
    ours, mathics, python = measured[OURS], measured[MATHICS], measured[PYTHON]
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
        _limit_row("interrupt -> cell reply (evaluation aborted)", "s", ours["interrupt"],
                   python["interrupt"], "ipykernel python3 (while True: pass)", 1.0),
        _limit_row("Graphics3D 1800 triangles -> SVG", "s", ours["render3d"], None, "", 1.0),
        _limit_row("Manipulate x^2: control update -> new output", "ms",
                   ours["update_trivial"] * ms, None, "", 50.0),
        _limit_row("Manipulate Plot: control update -> new output", "ms",
                   ours["update_plot"] * ms, None, "", 500.0),
        _limit_row("3D view (1800 triangles) ready in Chromium", "s", ours["view3d"], None,
                   "", 1.0),
    ]


def _limit_row(name: str, unit: str, ours: float, peer: float | None, peer_name: str,  # noqa: PLR0917
               limit: float) -> Row:
    """A row whose goal is an absolute bound on our number (the peer, if any, is for scale)."""
    row = _row(name, unit, ours, peer, peer_name, f"< {limit:g} {unit}", must=False)
    row["verdict"] = "pass" if ours < limit else "fail"
    return row


def _peer_label(value: float | None, limit: float) -> str:
    return MATHICS if value is not None else f"{MATHICS} (no result in {limit:.0f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    from benchmarks.__main__ import render_table

    print(render_table(run(quick=args.quick), markdown=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
