"""The short path for small documents agrees with the general decoder on everything.

``build_small`` must either return exactly what the general decoder returns for a document, or
give up (``NotSmall``) so that the general decoder reads it or reports the precise error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wstp_jupyter import wxf
from wstp_jupyter.wxf import Limits, WXFDecodeError, WXFLimitError, wl
from wstp_jupyter.wxf._decoder import build
from wstp_jupyter.wxf._small import NotSmall, build_small

from .strategies import expressions

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _both(doc: bytes, limits: Limits) -> tuple[Any, Any]:
    general = build(doc, 2, limits, zero_copy=True)
    try:
        small = build_small(doc, 2, limits)
    except NotSmall:
        return general, None
    return general, small


@_SETTINGS
@given(expressions)
def test_small_path_returns_what_the_general_decoder_returns(value: Any) -> None:
    doc = wxf.dumps(value)
    general, small = _both(doc, wxf.Limits())
    if small is not None:
        assert small[1] == general[1]
        assert _same(small[0], general[0]), (small[0], general[0])


@pytest.mark.parametrize(
    "value",
    [
        wl.EvaluatePacket(wl.Plus(1, 1)),
        wl.ReturnPacket(2),
        wl.f(wl.g)(1, "x", 2.5, wl.y),  # compound head
        [1, [2, [3, "deep"]], True],
        wl.Rational(1, 3),
        wl.Complex(1.0, 2.0),
        wl.f(-1, -300, 70_000, -(2**40), 2**62),
        wl.f(wl.x, None, False),
    ],
)
def test_common_packets_take_the_short_path(value: Any) -> None:
    doc = wxf.dumps(value)
    general, small = _both(doc, wxf.Limits())
    assert small is not None, "expected the short path to read this document"
    assert _same(small[0], general[0]) and small[1] == general[1]
    assert _same(wxf.loads(doc), general[0])


@pytest.mark.parametrize(
    "value",
    ["x" * 200, wl.f(*range(200)), {"a": 1}, wl.f(10**30), b"bytes", np.arange(3)],
)
def test_other_shapes_are_left_to_the_general_decoder(value: Any) -> None:
    doc = wxf.dumps(value)
    with pytest.raises(NotSmall):
        build_small(doc, 2, wxf.Limits())
    assert _same(wxf.loads(doc), value) or isinstance(value, dict | np.ndarray)


def test_limits_and_malformed_input_get_the_general_errors() -> None:
    deep = wxf.dumps(wl.f(wl.f(wl.f(1))))
    with pytest.raises(WXFLimitError, match="max_depth 2"):
        wxf.loads(deep, limits=Limits(max_depth=2))
    with pytest.raises(WXFLimitError, match="max_length"):
        wxf.loads(wxf.dumps(wl.f("abcdef")), limits=Limits(max_length=3))
    doc = wxf.dumps(wl.EvaluatePacket(wl.Plus(1, 1)))
    for cut in range(1, len(doc) - 2):
        with pytest.raises(WXFDecodeError):
            wxf.loads(doc[:-cut])
    with pytest.raises(WXFDecodeError, match="UTF-8"):
        wxf.loads(b"8:S\x02\xff\xfe")
    with pytest.raises(WXFDecodeError, match="trailing"):
        wxf.loads(doc + b"C\x01")


@given(st.binary(max_size=64))
@_SETTINGS
def test_random_bytes_never_escape_as_other_errors(tail: bytes) -> None:
    try:
        wxf.loads(b"8:" + tail)
    except WXFDecodeError:
        pass
