"""A small JSON reader that keeps line numbers, for WSTPServer's configuration format.

WSTPServer's file is a JSON object in which lines beginning with ``#`` are comments; once a
commented-out key is gone, a trailing comma is often left before ``}`` or ``]``. The standard
:mod:`json` module accepts neither and reports errors by character offset only, while the server
must name the line and key of every bad value. So this reader is a recursive-descent parser over
the text that

* treats a line whose first non-blank character is ``#`` as blank,
* tolerates one trailing comma before a closing ``}`` or ``]``,
* rejects duplicate keys (the second would silently win in :mod:`json`),
* returns :class:`Node` values carrying the line each value starts on and, for objects, the line
  of each key.

Strings are decoded by :func:`json.decoder.scanstring`, so escapes behave exactly as in JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path

from wstp_jupyter.server._errors import ConfigError

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass
class Node:
    """A parsed value and where it came from.

    ``value`` is a ``str``, ``int``, ``float``, ``bool``, ``None``, ``list[Node]`` or
    ``dict[str, Node]``; ``key_lines`` maps each key of an object to the line it is written on.
    """

    value: object
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def plain(self) -> object:
        """The value with every nested :class:`Node` unwrapped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class _Parser:
    def __init__(self, text: str, path: Path | None) -> None:
        # Comment lines become blank lines so that positions and line numbers stay exact.
        self.text = "\n".join(
            "" if ln.lstrip().startswith("#") else ln for ln in text.split("\n")
        )
        self.path = path
        self.pos = 0

    def line(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def fail(self, message: str, key: str | None = None, pos: int | None = None) -> ConfigError:
        return ConfigError(message, path=self.path, line=self.line(pos), key=key)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def document(self) -> Node:
        if not self.peek():
            raise self.fail("the file is empty (expected a JSON object)")
        node = self.value("")
        if self.peek():
            raise self.fail(f"unexpected text after the configuration object: {self.peek()!r}")
        return node

    def value(self, key: str) -> Node:
        ch = self.peek()
        start = self.pos
        line = self.line()
        if ch == "{":
            return self.obj(key)
        if ch == "[":
            return self.array(key)
        if ch == '"':
            return Node(self.string(key), line)
        m = _NUMBER.match(self.text, self.pos)
        if m and m.group(0):
            self.pos = m.end()
            num: object = float(m.group(0)) if (m.group(1) or m.group(2)) else int(m.group(0))
            return Node(num, line)
        for word, lit in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Node(lit, line)
        found = self.text[start : start + 12].split("\n")[0] or "end of file"
        raise self.fail(f"expected a JSON value, found {found!r}", key or None)

    def string(self, key: str) -> str:
        try:
            text, end = scanstring(self.text, self.pos + 1)
        except json.JSONDecodeError as exc:
            raise self.fail(f"bad string: {exc.msg}", key or None, exc.pos) from None
        self.pos = end
        return text

    def obj(self, key: str) -> Node:
        node = Node({}, self.line())
        members: dict[str, Node] = {}
        self.pos += 1
        while True:
            ch = self.peek()
            if ch == "}":
                self.pos += 1
                node.value = members
                return node
            if ch != '"':
                where = f"in {key!r}" if key else "in the top-level object"
                raise self.fail(f"expected a quoted key or '}}' {where}, found {ch or 'EOF'!r}")
            kline = self.line()
            name = self.string(key)
            full = f"{key}.{name}" if key else name
            if name in members:
                raise self.fail(f"duplicate key (first on line {node.key_lines[name]})", full)
            if self.peek() != ":":
                raise self.fail("expected ':' after the key", full)
            self.pos += 1
            members[name] = self.value(full)
            node.key_lines[name] = kline
            ch = self.peek()
            if ch == ",":
                self.pos += 1
            elif ch != "}":
                found = ch or "EOF"
                raise self.fail(f"expected ',' or '}}' after the value, found {found!r}", full)

    def array(self, key: str) -> Node:
        node = Node([], self.line())
        items: list[Node] = []
        self.pos += 1
        while True:
            if self.peek() == "]":
                self.pos += 1
                node.value = items
                return node
            items.append(self.value(f"{key}[{len(items)}]"))
            ch = self.peek()
            if ch == ",":
                self.pos += 1
            elif ch != "]":
                found = ch or "EOF"
                raise self.fail(f"expected ',' or ']' in a list, found {found!r}", key or None)


def parse(text: str, path: Path | None = None) -> Node:
    """Parse WSTPServer's JSON-with-``#``-comments text.

    Args:
        text: the file's contents.
        path: the file, only used in error messages.

    Returns:
        The root :class:`Node`.

    Raises:
        ConfigError: malformed text, with the line (and key where one applies).
    """
    return _Parser(text, path).document()
