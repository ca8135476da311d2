"""In-process tests: ASCII forms, helpers, conversions, command-line parsing."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest

from wstp_jupyter.engine import UsageError
from wstp_jupyter.engine._cli import parse_args
from wstp_jupyter.wxf import BigReal, Expr, Symbol, wl


@pytest.fixture(scope="module")
def backend() -> Iterator[Any]:
    from wstp_jupyter.engine._mathics import MathicsBackend

    b = MathicsBackend()
    b.start()
    yield b


@pytest.mark.parametrize(
    ("source", "input_form", "output_form"),
    [
        ("{a -> 1, b :> 2}", "{a -> 1, b :> 2}", "{a -> 1, b :> 2}"),
        ("Hold[x >= y, x != y, x == y]", "Hold[x >= y, x != y, x == y]", None),
        ("x^2/(1 + y) + Sqrt[z] + 1/2", "1/2 + x^2/(1 + y) + Sqrt[z]", None),
        ("a - 2 b", "a - 2*b", "a - 2 b"),
        ("x y z/(u v)", "x*y*z/(u*v)", "x y z/(u v)"),
        ("(a + b)^2", "(a + b)^2", None),
        ('"q\\"s"', '"q\\"s"', 'q"s'),
        ("1.5*^20", "1.5*^20", "1.5\u00d710^20"),
        ("3.0", "3.", None),
        ("N[Pi, 20]", "3.1415926535897932385`20.", "3.1415926535897932385"),
        ("1 + 2 I", "1 + 2*I", "1 + 2 I"),
        ("Hold[f[#] &]", "Hold[f[#1] &]", None),
        ("Hold[x_Integer /; x > 0]", "Hold[x_Integer /; x > 0]", None),
        ("f'[x]", "f'[x]", None),
        ("Graphics[{Disk[]}]", "Graphics[{Disk[{0, 0}]}]", "-Graphics-"),
        ('"\\[Alpha]"', '"\\:03b1"', "\u03b1"),
        ('"a\\tb" <> FromCharacterCode[{13, 1}]', '"a\\tb\\r\\:0001"', "a\tb\r\x01"),
    ],
)
def test_ascii_forms(backend: Any, source: str, input_form: str, output_form: str | None) -> None:
    value = backend.session.evaluate(source)
    assert backend.input_text(value) == input_form
    assert backend.output_text(value) == (output_form or input_form)
    # InputForm text reads back to the same expression.
    assert backend.session.evaluate(input_form) == value


@pytest.mark.parametrize(
    "value",
    [
        0,
        -(2**80),
        1.5,
        "text",
        True,
        None,
        [1, [2, "x"]],
        Fraction(-3, 4),
        complex(1.5, -2.0),
        b"\x00\x01",
        {"a": 1, "b": [2]},
        wl.Global.f(wl.Global.x, wl.Plus(1, wl.Global.y)),
    ],
)
def test_wire_round_trip(backend: Any, value: Any) -> None:
    from wstp_jupyter.engine._convert import from_wire, to_wire

    assert to_wire(from_wire(value, backend.definitions)) == value


def test_wire_big_real_keeps_digits(backend: Any) -> None:
    from wstp_jupyter.engine._convert import to_wire

    wire = to_wire(backend.session.evaluate("N[Pi, 30]"))
    assert isinstance(wire, BigReal)
    assert wire.precision == 30.0
    assert str(wire.to_decimal()).startswith("3.14159265358979323846264338")


def test_bare_symbols_resolve_through_context_path(backend: Any) -> None:
    from wstp_jupyter.engine._convert import from_wire

    element = from_wire(Expr(Symbol("Plus"), Symbol("x"), 1), backend.definitions)
    assert str(element) == "System`Plus[Global`x, 1]"


def test_complete(backend: Any) -> None:
    backend.session.evaluate("myVariable = 1")
    assert "Plot" in backend.complete("Plo")
    assert backend.complete("myVar") == ["myVariable"]
    assert backend.complete("Glob") == ["Global`"]
    assert "System`Plus" in backend.complete("System`Plu")
    assert backend.complete("no such") == []


def test_complete_named_characters(backend: Any) -> None:
    # As Wolfram's front end: after \[ the named characters, each a whole \[Name].
    assert backend.complete("\\[Alp") == ["\\[Alpha]"]
    assert "\\[Alpha]" in backend.complete("\\[Alpha")
    every = backend.complete("\\[")
    assert len(every) > 900 and "\\[Infinity]" in every
    assert all(n.startswith("\\[") and n.endswith("]") for n in every)
    for name in every[:50]:  # each one reads back as one character
        text = backend.output_text(backend.session.evaluate(f'StringLength["{name}"]'))
        assert text == "1", name


def test_inspect(backend: Any) -> None:
    backend.session.evaluate('g::usage = "g[x] doubles."; g[x_] := 2 x; Options[g] = {k -> 1}')
    text = backend.inspect("g")
    assert text is not None
    assert "g[x] doubles." in text and "Options[g] = {k -> 1}" in text
    plot = backend.inspect("Plot")
    assert plot is not None and "Attributes[Plot] = {HoldAll, Protected" in plot
    assert backend.inspect("noSuchSymbolAnywhere") is None
    assert backend.inspect("1+") is None


def test_inspect_shows_definitions_with_their_operator(backend: Any) -> None:
    # Information/?f as Wolfram's: the usage (else the full name), then the definitions,
    # each with the operator that made it (Mathics3 itself keeps no trace of := vs =).
    backend.session.evaluate(
        "defF[x_] := x + 1; defF[0] = 5; defVar = 3; defLazy := RandomReal[]; "
        "defUp /: defQ[defUp] := 2; defUp /: defR[defUp] = 3; Format[defW[x_]] := Row[{x}]; "
        "SetAttributes[defT, Listable]; defT[x_] := x; Options[defT] = {o -> 1}; "
        'defU::usage = "defU[x] is used."; defU[x_] := {x}'
    )
    assert backend.inspect("defF") == "Global`defF\n\ndefF[0] = 5\n\ndefF[x_] := x + 1"
    assert backend.inspect("defVar") == "Global`defVar\n\ndefVar = 3"
    assert backend.inspect("defLazy") == "Global`defLazy\n\ndefLazy := RandomReal[]"
    assert backend.inspect("defUp") == "Global`defUp\n\ndefR[defUp] ^= 3\n\ndefQ[defUp] ^:= 2"
    assert backend.inspect("defW") == "Global`defW\n\nFormat[defW[x_]] := Row[{x}]"
    assert backend.inspect("defT") == (
        "Global`defT\n\nAttributes[defT] = {Listable}\n\ndefT[x_] := x\n\nOptions[defT] = {o -> 1}"
    )
    assert backend.inspect("defU") == "defU[x] is used.\n\ndefU[x_] := {x}"
    # Definition and Information in a cell say the same.
    for code in ("Definition[defF]", "Information[defF]", "Definition[defUp]"):
        text = backend.output_text(backend.session.evaluate(code))
        assert ":= " in text and "defF[x_] = " not in text and "defQ[defUp] ^= " not in text


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("f[x]", "complete"),
        ("a = 1\nb = 2", "complete"),
        ("f[x", "incomplete"),
        ("1 +", "incomplete"),
        ('"abc', "incomplete"),
        ("1 +* 2", "invalid"),
        ("a b )", "invalid"),
    ],
)
def test_is_complete(backend: Any, code: str, state: str) -> None:
    assert backend.is_complete(code) == state


def test_parse_args_case_insensitive_and_errors() -> None:
    opts = parse_args(["-WSTP", "-LinkMode", "Listen", "-LinkProtocol", "tcpip"])
    assert (opts.wstp, opts.mode, opts.protocol, opts.name) == (True, "listen", "TCPIP", None)
    opts = parse_args(["-wstp", "-linkconnect", "-linkname", "1@127.0.0.1", "-linkkey-env", "K"])
    assert (opts.mode, opts.name, opts.key_env) == ("connect", "1@127.0.0.1", "K")
    assert parse_args(["-linkcreate", "-linkprotocol", "Local"]).protocol == "Local"
    for bad in (
        ["-linkmode", "launch"],
        ["-linkmode", "connect"],
        ["-linkname"],
        ["-linkcreate", "-linkprotocol", "Pipes"],
        ["-linkcreate", "-backend", "x"],
    ):
        with pytest.raises(UsageError):
            parse_args(bad)
