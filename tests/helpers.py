"""Helpers every test package shares: one ``head`` for packets, one ``wait_for`` for polling."""

from __future__ import annotations

import time
from collections.abc import Callable

from wstp_jupyter.wxf import Expr


def head(expr: object) -> str | None:
    """The head's symbol name of a packet expression (``"TextPacket"``), ``None`` for atoms."""
    return expr.head_name if isinstance(expr, Expr) else None


def wait_for(
    predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05
) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last verdict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
