"""Completion and inspection for the Woxi engine.

Completion lists the ``System``` names Woxi itself reports (``Names["System`*"]``, read once
at start: every function it implements plus the option and constant names it knows) and, when
the worker is idle, the user's own symbols (``Names["Global`*"]``). Inspection reads Woxi's
``Information``: usage, attributes and options of a built-in, the definitions of a user symbol.
"""

from __future__ import annotations

import re
from typing import Any

_SYMBOL = re.compile(r"^[$A-Za-z][$A-Za-z0-9]*(`[$A-Za-z][$A-Za-z0-9]*)*`?$")
_USAGE = re.compile(r"Usage -> (.*?), (?:Attributes|Documentation|ObjectType) -> ")
_DOC = re.compile(r"Documentation -> ([^,|]+)\|>")
_PREFIX = re.compile(r"^[$A-Za-z0-9`]*$")


def _list(text: str) -> list[str]:
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return []
    return [n.strip() for n in body[1:-1].split(",") if n.strip()]


def complete(backend: Any, prefix: str) -> list[str]:
    """Sorted names starting with ``prefix``: Woxi's built-ins, then the user's symbols."""
    if not _PREFIX.match(prefix):
        return []
    if prefix.startswith("System`"):
        short = prefix[len("System`"):]
        return sorted("System`" + n for n in backend.names if n.startswith(short))
    names = {n for n in backend.names if n.startswith(prefix)}
    text = backend.call('Names["Global`*"]')
    if text is not None:
        user = _list(text)
        names |= {n for n in user if n.startswith(prefix) and not n.startswith("WSTPJupyter`")}
    return sorted(names)


def inspect(backend: Any, name: str) -> str | None:
    """Usage, attributes and options of a built-in, or the definition of a user symbol."""
    name = name.strip()
    if not _SYMBOL.match(name):
        return None
    if name in backend.system_names:
        return _builtin(backend, name)
    text = backend.call(f"ToString[Definition[{name}], InputForm]")
    if text is None:
        return None
    definition = text.strip()
    if not definition or definition in ("Null", f"Definition[{name}]"):
        return None
    return definition


def _builtin(backend: Any, name: str) -> str:
    def job(woxi: Any) -> list[str]:
        usage = woxi.interpret(f"Quiet[Information[{name}]]")
        attributes = woxi.interpret(f"Attributes[{name}]")
        options = woxi.interpret(f"Options[{name}]")
        return [usage, attributes, options]

    usage, attributes, options = backend.side.call(job)
    lines = []
    found = _USAGE.search(usage)
    if found:
        lines.append(found.group(1))
    link = _DOC.search(usage)
    if attributes not in ("{}", f"Attributes[{name}]"):
        lines.append(f"Attributes[{name}] = {attributes}")
    if options not in ("{}", f"Options[{name}]"):
        lines.append(f"Options[{name}] = {options}")
    if link:
        lines.append(f"Documentation: https://{link.group(1)}")
    return "\n\n".join(lines) or f"{name} (no usage, attributes or options defined)"
