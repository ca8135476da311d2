"""Fixtures for the link tests: connected pairs per protocol, and a leak check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from wstp_jupyter.link import Link, Protocol, channel

PROTOCOLS = [Protocol.TCPIP, Protocol.Local, Protocol.IntraProcess]


@pytest.fixture(params=PROTOCOLS, ids=lambda p: p.value)
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Link, Link]]:
    a, b = channel(request.param)
    yield a, b
    a.close()
    b.close()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves link threads running (readers, handshakes, servers)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 3.0
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.name.startswith("wstp-") and t.is_alive()
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"leaked threads: {[t.name for t in leaked]}"
