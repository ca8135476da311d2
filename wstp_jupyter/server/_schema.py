"""The configuration file's JSON Schema, and its errors turned into file, line and key.

:data:`SCHEMA` states every key WSTPServer's file may hold, with its type and range; the checks a
schema cannot state (a file that must exist, ``MinimumKernelNumber`` against
``MaximumKernelNumber``, one default pool) stay in :mod:`._config`. :func:`validate` runs
``jsonschema`` on the plain document and raises :class:`ConfigError` for the first problem in
the file's order, located through the :class:`~._jsonc.Node` tree (which keeps line numbers).

Messages come from the schema itself: each type constraint carries ``x-expected`` (what a reader
should write there), each object ``x-unknown`` (how to name a key it does not know) -- so the
wording lives next to the rule. Integers are Python ``int`` only: ``true`` is not a number and
``2.0`` is not a whole number, whatever JSON Schema's own ``integer`` allows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wstp_jupyter.server._errors import ConfigError
from wstp_jupyter.server._jsonc import Node

if TYPE_CHECKING:
    from jsonschema import ValidationError

ENGINES = ("mathics3", "woxi")

_BOOL = {"type": "boolean", "x-expected": "true or false"}
_TEXT = {"type": "string", "x-expected": "a string"}

POOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-expected": "an object of pool settings",
    "x-unknown": "unknown pool key",
    "additionalProperties": False,
    "properties": {
        "Default": _BOOL,
        "KeepAlive": _BOOL,
        "ParallelKernels": _BOOL,
        "ParallelKernelDefault": _BOOL,
        "ReservePreviouslyConnectedKernels": _BOOL,
        "MinimumKernelNumber": {"type": "integer", "minimum": 0, "x-expected": "a whole number"},
        "MaximumKernelNumber": {"type": "integer", "minimum": 1, "x-expected": "a whole number"},
        "KernelPath": {**_TEXT, "pattern": r"\S", "x-pattern": "must not be empty"},
        "KernelOptions": {
            "type": ["string", "array"],
            "items": _TEXT,
            "x-expected": "a string or a list of strings",
        },
        "InitializationCode": _TEXT,
        "InitializationFile": _TEXT,
        "Engine": {"enum": list(ENGINES), "x-expected": "a string"},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "wstpserver configuration",
    "type": "object",
    "x-expected": "a JSON object at the top level",
    "x-unknown": "unknown key",
    "additionalProperties": False,
    "properties": {
        "AllowStealingKernels": _BOOL,
        "AllowSilentKernelReplacement": _BOOL,
        "EnableAutomaticKernelConnection": _BOOL,
        "SendInputNamePacketUponKernelConnection": _BOOL,
        "Pools": {
            "type": "object",
            "x-expected": "an object mapping pool names to pool settings",
            "minProperties": 1,
            "x-minProperties": "at least one pool is required",
            "propertyNames": {"pattern": r"\S", "x-pattern": "a pool name must not be empty"},
            "additionalProperties": POOL_SCHEMA,
        },
    },
}


def _is_int(_checker: object, value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@functools.cache
def _validator() -> Any:
    """The schema's validator, built on first use: importing ``jsonschema`` costs seconds (its
    format checkers compile grammars), which every process that merely imports the server package
    -- the Jupyter kernel among them -- would otherwise pay at start-up."""
    from jsonschema import Draft202012Validator, validators

    extended = validators.extend(
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int),
    )
    return extended(SCHEMA)


def _walk(root: Node, path: Iterable[object]) -> tuple[Node, Node | None, str]:
    """The node at ``path``, its parent object and the dotted key."""
    node, parent, keys = root, None, []
    for part in path:
        parent = node
        if isinstance(node.value, dict):
            node = node.value[str(part)]
            keys.append(str(part))
        else:
            assert isinstance(node.value, list) and isinstance(part, int)
            node = node.value[part]
    return node, parent, ".".join(keys)


def _describe(value: object) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"


def _located(error: ValidationError, root: Node, path: Path | None) -> ConfigError:
    node, parent, key = _walk(root, error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    line = node.line  # a value's problem is reported where the value starts
    kind = error.validator
    if kind == "type":
        message = f"expected {schema.get('x-expected', error.validator_value)}, got " + (
            _describe(node.plain()))
    elif kind == "minimum":
        message = f"must be at least {error.validator_value}, got {node.value}"
    elif kind == "enum":
        message = (f"must be one of {', '.join(map(repr, error.validator_value))}, got "
                   f"{_describe(node.plain())}")
    elif kind == "pattern":
        message = schema.get("x-pattern", error.message)
        if isinstance(node.value, dict):  # from propertyNames: the instance is a key
            line = node.key_lines.get(str(error.instance), line)
    elif kind == "additionalProperties":
        assert isinstance(node.value, dict)
        known = set(schema.get("properties", {}))
        unknown = next(k for k in node.value if k not in known)
        line = node.key_lines[unknown]
        key = f"{key}.{unknown}" if key else unknown
        label = schema.get("x-unknown", "unknown key")
        message = f"{label} (known keys: {', '.join(sorted(known))})"
    elif kind == "minProperties":
        message = schema.get("x-minProperties", error.message)
        if parent is not None and isinstance(parent.value, dict):  # where its key is written
            line = parent.key_lines.get(str(error.absolute_path[-1]), line)
    else:  # pragma: no cover - every constraint of SCHEMA is handled above
        message = error.message
    return ConfigError(message, path=path, line=line, key=key or None)


def _position(error: ValidationError, root: Node) -> tuple[int, int]:
    node, _, _ = _walk(root, error.absolute_path)
    return node.line, len(error.absolute_path)


def validate(root: Node, path: Path | None = None) -> None:
    """Check a parsed configuration document against :data:`SCHEMA`.

    Raises:
        ConfigError: the first violation in the file's order, with its line and dotted key.
    """
    errors = list(_validator().iter_errors(root.plain()))
    if errors:
        first = min(errors, key=lambda e: _position(e, root))
        raise _located(first, root, path)


__all__ = ["ENGINES", "POOL_SCHEMA", "SCHEMA", "validate"]
