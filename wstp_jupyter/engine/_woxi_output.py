"""The Woxi worker's output (``Print`` lines, messages, markers) as ``Host`` calls, in order."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wstp_jupyter.engine._backend import Host

_MESSAGE_LINE = re.compile(r"^([A-Za-z$][A-Za-z0-9$`]*)::([A-Za-z0-9$]+): ", re.M)


class OutputReader:
    """Turns the worker's output packets into ``Print`` text and messages, in order.

    Woxi writes a message to stderr as three writes: ``"\\n"``, the block (which does not end
    with a newline) and ``"\\n"``; ``Print`` writes whole lines. A packet that does not end
    with a newline, follows a lone newline and holds a ``Symbol::tag:`` line is a message.
    """

    def __init__(self, host: Host, mark: str, on_marker: Callable[[str], None]) -> None:
        self.host = host
        self.mark = mark
        self.on_marker = on_marker
        self.held: list[str] = []
        self.text: list[str] = []

    def feed(self, packets: list[bytes]) -> None:
        for raw in packets:
            packet = raw.decode("utf-8", "replace")
            if packet.startswith(self.mark):
                self.flush(final=True)
                self.on_marker(packet[len(self.mark) :].rstrip("\n"))
            elif self.held == ["\n"] and not packet.endswith("\n") and _MESSAGE_LINE.search(
                packet
            ):
                self.held.append(packet)
            elif len(self.held) == 2 and packet == "\n":
                self._emit_text()
                self._message(self.held[1])
                self.held = []
            else:
                self.text.extend(self.held)
                self.held = []
                if packet == "\n":
                    self.held = [packet]
                else:
                    self.text.append(packet)
        self._emit_text()

    def flush(self, *, final: bool = False) -> None:
        if final and len(self.held) == 2:
            self._emit_text()
            self._message(self.held[1])
        else:
            self.text.extend(self.held)
        self.held = []
        self._emit_text()

    def _emit_text(self) -> None:
        if self.text:
            joined = "".join(self.text)
            self.text = []
            self.host.print_text(joined[:-1] if joined.endswith("\n") else joined)

    def _message(self, block: str) -> None:
        found = _MESSAGE_LINE.search(block)
        symbol, tag = (found.group(1), found.group(2)) if found else ("General", "woxi")
        self.host.message(symbol, tag, block)


class NullHost:
    """Where the output of helper requests goes: nowhere."""

    def print_text(self, text: str) -> None:
        pass

    def message(self, symbol: str, tag: str, text: str) -> None:
        pass

    def request_input(self, prompt: str, *, string: bool) -> str | None:
        return None

    def display(self, bundle: dict[str, Any], *, temporary: bool) -> bool:
        return False

    def clear_output(self, *, wait: bool) -> bool:
        return False
