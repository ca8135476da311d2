"""Round trips through our codec and cross-checks against wolframclient 1.4.0.

wolframclient maps WXF to Python differently; ``_canon_ours`` and ``_canon_theirs`` reduce both
sides to the same neutral tree of tuples so that only real disagreements show up:

* wolframclient returns ``List`` as a list or tuple, ``Association`` as an immutabledict without
  telling Rule from RuleDelayed, ``Rational``/``Complex`` as ``WLFunction``, a BigReal as a
  ``Decimal`` (precision dropped), a NumericArray as a plain ndarray and a PackedArray as its
  ``PackedArray`` ndarray subclass. The neutral form therefore ignores rule kinds and big-real
  precision, and compares arrays by element type, shape and bytes (our own round trip checks
  everything these leave out).
"""

from __future__ import annotations

import collections
import types
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from wolframclient.deserializers import binary_deserialize
from wolframclient.language import wl as wc_wl
from wolframclient.language.expression import WLFunction, WLSymbol
from wolframclient.serializers import export

from wstp_jupyter import wxf
from wstp_jupyter.wxf import Association, BigReal, Expr, NumericArray, Symbol, dumps, loads, wl

from .strategies import expressions

_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sym(name: str) -> tuple[str, str]:
    return ("sym", Symbol(name).name)


def _array(arr: np.ndarray[Any, Any]) -> tuple[Any, ...]:
    le = arr.astype(arr.dtype.newbyteorder("<"))
    return ("array", le.dtype.kind, le.dtype.itemsize, arr.shape, le.tobytes())


def _canon_ours(x: Any) -> Any:
    if isinstance(x, bool) or x is None:
        return _sym(str(x) if x is not None else "Null")
    if isinstance(x, int | float | str | bytes):
        return (type(x).__name__, x)
    if isinstance(x, Symbol):
        return _sym(x.name)
    if isinstance(x, Expr):
        return ("fn", _canon_ours(x.head), tuple(_canon_ours(a) for a in x.args))
    if isinstance(x, list):
        return ("fn", _sym("List"), tuple(_canon_ours(a) for a in x))
    if isinstance(x, dict):
        return ("assoc", tuple((_canon_ours(k), _canon_ours(v)) for k, v in x.items()))
    if isinstance(x, Association):
        return ("assoc", tuple((_canon_ours(k), _canon_ours(v)) for k, v in x.items()))
    if isinstance(x, Fraction):
        return ("fn", _sym("Rational"), (("int", x.numerator), ("int", x.denominator)))
    if isinstance(x, complex):
        return ("fn", _sym("Complex"), (("float", x.real), ("float", x.imag)))
    if isinstance(x, BigReal):
        return ("real", x.to_decimal())
    if isinstance(x, NumericArray):
        return _array(x.array)
    if isinstance(x, np.ndarray):
        return _array(x)
    raise AssertionError(f"unexpected {type(x)}")


def _canon_theirs(x: Any) -> Any:
    if isinstance(x, bool) or x is None:
        return _sym(str(x) if x is not None else "Null")
    if isinstance(x, int | float | str | bytes):
        return (type(x).__name__, x)
    if isinstance(x, WLSymbol):
        return _sym(x.name)
    if isinstance(x, WLFunction):
        return ("fn", _canon_theirs(x.head), tuple(_canon_theirs(a) for a in x.args))
    if isinstance(x, list | tuple):
        return ("fn", _sym("List"), tuple(_canon_theirs(a) for a in x))
    if hasattr(x, "items"):
        return ("assoc", tuple((_canon_theirs(k), _canon_theirs(v)) for k, v in x.items()))
    if isinstance(x, Decimal):
        return ("real", x)
    if isinstance(x, np.ndarray):
        return _array(np.asarray(x))
    raise AssertionError(f"unexpected {type(x)}")


@_SETTINGS
@given(expressions)
def test_round_trip(value: Any) -> None:
    doc = dumps(value)
    back = loads(doc)
    assert wxf.deep_equal(back, value)
    assert dumps(back) == doc
    assert wxf.deep_equal(loads(dumps(value, compress=True)), value)


@_SETTINGS
@given(expressions)
def test_wolframclient_reads_what_we_write(value: Any) -> None:
    theirs = binary_deserialize(dumps(value))
    assert _canon_theirs(theirs) == _canon_ours(value)


def _to_wolframclient(x: Any) -> Any:
    """Build the same value in wolframclient's model (for its encoder)."""
    if isinstance(x, Symbol):
        return wc_wl.__getattr__(x.name) if "`" not in x.name else WLSymbol(x.name)
    if isinstance(x, Expr):
        head = _to_wolframclient(x.head)
        return WLFunction(head, *(_to_wolframclient(a) for a in x.args))
    if isinstance(x, list):
        return [_to_wolframclient(a) for a in x]
    if isinstance(x, dict):
        return {_to_wolframclient(k): _to_wolframclient(v) for k, v in x.items()}
    if isinstance(x, Association):
        # wolframclient cannot write RuleDelayed inside an association: plain rules.
        return {_to_wolframclient(k): _to_wolframclient(v) for k, v in x.items()}
    if isinstance(x, BigReal):
        return x.to_decimal()
    if isinstance(x, NumericArray):
        return x.array
    return x


@_SETTINGS
@given(expressions)
def test_we_read_what_wolframclient_writes(value: Any) -> None:
    theirs = export(_to_wolframclient(value), target_format="wxf")
    ours = loads(theirs)
    # Decimal travels as "digits``prec": compare values, as wolframclient does.
    assert _canon_ours(ours) == _canon_theirs(binary_deserialize(theirs))
    assert dumps(ours) == theirs or _has_array_or_decimal(value)


def _has_array_or_decimal(x: Any) -> bool:
    """Whether wolframclient's writer maps a part of ``x`` to another WXF form first.

    It writes numpy arrays as NumericArray and a Decimal as "digits``28", so re-encoding what we
    read is byte-identical to its output everywhere else.
    """
    stack = [_canon_ours(x)]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            if node and node[0] in ("array", "real"):
                return True
            stack.extend(node)
    return False


def test_fixed_cross_examples() -> None:
    cases: list[Any] = [
        wl.f(wl.x, [1, 2.5, "s"], {"k": wl.Global.y}),
        list(range(-300, 300, 7)),
        [1.5 * i for i in range(40)],
        2**200,
        -(2**200),
        Fraction(-7, 3),
        complex(-1.5, 0.25),
        b"\x00\xff" * 50,
        "unicode \u2603 \U0001f600",
        np.arange(12, dtype=np.int32).reshape(3, 4),
        np.linspace(0, 1, 7, dtype=np.float32),
        np.array([1 + 2j, 3 - 4j], dtype=np.complex64),
    ]
    for value in cases:
        doc = dumps(value)
        assert _canon_theirs(binary_deserialize(doc)) == _canon_ours(value)
        wc_doc = export(_to_wolframclient(value), target_format="wxf")
        assert _canon_ours(loads(wc_doc)) == _canon_theirs(binary_deserialize(wc_doc))


def test_wolframclient_decimal_and_numpy_encodings() -> None:
    d = loads(export(Decimal("1.25"), target_format="wxf"))
    assert d == BigReal("1.25``28")
    arr = loads(export(np.array([1.0, 2.0]), target_format="wxf"))
    assert isinstance(arr, NumericArray) and arr.type == "Real64"
    assert dumps(arr) == export(np.array([1.0, 2.0]), target_format="wxf")


def test_non_finite_floats() -> None:
    assert loads(dumps(float("inf"))) == wl.DirectedInfinity(1)
    assert loads(dumps(float("-inf"))) == wl.DirectedInfinity(-1)
    assert loads(dumps(float("nan"))) == wl.Indeterminate
    assert loads(dumps([1.0] * 20 + [float("inf")]))[-1] == wl.DirectedInfinity(1)
    assert loads(dumps(Decimal("-Infinity"))) == wl.DirectedInfinity(-1)
    assert binary_deserialize(dumps(float("inf"))) == wc_wl.DirectedInfinity(1)


def test_huge_integers_beyond_str_digit_limit() -> None:
    big = 7**20000  # ~17k digits, beyond the default int/str conversion limit
    assert loads(dumps(big)) == big
    assert loads(dumps(-big)) == -big


def test_python_conveniences() -> None:
    assert loads(dumps((1, 2))) == [1, 2]
    assert loads(dumps(np.int16(5))) == 5
    assert loads(dumps(np.float32(0.5))) == 0.5
    assert loads(dumps(np.bool_(True))) is True
    assert loads(dumps(bytearray(b"ab"))) == b"ab"
    assert loads(dumps(memoryview(b"ab"))) == b"ab"
    assert loads(dumps({1: "a", "b": [None]})) == {1: "a", "b": [None]}
    assert loads(dumps(types.MappingProxyType({"a": 1}))) == {"a": 1}
    assert loads(dumps(collections.OrderedDict(a=1))) == {"a": 1}
    assert loads(dumps(Fraction(3, 1))) == Fraction(3)
    # Python-equal keys that WL tells apart keep every rule.
    merged = loads(b"8:A\x02-C\x01S\x01a-r" + np.float64(1.0).tobytes() + b"S\x01b")
    assert isinstance(merged, Association) and len(merged.rules) == 2


def test_unencodable_values() -> None:
    for bad in (object(), {1, 2}, "\udc80", np.array([1], dtype="datetime64[s]")):
        with pytest.raises(wxf.WXFEncodeError):
            dumps(bad)
    with pytest.raises(wxf.WXFEncodeError):
        dumps(NumericArray(np.zeros((0,), np.uint8)))


def test_deep_nesting_encodes_iteratively() -> None:
    e: Any = 0
    for _ in range(5000):
        e = wl.f(e)
    doc = dumps(e)
    assert len(doc) == 2 + 5000 * 5 + 2
    back = loads(doc, limits=wxf.Limits(max_depth=6000))
    assert wxf.deep_equal(back, e)


def test_tables_of_calls_and_numbers() -> None:
    # Rows that repeat the previous call's count and head, rows that change them, rows whose
    # arguments are compound, and number runs of every width, as the decoder's fast paths see.
    rows: list[Any] = []
    for i in range(300):
        rows.append(wl.row(i, f"s{i}", 0.5 * i))
        if i % 7 == 0:
            rows.append(wl.row(i, [i, wl.row(i)], {"k": i}))
        if i % 11 == 0:
            rows.append(wl.other(i))
            rows.append(wl.row(-i, "é" * (i % 200), -(2**40)))
    numbers: list[Any] = []
    for width in (1, 200, 40_000, 2**40):
        numbers.extend(width * (-1) ** k for k in range(100))
    numbers.extend([1.5] * 70 + [7] * 3 + [2.5, -1] * 50 + [2**70, "x", wl.s])
    for value in (rows, numbers, [rows, numbers], wl.Plus(*rows[:50])):
        doc = dumps(value)
        assert wxf.deep_equal(loads(doc), value)
        assert _canon_theirs(binary_deserialize(doc)) == _canon_ours(value)
