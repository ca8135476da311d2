"""Depth: the writer's ``max_depth`` agrees with the reader's limit, and the model handles any
depth the codec does (equality and hashing of ``f[f[...]]`` thousands of levels deep)."""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wxf.strategies import expressions
from wstp_jupyter import wxf
from wstp_jupyter.wxf import (
    Association,
    Expr,
    Limits,
    Symbol,
    WXFDepthError,
    WXFEncodeError,
    WXFLimitError,
    dumps,
    loads,
    wl,
)


def _depth(value: Any) -> int:
    """Nesting depth as the decoder counts it (a compound token below n others is at n)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        x, level = stack.pop()
        if isinstance(x, Expr):
            deepest = max(deepest, level + 1)
            stack += [(x.head, level + 1), *((a, level + 1) for a in x.args)]
        elif isinstance(x, list | tuple):
            deepest = max(deepest, level + 1)
            stack += [(a, level + 1) for a in x]
        elif isinstance(x, dict):
            deepest = max(deepest, level + 1)
            stack += [(p, level + 1) for kv in x.items() for p in kv]
        elif isinstance(x, Association):
            deepest = max(deepest, level + 1)
            stack += [(p, level + 1) for rule in x.rules for p in rule.args]
        elif isinstance(x, Fraction | complex):
            deepest = max(deepest, level + 1)
    return deepest


def _nest(n: int, head: Any = None) -> Any:
    value: Any = Symbol("x")
    for _ in range(n):
        value = Expr(head or Symbol("f"), value)
    return value


class _MyInt(int):
    """An int subclass: the writer converts it first (a plan level that is no nesting)."""


@pytest.mark.parametrize(
    "make",
    [
        _nest,
        lambda n: _nest(n - 1, None)(1) if n > 1 else wl.g(),  # a compound head at the top
        lambda n: [_nest(n - 1)] if n > 1 else [],
        lambda n: {"k": _nest(n - 1)} if n > 1 else {},
        lambda n: (_nest(n - 1),) if n > 1 else (),
        lambda n: wl.f(*([_MyInt(3)] * 3), _nest(n - 1)) if n > 1 else wl.f(_MyInt(3)),
        lambda n: Association([wl.Rule("a", _nest(n - 1))]) if n > 1 else Association([]),
        lambda n: _nest(n - 1, None) if n == 1 else wl.f(_nest(n - 2), Fraction(1, 3)),
    ],
    ids=["calls", "compound-head", "list", "dict", "tuple", "int-subclass", "association",
         "rational"],
)
@pytest.mark.parametrize("limit", [1, 2, 7, 1024])
def test_writer_refuses_exactly_what_the_reader_refuses(make: Any, limit: int) -> None:
    for depth in (limit - 1, limit, limit + 1):
        if depth < 1:
            continue
        value = make(depth)
        doc = dumps(value)
        readable = True
        try:
            loads(doc, limits=Limits(max_depth=limit))
        except WXFLimitError:
            readable = False
        try:
            assert dumps(value, max_depth=limit) == doc
            written = True
        except WXFDepthError as exc:
            assert f"max_depth {limit}" in str(exc)
            written = False
        assert written == readable == (_depth(value) <= limit), (depth, _depth(value))


@settings(max_examples=300, deadline=None)
@given(expressions, st.integers(1, 6))
def test_writer_and_reader_agree_on_depth(value: Any, limit: int) -> None:
    doc = dumps(value)
    try:
        loads(doc, limits=Limits(max_depth=limit))
        readable = True
    except WXFLimitError:
        readable = False
    try:
        dumps(value, max_depth=limit)
        written = True
    except WXFDepthError:
        written = False
    assert written == readable


def test_depth_error_is_an_encode_error() -> None:
    with pytest.raises(WXFEncodeError):
        wxf.dump_chunks(_nest(3), max_depth=2)


def test_documented_limit_round_trips_and_compares_without_recursion_error() -> None:
    # Python's own recursion limit is far below what the codec and the model must handle.
    assert sys.getrecursionlimit() <= 10_000
    for make in (_nest, lambda n: _nest(n - 1)(1)):
        for depth in (1024, 20_000):
            value = make(depth)
            limits = Limits(max_depth=max(depth, 1024))
            back = loads(dumps(value, max_depth=limits.max_depth), limits=limits)
            assert back == value
            assert not back != value  # noqa: SIM202 (__ne__ is its own method)
            assert hash(back) == hash(make(depth))
            assert back != make(depth - 1)
            assert wxf.deep_equal(back, value)


@pytest.mark.parametrize("compress", [False, True])
def test_peek_head_reads_only_the_outermost_head(compress: bool) -> None:
    deep = wl.EvaluatePacket(_nest(5000))
    doc = dumps(deep, compress=compress)
    with pytest.raises(WXFLimitError):
        loads(doc)
    assert wxf.peek_head(doc) == Symbol("EvaluatePacket")
    assert wxf.peek_head(memoryview(dumps(wl.Global.g(1), compress=compress))) == wl.Global.g
    assert wxf.peek_head(dumps([1, 2], compress=compress)) == wl.List
    for other in (5, "s", _nest(2)(1), wl.x):
        assert wxf.peek_head(dumps(other, compress=compress)) is None
    for junk in (b"", b"8", b"8:", b"9:f\x01s\x01f", b"8:f\x01s\x05ab", b"8C:garbage"):
        assert wxf.peek_head(junk) is None
