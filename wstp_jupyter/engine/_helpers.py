"""Front-end helpers answered from the definitions, without running the evaluator.

``complete``, ``inspect`` and ``is_complete`` read the ``Definitions`` object and run the Mathics3
parser on a private ``Parser`` instance; none of them evaluates anything, so the kernel can answer
them on its loop thread while the main evaluation is busy in the worker thread (the
``WSTPJupyter`Complete`` / ``Inspect`` / ``IsComplete`` requests, usually on the preemptive link).
"""

from __future__ import annotations

import html
import re
from typing import Any

from mathics.core.parser.feed import MathicsMultiLineFeeder
from mathics.core.parser.parser import Parser
from mathics_scanner.errors import IncompleteSyntaxError
from mathics_scanner.errors import SyntaxError as MathicsSyntaxError
from mathics_scanner.location import ContainerKind

from wstp_jupyter.engine._definitions import definition_lines
from wstp_jupyter.engine._forms import to_text
from wstp_jupyter.engine._named_characters import PREFIX, complete_named

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")
_SYMBOL_CHARS = re.compile(r"^[$A-Za-z0-9`]*$")


def complete(definitions: Any, prefix: str) -> list[str]:
    """Names that start with ``prefix``: symbols visible from ``$Context``/``$ContextPath``
    under their short names, other symbols under their full names, and contexts.

    Args:
        definitions: the Mathics ``Definitions``.
        prefix: what the user typed (may contain a context mark).

    A prefix that starts with ``\\[`` asks for named characters instead (``\\[Alp`` ->
    ``\\[Alpha]``).

    Returns:
        Sorted, without duplicates; empty when ``prefix`` holds characters no symbol can.
    """
    if prefix.startswith(PREFIX):
        return complete_named(prefix)
    if not _SYMBOL_CHARS.match(prefix):
        return []
    names: set[str] = set()
    contexts: set[str] = set()
    if "`" in prefix:
        for full in definitions.get_names():
            if full.startswith(prefix):
                names.add(full)
            ctx = full[: full.rfind("`") + 1]
            if ctx.startswith(prefix):
                contexts.add(ctx)
    else:
        accessible = tuple(definitions.get_accessible_contexts())
        for full in definitions.get_names():
            cut = full.rfind("`") + 1
            short = full[cut:]
            ctx = full[:cut]
            if short.startswith(prefix) and ctx in accessible:
                names.add(short)
            if prefix and ctx.startswith(prefix):
                contexts.add(ctx[: ctx.find("`") + 1])
    known = set(definitions.get_accessible_contexts()) | set(definitions.get_context_path())
    contexts |= {c for c in known if c.startswith(prefix) and (prefix or "`" not in prefix)}
    return sorted(names) + sorted(contexts - names)


def _full_name(definitions: Any, name: str) -> str | None:
    if not name or not _SYMBOL_CHARS.match(name):
        return None
    full = definitions.lookup_name(name)
    return full if definitions.have_definition(full) else None


def _usage(definitions: Any, full: str, definition: Any) -> str:
    for rule in definition.get_values_list("messages"):
        parts = rule.pattern.expr.get_elements()
        if len(parts) == 2 and str(parts[1]) == '"usage"':
            value = rule.get_replace_value()
            return str(value.to_python(string_quotes=False))
    builtin = getattr(definitions.builtin.get(full), "builtin", None)
    if builtin is None:
        return ""
    doc = type(builtin).__doc__ or ""
    start, end = doc.find("<dl>"), doc.find("</dl>")
    if start >= 0 and end > start:
        text = doc[start:end]
        text = text.replace("<dt>", "\n").replace("<dd>", "\n    ").replace("'", "")
        text = html.unescape(_TAG.sub("", text)).replace("$", "")
        lines = [_SPACE.sub(" ", ln).rstrip() for ln in text.splitlines()]
        body = "\n".join(ln for ln in lines if ln.strip())
        if body:
            return body
    return str(getattr(builtin, "summary_text", "") or "")


def inspect(definitions: Any, name: str) -> str | None:
    """What ``?name`` shows: the usage, then the definitions, as Wolfram's ``Information``.

    Args:
        definitions: the Mathics ``Definitions``.
        name: a symbol name, short (resolved through ``$Context``/``$ContextPath``) or full.

    Returns:
        Plain text, paragraphs separated by blank lines: the usage (the full name when there is
        none), then ``Attributes[f] = {...}``, the rules (``f[x_] := x + 1``, each with the
        operator that made it), default values and ``Options[f] = {...}``. ``None`` when no
        such symbol exists.
    """
    full = _full_name(definitions, name.strip())
    if full is None:
        return None
    try:
        definition = definitions.get_definition(full, only_if_exists=True)
    except KeyError:
        return None
    shorten = definitions.shorten_name
    lines = [_usage(definitions, full, definition) or full]
    for line in definition_lines(definitions, full):
        lines.append(to_text(line.expression(), shorten))
    return "\n\n".join(lines)


def is_complete(code: str) -> str:
    """Classify input for a front end deciding whether to run it or to ask for more.

    Returns:
        ``"complete"`` when every top-level expression parses, ``"incomplete"`` when the input
        ends too early (open bracket, dangling operator, unterminated string), ``"invalid"`` on
        any other syntax error.
    """
    parser = Parser()
    feeder = MathicsMultiLineFeeder(code, "", ContainerKind.STREAM)
    try:
        while not feeder.empty():
            parser.parse(feeder)
    except IncompleteSyntaxError:
        return "incomplete"
    except MathicsSyntaxError:
        return "invalid"
    return "complete"
