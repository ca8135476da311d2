"""Pure units of the Woxi engine: cutting cells, ``%``, OutputForm/InputForm text, output reader."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from wstp_jupyter.engine._woxi_forms import machine_real, to_text
from wstp_jupyter.engine._woxi_output import OutputReader
from wstp_jupyter.engine._woxi_syntax import (
    ends_with_operator,
    open_construct,
    rewrite_percent,
    split_cell,
)
from wstp_jupyter.wxf import BigReal, Expr, Symbol


def S(name: str) -> Symbol:
    return Symbol(name)


def E(head: str, *args: Any) -> Expr:
    return Expr(Symbol(head), *args)


@pytest.mark.parametrize(("cell", "chunks"), [
    ("1+1", ["1+1"]),
    ("a = 1\nb = 2", ["a = 1\n", "b = 2"]),
    ("a = 1 +\n 2\nc", ["a = 1 +\n 2\n", "c"]),
    ("f[x_] :=\n  x^2\n\nf[3]", ["f[x_] :=\n  x^2\n", "f[3]"]),
    ('"a\nb"\n3', ['"a\nb"\n', "3"]),
    ("{1,\n2}\n3", ["{1,\n2}\n", "3"]),
    ("(* only a comment *)\n1\n(* and\n another *)", ["1\n"]),
    ("x++\ny", ["x++\n", "y"]),
    ("f = #^2 &\ng", ["f = #^2 &\n", "g"]),
])
def test_split_cell(cell: str, chunks: list[str]) -> None:
    assert [c for _, c in split_cell(cell)] == chunks


def test_percent_rewrite_leaves_strings_and_comments() -> None:
    assert rewrite_percent("% + %% + %3") == "Out[-1] + Out[-2] + Out[3]"
    assert rewrite_percent('"50%" (* 10% *) %') == '"50%" (* 10% *) Out[-1]'


def test_incomplete_input() -> None:
    assert open_construct("f[") and open_construct('"abc') and open_construct("(* x")
    assert not open_construct('"a\\\\"') and not open_construct("f[x]")
    assert ends_with_operator("a +") and ends_with_operator("x := (* c *)")
    assert not ends_with_operator("x;") and not ends_with_operator("1.")


@pytest.mark.parametrize(("value", "output", "inputform"), [
    (3.141592653589793, "3.14159", "3.141592653589793"),
    (1.0e20, "1.*^20", "1.*^20"),
    (0.000012345, "0.000012345", "1.2345*^-5"),
    (Fraction(1, 3), "1/3", "1/3"),
    ("s", "s", '"s"'),
    ([1, 2.5, S("Global`x")], "{1, 2.5, x}", "{1, 2.5, x}"),
    (E("Plus", E("Times", 3, S("Global`x")), E("Power", S("Global`x"), 2)),
     "3 x + x^2", "3*x + x^2"),
    (E("Plus", S("Global`a"), E("Times", -1, S("Global`b"))), "a - b", "a - b"),
    (E("Rule", S("Global`a"), S("Global`b")), "a -> b", "a -> b"),
    (E("SetDelayed", E("Global`f", E("Pattern", S("Global`x"), E("Blank"))),
       E("Power", S("Global`x"), 2)), "f[x_] := x^2", "f[x_] := x^2"),
    (E("Times", S("Global`x"), E("Power", S("Global`y"), -1)), "x/y", "x/y"),
    (complex(1.5, -2.0), "1.5 - 2. I", "1.5 - 2. I"),
    (BigReal("3.1415926535897932384626433832795028841971693993751058209749`30."),
     "3.14159265358979323846264338328",
     "3.1415926535897932384626433832795028841971693993751058209749`30."),
    ({S("Global`a"): 1}, "<|a -> 1|>", "<|a -> 1|>"),
])
def test_forms(value: Any, output: str, inputform: str) -> None:
    assert to_text(value, output=True) == output
    assert to_text(value, output=False) == inputform


def test_series_prints_as_a_series() -> None:
    x = S("Global`x")
    series = E("SeriesData", x, 0, [1, 1, Fraction(1, 2), Fraction(1, 6)], 0, 4, 1)
    assert to_text(series, output=True) == "1 + x + x^2/2 + x^3/6 + O[x]^4"
    assert to_text(series, output=False).startswith("SeriesData[x, 0, {1, 1, 1/2, 1/6}")


def test_machine_real_six_digits() -> None:
    assert machine_real(1.6448840680982055, output=True) == "1.64488"
    assert machine_real(-0.5, output=True) == "-0.5"
    assert machine_real(123456789.0, output=True) == "1.23457*^8"


class _Host:
    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    def print_text(self, text: str) -> None:
        self.seen.append(("print", text))

    def message(self, symbol: str, tag: str, text: str) -> None:
        self.seen.append(("message", symbol, tag))


def test_output_reader_tells_messages_from_print() -> None:
    host = _Host()
    markers: list[str] = []
    reader = OutputReader(host, "MARK", markers.append)  # type: ignore[arg-type]
    reader.feed([b"1\n", b"\n", b"   1\nPower::infy: Infinite expression - encountered.\n   0",
                 b"\n", b"\n", b"x::y: not a message\n", b"MARKSname? \n"])
    reader.flush(final=True)
    assert host.seen == [
        ("print", "1"), ("message", "Power", "infy"), ("print", "\nx::y: not a message"),
    ]
    assert markers == ["Sname? "]
