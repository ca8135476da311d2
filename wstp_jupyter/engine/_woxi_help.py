"""Completion and inspection for the Woxi engine.

Completion lists the ``System``` names Woxi itself reports (``Names["System`*"]``, read once
at start: every function it implements plus the option and constant names it knows) and, when
the worker is idle, the user's own symbols (``Names["Global`*"]``). Inspection reads Woxi's
``Information``: usage, attributes and options of a built-in; the usage and ``Definition`` of a
user symbol, read from the worker when it is idle.
"""

from __future__ import annotations

import re
from typing import Any

from wstp_jupyter.engine._named_characters import PREFIX, all_names, complete_named

_SYMBOL = re.compile(r"^[$A-Za-z][$A-Za-z0-9]*(`[$A-Za-z][$A-Za-z0-9]*)*`?$")
_USAGE = re.compile(r"Usage -> (.*?), (?:Attributes|Documentation|ObjectType) -> ")
_DOC = re.compile(r"Documentation -> ([^,|]+)\|>")
_PREFIX = re.compile(r"^[$A-Za-z0-9`]*$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SEPARATOR = "\x1f"
_named: list[str] | None = None
BUSY_TEXT = (
    "{name}: Woxi is evaluating; the definitions of your symbols can be shown when the "
    "evaluation ends."
)


def _list(text: str) -> list[str]:
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return []
    return [n.strip() for n in body[1:-1].split(",") if n.strip()]


def complete(backend: Any, prefix: str) -> list[str]:
    """Sorted names starting with ``prefix``: Woxi's built-ins, then the user's symbols; for a
    prefix starting with ``\\[``, the named characters Woxi reads (``\\[Alpha]``)."""
    if prefix.startswith(PREFIX):
        return complete_named(prefix, _woxi_named_characters(backend))
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


def _woxi_named_characters(backend: Any) -> list[str]:
    """The named characters Woxi reads as one character (about a third of Mathics3's table:
    it keeps ``\\[Name]`` as text for the others), asked once of the side session."""
    global _named  # one Woxi per process: its answer never changes
    if _named is None:
        names = all_names()
        strings = ", ".join(f'"{PREFIX}{name}]"' for name in names)
        text = backend.side.call(lambda woxi: woxi.interpret(f"StringLength /@ {{{strings}}}"))
        lengths = _list(text)
        _named = [n for n, k in zip(names, lengths, strict=False) if k == "1"]
    return _named


def inspect(backend: Any, name: str) -> str | None:
    """What ``?name`` shows: a built-in's usage, attributes and options; a user symbol's usage
    (its full name when it has none) and definitions (``f[x_] := x + 1``), as Wolfram's
    ``Information``. ``None`` for a symbol with neither.

    The user's definitions live in the worker process, which answers only when idle; while it
    evaluates, the text says so (a helper never waits for an evaluation).
    """
    name = name.strip()
    if not _SYMBOL.match(name) or name.endswith("`"):
        return None  # not a symbol (a context is not one either)
    if name in backend.system_names:
        return _builtin(backend, name)
    text = backend.call(_user_symbol_code(name))
    if text is None:
        return BUSY_TEXT.format(name=name)
    usage, _, definition = text.partition(_SEPARATOR)
    # Woxi separates the lines of a definition with a line holding one space.
    definition = _BLANK_LINE.sub("\n\n", definition.strip())
    if not usage and not definition:
        return None
    return f"{usage or _full_name(name)}\n\n{definition}".rstrip()


def _user_symbol_code(name: str) -> str:
    # One request: the usage message (or nothing), a separator, the definition's InputForm.
    return (
        f"StringJoin[With[{{u = MessageName[{name}, \"usage\"]}}, If[StringQ[u], u, \"\"]], "
        f"FromCharacterCode[{ord(_SEPARATOR)}], ToString[Definition[{name}], InputForm]]"
    )


def _full_name(name: str) -> str:
    return name if "`" in name else "Global`" + name


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
