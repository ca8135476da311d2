"""Completion of named characters: ``\\[Alp`` -> ``\\[Alpha]``, as Wolfram's front end offers.

The names come from the table Mathics3's scanner ships (``mathics_scanner.NAMED_CHARACTERS``,
about a thousand: Wolfram's named characters that Mathics3 reads). A ``Complete`` request whose
prefix starts with ``\\[`` asks for them; each engine answers with the ones its parser reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What a named-character prefix starts with: ``\[``.
PREFIX = "\\["
_NAME = re.compile(r"^[A-Za-z0-9]*$")


def all_names() -> list[str]:
    """Every named character Mathics3 knows, by name (``Alpha``), sorted."""
    from mathics_scanner import NAMED_CHARACTERS

    return sorted(NAMED_CHARACTERS)


def is_named_prefix(prefix: str) -> bool:
    """True for ``\\[`` followed by letters and digits only (a name being typed)."""
    return prefix.startswith(PREFIX) and bool(_NAME.match(prefix[len(PREFIX):]))


def complete_named(prefix: str, names: Iterable[str] | None = None) -> list[str]:
    """The named characters ``\\[Name]`` whose name starts with what follows ``\\[``.

    Args:
        prefix: ``\\[`` and the start of a name (``\\[Alp``).
        names: the names to choose from (default :func:`all_names`).

    Returns:
        Sorted completions, each a whole ``\\[Name]``; empty when ``prefix`` is not a
        named-character prefix.
    """
    if not is_named_prefix(prefix):
        return []
    start = prefix[len(PREFIX):]
    pool = all_names() if names is None else names
    return sorted(f"{PREFIX}{name}]" for name in pool if name.startswith(start))


__all__ = ["PREFIX", "all_names", "complete_named", "is_named_prefix"]
