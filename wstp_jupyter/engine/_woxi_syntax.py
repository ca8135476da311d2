"""Cutting a cell into top-level expressions, and the ``%`` rewrite, for the Woxi engine.

Woxi's Python API evaluates a whole string and returns one result; the main loop needs one
``$Line`` per top-level expression, as the Wolfram kernel gives. :func:`candidate_lines` scans
the cell once (strings with escapes, nested ``(* *)`` comments, brackets) and yields the pieces
that end at a newline outside any bracket; the worker then asks Woxi's parser whether the piece
so far is a whole expression, and joins the next piece when the input simply ended too early
(``a = 1 +`` newline ``2``), as the Wolfram front end does.

``%``, ``%%`` and ``%n`` are rewritten to ``Out[-1]``, ``Out[-2]`` and ``Out[n]`` outside strings
and comments: Woxi's own ``%`` only knows the previous result of its REPL mode, while the engine
keeps ``Out[n]`` itself (``Out[k_?Negative]`` counts back from ``$Line``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_OPEN = "[{("
_CLOSE = "]})"
_PERCENT = re.compile(r"%\d+|%+")


def _skip_string(text: str, i: int) -> int:
    """Index after the string literal starting at ``text[i] == '"'`` (or the end)."""
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        i += 1
    return len(text)


def _skip_comment(text: str, i: int) -> int:
    """Index after the (nested) comment starting at ``text[i:i+2] == '(*'`` (or the end)."""
    depth = 0
    while i < len(text):
        if text.startswith("(*", i):
            depth += 1
            i += 2
        elif text.startswith("*)", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def _string_closed(literal: str) -> bool:
    i = 1
    while i < len(literal):
        if literal[i] == "\\":
            i += 2
        elif literal[i] == '"':
            return i == len(literal) - 1
        else:
            i += 1
    return False


def code_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, kind)`` for the cell's parts: ``"code"``, ``"string"`` or ``"comment"``."""
    i = start = 0
    while i < len(text):
        if text[i] == '"':
            if i > start:
                yield start, i, "code"
            end = _skip_string(text, i)
            yield i, end, "string"
            i = start = end
        elif text.startswith("(*", i):
            if i > start:
                yield start, i, "code"
            end = _skip_comment(text, i)
            yield i, end, "comment"
            i = start = end
        else:
            i += 1
    if start < len(text):
        yield start, len(text), "code"


def candidate_lines(text: str) -> list[tuple[int, str]]:
    """Pieces of ``text`` that end at a newline outside brackets, strings and comments.

    Returns:
        ``(offset, piece)`` pairs covering the whole text in order (blank pieces included, so
        offsets stay exact).
    """
    pieces: list[tuple[int, str]] = []
    depth = 0
    begin = 0
    for start, end, kind in code_spans(text):
        if kind != "code":
            continue
        for i in range(start, end):
            ch = text[i]
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth = max(0, depth - 1)
            elif ch == "\n" and depth == 0:
                pieces.append((begin, text[begin : i + 1]))
                begin = i + 1
    if begin < len(text):
        pieces.append((begin, text[begin:]))
    return pieces


def is_blank(piece: str) -> bool:
    """True when ``piece`` holds only white space and comments."""
    return all(kind == "comment" or not piece[s:e].strip() for s, e, kind in code_spans(piece))


def rewrite_percent(code: str) -> str:
    """``%`` -> ``Out[-1]``, ``%%`` -> ``Out[-2]``, ``%n`` -> ``Out[n]``, outside strings and
    comments."""
    if "%" not in code:
        return code
    parts: list[str] = []
    for start, end, kind in code_spans(code):
        part = code[start:end]
        if kind == "code" and "%" in part:
            part = _PERCENT.sub(_percent, part)
        parts.append(part)
    return "".join(parts)


def _percent(match: re.Match[str]) -> str:
    token = match.group()
    if token[1:].isdigit():
        return f"Out[{token[1:]}]"
    return f"Out[-{len(token)}]"


# Operators after which an expression cannot end: the input goes on on the next line.
# (Postfix ``&``, ``!``, ``++``, ``--``, ``;`` and ``=.`` do end an expression.)
_CONTINUES = re.compile(
    r"(?:[-+*/^<>=|@:~?,.]|&&|\[\[)$"
)
_ENDS = re.compile(r"(?:\+\+|--|=\.|\|>|\.\d*|\d\.)$")


def ends_with_operator(piece: str) -> bool:
    """True when the code of ``piece`` (comments and white space aside) ends with an operator
    that needs a right operand, so the expression goes on after the newline."""
    tail = ""
    for start, end, kind in code_spans(piece):
        if kind == "comment":
            continue
        part = piece[start:end].rstrip()
        if kind == "string":
            tail = '"'
        elif part.strip():
            tail = part
    if not tail or tail == '"':
        return False
    if _ENDS.search(tail):
        return False
    return bool(_CONTINUES.search(tail))


def open_construct(text: str) -> bool:
    """True when ``text`` ends inside a string or comment, or with brackets left open."""
    depth = 0
    for start, end, kind in code_spans(text):
        piece = text[start:end]
        if kind == "string" and not _string_closed(piece):
            return True
        if kind == "comment" and not piece.endswith("*)"):
            return True
        if kind == "code":
            for ch in piece:
                if ch in _OPEN:
                    depth += 1
                elif ch in _CLOSE:
                    depth -= 1
    return depth > 0


def split_cell(text: str) -> list[tuple[int, str]]:
    """The cell's top-level expressions as ``(offset, code)``, comments-only pieces dropped.

    A piece that ends with an operator takes the next piece with it.
    """
    chunks: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for at, text_piece in candidate_lines(text):
        offset, piece = at, text_piece
        if pending is not None:
            offset, piece = pending[0], pending[1] + text_piece
            pending = None
        if ends_with_operator(piece):
            pending = (offset, piece)
            continue
        if not is_blank(piece):
            chunks.append((offset, piece))
    if pending is not None and not is_blank(pending[1]):
        chunks.append(pending)
    return chunks
