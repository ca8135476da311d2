"""The local scanner: symbol at the cursor and cell completeness."""

from __future__ import annotations

import pytest

from wstp_jupyter.kernel._syntax import is_complete, symbol_at, symbol_before


@pytest.mark.parametrize(
    ("code", "pos", "expected"),
    [
        ("Pl", 2, ("Pl", 0)),
        ("x = Integ", 9, ("Integ", 4)),
        ("f[System`Pl", 11, ("System`Pl", 2)),
        ("a+$Li", 5, ("$Li", 2)),
        ("12ab", 4, ("ab", 2)),
        ("1 + ", 4, ("", 4)),
        ("Plot[Sin", 4, ("Plot", 0)),
    ],
)
def test_symbol_before(code: str, pos: int, expected: tuple[str, int]) -> None:
    assert symbol_before(code, pos) == expected


def test_symbol_at() -> None:
    assert symbol_at("Plot[Sin[x]]", 7) == "Sin"
    assert symbol_at("Plot[Sin[x]]", 0) == "Plot"
    assert symbol_at("Plot[Sin[x]]", 4) == "Plot"
    assert symbol_at("1 + 2", 2) == ""


@pytest.mark.parametrize(
    ("code", "status", "indent"),
    [
        ("1 + 1", "complete", ""),
        ("f[x_] := x^2", "complete", ""),
        ("Plot[Sin[x],", "incomplete", "  "),
        ("{1, {2,", "incomplete", "    "),
        ("1 +", "incomplete", "  "),
        ('"open string', "incomplete", ""),
        ("(* a (* nested *) comment", "incomplete", ""),
        ("x = 1; (* done *)", "complete", ""),
        ("i++", "complete", ""),
        ("<|a -> 1|>", "complete", ""),
        ('StringLength["]"]', "complete", ""),
        ("f[x}", "invalid", ""),
        ("]", "invalid", ""),
        ("", "complete", ""),
    ],
)
def test_is_complete(code: str, status: str, indent: str) -> None:
    assert is_complete(code) == (status, indent)
