"""The expression model: symbols, expressions, the wl factory, atoms and their reprs."""

from __future__ import annotations

import pickle
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from wstp_jupyter import WSTPJupyterError, wxf
from wstp_jupyter.wxf import (
    LIST,
    Association,
    BigReal,
    Expr,
    NumericArray,
    Symbol,
    WXFError,
    input_form,
    wl,
)


def test_every_public_name_imports() -> None:
    for name in wxf.__all__:
        assert getattr(wxf, name) is not None or name == "NULL"


def test_symbol_parts_and_identity() -> None:
    x = Symbol("Global`x")
    assert x.name == "Global`x"
    assert x.context == "Global`"
    assert x.short_name == "x"
    assert Symbol("Plus").context == ""
    assert Symbol("A`B`c").context == "A`B`"
    assert Symbol("System`Plus") == Symbol("Plus")
    assert Symbol("System`Plus").name == "Plus"
    assert hash(Symbol("a")) == hash(Symbol("a"))
    assert Symbol("a") != Symbol("b")
    assert Symbol("a") != "a"
    assert {Symbol("a"): 1}[Symbol("a")] == 1


@pytest.mark.parametrize("bad", ["", 3, None])
def test_symbol_rejects_bad_names(bad: object) -> None:
    with pytest.raises(WXFError):
        Symbol(bad)  # type: ignore[arg-type]


def test_wl_factory() -> None:
    assert wl.Plus == Symbol("Plus")
    assert wl.Global.x == Symbol("Global`x")
    assert wl.System.Plus == Symbol("Plus")
    assert wl["$Failed"] == wxf.FAILED
    assert wl.Plus(1, wl.x) == Expr(Symbol("Plus"), 1, Symbol("x"))
    with pytest.raises(AttributeError):
        wl._private  # noqa: B018
    with pytest.raises(AttributeError):
        Symbol("x").__array_interface__  # noqa: B018


def test_expr_surface() -> None:
    e = wl.f(wl.x, 1, "s")
    assert e.head == wl.f
    assert e.head_name == "f"
    assert e.args == (wl.x, 1, "s")
    assert len(e) == 3
    assert e[1] == 1
    assert e[1:] == (1, "s")
    assert list(e) == [wl.x, 1, "s"]
    assert e.has_head("f") and e.has_head(wl.f) and not e.has_head("g")
    compound = wl.f(wl.x)(wl.y)
    assert compound.head == wl.f(wl.x)
    assert compound.head_name is None
    assert hash(wl.f(1, 2)) == hash(wl.f(1, 2))
    assert wl.f(1) != wl.g(1)
    assert wl.f(1) != wl.f(1, 2)
    with pytest.raises(TypeError):
        hash(wl.f([1, 2]))
    with pytest.raises(AttributeError):
        e.head = wl.g  # type: ignore[misc]


def test_expr_equality_with_arrays() -> None:
    a = wl.f(np.array([1, 2]))
    assert a == wl.f(np.array([1, 2]))
    assert a != wl.f(np.array([1, 3]))
    assert a != wl.f(np.array([1, 2, 3]))
    assert a != wl.f(np.array([1.0, 2.0]))  # dtype matters


def test_pickle_round_trip() -> None:
    for value in (wl.Global.x, wl.f(wl.x, 1)(2), BigReal("1.5`20."), Association([(1, 2)])):
        assert pickle.loads(pickle.dumps(value)) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (wl.f(wl.x, 1), "f[x, 1]"),
        ([1, 2], "{1, 2}"),
        (Expr(LIST, 1, 2), "{1, 2}"),
        ('a"b', '"a\\"b"'),
        ("a\\b\n", '"a\\\\b\\n"'),
        ({"a": 1}, '<|"a" -> 1|>'),
        (Association([wl.RuleDelayed("a", wl.x), ("b", 2)]), '<|"a" :> x, "b" -> 2|>'),
        (wl.Global.x, "Global`x"),
        (wl.f(wl.x)(wl.y), "f[x][y]"),
        (Fraction(1, 3), "Rational[1, 3]"),
        (complex(1, 2), "Complex[1., 2.]"),
        (1.0, "1."),
        (1.5e-7, "1.5*^-7"),
        (1e300, "1.*^300"),
        (float("inf"), "DirectedInfinity[1]"),
        (float("nan"), "Indeterminate"),
        (None, "Null"),
        (True, "True"),
        (b"\x01\x02", 'ByteArray["AQI="]'),
        (BigReal("1.5`20."), "1.5`20."),
        (Decimal("1.25"), "1.25`3."),
        (NumericArray(np.array([1, 2], np.uint8)), 'NumericArray[{1, 2}, "UnsignedInteger8"]'),
        (np.array([[1, 2], [3, 4]]), "{{1, 2}, {3, 4}}"),
    ],
)
def test_input_form(value: object, text: str) -> None:
    assert input_form(value) == text


def test_repr_of_deep_expression_does_not_recurse() -> None:
    e: object = wl.x
    for _ in range(5000):
        e = wl.f(e)
    text = repr(e)
    assert text.startswith("f[f[") and text.endswith("x" + "]" * 5000)


@pytest.mark.parametrize(
    ("text", "value", "precision", "accuracy"),
    [
        ("3.14159265358979323846`20.", "3.14159265358979323846", 20.0, None),
        ("1.5``10.", "1.5", None, 10.0),
        ("-2.5`30*^-7", "-2.5E-7", 30.0, None),
        ("1.`", "1", None, None),
        ("0``20.", "0", None, 20.0),
        ("12`5.5*^3", "12E3", 5.5, None),
    ],
)
def test_bigreal_parses_wl_number_text(
    text: str, value: str, precision: float | None, accuracy: float | None
) -> None:
    b = BigReal(text)
    assert b.text == text
    assert b.to_decimal() == Decimal(value)
    assert b.precision == precision
    assert b.accuracy == accuracy
    assert float(b) == float(Decimal(value))


def test_bigreal_from_numbers() -> None:
    assert BigReal(Decimal("1.25")).text == "1.25`3."
    assert BigReal("1.25", 30).text == "1.25`30."
    assert BigReal(Decimal("-1.5E+100")).text == "-1.5`2.*^100"
    assert BigReal("1.25", 30) == BigReal("1.25`30.")
    assert BigReal(2, accuracy=10).to_decimal() == 2
    with pytest.raises(WXFError):
        BigReal("1.5", 10, accuracy=3)
    for bad in ("abc", "1.5`x", "", "1e5", "--1"):
        with pytest.raises(WXFError):
            BigReal(bad)


def test_association_behaves_as_mapping() -> None:
    a = Association([wl.Rule("a", 1), wl.RuleDelayed("b", wl.x), ("a", 3)])
    assert len(a) == 2
    assert a["a"] == 3
    assert a.keys() == ["a", "b"]
    assert a.is_delayed("b") and not a.is_delayed("a")
    assert "b" in a and "c" not in a
    with pytest.raises(KeyError):
        a["c"]
    with pytest.raises(WXFError):
        Association([wl.f(1, 2)])
    assert Association({"a": 1}).rules == (wl.Rule("a", 1),)


def test_numeric_array_wrapper() -> None:
    na = NumericArray([1, 2, 3], "UnsignedInteger16")
    assert na.type == "UnsignedInteger16"
    assert na.shape == (3,)
    assert np.asarray(na).dtype == np.uint16
    with pytest.raises(TypeError):
        hash(na)
    with pytest.raises(WXFError):
        NumericArray(np.array(["a"]))
    with pytest.raises(WXFError):
        NumericArray(5)
    with pytest.raises(WXFError):
        NumericArray([1], "Bogus")


def test_errors_have_one_root() -> None:
    for cls in (wxf.WXFDecodeError, wxf.WXFEncodeError, wxf.WXFLimitError):
        assert issubclass(cls, WXFError)
        assert issubclass(cls, WSTPJupyterError)
    assert issubclass(wxf.WXFDecodeError, ValueError)
    assert issubclass(wxf.WXFLimitError, wxf.WXFDecodeError)


def test_string_form_escapes_control_and_optionally_non_ascii() -> None:
    from wstp_jupyter.wxf._inputform import string_form

    text = "a\tb\r\x01\x7f\u03b1\U0001f600"
    assert string_form(text) == '"a\\tb\\r\\:0001\\:007f\u03b1\U0001f600"'
    assert string_form(text, ascii_only=True) == '"a\\tb\\r\\:0001\\:007f\\:03b1\\|01f600"'
