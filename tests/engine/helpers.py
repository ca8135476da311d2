"""Helpers to drive a kernel process's main link in tests (``head`` comes from tests.helpers)."""

from __future__ import annotations

from typing import Any

from tests.helpers import head
from wstp_jupyter.engine import KernelProcess, launch
from wstp_jupyter.link import Link
from wstp_jupyter.wxf import Expr, Symbol

END_HEADS = frozenset(
    {"InputNamePacket", "ReturnPacket", "MenuPacket", "InputPacket", "InputStringPacket"}
)


def read_until_end(link: Link, timeout: float = 30.0) -> list[Any]:
    """Packets up to and including the next prompt, ReturnPacket, menu or input request."""
    packets: list[Any] = []
    while True:
        packet = link.get(timeout=timeout)
        packets.append(packet)
        if head(packet) in END_HEADS:
            return packets


class Session:
    """A kernel plus small helpers to drive its main link."""

    def __init__(self, kernel: KernelProcess) -> None:
        self.kernel = kernel
        self.link = kernel.link

    def enter(self, text: str) -> list[Any]:
        self.link.put(Expr(Symbol("EnterTextPacket"), text))
        return read_until_end(self.link)

    def evaluate(self, expr: Any) -> list[Any]:
        self.link.put(Expr(Symbol("EvaluatePacket"), expr))
        return read_until_end(self.link)

    def line(self) -> int:
        """The current $Line (via EvaluatePacket, which does not change it)."""
        packets = self.evaluate(Symbol("$Line"))
        value = packets[-1].args[0]
        assert isinstance(value, int)
        return value


def start_session() -> Session:
    session = Session(launch())
    first = read_until_end(session.link)
    assert [head(p) for p in first] == ["InputNamePacket"]
    return session


__all__ = ["END_HEADS", "Session", "head", "read_until_end", "start_session"]
