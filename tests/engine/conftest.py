"""Fixtures for the kernel-process tests: one warm kernel shared by the whole directory.

Mathics3 needs ~4 s and ~200 MiB per process, so tests that leave the kernel idle and intact
share ``kernel``; tests that end a kernel start their own (``fresh_kernels``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from .helpers import Session, start_session


@pytest.fixture(scope="session")
def kernel() -> Iterator[Session]:
    session = start_session()
    session.kernel.open_parallel_links()
    yield session
    session.kernel.close()


@pytest.fixture
def fresh_kernels(request: pytest.FixtureRequest) -> Iterator[list[Session]]:
    """``n`` new kernels started in parallel (``@pytest.mark.parametrize`` not needed:
    the count comes from the ``kernels`` marker, default 1)."""
    marker = request.node.get_closest_marker("kernels")
    count = int(marker.args[0]) if marker else 1
    sessions: list[Session | BaseException] = [RuntimeError("not started")] * count

    def start(i: int) -> None:
        try:
            sessions[i] = start_session()
        except BaseException as exc:
            sessions[i] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    started = [s for s in sessions if isinstance(s, Session)]
    try:
        for s in sessions:
            if isinstance(s, BaseException):
                raise s
        yield started
    finally:
        for s in started:
            s.kernel.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kernels(n): number of fresh kernel processes")
