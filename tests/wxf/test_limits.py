"""Hostile and broken input: limits, bombs, truncation at every offset, random mutations."""

from __future__ import annotations

import random
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from wstp_jupyter import wxf
from wstp_jupyter.wxf import (
    NEED_DATA,
    Decoder,
    Limits,
    NumericArray,
    WXFDecodeError,
    WXFLimitError,
    dumps,
    loads,
    wl,
)

SAMPLES: list[Any] = [
    wl.f(wl.x, [1, -2, 300, 70000, 2**40, 2**70], {"a": 1.5, "b": b"\x00\x01"}),
    [wl.g(i, f"s{i}", 0.5 * i) for i in range(20)],
    wxf.Association([wl.RuleDelayed(wl.k, wl.f(wl.k)), ("z", wxf.BigReal("1.5`20."))]),
    np.arange(6, dtype=np.int16).reshape(2, 3),
    NumericArray(np.arange(5, dtype=np.uint32)),
    wl.f(wl.g)(wl.h(wl.Global.x), "é\u2603"),
    list(range(40)) + [1.25] * 20,
]


@contextmanager
def allocation_budget(limit: int) -> Iterator[None]:
    """Fail if the block allocates more than ``limit`` bytes at its peak.

    "Fails fast" means no allocation sized from a hostile length field; memory is the
    deterministic measure of that (a wall-clock bound would depend on the machine).
    """
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak allocation {peak} bytes"


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _nest(depth: int) -> bytes:
    return b"8:" + b"f\x01s\x01f" * depth + b"C\x00"


def test_depth_limit_is_exact() -> None:
    assert loads(_nest(10), limits=Limits(max_depth=10)) is not None
    with pytest.raises(WXFLimitError, match="max_depth 10"):
        loads(_nest(11), limits=Limits(max_depth=10))
    d = Decoder(Limits(max_depth=10))
    d.feed(_nest(11)[:-1])  # incomplete: the scanner must see the violation too
    with pytest.raises(WXFLimitError):
        d.next()


def test_nesting_bomb_fails_fast_without_recursion_error() -> None:
    bomb = _nest(100)
    with allocation_budget(1 << 20), pytest.raises(WXFLimitError):
        loads(bomb, limits=Limits(max_depth=16))
    # The default limit is well above Python's recursion limit: no RecursionError.
    deep = _nest(1024)
    assert loads(deep) is not None
    with pytest.raises(WXFLimitError):
        loads(_nest(1025))
    with pytest.raises(WXFLimitError):
        loads(b"8:" + b"A\x01-C\x00" * 2000 + b"C\x00")


@pytest.mark.parametrize(
    "doc",
    [
        b"8:S" + _varint(2**60),
        b"8:s" + _varint(2**60),
        b"8:B" + _varint(2**60),
        b"8:I" + _varint(2**60),
        b"8:R" + _varint(2**60),
        b"8:f" + _varint(2**60) + b"s\x04List",
        b"8:A" + _varint(2**60),
        b"8:\xc1\x03\x01" + _varint(2**60),
        b"8:\xc2\x10\x02" + _varint(2**30) + _varint(2**30),
    ],
)
def test_huge_length_fields_fail_fast(doc: bytes) -> None:
    with allocation_budget(1 << 20):
        with pytest.raises(WXFLimitError):
            loads(doc)
        d = Decoder()
        d.feed(doc)
        with pytest.raises(WXFLimitError):
            d.next()


def test_length_limits() -> None:
    lim = Limits(max_length=10)
    assert loads(dumps("x" * 10), limits=lim) == "x" * 10
    too_long = ("x" * 11, b"x" * 11, list(range(11)), {str(i): i for i in range(11)})
    in_calls = (wl.f("x" * 11), [wl.f(1, "x" * 11)], wl.s(wl["y" * 11]), wl["h" * 11](1))
    for value in (*too_long, *in_calls):
        with pytest.raises(WXFLimitError, match="max_length"):
            loads(dumps(value), limits=lim)
    with pytest.raises(WXFLimitError):
        loads(dumps(np.zeros((4, 3))), limits=lim)


def test_size_limits() -> None:
    doc = dumps(list(range(100)))
    assert loads(doc, limits=Limits(max_size=len(doc))) is not None
    with pytest.raises(WXFLimitError, match="max_size"):
        loads(doc, limits=Limits(max_size=len(doc) - 1))
    d = Decoder(Limits(max_size=50))
    d.feed(doc[:60])
    with pytest.raises(WXFLimitError):
        d.next()
    with pytest.raises(WXFLimitError):
        d.next()  # the decoder stays failed


def test_zip_bomb_is_capped() -> None:
    bomb = b"8C:" + zlib.compress(b"S" + _varint(50_000_000) + b"\x00" * 50_000_000)
    assert len(bomb) < 100_000
    with pytest.raises(WXFLimitError):
        loads(bomb, limits=Limits(max_size=1_000_000))
    d = Decoder(Limits(max_size=1_000_000))
    d.feed(bomb)
    with pytest.raises(WXFLimitError):
        d.next()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"", "header"),
        (b"7:C\x00", "version"),
        (b"8;C\x00", "separator"),
        (b"8C;", "separator"),
        (b"8:", "truncated"),
        (b"8:C\x00C\x00", "trailing"),
        (b"8:z", "unknown token"),
        (b"8:-C\x00C\x00", "outside an association"),
        (b"8:A\x01C\x00C\x00", "expected a rule"),
        (b"8:S\x02\xff\xfe", "UTF-8"),
        (b"8:s\x00", "symbol"),
        (b"8:s\x02\xff\xfe", "symbol"),
        (b"8:I\x031x3", "BigInteger"),
        (b"8:R\x031x3", "BigReal"),
        (b"8:\xc1\x10\x01\x01\x00", "PackedArray"),
        (b"8:\xc2\x99\x01\x01\x00", "element type"),
        (b"8:\xc1\x00\x00", "rank"),
        (b"8C:not zlib", "zlib"),
        (b"8C:" + zlib.compress(b"C\x00C\x00"), "trailing"),
        (b"8C:" + zlib.compress(b"f\x02s\x01f"), "truncated"),
        (b"8C:" + zlib.compress(b"C\x00") + b"x", "trailing"),
        (b"8C:" + zlib.compress(b"C\x00")[:-2], "truncated"),
    ],
)
def test_malformed_documents(doc: bytes, message: str) -> None:
    with pytest.raises(WXFDecodeError, match=message):
        loads(doc)


def test_loads_rejects_non_bytes() -> None:
    with pytest.raises(WXFDecodeError):
        loads("8:C\x00")  # type: ignore[arg-type]


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_truncation_at_every_offset(index: int) -> None:
    doc = dumps(SAMPLES[index])
    expected = loads(doc)
    for cut in range(len(doc)):
        with pytest.raises(WXFDecodeError):
            loads(doc[:cut])
        d = Decoder()
        d.feed(doc[:cut])
        assert d.next() is NEED_DATA
        d.feed(doc[cut:])
        assert wxf.deep_equal(d.next(), expected)
        assert d.next() is NEED_DATA


def test_byte_by_byte_feeding() -> None:
    for value in SAMPLES:
        doc = dumps(value) + dumps(value, compress=True)
        d = Decoder()
        got: list[Any] = []
        for i in range(len(doc)):
            d.feed(doc[i : i + 1])
            got.extend(d)
        assert len(got) == 2
        assert wxf.deep_equal(got[0], value) and wxf.deep_equal(got[1], value)
        assert d.buffered == 0


def test_random_mutations_only_raise_decode_errors() -> None:
    rng = random.Random(20240602)
    docs = [dumps(v) for v in SAMPLES]
    lim = Limits(max_depth=64, max_length=10_000, max_size=1_000_000)
    outcomes = {"ok": 0, "error": 0}
    for case in range(3000):
        doc = bytearray(rng.choice(docs))
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            pos = rng.randrange(len(doc))
            if op < 0.6:
                doc[pos] = rng.randrange(256)
            elif op < 0.8:
                del doc[pos]
            else:
                doc.insert(pos, rng.randrange(256))
        data = bytes(doc)
        try:
            loads(data, limits=lim)
            outcomes["ok"] += 1
        except WXFDecodeError:
            outcomes["error"] += 1
        d = Decoder(lim)
        split = rng.randrange(len(data) + 1)
        try:
            d.feed(data[:split])
            d.next()
            d.feed(data[split:])
            d.next()
        except WXFDecodeError:
            pass
        assert case >= 0
    assert outcomes["ok"] and outcomes["error"]


def test_incremental_decoder_does_not_reparse(monkeypatch: pytest.MonkeyPatch) -> None:
    from wstp_jupyter.wxf import _incremental

    calls = {"build": 0}
    real_build = _incremental.build

    def counting_build(*args: Any, **kwargs: Any) -> Any:
        calls["build"] += 1
        return real_build(*args, **kwargs)

    monkeypatch.setattr(_incremental, "build", counting_build)
    value = [wl.f(i, "s") for i in range(20_000)]
    doc = dumps(value)
    d = Decoder()
    results: list[Any] = []
    for i in range(0, len(doc), 512):
        d.feed(doc[i : i + 512])
        results.extend(d)
    # One attempt on the first chunk, then the scanner resumes; one final build.
    assert calls["build"] == 2
    assert results == [value]


def test_decoder_stream_of_documents() -> None:
    docs = [dumps(v) for v in SAMPLES] * 3
    stream = b"".join(docs)
    d = Decoder()
    d.feed(stream)
    got = list(d)
    assert len(got) == len(docs)
    for value, back in zip(SAMPLES * 3, got, strict=True):
        assert wxf.deep_equal(back, value)


def test_decoder_arrays_survive_later_feeds() -> None:
    arr = np.arange(1000, dtype=np.float64)
    d = Decoder()
    d.feed(dumps(arr))
    first = d.next()
    for _ in range(5):
        d.feed(dumps(arr))
        assert np.array_equal(d.next(), arr)
    assert np.array_equal(first, arr)


def test_zero_copy_arrays_are_views_of_the_input() -> None:
    arr = np.random.default_rng(0).random((100, 10))
    doc = dumps(arr)
    back = loads(doc)
    assert np.array_equal(back, arr)
    assert back.base is not None and not back.flags.writeable
    assert np.shares_memory(back, np.frombuffer(doc, np.uint8))


def test_depth_limit_holds_for_rows_of_calls() -> None:
    rows = [wl.f(i, "s", 0.5) for i in range(10)]
    doc = dumps([rows[:3], [rows]])  # the same calls at depth 3, then at depth 4
    assert loads(doc, limits=Limits(max_depth=4)) is not None
    with pytest.raises(WXFLimitError, match="max_depth"):
        loads(doc, limits=Limits(max_depth=3))
    with pytest.raises(WXFLimitError, match="max_depth"):
        loads(dumps([rows]), limits=Limits(max_depth=2))
    short = Limits(max_length=4)
    with pytest.raises(WXFLimitError, match="max_length"):
        loads(dumps([wl.f(1, "ab"), wl.f(2, "abcde")]), limits=short)
