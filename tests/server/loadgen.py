"""The bounded load run shared by the load test and the benchmark.

``clients`` threads, each with its own link to the server; ``kernels`` of them take a kernel
from the pool, the others share those kernels (``ConnectKernel[id, "Shared" -> True]``) so each
kernel serves ``clients / kernels`` clients. Every client sends ``evaluations`` tiny requests
whose answers are unique (``Plus[client * 100000, i]``) and checks each reply against its
request: a lost reply times out, a misrouted one has the wrong value.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from wstp_jupyter.link import Link, Protocol
from wstp_jupyter.wxf import Expr, Symbol


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    kernels: set[str] = field(default_factory=set)

    @property
    def replies(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _command(link: Link, name: str, *args: object, **options: object) -> object:
    rules = [Expr(Symbol("Rule"), k, v) for k, v in options.items()]
    link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol(f"WSTPServer`{name}"), *args, *rules)))
    while True:
        packet = link.get(timeout=120)
        if isinstance(packet, Expr) and packet.head == Symbol("ReturnPacket"):
            return packet.args[0]


def run_load(address: str, *, clients: int = 32, kernels: int = 4, evaluations: int = 25,
             pool: str | None = None, timeout: float = 30.0) -> LoadResult:
    """Run the load; returns latencies and every problem found (nothing is raised)."""
    result = LoadResult()
    lock = threading.Lock()
    links = [Link.connect(Protocol.TCPIP, address) for _ in range(clients)]
    ids: list[str] = []
    for link in links[:kernels]:
        kid = _command(link, "ConnectPool", *((pool,) if pool else ()))
        if not isinstance(kid, str):
            raise RuntimeError(f"could not take a kernel: {kid}")
        ids.append(kid)
    for n, link in enumerate(links[kernels:], start=kernels):
        got = _command(link, "ConnectKernel", ids[n % kernels], Shared=True)
        if got != ids[n % kernels]:
            raise RuntimeError(f"could not share kernel {ids[n % kernels]}: {got}")
    result.kernels = set(ids)
    start_gate = threading.Barrier(clients)

    def client(n: int, link: Link) -> None:
        mine: list[float] = []
        try:
            start_gate.wait()
            for i in range(evaluations):
                expected = n * 100000 + i
                t = time.perf_counter()
                link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("Plus"), n * 100000, i)))
                packet = link.get(timeout=timeout)
                mine.append(time.perf_counter() - t)
                if packet != Expr(Symbol("ReturnPacket"), expected):
                    with lock:
                        result.wrong.append(f"client {n} request {i}: got {packet}")
        except Exception as exc:
            with lock:
                result.errors.append(f"client {n}: {type(exc).__name__}: {exc}")
        with lock:
            result.latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n, link)) for n, link in enumerate(links)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - t0
    for link in links:
        link.close()
    return result
