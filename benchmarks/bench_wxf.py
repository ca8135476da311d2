"""WXF codec benchmark: wstp_jupyter.wxf against wolframclient 1.4.0, side by side in one run.

Workloads (the same Python data for both libraries, each in its own expression model):

* ``int list``: a list of 1e6 integers (mixed widths) -> a WL ``List``;
* ``f[i, "s<i>", 1.5 i]``: 200k small expressions in a ``List``;
* ``float64 array``: a 1e7-element numpy array (ours writes a PackedArray, wolframclient a
  NumericArray);
* ``deep nest``: a list of 200 expressions, each ``f[f[...f[i]...]]`` 500 levels deep.

Encode is measured from the Python value to a complete document (``bytes``). Decode parses the
*same bytes* (ours) with both libraries, so both read identical input. Throughput is document
bytes per CPU second of the process (1 MB = 1e6 bytes), median of several alternating
repetitions. The integers are spread over -100000..100003 so that their WXF widths mix
(Integer8/16/32) the way real data does, rather than one long run of equal widths.

Usage: ``python benchmarks/bench_wxf.py [--quick]``. ``run(quick)`` returns the rows as dicts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from wstp_jupyter import wxf

PEER = "wolframclient 1.4.0"
GENERIC_GOAL = 10.0  # ours / wolframclient, each direction
ARRAY_GOAL_MBS = 1000.0  # packed float64 arrays, each direction


def _median_times(
    ours: Callable[[], object], peer: Callable[[], object], reps: int
) -> tuple[float, float]:
    """Median CPU seconds of each function.

    Runs alternate so both libraries see the same machine, and CPU time (user + system, which
    includes page faults) rather than wall time keeps other processes on a shared machine from
    skewing one side.
    """
    ours_t: list[float] = []
    peer_t: list[float] = []
    for _ in range(reps):
        for fn, times in ((ours, ours_t), (peer, peer_t)):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
    return statistics.median(ours_t), statistics.median(peer_t)


def _nest(head: Any, depth: int, leaf: object) -> Any:
    x = leaf
    for _ in range(depth):
        x = head(x)
    return x


def _workloads(quick: bool) -> list[tuple[str, Any, Any, bool]]:
    """(name, our value, wolframclient's value, is_array)."""
    from wolframclient.language import wl as peer_wl

    scale = 10 if quick else 1
    n_int = 1_000_000 // scale
    ints = [(i * 2654435761) % 200_003 - 100_000 for i in range(n_int)]
    n_expr = 200_000 // scale
    ours_exprs = [wxf.wl.f(i, f"s{i}", 1.5 * i) for i in range(n_expr)]
    peer_exprs = [peer_wl.f(i, f"s{i}", 1.5 * i) for i in range(n_expr)]
    arr = np.random.default_rng(1).random(10_000_000 // scale)
    n_nest = 200 // scale
    ours_deep = [_nest(wxf.wl.f, 500, i) for i in range(n_nest)]
    peer_deep = [_nest(peer_wl.f, 500, i) for i in range(n_nest)]
    return [
        ("int list 1e6", ints, ints, False),
        ('f[i, "s<i>", 1.5 i] x 200k', ours_exprs, peer_exprs, False),
        ("float64 array 1e7", arr, arr, True),
        ("deep nest 500 x 200", ours_deep, peer_deep, False),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    """Measure every workload in both directions and return one row per (workload, direction).

    Row keys: ``group``, ``name``, ``unit``, ``ours``, ``peer``, ``peer_name``, ``ratio``,
    ``goal``, ``verdict`` ("pass" / "fail"), plus ``bytes``.
    """
    from wolframclient.deserializers import binary_deserialize
    from wolframclient.serializers import export

    reps = 3 if quick else 5
    rows: list[dict[str, Any]] = []
    old_limit = sys.getrecursionlimit()
    # wolframclient encodes and decodes recursively, several frames per level.
    sys.setrecursionlimit(max(old_limit, 10_000))
    try:
        for name, ours_value, peer_value, is_array in _workloads(quick):
            doc = wxf.dumps(ours_value)
            size = len(doc)
            checks = [
                ("encode", lambda v=ours_value: wxf.dumps(v),
                 lambda v=peer_value: export(v, target_format="wxf")),
                ("decode", lambda d=doc: wxf.loads(d), lambda d=doc: binary_deserialize(d)),
            ]  # fmt: skip
            for direction, ours_fn, peer_fn in checks:
                ours_s, peer_s = _median_times(ours_fn, peer_fn, reps)
                ours, peer = size / ours_s / 1e6, size / peer_s / 1e6
                ratio = ours / peer
                if is_array:
                    goal = f">= {ARRAY_GOAL_MBS:.0f} MB/s"
                    verdict = "pass" if ours >= ARRAY_GOAL_MBS else "fail"
                else:
                    goal = f">= {GENERIC_GOAL:.0f}x {PEER}"
                    verdict = "pass" if ratio >= GENERIC_GOAL else "fail"
                rows.append(
                    {
                        "group": "wxf",
                        "name": f"{name} {direction}",
                        "unit": "MB/s",
                        "ours": round(ours, 2),
                        "peer": round(peer, 2),
                        "peer_name": PEER,
                        "ratio": round(ratio, 2),
                        "goal": goal,
                        "verdict": verdict,
                        "bytes": size,
                    }
                )
    finally:
        sys.setrecursionlimit(old_limit)
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'workload':<38} {'bytes':>11} {'ours MB/s':>11} {'wc MB/s':>10} {'ratio':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['name']:<38} {r['bytes']:>11} {r['ours']:>11.1f} {r['peer']:>10.2f} "
            f"{r['ratio']:>8.1f}x  {r['verdict']} ({r['goal']})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1/10 of the data, 3 repetitions")
    args = parser.parse_args(argv)
    rows = run(args.quick)
    _print_table(rows)
    return 0 if all(r["verdict"] == "pass" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
