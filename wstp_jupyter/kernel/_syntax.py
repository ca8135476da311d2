"""Light-weight lexical help for front-end requests: symbol at the cursor, cell completeness.

The authoritative answers come from the kernel process (``WSTPJupyter`Complete/Inspect/
IsComplete`` over the preemptive link). This module finds *what to ask about* (the symbol under
the cursor, with contexts such as ``System`Pl``) and gives a local completeness verdict, used
while the kernel process is still starting (Mathics3 takes seconds) and to compute the indent of
an incomplete cell. The scanner knows strings with escapes, nested ``(* *)`` comments and the
bracket pairs ``[] {} () <| |>``; ``[[``/``]]`` are two brackets each, which balances the same.
"""

from __future__ import annotations

import re

# A Wolfram Language symbol name, possibly with contexts: letters, digits, $ and `.
_SYMBOL_CHARS = re.compile(r"[A-Za-z0-9$`]")
_SYMBOL = re.compile(r"[A-Za-z$`][A-Za-z0-9$`]*")

_OPENERS = {"[": "]", "{": "}", "(": ")", "<|": "|>"}
_CLOSERS = {"]", "}", ")", "|>"}

# Operators that cannot end an expression: the input continues on the next line. Longest first.
_TRAILING_BINARY = (
    "//.",
    "/.",
    "/;",
    "/@",
    "//@",
    "@@@",
    "@@",
    "->",
    ":>",
    ":=",
    "^:=",
    "^=",
    "==",
    "===",
    "!=",
    "=!=",
    "&&",
    "||",
    "<>",
    "<=",
    ">=",
    "+=",
    "-=",
    "*=",
    "/=",
    "~~",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    ",",
    "@",
    "<",
    ">",
    "|",
    "~",
)
_COMPLETE_POSTFIX = ("++", "--", "|>")

INDENT = "  "


def symbol_before(code: str, cursor_pos: int) -> tuple[str, int]:
    """Return ``(prefix, start)``: the symbol characters ending at ``cursor_pos``.

    ``start`` is where a completion replaces text (``cursor_start``). A prefix that starts with a
    digit is not a symbol (``12ab``) and gives ``("", cursor_pos)``.
    """
    cursor_pos = max(0, min(cursor_pos, len(code)))
    start = cursor_pos
    while start > 0 and _SYMBOL_CHARS.match(code[start - 1]):
        start -= 1
    prefix = code[start:cursor_pos]
    while prefix and prefix[0].isdigit():
        prefix = prefix[1:]
        start += 1
    return prefix, start


def symbol_at(code: str, cursor_pos: int) -> str:
    """The whole symbol under (or just before) ``cursor_pos``, or ``""``."""
    cursor_pos = max(0, min(cursor_pos, len(code)))
    for match in _SYMBOL.finditer(code):
        if match.start() <= cursor_pos <= match.end():
            return match.group(0).strip("`")
    return ""


def _scan(code: str) -> tuple[list[str], str | None, str]:
    """Scan ``code``; return (open bracket stack, state, text outside strings and comments).

    ``state`` is ``None`` (clean), ``"string"``, ``"comment"`` or ``"invalid"``.
    """
    stack: list[str] = []
    outside: list[str] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        two = code[i : i + 2]
        if ch == '"':
            i += 1
            while i < n and code[i] != '"':
                i += 2 if code[i] == "\\" else 1
            if i >= n:
                return stack, "string", "".join(outside)
            outside.append("S")  # a string is an operand
            i += 1
            continue
        if two == "(*":
            depth, i = 1, i + 2
            while i < n and depth:
                if code.startswith("(*", i):
                    depth, i = depth + 1, i + 2
                elif code.startswith("*)", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            if depth:
                return stack, "comment", "".join(outside)
            outside.append(" ")
            continue
        if two in {"<|", "|>"}:
            token, i = two, i + 2
        else:
            token, i = ch, i + 1
        if token in _OPENERS:
            stack.append(_OPENERS[token])
        elif token in _CLOSERS:
            if not stack or stack[-1] != token:
                return stack, "invalid", "".join(outside)
            stack.pop()
        outside.append(token)
    return stack, None, "".join(outside)


def is_complete(code: str) -> tuple[str, str]:
    """Judge whether ``code`` is a complete input.

    Returns:
        ``(status, indent)`` with status ``"complete"``, ``"incomplete"`` (indent is the
        suggested indentation of the next line) or ``"invalid"`` (a closing bracket that does not
        match); indent is ``""`` unless the status is ``"incomplete"``.
    """
    stack, state, outside = _scan(code)
    if state == "invalid":
        return "invalid", ""
    if state in ("string", "comment"):
        return "incomplete", ""
    if stack:
        return "incomplete", INDENT * len(stack)
    tail = outside.rstrip()
    if tail.endswith(_COMPLETE_POSTFIX):
        return "complete", ""
    if tail and tail.endswith(_TRAILING_BINARY):
        return "incomplete", INDENT
    return "complete", ""
